/**
 * package-lock.json / npm-shrinkwrap.json, lockfileVersion 1, 2 and 3.
 *
 * v2/v3: `packages` is keyed by install path ("node_modules/a/node_modules/b"); a dependency is
 * resolved the way Node does it (nearest node_modules going up), links (workspaces, `file:` deps)
 * point at the entry that holds the real package. v1 (and the v2 compatibility section, used only
 * when `packages` is absent): nested `dependencies` objects, `requires` resolved through the
 * nesting scopes.
 */
import {
  type LockPackage,
  type LockParse,
  isObject,
  normalizeLicenses,
  parseAlias,
  resolveNodeModule,
  stringRecord,
} from './common.js';

export function parsePackageLock(doc: unknown): LockParse {
  if (!isObject(doc)) throw new Error('not a JSON object');
  if (isObject(doc.packages)) return parseV2(doc.packages);
  return parseV1(doc);
}

function nameFromKey(key: string): string {
  const i = key.lastIndexOf('node_modules/');
  return i >= 0 ? key.slice(i + 'node_modules/'.length) : key.slice(key.lastIndexOf('/') + 1);
}

function parseV2(packages: Record<string, unknown>): LockParse {
  const entries = new Map<string, Record<string, unknown>>();
  for (const [k, v] of Object.entries(packages)) if (isObject(v)) entries.set(k, v);
  // A link entry points at the entry that holds the package ("node_modules/ws" -> "packages/ws").
  const target = (key: string): string => {
    const e = entries.get(key);
    if (e?.link === true && typeof e.resolved === 'string' && entries.has(e.resolved)) return e.resolved;
    return key;
  };
  const identity = (key: string): { name: string; version: string } | undefined => {
    const e = entries.get(key);
    if (!e || typeof e.version !== 'string' || !e.version) return undefined;
    const name = typeof e.name === 'string' && e.name ? e.name : nameFromKey(key);
    return name ? { name, version: e.version } : undefined;
  };
  const out: LockPackage[] = [];
  for (const [key, e] of entries) {
    if (e.link === true) continue; // reported through the entry it links to
    const id = identity(key);
    if (!id) continue;
    const deps: LockPackage['deps'] = [];
    const wanted = {
      // devDependencies are installed only for the project and its workspaces
      ...(key.includes('node_modules/') ? {} : stringRecord(e.devDependencies)),
      ...stringRecord(e.peerDependencies),
      ...stringRecord(e.optionalDependencies),
      ...stringRecord(e.dependencies),
    };
    for (const depName of Object.keys(wanted)) {
      const at = resolveNodeModule(key, depName, (k) => entries.has(k));
      if (!at) continue; // optional or peer dependency that is not installed
      const d = identity(target(at));
      if (d) deps.push(d);
    }
    out.push({
      name: id.name,
      version: id.version,
      ...(key === '' ? { root: true } : {}),
      dev: e.dev === true,
      ...(e.optional === true ? { optional: true } : {}),
      ...(e.peer === true ? { peer: true } : {}),
      licenses: normalizeLicenses(e.license, e.licenses),
      deps,
      ...(typeof e.resolved === 'string' ? { resolved: e.resolved } : {}),
      ...(typeof e.integrity === 'string' ? { integrity: e.integrity } : {}),
    });
  }
  return { format: 'package-lock', packages: out, devKnown: true };
}

interface V1Node {
  name: string;
  version: string;
  entry: Record<string, unknown>;
  parent?: V1Node;
  children: Map<string, V1Node>;
}

function parseV1(doc: Record<string, unknown>): LockParse {
  const root: V1Node = {
    name: typeof doc.name === 'string' ? doc.name : '',
    version: typeof doc.version === 'string' ? doc.version : '',
    entry: doc,
    children: new Map(),
  };
  const all: V1Node[] = [];
  const dev = new Set<V1Node>();
  const build = (node: V1Node, deps: unknown) => {
    if (!isObject(deps)) return;
    for (const [key, e] of Object.entries(deps)) {
      if (!isObject(e) || typeof e.version !== 'string') continue;
      const alias = parseAlias(e.version);
      const child: V1Node = {
        name: alias?.name ?? key,
        version: alias?.version ?? e.version,
        entry: e,
        parent: node,
        children: new Map(),
      };
      node.children.set(key, child);
      // What a dev package brings in is dev too, whether or not npm repeated the flag.
      if (e.dev === true || dev.has(node)) dev.add(child);
      all.push(child);
      build(child, e.dependencies);
    }
  };
  build(root, doc.dependencies);
  const lookup = (from: V1Node, name: string): V1Node | undefined => {
    for (let n: V1Node | undefined = from; n; n = n.parent) {
      const c = n.children.get(name);
      if (c) return c;
    }
    return undefined;
  };
  const out: LockPackage[] = [];
  for (const n of all) {
    const deps: LockPackage['deps'] = [];
    for (const depName of Object.keys(stringRecord(n.entry.requires))) {
      const d = lookup(n, depName);
      if (d) deps.push({ name: d.name, version: d.version });
    }
    out.push({
      name: n.name,
      version: n.version,
      dev: dev.has(n),
      ...(n.entry.optional === true ? { optional: true } : {}),
      licenses: [],
      deps,
      ...(typeof n.entry.resolved === 'string' ? { resolved: n.entry.resolved } : {}),
      ...(typeof n.entry.integrity === 'string' ? { integrity: n.entry.integrity } : {}),
    });
  }
  if (root.name && root.version) {
    // v1 does not record the project's own dependency list (the top level mixes direct and hoisted
    // packages), so the root gets none rather than a wrong one.
    out.unshift({ name: root.name, version: root.version, root: true, dev: false, licenses: [], deps: [] });
  }
  return { format: 'package-lock', packages: out, devKnown: true };
}
