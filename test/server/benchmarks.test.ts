/**
 * CIS benchmarks per node in the console (#14), on SQLite and on a real PostgreSQL. The agent's own
 * code runs them: the BenchmarkScheduler with its real child-process runner (the same evaluation as
 * `bulwark benchmark -f json`) over fake-root nodes whose verdicts are known — a good Kubernetes
 * node (every automated check passes), a bad one (four known failures and a password on the
 * kubelet's command line), a Docker host without a Docker Engine API and a node whose root does not
 * exist (both failing runs, reported as such) — shipped through the real Shipper with a cluster
 * token to a real console. The console lists the nodes with counts, scores and errors, one node's
 * checks with filters by status and section, the status in the run before, compliance mappings and
 * redacted actual values; re-sent runs are not doubled; history is bounded; old results are stale;
 * viewers read, cluster tokens read and write their own cluster only; runs also arrive through NATS
 * JetStream (agent --nats, a real nats-server).
 * The live `bulwark agent --benchmark` process is test/agent/benchmark-live.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BenchmarkScheduler,
  Shipper,
  type BenchmarkRunEvent,
  type ShippedEvent,
} from '../../src/agent/index.js';
import { RETAIN_REPORTS, RETAIN_RUNS } from '../../src/server/benchmarks.js';
import { BAD_NODE_FAILS, badNode, goodNode, NODE_SECRET } from '../cis/node-roots.js';
import { BACKENDS, Client, startConsole, stopSharedPostgres, viaNats } from './helpers.js';

after(stopSharedPostgres);
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-benchmarks-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let shipN = 0;
async function ship(base: string, token: string, evs: ShippedEvent[]): Promise<Shipper> {
  const sh = new Shipper({ server: base, token, bufferDir: join(tmp, `buf${shipN++}`), onWarn: () => {} });
  sh.start();
  sh.enqueue(evs);
  const end = Date.now() + 15_000;
  while (!sh.drained && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  await sh.stop(0);
  assert.equal(sh.stats.rejected, 0, 'nothing refused');
  assert.ok(sh.drained, 'delivered');
  return sh;
}

/** One round of the scheduler on a node: the real child-process runner. */
async function runNode(
  node: string,
  specs: ConstructorParameters<typeof BenchmarkScheduler>[0]['benchmarks'],
  prefix = `${node}:run1`,
): Promise<BenchmarkRunEvent[]> {
  const evs: BenchmarkRunEvent[] = [];
  const s = new BenchmarkScheduler({
    benchmarks: specs,
    node,
    cluster: 'prod',
    idPrefix: prefix,
    intervalMs: 3_600_000,
    enqueue: (e) => evs.push(...e),
  });
  await s.runAll();
  return evs;
}

const roots = {
  good: join(tmp, 'good'),
  bad: join(tmp, 'bad'),
  badFixed: join(tmp, 'bad-fixed'),
  docker: join(tmp, 'docker'),
};
let first: BenchmarkRunEvent[] = [];
let second: BenchmarkRunEvent[] = [];

before(async () => {
  goodNode(roots.good);
  badNode(roots.bad);
  badNode(roots.badFixed, ['4.2.2']);
  // a Docker host with no daemon: the Engine API is not reachable
  goodNode(roots.docker);
  first = [
    ...(await runNode('node-good', [{ target: 'k8s-node', root: roots.good }])),
    ...(await runNode('node-bad', [
      { target: 'k8s-node', root: roots.bad },
      { target: 'docker', root: roots.docker },
    ])),
    ...(await runNode('node-broken', [{ target: 'k8s-node', root: join(tmp, 'no-such-root') }])),
  ];
  // node-bad again after its authorization mode was fixed
  second = await runNode('node-bad', [{ target: 'k8s-node', root: roots.badFixed }], 'node-bad:run2');
});

