/**
 * Reads installed gem specifications (specifications/*.gemspec, as RubyGems writes them with
 * Gem::Specification#to_ruby) without executing Ruby: the statements RubyGems generates are simple
 * `s.attr = literal` assignments and `s.add_*_dependency(...)` calls, read here with a small
 * literal reader (double/single-quoted strings with escapes and #{s.name} interpolation, %q<...>,
 * arrays, `.freeze`, Gem::Version.new(...)). Anything else is ignored.
 */

export interface Gemspec {
  name: string;
  version: string;
  licenses: string[];
  platform?: string;
  /** Runtime dependencies (development ones are not installed with the gem). */
  dependencies: string[];
  homepage?: string;
}

/** Reads one Ruby literal at `src[i]`; returns its value (string or array of strings) and the end index. */
function readLiteral(
  src: string,
  i: number,
  vars: Record<string, string>,
): { value: string | string[]; end: number } | undefined {
  while (src[i] === ' ' || src[i] === '\t') i++;
  const m = /^Gem::(?:Version|Requirement)\.new\s*\(?/.exec(src.slice(i));
  if (m) {
    const inner = readLiteral(src, i + m[0].length, vars);
    return inner && { value: inner.value, end: skipClose(src, inner.end) };
  }
  const ch = src[i];
  let res: { value: string; end: number } | undefined;
  if (ch === '"') res = readQuoted(src, i + 1, '"', true, vars);
  else if (ch === "'") res = readQuoted(src, i + 1, "'", false, vars);
  else if (ch === '%') {
    const pm = /^%([qQ]?)([<({[|!/])/.exec(src.slice(i));
    if (!pm) return undefined;
    const close = { '<': '>', '(': ')', '{': '}', '[': ']' }[pm[2]!] ?? pm[2]!;
    res = readQuoted(src, i + pm[0].length, close, pm[1] !== 'q', vars);
  } else if (ch === '[') {
    const items: string[] = [];
    let j = i + 1;
    for (;;) {
      while (/\s|,/.test(src[j] ?? '')) j++;
      if (src[j] === ']') return { value: items, end: j + 1 };
      const item = readLiteral(src, j, vars);
      if (!item || Array.isArray(item.value)) return undefined;
      items.push(item.value);
      j = item.end;
    }
  } else return undefined;
  if (!res) return undefined;
  let end = res.end;
  while (src.startsWith('.freeze', end)) end += '.freeze'.length;
  return { value: res.value, end };
}

function skipClose(src: string, i: number): number {
  while (src[i] === ' ') i++;
  return src[i] === ')' ? i + 1 : i;
}

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  s: ' ',
  '0': '\0',
  e: '\x1b',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
};

function readQuoted(
  src: string,
  i: number,
  close: string,
  interpolate: boolean,
  vars: Record<string, string>,
): { value: string; end: number } | undefined {
  let out = '';
  for (; i < src.length; i++) {
    const c = src[i]!;
    if (c === close) return { value: out, end: i + 1 };
    if (c === '\n' && close !== '"' && close !== "'") return undefined;
    if (c === '\\') {
      const n = src[++i] ?? '';
      if (!interpolate) {
        out += n === close || n === '\\' ? n : `\\${n}`;
      } else if (n === 'u') {
        const braced = /^\{([0-9a-fA-F ]+)\}/.exec(src.slice(i + 1));
        if (braced) {
          out += braced[1]!
            .trim()
            .split(/\s+/)
            .map((h) => String.fromCodePoint(parseInt(h, 16)))
            .join('');
          i += braced[0].length;
        } else {
          out += String.fromCharCode(parseInt(src.slice(i + 1, i + 5), 16));
          i += 4;
        }
      } else out += ESCAPES[n] ?? n;
      continue;
    }
    if (interpolate && c === '#' && src[i + 1] === '{') {
      const endBrace = src.indexOf('}', i);
      if (endBrace < 0) return undefined;
      const expr = src.slice(i + 2, endBrace).trim();
      out += vars[expr] ?? '';
      i = endBrace;
      continue;
    }
    out += c;
  }
  return undefined;
}

/** Parses gemspec text; returns undefined when no name and version can be read. */
export function parseGemspec(text: string): Gemspec | undefined {
  const block = /Gem::Specification\.new\s*(?:do|\{)\s*\|\s*(\w+)\s*\|/.exec(text);
  const v = block?.[1] ?? 's';
  const stub = /^#\s*stub:\s*(\S+)\s+(\S+)\s+(\S+)/m.exec(text);
  const spec: Partial<Gemspec> & { licenses: string[]; dependencies: string[] } = {
    licenses: [],
    dependencies: [],
  };
  const vars: Record<string, string> = {};
  const assign = new RegExp(`^\\s*${v}\\.(name|version|license|licenses|platform|homepage)\\s*=\\s*`);
  const dep = new RegExp(
    `^\\s*${v}\\.(add_runtime_dependency|add_dependency|add_development_dependency)\\s*\\(?\\s*`,
  );
  const guard = new RegExp(`^\\s*if\\s+${v}\\.respond_to\\?`);
  // RubyGems writes `if s.respond_to? :add_runtime_dependency then ... else <legacy copy> end`;
  // modern RubyGems runs the first branch only, so the else branch is skipped.
  let depth = 0;
  let skipping = false;
  const src = text.slice(block ? block.index + block[0].length : 0);
  const lines = src.split('\n');
  let offset = 0;
  for (const line of lines) {
    const start = offset;
    offset += line.length + 1;
    const t = line.trim();
    if (guard.test(line) && /\bthen\s*$/.test(t)) {
      depth++;
      continue;
    }
    if (depth > 0 && t === 'else') {
      skipping = true;
      continue;
    }
    if (depth > 0 && t === 'end') {
      depth--;
      skipping = false;
      continue;
    }
    if (skipping) continue;
    const a = assign.exec(line);
    if (a) {
      const lit = readLiteral(src, start + a[0].length, vars);
      if (!lit) continue;
      const key = a[1]!;
      if (key === 'license' || key === 'licenses') spec.licenses = [...spec.licenses, ...[lit.value].flat()];
      else if (typeof lit.value === 'string') {
        (spec as Record<string, unknown>)[key] = lit.value;
        vars[`${v}.${key}`] = lit.value;
      }
      continue;
    }
    const d = dep.exec(line);
    if (d && d[1] !== 'add_development_dependency') {
      const lit = readLiteral(src, start + d[0].length, vars);
      if (lit && typeof lit.value === 'string' && !spec.dependencies.includes(lit.value))
        spec.dependencies.push(lit.value);
    }
  }
  const name = spec.name ?? stub?.[1];
  const version = spec.version ?? stub?.[2];
  if (!name || !version) return undefined;
  const platform = spec.platform ?? (stub && stub[3] !== 'ruby' ? stub[3] : undefined);
  return {
    name,
    version,
    licenses: spec.licenses,
    ...(platform && platform !== 'ruby' ? { platform } : {}),
    dependencies: spec.dependencies,
    ...(spec.homepage ? { homepage: spec.homepage } : {}),
  };
}
