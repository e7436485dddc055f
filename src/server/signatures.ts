/**
 * Signatures and attestations of the images the console scans (#13): after each registry image
 * scan, the job reads the image's cosign signatures and attestations (the legacy layout, tags
 * `sha256-<hex>.sig` / `.att`, and Sigstore bundles through the referrers API or its tag
 * fallback) and verifies them against the console's signature policy (`bulwark server
 * --verify-key FILE`, `--certificate-identity …`: the same checks as `bulwark verify` and
 * `bulwark verify-attestation`). Without a policy they are listed, not verified (`verified: null`).
 * One summary per image (its digest) in `image_signatures`; GET /api/images/:id/signatures.
 */
import type { Kysely } from 'kysely';
import { parseImageReference, RegistryClient, type RegistryOptions } from '../image/index.js';
import {
  readBundles,
  toPublicKeys,
  verifyImageAttestations,
  verifyImageSignatures,
  ANNOTATION,
  DSSE_MEDIA_TYPE,
  type SignatureResult,
  type SignatureLayer,
  type TrustedRoot,
} from '../sign/index.js';
import { attachmentTag, getAttachmentManifest, readAttachmentLayers } from '../sign/sources.js';
import type { Database } from './db/schema.js';

/** What a signature must satisfy to count as verified (as `bulwark verify` takes it). */
export interface SignaturePolicyOptions {
  /** PEM public keys (cosign.pub) */
  keys?: string[];
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  /** loaded once (default: the shipped Sigstore root, loaded at each check) */
  trustedRoot?: TrustedRoot;
}

export interface SignatureCheck {
  kind: 'signature' | 'attestation';
  /** true / false against the policy; null: not checked (no policy configured) */
  verified: boolean | null;
  /** attestations: the in-toto predicate type */
  predicateType?: string;
  /** "key 1" (the policy's first key), or the certificate's identity and issuer */
  signer?: string;
  /** a transparency log entry (Rekor SET) that was verified */
  tlog?: { logIndex: number; integratedTime: string };
  /** where it was read: the layer digest, the bundle and how it was found */
  source?: string;
  errors: string[];
}

export interface ImageSignatures {
  digest: string;
  checkedAt: string;
  /** a key or identity to verify against was configured */
  policy: boolean;
  /** a signature verified against the policy */
  signed: boolean;
  /** predicate types of the verified attestations */
  attested: string[];
  items: SignatureCheck[];
  /** the registry could not be read (the items are what was read before) */
  error?: string;
}

/** Checks the policy's keys parse (at start, so a bad key file fails the server, not every scan). */
export function validatePolicy(p: SignaturePolicyOptions): void {
  if (p.keys?.length) toPublicKeys(p.keys);
}

export function hasPolicy(p: SignaturePolicyOptions | undefined): p is SignaturePolicyOptions {
  return (
    !!p &&
    (!!p.keys?.length || p.certificateIdentity !== undefined || p.certificateIdentityRegexp !== undefined)
  );
}

function signerOf(r: SignatureResult): string | undefined {
  const s = r.signer;
  if (!s) return undefined;
  if (s.kind === 'key') return `key ${s.keyIndex + 1}`;
  return `${s.subject.join(', ')}${s.issuer ? ` (${s.issuer})` : ''}`;
}

function tlogOf(r: SignatureResult): SignatureCheck['tlog'] {
  return r.tlog
    ? { logIndex: r.tlog.logIndex, integratedTime: new Date(r.tlog.integratedTime * 1000).toISOString() }
    : undefined;
}

/** A DSSE attestation's predicate type, read without verifying it. */
function predicateTypeOf(l: SignatureLayer): string | undefined {
  if (l.mediaType !== DSSE_MEDIA_TYPE && !l.annotations[ANNOTATION.predicateType]) return undefined;
  try {
    const env = JSON.parse(l.payload.toString('utf8')) as { payload?: string };
    const st = JSON.parse(Buffer.from(env.payload ?? '', 'base64').toString('utf8')) as {
      predicateType?: string;
    };
    return typeof st.predicateType === 'string' ? st.predicateType : l.annotations[ANNOTATION.predicateType];
  } catch {
    return l.annotations[ANNOTATION.predicateType];
  }
}

