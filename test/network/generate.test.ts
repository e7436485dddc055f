/**
 * Flow import (Hubble JSON lines, conntrack lines) and policy generation. The property test
 * builds random topologies (namespaces, Deployments/StatefulSets/DaemonSets/bare Pods with
 * labels and ports, kube-dns, external addresses), random observed flows as Hubble JSON lines
 * (with replies), some workloads canaries of others (a superset of their labels), runs
 * `netpol generate` through the CLI with the workload inventory and checks that `netpol eval` over the
 * topology and the generated policies allows exactly the observed (pair, port, protocol) set.
 * The Hubble lines follow the format of `hubble observe -o json` (observer.Flow as JSON); no
 * Cilium runs here, so they are written by the test.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { main } from '../../src/cli/main.js';
import {
  aggregate,
  attribute,
  connectionLine,
  evaluate,
  flowLine,
  fromConntrack,
  loadManifests,
  parseFlows,
  parseInventory,
} from '../../src/network/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'bulwark-netpol-gen-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let runs = 0;
async function cli(...args: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const e = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((c: string | Uint8Array) => (
    err.push(String(c)),
    true
  )) as typeof process.stderr.write;
  try {
    return { code: await main(['node', 'bulwark', ...args]), err: err.join('') };
  } finally {
    process.stderr.write = e;
    runs++;
  }
}

/** mulberry32: a small seeded PRNG, so a failing topology can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface W {
  ns: string;
  name: string;
  kind: string;
  labels: Record<string, string>;
  ports: { port: number; protocol: 'TCP' | 'UDP' }[];
  ip: string;
}

function hubbleEndpoint(w: W | { ip: string; names?: string[] }) {
  if (!('ns' in w)) return { ID: 0, identity: 2, labels: ['reserved:world'] };
  return {
    ID: 100,
    identity: 4000,
    namespace: w.ns,
    labels: [
      ...Object.entries(w.labels).map(([k, v]) => `k8s:${k}=${v}`),
      `k8s:io.kubernetes.pod.namespace=${w.ns}`,
      'k8s:io.cilium.k8s.policy.serviceaccount=default',
      ...(w.kind === 'Deployment' ? ['k8s:pod-template-hash=5d4c9b7f8'] : []),
    ],
    pod_name: w.kind === 'Pod' ? w.name : `${w.name}-5d4c9b7f8-x1y2z`,
    ...(w.kind === 'Pod' ? {} : { workloads: [{ name: w.name, kind: w.kind }] }),
  };
}

function hubbleLine(
  src: W | { ip: string },
  dst: W | { ip: string; names?: string[] },
  protocol: 'TCP' | 'UDP',
  port: number,
  reply = false,
): string {
  const [a, b] = reply ? [dst, src] : [src, dst];
  const sp = 40000 + Math.floor(port % 997);
  const flow = {
    time: '2026-12-03T10:00:00.000000000Z',
    uuid: '0598f6e1-4542-494c-a061-711065e865dd',
    verdict: 'FORWARDED',
    IP: { source: a.ip, destination: b.ip, ipVersion: 'IPv4' },
    l4: {
      [protocol]: reply
        ? { source_port: port, destination_port: sp }
        : { source_port: sp, destination_port: port },
    },
    source: hubbleEndpoint(a),
    destination: hubbleEndpoint(b),
    Type: 'L3_L4',
    node_name: 'kind-worker',
    ...('names' in b && b.names ? { destination_names: b.names } : {}),
    is_reply: reply,
    traffic_direction: 'EGRESS',
    Summary: 'TCP Flags: SYN',
  };
  return JSON.stringify({ flow, node_name: 'kind-worker', time: flow.time });
}

const KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Pod'];
const PORTS = [80, 443, 5432, 8080, 9000];

function topology(r: () => number) {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const nss = Array.from({ length: 2 + Math.floor(r() * 2) }, (_, i) => `ns${i}`);
  const ws: W[] = [];
  const nw = 3 + Math.floor(r() * 8);
  for (let i = 0; i < nw; i++) {
    const ports = new Map<string, W['ports'][number]>();
    const np = 1 + Math.floor(r() * 3);
    for (let j = 0; j < np; j++) {
      const p = { port: pick(PORTS), protocol: r() < 0.8 ? ('TCP' as const) : ('UDP' as const) };
      ports.set(`${p.protocol}${p.port}`, p);
    }
    // now and then a canary: the labels of an earlier workload of its namespace plus a track label
    const ns = pick(nss);
    const base = r() < 0.25 ? ws.find((w) => w.ns === ns && !w.labels.track) : undefined;
    ws.push({
      ns,
      name: `w${i}`,
      kind: pick(KINDS),
      labels: base
        ? { ...base.labels, track: `canary-${i}` }
        : { app: `w${i}`, tier: pick(['web', 'api', 'db']) },
      ports: [...ports.values()],
      ip: `10.244.${i >> 8}.${(i & 255) + 1}`,
    });
  }
  const withDns = r() < 0.6;
  if (withDns)
    ws.push({
      ns: 'kube-system',
      name: 'coredns',
      kind: 'Deployment',
      labels: { 'k8s-app': 'kube-dns' },
      ports: [
        { port: 53, protocol: 'UDP' },
        { port: 53, protocol: 'TCP' },
      ],
      ip: '10.244.9.10',
    });
  const ext = Array.from({ length: Math.floor(r() * 4) }, (_, i) => ({
    ip: `203.0.113.${i + 10}`,
    ...(r() < 0.5 ? { names: [`api${i}.example.com`] } : {}),
  }));
  const lines: string[] = [];
  const observed = new Set<string>();
  const id = (x: W | { ip: string }) => ('ns' in x ? `${x.ns}/${x.name}[${x.kind}]` : `${x.ip}[External]`);
  const srcs = [...ws, ...ext];
  for (const s of srcs)
    for (const d of ws) {
      if (s === d) continue;
      for (const p of d.ports) {
        if (r() > 0.25) continue;
        const n = 1 + Math.floor(r() * 3);
        for (let k = 0; k < n; k++) lines.push(hubbleLine(s, d, p.protocol, p.port));
        if (r() < 0.5) lines.push(hubbleLine(s, d, p.protocol, p.port, true));
        observed.add(`${id(s)} => ${id(d)} : ${p.protocol} ${p.port}`);
      }
    }
  for (const s of ws)
    for (const d of ext)
      if (r() < 0.4) {
        const port = pick([443, 80, 8443]);
        lines.push(hubbleLine(s, d, 'TCP', port));
        observed.add(`${id(s)} => ${id(d)} : TCP ${port}`);
      }
  if (withDns) {
    const dns = ws[ws.length - 1]!;
    for (const s of ws.slice(0, -1))
      if (r() < 0.7) {
        lines.push(hubbleLine(s, dns, 'UDP', 53));
        observed.add(`${id(s)} => ${id(dns)} : UDP 53`);
      }
  }
  const docs: unknown[] = [...new Set(ws.map((w) => w.ns))].map((n) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: n },
  }));
  for (const w of ws) {
    const spec = {
      containers: [
        {
          name: 'c',
          image: 'img',
          ports: w.ports.map((p) => ({ containerPort: p.port, protocol: p.protocol })),
        },
      ],
    };
    docs.push(
      w.kind === 'Pod'
        ? {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: w.name, namespace: w.ns, labels: w.labels },
            spec,
          }
        : {
            apiVersion: 'apps/v1',
            kind: w.kind,
            metadata: { name: w.name, namespace: w.ns },
            spec: { selector: { matchLabels: w.labels }, template: { metadata: { labels: w.labels }, spec } },
          },
    );
  }
  const inventory = {
    workloads: ws.map((w) => ({
      namespace: w.ns,
      name: w.name,
      kind: w.kind,
      labels: w.labels,
      ips: [w.ip],
      ports: w.ports,
    })),
  };
  return { manifests: docs.map((d) => stringify(d)).join('---\n'), lines, observed, inventory };
}

test('property: eval over the generated policies allows exactly the observed flows (random topologies)', async () => {
  const trials = Number(process.env.BULWARK_NETPOL_TRIALS ?? 40);
  for (let seed = 1; seed <= trials; seed++) {
    const t = topology(rng(seed));
    const dir = join(process.env.BULWARK_NETPOL_KEEP ?? tmp, `prop-${seed}`);
    mkdirSync(join(dir, 'topology'), { recursive: true });
    writeFileSync(join(dir, 'topology', 'apps.yaml'), t.manifests);
    writeFileSync(join(dir, 'flows.json'), t.lines.join('\n') + '\n');
    // the inventory: workloads without flows get deny-all policies, canaries are told apart
    writeFileSync(join(dir, 'workloads.json'), JSON.stringify(t.inventory));
    const g = await cli(
      '-q',
      'netpol',
      'generate',
      '--flows',
      join(dir, 'flows.json'),
      '--workloads',
      join(dir, 'workloads.json'),
      '-o',
      join(dir, 'policies'),
    );
    assert.equal(g.code, 0, `seed ${seed}: ${g.err}`);
    const allowed = evaluate(loadManifests([join(dir, 'topology'), join(dir, 'policies')])).map(
      connectionLine,
    );
    const extra = allowed.filter((l) => !t.observed.has(l));
    const missing = [...t.observed].filter((l) => !allowed.includes(l));
    assert.deepEqual({ extra, missing }, { extra: [], missing: [] }, `seed ${seed}`);
    assert.ok(t.observed.size > 0 || seed > 1);
  }
});

test('generate: one rule per peer and port, namespaceSelector on the name label, DNS kept, externals as /32; -n; --cilium', async () => {
  const web: W = {
    ns: 'shop',
    name: 'web',
    kind: 'Deployment',
    labels: { app: 'web' },
    ports: [{ port: 8080, protocol: 'TCP' }],
    ip: '10.0.0.2',
  };
  const db: W = {
    ns: 'data',
    name: 'db',
    kind: 'StatefulSet',
    labels: { app: 'db' },
    ports: [{ port: 5432, protocol: 'TCP' }],
    ip: '10.0.0.3',
  };
  const dns: W = {
    ns: 'kube-system',
    name: 'coredns',
    kind: 'Deployment',
    labels: { 'k8s-app': 'kube-dns' },
    ports: [{ port: 53, protocol: 'UDP' }],
    ip: '10.0.0.10',
  };
  const stripe = { ip: '198.51.100.7', names: ['api.stripe.com'] };
  const lines = [
    hubbleLine(web, db, 'TCP', 5432),
    hubbleLine(web, db, 'TCP', 5432, true),
    hubbleLine(web, dns, 'UDP', 53),
    hubbleLine(web, stripe, 'TCP', 443),
    hubbleLine({ ip: '192.0.2.44' }, web, 'TCP', 8080),
  ];
  const f = join(tmp, 'small.json');
  writeFileSync(f, lines.join('\n') + '\n');
  const out = join(tmp, 'small-out');
  const r = await cli('-q', 'netpol', 'generate', '--flows', f, '-n', 'shop', '-o', out, '--cilium');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(readdirSync(out).sort(), ['shop.bulwark-web.cilium.yaml', 'shop.bulwark-web.yaml']);
  const np = parse(readFileSync(join(out, 'shop.bulwark-web.yaml'), 'utf8'));
  assert.deepEqual(np.spec.podSelector, { matchLabels: { app: 'web' } }); // pod-template-hash and cilium labels dropped
  assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
  assert.deepEqual(np.spec.ingress, [
    { from: [{ ipBlock: { cidr: '192.0.2.44/32' } }], ports: [{ protocol: 'TCP', port: 8080 }] },
  ]);
  assert.deepEqual(np.spec.egress, [
    { to: [{ ipBlock: { cidr: '198.51.100.7/32' } }], ports: [{ protocol: 'TCP', port: 443 }] },
    {
      to: [
        {
          podSelector: { matchLabels: { app: 'db' } },
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'data' } },
        },
      ],
      ports: [{ protocol: 'TCP', port: 5432 }],
    },
    {
      to: [
        {
          podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        },
      ],
      ports: [{ protocol: 'UDP', port: 53 }],
    },
  ]);
  const cnp = parse(readFileSync(join(out, 'shop.bulwark-web.cilium.yaml'), 'utf8'));
  assert.equal(cnp.apiVersion, 'cilium.io/v2');
  assert.deepEqual(cnp.spec.endpointSelector, { matchLabels: { app: 'web' } });
  assert.deepEqual(cnp.spec.egress[0], {
    toFQDNs: [{ matchName: 'api.stripe.com' }],
    toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }],
  });
  assert.deepEqual(cnp.spec.egress[2].toPorts[0].rules, { dns: [{ matchPattern: '*' }] });
  assert.deepEqual(cnp.spec.ingress[0].fromCIDR, ['192.0.2.44/32']);
});

test('Hubble import: wrapped and bare flows, replies turned around, non-flow events skipped, L7 DNS kept', () => {
  const text = [
    '{"flow":{"time":"2023-08-21T12:12:18.510175415Z","verdict":"DROPPED","IP":{"source":"10.244.1.60","destination":"10.244.1.5","ipVersion":"IPv4"},"l4":{"TCP":{"source_port":44916,"destination_port":80,"flags":{"SYN":true}}},"source":{"namespace":"default","pod_name":"xwing"},"destination":{"namespace":"default","pod_name":"deathstar-7848d6c4d5-th9v2"},"node_name":"kind-kind/kind-worker","drop_reason_desc":"POLICY_DENIED"},"node_name":"kind-kind/kind-worker","time":"2023-08-21T12:12:18.510175415Z"}',
    '{"agent_event":{},"node_name":"my-node","time":"1970-01-01T00:00:02Z"}',
    '{"time":"2023-08-21T12:12:19Z","verdict":"FORWARDED","IP":{"source":"10.96.0.10","destination":"10.244.1.60"},"l4":{"UDP":{"source_port":53,"destination_port":39000}},"source":{"namespace":"kube-system","pod_name":"coredns-1","labels":["k8s:k8s-app=kube-dns"],"workloads":[{"name":"coredns","kind":"Deployment"}]},"destination":{"namespace":"default","pod_name":"xwing"},"is_reply":true,"l7":{"type":"RESPONSE","dns":{"query":"deathstar.default.svc.cluster.local.","ips":["10.96.4.4"],"rcode":0,"qtypes":["A"]}}}',
    '{"flow":{"time":"2023-08-21T12:12:20Z","verdict":"FORWARDED","IP":{"source":"fe80::1","destination":"ff02::2","ipVersion":"IPv6"},"l4":{"ICMPv6":{"type":133}},"source":{},"destination":{}}}',
  ].join('\n');
  const flows = aggregate(parseFlows(text, 'hubble.json'));
  assert.deepEqual(flows.map(flowLine), [
    'default/xwing[Pod] => default/deathstar-7848d6c4d5-th9v2[Pod] : TCP 80',
    'default/xwing[Pod] => kube-system/coredns[Deployment] : UDP 53',
    'fe80::1[External] => ff02::2[External] : ICMPv6',
  ]);
  assert.equal(flows[0]!.verdict, 'DROPPED');
  assert.equal(flows[0]!.dropReason, 'POLICY_DENIED');
  assert.equal(flows[1]!.l7?.dns?.query, 'deathstar.default.svc.cluster.local.');
  assert.deepEqual(flows[1]!.destination.labels, { 'k8s-app': 'kube-dns' });
  assert.throws(() => parseFlows('{"flow": ', 'bad.json'), /bad\.json:1: invalid JSON/);
  assert.throws(() => parseFlows('hello world', 'bad.txt'), /bad\.txt:1: not a Hubble JSON line/);
});

test('conntrack lines: -E events (NEW only), -L/nf_conntrack entries, netns prefix; attributed through the inventory', () => {
  const inv = parseInventory(
    JSON.stringify({
      workloads: [
        { namespace: 'x', name: 'a', labels: { pod: 'a' }, ips: ['10.9.0.2'], netns: ['bwk-1-x-a'] },
        { namespace: 'y', name: 'b', kind: 'Deployment', labels: { pod: 'b' }, ips: ['10.9.0.3'] },
      ],
    }),
    'wl.json',
  );
  const text = [
    'netns=bwk-1-x-a [1764756000.123456]    [NEW] tcp      6 120 SYN_SENT src=10.9.0.2 dst=10.9.0.3 sport=40412 dport=80 [UNREPLIED] src=10.9.0.3 dst=10.9.0.2 sport=80 dport=40412',
    ' [UPDATE] tcp      6 60 SYN_RECV src=10.9.0.2 dst=10.9.0.3 sport=40412 dport=80 src=10.9.0.3 dst=10.9.0.2 sport=80 dport=40412',
    '[DESTROY] udp      17 src=10.9.0.2 dst=10.9.0.3 sport=5000 dport=81 src=10.9.0.3 dst=10.9.0.2 sport=81 dport=5000',
    'ipv4     2 udp      17 28 src=10.9.0.3 dst=10.9.0.2 sport=33000 dport=81 src=10.9.0.2 dst=10.9.0.3 sport=81 dport=33000 mark=0 zone=0 use=2',
    'udp      17 29 src=10.9.0.3 dst=8.8.8.8 sport=33001 dport=53 [UNREPLIED] src=8.8.8.8 dst=10.9.0.3 sport=53 dport=33001 mark=0 use=1',
    'conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.',
  ].join('\n');
  const flows = aggregate(attribute(parseFlows(text, 'ct.txt'), inv.workloads));
  assert.deepEqual(flows.map(flowLine), [
    'x/a[Pod] => y/b[Deployment] : TCP 80',
    'y/b[Deployment] => 8.8.8.8[External] : UDP 53',
    'y/b[Deployment] => x/a[Pod] : UDP 81',
  ]);
  assert.equal(flows[0]!.firstSeen, '2025-12-03T10:00:00.123Z');
  assert.equal(
    fromConntrack('[UPDATE] tcp 6 60 SYN_RECV src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2'),
    undefined,
  );
  assert.throws(
    () => parseInventory('workloads: [{namespace: x, name: a, ips: [10.0.0.300]}]', 'wl.yaml'),
    /wl\.yaml: workloads\[0\]\.ips: invalid IP/,
  );
});

test('netpol flows: text and JSON records from the CLI', async () => {
  const f = join(tmp, 'ct.txt');
  writeFileSync(
    f,
    '[NEW] tcp 6 120 SYN_SENT src=10.9.0.2 dst=10.9.0.3 sport=40412 dport=80 [UNREPLIED] src=10.9.0.3 dst=10.9.0.2 sport=80 dport=40412\n',
  );
  const wl = join(tmp, 'wl.yaml');
  writeFileSync(wl, 'workloads:\n  - {namespace: x, name: a, labels: {pod: a}, ips: [10.9.0.2]}\n');
  const out = join(tmp, 'flows.txt');
  assert.equal((await cli('-q', 'netpol', 'flows', '--flows', f, '--workloads', wl, '-o', out)).code, 0);
  assert.equal(readFileSync(out, 'utf8'), 'x/a[Pod] => 10.9.0.3[External] : TCP 80  count=1\n');
  assert.equal((await cli('-q', 'netpol', 'flows', '--flows', f, '-f', 'json', '-o', out)).code, 0);
  const rec = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(rec.source.ip, '10.9.0.2');
  assert.equal(rec.observer, 'conntrack');
  assert.equal((await cli('-q', 'netpol', 'generate', '--flows', f)).code, 2); // -o DIR is required
  assert.ok(runs > 0);
});

test('attribution: a Service IP stands for the workload its selector picks; snooped DNS answers name external addresses', () => {
  const inv = parseInventory(
    [
      'workloads:',
      '  - {namespace: shop, name: web, kind: Deployment, labels: {app: web}, ips: [10.0.0.2]}',
      '  - {namespace: data, name: db, kind: StatefulSet, labels: {app: db}, ips: [10.0.0.3]}',
      'services:',
      '  - {namespace: data, name: db, ips: [10.96.0.12], selector: {app: db}}',
      '  - {namespace: data, name: nothing, ips: [10.96.0.13], selector: {app: none}}',
    ].join('\n'),
    'wl.yaml',
  );
  const dnsAnswer = JSON.stringify({
    flow: {
      time: '2026-12-03T10:00:00Z',
      verdict: 'FORWARDED',
      IP: { source: '10.0.0.10', destination: '10.0.0.2' },
      l4: { UDP: { source_port: 53, destination_port: 41000 } },
      source: {
        namespace: 'kube-system',
        pod_name: 'coredns-1',
        labels: ['k8s:k8s-app=kube-dns'],
        workloads: [{ name: 'coredns', kind: 'Deployment' }],
      },
      destination: {
        namespace: 'shop',
        pod_name: 'web-1',
        labels: ['k8s:app=web'],
        workloads: [{ name: 'web', kind: 'Deployment' }],
      },
      is_reply: true,
      l7: { type: 'RESPONSE', dns: { query: 'api.example.com.', ips: ['198.51.100.9'], rcode: 0 } },
    },
  });
  const text = [
    dnsAnswer,
    '[NEW] tcp 6 120 SYN_SENT src=10.0.0.2 dst=198.51.100.9 sport=40000 dport=443 [UNREPLIED] src=198.51.100.9 dst=10.0.0.2 sport=443 dport=40000',
    '[NEW] tcp 6 120 SYN_SENT src=10.0.0.2 dst=10.96.0.12 sport=40001 dport=5432 [UNREPLIED] src=10.0.0.3 dst=10.0.0.2 sport=5432 dport=40001',
    '[NEW] tcp 6 120 SYN_SENT src=10.0.0.2 dst=10.96.0.13 sport=40002 dport=80 [UNREPLIED] src=10.96.0.13 dst=10.0.0.2 sport=80 dport=40002',
  ].join('\n');
  const flows = aggregate(attribute(parseFlows(text, 'mixed'), inv.workloads, inv.services));
  assert.deepEqual(flows.map(flowLine), [
    'shop/web[Deployment] => 10.96.0.13[External] : TCP 80',
    'shop/web[Deployment] => 198.51.100.9[External] : TCP 443',
    'shop/web[Deployment] => data/db[StatefulSet] : TCP 5432',
    'shop/web[Deployment] => kube-system/coredns[Deployment] : UDP 53',
  ]);
  assert.deepEqual(flows[1]!.destination.names, ['api.example.com']);
});

test('generate: a selector that would also match another workload gets DoesNotExist; unlabelled workloads are skipped', async () => {
  const wl = join(tmp, 'collide.yaml');
  writeFileSync(
    wl,
    [
      'workloads:',
      '  - {namespace: shop, name: web, kind: Deployment, labels: {app: web}, ips: [10.3.0.2]}',
      '  - {namespace: shop, name: web-canary, kind: Deployment, labels: {app: web, track: canary}, ips: [10.3.0.3]}',
      '  - {namespace: shop, name: bare, kind: Pod, labels: {}, ips: [10.3.0.4]}',
    ].join('\n'),
  );
  const f = join(tmp, 'collide.txt');
  writeFileSync(
    f,
    '[NEW] tcp 6 120 SYN_SENT src=10.3.0.3 dst=10.3.0.2 sport=40000 dport=80 [UNREPLIED] src=10.3.0.2 dst=10.3.0.3 sport=80 dport=40000\n',
  );
  const out = join(tmp, 'collide-out');
  const r = await cli('netpol', 'generate', '--flows', f, '--workloads', wl, '-o', out);
  assert.equal(r.code, 0, r.err);
  assert.doesNotMatch(r.err, /also matches/);
  const np = parse(readFileSync(join(out, 'shop.bulwark-web.yaml'), 'utf8'));
  // app=web alone would select the canary too: the track label it lacks sets it apart
  assert.deepEqual(np.spec.podSelector, {
    matchLabels: { app: 'web' },
    matchExpressions: [{ key: 'track', operator: 'DoesNotExist' }],
  });
  const canary = parse(readFileSync(join(out, 'shop.bulwark-web-canary.yaml'), 'utf8'));
  assert.deepEqual(canary.spec.egress[0].to[0].podSelector, np.spec.podSelector);
  assert.match(r.err, /shop\/bare\[Pod\] has no labels: no policy can select it alone, none generated/);
  assert.deepEqual(readdirSync(out).sort(), ['shop.bulwark-web-canary.yaml', 'shop.bulwark-web.yaml']);
});
