/**
 * Where signatures are read from: an OCI registry (cosign's legacy layout, tag `sha256-<hex>.sig`
 * next to the image, one layer per signature) or a directory in containers/image's `dir:` layout
 * (manifest.json plus signature-1, signature-2... in its "sigstore-json" format, as skopeo writes
 * them).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BulwarkError } from '../core/errors.js';
import { RegistryClient, type RegistryOptions } from '../image/index.js';
import type { SignatureLayer } from './verify.js';

/** Largest signature or attestation layer read (cosign's own limit is 128 MiB for attestations). */
export const MAX_SIGNATURE_LAYER = 16 * 1024 * 1024;
/** Most signatures (or attestations) read for one image. */
export const MAX_ATTACHMENT_LAYERS = 256;

/** `sha256:abc…` → `sha256-abc….sig` (or .att, .sbom). */
export function attachmentTag(digest: string, suffix: 'sig' | 'att' | 'sbom' | '' = 'sig'): string {
  const t = digest.replace(':', '-');
  return suffix ? `${t}.${suffix}` : t;
}

export interface AttachmentManifest {
  digest: string;
  body: Buffer;
  layers: { mediaType: string; digest: string; size: number; annotations: Record<string, string> }[];
}

/** The attachment manifest at `tag`, or undefined when the tag does not exist. */
export async function getAttachmentManifest(
  client: RegistryClient,
  repo: string,
  tag: string,
): Promise<AttachmentManifest | undefined> {
  let m;
  try {
    m = await client.getManifest(repo, tag);
  } catch (e) {
    if (e instanceof BulwarkError && e.code === 'NOT_FOUND' && !/repository not found/.test(e.message))
      return undefined;
    throw e;
  }
  const doc = JSON.parse(m.body.toString('utf8')) as {
    layers?: { mediaType?: string; digest?: string; size?: number; annotations?: Record<string, string> }[];
  };
  return {
    digest: m.digest,
    body: m.body,
    layers: (doc.layers ?? []).map((l) => ({
      mediaType: l.mediaType ?? '',
      digest: l.digest ?? '',
      size: l.size ?? 0,
      annotations: l.annotations ?? {},
    })),
  };
}

/** The signature layers of an attachment manifest, each blob fetched and checked against its digest. */
export async function readAttachmentLayers(
  client: RegistryClient,
  repo: string,
  m: AttachmentManifest,
): Promise<SignatureLayer[]> {
  const out: SignatureLayer[] = [];
  if (m.layers.length > MAX_ATTACHMENT_LAYERS)
    throw new BulwarkError(
      'LIMIT',
      `attachment manifest ${m.digest} in ${repo} has ${m.layers.length} layers (limit ${MAX_ATTACHMENT_LAYERS})`,
    );
  for (const l of m.layers) {
    if (l.size > MAX_SIGNATURE_LAYER)
      throw new BulwarkError(
        'LIMIT',
        `signature layer ${l.digest} in ${repo} is ${l.size} bytes (limit ${MAX_SIGNATURE_LAYER})`,
      );
    const payload = await client.getBlobBuffer(repo, l.digest, MAX_SIGNATURE_LAYER);
    out.push({ mediaType: l.mediaType, payload, annotations: l.annotations, source: l.digest });
  }
  return out;
}

export type { RegistryOptions };

const SIGSTORE_JSON_PREFIX = Buffer.from('\x00sigstore-json\n');

/** Parses a containers/image signature file holding a sigstore attachment. */
export function parseSigstoreJson(blob: Buffer, source: string): SignatureLayer | undefined {
  if (!blob.subarray(0, SIGSTORE_JSON_PREFIX.length).equals(SIGSTORE_JSON_PREFIX)) return undefined;
  let j: { mimeType?: unknown; payload?: unknown; annotations?: unknown };
  try {
    j = JSON.parse(blob.subarray(SIGSTORE_JSON_PREFIX.length).toString('utf8')) as typeof j;
  } catch (e) {
    throw new BulwarkError(
      'PARSE',
      `${source}: sigstore-json signature is not valid JSON (${(e as Error).message})`,
    );
  }
  if (typeof j.mimeType !== 'string' || typeof j.payload !== 'string')
    throw new BulwarkError('PARSE', `${source}: sigstore-json signature lacks mimeType or payload`);
  const ann: Record<string, string> = {};
  if (j.annotations && typeof j.annotations === 'object')
    for (const [k, v] of Object.entries(j.annotations as Record<string, unknown>))
      if (typeof v === 'string') ann[k] = v;
  return { mediaType: j.mimeType, payload: Buffer.from(j.payload, 'base64'), annotations: ann, source };
}

/**
 * A containers/image `dir:` image: the manifest digest and its sigstore signatures (other
 * signature kinds, e.g. GPG "simple signing" files, are counted but not returned).
 */
export async function readDirImage(
  dir: string,
): Promise<{ digest: string; manifest: Buffer; signatures: SignatureLayer[]; otherSignatures: number }> {
  let manifest: Buffer;
  try {
    manifest = await readFile(join(dir, 'manifest.json'));
  } catch (e) {
    throw new BulwarkError(
      'NOT_FOUND',
      `dir:${dir}: cannot read manifest.json (${(e as NodeJS.ErrnoException).code ?? e})`,
      {
        subject: dir,
      },
    );
  }
  let doc: { schemaVersion?: number; signatures?: unknown };
  try {
    doc = JSON.parse(manifest.toString('utf8')) as typeof doc;
  } catch (e) {
    throw new BulwarkError('PARSE', `dir:${dir}/manifest.json: not valid JSON (${(e as Error).message})`);
  }
  if (doc.schemaVersion === 1 && doc.signatures !== undefined)
    // A signed schema 1 manifest's digest is over the payload without its JWS signatures; not supported.
    throw new BulwarkError(
      'UNSUPPORTED',
      `dir:${dir}/manifest.json: signed Docker schema 1 manifests are not supported`,
    );
  const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
  const names = (await readdir(dir))
    .map((n) => /^signature-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => Boolean(m))
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((m) => m[0]);
  const signatures: SignatureLayer[] = [];
  let other = 0;
  for (const n of names) {
    const blob = await readFile(join(dir, n));
    const s = parseSigstoreJson(blob, `${dir}/${n}`);
    if (s) signatures.push(s);
    else other++;
  }
  return { digest, manifest, signatures, otherSignatures: other };
}
