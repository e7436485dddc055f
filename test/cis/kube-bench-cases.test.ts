/**
 * kube-bench's own cases, re-expressed as data tables by ../shared/corpora/kube-bench/derived from
 * check/test_test.go: TestCompareOp (operator, flag value, compare value → expected-result text and
 * verdict) and TestTestExecute (audit / audit_config / audit_env outputs and a check's tests → pass,
 * with the expected-result text). Bulwark's evaluator must agree on every one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareOp, executeTests } from '../../src/cis/evaluator.js';
import type { Tests } from '../../src/cis/types.js';
import { CORPORA } from '../helpers/shared.js';

const derived = join(CORPORA, 'kube-bench', 'derived');
const jsonl = <T>(name: string): T[] =>
  readFileSync(join(derived, name), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

type CompareCase = {
  label: string;
  op: string;
  flagVal: string;
  compareValue: string;
  expectedResultPattern: string;
  testResult: boolean;
  flagName: string;
};

test('TestCompareOp: every kube-bench compare-operator case agrees (verdict and expected-result text)', () => {
  const cases = jsonl<CompareCase>('TestCompareOp.jsonl');
  assert.ok(cases.length >= 70, `expected the full table, got ${cases.length}`);
  const wrong: string[] = [];
  for (const c of cases) {
    const [expected, result] = compareOp(c.op, c.flagVal, c.compareValue, c.flagName);
    if (result !== c.testResult || expected !== c.expectedResultPattern)
      wrong.push(
        `${c.label}: got (${JSON.stringify(expected)}, ${result}), want (${JSON.stringify(c.expectedResultPattern)}, ${c.testResult})`,
      );
  }
  assert.deepEqual(wrong, []);
  // every operator kube-bench knows is covered by the table
  const ops = new Set(cases.map((c) => c.op));
  for (const op of [
    'eq',
    'noteq',
    'gt',
    'gte',
    'lt',
    'lte',
    'has',
    'nothave',
    'regex',
    'valid_elements',
    'bitmask',
  ])
    assert.ok(ops.has(op), op);
});

type ExecCase = {
  str: string;
  strConfig: string;
  strEnv?: string;
  expectedTestResult: string;
  check_ref: string;
  check_def: { audit?: string; audit_config?: string; tests: Tests };
  expected_pass: boolean;
};

test('TestTestExecute: every kube-bench test-execution case agrees (flags, paths, env, bin_op, set)', () => {
  const cases = jsonl<ExecCase>('TestTestExecute.jsonl');
  assert.ok(cases.length >= 37, `expected the full table, got ${cases.length}`);
  const wrong: string[] = [];
  for (const c of cases) {
    const r = executeTests(
      c.check_def.tests,
      { audit: c.str, auditConfig: c.strConfig, auditEnv: c.strEnv ?? '' },
      { hasAuditConfig: Boolean(c.check_def.audit_config) },
    );
    if (r.testResult !== c.expected_pass || r.expectedResult !== c.expectedTestResult)
      wrong.push(
        `${c.check_ref} ${JSON.stringify(c.str)}: got (${JSON.stringify(r.expectedResult)}, ${r.testResult})`,
      );
  }
  assert.deepEqual(wrong, []);
});

test('the same tests fail when the facts change (the cases are not vacuous)', () => {
  const cases = jsonl<ExecCase>('TestTestExecute.jsonl');
  let flipped = 0;
  for (const c of cases) {
    // without any audit output, a test that requires presence or a value must fail
    const needsPresence = c.check_def.tests.test_items.every((t) => t.set !== false);
    if (!needsPresence) continue;
    const r = executeTests(
      c.check_def.tests,
      { audit: '', auditConfig: '', auditEnv: '' },
      { hasAuditConfig: true },
    );
    assert.equal(r.testResult, false, c.check_ref);
    flipped++;
  }
  assert.ok(flipped > 25);
});
