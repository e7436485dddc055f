/** Scans (upload, history, diff), images, findings views, advisories, suppressions, dashboard summary. */
import { sql, type ExpressionBuilder } from 'kysely';
import { z } from 'zod';
import { SEVERITIES, severityRank } from '../../core/types.js';
import { actorName, audit } from '../auth.js';
import type { ServerContext } from '../context.js';
import type { Database } from '../db/index.js';
import { msg } from '../messages.js';
import {
  HttpError,
  IdParams,
  page,
  pagingQuery,
  countRows,
  pageOf,
  likeEscape,
  likeSql,
  UPLOAD_BODY_LIMIT,
} from '../http.js';
import { storeReport, validateReport } from '../scans.js';
import type { ArtifactInfo } from '../../core/analyzer.js';
import type { ScanReport } from '../../core/findings.js';
import type { Catalog } from '../../core/types.js';
import { renderSbom } from '../../sbom/index.js';
import { VERSION } from '../../cli/version.js';

const Severity = z.enum(SEVERITIES);
const SeverityList = z
  .string()
  .transform((s, ctx) => {
    const out = s
      .split(',')
      .map((x) => x.trim().toUpperCase())
      .filter(Boolean);
    for (const x of out)
      if (!(SEVERITIES as readonly string[]).includes(x))
        ctx.addIssue({ code: 'custom', message: `unknown severity ${x}` });
    return out as (typeof SEVERITIES)[number][];
  })
  .meta({ description: 'comma-separated: CRITICAL,HIGH' });
const Bool = z.enum(['true', 'false']).transform((v) => v === 'true');

export const FindingOut = z
  .object({
    id: z.number().int(),
    scanId: z.number().int(),
    imageId: z.number().int(),
    imageName: z.string(),
    imageDigest: z.string(),
    kind: z.string(),
    advisoryId: z.string(),
    severity: Severity,
    title: z.string(),
    pkgName: z.string(),
    pkgVersion: z.string(),
    pkgPurl: z.string(),
    ecosystem: z.string(),
    fixedVersion: z.string(),
    fixable: z.boolean(),
    path: z.string(),
    suppressed: z.boolean(),
  })
  .meta({ id: 'Finding' });
const FINDING_KINDS = ['vulnerability', 'secret', 'misconfig', 'license', 'malware'] as const;

const Counts = z.object({
  critical: z.number().int(),
  high: z.number().int(),
  medium: z.number().int(),
  low: z.number().int(),
  unknown: z.number().int(),
});
export const ScanOut = z
  .object({
    id: z.number().int(),
    imageId: z.number().int(),
    imageName: z.string(),
    digest: z.string(),
    createdAt: z.string(),
    source: z.string(),
    submittedBy: z.string(),
    cluster: z.string().meta({ description: "the uploading token's cluster ('' for none)" }),
    counts: Counts,
  })
  .meta({ id: 'Scan' });
export const ImageOut = z
  .object({
    id: z.number().int(),
    name: z.string(),
    digest: z.string(),
    tags: z.array(z.string()),
    os: z.string().nullable(),
    registryId: z.number().int().nullable(),
    firstSeen: z.string(),
    lastScanId: z.number().int().nullable(),
    lastScanAt: z.string().nullable(),
    counts: Counts,
  })
  .meta({ id: 'Image' });
const Suppression = z
  .object({
    id: z.number().int(),
    advisoryId: z.string(),
    pkgName: z.string(),
    imageName: z.string(),
    reason: z.string(),
    owner: z.string(),
    expiresAt: z.string().nullable(),
    createdBy: z.string(),
    createdAt: z.string(),
    active: z.boolean(),
  })
  .meta({ id: 'Suppression' });

/** Findings lists report at most this total unless exactTotal=true (then totalExact says so). */
export const COUNT_CAP = 10_000;

export const FindingsQuery = pagingQuery(
  ['severity', 'advisory', 'package', 'image', 'fixable'],
  'severity',
).extend({
  imageId: z.coerce.number().int().optional(),
  image: z.string().max(300).optional().meta({ description: 'substring of the image name' }),
  package: z.string().max(300).optional().meta({ description: 'exact package name' }),
  advisory: z.string().max(200).optional().meta({ description: 'exact advisory id' }),
  severity: SeverityList.optional(),
  fixable: Bool.optional(),
  kind: z.enum(FINDING_KINDS).optional(),
  q: z.string().max(200).optional().meta({ description: 'substring of advisory id, package or title' }),
  suppressed: z.enum(['exclude', 'include', 'only']).default('exclude'),
  scanId: z.coerce
    .number()
    .int()
    .optional()
    .meta({ description: "a specific scan instead of each image's latest" }),
  exactTotal: Bool.default(false).meta({
    description: `count every match; by default total stops at ${COUNT_CAP} (totalExact=false)`,
  }),
});
export type FQ = z.output<typeof FindingsQuery>;

type FEB = ExpressionBuilder<Database & { f: Database['findings']; i: Database['images'] }, 'f' | 'i'>;

/** Suppression applies: same advisory, package (or any), image (or any), not expired. */
export function suppressedExpr(eb: FEB, nowIso: string): ReturnType<FEB['exists']> {
  return eb.exists(
    eb
      .selectFrom('suppressions as s')
      .select('s.id')
      .whereRef('s.advisory_id', '=', 'f.advisory_id')
      .where((w) => w.or([w('s.pkg_name', '=', ''), w('s.pkg_name', '=', w.ref('f.pkg_name'))]))
      .where((w) => w.or([w('s.image_name', '=', ''), w('s.image_name', '=', w.ref('i.name'))]))
      .where((w) => w.or([w('s.expires_at', 'is', null), w('s.expires_at', '>', nowIso)])),
  );
}

