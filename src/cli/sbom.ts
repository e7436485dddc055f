/**
 * `bulwark sbom TARGET`: catalog the packages of an image or directory and print them as a table,
 * JSON, CycloneDX 1.6 or SPDX 2.3.
 */
import { Option, type Command } from 'commander';
import { isBulwarkError } from '../core/errors.js';
import { renderSbom, SBOM_FORMATS, type SbomOutputFormat } from '../sbom/index.js';
import { analyzeTarget } from '../image/index.js';
import { buildCatalog, catalogAnalyzers } from '../catalog/index.js';
import type { CliContext } from './context.js';
import { openOutput, stdoutIsTTY } from './output.js';
import {
  addTargetOptions,
  armTimeout,
  resolveTargetOptions,
  toAnalyzeOptions,
  type TargetCliOptions,
} from './target-options.js';
import { VERSION } from './version.js';

interface SbomCliOptions extends TargetCliOptions {
  format?: SbomOutputFormat;
  output?: string;
}

export const TARGET_HELP = `TARGET is one of:
  host[:port]/repo[:tag|@digest]   image in a registry (OCI distribution API)
  oci:DIR[:TAG]                    OCI image layout directory
  docker-archive:FILE              tar written by "docker save" or skopeo
  dir:PATH | PATH                  root filesystem or project directory`;

export function register(ctx: CliContext): void {
  const cmd: Command = ctx.program
    .command('sbom')
    .description('list the packages of an image or directory as a table, JSON, CycloneDX or SPDX')
    .argument('<target>', 'image reference, oci:DIR[:TAG], docker-archive:FILE or dir:PATH')
    .addOption(
      new Option(
        '-f, --format <format>',
        'output format (default: table on a terminal, cyclonedx otherwise)',
      ).choices([...SBOM_FORMATS]),
    )
    .option('-o, --output <file>', 'write to FILE instead of standard output');
  addTargetOptions(cmd);
  cmd.addHelpText(
    'after',
    `
${TARGET_HELP}

Formats:
  table       NAME, VERSION, TYPE and where each package was found (default on a terminal)
  json        the catalog with the artifact it describes
  cyclonedx   CycloneDX 1.6 JSON (default when output is not a terminal)
  spdx        SPDX 2.3 JSON (alias: spdx-json)

Registry password: BULWARK_PASSWORD or --password-stdin (with --username).
Exit codes: 0 success, 1 error, 2 usage error.`,
  );
  cmd.action(async (target: string, opts: SbomCliOptions) => {
    const logger = ctx.logger();
    let targetOpts;
    try {
      targetOpts = await resolveTargetOptions(opts, logger);
    } catch (e) {
      if (isBulwarkError(e) && e.code === 'USAGE')
        cmd.error(`error: ${e.message}`, { exitCode: 2, code: 'bulwark.usage' });
      throw e;
    }
    const toTerminal = opts.output === undefined && stdoutIsTTY();
    const format: SbomOutputFormat = opts.format ?? (toTerminal ? 'table' : 'cyclonedx');
    // Open -o FILE first: a path that cannot be written fails before minutes of analysis.
    const out = await openOutput(opts.output);
    const disarm = armTimeout(targetOpts.timeoutMs, target);
    try {
      logger.progress(`analyzing ${target}`);
      const result = await analyzeTarget(target, catalogAnalyzers(), toAnalyzeOptions(targetOpts, logger));
      logger.progress('cataloging packages');
      const catalog = buildCatalog(result);
      logger.progress('');
      for (const w of catalog.warnings) logger.warn(w);
      const text = renderSbom(format, catalog, result.artifact, { toolVersion: VERSION });
      if (!out.stream.write(text)) await new Promise<void>((r) => out.stream.once('drain', () => r()));
      await out.close();
    } catch (e) {
      await out.abort();
      throw e;
    } finally {
      logger.progress('');
      disarm();
    }
  });
}
