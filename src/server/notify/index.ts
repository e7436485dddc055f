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
}

const now = () => new Date().toISOString();

export class Notifier {
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private ticking: Promise<void> | undefined;
  readonly backoffMs: number;
  readonly maxAttempts: number;
  private readonly leaseMs: number;

  constructor(
    private readonly s: ServerContext,
    private readonly o: NotifierOptions,
  ) {
    this.backoffMs = o.backoffMs ?? 5000;
    this.maxAttempts = o.maxAttempts ?? 10;
    this.leaseMs = o.leaseMs ?? 60_000;
    s.onScanStored.push((e, tx) => this.onScanStored(e, tx));
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
    this.ticking = this.deliverDue()
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
    const rules = await db
      .selectFrom('notify_rules')
      .selectAll()
      .where('enabled', '=', 1)
      .where('event', '=', event.type)
      .execute();
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
