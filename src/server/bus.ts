/**
 * The console's side of the event bus: with `bulwark server --nats URL`, every console replica
 * pulls from one durable JetStream consumer of the agents' stream (BULWARK_EVENTS), so the replicas
 * share the work and each event is handled by one of them; a batch is acknowledged only after it
 * is stored (a replica that dies mid-batch leaves it to be redelivered to another after the ack
 * wait), and storing is idempotent by event id, so redelivery never doubles an event or its
 * notification. Items that are not valid events are logged, counted and terminated (a malformed
 * message cannot block the stream). The connection reconnects forever: a nats-server that is
 * away only delays events; they wait in the stream (or in the agents' disk buffers).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import { describeError } from '../core/errors.js';
import { EVENTS_STREAM, ensureEventsStream, natsCredentials } from '../agent/index.js';
import { classifyRuntimeItem } from './api/runtime.js';
import type { ServerContext } from './context.js';
import { Counter } from './metrics.js';
import type { PostedEvent, PostedStats } from './runtime.js';
import type { PostedFlow } from './network.js';
import type { PostedProfile } from './profiles.js';
import type { PostedBenchmark } from './benchmarks.js';

export interface BusOptions {
  /** nats://host:port[,...] */
  servers: string;
  /** token, or user:password */
  auth?: string;
  /** durable consumer shared by the console replicas (default "bulwark-console") */
  durable?: string;
  /** messages per fetch (default 1000) */
  batch?: number;
  /** how long a fetched, unacknowledged message is reserved before redelivery (default 30 s) */
  ackWaitMs?: number;
  /** the stream's retention, created or updated at start */
  maxAgeMs?: number;
  maxBytes?: number;
}

const nanos = (ms: number) => ms * 1_000_000;

export class BusConsumer {
  private nc: NatsConnection | undefined;
  private consumer: Consumer | undefined;
  private iter: { stop(): void } | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private lastWarn = '';
  private lastWarnAt = 0;
  readonly stats = { messages: 0, stored: 0, duplicates: 0, invalid: 0, batches: 0, errors: 0 };
  private readonly consumed: Counter;

  constructor(
    private readonly s: ServerContext,
    private readonly o: BusOptions,
  ) {
    this.consumed = s.metrics.register(
      new Counter('bulwark_bus_messages_total', 'Event bus messages handled, by outcome'),
    );
  }

  private warn(m: string): void {
    const now = Date.now();
    if (m === this.lastWarn && now - this.lastWarnAt < 60_000) return;
    this.lastWarn = m;
    this.lastWarnAt = now;
    this.s.logger.warn(`event bus: ${m}`);
  }

  /** Connects, makes sure the stream and the shared consumer exist, and starts pulling. */
  async start(): Promise<void> {
    const { connect } = await import('@nats-io/transport-node');
    const { jetstream, jetstreamManager, AckPolicy, DeliverPolicy } = await import('@nats-io/jetstream');
    const creds = natsCredentials(this.o.auth);
    try {
      this.nc = await connect({
        servers: this.o.servers.split(','),
        name: 'bulwark-console',
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
        waitOnFirstConnect: false,
        ...creds,
      });
    } catch (e) {
      throw new Error(`cannot connect to NATS at ${this.o.servers}: ${describeError(e)}`, { cause: e });
    }
    await ensureEventsStream(this.nc, { maxAgeMs: this.o.maxAgeMs, maxBytes: this.o.maxBytes });
    const jsm = await jetstreamManager(this.nc);
    const durable = this.o.durable ?? 'bulwark-console';
    const cfg = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.o.ackWaitMs ?? 30_000),
      max_ack_pending: 20_000,
      max_deliver: -1,
    };
    try {
      await jsm.consumers.info(EVENTS_STREAM, durable);
      await jsm.consumers.update(EVENTS_STREAM, durable, {
        ack_wait: cfg.ack_wait,
        max_ack_pending: cfg.max_ack_pending,
      });
    } catch (e) {
      if (!/not found/i.test((e as Error).message)) throw e;
      await jsm.consumers.add(EVENTS_STREAM, cfg);
    }
    this.consumer = await jetstream(this.nc).consumers.get(EVENTS_STREAM, durable);
    this.running = this.loop();
  }

  /**
   * Pulls continuously (the client keeps up to 2 × batch messages in flight) and stores in micro
   * batches: when `batch` messages are waiting, or 20 ms after the first of them arrived, so a
   * busy stream is stored in large transactions and a quiet one without waiting for a batch to fill.
   */
  private async loop(): Promise<void> {
    const max = this.o.batch ?? 1000;
    let buf: JsMsg[] = [];
    let timer: NodeJS.Timeout | undefined;
    let chain: Promise<void> = Promise.resolve();
    const flush = (): Promise<void> => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      const msgs = buf;
      buf = [];
      if (!msgs.length) return chain;
      chain = chain.then(async () => {
        try {
          await this.handle(msgs);
        } catch (e) {
          this.stats.errors++;
          this.warn(`cannot store ${msgs.length} events (${describeError(e)}); they are redelivered`);
          for (const m of msgs) m.nak(1000);
        }
      });
      return chain;
    };
    while (!this.stopping) {
      try {
        const it = await this.consumer!.consume({ max_messages: 2 * max });
        this.iter = it;
        for await (const m of it) {
          if (this.stopping) break;
          buf.push(m);
          if (buf.length >= max) await flush();
          else timer ??= setTimeout(() => void flush(), 20);
        }
      } catch (e) {
        if (this.stopping) break;
        this.stats.errors++;
        this.warn(`${describeError(e)}; retrying`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    // what was received but not stored stays unacknowledged: redelivered after the ack wait
    if (timer) clearTimeout(timer);
    await chain;
  }

  private async handle(msgs: JsMsg[]): Promise<void> {
    const events: PostedEvent[] = [];
    const stats: PostedStats[] = [];
    const flows: PostedFlow[] = [];
    const profiles: PostedProfile[] = [];
    const benchmarks: PostedBenchmark[] = [];
    const good: JsMsg[] = [];
    for (const m of msgs) {
      try {
        const c = classifyRuntimeItem(m.json(), [m.subject]);
        if (c.stats) stats.push(c.stats);
        else if (c.flow) flows.push(c.flow);
        else if (c.profile) profiles.push(c.profile);
        else if (c.benchmark) benchmarks.push(c.benchmark);
        else events.push(c.event!);
        good.push(m);
      } catch (e) {
        this.stats.invalid++;
        this.consumed.inc({ outcome: 'invalid' });
        this.warn(`message ${m.seq} on ${m.subject} is not a valid event (${describeError(e)}); dropped`);
        m.term();
      }
    }
    if (good.length) {
      // not acknowledged on failure: redelivered after the ack wait (to this or another replica)
      const r = await this.s.ingestRuntime!(events, stats, 'nats', flows, profiles, benchmarks);
      this.stats.stored += r.accepted;
      this.stats.duplicates += r.duplicates;
      this.consumed.inc({ outcome: 'stored' }, r.accepted);
      if (r.duplicates) this.consumed.inc({ outcome: 'duplicate' }, r.duplicates);
      for (const m of good) m.ack();
    }
    this.stats.messages += msgs.length;
    this.stats.batches++;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.iter?.stop();
    await this.running?.catch(() => {});
    await this.nc?.drain().catch(() => {});
  }
}
