/**
 * Trusted root: the Rekor (transparency log) keys and Fulcio certificate authorities that keyless
 * signatures and Rekor SETs are checked against. The format is Sigstore's trusted_root.json
 * (application/vnd.dev.sigstore.trustedroot+json;version=0.1), so a file from
 * `cosign trusted-root create` or from the Sigstore TUF repository can replace the shipped one
 * (policies/sign/trusted_root.json) with --trusted-root. Never fetched: no TUF, no network.
 */
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BulwarkError } from '../core/errors.js';

export interface ValidFor {
  start?: Date;
  end?: Date;
}

export interface TransparencyLog {
  baseUrl: string;
  /** hex SHA-256 of the log's public key (DER SubjectPublicKeyInfo), as in Rekor's logID. */
  logId: string;
  key: KeyObject;
  validFor: ValidFor;
}

export interface CertificateAuthority {
  uri: string;
  /** Leaf-most first, as in the file. */
  certificates: X509Certificate[];
  validFor: ValidFor;
}

export interface TrustedRoot {
  source: string;
  tlogs: TransparencyLog[];
  certificateAuthorities: CertificateAuthority[];
}

/** Where the shipped trusted root lives (policies/sign/trusted_root.json in the package). */
export const DEFAULT_TRUSTED_ROOT = fileURLToPath(
  new URL('../../policies/sign/trusted_root.json', import.meta.url),
);

function validFor(v: unknown, what: string): ValidFor {
  const o = (v ?? {}) as { start?: unknown; end?: unknown };
  const out: ValidFor = {};
  for (const k of ['start', 'end'] as const) {
    if (o[k] === undefined) continue;
    const d = new Date(String(o[k]));
    if (Number.isNaN(d.getTime())) throw new BulwarkError('PARSE', `${what}: validFor.${k} is not a date`);
    out[k] = d;
  }
  return out;
}

export function withinValidity(v: ValidFor, t: Date): boolean {
  return (!v.start || t >= v.start) && (!v.end || t <= v.end);
}

/** Parses a trusted_root.json document; `source` names it in errors. */
export function parseTrustedRoot(text: string, source: string): TrustedRoot {
  let j: {
    mediaType?: string;
    tlogs?: {
      baseUrl?: string;
      publicKey?: { rawBytes?: string; validFor?: unknown };
      logId?: { keyId?: string };
    }[];
    certificateAuthorities?: {
      uri?: string;
      certChain?: { certificates?: { rawBytes?: string }[] };
      validFor?: unknown;
    }[];
  };
  try {
    j = JSON.parse(text) as typeof j;
  } catch (e) {
    throw new BulwarkError('PARSE', `trusted root ${source}: not valid JSON (${(e as Error).message})`);
  }
  if (
    !j ||
    typeof j !== 'object' ||
    !String(j.mediaType ?? '').startsWith('application/vnd.dev.sigstore.trustedroot')
  )
    throw new BulwarkError(
      'PARSE',
      `trusted root ${source}: not a Sigstore trusted root (mediaType application/vnd.dev.sigstore.trustedroot+json expected)`,
    );
  const tlogs: TransparencyLog[] = [];
  for (const [i, t] of (j.tlogs ?? []).entries()) {
    const what = `trusted root ${source} tlogs[${i}]`;
    if (!t.publicKey?.rawBytes) throw new BulwarkError('PARSE', `${what}: no publicKey.rawBytes`);
    const der = Buffer.from(t.publicKey.rawBytes, 'base64');
    let key: KeyObject;
    try {
      key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    } catch (e) {
      throw new BulwarkError('PARSE', `${what}: public key unreadable (${(e as Error).message})`);
    }
    const logId = t.logId?.keyId
      ? Buffer.from(t.logId.keyId, 'base64').toString('hex')
      : createHash('sha256').update(der).digest('hex');
    tlogs.push({ baseUrl: t.baseUrl ?? '', logId, key, validFor: validFor(t.publicKey.validFor, what) });
  }
  const cas: CertificateAuthority[] = [];
  for (const [i, c] of (j.certificateAuthorities ?? []).entries()) {
    const what = `trusted root ${source} certificateAuthorities[${i}]`;
    const certs = (c.certChain?.certificates ?? []).map((x, k) => {
      try {
        return new X509Certificate(Buffer.from(x.rawBytes ?? '', 'base64'));
      } catch (e) {
        throw new BulwarkError(
          'PARSE',
          `${what} certificates[${k}]: not a certificate (${(e as Error).message})`,
        );
      }
    });
    if (!certs.length) throw new BulwarkError('PARSE', `${what}: empty certChain`);
    cas.push({ uri: c.uri ?? '', certificates: certs, validFor: validFor(c.validFor, what) });
  }
  return { source, tlogs, certificateAuthorities: cas };
}

const cache = new Map<string, TrustedRoot>();

/** Loads (and caches) a trusted root file; the shipped one without a path. */
export function loadTrustedRoot(path: string = DEFAULT_TRUSTED_ROOT): TrustedRoot {
  const hit = cache.get(path);
  if (hit) return hit;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BulwarkError(
      'USAGE',
      `trusted root ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`,
      {
        subject: path,
      },
    );
  }
  const root = parseTrustedRoot(text, path);
  cache.set(path, root);
  return root;
}

/** A trusted root made of explicit pieces (PEM Rekor keys, PEM CA certificates), e.g. for tests or policies. */
export function trustedRootFrom(
  parts: { rekorKeys?: string[]; caCertificates?: string[] },
  source = 'inline',
): TrustedRoot {
  const tlogs = (parts.rekorKeys ?? []).map((pem, i) => {
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch (e) {
      throw new BulwarkError('PARSE', `${source}: Rekor key ${i + 1} unreadable (${(e as Error).message})`);
    }
    const der = key.export({ format: 'der', type: 'spki' });
    return { baseUrl: '', logId: createHash('sha256').update(der).digest('hex'), key, validFor: {} };
  });
  const cas = (parts.caCertificates ?? []).map((pem) => ({
    uri: '',
    certificates: splitPemCertificates(pem, source),
    validFor: {},
  }));
  return { source, tlogs, certificateAuthorities: cas };
}

const pemCache = new Map<string, X509Certificate[]>();

/** Every certificate in a PEM text (parsed once per distinct text: chains repeat across signatures). */
export function splitPemCertificates(pem: string, what: string): X509Certificate[] {
  const hit = pemCache.get(pem);
  if (hit) return hit;
  const certs = parsePemCertificates(pem, what);
  if (pemCache.size >= 256) pemCache.clear();
  pemCache.set(pem, certs);
  return certs;
}

function parsePemCertificates(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (e) {
      throw new BulwarkError('PARSE', `${what}: certificate ${i + 1} unreadable (${(e as Error).message})`);
    }
  });
}
