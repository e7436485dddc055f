/**
 * Matches cataloged packages against OSV advisories and builds vulnerability findings.
 *
 * - Lookup key: (ecosystem base, normalised name). OS packages of Debian/Ubuntu are looked up by
 *   their SOURCE package (the advisories' key) and compared by source version; one finding is
 *   reported per installed binary package.
 * - An advisory's ecosystem must apply to the package's (`Debian:12` advisories only for Debian 12).
 * - Withdrawn records are never returned by the store; GIT ranges are ignored.
 * - Language packages owned by an OS package are skipped unless `includeOsOwned` (the distro
 *   backports fixes, so their upstream version says little).
 * - Records that are aliases of each other (by id or a shared alias) for the same package become
 *   one finding; see `pickRepresentative` for which id is reported.
 */
import type { CvssScore, VulnStatus, VulnerabilityFinding } from '../../core/findings.js';
import type { Catalog, Package, Severity } from '../../core/types.js';
import { severityRank } from '../../core/types.js';
import { distroEcosystem, ecosystemApplies, ecosystemBase, normalizePackageName } from '../ecosystem.js';
import type { OsvAffected, OsvRecord } from '../osv.js';
import { evaluateAffected } from './range.js';
import { comparatorFor } from './schemes.js';
import { severityOf } from './severity.js';

export interface AdvisorySource {
  lookup(ecosystem: string, name: string): OsvRecord[];
  /**
   * One record by id, when the source can: the records of an advisory's aliases (a GHSA or CVE
   * record) rate advisories that carry no severity of their own (most GO- and PYSEC- records).
   */
  get?(id: string): OsvRecord | undefined;
  /**
   * The object the matcher keys its memos (matched groups per package version, alias records)
   * by; sources returning the same object for the same content share them (the store's handles
   * on one database do). Default: the source itself.
   */
  memoScope?(): object;
}

export interface MatchOptions {
  /** Also match language packages whose files belong to an OS package. */
  includeOsOwned?: boolean;
  warn?: (msg: string) => void;
}

export interface MatchStats {
  packages: number;
  lookups: number;
  skippedOsOwned: number;
  skippedNoEcosystem: number;
}

/** The ecosystem a package is matched in (the catalog's distro fills in missing OS ecosystems). */
export function packageEcosystem(pkg: Package, catalog?: Pick<Catalog, 'distro'>): string {
  if (pkg.ecosystem) return pkg.ecosystem;
  if ((pkg.type === 'deb' || pkg.type === 'apk') && catalog?.distro) {
    return distroEcosystem(catalog.distro.id, catalog.distro.versionId) ?? '';
  }
  return '';
}

const SOURCE_KEYED = new Set(['Debian', 'Ubuntu']);

export function matchCatalog(
  catalog: Catalog,
  db: AdvisorySource,
  opts: MatchOptions = {},
): { findings: VulnerabilityFinding[]; stats: MatchStats } {
  const stats: MatchStats = { packages: 0, lookups: 0, skippedOsOwned: 0, skippedNoEcosystem: 0 };
  const findings: VulnerabilityFinding[] = [];
  const warned = new Set<string>();
  const warnOnce = (m: string) => {
    if (warned.has(m)) return;
    warned.add(m);
    opts.warn?.(m);
  };
  for (const pkg of catalog.packages) {
    stats.packages++;
    if (
      pkg.ownedBy &&
      !opts.includeOsOwned &&
      pkg.type !== 'deb' &&
      pkg.type !== 'apk' &&
      pkg.type !== 'rpm'
    ) {
      stats.skippedOsOwned++;
      continue;
    }
    const eco = packageEcosystem(pkg, catalog);
    if (!eco) {
      stats.skippedNoEcosystem++;
      continue;
    }
    stats.lookups++;
    for (const f of matchPackage(pkg, eco, db, warnOnce)) findings.push(f);
  }
  return { findings, stats };
}

/** Findings for one package in ecosystem `eco`. */
export function matchPackage(
  pkg: Package,
  eco: string,
  db: AdvisorySource,
  warn?: (m: string) => void,
): VulnerabilityFinding[] {
  const base = ecosystemBase(eco);
  const sourceKeyed = SOURCE_KEYED.has(base);
  const lookupName = sourceKeyed ? (pkg.sourceName ?? pkg.name) : pkg.name;
  const version = sourceKeyed ? (pkg.sourceVersion ?? pkg.version) : pkg.version;
  // the same package version recurs across images and layers: its matching records are computed once
  const scope = db.memoScope?.() ?? db;
  let memo = groupMemo.get(scope);
  if (!memo) groupMemo.set(scope, (memo = new Map()));
  const memoKey = `${eco}\0${lookupName}\0${version}`;
  let entry = memo.get(memoKey);
  if (!entry) {
    // the warnings of the computation are kept with its result and repeated on every later use:
    // a later scan (memos outlive a scan) must report them as the first one did
    const warnings: string[] = [];
    const groups = mergeAliases(matchingHits(eco, base, lookupName, version, db, (m) => warnings.push(m)));
    entry = { groups, warnings };
    if (memo.size >= 50_000) memo.clear();
    memo.set(memoKey, entry);
  }
  if (warn) for (const m of entry.warnings) warn(m);
  const out: VulnerabilityFinding[] = [];
  for (const group of entry.groups) out.push(toFinding(pkg, group, eco, warn, db));
  return out;
}

