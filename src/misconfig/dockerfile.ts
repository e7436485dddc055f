/**
 * Dockerfile parser. Follows the Dockerfile reference (BuildKit frontend):
 * - parser directives (`# escape=`, `# syntax=`) only before the first comment, blank line or instruction;
 * - the escape character (default `\`, or backtick) continues a line when it is the last non-blank
 *   character; comment lines and blank lines inside a continuation are dropped;
 * - heredocs (`<<EOF`, `<<-EOF`, quoted delimiters) on RUN/COPY/ADD, several per instruction;
 * - JSON (exec) form vs shell form, `--flag=value` options, `FROM image [AS name]`, `ONBUILD`;
 * - ARG/ENV substitution (`$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alt}`) where checks need
 *   resolved values (FROM image, USER, EXPOSE).
 * Every instruction keeps its first and last source line.
 */
import { BulwarkError } from '../core/errors.js';

export interface Heredoc {
  name: string;
  content: string;
  /** `<<-EOF`: leading tabs stripped. */
  chomp: boolean;
  /** Quoted delimiter (`<<"EOF"`): no variable expansion inside. */
  quoted: boolean;
}

export interface DockerInstruction {
  /** Upper-case instruction name: RUN, FROM, COPY... */
  cmd: string;
  /** The logical line as written (continuations joined, comments inside continuations removed). */
  original: string;
  /** `--name=value` options before the arguments (a bare `--name` maps to "true"; repeated flags are space-separated). */
  flags: Record<string, string>;
  /** Exec form: the JSON array; shell form: whitespace-separated words (quotes kept). */
  args: string[];
  /** Everything after the flags; for exec form, the array joined with spaces. */
  value: string;
  /** Exec (JSON array) form. */
  json: boolean;
  heredocs: Heredoc[];
  /** 1-based first and last source lines. */
  line: number;
  endLine: number;
  /** Index of the build stage (-1 for ARGs before the first FROM). */
  stage: number;
  /**
   * RUN only: the simple commands it runs, split on `&&`, `||`, `;`, `|` and newlines (shell form and
   * heredoc bodies), with ARG/ENV values substituted. Exec form: the array joined with spaces.
   */
  commands: string[];
  /** ONBUILD: the wrapped instruction. */
  trigger?: DockerInstruction;
}

export interface DockerStage {
  index: number;
  /** `AS name`, lower-cased as BuildKit does. */
  name?: string;
  /** Base image after ARG substitution, as written otherwise ("debian:12", "builder", "scratch"). */
  image: string;
  /** Repository part of the image without tag/digest. */
  repository: string;
  tag?: string;
  digest?: string;
  platform?: string;
  /** True when `image` names an earlier stage. */
  fromStage: boolean;
  line: number;
  instructions: DockerInstruction[];
  /** The effective user of the stage (last USER, substituted), if any. */
  user?: string;
}

export interface Dockerfile {
  directives: Record<string, string>;
  escape: string;
  /** ARGs declared before the first FROM, with their defaults (or "" when none). */
  globalArgs: Record<string, string>;
  stages: DockerStage[];
  /** Every instruction in order, including global ARGs. */
  instructions: DockerInstruction[];
}

