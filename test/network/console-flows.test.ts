/**
 * Flows to the console, live on the namespace harness (test/network/harness.ts): six pods in two
 * namespaces, scripted connections observed with conntrack inside every pod namespace, fed as they
 * arrive to the agent's FlowCollector (attribution through the workload inventory, 1 s intervals)
 * and shipped by the real Shipper to a real console. Within 2 s of the connections the console has
 * exactly the scripted edges with the right pod identities (recall and precision 100%), counted
 * once per connection though conntrack saw each in two namespaces; a re-sent record adds nothing;
 * the map lists the workloads; `netpol generate --server` writes policies from the console's flows
 * that `netpol eval` says allow exactly the scripted connections. Skipped without root or the tools.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { FlowCollector, Shipper } from '../../src/agent/index.js';
import { Attributor, fromConntrack, parseInventory } from '../../src/network/index.js';
import { Client, startConsole } from '../server/helpers.js';
import { Harness, harnessUnavailable, type Pod, type PodSpec, type Probe } from './harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'bulwark-console-flows-'));
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
    ports: [
      { port: 9000, protocol: 'TCP' },
      { port: 9001, protocol: 'UDP' },
    ],
  },
  {
    namespace: 'shop',
    name: 'worker',
    kind: 'StatefulSet',
    labels: { app: 'worker' },
    ports: [{ port: 8081, protocol: 'TCP' }],
  },
  {
    namespace: 'data',
    name: 'db',
    kind: 'StatefulSet',
    labels: { app: 'db' },
    ports: [{ port: 5432, protocol: 'TCP' }],
  },
  {
    namespace: 'data',
    name: 'cache',
    kind: 'Deployment',
    labels: { app: 'cache' },
    ports: [{ port: 6379, protocol: 'TCP' }],
  },
  {
    namespace: 'data',
    name: 'metrics',
    kind: 'DaemonSet',
    labels: { app: 'metrics' },
    ports: [{ port: 8125, protocol: 'UDP' }],
  },
];
const SCRIPT: [string, string, 'TCP' | 'UDP', number][] = [
  ['web', 'api', 'TCP', 9000],
  ['web', 'api', 'UDP', 9001],
  ['api', 'db', 'TCP', 5432],
  ['api', 'cache', 'TCP', 6379],
  ['worker', 'db', 'TCP', 5432],
  ['web', 'metrics', 'UDP', 8125],
  ['api', 'metrics', 'UDP', 8125],
  ['metrics', 'web', 'TCP', 8080],
];
const id = (p: Pod) => `${p.namespace}/${p.name}[${p.kind}]`;
const line = (p: Probe) => `${id(p.src)} => ${id(p.dst)} : ${p.protocol} ${p.port}`;

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

test(
  'live flows reach the console within 2 s, exact edges; netpol generate --server from them',
  { skip: harnessUnavailable(), timeout: 120_000 },
  async () => {
    await harness.setup(PODS);
    const pod = (n: string) => harness.pods.find((p) => p.name === n)!;
    const script: Probe[] = SCRIPT.map(([s, d, protocol, port]) => ({
      src: pod(s),
      dst: pod(d),
      protocol,
      port,
    }));
    const learned = [...new Set(script.map(line))].sort();
    const inventoryText = JSON.stringify(harness.inventory());
    const wl = join(tmp, 'workloads.json');
    writeFileSync(wl, inventoryText);
    const inv = parseInventory(inventoryText, wl);

    const con = await startConsole('sqlite');
    let shipper: Shipper | undefined;
    let collector: FlowCollector | undefined;
    try {
      const admin = await new Client(con.base).login();
      const token = (await admin.post('/api/tokens', { name: 'agent', role: 'operator', cluster: 'lab' }))
        .body.token as string;
      shipper = new Shipper({ server: con.base, token, bufferDir: join(tmp, 'buffer'), onWarn: () => {} });
      shipper.start();
      const s = shipper;
      collector = new FlowCollector({
        node: 'node-1',
        runId: 'lab-run',
        attributor: new Attributor(inv.workloads, inv.services),
        emit: (recs) => s.enqueue(recs),
      });
      collector.start();
      const c = collector;
      await harness.startConntrack((l) => c.add(fromConntrack(l)));
      const ok = await harness.probe([...script, ...script]);
      assert.ok(ok.every(Boolean), 'every scripted connection succeeds');
      const done = Date.now();
      type Edge = {
        source: string;
        destination: string;
        protocol: string;
        port: number;
        count: number;
        cluster: string;
      };
      let edges: Edge[] = [];
      const key = (e: Edge) => `${e.source} => ${e.destination} : ${e.protocol} ${e.port}`;
      for (;;) {
        edges = (await admin.get('/api/network/flows?pageSize=500')).body.items;
        if (edges.length >= learned.length && edges.every((e) => e.count >= 2)) break;
        if (Date.now() - done > 5000) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const latency = Date.now() - done;
      await harness.stopConntrack();
      assert.deepEqual(edges.map(key).sort(), learned, 'edge recall and precision 100%, with the pods');
      assert.ok(latency <= 2000, `the flows were in the console ${latency} ms after the connections`);
      console.log(`# flows in the console ${latency} ms after the last connection`);
      assert.ok(
        edges.every((e) => e.count === 2),
        `each connection counted once: ${JSON.stringify(edges.map((e) => e.count))}`,
      );
      assert.ok(
        edges.every((e) => e.cluster === 'lab'),
        'the cluster token named the cluster',
      );

      // a flow record re-sent (a lost answer) adds nothing
      const one = {
        id: 'lab-run:flow:1',
        kind: 'flow',
        time: new Date().toISOString(),
        node: 'node-1',
        flow: JSON.parse(
          (
            await (
              await fetch(`${con.base}/api/network/flows.jsonl`, {
                headers: { authorization: `Bearer ${token}` },
              })
            ).text()
          )
            .trim()
            .split('\n')[0]!,
        ),
      };
      const again = await new Client(con.base, token).post('/api/runtime/events', { events: [one] });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual(again.body, { accepted: 0, duplicates: 1 });
      const total = (await admin.get('/api/network/flows?pageSize=500')).body.items.reduce(
        (n: number, e: Edge) => n + e.count,
        0,
      );
      assert.equal(total, 2 * learned.length);
      const bad = await new Client(con.base, token).post('/api/runtime/events', {
        events: [{ ...one, id: 'x', flow: { source: {}, protocol: 'TCP' } }],
      });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /events\.0\.flow/);

      // the map
      const map = (await admin.get('/api/network/map?cluster=lab')).body;
      assert.deepEqual(
        map.nodes.map((n: { id: string }) => n.id).sort(),
        harness.pods
          .map(id)
          .filter((x) => learned.some((l) => l.includes(x)))
          .sort(),
      );
      assert.equal(map.edges.length, learned.length);

      // policies from the console's flows, checked by eval
      const dir = join(tmp, 'policies');
      const g = await cli(
        'netpol',
        'generate',
        '--server',
        con.base,
        '--token',
        token,
        '--cluster',
        'lab',
        '-o',
        dir,
      );
      assert.equal(g.code, 0, g.err);
      const evalOut = join(tmp, 'eval.txt');
      assert.equal((await cli('netpol', 'eval', dir, '--workloads', wl, '-o', evalOut)).code, 0);
      assert.deepEqual(readFileSync(evalOut, 'utf8').trim().split('\n'), learned);
      const wrong = await cli('netpol', 'generate', '--server', con.base, '--token', 'bwk_nope', '-o', dir);
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.err, /HTTP 401/);
      assert.ok(!wrong.err.includes('bwk_nope'), 'the token is never printed');
    } finally {
      collector?.stop();
      await shipper?.stop(0);
      await con.close();
    }
  },
);