/** Merged hit groups (and the warnings met computing them) per (ecosystem, name, version), per memo scope. */
const groupMemo = new WeakMap<object, Map<string, { groups: Hit[][]; warnings: string[] }>>();

function matchingHits(
  eco: string,
  base: string,
  lookupName: string,
  version: string,
  db: AdvisorySource,
  warn?: (m: string) => void,
): Hit[] {
  const cmpFor = comparatorFor(eco);
  const hits: Hit[] = [];
  for (const rec of db.lookup(eco, lookupName)) {
    if (rec.withdrawn) continue;
    let hit: Hit | undefined;
    for (const a of rec.affected ?? []) {
      if (!a.package || !ecosystemApplies(eco, a.package.ecosystem)) continue;
      if (!sameName(base, a.package.name, lookupName)) continue;
      const r = evaluateAffected(version, a, cmpFor);
      if (r.invalid.length)
        warn?.(`${rec.id}: cannot compare ${lookupName} version "${version}" in ${eco}; range skipped`);
      if (!r.affected) continue;
      if (!hit) hit = { record: rec, affected: a, fixed: [] };
      for (const f of r.fixed) if (!hit.fixed.includes(f)) hit.fixed.push(f);
    }
    if (hit) hits.push(hit);
  }
  return hits;
}

interface Hit {
  record: OsvRecord;
  affected: OsvAffected;
  fixed: string[];
}

function sameName(base: string, a: string, b: string): boolean {
  return a === b || normalizePackageName(base, a) === normalizePackageName(base, b);
}

function idsOf(r: OsvRecord): string[] {
  return [r.id, ...(r.aliases ?? [])];
}

