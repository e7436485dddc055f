/**
 * Report writers (one per format) over the shared ScanReport, for findings of every kind, plus
 * suppression (ignore files, VEX) and the Scanner plug-in contract used by `bulwark scan`.
 */
import { BulwarkError } from '../core/errors.js';
import type { ScanReport } from '../core/findings.js';
import { toCycloneDx } from './cyclonedx.js';
import { jsonChunks } from './json-stream.js';
import { toJUnit } from './junit.js';
import { toSarif } from './sarif.js';
import { renderTable } from './table.js';

export { renderTable, type TableOptions } from './table.js';
export { toSarif, SARIF_SCHEMA } from './sarif.js';
export { toJUnit, xmlEscape } from './junit.js';
export { toCycloneDx } from './cyclonedx.js';
export { messageOf, subjectOf, allFindings } from './common.js';
export type { Scanner, ScannerContext } from './scanner.js';
export { loadIgnoreFile, parseIgnoreFile, type IgnoreRule, type IgnoreList } from './ignore.js';
export { loadVex, parseVex, type VexStatement, type VexDocument } from './vex.js';
export { applySuppressions, filterReport, type FilterOptions, type FilterOutcome } from './filter.js';

export const REPORT_FORMATS = ['table', 'json', 'sarif', 'cyclonedx', 'junit'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function isReportFormat(s: string): s is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(s);
}

export interface FormatOptions {
  color?: boolean;
  warn?: (msg: string) => void;
}

/** Renders a report in one format. */
/**
 * formatReport as chunks of about 64 KB: the JSON formats (json, sarif, cyclonedx) are serialised
 * piece by piece, so a large report never exists as one string (the others are small text).
 */
export function* formatReportChunks(
  report: ScanReport,
  format: string,
  opts: FormatOptions = {},
): Generator<string> {
  let doc: unknown;
  if (format === 'json') doc = report;
  else if (format === 'sarif') doc = toSarif(report);
  else if (format === 'cyclonedx') {
    const { bom, omitted } = toCycloneDx(report);
    if (omitted)
      opts.warn?.(
        `cyclonedx: ${omitted} non-vulnerability finding(s) (secrets, misconfigurations, licenses, malware) have no place in CycloneDX and were left out`,
      );
    doc = bom;
  } else return yield formatReport(report, format, opts);
  yield* batched(jsonChunks(doc));
}

/** Joins small chunks into pieces of at least `size` characters. */
export function* batched(chunks: Iterable<string>, size = 1 << 16): Generator<string> {
  let buf: string[] = [];
  let n = 0;
  for (const c of chunks) {
    buf.push(c);
    n += c.length;
    if (n >= size) {
      yield buf.join('');
      buf = [];
      n = 0;
    }
  }
  if (n) yield buf.join('');
}

export { jsonChunks } from './json-stream.js';

export function formatReport(report: ScanReport, format: string, opts: FormatOptions = {}): string {
  switch (format) {
    case 'table':
      return renderTable(report, { color: opts.color });
    case 'json':
      return JSON.stringify(report, null, 2) + '\n';
    case 'sarif':
      return JSON.stringify(toSarif(report), null, 2) + '\n';
    case 'junit':
      return toJUnit(report);
    case 'cyclonedx': {
      const { bom, omitted } = toCycloneDx(report);
      if (omitted)
        opts.warn?.(
          `cyclonedx: ${omitted} non-vulnerability finding(s) (secrets, misconfigurations, licenses, malware) have no place in CycloneDX and were left out`,
        );
      return JSON.stringify(bom, null, 2) + '\n';
    }
    default:
      throw new BulwarkError(
        'USAGE',
        `unknown report format "${format}" (expected one of ${REPORT_FORMATS.join(', ')})`,
      );
  }
}
