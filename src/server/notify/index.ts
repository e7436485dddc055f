/**
 * Notifications: rules turn events into outbox rows (one per destination), and a delivery loop sends
 * them at least once: a row stays until its destination accepted it, survives restarts (it is in the
 * database), is retried with exponential backoff, and after maxAttempts lands in the dead-letter
 * list (status "dead") that the API shows and can requeue.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { describeError } from '../../core/errors.js';
import { severityRank, type Severity } from '../../core/types.js';
import type { ServerContext, ScanStoredEvent } from '../context.js';
import type { Database } from '../db/index.js';
import type { EventType, NotifyEvent } from './format.js';
import { deliver, type Destination } from './transport.js';
import { priorityName, priorityToSeverity, type PostedEvent, type StoredRuntimeEvent } from '../runtime.js';

export {
  EVENT_TYPES,
  toCef,
  toSyslog,
  octetFrame,
  webhookRequest,
  slackMessage,
  SD_ID,
  type NotifyEvent,
  type EventType,
} from './format.js';
export { deliver, type Destination, type SyslogConfig, type WebhookConfig } from './transport.js';

export interface NotifierOptions {
  pollMs: number;
  /** First retry delay (default 5 s), doubling per attempt, capped at 1 hour. */
  backoffMs?: number;
  /** Attempts before a delivery goes to the dead-letter list (default 10). */
  maxAttempts?: number;
  /** How long a claimed delivery is reserved before another loop may take it again (default 60 s). */
  leaseMs?: number;
  /** Runtime notifications per rule, container and node per minute before the rest is summarised (default 10). */
  runtimeBurst?: number;
  /** The window of runtimeBurst, ms (default 60 s). */
  runtimeWindowMs?: number;
}

interface Burst {
  start: number;
  sent: number;
  suppressed: number;
  last: PostedEvent;
  row: number;
}

function where(e: PostedEvent): string {
  const c = e.container;
  if (!c || !c.id || c.id === 'host') return `host ${e.node}`;
  const pod = e.k8s?.pod ? `${e.k8s.namespace ?? ''}/${e.k8s.pod} ` : '';
  return `${pod}container ${c.name ?? c.id.slice(0, 12)} (${c.image ?? c.id.slice(0, 12)}) on ${e.node}`;
}

/** The notification of one runtime event: Falco's JSON alert in `runtime.falco`. */
export function runtimeNotifyEvent(e: PostedEvent, row: number): NotifyEvent {
  const p = priorityName(e.priority) ?? 'Warning';
  return {
    id: randomUUID(),
    type: 'runtime-alert',
    time: new Date().toISOString(),
    severity: priorityToSeverity(p),
    summary: `${p}: ${e.rule} on ${where(e)}: ${e.output}`,
    ...(e.container?.image
      ? { image: { name: e.container.image, digest: e.container.imageDigest ?? '' } }
      : {}),
    runtime: {
      eventId: e.id,
      consoleId: row,
      kind: e.kind,
      node: e.node,
      ...(e.cluster ? { cluster: e.cluster } : {}),
      ...(e.container ? { container: e.container } : {}),
      ...(e.k8s ? { k8s: e.k8s } : {}),
      falco: {
        hostname: e.node,
        output: e.output,
        output_fields: e.output_fields,
        priority: p,
        rule: e.rule,
        source: e.source,
        tags: e.tags,
        time: e.time,
      },
    },
  };
}

const now = () => new Date().toISOString();

export class Notifier {
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private ticking: Promise<void> | undefined;
  readonly backoffMs: number;
  readonly maxAttempts: number;
  private readonly leaseMs: number;
  private readonly runtimeBurst: number;
  private readonly windowMs: number;
  private readonly bursts = new Map<string, Burst>();
  private readonly pendingSummaries: Burst[] = [];

