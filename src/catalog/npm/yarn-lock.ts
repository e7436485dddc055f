/**
 * yarn.lock: the classic v1 format (yarn's own indentation-based syntax, not YAML) and berry
 * (yarn 2+, YAML with a `__metadata` entry).
 *
 * Each entry is keyed by one or more specifiers ("name@range", quoted or not, comma separated);
 * dependencies inside an entry are "name range" pairs that are resolved to an exact version through
 * the specifier map. Yarn does not record dev/prod per entry; the cataloger derives it from the
 * project's package.json when one sits next to the lock file.
 */
import { parse as parseYaml } from 'yaml';
import { type LockPackage, type LockParse, dict, isObject, parseAlias, stringRecord } from './common.js';

/** "name@range" → [name, range]; the name may be scoped ("@s/n@^1"). */
export function splitSpecifier(spec: string): [string, string] {
  const at = spec.indexOf('@', spec.startsWith('@') ? 1 : 0);
  return at < 0 ? [spec, ''] : [spec.slice(0, at), spec.slice(at + 1)];
}

/** Name from a registry tarball URL: ".../@scope/name/-/name-1.0.0.tgz" → "@scope/name". */
function nameFromTarball(url: string): string | undefined {
  const m = /\/((?:@[^/]+\/)?[^/]+)\/-\/[^/]+\.tgz(?:[#?].*)?$/.exec(url);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

interface Entry {
  specs: string[];
  fields: Record<string, string>;
  sections: Record<string, Record<string, string>>;
}

function unquote(s: string): string {
  s = s.trim();
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) {
    try {
      return JSON.parse(s) as string;
    } catch {
      return s.slice(1, -1);
    }
  }
  return s;
}

/** Splits a classic entry header ("a@^1", "b@2":) into its specifiers, honouring quotes. */
function splitKeys(header: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (const ch of header) {
    if (ch === '"') q = !q;
    if (ch === ',' && !q) {
      out.push(unquote(cur));
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(unquote(cur));
  return out.filter(Boolean);
}

/** "key value" / "key "value"" / "key:" (section) — key may be quoted. */
function splitLine(line: string): [string, string] {
  const t = line.trim();
  if (t.startsWith('"')) {
    const end = t.indexOf('"', 1);
    return [unquote(t.slice(0, end + 1)), unquote(t.slice(end + 1))];
  }
  const sp = t.search(/[\s:]/);
  if (sp < 0) return [t, ''];
  return [t.slice(0, sp), unquote(t.slice(sp + 1).replace(/^:/, ''))];
}

function parseClassic(text: string): Entry[] {
  const entries: Entry[] = [];
  let cur: Entry | undefined;
  let section: Record<string, string> | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    const indent = line.length - line.trimStart().length;
    if (indent === 0) {
      if (!line.trimEnd().endsWith(':'))
        throw new Error(`line ${i + 1}: expected an entry header ending in ':'`);
      cur = { specs: splitKeys(line.trimEnd().slice(0, -1)), fields: dict(), sections: dict() };
      entries.push(cur);
      section = undefined;
    } else if (!cur) {
      throw new Error(`line ${i + 1}: indented line outside an entry`);
    } else if (indent <= 2) {
      const t = line.trim();
      if (t.endsWith(':') && !t.includes(' ')) {
        section = dict();
        cur.sections[unquote(t.slice(0, -1))] = section;
      } else {
        const [k, v] = splitLine(t);
        cur.fields[k] = v;
        section = undefined;
      }
    } else if (section) {
      const [k, v] = splitLine(line);
      section[k] = v;
    }
  }
  return entries;
}

function parseBerry(doc: Record<string, unknown>): Entry[] {
  const entries: Entry[] = [];
  for (const [key, v] of Object.entries(doc)) {
    if (key === '__metadata' || !isObject(v)) continue;
    const fields: Record<string, string> = dict();
    const sections: Record<string, Record<string, string>> = dict();
    for (const [k, x] of Object.entries(v)) {
      if (isObject(x)) sections[k] = stringRecord(x);
      else if (x !== null && x !== undefined && typeof x !== 'object') fields[k] = String(x);
    }
    entries.push({
      specs: key
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      fields,
      sections,
    });
  }
  return entries;
}

export function parseYarnLock(text: string): LockParse {
  const berry = /^__metadata:/m.test(text);
  let entries: Entry[];
  if (berry) {
    const doc = parseYaml(text, { uniqueKeys: false, maxAliasCount: 100 }) as unknown;
    if (!isObject(doc)) throw new Error('not a YAML mapping');
    entries = parseBerry(doc);
  } else entries = parseClassic(text);

  const pkgs = new Map<string, LockPackage & { specs: string[]; rawDeps: Record<string, string> }>();
  const specToId = new Map<string, string>();
  for (const e of entries) {
    const version = e.fields.version;
    if (!version || !e.specs.length) continue;
    const [keyName, keyRange] = splitSpecifier(e.specs[0]!);
    let name = keyName;
    const alias = parseAlias(keyRange);
    if (alias?.name) name = alias.name;
    else if (!berry && e.fields.resolved) name = nameFromTarball(e.fields.resolved) ?? name;
    else if (berry && e.fields.resolution) {
      // "real@npm:1.0.0" for aliases; workspaces keep the key's name
      const [rn, rr] = splitSpecifier(e.fields.resolution);
      if (rr.startsWith('npm:') && rn) name = rn;
    }
    const workspace = e.specs.some((s) => splitSpecifier(s)[1].startsWith('workspace:'));
    const id = `${name}@${version}`;
    const rawDeps = { ...(e.sections.optionalDependencies ?? {}), ...(e.sections.dependencies ?? {}) };
    const existing = pkgs.get(id);
    if (existing) {
      existing.specs.push(...e.specs);
      Object.assign(existing.rawDeps, rawDeps);
    } else {
      pkgs.set(id, {
        name,
        version,
        deps: [],
        licenses: [],
        specs: [...e.specs],
        rawDeps,
        ...(workspace ? { root: true } : {}),
        ...(e.fields.resolved ? { resolved: e.fields.resolved } : {}),
        ...(e.fields.integrity ? { integrity: e.fields.integrity } : {}),
        ...(e.fields.checksum ? { integrity: e.fields.checksum } : {}),
      });
    }
    for (const s of e.specs) specToId.set(s, id);
  }
  const lookup = (name: string, range: string): string | undefined =>
    specToId.get(`${name}@${range}`) ?? specToId.get(`${name}@npm:${range}`);
  const out: LockPackage[] = [];
  for (const p of pkgs.values()) {
    for (const [depName, range] of Object.entries(p.rawDeps)) {
      const id = lookup(depName, range);
      const d = id ? pkgs.get(id) : undefined;
      if (d) p.deps.push({ name: d.name, version: d.version });
    }
    const { specs: _s, rawDeps: _r, ...pkg } = p;
    out.push(pkg);
  }
  const rootSpecs = dict<string>();
  for (const [spec, id] of specToId) rootSpecs[spec] = id;
  return { format: 'yarn', packages: out, devKnown: false, rootSpecs };
}
