/**
 * Builds the console: Fastify app, routes, metrics and background workers over one store.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../core/log.js';
import { Auth } from './auth.js';
import { SecretBox } from './crypto.js';
import { openStore, type Store } from './db/index.js';
import { bodyPending, HttpError, PUBLIC_BODY_LIMIT, Router } from './http.js';
import { LoginThrottle, type LoginLimits } from './throttle.js';
import { msg, type Message } from './messages.js';
import { Counter, Histogram, Registry } from './metrics.js';
import type { ServerContext } from './context.js';
import { authRoutes } from './api/auth.js';
import { scanRoutes } from './api/scans.js';
import { registryRoutes } from './api/registries.js';
import { notifyRoutes } from './api/notify.js';
import { runtimeRoutes } from './api/runtime.js';
import { networkRoutes } from './api/network.js';
import { profileRoutes } from './api/profiles.js';
import { benchmarkRoutes } from './api/benchmarks.js';
import { signatureRoutes } from './api/signatures.js';
import { BusConsumer, type BusOptions } from './bus.js';
import { systemGauges } from './api/system.js';
import { JobRunner } from './jobs.js';
import { Notifier } from './notify/index.js';
import { VERSION } from '../cli/version.js';

export interface ServerOptions {
  /** Data directory: SQLite file, secret key. */
  dataDir: string;
  /** postgres://... ; default SQLite DATA/bulwark.db. */
  database?: string;
  advisoryDbPath: string;
  /** Verify registry images' cosign signatures and attestations against these keys / identities. */
  signaturePolicy?: import('./signatures.js').SignaturePolicyOptions;
  logger: Logger;
  /** Start the job runner and notification delivery (default true). */
  workers?: boolean;
  jobConcurrency?: number;
  /** Directory of the built web UI; default web/dist of the package when present. */
  webDir?: string;
  /** Intervals (ms) of the background loops; tests shorten them. */
  pollMs?: number;
  /** First retry delays (ms) of jobs and notification deliveries; attempts before giving up. */
  jobBackoffMs?: number;
  jobMaxAttempts?: number;
  /** Lease of a running job without its runner's heartbeat before another replica takes it (default 60 s). */
  jobLeaseMs?: number;
  notifyBackoffMs?: number;
  notifyMaxAttempts?: number;
  /** Runtime notifications per rule, container and node in each window before the rest is summarised. */
  runtimeNotify?: { burst?: number; windowMs?: number };
  /** Consume the agents' events from NATS JetStream (shared durable consumer across replicas). */
  nats?: BusOptions;
  env?: NodeJS.ProcessEnv;
  /** Serve HTTPS with this certificate chain and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * Proxies trusted for X-Forwarded-For/-Proto/-Host (addresses or CIDRs, or "loopback"); nobody by
   * default, so a client cannot claim https or another address.
   */
  trustProxy?: string[];
  /** Login throttling limits (tests shorten them). */
  loginLimits?: Partial<LoginLimits>;
}

export interface Console {
  app: FastifyInstance;
  ctx: ServerContext;
  jobs: JobRunner;
  notifier: Notifier;
  /** The event bus consumer (with `nats`). */
  bus?: BusConsumer;
  /** What to tell the operator at first start. */
  bootstrap: Awaited<ReturnType<Auth['bootstrap']>>;
  /** Every registered route (method, URL pattern). */
  routes: { method: string; url: string }[];
  close(): Promise<void>;
}

/**
 * Sent with every response. The built UI (web/dist) loads one script and one stylesheet from
 * /assets and has no inline script or style element; React sets style properties through the
 * CSSOM, which style-src does not restrict.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** Fastify's and the report validator's client errors as translatable messages. */
function knownError(
  e: { code?: string; detail?: string; message: string },
  limit: number,
): Message | undefined {
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return msg('request.tooLarge', { limit });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return msg('request.badJson');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return msg('request.mediaType', { type: /: (.*)$/.exec(e.message)?.[1] ?? '' });
    case 'BAD_REPORT':
      return e.detail ? msg('report.invalid', { detail: e.detail }) : undefined;
    default:
      return undefined;
  }
}

const PUBLIC_PREFIXES = ['/healthz', '/metrics', '/api/openapi.json'];

