/**
 * Does a purl pattern (from an ignore file or VEX statement) name a finding's package? Type,
 * namespace and name must match; a version or qualifier in the pattern must match too, while
 * what the pattern leaves out matches anything.
 */
import { parsePurl, type PurlParts } from '../core/purl.js';

function tryParse(s: string): PurlParts | undefined {
  try {
    return parsePurl(s);
  } catch {
    return undefined;
  }
}

export function purlMatches(pattern: string, purl: string): boolean {
  if (pattern === purl) return true;
  const p = tryParse(pattern);
  const t = tryParse(purl);
  if (!p || !t) return false;
  if (p.type !== t.type || (p.namespace ?? '') !== (t.namespace ?? '') || p.name !== t.name) return false;
  if (p.version && p.version !== t.version) return false;
  for (const [k, v] of Object.entries(p.qualifiers ?? {}))
    if (v !== undefined && t.qualifiers?.[k] !== v) return false;
  return true;
}
