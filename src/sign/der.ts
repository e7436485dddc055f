/**
 * A minimal DER reader: just enough to find X.509 v3 extensions by OID (Fulcio's OIDC issuer and
 * friends), which node:crypto's X509Certificate does not expose. Bounded: every length is checked
 * against the buffer it lives in.
 */
import { BulwarkError } from '../core/errors.js';

export interface Tlv {
  tag: number;
  /** Start of the value within the buffer. */
  start: number;
  end: number;
  /** Whole element (header + value). */
  headerStart: number;
}

export function readTlv(buf: Buffer, pos: number, limit = buf.length, what = 'DER'): Tlv {
  if (pos + 2 > limit) throw new BulwarkError('PARSE', `${what}: truncated DER element`);
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f)
    throw new BulwarkError('PARSE', `${what}: multi-byte DER tags are not supported`);
  let len = buf[pos + 1]!;
  let p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) throw new BulwarkError('PARSE', `${what}: bad DER length`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  if (p + len > limit) throw new BulwarkError('PARSE', `${what}: DER element runs past its container`);
  return { tag, start: p, end: p + len, headerStart: pos };
}

/** The children of a constructed element. */
export function children(buf: Buffer, t: Tlv, what = 'DER'): Tlv[] {
  const out: Tlv[] = [];
  for (let p = t.start; p < t.end;) {
    const c = readTlv(buf, p, t.end, what);
    out.push(c);
    p = c.end;
  }
  return out;
}

export function decodeOid(b: Buffer): string {
  if (b.length === 0) return '';
  const parts: number[] = [Math.floor(b[0]! / 40), b[0]! % 40];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if (!(b[i]! & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** X.509 v3 extensions of a DER certificate: OID → extnValue (the OCTET STRING's content). */
export function certificateExtensions(der: Buffer): Map<string, Buffer> {
  const what = 'certificate';
  const cert = readTlv(der, 0, der.length, what);
  const tbs = children(der, cert, what)[0];
  if (!tbs) throw new BulwarkError('PARSE', `${what}: no tbsCertificate`);
  const out = new Map<string, Buffer>();
  for (const f of children(der, tbs, what)) {
    if (f.tag !== 0xa3) continue; // [3] extensions
    const seq = children(der, f, what)[0];
    if (!seq) break;
    for (const ext of children(der, seq, what)) {
      const parts = children(der, ext, what);
      const oid = parts[0];
      const value = parts[parts.length - 1];
      if (!oid || !value || oid.tag !== 0x06 || value.tag !== 0x04) continue;
      out.set(decodeOid(der.subarray(oid.start, oid.end)), der.subarray(value.start, value.end));
    }
  }
  return out;
}

/** The string inside a DER UTF8String / IA5String / PrintableString, or undefined. */
export function derString(b: Buffer): string | undefined {
  try {
    const t = readTlv(b, 0);
    if (t.end !== b.length || ![0x0c, 0x16, 0x13].includes(t.tag)) return undefined;
    return b.subarray(t.start, t.end).toString('utf8');
  } catch {
    return undefined;
  }
}
