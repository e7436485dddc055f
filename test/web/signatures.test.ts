/**
 * Signatures on the image page, in a real browser (Debian's chromium via playwright-core) against
 * a real `bulwark server --verify-key cosign.pub` process and the real docker-registry (TLS +
 * htpasswd) holding the Debian fixture image, signed and attested (vuln) with Bulwark's own
 * signer (cosign-compatible, test/sign). The registry is scanned through the console; the image
 * page shows "Signed" and, on its Signatures tab, the verified signature and attestation with
 * their signer; in zh-CN too. Screenshots go to test-results/web/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { attestImage, generateKeyPair, readPrivateKey, signImage } from '../../src/sign/index.js';
import { startRegistry, type TestRegistry } from '../fixtures/index.js';
import { advisoryDbCopy, debianReport } from '../server/data.js';
import { Client } from '../server/helpers.js';
import {
  type Browser,
  type ServerProcess,
  ensureWebBuilt,
  openBrowser,
  signIn,
  startServerProcess,
} from './helpers.js';

const PASSWORD = 'correct horse battery staple 13';
let dir: string;
let reg: TestRegistry | undefined;
let server: ServerProcess | undefined;
let browser: Browser | undefined;

before(async () => {
  ensureWebBuilt();
  dir = mkdtempSync(join(tmpdir(), 'bulwark-web-sig-'));
  mkdirSync(join(dir, 'data'));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await reg?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test(
  'image page: the signature and attestation a registry scan verified, with the signer; zh-CN',
  { timeout: 300_000 },
  async () => {
    const { image } = await debianReport();
    reg = await startRegistry({ tls: true, auth: true });
    await reg.push(image, 'shop/web', '2.1');
    const kp = generateKeyPair('pw');
    const regOpts = { username: reg.username, password: reg.password, caCertFile: reg.caCertFile };
    const key = readPrivateKey(kp.privatePem, 'pw', 'test key');
    await signImage(`${reg.host}/shop/web:2.1`, { ...regOpts, key });
    await attestImage(`${reg.host}/shop/web:2.1`, {
      ...regOpts,
      key,
      type: 'vuln',
      predicate: { metadata: { scanFinishedOn: new Date().toISOString() } },
    });
    const pub = join(dir, 'cosign.pub');
    writeFileSync(pub, kp.publicPem);
    const advisoryDb = await advisoryDbCopy(join(dir, 'data'), ['Debian']);
    server = await startServerProcess(
      join(dir, 'data'),
      advisoryDb,
      { BULWARK_ADMIN_USER: 'admin', BULWARK_ADMIN_PASSWORD: PASSWORD },
      ['--verify-key', pub],
    );
    const api = await new Client(server.url).login('admin', PASSWORD);
    const add = await api.post('/api/registries', {
      name: 'shop',
      url: `https://${reg.host}`,
      username: reg.username,
      password: reg.password,
      caCert: readFileSync(reg.caCertFile, 'utf8'),
      scheduleMinutes: 0,
    });
    assert.equal(add.status, 201, JSON.stringify(add.body));
    await api.post(`/api/registries/${add.body.id}/scan`);
    const end = Date.now() + 180_000;
    let img: { id: number } | undefined;
    while (!img) {
      if (Date.now() > end) throw new Error(`no scanned image; server log:\n${server.log()}`);
      const items = (await api.get('/api/images')).body.items as { id: number }[];
      if (items.length && (await api.get(`/api/images/${items[0]!.id}/signatures`)).body.checked)
        img = items[0];
      else await new Promise((r) => setTimeout(r, 300));
    }

    browser = await openBrowser();
    const { page, shot } = browser;
    await page.goto(server.url);
    await signIn(page, 'admin', PASSWORD);
    await page.goto(`${server.url}/images/${img.id}`);
    await page.getByTestId('image-name').waitFor();
    assert.equal(await page.getByTestId('signed-badge').textContent(), 'Signed');
    await page.getByRole('tab', { name: 'Signatures' }).click();
    const table = page.getByTestId('signatures-table');
    await table.waitFor();
    const rows = await table
      .locator('tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 4).map((td) => td.textContent?.trim())),
      );
    assert.deepEqual(rows, [
      ['Signature', 'verified', '—', 'key 1'],
      ['Attestation', 'verified', 'https://cosign.sigstore.dev/attestation/vuln/v1', 'key 1'],
    ]);
    await page
      .getByTestId('signatures')
      .getByText('Attested: https://cosign.sigstore.dev/attestation/vuln/v1')
      .waitFor();
    await shot('image-signatures');
    await page.getByLabel('Language').selectOption('zh-CN');
    await page.getByRole('tab', { name: '签名' }).waitFor();
    assert.equal(await page.getByTestId('signed-badge').textContent(), '已签名');
    const zh = await table.locator('tbody tr').first().locator('td').nth(1).textContent();
    assert.equal(zh?.trim(), '已验证');
    await shot('image-signatures-zh');
  },
);
