/**
 * Responses live (#10): real runc containers (Debian fixture image), the real sensor, the profile
 * engine in monitor mode and a response policy file: an unlearned exec is the trigger.
 *
 *   kill        the unlearned process is killed within 100 ms of its exec (kernel time): it never
 *               prints, the rest of the container's script goes on
 *   pause       the container's cgroup is frozen within 1 s; nothing runs while frozen; undo thaws
 *               it and the script completes
 *   quarantine  the container in its own network namespace (a veth to the host, made here): an
 *               open TCP connection stops delivering once quarantined and delivers again after
 *               release; nothing of the host's network is touched
 * Every action and every undo is a response record. Named sensor-* so the runner runs it alone.
 * Cleanup (containers, mounts, the netns and its veth) in `after`, whatever failed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeStateResolver } from '../../src/agent/index.js';
import {
  ProfileEngine,
  workloadId,
  writeProfile,
  type DeviationRecord,
} from '../../src/runtime/profile/index.js';
import {
  freezerOf,
  isFrozen,
  parseResponsePolicy,
  Responder,
  type ResponseRecord,
} from '../../src/runtime/respond/index.js';
import { Sensor, sensorBuildScript } from '../../src/runtime/sensor/index.js';
import { StateTracker } from '../../src/runtime/state/index.js';
import { ProfileBundle, type RunResult } from '../helpers/runc-profile.js';
import { BULWARK_FROM_SOURCE } from '../helpers/cli.js';

const DIGEST = 'sha256:' + createHash('sha256').update('bulwark-respond-fixture').digest('hex');
const annotations = (name: string) => ({
  'org.opencontainers.container.name': name,
  'org.opencontainers.image.base.digest': DIGEST,
});
const idOf = (name: string) => workloadId({ container: name, imageDigest: DIGEST });

const POLICY = `apiVersion: bulwark.dev/v1alpha1
kind: ResponsePolicy
responses:
  - name: kill-unlearned
    match: { kinds: [deviation], deviations: [exe], workloads: ["image:*:killme"] }
    actions: [kill]
  - name: pause-unlearned
    match: { kinds: [deviation], deviations: [exe], workloads: ["image:*:pauseme"] }
    actions: [pause]
  - name: quarantine-unlearned
    match: { kinds: [deviation], deviations: [exe], workloads: ["image:*:isolate"] }
    actions: [quarantine]
  - name: capture-unlearned
    match: { kinds: [deviation], deviations: [exe], workloads: ["image:*:capture"] }
    actions: [capture]
    capture: { seconds: 1.5, files: 2, mb: 1 }
`;

const tmp = mkdtempSync(join(tmpdir(), 'bulwark-respond-'));
const state = new StateTracker({ resolver: new RuntimeStateResolver() });
const refresher = new RuntimeStateResolver({ missTtlMs: 100 });
const engine = new ProfileEngine({
  onDeviation: (d) => onDeviation(d),
  refresh: (c, pid) => refresher.resolve({ pid, containerId: c.id }),
});
const records: ResponseRecord[] = [];
const devs: DeviationRecord[] = [];
const responder = new Responder({
  rules: parseResponsePolicy(POLICY, 'policy.yaml'),
  onResponse: (r) => records.push(r),
  idPrefix: 'test',
  captureDir: join(tmp, 'captures'),
});
let pending: Promise<unknown> = Promise.resolve();
/** off while the agent under test responds (this process's responder must not race it) */
let respondHere = true;
function onDeviation(d: DeviationRecord): void {
  devs.push(d);
  if (!respondHere) return;
  pending = responder.handle({
    kind: 'deviation',
    id: `dev-${devs.length}`,
    ts: d.ts,
    pid: d.process?.pid,
    containerPids: [...state.threads.values()]
      .filter((t) => t.containerId === d.container.id && t.tid === t.pid && t.pid !== d.process?.pid)
      .map((t) => t.pid)
      .reverse(),
    container: d.container,
    workload: d.workloadId,
    deviation: d.what,
  });
}
const execsOf = new Map<string, string[]>();
let sensor: Sensor | undefined;
const bundle = new ProfileBundle();
const NS = `bwk-resp-${process.pid}`;
const HOST_IF = `bwkr${process.pid % 100000}a`;
const NS_IF = `bwkr${process.pid % 100000}b`;
const NET = `10.239.${process.pid % 250}`;
let netnsMade = false;
let port = 0;
let server: Server | undefined;
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
let agent: ChildProcess | undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function learn(name: string, script: string, marker: string, netns?: string): Promise<void> {
  // the agent names a container from its runtime state, which goes with it: a run that ended
  // before the agent (here, under the machine's load) read its events is not learned — run again
  for (let attempt = 0; attempt < 3 && !engine.profiles.get(idOf(name))?.executables.length; attempt++) {
    const r = await bundle.run(['/bin/sh', '-c', `${script}; sleep 0.3`], {
      annotations: annotations(name),
      netns,
    });
    assert.equal(r.code, 0, r.stderr);
    const end = Date.now() + 10_000;
    while (Date.now() < end && !(execsOf.get(r.cid) ?? []).some((a) => a.includes(marker))) await sleep(20);
    await sleep(300);
  }
}

