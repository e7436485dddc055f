/**
 * SARIF 2.1.0 (OASIS), shaped for GitHub code scanning: one run, one rule per finding id with help
 * text and `security-severity`, one result per finding with a physical location. Paths are made
 * relative (no leading "/"); a region is always given because code scanning needs one — the
 * finding's line when known, else line 1 of the file (a package database or lock file).
 */
import type { Finding, ScanReport } from '../core/findings.js';
import type { Severity } from '../core/types.js';
import { maxCvss, messageOf } from './common.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

/** GitHub's security-severity buckets: >= 9 critical, >= 7 high, >= 4 medium, > 0 low. */
const SEVERITY_SCORE: Record<Severity, number> = {
  CRITICAL: 9.5,
  HIGH: 8.0,
  MEDIUM: 5.5,
  LOW: 2.0,
  UNKNOWN: 0.0,
};

function level(s: Severity): 'error' | 'warning' | 'note' {
  return s === 'CRITICAL' || s === 'HIGH' ? 'error' : s === 'MEDIUM' ? 'warning' : 'note';
}

function ruleName(f: Finding): string {
  const base =
    f.kind === 'vulnerability'
      ? 'OsPackageVulnerability'
      : f.kind === 'secret'
        ? 'Secret'
        : f.kind === 'misconfig'
          ? 'Misconfiguration'
          : f.kind === 'malware'
            ? 'Malware'
            : 'License';
  if (f.kind === 'vulnerability' && !/^pkg:(deb|apk|rpm)\//.test(f.package.purl))
    return 'LanguagePackageVulnerability';
  return base;
}

function helpText(f: Finding): { text: string; markdown: string } {
  const lines: string[] = [];
  const md: string[] = [];
  if (f.kind === 'vulnerability') {
    lines.push(
      `Vulnerability ${f.id}`,
      `Severity: ${f.severity}`,
      `Package: ${f.package.name}`,
      `Fixed version: ${f.fixedVersions.join(', ') || 'none'}`,
    );
    md.push(
      `**Vulnerability ${f.id}**`,
      '| Severity | Package | Fixed Version | Link |',
      '| --- | --- | --- | --- |',
      `|${f.severity}|${f.package.name}|${f.fixedVersions.join(', ')}|${f.references?.[0] ? `[${f.id}](${f.references[0]})` : ''}|`,
    );
  } else {
    lines.push(`${f.kind} ${f.id}`, `Severity: ${f.severity}`, f.title);
    md.push(`**${f.kind} ${f.id}**`, '', `Severity: ${f.severity}`, '', f.title);
  }
  if (f.kind === 'misconfig' && f.remediation) {
    lines.push(`Remediation: ${f.remediation}`);
    md.push('', `Remediation: ${f.remediation}`);
  }
  if (f.description) {
    lines.push('', f.description);
    md.push('', f.description);
  }
  return { text: lines.join('\n'), markdown: md.join('\n') };
}

function relPath(p: string, fallback: string): string {
  const s = (p || fallback).replace(/^\/+/, '');
  return s || fallback;
}

export function toSarif(report: ScanReport, opts: { toolVersion?: string } = {}): object {
  const rules: object[] = [];
  const ruleIndex = new Map<string, number>();
  const results: object[] = [];
  for (const r of report.results) {
    for (const f of r.findings) {
      const ruleId = f.id;
      let idx = ruleIndex.get(ruleId);
      const score = maxCvss(f) ?? SEVERITY_SCORE[f.severity];
      if (idx === undefined) {
        idx = rules.length;
        ruleIndex.set(ruleId, idx);
        const help = helpText(f);
        rules.push({
          id: ruleId,
          name: ruleName(f),
          shortDescription: { text: f.title || f.id },
          fullDescription: { text: f.description || f.title || f.id },
          defaultConfiguration: { level: level(f.severity) },
          ...(f.references?.[0] ? { helpUri: f.references[0] } : {}),
          help,
          properties: {
            precision: 'very-high',
            'security-severity': score.toFixed(1),
            tags: [f.kind === 'vulnerability' ? 'vulnerability' : f.kind, 'security', f.severity],
          },
        });
      }
      const region: Record<string, number> = { startLine: f.location.line ?? 1 };
      if (f.location.endLine) region.endLine = f.location.endLine;
      if (f.location.column) region.startColumn = f.location.column;
      results.push({
        ruleId,
        ruleIndex: idx,
        level: level(f.severity),
        message: { text: messageOf(f) },
        locations: [
          {
            physicalLocation: {
              artifactLocation: { uri: encodeURI(relPath(f.location.path, r.target)), uriBaseId: 'ROOTPATH' },
              region,
            },
            message: {
              text: `${r.target}${f.kind === 'vulnerability' ? `: ${f.package.name}@${f.package.version}` : ''}`,
            },
          },
        ],
      });
    }
  }
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'Bulwark',
            fullName: 'Bulwark security scanner',
            version: opts.toolVersion ?? report.tool.version,
            rules,
          },
        },
        results,
        columnKind: 'utf16CodeUnits',
        originalUriBaseIds: { ROOTPATH: { uri: 'file:///' } },
        properties: {
          artifactName: report.artifact.name,
          artifactKind: report.artifact.kind,
          ...(report.artifact.digest ? { artifactDigest: report.artifact.digest } : {}),
        },
      },
    ],
  };
}
