/**
 * Ships runtime events from the node to the console: every event goes to the disk buffer first
 * (./buffer.ts), one batch at a time is POSTed to `<server>/api/runtime/events` with the agent's
 * API token, and a batch is removed from the buffer only once the console answered 2xx. So a
 * console that is down, slow or rate-limiting never loses events: they wait on disk (bounded) and
 * arrive in order when it is back; the console is idempotent by event id, so a batch re-sent after
 * a lost answer is not doubled.
 *
 *   network error, timeout, 5xx  → retry with exponential backoff (0.5 s … 30 s)
 *   429 / 503 with Retry-After   → wait as told (capped at 5 min)
 *   413                          → halve the batch size and retry; a single event refused as too
 *                                  large (413, NATS max_payload) is kept aside as for 400
 *   400                          → the console refused the batch as malformed: it is moved to
 *                                  `rejected.jsonl` in the buffer directory (kept, reported), not retried
 *   401 / 403                    → the token is wrong: keep buffering, report, retry slowly
 * Errors name the console URL and the HTTP status, never the token.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import type { Alert } from '../runtime/rules/index.js';
import type { ContainerInfo, StateTracker, ThreadInfo } from '../runtime/state/index.js';
import { isoTime } from '../runtime/rules/index.js';
import { DiskBuffer, type DiskBufferOptions } from './buffer.js';
import type { FlowEvent } from './flows.js';
import type { ProfileReportEvent } from './control.js';
import type { BenchmarkRunEvent } from './benchmarks.js';

/**
 * One runtime event as the console's POST /api/runtime/events takes it: a Falco alert, a
 * behaviour-profile deviation (kind 'deviation', rule "deviation"), or an automatic response
 * taken (kind 'response', rule "response"), with the fields below (docs/runtime-profiles.md).
 */
export interface RuntimeEvent {
  id: string;
  kind: 'alert' | 'deviation' | 'response' | 'admission' | 'waf';
  time: string;
  node: string;
  cluster?: string;
  rule: string;
  priority: string;
  source: string;
  output: string;
  output_fields: Record<string, string | number | boolean | null>;
  tags: string[];
  container?: { id: string; name?: string; image?: string; imageDigest?: string };
  k8s?: { namespace?: string; pod?: string; container?: string; labels?: Record<string, string> };
  /** the process lineage: the process that fired first, then its parent, ... (the console's process tree) */
  process?: ProcessNode[];
  /** kind 'deviation': the workload's id (runtime/profile workloadId) and its parts */
  workload?: string;
  workloadRef?: {
    container: string;
    namespace?: string;
    controller?: string;
    image?: string;
    imageDigest?: string;
  };
  /** kind 'deviation': what is outside the profile (exe, file, network, syscall), the value, and why when more than "not in it" */
  deviation?: { type: 'exe' | 'file' | 'network' | 'syscall'; value: string; reason?: string };
  /** kind 'deviation': the workload's mode, and what was done ("none": reported; "blocked": refused before it ran) */
  mode?: 'discover' | 'monitor' | 'protect';
  action?: 'none' | 'blocked';
  /** kind 'admission': the webhook's decision (src/admission/events.ts AdmissionEvent) */
  admission?: Record<string, unknown>;
  /** kind 'waf': the blocked request's summary (src/waf) */
  waf?: Record<string, unknown>;
  /** kind 'response': the action (kill, pause, quarantine, resume, release), its outcome and what triggered it */
  response?: {
    action: string;
    status: 'done' | 'failed' | 'skipped';
    policy: string;
    source: string;
    trigger: { id: string; kind: string; rule?: string; workload?: string; deviation?: string };
    target: { containerId?: string; pid?: number };
    latencyMs: number;
    reversible: boolean;
    undoes?: string;
    automatic?: boolean;
    /** an undo the console asked for: its command id */
    command?: number;
    error?: string;
  };
}

/**
 * The agent's periodic health record (`kind: 'stats'`), sent through the same buffer as alerts:
 * the console keeps the latest per node (its Agents table) and raises an alert when the sensor's
 * drop counters grow, so a node that loses events is seen, not silent.
 */
