/**
 * The live eBPF sensor: builds native/sensor (scripts/build-sensor.sh --require; clang, bpftool and
 * libbpf-dev come from scripts/install-deps.sh), starts the loader, runs real commands and checks
 * the decoded events (exec, fork, exit, openat, connect) against what the test knows independently
 * (child pids from spawn, the TCP peer port the server saw), then runs the upstream Falco rule
 * 'Read sensitive file untrusted' on the live stream, and stalls the reader to see drops counted.
 * Needs root and a kernel with BTF (tp_btf probes, ring buffer).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect as netConnect, createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SyscallEvent } from '../../src/runtime/event.js';
import { PPM_EXE_FROM_MEMFD, PPM_O_RDONLY } from '../../src/runtime/flags.js';
import { loadRules, type Alert } from '../../src/runtime/rules/index.js';
import { Sensor, sensorBuildScript } from '../../src/runtime/sensor/index.js';
import { StateTracker, type ThreadInfo } from '../../src/runtime/state/index.js';
import { SHARED } from '../helpers/shared.js';

const RULES_FILE = `${SHARED}/data/falco/falco_rules.yaml`;

interface Seen {
  ev: SyscallEvent;
  pid: number;
  comm: string;
  ptid: number;
  pcomm?: string;
  exepath: string;
  args: string[];
  fdName?: string;
  fdNum?: number;
}

const state = new StateTracker();
const rules = loadRules([{ name: RULES_FILE, content: readFileSync(RULES_FILE, 'utf8') }], {
  hostname: 'node-1',
});
const seen: Seen[] = [];
const alerts: { alert: Alert; pid: number }[] = [];
let sensor: Sensor | undefined;

/** true when the thread descends from this test process (events of other agents are ignored) */
function ours(t: ThreadInfo | undefined): boolean {
  for (let i = 0; i < 12 && t; i++) {
    const m = state.main(t);
    if (m.ptid === process.pid) return true;
    t = state.parent(m);
  }
  return false;
}

function onEvent(ev: SyscallEvent): void {
  const t = state.current;
  for (const a of rules.evaluate(ev, state)) if (ours(t)) alerts.push({ alert: a, pid: t!.pid });
  if (!t || !ours(t)) return;
  const m = state.main(t);
  seen.push({
    ev,
    pid: m.pid,
    comm: m.comm,
    ptid: m.ptid,
    pcomm: state.parent(m)?.comm,
    exepath: m.exepath,
    args: m.args,
    fdName: state.currentFd?.name,
    fdNum: state.currentFdNum,
  });
}

/** runs a command to its end; resolves with its pid */
function run(file: string, args: string[], cwd?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn(file, args, { stdio: ['ignore', 'ignore', 'inherit'], cwd });
    c.once('error', reject);
    c.once('exit', (code) => (code === 0 ? resolve(c.pid!) : reject(new Error(`${file} exited ${code}`))));
  });
}

