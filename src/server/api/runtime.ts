/**
 * Runtime events: agents post batches (idempotent by event id); the runtime page lists, filters,
 * groups and drills down (the process tree, the event as sent, the container's other events).
 */
import { sql, type ExpressionBuilder, type SelectQueryBuilder } from 'kysely';
import { z } from 'zod';
import { actorName } from '../auth.js';
import type { ServerContext } from '../context.js';
import type { Database } from '../db/index.js';
import { msg } from '../messages.js';
import { Counter } from '../metrics.js';
import { parseFlowRecord, storeFlows, type PostedFlow } from '../network.js';
import { ProfileReportIn, storeProfiles, type PostedProfile } from '../profiles.js';
import { BenchmarkRunIn, storeBenchmarkRuns, type PostedBenchmark } from '../benchmarks.js';
import {
  countRows,
  HttpError,
  IdParams,
  likeEscape,
  likeSql,
  page,
  pageOf,
  pagingQuery,
  parse,
} from '../http.js';
import {
  EVENT_KINDS,
  isAttackTag,
  priorityName,
  priorityRank,
  PRIORITIES,
  storeAgentStats,
  storeRuntimeEvents,
  techniquesOf,
  type PostedEvent,
  type PostedStats,
} from '../runtime.js';

/** Largest batch body (bytes) and events per batch; larger batches get 413 (the agent halves them). */
export const RUNTIME_BODY_LIMIT = 16 * 1024 * 1024;
export const RUNTIME_MAX_BATCH = 5000;

const Str = (max: number) => z.string().max(max);
const Priority = z.string().transform((s, ctx) => {
  const p = priorityName(s);
  if (!p) {
    ctx.addIssue({ code: 'custom', message: `unknown priority "${s}" (expected ${PRIORITIES.join(', ')})` });
    return z.NEVER;
  }
  return p;
});
const FieldValue = z.union([z.string().max(8192), z.number(), z.boolean(), z.null()]);
const RuntimeEventIn = z
  .object({
    id: Str(200).min(1),
    kind: z.enum(EVENT_KINDS).default('alert'),
    time: z.iso.datetime({ offset: true }),
    node: Str(253).min(1),
    cluster: Str(253).optional(),
    rule: Str(500).optional(),
    priority: Priority.optional(),
    source: Str(100).default('syscall'),
    output: Str(16384).default(''),
    output_fields: z
      .record(Str(200), FieldValue)
      .default({})
      .refine((r) => Object.keys(r).length <= 256, 'at most 256 output fields'),
    tags: z.array(Str(200)).max(64).default([]),
    container: z
      .object({
        id: Str(200),
        name: Str(253).optional(),
        image: Str(1000).optional(),
        imageDigest: Str(200).optional(),
      })
      .optional(),
    k8s: z
      .object({
        namespace: Str(253).optional(),
        pod: Str(253).optional(),
        container: Str(253).optional(),
        labels: z.record(Str(317), Str(63 + 253)).optional(),
      })
      .optional(),
    process: z
      .array(
        z.object({
          pid: z.number().int().optional(),
          name: Str(256).optional(),
          exe: Str(4096).optional(),
          cmdline: Str(8192).optional(),
          uid: z.number().int().optional(),
          user: Str(256).optional(),
        }),
      )
      .max(32)
      .optional()
      .meta({ description: 'process lineage, the process first, then its ancestors' }),
  })
  // deviation/response events carry fields of their own (docs/runtime-profiles.md): kept as sent
  .catchall(z.unknown())
  .superRefine((e, ctx) => {
    if (e.kind === 'alert' && (!e.rule || !e.priority))
      ctx.addIssue({ code: 'custom', message: 'an alert needs rule and priority' });
  })
  .transform(
    (e) =>
      ({
        ...e,
        rule: e.rule ?? e.kind,
        priority: e.priority ?? 'Warning',
      }) as PostedEvent,
  );

