/**
 * `bulwark scan config PATH...`: misconfiguration scan of Kubernetes manifests (files, directories,
 * or Helm/Kustomize output on stdin with "-"), docker-compose files and Dockerfiles; with
 * `--compliance FRAMEWORK`, a compliance report per control.
 */
import { Option } from 'commander';
import { BulwarkError } from '../core/errors.js';
import type { MisconfigFinding, ScanReport, ScanResult } from '../core/findings.js';
import { parseSeverityList } from '../core/types.js';
import { MAX_CONFIG_BYTES, scanConfigPaths } from '../misconfig/index.js';
import {
  CheckSet,
  complianceReport,
  frameworkCheckIds,
  getFramework,
  loadChecks,
  renderComplianceHtml,
  renderComplianceTable,
} from '../policy/index.js';
import { filterReport, formatReport, loadIgnoreFile } from '../report/index.js';
import type { CliContext } from './context.js';
import { writeOutput, stdoutIsTTY } from './output.js';
import { VERSION } from './version.js';

interface ConfigOptions {
  format: string;
  output?: string;
  compliance?: string;
  policy: string[];
  severity?: string;
  exitCode: string;
  includeNonFailures?: boolean;
  ignorefile?: string;
}

const FORMATS = ['table', 'json', 'sarif', 'junit', 'html'];

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    const b = c as Buffer;
    size += b.length;
    if (size > MAX_CONFIG_BYTES)
      throw new BulwarkError('LIMIT', `stdin: more than ${MAX_CONFIG_BYTES} bytes of configuration`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function register(ctx: CliContext): void {
  ctx.scan
    .command('config')
    .description(
      'scan Kubernetes manifests, Helm/Kustomize output ("-" reads stdin), docker-compose files and Dockerfiles for misconfigurations',
    )
    .argument('<paths...>', 'files or directories; "-" for standard input')
    .addOption(new Option('-f, --format <format>', 'output format').choices(FORMATS).default('table'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .option(
      '--compliance <framework>',
      'compliance report for a framework: pss-baseline, pss-restricted, cis-k8s, cis-docker, nsa-cisa, mitre, nist-800-190, pci-dss-4.0, mlps-2.0',
    )
    .option(
      '--policy <dir>',
      'extra check files or directories (repeatable)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('-s, --severity <list>', 'severities to report, e.g. HIGH,CRITICAL')
    .option('--exit-code <code>', 'exit code when misconfigurations (or failed controls) are found', '0')
    .option('--include-non-failures', 'also report passed checks (json, sarif, junit)')
    .option('--ignorefile <file>', 'ignore file with check ids to suppress')
    .action(async (paths: string[], opts: ConfigOptions) => {
      const log = ctx.logger();
      const exitCode = Number(opts.exitCode);
      if (!Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255)
        throw new BulwarkError('USAGE', `--exit-code must be 0-255, not "${opts.exitCode}"`);
      if (opts.format === 'html' && !opts.compliance)
        throw new BulwarkError('USAGE', '--format html is the compliance report; add --compliance FRAMEWORK');
      const severities = opts.severity ? parseSeverityList(opts.severity) : undefined;
      const checks = loadChecks({ extra: opts.policy });
      const framework = opts.compliance ? getFramework(opts.compliance) : undefined;
      // A compliance scan runs only the checks of the framework's controls.
      const selected = framework
        ? checks.filter((c) => frameworkCheckIds(framework, checks).has(c.id))
        : checks;
      const scan = await scanConfigPaths(paths, new CheckSet(selected), {
        includePasses: Boolean(framework || opts.includeNonFailures),
        readStdin,
      });
      for (const w of scan.warnings) log.warn(w);
      if (!scan.targets.length)
        log.warn(`no Kubernetes manifests, compose files or Dockerfiles found in ${paths.join(', ')}`);

      const report = toScanReport(paths, scan.targets, scan.findings, scan.warnings);
      const filtered = filterReport(report, {
        severities,
        ignore: opts.ignorefile ? [loadIgnoreFile(opts.ignorefile)] : undefined,
      });
      const kept = filtered.report.results.flatMap((r) => r.findings) as MisconfigFinding[];
      for (const e of filtered.expiredRules) log.warn(`ignore rule expired: ${e}`);

      if (framework && (opts.format === 'table' || opts.format === 'json' || opts.format === 'html')) {
        const cr = complianceReport(framework, {
          findings: kept,
          checks: selected,
          inputs: scan.targets.map((t) => ({ path: t.path, type: t.type, resources: t.resources })),
          toolVersion: VERSION,
        });
        const text =
          opts.format === 'json'
            ? JSON.stringify(cr, null, 2) + '\n'
            : opts.format === 'html'
              ? renderComplianceHtml(cr)
              : renderComplianceTable(cr);
        await writeOutput(text, opts.output);
        if (cr.summary.fail > 0) ctx.exitCode = exitCode;
        return;
      }
      // Without --include-non-failures, pass results (computed for compliance) are not shown.
      const shown = opts.includeNonFailures ? filtered.report : dropPasses(filtered.report);
      const text = formatReport(shown, opts.format, {
        color: !opts.output && stdoutIsTTY() && !process.env.NO_COLOR,
        warn: (m) => log.warn(m),
      });
      await writeOutput(text, opts.output);
      if (kept.some((f) => f.status === 'fail')) ctx.exitCode = exitCode;
    });
}

function dropPasses(r: ScanReport): ScanReport {
  return {
    ...r,
    results: r.results.map((x) => ({
      ...x,
      findings: x.findings.filter((f) => f.kind !== 'misconfig' || f.status === 'fail'),
    })),
  };
}

function toScanReport(
  paths: string[],
  targets: { path: string; type: string }[],
  findings: MisconfigFinding[],
  warnings: string[],
): ScanReport {
  const byFile = new Map<string, MisconfigFinding[]>();
  for (const f of findings) {
    let l = byFile.get(f.location.path);
    if (!l) byFile.set(f.location.path, (l = []));
    l.push(f);
  }
  const results: ScanResult[] = targets.map((t) => ({
    target: t.path,
    class: 'config',
    type: t.type,
    findings: byFile.get(t.path) ?? [],
  }));
  return {
    schemaVersion: 1,
    createdAt: new Date().toISOString(),
    tool: { name: 'bulwark', version: VERSION },
    artifact: { kind: 'config', name: paths.join(' '), layers: [] },
    results,
    ...(warnings.length ? { warnings } : {}),
  };
}
