/**
 * The upstream rules evaluated on event streams built with the event model (state tracker +
 * compiled rules), one family of stable (and sandbox) rules per test, each with a benign
 * variant that must not fire.
 */
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ParamValue, SyscallEvent } from '../../src/runtime/event.js';
import {
  PPM_EXE_FROM_MEMFD,
  PPM_EXE_UPPER_LAYER,
  PPM_O_RDONLY,
  PPM_O_TRUNC,
  PPM_O_WRONLY,
  PPM_O_CREAT,
  PPM_O_F_CREATED,
} from '../../src/runtime/flags.js';
import { formatAlert, loadRules, type Alert } from '../../src/runtime/rules/index.js';
import { StateTracker } from '../../src/runtime/state/index.js';
import { SHARED } from '../helpers/shared.js';

const R = `${SHARED}/corpora/falco/falcosecurity-rules/rules`;
const read = (f: string) => ({ name: f, content: readFileSync(f, 'utf8') });
const RULES = loadRules([read(`${R}/falco_rules.yaml`), read(`${R}/falco-sandbox_rules.yaml`)], {
  hostname: 'node-1',
  ruleMatching: 'all',
});
const CGROUP =
  '0::/system.slice/docker-3f1c2a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a.scope';
const CID = '3f1c2a9b8d7e';

/** A little world: a host init, a container runtime, processes, and the rules watching. */
class World {
  st = new StateTracker();
  alerts: Alert[] = [];
  private num = 0;
  private ts = 1_700_000_000_000_000_000n;
  private nextPid = 1000;

  emit(tid: number, type: string, dir: '>' | '<', params: Record<string, ParamValue>): SyscallEvent {
    const ev: SyscallEvent = { num: ++this.num, ts: (this.ts += 1000n), tid, cpu: 0, type, dir, params };
    this.st.process(ev);
    this.alerts.push(...RULES.evaluate(ev, this.st));
    return ev;
  }

  /** fork from `parent` then execve: returns the new pid */
  spawn(
    parent: number,
    exe: string,
    args: string[],
    o: { comm?: string; container?: boolean; tty?: number; flags?: number; cwd?: string; uid?: number } = {},
  ): number {
    const pid = this.nextPid++;
    const comm = o.comm ?? exe.slice(exe.lastIndexOf('/') + 1);
    const cgroups = o.container ? [CGROUP] : ['0::/user.slice'];
    const parentT = this.st.thread(parent);
    this.emit(parent, 'clone', '<', {
      res: pid,
      exe: parentT?.exe ?? '',
      args: parentT?.args ?? [],
      pid: parent,
      ptid: parentT?.ptid ?? 0,
      comm: parentT?.comm ?? '',
      flags: 0,
      uid: o.uid ?? 0,
      gid: 0,
      cgroups,
    });
    this.emit(pid, 'clone', '<', {
      res: 0,
      exe: parentT?.exe ?? '',
      args: [],
      pid,
      ptid: parent,
      comm: parentT?.comm ?? '',
      flags: 0,
      uid: o.uid ?? 0,
      gid: 0,
      cgroups,
      cwd: o.cwd ?? '/',
    });
    this.emit(pid, 'execve', '>', { filename: exe });
    this.emit(pid, 'execve', '<', {
      res: 0,
      exe,
      args,
      tid: pid,
      pid,
      ptid: parent,
      cwd: o.cwd ?? '/',
      comm,
      cgroups,
      env: ['PATH=/usr/bin'],
      tty: o.tty ?? 0,
      loginuid: 0xffffffff,
      uid: o.uid ?? 0,
      gid: 0,
      flags: o.flags ?? 0,
      trusted_exepath: exe,
    });
    return pid;
  }

  open(pid: number, path: string, flags: number, res = 3): void {
    this.emit(pid, 'openat', '>', { dirfd: -100, name: path, flags, mode: 0 });
    this.emit(pid, 'openat', '<', { fd: res, dirfd: -100, name: path, flags, mode: 0, dev: 0, ino: 1 });
  }

  fired(rule: string): Alert[] {
    return this.alerts.filter((a) => a.rule === rule);
  }
}

function world(): { w: World; shell: number; runc: number } {
  const w = new World();
  w.st.addThread({
    tid: 1,
    pid: 1,
    ptid: 0,
    comm: 'systemd',
    exe: '/sbin/init',
    exepath: '/usr/lib/systemd/systemd',
    args: [],
    uid: 0,
    gid: 0,
  });
  const shell = w.spawn(1, '/usr/bin/bash', [], { comm: 'bash' });
  const runc = w.spawn(1, '/usr/sbin/runc', ['run', 'ctr'], { comm: 'runc:[1:CHILD]', container: true });
  w.alerts = [];
  return { w, shell, runc };
}

