/**
 * Runtime events end to end, on SQLite and on a real PostgreSQL: the rules engine replays a real
 * capture from Falco's regression corpus (cat_write.scap) with the corpus's own rule files, the
 * agent's real Shipper (disk buffer, HTTP sink) delivers the alerts to a real console with an
 * operator API token, and the runtime API lists, filters, groups and drills down into them. A
 * re-sent batch is not doubled; malformed events get 400 with the field named; alerts reach a real
 * webhook receiver on 127.0.0.1 with Falco's JSON fields, a noisy rule summarised instead of flooding.
 * The container metadata attached to the capture's (host) threads is made up for the test: the
 * capture has no containers; the live sensor tests (test/runtime/sensor-*.test.ts) cover real ones.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Shipper, type RuntimeEvent } from '../../src/agent/index.js';
import { toCef, toSyslog, type NotifyEvent } from '../../src/server/index.js';
import { captureEvents, POD } from './runtime-data.js';
import { BACKENDS, Client, startConsole, stopSharedPostgres } from './helpers.js';

after(stopSharedPostgres);

const tmp = mkdtempSync(join(tmpdir(), 'bulwark-runtime-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Hook {
  url: string;
  got: NotifyEvent[];
  badSignatures: number;
  close(): Promise<void>;
}

async function webhook(secret: string): Promise<Hook> {
  const h: Hook = { url: '', got: [], badSignatures: 0, close: async () => {} };
  const srv: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const ts = String(req.headers['x-bulwark-timestamp']);
      const want = 'sha256=' + createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');
      if (req.headers['x-bulwark-signature'] !== want) h.badSignatures++;
      h.got.push(JSON.parse(body) as NotifyEvent);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address() as { port: number };
  h.url = `http://127.0.0.1:${addr.port}/hook`;
  h.close = () => new Promise<void>((r) => srv.close(() => r()));
  return h;
}

async function until(cond: () => boolean | Promise<boolean>, ms = 15_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const { events, byRule } = await captureEvents();

for (const backend of BACKENDS) {
  describe(`runtime events (${backend})`, () => {
    test('the agent ships alerts once; the API lists, filters, groups and drills down', async () => {
      const hook = await webhook('hook-secret-1');
      const con = await startConsole(backend, {
        workers: true,
        runtimeNotify: { burst: 3, windowMs: 1500 },
      });
      const dirs: string[] = [];
      try {
        const admin = await new Client(con.base).login();
        const dest = await admin.post('/api/notifications/destinations', {
          name: 'soc',
          type: 'webhook',
          config: { url: hook.url, secret: 'hook-secret-1' },
        });
        assert.equal(dest.status, 201, JSON.stringify(dest.body));
        const rule = await admin.post('/api/notifications/rules', {
          name: 'runtime to soc',
          event: 'runtime-alert',
          minSeverity: 'MEDIUM',
          destinationId: dest.body.id,
        });
        assert.equal(rule.status, 201, JSON.stringify(rule.body));
        const tok = await admin.post('/api/tokens', { name: 'agent node-a', role: 'operator' });
        assert.equal(tok.status, 201);
        const token = tok.body.token as string;

        const ship = async (evs: RuntimeEvent[], batchMax: number) => {
          const dir = mkdtempSync(join(tmp, 'buf-'));
          dirs.push(dir);
          const warnings: string[] = [];
          const s = new Shipper({
            server: con.base,
            token,
            bufferDir: dir,
            batchMax,
            onWarn: (m) => warnings.push(m),
          });
          s.start();
          s.enqueue(evs);
          await until(() => s.drained, 20_000, 'the shipper to drain');
          await s.stop(0);
          assert.equal(s.stats.rejected, 0, warnings.join('\n'));
          assert.ok(!warnings.join('\n').includes(token), 'the token is never printed');
          return s.stats;
        };
        const st = await ship(events, 7);
        assert.equal(st.sent, events.length);

        const viewer = admin;
        const all = await viewer.get(`/api/runtime/events?pageSize=500`);
        assert.equal(all.status, 200, JSON.stringify(all.body));
        assert.equal(all.body.total, events.length);
        // newest first, exact agent times kept
        const times = all.body.items.map((e: { time: string }) => e.time);
        assert.deepEqual([...times].sort().reverse(), times);
        assert.ok(
          times.every((t: string) => /\.\d{9}Z$/.test(t)),
          'nanosecond times as Falco prints them',
        );

        // the agent re-sends everything (a lost answer): nothing doubles
        await ship(events, 50);
        assert.equal((await viewer.get('/api/runtime/events')).body.total, events.length);

        // filters
        const errors = await viewer.get('/api/runtime/events?priority=error&pageSize=500');
        assert.equal(errors.body.total, byRule.get('exec_from_cat') ?? 0);
        assert.ok(errors.body.items.every((e: { rule: string }) => e.rule === 'exec_from_cat'));
        const warnUp = await viewer.get('/api/runtime/events?priority=WARNING');
        assert.equal(
          warnUp.body.total,
          (byRule.get('exec_from_cat') ?? 0) + (byRule.get('open_from_cat') ?? 0),
          'Warning and above: the Error and Warning rules, not the Info one',
        );
        const byTag = await viewer.get('/api/runtime/events?tag=T1005');
        assert.equal(byTag.body.total, byRule.get('open_from_cat'));
        const inPod = await viewer.get('/api/runtime/events?namespace=team-a&pageSize=500');
        assert.equal(inPod.body.total, Math.ceil(events.length / 2));
        assert.ok(
          inPod.body.items.every(
            (e: { container: { id: string; image: string }; k8s: { pod: string } }) =>
              e.container.id === POD.id && e.container.image === POD.image && e.k8s.pod === POD.k8s!.podName,
          ),
        );
        const byShortId = await viewer.get(`/api/runtime/events?container=${POD.id.slice(0, 12)}`);
        assert.equal(byShortId.body.total, inPod.body.total);
        const host = await viewer.get('/api/runtime/events?container=host');
        assert.equal(host.body.total, events.length - inPod.body.total);
        const img = await viewer.get('/api/runtime/events?image=registry.example/team-a/');
        assert.equal(img.body.total, inPod.body.total);
        const text = await viewer.get('/api/runtime/events?q=' + encodeURIComponent('An exec was seen'));
        assert.equal(text.body.total, byRule.get('exec_from_cat'));
        const none = await viewer.get('/api/runtime/events?since=2999-01-01T00:00:00Z');
        assert.equal(none.body.total, 0);
        const bad = await viewer.get('/api/runtime/events?priority=loud');
        assert.equal(bad.status, 400);
        assert.match(bad.body.error.message, /unknown priority "loud"/);

        // summary
        const sum = await viewer.get('/api/runtime/summary');
        assert.equal(sum.status, 200, JSON.stringify(sum.body));
        assert.equal(sum.body.total, events.length);
        assert.deepEqual(
          Object.fromEntries(sum.body.byRule.map((g: { key: string; count: number }) => [g.key, g.count])),
          Object.fromEntries(byRule),
        );
        const tech = Object.fromEntries(
          sum.body.byTechnique.map((g: { key: string; count: number }) => [g.key, g.count]),
        );
        assert.deepEqual(tech, {
          T1005: byRule.get('open_from_cat'),
          ...(byRule.get('exec_from_cat') ? { 'T1059.004': byRule.get('exec_from_cat') } : {}),
        });
        assert.ok(sum.body.byTactic.some((g: { key: string }) => g.key === 'mitre_collection'));
        assert.deepEqual(
          sum.body.byPriority.map((g: { key: string }) => g.key),
          ['Error', 'Warning', 'Informational'].filter((p) => events.some((e) => e.priority === p)),
          'most severe first',
        );
        const sumPod = await viewer.get('/api/runtime/summary?namespace=team-a');
        assert.equal(sumPod.body.total, inPod.body.total);
        assert.deepEqual(sumPod.body.byContainer, [{ key: POD.id, count: inPod.body.total }]);

        // drill-down: the event as sent, Falco's JSON, the process tree root first, the container's other events
        const exec = errors.body.items[0] ?? all.body.items[0];
        const one = await viewer.get(`/api/runtime/events/${exec.id}`);
        assert.equal(one.status, 200, JSON.stringify(one.body));
        const sent = events.find((e) => e.id === one.body.eventId)!;
        assert.deepEqual(one.body.falco, {
          hostname: sent.node,
          output: sent.output,
          output_fields: sent.output_fields,
          priority: sent.priority,
          rule: sent.rule,
          source: 'syscall',
          tags: sent.tags,
          time: sent.time,
        });
        assert.ok(one.body.processTree.length >= 1);
        assert.equal(one.body.processTree.at(-1).name, 'cat', 'the process that fired is the leaf');
        assert.deepEqual(
          one.body.processTree.map((p: { pid: number }) => p.pid),
          [...(sent.process ?? [])].reverse().map((p) => p.pid),
        );
        assert.ok(one.body.related.length > 0, 'other events of the same container nearby');
        assert.ok(
          one.body.related.every(
            (r: { container: { id: string } }) => r.container.id === one.body.container.id,
          ),
        );
        assert.equal((await viewer.get('/api/runtime/events/999999')).status, 404);

        // webhook: each Warning+ alert with Falco's JSON fields, at most 3 per rule and container per window,
        // the rest summarised once the window is over
        const perKey = new Map<string, number>();
        for (const e of events)
          if (e.priority !== 'Informational') {
            const k = `${e.rule}|${e.container?.id ?? ''}|${e.node}`;
            perKey.set(k, (perKey.get(k) ?? 0) + 1);
          }
        const individual = [...perKey.values()].reduce((a, n) => a + Math.min(n, 3), 0);
        const summaries = [...perKey.values()].filter((n) => n > 3).length;
        await until(
          () => hook.got.length >= individual + summaries,
          20_000,
          `${individual} alerts and ${summaries} summaries at the webhook (got ${hook.got.length})`,
        );
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(
          hook.got.length,
          individual + summaries,
          'each stored alert notified once, not per re-send',
        );
        assert.equal(hook.badSignatures, 0);
        assert.ok(hook.got.every((n) => n.type === 'runtime-alert'));
        assert.ok(
          hook.got.every((n) => n.runtime!.falco.priority !== 'Informational'),
          'min severity MEDIUM',
        );
        const first = hook.got.find((n) => !n.runtime!.suppressed)!;
        const orig = events.find((e) => e.id === first.runtime!.eventId)!;
        assert.equal(first.runtime!.falco.rule, orig.rule);
        assert.equal(first.runtime!.falco.output, orig.output);
        assert.deepEqual(first.runtime!.falco.output_fields, orig.output_fields);
        assert.deepEqual(first.runtime!.falco.tags, orig.tags);
        const summary = hook.got.filter((n) => n.runtime!.suppressed);
        assert.equal(summary.length, summaries);
        for (const s of summary) {
          const k = `${s.runtime!.falco.rule}|${s.runtime!.container?.id ?? ''}|${s.runtime!.node}`;
          assert.equal(s.runtime!.suppressed, perKey.get(k)! - 3, `summary of ${k}`);
          assert.match(s.summary, /more ".*" alert\(s\)/);
        }
        // the same notification as syslog RFC 5424 and CEF
        const cef = toCef(first);
        assert.match(cef, /^CEF:0\|Bulwark\|Bulwark console\|[^|]+\|runtime-alert:/);
        assert.ok(cef.includes(`cs4=${orig.rule}`));
        assert.match(toSyslog(first, { format: 'rfc5424' }), new RegExp(`rule="${orig.rule}"`));
      } finally {
        await con.close();
        await hook.close();
      }
    });

    test('agent stats: latest per node, stale marked, growing drops become one alert each', async () => {
      const con = await startConsole(backend);
      try {
        const admin = await new Client(con.base).login();
        const op = new Client(
          con.base,
          (await admin.post('/api/tokens', { name: 'agent', role: 'operator' })).body.token,
        );
        const t0 = Date.parse('2026-12-01T10:00:00Z');
        const stats = (n: number, runId: string, drops: Record<string, number>, heartbeatSeconds = 30) => ({
          id: `${runId}:stats:${n}`,
          kind: 'stats',
          time: new Date(t0 + n * 30_000).toISOString(),
          node: 'node-a',
          cluster: 'prod-eu',
          stats: {
            runId,
            startedAt: new Date(t0).toISOString(),
            version: '0.1.0',
            rules: 87,
            heartbeatSeconds,
            kernelTypes: ['exec', 'openat'],
            events: 1000 * n,
            kernel: {
              exec: { events: 100 * n, drops: drops.exec ?? 0 },
              openat: { events: 900 * n, drops: drops.openat ?? 0 },
            },
            drops: (drops.exec ?? 0) + (drops.openat ?? 0),
            alerts: n,
            buffer: { pendingBytes: 0, dropped: 0, rejected: 0, sent: n },
          },
        });
        const post = async (...items: unknown[]) => {
          const r = await op.post('/api/runtime/events', { events: items });
          assert.equal(r.status, 200, JSON.stringify(r.body));
          return r.body;
        };
        await post(stats(1, 'run-1', {}));
        await post(stats(2, 'run-1', { openat: 40 }), stats(3, 'run-1', { openat: 40 }));
        await post(stats(4, 'run-1', { openat: 45, exec: 2 }));
        await post(stats(4, 'run-1', { openat: 45, exec: 2 })); // re-sent
        await post(stats(2, 'run-1', { openat: 40 })); // an older one replayed late
        const agents = (await admin.get('/api/runtime/agents')).body.items;
        assert.equal(agents.length, 1);
        assert.equal(agents[0].node, 'node-a');
        assert.equal(agents[0].cluster, 'prod-eu');
        assert.equal(agents[0].drops, 47, 'the latest record wins, not the replayed older one');
        assert.equal(agents[0].events, 4000);
        assert.deepEqual(agents[0].kernel.openat, { events: 3600, drops: 45 });
        assert.equal(agents[0].stale, false);
        const drops = await admin.get(
          '/api/runtime/events?rule=Bulwark%20sensor%20dropped%20events&order=asc',
        );
        assert.equal(drops.body.total, 2, 'one alert per record whose drops grew (records 2 and 4)');
        assert.match(drops.body.items[0].output, /dropped 40 event\(s\).*openat: 40/);
        assert.match(drops.body.items[1].output, /dropped 7 event\(s\).*exec: 2, openat: 5/);
        assert.equal(drops.body.items[1].priority, 'Error');
        // a restarted agent counts from zero: its first record with drops alerts on all of them
        await post({ ...stats(5, 'run-2', { exec: 3 }) });
        const after2 = await admin.get('/api/runtime/events?rule=Bulwark%20sensor%20dropped%20events');
        assert.equal(after2.body.total, 3);
        assert.match(after2.body.items[0].output, /dropped 3 event\(s\) since its last report \(exec: 3\)/);
        // an agent that stopped reporting is stale (three heartbeats)
        await post({ ...stats(6, 'run-3', {}, 0.1), node: 'node-b' });
        await new Promise((r) => setTimeout(r, 400));
        const nb = (await admin.get('/api/runtime/agents')).body.items.find(
          (a: { node: string }) => a.node === 'node-b',
        );
        assert.equal(nb.stale, true);
        const bad = await op.post('/api/runtime/events', {
          events: [{ ...stats(7, 'run-1', {}), stats: { runId: 'x' } }],
        });
        assert.equal(bad.status, 400);
        assert.match(bad.body.error.message, /events\.0\.stats\.startedAt/);
      } finally {
        await con.close();
      }
    });

    test('bad batches get 400 naming the field; only operators may post; no token, no entry', async () => {
      const con = await startConsole(backend);
      try {
        const admin = await new Client(con.base).login();
        const op = new Client(
          con.base,
          (await admin.post('/api/tokens', { name: 'agent', role: 'operator' })).body.token,
        );
        const viewer = new Client(
          con.base,
          (await admin.post('/api/tokens', { name: 'ro', role: 'viewer' })).body.token,
        );
        const ok = { ...events[0]!, id: 'x-1' };
        const r1 = await op.post('/api/runtime/events', {
          events: [ok, { ...ok, id: 'x-2', priority: 'LOUD' }],
        });
        assert.equal(r1.status, 400);
        assert.match(JSON.stringify(r1.body), /events\.1\.priority|events\[1\]/);
        assert.match(r1.body.error.message, /unknown priority "LOUD"/);
        const r2 = await op.post('/api/runtime/events', {
          events: [{ ...ok, id: 'x-3', time: 'yesterday' }],
        });
        assert.equal(r2.status, 400);
        const r3 = await op.post('/api/runtime/events', { events: [{ ...ok, id: 'x-4', rule: undefined }] });
        assert.equal(r3.status, 400);
        assert.match(r3.body.error.message, /an alert needs rule and priority/);
        assert.equal((await op.post('/api/runtime/events', { events: [] })).status, 400);
        assert.equal(
          (await admin.get('/api/runtime/events')).body.total,
          0,
          'a refused batch stores nothing',
        );
        assert.equal((await viewer.post('/api/runtime/events', { events: [ok] })).status, 403);
        assert.equal((await new Client(con.base).post('/api/runtime/events', { events: [ok] })).status, 401);
        // a profile deviation (kind deviation) keeps its own fields
        const dev = {
          id: 'dev-1',
          kind: 'deviation',
          time: new Date().toISOString(),
          node: 'node-a',
          output: 'process /usr/bin/nc is not in the profile of team-a/shop',
          container: { id: POD.id, name: 'shop', image: POD.image },
          workload: 'team-a/shop',
          deviation: { type: 'exe', value: '/usr/bin/nc' },
          mode: 'monitor',
        };
        const r4 = await op.post('/api/runtime/events', { events: [ok, dev, ok] });
        assert.equal(r4.status, 200, JSON.stringify(r4.body));
        assert.deepEqual(r4.body, { accepted: 2, duplicates: 1 });
        const list = await admin.get('/api/runtime/events?kind=deviation');
        assert.equal(list.body.total, 1);
        assert.equal(list.body.items[0].rule, 'deviation');
        const d = await admin.get(`/api/runtime/events/${list.body.items[0].id}`);
        assert.deepEqual(d.body.event.deviation, dev.deviation);
        assert.equal(d.body.event.workload, 'team-a/shop');
        // text search takes % and _ literally, on SQLite too (LIKE … ESCAPE), and ignores case
        const lit = await op.post('/api/runtime/events', {
          events: [
            { ...ok, id: 'l-1', output: 'opened /tmp/A_b%c by cat', tags: ['my_tag'] },
            { ...ok, id: 'l-2', output: 'opened /tmp/aXbYc by cat', tags: ['myXtag'] },
          ],
        });
        assert.equal(lit.status, 200, JSON.stringify(lit.body));
        const q = async (p: string) => (await admin.get(`/api/runtime/events?${p}`)).body.total as number;
        assert.equal(await q(`q=${encodeURIComponent('a_b%c')}`), 1);
        assert.equal(await q(`q=${encodeURIComponent('/tmp/a')}`), 2);
        assert.equal(await q('tag=my_tag'), 1);
        const big = Array.from({ length: 5001 }, (_, i) => ({ ...ok, id: `b-${i}` }));
        assert.equal((await op.post('/api/runtime/events', { events: big })).status, 413);
      } finally {
        await con.close();
      }
    });
  });
}
