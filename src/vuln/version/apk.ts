/**
 * Alpine package versions, ordered as current apk-tools does (version.c). Grammar:
 * digit{.digit}...{letter}{_suffix{number}}...{~commit-hash}{-rN}. Versions are compared token
 * by token:
 * - numbers numerically, except that a number after a dot with a leading zero in either version
 *   compares as a string ("1.01" < "1.1", "1.001" < "1.01"), as Gentoo does;
 * - a single lowercase letter after a number ("1.0a");
 * - suffixes `_alpha` < `_beta` < `_pre` < `_rc` < (none) < `_cvs` < `_svn` < `_git` < `_hg` < `_p`,
 *   each with an optional number;
 * - `~hash` commit hashes as strings, then the `-rN` package revision.
 * When one version runs out first, the other is greater unless it continues with a pre-release
 * suffix; a version that continues with something outside the grammar is the lesser.
 */
import { invalidVersion } from './errors.js';
import type { VersionScheme } from './types.js';

// Token kinds in apk-tools' order; the order decides when one version ends before the other.
const INITIAL_DIGIT = 0;
const DIGIT = 1;
const LETTER = 2;
const SUFFIX = 3;
const SUFFIX_NO = 4;
const COMMIT_HASH = 5;
const REVISION_NO = 6;
const END = 7;
const INVALID = 8;

// Suffix ranks: pre-release suffixes below NONE (the plain version), post-release above.
const SUFFIXES = ['alpha', 'beta', 'pre', 'rc', '', 'cvs', 'svn', 'git', 'hg', 'p'];
const NONE = SUFFIXES.indexOf('');

interface Token {
  kind: number;
  /** The token's text (digits, letter, suffix name, hash). */
  text: string;
  /** Suffix rank, for SUFFIX tokens. */
  suffix: number;
}

class Reader {
  private i = 0;
  tok: Token = { kind: INITIAL_DIGIT, text: '', suffix: -1 };
  constructor(private readonly s: string) {
    this.digits(INITIAL_DIGIT);
  }

  private span(re: RegExp): string {
    const start = this.i;
    while (this.i < this.s.length && re.test(this.s[this.i]!)) this.i++;
    return this.s.slice(start, this.i);
  }

  private digits(kind: number): void {
    const text = this.span(/[0-9]/);
    this.tok = { kind: text === '' ? INVALID : kind, text, suffix: -1 };
  }

  private invalid(): void {
    this.tok = { kind: INVALID, text: '', suffix: -1 };
  }

  /** Advances to the next token, checking that it may follow the current one. */
  next(): void {
    const prev = this.tok.kind;
    if (this.i >= this.s.length) {
      this.tok = { kind: END, text: '', suffix: -1 };
      return;
    }
    const c = this.s[this.i]!;
    if (c >= 'a' && c <= 'z') {
      if (prev > DIGIT) return this.invalid();
      this.i++;
      this.tok = { kind: LETTER, text: c, suffix: -1 };
    } else if (c === '.' || (c >= '0' && c <= '9')) {
      if (c === '.') {
        if (prev > DIGIT) return this.invalid();
        this.i++;
      }
      if (prev === INITIAL_DIGIT || prev === DIGIT) this.digits(DIGIT);
      else if (prev === SUFFIX) this.digits(SUFFIX_NO);
      else this.invalid();
    } else if (c === '_') {
      if (prev > SUFFIX_NO) return this.invalid();
      this.i++;
      const name = this.span(/[a-z]/);
      const rank = name === '' ? -1 : SUFFIXES.indexOf(name);
      if (rank < 0) return this.invalid();
      this.tok = { kind: SUFFIX, text: name, suffix: rank };
    } else if (c === '~') {
      if (prev >= COMMIT_HASH) return this.invalid();
      this.i++;
      const hash = this.span(/[0-9a-fA-F]/);
      if (hash === '') return this.invalid();
      this.tok = { kind: COMMIT_HASH, text: hash, suffix: -1 };
    } else if (c === '-') {
      if (prev >= REVISION_NO || this.s[this.i + 1] !== 'r') return this.invalid();
      this.i += 2;
      this.digits(REVISION_NO);
    } else {
      this.invalid();
    }
  }
}

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function compareNumbers(a: string, b: string): number {
  const x = a.replace(/^0+(?=.)/, '');
  const y = b.replace(/^0+(?=.)/, '');
  return x.length !== y.length ? (x.length < y.length ? -1 : 1) : byteOrder(x, y);
}

/** Compares two tokens of the same kind. */
function compareTokens(a: Token, b: Token): number {
  switch (a.kind) {
    case DIGIT:
      // A leading zero in either makes it a string comparison (so 1.01 < 1.1, like decimals).
      if (a.text[0] === '0' || b.text[0] === '0') return byteOrder(a.text, b.text);
      return compareNumbers(a.text, b.text);
    case INITIAL_DIGIT:
    case SUFFIX_NO:
    case REVISION_NO:
      return compareNumbers(a.text, b.text);
    case SUFFIX:
      return Math.sign(a.suffix - b.suffix);
    default:
      return byteOrder(a.text, b.text);
  }
}

/** True when the whole string follows apk's version grammar (apk_version_validate). */
export function isWellFormedApk(v: string): boolean {
  const r = new Reader(v);
  while (r.tok.kind < END) r.next();
  return r.tok.kind === END;
}

/**
 * True when apk can order the version: it starts with a number. apk-tools compares token by
 * token up to the first token outside its grammar, so "1.0bc" or "23_foo" still have an order
 * (apk's own test table has them); isWellFormedApk is the strict check.
 */
export function isValidApk(v: string): boolean {
  return new Reader(v).tok.kind === INITIAL_DIGIT && !/\s/.test(v);
}

export function compareApk(a: string, b: string): number {
  if (!isValidApk(a)) throw invalidVersion('apk', a);
  if (!isValidApk(b)) throw invalidVersion('apk', b);
  const x = new Reader(a);
  const y = new Reader(b);
  for (; x.tok.kind === y.tok.kind && x.tok.kind < END; x.next(), y.next()) {
    const r = compareTokens(x.tok, y.tok);
    if (r !== 0) return r;
  }
  if (x.tok.kind === y.tok.kind) return 0;
  // Equal so far and one continues: it is greater, unless it continues with a pre-release suffix.
  if (x.tok.kind === SUFFIX && x.tok.suffix < NONE) return -1;
  if (y.tok.kind === SUFFIX && y.tok.suffix < NONE) return 1;
  return x.tok.kind > y.tok.kind ? -1 : 1;
}

export const apk: VersionScheme = {
  name: 'apk',
  isValid: isValidApk,
  compare: compareApk,
};
