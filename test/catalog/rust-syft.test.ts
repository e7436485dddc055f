/**
 * Cargo.lock against syft's Rust fixtures and the packages syft expects (same crates, versions and
 * purls; local crates without a purl, as syft), plus v1 lock-file corner cases on a hand-written
 * fixture (checksums in [metadata], "name version (source)" dependency entries).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCargoLock, rustCataloger } from '../../src/catalog/rust/index.js';
import { runCataloger } from '../helpers/catalog.js';
import { SHARED } from '../helpers/shared.js';
import { syftExpectations } from '../helpers/syft.js';

const CORPUS = `${SHARED}/corpora/syft`;
const expected = syftExpectations().filter((e) => e.test_file.includes('/rust/'));

test('syft Cargo.lock fixtures: same crates (duplicates from git and registry kept apart) and purls', async () => {
  assert.equal(expected.length, 3);
  for (const c of expected) {
    const abs = join(CORPUS, 'syft', c.fixture!.replace(/^syft\//, ''));
    const { packages, warnings } = await runCataloger(rustCataloger, {
      '/src/Cargo.lock': readFileSync(abs),
    });
    assert.deepEqual(warnings, []);
    const k = (p: { name: string; version: string; purl?: string }) =>
      `${p.name}@${p.version} ${p.purl ?? ''}`;
    assert.deepEqual(packages.map(k).sort(), c.packages.map(k).sort(), c.fixture);
  }
});

test('git and registry copies of one crate version resolve by source in dependency entries', async () => {
  const crates = parseCargoLock(
    readFileSync(join(CORPUS, 'syft/pkg/cataloger/rust/testdata/Cargo.lock-with-git-deps'), 'utf8'),
  );
  const hello = crates.find((c) => c.name === 'hello_world')!;
  assert.deepEqual(hello.deps.map((d) => `${d.name}@${d.version} ${d.source}`).sort(), [
    'nom-regex@0.2.0 registry+https://github.com/rust-lang/crates.io-index',
    'regex@1.11.1 git+https://github.com/rust-lang/regex.git#1a069b9232c607b34c4937122361aa075ef573fa',
  ]);
});

test('Cargo.lock v1: [metadata] checksums, dependency entries with versions and sources', () => {
  const crates = parseCargoLock(
    [
      '[[package]]',
      'name = "a"',
      'version = "0.1.0"',
      'dependencies = [',
      ' "b 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)",',
      ' "b 2.0.0 (registry+https://github.com/rust-lang/crates.io-index)",',
      ']',
      '',
      '[[package]]',
      'name = "b"',
      'version = "1.0.0"',
      'source = "registry+https://github.com/rust-lang/crates.io-index"',
      '',
      '[[package]]',
      'name = "b"',
      'version = "2.0.0"',
      'source = "registry+https://github.com/rust-lang/crates.io-index"',
      'dependencies = [ "c" ]',
      '',
      '[[package]]',
      'name = "c"',
      'version = "0.3.0"',
      'source = "git+https://example.com/c.git?branch=main#abc"',
      '',
      '[metadata]',
      '"checksum b 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)" = "1111"',
      '"checksum b 2.0.0 (registry+https://github.com/rust-lang/crates.io-index)" = "2222"',
      '"checksum c 0.3.0 (git+https://example.com/c.git?branch=main#abc)" = "<none>"',
    ].join('\n'),
  );
  const get = (n: string, v: string) => crates.find((c) => c.name === n && c.version === v)!;
  assert.deepEqual(
    get('a', '0.1.0').deps.map((d) => `${d.name}@${d.version}`),
    ['b@1.0.0', 'b@2.0.0'],
  );
  assert.equal(get('b', '1.0.0').checksum, '1111');
  assert.equal(get('b', '2.0.0').checksum, '2222');
  assert.equal(get('c', '0.3.0').checksum, undefined);
  assert.deepEqual(
    get('b', '2.0.0').deps.map((d) => d.name),
    ['c'],
  );
});

test('a corrupt Cargo.lock is a warning naming the file', async () => {
  const { packages, warnings } = await runCataloger(rustCataloger, {
    '/x/Cargo.lock': '[[package]\nname = "a"',
  });
  assert.deepEqual(packages, []);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^cannot parse Cargo\.lock: /);
});
