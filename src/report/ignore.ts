/**
 * Ignore files, compatible with Trivy's:
 * - plain (`.bulwarkignore`, `.trivyignore`): one id per line, optional ` exp:YYYY-MM-DD`, `#`
 *   comments (a comment line just above an entry is kept as its reason);
 * - YAML (`*.yaml`/`*.yml`): sections `vulnerabilities`, `secrets`, `misconfigurations`,
 *   `licenses`, each a list of `{ id, paths?, purls?, statement?, expired_at? }`.
 * An entry stops suppressing from its expiry date (00:00 UTC) on.
 * An id matches a finding's id or any of its aliases (so `CVE-2023-4911` covers
 * `DEBIAN-CVE-2023-4911`).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { BulwarkError } from '../core/errors.js';
import type { Finding } from '../core/findings.js';
import type { FindingKind } from '../core/types.js';
import { purlMatches } from './purl-match.js';

export interface IgnoreRule {
  id: string;
  /** Limits the rule to these finding kinds (YAML sections); undefined: any kind. */
  kinds?: FindingKind[];
  paths?: string[];
  purls?: string[];
  reason?: string;
  /** Expiry (exclusive), ISO date. */
  expires?: string;
  /** File and line where the rule was written, for messages. */
  where: string;
}

export interface IgnoreList {
  file: string;
  rules: IgnoreRule[];
}

export function loadIgnoreFile(path: string): IgnoreList {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BulwarkError(
      'NOT_FOUND',
      `cannot read ignore file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { subject: path },
    );
  }
  return parseIgnoreFile(text, path);
}

function parseDate(s: string, where: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s.trim());
  const t = m ? Date.parse(`${s.trim()}T00:00:00Z`) : Date.parse(s);
  if (Number.isNaN(t))
    throw new BulwarkError('PARSE', `${where}: invalid expiry date "${s}" (expected YYYY-MM-DD)`, {
      subject: where,
    });
  return new Date(t).toISOString();
}

export function parseIgnoreFile(text: string, file: string): IgnoreList {
  if (/\.ya?ml$/i.test(file)) return parseYamlIgnore(text, file);
  const rules: IgnoreRule[] = [];
  let comment: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const where = `${file}:${i + 1}`;
    const line = raw.trim();
    if (!line) {
      comment = [];
      return;
    }
    if (line.startsWith('#')) {
      comment.push(line.replace(/^#+\s*/, ''));
      return;
    }
    const [id, ...rest] = line.replace(/\s+#.*$/, '').split(/\s+/);
    const rule: IgnoreRule = { id: id!, where };
    for (const tok of rest) {
      if (tok.startsWith('exp:')) rule.expires = parseDate(tok.slice(4), where);
      else
        throw new BulwarkError('PARSE', `${where}: unexpected "${tok}" (expected "ID [exp:YYYY-MM-DD]")`, {
          subject: where,
        });
    }
    const trailing = /\s#\s*(.*)$/.exec(line)?.[1];
    const reason = trailing || comment.join(' ');
    if (reason) rule.reason = reason;
    comment = [];
    rules.push(rule);
  });
  return { file, rules };
}

const SECTIONS: Record<string, FindingKind> = {
  vulnerabilities: 'vulnerability',
  secrets: 'secret',
  misconfigurations: 'misconfig',
  licenses: 'license',
  malware: 'malware',
};

function parseYamlIgnore(text: string, file: string): IgnoreList {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new BulwarkError('PARSE', `${file}: invalid YAML: ${(e as Error).message}`, { subject: file });
  }
  const rules: IgnoreRule[] = [];
  if (doc === null || doc === undefined) return { file, rules };
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new BulwarkError(
      'PARSE',
      `${file}: expected a mapping with sections ${Object.keys(SECTIONS).join(', ')}`,
      { subject: file },
    );
  for (const [section, list] of Object.entries(doc as Record<string, unknown>)) {
    const kind = SECTIONS[section];
    if (!kind)
      throw new BulwarkError(
        'PARSE',
        `${file}: unknown section "${section}" (expected ${Object.keys(SECTIONS).join(', ')})`,
        { subject: file },
      );
    if (list === null) continue;
    if (!Array.isArray(list))
      throw new BulwarkError('PARSE', `${file}: "${section}" must be a list`, { subject: file });
    list.forEach((e, i) => {
      const where = `${file}: ${section}[${i}]`;
      if (!e || typeof e !== 'object')
        throw new BulwarkError('PARSE', `${where}: expected a mapping with "id"`, { subject: file });
      const o = e as Record<string, unknown>;
      if (typeof o.id !== 'string' || !o.id)
        throw new BulwarkError('PARSE', `${where}: missing "id"`, { subject: file });
      const strList = (k: string): string[] | undefined => {
        const v = o[k];
        if (v === undefined || v === null) return undefined;
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
          throw new BulwarkError('PARSE', `${where}: "${k}" must be a list of strings`, { subject: file });
        return v as string[];
      };
      const exp = o.expired_at ?? o.expires ?? o.exp;
      const rule: IgnoreRule = { id: o.id, kinds: [kind], where };
      const paths = strList('paths');
      const purls = strList('purls');
      if (paths) rule.paths = paths;
      if (purls) rule.purls = purls;
      const reason = o.statement ?? o.reason;
      if (typeof reason === 'string') rule.reason = reason;
      if (exp !== undefined && exp !== null)
        rule.expires = parseDate(exp instanceof Date ? exp.toISOString().slice(0, 10) : String(exp), where);
      rules.push(rule);
    });
  }
  return { file, rules };
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // "**/" matches zero or more directories; a trailing "**" anything below
        if (glob[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i++;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function isExpired(rule: IgnoreRule, now: Date): boolean {
  return rule.expires !== undefined && now.getTime() >= Date.parse(rule.expires);
}

/** The rule that suppresses this finding, if any (expired rules never do). */
export function ignoreRuleFor(f: Finding, list: IgnoreList, now: Date): IgnoreRule | undefined {
  const ids = new Set([f.id, ...(f.kind === 'vulnerability' ? f.aliases : [])]);
  for (const r of list.rules) {
    if (!ids.has(r.id)) continue;
    if (r.kinds && !r.kinds.includes(f.kind)) continue;
    if (isExpired(r, now)) continue;
    if (r.paths) {
      const p = f.location.path.replace(/^\/+/, '');
      if (!r.paths.some((g) => globToRegExp(g.replace(/^\/+/, '')).test(p))) continue;
    }
    if (r.purls) {
      const purl =
        f.kind === 'vulnerability' ? f.package.purl : f.kind === 'license' ? f.package?.purl : undefined;
      if (!purl || !r.purls.some((pat) => purlMatches(pat, purl))) continue;
    }
    return r;
  }
  return undefined;
}
