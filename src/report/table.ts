/**
 * Human-readable table, one section per report result (target): a title, counts by severity, then
 * rows grouped by package (vulnerabilities) or file (secrets, misconfigurations). Severity colours
 * only when `color` is set (the CLI sets it for a TTY without NO_COLOR).
 */
import { countBySeverity, type Finding, type ScanReport, type ScanResult } from '../core/findings.js';
import type { Severity } from '../core/types.js';
import { severityRank } from '../core/types.js';
import { SEVERITY_ORDER, subjectOf } from './common.js';

export interface TableOptions {
  color?: boolean;
  /** Column width cap for titles and messages. */
  maxWidth?: number;
}

const COLORS: Record<Severity, string> = {
  CRITICAL: '\x1b[1;31m',
  HIGH: '\x1b[31m',
  MEDIUM: '\x1b[33m',
  LOW: '\x1b[34m',
  UNKNOWN: '\x1b[90m',
};

export function renderTable(report: ScanReport, opts: TableOptions = {}): string {
  const out: string[] = [];
  const a = report.artifact;
  const os = a.os ? `, ${a.os.id} ${a.os.versionId}` : '';
  out.push(`Report for ${a.name} (${a.kind}${os})`);
  out.push('');
  if (!report.results.length) out.push('No targets found.', '');
  else out.push(...summary(report), '');
  for (const r of report.results) out.push(...section(r, opts), '');
  for (const w of report.warnings ?? []) out.push(`WARN ${w}`);
  return out.join('\n').replace(/\n+$/, '\n');
}

/** Trivy-style "Report Summary": one row per target with the number of findings of each kind. */
function summary(report: ScanReport): string[] {
  const kinds = ['vulnerability', 'secret', 'misconfig', 'license', 'malware'] as const;
  const header = ['Target', 'Type', 'Vulnerabilities', 'Secrets', 'Misconfigurations', 'Licenses', 'Malware'];
  const rows = report.results.map((r) => [
    r.target,
    r.type ?? r.class,
    ...kinds.map((k) => String(r.findings.filter((f) => f.kind === k).length)),
  ]);
  return ['Report Summary', '', ...grid(header, rows)];
}

/** A boxed grid of plain cells. */
function grid(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    '│ ' + cells.map((c, i) => c + ' '.repeat(widths[i]! - c.length)).join(' │ ') + ' │';
  const rule = (l: string, m: string, r: string) => l + widths.map((x) => '─'.repeat(x + 2)).join(m) + r;
  return [rule('┌', '┬', '┐'), line(header), rule('├', '┼', '┤'), ...rows.map(line), rule('└', '┴', '┘')];
}

function section(r: ScanResult, opts: TableOptions): string[] {
  const title = r.class === 'os-pkgs' || !r.type ? r.target : `${r.target} (${r.type})`;
  const counts = countBySeverity(r.findings);
  const total = `Total: ${r.findings.length} (${SEVERITY_ORDER.map((s) => `${s}: ${counts[s]}`).join(', ')})`;
  const lines = [title, '='.repeat(Math.min(title.length, 100)), total];
  const kinds = [...new Set(r.findings.map((f) => f.kind))];
  for (const k of kinds)
    lines.push(
      '',
      ...table(
        r.findings.filter((f) => f.kind === k),
        opts,
      ),
    );
  return lines;
}

function table(list: Finding[], opts: TableOptions): string[] {
  const lines: string[] = [];
  const sev = (s: Severity) => (opts.color ? `${COLORS[s]}${s}\x1b[0m` : s);
  const w = opts.maxWidth ?? 60;
  const findings = [...list].sort(
    (x, y) =>
      subjectOf(x).localeCompare(subjectOf(y)) ||
      severityRank(y.severity) - severityRank(x.severity) ||
      x.id.localeCompare(y.id),
  );
  const kind = findings[0]!.kind;
  let header: string[];
  let rows: { cells: string[]; severity: Severity; group: string }[];
  if (kind === 'vulnerability') {
    header = ['Package', 'Vulnerability', 'Severity', 'Status', 'Installed', 'Fixed', 'Title'];
    rows = findings.map((f) => {
      const v = f as Extract<Finding, { kind: 'vulnerability' }>;
      return {
        group: v.package.name,
        severity: v.severity,
        cells: [
          v.package.name,
          v.id,
          v.severity,
          v.status,
          v.package.version,
          v.fixedVersions.join(', '),
          clip(v.title, w),
        ],
      };
    });
  } else if (kind === 'secret') {
    header = ['Category', 'Rule', 'Severity', 'Location', 'Match'];
    rows = findings.map((f) => {
      const s = f as Extract<Finding, { kind: 'secret' }>;
      return {
        group: s.category,
        severity: s.severity,
        cells: [s.category, s.id, s.severity, where(s), clip(s.match, w)],
      };
    });
  } else if (kind === 'misconfig') {
    header = ['Type', 'ID', 'Severity', 'Resource', 'Message'];
    rows = findings.map((f) => {
      const m = f as Extract<Finding, { kind: 'misconfig' }>;
      return {
        group: m.type,
        severity: m.severity,
        cells: [m.type, m.id, m.severity, clip(subjectOf(m), 40), clip(m.message ?? m.title, w)],
      };
    });
  } else if (kind === 'malware') {
    header = ['Path', 'Rule', 'Engine', 'Severity', 'Category', 'Layer', 'Title'];
    rows = findings.map((f) => {
      const m = f as Extract<Finding, { kind: 'malware' }>;
      const l = m.location;
      const layer =
        l.layerIndex === undefined
          ? ''
          : `${l.layerIndex}${l.layer ? ` ${l.layer.slice(0, 19)}` : ''}${m.fileState !== 'present' ? ` (${m.fileState} later)` : ''}`;
      return {
        group: l.path,
        severity: m.severity,
        cells: [l.path, m.id, m.engine, m.severity, m.category, layer, clip(m.title, w)],
      };
    });
  } else {
    header = ['Package', 'License', 'Category', 'Severity', 'Location'];
    rows = findings.map((f) => {
      const l = f as Extract<Finding, { kind: 'license' }>;
      return {
        group: subjectOf(l),
        severity: l.severity,
        cells: [subjectOf(l), l.license, l.category, l.severity, where(l)],
      };
    });
  }
  // Group: the first column is printed once per group.
  let prev: string | undefined;
  for (const row of rows) {
    if (row.group === prev) row.cells[0] = '';
    prev = row.group;
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r.cells[i]!.length)));
  const sevCol = header.indexOf('Severity');
  const fmt = (cells: string[], severity?: Severity) =>
    '│ ' +
    cells
      .map((c, i) => {
        const pad = ' '.repeat(widths[i]! - c.length);
        return i === sevCol && severity ? sev(severity) + pad : c + pad;
      })
      .join(' │ ') +
    ' │';
  const rule = (l: string, m: string, r: string) => l + widths.map((x) => '─'.repeat(x + 2)).join(m) + r;
  lines.push(rule('┌', '┬', '┐'), fmt(header), rule('├', '┼', '┤'));
  for (const [i, row] of rows.entries()) {
    if (i > 0 && row.cells[0] !== '') lines.push(rule('├', '┼', '┤'));
    lines.push(fmt(row.cells, row.severity));
  }
  lines.push(rule('└', '┴', '┘'));
  return lines;
}

function where(f: Finding): string {
  const l = f.location;
  return `${l.path}${l.line ? `:${l.line}` : ''}`;
}

function clip(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}
