/**
 * The response actions, on a process and its container (#10):
 *   kill        SIGKILL to the process that triggered the event (not reversible)
 *   pause       the container's cgroup frozen (cgroup v2 `cgroup.freeze`, or the v1 freezer's
 *               `freezer.state` on hybrid hosts); resume thaws it
 *   quarantine  in the container's network namespace only, iptables chains that drop every packet
 *               in and out except loopback and the addresses allowed (the agent's console); release
 *               removes them. Refused when the container shares the host's network namespace.
 *   capture     tcpdump in the container's network namespace, all its interfaces, into a bounded
 *               ring of pcap files (files × MB), stopping by itself after N seconds; stop ends it early
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function killProcess(pid: number): void {
  process.kill(pid, 'SIGKILL');
}

export interface FreezeTarget {
  /** "v2": cgroup.freeze; "v1": freezer.state */
  kind: 'v1' | 'v2';
  dir: string;
}

/** The freezer of a process's cgroup: the v2 one when the unified hierarchy has it, else the v1 freezer. */
export function freezerOf(pid: number, cgroupRoot = '/sys/fs/cgroup'): FreezeTarget {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v2 = lines.find((l) => l.startsWith('0::'))?.slice(3);
  if (v2 !== undefined && v2 !== '/') {
    for (const base of [cgroupRoot, join(cgroupRoot, 'unified')]) {
      const dir = join(base, v2);
      if (existsSync(join(dir, 'cgroup.freeze'))) return { kind: 'v2', dir };
    }
  }
  const v1 = lines
    .map((l) => /^\d+:([^:]*):(.*)$/.exec(l))
    .find((m) => m?.[1]?.split(',').includes('freezer'));
  if (v1 && v1[2] !== '/') {
    const dir = join(cgroupRoot, 'freezer', v1[2]!);
    if (existsSync(join(dir, 'freezer.state'))) return { kind: 'v1', dir };
  }
  throw new Error(`no freezer for the cgroup of process ${pid} (not in a container cgroup?)`);
}

export function isFrozen(t: FreezeTarget): boolean {
  if (t.kind === 'v2') return /^frozen 1$/m.test(readFileSync(join(t.dir, 'cgroup.events'), 'utf8'));
  return readFileSync(join(t.dir, 'freezer.state'), 'utf8').trim() === 'FROZEN';
}

