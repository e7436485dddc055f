/**
 * Cosign-compatible image signatures and attestations.
 *
 * Stable API (used by src/admission and the CLI):
 *
 *   verifyImageSignatures(ref, opts) → Promise<VerifyResult>
 *     ref   "host/repo:tag", "host/repo@sha256:…", an ImageReference, or "dir:PATH" (containers/image dir layout)
 *     opts  keys (KeyObject or PEM), or certificateIdentity(+Regexp) / certificateOidcIssuer(+Regexp) for keyless;
 *           trustedRoot (TrustedRoot or a trusted_root.json path; default the shipped one), caRoots for a
 *           private PKI, requireTlog, reference matching; registry options as RegistryClient takes them
 *           (username, password, caCertFile, insecure, timeoutMs, retries).
 *           `offline` is accepted for cosign parity: verification is always offline (the Rekor SET comes
 *           from the signature's bundle annotation; no Rekor, no TUF); only the registry is contacted.
 *     VerifyResult { digest, verified, signatures: SignatureResult[], errors }
 *       verified: at least one signature verified and none of the checks failed for it (as cosign).
 *       Never throws for a bad or missing signature (that is verified=false with errors); throws
 *       BulwarkError for usage errors and registry failures (NOT_FOUND image, AUTH, NETWORK…).
 *
 *   signImage(ref, opts) / attestImage(ref, opts) / verifyImageAttestations(ref, opts) / generateKeyPair(pw)
 */
import { parseImageReference, RegistryClient, type ImageReference } from '../image/index.js';
import { verifyAttestationLayer } from './attest.js';
import { COSIGN_SIGN_PREDICATE, readBundles } from './bundle.js';
import { buildPolicy, type VerifyOptions } from './policy.js';
import { attachmentTag, getAttachmentManifest, readAttachmentLayers, readDirImage } from './sources.js';
import { verifySignatureLayer, type SignatureLayer, type SignatureResult } from './verify.js';

export {
  generateKeyPair,
  readPrivateKey,
  encryptPrivateKey,
  toPublicKeys,
  SIGSTORE_PEM,
  COSIGN_PEM,
} from './keys.js';
export {
  simpleSigningPayload,
  parseSimpleSigning,
  SIMPLESIGNING_MEDIA_TYPE,
  type SimpleSigningPayload,
} from './payload.js';
export {
  loadTrustedRoot,
  parseTrustedRoot,
  trustedRootFrom,
  DEFAULT_TRUSTED_ROOT,
  type TrustedRoot,
} from './trust.js';
export {
  verifySignatureLayer,
  ANNOTATION,
  type SignatureLayer,
  type SignatureResult,
  type SignaturePolicy,
} from './verify.js';
export { attachmentTag, parseSigstoreJson, readDirImage } from './sources.js';
export { canonicalJson } from './rekor.js';
export {
  attachBundle,
  readBundles,
  bundleToLayer,
  makeBundle,
  BUNDLE_MEDIA_TYPE,
  COSIGN_SIGN_PREDICATE,
} from './bundle.js';
export { buildPolicy, type VerifyOptions } from './policy.js';
export { signImage, dockerReference, type SignOptions, type SignResult } from './sign.js';
export { attachmentManifest, attachmentConfig, descriptorJson } from './layout.js';
export {
  attestImage,
  verifyImageAttestations,
  verifyAttestationLayer,
  predicateTypeFor,
  pae,
  PREDICATE_TYPES,
  DSSE_MEDIA_TYPE,
  type AttestOptions,
  type AttestationResult,
  type VerifyAttestationOptions,
  type VerifyAttestationsResult,
} from './attest.js';

export interface VerifyResult {
  /** The image digest the signatures were checked against. */
  digest: string;
  verified: boolean;
  signatures: SignatureResult[];
  errors: string[];
}

function summarize(digest: string, signatures: SignatureResult[], noneWhy: string): VerifyResult {
  const verified = signatures.some((s) => s.verified);
  const errors: string[] = [];
  if (!signatures.length) errors.push(noneWhy);
  else if (!verified)
    signatures.forEach((s, i) =>
      errors.push(`signature ${i + 1}${s.source ? ` (${s.source})` : ''}: ${s.errors.join('; ')}`),
    );
  return { digest, verified, signatures, errors };
}

/** Verifies layers already read (used for dir: images and by tests). */
export function verifyLayers(
  layers: SignatureLayer[],
  digest: string,
  opts: VerifyOptions,
  reference?: string,
  noneWhy = 'no signatures found',
): VerifyResult {
  const policy = buildPolicy(opts, digest, reference);
  return summarize(
    digest,
    layers.map((l) => verifySignatureLayer(l, policy)),
    noneWhy,
  );
}

export function formatRef(r: ImageReference): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** Resolves a tag to the digest cosign signs (the top-level manifest or index digest). */
export async function resolveDigest(client: RegistryClient, r: ImageReference): Promise<string> {
  const m = await client.getManifest(r.repository, r.digest ?? r.tag!);
  return m.digest;
}

/**
 * Verifies the cosign signatures of an image (see the module comment). For "dir:PATH" the
 * signatures are containers/image's signature-N files and `reference` (opts.matchReference) is
 * the text after a second colon: "dir:PATH:host/repo:tag" is not supported, pass matchReference's
 * value through `referenceForDir`.
 */
export async function verifyImageSignatures(
  ref: string | ImageReference,
  opts: VerifyOptions & { referenceForDir?: string; bundles?: boolean } = {},
): Promise<VerifyResult> {
  if (typeof ref === 'string' && ref.startsWith('dir:')) {
    const img = await readDirImage(ref.slice(4));
    return verifyLayers(
      img.signatures,
      img.digest,
      opts,
      opts.referenceForDir,
      img.otherSignatures
        ? `no sigstore signatures in ${ref} (${img.otherSignatures} of another kind)`
        : `no signatures in ${ref}`,
    );
  }
  const r = typeof ref === 'string' ? parseImageReference(ref) : ref;
  const client = new RegistryClient(r.registry, opts);
  try {
    const digest = await resolveDigest(client, r);
    const policy = buildPolicy(opts, digest, formatRef(r));
    const tag = attachmentTag(digest, 'sig');
    const m = await getAttachmentManifest(client, r.repository, tag);
    const layers = m ? await readAttachmentLayers(client, r.repository, m) : [];
    const results = layers.map((l) => verifySignatureLayer(l, policy));
    if (opts.bundles !== false) {
      const b = await readBundles(r, digest, opts);
      for (const l of b.layers) {
        if (l.mediaType === 'invalid') {
          results.push({ verified: false, source: l.source, errors: [l.source ?? 'unreadable bundle'] });
          continue;
        }
        const a = verifyAttestationLayer(l, { ...opts, type: COSIGN_SIGN_PREDICATE }, digest);
        results.push({
          ...a,
          source: `${l.source} (via ${b.via === 'tag' ? `tag ${attachmentTag(digest, '')}` : 'referrers API'})`,
        });
      }
    }
    return summarize(
      digest,
      results,
      `no signatures found for ${r.registry}/${r.repository}@${digest} (no tag ${tag})`,
    );
  } finally {
    await client.close();
  }
}