export function findingsBase(
  s: ServerContext,
  q: Omit<FQ, 'page' | 'pageSize' | 'sort' | 'order' | 'exactTotal'>,
  /** Findings of these scans instead of each image's latest (the dashboard trend). */
  scanIds?: number[],
) {
  const nowIso = new Date().toISOString();
  let b = s.db.selectFrom('findings as f').innerJoin('images as i', 'i.id', 'f.image_id');
  b =
    scanIds !== undefined
      ? b.where('f.scan_id', 'in', scanIds.length ? scanIds : [-1])
      : q.scanId !== undefined
        ? b.where('f.scan_id', '=', q.scanId)
        : b.whereRef('f.scan_id', '=', 'i.last_scan_id');
  if (q.imageId !== undefined) b = b.where('f.image_id', '=', q.imageId);
  if (q.image) b = b.where(likeSql(sql`lower(i.name)`, `%${likeEscape(q.image.toLowerCase())}%`));
  if (q.package) b = b.where('f.pkg_name', '=', q.package);
  if (q.advisory) b = b.where('f.advisory_id', '=', q.advisory);
  if (q.severity?.length)
    b = b.where(
      'f.severity_rank',
      'in',
      q.severity.map((x) => severityRank(x)),
    );
  if (q.fixable !== undefined) b = b.where('f.fixable', '=', q.fixable ? 1 : 0);
  if (q.kind) b = b.where('f.kind', '=', q.kind);
  if (q.q) {
    const like = `%${likeEscape(q.q.toLowerCase())}%`;
    b = b.where((eb) =>
      eb.or([
        likeSql(sql`lower(f.advisory_id)`, like),
        likeSql(sql`lower(f.pkg_name)`, like),
        likeSql(sql`lower(f.title)`, like),
      ]),
    );
  }
  if (q.suppressed === 'exclude') b = b.where((eb) => eb.not(suppressedExpr(eb as unknown as FEB, nowIso)));
  else if (q.suppressed === 'only') b = b.where((eb) => suppressedExpr(eb as unknown as FEB, nowIso));
  return { b, nowIso };
}

type SeverityCounts = { critical: number; high: number; medium: number; low: number; unknown: number };

/**
 * Severity counts of each image's latest scan without suppressed findings, as the findings list and
 * the dashboard count them (the scan row keeps the counts as scanned, before suppressions).
 */
async function unsuppressedCounts(
  s: ServerContext,
  imageIds: number[],
): Promise<Map<number, SeverityCounts>> {
  const out = new Map<number, SeverityCounts>();
  if (!imageIds.length) return out;
  const { b } = findingsBase(s, { suppressed: 'exclude' } as Parameters<typeof findingsBase>[1]);
  const rows = await b
    .where('f.image_id', 'in', imageIds)
    .select(['f.image_id', 'f.severity'])
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .groupBy(['f.image_id', 'f.severity'])
    .execute();
  for (const id of imageIds) out.set(id, { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 });
  for (const r of rows) {
    const key = String(r.severity).toLowerCase() as keyof SeverityCounts;
    const c = out.get(r.image_id as number);
    if (c && key in c) c[key] = Number(r.n);
  }
  return out;
}

function withCounts<T extends { id: number; last_scan_id: number | null }>(
  rows: T[],
  counts: Map<number, SeverityCounts>,
) {
  return rows.map((r) => ({ ...r, ...(r.last_scan_id !== null ? counts.get(r.id) : undefined) }));
}

/** The two queries of a findings page (count and rows), also used by the benchmark's baseline. */
export function findingsQueries(s: ServerContext, q: FQ) {
  const { b, nowIso } = findingsBase(s, q);
  // Counting every match of a broad filter over a million rows costs more than the page itself:
  // count at most COUNT_CAP + 1 rows unless the caller asks for the exact total.
  const count = q.exactTotal
    ? b.select((eb) => eb.fn.countAll<number>().as('n'))
    : s.db
        .selectFrom(
          b
            .select(sql<number>`1`.as('one'))
            .limit(COUNT_CAP + 1)
            .as('c'),
        )
        .select((eb) => eb.fn.countAll<number>().as('n'));
  const col = {
    severity: 'f.severity_rank',
    advisory: 'f.advisory_id',
    package: 'f.pkg_name',
    image: 'i.name',
    fixable: 'f.fixable',
  } as const;
  const rows = b
    .select([
      'f.id',
      'f.scan_id',
      'f.image_id',
      'i.name as image_name',
      'i.digest as image_digest',
      'f.kind',
      'f.advisory_id',
      'f.severity',
      'f.title',
      'f.pkg_name',
      'f.pkg_version',
      'f.pkg_purl',
      'f.ecosystem',
      'f.fixed_version',
      'f.fixable',
      'f.path',
    ])
    .select((eb) => suppressedExpr(eb as unknown as FEB, nowIso).as('suppressed'))
    .orderBy(col[q.sort as keyof typeof col], q.order)
    .orderBy('f.id', q.order)
    .limit(q.pageSize)
    .offset((q.page - 1) * q.pageSize);
  return { count, rows };
}

