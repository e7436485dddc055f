/**
 * CVSS v2 base score, per the FIRST CVSS v2 guide (section 3.2.1).
 */
import type { MetricTable } from './vector.js';

export const V2_METRICS: MetricTable = {
  AV: ['L', 'A', 'N'],
  AC: ['H', 'M', 'L'],
  Au: ['M', 'S', 'N'],
  C: ['N', 'P', 'C'],
  I: ['N', 'P', 'C'],
  A: ['N', 'P', 'C'],
  // Temporal and environmental metrics are accepted (and validated) but do not change the base score.
  E: ['U', 'POC', 'F', 'H', 'ND'],
  RL: ['OF', 'TF', 'W', 'U', 'ND'],
  RC: ['UC', 'UR', 'C', 'ND'],
  CDP: ['N', 'L', 'LM', 'MH', 'H', 'ND'],
  TD: ['N', 'L', 'M', 'H', 'ND'],
  CR: ['L', 'M', 'H', 'ND'],
  IR: ['L', 'M', 'H', 'ND'],
  AR: ['L', 'M', 'H', 'ND'],
};

export const V2_MANDATORY = ['AV', 'AC', 'Au', 'C', 'I', 'A'] as const;

const AV: Record<string, number> = { L: 0.395, A: 0.646, N: 1.0 };
const AC: Record<string, number> = { H: 0.35, M: 0.61, L: 0.71 };
const AU: Record<string, number> = { M: 0.45, S: 0.56, N: 0.704 };
const IMPACT: Record<string, number> = { N: 0, P: 0.275, C: 0.66 };

export function scoreV2(m: Record<string, string>): number {
  const impact = 10.41 * (1 - (1 - IMPACT[m.C!]!) * (1 - IMPACT[m.I!]!) * (1 - IMPACT[m.A!]!));
  const exploitability = 20 * AV[m.AV!]! * AC[m.AC!]! * AU[m.Au!]!;
  const f = impact === 0 ? 0 : 1.176;
  const base = (0.6 * impact + 0.4 * exploitability - 1.5) * f;
  // round_to_1_decimal; the epsilon keeps values like 4.35 (stored as 4.3499999...) rounding up.
  return Math.round(base * 10 + 1e-9) / 10;
}
