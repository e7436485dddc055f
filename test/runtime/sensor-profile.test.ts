/**
 * Behaviour profiles live (#10): real runc containers from the Debian fixture image (overlay
 * root), the real eBPF sensor, the state tracker with the agent's runtime-state resolver (the
 * container's name and image digest come from its spec's annotations, as a container manager
 * writes them), and the profile engine.
 *
 *   discover   a workload run three times is learned: its executables (resolved paths, sha256
 *              equal to the image's files), the directories it wrote, its syscalls
 *   seccomp    the exported profile, given to runc, runs the learned workload, and an unlearned
 *              syscall (ptrace) fails with EPERM inside the container
 *   monitor    the learned workload raises no deviation; each unlearned exec raises one, an
 *              unlearned directory one per container; nothing is blocked
 *
 * Named sensor-* so the test runner runs it alone, after the other files (it observes the whole
 * machine). Needs root, runc and the sensor (built here). Containers, mounts and temp dirs are
 * removed in `after`, whatever failed.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeStateResolver } from '../../src/agent/index.js';
import {
  execGuardBuildScript,
  loadProfileDir,
  normalizeProfile,
  ProfileEngine,
  ProfileRuntime,
  toSeccomp,
  workloadId,
  writeProfile,
  type DeviationRecord,
  type Profile,
} from '../../src/runtime/profile/index.js';
import { Sensor, sensorBuildScript } from '../../src/runtime/sensor/index.js';
import { StateTracker } from '../../src/runtime/state/index.js';
import { ProfileBundle, type RunResult } from '../helpers/runc-profile.js';
import { BULWARK_FROM_SOURCE } from '../helpers/cli.js';

const DIGEST = 'sha256:' + createHash('sha256').update('bulwark-profile-fixture').digest('hex');
const annotations = (name: string) => ({
  'org.opencontainers.container.name': name,
  'org.opencontainers.image.base.digest': DIGEST,
  'org.opencontainers.image.ref.name': 'bulwark/debian:fixture',
});
const idOf = (name: string) =>
  workloadId({ container: name, image: 'bulwark/debian:fixture', imageDigest: DIGEST });

const state = new StateTracker({ resolver: new RuntimeStateResolver() });
const devs: DeviationRecord[] = [];
const refresher = new RuntimeStateResolver({ missTtlMs: 100 });
const refresh = (c: { id: string }, pid: number) => refresher.resolve({ pid, containerId: c.id });
let engine = new ProfileEngine({ onDeviation: (d) => devs.push(d), refresh });
const execsOf = new Map<string, string[]>();
let sensor: Sensor | undefined;
const bundle = new ProfileBundle();
const dir = mkdtempSync(join(tmpdir(), 'bulwark-profiles-'));
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const REPS = Number(process.env.BULWARK_PROTECT_REPS ?? 20);
const cleanups: (() => Promise<unknown> | unknown)[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the sensor delivered the container's exec of `marker` and what followed it. */
async function settle(cid: string, marker: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (Date.now() < end && !(execsOf.get(cid) ?? []).some((a) => a.includes(marker))) await sleep(20);
  sensor!.requestStats();
  await sleep(400);
}

const WORKLOAD = [
  'ls / >/dev/null',
  'cat /etc/hostname >/dev/null',
  'echo x > /tmp/w.txt',
  'grep -q root /etc/passwd',
  '/bin/echo learned-done',
].join('; ');

/** about 0.1 s of shell builtins, no exec */
const WAIT = 'i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done';

/** N execs of /bin/true, timed inside the container (ns) */
const LOOP = (n: number) =>
  `s=$(date +%s%N); i=0; while [ $i -lt ${n} ]; do /bin/true; i=$((i+1)); done; e=$(date +%s%N); echo $((e-s)); /bin/echo loop-done`;

async function run(name: string, script: string, marker: string, seccomp?: unknown): Promise<RunResult> {
  const r = await bundle.run(['/bin/sh', '-c', script], { annotations: annotations(name), seccomp });
  await settle(r.cid, marker);
  return r;
}