export interface AgentStatsEvent {
  id: string;
  kind: 'stats';
  time: string;
  node: string;
  cluster?: string;
  stats: {
    /** one per agent process; counters restart with it */
    runId: string;
    startedAt: string;
    version: string;
    rules: number;
    /** seconds between stats records (the console marks a node stale after three missed ones) */
    heartbeatSeconds?: number;
    kernelTypes: string[];
    /** events decoded from the sensor */
    events: number;
    /** per kernel record type: events and drops (ring buffer full) */
    kernel: Record<string, { events: number; drops: number }>;
    drops: number;
    alerts: number;
    /** the disk buffer: bytes waiting, events dropped by its bound, refused as malformed */
    buffer?: { pendingBytes: number; dropped: number; rejected: number; sent: number };
  };
}

/** What the shipper carries: alerts (and, from the profiles, deviations/responses), flows, agent stats, profiles and benchmark runs. */
export type ShippedEvent =
  RuntimeEvent | AgentStatsEvent | FlowEvent | ProfileReportEvent | BenchmarkRunEvent;

export interface ProcessNode {
  pid: number;
  name: string;
  exe?: string;
  cmdline?: string;
  uid?: number;
}

/** Up to `depth` processes: the thread's process, its parent, grandparent... as the state tracker knows them. */
export function processLineage(state: StateTracker, t: ThreadInfo | undefined, depth = 8): ProcessNode[] {
  const out: ProcessNode[] = [];
  const seen = new Set<number>();
  for (let cur = t ? state.main(t) : undefined; cur && out.length < depth; cur = state.parent(cur)) {
    if (seen.has(cur.pid)) break;
    seen.add(cur.pid);
    const n: ProcessNode = { pid: cur.vpid ?? cur.pid, name: cur.comm };
    if (cur.exepath || cur.exe) n.exe = cur.exepath || cur.exe;
    const cmd = [cur.comm, ...cur.args].join(' ');
    if (cur.args.length) n.cmdline = cmd.length > 4096 ? cmd.slice(0, 4096) + '…' : cmd;
    n.uid = cur.uid;
    out.push(n);
  }
  return out;
}

/** Builds the console event of an alert, with the container and pod the thread belongs to. */
export function alertEvent(
  a: Alert,
  id: string,
  where: { node: string; cluster?: string; container?: ContainerInfo; process?: ProcessNode[] },
): RuntimeEvent {
  const fields: RuntimeEvent['output_fields'] = {};
  for (const [k, v] of Object.entries(a.output_fields))
    fields[k] =
      typeof v === 'bigint'
        ? // evt.time and inode numbers exceed 2^53: as text, so no JSON reader rounds them
          v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(v)
          : v.toString()
        : Array.isArray(v)
          ? JSON.stringify(v)
          : (v as string | number | boolean | null);
  const ev: RuntimeEvent = {
    id,
    kind: 'alert',
    time: isoTime(a.ts),
    node: where.node,
    rule: a.rule,
    priority: a.priority,
    source: a.source,
    output: a.output,
    output_fields: fields,
    tags: a.tags,
  };
  if (where.cluster) ev.cluster = where.cluster;
  const c = where.container;
  if (c) {
    ev.container = { id: c.id };
    if (c.name) ev.container.name = c.name;
    if (c.image) ev.container.image = c.image;
    if (c.imageDigest) ev.container.imageDigest = c.imageDigest;
    if (c.k8s) {
      ev.k8s = {};
      if (c.k8s.namespace) ev.k8s.namespace = c.k8s.namespace;
      if (c.k8s.podName) ev.k8s.pod = c.k8s.podName;
      if (c.name) ev.k8s.container = c.name;
      if (c.k8s.labels) ev.k8s.labels = c.k8s.labels;
    }
  }
  if (where.process?.length) ev.process = where.process;
  return ev;
}

export interface ShipperOptions extends DiskBufferOptions {
  /** console base URL (http or https); or, with `nats`, the JetStream event bus instead */
  server?: string;
  token?: string;
  /** NATS server URL(s): publish to JetStream (subject bulwark.events.<cluster>.<node>) instead of HTTP */
  nats?: string;
  /** NATS credentials: token, or user:password */
  natsAuth?: string;
  /** buffer directory */
  bufferDir: string;
  /** PEM CA certificate(s) for an https console */
  caCertPem?: string;
  /** events per POST (default 500) */
  batchMax?: number;
  /** request timeout, ms (default 10 s) */
  timeoutMs?: number;
  /** backoff bounds, ms (default 500 … 30,000) */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** warnings (console unreachable, token refused, drops): default stderr */
  onWarn?: (msg: string) => void;
}

