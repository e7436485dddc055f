/**
 * npm cataloger: lock files (package-lock.json v1-v3 / npm-shrinkwrap.json, yarn.lock classic and
 * berry, pnpm-lock.yaml v5/v6/v9) and installed packages (node_modules/<name>/package.json).
 *
 * A package.json outside node_modules is a project manifest, not an installed package (Trivy does
 * the same; syft reports it): it is read only to tell dev from prod dependencies for lock files
 * that do not record it (yarn). Installed packages get their dependencies pinned to the versions
 * Node would load, by resolving each one through the node_modules directories above them.
 */
import { posix } from 'node:path';
import type { AnalysisRecord, AnalyzerFile, AnalyzeContext, FileEntry } from '../../core/analyzer.js';
import { recordLocation } from '../location.js';
import type { Cataloger, CatalogContext, PackageDraft } from '../types.js';
import {
  type LockParse,
  isObject,
  normalizeLicenses,
  npmDraft,
  reachable,
  resolveNodeModule,
  stringRecord,
} from './common.js';
import { parsePackageLock } from './package-lock.js';
import { parsePnpmLock } from './pnpm-lock.js';
import { parseYarnLock } from './yarn-lock.js';

export { parsePackageLock } from './package-lock.js';
export { parsePnpmLock } from './pnpm-lock.js';
export { parseYarnLock } from './yarn-lock.js';
export type { LockPackage, LockParse } from './common.js';

export interface NpmManifest {
  name?: string;
  version?: string;
  licenses: string[];
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  private?: boolean;
  /** node_modules/<name>/package.json or node_modules/@scope/<name>/package.json */
  installed: boolean;
}

export type NpmRecord = { kind: 'lock'; lock: LockParse } | { kind: 'manifest'; manifest: NpmManifest };

const LOCK_NAMES = new Set(['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml']);
const FOUND_BY: Record<LockParse['format'], string> = {
  'package-lock': 'npm-lock',
  yarn: 'yarn-lock',
  pnpm: 'pnpm-lock',
};

/** True for ".../node_modules/name/package.json" and ".../node_modules/@scope/name/package.json". */
export function isInstalledManifestPath(path: string): boolean {
  const parts = path.split('/');
  const n = parts.length;
  if (
    n >= 3 &&
    parts[n - 3] === 'node_modules' &&
    !parts[n - 2]!.startsWith('@') &&
    !parts[n - 2]!.startsWith('.')
  )
    return true;
  return n >= 4 && parts[n - 4] === 'node_modules' && parts[n - 3]!.startsWith('@');
}

function parseManifest(doc: unknown, path: string): NpmManifest {
  if (!isObject(doc)) throw new Error('not a JSON object');
  return {
    ...(typeof doc.name === 'string' ? { name: doc.name } : {}),
    ...(typeof doc.version === 'string' ? { version: doc.version } : {}),
    licenses: normalizeLicenses(doc.license, doc.licenses),
    dependencies: stringRecord(doc.dependencies),
    devDependencies: stringRecord(doc.devDependencies),
    optionalDependencies: stringRecord(doc.optionalDependencies),
    peerDependencies: stringRecord(doc.peerDependencies),
    ...(doc.private === true ? { private: true } : {}),
    installed: isInstalledManifestPath(path),
  };
}

function parseJson(file: AnalyzerFile): unknown {
  // Strip a UTF-8 BOM: some Windows-written manifests carry one.
  return JSON.parse(file.content.toString('utf8').replace(/^\uFEFF/, ''));
}

