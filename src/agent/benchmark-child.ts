/**
 * The child process of the agent's benchmark scheduler (./benchmarks.ts): runs one CIS benchmark
 * as `bulwark benchmark <target> -f json` would (the built-in definitions, facts under the root and
 * from the Docker Engine API, the pure evaluator) and writes `{report, compliance}` as one JSON
 * document to stdout: the report exactly as `-f json` prints it, and each check's compliance
 * references from the benchmark definition. Errors go to stderr, exit 1. Run in its own process so
 * the agent's event loop (kernel events) never waits on synchronous file reads of /proc or a slow
 * Docker socket, and a hung run can be killed.
 *
 *   node benchmark-child.js '{"target":"docker","root":"/","dockerHost":"unix:///run/docker.sock"}'
 */
import type { BenchmarkChildSpec } from './benchmarks.js';

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as BenchmarkChildSpec;
  const cis = await import('../cis/index.js');
  const bench = cis.loadBuiltinBenchmark(spec.target, spec.version);
  const facts = await cis.collectFacts(bench, {
    root: spec.root ?? '/',
    ...(spec.dockerHost ? { dockerHost: spec.dockerHost } : {}),
  });
  const report = cis.evaluateBenchmark(bench, facts);
  const compliance: Record<string, { framework: string; control: string }[]> = {};
  for (const g of bench.groups)
    for (const c of g.checks) if (c.compliance?.length) compliance[c.id] = c.compliance;
  // what the benchmark is about could not be looked at (no Docker Engine API, no running kubelet):
  // the run is reported as failing, with the report of what could be checked
  const errors = facts.host.errors ?? {};
  const unreachable =
    spec.target === 'docker' ? errors.container : errors[`process ${facts.vars.kubeletbin ?? 'kubelet'}`];
  process.stdout.write(
    JSON.stringify({
      report: JSON.parse(cis.renderJson(report)) as unknown,
      compliance,
      ...(unreachable ? { error: unreachable } : {}),
    }),
  );
}

main().then(
  () => {
    process.exitCode = 0;
  },
  (e: unknown) => {
    process.stderr.write(`${(e as Error).message ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
