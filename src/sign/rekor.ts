/**
 * Rekor signed entry timestamps (SETs), verified offline as cosign does with the
 * `dev.sigstore.cosign/bundle` annotation: the log's signature over the canonical JSON of
 * {body, integratedTime, logID, logIndex}, then the entry body checked against the signature being
 * verified (payload hash, signature bytes, public key or certificate).
 */
import { createHash, createPublicKey, verify, X509Certificate, type KeyObject } from 'node:crypto';
import type { TrustedRoot } from './trust.js';
import { withinValidity } from './trust.js';

export interface RekorBundle {
  SignedEntryTimestamp: string;
  Payload: { body: string; integratedTime: number; logIndex: number; logID: string };
}

export interface TlogEntry {
  logIndex: number;
  logID: string;
  integratedTime: number;
  kind: string;
}

/** JSON with sorted keys and no white space (RFC 8785 for the values Rekor uses). */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

export function parseRekorBundle(text: string): RekorBundle | string {
  let j: RekorBundle;
  try {
    j = JSON.parse(text) as RekorBundle;
  } catch {
    return 'Rekor bundle annotation is not valid JSON';
  }
  const p = j?.Payload;
  if (
    !j ||
    typeof j.SignedEntryTimestamp !== 'string' ||
    !p ||
    typeof p.body !== 'string' ||
    typeof p.integratedTime !== 'number' ||
    typeof p.logIndex !== 'number' ||
    typeof p.logID !== 'string'
  )
    return 'Rekor bundle annotation lacks SignedEntryTimestamp or Payload{body,integratedTime,logIndex,logID}';
  return j;
}

function spkiDer(k: KeyObject): Buffer {
  return k.export({ format: 'der', type: 'spki' });
}

/** The key or certificate in a Rekor entry (base64 of PEM). */
function entryKeyDer(b64: string): { spki: Buffer; cert?: Buffer } | undefined {
  const pem = Buffer.from(b64, 'base64').toString('utf8');
  try {
    if (pem.includes('BEGIN CERTIFICATE')) {
      const c = new X509Certificate(pem);
      return { spki: spkiDer(c.publicKey), cert: c.raw };
    }
    return { spki: spkiDer(createPublicKey(pem)) };
  } catch {
    return undefined;
  }
}

/**
 * Verifies a SET for a signature. `signed` is what the signature covers (the simplesigning payload,
 * or the DSSE payload for attestations), `signature` the raw signature bytes, `signer` the public
 * key that verified it and `cert` the signing certificate for keyless. Returns the entry or why not.
 */
export function verifySet(
  bundle: RekorBundle,
  root: TrustedRoot,
  o: { signed: Buffer; signature: Buffer; signer: KeyObject; cert?: X509Certificate },
): TlogEntry | string {
  const p = bundle.Payload;
  const log = root.tlogs.find((t) => t.logId === p.logID.toLowerCase());
  if (!log) return `Rekor SET is from log ${p.logID}, which is not in the trusted root ${root.source}`;
  const when = new Date(p.integratedTime * 1000);
  if (!withinValidity(log.validFor, when))
    return `Rekor log ${p.logID} key is not valid at the entry's integrated time ${when.toISOString()}`;
  const canonical = canonicalJson({
    body: p.body,
    integratedTime: p.integratedTime,
    logID: p.logID,
    logIndex: p.logIndex,
  });
  const setSig = Buffer.from(bundle.SignedEntryTimestamp, 'base64');
  let ok: boolean;
  try {
    ok = verify(
      log.key.asymmetricKeyType === 'ed25519' ? null : 'sha256',
      Buffer.from(canonical),
      log.key,
      setSig,
    );
  } catch {
    ok = false;
  }
  if (!ok) return `Rekor SET signature does not verify with the key of log ${p.logID} (${root.source})`;

  let body: {
    kind?: string;
    spec?: {
      data?: { hash?: { algorithm?: string; value?: string } };
      signature?: { content?: string; publicKey?: { content?: string } };
      publicKey?: string;
    };
  };
  try {
    body = JSON.parse(Buffer.from(p.body, 'base64').toString('utf8')) as typeof body;
  } catch {
    return 'Rekor entry body is not valid JSON';
  }
  const kind = body.kind ?? '';
  const signerSpki = spkiDer(o.signer);
  if (kind === 'hashedrekord') {
    const h = body.spec?.data?.hash;
    const want = createHash('sha256').update(o.signed).digest('hex');
    if (h?.algorithm !== 'sha256' || h.value !== want)
      return `Rekor entry hash ${h?.value ?? '(none)'} is not the payload's sha256 ${want}`;
    const sig = body.spec?.signature?.content;
    if (!sig || !Buffer.from(sig, 'base64').equals(o.signature))
      return 'signature in Rekor SET does not match the signature being verified';
    const k = entryKeyDer(body.spec?.signature?.publicKey?.content ?? '');
    if (!k) return 'Rekor entry has no readable public key or certificate';
    if (!k.spki.equals(signerSpki) || (o.cert && k.cert && !k.cert.equals(o.cert.raw)))
      return 'public key or certificate in Rekor SET does not match the signer';
  } else if (kind === 'dsse' || kind === 'intoto') {
    // dsse 0.0.1: spec.payloadHash and spec.signatures[{signature, verifier}];
    // intoto 0.0.2: spec.content.payloadHash and spec.content.envelope.signatures[{sig, publicKey}].
    const spec = (body.spec ?? {}) as {
      payloadHash?: { algorithm?: string; value?: string };
      signatures?: { signature?: string; verifier?: string }[];
      content?: {
        payloadHash?: { algorithm?: string; value?: string };
        envelope?: { signatures?: { sig?: string; publicKey?: string }[] };
      };
    };
    const h = kind === 'dsse' ? spec.payloadHash : spec.content?.payloadHash;
    const want = createHash('sha256').update(o.signed).digest('hex');
    if (h?.algorithm !== 'sha256' || h.value !== want)
      return `Rekor ${kind} entry payload hash ${h?.value ?? '(none)'} is not the payload's sha256 ${want}`;
    const sigs =
      kind === 'dsse'
        ? (spec.signatures ?? []).map((x) => ({
            sig: Buffer.from(x.signature ?? '', 'base64'),
            key: x.verifier,
          }))
        : (spec.content?.envelope?.signatures ?? []).map((x) => ({
            // intoto 0.0.2 stores the envelope's base64 signature base64-encoded again
            sig: Buffer.from(Buffer.from(x.sig ?? '', 'base64').toString('utf8'), 'base64'),
            key: x.publicKey,
          }));
    const match = sigs.find((x) => x.sig.equals(o.signature));
    if (!match) return 'signature in Rekor SET does not match the signature being verified';
    const k = entryKeyDer(match.key ?? '');
    if (!k || !k.spki.equals(signerSpki) || (o.cert && k.cert && !k.cert.equals(o.cert.raw)))
      return 'public key or certificate in Rekor SET does not match the signer';
  } else {
    return `Rekor entry kind "${kind}" is not supported`;
  }
  return { logIndex: p.logIndex, logID: p.logID, integratedTime: p.integratedTime, kind };
}
