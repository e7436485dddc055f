/**
 * `bulwark agent --rules FILE... [-f json|text] [-o FILE] [--duration SEC] [--stats SEC]`: the node
 * agent's local half: starts the eBPF sensor (dist/native/bulwark-sensor, built by
 * scripts/build-sensor.sh), tracks process/fd state, evaluates Falco rules on the live stream and
 * prints alerts (Falco's JSON lines or text). Stats (events and kernel drops per type) go to stderr
 * as JSON lines every --stats seconds and at exit. Stops on SIGINT/SIGTERM or after --duration.
 */
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { BulwarkError } from '../core/errors.js';
import type { CliContext } from './context.js';
import { openOutput } from './output.js';

/**
 * Kernel record types needed for a set of Falco event types. Always: exec/fork/exit (the process
 * table) and setid/capset, rare calls that keep each thread's uid and capabilities right
 * (user.uid, thread.cap_*).
 */
export function sensorTypesFor(evtTypes: Set<string>): string[] {
  const t = ['exec', 'fork', 'exit', 'setid', 'capset'];
  const any = evtTypes.has('*');
  if (any || ['open', 'openat', 'openat2', 'creat'].some((e) => evtTypes.has(e))) t.push('openat');
  if (any || evtTypes.has('connect')) t.push('connect', 'socket');
  if (any || ['dup', 'dup2', 'dup3'].some((e) => evtTypes.has(e))) t.push('dup');
  if (any || evtTypes.has('ptrace')) t.push('ptrace');
  if (any || ['symlink', 'symlinkat', 'link', 'linkat'].some((e) => evtTypes.has(e))) t.push('link');
  if (any || ['init_module', 'finit_module'].some((e) => evtTypes.has(e))) t.push('module');
  const FILEOPS = [
    'unlink',
    'unlinkat',
    'rename',
    'renameat',
    'renameat2',
    'mkdir',
    'mkdirat',
    'rmdir',
    'chmod',
    'fchmodat',
    'fchmod',
    'memfd_create',
  ];
  if (any || FILEOPS.some((e) => evtTypes.has(e))) t.push('fileop');
  if (any || ['accept', 'accept4', 'bind', 'listen'].some((e) => evtTypes.has(e))) t.push('inbound');
  // the fd table needs closes whenever fds are tracked (a reused fd number must not keep the old name)
  if (['openat', 'connect', 'dup', 'inbound', 'fileop'].some((x) => t.includes(x)) || evtTypes.has('close'))
    t.push('close');
  return t;
}

/** Falco's default rules_files. */
export const FALCO_DEFAULT_RULES = [
  '/etc/falco/falco_rules.yaml',
  '/etc/falco/falco_rules.local.yaml',
  '/etc/falco/rules.d',
];

/**
 * The rule files to load, as Falco resolves rules_files: files as given, directories expanded to
 * their *.yaml/*.yml files in name order; without -r, Falco's default paths that exist, else the
 * upstream default rules Bulwark ships (rules/falco/falco_rules.yaml).
 */
export async function resolveRuleFiles(
  given: string[] | undefined,
  defaults = FALCO_DEFAULT_RULES,
  /** without -r and none of the defaults: Falco's upstream default rules shipped with Bulwark */
  shipped = true,
): Promise<string[]> {
  const { stat, readdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const out: string[] = [];
  const paths = given?.length ? given : defaults;
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch (e) {
      if (!given?.length) continue; // a default path that does not exist
      throw new BulwarkError('NOT_FOUND', `cannot read ${p}: ${(e as NodeJS.ErrnoException).code}`, {
        subject: p,
      });
    }
    if (st.isDirectory()) {
      const names = (await readdir(p)).filter((n) => /\.ya?ml$/.test(n)).sort();
      out.push(...names.map((n) => join(p, n)));
    } else out.push(p);
  }
  if (!out.length && !given?.length && shipped) {
    // a node without Falco's rules gets the upstream default rules shipped with Bulwark
    const { shippedFalcoRules } = await import('../runtime/rules/shipped.js');
    const p = shippedFalcoRules();
    if ((await stat(p).catch(() => undefined))?.isFile()) out.push(p);
  }
  if (!out.length)
    throw new BulwarkError(
      'USAGE',
      given?.length
        ? `no rules files in ${given.join(', ')}`
        : `no rules: pass -r FILE|DIR (Falco's default ${defaults[0]} was not found)`,
    );
  return out;
}

