/**
 * Falco conditions → closures over (event, state). Three steps, as libsinsp/Falco do them:
 *  1. `expandCondition`: macros (recursively, with loop detection) and list names inside value
 *     lists are substituted, giving the rule's whole tree;
 *  2. `conditionToString`: the expanded tree printed as Falco prints compiled conditions;
 *  3. `compileCondition`: fields resolved and type-checked against the operators, values parsed
 *     once, and one closure built per node. The event types a condition can match are derived
 *     from its `evt.type` checks, for indexing rules by event type.
 */
import type { SyscallEvent } from '../event.js';
import type { StateTracker } from '../state/index.js';
import { FIELDS, lookupField, type FieldDef, type FieldType, type FieldValue } from './fields.js';
import { EVENT_TYPES } from './evttypes.js';
import type { FieldExpr, LiteralItem, Node, Value } from './parser.js';

export type Filter = (ev: SyscallEvent, state: StateTracker) => boolean;

export interface CompileOptions {
  /** macro name → parsed condition (unexpanded) */
  macros?: Map<string, Node>;
  /** list name → items (nested lists already expanded) */
  lists?: Map<string, string[]>;
  /** field table (default: the syscall fields) */
  fields?: Record<string, FieldDef>;
  /** reject evt.type values that name no known event type (default true) */
  checkEventTypes?: boolean;
}

export class CompileError extends Error {}

// ---------------------------------------------------------------------------------------------
// 1. expansion

export interface ExpandUse {
  macros: Set<string>;
  lists: Set<string>;
}

/** Substitutes macros and list names; throws CompileError for an undefined macro or a macro loop. */
export function expandCondition(
  node: Node,
  macros: Map<string, Node>,
  lists: Map<string, string[]>,
  used: ExpandUse = { macros: new Set(), lists: new Set() },
): Node {
  const stack: string[] = [];
  const expandItems = (items: LiteralItem[]): LiteralItem[] => {
    const out: LiteralItem[] = [];
    for (const it of items) {
      const l = !it.quoted ? lists.get(it.value) : undefined;
      if (l) {
        used.lists.add(it.value);
        for (const v of l) out.push({ kind: 'literal', value: v, quoted: false });
      } else out.push(it);
    }
    return out;
  };
  const walk = (n: Node): Node => {
    switch (n.kind) {
      case 'and':
      case 'or':
        return { ...n, children: n.children.map(walk) };
      case 'not':
        return { ...n, child: walk(n.child) };
      case 'id': {
        const m = macros.get(n.name);
        if (!m) throw new CompileError(`Undefined macro '${n.name}' used in filter.`);
        if (stack.includes(n.name)) throw new CompileError(`Reference loop in macro '${n.name}'`);
        used.macros.add(n.name);
        stack.push(n.name);
        const r = walk(m);
        stack.pop();
        return r;
      }
      case 'check':
        if (n.right?.kind === 'list')
          return { ...n, right: { ...n.right, items: expandItems(n.right.items) } };
        if (n.right?.kind === 'listref') {
          const l = lists.get(n.right.name);
          if (l) {
            used.lists.add(n.right.name);
            return {
              ...n,
              right: {
                kind: 'list',
                items: l.map((v) => ({ kind: 'literal', value: v, quoted: false })),
                pos: n.right.pos,
              },
            };
          }
        }
        return n;
    }
  };
  return walk(node);
}

// ---------------------------------------------------------------------------------------------
// 2. printing