  constructor(
    private readonly s: ServerContext,
    private readonly o: NotifierOptions,
  ) {
    this.backoffMs = o.backoffMs ?? 5000;
    this.maxAttempts = o.maxAttempts ?? 10;
    this.leaseMs = o.leaseMs ?? 60_000;
    this.runtimeBurst = o.runtimeBurst ?? 10;
    this.windowMs = o.runtimeWindowMs ?? 60_000;
    s.onScanStored.push((e, tx) => this.onScanStored(e, tx));
    s.onRuntimeStored.push((e, tx) => this.onRuntimeStored(e, tx));
  }

  start(): void {
    this.stopping = false;
    this.loop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
  }

  private loop(): void {
    if (this.stopping) return;
    this.ticking = this.flushRuntimeSummaries()
      .then(() => this.deliverDue())
      .then(() => undefined)
      .catch((e) => this.s.logger.warn(`notifications: ${describeError(e)}`))
      .finally(() => {
        if (!this.stopping) this.timer = setTimeout(() => this.loop(), this.o.pollMs);
      });
  }

  /** Events → outbox rows for every enabled rule that matches. Returns how many rows were queued. */
  async emit(
    event: NotifyEvent,
    ctx: { registryName?: string } = {},
    db: Kysely<Database> = this.s.db,
  ): Promise<number> {
    return this.emitWith(await this.rulesFor(db, event.type), event, ctx, db);
  }

  private rulesFor(db: Kysely<Database>, type: EventType) {
    return db
      .selectFrom('notify_rules')
      .selectAll()
      .where('enabled', '=', 1)
      .where('event', '=', type)
      .orderBy('id')
      .execute();
  }

  private async emitWith(
    rules: Awaited<ReturnType<Notifier['rulesFor']>>,
    event: NotifyEvent,
    ctx: { registryName?: string },
    db: Kysely<Database>,
  ): Promise<number> {
    let queued = 0;
    const sent = new Set<number>();
    for (const r of rules) {
      if (sent.has(r.destination_id)) continue;
      let e = event;
      if (event.findings && r.min_severity) {
        const min = severityRank(r.min_severity as Severity);
        const findings = event.findings.filter((f) => severityRank(f.severity) >= min);
        if (!findings.length) continue;
        e = {
          ...event,
          findings,
          severity: maxSeverity(findings.map((f) => f.severity)),
          summary: summarize(event, findings),
        };
      } else if (r.min_severity && severityRank(event.severity) < severityRank(r.min_severity as Severity))
        continue;
      if (r.registry_filter && !matchesFilter(r.registry_filter, ctx.registryName, event.image?.name))
        continue;
      await this.queue(db, r.destination_id, e);
      sent.add(r.destination_id);
      queued++;
    }
    return queued;
  }

  /**
   * New runtime alerts (and deviations/responses) → one notification each, with Falco's JSON
   * fields, at most `runtimeBurst` per rule and container per minute: the rest of a burst is
   * counted and sent as one summary when the minute is over (a noisy rule cannot flood a pager).
   */
  private async onRuntimeStored(stored: StoredRuntimeEvent[], db: Kysely<Database>): Promise<void> {
    if (!stored.length) return;
    const rules = await this.rulesFor(db, 'runtime-alert');
    if (!rules.length) return;
    const nowMs = Date.now();
    for (const { row, event } of stored) {
      const key = `${event.rule}\u0000${event.container?.id ?? ''}\u0000${event.node}`;
      let w = this.bursts.get(key);
      if (!w || nowMs - w.start >= this.windowMs) {
        if (w?.suppressed) this.pendingSummaries.push(w);
        w = { start: nowMs, sent: 0, suppressed: 0, last: event, row };
        this.bursts.set(key, w);
      }
      w.last = event;
      w.row = row;
      if (w.sent >= this.runtimeBurst) {
        w.suppressed++;
        continue;
      }
      w.sent++;
      await this.emitWith(rules, runtimeNotifyEvent(event, row), { registryName: undefined }, db);
    }
  }

