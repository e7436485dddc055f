/**
 * Python cataloger: installed distributions (*.dist-info/METADATA, *.egg-info/PKG-INFO or an
 * *.egg-info file, with requires.txt and direct_url.json beside them) and pin/lock files
 * (requirements*.txt, Pipfile.lock, poetry.lock, uv.lock).
 *
 * Debian ships most Python libraries as *.egg-info directories under /usr/lib/python3/dist-packages;
 * they are read the same way as pip's dist-info. Names keep their declared spelling; purls use the
 * PEP 503 normalised name.
 */
import { posix } from 'node:path';
import type { AnalysisRecord, AnalyzerFile, AnalyzeContext, FileEntry } from '../../core/analyzer.js';
import { buildPurl } from '../../core/purl.js';
import type { Cataloger, CatalogContext, PackageDraft } from '../types.js';
import {
  type PyLockPackage,
  normalizePyName,
  parsePipfileLock,
  parsePoetryLock,
  parseRequirements,
  parseUvLock,
} from './locks.js';
import { type CoreMetadata, parseCoreMetadata, parseRequiresTxt } from './metadata.js';

export {
  normalizePyName,
  parsePipfileLock,
  parsePoetryLock,
  parseRequirements,
  parseUvLock,
} from './locks.js';
export { parseCoreMetadata, parseRequiresTxt } from './metadata.js';
export type { PyLockPackage } from './locks.js';
export type { CoreMetadata } from './metadata.js';

export type PythonRecord =
  | { kind: 'metadata'; meta: CoreMetadata }
  | { kind: 'requires'; names: string[] }
  | { kind: 'direct-url'; vcsUrl?: string }
  | { kind: 'lock'; format: 'requirements' | 'pipfile' | 'poetry' | 'uv'; packages: PyLockPackage[] };

const FOUND_BY = {
  requirements: 'python-requirements',
  pipfile: 'python-pipfile-lock',
  poetry: 'python-poetry-lock',
  uv: 'python-uv-lock',
};

type Kind =
  'metadata' | 'egg-file' | 'requires' | 'direct-url' | 'requirements' | 'pipfile' | 'poetry' | 'uv';

function classify(path: string): Kind | undefined {
  const base = posix.basename(path);
  const parent = posix.basename(posix.dirname(path)).toLowerCase();
  const inMetaDir = parent.endsWith('dist-info') || parent.endsWith('egg-info');
  if (inMetaDir) {
    if (base === 'METADATA' || base === 'PKG-INFO') return 'metadata';
    if (base === 'requires.txt') return 'requires';
    if (base === 'direct_url.json') return 'direct-url';
    return undefined;
  }
  if (base.toLowerCase().endsWith('.egg-info')) return 'egg-file';
  if (base === 'Pipfile.lock') return 'pipfile';
  if (base === 'poetry.lock') return 'poetry';
  if (base === 'uv.lock') return 'uv';
  if (/requirements.*\.txt$/i.test(base) || (parent === 'requirements' && base.endsWith('.txt')))
    return 'requirements';
  return undefined;
}

export function pypiPurl(
  name: string,
  version: string,
  qualifiers?: Record<string, string | undefined>,
): string {
  return buildPurl({ type: 'pypi', name: normalizePyName(name), version, qualifiers });
}

function vcsUrlOf(doc: unknown): string | undefined {
  // PEP 610: {"url": "...", "vcs_info": {"vcs": "git", "commit_id": "..."}} → "git+URL@commit"
  if (typeof doc !== 'object' || doc === null) return undefined;
  const d = doc as { url?: unknown; vcs_info?: { vcs?: unknown; commit_id?: unknown } };
  if (typeof d.url !== 'string' || !d.vcs_info || typeof d.vcs_info.vcs !== 'string') return undefined;
  const commit = typeof d.vcs_info.commit_id === 'string' ? `@${d.vcs_info.commit_id}` : '';
  return `${d.vcs_info.vcs}+${d.url}${commit}`;
}

export const pythonCataloger: Cataloger<PythonRecord> = {
  name: 'python',
  scope: 'final',
  maxBytes: 32 * 1024 * 1024,
  wants(entry: FileEntry): boolean {
    return classify(entry.path) !== undefined;
  },
  analyze(file: AnalyzerFile, ctx: AnalyzeContext): PythonRecord | undefined {
    const kind = classify(file.path);
    const text = () => file.content.toString('utf8').replace(/^\uFEFF/, '');
    try {
      switch (kind) {
        case 'metadata':
        case 'egg-file':
          return { kind: 'metadata', meta: parseCoreMetadata(text()) };
        case 'requires':
          return { kind: 'requires', names: parseRequiresTxt(text()) };
        case 'direct-url':
          return { kind: 'direct-url', vcsUrl: vcsUrlOf(JSON.parse(text())) };
        case 'requirements':
          return { kind: 'lock', format: 'requirements', packages: parseRequirements(text()) };
        case 'pipfile':
          return { kind: 'lock', format: 'pipfile', packages: parsePipfileLock(JSON.parse(text())) };
        case 'poetry':
          return { kind: 'lock', format: 'poetry', packages: parsePoetryLock(text()) };
        case 'uv':
          return { kind: 'lock', format: 'uv', packages: parseUvLock(text()) };
        default:
          return undefined;
      }
    } catch (e) {
      ctx.warn(`cannot parse ${posix.basename(file.path)}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  },
  finalize(records: AnalysisRecord<PythonRecord>[], _ctx: CatalogContext): PackageDraft[] {
    // Files of one *.dist-info / *.egg-info directory belong together.
    const byDir = new Map<string, AnalysisRecord<PythonRecord>[]>();
    for (const r of records) {
      const dir = posix.dirname(r.path);
      byDir.set(dir, [...(byDir.get(dir) ?? []), r]);
    }
    const out: PackageDraft[] = [];
    for (const r of records) {
      const res = r.result;
      if (res.kind === 'lock') {
        for (const p of res.packages) {
          out.push({
            name: p.name,
            version: p.version,
            type: 'pypi',
            ecosystem: 'PyPI',
            purl: pypiPurl(p.name, p.version),
            licenses: [],
            foundBy: FOUND_BY[res.format],
            ...(p.dev ? { dev: true } : {}),
            dependsOn: p.deps,
            record: r,
          });
        }
        continue;
      }
      if (res.kind !== 'metadata') continue;
      const m = res.meta;
      if (!m.name || !m.version) continue; // no version: nothing to match or report reliably
      const siblings = posix.basename(r.path).toLowerCase().endsWith('.egg-info')
        ? []
        : (byDir.get(posix.dirname(r.path)) ?? []);
      let requires = m.requires;
      let vcsUrl: string | undefined;
      for (const s of siblings) {
        if (s.result.kind === 'requires' && !requires.length) requires = s.result.names;
        if (s.result.kind === 'direct-url') vcsUrl = s.result.vcsUrl;
      }
      const metadata: Record<string, unknown> = {};
      if (m.summary) metadata.summary = m.summary;
      if (m.author) metadata.author = m.author;
      if (m.homePage) metadata.homePage = m.homePage;
      out.push({
        name: m.name,
        version: m.version,
        type: 'pypi',
        ecosystem: 'PyPI',
        purl: pypiPurl(m.name, m.version, { vcs_url: vcsUrl }),
        licenses: m.licenses,
        foundBy: 'python-installed',
        dependsOn: requires.map((name) => ({ name })),
        ...(Object.keys(metadata).length ? { metadata } : {}),
        record: r,
      });
    }
    return out;
  },
};