/** A value as libsinsp prints it: bare, or double-quoted with escapes when it needs quoting. */
export function escapeValue(s: string): string {
  if (s !== '' && !/[\s()"',\\=<>!]/.test(s)) return s;
  let out = '"';
  for (const c of s) {
    if (c === '"') out += '\\"';
    else if (c === '\\') out += '\\\\';
    else if (c === '\n') out += '\\n';
    else if (c === '\t') out += '\\t';
    else if (c === '\r') out += '\\r';
    else out += c;
  }
  return out + '"';
}

export function fieldToString(f: FieldExpr | LiteralItem): string {
  if (f.kind === 'literal') return f.quoted ? escapeValue(f.value) : f.value;
  if (f.kind === 'field') return f.arg !== undefined ? `${f.name}[${f.arg}]` : f.name;
  const inner =
    f.name === 'join'
      ? `${escapeValue(f.sep ?? '')}, (${f.args.map(fieldToString).join(', ')})`
      : f.args.map(fieldToString).join(', ');
  return `${f.name}(${inner})${f.arg !== undefined ? `[${f.arg}]` : ''}`;
}

function valueToString(v: Value): string {
  switch (v.kind) {
    case 'value':
      return escapeValue(v.value);
    case 'list':
      return `(${v.items.map((i) => escapeValue(i.value)).join(', ')})`;
    case 'listref':
      return v.name;
    case 'rhsfield':
      return fieldToString(v.expr);
  }
}

/** The condition as Falco prints a compiled rule's condition. */
export function conditionToString(n: Node): string {
  switch (n.kind) {
    case 'and':
    case 'or':
      return `(${n.children.map(conditionToString).join(` ${n.kind} `)})`;
    case 'not':
      return `not ${conditionToString(n.child)}`;
    case 'id':
      return n.name;
    case 'check': {
      const op = n.modifier ? `${n.op} ${n.modifier}` : n.op;
      return n.right
        ? `${fieldToString(n.left)} ${op} ${valueToString(n.right)}`
        : `${fieldToString(n.left)} ${op}`;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 3. event types

/**
 * A set of event types: `names` exactly, or (all) every type except `names`. `exact` when the
 * expression's truth depends on the event type alone (only then may `not` complement it).
 */
export interface TypeSet {
  all: boolean;
  names: Set<string>;
  exact?: boolean;
}
const ALL = (): TypeSet => ({ all: true, names: new Set(), exact: false });

function tsAnd(a: TypeSet, b: TypeSet): TypeSet {
  const exact = Boolean(a.exact && b.exact);
  if (!a.all && !b.all)
    return { all: false, names: new Set([...a.names].filter((x) => b.names.has(x))), exact };
  if (!a.all) return { all: false, names: new Set([...a.names].filter((x) => !b.names.has(x))), exact };
  if (!b.all) return { all: false, names: new Set([...b.names].filter((x) => !a.names.has(x))), exact };
  return { all: true, names: new Set([...a.names, ...b.names]), exact };
}
function tsOr(a: TypeSet, b: TypeSet): TypeSet {
  const exact = Boolean(a.exact && b.exact);
  if (!a.all && !b.all) return { all: false, names: new Set([...a.names, ...b.names]), exact };
  if (!a.all) return { all: true, names: new Set([...b.names].filter((x) => !a.names.has(x))), exact };
  if (!b.all) return { all: true, names: new Set([...a.names].filter((x) => !b.names.has(x))), exact };
  return { all: true, names: new Set([...a.names].filter((x) => b.names.has(x))), exact };
}

/** The event types an (expanded) condition can match, from its evt.type checks. */
export function eventTypesOf(n: Node): TypeSet {
  switch (n.kind) {
    case 'and':
      return n.children.map(eventTypesOf).reduce(tsAnd);
    case 'or':
      return n.children.map(eventTypesOf).reduce(tsOr);
    case 'not': {
      const c = eventTypesOf(n.child);
      return c.exact ? { all: !c.all, names: c.names, exact: true } : ALL();
    }
    case 'id':
      return ALL();
    case 'check': {
      // evt.num = 0 never holds (events are numbered from 1): Falco's never_true placeholder
      if (
        n.left.kind === 'field' &&
        n.left.name === 'evt.num' &&
        (n.op === '=' || n.op === '==') &&
        n.right?.kind === 'value' &&
        n.right.value === '0'
      )
        return { all: false, names: new Set(), exact: true };
      if (n.left.kind !== 'field' || n.left.name !== 'evt.type' || n.modifier || !n.right) return ALL();
      const r = n.right;
      if ((n.op === '=' || n.op === '==') && r.kind === 'value')
        return { all: false, names: new Set([r.value]), exact: true };
      if (n.op === '!=' && r.kind === 'value') return { all: true, names: new Set([r.value]), exact: true };
      if (n.op === 'in' && r.kind === 'list')
        return { all: false, names: new Set(r.items.map((i) => i.value)), exact: true };
      return ALL();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 4. compilation

const NUMERIC: ReadonlySet<FieldType> = new Set(['int', 'uint', 'abstime', 'reltime', 'port']);
const STRING_OPS = [
  '=',
  '==',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  'contains',
  'icontains',
  'startswith',
  'endswith',
  'glob',
  'iglob',
  'regex',
  'in',
  'intersects',
  'pmatch',
  'exists',
];
const OPS_BY_TYPE: Record<FieldType, ReadonlySet<string>> = {
  string: new Set(STRING_OPS),
  bytebuf: new Set([
    '=',
    '==',
    '!=',
    'contains',
    'startswith',
    'endswith',
    'bcontains',
    'bstartswith',
    'in',
    'intersects',
    'exists',
  ]),
  int: new Set(['=', '==', '!=', '<', '<=', '>', '>=', 'in', 'intersects', 'exists']),
  uint: new Set(['=', '==', '!=', '<', '<=', '>', '>=', 'in', 'intersects', 'exists']),
  abstime: new Set(['=', '==', '!=', '<', '<=', '>', '>=', 'in', 'intersects', 'exists']),
  reltime: new Set(['=', '==', '!=', '<', '<=', '>', '>=', 'in', 'intersects', 'exists']),
  port: new Set(['=', '==', '!=', '<', '<=', '>', '>=', 'in', 'intersects', 'exists']),
  bool: new Set(['=', '==', '!=', 'in', 'intersects', 'exists']),
  ipaddr: new Set(['=', '==', '!=', 'in', 'intersects', 'exists']),
  ipnet: new Set(['=', '==', '!=', 'in', 'intersects', 'exists']),
};
/** operators that take a modifier (oneof/anyof/allof) */
const MODIFIABLE = new Set([
  '=',
  '==',
  '!=',
  'contains',
  'icontains',
  'startswith',
  'endswith',
  'glob',
  'iglob',
  'regex',
  'bcontains',
  'bstartswith',
]);
export const TRANSFORMERS = new Set(['tolower', 'toupper', 'b64', 'basename', 'len', 'val', 'join']);

type Getter = (ev: SyscallEvent, st: StateTracker) => FieldValue;
interface Typed {
  get: Getter;
  type: FieldType;
  list?: boolean;
}

function resolveField(f: FieldExpr, fields: Record<string, FieldDef>): Typed {
  if (f.kind === 'field') {
    const found = lookupField(f.name, fields);
    if (!found) throw new CompileError(`filter_check called with nonexistent field ${f.name}`);
    const def = found.def;
    if (found.arg !== undefined && f.arg !== undefined)
      throw new CompileError(`field '${f.name}' does not support arguments`);
    if (f.arg !== undefined && !def.arg)
      throw new CompileError(`field '${f.name}' does not support arguments`);
    if (f.arg === undefined && found.arg === undefined && def.arg === 'required')
      throw new CompileError(`field '${f.name}' requires an argument`);
    if (f.arg !== undefined && def.argIndex && !/^[0-9]+$/.test(f.arg))
      throw new CompileError(`field '${f.name}': argument '${f.arg}' is not a number`);
    const arg = f.arg ?? found.arg;
    const g = def.get;
    return { get: (ev, st) => g(ev, st, arg), type: def.type, list: def.list && arg === undefined };
  }
  if (f.arg !== undefined)
    throw new CompileError(`filter error: transformer '${f.name}' does not support field arguments`);
  if (f.name === 'join') {
    const parts = f.args.map((a) =>
      a.kind === 'literal' ? { get: () => a.value, type: 'string' as FieldType } : resolveField(a, fields),
    );
    const sep = f.sep ?? '';
    return {
      type: 'string',
      get: (ev, st) => {
        const out: string[] = [];
        for (const p of parts) {
          const v = p.get(ev, st);
          if (v === undefined) continue;
          if (Array.isArray(v)) out.push(...v.map(String));
          else out.push(show(v));
        }
        return out.join(sep);
      },
    };
  }
  const inner = resolveField(f.args[0] as FieldExpr, fields);
  const ig = inner.get;
  const strOnly = (name: string) => {
    if (inner.type !== 'string' && inner.type !== 'bytebuf')
      throw new CompileError(`transformer '${name}' is not supported on field type ${inner.type}`);
  };
  const mapStr =
    (fn: (s: string) => FieldValue): Getter =>
    (ev, st) => {
      const v = ig(ev, st);
      if (v === undefined) return undefined;
      if (Array.isArray(v)) return v.map((x) => fn(x) as string);
      return fn(v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : String(v));
    };
  switch (f.name) {
    case 'tolower':
      strOnly('tolower');
      return { type: 'string', get: mapStr((s) => s.toLowerCase()) };
    case 'toupper':
      strOnly('toupper');
      return { type: 'string', get: mapStr((s) => s.toUpperCase()) };
    case 'b64':
      strOnly('b64');
      return { type: 'string', get: mapStr((s) => Buffer.from(s, 'base64').toString('latin1')) };
    case 'basename':
      strOnly('basename');
      return { type: 'string', get: mapStr((s) => s.slice(s.lastIndexOf('/') + 1)) };
    case 'len':
      return {
        type: 'int',
        get: (ev, st) => {
          const v = ig(ev, st);
          if (v === undefined) return undefined;
          if (Array.isArray(v) || v instanceof Uint8Array || typeof v === 'string') return v.length;
          return show(v).length;
        },
      };
    case 'val':
      return inner;
  }
  throw new CompileError(`unknown transformer '${f.name}'`);
}

function show(v: Exclude<FieldValue, undefined>): string {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
  if (Array.isArray(v)) return v.join(' ');
  return String(v);
}

function parseNum(s: string, type: FieldType): number | bigint {
  const t = s.trim();
  if (/^[+-]?[0-9]+$/.test(t)) {
    const b = BigInt(t);
    return b <= BigInt(Number.MAX_SAFE_INTEGER) && b >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(b) : b;
  }
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) return Number(BigInt(t));
  throw new CompileError(`'${s}' is not a valid number for a field of type ${type}`);
}

function parseBool(s: string): boolean {
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  throw new CompileError(`'${s}' is not a valid boolean`);
}

function parseHex(s: string): Buffer {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(s)) throw new CompileError(`'${s}' is not a valid hex string`);
  return Buffer.from(s, 'hex');
}

/** IPv4 (and IPv6 text) address or CIDR network → a matcher. */
function ipMatcher(s: string): (ip: string) => boolean {
  const [addr, bitsS] = s.split('/');
  const v4 = ipv4(addr!);
  if (v4 !== undefined) {
    const bits = bitsS === undefined ? 32 : Number(bitsS);
    if (!(bits >= 0 && bits <= 32)) throw new CompileError(`'${s}' is not a valid IP network`);
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    const net = (v4 & mask) >>> 0;
    return (ip) => {
      const x = ipv4(ip);
      return x !== undefined && (x & mask) >>> 0 === net;
    };
  }
  if (addr!.includes(':')) {
    const want = expand6(addr!);
    const bits = bitsS === undefined ? 128 : Number(bitsS);
    return (ip) => {
      if (!ip.includes(':')) return false;
      const got = expand6(ip);
      return prefixBits(want, got, bits);
    };
  }
  throw new CompileError(`'${s}' is not a valid IP address`);
}
/** Dotted-quad IPv4 text → its 32-bit value; undefined for anything else. Runs per event on
 * fd.net-style comparisons, so it parses by hand (no regex, no allocation). */
function ipv4(s: string): number | undefined {
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return undefined;
      v = v * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (++digits > 3) return undefined;
      part = part * 10 + (c - 48);
      if (part > 255) return undefined;
    } else return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return (v * 256 + part) >>> 0;
}
function expand6(s: string): string {
  const [h, t] = s.split('::');
  const hp = h ? h.split(':') : [];
  const tp = t !== undefined && t ? t.split(':') : [];
  const fill = t !== undefined ? Array(Math.max(0, 8 - hp.length - tp.length)).fill('0') : [];
  return [...hp, ...fill, ...tp]
    .map((x) =>
      parseInt(x || '0', 16)
        .toString(2)
        .padStart(16, '0'),
    )
    .join('');
}
function prefixBits(a: string, b: string, bits: number): boolean {
  return a.slice(0, bits) === b.slice(0, bits);
}

/** Falco's glob (fnmatch without FNM_PATHNAME: '*' crosses '/'). */
export function globToRegExp(g: string, ci = false): RegExp {
  let re = '^';
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const j = g.indexOf(']', i + 2);
      if (j < 0) re += '\\[';
      else {
        let cls = g.slice(i + 1, j);
        if (cls.startsWith('!')) cls = '^' + cls.slice(1);
        re += '[' + cls.replace(/\\/g, '\\\\') + ']';
        i = j;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(re + '$', ci ? 'is' : 's');
}

type Pred = (v: Exclude<FieldValue, undefined>) => boolean;

function toStr(v: Exclude<FieldValue, undefined>): string {
  return typeof v === 'string' ? v : show(v);
}

/** One comparison against a constant value, for a field type. */
function scalarPred(type: FieldType, op: string, raw: string): Pred {
  if (op === '==') op = '=';
  if (NUMERIC.has(type)) {
    const n = parseNum(raw, type);
    const cmp = (x: Exclude<FieldValue, undefined>): number => {
      const a = typeof x === 'bigint' || typeof n === 'bigint' ? BigInt(x as number) : (x as number);
      const b = typeof a === 'bigint' ? BigInt(n) : (n as number);
      return a < b ? -1 : a > b ? 1 : 0;
    };
    const num = (x: Exclude<FieldValue, undefined>): Exclude<FieldValue, undefined> =>
      typeof x === 'string' ? (/^-?[0-9]+$/.test(x) ? Number(x) : NaN) : x;
    switch (op) {
      case '=':
        return (x) => cmp(num(x)) === 0;
      case '!=':
        return (x) => cmp(num(x)) !== 0;
      case '<':
        return (x) => cmp(num(x)) < 0;
      case '<=':
        return (x) => cmp(num(x)) <= 0;
      case '>':
        return (x) => cmp(num(x)) > 0;
      case '>=':
        return (x) => cmp(num(x)) >= 0;
    }
  }
  if (type === 'bool') {
    const b = parseBool(raw);
    return op === '!=' ? (x) => Boolean(x) !== b : (x) => Boolean(x) === b;
  }
  if (type === 'ipaddr' || type === 'ipnet') {
    const m = ipMatcher(raw);
    return op === '!=' ? (x) => !m(toStr(x)) : (x) => m(toStr(x));
  }
  if (type === 'bytebuf' && (op === 'bcontains' || op === 'bstartswith')) {
    const needle = parseHex(raw);
    if (op === 'bcontains')
      return (x) =>
        Buffer.from(x instanceof Uint8Array ? x : Buffer.from(toStr(x), 'latin1')).includes(needle);
    return (x) => {
      const b = x instanceof Uint8Array ? x : Buffer.from(toStr(x), 'latin1');
      return b.length >= needle.length && Buffer.from(b.buffer, b.byteOffset, needle.length).equals(needle);
    };
  }
  switch (op) {
    case '=':
      return (x) => toStr(x) === raw;
    case '!=':
      return (x) => toStr(x) !== raw;
    case '<':
      return (x) => toStr(x) < raw;
    case '<=':
      return (x) => toStr(x) <= raw;
    case '>':
      return (x) => toStr(x) > raw;
    case '>=':
      return (x) => toStr(x) >= raw;
    case 'contains':
      return (x) => toStr(x).includes(raw);
    case 'icontains': {
      const l = raw.toLowerCase();
      return (x) => toStr(x).toLowerCase().includes(l);
    }
    case 'startswith':
      return (x) => toStr(x).startsWith(raw);
    case 'endswith':
      return (x) => toStr(x).endsWith(raw);
    case 'glob': {
      const re = globToRegExp(raw);
      return (x) => re.test(toStr(x));
    }
    case 'iglob': {
      const re = globToRegExp(raw, true);
      return (x) => re.test(toStr(x));
    }
    case 'regex': {
      let re: RegExp;
      try {
        re = new RegExp(`^(?:${raw})$`, 's');
      } catch (e) {
        throw new CompileError(`invalid regular expression '${raw}': ${(e as Error).message}`);
      }
      return (x) => re.test(toStr(x));
    }
  }
  throw new CompileError(`operator '${op}' is not supported`);
}

/** Set membership (in / intersects) for a field type. */
function setPred(type: FieldType, items: string[]): Pred {
  if (type === 'ipaddr' || type === 'ipnet') {
    const ms = items.map(ipMatcher);
    return (x) => {
      const s = toStr(x);
      return ms.some((m) => m(s));
    };
  }
  if (NUMERIC.has(type)) {
    const set = new Set(items.map((i) => String(parseNum(i, type))));
    return (x) => set.has(String(x));
  }
  if (type === 'bool') {
    const set = new Set(items.map(parseBool));
    return (x) => set.has(Boolean(x));
  }
  const set = new Set(items);
  return (x) => set.has(toStr(x));
}

/** pmatch: the value is one of the paths or below one of them. */
function pmatchPred(items: string[]): Pred {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const globs: RegExp[] = [];
  for (let it of items) {
    if (/[*?[]/.test(it)) globs.push(globToRegExp(it));
    if (it.length > 1 && it.endsWith('/')) it = it.slice(0, -1);
    exact.add(it);
    prefixes.push(it === '/' ? '/' : it + '/');
  }
  return (x) => {
    const s = toStr(x);
    if (exact.has(s)) return true;
    for (const p of prefixes) if (s.startsWith(p)) return true;
    for (const g of globs) if (g.test(s)) return true;
    return false;
  };
}

/** Any value of a (possibly multi-valued) field satisfies p. */
function anyOf(v: Exclude<FieldValue, undefined>, p: Pred): boolean {
  if (Array.isArray(v)) {
    for (const x of v) if (p(x)) return true;
    return false;
  }
  return p(v);
}

const RE_FIELD_LIKE = /^[a-zA-Z][a-zA-Z0-9_]*(?:\.[a-zA-Z][a-zA-Z0-9_]*)+(?:\[[^\]]*\])?$/;
const RE_TRANSFORMER_LIKE = /^([a-z0-9]+)\(\s*(.*?)\s*\)$/;

function fieldLike(s: string, fields: Record<string, FieldDef>): boolean {
  if (!RE_FIELD_LIKE.test(s)) return false;
  return lookupField(s.replace(/\[.*$/, ''), fields) !== undefined;
}

/** Warnings libsinsp gives for a constant value that looks like a field, and for regexes a string operator can express. */
function valueWarnings(raw: string, op: string, fields: Record<string, FieldDef>, out: string[]): void {
  const t = raw.trim();
  if (fieldLike(t, fields)) out.push(`'${raw}' may be a valid field misused as a const string value`);
  else {
    const m = RE_TRANSFORMER_LIKE.exec(t);
    if (m && TRANSFORMERS.has(m[1]!) && fieldLike(m[2]!, fields))
      out.push(`'${raw}' may be a valid field transformer misused as a const string value`);
  }
  if (op === 'regex' && /^\^?(?:\.[*+?])?[a-zA-Z0-9_\-/ ]+(?:\.[*+?])?\$?$/.test(raw))
    out.push(
      `regex '${raw}' matches a plain string: a string operator (=, contains, startswith, endswith) is faster`,
    );
}

export interface CompiledCondition {
  filter: Filter;
  /** event types the condition can match; undefined = every type (no evt.type restriction) */
  eventTypes: Set<string> | undefined;
  /** the full type set (every type but `names` when `all`) */
  typeSet: TypeSet;
  warnings: string[];
  /** fields the condition reads */
  fieldsUsed: Set<string>;
}

/**
 * Compiles a condition. With `macros`/`lists` in the options the tree is expanded first;
 * pass an already expanded tree with neither.
 */
export function compileCondition(node: Node, opts: CompileOptions = {}): CompiledCondition {
  const fields = opts.fields ?? FIELDS;
  const expanded =
    opts.macros || opts.lists
      ? expandCondition(node, opts.macros ?? new Map(), opts.lists ?? new Map())
      : node;
  const warnings: string[] = [];
  const fieldsUsed = new Set<string>();
  const noteFields = (f: FieldExpr) => {
    if (f.kind === 'field') fieldsUsed.add(f.name);
    else for (const a of f.args) if (a.kind !== 'literal') noteFields(a);
  };

  const build = (n: Node): Filter => {
    switch (n.kind) {
      case 'and': {
        const cs = n.children.map(build);
        if (cs.length === 2) {
          const [a, b] = cs as [Filter, Filter];
          return (ev, st) => a(ev, st) && b(ev, st);
        }
        return (ev, st) => {
          for (const c of cs) if (!c(ev, st)) return false;
          return true;
        };
      }
      case 'or': {
        const cs = n.children.map(build);
        if (cs.length === 2) {
          const [a, b] = cs as [Filter, Filter];
          return (ev, st) => a(ev, st) || b(ev, st);
        }
        return (ev, st) => {
          for (const c of cs) if (c(ev, st)) return true;
          return false;
        };
      }
      case 'not': {
        const c = build(n.child);
        return (ev, st) => !c(ev, st);
      }
      case 'id':
        throw new CompileError(`Undefined macro '${n.name}' used in filter.`);
      case 'check':
        return buildCheck(n);
    }
  };

  const buildCheck = (n: Extract<Node, { kind: 'check' }>): Filter => {
    noteFields(n.left);
    const lf = resolveField(n.left, fields);
    const get = lf.get;
    const type = lf.type;
    const opName = n.modifier ? `${n.op} ${n.modifier}` : n.op;
    if (!OPS_BY_TYPE[type].has(n.op))
      throw new CompileError(
        `operator '${n.op}' is not supported by field '${fieldToString(n.left)}' of type ${type}`,
      );
    if (n.modifier && !MODIFIABLE.has(n.op))
      throw new CompileError(`'${opName}' is not a supported comparison operator`);
    if (n.op === 'exists') return (ev, st) => get(ev, st) !== undefined;
    const r = n.right!;
    if (n.left.kind === 'field' && n.left.name === 'evt.type' && opts.checkEventTypes !== false) {
      const vals = r.kind === 'value' ? [r.value] : r.kind === 'list' ? r.items.map((i) => i.value) : [];
      for (const v of vals) if (!EVENT_TYPES.has(v)) throw new CompileError(`unknown event type ${v}`);
    }
    if (r.kind === 'rhsfield') {
      noteFields(r.expr);
      const rf = resolveField(r.expr, fields);
      const rg = rf.get;
      const op = n.op === '==' ? '=' : n.op;
      return (ev, st) => {
        const v = get(ev, st);
        const w = rg(ev, st);
        if (v === undefined || w === undefined) return false;
        const ws = Array.isArray(w) ? w.map(String) : [toStr(w)];
        if (op === 'in' || op === 'intersects') return anyOf(v, (x) => ws.includes(toStr(x)));
        if (op === 'pmatch') return anyOf(v, pmatchPred(ws));
        return anyOf(v, (x) =>
          ws.some((s) => scalarPredCached(type === 'string' ? 'string' : type, op, s)(x)),
        );
      };
    }
    if (r.kind === 'listref') throw new CompileError(`Undefined list '${r.name}' used in filter.`);
    if (n.op === 'in' || n.op === 'intersects' || n.op === 'pmatch') {
      if (r.kind !== 'list') throw new CompileError(`operator '${n.op}' needs a list`);
      const items = r.items.map((i) => i.value);
      const p = n.op === 'pmatch' ? pmatchPred(items) : setPred(type, items);
      if (lf.list && n.op === 'in')
        return (ev, st) => {
          const v = get(ev, st);
          return v !== undefined && (Array.isArray(v) ? v.every((x) => p(x)) : p(v));
        };
      return (ev, st) => {
        const v = get(ev, st);
        return v !== undefined && anyOf(v, p);
      };
    }
    if (n.modifier) {
      if (r.kind !== 'list') throw new CompileError(`operator '${opName}' needs a list`);
      const ps = r.items.map((i) => {
        valueWarnings(i.value, n.op, fields, warnings);
        return scalarPred(type, n.op, i.value);
      });
      if (n.modifier === 'allof')
        return (ev, st) => {
          const v = get(ev, st);
          return v !== undefined && ps.every((p) => anyOf(v, p));
        };
      return (ev, st) => {
        const v = get(ev, st);
        return v !== undefined && ps.some((p) => anyOf(v, p));
      };
    }
    if (r.kind !== 'value') throw new CompileError(`operator '${n.op}' needs a single value, not a list`);
    valueWarnings(r.value, n.op, fields, warnings);
    const p = scalarPred(type, n.op, r.value);
    return (ev, st) => {
      const v = get(ev, st);
      return v !== undefined && anyOf(v, p);
    };
  };

  const filter = build(expanded);
  const typeSet = eventTypesOf(expanded);
  return { filter, eventTypes: typeSet.all ? undefined : typeSet.names, typeSet, warnings, fieldsUsed };
}

const predCache = new Map<string, Pred>();
function scalarPredCached(type: FieldType, op: string, raw: string): Pred {
  const k = `${type}\0${op}\0${raw}`;
  let p = predCache.get(k);
  if (!p) {
    try {
      p = scalarPred(type, op, raw);
    } catch {
      p = () => false;
    }
    if (predCache.size > 4096) predCache.clear();
    predCache.set(k, p);
  }
  return p;
}
