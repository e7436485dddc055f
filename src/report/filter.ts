/**
 * Post-scan filtering with Trivy's semantics: keep the selected severities, drop unfixed
 * vulnerabilities on request, and suppress findings named by an ignore file or a VEX statement.
 * Suppressed findings are removed (or kept, marked `suppressed`, with showSuppressed).
 */
import type { Finding, ScanReport } from '../core/findings.js';
import type { Severity } from '../core/types.js';
import { ignoreRuleFor, isExpired, type IgnoreList } from './ignore.js';
import { vexStatementFor, type VexDocument } from './vex.js';

export interface FilterOptions {
  severities?: Severity[];
  ignoreUnfixed?: boolean;
  ignore?: IgnoreList[];
  vex?: VexDocument[];
  showSuppressed?: boolean;
  now?: Date;
}

export interface FilterOutcome {
  report: ScanReport;
  /** Findings that remain and are not suppressed. */
  remaining: number;
  suppressed: Finding[];
  /** Ignore rules past their expiry date ("file:line id"), for a warning. */
  expiredRules: string[];
}

/** Why a finding is suppressed (ignore rule or VEX statement), or undefined. */
export function applySuppressions(
  f: Finding,
  opts: FilterOptions,
  artifact: ScanReport['artifact'],
): Suppression | undefined {
  const now = opts.now ?? new Date();
  for (const list of opts.ignore ?? []) {
    const r = ignoreRuleFor(f, list, now);
    if (r) return { by: 'ignorefile', ...(r.reason ? { reason: r.reason } : {}) };
  }
  if (f.kind === 'vulnerability' && opts.vex?.length) {
    const s = vexStatementFor(f, opts.vex, artifact);
    if (s)
      return {
        by: 'vex',
        statement: s.status,
        ...(s.justification || s.detail ? { reason: s.detail ?? s.justification } : {}),
      };
  }
  return undefined;
}

export function filterReport(report: ScanReport, opts: FilterOptions): FilterOutcome {
  const sev = opts.severities ? new Set(opts.severities) : undefined;
  const suppressed: Finding[] = [];
  let remaining = 0;
  const results = report.results.map((r) => {
    const findings: Finding[] = [];
    for (const f of r.findings) {
      if (sev && !sev.has(f.severity)) continue;
      if (opts.ignoreUnfixed && f.kind === 'vulnerability' && f.fixedVersions.length === 0) continue;
      const s = applySuppressions(f, opts, report.artifact);
      if (s) {
        const marked = { ...f, suppressed: s } as Finding;
        suppressed.push(marked);
        if (opts.showSuppressed) findings.push(marked);
        continue;
      }
      findings.push(f);
      remaining++;
    }
    return { ...r, findings };
  });
  const now = opts.now ?? new Date();
  const expiredRules = (opts.ignore ?? []).flatMap((l) =>
    l.rules
      .filter((r) => isExpired(r, now))
      .map((r) => `${r.where} ${r.id} (expired ${r.expires!.slice(0, 10)})`),
  );
  return { report: { ...report, results }, remaining, suppressed, expiredRules };
}

export type Suppression = NonNullable<Extract<Finding, { kind: 'vulnerability' }>['suppressed']>;