const Count = z.number().int().min(0);
const FlowIn = z.object({
  id: Str(200).min(1),
  kind: z.literal('flow'),
  time: z.iso.datetime({ offset: true }),
  node: Str(253).min(1),
  cluster: Str(253).optional(),
  flow: z.record(z.string(), z.unknown()),
});
const StatsIn = z.object({
  id: Str(200).min(1),
  kind: z.literal('stats'),
  time: z.iso.datetime({ offset: true }),
  node: Str(253).min(1),
  cluster: Str(253).optional(),
  stats: z.object({
    runId: Str(300).min(1),
    startedAt: z.iso.datetime({ offset: true }),
    version: Str(100),
    rules: Count,
    heartbeatSeconds: z.number().positive().optional(),
    kernelTypes: z.array(Str(50)).max(64),
    events: Count,
    kernel: z
      .record(Str(50), z.object({ events: Count, drops: Count }))
      .refine((r) => Object.keys(r).length <= 64, 'at most 64 record types'),
    drops: Count,
    alerts: Count,
    buffer: z.object({ pendingBytes: Count, dropped: Count, rejected: Count, sent: Count }).optional(),
  }),
});

/** Items are validated one by one (alert/deviation/response or stats), errors named `events.N.field`. */
const RuntimeBatch = z.object({
  events: z.array(z.looseObject({ kind: z.unknown().optional() })).min(1),
});

/**
 * One posted item validated: an agent stats record or an event (alert, deviation, response).
 * Throws a 400 HttpError naming `path` and the field.
 */
export function classifyRuntimeItem(
  item: unknown,
  path: (string | number)[],
): {
  event?: PostedEvent;
  stats?: PostedStats;
  flow?: PostedFlow;
  profile?: PostedProfile;
  benchmark?: PostedBenchmark;
} {
  const kind = (item as { kind?: unknown } | null)?.kind;
  if (kind === 'benchmark')
    return {
      benchmark: parse(BenchmarkRunIn, item, 'request body', 'request.invalidBody', path) as PostedBenchmark,
    };
  if (kind === 'profile')
    return {
      profile: parse(ProfileReportIn, item, 'request body', 'request.invalidBody', path) as PostedProfile,
    };
  if (kind === 'stats')
    return { stats: parse(StatsIn, item, 'request body', 'request.invalidBody', path) as PostedStats };
  if (kind === 'flow') {
    const env = parse(FlowIn, item, 'request body', 'request.invalidBody', path) as Omit<
      PostedFlow,
      'flow'
    > & {
      flow: unknown;
    };
    let flow;
    try {
      flow = parseFlowRecord(env.flow, [...path, 'flow'].join('.'));
    } catch (e) {
      throw new HttpError(
        400,
        'BAD_REQUEST',
        msg('request.invalidBody', { detail: `${[...path, 'flow'].join('.')}: ${(e as Error).message}` }),
      );
    }
    return { flow: { ...env, flow } };
  }
  return { event: parse(RuntimeEventIn, item, 'request body', 'request.invalidBody', path) as PostedEvent };
}

const ClusterRow = z.object({
  cluster: z.string(),
  agents: z.number().int(),
  staleAgents: z.number().int(),
  drops: z.number().int(),
  events24h: z.number().int(),
  byPriority24h: z.record(z.string(), z.number().int()),
  images: z.number().int(),
  critical: z.number().int(),
  high: z.number().int(),
});

const AgentOut = z
  .object({
    node: z.string(),
    cluster: z.string(),
    runId: z.string(),
    version: z.string(),
    startedAt: z.string(),
    lastSeen: z.string(),
    receivedAt: z.string(),
    stale: z.boolean().meta({ description: 'no stats for three heartbeats (or 5 minutes)' }),
    rules: z.number().int(),
    events: z.number().int(),
    drops: z.number().int(),
    alerts: z.number().int(),
    kernel: z.record(z.string(), z.object({ events: z.number().int(), drops: z.number().int() })),
    buffer: z
      .object({
        pendingBytes: z.number().int(),
        dropped: z.number().int(),
        rejected: z.number().int(),
        sent: z.number().int(),
      })
      .optional(),
  })
  .meta({ id: 'RuntimeAgent' });

