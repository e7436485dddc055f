/**
 * PCRE (as ModSecurity compiles it: DOTALL | MULTILINE, no UTF mode) to JavaScript regex, by
 * mechanical rewrites: leading and inline `(?i)` / `(?s)` / `(?is)`, `(?i:...)` groups (letters
 * expanded to both cases since Node 20 has no inline modifiers), `\x{hh}`, possessive quantifiers
 * and atomic groups (made ordinary: they only change backtracking, not what a match-or-not test
 * answers for the patterns CRS writes), `\A`, `\z`, `\Z`, `\h`, POSIX classes and `\s` (PCRE's
 * byte-mode `\s` is [\t-\r ], JavaScript's also matches 0xA0). Strings are latin1 byte strings.
 *
 * Also computes a literal pre-filter: a set of lowercase strings at least one of which every match
 * must contain; when no value contains any of them the regex cannot match and is not run.
 */

export interface CompiledRegex {
  re: RegExp;
  /** every match contains one of these (lowercased when the regex is case-insensitive); null = no filter */
  prefilter: string[] | null;
  /** whether the prefilter must be tested case-insensitively */
  prefilterFold: boolean;
}

const POSIX: Record<string, string> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: '0-9A-Za-z',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\t-\\r ',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  word: '0-9A-Za-z_',
  cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~',
  graph: '!-~',
};