export interface ShipperStats {
  sent: number;
  batches: number;
  retries: number;
  /** events dropped by the buffer's size bound */
  dropped: number;
  /** events the console refused as malformed (kept in rejected.jsonl) */
  rejected: number;
  /** bytes waiting on disk */
  pendingBytes: number;
  lastError?: string;
}

export class Shipper {
  private readonly buffer: DiskBuffer<ShippedEvent>;
  private readonly sink: EventSink;
  private batchMax: number;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private stopped = false;
  private backoff = 0;
  private lastWarn = '';
  private lastWarnAt = 0;
  private readonly st: Omit<ShipperStats, 'dropped' | 'pendingBytes'> = {
    sent: 0,
    batches: 0,
    retries: 0,
    rejected: 0,
  };
  private reportedDrops = 0;

  constructor(private readonly opts: ShipperOptions) {
    if (opts.nats) this.sink = new NatsSink(opts);
    else {
      let base: URL;
      try {
        base = new URL(opts.server ?? '');
      } catch {
        throw new Error(`--server: not a URL: ${opts.server}`);
      }
      if (base.protocol !== 'http:' && base.protocol !== 'https:')
        throw new Error(`--server: expected an http(s) URL, got ${base.protocol}`);
      this.sink = new HttpSink(
        new URL('api/runtime/events', base.href.endsWith('/') ? base.href : base.href + '/'),
        opts,
      );
    }
    this.buffer = new DiskBuffer<ShippedEvent>(opts.bufferDir, opts);
    this.batchMax = opts.batchMax ?? 500;
  }

  get stats(): ShipperStats {
    return {
      ...this.st,
      dropped: this.buffer.dropped,
      pendingBytes: this.buffer.bytes,
    };
  }

  /** true when everything appended so far was acknowledged by the console */
  get drained(): boolean {
    return this.buffer.empty;
  }

  private warn(msg: string): void {
    const now = Date.now();
    if (msg === this.lastWarn && now - this.lastWarnAt < 60_000) return;
    this.lastWarn = msg;
    this.lastWarnAt = now;
    (this.opts.onWarn ?? ((m: string) => process.stderr.write(`bulwark agent: ${m}\n`)))(msg);
  }

  /** Queues events (written to disk at once) and wakes the sender. */
  enqueue(events: ShippedEvent[]): void {
    this.buffer.append(events);
    if (this.buffer.dropped > this.reportedDrops) {
      this.warn(
        `disk buffer full: ${this.buffer.dropped - this.reportedDrops} oldest undelivered events dropped (${this.buffer.dropped} in all)`,
      );
      this.reportedDrops = this.buffer.dropped;
    }
    this.wake?.();
  }

