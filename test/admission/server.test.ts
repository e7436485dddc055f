/**
 * The webhook over real TLS (an openssl-made certificate in a temp dir), driven by HTTPS requests on
 * 127.0.0.1 as the API server would send them. Signature verification is injected through the
 * SignatureVerifier interface: here a stand-in that answers from a table or never answers (a hung
 * registry/verifier); the real cosign verifier is tested in test/sign.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:tls';
import { CheckSet, loadChecks } from '../../src/policy/index.js';
import {
  admissionReviewFor,
  HttpEventSink,
  ImageCache,
  startWebhook,
  type AdmissionEvent,
  type AdmissionReview,
  type SignatureVerifier,
  type WebhookServer,
  type WebhookServerOptions,
} from '../../src/admission/index.js';
import { httpsRequest, makeTls, type Tls } from './helpers.js';

const checks = new CheckSet(loadChecks());
let tls: Tls;
const servers: WebhookServer[] = [];
before(() => {
  tls = makeTls();
});
after(async () => {
  for (const s of servers) await s.close();
  tls?.cleanup();
});

async function start(o: Partial<WebhookServerOptions> = {}): Promise<WebhookServer> {
  const s = await startWebhook({
    cert: tls.cert,
    key: tls.key,
    checks,
    mode: 'enforce',
    failurePolicy: 'closed',
    deadlineMs: 500,
    ...o,
  });
  servers.push(s);
  return s;
}

const D = 'sha256:' + 'a'.repeat(64);
const privileged = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'priv', namespace: 'team-a' },
  spec: {
    containers: [{ name: 'app', image: 'registry.local/app:1.0', securityContext: { privileged: true } }],
  },
};
/** A pod that passes every built-in check (the image is pinned by digest). */
const clean = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'clean', namespace: 'team-a' },
  spec: {
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: 'app',
        image: `registry.local/app:1.0@${D}`,
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        },
        resources: { limits: { cpu: '100m', memory: '64Mi' }, requests: { cpu: '50m', memory: '32Mi' } },
        livenessProbe: { httpGet: { path: '/healthz', port: 8080 } },
        readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
      },
    ],
  },
};

async function send(s: WebhookServer, review: unknown, path = '/validate') {
  const res = await httpsRequest(`${s.url}${path}`, tls.cert, { body: JSON.stringify(review) });
  assert.equal(res.status, 200, res.body);
  return (JSON.parse(res.body) as AdmissionReview).response!;
}

test('enforce: uid echoed, a privileged pod denied with the check and its field, a clean pod allowed', async () => {
  const s = await start();
  const r = await send(s, admissionReviewFor(privileged, { uid: 'uid-1' }));
  assert.equal(r.uid, 'uid-1');
  assert.equal(r.allowed, false);
  assert.equal(r.status?.code, 403);
  assert.match(r.status!.message!, /BW-K8S-001/);
  assert.match(r.status!.message!, /spec\.containers\[0\]\.securityContext\.privileged/);
  assert.equal(r.auditAnnotations?.decision, 'deny');
  assert.ok(r.auditAnnotations?.['failed-checks']?.split(',').includes('BW-K8S-001'));
  const ok = await send(s, admissionReviewFor(clean, { uid: 'uid-2' }));
  assert.deepEqual([ok.uid, ok.allowed, ok.status], ['uid-2', true, undefined]);
  assert.equal(ok.auditAnnotations?.decision, 'allow');
  const m = (await httpsRequest(`${s.url}/metrics`, tls.cert, { method: 'GET' })).body;
  assert.match(m, /^bulwark_admission_decisions_total\{decision="deny"\} 1$/m);
  assert.match(m, /^bulwark_admission_decisions_total\{decision="allow"\} 1$/m);
  assert.match(m, /^bulwark_admission_duration_seconds_count 2$/m);
});

test('warn mode: allowed, every violation as a warning; DELETE allowed; UPDATE evaluated', async () => {
  const events: AdmissionEvent[] = [];
  const s = await start({ mode: 'warn', events: (e) => events.push(e) });
  const r = await send(s, admissionReviewFor(privileged, { uid: 'w-1' }));
  assert.equal(r.allowed, true);
  assert.ok(
    r.warnings?.some((w) => w.startsWith('BW-K8S-001:')),
    JSON.stringify(r.warnings),
  );
  assert.ok(r.warnings!.every((w) => w.length <= 256 && !w.includes('\n')));
  assert.equal(r.auditAnnotations?.decision, 'allow-with-violations');
  const del = await send(
    s,
    admissionReviewFor(null, { uid: 'd-1', operation: 'DELETE', oldObject: privileged }),
  );
  assert.deepEqual([del.uid, del.allowed, del.warnings], ['d-1', true, undefined]);
  const upd = await send(
    s,
    admissionReviewFor(privileged, { uid: 'u-1', operation: 'UPDATE', oldObject: clean }),
  );
  assert.ok(upd.warnings?.some((w) => w.startsWith('BW-K8S-001:')));
  // decisions as events
  assert.deepEqual(
    events.map((e) => [e.uid, e.operation, e.allowed, e.failedChecks.includes('BW-K8S-001')]),
    [
      ['w-1', 'CREATE', true, true],
      ['d-1', 'DELETE', true, false],
      ['u-1', 'UPDATE', true, true],
    ],
  );
  assert.equal(events[1]!.skipped, 'DELETE is not evaluated');
});

