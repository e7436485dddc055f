/**
 * Response policies (#10): which runtime events trigger which actions, as YAML a security team
 * owns. Validated on load with file:line:column, like profiles.
 *
 *   apiVersion: bulwark.dev/v1alpha1
 *   kind: ResponsePolicy
 *   responses:
 *     - name: kill-shells-in-web
 *       match:                       # every key given must match (lists: any of them)
 *         kinds: [alert, deviation]  # default: both
 *         rules: ["Run shell untrusted", "Redirect STDOUT/STDIN*"]   # globs on the alert's rule
 *         priority: Error            # at or above (Falco's priorities)
 *         tags: [T1059]              # any of the alert's tags
 *         workloads: ["image:*:web"] # globs on the workload id (runtime/profile workloadId)
 *         deviations: [exe, network] # deviation types
 *       actions: [kill]              # kill | pause | quarantine | capture
 *       pauseSeconds: 0              # pause: resume by itself after N s (0: until resumed)
 *       quarantineSeconds: 0         # quarantine: release by itself after N s (0: until released)
 *       capture: { seconds: 30, files: 4, mb: 1 }   # capture: duration and ring bound (defaults)
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';

export const RESPONSE_ACTIONS = ['kill', 'pause', 'quarantine', 'capture'] as const;
export type ResponseAction = (typeof RESPONSE_ACTIONS)[number];
export const PRIORITY_ORDER = [
  'Debug',
  'Informational',
  'Notice',
  'Warning',
  'Error',
  'Critical',
  'Alert',
  'Emergency',
] as const;

export interface ResponseRule {
  name: string;
  match: {
    kinds?: ('alert' | 'deviation')[];
    rules?: string[];
    priority?: (typeof PRIORITY_ORDER)[number];
    tags?: string[];
    workloads?: string[];
    deviations?: string[];
  };
  actions: ResponseAction[];
  pauseSeconds: number;
  quarantineSeconds: number;
  /** capture: how long (it stops by itself) and the ring's bound: files × mb */
  capture: { seconds: number; files: number; mb: number };
  /** where it was defined, for audit records */
  source: string;
}

export interface PolicyIssue {
  file: string;
  line: number;
  column: number;
  message: string;
}

