/**
 * pnpm-lock.yaml, lockfile versions 5.x, 6.x and 9.x (several YAML documents are allowed: pnpm 10+
 * writes the package-manager's own lock as a first document).
 *
 * Package keys: v5 "/name/1.0.0_peer+suffix", v6 "/name@1.0.0(peer@1.0.0)", v9 "name@1.0.0(peer)".
 * v9 moves per-install dependencies into `snapshots`. `dev` per package exists in v5/v6; v9 has
 * none, so dev is derived from the importers: a package is dev when it is reachable from dev
 * dependencies only.
 */
import { parseAllDocuments } from 'yaml';
import { type LockPackage, type LockParse, isObject, reachable } from './common.js';

function stripPeers(version: string, v5: boolean): string {
  const paren = version.indexOf('(');
  if (paren > 0) version = version.slice(0, paren);
  if (v5) {
    const us = version.indexOf('_');
    if (us > 0) version = version.slice(0, us);
  }
  return version;
}

/** A packages/snapshots key → name and version. */
function parseKey(key: string, v5: boolean): { name: string; version: string } | undefined {
  let k = key;
  if (v5) {
    // "/name/1.0.0", "/@s/n/1.0.0_x", "registry.host/name/1.0.0"
    k = k.replace(/^[^/]*\//, '');
    const parts = k.split('/');
    if (parts.length < 2) return undefined;
    const scoped = parts[0]!.startsWith('@');
    const name = scoped ? `${parts[0]}/${parts[1]}` : parts[0]!;
    const version = parts.slice(scoped ? 2 : 1).join('/');
    return version ? { name, version: stripPeers(version, true) } : undefined;
  }
  k = stripPeers(k.replace(/^\//, ''), false);
  const at = k.indexOf('@', k.startsWith('@') ? 1 : 0);
  if (at <= 0) return undefined;
  return { name: k.slice(0, at), version: k.slice(at + 1) };
}

/** A dependency value ("1.0.0", "1.0.0_peer", "1.0.0(peer)", "/real@1.0.0", "real@1.0.0") → name, version. */
function parseDepValue(
  depName: string,
  value: string,
  v5: boolean,
): { name: string; version: string } | undefined {
  if (value.startsWith('link:') || value.startsWith('file:')) return undefined;
  const bare = stripPeers(value, v5);
  if (value.startsWith('/') || (/^@?[^@]+@/.test(bare) && !/^\d/.test(bare))) return parseKey(value, v5);
  return { name: depName, version: bare };
}

function importerDeps(v: unknown, v5: boolean): { name: string; version: string }[] {
  const out: { name: string; version: string }[] = [];
  if (!isObject(v)) return out;
  for (const [name, spec] of Object.entries(v)) {
    const version =
      typeof spec === 'string'
        ? spec
        : isObject(spec) && typeof spec.version === 'string'
          ? spec.version
          : undefined;
    if (!version) continue;
    const d = parseDepValue(name, version, v5);
    if (d) out.push(d);
  }
  return out;
}

function parseDoc(doc: Record<string, unknown>, out: Map<string, LockPackage>): void {
  const lv = parseFloat(String(doc.lockfileVersion ?? ''));
  const v5 = Number.isFinite(lv) && lv < 6;
  const packages = isObject(doc.packages) ? doc.packages : {};
  const snapshots = isObject(doc.snapshots) ? doc.snapshots : undefined;

  const depsOf = (entry: unknown): { name: string; version: string }[] => {
    if (!isObject(entry)) return [];
    return [...importerDeps(entry.dependencies, v5), ...importerDeps(entry.optionalDependencies, v5)];
  };
  const local = new Map<string, LockPackage>();
  let devRecorded = false;
  for (const [key, entry] of Object.entries(packages)) {
    const id = parseKey(key, v5);
    const e = isObject(entry) ? entry : {};
    const name = typeof e.name === 'string' ? e.name : id?.name;
    const version = typeof e.version === 'string' ? e.version : id?.version;
    if (!name || !version) continue;
    if (typeof e.dev === 'boolean') devRecorded = true;
    const k = `${name}@${version}`;
    const p = local.get(k) ?? { name, version, deps: [], licenses: [] };
    if (e.dev === false) p.dev = false;
    else if (e.dev === true && p.dev !== false) p.dev = true;
    if (e.optional === true) p.optional = true;
    if (!snapshots) p.deps.push(...depsOf(e));
    if (isObject(e.resolution) && typeof e.resolution.integrity === 'string')
      p.integrity = e.resolution.integrity;
    local.set(k, p);
  }
  if (snapshots) {
    for (const [key, entry] of Object.entries(snapshots)) {
      const id = parseKey(key, v5);
      const p = id && local.get(`${id.name}@${id.version}`);
      if (p) p.deps.push(...depsOf(entry));
    }
  }
  for (const p of local.values()) {
    const seen = new Set<string>();
    p.deps = p.deps.filter((d) => {
      const k = `${d.name}@${d.version}`;
      return !seen.has(k) && (seen.add(k), true);
    });
  }
  const importers: Record<string, unknown>[] = isObject(doc.importers)
    ? Object.values(doc.importers).filter(isObject)
    : [doc];
  const prodRoots: { name: string; version: string }[] = [];
  const devRoots: { name: string; version: string }[] = [];
  for (const imp of importers) {
    prodRoots.push(...importerDeps(imp.dependencies, v5), ...importerDeps(imp.optionalDependencies, v5));
    devRoots.push(...importerDeps(imp.devDependencies, v5));
  }
  const rootKey = (d: { name: string; version: string }) => `${d.name}@${d.version}`;
  // A production dependency the lock file lists without a `packages` entry is still installed
  // (as syft reports it; pnpm itself always writes the entry).
  for (const d of prodRoots)
    if (!local.has(rootKey(d)) && !/^(link|file|workspace):/.test(d.version))
      local.set(rootKey(d), { name: d.name, version: d.version, deps: [], licenses: [] });
  if (!devRecorded && (prodRoots.length || devRoots.length)) {
    // Derive dev from the importers (v9; or older files without `dev` fields).
    const graph = new Map<string, string[]>();
    for (const [k, p] of local) graph.set(k, p.deps.map(rootKey));
    const prod = reachable(prodRoots.map(rootKey), graph);
    const dev = reachable(devRoots.map(rootKey), graph);
    for (const [k, p] of local) p.dev = !prod.has(k) && dev.has(k);
  }
  for (const [k, p] of local) if (!out.has(k)) out.set(k, { ...p, dev: p.dev === true });
}

export function parsePnpmLock(text: string): LockParse {
  const out = new Map<string, LockPackage>();
  for (const d of parseAllDocuments(text)) {
    if (d.errors.length) throw new Error(d.errors[0]!.message);
    const doc = d.toJS() as unknown;
    if (isObject(doc)) parseDoc(doc, out);
  }
  return { format: 'pnpm', packages: [...out.values()], devKnown: true };
}