test('the scheduler’s runs: known verdicts, failing runs reported with the reason', () => {
  const by = new Map(first.map((e) => [`${e.node}/${e.benchmark.target}`, e]));
  const good = by.get('node-good/k8s-node')!.benchmark;
  assert.equal(good.status, 'ok', good.error);
  assert.equal(good.id, 'cis-1.9');
  assert.equal(good.totals!.fail, 0);
  assert.ok(good.totals!.pass >= 20, JSON.stringify(good.totals));
  const bad = by.get('node-bad/k8s-node')!.benchmark;
  assert.equal(bad.status, 'ok');
  const failed = bad
    .report!.groups.flatMap((g) => g.checks)
    .filter((c) => c.state === 'FAIL')
    .map((c) => c.id);
  assert.deepEqual(failed.sort(), [...BAD_NODE_FAILS].sort());
  const docker = by.get('node-bad/docker')!.benchmark;
  assert.equal(docker.status, 'error');
  assert.match(docker.error!, /Docker Engine API not reachable/);
  assert.ok(docker.report, 'the checks that could run are kept');
  // docker-bench's 5.2 (AppArmor) is CIS Docker 1.6.0's 5.1
  assert.deepEqual(docker.compliance!['5.2'], [
    { framework: 'cis-docker', control: '5.1' },
    { framework: 'nist-800-190', control: '4.4.3' },
  ]);
  const broken = by.get('node-broken/k8s-node')!.benchmark;
  assert.equal(broken.status, 'error');
  assert.match(broken.error!, /not a directory/);
  assert.equal(broken.report, undefined);
  assert.equal(new Set(first.map((e) => e.id)).size, first.length, 'ids are unique');
});

