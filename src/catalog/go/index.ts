/**
 * Go cataloger: modules compiled into Go binaries (from their build info, like `go version -m`)
 * and modules required by go.mod files.
 *
 * From a binary: the Go standard library as package "stdlib" (version without the "go" prefix,
 * purl pkg:golang/stdlib@1.19.8, the naming OSV's Go advisories use), the main module, and every
 * dependency with `=>` replacements applied. A main module built from a checkout reports "(devel)";
 * when the build recorded VCS info it gets the pseudo-version Go would give that commit
 * (v0.0.0-<commit time>-<12 hex of revision>). A module replaced by a local directory has no version.
 */
import { posix } from 'node:path';
import type { AnalysisRecord, AnalyzerFile, AnalyzeContext, FileEntry } from '../../core/analyzer.js';
import { buildPurl } from '../../core/purl.js';
import type { Cataloger, CatalogContext, PackageDraft } from '../types.js';
import { type GoBuildInfo, type GoModule, readGoBuildInfo } from './buildinfo.js';
import { type GoMod, parseGoMod } from './gomod.js';

export { parseGoMod } from './gomod.js';
export { parseModInfo, readGoBuildInfo, readBuildInfoStrings } from './buildinfo.js';
export { openExecutable, looksExecutable } from './exe.js';
export type { GoBuildInfo, GoModule } from './buildinfo.js';
export type { GoMod, GoModRequire } from './gomod.js';
export type { Executable, ExeSection } from './exe.js';

export type GoRecord = { kind: 'binary'; info: GoBuildInfo } | { kind: 'gomod'; mod: GoMod };

/** Binaries bigger than this are skipped (with the walker's warning). */
export const GO_BINARY_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Files worth opening as possible binaries: executable bit or a bin directory; not obvious
 * scripts or text. The content check (ELF/Mach-O/PE magic) happens in analyze.
 */
export function isCandidateBinary(entry: FileEntry): boolean {
  if (entry.size < 1024) return false;
  const exec = (entry.mode & 0o111) !== 0 || /\/s?bin\//.test(entry.path);
  if (!exec) return false;
  return !/\.(sh|py|pl|rb|js|txt|md|json|ya?ml|conf|cfg|h|c|go|so(\.[\d.]+)?)$/i.test(entry.path);
}

export function goPurl(path: string, version: string): string {
  const slash = path.lastIndexOf('/');
  return buildPurl({
    type: 'golang',
    namespace: slash > 0 ? path.slice(0, slash) : undefined,
    name: slash > 0 ? path.slice(slash + 1) : path,
    version: version === '(devel)' ? undefined : version,
  });
}

/** "go1.19.8" → "1.19.8"; "go1.21.0 X:boringcrypto" → "1.21.0"; devel toolchains → undefined. */
export function stdlibVersion(goVersion: string): string | undefined {
  const m = /^go(\d+(?:\.\d+){0,2}(?:(?:rc|beta)\d+)?)(?:\s|$)/.exec(goVersion.trim());
  return m?.[1];
}

function pseudoVersion(settings: Record<string, string>): string | undefined {
  const rev = settings['vcs.revision'];
  const time = settings['vcs.time'];
  if (!rev || rev.length < 12 || !time) return undefined;
  const d = new Date(time);
  if (Number.isNaN(d.getTime())) return undefined;
  const ts = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `v0.0.0-${ts}-${rev.slice(0, 12)}`;
}

function draft(
  path: string,
  version: string,
  foundBy: string,
  record: AnalysisRecord,
  extra: Partial<PackageDraft> = {},
): PackageDraft {
  return {
    name: path,
    version,
    type: 'golang',
    ecosystem: 'Go',
    purl: goPurl(path, version),
    licenses: [],
    foundBy,
    record,
    ...extra,
  };
}

/** Effective identity of a module after its replacement. */
export function isLocalReplacement(r: GoModule): boolean {
  // Go writes "=> ./dir (devel)" for a directory replacement; a module path never starts with . or /
  return !r.version || r.version === '(devel)' || /^(\.\.?[/\\]|[/\\]|[A-Za-z]:[/\\])/.test(r.path);
}