/** Reads (and, with a policy, verifies) the signatures and attestations of `host/repo@digest`. */
export async function checkImageSignatures(
  ref: string,
  reg: RegistryOptions,
  policy: SignaturePolicyOptions | undefined,
  now = new Date(),
): Promise<ImageSignatures> {
  const r = parseImageReference(ref);
  const digest = r.digest!;
  const out: ImageSignatures = {
    digest,
    checkedAt: now.toISOString(),
    policy: hasPolicy(policy),
    signed: false,
    attested: [],
    items: [],
  };
  try {
    if (hasPolicy(policy)) {
      const opts = { ...reg, ...policy };
      const s = await verifyImageSignatures(r, opts);
      for (const x of s.signatures)
        out.items.push({
          kind: 'signature',
          verified: x.verified,
          signer: signerOf(x),
          tlog: tlogOf(x),
          source: x.source,
          errors: x.errors,
        });
      const a = await verifyImageAttestations(r, opts);
      for (const x of a.attestations)
        out.items.push({
          kind: 'attestation',
          verified: x.verified,
          predicateType: x.predicateType ?? x.statement?.predicateType,
          signer: signerOf(x),
          tlog: tlogOf(x),
          source: x.source,
          errors: x.errors,
        });
    } else {
      // listed, not verified: what is there and who says they signed it
      const client = new RegistryClient(r.registry, reg);
      try {
        for (const kind of ['signature', 'attestation'] as const) {
          const m = await getAttachmentManifest(
            client,
            r.repository,
            attachmentTag(digest, kind === 'signature' ? 'sig' : 'att'),
          );
          const layers = m ? await readAttachmentLayers(client, r.repository, m) : [];
          const b = await readBundles(r, digest, reg, kind === 'signature' ? 'signatures' : 'attestations');
          for (const l of [...layers, ...b.layers])
            out.items.push({
              kind,
              verified: null,
              ...(kind === 'attestation' ? { predicateType: predicateTypeOf(l) } : {}),
              signer: l.annotations[ANNOTATION.certificate] ? 'certificate (not verified)' : undefined,
              source: l.source,
              errors: [],
            });
        }
      } finally {
        await client.close();
      }
    }
  } catch (e) {
    out.error = (e as Error).message;
  }
  out.signed = out.items.some((i) => i.kind === 'signature' && i.verified === true);
  out.attested = [
    ...new Set(
      out.items
        .filter((i) => i.kind === 'attestation' && i.verified === true)
        .map((i) => i.predicateType ?? ''),
    ),
  ].filter(Boolean);
  return out;
}

/** Stores an image's summary (replacing the one before). */
export async function storeImageSignatures(
  db: Kysely<Database>,
  imageId: number,
  s: ImageSignatures,
): Promise<void> {
  const row = { digest: s.digest, checked_at: s.checkedAt, summary: JSON.stringify(s) };
  const have = await db
    .selectFrom('image_signatures')
    .select('id')
    .where('image_id', '=', imageId)
    .executeTakeFirst();
  if (have) await db.updateTable('image_signatures').set(row).where('id', '=', have.id).execute();
  else
    await db
      .insertInto('image_signatures')
      .values({ image_id: imageId, ...row })
      .execute();
}

export async function imageSignatures(
  db: Kysely<Database>,
  imageId: number,
): Promise<ImageSignatures | undefined> {
  const r = await db
    .selectFrom('image_signatures')
    .select('summary')
    .where('image_id', '=', imageId)
    .executeTakeFirst();
  return r ? (JSON.parse(r.summary) as ImageSignatures) : undefined;
}

/** cosign's attachment tags (`sha256-<hex>`, `.sig`, `.att`, `.sbom`): not images to scan. */
export function isAttachmentTag(tag: string): boolean {
  return /^sha256-[0-9a-f]{64}(\.(sig|att|sbom))?$/.test(tag);
}
