/**
 * The pure benchmark evaluator, with kube-bench's semantics (check/test.go, check/check.go):
 *
 * - a test item looks for its `flag` in the audit output; when not found and the check has an
 *   audit_config, its `path` in the config output (YAML or JSON); when still not found and it has
 *   an `env`, `NAME=value` in the audit_env output;
 * - `set` (default true) requires presence (and `compare`, when it has an op), `set: false` absence;
 * - items combine with bin_op and (default) / or; an unknown bin_op is an error;
 * - type manual → WARN, skip → INFO; a check without tests is FAIL when scored, else WARN; a failing
 *   check is FAIL when scored, else WARN.
 *
 * Nothing here touches the system: the collectors produce the audit outputs (see collect.ts).
 */
import { parse as parseYaml } from 'yaml';
import { executeJsonPath } from './jsonpath.js';
import type {
  AuditOutputs,
  BenchCheck,
  Benchmark,
  BenchmarkReport,
  CheckResult,
  CheckState,
  Facts,
  SubjectFacts,
  SubjectResult,
  TestItem,
  Tests,
} from './types.js';

/** Which audit output a test item was last evaluated on (decides the name it is reported by). */
type AuditUsed = 'audit' | 'config' | 'env';

export interface TestOutput {
  testResult: boolean;
  flagFound: boolean;
  expectedResult: string;
  actualResult: string;
  error?: string;
}

