/**
 * CIS benchmark results from node agents (#14): `bulwark agent --benchmark docker,k8s-node` sends
 * each run as a `kind: 'benchmark'` item in POST /api/runtime/events (src/agent/benchmarks.ts
 * BenchmarkRunEvent). The console keeps, per cluster + node + benchmark, the last RETAIN_RUNS runs
 * (their totals and score: the trend) and the full report of the last RETAIN_REPORTS; a run is
 * stored once by its id, however often the agent re-sends it. Actual values are redacted again here
 * as the CLI redacts them (src/cis redactActual), whatever the sender did. See api/benchmarks.ts.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { redactActual } from '../cis/evaluator.js';
import type { Database } from './db/index.js';

export const BENCHMARK_TARGETS = ['docker', 'k8s-node'] as const;
/** runs kept per cluster + node + benchmark (totals, score, status: the trend) */
export const RETAIN_RUNS = 30;
/** of those, the newest with their full report (the latest, and the one before it for what changed) */
export const RETAIN_REPORTS = 2;

const Str = (max: number) => z.string().max(max);
const State = z.enum(['PASS', 'FAIL', 'WARN', 'INFO']);
const Count = z.number().int().min(0);
const Totals = z.object({ pass: Count, fail: Count, warn: Count, info: Count });
const Ref = z.object({ framework: Str(100), control: Str(100) });

const Subject = z.object({
  id: Str(200).optional(),
  name: Str(500).optional(),
  state: State,
  expected: Str(8192).optional(),
  actual: Str(8192).optional(),
  reason: Str(8192).optional(),
});
const Check = z.object({
  id: Str(50).min(1),
  text: Str(2000),
  group: Str(50),
  state: State,
  scored: z.boolean(),
  type: Str(50).optional(),
  scope: z.enum(['host', 'container', 'image']),
  expected: Str(8192).optional(),
  actual: Str(8192).optional(),
  reason: Str(8192).optional(),
  remediation: Str(16384).optional(),
  subjects: z.array(Subject).max(20_000).optional(),
});
export const BenchmarkReportIn = z.object({
  benchmark: z.object({
    id: Str(100),
    title: Str(500),
    version: Str(100).optional(),
    target: Str(50),
    source: Str(1000).optional(),
  }),
  root: Str(4096),
  createdAt: Str(40),
  totals: Totals,
  groups: z.array(z.object({ id: Str(50), text: Str(500), checks: z.array(Check).max(2000) })).max(200),
});
export type BenchmarkReportIn = z.output<typeof BenchmarkReportIn>;

export const BenchmarkRunIn = z.object({
  id: Str(200).min(1),
  kind: z.literal('benchmark'),
  time: z.iso.datetime({ offset: true }),
  node: Str(253).min(1),
  cluster: Str(253).optional(),
  benchmark: z.object({
    target: z.enum(BENCHMARK_TARGETS),
    id: Str(100).min(1),
    version: Str(100).optional(),
    title: Str(500).optional(),
    status: z.enum(['ok', 'error']),
    error: Str(4000).optional(),
    startedAt: z.iso.datetime({ offset: true }),
    durationMs: z.number().min(0),
    intervalSeconds: z.number().positive(),
    root: Str(4096).default('/'),
    totals: Totals.optional(),
    report: BenchmarkReportIn.optional(),
    compliance: z
      .record(Str(50), z.array(Ref).max(50))
      .refine((r) => Object.keys(r).length <= 2000, 'at most 2000 checks')
      .optional(),
  }),
});
export type PostedBenchmark = z.output<typeof BenchmarkRunIn>;

/** PASS / (PASS + FAIL), in percent: the automated, scored checks that pass; null when there are none. */
export function benchmarkScore(t: { pass: number; fail: number } | undefined): number | null {
  if (!t || t.pass + t.fail === 0) return null;
  return Math.round((100 * t.pass) / (t.pass + t.fail));
}

/** The report with every actual value redacted as the CLI redacts it. */
function redacted(r: BenchmarkReportIn): BenchmarkReportIn {
  return {
    ...r,
    groups: r.groups.map((g) => ({
      ...g,
      checks: g.checks.map((c) => ({
        ...c,
        ...(c.actual !== undefined ? { actual: redactActual(c.actual) } : {}),
        ...(c.subjects
          ? {
              subjects: c.subjects.map((s) =>
                s.actual !== undefined ? { ...s, actual: redactActual(s.actual) } : s,
              ),
            }
          : {}),
      })),
    })),
  };
}

/** What the report column holds. */
export interface StoredReport {
  report: BenchmarkReportIn;
  compliance: Record<string, { framework: string; control: string }[]>;
}

/**
 * Stores runs (a run already stored by its id is skipped) and prunes each benchmark's history to
 * RETAIN_RUNS runs, RETAIN_REPORTS of them with their report. Returns how many were stored.
 */
export async function storeBenchmarkRuns(
  db: Kysely<Database>,
  runs: PostedBenchmark[],
  submittedBy: string,
): Promise<number> {
  if (!runs.length) return 0;
  const receivedAt = new Date().toISOString();
  let n = 0;
  const touched = new Map<string, { cluster: string; node: string; target: string }>();
  for (const r of runs) {
    const b = r.benchmark;
    const cluster = r.cluster ?? '';
    const totals = b.totals ?? b.report?.totals;
    const stored: StoredReport | undefined = b.report
      ? { report: redacted(b.report), compliance: b.compliance ?? {} }
      : undefined;
    const row = await db
      .insertInto('benchmark_runs')
      .values({
        event_id: r.id,
        cluster,
        node: r.node,
        target: b.target,
        benchmark_id: b.id,
        version: b.version ?? '',
        title: b.title ?? b.report?.benchmark.title ?? '',
        status: b.status,
        error: b.error ?? '',
        time: new Date(r.time).toISOString(),
        started_at: new Date(b.startedAt).toISOString(),
        received_at: receivedAt,
        submitted_by: submittedBy,
        duration_ms: Math.round(b.durationMs),
        interval_seconds: Math.round(b.intervalSeconds),
        pass: totals?.pass ?? 0,
        fail: totals?.fail ?? 0,
        warn: totals?.warn ?? 0,
        info: totals?.info ?? 0,
        score: benchmarkScore(totals),
        has_report: stored ? 1 : 0,
        report: stored ? JSON.stringify(stored) : null,
      })
      .onConflict((oc) => oc.column('event_id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!row) continue;
    n++;
    touched.set(`${cluster}\0${r.node}\0${b.target}`, { cluster, node: r.node, target: b.target });
  }
  for (const k of touched.values()) {
    const ids = (
      await db
        .selectFrom('benchmark_runs')
        .select(['id', 'has_report'])
        .where('cluster', '=', k.cluster)
        .where('node', '=', k.node)
        .where('target', '=', k.target)
        .orderBy('time', 'desc')
        .orderBy('id', 'desc')
        .execute()
    ).map((x) => ({ id: x.id, hasReport: x.has_report === 1 }));
    const drop = ids.slice(RETAIN_RUNS).map((x) => x.id);
    if (drop.length) await db.deleteFrom('benchmark_runs').where('id', 'in', drop).execute();
    const strip = ids
      .slice(RETAIN_REPORTS, RETAIN_RUNS)
      .filter((x) => x.hasReport)
      .map((x) => x.id);
    if (strip.length)
      await db
        .updateTable('benchmark_runs')
        .set({ report: null, has_report: 0 })
        .where('id', 'in', strip)
        .execute();
  }
  return n;
}
