/**
 * The Helm chart (deploy/helm/bulwark, #15), rendered by deploy/helm/render — Go's text/template
 * with sprig and Helm's include/tpl/required/toYaml re-implemented; it is NOT Helm (no helm
 * binary here) — with the default values and a production-like values file, then checked by
 * `bulwark scan config` on the rendered manifests. Expected: the console and the webhook pass
 * every restricted check; the agent DaemonSet fails exactly the checks its documented needs imply
 * (docs/deploy.md, values.yaml `agent:`), nothing else.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { makeTlsFiles, repoRoot } from '../fixtures/index.js';
import { chartDir, renderChart, renderError, renderer } from './helpers.js';

interface Finding {
  id: string;
  severity: string;
  message?: string;
  location: { fieldPath?: string };
  resource: { kind: string; name: string; namespace?: string };
}
interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
  [k: string]: unknown;
}

const bulwark = join(repoRoot, 'bin', 'bulwark');
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-chart-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function scanConfig(file: string, extra: string[] = []): unknown {
  const out = join(tmp, `scan-${Math.random().toString(36).slice(2)}.json`);
  execFileSync(process.execPath, [bulwark, 'scan', 'config', file, '-f', 'json', '-o', out, ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return JSON.parse(readFileSync(out, 'utf8'));
}

function findings(file: string): Finding[] {
  const r = scanConfig(file) as { results: { findings: Finding[] }[] };
  return r.results.flatMap((x) => x.findings);
}

/** "Kind/name ID (field)" per finding, sorted: the multiset the tests compare. */
function keyed(fs: Finding[]): string[] {
  return fs.map((f) => `${f.resource.kind}/${f.resource.name} ${f.id} ${f.location.fieldPath ?? ''}`).sort();
}

function manifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

// The agent DaemonSet's documented needs (values.yaml agent:, docs/deploy.md) and the findings
// each one implies; field paths under spec.template.spec.
const POD = 'spec.template.spec';
const C = `${POD}.containers[0].securityContext`;
const AGENT_NEEDS = [
  `BW-K8S-002 ${POD}.hostPID`, // host PID namespace: the sensor sees the node's processes
  `BW-K8S-017 ${C}.runAsUser`, // uid 0: capabilities.add works only for root
  `BW-K8S-016 ${C}.runAsNonRoot`,
  `BW-K8S-007 ${C}.capabilities.add[0]`, // BPF
  `BW-K8S-007 ${C}.capabilities.add[1]`, // PERFMON
  `BW-K8S-007 ${C}.capabilities.add[2]`, // SYS_PTRACE
  `BW-K8S-032 ${C}.capabilities.add[0]`,
  `BW-K8S-032 ${C}.capabilities.add[1]`,
  `BW-K8S-032 ${C}.capabilities.add[2]`,
  `BW-K8S-019 ${C}.capabilities`,
  // the OCI runtime's state and bundles, read-only (container and pod identity)
  `BW-K8S-005 ${POD}.volumes[3].hostPath`,
  `BW-K8S-005 ${POD}.volumes[4].hostPath`,
  `BW-K8S-014 ${POD}.volumes[3]`,
  `BW-K8S-014 ${POD}.volumes[4]`,
  `BW-K8S-020 ${POD}.volumes[3].hostPath.path`,
  `BW-K8S-020 ${POD}.volumes[4].hostPath.path`,
  // no health endpoint: the agent exits when its sensor fails, and is restarted
  `BW-K8S-030 ${POD}.containers[0].livenessProbe`,
  `BW-K8S-031 ${POD}.containers[0].readinessProbe`,
].map((s) => `DaemonSet/bulwark-agent ${s}`);
const UNPINNED = (kind: string, name: string) => `${kind}/${name} BW-K8S-027 ${POD}.containers[0].image`;
const DIGEST = 'sha256:' + 'b'.repeat(64);

