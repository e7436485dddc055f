/**
 * SecLang directive parser: turns ModSecurity configuration text into directives with their
 * arguments, as ModSecurity reads them. A line ending in a backslash continues on the next line
 * (the backslash and the newline are removed, the next line's indentation is kept); `#` starts a
 * comment only at the beginning of a directive; arguments are separated by blanks and may be
 * double-quoted, where `\"` stands for a quote and every other backslash is kept as written (the
 * operator and action parsers see regex escapes untouched).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

export interface Directive {
  /** directive name as written (SecRule, SecAction, ...) */
  name: string;
  args: string[];
  file: string;
  line: number;
}

export class SecLangError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = 'SecLangError';
  }
}

/** Splits one logical directive line into its arguments. */
export function splitArgs(text: string, file: string, line: number): string[] {
  const out: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r' || text[i] === '\n')) i++;
    if (i >= n) break;
    if (text[i] === '"' || text[i] === "'") {
      const q = text[i]!;
      i++;
      let s = '';
      let closed = false;
      while (i < n) {
        const c = text[i]!;
        if (c === '\\' && text[i + 1] === q) {
          s += q;
          i += 2;
          continue;
        }
        if (c === q) {
          closed = true;
          i++;
          break;
        }
        s += c;
        i++;
      }
      if (!closed) throw new SecLangError(`unterminated ${q} quote`, file, line);
      out.push(s);
    } else {
      let s = '';
      while (i < n && text[i] !== ' ' && text[i] !== '\t' && text[i] !== '\r' && text[i] !== '\n') {
        s += text[i];
        i++;
      }
      out.push(s);
    }
  }
  return out;
}

/** Parses configuration text (no Include handling). */
export function parseSecLang(text: string, file = '<inline>'): Directive[] {
  const lines = text.split('\n');
  const out: Directive[] = [];
  let buf = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i]!;
    if (l.endsWith('\r')) l = l.slice(0, -1);
    if (buf === '') {
      const t = l.trimStart();
      if (t === '' || t.startsWith('#')) continue;
      start = i + 1;
    }
    if (l.endsWith('\\')) {
      buf += l.slice(0, -1);
      if (i === lines.length - 1) throw new SecLangError('continuation at end of file', file, start);
      continue;
    }
    buf += l;
    const args = splitArgs(buf, file, start);
    buf = '';
    if (args.length === 0) continue;
    out.push({ name: args[0]!, args: args.slice(1), file, line: start });
  }
  if (buf !== '') {
    const args = splitArgs(buf, file, start);
    if (args.length) out.push({ name: args[0]!, args: args.slice(1), file, line: start });
  }
  return out;
}

/** Expands a path that may be a directory (its *.conf files in name order) or a glob on the file name. */
export function expandConfigPath(p: string): string[] {
  const st = statSync(p, { throwIfNoEntry: false });
  if (st?.isDirectory())
    return readdirSync(p)
      .filter((f) => f.endsWith('.conf'))
      .sort()
      .map((f) => join(p, f));
  if (st) return [p];
  const base = p.slice(p.lastIndexOf('/') + 1);
  if (base.includes('*')) {
    const dir = dirname(p);
    const re = new RegExp('^' + base.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$');
    const d = statSync(dir, { throwIfNoEntry: false });
    if (!d?.isDirectory()) return [];
    return readdirSync(dir)
      .filter((f) => re.test(f))
      .sort()
      .map((f) => join(dir, f));
  }
  throw new Error(`${p}: no such file or directory`);
}

/** Reads a file and follows Include / IncludeOptional directives (relative to the including file). */
export function loadSecLangFile(path: string, depth = 0): Directive[] {
  if (depth > 16) throw new Error(`${path}: Include nested too deep`);
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`, { cause: e });
  }
  const out: Directive[] = [];
  for (const d of parseSecLang(text, path)) {
    const name = d.name.toLowerCase();
    if (name === 'include' || name === 'includeoptional') {
      const target = d.args[0];
      if (!target) throw new SecLangError('Include needs a path', d.file, d.line);
      const abs = isAbsolute(target) ? target : resolve(dirname(path), target);
      let files: string[];
      try {
        files = expandConfigPath(abs);
      } catch (e) {
        if (name === 'includeoptional') continue;
        throw new SecLangError((e as Error).message, d.file, d.line);
      }
      for (const f of files) out.push(...loadSecLangFile(f, depth + 1));
    } else out.push(d);
  }
  return out;
}
