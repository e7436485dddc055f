/**
 * `bulwark netpol`: Kubernetes NetworkPolicy evaluation, diff and generation from observed flows.
 *
 *   bulwark netpol eval DIR... [-f json] [--workloads FILE] [--ports TCP/80,UDP/53]
 *   bulwark netpol diff OLD NEW [--exit-code]
 *   bulwark netpol generate --flows FILE [--workloads FILE] [-n NS] -o DIR [--cilium]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

  netpol
    .command('flows')
    .description(
      'read flow records (Hubble JSON, conntrack, Bulwark) and print them attributed and aggregated',
    )
    .requiredOption(
      '--flows <file...>',
      'flow files: `hubble observe -o json` lines, conntrack -E/-L lines, Bulwark records',
    )
    .option('--workloads <file...>', 'workload inventory mapping IPs and netns to pods')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('-o, --output <file>', 'write to FILE instead of standard output')
    .addHelpText(
      'after',
      `
Formats:
  text   ns/a[Kind] => ns/b[Kind] : TCP 80  count=N  (external addresses as IP[External])
  json   one flow record per line (a superset of Hubble's flow: identities, labels, verdict, count, first/last seen)`,
    )
    .action(
      async (o: { flows: string[]; workloads?: string[]; format: 'text' | 'json'; output?: string }) => {
        const flows = await readFlows(o.flows, o.workloads);
        const net = await network();
        await writeOutput(
          flows.map((f) =>
            o.format === 'json'
              ? JSON.stringify(f) + '\n'
              : `${net.flowLine(f)}  count=${f.count}${f.verdict !== 'FORWARDED' ? ` ${f.verdict}` : ''}\n`,
          ),
          o.output,
        );
      },
    );

  netpol
    .command('generate')
    .description('generate one NetworkPolicy per workload that allows exactly the observed flows')
    .option(
      '--flows <file...>',
      'flow files: `hubble observe -o json` lines, conntrack -E/-L lines, Bulwark records',
    )
    .option('--server <url>', "the flows the console's agents observed (instead of, or with, --flows)")
    .option('--token <token>', 'API token for --server (default: $BULWARK_TOKEN)')
    .option('--cluster <name>', 'with --server: the flows of this cluster')
    .option('--since <time>', 'with --server: flows last seen at or after this ISO time')
    .option('--cacert <file>', 'PEM CA certificate to trust for an https --server')
    .option(
      '--workloads <file...>',
      'workload inventory (IPs and netns to pods); its workloads without flows get deny-all policies',
    )
    .option('-n, --namespace <ns>', 'only generate policies for workloads of this namespace')
    .requiredOption('-o, --output <dir>', 'directory to write the policies to (created if missing)')
    .option('--cilium', 'also write CiliumNetworkPolicy (cilium.io/v2) with toFQDNs for known DNS names')
    .addHelpText(
      'after',
      `
Each workload gets policyTypes [Ingress, Egress] with one rule per observed peer and port: pods as
podSelector + namespaceSelector (kubernetes.io/metadata.name), external addresses as ipBlock /32
or /128. DNS egress to kube-dns is kept. Only forwarded (or audited) flows are used.
Files: DIR/<namespace>.<name>.yaml (and <namespace>.<name>.cilium.yaml with --cilium).
Check the result with \`bulwark netpol eval\` before applying it.`,
    )
    .action(
      async (o: {
        flows?: string[];
        server?: string;
        token?: string;
        cluster?: string;
        since?: string;
        cacert?: string;
        workloads?: string[];
        namespace?: string;
        output: string;
        cilium?: boolean;
      }) => {
        const net = await network();
        if (!o.flows?.length && !o.server)
          throw new BulwarkError('USAGE', 'netpol generate: give --flows FILE... or --server URL');
        const remote = o.server ? await fetchFlows(o) : '';
        const flows = await readFlows(
          o.flows ?? [],
          o.workloads,
          remote ? [{ where: o.server!, text: remote }] : [],
        );
        const inventory = (o.workloads ?? []).flatMap((f) => net.readInventory(f).workloads);
        const r = net.generatePolicies(flows, { namespace: o.namespace, inventory, cilium: o.cilium });
        const { stringify } = await import('yaml');
        try {
          mkdirSync(o.output, { recursive: true });
          for (const p of r.policies)
            writeFileSync(
              join(
                o.output,
                `${p.namespace}.${p.name}${p.kind === 'CiliumNetworkPolicy' ? '.cilium' : ''}.yaml`,
              ),
              stringify(p.manifest),
            );
        } catch (e) {
          throw new BulwarkError(
            'INTERNAL',
            `cannot write ${o.output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
            {
              subject: o.output,
            },
          );
        }
        const log = ctx.logger();
        for (const w of r.warnings) log.warn(w);
        log.info(`${r.policies.length} policies from ${flows.length} flows written to ${o.output}`);
      },
    );
  netpol
    .command('iptables')
    .description(
      'protect mode without a CNI: the policies selecting a workload as iptables rules for its network namespace',
    )
    .argument('<path...>', 'manifest files or directories (workloads, namespaces, NetworkPolicies)')
    .requiredOption('--workload <id>', 'the workload: ns/name or ns/name[Kind]')
    .option('--workloads <file...>', 'workload inventory (IPs of the pods selectors resolve to)')
    .option('--drop', 'DROP blocked connections instead of rejecting them')
    .addOption(
      new Option('--family <n>', '4: iptables (IPv4), 6: ip6tables (IPv6)').choices(['4', '6']).default('4'),
    )
    .addOption(
      new Option(
        '--mode <mode>',
        'protect: reject outside the policies; monitor: NFLOG and accept; discover: only conntrack',
      )
        .choices(['protect', 'monitor', 'discover'])
        .default('protect'),
    )
    .option('-o, --output <file>', 'write to FILE instead of standard output')
    .addHelpText(
      'after',
      `
Prints iptables-restore input for the filter table; apply it inside the pod's namespace, e.g.
  bulwark netpol iptables policies/ --workloads wl.yaml --workload shop/web | ip netns exec POD iptables-restore`,
    )
    .action(
      async (
        paths: string[],
        o: EvalOpts & {
          workload: string;
          drop?: boolean;
          mode: 'protect' | 'monitor' | 'discover';
          family: '4' | '6';
        },
      ) => {
        const net = await network();
        const c = await loadCluster(paths, o);
        const m = /^([^/]+)\/([^[]+)(?:\[(\w+)\])?$/.exec(o.workload);
        if (!m) throw new BulwarkError('USAGE', `--workload: expected ns/name[Kind], got ${o.workload}`);
        const ws = c.workloads.filter(
          (w) => w.namespace === m[1] && w.name === m[2] && (!m[3] || w.kind === m[3]),
        );
        if (ws.length !== 1)
          throw new BulwarkError(
            ws.length ? 'USAGE' : 'NOT_FOUND',
            `--workload ${o.workload}: ${ws.length ? 'ambiguous, add [Kind]' : 'no such workload'}`,
          );
        await writeOutput(
          net.iptablesRules(c, ws[0]!, { drop: o.drop, mode: o.mode, family: o.family === '6' ? 6 : 4 }),
          o.output,
        );
      },
    );

  netpol
    .command('monitor')
    .description(
      'monitor mode: one alert per observed connection the NetworkPolicies do not allow (nothing is blocked)',
    )
    .argument('<path...>', 'manifest files or directories (workloads, namespaces, NetworkPolicies)')
    .requiredOption(
      '--flows <file>',
      'flow lines (Hubble JSON, conntrack -E, Bulwark records); - reads a live stream from stdin',
    )
    .option('--workloads <file...>', 'workload inventory mapping IPs and netns to pods')
    .addOption(new Option('-f, --format <format>', 'alert format').choices(['json', 'text']).default('json'))
    .option('-o, --output <file>', 'write alerts to FILE instead of standard output')
    .addHelpText(
      'after',
      `
Each connection (source, destination, protocol, port) outside the policies is alerted once, when
first seen, e.g.  ip netns exec POD conntrack -E | bulwark netpol monitor policies/ --workloads wl.yaml --flows -
JSON alerts: {rule, time, connection, source, destination, protocol, port, deniedBy, output}.`,
    )
    .action(async (paths: string[], o: EvalOpts & { flows: string }) => {
      const net = await network();
      const c = await loadCluster(paths, o);
      const invs = (o.workloads ?? []).map((f) => net.readInventory(f));
      // the pods of the manifests (with their IPs) attribute flows as the inventory does
      const inventory = [
        ...invs.flatMap((i) => i.workloads),
        ...c.workloads.map((w) => ({ ...w, netns: [] })),
      ];
      const services = invs.flatMap((i) => i.services);
      const mon = new net.Monitor(c);
      const { createReadStream } = await import('node:fs');
      const { createInterface } = await import('node:readline');
      const input = o.flows === '-' ? process.stdin : createReadStream(o.flows);
      const opened = new Promise<void>((resolve, reject) => {
        input.once('error', (e: NodeJS.ErrnoException) =>
          reject(new BulwarkError('NOT_FOUND', `${o.flows}: ${e.code ?? e.message}`, { subject: o.flows })),
        );
        input.once('readable', () => resolve());
        input.once('end', () => resolve());
      });
      await opened;
      const { openOutput } = await import('./output.js');
      const out = await openOutput(o.output);
      try {
        let n = 0;
        for await (const line of createInterface({ input, crlfDelay: Infinity })) {
          n++;
          for (const f0 of net.attribute(net.parseFlows(line, o.flows, n), inventory, services)) {
            const f = net.orient(f0);
            const a = f && mon.check(f);
            if (a)
              out.stream.write(
                o.format === 'json'
                  ? JSON.stringify(a) + '\n'
                  : `${a.time ? `${a.time} ` : ''}Warning ${a.output}\n`,
              );
          }
        }
        await out.close();
      } catch (e) {
        await out.abort();
        throw e;
      }
    });
}

/** Reads flow files line by line (a stream: memory grows with the distinct connections only). */
/** GET /api/network/flows.jsonl of a console: the agents' flow records as JSON lines. */
async function fetchFlows(o: {
  server?: string;
  token?: string;
  cluster?: string;
  since?: string;
  cacert?: string;
}) {
  const token = o.token ?? process.env.BULWARK_TOKEN ?? '';
  if (!token) throw new BulwarkError('USAGE', '--server needs --token (or $BULWARK_TOKEN)');
  let url: URL;
  try {
    url = new URL('api/network/flows.jsonl', o.server!.endsWith('/') ? o.server : o.server + '/');
  } catch {
    throw new BulwarkError('USAGE', `--server: not a URL: ${o.server}`);
  }
  if (o.cluster !== undefined) url.searchParams.set('cluster', o.cluster);
  if (o.since) url.searchParams.set('since', o.since);
  const { Agent, request } = await import('undici');
  const { readFileSync } = await import('node:fs');
  const ca = o.cacert ? readFileSync(o.cacert, 'utf8') : undefined;
  const dispatcher = new Agent({
    connect: ca ? { ca, timeout: 10_000 } : { timeout: 10_000 },
    headersTimeout: 30_000,
    bodyTimeout: 60_000,
  });
  try {
    const res = await request(url, { headers: { authorization: `Bearer ${token}` }, dispatcher });
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      let m = '';
      try {
        m = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? '';
      } catch {
        /* not JSON */
      }
      throw new BulwarkError(
        'NETWORK',
        `${url.origin}${url.pathname}: HTTP ${res.statusCode}${m ? `: ${m}` : ''}`,
      );
    }
    return text;
  } catch (e) {
    if (e instanceof BulwarkError) throw e;
    throw new BulwarkError(
      'NETWORK',
      `${url.origin}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { cause: e },
    );
  } finally {
    await dispatcher.close();
  }
}

async function readFlows(
  files: string[],
  workloads: string[] | undefined,
  texts: { where: string; text: string }[] = [],
) {
  const net = await network();
  const { createReadStream } = await import('node:fs');
  const { createInterface } = await import('node:readline');
  const invs = (workloads ?? []).map((f) => net.readInventory(f));
  const agg = new net.FlowAggregator(
    new net.Attributor(
      invs.flatMap((i) => i.workloads),
      invs.flatMap((i) => i.services),
    ),
  );
  for (const f of files) {
    const input = f === '-' ? process.stdin : createReadStream(f);
    await new Promise<void>((resolve, reject) => {
      input.once('error', (e: NodeJS.ErrnoException) =>
        reject(new BulwarkError('NOT_FOUND', `${f}: ${e.code ?? e.message}`, { subject: f })),
      );
      input.once('readable', () => resolve());
      input.once('end', () => resolve());
    });
    let n = 0;
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      n++;
      for (const rec of net.parseFlows(line, f, n)) agg.add(rec);
    }
  }
  for (const t of texts) for (const rec of net.parseFlows(t.text, t.where)) agg.add(rec);
  return agg.results();
}