/** Groups hits whose records alias each other (share an id or alias), transitively. */
export function mergeAliases(hits: Hit[]): Hit[][] {
  const parent = hits.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const byId = new Map<string, number>();
  hits.forEach((h, i) => {
    for (const id of idsOf(h.record)) {
      const j = byId.get(id);
      if (j === undefined) byId.set(id, i);
      else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, Hit[]>();
  hits.forEach((h, i) => {
    const r = find(i);
    const g = groups.get(r) ?? [];
    g.push(h);
    groups.set(r, g);
  });
  return [...groups.values()].map((g) => g.sort((a, b) => compareIds(a.record.id, b.record.id)));
}

/**
 * Which id a merged finding carries: the ecosystem's own database (PYSEC, GO, RUSTSEC, DEBIAN...)
 * over GitHub's cross-ecosystem GHSA, over bare CVE records; ties by id, so the choice never
 * depends on DB order.
 */
export function compareIds(a: string, b: string): number {
  const rank = (id: string) => (id.startsWith('CVE-') ? 2 : id.startsWith('GHSA-') ? 1 : 0);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** The parts of a finding that depend only on the matched records (not on the package). */
type GroupFinding = Omit<VulnerabilityFinding, 'location' | 'package'>;
/** A group's finding part and its optional fields present, in the order groupFinding set them. */
interface GroupPart {
  g: GroupFinding;
  extra: (keyof GroupFinding)[];
  /** Warnings met building it (unreadable CVSS vectors...), repeated on every use. */
  warnings: string[];
}
const groupFindings = new WeakMap<Hit[], GroupPart>();
const FIXED_KEYS = new Set<string>([
  'kind',
  'id',
  'title',
  'severity',
  'aliases',
  'cvss',
  'fixedVersions',
  'status',
  'references',
]);

function toFinding(
  pkg: Package,
  group: Hit[],
  eco: string,
  warn?: (m: string) => void,
  db?: AdvisorySource,
): VulnerabilityFinding {
  // groups are memoised per package version, so their record-derived part is built once
  let part = groupFindings.get(group);
  if (!part) {
    const warnings: string[] = [];
    const g = groupFinding(group, (m) => warnings.push(m), db);
    part = {
      g,
      extra: (Object.keys(g) as (keyof GroupFinding)[]).filter((k) => !FIXED_KEYS.has(k)),
      warnings,
    };
    groupFindings.set(group, part);
  }
  if (warn && part.warnings.length) for (const m of part.warnings) warn(m);
  const g = part.g;
  const pkgRef: VulnerabilityFinding['package'] = {
    name: pkg.name,
    version: pkg.version,
    purl: pkg.purl,
    ecosystem: eco,
  };
  if (pkg.sourceName) pkgRef.sourceName = pkg.sourceName;
  if (pkg.sourceVersion) pkgRef.sourceVersion = pkg.sourceVersion;
  pkgRef.id = pkg.id;
  // one literal and the group's optional fields after it: the same keys in the same order as
  // before (reports unchanged), without a rest-spread copy per finding. Arrays are copied: a
  // report's consumer may edit one finding without touching the others.
  const f: VulnerabilityFinding = {
    kind: g.kind,
    id: g.id,
    title: g.title,
    severity: g.severity,
    location: pkg.locations[0] ?? { path: '' },
    aliases: g.aliases.slice(),
    cvss: g.cvss.slice(),
    package: pkgRef,
    fixedVersions: g.fixedVersions.slice(),
    status: g.status,
    references: g.references ? g.references.slice() : [],
  };
  for (const k of part.extra) (f as unknown as Record<string, unknown>)[k] = g[k];
  return f;
}

function groupFinding(group: Hit[], warn?: (m: string) => void, db?: AdvisorySource): GroupFinding {
  const main = group[0]!;
  const rec = main.record;
  const aliasSet = new Set<string>();
  for (const h of group)
    for (const id of [...idsOf(h.record), ...(h.record.upstream ?? [])]) aliasSet.add(id);
  aliasSet.delete(rec.id);
  // severity: the representative's, else the first other record that has one
  let sev = severityOf(rec, main.affected, warn);
  const cvss: CvssScore[] = [...sev.cvss];
  for (const h of group.slice(1)) {
    const s = severityOf(h.record, h.affected, warn);
    for (const c of s.cvss) if (!cvss.some((x) => x.vector === c.vector)) cvss.push(c);
    if (sev.severity === 'UNKNOWN' && s.severity !== 'UNKNOWN') sev = s;
  }
  // no rating in the matching records: take it from an alias's own record in the DB (GHSA first:
  // reviewed per package; then CVE records), and say which one
  let severityFrom: string | undefined;
  if (sev.severity === 'UNKNOWN' && db?.get) {
    const order = (id: string) => (id.startsWith('GHSA-') ? 0 : id.startsWith('CVE-') ? 1 : 2);
    for (const id of [...aliasSet].sort((a, b) => order(a) - order(b) || (a < b ? -1 : 1))) {
      const r = aliasRecord(db, id);
      if (!r || r.withdrawn) continue;
      const s = severityOf(r, undefined, warn);
      if (s.severity === 'UNKNOWN') continue;
      sev = s;
      severityFrom = id;
      for (const c of s.cvss)
        if (!cvss.some((x) => x.vector === c.vector)) cvss.push({ ...c, source: c.source ?? id });
      break;
    }
  }
  const fixed: string[] = [];
  for (const h of group) for (const f of h.fixed) if (!fixed.includes(f)) fixed.push(f);
  const urgency =
    strOf(main.affected.ecosystem_specific?.urgency) ?? strOf(main.affected.database_specific?.urgency);
  const status: VulnStatus = fixed.length ? 'fixed' : 'affected';
  const refs: string[] = [];
  for (const h of group)
    for (const r of h.record.references ?? []) if (r.url && !refs.includes(r.url)) refs.push(r.url);
  const f: GroupFinding = {
    kind: 'vulnerability',
    id: rec.id,
    title: titleOf(group.map((h) => h.record)),
    severity: sev.severity,
    aliases: [...aliasSet].sort(),
    cvss,
    fixedVersions: fixed,
    status,
    references: refs,
  };
  const description = group.map((h) => h.record.details).find(Boolean);
  if (description) f.description = description;
  if (urgency) f.urgency = urgency;
  if (sev.source) f.severitySource = sev.source;
  if (severityFrom) f.severityFrom = severityFrom;
  if (rec.published) f.publishedAt = rec.published;
  f.modifiedAt = rec.modified;
  return f;
}

/** Alias records by source and id (a scan asks for the same GHSA/CVE ids many times). */
const aliasMemo = new WeakMap<object, Map<string, OsvRecord | null>>();

function aliasRecord(db: AdvisorySource, id: string): OsvRecord | undefined {
  const scope = db.memoScope?.() ?? db;
  let m = aliasMemo.get(scope);
  if (!m) aliasMemo.set(scope, (m = new Map()));
  if (!m.has(id)) {
    if (m.size >= 100_000) m.clear();
    m.set(id, db.get?.(id) ?? null);
  }
  return m.get(id) ?? undefined;
}

function strOf(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

function titleOf(records: OsvRecord[]): string {
  for (const r of records) if (r.summary) return r.summary;
  for (const r of records) {
    if (r.details) {
      const line = r.details.split('\n')[0]!.trim();
      return line.length > 120 ? `${line.slice(0, 117)}...` : line;
    }
  }
  return records[0]!.upstream?.[0] ?? records[0]!.id;
}

/** Sort key for findings: severity (high first), package, id. */
export function compareFindings(a: VulnerabilityFinding, b: VulnerabilityFinding): number {
  return (
    severityRank(b.severity as Severity) - severityRank(a.severity as Severity) ||
    a.package.name.localeCompare(b.package.name) ||
    a.package.version.localeCompare(b.package.version) ||
    a.id.localeCompare(b.id)
  );
}
