/**
 * `bulwark agent --flows --server` as a process with the live eBPF sensor: pods as network
 * namespaces of the harness (test/network/harness.ts) make scripted TCP connections; the sensor's
 * connect/accept events become flows attributed through --workloads (the pods' IPs), aggregated
 * and shipped every second to a real console. The console's edges in the pods' namespaces are
 * exactly the scripted ones, within 2 s of the connections. Skipped without root or the tools.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { SHARED } from '../helpers/shared.js';
import { Client, startConsole } from '../server/helpers.js';
import { Harness, harnessUnavailable, type Pod, type PodSpec, type Probe } from '../network/harness.js';
import { BULWARK_FROM_SOURCE } from '../helpers/cli.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const RULES = `${SHARED}/data/falco/falco_rules.yaml`;
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-agent-flows-'));
const harness = new Harness();
let agent: ChildProcess | undefined;
after(async () => {
  if (agent && agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
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
    ports: [{ port: 5432, protocol: 'TCP' }],
  },
];
const SCRIPT: [string, string, number][] = [
  ['web', 'api', 9000],
  ['api', 'db', 5432],
  ['db', 'web', 8080],
];
const id = (p: Pod) => `${p.namespace}/${p.name}[${p.kind}]`;

test(
  'agent --flows: live connections become the console edges within 2 s',
  { skip: harnessUnavailable(), timeout: 120_000 },
  async () => {
    execFileSync('bash', [`${ROOT}/scripts/build-sensor.sh`, '--require'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await harness.setup(PODS);
    const pod = (n: string) => harness.pods.find((p) => p.name === n)!;
    const script: Probe[] = SCRIPT.map(([s, d, port]) => ({
      src: pod(s),
      dst: pod(d),
      protocol: 'TCP',
      port,
    }));
    const wl = join(tmp, 'workloads.json');
    writeFileSync(wl, JSON.stringify(harness.inventory()));
    const con = await startConsole('sqlite');
    try {
      const admin = await new Client(con.base).login();
      const token = (await admin.post('/api/tokens', { name: 'agent', role: 'operator' })).body
        .token as string;
      const a = spawn(
        process.execPath,
        [
          ...BULWARK_FROM_SOURCE,
          'agent',
          '--rules',
          RULES,
          '--server',
          con.base,
          '--flows',
          '--workloads',
          wl,
          '--buffer-dir',
          join(tmp, 'buffer'),
          '-o',
          join(tmp, 'alerts.jsonl'),
        ],
        { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BULWARK_TOKEN: token } },
      );
      agent = a;
      let err = '';
      a.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
      const end = Date.now() + 30_000;
      while (!err.includes('sensor attached')) {
        if (Date.now() > end || a.exitCode !== null) throw new Error(`agent did not attach: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const ok = await harness.probe(script);
      assert.ok(ok.every(Boolean), 'the scripted connections succeed');
      const done = Date.now();
      const want = script.map((p) => `${id(p.src)} => ${id(p.dst)} : TCP ${p.port}`).sort();
      type Edge = { source: string; destination: string; protocol: string; port: number };
      const key = (e: Edge) => `${e.source} => ${e.destination} : ${e.protocol} ${e.port}`;
      let got: string[] = [];
      while (Date.now() - done < 5000) {
        const items = [
          ...(await admin.get('/api/network/flows?namespace=shop&pageSize=500')).body.items,
          ...(await admin.get('/api/network/flows?namespace=data&pageSize=500')).body.items,
        ] as Edge[];
        got = [...new Set(items.map(key))].sort();
        if (got.length >= want.length) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const latency = Date.now() - done;
      assert.deepEqual(got, want, 'the pods\u2019 edges, exactly');
      assert.ok(latency <= 2000, `in the console ${latency} ms after the connections`);
      console.log(`# live flows in the console ${latency} ms after the connections`);
      a.kill('SIGTERM');
      await new Promise((r) => a.once('exit', r));
      assert.ok(!err.includes(token));
    } finally {
      await con.close();
    }
  },
);
