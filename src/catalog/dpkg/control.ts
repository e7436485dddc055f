/**
 * Parser for Debian control-file paragraphs (deb822), the format of /var/lib/dpkg/status and the
 * distroless status.d/* files: "Field: value" lines, continuation lines starting with a space or
 * tab, paragraphs separated by blank lines. Field names are case-insensitive (kept as written).
 */

export interface Paragraph {
  /** Field values; multi-line values keep their continuation lines joined with "\n". */
  fields: Map<string, string>;
  /** 1-based line where the paragraph starts (for messages). */
  line: number;
}

export interface ParseIssue {
  line: number;
  message: string;
}

/**
 * Splits text into paragraphs. `keep`, when given, limits which fields are stored (lower-case
 * names) so that large descriptions are not kept in memory. A malformed line makes its whole
 * paragraph invalid: it is reported in `issues` and dropped.
 */
export function parseParagraphs(
  text: string,
  keep?: ReadonlySet<string>,
): { paragraphs: Paragraph[]; issues: ParseIssue[] } {
  const paragraphs: Paragraph[] = [];
  const issues: ParseIssue[] = [];
  let cur: Paragraph | undefined;
  let bad = false;
  let lastKey: string | undefined;
  const flush = () => {
    if (cur && !bad) paragraphs.push(cur);
    cur = undefined;
    bad = false;
    lastKey = undefined;
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i]!;
    if (l.endsWith('\r')) l = l.slice(0, -1);
    if (l.trim() === '') {
      flush();
      continue;
    }
    if (!cur) cur = { fields: new Map(), line: i + 1 };
    if (bad) continue;
    if (l[0] === ' ' || l[0] === '\t') {
      if (lastKey === undefined) {
        issues.push({ line: i + 1, message: 'continuation line before any field' });
        bad = true;
      } else if (cur.fields.has(lastKey)) {
        cur.fields.set(lastKey, `${cur.fields.get(lastKey)}\n${l.trim()}`);
      }
      continue;
    }
    if (l[0] === '#') continue; // comments are allowed in deb822 files
    const colon = l.indexOf(':');
    if (colon <= 0 || /\s/.test(l.slice(0, colon))) {
      issues.push({ line: i + 1, message: `malformed line "${l.length > 60 ? `${l.slice(0, 60)}...` : l}"` });
      bad = true;
      continue;
    }
    lastKey = l.slice(0, colon).toLowerCase();
    if (!keep || keep.has(lastKey)) cur.fields.set(lastKey, l.slice(colon + 1).trim());
  }
  flush();
  return { paragraphs, issues };
}

export interface DebDependency {
  /** Alternatives ("a | b"): names without version constraints or :any/:arch qualifiers. */
  alternatives: string[];
}

/** Parses a Depends/Pre-Depends value: "libc6 (>= 2.34), debconf | debconf-2.0, perl:any". */
export function parseDependsField(value: string | undefined): DebDependency[] {
  if (!value) return [];
  const out: DebDependency[] = [];
  for (const clause of value.split(',')) {
    const alternatives = clause
      .split('|')
      .map(
        (a) =>
          a
            .replace(/\([^)]*\)/g, '') // version constraint
            .replace(/\[[^\]]*\]/g, '') // architecture restriction
            .replace(/<[^>]*>/g, '') // build profile
            .trim()
            .replace(/:[a-z0-9-]+$/, ''), // :any, :amd64
      )
      .filter(Boolean);
    if (alternatives.length) out.push({ alternatives });
  }
  return out;
}

/** Parses a Provides value into the virtual package names it provides. */
export function parseProvidesField(value: string | undefined): string[] {
  return parseDependsField(value).flatMap((d) => d.alternatives);
}

/** "src (1.2-3)" or "src" → name and optional version. */
export function parseSourceField(value: string | undefined): { name?: string; version?: string } {
  if (!value) return {};
  const m = /^(\S+)(?:\s*\(([^)]+)\))?/.exec(value.trim());
  if (!m) return {};
  return { name: m[1], version: m[2]?.trim() };
}