test('workload controllers: the pod template of Deployment, CronJob, StatefulSet, DaemonSet, ReplicaSet, Job is evaluated', async () => {
  const s = await start();
  const dep = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'team-a' },
    spec: { selector: {}, template: { metadata: {}, spec: privileged.spec } },
  };
  const cron = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'nightly', namespace: 'team-a' },
    spec: { schedule: '0 0 * * *', jobTemplate: { spec: { template: { spec: privileged.spec } } } },
  };
  const templated = (apiVersion: string, kind: string) => ({
    apiVersion,
    kind,
    metadata: { name: kind.toLowerCase(), namespace: 'team-a' },
    spec: { selector: {}, template: { metadata: {}, spec: privileged.spec } },
  });
  const others = [
    templated('apps/v1', 'StatefulSet'),
    templated('apps/v1', 'DaemonSet'),
    templated('apps/v1', 'ReplicaSet'),
    templated('batch/v1', 'Job'),
  ];
  for (const o of [dep, cron, ...others]) {
    const r = await send(s, admissionReviewFor(o, { uid: o.kind }));
    assert.equal(r.allowed, false, o.kind);
    const podPath = o.kind === 'CronJob' ? 'spec.jobTemplate.spec.template.spec' : 'spec.template.spec';
    assert.ok(
      r.status!.message!.includes(`BW-K8S-001`) &&
        r.status!.message!.includes(`(${podPath}.containers[0].securityContext.privileged)`),
      `${o.kind}: ${r.status!.message}`,
    );
  }
});

test('bad requests: malformed JSON 400, not an AdmissionReview 400, oversized body 413, wrong type 415', async () => {
  const s = await start({ maxBodyBytes: 64 * 1024 });
  const bad = await httpsRequest(`${s.url}/validate`, tls.cert, {
    body: '{"apiVersion": "admission.k8s.io/v1", ',
  });
  assert.equal(bad.status, 400);
  assert.match(bad.body, /request body is not valid JSON/);
  const v1beta1 = await httpsRequest(`${s.url}/validate`, tls.cert, {
    body: JSON.stringify({
      ...admissionReviewFor(clean, { uid: 'x' }),
      apiVersion: 'admission.k8s.io/v1beta1',
    }),
  });
  assert.equal(v1beta1.status, 400);
  assert.match(v1beta1.body, /apiVersion is "admission.k8s.io\/v1beta1", expected "admission.k8s.io\/v1"/);
  const noUid = await httpsRequest(`${s.url}/validate`, tls.cert, {
    body: JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { operation: 'CREATE' },
    }),
  });
  assert.equal(noUid.status, 400);
  assert.match(noUid.body, /request\.uid is missing/);
  // declared too large: refused before reading
  const big = JSON.stringify(
    admissionReviewFor(
      { ...clean, metadata: { ...clean.metadata, annotations: { x: 'y'.repeat(100_000) } } },
      { uid: 'big' },
    ),
  );
  const r413 = await httpsRequest(`${s.url}/validate`, tls.cert, { body: big });
  assert.equal(r413.status, 413);
  assert.match(r413.body, /larger than the 65536-byte limit/);
  // chunked (no content-length): refused while reading
  const chunked = await new Promise<string>((resolve, reject) => {
    const sock = connect(
      { host: '127.0.0.1', port: s.port, ca: tls.cert, servername: 'bulwark-admission.bulwark.svc' },
      () => {
        sock.write(
          'POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
        );
        const chunk = 'z'.repeat(16 * 1024);
        for (let i = 0; i < 8; i++) sock.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      },
    );
    let got = '';
    sock.on('data', (c) => {
      got += c.toString();
      if (got.includes('\r\n\r\n')) {
        sock.destroy();
        resolve(got);
      }
    });
    sock.on('error', reject);
  });
  assert.match(chunked, /^HTTP\/1\.1 413/);
  const text = await httpsRequest(`${s.url}/validate`, tls.cert, {
    body: '{}',
    headers: { 'content-type': 'text/plain' },
  });
  assert.equal(text.status, 415);
  const get = await httpsRequest(`${s.url}/validate`, tls.cert, { method: 'GET' });
  assert.equal(get.status, 405);
  const health = await httpsRequest(`${s.url}/healthz`, tls.cert, { method: 'GET' });
  assert.deepEqual([health.status, health.body], [200, 'ok\n']);
  // the refusals are counted in the Prometheus metrics
  const m = await httpsRequest(`${s.url}/metrics`, tls.cert, { method: 'GET' });
  assert.equal(m.status, 200);
  assert.match(m.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
  for (const [code, n] of [
    [400, 2 + 1],
    [413, 2],
    [415, 1],
    [405, 1],
  ])
    assert.match(m.body, new RegExp(`^bulwark_admission_bad_requests_total\\{code="${code}"\\} ${n}$`, 'm'));
});