  /** Summaries of bursts whose minute is over (called by the delivery loop). */
  async flushRuntimeSummaries(nowMs = Date.now()): Promise<number> {
    for (const [k, w] of this.bursts)
      if (nowMs - w.start >= this.windowMs) {
        this.bursts.delete(k);
        if (w.suppressed) this.pendingSummaries.push(w);
      }
    const due = this.pendingSummaries.splice(0);
    if (!due.length) return 0;
    const rules = await this.rulesFor(this.s.db, 'runtime-alert');
    let n = 0;
    for (const w of due) {
      const e = runtimeNotifyEvent(w.last, w.row);
      e.summary = `${w.suppressed} more "${w.last.rule}" alert(s) on ${where(w.last)} in ${Math.round(this.windowMs / 1000)} s (not sent one by one); last: ${w.last.output}`;
      e.runtime!.suppressed = w.suppressed;
      n += await this.emitWith(rules, e, {}, this.s.db);
    }
    return n;
  }

  async queue(db: Kysely<Database>, destinationId: number, e: NotifyEvent): Promise<void> {
    const at = now();
    await db
      .insertInto('outbox')
      .values({
        destination_id: destinationId,
        event: JSON.stringify(e),
        status: 'pending',
        attempts: 0,
        next_attempt_at: at,
        last_error: '',
        created_at: at,
        delivered_at: null,
      })
      .execute();
  }

  private async onScanStored(e: ScanStoredEvent, db: Kysely<Database>): Promise<void> {
    const registryName = e.registryId
      ? (await db.selectFrom('registries').select('name').where('id', '=', e.registryId).executeTakeFirst())
          ?.name
      : undefined;
    const head = await db.selectFrom('findings').selectAll().where('scan_id', '=', e.scanId).execute();
    // New findings: in the image's view now and not before (a source's report that only repeats
    // what another source found is nothing new).
    const view =
      e.viewScanId === e.scanId
        ? head
        : await db.selectFrom('findings').selectAll().where('scan_id', '=', e.viewScanId).execute();
    const baseKeys = new Set(
      e.previousScanId === null
        ? []
        : (
            await db.selectFrom('findings').select('fkey').where('scan_id', '=', e.previousScanId).execute()
          ).map((r) => r.fkey),
    );
    const fresh = view.filter((f) => !baseKeys.has(f.fkey) && f.kind === 'vulnerability');
    const base = {
      time: now(),
      image: { name: e.imageName, digest: e.digest },
      scanId: e.scanId,
      ...(registryName ? { registry: registryName } : {}),
    };
    const counts = head.length;
    await this.emit(
      {
        ...base,
        id: randomUUID(),
        type: 'scan-completed',
        severity: maxSeverity(head.map((f) => f.severity as Severity)),
        summary: `scan of ${e.imageName} completed: ${counts} finding(s)`,
      },
      { registryName },
      db,
    );
    if (fresh.length) {
      const findings = fresh
        .sort((a, b) => b.severity_rank - a.severity_rank)
        .map((f) => ({
          advisoryId: f.advisory_id,
          severity: f.severity as Severity,
          pkgName: f.pkg_name,
          pkgVersion: f.pkg_version,
          fixedVersion: f.fixed_version,
          title: f.title,
        }));
      const ev: NotifyEvent = {
        ...base,
        id: randomUUID(),
        type: 'new-finding',
        severity: maxSeverity(findings.map((f) => f.severity)),
        summary: '',
        findings,
      };
      ev.summary = summarize(ev, findings);
      await this.emit(ev, { registryName }, db);
    }
  }

  /** Scan job failed for good. */
  async scanFailed(job: { id: number; payload: unknown; message: string }): Promise<void> {
    const p = job.payload as { registryId?: number; repository?: string; tag?: string };
    const registryName = p.registryId
      ? (
          await this.s.db
            .selectFrom('registries')
            .select('name')
            .where('id', '=', p.registryId)
            .executeTakeFirst()
        )?.name
      : undefined;
    await this.emit(
      {
        id: randomUUID(),
        type: 'scan-failed',
        time: now(),
        severity: 'HIGH',
        jobId: job.id,
        summary: `scan job ${job.id}${p.repository ? ` (${p.repository}:${p.tag})` : ''} failed: ${job.message}`,
        ...(registryName ? { registry: registryName } : {}),
        ...(p.repository ? { image: { name: p.repository, digest: '' } } : {}),
      },
      { registryName },
    );
  }

