/**
 * Falco rule files → a compiled Ruleset, with Falco's loader semantics:
 *  - read: YAML (multiple documents), items required_engine_version, required_plugin_versions,
 *    list, macro, rule; `append: true` (deprecated) and `override: {key: append|replace}`;
 *    the standalone `enabled` form; exceptions (fields/comps/values); priorities in all Falco
 *    spellings; errors stop the file at the first one, as Falco does;
 *  - collect across files in order (later files override, append to or enable earlier items);
 *  - compile after each file: lists (nested lists by visibility), macros, rules (exceptions
 *    rendered into the condition text, lists substituted in the text, macros resolved by
 *    visibility), outputs, warnings (unused macros/lists, too many event types, fields misused as
 *    values, deprecated evt.dir...).
 * Every issue carries file, line, column, Falco's code, item type and name.
 */
import {
  LineCounter,
  isMap,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Node as YNode,
  type Scalar,
  type YAMLMap,
} from 'yaml';
import type { SyscallEvent } from '../event.js';
import { INTERNAL_EVENTS, SYSCALL_SOURCE } from '../event.js';
import type { StateTracker } from '../state/index.js';
import {
  CompileError,
  compileCondition,
  conditionToString,
  eventTypesOf,
  type Filter,
  type TypeSet,
} from './compiler.js';
import { FIELDS, lookupField, type FieldDef } from './fields.js';
import { K8S_AUDIT_FIELDS, K8S_AUDIT_SOURCE, type K8sAuditEvent } from './k8saudit.js';

/** The field table of each event source the engine knows. */
export const SOURCE_FIELDS: Record<string, Record<string, FieldDef>> = {
  [SYSCALL_SOURCE]: FIELDS,
  [K8S_AUDIT_SOURCE]: K8S_AUDIT_FIELDS,
};
import { compileOutput, type Alert, type CompiledOutput } from './output.js';
import { parseCondition, ParseError, type Node } from './parser.js';

export const ENGINE_VERSION = '0.58.0';
/** Plugins whose fields this engine provides natively (Falco's container plugin: container.*, k8s pod fields). */
export const BUILTIN_PLUGINS: Record<string, string> = { container: '0.6.0' };
/** With the k8s_audit source on: the k8saudit and json plugins' fields are built in too. */
export const K8S_AUDIT_PLUGINS: Record<string, string> = { k8saudit: '0.7.0', json: '0.7.0' };

export const PRIORITIES = [
  'emergency',
  'alert',
  'critical',
  'error',
  'warning',
  'notice',
  'informational',
  'debug',
] as const;
export type Priority = (typeof PRIORITIES)[number];
const PRIORITY_NAMES: Record<Priority, string> = {
  emergency: 'Emergency',
  alert: 'Alert',
  critical: 'Critical',
  error: 'Error',
  warning: 'Warning',
  notice: 'Notice',
  informational: 'Informational',
  debug: 'Debug',
};
/** Falco's parse_priority: case-insensitive, "info" for informational. */
export function parsePriority(s: string): Priority | undefined {
  const l = s.toLowerCase();
  if (l === 'info') return 'informational';
  return (PRIORITIES as readonly string[]).includes(l) ? (l as Priority) : undefined;
}
export function priorityName(p: Priority): string {
  return PRIORITY_NAMES[p];
}

export interface RuleFile {
  name: string;
  content: string;
}

export interface LoadIssue {
  file: string;
  line: number;
  column: number;
  /** Falco's code: LOAD_ERR_YAML_PARSE, LOAD_ERR_COMPILE_CONDITION, LOAD_UNKNOWN_MACRO, ... */
  code: string;
  itemType: string;
  itemName: string;
  message: string;
  /** the source lines at the issue */
  snippet?: string;
}

/** One file's result, as Falco's per-file load result. */
export interface FileResult {
  file: string;
  successful: boolean;
  errors: LoadIssue[];
  warnings: LoadIssue[];
  /** JSON-schema-like validation of the file's structure: "ok" or "failed: ..." */
  schemaValidation: string;
}

export interface Rule {
  name: string;
  desc: string;
  /** the condition text after overrides/appends (Falco's info.condition) */
  condition: string;
  /** the compiled condition as Falco prints it (macros, lists and exceptions expanded) */
  compiledCondition: string;
  output: string;
  priority: Priority;
  tags: string[];
  source: string;
  enabled: boolean;
  capture: boolean;
  captureDuration: number;
  /** event types the rule can match; undefined = any */
  eventTypes: Set<string> | undefined;
  file: string;
  line: number;
}

export interface LoadOptions {
  hostname?: string;
  /** event sources with rules compiled (default: syscall); rules of other sources are skipped with a warning */
  sources?: string[];
  /** plugin name → version, for required_plugin_versions (default BUILTIN_PLUGINS) */
  plugins?: Record<string, string>;
  /** Falco's rule_matching: 'first' (default) stops at the first matching rule per event, 'all' fires every one */
  ruleMatching?: 'first' | 'all';
  /** minimum priority to evaluate (default debug: all) */
  minPriority?: Priority;
}

// ---------------------------------------------------------------------------------------------
// reading

interface Ctx {
  file: string;
  offset: number;
  itemType: string;
  itemName: string;
}

class LoadFail extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly ctx: Ctx,
  ) {
    super(message);
  }
}

interface Entry {
  isList: boolean;
  item: string;
  items: Entry[];
}
interface ExceptionInfo {
  name: string;
  fields?: Entry;
  comps?: Entry;
  values: Entry[];
  ctx: Ctx;
}
interface ListInfo {
  name: string;
  items: string[];
  index: number;
  visibility: number;
  ctx: Ctx;
}
interface MacroInfo {
  name: string;
  cond: string;
  condCtx: Ctx;
  index: number;
  visibility: number;
  ctx: Ctx;
}
interface RuleInfo {
  name: string;
  cond: string;
  condCtx: Ctx;
  output: string;
  outputCtx: Ctx;
  desc: string;
  priority: Priority;
  source: string;
  enabled: boolean;
  warnEvttypes: boolean;
  skipIfUnknownFilter: boolean;
  tags: Set<string>;
  exceptions: ExceptionInfo[];
  capture: boolean;
  captureDuration: number;
  unknownSource: boolean;
  index: number;
  visibility: number;
  ctx: Ctx;
}
interface RuleUpdate {
  name: string;
  source?: string;
  cond?: string;
  output?: string;
  desc?: string;
  tags?: Set<string>;
  exceptions?: ExceptionInfo[];
  priority?: Priority;
  enabled?: boolean;
  warnEvttypes?: boolean;
  skipIfUnknownFilter?: boolean;
  capture?: boolean;
  captureDuration?: number;
  ctx: Ctx;
}

