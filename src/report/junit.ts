/**
 * JUnit XML for CI systems: one <testsuite> per report result (target), one failing <testcase>
 * per finding (classname: the package or file, name: "[SEVERITY] id"). All text is XML-escaped and
 * characters XML 1.0 forbids are dropped.
 */
import type { ScanReport } from '../core/findings.js';
import { messageOf, subjectOf } from './common.js';

/** Escapes text for XML attributes and content; drops characters not allowed in XML 1.0. */
export function xmlEscape(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

export function toJUnit(report: ScanReport): string {
  const e = xmlEscape;
  const total = report.results.reduce((n, r) => n + r.findings.length, 0);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites name="${e(`bulwark ${report.artifact.name}`)}" tests="${total}" failures="${total}" errors="0" time="0">`,
  );
  for (const r of report.results) {
    const n = r.findings.length;
    out.push(
      `  <testsuite name="${e(r.target)}" tests="${n}" failures="${n}" errors="0" skipped="0" time="0" timestamp="${e(report.createdAt.replace(/Z$/, ''))}">`,
    );
    out.push('    <properties>');
    out.push(`      <property name="class" value="${e(r.class)}"/>`);
    if (r.type) out.push(`      <property name="type" value="${e(r.type)}"/>`);
    out.push('    </properties>');
    for (const f of r.findings) {
      const where = `${f.location.path}${f.location.line ? `:${f.location.line}` : ''}`;
      const body = [messageOf(f), where ? `Location: ${where}` : '', ...(f.references ?? []).slice(0, 5)]
        .filter(Boolean)
        .join('\n');
      out.push(
        `    <testcase classname="${e(subjectOf(f))}" name="${e(`[${f.severity}] ${f.id}`)}" file="${e(f.location.path)}" time="0">`,
      );
      out.push(`      <failure message="${e(f.title || f.id)}" type="${e(f.severity)}">${e(body)}</failure>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
