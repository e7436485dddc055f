/**
 * npm cataloger against syft's own JavaScript fixtures and the packages syft's tests expect from
 * them (/work/shared/corpora/syft/expected_index.jsonl). Deliberate differences are listed in
 * docs/catalog-languages-1.md: bun.lock and deno.lock are not cataloged; a package.json outside
 * node_modules is not an installed package, so syft's package.json fixtures are mounted at
 * node_modules/<name>/package.json here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { npmCataloger } from '../../src/catalog/npm/index.js';
import { readTree, runCataloger } from '../helpers/catalog.js';
import { SHARED } from '../helpers/shared.js';

const CORPUS = `${SHARED}/corpora/syft`;
interface Expected {
  test: string;
  case: string | null;
  fixture?: string;
  fixture_candidates?: string[];
  packages: { name: string; version: string; purl?: string }[];
}
const expected: Expected[] = readFileSync(join(CORPUS, 'expected_index.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Expected & { test_file: string })
  .filter((e) => e.test_file.includes('/javascript/'));

const key = (p: { name: string; version?: string }) => `${p.name}@${p.version}`;
const sorted = (xs: string[]) => [...xs].sort();

function canonicalName(file: string): string {
  if (file.endsWith('.json')) return 'package-lock.json';
  return basename(file);
}

async function catalogFixture(fixture: string) {
  const abs = join(CORPUS, 'syft', fixture.replace(/^syft\//, ''));
  const files = statSync(abs).isDirectory()
    ? readTree(abs, '/project')
    : { [`/project/${canonicalName(abs)}`]: readFileSync(abs) };
  return runCataloger(npmCataloger, files);
}

const lockCases = expected.filter(
  (e) =>
    e.fixture &&
    /pkg-lock|yarn|pnpm/.test(e.fixture) &&
    !/bun|deno|remote/.test(e.fixture) &&
    !/Licenses/.test(e.test),
);

test('syft corpus has the JavaScript lock-file cases this test relies on', () => {
  assert.ok(lockCases.length >= 15, `only ${lockCases.length} cases`);
});

for (const c of lockCases) {
  test(`syft ${c.test}${c.case ? ` (${c.case})` : ''}: ${c.fixture}`, async () => {
    const { packages, warnings } = await catalogFixture(c.fixture!);
    assert.deepEqual(warnings, []);
    const lockPkgs = packages.filter((p) => p.foundBy !== 'npm-installed');
    // syft's package-lock tests run with its default config, which leaves dev packages out; the
    // yarn/pnpm tests say in their names whether dev packages are excluded.
    const excludeDev = /exclude/i.test(`${c.test} ${c.case ?? ''}`) || /pkg-lock/.test(c.fixture!);
    const got = lockPkgs.filter((p) => !(excludeDev && p.dev));
    assert.deepEqual(sorted([...new Set(got.map(key))]), sorted([...new Set(c.packages.map(key))]));
    for (const e of c.packages) {
      if (!e.purl) continue;
      const g = got.find((p) => key(p) === key(e));
      // The purl spec requires lower-case npm names; syft keeps the case as written (one fixture has
      // "c0n-fab_u.laTION"). Bulwark follows the spec: compare case-insensitively, exactly otherwise.
      assert.equal(g?.purl.toLowerCase(), e.purl.toLowerCase(), `purl of ${key(e)}`);
    }
  });
}

test('syft TestParsePackageLockAlias: both alias lock files (v1 and v2) give the real package names', async () => {
  const c = expected.find((e) => e.test === 'TestParsePackageLockAlias')!;
  for (const f of c.fixture_candidates!) {
    const { packages } = await catalogFixture(f);
    const names = sorted([...new Set(packages.map(key))]);
    // v1 lock files have no name/version of the project when the file omits them
    const want = sorted(c.packages.map(key)).filter((k) => names.includes(k) || !k.startsWith('alias-check'));
    assert.deepEqual(names, want, f);
  }
});

test('syft package.json fixtures, mounted as installed packages, give syft name and version', async () => {
  const cases = expected.filter((e) => e.test === 'TestParsePackageJSON');
  assert.ok(cases.length >= 10);
  for (const c of cases) {
    const abs = join(CORPUS, 'syft', c.fixture!.replace(/^syft\//, ''));
    if (!existsSync(abs)) continue;
    const { packages } = await runCataloger(npmCataloger, {
      '/usr/lib/node_modules/pkg/package.json': readFileSync(abs),
    });
    assert.deepEqual(packages.map(key), c.packages.map(key), c.fixture);
  }
});

test('yarn v1 dependencies resolve to the exact version of the entry whose specifier matches', async () => {
  const { packages } = await catalogFixture('syft/pkg/cataloger/javascript/testdata/yarn-v1-deps/yarn.lock');
  const asn1 = packages.find((p) => p.name === 'asn1.js')!;
  assert.deepEqual(asn1.dependsOn, [{ name: 'atob', version: '2.1.2' }]);
});

test('pnpm v9 snapshots give dependency edges with exact versions', async () => {
  const { packages } = await catalogFixture(
    'syft/pkg/cataloger/javascript/testdata/pnpm-v9-snapshots/pnpm-lock.yaml',
  );
  const cs = packages.find((p) => p.name === 'cross-spawn')!;
  assert.deepEqual(sorted(cs.dependsOn!.map(key)), [
    'path-key@3.1.1',
    'shebang-command@2.0.0',
    'which@2.0.2',
  ]);
});