const HEREDOC_CMDS = new Set(['RUN', 'COPY', 'ADD']);
const JSON_FORM_CMDS = new Set(['RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'ADD', 'COPY', 'VOLUME']);
const FLAG_CMDS = new Set(['RUN', 'COPY', 'ADD', 'FROM', 'HEALTHCHECK']);

export function parseDockerfile(text: string, file = 'Dockerfile'): Dockerfile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const directives: Record<string, string> = {};
  let i = 0;
  // Parser directives: `# key=value` lines at the very top.
  for (; i < lines.length; i++) {
    const m = /^\s*#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/.exec(lines[i]!);
    if (!m) break;
    const key = m[1]!.toLowerCase();
    if (key in directives) break; // a repeated directive is a comment
    directives[key] = m[2]!;
  }
  const escape = directives.escape ?? '\\';
  if (escape !== '\\' && escape !== '`') {
    throw new BulwarkError('PARSE', `${file}:1: invalid escape directive "${escape}" (must be \\ or \`)`, {
      subject: file,
    });
  }

  const raw: { text: string; line: number; endLine: number; heredocs: Heredoc[] }[] = [];
  i = 0;
  while (i < lines.length) {
    const first = lines[i]!;
    if (/^\s*$/.test(first) || /^\s*#/.test(first)) {
      i++;
      continue;
    }
    const start = i;
    let logical = '';
    let cur = first;
    for (;;) {
      const cont = endsWithEscape(cur, escape);
      if (!cont) {
        logical += cur;
        break;
      }
      logical += cur.replace(/\s*$/, '').slice(0, -1);
      i++;
      // Comment lines and empty lines inside a continuation are skipped.
      while (i < lines.length && (/^\s*#/.test(lines[i]!) || /^\s*$/.test(lines[i]!))) i++;
      if (i >= lines.length) break;
      cur = lines[i]!;
    }
    let end = i;
    i++;
    const heredocs: Heredoc[] = [];
    const word = /^\s*(\S+)/.exec(logical)?.[1]?.toUpperCase() ?? '';
    const heredocCmd =
      word === 'ONBUILD' ? (/^\s*\S+\s+(\S+)/.exec(logical)?.[1]?.toUpperCase() ?? '') : word;
    if (HEREDOC_CMDS.has(heredocCmd)) {
      for (const h of findHeredocMarkers(logical)) {
        const body: string[] = [];
        let closed = false;
        while (i < lines.length) {
          let l = lines[i]!;
          i++;
          if (h.chomp) l = l.replace(/^\t+/, '');
          if (l === h.name) {
            closed = true;
            break;
          }
          body.push(l);
        }
        if (!closed) {
          throw new BulwarkError('PARSE', `${file}:${start + 1}: heredoc <<${h.name} is not terminated`, {
            subject: file,
          });
        }
        end = i - 1;
        heredocs.push({ ...h, content: body.join('\n') + (body.length ? '\n' : '') });
      }
    }
    raw.push({ text: logical.trim(), line: start + 1, endLine: end + 1, heredocs });
  }

  const globalArgs: Record<string, string> = {};
  const stages: DockerStage[] = [];
  const instructions: DockerInstruction[] = [];
  let vars: Record<string, string> = {};
  for (const r of raw) {
    const ins = parseInstruction(r.text, r.line, r.endLine, r.heredocs, escape, file);
    const stage = stages.at(-1);
    ins.stage = stage ? stage.index : -1;
    if (ins.cmd === 'FROM') {
      const words = ins.args;
      const imageWritten = words[0] ?? '';
      if (!imageWritten)
        throw new BulwarkError('PARSE', `${file}:${r.line}: FROM requires an image`, { subject: file });
      let name: string | undefined;
      if (words.length >= 3 && words[1]!.toUpperCase() === 'AS') name = words[2]!.toLowerCase();
      // An ARG without a value leaves the reference unresolved: keep it as written.
      const substituted = substitute(imageWritten, globalArgs, escape);
      const image = substituted && !/^[:@]/.test(substituted) ? substituted : imageWritten;
      const ref = splitImageRef(image);
      const index = stages.length;
      ins.stage = index;
      stages.push({
        index,
        ...(name ? { name } : {}),
        image,
        repository: ref.repository,
        ...(ref.tag !== undefined ? { tag: ref.tag } : {}),
        ...(ref.digest !== undefined ? { digest: ref.digest } : {}),
        ...(ins.flags.platform ? { platform: ins.flags.platform } : {}),
        fromStage: stages.some((s) => s.name === image.toLowerCase()),
        line: r.line,
        instructions: [],
      });
      vars = { ...globalArgs };
    } else if (ins.cmd === 'ARG') {
      for (const w of ins.args) {
        const eq = w.indexOf('=');
        const k = eq < 0 ? w : w.slice(0, eq);
        const target = stage ? vars : globalArgs;
        // A stage-level `ARG NAME` without default inherits the global default.
        target[k] =
          eq < 0 ? (globalArgs[k] ?? target[k] ?? '') : substitute(unquote(w.slice(eq + 1)), target, escape);
      }
    } else if (ins.cmd === 'ENV') {
      for (const [k, v] of parseKeyValues(ins.value)) vars[k] = substitute(v, vars, escape);
    } else if (ins.cmd === 'USER' && stage) {
      stage.user = substitute(ins.value.trim(), vars, escape);
    }
    if (ins.cmd === 'RUN') ins.commands = runCommands(ins, vars, escape);
    if (ins.cmd === 'EXPOSE') ins.args = ins.args.map((a) => substitute(a, vars, escape));
    instructions.push(ins);
    stages.at(-1)?.instructions.push(ins);
  }
  return { directives, escape, globalArgs, stages, instructions };
}

function endsWithEscape(line: string, escape: string): boolean {
  const t = line.replace(/\s+$/, '');
  if (!t.endsWith(escape)) return false;
  // An escaped escape character (`\\`) at the end is a literal, not a continuation.
  let n = 0;
  for (let k = t.length - 1; k >= 0 && t[k] === escape; k--) n++;
  return n % 2 === 1;
}

function findHeredocMarkers(line: string): Omit<Heredoc, 'content'>[] {
  const out: Omit<Heredoc, 'content'>[] = [];
  // Names may contain dots and dashes (`COPY <<robots.txt <<humans.txt /dest/` in the Dockerfile reference).
  const re = /<<(-?)(?:"([^"\s]+)"|'([^'\s]+)'|([A-Za-z_][A-Za-z0-9_.-]*))/g;
  for (const m of line.matchAll(re)) {
    const name = m[2] ?? m[3] ?? m[4]!;
    out.push({ name, chomp: m[1] === '-', quoted: m[2] !== undefined || m[3] !== undefined });
  }
  return out;
}

function parseInstruction(
  text: string,
  line: number,
  endLine: number,
  heredocs: Heredoc[],
  escape: string,
  file: string,
): DockerInstruction {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(text)!;
  const cmd = m[1]!.toUpperCase();
  let rest = m[2]!;
  const ins: DockerInstruction = {
    cmd,
    original: text,
    flags: {},
    args: [],
    value: '',
    json: false,
    heredocs,
    line,
    endLine,
    stage: -1,
    commands: [],
  };
  if (cmd === 'ONBUILD') {
    if (!rest.trim())
      throw new BulwarkError('PARSE', `${file}:${line}: ONBUILD requires an instruction`, { subject: file });
    ins.trigger = parseInstruction(rest, line, endLine, heredocs, escape, file);
    ins.value = rest;
    ins.args = splitWords(rest);
    return ins;
  }
  if (cmd === 'HEALTHCHECK' || FLAG_CMDS.has(cmd)) {
    for (;;) {
      // A lone escape character between flags is what a continuation leaves in a one-line test
      // input (`--mount=a \    --mount=b`); it separates nothing, skip it.
      if (rest.startsWith(escape + ' ') && /^\S+\s+--/.test(rest)) rest = rest.slice(1).trimStart();
      const f = /^--([A-Za-z][A-Za-z0-9-]*)(?:=((?:"[^"]*"|[^\s])*))?\s*/.exec(rest);
      if (!f) break;
      const v = f[2] !== undefined ? unquote(f[2]) : 'true';
      // Repeated flags (several --mount) are kept space-separated.
      ins.flags[f[1]!] = ins.flags[f[1]!] !== undefined ? `${ins.flags[f[1]!]} ${v}` : v;
      rest = rest.slice(f[0].length);
    }
  }
  ins.value = rest.trim();
  let jsonPart = ins.value;
  if (cmd === 'HEALTHCHECK') {
    const hm = /^(CMD|NONE)\b\s*([\s\S]*)$/i.exec(ins.value);
    if (hm) jsonPart = hm[2]!;
  }
  if ((JSON_FORM_CMDS.has(cmd) || cmd === 'HEALTHCHECK') && jsonPart.startsWith('[')) {
    const arr = tryJsonArray(jsonPart);
    if (arr) {
      ins.json = true;
      ins.args = cmd === 'HEALTHCHECK' ? [ins.value.split(/\s/)[0]!.toUpperCase(), ...arr] : arr;
      if (cmd !== 'HEALTHCHECK') ins.value = arr.join(' ');
      return ins;
    }
  }
  ins.args = splitWords(ins.value);
  return ins;
}

function tryJsonArray(s: string): string[] | undefined {
  try {
    const v: unknown = JSON.parse(s);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    /* not JSON: shell form */
  }
  return undefined;
}

/** Splits on whitespace outside quotes; keeps the quotes. */
function splitWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q: string | undefined;
  for (const ch of s) {
    if (q) {
      cur += ch;
      if (ch === q) q = undefined;
    } else if (ch === '"' || ch === "'") {
      q = ch;
      cur += ch;
    } else if (/\s/.test(ch)) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

function unquote(s: string): string {
  if (s.length >= 2 && (s[0] === '"' || s[0] === "'") && s.at(-1) === s[0]) return s.slice(1, -1);
  return s;
}

/** `ENV a=1 b="x y"` or the legacy `ENV a some value`. */
export function parseKeyValues(value: string): [string, string][] {
  const words = splitWords(value);
  if (words.length && !words[0]!.includes('=')) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(value.trim());
    return m ? [[m[1]!, m[2]!]] : [[words[0]!, '']];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    return eq < 0 ? [w, ''] : [w.slice(0, eq), unquote(w.slice(eq + 1))];
  });
}

/** Expands `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alt}`; unknown variables become "". */
export function substitute(s: string, vars: Record<string, string>, escape = '\\'): string {
  let out = '';
  for (let k = 0; k < s.length; k++) {
    const ch = s[k]!;
    if (ch === escape && s[k + 1] === '$') {
      out += '$';
      k++;
      continue;
    }
    if (ch !== '$') {
      out += ch;
      continue;
    }
    const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}/.exec(s.slice(k));
    if (braced) {
      const v = vars[braced[1]!];
      const op = braced[2];
      const word = braced[3] ?? '';
      if (op === ':-' || op === '-') out += v !== undefined && (op === '-' || v !== '') ? v : word;
      else if (op === ':+' || op === '+') out += v !== undefined && (op === '+' || v !== '') ? word : '';
      else out += v ?? '';
      k += braced[0].length - 1;
      continue;
    }
    const plain = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(s.slice(k));
    if (plain) {
      out += vars[plain[1]!] ?? '';
      k += plain[0].length - 1;
      continue;
    }
    out += ch;
  }
  return out;
}

/** Splits a shell command line into simple commands at `&&`, `||`, `;`, `|` and newlines (outside quotes). */
export function splitShellCommands(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q: string | undefined;
  for (let k = 0; k < s.length; k++) {
    const ch = s[k]!;
    if (q) {
      cur += ch;
      if (ch === q) q = undefined;
      else if (ch === '\\' && q === '"' && k + 1 < s.length) cur += s[++k];
      continue;
    }
    if (ch === '"' || ch === "'") {
      q = ch;
      cur += ch;
    } else if (ch === '\\' && k + 1 < s.length) {
      cur += ch + s[++k];
    } else if (ch === ';' || ch === '\n' || ch === '|' || (ch === '&' && s[k + 1] === '&')) {
      if (ch === '&' || (ch === '|' && s[k + 1] === '|')) k++;
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out.map((c) => c.replace(/\s+/g, ' '));
}

function runCommands(ins: DockerInstruction, vars: Record<string, string>, escape: string): string[] {
  if (ins.json) return [ins.args.join(' ')];
  const shell = substitute(ins.value, vars, escape);
  const cmds = splitShellCommands(shell).filter((c) => !/^<<-?["']?[A-Za-z_]/.test(c));
  // `RUN <<EOF` runs the heredoc as a script; `RUN python3 <<EOF` feeds it to a program.
  for (const h of ins.heredocs) {
    const body = h.quoted ? h.content : substitute(h.content, vars, escape);
    if (/^\s*<<-?["']?[A-Za-z_]/.test(ins.value) || /^(ba|da|z)?sh\b/.test(ins.value.trim())) {
      cmds.push(...splitShellCommands(body.replace(/\\\n/g, ' ')).filter((c) => !c.startsWith('#')));
    }
  }
  return cmds.map((c) => c.replace(/<<-?["']?[A-Za-z_][A-Za-z0-9_.-]*["']?/g, '').trim()).filter(Boolean);
}

/** Splits "registry:5000/ns/app:1.2@sha256:..." into repository, tag and digest. */
export function splitImageRef(image: string): { repository: string; tag?: string; digest?: string } {
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return {
    repository: rest,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}
