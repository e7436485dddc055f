/**
 * `bulwark scan image|fs|rootfs|sbom TARGET`: one pass over the artifact with the catalogers and
 * every selected scanner's file analyzers, then each scanner turns its records into report
 * sections, then filtering (severity, unfixed, ignore file, VEX) and one report writer.
 *
 * Scanners are plug-ins (src/report/scanner.ts). `vuln` is built in; the others are loaded from
 * their module's index.ts export `scanner` (SCANNER_MODULES), so a module that is absent or does
 * not export one is reported as "not available" instead of silently scanning nothing.
 */
import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { AnalysisResult, FileAnalyzer } from '../core/analyzer.js';
import { BulwarkError, isBulwarkError } from '../core/errors.js';
import type { ScanReport, ScanResult } from '../core/findings.js';
import type { Logger } from '../core/log.js';
import { parseSeverityList, type Catalog, type Severity, type TargetKind } from '../core/types.js';
import { buildCatalog, catalogAnalyzers } from '../catalog/index.js';
import { analyzeTarget } from '../image/index.js';
import {
  filterReport,
  formatReport,
  isReportFormat,
  loadIgnoreFile,
  loadVex,
  REPORT_FORMATS,
  type IgnoreList,
  type ReportFormat,
  type Scanner,
} from '../report/index.js';
import { readSbomFile } from '../sbom/index.js';
import {
  AdvisoryDb,
  DEFAULT_MAX_AGE_MS,
  assertUsable,
  defaultDbPath,
  parseMaxAge,
} from '../vuln/db/index.js';
import { createVulnScanner } from '../vuln/scanner.js';
import type { CliContext } from './context.js';
import { stdoutIsTTY, writeOutput } from './output.js';
import {
  addTargetOptions,
  armTimeout,
  parseDuration,
  resolveTargetOptions,
  toAnalyzeOptions,
  type TargetCliOptions,
} from './target-options.js';
import { VERSION } from './version.js';

export interface ScanCliOptions extends TargetCliOptions {
  db?: string;
  /** Oldest acceptable database age ("0": any age); default 7d or $BULWARK_DB_MAX_AGE. */
  dbMaxAge?: string;
  format: string;
  output?: string;
  severity?: string;
  exitCode: string;
  ignoreUnfixed?: boolean;
  ignorefile?: string;
  vex?: string[];
  scanners?: string;
  includeOsOwned?: boolean;
  listAllPkgs?: boolean;
  showSuppressed?: boolean;
  secretConfig?: string;
  malwareRules?: string[];
  malwareMaxSize?: string;
  policy?: string[];
  server?: string;
  token?: string;
}

/**
 * Scanner name → loader of the module whose index.ts exports `scanner: Scanner`. Written as literal
 * import() calls so that the CLI bundle (scripts/bundle.mjs) carries them as chunks loaded on demand.
 */
export const SCANNER_MODULES: Record<string, () => Promise<unknown>> = {
  secret: () => import('../secret/index.js'),
  misconfig: () => import('../misconfig/index.js'),
  license: () => import('../license/index.js'),
  malware: () => import('../malware/index.js'),
};
export const SCANNER_NAMES = ['vuln', ...Object.keys(SCANNER_MODULES)];
const DEFAULT_SCANNERS: Record<string, string[]> = {
  image: ['vuln', 'secret'],
  fs: ['vuln', 'secret'],
  rootfs: ['vuln', 'secret'],
  sbom: ['vuln'],
};

/** Loads a plug-in scanner by name; throws UNSUPPORTED when its module or export is missing. */
export async function loadScanner(name: string): Promise<Scanner> {
  const load = SCANNER_MODULES[name];
  if (!load)
    throw new BulwarkError(
      'USAGE',
      `unknown scanner "${name}" (expected one of ${SCANNER_NAMES.join(', ')})`,
    );
  let mod: { scanner?: Scanner };
  try {
    mod = (await load()) as { scanner?: Scanner };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new BulwarkError('UNSUPPORTED', `scanner "${name}" is not available in this build of Bulwark`);
    }
    throw e;
  }
  if (!mod.scanner || typeof mod.scanner.results !== 'function') {
    throw new BulwarkError(
      'UNSUPPORTED',
      `scanner "${name}" is not available in this build of Bulwark (its module exports no scanner)`,
    );
  }
  return mod.scanner;
}

