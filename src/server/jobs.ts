/**
 * Job queue in the database: rows in `jobs` are claimed with a conditional UPDATE (safe with several
 * server replicas), run with bounded concurrency, retried with exponential backoff, and report
 * progress (0-100 and a message) that GET /api/jobs/:id shows.
 *
 * Job types:
 * - registry-sync {registryId, reason}: lists the registry's chosen repositories (or its catalog)
 *   and tags matching the tag filter, and queues an image-scan for each.
 * - image-scan {registryId, repository, tag}: pulls and scans the image with the scan pipeline and
 *   stores the report.
 * A scheduler in the same loop queues registry-sync when a registry's schedule is due and for every
 * registry when the advisory DB changes (its status fingerprint: advisory count, last update, sources).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { describeError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { RegistryClient } from '../image/index.js';
import { AdvisoryDb } from '../vuln/index.js';
import { runScan } from '../cli/scan.js';
import { getSetting, setSetting } from './auth.js';
import type { ServerContext } from './context.js';
import type { Database } from './db/index.js';
import { Gauge } from './metrics.js';
import { digestOf, storeReport } from './scans.js';
import { checkImageSignatures, isAttachmentTag, storeImageSignatures } from './signatures.js';
import { format } from './messages.js';

export type JobType = 'registry-sync' | 'image-scan';
export interface RegistrySyncPayload {
  registryId: number;
  reason: string;
}
export interface ImageScanPayload {
  registryId: number;
  repository: string;
  tag: string;
}

export interface JobRunnerOptions {
  concurrency: number;
  pollMs: number;
  /** First retry delay; doubles per attempt (default 5 s, capped at 10 min). */
  backoffMs?: number;
  maxAttempts?: number;
  /**
   * How long a running job stays reserved without a heartbeat from its runner (default 60 s; the
   * runner renews it every third of that). A replica that dies (kill -9, lost node) leaves its jobs
   * running; once the lease is over another replica queues them again and runs them.
   */
  leaseMs?: number;
}

/** The job was taken over by another replica (its lease expired): this runner's result is dropped. */
export class LeaseLost extends Error {}

interface JobCtx {
  progress(pct: number, message: string): Promise<void>;
  /**
   * Marks the job succeeded inside the transaction that stores its result, if this runner still
   * holds it (throws LeaseLost otherwise, rolling the result back): a result is stored once even
   * when a replica that lost its lease finishes late.
   */
  succeed(tx: Kysely<Database>): Promise<void>;
}

const now = () => new Date().toISOString();

