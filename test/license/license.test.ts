import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { LicenseClassifier, licensesOf } from '../../src/license/index.js';
import { debianImage } from '../fixtures/index.js';

const bin = new URL('../../bin/bulwark', import.meta.url).pathname;
const classifier = new LicenseClassifier();

test('licenses as packages declare them map to SPDX ids and categories', () => {
  const table: [string, string | undefined, string, string][] = [
    ['GPL-2+', 'GPL-2.0', 'restricted', 'HIGH'], // Debian copyright short name
    ['GPL-3.0-or-later', 'GPL-3.0', 'restricted', 'HIGH'],
    ['GPL-3+-WITH-BISON-EXCEPTION', 'GPL-3.0', 'restricted', 'HIGH'],
    ['LGPL-2.1+', 'LGPL-2.1', 'restricted', 'HIGH'],
    ['AGPL-3.0-only', 'AGPL-3.0', 'forbidden', 'CRITICAL'],
    ['MPL-2.0', 'MPL-2.0', 'reciprocal', 'MEDIUM'],
    ['Expat', 'MIT', 'notice', 'LOW'],
    ['bsd-3-clause', 'BSD-3-Clause', 'notice', 'LOW'],
    ['Apache 2.0', 'Apache-2.0', 'notice', 'LOW'], // PyPI free text
    ['CC0-1.0', 'CC0-1.0', 'unencumbered', 'LOW'],
    ['public-domain', 'public-domain', 'unencumbered', 'LOW'],
    ['Beerware', undefined, 'unknown', 'UNKNOWN'],
  ];
  for (const [name, spdx, category, severity] of table) {
    assert.deepEqual(
      classifier.classify(name),
      { license: name, ...(spdx ? { spdx } : {}), category, severity },
      name,
    );
  }
  assert.deepEqual(licensesOf('(MIT OR Apache-2.0) AND BSD-3-Clause'), ['MIT', 'Apache-2.0', 'BSD-3-Clause']);
  assert.deepEqual(licensesOf('GPL-2.0 WITH Classpath-exception-2.0'), [
    'GPL-2.0 WITH Classpath-exception-2.0',
  ]);
});

test(
  'scan image --scanners license on the real fixture: every declared license once per package, severity from its category',
  { timeout: 900_000 },
  async () => {
    const img = await debianImage();
    const out = execFileSync(
      process.execPath,
      [bin, 'scan', 'image', `oci:${img.ociDir}:${img.tag}`, '--scanners', 'license', '-f', 'json'],
      {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      },
    );
    const report = JSON.parse(out) as {
      results: {
        target: string;
        findings: {
          license: string;
          category: string;
          severity: string;
          package: { name: string; purl: string };
        }[];
      }[];
    };
    const findings = report.results.flatMap((r) => r.findings);
    const cats = (
      parse(readFileSync(new URL('../../policies/licenses/categories.yaml', import.meta.url), 'utf8')) as {
        categories: Record<string, { severity: string }>;
      }
    ).categories;
    for (const f of findings)
      assert.equal(
        f.severity,
        f.category === 'unknown' ? 'UNKNOWN' : cats[f.category]!.severity,
        JSON.stringify(f),
      );
    // lodash declares MIT in its package.json (the npm layer of the fixture)
    const lodash = findings.filter((f) => f.package.name === 'lodash');
    assert.ok(lodash.length >= 1 && lodash.every((f) => f.license === 'MIT' && f.category === 'notice'));
    // bash's Debian copyright file lists GPL-3+: restricted
    const bash = findings.filter((f) => f.package.purl.startsWith('pkg:deb/debian/bash@'));
    const bashCopyright = readFileSync(`${img.rootfs}/usr/share/doc/bash/copyright`, 'utf8');
    assert.match(bashCopyright, /^License: GPL-3\+$/m);
    assert.ok(
      bash.some((f) => f.license === 'GPL-3+' && f.category === 'restricted' && f.severity === 'HIGH'),
    );
    // no package reports the same license twice
    const keys = report.results.flatMap((r) =>
      r.findings.map((f) => `${r.target} ${f.package.purl} ${f.license}`),
    );
    assert.equal(new Set(keys).size, keys.length);
    assert.ok(report.results.some((r) => r.target === 'OS packages'));
  },
);
