/**
 * SecRule operators. Each compiles once at load time into a matcher over a latin1 value; a match
 * may report captures (for the `capture` action) and the matched data (for logs).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { LiteralSet } from './aho.js';
import { compileRegex } from './regex.js';
import { detectSqli, detectXss } from './libinjection.js';

export interface OpResult {
  captures?: string[];
  data?: string;
}

export interface Operator {
  name: string;
  param: string;
  /** param has %{...} macros that must be expanded per transaction */
  dynamic: boolean;
  /** returns a result on match, null otherwise; `param` is the expanded parameter when dynamic */
  match(value: string, param: string, wantCapture: boolean): OpResult | null;
  /** literal pre-filter: lowercase strings of which a matching value contains one (after transformations) */
  prefilter?: string[] | null;
  /** ids of the prefilter literals in the rule set's LiteralSet (set by compileRules) */
  pfIds?: number[];
}

export class OperatorError extends Error {}

function num(s: string): number {
  const n = parseInt(s, 10);
  return Number.isNaN(n) ? 0 : n;
}

function ipMatcher(list: string): (ip: string) => boolean {
  const nets: { v6: boolean; bits: bigint; mask: bigint }[] = [];
  const toBig = (ip: string): { v6: boolean; n: bigint } | null => {
    const k = isIP(ip);
    if (k === 4) return { v6: false, n: ip.split('.').reduce((a, b) => (a << 8n) | BigInt(Number(b)), 0n) };
    if (k === 6) {
      const [h, t] = ip.includes('::') ? ip.split('::') : [ip, undefined];
      const hp = h ? h.split(':') : [];
      const tp = t !== undefined && t !== '' ? t.split(':') : [];
      const fill = t !== undefined ? Array(8 - hp.length - tp.length).fill('0') : [];
      const all = [...hp, ...fill, ...tp];
      return { v6: true, n: all.reduce((a, b) => (a << 16n) | BigInt(parseInt(b || '0', 16)), 0n) };
    }
    return null;
  };
  for (const item of list.split(/[\s,]+/).filter(Boolean)) {
    const [addr, len] = item.split('/');
    const b = toBig(addr!);
    if (!b) throw new OperatorError(`@ipMatch: bad address ${item}`);
    const total = b.v6 ? 128 : 32;
    const l = len === undefined ? total : Number(len);
    const mask = l === 0 ? 0n : ((1n << BigInt(l)) - 1n) << BigInt(total - l);
    nets.push({ v6: b.v6, bits: b.n & mask, mask });
  }
  return (ip) => {
    const b = toBig(ip);
    if (!b) return false;
    return nets.some((n) => n.v6 === b.v6 && (b.n & n.mask) === n.bits);
  };
}

function parseByteRanges(p: string): Uint8Array {
  const ok = new Uint8Array(256);
  for (const part of p.split(',')) {
    const t = part.trim();
    if (!t) continue;
    const [a, b] = t.split('-');
    const lo = Number(a);
    const hi = b === undefined ? lo : Number(b);
    if (!(lo >= 0 && hi <= 255 && lo <= hi)) throw new OperatorError(`@validateByteRange: bad range ${t}`);
    for (let i = lo; i <= hi; i++) ok[i] = 1;
  }
  return ok;
}

