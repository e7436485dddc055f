import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterReport, parseIgnoreFile, parseVex } from '../../src/report/index.js';
import { isBulwarkError } from '../../src/core/errors.js';
import { sampleReport, vuln } from './fixtures.js';

const now = new Date('2026-11-23T12:00:00Z');
const ids = (r: ReturnType<typeof filterReport>) =>
  r.report.results.flatMap((x) =>
    x.findings.map((f) => `${f.id}@${'package' in f && f.package ? f.package.name : f.location.path}`),
  );

test('plain ignore file: ids and aliases, comments as reasons, expiry dates', () => {
  const list = parseIgnoreFile(
    [
      '# accepted: glibc is patched in our runtime',
      'CVE-2023-4911',
      'NSWG-ECO-100 exp:2026-11-23   # expired at midnight today',
      'aws-access-key-id exp:2026-12-31',
      '',
      'DS002',
    ].join('\n'),
    '.bulwarkignore',
  );
  assert.equal(list.rules[0]!.reason, 'accepted: glibc is patched in our runtime');
  assert.equal(list.rules[1]!.reason, 'expired at midnight today');
  const out = filterReport(sampleReport(), { ignore: [list], now });
  const left = ids(out);
  assert.ok(
    !left.some((i) => i.startsWith('DEBIAN-CVE-2023-4911')),
    'alias CVE-2023-4911 suppresses both glibc findings',
  );
  assert.ok(left.includes('NSWG-ECO-100@uri-js'), 'expired entry no longer suppresses');
  assert.ok(!left.some((i) => i.startsWith('aws-access-key-id')));
  assert.ok(!left.some((i) => i.startsWith('DS002')));
  assert.deepEqual(out.expiredRules, ['.bulwarkignore:3 NSWG-ECO-100 (expired 2026-11-23)']);
  assert.equal(out.remaining, 3); // DEBIAN-CVE-2019-1010022, NSWG-ECO-100, the license
  assert.equal(out.suppressed.length, 4);
  assert.ok(out.suppressed.every((f) => (f as any).suppressed.by === 'ignorefile'));
  // the day before expiry, it still suppresses
  assert.ok(
    !ids(filterReport(sampleReport(), { ignore: [list], now: new Date('2026-11-22T23:59:59Z') })).includes(
      'NSWG-ECO-100@uri-js',
    ),
  );
  assert.throws(
    () => parseIgnoreFile('CVE-1 exp:tomorrow', '.trivyignore'),
    (e: unknown) => isBulwarkError(e) && /\.trivyignore:1: invalid expiry date "tomorrow"/.test(e.message),
  );
  assert.throws(() => parseIgnoreFile('CVE-1 extra', 'x'), /x:1: unexpected "extra"/);
});

test('YAML ignore file: sections by kind, purls, path globs, statements, expiry', () => {
  const yaml = `
vulnerabilities:
  - id: CVE-2023-4911
    purls: ["pkg:deb/debian/libc-bin"]
    statement: libc-bin is not used at runtime
  - id: NSWG-ECO-100
    paths: ["app/**/package-lock.json"]
    expired_at: 2027-01-01
  - id: DEBIAN-CVE-2019-1010022
    expired_at: 2020-01-01
secrets:
  - id: aws-access-key-id
    paths: ["/other/*"]
misconfigurations:
  - id: aws-access-key-id
`;
  const list = parseIgnoreFile(yaml, '.bulwarkignore.yaml');
  const out = filterReport(sampleReport(), { ignore: [list], now, showSuppressed: true });
  const sup = out.suppressed.map((f) => `${f.id}@${'package' in f && f.package ? f.package.name : ''}`);
  assert.deepEqual(sup.sort(), ['DEBIAN-CVE-2023-4911@libc-bin', 'NSWG-ECO-100@uri-js']);
  assert.equal((out.suppressed[0] as any).suppressed.reason, 'libc-bin is not used at runtime');
  // --show-suppressed keeps them in the report, marked
  const kept = out.report.results[0]!.findings.find((f: any) => f.suppressed);
  assert.ok(kept);
  assert.equal(out.remaining, 5);
  assert.throws(() => parseIgnoreFile('vulns:\n  - id: X\n', 'a.yaml'), /a\.yaml: unknown section "vulns"/);
  assert.throws(
    () => parseIgnoreFile('vulnerabilities:\n  - statement: x\n', 'a.yaml'),
    /vulnerabilities\[0\]: missing "id"/,
  );
});

