/**
 * Shared pieces of the npm cataloger: the intermediate package shape the lock-file parsers return,
 * purls, license normalisation and the Node module resolution used to pin dependency versions.
 */
import { posix } from 'node:path';
import { buildPurl } from '../../core/purl.js';
import type { PackageDraft } from '../types.js';

/** A package as a lock-file parser sees it, before the cataloger turns it into a draft. */
export interface LockPackage {
  name: string;
  version: string;
  /** undefined: the lock file does not say (yarn, pnpm v9); computed from package.json if present. */
  dev?: boolean;
  optional?: boolean;
  peer?: boolean;
  licenses?: string[];
  /** Direct dependencies with the exact version the lock file resolved them to. */
  deps: { name: string; version: string }[];
  /** The project itself (root of a package-lock, a workspace). */
  root?: boolean;
  resolved?: string;
  integrity?: string;
}

export interface LockParse {
  format: 'package-lock' | 'yarn' | 'pnpm';
  packages: LockPackage[];
  /** Whether `dev` was recorded per package by the lock file itself. */
  devKnown: boolean;
  /** For formats without dev flags: resolves a root package.json dependency ("name", "range") to a version. */
  rootSpecs?: Record<string, string>;
  /** Non-fatal problems found while parsing. */
  warnings?: string[];
}

export function npmPurl(name: string, version: string): string {
  const slash = name.startsWith('@') ? name.indexOf('/') : -1;
  return slash > 0
    ? buildPurl({ type: 'npm', namespace: name.slice(0, slash), name: name.slice(slash + 1), version })
    : buildPurl({ type: 'npm', name, version });
}

export function npmDraft(
  p: { name: string; version: string; licenses?: string[]; dev?: boolean },
  foundBy: string,
  extra: Partial<PackageDraft> = {},
): PackageDraft {
  return {
    name: p.name,
    version: p.version,
    type: 'npm',
    ecosystem: 'npm',
    purl: npmPurl(p.name, p.version),
    licenses: p.licenses ?? [],
    foundBy,
    ...(p.dev ? { dev: true } : {}),
    ...extra,
  };
}

/**
 * package.json `license` / legacy `licenses`: a string ("MIT", "(MIT OR Apache-2.0)"), an object
 * {type, url}, or an array of either.
 */
export function normalizeLicenses(license: unknown, licenses?: unknown): string[] {
  const out: string[] = [];
  const add = (v: unknown) => {
    if (typeof v === 'string') {
      if (v.trim()) out.push(v.trim());
    } else if (Array.isArray(v)) v.forEach(add);
    else if (v && typeof v === 'object') {
      const t = (v as { type?: unknown; name?: unknown }).type ?? (v as { name?: unknown }).name;
      if (typeof t === 'string' && t.trim()) out.push(t.trim());
    }
  };
  add(license);
  if (!out.length) add(licenses);
  return [...new Set(out)];
}

/** "npm:@scope/name@1.2.3" → {name, version}; undefined if not an npm alias. */
export function parseAlias(spec: string): { name: string; version: string } | undefined {
  if (!spec.startsWith('npm:')) return undefined;
  const rest = spec.slice(4);
  const at = rest.lastIndexOf('@');
  if (at <= 0) return undefined; // "npm:^1.2.3": a plain range with a protocol, not an alias
  return { name: rest.slice(0, at), version: rest.slice(at + 1) };
}

/**
 * Node's module resolution over installed paths: from `fromDir` (a package directory such as
 * "/app/node_modules/a/node_modules/b"), the first "<dir>/node_modules/<name>" that `has` going up.
 * `has` receives the candidate package directory.
 */
export function resolveNodeModule(
  fromDir: string,
  name: string,
  has: (dir: string) => boolean,
): string | undefined {
  let dir = fromDir;
  for (;;) {
    if (posix.basename(dir) !== 'node_modules') {
      const cand = dir === '' || dir === '.' ? `node_modules/${name}` : posix.join(dir, 'node_modules', name);
      if (has(cand)) return cand;
    }
    if (dir === '' || dir === '.' || dir === '/') return undefined;
    const parent = posix.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Packages reachable from `roots` following `deps`, keyed "name@version". */
export function reachable(roots: Iterable<string>, deps: Map<string, string[]>): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length) {
    const k = stack.pop()!;
    if (seen.has(k)) continue;
    seen.add(k);
    for (const d of deps.get(k) ?? []) if (!seen.has(d)) stack.push(d);
  }
  return seen;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An object without a prototype, for keys taken from the input ("__proto__" stays a plain key). */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

export function stringRecord(v: unknown): Record<string, string> {
  const out = dict<string>();
  if (isObject(v)) for (const [k, s] of Object.entries(v)) if (typeof s === 'string') out[k] = s;
  return out;
}
