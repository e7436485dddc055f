/**
 * Alerts and their rendering, exactly as Falco prints them: text
 * `HH:MM:SS.nnnnnnnnn: Priority output` and JSON with keys in Falco's (sorted) order:
 * hostname, output, output_fields, priority, rule, source, tags, time.
 * Rule outputs are compiled once: `%field`, `%field[arg]`, `%evt.arg.NAME` and `%(field)` tokens
 * resolved against the field table; a field that does not apply to the event prints `<NA>`
 * (and is null in output_fields).
 */
import type { SyscallEvent } from '../event.js';
import type { StateTracker } from '../state/index.js';
import { lookupField, type FieldDef, type FieldValue } from './fields.js';

export type AlertFormat = 'json' | 'text';

export type OutputValue = string | number | bigint | boolean | null;

export interface Alert {
  /** event time, ns since the epoch */
  ts: bigint;
  rule: string;
  /** Falco's capitalised priority name: Emergency, Alert, Critical, Error, Warning, Notice, Informational, Debug */
  priority: string;
  /** the rule's output with %fields resolved (no time/priority prefix) */
  output: string;
  output_fields: Record<string, OutputValue>;
  tags: string[];
  source: string;
  hostname: string;
  /** evt.num of the event that fired (not part of Falco's JSON) */
  evtNum: number;
}

/** ISO-8601 UTC time with nanoseconds, as Falco's JSON `time`. */
export function isoTime(ts: bigint): string {
  const ms = Number(ts / 1000000n);
  const ns = (ts % 1000000000n).toString().padStart(9, '0');
  return new Date(ms).toISOString().slice(0, 19) + '.' + ns + 'Z';
}

/** evt.time as Falco prints it (HH:MM:SS.nnnnnnnnn, UTC here). */
export function clockTime(ts: bigint): string {
  const ms = Number(ts / 1000000n);
  const ns = (ts % 1000000000n).toString().padStart(9, '0');
  return new Date(ms).toISOString().slice(11, 19) + '.' + ns;
}

/** JSON with bigint values written as integers (Falco writes 64-bit numbers exactly). */
function jsonValue(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(jsonValue).join(',')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${JSON.stringify(k)}:${jsonValue(x)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Falco's time_format_iso_8601 prefix: 2016-08-04T16:17:57.881781397+0000 */
export function isoPrefixTime(ts: bigint): string {
  return isoTime(ts).slice(0, -1) + '+0000';
}

export interface FormatOptions {
  /** Falco's time_format_iso_8601: ISO time in the output line, evt.time.iso8601 in output_fields */
  iso8601?: boolean;
}

export function formatAlert(a: Alert, format: AlertFormat, opts: FormatOptions = {}): string {
  const line = `${opts.iso8601 ? isoPrefixTime(a.ts) : clockTime(a.ts)}: ${a.priority} ${a.output}`;
  if (format === 'text') return line;
  let fields = a.output_fields;
  if (opts.iso8601 && 'evt.time' in fields) {
    const { 'evt.time': t, ...rest } = fields;
    fields = Object.fromEntries(
      Object.entries({ ...rest, 'evt.time.iso8601': t }).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
    );
  }
  return jsonValue({
    hostname: a.hostname,
    output: line,
    output_fields: fields,
    priority: a.priority,
    rule: a.rule,
    source: a.source,
    tags: a.tags,
    time: isoTime(a.ts),
  });
}

const NUMERIC = new Set(['int', 'uint', 'abstime', 'reltime', 'port']);

/** A field value as libsinsp prints it in an output string. */
export function renderValue(v: FieldValue, def: FieldDef): string {
  if (v === undefined) return '<NA>';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Uint8Array) {
    let s = '';
    for (const b of v) s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    return s;
  }
  if (Array.isArray(v)) return v.join(' ');
  void def;
  return String(v);
}

function jsonField(v: FieldValue, def: FieldDef): OutputValue {
  if (v === undefined) return null;
  if (NUMERIC.has(def.type) && (typeof v === 'number' || typeof v === 'bigint')) {
    if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER))
      return Number(v);
    return v;
  }
  if (typeof v === 'boolean') return v;
  return renderValue(v, def);
}

