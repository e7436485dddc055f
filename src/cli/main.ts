/**
 * The `bulwark` command line. Each command group lives in its own file and exports
 * `register(ctx)`; this file only wires them together and turns errors into exit codes.
 */
import { Command, CommanderError } from 'commander';
import { describeError, isBulwarkError } from '../core/errors.js';
import { makeContext } from './context.js';
import { VERSION } from './version.js';
import * as sbomCmd from './sbom.js';
import * as scanCmd from './scan.js';
import * as dbCmd from './db.js';
import * as configCmd from './config.js';
import * as serverCmd from './server.js';

const groups = [sbomCmd, scanCmd, dbCmd, configCmd, serverCmd];

export async function main(argv: string[]): Promise<number> {
  const program = new Command('bulwark')
    .description('Security scanner for container images, filesystems, SBOMs and Kubernetes')
    .version(VERSION, '-v, --version')
    .option('-q, --quiet', 'suppress progress and informational messages')
    .option('-d, --debug', 'debug messages on stderr')
    .showSuggestionAfterError()
    .exitOverride();
  const scan = program
    .command('scan')
    .description('scan a target for vulnerabilities, secrets and misconfigurations')
    .exitOverride();
  const ctx = makeContext(program, scan);
  for (const g of groups) g.register(ctx);
  try {
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are not errors
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return 0;
      return 2;
    }
    process.stderr.write(`bulwark: ${describeError(e)}\n`);
    if (program.opts().debug && e instanceof Error && e.stack && !isBulwarkError(e)) process.stderr.write(e.stack + '\n');
    // usage errors (bad flags or values) exit 2 like commander's own; everything else 1, as Trivy does
    return isBulwarkError(e) && e.code === 'USAGE' ? 2 : 1;
  }
}
