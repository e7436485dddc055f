/**
 * License strings as catalogers report them (an SPDX id, an SPDX expression, or free text such as
 * Debian's "GPL-2+") classified for the SBOM formats, which treat the three differently.
 */
import { fixupSpdxId } from '@cyclonedx/cyclonedx-library/SPDX';
import parseSpdx from 'spdx-expression-parse';

export type LicenseClass =
  { kind: 'id'; id: string } | { kind: 'expression'; expression: string } | { kind: 'name'; name: string };

/**
 * - `id`: a single id on the SPDX license list (case fixed up: "mit" → "MIT");
 * - `expression`: a valid SPDX expression that is not a single listed id ("MIT OR Apache-2.0",
 *   "GPL-2.0+", "LicenseRef-x");
 * - `name`: anything else, kept verbatim.
 */
export function classifyLicense(raw: string): LicenseClass {
  const s = raw.trim();
  const id = fixupSpdxId(s);
  if (id) return { kind: 'id', id };
  if (isSpdxExpression(s)) return { kind: 'expression', expression: s };
  return { kind: 'name', name: s };
}

export function isSpdxExpression(s: string): boolean {
  if (!s || s.length > 4096) return false;
  try {
    parseSpdx(s);
    return true;
  } catch {
    return false;
  }
}

/** SPDX license-ref id for a free-text license: "LicenseRef-" + [A-Za-z0-9.-] only. */
export function licenseRefFor(name: string): string {
  const cleaned = name
    .replace(/[^A-Za-z0-9.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
  return `LicenseRef-${cleaned || 'unknown'}`;
}

/** Wraps a compound expression in parentheses (once) so it can be joined with AND. */
export function parenthesize(expr: string): string {
  const inner = stripParens(expr);
  return /\s(AND|OR|WITH)\s/i.test(inner) ? `(${inner})` : inner;
}

/** Removes parentheses that enclose the whole expression: "((A OR B))" → "A OR B". */
export function stripParens(s: string): string {
  let t = s.trim();
  while (t.startsWith('(') && t.endsWith(')')) {
    let depth = 0;
    let wraps = true;
    for (let i = 0; i < t.length - 1; i++) {
      if (t[i] === '(') depth++;
      else if (t[i] === ')') depth--;
      if (depth === 0) {
        wraps = false;
        break;
      }
    }
    if (!wraps) break;
    t = t.slice(1, -1).trim();
  }
  return t;
}

/** Splits "A AND (B OR C)" at top-level ANDs into ["A", "B OR C"] (each a declared license). */
export function splitTopLevelAnd(expr: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < expr.length; i++) {
    const ch = expr[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0 && /^\sAND\s/i.test(expr.slice(i, i + 5))) {
      parts.push(expr.slice(start, i));
      start = i + 5;
      i += 4;
    }
  }
  parts.push(expr.slice(start));
  return parts.map(stripParens).filter(Boolean);
}
