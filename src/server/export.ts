/**
 * Export of any paged list (`?export=csv|json` on a list route): every matching row, not one page,
 * with the list's own filters and order. CSV is RFC 4180 with a header row; nested objects become
 * dotted columns (counts.critical) and arrays are joined with "; ". Cells that a spreadsheet would
 * run as a formula (=, +, -, @, tab, CR at the start) are prefixed with a quote (CSV injection: the
 * findings hold text from scanned images).
 */
export const EXPORT_FORMATS = ['csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Rows of one export at most; a bigger list is cut, and says so in a header. */
export const EXPORT_MAX_ROWS = 200_000;

function flatten(v: unknown, prefix: string, out: Record<string, unknown>): void {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else out[prefix] = v;
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = Array.isArray(v)
    ? v.map((x) => (x && typeof x === 'object' ? JSON.stringify(x) : String(x))).join('; ')
    : typeof v === 'object'
      ? JSON.stringify(v)
      : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV text of the rows: the columns are the union of every row's flattened keys, in first-seen order. */
export function toCsv(items: unknown[]): string {
  const rows = items.map((it) => {
    const o: Record<string, unknown> = {};
    flatten(it, '', o);
    return o;
  });
  const cols: string[] = [];
  const seen = new Set<string>();
  for (const r of rows)
    for (const k of Object.keys(r))
      if (!seen.has(k)) {
        seen.add(k);
        cols.push(k);
      }
  const lines = [cols.map(cell).join(',')];
  for (const r of rows) lines.push(cols.map((c) => cell(r[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}
