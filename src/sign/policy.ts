/** Verification options → a signature policy (keys parsed, trusted root loaded). */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { BulwarkError } from '../core/errors.js';
import type { RegistryOptions } from '../image/index.js';
import { toPublicKeys } from './keys.js';
import { loadTrustedRoot, splitPemCertificates, type TrustedRoot } from './trust.js';
import type { IdentityPolicy, SignaturePolicy } from './verify.js';

export interface VerifyOptions extends RegistryOptions, IdentityPolicy {
  keys?: (KeyObject | string)[];
  /** Always true in effect; see the module comment. */
  offline?: boolean;
  trustedRoot?: TrustedRoot | string;
  /** PEM CA certificates (private PKI instead of Fulcio). */
  caRoots?: string | X509Certificate[];
  caIntermediates?: string | X509Certificate[];
  requireTlog?: boolean;
  /** cosign --insecure-ignore-tlog: SETs are neither required nor checked. */
  ignoreTlog?: boolean;
  /** Also check the payload's docker-reference against the image reference (cosign does not by default). */
  matchReference?: 'repository' | 'exact';
}

function certs(v: string | X509Certificate[] | undefined, what: string): X509Certificate[] | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'string' ? splitPemCertificates(v, what) : v;
}

/** Turns options into a signature policy (keys parsed, trusted root loaded). */
export function buildPolicy(opts: VerifyOptions, digest: string, reference?: string): SignaturePolicy {
  const keys = opts.keys?.length ? toPublicKeys(opts.keys) : undefined;
  if (!keys && opts.certificateIdentity === undefined && opts.certificateIdentityRegexp === undefined)
    throw new BulwarkError('USAGE', 'verification needs a public key or an expected certificate identity');
  const trustedRoot =
    typeof opts.trustedRoot === 'object' ? opts.trustedRoot : loadTrustedRoot(opts.trustedRoot ?? undefined);
  return {
    keys,
    trustedRoot,
    caRoots: certs(opts.caRoots, 'CA roots'),
    caIntermediates: certs(opts.caIntermediates, 'CA intermediates'),
    requireTlog: opts.requireTlog,
    ignoreTlog: opts.ignoreTlog,
    certificateIdentity: opts.certificateIdentity,
    certificateIdentityRegexp: opts.certificateIdentityRegexp,
    certificateOidcIssuer: opts.certificateOidcIssuer,
    certificateOidcIssuerRegexp: opts.certificateOidcIssuerRegexp,
    digest,
    reference:
      opts.matchReference && reference ? { value: reference, match: opts.matchReference } : undefined,
  };
}
