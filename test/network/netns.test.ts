/**
 * Discover → generate → monitor → protect on real network namespaces (test/network/harness.ts):
 * seven pods in two namespaces, scripted connections observed with conntrack, `netpol flows`
 * recovers every scripted edge with the right pod identities and nothing else, `netpol generate`
 * writes the policies, monitor mode blocks nothing and alerts once per unlearned connection, then
 * the policies are applied as iptables rules inside each pod namespace and every pair and port is
 * probed: learned ones stay reachable, all others are blocked, and `netpol eval` on the generated
 * policies lists exactly the reachable set. Skipped without root or the tools.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import {
  addWorkloadsFile,
  completeNamespaces,
  iptablesRules,
  loadManifests,
} from '../../src/network/index.js';
import { Harness, harnessUnavailable, type Pod, type PodSpec, type Probe } from './harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'bulwark-netns-test-'));
const harness = new Harness();
after(async () => {
  await harness.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const e = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((c: string | Uint8Array) => (
    err.push(String(c)),
    true
  )) as typeof process.stderr.write;
  try {
    return { code: await main(['node', 'bulwark', '-q', ...args]), err: err.join('') };
  } finally {
    process.stderr.write = e;
  }
}

const PODS: PodSpec[] = [
  {
    namespace: 'shop',
    name: 'web',
    kind: 'Deployment',
    labels: { app: 'web' },
    ports: [{ port: 8080, protocol: 'TCP', name: 'http' }],
  },
  {
    namespace: 'shop',
    name: 'api',
    kind: 'Deployment',
    labels: { app: 'api', tier: 'backend' },
    ports: [
      { port: 9000, protocol: 'TCP', name: 'api' },
      { port: 9001, protocol: 'UDP' },
    ],
  },
  {
    namespace: 'shop',
    name: 'worker',
    kind: 'StatefulSet',
    labels: { app: 'worker', tier: 'backend' },
    ports: [{ port: 8081, protocol: 'TCP' }],
  },
  {
    namespace: 'data',
    name: 'db',
    kind: 'StatefulSet',
    labels: { app: 'db' },
    ports: [{ port: 5432, protocol: 'TCP', name: 'pg' }],
  },
  {
    namespace: 'data',
    name: 'cache',
    kind: 'Deployment',
    labels: { app: 'cache' },
    ports: [
      { port: 6379, protocol: 'TCP' },
      { port: 6380, protocol: 'UDP' },
    ],
  },
  {
    namespace: 'data',
    name: 'queue',
    kind: 'Deployment',
    labels: { app: 'queue' },
    ports: [{ port: 5672, protocol: 'TCP' }],
  },
  {
    namespace: 'data',
    name: 'metrics',
    kind: 'DaemonSet',
    labels: { app: 'metrics' },
    ports: [
      { port: 8125, protocol: 'UDP' },
      { port: 9100, protocol: 'TCP' },
    ],
  },
];

/** The scripted (learned) connections: source, destination, protocol, port. */
const SCRIPT: [string, string, 'TCP' | 'UDP', number][] = [
  ['web', 'api', 'TCP', 9000],
  ['web', 'api', 'UDP', 9001],
  ['api', 'db', 'TCP', 5432],
  ['api', 'cache', 'TCP', 6379],
  ['api', 'cache', 'UDP', 6380],
  ['api', 'queue', 'TCP', 5672],
  ['worker', 'queue', 'TCP', 5672],
  ['worker', 'db', 'TCP', 5432],
  ['web', 'metrics', 'UDP', 8125],
  ['api', 'metrics', 'UDP', 8125],
  ['metrics', 'web', 'TCP', 8080],
];

const id = (p: Pod) => `${p.namespace}/${p.name}[${p.kind}]`;
const line = (p: Probe) => `${id(p.src)} => ${id(p.dst)} : ${p.protocol} ${p.port}`;

const skip = harnessUnavailable();

