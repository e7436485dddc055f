/**
 * Python lock and pin files: requirements*.txt, Pipfile.lock, poetry.lock, uv.lock.
 */
import { parse as parseToml } from 'smol-toml';
import { requirementName } from './metadata.js';

export interface PyLockPackage {
  name: string;
  version: string;
  dev?: boolean;
  deps: { name: string; version?: string }[];
}

/** PEP 503 normalised name: lower case, runs of "-", "_", "." become "-". */
export function normalizePyName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * requirements.txt: only exact pins (`==` / `===`, no wildcard) are packages with a version; a
 * range says nothing about what is installed. Comments, `\` continuations, option lines (-r, -c,
 * -e, --index-url...), `--hash` options, extras and environment markers are handled. `-r` includes
 * are not followed: every requirements file in the artifact is cataloged on its own.
 */
export function parseRequirements(text: string): PyLockPackage[] {
  const out: PyLockPackage[] = [];
  const logical: string[] = [];
  let cur = '';
  for (const raw of text.split(/\r?\n/)) {
    // A comment starts at "#" at the line start or after whitespace ("pkg==1 # note").
    const line = raw.replace(/(^|\s)#.*$/, '');
    if (/\\\s*$/.test(line)) {
      cur += line.replace(/\\\s*$/, ' ');
      continue;
    }
    logical.push(cur + line);
    cur = '';
  }
  if (cur) logical.push(cur);
  for (let line of logical) {
    line = line.trim();
    if (!line || line.startsWith('-')) continue; // options: -r, -c, -e, -i, --index-url, ...
    line = line.replace(/\s--?[a-z][\w-]*(=\S+|\s+\S+)?/gi, ' ').trim(); // per-requirement options (--hash=...)
    const semi = line.indexOf(';');
    const req = (semi >= 0 ? line.slice(0, semi) : line).trim();
    const name = requirementName(req);
    if (!name) continue;
    const m = /^[^=<>!~@]*?(===?)\s*([^\s,;@]+)\s*(?:@.*)?$/.exec(req.replace(/\[[^\]]*\]/, ''));
    if (!m || m[2]!.includes('*')) continue;
    out.push({ name, version: m[2]!, deps: [] });
  }
  return out;
}

/** Pipfile.lock: JSON, `default` and `develop` sections of name → {version: "==1.2.3"}. */
export function parsePipfileLock(doc: unknown): PyLockPackage[] {
  if (!isObj(doc)) throw new Error('not a JSON object');
  const out: PyLockPackage[] = [];
  for (const [section, dev] of [
    ['default', false],
    ['develop', true],
  ] as const) {
    const s = doc[section];
    if (!isObj(s)) continue;
    for (const [name, v] of Object.entries(s)) {
      if (!isObj(v) || typeof v.version !== 'string') continue;
      const version = v.version.replace(/^===?/, '');
      // a package in both sections is a production dependency
      if (dev && out.some((p) => p.name === name && p.version === version)) continue;
      out.push({ name, version, ...(dev ? { dev: true } : {}), deps: [] });
    }
  }
  return out;
}

/** Pins dependency names to a version when the lock holds a single package of that name. */
function pinByName(pkgs: PyLockPackage[]): void {
  const versions = new Map<string, string[]>();
  for (const p of pkgs) {
    const k = normalizePyName(p.name);
    versions.set(k, [...(versions.get(k) ?? []), p.version]);
  }
  for (const p of pkgs)
    for (const d of p.deps) {
      const vs = versions.get(normalizePyName(d.name));
      if (!d.version && vs?.length === 1) d.version = vs[0];
    }
}

/**
 * poetry.lock (TOML): [[package]] with name, version, `category` (poetry < 1.5: "main"/"dev") or
 * `groups` (poetry 2), and [package.dependencies].
 */
export function parsePoetryLock(text: string): PyLockPackage[] {
  const doc = parseToml(text) as Record<string, unknown>;
  const out: PyLockPackage[] = [];
  for (const p of Array.isArray(doc.package) ? doc.package : []) {
    if (!isObj(p) || typeof p.name !== 'string' || typeof p.version !== 'string') continue;
    const groups = Array.isArray(p.groups) ? p.groups.map(String) : undefined;
    const dev =
      p.category === 'dev' || (groups !== undefined && groups.length > 0 && !groups.includes('main'));
    const deps = isObj(p.dependencies) ? Object.keys(p.dependencies).map((name) => ({ name })) : [];
    out.push({ name: p.name, version: p.version, ...(dev ? { dev: true } : {}), deps });
  }
  pinByName(out);
  return out;
}

/**
 * uv.lock (TOML): [[package]] with name, version, source ({registry}, {editable|virtual} for the
 * project itself), `dependencies` / `optional-dependencies` / `dev-dependencies` lists of {name,
 * version?}. Dev = reachable from the project's dev-dependencies only.
 */
export function parseUvLock(text: string): PyLockPackage[] {
  const doc = parseToml(text) as Record<string, unknown>;
  type Dep = { name: string; version?: string };
  const depList = (v: unknown): Dep[] =>
    (Array.isArray(v) ? v : [])
      .filter(isObj)
      .filter((d) => typeof d.name === 'string')
      .map((d) => ({
        name: d.name as string,
        ...(typeof d.version === 'string' ? { version: d.version } : {}),
      }));
  const groupDeps = (v: unknown): Dep[] => (isObj(v) ? Object.values(v).flatMap(depList) : []);
  const pkgs: (PyLockPackage & { devDeps: Dep[]; optDeps: Dep[]; root: boolean })[] = [];
  for (const p of Array.isArray(doc.package) ? doc.package : []) {
    if (!isObj(p) || typeof p.name !== 'string') continue;
    const src = isObj(p.source) ? p.source : {};
    const root = 'editable' in src || 'virtual' in src;
    const version = typeof p.version === 'string' ? p.version : '';
    if (!version) continue; // a virtual workspace root without a version
    pkgs.push({
      name: p.name,
      version,
      deps: depList(p.dependencies),
      optDeps: groupDeps(p['optional-dependencies']),
      devDeps: groupDeps(p['dev-dependencies']),
      root,
    });
  }
  const out: PyLockPackage[] = pkgs.map((p) => ({
    name: p.name,
    version: p.version,
    deps: [...p.deps, ...p.optDeps],
  }));
  pinByName(out);
  const find = (d: Dep) =>
    pkgs.findIndex(
      (p) => normalizePyName(p.name) === normalizePyName(d.name) && (!d.version || d.version === p.version),
    );
  const walk = (starts: number[], edges: (i: number) => Dep[]) => {
    const seen = new Set<number>();
    const stack = [...starts];
    while (stack.length) {
      const i = stack.pop()!;
      if (i < 0 || seen.has(i)) continue;
      seen.add(i);
      for (const d of edges(i)) stack.push(find(d));
    }
    return seen;
  };
  const roots = pkgs.map((p, i) => (p.root ? i : -1)).filter((i) => i >= 0);
  if (roots.length) {
    const prodEdges = (i: number) => [...pkgs[i]!.deps, ...pkgs[i]!.optDeps];
    const prod = walk(roots, prodEdges);
    const dev = walk(
      roots.flatMap((r) => pkgs[r]!.devDeps.map(find)),
      prodEdges,
    );
    out.forEach((p, i) => {
      if (!prod.has(i) && dev.has(i)) p.dev = true;
    });
    // the project's own dev dependencies are edges too
    for (const r of roots) out[r]!.deps.push(...pkgs[r]!.devDeps);
    pinByName(out);
  }
  return out;
}