export async function createConsole(o: ServerOptions): Promise<Console> {
  // Routes set their own body limits (http.ts); anything else (unknown routes, static files) gets the
  // small public one.
  const app = Fastify({
    logger: false,
    bodyLimit: PUBLIC_BODY_LIMIT,
    trustProxy: o.trustProxy?.length ? o.trustProxy : false,
    ...(o.tls ? { https: { cert: o.tls.cert, key: o.tls.key } } : {}),
  }) as unknown as FastifyInstance;
  const store: Store = await openStore(o.database ?? join(o.dataDir, 'bulwark.db'));
  const box = SecretBox.load(join(o.dataDir, 'secret.key'), (o.env ?? process.env).BULWARK_SECRET_KEY);
  app.addHook('onSend', async (req, reply, payload) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    if (req.protocol === 'https') reply.header('strict-transport-security', 'max-age=31536000');
    // API answers (findings, users, tokens) are not for shared or browser caches.
    if (req.url.startsWith('/api/') && !reply.hasHeader('cache-control'))
      reply.header('cache-control', 'no-store');
    return payload;
  });
  /** Every route Fastify registers (including plugins'), for the authentication test. */
  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (r) => {
    for (const m of Array.isArray(r.method) ? r.method : [r.method]) routes.push({ method: m, url: r.url });
  });
  await app.register(cookie);
  const auth = new Auth(store.db);
  const router = new Router(app, auth);
  const metrics = new Registry();
  const ctx: ServerContext = {
    store,
    db: store.db,
    dialect: store.dialect,
    router,
    auth,
    throttle: new LoginThrottle(o.loginLimits),
    box,
    metrics,
    logger: o.logger,
    dataDir: o.dataDir,
    advisoryDbPath: o.advisoryDbPath,
    signaturePolicy: o.signaturePolicy,
    onScanStored: [],
    onRuntimeStored: [],
  };

  const requests = metrics.register(
    new Counter('bulwark_http_requests_total', 'HTTP requests by method, route and status'),
  );
  const latency = metrics.register(
    new Histogram('bulwark_http_request_duration_seconds', 'HTTP request latency by method and route'),
  );
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });
  app.setErrorHandler((err, req, reply) => {
    // Refused before its body was read (authentication, size): don't read the rest of it.
    if (bodyPending(req)) reply.header('connection', 'close');
    if (err instanceof HttpError) return reply.code(err.status).send(err.body());
    const e = err as Error & { statusCode?: number; code?: string; detail?: string };
    if (e.statusCode && e.statusCode < 500) {
      const m = knownError(e, req.routeOptions.bodyLimit ?? PUBLIC_BODY_LIMIT);
      const body = m
        ? new HttpError(e.statusCode, e.code ?? 'BAD_REQUEST', m).body()
        : { error: { code: e.code ?? 'BAD_REQUEST', message: e.message } };
      return reply.code(e.statusCode).send(body);
    }
    o.logger.warn(`internal error: ${e.message}`);
    return reply.code(500).send(new HttpError(500, 'INTERNAL', msg('internal')).body());
  });

  app.get('/healthz', async () => {
    await store.db.selectFrom('settings').select('key').limit(1).execute();
    return { status: 'ok', version: VERSION, database: store.dialect };
  });
  app.get('/metrics', async (_req, reply) => {
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return metrics.render();
  });

  authRoutes(ctx);
  scanRoutes(ctx);
  const jobs = new JobRunner(ctx, {
    concurrency: o.jobConcurrency ?? 2,
    pollMs: o.pollMs ?? 1000,
    backoffMs: o.jobBackoffMs,
    maxAttempts: o.jobMaxAttempts,
    leaseMs: o.jobLeaseMs,
  });
  registryRoutes(ctx, jobs);
  runtimeRoutes(ctx);
  profileRoutes(ctx);
  benchmarkRoutes(ctx);
  signatureRoutes(ctx);
  networkRoutes(ctx);
  const notifier = new Notifier(ctx, {
    pollMs: o.pollMs ?? 1000,
    backoffMs: o.notifyBackoffMs,
    maxAttempts: o.notifyMaxAttempts,
    runtimeBurst: o.runtimeNotify?.burst,
    runtimeWindowMs: o.runtimeNotify?.windowMs,
  });
  notifyRoutes(ctx, notifier);
  jobs.onFailed.push((j) => notifier.scanFailed(j));
  systemGauges(ctx);

  let doc: Record<string, unknown> | undefined;
  app.get(
    '/api/openapi.json',
    async () => (doc ??= router.openapi({ title: 'Bulwark console API', version: VERSION })),
  );

  const webDir = o.webDir ?? fileURLToPath(new URL('../../web/dist', import.meta.url));
  const hasWeb = existsSync(join(webDir, 'index.html'));
  if (hasWeb)
    await app.register(fastifyStatic, { root: webDir, prefix: '/', wildcard: false, index: ['index.html'] });
  app.setNotFoundHandler((req, reply) => {
    // Single-page app: unknown non-API GETs get index.html (client-side routes).
    if (
      hasWeb &&
      req.method === 'GET' &&
      !req.url.startsWith('/api/') &&
      !PUBLIC_PREFIXES.some((p) => req.url === p)
    ) {
      return reply.type('text/html').sendFile('index.html');
    }
    return reply
      .code(404)
      .send(
        new HttpError(
          404,
          'NOT_FOUND',
          msg('route.notFound', { method: req.method, path: req.url.split('?')[0]! }),
        ).body(),
      );
  });

  const bootstrap = await auth.bootstrap(o.env ?? process.env);
  if (o.workers ?? true) {
    jobs.start();
    notifier.start();
  }
  let bus: BusConsumer | undefined;
  if (o.nats) {
    bus = new BusConsumer(ctx, o.nats);
    try {
      await bus.start();
    } catch (e) {
      await jobs.stop();
      await notifier.stop();
      await store.close();
      throw e;
    }
  }
  return {
    app,
    ctx,
    jobs,
    notifier,
    bus,
    bootstrap,
    routes,
    async close() {
      await bus?.stop();
      await jobs.stop();
      await notifier.stop();
      await app.close();
      await store.close();
    },
  };
}
