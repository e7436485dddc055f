/**
 * cosign's "simple signing" payload (application/vnd.dev.cosign.simplesigning.v1+json). The bytes
 * are what is signed, so they are written exactly as cosign's Go json.Marshal writes them: fields in
 * struct order, no white space, `optional` null or a map with sorted keys, and <, >, & escaped.
 */
import { BulwarkError } from '../core/errors.js';

export const SIMPLESIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';

export interface SimpleSigningPayload {
  critical: {
    identity: { 'docker-reference': string };
    image: { 'docker-manifest-digest': string };
    type: string;
  };
  optional: Record<string, unknown> | null;
}

/** A JSON string as Go's encoding/json writes it (HTML characters and U+2028/9 escaped). */
export function goJsonString(s: string): string {
  return JSON.stringify(s).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function goJson(v: unknown): string {
  if (typeof v === 'string') return goJsonString(v);
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(goJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${goJsonString(k)}:${goJson(o[k])}`)
    .join(',')}}`;
}

/** The payload bytes cosign signs for `dockerReference` (repository, as cosign writes it) at `digest`. */
export function simpleSigningPayload(
  dockerReference: string,
  digest: string,
  optional?: Record<string, unknown>,
): Buffer {
  const opt = optional && Object.keys(optional).length ? goJson(optional) : 'null';
  return Buffer.from(
    `{"critical":{"identity":{"docker-reference":${goJsonString(dockerReference)}},"image":{"docker-manifest-digest":${goJsonString(digest)}},"type":${goJsonString(COSIGN_SIGNATURE_TYPE)}},"optional":${opt}}`,
  );
}

/** Parses and checks a payload; errors say what is missing. */
export function parseSimpleSigning(bytes: Buffer): SimpleSigningPayload {
  let j: SimpleSigningPayload;
  try {
    j = JSON.parse(bytes.toString('utf8')) as SimpleSigningPayload;
  } catch (e) {
    throw new BulwarkError('PARSE', `signature payload is not valid JSON (${(e as Error).message})`);
  }
  const c = j?.critical;
  if (!c || typeof c !== 'object')
    throw new BulwarkError('PARSE', 'signature payload has no "critical" section');
  if (c.type !== COSIGN_SIGNATURE_TYPE)
    throw new BulwarkError(
      'PARSE',
      `signature payload type is "${String(c.type)}", not "${COSIGN_SIGNATURE_TYPE}"`,
    );
  if (typeof c.image?.['docker-manifest-digest'] !== 'string')
    throw new BulwarkError('PARSE', 'signature payload has no critical.image.docker-manifest-digest');
  if (typeof c.identity?.['docker-reference'] !== 'string')
    throw new BulwarkError('PARSE', 'signature payload has no critical.identity.docker-reference');
  return j;
}
