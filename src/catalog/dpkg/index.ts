/**
 * dpkg cataloger (Debian, Ubuntu and derivatives).
 *
 * Reads:
 * - /var/lib/dpkg/status: the package database (deb822 paragraphs);
 * - /var/lib/dpkg/status.d/NAME: distroless images, one paragraph per file, no Status field;
 * - /var/lib/dpkg/info/NAME[:ARCH].list: the files each package installed (ownership);
 * - /var/lib/dpkg/status.d/NAME.md5sums: distroless file lists (no directories);
 * - /usr/share/doc/NAME/copyright: declared licenses.
 *
 * A package is reported when its files are on disk: every status except "not-installed" and
 * "config-files" (so "deinstall ok installed", "unpacked", "half-configured", "triggers-*" and
 * "half-installed" count, as they do for `dpkg-query -W` filtered on installed files).
 */
import { posix } from 'node:path';
import type { AnalysisRecord, FileEntry } from '../../core/analyzer.js';
import { buildPurl } from '../../core/purl.js';
import { recordLocation } from '../location.js';
import { osEcosystem, purlDistro } from '../os/index.js';
import type { Cataloger, CatalogContext, PackageDraft } from '../types.js';
import {
  parseDependsField,
  parseParagraphs,
  parseProvidesField,
  parseSourceField,
  type DebDependency,
} from './control.js';
import { parseCopyrightLicenses } from './copyright.js';

export const DPKG_CATALOGER = 'dpkg';

const STATUS_FILE = '/var/lib/dpkg/status';
const STATUS_DIR = '/var/lib/dpkg/status.d/';
const INFO_DIR = '/var/lib/dpkg/info/';
const DOC_DIR = '/usr/share/doc/';
/** Maintainer-script and control files that sit beside the paragraphs in status.d. */
const CONTROL_SUFFIXES =
  /\.(md5sums|preinst|postinst|prerm|postrm|conffiles|list|shlibs|symbols|triggers|templates|config)$/;
/** Statuses whose files are not (or no longer) on disk. */
const NOT_ON_DISK = new Set(['not-installed', 'config-files']);

const KEEP_FIELDS = new Set([
  'package',
  'status',
  'version',
  'architecture',
  'source',
  'depends',
  'pre-depends',
  'provides',
  'maintainer',
  'installed-size',
]);

export interface DebEntry {
  name: string;
  version: string;
  arch?: string;
  sourceName?: string;
  sourceVersion?: string;
  depends: DebDependency[];
  provides: string[];
  maintainer?: string;
  installedSize?: number;
  status?: string;
}

export type DpkgRecord =
  | { kind: 'db'; packages: DebEntry[] }
  | { kind: 'files'; name: string; arch?: string; files: string[] }
  | { kind: 'copyright'; licenses: string[] };

/** Parses a status file (or one status.d file) into the packages whose files are installed. */
export function parseStatus(text: string, where: string, warn: (m: string) => void): DebEntry[] {
  const { paragraphs, issues } = parseParagraphs(text, KEEP_FIELDS);
  for (const i of issues) warn(`dpkg: ${where}:${i.line}: ${i.message}; paragraph skipped`);
  const out: DebEntry[] = [];
  for (const p of paragraphs) {
    const f = p.fields;
    const name = f.get('package');
    const version = f.get('version');
    if (!name) {
      if (f.size > 1) warn(`dpkg: ${where}:${p.line}: paragraph without a Package name; skipped`);
      continue;
    }
    // dpkg always records a version for packages with files on disk; others are stubs
    if (!version) continue;
    const status = f.get('status');
    if (status !== undefined) {
      const state = status.split(/\s+/)[2];
      if (!state || NOT_ON_DISK.has(state)) continue;
    }
    const src = parseSourceField(f.get('source'));
    const size = Number(f.get('installed-size'));
    out.push({
      name,
      version,
      arch: f.get('architecture') || undefined,
      sourceName: src.name,
      sourceVersion: src.version,
      depends: [...parseDependsField(f.get('pre-depends')), ...parseDependsField(f.get('depends'))],
      provides: parseProvidesField(f.get('provides')),
      maintainer: f.get('maintainer'),
      installedSize: Number.isFinite(size) && f.has('installed-size') ? size : undefined,
      status,
    });
  }
  return out;
}

function isStatusDFile(path: string): boolean {
  if (!path.startsWith(STATUS_DIR)) return false;
  const base = path.slice(STATUS_DIR.length);
  return !base.includes('/') && !base.startsWith('.') && !CONTROL_SUFFIXES.test(base);
}

function wants(e: FileEntry): boolean {
  const p = e.path;
  if (p === STATUS_FILE) return true;
  if (p.startsWith(STATUS_DIR))
    return isStatusDFile(p) || (p.endsWith('.md5sums') && !p.slice(STATUS_DIR.length).includes('/'));
  if (p.startsWith(INFO_DIR)) return p.endsWith('.list') && !p.slice(INFO_DIR.length).includes('/');
  if (p.startsWith(DOC_DIR) && p.endsWith('/copyright')) return p.split('/').length === 6; // /usr/share/doc/NAME/copyright
  return false;
}

/** "libc6:amd64.list" → { name: "libc6", arch: "amd64" }. */
function nameFromControlFile(base: string): { name: string; arch?: string } {
  const stem = base.replace(/\.(list|md5sums)$/, '');
  const colon = stem.indexOf(':');
  return colon < 0 ? { name: stem } : { name: stem.slice(0, colon), arch: stem.slice(colon + 1) };
}

