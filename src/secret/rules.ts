/**
 * Secret rules are data (policies/secrets/builtin.yaml and users' config files). A rule is either a
 * full regular expression with a named group `secret`, or an assignment (`assign: {key, value}`)
 * that expands to "<something containing KEY> = VALUE" in the usual config, code and env syntaxes.
 *
 * Users' config follows Trivy's secret config shape: `rules`, `allow-rules`, `disable-rules`,
 * `disable-allow-rules`, `enable-builtin-rules`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { readYamlData } from '../core/data.js';
import { BulwarkError } from '../core/errors.js';
import { SEVERITIES, type Severity } from '../core/types.js';

const allowSchema = z
  .object({
    id: z.string().min(1),
    description: z.string().optional(),
    /** Allowed when the secret value matches. */
    regex: z.string().optional(),
    /** Allowed when the whole matched text (secret with its context) matches. */
    match: z.string().optional(),
    /** Allowed when the file path matches. */
    path: z.string().optional(),
    /** Allowed when the secret contains one of these words (case-insensitive). */
    stopwords: z.array(z.string()).optional(),
  })
  .strict();

const ruleSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'ids are lowercase words joined by hyphens'),
    category: z.string().min(1),
    title: z.string().min(1),
    severity: z.enum(SEVERITIES),
    keywords: z.array(z.string().min(2)).optional(),
    regex: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    assign: z
      .object({ key: z.string().min(1), value: z.string().min(1) })
      .strict()
      .optional(),
    /** Regex flags for `regex` (assignment rules are always case-insensitive): "i" to ignore case. */
    flags: z
      .string()
      .regex(/^[ims]*$/)
      .optional(),
    /** Minimum Shannon entropy (bits per character) of the secret. */
    entropy: z.number().min(0).max(8).optional(),
    /** Rule-specific allow rules. */
    allow: z.array(allowSchema.partial({ id: true })).optional(),
    /** File paths this rule applies to (regex); default: all. */
    path: z.string().optional(),
  })
  .strict()
  .refine((r) => Boolean(r.regex) !== Boolean(r.assign), {
    message: 'a rule needs exactly one of regex or assign',
  });

export type SecretRuleSpec = z.infer<typeof ruleSchema>;
export type AllowRuleSpec = z.infer<typeof allowSchema>;

const configSchema = z
  .object({
    rules: z.array(ruleSchema).optional(),
    'allow-rules': z.array(allowSchema).optional(),
    'disable-rules': z.array(z.string()).optional(),
    'disable-allow-rules': z.array(z.string()).optional(),
    'enable-builtin-rules': z.array(z.string()).optional(),
  })
  .strict();

export type SecretConfig = z.infer<typeof configSchema>;

export interface CompiledAllow {
  id: string;
  regex?: RegExp;
  match?: RegExp;
  path?: RegExp;
  stopwords?: string[];
}

export interface CompiledRule {
  id: string;
  category: string;
  title: string;
  severity: Severity;
  /** Lower-case keywords; the rule runs only on content containing one of them. Empty = always. */
  keywords: string[];
  regexes: RegExp[];
  entropy?: number;
  allow: CompiledAllow[];
  path?: RegExp;
}

/**
 * The assignment operator of common syntaxes (=, :, :=, =>, ||, ?=, ",", XML's ">") with the quotes
 * and spaces around it. Rules may use it in `regex` as `{{OP}}`. It does not cross lines except
 * after ">" (XML elements put values on their own line).
 */
const ASSIGN_OP = `(?:[ \\t\\w.-]{0,20})[ \\t'"]{0,3}(?:>\\s{0,12}|(?:=|>|:{1,3}=|\\|\\||:|=>|\\?=|,)[\\x60'"\\t =]{0,5})`;
/** What may follow a secret value: a quote, space, separator, escaped newline or the end. */
const ASSIGN_END = `(?=[\\x60'"\\s;,<]|\\\\[nrt]|$)`;

export function assignmentRegex(key: string, value: string): string {
  return `(?:${key})${ASSIGN_OP}(?<secret>${value})${ASSIGN_END}`;
}

function expandMacros(source: string): string {
  return source.replaceAll('{{OP}}', ASSIGN_OP).replaceAll('{{END}}', ASSIGN_END);
}

function compileRegex(source: string, flags: string, where: string): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (e) {
    throw new BulwarkError('PARSE', `${where}: invalid regular expression: ${(e as Error).message}`, {
      subject: where,
    });
  }
}

function compileAllow(a: Partial<AllowRuleSpec>, where: string): CompiledAllow {
  return {
    id: a.id ?? 'rule-allow',
    // case-sensitive: constants (FOO_BAR), key names (fooId) and hex ids are told apart by case
    regex: a.regex ? compileRegex(a.regex, '', `${where} allow regex`) : undefined,
    match: a.match ? compileRegex(a.match, '', `${where} allow match`) : undefined,
    path: a.path ? compileRegex(a.path, 'i', `${where} allow path`) : undefined,
    stopwords: a.stopwords?.map((s) => s.toLowerCase()),
  };
}

