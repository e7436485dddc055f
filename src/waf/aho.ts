/**
 * Aho–Corasick automata for @pm / @pmFromFile and the @rx literal pre-filter.
 */
const NONE: number[] = [];

export class LiteralSet {
  private classes = new Uint8Array(256);
  private nClasses = 1;
  private delta: Int32Array;
  /** for each state, the literal ids ending there (including by suffix links) */
  private outs: (number[] | null)[];
  readonly size: number;

  constructor(literals: string[]) {
    this.size = literals.length;
    for (const l of literals)
      for (let i = 0; i < l.length; i++) {
        let c = l.charCodeAt(i) & 0xff;
        if (c >= 65 && c <= 90) c += 32;
        if (this.classes[c] === 0) {
          this.classes[c] = this.nClasses++;
          if (c >= 97 && c <= 122) this.classes[c - 32] = this.classes[c]!;
        }
      }
    const k = this.nClasses;
    const gotoT: number[][] = [new Array(k).fill(-1)];
    const outs: (number[] | null)[] = [null];
    literals.forEach((l, id) => {
      let s = 0;
      for (let i = 0; i < l.length; i++) {
        let c = l.charCodeAt(i) & 0xff;
        if (c >= 65 && c <= 90) c += 32;
        const cl = this.classes[c]!;
        let t = gotoT[s]![cl]!;
        if (t < 0) {
          t = gotoT.length;
          gotoT.push(new Array(k).fill(-1));
          outs.push(null);
          gotoT[s]![cl] = t;
        }
        s = t;
      }
      (outs[s] ??= []).push(id);
    });
    const n = gotoT.length;
    const delta = new Int32Array(n * k);
    const fail = new Int32Array(n);
    const q: number[] = [];
    for (let c = 0; c < k; c++) {
      const t = gotoT[0]![c]!;
      if (t > 0) {
        delta[c] = t;
        fail[t] = 0;
        q.push(t);
      } else delta[c] = 0;
    }
    for (let qi = 0; qi < q.length; qi++) {
      const s = q[qi]!;
      const f = fail[s]!;
      if (outs[f]) outs[s] = [...(outs[s] ?? []), ...outs[f]!];
      for (let c = 0; c < k; c++) {
        const t = gotoT[s]![c]!;
        if (t > 0) {
          fail[t] = delta[f * k + c]!;
          delta[s * k + c] = t;
          q.push(t);
        } else delta[s * k + c] = delta[f * k + c]!;
      }
    }
    this.delta = delta;
    this.outs = outs;
  }

  /** id of the first literal found in `text` (the one ending earliest), or -1 */
  first(text: string): number {
    const { delta, outs, classes, nClasses } = this;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      s = delta[s * nClasses + classes[text.charCodeAt(i) & 0xff]!]!;
      const o = outs[s];
      if (o !== null && o !== undefined) return o[0]!;
    }
    return -1;
  }

  /** ids of the literals present in `text` (possibly repeated) */
  found(text: string): number[] {
    let res: number[] | null = null;
    const { delta, outs, classes, nClasses } = this;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      s = delta[s * nClasses + classes[text.charCodeAt(i) & 0xff]!]!;
      const o = outs[s];
      if (o !== null && o !== undefined) {
        res ??= [];
        for (let j = 0; j < o.length; j++) res.push(o[j]!);
      }
    }
    return res ?? NONE;
  }
}
