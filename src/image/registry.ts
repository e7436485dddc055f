/**
 * OCI distribution API client (https://github.com/opencontainers/distribution-spec) on undici.
 *
 * - Auth: anonymous first; on 401 the WWW-Authenticate challenge decides: Basic (credentials sent
 *   from then on) or Bearer (token fetched from the realm with service and scope, cached per scope).
 * - TLS: system CAs plus caCertFile; `insecure` accepts any certificate and falls back to plain HTTP
 *   when the registry does not speak TLS.
 * - Retries with exponential backoff on 429, 5xx, timeouts and connection errors, honouring
 *   Retry-After; blob downloads cut mid-way resume with a Range request.
 * - Errors name the registry and repository, never the password.
 */
import { readFileSync } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import type { Agent, Dispatcher } from 'undici';

/** undici is loaded with the first registry request: commands that never pull do not pay for it. */
let undiciModule: Promise<typeof import('undici')> | undefined;
const undici = () => (undiciModule ??= import('undici'));
import { BulwarkError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { checkJsonSize, MAX_JSON_BLOB } from './blobs.js';
import { lookupCredentials, type Credentials } from './credentials.js';
import { checkDigest, digestOf, verifyBuffer, HashingStream } from './digest.js';
import {
  MANIFEST_ACCEPT,
  parseManifestDoc,
  selectPlatform,
  type ImageIndex,
  type ImageManifest,
  type ManifestDoc,
} from './manifest.js';
import { DOCKER_HUB } from './reference.js';

export interface RegistryOptions {
  username?: string;
  password?: string;
  dockerConfigPath?: string;
  caCertFile?: string;
  insecure?: boolean;
  /** Per request: time to the response headers, and the longest pause while reading a body. Default 60 s. */
  timeoutMs?: number;
  /** Retries after the first attempt (default 3). */
  retries?: number;
  logger?: Logger;
}

export interface ManifestResponse {
  digest: string;
  mediaType: string;
  body: Buffer;
  doc: ManifestDoc;
}

type Challenge = { scheme: string; params: Record<string, string> };

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const BACKOFF_BASE_MS = 300;
const BACKOFF_MAX_MS = 15_000;

/** Parses `Bearer realm="https://auth",service="reg",scope="repository:a:pull"`. */
export function parseChallenge(header: string | string[] | undefined): Challenge | undefined {
  const h = Array.isArray(header) ? header[0] : header;
  if (!h) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(h);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (let p; (p = re.exec(m[2]!));)
    params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  return { scheme: m[1]!.toLowerCase(), params };
}

function retryAfterMs(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  if (/^\d+$/.test(s.trim())) return Number(s.trim()) * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function errCode(e: unknown): string {
  const err = e as { code?: string; cause?: { code?: string } };
  return err?.code ?? err?.cause?.code ?? '';
}

const TLS_CERT_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|UNABLE_TO_GET_ISSUER/;
const TLS_PROTOCOL_CODES = /^(EPROTO|ERR_SSL_WRONG_VERSION_NUMBER|ERR_SSL_PACKET_LENGTH_TOO_LONG)$/;

export class RegistryClient {
  /** Registry as written in references ("127.0.0.1:5000", "docker.io"). */
  readonly registry: string;
  private readonly host: string;
  private scheme: 'https' | 'http' = 'https';
  private dispatcher?: Agent;
  private readonly connect: { ca?: string[]; rejectUnauthorized?: boolean; timeout?: number };
  private readonly timeoutMs: number;
  private readonly retries: number;
  private credsPromise?: Promise<Credentials | undefined>;
  private basic = false;
  private readonly tokens = new Map<string, string>();
  private lastChallenge?: Challenge;

  constructor(
    registry: string,
    private readonly opts: RegistryOptions = {},
  ) {
    this.registry = registry;
    this.host = registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
    const connect: { ca?: string[]; rejectUnauthorized?: boolean; timeout?: number } = {};
    if (opts.caCertFile) {
      let pem: string;
      try {
        pem = readFileSync(opts.caCertFile, 'utf8');
      } catch (e) {
        throw new BulwarkError(
          'USAGE',
          `CA certificate ${opts.caCertFile}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`,
        );
      }
      connect.ca = [...rootCertificates, pem];
    }
    if (opts.insecure) connect.rejectUnauthorized = false;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    connect.timeout = this.timeoutMs;
    this.retries = opts.retries ?? 3;
    this.connect = connect;
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }

  private url(path: string): string {
    return `${this.scheme}://${this.host}${path}`;
  }

  private credentials(): Promise<Credentials | undefined> {
    this.credsPromise ??= lookupCredentials(this.registry, this.opts);
    return this.credsPromise;
  }

  private where(repo?: string): string {
    return repo ? `repository ${repo} on registry ${this.registry}` : `registry ${this.registry}`;
  }

  private async authHeader(scope: string | undefined): Promise<string | undefined> {
    const token = this.tokens.get(scope ?? '');
    if (token) return `Bearer ${token}`;
    if (this.basic) {
      const c = await this.credentials();
      if (c) return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    }
    return undefined;
  }

  /** Answers a 401 challenge; returns false when there is nothing more to try. */
  private async authenticate(
    ch: Challenge | undefined,
    scope: string | undefined,
    repo: string | undefined,
  ): Promise<boolean> {
    if (!ch) return false;
    this.lastChallenge = ch;
    const creds = await this.credentials();
    if (ch.scheme === 'basic') {
      if (!creds || this.basic) return false;
      this.basic = true;
      return true;
    }
    if (ch.scheme !== 'bearer' || !ch.params.realm) return false;
    const realm = new URL(ch.params.realm);
    if (ch.params.service) realm.searchParams.set('service', ch.params.service);
    const wantScope = scope ?? ch.params.scope;
    if (wantScope) realm.searchParams.set('scope', wantScope);
    const headers: Record<string, string> = { 'user-agent': 'bulwark' };
    if (creds)
      headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    const res = await this.send(
      'GET',
      realm.toString(),
      headers,
      repo,
      `token service ${realm.origin}${realm.pathname}`,
    );
    const body = await readLimited(res.body, MAX_JSON_BLOB);
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw new BulwarkError(
        'AUTH',
        `the token service ${realm.origin}${realm.pathname} refused ${creds ? `the credentials of user "${creds.username}"` : 'anonymous access'} for ${this.where(repo)} (HTTP ${res.statusCode})`,
        { subject: this.registry },
      );
    }
    if (res.statusCode !== 200) {
      throw new BulwarkError(
        'AUTH',
        `the token service ${realm.origin}${realm.pathname} answered HTTP ${res.statusCode} for ${this.where(repo)}`,
        {
          subject: this.registry,
        },
      );
    }
    let token: string | undefined;
    try {
      const j = JSON.parse(body.toString('utf8')) as { token?: string; access_token?: string };
      token = j.token ?? j.access_token;
    } catch {
      /* handled below */
    }
    if (!token)
      throw new BulwarkError(
        'AUTH',
        `the token service ${realm.origin}${realm.pathname} returned no token for ${this.where(repo)}`,
      );
    this.tokens.set(scope ?? '', token);
    return true;
  }

  /** One HTTP exchange with retries on transient failures. */
  private async send(
    method: 'GET' | 'HEAD',
    url: string,
    headers: Record<string, string>,
    repo: string | undefined,
    what: string,
  ): Promise<Dispatcher.ResponseData> {
    for (let attempt = 0; ; attempt++) {
      let res: Dispatcher.ResponseData;
      try {
        const { Agent, request } = await undici();
        this.dispatcher ??= new Agent({
          connect: this.connect,
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
        });
        res = await request(url, {
          method,
          headers,
          dispatcher: this.dispatcher,
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
        });
      } catch (e) {
        const code = errCode(e);
        if (TLS_CERT_CODES.test(code)) {
          throw new BulwarkError(
            'NETWORK',
            `TLS certificate of ${this.where(repo)} is not trusted (${code}); pass the registry's CA with --ca-cert, or --insecure to skip verification`,
            { subject: this.registry, cause: e },
          );
        }
        if (this.opts.insecure && TLS_PROTOCOL_CODES.test(code) && url.startsWith(`https://${this.host}/`)) {
          // --insecure: the registry speaks plain HTTP.
          this.scheme = 'http';
          url = `http://${url.slice('https://'.length)}`;
          this.opts.logger?.debug(`${this.registry}: no TLS, using plain HTTP (--insecure)`);
          attempt--;
          continue;
        }
        if (!this.opts.insecure && TLS_PROTOCOL_CODES.test(code) && url.startsWith('https://')) {
          // a TLS handshake answered in plain HTTP: retrying will not help, --insecure will
          throw new BulwarkError(
            'NETWORK',
            `${this.where(repo)} does not speak TLS (${code}: the port answered in plain HTTP); pass --insecure to allow plain HTTP for this registry`,
            { subject: this.registry, cause: e },
          );
        }
        if (attempt < this.retries) {
          await sleep(this.backoff(attempt));
          continue;
        }
        const timeout = /TIMEOUT/.test(code);
        throw new BulwarkError(
          timeout ? 'TIMEOUT' : 'NETWORK',
          `${what} for ${this.where(repo)}: ${timeout ? 'timed out' : `request failed (${code || (e as Error).message})`} after ${attempt + 1} attempts`,
          {
            subject: this.registry,
            cause: e,
          },
        );
      }
      if (RETRY_STATUS.has(res.statusCode) && attempt < this.retries) {
        const wait = retryAfterMs(res.headers['retry-after']);
        await res.body.dump();
        this.opts.logger?.debug(`${what}: HTTP ${res.statusCode}, retrying`);
        await sleep(Math.min(wait ?? this.backoff(attempt), 60_000));
        continue;
      }
      return res;
    }
  }

  private backoff(attempt: number): number {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
    return base / 2 + Math.random() * (base / 2);
  }

  /** GET/HEAD with auth and redirects; returns a 2xx response or throws a clear error. */
  private async fetch(
    path: string,
    o: {
      repo?: string;
      scope?: string;
      accept?: string[];
      method?: 'GET' | 'HEAD';
      range?: number;
      what: string;
      notFound?: string;
    },
  ): Promise<Dispatcher.ResponseData> {
    let url = this.url(path);
    let authTried = false;
    for (let redirects = 0; ;) {
      if (this.scheme === 'http' && url.startsWith(`https://${this.host}/`))
        url = `http://${url.slice('https://'.length)}`;
      const headers: Record<string, string> = { 'user-agent': 'bulwark' };
      if (o.accept) headers.accept = o.accept.join(', ');
      if (o.range) headers.range = `bytes=${o.range}-`;
      const sameHost = new URL(url).host === this.host;
      const auth = sameHost ? await this.authHeader(o.scope) : undefined;
      if (auth) headers.authorization = auth;
      const res = await this.send(o.method ?? 'GET', url, headers, o.repo, o.what);
      if (res.statusCode >= 200 && res.statusCode < 300) return res;
      if ([301, 302, 303, 307, 308].includes(res.statusCode) && res.headers.location && redirects < 5) {
        await res.body.dump();
        url = new URL(String(res.headers.location), url).toString();
        redirects++;
        continue;
      }
      const body = await readLimited(res.body, 64 * 1024).catch(() => Buffer.alloc(0));
      if (res.statusCode === 401 && sameHost && !authTried) {
        authTried = true;
        if (await this.authenticate(parseChallenge(res.headers['www-authenticate']), o.scope, o.repo))
          continue;
      }
      throw await this.statusError(res.statusCode, body, o);
    }
  }

  private async statusError(
    status: number,
    body: Buffer,
    o: { repo?: string; what: string; notFound?: string },
  ): Promise<BulwarkError> {
    let code = '';
    try {
      code = (JSON.parse(body.toString('utf8')) as { errors?: { code?: string }[] }).errors?.[0]?.code ?? '';
    } catch {
      /* not JSON */
    }
    const where = this.where(o.repo);
    if (status === 401) {
      const creds = await this.credentials();
      return new BulwarkError(
        'AUTH',
        creds
          ? `${where}: authentication failed for user "${creds.username}" (HTTP 401); check the user name and password`
          : `${where}: authentication required (HTTP 401); pass --username with BULWARK_PASSWORD or --password-stdin, or log in with docker login`,
        { subject: this.registry },
      );
    }
    if (status === 403)
      return new BulwarkError('FORBIDDEN', `${where}: access denied (HTTP 403${code ? ` ${code}` : ''})`, {
        subject: this.registry,
      });
    if (status === 404) {
      const msg =
        code === 'NAME_UNKNOWN'
          ? `${where}: repository not found`
          : `${where}: ${o.notFound ?? `${o.what} not found`}`;
      return new BulwarkError('NOT_FOUND', `${msg} (HTTP 404${code ? ` ${code}` : ''})`, {
        subject: this.registry,
      });
    }
    if (status === 429)
      return new BulwarkError(
        'RATE_LIMIT',
        `${where}: ${o.what}: too many requests (HTTP 429), gave up after ${this.retries + 1} attempts`,
      );
    return new BulwarkError('NETWORK', `${where}: ${o.what}: HTTP ${status}${code ? ` ${code}` : ''}`, {
      subject: this.registry,
    });
  }

  /** GET /v2/ (checks reachability and credentials). */
  async ping(): Promise<void> {
    const res = await this.fetch('/v2/', { what: 'API version check' });
    await res.body.dump();
  }

  /** A manifest or index by tag or digest; the digest is verified (against the reference or Docker-Content-Digest). */
  async getManifest(repo: string, reference: string): Promise<ManifestResponse> {
    const res = await this.fetch(`/v2/${repo}/manifests/${reference}`, {
      repo,
      scope: `repository:${repo}:pull`,
      accept: MANIFEST_ACCEPT,
      what: `manifest ${reference}`,
      notFound: `manifest "${reference}" not found`,
    });
    const len = Number(res.headers['content-length'] ?? 0);
    checkJsonSize(len, `manifest ${reference} of ${this.where(repo)}`);
    const body = await readLimited(res.body, MAX_JSON_BLOB);
    const what = `manifest ${reference} of ${this.where(repo)}`;
    let digest: string;
    if (reference.includes(':')) {
      digest = checkDigest(reference, what);
      verifyBuffer(body, digest, what);
    } else {
      digest = digestOf(body);
      const header = res.headers['docker-content-digest'];
      const hd = Array.isArray(header) ? header[0] : header;
      if (hd && hd.startsWith('sha256:') && hd !== digest) {
        throw new BulwarkError(
          'DIGEST_MISMATCH',
          `${what}: content digest ${digest} differs from Docker-Content-Digest ${hd}`,
          { subject: hd },
        );
      }
    }
    const ct = res.headers['content-type'];
    const doc = parseManifestDoc(body, what, Array.isArray(ct) ? ct[0] : ct);
    const mediaType = doc.kind === 'index' ? doc.index.mediaType : doc.manifest.mediaType;
    return { digest, mediaType, body, doc };
  }

  /** An index (multi-platform list); errors if the reference is a single image. */
  async getIndex(repo: string, reference: string): Promise<{ digest: string; index: ImageIndex }> {
    const m = await this.getManifest(repo, reference);
    if (m.doc.kind !== 'index')
      throw new BulwarkError('USAGE', `${reference} in ${this.where(repo)} is a single image, not an index`);
    return { digest: m.digest, index: m.doc.index };
  }

  /** The image manifest for a tag or digest, choosing `platform` (default linux/amd64) from an index. */
  async resolveImage(
    repo: string,
    reference: string,
    platform?: string,
  ): Promise<{ digest: string; manifest: ImageManifest; indexDigest?: string }> {
    let m = await this.getManifest(repo, reference);
    let indexDigest: string | undefined;
    if (m.doc.kind === 'index') {
      indexDigest = m.digest;
      const d = selectPlatform(m.doc.index, platform, `${this.registry}/${repo}:${reference}`);
      m = await this.getManifest(repo, d.digest);
      if (m.doc.kind !== 'manifest')
        throw new BulwarkError('UNSUPPORTED', `${this.where(repo)}: nested index ${d.digest}`);
    }
    return { digest: m.digest, manifest: m.doc.manifest, indexDigest };
  }

  /**
   * A blob as a stream. With `verify` (default) the stream errors at its end if the content does not
   * match the digest. A download cut by a network error resumes with a Range request.
   */
  async getBlob(
    repo: string,
    digest: string,
    opts: { verify?: boolean } = {},
  ): Promise<{ stream: Readable; size?: number }> {
    checkDigest(digest, `blob of ${this.where(repo)}`);
    const what = `blob ${digest}`;
    const first = await this.fetch(`/v2/${repo}/blobs/${digest}`, {
      repo,
      scope: `repository:${repo}:pull`,
      what,
      notFound: `${what} not found`,
    });
    const size =
      first.headers['content-length'] !== undefined ? Number(first.headers['content-length']) : undefined;
    const out = new PassThrough({ highWaterMark: 1024 * 1024 });
    let received = 0;
    let resumes = 0;
    const pump = (body: Readable) => {
      body.on('data', (c: Buffer) => {
        received += c.length;
        if (!out.write(c)) {
          body.pause();
          out.once('drain', () => body.resume());
        }
      });
      body.on('end', () => out.end());
      body.on('error', (e: Error) => {
        const code = errCode(e);
        if (
          resumes < this.retries &&
          /^(ECONNRESET|EPIPE|UND_ERR_SOCKET|UND_ERR_BODY_TIMEOUT|ETIMEDOUT)$/.test(code)
        ) {
          resumes++;
          this.opts.logger?.debug(`${what}: resuming at byte ${received} after ${code}`);
          this.fetch(`/v2/${repo}/blobs/${digest}`, {
            repo,
            scope: `repository:${repo}:pull`,
            what,
            range: received,
          })
            .then((res) => {
              if (res.statusCode !== 206) {
                res.body.destroy();
                out.destroy(
                  new BulwarkError(
                    'NETWORK',
                    `${what} of ${this.where(repo)}: connection lost and the registry cannot resume (no range support)`,
                  ),
                );
                return;
              }
              pump(res.body as unknown as Readable);
            })
            .catch((err: unknown) => out.destroy(err as Error));
          return;
        }
        out.destroy(
          new BulwarkError(
            'NETWORK',
            `${what} of ${this.where(repo)}: download failed (${code || e.message})`,
            { cause: e },
          ),
        );
      });
    };
    pump(first.body as unknown as Readable);
    if (opts.verify === false) return { stream: out, size };
    const hasher = new HashingStream({ expected: digest, what: `${what} of ${this.where(repo)}` });
    out.on('error', (e) => hasher.destroy(e));
    return { stream: out.pipe(hasher), size };
  }

  /** A small blob (config) read whole and verified. */
  async getBlobBuffer(repo: string, digest: string, maxBytes = MAX_JSON_BLOB): Promise<Buffer> {
    const { stream } = await this.getBlob(repo, digest, { verify: false });
    const buf = await readLimited(stream, maxBytes, `blob ${digest} of ${this.where(repo)}`);
    verifyBuffer(buf, digest, `blob ${digest} of ${this.where(repo)}`);
    return buf;
  }

  /** All tags of a repository (follows Link pagination). */
  async listTags(repo: string): Promise<string[]> {
    return this.paginate(`/v2/${repo}/tags/list?n=1000`, 'tags', {
      repo,
      scope: `repository:${repo}:pull`,
      what: 'tag list',
    });
  }

  /** All repositories (GET /v2/_catalog, paginated). */
  async catalog(): Promise<string[]> {
    return this.paginate('/v2/_catalog?n=1000', 'repositories', {
      scope: 'registry:catalog:*',
      what: 'catalog',
    });
  }

  private async paginate(
    start: string,
    key: 'tags' | 'repositories',
    o: { repo?: string; scope: string; what: string },
  ): Promise<string[]> {
    const out: string[] = [];
    let path: string | undefined = start;
    for (let page = 0; path && page < 1000; page++) {
      const res = await this.fetch(path, o);
      const body = await readLimited(res.body, MAX_JSON_BLOB);
      let list: unknown;
      try {
        list = (JSON.parse(body.toString('utf8')) as Record<string, unknown>)[key];
      } catch {
        throw new BulwarkError('PARSE', `${this.where(o.repo)}: ${o.what} is not valid JSON`);
      }
      if (Array.isArray(list)) out.push(...list.filter((t): t is string => typeof t === 'string'));
      const link = res.headers.link;
      const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(Array.isArray(link) ? link[0]! : (link ?? ''));
      path = m ? (m[1]!.startsWith('/') ? m[1] : new URL(m[1]!).pathname + new URL(m[1]!).search) : undefined;
    }
    return out;
  }

  /** The last auth challenge seen (for diagnostics and tests). */
  get challenge(): Challenge | undefined {
    return this.lastChallenge;
  }
}

async function readLimited(
  body: AsyncIterable<Buffer> | Readable,
  max: number,
  what = 'response',
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) {
      (body as Readable).destroy?.();
      throw new BulwarkError('LIMIT', `${what}: more than ${max} bytes`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}
