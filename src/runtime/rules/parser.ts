/** Falco filter language parser (libsinsp's grammar). */
export interface Pos {
  idx: number;
  line: number;
  col: number;
}
export type FieldExpr =
  | { kind: 'field'; name: string; arg?: string; pos: Pos }
  | {
      kind: 'transform';
      name: string;
      arg?: string;
      args: (FieldExpr | LiteralItem)[];
      sep?: string;
      pos: Pos;
    };
export interface LiteralItem {
  kind: 'literal';
  value: string;
  quoted: boolean;
}
export type Value =
  | { kind: 'value'; value: string; quoted: boolean; pos: Pos }
  | { kind: 'list'; items: LiteralItem[]; pos: Pos }
  | { kind: 'listref'; name: string; pos: Pos }
  | { kind: 'rhsfield'; expr: FieldExpr; pos: Pos };
export type Node =
  | { kind: 'and'; children: Node[]; pos: Pos }
  | { kind: 'or'; children: Node[]; pos: Pos }
  | { kind: 'not'; child: Node; pos: Pos }
  | { kind: 'id'; name: string; pos: Pos }
  | {
      kind: 'check';
      left: FieldExpr;
      op: string;
      right?: Value;
      modifier?: 'oneof' | 'anyof' | 'allof';
      pos: Pos;
    };

export class ParseError extends Error {
  constructor(
    message: string,
    readonly pos: Pos,
  ) {
    super(message);
  }
}

const TRANSFORMERS = new Set(['tolower', 'toupper', 'b64', 'basename', 'len', 'val', 'join']);
const UNARY_OPS = ['exists'];
const CMP_OPS = ['<=', '<', '>=', '>', '==', '=', '!='];
const NUM_ONLY_OPS = new Set(['<=', '<', '>=', '>']);
const WORD_OPS = [
  'glob',
  'iglob',
  'contains',
  'icontains',
  'bcontains',
  'startswith',
  'bstartswith',
  'endswith',
  'regex',
];
const LIST_OPS = ['intersects', 'in', 'pmatch'];
const MODIFIERS = ['oneof', 'anyof', 'allof'] as const;
const MAX_DEPTH = 1000;

