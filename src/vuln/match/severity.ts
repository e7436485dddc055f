/**
 * Severity of an advisory for one affected package. Order of preference (first that applies):
 *   1. a CVSS v3.1/v3.0 vector (the affected entry's own `severity`, then the record's), scored and
 *      rated per the specification by our CVSS module (a 0.0 score is no rating: fall through);
 *   2. a CVSS v4.0 vector, likewise;
 *   3. the source's own rating: `affected.ecosystem_specific.severity`,
 *      `affected.database_specific.severity`, the record's `database_specific.severity` (GHSA's
 *      LOW/MODERATE/HIGH/CRITICAL), an `Ubuntu` severity entry, Debian's urgency
 *      (unimportant/low → LOW, medium → MEDIUM, high → HIGH);
 *   4. a CVSS v2 vector (NVD's v2 bands: LOW/MEDIUM/HIGH);
 *   5. UNKNOWN. Nothing is invented.
 */
import type { CvssScore } from '../../core/findings.js';
import type { Severity } from '../../core/types.js';
import { severityOf as cvssSeverity, scoreCvss } from '../cvss/index.js';
import type { OsvAffected, OsvRecord, OsvSeverity } from '../osv.js';

export interface SeverityResult {
  severity: Severity;
  /** "cvss:3.1", "cvss:4.0", "source:ghsa", "source:debian-urgency"... */
  source?: string;
  cvss: CvssScore[];
}

/** Maps a source's word to a severity; undefined for words that carry no rating. */
export function severityFromWord(word: string): Severity | undefined {
  switch (word.trim().toLowerCase()) {
    case 'critical':
      return 'CRITICAL';
    case 'high':
    case 'important':
      return 'HIGH';
    case 'moderate':
    case 'medium':
      return 'MEDIUM';
    case 'low':
    case 'negligible':
    case 'unimportant':
      return 'LOW';
    default:
      return undefined;
  }
}

/** Computes CVSS scores of the vectors given (skipping vectors our calculator rejects). */
export function cvssScores(
  entries: OsvSeverity[] | undefined,
  source: string | undefined,
  warn?: (m: string) => void,
): CvssScore[] {
  const out: CvssScore[] = [];
  for (const s of entries ?? []) {
    if (!/^CVSS_V[234]$/.test(s.type)) continue;
    try {
      const r = scoreCvss(s.score);
      out.push({ version: r.version, vector: s.score, score: r.score, ...(source ? { source } : {}) });
    } catch (e) {
      warn?.(`invalid CVSS vector "${s.score}": ${(e as Error).message}`);
    }
  }
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

/** Results per affected entry (or record): records are cached by the store, so a scan scores each once. */
const memo = new WeakMap<object, SeverityResult>();

export function severityOf(
  record: OsvRecord,
  affected: OsvAffected | undefined,
  warn?: (m: string) => void,
): SeverityResult {
  const key = affected ?? record;
  let r = memo.get(key);
  if (!r) {
    r = computeSeverity(record, affected, warn);
    memo.set(key, r);
  }
  return { ...r, cvss: [...r.cvss] };
}

function computeSeverity(
  record: OsvRecord,
  affected: OsvAffected | undefined,
  warn?: (m: string) => void,
): SeverityResult {
  const src = str(record.database_specific?.source) ?? record.id.split('-')[0]?.toLowerCase();
  const cvss = [...cvssScores(affected?.severity, src, warn), ...cvssScores(record.severity, src, warn)];
  // de-duplicate by vector
  const seen = new Set<string>();
  const uniq = cvss.filter((c) => (seen.has(c.vector) ? false : (seen.add(c.vector), true)));
  // A 0.0 score (no impact) is no rating: fall through to the next source.
  const rated = (versions: string[]) =>
    uniq.find((c) => versions.includes(c.version) && cvssSeverity(c.score, c.version) !== 'UNKNOWN');
  const v3 = rated(['3.1', '3.0']);
  if (v3) return { severity: cvssSeverity(v3.score, v3.version), source: `cvss:${v3.version}`, cvss: uniq };
  const v4 = rated(['4.0']);
  if (v4) return { severity: cvssSeverity(v4.score, v4.version), source: 'cvss:4.0', cvss: uniq };
  const own: [unknown, string][] = [
    [affected?.ecosystem_specific?.severity, 'source:ecosystem_specific'],
    [affected?.database_specific?.severity, 'source:database_specific'],
    [
      record.database_specific?.severity,
      record.id.startsWith('GHSA-') ? 'source:ghsa' : 'source:database_specific',
    ],
    ...[...(affected?.severity ?? []), ...(record.severity ?? [])]
      .filter((s) => s.type === 'Ubuntu')
      .map((s) => [s.score, 'source:ubuntu'] as [unknown, string]),
    [affected?.ecosystem_specific?.urgency ?? affected?.database_specific?.urgency, 'source:debian-urgency'],
  ];
  for (const [word, source] of own) {
    const w = str(word);
    const sev = w ? severityFromWord(w) : undefined;
    if (sev) return { severity: sev, source, cvss: uniq };
  }
  const v2 = rated(['2.0']);
  if (v2) return { severity: cvssSeverity(v2.score, v2.version), source: 'cvss:2.0', cvss: uniq };
  return { severity: 'UNKNOWN', cvss: uniq };
}
