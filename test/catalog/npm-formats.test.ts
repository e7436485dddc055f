/**
 * npm cataloger corner cases on hand-written fixtures (test/catalog/fixtures/npm): the syntax and
 * resolution rules the real-tree and syft-corpus tests do not happen to exercise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { npmCataloger } from '../../src/catalog/npm/index.js';
import { readTree, runCataloger } from '../helpers/catalog.js';

const FIX = join(import.meta.dirname, 'fixtures', 'npm');
const byKey = (ps: { name: string; version: string }[]) => ps.map((p) => `${p.name}@${p.version}`).sort();

test('yarn classic: quoted multi-specifier keys, npm: aliases, optional deps, dev from package.json', async () => {
  const { packages, warnings } = await runCataloger(
    npmCataloger,
    readTree(join(FIX, 'yarn-classic'), '/src'),
  );
  assert.deepEqual(warnings, []);
  const lock = packages.filter((p) => p.foundBy === 'yarn-lock');
  assert.deepEqual(byKey(lock), [
    '@scope/a@1.2.0',
    'b@2.0.1',
    'devhelper@1.0.0',
    'devtool@5.1.0',
    'real-c@3.0.0',
  ]);
  const a = lock.find((p) => p.name === '@scope/a')!;
  assert.equal(a.purl, 'pkg:npm/%40scope/a@1.2.0');
  // fsevents is not in the lock (not installed on this platform): no edge, no error
  assert.deepEqual(byKey(a.dependsOn as { name: string; version: string }[]), ['b@2.0.1', 'real-c@3.0.0']);
  const dev = Object.fromEntries(lock.map((p) => [p.name, p.dev === true]));
  // b is used by both a prod and a dev package: prod
  assert.deepEqual(dev, { '@scope/a': false, b: false, 'real-c': false, devtool: true, devhelper: true });
  // the project's own package.json is not an installed package
  assert.equal(packages.filter((p) => p.foundBy === 'npm-installed').length, 0);
});

test('package-lock v3: workspaces via links, nested node_modules shadowing, aliases, license forms, flags', async () => {
  const { packages, warnings } = await runCataloger(
    npmCataloger,
    readTree(join(FIX, 'lock-v2-workspaces'), '/repo'),
  );
  assert.deepEqual(warnings, []);
  assert.deepEqual(byKey(packages), [
    'jest-ish@1.0.0',
    'left-pad@1.0.0',
    'left-pad@1.3.0',
    'mono@1.0.0',
    'old@1.0.0',
    'opt@2.0.0',
    'string-width@4.2.3',
    'ws-lib@0.3.0',
  ]);
  const get = (k: string) => packages.find((p) => `${p.name}@${p.version}` === k)!;
  assert.deepEqual(byKey(get('mono@1.0.0').dependsOn as never), [
    'jest-ish@1.0.0',
    'left-pad@1.3.0',
    'ws-lib@0.3.0',
  ]);
  // the workspace resolves left-pad to its own nested copy, old to the hoisted one
  assert.deepEqual(byKey(get('ws-lib@0.3.0').dependsOn as never), ['left-pad@1.0.0', 'old@1.0.0']);
  assert.deepEqual(get('jest-ish@1.0.0').dependsOn, [{ name: 'string-width', version: '4.2.3' }]);
  assert.deepEqual(get('left-pad@1.3.0').licenses, ['WTFPL']);
  assert.deepEqual(get('old@1.0.0').licenses, ['MIT', 'Apache-2.0']);
  assert.equal(get('string-width@4.2.3').dev, true);
  assert.equal(get('left-pad@1.3.0').dev, undefined);
  assert.deepEqual(get('opt@2.0.0').metadata, { optional: true, peer: true });
  assert.deepEqual(get('mono@1.0.0').metadata, { root: true });
});

test('installed package.json: only node_modules/<name> and node_modules/@scope/<name> roots count', async () => {
  const pj = (o: object) => JSON.stringify(o);
  const { packages, warnings } = await runCataloger(npmCataloger, {
    '/app/package.json': pj({ name: 'app', version: '1.0.0' }),
    '/app/node_modules/x/package.json': pj({
      name: 'x',
      version: '1.0.0',
      license: 'MIT',
      dependencies: { y: '^2' },
    }),
    '/app/node_modules/x/lib/package.json': pj({ type: 'module' }),
    '/app/node_modules/x/dist/package.json': pj({ name: 'x-dist', version: '9.9.9' }),
    '/app/node_modules/@s/y/package.json': pj({ name: '@s/y', version: '2.0.0', licenses: ['ISC'] }),
    '/app/node_modules/y/package.json': pj({
      name: 'y',
      version: '2.1.0',
      licenses: [{ type: 'BSD-2-Clause', url: 'x' }],
    }),
    '/app/node_modules/broken/package.json': '{ "name": ',
    '/app/node_modules/.bin/package.json': pj({ name: 'nope', version: '1.0.0' }),
  });
  assert.deepEqual(byKey(packages), ['@s/y@2.0.0', 'x@1.0.0', 'y@2.1.0']);
  assert.equal(warnings.length, 1);
  // (the walker prefixes the analyzer name, path and layer; see the pipeline test in rust-real)
  assert.match(warnings[0]!, /^cannot parse package\.json: /);
  const x = packages.find((p) => p.name === 'x')!;
  assert.deepEqual(x.dependsOn, [{ name: 'y', version: '2.1.0' }]);
  assert.deepEqual(packages.find((p) => p.name === 'y')!.licenses, ['BSD-2-Clause']);
  assert.deepEqual(packages.find((p) => p.name === '@s/y')!.licenses, ['ISC']);
});

test('a corrupt lock file is a warning naming the file, not a crash', async () => {
  const { packages, warnings } = await runCataloger(npmCataloger, {
    '/a/package-lock.json': '{"lockfileVersion": 2, "packages": ',
    '/b/yarn.lock': 'a@^1:\n  version "1"\n  not-indented-right\nfoo\n',
    '/c/pnpm-lock.yaml': 'lockfileVersion: [\n',
  });
  assert.equal(packages.length, 0);
  assert.equal(warnings.length, 3);
  assert.match(warnings[0]!, /^cannot parse package-lock\.json: /);
  assert.match(warnings[1]!, /^cannot parse yarn\.lock: line 4: /);
  assert.match(warnings[2]!, /^cannot parse pnpm-lock\.yaml: /);
});

test('keys like __proto__ in lock files are data, not prototypes', async () => {
  const { packages, warnings } = await runCataloger(npmCataloger, {
    '/p/yarn.lock':
      '"__proto__@^1":\n  version "1.0.0"\n  dependencies:\n    __proto__ "^1"\n    constructor "^2"\n',
    '/q/package-lock.json': JSON.stringify({
      lockfileVersion: 3,
      packages: {
        '': { name: 'q', version: '1.0.0', dependencies: { ['__proto__']: '1' } },
        'node_modules/__proto__': { version: '1.0.0' },
      },
    }),
  });
  assert.deepEqual(warnings, []);
  assert.deepEqual(byKey(packages), ['__proto__@1.0.0', '__proto__@1.0.0', 'q@1.0.0']);
  assert.equal(({} as Record<string, unknown>).version, undefined);
});