const RE_FIELD = /[a-zA-Z]+[a-zA-Z0-9_]*(?:\.[a-zA-Z]+[a-zA-Z0-9_]*)+/y;
const RE_IDENT = /[a-zA-Z]+[a-zA-Z0-9_]*/y;
const RE_FIELDARG_BARE = /[^\]["'\s]+/y;
const RE_BARESTR = /[^()"'\s=,]+/y;
const RE_NUM = /0[xX][0-9a-zA-Z]+|[+-]?[0-9]+\.?[0-9]*(?:[eE][+-][0-9]+)?/y;
const RE_TRANSFORMER = /([a-z0-9]+)\(/y;

function isBlank(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
}

class Parser {
  private i = 0;
  private depth = 0;
  /** offsets where each line starts, for positions in O(log lines) */
  private readonly lineStarts: number[] = [0];
  constructor(private readonly s: string) {
    for (let k = 0; k < s.length; k++) if (s.charCodeAt(k) === 10) this.lineStarts.push(k + 1);
  }

  pos(idx = this.i): Pos {
    const at = Math.min(idx, this.s.length);
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return { idx, line: lo + 1, col: at - this.lineStarts[lo]! + 1 };
  }

  fail(msg: string): never {
    throw new ParseError(`${msg} at ${this.pos().line}:${this.pos().col} (idx ${this.i})`, this.pos());
  }

  blank(): boolean {
    const st = this.i;
    while (isBlank(this.s[this.i])) this.i++;
    return this.i > st;
  }

  private rx(re: RegExp): string | undefined {
    re.lastIndex = this.i;
    const m = re.exec(this.s);
    if (!m) return undefined;
    this.i += m[0].length;
    return m[0];
  }

  private lit(t: string): boolean {
    if (this.s.startsWith(t, this.i)) {
      this.i += t.length;
      return true;
    }
    return false;
  }

  /** A keyword (and/or/not) followed by a blank or '(' */
  private kw(k: string): boolean {
    if (!this.s.startsWith(k, this.i)) return false;
    const c = this.s[this.i + k.length];
    if (isBlank(c) || c === '(') {
      this.i += k.length;
      return true;
    }
    return false;
  }

  parse(): Node {
    this.blank();
    if (this.i >= this.s.length) this.fail('unexpected end of input');
    const n = this.parseOr();
    this.blank();
    if (this.i < this.s.length) this.fail(`unexpected token '${this.s.slice(this.i, this.i + 10)}'`);
    return n;
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail('exceeded max depth limit');
  }

  private parseOr(): Node {
    this.enter();
    const pos = this.pos();
    const children = [this.parseAnd()];
    for (;;) {
      const save = this.i;
      this.blank();
      if (this.kw('or')) children.push(this.parseAnd());
      else {
        this.i = save;
        break;
      }
    }
    this.depth--;
    return children.length === 1 ? children[0]! : { kind: 'or', children, pos };
  }

  private parseAnd(): Node {
    this.enter();
    const pos = this.pos();
    const children = [this.parseNot()];
    for (;;) {
      const save = this.i;
      this.blank();
      if (this.kw('and')) children.push(this.parseNot());
      else {
        this.i = save;
        break;
      }
    }
    this.depth--;
    return children.length === 1 ? children[0]! : { kind: 'and', children, pos };
  }

  private parseNot(): Node {
    this.enter();
    this.blank();
    const pos = this.pos();
    let n: Node;
    if (this.kw('not')) n = { kind: 'not', child: this.parseNot(), pos };
    else n = this.parseCheck();
    this.depth--;
    return n;
  }

  private parseCheck(): Node {
    this.blank();
    const pos = this.pos();
    if (this.lit('(')) {
      const n = this.parseOr();
      this.blank();
      if (!this.lit(')')) this.fail("expected ')'");
      return n;
    }
    const t = this.lhsTransformer();
    if (t) return this.parseCondition(t, pos);
    const f = this.fieldWithArg();
    if (f) return this.parseCondition(f, pos);
    const id = this.rx(RE_IDENT);
    if (id !== undefined) return { kind: 'id', name: id, pos };
    this.fail("expected a field, a transformer, an identifier or '('");
  }

  private fieldWithArg(): FieldExpr | undefined {
    const pos = this.pos();
    const name = this.rx(RE_FIELD);
    if (name === undefined) return undefined;
    const f: FieldExpr = { kind: 'field', name, pos };
    const arg = this.fieldArg();
    if (arg !== undefined) f.arg = arg;
    return f;
  }

  private fieldArg(): string | undefined {
    if (!this.lit('[')) return undefined;
    let arg: string | undefined;
    const q = this.s[this.i];
    if (q === '"' || q === "'") arg = this.quoted();
    else arg = this.rx(RE_FIELDARG_BARE);
    if (arg === undefined) this.fail('expected a field argument');
    if (!this.lit(']')) this.fail("expected ']'");
    return arg;
  }

  /** A transformer name immediately followed by '(' (left-hand side: not val). */
  private transformerStart(): { name: string; pos: Pos } | undefined {
    const pos = this.pos();
    RE_TRANSFORMER.lastIndex = this.i;
    const m = RE_TRANSFORMER.exec(this.s);
    if (!m || !TRANSFORMERS.has(m[1]!)) return undefined;
    this.i += m[0].length;
    return { name: m[1]!, pos };
  }

  private lhsTransformer(): FieldExpr | undefined {
    const save = this.i;
    const st = this.transformerStart();
    if (!st) return undefined;
    if (st.name === 'val') {
      this.i = save;
      this.fail("'val' can only be used on the right-hand side");
    }
    return this.transformerBody(st.name, st.pos, false);
  }

  /** After "name(": the argument(s), ')' and an optional [arg]. */
  private transformerBody(name: string, pos: Pos, rhs: boolean): FieldExpr {
    this.blank();
    let t: FieldExpr;
    if (name === 'join') {
      const q = this.s[this.i];
      if (q !== '"' && q !== "'") this.fail('expected a quoted separator for join');
      const sep = this.quoted();
      this.blank();
      if (!this.lit(',')) this.fail("expected ','");
      this.blank();
      if (!this.lit('(')) this.fail("expected '(' for join's list");
      const args: (FieldExpr | LiteralItem)[] = [];
      this.blank();
      if (!this.lit(')')) {
        for (;;) {
          this.blank();
          args.push(this.joinItem());
          this.blank();
          if (this.lit(')')) break;
          if (!this.lit(',')) this.fail("expected ',' or ')'");
        }
      }
      t = { kind: 'transform', name, args, sep, pos };
    } else {
      let inner: FieldExpr | undefined;
      if (name === 'val') inner = this.fieldWithArg();
      else inner = this.lhsTransformerOrField();
      if (!inner) this.fail(`expected a field${name === 'val' ? '' : ' or a transformer'} inside ${name}()`);
      t = { kind: 'transform', name, args: [inner], pos };
    }
    this.blank();
    if (!this.lit(')')) this.fail("expected ')'");
    void rhs;
    const arg = this.fieldArg();
    if (arg !== undefined) t.arg = arg;
    return t;
  }

  private lhsTransformerOrField(): FieldExpr | undefined {
    const t = this.lhsTransformer();
    if (t) return t;
    return this.fieldWithArg();
  }

  private joinItem(): FieldExpr | LiteralItem {
    const q = this.s[this.i];
    if (q === '"' || q === "'") return { kind: 'literal', value: this.quoted(), quoted: true };
    const t = this.lhsTransformer();
    if (t) return t;
    const f = this.fieldWithArg();
    if (f) return f;
    const n = this.rx(RE_NUM);
    if (n !== undefined) return { kind: 'literal', value: n, quoted: false };
    this.fail('expected a field, a transformer, a quoted string or a number in the list');
  }

  /** Quoted string: the delimiter escaped with a backslash; a backslash before the other quote is an error. */
  private quoted(): string {
    const q = this.s[this.i]!;
    const other = q === '"' ? "'" : '"';
    this.i++;
    let out = '';
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined) this.fail('unterminated quoted string');
      if (c === '\\') {
        const n = this.s[this.i + 1];
        if (n === q) {
          out += q;
          this.i += 2;
          continue;
        }
        if (n === other) this.fail('invalid escape in quoted string');
        out += c;
        this.i++;
        continue;
      }
      if (c === q) {
        this.i++;
        return out;
      }
      out += c;
      this.i++;
    }
  }

  private parseCondition(left: FieldExpr, pos: Pos): Node {
    this.blank();
    for (const op of UNARY_OPS) if (this.lit(op)) return { kind: 'check', left, op, pos };
    for (const op of CMP_OPS) if (this.lit(op)) return this.binaryValue(left, op, pos, NUM_ONLY_OPS.has(op));
    for (const op of WORD_OPS) {
      if (this.s.startsWith(op, this.i) && isBlank(this.s[this.i + op.length])) {
        this.i += op.length;
        return this.binaryValue(left, op, pos, false);
      }
    }
    for (const op of LIST_OPS) {
      if (this.lit(op)) {
        this.blank();
        const vpos = this.pos();
        const st = this.transformerStart();
        if (st) {
          const expr = this.transformerBody(st.name, st.pos, true);
          return { kind: 'check', left, op, right: { kind: 'rhsfield', expr, pos: vpos }, pos };
        }
        return { kind: 'check', left, op, right: this.list(), pos };
      }
    }
    this.fail('expected a valid operator');
  }

  private list(): Value {
    const pos = this.pos();
    if (!this.lit('(')) this.fail("expected '('");
    const items: LiteralItem[] = [];
    this.blank();
    if (this.lit(')')) return { kind: 'list', items, pos };
    for (;;) {
      this.blank();
      items.push(this.listItem());
      this.blank();
      if (this.lit(')')) return { kind: 'list', items, pos };
      if (!this.lit(',')) this.fail("expected ',' or ')'");
    }
  }

  private listItem(): LiteralItem {
    const q = this.s[this.i];
    if (q === '"' || q === "'") return { kind: 'literal', value: this.quoted(), quoted: true };
    const v = this.rx(RE_BARESTR);
    if (v === undefined) this.fail('expected a list value');
    return { kind: 'literal', value: v, quoted: false };
  }

  private binaryValue(left: FieldExpr, op: string, pos: Pos, numeric: boolean): Node {
    const hadBlank = this.blank();
    const vpos = this.pos();
    if (!numeric && hadBlank) {
      for (const m of MODIFIERS) {
        if (!this.s.startsWith(m, this.i) || !isBlank(this.s[this.i + m.length])) continue;
        const save = this.i;
        this.i += m.length;
        this.blank();
        if (this.s[this.i] === '(') return { kind: 'check', left, op, modifier: m, right: this.list(), pos };
        const idStart = this.i;
        const id = this.rx(RE_IDENT);
        if (id !== undefined && !((id === 'and' || id === 'or' || id === 'not') && this.boundaryAfterKw())) {
          return {
            kind: 'check',
            left,
            op,
            modifier: m,
            right: { kind: 'listref', name: id, pos: this.pos(idStart) },
            pos,
          };
        }
        this.i = save;
      }
    }
    const st = this.transformerStart();
    if (st) {
      const expr = this.transformerBody(st.name, st.pos, true);
      return { kind: 'check', left, op, right: { kind: 'rhsfield', expr, pos: vpos }, pos };
    }
    const q = this.s[this.i];
    if (numeric) {
      const n = this.rx(RE_NUM);
      if (n === undefined) this.fail('expected a number');
      return { kind: 'check', left, op, right: { kind: 'value', value: n, quoted: false, pos: vpos }, pos };
    }
    if (q === '"' || q === "'") {
      const v = this.quoted();
      return { kind: 'check', left, op, right: { kind: 'value', value: v, quoted: true, pos: vpos }, pos };
    }
    const v = this.rx(RE_BARESTR);
    if (v === undefined) this.fail('expected a value');
    return { kind: 'check', left, op, right: { kind: 'value', value: v, quoted: false, pos: vpos }, pos };
  }

  private boundaryAfterKw(): boolean {
    const c = this.s[this.i];
    return isBlank(c) || c === '(';
  }
}

/** Parses a Falco condition; throws ParseError with the position on bad input. */
export function parseCondition(text: string): Node {
  return new Parser(text).parse();
}
