/**
 * Loads check files (YAML, validated with zod) and compiles every CEL expression once.
 *
 * A check file is a YAML document with a `checks:` list; see docs/policy.md. Errors name the file,
 * the line, the check id and, for CEL, the position inside the expression.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CelScalar,
  celEnv,
  celMethod,
  isCelError,
  listType,
  parse,
  plan,
  type CelEnv,
  type CelList,
} from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { RE2JS } from '@bufbuild/re2';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { BulwarkError } from '../core/errors.js';
import { SEVERITIES } from '../core/types.js';
import { parseFieldPath } from './path.js';
import { SCOPES, type CheckSpec, type CompiledCheck, type PathSeg } from './types.js';

/** Kinds that carry a pod spec (directly or in a template). */
export const WORKLOAD_KINDS = [
  'Pod',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'ReplicationController',
  'Job',
  'CronJob',
  'PodTemplate',
];
const KIND_GROUPS: Record<string, string[]> = { Workload: WORKLOAD_KINDS };

const complianceSchema = z.object({ framework: z.string().min(1), control: z.string().min(1) }).strict();

export const checkSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only'),
    title: z.string().min(1),
    severity: z.enum(SEVERITIES),
    description: z.string().min(1),
    remediation: z.string().min(1),
    kinds: z.array(z.string().min(1)).min(1),
    scope: z.enum(SCOPES).default('resource'),
    deny: z.string().min(1),
    message: z.string().optional(),
    each: z.string().optional(),
    field: z.string().optional(),
    podField: z.string().optional(),
    references: z.array(z.string()).default([]),
    compliance: z.array(complianceSchema).default([]),
  })
  .strict();

const fileSchema = z.object({ checks: z.array(z.unknown()) }).strict();

/**
 * RE2 (linear time, as CEL specifies) with compiled patterns cached: the standard `matches()`
 * recompiles its pattern on every call, which dominated evaluation time. Bounded, since a pattern
 * may come from the evaluated data.
 */
const RE2_CACHE_MAX = 2048;
const re2Cache = new Map<string, { test(s: string): boolean }>();
const cachedRe2 = {
  compile(pattern: string) {
    let m = re2Cache.get(pattern);
    if (!m) {
      if (re2Cache.size >= RE2_CACHE_MAX) re2Cache.clear();
      m = RE2JS.compile(pattern);
      re2Cache.set(pattern, m);
    }
    return m;
  },
};

/**
 * Bulwark's CEL functions (documented in docs/policy.md):
 * - `list.lastMatch(pattern)`: index of the last string element matching the RE2 pattern, or -1.
 *   Order-aware checks use it, e.g. "the last install comes after the last cache clean".
 */
const bulwarkFuncs = [
  celMethod(
    'lastMatch',
    listType(CelScalar.STRING),
    [CelScalar.STRING],
    CelScalar.INT,
    function (this: CelList, pattern: string) {
      const re = cachedRe2.compile(pattern);
      let last = -1;
      for (let i = 0; i < this.size; i++) {
        const v = this.get(i);
        if (typeof v === 'string' && re.test(v)) last = i;
      }
      return BigInt(last);
    },
  ),
];

let sharedEnv: CelEnv | undefined;
/** The CEL environment: standard library, the strings extension, Bulwark's functions, cached RE2. */
export function policyEnv(): CelEnv {
  sharedEnv ??= celEnv({ funcs: [...strings, ...bulwarkFuncs], re2: cachedRe2 });
  return sharedEnv;
}

/** The directory of built-in checks and frameworks shipped with the package. */
export function builtinPolicyDir(): string {
  // dist/policy/load.js and src/policy/load.ts both sit two levels below the package root.
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'policies');
}

type Compiled = (vars: Record<string, unknown>) => unknown;

/** The variable that holds a scope's item (for `each:`). */
const SCOPE_ITEM_VAR: Record<string, string> = {
  resource: 'object',
  pod: 'spec',
  container: 'container',
  volume: 'volume',
  rule: 'rule',
  instruction: 'instruction',
  stage: 'stage',
};

