/**
 * CVSS v4.0 scores per the FIRST specification (section 8): the vector's MacroVector (six
 * equivalence classes EQ1..EQ6) gives a score from the expert-ranked lookup table; the score is
 * then lowered by the mean, over the EQs that have a lower MacroVector, of the available score
 * difference times the vector's severity distance from the highest severity vector of its
 * MacroVector (relative to the MacroVector's depth). Threat and environmental metrics take part
 * (E defaults to A, CR/IR/AR to H, M* metrics override the base ones), as in the reference
 * calculator; supplemental metrics are validated but never change the score.
 */
import type { MetricTable } from './vector.js';
import { LEVELS, MACROVECTOR_SCORES, MAX_COMPOSED, MAX_SEVERITY } from './v4-data.js';

const CIA = ['H', 'L', 'N'] as const;
const REQ = ['X', 'H', 'M', 'L'] as const;

export const V4_METRICS: MetricTable = {
  AV: ['N', 'A', 'L', 'P'],
  AC: ['L', 'H'],
  AT: ['N', 'P'],
  PR: ['N', 'L', 'H'],
  UI: ['N', 'P', 'A'],
  VC: CIA,
  VI: CIA,
  VA: CIA,
  SC: CIA,
  SI: CIA,
  SA: CIA,
  E: ['X', 'A', 'P', 'U'],
  CR: REQ,
  IR: REQ,
  AR: REQ,
  MAV: ['X', 'N', 'A', 'L', 'P'],
  MAC: ['X', 'L', 'H'],
  MAT: ['X', 'N', 'P'],
  MPR: ['X', 'N', 'L', 'H'],
  MUI: ['X', 'N', 'P', 'A'],
  MVC: ['X', 'H', 'L', 'N'],
  MVI: ['X', 'H', 'L', 'N'],
  MVA: ['X', 'H', 'L', 'N'],
  MSC: ['X', 'H', 'L', 'N'],
  MSI: ['X', 'S', 'H', 'L', 'N'],
  MSA: ['X', 'S', 'H', 'L', 'N'],
  S: ['X', 'N', 'P'],
  AU: ['X', 'N', 'Y'],
  R: ['X', 'A', 'U', 'I'],
  V: ['X', 'D', 'C'],
  RE: ['X', 'L', 'M', 'H'],
  U: ['X', 'Clear', 'Green', 'Amber', 'Red'],
};

export const V4_MANDATORY = ['AV', 'AC', 'AT', 'PR', 'UI', 'VC', 'VI', 'VA', 'SC', 'SI', 'SA'] as const;

const WORST_CASE: Record<string, string> = { E: 'A', CR: 'H', IR: 'H', AR: 'H' };

/** The value a metric takes for scoring: its M* override, or its worst-case default when X. */
function effective(m: Record<string, string>, metric: string): string {
  const v = m[metric] ?? 'X';
  if (v === 'X' && metric in WORST_CASE) return WORST_CASE[metric]!;
  const modified = m[`M${metric}`];
  if (modified !== undefined && modified !== 'X') return modified;
  return v;
}

/** The six EQ levels of the vector (its MacroVector). */
export function macroVector(m: Record<string, string>): number[] {
  const e = (k: string): string => effective(m, k);
  const [AV, PR, UI] = [e('AV'), e('PR'), e('UI')];
  const eq1 =
    AV === 'N' && PR === 'N' && UI === 'N'
      ? 0
      : (AV === 'N' || PR === 'N' || UI === 'N') && AV !== 'P'
        ? 1
        : 2;
  const eq2 = e('AC') === 'L' && e('AT') === 'N' ? 0 : 1;
  const [VC, VI, VA] = [e('VC'), e('VI'), e('VA')];
  const eq3 = VC === 'H' && VI === 'H' ? 0 : VC === 'H' || VI === 'H' || VA === 'H' ? 1 : 2;
  const eq4 =
    e('MSI') === 'S' || e('MSA') === 'S' ? 0 : e('SC') === 'H' || e('SI') === 'H' || e('SA') === 'H' ? 1 : 2;
  const eq5 = { A: 0, P: 1, U: 2 }[e('E')]!;
  const eq6 =
    (e('CR') === 'H' && VC === 'H') || (e('IR') === 'H' && VI === 'H') || (e('AR') === 'H' && VA === 'H')
      ? 0
      : 1;
  return [eq1, eq2, eq3, eq4, eq5, eq6];
}

