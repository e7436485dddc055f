/**
 * Live sensor throughput: a producer (perl, rate-limited in 10 ms slices) makes failing openat
 * calls at BENCH_SENSOR_RATE (default 80,000/s) for BENCH_SENSOR_SECONDS (default 30) while the
 * sensor runs as the agent runs it: the kernel types the upstream stable rules need, every record
 * decoded, the state tracker fed and the stable rules evaluated.
 *
 * Baseline: the same producer with no sensor attached, in the same run; the ratio is producer CPU
 * per syscall with the sensor / without (the cost a node's workloads pay). Printed: events/s
 * delivered, loss (producer's opens never seen here), kernel drops, the loader's and the agent's
 * CPU (% of one core) and RSS. Then a 5 s consumer stall at the same rate: the drops must be
 * counted by the kernel and reported here, and the delay from the end of the stall to the report
 * is printed (goal ≤ 2 s). Needs root and the sensor (scripts/build-sensor.sh).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRules } from '../src/runtime/rules/index.js';
import { Sensor, sensorBuildScript } from '../src/runtime/sensor/index.js';
import { StateTracker } from '../src/runtime/state/index.js';
import { sensorTypesFor } from '../src/cli/agent.js';
import { procCpu, procRssMb } from './proc.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const shared = process.env.BULWARK_SHARED_DIR ?? join(root, '..', 'shared');
const RATE = Number(process.env.BENCH_SENSOR_RATE ?? 80_000);
const SECONDS = Number(process.env.BENCH_SENSOR_SECONDS ?? 30);
const STALL_S = Number(process.env.BENCH_SENSOR_STALL ?? 5);
const NAME = '/nonexistent-bulwark-bench';

execFileSync('bash', [sensorBuildScript(), '--require'], { stdio: ['ignore', 'ignore', 'inherit'] });

/** Runs the producer; resolves with its pid-independent result: opens made and its CPU seconds. */
function produce(
  rate: number,
  seconds: number,
  onPid?: (pid: number) => void,
): Promise<{ n: number; cpu: number }> {
  const per = Math.max(1, Math.round(rate / 100));
  const script =
    'use Time::HiRes qw(time sleep); my ($per,$secs,$name)=@ARGV; my $t0=time; my $n=0; ' +
    'while (1) { my $el=time-$t0; last if $el>=$secs; ' +
    'for (1..$per) { open(my $f, "<", $name); $n++ } ' +
    'my $next=$t0+($n/$per)*0.01; my $d=$next-time; sleep($d) if $d>0 } ' +
    'my @t=times; print "$n ", $t[0]+$t[1], "\\n"';
  return new Promise((resolve, reject) => {
    const c = spawn('perl', ['-e', script, String(per), String(seconds), NAME], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    onPid?.(c.pid!);
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    c.once('error', reject);
    c.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`producer exited ${code}`));
      const [n, cpu] = out.trim().split(' ').map(Number);
      resolve({ n: n!, cpu: cpu! });
    });
  });
}

const rs = loadRules([
  { name: 'falco_rules.yaml', content: readFileSync(join(shared, 'data/falco/falco_rules.yaml'), 'utf8') },
]);
const types = sensorTypesFor(rs.eventTypes());

// baseline: no sensor
const base = await produce(RATE, Math.min(SECONDS, 10));

const state = new StateTracker();
let producerPid = -1;
let seen = 0;
let alerts = 0;
let reportedAt = 0;
let dropsAtStallEnd = -1;
const sensor = new Sensor({
  state,
  types,
  statsMs: 200,
  onEvent: (ev) => {
    if (ev.tid === producerPid && ev.type === 'openat' && ev.params.name === NAME) seen++;
    alerts += rs.evaluate(ev, state).length;
  },
  onStats: (c) => {
    if (dropsAtStallEnd >= 0 && !reportedAt && c.drops > dropsAtStallEnd) reportedAt = performance.now();
  },
});
await sensor.start();
const cpu0 = process.cpuUsage();
const loader0 = procCpu(sensor.loaderPid!);
const t0 = performance.now();
const run = await produce(RATE, SECONDS, (pid) => (producerPid = pid));
// let the reader catch up with what is in the ring and the pipe
const end = Date.now() + 5000;
while (seen < run.n && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const agentCpu = (cpu.user + cpu.system) / 1e6;
const loaderCpu = procCpu(sensor.loaderPid!) - loader0;
sensor.requestStats();
await new Promise((r) => setTimeout(r, 300));
const drops = sensor.counters.drops;
const agentRss = process.memoryUsage().rss / 2 ** 20;
const loaderRss = procRssMb(sensor.loaderPid!);

const perBase = (base.cpu / base.n) * 1e6;
const perLive = (run.cpu / run.n) * 1e6;
console.log(
  `producer alone: ${base.n} openat in ${Math.min(SECONDS, 10)} s, ${perBase.toFixed(2)} µs CPU per call (baseline)`,
);
console.log(
  `with the sensor: ${run.n} openat in ${SECONDS} s (${Math.round(run.n / SECONDS)}/s), ${perLive.toFixed(2)} µs CPU per call`,
);
console.log(
  `delivered ${seen} of ${run.n} (loss ${run.n - seen}), kernel drops ${drops}, ${sensor.counters.events} events decoded in all, ${alerts} alerts`,
);
console.log(
  `CPU over ${wall.toFixed(1)} s: loader ${((loaderCpu / wall) * 100).toFixed(1)}% of a core, agent (decode + state + ${rs.rules.length} rules) ${((agentCpu / wall) * 100).toFixed(1)}%; RSS loader ${loaderRss.toFixed(0)} MB, agent ${agentRss.toFixed(0)} MB`,
);
console.log(`ratio (producer CPU per syscall, sensor on / off): ${(perLive / perBase).toFixed(2)}x`);
console.log(
  `goal: ${RATE}/s for ${SECONDS} s with 0 drops and 0 loss: ${drops === 0 && seen === run.n ? 'met' : 'NOT met'}`,
);

// stall: the reader stops for STALL_S seconds while the producer goes on
const dropsBefore = sensor.counters.drops;
sensor.pause();
await produce(RATE, STALL_S, (pid) => (producerPid = pid));
dropsAtStallEnd = dropsBefore;
const resumed = performance.now();
sensor.resume();
const stallEnd = Date.now() + 10_000;
while (!reportedAt && Date.now() < stallEnd) await new Promise((r) => setTimeout(r, 10));
if (!reportedAt)
  console.log(
    `stall ${STALL_S} s: drops NOT reported within 10 s (counters ${JSON.stringify(sensor.counters.kernel)})`,
  );
else
  console.log(
    `stall ${STALL_S} s: ${sensor.counters.drops - dropsBefore} drops counted, reported ${((reportedAt - resumed) / 1000).toFixed(2)} s after the reader resumed (goal ≤ 2 s: ${reportedAt - resumed <= 2000 ? 'met' : 'NOT met'})`,
  );
await sensor.stop();