/** A verifier whose promise never settles, like a registry that accepts the connection and hangs. */
const hung: SignatureVerifier = { verify: () => new Promise(() => {}) };

test('a hung verifier: answered within the deadline, by the failure policy (closed denies, open warns)', async () => {
  for (const failurePolicy of ['closed', 'open'] as const) {
    const cache = new ImageCache({ verifier: hung, fillTimeoutMs: 60_000 });
    const s = await start({ images: cache, requireSignature: true, failurePolicy, deadlineMs: 300 });
    const t0 = performance.now();
    const r = await send(s, admissionReviewFor(clean, { uid: `h-${failurePolicy}` }));
    const took = performance.now() - t0;
    assert.ok(took < 300 + 400, `answered in ${took.toFixed(0)} ms`);
    assert.ok(took >= 250, `waited for the verdict until the deadline (${took.toFixed(0)} ms)`);
    assert.equal(r.uid, `h-${failurePolicy}`);
    assert.equal(r.allowed, failurePolicy === 'open');
    assert.equal(r.auditAnnotations?.['failure-policy'], `fail-${failurePolicy}`);
    if (failurePolicy === 'closed') assert.match(r.status!.message!, /no verdict within the 300 ms deadline/);
    else assert.match(r.warnings!.join('\n'), /no verdict within the 300 ms deadline \(allowed: fail-open\)/);
    // the fill stays in flight (one per image, not one per request)
    await send(s, admissionReviewFor(clean, { uid: 'again' }));
    assert.equal(cache.stats.fills, 1);
  }
});

test('signatures and digests from a warm cache: unsigned denied, signed allowed, tags pinned by JSONPatch on /mutate', async () => {
  const signed = new Set(['registry.local/app:1.0', `registry.local/app:1.0@${D}`]);
  let calls = 0;
  const verifier: SignatureVerifier = {
    async verify(ref) {
      calls++;
      return signed.has(ref)
        ? { digest: D, verified: true, errors: [] }
        : { digest: 'sha256:' + 'b'.repeat(64), verified: false, errors: ['no signature found'] };
    },
  };
  const cache = new ImageCache({ verifier });
  await Promise.all([cache.warm('registry.local/app:1.0'), cache.warm('registry.local/other:2')]);
  const s = await start({ images: cache, requireSignature: true, pinDigests: true, mode: 'warn' });
  const withImage = (image: string) => ({
    ...clean,
    spec: { ...clean.spec, containers: [{ ...clean.spec.containers[0]!, image }] },
  });
  const unsigned = await send(s, admissionReviewFor(withImage('registry.local/other:2'), { uid: 'u' }));
  assert.ok(
    unsigned.warnings?.some((w) =>
      /image registry\.local\/other:2 .*has no valid signature: no signature found/.test(w),
    ),
  );
  const m = await send(s, admissionReviewFor(withImage('registry.local/app:1.0'), { uid: 'm' }), '/mutate');
  assert.equal(m.patchType, 'JSONPatch');
  assert.deepEqual(JSON.parse(Buffer.from(m.patch!, 'base64').toString()), [
    { op: 'replace', path: '/spec/containers/0/image', value: `registry.local/app:1.0@${D}` },
  ]);
  assert.equal(m.auditAnnotations?.['image-digests'], `registry.local/app:1.0=${D}`);
  // /validate never patches
  const v = await send(s, admissionReviewFor(withImage('registry.local/app:1.0'), { uid: 'v' }));
  assert.equal(v.patch, undefined);
  // served from the cache: no verifier call on the request path
  assert.equal(calls, 2);
});

