/**
 * Agents → NATS JetStream → two console replicas on one real PostgreSQL, on loopback with a real
 * nats-server: three agents (the real Shipper with --nats, each with its own disk buffer) publish
 * alerts and stats; both consoles pull from the one durable consumer. Every event is stored exactly
 * once and notified exactly once (a real webhook receiver), across replicas; nats-server stopped
 * while the agents keep producing → nothing lost or doubled after it returns; one console closed
 * mid-stream → the other takes the rest; a malformed message is dropped and counted, not retried
 * forever.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Shipper, type RuntimeEvent, type ShippedEvent } from '../../src/agent/index.js';
import { TestNats } from '../helpers/nats.js';
import { Client, sharedPostgres, startConsole, stopSharedPostgres, type TestConsole } from './helpers.js';

after(stopSharedPostgres);
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-bus-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function alert(agent: number, i: number): RuntimeEvent {
  return {
    id: `agent-${agent}:run:${i}`,
    kind: 'alert',
    time: new Date(Date.parse('2026-12-03T00:00:00Z') + i * 1000 + agent).toISOString(),
    node: `node-${agent}`,
    cluster: 'prod-eu',
    rule: i % 50 === 0 ? 'Read sensitive file untrusted' : 'Terminal shell in container',
    priority: i % 50 === 0 ? 'Warning' : 'Notice',
    source: 'syscall',
    output: `event ${i} of agent ${agent}`,
    output_fields: { n: i, agent },
    tags: ['T1059', 'mitre_execution'],
    container: { id: `c${agent}`.padEnd(64, '0'), name: 'web' },
  };
}

async function until(
  cond: () => boolean | Promise<boolean>,
  ms: number,
  what: () => string | Promise<string>,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out: ${await what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test(
  'three agents through JetStream into two consoles on PostgreSQL: once, in spite of outages',
  { timeout: 180_000 },
  async () => {
    const nats = new TestNats();
    await nats.start();
    const hookIds: string[] = [];
    const hook: Server = createServer((req, res) => {
      let b = '';
      req.on('data', (c: Buffer) => (b += c.toString()));
      req.on('end', () => {
        hookIds.push((JSON.parse(b) as { runtime: { eventId: string } }).runtime.eventId);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/`;
    const database = await (await sharedPostgres()).createDatabase();
    const consoles: TestConsole[] = [];
    const shippers: Shipper[] = [];
    const warnings: string[] = [];
    try {
      const opts = {
        database,
        workers: true,
        nats: { servers: nats.url, auth: nats.token, batch: 500, ackWaitMs: 5000 },
        runtimeNotify: { burst: 1_000_000 },
        // replicas share the key that seals destination secrets (as a deployment must)
        env: {
          BULWARK_SECRET_KEY: randomBytes(32).toString('base64'),
          BULWARK_ADMIN_PASSWORD: 'correct horse battery',
          BULWARK_ADMIN_USER: 'admin',
        },
      };
      consoles.push(await startConsole('postgres', opts));
      consoles.push(await startConsole('postgres', { ...opts, dataDir: mkdtempSync(join(tmp, 'c2-')) }));
      const admin = await new Client(consoles[0]!.base).login();
      const dest = await admin.post('/api/notifications/destinations', {
        name: 'soc',
        type: 'webhook',
        config: { url: hookUrl, secret: 's' },
      });
      await admin.post('/api/notifications/rules', {
        name: 'alerts',
        event: 'runtime-alert',
        minSeverity: 'MEDIUM',
        destinationId: dest.body.id,
      });

      for (let a = 1; a <= 3; a++) {
        const s = new Shipper({
          nats: nats.url,
          natsAuth: nats.token,
          bufferDir: mkdtempSync(join(tmp, `agent-${a}-`)),
          batchMax: 200,
          minBackoffMs: 100,
          maxBackoffMs: 500,
          onWarn: (m) => warnings.push(m),
        });
        s.start();
        shippers.push(s);
      }
      const sent: ShippedEvent[][] = [[], [], []];
      const produce = (from: number, to: number) => {
        shippers.forEach((s, k) => {
          const evs: ShippedEvent[] = [];
          for (let i = from; i < to; i++) evs.push(alert(k + 1, i));
          evs.push({
            id: `agent-${k + 1}:run:stats:${to}`,
            kind: 'stats',
            time: new Date(Date.parse('2026-12-03T00:00:00Z') + to * 1000).toISOString(),
            node: `node-${k + 1}`,
            cluster: 'prod-eu',
            stats: {
              runId: `agent-${k + 1}:run`,
              startedAt: '2026-12-03T00:00:00.000Z',
              version: 'test',
              rules: 10,
              kernelTypes: ['exec'],
              events: to,
              kernel: { exec: { events: to, drops: 0 } },
              drops: 0,
              alerts: to,
            },
          });
          sent[k]!.push(...evs);
          s.enqueue(evs);
        });
      };
      const total = async () => Number((await admin.get('/api/runtime/events?pageSize=1')).body.total);
      const alerts = (n: number) => 3 * n;

      // 1. normal flow
      const t0 = Date.now();
      produce(0, 2000);
      await until(
        async () => (await total()) === alerts(2000),
        60_000,
        () => `stored ${consoles.map((c) => JSON.stringify(c.c.bus!.stats))}`,
      );

      console.log(`# ${alerts(2000)} events agents → JetStream → PostgreSQL in ${Date.now() - t0} ms`);
      // 2. nats-server away while the agents keep producing: buffered on the agents, then delivered
      await nats.stop();
      produce(2000, 2500);
      await new Promise((r) => setTimeout(r, 3000));
      assert.ok(
        shippers.every((s) => !s.drained),
        'the agents hold the events while NATS is away',
      );
      assert.ok(warnings.some((w) => /buffering on disk/.test(w)));
      assert.ok(!warnings.join('\n').includes(nats.token), 'the NATS token is never printed');
      await nats.start();
      await until(
        async () => (await total()) === alerts(2500),
        60_000,
        () => `after the outage: ${consoles.map((c) => JSON.stringify(c.c.bus!.stats))}`,
      );

      // 3. one console replica goes away: the other takes the rest
      await consoles[0]!.c.close();
      const admin2 = await new Client(consoles[1]!.base).login();
      produce(2500, 3000);
      await until(
        async () => Number((await admin2.get('/api/runtime/events?pageSize=1')).body.total) === alerts(3000),
        60_000,
        () => `with one replica: ${JSON.stringify(consoles[1]!.c.bus!.stats)}`,
      );

      // a malformed message published straight to the stream is dropped and counted
      const nc = await connect({ servers: nats.url, token: nats.token });
      await jetstream(nc).publish(
        'bulwark.events.prod-eu.node-x',
        JSON.stringify({ id: 'bad', kind: 'alert' }),
      );
      await nc.close();
      await until(
        () => consoles[1]!.c.bus!.stats.invalid === 1,
        20_000,
        () => JSON.stringify(consoles[1]!.c.bus!.stats),
      );

      // exactly once: ids unique and complete, per agent in order of time
      const all: { eventId: string }[] = (await admin2.get('/api/runtime/events?pageSize=500&export=json'))
        .body;
      assert.equal(all.length, alerts(3000));
      const ids = new Set(all.map((e) => e.eventId));
      assert.equal(ids.size, alerts(3000), 'no event stored twice');
      for (const k of [0, 1, 2])
        for (const e of sent[k]!) if (e.kind === 'alert') assert.ok(ids.has(e.id), `${e.id} arrived`);
      const stored = consoles.reduce((n, c) => n + c.c.bus!.stats.stored, 0);
      const statsRecords = sent.flat().filter((e) => e.kind === 'stats').length;
      assert.equal(stored, alerts(3000) + statsRecords, 'each message stored by one replica');
      const agents = (await admin2.get('/api/runtime/agents')).body.items as {
        node: string;
        events: number;
      }[];
      assert.deepEqual(
        agents.map((a) => [a.node, a.events]),
        [
          ['node-1', 3000],
          ['node-2', 3000],
          ['node-3', 3000],
        ],
      );
      // notified once per Warning alert, across both replicas
      const warn = sent.flat().filter((e) => e.kind === 'alert' && e.priority === 'Warning').length;
      await until(
        () => hookIds.length >= warn,
        60_000,
        async () =>
          `${hookIds.length} of ${warn} notifications; ${JSON.stringify((await admin2.get('/api/notifications/deliveries?pageSize=5&status=pending')).body).slice(0, 1500)}`,
      );
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(new Set(hookIds).size, warn);
      assert.equal(hookIds.length, warn, 'no notification twice');
      const share = consoles.map((c) => c.c.bus!.stats.stored);
      console.log(`# stored per replica: ${share.join(', ')}`);
    } finally {
      for (const s of shippers) await s.stop(0).catch(() => {});
      for (const c of consoles) await c.close().catch(() => {});
      await nats.kill();
      await new Promise<void>((r) => hook.close(() => r()));
    }
  },
);