function isLetter(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

function hex2(n: number): string {
  return '\\x' + n.toString(16).padStart(2, '0');
}

/**
 * Rewrites one pattern. `fold` = letters must be case-folded by expansion (we are inside a
 * case-insensitive region while the regex as a whole is case-sensitive).
 */
function rewrite(p: string, globalI: boolean): string {
  let out = '';
  let i = 0;
  // stack of case-insensitivity per group; true when inside a region needing expansion
  const foldStack: boolean[] = [];
  let fold = false;
  const n = p.length;
  while (i < n) {
    const c = p[i]!;
    if (c === '\\') {
      const d = p[i + 1];
      if (d === undefined) {
        out += '\\\\';
        i++;
        continue;
      }
      if (d === 'x' && p[i + 2] === '{') {
        const end = p.indexOf('}', i + 3);
        const v = parseInt(p.slice(i + 3, end), 16);
        const ch = String.fromCharCode(v);
        out +=
          fold && isLetter(ch)
            ? `[${ch.toLowerCase()}${ch.toUpperCase()}]`
            : v <= 0xff
              ? hex2(v)
              : '\\u' + v.toString(16).padStart(4, '0');
        i = end + 1;
        continue;
      }
      if (d === 'x' && /^[0-9a-fA-F]{2}$/.test(p.slice(i + 2, i + 4))) {
        const ch = String.fromCharCode(parseInt(p.slice(i + 2, i + 4), 16));
        out += fold && isLetter(ch) ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : p.slice(i, i + 4);
        i += 4;
        continue;
      }
      if (d === 'A') {
        out += '(?<![\\s\\S])';
        i += 2;
        continue;
      }
      if (d === 'z' || d === 'Z') {
        out += d === 'z' ? '(?![\\s\\S])' : '(?=\\n?(?![\\s\\S]))';
        i += 2;
        continue;
      }
      if (d === 'h') {
        out += '[ \\t]';
        i += 2;
        continue;
      }
      if (d === 's') {
        out += '[\\t-\\r ]';
        i += 2;
        continue;
      }
      if (d === 'S') {
        out += '[^\\t-\\r ]';
        i += 2;
        continue;
      }
      if (d === 'Q') {
        const end = p.indexOf('\\E', i + 2);
        const lit = p.slice(i + 2, end < 0 ? n : end);
        for (const ch of lit)
          out +=
            fold && isLetter(ch)
              ? `[${ch.toLowerCase()}${ch.toUpperCase()}]`
              : ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
        i = end < 0 ? n : end + 2;
        continue;
      }
      if (d === '/') {
        out += '\\/';
        i += 2;
        continue;
      }
      // JS without the u flag accepts identity escapes for other characters
      out += c + d;
      i += 2;
      continue;
    }
    if (c === '[') {
      // character class
      let j = i + 1;
      let cls = '';
      if (p[j] === '^') {
        cls += '^';
        j++;
      }
      if (p[j] === ']') {
        cls += '\\]';
        j++;
      }
      const letters = new Set<string>();
      while (j < n && p[j] !== ']') {
        const e = p[j]!;
        if (e === '[' && p[j + 1] === ':') {
          const end = p.indexOf(':]', j + 2);
          const name = p.slice(j + 2, end);
          const neg = name.startsWith('^');
          const body = POSIX[neg ? name.slice(1) : name];
          if (body === undefined || neg) {
            cls += '\\[';
            j++;
            continue;
          }
          cls += body;
          j = end + 2;
          continue;
        }
        if (e === '\\') {
          const d = p[j + 1]!;
          if (d === 'x' && p[j + 2] === '{') {
            const end = p.indexOf('}', j + 3);
            const v = parseInt(p.slice(j + 3, end), 16);
            cls += v <= 0xff ? hex2(v) : '\\u' + v.toString(16).padStart(4, '0');
            j = end + 1;
            continue;
          }
          if (d === 's') {
            cls += '\\t-\\r ';
            j += 2;
            continue;
          }
          if (d === 'h') {
            cls += ' \\t';
            j += 2;
            continue;
          }
          cls += e + d;
          j += 2;
          continue;
        }
        if (e === '[') {
          cls += '\\[';
          j++;
          continue;
        }
        // range of letters: add the other case
        if (fold && p[j + 1] === '-' && p[j + 2] !== undefined && p[j + 2] !== ']') {
          const a = e;
          const b = p[j + 2]!;
          cls += a + '-' + (b === '\\' ? p.slice(j + 2, j + 4) : b);
          if (b !== '\\') {
            for (let k = a.charCodeAt(0); k <= b.charCodeAt(0) && k < 128; k++) {
              const ch = String.fromCharCode(k);
              if (isLetter(ch)) letters.add(ch);
            }
            j += 3;
          } else j += 4;
          continue;
        }
        if (fold && isLetter(e)) letters.add(e);
        cls += e;
        j++;
      }
      if (fold)
        for (const l of letters) {
          const o = l === l.toLowerCase() ? l.toUpperCase() : l.toLowerCase();
          if (!letters.has(o)) cls += o;
        }
      out += '[' + cls + ']';
      i = j + 1;
      continue;
    }
    if (c === '(') {
      if (p[i + 1] === '?') {
        // inline flags (?i) (?s) (?is) (?-i) or (?i: ...)
        const m = /^\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(p.slice(i));
        if (m && (m[1] || m[2] !== undefined)) {
          const on = m[1] ?? '';
          const off = m[2] ?? '';
          const iOn = on.includes('i') ? true : off.includes('i') ? false : null;
          if (m[3] === ')') {
            // applies to the rest of the enclosing group
            if (iOn !== null) fold = iOn && !globalI;
            i += m[0].length;
            continue;
          }
          foldStack.push(fold);
          if (iOn !== null) fold = iOn && !globalI;
          out += '(?:';
          i += m[0].length;
          continue;
        }
        if (p[i + 2] === '>') {
          foldStack.push(fold);
          out += '(?:';
          i += 3;
          continue;
        }
        if (p[i + 2] === 'P' && p[i + 3] === '<') {
          foldStack.push(fold);
          out += '(?<';
          i += 4;
          continue;
        }
      }
      foldStack.push(fold);
      out += c;
      i++;
      continue;
    }
    if (c === ')') {
      fold = foldStack.pop() ?? false;
      out += c;
      i++;
      continue;
    }
    if (
      c === '+' &&
      i > 0 &&
      (p[i - 1] === '*' || p[i - 1] === '+' || p[i - 1] === '?' || p[i - 1] === '}') &&
      p[i - 2] !== '\\'
    ) {
      // possessive quantifier: drop the +
      i++;
      continue;
    }
    if (c === '/') {
      out += '\\/';
      i++;
      continue;
    }
    if (fold && isLetter(c)) {
      out += `[${c.toLowerCase()}${c.toUpperCase()}]`;
      i++;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** Translates a PCRE pattern into a JavaScript RegExp (flags s, m, and i when the pattern starts case-insensitive). */
export function translatePcre(pattern: string): { source: string; flags: string } {
  let p = pattern;
  let flags = 'sm';
  let globalI = false;
  // leading flag groups, possibly after ^
  const lead = /^(\^?)\(\?([ismx]+)\)/.exec(p);
  if (lead) {
    if (lead[2]!.includes('i')) globalI = true;
    p = lead[1] + p.slice(lead[0].length);
  }
  if (globalI) flags += 'i';
  return { source: rewrite(p, globalI), flags };
}

export function compileRegex(pattern: string): CompiledRegex {
  const { source, flags } = translatePcre(pattern);
  const re = new RegExp(source, flags);
  const fold = flags.includes('i');
  let prefilter: string[] | null;
  try {
    prefilter = requiredLiterals(pattern, fold);
  } catch {
    prefilter = null;
  }
  return { re, prefilter, prefilterFold: true };
}

// ---------------------------------------------------------------------------------------------
// Literal pre-filter. A tiny parser over the PCRE source computes, for each node, a set of
// strings one of which every match must contain ("any-of" set). Concatenations pick the most
// selective child set, alternations take the union, optional parts contribute nothing.
// Everything is lowercased and tested case-insensitively, which only makes the filter looser.

type Lits = string[] | null; // null = no constraint

const MAX_SET = 64;

function better(a: Lits, b: Lits): Lits {
  if (!a) return b;
  if (!b) return a;
  const score = (s: string[]) => Math.min(...s.map((x) => x.length)) * 4 - s.length;
  return score(b) > score(a) ? b : a;
}

function union(parts: Lits[]): Lits {
  const out = new Set<string>();
  for (const p of parts) {
    if (!p) return null;
    for (const s of p) out.add(s);
    if (out.size > MAX_SET) return null;
  }
  // drop strings that contain a shorter member (the shorter one is implied)
  const arr = [...out].sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const s of arr) if (!kept.some((k) => s.includes(k))) kept.push(s);
  return kept;
}

export function requiredLiterals(pattern: string, _fold: boolean): Lits {
  let p = pattern;
  const lead = /^(\^?)\(\?([ismx]+)\)/.exec(p);
  if (lead) p = lead[1] + p.slice(lead[0].length);
  let i = 0;
  const n = p.length;

  // returns the literal requirement of an alternation until ')' or end
  function parseAlt(): Lits {
    const branches: Lits[] = [parseSeq()];
    while (i < n && p[i] === '|') {
      i++;
      branches.push(parseSeq());
    }
    return union(branches);
  }

  // a sequence: track current run of literal characters (mandatory, consecutive)
  function parseSeq(): Lits {
    let best: Lits = null;
    let run = '';
    const flush = () => {
      if (run.length >= 1) best = better(best, [run]);
      run = '';
    };
    while (i < n && p[i] !== '|' && p[i] !== ')') {
      // parse one atom
      let atomLit: string | null = null; // a single literal char
      let atomSet: Lits = null;
      let atomSeqLit: string | null = null; // atom is exactly this literal string (group of a literal)
      const c = p[i]!;
      if (c === '\\') {
        const d = p[i + 1]!;
        if (d === 'x') {
          if (p[i + 2] === '{') {
            const end = p.indexOf('}', i + 3);
            atomLit = String.fromCharCode(parseInt(p.slice(i + 3, end), 16));
            i = end + 1;
          } else {
            atomLit = String.fromCharCode(parseInt(p.slice(i + 2, i + 4), 16));
            i += 4;
          }
        } else if ('.[]{}()*+?^$|\\/-"\'`<>=!:;,#&%@~ '.includes(d)) {
          atomLit = d;
          i += 2;
        } else if (d === 'n' || d === 'r' || d === 't') {
          atomLit = d === 'n' ? '\n' : d === 'r' ? '\r' : '\t';
          i += 2;
        } else if (d === 'b' || d === 'B' || d === 'A' || d === 'z' || d === 'Z' || d === 'G') {
          i += 2;
          continue; // zero-width: does not break the run
        } else if (d === 'Q') {
          const end = p.indexOf('\\E', i + 2);
          const lit = p.slice(i + 2, end < 0 ? n : end);
          i = end < 0 ? n : end + 2;
          atomSeqLit = lit;
        } else if (/[0-9]/.test(d)) {
          throw new Error('backreference');
        } else {
          i += 2; // class escape (\d \w \s ...)
        }
      } else if (c === '[') {
        // a class with a single member (or two case variants) is a literal
        let j = i + 1;
        let neg = false;
        if (p[j] === '^') {
          neg = true;
          j++;
        }
        if (p[j] === ']') j++;
        while (j < n && p[j] !== ']') {
          if (p[j] === '\\') j += 2;
          else if (p[j] === '[' && p[j + 1] === ':') j = p.indexOf(':]', j) + 2;
          else j++;
        }
        const body = p.slice(i + 1, j);
        i = j + 1;
        if (!neg) {
          let ch: string | null = null;
          if (body.length === 1) ch = body;
          else if (body.length === 2 && body[0] === '\\' && !/[a-zA-Z0-9]/.test(body[1]!)) ch = body[1]!;
          else if (
            body.length === 2 &&
            body[0]!.toLowerCase() === body[1]!.toLowerCase() &&
            isLetter(body[0]!)
          )
            ch = body[0]!;
          if (ch) atomLit = ch;
        }
      } else if (c === '(') {
        i++;
        let lookaround = false;
        if (p[i] === '?') {
          if (
            p[i + 1] === '=' ||
            p[i + 1] === '!' ||
            (p[i + 1] === '<' && (p[i + 2] === '=' || p[i + 2] === '!'))
          ) {
            lookaround = true;
            i += p[i + 1] === '<' ? 3 : 2;
          } else if (p[i + 1] === ':' || p[i + 1] === '>') i += 2;
          else if (p[i + 1] === 'P' && p[i + 2] === '<') i = p.indexOf('>', i) + 1;
          else if (p[i + 1] === '<') i = p.indexOf('>', i) + 1;
          else {
            const m = /^\?[a-zA-Z-]*[:)]/.exec(p.slice(i));
            if (!m) throw new Error('group');
            const closeNow = m[0].endsWith(')');
            i += m[0].length;
            if (closeNow) continue; // (?i) flag setting
          }
        }
        const inner = parseAlt();
        if (p[i] !== ')') throw new Error('unbalanced');
        i++;
        if (lookaround) continue;
        // a group's requirement is a set (it cannot extend a literal run: its content may be longer)
        atomSet = inner;
      } else if (c === '.') {
        i++;
      } else if (c === '^' || c === '$') {
        i++;
        continue;
      } else {
        atomLit = c;
        i++;
      }
      // quantifier
      let min = 1;
      let quantified = false;
      const q = p[i];
      if (q === '*' || q === '?') {
        min = 0;
        quantified = true;
        i++;
      } else if (q === '+') {
        quantified = true;
        i++;
      } else if (q === '{') {
        const m = /^\{(\d*)(?:,(\d*))?\}/.exec(p.slice(i));
        if (m) {
          min = m[1] === '' ? 0 : Number(m[1]);
          quantified = true;
          i += m[0].length;
        }
      }
      if (quantified && (p[i] === '?' || p[i] === '+')) i++;
      if (min === 0) {
        flush();
        continue;
      }
      if (atomLit !== null) {
        if (quantified) {
          run += atomLit;
          flush();
        } else run += atomLit;
      } else if (atomSeqLit !== null) {
        run += atomSeqLit;
        if (quantified) flush();
      } else {
        flush();
        if (atomSet) best = better(best, atomSet);
      }
    }
    flush();
    return best;
  }

  const r = parseAlt();
  if (i < n) throw new Error('trailing');
  if (!r) return null;
  // ASCII-only folding, as the Aho-Corasick matcher and ModSecurity's lowercase do
  const lower = r.map((s) => s.replace(/[A-Z]+/g, (x) => x.toLowerCase()));
  // a filter of one-character strings saves little
  if (lower.every((s) => s.length < 2)) return null;
  return union([lower]);
}