/** kube-bench stores compare values as strings: YAML `false` is "false", `0` is "0". */
export function compareValueString(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function toInt(s: string): number | undefined {
  const t = s.trim();
  return /^[+-]?\d+$/.test(t) ? Number(t) : undefined;
}

function splitList(s: string, sep = ','): string[] {
  const clean = s.endsWith(sep) ? s.slice(0, -sep.length) : s;
  return clean.split(sep).map((x) => x.trim());
}

const regexCache = new Map<string, RegExp>();
function regex(src: string): RegExp {
  let r = regexCache.get(src);
  if (!r) {
    r = new RegExp(src);
    regexCache.set(src, r);
  }
  return r;
}

/**
 * Applies a compare operator; returns the expected-result text (kube-bench's wording) and whether
 * the value passes. An unknown operator yields ('', false).
 */
export function compareOp(
  op: string,
  flagVal: string,
  compareValue: string,
  flagName: string,
): [string, boolean] {
  const fmt = (pattern: string) => pattern.replace('%s', flagName).replace('%s', compareValue);
  switch (op) {
    case 'eq':
    case 'noteq': {
      const lower = flagVal.toLowerCase();
      // booleans compare case-insensitively on the flag's side
      const eq = lower === 'false' || lower === 'true' ? lower === compareValue : flagVal === compareValue;
      return op === 'eq' ? [fmt("'%s' is equal to '%s'"), eq] : [fmt("'%s' is not equal to '%s'"), !eq];
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const a = toInt(flagVal);
      const b = toInt(compareValue);
      if (a === undefined || b === undefined)
        return [`Invalid Number(s) used for comparison: '${flagVal}' '${compareValue}'`, false];
      if (op === 'gt') return [fmt("'%s' is greater than %s"), a > b];
      if (op === 'gte') return [fmt("'%s' is greater or equal to %s"), a >= b];
      if (op === 'lt') return [fmt("'%s' is lower than %s"), a < b];
      return [fmt("'%s' is lower or equal to %s"), a <= b];
    }
    case 'has':
      return [fmt("'%s' has '%s'"), flagVal.includes(compareValue)];
    case 'nothave':
      return [fmt("'%s' does not have '%s'"), !flagVal.includes(compareValue)];
    case 'regex': {
      let r: RegExp;
      try {
        r = regex(compareValue);
      } catch (e) {
        return [`invalid regex '${compareValue}': ${(e as Error).message}`, false];
      }
      return [fmt("'%s' matched by regex expression '%s'"), r.test(flagVal)];
    }
    case 'valid_elements': {
      const source = splitList(flagVal);
      const target = new Set(splitList(compareValue));
      return [fmt("'%s' contains valid elements from '%s'"), source.every((s) => target.has(s))];
    }
    case 'bitmask': {
      if (!/^[0-7]+$/.test(flagVal)) return [`Not numeric value - flag: ${flagVal}`, false];
      if (!/^[0-7]+$/.test(compareValue)) return [`Not numeric value - flag: ${compareValue}`, false];
      const requested = parseInt(flagVal, 8);
      const max = parseInt(compareValue, 8);
      return [
        `${flagName} has permissions ${flagVal}, expected ${compareValue} or more restrictive`,
        (max & requested) === requested,
      ];
    }
    default:
      return ['', false];
  }
}

const flagRegexCache = new Map<string, RegExp | null>();
function flagRegex(flag: string): RegExp | null {
  let r = flagRegexCache.get(flag);
  if (r === undefined) {
    // kube-bench builds the pattern from the flag unescaped; a flag that is not a valid pattern
    // is matched literally instead of failing
    const body = `(=|: *)*([^\\s]*) *`;
    try {
      r = new RegExp(`(${flag})${body}`);
    } catch {
      r = new RegExp(`(${flag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})${body}`);
    }
    flagRegexCache.set(flag, r);
  }
  return r;
}

/** The value of a flag in command-line style text: --flag=v, flag: v, --flag (true), or the flag text. */
export function findFlag(s: string, flag: string): { match: boolean; value: string } {
  if (s === '' || flag === '') return { match: false, value: '' };
  if (!s.includes(flag)) return { match: false, value: '' };
  const m = flagRegex(flag)!.exec(s);
  if (!m) return { match: true, value: '' };
  const v = m[m.length - 1] ?? '';
  if (v !== '') return { match: true, value: v };
  return { match: true, value: flag.startsWith('--') ? 'true' : (m[1] ?? '') };
}

const docCache = new Map<string, { doc?: unknown; error?: string }>();

/** Forgets parsed config documents and compiled patterns (benchmarks measure cold evaluation). */
export function clearEvaluatorCaches(): void {
  docCache.clear();
  regexCache.clear();
  flagRegexCache.clear();
}
/** Parses a config output as JSON, else YAML (kube-bench's unmarshal); cached per text. */
export function parseConfigDoc(s: string): { doc?: unknown; error?: string } {
  let r = docCache.get(s);
  if (r) return r;
  try {
    r = { doc: JSON.parse(s) };
  } catch {
    try {
      r = { doc: parseYaml(s) as unknown };
    } catch (e) {
      r = { error: `failed to load YAML or JSON from input: ${(e as Error).message.split('\n')[0]}` };
    }
  }
  if (docCache.size > 256) docCache.clear();
  docCache.set(s, r);
  return r;
}

function findValue(
  item: TestItem,
  used: AuditUsed,
  s: string,
): { match: boolean; value: string; error?: string } {
  if (used === 'env') {
    if (s === '' || !item.env) return { match: false, value: '' };
    for (const line of s.split('\n')) {
      const i = line.indexOf(`${item.env}=`);
      if (i >= 0) {
        const value = line.slice(i + item.env.length + 1);
        return { match: value.length > 0, value };
      }
    }
    return { match: false, value: '' };
  }
  if (used === 'config') {
    if (!item.path) return { match: false, value: '' };
    const p = parseConfigDoc(s);
    if (p.error !== undefined) return { match: false, value: '', error: p.error };
    try {
      const value = executeJsonPath(item.path, p.doc);
      return { match: value !== '', value };
    } catch (e) {
      return {
        match: false,
        value: '',
        error: `unable to parse path expression "${item.path}": ${(e as Error).message}`,
      };
    }
  }
  return findFlag(s, item.flag ?? '');
}

function itemName(item: TestItem, used: AuditUsed): string {
  return used === 'config' ? (item.path ?? '') : used === 'env' ? (item.env ?? '') : (item.flag ?? '');
}

function evaluateOne(item: TestItem, used: AuditUsed, s: string): TestOutput {
  const { match, value, error } = findValue(item, used, s);
  if (error !== undefined)
    return { testResult: false, flagFound: false, expectedResult: error, actualResult: s, error };
  const name = itemName(item, used);
  const set = item.set ?? true;
  let expectedResult: string;
  let testResult: boolean;
  if (set) {
    const op = item.compare?.op ?? '';
    if (match && op !== '')
      [expectedResult, testResult] = compareOp(op, value, compareValueString(item.compare?.value), name);
    else [expectedResult, testResult] = [`'${name}' is present`, match];
  } else [expectedResult, testResult] = [`'${name}' is not present`, !match];
  return { testResult, flagFound: match, expectedResult, actualResult: s };
}

/** One test item over one audit output (each line of it when `multiple`). */
export function executeItem(item: TestItem, used: AuditUsed, output: string, multiple = false): TestOutput {
  let end = output.length;
  while (end > 0 && (output[end - 1] === ' ' || output[end - 1] === '\n')) end--;
  const s = end === output.length ? output : output.slice(0, end);
  const rows = multiple ? s.split('\n') : [s];
  let r: TestOutput = { testResult: false, flagFound: false, expectedResult: '', actualResult: s };
  for (const row of rows) {
    r = evaluateOne(item, used, row);
    if (!r.testResult) break;
  }
  return { ...r, actualResult: s };
}

/** Runs a check's tests over its audit outputs (kube-bench's Check.execute). */
export function executeTests(
  tests: Tests,
  out: AuditOutputs,
  opts: { hasAuditConfig: boolean; multiple?: boolean },
): TestOutput {
  const results = tests.test_items.map((item) => {
    let r = executeItem(item, 'audit', out.audit, opts.multiple);
    if (!r.flagFound && opts.hasAuditConfig) {
      r = executeItem(item, 'config', out.auditConfig, opts.multiple);
      if (!r.flagFound && item.env) r = executeItem(item, 'env', out.auditEnv, opts.multiple);
    }
    if (!r.flagFound && item.env) r = executeItem(item, 'env', out.auditEnv, opts.multiple);
    return r;
  });
  const binOp = tests.bin_op ?? '';
  if (binOp !== '' && binOp !== 'and' && binOp !== 'or') {
    const msg = `unknown binary operator for tests ${binOp}`;
    return { testResult: false, flagFound: false, expectedResult: '', actualResult: msg, error: msg };
  }
  const isOr = binOp === 'or';
  const testResult = isOr ? results.some((r) => r.testResult) : results.every((r) => r.testResult);
  const errors = results.filter((r) => r.error).map((r) => r.error);
  return {
    testResult,
    flagFound: results.some((r) => r.flagFound),
    expectedResult: results.map((r) => r.expectedResult).join(isOr ? ' OR ' : ' AND '),
    actualResult: results[0]?.actualResult || out.audit,
    ...(errors.length && !testResult ? { error: errors.join('; ') } : {}),
  };
}

const SECRET_FLAG = /((?:^|\s)--?[\w.-]*(?:token|password|passwd|secret|credential)[\w.-]*[=\s:]+)(\S+)/gi;
const SECRET_KEY = /("?[\w.-]*(?:token|password|passwd|secret|credential)[\w.-]*"?\s*:\s*)("[^"]*"|\S+)/gi;

/**
 * The audit output shown as a check's actual value: bounded (4 KiB), with the values of flags and
 * keys that name tokens, passwords, secrets or credentials replaced by ***. Per-container and
 * per-image checks show none (an inspect document carries the container's environment).
 */
export function redactActual(s: string): string {
  const cut = s.length > 4096 ? `${s.slice(0, 4096)}…` : s;
  return cut.replace(SECRET_FLAG, '$1***').replace(SECRET_KEY, '$1***');
}

/** The verdict of one check on one subject's audit outputs (kube-bench's Check.run). */
export function runCheck(check: BenchCheck, out: AuditOutputs): SubjectResult {
  const failState: CheckState = check.scored ? 'FAIL' : 'WARN';
  if (check.type === 'skip') return { state: 'INFO', reason: 'skipped' };
  if (check.type === 'manual') return { state: 'WARN', reason: 'manual check' };
  if (!check.tests || !check.tests.test_items?.length)
    return { state: failState, reason: 'No tests defined' };
  if (check.absent === 'info' && !out.audit && !out.auditConfig && !out.auditEnv)
    return { state: 'INFO', reason: out.error ?? 'not found' };
  if (out.error !== undefined && !out.audit && !out.auditConfig && !out.auditEnv)
    return { state: failState, reason: out.error };
  if (check.applicable) {
    const a = executeTests(check.applicable, out, { hasAuditConfig: Boolean(check.audit_config) });
    if (!a.testResult) return { state: 'INFO', reason: `not applicable: ${a.expectedResult}` };
  }
  const r = executeTests(check.tests, out, {
    hasAuditConfig: Boolean(check.audit_config),
    multiple: check.use_multiple_values,
  });
  return {
    state: r.testResult ? 'PASS' : failState,
    expected: r.expectedResult,
    ...(check.scope === 'container' || check.scope === 'image'
      ? {}
      : { actual: redactActual(r.actualResult) }),
    ...(!r.testResult && (r.error ?? out.error) ? { reason: (r.error ?? out.error)! } : {}),
  };
}

/** Replaces $name variables (longest name first) in an audit source. */
export function substitute(source: string, vars: Record<string, string>): string {
  return source.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, name: string) => vars[name] ?? m);
}

