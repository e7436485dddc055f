/**
 * Verification of one cosign signature (a layer of a `sha256-<hex>.sig` manifest, or a
 * containers/image sigstore attachment): the payload's signature with a public key or a
 * certificate, the Rekor SET (offline, from the bundle annotation), the certificate chain at the
 * signing time and the signer identity, then the payload's claims (the image digest, optionally
 * the reference).
 */
import { verify as cryptoVerify, X509Certificate, type KeyObject } from 'node:crypto';
import { isBulwarkError } from '../core/errors.js';
import { certificateIdentity, verifyChain } from './certs.js';
import { hashFor } from './keys.js';
import { parseSimpleSigning, SIMPLESIGNING_MEDIA_TYPE, type SimpleSigningPayload } from './payload.js';
import { parseRekorBundle, verifySet, type TlogEntry } from './rekor.js';
import { splitPemCertificates, type CertificateAuthority, type TrustedRoot } from './trust.js';

export const ANNOTATION = {
  signature: 'dev.cosignproject.cosign/signature',
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  bundle: 'dev.sigstore.cosign/bundle',
  predicateType: 'predicateType',
} as const;

/** One signature as stored: the layer's media type, its content (the payload) and annotations. */
export interface SignatureLayer {
  mediaType: string;
  payload: Buffer;
  annotations: Record<string, string>;
  /** Layer digest, or a file name for signatures read from disk. */
  source?: string;
}

export interface IdentityPolicy {
  /** Exact SAN (email, URI, DNS name) of the signing certificate. */
  certificateIdentity?: string;
  certificateIdentityRegexp?: string | RegExp;
  /** Exact OIDC issuer (Fulcio extension). */
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string | RegExp;
}

export interface SignaturePolicy extends IdentityPolicy {
  keys?: KeyObject[];
  trustedRoot: TrustedRoot;
  /** CA certificates for certificates not issued by Fulcio (cosign --ca-roots / --ca-intermediates). */
  caRoots?: X509Certificate[];
  caIntermediates?: X509Certificate[];
  /**
   * Require a Rekor SET. Default: yes for Fulcio certificates (their validity is checked at the
   * integrated time), no for keys and private CAs (a SET present is still verified).
   */
  requireTlog?: boolean;
  /** Ignore transparency log entries entirely, present or not (cosign --insecure-ignore-tlog). */
  ignoreTlog?: boolean;
  /** The image digest the payload must name. */
  digest: string;
  /** Optionally also the reference: its repository ("repository"), or repository and tag ("exact"). */
  reference?: { value: string; match: 'repository' | 'exact' };
}

export interface SignatureResult {
  verified: boolean;
  /** Where it was read from (layer digest or file). */
  source?: string;
  /** The parsed payload (what `cosign verify` prints), when it parsed. */
  payload?: SimpleSigningPayload;
  /** How the signer was established. */
  signer?:
    | { kind: 'key'; keyIndex: number }
    | { kind: 'certificate'; subject: string[]; issuer?: string; certificate: string };
  tlog?: TlogEntry;
  /** For Sigstore bundle signatures: the in-toto statement that was signed. */
  statement?: unknown;
  errors: string[];
}

function toRegExp(r: string | RegExp): RegExp {
  return typeof r === 'string' ? new RegExp(`^(?:${r})$`) : r;
}

/** Errors for an identity mismatch, empty when the certificate's identity is accepted. */
export function checkIdentity(cert: X509Certificate, p: IdentityPolicy): string[] {
  const id = certificateIdentity(cert);
  const errs: string[] = [];
  const sanText = id.sans.join(', ') || '(none)';
  if (p.certificateIdentity !== undefined && !id.sans.includes(p.certificateIdentity))
    errs.push(`certificate identity ${sanText} is not the expected ${p.certificateIdentity}`);
  if (p.certificateIdentityRegexp !== undefined) {
    const re = toRegExp(p.certificateIdentityRegexp);
    if (!id.sans.some((s) => re.test(s))) errs.push(`certificate identity ${sanText} does not match ${re}`);
  }
  if (p.certificateOidcIssuer !== undefined && id.oidcIssuer !== p.certificateOidcIssuer)
    errs.push(
      `certificate OIDC issuer ${id.oidcIssuer ?? '(none)'} is not the expected ${p.certificateOidcIssuer}`,
    );
  if (p.certificateOidcIssuerRegexp !== undefined) {
    const re = toRegExp(p.certificateOidcIssuerRegexp);
    if (!re.test(id.oidcIssuer ?? ''))
      errs.push(`certificate OIDC issuer ${id.oidcIssuer ?? '(none)'} does not match ${re}`);
  }
  return errs;
}

function verifyWith(key: KeyObject, data: Buffer, sig: Buffer): boolean {
  try {
    return cryptoVerify(hashFor(key), data, key, sig);
  } catch {
    return false;
  }
}

