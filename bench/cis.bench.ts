/**
 * CIS benchmarks: evaluating every check over a fake root, against collecting its facts.
 *
 * The fake root is a configured Kubernetes worker node and Docker host (kubelet and kube-proxy in
 * <root>/proc, kubelet config, kubeconfigs, CA, systemd units, /etc/docker with daemon.json, TLS
 * files, registry certificates, auditd rules, passwd/group), built once in a temp dir.
 * Baseline: collectFacts (variables resolved, every audit source read: stat, /proc, files).
 * Measured: evaluateBenchmark over those facts (cold caches each run), for cis-1.9 (node) and
 * CIS Docker 1.6.0 with BENCH_CIS_CONTAINERS (default 200) synthetic containers' inspect facts.
 * Prints both times and the ratio evaluate/collect. Best of BENCH_CIS_RUNS (default 20) after a
 * warm-up; one core.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  clearEvaluatorCaches,
  collectFacts,
  deriveContainerFacts,
  evaluateBenchmark,
  loadBuiltinBenchmark,
  type Facts,
} from '../src/cis/index.js';

const RUNS = Number(process.env.BENCH_CIS_RUNS ?? 20);
const CONTAINERS = Number(process.env.BENCH_CIS_CONTAINERS ?? 200);
const root = mkdtempSync(join(tmpdir(), 'bw-cis-bench-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

function put(p: string, content: string, mode = 0o600): void {
  mkdirSync(dirname(join(root, p)), { recursive: true });
  writeFileSync(join(root, p), content);
  chmodSync(join(root, p), mode);
}
put('/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n', 0o644);
put('/etc/group', 'root:x:0:\ndocker:x:999:\n', 0o644);
put(
  '/var/lib/kubelet/config.yaml',
  `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication: {anonymous: {enabled: false}, webhook: {enabled: true}, x509: {clientCAFile: /etc/kubernetes/pki/ca.crt}}
authorization: {mode: Webhook}
readOnlyPort: 0
makeIPTablesUtilChains: true
rotateCertificates: true
tlsCipherSuites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]
`,
);
put('/etc/systemd/system/kubelet.service.d/10-kubeadm.conf', '[Service]\n');
put('/etc/kubernetes/kubelet.conf', 'apiVersion: v1\n');
put('/etc/kubernetes/pki/ca.crt', 'x');
put('/var/lib/kube-proxy/kubeconfig.conf', 'apiVersion: v1\n');
put(
  '/proc/100/cmdline',
  [
    '/usr/bin/kubelet',
    '--config=/var/lib/kubelet/config.yaml',
    '--kubeconfig=/etc/kubernetes/kubelet.conf',
  ].join('\0'),
);
put(
  '/proc/101/cmdline',
  ['/usr/bin/kube-proxy', '--kubeconfig=/var/lib/kube-proxy/kubeconfig.conf'].join('\0'),
);
put('/proc/102/cmdline', ['/usr/bin/dockerd', '-H', 'fd://', '--icc=false'].join('\0'));
put('/lib/systemd/system/docker.service', '[Service]\n', 0o644);
put('/lib/systemd/system/docker.socket', '[Socket]\n', 0o644);
put(
  '/etc/docker/daemon.json',
  JSON.stringify({ 'log-level': 'info', tlscacert: '/etc/docker/ca.pem', 'live-restore': true }),
  0o644,
);
put('/etc/docker/ca.pem', 'x', 0o444);
for (let i = 0; i < 20; i++) put(`/etc/docker/certs.d/reg${i}:5000/ca.crt`, 'x', 0o444);
put(
  '/etc/audit/rules.d/docker.rules',
  ['/usr/bin/dockerd', '/var/lib/docker', '/etc/docker', '/usr/bin/runc']
    .map((p) => `-w ${p} -k docker`)
    .join('\n'),
  0o640,
);
put('/proc/mounts', '/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /var/lib/docker ext4 rw 0 0\n', 0o444);

function best<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  return (async () => {
    let value = await fn();
    let min = Infinity;
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      value = await fn();
      min = Math.min(min, performance.now() - t);
    }
    return { ms: min, value };
  })();
}

function syntheticContainers(n: number): Facts['containers'] {
  const out: Facts['containers'] = [];
  for (let i = 0; i < n; i++) {
    const inspect: Record<string, unknown> = {
      Id: `c${i}`,
      Name: `/app-${i}`,
      AppArmorProfile: i % 3 ? 'docker-default' : '',
      Config: { User: i % 2 ? '1000' : '' },
      State: { Status: 'running', ...(i % 4 ? { Health: { Status: 'healthy' } } : {}) },
      HostConfig: {
        Privileged: i % 17 === 0,
        NetworkMode: i % 5 ? 'bridge' : 'host',
        Memory: i % 2 ? 67108864 : 0,
        CpuShares: 512,
        NanoCpus: 0,
        ReadonlyRootfs: i % 2 === 1,
        PidMode: '',
        IpcMode: 'private',
        UTSMode: '',
        CapAdd: i % 7 ? null : ['SYS_ADMIN'],
        SecurityOpt: i % 3 ? ['no-new-privileges'] : null,
        PidsLimit: i % 2 ? 100 : null,
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: i % 10 },
        Ulimits: [],
        Devices: [],
        CgroupParent: '',
        UsernsMode: '',
      },
      Mounts:
        i % 9
          ? []
          : [{ Type: 'bind', Source: '/etc', Destination: '/host-etc', RW: true, Propagation: 'rprivate' }],
      NetworkSettings: {
        Ports: i % 2 ? { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(8000 + i) }] } : {},
      },
    };
    inspect.Bulwark = deriveContainerFacts(inspect, { processes: [['root', '1', 'sleep 600']] });
    out.push({ id: `c${i}`, name: `app-${i}`, outputs: { container: JSON.stringify(inspect) } });
  }
  return out;
}

const node = loadBuiltinBenchmark('k8s-node', 'cis-1.9');
const docker = loadBuiltinBenchmark('docker');
const checks = (b: typeof node) => b.groups.reduce((n, g) => n + g.checks.length, 0);

for (const [name, bench, extra] of [
  ['k8s-node cis-1.9', node, 0],
  [`docker 1.6.0 (+${CONTAINERS} containers)`, docker, CONTAINERS],
] as const) {
  const collect = await best(() =>
    collectFacts(bench, { root, dockerHost: `unix://${join(root, 'none.sock')}` }),
  );
  const facts = collect.value;
  if (extra) {
    facts.containers = syntheticContainers(extra);
    delete facts.host.errors?.container;
  }
  const evaluate = await best(() => {
    clearEvaluatorCaches();
    return evaluateBenchmark(bench, facts);
  });
  const t = evaluate.value.totals;
  console.log(
    `${name}: ${checks(bench)} checks, ${Object.keys(facts.host.outputs).length} host audit sources`,
  );
  console.log(`  baseline (collect facts from the fake root): ${collect.ms.toFixed(2)} ms`);
  console.log(
    `  evaluate all checks: ${evaluate.ms.toFixed(2)} ms (PASS ${t.pass}, FAIL ${t.fail}, WARN ${t.warn}, INFO ${t.info})`,
  );
  console.log(`  ratio evaluate/collect: ${(evaluate.ms / collect.ms).toFixed(2)}`);
}
