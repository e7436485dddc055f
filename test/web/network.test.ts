/**
 * The network map in a real browser (Debian's chromium via playwright-core) against a real
 * `bulwark server` process. The flow records are posted through the agents' API by the real
 * Shipper; they are written here (the live path — conntrack in pod namespaces to the console — is
 * test/network/console-flows.test.ts): workloads drawn per namespace with external peers apart,
 * an edge per flow with its port, the dropped one in red, a click shows the edge's flows.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Shipper, type FlowEvent } from '../../src/agent/index.js';
import type { FlowRecord } from '../../src/network/index.js';
import { Client } from '../server/helpers.js';
import { signIn, webConsole } from './helpers.js';

const PASSWORD = 'correct horse battery staple 44';
const wc = webConsole('bulwark-web-network-', PASSWORD);

const wl = (namespace: string, name: string, kind: string) => ({
  namespace,
  name,
  kind,
  labels: { app: name },
});
function flow(
  src: FlowRecord['source'],
  dst: FlowRecord['destination'],
  protocol: 'TCP' | 'UDP',
  port: number,
  verdict: FlowRecord['verdict'],
  count: number,
): FlowRecord {
  return { source: src, destination: dst, protocol, port, verdict, count, observer: 'bulwark' };
}

test(
  'network map: namespaces, edges with ports, dropped in red, click for the flows',
  { timeout: 120_000 },
  async () => {
    const web = wl('shop', 'web', 'Deployment');
    const api = wl('shop', 'api', 'Deployment');
    const db = wl('data', 'db', 'StatefulSet');
    const recs = [
      flow(web, api, 'TCP', 9000, 'FORWARDED', 120),
      flow(api, db, 'TCP', 5432, 'FORWARDED', 80),
      flow(web, db, 'TCP', 5432, 'DROPPED', 3),
      flow(api, { labels: {}, ip: '203.0.113.7', names: ['api.stripe.com'] }, 'TCP', 443, 'FORWARDED', 9),
    ];
    const now = new Date().toISOString();
    const events: FlowEvent[] = recs.map((f, i) => ({
      id: `web-net:flow:${i}`,
      kind: 'flow',
      time: now,
      node: 'node-1',
      cluster: 'prod-eu',
      flow: { ...f, firstSeen: now, lastSeen: now },
    }));
    const c = await new Client(wc.server.url).login('admin', PASSWORD);
    const tok = (await c.post('/api/tokens', { name: 'agent', role: 'operator' })).body.token as string;
    const s = new Shipper({
      server: wc.server.url,
      token: tok,
      bufferDir: join(wc.dir, 'buf'),
      onWarn: () => {},
    });
    s.start();
    s.enqueue(events);
    const end = Date.now() + 20_000;
    while (!s.drained && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    await s.stop(0);
    assert.equal(s.stats.sent, recs.length);

    const { page } = wc.browser;
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(wc.server.url);
      await signIn(page, 'admin', PASSWORD);
      await page.getByRole('link', { name: 'Network' }).click();
      const map = page.getByTestId('network-map');
      await map.waitFor();
      assert.equal(await map.getByTestId('network-node').count(), 4, 'web, api, db and the external peer');
      assert.equal(await map.getByTestId('network-edge').count(), 4);
      const labels = await map.locator('.ns-label').allTextContents();
      assert.deepEqual(labels, ['data', 'shop', 'external']);
      assert.equal(await map.locator('.edge.bad').count(), 1, 'the dropped flow is highlighted');
      assert.match(
        (await map.locator('.edge.bad title').textContent()) ?? '',
        /shop\/web\[Deployment\] → data\/db\[StatefulSet\] TCP 5432 \(DROPPED, 3\)/,
      );
      await wc.browser.shot('network-01-map');
      await map.locator('.edge-label.bad').click();
      const detail = page.getByTestId('network-detail');
      await detail.waitFor();
      assert.match((await detail.textContent()) ?? '', /DROPPED.*3/);
      // a node: every flow it takes part in
      await map.getByTestId('network-node').filter({ hasText: 'api' }).first().click();
      assert.equal(await detail.locator('tbody tr').count(), 3);
      await page
        .getByTestId('network-table')
        .locator('.pager span')
        .first()
        .filter({ hasText: '4 total' })
        .waitFor();
      await wc.browser.shot('network-02-detail');
      assert.deepEqual(errors, []);
    } catch (e) {
      await wc.browser.shot('network-failure').catch(() => undefined);
      throw new Error(`${(e as Error).message}\nserver log:\n${wc.server.log().slice(-3000)}`, { cause: e });
    }
  },
);
