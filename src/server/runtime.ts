/**
 * Runtime events from node agents (`bulwark agent --server`): storing a batch idempotently (by the
 * agent's event id), Falco priorities and their mapping to finding severities, and ATT&CK tags.
 */
import type { Kysely } from 'kysely';
import type { Severity } from '../core/types.js';
import type { Database } from './db/index.js';

/** Falco's priorities, most severe first, as Falco's JSON output spells them. */
export const PRIORITIES = [
  'Emergency',
  'Alert',
  'Critical',
  'Error',
  'Warning',
  'Notice',
  'Informational',
  'Debug',
] as const;
export type Priority = (typeof PRIORITIES)[number];

const BY_LOWER = new Map<string, Priority>([
  ...PRIORITIES.map((p) => [p.toLowerCase(), p] as [string, Priority]),
  ['info', 'Informational'],
]);

/** Falco's spelling of a priority given in any case ("WARNING", "info"); undefined when unknown. */
export function priorityName(s: string): Priority | undefined {
  return BY_LOWER.get(s.toLowerCase());
}

/** 7 Emergency ... 0 Debug. */
export function priorityRank(p: Priority): number {
  return PRIORITIES.length - 1 - PRIORITIES.indexOf(p);
}

/**
 * The finding severity a priority counts as, for notification rules' minimum severity and for the
 * dashboard: Emergency/Alert/Critical → CRITICAL, Error → HIGH, Warning → MEDIUM,
 * Notice/Informational → LOW, Debug → UNKNOWN.
 */
export function priorityToSeverity(p: Priority): Severity {
  switch (p) {
    case 'Emergency':
    case 'Alert':
    case 'Critical':
      return 'CRITICAL';
    case 'Error':
      return 'HIGH';
    case 'Warning':
      return 'MEDIUM';
    case 'Notice':
    case 'Informational':
      return 'LOW';
    default:
      return 'UNKNOWN';
  }
}

const TECHNIQUE = /^T\d{4}(\.\d{3})?$/;

/** ATT&CK technique ids among a rule's tags ("T1059", "T1059.004"). */
export function techniquesOf(tags: string[]): string[] {
  return tags.filter((t) => TECHNIQUE.test(t));
}

/** ATT&CK techniques and tactics (Falco's `mitre_*` tags): the ones counted in their own table. */
export function isAttackTag(t: string): boolean {
  return t.startsWith('mitre_') || TECHNIQUE.test(t);
}