export function compileRule(r: SecretRuleSpec, source: string): CompiledRule {
  const where = `${source}: rule ${r.id}`;
  const sources = r.assign
    ? [assignmentRegex(r.assign.key, r.assign.value)]
    : ([] as string[]).concat(r.regex ?? []).map(expandMacros);
  const flags = r.assign ? 'i' : (r.flags ?? '');
  const keywords = (r.keywords ?? (r.assign ? r.assign.key.split('|') : [])).map((k) => k.toLowerCase());
  if (r.assign && keywords.some((k) => /[^a-z0-9_ .-]/.test(k))) {
    throw new BulwarkError('PARSE', `${where}: assignment keys with regex syntax need explicit keywords`, {
      subject: source,
    });
  }
  return {
    id: r.id,
    category: r.category,
    title: r.title,
    severity: r.severity,
    keywords,
    // Without a named group `secret`, the whole match is the secret.
    regexes: sources.map((s) => compileRegex(s, 'g' + flags, where)),
    entropy: r.entropy,
    allow: (r.allow ?? []).map((a) => compileAllow(a, where)),
    path: r.path ? compileRegex(r.path, 'i', `${where} path`) : undefined,
  };
}

function parseRuleFile(text: string | { data: unknown }, source: string): SecretConfig {
  let doc: unknown;
  try {
    doc = typeof text === 'string' ? parseYaml(text) : text.data;
  } catch (e) {
    throw new BulwarkError('PARSE', `${source}: invalid YAML: ${(e as Error).message}`, { subject: source });
  }
  const parsed = configSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BulwarkError('PARSE', `${source}: ${issue.path.join('.') || '(top)'}: ${issue.message}`, {
      subject: source,
    });
  }
  return parsed.data;
}

const BUILTIN_PATH = fileURLToPath(new URL('../../policies/secrets/builtin.yaml', import.meta.url));

let builtinCache: { rules: CompiledRule[]; allow: CompiledAllow[] } | undefined;

export function builtinRules(): { rules: CompiledRule[]; allow: CompiledAllow[] } {
  if (!builtinCache) {
    let data: unknown;
    try {
      data = readYamlData(BUILTIN_PATH);
    } catch (e) {
      throw new BulwarkError('PARSE', `builtin secret rules: invalid YAML: ${(e as Error).message}`);
    }
    const cfg = parseRuleFile({ data }, 'builtin secret rules');
    const ids = new Set<string>();
    for (const r of cfg.rules ?? []) {
      if (ids.has(r.id)) throw new BulwarkError('PARSE', `builtin secret rules: duplicate rule id ${r.id}`);
      ids.add(r.id);
    }
    builtinCache = {
      rules: (cfg.rules ?? []).map((r) => compileRule(r, 'builtin')),
      allow: (cfg['allow-rules'] ?? []).map((a) => compileAllow(a, 'builtin')),
    };
  }
  return builtinCache;
}

export interface RuleSet {
  rules: CompiledRule[];
  allow: CompiledAllow[];
}

/** Built-in rules merged with a user's config file (Trivy's secret config keys). */
export function loadRuleSet(configPath?: string): RuleSet {
  const builtin = builtinRules();
  if (!configPath) return { rules: builtin.rules, allow: builtin.allow };
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (e) {
    throw new BulwarkError(
      'NOT_FOUND',
      `secret config ${configPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      {
        subject: configPath,
      },
    );
  }
  return mergeConfig(builtin, parseRuleFile(text, configPath), configPath);
}

export function mergeConfig(builtin: RuleSet, cfg: SecretConfig, source: string): RuleSet {
  const known = new Set(builtin.rules.map((r) => r.id));
  for (const id of [...(cfg['disable-rules'] ?? []), ...(cfg['enable-builtin-rules'] ?? [])]) {
    if (!known.has(id))
      throw new BulwarkError('PARSE', `${source}: unknown built-in secret rule "${id}"`, { subject: source });
  }
  const enabled = cfg['enable-builtin-rules'] ? new Set(cfg['enable-builtin-rules']) : undefined;
  const disabled = new Set(cfg['disable-rules'] ?? []);
  const disabledAllow = new Set(cfg['disable-allow-rules'] ?? []);
  const custom = (cfg.rules ?? []).map((r) => compileRule(r, source));
  const customIds = new Set(custom.map((r) => r.id));
  const rules = [
    ...builtin.rules.filter(
      (r) => (!enabled || enabled.has(r.id)) && !disabled.has(r.id) && !customIds.has(r.id),
    ),
    ...custom.filter((r) => !disabled.has(r.id)),
  ];
  const allow = [
    ...builtin.allow.filter((a) => !disabledAllow.has(a.id)),
    ...(cfg['allow-rules'] ?? []).map((a) => compileAllow(a, source)),
  ];
  return { rules, allow };
}
