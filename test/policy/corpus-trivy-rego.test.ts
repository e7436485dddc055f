/**
 * Dockerfile checks against trivy-checks' Rego unit-test cases (trivy-checks/derived/
 * rego_test_cases.jsonl: each case's Dockerfile, reconstructed from the Rego test input as
 * `dockerfile_approx`, with whether trivy's check must fail). Mapped where a Bulwark check
 * corresponds; deliberate differences are listed with the reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { scanText, idsOf } from './helpers.js';
import { SHARED } from '../helpers/shared.js';

interface Case {
  check_id: string;
  test: string;
  dockerfile_approx?: string | null;
  expect_fail: boolean;
}
const cases = readFileSync(`${SHARED}/corpora/trivy-checks/derived/rego_test_cases.jsonl`, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Case);

const MAP: Record<string, string> = {
  'DS-0001': 'BW-DF-004',
  'DS-0002': 'BW-DF-001',
  'DS-0004': 'BW-DF-010',
  'DS-0006': 'BW-DF-020',
  'DS-0007': 'BW-DF-013',
  'DS-0008': 'BW-DF-019',
  'DS-0009': 'BW-DF-017',
  'DS-0010': 'BW-DF-009',
  'DS-0011': 'BW-DF-028',
  'DS-0012': 'BW-DF-021',
  'DS-0013': 'BW-DF-018',
  'DS-0014': 'BW-DF-027',
  'DS-0015': 'BW-DF-022',
  'DS-0016': 'BW-DF-012',
  'DS-0017': 'BW-DF-011',
  'DS-0019': 'BW-DF-023',
  'DS-0020': 'BW-DF-024',
  'DS-0021': 'BW-DF-015',
  'DS-0022': 'BW-DF-016',
  'DS-0023': 'BW-DF-014',
  'DS-0024': 'BW-DF-026',
  'DS-0025': 'BW-DF-025',
  'DS-0026': 'BW-DF-002',
  'DS-0027': 'BW-DF-023',
  'DS-0029': 'BW-DF-005',
};

/** "check_id test" → why Bulwark differs. */
const DIFFERS: Record<string, string> = {
  'DS-0006 test_extra_spaces_denied':
    'the reconstructed Dockerfile lost the `AS dep` alias of the first stage, so nothing refers to its own stage',
  'DS-0011 test_three_args_with_file_colon_in_allowed':
    '`COPY file:<sha> in myfile` is docker-history notation, not Dockerfile syntax; as a Dockerfile it copies two sources to a non-directory',
  'DS-0011 test_three_args_with_multi_colon_in_allowed': 'same docker-history notation',
  'DS-0012 test_basic_allowed':
    'as reconstructed, two stages are both named "build", which BuildKit rejects as a duplicate stage name',
  'DS-0001 test_with_variables_denied':
    'an ARG declared after the first FROM is not visible to a later FROM (Dockerfile reference: "ARG and FROM"), so `FROM $IMAGE` is unresolved and BW-DF-004 does not guess',
};

test('trivy-checks Rego test cases (Dockerfile)', () => {
  const bad: string[] = [];
  let n = 0;
  for (const c of cases) {
    const ours = MAP[c.check_id];
    // Reconstructions without a FROM are fragments of a Rego input, not Dockerfiles.
    if (!ours || !c.dockerfile_approx || !/^FROM /im.test(c.dockerfile_approx)) continue;
    const key = `${c.check_id} ${c.test}`;
    if (DIFFERS[key]) continue;
    n++;
    const flagged = idsOf(scanText(c.dockerfile_approx, 'Dockerfile', 'dockerfile')).has(ours);
    if (flagged !== c.expect_fail)
      bad.push(`${key} (${ours}): expected ${c.expect_fail ? 'fail' : 'pass'}\n${c.dockerfile_approx}`);
  }
  assert.ok(n >= 120, `${n} cases`);
  assert.deepEqual(bad, []);
});
