/**
 * End to end: the real advisories in /work/shared/data/osv imported offline with `bulwark db
 * import`, the real fixture image (mmdebstrap + umoci, test/fixtures) scanned with `bulwark scan
 * image`, and the findings compared with expectations computed here INDEPENDENTLY of the matcher:
 * - Debian: the fixture's dpkg-query list + the Debian OSV records; a source package is affected
 *   when a record names it and it has no fix, or `dpkg --compare-versions <installed> lt <fixed>`
 *   (the real dpkg) says the fix is newer;
 * - npm: the lock file's packages (from the fixture's expected list) against each record's
 *   `database_specific.vulnerable_versions` with node-semver's `satisfies`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianImage, type FixtureImage } from '../fixtures/index.js';
import { main } from '../../src/cli/main.js';
import { formatReport } from '../../src/report/index.js';
import type { ScanReport, VulnerabilityFinding } from '../../src/core/findings.js';
import { assertValidSarif, assertWellFormedXml, junitFacts } from '../report/validate.js';
import { assertValidCycloneDX } from '../sbom/validate.js';
import { OSV, expectedDebian, expectedNpm, records } from './scan-expect.js';

const tmp = mkdtempSync(join(tmpdir(), 'bulwark-scan-e2e-'));
const db = join(tmp, 'db.sqlite');
let img: FixtureImage;
let target: string;
let report: ScanReport;

const vulns = (r: ScanReport, cls?: string) =>
  r.results
    .filter((x) => !cls || x.class === cls)
    .flatMap((x) => x.findings.filter((f): f is VulnerabilityFinding => f.kind === 'vulnerability'));

async function cli(...args: string[]): Promise<number> {
  return main(['node', 'bulwark', ...args]);
}

before(async () => {
  img = await debianImage();
  target = `oci:${img.ociDir}:${img.tag}`;
  assert.equal(await cli('db', 'import', OSV, '--db', db), 0);
  const out = join(tmp, 'image.json');
  assert.equal(
    await cli('-q', 'scan', 'image', target, '--db', db, '--scanners', 'vuln', '--format', 'json', '-o', out),
    0,
  );
  report = JSON.parse(readFileSync(out, 'utf8')) as ScanReport;
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('Debian findings equal the independent dpkg --compare-versions expectation', () => {
  const expected = expectedDebian(img.expected.dpkg);
  assert.ok(expected.size > 10, `expected ${expected.size}`);
  const os = report.results.find((r) => r.class === 'os-pkgs')!;
  assert.equal(os.type, 'debian');
  const got = new Set(vulns(report, 'os-pkgs').map((f) => `${f.package.name} ${f.id}`));
  assert.deepEqual([...got].sort(), [...expected].sort());
  // per binary package, with the source package and Debian's urgency kept
  for (const f of vulns(report, 'os-pkgs')) {
    const p = img.expected.dpkg.find((d) => d.name === f.package.name)!;
    assert.equal(f.package.sourceName ?? f.package.name, p.source);
    assert.equal(f.package.version, p.version);
    assert.ok(f.location.path.startsWith('/var/lib/dpkg/'), f.location.path);
    assert.ok(f.location.layer, 'layer recorded');
    if (!f.fixedVersions.length) {
      assert.equal(f.status, 'affected');
      assert.equal(f.urgency, 'unimportant');
    }
  }
  assert.equal(report.artifact.os?.id, 'debian');
});

test("npm findings of the lock file equal node-semver over the records' vulnerable_versions", () => {
  const expected = expectedNpm(img.expected.npm);
  assert.ok(expected.size >= 1);
  const lock = report.results.find((r) => r.target === '/app/package-lock.json');
  assert.ok(lock, `a section for the lock file among ${report.results.map((r) => r.target).join(', ')}`);
  const got = new Set(
    vulns({ ...report, results: [lock] }).map((f) => `${f.package.name}@${f.package.version} ${f.id}`),
  );
  assert.deepEqual([...got].sort(), [...expected].sort());
});

test('Python packages owned by Debian packages are matched only with --include-os-owned', async () => {
  const owned = report.results
    .filter((r) => r.type === 'pypi')
    .flatMap((r) => r.findings)
    .filter((f) =>
      img.expected.python.some(
        (p) =>
          (f as VulnerabilityFinding).package.name.toLowerCase() === p.name.toLowerCase() &&
          (f as VulnerabilityFinding).package.version === p.version,
      ),
    );
  assert.deepEqual(owned, []);
  const out = join(tmp, 'owned.json');
  assert.equal(
    await cli(
      '-q',
      'scan',
      'image',
      target,
      '--db',
      db,
      '--scanners',
      'vuln',
      '--format',
      'json',
      '-o',
      out,
      '--include-os-owned',
    ),
    0,
  );
  const r = JSON.parse(readFileSync(out, 'utf8')) as ScanReport;
  const urllib3 = img.expected.python.find((p) => p.name === 'urllib3')!;
  const hits = vulns(r).filter((f) => f.package.name === 'urllib3' && f.package.version === urllib3.version);
  // PYSEC records that list this exact version (OSV's own enumeration) must all be reported
  const listed = records('PyPI').filter(
    (x) =>
      !x.withdrawn &&
      x.affected.some(
        (a: { package: { name: string }; versions?: string[] }) =>
          a.package.name === 'urllib3' && a.versions?.includes(urllib3.version),
      ),
  );
  assert.ok(listed.length > 0);
  for (const x of listed)
    assert.ok(
      hits.some((h) => h.id === x.id || h.aliases.includes(x.id)),
      `${x.id} reported for urllib3 ${urllib3.version}`,
    );
});

test('report writers on the real scan: SARIF valid for code scanning, JUnit well-formed, CycloneDX 1.6 valid', async () => {
  assertValidSarif(JSON.parse(formatReport(report, 'sarif')));
  const xml = formatReport(report, 'junit');
  assertWellFormedXml(xml);
  const facts = junitFacts(xml);
  assert.equal(
    facts.suites.reduce((n, s) => n + s.failures, 0),
    vulns(report).length,
  );
  const out = join(tmp, 'bom.json');
  assert.equal(
    await cli(
      '-q',
      'scan',
      'image',
      target,
      '--db',
      db,
      '--scanners',
      'vuln',
      '--format',
      'cyclonedx',
      '-o',
      out,
    ),
    0,
  );
  const bom = JSON.parse(readFileSync(out, 'utf8'));
  assertValidCycloneDX(bom);
  const refs = new Set(bom.components.map((c: { 'bom-ref': string }) => c['bom-ref']));
  assert.ok(refs.size >= img.expected.dpkg.length);
  assert.equal(new Set(vulns(report).map((f) => f.id)).size, bom.vulnerabilities.length);
  for (const v of bom.vulnerabilities) for (const a of v.affects) assert.ok(refs.has(a.ref));
});

test('scan sbom of the SBOM that `bulwark sbom` wrote gives the same vulnerabilities', async () => {
  const sbom = join(tmp, 'sbom.cdx.json');
  assert.equal(await cli('-q', 'sbom', target, '--format', 'cyclonedx', '-o', sbom), 0);
  const out = join(tmp, 'sbom-scan.json');
  assert.equal(await cli('-q', 'scan', 'sbom', sbom, '--db', db, '--format', 'json', '-o', out), 0);
  const r = JSON.parse(readFileSync(out, 'utf8')) as ScanReport;
  assert.equal(r.artifact.kind, 'sbom');
  const key = (f: VulnerabilityFinding) => `${f.package.purl} ${f.id}`;
  assert.deepEqual(vulns(r).map(key).sort(), vulns(report).map(key).sort());
});

test('exit codes, ignore file expiry and VEX suppression on the real findings (via the SBOM, no re-analysis)', async () => {
  const sbom = join(tmp, 'sbom.cdx.json');
  const run = (...extra: string[]) =>
    cli('-q', 'scan', 'sbom', sbom, '--db', db, '--format', 'json', '-o', join(tmp, 'x.json'), ...extra);
  const load = () => JSON.parse(readFileSync(join(tmp, 'x.json'), 'utf8')) as ScanReport;
  assert.equal(await run('--exit-code', '5'), 5, 'findings remain');
  assert.equal(
    await run('--exit-code', '5', '--severity', 'CRITICAL'),
    0,
    'no CRITICAL finding in the fixture',
  );
  assert.equal(vulns(load()).length, 0);
  // everything LOW is Debian "unimportant" and unfixed: --ignore-unfixed with LOW leaves nothing
  assert.equal(await run('--exit-code', '3', '--severity', 'LOW', '--ignore-unfixed'), 0);

  const lowIds = [
    ...new Set(
      vulns(report)
        .filter((f) => f.severity === 'LOW')
        .map((f) => f.id),
    ),
  ];
  const ignore = join(tmp, 'ignore');
  // all LOW ids ignored, one of them with an expiry in the past: only that one remains
  writeFileSync(
    ignore,
    [`# accepted risk`, ...lowIds.slice(1), `${lowIds[0]} exp:2020-01-01`].join('\n') + '\n',
  );
  assert.equal(await run('--exit-code', '4', '--severity', 'LOW', '--ignorefile', ignore), 4);
  assert.deepEqual([...new Set(vulns(load()).map((f) => f.id))], [lowIds[0]]);
  writeFileSync(ignore, [...lowIds.slice(1), `${lowIds[0]} exp:2999-01-01`].join('\n') + '\n');
  assert.equal(await run('--exit-code', '4', '--severity', 'LOW', '--ignorefile', ignore), 0);

  // OpenVEX: apt is not affected by CVE-2011-3374 (by the CVE alias, product = the package purl)
  const apt = vulns(report).find((f) => f.package.name === 'apt' && f.aliases.includes('CVE-2011-3374'));
  assert.ok(apt, 'the fixture has apt with CVE-2011-3374');
  const vex = join(tmp, 'vex.json');
  writeFileSync(
    vex,
    JSON.stringify({
      '@context': 'https://openvex.dev/ns/v0.2.0',
      '@id': 'urn:x',
      author: 't',
      timestamp: '2026-01-01T00:00:00Z',
      version: 1,
      statements: [
        {
          vulnerability: { name: 'CVE-2011-3374' },
          products: [{ '@id': 'pkg:deb/debian/apt' }],
          status: 'not_affected',
          justification: 'inline_mitigations_already_exist',
        },
      ],
    }),
  );
  assert.equal(await run('--vex', vex), 0);
  const after = vulns(load());
  assert.ok(!after.some((f) => f.package.name === 'apt' && f.id === apt.id));
  assert.equal(after.length, vulns(report).length - 1);
  assert.equal(await run('--vex', vex, '--show-suppressed'), 0);
  assert.equal(vulns(load()).find((f) => f.id === apt.id && f.package.name === 'apt')?.suppressed?.by, 'vex');
});

test('user errors: missing DB, unknown scanner, bad severity; the license scanner reads an SBOM', async () => {
  const sbom = join(tmp, 'sbom.cdx.json');
  assert.equal(await cli('-q', 'scan', 'sbom', sbom, '--db', join(tmp, 'none.sqlite')), 1);
  assert.equal(await cli('-q', 'scan', 'sbom', sbom, '--db', db, '--scanners', 'license'), 0);
  assert.equal(await cli('-q', 'scan', 'sbom', sbom, '--db', db, '--scanners', 'licence'), 2);
  assert.equal(await cli('-q', 'scan', 'sbom', sbom, '--db', db, '--severity', 'SEVERE'), 2);
  assert.equal(
    await cli('-q', 'scan', 'sbom', sbom, '--db', db, '--scanners', 'secret'),
    2,
    'an SBOM has no files to search for secrets',
  );
});
