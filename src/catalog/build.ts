/**
 * Turns the records of one analysis (the single pass over an artifact) into a Catalog: detects the
 * distribution, runs every cataloger's finalize with it, then gives each package its id,
 * locations, OSV ecosystem, resolved dependencies and owning OS package.
 */
import type { AnalysisRecord, AnalysisResult, FileIndex } from '../core/analyzer.js';
import type { Catalog, Distro, Location, Package, PackageType } from '../core/types.js';
import { locationFrom, recordLocation } from './location.js';
import {
  detectDistro,
  distroFromBaseFiles,
  OS_ANALYZER_NAME,
  osEcosystem,
  type OsFileResult,
} from './os/index.js';
import type { Cataloger, PackageDraft } from './types.js';

const OS_TYPES: ReadonlySet<PackageType> = new Set(['deb', 'apk', 'rpm']);

/** OSV ecosystem names of the language package types. */
const LANGUAGE_ECOSYSTEMS: Partial<Record<PackageType, string>> = {
  npm: 'npm',
  pypi: 'PyPI',
  golang: 'Go',
  maven: 'Maven',
  gem: 'RubyGems',
  cargo: 'crates.io',
  composer: 'Packagist',
  nuget: 'NuGet',
};

export function ecosystemFor(type: PackageType, distro: Distro | undefined): string {
  return OS_TYPES.has(type) ? osEcosystem(type, distro) : (LANGUAGE_ECOSYSTEMS[type] ?? '');
}

interface Built {
  pkg: Package;
  draft: PackageDraft;
  /** Dependency-resolution group: the file the package was declared in, per cataloger. */
  group: string;
}