/** Parses and plans a CEL expression; throws a message with the expression position on error. */
function compileCel(expr: string): Compiled {
  let ast;
  try {
    ast = parse(expr);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    // The parser reports "<input>:LINE:COL: message".
    const m = /^<input>:(\d+):(\d+):\s*([\s\S]*)$/.exec(msg);
    throw new Error(m ? `CEL syntax error at ${m[1]}:${m[2]}: ${m[3]}` : `CEL syntax error: ${msg}`, {
      cause: e,
    });
  }
  const fn = plan(policyEnv(), ast);
  return (vars) => fn(vars as never);
}

function compileTemplate(tpl: string): (vars: Record<string, unknown>) => string {
  const parts: (string | Compiled)[] = [];
  let rest = tpl;
  for (;;) {
    const open = rest.indexOf('{{');
    if (open < 0) break;
    const close = rest.indexOf('}}', open);
    if (close < 0) throw new Error('unterminated "{{" in message');
    if (open > 0) parts.push(rest.slice(0, open));
    parts.push(compileCel(rest.slice(open + 2, close).trim()));
    rest = rest.slice(close + 2);
  }
  if (rest) parts.push(rest);
  return (vars) =>
    parts
      .map((p) => {
        if (typeof p === 'string') return p;
        const v = p(vars);
        if (isCelError(v)) return '?';
        return formatCelValue(v);
      })
      .join('');
}

function formatCelValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object' && Symbol.iterator in v)
    return `[${[...(v as Iterable<unknown>)].map(formatCelValue).join(', ')}]`;
  return String(v);
}

/** Compiles one validated check. Throws Error with a message naming the failing part. */
export function compileCheck(spec: CheckSpec, source: string, builtin: boolean): CompiledCheck {
  const kinds = [...new Set(spec.kinds.flatMap((k) => KIND_GROUPS[k] ?? [k]))];
  let deny: Compiled;
  try {
    deny = compileCel(spec.deny);
  } catch (e) {
    throw new Error(`deny: ${(e as Error).message}`, { cause: e });
  }
  let render: (vars: Record<string, unknown>) => string;
  try {
    render = spec.message ? compileTemplate(spec.message) : () => spec.title;
  } catch (e) {
    throw new Error(`message: ${(e as Error).message}`, { cause: e });
  }
  let fieldPath;
  try {
    fieldPath = spec.field ? parseFieldPath(spec.field) : [];
  } catch (e) {
    throw new Error(`field: ${(e as Error).message}`, { cause: e });
  }
  let podFieldPath: PathSeg[] | undefined;
  if (spec.podField) {
    if (spec.scope !== 'container')
      throw new Error('podField: only container-scope checks inherit pod settings');
    try {
      podFieldPath = parseFieldPath(spec.podField);
    } catch (e) {
      throw new Error(`podField: ${(e as Error).message}`, { cause: e });
    }
  }
  let each: { eachVar: string; eachPath: PathSeg[] } | undefined;
  if (spec.each) {
    let segs: PathSeg[];
    try {
      segs = parseFieldPath(spec.each);
    } catch (e) {
      throw new Error(`each: ${(e as Error).message}`, { cause: e });
    }
    const want = SCOPE_ITEM_VAR[spec.scope];
    if (segs[0] !== want || segs.length < 2)
      throw new Error(
        `each: must name a list below "${want}" (the ${spec.scope} scope's item), e.g. ${want}.items`,
      );
    each = { eachVar: want, eachPath: segs.slice(1) };
  }
  return {
    ...spec,
    kinds,
    source,
    builtin,
    fieldPath,
    ...(podFieldPath ? { podFieldPath } : {}),
    ...each,
    render,
    evaluate(vars) {
      const r = deny(vars);
      if (typeof r === 'boolean') return r;
      if (isCelError(r)) return r;
      return new Error(`deny evaluated to ${typeof r}, not a bool`);
    },
  };
}