test(
  'netns harness: discover with conntrack, generate, protect with iptables, probe all pairs and ports',
  { skip, timeout: 180_000 },
  async () => {
    await harness.setup(PODS);
    assert.equal(harness.pods.length, 7);
    const pod = (n: string) => harness.pods.find((p) => p.name === n)!;
    const script: Probe[] = SCRIPT.map(([s, d, protocol, port]) => ({
      src: pod(s),
      dst: pod(d),
      protocol,
      port,
    }));
    const all: Probe[] = harness.pods.flatMap((src) =>
      harness.pods
        .filter((d) => d !== src)
        .flatMap((dst) => dst.ports.map((p) => ({ src, dst, protocol: p.protocol, port: p.port }))),
    );
    const learned = new Set(script.map(line));

    // the inventory: netns and IPs to pods, where no kubelet says who is who
    const wl = join(tmp, 'workloads.json');
    writeFileSync(wl, JSON.stringify(harness.inventory()));

    // discover: scripted connections (twice each) observed by conntrack in every pod namespace
    await harness.startConntrack();
    const first = await harness.probe([...script, ...script]);
    assert.ok(first.every(Boolean), 'every scripted connection succeeds before any policy');
    const ct = await harness.stopConntrack();
    assert.ok(
      ct.some((l) => l.includes('[NEW]')),
      'conntrack reported events',
    );
    const flowsFile = join(tmp, 'conntrack.txt');
    writeFileSync(flowsFile, ct.join('\n') + '\n');

    // edges: recall and precision 100% with the right pod identities
    const edges = join(tmp, 'edges.txt');
    const f = await cli('netpol', 'flows', '--flows', flowsFile, '--workloads', wl, '-o', edges);
    assert.equal(f.code, 0, f.err);
    const seen = readFileSync(edges, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.replace(/ {2}count=\d+.*$/, ''));
    const missing = [...learned].filter((l) => !seen.includes(l));
    const extra = seen.filter((l) => !learned.has(l));
    assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, 'edge recall and precision');
    // each scripted connection ran twice; conntrack saw each in both namespaces: counted once per connection
    const counts = readFileSync(edges, 'utf8')
      .trim()
      .split('\n')
      .map((l) => Number(/count=(\d+)/.exec(l)?.[1]));
    assert.deepEqual(counts, new Array(SCRIPT.length).fill(2));

    // generate, then eval over the generated policies: exactly the learned set
    const dir = join(tmp, 'policies');
    const g = await cli('netpol', 'generate', '--flows', flowsFile, '--workloads', wl, '-o', dir);
    assert.equal(g.code, 0, g.err);
    const evalOut = join(tmp, 'eval.txt');
    assert.equal((await cli('netpol', 'eval', dir, '--workloads', wl, '-o', evalOut)).code, 0);
    const evaluated = readFileSync(evalOut, 'utf8').trim().split('\n');
    assert.deepEqual(evaluated, [...learned].sort());

    // monitor: the policies as monitor-mode rules (outside them: NFLOG and accept); every pair and
    // port probed (unlearned ones twice) answers, and each unlearned connection is alerted exactly once
    const cluster = loadManifests([dir]);
    addWorkloadsFile(cluster, wl);
    completeNamespaces(cluster);
    const wlOf = (p: Pod) => cluster.workloads.find((x) => x.namespace === p.namespace && x.name === p.name)!;
    for (const p of harness.pods)
      harness.applyIptables(p, iptablesRules(cluster, wlOf(p), { mode: 'monitor' }));
    await harness.startConntrack();
    const unlearned = all.filter((p) => !learned.has(line(p)));
    const open = await harness.probe([...all, ...unlearned]);
    const monitored = await harness.stopConntrack();
    assert.deepEqual(
      [...all, ...unlearned].filter((_, i) => !open[i]).map(line),
      [],
      'monitor mode blocks nothing',
    );
    const monFlows = join(tmp, 'monitor-conntrack.txt');
    writeFileSync(monFlows, monitored.join('\n') + '\n');
    const alertsFile = join(tmp, 'alerts.json');
    const m = await cli('netpol', 'monitor', dir, '--workloads', wl, '--flows', monFlows, '-o', alertsFile);
    assert.equal(m.code, 0, m.err);
    const alerts = readFileSync(alertsFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { connection: string; deniedBy: string[] });
    assert.deepEqual(
      alerts.map((a) => a.connection).sort(),
      unlearned.map(line).sort(),
      'one alert per unlearned connection',
    );
    assert.ok(alerts.every((a) => a.deniedBy.length > 0));
    // the kernel's view: the monitor NFLOG rules counted one new connection per unlearned attempt,
    // on the server's ingress and on the client's egress (98 = 49 unlearned x 2 attempts)
    const counted = (prefix: string) =>
      harness.pods
        .map((p) => harness.iptablesSave(p, true))
        .flatMap((t) => t.split('\n').filter((l) => l.includes(`--nflog-prefix ${prefix}`)))
        .reduce((n, l) => n + Number(/^\[(\d+):/.exec(l)?.[1] ?? NaN), 0);
    assert.equal(counted('bwk-ingress'), 2 * unlearned.length);
    assert.equal(counted('bwk-egress'), 2 * unlearned.length);

    // protect: each pod's policies as iptables rules inside its own namespace
    for (const p of harness.pods) harness.applyIptables(p, iptablesRules(cluster, wlOf(p)));
    assert.match(harness.iptablesSave(pod('db')), /BWK-INGRESS/);

    const res = await harness.probe(all, 1000);
    const reachable = all
      .filter((_, i) => res[i])
      .map(line)
      .sort();
    const blockedLearned = [...learned].filter((l) => !reachable.includes(l));
    const openUnlearned = reachable.filter((l) => !learned.has(l));
    assert.deepEqual({ blockedLearned, openUnlearned }, { blockedLearned: [], openUnlearned: [] });
    assert.equal(all.length - reachable.length, all.length - learned.size); // every unlearned pair/port blocked
    assert.deepEqual(reachable, evaluated, 'netpol eval agrees with the probes');
  },
);

