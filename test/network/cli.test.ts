/**
 * `bulwark netpol eval` and `netpol diff` through the CLI entry point, on manifests written to a
 * temp dir: a Deployment, a StatefulSet and a bare Pod owned by a ReplicaSet, with policies.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { main } from '../../src/cli/main.js';
import { cidrContains, parseCidr, parseIp } from '../../src/network/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'bulwark-netpol-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let runs = 0;
/**
 * Runs the CLI with its results written to a file (-o) and stderr captured. (Capturing stdout
 * would swallow the test runner's own report, which shares it.)
 */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const file = join(tmp, `out-${++runs}.txt`);
  const err: string[] = [];
  const e = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((c: string | Uint8Array) => (
    err.push(String(c)),
    true
  )) as typeof process.stderr.write;
  try {
    const code = await main(['node', 'bulwark', '-q', ...args, ...(args.includes('-o') ? [] : ['-o', file])]);
    let out = '';
    try {
      out = readFileSync(file, 'utf8');
    } catch {
      // no output written (an error)
    }
    return { code, out, err: err.join('') };
  } finally {
    process.stderr.write = e;
  }
}

const APPS = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx
          ports: [{containerPort: 8080, name: http}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
        - name: pg
          image: postgres
          ports: [{containerPort: 5432, name: pg}]
---
apiVersion: v1
kind: Pod
metadata:
  name: api-7d9f8c6b5-x2x4z
  namespace: shop
  labels: {app: api, pod-template-hash: 7d9f8c6b5}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: api-7d9f8c6b5, controller: true, uid: u1}]
spec:
  containers:
    - name: api
      image: api
      ports: [{containerPort: 9000, name: api}, {containerPort: 9001, protocol: UDP}]
status: {podIP: 10.1.0.7}
`;

const DENY_DB = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: api}}}]
      ports: [{port: pg}]
`;

function dir(name: string, files: Record<string, string>): string {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  for (const [f, t] of Object.entries(files)) writeFileSync(join(d, f), t);
  return d;
}

test('netpol eval: sorted lines with controller kinds; JSON; named port resolved on the destination', async () => {
  const d = dir('eval', { 'apps.yaml': APPS, 'np.yaml': DENY_DB });
  const r = await cli('netpol', 'eval', d);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.out.trim().split('\n'), [
    'shop/api[Deployment] => shop/db[StatefulSet] : TCP 5432',
    'shop/api[Deployment] => shop/web[Deployment] : TCP 8080',
    'shop/db[StatefulSet] => shop/api[Deployment] : TCP 9000',
    'shop/db[StatefulSet] => shop/api[Deployment] : UDP 9001',
    'shop/db[StatefulSet] => shop/web[Deployment] : TCP 8080',
    'shop/web[Deployment] => shop/api[Deployment] : TCP 9000',
    'shop/web[Deployment] => shop/api[Deployment] : UDP 9001',
  ]);
  const j = await cli('netpol', 'eval', d, '-f', 'json', '-o', join(tmp, 'eval.json'));
  assert.equal(j.code, 0);
  const doc = JSON.parse(readFileSync(join(tmp, 'eval.json'), 'utf8'));
  assert.equal(doc.connections.length, 7);
  assert.deepEqual(doc.connections[0], {
    source: { namespace: 'shop', name: 'api', kind: 'Deployment' },
    destination: { namespace: 'shop', name: 'db', kind: 'StatefulSet' },
    protocol: 'TCP',
    port: 5432,
  });
});

test('netpol eval: external host ipBlocks become endpoints with the ports their egress rules allow', async () => {
  const egress = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-out, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: 203.0.113.9/32}}]
      ports: [{port: 443}, {port: 8443, endPort: 8444}]
