/**
 * Storing scan reports: one image row per (repository, digest), one scan row per report (history),
 * one finding row per finding, and the image's pointer to its latest scan.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Finding, ScanReport } from '../core/findings.js';
import { SEVERITIES, severityRank } from '../core/types.js';
import type { Database } from './db/index.js';

export interface StoredScan {
  /** The scan of this report (its source's latest now). */
  scanId: number;
  /** What the image's views now show: scanId, or the merged scan of all its sources. */
  viewScanId: number;
  imageId: number;
  imageName: string;
  digest: string;
  /** The image's view before this report (null for a new image). */
  previousScanId: number | null;
  findings: number;
}

/** Repository name of an artifact without tag or digest: "reg:5000/ns/app:1.2" → "reg:5000/ns/app". */
export function imageNameOf(report: ScanReport): string {
  const rd = report.artifact.repoDigests?.[0];
  const raw = rd ? rd.split('@')[0]! : report.artifact.name;
  const noDigest = raw.split('@')[0]!;
  // A tag is a ':' after the last '/', so registry ports stay.
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash && !noDigest.startsWith('oci:') && !noDigest.startsWith('docker-archive:')
    ? noDigest.slice(0, colon)
    : noDigest;
}

export function digestOf(report: ScanReport): string {
  const a = report.artifact;
  const fromRepo = a.repoDigests?.[0]?.split('@')[1];
  return (
    a.digest ??
    fromRepo ??
    a.imageId ??
    `name:${createHash('sha256').update(a.name).digest('hex').slice(0, 16)}`
  );
}

export interface FindingRow {
  kind: string;
  advisory_id: string;
  severity: string;
  severity_rank: number;
  title: string;
  pkg_name: string;
  pkg_version: string;
  pkg_purl: string;
  ecosystem: string;
  fixed_version: string;
  fixable: number;
  path: string;
  fkey: string;
}

/** Flattens a finding for the findings table; undefined for findings not worth storing (passed checks, suppressed). */
export function findingRow(f: Finding): FindingRow | undefined {
  if (f.kind === 'misconfig' && f.status === 'pass') return undefined;
  if (f.kind === 'vulnerability' && f.suppressed) return undefined;
  const pkg = f.kind === 'vulnerability' ? f.package : f.kind === 'license' ? f.package : undefined;
  const fixed = f.kind === 'vulnerability' ? f.fixedVersions : [];
  // Package findings are one per package location; others (secrets, checks) one per line.
  const line = pkg || f.location?.line === undefined ? '' : `:${f.location.line}`;
  const path = (f.location?.path ?? '') + line;
  return {
    kind: f.kind,
    advisory_id: f.id,
    severity: f.severity,
    severity_rank: severityRank(f.severity),
    title: (f.title ?? '').slice(0, 500),
    pkg_name: pkg?.name ?? '',
    pkg_version: pkg?.version ?? '',
    pkg_purl: pkg?.purl ?? '',
    ecosystem: f.kind === 'vulnerability' ? f.package.ecosystem : '',
    fixed_version: fixed[0] ?? '',
    fixable: fixed.length > 0 ? 1 : 0,
    path,
    fkey: `${f.kind}|${f.id}|${pkg?.name ?? ''}|${path}`,
  };
}

export function validateReport(r: unknown): asserts r is ScanReport {
  const x = r as Partial<ScanReport> | null;
  const bad = (m: string) => {
    throw Object.assign(new Error(`not a Bulwark scan report: ${m}`), {
      statusCode: 400,
      code: 'BAD_REPORT',
      detail: m,
    });
  };
  if (!x || typeof x !== 'object') bad('expected a JSON object');
  if (x!.schemaVersion !== 1) bad('schemaVersion must be 1');
  if (!x!.artifact || typeof x!.artifact.name !== 'string') bad('artifact.name missing');
  if (!Array.isArray(x!.results)) bad('results must be an array');
  for (const [i, res] of x!.results!.entries()) {
    if (!res || !Array.isArray(res.findings)) bad(`results[${i}].findings must be an array`);
    for (const [j, f] of res.findings.entries()) {
      if (
        !f ||
        typeof f.id !== 'string' ||
        typeof f.kind !== 'string' ||
        !(SEVERITIES as readonly string[]).includes(f.severity)
      ) {
        bad(`results[${i}].findings[${j}]: needs string id and kind and a known severity`);
      }
    }
  }
}

/** Source key of a report: each source has its own latest scan per image (see storeReport). */
export function sourceKeyOf(opts: {
  source: 'upload' | 'registry';
  submittedBy: string;
  registryId?: number | null;
}): string {
  return opts.source === 'registry' ? `registry:${opts.registryId ?? 0}` : `upload:${opts.submittedBy}`;
}

/**
 * Stores a report as the latest scan of its source (a registry, a CI token, a user) for the image.
 * Sources never replace each other: with one source the image's view is that scan; with several,
 * a merged scan row holds the union of every source's latest findings (one finding per key,
 * registry scans first), so an upload can add findings to an image but never hide a registry
 * scan's findings.
 */
