/**
 * CIS benchmarks per node (#14): the nodes whose agents run `--benchmark`, each benchmark's latest
 * run (PASS/FAIL/WARN/INFO counts, score, time, stale after two intervals, failed runs with their
 * reason) and its trend; one node's results of one benchmark with every check (id, title, status,
 * actual value redacted as the CLI does, remediation, compliance mapping), filterable by status and
 * section. Viewers read; a cluster token reads its own cluster only. Runs arrive through
 * POST /api/runtime/events (kind 'benchmark'; ../benchmarks.ts).
 */
import { z } from 'zod';
import type { Principal } from '../auth.js';
import type { ServerContext } from '../context.js';
import { HttpError } from '../http.js';
import { msg } from '../messages.js';
import { BENCHMARK_TARGETS, type StoredReport } from '../benchmarks.js';

const Target = z.enum(BENCHMARK_TARGETS);
const State = z.enum(['PASS', 'FAIL', 'WARN', 'INFO']);
const Totals = z.object({
  pass: z.number().int(),
  fail: z.number().int(),
  warn: z.number().int(),
  info: z.number().int(),
});
const TrendPoint = z.object({
  time: z.string(),
  status: z.string(),
  score: z.number().int().nullable(),
  fail: z.number().int(),
});
const Summary = z
  .object({
    target: z.string(),
    benchmarkId: z.string(),
    version: z.string(),
    title: z.string(),
    status: z.enum(['ok', 'error']).meta({ description: 'error: the run failed (see error)' }),
    error: z.string(),
    time: z.string().meta({ description: 'when the latest run ended (the agent’s clock)' }),
    receivedAt: z.string(),
    durationMs: z.number().int(),
    intervalSeconds: z.number().int(),
    stale: z.boolean().meta({ description: 'the latest run is older than two intervals' }),
    totals: Totals,
    score: z
      .number()
      .int()
      .nullable()
      .meta({ description: 'PASS / (PASS + FAIL) in percent; null without either' }),
    runs: z.number().int().meta({ description: 'runs kept' }),
    trend: z.array(TrendPoint).meta({ description: 'the runs kept, oldest first' }),
  })
  .meta({ id: 'BenchmarkSummary' });
const NodeRow = z
  .object({
    cluster: z.string(),
    node: z.string(),
    benchmarks: z.array(Summary),
  })
  .meta({ id: 'BenchmarkNode' });
const Subject = z.object({
  id: z.string().optional(),
  name: z.string().optional(),
  state: State,
  expected: z.string().optional(),
  actual: z.string().optional(),
  reason: z.string().optional(),
});
const CheckOut = z
  .object({
    id: z.string(),
    title: z.string(),
    section: z.string(),
    sectionTitle: z.string(),
    status: State,
    scored: z.boolean(),
    type: z.string().optional(),
    scope: z.string(),
    expected: z.string().optional(),
    actual: z.string().optional().meta({ description: 'redacted as the CLI does (tokens, passwords...)' }),
    reason: z.string().optional(),
    remediation: z.string().optional(),
    compliance: z.array(
      z.object({ framework: z.string(), control: z.string(), title: z.string().optional() }),
    ),
    subjects: z.array(Subject).optional(),
    previous: State.optional().meta({ description: 'its status in the run before (when that run is kept)' }),
  })
  .meta({ id: 'BenchmarkCheck' });

/** A cluster token reads its own cluster only. */
function clusterFor(p: Principal, asked: string | undefined): string | undefined {
  if (!p.cluster) return asked;
  if (asked !== undefined && asked !== p.cluster)
    throw new HttpError(
      403,
      'WRONG_CLUSTER',
      msg('benchmark.wrongCluster', { cluster: asked, token: p.cluster }),
    );
  return p.cluster;
}

type RunRow = {
  id: number;
  cluster: string;
  node: string;
  target: string;
  benchmark_id: string;
  version: string;
  title: string;
  status: string;
  error: string;
  time: string;
  received_at: string;
  duration_ms: number;
  interval_seconds: number;
  pass: number;
  fail: number;
  warn: number;
  info: number;
  score: number | null;
};
const RUN_COLS = [
  'id',
  'cluster',
  'node',
  'target',
  'benchmark_id',
  'version',
  'title',
  'status',
  'error',
  'time',
  'received_at',
  'duration_ms',
  'interval_seconds',
  'pass',
  'fail',
  'warn',
  'info',
  'score',
] as const;