/** Kernel record types the behaviour profiles need on top of the rules' (#10). */
export const PROFILE_SENSOR_TYPES = [
  'exec',
  'fork',
  'exit',
  'openat',
  'connect',
  'socket',
  'inbound',
  'close',
  'syscalls',
];

/** The rule files for the agent: with --profiles and no -r, Falco's defaults when present, else none. */
export async function agentRuleFiles(given: string[] | undefined, profiles: boolean): Promise<string[]> {
  if (!profiles || given?.length) return resolveRuleFiles(given);
  return resolveRuleFiles(undefined, FALCO_DEFAULT_RULES, false).catch(() => []);
}

export function register(ctx: CliContext): void {
  (ctx.program as Command)
    .command('agent')
    .description('run the eBPF sensor with Falco rules on this node and print alerts (JSON lines or text)')
    .option(
      '-r, --rules <file|dir...>',
      "Falco rules files or directories (their *.yaml, sorted), loaded in order (default: Falco's /etc/falco/falco_rules.yaml, falco_rules.local.yaml, rules.d/; without them, the upstream default rules shipped with Bulwark)",
    )
    .addOption(new Option('-f, --format <format>', 'alert format').choices(['json', 'text']).default('json'))
    .option('-o, --output <file>', 'write alerts to FILE instead of standard output')
    .option('--duration <seconds>', 'stop after this many seconds (default: run until SIGINT/SIGTERM)')
    .option('--stats <seconds>', 'print stats to stderr every N seconds (0: only at exit)', '0')
    .option('--hostname <name>', 'hostname in alerts (default: this host)')
    .option(
      '--sensor <path>',
      'sensor loader binary (default: $BULWARK_SENSOR or dist/native/bulwark-sensor)',
    )
    .option(
      '--server <url>',
      'also send alerts to this Bulwark console (buffered on disk while it is unreachable)',
    )
    .option(
      '--nats <url>',
      'publish alerts to this NATS JetStream server (stream BULWARK_EVENTS) instead of --server; comma-separated URLs',
    )
    .option('--nats-auth <token|user:password>', 'NATS credentials (default: $BULWARK_NATS_AUTH)')
    .option(
      '--console <url>',
      "with --nats: the console to pull the operators' mode switches and undo commands from (events still go through NATS; needs --token or $BULWARK_TOKEN)",
    )
    .option('--token <token>', 'API token for --server (default: $BULWARK_TOKEN)')
    .option('--cacert <file>', 'PEM CA certificate to trust for an https --server')
    .option('--cluster <name>', 'cluster name carried by every event sent to the console')
    .option(
      '--heartbeat <seconds>',
      'with --server/--nats: send the agent stats (events, drops per type, rules, buffer) every N seconds; with --server also report the profiles and pull the modes and undo commands set in the console',
      '30',
    )
    .option(
      '--flows',
      "east-west flows from the sensor's connect/accept events, attributed to pods and sent with --server/--nats every second",
    )
    .option(
      '--workloads <file...>',
      'with --flows: workload inventory mapping IPs, network namespaces and container ids to pods (where no kubelet tells)',
    )
    .option('--buffer-dir <dir>', 'disk buffer for --server (default: ~/.cache/bulwark/agent-buffer)')
    .option(
      '--buffer-max-mb <n>',
      'bound of the disk buffer; the oldest undelivered events are dropped (and counted) beyond it',
      '256',
    )
    .option(
      '--runtime-root <dir...>',
      'OCI runtime state roots read for container and pod metadata (default: runc, containerd, dockerd and crun roots under /run)',
    )
    .option(
      '--profiles <dir>',
      'behaviour profiles: one YAML file per workload in DIR, learned, checked and enforced (docs/runtime-profiles.md)',
    )
    .addOption(
      new Option(
        '--mode <mode>',
        "with --profiles: the mode of every workload that has a profile (default: each profile's own mode; a mode set in the console for a workload wins)",
      ).choices(['discover', 'monitor', 'protect']),
    )
    .option(
      '--execguard <path>',
      'protect mode: the exec permission helper (default: $BULWARK_EXECGUARD or dist/native/bulwark-execguard)',
    )
    .option(
      '--no-execguard',
      "protect mode without the helper: the sensor's exec backstop kills an unlearned binary at exec, before its first instruction",
    )
    .option(
      '--benchmark <names...>',
      'with --server/--nats: run CIS benchmarks on a schedule and send each result to the console (docker, k8s-node; repeatable or comma-separated)',
    )
    .option(
      '--benchmark-interval <duration>',
      'with --benchmark: time between runs (24h, 6h, 30m, 90s); the first runs shortly after start',
      '24h',
    )
    .option(
      '--root <dir>',
      "with --benchmark: the host's root directory the benchmarks read (a mounted host)",
      '/',
    )
    .option(
      '--docker-host <url>',
      'with --benchmark docker: the Docker Engine API (default unix://<root>/var/run/docker.sock)',
    )
    .option(
      '--benchmark-version <version>',
      'with --benchmark k8s-node: cis-1.5 ... cis-1.24 (default cis-1.9)',
    )
    .option(
      '--responses <file>',
      'response policy (YAML): alerts and deviations that kill the process, pause or quarantine the container (docs/runtime-profiles.md#responses)',
    )
    .addHelpText(
      'after',
      '\nNeeds root and a kernel with BTF. Exit codes: 0 stopped cleanly, 1 rules with errors or sensor failure, 2 usage error.',
    )
    .action(
      async (o: {
        rules?: string[];
        format: 'json' | 'text';
        output?: string;
        duration?: string;
        stats: string;
        hostname?: string;
        sensor?: string;
        server?: string;
        nats?: string;
        console?: string;
        natsAuth?: string;
        token?: string;
        cacert?: string;
        cluster?: string;
        bufferDir?: string;
        bufferMaxMb: string;
        heartbeat: string;
        flows?: boolean;
        workloads?: string[];
        runtimeRoot?: string[];
        profiles?: string;
        mode?: 'discover' | 'monitor' | 'protect';
        execguard?: string | boolean;
        responses?: string;
        benchmark?: string[];
        benchmarkInterval: string;
        root: string;
        dockerHost?: string;
        benchmarkVersion?: string;
      }) => {
        const { loadRules, formatAlert } = await import('../runtime/rules/index.js');
        const { StateTracker } = await import('../runtime/state/index.js');
        const { Sensor } = await import('../runtime/sensor/index.js');
        const { hostname } = await import('node:os');
        const files = [];
        if (o.mode && !o.profiles) throw new BulwarkError('USAGE', '--mode needs --profiles DIR');
        for (const f of await agentRuleFiles(o.rules, !!o.profiles)) {
          try {
            files.push({ name: f, content: await readFile(f, 'utf8') });
          } catch (e) {
            throw new BulwarkError('NOT_FOUND', `cannot read ${f}: ${(e as NodeJS.ErrnoException).code}`, {
              subject: f,
            });
          }
        }
        const rs = loadRules(files, { hostname: o.hostname ?? hostname() });
        for (const e of rs.errors)
          process.stderr.write(`${e.file}:${e.line}:${e.column}: error ${e.code}: ${e.message}\n`);
        if (!rs.successful) throw new BulwarkError('PARSE', `rules have ${rs.errors.length} error(s)`);
        const { RuntimeStateResolver, Shipper, alertEvent, processLineage } =
          await import('../agent/index.js');
        const state = new StateTracker({ resolver: new RuntimeStateResolver({ roots: o.runtimeRoot }) });
        // responses (#10): a policy binding alerts and deviations to kill / pause / quarantine
        const resp = o.responses ? await import('../runtime/respond/index.js') : undefined;
        const responseContainers = new Map<string, import('../runtime/state/index.js').ContainerInfo>();
        let responder: InstanceType<NonNullable<typeof resp>['Responder']> | undefined;
        if (resp && o.responses) {
          let text: string;
          try {
            text = await readFile(o.responses, 'utf8');
          } catch (e) {
            throw new BulwarkError(
              'NOT_FOUND',
              `cannot read ${o.responses}: ${(e as NodeJS.ErrnoException).code}`,
            );
          }
          let rules;
          try {
            rules = resp.parseResponsePolicy(text, o.responses);
          } catch (e) {
            if (e instanceof resp.ResponsePolicyError) throw new BulwarkError('PARSE', e.message);
            throw e;
          }
          // quarantine keeps the console reachable
          const allow: string[] = [];
          for (const u of [o.server, ...(o.nats ?? '').split(',')].filter((x): x is string => !!x)) {
            try {
              const { lookup } = await import('node:dns/promises');
              for (const a of await lookup(new URL(u).hostname, { all: true, family: 4 }))
                allow.push(a.address);
            } catch {
              /* unresolvable: nothing to keep open */
            }
          }
          responder = new resp.Responder({
            rules,
            quarantineAllow: allow,
            idPrefix: `${o.hostname ?? hostname()}:${Date.now().toString(36)}:response`,
            onResponse: (r) => {
              const ev = resp.responseEvent(r, r.id, {
                node,
                cluster: o.cluster,
                container: responseContainers.get(r.trigger.id),
              });
              responseContainers.delete(r.trigger.id);
              out.stream.write(
                (o.format === 'json' ? JSON.stringify(ev) : `${ev.time}: ${ev.priority} ${ev.output}`) + '\n',
              );
              shipper?.enqueue([ev]);
            },
          });
        }
        const respond = (t: Parameters<NonNullable<typeof responder>['handle']>[0]) => {
          if (!responder) return;
          if (t.container) {
            responseContainers.set(t.id, t.container);
            t.containerPids = [...state.threads.values()]
              .filter((x) => x.containerId === t.container!.id && x.tid === x.pid && x.pid !== t.pid)
              .map((x) => x.pid)
              .reverse();
          }
          void responder.handle(t);
        };
        let sensorRef:
          | {
              backstopPolicy(id: number, paths: Iterable<string>): void;
              backstopBind(cg: bigint, policy: number): void;
            }
          | undefined;
        // behaviour profiles (#10): learned, checked and, in protect mode, enforced before exec
        const prof = o.profiles || o.responses ? await import('../runtime/profile/index.js') : undefined;
        let deviations = 0;
        let profileRt: InstanceType<NonNullable<typeof prof>['ProfileRuntime']> | undefined;
        if (prof && o.profiles) {
          try {
            profileRt = new prof.ProfileRuntime({
              dir: o.profiles,
              mode: o.mode,
              state,
              resolver: new RuntimeStateResolver({ roots: o.runtimeRoot }),
              refreshResolver: new RuntimeStateResolver({ roots: o.runtimeRoot, missTtlMs: 100 }),
              guard:
                o.execguard === false
                  ? false
                  : { binary: typeof o.execguard === 'string' ? o.execguard : undefined },
              // the sensor's exec backstop (it starts below, before any event reaches the runtime)
              backstop: {
                policy: (id, paths) => sensorRef?.backstopPolicy(id, paths),
                bind: (cg, policy) => sensorRef?.backstopBind(cg, policy),
              },
              onDeviation: (d) => {
                deviations++;
                const ev = prof.deviationEvent(d, `${runId}:${++seq}`, { node, cluster: o.cluster });
                respond({
                  kind: 'deviation',
                  id: ev.id,
                  ts: d.ts,
                  pid: d.process?.pid,
                  container: d.container,
                  workload: d.workloadId,
                  deviation: d.what,
                });
                out.stream.write(
                  (o.format === 'json' ? JSON.stringify(ev) : `${ev.time}: ${ev.priority} ${ev.output}`) +
                    '\n',
                );
                const t = d.process ? state.thread(d.process.pid) : undefined;
                shipper?.enqueue([{ ...ev, ...(t ? { process: processLineage(state, t) } : {}) }]);
              },
              onError: (e) => process.stderr.write(`bulwark agent: ${e.message}\n`),
            });
          } catch (e) {
            if (e instanceof prof.ProfileError) throw new BulwarkError('PARSE', e.message);
            throw e;
          }
        }
        const node = o.hostname ?? hostname();
        let shipper: InstanceType<typeof Shipper> | undefined;
        let consoleAuth: { token: string; caCertPem?: string } | undefined;
        if (o.server && o.nats)
          throw new BulwarkError('USAGE', '--server and --nats: choose one destination for events');
        if (o.console && !o.nats)
          throw new BulwarkError(
            'USAGE',
            '--console is for --nats (with --server the agent pulls from that console)',
          );
        if (o.console && !(o.token ?? process.env.BULWARK_TOKEN))
          throw new BulwarkError(
            'USAGE',
            '--console: an API token (--token or $BULWARK_TOKEN) is needed to pull from the console',
          );
        if (o.server || o.nats) {
          const token = o.token ?? process.env.BULWARK_TOKEN ?? '';
          if (!token && !o.nats)
            throw new BulwarkError(
              'USAGE',
              '--token (or $BULWARK_TOKEN): an API token is needed to send alerts to the console',
            );
          const maxMb = Number(o.bufferMaxMb);
          if (!Number.isFinite(maxMb) || maxMb <= 0)
            throw new BulwarkError('USAGE', `--buffer-max-mb: not a positive number: ${o.bufferMaxMb}`);
          let caCertPem: string | undefined;
          if (o.cacert) {
            try {
              caCertPem = await readFile(o.cacert, 'utf8');
            } catch (e) {
              throw new BulwarkError(
                'NOT_FOUND',
                `cannot read ${o.cacert}: ${(e as NodeJS.ErrnoException).code}`,
              );
            }
          }
          const { homedir } = await import('node:os');
          const { join } = await import('node:path');
          consoleAuth = { token, caCertPem };
          try {
            shipper = new Shipper({
              server: o.server,
              token,
              nats: o.nats,
              natsAuth: o.natsAuth ?? process.env.BULWARK_NATS_AUTH,
              caCertPem,
              bufferDir: o.bufferDir ?? join(homedir(), '.cache', 'bulwark', 'agent-buffer'),
              maxBytes: maxMb * 2 ** 20,
            });
          } catch (e) {
            throw new BulwarkError('USAGE', (e as Error).message);
          }
        }
        // event ids: node, this run's start and a sequence; unique across restarts, kept by replays
        const runId = `${node}:${Date.now().toString(36)}`;
        let seq = 0;
        const out = await openOutput(o.output);
        let alerts = 0;
        let lastDrops = 0;
        let onFailure: (e: Error) => void = (e) => process.stderr.write(`bulwark agent: ${e.message}\n`);
        const types = profileRt
          ? [...new Set([...sensorTypesFor(rs.eventTypes()), ...PROFILE_SENSOR_TYPES])]
          : sensorTypesFor(rs.eventTypes());
        // east-west flows (#11): the sensor's connect/accept events, attributed and aggregated
        let flows: InstanceType<typeof import('../agent/flows.js').FlowCollector> | undefined;
        let flowAttr: InstanceType<typeof import('../network/flow.js').Attributor> | undefined;
        const knownContainers = new Set<string>();
        const net = o.flows ? await import('../network/index.js') : undefined;
        if (net) {
          if (!shipper)
            throw new BulwarkError('USAGE', '--flows needs --server or --nats (where the flows go)');
          const invs = (o.workloads ?? []).map((f) => net.readInventory(f));
          flowAttr = new net.Attributor(
            invs.flatMap((i) => i.workloads),
            invs.flatMap((i) => i.services),
          );
          const { FlowCollector } = await import('../agent/flows.js');
          const sh = shipper;
          flows = new FlowCollector({
            node,
            cluster: o.cluster,
            runId,
            attributor: flowAttr,
            emit: (recs) => sh.enqueue(recs),
          });
          types.push(...['connect', 'inbound', 'socket', 'close'].filter((t) => !types.includes(t)));
        }
        // CIS benchmarks on a schedule (#14), each run in a child process, results through the buffer
        let benchmarks: InstanceType<typeof import('../agent/benchmarks.js').BenchmarkScheduler> | undefined;
        if (o.benchmark?.length) {
          const bm = await import('../agent/benchmarks.js');
          let targets: import('../agent/benchmarks.js').BenchmarkTarget[];
          let intervalMs: number;
          try {
            targets = bm.parseBenchmarkTargets(o.benchmark);
            intervalMs = bm.parseDuration(o.benchmarkInterval);
          } catch (e) {
            throw new BulwarkError('USAGE', (e as Error).message);
          }
          if (!shipper)
            throw new BulwarkError('USAGE', '--benchmark needs --server or --nats (where the results go)');
          if (o.benchmarkVersion && !targets.includes('k8s-node'))
            throw new BulwarkError('USAGE', '--benchmark-version is for --benchmark k8s-node');
          const cis = await import('../cis/index.js');
          if (o.benchmarkVersion) cis.loadBuiltinBenchmark('k8s-node', o.benchmarkVersion); // a usage error now, not at 3 am
          const sh = shipper;
          benchmarks = new bm.BenchmarkScheduler({
            benchmarks: targets.map((t) => ({
              target: t,
              root: o.root,
              ...(t === 'docker' && o.dockerHost ? { dockerHost: o.dockerHost } : {}),
              ...(t === 'k8s-node' && o.benchmarkVersion ? { version: o.benchmarkVersion } : {}),
            })),
            intervalMs,
            node,
            cluster: o.cluster,
            idPrefix: runId,
            enqueue: (evs) => sh.enqueue(evs),
            onInfo: (m) => process.stderr.write(`bulwark agent: ${m}\n`),
          });
        }
        const sensor = new Sensor({
          binary: o.sensor,
          state,
          types,
          // drops are never silent: each stats record that shows new kernel drops is reported at once
          onStats: (c) => {
            if (c.drops > lastDrops) {
              const per: Record<string, number> = {};
              for (const [t, k] of Object.entries(c.kernel)) if (k.drops) per[t] = k.drops;
              process.stderr.write(
                JSON.stringify({
                  warning: 'sensor ring buffer full: events dropped',
                  new_drops: c.drops - lastDrops,
                  drops: per,
                }) + '\n',
              );
              lastDrops = c.drops;
            }
          },
          onError: (e) => onFailure(e),
          onSyscalls: profileRt ? (_cg, cid, nrs) => profileRt.onSyscalls(cid, nrs) : undefined,
          onEvent: (ev) => {
            profileRt?.onEvent(ev);
            if (flows && net && (ev.type === 'connect' || ev.type === 'accept' || ev.type === 'accept4')) {
              // the pod of the event's container, from the runtime's state, names its flows
              const c = state.current?.container;
              if (c?.k8s?.namespace && c.k8s.podName && !knownContainers.has(c.id)) {
                knownContainers.add(c.id);
                flowAttr!.learnContainer(c.id, {
                  namespace: c.k8s.namespace,
                  name: c.k8s.podName,
                  kind: 'Pod',
                  labels: c.k8s.labels ?? {},
                  ips: [],
                  netns: [],
                  containers: [c.id],
                  pods: [c.k8s.podName],
                  ports: [],
                });
              }
              flows.add(net.fromSyscallEvent(ev));
            }
            for (const a of rs.evaluate(ev, state)) {
              alerts++;
              out.stream.write(formatAlert(a, o.format) + '\n');
              const id = `${runId}:${++seq}`;
              shipper?.enqueue([
                alertEvent(a, id, {
                  node,
                  cluster: o.cluster,
                  container: state.current?.container,
                  process: processLineage(state, state.current),
                }),
              ]);
              if (responder) {
                const c = state.current?.container;
                const w = c && prof ? prof.workloadOf(c) : undefined;
                respond({
                  kind: 'alert',
                  id,
                  ts: a.ts,
                  rule: a.rule,
                  priority: a.priority,
                  tags: a.tags,
                  pid: state.current?.pid,
                  container: c,
                  ...(w && prof ? { workload: prof.workloadId(w) } : {}),
                });
              }
            }
          },
        });
        const stats = () =>
          JSON.stringify({
            stats: {
              rules: rs.rules.length,
              kernel_types: types,
              events: sensor.counters.events,
              records: sensor.counters.records,
              kernel: sensor.counters.kernel,
              drops: sensor.counters.drops,
              alerts,
              ...(profileRt
                ? {
                    profiles: {
                      workloads: profileRt.engine.profiles.size,
                      ...profileRt.engine.counters,
                      deviations,
                      ...profileRt.counters,
                      ...(profileRt.guard?.lastStats ? { execguard: profileRt.guard.lastStats } : {}),
                    },
                  }
                : {}),
              ...(responder ? { responses: { ...responder.counters, active: responder.list().length } } : {}),
              ...(shipper ? { console: shipper.stats } : {}),
              ...(benchmarks ? { benchmarks: benchmarks.counters } : {}),
            },
          }) + '\n';
        shipper?.start();
        flows?.start();
        benchmarks?.start();
        try {
          sensorRef = sensor;
          await sensor.start();
          await profileRt?.start().catch(async (e: Error) => {
            await sensor.stop();
            throw e;
          });
        } catch (e) {
          await benchmarks?.stop();
          await shipper?.stop();
          await out.abort();
          throw new BulwarkError('INTERNAL', (e as Error).message);
        }
        process.stderr.write(
          `bulwark agent: sensor attached (loader pid ${sensor.loaderPid}; ${types.join(',')}), ${rs.rules.length} rules\n`,
        );
        // the console's view of this node: stats through the same buffer as the alerts
        const startedAt = new Date().toISOString();
        let beats = 0;
        const { VERSION } = await import('./version.js');
        // profiles reported to the console; its mode switches and undo commands pulled (#10)
        const control =
          shipper && (profileRt || responder)
            ? (await import('../agent/control.js')).agentControl({
                // with --nats, --console: events through NATS, commands pulled over HTTP
                server: o.server ?? o.console,
                ...consoleAuth,
                node,
                cluster: o.cluster,
                idPrefix: runId,
                profiles: profileRt,
                responder,
                enqueue: (evs) => shipper!.enqueue(evs),
                onInfo: (m) => process.stderr.write(`bulwark agent: ${m}\n`),
                onError: (e) => process.stderr.write(`bulwark agent: ${e.message}\n`),
              })
            : undefined;
        const heartbeat = () => {
          const st = shipper!.stats;
          shipper!.enqueue([
            {
              id: `${runId}:stats:${++beats}`,
              kind: 'stats',
              time: new Date().toISOString(),
              node,
              ...(o.cluster ? { cluster: o.cluster } : {}),
              stats: {
                runId,
                startedAt,
                version: VERSION,
                rules: rs.rules.length,
                heartbeatSeconds: beatMs / 1000,
                kernelTypes: types,
                events: sensor.counters.events,
                kernel: sensor.counters.kernel,
                drops: sensor.counters.drops,
                alerts,
                buffer: {
                  pendingBytes: st.pendingBytes,
                  dropped: st.dropped,
                  rejected: st.rejected,
                  sent: st.sent,
                },
              },
            },
          ]);
          void control?.tick();
        };
        const beatMs = Number(o.heartbeat) * 1000;
        if (shipper && !(beatMs > 0))
          throw new BulwarkError('USAGE', `--heartbeat: not a positive number: ${o.heartbeat}`);
        if (shipper) heartbeat();
        const beatTimer = shipper ? setInterval(heartbeat, beatMs) : undefined;
        const every = Number(o.stats) * 1000;
        const timer = every > 0 ? setInterval(() => process.stderr.write(stats()), every) : undefined;
        let failed: Error | undefined;
        await new Promise<void>((resolve) => {
          const done = () => resolve();
          onFailure = (e) => {
            failed = e;
            resolve();
          };
          process.once('SIGINT', done);
          process.once('SIGTERM', done);
          if (o.duration !== undefined) setTimeout(done, Number(o.duration) * 1000);
        });
        if (timer) clearInterval(timer);
        if (beatTimer) clearInterval(beatTimer);
        await control?.close();
        await benchmarks?.stop();
        // a last stats record from the loader (it writes one on exit) before reporting
        if (profileRt?.guard) await profileRt.guard.stats().catch(() => undefined);
        await profileRt?.stop();
        // pauses and quarantines end with the agent: no container is left frozen or cut off
        await responder?.stop();
        const code = await sensor.stop();
        flows?.stop();
        if (shipper) heartbeat();
        // give the console a few seconds for what is buffered; the rest stays on disk for the next run
        await shipper?.stop(5000);
        process.stderr.write(stats());
        await out.close();
        if (failed) throw new BulwarkError('INTERNAL', failed.message);
        ctx.exitCode = code === 0 ? 0 : 1;
      },
    );
}
