/**
 * Tags resolved to digests against a real registry (Debian's docker-registry on 127.0.0.1 with TLS
 * and htpasswd auth, the Debian fixture image pushed with skopeo): /mutate pins the tag to the
 * digest skopeo reports; a cold cache is filled within the deadline (latency measured); a hung
 * registry (a TCP server that accepts and never answers) is answered within the deadline by the
 * failure policy.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { CheckSet } from '../../src/policy/index.js';
import {
  admissionReviewFor,
  ImageCache,
  RegistryDigestResolver,
  startWebhook,
  type AdmissionReview,
  type WebhookServer,
  type WebhookServerOptions,
} from '../../src/admission/index.js';
import { debianImage, startRegistry, type TestRegistry } from '../fixtures/index.js';
import { httpsRequest, makeTls, type Tls } from './helpers.js';

let tls: Tls;
let reg: TestRegistry;
let hook: WebhookServer;
let opts: WebhookServerOptions;
const resolvers: RegistryDigestResolver[] = [];
let hung: Server;
const hungSockets: Socket[] = [];

before(async () => {
  tls = makeTls();
  const [img, r] = await Promise.all([debianImage(), startRegistry({ tls: true, auth: true })]);
  reg = r;
  await reg.push(img, 'bulwark/debian', '12');
  opts = {
    cert: tls.cert,
    key: tls.key,
    checks: new CheckSet([]),
    mode: 'enforce',
    failurePolicy: 'closed',
    deadlineMs: 1000,
    pinDigests: true,
  };
  hook = await startWebhook(opts);
  hung = createServer((s) => void hungSockets.push(s));
  await new Promise<void>((res) => hung.listen(0, '127.0.0.1', res));
});
after(async () => {
  await hook?.close();
  for (const r of resolvers) await r.close();
  for (const s of hungSockets) s.destroy();
  hung?.close();
  await reg?.stop();
  tls?.cleanup();
});

function freshCache(): ImageCache {
  const resolver = new RegistryDigestResolver({
    caCertFile: reg.caCertFile,
    username: reg.username,
    password: reg.password,
  });
  resolvers.push(resolver);
  return new ImageCache({ resolver });
}

const pod = (image: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'team' },
  spec: { containers: [{ name: 'app', image }] },
});
async function mutate(image: string, uid: string) {
  const res = await httpsRequest(`${hook.url}/mutate`, tls.cert, {
    body: JSON.stringify(admissionReviewFor(pod(image), { uid })),
  });
  assert.equal(res.status, 200, res.body);
  return (JSON.parse(res.body) as AdmissionReview).response!;
}

test('tag → digest from the real registry: the JSONPatch pins the digest skopeo reports; cold fills within the deadline', async () => {
  const ref = `${reg.host}/bulwark/debian:12`;
  const want = execFileSync(
    'skopeo',
    [
      'inspect',
      '--format',
      '{{.Digest}}',
      `--cert-dir=${join(dirname(reg.caCertFile), 'certs.d')}`,
      `--creds=${reg.username}:${reg.password}`,
      `docker://${ref}`,
    ],
    { encoding: 'utf8' },
  ).trim();
  assert.match(want, /^sha256:[0-9a-f]{64}$/);
  const cold: number[] = [];
  for (let i = 0; i < 10; i++) {
    opts.images = freshCache(); // a new cache and registry client: every request is a cold one
    const t0 = performance.now();
    const r = await mutate(ref, `cold-${i}`);
    cold.push(performance.now() - t0);
    assert.equal(r.allowed, true, JSON.stringify(r));
    assert.deepEqual(JSON.parse(Buffer.from(r.patch!, 'base64').toString()), [
      { op: 'replace', path: '/spec/containers/0/image', value: `${ref}@${want}` },
    ]);
  }
  cold.sort((a, b) => a - b);
  console.error(
    `cold cache (new TLS connection, basic auth, manifest GET): median ${cold[4]!.toFixed(1)} ms, max ${cold[9]!.toFixed(1)} ms`,
  );
  assert.ok(cold[9]! < opts.deadlineMs);
  // warm: answered from the cache, no registry request
  const t0 = performance.now();
  const warm = await mutate(ref, 'warm');
  assert.ok(warm.patch);
  console.error(`warm cache: ${(performance.now() - t0).toFixed(1)} ms`);
  // a missing tag: a verdict error, decided by the failure policy (closed: denied, with the reason)
  const missing = await mutate(`${reg.host}/bulwark/debian:nope`, 'missing');
  assert.equal(missing.allowed, false);
  assert.match(missing.status!.message!, /not found/);
});

test('a hung registry: answered within the deadline by the failure policy', async () => {
  const port = (hung.address() as { port: number }).port;
  for (const failurePolicy of ['closed', 'open'] as const) {
    opts.failurePolicy = failurePolicy;
    const resolver = new RegistryDigestResolver({ insecure: true, retries: 0 });
    resolvers.push(resolver);
    opts.images = new ImageCache({ resolver });
    const t0 = performance.now();
    const r = await mutate(`127.0.0.1:${port}/hung/app:1`, `hung-${failurePolicy}`);
    const took = performance.now() - t0;
    assert.ok(took < opts.deadlineMs + 400, `answered in ${took.toFixed(0)} ms`);
    assert.equal(r.allowed, failurePolicy === 'open');
    assert.equal(r.patch, undefined);
    assert.equal(r.auditAnnotations?.['failure-policy'], `fail-${failurePolicy}`);
  }
  assert.ok(hungSockets.length >= 1, 'the resolver did connect to the hung registry');
});
