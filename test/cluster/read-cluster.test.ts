import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { readCluster, analyzeRbac, type K8sObject } from '../../src/cluster/index.js';
import { startFakeApiServer } from './apiserver.js';

const rbac = parseAllDocuments(readFileSync(new URL('./fixtures/rbac.yaml', import.meta.url), 'utf8')).map((d) => d.toJS() as K8sObject);
const pods: K8sObject[] = Array.from({ length: 7 }, (_, i) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: `web-${i}`, namespace: i % 2 ? 'shop' : 'default' },
  spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] },
}));

test('reads every kind through the kubeconfig (TLS CA, bearer token), with paging; forbidden kinds become warnings', async (t) => {
  const api = await startFakeApiServer([...rbac, ...pods], { token: 's3cr3t-token-for-test', forbidden: ['CronJob'], pageSize: 3 });
  t.after(() => api.close());
  const snap = await readCluster({ kubeconfig: api.kubeconfig });
  assert.equal(snap.context, 'test');
  assert.equal(snap.objects.filter((o) => o.kind === 'Pod').length, 7, 'all pages of pods');
  assert.ok(api.requests.some((r) => r.includes('continue=3')), 'paging used');
  assert.ok(snap.warnings.some((w) => /CronJob: forbidden \(403\)/.test(w)));
  assert.ok(!api.requests.some((r) => r.includes('/secrets')), 'secrets are never read');
  const deployment = snap.objects.find((o) => o.kind === 'ClusterRole' && o.metadata?.name === 'ops-admin');
  assert.equal(deployment?.apiVersion, 'rbac.authorization.k8s.io/v1');
  // the same RBAC analysis as on manifests
  assert.ok(analyzeRbac(snap.objects).some((a) => a.question.id === 'BW-RBAC-005' && a.subject.name === 'ops-bot'));
});

test('namespace filter, wrong credentials and unknown contexts give clear errors', async (t) => {
  const api = await startFakeApiServer([...pods], { token: 'another-token-123' });
  t.after(() => api.close());
  const snap = await readCluster({ kubeconfig: api.kubeconfig, namespaces: ['shop'] });
  assert.deepEqual([...new Set(snap.objects.filter((o) => o.kind === 'Pod').map((o) => o.metadata?.namespace))], ['shop']);
  await assert.rejects(readCluster({ kubeconfig: api.kubeconfig, context: 'wrong-token' }), (e: Error) => {
    assert.match(e.message, /unauthorized \(401\)/);
    assert.ok(!e.message.includes('another-token-123'));
    return true;
  });
  await assert.rejects(readCluster({ kubeconfig: api.kubeconfig, context: 'prod' }), /no context "prod" \(have: test, wrong-token\)/);
});