  /** Starts the send loop (also replays what a previous run left in the buffer). */
  start(): void {
    if (!this.running) this.running = this.loop();
  }

  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((r) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        r();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = undefined;
        r();
      };
    });
  }

  private async loop(): Promise<void> {
    const minB = this.opts.minBackoffMs ?? 500;
    const maxB = this.opts.maxBackoffMs ?? 30_000;
    while (!this.stopped) {
      const batch = this.buffer.next(this.batchMax);
      if (!batch) {
        await this.sleep(1000);
        continue;
      }
      const r = await this.sink.send(batch.items);
      if (r.ok) {
        this.buffer.ack(batch);
        this.st.sent += batch.items.length;
        this.st.batches++;
        if (this.backoff) this.warn(`${this.sink.where} reachable again; sending the buffered events`);
        this.backoff = 0;
        continue;
      }
      // one event larger than the destination takes (413, NATS max_payload: a benchmark report of a
      // host with very many containers) can never be delivered: kept aside like a malformed one
      if (r.rejected || (r.tooLarge && batch.items.length === 1)) {
        appendFileSync(
          join(this.opts.bufferDir, 'rejected.jsonl'),
          batch.items.map((i) => JSON.stringify(i)).join('\n') + '\n',
          { mode: 0o600 },
        );
        this.buffer.ack(batch);
        this.st.rejected += batch.items.length;
        this.warn(
          r.rejected
            ? `console refused ${batch.items.length} events as malformed (${r.error}); kept in rejected.jsonl`
            : `${this.sink.where} refused an event as too large (${r.error}); kept in rejected.jsonl`,
        );
        continue;
      }
      if (r.tooLarge) {
        this.batchMax = Math.max(1, Math.floor(Math.min(this.batchMax, batch.items.length) / 2));
        continue;
      }
      this.st.retries++;
      this.st.lastError = r.error;
      this.warn(`cannot deliver events to ${this.sink.where}: ${r.error}; buffering on disk`);
      this.backoff = this.backoff ? Math.min(maxB, this.backoff * 2) : minB;
      await this.sleep(r.retryAfterMs ?? this.backoff);
    }
  }

  /**
   * Stops sending: waits up to drainMs for the buffer to empty (0: not at all), then syncs the
   * buffer to disk; what is left is sent by the next run.
   */
  async stop(drainMs = 0): Promise<void> {
    const end = Date.now() + drainMs;
    while (drainMs > 0 && !this.buffer.empty && Date.now() < end && this.running)
      await new Promise((r) => setTimeout(r, 50));
    this.stopped = true;
    this.wake?.();
    await this.running;
    this.running = undefined;
    this.buffer.close();
    await this.sink.close();
  }
}

interface SendResult {
  ok: boolean;
  rejected?: boolean;
  tooLarge?: boolean;
  error?: string;
  retryAfterMs?: number;
}

/** Where a batch goes: the console over HTTP, or the JetStream event bus. */
interface EventSink {
  readonly where: string;
  send(items: ShippedEvent[]): Promise<SendResult>;
  close(): Promise<void>;
}

class HttpSink implements EventSink {
  readonly where: string;
  private dispatcher: Dispatcher | undefined;

  constructor(
    private readonly endpoint: URL,
    private readonly opts: ShipperOptions,
  ) {
    this.where = `${endpoint.origin}${endpoint.pathname}`;
  }

  async send(items: ShippedEvent[]): Promise<SendResult> {
    const { Agent, request } = await import('undici');
    if (!this.dispatcher) {
      const timeout = this.opts.timeoutMs ?? 10_000;
      this.dispatcher = new Agent({
        connect: this.opts.caCertPem ? { ca: this.opts.caCertPem, timeout } : { timeout },
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
    }
    try {
      const res = await request(this.endpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.opts.token ?? ''}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events: items }),
        dispatcher: this.dispatcher,
      });
      const text = await res.body.text();
      if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true };
      let msg = `HTTP ${res.statusCode}`;
      try {
        // the console answers {error: {code, message}}; other servers {error: "..."} or {message}
        const j = JSON.parse(text) as { error?: string | { message?: string }; message?: string };
        const m = typeof j.error === 'object' ? j.error?.message : (j.message ?? j.error);
        if (m) msg += `: ${String(m).slice(0, 300)}`;
      } catch {
        /* not JSON */
      }
      if (res.statusCode === 400) return { ok: false, rejected: true, error: msg };
      if (res.statusCode === 413) return { ok: false, tooLarge: true, error: msg };
      const ra = res.headers['retry-after'];
      const raS = Number(Array.isArray(ra) ? ra[0] : ra);
      if (res.statusCode === 401 || res.statusCode === 403)
        return { ok: false, error: `${msg} (check the agent's token and its role)`, retryAfterMs: 30_000 };
      return {
        ok: false,
        error: msg,
        ...(Number.isFinite(raS) && raS >= 0 ? { retryAfterMs: Math.min(raS, 300) * 1000 } : {}),
      };
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return { ok: false, error: err.code ?? err.message };
    }
  }

  async close(): Promise<void> {
    await (this.dispatcher as { close?: () => Promise<void> } | undefined)?.close?.();
  }
}

/** The JetStream stream agents publish to and servers consume from. */
export const EVENTS_STREAM = 'BULWARK_EVENTS';
export const EVENTS_SUBJECTS = 'bulwark.events.>';