function runFinalizers(
  result: AnalysisResult,
  catalogers: readonly Cataloger[],
  distro: Distro | undefined,
  warnings: string[],
): { draft: PackageDraft; cataloger: string }[] {
  const out: { draft: PackageDraft; cataloger: string }[] = [];
  const ctx = { distro, files: result.files, warn: (m: string) => void warnings.push(m) };
  for (const c of catalogers) {
    const records = result.results.get(c.name) ?? [];
    if (!records.length) continue;
    try {
      for (const draft of c.finalize(records, ctx)) out.push({ draft, cataloger: c.name });
    } catch (e) {
      warnings.push(`${c.name}: cataloging failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return out;
}

function locationsOf(draft: PackageDraft, files: FileIndex): Location[] {
  const out: Location[] = [];
  const seen = new Set<string>();
  const add = (l: Location) => {
    if (seen.has(l.path)) return;
    seen.add(l.path);
    out.push(l);
  };
  if (draft.record) add(recordLocation(draft.record as AnalysisRecord));
  for (const l of draft.locations ?? []) {
    if (l.layer === undefined && l.path.startsWith('/')) {
      const e = files.get(l.path);
      add(e ? { ...locationFrom(l.path, e.layer), ...l } : l);
    } else add(l);
  }
  return out;
}

function toPackage(draft: PackageDraft, distro: Distro | undefined, files: FileIndex): Package {
  // Drop the draft-only fields; everything else is the package as the cataloger described it.
  const { record: _record, dependsOn: _deps, locations: _locs, ...rest } = draft;
  const pkg: Package = {
    ...rest,
    id: '',
    ecosystem: draft.ecosystem || ecosystemFor(draft.type, distro),
    locations: locationsOf(draft, files),
  };
  return pkg;
}

function compareStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Deterministic ids: "type:name@version#n", n counting duplicates in location order. */
function assignIds(built: Built[]): void {
  built.sort(
    (a, b) =>
      compareStr(a.pkg.type, b.pkg.type) ||
      compareStr(a.pkg.name, b.pkg.name) ||
      compareStr(a.pkg.version, b.pkg.version) ||
      compareStr(a.pkg.locations[0]?.path ?? '', b.pkg.locations[0]?.path ?? '') ||
      compareStr(a.pkg.foundBy, b.pkg.foundBy),
  );
  const counts = new Map<string, number>();
  for (const b of built) {
    const base = `${b.pkg.type}:${b.pkg.name}@${b.pkg.version}`;
    const n = counts.get(base) ?? 0;
    counts.set(base, n + 1);
    b.pkg.id = `${base}#${n}`;
  }
}

function normName(type: PackageType, name: string): string {
  // PEP 503: PyPI names compare case-insensitively with runs of -_. as one separator
  return type === 'pypi' ? name.toLowerCase().replace(/[-_.]+/g, '-') : name;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * Resolves `dependsOn` drafts ({name, version?}) to package ids:
 * 1. among the packages declared in the same file by the same cataloger (a lock file, a status
 *    file): same name, and same version when the draft gives one;
 * 2. only when that file declares a single package (status.d/NAME, an installed METADATA or
 *    package.json): among the same cataloger's packages in other files, preferring the one whose
 *    path shares the longest prefix with the dependent's (nearest node_modules or site-packages).
 * A dependency with no match is dropped (not installed / not in the artifact).
 */
function resolveDependencies(built: Built[]): void {
  // name index per group (same file) and per cataloger: key "<group>\0<normalised name>"
  const inGroup = new Map<string, Built[]>();
  const inCataloger = new Map<string, Built[]>();
  const groupSize = new Map<string, number>();
  const push = (m: Map<string, Built[]>, k: string, b: Built) => {
    const l = m.get(k);
    if (l) l.push(b);
    else m.set(k, [b]);
  };
  for (const b of built) {
    const n = normName(b.pkg.type, b.pkg.name);
    push(inGroup, `${b.group}\0${n}`, b);
    push(inCataloger, `${b.pkg.foundBy}\0${n}`, b);
    groupSize.set(b.group, (groupSize.get(b.group) ?? 0) + 1);
  }
  const pick = (named: Built[], version: string | undefined): Built[] => {
    if (!version) return named;
    const exact = named.filter((c) => c.pkg.version === version);
    return exact.length ? exact : named.length === 1 ? named : [];
  };
  for (const b of built) {
    const deps = b.draft.dependsOn;
    if (!deps?.length) continue;
    const ids = new Set<string>();
    for (const dep of deps) {
      const n = normName(b.pkg.type, dep.name);
      let found = pick(inGroup.get(`${b.group}\0${n}`) ?? [], dep.version)[0];
      if (!found && groupSize.get(b.group) === 1) {
        const here = b.pkg.locations[0]?.path ?? '';
        const cands = pick(inCataloger.get(`${b.pkg.foundBy}\0${n}`) ?? [], dep.version).filter(
          (c) => c !== b,
        );
        found = cands.sort(
          (x, y) =>
            commonPrefix(here, y.pkg.locations[0]?.path ?? '') -
            commonPrefix(here, x.pkg.locations[0]?.path ?? ''),
        )[0];
      }
      if (found && found !== b) ids.add(found.pkg.id);
    }
    b.pkg.dependsOn = [...ids];
  }
}

/**
 * Language packages found in a file that an OS package installed (Debian's python3-requests
 * egg-info, an npm module from a deb) get `ownedBy` = that OS package's id. Paths are compared as
 * written and after resolving the image's symlinks (merged /usr: /lib → /usr/lib).
 */
function assignOwners(built: Built[], files: FileIndex): void {
  const owner = new Map<string, string>();
  // Only the top directory is checked for a symlink (/lib, /bin, /sbin on merged-/usr systems):
  // resolving every path of every OS package would cost more than it finds.
  const topTarget = new Map<string, string | undefined>();
  const viaTopSymlink = (p: string): string | undefined => {
    const slash = p.indexOf('/', 1);
    if (slash < 0) return undefined;
    const top = p.slice(0, slash);
    if (!topTarget.has(top))
      topTarget.set(top, files.get(top)?.type === 'symlink' ? files.resolve(top) : undefined);
    const target = topTarget.get(top);
    return target ? target + p.slice(slash) : undefined;
  };
  for (const b of built) {
    if (!OS_TYPES.has(b.pkg.type) || !b.pkg.files) continue;
    for (const f of b.pkg.files) {
      if (!owner.has(f)) owner.set(f, b.pkg.id);
      const alt = viaTopSymlink(f);
      if (alt && !owner.has(alt)) owner.set(alt, b.pkg.id);
    }
  }
  if (!owner.size) return;
  for (const b of built) {
    if (OS_TYPES.has(b.pkg.type)) continue;
    for (const l of b.pkg.locations) {
      const id = owner.get(l.path) ?? owner.get(files.resolve(l.path) ?? '');
      if (id) {
        b.pkg.ownedBy = id;
        break;
      }
    }
  }
}

/**
 * Builds the catalog of an analysis. `catalogers` defaults to the registered list; the analysis
 * must have been run with their analyzers (see catalogAnalyzers()). Warnings are the analysis'
 * own followed by the catalogers'.
 */
export function buildCatalog(result: AnalysisResult, catalogers: readonly Cataloger[]): Catalog {
  const warnings: string[] = [...result.warnings];
  const osRecords = (result.results.get(OS_ANALYZER_NAME) ?? []) as AnalysisRecord<OsFileResult>[];
  let distro = detectDistro(osRecords);
  let drafts = runFinalizers(result, catalogers, distro, warnings);
  if (!distro) {
    // Distroless without os-release: Debian's base-files version names the release.
    const baseFiles = drafts.find((d) => d.draft.type === 'deb' && d.draft.name === 'base-files');
    distro = baseFiles && distroFromBaseFiles(baseFiles.draft.version);
    if (distro) {
      warnings.length = result.warnings.length;
      drafts = runFinalizers(result, catalogers, distro, warnings);
    }
  }
  const built: Built[] = drafts.map(({ draft, cataloger }) => {
    const pkg = toPackage(draft, distro, result.files);
    return { pkg, draft, group: `${cataloger}\0${pkg.foundBy}\0${pkg.locations[0]?.path ?? ''}` };
  });
  assignIds(built);
  resolveDependencies(built);
  assignOwners(built, result.files);
  const catalog: Catalog = { packages: built.map((b) => b.pkg), warnings };
  if (distro) catalog.distro = distro;
  return catalog;
}
