/**
 * The execguard helper (native/execguard, built by scripts/build-execguard.sh): a fanotify
 * FAN_OPEN_EXEC_PERM group that refuses executables outside a workload's profile before they run.
 * It decides each exec itself from the allow-lists sent here; it asks (`who`) only for the first
 * exec of a container cgroup it has not been told about, and reports each refusal (`deny`).
 *
 *   const g = new ExecGuard({ who: (pid, cgroup) => policyId or 0, onDeny: (d) => ... });
 *   await g.start(); g.setPolicy(1, paths, zeroDrift); g.bind(cgroup, 1); ... await g.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PACKAGE_ROOT } from '../../core/data.js';

/** Default helper location: <package root>/dist/native/bulwark-execguard, or $BULWARK_EXECGUARD. */
export function defaultExecGuardBinary(): string {
  return process.env.BULWARK_EXECGUARD ?? join(PACKAGE_ROOT, 'dist', 'native', 'bulwark-execguard');
}

export function execGuardBuildScript(): string {
  return join(PACKAGE_ROOT, 'scripts', 'build-execguard.sh');
}

export interface GuardDenial {
  policy: number;
  pid: number;
  /** "profile" (not in the allow-list), "drift" (in the overlay's upper layer), "timeout" (fail-closed) */
  reason: 'profile' | 'drift' | 'timeout';
  /** the process's cgroup (v2 path) */
  cgroup: string;
  /** the executable (inside the container); empty for a timeout */
  path: string;
}

export interface GuardStats {
  allowed: number;
  denied: number;
  held: number;
  timeouts: number;
  events: number;
}

export interface ExecGuardOptions {
  binary?: string;
  /** how long the first exec of an unknown cgroup waits for `who` (default 2000 ms) */
  timeoutMs?: number;
  /** deny (instead of allow) an exec whose cgroup was not answered in time */
  failClosed?: boolean;
  /** do not mark overlay filesystems by itself (tests mark what they need) */
  noOverlays?: boolean;
  /** the policy for a process of a cgroup the helper has not been told about (0: not guarded) */
  who: (pid: number, cgroup: string) => number | Promise<number>;
  onDeny?: (d: GuardDenial) => void;
  onError?: (e: Error) => void;
}

export class ExecGuard {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private stderr = '';
  private statsWaiters: ((s: GuardStats) => void)[] = [];
  private stopping = false;
  /** paths the helper answered `marked` for */
  readonly marked: string[] = [];
  lastStats: GuardStats | undefined;

  constructor(private readonly opts: ExecGuardOptions) {}

  /** Spawns the helper; resolves when it holds its marks ("ready"). */
  start(): Promise<void> {
    const bin = this.opts.binary ?? defaultExecGuardBinary();
    if (!existsSync(bin))
      return Promise.reject(
        new Error(`execguard binary ${bin} not found: build it with ${execGuardBuildScript()}`),
      );
    const args = ['--timeout-ms', String(this.opts.timeoutMs ?? 2000)];
    if (this.opts.failClosed) args.push('--fail-closed');
    if (this.opts.noOverlays) args.push('--no-overlays');
    const c = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = c;
    this.exited = new Promise((res) => c.once('exit', (code) => res(code)));
    c.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-4000)));
    c.stdin!.on('error', () => {});
    return new Promise((resolve, reject) => {
      let ready = false;
      c.once('error', reject);
      c.once('exit', (code) => {
        if (!ready)
          reject(new Error(`execguard exited (${code}) before it was ready: ${this.stderr.trim()}`));
        else if (!this.stopping)
          (this.opts.onError ?? ((e) => process.stderr.write(`bulwark execguard: ${e.message}\n`)))(
            new Error(`execguard exited unexpectedly (${code}): ${this.stderr.trim()}`),
          );
      });
      createInterface({ input: c.stdout! }).on('line', (l) => {
        if (l === 'ready') {
          ready = true;
          resolve();
          return;
        }
        this.line(l);
      });
    });
  }

  private line(l: string): void {
    let m: RegExpExecArray | null;
    if ((m = /^who (\d+) (.*)$/.exec(l))) {
      const cg = m[2]!;
      const pid = Number(m[1]);
      void Promise.resolve()
        .then(() => this.opts.who(pid, cg))
        .catch(() => 0)
        .then((id) => this.bind(cg, id));
    } else if ((m = /^deny (\d+) (\d+) (\w+) ([^\t]*)\t(.*)$/.exec(l))) {
      this.opts.onDeny?.({
        policy: Number(m[1]),
        pid: Number(m[2]),
        reason: m[3] as GuardDenial['reason'],
        cgroup: m[4]!,
        path: m[5]!,
      });
    } else if ((m = /^marked (.*)$/.exec(l))) {
      this.marked.push(m[1]!);
    } else if (l.startsWith('stats ')) {
      const s: Record<string, number> = {};
      for (const kv of l.slice(6).split(' ')) {
        const [k, v] = kv.split('=');
        if (k) s[k] = Number(v);
      }
      this.lastStats = s as unknown as GuardStats;
      for (const w of this.statsWaiters.splice(0)) w(this.lastStats);
    } else if (l.startsWith('markerror ')) {
      this.opts.onError?.(new Error(`execguard: cannot mark ${l.replace(/^markerror \d+ /, '')}`));
    }
  }

  private send(s: string): void {
    this.child?.stdin?.write(s);
  }

  /** Sends (or replaces) allow-list `id` (> 0): the executables' paths inside the container. */
  setPolicy(id: number, paths: Iterable<string>, zeroDrift: boolean): void {
    let s = `policy ${id} ${zeroDrift ? 1 : 0}\n`;
    for (const p of paths) if (!p.includes('\n')) s += `allow ${id} ${p}\n`;
    this.send(s + `commit ${id}\n`);
  }

  /** Processes of this cgroup (v2 path) use allow-list `id`; 0 = not guarded. */
  bind(cgroup: string, id: number): void {
    if (!cgroup.includes('\n')) this.send(`cgroup ${id} ${cgroup}\n`);
  }

  /** Guards the filesystem holding `path` too. */
  mark(path: string): void {
    if (!path.includes('\n')) this.send(`mark ${path}\n`);
  }

  /** The helper's counters (allowed, denied, held, timeouts, events). */
  stats(timeoutMs = 1000): Promise<GuardStats | undefined> {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(this.lastStats), timeoutMs);
      this.statsWaiters.push((s) => {
        clearTimeout(t);
        resolve(s);
      });
      this.send('stats\n');
    });
  }

  get diagnostics(): string {
    return this.stderr;
  }

  /** Stops the helper (stdin closed, then SIGTERM after 2 s): the kernel drops its marks with it. */
  async stop(): Promise<number | null> {
    const c = this.child;
    if (!c || !this.exited) return null;
    this.stopping = true;
    if (c.exitCode === null && c.signalCode === null) {
      c.stdin?.end();
      const t = setTimeout(() => c.kill('SIGTERM'), 2000);
      const code = await this.exited;
      clearTimeout(t);
      return code;
    }
    return this.exited;
  }
}
