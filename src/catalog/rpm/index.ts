/**
 * rpm cataloger (RHEL, CentOS, Rocky, AlmaLinux, Fedora, Amazon Linux, SUSE...): the installed
 * package database in any of rpm's three formats, found in any of its usual directories:
 *   rpmdb.sqlite (rpm >= 4.16), Packages (Berkeley DB hash), Packages.db (NDB)
 *   in /var/lib/rpm, /usr/lib/sysimage/rpm, /usr/share/rpm.
 * and, without any of them, /var/lib/rpmmanifest/container-manifest-2 (Mariner distroless).
 * When an image holds more than one database (a stale Packages next to rpmdb.sqlite after a
 * migration), the newest format is used: sqlite, then NDB, then Berkeley DB, then the manifest.
 *
 * Versions are reported as rpm prints them with %{EPOCHNUM}-less NEVRA: "[EPOCH:]VERSION-RELEASE".
 * Requires are resolved to installed packages by name, then by Provides, then by file path.
 */
import { posix } from 'node:path';
import type { AnalysisRecord } from '../../core/analyzer.js';
import { buildPurl } from '../../core/purl.js';
import { osEcosystem, purlDistro } from '../os/index.js';
import type { Cataloger, CatalogContext, PackageDraft } from '../types.js';
import { readBdbHashValues } from './bdb.js';
import { parseRpmHeader, parseSourceRpm, type RpmHeader } from './header.js';
import { readNdbBlobs } from './ndb.js';
import { readSqliteBlobs } from './sqlite.js';

export const RPM_CATALOGER = 'rpm';

const DB_DIRS = ['/var/lib/rpm', '/usr/lib/sysimage/rpm', '/usr/share/rpm'];
const DB_FILES = { 'rpmdb.sqlite': 'sqlite', 'Packages.db': 'ndb', Packages: 'bdb' } as const;
/** CBL-Mariner / Azure Linux distroless images list their rpms here instead of an rpmdb. */
const MANIFEST = '/var/lib/rpmmanifest/container-manifest-2';
type DbFormat = (typeof DB_FILES)[keyof typeof DB_FILES] | 'manifest';
const FORMAT_RANK: Record<DbFormat, number> = { sqlite: 0, ndb: 1, bdb: 2, manifest: 3 };

export interface RpmDbRecord {
  format: DbFormat;
  packages: RpmHeader[];
}

function formatOf(path: string): DbFormat | undefined {
  if (path === MANIFEST) return 'manifest';
  if (!DB_DIRS.includes(posix.dirname(path))) return undefined;
  return (DB_FILES as Record<string, DbFormat>)[posix.basename(path)];
}

/**
 * container-manifest-2: one tab-separated line per package: name, version-release, install time,
 * build time, vendor, epoch ("(none)" or a number), size, arch, checksum type, source rpm.
 */
export function parseRpmManifest(text: string, where: string, warn: (m: string) => void): RpmHeader[] {
  const out: RpmHeader[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const f = line.replace(/\r$/, '').split('\t');
    const m = /^(.+)-([^-]+)$/.exec(f[1] ?? '');
    if (f.length < 10 || !f[0] || !m) {
      warn(`rpm: ${where}:${i + 1}: malformed manifest line; skipped`);
      return;
    }
    const h: RpmHeader = {
      name: f[0],
      version: m[1]!,
      release: m[2]!,
      provides: [],
      requires: [],
      files: [],
    };
    if (/^\d+$/.test(f[5]!)) h.epoch = Number(f[5]);
    if (f[4] && f[4] !== '(none)') h.vendor = f[4];
    if (f[7]) h.arch = f[7];
    if (f[9]) h.sourceRpm = f[9];
    out.push(h);
  });
  return out;
}

