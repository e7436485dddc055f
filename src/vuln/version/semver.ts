/**
 * SemVer 2.0 schemes built on the `semver` package: npm (loose parsing, as npm itself accepts
 * "v1.2.3" and "=1.2.3"), Cargo (strict SemVer as the semver crate), Go modules (v prefix,
 * +incompatible, pseudo-versions, and the standard library's go1.X.Y spellings) and a lenient
 * generic scheme for OSV `SEMVER` ranges and ecosystems without a scheme of their own.
 * Precedence follows SemVer §11: build metadata is ignored.
 */
import semverLib from 'semver';
import { invalidVersion } from './errors.js';
import type { VersionScheme } from './types.js';

/**
 * A scheme from a parser to canonical SemVer text. Parsed versions are memoised (bounded): matching
 * compares the same few thousand range bounds and installed versions millions of times, and
 * parsing dominated the cost.
 */
function fromParser(name: string, parse: (v: string) => string | null): VersionScheme {
  const memo = new Map<string, semverLib.SemVer | null>();
  const parsed = (v: string): semverLib.SemVer | null => {
    let p = memo.get(v);
    if (p === undefined) {
      const c = parse(v);
      p = c === null ? null : new semverLib.SemVer(c);
      if (memo.size >= 100_000) memo.clear();
      memo.set(v, p);
    }
    return p;
  };
  const canonical = (v: string): semverLib.SemVer => {
    const c = parsed(v);
    if (c === null) throw invalidVersion(name, v);
    return c;
  };
  return {
    name,
    isValid: (v) => parsed(v) !== null,
    compare: (a, b) => (a === b ? (canonical(a), 0) : canonical(a).compare(canonical(b))),
  };
}

/** Strict SemVer 2.0; the canonical form drops build metadata, which has no precedence. */
const strict = (v: string): string | null => semverLib.valid(v.trim());

/** npm: node-semver in loose mode, the way npm reads versions from package.json files. */
export const npm: VersionScheme = fromParser('npm', (v) => semverLib.valid(v.trim(), { loose: true }));

/** Cargo: strict SemVer 2.0 (no "v" prefix, no leading zeros). */
export const cargo: VersionScheme = fromParser('cargo', (v) => (/^[0-9]/.test(v.trim()) ? strict(v) : null));

/**
 * Go: module versions ("v1.2.3", "1.2.3" as OSV writes them, "v2.0.0+incompatible",
 * pseudo-versions "v0.0.0-20210101120000-abcdef123456" which are SemVer pre-releases and so sort
 * before the release they precede) and toolchain versions ("go1.19.8", "go1.20" = 1.20.0,
 * "go1.21rc2" = 1.21.0-rc.2, "go1.9beta1").
 */
export const go: VersionScheme = fromParser('go', parseGo);

export function parseGo(v: string): string | null {
  let s = v.trim();
  if (s.startsWith('go')) {
    const m = /^go([0-9]+)\.([0-9]+)(?:\.([0-9]+))?(?:(alpha|beta|rc)([0-9]+))?$/.exec(s);
    if (!m) return null;
    const pre = m[4] ? `-${m[4]}.${m[5]}` : '';
    s = `${m[1]}.${m[2]}.${m[3] ?? '0'}${pre}`;
  } else if (s.startsWith('v')) {
    s = s.slice(1);
  }
  return /^[0-9]/.test(s) ? strict(s) : null;
}

/**
 * Generic SemVer for OSV `SEMVER` ranges, Hex, Pub and unknown ecosystems: strict SemVer first;
 * otherwise a "v"/"V" prefix is dropped, missing minor/patch become 0 ("2.1" = "2.1.0"), and a
 * pre-release written without a hyphen ("1.20rc1", "1.0.0.alpha") is read as one.
 */
export const semver: VersionScheme = fromParser('semver', parseLenientSemver);

export function parseLenientSemver(v: string): string | null {
  let s = v.trim();
  if (s.startsWith('v') || s.startsWith('V')) s = s.slice(1);
  const exact = strict(s);
  if (exact !== null) return exact;
  const m =
    /^([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:(?:-|\.(?=[A-Za-z])|(?=[A-Za-z]))([0-9A-Za-z][0-9A-Za-z.-]*))?(\+[0-9A-Za-z.-]+)?$/.exec(
      s,
    );
  if (!m) return null;
  const core = `${num(m[1])}.${num(m[2])}.${num(m[3])}`;
  const pre = m[4] ? `-${m[4]}` : '';
  return strict(core + pre + (m[5] ?? ''));
}

const num = (s: string | undefined): string => (s === undefined ? '0' : String(BigInt(s)));
