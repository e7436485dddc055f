/**
 * X.509 for keyless signatures: the signer's identity (SANs, Fulcio's OIDC issuer extension) and
 * a chain from the leaf through the signature's intermediates to a trusted CA, every certificate
 * valid at the time of signing (the Rekor integrated time), as cosign checks it.
 */
import type { X509Certificate } from 'node:crypto';
import { certificateExtensions, derString } from './der.js';
import type { CertificateAuthority } from './trust.js';
import { withinValidity } from './trust.js';

/** Fulcio's OIDC issuer: v1 (raw bytes) and v2 (DER UTF8String). */
const OID_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const OID_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const EKU_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';

export interface CertificateIdentity {
  /** Subject alternative names without their type prefix (emails, URIs, DNS names). */
  sans: string[];
  /** OIDC issuer from the Fulcio extension, when present. */
  oidcIssuer?: string;
}

export function certificateIdentity(cert: X509Certificate): CertificateIdentity {
  const sans: string[] = [];
  const re = /(?:^|,\s*)(email|URI|DNS|IP Address):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (let m; (m = re.exec(cert.subjectAltName ?? ''));) {
    let v = m[2]!;
    if (v.startsWith('"')) {
      try {
        v = JSON.parse(v) as string;
      } catch {
        /* keep as written */
      }
    }
    sans.push(v);
  }
  const ext = certificateExtensions(cert.raw);
  const v2 = ext.get(OID_ISSUER_V2);
  const v1 = ext.get(OID_ISSUER_V1);
  const oidcIssuer = (v2 && derString(v2)) ?? (v1 ? v1.toString('utf8') : undefined);
  return { sans, oidcIssuer };
}

const dateOf = (s: string) => new Date(s);

function validAt(c: X509Certificate, t: Date): boolean {
  return dateOf(c.validFrom) <= t && t <= dateOf(c.validTo);
}

function describe(c: Pick<X509Certificate, 'subject' | 'subjectAltName'>): string {
  const subject = (c.subject ?? '').replace(/\n/g, ', ');
  return subject ? `"${subject}"` : c.subjectAltName ? `for ${c.subjectAltName}` : '(empty subject)';
}

/**
 * CA-to-CA links already verified (intermediate signed by root): the same few for every signature,
 * so their (P-384) signature checks are done once. Leaf certificates are always checked.
 */
const caLinks = new Map<string, boolean>();

function signedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  if (!child.ca) return child.verify(issuer.publicKey);
  const k = `${child.fingerprint256}/${issuer.fingerprint256}`;
  let ok = caLinks.get(k);
  if (ok === undefined) {
    ok = child.verify(issuer.publicKey);
    if (caLinks.size >= 256) caLinks.clear();
    caLinks.set(k, ok);
  }
  return ok;
}

/**
 * Checks that `leaf` chains to one of `cas` (through `intermediates` and the CAs' own chains) with
 * every certificate valid at `at`. Returns undefined when it does, else why not.
 */
export function verifyChain(
  leaf: X509Certificate,
  intermediates: X509Certificate[],
  cas: CertificateAuthority[],
  at: Date,
): string | undefined {
  if (!validAt(leaf, at))
    return `certificate ${describe(leaf)} is not valid at ${at.toISOString()} (valid ${leaf.validFrom} to ${leaf.validTo})`;
  const eku = leaf.keyUsage;
  if (eku && eku.length && !eku.includes(EKU_CODE_SIGNING))
    return `certificate ${describe(leaf)} is not for code signing (extended key usage ${eku.join(', ')})`;
  const anchors = cas.filter((ca) => withinValidity(ca.validFor, at)).flatMap((ca) => ca.certificates);
  if (!anchors.length) return `no trusted certificate authority is valid at ${at.toISOString()}`;
  const isAnchor = (c: X509Certificate) => anchors.some((a) => a.raw.equals(c.raw));
  const pool = [...intermediates, ...anchors];
  let cur = leaf;
  for (let depth = 0; depth < 10; depth++) {
    const child = cur;
    const issuer = pool.find(
      (c) => !c.raw.equals(child.raw) && child.checkIssued(c) && c.ca && signedBy(child, c),
    );
    if (!issuer) {
      if (isAnchor(cur) && depth > 0) return undefined;
      return `certificate ${describe(cur)} does not chain to a trusted CA (issuer ${describe({ subject: cur.issuer, subjectAltName: undefined })} not found or its signature does not verify)`;
    }
    if (!validAt(issuer, at)) return `CA certificate ${describe(issuer)} is not valid at ${at.toISOString()}`;
    if (isAnchor(issuer)) return undefined;
    cur = issuer;
  }
  return `certificate chain of ${describe(leaf)} is longer than 10`;
}
