/**
 * Python cataloger corner cases on hand-written fixtures (test/catalog/fixtures/python) and inline
 * metadata: pin syntax, lock-file dev/prod, metadata headers, egg requires.txt sections.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pythonCataloger } from '../../src/catalog/python/index.js';
import { runCataloger } from '../helpers/catalog.js';

const FIX = join(import.meta.dirname, 'fixtures', 'python');
const fix = (name: string) => readFileSync(join(FIX, name));
const keys = (ps: { name: string; version: string }[]) => ps.map((p) => `${p.name}@${p.version}`).sort();

test('requirements: only exact pins; hashes, continuations, extras, markers, options and comments', async () => {
  const { packages, warnings } = await runCataloger(pythonCataloger, {
    '/srv/requirements-prod.txt': fix('requirements-prod.txt'),
  });
  assert.deepEqual(warnings, []);
  assert.deepEqual(keys(packages), ['Django@4.2.7', 'Flask@3.0.0', 'requests@2.31.0', 'zope.interface@6.1']);
  assert.equal(packages.find((p) => p.name === 'zope.interface')!.purl, 'pkg:pypi/zope-interface@6.1');
  assert.ok(packages.every((p) => p.foundBy === 'python-requirements' && p.ecosystem === 'PyPI'));
});

test('poetry.lock: groups decide dev (a package in main and dev is prod); dependencies pinned by name', async () => {
  const { packages } = await runCataloger(pythonCataloger, { '/p/poetry.lock': fix('poetry.lock') });
  assert.deepEqual(keys(packages), ['Requests@2.31.0', 'certifi@2023.7.22', 'pytest@7.4.3', 'urllib3@2.0.7']);
  assert.deepEqual(
    packages.filter((p) => p.dev).map((p) => p.name),
    ['pytest'],
  );
  assert.deepEqual(packages.find((p) => p.name === 'Requests')!.dependsOn, [
    { name: 'certifi', version: '2023.7.22' },
    { name: 'urllib3', version: '2.0.7' },
  ]);
});

test('uv.lock: project included, dev = reachable from dev-dependencies only, extras count as prod', async () => {
  const { packages } = await runCataloger(pythonCataloger, { '/p/uv.lock': fix('uv.lock') });
  assert.deepEqual(keys(packages), [
    'app@0.1.0',
    'click@8.1.7',
    'httpx@0.27.0',
    'idna@3.7',
    'pluggy@1.5.0',
    'pytest@8.2.0',
  ]);
  assert.deepEqual(
    packages
      .filter((p) => p.dev)
      .map((p) => p.name)
      .sort(),
    ['pluggy', 'pytest'],
  );
  assert.deepEqual(packages.find((p) => p.name === 'pytest')!.dependsOn, [
    { name: 'idna', version: '3.7' },
    { name: 'pluggy', version: '1.5.0' },
  ]);
});

test('Pipfile.lock: default is prod, develop is dev, a package in both is prod, editables skipped', async () => {
  const { packages } = await runCataloger(pythonCataloger, { '/p/Pipfile.lock': fix('Pipfile.lock') });
  assert.deepEqual(keys(packages), ['attrs@23.1.0', 'pytest@7.4.0', 'six@1.16.0']);
  assert.deepEqual(
    packages.filter((p) => p.dev).map((p) => p.name),
    ['pytest'],
  );
});

test('installed metadata: License-Expression, classifiers, extras-only requirements, egg requires.txt, no version', async () => {
  const { packages, warnings } = await runCataloger(pythonCataloger, {
    '/site/Foo_Bar-1.0.dist-info/METADATA': [
      'Metadata-Version: 2.4',
      'Name: Foo_Bar',
      'Version: 1.0',
      'License-Expression: MIT OR Apache-2.0',
      'License: some very long text that is not used',
      'Requires-Dist: idna (>=2.5)',
      'Requires-Dist: PySocks!=1.5.7,>=1.5.6; extra == "socks"',
      "Requires-Dist: colorama; sys_platform == 'win32'",
      '',
      'Requires-Dist: not-a-header-this-is-the-description',
    ].join('\n'),
    '/site/Foo_Bar-1.0.dist-info/direct_url.json':
      '{"url": "https://g.example/foo.git", "vcs_info": {"vcs": "git", "commit_id": "abc"}}',
    '/site/classic-2.0.dist-info/METADATA':
      'Name: classic\nVersion: 2.0\nLicense: UNKNOWN\nClassifier: License :: OSI Approved :: MIT License\nClassifier: Programming Language :: Python\n',
    '/usr/lib/python3/dist-packages/deb_pkg-3.0.egg-info/PKG-INFO':
      'Metadata-Version: 1.2\nName: deb-pkg\nVersion: 3.0\nLicense: BSD\n',
    '/usr/lib/python3/dist-packages/deb_pkg-3.0.egg-info/requires.txt':
      'six>=1.0\n\n[:python_version < "3"]\nenum34\n\n[tests]\npytest\n',
    '/usr/lib/python3/dist-packages/old-1.0.egg-info': 'Metadata-Version: 1.0\nName: old\nVersion: 1.0\n',
    '/site/nover.dist-info/METADATA': 'Name: nover\n',
  });
  assert.deepEqual(warnings, []);
  assert.deepEqual(keys(packages), ['Foo_Bar@1.0', 'classic@2.0', 'deb-pkg@3.0', 'old@1.0']);
  const foo = packages.find((p) => p.name === 'Foo_Bar')!;
  assert.deepEqual(foo.licenses, ['MIT OR Apache-2.0']);
  assert.deepEqual(foo.dependsOn, [{ name: 'idna' }, { name: 'colorama' }]);
  assert.equal(foo.purl, 'pkg:pypi/foo-bar@1.0?vcs_url=git%2Bhttps%3A%2F%2Fg.example%2Ffoo.git%40abc');
  assert.deepEqual(packages.find((p) => p.name === 'classic')!.licenses, ['MIT']);
  const deb = packages.find((p) => p.name === 'deb-pkg')!;
  assert.deepEqual(deb.dependsOn, [{ name: 'six' }, { name: 'enum34' }]);
  assert.deepEqual(deb.licenses, ['BSD']);
});

test('corrupt lock files warn (the walker adds path and layer) and do not stop the others', async () => {
  const { packages, warnings } = await runCataloger(pythonCataloger, {
    '/a/poetry.lock': '[[package]\nname = ',
    '/b/Pipfile.lock': '{',
    '/c/uv.lock': fix('uv.lock'),
  });
  assert.equal(packages.length, 6);
  assert.equal(warnings.length, 2);
  assert.match(warnings.join('\n'), /cannot parse poetry\.lock: /);
  assert.match(warnings.join('\n'), /cannot parse Pipfile\.lock: /);
});
