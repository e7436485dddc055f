/**
 * The live eBPF sensor: spawns the native loader (native/sensor, built by scripts/build-sensor.sh),
 * decodes its record stream into runtime events (../event.ts), feeds a state tracker and hands each
 * event on, with counters: records per type seen here, and the kernel's per-type events and drops
 * (ring buffer full) from the loader's periodic stats records.
 *
 *   const s = new Sensor({ state, onEvent: (ev) => rules.evaluate(ev, state) });
 *   await s.start(); ... s.counters; await s.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../core/data.js';
import type { SyscallEvent } from '../event.js';
import type { FdInfo, StateTracker } from '../state/index.js';
import { recordToEvents, type DecodeContext } from './events.js';
import { RECORD_TYPE_NAMES, RecordStream, type RecordHeader, type SensorRecord } from './record.js';

export { RecordStream, decodeRecord, RECORD_TYPE_NAMES, RecordFormatError, addrText } from './record.js';
export type { SensorRecord, RecordHeader } from './record.js';
export { recordToEvents, openFlagsToPpm, ptraceRequestToPpm } from './events.js';

/** Default loader location: <package root>/dist/native/bulwark-sensor, or $BULWARK_SENSOR. */
export function defaultSensorBinary(): string {
  if (process.env.BULWARK_SENSOR) return process.env.BULWARK_SENSOR;
  // from the package root, not this file: the CLI bundle (dist/bundle/) is less deep than dist/runtime/sensor/
  return join(PACKAGE_ROOT, 'dist', 'native', 'bulwark-sensor');
}

/** The build script (scripts/build-sensor.sh) of this package. */
export function sensorBuildScript(): string {
  return join(PACKAGE_ROOT, 'scripts', 'build-sensor.sh');
}

export interface SensorOptions {
  binary?: string;
  /** kernel record types to enable (RECORD_TYPE_NAMES minus meta); default all */
  types?: string[];
  /** a process whose events the kernel drops (default: this process, so the reader does not observe itself) */
  ignorePid?: number;
  /** loader stats period, ms (default 1000) */
  statsMs?: number;
  /** state tracker fed with every event before onEvent */
  state?: StateTracker;
  /** prime the state with the processes in /proc at start (default true when state is given) */
  scanProc?: boolean;
  onEvent?: (ev: SyscallEvent) => void;
  onStats?: (c: SensorCounters) => void;
  /**
   * The x86_64 syscall numbers the threads of a cgroup entered since the sensor started (kernel
   * type 'syscalls'), sent with each stats period when the set grew; containerId is the container
   * the state attributed that cgroup's processes to, when an exec from it was seen.
   */
  onSyscalls?: (cgroupId: bigint, containerId: string | undefined, nrs: number[]) => void;
  onError?: (e: Error) => void;
}

export interface KernelCounter {
  events: number;
  drops: number;
}

export interface SensorCounters {
  /** records decoded here, per kernel record type name */
  records: Record<string, number>;
  /** events handed on (after decoding) */
  events: number;
  /** the kernel's counters from the last stats record, per type */
  kernel: Record<string, KernelCounter>;
  /** sum of kernel drops over types */
  drops: number;
  /** stats records received */
  statsRecords: number;
  bytes: number;
}

export class Sensor {
  readonly counters: SensorCounters = {
    records: {},
    events: 0,
    kernel: {},
    drops: 0,
    statsRecords: 0,
    bytes: 0,
  };
  private child: ChildProcess | undefined;
  private readonly stream = new RecordStream();
  private readonly ctx: DecodeContext;
  private stderr = '';
  private exited: Promise<number | null> | undefined;
  private stopping = false;
  loaderPid: number | undefined;

  constructor(private readonly opts: SensorOptions = {}) {
    const state = opts.state;
    this.ctx = { bootToRealtime: 0n, num: 1, thread: state ? (tid) => state.thread(tid) : undefined };
  }