export async function enqueue(
  db: Kysely<Database>,
  type: JobType,
  payload: object,
  maxAttempts = 3,
): Promise<number> {
  const at = now();
  const r = await db
    .insertInto('jobs')
    .values({
      type,
      payload: JSON.stringify(payload),
      status: 'queued',
      attempts: 0,
      max_attempts: maxAttempts,
      run_after: at,
      progress: 0,
      message: format('job.queued'),
      locked_by: null,
      locked_at: null,
      created_at: at,
      updated_at: at,
      finished_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

/** Registry host ("reg.example:5000") from a stored URL or bare host. */
export function registryHost(url: string): string {
  return url.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
}

export class JobRunner {
  private readonly id = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  private running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private ticking: Promise<void> | undefined;
  private readonly backoffMs: number;
  readonly maxAttempts: number;
  readonly leaseMs: number;
  /** Hook for notifications: a job failed for good. */
  onFailed: ((job: { id: number; type: string; payload: unknown; message: string }) => Promise<void>)[] = [];

  constructor(
    private readonly s: ServerContext,
    private readonly o: JobRunnerOptions,
  ) {
    this.backoffMs = o.backoffMs ?? 5000;
    this.maxAttempts = o.maxAttempts ?? 3;
    this.leaseMs = o.leaseMs ?? 60_000;
    s.metrics.register(
      new Gauge('bulwark_jobs', 'Jobs in the queue by type and status', async () => {
        const rows = await s.db
          .selectFrom('jobs')
          .select(['type', 'status', (eb) => eb.fn.countAll<number>().as('n')])
          .groupBy(['type', 'status'])
          .execute();
        return rows.map((r) => [{ type: r.type, status: r.status }, Number(r.n)]);
      }),
    );
    s.metrics.register(
      new Gauge('bulwark_jobs_running_local', 'Jobs running in this server process', async () => [
        [{}, this.running.size],
      ]),
    );
  }

  start(): void {
    this.stopping = false;
    // Jobs of a runner that is gone (this host's previous process, or another replica) are taken
    // back once their lease is over (reclaimExpired, every tick); a live replica's jobs never are,
    // even on the same host.
    this.loop();
  }

  private loop(): void {
    if (this.stopping) return;
    this.ticking = this.tick()
      .catch((e) => this.s.logger.warn(`job runner: ${describeError(e)}`))
      .finally(() => {
        if (!this.stopping) this.timer = setTimeout(() => this.loop(), this.o.pollMs);
      });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    await Promise.allSettled([...this.running]);
  }

  /** One scheduling round (exposed for tests): schedule due work, then claim jobs up to the limit. */
  async tick(): Promise<void> {
    await this.schedule();
    await this.reclaimExpired();
    const free = this.o.concurrency - this.running.size;
    if (free <= 0) return;
    const candidates = await this.s.db
      .selectFrom('jobs')
      .selectAll()
      .where('status', '=', 'queued')
      .where('run_after', '<=', now())
      .orderBy('id')
      .limit(free)
      .execute();
    for (const job of candidates) {
      const claimed = await this.s.db
        .updateTable('jobs')
        .set({
          status: 'running',
          locked_by: this.id,
          locked_at: now(),
          attempts: job.attempts + 1,
          updated_at: now(),
          message: format('job.started'),
        })
        .where('id', '=', job.id)
        .where('status', '=', 'queued')
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) continue;
      const p = this.run({ ...job, attempts: job.attempts + 1 }).finally(() => this.running.delete(p));
      this.running.add(p);
    }
  }

  /** Running jobs whose runner stopped renewing the lease: queued again (or failed after the last attempt). */
  private async reclaimExpired(): Promise<void> {
    const expired = new Date(Date.now() - this.leaseMs).toISOString();
    const db = this.s.db;
    const lost = await db
      .selectFrom('jobs')
      .select(['id', 'locked_by', 'attempts', 'max_attempts'])
      .where('status', '=', 'running')
      .where('locked_at', '<', expired)
      .execute();
    for (const j of lost) {
      const last = j.attempts >= j.max_attempts;
      const r = await db
        .updateTable('jobs')
        .set({
          status: last ? 'failed' : 'queued',
          locked_by: null,
          locked_at: null,
          message: format('job.leaseExpired', { runner: j.locked_by ?? '?' }),
          updated_at: now(),
          ...(last ? { finished_at: now() } : {}),
        })
        .where('id', '=', j.id)
        .where('status', '=', 'running')
        .where('locked_at', '<', expired)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1)
        this.s.logger.warn(
          `job ${j.id}: its runner ${j.locked_by} stopped renewing the lease; ${last ? 'failed' : 'queued again'}`,
        );
    }
  }

  /** Waits until no job is queued or running (tests). */
  async drain(timeoutMs = 120_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.s.db
        .selectFrom('jobs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', 'in', ['queued', 'running'])
        .executeTakeFirstOrThrow();
      if (Number(r.n) === 0 && this.running.size === 0) return;
      if (Date.now() > end) throw new Error('jobs did not finish in time');
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  private async run(
    job: Database['jobs'] extends infer _T
      ? { id: number; type: string; payload: string; attempts: number; max_attempts: number }
      : never,
  ): Promise<void> {
    const db = this.s.db;
    const mine = this.id;
    // renew the lease while the job runs
    const beat = setInterval(
      () =>
        void db
          .updateTable('jobs')
          .set({ locked_at: now() })
          .where('id', '=', job.id)
          .where('locked_by', '=', mine)
          .where('status', '=', 'running')
          .execute()
          .catch((e) => this.s.logger.warn(`job ${job.id}: cannot renew its lease: ${describeError(e)}`)),
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    let finished = false;
    const ctx: JobCtx = {
      succeed: async (tx) => {
        const r = await tx
          .updateTable('jobs')
          .set({ status: 'succeeded', progress: 100, locked_by: null, updated_at: now(), finished_at: now() })
          .where('id', '=', job.id)
          .where('locked_by', '=', mine)
          .where('status', '=', 'running')
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1)
          throw new LeaseLost(`job ${job.id} was taken over by another runner; this result is dropped`);
        finished = true;
      },
      progress: async (pct, message) => {
        await db
          .updateTable('jobs')
          .set({
            progress: Math.max(0, Math.min(100, Math.round(pct))),
            message: message.slice(0, 500),
            updated_at: now(),
          })
          .where('id', '=', job.id)
          .execute();
      },
    };
    try {
      const payload = JSON.parse(job.payload) as unknown;
      if (job.type === 'registry-sync') await this.registrySync(payload as RegistrySyncPayload, ctx);
      else if (job.type === 'image-scan') await this.imageScan(payload as ImageScanPayload, ctx);
      else throw new Error(`unknown job type ${job.type}`);
      if (!finished) await ctx.succeed(db);
    } catch (e) {
      if (e instanceof LeaseLost) {
        this.s.logger.warn(e.message);
        return;
      }
      const message = describeError(e).slice(0, 1000);
      if (job.attempts < job.max_attempts) {
        const delay = Math.min(this.backoffMs * 2 ** (job.attempts - 1), 600_000);
        await db
          .updateTable('jobs')
          .set({
            status: 'queued',
            locked_by: null,
            run_after: new Date(Date.now() + delay).toISOString(),
            message: format('job.retrying', { attempt: job.attempts, error: message }),
            updated_at: now(),
          })
          .where('id', '=', job.id)
          .where('locked_by', '=', mine)
          .execute();
      } else {
        await db
          .updateTable('jobs')
          .set({ status: 'failed', locked_by: null, message, updated_at: now(), finished_at: now() })
          .where('id', '=', job.id)
          .where('locked_by', '=', mine)
          .execute();
        for (const h of this.onFailed)
          await h({ id: job.id, type: job.type, payload: JSON.parse(job.payload), message }).catch(() => {});
      }
    } finally {
      clearInterval(beat);
    }
  }

  private async registryConn(id: number) {
    const reg = await this.s.db.selectFrom('registries').selectAll().where('id', '=', id).executeTakeFirst();
    if (!reg) throw new Error(`registry ${id} no longer exists`);
    let caFile: string | undefined;
    if (reg.ca_cert) {
      const dir = join(this.s.dataDir, 'tmp');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      caFile = join(dir, `registry-${reg.id}-ca.pem`);
      writeFileSync(caFile, reg.ca_cert, { mode: 0o600 });
    }
    const password = this.s.box.open(reg.secret);
    return { reg, host: registryHost(reg.url), caFile, password };
  }

  private async registrySync(p: RegistrySyncPayload, ctx: JobCtx): Promise<void> {
    const { reg, host, caFile, password } = await this.registryConn(p.registryId);
    const client = new RegistryClient(host, {
      username: reg.username || undefined,
      password: password || undefined,
      caCertFile: caFile,
      insecure: !!reg.insecure,
      retries: 1,
    });
    try {
      await ctx.progress(0, format('job.listing', { host }));
      const chosen = JSON.parse(reg.repositories) as string[];
      const repos = chosen.length ? chosen : await client.catalog();
      const filter = reg.tag_filter ? new RegExp(reg.tag_filter) : undefined;
      let queued = 0;
      for (const [i, repo] of repos.entries()) {
        // cosign's signature/attestation tags are not images (their content is read with the image's scan)
        const tags = (await client.listTags(repo)).filter(
          (t) => !isAttachmentTag(t) && (!filter || filter.test(t)),
        );
        for (const tag of tags) {
          const payload: ImageScanPayload = { registryId: reg.id, repository: repo, tag };
          const dup = await this.s.db
            .selectFrom('jobs')
            .select('id')
            .where('type', '=', 'image-scan')
            .where('status', 'in', ['queued', 'running'])
            .where('payload', '=', JSON.stringify(payload))
            .executeTakeFirst();
          if (!dup) {
            await enqueue(this.s.db, 'image-scan', payload, this.maxAttempts);
            queued++;
          }
        }
        await ctx.progress(((i + 1) / repos.length) * 100, format('job.repoQueued', { repo, count: queued }));
      }
      await ctx.progress(100, format('job.syncDone', { count: queued, reason: p.reason }));
    } finally {
      await client.close();
    }
  }

  private async imageScan(p: ImageScanPayload, ctx: JobCtx): Promise<void> {
    const { reg, host, caFile, password } = await this.registryConn(p.registryId);
    const ref = `${host}/${p.repository}:${p.tag}`;
    await ctx.progress(5, format('job.pulling', { ref }));
    const dbStatus = advisoryFingerprint(this.s.advisoryDbPath);
    // runScan warns that --password shows in process lists; not true here (no process), so drop that one.
    const logger: Logger = {
      ...quietLogger(this.s.logger),
      warn: (m) => (m.includes('--password') ? undefined : this.s.logger.warn(`${ref}: ${m}`)),
    };
    const run = await runScan(
      'image',
      ref,
      {
        format: 'json',
        exitCode: '0',
        listAllPkgs: true,
        db: this.s.advisoryDbPath,
        username: reg.username || undefined,
        password: reg.username ? password : undefined,
        caCert: caFile,
        insecure: !!reg.insecure,
        timeout: '10m',
      },
      logger,
    );
    // signatures and attestations of the digest scanned, stored with the scan; never fails the
    // scan (a registry error is recorded in the summary)
    const digest = digestOf(run.report);
    const sig = digest.startsWith('sha256:')
      ? await checkImageSignatures(
          `${host}/${p.repository}@${digest}`,
          {
            username: reg.username || undefined,
            password: reg.username ? password : undefined,
            caCertFile: caFile,
            insecure: !!reg.insecure,
            logger: quietLogger(this.s.logger),
          },
          this.s.signaturePolicy,
        )
      : undefined;
    await ctx.progress(90, format('job.storing', { ref }));
    const stored = await storeReport(
      this.s.db,
      run.report,
      {
        source: 'registry',
        submittedBy: `registry:${reg.name}`,
        registryId: reg.id,
        advisoryDb: dbStatus ?? null,
        imageName: `${host}/${p.repository}`,
      },
      async (st, tx) => {
        // the job is done in the transaction that stores its scan: stored once, even if this
        // runner lost its lease meanwhile (then nothing is stored here)
        await ctx.succeed(tx);
        if (sig) await storeImageSignatures(tx, st.imageId, sig);
        for (const h of this.s.onScanStored) await h({ ...st, registryId: reg.id }, tx);
      },
    );
    await ctx.progress(100, format('job.done', { count: stored.findings, ref }));
  }

  private lastScheduleCheck = 0;
  /** Queues registry-sync jobs for due schedules and after advisory DB changes. */
  async schedule(force = false): Promise<void> {
    if (!force && Date.now() - this.lastScheduleCheck < Math.min(this.o.pollMs * 5, 30_000)) return;
    this.lastScheduleCheck = Date.now();
    const db = this.s.db;
    const regs = await db
      .selectFrom('registries')
      .select(['id', 'schedule_minutes', 'last_scheduled_at'])
      .execute();
    const fp = advisoryFingerprint(this.s.advisoryDbPath);
    const prevFp = await getSetting(db, 'advisory_db_fingerprint');
    const dbChanged = fp !== undefined && prevFp !== undefined && fp !== prevFp;
    if (fp !== undefined && fp !== prevFp) await setSetting(db, 'advisory_db_fingerprint', fp);
    for (const r of regs) {
      const due =
        r.schedule_minutes > 0 &&
        (!r.last_scheduled_at || Date.parse(r.last_scheduled_at) + r.schedule_minutes * 60_000 <= Date.now());
      if (!due && !dbChanged) continue;
      await enqueue(
        db,
        'registry-sync',
        {
          registryId: r.id,
          reason: format(dbChanged ? 'job.reasonDbChanged' : 'job.reasonSchedule'),
        } satisfies RegistrySyncPayload,
        this.maxAttempts,
      );
      await db.updateTable('registries').set({ last_scheduled_at: now() }).where('id', '=', r.id).execute();
    }
  }
}

/** Identity of the advisory DB's content: changes when an import or update changes it. */
export function advisoryFingerprint(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  let db: AdvisoryDb | undefined;
  try {
    db = AdvisoryDb.open(path, { readonly: true });
    const st = db.status();
    return JSON.stringify([
      st.advisories,
      st.withdrawn,
      st.lastUpdate ?? '',
      st.sources.map((s) => [s.url, s.etag ?? '', s.updatedAt]),
    ]);
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}

function quietLogger(l: Logger): Logger {
  return { warn: (m) => l.warn(m), info: () => {}, debug: (m) => l.debug(m), progress: () => {} };
}
