import { BulwarkError } from '../../core/errors.js';

/** The one error every scheme throws for a version it cannot order. */
export function invalidVersion(scheme: string, version: string, why?: string): BulwarkError {
  const shown = version.length > 200 ? `${version.slice(0, 200)}…` : version;
  return new BulwarkError('PARSE', `invalid ${scheme} version "${shown}"${why ? `: ${why}` : ''}`, {
    subject: shown,
  });
}

/** Normalises a comparator result to -1, 0 or 1. */
export function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** Compares two strings of ASCII digits numerically without overflow (leading zeros ignored). */
export function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}
