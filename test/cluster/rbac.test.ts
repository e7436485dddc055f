import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { analyzeRbac, rbacFindings, subjectLabel, type K8sObject } from '../../src/cluster/index.js';

const objects = parseAllDocuments(readFileSync(new URL('./fixtures/rbac.yaml', import.meta.url), 'utf8'))
  .map((d) => d.toJS() as K8sObject)
  .filter(Boolean);

/** "question id -> sorted subject labels" for compact assertions. */
function table(answers: ReturnType<typeof analyzeRbac>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const a of answers) (out[a.question.id] ??= []).push(subjectLabel(a.subject));
  for (const k of Object.keys(out)) out[k]!.sort();
  return out;
}

test('who can read secrets, exec, create workloads, escalate, hold wildcards', () => {
  const t = table(analyzeRbac(objects));
  assert.deepEqual(t['BW-RBAC-001'], ['Group manager', 'ServiceAccount ops/ops-bot', 'User dave']);
  assert.deepEqual(t['BW-RBAC-002'], ['ServiceAccount ci/gitlab-runner', 'ServiceAccount ops/ops-bot']);
  assert.deepEqual(t['BW-RBAC-003'], ['ServiceAccount ci/gitlab-runner', 'ServiceAccount ops/ops-bot']);
  assert.deepEqual(t['BW-RBAC-004'], ['ServiceAccount ops/ops-bot', 'User support@example.com']);
  assert.deepEqual(t['BW-RBAC-005'], ['ServiceAccount ops/ops-bot']);
  // the aggregated ClusterRole picks up nodes/proxy from the labelled role
  assert.deepEqual(t['BW-RBAC-006'], ['ServiceAccount monitoring/prometheus', 'ServiceAccount ops/ops-bot']);
  // jane can only read pods; mallory's binding points to a missing role
  const all = Object.values(t).flat();
  assert.ok(!all.includes('User jane'));
  assert.ok(!all.includes('User mallory'));
});

test('a RoleBinding to a ClusterRole grants only in its namespace; findings say where and through what', () => {
  const findings = rbacFindings(analyzeRbac(objects));
  const dave = findings.find((f) => f.id === 'BW-RBAC-001' && f.resource?.name === 'dave');
  assert.ok(dave);
  assert.match(dave.message!, /ClusterRole secret-reader via RoleBinding development\/read-secrets in namespace development/);
  const manager = findings.find((f) => f.id === 'BW-RBAC-001' && f.resource?.name === 'manager');
  assert.match(manager!.message!, /cluster-wide/);
  assert.deepEqual(
    dave.compliance?.map((c) => `${c.framework}:${c.control}`),
    ['cis-k8s:5.1.2', 'mitre:T1552', 'nsa-cisa:rbac-least-privilege'],
  );
  assert.equal(dave.type, 'rbac');
  assert.equal(dave.severity, 'HIGH');
});

test('system subjects are skipped unless asked for', () => {
  const withSystem = table(analyzeRbac(objects, { includeSystem: true }));
  assert.ok(withSystem['BW-RBAC-005']!.includes('ServiceAccount kube-system/generic-garbage-collector'));
  assert.ok(!table(analyzeRbac(objects))['BW-RBAC-005']!.some((s) => s.includes('kube-system')));
});
