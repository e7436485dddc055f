/**
 * `scan cluster` reading: @kubernetes/client-node's kubeconfig handling (context, CA, bearer token)
 * against test/misconfig/mock-apiserver.ts.
 * This is a MOCK of the API server: no kube-apiserver can run on this machine (not packaged in
 * Debian, no network for other sources). It serves the realistic fixtures as the API would (list
 * items without kind/apiVersion, pagination with `continue`, a 403 for one resource, controller-owned
 * pods) so the client side — auth, paging, ownership filtering, error handling — is real.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { clusterInputs, readCluster } from '../../src/misconfig/index.js';
import { analyzeRbac, CheckSet, evaluate } from '../../src/policy/index.js';
import { builtinChecks } from '../policy/helpers.js';
import { startMockApiServer, type MockApiServer } from './mock-apiserver.js';

type Obj = Record<string, unknown>;
let api: MockApiServer;
let kubeconfig: string;
let seen: string[];
let objects: Obj[];

before(async () => {
  api = await startMockApiServer();
  ({ kubeconfig, seen, objects } = api);
});
after(() => api.close());

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
  await assert.rejects(readCluster({ kubeconfig: kubeconfig + '.missing' }), /cannot load kubeconfig/);
});
