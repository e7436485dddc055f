/**
 * Admission webhook latency over TLS at a fixed request rate (open loop: latency counts from the
 * moment a request was due, so a stalled server is not hidden by the client waiting for it).
 *
 * The server runs in a child process; this process is the load generator (keep-alive HTTPS, as the
 * API server connects). Requests: AdmissionReviews of the Falco audit corpus pods plus a
 * Deployment and a clean pod, each with a fresh uid; the built-in checks; image verdicts from a
 * warm cache (signature required, digests pinned on /mutate).
 *
 * Baseline, same run: a bare node:https server answering a constant AdmissionReview.
 * Measured: `bulwark admission` (startWebhook) on /mutate. Ratio: measured p99 / baseline p99.
 * Then RSS: the webhook's resident set before and after BENCH_ADMISSION_RSS_REQUESTS requests
 * sent as fast as 32 connections allow.
 *
 * Env: BENCH_ADMISSION_SECONDS (60), BENCH_ADMISSION_RATE (500 req/s),
 * BENCH_ADMISSION_RSS_REQUESTS (100000), BENCH_ADMISSION_FASTIFY=1 (also a constant fastify server,
 * for the choice of HTTP server). Goal (issue 13): p99 ≤ 20 ms at 500 req/s for 60 s, 0 errors;
 * RSS growth ≤ 10% over 100,000 requests.
 */
import { fork, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { Agent, request, createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const shared = process.env.BULWARK_SHARED_DIR ?? join(root, '..', 'shared');
const AUDIT = join(shared, 'corpora/falco/falco-legacy-regression-2023-08/test/trace_files/k8s_audit');
const SECONDS = Number(process.env.BENCH_ADMISSION_SECONDS ?? 60);
const RATE = Number(process.env.BENCH_ADMISSION_RATE ?? 500);
const RSS_REQUESTS = Number(process.env.BENCH_ADMISSION_RSS_REQUESTS ?? 100_000);
const D = 'sha256:' + 'd'.repeat(64);

type Obj = Record<string, unknown>;

function objects(): Obj[] {
  const out: Obj[] = [];
  for (const f of readdirSync(AUDIT)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    for (const line of readFileSync(join(AUDIT, f), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const e = JSON.parse(line) as Obj;
      const ro = e.requestObject as Obj | undefined;
      if (e.verb !== 'create' || ro?.kind !== 'Pod') continue;
      const ns = (e.objectRef as Obj).namespace as string;
      out.push({ ...ro, metadata: { ...(ro.metadata as Obj), name: `${f}-pod`, namespace: ns } });
    }
  }
  const spec = {
    securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
    automountServiceAccountToken: false,
    containers: [
      {
        name: 'app',
        image: 'registry.local/app:1.0',
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        },
        resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } },
      },
    ],
  };
  out.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'clean', namespace: 'team' }, spec });
  out.push({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'team' },
    spec: { replicas: 3, selector: {}, template: { metadata: { labels: { app: 'web' } }, spec } },
  });
  return out;
}

// ---------------------------------------------------------------- child: the server under test
async function child(kind: string): Promise<void> {
  const cert = readFileSync(process.env.BENCH_CERT!, 'utf8');
  const key = readFileSync(process.env.BENCH_KEY!, 'utf8');
  let port: number;
  if (kind === 'constant') {
    const body = JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'constant', allowed: true },
    });
    const s = createServer({ cert, key, keepAliveTimeout: 60_000 }, (req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    port = (s.address() as { port: number }).port;
  } else if (kind === 'fastify') {
    const { default: Fastify } = await import('fastify');
    const app = Fastify({ https: { cert, key }, keepAliveTimeout: 60_000 });
    app.post('/mutate', async () => ({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'constant', allowed: true },
    }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  } else {
    const { CheckSet, loadChecks } = await import('../src/policy/index.js');
    const { ImageCache, startWebhook } = await import('../src/admission/index.js');
    const images = new ImageCache({
      // only called by background refreshes once a tag verdict is older than the tag TTL
      verifier: { verify: async () => ({ digest: D, verified: true, errors: [] }) },
    });
    const refs = new Set<string>();
    for (const o of objects()) {
      const spec = (o.kind === 'Pod' ? o.spec : ((o.spec as Obj).template as Obj).spec) as Obj;
      for (const c of spec.containers as Obj[]) refs.add(c.image as string);
    }
    for (const ref of refs)
      images.set({ ref, digest: D, signature: { verified: true, errors: [] }, at: Date.now() });
    const hook = await startWebhook({
      cert,
      key,
      checks: new CheckSet(loadChecks()),
      mode: 'warn',
      failurePolicy: 'closed',
      deadlineMs: 2000,
      images,
      requireSignature: true,
      pinDigests: true,
    });
    port = hook.port;
    process.on('message', (m: string) => {
      if (m === 'rss') {
        globalThis.gc?.();
        process.send!({ rss: process.memoryUsage().rss, fills: images.stats.fills });
      }
    });
  }
  process.send!({ port });
}

// ---------------------------------------------------------------- parent: the load generator
interface Run {
  n: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
  achieved: number;
}

function startChild(
  kind: string,
  env: Record<string, string>,
): Promise<{ proc: ChildProcess; port: number }> {
  const proc = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, ...env, BENCH_ADMISSION_CHILD: kind },
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    proc.once('message', (m: { port: number }) => resolve({ proc, port: m.port }));
    proc.once('exit', (c) => reject(new Error(`${kind} server exited with ${c}`)));
  });
}