/** Reads one rpm database file into package headers; corrupt headers are skipped with a warning. */
export function readRpmDb(
  content: Buffer,
  format: DbFormat,
  where: string,
  warn: (m: string) => void,
): RpmHeader[] {
  if (format === 'manifest') return parseRpmManifest(content.toString('utf8'), where, warn);
  let blobs: Buffer[];
  try {
    blobs =
      format === 'sqlite'
        ? readSqliteBlobs(content)
        : format === 'ndb'
          ? readNdbBlobs(content)
          : readBdbHashValues(content);
  } catch (e) {
    warn(`rpm: ${where}: cannot read the ${format} database: ${e instanceof Error ? e.message : String(e)}`);
    return [];
  }
  const out: RpmHeader[] = [];
  blobs.forEach((b, i) => {
    try {
      const h = parseRpmHeader(b);
      // gpg-pubkey "packages" are imported signing keys, not software
      if (h.name !== 'gpg-pubkey') out.push(h);
    } catch (e) {
      warn(`rpm: ${where}: package header #${i + 1}: ${e instanceof Error ? e.message : String(e)}; skipped`);
    }
  });
  return out;
}

export function rpmVersion(h: RpmHeader): string {
  const vr = h.release ? `${h.version}-${h.release}` : h.version;
  return h.epoch !== undefined ? `${h.epoch}:${vr}` : vr;
}

function finalize(records: AnalysisRecord<RpmDbRecord>[], ctx: CatalogContext): PackageDraft[] {
  if (!records.length) return [];
  const sorted = [...records].sort((a, b) => FORMAT_RANK[a.result.format] - FORMAT_RANK[b.result.format]);
  const record = sorted[0]!;
  for (const other of sorted.slice(1))
    ctx.warn(`rpm: ${other.path} ignored, using the newer database ${record.path}`);
  const headers = record.result.packages;

  const byName = new Set(headers.map((h) => h.name));
  const provider = new Map<string, string>();
  for (const h of headers) for (const p of h.provides) if (!provider.has(p)) provider.set(p, h.name);
  const fileOwner = new Map<string, string>();
  for (const h of headers) for (const f of h.files) if (!fileOwner.has(f)) fileOwner.set(f, h.name);

  const distro = ctx.distro;
  const ecosystem = osEcosystem('rpm', distro);
  const namespace = distro ? (distro.id === 'rhel' ? 'redhat' : distro.id) : undefined;
  return headers.map((h) => {
    const deps = new Set<string>();
    for (const r of h.requires) {
      const pick = byName.has(r) ? r : (provider.get(r) ?? fileOwner.get(r));
      if (pick && pick !== h.name) deps.add(pick);
    }
    const src = parseSourceRpm(h.sourceRpm);
    const vr = h.release ? `${h.version}-${h.release}` : h.version;
    const metadata: Record<string, unknown> = {};
    if (h.vendor) metadata.vendor = h.vendor;
    if (h.sourceRpm) metadata.sourceRpm = h.sourceRpm;
    if (h.modularityLabel) metadata.modularityLabel = h.modularityLabel;
    if (h.epoch !== undefined) metadata.epoch = h.epoch;
    const draft: PackageDraft = {
      name: h.name,
      version: rpmVersion(h),
      type: 'rpm',
      ecosystem,
      purl: buildPurl({
        type: 'rpm',
        namespace,
        name: h.name,
        version: vr,
        qualifiers: {
          arch: h.arch,
          epoch: h.epoch !== undefined ? String(h.epoch) : undefined,
          distro: purlDistro(distro),
          upstream: h.sourceRpm,
        },
      }),
      licenses: h.license ? [h.license] : [],
      foundBy: RPM_CATALOGER,
      record,
      dependsOn: [...deps].map((name) => ({ name })),
      files: h.files,
      metadata,
    };
    if (src) {
      draft.sourceName = src.name;
      if (src.version !== vr) draft.sourceVersion = src.version;
    }
    if (h.arch && h.arch !== '(none)') draft.arch = h.arch;
    return draft;
  });
}

export const rpmCataloger: Cataloger<RpmDbRecord> = {
  name: RPM_CATALOGER,
  scope: 'final',
  // big distributions' databases reach tens of megabytes
  maxBytes: 256 * 1024 * 1024,
  wants: (e) => formatOf(e.path) !== undefined,
  analyze(file, ctx) {
    const format = formatOf(file.path)!;
    if (file.content.length === 0) return undefined;
    return { format, packages: readRpmDb(file.content, format, file.path, ctx.warn) };
  },
  finalize,
};
