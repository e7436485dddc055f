/**
 * The agent's cost of east-west flow collection (#11: goal ≤ 5% of one core at 1,000 new
 * connections/s). Two "pods" of the namespace harness (test/network/harness.ts: network
 * namespaces on a bridge); a perl client in one makes BENCH_FLOWS_RATE (default 1,000) new TCP
 * connections/s to the other's listener for BENCH_FLOWS_SECONDS (default 20).
 *
 * Baseline, in the same run: the same load with no agent (the client's own CPU per connection).
 * Measured: the built agent as a user runs it (`bin/bulwark agent --rules <stable> --flows
 * --workloads FILE --server URL`, the real eBPF sensor, a real console on 127.0.0.1): the agent
 * process's CPU and the sensor loader's, as % of one core, idle and under the load; the client's
 * CPU per connection with the agent against the baseline (the ratio the node's workloads pay);
 * and, as a check that the work was really done, the connections the console counted on the
 * client → server edge against those made. Needs root, iproute2 and the sensor.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Harness, harnessUnavailable, type PodSpec } from '../test/network/harness.js';
import { Client, startConsole } from '../test/server/helpers.js';
import { SHARED } from '../test/helpers/shared.js';
import { procCpu, procUserSys } from './proc.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const RATE = Number(process.env.BENCH_FLOWS_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_FLOWS_SECONDS ?? 20);
const GOAL = 5; // % of one core
const RULES = `${SHARED}/data/falco/falco_rules.yaml`;

const why = harnessUnavailable();
if (why) {
  console.log(`flows bench skipped: ${why}`);
  process.exit(0);
}
execFileSync('bash', [join(root, 'scripts/build-sensor.sh'), '--require'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});

/** voluntary context switches (each a wake-up) of a process's threads */
function wakeups(pid: number): number {
  let n = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const m = /voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8'));
    n += m ? Number(m[1]) : 0;
  }
  return n;
}
function children(pid: number): number[] {
  const out: number[] = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const c = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
    if (c) out.push(...c.split(/\s+/).map(Number));
  }
  return out;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const PODS: PodSpec[] = [
  {
    namespace: 'bench',
    name: 'client',
    kind: 'Deployment',
    labels: { app: 'client' },
    ports: [{ port: 9000, protocol: 'TCP' }],
  },
  {
    namespace: 'bench',
    name: 'web',
    kind: 'Deployment',
    labels: { app: 'web' },
    ports: [{ port: 8080, protocol: 'TCP' }],
  },
];

