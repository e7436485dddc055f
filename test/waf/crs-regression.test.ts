/**
 * The OWASP CRS 4.29 regression corpus (go-ftw YAML, ../shared/corpora/coreruleset) run in process
 * against the CRS's own rules at paranoia level 4 in DetectionOnly, with the harness settings the
 * CRS README prescribes. Every test not listed in crs-overrides.yaml (each with its reason) must
 * pass; the floor below is the number reached, so a regression fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  buildRuleSet,
  buildRawRequest,
  loadFtwTests,
  loadOverrides,
  runInProcessStage,
  runTests,
} from '../../src/waf/index.js';
import { CORPORA } from '../helpers/shared.js';

const CRS = join(CORPORA, 'coreruleset');
const FLOOR = 5080;

test('CRS regression corpus, PL4, detection only', async () => {
  const rs = buildRuleSet({
    rules: [join(CRS, 'rules')],
    paranoia: 4,
    mode: 'detect',
    extraSetvars: [
      'setvar:tx.crs_validate_utf8_encoding=1',
      'setvar:tx.arg_name_length=100',
      'setvar:tx.arg_length=400',
      'setvar:tx.total_arg_length=64000',
      'setvar:tx.max_num_args=255',
      'setvar:tx.max_file_size=64100',
      'setvar:tx.combined_file_sizes=65535',
    ],
  });
  const tests = loadFtwTests(join(CRS, 'tests', 'regression', 'tests'));
  const overrides = loadOverrides(new URL('./crs-overrides.yaml', import.meta.url).pathname);
  const sum = await runTests(tests, (s) => runInProcessStage(rs, buildRawRequest(s.input)), overrides);
  const failed = sum.outcomes.filter((o) => !o.pass && !o.skipped);
  console.log(
    `CRS regression: ${sum.passed}/${sum.total} passed, ${sum.skipped} overridden, ${failed.length} failed, ${(sum.ms / 1000).toFixed(1)}s`,
  );
  for (const f of failed.slice(0, 30)) console.log(`  FAIL ${f.test.ruleId}-${f.test.testId}: ${f.detail}`);
  assert.ok(sum.total >= 5045, `corpus has ${sum.total} tests`);
  // every failure must be listed in the overrides file; and the floor is what was reached
  assert.deepEqual(
    failed.map((f) => `${f.test.ruleId}-${f.test.testId}`),
    [],
  );
  assert.ok(sum.passed >= FLOOR, `passed ${sum.passed} < floor ${FLOOR}`);
  // SQLi (942) and XSS (941) families pass completely, none overridden
  const family = (p: string) => sum.outcomes.filter((o) => String(o.test.ruleId).startsWith(p));
  for (const p of ['941', '942'])
    assert.ok(family(p).length > 200 && family(p).every((o) => o.pass), `${p} family`);
});
