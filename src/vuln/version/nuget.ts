/**
 * NuGet versions (NuGetVersion): one to four numeric parts (missing parts are 0, leading zeros
 * allowed: "1.01" == "1.1.0.0"), an optional SemVer 2.0 pre-release label compared
 * case-insensitively (numeric identifiers numerically and before alphanumeric ones), and build
 * metadata after "+" which does not affect ordering.
 */
import { compareDigits, invalidVersion } from './errors.js';
import type { VersionScheme } from './types.js';

interface NuGetVersion {
  parts: string[];
  pre: string[];
}

const RE =
  /^([0-9]+(?:\.[0-9]+){0,3})(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

function parse(v: string): NuGetVersion | null {
  const m = RE.exec(v.trim());
  if (!m) return null;
  const parts = m[1]!.split('.');
  while (parts.length < 4) parts.push('0');
  return { parts, pre: m[2] ? m[2].split('.') : [] };
}

function must(v: string): NuGetVersion {
  const p = parse(v);
  if (!p) throw invalidVersion('nuget', v);
  return p;
}

function compareLabel(a: string, b: string): number {
  const an = /^[0-9]+$/.test(a);
  const bn = /^[0-9]+$/.test(b);
  if (an && bn) return compareDigits(a, b);
  if (an !== bn) return an ? -1 : 1;
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

export function compareNuGet(a: string, b: string): number {
  const x = must(a);
  const y = must(b);
  for (let i = 0; i < 4; i++) {
    const d = compareDigits(x.parts[i]!, y.parts[i]!);
    if (d !== 0) return d;
  }
  // A release is newer than any of its pre-releases.
  if (x.pre.length === 0 || y.pre.length === 0)
    return x.pre.length === y.pre.length ? 0 : x.pre.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    if (i >= x.pre.length) return -1;
    if (i >= y.pre.length) return 1;
    const d = compareLabel(x.pre[i]!, y.pre[i]!);
    if (d !== 0) return d;
  }
  return 0;
}

export const nuget: VersionScheme = {
  name: 'nuget',
  isValid: (v) => parse(v) !== null,
  compare: compareNuGet,
};