const RuntimeEventOut = z
  .object({
    id: z.number().int(),
    eventId: z.string(),
    kind: z.string(),
    time: z.string(),
    node: z.string(),
    cluster: z.string(),
    rule: z.string(),
    priority: z.string(),
    source: z.string(),
    output: z.string(),
    container: z.object({ id: z.string(), name: z.string(), image: z.string() }),
    k8s: z.object({ namespace: z.string(), pod: z.string() }),
    tags: z.array(z.string()),
    techniques: z.array(z.string()),
  })
  .meta({ id: 'RuntimeEvent' });

const ProcessNode = z.object({
  pid: z.number().int().optional(),
  name: z.string(),
  exe: z.string().optional(),
  cmdline: z.string().optional(),
  user: z.string().optional(),
});

const Filters = z.object({
  kind: z.enum(EVENT_KINDS).optional(),
  rule: Str(500).optional(),
  priority: Priority.optional().meta({ description: 'this priority or more severe' }),
  container: Str(200).optional().meta({ description: 'container id (prefix, 12+ chars) or name' }),
  image: Str(1000).optional().meta({ description: 'image name prefix' }),
  namespace: Str(253).optional(),
  pod: Str(253).optional(),
  node: Str(253).optional(),
  cluster: Str(253).optional(),
  tag: Str(200).optional().meta({ description: 'a rule tag: T1059, mitre_execution, container...' }),
  q: Str(200).optional().meta({ description: 'text in the output' }),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
});
type FilterQ = z.output<typeof Filters>;

type EventsQuery<O> = SelectQueryBuilder<Database, 'runtime_events', O>;

function applyFilters<O>(b: EventsQuery<O>, f: FilterQ): EventsQuery<O> {
  if (f.kind) b = b.where('runtime_events.kind', '=', f.kind);
  if (f.rule) b = b.where('runtime_events.rule', '=', f.rule);
  if (f.priority) b = b.where('runtime_events.priority_rank', '>=', priorityRank(f.priority));
  if (f.container) {
    const c = f.container === 'host' ? '' : f.container;
    b = b.where((eb: ExpressionBuilder<Database, 'runtime_events'>) =>
      c.length >= 12 && /^[0-9a-f]+$/.test(c)
        ? eb.or([
            likeSql(eb.ref('runtime_events.container_id'), `${likeEscape(c)}%`),
            eb('runtime_events.container_name', '=', c),
          ])
        : eb.or([eb('runtime_events.container_id', '=', c), eb('runtime_events.container_name', '=', c)]),
    );
  }
  if (f.image) b = b.where(likeSql(sql.ref('runtime_events.image'), `${likeEscape(f.image)}%`));
  if (f.namespace) b = b.where('runtime_events.namespace', '=', f.namespace);
  if (f.pod) b = b.where('runtime_events.pod', '=', f.pod);
  if (f.node) b = b.where('runtime_events.node', '=', f.node);
  if (f.cluster) b = b.where('runtime_events.cluster', '=', f.cluster);
  if (f.q)
    b = b.where(
      likeSql(sql`lower(${sql.ref('runtime_events.output')})`, `%${likeEscape(f.q.toLowerCase())}%`),
    );
  if (f.since) b = b.where('runtime_events.time', '>=', new Date(f.since).toISOString());
  if (f.until) b = b.where('runtime_events.time', '<', new Date(f.until).toISOString());
  if (f.tag) {
    const tag = f.tag;
    b = isAttackTag(tag)
      ? b.where((eb: ExpressionBuilder<Database, 'runtime_events'>) =>
          eb(
            'runtime_events.id',
            'in',
            eb.selectFrom('runtime_event_tags').select('runtime_event_tags.event_row').where('tag', '=', tag),
          ),
        )
      : b.where(likeSql(sql.ref('runtime_events.tags'), `%,${likeEscape(tag)},%`));
  }
  return b;
}

const COLS = [
  'runtime_events.id',
  'event_id',
  'kind',
  'time',
  'node',
  'cluster',
  'rule',
  'priority',
  'source',
  'output',
  'container_id',
  'container_name',
  'image',
  'namespace',
  'pod',
  'body',
] as const;

