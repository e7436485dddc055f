/**
 * .NET cataloger: <app>.deps.json (written next to every built .NET Core app: `libraries` says
 * what each Name/Version is — package, project, referenceassembly — and `targets` record the
 * dependency graph per runtime target) and NuGet's packages.lock.json (per target framework,
 * Direct / Transitive / CentralTransitive / Project entries), and PackageReference items of
 * *.csproj/*.fsproj/*.vbproj project files (see project.ts for which versions count).
 * purl: pkg:nuget/Name@version (name case preserved, as NuGet displays it).
 */
import { buildPurl } from '../../core/purl.js';
import type { AnalysisRecord } from '../../core/analyzer.js';
import type { Cataloger, PackageDraft } from '../types.js';
import { parseProjectFile } from './project.js';

export { parseProjectFile, type ProjectReference } from './project.js';

export interface DotnetPackage {
  name: string;
  version: string;
  /** deps.json library type ("package", "project") or packages.lock.json type ("Direct", "Transitive"...). */
  kind: string;
  sha512?: string;
  contentHash?: string;
  path?: string;
  dependsOn: { name: string; version?: string }[];
  targetFrameworks?: string[];
  /** PackageReference PrivateAssets (e.g. "all": a build-time tool or analyzer). */
  privateAssets?: string;
}

export interface DotnetFile {
  kind: 'deps' | 'lock' | 'project';
  packages: DotnetPackage[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** "Name/1.2.3" → [Name, 1.2.3] (the name never contains a slash). */
function splitKey(key: string): [string, string] | undefined {
  const i = key.lastIndexOf('/');
  if (i <= 0 || i === key.length - 1) return undefined;
  return [key.slice(0, i), key.slice(i + 1)];
}

/** Library types that are installed code; reference assemblies and runtime packs are not NuGet packages. */
const DEPS_TYPES = new Set(['package', 'project']);

export function parseDepsJson(text: string): DotnetFile {
  const doc = JSON.parse(text) as unknown;
  if (!isObj(doc) || !isObj(doc.libraries)) throw new Error('no "libraries" object');
  const targets = isObj(doc.targets) ? doc.targets : {};
  // Dependencies of a library: union over every target (usually one, plus RID-specific ones).
  const deps = new Map<string, Map<string, string>>();
  for (const t of Object.values(targets)) {
    if (!isObj(t)) continue;
    for (const [key, entry] of Object.entries(t)) {
      if (!isObj(entry) || !isObj(entry.dependencies)) continue;
      const m = deps.get(key) ?? new Map<string, string>();
      for (const [n, v] of Object.entries(entry.dependencies)) if (typeof v === 'string') m.set(n, v);
      deps.set(key, m);
    }
  }
  const packages: DotnetPackage[] = [];
  for (const [key, lib] of Object.entries(doc.libraries)) {
    const nv = splitKey(key);
    if (!nv || !isObj(lib)) continue;
    const kind = str(lib.type) ?? 'unknown';
    if (!DEPS_TYPES.has(kind)) continue;
    packages.push({
      name: nv[0],
      version: nv[1],
      kind,
      sha512: str(lib.sha512),
      path: str(lib.path),
      dependsOn: [...(deps.get(key) ?? new Map<string, string>())].map(([name, version]) => ({
        name,
        version,
      })),
    });
  }
  return { kind: 'deps', packages };
}

export function parsePackagesLock(text: string): DotnetFile {
  const doc = JSON.parse(text) as unknown;
  if (!isObj(doc) || !isObj(doc.dependencies)) throw new Error('no "dependencies" object');
  const byKey = new Map<string, DotnetPackage>();
  for (const [tfm, entries] of Object.entries(doc.dependencies)) {
    if (!isObj(entries)) continue;
    // Resolve each dependency's range to the version locked for the same target framework.
    const resolvedHere = new Map<string, string>();
    for (const [name, e] of Object.entries(entries))
      if (isObj(e) && str(e.resolved)) resolvedHere.set(name, e.resolved as string);
    for (const [name, e] of Object.entries(entries)) {
      if (!isObj(e)) continue;
      const version = str(e.resolved);
      // Project references carry no resolved version: they are this solution's own projects.
      if (!version) continue;
      const key = `${name}@${version}`;
      let p = byKey.get(key);
      if (!p) {
        p = {
          name,
          version,
          kind: str(e.type) ?? 'unknown',
          contentHash: str(e.contentHash),
          dependsOn: [],
          targetFrameworks: [],
        };
        byKey.set(key, p);
      }
      p.targetFrameworks!.push(tfm);
      if (isObj(e.dependencies)) {
        for (const dep of Object.keys(e.dependencies)) {
          const v = resolvedHere.get(dep);
          if (!p.dependsOn.some((d) => d.name === dep && d.version === v))
            p.dependsOn.push({ name: dep, version: v });
        }
      }
      if (p.kind !== 'Direct' && e.type === 'Direct') p.kind = 'Direct';
    }
  }
  return { kind: 'lock', packages: [...byKey.values()] };
}

const PROJECT_FILE = /\.(cs|fs|vb)proj$/;

const FOUND_BY = { deps: 'dotnet-deps', lock: 'dotnet-packages-lock', project: 'dotnet-project' } as const;

function projectFile(text: string): DotnetFile {
  return {
    kind: 'project',
    packages: parseProjectFile(text).map((r) => ({
      name: r.name,
      version: r.version,
      kind: 'PackageReference',
      dependsOn: [],
      ...(r.privateAssets ? { privateAssets: r.privateAssets } : {}),
    })),
  };
}

export const dotnetCataloger: Cataloger<DotnetFile> = {
  name: 'dotnet',
  scope: 'final',
  maxBytes: 32 * 1024 * 1024,
  wants: (e) =>
    e.path.endsWith('.deps.json') || e.path.endsWith('/packages.lock.json') || PROJECT_FILE.test(e.path),
  analyze(file, ctx) {
    const deps = file.path.endsWith('.deps.json');
    const project = PROJECT_FILE.test(file.path);
    try {
      const text = file.content.toString('utf8').replace(/^\uFEFF/, '');
      if (project) return projectFile(text);
      return deps ? parseDepsJson(text) : parsePackagesLock(text);
    } catch (e) {
      const what = project ? 'project file' : deps ? 'deps.json' : 'packages.lock.json';
      ctx.warn(`${file.path}: cannot parse ${what}: ${(e as Error).message}`);
      return undefined;
    }
  },
  finalize(records: AnalysisRecord<DotnetFile>[]) {
    const drafts: PackageDraft[] = [];
    for (const record of records) {
      for (const p of record.result.packages) {
        const metadata: Record<string, unknown> = { type: p.kind };
        if (p.sha512) metadata.sha512 = p.sha512;
        if (p.contentHash) metadata.contentHash = p.contentHash;
        if (p.path) metadata.path = p.path;
        if (p.targetFrameworks) metadata.targetFrameworks = p.targetFrameworks;
        if (p.privateAssets) metadata.privateAssets = p.privateAssets;
        drafts.push({
          name: p.name,
          version: p.version,
          type: 'nuget',
          ecosystem: 'NuGet',
          purl: buildPurl({ type: 'nuget', name: p.name, version: p.version }),
          licenses: [],
          foundBy: FOUND_BY[record.result.kind],
          dependsOn: p.dependsOn,
          metadata,
          record,
        });
      }
    }
    return drafts;
  },
};