function effective(m: GoModule): { path: string; version: string; sum?: string; replaced?: GoModule } {
  if (!m.replace) return { path: m.path, version: m.version, sum: m.sum };
  if (isLocalReplacement(m.replace)) return { path: m.path, version: '', replaced: m.replace }; // local directory
  return { path: m.replace.path, version: m.replace.version, sum: m.replace.sum, replaced: m };
}

function binaryDrafts(record: AnalysisRecord, info: GoBuildInfo): PackageDraft[] {
  const out: PackageDraft[] = [];
  const common: Record<string, unknown> = { goVersion: info.goVersion };
  for (const k of ['GOOS', 'GOARCH', '-ldflags', 'vcs', 'vcs.revision', 'vcs.time', 'vcs.modified'])
    if (info.settings[k] !== undefined) common[k] = info.settings[k];
  const deps = info.deps.map(effective);
  for (const d of deps) {
    const metadata: Record<string, unknown> = { ...common };
    if (d.sum) metadata.h1Digest = d.sum;
    if (d.replaced === undefined) {
      /* not replaced */
    } else if (d.version === '')
      metadata.replacedBy = d.replaced.path; // local directory
    else metadata.replaces = `${d.replaced.path}@${d.replaced.version}`;
    out.push(draft(d.path, d.version, 'go-binary', record, { metadata }));
  }
  const std = stdlibVersion(info.goVersion);
  if (std) out.push(draft('stdlib', std, 'go-binary', record, { metadata: { ...common } }));
  if (info.main?.path) {
    let version = info.main.version || '(devel)';
    if (version === '(devel)') version = pseudoVersion(info.settings) ?? '(devel)';
    out.push(
      draft(info.main.path, version, 'go-binary', record, {
        metadata: { ...common, mainModule: true, ...(info.path ? { mainPackage: info.path } : {}) },
        dependsOn: [
          ...deps.map((d) => ({ name: d.path, version: d.version })),
          ...(std ? [{ name: 'stdlib', version: std }] : []),
        ],
      }),
    );
  }
  return out;
}

function goModDrafts(record: AnalysisRecord, mod: GoMod): PackageDraft[] {
  return mod.requires.map((r) =>
    draft(r.path, r.version, 'go-mod', record, {
      metadata: {
        ...(r.indirect ? { indirect: true } : {}),
        ...(r.replaced ? { replaces: `${r.replaced.path}@${r.replaced.version}` } : {}),
      },
    }),
  );
}

export const goCataloger: Cataloger<GoRecord> = {
  name: 'go',
  scope: 'final',
  maxBytes: GO_BINARY_MAX_BYTES,
  wants(entry: FileEntry): boolean {
    if (posix.basename(entry.path) === 'go.mod') {
      // modules in a module cache or a vendor tree are sources, not what the project requires
      return !/\/pkg\/mod\/|\/vendor\//.test(entry.path) && entry.size <= 16 * 1024 * 1024;
    }
    return isCandidateBinary(entry);
  },
  analyze(file: AnalyzerFile, ctx: AnalyzeContext): GoRecord | undefined {
    if (posix.basename(file.path) === 'go.mod') {
      try {
        return { kind: 'gomod', mod: parseGoMod(file.content.toString('utf8')) };
      } catch (e) {
        ctx.warn(`cannot parse go.mod: ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      }
    }
    const info = readGoBuildInfo(file.content); // undefined fast for anything but a Go binary
    return info ? { kind: 'binary', info } : undefined;
  },
  finalize(records: AnalysisRecord<GoRecord>[], _ctx: CatalogContext): PackageDraft[] {
    const out: PackageDraft[] = [];
    for (const r of records) {
      if (r.result.kind === 'binary') out.push(...binaryDrafts(r, r.result.info));
      else out.push(...goModDrafts(r, r.result.mod));
    }
    return out;
  },
};
