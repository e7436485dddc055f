import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apkCataloger } from '../../src/catalog/apk/index.js';
import { readTree, runCataloger } from '../helpers/catalog.js';
import { SHARED } from '../helpers/shared.js';

const SYFT = `${SHARED}/corpora/syft`;
const APK = `${SYFT}/syft/pkg/cataloger/alpine/testdata`;
const DB = '/lib/apk/db/installed';

interface Expected {
  test_file: string;
  fixture: string;
  packages: { name: string; version: string }[];
  db_entries: { package: string; version: string; architecture: string; originpackage: string }[];
}
const expected: Expected[] = readFileSync(`${SYFT}/expected_index.jsonl`, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Expected)
  .filter((e) => e.test_file.startsWith('syft/pkg/cataloger/alpine/'));

function fixtureFiles(fixture: string): Record<string, Buffer> {
  const abs = join(SYFT, fixture);
  try {
    return readTree(abs); // a directory holding lib/apk/db/installed
  } catch {
    return { [DB]: readFileSync(abs) }; // a bare database file
  }
}

describe('apk cataloger: syft fixtures', () => {
  it('has the alpine fixtures to check', () => assert.ok(expected.length >= 4));
  for (const e of expected) {
    it(e.fixture.split('/').pop()!, async () => {
      const { packages, warnings } = await runCataloger(apkCataloger, fixtureFiles(e.fixture));
      assert.deepEqual(warnings, []);
      assert.deepEqual(
        packages.map((p) => ({
          package: p.name,
          version: p.version,
          architecture: p.arch,
          originpackage: p.sourceName,
        })),
        e.db_entries,
      );
    });
  }

  it('multiple-1: purl with distro and upstream, licenses, provides-based dependencies, files', async () => {
    const { packages } = await runCataloger(apkCataloger, readTree(`${APK}/multiple-1`), {
      distro: { id: 'alpine', versionId: '3.19.1' },
    });
    const by = Object.fromEntries(packages.map((p) => [p.name, p]));
    assert.equal(
      by.bash!.purl,
      'pkg:apk/alpine/bash@5.2.21-r0?arch=x86_64&distro=alpine-3.19.1&upstream=bash',
    );
    assert.equal(
      by['busybox-binsh']!.purl,
      'pkg:apk/alpine/busybox-binsh@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1&upstream=busybox',
    );
    assert.equal(by.bash!.ecosystem, 'Alpine:v3.19');
    assert.deepEqual(by.bash!.licenses, ['GPL-3.0-or-later']);
    // D:/bin/sh so:libc.musl-x86_64.so.1 so:libreadline.so.8 → providers of those
    assert.deepEqual(by.bash!.dependsOn, [{ name: 'busybox-binsh' }, { name: 'musl' }, { name: 'readline' }]);
    // busybox=1.36.1-r15 is not installed here: dropped
    assert.deepEqual(by['busybox-binsh']!.dependsOn, []);
    assert.deepEqual(by['busybox-binsh']!.files, ['/bin/sh']);
  });

  it('multiple-2: versioned dependencies (musl>=1.2) and so: provides', async () => {
    const { packages } = await runCataloger(apkCataloger, readTree(`${APK}/multiple-2`));
    const apk = packages.find((p) => p.name === 'apk-tools')!;
    assert.deepEqual(
      apk.dependsOn?.map((d) => d.name),
      ['musl', 'ca-certificates-bundle', 'libcrypto1.1', 'libssl1.1', 'zlib'],
    );
  });

  it('license list in the old space-separated form', async () => {
    const { packages } = await runCataloger(apkCataloger, { [DB]: readFileSync(`${APK}/single`) });
    assert.deepEqual(packages[0]!.licenses, ['MIT', 'BSD', 'GPL2+']);
  });

  it('corrupt record: warning naming the file and line, the other records still read', async () => {
    const { packages, warnings } = await runCataloger(apkCataloger, readTree(`${APK}/corrupt`));
    const db = readFileSync(`${APK}/corrupt/lib/apk/db/installed`, 'utf8');
    assert.deepEqual(
      packages.map((p) => p.name),
      [...db.matchAll(/^P:(.*)$/gm)].map((m) => m[1]),
    );
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /apk: \/lib\/apk\/db\/installed:1: malformed line/);
  });

  it('corner cases: SPDX expression kept whole, conflicts ignored, no trailing newline, CRLF', async () => {
    const db =
      'P:a\r\nV:1-r0\r\nL:MIT AND (Apache-2.0 OR BSD-3-Clause)\r\nD:!b c>2 so:libx.so.1\r\n\r\nP:b\r\nV:2-r0\r\n\r\nP:c\r\nV:3-r0\r\np:so:libx.so.1=1';
    const { packages } = await runCataloger(apkCataloger, { [DB]: db });
    assert.deepEqual(
      packages.map((p) => p.name),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(packages[0]!.licenses, ['MIT AND (Apache-2.0 OR BSD-3-Clause)']);
    assert.deepEqual(packages[0]!.dependsOn, [{ name: 'c' }]);
  });
});
