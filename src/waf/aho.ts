/**
 * Aho–Corasick automaton over lowercase ASCII-folded byte strings: @pm / @pmFromFile matching and
 * the literal pre-filter. Input is folded on the fly (A-Z to a-z), as ModSecurity's @pm is
 * case-insensitive.
 */
export class AhoCorasick {
  private next: Map<number, number>[] = [new Map()];
  private fail: number[] = [0];
  private out: (string | null)[] = [null];
  readonly size: number;

  constructor(patterns: string[]) {
    this.size = patterns.length;
    for (const p of patterns) {
      if (p === '') continue;
      let s = 0;
      for (let i = 0; i < p.length; i++) {
        let c = p.charCodeAt(i);
        if (c >= 65 && c <= 90) c += 32;
        let t = this.next[s]!.get(c);
        if (t === undefined) {
          t = this.next.length;
          this.next.push(new Map());
          this.fail.push(0);
          this.out.push(null);
          this.next[s]!.set(c, t);
        }
        s = t;
      }
      if (this.out[s] === null) this.out[s] = p;
    }
    // BFS for failure links
    const q: number[] = [];
    for (const t of this.next[0]!.values()) q.push(t);
    for (let qi = 0; qi < q.length; qi++) {
      const s = q[qi]!;
      for (const [c, t] of this.next[s]!) {
        q.push(t);
        let f = this.fail[s]!;
        while (f !== 0 && !this.next[f]!.has(c)) f = this.fail[f]!;
        const ft = this.next[f]!.get(c);
        this.fail[t] = ft !== undefined && ft !== t ? ft : 0;
        if (this.out[t] === null && this.out[this.fail[t]!] !== null) this.out[t] = this.out[this.fail[t]!]!;
      }
    }
  }

  /** first pattern found in `text` (the one ending earliest), or null */
  first(text: string): string | null {
    let s = 0;
    const next = this.next;
    const fail = this.fail;
    const out = this.out;
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i);
      if (c >= 65 && c <= 90) c += 32;
      let t = next[s]!.get(c);
      while (t === undefined && s !== 0) {
        s = fail[s]!;
        t = next[s]!.get(c);
      }
      s = t ?? 0;
      const o = out[s];
      if (o !== null && o !== undefined) return o;
    }
    return null;
  }
}
