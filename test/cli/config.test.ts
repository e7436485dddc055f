/**
 * `bulwark scan config` end to end through the built binary (node bin/bulwark, after `npm run
 * build`): Helm-style output on stdin, directories, every output format, --compliance reports,
 * --policy, --ignorefile, exit codes and error messages on bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'test', 'misconfig', 'fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'bw-cfg-cli-'));

function bulwark(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin', 'bulwark'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: tmp },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    p.stdin.end(stdin ?? '');
  });
}

// What `helm template` prints: "# Source:" comments, several documents, a leading "---".
const HELM = `---
# Source: web/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web
  labels:
    helm.sh/chart: web-0.1.0
---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    helm.sh/chart: web-0.1.0
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: web
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web
    spec:
      serviceAccountName: web
      securityContext: {}
      containers:
        - name: web
          securityContext:
            privileged: true
          image: "nginx:1.16.0"
          imagePullPolicy: IfNotPresent
`;

test('Helm output on stdin ("-"), JSON report with file "-", lines and field paths', async () => {
  const r = await bulwark(['scan', 'config', '-', '-f', 'json', '-s', 'HIGH,CRITICAL'], HELM);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.artifact.kind, 'config');
  assert.deepEqual(
    rep.results.map((x: { target: string; type: string }) => [x.target, x.type]),
    [['-', 'kubernetes']],
  );
  const f = rep.results[0].findings;
  assert.deepEqual(
    f.map((x: { id: string }) => x.id),
    ['BW-K8S-001'],
  );
  assert.equal(f[0].location.path, '-');
  assert.equal(f[0].location.line, 32);
  assert.equal(f[0].location.fieldPath, 'spec.template.spec.containers[0].securityContext.privileged');
  assert.deepEqual(f[0].resource, { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1', file: '-' });
});

test('a Dockerfile on stdin is recognised by its content', async () => {
  const r = await bulwark(
    ['scan', 'config', '-', '-f', 'json'],
    'FROM debian:latest\nRUN apt-get install -y curl\n',
  );
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.results[0].type, 'dockerfile');
  assert.ok(
    rep.results[0].findings.some(
      (x: { id: string; location: { line: number } }) => x.id === 'BW-DF-004' && x.location.line === 1,
    ),
  );
});

test('SARIF and JUnit outputs to files; --exit-code when misconfigurations remain', async () => {
  const sarif = join(tmp, 'out.sarif');
  const r = await bulwark([
    'scan',
    'config',
    join(FIX, 'k8s'),
    '-f',
    'sarif',
    '-o',
    sarif,
    '--exit-code',
    '5',
  ]);
  assert.equal(r.code, 5, r.stderr);
  const s = JSON.parse(readFileSync(sarif, 'utf8'));
  assert.equal(s.version, '2.1.0');
  const res = s.runs[0].results as {
    ruleId: string;
    locations: { physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } } }[];
  }[];
  const priv = res.find((x) => x.ruleId === 'BW-K8S-001');
  assert.ok(priv, 'privileged container in SARIF');
  assert.match(priv.locations[0]!.physicalLocation.artifactLocation.uri, /fluentd-daemonset\.yaml$/);
  assert.equal(priv.locations[0]!.physicalLocation.region?.startLine, 37);

  const junit = join(tmp, 'out.xml');
  const j = await bulwark(['scan', 'config', join(FIX, 'docker'), '-f', 'junit', '-o', junit]);
  assert.equal(j.code, 0, j.stderr);
  const xml = readFileSync(junit, 'utf8');
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>/);
  assert.match(xml, /<testsuite [^>]*name="[^"]*docker-compose\.yml"/);
  assert.match(xml, /BW-COMPOSE-005/);

  const none = await bulwark(['scan', 'config', join(FIX, 'k8s', 'hardened.yaml'), '--exit-code', '5']);
  assert.equal(none.code, 0, none.stderr);
  const crit = await bulwark([
    'scan',
    'config',
    join(FIX, 'k8s', 'cronjob.yaml'),
    '-s',
    'CRITICAL',
    '--exit-code',
    '5',
  ]);
  assert.equal(crit.code, 0, 'only lower severities found');
});

test('--compliance: table, JSON and a self-contained HTML file; exit code on failed controls', async () => {
  const t = await bulwark(['scan', 'config', join(FIX, 'k8s'), '--compliance', 'pss-baseline']);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /Kubernetes Pod Security Standards: Baseline/);
  assert.match(t.stdout, /Privileged Containers\s+FAIL\s+HIGH/);
  const j = await bulwark([
    'scan',
    'config',
    join(FIX, 'k8s'),
    '--compliance',
    'cis-k8s',
    '-f',
    'json',
    '--exit-code',
    '3',
  ]);
  assert.equal(j.code, 3);
  const rep = JSON.parse(j.stdout);
  assert.equal(rep.framework.id, 'cis-k8s');
  assert.equal(rep.controls.find((c: { id: string }) => c.id === '5.1.1').status, 'fail');
  assert.equal(rep.controls.find((c: { id: string }) => c.id === '5.3.1').status, 'manual');
  const html = join(tmp, 'report.html');
  const h = await bulwark([
    'scan',
    'config',
    join(FIX, 'docker'),
    '--compliance',
    'cis-docker',
    '-f',
    'html',
    '-o',
    html,
  ]);
  assert.equal(h.code, 0, h.stderr);
  const doc = readFileSync(html, 'utf8');
  assert.match(doc, /^<!DOCTYPE html>/);
  assert.match(doc, /CIS Docker Benchmark v1\.6\.0/);
  assert.doesNotMatch(doc, /<script|<link |src=/i);
});

test('--policy adds user checks; --ignorefile suppresses by id', async () => {
  const pol = join(tmp, 'policies');
  mkdirSync(pol, { recursive: true });
  writeFileSync(
    join(pol, 'org.yaml'),
    `checks:
  - id: ORG-001
    title: Deployments need a team label
    severity: HIGH
    description: Ownership.
    remediation: Add metadata.labels.team.
    kinds: [Deployment]
    field: metadata.labels
    deny: "!has(object.metadata.labels) || !('team' in object.metadata.labels)"
`,
  );
  const r = await bulwark(['scan', 'config', '-', '-f', 'json', '--policy', pol, '-s', 'HIGH'], HELM);
  assert.equal(r.code, 0, r.stderr);
  const ids = JSON.parse(r.stdout)
    .results[0].findings.map((x: { id: string }) => x.id)
    .sort();
  assert.deepEqual(ids, ['BW-K8S-001', 'ORG-001']);
  const ign = join(tmp, '.bulwarkignore');
  writeFileSync(ign, '# accepted risk\nBW-K8S-001\n');
  const s = await bulwark(
    ['scan', 'config', '-', '-f', 'json', '--ignorefile', ign, '-s', 'HIGH', '--exit-code', '1'],
    HELM,
  );
  assert.equal(s.code, 0, s.stderr);
  assert.deepEqual(JSON.parse(s.stdout).results[0].findings, []);
});

test('bad input: clear one-line errors, no stack traces; usage errors exit 2, others 1', async () => {
  const badPol = join(tmp, 'bad-policies');
  mkdirSync(badPol, { recursive: true });
  writeFileSync(
    join(badPol, 'x.yaml'),
    'checks:\n  - id: X-1\n    title: t\n    severity: LOW\n    description: d\n    remediation: r\n    kinds: [Pod]\n    deny: "object.spec.("\n',
  );
  const cases: [string[], number, RegExp, string?][] = [
    [
      ['scan', 'config', join(FIX, 'k8s'), '--compliance', 'sox'],
      2,
      /unknown compliance framework "sox" \(expected one of .*pss-baseline/,
    ],
    [
      ['scan', 'config', join(FIX, 'k8s'), '-f', 'html'],
      2,
      /--format html is the compliance report; add --compliance FRAMEWORK/,
    ],
    [['scan', 'config', join(tmp, 'nope.yaml')], 1, /nope\.yaml: no such file or directory/],
    [['scan', 'config', '-'], 1, /^bulwark: -:\d+:\d+: invalid YAML/, 'kind: Pod\n  x: : y\n'],
    [
      ['scan', 'config', join(FIX, 'k8s'), '--policy', badPol],
      1,
      /x\.yaml:8: check X-1: deny: CEL syntax error at 1:\d+/,
    ],
  ];
  // Independent processes: run them side by side.
  const runs = await Promise.all(cases.map(([args, , , stdin]) => bulwark(args, stdin)));
  for (const [i, [args, code, re]] of cases.entries()) {
    const r = runs[i]!;
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
