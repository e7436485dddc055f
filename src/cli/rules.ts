/**
 * `bulwark rules validate FILE...`: load Falco rule files in order, as Falco's `-V` does, and
 * report each file's errors and warnings with file:line (text, or Falco's JSON load results).
 * `bulwark rules replay CAPTURE.scap --rules FILE...`: run the rules over a capture, as
 * `falco -e CAPTURE` does, printing alerts as JSON lines or Falco's text lines.
 */
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { loadRules, type FileResult, type LoadIssue, type RuleFile } from '../runtime/rules/index.js';
import { BulwarkError } from '../core/errors.js';
import type { CliContext } from './context.js';
import { openOutput, type Output } from './output.js';

/** the event sources the engine has fields for */
const SOURCES = ['syscall', 'k8s_audit'];

const CODE_DESC: Record<string, string> = {
  LOAD_ERR_FILE_READ: 'Error reading file',
  LOAD_ERR_YAML_PARSE: 'Error parsing YAML',
  LOAD_ERR_YAML_VALIDATE: 'Error validating internal structure of YAML file',
  LOAD_ERR_COMPILE_CONDITION: 'Error compiling condition',
  LOAD_ERR_COMPILE_OUTPUT: 'Error compiling output',
  LOAD_ERR_VALIDATE: 'Error validating rule/macro/list/exception objects',
  LOAD_UNKNOWN_SOURCE: 'Unknown rule source',
  LOAD_UNSAFE_NA_CHECK: 'Unsafe <NA> comparison in condition',
  LOAD_NO_EVTTYPE: 'Condition has no event-type restriction',
  LOAD_UNKNOWN_FILTER: 'Unknown field or event-type in condition or output',
  LOAD_UNUSED_MACRO: 'Unused macro',
  LOAD_UNUSED_LIST: 'Unused list',
  LOAD_UNKNOWN_ITEM: 'Unknown rules file item',
  LOAD_DEPRECATED_ITEM: 'Used deprecated item',
  LOAD_DEPRECATED_FIELD: 'Used deprecated field',
  LOAD_APPEND_NO_VALUES: 'Overriding/appending with no values',
  LOAD_EXCEPTION_NAME_NOT_UNIQUE: 'Multiple exceptions defined with the same name',
  LOAD_INVALID_MACRO_NAME: 'Invalid macro name',
  LOAD_INVALID_LIST_NAME: 'Invalid list name',
  LOAD_COMPILE_CONDITION: 'Warning in rule condition',
};

function issueJson(i: LoadIssue) {
  return {
    code: i.code,
    codedesc: CODE_DESC[i.code] ?? i.code,
    message: i.message,
    context: {
      item_type: i.itemType,
      item_name: i.itemName,
      position: { name: i.file, line: i.line, column: i.column },
      snippet: i.snippet ?? '',
    },
  };
}

function issueText(kind: 'error' | 'warning', i: LoadIssue): string {
  const item = i.itemName ? ` (${i.itemType} '${i.itemName}')` : i.itemType ? ` (${i.itemType})` : '';
  return `${i.file}:${i.line}:${i.column}: ${kind} ${i.code}: ${i.message}${item}\n`;
}

async function readRuleFiles(paths: string[]): Promise<{ files: RuleFile[]; unreadable: FileResult[] }> {
  const files: RuleFile[] = [];
  const unreadable: FileResult[] = [];
  for (const p of paths) {
    try {
      files.push({ name: p, content: await readFile(p, 'utf8') });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      unreadable.push({
        file: p,
        successful: false,
        schemaValidation: 'ok',
        warnings: [],
        errors: [
          {
            file: p,
            line: 0,
            column: 0,
            code: 'LOAD_ERR_FILE_READ',
            itemType: 'rules content',
            itemName: '',
            message: `Could not read file: ${code}`,
          },
        ],
      });
    }
  }
  return { files, unreadable };
}