function ask<T>(proc: ChildProcess, msg: string): Promise<T> {
  return new Promise((resolve) => {
    proc.once('message', (m: T) => resolve(m));
    proc.send(msg);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;
}

function post(agent: Agent, port: number, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/mutate',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) return resolve(-1);
          try {
            const r = JSON.parse(Buffer.concat(chunks).toString()) as { response?: { uid?: string } };
            resolve(r.response?.uid ? 1 : -1);
          } catch {
            resolve(-1);
          }
        });
      },
    );
    req.setTimeout(10_000, () => req.destroy());
    req.on('error', () => resolve(-1));
    req.end(body);
  });
}

const reviews = objects();
let seq = 0;
function nextBody(): string {
  const o = reviews[seq++ % reviews.length]!;
  const meta = o.metadata as Obj;
  const apiVersion = o.apiVersion as string;
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `bench-${seq}`,
      kind: { group, version, kind: o.kind },
      resource: { group, version, resource: o.kind === 'Pod' ? 'pods' : 'deployments' },
      name: meta.name,
      namespace: meta.namespace,
      operation: 'CREATE',
      userInfo: { username: 'bench' },
      object: o,
      oldObject: null,
    },
  });
}

/** Open loop at `rate` req/s for `seconds`. */
async function fixedRate(agent: Agent, port: number, rate: number, seconds: number): Promise<Run> {
  const total = Math.round(rate * seconds);
  const lat: number[] = [];
  let errors = 0;
  const inflight: Promise<void>[] = [];
  const t0 = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) / 1000) * rate) + 1);
      while (sent < due) {
        const intended = t0 + (sent / rate) * 1000;
        sent++;
        inflight.push(
          post(agent, port, nextBody()).then((ok) => {
            if (ok < 0) errors++;
            else lat.push(performance.now() - intended);
          }),
        );
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(inflight);
  const elapsed = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return {
    n: total,
    errors,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    max: lat[lat.length - 1] ?? NaN,
    achieved: total / elapsed,
  };
}

/** Closed loop: `n` requests over 32 connections, as fast as they go. */
async function burst(port: number, ca: string, n: number): Promise<{ errors: number; perSec: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 32, ca });
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < n) {
        next++;
        if ((await post(agent, port, nextBody())) < 0) errors++;
      }
    }),
  );
  agent.destroy();
  return { errors, perSec: n / ((performance.now() - t0) / 1000) };
}

const fmt = (r: Run) =>
  `${r.n} requests at ${r.achieved.toFixed(0)} req/s: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(1)} ms, ${r.errors} errors`;

async function parent(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-admission-bench-'));
  const procs: ChildProcess[] = [];
  try {
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
    const ca = readFileSync(cert, 'utf8');
    const env = { BENCH_CERT: cert, BENCH_KEY: key };
    console.log(
      `${RATE} req/s for ${SECONDS} s over TLS (keep-alive), ${reviews.length} distinct objects, server in a child process`,
    );
    const warm = Math.min(2, SECONDS);

    // one keep-alive agent per server, shared by warm-up and measurement (as the API server
    // keeps its connections to a webhook)
    const agentFor = () => new Agent({ keepAlive: true, maxSockets: 64, ca });
    const base = await startChild('constant', env);
    procs.push(base.proc);
    const ba = agentFor();
    await fixedRate(ba, base.port, RATE, warm);
    const b = await fixedRate(ba, base.port, RATE, SECONDS);
    ba.destroy();
    console.log(`baseline (bare node:https, constant answer): ${fmt(b)}`);
    base.proc.kill();

    if (process.env.BENCH_ADMISSION_FASTIFY === '1') {
      const f = await startChild('fastify', env);
      procs.push(f.proc);
      const fa = agentFor();
      await fixedRate(fa, f.port, RATE, warm);
      console.log(
        `fastify (https, constant answer):           ${fmt(await fixedRate(fa, f.port, RATE, SECONDS))}`,
      );
      fa.destroy();
      f.proc.kill();
    }

    const hook = await startChild('webhook', env);
    procs.push(hook.proc);
    const ha = agentFor();
    await fixedRate(ha, hook.port, RATE, warm);
    const m = await fixedRate(ha, hook.port, RATE, SECONDS);
    ha.destroy();
    console.log(`measured (bulwark admission, built-in checks, warm image cache): ${fmt(m)}`);
    console.log(`ratio p99 measured/baseline: ${(m.p99 / b.p99).toFixed(2)}`);
    console.log(`goal p99 <= 20 ms with 0 errors: ${m.p99 <= 20 && m.errors === 0 ? 'met' : 'NOT met'}`);

    const before = await ask<{ rss: number }>(hook.proc, 'rss');
    const r = await burst(hook.port, ca, RSS_REQUESTS);
    const after = await ask<{ rss: number; fills: number }>(hook.proc, 'rss');
    const growth = (after.rss / before.rss - 1) * 100;
    console.log(
      `RSS over ${RSS_REQUESTS} requests (${r.perSec.toFixed(0)} req/s closed loop, ${r.errors} errors): ${(before.rss / 1048576).toFixed(1)} → ${(after.rss / 1048576).toFixed(1)} MiB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)}%; goal ≤ 10%); background cache refills (tag TTL 60 s, never awaited by a warm request): ${after.fills}`,
    );
    hook.proc.kill();
    if (m.errors || r.errors) process.exitCode = 1;
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env.BENCH_ADMISSION_CHILD) await child(process.env.BENCH_ADMISSION_CHILD);
else await parent();