export const EVENT_KINDS = ['alert', 'deviation', 'response', 'admission', 'waf'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** One event as posted by an agent, validated (see api/runtime.ts for the schema). */
export interface PostedEvent {
  id: string;
  kind: EventKind;
  time: string;
  node: string;
  cluster?: string;
  rule: string;
  priority: Priority;
  source: string;
  output: string;
  output_fields: Record<string, unknown>;
  tags: string[];
  container?: { id: string; name?: string; image?: string; imageDigest?: string };
  k8s?: { namespace?: string; pod?: string; container?: string; labels?: Record<string, string> };
  [extra: string]: unknown;
}

/** A stored event: its row id and what notifications need. */
export interface StoredRuntimeEvent {
  row: number;
  event: PostedEvent;
}

export interface StoreResult {
  accepted: number;
  duplicates: number;
  stored: StoredRuntimeEvent[];
}

/** Rows per INSERT: 19 columns × 1000 stays under SQLite's (32766) and PostgreSQL's (65535) parameter limits. */
const CHUNK = 1000;

/** "host" and empty container ids are the host: stored as ''. */
function containerIdOf(e: PostedEvent): string {
  const id = e.container?.id ?? '';
  return id === 'host' ? '' : id;
}

/**
 * Stores a batch in one transaction: events whose id is already stored are skipped (counted as
 * duplicates), the others inserted with their tags, and `onStored` runs inside the same
 * transaction (notifications queue their outbox rows there, so an alert is notified if and only if
 * it is stored, and exactly once however often the agent re-sends it).
 */
export async function storeRuntimeEvents(
  db: Kysely<Database>,
  events: PostedEvent[],
  submittedBy: string,
  onStored: ((stored: StoredRuntimeEvent[], tx: Kysely<Database>) => Promise<void>)[] = [],
): Promise<StoreResult> {
  const receivedAt = new Date().toISOString();
  // the first of repeated ids within one batch wins
  const firstOf = new Map<string, PostedEvent>();
  for (const e of events) if (!firstOf.has(e.id)) firstOf.set(e.id, e);
  const batch = [...firstOf.values()];
  return db.transaction().execute(async (tx) => {
    const stored: StoredRuntimeEvent[] = [];
    for (let i = 0; i < batch.length; i += CHUNK) {
      const part = batch.slice(i, i + CHUNK);
      const rows = await tx
        .insertInto('runtime_events')
        .values(
          part.map((e) => ({
            event_id: e.id,
            kind: e.kind,
            time: new Date(e.time).toISOString(),
            received_at: receivedAt,
            node: e.node,
            cluster: e.cluster ?? '',
            rule: e.rule,
            priority: e.priority,
            priority_rank: priorityRank(e.priority),
            source: e.source,
            output: e.output,
            container_id: containerIdOf(e),
            container_name: e.container?.name ?? e.k8s?.container ?? '',
            image: e.container?.image ?? '',
            namespace: e.k8s?.namespace ?? '',
            pod: e.k8s?.pod ?? '',
            submitted_by: submittedBy,
            tags: e.tags.length ? `,${e.tags.join(',')},` : '',
            body: JSON.stringify(e),
          })),
        )
        .onConflict((oc) => oc.column('event_id').doNothing())
        .returning(['id', 'event_id'])
        .execute();
      const byId = new Map(part.map((e) => [e.id, e] as const));
      const tags: { event_row: number; tag: string }[] = [];
      for (const r of rows) {
        const e = byId.get(r.event_id)!;
        stored.push({ row: r.id, event: e });
        for (const tag of new Set(e.tags)) if (isAttackTag(tag)) tags.push({ event_row: r.id, tag });
      }
      for (let j = 0; j < tags.length; j += CHUNK * 8)
        await tx
          .insertInto('runtime_event_tags')
          .values(tags.slice(j, j + CHUNK * 8))
          .execute();
    }
    stored.sort((a, b) => a.row - b.row);
    for (const f of onStored) await f(stored, tx);
    return { accepted: stored.length, duplicates: events.length - stored.length, stored };
  });
}

/** An agent's stats record as posted (`kind: 'stats'`; src/agent/shipper.ts AgentStatsEvent). */
export interface PostedStats {
  id: string;
  kind: 'stats';
  time: string;
  node: string;
  cluster?: string;
  stats: {
    runId: string;
    startedAt: string;
    version: string;
    rules: number;
    heartbeatSeconds?: number;
    kernelTypes: string[];
    events: number;
    kernel: Record<string, { events: number; drops: number }>;
    drops: number;
    alerts: number;
    buffer?: { pendingBytes: number; dropped: number; rejected: number; sent: number };
  };
}

export const DROPS_RULE = 'Bulwark sensor dropped events';

/**
 * Keeps each node's latest stats (older records re-sent from a buffer never overwrite newer ones)
 * and returns an alert for every record whose drop counters grew since the previous record of the
 * same agent run (a new run counts from 0): dropped events are seen in the console and notified,
 * never silent. The alert's id derives from the stats record's, so a re-sent record repeats nothing.
 */
export async function storeAgentStats(
  db: Kysely<Database>,
  records: PostedStats[],
  submittedBy: string,
): Promise<PostedEvent[]> {
  const alerts: PostedEvent[] = [];
  const receivedAt = new Date().toISOString();
  for (const r of records) {
    const cluster = r.cluster ?? '';
    const time = new Date(r.time).toISOString();
    const prev = await db
      .selectFrom('runtime_agents')
      .select(['id', 'run_id', 'drops', 'last_seen', 'stats'])
      .where('cluster', '=', cluster)
      .where('node', '=', r.node)
      .executeTakeFirst();
    if (prev && prev.last_seen > time) continue; // an older record replayed late
    const before =
      prev && prev.run_id === r.stats.runId
        ? (JSON.parse(prev.stats) as PostedStats['stats']).kernel
        : ({} as PostedStats['stats']['kernel']);
    const grown: Record<string, number> = {};
    let n = 0;
    for (const [type, k] of Object.entries(r.stats.kernel)) {
      const d = k.drops - (before[type]?.drops ?? 0);
      if (d > 0) {
        grown[type] = d;
        n += d;
      }
    }
    if (n > 0)
      alerts.push({
        id: `${r.id}:drops`,
        kind: 'alert',
        time: r.time,
        node: r.node,
        ...(r.cluster ? { cluster: r.cluster } : {}),
        rule: DROPS_RULE,
        priority: 'Error',
        source: 'bulwark',
        output: `the sensor on ${r.node} dropped ${n} event(s) since its last report (${Object.entries(grown)
          .map(([t, d]) => `${t}: ${d}`)
          .join(', ')}): its ring buffer was full; ${r.stats.drops} dropped since the agent started`,
        output_fields: {
          'bulwark.drops': n,
          'bulwark.drops_total': r.stats.drops,
          ...Object.fromEntries(Object.entries(grown).map(([t, d]) => [`bulwark.drops.${t}`, d])),
        },
        tags: ['bulwark', 'sensor', 'drops'],
      });
    const row = {
      cluster,
      node: r.node,
      run_id: r.stats.runId,
      version: r.stats.version,
      started_at: r.stats.startedAt,
      last_seen: time,
      received_at: receivedAt,
      submitted_by: submittedBy,
      drops: r.stats.drops,
      stats: JSON.stringify(r.stats),
    };
    if (prev) await db.updateTable('runtime_agents').set(row).where('id', '=', prev.id).execute();
    else
      await db
        .insertInto('runtime_agents')
        .values(row)
        .onConflict((oc) => oc.columns(['cluster', 'node']).doUpdateSet(row))
        .execute();
  }
  return alerts;
}
