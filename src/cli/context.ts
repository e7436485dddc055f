/**
 * What every command group receives: the root program, the shared `scan` command (several groups add
 * subcommands to it), and how to report results and set the exit code.
 */
import type { Command } from 'commander';
import { createLogger, type Logger } from '../core/log.js';

export interface CliContext {
  program: Command;
  scan: Command;
  /** Logger honouring --quiet/--debug; progress only on a TTY. */
  logger(): Logger;
  /** Exit code the process ends with (commands set it; errors set 1). */
  exitCode: number;
}

export function makeContext(program: Command, scan: Command): CliContext {
  const ctx: CliContext = {
    program,
    scan,
    exitCode: 0,
    logger() {
      const o = program.opts<{ quiet?: boolean; debug?: boolean }>();
      return createLogger({ quiet: o.quiet, debug: o.debug });
    },
  };
  return ctx;
}
