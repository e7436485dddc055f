/**
 * Dockerfile checks against hadolint's rule test cases (hadolint/derived/rule_cases.jsonl, GPL-3.0
 * test data read at test time only). Each hadolint rule that has a Bulwark counterpart is mapped;
 * the Dockerfile of every case must be flagged (expect_violation) or not flagged by our check.
 * Cases where our check deliberately differs from hadolint are listed with the reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseDockerfile } from '../../src/misconfig/index.js';
import { scanText, idsOf } from './helpers.js';
import { SHARED } from '../helpers/shared.js';

const CORPUS = `${SHARED}/corpora/hadolint/derived/rule_cases.jsonl`;
interface Case {
  rule: string;
  it: string;
  line: number;
  dockerfile: string;
  expect_violation: boolean;
  onbuild: boolean;
  config: string;
}
const cases: Case[] = readFileSync(CORPUS, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Case);

const MAP: Record<string, string> = {
  DL3002: 'BW-DF-001',
  DL3006: 'BW-DF-004',
  DL3007: 'BW-DF-004',
  DL3009: 'BW-DF-006',
  DL3015: 'BW-DF-005',
  DL3020: 'BW-DF-003',
  DL3004: 'BW-DF-009',
  DL3000: 'BW-DF-017',
  DL3003: 'BW-DF-018',
  DL3011: 'BW-DF-019',
  DL3014: 'BW-DF-015',
  DL3019: 'BW-DF-025',
  DL3023: 'BW-DF-020',
  DL3024: 'BW-DF-021',
  DL4000: 'BW-DF-016',
  DL4003: 'BW-DF-012',
  DL4004: 'BW-DF-013',
  DL4001: 'BW-DF-027',
  DL3032: 'BW-DF-022',
  DL3040: 'BW-DF-023',
  DL3036: 'BW-DF-024',
  DL3021: 'BW-DF-028',
};

/** "rule:line" of cases where Bulwark's check intentionally differs, with why. */
const DIFFERS: Record<string, string> = {
  'DL3002:77':
    'a root USER in an intermediate stage does not reach the image; BW-DF-001 rates the final stage only',
  'DL3002:88':
    'the final stage has no USER: the image runs as root (CIS Docker 4.1), which BW-DF-001 reports',
};

test('the Dockerfile parser accepts every hadolint test Dockerfile', () => {
  let n = 0;
  for (const c of cases) {
    const df = parseDockerfile(c.dockerfile, `${c.rule}:${c.line}`);
    assert.ok(df.instructions.length > 0 || !c.dockerfile.trim(), `${c.rule}:${c.line} parsed to nothing`);
    n++;
  }
  assert.ok(n > 900, `only ${n} cases`);
});

test('hadolint rule cases: mapped Dockerfile checks agree', () => {
  const mismatches: string[] = [];
  let checked = 0;
  for (const c of cases) {
    const ours = MAP[c.rule];
    if (!ours || c.onbuild || c.config !== 'def') continue;
    const key = `${c.rule}:${c.line}`;
    if (DIFFERS[key]) continue;
    const flagged = idsOf(scanText(c.dockerfile, 'Dockerfile', 'dockerfile')).has(ours);
    checked++;
    if (flagged !== c.expect_violation) {
      mismatches.push(
        `${key} (${ours}) "${c.it}": expected ${c.expect_violation ? 'violation' : 'no violation'}\n${c.dockerfile}`,
      );
    }
  }
  assert.ok(checked > 150, `only ${checked} cases checked`);
  assert.deepEqual(mismatches, []);
});
