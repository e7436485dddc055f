/**
 * OSV record shape (https://ossf.github.io/osv-schema/), the parts Bulwark reads, and a light
 * validation that turns malformed input into a clear error naming the record.
 */
import { BulwarkError } from '../core/errors.js';

export interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface OsvRange {
  type: 'ECOSYSTEM' | 'SEMVER' | 'GIT' | string;
  repo?: string;
  events: OsvEvent[];
  database_specific?: Record<string, unknown>;
}

export interface OsvSeverity {
  type: 'CVSS_V2' | 'CVSS_V3' | 'CVSS_V4' | 'Ubuntu' | string;
  score: string;
}

export interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string };
  severity?: OsvSeverity[];
  ranges?: OsvRange[];
  versions?: string[];
  ecosystem_specific?: Record<string, unknown>;
  database_specific?: Record<string, unknown>;
}

export interface OsvRecord {
  schema_version?: string;
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases?: string[];
  related?: string[];
  upstream?: string[];
  summary?: string;
  details?: string;
  severity?: OsvSeverity[];
  affected?: OsvAffected[];
  references?: { type: string; url: string }[];
  database_specific?: Record<string, unknown>;
}

/** Validates the fields Bulwark depends on; `where` names the file or archive entry. */
export function parseOsvRecord(value: unknown, where: string): OsvRecord {
  const fail = (msg: string): never => {
    throw new BulwarkError('PARSE', `${where}: not an OSV record: ${msg}`, { subject: where });
  };
  if (!value || typeof value !== 'object' || Array.isArray(value)) fail('expected a JSON object');
  const r = value as Record<string, unknown>;
  if (typeof r.id !== 'string' || !r.id) fail('missing "id"');
  if (typeof r.modified !== 'string' || Number.isNaN(Date.parse(r.modified as string))) {
    fail(`"modified" is missing or not an RFC 3339 time (id ${String(r.id)})`);
  }
  if (r.affected !== undefined && !Array.isArray(r.affected))
    fail(`"affected" is not an array (id ${String(r.id)})`);
  for (const a of (r.affected as unknown[] | undefined) ?? []) {
    if (!a || typeof a !== 'object') fail(`"affected" entry is not an object (id ${String(r.id)})`);
    const aa = a as Record<string, unknown>;
    if (aa.ranges !== undefined && !Array.isArray(aa.ranges))
      fail(`"ranges" is not an array (id ${String(r.id)})`);
    for (const rg of (aa.ranges as unknown[] | undefined) ?? []) {
      const g = rg as Record<string, unknown> | null;
      if (!g || typeof g.type !== 'string' || !Array.isArray(g.events))
        fail(`range without type/events (id ${String(r.id)})`);
    }
    if (aa.versions !== undefined && !Array.isArray(aa.versions))
      fail(`"versions" is not an array (id ${String(r.id)})`);
  }
  return r as unknown as OsvRecord;
}

/** Parses JSON text holding one record or an array of records (some exports use arrays). */
export function parseOsvJson(text: string, where: string): OsvRecord[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new BulwarkError('PARSE', `${where}: invalid JSON: ${(e as Error).message}`, { subject: where });
  }
  return Array.isArray(v) ? v.map((x, i) => parseOsvRecord(x, `${where}[${i}]`)) : [parseOsvRecord(v, where)];
}
