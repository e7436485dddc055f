/**
 * The webhook's HTTPS server (node:https: measured faster than fastify for this one-route,
 * small-body workload, see bench/admission.bench.ts and docs/admission.md).
 *
 * POST /validate  AdmissionReview v1 → AdmissionReview v1 (never patches)
 * POST /mutate    the same decision plus, with pinDigests, a JSONPatch pinning image tags to digests
 * GET  /healthz   liveness; GET /readyz readiness; GET /metrics Prometheus metrics
 *
 * Bad requests get 400/404/405/413/415 with a plain message; every well-formed review is answered
 * within the deadline, decided by the failure policy when a verdict is missing.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { admitWithin, type AdmitOptions, type Decision } from './admit.js';
import { decisionEvent, type EventSink } from './events.js';
import { WebhookMetrics } from './metrics.js';
import { parseAdmissionReview, reviewResponse, type AdmissionRequest } from './review.js';

export interface WebhookServerOptions extends AdmitOptions {
  cert: string | Buffer;
  key: string | Buffer;
  /** Largest request body accepted (default 3 MiB, the API server's own request limit). */
  maxBodyBytes?: number;
  events?: EventSink;
  /** Called on a decision (tests, metrics). */
  onDecision?: (req: AdmissionRequest, d: Decision) => void;
}

export interface WebhookServer {
  server: Server;
  /** https://127.0.0.1:PORT */
  url: string;
  port: number;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY = 3 * 1024 * 1024;

function plain(res: ServerResponse, code: number, msg: string, extra: Record<string, string> = {}): void {
  const body = msg + '\n';
  res.writeHead(code, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
}

/** Reads the body up to `max` bytes; resolves undefined (after answering 413) when it is larger. */
function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      plain(res, 413, `request body of ${declared} bytes is larger than the ${max}-byte limit`, {
        connection: 'close',
      });
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > max) {
        over = true;
        plain(res, 413, `request body is larger than the ${max}-byte limit`, { connection: 'close' });
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => !over && resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/** Builds the request handler (exported for tests that do not need TLS). */
export function webhookHandler(o: WebhookServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const max = o.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const metrics = new WebhookMetrics();
  return (req, res) => {
    const start = performance.now();
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/readyz' || path === '/metrics') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'use GET', { allow: 'GET' });
      if (path !== '/metrics') return plain(res, 200, 'ok');
      const text = metrics.render(o.images);
      res.writeHead(200, {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
        'content-length': Buffer.byteLength(text),
      });
      return res.end(text);
    }
    const refuse = (code: number, msg: string, extra: Record<string, string> = {}) => {
      metrics.badRequest(code);
      plain(res, code, msg, extra);
    };
    if (path !== '/validate' && path !== '/mutate')
      return refuse(404, `no such endpoint ${path}; use /validate or /mutate`);
    if (req.method !== 'POST')
      return refuse(405, `${path} takes POST with an AdmissionReview`, { allow: 'POST' });
    const ct = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    if (ct !== 'application/json') {
      req.resume();
      return refuse(415, `content-type must be application/json, not ${ct ? JSON.stringify(ct) : 'missing'}`);
    }
    readBody(req, res, max)
      .then(
        async (buf) => {
          if (!buf) return metrics.badRequest(413);
          let body: unknown;
          try {
            body = JSON.parse(buf.toString('utf8'));
          } catch (e) {
            return refuse(400, `request body is not valid JSON: ${(e as Error).message}`);
          }
          let ar: AdmissionRequest;
          try {
            ar = parseAdmissionReview(body);
          } catch (e) {
            return refuse(400, (e as Error).message);
          }
          const mutate = path === '/mutate';
          const d = await admitWithin(ar, { ...o, pinDigests: mutate && o.pinDigests }, start);
          const out = JSON.stringify(reviewResponse(d.response));
          res.writeHead(200, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(out),
          });
          res.end(out);
          metrics.decision(
            d.response.auditAnnotations?.decision ?? (d.response.allowed ? 'allow' : 'deny'),
            (performance.now() - start) / 1000,
            d.failurePolicyApplied,
          );
          try {
            o.events?.(decisionEvent(ar, d, o.mode));
            o.onDecision?.(ar, d);
          } catch {
            // an event sink must never break the webhook
          }
        },
        () => {
          if (!res.headersSent) plain(res, 400, 'could not read the request body');
        },
      )
      // a client that went away while we answered: nothing left to do
      .catch(() => res.destroy());
  };
}

/** Starts the HTTPS webhook on host:port (port 0: any free port). */
export async function startWebhook(
  o: WebhookServerOptions,
  host = '127.0.0.1',
  port = 0,
): Promise<WebhookServer> {
  const server = createServer(
    {
      cert: o.cert,
      key: o.key,
      minVersion: 'TLSv1.2',
      // the API server keeps connections alive; slow clients are cut off
      requestTimeout: 30_000,
      headersTimeout: 10_000,
      keepAliveTimeout: 60_000,
    },
    webhookHandler(o),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    port: addr.port,
    url: `https://${h}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
