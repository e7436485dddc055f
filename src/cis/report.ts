/**
 * Benchmark reports: a kube-bench-like text listing ([PASS] 4.2.1 ... then remediations and
 * totals), JSON (the BenchmarkReport as is), and a self-contained HTML page; plus the mapping of
 * results onto a compliance framework's controls through each check's `compliance` references.
 */
import type { Framework } from '../policy/index.js';
import type { Benchmark, BenchmarkReport, CheckResult, CheckState } from './types.js';

export interface BenchCompliance {
  framework: { id: string; title: string; version?: string };
  summary: { total: number; pass: number; fail: number; manual: number };
  controls: {
    id: string;
    title: string;
    status: 'pass' | 'fail' | 'manual';
    checks: { id: string; state: CheckState }[];
  }[];
}

/** Rates each control of the framework from the benchmark checks that reference it. */
export function complianceOf(fw: Framework, bench: Benchmark, report: BenchmarkReport): BenchCompliance {
  const results = new Map(report.groups.flatMap((g) => g.checks).map((c) => [c.id, c]));
  const byControl = new Map<string, CheckResult[]>();
  for (const g of bench.groups)
    for (const c of g.checks)
      for (const ref of c.compliance ?? [])
        if (ref.framework === fw.framework) {
          const r = results.get(c.id);
          if (!r) continue;
          const l = byControl.get(ref.control) ?? [];
          l.push(r);
          byControl.set(ref.control, l);
        }
  const controls = fw.controls.map((ctl) => {
    const checks = byControl.get(ctl.id) ?? [];
    const automated = checks.filter(
      (c) => c.state === 'PASS' || c.state === 'FAIL' || (c.state === 'WARN' && !c.type),
    );
    const status: 'pass' | 'fail' | 'manual' = !automated.length
      ? 'manual'
      : automated.some((c) => c.state !== 'PASS')
        ? 'fail'
        : 'pass';
    return {
      id: ctl.id,
      title: ctl.title,
      status,
      checks: checks.map((c) => ({ id: c.id, state: c.state })),
    };
  });
  const count = (s: string) => controls.filter((c) => c.status === s).length;
  return {
    framework: { id: fw.id, title: fw.title, ...(fw.version ? { version: fw.version } : {}) },
    summary: { total: controls.length, pass: count('pass'), fail: count('fail'), manual: count('manual') },
    controls,
  };
}

function subjectsLine(c: CheckResult): string[] {
  if (!c.subjects?.length) return [];
  return c.subjects
    .filter((s) => s.state !== 'PASS')
    .map((s) => `      * ${s.name || s.id}: ${s.state}${s.reason ? ` (${s.reason})` : ''}`);
}

/** kube-bench's text layout. */
export function renderTable(r: BenchmarkReport, compliance?: BenchCompliance): string {
  const out: string[] = [`[INFO] ${r.benchmark.title}${r.root !== '/' ? ` (root ${r.root})` : ''}`];
  for (const g of r.groups) {
    out.push(`[INFO] ${g.id} ${g.text}`);
    for (const c of g.checks) {
      out.push(`[${c.state}] ${c.id} ${c.text}`);
      if (c.state !== 'PASS' && c.reason && !c.subjects?.length) out.push(`      * ${c.reason}`);
      out.push(...subjectsLine(c));
    }
  }
  const rem = r.groups
    .flatMap((g) => g.checks)
    .filter((c) => (c.state === 'FAIL' || c.state === 'WARN') && c.remediation);
  if (rem.length) {
    out.push('', '== Remediations ==');
    for (const c of rem) out.push(`${c.id} ${c.remediation!.replace(/\n/g, '\n  ')}`, '');
  }
  const t = r.totals;
  out.push(
    '== Summary ==',
    `${t.pass} checks PASS`,
    `${t.fail} checks FAIL`,
    `${t.warn} checks WARN`,
    `${t.info} checks INFO`,
  );
  if (compliance) {
    const s = compliance.summary;
    out.push(
      '',
      `== ${compliance.framework.title} ==`,
      `Controls: ${s.total} (PASS: ${s.pass}, FAIL: ${s.fail}, MANUAL: ${s.manual})`,
    );
    for (const c of compliance.controls)
      if (c.checks.length)
        out.push(
          `[${c.status.toUpperCase()}] ${c.id} ${c.title} (${c.checks.map((x) => `${x.id}=${x.state}`).join(', ')})`,
        );
  }
  return out.join('\n') + '\n';
}

export function renderJson(r: BenchmarkReport, compliance?: BenchCompliance): string {
  return JSON.stringify(compliance ? { ...r, compliance } : r, null, 2) + '\n';
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A self-contained page (no scripts, no external resources). */
export function renderHtml(r: BenchmarkReport, compliance?: BenchCompliance): string {
  const rows = r.groups
    .map(
      (g) =>
        `<tr class="group"><th colspan="3">${esc(g.id)} ${esc(g.text)}</th></tr>` +
        g.checks
          .map(
            (c) =>
              `<tr class="${c.state.toLowerCase()}"><td>${esc(c.state)}</td><td>${esc(c.id)}</td><td>${esc(c.text)}` +
              (c.state !== 'PASS' && c.reason ? `<div class="why">${esc(c.reason)}</div>` : '') +
              (c.subjects ?? [])
                .filter((s) => s.state !== 'PASS')
                .map((s) => `<div class="why">${esc(s.name || s.id || '')}: ${esc(s.state)}</div>`)
                .join('') +
              (c.state !== 'PASS' && c.remediation ? `<div class="fix">${esc(c.remediation)}</div>` : '') +
              `</td></tr>`,
          )
          .join(''),
    )
    .join('\n');
  const t = r.totals;
  const comp = compliance
    ? `<h2>${esc(compliance.framework.title)}</h2><table><tr><th>Status</th><th>Control</th><th>Checks</th></tr>` +
      compliance.controls
        .map(
          (c) =>
            `<tr class="${c.status}"><td>${c.status.toUpperCase()}</td><td>${esc(c.id)} ${esc(c.title)}</td><td>${esc(c.checks.map((x) => `${x.id}=${x.state}`).join(', '))}</td></tr>`,
        )
        .join('') +
      '</table>'
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${esc(r.benchmark.title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
tr.group th{background:#f3f3f3}tr.fail td:first-child{color:#b00020;font-weight:bold}tr.warn td:first-child{color:#a66400}tr.pass td:first-child{color:#1b7f3b}.why{color:#555}.fix{color:#333;font-style:italic}</style></head>
<body><h1>${esc(r.benchmark.title)}</h1>
<p>Generated ${esc(r.createdAt)} · root ${esc(r.root)} · PASS ${t.pass} · FAIL ${t.fail} · WARN ${t.warn} · INFO ${t.info}</p>
<table><tr><th>State</th><th>Check</th><th>Title</th></tr>
${rows}
</table>
${comp}
</body></html>
`;
}