test('signatures required but no verifier configured: never silently admitted (the failure policy decides)', async () => {
  const cache = new ImageCache({ resolver: { resolve: async () => D } });
  const s = await start({ images: cache, requireSignature: true, failurePolicy: 'closed' });
  const r = await send(s, admissionReviewFor(clean, { uid: 'nv' }));
  assert.equal(r.allowed, false);
  assert.match(r.status!.message!, /no signature verdict \(no signature verifier configured\)/);
});

test('--events-url: decisions POSTed as JSON lines in batches to a collector on 127.0.0.1', async () => {
  const { createServer } = await import('node:http');
  const got: { type: string | undefined; lines: AdmissionEvent[] }[] = [];
  const collector = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({
        type: req.headers['content-type'],
        lines: body
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as AdmissionEvent),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  try {
    const sink = new HttpEventSink(
      `http://127.0.0.1:${(collector.address() as { port: number }).port}/ingest`,
      {
        flushMs: 50,
      },
    );
    const s = await start({ events: sink.sink });
    await send(s, admissionReviewFor(privileged, { uid: 'e-1' }));
    await send(s, admissionReviewFor(clean, { uid: 'e-2' }));
    await new Promise((r) => setTimeout(r, 200));
    await sink.flush();
    assert.equal(got[0]?.type, 'application/x-ndjson');
    const events = got.flatMap((g) => g.lines);
    assert.deepEqual(
      events.map((e) => [e.uid, e.allowed, e.decision]),
      [
        ['e-1', false, 'deny'],
        ['e-2', true, 'allow'],
      ],
    );
    assert.deepEqual(sink.stats, { sent: 2, dropped: 0, failures: 0 });
  } finally {
    collector.close();
  }
});

test('verdicts per digest: two tags of one digest verified once; a tag moved to an unsigned digest is denied after the tag TTL', async () => {
  const D1 = 'sha256:' + '1'.repeat(64);
  const D2 = 'sha256:' + '2'.repeat(64);
  const points: Record<string, string> = { 'registry.local/app:1.0': D1, 'registry.local/app:stable': D1 };
  const verified: string[] = [];
  let now = 1_000_000;
  const cache = new ImageCache({
    resolver: { resolve: async (ref) => points[ref]! },
    verifier: {
      async verify(ref) {
        verified.push(ref);
        const digest = ref.slice(ref.indexOf('@') + 1);
        return { digest, verified: digest === D1, errors: digest === D1 ? [] : ['no signatures found'] };
      },
    },
    tagTtlMs: 60_000,
    now: () => now,
  });
  const s = await start({ images: cache, requireSignature: true });
  const withImage = (image: string) => ({
    ...clean,
    spec: { ...clean.spec, containers: [{ ...clean.spec.containers[0]!, image }] },
  });
  const failed = (r: { auditAnnotations?: Record<string, string> }) => r.auditAnnotations?.decision;
  // BW-K8S-027 (not pinned by digest) fails for tags: count only the image verdict here
  const imageDenied = (r: { status?: { message?: string } }) =>
    /has no valid signature/.test(r.status?.message ?? '');
  assert.ok(
    !imageDenied(await send(s, admissionReviewFor(withImage('registry.local/app:1.0'), { uid: 't1' }))),
  );
  assert.ok(
    !imageDenied(await send(s, admissionReviewFor(withImage('registry.local/app:stable'), { uid: 't2' }))),
  );
  assert.deepEqual(verified, [`registry.local/app@${D1}`]);
  // the tag moves to an unsigned image; within the tag TTL the old digest's verdict is kept
  points['registry.local/app:1.0'] = D2;
  now += 30_000;
  assert.ok(
    !imageDenied(await send(s, admissionReviewFor(withImage('registry.local/app:1.0'), { uid: 't3' }))),
  );
  // past it: served once more while it refreshes in the background, then the new digest's verdict
  now += 31_000;
  await send(s, admissionReviewFor(withImage('registry.local/app:1.0'), { uid: 't4' }));
  await cache.warm('registry.local/app:1.0');
  const after = await send(s, admissionReviewFor(withImage('registry.local/app:1.0'), { uid: 't5' }));
  assert.ok(imageDenied(after), JSON.stringify(after));
  assert.equal(failed(after), 'deny');
  assert.deepEqual(verified, [`registry.local/app@${D1}`, `registry.local/app@${D2}`]);
});

test('warn mode never denies: an unknown verdict is a warning even with fail-closed', async () => {
  const s = await start({
    mode: 'warn',
    failurePolicy: 'closed',
    deadlineMs: 200,
    images: new ImageCache({ verifier: hung }),
    requireSignature: true,
  });
  const r = await send(s, admissionReviewFor(clean, { uid: 'wh' }));
  assert.equal(r.allowed, true);
  assert.match(r.warnings!.join('\n'), /no verdict within the 200 ms deadline \(allowed: warn mode\)/);
});
