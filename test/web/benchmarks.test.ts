/**
 * The Benchmarks page in a real browser (Debian's chromium via playwright-core) against a real
 * `bulwark server` process, fed by the agent's own code: the BenchmarkScheduler with its real
 * child-process runner over fake-root nodes (a good Kubernetes node, a bad one with four known
 * failures and a password on the kubelet's command line, a Docker host without a Docker Engine
 * API) through the real Shipper. The page shows nodes × benchmarks with scores, counts and the
 * failed run; the drill-down lists a node's checks, filtered by status and section, with the
 * actual value redacted, the remediation and the compliance mapping; the node agents table on the
 * Runtime page links to it; zh-CN throughout. Screenshots go to test-results/web/.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { BenchmarkScheduler, Shipper, type BenchmarkRunEvent } from '../../src/agent/index.js';
import { BAD_NODE_FAILS, badNode, goodNode, NODE_SECRET } from '../cis/node-roots.js';
import { Client } from '../server/helpers.js';
import { signIn, webConsole } from './helpers.js';

const PASSWORD = 'correct horse battery staple 14';
const wc = webConsole('bulwark-web-bench-', PASSWORD);

async function runNode(
  node: string,
  specs: ConstructorParameters<typeof BenchmarkScheduler>[0]['benchmarks'],
): Promise<BenchmarkRunEvent[]> {
  const evs: BenchmarkRunEvent[] = [];
  await new BenchmarkScheduler({
    benchmarks: specs,
    node,
    cluster: 'prod-eu',
    idPrefix: `${node}:run`,
    enqueue: (e) => evs.push(...e),
  }).runAll();
  return evs;
}

test(
  'benchmarks page: nodes × benchmarks, drill-down with filters, runtime link, zh-CN',
  { timeout: 180_000 },
  async () => {
    const srv = wc.server!;
    const { page, shot } = wc.browser!;
    const api = await new Client(srv.url).login('admin', PASSWORD);
    const tok = await api.post('/api/tokens', { name: 'agent', role: 'operator', cluster: 'prod-eu' });
    assert.equal(tok.status, 201, JSON.stringify(tok.body));
    const runs = [
      ...(await runNode('node-good', [{ target: 'k8s-node', root: goodNode(join(wc.dir, 'good')) }])),
      ...(await runNode('node-bad', [
        { target: 'k8s-node', root: badNode(join(wc.dir, 'bad')) },
        { target: 'docker', root: goodNode(join(wc.dir, 'docker')) },
      ])),
    ];
    const shipper = new Shipper({
      server: srv.url,
      token: tok.body.token as string,
      bufferDir: join(wc.dir, 'buffer'),
      onWarn: () => {},
    });
    shipper.start();
    shipper.enqueue(runs);
    // the node's agent stats too, so the Runtime page's agents table has the node
    shipper.enqueue([
      {
        id: 'node-bad:run:stats:1',
        kind: 'stats',
        time: new Date().toISOString(),
        node: 'node-bad',
        cluster: 'prod-eu',
        stats: {
          runId: 'node-bad:run',
          startedAt: new Date().toISOString(),
          version: '0.1.0',
          rules: 1,
          heartbeatSeconds: 30,
          kernelTypes: ['exec'],
          events: 10,
          kernel: { exec: { events: 10, drops: 0 } },
          drops: 0,
          alerts: 0,
        },
      },
    ]);
    const end = Date.now() + 15_000;
    while (!shipper.drained && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    await shipper.stop(0);
    assert.ok(shipper.drained, 'delivered');

    await page.goto(srv.url);
    await signIn(page, 'admin', PASSWORD);

    // the node agents table links to the node's benchmarks
    await page.getByRole('link', { name: 'Runtime', exact: true }).click();
    const link = page.getByTestId('agent-bench-node-bad').getByRole('link', { name: /CIS Kubernetes node/ });
    await link.waitFor();
    await page.getByRole('link', { name: 'Benchmarks', exact: true }).click();

    // nodes × benchmarks
    const table = page.getByTestId('bench-nodes');
    await table.locator('tbody tr', { hasText: 'node-bad' }).waitFor();
    const heads = await table.locator('thead th').allTextContents();
    assert.deepEqual(heads, ['Node', 'CIS Docker', 'CIS Kubernetes node']);
    assert.equal(
      await page.getByTestId('bench-node-good-k8s-node').getByTestId('score').textContent(),
      '100%',
    );
    const badCell = page.getByTestId('bench-node-bad-k8s-node');
    const badScore = Number((await badCell.getByTestId('score').textContent())!.replace('%', ''));
    assert.ok(badScore > 0 && badScore < 100, String(badScore));
    assert.match(
      (await page.getByTestId('bench-node-bad-docker').getByTestId('run-error').textContent()) ?? '',
      /Run failed: Docker Engine API not reachable/,
    );
    assert.equal(
      await page.getByTestId('bench-node-good-docker').count(),
      0,
      'node-good runs no Docker benchmark',
    );
    await shot('benchmarks-nodes');

    // drill-down: every check, failing ones open with their details
    await badCell.getByRole('link').click();
    await page.getByTestId('bench-node-page').waitFor();
    await page.getByTestId('check-4.2.1').waitFor();
    const states = async () =>
      page
        .getByTestId('bench-checks')
        .locator('tbody tr[data-state]')
        .evaluateAll((rows) =>
          rows.map((r) => [r.getAttribute('data-testid')!.slice(6), r.getAttribute('data-state')!]),
        );
    const all = await states();
    assert.deepEqual(
      all.filter(([, s]) => s === 'FAIL').map(([id]) => id),
      BAD_NODE_FAILS,
    );
    assert.ok(all.length > 20, `${all.length} checks`);
    const d421 = page.getByTestId('detail-4.2.1');
    assert.match((await d421.getByTestId('remediation').textContent()) ?? '', /anonymous/i);
    // the kubelet command line (4.2.7's actual value) shows the password redacted
    await page.getByTestId('check-4.2.7').getByRole('button').click();
    const actual = (await page.getByTestId('detail-4.2.7').getByTestId('actual').textContent()) ?? '';
    assert.match(actual, /--registry-password=\*\*\*/);
    assert.ok(!(await page.content()).includes(NODE_SECRET), 'the password is nowhere on the page');
    await shot('benchmarks-node');

    // filters: status, then section
    await page.getByTestId('status-filter').selectOption('FAIL');
    await page.waitForURL(/status=FAIL/);
    await page
      .getByTestId('check-count')
      .filter({ hasText: `${BAD_NODE_FAILS.length} checks shown` })
      .waitFor();
    assert.deepEqual(
      (await states()).map(([id]) => id),
      BAD_NODE_FAILS,
    );
    await page.getByTestId('section-filter').selectOption('4.1');
    await page.waitForURL(/section=4\.1/);
    await page.getByTestId('check-count').filter({ hasText: '2 checks shown' }).waitFor();
    assert.deepEqual(
      (await states()).map(([id]) => id),
      BAD_NODE_FAILS.filter((id) => id.startsWith('4.1.')),
    );

    // the node's other benchmark, one click away: the Docker run failed; the checks it could run
    // are shown with their compliance mapping
    await page.getByTestId('bench-targets').getByRole('link', { name: 'CIS Docker' }).click();
    await page.waitForURL(/target=docker/);
    await page.getByTestId('run-error').waitFor();
    await page.goto(`${srv.url}/benchmarks/node?cluster=prod-eu&node=node-bad&target=docker&section=5`);
    await page.getByTestId('run-error').filter({ hasText: 'Docker Engine API not reachable' }).waitFor();
    const c52 = page.getByTestId('check-5.2');
    await c52.waitFor();
    assert.match((await c52.textContent()) ?? '', /cis-docker 5\.1.*nist-800-190 4\.4\.3/);

    // zh-CN
    await page.getByLabel('Language').selectOption('zh-CN');
    await page.getByRole('link', { name: '基准检查', exact: true }).click();
    await page.getByRole('heading', { name: '节点基准检查' }).waitFor();
    assert.deepEqual(await table.locator('thead th').allTextContents(), [
      '节点',
      'CIS Docker 基准',
      'CIS Kubernetes 节点基准',
    ]);
    assert.match((await page.getByTestId('bench-node-bad-docker').textContent()) ?? '', /运行失败/);
    await page.getByTestId('bench-node-bad-k8s-node').getByRole('link').click();
    await page.getByTestId('check-4.2.1').locator('[data-state=FAIL]', { hasText: '失败' }).waitFor();
    assert.match((await page.getByTestId('bench-node-page').textContent()) ?? '', /修复建议/);
    await shot('benchmarks-node-zh');
  },
);
