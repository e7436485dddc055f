/**
 * Runs `bulwark scan config ...` in a child process with only the config command group registered
 * (the full CLI imports every module; this keeps the test independent of the others' progress while
 * exercising the real command: option parsing, stdin, output files and exit codes).
 */
import { Command, CommanderError } from 'commander';
import { describeError } from '../../src/core/errors.js';
import { makeContext } from '../../src/cli/context.js';
import { register } from '../../src/cli/config.js';

const program = new Command('bulwark').option('-q, --quiet').option('-d, --debug').exitOverride();
const scan = program.command('scan').exitOverride();
const ctx = makeContext(program, scan);
register(ctx);
try {
  await program.parseAsync(['node', 'bulwark', 'scan', 'config', ...process.argv.slice(2)]);
  process.exitCode = ctx.exitCode;
} catch (e) {
  if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? 0 : 2;
  else {
    process.stderr.write(`bulwark: ${describeError(e)}\n`);
    process.exitCode = 1;
  }
}