test('severity and unfixed filters; remaining counts only unsuppressed findings', () => {
  const a = filterReport(sampleReport(), { severities: ['CRITICAL'] });
  assert.deepEqual(ids(a).sort(), ['NSWG-ECO-100@uri-js', 'aws-access-key-id@/app/.env']);
  assert.equal(a.remaining, 2);
  const b = filterReport(sampleReport(), { ignoreUnfixed: true });
  assert.ok(!ids(b).includes('NSWG-ECO-100@uri-js'));
  assert.ok(!ids(b).includes('DEBIAN-CVE-2019-1010022@libc6'));
  assert.ok(ids(b).includes('aws-access-key-id@/app/.env'), 'non-vulnerability findings are not "unfixed"');
});

test('OpenVEX: not_affected/fixed suppress by product purl or by subcomponent of the scanned image', () => {
  const vex = parseVex(
    JSON.stringify({
      '@context': 'https://openvex.dev/ns/v0.2.0',
      '@id': 'https://example.test/vex/1',
      author: 'sec team',
      timestamp: '2026-01-01T00:00:00Z',
      version: 1,
      statements: [
        {
          vulnerability: { name: 'CVE-2023-4911' },
          products: [{ '@id': 'pkg:deb/debian/libc6' }],
          status: 'not_affected',
          justification: 'vulnerable_code_not_in_execute_path',
        },
        {
          vulnerability: { name: 'NSWG-ECO-100' },
          products: [{ '@id': 'pkg:oci/img@sha256:bbb', subcomponents: [{ '@id': 'pkg:npm/uri-js@2.1.1' }] }],
          status: 'not_affected',
          impact_statement: 'parse() is never called with user input',
        },
        {
          vulnerability: { name: 'DEBIAN-CVE-2019-1010022' },
          products: [{ '@id': 'pkg:deb/debian/libc6' }],
          status: 'affected',
        },
        // names another image: must not apply
        {
          vulnerability: { name: 'CVE-2023-4911' },
          products: [
            { '@id': 'pkg:oci/other@sha256:999', subcomponents: [{ '@id': 'pkg:deb/debian/libc-bin' }] },
          ],
          status: 'not_affected',
        },
      ],
    }),
    'vex.json',
  );
  assert.equal(vex.format, 'openvex');
  assert.equal(vex.statements.length, 3, 'affected statements are not kept');
  const out = filterReport(sampleReport(), { vex: [vex] });
  const sup = out.suppressed.map((f) => `${f.id}@${(f as any).package.name}`).sort();
  assert.deepEqual(sup, ['DEBIAN-CVE-2023-4911@libc6', 'NSWG-ECO-100@uri-js']);
  assert.deepEqual((out.suppressed.find((f) => f.id === 'NSWG-ECO-100') as any).suppressed, {
    by: 'vex',
    statement: 'not_affected',
    reason: 'parse() is never called with user input',
  });
  assert.throws(
    () => parseVex('{"statements":[{"status":"not_affected"}]}', 'v.json'),
    /v\.json: statements\[0\]: missing "vulnerability"/,
  );
  assert.throws(() => parseVex('{"foo":1}', 'v.json'), /neither OpenVEX/);
});

test('CycloneDX VEX: analysis.state not_affected/false_positive; affects by bom-ref, purl or BOM-Link', () => {
  const doc = {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    components: [
      {
        'bom-ref': 'c1',
        type: 'library',
        name: 'libc-bin',
        version: '2.36-9+deb12u1',
        purl: 'pkg:deb/debian/libc-bin@2.36-9%2Bdeb12u1?arch=amd64&distro=debian-12',
      },
    ],
    vulnerabilities: [
      {
        id: 'CVE-2023-4911',
        analysis: { state: 'not_affected', justification: 'code_not_reachable' },
        affects: [{ ref: 'c1' }],
      },
      {
        id: 'NSWG-ECO-100',
        analysis: { state: 'false_positive', detail: 'not this uri-js' },
        affects: [{ ref: 'urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#pkg:npm/uri-js@2.1.1' }],
      },
      {
        id: 'DEBIAN-CVE-2019-1010022',
        analysis: { state: 'exploitable' },
        affects: [{ ref: 'pkg:deb/debian/libc6' }],
      },
    ],
  };
  const vex = parseVex(JSON.stringify(doc), 'bom.vex.json');
  assert.equal(vex.format, 'cyclonedx');
  const out = filterReport(sampleReport(), { vex: [vex] });
  assert.deepEqual(out.suppressed.map((f) => `${f.id}@${(f as any).package.name}`).sort(), [
    'DEBIAN-CVE-2023-4911@libc-bin',
    'NSWG-ECO-100@uri-js',
  ]);
  assert.equal(
    (out.suppressed.find((f) => f.id === 'NSWG-ECO-100') as any).suppressed.statement,
    'false_positive',
  );
  // the libc6 finding of the same advisory stays: the statement names libc-bin only
  assert.ok(ids(out).includes('DEBIAN-CVE-2023-4911@libc6'));
  void vuln;
});
