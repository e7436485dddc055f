/**
 * `bulwark admission manifests`: the printed objects are what the API server needs (v1 webhook
 * with matchConditions, sideEffects None, admissionReviewVersions [v1]...), and `bulwark scan config`
 * on that output passes the restricted checks (and, with the image pinned, every built-in check).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { cli, makeTls } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'bulwark-admission-manifests-'));
const tls = makeTls();
after(() => {
  rmSync(tmp, { recursive: true, force: true });
  tls.cleanup();
});

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function manifests(...args: string[]): Promise<{ file: string; docs: Obj[] }> {
  const file = join(tmp, `m-${Math.random().toString(36).slice(2)}.yaml`);
  const r = await cli('admission', 'manifests', '-o', file, ...args);
  assert.equal(r.code, 0);
  return { file, docs: parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Obj) };
}

test('manifests: webhook configuration, Service and Deployment as the API server expects them', async () => {
  const { docs } = await manifests(
    '--namespace',
    'sec',
    '--ca-bundle',
    tls.certFile,
    '--timeout-seconds',
    '4',
  );
  const kinds = docs.map((d) => d.kind);
  assert.deepEqual(kinds, [
    'Namespace',
    'ServiceAccount',
    'Service',
    'Deployment',
    'ValidatingWebhookConfiguration',
  ]);
  const vwc = docs[4]!;
  assert.equal(vwc.apiVersion, 'admissionregistration.k8s.io/v1');
  const [hook] = vwc.webhooks;
  assert.deepEqual(hook.admissionReviewVersions, ['v1']);
  assert.equal(hook.sideEffects, 'None');
  assert.equal(hook.timeoutSeconds, 4);
  assert.equal(hook.failurePolicy, 'Fail');
  assert.deepEqual(
    hook.matchConditions.map((m: Obj) => m.expression),
    ["request.namespace != 'kube-system'", "request.namespace != 'sec'"],
  );
  assert.deepEqual(hook.clientConfig.service, {
    name: 'bulwark-admission',
    namespace: 'sec',
    path: '/validate',
    port: 443,
  });
  assert.equal(Buffer.from(hook.clientConfig.caBundle, 'base64').toString(), tls.cert);
  const resources = hook.rules.flatMap((r: Obj) => r.resources).sort();
  assert.deepEqual(resources, [
    'cronjobs',
    'daemonsets',
    'deployments',
    'jobs',
    'pods',
    'replicasets',
    'statefulsets',
  ]);
  // the Service routes to the container port the server listens on, and the deadline is under the timeout
  const svc = docs[2]!;
  const dep = docs[3]!;
  const c = dep.spec.template.spec.containers[0];
  assert.equal(svc.spec.ports[0].targetPort, c.ports[0].containerPort);
  assert.deepEqual(svc.spec.selector, dep.spec.template.metadata.labels);
  const args: string[] = c.args;
  assert.equal(args[args.indexOf('--listen') + 1], ':8443');
  assert.ok(Number(args[args.indexOf('--deadline-ms') + 1]) < 4000);
  assert.equal(args[args.indexOf('--exempt-namespace') + 1], 'sec');
  // --fail-open and --pin-digests
  const open = await manifests('--fail-open', '--pin-digests');
  assert.equal(open.docs[4]!.webhooks[0].failurePolicy, 'Ignore');
  assert.equal(open.docs[5]!.kind, 'MutatingWebhookConfiguration');
  assert.equal(open.docs[5]!.webhooks[0].clientConfig.service.path, '/mutate');
});

/**
 * Unknown fields, checked against the Kubernetes client's models (generated from the API server's
 * OpenAPI): every key of `v` must be an attribute of `type`, recursively. Returns the bad paths.
 */
function unknownFields(v: unknown, type: string, path: string): string[] {
  const models = k8s as unknown as Record<
    string,
    { getAttributeTypeMap?: () => { baseName: string; type: string }[] }
  >;
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr)
    return Array.isArray(v)
      ? v.flatMap((x, i) => unknownFields(x, arr[1]!, `${path}[${i}]`))
      : [`${path}: not a list`];
  const model = models[type];
  if (!model?.getAttributeTypeMap) return []; // string, number, IntOrString, maps of strings
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return [`${path}: not an object`];
  const attrs = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  return Object.entries(v).flatMap(([k, x]) =>
    attrs.has(k)
      ? unknownFields(x, attrs.get(k)!, `${path}.${k}`)
      : [`${path}.${k}: unknown field of ${type}`],
  );
}

test('manifests: every field is one the Kubernetes API knows (client-node models)', async () => {
  const { docs } = await manifests('--pin-digests', '--ca-bundle', tls.certFile);
  const bad = docs.flatMap((d) => unknownFields(d, `V1${d.kind}`, d.kind));
  assert.deepEqual(bad, []);
  // and the check catches a typo
  assert.deepEqual(
    unknownFields({ webhooks: [{ matchCondition: [] }] }, 'V1ValidatingWebhookConfiguration', 'x'),
    ['x.webhooks[0].matchCondition: unknown field of V1ValidatingWebhook'],
  );
});

test('scan config on the manifests: the restricted profile passes; with a pinned image, no built-in check fails', async () => {
  const def = await manifests();
  const report = join(tmp, 'pss.json');
  const r = await cli(
    'scan',
    'config',
    '--compliance',
    'pss-restricted',
    '-f',
    'json',
    '-o',
    report,
    '--exit-code',
    '3',
    def.file,
  );
  assert.equal(r.code, 0, readFileSync(report, 'utf8'));
  const cr = JSON.parse(readFileSync(report, 'utf8')) as { summary: { fail: number; pass: number } };
  assert.equal(cr.summary.fail, 0);
  assert.ok(cr.summary.pass > 0);

  const pinned = await manifests(
    '--image',
    `ghcr.io/bulwark-security/bulwark:0.1.0@sha256:${'c'.repeat(64)}`,
  );
  const all = join(tmp, 'all.json');
  const r2 = await cli('scan', 'config', '-f', 'json', '-o', all, '--exit-code', '3', pinned.file);
  const rep = JSON.parse(readFileSync(all, 'utf8')) as { results: { findings: { id: string }[] }[] };
  assert.deepEqual(
    rep.results.flatMap((x) => x.findings.map((f) => f.id)),
    [],
  );
  assert.equal(r2.code, 0);
  // and the check does fire on a broken copy: the test can fail
  const broken = readFileSync(pinned.file, 'utf8').replace(
    'readOnlyRootFilesystem: true',
    'readOnlyRootFilesystem: false',
  );
  const bf = join(tmp, 'broken.yaml');
  writeFileSync(bf, broken);
  assert.equal((await cli('scan', 'config', '-o', join(tmp, 'b.txt'), '--exit-code', '3', bf)).code, 3);
});

test('manifests: bad flags are usage errors (exit 2)', async () => {
  assert.equal((await cli('admission', 'manifests', '--timeout-seconds', '31')).code, 2);
  assert.equal((await cli('admission', 'manifests', '--namespace', 'Bad_NS')).code, 2);
  const notPem = join(tmp, 'not.pem');
  writeFileSync(notPem, 'hello');
  assert.equal((await cli('admission', 'manifests', '--ca-bundle', notPem)).code, 2);
  assert.equal(
    (await cli('admission', '--listen', 'nope', '--tls-cert', tls.certFile, '--tls-key', tls.keyFile)).code,
    2,
  );
  assert.equal((await cli('admission', '--listen', ':8443')).code, 2);
});
