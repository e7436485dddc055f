/**
 * The Profiles page in a real browser (Debian's chromium via playwright-core) against a real
 * `bulwark server` process. The agent's own code feeds it: ProfileReporter, deviationEvent and
 * responseEvent through the real Shipper, and the agent's ControlLoop/ConsoleControl pulling over
 * HTTP what the operator does in the page. The workload list shows the mode and the counts; the
 * workload page its profile, deviations and responses; the operator switches the mode in the page
 * and sees the agent hold it; undoes the pause and sees it undone; zh-CN throughout; a viewer sees
 * no controls. The same with real containers and the real agent process is
 * test/runtime/sensor-profile-console.test.ts. Screenshots go to test-results/web/.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  ConsoleControl,
  ControlLoop,
  ProfileReporter,
  Shipper,
  type ShippedEvent,
} from '../../src/agent/index.js';
import { deviationEvent, emptyProfile, ProfileEngine, workloadId } from '../../src/runtime/profile/index.js';
import { responseEvent, type ResponseRecord } from '../../src/runtime/respond/index.js';
import { Client } from '../server/helpers.js';
import { signIn, webConsole } from './helpers.js';

const PASSWORD = 'correct horse battery staple 10';
const wc = webConsole('bulwark-web-profiles-', PASSWORD);

const REF = { container: 'shop', namespace: 'team-a', controller: 'deployment/shop' };
const WID = workloadId(REF);
const CONTAINER = {
  id: 'f3c0a9d2b7e1',
  name: 'shop',
  k8s: { namespace: 'team-a', podName: 'shop-7d9f8c-x2k4q' },
};
const ns = (ms: number) => BigInt(ms) * 1_000_000n;

test(
  'profiles page: list, workload profile, mode switch and undo as an operator, zh-CN, viewer',
  { timeout: 180_000 },
  async () => {
    const api = await new Client(wc.server.url).login('admin', PASSWORD);
    assert.equal(
      (await api.post('/api/users', { username: 'vera', password: 'viewer password 1', role: 'viewer' }))
        .status,
      201,
    );
    const tok = await api.post('/api/tokens', { name: 'agent', role: 'operator', cluster: 'prod-eu' });
    assert.equal(tok.status, 201, JSON.stringify(tok.body));
    const token = tok.body.token as string;
    const shipper = new Shipper({
      server: wc.server.url,
      token,
      bufferDir: join(wc.dir, 'buffer'),
      onWarn: () => {},
    });
    shipper.start();
    const flush = async () => {
      const end = Date.now() + 15_000;
      while (!shipper.drained && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.ok(shipper.drained);
    };

    // the agent on node-a: a learned profile in discover mode, a deviation and a pause it made
    const p = emptyProfile(REF);
    p.executables.push(
      { path: '/usr/bin/dash', aliases: ['/bin/sh'], sha256: 'ab'.repeat(32), parents: [], uids: [1000] },
      { path: '/usr/local/bin/shop', parents: ['/usr/bin/dash'], uids: [1000] },
    );
    p.filesWritten.push('/var/cache/shop/**');
    p.outbound.push('tcp/10.96.0.10:5432');
    p.listening.push('tcp/0.0.0.0:8080');
    p.syscalls.push('accept4', 'read', 'write', 'epoll_wait');
    p.updated = new Date().toISOString();
    const engine = new ProfileEngine({ profiles: new Map([[WID, p]]) });
    const where = { node: 'node-a', cluster: 'prod-eu' };
    const reporter = new ProfileReporter('node-a:run', where);
    const held = () => [...engine.profiles].map(([id, x]) => [id, x, engine.modeOf(x)] as const);
    const dev = deviationEvent(
      {
        what: 'exe',
        value: '/usr/bin/curl',
        ts: ns(Date.now() - 5000),
        workload: REF,
        workloadId: WID,
        container: CONTAINER,
        mode: 'monitor',
        action: 'none',
        process: { pid: 777, exe: '/usr/bin/curl', cmdline: 'curl http://evil.example', uid: 1000 },
      },
      'node-a:run:1',
      where,
    );
    const rec = (
      id: string,
      action: ResponseRecord['action'],
      extra: Partial<ResponseRecord> = {},
    ): ResponseRecord => ({
      id,
      ts: ns(Date.now() - 4990),
      action,
      status: 'done',
      policy: 'pause-unlearned',
      source: 'responses.yaml:4',
      trigger: { id: 'node-a:run:1', kind: 'deviation', workload: WID, deviation: 'exe' },
      target: { containerId: CONTAINER.id, pid: 777 },
      latencyMs: 6.2,
      reversible: action === 'pause',
      ...extra,
    });
    shipper.enqueue([
      ...reporter.due(held().map(([a, b, c]) => [a, b, c])),
      dev,
      responseEvent(rec('node-a:run:response:1', 'pause'), 'node-a:run:response:1', {
        ...where,
        container: CONTAINER,
      }),
      // a quarantine for an alert, of no workload (an agent without --profiles): undone from its event page
      responseEvent(
        rec('node-a:run:response:3', 'quarantine', {
          trigger: { id: 'node-a:run:0', kind: 'alert', rule: 'Terminal shell in container' },
          policy: 'isolate-shells',
          reversible: true,
        }),
        'node-a:run:response:3',
        { ...where, container: CONTAINER },
      ),
    ]);
    await flush();
    const shipped: ShippedEvent[] = [];
    let undoSeq = 3;
    const loop = new ControlLoop({
      control: new ConsoleControl({ server: wc.server.url, token, ...where }),
      reporter,
      profiles: () => held().map(([a, b, c]) => [a, b, c]),
      target: {
        modeOf: (id) => (engine.profiles.get(id) ? engine.modeOf(engine.profiles.get(id)!) : undefined),
        setMode: async (id, m) => engine.setMode(id, m),
        undo: async (id, command) => {
          const r = rec(`node-a:run:response:${++undoSeq}`, id.endsWith(':3') ? 'release' : 'resume', {
            undoes: id,
            automatic: false,
            command,
            reversible: false,
          });
          shipped.push(responseEvent(r, r.id, { ...where, container: CONTAINER }));
        },
      },
      enqueue: (evs) => shipped.push(...evs),
    });
    /** one heartbeat of the agent: pull, apply, ship what it made */
    const beat = async () => {
      await loop.tick();
      shipper.enqueue(shipped.splice(0));
      await flush();
    };

    const { page } = wc.browser;
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      await page.goto(wc.server.url);
      await signIn(page, 'admin', PASSWORD);
      await page.getByRole('link', { name: 'Profiles' }).click();
      const row = page.getByTestId('profiles-table').locator('tbody tr', { hasText: WID });
      await row.waitFor();
      const cells = await row.locator('td').allTextContents();
      assert.deepEqual(
        cells.slice(0, 9),
        [WID, 'prod-eu', 'Discover', '2', '1', '2', '4', '1', '1'],
        cells.join(' | '),
      );
      await wc.browser.shot('profiles-01-list');

      await row.getByRole('link', { name: WID }).click();
      const wp = page.getByTestId('workload-page');
      await wp.waitFor();
      await page
        .getByTestId('profile-executables')
        .locator('tr', { hasText: '/usr/local/bin/shop' })
        .waitFor();
      assert.match((await page.getByTestId('profile-syscalls').textContent()) ?? '', /epoll_wait/);
      assert.match((await page.getByTestId('profile-listening').textContent()) ?? '', /tcp\/0\.0\.0\.0:8080/);
      const devRow = page.getByTestId('workload-deviations').locator('tr', { hasText: '/usr/bin/curl' });
      await devRow.waitFor();
      // the deviation's event page links back to the workload's profile
      await devRow.getByRole('link').click();
      await page.getByTestId('runtime-event').waitFor();
      await page.getByTestId('runtime-event').getByRole('link', { name: WID }).click();
      await page.getByTestId('workload-page').waitFor();
      const state = page.getByTestId('state-node-a:run:response:1');
      assert.equal(await state.getAttribute('data-state'), 'active');
      assert.equal((await state.textContent())?.trim(), 'In force');

      // mode switch in the page: desired at once, held once the agent pulled it
      await page.getByTestId('mode-select').selectOption('protect');
      await page.getByTestId('mode-apply').click();
      await page.getByTestId('mode-desired').filter({ hasText: 'Set to Protect by admin' }).waitFor();
      await wc.browser.shot('profiles-02-mode-set');
      await beat();
      assert.equal(engine.modeOf(p), 'protect', 'the agent holds it in protect mode');
      await page
        .getByTestId('workload-nodes')
        .locator('tr', { hasText: 'node-a' })
        .filter({ hasText: 'Protect' })
        .waitFor();
      await page.locator('h1 [data-mode=protect]').waitFor();

      // undo the pause in the page: requested, then undone once the agent carried it out
      await page.getByTestId('undo-node-a:run:response:1').click();
      await page.locator('[data-testid="state-node-a:run:response:1"][data-state=undoing]').waitFor();
      await beat();
      await page.locator('[data-testid="state-node-a:run:response:1"][data-state=undone]').waitFor();
      assert.match((await state.textContent()) ?? '', /Undone from the console \(admin\)/);
      assert.equal(
        await page.getByTestId('undo-node-a:run:response:1').count(),
        0,
        'no undo for an undone response',
      );
      await wc.browser.shot('profiles-03-undone');

      // the quarantine of no workload: undone from its event page
      const quar = (
        await api.get('/api/runtime/events?kind=response&window=all&pageSize=50')
      ).body.items.find((x: { eventId: string }) => x.eventId === 'node-a:run:response:3');
      await page.goto(`${wc.server.url}/runtime/${quar.id}`);
      await page.getByTestId('event-undo').click();
      await page.getByTestId('event-undo-asked').waitFor();
      await beat();
      const cmds = (await api.get(`/api/runtime/events?kind=response&pageSize=50`)).body.items.map(
        (x: { eventId: string; output: string }) => x.output,
      );
      assert.ok(
        cmds.some((o: string) => /^response release \(undoes node-a:run:response:3\) done/.test(o)),
        cmds.join('\n'),
      );
      await page.reload();
      await page.getByTestId('event-undo').click();
      await page.getByRole('alert').filter({ hasText: 'was undone already' }).waitFor();

      // the audit log has all three
      await page.getByRole('link', { name: 'Audit log' }).click();
      await page.getByRole('cell', { name: 'Workload mode set' }).first().waitFor();
      await page.getByRole('cell', { name: 'Response undo requested' }).first().waitFor();

      // zh-CN
      await page.getByLabel('Language').selectOption('zh-CN');
      await page.getByRole('link', { name: '行为基线' }).click();
      await page.getByRole('heading', { name: '行为基线' }).waitFor();
      await page.getByTestId('profiles-table').locator('tbody tr', { hasText: '防护' }).waitFor();
      await page.getByTestId('profiles-table').getByRole('link', { name: WID }).click();
      await page.locator('[data-testid="state-node-a:run:response:1"]', { hasText: '已撤销' }).waitFor();
      await page.getByRole('heading', { name: '偏离' }).waitFor();
      await wc.browser.shot('profiles-04-zh');
      await page.getByLabel('语言').selectOption('en');

      // a viewer: no mode switch, no undo
      await page.getByRole('button', { name: 'Sign out' }).click();
      await signIn(page, 'vera', 'viewer password 1');
      await page.goto(
        `${wc.server.url}/profiles/workload?cluster=prod-eu&workload=${encodeURIComponent(WID)}`,
      );
      await page.getByTestId('workload-page').waitFor();
      assert.equal(await page.getByTestId('mode-apply').count(), 0);
      assert.ok(await page.getByTestId('mode-select').isDisabled());
      await page.getByText('Only operators and administrators can change the mode.').waitFor();
      assert.deepEqual(pageErrors, []);
    } catch (e) {
      await wc.browser.shot('profiles-failure').catch(() => undefined);
      throw new Error(`${(e as Error).message}\nserver log:\n${wc.server.log().slice(-3000)}`, { cause: e });
    } finally {
      await loop.close();
      await shipper.stop(0);
    }
  },
);