/** The summary of a benchmark from its runs, newest first. */
function summaryOf(runs: RunRow[], now: number): z.input<typeof Summary> {
  const r = runs[0]!;
  return {
    target: r.target,
    benchmarkId: r.benchmark_id,
    version: r.version,
    title: r.title,
    status: r.status === 'error' ? 'error' : 'ok',
    error: r.error,
    time: r.time,
    receivedAt: r.received_at,
    durationMs: r.duration_ms,
    intervalSeconds: r.interval_seconds,
    stale: now - Date.parse(r.time) > 2 * r.interval_seconds * 1000,
    totals: { pass: r.pass, fail: r.fail, warn: r.warn, info: r.info },
    score: r.score,
    runs: runs.length,
    trend: runs.map((x) => ({ time: x.time, status: x.status, score: x.score, fail: x.fail })).reverse(),
  };
}

export function benchmarkRoutes(s: ServerContext): void {
  const { router, db } = s;
  let titles: Map<string, Map<string, string>> | undefined;
  /** Control titles of the compliance frameworks (loaded once, on first use). */
  const controlTitle = async (framework: string, control: string): Promise<string | undefined> => {
    if (!titles) {
      titles = new Map();
      try {
        const { loadFrameworks } = await import('../../policy/index.js');
        for (const [id, fw] of loadFrameworks())
          titles.set(id, new Map(fw.controls.map((c) => [c.id, c.title])));
      } catch {
        /* no titles: ids only */
      }
    }
    return titles.get(framework)?.get(control);
  };

  router.add({
    method: 'GET',
    url: '/api/benchmarks/nodes',
    tag: 'benchmarks',
    access: 'viewer',
    summary:
      'Nodes whose agents run CIS benchmarks: per benchmark the latest run (counts, score, time, stale after two intervals, a failed run with its reason) and the trend of the runs kept',
    query: z.object({
      cluster: z.string().max(253).optional(),
      target: Target.optional(),
      q: z.string().max(253).optional().meta({ description: 'text in the node name' }),
    }),
    response: z.object({ targets: z.array(z.string()), items: z.array(NodeRow) }),
    async handler({ query, principal }) {
      const cluster = clusterFor(principal, query.cluster);
      let b = db.selectFrom('benchmark_runs').select([...RUN_COLS]);
      if (cluster !== undefined) b = b.where('cluster', '=', cluster);
      if (query.target) b = b.where('target', '=', query.target);
      const rows = (await b
        .orderBy('cluster')
        .orderBy('node')
        .orderBy('target')
        .orderBy('time', 'desc')
        .orderBy('id', 'desc')
        .execute()) as RunRow[];
      const q = query.q?.toLowerCase();
      const byNode = new Map<string, { cluster: string; node: string; runs: Map<string, RunRow[]> }>();
      for (const r of rows) {
        if (q && !r.node.toLowerCase().includes(q)) continue;
        const k = `${r.cluster}\0${r.node}`;
        let n = byNode.get(k);
        if (!n) byNode.set(k, (n = { cluster: r.cluster, node: r.node, runs: new Map() }));
        const l = n.runs.get(r.target) ?? [];
        l.push(r);
        n.runs.set(r.target, l);
      }
      const now = Date.now();
      const items = [...byNode.values()].map((n) => ({
        cluster: n.cluster,
        node: n.node,
        benchmarks: [...n.runs.values()].map((runs) => summaryOf(runs, now)),
      }));
      const targets = BENCHMARK_TARGETS.filter((t) => rows.some((r) => r.target === t));
      return { targets, items };
    },
  });

  router.add({
    method: 'GET',
    url: '/api/benchmarks/node',
    tag: 'benchmarks',
    access: 'viewer',
    summary:
      "One node's results of one benchmark: the latest run and every check of the latest report (status, actual value redacted, remediation, compliance mapping, the status in the run before), filtered by status and section",
    query: z.object({
      cluster: z
        .string()
        .max(253)
        .optional()
        .meta({ description: "default: '' (no cluster), or a cluster token's own" }),
      node: z.string().min(1).max(253),
      target: Target,
      status: z.string().max(50).optional().meta({ description: 'comma-separated: PASS,FAIL,WARN,INFO' }),
      section: z.string().max(50).optional().meta({ description: 'a section id (4.2) and its subsections' }),
    }),
    response: z.object({
      cluster: z.string(),
      node: z.string(),
      target: z.string(),
      summary: Summary,
      checksFrom: z
        .object({ time: z.string(), root: z.string(), source: z.string().optional() })
        .nullable()
        .meta({
          description: 'the run the checks are from: the latest one with a report (null: none has one)',
        }),
      sections: z.array(
        z.object({ id: z.string(), title: z.string(), totals: Totals.extend({ total: z.number().int() }) }),
      ),
      checks: z.array(CheckOut),
      targets: z.array(z.string()).meta({ description: 'every benchmark this node sent' }),
    }),
    async handler({ query, principal }) {
      const cluster = clusterFor(principal, query.cluster) ?? '';
      const runs = (await db
        .selectFrom('benchmark_runs')
        .select([...RUN_COLS])
        .where('cluster', '=', cluster)
        .where('node', '=', query.node)
        .where('target', '=', query.target)
        .orderBy('time', 'desc')
        .orderBy('id', 'desc')
        .execute()) as RunRow[];
      if (!runs.length)
        throw new HttpError(
          404,
          'NOT_FOUND',
          msg('benchmark.notFound', { node: query.node, cluster, target: query.target }),
        );
      const withReport = await db
        .selectFrom('benchmark_runs')
        .select(['id', 'time', 'report'])
        .where('cluster', '=', cluster)
        .where('node', '=', query.node)
        .where('target', '=', query.target)
        .where('has_report', '=', 1)
        .orderBy('time', 'desc')
        .orderBy('id', 'desc')
        .limit(2)
        .execute();
      const latest = withReport[0]?.report ? (JSON.parse(withReport[0].report) as StoredReport) : undefined;
      const before = withReport[1]?.report ? (JSON.parse(withReport[1].report) as StoredReport) : undefined;
      const prevState = new Map(
        (before?.report.groups ?? []).flatMap((g) => g.checks.map((c) => [c.id, c.state] as const)),
      );
      const statuses = query.status
        ? new Set(
            query.status
              .split(',')
              .map((x) => x.trim().toUpperCase())
              .filter(Boolean),
          )
        : undefined;
      const inSection = (group: string) =>
        !query.section || group === query.section || group.startsWith(`${query.section}.`);
      const sections: {
        id: string;
        title: string;
        totals: { pass: number; fail: number; warn: number; info: number; total: number };
      }[] = [];
      const checks: z.input<typeof CheckOut>[] = [];
      for (const g of latest?.report.groups ?? []) {
        const t = { pass: 0, fail: 0, warn: 0, info: 0, total: 0 };
        for (const c of g.checks) {
          t[c.state.toLowerCase() as 'pass']++;
          t.total++;
        }
        sections.push({ id: g.id, title: g.text, totals: t });
        if (!inSection(g.id)) continue;
        for (const c of g.checks) {
          if (statuses && !statuses.has(c.state)) continue;
          const refs = latest!.compliance[c.id] ?? [];
          const compliance = [];
          for (const r of refs) {
            const title = await controlTitle(r.framework, r.control);
            compliance.push({ ...r, ...(title ? { title } : {}) });
          }
          const prev = prevState.get(c.id);
          checks.push({
            id: c.id,
            title: c.text,
            section: g.id,
            sectionTitle: g.text,
            status: c.state,
            scored: c.scored,
            ...(c.type ? { type: c.type } : {}),
            scope: c.scope,
            ...(c.expected !== undefined ? { expected: c.expected } : {}),
            ...(c.actual !== undefined ? { actual: c.actual } : {}),
            ...(c.reason !== undefined ? { reason: c.reason } : {}),
            ...(c.remediation !== undefined ? { remediation: c.remediation } : {}),
            compliance,
            ...(c.subjects ? { subjects: c.subjects } : {}),
            ...(prev ? { previous: prev } : {}),
          });
        }
      }
      return {
        cluster,
        node: query.node,
        target: query.target,
        summary: summaryOf(runs, Date.now()),
        checksFrom: latest
          ? {
              time: withReport[0]!.time,
              root: latest.report.root,
              ...(latest.report.benchmark.source ? { source: latest.report.benchmark.source } : {}),
            }
          : null,
        sections,
        checks,
        targets: (
          await db
            .selectFrom('benchmark_runs')
            .select('target')
            .distinct()
            .where('cluster', '=', cluster)
            .where('node', '=', query.node)
            .orderBy('target')
            .execute()
        ).map((x) => x.target),
      };
    },
  });
}
