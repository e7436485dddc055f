/**
 * Alpine package versions, ordered as apk-tools does (version.c): a version is a sequence of
 * tokens — numbers separated by dots, an optional single lowercase letter after a number,
 * suffixes `_alpha`, `_beta`, `_pre`, `_rc` (pre-releases, before the plain version) and `_cvs`,
 * `_svn`, `_git`, `_hg`, `_p` (after it), each with an optional number, and a final `-rN`
 * package revision. A number after a dot with leading zeros compares as a fraction (1.01 < 1.1).
 * When one version runs out first, the other is greater unless its next token is a
 * pre-release suffix.
 */
import { invalidVersion } from './errors.js';
import type { VersionScheme } from './types.js';

// Token kinds, in apk-tools' order: the order matters when one version ends before the other.
const enum T {
  Invalid = -1,
  DigitOrZero = 0,
  Digit = 1,
  Letter = 2,
  Suffix = 3,
  SuffixNo = 4,
  RevisionNo = 5,
  End = 6,
}

const PRE = ['alpha', 'beta', 'pre', 'rc'];
const POST = ['cvs', 'svn', 'git', 'hg', 'p'];

interface Cursor {
  s: string;
  i: number;
  t: T;
}

const digit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const lower = (c: string | undefined): boolean => c !== undefined && c >= 'a' && c <= 'z';

/** Decides the kind of the token that starts at the cursor (consuming its separator). */
function nextKind(c: Cursor): void {
  let n: T = T.Invalid;
  const ch = c.s[c.i];
  if (c.i >= c.s.length) n = T.End;
  else if ((c.t === T.Digit || c.t === T.DigitOrZero) && lower(ch)) n = T.Letter;
  else if (c.t === T.Letter && digit(ch)) n = T.Digit;
  else if (c.t === T.Suffix && digit(ch)) n = T.SuffixNo;
  else {
    if (ch === '.') n = T.DigitOrZero;
    else if (ch === '_') n = T.Suffix;
    else if (ch === '-' && c.s[c.i + 1] === 'r') {
      n = T.RevisionNo;
      c.i++;
    }
    c.i++;
  }
  // Tokens may only move forward in the grammar, with these exceptions.
  if (
    n < c.t &&
    !(n === T.DigitOrZero && c.t === T.Digit) &&
    !(n === T.Suffix && c.t === T.SuffixNo) &&
    !(n === T.Digit && c.t === T.Letter)
  ) {
    n = T.Invalid;
  }
  c.t = n;
}

/** Reads the value of the current token and advances; returns its weight. */
function getToken(c: Cursor): number {
  if (c.i >= c.s.length) {
    c.t = T.End;
    return 0;
  }
  let v = 0;
  let nt: T = T.Invalid;
  const start = c.i;
  // Leading zeros after a dot: the more zeros, the smaller (a decimal fraction).
  const leadingZeros = c.t === T.DigitOrZero && c.s[c.i] === '0';
  const kind = leadingZeros ? 'zeros' : c.t;
  switch (kind) {
    case 'zeros':
      while (c.s[c.i] === '0') c.i++;
      nt = T.Digit;
      v = -(c.i - start);
      break;
    case T.DigitOrZero:
    case T.Digit:
    case T.SuffixNo:
    case T.RevisionNo:
      while (digit(c.s[c.i])) {
        v = v * 10 + (c.s.charCodeAt(c.i) - 48);
        if (v > Number.MAX_SAFE_INTEGER / 10) throw invalidVersion('apk', c.s, 'number too large');
        c.i++;
      }
      break;
    case T.Letter:
      v = c.s.charCodeAt(c.i);
      c.i++;
      break;
    case T.Suffix: {
      const rest = c.s.slice(c.i);
      const pre = PRE.findIndex((p) => rest.startsWith(p));
      if (pre >= 0) {
        c.i += PRE[pre]!.length;
        v = pre - PRE.length; // negative: pre-releases sort before the end
        break;
      }
      const post = POST.findIndex((p) => rest.startsWith(p));
      if (post >= 0) {
        c.i += POST[post]!.length;
        v = post;
        break;
      }
      c.t = T.Invalid;
      return -1;
    }
    default:
      c.t = T.Invalid;
      return -1;
  }
  if (c.i >= c.s.length) c.t = T.End;
  else if (nt !== T.Invalid) c.t = nt;
  else nextKind(c);
  return v;
}

/** True when the whole string follows apk's version grammar (apk_version_validate). */
export function isWellFormedApk(v: string): boolean {
  if (!isValidApk(v)) return false;
  const c: Cursor = { s: v, i: 0, t: T.Digit };
  while (c.t !== T.End && c.t !== T.Invalid) getToken(c);
  return c.t === T.End;
}

/**
 * True when apk can order the version: it starts with a digit. apk-tools compares token by
 * token and stops at the first token outside its grammar, so "1.0bc" or "23_foo" still have
 * an order (apk's own test table has them); isWellFormedApk is the strict check.
 */
export function isValidApk(v: string): boolean {
  return v !== '' && digit(v[0]) && !/\s/.test(v);
}

export function compareApk(a: string, b: string): number {
  if (!isValidApk(a)) throw invalidVersion('apk', a);
  if (!isValidApk(b)) throw invalidVersion('apk', b);
  const x: Cursor = { s: a, i: 0, t: T.Digit };
  const y: Cursor = { s: b, i: 0, t: T.Digit };
  let av = 0;
  let bv = 0;
  while (x.t === y.t && x.t !== T.End && x.t !== T.Invalid && av === bv) {
    av = getToken(x);
    bv = getToken(y);
  }
  if (av !== bv) return av < bv ? -1 : 1;
  if (x.t === y.t) return 0;
  // Equal so far and one continues: it is greater, unless it continues with a pre-release suffix.
  if (x.t === T.Suffix && getToken({ ...x }) < 0) return -1;
  if (y.t === T.Suffix && getToken({ ...y }) < 0) return 1;
  if (x.t > y.t) return -1;
  if (y.t > x.t) return 1;
  return 0;
}

export const apk: VersionScheme = {
  name: 'apk',
  isValid: isValidApk,
  compare: compareApk,
};
