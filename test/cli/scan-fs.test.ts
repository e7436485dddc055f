/**
 * `bulwark scan fs` on a project directory (the real package-lock.json that npm wrote for the
 * fixture image, a requirements.txt, a .env with a credential) and `scan rootfs` on the fixture's
 * unpacked root filesystem; findings checked against expectations computed without the matcher
 * (scan-expect.ts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianImage, type FixtureImage } from '../fixtures/index.js';
import { main } from '../../src/cli/main.js';
import type { ScanReport, VulnerabilityFinding } from '../../src/core/findings.js';
import { OSV, expectedDebian, expectedNpm, expectedPyPI } from './scan-expect.js';
import { assertValidSarif } from '../report/validate.js';

const tmp = mkdtempSync(join(tmpdir(), 'bulwark-scan-fs-'));
const db = join(tmp, 'db.sqlite');
const proj = join(tmp, 'project');
let img: FixtureImage;
const cli = (...a: string[]) => main(['node', 'bulwark', ...a]);
const vulns = (r: ScanReport) =>
  r.results.flatMap((x) => x.findings.filter((f): f is VulnerabilityFinding => f.kind === 'vulnerability'));
const REQS = [
  { name: 'requests', version: '2.19.1' },
  { name: 'urllib3', version: '1.24.1' },
  { name: 'Jinja2', version: '2.10' },
];

before(async () => {
  img = await debianImage();
  assert.equal(
    await cli('-q', 'db', 'import', join(OSV, 'npm'), join(OSV, 'PyPI'), join(OSV, 'Debian'), '--db', db),
    0,
  );
  mkdirSync(join(proj, 'web'), { recursive: true });
  copyFileSync(join(img.rootfs, 'app', 'package-lock.json'), join(proj, 'web', 'package-lock.json'));
  writeFileSync(
    join(proj, 'requirements.txt'),
    '# pinned\n' + REQS.map((r) => `${r.name}==${r.version}`).join('\n') + '\n',
  );
  // a credential-shaped value made up for this test (not a real key)
  writeFileSync(
    join(proj, '.env'),
    'DEBUG=1\nAWS_ACCESS_KEY_ID=AKIA2E0A8F3B244C9986\nAWS_SECRET_ACCESS_KEY=Xp9vK2mQ7rT4wZ8yB3nL6jH1fD5sA0cE9gU2iO7k\n',
  );
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('scan fs: lock file and requirements findings equal the independent expectations; paths relative', async () => {
  const out = join(tmp, 'fs.json');
  assert.equal(
    await cli(
      '-q',
      'scan',
      'fs',
      proj,
      '--db',
      db,
      '--scanners',
      'vuln',
      '--format',
      'json',
      '-o',
      out,
      '--exit-code',
      '9',
    ),
    9,
  );
  const r = JSON.parse(readFileSync(out, 'utf8')) as ScanReport;
  assert.equal(r.artifact.kind, 'fs');
  const lock = r.results.find((x) => x.target === 'web/package-lock.json');
  const reqs = r.results.find((x) => x.target === 'requirements.txt');
  assert.ok(lock && reqs, `sections: ${r.results.map((x) => x.target).join(', ')}`);
  const key = (f: VulnerabilityFinding) => `${f.package.name}@${f.package.version} ${f.id}`;
  assert.deepEqual(
    vulns({ ...r, results: [lock] })
      .map(key)
      .sort(),
    [...expectedNpm(img.expected.npm)].sort(),
  );
  assert.deepEqual(
    vulns({ ...r, results: [reqs] })
      .map(key)
      .sort(),
    [...expectedPyPI(REQS)].sort(),
  );
  for (const f of vulns(r)) assert.ok(!f.location.path.startsWith('/'), f.location.path);
  assert.ok(vulns(r).some((f) => f.location.path === 'requirements.txt'));
});

test('scan fs with --scanners vuln,secret: one pass, both kinds of findings, SARIF valid', async () => {
  const out = join(tmp, 'fs.sarif');
  assert.equal(
    await cli(
      '-q',
      'scan',
      'fs',
      proj,
      '--db',
      db,
      '--scanners',
      'vuln,secret',
      '--format',
      'sarif',
      '-o',
      out,
    ),
    0,
  );
  const sarif = JSON.parse(readFileSync(out, 'utf8'));
  assertValidSarif(sarif);
  const results = sarif.runs[0].results as {
    ruleId: string;
    locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[];
  }[];
  const secret = results.find((x) => x.locations[0]!.physicalLocation.artifactLocation.uri === '.env');
  assert.ok(secret, 'secret finding in .env');
  assert.ok(secret.locations[0]!.physicalLocation.region.startLine >= 2);
  assert.ok(
    results.some((x) => x.locations[0]!.physicalLocation.artifactLocation.uri === 'requirements.txt'),
  );
  assert.ok(
    !readFileSync(out, 'utf8').includes('Xp9vK2mQ7rT4wZ8yB3nL6jH1fD5sA0cE9gU2iO7k'),
    'the secret itself is never printed',
  );
});

test('scan rootfs of the unpacked fixture finds the Debian expectation', async () => {
  const out = join(tmp, 'rootfs.json');
  assert.equal(
    await cli(
      '-q',
      'scan',
      'rootfs',
      img.rootfs,
      '--db',
      db,
      '--scanners',
      'vuln',
      '--format',
      'json',
      '-o',
      out,
    ),
    0,
  );
  const r = JSON.parse(readFileSync(out, 'utf8')) as ScanReport;
  assert.equal(r.artifact.kind, 'rootfs');
  const os = r.results.filter((x) => x.class === 'os-pkgs');
  assert.deepEqual(
    vulns({ ...r, results: os })
      .map((f) => `${f.package.name} ${f.id}`)
      .sort(),
    [...expectedDebian(img.expected.dpkg)].sort(),
  );
  assert.ok(
    vulns(r).every((f) => f.location.path.startsWith('/')),
    'rootfs paths stay absolute',
  );
});
