/**
 * Runtime events from agents through NATS JetStream into PostgreSQL (#15): 3 agent processes
 * (bench/bus-agent.ts: the real Shipper with --nats, disk buffer included) publish BENCH_EVENTS
 * alerts in all as fast as they can; one console
 * (`server --nats`) consumes the stream and stores them in a real PostgreSQL 15. Printed: events/s
 * end to end (agents started → last event stored); latency p50/p99 (an event handed to its agent →
 * the console's received_at) at a steady load below capacity; and, as the baseline measured in the same run, the rate of storing the
 * same events straight into PostgreSQL with the console's own store function (no bus, no agents):
 * the ratio says what the bus and the agents cost. Goal (issue #15): ≥ 20,000 events/s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { spawn } from 'node:child_process';
import type { RuntimeEvent } from '../src/agent/index.js';
import { memoryLogger } from '../src/core/log.js';
import { createConsole, openStore } from '../src/server/index.js';
import { storeRuntimeEvents, type PostedEvent } from '../src/server/runtime.js';
import { TestNats } from '../test/helpers/nats.js';
import { startPostgres } from '../test/server/pg.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 60_000);
const AGENTS = 3;
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-bench-bus-'));

function alert(agent: number, i: number, time: string): RuntimeEvent {
  return {
    id: `bench-${agent}:${i}`,
    kind: 'alert',
    time,
    node: `node-${agent}`,
    cluster: 'bench',
    rule: i % 7 === 0 ? 'Terminal shell in container' : 'Read sensitive file untrusted',
    priority: i % 7 === 0 ? 'Notice' : 'Warning',
    source: 'syscall',
    output: `Sensitive file opened for reading by non-trusted program (file=/etc/shadow gparent=bash ggparent=sshd evt_type=openat user=root user_uid=0 process=cat proc_exepath=/usr/bin/cat parent=bash command=cat /etc/shadow terminal=34816 container_id=${agent} container_name=web)`,
    output_fields: {
      'fd.name': '/etc/shadow',
      'proc.name': 'cat',
      'proc.cmdline': 'cat /etc/shadow',
      'proc.pname': 'bash',
      'user.name': 'root',
      'container.id': `c${agent}`,
      n: i,
    },
    tags: ['T1555', 'container', 'filesystem', 'host', 'maturity_stable', 'mitre_credential_access'],
    container: { id: `c${agent}`.padEnd(64, '0'), name: 'web', image: 'registry.example/shop:1.4' },
    k8s: { namespace: 'shop', pod: `web-${agent}` },
  };
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const pgServer = await startPostgres();
const nats = new TestNats();
try {
  await nats.start();
  // baseline: the same events stored straight into PostgreSQL in batches of 500
  {
    const url = await pgServer.createDatabase();
    const store = await openStore(url);
    const now = new Date().toISOString();
    const evs: PostedEvent[] = [];
    for (let i = 0; i < EVENTS; i++) evs.push(alert(1 + (i % AGENTS), i, now) as unknown as PostedEvent);
    const t = performance.now();
    for (let i = 0; i < evs.length; i += 500)
      await storeRuntimeEvents(store.db, evs.slice(i, i + 500), 'bench');
    const s = (performance.now() - t) / 1000;
    await store.close();
    console.log(
      `baseline: store directly into PostgreSQL  ${EVENTS} events in ${s.toFixed(2)} s = ${Math.round(EVENTS / s)} events/s`,
    );
    (globalThis as { baseline?: number }).baseline = EVENTS / s;
  }
  const database = await pgServer.createDatabase();
  const dataDir = mkdtempSync(join(tmp, 'console-'));
  const con = await createConsole({
    dataDir,
    database,
    advisoryDbPath: join(dataDir, 'none.db'),
    logger: memoryLogger(),
    workers: false,
    webDir: join(dataDir, 'no-web'),
    env: { BULWARK_ADMIN_PASSWORD: 'correct horse battery', BULWARK_ADMIN_USER: 'admin' },
    nats: { servers: nats.url, auth: nats.token },
  });
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  const agentsRun = (phase: string, count: number, rate: number) =>
    Promise.all(
      Array.from({ length: AGENTS }, (_, a) => {
        const p = spawn(process.execPath, ['--import', 'tsx', join('bench', 'bus-agent.ts')], {
          env: {
            ...process.env,
            BENCH_AGENT: String(a + 1),
            BENCH_COUNT: String(count),
            BENCH_RATE: String(rate),
            BENCH_PHASE: phase,
            BENCH_NATS: nats.url,
            BENCH_NATS_AUTH: nats.token,
            BENCH_BUFFER: mkdtempSync(join(tmp, `agent-${phase}-${a}-`)),
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        return new Promise<void>((res, rej) =>
          p.once('exit', (c) => (c === 0 ? res() : rej(new Error(`agent ${a + 1} exited ${c}: ${out}`)))),
        );
      }),
    );
  const waitStored = async (n: number) => {
    for (;;) {
      const { rows } = await client.query('select count(*)::int as n from runtime_events');
      if (rows[0].n >= n) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  // 1. throughput: the agents (3 processes) publish as fast as they can
  const t0 = performance.now();
  const agentsDone = agentsRun('t', EVENTS / AGENTS, 0);
  await Promise.race([waitStored(EVENTS), agentsDone.then(() => waitStored(EVENTS))]);
  await agentsDone;
  const s = (performance.now() - t0) / 1000;
  const rate = EVENTS / s;
  const baseline = (globalThis as { baseline?: number }).baseline!;
  console.log(
    `agents (${AGENTS} processes) → JetStream → console → PostgreSQL  ${EVENTS} events in ${s.toFixed(2)} s = ${Math.round(rate)} events/s (goal ≥ 20,000)`,
  );
  console.log(`ratio end-to-end / direct store: ${(rate / baseline).toFixed(2)}x`);
  // 2. latency at a steady load below capacity: each agent LAT_RATE events/s for 5 s
  const LAT_RATE = Number(process.env.BENCH_LATENCY_RATE ?? 500);
  const latN = LAT_RATE * 5;
  await agentsRun('l', latN, LAT_RATE);
  await waitStored(EVENTS + AGENTS * latN);
  const { rows } = await client.query(
    `select extract(epoch from (received_at::timestamptz - time::timestamptz)) * 1000 as ms from runtime_events where event_id like 'bench-l-%'`,
  );
  await client.end();
  const lat = rows.map((r: { ms: string }) => Number(r.ms)).sort((a: number, b: number) => a - b);
  console.log(
    `latency at ${AGENTS * LAT_RATE} events/s (handed to the agent → stored): p50 ${pct(lat, 50).toFixed(0)} ms, p99 ${pct(lat, 99).toFixed(0)} ms, max ${lat.at(-1)!.toFixed(0)} ms (${lat.length} events)`,
  );
  console.log(`consumer: ${JSON.stringify(con.bus!.stats)}`);
  await con.close();
} finally {
  await nats.kill();
  await pgServer.stop();
  rmSync(tmp, { recursive: true, force: true });
}