`;
  const d = dir('ext', { 'apps.yaml': APPS, 'np.yaml': egress });
  const r = await cli('netpol', 'eval', d, '--ports', 'TCP/22');
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  for (const p of [443, 8443, 8444])
    assert.ok(lines.includes(`shop/web[Deployment] => 203.0.113.9[External] : TCP ${p}`));
  assert.ok(!lines.some((l) => l.startsWith('shop/web[Deployment] => 203.0.113.9[External] : TCP 22')));
  // web's egress is isolated: nothing else leaves it, even on the extra port
  assert.ok(!lines.some((l) => l.startsWith('shop/web[Deployment] => shop/')));
  assert.ok(lines.includes('203.0.113.9[External] => shop/web[Deployment] : TCP 8080'));
  assert.ok(lines.includes('shop/db[StatefulSet] => shop/web[Deployment] : TCP 22'));
});

test('netpol diff: + and - lines, JSON, --exit-code', async () => {
  const old = dir('old', { 'apps.yaml': APPS, 'np.yaml': DENY_DB });
  const widened = DENY_DB.replace(
    'ports: [{port: pg}]',
    'ports: [{port: pg}]\n    - from: [{podSelector: {matchLabels: {app: web}}}]',
  );
  const neu = dir('new', { 'apps.yaml': APPS, 'np.yaml': widened });
  const r = await cli('netpol', 'diff', old, neu);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, '+ shop/web[Deployment] => shop/db[StatefulSet] : TCP 5432\n');
  // removing the policy opens db to everyone (here: web); the widened policy equals no policy
  const back = await cli('netpol', 'diff', old, join(old, 'apps.yaml'), '--exit-code', '-f', 'json');
  assert.equal(back.code, 1);
  const j = JSON.parse(back.out);
  assert.deepEqual(
    j.added.map((c: { source: { name: string }; port: number }) => `${c.source.name}:${c.port}`),
    ['web:5432'],
  );
  assert.deepEqual(j.removed, []);
  const shrink = await cli('netpol', 'diff', neu, old);
  assert.equal(shrink.out, '- shop/web[Deployment] => shop/db[StatefulSet] : TCP 5432\n');
  assert.equal((await cli('netpol', 'diff', neu, join(old, 'apps.yaml'), '--exit-code')).code, 0);
  assert.equal((await cli('netpol', 'diff', old, old, '--exit-code')).code, 0);
});

test('netpol: bad input names the file and field; usage errors exit 2', async () => {
  const bad = dir('bad', {
    'np.yaml': `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: broken, namespace: shop}
spec:
  podSelector: {}
  egress:
    - to: [{ipBlock: {cidr: 10.0.0.0/33}}]
`,
  });
  const r = await cli('netpol', 'eval', bad);
  assert.equal(r.code, 1);
  assert.match(
    r.err,
    /np\.yaml: NetworkPolicy shop\/broken: spec\.egress\[0\]\.to\[0\]\.ipBlock\.cidr: invalid CIDR "10\.0\.0\.0\/33"/,
  );
  const ops = dir('ops', {
    'np.yaml': `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: broken}
spec:
  podSelector: {matchExpressions: [{key: app, operator: Has}]}