/** Repository part of a reference ("host/repo:tag@digest" → "host/repo"). */
export function repositoryOf(ref: string): string {
  const noDigest = ref.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/**
 * Verifies a signed blob: `signed` bytes, the base64 signature, optional certificate/chain/SET
 * annotations. Shared by image signatures and attestations (DSSE PAE bytes).
 */
export function verifySignedBytes(
  signed: Buffer,
  sig: Buffer,
  annotations: Record<string, string>,
  policy: Omit<SignaturePolicy, 'digest' | 'reference'>,
  rekorSigned: Buffer = signed,
  rekorSig: Buffer = sig,
): Pick<SignatureResult, 'signer' | 'tlog' | 'errors'> {
  const errors: string[] = [];
  const out: Pick<SignatureResult, 'signer' | 'tlog' | 'errors'> = { errors };
  const bundleText = annotations[ANNOTATION.bundle];
  const certPem = annotations[ANNOTATION.certificate];
  let signerKey: KeyObject | undefined;
  let cert: X509Certificate | undefined;
  const keys = policy.keys ?? [];
  const keyless = keys.length === 0;
  if (!keyless) {
    const i = keys.findIndex((k) => verifyWith(k, signed, sig));
    if (i === -1) {
      errors.push(
        keys.length === 1
          ? 'signature does not verify with the given public key'
          : `signature does not verify with any of the ${keys.length} given public keys`,
      );
      return out;
    }
    signerKey = keys[i];
    out.signer = { kind: 'key', keyIndex: i };
  } else {
    if (!certPem) {
      errors.push(
        'no public key given and the signature has no certificate (dev.sigstore.cosign/certificate)',
      );
      return out;
    }
    try {
      cert = new X509Certificate(certPem);
    } catch (e) {
      errors.push(`signing certificate is unreadable (${(e as Error).message})`);
      return out;
    }
    if (!verifyWith(cert.publicKey, signed, sig)) {
      errors.push('signature does not verify with the public key of its certificate');
      return out;
    }
    signerKey = cert.publicKey;
    const id = certificateIdentity(cert);
    out.signer = { kind: 'certificate', subject: id.sans, issuer: id.oidcIssuer, certificate: certPem };
    if (policy.certificateIdentity === undefined && policy.certificateIdentityRegexp === undefined) {
      errors.push('keyless verification needs an expected certificate identity (--certificate-identity)');
    }
    errors.push(...checkIdentity(cert, policy));
  }

  const pki = Boolean(policy.caRoots?.length);
  const requireTlog = !policy.ignoreTlog && (policy.requireTlog ?? (keyless && !pki));
  let signedAt: Date | undefined;
  if (bundleText !== undefined && !policy.ignoreTlog) {
    const b = parseRekorBundle(bundleText);
    if (typeof b === 'string') errors.push(b);
    else {
      const e = verifySet(b, policy.trustedRoot, {
        signed: rekorSigned,
        signature: rekorSig,
        signer: signerKey!,
        cert,
      });
      if (typeof e === 'string') errors.push(e);
      else {
        out.tlog = e;
        signedAt = new Date(e.integratedTime * 1000);
      }
    }
  } else if (requireTlog) {
    errors.push(
      'no Rekor SET (dev.sigstore.cosign/bundle annotation) and a transparency log entry is required',
    );
  }

  if (cert) {
    let intermediates: X509Certificate[] = [];
    try {
      intermediates = [
        ...(annotations[ANNOTATION.chain]
          ? splitPemCertificates(annotations[ANNOTATION.chain]!, 'certificate chain')
          : []),
        ...(policy.caIntermediates ?? []),
      ];
    } catch (e) {
      errors.push(isBulwarkError(e) ? e.message : String(e));
    }
    const cas: CertificateAuthority[] = pki
      ? policy.caRoots!.map((c) => ({ uri: '', certificates: [c], validFor: {} }))
      : policy.trustedRoot.certificateAuthorities;
    const why = verifyChain(cert, intermediates, cas, signedAt ?? new Date());
    if (why) errors.push(why);
  }
  return out;
}

/** Verifies one signature layer against the policy; never throws for a bad signature. */
export function verifySignatureLayer(layer: SignatureLayer, policy: SignaturePolicy): SignatureResult {
  const res: SignatureResult = { verified: false, source: layer.source, errors: [] };
  if (layer.mediaType !== SIMPLESIGNING_MEDIA_TYPE) {
    res.errors.push(
      `not a cosign signature (media type ${layer.mediaType || '(none)'}, expected ${SIMPLESIGNING_MEDIA_TYPE})`,
    );
    return res;
  }
  const b64 = layer.annotations[ANNOTATION.signature];
  if (!b64) {
    res.errors.push(`no ${ANNOTATION.signature} annotation`);
    return res;
  }
  const sig = Buffer.from(b64, 'base64');
  const v = verifySignedBytes(layer.payload, sig, layer.annotations, policy);
  res.signer = v.signer;
  res.tlog = v.tlog;
  res.errors.push(...v.errors);
  if (res.errors.length) return res;
  try {
    res.payload = parseSimpleSigning(layer.payload);
  } catch (e) {
    res.errors.push(isBulwarkError(e) ? e.message : String(e));
    return res;
  }
  const signedDigest = res.payload.critical.image['docker-manifest-digest'];
  if (signedDigest !== policy.digest)
    res.errors.push(`signature is for image digest ${signedDigest}, not ${policy.digest}`);
  if (policy.reference) {
    const signedRef = res.payload.critical.identity['docker-reference'];
    const want =
      policy.reference.match === 'exact' ? policy.reference.value : repositoryOf(policy.reference.value);
    const got = policy.reference.match === 'exact' ? signedRef : repositoryOf(signedRef);
    if (got !== want)
      res.errors.push(`signature is for reference ${signedRef}, not ${policy.reference.value}`);
  }
  res.verified = res.errors.length === 0;
  return res;
}