/** the workload, learned so far, now held in monitor mode */
function monitor(name: string): void {
  assert.ok(engine.setMode(idOf(name), 'monitor'), `a profile for ${name}`);
}

describe('responses to deviations in real containers', { timeout: 180_000 }, () => {
  before(async () => {
    execFileSync('bash', [sensorBuildScript(), '--require'], { stdio: ['ignore', 'ignore', 'inherit'] });
    await bundle.open();
    sensor = new Sensor({
      state,
      statsMs: 200,
      onEvent: (ev) => {
        engine.onEvent(ev, state);
        const t = state.current;
        if (ev.type === 'execve' && t && t.containerId !== 'host') {
          const l = execsOf.get(t.containerId) ?? [];
          l.push([String(ev.params.exe), ...((ev.params.args as string[]) ?? [])].join(' '));
          execsOf.set(t.containerId, l);
        }
      },
    });
    await sensor.start();
  });
  after(async () => {
    if (agent && agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
    await responder.stop().catch(() => undefined);
    await sensor?.stop();
    engine.close();
    server?.close();
    bundle.close();
    if (netnsMade) execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
  });

  it('kill: the unlearned process dies within 100 ms of its exec and never prints', async () => {
    await learn('killme', 'echo start; sleep 0.05; echo end', 'end');
    monitor('killme');
    const r: RunResult = await bundle.run(
      ['/bin/sh', '-c', `echo start; perl -e 'sleep 3; print "survived\\n"'; echo "perl=$?"; echo end`],
      { annotations: annotations('killme') },
    );
    await pending;
    assert.equal(
      r.stdout,
      'start\nperl=137\nend\n',
      JSON.stringify(records, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) +
        JSON.stringify(devs.map((d) => [d.what, d.value, d.reason, d.process?.pid])),
    );
    const k = records.filter((x) => x.action === 'kill' && x.target.containerId === r.cid);
    assert.equal(
      k.length,
      1,
      JSON.stringify(records, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    );
    assert.equal(k[0]!.status, 'done');
    assert.equal(k[0]!.policy, 'kill-unlearned');
    assert.equal(k[0]!.trigger.deviation, 'exe');
    assert.equal(k[0]!.reversible, false);
    console.log(`kill: ${k[0]!.latencyMs.toFixed(1)} ms after the exec`);
    // the goal is 100 ms (4-13 ms measured on an idle machine); the agent's lag behind the kernel
    // grows when the 2 shared cores are loaded, so the bound here leaves room for that
    assert.ok(k[0]!.latencyMs <= 250, `kill latency ${k[0]!.latencyMs} ms`);
  });

  it('pause: the container is frozen within 1 s, nothing runs while frozen, undo thaws it', async () => {
    const TICKS = '/tmp/bwk-ticks';
    const tickFile = join(bundle.rootfs, TICKS);
    rmSync(tickFile, { force: true });
    await learn('pauseme', 'echo start; sleep 0.05; echo end', 'end');
    monitor('pauseme');
    const running = bundle.run(
      [
        '/bin/sh',
        '-c',
        `perl -e '$|=1; open(my $f, ">>", "${TICKS}") or die; $f->autoflush(1); for (1..40) { print $f "t\\n"; select(undef,undef,undef,0.05) }'; echo done`,
      ],
      { annotations: annotations('pauseme') },
    );
    const end = Date.now() + 10_000;
    while (Date.now() < end && !records.some((x) => x.action === 'pause' && x.status !== 'skipped'))
      await sleep(10);
    await pending;
    const p = records.find((x) => x.action === 'pause' && x.status !== 'skipped')!;
    assert.ok(
      p,
      JSON.stringify(records, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    );
    assert.equal(p.status, 'done', p.error);
    assert.equal(p.reversible, true);
    console.log(`pause: frozen ${p.latencyMs.toFixed(1)} ms after the exec`);
    assert.ok(p.latencyMs <= 1000, `pause latency ${p.latencyMs} ms`);
    assert.ok(isFrozen(freezerOf(p.target.pid!)), 'the cgroup reports frozen');
    // frozen within ms of perl's exec, perl may not have opened the file yet
    const ticks = () => (existsSync(tickFile) ? readFileSync(tickFile, 'utf8').length : 0);
    const n0 = ticks();
    await sleep(500);
    assert.equal(ticks(), n0, 'nothing ran while frozen');
    assert.ok(n0 < 40 * 2, 'frozen before perl was done');
    assert.equal(responder.list().length, 1);
    assert.equal(await responder.undo(p.id), true);
    const r = await running;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'done\n');
    assert.equal(readFileSync(tickFile, 'utf8'), 't\n'.repeat(40), 'every tick ran after the thaw');
    const resumed = records.find((x) => x.undoes === p.id);
    assert.deepEqual([resumed?.action, resumed?.status, resumed?.automatic], ['resume', 'done', false]);
  });

  it('quarantine: an open connection stops delivering in the container’s own netns, and delivers again after release', async () => {
    // the container's network: its own namespace with a veth to the host (10.239.x.2 ↔ .1)
    execFileSync('ip', ['netns', 'add', NS]);
    netnsMade = true;
    execFileSync('ip', ['link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF]);
    execFileSync('ip', ['link', 'set', NS_IF, 'netns', NS]);
    execFileSync('ip', ['addr', 'add', `${NET}.1/30`, 'dev', HOST_IF]);
    execFileSync('ip', ['link', 'set', HOST_IF, 'up']);
    execFileSync('ip', ['-n', NS, 'addr', 'add', `${NET}.2/30`, 'dev', NS_IF]);
    execFileSync('ip', ['-n', NS, 'link', 'set', NS_IF, 'up']);
    execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    const got: { t: number; n: number }[] = [];
    let bytes = 0;
    server = createServer((s) => {
      s.on('data', (d: Buffer) => {
        bytes += d.length;
        got.push({ t: Date.now(), n: bytes });
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server!.listen(0, `${NET}.1`, r));
    port = (server.address() as AddressInfo).port;
    const netns = `/var/run/netns/${NS}`;
    assert.ok(existsSync(netns));
    const client = (extra: string) =>
      `perl -MIO::Socket::INET -e '$|=1; my $s = IO::Socket::INET->new(PeerAddr => "${NET}.1:${port}") or die "connect: $!"; $s->autoflush(1); for my $i (1..120) { print $s "tick\\n"; ${extra} select(undef,undef,undef,0.05) }'; echo client-done`;
    await learn('isolate', client(''), 'client-done', netns);
    monitor('isolate');
    bytes = 0;
    got.length = 0;
    const running = bundle.run(['/bin/sh', '-c', client('system("/usr/bin/id >/dev/null") if $i == 10;')], {
      annotations: annotations('isolate'),
      netns,
    });
    const end = Date.now() + 10_000;
    while (Date.now() < end && !records.some((x) => x.action === 'quarantine' && x.status !== 'skipped'))
      await sleep(10);
    await pending;
    const q = records.find((x) => x.action === 'quarantine' && x.status !== 'skipped')!;
    assert.ok(
      q,
      JSON.stringify({
        devs: devs.map((d) => [d.container.name, d.what, d.value, d.reason]),
        execs: [...execsOf.entries()].slice(-2),
      }),
    );
    assert.equal(q.status, 'done', q.error);
    const atQuarantine = bytes;
    assert.ok(atQuarantine > 0 && atQuarantine < 120 * 5, `bytes before the quarantine: ${atQuarantine}`);
    await sleep(1500);
    const during = bytes - atQuarantine;
    // at most what was already in flight when the rules went in
    assert.ok(during <= 10, `${during} bytes arrived while quarantined`);
    await responder.undo(q.id);
    const r = await running;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'client-done\n');
    // TCP retransmits what was held back (its backoff grew while the packets were dropped)
    const end2 = Date.now() + 10_000;
    while (Date.now() < end2 && bytes < 120 * 5) await sleep(50);
    assert.equal(bytes, 120 * 5, 'the connection delivered everything after the release');
    const rel = records.find((x) => x.undoes === q.id);
    assert.deepEqual([rel?.action, rel?.status], ['release', 'done']);
    console.log(
      `quarantine: in force ${q.latencyMs.toFixed(1)} ms after the exec; ${during} bytes during 1.5 s of quarantine, all ${bytes} after release`,
    );
    // the host's own network namespace was never touched
    assert.doesNotMatch(execFileSync('iptables', ['-S'], { encoding: 'utf8' }), /BULWARK-QUARANTINE/);
    assert.equal(devs.filter((d) => d.value === '/usr/bin/id').length >= 1, true);
    assert.equal(idOf('isolate'), q.trigger.workload);
  });

  it('capture: the container’s packets after the trigger are in a bounded pcap ring that stops by itself', async () => {
    assert.ok(netnsMade && port, 'the quarantine test made the netns and the server');
    const netns = `/var/run/netns/${NS}`;
    const client = (extra: string) =>
      `perl -MIO::Socket::INET -e '$|=1; my $s = IO::Socket::INET->new(PeerAddr => "${NET}.1:${port}") or die "connect: $!"; $s->autoflush(1); for my $i (1..100) { print $s "bwk-mark-$i\\n"; ${extra} select(undef,undef,undef,0.05) }'; echo client-done`;
    await learn('capture', client(''), 'client-done', netns);
    monitor('capture');
    const r = await bundle.run(['/bin/sh', '-c', client('system("/usr/bin/id >/dev/null") if $i == 10;')], {
      annotations: annotations('capture'),
      netns,
    });
    assert.equal(r.stdout, 'client-done\n', r.stderr);
    const end = Date.now() + 10_000;
    while (Date.now() < end && !records.some((x) => x.action === 'capture-end')) await sleep(50);
    const start = records.find(
      (x) => x.action === 'capture' && x.target.containerId === r.cid && x.status !== 'skipped',
    );
    const stop = records.find((x) => x.action === 'capture-end');
    assert.ok(start && stop, JSON.stringify(records.map((x) => [x.action, x.status, x.error])));
    assert.equal(start.status, 'done', start.error);
    assert.deepEqual([stop.undoes, stop.automatic, stop.status], [start.id, true, 'done']);
    const files = stop.capture?.files ?? [];
    assert.ok(files.length >= 1 && files.length <= 2, files.join(' '));
    let bytes = 0;
    let text = '';
    for (const f of files) {
      bytes += readFileSync(f).length;
      text += execFileSync('tcpdump', ['-r', f, '-A', '-n'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    }
    assert.ok(bytes <= 2 * 1_000_000 + 65536, `ring bounded: ${bytes} bytes`);
    // the ticks sent right after the trigger are there; the capture ended ~1.5 s later, long before the last tick
    assert.match(text, /bwk-mark-2\d\b/);
    assert.doesNotMatch(text, /bwk-mark-100\b/);
    console.log(
      `capture: started ${start.latencyMs.toFixed(1)} ms after the exec, ${files.length} file(s), ${bytes} bytes, stopped by itself`,
    );
  });

  it('bulwark agent --profiles DIR --mode monitor --responses FILE: the policy kills the unlearned process and the agent prints the response event', async () => {
    respondHere = false;
    const dir = join(tmp, 'profiles');
    writeProfile(dir, engine.profiles.get(idOf('killme'))!);
    const policy = join(tmp, 'responses.yaml');
    writeFileSync(policy, POLICY);
    const a = spawn(
      process.execPath,
      [...BULWARK_FROM_SOURCE, 'agent', '--profiles', dir, '--mode', 'monitor', '--responses', policy],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    agent = a;
    let out = '';
    let err = '';
    a.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    a.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => a.once('exit', (c) => r(c)));
    const end = Date.now() + 60_000;
    while (!err.includes('sensor attached')) {
      if (Date.now() > end || a.exitCode !== null) throw new Error(`agent did not start: ${err}`);
      await sleep(50);
    }
    const r = await bundle.run(
      ['/bin/sh', '-c', `echo start; perl -e 'sleep 3; print "survived\\n"'; echo "perl=$?"`],
      {
        annotations: annotations('killme'),
      },
    );
    await sleep(500);
    a.kill('SIGTERM');
    assert.equal(await exited, 0, err);
    assert.equal(r.stdout, 'start\nperl=137\n', r.stderr);
    const events = out
      .split('\n')
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as {
            kind: string;
            container?: { id: string };
            response?: { action: string; status: string; policy: string; latencyMs: number };
          },
      );
    const resp = events.filter((e) => e.kind === 'response' && e.container?.id === r.cid);
    assert.deepEqual(
      resp.map((e) => [e.response?.action, e.response?.status, e.response?.policy]),
      [['kill', 'done', 'kill-unlearned']],
      out,
    );
    assert.ok(events.some((e) => e.kind === 'deviation' && e.container?.id === r.cid));
    console.log(`agent: kill ${resp[0]!.response!.latencyMs.toFixed(1)} ms after the exec`);
  });
});
