/**
 * CVSS v3.0 and v3.1 base scores, per the FIRST specifications (sections 7.1 and Appendix A of
 * v3.1): the same equations, but v3.1's Roundup works on integers to avoid floating-point
 * artefacts while v3.0 rounds up with a plain ceiling to one decimal.
 */
import type { MetricTable } from './vector.js';

const CIA = ['H', 'L', 'N'] as const;
const REQ = ['X', 'H', 'M', 'L'] as const;

export const V3_METRICS: MetricTable = {
  AV: ['N', 'A', 'L', 'P'],
  AC: ['L', 'H'],
  PR: ['N', 'L', 'H'],
  UI: ['N', 'R'],
  S: ['U', 'C'],
  C: CIA,
  I: CIA,
  A: CIA,
  // Temporal and environmental metrics are accepted (and validated) but do not change the base score.
  E: ['X', 'U', 'P', 'F', 'H'],
  RL: ['X', 'O', 'T', 'W', 'U'],
  RC: ['X', 'U', 'R', 'C'],
  CR: REQ,
  IR: REQ,
  AR: REQ,
  MAV: ['X', 'N', 'A', 'L', 'P'],
  MAC: ['X', 'L', 'H'],
  MPR: ['X', 'N', 'L', 'H'],
  MUI: ['X', 'N', 'R'],
  MS: ['X', 'U', 'C'],
  MC: ['X', 'H', 'L', 'N'],
  MI: ['X', 'H', 'L', 'N'],
  MA: ['X', 'H', 'L', 'N'],
};

export const V3_MANDATORY = ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'] as const;

const AV: Record<string, number> = { N: 0.85, A: 0.62, L: 0.55, P: 0.2 };
const AC: Record<string, number> = { L: 0.77, H: 0.44 };
const PR_UNCHANGED: Record<string, number> = { N: 0.85, L: 0.62, H: 0.27 };
const PR_CHANGED: Record<string, number> = { N: 0.85, L: 0.68, H: 0.5 };
const UI: Record<string, number> = { N: 0.85, R: 0.62 };
const IMPACT: Record<string, number> = { H: 0.56, L: 0.22, N: 0 };

/** v3.1 Appendix A Roundup: the smallest one-decimal number >= x, computed on integers. */
export function roundup31(x: number): number {
  const i = Math.round(x * 100000);
  return i % 10000 === 0 ? i / 100000 : (Math.floor(i / 10000) + 1) / 10;
}

/** v3.0 Roundup: ceiling to one decimal. */
export function roundup30(x: number): number {
  return Math.ceil(x * 10) / 10;
}

export function scoreV3(m: Record<string, string>, version: '3.0' | '3.1'): number {
  const roundup = version === '3.1' ? roundup31 : roundup30;
  const changed = m.S === 'C';
  const iss = 1 - (1 - IMPACT[m.C!]!) * (1 - IMPACT[m.I!]!) * (1 - IMPACT[m.A!]!);
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15) : 6.42 * iss;
  const pr = (changed ? PR_CHANGED : PR_UNCHANGED)[m.PR!]!;
  const exploitability = 8.22 * AV[m.AV!]! * AC[m.AC!]! * pr * UI[m.UI!]!;
  if (impact <= 0) return 0;
  return changed
    ? roundup(Math.min(1.08 * (impact + exploitability), 10))
    : roundup(Math.min(impact + exploitability, 10));
}