export async function listFindings(s: ServerContext, q: FQ) {
  const { count, rows: rowsQuery } = findingsQueries(s, q);
  const n = Number((await count.executeTakeFirstOrThrow()).n);
  const rows = await rowsQuery.execute();
  const totalExact = q.exactTotal || n <= COUNT_CAP;
  return {
    items: rows.map((r) => ({
      id: r.id,
      scanId: r.scan_id,
      imageId: r.image_id,
      imageName: r.image_name,
      imageDigest: r.image_digest,
      kind: r.kind,
      advisoryId: r.advisory_id,
      severity: r.severity as (typeof SEVERITIES)[number],
      title: r.title,
      pkgName: r.pkg_name,
      pkgVersion: r.pkg_version,
      pkgPurl: r.pkg_purl,
      ecosystem: r.ecosystem,
      fixedVersion: r.fixed_version,
      fixable: !!r.fixable,
      path: r.path,
      suppressed: !!r.suppressed,
    })),
    total: totalExact ? n : COUNT_CAP,
    totalExact,
    page: q.page,
    pageSize: q.pageSize,
  };
}

function scanOut(r: {
  id: number;
  image_id: number;
  name: string;
  digest: string;
  created_at: string;
  source: string;
  submitted_by: string;
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
  cluster: string;
}) {
  return {
    id: r.id,
    imageId: r.image_id,
    cluster: r.cluster,
    imageName: r.name,
    digest: r.digest,
    createdAt: r.created_at,
    source: r.source,
    submittedBy: r.submitted_by,
    counts: { critical: r.critical, high: r.high, medium: r.medium, low: r.low, unknown: r.unknown },
  };
}

const SCAN_COLS = [
  'scans.id',
  'scans.image_id',
  'images.name',
  'images.digest',
  'scans.created_at',
  'scans.source',
  'scans.submitted_by',
  'scans.critical',
  'scans.high',
  'scans.medium',
  'scans.low',
  'scans.unknown',
  'scans.cluster',
] as const;

