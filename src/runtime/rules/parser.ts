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

export function parseCondition(text: string): Node {
  throw new ParseError(`not implemented: ${text}`, { idx: 0, line: 1, col: 1 });
}
