/**
 * Protect mode over IPv6 on real network namespaces: four dual-stack pods (fd77::/64 on the
 * test's bridge, no DAD), policies with an IPv6 ipBlock + except and an egress namespaceSelector
 * limited to UDP, translated to ip6tables rules in each pod namespace; every pair and port probed
 * over IPv6 equals what `netpol eval` lists. Skipped without root or the tools.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import {
  addWorkloadsFile,
  completeNamespaces,
  iptablesRules,
  loadManifests,
} from '../../src/network/index.js';
import { Harness, harnessUnavailable, type PodSpec, type Probe } from './harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'bulwark-netns6-'));
const harness = new Harness();
after(async () => {
  await harness.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

const PODS: PodSpec[] = [
  {
    namespace: 'shop',
    name: 'web',
    kind: 'Deployment',
    labels: { app: 'web' },
    ports: [{ port: 8080, protocol: 'TCP' }],
  },
  {
    namespace: 'shop',
    name: 'api',
    kind: 'Deployment',
    labels: { app: 'api' },
    ports: [{ port: 9000, protocol: 'TCP' }],
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
];

const skip =
  harnessUnavailable() ??
  (spawnSync('sh', ['-c', 'command -v ip6tables-restore']).status !== 0
    ? 'ip6tables-restore is not installed'
    : undefined);

test(
  'netns harness over IPv6: ip6tables protect mode equals netpol eval',
  { skip, timeout: 120_000 },
  async () => {
    await harness.setup(PODS, { ipv6: true });
    const pod = (n: string) => harness.pods.find((p) => p.name === n)!;
    const policies = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-v6, namespace: data}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{ipBlock: {cidr: "fd77::/64", except: ["${pod('web').ip6}/128"]}}]
      ports: [{port: pg}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-out, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Egress]
  egress:
    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: data}}}]
      ports: [{protocol: UDP}]
`;
    writeFileSync(join(tmp, 'policies.yaml'), policies);
    const wl = join(tmp, 'workloads.json');
    writeFileSync(
      wl,
      JSON.stringify({
        workloads: harness.pods.map((p) => ({
          namespace: p.namespace,
          name: p.name,
          kind: p.kind,
          labels: p.labels,
          ips: [p.ip6],
          ports: p.ports,
        })),
      }),
    );
    const cluster = loadManifests([join(tmp, 'policies.yaml')]);
    addWorkloadsFile(cluster, wl);
    completeNamespaces(cluster);
    for (const p of harness.pods) {
      const w = cluster.workloads.find((x) => x.namespace === p.namespace && x.name === p.name)!;
      const rules = iptablesRules(cluster, w, { family: 6 });
      harness.applyIptables(p, rules, 6);
    }
    const out = join(tmp, 'eval.txt');
    const r = await main([
      'node',
      'bulwark',
      '-q',
      'netpol',
      'eval',
      join(tmp, 'policies.yaml'),
      '--workloads',
      wl,
      '-o',
      out,
    ]);
    assert.equal(r, 0);
    const evaluated = readFileSync(out, 'utf8').trim().split('\n');
    const all: Probe[] = harness.pods.flatMap((src) =>
      harness.pods
        .filter((d) => d !== src)
        .flatMap((dst) => dst.ports.map((p) => ({ src, dst, protocol: p.protocol, port: p.port, v6: true }))),
    );
    const res = await harness.probe(all, 1000);
    const line = (p: Probe) =>
      `${p.src.namespace}/${p.src.name}[${p.src.kind}] => ${p.dst.namespace}/${p.dst.name}[${p.dst.kind}] : ${p.protocol} ${p.port}`;
    const reachable = all
      .filter((_, i) => res[i])
      .map(line)
      .sort();
    assert.deepEqual(reachable, evaluated);
    assert.ok(!reachable.includes('shop/web[Deployment] => data/db[StatefulSet] : TCP 5432'), 'except');
    assert.ok(
      reachable.includes('data/cache[Deployment] => data/db[StatefulSet] : TCP 5432'),
      'in the block',
    );
    assert.ok(reachable.includes('shop/api[Deployment] => data/cache[Deployment] : UDP 6380'), 'UDP egress');
    assert.ok(
      !reachable.includes('shop/api[Deployment] => data/cache[Deployment] : TCP 6379'),
      'TCP egress blocked',
    );
    await harness.cleanup();
    assert.deepEqual(harness.leftovers(), []);
  },
);