function outputsFor(check: BenchCheck, subject: SubjectFacts, vars: Record<string, string>): AuditOutputs {
  const get = (src: string | undefined): [string, string | undefined] => {
    if (!src) return ['', undefined];
    const key = substitute(src, vars);
    return [subject.outputs[key] ?? '', subject.errors?.[key]];
  };
  const [audit, e1] = get(check.audit);
  const [auditConfig, e2] = get(check.audit_config);
  const [auditEnv, e3] = get(check.audit_env);
  const error = e1 ?? e2 ?? e3;
  return { audit, auditConfig, auditEnv, ...(error !== undefined ? { error } : {}) };
}

const STATE_RANK: Record<CheckState, number> = { INFO: 0, PASS: 1, WARN: 2, FAIL: 3 };

/** Evaluates one check against the facts: once for the host, or per container / image. */
export function evaluateCheck(check: BenchCheck, group: string, facts: Facts): CheckResult {
  const scope = check.scope ?? 'host';
  const base = {
    id: check.id,
    text: check.text,
    group,
    scored: check.scored ?? false,
    scope,
    ...(check.type ? { type: check.type } : {}),
    ...(check.remediation ? { remediation: substitute(check.remediation.trim(), facts.vars) } : {}),
  };
  if (scope === 'host') {
    const r = runCheck(check, outputsFor(check, facts.host, facts.vars));
    return { ...base, ...r };
  }
  const subjects = (scope === 'container' ? facts.containers : facts.images).map((s) => ({
    ...(s.id ? { id: s.id } : {}),
    ...(s.name ? { name: s.name } : {}),
    ...runCheck(check, outputsFor(check, s, facts.vars)),
  }));
  if (!subjects.length)
    return { ...base, state: 'INFO', reason: facts.host.errors?.[scope] ?? `no running ${scope}s`, subjects };
  // the worst subject decides: one failing container fails the check (as docker-bench does)
  const worst = subjects.reduce((a, b) => (STATE_RANK[b.state] > STATE_RANK[a.state] ? b : a));
  return {
    ...base,
    state: worst.state,
    ...(worst.expected !== undefined ? { expected: worst.expected } : {}),
    ...(worst.reason !== undefined ? { reason: worst.reason } : {}),
    subjects,
  };
}