export function register(ctx: CliContext): void {
  const rules: Command = ctx.program
    .command('rules')
    .description('Falco-compatible runtime rules: validate rule files, replay captures');

  rules
    .command('validate')
    .description(
      'load Falco rule files in order and report errors and warnings with file:line (exit 1 on any error)',
    )
    .argument('<file...>', 'Falco rules YAML files, loaded in the order given')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('-o, --output <file>', 'write to FILE instead of standard output')
    .addHelpText(
      'after',
      `
Each file is loaded after the ones before it (later files can override, append to or enable
their items), as Falco loads -r files. Errors stop the file they are in.

Formats:
  text   one line per file ("FILE: Ok" / "FILE: Invalid") and one per issue:
         FILE:LINE:COL: error|warning CODE: message (item type 'name')
  json   {"falco_load_results": [{name, successful, errors, warnings}]} as Falco's JSON

Exit codes: 0 every file loaded, 1 some file has errors, 2 usage error.`,
    )
    .action(async (paths: string[], o: { format: 'text' | 'json'; output?: string }) => {
      const { files, unreadable } = await readRuleFiles(paths);
      const rs = loadRules(files, { sources: SOURCES });
      const byName = new Map([...rs.files, ...unreadable].map((r) => [r.file, r]));
      const results = paths.map((p) => byName.get(p)!).filter(Boolean);
      const ok = results.every((r) => r.successful);
      const out = await openOutput(o.output);
      try {
        if (o.format === 'json') {
          out.stream.write(
            JSON.stringify({
              falco_load_results: results.map((r) => ({
                name: r.file,
                successful: r.successful,
                errors: r.errors.map(issueJson),
                warnings: r.warnings.map(issueJson),
              })),
            }) + '\n',
          );
        } else {
          for (const r of results) {
            out.stream.write(`${r.file}: ${r.successful ? 'Ok' : 'Invalid'}\n`);
            for (const e of r.errors) out.stream.write(issueText('error', e));
            for (const w of r.warnings) out.stream.write(issueText('warning', w));
          }
          const ne = results.reduce((n, r) => n + r.errors.length, 0);
          const nw = results.reduce((n, r) => n + r.warnings.length, 0);
          out.stream.write(
            `${results.length} file(s), ${rs.rules.length} rule(s): ${ne} error(s), ${nw} warning(s)\n`,
          );
        }
        await out.close();
      } catch (e) {
        await out.abort();
        throw e;
      }
      ctx.exitCode = ok ? 0 : 1;
    });

  rules
    .command('replay')
    .description('evaluate rules on a .scap capture (as falco -e) and print the alerts: JSON lines or text')
    .argument(
      '<capture>',
      'capture file (.scap or .scap.gz, as written by sysdig -w or falco), or a Kubernetes audit log (JSON lines)',
    )
    .requiredOption('-r, --rules <file...>', 'Falco rules YAML files, loaded in order')
    .addOption(new Option('-f, --format <format>', 'alert format').choices(['json', 'text']).default('json'))
    .option('-o, --output <file>', 'write to FILE instead of standard output')
    .option('--hostname <name>', 'hostname in alerts (default: this host)')
    .option('--time-iso8601', "ISO 8601 times in output lines, as Falco's time_format_iso_8601")
    .addOption(
      new Option('--rule-matching <mode>', "Falco's rule_matching: first matching rule per event, or all")
        .choices(['first', 'all'])
        .default('first'),
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 replayed (with or without alerts), 1 unreadable capture or rules with errors, 2 usage error.',
    )
    .action(
      async (
        capture: string,
        o: {
          rules: string[];
          format: 'json' | 'text';
          output?: string;
          hostname?: string;
          timeIso8601?: boolean;
          ruleMatching: 'first' | 'all';
        },
      ) => {
        const { readScapFile, replay, ScapError } = await import('../runtime/scap/index.js');
        const { formatAlert } = await import('../runtime/rules/index.js');
        const { files, unreadable } = await readRuleFiles(o.rules);
        if (unreadable.length)
          throw new BulwarkError(
            'NOT_FOUND',
            `${unreadable[0]!.file}: ${unreadable[0]!.errors[0]!.message}`,
            { subject: unreadable[0]!.file },
          );
        const { hostname } = await import('node:os');
        const rs = loadRules(files, {
          hostname: o.hostname ?? hostname(),
          ruleMatching: o.ruleMatching,
          sources: SOURCES,
        });
        for (const e of rs.errors) process.stderr.write(issueText('error', e));
        if (!rs.successful) throw new BulwarkError('PARSE', `rules have ${rs.errors.length} error(s)`);
        let out: Output | undefined;
        const write = (a: Parameters<typeof formatAlert>[0]) =>
          out!.stream.write(formatAlert(a, o.format, { iso8601: o.timeIso8601 }) + '\n');
        let head: Buffer;
        try {
          head = await readFile(capture).then((b) => b.subarray(0, 64));
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
          throw new BulwarkError('NOT_FOUND', `cannot read ${capture}: ${code}`, { subject: capture });
        }
        // a Kubernetes audit log (JSON) rather than a capture: the k8s_audit rules run over it
        if (/^\s*[[{]/.test(head.toString('latin1'))) {
          const { parseAuditEvents } = await import('../runtime/rules/k8saudit.js');
          let events;
          try {
            events = parseAuditEvents(await readFile(capture, 'utf8'));
          } catch (e) {
            throw new BulwarkError(
              'PARSE',
              `${capture}: not a Kubernetes audit log: ${(e as Error).message}`,
              {
                subject: capture,
              },
            );
          }
          out = await openOutput(o.output);
          let alerts = 0;
          for (const ev of events)
            for (const a of rs.evaluateAudit(ev)) {
              alerts++;
              write(a);
            }
          await out.close();
          ctx.logger().info(`${events.length} audit events, ${alerts} alerts`);
          return;
        }
        let cap;
        try {
          cap = await readScapFile(capture);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code)
            throw new BulwarkError('NOT_FOUND', `cannot read ${capture}: ${code}`, { subject: capture });
          if (e instanceof ScapError)
            throw new BulwarkError('CORRUPT', `${capture}: ${e.message}`, { subject: capture });
          throw e;
        }
        out = await openOutput(o.output);
        try {
          const stats = replay(cap, rs, write);
          await out.close();
          ctx.logger().info(`${stats.events} events, ${stats.alerts} alerts`);
        } catch (e) {
          await out.abort();
          throw e;
        }
      },
    );
}