describe('Helm chart deploy/helm/bulwark (rendered by deploy/helm/render, not Helm)', () => {
  let defaults: string;
  let production: string;
  let caBundle: string;

  before(async () => {
    renderer();
    const tls = await makeTlsFiles(tmp);
    caBundle = readFileSync(tls.caCert).toString('base64');
    defaults = join(tmp, 'default.yaml');
    writeFileSync(defaults, renderChart(['--namespace', 'bulwark']));
    production = join(tmp, 'production.yaml');
    writeFileSync(
      production,
      renderChart([
        '--namespace',
        'bulwark',
        '-f',
        join(chartDir, 'ci', 'production-values.yaml'),
        '--set',
        `image.digest=${DIGEST},admission.caBundle=${caBundle}`,
      ]),
    );
  });

  it('default values: a console, its Service, the agent DaemonSet, their ServiceAccounts and the key Secret', () => {
    const ms = manifests(readFileSync(defaults, 'utf8'));
    assert.deepEqual(ms.map((m) => `${m.kind}/${m.metadata.name}`).sort(), [
      'DaemonSet/bulwark-agent',
      'Deployment/bulwark-server',
      'Secret/bulwark-secret-key',
      'Service/bulwark-server',
      'ServiceAccount/bulwark-agent',
      'ServiceAccount/bulwark-server',
    ]);
    for (const m of ms) assert.equal(m.metadata.namespace, 'bulwark', `${m.kind} namespace`);
    const key = ms.find((m) => m.kind === 'Secret')!.data as Record<string, string>;
    // base64 of base64 of 32 random bytes (what BULWARK_SECRET_KEY takes)
    assert.equal(Buffer.from(Buffer.from(key['secret-key']!, 'base64').toString(), 'base64').length, 32);
    const server = ms.find((m) => m.kind === 'Deployment')!;
    const pod = (server.spec!.template as { spec: Record<string, unknown> }).spec;
    const c = (pod.containers as Record<string, unknown>[])[0]!;
    assert.deepEqual(c.args, ['server', '--listen', '0.0.0.0:8080', '--data', '/var/lib/bulwark']);
    assert.deepEqual(c.securityContext, {
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.equal((c.livenessProbe as { httpGet: { path: string } }).httpGet.path, '/healthz');
    assert.equal((c.readinessProbe as { httpGet: { path: string } }).httpGet.path, '/healthz');
    assert.deepEqual(
      (c.volumeMounts as { mountPath: string }[]).map((v) => v.mountPath),
      ['/var/lib/bulwark', '/var/cache/bulwark', '/tmp', '/etc/bulwark/secrets/secret-key'],
    );
  });

  it('default values: scan config finds only the agent’s documented needs (+ the unpinned image tag)', () => {
    const got = keyed(findings(defaults));
    const want = [
      ...AGENT_NEEDS,
      UNPINNED('DaemonSet', 'bulwark-agent'),
      UNPINNED('Deployment', 'bulwark-server'),
    ].sort();
    assert.deepEqual(got, want);
  });

  it('production values (3 replicas, PostgreSQL, NATS, TLS, webhook): the same, and the webhook is clean', () => {
    const ms = manifests(readFileSync(production, 'utf8'));
    assert.deepEqual(ms.map((m) => `${m.kind}/${m.metadata.name}`).sort(), [
      'DaemonSet/bulwark-agent',
      'Deployment/bulwark-admission',
      'Deployment/bulwark-server',
      'PodDisruptionBudget/bulwark-server',
      'Service/bulwark-admission',
      'Service/bulwark-server',
      'ServiceAccount/bulwark-admission',
      'ServiceAccount/bulwark-agent',
      'ServiceAccount/bulwark-server',
      'ValidatingWebhookConfiguration/bulwark-admission',
    ]);
    const got = keyed(findings(production));
    assert.deepEqual(got, [...AGENT_NEEDS].sort(), 'secrets are files (NAME_FILE), never environment values');
    // no Secret is read into an environment value anywhere
    assert.ok(!readFileSync(production, 'utf8').includes('secretKeyRef'));
  });

  it('pss-restricted: every failed control is the agent DaemonSet’s; the console and the webhook pass all 15', () => {
    for (const file of [defaults, production]) {
      const r = scanConfig(file, ['--compliance', 'pss-restricted']) as {
        summary: { total: number; pass: number; fail: number };
        controls: { id: string; status: string; failures: Finding[] }[];
      };
      assert.equal(r.summary.total, 15);
      const failed = r.controls.filter((c) => c.status === 'fail');
      assert.deepEqual(
        failed.map((c) => c.id).sort(),
        [
          'Capabilities',
          'Host Namespaces',
          'HostPath Volumes',
          'Running as Non-root',
          'Running as Non-root user',
          'Volume Types',
        ],
        file,
      );
      for (const c of failed)
        for (const f of c.failures)
          assert.equal(`${f.resource.kind}/${f.resource.name}`, 'DaemonSet/bulwark-agent');
    }
  });

  it('production values: replicas share the key Secret and PostgreSQL, NATS and TLS are wired', () => {
    const ms = manifests(readFileSync(production, 'utf8'));
    const server = ms.find((m) => m.kind === 'Deployment' && m.metadata.name === 'bulwark-server')!;
    assert.equal(server.spec!.replicas, 3);
    const pod = (server.spec!.template as { spec: Record<string, unknown> }).spec;
    const c = (pod.containers as Record<string, unknown>[])[0]!;
    // each secret a file (NAME_FILE) from its Secret volume
    const env = Object.fromEntries(
      (c.env as { name: string; value: string }[]).map((e) => [e.name, e.value]),
    );
    assert.deepEqual(env, {
      BULWARK_SECRET_KEY_FILE: '/etc/bulwark/secrets/secret-key/secret-key',
      BULWARK_DATABASE_URL_FILE: '/etc/bulwark/secrets/database/url',
      BULWARK_NATS_AUTH_FILE: '/etc/bulwark/secrets/nats/auth',
      BULWARK_ADMIN_PASSWORD_FILE: '/etc/bulwark/secrets/admin-password/password',
    });
    const vols = Object.fromEntries(
      (pod.volumes as { name: string; secret?: { secretName: string } }[])
        .filter((v) => v.secret)
        .map((v) => [v.name, v.secret!.secretName]),
    );
    for (const [name, secret] of [
      ['secret-key', 'bulwark-secret-key'],
      ['database', 'bulwark-postgres'],
      ['nats-auth', 'bulwark-nats'],
      ['admin-password', 'bulwark-admin'],
    ])
      assert.equal(vols[name], secret, `volume ${name}`);
    const args = (c.args as string[]).join(' ');
    assert.match(args, /--tls-cert \/etc\/bulwark\/tls\/tls\.crt --tls-key \/etc\/bulwark\/tls\/tls\.key/);
    assert.match(args, /--nats nats:\/\/nats\.nats\.svc:4222/);
    assert.match(args, /--trust-proxy 10\.0\.0\.0\/8/);
    assert.equal((c.readinessProbe as { httpGet: { scheme: string } }).httpGet.scheme, 'HTTPS');
    assert.equal(c.image, `registry.example.com/security/bulwark:0.1.0@${DIGEST}`);
    // no chart-made Secret holds a credential: every one is an existingSecret
    assert.equal(ms.filter((m) => m.kind === 'Secret').length, 0);
    const agent = ms.find((m) => m.kind === 'DaemonSet')!;
    const a = (agent.spec!.template as { spec: { containers: { args: string[] }[] } }).spec.containers[0]!
      .args;
    assert.deepEqual(a.slice(0, 9), [
      'agent',
      '--rules',
      '/etc/falco',
      '--cluster',
      'prod-eu-1',
      '--hostname',
      '$(NODE_NAME)',
      '--nats',
      'nats://nats.nats.svc:4222',
    ]);
    const hook = ms.find((m) => m.kind === 'ValidatingWebhookConfiguration')!;
    const w = (hook.webhooks as { clientConfig: { caBundle: string }; failurePolicy: string }[])[0]!;
    assert.equal(w.clientConfig.caBundle, caBundle);
    assert.equal(w.failurePolicy, 'Fail');
  });

  it('agent.benchmarks: the CIS node benchmark on a schedule, with the node files read-only under /host', () => {
    const ms = manifests(
      renderChart([
        '--namespace',
        'bulwark',
        '--set',
        'agent.benchmarks.enabled=true,agent.benchmarks.interval=6h',
      ]),
    );
    const ds = ms.find((m) => m.kind === 'DaemonSet')!;
    const pod = (ds.spec!.template as { spec: Record<string, unknown> }).spec;
    const c = (
      pod.containers as {
        args: string[];
        volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
      }[]
    )[0]!;
    const at = c.args.indexOf('--benchmark');
    assert.deepEqual(c.args.slice(at, at + 6), [
      '--benchmark',
      'k8s-node',
      '--benchmark-interval',
      '6h',
      '--root',
      '/host',
    ]);
    const mounts = c.volumeMounts.filter((m) => m.name.startsWith('bench-'));
    assert.deepEqual(
      mounts.map((m) => [m.mountPath, m.readOnly]),
      [
        '/etc/kubernetes',
        '/var/lib/kubelet',
        '/etc/systemd',
        '/lib/systemd',
        '/etc/cni/net.d',
        '/opt/cni/bin',
      ].map((p) => [`/host${p}`, true]),
    );
    const vols = (pod.volumes as { name: string; hostPath?: { path: string } }[]).filter((v) =>
      v.name.startsWith('bench-'),
    );
    assert.deepEqual(
      vols.map((v) => v.hostPath?.path),
      mounts.map((m) => m.mountPath.slice('/host'.length)),
    );
    // the agent takes these options (its --help names them)
    const help = execFileSync(process.execPath, [join(repoRoot, 'bin', 'bulwark'), 'agent', '--help'], {
      encoding: 'utf8',
    });
    for (const o of ['--benchmark ', '--benchmark-interval', '--root'])
      assert.ok(help.includes(o), `agent --help lists ${o}`);
    // off by default: nothing mounted
    const def = manifests(renderChart(['--namespace', 'bulwark'])).find((m) => m.kind === 'DaemonSet')!;
    assert.ok(!JSON.stringify(def).includes('--benchmark'));
  });

  it('refuses configurations that cannot work, with the reason', () => {
    assert.match(renderError(['--set', 'server.replicas=3']), /server\.replicas > 1 needs PostgreSQL/);
    assert.match(renderError(['--set', 'server.tls.enabled=true']), /needs server\.tls\.secretName/);
    assert.match(renderError(['--set', 'admission.enabled=true']), /needs admission\.tls\.secretName/);
    assert.equal(renderError(['--set', 'server.replicas=3,server.database.existingSecret=pg']), '');
  });

  it('values overrides follow Helm’s rules: --set over -f over values.yaml, null deletes', () => {
    const f = join(tmp, 'over.yaml');
    writeFileSync(f, 'server:\n  service:\n    type: NodePort\n    port: 9000\nagent:\n  enabled: false\n');
    const ms = manifests(
      renderChart(['-f', f, '--set', 'server.service.port=9443,server.resources.limits=null']),
    );
    assert.equal(
      ms.some((m) => m.kind === 'DaemonSet'),
      false,
    );
    const svc = ms.find((m) => m.kind === 'Service')!;
    assert.equal((svc.spec as { type: string }).type, 'NodePort');
    assert.equal((svc.spec as { ports: { port: number }[] }).ports[0]!.port, 9443);
    const dep = ms.find((m) => m.kind === 'Deployment')!;
    const c = (dep.spec!.template as { spec: { containers: { resources: Record<string, unknown> }[] } }).spec
      .containers[0]!;
    assert.deepEqual(Object.keys(c.resources), ['requests']);
    // a NodePort Service is what scan config then flags
    const file = join(tmp, 'over-rendered.yaml');
    writeFileSync(file, renderChart(['-f', f, '--namespace', 'bulwark']));
    assert.ok(keyed(findings(file)).some((k) => k.startsWith('Service/bulwark-server BW-K8S-040')));
  });
});
