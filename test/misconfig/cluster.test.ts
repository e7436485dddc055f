/**
 * `scan cluster` reading: @kubernetes/client-node's kubeconfig handling (context, bearer token)
 * against an HTTPS server on 127.0.0.1 that answers the Kubernetes list endpoints.
 * This is a MOCK of the API server: no kube-apiserver can run on this machine (not packaged in
 * Debian, no network for other sources). It serves the realistic fixtures as the API would (list
 * items without kind/apiVersion, pagination with `continue`, a 403 for one resource, controller-owned
 * pods) so the client side — auth, paging, ownership filtering, error handling — is real.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { clusterInputs, readCluster } from '../../src/misconfig/index.js';
import { analyzeRbac, CheckSet, evaluate } from '../../src/policy/index.js';
import { builtinChecks } from '../policy/helpers.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const FIX = join(import.meta.dirname, 'fixtures', 'k8s');
const TOKEN = 'test-token-123';
const PLURAL: Record<string, string> = {
  Namespace: 'namespaces',
  Pod: 'pods',
  Service: 'services',
  ServiceAccount: 'serviceaccounts',
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
  ReplicaSet: 'replicasets',
  Job: 'jobs',
  CronJob: 'cronjobs',
  Ingress: 'ingresses',
  NetworkPolicy: 'networkpolicies',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  ReplicationController: 'replicationcontrollers',
};

const objects: Obj[] = [];
for (const f of readdirSync(FIX).filter((n) => n.endsWith('.yaml'))) {
  for (const d of parseAllDocuments(readFileSync(join(FIX, f), 'utf8'))) {
    const o = d.toJS() as Obj | null;
    if (o?.kind) objects.push(o);
  }
}
// What a cluster also has: a pod owned by a ReplicaSet (checked through its Deployment) and a bare pod.
objects.push(
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'nginx-deployment-abc',
      namespace: 'default',
      ownerReferences: [{ kind: 'ReplicaSet', name: 'nginx-deployment-7f', controller: true }],
    },
    spec: { containers: [{ name: 'nginx', image: 'nginx:1.14.2', securityContext: { privileged: true } }] },
  },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'debug-shell', namespace: 'ops' },
    spec: { hostPID: true, containers: [{ name: 'sh', image: 'busybox:1.36' }] },
  },
);

let server: https.Server;
let dir: string;
let kubeconfig: string;
const seen: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bw-cluster-'));
  // A throw-away self-signed certificate for 127.0.0.1; the kubeconfig trusts it (certificate-authority-data).
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-days',
      '1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const cert = readFileSync(join(dir, 'cert.pem'));
  server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
    const url = new URL(req.url!, 'http://x');
    seen.push(`${req.method} ${url.pathname}${url.searchParams.get('continue') ? '?continue' : ''}`);
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`)
      return json(401, { kind: 'Status', message: 'Unauthorized', code: 401 });
    const m = /^\/(?:api\/v1|apis\/([^/]+)\/v1)(?:\/namespaces\/([^/]+))?\/([a-z]+)$/.exec(url.pathname);
    if (!m) return json(404, { kind: 'Status', message: 'not found', code: 404 });
    const [, group, ns, plural] = m;
    if (plural === 'networkpolicies')
      return json(403, {
        kind: 'Status',
        message: 'networkpolicies.networking.k8s.io is forbidden: User "bulwark" cannot list resource',
        code: 403,
      });
    const kind = Object.keys(PLURAL).find((k) => PLURAL[k] === plural)!;
    const apiVersion = group ? `${group}/v1` : 'v1';
    let items = objects.filter((o) => o.kind === kind && (!ns || o.metadata.namespace === ns));
    // Page by one item at a time, as a small `limit` would.
    const limit = Number(url.searchParams.get('limit') ?? 500);
    const start = Number(url.searchParams.get('continue') ?? 0);
    const page = items.slice(start, start + limit);
    const next = start + limit < items.length ? String(start + limit) : '';
    items = page.map(({ kind: _k, apiVersion: _a, ...rest }) => rest);
    return json(200, {
      kind: `${kind}List`,
      apiVersion,
      metadata: { resourceVersion: '1', ...(next ? { continue: next } : {}) },
      items,
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: { server: "https://127.0.0.1:${port}", certificate-authority-data: ${cert.toString('base64')} }
- name: other
  cluster: { server: "https://127.0.0.1:1", certificate-authority-data: ${cert.toString('base64')} }
users:
- name: scanner
  user: { token: ${TOKEN} }
- name: nobody
  user: { token: wrong }
contexts:
- name: test
  context: { cluster: test, user: scanner }
- name: badauth
  context: { cluster: test, user: nobody }
- name: down
  context: { cluster: other, user: scanner }
current-context: down
`,
  );
});
after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

test('reads every resource kind with the context credentials, follows pagination, skips owned pods', async () => {
  const snap = await readCluster({ kubeconfig, context: 'test', pageSize: 2 });
  assert.equal(snap.context, 'test');
  assert.deepEqual(snap.warnings.length, 1);
  assert.match(snap.warnings[0]!, /cannot list networkpolicies: forbidden/);
  assert.ok(seen.includes('GET /apis/rbac.authorization.k8s.io/v1/clusterroles'));
  assert.ok(
    seen.some((s) => s.endsWith('?continue')),
    'paged',
  );
  const kinds = new Set(snap.objects.map((o) => o.kind));
  for (const k of [
    'Namespace',
    'Deployment',
    'StatefulSet',
    'DaemonSet',
    'CronJob',
    'Service',
    'Ingress',
    'Role',
    'ClusterRole',
    'RoleBinding',
    'ClusterRoleBinding',
    'Pod',
  ])
    assert.ok(kinds.has(k), k);
  // Items got their kind and apiVersion back.
  const ds = snap.objects.find((o) => o.kind === 'DaemonSet')!;
  assert.equal(ds.apiVersion, 'apps/v1');
  // The ReplicaSet-owned pod is left to its Deployment; the bare pod is kept.
  const pods = snap.objects.filter((o) => o.kind === 'Pod').map((o) => (o.metadata as Obj).name);
  assert.deepEqual(pods, ['debug-shell']);
  assert.equal(snap.objects.length, objects.filter((o) => o.kind !== 'NetworkPolicy').length - 1);

  const r = evaluate(new CheckSet(builtinChecks()), clusterInputs(snap.objects));
  assert.deepEqual(r.warnings, []);
  const priv = r.findings.find((f) => f.id === 'BW-K8S-001')!;
  assert.equal(priv.location.path, 'kube-system/DaemonSet/fluentd-elasticsearch');
  assert.equal(priv.location.fieldPath, 'spec.template.spec.containers[1].securityContext.privileged');
  assert.equal(priv.location.line, undefined);
  assert.ok(r.findings.some((f) => f.id === 'BW-K8S-002' && f.resource?.name === 'debug-shell'));

  const rbac = analyzeRbac(snap.objects);
  const ci = rbac.subjects.find((s) => s.subject.kind === 'ServiceAccount' && s.subject.name === 'default')!;
  assert.deepEqual(ci.grants.map((g) => g.capability).sort(), [
    'create-privileged-pods',
    'escalate',
    'exec-pods',
    'read-secrets',
  ]);
});

test('namespace filter; wrong token, unreachable server and unknown context are clear errors', async () => {
  seen.length = 0;
  const snap = await readCluster({ kubeconfig, context: 'test', namespace: 'guestbook' });
  assert.ok(seen.includes('GET /apis/apps/v1/namespaces/guestbook/deployments'));
  assert.ok(
    seen.includes('GET /apis/rbac.authorization.k8s.io/v1/clusterroles'),
    'cluster-scoped RBAC still read',
  );
  assert.deepEqual(
    snap.objects
      .filter((o) => o.kind === 'Deployment')
      .map((o) => (o.metadata as Obj).name)
      .sort(),
    ['frontend', 'redis-leader'],
  );
  await assert.rejects(readCluster({ kubeconfig, context: 'badauth' }), /rejected the credentials \(401\)/);
  await assert.rejects(readCluster({ kubeconfig }), /cannot reach the API server https:\/\/127\.0\.0\.1:1/);
  await assert.rejects(
    readCluster({ kubeconfig, context: 'prod' }),
    /kubeconfig has no context "prod" \(contexts: test, badauth, down\)/,
  );
  await assert.rejects(readCluster({ kubeconfig: join(dir, 'missing') }), /cannot load kubeconfig/);
});
