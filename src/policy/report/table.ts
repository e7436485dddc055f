/**
 * The compliance report as a text table: a summary line, one row per control, then the failing
 * resources of each failed control.
 */
import type { ComplianceReport } from '../frameworks.js';

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function cut(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

export function renderComplianceTable(r: ComplianceReport, opts: { maxWidth?: number } = {}): string {
  const w = opts.maxWidth ?? 70;
  const s = r.summary;
  const out: string[] = [];
  out.push(`${r.framework.title}${r.framework.version ? ` (${r.framework.version})` : ''}`);
  out.push(
    `Generated ${r.createdAt} · inputs: ${r.inputs.length ? r.inputs.map((i) => i.path).join(', ') : 'none'}`,
  );
  out.push(`Controls: ${s.total} (PASS: ${s.pass}, FAIL: ${s.fail}, MANUAL: ${s.manual})`, '');
  const idW = Math.max(7, ...r.controls.map((c) => c.id.length));
  const header = `${pad('Control', idW)}  ${pad('Status', 6)}  ${pad('Severity', 8)}  ${pad('Failed', 6)}  Title`;
  out.push(header, '-'.repeat(header.length + w - 5));
  for (const c of r.controls) {
    const failed = c.status === 'fail' ? String(c.failures.length) : '';
    out.push(
      `${pad(c.id, idW)}  ${pad(c.status.toUpperCase(), 6)}  ${pad(c.severity ?? '', 8)}  ${pad(failed, 6)}  ${cut(c.title, w)}`,
    );
  }
  const failed = r.controls.filter((c) => c.status === 'fail');
  if (failed.length) {
    out.push('', 'Failures');
    for (const c of failed) {
      out.push('', `${c.id}: ${c.title}`);
      for (const f of c.failures) {
        const res = f.resource
          ? [f.resource.kind, f.resource.namespace, f.resource.name].filter(Boolean).join('/')
          : '';
        const loc = `${f.location.path}${f.location.line ? `:${f.location.line}` : ''}`;
        out.push(
          `  [${f.severity}] ${f.id} ${res ? `${res} ` : ''}(${loc}${f.location.fieldPath ? ` ${f.location.fieldPath}` : ''}): ${f.message ?? f.title}`,
        );
      }
    }
  }
  return out.join('\n') + '\n';
}