export async function storeReport(
  db: Kysely<Database>,
  report: ScanReport,
  opts: {
    source: 'upload' | 'registry';
    submittedBy: string;
    registryId?: number | null;
    advisoryDb?: string | null;
    imageName?: string;
    /** Default sourceKeyOf(opts). */
    sourceKey?: string;
    /** The uploading token's cluster. */
    cluster?: string;
  },
  /** Runs in the same transaction once the scan is stored (outbox writes). */
  onStored?: (stored: StoredScan, tx: Kysely<Database>) => Promise<void>,
): Promise<StoredScan> {
  const name = opts.imageName ?? imageNameOf(report);
  const digest = digestOf(report);
  const sourceKey = opts.sourceKey ?? sourceKeyOf(opts);
  const rows: FindingRow[] = [];
  const seen = new Set<string>();
  for (const res of report.results) {
    for (const f of res.findings) {
      const row = findingRow(f);
      if (!row || seen.has(row.fkey)) continue;
      seen.add(row.fkey);
      rows.push(row);
    }
  }
  const at = new Date().toISOString();
  return db.transaction().execute(async (tx) => {
    let image = await tx
      .selectFrom('images')
      .selectAll()
      .where('name', '=', name)
      .where('digest', '=', digest)
      .executeTakeFirst();
    if (!image) {
      const id = (
        await tx
          .insertInto('images')
          .values({
            name,
            digest,
            registry_id: opts.registryId ?? null,
            tags: JSON.stringify(report.artifact.repoTags ?? []),
            os: report.artifact.os ? `${report.artifact.os.id} ${report.artifact.os.versionId}` : null,
            first_seen: at,
            last_scan_id: null,
            last_scan_at: null,
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
      image = await tx.selectFrom('images').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    }
    const imageId = image.id;
    const scanId = await insertScan(tx, imageId, at, rows, {
      source: opts.source,
      submitted_by: opts.submittedBy,
      advisory_db: opts.advisoryDb ?? null,
      source_key: sourceKey,
      merged_from: null,
      report: JSON.stringify(report),
      cluster: opts.cluster ?? '',
    });
    await tx
      .deleteFrom('image_sources')
      .where('image_id', '=', imageId)
      .where('source_key', '=', sourceKey)
      .execute();
    await tx
      .insertInto('image_sources')
      .values({ image_id: imageId, source_key: sourceKey, scan_id: scanId, updated_at: at })
      .execute();
    const sources = await tx
      .selectFrom('image_sources')
      .select(['source_key', 'scan_id', 'updated_at'])
      .where('image_id', '=', imageId)
      .execute();
    let viewScanId = scanId;
    if (sources.length > 1) {
      // Registry scans first (they are the reference), then the newest uploads.
      const order = sources
        .sort(
          (a, b) =>
            Number(b.source_key.startsWith('registry:')) - Number(a.source_key.startsWith('registry:')) ||
            b.scan_id - a.scan_id,
        )
        .map((x) => x.scan_id);
      const all = await tx.selectFrom('findings').selectAll().where('scan_id', 'in', order).execute();
      const rank = new Map(order.map((id, i) => [id, i]));
      all.sort((a, b) => rank.get(a.scan_id)! - rank.get(b.scan_id)! || a.id - b.id);
      const merged: FindingRow[] = [];
      const keys = new Set<string>();
      for (const { id: _id, scan_id: _s, image_id: _i, ...r } of all) {
        if (keys.has(r.fkey)) continue;
        keys.add(r.fkey);
        merged.push(r);
      }
      viewScanId = await insertScan(tx, imageId, at, merged, {
        source: 'merged',
        submitted_by: sources
          .map((x) => x.source_key)
          .join(', ')
          .slice(0, 500),
        advisory_db: null,
        source_key: '',
        merged_from: JSON.stringify(order),
        report: '',
      });
    }
    await tx.updateTable('scans').set({ is_view: 1 }).where('id', '=', viewScanId).execute();
    const tags = new Set<string>([
      ...(JSON.parse(image.tags) as string[]),
      ...(report.artifact.repoTags ?? []),
    ]);
    await tx
      .updateTable('images')
      .set({
        last_scan_id: viewScanId,
        last_scan_at: at,
        tags: JSON.stringify([...tags]),
        ...(opts.registryId ? { registry_id: opts.registryId } : {}),
      })
      .where('id', '=', imageId)
      .execute();
    const stored: StoredScan = {
      scanId,
      viewScanId,
      imageId,
      imageName: name,
      digest,
      previousScanId: image.last_scan_id,
      findings: rows.length,
    };
    if (onStored) await onStored(stored, tx);
    // A replaced merged view keeps its row (counts for the trend) but not its copies of findings.
    if (image.last_scan_id !== null) {
      const prev = await tx
        .selectFrom('scans')
        .select('source')
        .where('id', '=', image.last_scan_id)
        .executeTakeFirst();
      if (prev?.source === 'merged')
        await tx.deleteFrom('findings').where('scan_id', '=', image.last_scan_id).execute();
    }
    return stored;
  });
}

async function insertScan(
  tx: Kysely<Database>,
  imageId: number,
  at: string,
  rows: FindingRow[],
  v: {
    source: string;
    submitted_by: string;
    advisory_db: string | null;
    source_key: string;
    merged_from: string | null;
    report: string;
    cluster?: string;
  },
): Promise<number> {
  const counts = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
  for (const r of rows) counts[r.severity.toLowerCase() as keyof typeof counts]++;
  const scanId = (
    await tx
      .insertInto('scans')
      .values({ image_id: imageId, created_at: at, ...v, ...counts, is_view: 0 })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;
  for (let i = 0; i < rows.length; i += 500) {
    await tx
      .insertInto('findings')
      .values(rows.slice(i, i + 500).map((r) => ({ ...r, scan_id: scanId, image_id: imageId })))
      .execute();
  }
  return scanId;
}