interface Row {
  id: number;
  event_id: string;
  kind: string;
  time: string;
  node: string;
  cluster: string;
  rule: string;
  priority: string;
  source: string;
  output: string;
  container_id: string;
  container_name: string;
  image: string;
  namespace: string;
  pod: string;
  body: string;
}

function eventOut(r: Row): z.input<typeof RuntimeEventOut> {
  const body = JSON.parse(r.body) as PostedEvent;
  return {
    id: r.id,
    eventId: r.event_id,
    kind: r.kind,
    // the exact time as the agent sent it (nanoseconds), not the column's milliseconds
    time: body.time ?? r.time,
    node: r.node,
    cluster: r.cluster,
    rule: r.rule,
    priority: r.priority,
    source: r.source,
    output: r.output,
    container: { id: r.container_id || 'host', name: r.container_name, image: r.image },
    k8s: { namespace: r.namespace, pod: r.pod },
    tags: body.tags ?? [],
    techniques: techniquesOf(body.tags ?? []),
  };
}

const str = (v: unknown) => (typeof v === 'string' && v !== '<NA>' && v !== '' ? v : undefined);
const num = (v: unknown) =>
  typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;

/**
 * The process tree of an event, root first: the lineage the agent sent, or what the rule's output
 * fields tell (proc.*, proc.p*, proc.aname[N]).
 */
export function processTree(e: PostedEvent): z.input<typeof ProcessNode>[] {
  const lineage = e.process as
    { pid?: number; name?: string; exe?: string; cmdline?: string; user?: string }[] | undefined;
  if (lineage?.length)
    return lineage
      .map((p) => ({
        name: p.name ?? p.exe ?? '?',
        ...(p.pid !== undefined ? { pid: p.pid } : {}),
        ...(p.exe ? { exe: p.exe } : {}),
        ...(p.cmdline ? { cmdline: p.cmdline } : {}),
        ...(p.user ? { user: p.user } : {}),
      }))
      .reverse();
  const f = e.output_fields;
  const nodes: z.input<typeof ProcessNode>[] = [];
  const self = str(f['proc.name']);
  if (self) {
    const n: z.input<typeof ProcessNode> = { name: self };
    const pid = num(f['proc.pid']);
    if (pid !== undefined) n.pid = pid;
    const exe = str(f['proc.exepath']) ?? str(f['proc.exe']);
    if (exe) n.exe = exe;
    const cmd = str(f['proc.cmdline']);
    if (cmd) n.cmdline = cmd;
    const user = str(f['user.name']);
    if (user) n.user = user;
    nodes.push(n);
  }
  const parent = str(f['proc.pname']) ?? str(f['proc.aname[1]']);
  if (parent) {
    const n: z.input<typeof ProcessNode> = { name: parent };
    const pid = num(f['proc.ppid']);
    if (pid !== undefined) n.pid = pid;
    const exe = str(f['proc.pexepath']) ?? str(f['proc.pexe']);
    if (exe) n.exe = exe;
    const cmd = str(f['proc.pcmdline']);
    if (cmd) n.cmdline = cmd;
    nodes.push(n);
  }
  for (let i = 2; i <= 16; i++) {
    const a = str(f[`proc.aname[${i}]`]);
    if (!a) break;
    const n: z.input<typeof ProcessNode> = { name: a };
    const pid = num(f[`proc.apid[${i}]`]);
    if (pid !== undefined) n.pid = pid;
    nodes.push(n);
  }
  return nodes.reverse();
}

const Group = z.array(z.object({ key: z.string(), count: z.number().int() }));

