/**
 * The console end to end in a real browser (Debian's chromium via playwright-core) against a real
 * `bulwark server` process with the real OSV Debian advisories, and the real docker-registry (TLS +
 * htpasswd) holding the real Debian fixture image: bootstrap the admin with the printed one-time
 * token, log in, add the registry, scan it, see the findings on the image page, suppress one and see
 * it gone, switch to Simplified Chinese. Screenshots go to test-results/web/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { startRegistry, type TestRegistry } from '../fixtures/index.js';
import { advisoryDbCopy, debianReport } from '../server/data.js';
import { SHARED } from '../helpers/shared.js';
import {
  ensureWebBuilt,
  openBrowser,
  startServerProcess,
  type Browser,
  type ServerProcess,
} from './helpers.js';

const PASSWORD = 'correct horse battery staple 42';

let dir: string;
let reg: TestRegistry;
let server: ServerProcess;
let browser: Browser;

before(async () => {
  ensureWebBuilt();
  dir = mkdtempSync(join(tmpdir(), 'bulwark-web-'));
  const { image } = await debianReport();
  reg = await startRegistry({ tls: true, auth: true });
  await reg.push(image, 'team-a/debian', '1.0');
  await reg.push(image, 'team-a/debian', 'dev');
  const advisoryDb = await advisoryDbCopy(dir, ['Debian']);
  server = await startServerProcess(join(dir, 'data'), advisoryDb);
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await reg?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** "Page 1 of 3 · 57 total" → 57 (the server's total for the current filters). */
async function total(page: Page, table: string): Promise<number> {
  const text = await page.locator(`[data-testid="${table}"] .pager span`).first().textContent();
  const m = /(\d+)\s*(total|条)/.exec(text ?? '');
  assert.ok(m, `pager text: ${text}`);
  return Number(m[1]);
}

test(
  'console in the browser: bootstrap, login, registry scan, findings, suppression, zh-CN',
  { timeout: 170_000 },
  async () => {
    const { page } = browser;
    try {
      await flow(page);
    } catch (e) {
      await browser.shot('failure').catch(() => undefined);
      throw new Error(`${(e as Error).message}\nserver log:\n${server.log().slice(-3000)}`, { cause: e });
    }
  },
);