  /** Spawns the loader; resolves once the probes are attached (the META record arrived). */
  start(): Promise<void> {
    const bin = this.opts.binary ?? defaultSensorBinary();
    if (!existsSync(bin))
      return Promise.reject(
        new Error(`sensor binary ${bin} not found: build it with ${sensorBuildScript()}`),
      );
    const args = ['--ignore-pid', String(this.opts.ignorePid ?? process.pid)];
    if (this.opts.types) args.push('--types', this.opts.types.join(','));
    if (this.opts.statsMs !== undefined) args.push('--stats-ms', String(this.opts.statsMs));
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((res) => child.once('exit', (code) => res(code)));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-4000);
    });
    if (this.opts.state && this.opts.scanProc !== false) scanProc(this.opts.state);
    return new Promise((resolve, reject) => {
      let started = false;
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        if (!started) reject(new Error(`sensor exited (${code}) before attaching: ${this.stderr.trim()}`));
        else if (!this.stopping)
          this.fail(new Error(`sensor exited unexpectedly (${code ?? signal}): ${this.stderr.trim()}`));
      });
      child.stdout!.on('data', (chunk: Buffer) => {
        this.counters.bytes += chunk.length;
        let recs: SensorRecord[];
        try {
          recs = this.stream.push(chunk);
        } catch (e) {
          this.fail(e as Error);
          return;
        }
        for (const r of recs) {
          if (r.kind === 'meta') {
            this.ctx.bootToRealtime = r.bootToRealtime;
            this.loaderPid = r.loaderPid;
            if (!started) {
              started = true;
              resolve();
            }
            continue;
          }
          this.handle(r);
        }
      });
    });
  }

  /** reports a stream or loader failure: to onError, else as an 'error' on stderr (never silently) */
  private fail(e: Error): void {
    if (this.opts.onError) this.opts.onError(e);
    else process.stderr.write(`bulwark sensor: ${e.message}\n`);
  }

  /** cgroup id → container id, learned from execs */
  private readonly cgroupContainer = new Map<bigint, string>();
  /**
   * syscall sets of cgroups not yet tied to a container: a container's first syscalls (runc's
   * init, before it execs the container's process) can be reported before that exec is decoded;
   * they are reported again with the container id once an exec names it
   */
  private readonly unmappedSyscalls = new Map<bigint, number[]>();

  private handle(r: SensorRecord): void {
    if (r.kind === 'syscalls') {
      const cid = this.cgroupContainer.get(r.h.cgroupId);
      if (cid === undefined) {
        if (this.unmappedSyscalls.size >= 4096)
          this.unmappedSyscalls.delete(this.unmappedSyscalls.keys().next().value!);
        this.unmappedSyscalls.set(r.h.cgroupId, r.nrs);
      }
      this.opts.onSyscalls?.(r.h.cgroupId, cid, r.nrs);
      return;
    }
    if (r.kind === 'stats') {
      let drops = 0;
      r.counters.forEach((c, i) => {
        if (i === 0) return;
        const name = RECORD_TYPE_NAMES[i] ?? `type${i}`;
        this.counters.kernel[name] = { events: Number(c.events), drops: Number(c.drops) };
        drops += Number(c.drops);
      });
      this.counters.drops = drops;
      this.counters.statsRecords++;
      this.opts.onStats?.(this.counters);
      return;
    }
    const name = RECORD_TYPE_NAMES[r.h.type] ?? `type${r.h.type}`;
    this.counters.records[name] = (this.counters.records[name] ?? 0) + 1;
    const state = this.opts.state;
    for (const ev of recordToEvents(r, this.ctx)) {
      if (state) {
        if (!state.thread(ev.tid) && ev.type !== 'clone') primeThread(state, ev.tid, r.h);
        state.process(ev);
        if (ev.type === 'connect') ensureSocketFd(state, ev, r);
      }
      this.counters.events++;
      this.opts.onEvent?.(ev);
    }
    if (r.kind === 'exec' && state) {
      const cid = state.thread(r.h.tid)?.containerId;
      if (cid) {
        if (this.cgroupContainer.size > 65536) this.cgroupContainer.clear();
        this.cgroupContainer.set(r.h.cgroupId, cid);
        const early = this.unmappedSyscalls.get(r.h.cgroupId);
        if (early) {
          this.unmappedSyscalls.delete(r.h.cgroupId);
          this.opts.onSyscalls?.(r.h.cgroupId, cid, early);
        }
      }
    }
  }

  /**
   * Exec backstop (sensor.h): the executables policy `id` allows, as paths inside the container
   * (replacing what the policy allowed before). Execs of a cgroup bound to the policy whose file
   * is not among them get SIGKILL in the kernel before their first instruction.
   */
  backstopPolicy(id: number, paths: Iterable<string>): void {
    const lines = [`clear ${id}`];
    for (const p of new Set(paths)) lines.push(`allow ${id} ${execPathHash(p)}`);
    this.command(lines);
  }

  /** Binds a cgroup (its id, as bpf_get_current_cgroup_id gives it) to a backstop policy; 0 unbinds. */
  backstopBind(cgroupId: bigint, policy: number): void {
    this.command([policy > 0 ? `guard ${cgroupId} ${policy}` : `unguard ${cgroupId}`]);
  }

  private command(lines: string[]): void {
    const w = this.child?.stdin;
    if (!w || w.destroyed) throw new Error('the sensor is not running');
    w.write(lines.join('\n') + '\n');
  }

  /** Asks the loader for a stats record now (SIGUSR1). */
  requestStats(): void {
    this.child?.kill('SIGUSR1');
  }

  /** Stops reading the loader's output (the pipe and then the ring buffer fill: the kernel counts drops). */
  pause(): void {
    this.child?.stdout?.pause();
  }

  resume(): void {
    this.child?.stdout?.resume();
  }

  /** The loader's recent stderr (diagnostics). */
  get diagnostics(): string {
    return this.stderr;
  }

  /** Stops the loader (SIGTERM, then SIGKILL after 3 s); resolves with its exit code. */
  async stop(): Promise<number | null> {
    const c = this.child;
    if (!c || !this.exited) return null;
    this.stopping = true;
    if (c.exitCode === null && c.signalCode === null) {
      c.stdout?.resume();
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 3000);
      const code = await this.exited;
      clearTimeout(t);
      return code;
    }
    return this.exited;
  }
}

