/**
 * Ruby cataloger: installed gem specifications (…/specifications/**\/*.gemspec, including RubyGems'
 * default gems in specifications/default/) and Bundler lock files (Gemfile.lock, gems.locked,
 * Gemfile.<name>.lock). purl: pkg:gem/name@version[?platform=...].
 */
import { posix } from 'node:path';
import { buildPurl } from '../../core/purl.js';
import type { AnalysisRecord } from '../../core/analyzer.js';
import type { Cataloger, PackageDraft } from '../types.js';
import { parseGemspec, type Gemspec } from './gemspec.js';
import { parseGemfileLock, type GemfileLock } from './gemfile-lock.js';

export { parseGemspec, type Gemspec } from './gemspec.js';
export { parseGemfileLock, type GemfileLock, type LockedGem } from './gemfile-lock.js';

export type RubyRecord = { kind: 'gemspec'; spec: Gemspec } | { kind: 'lock'; lock: GemfileLock };

const isLockFile = (base: string) => base === 'gems.locked' || /^Gemfile(\.[^/]+)?\.lock$/.test(base);

function gemIdentity(name: string, version: string, platform?: string) {
  return {
    name,
    version,
    type: 'gem' as const,
    ecosystem: 'RubyGems',
    purl: buildPurl({ type: 'gem', name, version, qualifiers: { platform } }),
  };
}

export const rubyCataloger: Cataloger<RubyRecord> = {
  name: 'ruby',
  scope: 'final',
  maxBytes: 16 * 1024 * 1024,
  wants: (e) =>
    (e.path.endsWith('.gemspec') && e.path.includes('/specifications/')) ||
    isLockFile(posix.basename(e.path)),
  analyze(file, ctx) {
    const text = file.content.toString('utf8');
    if (file.path.endsWith('.gemspec')) {
      const spec = parseGemspec(text);
      if (!spec) {
        ctx.warn(`${file.path}: no gem name and version found in gemspec`);
        return undefined;
      }
      return { kind: 'gemspec', spec };
    }
    return { kind: 'lock', lock: parseGemfileLock(text) };
  },
  finalize(records: AnalysisRecord<RubyRecord>[]) {
    const drafts: PackageDraft[] = [];
    for (const record of records) {
      const r = record.result;
      if (r.kind === 'gemspec') {
        const s = r.spec;
        drafts.push({
          ...gemIdentity(s.name, s.version, s.platform),
          licenses: s.licenses,
          foundBy: 'ruby-gemspec',
          dependsOn: s.dependencies.map((name) => ({ name })),
          ...(s.homepage ? { metadata: { homepage: s.homepage } } : {}),
          record,
        });
        continue;
      }
      const direct = new Set(r.lock.direct);
      for (const g of r.lock.gems) {
        const metadata: Record<string, unknown> = { source: g.source.type };
        if (g.source.remote) metadata.remote = g.source.remote;
        if (g.source.revision) metadata.revision = g.source.revision;
        if (direct.has(g.name)) metadata.direct = true;
        if (r.lock.bundledWith) metadata.bundledWith = r.lock.bundledWith;
        drafts.push({
          ...gemIdentity(g.name, g.version, g.platform),
          licenses: [],
          foundBy: 'ruby-gemfile-lock',
          dependsOn: g.dependencies.map((name) => ({ name })),
          metadata,
          record,
        });
      }
    }
    return drafts;
  },
};