export function runtimeRoutes(s: ServerContext): void {
  const { router, db } = s;
  const stored = s.metrics.register(
    new Counter('bulwark_runtime_events_total', 'Runtime events stored, by kind and priority'),
  );
  /** Stores validated items (from the API or the event bus): stats first, then the events and drop alerts. */
  const ingest = async (
    events: PostedEvent[],
    stats: PostedStats[],
    who: string,
    flows: PostedFlow[] = [],
    profiles: PostedProfile[] = [],
    benchmarks: PostedBenchmark[] = [],
  ) => {
    const newFlows = await storeFlows(db, flows);
    const newProfiles = profiles.length ? await storeProfiles(db, profiles, who) : 0;
    const newRuns = benchmarks.length ? await storeBenchmarkRuns(db, benchmarks, who) : 0;
    if (stats.length) events = [...events, ...(await storeAgentStats(db, stats, who))];
    const r = events.length
      ? await storeRuntimeEvents(db, events, who, s.onRuntimeStored)
      : { accepted: 0, duplicates: 0, stored: [] };
    for (const e of r.stored) stored.inc({ kind: e.event.kind, priority: e.event.priority });
    return {
      accepted: r.accepted + stats.length + newFlows + newProfiles + newRuns,
      duplicates:
        r.duplicates + flows.length - newFlows + profiles.length - newProfiles + benchmarks.length - newRuns,
    };
  };
  s.ingestRuntime = ingest;

  router.add({
    method: 'POST',
    url: '/api/runtime/events',
    tag: 'runtime',
    access: 'operator',
    summary:
      'Store a batch of runtime events from a node agent (idempotent by event id: a re-sent batch is not doubled)',
    bodyLimit: RUNTIME_BODY_LIMIT,
    body: RuntimeBatch,
    response: z.object({
      accepted: z.number().int().meta({ description: 'events stored now' }),
      duplicates: z.number().int().meta({ description: 'events already stored (or repeated in the batch)' }),
    }),
    async handler({ body, principal }) {
      if (body.events.length > RUNTIME_MAX_BATCH)
        throw new HttpError(
          413,
          'BATCH_TOO_LARGE',
          msg('runtime.batchTooLarge', { count: body.events.length, max: RUNTIME_MAX_BATCH }),
        );
      const events: PostedEvent[] = [];
      const stats: PostedStats[] = [];
      const flows: PostedFlow[] = [];
      const profiles: PostedProfile[] = [];
      const benchmarks: PostedBenchmark[] = [];
      const bound = principal.cluster;
      body.events.forEach((item, i) => {
        const c = classifyRuntimeItem(item, ['events', i]);
        const rec = (c.stats ?? c.flow ?? c.profile ?? c.benchmark ?? c.event)!;
        // a cluster token's events belong to its cluster: unnamed ones get it, others are refused
        if (bound) {
          if (rec.cluster && rec.cluster !== bound)
            throw new HttpError(
              403,
              'WRONG_CLUSTER',
              msg('runtime.wrongCluster', { index: i, cluster: rec.cluster, token: bound }),
            );
          rec.cluster = bound;
        }
        if (c.stats) stats.push(c.stats);
        else if (c.flow) flows.push(c.flow);
        else if (c.profile) profiles.push(c.profile);
        else if (c.benchmark) benchmarks.push(c.benchmark);
        else events.push(c.event!);
      });
      return ingest(events, stats, actorName(principal), flows, profiles, benchmarks);
    },
  });

  router.add({
    method: 'GET',
    url: '/api/runtime/events',
    tag: 'runtime',
    access: 'viewer',
    summary: 'Runtime events (alerts, profile deviations, responses), newest first, with filters',
    query: pagingQuery(['time'], 'time').extend(Filters.shape),
    response: page(RuntimeEventOut),
    async handler({ query }) {
      const b = applyFilters(db.selectFrom('runtime_events'), query);
      const total = await countRows(b);
      const rows = await b
        .select([...COLS])
        .orderBy('runtime_events.time', query.order)
        .orderBy('runtime_events.id', query.order)
        .$call((q) => pageOf(q, query))
        .execute();
      return { items: rows.map(eventOut), total, page: query.page, pageSize: query.pageSize };
    },
  });

  router.add({
    method: 'GET',
    url: '/api/runtime/agents',
    tag: 'runtime',
    access: 'viewer',
    summary:
      'Node agents: the latest stats of each (events, sensor drops per record type, rules, disk buffer), stale ones marked',
    response: z.object({ items: z.array(AgentOut) }),
    async handler() {
      const rows = await db
        .selectFrom('runtime_agents')
        .selectAll()
        .orderBy('cluster')
        .orderBy('node')
        .execute();
      const now = Date.now();
      return {
        items: rows.map((r) => {
          const st = JSON.parse(r.stats) as PostedStats['stats'];
          const staleMs = st.heartbeatSeconds ? st.heartbeatSeconds * 3000 : 300_000;
          return {
            node: r.node,
            cluster: r.cluster,
            runId: r.run_id,
            version: r.version,
            startedAt: r.started_at,
            lastSeen: r.last_seen,
            receivedAt: r.received_at,
            stale: now - Date.parse(r.received_at) > staleMs,
            rules: st.rules,
            events: st.events,
            drops: st.drops,
            alerts: st.alerts,
            kernel: st.kernel,
            ...(st.buffer ? { buffer: st.buffer } : {}),
          };
        }),
      };
    },
  });

  router.add({
    method: 'GET',
    url: '/api/clusters',
    tag: 'runtime',
    access: 'viewer',
    summary:
      'Clusters side by side: node agents (reporting / stale), runtime events of the last 24 h by priority, images scanned by its CI tokens and their findings',
    response: z.object({
      items: z.array(ClusterRow.meta({ id: 'Cluster' })),
    }),
    async handler() {
      const now = Date.now();
      const since = new Date(now - 86_400_000).toISOString();
      const out = new Map<string, z.input<typeof ClusterRow>>();
      const row = (c: string) => {
        let r = out.get(c);
        if (!r) {
          r = {
            cluster: c,
            agents: 0,
            staleAgents: 0,
            drops: 0,
            events24h: 0,
            byPriority24h: {},
            images: 0,
            critical: 0,
            high: 0,
          };
          out.set(c, r);
        }
        return r;
      };
      for (const a of await db
        .selectFrom('runtime_agents')
        .select(['cluster', 'received_at', 'drops', 'stats'])
        .execute()) {
        const r = row(a.cluster);
        r.agents++;
        r.drops += a.drops;
        const hb = (JSON.parse(a.stats) as PostedStats['stats']).heartbeatSeconds;
        if (now - Date.parse(a.received_at) > (hb ? hb * 3000 : 300_000)) r.staleAgents++;
      }
      const ev = await db
        .selectFrom('runtime_events')
        .select((eb) => ['cluster', 'priority', eb.fn.countAll<number>().as('n')])
        .where('time', '>=', since)
        .groupBy(['cluster', 'priority'])
        .execute();
      for (const e of ev) {
        const r = row(e.cluster);
        r.events24h += Number(e.n);
        r.byPriority24h[e.priority] = Number(e.n);
      }
      // each image's latest scan uploaded by the cluster's tokens
      const latest = await db
        .selectFrom('scans')
        .select((eb) => ['cluster', 'image_id', eb.fn.max('id').as('id')])
        .where('cluster', '!=', '')
        .where('source', '!=', 'merged')
        .groupBy(['cluster', 'image_id'])
        .execute();
      if (latest.length) {
        const counts = await db
          .selectFrom('scans')
          .select(['id', 'cluster', 'critical', 'high'])
          .where(
            'id',
            'in',
            latest.map((l) => Number(l.id)),
          )
          .execute();
        for (const c of counts) {
          const r = row(c.cluster);
          r.images++;
          r.critical += c.critical;
          r.high += c.high;
        }
      }
      return { items: [...out.values()].sort((a, b) => a.cluster.localeCompare(b.cluster)) };
    },
  });

  router.add({
    method: 'GET',
    url: '/api/runtime/summary',
    tag: 'runtime',
    access: 'viewer',
    summary:
      'Counts of the matching runtime events by priority, rule, ATT&CK technique, image, namespace, container and node',
    query: Filters,
    response: z.object({
      total: z.number().int(),
      byPriority: Group,
      byRule: Group,
      byTechnique: Group,
      byTactic: Group,
      byImage: Group,
      byNamespace: Group,
      byContainer: Group,
      byNode: Group,
      byKind: Group,
    }),
    async handler({ query }) {
      const base = () => applyFilters(db.selectFrom('runtime_events'), query);
      const total = await countRows(base());
      const group = async (
        col: 'priority' | 'rule' | 'image' | 'namespace' | 'container_id' | 'node' | 'kind',
        limit = 20,
      ) => {
        const rows = await base()
          .select((eb) => [`runtime_events.${col} as key` as const, eb.fn.countAll<number>().as('n')])
          .groupBy(`runtime_events.${col}`)
          .orderBy('n', 'desc')
          .orderBy(`runtime_events.${col}`)
          .limit(limit)
          .execute();
        return rows.map((r) => ({ key: String((r as { key: string }).key), count: Number(r.n) }));
      };
      const tags = await db
        .selectFrom('runtime_event_tags')
        .where('event_row', 'in', base().select('runtime_events.id'))
        .select((eb) => ['tag', eb.fn.countAll<number>().as('n')])
        .groupBy('tag')
        .orderBy('n', 'desc')
        .orderBy('tag')
        .execute();
      const tagGroup = (pred: (t: string) => boolean) =>
        tags.filter((t) => pred(t.tag)).map((t) => ({ key: t.tag, count: Number(t.n) }));
      const byPriority = (await group('priority', PRIORITIES.length)).sort(
        (a, b) =>
          PRIORITIES.indexOf(a.key as (typeof PRIORITIES)[number]) -
          PRIORITIES.indexOf(b.key as (typeof PRIORITIES)[number]),
      );
      return {
        total,
        byPriority,
        byRule: await group('rule'),
        byTechnique: tagGroup((t) => techniquesOf([t]).length > 0).slice(0, 30),
        byTactic: tagGroup((t) => t.startsWith('mitre_')),
        byImage: await group('image'),
        byNamespace: await group('namespace'),
        byContainer: (await group('container_id')).map((g) => ({ ...g, key: g.key || 'host' })),
        byNode: await group('node'),
        byKind: await group('kind'),
      };
    },
  });

  router.add({
    method: 'GET',
    url: '/api/runtime/events/:id',
    tag: 'runtime',
    access: 'viewer',
    summary:
      'One runtime event: the event as the agent sent it (Falco JSON fields), its process tree and the same container’s events around it',
    params: IdParams,
    response: RuntimeEventOut.extend({
      falco: z
        .record(z.string(), z.unknown())
        .meta({ description: "the alert in Falco's JSON output format" }),
      event: z.record(z.string(), z.unknown()),
      processTree: z.array(ProcessNode),
      related: z.array(RuntimeEventOut),
    }),
    async handler({ params }) {
      const r = await db
        .selectFrom('runtime_events')
        .select([...COLS])
        .where('runtime_events.id', '=', params.id)
        .executeTakeFirst();
      if (!r) throw new HttpError(404, 'NOT_FOUND', msg('runtime.notFound', { id: params.id }));
      const event = JSON.parse(r.body) as PostedEvent;
      // the container's (or the host's, on that node) events 10 minutes either side
      const t = Date.parse(r.time);
      let rel = db
        .selectFrom('runtime_events')
        .select([...COLS])
        .where('runtime_events.id', '!=', r.id)
        .where('container_id', '=', r.container_id)
        .where('time', '>=', new Date(t - 600_000).toISOString())
        .where('time', '<=', new Date(t + 600_000).toISOString());
      if (!r.container_id) rel = rel.where('node', '=', r.node);
      const related = await rel.orderBy('time').orderBy('runtime_events.id').limit(50).execute();
      return {
        ...eventOut(r),
        falco: falcoJson(event),
        event,
        processTree: processTree(event),
        related: related.map(eventOut),
      };
    },
  });
}

/** An alert in Falco's JSON output format (json_output: true, json_include_output_property, tags). */
export function falcoJson(e: PostedEvent): Record<string, unknown> {
  return {
    hostname: e.node,
    output: e.output,
    output_fields: e.output_fields,
    priority: e.priority,
    rule: e.rule,
    source: e.source,
    tags: e.tags,
    time: e.time,
  };
}
