/**
 * The real SignatureVerifier: cosign-compatible verification through src/sign
 * (verifyImageSignatures: the legacy `sha256-<hex>.sig` layout, key signatures, Rekor SETs from the
 * bundle annotation, offline). Called only by the ImageCache's background fills.
 */
import { verifyImageSignatures, type VerifyOptions } from '../sign/index.js';
import type { SignatureVerifier } from './images.js';

export function cosignVerifier(opts: VerifyOptions): SignatureVerifier {
  return {
    async verify(ref) {
      const r = await verifyImageSignatures(ref, opts);
      return { digest: r.digest, verified: r.verified, errors: r.errors };
    },
  };
}
