/**
 * RubyGems versions (Gem::Version): dot-separated segments of digits or letters ("1.0.a10" is
 * [1, 0, "a", 10]); a "-" means ".pre." ("1.0.0-rc1" is a pre-release); any letter makes a
 * pre-release, which sorts before the release; trailing zeros of the numeric and of the
 * pre-release part are ignored ("1.0" == "1", "1.a" == "1.0.0.a"); a string segment sorts before
 * a number; the empty version is "0".
 *
 * Versions read from gem file names can carry a platform ("1.19.3-x86_64-linux-gnu",
 * "0.6.0-universal-darwin-9", "9.4.3.0-java"); RubyGems keeps the platform apart from the version,
 * so a trailing platform is removed before comparing.
 */
import { invalidVersion } from './errors.js';
import type { VersionScheme } from './types.js';

const PATTERN = /^[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
// CPU (or runtime) names that start a RubyGems platform string.
const PLATFORM_START =
  /^(?:x86|x86_64|x64|i[3-6]86|amd64|arm|arm64|armv[0-9][a-z0-9]*|aarch64|universal|powerpc|ppc|ppc64|ppc64le|s390|s390x|sparc|sparc64|riscv64|loongarch64|java|jruby|mswin32|mswin64|mingw32|dalvik[0-9]*)$/i;

/** Removes a trailing RubyGems platform ("-x86_64-linux", "-java"). */
export function stripGemPlatform(v: string): string {
  const parts = v.split('-');
  const at = parts.findIndex((p, i) => i > 0 && PLATFORM_START.test(p));
  return at > 0 ? parts.slice(0, at).join('-') : v;
}

type Segment = number | string;

function segments(v: string): Segment[] | null {
  const t = v.trim();
  if (t === '') return [0];
  const s = stripGemPlatform(t);
  if (!PATTERN.test(s)) return null;
  const out: Segment[] = [];
  for (const m of s.replace(/-/g, '.pre.').matchAll(/[0-9]+|[a-z]+/gi)) {
    const x = m[0];
    // Segments are compared as numbers (exact up to 2^53, far beyond real version numbers).
    out.push(/^[0-9]/.test(x) ? Number(x) : x);
  }
  return out;
}

/** Drops trailing zeros of the numeric part and of the pre-release part separately. */
function canonical(seg: Segment[]): Segment[] {
  const firstStr = seg.findIndex((s) => typeof s === 'string');
  const numeric = firstStr < 0 ? seg : seg.slice(0, firstStr);
  const rest = firstStr < 0 ? [] : seg.slice(firstStr);
  const trim = (xs: Segment[]): Segment[] => {
    let n = xs.length;
    while (n > 0 && xs[n - 1] === 0) n--;
    return xs.slice(0, n);
  };
  return [...trim(numeric), ...trim(rest)];
}

function must(v: string): Segment[] {
  const s = segments(v);
  if (!s) throw invalidVersion('rubygems', v);
  return canonical(s);
}

export function compareGem(a: string, b: string): number {
  const x = must(a);
  const y = must(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const l = x[i] ?? 0;
    const r = y[i] ?? 0;
    if (l === r) continue;
    if (typeof l === 'string' && typeof r === 'number') return -1;
    if (typeof l === 'number' && typeof r === 'string') return 1;
    return l < r ? -1 : 1;
  }
  return 0;
}

export const rubygems: VersionScheme = {
  name: 'rubygems',
  isValid: (v) => segments(v) !== null,
  compare: compareGem,
};
