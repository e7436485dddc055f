/**
 * Multi-cluster, on SQLite and on a real PostgreSQL: cluster tokens bind what is sent with them to
 * their cluster — agents' events and stats that name no cluster get it, events that name another
 * one are refused (403, the item named); a CI upload (the real scan report of the Debian fixture
 * image) made with a cluster token belongs to that cluster; /api/clusters puts the clusters side by
 * side (agents, events by priority, images and their critical/high findings).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { debianReport } from './data.js';
import { BACKENDS, Client, startConsole, stopSharedPostgres } from './helpers.js';

after(stopSharedPostgres);

const alert = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'alert',
  time: new Date().toISOString(),
  node: 'node-1',
  rule: 'Terminal shell in container',
  priority: 'Notice',
  output: 'shell',
  ...extra,
});

for (const backend of BACKENDS) {
  describe(`clusters (${backend})`, () => {
    test('cluster tokens, cluster-bound events and uploads, clusters compared', async () => {
      const { report } = await debianReport();
      const con = await startConsole(backend);
      try {
        const admin = await new Client(con.base).login();
        const mk = async (name: string, cluster?: string) => {
          const r = await admin.post('/api/tokens', {
            name,
            role: 'operator',
            ...(cluster ? { cluster } : {}),
          });
          assert.equal(r.status, 201, JSON.stringify(r.body));
          return new Client(con.base, r.body.token);
        };
        const eu = await mk('agents prod-eu', 'prod-eu');
        const us = await mk('ci prod-us', 'prod-us');
        const any = await mk('ci');
        assert.equal((await admin.post('/api/tokens', { name: 'bad', cluster: 'no spaces' })).status, 400);
        const tokens = (await admin.get('/api/tokens')).body.items as { name: string; cluster: string }[];
        assert.deepEqual(
          tokens.map((t) => [t.name, t.cluster]),
          [
            ['agents prod-eu', 'prod-eu'],
            ['ci prod-us', 'prod-us'],
            ['ci', ''],
          ],
        );

        // events: unnamed → the token's cluster; another cluster → refused, nothing stored
        const ok = await eu.post('/api/runtime/events', {
          events: [
            alert('e-1'),
            alert('e-2', { cluster: 'prod-eu', priority: 'Critical', rule: 'Read sensitive file untrusted' }),
            {
              id: 'e-stats-1',
              kind: 'stats',
              time: new Date().toISOString(),
              node: 'node-1',
              stats: {
                runId: 'r1',
                startedAt: new Date().toISOString(),
                version: 't',
                rules: 5,
                heartbeatSeconds: 30,
                kernelTypes: ['exec'],
                events: 10,
                kernel: { exec: { events: 10, drops: 0 } },
                drops: 0,
                alerts: 2,
              },
            },
          ],
        });
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        const wrong = await eu.post('/api/runtime/events', {
          events: [alert('e-3'), alert('e-4', { cluster: 'prod-us' })],
        });
        assert.equal(wrong.status, 403);
        assert.equal(wrong.body.error.code, 'WRONG_CLUSTER');
        assert.match(
          wrong.body.error.message,
          /events\.1 is of cluster prod-us, but this token belongs to cluster prod-eu/,
        );
        assert.equal(
          (await any.post('/api/runtime/events', { events: [alert('x-1', { cluster: 'lab' })] })).status,
          200,
        );
        const inEu = (await admin.get('/api/runtime/events?cluster=prod-eu')).body;
        assert.deepEqual(inEu.items.map((e: { eventId: string }) => e.eventId).sort(), ['e-1', 'e-2']);
        assert.equal(
          (await admin.get('/api/runtime/events')).body.total,
          3,
          'the refused batch stored nothing',
        );
        const agents = (await admin.get('/api/runtime/agents')).body.items as {
          node: string;
          cluster: string;
        }[];
        assert.deepEqual(
          agents.map((a) => [a.cluster, a.node]),
          [['prod-eu', 'node-1']],
        );

        // CI uploads: the scan belongs to the token's cluster
        const up = await us.post('/api/scans', report);
        assert.equal(up.status, 201, JSON.stringify(up.body));
        assert.equal((await any.post('/api/scans', report)).status, 201);
        const usScans = (await admin.get('/api/scans?cluster=prod-us')).body;
        assert.equal(usScans.total, 1);
        assert.equal(usScans.items[0].cluster, 'prod-us');
        assert.equal(
          (await admin.get('/api/scans?cluster=')).body.total,
          1,
          'the unbound upload has no cluster',
        );

        // side by side
        const cl = (await admin.get('/api/clusters')).body.items as {
          cluster: string;
          agents: number;
          events24h: number;
          byPriority24h: Record<string, number>;
          images: number;
          critical: number;
          high: number;
        }[];
        assert.deepEqual(
          cl.map((c) => c.cluster),
          ['lab', 'prod-eu', 'prod-us'],
        );
        const eu1 = cl.find((c) => c.cluster === 'prod-eu')!;
        assert.equal(eu1.agents, 1);
        assert.equal(eu1.events24h, 2);
        assert.deepEqual(eu1.byPriority24h, { Critical: 1, Notice: 1 });
        const us1 = cl.find((c) => c.cluster === 'prod-us')!;
        assert.equal(us1.images, 1);
        assert.equal(us1.critical, usScans.items[0].counts.critical);
        assert.equal(us1.high, usScans.items[0].counts.high);
        assert.ok(us1.critical + us1.high > 0, 'the Debian fixture has critical or high findings');
      } finally {
        await con.close();
      }
    });
  });
}