function parseFileList(text: string, md5sums: boolean): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.trimEnd();
    if (md5sums) {
      // "<md5>  usr/lib/..." (relative to the root)
      const m = /^[0-9a-f]{32}\s+(.+)$/.exec(line);
      if (!m) continue;
      line = `/${m[1]}`;
    }
    if (!line || line === '/.') continue;
    out.push(posix.normalize(line));
  }
  return out;
}

function analyze(file: { path: string; content: Buffer }, warn: (m: string) => void): DpkgRecord | undefined {
  const p = file.path;
  const text = file.content.toString('utf8');
  if (p.startsWith(DOC_DIR)) return { kind: 'copyright', licenses: parseCopyrightLicenses(text) };
  if (p.endsWith('.list') || (p.startsWith(STATUS_DIR) && p.endsWith('.md5sums'))) {
    const { name, arch } = nameFromControlFile(posix.basename(p));
    return { kind: 'files', name, arch, files: parseFileList(text, p.endsWith('.md5sums')) };
  }
  return { kind: 'db', packages: parseStatus(text, p, warn) };
}

/**
 * Chooses, for each dependency clause, the alternative that is installed (by package name, then by
 * a package that Provides it). Clauses with no installed alternative are dropped.
 */
function resolveDepends(entries: DebEntry[]): Map<DebEntry, string[]> {
  const installed = new Set(entries.map((e) => e.name));
  const provider = new Map<string, string>();
  for (const e of entries) for (const v of e.provides) if (!provider.has(v)) provider.set(v, e.name);
  const out = new Map<DebEntry, string[]>();
  for (const e of entries) {
    const deps = new Set<string>();
    for (const clause of e.depends) {
      const pick =
        clause.alternatives.find((a) => installed.has(a)) ??
        clause.alternatives.map((a) => provider.get(a)).find((p) => p !== undefined);
      if (pick && pick !== e.name) deps.add(pick);
    }
    out.set(e, [...deps]);
  }
  return out;
}

function finalize(records: AnalysisRecord<DpkgRecord>[], ctx: CatalogContext): PackageDraft[] {
  const dbs: { record: AnalysisRecord<DpkgRecord>; packages: DebEntry[] }[] = [];
  const fileLists = new Map<string, AnalysisRecord<DpkgRecord>>();
  const copyrights = new Map<string, string[]>();
  for (const r of records) {
    const res = r.result;
    if (res.kind === 'db') dbs.push({ record: r, packages: res.packages });
    else if (res.kind === 'copyright') copyrights.set(r.path, res.licenses);
    else {
      const key = `${res.name}:${res.arch ?? ''}`;
      // info/*.list (with directories) wins over status.d/*.md5sums
      if (!fileLists.has(key) || r.path.endsWith('.list')) fileLists.set(key, r);
    }
  }
  // status first, then status.d files in path order: the first paragraph for a name:arch wins
  dbs.sort((a, b) =>
    a.record.path === STATUS_FILE
      ? -1
      : b.record.path === STATUS_FILE
        ? 1
        : a.record.path.localeCompare(b.record.path),
  );
  const seen = new Set<string>();
  const chosen: { record: AnalysisRecord<DpkgRecord>; entry: DebEntry }[] = [];
  for (const db of dbs) {
    for (const entry of db.packages) {
      const key = `${entry.name}:${entry.arch ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      chosen.push({ record: db.record, entry });
    }
  }
  const deps = resolveDepends(chosen.map((c) => c.entry));
  const distro = ctx.distro;
  const ecosystem = osEcosystem('deb', distro);
  return chosen.map(({ record, entry }) => {
    const list = fileLists.get(`${entry.name}:${entry.arch ?? ''}`) ?? fileLists.get(`${entry.name}:`);
    const files = list && list.result.kind === 'files' ? list.result.files : undefined;
    const copyrightPath =
      ctx.files.resolve(`${DOC_DIR}${entry.name}/copyright`) ?? `${DOC_DIR}${entry.name}/copyright`;
    const licenses = copyrights.get(copyrightPath) ?? [];
    const upstream = entry.sourceName
      ? entry.sourceVersion
        ? `${entry.sourceName}@${entry.sourceVersion}`
        : entry.sourceName
      : undefined;
    const draft: PackageDraft = {
      name: entry.name,
      version: entry.version,
      type: 'deb',
      ecosystem,
      purl: buildPurl({
        type: 'deb',
        namespace: distro?.id ?? 'debian',
        name: entry.name,
        version: entry.version,
        qualifiers: { arch: entry.arch, distro: purlDistro(distro), upstream },
      }),
      licenses,
      foundBy: DPKG_CATALOGER,
      record,
      dependsOn: (deps.get(entry) ?? []).map((name) => ({ name })),
    };
    if (entry.sourceName) draft.sourceName = entry.sourceName;
    if (entry.sourceVersion) draft.sourceVersion = entry.sourceVersion;
    if (entry.arch) draft.arch = entry.arch;
    if (files) draft.files = files;
    if (list) draft.locations = [recordLocation(list)];
    const metadata: Record<string, unknown> = {};
    if (entry.maintainer) metadata.maintainer = entry.maintainer;
    if (entry.installedSize !== undefined) metadata.installedSize = entry.installedSize;
    if (entry.status) metadata.status = entry.status;
    if (entry.provides.length) metadata.provides = entry.provides;
    draft.metadata = metadata;
    return draft;
  });
}

export const dpkgCataloger: Cataloger<DpkgRecord> = {
  name: DPKG_CATALOGER,
  scope: 'final',
  wants,
  analyze: (file, ctx) => analyze(file, ctx.warn),
  finalize,
};
