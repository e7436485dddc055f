/**
 * Login throttling that slows password guessing without letting an attacker lock the real user out.
 *
 * Three budgets, all in memory (per process), all bounded in size:
 * - per (source address, account): `pairFree` failures cost nothing, then each further failure blocks
 *   that pair for an exponentially growing time (pairBaseMs, 2x, 4x ... up to pairMaxMs). Another
 *   source is not affected, so the user logging in from their own address still gets in.
 * - per source: `sourceMax` failures within `windowMs` across all accounts block the source (a spray
 *   of many user names from one address).
 * - per account: when an account collects `accountMax` failures within `windowMs` from all sources
 *   together (a distributed guess), every source that has already failed for it is blocked for the
 *   rest of the window; a source that has not failed, or that logged in successfully before, still
 *   gets its attempts.
 * A blocked attempt is refused before the password is checked and does not count as a failure.
 */

import { isIP } from 'node:net';

export interface LoginLimits {
  pairFree: number;
  pairBaseMs: number;
  pairMaxMs: number;
  sourceMax: number;
  accountMax: number;
  windowMs: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  pairFree: 5,
  pairBaseMs: 2_000,
  pairMaxMs: 15 * 60_000,
  sourceMax: 30,
  accountMax: 100,
  windowMs: 15 * 60_000,
};

export type ThrottleVerdict =
  { ok: true } | { ok: false; reason: 'pair' | 'source' | 'account'; retryAfterMs: number };

interface Pair {
  failures: number;
  last: number;
}

/** Most entries kept per map; beyond it the oldest are dropped (a spray cannot grow memory). */
const MAX_ENTRIES = 50_000;

export class LoginThrottle {
  readonly limits: LoginLimits;
  private pairs = new Map<string, Pair>();
  private sources = new Map<string, number[]>();
  private accounts = new Map<string, number[]>();
  private known = new Map<string, Set<string>>();

  constructor(
    limits: Partial<LoginLimits> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.limits = { ...DEFAULT_LOGIN_LIMITS, ...limits };
  }

  private key(source: string, account: string): string {
    return `${source}\u0000${account}`;
  }

  private pair(source: string, account: string): Pair | undefined {
    const k = this.key(source, account);
    const p = this.pairs.get(k);
    if (p && p.last < this.now() - this.limits.windowMs) {
      this.pairs.delete(k);
      return undefined;
    }
    return p;
  }

  private recent(map: Map<string, number[]>, k: string): number[] {
    const cut = this.now() - this.limits.windowMs;
    const list = map.get(k);
    if (!list) return [];
    while (list.length && list[0]! <= cut) list.shift();
    if (!list.length) map.delete(k);
    return list;
  }

  /** Blocked for this (source, account)? */
  check(source: string, account: string): ThrottleVerdict {
    const L = this.limits;
    const t = this.now();
    const src = this.recent(this.sources, source);
    if (src.length >= L.sourceMax)
      return { ok: false, reason: 'source', retryAfterMs: src[src.length - L.sourceMax]! + L.windowMs - t };
    const p = this.pair(source, account);
    if (p && p.failures > L.pairFree) {
      const wait = Math.min(L.pairBaseMs * 2 ** (p.failures - L.pairFree - 1), L.pairMaxMs);
      if (t < p.last + wait) return { ok: false, reason: 'pair', retryAfterMs: p.last + wait - t };
    }
    if (
      p &&
      this.recent(this.accounts, account).length >= L.accountMax &&
      !this.known.get(account)?.has(source)
    )
      return { ok: false, reason: 'account', retryAfterMs: p.last + L.windowMs - t };
    return { ok: true };
  }

  fail(source: string, account: string): void {
    const t = this.now();
    const k = this.key(source, account);
    const p = this.pair(source, account) ?? { failures: 0, last: t };
    p.failures++;
    p.last = t;
    this.pairs.delete(k);
    this.pairs.set(k, p);
    bound(this.pairs);
    for (const [map, key, max] of [
      [this.sources, source, this.limits.sourceMax],
      [this.accounts, account, this.limits.accountMax],
    ] as const) {
      const list = this.recent(map, key);
      list.push(t);
      if (list.length > max) list.splice(0, list.length - max);
      map.set(key, list);
      bound(map);
    }
  }

  succeed(source: string, account: string): void {
    this.pairs.delete(this.key(source, account));
    let set = this.known.get(account);
    if (!set) {
      set = new Set();
      this.known.set(account, set);
      bound(this.known);
    }
    set.add(source);
    if (set.size > 100) set.delete(set.values().next().value!);
  }
}

function bound(map: Map<string, unknown>): void {
  while (map.size > MAX_ENTRIES) map.delete(map.keys().next().value!);
}

/**
 * The source a throttle counts: an IPv4 address (IPv4-mapped IPv6 unwrapped), or the /64 of an
 * IPv6 address — one host usually has a whole /64, so counting single addresses would give an
 * attacker 2^64 fresh sources.
 */
export function throttleSource(ip: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4) return v4[1]!;
  if (isIP(ip) !== 6) return ip;
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
