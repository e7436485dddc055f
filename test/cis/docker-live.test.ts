/**
 * CIS Docker sections 1, 2, 4.1, 4.6 and 5 against a real dockerd (Debian's docker.io), with
 * docker-bench-security's own check functions as the oracle.
 *
 * The test starts its own dockerd (own --data-root, --exec-root, --pidfile and unix socket in a
 * temp dir, --iptables=false --bridge=none), loads the Debian fixture image with `docker load`, and
 * runs one hardened container and one misconfigured one (host namespaces, added capabilities,
 * seccomp/apparmor unconfined, /etc and the Docker socket mounted read-write, a host device, no
 * limits, restart on-failure:10, a cgroup parent, --userns host). docker-bench's main script is
 * not in ../shared/corpora/docker-bench (only functions/ and tests/), so a small driver sources its
 * functions and tests/5_container_runtime.sh and calls check_5_1 ... check_5_32 with `containers`
 * set to one container at a time — its checks' code, run as is against that dockerd.
 * Everything is stopped and removed at the end, also when the test fails.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  collectFacts,
  evaluateBenchmark,
  loadBuiltinBenchmark,
  type CheckState,
} from '../../src/cis/index.js';
import { debianImage } from '../fixtures/index.js';
import { CORPORA } from '../helpers/shared.js';

const run = promisify(execFile);
const haveDockerd =
  spawnSync('sh', ['-c', 'command -v dockerd && command -v docker'], { encoding: 'utf8' }).status === 0;
const skip = haveDockerd ? false : 'dockerd (Debian docker.io) not installed';

// (no "dockerd" in the path: docker-bench finds the daemon with pgrep -f dockerd)
const tmp = mkdtempSync(join(tmpdir(), 'bw-cis-live-'));
const sock = join(tmp, 'docker.sock');
const dockerHost = `unix://${sock}`;
let daemon: ChildProcess | undefined;
const ids: Record<'hardened' | 'misconfig', string> = { hardened: '', misconfig: '' };

async function docker(...args: string[]): Promise<string> {
  const r = await run('docker', args, {
    env: { ...process.env, DOCKER_HOST: dockerHost },
    maxBuffer: 16 << 20,
  });
  return r.stdout.trim();
}

async function waitForDaemon(ms: number): Promise<void> {
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    if (daemon?.exitCode !== null && daemon?.exitCode !== undefined)
      throw new Error(
        `dockerd exited ${daemon.exitCode}: ${readFileSync(join(tmp, 'dockerd.log'), 'utf8').slice(-2000)}`,
      );
    try {
      await docker('version', '--format', '{{.Server.Version}}');
      return;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`dockerd did not answer on ${sock}: ${last}`);
}

before(async () => {
  if (skip) return;
  const img = await debianImage();
  mkdirSync(join(tmp, 'data'));
  const log = join(tmp, 'dockerd.log');
  writeFileSync(log, '');
  const { openSync } = await import('node:fs');
  const fd = openSync(log, 'a');
  daemon = spawn(
    'dockerd',
    [
      '--data-root',
      join(tmp, 'data'),
      '--exec-root',
      join(tmp, 'exec'),
      '--pidfile',
      join(tmp, 'docker.pid'),
      '-H',
      dockerHost,
      '--iptables=false',
      '--ip-masq=false',
      '--bridge=none',
      '--containerd-namespace',
      'bw-cis-test',
      '--containerd-plugins-namespace',
      'bw-cis-test-plugins',
    ],
    { stdio: ['ignore', fd, fd], detached: true },
  );
  await waitForDaemon(60_000);
  await docker('load', '-i', img.dockerArchive);
  const image = (await docker('images', '--format', '{{.Repository}}:{{.Tag}}')).split('\n')[0]!;
  ids.hardened = await docker(
    'run',
    '-d',
    '--name',
    'bw-hardened',
    '--network',
    'none',
    '--read-only',
    '--memory',
    '64m',
    '--cpu-shares',
    '512',
    '--pids-limit',
    '64',
    '--cap-drop',
    'all',
    '--security-opt',
    'no-new-privileges',
    '--restart',
    'on-failure:3',
    '--ulimit',
    'nofile=1024:2048',
    '--user',
    '1000:1000',
    '--health-cmd',
    'true',
    '--health-interval',
    '2s',
    image,
    'sleep',
    '600',
  );
  ids.misconfig = await docker(
    'run',
    '-d',
    '--name',
    'bw-misconfig',
    '--network',
    'host',
    '--pid',
    'host',
    '--ipc',
    'host',
    '--uts',
    'host',
    '--cap-add',
    'SYS_ADMIN',
    '--cap-add',
    'NET_ADMIN',
    '--security-opt',
    'seccomp=unconfined',
    '--security-opt',
    'apparmor=unconfined',
    '-v',
    '/etc:/host-etc',
    '-v',
    `${sock}:/var/run/docker.sock`,
    '--device',
    '/dev/null:/dev/xnull',
    '--restart',
    'on-failure:10',
    '--userns',
    'host',
    '--cgroup-parent',
    'bw-cis-test.slice',
    image,
    'sleep',
    '600',
  );
});

after(async () => {
  if (daemon && daemon.exitCode === null) {
    try {
      await docker('rm', '-f', 'bw-hardened', 'bw-misconfig');
    } catch {
      // containers may not exist when the set-up failed early
    }
    const exited = new Promise<void>((r) => daemon!.once('exit', () => r()));
    daemon.kill('SIGTERM');
    const timer = setTimeout(() => daemon?.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
  // anything dockerd left mounted under the temp dir (overlay, shm) goes before the dir
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(tmp))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * docker-bench's verdicts (check id → PASS / WARN / INFO / NOTE) of its check functions `fns`,
 * with `containers` set to one container (or none) and `images` to the daemon's images.
 */
