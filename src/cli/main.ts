/**
 * The `bulwark` command line. Each command group lives in its own file and exports
 * `register(ctx)`; this file only wires them together and turns errors into exit codes.
 */
import { Command, CommanderError } from 'commander';
import { describeError, isBulwarkError } from '../core/errors.js';
import { makeContext } from './context.js';
import type { CliContext } from './context.js';
import { VERSION } from './version.js';
import { loadSecretFiles } from './secret-env.js';

type Group = { register(ctx: CliContext): void };

/**
 * Command groups by top-level command. Only the groups of the command being run are loaded (the
 * server, the policy engine and the scanners are heavy to import); help and unknown commands load
 * them all so that help and suggestions are complete.
 */
const GROUPS: Record<string, (() => Promise<Group>)[]> = {
  sbom: [() => import('./sbom.js')],
  scan: [() => import('./scan.js'), () => import('./config.js')],
  db: [() => import('./db.js')],
  server: [() => import('./server.js')],
  rules: [() => import('./rules.js')],
  waf: [() => import('./waf.js')],
  agent: [() => import('./agent.js')],
  profile: [() => import('./profile.js')],
  admission: [() => import('./admission.js')],
  netpol: [() => import('./netpol.js')],
  benchmark: [() => import('./benchmark.js')],
  'generate-key-pair': [() => import('./sign.js')],
  sign: [() => import('./sign.js')],
  verify: [() => import('./sign.js')],
  attest: [() => import('./sign.js')],
  'verify-attestation': [() => import('./sign.js')],
};

async function loadGroups(argv: string[]): Promise<Group[]> {
  const args = argv.slice(2);
  const first = args.find((a) => !a.startsWith('-'));
  if (!first && (args.includes('-v') || args.includes('--version'))) return [];
  const loaders = first && GROUPS[first] ? GROUPS[first] : Object.values(GROUPS).flat();
  // several top-level commands may share one group file: register each module once
  return [...new Set(await Promise.all(loaders.map((l) => l())))];
}

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
  for (const g of await loadGroups(argv)) g.register(ctx);
  try {
    loadSecretFiles();
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are not errors
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0)
        return 0;
      return 2;
    }
    process.stderr.write(`bulwark: ${describeError(e)}\n`);
    if (program.opts().debug && e instanceof Error && e.stack && !isBulwarkError(e))
      process.stderr.write(e.stack + '\n');
    // usage errors (bad flags or values) exit 2 like commander's own; everything else 1, as Trivy does
    return isBulwarkError(e) && e.code === 'USAGE' ? 2 : 1;
  }
}