/** Evaluates every check of a benchmark against the collected facts. */
export function evaluateBenchmark(bench: Benchmark, facts: Facts, now = new Date()): BenchmarkReport {
  const totals = { pass: 0, fail: 0, warn: 0, info: 0 };
  const groups = bench.groups.map((g) => {
    const checks = g.checks.map((c) => evaluateCheck(c, g.id, facts));
    for (const c of checks) totals[c.state.toLowerCase() as keyof typeof totals]++;
    return { id: g.id, text: g.text, checks };
  });
  return {
    benchmark: {
      id: bench.id,
      title: bench.title,
      ...(bench.version ? { version: bench.version } : {}),
      target: bench.target,
      ...(bench.source ? { source: bench.source } : {}),
    },
    root: facts.root,
    createdAt: now.toISOString(),
    totals,
    groups,
  };
}

/** Every audit source (after variable substitution) a benchmark's checks need, per scope. */
export function auditSources(
  bench: Benchmark,
  vars: Record<string, string>,
): Record<'host' | 'container' | 'image', Set<string>> {
  const out = { host: new Set<string>(), container: new Set<string>(), image: new Set<string>() };
  for (const g of bench.groups)
    for (const c of g.checks) {
      if (c.type === 'manual' || c.type === 'skip') continue;
      for (const src of [c.audit, c.audit_config, c.audit_env])
        if (src) out[c.scope ?? 'host'].add(substitute(src, vars));
    }
  return out;
}