function validUtf8(s: string): boolean {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    let len: number;
    let min: number;
    let cp: number;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      min = 0x80;
      cp = c & 0x1f;
    } else if ((c & 0xf0) === 0xe0) {
      len = 3;
      min = 0x800;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      min = 0x10000;
      cp = c & 0x07;
    } else return false;
    if (i + len > n) return false;
    for (let k = 1; k < len; k++) {
      const b = s.charCodeAt(i + k);
      if ((b & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len - 1;
  }
  return true;
}

function readPhraseFile(file: string): string[] {
  const text = readFileSync(file, 'latin1');
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** Builds an operator from `@name param` (or a bare regex). `baseDir` resolves data files. */
export function compileOperator(spec: string, baseDir: string): { op: Operator; negated: boolean } {
  let s = spec;
  let negated = false;
  if (s.startsWith('!')) {
    negated = true;
    s = s.slice(1);
  }
  let name = 'rx';
  let param = s;
  if (s.startsWith('@')) {
    const sp = s.search(/\s/);
    name = (sp < 0 ? s.slice(1) : s.slice(1, sp)).toLowerCase();
    param = sp < 0 ? '' : s.slice(sp + 1);
  }
  const dynamic = param.includes('%{');
  const mk = (m: Operator['match'], extra: Partial<Operator> = {}): { op: Operator; negated: boolean } => ({
    op: { name, param, dynamic, match: m, ...extra },
    negated,
  });
  switch (name) {
    case 'rx': {
      if (dynamic) {
        const cache = new Map<string, RegExp>();
        return mk((v, p) => {
          let re = cache.get(p);
          if (!re) {
            re = compileRegex(p).re;
            if (cache.size < 100) cache.set(p, re);
          }
          const m = re.exec(v);
          return m ? { captures: [...m].map((x) => x ?? ''), data: m[0] } : null;
        });
      }
      let c;
      try {
        c = compileRegex(param);
      } catch (e) {
        throw new OperatorError(`@rx: ${(e as Error).message}`);
      }
      const re = c.re;
      const pf = c.prefilter;
      return mk(
        (v, _p, cap) => {
          if (!cap) {
            re.lastIndex = 0;
            const m = re.exec(v);
            return m ? { data: m[0] } : null;
          }
          const m = re.exec(v);
          return m ? { captures: [...m].map((x) => x ?? ''), data: m[0] } : null;
        },
        { prefilter: pf },
      );
    }
    case 'pm':
    case 'pmf':
    case 'pmfromfile': {
      let phrases: string[];
      if (name === 'pm') phrases = param.split(/\s+/).filter(Boolean);
      else {
        phrases = [];
        for (const f of param.split(/\s+/).filter(Boolean)) {
          const path = isAbsolute(f) ? f : resolve(baseDir, f);
          try {
            phrases.push(...readPhraseFile(path));
          } catch (e) {
            throw new OperatorError(`@${name}: ${path}: ${(e as Error).message}`);
          }
        }
      }
      const list = phrases.filter((p) => p !== '');
      const ls = new LiteralSet(list);
      return mk((v) => {
        const id = ls.first(v);
        if (id < 0) return null;
        // the matched text as it appears in the value
        const p = list[id]!;
        return { data: p, captures: [p] };
      });
    }
    case 'streq':
      return mk((v, p) => (v === p ? { data: v } : null));
    case 'beginswith':
      return mk((v, p) => (v.startsWith(p) ? { data: p } : null));
    case 'endswith':
      return mk((v, p) => (v.endsWith(p) ? { data: p } : null));
    case 'contains':
      return mk((v, p) => (v.includes(p) ? { data: p } : null));
    case 'containsword':
      return mk((v, p) => {
        if (p === '') return { data: '' };
        let i = v.indexOf(p);
        while (i >= 0) {
          const b = v[i - 1];
          const a = v[i + p.length];
          if ((b === undefined || !/\w/.test(b)) && (a === undefined || !/\w/.test(a))) return { data: p };
          i = v.indexOf(p, i + 1);
        }
        return null;
      });
    case 'within':
      return mk((v, p) => (v === '' ? null : p.includes(v) ? { data: v } : null));
    case 'eq':
      return mk((v, p) => (num(v) === num(p) ? { data: v } : null));
    case 'ne':
      return mk((v, p) => (num(v) !== num(p) ? { data: v } : null));
    case 'gt':
      return mk((v, p) => (num(v) > num(p) ? { data: v } : null));
    case 'ge':
      return mk((v, p) => (num(v) >= num(p) ? { data: v } : null));
    case 'lt':
      return mk((v, p) => (num(v) < num(p) ? { data: v } : null));
    case 'le':
      return mk((v, p) => (num(v) <= num(p) ? { data: v } : null));
    case 'unconditionalmatch':
      return mk((v) => ({ data: v }));
    case 'nomatch':
      return mk(() => null);
    case 'ipmatch':
    case 'ipmatchfromfile':
    case 'ipmatchf': {
      const list =
        name === 'ipmatch'
          ? param
          : readPhraseFile(isAbsolute(param) ? param : resolve(baseDir, param)).join(' ');
      const m = ipMatcher(list);
      return mk((v) => (m(v) ? { data: v } : null));
    }
    case 'validatebyterange': {
      const ok = parseByteRanges(param);
      return mk((v) => {
        for (let i = 0; i < v.length; i++) {
          const c = v.charCodeAt(i) & 0xff;
          if (!ok[c]) return { data: v[i] };
        }
        return null;
      });
    }
    case 'validateurlencoding':
      return mk((v) => {
        for (let i = 0; i < v.length; i++) {
          if (v[i] !== '%') continue;
          const a = v[i + 1];
          const b = v[i + 2];
          if (a === undefined || b === undefined) return { data: v.slice(i) };
          if (!/[0-9a-fA-F]/.test(a) || !/[0-9a-fA-F]/.test(b)) return { data: v.slice(i, i + 3) };
          i += 2;
        }
        return null;
      });
    case 'validateutf8encoding':
      return mk((v) => (validUtf8(v) ? null : { data: v }));
    case 'detectsqli':
      return mk((v) => {
        const fp = detectSqli(v);
        return fp === null ? null : { data: fp, captures: [fp] };
      });
    case 'detectxss':
      return mk((v) => (detectXss(v) ? { data: v } : null));
    case 'strmatch':
      return mk((v, p) => (v.includes(p) ? { data: p } : null));
    case 'verifycc': {
      // a credit card number matching the regex that passes the Luhn check
      const re = compileRegex(param).re;
      return mk((v) => {
        const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
        for (const m of v.matchAll(g)) {
          const d = m[0].replace(/\D/g, '');
          if (d.length < 13 || d.length > 19) continue;
          let sum = 0;
          for (let i = 0; i < d.length; i++) {
            let x = d.charCodeAt(d.length - 1 - i) - 48;
            if (i % 2 === 1) x = x * 2 > 9 ? x * 2 - 9 : x * 2;
            sum += x;
          }
          if (sum % 10 === 0) return { data: m[0] };
        }
        return null;
      });
    }
    // operators that need external data or services Bulwark does not have (GeoIP, DNS block lists,
    // scanners, DTD/schema files): accepted, and they never match
    case 'geolookup':
    case 'rbl':
    case 'inspectfile':
    case 'fuzzyhash':
    case 'validatedtd':
    case 'validateschema':
    case 'verifyssn':
    case 'verifycpf':
    case 'gsblookup':
      return mk(() => null);
    default:
      throw new OperatorError(`unsupported operator @${name}`);
  }
}
