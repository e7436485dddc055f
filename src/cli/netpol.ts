/**
 * `bulwark netpol`: Kubernetes NetworkPolicy evaluation, diff and generation from observed flows.
 *
 *   bulwark netpol eval DIR... [-f json] [--workloads FILE] [--ports TCP/80,UDP/53]
 *   bulwark netpol diff OLD NEW [--exit-code]
 *   bulwark netpol generate --flows FILE [--workloads FILE] [-n NS] -o DIR [--cilium]
 */
import { Option } from 'commander';
import { BulwarkError } from '../core/errors.js';
import type { CliContext } from './context.js';
import { writeOutput } from './output.js';

type EvalOpts = {
  format: 'text' | 'json';
  output?: string;
  workloads?: string[];
  ports?: string;
  external?: string[];
};

async function network() {
  return import('../network/index.js');
}

function parsePortList(s: string | undefined): { protocol: 'TCP' | 'UDP' | 'SCTP'; port: number }[] {
  if (!s) return [];
  return s.split(',').map((item) => {
    const m = /^(?:(tcp|udp|sctp)\/)?(\d{1,5})$/i.exec(item.trim());
    const port = m ? Number(m[2]) : NaN;
    if (!m || port < 1 || port > 65535)
      throw new BulwarkError('USAGE', `--ports: expected PROTO/PORT[,...] (e.g. TCP/80,UDP/53), got ${item}`);
    return { protocol: (m[1]?.toUpperCase() ?? 'TCP') as 'TCP' | 'UDP' | 'SCTP', port };
  });
}

async function loadCluster(paths: string[], o: EvalOpts) {
  const net = await network();
  const c = net.loadManifests(paths);
  for (const f of o.workloads ?? []) net.addWorkloadsFile(c, f);
  net.completeNamespaces(c);
  return c;
}

function evalOptions(o: EvalOpts) {
  return { ports: parsePortList(o.ports), externals: o.external ?? [] };
}

function addEvalOptions<T extends import('commander').Command>(cmd: T): T {
  return cmd
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('-o, --output <file>', 'write to FILE instead of standard output')
    .option(
      '--workloads <file...>',
      'workload inventory (YAML/JSON: namespace, name, kind, labels, ips, ports)',
    )
    .option('--ports <list>', 'extra PROTO/PORT pairs checked on every destination, e.g. TCP/80,UDP/53')
    .option('--external <ip...>', 'external addresses to include as endpoints') as T;
}

export function register(ctx: CliContext): void {
  const netpol = ctx.program
    .command('netpol')
    .description('Kubernetes NetworkPolicy: evaluate, diff, and generate from observed flows');

  addEvalOptions(
    netpol
      .command('eval')
      .description('print the connections the NetworkPolicies allow between the pods of the manifests')
      .argument(
        '<path...>',
        'manifest files or directories (Namespaces, Pods, controllers, NetworkPolicies)',
      ),
  )
    .addHelpText(
      'after',
      `
A connection is listed for each pair of workloads (a controller's pods, or a bare pod) and each
port of the destination (its container ports, plus --ports) that the destination's ingress and
the source's egress both allow. External addresses are the host ipBlocks (/32, /128) named in
the policies and --external; their ports are those the egress rules naming them allow.

Formats:
  text   ns/name[Kind] => ns/name[Kind] : TCP 8080   (sorted)
  json   {"connections": [{source, destination, protocol, port}]}`,
    )
    .action(async (paths: string[], o: EvalOpts) => {
      const net = await network();
      const opts = evalOptions(o);
      const conns = net.evaluate(await loadCluster(paths, o), opts);
      const text =
        o.format === 'json'
          ? JSON.stringify({ connections: conns.map(net.connectionJson) }, null, 2) + '\n'
          : conns.map((c) => net.connectionLine(c) + '\n').join('');
      await writeOutput(text, o.output);
    });

  addEvalOptions(
    netpol
      .command('diff')
      .description('the connections a change of manifests adds (+) or removes (-)')
      .argument('<old>', 'manifest file or directory before the change')
      .argument('<new>', 'manifest file or directory after the change')
      .option('--exit-code', 'exit 1 when the change adds or removes any connection'),
  )
    .addHelpText(
      'after',
      `
Both sides are evaluated as by \`netpol eval\` (with the same --workloads, --ports, --external).

Formats:
  text   "+ ns/a[Kind] => ns/b[Kind] : TCP 80" / "- ..." lines, added first
  json   {"added": [...], "removed": [...]}

Exit codes: 0 (also with changes, unless --exit-code), 1 changes with --exit-code or an error, 2 usage.`,
    )
    .action(async (oldPath: string, newPath: string, o: EvalOpts & { exitCode?: boolean }) => {
      const net = await network();
      const opts = evalOptions(o);
      const before = net.evaluate(await loadCluster([oldPath], o), opts);
      const after = net.evaluate(await loadCluster([newPath], o), opts);
      const d = net.diffConnections(before, after);
      const text =
        o.format === 'json'
          ? JSON.stringify(
              { added: d.added.map(net.connectionJson), removed: d.removed.map(net.connectionJson) },
              null,
              2,
            ) + '\n'
          : [
              ...d.added.map((c) => `+ ${net.connectionLine(c)}\n`),
              ...d.removed.map((c) => `- ${net.connectionLine(c)}\n`),
            ].join('');
      await writeOutput(text, o.output);
      if (o.exitCode && (d.added.length || d.removed.length)) ctx.exitCode = 1;
    });
}