/** waits until an event matching `pred` arrived (the pipe is asynchronous) */
async function waitFor(pred: (s: Seen) => boolean, what: string, ms = 5000): Promise<Seen> {
  const end = Date.now() + ms;
  for (;;) {
    const s = seen.find(pred);
    if (s) return s;
    if (Date.now() > end) throw new Error(`no event: ${what} (${seen.length} events from our processes)`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('live eBPF sensor', { timeout: 60_000 }, () => {
  before(async () => {
    execFileSync('bash', [sensorBuildScript(), '--require'], { stdio: ['ignore', 'ignore', 'inherit'] });
    sensor = new Sensor({ state, onEvent, statsMs: 200 });
    await sensor.start();
  });
  after(async () => {
    const code = await sensor?.stop();
    assert.equal(code, 0, `loader exit: ${sensor?.diagnostics}`);
  });

  it('exec, openat and exit of /bin/cat /etc/hostname', async () => {
    const pid = await run('/bin/cat', ['/etc/hostname']);
    const ex = await waitFor((s) => s.ev.type === 'execve' && s.ev.tid === pid, 'execve of cat');
    assert.equal(ex.ev.dir, '<');
    assert.equal(ex.ev.params.pid, pid);
    assert.equal(ex.ev.params.ptid, process.pid);
    assert.equal(ex.ev.params.comm, 'cat');
    assert.equal(ex.ev.params.exe, '/bin/cat');
    assert.deepEqual(ex.ev.params.args, ['/etc/hostname']);
    assert.equal(ex.ev.params.trusted_exepath, '/bin/cat');
    assert.equal(ex.ev.params.cwd, process.cwd() + '/');
    assert.equal(typeof ex.ev.cgroupId, 'bigint');
    assert.ok(
      ex.ev.ts > BigInt(Date.now() - 60_000) * 1_000_000n &&
        ex.ev.ts < BigInt(Date.now() + 1000) * 1_000_000n,
    );
    assert.equal(ex.comm, 'cat');
    assert.equal(ex.exepath, '/bin/cat');
    const op = await waitFor(
      (s) => s.ev.type === 'openat' && s.pid === pid && s.ev.params.name === '/etc/hostname',
      'openat /etc/hostname',
    );
    assert.equal(op.ev.dir, '<');
    assert.equal(op.ev.params.dirfd, -100);
    assert.ok((op.ev.params.flags as number) & PPM_O_RDONLY);
    const fd = op.ev.params.fd as number;
    assert.ok(Number.isInteger(fd) && fd >= 3, `fd ${fd}`);
    assert.equal(op.fdName, '/etc/hostname');
    assert.equal(op.fdNum, fd);
    const cl = await waitFor(
      (s) =>
        s.ev.type === 'close' &&
        s.ev.dir === '>' &&
        s.pid === pid &&
        s.ev.num > op.ev.num &&
        s.ev.params.fd === fd,
      'close of the fd',
    );
    assert.equal(cl.fdName, '/etc/hostname', 'the closing event still sees the fd (removal is deferred)');
    const clx = seen.find((s) => s.ev.num === cl.ev.num + 1);
    assert.equal(clx?.ev.type, 'close');
    assert.equal(clx?.ev.dir, '<');
    assert.equal(clx?.ev.params.res, 0);
    const x = await waitFor((s) => s.ev.type === 'procexit' && s.ev.tid === pid, 'procexit of cat');
    assert.equal(x.ev.params.status, 0);
    assert.ok(op.ev.num > ex.ev.num && x.ev.num > op.ev.num, 'exec < openat < exit');
  });

  it('cwd from the kernel (across mounts) resolves a relative openat', async () => {
    const pid = await run('/bin/cat', ['hostname'], '/etc');
    const ex = await waitFor((s) => s.ev.type === 'execve' && s.ev.tid === pid, 'execve of cat in /etc');
    assert.equal(ex.ev.params.cwd, '/etc/');
    const op = await waitFor(
      (s) => s.ev.type === 'openat' && s.pid === pid && s.ev.params.name === 'hostname',
      'openat hostname',
    );
    assert.equal(op.fdName, '/etc/hostname');
    // /dev/shm is its own mount (tmpfs) below /dev (devtmpfs): the walk crosses two mount points
    const pid2 = await run('/bin/true', [], '/dev/shm');
    const ex2 = await waitFor(
      (s) => s.ev.type === 'execve' && s.ev.tid === pid2,
      'execve of true in /dev/shm',
    );
    assert.equal(ex2.ev.params.cwd, '/dev/shm/');
  });

  it('a shell forking a child: clone and exec carry the parent chain', async () => {
    const sh = await run('/bin/sh', ['-c', '/bin/echo hi; exit 0']);
    const ex = await waitFor(
      (s) => s.ev.type === 'execve' && s.comm === 'echo' && s.ptid === sh,
      'execve of echo',
    );
    assert.deepEqual(ex.ev.params.args, ['hi']);
    assert.equal(ex.ev.params.ptid, sh);
    assert.equal(ex.pcomm, 'sh');
    const child = ex.ev.tid;
    assert.notEqual(child, sh);
    const cl = await waitFor((s) => s.ev.type === 'clone' && s.ev.tid === child, 'clone of the child');
    assert.equal(cl.ev.params.res, 0);
    assert.equal(cl.ev.params.ptid, sh);
    assert.equal(cl.ev.params.comm, 'sh');
    assert.ok(cl.ev.num < ex.ev.num);
    const t = state.thread(child);
    if (t) {
      // still there until its procexit is processed
      assert.equal(state.ancestor(t, 1)?.pid, sh);
      assert.equal(state.ancestor(t, 2)?.pid, process.pid);
    }
    const shEx = await waitFor((s) => s.ev.type === 'execve' && s.ev.tid === sh, 'execve of sh');
    assert.deepEqual(shEx.ev.params.args, ['-c', '/bin/echo hi; exit 0']);
  });

  it('connect to a 127.0.0.1 server: address, ports, fd, result', async () => {
    let peerPort = 0;
    const server: Server = createServer((sock) => {
      peerPort = sock.remotePort ?? 0;
      sock.resume();
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const pid = await run('/bin/bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}; echo x >&3`]);
      // bash resolves the host through NSS first: on a machine with nscd configured that is a
      // unix-socket connect (ENOENT when nscd is not running), so take the inet connect
      const c = await waitFor(
        (s) =>
          s.ev.type === 'connect' &&
          s.pid === pid &&
          (s.ev.params.addr as { family?: string } | undefined)?.family === 'inet',
        'inet connect of bash',
      );
      assert.equal(c.ev.dir, '<');
      assert.equal(c.ev.params.res, 0);
      assert.equal(c.ev.params.fd, 3);
      assert.deepEqual(c.ev.params.addr, { family: 'inet', ip: '127.0.0.1', port });
      assert.ok(peerPort > 0);
      assert.deepEqual(c.ev.params.tuple, {
        family: 'inet',
        sip: '127.0.0.1',
        sport: peerPort,
        dip: '127.0.0.1',
        dport: port,
      });
      assert.equal(c.fdName, `127.0.0.1:${peerPort}->127.0.0.1:${port}`);
      // the socket() before it, exit-paired: enter (domain, type) then exit (fd)
      const so = seen.filter((s) => s.ev.type === 'socket' && s.pid === pid && s.ev.num < c.ev.num);
      const soExit = so.filter((s) => s.ev.dir === '<').pop();
      assert.equal(soExit?.ev.params.fd, 3);
      const soEnter = seen.find((s) => s.ev.num === soExit!.ev.num - 1);
      assert.equal(soEnter?.ev.type, 'socket');
      assert.equal(soEnter?.ev.params.domain, 2);
      assert.equal((soEnter?.ev.params.type as number) & 0xf, 1);
    } finally {
      server.close();
    }
  });

  it("upstream rule 'Read sensitive file untrusted' fires on cat /etc/shadow, not on cat /etc/hostname", async () => {
    const bad = await run('/bin/cat', ['/etc/shadow']);
    const good = await run('/bin/cat', ['/etc/hostname']);
    await waitFor((s) => s.ev.type === 'procexit' && s.ev.tid === good, 'exit of the benign cat');
    await waitFor((s) => s.ev.type === 'procexit' && s.ev.tid === bad, 'exit of cat /etc/shadow');
    const fired = alerts.filter((a) => a.pid === bad);
    assert.deepEqual(
      fired.map((a) => a.alert.rule),
      ['Read sensitive file untrusted'],
    );
    const f = fired[0]!.alert;
    assert.equal(f.priority, 'Warning');
    assert.equal(f.output_fields['fd.name'], '/etc/shadow');
    assert.equal(f.output_fields['proc.name'], 'cat');
    assert.equal(f.output_fields['proc.cmdline'], 'cat /etc/shadow');
    assert.equal(f.output_fields['proc.exepath'], '/bin/cat');
    assert.equal(f.output_fields['user.uid'], 0);
    assert.deepEqual(
      alerts.filter((a) => a.pid === good),
      [],
    );
  });

  it("memfd exec: the kernel's exe flag, and the upstream 'Fileless execution via memfd_create' fires", async () => {
    // perl (perl-base, in every Debian) calls memfd_create(319 on x86_64), copies /bin/true in, execs it
    const script =
      '$^F=255; my $n="bwk"; my $fd=syscall(319,$n,0); die "memfd: $!" if $fd<0; open(my $in,"<","/bin/true") or die; ' +
      'binmode $in; local $/; my $d=<$in>; open(my $out,">&=",$fd) or die; binmode $out; syswrite($out,$d) or die; ' +
      'exec {"/proc/self/fd/$fd"} "bwk-memfd" or die "exec $!"';
    const pid = await run('/usr/bin/perl', ['-e', script]);
    const ex = await waitFor(
      (s) => s.ev.type === 'execve' && s.ev.tid === pid && s.ev.params.exe === 'bwk-memfd',
      'execve from the memfd',
    );
    assert.equal(ex.ev.params.flags, PPM_EXE_FROM_MEMFD);
    const perl = seen.find((s) => s.ev.type === 'execve' && s.ev.tid === pid && s.ev.params.comm === 'perl');
    assert.equal(perl?.ev.params.flags, 0, 'perl itself is a regular file (no overlay, no memfd)');
    await waitFor((s) => s.ev.type === 'procexit' && s.ev.tid === pid, 'exit of the memfd process');
    const fired = alerts.filter((a) => a.pid === pid).map((a) => a.alert);
    assert.deepEqual(
      fired.map((a) => a.rule),
      ['Fileless execution via memfd_create'],
    );
    // the kernel names the task after the exec'd file ("3" for /proc/self/fd/3); proc.name/cmdline use it, as in Falco
    assert.equal(fired[0]!.output_fields['proc.name'], ex.ev.params.comm);
    assert.equal(fired[0]!.output_fields['proc.pname'], 'node');
  });

  it('a perl server: bind, listen and accept with the peer and local ends from the kernel', async () => {
    // perl-base's IO::Socket::INET: binds 127.0.0.1:0, prints its port, accepts one connection
    const script =
      'use IO::Socket::INET; my $s=IO::Socket::INET->new(LocalAddr=>"127.0.0.1",LocalPort=>0,Listen=>5,Proto=>"tcp",ReuseAddr=>1) or die $!; ' +
      '$|=1; print $s->sockport,"\\n"; my $c=$s->accept; my $l=<$c>; close $c; close $s';
    const child = spawn('/usr/bin/perl', ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve) =>
      child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))),
    );
    let clientPort = 0;
    await new Promise<void>((resolve, reject) => {
      const sock = netConnect(port, '127.0.0.1', () => {
        clientPort = sock.localPort ?? 0;
        sock.end('hi\n');
      });
      sock.on('close', () => resolve());
      sock.on('error', reject);
    });
    await new Promise((r) => child.once('exit', r));
    const pid = child.pid!;
    const bind = await waitFor(
      (s) => s.ev.type === 'bind' && s.ev.dir === '<' && s.pid === pid,
      'bind of perl',
    );
    assert.equal(bind.ev.params.res, 0);
    assert.deepEqual(bind.ev.params.addr, { family: 'inet', ip: '127.0.0.1', port: 0 });
    const listen = await waitFor(
      (s) => s.ev.type === 'listen' && s.ev.dir === '>' && s.pid === pid,
      'listen of perl',
    );
    assert.equal(listen.ev.params.backlog, 5);
    const acc = await waitFor(
      (s) => (s.ev.type === 'accept' || s.ev.type === 'accept4') && s.ev.dir === '<' && s.pid === pid,
      'accept of perl',
    );
    assert.ok((acc.ev.params.fd as number) >= 0);
    assert.deepEqual(acc.ev.params.tuple, {
      family: 'inet',
      sip: '127.0.0.1',
      sport: clientPort,
      dip: '127.0.0.1',
      dport: port,
    });
    // the state registers the accepted socket as a server-side fd named client->server
    assert.equal(acc.fdName, `127.0.0.1:${clientPort}->127.0.0.1:${port}`);
  });

  it('file operations: mkdir, rename, chmod, unlink and rmdir with their paths', async () => {
    const d = `/tmp/bulwark-fileop-${process.pid}`;
    const pid = await run('/bin/sh', [
      '-c',
      `mkdir ${d} && : > ${d}/a && mv ${d}/a ${d}/b && chmod 0700 ${d}/b && rm ${d}/b && rmdir ${d}`,
    ]);
    void pid;
    const mk = await waitFor((s) => /^mkdir/.test(s.ev.type) && s.ev.params.path === d, 'mkdir');
    assert.equal(mk.ev.params.res, 0);
    assert.equal((mk.ev.params.mode as number) & 0o777, 0o777);
    const mv = await waitFor((s) => /^rename/.test(s.ev.type) && s.ev.params.newpath === `${d}/b`, 'rename');
    assert.equal(mv.ev.params.oldpath, `${d}/a`);
    assert.equal(mv.ev.params.res, 0);
    const ch = await waitFor(
      (s) => /chmod/.test(s.ev.type) && (s.ev.params.mode as number) === 0o700,
      'chmod',
    );
    assert.equal(ch.ev.params.res, 0);
    const rm = await waitFor(
      (s) => /^unlink/.test(s.ev.type) && String(s.ev.params.name ?? s.ev.params.path) === `${d}/b`,
      'unlink',
    );
    assert.equal(rm.ev.params.res, 0);
    await waitFor(
      (s) =>
        (s.ev.type === 'rmdir' && s.ev.params.path === d) ||
        (s.ev.type === 'unlinkat' && s.ev.params.name === d),
      'rmdir',
    );
  });

  it("setuid: the new uid is the thread's from then on", async () => {
    const pid = await run('/usr/bin/perl', [
      '-MPOSIX',
      '-e',
      'POSIX::setuid(65534) or die $!; exec "/bin/true"',
    ]);
    const enter = await waitFor(
      (s) => s.ev.type === 'setuid' && s.ev.dir === '>' && s.pid === pid,
      'setuid enter',
    );
    assert.equal(enter.ev.params.uid, 65534);
    await waitFor(
      (s) => s.ev.type === 'setuid' && s.ev.dir === '<' && s.pid === pid && s.ev.params.res === 0,
      'setuid exit',
    );
    const ex = await waitFor(
      (s) => s.ev.type === 'execve' && s.ev.tid === pid && s.ev.params.comm === 'true',
      'exec of true',
    );
    assert.equal(ex.ev.params.uid, 65534);
  });

  it('counts events per type in the kernel, and counts drops when the reader stalls', async () => {
    const s = sensor!;
    const before = s.counters.statsRecords;
    s.requestStats();
    for (let i = 0; i < 100 && s.counters.statsRecords === before; i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.ok(s.counters.kernel.exec!.events >= 6, JSON.stringify(s.counters.kernel));
    assert.ok(s.counters.kernel.openat!.events >= s.counters.records.openat! * 0.5);
    const dropsBefore = s.counters.kernel.openat!.drops;
    // stall the reader while a child opens a file 400k times: pipe, loader buffer and the 16 MiB ring fill
    s.pause();
    const t0 = Date.now();
    await run(process.execPath, [
      '-e',
      "const fs=require('fs');for(let i=0;i<400000;i++){try{fs.closeSync(fs.openSync('/nonexistent-bulwark-'+i%10,'r'))}catch{}}",
    ]);
    const stall = Date.now() - t0;
    s.resume();
    const end = Date.now() + 10_000;
    while (s.counters.kernel.openat!.drops === dropsBefore && Date.now() < end)
      await new Promise((r) => setTimeout(r, 50));
    const dropped = s.counters.kernel.openat!.drops - dropsBefore;
    assert.ok(
      dropped > 0,
      `no drops counted after a ${stall} ms stall: ${JSON.stringify(s.counters.kernel)}`,
    );
    assert.equal(s.counters.drops >= dropped, true);
    console.log(
      `stall ${stall} ms: ${dropped} openat records dropped and counted; kernel counters ${JSON.stringify(s.counters.kernel)}`,
    );
  });
});
