/**
 * Kubernetes manifests: realistic fixtures modelled on the Kubernetes documentation examples
 * (test/misconfig/fixtures/k8s), multi-document YAML, JSON `List`, every pod-template location
 * (Deployment, DaemonSet, StatefulSet with initContainers, CronJob jobTemplate, Job), RBAC, and the
 * exact line and field path of each finding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifests, scanConfigPaths } from '../../src/misconfig/index.js';
import type { MisconfigFinding } from '../../src/core/findings.js';
import { builtinSet } from '../policy/helpers.js';

const FIX = join(import.meta.dirname, 'fixtures', 'k8s');
const read = (f: string) => readFileSync(join(FIX, f), 'utf8');

async function scan(...files: string[]) {
  const r = await scanConfigPaths(
    files.map((f) => join(FIX, f)),
    builtinSet(),
  );
  assert.deepEqual(r.warnings, []);
  return r;
}

function find(fs: MisconfigFinding[], id: string, fieldPath?: string): MisconfigFinding {
  const f = fs.find((x) => x.id === id && (fieldPath === undefined || x.location.fieldPath === fieldPath));
  assert.ok(
    f,
    `no ${id} ${fieldPath ?? ''} in ${fs.map((x) => `${x.id} ${x.location.fieldPath}`).join('; ')}`,
  );
  return f;
}

test('DaemonSet: privileged container and docker.sock hostPath point to their exact lines', async () => {
  const { findings } = await scan('fluentd-daemonset.yaml');
  const priv = find(findings, 'BW-K8S-001');
  assert.equal(priv.location.fieldPath, 'spec.template.spec.containers[1].securityContext.privileged');
  assert.equal(priv.location.line, 37);
  assert.equal(priv.message, 'container "node-agent" runs privileged');
  assert.deepEqual(priv.resource, {
    kind: 'DaemonSet',
    name: 'fluentd-elasticsearch',
    namespace: 'kube-system',
    apiVersion: 'apps/v1',
    file: join(FIX, 'fluentd-daemonset.yaml'),
  });
  assert.ok(priv.compliance?.some((c) => c.framework === 'pss' && c.control === 'Privileged Containers'));
  assert.ok(priv.compliance?.some((c) => c.framework === 'mitre' && c.control === 'T1611'));
  // Only the second container is privileged.
  assert.equal(findings.filter((f) => f.id === 'BW-K8S-001').length, 1);
  const sock = find(findings, 'BW-K8S-020');
  assert.equal(sock.location.fieldPath, 'spec.template.spec.volumes[1].hostPath.path');
  assert.equal(sock.location.line, 48);
  assert.equal(sock.severity, 'CRITICAL');
  // /var/log is a hostPath (PSS) but not an escape path.
  assert.equal(findings.filter((f) => f.id === 'BW-K8S-005').length, 2);
  assert.equal(findings.filter((f) => f.id === 'BW-K8S-020').length, 1);
  // The second container is pinned by digest, the first is not.
  assert.deepEqual(
    findings.filter((f) => f.id === 'BW-K8S-027').map((f) => f.location.fieldPath),
    ['spec.template.spec.containers[0].image'],
  );
});

test('StatefulSet: initContainers are checked, annotation AppArmor and pod-template paths', async () => {
  const { findings } = await scan('statefulset.yaml');
  const root = find(findings, 'BW-K8S-017');
  assert.equal(root.location.fieldPath, 'spec.template.spec.initContainers[0].securityContext.runAsUser');
  assert.equal(root.location.line, 27);
  const caps = find(findings, 'BW-K8S-032');
  // One finding per offending element: SYS_ADMIN is the second entry; CHOWN is harmless.
  assert.equal(
    caps.location.fieldPath,
    'spec.template.spec.initContainers[0].securityContext.capabilities.add[1]',
  );
  assert.equal(caps.location.line, 29);
  assert.equal(caps.message, 'init container "init-perms" adds the dangerous capability SYS_ADMIN');
  assert.equal(findings.filter((f) => f.id === 'BW-K8S-032' || f.id === 'BW-K8S-007').length, 2);
  const aa = find(findings, 'BW-K8S-008');
  assert.equal(
    aa.location.fieldPath,
    'spec.template.spec.containers[0].securityContext.appArmorProfile.type',
  );
  assert.equal(aa.message, 'container "nginx" runs without AppArmor confinement');
  const hp = find(findings, 'BW-K8S-006');
  assert.equal(hp.location.fieldPath, 'spec.template.spec.containers[0].ports[0].hostPort');
  assert.equal(hp.location.line, 39);
  assert.equal(hp.message, 'container "nginx" binds host port 8080');
  // A missing field points at the container that lacks it.
  const ro = find(
    findings,
    'BW-K8S-021',
    'spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem',
  );
  assert.equal(ro.location.line, 34);
  // Probes are required of regular containers only.
  assert.deepEqual(
    findings.filter((f) => f.id === 'BW-K8S-030').map((f) => f.location.fieldPath),
    ['spec.template.spec.containers[0].livenessProbe'],
  );
});

test('CronJob: the pod template under jobTemplate is found; default namespace flagged', async () => {
  const { findings } = await scan('cronjob.yaml');
  const hn = find(findings, 'BW-K8S-004');
  assert.equal(hn.location.fieldPath, 'spec.jobTemplate.spec.template.spec.hostNetwork');
  assert.equal(hn.location.line, 13);
  const ns = find(findings, 'BW-K8S-029');
  assert.equal(ns.location.line, 6);
  // Jobs are not expected to have probes.
  assert.ok(!findings.some((f) => f.id === 'BW-K8S-030' || f.id === 'BW-K8S-031'));
});

test('JSON v1 List: each item is a resource, paths are relative to the item, lines absolute', async () => {
  const { findings, targets } = await scan('list.json');
  assert.deepEqual(
    targets.map((t) => t.resources),
    [2],
  );
  const pid = find(findings, 'BW-K8S-002');
  assert.equal(pid.resource?.kind, 'Pod');
  assert.equal(pid.resource?.name, 'debug');
  assert.equal(pid.location.fieldPath, 'spec.hostPID');
  assert.equal(pid.location.line, 26);
  const latest = find(findings, 'BW-K8S-026');
  assert.equal(latest.resource?.name, 'debug');
  const job = findings.filter((f) => f.resource?.kind === 'Job');
  assert.ok(job.length > 0);
  assert.ok(job.every((f) => f.location.fieldPath?.startsWith('spec.template.spec')));
});

test('multi-document app: Service type, Ingress TLS, literal secret env var, Namespace PSA label', async () => {
  const { findings, targets } = await scan('guestbook.yaml');
  assert.deepEqual(
    targets.map((t) => t.resources),
    [7],
  );
  assert.equal(find(findings, 'BW-K8S-040').location.line, 100);
  assert.equal(find(findings, 'BW-K8S-041').resource?.name, 'guestbook');
  const env = find(findings, 'BW-K8S-033');
  assert.equal(env.resource?.name, 'frontend');
  assert.ok(!findings.some((f) => f.id === 'BW-K8S-043'), 'namespace enforces baseline');
  assert.ok(!findings.some((f) => f.id === 'BW-K8S-042'), 'network policy restricts ingress');
  // The secret value itself never appears in a finding.
  assert.ok(!JSON.stringify(findings).includes('hunter2'));
});

test('RBAC: secret readers, exec, escalation verbs, cluster-admin and default service account bindings', async () => {
  const { findings } = await scan('rbac.yaml');
  const byId = (id: string) =>
    findings
      .filter((f) => f.id === id)
      .map((f) => `${f.resource?.name} ${f.location.fieldPath}@${f.location.line}`);
  assert.deepEqual(byId('BW-RBAC-002'), ['secret-reader rules[0]@17']);
  assert.deepEqual(byId('BW-RBAC-003'), ['ops-debug rules[1]@29']);
  assert.deepEqual(byId('BW-RBAC-005'), ['ops-debug rules[2]@32']);
  assert.deepEqual(byId('BW-RBAC-006'), ['ci-admin roleRef.name@60']);
  assert.deepEqual(byId('BW-RBAC-008'), ['ci-admin subjects[0]@55']);
  assert.ok(findings.every((f) => f.type === 'rbac' || f.id === 'BW-K8S-029'));
  // pod-reader only reads pods.
  assert.ok(!findings.some((f) => f.resource?.name === 'pod-reader' && f.id.startsWith('BW-RBAC')));
});

test('a hardened Deployment (restricted PSS, limits, probes, digest) has no findings', async () => {
  const { findings } = await scan('hardened.yaml');
  assert.deepEqual(
    findings.map((f) => f.id),
    [],
  );
});

test('the nginx Deployment from the docs fails the restricted profile but passes baseline', async () => {
  const { findings } = await scan('nginx-deployment.yaml');
  const pss = findings.filter((f) => f.compliance?.some((c) => c.framework === 'pss'));
  const controls = new Set(
    pss.flatMap((f) => f.compliance!.filter((c) => c.framework === 'pss').map((c) => c.control)),
  );
  assert.deepEqual([...controls].sort(), [
    'Capabilities',
    'Privilege Escalation',
    'Running as Non-root',
    'Seccomp',
  ]);
  const baselineIds = [
    'BW-K8S-001',
    'BW-K8S-002',
    'BW-K8S-003',
    'BW-K8S-004',
    'BW-K8S-005',
    'BW-K8S-006',
    'BW-K8S-007',
    'BW-K8S-008',
    'BW-K8S-009',
    'BW-K8S-010',
    'BW-K8S-011',
    'BW-K8S-012',
    'BW-K8S-013',
  ];
  assert.ok(!findings.some((f) => baselineIds.includes(f.id)));
});

test('documents without apiVersion/kind are skipped; YAML errors name file, line and column', () => {
  const r = parseManifests(
    'foo: bar\n---\n# only a comment\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n',
    'm.yaml',
  );
  assert.deepEqual(
    r.inputs.map((i) => i.kind),
    ['Namespace'],
  );
  assert.throws(
    () => parseManifests('apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n', 'bad.yaml'),
    (e: Error) => {
      assert.match(e.message, /^bad\.yaml:\d+:\d+: invalid YAML/);
      return true;
    },
  );
});

test('a broken file inside a directory is a warning, the others are still scanned', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'bw-k8s-'));
  try {
    writeFileSync(join(dir, 'a-bad.yaml'), 'kind: Pod\n  bad: : indent\n');
    writeFileSync(join(dir, 'b.yaml'), read('cronjob.yaml'));
    const r = await scanConfigPaths([dir], builtinSet());
    assert.equal(r.targets.length, 1);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /a-bad\.yaml:\d+:\d+: invalid YAML/);
    assert.ok(r.findings.some((f) => f.id === 'BW-K8S-004'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a Helm chart directory: templates are skipped with advice to render them, values.yaml is no manifest', async () => {
  const { mkdtempSync, writeFileSync, mkdirSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'bw-chart-'));
  try {
    writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: web\nversion: 0.1.0\n');
    writeFileSync(join(dir, 'values.yaml'), 'replicaCount: 1\nimage:\n  repository: nginx\n');
    mkdirSync(join(dir, 'templates'));
    writeFileSync(
      join(dir, 'templates', 'deployment.yaml'),
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include "web.fullname" . }}\n',
    );
    const r = await scanConfigPaths([dir], builtinSet());
    assert.deepEqual(r.targets, []);
    assert.deepEqual(r.warnings, [
      `${dir}: Helm chart templates are skipped; scan the rendered output: helm template ${dir} | bulwark scan config -`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pod-level securityContext settings are reported at the pod field and its line, not a missing container field', async () => {
  const yaml = `apiVersion: v1
kind: Pod
metadata:
  name: podlevel
spec:
  securityContext:
    runAsUser: 0
    seccompProfile:
      type: Unconfined
    windowsOptions:
      hostProcess: true
  containers:
    - name: inherits
      image: nginx@sha256:${'a'.repeat(64)}
    - name: overrides
      image: nginx@sha256:${'b'.repeat(64)}
      securityContext:
        runAsUser: 0
`;
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-podlevel-'));
  const file = join(dir, 'pod.yaml');
  writeFileSync(file, yaml);
  const { findings } = await scanConfigPaths([file], builtinSet()).finally(() =>
    rmSync(dir, { recursive: true, force: true }),
  );
  const uid = findings.filter((f) => f.id === 'BW-K8S-017');
  assert.equal(uid.length, 2);
  const inherited = uid.find((f) => f.message?.includes('"inherits"'))!;
  assert.equal(inherited.location.fieldPath, 'spec.securityContext.runAsUser');
  assert.equal(inherited.location.line, 7);
  const own = uid.find((f) => f.message?.includes('"overrides"'))!;
  assert.equal(own.location.fieldPath, 'spec.containers[1].securityContext.runAsUser');
  assert.equal(own.location.line, 18);
  const seccomp = findings.filter((f) => f.id === 'BW-K8S-011');
  assert.equal(seccomp.length, 2);
  for (const f of seccomp) {
    assert.equal(f.location.fieldPath, 'spec.securityContext.seccompProfile.type');
    assert.equal(f.location.line, 9);
  }
  const hp = find(findings, 'BW-K8S-013');
  assert.equal(hp.location.fieldPath, 'spec.securityContext.windowsOptions.hostProcess');
  assert.equal(hp.location.line, 11);
});

test('image digests are validated; secret rules run over env values whatever the variable is called', async () => {
  const token = 'ghp_' + 'R7dK2pQ9xW4mZ8vB3nL6tY1cF5hJ0sGaE2uI'; // 36 chars after the prefix, GitHub's PAT shape
  const yaml = `apiVersion: v1
kind: Pod
metadata:
  name: digests
spec:
  containers:
    - name: short
      image: nginx@sha256:abc
    - name: good
      image: nginx@sha256:${'0123456789abcdef'.repeat(4)}
    - name: sha512
      image: nginx@sha512:${'0123456789abcdef'.repeat(8)}
    - name: upper
      image: nginx@sha256:${'0123456789ABCDEF'.repeat(4)}
      env:
        - name: UPSTREAM_AUTH
          value: ${token}
        - name: LOG_LEVEL
          value: debug
`;
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-digest-'));
  const file = join(dir, 'pod.yaml');
  writeFileSync(file, yaml);
  const { findings } = await scanConfigPaths([file], builtinSet()).finally(() =>
    rmSync(dir, { recursive: true, force: true }),
  );
  const unpinned = findings
    .filter((f) => f.id === 'BW-K8S-027')
    .map((f) => f.location.fieldPath)
    .sort();
  assert.deepEqual(unpinned, ['spec.containers[0].image', 'spec.containers[3].image']);
  assert.match(
    find(findings, 'BW-K8S-027', 'spec.containers[0].image').message!,
    /not pinned by a valid digest/,
  );
  const env = findings.filter((f) => f.id === 'BW-K8S-033');
  assert.equal(env.length, 1, env.map((f) => f.message).join('; '));
  assert.equal(env[0]!.location.fieldPath, 'spec.containers[3].env[0].value');
  assert.match(env[0]!.message!, /UPSTREAM_AUTH to a literal secret value \(GitHub/);
  assert.ok(!JSON.stringify(env[0]).includes(token), 'the secret itself is never in the finding');
});
