/**
 * Helpers every writer shares: one-line descriptions of findings of any kind, where they are.
 */
import type { Finding, ScanReport } from '../core/findings.js';
import type { Severity } from '../core/types.js';

/** "libc6 2.36-9" / "deploy/web.yaml" / the secret's category — what a finding is about. */
export function subjectOf(f: Finding): string {
  switch (f.kind) {
    case 'vulnerability':
      return `${f.package.name}@${f.package.version}`;
    case 'license':
      return f.package ? `${f.package.name}@${f.package.version}` : f.location.path;
    case 'secret':
      return f.category;
    case 'misconfig':
      return f.resource
        ? [f.resource.kind, f.resource.namespace, f.resource.name].filter(Boolean).join('/')
        : f.location.path;
    case 'malware':
      return f.location.path;
  }
}

/** A sentence for a finding (SARIF message, JUnit failure message). */
export function messageOf(f: Finding): string {
  switch (f.kind) {
    case 'vulnerability': {
      const fixed = f.fixedVersions.length
        ? `fixed in ${f.fixedVersions.join(', ')}`
        : `no fixed version (${f.status})`;
      return `Package ${f.package.name} ${f.package.version} is affected by ${f.id} (${f.severity}): ${f.title}; ${fixed}.`;
    }
    case 'secret':
      return `${f.title} (${f.category}) found in ${f.location.path}${f.location.line ? `:${f.location.line}` : ''}: ${f.match}`;
    case 'misconfig':
      return `${f.id}: ${f.message ?? f.title}${f.resource ? ` (${subjectOf(f)})` : ''}`;
    case 'license':
      return `License ${f.license} (${f.category}) of ${subjectOf(f)}`;
    case 'malware': {
      const l = f.location;
      const layer =
        l.layerIndex !== undefined
          ? ` (layer ${l.layerIndex}${f.fileState !== 'present' ? `, ${f.fileState} in a later layer` : ''})`
          : '';
      return `${f.title} (${f.category}, ${f.engine} rule ${f.id}) matched ${l.path}${layer}.`;
    }
  }
}

/** Highest CVSS score of a vulnerability finding, if any. */
export function maxCvss(f: Finding): number | undefined {
  if (f.kind !== 'vulnerability' || !f.cvss.length) return undefined;
  return Math.max(...f.cvss.map((c) => c.score));
}

export function allFindings(report: ScanReport): Finding[] {
  return report.results.flatMap((r) => r.findings);
}

export const SEVERITY_ORDER: Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];
