/**
 * The runtime page in a real browser (Debian's chromium via playwright-core) against a real
 * `bulwark server` process: the agent's real Shipper delivers the alerts the rules engine raised on
 * a corpus capture (test/server/runtime-data.ts) with an operator token; the page shows the counts
 * by priority, rule and ATT&CK technique, filters by clicking them, and the event page shows the
 * process tree, the tags with their ATT&CK links and Falco's JSON. Screenshots go to test-results/web/.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Shipper } from '../../src/agent/index.js';
import { Client } from '../server/helpers.js';
import { captureEvents } from '../server/runtime-data.js';
import { signIn, webConsole } from './helpers.js';

const PASSWORD = 'correct horse battery staple 43';
const wc = webConsole('bulwark-web-runtime-', PASSWORD);

test(
  'runtime page: counts, click-to-filter, event drill-down with process tree',
  { timeout: 120_000 },
  async () => {
    const { events, byRule } = await captureEvents();
    const api = await new Client(wc.server.url).login('admin', PASSWORD);
    const tok = await api.post('/api/tokens', { name: 'agent', role: 'operator' });
    assert.equal(tok.status, 201, JSON.stringify(tok.body));
    const shipper = new Shipper({
      server: wc.server.url,
      token: tok.body.token,
      bufferDir: join(wc.dir, 'buffer'),
      onWarn: () => {},
    });
    shipper.start();
    shipper.enqueue(events);
    // the node's stats record, as `bulwark agent` sends it every heartbeat (here with drops)
    shipper.enqueue([
      {
        id: 'web-run:stats:1',
        kind: 'stats',
        time: new Date().toISOString(),
        node: 'node-a',
        cluster: 'prod-eu',
        stats: {
          runId: 'web-run',
          startedAt: new Date().toISOString(),
          version: '0.1.0',
          rules: 3,
          heartbeatSeconds: 30,
          kernelTypes: ['exec', 'openat'],
          events: 123456,
          kernel: { exec: { events: 456, drops: 0 }, openat: { events: 123000, drops: 12 } },
          drops: 12,
          alerts: events.length,
          buffer: { pendingBytes: 0, dropped: 0, rejected: 0, sent: events.length },
        },
      },
    ]);
    const end = Date.now() + 20_000;
    while (!shipper.drained && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    await shipper.stop(0);
    assert.equal(shipper.stats.sent, events.length + 1);

    const { page } = wc.browser;
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      await page.goto(wc.server.url);
      await signIn(page, 'admin', PASSWORD);
      await page.getByRole('link', { name: 'Runtime' }).click();
      // the capture is from 2016: the default window (24 h) holds only the drops alert, "all time" everything
      await page.getByTestId('runtime-total').filter({ hasText: '1 event(s)' }).waitFor();
      const agentRow = page.getByTestId('runtime-agents').locator('tr', { hasText: 'node-a' });
      await agentRow.filter({ hasText: '123,456' }).waitFor();
      assert.match((await agentRow.textContent()) ?? '', /prod-eu/);
      await page.getByLabel('Time window').selectOption('all');
      // the capture's alerts and the console's own alert for the 12 dropped events
      await page
        .getByTestId('runtime-total')
        .filter({ hasText: `${events.length + 1} event(s)` })
        .waitFor();
      await page
        .getByTestId('facet-rule')
        .locator('li', { hasText: 'Bulwark sensor dropped events' })
        .waitFor();
      const openCount = byRule.get('open_from_cat')!;
      const ruleFacet = page.getByTestId('facet-rule');
      await ruleFacet
        .locator('li', { hasText: 'open_from_cat' })
        .filter({ hasText: String(openCount) })
        .waitFor();
      const techFacet = page.getByTestId('facet-technique');
      await techFacet.locator('li', { hasText: 'T1005 Data from Local System' }).waitFor();
      await wc.browser.shot('runtime-01-overview');

      // click the technique: the list and the counts follow
      await techFacet.getByRole('button', { name: /T1005/ }).click();
      await page
        .getByTestId('runtime-total')
        .filter({ hasText: `${openCount} event(s)` })
        .waitFor();
      const pager = page.getByTestId('runtime-table').locator('.pager span').first();
      await pager.filter({ hasText: `${openCount} total` }).waitFor();
      const rows = page.getByTestId('runtime-table').locator('tbody tr');
      assert.equal(
        await rows.filter({ hasText: 'exec_from_cat' }).count(),
        0,
        'only the T1005 rule is listed',
      );

      // drill down
      await rows.first().getByRole('link', { name: 'open_from_cat' }).click();
      const ev = page.getByTestId('runtime-event');
      await ev.waitFor();
      const tree = page.getByTestId('process-tree');
      await tree.locator('li.leaf', { hasText: 'cat' }).waitFor();
      assert.ok((await tree.locator('li').count()) >= 1);
      const link = page.getByTestId('runtime-tags').getByRole('link', { name: /T1005/ });
      assert.equal(await link.getAttribute('href'), 'https://attack.mitre.org/techniques/T1005/');
      const json = JSON.parse((await page.getByTestId('falco-json').textContent()) ?? '{}') as {
        rule: string;
        priority: string;
        output_fields: Record<string, unknown>;
      };
      assert.equal(json.rule, 'open_from_cat');
      assert.equal(json.priority, 'Warning');
      assert.ok('proc.cmdline' in json.output_fields);
      await wc.browser.shot('runtime-02-event');

      // zh-CN
      await page.getByLabel('Language').selectOption('zh-CN');
      await page.getByRole('heading', { name: '进程树' }).waitFor();
      await wc.browser.shot('runtime-03-event-zh');
      assert.deepEqual(pageErrors, []);
    } catch (e) {
      await wc.browser.shot('runtime-failure').catch(() => undefined);
      throw new Error(`${(e as Error).message}\nserver log:\n${wc.server.log().slice(-3000)}`, { cause: e });
    }
  },
);