const RGX_IDENTIFIER = '([a-zA-Z]+[a-zA-Z0-9_]*)';
const RGX_BARESTR = `([^()"'[:space:]=,]+)`;
const RE_IDENTIFIER = /^[a-zA-Z]+[a-zA-Z0-9_]*$/;
const RE_BARESTR = /^[^()"'\s=,]+$/;

const ERROR_OVERRIDE_APPEND =
  "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";
const WARNING_APPEND =
  "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";
const WARNING_ENABLED =
  "The standalone 'enabled' key usage is deprecated. The correct approach requires also a 'replace' entry under the 'override' key (i.e. 'enabled: replace').";
const ERROR_NO_PREVIOUS_MACRO =
  "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists";
const ERROR_NO_PREVIOUS_LIST =
  "List uses 'append' or 'override.items: append' but no list by that name already exists";
const ERROR_NO_PREVIOUS_RULE_APPEND =
  "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists";
const ERROR_NO_PREVIOUS_RULE_REPLACE =
  "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists";

const SUPPORTED_OPERATORS = [
  '=',
  '==',
  '!=',
  '<=',
  '>=',
  '<',
  '>',
  'contains',
  'icontains',
  'bcontains',
  'glob',
  'iglob',
  'bstartswith',
  'startswith',
  'endswith',
  'in',
  'intersects',
  'pmatch',
  'exists',
  'regex',
];
const LIST_OPERATORS = new Set(['in', 'intersects', 'pmatch']);
const MODIFIABLE_OPERATORS = new Set([
  '=',
  '==',
  '!=',
  'contains',
  'icontains',
  'bcontains',
  'glob',
  'iglob',
  'bstartswith',
  'startswith',
  'endswith',
  'regex',
]);

/** Falco's comparison operators for exceptions, with the oneof/anyof/allof modifiers. */
function isOperatorDefined(op: string): boolean {
  const parts = op.trim().split(/\s+/);
  if (parts.length === 1) return SUPPORTED_OPERATORS.includes(parts[0]!);
  if (parts.length === 2 && ['oneof', 'anyof', 'allof'].includes(parts[1]!))
    return MODIFIABLE_OPERATORS.has(parts[0]!);
  return false;
}
function normalizeOperator(op: string): string {
  return op.trim().split(/\s+/).join(' ');
}

const RULE_KEYS = new Set([
  'rule',
  'desc',
  'condition',
  'output',
  'priority',
  'source',
  'enabled',
  'tags',
  'exceptions',
  'warn_evttypes',
  'skip-if-unknown-filter',
  'append',
  'override',
  'capture',
  'capture_duration',
]);
const MACRO_KEYS = new Set(['macro', 'condition', 'append', 'override']);
const LIST_KEYS = new Set(['list', 'items', 'append', 'override']);
const EXCEPTION_KEYS = new Set(['name', 'fields', 'comps', 'values']);

/** yaml-cpp's IsNull: a plain `~`, `null`, `Null`, `NULL` or nothing. */
function isNull(n: unknown): boolean {
  if (n === null || n === undefined) return true;
  if (!isScalar(n)) return false;
  const s = n as Scalar;
  if (s.type !== 'PLAIN') return false;
  return s.value === null || ['', '~', 'null', 'Null', 'NULL'].includes(String(s.value));
}
function scalarText(n: Scalar): string {
  return n.value === null ? '' : String(n.value);
}
function yamlBool(s: string): boolean | undefined {
  if (/^(true|True|TRUE|yes|Yes|YES|on|On|ON|y|Y)$/.test(s)) return true;
  if (/^(false|False|FALSE|no|No|NO|off|Off|OFF|n|N)$/.test(s)) return false;
  return undefined;
}
function yamlUint(s: string): number | undefined {
  return /^[0-9]+$/.test(s) && Number(s) <= 0xffffffff ? Number(s) : undefined;
}

const SUB_CONTEXTS = new Set([
  'condition',
  'output',
  'value for',
  'override',
  'priority value',
  'list item',
  'exceptions',
  'exception values',
  'exception value',
]);

class Reader {
  schemaErrors: string[] = [];
  constructor(
    private readonly file: string,
    private readonly col: Collector,
    private readonly warn: (code: string, msg: string, ctx: Ctx) => void,
  ) {}

  ctx(node: YNode | null | undefined, itemType: string, itemName: string, parent?: Ctx): Ctx {
    const off = node && node.range ? node.range[0] : (parent?.offset ?? 0);
    // issues name the enclosing item (rule, macro, list, exception...), not the value inside it
    if (parent && SUB_CONTEXTS.has(itemType))
      return { file: this.file, offset: off, itemType: parent.itemType, itemName: parent.itemName };
    return { file: this.file, offset: off, itemType, itemName };
  }

  fail(msg: string, ctx: Ctx): never {
    throw new LoadFail('LOAD_ERR_YAML_VALIDATE', msg, ctx);
  }

  get(item: YAMLMap, key: string): YNode | null | undefined {
    for (const p of item.items) {
      const k = p.key as YNode | null;
      if (k && isScalar(k) && String(k.value) === key) return (p.value as YNode | null) ?? null;
    }
    return undefined;
  }
  has(item: YAMLMap, key: string): boolean {
    return this.get(item, key) !== undefined;
  }

  /** decode_val: required (or optional) non-empty scalar */
  str(item: YAMLMap, key: string, ctx: Ctx, optional = false): string | undefined {
    const v = this.get(item, key);
    if (v === undefined) {
      if (optional) return undefined;
      this.fail(`Item has no mapping for key '${key}'`, ctx);
    }
    if (isNull(v)) this.fail(`Mapping for key '${key}' is empty`, ctx);
    const vctx = this.ctx(v, 'value for', key, ctx);
    if (!isScalar(v)) this.fail('Value is not a scalar value', vctx);
    const s = scalarText(v as Scalar);
    if (s === '') this.fail('Value must be non-empty', vctx);
    return s;
  }
  bool(item: YAMLMap, key: string, ctx: Ctx, optional = false): boolean | undefined {
    const s = this.str(item, key, ctx, optional);
    if (s === undefined) return undefined;
    const v = this.get(item, key) as Scalar;
    const b = yamlBool(s);
    if (b === undefined) this.fail("Can't decode YAML scalar value", this.ctx(v, 'value for', key, ctx));
    if (v.type !== 'PLAIN' || !/^(true|false)$/i.test(s))
      this.schemaErrors.push(`${key}: expected a boolean`);
    return b;
  }
  seq(item: YAMLMap, key: string, ctx: Ctx, optional: boolean): string[] | undefined {
    const v = this.get(item, key);
    if (v === undefined) {
      if (optional) return undefined;
      this.fail(`Item has no mapping for key '${key}'`, ctx);
    }
    const vctx = this.ctx(v, 'value for', key, ctx);
    if (!isSeq(v)) this.fail('Value is not a sequence', vctx);
    const out: string[] = [];
    for (const it of v.items as (YNode | null)[]) {
      const ictx = this.ctx(it, 'list item', '', vctx);
      if (it !== null && !isScalar(it)) this.fail('sequence value is not scalar', ictx);
      out.push(it === null ? '' : scalarText(it as Scalar));
    }
    return out;
  }

  unknownKeys(item: YAMLMap, allowed: Set<string>, ctx: Ctx): void {
    for (const p of item.items) {
      const k = p.key as YNode | null;
      const name = k && isScalar(k) ? String(k.value) : '';
      if (!allowed.has(name)) {
        this.warn('LOAD_UNKNOWN_ITEM', `Unknown key '${name}'`, this.ctx(k, ctx.itemType, ctx.itemName, ctx));
        this.schemaErrors.push(`${ctx.itemType} ${ctx.itemName}: unknown key '${name}'`);
      }
    }
  }

  overrides(
    item: YAMLMap,
    appendable: Set<string>,
    replaceable: Set<string>,
    ctx: Ctx,
  ): { append: Set<string>; replace: Set<string> } {
    const append = new Set<string>();
    const replace = new Set<string>();
    const v = this.get(item, 'override');
    if (v === undefined) return { append, replace };
    const octx = this.ctx(v, 'override', '', ctx);
    if (!isMap(v)) this.fail('Value is not a map', octx);
    for (const p of v.items) {
      const kn = p.key as YNode;
      const key = isScalar(kn) ? String(kn.value) : '';
      const op = isScalar(p.value) ? scalarText(p.value as Scalar) : '';
      const kctx = this.ctx(kn, 'override', key, octx);
      if (!appendable.has(key) && !replaceable.has(key))
        this.schemaErrors.push(`override: unknown key '${key}'`);
      if (op === 'append') {
        if (!appendable.has(key))
          this.fail(`Key '${key}' cannot be appended to, use 'replace' instead`, kctx);
        append.add(key);
      } else if (op === 'replace') {
        if (!replaceable.has(key)) this.fail(`Key '${key}' cannot be replaced`, kctx);
        replace.add(key);
      } else {
        let allowed = '';
        if (appendable.has(key)) allowed += 'append ';
        if (replaceable.has(key)) allowed += 'replace ';
        this.fail(
          `Invalid override operation for key '${key}': '${op}'. Allowed values are: ${allowed}`,
          this.ctx(p.value as YNode, 'value for', key, octx),
        );
      }
    }
    return { append, replace };
  }

  entry(
    val: YNode | null | undefined,
    key: string | undefined,
    ctx: Ctx,
    optional: boolean,
  ): Entry | undefined {
    if (val === undefined) {
      if (optional) return undefined;
      this.fail(`Item has no mapping for key '${key ?? ''}'`, ctx);
    }
    const vctx = this.ctx(val, 'value for', key ?? '', ctx);
    if (val === null || isScalar(val)) {
      const s = val === null ? '' : scalarText(val as Scalar);
      if (s === '') this.fail('Value must be non-empty', vctx);
      return { isList: false, item: s, items: [] };
    }
    if (isSeq(val)) {
      const items: Entry[] = [];
      for (const v of val.items as (YNode | null)[])
        items.push(this.entry(v, undefined, this.ctx(v, 'exception', '', vctx), false)!);
      return { isList: true, item: '', items };
    }
    return { isList: false, item: '', items: [] };
  }

  exceptions(item: YAMLMap, ctx: Ctx, append: boolean): ExceptionInfo[] {
    const exs = this.get(item, 'exceptions');
    const out: ExceptionInfo[] = [];
    if (exs === undefined || isNull(exs)) return out;
    const exesCtx = this.ctx(exs, 'exceptions', '', ctx);
    if (!isSeq(exs)) this.fail('Rule exceptions must be a sequence', exesCtx);
    for (const ex of exs.items as (YNode | null)[]) {
      const tmp = this.ctx(ex, 'exception', '', exesCtx);
      if (!isMap(ex)) this.fail('Rule exception must be a mapping', tmp);
      const name = this.str(ex, 'name', tmp)!;
      const exCtx = this.ctx(ex, 'exception', name, ctx);
      for (const p of ex.items) {
        const k = p.key as YNode;
        if (!EXCEPTION_KEYS.has(isScalar(k) ? String(k.value) : ''))
          this.schemaErrors.push(`exception ${name}: unknown key`);
      }
      if (out.some((e) => e.name === name))
        this.warn(
          'LOAD_EXCEPTION_NAME_NOT_UNIQUE',
          `Multiple definitions of exception '${name}' in the same rule`,
          exCtx,
        );
      const info: ExceptionInfo = { name, values: [], ctx: exCtx };
      const fields = this.entry(this.get(ex, 'fields'), 'fields', exCtx, append);
      if (fields) info.fields = fields;
      const comps = this.entry(this.get(ex, 'comps'), 'comps', exCtx, true);
      if (comps) info.comps = comps;
      const vals = this.get(ex, 'values');
      if (vals !== undefined) {
        const valsCtx = this.ctx(vals, 'exception values', '', exCtx);
        if (!isSeq(vals)) this.fail('Rule exception values must be a sequence', valsCtx);
        for (const v of vals.items as (YNode | null)[])
          info.values.push(this.entry(v, undefined, this.ctx(v, 'exception value', '', valsCtx), false)!);
      } else if (append) {
        this.warn('LOAD_APPEND_NO_VALUES', 'Overriding/appending exception with no values', exCtx);
        this.schemaErrors.push(`exception ${name}: no values`);
      }
      out.push(info);
    }
    return out;
  }

  tags(item: YAMLMap, ctx: Ctx): Set<string> {
    return new Set(this.seq(item, 'tags', ctx, true) ?? []);
  }

  read(item: YNode | null, parent: Ctx, cfg: LoadConfig): void {
    if (!isMap(item))
      this.fail(
        'Unexpected element type. Each element should be a yaml associative array.',
        this.ctx(item, 'rules content item', '', parent),
      );
    if (this.has(item, 'required_engine_version')) {
      const ctx = this.ctx(item, 'required_engine_version', '', parent);
      const s = this.str(item, 'required_engine_version', ctx)!;
      let ver: string;
      const n = yamlUint(s);
      if (n !== undefined) ver = `0.${n}.0`;
      else {
        if (!parseSemver(s))
          this.fail(
            `Unable to parse engine version '${s}' as a semver string. Expected "x.y.z" semver format.`,
            ctx,
          );
        ver = s;
      }
      this.col.defineEngineVersion(ver, ctx);
    } else if (this.has(item, 'required_plugin_versions')) {
      const req = this.get(item, 'required_plugin_versions');
      const ctx = this.ctx(req, 'required_plugin_versions', '', parent);
      if (!isSeq(req)) this.fail('Value of required_plugin_versions must be a sequence', ctx);
      for (const plugin of req.items as (YNode | null)[]) {
        const tmp = this.ctx(plugin, 'required_plugin_versions entry', '', ctx);
        if (!isMap(plugin)) this.fail('Plugin version must be a mapping', tmp);
        const name = this.str(plugin, 'name', tmp)!;
        const pctx = this.ctx(plugin, 'required_plugin_versions entry', name, ctx);
        const alternatives = [{ name, version: this.str(plugin, 'version', pctx)! }];
        const alts = this.get(plugin, 'alternatives');
        if (alts !== undefined) {
          if (!isSeq(alts)) this.fail('Value of plugin version alternatives must be a sequence', pctx);
          for (const a of alts.items as (YNode | null)[]) {
            const actx = this.ctx(a, 'required_plugin_versions alternative', '', pctx);
            if (!isMap(a)) this.fail('Plugin version alternative must be a mapping', actx);
            const an = this.str(a, 'name', actx)!;
            alternatives.push({
              name: an,
              version: this.str(a, 'version', this.ctx(a, 'required_plugin_versions alternative', an, pctx))!,
            });
          }
        }
        this.col.definePluginVersion(alternatives, pctx);
      }
    } else if (this.has(item, 'list')) {
      const name = this.str(item, 'list', this.ctx(item, 'list', '', parent))!;
      const ctx = this.ctx(item, 'list', name, parent);
      if (!RE_BARESTR.test(name))
        this.warn(
          'LOAD_INVALID_LIST_NAME',
          `List has an invalid name. List names should match a regular expression: ${RGX_BARESTR}`,
          ctx,
        );
      this.unknownKeys(item, LIST_KEYS, ctx);
      const items = this.seq(item, 'items', ctx, false)!;
      let append = this.bool(item, 'append', ctx, true) ?? false;
      if (append) this.warn('LOAD_DEPRECATED_ITEM', WARNING_APPEND, ctx);
      const ov = this.overrides(item, new Set(['items']), new Set(['items']), ctx);
      if (append && (ov.append.size || ov.replace.size)) this.fail(ERROR_OVERRIDE_APPEND, ctx);
      append ||= ov.append.has('items');
      if (append) this.col.appendList(name, items, ctx);
      else this.col.defineList(name, items, ctx);
    } else if (this.has(item, 'macro')) {
      const name = this.str(item, 'macro', this.ctx(item, 'macro', '', parent))!;
      const ctx = this.ctx(item, 'macro', name, parent);
      if (!RE_IDENTIFIER.test(name))
        this.warn(
          'LOAD_INVALID_MACRO_NAME',
          `Macro has an invalid name. Macro names should match a regular expression: ${RGX_IDENTIFIER}`,
          ctx,
        );
      this.unknownKeys(item, MACRO_KEYS, ctx);
      const cond = this.str(item, 'condition', ctx)!;
      const condCtx = this.ctx(this.get(item, 'condition'), 'condition', '', ctx);
      let append = this.bool(item, 'append', ctx, true) ?? false;
      if (append) this.warn('LOAD_DEPRECATED_ITEM', WARNING_APPEND, ctx);
      const ov = this.overrides(item, new Set(['condition']), new Set(['condition']), ctx);
      if (append && (ov.append.size || ov.replace.size)) this.fail(ERROR_OVERRIDE_APPEND, ctx);
      append ||= ov.append.has('condition');
      if (append) this.col.appendMacro(name, cond, ctx);
      else this.col.defineMacro(name, cond, condCtx, ctx);
    } else if (this.has(item, 'rule')) {
      this.readRule(item, parent, cfg);
    } else {
      this.warn(
        'LOAD_UNKNOWN_ITEM',
        'Unknown top level item',
        this.ctx(item, 'rules content item', '', parent),
      );
      this.schemaErrors.push('unknown top level item');
    }
  }

  readRule(item: YAMLMap, parent: Ctx, cfg: LoadConfig): void {
    const name = this.str(item, 'rule', this.ctx(item, 'rule', '', parent))!;
    const ctx = this.ctx(item, 'rule', name, parent);
    this.unknownKeys(item, RULE_KEYS, ctx);
    const hasAppendFlag = this.bool(item, 'append', ctx, true) ?? false;
    if (hasAppendFlag) this.warn('LOAD_DEPRECATED_ITEM', WARNING_APPEND, ctx);
    const appendable = new Set(['condition', 'output', 'desc', 'tags', 'exceptions']);
    const replaceable = new Set([
      'condition',
      'output',
      'desc',
      'priority',
      'tags',
      'exceptions',
      'enabled',
      'warn_evttypes',
      'skip-if-unknown-filter',
      'capture',
      'capture_duration',
    ]);
    const ov = this.overrides(item, appendable, replaceable, ctx);
    const hasOverrides = ov.append.size > 0 || ov.replace.size > 0;
    if (hasAppendFlag && hasOverrides) this.fail(ERROR_OVERRIDE_APPEND, ctx);
    this.typeChecks(item);

    const source = this.optSource(item, ctx);
    const src = source !== undefined ? { source } : {};
    if (hasOverrides) {
      const expected = new Set<string>();
      for (const k of [...appendable, ...replaceable]) if (this.has(item, k)) expected.add(k);
      const check = (set: Set<string>, kind: string, key: string): boolean => {
        if (!set.has(key)) return false;
        if (!expected.has(key))
          this.fail(`An ${kind} override for '${key}' was specified but '${key}' is not defined`, ctx);
        expected.delete(key);
        return true;
      };
      if (ov.append.size) {
        const u: RuleUpdate = { name, ctx, ...src };
        if (check(ov.append, 'append', 'condition')) u.cond = this.str(item, 'condition', ctx)!;
        if (check(ov.append, 'append', 'exceptions')) u.exceptions = this.exceptions(item, ctx, true);
        if (check(ov.append, 'append', 'output')) u.output = this.str(item, 'output', ctx)!;
        if (check(ov.append, 'append', 'desc')) u.desc = this.str(item, 'desc', ctx)!;
        if (check(ov.append, 'append', 'tags')) u.tags = this.tags(item, ctx);
        this.col.appendRule(u, cfg);
      }
      if (ov.replace.size) {
        const u: RuleUpdate = { name, ctx, ...src };
        if (check(ov.replace, 'replace', 'condition')) u.cond = this.str(item, 'condition', ctx)!;
        if (check(ov.replace, 'replace', 'exceptions')) u.exceptions = this.exceptions(item, ctx, false);
        if (check(ov.replace, 'replace', 'output')) u.output = this.str(item, 'output', ctx)!;
        if (check(ov.replace, 'replace', 'desc')) u.desc = this.str(item, 'desc', ctx)!;
        if (check(ov.replace, 'replace', 'tags')) u.tags = this.tags(item, ctx);
        if (check(ov.replace, 'replace', 'priority')) u.priority = this.priority(item, ctx);
        if (check(ov.replace, 'replace', 'enabled')) u.enabled = this.bool(item, 'enabled', ctx)!;
        if (check(ov.replace, 'replace', 'warn_evttypes'))
          u.warnEvttypes = this.bool(item, 'warn_evttypes', ctx)!;
        if (check(ov.replace, 'replace', 'skip-if-unknown-filter'))
          u.skipIfUnknownFilter = this.bool(item, 'skip-if-unknown-filter', ctx)!;
        if (check(ov.replace, 'replace', 'capture')) u.capture = this.bool(item, 'capture', ctx)!;
        if (check(ov.replace, 'replace', 'capture_duration'))
          u.captureDuration = this.uint(item, 'capture_duration', ctx)!;
        this.col.replaceRule(u, cfg);
      }
      for (const key of expected)
        this.fail(
          `Unexpected key '${key}': no corresponding entry under 'override' is defined.`,
          this.ctx(this.get(item, key), 'override', key, ctx),
        );
    } else if (hasAppendFlag) {
      const u: RuleUpdate = { name, ctx, ...src };
      if (this.has(item, 'condition')) u.cond = this.str(item, 'condition', ctx)!;
      if (this.has(item, 'exceptions')) u.exceptions = this.exceptions(item, ctx, true);
      this.col.appendRule(u, cfg);
    } else if (
      !this.has(item, 'condition') &&
      !this.has(item, 'output') &&
      !this.has(item, 'desc') &&
      !this.has(item, 'priority')
    ) {
      const enabled = this.bool(item, 'enabled', ctx)!;
      this.warn('LOAD_DEPRECATED_ITEM', WARNING_ENABLED, ctx);
      this.col.enableRule(name, enabled, ctx);
    } else {
      const cond = this.str(item, 'condition', ctx)!;
      const condCtx = this.ctx(this.get(item, 'condition'), 'condition', '', ctx);
      const output = this.str(item, 'output', ctx)!.trim();
      const outputCtx = this.ctx(this.get(item, 'output'), 'output', '', ctx);
      const desc = this.str(item, 'desc', ctx)!;
      const priority = this.priority(item, ctx);
      const info: RuleInfo = {
        name,
        cond,
        condCtx,
        output,
        outputCtx,
        desc,
        priority,
        source: this.optSource(item, ctx) ?? SYSCALL_SOURCE,
        enabled: this.bool(item, 'enabled', ctx, true) ?? true,
        warnEvttypes: this.bool(item, 'warn_evttypes', ctx, true) ?? true,
        skipIfUnknownFilter: this.bool(item, 'skip-if-unknown-filter', ctx, true) ?? false,
        tags: this.tags(item, ctx),
        exceptions: this.exceptions(item, ctx, false),
        capture: this.bool(item, 'capture', ctx, true) ?? false,
        captureDuration: this.uint(item, 'capture_duration', ctx, true) ?? 0,
        unknownSource: false,
        index: 0,
        visibility: 0,
        ctx,
      };
      this.col.defineRule(info, cfg);
    }
  }

  /** `source`, where an empty value means the default (syscall), as Falco accepts it */
  optSource(item: YAMLMap, ctx: Ctx): string | undefined {
    const v = this.get(item, 'source');
    if (v === undefined || isNull(v) || (isScalar(v) && scalarText(v as Scalar) === '')) return undefined;
    return this.str(item, 'source', ctx);
  }

  priority(item: YAMLMap, ctx: Ctx): Priority {
    const s = this.str(item, 'priority', ctx)!;
    const p = parsePriority(s);
    if (!p) this.fail('Invalid priority', this.ctx(this.get(item, 'priority'), 'priority value', '', ctx));
    return p;
  }

  uint(item: YAMLMap, key: string, ctx: Ctx, optional = false): number | undefined {
    const s = this.str(item, key, ctx, optional);
    if (s === undefined) return undefined;
    const n = yamlUint(s);
    if (n === undefined)
      this.fail("Can't decode YAML scalar value", this.ctx(this.get(item, key), 'value for', key, ctx));
    return n;
  }

  /** the schema's value types for a rule's keys */
  typeChecks(item: YAMLMap): void {
    for (const k of ['capture', 'enabled', 'warn_evttypes', 'skip-if-unknown-filter', 'append']) {
      const v = this.get(item, k);
      if (v === undefined || !isScalar(v)) continue;
      if ((v as Scalar).type !== 'PLAIN' || !/^(true|false)$/i.test(scalarText(v as Scalar)))
        this.schemaErrors.push(`${k}: expected a boolean`);
    }
    const cd = this.get(item, 'capture_duration');
    if (
      cd !== undefined &&
      (!isScalar(cd) || (cd as Scalar).type !== 'PLAIN' || !/^[0-9]+$/.test(scalarText(cd as Scalar)))
    )
      this.schemaErrors.push('capture_duration: expected an integer');
  }
}

// ---------------------------------------------------------------------------------------------
// collecting

interface LoadConfig {
  sources: Set<string>;
  warn: (code: string, msg: string, ctx: Ctx) => void;
}

class Collector {
  lists = new Map<string, ListInfo>();
  macros = new Map<string, MacroInfo>();
  rules = new Map<string, RuleInfo>();
  requiredEngine: string | undefined;
  requiredPlugins: { alternatives: { name: string; version: string }[]; ctx: Ctx }[] = [];
  private cur = 0;

  private validate(msg: string, ctx: Ctx): never {
    throw new LoadFail('LOAD_ERR_VALIDATE', msg, ctx);
  }

  defineEngineVersion(ver: string, ctx: Ctx): void {
    if (!semverCompatible(ENGINE_VERSION, ver))
      this.validate(
        `Rules require engine version ${semverString(ver)}, but engine version is ${ENGINE_VERSION}`,
        ctx,
      );
    if (!this.requiredEngine || semverCmp(this.requiredEngine, ver) < 0) this.requiredEngine = ver;
  }

  definePluginVersion(alternatives: { name: string; version: string }[], ctx: Ctx): void {
    const seen = new Set<string>();
    for (const r of alternatives) {
      if (!parseSemver(r.version))
        this.validate(`Invalid required version '${r.version}' for plugin '${r.name}'`, ctx);
      if (seen.has(r.name))
        this.validate(`Defined multiple alternative version requirements for plugin '${r.name}'`, ctx);
      seen.add(r.name);
    }
    this.requiredPlugins.push({ alternatives, ctx });
  }

  private define<T extends { name: string; index: number; visibility: number }>(
    m: Map<string, T>,
    info: T,
  ): void {
    const id = this.cur++;
    const prev = m.get(info.name);
    if (prev) {
      info.index = prev.index;
      info.visibility = id;
    } else {
      info.index = id;
      info.visibility = id;
    }
    m.set(info.name, info);
  }

  defineList(name: string, items: string[], ctx: Ctx): void {
    this.define(this.lists, { name, items, index: 0, visibility: 0, ctx });
  }
  appendList(name: string, items: string[], ctx: Ctx): void {
    const prev = this.lists.get(name);
    if (!prev) this.validate(ERROR_NO_PREVIOUS_LIST, ctx);
    prev.items.push(...items);
    prev.visibility = this.cur++;
  }
  defineMacro(name: string, cond: string, condCtx: Ctx, ctx: Ctx): void {
    this.define(this.macros, { name, cond, condCtx, index: 0, visibility: 0, ctx });
  }
  appendMacro(name: string, cond: string, ctx: Ctx): void {
    const prev = this.macros.get(name);
    if (!prev) this.validate(ERROR_NO_PREVIOUS_MACRO, ctx);
    prev.cond += ' ' + cond;
    prev.visibility = this.cur++;
  }

  private validateException(known: boolean, ex: ExceptionInfo, source: string): void {
    const f = ex.fields!;
    if (f.isList) {
      if (!ex.comps)
        ex.comps = {
          isList: true,
          item: '',
          items: f.items.map(() => ({ isList: false, item: '=', items: [] })),
        };
      if (f.items.length !== ex.comps.items.length)
        this.validate('Fields and comps lists must have equal length', ex.ctx);
      for (const c of ex.comps.items) {
        if (!isOperatorDefined(c.item))
          this.validate(`'${c.item}' is not a supported comparison operator`, ex.ctx);
        c.item = normalizeOperator(c.item);
      }
      if (known)
        for (const v of f.items)
          if (!fieldDefined(v.item, source))
            this.validate(`'${v.item}' is not a supported filter field`, ex.ctx);
    } else {
      if (!ex.comps) ex.comps = { isList: false, item: 'in', items: [] };
      if (ex.comps.isList) this.validate('Fields and comps must both be strings', ex.ctx);
      if (!LIST_OPERATORS.has(ex.comps.item))
        this.validate('When fields is a single value, comps must be one of (in, pmatch, intersects)', ex.ctx);
      if (known && !fieldDefined(f.item, source))
        this.validate(`'${f.item}' is not a supported filter field`, ex.ctx);
    }
  }

  defineRule(info: RuleInfo, cfg: LoadConfig): void {
    const prev = this.rules.get(info.name);
    if (prev && prev.source !== info.source)
      this.validate('Rule has been re-defined with a different source', info.ctx);
    if (!cfg.sources.has(info.source)) {
      info.unknownSource = true;
      cfg.warn('LOAD_UNKNOWN_SOURCE', `Unknown source ${info.source}, skipping`, info.ctx);
    }
    for (const ex of info.exceptions) {
      if (!ex.fields)
        this.validate('Rule exception item must have fields property with a list of fields', ex.ctx);
      this.validateException(!info.unknownSource, ex, info.source);
    }
    this.define(this.rules, info);
  }

  private updateChecks(
    u: RuleUpdate,
    prev: RuleInfo | undefined,
    noPrev: string,
    noValue: string,
    cfg: LoadConfig,
  ): RuleInfo {
    if (!prev) this.validate(noPrev, u.ctx);
    if (u.source !== undefined && u.source !== prev.source)
      this.validate('Rule has been re-defined with a different source', u.ctx);
    const hasAny =
      u.cond !== undefined ||
      u.output !== undefined ||
      u.desc !== undefined ||
      u.tags !== undefined ||
      u.exceptions !== undefined ||
      u.priority !== undefined ||
      u.enabled !== undefined ||
      u.warnEvttypes !== undefined ||
      u.skipIfUnknownFilter !== undefined ||
      u.capture !== undefined ||
      u.captureDuration !== undefined;
    if (!hasAny) this.validate(noValue, u.ctx);
    if (!prev.unknownSource && !cfg.sources.has(prev.source))
      this.validate(`Unknown source ${prev.source}`, u.ctx);
    return prev;
  }

  appendRule(u: RuleUpdate, cfg: LoadConfig): void {
    const prev = this.updateChecks(
      u,
      this.rules.get(u.name),
      ERROR_NO_PREVIOUS_RULE_APPEND,
      'Appended rule must have exceptions or condition property',
      cfg,
    );
    if (u.cond) prev.cond += ' ' + u.cond;
    if (u.output) prev.output += ' ' + u.output;
    if (u.desc) prev.desc += ' ' + u.desc;
    if (u.tags) for (const t of u.tags) prev.tags.add(t);
    for (const ex of u.exceptions ?? []) {
      const pe = prev.exceptions.find((e) => e.name === ex.name);
      if (!pe) {
        if (!ex.fields)
          this.validate('Rule exception must have fields property with a list of fields', ex.ctx);
        if (!ex.values.length)
          this.validate('Rule exception must have values property with a list of values', ex.ctx);
        this.validateException(!prev.unknownSource, ex, prev.source);
        prev.exceptions.push(ex);
      } else {
        if (ex.fields)
          this.validate('Can not append exception fields to existing exception, only values', ex.ctx);
        if (ex.comps)
          this.validate('Can not append exception comps to existing exception, only values', ex.ctx);
        pe.values.push(...ex.values);
      }
    }
    prev.visibility = this.cur++;
  }

  replaceRule(u: RuleUpdate, cfg: LoadConfig): void {
    const prev = this.updateChecks(
      u,
      this.rules.get(u.name),
      ERROR_NO_PREVIOUS_RULE_REPLACE,
      'The rule must have at least one field that can be replaced',
      cfg,
    );
    if (u.cond !== undefined) prev.cond = u.cond;
    if (u.output !== undefined) prev.output = u.output;
    if (u.desc !== undefined) prev.desc = u.desc;
    if (u.tags !== undefined) prev.tags = u.tags;
    if (u.exceptions !== undefined) {
      for (const ex of u.exceptions) {
        if (!ex.fields)
          this.validate('Rule exception must have fields property with a list of fields', ex.ctx);
        this.validateException(!prev.unknownSource, ex, prev.source);
      }
      prev.exceptions = u.exceptions;
    }
    if (u.priority !== undefined) prev.priority = u.priority;
    if (u.enabled !== undefined) prev.enabled = u.enabled;
    if (u.warnEvttypes !== undefined) prev.warnEvttypes = u.warnEvttypes;
    if (u.skipIfUnknownFilter !== undefined) prev.skipIfUnknownFilter = u.skipIfUnknownFilter;
    if (u.capture !== undefined) prev.capture = u.capture;
    if (u.captureDuration !== undefined) prev.captureDuration = u.captureDuration;
    prev.visibility = this.cur++;
  }

  enableRule(name: string, enabled: boolean, ctx: Ctx): void {
    const prev = this.rules.get(name);
    if (!prev) this.validate("Rule has 'enabled' key but no rule by that name already exists", ctx);
    prev.enabled = enabled;
  }
}

function fieldDefined(f: string, source: string): boolean {
  const m = /^([a-z0-9]+)\(\s*(.*?)\s*\)$/.exec(f.trim());
  const name = (m ? m[2]! : f.trim()).replace(/\[.*\]$/, '');
  return lookupField(name, SOURCE_FIELDS[source] ?? FIELDS) !== undefined;
}

// ---------------------------------------------------------------------------------------------
// semver

function parseSemver(s: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(s.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}
function semverString(s: string): string {
  const v = parseSemver(s);
  return v ? v.join('.') : s;
}
function semverCmp(a: string, b: string): number {
  const x = parseSemver(a) ?? [0, 0, 0];
  const y = parseSemver(b) ?? [0, 0, 0];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}
/** `have` satisfies `want`: same major version and not older. */
function semverCompatible(have: string, want: string): boolean {
  const h = parseSemver(have);
  const w = parseSemver(want);
  if (!h || !w) return false;
  return h[0] === w[0] && semverCmp(have, want) >= 0;
}

// ---------------------------------------------------------------------------------------------
// compiling

/** Falco's quote_item: double-quote an item that has a space and is not quoted already. */
function quoteItem(e: string): string {
  return e.includes(' ') && e[0] !== '"' && e[0] !== "'" ? `"${e}"` : e;
}
function parenItem(e: string): string {
  return e[0] !== '(' ? `(${e})` : e;
}

function buildExceptions(exceptions: ExceptionInfo[], condition: string): string {
  let cond = `(${condition})`;
  for (const ex of exceptions) {
    let icond = '';
    const fields = ex.fields!;
    const comps = ex.comps!;
    if (!fields.isList) {
      for (const val of ex.values) {
        if (val.isList)
          throw new LoadFail(
            'LOAD_ERR_VALIDATE',
            'Expected values array to contain a list of strings',
            ex.ctx,
          );
        icond += icond === '' ? `(${fields.item} ${comps.item} (` : ', ';
        icond += quoteItem(val.item);
      }
      icond += icond === '' ? '' : '))';
    } else {
      icond = '(';
      for (const values of ex.values) {
        if (fields.items.length !== values.items.length)
          throw new LoadFail('LOAD_ERR_VALIDATE', 'Fields and values lists must have equal length', ex.ctx);
        icond += icond === '(' ? '' : ' or ';
        icond += '(';
        fields.items.forEach((field, k) => {
          icond += k === 0 ? '' : ' and ';
          const v = values.items[k]!;
          const comp = comps.items[k]!.item;
          let istr: string;
          if (v.isList) istr = `(${v.items.map((x) => quoteItem(x.item)).join(', ')})`;
          else if (LIST_OPERATORS.has(comp) || / (oneof|anyof|allof)$/.test(comp)) istr = parenItem(v.item);
          else istr = quoteItem(v.item);
          icond += ` ${field.item} ${comp} ${istr}`;
        });
        icond += ')';
      }
      icond += ')';
      if (icond === '()') icond = '';
    }
    cond += icond === '' ? '' : ` and not ${icond}`;
  }
  return cond;
}

/** Falco's resolve_list: textual substitution of a list name delimited by blanks, parentheses, commas or '='. */
function resolveList(cnd: string, name: string, items: string[]): { cnd: string; used: boolean } {
  const blanks = ' \t\n\r';
  const delims = blanks + '(),=';
  let used = false;
  let start = cnd.indexOf(name);
  while (start !== -1) {
    let end = start + name.length;
    if (
      (start === 0 || delims.includes(cnd[start - 1]!)) &&
      (end >= cnd.length || delims.includes(cnd[end]!))
    ) {
      while (start > 0 && blanks.includes(cnd[start - 1]!)) start--;
      while (end < cnd.length && blanks.includes(cnd[end]!)) end++;
      const sub = items.map(quoteItem).join(', ');
      if (sub === '') {
        if (start > 0 && cnd[start - 1] === ',') start--;
        else if (end < cnd.length && cnd[end] === ',') end++;
      }
      let n = '';
      if (start > 0) n += cnd.slice(0, start) + ' ';
      n += sub + ' ';
      if (end <= cnd.length) n += cnd.slice(end);
      cnd = n;
      start += sub.length + 1;
      used = true;
    }
    start = cnd.indexOf(name, start + 1);
  }
  return { cnd, used };
}

interface CompiledList {
  name: string;
  items: string[];
  used: boolean;
}
interface CompiledMacro {
  name: string;
  ast: Node;
  used: boolean;
  visibility: number;
}

export interface CompiledRule extends Rule {
  filter: Filter;
  typeSet: TypeSet;
  out: CompiledOutput;
  index: number;
  /** priority rank (0 emergency ... 7 debug) */
  rank: number;
}

function macroResolve(
  ast: Node,
  macros: Map<string, CompiledMacro>,
  visibility: number,
  resolving: string[],
  infos: Map<string, MacroInfo>,
): Node {
  const walk = (n: Node): Node => {
    switch (n.kind) {
      case 'and':
      case 'or':
        return { ...n, children: n.children.map(walk) };
      case 'not':
        return { ...n, child: walk(n.child) };
      case 'check':
        return n;
      case 'id': {
        const m = macros.get(n.name);
        const info = infos.get(n.name);
        if (!m || !info || info.index >= visibility)
          throw new CompileError(`Undefined macro '${n.name}' used in filter.`);
        if (resolving.includes(n.name)) throw new CompileError(`Reference loop in macro '${n.name}'`);
        m.used = true;
        return macroResolve(m.ast, macros, m.visibility, [...resolving, n.name], infos);
      }
    }
  };
  return walk(ast);
}

function hasDeprecatedEvtDir(n: Node): boolean {
  switch (n.kind) {
    case 'and':
    case 'or':
      return n.children.some(hasDeprecatedEvtDir);
    case 'not':
      return hasDeprecatedEvtDir(n.child);
    case 'id':
      return false;
    case 'check': {
      const uses = (f: typeof n.left): boolean =>
        f.kind === 'field' ? f.name === 'evt.dir' : f.args.some((a) => a.kind !== 'literal' && uses(a));
      return uses(n.left) || (n.right?.kind === 'rhsfield' && uses(n.right.expr));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// the ruleset

export class Ruleset {
  readonly errors: LoadIssue[] = [];
  readonly warnings: LoadIssue[] = [];
  /** every compiled rule, enabled or not, in load order */
  readonly rules: CompiledRule[] = [];
  readonly files: FileResult[] = [];
  readonly lists = new Map<string, string[]>();
  readonly macros = new Map<string, string>();
  hostname = '';
  ruleMatching: 'first' | 'all' = 'first';
  minRank = 7;
  private byType = new Map<string, CompiledRule[]>();
  private enabledRules: CompiledRule[] = [];

  get successful(): boolean {
    return this.errors.length === 0;
  }

  /** @internal */
  index(): void {
    this.enabledRules = this.rules.filter(
      (r) => r.enabled && r.source === SYSCALL_SOURCE && r.rank <= this.minRank,
    );
    this.auditRules = this.rules.filter(
      (r) => r.enabled && r.source === K8S_AUDIT_SOURCE && r.rank <= this.minRank,
    );
    this.byType.clear();
  }

  private forType(type: string): CompiledRule[] {
    let l = this.byType.get(type);
    if (!l) {
      l = this.enabledRules.filter((r) =>
        r.typeSet.all ? !r.typeSet.names.has(type) : r.typeSet.names.has(type),
      );
      this.byType.set(type, l);
    }
    return l;
  }

  /** Falco event type names the enabled rules need (for the kernel pre-filter); '*' when some rule needs every type. */
  eventTypes(): Set<string> {
    const out = new Set<string>();
    for (const r of this.enabledRules) {
      if (r.typeSet.all) out.add('*');
      else for (const t of r.typeSet.names) out.add(t);
    }
    return out;
  }

  /** Rules that match the event (call after `state.process(ev)`), as alerts. */
  evaluate(ev: SyscallEvent, state: StateTracker): Alert[] {
    if (INTERNAL_EVENTS.has(ev.type)) return [];
    const rules = this.forType(ev.type);
    let out: Alert[] | undefined;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (!r.filter(ev, state)) continue;
      (out ??= []).push(r.out.alert(ev, state, r, this.hostname));
      if (this.ruleMatching === 'first') break;
    }
    return out ?? [];
  }

  /** Rules of the k8s_audit source that match an audit event (load with sources including k8s_audit). */
  evaluateAudit(ev: K8sAuditEvent): Alert[] {
    const out: Alert[] = [];
    const fake = ev as unknown as SyscallEvent;
    for (const r of this.auditRules) {
      if (!r.filter(fake, undefined as unknown as StateTracker)) continue;
      out.push(r.out.alert(fake, undefined as unknown as StateTracker, r, this.hostname));
      if (this.ruleMatching === 'first') break;
    }
    return out;
  }
  private auditRules: CompiledRule[] = [];

  /** Like evaluate, but only the matching rules (no output rendering): for counting and benchmarks. */
  match(ev: SyscallEvent, state: StateTracker): CompiledRule[] {
    if (INTERNAL_EVENTS.has(ev.type)) return [];
    const rules = this.forType(ev.type);
    const out: CompiledRule[] = [];
    for (const r of rules) {
      if (r.filter(ev, state)) {
        out.push(r);
        if (this.ruleMatching === 'first') break;
      }
    }
    return out;
  }

  /**
   * Selects the rules to run, as Falco's -D/-T/-t options do: `keep` decides for each rule loaded
   * (its `enabled` from the files is passed in). The event-type index is rebuilt.
   */
  select(keep: (r: CompiledRule, enabledInFiles: boolean) => boolean): void {
    for (const r of this.rules) {
      const base = this.baseEnabled.get(r) ?? r.enabled;
      this.baseEnabled.set(r, base);
      r.enabled = keep(r, base);
    }
    this.index();
  }
  private baseEnabled = new Map<CompiledRule, boolean>();

  rule(name: string): CompiledRule | undefined {
    return this.rules.find((r) => r.name === name);
  }
}

function lineCol(
  content: string,
  lc: LineCounter | undefined,
  offset: number,
): { line: number; col: number } {
  if (lc) {
    const p = lc.linePos(offset);
    return { line: p.line, col: p.col };
  }
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < content.length; i++) {
    if (content[i] === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return { line, col };
}

/** Loads rule files in order; every file's result is in `files`, all issues in `errors`/`warnings`. */
export function loadRules(files: RuleFile[], opts: LoadOptions = {}): Ruleset {
  const rs = new Ruleset();
  rs.hostname = opts.hostname ?? '';
  rs.ruleMatching = opts.ruleMatching ?? 'first';
  rs.minRank = PRIORITIES.indexOf(opts.minPriority ?? 'debug');
  const sources = new Set(opts.sources ?? [SYSCALL_SOURCE]);
  const plugins =
    opts.plugins ??
    (sources.has(K8S_AUDIT_SOURCE) ? { ...BUILTIN_PLUGINS, ...K8S_AUDIT_PLUGINS } : BUILTIN_PLUGINS);
  const col = new Collector();
  const contents = new Map<string, { content: string; lc: LineCounter }>();
  let compiled: CompiledRule[] = [];
  let compiledLists = new Map<string, string[]>();
  let compiledMacros = new Map<string, string>();

  for (const f of files) {
    const res: FileResult = {
      file: f.name,
      successful: true,
      errors: [],
      warnings: [],
      schemaValidation: 'ok',
    };
    rs.files.push(res);
    const lc = new LineCounter();
    contents.set(f.name, { content: f.content, lc });
    const issue = (
      code: string,
      msg: string,
      ctx: Ctx | undefined,
      offsetIn?: { line: number; col: number },
    ): LoadIssue => {
      const file = ctx?.file ?? f.name;
      const src = contents.get(file);
      const pos = offsetIn ?? (src ? lineCol(src.content, src.lc, ctx?.offset ?? 0) : { line: 1, col: 1 });
      const lines = src ? src.content.split('\n') : [];
      const snippet = lines.slice(Math.max(0, pos.line - 1), pos.line + 2).join('\n');
      return {
        file,
        line: pos.line,
        column: pos.col,
        code,
        itemType: ctx?.itemType ?? 'rules content',
        itemName: ctx?.itemName ?? '',
        message: msg,
        snippet,
      };
    };
    const warn = (code: string, msg: string, ctx: Ctx) => res.warnings.push(issue(code, msg, ctx));
    const error = (code: string, msg: string, ctx: Ctx | undefined, pos?: { line: number; col: number }) => {
      res.errors.push(issue(code, msg, ctx, pos));
      res.successful = false;
    };
    const cfg: LoadConfig = { sources, warn };
    const reader = new Reader(f.name, col, warn);
    const fileCtx: Ctx = { file: f.name, offset: 0, itemType: 'rules content', itemName: '' };

    // read
    let readOk = true;
    const docs = parseAllDocuments(f.content, {
      lineCounter: lc,
      uniqueKeys: false,
      schema: 'failsafe',
      prettyErrors: false,
    });
    const docList = Array.isArray(docs) ? docs : [];
    const parseErr = docList.flatMap((d) => d.errors)[0];
    if (parseErr) {
      const lp = parseErr.linePos?.[0];
      error(
        'LOAD_ERR_YAML_PARSE',
        parseErr.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, ''),
        fileCtx,
        lp ? { line: lp.line, col: lp.col } : undefined,
      );
      readOk = false;
    } else {
      try {
        for (const doc of docList) {
          const root = doc.contents as YNode | null;
          if (root === null || isNull(root)) continue;
          if (!isMap(root) && !isSeq(root))
            throw new LoadFail('LOAD_ERR_YAML_VALIDATE', 'Rules content is not yaml', fileCtx);
          if (!isSeq(root))
            throw new LoadFail(
              'LOAD_ERR_YAML_VALIDATE',
              'Rules content is not yaml array of objects',
              fileCtx,
            );
          for (const it of root.items as (YNode | null)[]) if (!isNull(it)) reader.read(it, fileCtx, cfg);
        }
      } catch (e) {
        if (!(e instanceof LoadFail)) throw e;
        error(e.code, e.message, e.ctx);
        readOk = false;
      }
    }
    if (reader.schemaErrors.length) res.schemaValidation = `failed: ${reader.schemaErrors.join('; ')}`;
    if (!readOk) continue;

    // plugin requirements
    for (const req of col.requiredPlugins) {
      const ok = req.alternatives.some(
        (a) => plugins[a.name] !== undefined && semverCompatible(plugins[a.name]!, a.version),
      );
      if (!ok)
        error(
          'LOAD_ERR_VALIDATE',
          `Plugin requirement not satisfied, must load one of: ${req.alternatives.map((a) => `${a.name} (>= ${a.version})`).join(', ')}`,
          req.ctx,
        );
    }
    if (!res.successful) continue;

    // compile everything collected so far
    try {
      const out = compileAll(col, cfg, warn, (ctx) => {
        const src = contents.get(ctx.file);
        return src ? lineCol(src.content, src.lc, ctx.offset) : { line: 0, col: 0 };
      });
      compiled = out.rules;
      compiledLists = out.lists;
      compiledMacros = out.macros;
    } catch (e) {
      if (!(e instanceof LoadFail)) throw e;
      error(e.code, e.message, e.ctx, e instanceof PosFail ? e.pos : undefined);
    }
  }

  rs.rules.push(...compiled);
  for (const [k, v] of compiledLists) rs.lists.set(k, v);
  for (const [k, v] of compiledMacros) rs.macros.set(k, v);
  const seen = new Set<string>();
  for (const r of rs.files) {
    rs.errors.push(...r.errors);
    for (const w of r.warnings) {
      const k = `${w.code}\0${w.file}\0${w.line}\0${w.column}\0${w.message}`;
      if (seen.has(k)) continue;
      seen.add(k);
      rs.warnings.push(w);
    }
  }
  rs.index();
  return rs;
}

class PosFail extends LoadFail {
  constructor(
    code: string,
    message: string,
    ctx: Ctx,
    readonly pos: { line: number; col: number } | undefined,
  ) {
    super(code, message, ctx);
  }
}

function compileAll(
  col: Collector,
  cfg: LoadConfig,
  warn: (code: string, msg: string, ctx: Ctx) => void,
  pos: (ctx: Ctx) => { line: number; col: number },
): { rules: CompiledRule[]; lists: Map<string, string[]>; macros: Map<string, string> } {
  // lists: nested lists by visibility
  const lists: CompiledList[] = [];
  const usedNames: string[] = [];
  for (const l of col.lists.values()) {
    const items: string[] = [];
    for (const it of l.items) {
      const ref = col.lists.get(it);
      if (ref && ref.index < l.visibility) {
        usedNames.push(ref.name);
        items.push(...ref.items);
      } else items.push(it);
    }
    lists.push({ name: l.name, items, used: false });
  }
  const listByName = new Map(lists.map((l) => [l.name, l]));
  for (const n of usedNames) listByName.get(n)!.used = true;
  // lists are substituted one after the other, in definition order; a list's own items are as compiled above
  const substitute = (cond: string): string => {
    for (const l of lists) {
      const r = resolveList(cond, l.name, l.items);
      if (r.used) l.used = true;
      cond = r.cnd;
    }
    return cond;
  };
  const parse = (cond: string, ctx: Ctx): Node => {
    const text = substitute(cond);
    try {
      return parseCondition(text);
    } catch (e) {
      if (e instanceof ParseError)
        throw new LoadFail('LOAD_ERR_COMPILE_CONDITION', falcoParseMessage(e, text), ctx);
      throw e;
    }
  };

  // macros
  const macros = new Map<string, CompiledMacro>();
  for (const m of col.macros.values())
    macros.set(m.name, {
      name: m.name,
      ast: parse(m.cond, m.condCtx),
      used: false,
      visibility: m.visibility,
    });
  for (const m of col.macros.values()) {
    try {
      macros.get(m.name)!.ast = macroResolve(
        macros.get(m.name)!.ast,
        macros,
        m.visibility,
        [m.name],
        col.macros,
      );
    } catch (e) {
      if (e instanceof CompileError) throw new LoadFail('LOAD_ERR_VALIDATE', e.message, m.ctx);
      throw e;
    }
  }

  // rules
  const rules: CompiledRule[] = [];
  for (const r of col.rules.values()) {
    if (r.unknownSource) continue;
    let condition = r.cond;
    if (r.exceptions.length) condition = buildExceptions(r.exceptions, condition);
    let output = r.output;
    if (output.includes('%container.info')) {
      warn(
        'LOAD_DEPRECATED_ITEM',
        '%container.info is deprecated and no more useful, and will be dropped by Falco 1.0.0. The container plugin will automatically add required fields to the output message.',
        r.ctx,
      );
      output = output.split('%container.info').join('');
    }
    const fields = SOURCE_FIELDS[r.source] ?? FIELDS;
    let out: CompiledOutput;
    try {
      out = compileOutput(output, fields);
    } catch (e) {
      const msg = (e as Error).message;
      if (r.skipIfUnknownFilter && /invalid formatting token|nonexistent field/.test(msg)) {
        warn('LOAD_UNKNOWN_FILTER', msg, r.outputCtx);
        continue;
      }
      throw new LoadFail('LOAD_ERR_COMPILE_OUTPUT', msg, r.outputCtx);
    }
    if (output.includes('evt.dir'))
      warn(
        'LOAD_DEPRECATED_FIELD',
        "usage of deprecated field 'evt.dir' has been detected in the rule output",
        r.outputCtx,
      );
    let ast = parse(condition, r.condCtx);
    try {
      ast = macroResolve(ast, macros, Number.MAX_SAFE_INTEGER, [], col.macros);
    } catch (e) {
      if (e instanceof CompileError) throw new LoadFail('LOAD_ERR_VALIDATE', e.message, r.ctx);
      throw e;
    }
    if (hasDeprecatedEvtDir(ast))
      warn(
        'LOAD_DEPRECATED_FIELD',
        "usage of deprecated field 'evt.dir' has been detected in the rule condition",
        r.condCtx,
      );
    let cc;
    try {
      cc = compileCondition(ast, { fields, checkEventTypes: r.source === SYSCALL_SOURCE });
    } catch (e) {
      const msg = (e as Error).message;
      if (r.skipIfUnknownFilter && /nonexistent field|unknown event type/.test(msg)) {
        warn('LOAD_UNKNOWN_FILTER', msg, r.condCtx);
        continue;
      }
      if (e instanceof CompileError) throw new LoadFail('LOAD_ERR_COMPILE_CONDITION', msg, r.condCtx);
      throw e;
    }
    for (const w of cc.warnings) warn('LOAD_COMPILE_CONDITION', w, r.condCtx);
    const ts: TypeSet = r.source === SYSCALL_SOURCE ? eventTypesOf(ast) : { all: true, names: new Set() };
    if (r.source === SYSCALL_SOURCE && ts.all && r.warnEvttypes)
      warn(
        'LOAD_NO_EVTTYPE',
        'Rule matches too many evt.type values. This has a significant performance penalty.',
        r.ctx,
      );
    rules.push({
      name: r.name,
      desc: r.desc,
      condition: r.cond,
      compiledCondition: conditionToString(ast),
      output,
      priority: r.priority,
      tags: [...r.tags].sort(),
      source: r.source,
      enabled: r.enabled,
      capture: r.capture,
      captureDuration: r.captureDuration,
      eventTypes: cc.eventTypes,
      file: r.ctx.file,
      line: pos(r.ctx).line,
      filter: cc.filter,
      typeSet: ts,
      out,
      index: r.index,
      rank: PRIORITIES.indexOf(r.priority),
    });
  }
  for (const m of macros.values())
    if (!m.used)
      warn('LOAD_UNUSED_MACRO', 'Macro not referred to by any other rule/macro', col.macros.get(m.name)!.ctx);
  for (const l of lists)
    if (!l.used)
      warn('LOAD_UNUSED_LIST', 'List not referred to by any other rule/macro', col.lists.get(l.name)!.ctx);
  rules.sort((a, b) => a.index - b.index);
  return {
    rules,
    lists: new Map(lists.map((l) => [l.name, l.items])),
    macros: new Map([...macros.values()].map((m) => [m.name, conditionToString(m.ast)])),
  };
}

/** libsinsp's parser messages for the common cases ("unexpected token after 'X', expecting 'or', 'and'"). */
function falcoParseMessage(e: ParseError, text: string): string {
  const m = /^unexpected token/.exec(e.message);
  if (m) {
    const before = text.slice(0, e.pos.idx).trimEnd();
    const last = /([^\s()=<>!,]+)\)*$/.exec(before);
    if (last) return `unexpected token after '${last[1]}', expecting 'or', 'and'`;
  }
  return e.message;
}

export async function loadRuleFiles(paths: string[], opts: LoadOptions = {}): Promise<Ruleset> {
  const { readFile } = await import('node:fs/promises');
  const files = await Promise.all(paths.map(async (p) => ({ name: p, content: await readFile(p, 'utf8') })));
  return loadRules(files, opts);
}

export { FIELDS };
