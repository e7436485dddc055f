/**
 * IP addresses and CIDR blocks (IPv4 and IPv6) as bigints, for NetworkPolicy ipBlock matching.
 */
import { BulwarkError } from '../core/errors.js';

export interface Ip {
  family: 4 | 6;
  value: bigint;
}

export interface Cidr {
  family: 4 | 6;
  /** network address (host bits cleared) */
  net: bigint;
  prefix: number;
  text: string;
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseV6(s: string): bigint | undefined {
  if (s.includes('%')) s = s.slice(0, s.indexOf('%'));
  // an embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const v4 = parseV4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    s = `${s.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const total = head.length + rest.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const all = [...head, ...Array<string>(8 - total).fill('0'), ...rest];
  let v = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  return v;
}

/** Parses an IPv4 or IPv6 address; undefined when it is not one. */
export function parseIp(s: string): Ip | undefined {
  if (s.includes(':')) {
    const v = parseV6(s);
    return v === undefined ? undefined : { family: 6, value: v };
  }
  const v = parseV4(s);
  return v === undefined ? undefined : { family: 4, value: v };
}

/** Parses "10.0.0.0/8" or "fd00::/64" (a bare address is a host block). Throws PARSE naming `where`. */
export function parseCidr(s: string, where = 'cidr'): Cidr {
  const [addr, pfx, extra] = String(s).split('/');
  const ip = addr !== undefined && extra === undefined ? parseIp(addr) : undefined;
  const bits = ip?.family === 6 ? 128 : 32;
  const prefix = pfx === undefined ? bits : /^\d{1,3}$/.test(pfx) ? Number(pfx) : NaN;
  if (!ip || !(prefix >= 0 && prefix <= bits))
    throw new BulwarkError('PARSE', `${where}: invalid CIDR ${JSON.stringify(s)}`, { subject: where });
  const shift = BigInt(bits - prefix);
  return { family: ip.family, net: (ip.value >> shift) << shift, prefix, text: s };
}

export function cidrContains(c: Cidr, ip: Ip): boolean {
  if (c.family !== ip.family) return false;
  const shift = BigInt((c.family === 4 ? 32 : 128) - c.prefix);
  return ip.value >> shift === c.net >> shift;
}

/** True when `inner` lies entirely inside `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return (
    inner.family === outer.family &&
    inner.prefix >= outer.prefix &&
    cidrContains(outer, { family: inner.family, value: inner.net })
  );
}

/** The host block of an address: a.b.c.d/32 or x::y/128. */
export function hostCidr(ip: string): string {
  return ip.includes(':') ? `${ip}/128` : `${ip}/32`;
}
