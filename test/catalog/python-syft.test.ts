/**
 * Python cataloger against syft's Python fixtures and the packages syft's tests expect
 * (/work/shared/corpora/syft/expected_index.jsonl). Deliberate differences (docs/catalog-languages-1.md):
 * - names: syft reports PEP 503-normalised names; Bulwark keeps the declared spelling in `name`
 *   and normalises in the purl, so names are compared normalised and purls exactly;
 * - requirements.txt: syft guesses a version from ranges (">= 1.0, <= 2.0" → 2.0.0, "2.8.*" →
 *   2.8.0); Bulwark reports only exact pins (== / ===), so syft's guesses are left out of the
 *   comparison — the test names them;
 * - setup.py and pdm.lock are not cataloged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pythonCataloger, normalizePyName } from '../../src/catalog/python/index.js';
import { readTree, runCataloger } from '../helpers/catalog.js';
import { SHARED } from '../helpers/shared.js';

const CORPUS = `${SHARED}/corpora/syft`;
interface Expected {
  test: string;
  case: string | null;
  fixture?: string;
  packages: { name: string; version: string; purl?: string }[];
}
const expected: Expected[] = readFileSync(join(CORPUS, 'expected_index.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Expected & { test_file: string })
  .filter((e) => e.test_file.includes('/python/') && e.fixture && !/setup|pdm/.test(e.fixture));

const key = (p: { name: string; version: string }) => `${normalizePyName(p.name)}@${p.version}`;

async function run(fixture: string) {
  const abs = join(CORPUS, 'syft', fixture.replace(/^syft\//, ''));
  const files = statSync(abs).isDirectory()
    ? readTree(abs, `/site/${basename(abs)}`)
    : { [`/project/${basename(abs)}`]: readFileSync(abs) };
  return runCataloger(pythonCataloger, files);
}

// Specifiers in syft's requirements.txt fixture that are ranges, not pins.
const SYFT_RANGE_GUESSES = new Set([
  'sqlalchemy@2.0.0',
  'bar@2.0.0',
  'numpy@3.4.1',
  'mopidy-dirble@1.1',
  'requests@2.8.0',
]);

test('syft corpus has the Python cases this test relies on', () => {
  assert.ok(expected.length >= 10, `${expected.length} cases`);
});

for (const c of expected) {
  test(`syft ${c.test}${c.case ? ` (${c.case})` : ''}: ${c.fixture}`, async () => {
    const { packages, warnings } = await run(c.fixture!);
    assert.deepEqual(warnings, []);
    let want = c.packages;
    // syft's Pipfile.lock test runs with its default config, which leaves `develop` packages out
    const got = c.test === 'TestParsePipFileLock' ? packages.filter((p) => !p.dev) : packages;
    if (c.test === 'TestParseRequirementsTxt') want = want.filter((p) => !SYFT_RANGE_GUESSES.has(key(p)));
    assert.deepEqual(got.map(key).sort(), want.map(key).sort());
    for (const e of want) {
      if (!e.purl) continue;
      assert.ok(
        // packageurl-js (src/core/purl.ts) leaves "+" in a version unescaped, syft writes %2B: the
        // same purl once decoded
        got.some((p) => key(p) === key(e) && decodeURIComponent(p.purl) === decodeURIComponent(e.purl!)),
        `purl ${e.purl} not among ${got.map((p) => p.purl).join(', ')}`,
      );
    }
  });
}
