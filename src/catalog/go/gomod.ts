/**
 * go.mod (https://go.dev/ref/mod#go-mod-file): module, go, require, replace and exclude directives,
 * single-line or in ( ) blocks, `// indirect` comments. Requirements come out with replacements
 * applied and excluded versions removed.
 */

export interface GoModRequire {
  path: string;
  /** Version after replacement; '' when replaced by a local directory. */
  version: string;
  indirect: boolean;
  /** Original requirement when a replace directive changed it. */
  replaced?: { path: string; version: string };
}

export interface GoMod {
  module?: string;
  go?: string;
  requires: GoModRequire[];
}

/** Splits a directive's arguments, honouring "quoted" and `raw` strings. */
function tokens(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|`([^`]*)`|(\S+)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

export function parseGoMod(text: string): GoMod {
  const mod: GoMod = { requires: [] };
  const reqs: { path: string; version: string; indirect: boolean }[] = [];
  const replaces: { from: string; fromVersion?: string; to: string; toVersion?: string }[] = [];
  const excludes = new Set<string>();
  let block: string | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const cmt = raw.indexOf('//');
    const comment = cmt >= 0 ? raw.slice(cmt + 2).trim() : '';
    const line = (cmt >= 0 ? raw.slice(0, cmt) : raw).trim();
    if (!line) continue;
    let verb: string;
    let args: string[];
    if (block) {
      if (line === ')') {
        block = undefined;
        continue;
      }
      verb = block;
      args = tokens(line);
    } else {
      const t = tokens(line);
      verb = t[0]!;
      if (t[1] === '(' && t.length === 2) {
        block = verb;
        continue;
      }
      args = t.slice(1);
    }
    // "// indirect" as the whole comment, or first item of a ";"-separated comment
    const indirect = /^indirect(;|$)/.test(comment);
    switch (verb) {
      case 'module':
        if (args[0]) mod.module = args[0];
        break;
      case 'go':
        mod.go = args[0];
        break;
      case 'require':
        if (args.length >= 2) reqs.push({ path: args[0]!, version: args[1]!, indirect });
        break;
      case 'exclude':
        if (args.length >= 2) excludes.add(`${args[0]}@${args[1]}`);
        break;
      case 'replace': {
        const arrow = args.indexOf('=>');
        if (arrow < 1 || arrow > 2 || args.length <= arrow + 1) {
          throw new Error(`line ${i + 1}: malformed replace directive`);
        }
        replaces.push({
          from: args[0]!,
          ...(arrow === 2 ? { fromVersion: args[1]! } : {}),
          to: args[arrow + 1]!,
          ...(args[arrow + 2] ? { toVersion: args[arrow + 2]! } : {}),
        });
        break;
      }
      default:
        break;
    }
  }
  for (const r of reqs) {
    if (excludes.has(`${r.path}@${r.version}`)) continue;
    // A versioned replace wins over an unversioned one for the same module.
    const rep =
      replaces.find((x) => x.from === r.path && x.fromVersion === r.version) ??
      replaces.find((x) => x.from === r.path && x.fromVersion === undefined);
    if (!rep) {
      mod.requires.push(r);
      continue;
    }
    const local = rep.toVersion === undefined; // "=> ../dir": a directory, not a module version
    mod.requires.push({
      path: local ? r.path : rep.to,
      version: local ? '' : rep.toVersion!,
      indirect: r.indirect,
      replaced: { path: r.path, version: r.version },
    });
  }
  return mod;
}