/** The load: `rate` connect+close per second in 10 ms slices; resolves with connections made and the client's CPU seconds. */
function load(netns: string, ip: string, rate: number, seconds: number): Promise<{ n: number; cpu: number }> {
  const per = Math.max(1, Math.round(rate / 100));
  const script =
    'use Socket; use Time::HiRes qw(time sleep); my ($ip,$per,$secs)=@ARGV; ' +
    'my $addr=sockaddr_in(8080, inet_aton($ip)); my $t0=time; my $n=0; ' +
    'while (1) { last if time-$t0>=$secs; for (1..$per) { socket(my $s, PF_INET, SOCK_STREAM, 6) or die; ' +
    'connect($s, $addr) and $n++; close($s) } my $d=$t0+($n/$per)*0.01-time; sleep($d) if $d>0 } ' +
    'my @t=times; print "$n ", $t[0]+$t[1], "\\n"';
  return new Promise((resolve, reject) => {
    const c = spawn('ip', ['netns', 'exec', netns, 'perl', '-e', script, ip, String(per), String(seconds)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    c.stdout!.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('exit', (code) => {
      const [n, cpu] = out.trim().split(' ').map(Number);
      if (code !== 0 || !Number.isFinite(n)) reject(new Error(`load generator exited ${code}: ${out}`));
      else resolve({ n: n!, cpu: cpu! });
    });
  });
}

const harness = new Harness();
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-bench-flows-'));
let agent: ChildProcess | undefined;
let con: Awaited<ReturnType<typeof startConsole>> | undefined;
try {
  await harness.setup(PODS);
  const client = harness.pods.find((p) => p.name === 'client')!;
  const web = harness.pods.find((p) => p.name === 'web')!;
  const wl = join(tmp, 'workloads.json');
  writeFileSync(wl, JSON.stringify(harness.inventory()));
  con = await startConsole('sqlite');
  const admin = await new Client(con.base).login();
  const token = (await admin.post('/api/tokens', { name: 'agent', role: 'operator' })).body.token as string;

  await load(client.netns, web.ip, RATE, 2); // warm-up (listener JIT, ARP)
  const base = await load(client.netns, web.ip, RATE, SECONDS);

  agent = spawn(
    process.execPath,
    [
      // BENCH_FLOWS_PROFILE=DIR: a CPU profile of the agent (node --cpu-prof)
      ...(process.env.BENCH_FLOWS_PROFILE
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_FLOWS_PROFILE}`]
        : []),
      join(root, 'bin/bulwark'),
      'agent',
      '--rules',
      RULES,
      '--server',
      con.base,
      // BENCH_FLOWS_OFF=1: the same agent without flow collection (what the flows themselves cost)
      ...(process.env.BENCH_FLOWS_OFF ? [] : ['--flows', '--workloads', wl]),
      '--buffer-dir',
      join(tmp, 'buffer'),
      '-o',
      join(tmp, 'alerts.jsonl'),
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BULWARK_TOKEN: token } },
  );
  let err = '';
  agent.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const end = Date.now() + 30_000;
  while (!err.includes('sensor attached')) {
    if (Date.now() > end || agent.exitCode !== null) throw new Error(`agent did not attach: ${err}`);
    await sleep(50);
  }
  const apid = agent.pid!;
  const loader = children(apid).find((p) =>
    readFileSync(`/proc/${p}/comm`, 'utf8').startsWith('bulwark-sensor'),
  );
  await sleep(3000); // start-up settles
  const idle0 = [procCpu(apid), loader ? procCpu(loader) : 0];
  const t0 = Date.now();
  await sleep(5000);
  const idleS = (Date.now() - t0) / 1000;
  const idle = [(procCpu(apid) - idle0[0]!) / idleS, loader ? (procCpu(loader) - idle0[1]!) / idleS : 0];

  const c0 = [procCpu(apid), loader ? procCpu(loader) : 0];
  const k0 = [wakeups(apid), loader ? wakeups(loader) : 0];
  const us0 = procUserSys(apid);
  const w0 = Date.now();
  const withAgent = await load(client.netns, web.ip, RATE, SECONDS);
  await sleep(2000); // the last second's flows are aggregated and shipped
  const wallS = (Date.now() - w0) / 1000;
  const used = [(procCpu(apid) - c0[0]!) / wallS, loader ? (procCpu(loader) - c0[1]!) / wallS : 0];
  const us1 = procUserSys(apid);
  const wake = [(wakeups(apid) - k0[0]!) / wallS, loader ? (wakeups(loader) - k0[1]!) / wallS : 0];

  type Edge = { source: string; destination: string; port: number; count: number };
  const countedNow = async () => {
    const edges = (await admin.get('/api/network/flows?pageSize=500')).body.items as Edge[];
    if (process.env.BENCH_FLOWS_DEBUG) console.log(JSON.stringify(edges));
    return edges
      .filter(
        (e) =>
          e.source === 'bench/client[Deployment]' &&
          e.destination === 'bench/web[Deployment]' &&
          e.port === 8080,
      )
      .reduce((s, e) => s + e.count, 0);
  };
  let counted = await countedNow();
  for (let i = 0; i < 10 && counted < withAgent.n; i++) {
    await sleep(1000);
    counted = await countedNow();
  }

  const rate = withAgent.n / SECONDS;
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const perConnBase = (base.cpu / base.n) * 1e6;
  const perConnWith = (withAgent.cpu / withAgent.n) * 1e6;
  console.log(
    `load: ${base.n} connections in ${SECONDS} s without the agent, ${withAgent.n} with it (${rate.toFixed(0)}/s)`,
  );
  console.log(
    `baseline (no agent): client CPU ${perConnBase.toFixed(1)} µs/connection; with the agent ${perConnWith.toFixed(1)} µs/connection: ratio ${(perConnWith / perConnBase).toFixed(2)}x`,
  );
  console.log(`agent idle: ${pct(idle[0]!)} of a core (sensor loader ${pct(idle[1]!)})`);
  console.log(
    `agent at ${rate.toFixed(0)} new connections/s: ${pct(used[0]!)} of a core, sensor loader ${pct(used[1]!)}; ` +
      `together ${pct(used[0]! + used[1]!)} (goal ≤ ${GOAL}%: ${(used[0]! + used[1]!) * 100 <= GOAL ? 'met' : 'NOT met'})`,
  );
  console.log(
    `agent user ${pct((us1[0] - us0[0]) / wallS)}, system ${pct((us1[1] - us0[1]) / wallS)} of a core under the load`,
  );
  console.log(
    `wake-ups/s under the load: agent ${wake[0]!.toFixed(0)}, sensor loader ${wake[1]!.toFixed(0)}`,
  );
  console.log(
    `console counted ${counted} of ${withAgent.n} connections on bench/client => bench/web : TCP 8080 (${((counted / withAgent.n) * 100).toFixed(1)}%)`,
  );
} finally {
  if (agent && agent.exitCode === null) {
    agent.kill('SIGTERM');
    await new Promise((r) => {
      const t = setTimeout(() => agent!.kill('SIGKILL'), 5000);
      agent!.once('exit', () => {
        clearTimeout(t);
        r(undefined);
      });
    });
  }
  await con?.close();
  await harness.cleanup();
  rmSync(tmp, { recursive: true, force: true });
}
