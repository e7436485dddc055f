/**
 * The subset of Kubernetes' JSONPath templates (k8s.io/client-go/util/jsonpath) that benchmark
 * checks use, with kube-bench's settings (missing keys allowed, i.e. they print nothing):
 *   {.a.b.c}  {.a['b.c']}  {.list[0]}  {.list[*].x}  {.list[:]}  {range .list[*]}{.x}{','}{end}  {@}  {}
 * Printing follows kubectl: strings raw, numbers and booleans as text, objects and arrays as JSON,
 * several results of one expression separated by a space.
 */
import { BulwarkError } from '../core/errors.js';

type Seg = { kind: 'field'; name: string } | { kind: 'index'; index: number } | { kind: 'all' };
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'expr'; segs: Seg[] }
  | { kind: 'range'; segs: Seg[]; body: Node[] };

function parseExpr(src: string, template: string): Seg[] {
  let s = src.trim();
  if (s === '' || s === '@') return [];
  if (s.startsWith('@')) s = s.slice(1);
  if (s.startsWith('$')) s = s.slice(1);
  const segs: Seg[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === '.') {
      let j = i + 1;
      while (j < s.length && s[j] !== '.' && s[j] !== '[') j++;
      const name = s.slice(i + 1, j);
      if (name === '*') segs.push({ kind: 'all' });
      else if (name) segs.push({ kind: 'field', name });
      i = j;
    } else if (c === '[') {
      const j = s.indexOf(']', i);
      if (j < 0) throw new BulwarkError('PARSE', `unterminated [ in JSONPath ${template}`);
      const inner = s.slice(i + 1, j).trim();
      const q = /^(['"])(.*)\1$/.exec(inner);
      if (q) segs.push({ kind: 'field', name: q[2]! });
      else if (inner === '*' || inner === ':') segs.push({ kind: 'all' });
      else if (/^-?\d+$/.test(inner)) segs.push({ kind: 'index', index: Number(inner) });
      else throw new BulwarkError('PARSE', `unsupported subscript [${inner}] in JSONPath ${template}`);
      i = j + 1;
    } else {
      throw new BulwarkError('PARSE', `unexpected "${c}" in JSONPath ${template}`);
    }
  }
  return segs;
}

/** Parses a template into literal text, expressions and range blocks. */
export function parseTemplate(template: string): Node[] {
  const tokens: { kind: 'text' | 'expr'; v: string }[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open < 0) {
      tokens.push({ kind: 'text', v: template.slice(i) });
      break;
    }
    if (open > i) tokens.push({ kind: 'text', v: template.slice(i, open) });
    // a quoted string inside braces may itself contain braces or commas: {','}
    let j = open + 1;
    let quote = '';
    for (; j < template.length; j++) {
      const ch = template[j];
      if (quote) {
        if (ch === quote) quote = '';
      } else if (ch === "'" || ch === '"') quote = ch;
      else if (ch === '}') break;
    }
    if (j >= template.length) throw new BulwarkError('PARSE', `unclosed { in JSONPath ${template}`);
    tokens.push({ kind: 'expr', v: template.slice(open + 1, j) });
    i = j + 1;
  }
  let pos = 0;
  const parseList = (inRange: boolean): Node[] => {
    const out: Node[] = [];
    while (pos < tokens.length) {
      const t = tokens[pos++]!;
      if (t.kind === 'text') {
        out.push({ kind: 'text', text: t.v });
        continue;
      }
      const v = t.v.trim();
      const lit = /^(['"])(.*)\1$/s.exec(v);
      if (lit) out.push({ kind: 'text', text: lit[2]! });
      else if (v === 'end') {
        if (!inRange) throw new BulwarkError('PARSE', `{end} without {range} in JSONPath ${template}`);
        return out;
      } else if (v.startsWith('range ')) {
        const segs = parseExpr(v.slice(6), template);
        out.push({ kind: 'range', segs, body: parseList(true) });
      } else out.push({ kind: 'expr', segs: parseExpr(v, template) });
    }
    if (inRange) throw new BulwarkError('PARSE', `{range} without {end} in JSONPath ${template}`);
    return out;
  };
  return parseList(false);
}

function walk(values: unknown[], segs: Seg[]): unknown[] {
  let cur = values;
  for (const seg of segs) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (v === null || v === undefined) continue;
      if (seg.kind === 'field') {
        if (typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, seg.name))
          next.push((v as Record<string, unknown>)[seg.name]);
      } else if (seg.kind === 'index') {
        if (Array.isArray(v)) {
          const k = seg.index < 0 ? v.length + seg.index : seg.index;
          if (k >= 0 && k < v.length) next.push(v[k]);
        }
      } else if (Array.isArray(v)) next.push(...v);
      else if (typeof v === 'object') next.push(...Object.values(v));
    }
    cur = next;
  }
  return cur;
}

function print(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}

function render(nodes: Node[], ctx: unknown): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'expr') out += walk([ctx], n.segs).map(print).join(' ');
    else {
      let items = walk([ctx], n.segs);
      // ranging over one array value iterates its elements
      if (items.length === 1 && Array.isArray(items[0])) items = items[0] as unknown[];
      for (const item of items) out += render(n.body, item);
    }
  }
  return out;
}

const parsed = new Map<string, Node[]>();

/** Evaluates a JSONPath template over a parsed document; missing keys print nothing. */
export function executeJsonPath(template: string, doc: unknown): string {
  let nodes = parsed.get(template);
  if (!nodes) {
    nodes = parseTemplate(template);
    if (parsed.size > 1024) parsed.clear();
    parsed.set(template, nodes);
  }
  return render(nodes, doc);
}