const lookup = (eqs: number[]): number => MACROVECTOR_SCORES.get(eqs.join('')) ?? NaN;

/**
 * Round half up to one decimal. The interpolation runs in binary floating point, so a score that
 * is exactly x.x5 may arrive one ulp below it (8.549999999999999); a tiny lift makes such ties
 * round up, as the reference calculator does since its 2024 rounding fix. True scores are
 * rationals with small denominators, so no genuine value lies within the lift of a tie.
 */
function round1(x: number): number {
  return Math.round((x + 1e-9) * 10) / 10;
}

export function scoreV4(m: Record<string, string>): number {
  return round1(interpolateV4(m));
}

/** The v4.0 score before rounding to one decimal (exported for tests of the rounding). */
export function interpolateV4(m: Record<string, string>): number {
  if (['VC', 'VI', 'VA', 'SC', 'SI', 'SA'].every((k) => effective(m, k) === 'N')) return 0;
  const eqs = macroVector(m);
  const [eq1, eq2, eq3, eq4, eq5, eq6] = eqs as [number, number, number, number, number, number];
  const value = lookup(eqs);
  const lower = (i: number, d = 1): number[] => eqs.map((x, j) => (j === i ? x + d : x));

  // Score of the next lower MacroVector in each EQ (NaN when there is none).
  const nextEq1 = lookup(lower(0));
  const nextEq2 = lookup(lower(1));
  let nextEq3Eq6: number;
  if (eq3 === 0 && eq6 === 0) nextEq3Eq6 = Math.max(lookup(lower(5)), lookup(lower(2)));
  else if (eq3 === 1 && eq6 === 0) nextEq3Eq6 = lookup(lower(5));
  else if (eq3 <= 1) nextEq3Eq6 = lookup(lower(2));
  else nextEq3Eq6 = NaN; // EQ3 = 2 is the lowest level
  const nextEq4 = lookup(lower(3));
  const nextEq5 = lookup(lower(4));

  // The highest severity vector of the MacroVector that the vector does not exceed.
  const candidates: string[] = [];
  for (const a of MAX_COMPOSED.eq1[eq1]!)
    for (const b of MAX_COMPOSED.eq2[eq2]!)
      for (const c of MAX_COMPOSED.eq3[eq3]![eq6]!)
        for (const d of MAX_COMPOSED.eq4[eq4]!)
          for (const f of MAX_COMPOSED.eq5[eq5]!) candidates.push([a, b, c, d, f].join('/'));
  let dist: Record<string, number> = {};
  for (const candidate of candidates) {
    const max = Object.fromEntries(candidate.split('/').map((p) => p.split(':') as [string, string]));
    dist = {};
    for (const metric of Object.keys(LEVELS)) {
      dist[metric] = LEVELS[metric]![effective(m, metric)]! - LEVELS[metric]![max[metric]!]!;
    }
    if (Object.values(dist).every((d) => d >= 0)) break;
  }
  const d = (k: string): number => dist[k]!;
  const current = [
    d('AV') + d('PR') + d('UI'),
    d('AC') + d('AT'),
    d('VC') + d('VI') + d('VA') + d('CR') + d('IR') + d('AR'),
    d('SC') + d('SI') + d('SA'),
  ];
  const STEP = 0.1;
  const depth = [
    MAX_SEVERITY.eq1[eq1]! * STEP,
    MAX_SEVERITY.eq2[eq2]! * STEP,
    MAX_SEVERITY.eq3eq6[eq3]![eq6]! * STEP,
    MAX_SEVERITY.eq4[eq4]! * STEP,
  ];
  const available = [value - nextEq1, value - nextEq2, value - nextEq3Eq6, value - nextEq4];
  let sum = 0;
  let existing = 0;
  for (let i = 0; i < 4; i++) {
    if (Number.isNaN(available[i]!)) continue;
    existing++;
    sum += available[i]! * (current[i]! / depth[i]!);
  }
  // EQ5 counts as an existing lower MacroVector, but its proportion is always 0.
  if (!Number.isNaN(value - nextEq5)) existing++;
  const mean = existing === 0 ? 0 : sum / existing;
  return Math.max(0, Math.min(10, value - mean));
}