export class ResponsePolicyError extends Error {
  constructor(readonly issues: PolicyIssue[]) {
    issues.sort((a, b) => a.line - b.line || a.column - b.column);
    super(issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.message}`).join('\n'));
    this.name = 'ResponsePolicyError';
  }
}

/** What a rule matches against: an alert or a deviation, as the agent has them. */
export interface TriggerEvent {
  kind: 'alert' | 'deviation';
  rule?: string;
  priority?: string;
  tags?: string[];
  workload?: string;
  deviation?: string;
}

/** Glob with * (any run) and ? (one character), as Falco's and kubectl's users write them. */
export function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
    's',
  );
  return re.test(s);
}

export function ruleMatches(r: ResponseRule, e: TriggerEvent): boolean {
  const m = r.match;
  if (!(m.kinds ?? ['alert', 'deviation']).includes(e.kind)) return false;
  if (m.rules && !(e.rule !== undefined && m.rules.some((g) => globMatch(g, e.rule!)))) return false;
  if (m.priority) {
    const want = PRIORITY_ORDER.indexOf(m.priority);
    const got = PRIORITY_ORDER.findIndex((p) => p.toLowerCase() === (e.priority ?? '').toLowerCase());
    if (got < want) return false;
  }
  if (m.tags && !m.tags.some((t) => e.tags?.includes(t))) return false;
  if (m.workloads && !(e.workload !== undefined && m.workloads.some((g) => globMatch(g, e.workload!))))
    return false;
  if (m.deviations && !(e.deviation !== undefined && m.deviations.includes(e.deviation))) return false;
  return true;
}

/** Parses and validates a response policy file. */
export function parseResponsePolicy(text: string, file = '<policy>'): ResponseRule[] {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  const issues: PolicyIssue[] = [];
  const at = (n: Node | null | undefined, message: string) => {
    const pos = lc.linePos(n?.range?.[0] ?? 0);
    issues.push({ file, line: pos.line, column: pos.col, message });
  };
  for (const e of doc.errors) {
    const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
    issues.push({ file, line: pos.line, column: pos.col, message: e.message.split('\n')[0]! });
  }
  if (issues.length) throw new ResponsePolicyError(issues);
  const root = doc.contents;
  if (!isMap(root)) {
    at(root, 'a response policy is a mapping (apiVersion, kind, responses)');
    throw new ResponsePolicyError(issues);
  }
  const keys = (m: YAMLMap, allowed: string[], where: string) => {
    const out = new Map<string, Node | null>();
    for (const p of m.items) {
      const k = p.key as Node | null;
      const name = isScalar(k) ? String(k.value) : '';
      if (!allowed.includes(name))
        at(k, `unknown key ${JSON.stringify(name)} in ${where} (expected one of: ${allowed.join(', ')})`);
      else out.set(name, p.value as Node | null);
    }
    return out;
  };
  const strs = (
    n: Node | null | undefined,
    what: string,
    allowed?: readonly string[],
  ): string[] | undefined => {
    if (n === undefined) return undefined;
    if (!isSeq(n)) {
      at(n, `${what}: expected a list`);
      return undefined;
    }
    const out: string[] = [];
    for (const it of n.items as (Node | null)[]) {
      if (!isScalar(it) || typeof it.value !== 'string' || !it.value) at(it, `${what}: expected a string`);
      else if (allowed && !allowed.includes(it.value))
        at(it, `${what}: ${JSON.stringify(it.value)} is not one of ${allowed.join(', ')}`);
      else out.push(it.value);
    }
    return out;
  };
  const top = keys(root, ['apiVersion', 'kind', 'responses'], 'the policy');
  const api = top.get('apiVersion');
  if (!isScalar(api) || api.value !== 'bulwark.dev/v1alpha1')
    at(api ?? root, 'apiVersion: expected bulwark.dev/v1alpha1');
  const kind = top.get('kind');
  if (!isScalar(kind) || kind.value !== 'ResponsePolicy') at(kind ?? root, 'kind: expected ResponsePolicy');
  const rs = top.get('responses');
  const out: ResponseRule[] = [];
  if (!isSeq(rs)) at(rs ?? root, 'responses: expected a list');
  else
    for (const it of rs.items as (Node | null)[]) {
      if (!isMap(it)) {
        at(it, 'responses: each entry is a mapping with name, match, actions');
        continue;
      }
      const k = keys(
        it,
        ['name', 'match', 'actions', 'pauseSeconds', 'quarantineSeconds', 'capture'],
        'a response',
      );
      const nameN = k.get('name');
      const name = isScalar(nameN) && typeof nameN.value === 'string' ? nameN.value : '';
      if (!name) at(nameN ?? it, 'name: expected a non-empty string');
      const pos = lc.linePos(it.range?.[0] ?? 0);
      const rule: ResponseRule = {
        name,
        match: {},
        actions: [],
        pauseSeconds: 0,
        quarantineSeconds: 0,
        capture: { seconds: 30, files: 4, mb: 1 },
        source: `${file}:${pos.line}`,
      };
      const mN = k.get('match');
      if (mN !== undefined) {
        if (!isMap(mN)) at(mN, 'match: expected a mapping');
        else {
          const mk = keys(mN, ['kinds', 'rules', 'priority', 'tags', 'workloads', 'deviations'], 'match');
          const kinds = strs(mk.get('kinds'), 'match.kinds', ['alert', 'deviation']);
          if (kinds) rule.match.kinds = kinds as ('alert' | 'deviation')[];
          const rules = strs(mk.get('rules'), 'match.rules');
          if (rules) rule.match.rules = rules;
          const tags = strs(mk.get('tags'), 'match.tags');
          if (tags) rule.match.tags = tags;
          const wl = strs(mk.get('workloads'), 'match.workloads');
          if (wl) rule.match.workloads = wl;
          const dv = strs(mk.get('deviations'), 'match.deviations', ['exe', 'file', 'network', 'syscall']);
          if (dv) rule.match.deviations = dv;
          const pr = mk.get('priority');
          if (pr !== undefined) {
            const p = PRIORITY_ORDER.find(
              (x) => isScalar(pr) && x.toLowerCase() === String(pr.value).toLowerCase(),
            );
            if (!p) at(pr, `match.priority: expected one of ${PRIORITY_ORDER.join(', ')}`);
            else rule.match.priority = p;
          }
        }
      }
      const acts = strs(k.get('actions'), 'actions', RESPONSE_ACTIONS);
      if (!acts?.length)
        at(k.get('actions') ?? it, 'actions: expected a non-empty list (kill, pause, quarantine, capture)');
      else rule.actions = acts as ResponseAction[];
      const cN = k.get('capture');
      if (cN !== undefined) {
        if (!isMap(cN)) at(cN, 'capture: expected a mapping with seconds, files, mb');
        else
          for (const [ck, cv] of keys(cN, ['seconds', 'files', 'mb'], 'capture')) {
            const f = ck as 'seconds' | 'files' | 'mb';
            const max = { seconds: 3600, files: 100, mb: 1000 }[f];
            const v = isScalar(cv) && typeof cv.value === 'number' ? cv.value : NaN;
            if (v > 0 && v <= max && (f === 'seconds' || Number.isInteger(v))) rule.capture[f] = v;
            else at(cv, `capture.${f}: expected a number in (0, ${max}]${f === 'seconds' ? '' : ', whole'}`);
          }
      }
      for (const f of ['pauseSeconds', 'quarantineSeconds'] as const) {
        const n = k.get(f);
        if (n === undefined) continue;
        if (isScalar(n) && typeof n.value === 'number' && n.value >= 0) rule[f] = n.value;
        else at(n, `${f}: expected a number of seconds >= 0`);
      }
      out.push(rule);
    }
  if (issues.length) throw new ResponsePolicyError(issues);
  return out;
}
