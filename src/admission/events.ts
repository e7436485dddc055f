/**
 * Admission decisions as events. The console (src/server) has no event-ingest API yet, so a decision
 * is one JSON line on a stream (stdout by default) and, with `--events-url`, batched JSON lines
 * (application/x-ndjson) POSTed to a collector. Posting never blocks a request: the queue is bounded
 * and dropped events are counted.
 */
import { request } from 'undici';
import type { Decision } from './admit.js';
import type { AdmissionRequest } from './review.js';

export interface AdmissionEvent {
  type: 'admission.decision';
  time: string;
  uid: string;
  operation: string;
  kind: string;
  namespace?: string;
  name?: string;
  user?: string;
  allowed: boolean;
  decision: string;
  mode: string;
  failedChecks: string[];
  imageProblems: string[];
  images: { ref: string; digest?: string; signed?: boolean }[];
  failurePolicyApplied: boolean;
  skipped?: string;
  durationMs: number;
}

export type EventSink = (e: AdmissionEvent) => void;

export function decisionEvent(req: AdmissionRequest, d: Decision, mode: string): AdmissionEvent {
  const meta = (req.object?.metadata ?? {}) as Record<string, unknown>;
  const name =
    req.name ??
    (typeof meta.name === 'string' ? meta.name : undefined) ??
    (meta.generateName as string | undefined);
  return {
    type: 'admission.decision',
    time: new Date().toISOString(),
    uid: req.uid,
    operation: req.operation,
    kind: req.kind.kind,
    ...(req.namespace ? { namespace: req.namespace } : {}),
    ...(name ? { name } : {}),
    ...(req.userInfo?.username ? { user: req.userInfo.username } : {}),
    allowed: d.response.allowed,
    decision: d.response.auditAnnotations?.decision ?? (d.response.allowed ? 'allow' : 'deny'),
    mode,
    failedChecks: [...new Set(d.failed.map((f) => f.id))],
    imageProblems: d.imageProblems,
    images: d.images.map((v) => ({
      ref: v.ref,
      ...(v.digest ? { digest: v.digest } : {}),
      ...(v.signature ? { signed: v.signature.verified } : {}),
    })),
    failurePolicyApplied: d.failurePolicyApplied,
    ...(d.skipped ? { skipped: d.skipped } : {}),
    durationMs: Math.round(d.durationMs * 1000) / 1000,
  };
}

/**
 * JSON lines on a writable stream (stdout, a file). A reader that does not keep up does not grow
 * memory without bound: past `maxBuffered` bytes waiting, events are dropped (and counted).
 */
export function streamSink(
  out: NodeJS.WritableStream & { writableLength?: number },
  maxBuffered = 16 * 1024 * 1024,
  stats = { dropped: 0 },
): EventSink {
  return (e) => {
    if ((out.writableLength ?? 0) > maxBuffered) {
      stats.dropped++;
      return;
    }
    out.write(JSON.stringify(e) + '\n');
  };
}

/** Batched POSTs of JSON lines; at most `maxQueue` events wait, the rest are dropped and counted. */
export class HttpEventSink {
  private queue: AdmissionEvent[] = [];
  private sending = false;
  private timer: NodeJS.Timeout | undefined;
  readonly stats = { sent: 0, dropped: 0, failures: 0 };
  constructor(
    private readonly url: string,
    private readonly opts: { maxQueue?: number; flushMs?: number; onError?: (m: string) => void } = {},
  ) {}

  readonly sink: EventSink = (e) => {
    if (this.queue.length >= (this.opts.maxQueue ?? 10_000)) {
      this.stats.dropped++;
      return;
    }
    this.queue.push(e);
    this.timer ??= setTimeout(() => void this.flush(), this.opts.flushMs ?? 1000).unref();
  };

  async flush(): Promise<void> {
    this.timer = undefined;
    if (this.sending || !this.queue.length) return;
    this.sending = true;
    const batch = this.queue;
    this.queue = [];
    try {
      const res = await request(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson' },
        body: batch.map((e) => JSON.stringify(e)).join('\n') + '\n',
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      await res.body.dump();
      if (res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}`);
      this.stats.sent += batch.length;
    } catch (e) {
      this.stats.failures++;
      this.stats.dropped += batch.length;
      this.opts.onError?.(`events: POST ${new URL(this.url).origin} failed: ${(e as Error).message}`);
    } finally {
      this.sending = false;
      if (this.queue.length)
        this.timer ??= setTimeout(() => void this.flush(), this.opts.flushMs ?? 1000).unref();
    }
  }
}