describe('upstream rules on the event model', () => {
  it('loads, with every rule indexed by event type', () => {
    assert.deepEqual(RULES.errors, []);
    const types = RULES.eventTypes();
    assert.ok(types.has('execve') && types.has('openat') && types.has('ptrace'), [...types].join(','));
  });

  it('Read sensitive file untrusted: cat reading /etc/shadow in a container fires, passwd does not, a failed open does not', () => {
    const { w, runc } = world();
    const cat = w.spawn(runc, '/usr/bin/cat', ['/etc/shadow'], { container: true });
    w.open(cat, '/etc/shadow', PPM_O_RDONLY);
    const a = w.fired('Read sensitive file untrusted');
    assert.equal(a.length, 1);
    assert.equal(a[0]!.priority, 'Warning');
    assert.match(
      a[0]!.output,
      /^Sensitive file opened for reading by non-trusted program \| file=\/etc\/shadow gparent=systemd ggparent=<NA> /,
    );
    assert.match(
      a[0]!.output,
      / process=cat proc_exepath=\/usr\/bin\/cat parent=runc:\[1:CHILD\] command=cat \/etc\/shadow terminal=0$/,
    );
    assert.equal(a[0]!.output_fields['fd.name'], '/etc/shadow');
    assert.equal(a[0]!.output_fields['proc.aname[3]'], null);
    assert.equal(a[0]!.output_fields['proc.tty'], 0);
    assert.deepEqual(a[0]!.tags, [
      'T1555',
      'container',
      'filesystem',
      'host',
      'maturity_stable',
      'mitre_credential_access',
    ]);
    const passwd = w.spawn(runc, '/usr/bin/passwd', [], { container: true });
    w.open(passwd, '/etc/shadow', PPM_O_RDONLY);
    w.emit(cat, 'openat', '>', { dirfd: -100, name: '/etc/shadow', flags: PPM_O_RDONLY, mode: 0 });
    w.emit(cat, 'openat', '<', { fd: -13, dirfd: -100, name: '/etc/shadow', flags: PPM_O_RDONLY, mode: 0 });
    w.open(cat, '/etc/hostname', PPM_O_RDONLY, 4);
    assert.equal(w.fired('Read sensitive file untrusted').length, 1);
  });

  it('Terminal shell in container: bash with a tty under runc fires; without a tty, or on the host, it does not', () => {
    const { w, runc, shell } = world();
    w.spawn(runc, '/bin/bash', [], { container: true, tty: 34816 });
    const a = w.fired('Terminal shell in container');
    assert.equal(a.length, 1);
    assert.equal(a[0]!.priority, 'Notice');
    assert.match(
      a[0]!.output,
      /process=bash .* parent=runc:\[1:CHILD\] command=bash terminal=34816 exe_flags=0$/,
    );
    w.spawn(runc, '/bin/bash', ['-c', 'true'], { container: true, tty: 0 });
    w.spawn(shell, '/bin/bash', [], { tty: 34817 });
    assert.equal(w.fired('Terminal shell in container').length, 1);
  });

  it('Write below etc (sandbox): vi opening /etc/passwd for writing fires; reading it does not', () => {
    const { w, shell } = world();
    const vi = w.spawn(shell, '/usr/bin/vi', ['/etc/passwd'], { comm: 'vi' });
    w.open(vi, '/etc/passwd', PPM_O_RDONLY);
    assert.equal(w.fired('Write below etc').length, 0);
    w.open(vi, '/etc/passwd', PPM_O_WRONLY | PPM_O_TRUNC, 4);
    const a = w.fired('Write below etc');
    assert.equal(a.length, 1);
    assert.equal(a[0]!.priority, 'Error');
    assert.match(
      a[0]!.output,
      /^File below \/etc opened for writing \| file=\/etc\/passwd pcmdline=bash gparent=systemd /,
    );
  });

  it('Clear Log Activities: truncating /var/log/auth.log fires, appending does not', () => {
    const { w, shell } = world();
    const sh = w.spawn(shell, '/usr/bin/truncate', ['-s0', '/var/log/auth.log'], { comm: 'truncate' });
    w.open(sh, '/var/log/auth.log', PPM_O_WRONLY | PPM_O_CREAT | PPM_O_F_CREATED);
    assert.equal(w.fired('Clear Log Activities').length, 0);
    w.open(sh, '/var/log/auth.log', PPM_O_WRONLY | PPM_O_TRUNC, 4);
    assert.equal(w.fired('Clear Log Activities').length, 1);
  });

  it('Execution from /dev/shm fires for /dev/shm/x, not for /usr/bin/x', () => {
    const { w, runc } = world();
    w.spawn(runc, '/usr/bin/ls', [], { container: true });
    assert.equal(w.fired('Execution from /dev/shm').length, 0);
    w.spawn(runc, '/dev/shm/x', [], { container: true });
    assert.equal(w.fired('Execution from /dev/shm').length, 1);
  });

  it('Fileless execution via memfd_create and Drop and execute new binary in container follow the exe flags', () => {
    const { w, runc } = world();
    w.spawn(runc, '/usr/bin/ls', [], { container: true });
    w.spawn(runc, 'memfd:x', [], { container: true, flags: PPM_EXE_FROM_MEMFD, comm: '3' });
    w.spawn(runc, '/tmp/dropped', [], { container: true, flags: PPM_EXE_UPPER_LAYER });
    const m = w.fired('Fileless execution via memfd_create');
    assert.equal(m.length, 1);
    assert.match(m[0]!.output, /exe_flags=EXE_FROM_MEMFD$/);
    const d = w.fired('Drop and execute new binary in container');
    assert.equal(d.length, 1);
    assert.equal(d[0]!.priority, 'Critical');
  });

  it('Redirect STDOUT/STDIN to Network Connection in Container: dup2 of a connected TCP socket onto fd 0', () => {
    const { w, runc } = world();
    const sh = w.spawn(runc, '/bin/sh', ['-i'], { container: true, comm: 'sh' });
    w.emit(sh, 'socket', '>', { domain: 2, type: 1, proto: 0 });
    w.emit(sh, 'socket', '<', { fd: 3 });
    w.emit(sh, 'connect', '>', { fd: 3, addr: { family: 'inet', ip: '10.0.0.9', port: 4444 } });
    w.emit(sh, 'connect', '<', {
      res: 0,
      tuple: { family: 'inet', sip: '172.17.0.2', sport: 40000, dip: '10.0.0.9', dport: 4444 },
      fd: 3,
    });
    w.emit(sh, 'dup2', '>', { fd: 3 });
    w.emit(sh, 'dup2', '<', { res: 5, oldfd: 3, newfd: 5 });
    assert.equal(w.fired('Redirect STDOUT/STDIN to Network Connection in Container').length, 0);
    w.emit(sh, 'dup2', '>', { fd: 3 });
    w.emit(sh, 'dup2', '<', { res: 0, oldfd: 3, newfd: 0 });
    const a = w.fired('Redirect STDOUT/STDIN to Network Connection in Container');
    assert.equal(a.length, 1);
    assert.match(
      a[0]!.output,
      /fd\.sip=10\.0\.0\.9 connection=172\.17\.0\.2:40000->10\.0\.0\.9:4444 lport=40000 rport=4444 fd_type=ipv4 fd_proto=tcp/,
    );
  });

  it('PTRACE attached to process: PTRACE_ATTACH fires, PTRACE_TRACEME does not', () => {
    const { w, shell } = world();
    const g = w.spawn(shell, '/usr/bin/evil', ['1234'], { comm: 'evil' });
    w.emit(g, 'ptrace', '>', { request: 1, pid: 1234 });
    w.emit(g, 'ptrace', '<', { res: 0, addr: 0, data: 0 });
    assert.equal(w.fired('PTRACE attached to process').length, 0);
    w.emit(g, 'ptrace', '>', { request: 11, pid: 1234 });
    w.emit(g, 'ptrace', '<', { res: 0, addr: 0, data: 0 });
    // the request is an enter-event parameter: Falco evaluates it on the enter event
    assert.equal(w.fired('PTRACE attached to process').length, 1);
  });

  it('container attribution: alerts name the container id; Falco JSON and text rendering', () => {
    const { w, runc } = world();
    const cat = w.spawn(runc, '/usr/bin/cat', ['/etc/shadow'], { container: true });
    w.open(cat, '/etc/shadow', PPM_O_RDONLY);
    const a = w.fired('Read sensitive file untrusted')[0]!;
    assert.equal(w.st.current?.containerId, CID);
    const text = formatAlert(a, 'text');
    assert.match(text, /^\d\d:\d\d:\d\d\.\d{9}: Warning Sensitive file opened for reading/);
    const j = JSON.parse(formatAlert(a, 'json')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(j), [
      'hostname',
      'output',
      'output_fields',
      'priority',
      'rule',
      'source',
      'tags',
      'time',
    ]);
    assert.equal(j.hostname, 'node-1');
    assert.equal(j.rule, 'Read sensitive file untrusted');
    assert.equal(j.source, 'syscall');
    assert.equal(j.output, text);
    assert.match(String(j.time), /^2023-11-14T22:13:20\.\d{9}Z$/);
    const f = j.output_fields as Record<string, unknown>;
    assert.deepEqual(Object.keys(f), [...Object.keys(f)].sort());
    assert.equal(f['proc.aname[3]'], null);
  });
});
