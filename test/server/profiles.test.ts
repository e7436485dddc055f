/**
 * Behaviour profiles in the console (#10), on SQLite and on a real PostgreSQL: the agent's own
 * code (ProfileReporter, deviationEvent, responseEvent, the Shipper, ConsoleControl/ControlLoop)
 * talks to a real console. Profiles reported per node are listed per workload with their counts,
 * deviations and responses; an older report re-sent never overwrites a newer one; a viewer cannot
 * switch modes, an operator can (audited) and the agent's pull returns it, applied through the
 * control loop; a reversible response is undone through a command the agent pulls (audited), the
 * response event carrying it out marks it done, and what cannot be undone is refused with 409.
 * Profile reports also arrive through NATS JetStream (agent --nats, a real nats-server).
 * The live end to end (real runc containers, the real agent process) is in
 * test/runtime/sensor-profile-console.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  ControlLoop,
  ConsoleControl,
  ProfileReporter,
  Shipper,
  type ShippedEvent,
} from '../../src/agent/index.js';
import {
  deviationEvent,
  emptyProfile,
  ProfileEngine,
  workloadId,
  type Profile,
} from '../../src/runtime/profile/index.js';
import { responseEvent, type ResponseRecord } from '../../src/runtime/respond/index.js';
import { migrate } from '../../src/server/db/migrations.js';
import { BACKENDS, Client, startConsole, stopSharedPostgres, viaNats } from './helpers.js';

after(stopSharedPostgres);
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-profiles-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const REF = { container: 'web', imageDigest: 'sha256:' + 'cd'.repeat(32) };
const WID = workloadId(REF);
const CONTAINER = { id: 'a1b2c3d4e5f6', name: 'web', imageDigest: REF.imageDigest };

function learned(): Profile {
  const p = emptyProfile(REF);
  p.executables.push(
    { path: '/usr/bin/dash', aliases: ['/bin/sh'], parents: [], uids: [0] },
    { path: '/usr/bin/sleep', parents: ['/usr/bin/dash'], uids: [0] },
  );
  p.filesWritten.push('/tmp');
  p.outbound.push('tcp/10.0.0.5:5432');
  p.syscalls.push('read', 'write', 'execve');
  p.updated = new Date().toISOString();
  return p;
}

const ns = (ms: number) => BigInt(ms) * 1_000_000n;
function response(
  id: string,
  action: ResponseRecord['action'],
  extra: Partial<ResponseRecord> = {},
): ResponseRecord {
  return {
    id,
    ts: ns(Date.now()),
    action,
    status: 'done',
    policy: `${action}-unlearned`,
    source: 'policy.yaml:3',
    trigger: { id: 'node-a:run:dev1', kind: 'deviation', workload: WID, deviation: 'exe' },
    target: { containerId: CONTAINER.id, pid: 4242 },
    latencyMs: 7.5,
    reversible: action === 'pause' || action === 'quarantine' || action === 'capture',
    ...extra,
  };
}

async function ship(dir: string, base: string, token: string, evs: ShippedEvent[]): Promise<void> {
  const sh = new Shipper({ server: base, token, bufferDir: join(tmp, dir), onWarn: () => {} });
  sh.start();
  sh.enqueue(evs);
  const end = Date.now() + 15_000;
  while (!sh.drained && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  await sh.stop(0);
  assert.equal(sh.stats.rejected, 0, 'nothing refused');
  assert.ok(sh.drained, 'delivered');
}

for (const backend of BACKENDS) {
  describe(`profiles in the console (${backend})`, () => {
    test('reports, workload pages, mode switch pulled by the agent, undo through a command', async () => {
      const con = await startConsole(backend);
      try {
        const admin = await new Client(con.base).login();
        assert.equal(
          (
            await admin.post('/api/users', {
              username: 'vera',
              password: 'viewer password 1',
              role: 'viewer',
            })
          ).status,
          201,
        );
        assert.equal(
          (
            await admin.post('/api/users', {
              username: 'otto',
              password: 'operator password 1',
              role: 'operator',
            })
          ).status,
          201,
        );
        const viewer = await new Client(con.base).login('vera', 'viewer password 1');
        const operator = await new Client(con.base).login('otto', 'operator password 1');
        const tok = await admin.post('/api/tokens', { name: 'agent', role: 'operator', cluster: 'prod' });
        assert.equal(tok.status, 201, JSON.stringify(tok.body));
        const token = tok.body.token as string;

        // two nodes report the workload's profile; node-a also a deviation and three responses
        const p = learned();
        const engine = new ProfileEngine({ profiles: new Map([[WID, p]]), mode: 'monitor' });
        const where = (node: string) => ({ node, cluster: 'prod' });
        const repA = new ProfileReporter('node-a:run', where('node-a'));
        const repB = new ProfileReporter('node-b:run', where('node-b'));
        const first = repA.due([[WID, p, 'monitor']]);
        assert.equal(first.length, 1);
        assert.deepEqual(repA.due([[WID, p, 'monitor']]), [], 'unchanged: not reported again');
        const dev = deviationEvent(
          {
            what: 'exe',
            value: '/usr/bin/perl',
            ts: ns(Date.now() - 2000),
            workload: REF,
            workloadId: WID,
            container: CONTAINER,
            mode: 'monitor',
            action: 'none',
            process: { pid: 4242, exe: '/usr/bin/perl', cmdline: 'perl -e 1', uid: 0 },
          },
          'node-a:run:dev1',
          where('node-a'),
        );
        const w = { ...where('node-a'), container: CONTAINER };
        const pause = responseEvent(response('node-a:run:response:1', 'pause'), 'node-a:run:response:1', w);
        const kill = responseEvent(response('node-a:run:response:2', 'kill'), 'node-a:run:response:2', w);
        const quar = responseEvent(
          response('node-a:run:response:3', 'quarantine'),
          'node-a:run:response:3',
          w,
        );
        await ship('a', con.base, token, [...first, dev, pause, kill, quar]);
        await ship('b', con.base, token, repB.due([[WID, p, 'monitor']]));

        const list = await viewer.get('/api/runtime/workloads');
        assert.equal(list.status, 200, JSON.stringify(list.body));
        assert.equal(list.body.items.length, 1);
        const row = list.body.items[0];
        assert.deepEqual(
          [
            row.cluster,
            row.workload,
            row.mode,
            row.modes,
            row.counts,
            row.deviations,
            row.responses,
            row.desired,
          ],
          [
            'prod',
            WID,
            'monitor',
            { 'node-a': 'monitor', 'node-b': 'monitor' },
            { executables: 2, filesWritten: 1, outbound: 1, listening: 0, syscalls: 3 },
            1,
            3,
            null,
          ],
        );
        assert.equal(row.ref.imageDigest, REF.imageDigest);
        const q = (s: string) => `/api/runtime/workload?cluster=prod&workload=${encodeURIComponent(s)}`;
        const one = await viewer.get(q(WID));
        assert.equal(one.status, 200, JSON.stringify(one.body));
        assert.deepEqual(
          one.body.profile.executables.map((e: { path: string }) => e.path),
          ['/usr/bin/dash', '/usr/bin/sleep'],
        );
        assert.deepEqual(one.body.profile.syscalls, ['read', 'write', 'execve']);
        assert.deepEqual(one.body.nodes.map((n: { node: string }) => n.node).sort(), ['node-a', 'node-b']);
        assert.deepEqual(
          one.body.deviations.map((d: { type: string; value: string; mode: string }) => [
            d.type,
            d.value,
            d.mode,
          ]),
          [['exe', '/usr/bin/perl', 'monitor']],
        );
        const state = (b: { responses: { eventId: string; state: string }[] }) =>
          Object.fromEntries(b.responses.map((r) => [r.eventId, r.state]));
        assert.deepEqual(state(one.body), {
          'node-a:run:response:1': 'active',
          'node-a:run:response:2': 'done',
          'node-a:run:response:3': 'active',
        });
        assert.equal((await viewer.get(q('image:nope:web'))).status, 404);

        // an older report replayed late does not overwrite the newer one
        const stale = repA.due([[WID, { ...p, executables: [], updated: 'x' }, 'discover']]);
        stale[0]!.time = new Date(Date.now() - 3600_000).toISOString();
        await ship('a2', con.base, token, stale);
        assert.equal(
          (await viewer.get(q(WID))).body.nodes.find((n: { node: string }) => n.node === 'node-a').mode,
          'monitor',
        );

        // mode switch: not for viewers; operators, audited; the agent pulls it and applies it
        const body = { cluster: 'prod', workload: WID, mode: 'protect' };
        assert.equal((await viewer.req('PUT', '/api/runtime/workloads/mode', body)).status, 403);
        assert.equal(
          (await operator.req('PUT', '/api/runtime/workloads/mode', { ...body, workload: 'image:x:y' }))
            .status,
          404,
        );
        const set = await operator.req('PUT', '/api/runtime/workloads/mode', body);
        assert.equal(set.status, 200, JSON.stringify(set.body));
        assert.equal(set.body.setBy, 'otto');
        const audit = await admin.get('/api/audit?pageSize=100');
        const modeAudit = audit.body.items.find((a: { action: string }) => a.action === 'profile.mode');
        assert.ok(modeAudit, JSON.stringify(audit.body.items.map((a: { action: string }) => a.action)));
        assert.equal(modeAudit.actor, 'otto');
        assert.equal(modeAudit.target, `workload:prod/${WID}`);
        assert.deepEqual([modeAudit.detail.from, modeAudit.detail.to], ['monitor', 'protect']);
        // another cluster's token cannot pull or set this cluster's
        const other = await admin.post('/api/tokens', { name: 'other', role: 'operator', cluster: 'dev' });
        const otherC = new Client(con.base, other.body.token);
        assert.equal((await otherC.get('/api/runtime/agents/commands?node=node-a&cluster=prod')).status, 403);
        assert.equal((await otherC.req('PUT', '/api/runtime/workloads/mode', body)).status, 403);

        // undo: a kill cannot be undone; a pause can, once; a viewer cannot
        const resp = (await viewer.get(q(WID))).body.responses as { id: number; eventId: string }[];
        const rowOf = (eid: string) => resp.find((r) => r.eventId === eid)!.id;
        assert.equal(
          (await viewer.post(`/api/runtime/events/${rowOf('node-a:run:response:1')}/undo`)).status,
          403,
        );
        assert.equal(
          (await otherC.post(`/api/runtime/events/${rowOf('node-a:run:response:1')}/undo`)).status,
          403,
          'not with a token of another cluster',
        );
        const k = await operator.post(`/api/runtime/events/${rowOf('node-a:run:response:2')}/undo`);
        assert.equal(k.status, 409);
        assert.equal(k.body.error.key, 'response.notReversible');
        const u = await operator.post(`/api/runtime/events/${rowOf('node-a:run:response:1')}/undo`);
        assert.equal(u.status, 202, JSON.stringify(u.body));
        assert.equal(u.body.command.node, 'node-a');
        const again = await operator.post(`/api/runtime/events/${rowOf('node-a:run:response:1')}/undo`);
        assert.equal(again.status, 409);
        assert.equal(again.body.error.key, 'response.undoPending');
        const uq = await operator.post(`/api/runtime/events/${rowOf('node-a:run:response:3')}/undo`);
        assert.equal(uq.status, 202);
        assert.equal(state((await viewer.get(q(WID))).body)['node-a:run:response:1'], 'undoing');

        // the agent of node-a: its control loop pulls (real HTTP), applies the mode, carries out the undos
        const undone: [string, number][] = [];
        const shipped: ShippedEvent[] = [];
        const loop = new ControlLoop({
          control: new ConsoleControl({ server: con.base, token, node: 'node-a', cluster: 'prod' }),
          reporter: repA,
          profiles: () => [...engine.profiles].map(([id, x]) => [id, x, engine.modeOf(x)]),
          target: {
            modeOf: (id) => (engine.profiles.get(id) ? engine.modeOf(engine.profiles.get(id)!) : undefined),
            setMode: async (id, m) => engine.setMode(id, m),
            undo: async (id, cmd) => {
              undone.push([id, cmd]);
              // the pause is resumed; the quarantine is not in force any more (the agent restarted)
              const rec =
                id === 'node-a:run:response:1'
                  ? response('node-a:run:response:4', 'resume', {
                      undoes: id,
                      automatic: false,
                      command: cmd,
                      reversible: false,
                    })
                  : response('node-a:run:response:5', 'undo', {
                      undoes: id,
                      command: cmd,
                      status: 'skipped',
                      reversible: false,
                      error: 'not in force',
                    });
              shipped.push(responseEvent(rec, rec.id, w));
            },
          },
          enqueue: (evs) => shipped.push(...evs),
        });
        await loop.tick();
        assert.equal(engine.modeOf(p), 'protect', 'the mode the console set, over the run’s --mode');
        assert.deepEqual(
          undone.map(([id]) => id),
          ['node-a:run:response:1', 'node-a:run:response:3'],
        );
        await loop.tick();
        assert.equal(undone.length, 2, 'each command carried out once');
        assert.equal(loop.counters.modes, 1);
        const reports = shipped.filter((e) => e.kind === 'profile');
        // (the stale report above was the reporter's last: the first tick reports the profile again)
        assert.deepEqual(
          reports.map((r) => (r as { profile: { mode: string } }).profile.mode),
          ['monitor', 'protect'],
          'the changed mode reported at once',
        );
        await loop.close();
        await ship('a3', con.base, token, shipped);
        const after1 = (await viewer.get(q(WID))).body;
        assert.equal(after1.nodes.find((n: { node: string }) => n.node === 'node-a').mode, 'protect');
        assert.deepEqual(after1.desired.mode, 'protect');
        const st = state(after1);
        assert.equal(st['node-a:run:response:1'], 'undone');
        assert.equal(st['node-a:run:response:3'], 'ended', 'not in force on the agent any more');
        const r1 = after1.responses.find((r: { eventId: string }) => r.eventId === 'node-a:run:response:1');
        assert.deepEqual(
          [r1.command.state, r1.undoneBy.action, r1.undoneBy.automatic],
          ['done', 'resume', false],
        );
        const r3 = after1.responses.find((r: { eventId: string }) => r.eventId === 'node-a:run:response:3');
        assert.deepEqual([r3.command.state, r3.command.error], ['skipped', 'not in force']);
        const done = await operator.post(`/api/runtime/events/${rowOf('node-a:run:response:1')}/undo`);
        assert.equal(done.status, 409);
        assert.equal(done.body.error.key, 'response.alreadyUndone');
        const pulled = await new Client(con.base, token).get('/api/runtime/agents/commands?node=node-a');
        assert.deepEqual(pulled.body.commands, [], 'nothing pending');
        assert.deepEqual(
          pulled.body.modes.map((m: { workload: string; mode: string }) => [m.workload, m.mode]),
          [[WID, 'protect']],
        );
        const audit2 = (await admin.get('/api/audit?pageSize=100')).body.items.filter(
          (a: { action: string }) => a.action === 'response.undo',
        );
        assert.equal(audit2.length, 2);
        assert.equal(audit2[0].actor, 'otto');
        assert.match(
          audit2.map((a: { target: string }) => a.target).join(' '),
          /response:node-a:run:response:1/,
        );
      } finally {
        await con.close();
      }
    });
  });
}

test('migration 0005 indexes the deviations and responses stored before it', async () => {
  const { default: BetterSqlite3 } = await import('better-sqlite3');
  const { Kysely, SqliteDialect } = await import('kysely');
  const db = new Kysely<any>({
    dialect: new SqliteDialect({ database: new BetterSqlite3(join(tmp, 'up.db')) }),
  });
  try {
    await migrate(db, 'sqlite', '0004_runtime_events');
    const base = {
      time: new Date().toISOString(),
      received_at: new Date().toISOString(),
      node: 'n',
      cluster: 'c',
      rule: 'x',
      priority: 'Notice',
      priority_rank: 2,
      source: 'syscall',
      output: '',
      container_id: '',
      container_name: '',
      image: '',
      namespace: '',
      pod: '',
      submitted_by: 't',
      tags: '',
    };
    const pause = responseEvent(response('r1', 'pause'), 'r1', { node: 'n', cluster: 'c' });
    await db
      .insertInto('runtime_events')
      .values([
        { ...base, event_id: 'r1', kind: 'response', body: JSON.stringify(pause) },
        { ...base, event_id: 'a1', kind: 'alert', body: '{}' },
      ])
      .execute();
    await migrate(db, 'sqlite');
    const rows = await db.selectFrom('runtime_workload_events').selectAll().execute();
    assert.deepEqual(
      rows.map((r) => [r.event_id, r.kind, r.workload, r.action, r.status, r.reversible]),
      [['r1', 'response', WID, 'pause', 'done', 1]],
    );
  } finally {
    await db.destroy();
  }
});

test(
  'profile reports through NATS JetStream (agent --nats) reach the console',
  { timeout: 60_000 },
  async () => {
    await viaNats(join(tmp, 'nats'), async ({ con, shipper: sh }) => {
      sh.enqueue(
        new ProfileReporter('node-n:run', { node: 'node-n', cluster: 'edge' }).due([
          [WID, learned(), 'protect'],
        ]),
      );
      const admin = await new Client(con.base).login();
      const end = Date.now() + 20_000;
      let items: { workload: string; mode: string; modes: Record<string, string> }[] = [];
      while (Date.now() < end) {
        items = (await admin.get('/api/runtime/workloads?cluster=edge')).body.items;
        if (items.length) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(
        items.map((i) => [i.workload, i.mode, i.modes]),
        [[WID, 'protect', { 'node-n': 'protect' }]],
      );
    });
  },
);
