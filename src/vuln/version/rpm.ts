/**
 * RPM versions ([epoch:]version[-release]), ordered as rpm does: epochs numerically (missing
 * epoch = 0), then version and release with rpmvercmp — alphanumeric segments compared in
 * turn (numeric segments numerically and newer than alphabetic ones, alphabetic ones by byte
 * order), separators ignored, `~` sorting before everything (pre-releases: 1.0~rc1 < 1.0) and
 * `^` after the base but before any further segment (post-release snapshots: 1.0 < 1.0^git1 < 1.0.1).
 */
import { compareDigits, invalidVersion } from './errors.js';
import type { VersionScheme } from './types.js';

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined): boolean =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
const isAlnum = (c: string | undefined): boolean => isDigit(c) || isAlpha(c);

/** rpm's rpmvercmp on one version or release string. Exported for corpus tests. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++;
    // Tilde: sorts before everything, including the end of the string.
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    // Caret: sorts after the end of the string but before anything else.
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const si = i;
    const sj = j;
    const numeric = isDigit(a[i]);
    const inSeg = numeric ? isDigit : isAlpha;
    while (i < a.length && inSeg(a[i])) i++;
    while (j < b.length && inSeg(b[j])) j++;
    // Segments of different types: numeric is newer.
    if (j === sj) return numeric ? 1 : -1;
    const x = a.slice(si, i);
    const y = b.slice(sj, j);
    const d = numeric ? compareDigits(x, y) : x < y ? -1 : x > y ? 1 : 0;
    if (d !== 0) return d;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

export interface RpmVersion {
  epoch: string;
  version: string;
  release: string;
}

export function parseRpm(v: string): RpmVersion {
  const s = v.trim();
  if (s === '') throw invalidVersion('rpm', v, 'empty');
  if (/\s/.test(s)) throw invalidVersion('rpm', v, 'contains whitespace');
  let epoch = '0';
  let rest = s;
  const colon = s.indexOf(':');
  if (colon >= 0) {
    epoch = s.slice(0, colon) || '0';
    rest = s.slice(colon + 1);
    if (!/^[0-9]+$/.test(epoch)) throw invalidVersion('rpm', v, 'epoch is not a number');
  }
  const hyphen = rest.lastIndexOf('-');
  if (hyphen >= 0) return { epoch, version: rest.slice(0, hyphen), release: rest.slice(hyphen + 1) };
  return { epoch, version: rest, release: '' };
}

export function compareRpm(a: string, b: string): number {
  const x = parseRpm(a);
  const y = parseRpm(b);
  const e = compareDigits(x.epoch, y.epoch);
  if (e !== 0) return e;
  const v = rpmvercmp(x.version, y.version);
  if (v !== 0) return v;
  // A missing release sorts before any release (rpmvercmp of "" and "1"), which keeps the order total.
  return rpmvercmp(x.release, y.release);
}

export const rpm: VersionScheme = {
  name: 'rpm',
  isValid(v) {
    try {
      parseRpm(v);
      return true;
    } catch {
      return false;
    }
  },
  compare: compareRpm,
};
