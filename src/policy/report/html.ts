/**
 * The compliance report as one self-contained HTML file for auditors: inline CSS, no scripts, no
 * external resources (a strict Content-Security-Policy says so), every value escaped.
 * Sections: header (framework, timestamp, tool), summary, scanned inputs, control overview, and
 * per-control detail with the failing resources (file, line, field path, message, remediation).
 */
import type { MisconfigFinding } from '../../core/findings.js';
import type { ComplianceReport, ControlResult } from '../frameworks.js';

const esc = (s: unknown): string =>
  String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

/** Anchor id for a control (ids contain spaces, slashes and dots). */
export function controlAnchor(id: string): string {
  return (
    'control-' +
    id
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .toLowerCase()
  );
}

const CSS = `
:root{--fail:#b42318;--pass:#067647;--manual:#6941c6;--ink:#101828;--mute:#475467;--line:#eaecf0;--bg:#f9fafb}
*{box-sizing:border-box}body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:#fff}
main{max-width:1100px;margin:0 auto;padding:32px 24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 12px;border-bottom:2px solid var(--line);padding-bottom:6px}
h3{font-size:15px;margin:0}.meta{color:var(--mute);margin:0}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin-top:16px}
.card{flex:1 1 150px;border:1px solid var(--line);border-radius:8px;padding:12px 16px;background:var(--bg)}
.card .n{font-size:28px;font-weight:700}.card.fail .n{color:var(--fail)}.card.pass .n{color:var(--pass)}.card.manual .n{color:var(--manual)}
.bar{display:flex;height:10px;border-radius:5px;overflow:hidden;margin-top:12px;background:var(--line)}
.bar .pass{background:var(--pass)}.bar .fail{background:var(--fail)}.bar .manual{background:var(--manual)}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}
th{background:var(--bg);font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:var(--mute)}
.status{display:inline-block;min-width:64px;text-align:center;border-radius:12px;padding:1px 8px;font-size:12px;font-weight:700;color:#fff}
.status.fail{background:var(--fail)}.status.pass{background:var(--pass)}.status.manual{background:var(--manual)}
.sev{font-size:12px;font-weight:600}.sev.CRITICAL,.sev.HIGH{color:var(--fail)}.sev.MEDIUM{color:#b54708}.sev.LOW{color:#175cd3}
section.control{border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:12px 0;page-break-inside:avoid}
section.control header{display:flex;gap:12px;align-items:center}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;background:var(--bg);padding:1px 4px;border-radius:4px;word-break:break-all}
.note{color:var(--mute);font-size:13px}a{color:#175cd3}.nowrap,.nowrap code{white-space:nowrap;word-break:normal}
@media print{main{padding:0}a{color:inherit;text-decoration:none}}
`;