interface Token {
  text?: string;
  field?: { key: string; def: FieldDef; arg: string | undefined };
}

export interface CompiledOutput {
  format: string;
  /** output field names (as written: "proc.aname[2]"), in order of first use */
  fields: string[];
  render(ev: SyscallEvent, st: StateTracker): { output: string; fields: Record<string, OutputValue> };
  alert(
    ev: SyscallEvent,
    st: StateTracker,
    rule: { name: string; priority: string; tags: string[]; source: string },
    hostname: string,
  ): Alert;
}

const RE_NAME = /[a-zA-Z_][a-zA-Z0-9_]*(?:\.[a-zA-Z_][a-zA-Z0-9_]*)*/y;
const PRIO: Record<string, string> = {
  emergency: 'Emergency',
  alert: 'Alert',
  critical: 'Critical',
  error: 'Error',
  warning: 'Warning',
  notice: 'Notice',
  informational: 'Informational',
  debug: 'Debug',
};

/** Parses an output format; throws on an unknown field ("invalid formatting token X"). */
export function compileOutput(format: string, fields?: Record<string, FieldDef>): CompiledOutput {
  const toks: Token[] = [];
  let text = '';
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    if (c !== '%') {
      text += c;
      i++;
      continue;
    }
    let j = i + 1;
    let paren = false;
    if (format[j] === '(') {
      paren = true;
      j++;
    }
    RE_NAME.lastIndex = j;
    const m = RE_NAME.exec(format);
    if (!m) {
      text += c;
      i++;
      continue;
    }
    // the longest known field name at this position (a trailing ".word" can be evt.arg.NAME)
    let name = m[0];
    let arg: string | undefined;
    let found = lookupField(name, fields);
    while (!found && name.includes('.')) {
      name = name.slice(0, name.lastIndexOf('.'));
      found = lookupField(name, fields);
    }
    if (!found) throw new Error(`invalid formatting token ${m[0]}`);
    j += name.length;
    arg = found.arg;
    if (format[j] === '[' && found.def.arg) {
      const k = format.indexOf(']', j);
      if (k < 0) throw new Error(`invalid formatting token ${format.slice(i + 1)}`);
      arg = format.slice(j + 1, k);
      name += format.slice(j, k + 1);
      j = k + 1;
    }
    if (paren) {
      if (format[j] !== ')') throw new Error(`invalid formatting token ${format.slice(i + 1, j + 1)}`);
      j++;
    }
    if (found.def.arg === 'required' && arg === undefined)
      throw new Error(`invalid formatting token ${name}: the field requires an argument`);
    if (text) toks.push({ text });
    text = '';
    toks.push({ field: { key: name, def: found.def, arg } });
    i = j;
  }
  if (text) toks.push({ text });
  const fieldNames = [...new Set(toks.filter((t) => t.field).map((t) => t.field!.key))];

  const render = (ev: SyscallEvent, st: StateTracker) => {
    let output = '';
    const out: Record<string, OutputValue> = {};
    for (const t of toks) {
      if (t.text !== undefined) output += t.text;
      else {
        const f = t.field!;
        const v = f.def.get(ev, st, f.arg);
        output += renderValue(v, f.def);
        out[f.key] = jsonField(v, f.def);
      }
    }
    const sorted: Record<string, OutputValue> = {};
    for (const k of Object.keys(out).sort()) sorted[k] = out[k]!;
    return { output, fields: sorted };
  };
  return {
    format,
    fields: fieldNames,
    render,
    alert(ev, st, rule, hostname) {
      const r = render(ev, st);
      // the time prefix is a field of Falco's output format too ("%evt.time: %priority %output")
      const t = ev.ts <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(ev.ts) : ev.ts;
      r.fields = Object.fromEntries(
        Object.entries({ ...r.fields, 'evt.time': t }).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
      );
      return {
        ts: ev.ts,
        rule: rule.name,
        priority: PRIO[rule.priority] ?? rule.priority,
        output: r.output,
        output_fields: r.fields,
        tags: rule.tags,
        source: rule.source,
        hostname,
        evtNum: ev.num,
      };
    },
  };
}
