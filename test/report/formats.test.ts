import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReport, renderTable, toCycloneDx, toJUnit, toSarif } from '../../src/report/index.js';
import { assertValidCycloneDX } from '../sbom/validate.js';
import { assertValidSarif, assertWellFormedXml, junitFacts } from './validate.js';
import { sampleReport } from './fixtures.js';

test('json is the ScanReport itself', () => {
  const r = sampleReport();
  assert.deepEqual(JSON.parse(formatReport(r, 'json')), r);
});

test('table: one section per target with counts by severity, grouped by package, colour only when asked', () => {
  const t = renderTable(sampleReport());
  assert.match(
    t,
    /oci:\/tmp\/img:latest \(debian 12\.5\)\n=+\nTotal: 3 \(CRITICAL: 0, HIGH: 2, MEDIUM: 0, LOW: 1, UNKNOWN: 0\)/,
  );
  assert.match(t, /\/app\/package-lock\.json \(npm\)\n=+\nTotal: 1 \(CRITICAL: 1,/);
  assert.match(t, /Total: 0 \(CRITICAL: 0/, 'empty targets still listed');
  // libc6 has two advisories: its name is printed once, the fixed version is shown
  const libcRows = t.split('\n').filter((l) => l.includes('DEBIAN-CVE-'));
  assert.equal(libcRows.length, 3);
  assert.equal(t.split('\n').filter((l) => /│ libc6 /.test(l)).length, 1);
  assert.ok(libcRows.some((l) => l.includes('2.36-9+deb12u3')));
  assert.match(t, /AWS .*aws-access-key-id.*\/app\/\.env:3/);
  assert.match(t, /dockerfile .*DS002/);
  assert.match(
    t,
    /Report Summary\n\n┌.*\n│ Target +│ Type +│ Vulnerabilities │ Secrets │ Misconfigurations │ Licenses │/,
  );
  assert.match(t, /│ \/app\/\.env +│ secret +│ 0 +│ 1 +│ 0 +│ 0 +│/);
  assert.ok(!t.includes('\x1b['), 'no ANSI codes without colour');
  assert.ok(renderTable(sampleReport(), { color: true }).includes('\x1b[31mHIGH\x1b[0m'));
});

test('sarif: valid SARIF 2.1.0 with GitHub code-scanning requirements; one rule per id', () => {
  const doc = toSarif(sampleReport()) as any;
  assertValidSarif(doc);
  const run = doc.runs[0];
  assert.equal(run.results.length, 7);
  const ids = run.tool.driver.rules.map((r: any) => r.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(ids.filter((i: string) => i === 'DEBIAN-CVE-2023-4911').length, 1);
  const rule = run.tool.driver.rules.find((r: any) => r.id === 'DEBIAN-CVE-2023-4911');
  assert.equal(rule.properties['security-severity'], '7.8');
  assert.ok(rule.help.text.includes('libc6') && rule.help.markdown.includes('2.36-9+deb12u3'));
  const sec = run.results.find((r: any) => r.ruleId === 'aws-access-key-id');
  assert.equal(sec.locations[0].physicalLocation.region.startLine, 3);
  assert.equal(sec.locations[0].physicalLocation.artifactLocation.uri, 'app/.env');
  assert.equal(sec.level, 'error');
  assert.equal(run.results.find((r: any) => r.ruleId === 'GPL-3.0-only').level, 'warning');
  // the validator does reject what the schema forbids
  const bad = structuredClone(doc);
  bad.runs[0].results[0].level = 'fatal';
  assert.throws(() => assertValidSarif(bad), /SARIF schema violations/);
});

test('junit: well-formed XML, one testsuite per target, a failing testcase per finding, text escaped', () => {
  const xml = toJUnit(sampleReport());
  assertWellFormedXml(xml);
  const facts = junitFacts(xml);
  assert.equal(facts.suites.length, 6);
  const os = facts.suites[0]!;
  assert.equal(os.name, 'oci:/tmp/img:latest (debian 12.5)');
  assert.deepEqual([os.tests, os.failures, os.cases.length], [3, 3, 3]);
  assert.equal(os.cases[0]!.classname, 'libc6@2.36-9+deb12u1');
  assert.equal(os.cases[0]!.name, '[HIGH] DEBIAN-CVE-2023-4911');
  assert.equal(
    os.cases[0]!.failure,
    'glibc: buffer overflow in ld.so <GLIBC_TUNABLES> & "friends"',
    'escaped, control char dropped',
  );
  assert.equal(facts.suites[5]!.tests, 0);
});

test('cyclonedx: valid CycloneDX 1.6; one vulnerability per id affecting each component; other kinds left out', () => {
  const r = sampleReport();
  (r.results[0]!.findings[2] as any).suppressed = {
    by: 'vex',
    statement: 'not_affected',
    reason: 'vulnerable code not present',
  };
  const { bom, omitted } = toCycloneDx(r);
  assertValidCycloneDX(bom);
  const b = bom as any;
  assert.equal(omitted, 3);
  const glibc = b.vulnerabilities.find((v: any) => v.id === 'DEBIAN-CVE-2023-4911');
  assert.deepEqual(glibc.affects.map((a: any) => a.ref).sort(), [
    'deb:libc-bin@2.36-9+deb12u1',
    'deb:libc6@2.36-9+deb12u1',
  ]);
  const refs = new Set(b.components.map((c: any) => c['bom-ref']));
  for (const v of b.vulnerabilities)
    for (const a of v.affects) assert.ok(refs.has(a.ref), `${a.ref} is a component`);
  assert.deepEqual(glibc.ratings[0], {
    source: { name: 'nvd' },
    score: 7.8,
    severity: 'high',
    method: 'CVSSv31',
    vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H',
  });
  assert.deepEqual(
    glibc.references.map((x: any) => x.id),
    ['CVE-2023-4911', 'DSA-5514-1'],
  );
  const sup = b.vulnerabilities.find((v: any) => v.id === 'DEBIAN-CVE-2019-1010022');
  assert.equal(sup.analysis.state, 'not_affected');
  assert.ok(
    b.components.some((c: any) => c.purl === 'pkg:npm/uri-js@2.1.1'),
    'vulnerable packages outside the package list become components',
  );
});