/**
 * Makes the state know the connecting fd as the socket the kernel saw (family and protocol read
 * from the socket): socket() and close() are not captured, so the entry may be missing or stale.
 */
/**
 * After a connect: when the state does not know the fd as the socket the kernel saw (a socket
 * created before the sensor started, or a missed record), registers it from the kernel's view
 * (family, protocol, both ends) so the event's fd.* fields hold.
 */
function ensureSocketFd(state: StateTracker, ev: SyscallEvent, r: SensorRecord): void {
  if (r.kind !== 'connect' || r.fd < 0) return;
  const t = state.thread(ev.tid);
  if (!t) return;
  const fam = r.lfamily || r.family;
  const type: FdInfo['type'] = fam === 2 ? 'ipv4' : fam === 10 ? 'ipv6' : fam === 1 ? 'unix' : 'unknown';
  const l4proto: FdInfo['l4proto'] =
    fam === 2 || fam === 10 ? (r.proto === 17 ? 'udp' : r.proto === 255 ? 'raw' : 'tcp') : undefined;
  const cur = t.shared.fds.get(r.fd);
  if (cur && cur.type === type) return;
  const info: FdInfo = { fd: r.fd, type, name: '', openFlags: 0 };
  if (l4proto) info.l4proto = l4proto;
  if (type === 'unix') info.name = r.path;
  else if (type === 'ipv4' || type === 'ipv6') {
    info.cip = r.laddr;
    info.cport = r.lport;
    info.sip = r.raddr;
    info.sport = r.rport;
    info.isServer = false;
    info.name = `${r.laddr}:${r.lport}->${r.raddr}:${r.rport}`;
  }
  state.addFd(ev.tid, info);
  state.currentFd = info;
  state.currentFdNum = r.fd;
}

/**
 * The exec backstop's hash of a path inside a container (sensor.h bwk_path_hash): FNV-1a 64 over
 * its components leaf first, each followed by a NUL; 16 hex digits.
 */
export function execPathHash(path: string): string {
  const comps = path.split('/').filter((c) => c !== '' && c !== '.');
  let h = 0xcbf29ce484222325n;
  const M = 0xffffffffffffffffn;
  for (const c of comps.reverse())
    for (const b of [...Buffer.from(c, 'utf8'), 0]) {
      h ^= BigInt(b);
      h = (h * 0x100000001b3n) & M;
    }
  return h.toString(16).padStart(16, '0');
}

/** Registers a thread first seen in an event, from /proc when it is still there, else the record header. */
function primeThread(state: StateTracker, tid: number, h: RecordHeader): void {
  const fromProc = procThread(h.pid, tid);
  state.addThread(
    fromProc ?? { tid, pid: h.pid, ptid: h.ppid, comm: h.comm, uid: h.uid, gid: h.gid, exe: h.comm },
  );
}

function procThread(pid: number, tid: number): Parameters<StateTracker['addThread']>[0] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rp = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, rp);
    const rest = stat.slice(rp + 2).split(' ');
    const ppid = Number(rest[1]);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0');
    let exepath = '';
    let cwd = '';
    try {
      exepath = readlinkSync(`/proc/${pid}/exe`);
    } catch {
      /* kernel thread */
    }
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      /* gone */
    }
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const uid = Number(/^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1] ?? 0xffffffff);
    const gid = Number(/^Gid:\s+\d+\s+(\d+)/m.exec(status)?.[1] ?? 0xffffffff);
    const capHex = (k: string) => {
      const m = new RegExp(`^${k}:\\s+([0-9a-f]+)`, 'm').exec(status);
      return m ? Number.parseInt(m[1]!, 16) : undefined;
    };
    const inheritable = capHex('CapInh');
    const permitted = capHex('CapPrm');
    const effective = capHex('CapEff');
    const caps =
      inheritable !== undefined && permitted !== undefined && effective !== undefined
        ? { inheritable, permitted, effective }
        : undefined;
    let loginuid = 0xffffffff;
    try {
      loginuid = Number(readFileSync(`/proc/${pid}/loginuid`, 'utf8'));
    } catch {
      /* none */
    }
    let cgroups: string[] | undefined;
    try {
      cgroups = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const m = /^\d+:([^:]*):(.*)$/.exec(l);
          return `${m?.[1] || 'cgroup2'}=${m?.[2] ?? ''}`;
        });
    } catch {
      /* gone */
    }
    return {
      tid,
      pid,
      ptid: ppid,
      comm,
      exe: argv[0] ?? comm,
      args: argv.slice(1),
      exepath,
      cwd: cwd && !cwd.endsWith('/') ? cwd + '/' : cwd,
      uid,
      gid,
      loginuid,
      cgroups,
      caps,
    };
  } catch {
    return undefined;
  }
}

/** Adds every process in /proc to the state (main threads), as libsinsp's initial /proc scan. */
export function scanProc(state: StateTracker): number {
  let n = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    if (state.thread(pid)) continue;
    const t = procThread(pid, pid);
    if (t) {
      state.addThread(t);
      n++;
    }
  }
  return n;
}