export const npmCataloger: Cataloger<NpmRecord> = {
  name: 'npm',
  scope: 'final',
  maxBytes: 64 * 1024 * 1024,
  wants(entry: FileEntry): boolean {
    const base = posix.basename(entry.path);
    if (LOCK_NAMES.has(base)) return !entry.path.includes('/node_modules/.pnpm/');
    return base === 'package.json';
  },
  analyze(file: AnalyzerFile, ctx: AnalyzeContext): NpmRecord | undefined {
    const base = posix.basename(file.path);
    try {
      if (base === 'package.json') {
        const manifest = parseManifest(parseJson(file), file.path);
        return { kind: 'manifest', manifest };
      }
      if (base === 'yarn.lock') return { kind: 'lock', lock: parseYarnLock(file.content.toString('utf8')) };
      if (base === 'pnpm-lock.yaml')
        return { kind: 'lock', lock: parsePnpmLock(file.content.toString('utf8')) };
      return { kind: 'lock', lock: parsePackageLock(parseJson(file)) };
    } catch (e) {
      // Installed packages sometimes ship broken package.json files in test fixtures: warn, move on.
      ctx.warn(`cannot parse ${base}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  },
  finalize(records: AnalysisRecord<NpmRecord>[], ctx: CatalogContext): PackageDraft[] {
    const manifests = new Map<string, { record: AnalysisRecord<NpmRecord>; manifest: NpmManifest }>();
    for (const r of records)
      if (r.result.kind === 'manifest')
        manifests.set(posix.dirname(r.path), { record: r, manifest: r.result.manifest });
    const out: PackageDraft[] = [];
    // Lock-file packages by project directory and name@version: an installed copy below that
    // project's node_modules is the same package, reported once with both locations.
    const locked = new Map<string, Map<string, PackageDraft>>();
    for (const r of records) {
      if (r.result.kind !== 'lock') continue;
      const drafts = uniqueDrafts(
        lockDrafts(r, r.result.lock, manifests.get(posix.dirname(r.path))?.manifest),
      );
      out.push(...drafts);
      const dir = posix.dirname(r.path);
      const byId = locked.get(dir) ?? new Map<string, PackageDraft>();
      locked.set(dir, byId);
      for (const d of drafts)
        if (!d.metadata?.root && !byId.has(`${d.name}@${d.version}`)) byId.set(`${d.name}@${d.version}`, d);
    }
    /** The lock-file draft an installed package at `dir` duplicates: nearest project above it. */
    const lockedCopy = (dir: string, name: string, version: string): PackageDraft | undefined => {
      // "/app/node_modules/a/node_modules/b" -> projects "/app/node_modules/a", then "/app"
      const p = `/${dir.replace(/^\/+/, '')}`;
      for (
        let at = p.lastIndexOf('/node_modules/');
        at >= 0;
        at = at ? p.lastIndexOf('/node_modules/', at - 1) : -1
      ) {
        const project = p.slice(0, at);
        const byId = locked.get(dir.startsWith('/') ? project || '/' : project.slice(1) || '.') ?? undefined;
        if (byId) return byId.get(`${name}@${version}`);
      }
      return undefined;
    };
    // A package directory, following symlinks (pnpm links node_modules/<dep> into node_modules/.pnpm).
    const installedAt = (dir: string): string | undefined => {
      if (manifests.get(dir)?.manifest.installed) return dir;
      const realDir = ctx.files.resolve(dir);
      return realDir && manifests.get(realDir)?.manifest.installed ? realDir : undefined;
    };
    for (const [dir, { record, manifest: m }] of manifests) {
      if (!m.installed || !m.name || !m.version) continue;
      const deps: { name: string; version: string }[] = [];
      const wanted = { ...m.peerDependencies, ...m.optionalDependencies, ...m.dependencies };
      for (const depName of Object.keys(wanted)) {
        const at = resolveNodeModule(dir, depName, (d) => installedAt(d) !== undefined);
        const real = at && installedAt(at);
        const dm = real ? manifests.get(real)?.manifest : undefined;
        if (dm?.name && dm.version) deps.push({ name: dm.name, version: dm.version });
      }
      const same = lockedCopy(dir, m.name, m.version);
      if (same) {
        (same.locations ??= []).push(recordLocation(record));
        if (!same.licenses.length && m.licenses?.length) same.licenses = [...m.licenses];
        same.metadata = { ...same.metadata, installed: true };
        continue;
      }
      out.push(
        npmDraft({ name: m.name, version: m.version, licenses: m.licenses }, 'npm-installed', {
          record,
          dependsOn: deps,
          ...(m.private ? { metadata: { private: true } } : {}),
        }),
      );
    }
    return out;
  },
};

/**
 * One package per name@version within a lock file: npm nests the same version in several
 * node_modules directories (debug@2.6.9 under express, send, finalhandler...), and reporting each
 * copy would repeat every finding. It is dev only when every copy is.
 */
function uniqueDrafts(drafts: PackageDraft[]): PackageDraft[] {
  const seen = new Map<string, PackageDraft>();
  for (const d of drafts) {
    const k = `${d.name}@${d.version}`;
    const first = seen.get(k);
    if (!first) {
      seen.set(k, d);
      continue;
    }
    if (first.dev && !d.dev) delete first.dev;
    if (first.metadata?.optional && !d.metadata?.optional) {
      const { optional: _o, ...rest } = first.metadata;
      first.metadata = rest;
    }
  }
  return [...seen.values()];
}

function lockDrafts(
  record: AnalysisRecord,
  lock: LockParse,
  manifest: NpmManifest | undefined,
): PackageDraft[] {
  const foundBy = FOUND_BY[lock.format];
  let devSet: Set<string> | undefined;
  if (!lock.devKnown && manifest && lock.rootSpecs) {
    // Dev = reachable from devDependencies only (yarn does not record it).
    const graph = new Map<string, string[]>();
    for (const p of lock.packages)
      graph.set(
        `${p.name}@${p.version}`,
        p.deps.map((d) => `${d.name}@${d.version}`),
      );
    const roots = (deps: Record<string, string>) =>
      Object.entries(deps)
        .map(([n, r]) => lock.rootSpecs![`${n}@${r}`] ?? lock.rootSpecs![`${n}@npm:${r}`])
        .filter((x): x is string => Boolean(x));
    const prod = reachable(
      [
        ...roots(manifest.dependencies),
        ...roots(manifest.optionalDependencies),
        ...roots(manifest.peerDependencies),
      ],
      graph,
    );
    const dev = reachable(roots(manifest.devDependencies), graph);
    devSet = new Set([...dev].filter((k) => !prod.has(k)));
  }
  return lock.packages.map((p) => {
    // yarn berry writes workspaces as "0.0.0-use.local"; the project's package.json has the real version
    if (p.root && p.version === '0.0.0-use.local' && manifest?.version && manifest.name === p.name)
      p = { ...p, version: manifest.version };
    const isDev = p.dev ?? devSet?.has(`${p.name}@${p.version}`) ?? false;
    const metadata: Record<string, unknown> = {};
    if (p.root) metadata.root = true;
    if (p.optional) metadata.optional = true;
    if (p.peer) metadata.peer = true;
    if (p.resolved) metadata.resolved = p.resolved;
    if (p.integrity) metadata.integrity = p.integrity;
    return npmDraft({ name: p.name, version: p.version, licenses: p.licenses, dev: isDev }, foundBy, {
      record,
      dependsOn: p.deps,
      ...(Object.keys(metadata).length ? { metadata } : {}),
    });
  });
}
