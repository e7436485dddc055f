/**
 * Cargo.lock, format versions 1-4 (TOML). Every [[package]] has name, version, optional source
 * ("registry+URL", "sparse+URL", "git+URL?query#rev"; absent for path and workspace crates) and
 * `dependencies` entries "name", "name version" or "name version (source)" — the short forms are
 * used while they are unambiguous. v1 keeps checksums in [metadata] ("checksum name version (source)").
 */
import { parse as parseToml } from 'smol-toml';

export interface CrateRef {
  name: string;
  version: string;
  /** Lock-file source; undefined for local (path/workspace) crates. */
  source?: string;
}

export interface LockedCrate extends CrateRef {
  checksum?: string;
  deps: CrateRef[];
}

/** "registry+https://...", "git+https://x#rev" → the kind of origin. */
export function sourceKind(source: string | undefined): 'registry' | 'git' | 'local' | 'other' {
  if (!source) return 'local';
  if (source.startsWith('registry+') || source.startsWith('sparse+')) return 'registry';
  if (source.startsWith('git+')) return 'git';
  return 'other';
}

/** A source without the git revision fragment and query (dependency entries omit them). */
function sourceBase(s: string): string {
  return s.replace(/[?#].*$/, '');
}

export function parseCargoLock(text: string): LockedCrate[] {
  const doc = parseToml(text) as Record<string, unknown>;
  const raw = Array.isArray(doc.package) ? doc.package : [];
  const crates: (LockedCrate & { depSpecs: string[] })[] = [];
  for (const p of raw) {
    if (typeof p !== 'object' || p === null) continue;
    const o = p as Record<string, unknown>;
    if (typeof o.name !== 'string' || typeof o.version !== 'string') continue;
    crates.push({
      name: o.name,
      version: o.version,
      ...(typeof o.source === 'string' ? { source: o.source } : {}),
      ...(typeof o.checksum === 'string' ? { checksum: o.checksum } : {}),
      deps: [],
      depSpecs: Array.isArray(o.dependencies)
        ? o.dependencies.filter((d): d is string => typeof d === 'string')
        : [],
    });
  }
  // v1: checksums in [metadata]
  const meta = doc.metadata;
  if (typeof meta === 'object' && meta !== null) {
    for (const [k, v] of Object.entries(meta as Record<string, unknown>)) {
      const m = /^checksum (\S+) (\S+)(?: \((.*)\))?$/.exec(k);
      if (!m || typeof v !== 'string' || v === '<none>') continue;
      const c = crates.find((x) => x.name === m[1] && x.version === m[2] && (!m[3] || x.source === m[3]));
      if (c && !c.checksum) c.checksum = v;
    }
  }
  for (const c of crates) {
    for (const spec of c.depSpecs) {
      const m = /^(\S+)(?: (\S+))?(?: \((.*)\))?$/.exec(spec.trim());
      if (!m) continue;
      const [, name, version, source] = m;
      const cands = crates.filter(
        (x) =>
          x.name === name &&
          (!version || x.version === version) &&
          (!source || (x.source !== undefined && sourceBase(x.source) === sourceBase(source))),
      );
      // An unambiguous short form matches one crate; an ambiguous one is left out rather than guessed.
      if (cands.length === 1)
        c.deps.push({ name: cands[0]!.name, version: cands[0]!.version, source: cands[0]!.source });
    }
  }
  return crates.map(({ depSpecs: _d, ...c }) => c);
}
