/**
 * `bulwark scan cluster` and `--rbac` through the built binary, against the MOCK API server of
 * test/misconfig/mock-apiserver.ts (no real kube-apiserver can run here; see that file).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockApiServer, type MockApiServer } from '../misconfig/mock-apiserver.js';

const ROOT = join(import.meta.dirname, '..', '..');
const HOME = mkdtempSync(join(tmpdir(), 'bw-cluster-cli-'));
let api: MockApiServer;
before(async () => {
  api = await startMockApiServer();
});
after(() => api.close());

function bulwark(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin', 'bulwark'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    p.stdin.end();
  });
}

test('scan cluster: findings per resource, warnings for what cannot be listed, compliance', async () => {
  const r = await bulwark([
    'scan',
    'cluster',
    '--kubeconfig',
    api.kubeconfig,
    '--context',
    'test',
    '-f',
    'json',
    '-s',
    'HIGH,CRITICAL',
    '--exit-code',
    '4',
  ]);
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /WARN cannot list networkpolicies: forbidden/);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.artifact.kind, 'cluster');
  assert.match(rep.artifact.name, /^test \(https:\/\/127\.0\.0\.1:\d+\)$/);
  const ds = rep.results.find(
    (x: { target: string }) => x.target === 'kube-system/DaemonSet/fluentd-elasticsearch',
  );
  assert.ok(ds.findings.some((f: { id: string }) => f.id === 'BW-K8S-001'));
  const crb = rep.results.find((x: { target: string }) => x.target === 'ClusterRoleBinding/ci-admin');
  assert.deepEqual(crb.findings.map((f: { id: string }) => f.id).sort(), ['BW-RBAC-006']);

  const c = await bulwark([
    'scan',
    'cluster',
    '--kubeconfig',
    api.kubeconfig,
    '--context',
    'test',
    '--compliance',
    'cis-k8s',
    '-f',
    'json',
  ]);
  assert.equal(c.code, 0, c.stderr);
  const cr = JSON.parse(c.stdout);
  assert.equal(cr.controls.find((x: { id: string }) => x.id === '5.1.1').status, 'fail');
});

test('--rbac: who can read secrets, exec, create privileged pods, escalate (cluster and manifests)', async () => {
  const r = await bulwark(['scan', 'cluster', '--kubeconfig', api.kubeconfig, '--context', 'test', '--rbac']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^Who can read Secrets \(1\)\n {2}ServiceAccount ci\/default {2}\[cluster\] {2}via ClusterRoleBinding\/ci-admin → ClusterRole\/cluster-admin/,
  );
  assert.match(r.stdout, /Who can escalate privileges .*\(1\)/);
  const j = await bulwark([
    'scan',
    'config',
    join(ROOT, 'test', 'misconfig', 'fixtures', 'k8s'),
    '--rbac',
    '-f',
    'json',
    '--exit-code',
    '2',
  ]);
  assert.equal(j.code, 2, j.stderr);
  const a = JSON.parse(j.stdout);
  assert.deepEqual(
    a.subjects.map((s: { subject: { name: string } }) => s.subject.name),
    ['default'],
  );
});

test('scan cluster errors: bad credentials, unreachable API server, unknown context', async () => {
  const runs: Promise<{ r: { code: number; stderr: string }; code: number; re: RegExp }>[] = [];
  for (const [ctxName, code, re] of [
    ['badauth', 1, /bulwark: the API server https:\/\/127\.0\.0\.1:\d+ rejected the credentials \(401\)/],
    ['down', 1, /bulwark: cannot reach the API server https:\/\/127\.0\.0\.1:1/],
    ['nope', 2, /bulwark: kubeconfig has no context "nope"/],
  ] as const) {
    runs.push(
      bulwark(['scan', 'cluster', '--kubeconfig', api.kubeconfig, '--context', ctxName]).then((r) => ({
        r,
        code,
        re,
      })),
    );
  }
  for (const { r, code, re } of await Promise.all(runs)) {
    assert.equal(r.code, code, r.stderr);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});
