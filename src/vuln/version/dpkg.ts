/**
 * Debian package versions ([epoch:]upstream[-revision]), ordered as dpkg does (deb-version(7)):
 * epochs numerically, then upstream and revision with dpkg's verrevcmp, in which non-digit runs
 * compare character by character with `~` before everything (even the end of the string), then
 * the end, then letters, then all other characters; digit runs compare numerically.
 *
 * Validity follows the Dpkg::Version parser (as used by dpkg's own test table): the revision is
 * what follows the last hyphen, the epoch what precedes the first colon and must be numeric;
 * an empty revision ("1.0-") is accepted and equals no revision.
 */
import { compareDigits, invalidVersion, sign } from './errors.js';
import type { VersionScheme } from './types.js';

export interface DebVersion {
  epoch: string;
  upstream: string;
  revision: string;
}

const ALLOWED = /^[A-Za-z0-9.+~:_-]*$/;

export function parseDeb(v: string): DebVersion {
  const s = v.trim();
  if (s === '') throw invalidVersion('dpkg', v, 'empty');
  if (!ALLOWED.test(s)) throw invalidVersion('dpkg', v, 'characters outside [A-Za-z0-9.+~:_-]');
  let epoch = '0';
  let rest = s;
  const colon = s.indexOf(':');
  if (colon >= 0) {
    epoch = s.slice(0, colon);
    rest = s.slice(colon + 1);
    if (!/^[0-9]+$/.test(epoch)) throw invalidVersion('dpkg', v, 'epoch is not a number');
    if (rest === '') throw invalidVersion('dpkg', v, 'nothing after the epoch');
  }
  const hyphen = rest.lastIndexOf('-');
  if (hyphen >= 0) return { epoch, upstream: rest.slice(0, hyphen), revision: rest.slice(hyphen + 1) };
  return { epoch, upstream: rest, revision: '' };
}

/** Weight of one character in a non-digit run; 0 stands for "end of run". */
function order(c: number | undefined): number {
  if (c === undefined) return 0;
  if (c === 0x7e) return -1; // '~'
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return c; // letters
  if (c >= 0x30 && c <= 0x39) return 0; // a digit ends the run
  return c + 256;
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

/** dpkg's verrevcmp on one part (upstream version or revision). Exported for corpus tests. */
export function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = order(i < a.length ? a.charCodeAt(i) : undefined);
      const bc = order(j < b.length ? b.charCodeAt(j) : undefined);
      if (ac !== bc) return sign(ac - bc);
      i++;
      j++;
    }
    const si = i;
    while (isDigit(a.charCodeAt(i))) i++;
    const sj = j;
    while (isDigit(b.charCodeAt(j))) j++;
    const d = compareDigits(a.slice(si, i) || '0', b.slice(sj, j) || '0');
    if (d !== 0) return d;
  }
  return 0;
}

export function compareDeb(a: string, b: string): number {
  const x = parseDeb(a);
  const y = parseDeb(b);
  return (
    compareDigits(x.epoch, y.epoch) || verrevcmp(x.upstream, y.upstream) || verrevcmp(x.revision, y.revision)
  );
}

export const dpkg: VersionScheme = {
  name: 'dpkg',
  isValid(v) {
    try {
      parseDeb(v);
      return true;
    } catch {
      return false;
    }
  },
  compare: compareDeb,
};
