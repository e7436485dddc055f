/**
 * Minimal OCI distribution push (and raw manifest reads) for what Bulwark writes to registries:
 * signatures, attestations and their referrers. Monolithic blob upload (POST then PUT with the
 * digest), manifest PUT, manifest GET returning the raw bytes whatever the media type, and the
 * referrers API. Same auth (Basic, or Bearer with a pull,push scope), TLS options and error style
 * as RegistryClient; layers of images are never pushed through here (they are not streamed).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type { Agent, Dispatcher } from 'undici';
import { BulwarkError } from '../core/errors.js';
import { lookupCredentials, type Credentials } from './credentials.js';
import { DOCKER_HUB } from './reference.js';
import { parseChallenge, type RegistryOptions } from './registry.js';

const MAX_MANIFEST = 4 * 1024 * 1024;

export interface RawManifest {
  digest: string;
  mediaType: string;
  body: Buffer;
}

export class RegistryPusher {
  readonly registry: string;
  private readonly host: string;
  private scheme: 'https' | 'http' = 'https';
  private dispatcher?: Agent;
  private readonly connect: { ca?: string[]; rejectUnauthorized?: boolean; timeout?: number };
  private creds?: Promise<Credentials | undefined>;
  private basic = false;
  private readonly tokens = new Map<string, string>();

  constructor(
    registry: string,
    private readonly opts: RegistryOptions = {},
  ) {
    this.registry = registry;
    this.host = registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
    this.connect = { timeout: opts.timeoutMs ?? 60_000 };
    if (opts.caCertFile) {
      try {
        this.connect.ca = [...rootCertificates, readFileSync(opts.caCertFile, 'utf8')];
      } catch (e) {
        throw new BulwarkError(
          'USAGE',
          `CA certificate ${opts.caCertFile}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`,
        );
      }
    }
    if (opts.insecure) this.connect.rejectUnauthorized = false;
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }

  private where(repo: string): string {
    return `repository ${repo} on registry ${this.registry}`;
  }

  private async token(ch: ReturnType<typeof parseChallenge>, repo: string): Promise<boolean> {
    this.creds ??= lookupCredentials(this.registry, this.opts);
    const c = await this.creds;
    if (!ch) return false;
    if (ch.scheme === 'basic') {
      if (!c || this.basic) return false;
      this.basic = true;
      return true;
    }
    if (ch.scheme !== 'bearer' || !ch.params.realm) return false;
    const u = new URL(ch.params.realm);
    if (ch.params.service) u.searchParams.set('service', ch.params.service);
    u.searchParams.set('scope', `repository:${repo}:pull,push`);
    const headers: Record<string, string> = { 'user-agent': 'bulwark' };
    if (c) headers.authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    const res = await this.raw('GET', u.toString(), headers, undefined, repo);
    const text = await res.body.text();
    if (res.statusCode !== 200)
      throw new BulwarkError(
        'AUTH',
        `the token service ${u.origin}${u.pathname} refused push access to ${this.where(repo)} (HTTP ${res.statusCode})`,
      );
    const j = JSON.parse(text) as { token?: string; access_token?: string };
    const t = j.token ?? j.access_token;
    if (!t) throw new BulwarkError('AUTH', `the token service ${u.origin}${u.pathname} returned no token`);
    this.tokens.set(repo, t);
    return true;
  }

  private async raw(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    repo: string,
  ): Promise<Dispatcher.ResponseData> {
    const { Agent, request } = await import('undici');
    this.dispatcher ??= new Agent({ connect: this.connect });
    try {
      return await request(url, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body,
        dispatcher: this.dispatcher,
      });
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      if (this.opts.insecure && this.scheme === 'https' && /EPROTO|WRONG_VERSION/.test(code)) {
        this.scheme = 'http';
        return this.raw(method, url.replace(/^https:/, 'http:'), headers, body, repo);
      }
      throw new BulwarkError(
        'NETWORK',
        `${method} ${this.where(repo)}: request failed (${code || (e as Error).message})`,
        { cause: e },
      );
    }
  }

  /** A request with auth; redirects followed for GET/HEAD. */
  private async send(
    method: string,
    path: string,
    repo: string,
    o: { headers?: Record<string, string>; body?: Buffer } = {},
  ): Promise<Dispatcher.ResponseData> {
    let url = path.startsWith('http') ? path : `${this.scheme}://${this.host}${path}`;
    for (let attempt = 0; attempt < 6; attempt++) {
      const headers: Record<string, string> = { 'user-agent': 'bulwark', ...o.headers };
      const tok = this.tokens.get(repo);
      if (new URL(url).host === this.host) {
        if (tok) headers.authorization = `Bearer ${tok}`;
        else if (this.basic) {
          const c = await this.creds;
          if (c)
            headers.authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
        }
      }
      const res = await this.raw(method, url, headers, o.body, repo);
      if (res.statusCode === 401 && attempt === 0) {
        await res.body.dump();
        if (await this.token(parseChallenge(res.headers['www-authenticate']), repo)) continue;
        throw new BulwarkError(
          'AUTH',
          `${this.where(repo)}: authentication required (HTTP 401); pass --username with BULWARK_PASSWORD`,
        );
      }
      if (
        [301, 302, 307, 308].includes(res.statusCode) &&
        res.headers.location &&
        (method === 'GET' || method === 'HEAD')
      ) {
        await res.body.dump();
        url = new URL(String(res.headers.location), url).toString();
        continue;
      }
      return res;
    }
    throw new BulwarkError('NETWORK', `${method} ${path}: too many redirects or auth rounds`);
  }

  private async fail(res: Dispatcher.ResponseData, what: string, repo: string): Promise<never> {
    const text = (await res.body.text().catch(() => '')).slice(0, 500);
    let code = '';
    try {
      code =
        (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors
          ?.map((e) => `${e.code}: ${e.message}`)
          .join('; ') ?? '';
    } catch {
      /* not JSON */
    }
    const kind =
      res.statusCode === 401
        ? 'AUTH'
        : res.statusCode === 403
          ? 'FORBIDDEN'
          : res.statusCode === 404
            ? 'NOT_FOUND'
            : 'NETWORK';
    throw new BulwarkError(
      kind,
      `${this.where(repo)}: ${what}: HTTP ${res.statusCode}${code ? ` (${code})` : ''}`,
    );
  }

  async blobExists(repo: string, digest: string): Promise<boolean> {
    const res = await this.send('HEAD', `/v2/${repo}/blobs/${digest}`, repo);
    await res.body.dump();
    return res.statusCode === 200;
  }

  /** Uploads a blob in one PUT (skipped when the registry has it); returns its digest. */
  async pushBlob(repo: string, data: Buffer): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    if (await this.blobExists(repo, digest)) return digest;
    const start = await this.send('POST', `/v2/${repo}/blobs/uploads/`, repo, {
      headers: { 'content-length': '0' },
    });
    if (start.statusCode !== 202) await this.fail(start, 'starting a blob upload', repo);
    await start.body.dump();
    const loc = start.headers.location;
    if (!loc)
      throw new BulwarkError('NETWORK', `${this.where(repo)}: blob upload answered without a Location`);
    const u = new URL(String(loc), `${this.scheme}://${this.host}/`);
    u.searchParams.set('digest', digest);
    const put = await this.send('PUT', u.toString(), repo, {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
      body: data,
    });
    if (put.statusCode !== 201) await this.fail(put, `uploading blob ${digest}`, repo);
    await put.body.dump();
    return digest;
  }

  /** PUT a manifest under a tag or its digest; returns the digest. */
  async putManifest(repo: string, reference: string, body: Buffer, mediaType: string): Promise<string> {
    const res = await this.send('PUT', `/v2/${repo}/manifests/${reference}`, repo, {
      headers: { 'content-type': mediaType, 'content-length': String(body.length) },
      body,
    });
    if (res.statusCode !== 201) await this.fail(res, `pushing manifest ${reference}`, repo);
    await res.body.dump();
    return `sha256:${createHash('sha256').update(body).digest('hex')}`;
  }

  /** A manifest's bytes (any media type in `accept`), or undefined when it does not exist. */
  async getManifestRaw(repo: string, reference: string, accept: string[]): Promise<RawManifest | undefined> {
    const res = await this.send('GET', `/v2/${repo}/manifests/${reference}`, repo, {
      headers: { accept: accept.join(', ') },
    });
    if (res.statusCode === 404) {
      await res.body.dump();
      return undefined;
    }
    if (res.statusCode !== 200) await this.fail(res, `manifest ${reference}`, repo);
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of res.body as AsyncIterable<Buffer>) {
      n += c.length;
      if (n > MAX_MANIFEST)
        throw new BulwarkError(
          'LIMIT',
          `${this.where(repo)}: manifest ${reference} is larger than ${MAX_MANIFEST} bytes`,
        );
      chunks.push(c);
    }
    const body = Buffer.concat(chunks);
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (reference.startsWith('sha256:') && reference !== digest)
      throw new BulwarkError(
        'DIGEST_MISMATCH',
        `${this.where(repo)}: manifest ${reference} has content digest ${digest}`,
      );
    const ct = res.headers['content-type'];
    return {
      digest,
      mediaType: String(Array.isArray(ct) ? ct[0] : (ct ?? ''))
        .split(';')[0]!
        .trim(),
      body,
    };
  }

  /** GET /v2/<repo>/referrers/<digest> (an OCI index), or undefined when the registry has no referrers API (404). */
  async referrers(repo: string, digest: string): Promise<Buffer | undefined> {
    const res = await this.send('GET', `/v2/${repo}/referrers/${digest}`, repo, {
      headers: { accept: 'application/vnd.oci.image.index.v1+json' },
    });
    if (res.statusCode === 404) {
      await res.body.dump();
      return undefined;
    }
    if (res.statusCode !== 200) await this.fail(res, `referrers of ${digest}`, repo);
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of res.body as AsyncIterable<Buffer>) {
      n += c.length;
      if (n > MAX_MANIFEST)
        throw new BulwarkError(
          'LIMIT',
          `${this.where(repo)}: referrers of ${digest}: more than ${MAX_MANIFEST} bytes`,
        );
      chunks.push(c);
    }
    return Buffer.concat(chunks);
  }
}
