/**
 * The agent's flow collection: records from the sensor's connect/accept events and from conntrack
 * (src/network: fromSyscallEvent, fromConntrack) are attributed to workloads and aggregated, and
 * every interval (1 s by default) the interval's edges go to the shipper as `kind: 'flow'` records
 * — through the same disk buffer, HTTP or JetStream path and idempotency by id as the alerts. A
 * connection seen at both ends or by both sources within two minutes counts once.
 */
import { FlowAggregator, type Attributor, type FlowRecord } from '../network/index.js';

/** A flow record as shipped (POST /api/runtime/events, kind 'flow'). */
export interface FlowEvent {
  id: string;
  kind: 'flow';
  time: string;
  node: string;
  cluster?: string;
  flow: FlowRecord;
}

export interface FlowCollectorOptions {
  node: string;
  cluster?: string;
  /** prefix of the record ids: unique per agent run */
  runId: string;
  attributor?: Attributor;
  /** how often the aggregated edges are shipped (default 1000 ms) */
  intervalMs?: number;
  emit(records: FlowEvent[]): void;
}

export class FlowCollector {
  private readonly agg: FlowAggregator;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  /** records added and edges shipped so far */
  readonly stats = { records: 0, shipped: 0 };

  constructor(private readonly o: FlowCollectorOptions) {
    this.agg = new FlowAggregator(o.attributor);
  }

  /** Adds a record (taken over: its `node` is set to this agent's when it has none). */
  add(rec: FlowRecord | undefined): void {
    if (!rec) return;
    this.stats.records++;
    rec.node ??= this.o.node;
    this.agg.add(rec);
  }

  /** Ships what was aggregated since the last flush; returns how many edges. */
  flush(): number {
    const recs = this.agg.drain();
    if (!recs.length) return 0;
    const time = new Date().toISOString();
    this.o.emit(
      recs.map((flow) => ({
        id: `${this.o.runId}:flow:${++this.seq}`,
        kind: 'flow' as const,
        time,
        node: this.o.node,
        ...(this.o.cluster ? { cluster: this.o.cluster } : {}),
        flow: { ...flow, firstSeen: flow.firstSeen ?? time, lastSeen: flow.lastSeen ?? time },
      })),
    );
    this.stats.shipped += recs.length;
    return recs.length;
  }

  start(): void {
    this.timer ??= setInterval(() => this.flush(), this.o.intervalMs ?? 1000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }
}