export function scanRoutes(s: ServerContext): void {
  const { router, db } = s;

  /** The report of a scan; of a merged view, its primary source's (registry scan first). */
  const reportOf = async (id: number) => {
    const r = await db
      .selectFrom('scans')
      .select(['report', 'merged_from'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!r) throw new HttpError(404, 'NOT_FOUND', msg('scan.notFound', { id }));
    if (r.merged_from === null) return r;
    const primary = (JSON.parse(r.merged_from) as number[])[0]!;
    const p = await db
      .selectFrom('scans')
      .select(['report', 'merged_from'])
      .where('id', '=', primary)
      .executeTakeFirst();
    if (!p) throw new HttpError(404, 'NOT_FOUND', msg('scan.sourceMissing', { source: primary, id }));
    return p;
  };

  router.add({
    method: 'POST',
    url: '/api/scans',
    tag: 'scans',
    access: 'operator',
    status: 201,
    summary: 'Upload a scan report (the JSON of `bulwark scan --format json`)',
    bodyLimit: UPLOAD_BODY_LIMIT,
    body: z.unknown().meta({ description: 'ScanReport (src/core/findings.ts), schemaVersion 1' }),
    response: z.object({
      scanId: z.number().int(),
      viewScanId: z
        .number()
        .int()
        .meta({ description: "the image's view: this scan, or the merged scan of all its sources" }),
      imageId: z.number().int(),
      imageName: z.string(),
      digest: z.string(),
      findings: z.number().int(),
    }),
    async handler({ body, principal }) {
      validateReport(body);
      const stored = await storeReport(
        db,
        body,
        {
          source: 'upload',
          submittedBy: actorName(principal),
          ...(principal.cluster ? { cluster: principal.cluster } : {}),
        },
        async (st, tx) => {
          await audit(tx, actorName(principal), 'scan.upload', `image:${st.imageName}@${st.digest}`, {
            scanId: st.scanId,
            findings: st.findings,
          });
          for (const h of s.onScanStored) await h({ ...st, registryId: null }, tx);
        },
      );
      const { previousScanId: _p, ...out } = stored;
      return out;
    },
  });

  router.add({
    method: 'GET',
    url: '/api/scans',
    tag: 'scans',
    access: 'viewer',
    summary: 'Scan history, newest first (optionally of one image)',
    query: pagingQuery(['createdAt'], 'createdAt').extend({
      imageId: z.coerce.number().int().optional(),
      cluster: z.string().max(63).optional(),
    }),
    response: page(ScanOut),
    async handler({ query }) {
      // Merged views are not reports of their own: the history lists what each source sent.
      let b = db
        .selectFrom('scans')
        .innerJoin('images', 'images.id', 'scans.image_id')
        .where('scans.source', '!=', 'merged');
      if (query.imageId !== undefined) b = b.where('scans.image_id', '=', query.imageId);
      if (query.cluster !== undefined) b = b.where('scans.cluster', '=', query.cluster);
      const total = await countRows(b);
      const rows = await b
        .select([...SCAN_COLS])
        .orderBy('scans.id', query.order)
        .$call((q) => pageOf(q, query))
        .execute();
      return { items: rows.map(scanOut), total, page: query.page, pageSize: query.pageSize };
    },
  });

  router.add({
    method: 'GET',
    url: '/api/scans/:id',
    tag: 'scans',
    access: 'viewer',
    summary: 'One scan',
    params: IdParams,
    response: ScanOut,
    async handler({ params }) {
      const r = await db
        .selectFrom('scans')
        .innerJoin('images', 'images.id', 'scans.image_id')
        .select([...SCAN_COLS])
        .where('scans.id', '=', params.id)
        .executeTakeFirst();
      if (!r) throw new HttpError(404, 'NOT_FOUND', msg('scan.notFound', { id: params.id }));
      return scanOut(r);
    },
  });

  router.add({
    method: 'GET',
    url: '/api/scans/:id/report',
    tag: 'scans',
    access: 'viewer',
    summary: 'The stored scan report (ScanReport JSON: artifact, layers, packages, findings)',
    params: IdParams,
    responseText: 'application/json',
    async handler({ params, reply }) {
      const r = await reportOf(params.id);
      reply.type('application/json');
      return r.report;
    },
  });

  router.add({
    method: 'GET',
    url: '/api/scans/:id/sbom',
    tag: 'scans',
    access: 'viewer',
    summary:
      'SBOM of the scanned artifact (CycloneDX 1.6 or SPDX 2.3 JSON) from the package list in the report',
    params: IdParams,
    query: z.object({ format: z.enum(['cyclonedx', 'spdx']).default('cyclonedx') }),
    responseText: 'application/json',
    async handler({ params, query, reply }) {
      const r = await reportOf(params.id);
      const report = JSON.parse(r.report) as ScanReport;
      const seen = new Set<string>();
      const packages = report.results
        .flatMap((x) => x.packages ?? [])
        .filter((p) => !seen.has(p.id) && seen.add(p.id));
      if (!packages.length) {
        throw new HttpError(404, 'NO_PACKAGES', msg('scan.noPackages', { id: params.id }));
      }
      const catalog: Catalog = {
        packages,
        warnings: [],
        ...(report.artifact.os ? { distro: report.artifact.os } : {}),
      };
      const kind =
        report.artifact.kind === 'image' || report.artifact.kind === 'rootfs' ? report.artifact.kind : 'fs';
      const artifact: ArtifactInfo = { ...report.artifact, kind, layers: report.artifact.layers ?? [] };
      const safe = report.artifact.name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(-80);
      reply.type(query.format === 'cyclonedx' ? 'application/vnd.cyclonedx+json' : 'application/spdx+json');
      reply.header(
        'content-disposition',
        `attachment; filename="${safe}.${query.format === 'cyclonedx' ? 'cdx' : 'spdx'}.json"`,
      );
      return renderSbom(query.format, catalog, artifact, { toolVersion: VERSION });
    },
  });

  router.add({
    method: 'GET',
    url: '/api/scans/:id/diff',
    tag: 'scans',
    access: 'viewer',
    summary:
      'Findings new in this scan and fixed since the base scan (default: the previous scan of the same image)',
    params: IdParams,
    query: z.object({ base: z.coerce.number().int().optional() }),
    response: z.object({
      baseScanId: z.number().int().nullable(),
      scanId: z.number().int(),
      new: z.array(FindingOut),
      fixed: z.array(FindingOut),
    }),
    async handler({ params, query }) {
      const head = await db
        .selectFrom('scans')
        .select(['id', 'image_id', 'source_key', 'source'])
        .where('id', '=', params.id)
        .executeTakeFirst();
      if (!head) throw new HttpError(404, 'NOT_FOUND', msg('scan.notFound', { id: params.id }));
      let baseId = query.base ?? null;
      if (baseId === null) {
        // The previous report of the same source (merged views: the previous merged view).
        const prev = await db
          .selectFrom('scans')
          .select('id')
          .where('image_id', '=', head.image_id)
          .where('source_key', '=', head.source_key)
          .where('source', head.source === 'merged' ? '=' : '!=', 'merged')
          .where('id', '<', head.id)
          .orderBy('id', 'desc')
          .limit(1)
          .executeTakeFirst();
        baseId = prev?.id ?? null;
      } else if (!(await db.selectFrom('scans').select('id').where('id', '=', baseId).executeTakeFirst())) {
        throw new HttpError(404, 'NOT_FOUND', msg('scan.baseNotFound', { id: baseId }));
      }
      const all = async (scanId: number) =>
        (
          await listFindings(s, {
            scanId,
            page: 1,
            pageSize: 1_000_000,
            sort: 'severity',
            order: 'desc',
            suppressed: 'include',
            exactTotal: false,
          })
        ).items;
      const headF = await all(head.id);
      const baseF = baseId === null ? [] : await all(baseId);
      const key = (f: { kind: string; advisoryId: string; pkgName: string; path: string }) =>
        `${f.kind}|${f.advisoryId}|${f.pkgName}|${f.path}`;
      const baseKeys = new Set(baseF.map(key));
      const headKeys = new Set(headF.map(key));
      return {
        baseScanId: baseId,
        scanId: head.id,
        new: headF.filter((f) => !baseKeys.has(key(f))),
        fixed: baseF.filter((f) => !headKeys.has(key(f))),
      };
    },
  });

  router.add({
    method: 'GET',
    url: '/api/images',
    tag: 'images',
    access: 'viewer',
    summary: 'Images (one per repository and digest) with the severity counts of their latest scan',
    query: pagingQuery(['name', 'lastScanAt', 'critical', 'high'], 'lastScanAt').extend({
      q: z.string().max(300).optional(),
      registryId: z.coerce.number().int().optional(),
    }),
    response: page(ImageOut),
    async handler({ query }) {
      let b = db.selectFrom('images').leftJoin('scans', 'scans.id', 'images.last_scan_id');
      if (query.q) b = b.where(likeSql(sql`lower(images.name)`, `%${likeEscape(query.q.toLowerCase())}%`));
      if (query.registryId !== undefined) b = b.where('images.registry_id', '=', query.registryId);
      const total = await countRows(b);
      const col = {
        name: 'images.name',
        lastScanAt: 'images.last_scan_at',
        critical: 'scans.critical',
        high: 'scans.high',
      } as const;
      const rows = await b
        .select([
          'images.id',
          'images.name',
          'images.digest',
          'images.tags',
          'images.os',
          'images.registry_id',
          'images.first_seen',
          'images.last_scan_id',
          'images.last_scan_at',
          'scans.critical',
          'scans.high',
          'scans.medium',
          'scans.low',
          'scans.unknown',
        ])
        .orderBy(col[query.sort as keyof typeof col], query.order)
        .orderBy('images.id', query.order)
        .$call((q) => pageOf(q, query))
        .execute();
      const counts = await unsuppressedCounts(
        s,
        rows.map((r) => r.id),
      );
      return {
        items: withCounts(rows, counts).map(imageOut),
        total,
        page: query.page,
        pageSize: query.pageSize,
      };
    },
  });

  router.add({
    method: 'GET',
    url: '/api/images/:id',
    tag: 'images',
    access: 'viewer',
    summary:
      'One image with its counts and its sources (the latest scan of each registry, CI token or user; the image shows their union)',
    params: IdParams,
    response: ImageOut.extend({
      sources: z.array(
        z.object({
          key: z.string(),
          scanId: z.number().int(),
          source: z.string(),
          submittedBy: z.string(),
          scannedAt: z.string(),
          counts: Counts,
        }),
      ),
    }),
    async handler({ params }) {
      const r = await db
        .selectFrom('images')
        .leftJoin('scans', 'scans.id', 'images.last_scan_id')
        .select([
          'images.id',
          'images.name',
          'images.digest',
          'images.tags',
          'images.os',
          'images.registry_id',
          'images.first_seen',
          'images.last_scan_id',
          'images.last_scan_at',
          'scans.critical',
          'scans.high',
          'scans.medium',
          'scans.low',
          'scans.unknown',
        ])
        .where('images.id', '=', params.id)
        .executeTakeFirst();
      if (!r) throw new HttpError(404, 'NOT_FOUND', msg('image.notFound', { id: params.id }));
      const sources = await db
        .selectFrom('image_sources as x')
        .innerJoin('scans', 'scans.id', 'x.scan_id')
        .select([
          'x.source_key',
          'x.scan_id',
          'scans.source',
          'scans.submitted_by',
          'scans.created_at',
          'scans.critical',
          'scans.high',
          'scans.medium',
          'scans.low',
          'scans.unknown',
        ])
        .where('x.image_id', '=', r.id)
        .orderBy('x.scan_id', 'desc')
        .execute();
      return {
        ...imageOut(withCounts([r], await unsuppressedCounts(s, [r.id]))[0]!),
        sources: sources.map((x) => ({
          key: x.source_key,
          scanId: x.scan_id,
          source: x.source,
          submittedBy: x.submitted_by,
          scannedAt: x.created_at,
          counts: { critical: x.critical, high: x.high, medium: x.medium, low: x.low, unknown: x.unknown },
        })),
      };
    },
  });

  router.add({
    method: 'GET',
    url: '/api/findings',
    tag: 'findings',
    access: 'viewer',
    summary:
      "Findings of each image's latest scan (or of one scan), filtered, sorted and paged on the server",
    query: FindingsQuery,
    response: page(FindingOut).extend({
      totalExact: z
        .boolean()
        .meta({ description: `false: more than ${COUNT_CAP} match; total is ${COUNT_CAP}` }),
    }),
    async handler({ query }) {
      return listFindings(s, query);
    },
  });

  const GroupQuery = FindingsQuery.omit({ sort: true }).extend({
    sort: z.enum(['severity', 'images', 'findings', 'name']).default('severity'),
  });
  router.add({
    method: 'GET',
    url: '/api/findings/by-package',
    tag: 'findings',
    access: 'viewer',
    summary: 'Findings grouped by package across images',
    query: GroupQuery,
    response: page(
      z.object({
        pkgName: z.string(),
        ecosystem: z.string(),
        maxSeverity: Severity,
        findings: z.number().int(),
        images: z.number().int(),
        fixable: z.number().int(),
      }),
    ),
    async handler({ query }) {
      return grouped(s, query, 'package');
    },
  });

  router.add({
    method: 'GET',
    url: '/api/findings/by-advisory',
    tag: 'findings',
    access: 'viewer',
    summary: 'Findings grouped by advisory across images',
    query: GroupQuery,
    response: page(
      z.object({
        advisoryId: z.string(),
        title: z.string(),
        maxSeverity: Severity,
        findings: z.number().int(),
        images: z.number().int(),
        fixable: z.number().int(),
      }),
    ),
    async handler({ query }) {
      return grouped(s, query, 'advisory');
    },
  });

  router.add({
    method: 'GET',
    url: '/api/compliance',
    tag: 'findings',
    access: 'viewer',
    summary: 'The compliance frameworks the console can rate',
    response: z.object({ items: z.array(z.object({ id: z.string(), title: z.string() })) }),
    async handler() {
      const pol = await import('../../policy/index.js');
      return { items: [...pol.loadFrameworks().values()].map((f) => ({ id: f.id, title: f.title })) };
    },
  });

  router.add({
    method: 'GET',
    url: '/api/compliance/:framework',
    tag: 'findings',
    access: 'viewer',
    summary:
      "A compliance framework's controls rated on the open misconfiguration findings of every image's latest scan (json, or the same self-contained HTML report as `scan config --compliance -f html`)",
    params: z.object({ framework: z.string().min(1).max(100) }),
    query: z.object({ format: z.enum(['json', 'html']).default('json') }),
    async handler({ params, query, reply }) {
      const pol = await import('../../policy/index.js');
      let fw;
      try {
        fw = pol.getFramework(params.framework);
      } catch {
        throw new HttpError(404, 'NOT_FOUND', msg('compliance.unknown', { id: params.framework }));
      }
      const { b } = findingsBase(s, { kind: 'misconfig', suppressed: 'exclude' } as Parameters<
        typeof findingsBase
      >[1]);
      const rows = await b
        .select(['f.advisory_id', 'f.severity', 'f.title', 'f.path', 'i.name as image'])
        .execute();
      const findings = rows.map((r) => ({
        kind: 'misconfig' as const,
        id: r.advisory_id,
        title: r.title,
        severity: r.severity as (typeof SEVERITIES)[number],
        type: 'kubernetes',
        status: 'fail' as const,
        location: { path: `${r.image}: ${r.path}` },
        description: '',
        remediation: '',
        message: r.title,
      }));
      const images = await db
        .selectFrom('images')
        .select(['name'])
        .where('last_scan_id', 'is not', null)
        .execute();
      const cr = pol.complianceReport(fw, {
        findings,
        checks: pol.loadChecks(),
        inputs: images.map((i) => ({ path: i.name, type: 'image', resources: 0 })),
        toolVersion: VERSION,
      });
      if (query.format === 'html') {
        reply.type('text/html; charset=utf-8');
        return pol.renderComplianceHtml(cr);
      }
      return cr;
    },
  });

  router.add({
    method: 'GET',
    url: '/api/advisories/:id',
    tag: 'findings',
    access: 'viewer',
    summary:
      'One advisory from the advisory database: summary, description, aliases, dates, CVSS vectors with their scores, references and the affected packages with their fixed versions',
    params: z.object({ id: z.string().min(1).max(200) }),
    response: z.object({
      id: z.string(),
      summary: z.string().optional(),
      details: z.string().optional(),
      aliases: z.array(z.string()),
      published: z.string().optional(),
      modified: z.string(),
      withdrawn: z.string().optional(),
      severity: z.enum(SEVERITIES),
      severitySource: z.string().optional(),
      cvss: z.array(z.object({ version: z.string(), vector: z.string(), score: z.number() })),
      references: z.array(z.object({ type: z.string().optional(), url: z.string() })),
      affected: z.array(
        z.object({
          ecosystem: z.string(),
          name: z.string(),
          fixed: z.array(z.string()),
          introduced: z.array(z.string()),
        }),
      ),
    }),
    async handler({ params }) {
      const { AdvisoryDb, severityOf } = await import('../../vuln/index.js');
      let adb: import('../../vuln/index.js').AdvisoryDb;
      try {
        adb = AdvisoryDb.open(s.advisoryDbPath, { readonly: true });
      } catch {
        throw new HttpError(404, 'NOT_FOUND', msg('advisory.noDb', { id: params.id }));
      }
      try {
        const r = adb.get(params.id);
        if (!r) throw new HttpError(404, 'NOT_FOUND', msg('advisory.notFound', { id: params.id }));
        const sev = severityOf(r, undefined);
        return {
          id: r.id,
          ...(r.summary ? { summary: r.summary } : {}),
          ...(r.details ? { details: r.details } : {}),
          aliases: r.aliases ?? [],
          ...(r.published ? { published: r.published } : {}),
          modified: r.modified,
          ...(r.withdrawn ? { withdrawn: r.withdrawn } : {}),
          severity: sev.severity,
          ...(sev.source ? { severitySource: sev.source } : {}),
          cvss: sev.cvss.map((c) => ({ version: c.version, vector: c.vector, score: c.score })),
          references: (r.references ?? [])
            .filter((x) => typeof x.url === 'string')
            .map((x) => ({ ...(x.type ? { type: x.type } : {}), url: x.url })),
          affected: (r.affected ?? [])
            .filter((a) => a.package)
            .map((a) => {
              const events = (a.ranges ?? []).flatMap((g) => g.events);
              return {
                ecosystem: a.package!.ecosystem,
                name: a.package!.name,
                fixed: events.flatMap((e) => (e.fixed ? [e.fixed] : [])),
                introduced: events.flatMap((e) => (e.introduced ? [e.introduced] : [])),
              };
            }),
        };
      } finally {
        adb.close();
      }
    },
  });

  router.add({
    method: 'GET',
    url: '/api/summary',
    tag: 'dashboard',
    access: 'viewer',
    summary:
      'Dashboard: counts by severity (latest scans, unsuppressed), trend, top risky images, fixable criticals',
    query: z.object({ days: z.coerce.number().int().min(1).max(365).default(30) }),
    response: z.object({
      images: z.number().int(),
      bySeverity: Counts,
      /** The same counts kept apart per kind of finding (a secret is not a vulnerability). */
      byKind: z.record(z.enum(FINDING_KINDS), Counts),
      fixableCritical: z.number().int(),
      trend: z.array(Counts.extend({ date: z.string() })),
      topImages: z.array(
        z.object({
          id: z.number().int(),
          name: z.string(),
          digest: z.string(),
          critical: z.number().int(),
          high: z.number().int(),
        }),
      ),
    }),
    async handler({ query }) {
      const { b } = findingsBase(s, { suppressed: 'exclude' });
      const sev = await b
        .select(['f.severity', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('f.severity')
        .execute();
      const bySeverity = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
      for (const r of sev) bySeverity[r.severity.toLowerCase() as keyof typeof bySeverity] = Number(r.n);
      const kindRows = await b
        .select(['f.kind', 'f.severity', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy(['f.kind', 'f.severity'])
        .execute();
      const byKind = Object.fromEntries(
        FINDING_KINDS.map((k) => [k, { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 }]),
      ) as Record<(typeof FINDING_KINDS)[number], typeof bySeverity>;
      for (const r of kindRows) {
        const k = byKind[r.kind as (typeof FINDING_KINDS)[number]];
        if (k) k[r.severity.toLowerCase() as keyof typeof bySeverity] = Number(r.n);
      }
      const fixableCritical = Number(
        (
          await findingsBase(s, { suppressed: 'exclude', severity: ['CRITICAL'], fixable: true })
            .b.select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
      const images = Number(
        (
          await db
            .selectFrom('images')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('last_scan_id', 'is not', null)
            .executeTakeFirstOrThrow()
        ).n,
      );
      const top = await b
        .select(['i.id', 'i.name', 'i.digest'])
        .select((eb) => [
          eb.fn
            .sum<number>(eb.case().when('f.severity', '=', 'CRITICAL').then(1).else(0).end())
            .as('critical'),
          eb.fn.sum<number>(eb.case().when('f.severity', '=', 'HIGH').then(1).else(0).end()).as('high'),
        ])
        .groupBy(['i.id', 'i.name', 'i.digest'])
        .orderBy('critical', 'desc')
        .orderBy('high', 'desc')
        .limit(10)
        .execute();
      // Trend: per day, the counts of each image's latest scan as of that day (scan-time counts).
      const since = new Date(Date.now() - query.days * 86400_000);
      const scans = await db
        .selectFrom('scans')
        .select(['id', 'image_id', 'created_at', 'critical', 'high', 'medium', 'low', 'unknown'])
        .where('is_view', '=', 1)
        .orderBy('id')
        .execute();
      // Suppressions apply to the trend too: each scan counts its findings that no suppression
      // (as of now) hides, as the totals above do. Scans whose findings are gone keep their counts.
      const unsuppressed = new Map<number, typeof bySeverity>();
      const ids = scans.map((x) => x.id);
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        const rows = await findingsBase(
          s,
          { suppressed: 'exclude' } as Parameters<typeof findingsBase>[1],
          chunk,
        )
          .b.select(['f.scan_id', 'f.severity', (eb) => eb.fn.countAll<number>().as('n')])
          .groupBy(['f.scan_id', 'f.severity'])
          .execute();
        const suppressedAny = await findingsBase(
          s,
          { suppressed: 'only' } as Parameters<typeof findingsBase>[1],
          chunk,
        )
          .b.select('f.scan_id')
          .distinct()
          .execute();
        const touched = new Set(suppressedAny.map((r) => r.scan_id as number));
        for (const id of chunk)
          if (touched.has(id)) unsuppressed.set(id, { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 });
        for (const r of rows) {
          const c = unsuppressed.get(r.scan_id as number);
          if (c) c[String(r.severity).toLowerCase() as keyof typeof c] = Number(r.n);
        }
      }
      const trend: (typeof bySeverity & { date: string })[] = [];
      const latest = new Map<number, typeof bySeverity>();
      let si = 0;
      for (let d = 0; d <= query.days; d++) {
        const day = new Date(since.getTime() + d * 86400_000).toISOString().slice(0, 10);
        while (si < scans.length && scans[si]!.created_at.slice(0, 10) <= day) {
          const x = scans[si++]!;
          latest.set(
            x.image_id,
            unsuppressed.get(x.id) ?? {
              critical: x.critical,
              high: x.high,
              medium: x.medium,
              low: x.low,
              unknown: x.unknown,
            },
          );
        }
        const t = { date: day, critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
        for (const c of latest.values()) for (const k of Object.keys(c) as (keyof typeof c)[]) t[k] += c[k];
        trend.push(t);
      }
      return {
        images,
        bySeverity,
        byKind,
        fixableCritical,
        trend,
        topImages: top.map((r) => ({
          id: r.id,
          name: r.name,
          digest: r.digest,
          critical: Number(r.critical),
          high: Number(r.high),
        })),
      };
    },
  });

  router.add({
    method: 'GET',
    url: '/api/suppressions',
    tag: 'suppressions',
    access: 'viewer',
    summary: 'Suppressions (active and expired)',
    response: z.object({ items: z.array(Suppression) }),
    async handler() {
      const now = new Date().toISOString();
      const rows = await db.selectFrom('suppressions').selectAll().orderBy('id', 'desc').execute();
      return { items: rows.map((r) => suppressionOut(r, now)) };
    },
  });

  router.add({
    method: 'POST',
    url: '/api/suppressions',
    tag: 'suppressions',
    access: 'operator',
    status: 201,
    summary:
      'Suppress an advisory (optionally only for one package and/or image) with reason, owner and expiry',
    body: z.object({
      advisoryId: z.string().min(1).max(200),
      pkgName: z.string().max(300).default(''),
      imageName: z.string().max(500).default(''),
      reason: z.string().min(1).max(2000),
      owner: z.string().min(1).max(200),
      expiresAt: z.iso.datetime({ offset: true }).nullable().default(null),
    }),
    response: Suppression,
    async handler({ body, principal }) {
      const expires = body.expiresAt ? new Date(body.expiresAt).toISOString() : null;
      const at = new Date().toISOString();
      const { id } = await db
        .insertInto('suppressions')
        .values({
          advisory_id: body.advisoryId,
          pkg_name: body.pkgName,
          image_name: body.imageName,
          reason: body.reason,
          owner: body.owner,
          expires_at: expires,
          created_by: actorName(principal),
          created_at: at,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await audit(db, actorName(principal), 'suppression.create', `advisory:${body.advisoryId}`, {
        id,
        pkgName: body.pkgName,
        imageName: body.imageName,
        reason: body.reason,
        owner: body.owner,
        expiresAt: expires,
      });
      return suppressionOut(
        await db.selectFrom('suppressions').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
        at,
      );
    },
  });

  router.add({
    method: 'DELETE',
    url: '/api/suppressions/:id',
    tag: 'suppressions',
    access: 'operator',
    summary: 'Remove a suppression',
    params: IdParams,
    async handler({ params, principal }) {
      const r = await db
        .selectFrom('suppressions')
        .selectAll()
        .where('id', '=', params.id)
        .executeTakeFirst();
      if (!r) throw new HttpError(404, 'NOT_FOUND', msg('suppression.notFound', { id: params.id }));
      await db.deleteFrom('suppressions').where('id', '=', r.id).execute();
      await audit(db, actorName(principal), 'suppression.delete', `advisory:${r.advisory_id}`, {
        id: r.id,
        pkgName: r.pkg_name,
        imageName: r.image_name,
      });
    },
  });
}

function suppressionOut(
  r: Database['suppressions'] extends infer T
    ? { [K in keyof T]: T[K] extends { __select__: infer S } ? S : T[K] }
    : never,
  now: string,
) {
  return {
    id: r.id as number,
    advisoryId: r.advisory_id,
    pkgName: r.pkg_name,
    imageName: r.image_name,
    reason: r.reason,
    owner: r.owner,
    expiresAt: r.expires_at,
    createdBy: r.created_by,
    createdAt: r.created_at,
    active: !r.expires_at || r.expires_at > now,
  };
}

function imageOut(r: {
  id: number;
  name: string;
  digest: string;
  tags: string;
  os: string | null;
  registry_id: number | null;
  first_seen: string;
  last_scan_id: number | null;
  last_scan_at: string | null;
  critical: number | null;
  high: number | null;
  medium: number | null;
  low: number | null;
  unknown: number | null;
}) {
  return {
    id: r.id,
    name: r.name,
    digest: r.digest,
    tags: JSON.parse(r.tags) as string[],
    os: r.os,
    registryId: r.registry_id,
    firstSeen: r.first_seen,
    lastScanId: r.last_scan_id,
    lastScanAt: r.last_scan_at,
    counts: {
      critical: r.critical ?? 0,
      high: r.high ?? 0,
      medium: r.medium ?? 0,
      low: r.low ?? 0,
      unknown: r.unknown ?? 0,
    },
  };
}

async function grouped(
  s: ServerContext,
  q: Omit<FQ, 'sort'> & { sort: 'severity' | 'images' | 'findings' | 'name' },
  by: 'package' | 'advisory',
) {
  const { b } = findingsBase(s, q);
  const keys = by === 'package' ? (['f.pkg_name', 'f.ecosystem'] as const) : (['f.advisory_id'] as const);
  const g = b
    .select([...keys])
    .select((eb) => [
      eb.fn.max('f.severity_rank').as('max_rank'),
      eb.fn.countAll<number>().as('findings'),
      eb.fn.count<number>('f.image_id').distinct().as('images'),
      eb.fn.sum<number>('f.fixable').as('fixable'),
      ...(by === 'advisory' ? [eb.fn.max('f.title').as('title')] : []),
    ])
    .groupBy([...keys]);
  const total = Number(
    (
      await s.db
        .selectFrom(g.as('g'))
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
  const sortCol = {
    severity: 'max_rank',
    images: 'images',
    findings: 'findings',
    name: by === 'package' ? 'f.pkg_name' : 'f.advisory_id',
  }[q.sort];
  const rows = (await g
    .orderBy(sql.ref(sortCol), q.order)
    .orderBy(keys[0], 'asc')
    .limit(q.pageSize)
    .offset((q.page - 1) * q.pageSize)
    .execute()) as unknown as Record<string, string | number>[];
  const sevOf = (rank: number) => (['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const)[Number(rank)]!;
  return {
    items: rows.map((r) =>
      by === 'package'
        ? {
            pkgName: String(r.pkg_name),
            ecosystem: String(r.ecosystem),
            maxSeverity: sevOf(Number(r.max_rank)),
            findings: Number(r.findings),
            images: Number(r.images),
            fixable: Number(r.fixable),
          }
        : {
            advisoryId: String(r.advisory_id),
            title: String(r.title ?? ''),
            maxSeverity: sevOf(Number(r.max_rank)),
            findings: Number(r.findings),
            images: Number(r.images),
            fixable: Number(r.fixable),
          },
    ) as never,
    total,
    page: q.page,
    pageSize: q.pageSize,
  };
}
