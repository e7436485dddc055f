/**
 * CVSS vectors: parsing and scores per the FIRST specifications — v2 base score, v3.0 and v3.1
 * base scores, v4.0 score (MacroVectors and severity-distance interpolation) — and the
 * qualitative severity bands.
 */
import type { Severity } from '../../core/types.js';
import { scoreV2, V2_MANDATORY, V2_METRICS } from './v2.js';
import { scoreV3, V3_MANDATORY, V3_METRICS } from './v3.js';
import { scoreV4, V4_MANDATORY, V4_METRICS } from './v4.js';
import { cvssError, parseMetrics } from './vector.js';

export type CvssVersion = '2.0' | '3.0' | '3.1' | '4.0';

/** The specification's qualitative rating; v2 (NVD bands) has no NONE or CRITICAL. */
export type CvssRating = 'NONE' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

export interface CvssVector {
  version: CvssVersion;
  /** Metric abbreviation -> value, as written in the vector ("AV" -> "N"). */
  metrics: Record<string, string>;
}

export interface CvssResult {
  version: CvssVersion;
  /** The vector as given (trimmed). */
  vector: string;
  /** v2/v3: base score; v4: the CVSS-B/BT/BE/BTE score of the metrics present. 0.0 to 10.0. */
  score: number;
  rating: CvssRating;
  /**
   * Bulwark severity: the rating, except that a 0.0 score (rating NONE: no impact) has no
   * Bulwark severity and maps to UNKNOWN rather than being promoted to LOW.
   */
  severity: Severity;
}

/**
 * Parses a vector string: "CVSS:3.1/AV:N/...", "CVSS:3.0/...", "CVSS:4.0/..." or a v2 vector
 * ("AV:N/AC:L/Au:N/C:P/I:P/A:P", optionally in parentheses or prefixed "CVSS:2.0/").
 * Throws BulwarkError('PARSE') naming the problem: unknown version, unknown metric, bad value,
 * repeated metric, missing mandatory metric.
 */
export function parseCvss(vector: string): CvssVector {
  const v = vector.trim();
  const m = /^CVSS:(\d+\.\d+)\/(.*)$/.exec(v);
  if (m) {
    const version = m[1]!;
    const body = m[2]!;
    if (version === '3.0' || version === '3.1') {
      return { version, metrics: parseMetrics(v, body, V3_METRICS, V3_MANDATORY) };
    }
    if (version === '4.0') return { version, metrics: parseMetrics(v, body, V4_METRICS, V4_MANDATORY) };
    if (version === '2.0') return { version, metrics: parseMetrics(v, body, V2_METRICS, V2_MANDATORY) };
    throw cvssError(v, `unsupported CVSS version ${version}`);
  }
  if (/^\(?AV:[LAN]\//.test(v) && !v.startsWith('CVSS')) {
    const body = v.startsWith('(') && v.endsWith(')') ? v.slice(1, -1) : v;
    return { version: '2.0', metrics: parseMetrics(v, body, V2_METRICS, V2_MANDATORY) };
  }
  throw cvssError(
    v,
    'not a CVSS vector (expected "CVSS:3.1/...", "CVSS:4.0/..." or a v2 "AV:.../Au:..." vector)',
  );
}

/** Qualitative rating of a score: v3/v4 per the specification, v2 per NVD's bands. */
export function ratingOf(score: number, version: CvssVersion): CvssRating {
  if (version === '2.0') return score >= 7 ? 'HIGH' : score >= 4 ? 'MEDIUM' : 'LOW';
  if (score === 0) return 'NONE';
  if (score < 4) return 'LOW';
  if (score < 7) return 'MEDIUM';
  if (score < 9) return 'HIGH';
  return 'CRITICAL';
}

/** Bulwark severity for a score (see CvssResult.severity). */
export function severityOf(score: number, version: CvssVersion): Severity {
  const rating = ratingOf(score, version);
  return rating === 'NONE' ? 'UNKNOWN' : rating;
}

/** Parses and scores a vector. Throws like parseCvss. */
export function scoreCvss(vector: string): CvssResult {
  const { version, metrics } = parseCvss(vector);
  const score =
    version === '2.0' ? scoreV2(metrics) : version === '4.0' ? scoreV4(metrics) : scoreV3(metrics, version);
  return {
    version,
    vector: vector.trim(),
    score,
    rating: ratingOf(score, version),
    severity: severityOf(score, version),
  };
}

/** OSV `severity[]` entry. */
export interface OsvSeverity {
  type: string;
  score: string;
}

const OSV_TYPES: Record<string, CvssVersion[]> = {
  CVSS_V4: ['4.0'],
  CVSS_V3: ['3.1', '3.0'],
  CVSS_V2: ['2.0'],
};

/**
 * Scores the CVSS vectors of an OSV record's `severity` list and returns the one to use:
 * by default a v3.x vector, else v4.0, else v2 (the order of `prefer`). Entries that are not
 * CVSS (e.g. "Ubuntu" ratings) or whose vector is invalid are skipped; undefined when none is
 * left, so the caller falls back to the source's own rating rather than inventing one.
 */
export function scoreOsvSeverity(
  entries: readonly OsvSeverity[] | undefined,
  prefer: readonly CvssVersion[] = ['3.1', '3.0', '4.0', '2.0'],
): CvssResult | undefined {
  const scored: CvssResult[] = [];
  for (const e of entries ?? []) {
    if (!OSV_TYPES[e.type] || typeof e.score !== 'string') continue;
    try {
      const s = scoreCvss(e.score);
      if (OSV_TYPES[e.type]!.includes(s.version)) scored.push(s);
    } catch {
      // An invalid vector in a record is not a reason to fail a scan.
    }
  }
  for (const version of prefer) {
    const hit = scored.find((s) => s.version === version);
    if (hit) return hit;
  }
  return undefined;
}