function lineOf(doc: Document, lc: LineCounter, path: (string | number)[]): number | undefined {
  const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  return node?.range ? lc.linePos(node.range[0]).line : undefined;
}

/** Parses and compiles the checks of one file's text. */
export function loadCheckText(text: string, source: string, builtin = false): CompiledCheck[] {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const pos = lc.linePos(e.pos[0]);
    throw new BulwarkError(
      'PARSE',
      `${source}:${pos.line}:${pos.col}: invalid YAML: ${e.message.split('\n')[0]}`,
      {
        subject: source,
      },
    );
  }
  const top = fileSchema.safeParse(doc.toJS());
  if (!top.success) {
    throw new BulwarkError(
      'PARSE',
      `${source}: a check file needs a top-level "checks:" list (${z.prettifyError(top.error).replace(/\n/g, ' ')})`,
      {
        subject: source,
      },
    );
  }
  const out: CompiledCheck[] = [];
  top.data.checks.forEach((raw, i) => {
    const id =
      raw && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string'
        ? (raw as { id: string }).id
        : `#${i + 1}`;
    const line = lineOf(doc, lc, ['checks', i]);
    const where = `${source}${line ? `:${line}` : ''}: check ${id}`;
    const parsed = checkSchema.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .map((iss) => `${iss.path.join('.') || '(check)'}: ${iss.message}`)
        .join('; ');
      throw new BulwarkError('PARSE', `${where}: ${issues}`, { subject: source });
    }
    try {
      out.push(compileCheck(parsed.data as CheckSpec, source, builtin));
    } catch (e) {
      const field = (e as Error).message.split(':')[0]!;
      const fl = lineOf(doc, lc, ['checks', i, field]);
      throw new BulwarkError(
        'PARSE',
        `${source}${fl ? `:${fl}` : line ? `:${line}` : ''}: check ${id}: ${(e as Error).message}`,
        {
          subject: source,
        },
      );
    }
  });
  return out;
}

function yamlFilesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) {
        if (name !== 'frameworks' && !name.startsWith('.')) walk(p);
      } else if (/\.ya?ml$/.test(name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Folders of policies/ that hold check files (others, such as secrets/ and frameworks/, do not). */
const BUILTIN_CHECK_DIRS = ['kubernetes', 'docker'];

export interface LoadOptions {
  /** Extra check directories or files (`--policy`). */
  extra?: string[];
  /** Skip the built-in checks. */
  noBuiltin?: boolean;
}

/** Loads the built-in checks and any user check files; duplicate ids are an error. */
export function loadChecks(opts: LoadOptions = {}): CompiledCheck[] {
  const checks: CompiledCheck[] = [];
  const add = (path: string, builtin: boolean, base: string) => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new BulwarkError(
        'NOT_FOUND',
        `cannot read check file ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`,
        { subject: path },
      );
    }
    const source = builtin ? `policies/${relative(base, path)}` : path;
    checks.push(...loadCheckText(text, source, builtin));
  };
  if (!opts.noBuiltin) {
    const dir = builtinPolicyDir();
    for (const sub of BUILTIN_CHECK_DIRS) for (const f of yamlFilesUnder(join(dir, sub))) add(f, true, dir);
  }
  for (const p of opts.extra ?? []) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new BulwarkError('NOT_FOUND', `policy path ${p} does not exist`, { subject: p });
    }
    const files = st.isDirectory() ? yamlFilesUnder(p) : [p];
    if (st.isDirectory() && !files.length)
      throw new BulwarkError('NOT_FOUND', `no .yaml check files in ${p}`, { subject: p });
    for (const f of files) add(f, false, p);
  }
  const seen = new Map<string, string>();
  for (const c of checks) {
    const prev = seen.get(c.id);
    if (prev)
      throw new BulwarkError('PARSE', `check id ${c.id} is defined twice: ${prev} and ${c.source}`, {
        subject: c.source,
      });
    seen.set(c.id, c.source);
  }
  return checks;
}