  /** Sends every due delivery once; returns how many succeeded (exposed for tests). */
  async deliverDue(limit = 50): Promise<number> {
    const db = this.s.db;
    const at = now();
    const due = await db
      .selectFrom('outbox')
      .select(['id', 'destination_id', 'event', 'attempts', 'status', 'next_attempt_at'])
      .where('status', 'in', ['pending', 'sending'])
      .where('next_attempt_at', '<=', at)
      .orderBy('id')
      .limit(limit)
      .execute();
    let ok = 0;
    for (const row of due) {
      // Claim with a lease: another replica (or this one after a crash) retries only when it expires.
      const claim = await db
        .updateTable('outbox')
        .set({
          status: 'sending',
          next_attempt_at: new Date(Date.now() + this.leaseMs).toISOString(),
          attempts: row.attempts + 1,
        })
        .where('id', '=', row.id)
        .where('status', '=', row.status)
        .where('next_attempt_at', '=', row.next_attempt_at)
        .executeTakeFirst();
      if (Number(claim.numUpdatedRows) !== 1) continue;
      const attempts = row.attempts + 1;
      try {
        const dest = await this.destination(row.destination_id);
        await deliver(dest, JSON.parse(row.event) as NotifyEvent, String(row.id));
        await db
          .updateTable('outbox')
          .set({ status: 'delivered', delivered_at: now(), last_error: '' })
          .where('id', '=', row.id)
          .execute();
        ok++;
      } catch (e) {
        const msg = describeError(e).slice(0, 1000);
        const dead = attempts >= this.maxAttempts;
        const delay = Math.min(this.backoffMs * 2 ** (attempts - 1), 3600_000);
        await db
          .updateTable('outbox')
          .set({
            status: dead ? 'dead' : 'pending',
            last_error: msg,
            next_attempt_at: new Date(Date.now() + delay).toISOString(),
          })
          .where('id', '=', row.id)
          .execute();
        if (dead) this.s.logger.warn(`notification ${row.id} moved to the dead-letter list: ${msg}`);
      }
      if (this.stopping) break;
    }
    return ok;
  }

  private async destination(id: number): Promise<Destination> {
    const d = await this.s.db
      .selectFrom('notify_destinations')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!d) throw new Error(`destination ${id} was deleted`);
    const config = JSON.parse(d.config) as Record<string, unknown>;
    if (typeof config.secret === 'string') config.secret = this.s.box.open(config.secret);
    if (typeof config.url === 'string' && d.type === 'slack') config.url = this.s.box.open(config.url);
    return { type: d.type, config } as unknown as Destination;
  }
}

function maxSeverity(list: Severity[]): Severity {
  let best: Severity = 'UNKNOWN';
  for (const s of list) if (severityRank(s) > severityRank(best)) best = s;
  return best;
}

function summarize(e: Pick<NotifyEvent, 'image'>, findings: { severity: Severity }[]): string {
  const c: Partial<Record<Severity, number>> = {};
  for (const f of findings) c[f.severity] = (c[f.severity] ?? 0) + 1;
  const parts = (['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const)
    .filter((s) => c[s])
    .map((s) => `${c[s]} ${s}`);
  return `${findings.length} new finding(s) in ${e.image?.name ?? 'image'}: ${parts.join(', ')}`;
}

/** Rule filter: a registry name, or an image-name prefix (namespace) such as "reg:5000/team-a/". */
export function matchesFilter(
  filter: string,
  registryName: string | undefined,
  imageName: string | undefined,
): boolean {
  return filter === registryName || (!!imageName && imageName.startsWith(filter));
}

export type { EventType as NotifyEventType };