test(
  'netns harness: hand-written policies (AND/OR peers, named port, ipBlock except, endPort, protocol-only) — eval agrees with the probes',
  { skip, timeout: 120_000 },
  async () => {
    if (!harness.pods.length) await harness.setup(PODS);
    const pod = (n: string) => harness.pods.find((p) => p.name === n)!;
    const np = (ns: string, name: string, spec: string) =>
      `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n${spec}`;
    const policies = [
      np('data', 'deny-in', '  podSelector: {}\n  policyTypes: [Ingress]'),
      np(
        'data',
        'db-from-backend',
        '  podSelector: {matchLabels: {app: db}}\n  ingress:\n    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}, podSelector: {matchLabels: {tier: backend}}}]\n      ports: [{port: pg}]',
      ),
      np(
        'data',
        'cache-udp',
        `  podSelector: {matchLabels: {app: cache}}\n  ingress:\n    - from: [{ipBlock: {cidr: 10.77.0.0/24, except: [${pod('web').ip}/32]}}]\n      ports: [{protocol: UDP}]`,
      ),
      np(
        'shop',
        'worker-out',
        '  podSelector: {matchLabels: {app: worker}}\n  policyTypes: [Egress]\n  egress:\n    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: data}}}]\n      ports: [{port: 5000, endPort: 5999}]',
      ),
      np(
        'data',
        'metrics-in',
        '  podSelector: {matchLabels: {app: metrics}}\n  ingress:\n    - from: [{podSelector: {matchLabels: {app: queue}}}, {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}}]',
      ),
    ];
    const dir = join(tmp, 'hand');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'policies.yaml'), policies.join('\n---\n'));
    const wl = join(tmp, 'hand-workloads.json');
    writeFileSync(
      wl,
      JSON.stringify({
        workloads: harness.pods.map((p) => ({
          namespace: p.namespace,
          name: p.name,
          kind: p.kind,
          labels: p.labels,
          ips: [p.ip],
          ports: p.ports,
        })),
      }),
    );
    const cluster = loadManifests([dir]);
    addWorkloadsFile(cluster, wl);
    completeNamespaces(cluster);
    for (const p of harness.pods)
      harness.applyIptables(
        p,
        iptablesRules(
          cluster,
          cluster.workloads.find((x) => x.namespace === p.namespace && x.name === p.name)!,
        ),
      );
    const evalOut = join(tmp, 'hand-eval.txt');
    assert.equal((await cli('netpol', 'eval', dir, '--workloads', wl, '-o', evalOut)).code, 0);
    const evaluated = readFileSync(evalOut, 'utf8').trim().split('\n');
    const all: Probe[] = harness.pods.flatMap((src) =>
      harness.pods
        .filter((d) => d !== src)
        .flatMap((dst) => dst.ports.map((p) => ({ src, dst, protocol: p.protocol, port: p.port }))),
    );
    const res = await harness.probe(all, 1000);
    const reachable = all
      .filter((_, i) => res[i])
      .map(line)
      .sort();
    assert.deepEqual(reachable, evaluated, 'netpol eval agrees with the probes');
    // the policies matter: some pairs are blocked, some open, and the expected ones are
    assert.ok(
      reachable.length > 10 && reachable.length < all.length - 10,
      `${reachable.length} of ${all.length}`,
    );
    for (const l of [
      'shop/api[Deployment] => data/db[StatefulSet] : TCP 5432', // backend in shop AND named port
      'shop/worker[StatefulSet] => data/db[StatefulSet] : TCP 5432', // worker egress range 5000-5999
      'shop/api[Deployment] => data/cache[Deployment] : UDP 6380', // ipBlock, UDP only
      'data/queue[Deployment] => data/metrics[DaemonSet] : UDP 8125', // OR: same-namespace pod
      'shop/web[Deployment] => data/metrics[DaemonSet] : TCP 9100', // OR: namespace shop
    ])
      assert.ok(reachable.includes(l), l);
    for (const l of [
      'shop/web[Deployment] => data/db[StatefulSet] : TCP 5432', // not backend
      'data/queue[Deployment] => data/db[StatefulSet] : TCP 5432', // right port, wrong namespace
      'shop/web[Deployment] => data/cache[Deployment] : UDP 6380', // except
      'shop/api[Deployment] => data/cache[Deployment] : TCP 6379', // protocol
      'shop/worker[StatefulSet] => shop/web[Deployment] : TCP 8080', // worker egress only to data
      'shop/worker[StatefulSet] => data/metrics[DaemonSet] : TCP 9100', // outside the range
      'data/cache[Deployment] => data/metrics[DaemonSet] : UDP 8125', // neither peer
    ])
      assert.ok(!reachable.includes(l), l);
  },
);

test('netns harness: cleanup leaves no namespace behind', { skip }, async () => {
  await harness.cleanup();
  assert.deepEqual(harness.leftovers(), []);
});

test('netns harness: a set-up that fails half-way is cleaned up', { skip }, async () => {
  const h = new Harness();
  const spec = PODS[0]!;
  // the second pod's namespace name collides with the first: `ip netns add` fails there
  await assert.rejects(h.setup([spec, spec]), /ip netns add/);
  assert.ok(h.leftovers().length > 0, 'the first namespaces exist before cleanup');
  await h.cleanup();
  assert.deepEqual(h.leftovers(), []);
});