function parseScanners(list: string | undefined, kind: string): { names: string[]; explicit: boolean } {
  if (list === undefined) return { names: DEFAULT_SCANNERS[kind]!, explicit: false };
  const names = [
    ...new Set(
      list
        .split(',')
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
  if (!names.length) throw new BulwarkError('USAGE', '--scanners: empty list');
  for (const n of names)
    if (!SCANNER_NAMES.includes(n))
      throw new BulwarkError(
        'USAGE',
        `--scanners: unknown scanner "${n}" (expected ${SCANNER_NAMES.join(', ')})`,
      );
  return { names, explicit: true };
}

export interface ScanRun {
  report: ScanReport;
  /** Unsuppressed findings left after filtering. */
  remaining: number;
  rendered: string;
}

/**
 * The scan pipeline, usable without the CLI (tests, server jobs): target → report text.
 */
export async function runScan(
  kind: 'image' | 'fs' | 'rootfs' | 'sbom',
  target: string,
  o: ScanCliOptions,
  logger: Logger,
  color = false,
): Promise<ScanRun> {
  if (!isReportFormat(o.format))
    throw new BulwarkError(
      'USAGE',
      `--format: unknown format "${o.format}" (expected ${REPORT_FORMATS.join(', ')})`,
    );
  const format: ReportFormat = o.format;
  let severities: Severity[] | undefined;
  try {
    severities = o.severity ? parseSeverityList(o.severity) : undefined;
  } catch (e) {
    throw new BulwarkError('USAGE', `--severity: ${(e as Error).message}`);
  }
  const { names, explicit } = parseScanners(o.scanners, kind);
  if ((o.malwareRules?.length || o.malwareMaxSize !== undefined) && !names.includes('malware'))
    logger.warn('--malware-rules/--malware-max-size have no effect without --scanners malware');
  const maxAge = o.dbMaxAge ?? process.env.BULWARK_DB_MAX_AGE;
  const maxAgeMs = maxAge !== undefined ? parseMaxAge(maxAge) : DEFAULT_MAX_AGE_MS;
  if (kind === 'sbom') {
    const bad = names.filter((n) => n !== 'vuln' && n !== 'license');
    if (bad.length)
      throw new BulwarkError(
        'USAGE',
        `--scanners ${bad.join(',')}: an SBOM has packages only; use vuln or license`,
      );
  }
  // Suppression inputs are read before the (expensive) scan so mistakes fail fast.
  const ignore: IgnoreList[] = [];
  if (o.ignorefile) ignore.push(loadIgnoreFile(o.ignorefile));
  else if (existsSync('.bulwarkignore')) ignore.push(loadIgnoreFile('.bulwarkignore'));
  const vex = (o.vex ?? []).map((f) => loadVex(f));

  const scanners: Scanner[] = [];
  let db: AdvisoryDb | undefined;
  try {
    for (const n of names) {
      if (n === 'vuln') {
        db = AdvisoryDb.open(o.db ?? defaultDbPath(), { readonly: true });
        // an empty or stale DB would report "no vulnerabilities": refuse it (Trivy fails without a DB)
        assertUsable(db, maxAgeMs);
        scanners.push(
          createVulnScanner({
            db,
            includeOsOwned: o.includeOsOwned,
            listPackages: o.listAllPkgs || format === 'cyclonedx',
          }),
        );
        continue;
      }
      try {
        scanners.push(await loadScanner(n));
      } catch (e) {
        if (!explicit && isBulwarkError(e) && e.code === 'UNSUPPORTED') logger.debug(e.message);
        else throw e;
      }
    }
    const options: Record<string, unknown> = {
      secretConfig: o.secretConfig,
      malwareRules: o.malwareRules ?? [],
      malwareMaxSize: o.malwareMaxSize,
      policy: o.policy ?? [],
      includeOsOwned: o.includeOsOwned,
      artifactName: target,
    };
    const warnings: string[] = [];
    const warn = (m: string) => {
      warnings.push(m);
      logger.warn(m);
    };

    let analysis: AnalysisResult | undefined;
    let catalog: Catalog = { packages: [], warnings: [] };
    let artifact: ScanReport['artifact'];
    if (kind === 'sbom') {
      const sbom = await readSbomFile(target);
      catalog = sbom.catalog;
      artifact = {
        kind: 'sbom',
        name: sbom.name ?? target,
        layers: [],
        ...(catalog.distro ? { os: catalog.distro } : {}),
      };
    } else {
      const needCatalog = scanners.some((s) => s.needsCatalog);
      const analyzers: FileAnalyzer[] = [
        ...(needCatalog ? catalogAnalyzers() : []),
        ...scanners.flatMap((s) => s.analyzers(options)),
      ];
      const targetOpts = await resolveTargetOptions(o, logger);
      const spec = kind === 'image' ? target : /^dir:/.test(target) ? target : `dir:${target}`;
      const result: AnalysisResult = await analyzeTarget(spec, analyzers, {
        ...toAnalyzeOptions(targetOpts, logger),
        kind: kind === 'image' ? 'image' : kind,
      });
      analysis = result;
      if (needCatalog) catalog = buildCatalog(result);
      const a = result.artifact;
      artifact = {
        kind: kind as TargetKind,
        name: kind === 'image' ? a.name : target,
        ...(a.digest ? { digest: a.digest } : {}),
        ...(a.imageId ? { imageId: a.imageId } : {}),
        ...(a.repoTags ? { repoTags: a.repoTags } : {}),
        ...(a.repoDigests ? { repoDigests: a.repoDigests } : {}),
        layers: a.layers,
        ...(catalog.distro ? { os: catalog.distro } : {}),
      };
      for (const w of result.warnings) warn(w);
    }
    for (const w of catalog.warnings) warn(w);
    options.artifactName = artifact.name;
    const results: ScanResult[] = [];
    for (const s of scanners)
      results.push(...(await s.results({ analysis, catalog, targetKind: kind, warn, options })));
    if (kind === 'fs') for (const r of results) relativize(r);
    const report: ScanReport = {
      schemaVersion: 1,
      createdAt: new Date().toISOString(),
      tool: { name: 'bulwark', version: VERSION },
      artifact,
      results,
      ...(warnings.length ? { warnings } : {}),
    };
    const out = filterReport(report, {
      severities,
      ignoreUnfixed: o.ignoreUnfixed,
      ignore,
      vex,
      showSuppressed: o.showSuppressed,
    });
    for (const e of out.expiredRules) logger.warn(`ignore rule ${e} no longer suppresses findings`);
    if (out.suppressed.length)
      logger.info(`${out.suppressed.length} finding(s) suppressed by the ignore file or VEX`);
    const rendered = formatReport(out.report, format, { color, warn: (m) => logger.warn(m) });
    return { report: out.report, remaining: out.remaining, rendered };
  } finally {
    db?.close();
  }
}

/** Project directories: paths relative to the scanned directory, as the Location contract says. */
function relativize(r: ScanResult): void {
  const rel = (p: string) => p.replace(/^\/+/, '');
  if (r.target.startsWith('/')) r.target = rel(r.target);
  for (const f of r.findings) f.location = { ...f.location, path: rel(f.location.path) };
  for (const p of r.packages ?? []) p.locations = p.locations.map((l) => ({ ...l, path: rel(l.path) }));
}

export function register(ctx: CliContext): void {
  const kinds: { name: 'image' | 'fs' | 'rootfs' | 'sbom'; arg: string; desc: string }[] = [
    {
      name: 'image',
      arg: '<image>',
      desc: 'scan a container image (registry reference, oci:DIR[:TAG], docker-archive:FILE)',
    },
    { name: 'fs', arg: '<dir>', desc: 'scan a project directory (lock files, manifests, secrets)' },
    { name: 'rootfs', arg: '<dir>', desc: 'scan an unpacked root filesystem' },
    {
      name: 'sbom',
      arg: '<file>',
      desc: 'scan the packages of a CycloneDX or SPDX SBOM for vulnerabilities',
    },
  ];
  for (const k of kinds) {
    const cmd: Command = ctx.scan
      .command(k.name)
      .description(k.desc)
      .argument(k.arg)
      .addOption(
        new Option('-f, --format <format>', 'report format').choices([...REPORT_FORMATS]).default('table'),
      )
      .option('-o, --output <file>', 'write the report to FILE instead of standard output')
      .option(
        '--db <file>',
        'vulnerability database (default: $BULWARK_CACHE_DIR or ~/.cache/bulwark/db.sqlite)',
      )
      .option(
        '--db-max-age <duration>',
        'refuse a database older than this (e.g. 36h, 7d; 0: any age; env BULWARK_DB_MAX_AGE)',
        undefined,
      )
      .option(
        '-s, --severity <list>',
        'severities to report, comma-separated (CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN)',
      )
      .option('--exit-code <n>', 'exit with N when findings remain after filtering', '0')
      .option('--ignore-unfixed', 'report only vulnerabilities with a fixed version')
      .option(
        '--ignorefile <file>',
        'ignore file (.trivyignore syntax, or YAML); default: .bulwarkignore in the working directory',
      )
      .option(
        '--vex <file...>',
        'OpenVEX or CycloneDX VEX document(s); not_affected statements suppress findings',
      )
      .option(
        '--scanners <list>',
        `comma-separated: ${SCANNER_NAMES.join(', ')} (default: ${DEFAULT_SCANNERS[k.name]!.join(',')})`,
      )
      .option('--include-os-owned', 'also match language packages whose files belong to an OS package')
      .option('--list-all-pkgs', 'include every package in JSON output, not only vulnerable ones')
      .option('--show-suppressed', 'keep suppressed findings in the report, marked "suppressed"')
      .option('--secret-config <file>', 'secret scanner rules configuration');
    if (k.name !== 'sbom') {
      cmd.option(
        '--policy <dir>',
        'extra misconfiguration check files or directories (repeatable)',
        (v: string, prev: string[] = []) => [...prev, v],
      );
      cmd
        .option(
          '--malware-rules <path>',
          'your own malware rules: a file or directory of .yar/.yara, .hdb/.hsb, .ndb (repeatable)',
          (v: string, prev: string[] = []) => [...prev, v],
        )
        .option(
          '--malware-max-size <size>',
          'malware scanner: skip files above this size, with a warning (e.g. 64MiB, 500k; default 64MiB)',
        );
      addTargetOptions(cmd);
    }
    cmd.option('--server <url>', 'upload the report to a Bulwark console (bulwark server)');
    cmd.option('--token <token>', 'console API token for --server (prefer env BULWARK_TOKEN)');
    cmd.addHelpText(
      'after',
      `
Exit codes: 0 no findings left (or --exit-code 0), N (--exit-code) findings left after filtering,
1 error, 2 usage error.`,
    );
    cmd.action(async (target: string, o: ScanCliOptions) => {
      const logger = ctx.logger();
      const exit = Number(o.exitCode);
      if (!Number.isInteger(exit) || exit < 0 || exit > 255)
        cmd.error(`error: --exit-code: expected 0-255, got "${o.exitCode}"`, {
          exitCode: 2,
          code: 'bulwark.usage',
        });
      let run: ScanRun;
      // --timeout bounds the whole command (as in Trivy); runScan itself never exits the process
      let disarm = () => {};
      try {
        if (o.timeout !== undefined) disarm = armTimeout(parseDuration(o.timeout), target);
        const color =
          o.format === 'table' && o.output === undefined && stdoutIsTTY() && !process.env.NO_COLOR;
        run = await runScan(k.name, target, o, logger, color);
      } catch (e) {
        if (isBulwarkError(e) && e.code === 'USAGE')
          cmd.error(`error: ${e.message}`, { exitCode: 2, code: 'bulwark.usage' });
        throw e;
      } finally {
        disarm();
      }
      logger.progress('');
      await writeOutput(run.rendered, o.output);
      if (o.server) {
        const { uploadReport } = await import('../server/client.js');
        const up = await uploadReport(o.server, o.token ?? process.env.BULWARK_TOKEN ?? '', run.report);
        logger.info(`uploaded to ${o.server}: ${up.imageName}, scan ${up.scanId} (${up.findings} findings)`);
      }
      if (exit && run.remaining > 0) ctx.exitCode = exit;
    });
  }
}
