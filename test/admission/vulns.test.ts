/**
 * Vulnerability verdicts end to end: the Debian fixture image pushed to the real docker-registry
 * (TLS + auth, credentials from a DOCKER_CONFIG written here), the OSV records of ../shared/data
 * imported into a temporary advisory DB, and the webhook's cache filled by a real `scan image` of
 * repo@digest (the CLI's vulnerability source). The image has one HIGH advisory match: denied with
 * --max-severity MEDIUM, admitted with HIGH.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/core/log.js';
import { CheckSet } from '../../src/policy/index.js';
import {
  admissionReviewFor,
  ImageCache,
  RegistryDigestResolver,
  startWebhook,
  type AdmissionReview,
  type WebhookServer,
} from '../../src/admission/index.js';
import { vulnerabilitySource } from '../../src/cli/admission.js';
import { debianImage, startRegistry, type TestRegistry } from '../fixtures/index.js';
import { OSV_DATA } from '../helpers/shared.js';
import { cli, httpsRequest, makeTls, type Tls } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'bulwark-admission-vulns-'));
const db = join(tmp, 'db.sqlite');
const prevDockerConfig = process.env.DOCKER_CONFIG;
let tls: Tls;
let reg: TestRegistry;
const hooks: WebhookServer[] = [];
const resolvers: RegistryDigestResolver[] = [];

before(async () => {
  tls = makeTls();
  const [img, r] = await Promise.all([debianImage(), startRegistry({ tls: true, auth: true })]);
  reg = r;
  await reg.push(img, 'bulwark/debian', '12');
  process.env.DOCKER_CONFIG = tmp;
  writeFileSync(
    join(tmp, 'config.json'),
    JSON.stringify({
      auths: { [reg.host]: { auth: Buffer.from(`${reg.username}:${reg.password}`).toString('base64') } },
    }),
  );
  assert.equal((await cli('db', 'import', OSV_DATA, '--db', db)).code, 0);
});
after(async () => {
  for (const h of hooks) await h.close();
  for (const r of resolvers) await r.close();
  await reg?.stop();
  tls?.cleanup();
  if (prevDockerConfig === undefined) delete process.env.DOCKER_CONFIG;
  else process.env.DOCKER_CONFIG = prevDockerConfig;
  rmSync(tmp, { recursive: true, force: true });
});

test('--max-severity: the scan of the digest decides (HIGH match: MEDIUM denies, HIGH admits); the scan runs once per image', async () => {
  const ref = `${reg.host}/bulwark/debian:12`;
  for (const [max, allowed] of [
    ['MEDIUM', false],
    ['HIGH', true],
  ] as const) {
    const resolver = new RegistryDigestResolver({ caCertFile: reg.caCertFile });
    resolvers.push(resolver);
    const images = new ImageCache({
      resolver,
      vulnerabilities: vulnerabilitySource(
        { db, registryCaCert: reg.caCertFile },
        createLogger({ quiet: true }),
      ),
    });
    // warmed in the background before the first request, as `--warm IMAGE` does
    const v = await images.warm(ref);
    assert.equal(v.error, undefined, v.error);
    assert.equal(v.vulnerabilities?.HIGH, 1);
    const hook = await startWebhook({
      cert: tls.cert,
      key: tls.key,
      checks: new CheckSet([]),
      mode: 'enforce',
      failurePolicy: 'closed',
      deadlineMs: 1000,
      images,
      maxSeverity: max,
    });
    hooks.push(hook);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'team' },
      spec: { containers: [{ name: 'c', image: ref }] },
    };
    const res = await httpsRequest(`${hook.url}/validate`, tls.cert, {
      body: JSON.stringify(admissionReviewFor(pod, { uid: max })),
    });
    const r = (JSON.parse(res.body) as AdmissionReview).response!;
    assert.equal(r.allowed, allowed, JSON.stringify(r));
    if (!allowed) assert.match(r.status!.message!, /has 1 HIGH vulnerability \(allowed up to MEDIUM\)/);
    assert.equal(images.stats.fills, 1);
  }
});