export function renderComplianceHtml(r: ComplianceReport): string {
  const s = r.summary;
  const pct = (n: number) => (s.total ? ((n / s.total) * 100).toFixed(1) : '0');
  const automated = s.pass + s.fail;
  const out: string[] = [];
  out.push(
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(r.framework.title)} compliance report</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body><main>',
    '<header id="report-header">',
    `<h1>${esc(r.framework.title)}</h1>`,
    `<p class="meta">Compliance report generated <time datetime="${esc(r.createdAt)}">${esc(r.createdAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}</time> by ${esc(r.tool.name)} ${esc(r.tool.version)}` +
      `${r.framework.version ? ` · framework version ${esc(r.framework.version)}` : ''}</p>`,
  );
  if (r.framework.description) out.push(`<p class="meta">${esc(r.framework.description)}</p>`);
  if (r.framework.source) out.push(`<p class="meta">Source: ${esc(r.framework.source)}</p>`);
  out.push('</header>');

  out.push(
    '<section id="summary"><h2>Summary</h2>',
    '<div class="cards">',
    `<div class="card total"><div class="n">${s.total}</div>controls</div>`,
    `<div class="card pass"><div class="n">${s.pass}</div>passed</div>`,
    `<div class="card fail"><div class="n">${s.fail}</div>failed</div>`,
    `<div class="card manual"><div class="n">${s.manual}</div>manual review</div>`,
    '</div>',
    `<div class="bar" role="img" aria-label="${s.pass} passed, ${s.fail} failed, ${s.manual} manual">` +
      `<div class="pass" style="width:${pct(s.pass)}%"></div><div class="fail" style="width:${pct(s.fail)}%"></div><div class="manual" style="width:${pct(s.manual)}%"></div></div>`,
    `<p class="note">${automated ? `${((s.pass / automated) * 100).toFixed(1)}% of the automatically checked controls pass.` : 'No control of this framework can be checked automatically on these inputs.'} ` +
      'Manual controls need evidence outside the scanned configuration.</p>',
    '</section>',
  );

  out.push('<section id="inputs"><h2>Scanned inputs</h2>');
  if (!r.inputs.length) out.push('<p class="note">No configuration files were found.</p>');
  else {
    out.push('<table><thead><tr><th>Input</th><th>Type</th><th>Resources</th></tr></thead><tbody>');
    for (const i of r.inputs)
      out.push(`<tr><td><code>${esc(i.path)}</code></td><td>${esc(i.type)}</td><td>${i.resources}</td></tr>`);
    out.push('</tbody></table>');
  }
  out.push('</section>');

  out.push(
    '<section id="controls"><h2>Controls</h2>',
    '<table><thead><tr><th>Control</th><th>Title</th><th>Status</th><th>Failed resources</th></tr></thead><tbody>',
  );
  for (const c of r.controls) {
    out.push(
      `<tr data-control="${esc(c.id)}" data-status="${c.status}"><td><a href="#${controlAnchor(c.id)}">${esc(c.id)}</a></td><td>${esc(c.title)}</td>` +
        `<td><span class="status ${c.status}">${c.status.toUpperCase()}</span></td><td>${c.status === 'fail' ? failedResources(c.failures).size : ''}</td></tr>`,
    );
  }
  out.push('</tbody></table></section>');

  out.push('<section id="details"><h2>Control details</h2>');
  for (const c of r.controls) out.push(controlDetail(c));
  out.push('</section>', '</main></body></html>', '');
  return out.join('\n');
}

function resourceLabel(f: MisconfigFinding): string {
  const res = f.resource;
  if (!res) return f.location.path;
  return [res.kind, res.namespace, res.name].filter(Boolean).join('/');
}

function failedResources(failures: MisconfigFinding[]): Set<string> {
  return new Set(failures.map((f) => `${f.location.path}\0${resourceLabel(f)}`));
}

function controlDetail(c: ControlResult): string {
  const out: string[] = [];
  out.push(
    `<section class="control" id="${controlAnchor(c.id)}" data-status="${c.status}">`,
    `<header><span class="status ${c.status}">${c.status.toUpperCase()}</span><h3>${esc(c.id)}: ${esc(c.title)}</h3></header>`,
  );
  if (c.status === 'manual') {
    out.push(
      '<p class="note">No automated check covers this control. Review it manually and keep the evidence with this report.</p>',
    );
  } else {
    out.push(
      '<p class="note">Checks: ' +
        c.checks.map((k) => `<code>${esc(k.id)}</code> ${esc(k.title)}`).join('; ') +
        '</p>',
    );
    if (c.status === 'pass') {
      out.push(
        c.evaluated
          ? `<p class="note">${c.evaluated} check evaluation(s) on the scanned resources, none failed.</p>`
          : '<p class="note">No scanned resource is of a kind these checks apply to.</p>',
      );
    } else {
      out.push(
        '<table class="failures"><thead><tr><th>Resource</th><th>Location</th><th>Check</th><th>Severity</th><th>Finding</th></tr></thead><tbody>',
      );
      for (const f of c.failures) {
        const loc = `${f.location.path}${f.location.line ? `:${f.location.line}` : ''}`;
        out.push(
          `<tr><td>${esc(resourceLabel(f))}</td><td><code>${esc(loc)}</code>${f.location.fieldPath ? `<br><code>${esc(f.location.fieldPath)}</code>` : ''}</td>` +
            `<td class="nowrap"><code>${esc(f.id)}</code></td><td><span class="sev ${esc(f.severity)}">${esc(f.severity)}</span></td>` +
            `<td>${esc(f.message ?? f.title)}${f.remediation ? `<br><span class="note">Fix: ${esc(f.remediation)}</span>` : ''}</td></tr>`,
        );
      }
      out.push('</tbody></table>');
    }
  }
  out.push('</section>');
  return out.join('\n');
}