async function flow(page: Page): Promise<void> {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  assert.match(server.token, /\S{16,}/, `the server printed a one-time token: ${server.log()}`);

  // First run: the UI asks for the one-time token and creates the admin.
  await page.goto(server.url);
  await page.getByRole('heading', { name: 'Set up the first administrator' }).waitFor();
  await browser.shot('01-bootstrap');
  await page.locator('input[name=token]').fill('not-the-token');
  await page.locator('input[name=password]').fill(PASSWORD);
  await page.locator('input[name=confirm]').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await page.getByRole('alert').waitFor();
  await page.locator('input[name=token]').fill(server.token);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await page.getByTestId('current-user').filter({ hasText: 'admin' }).waitFor();

  // Log out and back in with the new password.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to Bulwark' }).waitFor();
  await page.locator('input[name=username]').fill('admin');
  await page.locator('input[name=password]').fill('wrong password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor();
  await browser.shot('02-login-error');
  await page.locator('input[name=password]').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('current-user').waitFor();
  // The session cookie is HttpOnly: the page cannot read it, only the CSRF cookie.
  const cookies = await browser.context.cookies(server.url);
  assert.equal(cookies.find((c) => c.name === 'bulwark_session')?.httpOnly, true);
  assert.ok(!(await page.evaluate(() => document.cookie)).includes('bulwark_session'));

  // Add the TLS + basic-auth registry, keeping only tag 1.0.
  await page.getByRole('link', { name: 'Registries' }).click();
  await page.getByRole('button', { name: 'Add registry' }).click();
  const form = page.getByTestId('registry-form');
  await form.locator('input[name=name]').fill('test');
  await form.locator('input[name=url]').fill(`https://${reg.host}`);
  await form.locator('input[name=username]').fill(reg.username);
  await form.locator('input[name=password]').fill(reg.password);
  await form.locator('input[name=repositories]').fill('team-a/debian');
  await form.locator('input[name=tagFilter]').fill('^1\\.');
  await form.locator('textarea[name=caCert]').fill(readFileSync(reg.caCertFile, 'utf8'));
  await form.getByRole('button', { name: 'Save' }).click();
  const row = page.getByTestId('registries-table').locator('tr', { hasText: reg.host });
  await row.waitFor();
  assert.ok(!(await page.content()).includes(reg.password), 'the password is never shown');

  // Scan it and watch the jobs finish.
  await page.getByTestId('scan-registry-test').click();
  const jobs = page.getByTestId('jobs-table');
  await jobs
    .locator('tr', { hasText: 'Registry sync' })
    .filter({ hasText: 'Succeeded' })
    .waitFor({ timeout: 60_000 });
  await jobs
    .locator('tr', { hasText: 'team-a/debian:1.0' })
    .filter({ hasText: 'Succeeded' })
    .waitFor({ timeout: 90_000 });
  assert.equal(
    await jobs.locator('tr', { hasText: 'team-a/debian:dev' }).count(),
    0,
    'the tag filter kept 1.0 only',
  );
  assert.equal(await jobs.locator('tr', { hasText: 'Failed' }).count(), 0);
  await browser.shot('03-registries-jobs');

  // Change the tag filter (the password field left empty keeps the stored one) and scan again: now the dev tag too.
  await row.getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByTestId('registry-form');
  assert.equal(await edit.locator('input[name=password]').inputValue(), '');
  await edit.locator('input[name=tagFilter]').fill('^(1\\.|dev$)');
  await edit.getByRole('button', { name: 'Save' }).click();
  await edit.waitFor({ state: 'detached' });
  await row.filter({ hasText: 'dev$' }).waitFor();
  await page.getByTestId('scan-registry-test').click();
  await jobs
    .locator('tr', { hasText: 'team-a/debian:dev' })
    .filter({ hasText: 'Succeeded' })
    .waitFor({ timeout: 90_000 });
  assert.equal(await jobs.locator('tr', { hasText: 'Failed' }).count(), 0, 'the kept password still works');

  // The image and its findings.
  await page.getByRole('link', { name: 'Images' }).click();
  await page
    .getByTestId('images-table')
    .getByRole('link', { name: `${reg.host}/team-a/debian` })
    .click();
  await page.getByTestId('image-name').waitFor();
  const findings = page.getByTestId('findings-table');
  await findings.locator('tbody tr button').first().waitFor();
  const before = await total(page, 'findings-table');
  assert.ok(before > 10, `the Debian image has many vulnerabilities (got ${before})`);
  await browser.shot('04-image-findings');

  // Severity filter is applied by the server: only CRITICAL rows remain.
  await page.getByRole('checkbox', { name: 'Critical' }).check();
  await page.waitForFunction(
    () =>
      !document.querySelector(
        '[data-testid="findings-table"] .sev-high, [data-testid="findings-table"] .sev-medium, [data-testid="findings-table"] .sev-low',
      ),
  );
  const critical = await total(page, 'findings-table');
  assert.ok(critical < before);
  await page.getByRole('checkbox', { name: 'Critical' }).uncheck();
  await page.waitForFunction(
    (n) =>
      document
        .querySelector('[data-testid="findings-table"] .pager span')
        ?.textContent?.includes(`${n} total`),
    before,
  );

  // Suppress the first vulnerability: it disappears from the list and the total drops.
  // The kind filter goes to the server. The fixture image has no secrets or misconfigurations (the
  // secret scan of a Debian rootfs is clean), so here every finding is a vulnerability.
  await page.getByRole('combobox', { name: 'Kind' }).selectOption('vulnerability');
  await page.waitForFunction(
    () => !document.querySelector('[data-testid="findings-table"] a[href*="generic-password"]'),
  );
  const vulns = await total(page, 'findings-table');
  assert.ok(vulns > 10 && vulns <= before, `vulnerabilities: ${vulns} of ${before}`);
  const btn = findings.locator('tbody tr button').first();
  const testId = (await btn.getAttribute('data-testid'))!;
  const sameRows = await findings.getByTestId(testId).count();
  await btn.click();
  const sf = page.getByTestId('suppress-form');
  await sf.locator('input[name=reason]').fill('not reachable: the binary is never executed');
  await sf.locator('input[name=owner]').fill('security-team');
  await browser.shot('05-suppress-form');
  await sf.getByRole('button', { name: 'Suppress' }).click();
  await sf.waitFor({ state: 'detached' });
  await page.waitForFunction(
    (n) =>
      document
        .querySelector('[data-testid="findings-table"] .pager span')
        ?.textContent?.includes(`${n} total`),
    vulns - sameRows,
  );
  assert.equal(await findings.getByTestId(testId).count(), 0, `${testId} is gone`);
  await browser.shot('06-after-suppress');
  // It is still there for whoever asks for suppressed findings.
  await page.getByRole('combobox', { name: 'Suppressions' }).selectOption('only');
  await page.waitForFunction(
    (n) =>
      document
        .querySelector('[data-testid="findings-table"] .pager span')
        ?.textContent?.includes(`${n} total`),
    sameRows,
  );
  assert.equal(await findings.locator('tbody tr', { hasText: 'Suppressed' }).count(), sameRows);

  // Packages, layers and SBOM downloads of the stored scan report: the page shows what the report holds.
  const imageId = /\/images\/(\d+)/.exec(page.url())![1];
  const img = (await (await page.request.get(`${server.url}/api/images/${imageId}`)).json()) as {
    lastScanId: number;
  };
  const report = (await (
    await page.request.get(`${server.url}/api/scans/${img.lastScanId}/report`)
  ).json()) as {
    artifact: { layers: unknown[] };
    results: { packages?: { id: string }[] }[];
  };
  const pkgCount = report.results.reduce((n, r) => n + (r.packages?.length ?? 0), 0);
  await page.getByRole('tab', { name: 'Packages' }).click();
  if (pkgCount > 0)
    await page
      .getByTestId('packages-table')
      .locator('.pager', { hasText: `${pkgCount} total` })
      .waitFor();
  else await page.getByTestId('no-packages').waitFor();
  if (pkgCount > 0) {
    // package → its findings within this image
    const first = (
      (await (await page.request.get(`${server.url}/api/findings?imageId=${imageId}&pageSize=1`)).json()) as {
        items: { pkgName: string }[];
      }
    ).items[0]!.pkgName;
    const want = (
      (await (
        await page.request.get(
          `${server.url}/api/findings?imageId=${imageId}&package=${encodeURIComponent(first)}&pageSize=1`,
        )
      ).json()) as { total: number }
    ).total;
    await page.getByRole('textbox', { name: 'Filter by name or purl' }).fill(first);
    await page
      .getByTestId('packages-table')
      .locator('tbody tr', { has: page.locator(`td:text-is("${first}")`) })
      .first()
      .getByRole('link', { name: 'Findings here' })
      .click();
    await page.getByTestId('package-filter').waitFor();
    const pkgFindings = page.getByTestId('findings-table');
    await pkgFindings.locator('.pager', { hasText: `${want} total` }).waitFor();
    await page.getByRole('tab', { name: 'Packages' }).click();
  }
  await page.getByRole('tab', { name: 'Layers' }).click();
  await page.getByTestId('layers-table').locator('tbody tr code').first().waitFor();
  assert.ok(report.artifact.layers.length >= 1);
  assert.equal(
    await page.getByTestId('layers-table').locator('tbody tr').count(),
    report.artifact.layers.length,
    'one row per layer',
  );
  // Drill-down: the layer that wrote the most packages lists them, as many as the report places there.
  const perLayer = new Map<number, number>();
  for (const r of report.results as { packages?: { locations?: { layerIndex?: number }[] }[] }[])
    for (const p of r.packages ?? []) {
      const l = p.locations?.find((x) => x.layerIndex !== undefined)?.layerIndex;
      if (l !== undefined) perLayer.set(l, (perLayer.get(l) ?? 0) + 1);
    }
  assert.ok(perLayer.size > 0, 'a registry scan places packages in layers');
  {
    const [top, n] = [...perLayer].sort((a, b) => b[1] - a[1])[0]!;
    await page.getByTestId('layers-table').locator(`tr[data-layer="${top}"]`).click();
    const detail = page.getByTestId('layer-detail');
    await detail.waitFor();
    assert.equal(await detail.locator('section').first().locator('tbody tr').count(), n);
  }
  // Scan history: tag 1.0, then 1.0 and dev after the tag-filter change: three scans of one digest, nothing new or fixed.
  await page.getByRole('tab', { name: 'Scan history' }).click();
  const scans = page.getByTestId('scans-table');
  await scans.locator('.pager', { hasText: '3 total' }).waitFor();
  await scans.getByRole('button', { name: 'Compare with previous' }).first().click();
  await scans.getByText(/^0 new · 0 fixed since #\d+$/).waitFor();

  // SBOM downloads when the server offers them (feature-detected from its OpenAPI document, as the UI does).
  const openapi = (await (await page.request.get(`${server.url}/api/openapi.json`)).json()) as {
    paths: Record<string, unknown>;
  };
  if (openapi.paths['/api/scans/{id}/sbom'] && pkgCount > 0) {
    const unique = new Set(report.results.flatMap((r) => (r.packages ?? []).map((p) => p.id))).size;
    const download = async (name: string) => {
      const [dl] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name }).click(),
      ]);
      return {
        file: dl.suggestedFilename(),
        doc: JSON.parse(readFileSync((await dl.path())!, 'utf8')) as Record<string, unknown>,
      };
    };
    const cdx = await download('CycloneDX 1.6');
    assert.match(cdx.file, /\.cdx\.json$/);
    assert.equal(cdx.doc.bomFormat, 'CycloneDX');
    assert.equal(cdx.doc.specVersion, '1.6');
    const libs = (cdx.doc.components as { type: string }[]).filter((c) => c.type !== 'operating-system');
    assert.equal(libs.length, unique, 'one component per package of the scan (plus the OS)');
    const spdx = await download('SPDX 2.3');
    assert.equal(spdx.doc.spdxVersion, 'SPDX-2.3');
    assert.ok((spdx.doc.packages as unknown[]).length >= unique);
  } else {
    await page.getByText('this server has no SBOM export').waitFor();
  }
  await browser.shot('07-image-layers');

  // The advisory page lists the affected image.
  await page.getByRole('tab', { name: 'Findings' }).click();
  const advLink = findings.locator('tbody tr a[href^="/advisories/"]').first();
  const advisory = (await advLink.textContent())!;
  await advLink.click();
  await page.getByRole('heading', { name: advisory }).waitFor();
  await page
    .getByTestId('affected-table')
    .getByRole('link', { name: `${reg.host}/team-a/debian` })
    .first()
    .waitFor();
  // The advisory's own record from the console's DB: aliases, fixed versions and references, as in
  // the OSV file it was imported from.
  const osvFile = join(SHARED, 'data', 'osv', 'Debian', `${advisory}.json`);
  if (existsSync(osvFile)) {
    const rec = JSON.parse(readFileSync(osvFile, 'utf8')) as {
      references?: { url: string }[];
      affected?: unknown[];
      aliases?: string[];
    };
    const detail = page.getByTestId('advisory-detail');
    await detail.waitFor();
    assert.equal(
      await detail.getByTestId('advisory-references').locator('li').count(),
      rec.references?.length ?? 0,
    );
    assert.equal(
      await detail.getByTestId('advisory-affected').locator('li').count(),
      rec.affected?.length ?? 0,
    );
    for (const a of rec.aliases ?? []) await detail.getByText(a, { exact: false }).first().waitFor();
  }
  await browser.shot('08-advisory');

  // The suppression is listed with its reason and owner, and audited.
  await page.getByRole('link', { name: 'Suppressions' }).click();
  await page
    .getByTestId('suppressions-table')
    .locator('tr', { hasText: 'security-team' })
    .filter({ hasText: 'not reachable' })
    .waitFor();
  // A suppression by advisory id for every package and image: the advisory page shows all its findings suppressed.
  const sform = page.getByTestId('suppression-form');
  await sform.getByRole('textbox', { name: 'Advisory' }).fill(advisory);
  await sform.getByRole('textbox', { name: 'Reason' }).fill('fixture data, not a real credential');
  await sform.getByRole('button', { name: 'Add suppression' }).click();
  await page.getByTestId('suppressions-table').locator('tr', { hasText: 'fixture data' }).waitFor();
  await page.goto(`${server.url}/advisories/${encodeURIComponent(advisory)}`);
  await page.getByTestId('affected-table').locator('tbody tr', { hasText: 'Suppressed' }).first().waitFor();
  assert.equal(await page.getByTestId('affected-table').locator('tbody tr', { hasText: 'Open' }).count(), 0);
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByTestId('audit-table').locator('tr', { hasText: 'suppression' }).first().waitFor();

  // Users: an operator is added with a role.
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByRole('textbox', { name: 'Username' }).fill('ops1');
  await page.getByRole('textbox', { name: 'Password' }).fill('operator password 123');
  await page.getByRole('combobox', { name: 'Role' }).first().selectOption('operator');
  await page.getByRole('button', { name: 'Add user' }).click();
  await page.getByTestId('users-table').locator('tr', { hasText: 'ops1' }).waitFor();
  assert.equal(
    await page.getByTestId('users-table').locator('tr', { hasText: 'ops1' }).locator('select').inputValue(),
    'operator',
  );

  // Notifications: a webhook destination and a rule for new HIGH findings.
  await page.getByRole('link', { name: 'Notifications' }).click();
  await page.getByRole('textbox', { name: 'Name' }).first().fill('siem-hook');
  await page.getByRole('textbox', { name: 'URL' }).fill('https://127.0.0.1:9/hook');
  await page.getByRole('button', { name: 'Add destination' }).click();
  await page.locator('tr', { hasText: 'siem-hook' }).waitFor();
  await page.getByRole('textbox', { name: 'Name' }).nth(1).fill('high-findings');
  await page.getByRole('button', { name: 'Add rule' }).click();
  await page.locator('tr', { hasText: 'high-findings' }).filter({ hasText: 'siem-hook' }).waitFor();
  await browser.shot('09-notifications');

  // An API token made in the UI uploads a CI scan (the JSON report of `bulwark scan`), which appears in the console.
  await page.getByRole('link', { name: 'API tokens' }).click();
  await page.getByRole('textbox', { name: 'Name' }).fill('ci');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = (await page.getByTestId('new-token').locator('code').textContent())!.trim();
  assert.match(token, /^bwk_/);
  const { report: ciReport } = await debianReport();
  const up = await fetch(`${server.url}/api/scans`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(ciReport),
  });
  assert.equal(up.status, 201, await up.text());
  await page.getByRole('link', { name: 'Images' }).click();
  await page.getByTestId('images-table').locator('.pager', { hasText: '2 total' }).waitFor();
  await browser.shot('10-images');
  // Filtered on the server by registry: the CI upload belongs to none.
  await page.getByRole('combobox', { name: 'Registries' }).selectOption({ label: 'test' });
  await page.getByTestId('images-table').locator('.pager', { hasText: '1 total' }).waitFor();
  assert.equal(await page.getByTestId('images-table').locator('tbody tr').count(), 1);
  // The list's export link downloads every matching row with the same filter, as CSV.
  const exportHref = await page.getByTestId('images-table').getByTestId('export-csv').getAttribute('href');
  assert.match(exportHref!, /^\/api\/images\?.*registryId=\d+.*export=csv/);
  const exported = await page.request.get(`${server.url}${exportHref}`);
  assert.equal(exported.status(), 200);
  const exportedRows = (await exported.text()).trimEnd().split('\r\n');
  assert.equal(exportedRows.length, 2, 'header and the one image of that registry');

  // A viewer sees the same data but none of the controls that change it.
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByRole('textbox', { name: 'Username' }).fill('auditor');
  await page.getByRole('textbox', { name: 'Password' }).fill('viewer password 456');
  await page.getByRole('combobox', { name: 'Role' }).first().selectOption('viewer');
  await page.getByRole('button', { name: 'Add user' }).click();
  await page.getByTestId('users-table').locator('tr', { hasText: 'auditor' }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('input[name=username]').fill('auditor');
  await page.locator('input[name=password]').fill('viewer password 456');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('current-user').filter({ hasText: 'Viewer' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Users' }).count(), 0);
  assert.equal(await page.getByRole('link', { name: 'Audit log' }).count(), 0);
  await page.getByRole('link', { name: 'Registries' }).click();
  await page.getByTestId('registries-table').locator('tr', { hasText: reg.host }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Add registry' }).count(), 0);
  assert.equal(await page.getByTestId('scan-registry-test').count(), 0);
  await page.getByRole('link', { name: 'Images' }).click();
  await page
    .getByTestId('images-table')
    .getByRole('link', { name: `${reg.host}/team-a/debian` })
    .click();
  await findings.locator('tbody tr').first().waitFor();
  assert.equal(await findings.getByRole('button', { name: 'Suppress' }).count(), 0);

  // Dashboard counts and trend after the scan.
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.getByTestId('severity-cards').waitFor();
  await page.locator('svg.trend polyline').first().waitFor({ state: 'attached' });
  // Today's point of the trend is above the zero line for at least one severity.
  const lifted = await page.evaluate(() =>
    [...document.querySelectorAll('svg.trend polyline')].some((l) => {
      const pts = (l.getAttribute('points') ?? '').trim().split(' ');
      return pts[0]!.split(',')[1] !== pts.at(-1)!.split(',')[1];
    }),
  );
  assert.ok(lifted, "the trend shows today's findings");
  // Findings by kind: the table's vulnerability row shows what the API counts for that kind.
  const summary = (await (await page.request.get(`${server.url}/api/summary`)).json()) as {
    byKind: Record<string, Record<string, number>>;
  };
  const vulnRow = page.getByTestId('by-kind').locator('tr[data-kind="vulnerability"] td');
  await vulnRow.first().waitFor();
  assert.equal(await vulnRow.nth(1).textContent(), String(summary.byKind.vulnerability!.critical));
  assert.equal(await vulnRow.nth(5).textContent(), String(summary.byKind.vulnerability!.unknown));
  await browser.shot('11-dashboard');
  // Compliance: framework → controls (as many rows as the API rates) → failing resources.
  await page.getByRole('link', { name: 'Compliance' }).click();
  const cis = (await (await page.request.get(`${server.url}/api/compliance/cis-k8s`)).json()) as {
    controls: unknown[];
    summary: { total: number };
  };
  await page.getByTestId('compliance-summary').waitFor();
  assert.equal(await page.getByTestId('compliance-table').locator('tbody tr').count(), cis.controls.length);
  assert.match(
    (await page.getByTestId('compliance-summary').textContent())!,
    new RegExp(`of ${cis.summary.total} controls`),
  );
  await browser.shot('11b-compliance');
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.getByTestId('severity-cards').waitFor();

  // Simplified Chinese, at runtime and kept across a reload.
  await page.getByTestId('language').selectOption('zh-CN');
  await page.getByRole('link', { name: '镜像', exact: true }).waitFor();
  await page.getByRole('heading', { name: '概览' }).waitFor();
  assert.ok((await page.getByRole('button', { name: '退出登录' }).count()) === 1);
  await browser.shot('12-dashboard-zh-CN');
  await page.reload();
  await page.getByRole('link', { name: '镜像', exact: true }).click();
  await page
    .getByTestId('images-table')
    .getByRole('link', { name: `${reg.host}/team-a/debian` })
    .click();
  await page.getByRole('columnheader', { name: '严重程度' }).waitFor();
  await page.getByRole('tab', { name: '软件包' }).waitFor();
  // The UI's own text (headers, filters, tabs, pager) is Chinese; only data (advisory titles) stays as is.
  const chrome = (
    await page.locator('main thead, main .filters, main .tabs, main .pager, main .meta').allInnerTexts()
  ).join('\n');
  for (const english of [
    'Severity',
    'Package',
    'Findings',
    'Previous',
    'Next',
    'Hide suppressed',
    'Digest',
    'Critical',
  ])
    assert.ok(!chrome.includes(english), `"${english}" is translated: ${chrome}`);
  await browser.shot('13-image-zh-CN');

  // A phone-sized window (390 px): no page-wide horizontal scrolling; wide tables scroll inside
  // their own box, the header wraps.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [path, shot] of [
    ['/', '14-dashboard-390'],
    ['/images', '15-images-390'],
    [page.url().replace(server.url, ''), '16-image-390'],
    ['/advisories', '17-advisories-390'],
  ] as const) {
    await page.goto(`${server.url}${path}`);
    await page.locator('main h1, main h2').first().waitFor();
    await page.waitForLoadState('networkidle');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${path}: the page is ${overflow} px wider than a 390 px screen`);
    await browser.shot(shot);
  }

  assert.deepEqual(pageErrors, [], 'no script errors in the page');
}
