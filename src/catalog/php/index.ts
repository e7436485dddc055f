/**
 * PHP Composer cataloger: composer.lock (packages, and packages-dev as dev) and the installed
 * vendor/composer/installed.json (Composer 1 writes a plain array; Composer 2 writes
 * `{packages: [...], dev: bool, "dev-package-names": [...]}`).
 * purl: pkg:composer/vendor/name@version (https://github.com/package-url/purl-spec).
 */
import { buildPurl } from '../../core/purl.js';
import type { AnalysisRecord } from '../../core/analyzer.js';
import type { Cataloger, PackageDraft } from '../types.js';

interface ComposerPackage {
  name: string;
  version: string;
  licenses: string[];
  requires: string[];
  dev: boolean;
  type?: string;
  sourceRef?: string;
  distUrl?: string;
}

export interface ComposerFile {
  kind: 'lock' | 'installed';
  packages: ComposerPackage[];
}

/** Platform requirements (php, ext-*, lib-*, composer-*) are not packages. */
function isPlatformRequirement(name: string): boolean {
  return !name.includes('/');
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function licenseList(v: unknown): string[] {
  if (typeof v === 'string' && v) return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string' && x !== '');
  return [];
}

function toPackage(raw: unknown, dev: boolean): ComposerPackage | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const o = raw as Record<string, unknown>;
  const name = str(o.name);
  const version = str(o.version);
  if (!name || !version) return undefined;
  const require = o.require && typeof o.require === 'object' ? Object.keys(o.require) : [];
  const source = (o.source ?? {}) as Record<string, unknown>;
  const dist = (o.dist ?? {}) as Record<string, unknown>;
  return {
    name,
    version,
    licenses: licenseList(o.license),
    requires: require.filter((r) => !isPlatformRequirement(r)),
    dev,
    type: str(o.type),
    sourceRef: str(source.reference),
    distUrl: str(dist.url),
  };
}

/** Parses composer.lock or installed.json text; throws with a message on malformed JSON. */
export function parseComposer(text: string, kind: 'lock' | 'installed'): ComposerFile {
  const doc = JSON.parse(text) as unknown;
  const out: ComposerPackage[] = [];
  const add = (list: unknown, dev: (name: string) => boolean) => {
    if (!Array.isArray(list)) return;
    for (const raw of list) {
      const name = raw && typeof raw === 'object' ? str((raw as Record<string, unknown>).name) : undefined;
      const p = toPackage(raw, name ? dev(name) : false);
      if (p) out.push(p);
    }
  };
  if (kind === 'lock') {
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('not a composer.lock object');
    const o = doc as Record<string, unknown>;
    add(o.packages, () => false);
    add(o['packages-dev'], () => true);
  } else if (Array.isArray(doc)) {
    add(doc, () => false); // Composer 1: no dev information
  } else if (doc && typeof doc === 'object') {
    const o = doc as Record<string, unknown>;
    const devNames = new Set(licenseList(o['dev-package-names']));
    add(o.packages, (n) => devNames.has(n));
  } else {
    throw new Error('not an installed.json array or object');
  }
  return { kind, packages: out };
}

export const phpCataloger: Cataloger<ComposerFile> = {
  name: 'php-composer',
  scope: 'final',
  maxBytes: 32 * 1024 * 1024,
  wants: (e) => e.path.endsWith('/composer.lock') || e.path.endsWith('/vendor/composer/installed.json'),
  analyze(file, ctx) {
    const kind = file.path.endsWith('.lock') ? 'lock' : 'installed';
    try {
      return parseComposer(file.content.toString('utf8'), kind);
    } catch (e) {
      ctx.warn(`${file.path}: cannot parse Composer ${kind} file: ${(e as Error).message}`);
      return undefined;
    }
  },
  finalize(records: AnalysisRecord<ComposerFile>[]) {
    const drafts: PackageDraft[] = [];
    for (const record of records) {
      const seen = new Set<string>();
      for (const p of record.result.packages) {
        const key = `${p.name}@${p.version}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const slash = p.name.indexOf('/');
        const metadata: Record<string, unknown> = {};
        if (p.type) metadata.composerType = p.type;
        if (p.sourceRef) metadata.sourceReference = p.sourceRef;
        if (p.distUrl) metadata.distUrl = p.distUrl;
        drafts.push({
          name: p.name,
          version: p.version,
          type: 'composer',
          ecosystem: 'Packagist',
          purl: buildPurl({
            type: 'composer',
            namespace: slash > 0 ? p.name.slice(0, slash) : undefined,
            name: slash > 0 ? p.name.slice(slash + 1) : p.name,
            version: p.version,
          }),
          licenses: p.licenses,
          foundBy: record.result.kind === 'lock' ? 'php-composer-lock' : 'php-composer-installed',
          dependsOn: p.requires.map((name) => ({ name })),
          ...(p.dev ? { dev: true } : {}),
          ...(Object.keys(metadata).length ? { metadata } : {}),
          record,
        });
      }
    }
    return drafts;
  },
};