`,
  });
  assert.match((await cli('netpol', 'eval', ops)).err, /spec\.podSelector\.matchExpressions\[0\]: expected/);
  assert.equal((await cli('netpol', 'eval', join(tmp, 'missing'))).code, 1);
  assert.equal((await cli('netpol', 'eval', bad, '--ports', 'TCP/99999')).code, 2);
});

test('CIDR math: IPv4 and IPv6 containment, prefixes, embedded IPv4', () => {
  const inside = (c: string, ip: string) => cidrContains(parseCidr(c), parseIp(ip)!);
  assert.ok(inside('10.0.0.0/8', '10.255.1.2'));
  assert.ok(!inside('10.0.0.0/8', '11.0.0.1'));
  assert.ok(inside('10.0.1.2/32', '10.0.1.2'));
  assert.ok(inside('0.0.0.0/0', '192.0.2.1'));
  assert.ok(!inside('0.0.0.0/0', '2001:db8::1'));
  assert.ok(inside('2001:db8::/32', '2001:db8:ffff::1'));
  assert.ok(!inside('2001:db8::/32', '2001:db9::1'));
  assert.ok(inside('fd00::/8', 'fdff:1:2:3:4:5:6:7'));
  assert.ok(inside('::ffff:0:0/96', '::ffff:10.1.2.3'));
  assert.ok(inside('2001:db8::1/128', '2001:DB8:0:0:0:0:0:1'));
  assert.equal(parseIp('1.2.3'), undefined);
  assert.equal(parseIp('1::2::3'), undefined);
  assert.throws(() => parseCidr('2001:db8::/129'), /invalid CIDR/);
});

test('netpol monitor: a live stream on stdin is alerted as it arrives, once per connection', async () => {
  const d = dir('monitor', { 'apps.yaml': APPS, 'np.yaml': DENY_DB });
  const wl = join(tmp, 'monitor-wl.yaml');
  writeFileSync(
    wl,
    'workloads:\n  - {namespace: shop, name: web, kind: Deployment, labels: {app: web}, ips: [10.1.0.2]}\n  - {namespace: shop, name: db, kind: StatefulSet, labels: {app: db}, ips: [10.1.0.3]}\n',
  );
  const entry = `import('${join(process.cwd(), 'src/cli/main.ts')}').then(async (m) => process.exit(await m.main(process.argv)))`;
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      entry,
      'bulwark',
      '-q',
      'netpol',
      'monitor',
      d,
      '--workloads',
      wl,
      '--flows',
      '-',
      '-f',
      'text',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stderr.on('data', (c) => (err += c));
  const firstAlert = new Promise<void>((resolve) =>
    child.stdout.on('data', (c) => {
      out += c;
      if (out.includes('\n')) resolve();
    }),
  );
  const ct = (sport: number) =>
    `[NEW] tcp 6 120 SYN_SENT src=10.1.0.2 dst=10.1.0.3 sport=${sport} dport=5432 [UNREPLIED] src=10.1.0.3 dst=10.1.0.2 sport=5432 dport=${sport}\n`;
  child.stdin.write(ct(40000));
  await firstAlert; // alerted while the stream is still open
  child.stdin.write(ct(40001)); // the same connection again: no second alert
  child.stdin.write(
    '[NEW] tcp 6 120 SYN_SENT src=10.1.0.7 dst=10.1.0.3 sport=40002 dport=5432 [UNREPLIED] src=10.1.0.3 dst=10.1.0.7 sport=5432 dport=40002\n',
  );
  child.stdin.write(
    '[NEW] udp 17 30 src=192.0.2.99 dst=10.1.0.3 sport=40003 dport=5432 [UNREPLIED] src=10.1.0.3 dst=192.0.2.99 sport=5432 dport=40003\n',
  );
  child.stdin.end();
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  assert.equal(code, 0, err);
  assert.deepEqual(out.trim().split('\n'), [
    // api (10.1.0.7, a pod of the manifests) is allowed; an unknown address is external
    'Warning Connection outside NetworkPolicy (shop/web[Deployment] => shop/db[StatefulSet] : TCP 5432, denied by ingress of shop/db[StatefulSet])',
    'Warning Connection outside NetworkPolicy (192.0.2.99[External] => shop/db[StatefulSet] : UDP 5432, denied by ingress of shop/db[StatefulSet])',
  ]);
});

test('netpol eval: dual-stack pods, IPv6 ipBlock with except', async () => {
  const pods = [2, 3, 4]
    .map(
      (i) => `apiVersion: v1
kind: Pod
metadata: {name: p${i}, namespace: v6, labels: {app: p${i}}}
spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
status: {podIP: 10.6.0.${i}, podIPs: [{ip: 10.6.0.${i}}, {ip: "fd00:6::${i}"}]}
`,
    )
    .join('---\n');
  const np = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: v6-only, namespace: v6}
spec:
  podSelector: {matchLabels: {app: p2}}
  ingress:
    - from: [{ipBlock: {cidr: "fd00:6::/64", except: ["fd00:6::4/128"]}}]
`;
  const d = dir('v6', { 'pods.yaml': pods, 'np.yaml': np });
  const r = await cli('netpol', 'eval', d);
  assert.equal(r.code, 0, r.err);
  const to2 = r.out.split('\n').filter((l) => l.includes('=> v6/p2[Pod]'));
  assert.deepEqual(to2, ['v6/p3[Pod] => v6/p2[Pod] : TCP 80']);
});