/** Freezes (or thaws) a cgroup and waits until the kernel reports it so (bounded by timeoutMs). */
export async function setFrozen(t: FreezeTarget, frozen: boolean, timeoutMs = 2000): Promise<void> {
  if (t.kind === 'v2') writeFileSync(join(t.dir, 'cgroup.freeze'), frozen ? '1' : '0');
  else writeFileSync(join(t.dir, 'freezer.state'), frozen ? 'FROZEN' : 'THAWED');
  const end = Date.now() + timeoutMs;
  while (isFrozen(t) !== frozen) {
    if (Date.now() > end)
      throw new Error(`${t.dir}: not ${frozen ? 'frozen' : 'thawed'} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const CHAIN_IN = 'BULWARK-QUARANTINE-IN';
const CHAIN_OUT = 'BULWARK-QUARANTINE-OUT';

/** The network namespace of a process, refusing the host's own (quarantine must never touch it). */
export function containerNetns(pid: number): string {
  const ns = `/proc/${pid}/ns/net`;
  const target = readlinkSync(ns);
  // the agent runs in the host's namespace; init's, when it can be read, is the host's too
  const host = [readlinkSync('/proc/self/ns/net')];
  try {
    host.push(readlinkSync('/proc/1/ns/net'));
  } catch {
    /* not readable here */
  }
  if (host.includes(target))
    throw new Error(`process ${pid} shares the host's network namespace: not quarantined`);
  return ns;
}

async function ipt(ns: string, args: string[]): Promise<void> {
  await run('nsenter', [`--net=${ns}`, 'iptables', '-w', ...args]);
}

export interface Quarantined {
  /** the namespace held open (so release works after the process is gone): /proc/<agent>/fd/<fd> */
  ns: string;
  fd: number;
}

/** Drops all traffic in and out of the namespace except loopback and `allow` (IPv4 addresses or CIDRs). */
export async function quarantine(pid: number, allow: string[] = []): Promise<Quarantined> {
  containerNetns(pid);
  const fd = openSync(`/proc/${pid}/ns/net`, 'r');
  const ns = `/proc/${process.pid}/fd/${fd}`;
  try {
    for (const c of [CHAIN_IN, CHAIN_OUT]) await ipt(ns, ['-N', c]).catch(() => ipt(ns, ['-F', c]));
    await ipt(ns, ['-A', CHAIN_IN, '-i', 'lo', '-j', 'ACCEPT']);
    await ipt(ns, ['-A', CHAIN_OUT, '-o', 'lo', '-j', 'ACCEPT']);
    for (const a of allow) {
      await ipt(ns, ['-A', CHAIN_IN, '-s', a, '-j', 'ACCEPT']);
      await ipt(ns, ['-A', CHAIN_OUT, '-d', a, '-j', 'ACCEPT']);
    }
    await ipt(ns, ['-A', CHAIN_IN, '-j', 'DROP']);
    await ipt(ns, ['-A', CHAIN_OUT, '-j', 'DROP']);
    await ipt(ns, ['-I', 'INPUT', '1', '-j', CHAIN_IN]);
    await ipt(ns, ['-I', 'FORWARD', '1', '-j', CHAIN_IN]);
    await ipt(ns, ['-I', 'OUTPUT', '1', '-j', CHAIN_OUT]);
  } catch (e) {
    await release({ ns, fd });
    throw e;
  }
  return { ns, fd };
}

/** Removes what quarantine() added to the namespace and closes it. */
export async function release(q: Quarantined): Promise<void> {
  const quiet = (a: string[]) => ipt(q.ns, a).catch(() => undefined);
  await quiet(['-D', 'INPUT', '-j', CHAIN_IN]);
  await quiet(['-D', 'FORWARD', '-j', CHAIN_IN]);
  await quiet(['-D', 'OUTPUT', '-j', CHAIN_OUT]);
  for (const c of [CHAIN_IN, CHAIN_OUT]) {
    await quiet(['-F', c]);
    await quiet(['-X', c]);
  }
  closeSync(q.fd);
}

export interface Capture {
  /** the directory holding the ring's pcap files */
  dir: string;
  /** the pcap files written (when stopped) */
  files: string[];
  /** resolves when tcpdump ended (by its timer or stop()) */
  done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Captures the container's traffic: tcpdump in its network namespace on every interface, into a
 * ring of `files` pcap files of `mb` MB each (the oldest overwritten: at most files × mb MB), for
 * `seconds` at most. Refused for a process in the host's network namespace.
 */
export async function capture(
  pid: number,
  dir: string,
  opts: { seconds: number; files?: number; mb?: number; snaplen?: number },
): Promise<Capture> {
  containerNetns(pid);
  mkdirSync(dir, { recursive: true });
  const fd = openSync(`/proc/${pid}/ns/net`, 'r');
  const ns = `/proc/${process.pid}/fd/${fd}`;
  const child: ChildProcess = spawn(
    'nsenter',
    [
      `--net=${ns}`,
      'tcpdump',
      // it writes raw packets (no dissection) into the agent's directory: no switch to user tcpdump
      '-Z',
      'root',
      '-i',
      'any',
      '-n',
      '-U',
      '-s',
      String(opts.snaplen ?? 262144),
      '-C',
      String(opts.mb ?? 1),
      '-W',
      String(opts.files ?? 4),
      '-w',
      join(dir, 'capture.pcap'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // tcpdump says "listening on any" once the socket is open: packets from then on are in the ring
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tcpdump did not start: ${stderr.trim()}`)), 5000);
    const check = () => {
      if (stderr.includes('listening on')) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`tcpdump exited (${code}): ${stderr.trim()}`));
    });
  }).catch((e: Error) => {
    closeSync(fd);
    throw e;
  });
  closeSync(fd); // tcpdump holds the namespace now
  const timer = setTimeout(() => child.kill('SIGINT'), opts.seconds * 1000);
  timer.unref();
  const c: Capture = {
    dir,
    files: [],
    done: done.then(() => {
      clearTimeout(timer);
      c.files = readdirSync(dir)
        .filter((n) => n.startsWith('capture.pcap'))
        .sort()
        .map((n) => join(dir, n))
        .filter((f) => statSync(f).size > 0);
    }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await c.done;
    },
  };
  return c;
}
