/**
 * Admission decisions as events: one JSON line on a stream (stdout by default); with `--server` the
 * console's runtime events (kind 'admission', through the agent's disk buffer and shipper, see
 * consoleEvent); with `--events-url`, batched JSON lines (application/x-ndjson) POSTed to a
 * collector. Neither blocks a request: the shipper appends to its buffer, the collector's queue is
 * bounded and dropped events are counted.
 */
import { request } from 'undici';
import type { Decision } from './admit.js';
import type { AdmissionRequest } from './review.js';
import type { RuntimeEvent } from '../agent/shipper.js';

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

/** A decision as a console runtime event (kind 'admission'; the decision itself in `admission`). */
export function consoleEvent(e: AdmissionEvent, id: string, node: string, cluster?: string): RuntimeEvent {
  const what = `${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name ?? ''}`.trim();
  const why = [...e.failedChecks, ...e.imageProblems];
  const verdict = !e.allowed
    ? 'denied'
    : e.decision === 'warn' || why.length
      ? 'allowed with warnings'
      : 'allowed';
  return {
    id,
    kind: 'admission' as const,
    time: e.time,
    node,
    ...(cluster ? { cluster } : {}),
    rule: `Admission ${verdict}`,
    priority: !e.allowed ? 'Warning' : why.length ? 'Notice' : 'Informational',
    source: 'admission',
    output: `${e.operation} ${what} ${verdict}${why.length ? `: ${why.join('; ')}` : ''}${e.user ? ` (by ${e.user})` : ''}`,
    output_fields: {
      'ka.uid': e.uid,
      'ka.verb': e.operation,
      'ka.target.resource': e.kind,
      ...(e.namespace ? { 'ka.target.namespace': e.namespace } : {}),
      ...(e.name ? { 'ka.target.name': e.name } : {}),
      ...(e.user ? { 'ka.user.name': e.user } : {}),
      'ka.allowed': e.allowed,
      'bulwark.mode': e.mode,
      'bulwark.duration_ms': e.durationMs,
    },
    tags: ['admission', ...e.failedChecks],
    ...(e.images[0]
      ? {
          container: {
            id: '',
            image: e.images[0].ref,
            ...(e.images[0].digest ? { imageDigest: e.images[0].digest } : {}),
          },
        }
      : {}),
    ...(e.namespace ? { k8s: { namespace: e.namespace, ...(e.name ? { pod: e.name } : {}) } } : {}),
    admission: { ...e },
  };
}

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