for (const backend of BACKENDS) {
  describe(`benchmarks in the console (${backend})`, () => {
    test('nodes × benchmarks, one node’s checks, history, staleness, access', async () => {
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
        const viewer = await new Client(con.base).login('vera', 'viewer password 1');
        const tok = await admin.post('/api/tokens', { name: 'agent', role: 'operator', cluster: 'prod' });
        assert.equal(tok.status, 201, JSON.stringify(tok.body));
        const token = tok.body.token as string;
        const labTok = (await admin.post('/api/tokens', { name: 'lab', role: 'operator', cluster: 'lab' }))
          .body.token as string;

        await ship(con.base, token, first);
        await ship(con.base, token, second);
        // re-sent (a lost answer): stored once
        const again = await new Client(con.base, token).post('/api/runtime/events', { events: first });
        assert.equal(again.status, 200, JSON.stringify(again.body));
        assert.deepEqual(again.body, { accepted: 0, duplicates: first.length });

        const list = await viewer.get('/api/benchmarks/nodes');
        assert.equal(list.status, 200, JSON.stringify(list.body));
        assert.deepEqual(list.body.targets, ['docker', 'k8s-node']);
        type Sum = {
          target: string;
          status: string;
          error: string;
          totals: { pass: number; fail: number; warn: number; info: number };
          score: number | null;
          stale: boolean;
          runs: number;
          benchmarkId: string;
          trend: { score: number | null; status: string }[];
        };
        const items = list.body.items as { cluster: string; node: string; benchmarks: Sum[] }[];
        assert.deepEqual(
          items.map((i) => `${i.cluster}/${i.node}:${i.benchmarks.map((b) => b.target).join(',')}`),
          ['prod/node-bad:docker,k8s-node', 'prod/node-broken:k8s-node', 'prod/node-good:k8s-node'],
        );
        const sum = (node: string, target: string) =>
          items.find((i) => i.node === node)!.benchmarks.find((b) => b.target === target)!;
        const good = sum('node-good', 'k8s-node');
        assert.equal(good.status, 'ok');
        assert.equal(good.score, 100);
        assert.equal(good.totals.fail, 0);
        assert.equal(good.stale, false);
        assert.equal(good.benchmarkId, 'cis-1.9');
        const bad = sum('node-bad', 'k8s-node');
        assert.equal(bad.runs, 2);
        assert.equal(bad.totals.fail, BAD_NODE_FAILS.length - 1, 'the latest run: 4.2.2 fixed');
        assert.deepEqual(
          bad.trend.map((t) => t.score),
          [
            Math.round((100 * good.totals.pass - 100 * BAD_NODE_FAILS.length) / good.totals.pass),
            Math.round((100 * (good.totals.pass - BAD_NODE_FAILS.length + 1)) / good.totals.pass),
          ],
        );
        const docker = sum('node-bad', 'docker');
        assert.equal(docker.status, 'error');
        assert.match(docker.error, /Docker Engine API not reachable/);
        const broken = sum('node-broken', 'k8s-node');
        assert.equal(broken.status, 'error');
        assert.match(broken.error, /not a directory/);
        assert.equal(broken.score, null);

        // one node's checks: every check, filters, the run before, redaction
        const q = (p: Record<string, string>) => '/api/benchmarks/node?' + new URLSearchParams(p).toString();
        const detail = await viewer.get(q({ cluster: 'prod', node: 'node-bad', target: 'k8s-node' }));
        assert.equal(detail.status, 200, JSON.stringify(detail.body));
        type Check = {
          id: string;
          title: string;
          section: string;
          status: string;
          actual?: string;
          remediation?: string;
          previous?: string;
          compliance: { framework: string; control: string; title?: string }[];
        };
        const checks = detail.body.checks as Check[];
        assert.equal(
          checks.length,
          good.totals.pass + good.totals.fail + good.totals.warn + good.totals.info,
        );
        assert.deepEqual(
          checks.filter((c) => c.status === 'FAIL').map((c) => c.id),
          BAD_NODE_FAILS.filter((id) => id !== '4.2.2'),
        );
        const c422 = checks.find((c) => c.id === '4.2.2')!;
        assert.equal(c422.status, 'PASS');
        assert.equal(c422.previous, 'FAIL', 'fixed since the run before');
        const c421 = checks.find((c) => c.id === '4.2.1')!;
        assert.match(c421.title, /anonymous-auth/);
        assert.ok(c421.remediation && c421.remediation.length > 20);
        assert.equal(c421.previous, 'FAIL');
        const body = JSON.stringify(detail.body);
        assert.ok(!body.includes(NODE_SECRET), 'the password on the kubelet command line is redacted');
        assert.ok(body.includes('--registry-password=***'), 'redacted where the actual value shows it');
        assert.deepEqual(
          (detail.body.sections as { id: string }[]).map((s) => s.id),
          ['4.1', '4.2', '4.3'],
        );
        assert.equal(detail.body.checksFrom.root, roots.badFixed);
        const failing = await viewer.get(
          q({ cluster: 'prod', node: 'node-bad', target: 'k8s-node', status: 'FAIL,WARN' }),
        );
        assert.ok((failing.body.checks as Check[]).every((c) => c.status === 'FAIL' || c.status === 'WARN'));
        assert.equal((failing.body.checks as Check[]).length, bad.totals.fail + bad.totals.warn);
        const files = await viewer.get(
          q({ cluster: 'prod', node: 'node-bad', target: 'k8s-node', section: '4.1' }),
        );
        assert.ok((files.body.checks as Check[]).length >= 10);
        assert.ok((files.body.checks as Check[]).every((c) => c.section === '4.1'));
        // the Docker run failed, and its checks that could run are shown with their compliance mapping
        const dk = await viewer.get(q({ cluster: 'prod', node: 'node-bad', target: 'docker' }));
        assert.equal(dk.body.summary.status, 'error');
        const d51 = (dk.body.checks as Check[]).find((c) => c.id === '5.2')!;
        assert.deepEqual(
          d51.compliance.map((r) => `${r.framework}:${r.control}`),
          ['cis-docker:5.1', 'nist-800-190:4.4.3'],
        );
        assert.ok(d51.compliance[0]!.title, 'control titles from the framework');
        // a node whose run never produced a report: summary, no checks
        const br = await viewer.get(q({ cluster: 'prod', node: 'node-broken', target: 'k8s-node' }));
        assert.equal(br.status, 200);
        assert.equal(br.body.checksFrom, null);
        assert.deepEqual(br.body.checks, []);
        const none = await viewer.get(q({ cluster: 'prod', node: 'node-good', target: 'docker' }));
        assert.equal(none.status, 404);
        assert.equal(none.body.error.key, 'benchmark.notFound');

        // bounded history: RETAIN_RUNS runs, the newest RETAIN_REPORTS with reports; stale after 2 intervals
        const base = second[0]!;
        const old = Date.now() - 3 * 3_600_000;
        const many: BenchmarkRunEvent[] = Array.from({ length: RETAIN_RUNS + 5 }, (_, i) => ({
          ...base,
          id: `node-old:hist:${i}`,
          node: 'node-old',
          time: new Date(old - (RETAIN_RUNS + 5 - i) * 60_000).toISOString(),
        }));
        await ship(con.base, token, many);
        const oldSum = (await viewer.get('/api/benchmarks/nodes?q=node-old')).body.items[0]
          .benchmarks[0] as Sum;
        assert.equal(oldSum.runs, RETAIN_RUNS);
        assert.equal(oldSum.stale, true, 'three hours old with a one-hour interval');
        assert.equal(oldSum.trend.length, RETAIN_RUNS);
        const oldDetail = await viewer.get(q({ cluster: 'prod', node: 'node-old', target: 'k8s-node' }));
        assert.ok((oldDetail.body.checks as Check[]).length > 0);
        assert.ok(RETAIN_REPORTS >= 2);

        // the console redacts actual values itself, whatever an agent sent
        const leaky = structuredClone(base);
        leaky.id = 'node-leaky:1';
        leaky.node = 'node-leaky';
        const chk = leaky.benchmark.report!.groups[1]!.checks[0]!;
        chk.actual = `--token=${NODE_SECRET} password: ${NODE_SECRET}`;
        await ship(con.base, token, [leaky]);
        const lk = await viewer.get(q({ cluster: 'prod', node: 'node-leaky', target: 'k8s-node' }));
        assert.ok(!JSON.stringify(lk.body).includes(NODE_SECRET));

        // access: none without login; a cluster token reads and writes its own cluster only
        assert.equal((await new Client(con.base).get('/api/benchmarks/nodes')).status, 401);
        const lab = new Client(con.base, labTok);
        assert.deepEqual((await lab.get('/api/benchmarks/nodes')).body.items, []);
        const wrong = await lab.get(q({ cluster: 'prod', node: 'node-bad', target: 'k8s-node' }));
        assert.equal(wrong.status, 403);
        assert.equal(wrong.body.error.key, 'benchmark.wrongCluster');
        assert.equal((await lab.get('/api/benchmarks/nodes?cluster=prod')).status, 403);
        const post = await lab.post('/api/runtime/events', { events: [base] });
        assert.equal(post.status, 403, 'a run of cluster prod refused from a lab token');
        const prodTok = new Client(con.base, token);
        assert.equal((await prodTok.get('/api/benchmarks/nodes')).body.items.length, 5);
        // an unnamed run from a lab token belongs to lab
        const unnamed = {
          ...structuredClone(base),
          id: 'lab-node:1',
          node: 'lab-node',
        } as Partial<BenchmarkRunEvent>;
        delete unnamed.cluster;
        assert.equal((await lab.post('/api/runtime/events', { events: [unnamed] })).status, 200);
        assert.deepEqual(
          ((await lab.get('/api/benchmarks/nodes')).body.items as { cluster: string; node: string }[]).map(
            (i) => `${i.cluster}/${i.node}`,
          ),
          ['lab/lab-node'],
        );
        // a cluster token asking without a cluster reads its own
        const own = await lab.get('/api/benchmarks/node?node=lab-node&target=k8s-node');
        assert.equal(own.status, 200, JSON.stringify(own.body));
        assert.equal(own.body.cluster, 'lab');
        // malformed runs are refused with the field named
        const bad400 = await prodTok.post('/api/runtime/events', {
          events: [{ ...base, id: 'x', benchmark: { ...base.benchmark, status: 'maybe' } }],
        });
        assert.equal(bad400.status, 400);
        assert.match(bad400.body.error.message, /events\.0\.benchmark\.status/);
      } finally {
        await con.close();
      }
    });
  });
}

test(
  'benchmark runs through NATS JetStream (agent --nats) reach the console',
  { timeout: 60_000 },
  async () => {
    await viaNats(join(tmp, 'nats'), async ({ con, shipper: sh }) => {
      sh.enqueue(first.map((e) => ({ ...e, id: `nats:${e.id}`, cluster: 'edge' })));
      const admin = await new Client(con.base).login();
      const end = Date.now() + 20_000;
      let items: { node: string; benchmarks: { target: string; status: string }[] }[] = [];
      while (Date.now() < end) {
        items = (await admin.get('/api/benchmarks/nodes?cluster=edge')).body.items;
        if (items.length === 3) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(
        items.map((i) => `${i.node}:${i.benchmarks.map((b) => `${b.target}=${b.status}`).join(',')}`),
        ['node-bad:docker=error,k8s-node=ok', 'node-broken:k8s-node=error', 'node-good:k8s-node=ok'],
      );
    });
  },
);