/** `bulwark agent --profiles DIR --mode protect -f json [extra]` as a process, once its sensor is attached. */
async function startProtectAgent(extra: string[] = []): Promise<{
  out: () => string;
  err: () => string;
  stop: () => Promise<number | null>;
}> {
  const a: ChildProcess = spawn(
    process.execPath,
    [...BULWARK_FROM_SOURCE, 'agent', '--profiles', dir, '--mode', 'protect', ...extra, '-f', 'json'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  cleanups.push(() => a.exitCode === null && a.signalCode === null && a.kill('SIGKILL'));
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
  return {
    out: () => out,
    err: () => err,
    stop: () => {
      a.kill('SIGTERM');
      return exited;
    },
  };
}

describe('behaviour profiles on real containers', { timeout: 300_000 }, () => {
  before(async () => {
    execFileSync('bash', [sensorBuildScript(), '--require'], { stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('bash', [execGuardBuildScript(), '--require'], { stdio: ['ignore', 'ignore', 'inherit'] });
    await bundle.open();
    sensor = new Sensor({
      state,
      statsMs: 200,
      onSyscalls: (_cg, cid, nrs) => engine.onSyscalls(cid, nrs),
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
    for (const c of cleanups.reverse())
      await Promise.resolve()
        .then(c)
        .catch(() => undefined);
    await sensor?.stop();
    engine.close();
    bundle.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('discover: learns the workload (resolved executables with the image files’ sha256, written dirs, syscalls)', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await run('loop', LOOP(5), 'loop-done')).code, 0);
    for (let i = 0; i < 3; i++) {
      const r = await run('app', WORKLOAD, 'learned-done');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'learned-done\n');
    }
    const p = engine.profiles.get(idOf('app'));
    assert.ok(p, `a profile for ${idOf('app')}: ${[...engine.profiles.keys()].join(', ')}`);
    const paths = p.executables.map((e) => e.path).sort();
    // /bin/sh → /usr/bin/dash, /bin/echo → /usr/bin/echo: symlinks (merged /usr, alternatives) resolved in the container
    for (const x of ['/usr/bin/dash', '/usr/bin/ls', '/usr/bin/cat', '/usr/bin/grep', '/usr/bin/echo'])
      assert.ok(paths.includes(x), `${x} in ${paths.join(' ')}`);
    assert.ok(!paths.includes('/bin/sh'), JSON.stringify(p.executables, null, 1));
    for (const e of p.executables.filter((x) => x.path.startsWith('/usr/bin/'))) {
      const want = createHash('sha256')
        .update(readFileSync(join(bundle.lower, e.path)))
        .digest('hex');
      assert.equal(e.sha256, want, `sha256 of ${e.path}`);
      assert.deepEqual(e.uids, [0]);
    }
    const ls = normalizeProfile(p).executables.find((e) => e.path === '/usr/bin/ls')!;
    assert.deepEqual(ls.parents, ['/usr/bin/dash']);
    assert.ok(p.filesWritten.includes('/tmp'), p.filesWritten.join(' '));
    for (const s of ['execve', 'openat', 'read', 'write', 'exit_group'])
      assert.ok(p.syscalls.includes(s), `${s} in ${p.syscalls.join(',')}`);
    assert.ok(!p.syscalls.includes('ptrace'));
    assert.equal(devs.length, 0);
    // stored, read back: the same profile
    writeProfile(dir, engine.profiles.get(idOf('loop'))!);
    const file = writeProfile(dir, p);
    const loaded = loadProfileDir(dir);
    assert.deepEqual(
      loaded.profiles.get(idOf('app'))?.executables,
      p.executables.sort((a, b) => (a.path < b.path ? -1 : 1)),
      JSON.stringify([loaded.profiles.get(idOf('app'))?.executables, p.executables]),
    );
    assert.equal(loaded.files.get(idOf('app')), file);
  });

  it('seccomp: the exported profile runs the learned workload under runc; an unlearned syscall fails with EPERM', async () => {
    const LEARN = `perl -e 'print "perl-ok\\n"'; /bin/echo perl-learned`;
    for (let i = 0; i < 2; i++) assert.equal((await run('perl', LEARN, 'perl-learned')).code, 0);
    const p = engine.profiles.get(idOf('perl'));
    assert.ok(p);
    // exported by the CLI, as a user does: bulwark profile export perl --seccomp -o FILE
    writeProfile(dir, p);
    const out = join(dir, '..', `seccomp-${process.pid}.json`);
    cleanups.push(() => rmSync(out, { force: true }));
    const cli = cliRun(['profile', 'export', 'perl', '--seccomp', '-p', dir, '-o', out]);
    assert.equal(cli.status, 0, cli.stderr);
    const profile = JSON.parse(readFileSync(out, 'utf8')) as ReturnType<typeof toSeccomp>['profile'];
    assert.deepEqual(profile, toSeccomp(p).profile);
    assert.ok(!profile.syscalls[0]!.names.includes('ptrace'));
    // ptrace(PTRACE_TRACEME): succeeds (0) without the filter, EPERM (1) under it
    const PROBE = `perl -e 'my $r = syscall(101,0,0,0,0); print "r=$r errno=".($r < 0 ? $!+0 : 0)."\\n"'`;
    const free = await bundle.run(['/bin/sh', '-c', PROBE]);
    assert.equal(free.stdout, 'r=0 errno=0\n', free.stderr);
    const ok = await bundle.run(['/bin/sh', '-c', LEARN], { seccomp: profile });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'perl-ok\nperl-learned\n');
    const denied = await bundle.run(['/bin/sh', '-c', PROBE], { seccomp: profile });
    assert.equal(denied.stdout, 'r=-1 errno=1\n', denied.stderr);
  });

  it('monitor: the learned workload raises nothing; each unlearned exec one deviation, a new directory one per container; nothing blocked', async () => {
    const profiles = new Map<string, Profile>(loadProfileDir(dir).profiles);
    engine.close();
    engine = new ProfileEngine({ profiles, mode: 'monitor', onDeviation: (d) => devs.push(d), refresh });
    devs.length = 0;
    const quiet = await run('app', WORKLOAD, 'learned-done');
    assert.equal(quiet.code, 0);
    assert.deepEqual(
      devs.map((d) => `${d.what} ${d.value} ${d.reason ?? ''}`),
      [],
    );
    const r = await run(
      'app',
      `${WORKLOAD}; id >/dev/null; id -u >/dev/null; echo x > /etc/bwk-a; echo y > /etc/bwk-b; /bin/echo monitor-done`,
      'monitor-done',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'learned-done\nmonitor-done\n', 'nothing was blocked');
    const mine = devs.filter((d) => d.container.id === r.cid);
    assert.deepEqual(
      mine.filter((d) => d.what !== 'syscall').map((d) => [d.what, d.value, d.mode, d.action]),
      [
        ['exe', '/usr/bin/id', 'monitor', 'none'],
        ['exe', '/usr/bin/id', 'monitor', 'none'],
        ['file', '/etc', 'monitor', 'none'],
      ],
    );
    // id(1) makes syscalls the learned workload never made (getgroups at least): each reported once
    const sys = mine.filter((d) => d.what === 'syscall').map((d) => d.value);
    assert.ok(sys.includes('getgroups'), sys.join(','));
    assert.equal(new Set(sys).size, sys.length);
    const learned = new Set(profiles.get(idOf('app'))!.syscalls);
    for (const s of sys) assert.ok(!learned.has(s), `${s} was learned`);
    assert.equal(mine[0]!.workloadId, idOf('app'));
    assert.equal(mine[0]!.process?.parent, '/usr/bin/dash');
  });

  it(`protect (bulwark agent --profiles DIR --mode protect): an unlearned binary is refused before it runs ${REPS}/${REPS}, the learned workload runs ${REPS}/${REPS}`, async () => {
    const agent = await startProtectAgent();
    const learned: RunResult[] = [];
    const refused: RunResult[] = [];
    for (let i = 0; i < REPS; i++) {
      learned.push(await bundle.run(['/bin/sh', '-c', WORKLOAD], { annotations: annotations('app') }));
      refused.push(
        await bundle.run(['/bin/sh', '-c', `/usr/bin/id; echo id=$?; ${WORKLOAD}`], {
          annotations: annotations('app'),
        }),
      );
    }
    // and 1,000 times in one container: the unlearned binary never runs (no output from it), the learned one always does
    const loop = await bundle.run(
      [
        '/bin/sh',
        '-c',
        'ran=0; ok=0; i=0; while [ $i -lt 1000 ]; do /usr/bin/id 2>/dev/null && ran=$((ran+1)); ls / >/dev/null && ok=$((ok+1)); i=$((i+1)); done; echo "ran=$ran ok=$ok"',
      ],
      { annotations: annotations('app'), timeoutMs: 120_000 },
    );
    await sleep(1000);
    const code = await agent.stop();
    const err = agent.err();
    const out = agent.out();
    assert.equal(code, 0, err);
    assert.deepEqual([loop.code, loop.stdout], [0, 'ran=0 ok=1000\n'], loop.stderr.slice(0, 500));
    const diag = `agent: ${err.split('\n')[0]} ${JSON.stringify((JSON.parse(err.trim().split('\n').pop() ?? '{}') as { stats?: { profiles?: unknown } }).stats?.profiles)}`;
    for (const r of learned) assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'learned-done\n', '']);
    for (const r of refused) {
      // the shell got EPERM from execve (exit 126): id never ran, so none of its output exists
      assert.deepEqual([r.code, r.stdout], [0, 'id=126\nlearned-done\n'], `${r.stderr}\n${diag}`);
      assert.match(r.stderr, /\/usr\/bin\/id: Operation not permitted/);
    }
    const events = out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown> & { container: { id: string } });
    // syscall deviations are left out here: the sensor's per-cgroup syscall set also holds what runc
    // init did in the container's cgroup before the entrypoint, which varies run to run (monitor test)
    const devEvents = events.filter(
      (e) => e.kind === 'deviation' && (e.deviation as { type: string }).type !== 'syscall',
    );
    for (const r of learned)
      assert.deepEqual(
        devEvents.filter((e) => e.container.id === r.cid),
        [],
        'the learned workload raised nothing',
      );
    for (const r of refused) {
      const mine = devEvents.filter((e) => e.container.id === r.cid);
      assert.deepEqual(
        mine.map((e) => [e.rule, e.workload, e.deviation, e.mode, e.action, e.priority]),
        [['deviation', idOf('app'), { type: 'exe', value: '/usr/bin/id' }, 'protect', 'blocked', 'Critical']],
        JSON.stringify(mine),
      );
    }
    const loopBlocked = devEvents.filter((e) => e.container.id === loop.cid && e.action === 'blocked');
    assert.equal(loopBlocked.length, 1000, 'one blocked deviation per refused exec');
    const stats = JSON.parse(err.trim().split('\n').pop()!) as {
      stats: { profiles: { denials: number; execguard?: { denied: number } } };
    };
    assert.equal(stats.stats.profiles.denials, REPS + 1000);
    console.log(
      `protect: ${REPS}/${REPS} containers and 1000/1000 execs in one refused before exec, ${REPS}/${REPS} learned runs and 1000/1000 learned execs unaffected; execguard ${JSON.stringify(stats.stats.profiles.execguard)}`,
    );
  });

  it(`protect without the execguard (--no-execguard): the sensor's exec backstop kills an unlearned binary before its first instruction, ${REPS}/${REPS}`, async () => {
    const agent = await startProtectAgent(['--no-execguard']);
    // the backstop covers a cgroup from its first exec the agent has seen (a few ms): the shell
    // waits that long (with builtins: `sleep` is not in the profile either) before the unlearned
    // exec; `id` would print before anything else it does
    const killed: RunResult[] = [];
    const learned: RunResult[] = [];
    for (let i = 0; i < REPS; i++) {
      killed.push(
        await bundle.run(['/bin/sh', '-c', `${WAIT}; /usr/bin/id; echo id=$?; ${WORKLOAD}`], {
          annotations: annotations('app'),
        }),
      );
      learned.push(
        await bundle.run(['/bin/sh', '-c', `${WAIT}; ${WORKLOAD}`], { annotations: annotations('app') }),
      );
    }
    await sleep(800);
    const code = await agent.stop();
    const err = agent.err();
    const out = agent.out();
    assert.equal(code, 0, err);
    for (const r of learned) assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'learned-done\n', '']);
    // SIGKILL at exec: the shell sees 137 (128 + 9) and id's output never exists
    for (const r of killed)
      assert.deepEqual([r.code, r.stdout], [0, 'id=137\nlearned-done\n'], `${r.stderr}\n${err}`);
    const devEvents = out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown> & { container: { id: string } })
      .filter((e) => e.kind === 'deviation' && (e.deviation as { type: string }).type === 'exe');
    for (const r of killed)
      assert.deepEqual(
        devEvents.filter((e) => e.container.id === r.cid).map((e) => [e.deviation, e.action]),
        [[{ type: 'exe', value: '/usr/bin/id', reason: 'killed at exec' }, 'blocked']],
        JSON.stringify(devEvents.filter((e) => e.container.id === r.cid).map((e) => e.output)),
      );
    for (const r of learned)
      assert.deepEqual(
        devEvents.filter((e) => e.container.id === r.cid),
        [],
      );
    const stats = JSON.parse(err.trim().split('\n').pop()!) as {
      stats: { profiles: { backstopKills: number } };
    };
    assert.equal(stats.stats.profiles.backstopKills, REPS);
  });

  it('protect: exec latency with the execguard vs without, and zero-drift refuses a learned binary replaced at run time', async () => {
    const N = 400;
    const timed = async (rounds: number) => {
      const ns: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const r = await bundle.run(['/bin/sh', '-c', LOOP(N)], { annotations: annotations('loop') });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^\d+\nloop-done\n$/, r.stderr);
        ns.push(Number(r.stdout.split('\n')[0]));
      }
      return ns.sort((x, y) => x - y)[Math.floor(ns.length / 2)]!;
    };
    await timed(1); // warm caches
    const off = await timed(5);
    const zd = join(mkdtempSync(join(tmpdir(), 'bulwark-profiles-zd-')), 'p');
    cpSync(dir, zd, { recursive: true });
    cleanups.push(() => rmSync(resolve(zd, '..'), { recursive: true, force: true }));
    // the same profiles with zero-drift on
    for (const f of readdirSyncYaml(zd))
      writeFileSyncText(f, readFileSync(f, 'utf8').replace('zeroDrift: false', 'zeroDrift: true'));
    const blocked: DeviationRecord[] = [];
    const rt = new ProfileRuntime({
      dir: zd,
      mode: 'protect',
      state,
      resolver: new RuntimeStateResolver(),
      onDeviation: (d) => blocked.push(d),
    });
    await rt.start();
    cleanups.push(() => rt.stop());
    engine.close();
    engine = rt.engine;
    const on = await timed(5);
    const g = await rt.guard!.stats();
    // zero-drift: /usr/bin/ls is in the profile, but this copy was written into the container (upper layer)
    const drift = await bundle.run(
      [
        '/bin/sh',
        '-c',
        'ls / >/dev/null; echo before=$?; cat /usr/bin/ls > /tmp/ls.copy; cat /tmp/ls.copy > /usr/bin/ls; ls / >/dev/null; echo after=$?',
      ],
      { annotations: annotations('app') },
    );
    await rt.stop();
    assert.equal(drift.stdout, 'before=0\nafter=126\n', drift.stderr);
    assert.deepEqual(
      blocked
        .filter((d) => d.action === 'blocked')
        .map((d) => [d.what, d.value, d.reason, d.action, d.container.id]),
      [['exe', '/usr/bin/ls', 'drift', 'blocked', drift.cid]],
    );
    const perExec = (x: number) => (x / N / 1000).toFixed(1);
    console.log(
      `exec latency (${N} execs of /bin/true in a container, median of 5): without the execguard ${perExec(off)} µs/exec, with it ${perExec(on)} µs/exec, ratio ${(on / off).toFixed(2)}x; execguard ${JSON.stringify(g)}`,
    );
    assert.ok(g && g.allowed >= 5 * N, JSON.stringify(g));
    // the goal is 1.2x (about 1.15x measured without the sensor); this run also decodes every event in this process
    assert.ok(on / off < 1.6, `exec overhead ${(on / off).toFixed(2)}x`);
  });
});

function cliRun(args: string[]) {
  return spawnSync(process.execPath, [...BULWARK_FROM_SOURCE, ...args], { cwd: ROOT, encoding: 'utf8' });
}

function readdirSyncYaml(d: string): string[] {
  return readdirSync(d)
    .filter((n) => n.endsWith('.yaml'))
    .map((n) => join(d, n));
}
function writeFileSyncText(f: string, t: string): void {
  writeFileSync(f, t);
}
