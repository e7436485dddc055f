/**
 * Compliance frameworks: catalogues and check mappings stay in sync, and a compliance report per
 * framework (table, JSON and HTML) over the realistic fixtures. The HTML is loaded in a real
 * browser (Debian's chromium through playwright-core) to check its structure, escaping and that it
 * loads nothing external; one report is also rendered with `chromium --headless --screenshot` to
 * test-results/ for a person to look at.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import {
  CheckSet,
  complianceReport,
  controlAnchor,
  evaluate,
  loadCheckText,
  loadFrameworks,
  renderComplianceHtml,
  renderComplianceTable,
  type ComplianceReport,
} from '../../src/policy/index.js';
import { imageConfigInput, scanConfigPaths } from '../../src/misconfig/index.js';
import type { MisconfigFinding } from '../../src/core/findings.js';
import { builtinChecks } from './helpers.js';
import { SHARED } from '../helpers/shared.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'test', 'misconfig', 'fixtures');
const OUT = join(ROOT, 'test-results', 'compliance');
const CHROMIUM = '/usr/bin/chromium';
const frameworks = loadFrameworks();
const EXPECTED_FRAMEWORKS = [
  'cis-docker',
  'cis-k8s',
  'mitre',
  'mlps-2.0',
  'nist-800-190',
  'nsa-cisa',
  'pci-dss-4.0',
  'pss-baseline',
  'pss-restricted',
];

// A user check whose message and resource carry markup: the HTML must show it as text.
const EVIL = loadCheckText(
  `checks:
  - id: ORG-XSS
    title: Markup <b>in</b> title
    severity: LOW
    description: d
    remediation: "Fix </td><script>alert(1)</script>"
    kinds: [Namespace]
    deny: "true"
    message: "{{ object.metadata.name }} <img src=x onerror=alert(2)>"
    compliance: [{ framework: pss, control: Sysctls }]
`,
  'org.yaml',
);

let findings: MisconfigFinding[] = [];
let inputs: ComplianceReport['inputs'] = [];
let browser: Browser | undefined;

before(async () => {
  const set = new CheckSet([...builtinChecks(), ...EVIL]);
  const r = await scanConfigPaths([join(FIX, 'k8s'), join(FIX, 'docker')], set, { includePasses: true });
  const img = evaluate(
    set,
    [
      imageConfigInput(
        { config: { User: '', Env: ['PATH=/bin', 'GITHUB_TOKEN=ghp_x'], ExposedPorts: { '22/tcp': {} } } },
        'registry.local/legacy:1',
      ),
    ],
    {
      includePasses: true,
    },
  );
  findings = [...r.findings, ...img.findings];
  inputs = [
    ...r.targets.map((t) => ({ path: t.path.slice(ROOT.length + 1), type: t.type, resources: t.resources })),
    { path: 'registry.local/legacy:1', type: 'image-config', resources: 1 },
  ];
  mkdirSync(OUT, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});
after(async () => {
  await browser?.close();
});

test('catalogues: all nine frameworks, every listed check exists and maps back, every mapping is catalogued', () => {
  assert.deepEqual([...frameworks.keys()].sort(), EXPECTED_FRAMEWORKS);
  const checks = new Map(builtinChecks().map((c) => [c.id, c]));
  const problems: string[] = [];
  for (const fw of frameworks.values()) {
    for (const ctl of fw.controls) {
      for (const id of ctl.checks) {
        const c = checks.get(id);
        if (!c) problems.push(`${fw.id} ${ctl.id}: unknown check ${id}`);
        else if (!c.compliance.some((r) => r.framework === fw.framework && r.control === ctl.id))
          problems.push(`${fw.id} ${ctl.id}: ${id} has no compliance ref {${fw.framework}, ${ctl.id}}`);
      }
    }
  }
  for (const c of checks.values()) {
    for (const ref of c.compliance) {
      const listed = [...frameworks.values()].some(
        (fw) =>
          fw.framework === ref.framework &&
          fw.controls.some((ctl) => ctl.id === ref.control && ctl.checks.includes(c.id)),
      );
      if (!listed) problems.push(`${c.id}: ref {${ref.framework}, ${ref.control}} is in no catalogue`);
    }
  }
  assert.deepEqual(problems, []);
  // PSS control names exactly as the Kubernetes page writes them.
  assert.deepEqual(
    frameworks
      .get('pss-restricted')!
      .controls.map((c) => c.id)
      .sort(),
    [
      '/proc Mount Type',
      'AppArmor',
      'Capabilities',
      'Host Namespaces',
      'Host Ports',
      'HostPath Volumes',
      'HostProcess',
      'Privilege Escalation',
      'Privileged Containers',
      'Running as Non-root',
      'Running as Non-root user',
      'SELinux',
      'Seccomp',
      'Sysctls',
      'Volume Types',
    ],
  );
  // CIS Kubernetes section 5 numbering and titles come from kube-bench cfg/cis-1.10.
  const kb = readFileSync(`${SHARED}/corpora/kube-bench/cfg/cis-1.10/policies.yaml`, 'utf8');
  for (const ctl of frameworks.get('cis-k8s')!.controls)
    assert.ok(kb.includes(`id: ${ctl.id}\n        text: "${ctl.title}"`), ctl.id);
});

for (const id of EXPECTED_FRAMEWORKS) {
  test(`compliance report ${id}: table, JSON and HTML`, async () => {
    const fw = frameworks.get(id)!;
    const r = complianceReport(fw, {
      findings,
      checks: [...builtinChecks(), ...EVIL],
      inputs,
      toolVersion: '0.0.0-test',
      now: new Date('2026-11-23T12:00:00Z'),
    });
    assert.equal(r.controls.length, fw.controls.length);
    assert.equal(r.summary.pass + r.summary.fail + r.summary.manual, r.summary.total);
    for (const c of r.controls) {
      assert.equal(c.status === 'fail', c.failures.length > 0, `${c.id}`);
      assert.equal(c.status === 'manual', c.checks.length === 0, `${c.id}`);
      assert.ok(c.failures.every((f) => f.status === 'fail'));
    }
    assert.ok(r.summary.fail > 0, 'the fixtures fail some control');

    const table = renderComplianceTable(r);
    const json = JSON.stringify(r, null, 2);
    const html = renderComplianceHtml(r);
    writeFileSync(join(OUT, `${id}.txt`), table);
    writeFileSync(join(OUT, `${id}.json`), json);
    writeFileSync(join(OUT, `${id}.html`), html);
    assert.match(
      table,
      new RegExp(
        `Controls: ${r.summary.total} \\(PASS: ${r.summary.pass}, FAIL: ${r.summary.fail}, MANUAL: ${r.summary.manual}\\)`,
      ),
    );
    for (const c of r.controls) assert.ok(table.includes(c.id), `table lists ${c.id}`);
    assert.deepEqual(JSON.parse(json).summary, r.summary);

    const page = await browser!.newPage();
    const requests: string[] = [];
    page.on('request', (req) => requests.push(req.url()));
    const dialogs: string[] = [];
    page.on('dialog', (d) => (dialogs.push(d.message()), void d.dismiss()));
    await page.setContent(html, { waitUntil: 'load' });
    assert.equal(await page.title(), `${fw.title} compliance report`);
    assert.equal(await page.textContent('h1'), fw.title);
    assert.equal(await page.getAttribute('time', 'datetime'), '2026-11-23T12:00:00.000Z');
    const cards = await page.$$eval('#summary .card .n', (els) => els.map((e) => Number(e.textContent)));
    assert.deepEqual(cards, [r.summary.total, r.summary.pass, r.summary.fail, r.summary.manual]);
    const rows = await page.$$eval('#controls tbody tr', (els) =>
      els.map((e) => [e.getAttribute('data-control'), e.getAttribute('data-status')]),
    );
    assert.deepEqual(
      rows,
      r.controls.map((c) => [c.id, c.status]),
    );
    assert.equal(await page.$$eval('#inputs tbody tr', (e) => e.length), inputs.length);
    const sections = await page.$$eval('section.control', (els) =>
      els.map((e) => [
        e.id,
        e.getAttribute('data-status'),
        e.querySelectorAll('table.failures tbody tr').length,
      ]),
    );
    assert.deepEqual(
      sections,
      r.controls.map((c) => [controlAnchor(c.id), c.status, c.failures.length]),
    );
    // Every control link in the overview leads to its detail section.
    const links = await page.$$eval('#controls tbody a', (els) => els.map((e) => e.getAttribute('href')));
    assert.deepEqual(
      links,
      r.controls.map((c) => `#${controlAnchor(c.id)}`),
    );
    // Self-contained: no scripts, no external resources, nothing fetched, nothing executed.
    assert.equal(await page.$$eval('script, img, link, iframe, object, embed', (e) => e.length), 0);
    assert.deepEqual(
      requests.filter((u) => !u.startsWith('about:') && !u.startsWith('data:')),
      [],
    );
    assert.deepEqual(dialogs, []);
    if (id === 'pss-baseline') {
      // The user check with markup shows up literally, as text.
      const text = await page.textContent(`section.control#${controlAnchor('Sysctls')}`);
      assert.ok(text!.includes('<img src=x onerror=alert(2)>'), 'message shown as text');
      assert.ok(text!.includes('</td><script>alert(1)</script>'), 'remediation shown as text');
    }
    await page.close();
  });
}

test('expected control results on the fixtures', () => {
  const get = (fw: string, ctl: string) => {
    const r = complianceReport(frameworks.get(fw)!, {
      findings,
      checks: builtinChecks(),
      inputs,
      toolVersion: 't',
    });
    return r.controls.find((c) => c.id === ctl)!;
  };
  const priv = get('pss-baseline', 'Privileged Containers');
  assert.equal(priv.status, 'fail');
  assert.deepEqual([...new Set(priv.failures.map((f) => f.resource?.name))], ['fluentd-elasticsearch']);
  assert.equal(get('pss-baseline', 'Sysctls').status, 'pass');
  assert.equal(get('cis-k8s', '5.1.1').status, 'fail');
  assert.equal(get('cis-k8s', '5.3.1').status, 'manual');
  assert.equal(get('cis-docker', '4.1').status, 'fail');
  assert.equal(get('cis-docker', '5.31').status, 'fail');
  assert.equal(get('cis-docker', '4.5').status, 'manual');
  assert.ok(get('mitre', 'T1611').failures.length > 5);
  assert.equal(get('mitre', 'T1552').status, 'fail');
  assert.equal(get('nist-800-190', '4.1.4').status, 'fail');
  // The evaluated count reflects resources the checks applied to.
  assert.ok(get('pss-baseline', 'Sysctls').evaluated >= 8);
});

test('the hardened Deployment passes every Restricted control', async () => {
  const r0 = await scanConfigPaths([join(FIX, 'k8s', 'hardened.yaml')], new CheckSet(builtinChecks()), {
    includePasses: true,
  });
  const r = complianceReport(frameworks.get('pss-restricted')!, {
    findings: r0.findings,
    checks: builtinChecks(),
    inputs: [],
    toolVersion: 't',
  });
  assert.deepEqual(r.summary, { total: 15, pass: 15, fail: 0, manual: 0 });
  assert.ok(
    r.controls.every((c) => c.evaluated === c.checks.length),
    'each check evaluated once on the one Deployment',
  );
});

test('screenshot of the PSS restricted report with chromium --headless', () => {
  const html = join(OUT, 'pss-restricted.html');
  assert.ok(existsSync(html), 'report written by the test above');
  const png = join(ROOT, 'test-results', 'compliance-pss-restricted.png');
  execFileSync(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      `--screenshot=${png}`,
      '--window-size=1200,2400',
      `file://${html}`,
    ],
    {
      stdio: 'ignore',
      timeout: 60_000,
    },
  );
  const buf = readFileSync(png);
  assert.equal(buf.subarray(1, 4).toString('latin1'), 'PNG');
  assert.ok(buf.length > 20_000, `${buf.length} bytes`);
});