/** A subject token: NATS subjects cannot hold spaces, dots, '*' or '>'. */
export function subjectToken(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '_') || '_';
}

/** The subject of one event: bulwark.events.<cluster>.<node>. */
export function eventSubject(ev: { cluster?: string; node: string }): string {
  return `bulwark.events.${subjectToken(ev.cluster ?? 'default')}.${subjectToken(ev.node)}`;
}

/**
 * Creates (or updates) the events stream: file storage, bounded by age and bytes, duplicates
 * dropped by message id within the window. Servers call it at start; agents only publish.
 */
export async function ensureEventsStream(
  nc: import('@nats-io/transport-node').NatsConnection,
  opts: { maxAgeMs?: number; maxBytes?: number; duplicateWindowMs?: number } = {},
): Promise<void> {
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nanos = (ms: number): number => ms * 1_000_000;
  const jsm = await jetstreamManager(nc);
  const cfg = {
    name: EVENTS_STREAM,
    subjects: [EVENTS_SUBJECTS],
    max_age: nanos(opts.maxAgeMs ?? 7 * 24 * 3600_000),
    max_bytes: opts.maxBytes ?? 1024 ** 3,
    duplicate_window: nanos(opts.duplicateWindowMs ?? 10 * 60_000),
  };
  try {
    await jsm.streams.info(EVENTS_STREAM);
    await jsm.streams.update(EVENTS_STREAM, cfg);
  } catch (e) {
    if (!/not found/i.test((e as Error).message)) throw e;
    await jsm.streams.add(cfg);
  }
}

/** NATS connection options of `--nats-auth`: a token, or user:password. */
export function natsCredentials(auth: string | undefined): { token?: string; user?: string; pass?: string } {
  if (!auth) return {};
  const i = auth.indexOf(':');
  return i > 0 ? { user: auth.slice(0, i), pass: auth.slice(i + 1) } : { token: auth };
}

/**
 * Publishes each event to JetStream with its id as Nats-Msg-Id: the stream's duplicate window
 * drops a re-published event (a batch re-sent after a lost ack), so delivery is at-least-once
 * from the buffer and exactly-once into the stream within the window. One publish at a time, in
 * order; a batch is acknowledged once the last PubAck arrived.
 */
class NatsSink implements EventSink {
  readonly where: string;
  private nc: import('@nats-io/transport-node').NatsConnection | undefined;
  private js: import('@nats-io/jetstream').JetStreamClient | undefined;

  constructor(private readonly opts: ShipperOptions) {
    this.where = `NATS ${opts.nats}`;
  }

  private async connect(): Promise<void> {
    if (this.js && this.nc && !this.nc.isClosed()) return;
    const { connect } = await import('@nats-io/transport-node');
    const { jetstream } = await import('@nats-io/jetstream');
    const creds = natsCredentials(this.opts.natsAuth);
    this.nc = await connect({
      servers: this.opts.nats!.split(','),
      timeout: this.opts.timeoutMs ?? 10_000,
      // the buffer is the retry queue: the client must not keep its own unbounded one
      reconnect: false,
      ...creds,
    });
    this.js = jetstream(this.nc, { timeout: this.opts.timeoutMs ?? 10_000 });
  }

  async send(items: ShippedEvent[]): Promise<SendResult> {
    try {
      await this.connect();
      // all of a batch in flight at once: one connection keeps them in order, and the batch
      // counts as sent only when every PubAck came back
      const js = this.js!;
      await Promise.all(
        items.map((ev) => js.publish(eventSubject(ev), JSON.stringify(ev), { msgID: ev.id })),
      );
      return { ok: true };
    } catch (e) {
      const err = e as Error & { code?: string };
      if (/max_payload/i.test(err.message)) return { ok: false, tooLarge: true, error: err.message };
      // a closed or failed connection is re-made on the next attempt
      await this.nc?.close().catch(() => {});
      this.nc = undefined;
      this.js = undefined;
      return { ok: false, error: err.code ? `${err.code}: ${err.message}` : err.message };
    }
  }

  async close(): Promise<void> {
    await this.nc?.drain().catch(() => {});
  }
}
