/**
 * The agent's JetStream path against a real nats-server (Debian's, started here on 127.0.0.1 with
 * its own store directory and stopped by the test): every event arrives once and in order, a
 * re-sent batch is dropped by the stream's duplicate window, and while the server is down the
 * events wait in the disk buffer and arrive, in order and not doubled, when it is back.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { EVENTS_STREAM, Shipper, ensureEventsStream, type RuntimeEvent } from '../../src/agent/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'bulwark-nats-'));
let port = 0;
let server: ChildProcess | undefined;

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => res(p));
    });
  });
}

async function startNats(): Promise<void> {
  const p = spawn(
    'nats-server',
    ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(tmp, 'store'), '--auth', 'nats-secret-1'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  server = p;
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const end = Date.now() + 10_000;
  for (;;) {
    try {
      const nc = await connect({ servers: `127.0.0.1:${port}`, token: 'nats-secret-1', reconnect: false });
      await nc.close();
      return;
    } catch {
      if (p.exitCode !== null || Date.now() > end) throw new Error(`nats-server did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function stopNats(): Promise<void> {
  const p = server;
  server = undefined;
  if (!p || p.exitCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await done;
}

function ev(i: number): RuntimeEvent {
  return {
    id: `node-1:run:${i}`,
    kind: 'alert',
    time: new Date(1_700_000_000_000 + i).toISOString(),
    node: 'node.1',
    cluster: 'prod eu',
    rule: 'Terminal shell in container',
    priority: 'Notice',
    source: 'syscall',
    output: `event ${i}`,
    output_fields: { 'proc.name': 'bash', n: i },
    tags: ['T1059'],
  };
}

async function streamIds(nc: NatsConnection): Promise<string[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(EVENTS_STREAM);
  const ids: string[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(EVENTS_STREAM, { seq });
    if (!m) continue;
    assert.equal(m.subject, 'bulwark.events.prod_eu.node_1');
    ids.push((m.json() as RuntimeEvent).id);
  }
  return ids;
}

async function waitDrained(s: Shipper, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!s.drained) {
    if (Date.now() > end) throw new Error(`not drained after ${ms} ms: ${JSON.stringify(s.stats)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('agent → NATS JetStream (real nats-server)', () => {
  before(async () => {
    port = await freePort();
    await startNats();
    const nc = await connect({ servers: `127.0.0.1:${port}`, token: 'nats-secret-1' });
    await ensureEventsStream(nc);
    await ensureEventsStream(nc); // idempotent
    await nc.close();
  });
  after(async () => {
    await stopNats();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('delivers once, in order; re-sent events are deduplicated; an outage is buffered and replayed', async () => {
    const warnings: string[] = [];
    const opts = {
      nats: `nats://127.0.0.1:${port}`,
      natsAuth: 'nats-secret-1',
      minBackoffMs: 100,
      maxBackoffMs: 400,
      timeoutMs: 2000,
      onWarn: (m: string) => warnings.push(m),
    };
    const a = new Shipper({ ...opts, bufferDir: join(tmp, 'buf-a') });
    a.start();
    a.enqueue(Array.from({ length: 1500 }, (_, i) => ev(i)));
    await waitDrained(a, 20_000);

    // a second agent buffer re-sends the first 300 (as after a lost PubAck): the stream drops them
    const b = new Shipper({ ...opts, bufferDir: join(tmp, 'buf-b') });
    b.start();
    b.enqueue(Array.from({ length: 300 }, (_, i) => ev(i)));
    await waitDrained(b, 20_000);
    await b.stop();

    // the server goes away; events wait on disk
    await stopNats();
    a.enqueue(Array.from({ length: 500 }, (_, i) => ev(1500 + i)));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(a.drained, false, 'events wait in the buffer while NATS is down');
    assert.ok(a.stats.retries > 0);
    assert.ok(warnings.some((w) => w.includes('buffering on disk')));
    await startNats();
    await waitDrained(a, 20_000);
    await a.stop();
    assert.ok(
      warnings.every((w) => !w.includes('nats-secret-1')),
      'credentials never printed',
    );

    const nc = await connect({ servers: `127.0.0.1:${port}`, token: 'nats-secret-1' });
    try {
      const ids = await streamIds(nc);
      assert.equal(ids.length, 2000);
      assert.deepEqual(
        ids,
        Array.from({ length: 2000 }, (_, i) => `node-1:run:${i}`),
      );
    } finally {
      await nc.close();
    }
  });

  it('a wrong credential is reported and the events stay buffered', async () => {
    const warnings: string[] = [];
    const s = new Shipper({
      nats: `nats://127.0.0.1:${port}`,
      natsAuth: 'wrong-secret-2',
      bufferDir: join(tmp, 'buf-c'),
      minBackoffMs: 100,
      maxBackoffMs: 200,
      timeoutMs: 2000,
      onWarn: (m) => warnings.push(m),
    });
    s.start();
    s.enqueue([ev(9000)]);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(s.drained, false);
    assert.ok(
      warnings.some((w) => /author/i.test(w)),
      warnings.join('\n'),
    );
    assert.ok(warnings.every((w) => !w.includes('wrong-secret-2')));
    await s.stop();
  });
});
