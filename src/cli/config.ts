/**
 * `bulwark scan config PATH...`: misconfiguration scan of Kubernetes manifests (files, directories,
 * or Helm/Kustomize output on stdin with "-"), docker-compose files and Dockerfiles.
 * `bulwark scan cluster`: the same checks on a live cluster's workloads, RBAC and namespaces.
 * Both: `--compliance FRAMEWORK` for a per-control compliance report, `--rbac` for the RBAC
 * analysis (who can read secrets, exec into pods, create privileged pods, escalate).
 */
import { Option, type Command } from 'commander';
import { BulwarkError } from '../core/errors.js';
import type { MisconfigFinding, ScanReport, ScanResult } from '../core/findings.js';
import { parseSeverityList, type TargetKind } from '../core/types.js';
import { clusterInputs, MAX_CONFIG_BYTES, readCluster, scanConfigPaths } from '../misconfig/index.js';
import {
  analyzeRbac,
  CheckSet,
  complianceReport,
  evaluate,
  frameworkCheckIds,
  getFramework,
  loadChecks,
  renderComplianceHtml,
  renderComplianceTable,
  renderRbacTable,
  type CompiledCheck,
  type Framework,
} from '../policy/index.js';
import { batched, filterReport, formatReportChunks, jsonChunks, loadIgnoreFile } from '../report/index.js';
import type { CliContext } from './context.js';
import { writeOutput, stdoutIsTTY } from './output.js';
import { VERSION } from './version.js';

interface CommonOptions {
  vap?: string[];
  format: string;
  output?: string;
  compliance?: string;
  policy: string[];
  severity?: string;
  exitCode: string;
  includeNonFailures?: boolean;
  ignorefile?: string;
  rbac?: boolean;
  server?: string;
  token?: string;
}

interface ClusterCliOptions extends CommonOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  inCluster?: boolean;
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

function addCommonOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('-f, --format <format>', 'output format').choices(FORMATS).default('table'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .option(
      '--compliance <framework>',
      'compliance report for a framework: pss-baseline, pss-restricted, cis-k8s, cis-docker, nsa-cisa, mitre, nist-800-190, pci-dss-4.0, mlps-2.0',
    )
    .option(
      '--rbac',
      'RBAC analysis: who can read secrets, exec into pods, create privileged pods, escalate (table or json)',
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
    .option('--server <url>', 'upload the report to a Bulwark console (bulwark server)')
    .option('--token <token>', 'console API token for --server (prefer env BULWARK_TOKEN)');
}

/** `--server`: the report goes to the console, as `scan image --server` does. */
async function upload(ctx: CliContext, opts: CommonOptions, report: ScanReport): Promise<void> {
  if (!opts.server) return;
  const { uploadReport } = await import('../server/client.js');
  const up = await uploadReport(opts.server, opts.token ?? process.env.BULWARK_TOKEN ?? '', report);
  ctx
    .logger()
    .info(`uploaded to ${opts.server}: ${up.imageName}, scan ${up.scanId} (${up.findings} findings)`);
}

interface Prepared {
  exitCode: number;
  checks: CompiledCheck[];
  framework?: Framework;
  includePasses: boolean;
}

function prepare(opts: CommonOptions): Prepared {
  const exitCode = Number(opts.exitCode);
  if (!Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255)
    throw new BulwarkError('USAGE', `--exit-code must be 0-255, not "${opts.exitCode}"`);
  if (opts.format === 'html' && !opts.compliance)
    throw new BulwarkError('USAGE', '--format html is the compliance report; add --compliance FRAMEWORK');
  if (opts.rbac && opts.compliance)
    throw new BulwarkError('USAGE', '--rbac and --compliance are different reports; choose one');
  if (opts.rbac && opts.format !== 'table' && opts.format !== 'json')
    throw new BulwarkError('USAGE', '--rbac writes table or json');
  if (opts.severity) {
    try {
      parseSeverityList(opts.severity);
    } catch (e) {
      throw new BulwarkError('USAGE', `--severity: ${(e as Error).message}`);
    }
  }
  const all = loadChecks({ extra: opts.policy });
  const framework = opts.compliance ? getFramework(opts.compliance) : undefined;
  // A compliance scan runs only the checks of the framework's controls.
  const ids = framework ? frameworkCheckIds(framework, all) : undefined;
  const checks = ids ? all.filter((c) => ids.has(c.id)) : all;
  return { exitCode, checks, framework, includePasses: Boolean(framework || opts.includeNonFailures) };
}

interface Target {
  path: string;
  type: string;
  resources: number;
}

/** Filters, renders and writes the findings (or the compliance report); sets the exit code. */
async function finish(
  ctx: CliContext,
  opts: CommonOptions,
  p: Prepared,
  artifact: { kind: TargetKind; name: string },
  targets: Target[],
  findings: MisconfigFinding[],
  warnings: string[],
): Promise<void> {
  const log = ctx.logger();
  const report = toScanReport(artifact, targets, findings, warnings);
  const filtered = filterReport(report, {
    severities: opts.severity ? parseSeverityList(opts.severity) : undefined,
    ignore: opts.ignorefile ? [loadIgnoreFile(opts.ignorefile)] : undefined,
  });
  const kept = filtered.report.results.flatMap((r) => r.findings) as MisconfigFinding[];
  for (const e of filtered.expiredRules) log.warn(`ignore rule expired: ${e}`);

  if (p.framework && (opts.format === 'table' || opts.format === 'json' || opts.format === 'html')) {
    const cr = complianceReport(p.framework, {
      findings: kept,
      checks: p.checks,
      inputs: targets,
      toolVersion: VERSION,
    });
    const text =
      opts.format === 'json'
        ? batched(jsonChunks(cr))
        : opts.format === 'html'
          ? renderComplianceHtml(cr)
          : renderComplianceTable(cr);
    await writeOutput(text, opts.output);
    await upload(ctx, opts, filtered.report);
    if (cr.summary.fail > 0) ctx.exitCode = p.exitCode;
    return;
  }
  // Without --include-non-failures, pass results (computed for compliance) are not shown.
  const shown = opts.includeNonFailures ? filtered.report : dropPasses(filtered.report);
  const text = formatReportChunks(shown, opts.format, {
    color: !opts.output && stdoutIsTTY() && !process.env.NO_COLOR,
    warn: (m) => log.warn(m),
  });
  await writeOutput(text, opts.output);
  await upload(ctx, opts, dropPasses(filtered.report));
  if (kept.some((f) => f.status === 'fail')) ctx.exitCode = p.exitCode;
}

async function writeRbac(
  ctx: CliContext,
  opts: CommonOptions,
  objects: Record<string, unknown>[],
): Promise<void> {
  const a = analyzeRbac(objects);
  await writeOutput(
    opts.format === 'json' ? JSON.stringify(a, null, 2) + '\n' : renderRbacTable(a),
    opts.output,
  );
  if (a.subjects.length) ctx.exitCode = Number(opts.exitCode);
}

export function register(ctx: CliContext): void {
  addCommonOptions(
    ctx.scan
      .command('config')
      .description(
        'scan Kubernetes manifests, Helm/Kustomize output ("-" reads stdin), docker-compose files and Dockerfiles for misconfigurations',
      )
      .argument('<paths...>', 'files or directories; "-" for standard input')
      .option(
        '--vap <dir>',
        'also evaluate the ValidatingAdmissionPolicies and bindings (and their params) in these files or directories (repeatable)',
        (v: string, prev: string[]) => [...prev, v],
        [] as string[],
      ),
  ).action(async (paths: string[], opts: CommonOptions) => {
    const log = ctx.logger();
    const p = prepare(opts);
    const scan = await scanConfigPaths(paths, new CheckSet(p.checks), {
      includePasses: p.includePasses,
      readStdin,
    });
    if (opts.vap?.length) {
      const { scanVap } = await import('../admission/index.js');
      const v = scanVap(opts.vap, scan.inputs);
      scan.findings.push(...v.findings);
      scan.warnings.push(...v.warnings);
    }
    for (const w of scan.warnings) log.warn(w);
    if (!scan.targets.length)
      log.warn(`no Kubernetes manifests, compose files or Dockerfiles found in ${paths.join(', ')}`);
    if (opts.rbac) {
      const objects = scan.inputs
        .filter((i) => i.type === 'rbac' || i.kind === 'Namespace')
        .map((i) => i.object as Record<string, unknown>);
      return writeRbac(ctx, opts, objects);
    }
    await finish(
      ctx,
      opts,
      p,
      { kind: 'config', name: paths.join(' ') },
      scan.targets,
      scan.findings,
      scan.warnings,
    );
  });

  addCommonOptions(
    ctx.scan
      .command('cluster')
      .description(
        'scan a live Kubernetes cluster (kubeconfig or in-cluster): workloads, RBAC, namespaces, Services, Ingresses, NetworkPolicies',
      )
      .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
      .option('--context <name>', 'kubeconfig context to use')
      .option('-n, --namespace <ns>', 'only this namespace (cluster-scoped RBAC is still read)')
      .option('--in-cluster', 'use the pod service account (when running inside the cluster)'),
  ).action(async (opts: ClusterCliOptions) => {
    const log = ctx.logger();
    const p = prepare(opts);
    log.progress('reading the cluster...');
    const snap = await readCluster({
      kubeconfig: opts.kubeconfig,
      context: opts.context,
      namespace: opts.namespace,
      inCluster: opts.inCluster,
    });
    log.progress('');
    for (const w of snap.warnings) log.warn(w);
    if (opts.rbac) return writeRbac(ctx, opts, snap.objects);
    const inputs = clusterInputs(snap.objects);
    const r = evaluate(new CheckSet(p.checks), inputs, { includePasses: p.includePasses });
    for (const w of r.warnings) log.warn(w);
    const targets = inputs.map((i) => ({ path: i.file, type: i.type, resources: 1 }));
    await finish(
      ctx,
      opts,
      p,
      { kind: 'cluster', name: `${snap.context} (${snap.server})` },
      targets,
      r.findings,
      [...snap.warnings, ...r.warnings],
    );
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
  artifact: { kind: TargetKind; name: string },
  targets: Target[],
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
    artifact: { ...artifact, layers: [] },
    results,
    ...(warnings.length ? { warnings } : {}),
  };
}
