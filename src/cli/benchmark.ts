/**
 * `bulwark benchmark`: CIS host and node benchmarks.
 *
 *   bulwark benchmark docker   [--root DIR] [--docker-host URL] [-f table|json|html] [-o FILE]
 *   bulwark benchmark k8s-node [--root DIR] [--benchmark cis-1.9|...]
 *
 * (`--benchmark` as kube-bench's flag: `--version` is the program's own option.)
 *
 * As kube-bench, the command exits 0 with results whatever they are; `--exit-code N` (as Trivy)
 * makes it exit N when any check FAILs.
 */
import { Option, type Command } from 'commander';
import { BulwarkError } from '../core/errors.js';
import type { CliContext } from './context.js';
import { writeOutput } from './output.js';

type Opts = {
  root: string;
  dockerHost?: string;
  benchmark?: string;
  benchmarkFile?: string;
  format: 'table' | 'json' | 'html';
  output?: string;
  compliance?: string;
  exitCode: string;
  check?: string;
};

function addOptions(cmd: Command): Command {
  return cmd
    .option('--root <dir>', 'root directory of the host to check (a mounted host, or a test tree)', '/')
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(['table', 'json', 'html'])
        .default('table'),
    )
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .option(
      '--compliance <framework>',
      'also rate the controls of a framework (cis-docker, nist-800-190, ...)',
    )
    .option('--benchmark-file <file>', 'a benchmark definition (YAML) instead of the built-in one')
    .option('--check <ids>', 'only these checks (comma-separated ids, e.g. 4.2.1,4.2.6)')
    .option('--exit-code <n>', 'exit with N when any check FAILs', '0');
}

async function run(ctx: CliContext, target: 'docker' | 'k8s-node', o: Opts): Promise<void> {
  const exit = Number(o.exitCode);
  if (!Number.isInteger(exit) || exit < 0 || exit > 255)
    throw new BulwarkError('USAGE', `--exit-code must be 0-255, not "${o.exitCode}"`);
  const cis = await import('../cis/index.js');
  let bench = o.benchmarkFile
    ? cis.loadBenchmarkFile(o.benchmarkFile)
    : cis.loadBuiltinBenchmark(target, o.benchmark);
  if (bench.target !== target)
    throw new BulwarkError('USAGE', `${o.benchmarkFile}: a ${bench.target} benchmark, not ${target}`);
  if (o.check) {
    const ids = new Set(o.check.split(',').map((s) => s.trim()));
    const known = new Set(bench.groups.flatMap((g) => g.checks.map((c) => c.id)));
    const unknown = [...ids].filter((id) => !known.has(id));
    if (unknown.length)
      throw new BulwarkError('USAGE', `--check: unknown check ${unknown.join(', ')} in ${bench.id}`);
    bench = {
      ...bench,
      groups: bench.groups
        .map((g) => ({ ...g, checks: g.checks.filter((c) => ids.has(c.id)) }))
        .filter((g) => g.checks.length),
    };
  }
  let framework;
  if (o.compliance) {
    const { getFramework } = await import('../policy/index.js');
    framework = getFramework(o.compliance);
    const refs = bench.groups.flatMap((g) => g.checks.flatMap((c) => c.compliance ?? []));
    if (!refs.some((r) => r.framework === framework!.framework))
      throw new BulwarkError('USAGE', `--compliance ${o.compliance}: no check of ${bench.id} maps to it`);
  }
  const facts = await cis.collectFacts(bench, { root: o.root, dockerHost: o.dockerHost });
  const report = cis.evaluateBenchmark(bench, facts);
  const comp = framework ? cis.complianceOf(framework, bench, report) : undefined;
  const text =
    o.format === 'json'
      ? cis.renderJson(report, comp)
      : o.format === 'html'
        ? cis.renderHtml(report, comp)
        : cis.renderTable(report, comp);
  await writeOutput(text, o.output);
  if (exit && report.totals.fail > 0) ctx.exitCode = exit;
}

export function register(ctx: CliContext): void {
  const bm = ctx.program
    .command('benchmark')
    .description('CIS benchmarks of a Docker host or a Kubernetes node');
  addOptions(
    bm
      .command('docker')
      .description('CIS Docker Benchmark 1.6.0: host, daemon, daemon files, images, container runtime')
      .option(
        '--docker-host <url>',
        'Docker Engine API: unix:///path or tcp://host:port (default unix://<root>/var/run/docker.sock)',
      )
      .option('--benchmark <version>', 'benchmark version (cis-docker-1.6.0)'),
  )
    .addHelpText(
      'after',
      `
Facts come from files under --root (modes and owners named from <root>/etc/passwd and group),
<root>/proc (dockerd's flags), daemon.json, auditd rules and the Docker Engine API (info, running
containers' inspect and top, images). States: PASS, FAIL (scored), WARN (not scored / manual),
INFO (not applicable: file not found, no running containers).

Exit codes: 0 with results (also when checks fail), N with --exit-code N when a check FAILs,
1 errors, 2 usage.`,
    )
    .action((o: Opts) => run(ctx, 'docker', o));
  addOptions(
    bm
      .command('k8s-node')
      .description('CIS Kubernetes Benchmark, worker node section (kubelet and its files)')
      .option(
        '--benchmark <version>',
        'benchmark version: cis-1.5 ... cis-1.24 (default cis-1.9), as kube-bench --benchmark',
      ),
  )
    .addHelpText(
      'after',
      `
Definitions are kube-bench's (cfg/<version>/node.yaml) with its tests and file locations; the
kubelet's --config, --kubeconfig and --client-ca-file (and the config's clientCAFile) point at
the files that are checked when given.

Exit codes: 0 with results (also when checks fail), N with --exit-code N when a check FAILs,
1 errors, 2 usage.`,
    )
    .action((o: Opts) => run(ctx, 'k8s-node', o));
}
