/**
 * The agent's disk buffer and shipper (src/agent). The console here is a small node:http server
 * on 127.0.0.1 that implements POST /api/runtime/events as the console does (idempotent by event
 * id, 400/401/413/429/503 on demand); the end-to-end run against the real `bulwark server` is in
 * test/runtime/sensor-console.test.ts.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskBuffer, Shipper, type RuntimeEvent } from '../../src/agent/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'bulwark-agent-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;
const newDir = () => join(tmp, `b${++dirs}`);

function ev(i: number): RuntimeEvent {
  return {
    id: `node-1:run:${i}`,
    kind: 'alert',
    time: new Date(1_700_000_000_000 + i).toISOString(),
    node: 'node-1',
    rule: 'Read sensitive file untrusted',
    priority: 'Warning',
    source: 'syscall',
    output: `event ${i}`,
    output_fields: { 'proc.name': 'cat', n: i },
    tags: ['filesystem'],
  };
}

interface Console {
  url: string;
  received: RuntimeEvent[];
  /** ids in arrival order, duplicates included */
  posts: number;
  /** next answers to give (status codes), then 200 */
  script: number[];
  token: string;
  close(): Promise<void>;
  server: Server;
}

async function startConsole(port = 0, token = 'tok-1'): Promise<Console> {
  const c: Partial<Console> = { received: [], posts: 0, script: [], token };
  const ids = new Set<string>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      c.posts!++;
      if (req.url !== '/api/runtime/events' || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      if (req.headers.authorization !== `Bearer ${c.token}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
        return;
      }
      const code = c.script!.shift();
      if (code) {
        const h: Record<string, string> = { 'content-type': 'application/json' };
        if (code === 429 || code === 503) h['retry-after'] = '0';
        res.writeHead(code, h).end(JSON.stringify({ error: `scripted ${code}` }));
        return;
      }
      const { events } = JSON.parse(body) as { events: RuntimeEvent[] };
      let dup = 0;
      for (const e of events) {
        if (ids.has(e.id)) dup++;
        else {
          ids.add(e.id);
          c.received!.push(e);
        }
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ accepted: events.length - dup, duplicates: dup }));
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  c.server = server;
  c.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  c.close = () => new Promise<void>((r) => server.close(() => r()));
  return c as Console;
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const warnings: string[] = [];
const opts = { minBackoffMs: 50, maxBackoffMs: 200, onWarn: (m: string) => warnings.push(m) };

describe('agent disk buffer', () => {
  it('keeps order across segments and restarts, acks per batch, drops (and counts) the oldest beyond its bound', () => {
    const dir = newDir();
    let b = new DiskBuffer<RuntimeEvent>(dir, { segmentBytes: 2048 });
    b.append([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(ev));
    b.append([10, 11, 12].map(ev));
    assert.ok(readdirSync(dir).filter((f) => f.endsWith('.jsonl')).length >= 2, 'rolled into segments');
    const first = b.next(4)!;
    assert.deepEqual(
      first.items.map((e) => e.output),
      ['event 0', 'event 1', 'event 2', 'event 3'],
    );
    b.ack(first);
    b.close();
    // a new process: the acked ones are gone, the rest come in order
    b = new DiskBuffer<RuntimeEvent>(dir, { segmentBytes: 2048 });
    const seen: number[] = [];
    for (let batch = b.next(3); batch; batch = b.next(3)) {
      seen.push(...batch.items.map((e) => e.output_fields.n as number));
      b.ack(batch);
    }
    assert.deepEqual(seen, [4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.equal(b.empty, true);
    b.close();

    const small = new DiskBuffer<RuntimeEvent>(newDir(), { segmentBytes: 1024, maxBytes: 3000 });
    for (let i = 0; i < 40; i++) small.append([ev(i)]);
    assert.ok(
      small.dropped > 0 && small.bytes <= 3000 + 1024,
      `${small.dropped} dropped, ${small.bytes} bytes`,
    );
    const left: number[] = [];
    for (let batch = small.next(100); batch; batch = small.next(100)) {
      left.push(...batch.items.map((e) => e.output_fields.n as number));
      small.ack(batch);
    }
    assert.equal(left.length + small.dropped, 40, 'every event either kept or counted as dropped');
    assert.deepEqual(
      left,
      [...left].sort((x, y) => x - y),
    );
    assert.equal(left.at(-1), 39, 'the newest are kept');
    small.close();
  });

  it('recovers from a torn last line and skips lines that are not JSON', () => {
    const dir = newDir();
    const b = new DiskBuffer<RuntimeEvent>(dir);
    b.append([ev(1), ev(2)]);
    b.close();
    const seg = readdirSync(dir).find((f) => f.endsWith('.jsonl'))!;
    appendFileSync(join(dir, seg), 'not json\n{"id":"torn", "kin');
    const r = new DiskBuffer<RuntimeEvent>(dir);
    const batch = r.next(10)!;
    assert.deepEqual(
      batch.items.map((e) => e.id),
      ['node-1:run:1', 'node-1:run:2'],
    );
    assert.equal(r.corrupt, 1);
    assert.ok(!readFileSync(join(dir, seg), 'utf8').includes('torn'), 'the torn tail was cut');
    r.close();
  });
});

describe('agent shipper', () => {
  it('delivers in order; with the console down the events wait on disk and arrive in order, once, when it returns', async () => {
    const con = await startConsole();
    const port = Number(new URL(con.url).port);
    const dir = newDir();
    const s = new Shipper({ server: con.url, token: 'tok-1', bufferDir: dir, batchMax: 7, ...opts });
    s.start();
    s.enqueue([0, 1, 2, 3, 4].map(ev));
    await until(() => con.received.length === 5);
    await con.close();
    // cut off: 200 events while nothing listens
    for (let i = 5; i < 205; i++) s.enqueue([ev(i)]);
    await new Promise((r) => setTimeout(r, 600));
    assert.ok(s.stats.retries > 0, 'it kept retrying');
    assert.ok(s.stats.pendingBytes > 0, 'events wait on disk');
    assert.ok(warnings.some((w) => w.includes('buffering on disk') && !w.includes('tok-1')));
    // the console comes back on the same port
    const con2 = await startConsole(port);
    await until(() => con2.received.length === 200);
    assert.deepEqual(
      con2.received.map((e) => e.output_fields.n),
      Array.from({ length: 200 }, (_, i) => i + 5),
    );
    await s.stop(2000);
    assert.equal(s.stats.sent, 205);
    assert.equal(s.drained, true);
    await con2.close();
  });

  it('a restarted agent replays what it left on disk; 429/503 are retried, 413 splits the batch, 400 is kept aside', async () => {
    const con = await startConsole();
    const dir = newDir();
    // a first run that never reached any console
    const s1 = new Shipper({ server: 'http://127.0.0.1:9', token: 'tok-1', bufferDir: dir, ...opts });
    s1.start();
    s1.enqueue([1, 2, 3].map(ev));
    await s1.stop(0);
    assert.equal(s1.stats.sent, 0);
    con.script.push(429, 503, 413);
    const s2 = new Shipper({ server: con.url, token: 'tok-1', bufferDir: dir, batchMax: 100, ...opts });
    s2.start();
    s2.enqueue([4, 5].map(ev));
    await until(() => con.received.length === 5);
    assert.deepEqual(
      con.received.map((e) => e.output_fields.n),
      [1, 2, 3, 4, 5],
    );
    con.script.push(400);
    s2.enqueue([ev(6)]);
    await until(() => s2.stats.rejected === 1);
    assert.ok(existsSync(join(dir, 'rejected.jsonl')));
    assert.match(readFileSync(join(dir, 'rejected.jsonl'), 'utf8'), /node-1:run:6/);
    s2.enqueue([ev(7)]);
    await until(() => con.received.length === 6);
    // one event too large for the console (413 with a batch of one) is kept aside, not retried forever
    con.script.push(413);
    s2.enqueue([ev(8)]);
    await until(() => s2.stats.rejected === 2);
    assert.match(readFileSync(join(dir, 'rejected.jsonl'), 'utf8'), /node-1:run:8/);
    s2.enqueue([ev(9)]);
    await until(() => con.received.length === 7);
    await s2.stop(2000);
    await con.close();
  });

  it('a wrong token is reported (without the token) and nothing is dropped', async () => {
    const con = await startConsole(0, 'right-token');
    const dir = newDir();
    const w: string[] = [];
    const s = new Shipper({
      server: con.url,
      token: 'wrong-secret',
      bufferDir: dir,
      ...opts,
      onWarn: (m) => w.push(m),
    });
    s.start();
    s.enqueue([ev(1)]);
    await until(() => w.length > 0);
    assert.match(w[0]!, /HTTP 401/);
    assert.ok(!w.join('\n').includes('wrong-secret'));
    await s.stop(0);
    assert.equal(s.drained, false, 'the event stays buffered');
    // the next run with the right token delivers it
    const s2 = new Shipper({ server: con.url, token: 'right-token', bufferDir: dir, ...opts });
    s2.start();
    await until(() => con.received.length === 1);
    await s2.stop(1000);
    await con.close();
  });
});
