/**
 * Composer (Packagist) versions, as Composer orders them: the version is normalised the way
 * Composer's VersionParser does ("v1.2" -> "1.2.0.0", "1.0.0-b2" -> "1.0.0.0-beta2",
 * "1.0-pl1" -> "1.0.0.0-patch1", "2.x-dev" -> "2.9999999.9999999.9999999-dev") and then compared
 * with PHP's version_compare: dev < alpha = a < beta = b < RC = rc < (number) < patch = pl = p.
 * Branch names ("dev-main") have no order and are not valid here.
 */
import { compareDigits, invalidVersion } from './errors.js';
import type { VersionScheme } from './types.js';

const MODIFIER = '[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\\d+)*)?)?([.-]?dev)?';
const CLASSICAL = new RegExp(`^v?(\\d{1,5})(\\.\\d+)?(\\.\\d+)?(\\.\\d+)?${MODIFIER}$`, 'i');
const DATE = new RegExp(`^v?(\\d{4}(?:[.:-]?\\d{2}){1,6}(?:[.:-]?\\d{1,3}){0,2})${MODIFIER}$`, 'i');
const BRANCH = /^v?(\d+)(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?[.-]?dev$/i;

function expandStability(s: string): string {
  const l = s.toLowerCase();
  return { a: 'alpha', b: 'beta', p: 'patch', pl: 'patch', rc: 'RC' }[l] ?? l;
}

/** Composer's VersionParser::normalize for versions (not constraints); null when invalid. */
export function normalizeComposer(v: string): string | null {
  let s = v.trim();
  // "1.0.0 as 1.0.x-dev" aliases and "@stable" flags are constraint syntax, but tolerated.
  s = s.replace(/\s+as\s+.*$/i, '').replace(/@(?:stable|RC|beta|alpha|dev)$/i, '');
  s = s.replace(/^([^,\s+]+)\+\S+$/, '$1'); // build metadata
  let m = CLASSICAL.exec(s);
  let version: string;
  let rest: RegExpExecArray;
  if (m) {
    version = `${m[1]}${m[2] ?? '.0'}${m[3] ?? '.0'}${m[4] ?? '.0'}`;
    rest = m;
  } else if ((m = DATE.exec(s))) {
    version = m[1]!.replace(/\D/g, '.');
    rest = m;
  } else {
    const b = BRANCH.exec(s);
    if (!b) return null;
    const parts = [b[1], b[2], b[3], b[4]].map((p, i) =>
      i === 0 ? p! : p === undefined || /[xX*]/.test(p) ? '9999999' : p.slice(1),
    );
    return `${parts.join('.')}-dev`;
  }
  const n = rest.length;
  const stability = rest[n - 3];
  const number = rest[n - 2];
  const dev = rest[n - 1];
  if (stability !== undefined) {
    if (stability.toLowerCase() === 'stable') return version;
    version += `-${expandStability(stability)}${number ? number.replace(/^[.-]+/, '') : ''}`;
  }
  if (dev) version += '-dev';
  return version;
}

// PHP version_compare's special forms, matched by prefix in this order.
const SPECIAL: Array<[string, number]> = [
  ['dev', 0],
  ['alpha', 1],
  ['a', 1],
  ['beta', 2],
  ['b', 2],
  ['RC', 3],
  ['rc', 3],
  ['#', 4],
  ['pl', 5],
  ['p', 5],
];

function special(form: string): number {
  for (const [name, order] of SPECIAL) if (form.startsWith(name)) return order;
  return -6;
}

/** PHP's canonicalisation: separators become ".", and "." goes between letters and digits. */
function phpParts(v: string): string[] {
  const out: string[] = [];
  let cur = '';
  let kind: 'd' | 'a' | '' = '';
  for (const c of v) {
    const k = c >= '0' && c <= '9' ? 'd' : /[-_+.]/.test(c) ? '' : 'a';
    if (k === '' || (kind !== '' && k !== kind)) {
      if (cur) out.push(cur);
      cur = '';
    }
    if (k !== '') cur += c;
    kind = k;
  }
  if (cur) out.push(cur);
  return out;
}

/** PHP's version_compare on two normalised versions. */
export function phpVersionCompare(a: string, b: string): number {
  const x = phpParts(a);
  const y = phpParts(b);
  const isNum = (p: string): boolean => /^[0-9]/.test(p);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i]!;
    const q = y[i]!;
    let d: number;
    if (isNum(p) && isNum(q)) d = compareDigits(p, q);
    else if (!isNum(p) && !isNum(q)) d = Math.sign(special(p) - special(q));
    else if (isNum(p)) d = Math.sign(special('#') - special(q));
    else d = Math.sign(special(p) - special('#'));
    if (d !== 0) return d;
  }
  if (x.length > y.length) {
    const p = x[y.length]!;
    return isNum(p) ? 1 : Math.sign(special(p) - special('#'));
  }
  if (y.length > x.length) {
    const q = y[x.length]!;
    return isNum(q) ? -1 : Math.sign(special('#') - special(q));
  }
  return 0;
}

function must(v: string): string {
  const n = normalizeComposer(v);
  if (n === null) throw invalidVersion('composer', v);
  return n;
}

export const composer: VersionScheme = {
  name: 'composer',
  isValid: (v) => normalizeComposer(v) !== null,
  compare: (a, b) => phpVersionCompare(must(a), must(b)),
};
