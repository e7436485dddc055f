/**
 * syft's expectations for its own fixtures (corpora/syft/expected_index.jsonl): the packages syft's
 * tests expect from each fixture file, used as the oracle for our catalogers on the same files.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORPORA } from './shared.js';

export const SYFT_CORPUS = join(CORPORA, 'syft');

export interface SyftExpectation {
  test: string;
  test_file: string;
  fixture?: string;
  packages: { name: string; version: string; purl?: string }[];
}

let cache: SyftExpectation[] | undefined;

export function syftExpectations(): SyftExpectation[] {
  cache ??= readFileSync(join(SYFT_CORPUS, 'expected_index.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as SyftExpectation);
  return cache;
}

/** The distinct purls syft's test of this name expects, sorted. */
export function syftExpectedPurls(testName: string): string[] {
  const row = syftExpectations().find((r) => r.test === testName);
  assert.ok(row, `no syft expectation for ${testName}`);
  return [...new Set(row.packages.flatMap((p) => (p.purl ? [p.purl] : [])))].sort();
}
