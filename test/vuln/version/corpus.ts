/** Readers for the version-compare corpora in /work/shared/corpora (see MANIFEST.md there). */
import { readFileSync } from 'node:fs';
import type { VersionScheme } from '../../../src/vuln/version/index.js';
import { SHARED } from '../../helpers/shared.js';

export const CORPORA = `${SHARED}/corpora/version-compare`;

export function readJsonl<T = Record<string, unknown>>(name: string): T[] {
  return readFileSync(`${CORPORA}/${name}`, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** Lines of a whitespace-separated table, without comments and blank lines. */
export function readTable(name: string): string[][] {
  return readFileSync(`${CORPORA}/${name}`, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l !== '')
    .map((l) => l.split(/\s+/));
}

export const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

/**
 * Evaluates a grype constraint string ("> 1.0, < 2.0 || = 3.0"; no operator means "=") with a
 * scheme's compare. This is the test's own reading of grype's constraint syntax; the schemes
 * only provide the ordering.
 */
export function satisfies(scheme: VersionScheme, version: string, constraint: string): boolean {
  if (constraint.trim() === '') return true;
  return constraint.split('||').some((conj) =>
    conj.split(',').every((term) => {
      const m = /^\s*(>=|<=|!=|==|=|>|<)?\s*(.*?)\s*$/.exec(term)!;
      const op = m[1] ?? '=';
      const v = m[2]!.replace(/^(['"])(.*)\1$/, '$2');
      const c = scheme.compare(version, v);
      switch (op) {
        case '>':
          return c > 0;
        case '>=':
          return c >= 0;
        case '<':
          return c < 0;
        case '<=':
          return c <= 0;
        case '!=':
          return c !== 0;
        default:
          return c === 0;
      }
    }),
  );
}
