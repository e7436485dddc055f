/**
 * Finds secrets in text with a rule set: keyword pre-filter, regex, entropy and allow rules. The
 * secret itself never leaves this module unmasked.
 */
import type { CompiledAllow, CompiledRule, RuleSet } from './rules.js';

export interface SecretMatch {
  ruleId: string;
  category: string;
  title: string;
  severity: CompiledRule['severity'];
  /** 1-based line of the secret's first character, and of its last. */
  line: number;
  endLine: number;
  /** The line holding the secret, with the secret masked and long lines cut around it. */
  masked: string;
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  if (!s) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  const n = s.length;
  for (const c of counts.values()) {
    const p = c / n;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Replaces every character of the secret with '*' (keeps the length, never the content). */
export function maskSecret(secret: string): string {
  return '*'.repeat(Math.min(secret.length, 64));
}

const MAX_LINE = 160;

function lineOf(lineStarts: number[], offset: number): number {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function allowed(list: CompiledAllow[], secret: string, matched: string, path: string | undefined): boolean {
  for (const a of list) {
    if (a.path && !(path !== undefined && a.path.test(path))) continue;
    if (a.regex && !testOnce(a.regex, secret)) continue;
    if (a.match && !testOnce(a.match, matched)) continue;
    if (a.stopwords) {
      const lower = secret.toLowerCase();
      if (!a.stopwords.some((w) => lower.includes(w))) continue;
    }
    return true;
  }
  return false;
}

const NAME_CHAR = /[\w.-]/;

/** The identifier characters (at most 50) right before `index`: the start of a setting's name. */
function nameBefore(text: string, index: number): string {
  let i = index;
  while (i > 0 && index - i < 50 && NAME_CHAR.test(text[i - 1]!)) i--;
  return text.slice(i, index);
}

function testOnce(re: RegExp, s: string): boolean {
  re.lastIndex = 0;
  return re.test(s);
}

/** True when a path is excluded by a path-only allow rule (vendored trees, docs, tests...). */
export function pathAllowed(rules: RuleSet, path: string): boolean {
  return rules.allow.some((a) => a.path && !a.regex && !a.match && !a.stopwords && a.path.test(path));
}

/**
 * The keyword pre-filter: which rule keywords occur in the (lower-cased) text, found in ONE pass
 * with a single alternation of all keywords (longest first) tried at every position, instead of one
 * `includes` per keyword per file. A keyword found also marks the keywords contained in it, so a
 * shorter keyword starting at the same place is not lost.
 */
interface KeywordIndex {
  re: RegExp;
  contained: Map<string, string[]>;
}

const keywordIndexes = new WeakMap<RuleSet, KeywordIndex>();

function keywordIndex(rules: RuleSet): KeywordIndex {
  let idx = keywordIndexes.get(rules);
  if (!idx) {
    const all = [...new Set(rules.rules.flatMap((r) => r.keywords))].sort((a, b) => b.length - a.length);
    const escape = (k: string) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    idx = {
      re: new RegExp(all.length ? all.map(escape).join('|') : '(?!)', 'g'),
      contained: new Map(all.map((k) => [k, all.filter((o) => k.includes(o))])),
    };
    keywordIndexes.set(rules, idx);
  }
  return idx;
}

function keywordsIn(lower: string, rules: RuleSet): Set<string> {
  const { re, contained } = keywordIndex(rules);
  const found = new Set<string>();
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(lower)) !== null) {
    for (const k of contained.get(m[0]) ?? [m[0]]) found.add(k);
    re.lastIndex = m.index + 1;
  }
  return found;
}

export interface ScanTextOptions {
  /** Drop generic-rule matches that overlap a specific rule's match (default true). */
  dedupe?: boolean;
}

export function scanText(
  text: string,
  rules: RuleSet,
  path?: string,
  opts: ScanTextOptions = {},
): SecretMatch[] {
  const present = keywordsIn(text.toLowerCase(), rules);
  const out: (SecretMatch & { start: number; end: number; generic: boolean })[] = [];
  let lineStarts: number[] | undefined;
  const seen = new Set<string>();
  for (const rule of rules.rules) {
    if (rule.keywords.length && !rule.keywords.some((k) => present.has(k))) continue;
    if (rule.path && !(path !== undefined && rule.path.test(path))) continue;
    for (const re of rule.regexes) {
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(text)) !== null) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        const secret = m.groups?.secret ?? m[0];
        if (!secret) continue;
        const start = m.groups?.secret !== undefined ? m.index + m[0].lastIndexOf(secret) : m.index;
        if (rule.entropy !== undefined && shannonEntropy(secret) < rule.entropy) continue;
        // allow rules judge the match with the whole setting name before it ("publicToken", "FOO_NAME")
        const matched = nameBefore(text, m.index) + m[0];
        if (allowed(rule.allow, secret, matched, path) || allowed(rules.allow, secret, matched, path))
          continue;
        lineStarts ??= lineStartsOf(text);
        const line = lineOf(lineStarts, start);
        const endLine = lineOf(lineStarts, start + secret.length - 1);
        const key = `${rule.id}:${start}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({
          ruleId: rule.id,
          category: rule.category,
          title: rule.title,
          severity: rule.severity,
          line,
          endLine,
          masked: maskedLine(text, lineStarts, line, start, secret.length),
          start,
          end: start + secret.length,
          generic: rule.category === 'Generic',
        });
      }
    }
  }
  // A secret a specific rule recognised is not reported again by a generic rule.
  const specific = out.filter((m) => !m.generic);
  return out
    .filter(
      (m) => opts.dedupe === false || !m.generic || !specific.some((s) => s.start < m.end && m.start < s.end),
    )
    .sort((a, b) => a.line - b.line || a.ruleId.localeCompare(b.ruleId))
    .map(({ start: _s, end: _e, generic: _g, ...m }) => m);
}

function maskedLine(text: string, lineStarts: number[], line: number, start: number, length: number): string {
  const ls = lineStarts[line - 1]!;
  const next = lineStarts[line] !== undefined ? lineStarts[line]! - 1 : text.length;
  const lineText = text.slice(ls, next).replace(/\r$/, '');
  const col = start - ls;
  const onLine = Math.min(length, lineText.length - col);
  let masked =
    lineText.slice(0, col) + maskSecret(text.slice(start, start + onLine)) + lineText.slice(col + onLine);
  if (masked.length > MAX_LINE) {
    const from = Math.max(0, Math.min(col - 40, masked.length - MAX_LINE));
    masked =
      (from > 0 ? '…' : '') +
      masked.slice(from, from + MAX_LINE) +
      (from + MAX_LINE < masked.length ? '…' : '');
  }
  return masked;
}