function dockerBench(containerId: string, fns: string[]): Map<string, string> {
  const driver = join(tmp, 'docker-bench-driver.sh');
  writeFileSync(
    driver,
    `#!/bin/bash
DB="$1"; containers="$2"; shift 2
logger=$(mktemp); nocolor=nocolor; printremediation=0; limit=0
. "$DB/functions/output_lib.sh"
. "$DB/functions/helper_lib.sh"
for t in "$DB"/tests/[1245]_*.sh; do . "$t"; done
req_programs 'docker'
images=$(docker images -q)
logcheckresult() { echo "RESULT \${id} $1"; }
for fn in "$@"; do $fn 2>/dev/null </dev/null | grep '^RESULT'; done
rm -f "$logger" "$logger.json"
`,
  );
  const r = spawnSync('bash', [driver, join(CORPORA, 'docker-bench'), containerId, ...fns], {
    encoding: 'utf8',
    env: { ...process.env, DOCKER_HOST: dockerHost },
    timeout: 180_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^RESULT (\S+) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

const SECTION5 = Array.from({ length: 32 }, (_, i) => `check_5_${i + 1}`);

/** Bulwark's verdict in docker-bench's vocabulary: FAIL → WARN, WARN/INFO (advisory) → INFO. */
function asDockerBench(state: CheckState): string {
  return state === 'PASS' ? 'PASS' : state === 'FAIL' ? 'WARN' : 'INFO';
}
const normalize = (s: string) => (s === 'NOTE' ? 'INFO' : s);

test(
  'section 5: Bulwark equals docker-bench-security on every check, for a hardened and a misconfigured container',
  { skip, timeout: 600_000 },
  async () => {
    const bench = loadBuiltinBenchmark('docker');
    const facts = await collectFacts(bench, { root: '/', dockerHost });
    assert.equal(facts.containers.length, 2, 'the two test containers are the only ones running');
    const report = evaluateBenchmark(bench, facts);
    const section5 = report.groups.find((g) => g.id === '5')!.checks;
    assert.equal(section5.length, 32);
    const summary: Record<string, Record<string, number>> = {};
    for (const [which, id] of Object.entries(ids)) {
      const oracle = dockerBench(id, SECTION5);
      assert.equal(oracle.size, 32, `docker-bench reported ${oracle.size} checks for ${which}`);
      const diffs: string[] = [];
      const counts: Record<string, number> = {};
      for (const c of section5) {
        const mine = c.scope === 'container' ? c.subjects!.find((s) => s.id === id)?.state : c.state;
        assert.ok(mine, `${c.id}: no verdict for ${which}`);
        const got = asDockerBench(mine);
        const want = normalize(oracle.get(c.id) ?? 'missing');
        counts[want] = (counts[want] ?? 0) + 1;
        if (got !== want) diffs.push(`${c.id} ${which}: bulwark ${mine}, docker-bench ${oracle.get(c.id)}`);
      }
      summary[which] = counts;
      assert.deepEqual(diffs, [], `verdicts differ for ${which}`);
    }
    // not vacuous: the misconfigured container fails many checks, the hardened one passes almost all
    assert.ok(summary.misconfig!.WARN! >= 15, JSON.stringify(summary));
    assert.ok(summary.hardened!.PASS! >= 27, JSON.stringify(summary));
    assert.ok((summary.hardened!.WARN ?? 0) <= 2, JSON.stringify(summary));
  },
);

test(
  'the CLI reads the same dockerd: per-container verdicts in JSON, --exit-code on failures',
  { skip, timeout: 120_000 },
  async () => {
    const { main } = await import('../../src/cli/main.js');
    const outFile = join(tmp, 'report.json');
    const code = await main([
      'node',
      'bulwark',
      '-q',
      'benchmark',
      'docker',
      '--docker-host',
      dockerHost,
      '--check',
      '5.5,5.10,5.13',
      '-f',
      'json',
      '-o',
      outFile,
      '--exit-code',
      '4',
    ]);
    assert.equal(code, 4);
    const r = JSON.parse(readFileSync(outFile, 'utf8')) as {
      groups: { checks: { id: string; state: string; subjects: { name: string; state: string }[] }[] }[];
    };
    const checks = r.groups.flatMap((g) => g.checks);
    const byName = (id: string) =>
      Object.fromEntries(checks.find((c) => c.id === id)!.subjects.map((s) => [s.name, s.state]));
    assert.deepEqual(byName('5.10'), { 'bw-hardened': 'PASS', 'bw-misconfig': 'FAIL' });
    assert.deepEqual(byName('5.13'), { 'bw-hardened': 'PASS', 'bw-misconfig': 'FAIL' });
    assert.deepEqual(byName('5.5'), { 'bw-hardened': 'PASS', 'bw-misconfig': 'PASS' });
    assert.ok(existsSync(outFile));
  },
);

test(
  'the agent’s scheduled run on the same dockerd reaches the console: status ok, the misconfigured container named (#14)',
  { skip, timeout: 120_000 },
  async () => {
    const { BenchmarkScheduler, Shipper } = await import('../../src/agent/index.js');
    const { Client, startConsole } = await import('../server/helpers.js');
    const evs: import('../../src/agent/index.js').BenchmarkRunEvent[] = [];
    await new BenchmarkScheduler({
      benchmarks: [{ target: 'docker', dockerHost }],
      node: 'docker-node',
      idPrefix: 'docker-node:run',
      enqueue: (e) => evs.push(...e),
    }).runAll();
    assert.equal(evs.length, 1);
    const b = evs[0]!.benchmark;
    assert.equal(b.status, 'ok', b.error);
    // the same verdicts as the CLI's evaluation of the same dockerd
    const bench = loadBuiltinBenchmark('docker');
    const direct = evaluateBenchmark(bench, await collectFacts(bench, { dockerHost }));
    const states = (r: typeof direct) =>
      Object.fromEntries(
        r.groups
          .flatMap((g) => g.checks)
          .filter((c) => c.id.startsWith('5.'))
          .map((c) => [c.id, c.state]),
      );
    assert.deepEqual(states(b.report!), states(direct));
    const con = await startConsole('sqlite');
    try {
      const admin = await new Client(con.base).login();
      const token = (await admin.post('/api/tokens', { name: 'agent', role: 'operator' })).body
        .token as string;
      const sh = new Shipper({
        server: con.base,
        token,
        bufferDir: join(tmp, 'agent-buffer'),
        onWarn: () => {},
      });
      sh.start();
      sh.enqueue(evs);
      const end = Date.now() + 15_000;
      while (!sh.drained && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      await sh.stop(0);
      const d = await admin.get('/api/benchmarks/node?node=docker-node&target=docker&status=FAIL&section=5');
      assert.equal(d.status, 200, JSON.stringify(d.body));
      assert.equal(d.body.summary.status, 'ok');
      const c510 = (d.body.checks as { id: string; subjects: { name: string; state: string }[] }[]).find(
        (c) => c.id === '5.10',
      )!;
      assert.deepEqual(Object.fromEntries(c510.subjects.map((x) => [x.name, x.state])), {
        'bw-hardened': 'PASS',
        'bw-misconfig': 'FAIL',
      });
    } finally {
      await con.close();
    }
  },
);

test(
  'sections 1 (host) and 2 (daemon), 4.1 and 4.6: Bulwark equals docker-bench-security on the same dockerd',
  { skip, timeout: 300_000 },
  async () => {
    const bench = loadBuiltinBenchmark('docker');
    const report = evaluateBenchmark(bench, await collectFacts(bench, { root: '/', dockerHost }));
    const byId = new Map(report.groups.flatMap((g) => g.checks).map((c) => [c.id, c]));
    const fns = [
      ...Array.from({ length: 18 }, (_, i) => `check_1_1_${i + 1}`),
      'check_1_2_1',
      'check_1_2_2',
      ...Array.from({ length: 18 }, (_, i) => `check_2_${i + 1}`),
      'check_4_6',
    ];
    const oracle = dockerBench('', fns);
    const diffs: string[] = [];
    for (const [id, want] of oracle) {
      const c = byId.get(id)!;
      if (asDockerBench(c.state) !== normalize(want))
        diffs.push(`${id}: bulwark ${c.state} (${c.reason ?? c.expected ?? ''}), docker-bench ${want}`);
    }
    // 4.1 is per container in docker-bench too
    for (const [which, cid] of Object.entries(ids)) {
      const want = dockerBench(cid, ['check_4_1']).get('4.1')!;
      const mine = byId.get('4.1')!.subjects!.find((s) => s.id === cid)!.state;
      if (asDockerBench(mine) !== normalize(want))
        diffs.push(`4.1 ${which}: bulwark ${mine}, docker-bench ${want}`);
    }
    assert.equal(oracle.size, fns.length);
    assert.deepEqual(diffs, []);
  },
);
