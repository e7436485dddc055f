/**
 * The profile engine: fed the runtime event stream (after the state tracker processed each event),
 * it attributes every exec, file write, connect, bind and syscall set to its workload and, by the
 * workload profile's mode, learns it (discover) or reports it as a deviation (monitor, protect).
 *
 *   execve '<'                 executable: path resolved inside the container (symlinks followed),
 *                              sha256 of the file, the parent's executable, the uid
 *   open/openat/openat2 '<'    a file opened for writing or created: its directory
 *   connect '<'                an outbound endpoint (res 0 or EINPROGRESS)
 *   bind '<'                   a listening endpoint (a non-zero local port)
 *   syscall sets (sensor)      syscall names
 *
 * Deviations: each exec outside the profile is one deviation (each is an action a process took);
 * a file directory, endpoint or syscall outside it is reported once per container (a container
 * writing the same unlearned directory a thousand times is one finding, not a thousand).
 * Blocking is not done here: in protect mode the execguard helper (./guard.ts) refuses execs
 * before they run, and the exported seccomp profile (./seccomp.ts) refuses syscalls.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, lstatSync, openSync, readSync, readlinkSync } from 'node:fs';
import { dirname, posix } from 'node:path';
import type { SockTuple, SyscallEvent } from '../event.js';
import { returnValue } from '../event.js';
import { PPM_O_CREAT, PPM_O_RDWR, PPM_O_TRUNC, PPM_O_WRONLY, PPM_EXE_UPPER_LAYER } from '../flags.js';
import type { ContainerInfo, StateTracker, ThreadInfo } from '../state/index.js';
import {
  emptyProfile,
  workloadId,
  workloadOf,
  type Deviation,
  type Profile,
  type ProfileMode,
  type WorkloadRef,
} from './model.js';
import { normalizeProfile } from './yaml.js';
import { RUNTIME_NOISE_SYSCALLS, syscallNames } from './seccomp.js';

/** A deviation with where it happened, as the agent ships it (docs/runtime-profiles.md). */
export interface DeviationRecord extends Deviation {
  /** event time, ns since the epoch */
  ts: bigint;
  workload: WorkloadRef;
  workloadId: string;
  container: ContainerInfo;
  mode: ProfileMode;
  /** what was done: "none" (reported only) or "blocked" (refused before it ran) */
  action: 'none' | 'blocked';
  process?: { pid: number; exe: string; cmdline: string; uid: number; parent?: string };
}

export interface EngineOptions {
  /** profiles by workload id (loaded from the profile directory); new workloads are added here */
  profiles?: Map<string, Profile>;
  /** mode for every workload this run (default: each profile's own mode; new workloads discover) */
  mode?: ProfileMode;
  onDeviation?: (d: DeviationRecord) => void;
  /** a profile learned something new (the store writes it, debounced) */
  onLearn?: (p: Profile, id: string) => void;
  /** hash executables while learning (default true) */
  hash?: boolean;
  /**
   * fresh metadata for a container the state knows only by id (its runtime state was not readable
   * when the state first looked, e.g. before runc wrote it): asked at its execs until it has a name
   */
  refresh?: (c: ContainerInfo, pid: number) => ContainerInfo | undefined;
}

const EINPROGRESS = -115;
const MAX_HASH_BYTES = 256 * 2 ** 20;

/** Resolves `path` inside a root directory (e.g. /proc/PID/root): symlinks followed, absolute targets kept inside it. */
export function resolveInRoot(root: string, path: string): string | undefined {
  let todo = posix.normalize(path).split('/').filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (todo.length) {
    const c = todo.shift()!;
    if (c === '.') continue;
    if (c === '..') {
      done.pop();
      continue;
    }
    const rel = '/' + [...done, c].join('/');
    let st;
    try {
      st = lstatSync(root + rel);
    } catch {
      return undefined;
    }
    if (!st.isSymbolicLink()) {
      done.push(c);
      continue;
    }
    if (++hops > 40) return undefined;
    const target = readlinkSync(root + rel);
    const parts = target.split('/').filter(Boolean);
    if (target.startsWith('/')) done.length = 0;
    todo = [...parts, ...todo];
  }
  return '/' + done.join('/');
}

function sha256File(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_HASH_BYTES) return undefined;
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
    }
    return h.digest('hex');
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Endpoint text of a connect tuple's remote end, or undefined for what profiles do not track. */
export function endpointOf(
  proto: string,
  t: { family: SockTuple['family']; ip?: string; port?: number; path?: string },
): string | undefined {
  if (t.family === 'unix') return t.path ? `unix:${t.path}` : undefined;
  if (t.family !== 'inet' && t.family !== 'inet6') return undefined;
  if (!t.ip || t.port === undefined) return undefined;
  return t.family === 'inet6' ? `${proto}/[${t.ip}]:${t.port}` : `${proto}/${t.ip}:${t.port}`;
}

/** True when an endpoint is allowed by a profile entry ("*" for any address or port). */
export function endpointAllowed(entries: readonly string[], ep: string): boolean {
  if (entries.includes(ep)) return true;
  const m = /^(tcp|udp)\/(\[[^\]]*\]|[^:]+):(\d+)$/.exec(ep);
  if (!m) return false;
  return entries.some((e) => {
    const n = /^(tcp|udp)\/(\*|\[[^\]]*\]|[^:]+):(\*|\d+)$/.exec(e);
    return !!n && n[1] === m[1] && (n[2] === '*' || n[2] === m[2]) && (n[3] === '*' || n[3] === m[3]);
  });
}

/** True when a written file's directory is covered ("/dir" exactly, or "/dir/**" for the subtree). */
export function dirAllowed(entries: readonly string[], dir: string): boolean {
  for (const e of entries) {
    if (e === dir) return true;
    if (e.endsWith('/**')) {
      const base = e.slice(0, -3) || '/';
      if (dir === base || dir.startsWith(base === '/' ? '/' : base + '/')) return true;
    }
  }
  return false;
}

/** The profile's path for an executable known by a path it was exec'd as (an alias), else the path itself. */
export function canonicalExe(p: Profile, path: string): string {
  if (!path || p.executables.some((e) => e.path === path)) return path;
  return p.executables.find((e) => e.aliases?.includes(path))?.path ?? path;
}

interface Seen {
  /** deviations already reported for this container (file/network/syscall) */
  reported: Set<string>;
}

export class ProfileEngine {
  readonly profiles: Map<string, Profile>;
  /** counters: events looked at, learned additions, deviations */
  readonly counters = { execs: 0, learned: 0, deviations: 0 };
  private readonly seen = new Map<string, Seen>();
  /** pid → resolved executable path (for parents) */
  private readonly exeOf = new Map<number, string>();
  /** `${containerId}:${path}` → resolved path */
  private readonly resolved = new Map<string, string>();
  /** `${dev}:${ino}:${mtime}:${size}` → sha256 */
  private readonly hashes = new Map<string, string>();
  /** container id → its metadata (for syscall sets, which carry only the id) */
  private readonly containers = new Map<string, ContainerInfo>();
  /**
   * container id → its root directory held open, so paths still resolve (and files hash) after
   * the process that exec'd is gone, and the processes of it alive; closed 5 s after the last exits
   */
  private readonly roots = new Map<string, { fd: number; live: Set<number>; closeAt?: number }>();
  private sweepIn = 256;

  constructor(private readonly opts: EngineOptions = {}) {
    this.profiles = opts.profiles ?? new Map();
  }

  /** The mode a workload is held in this run. */
  modeOf(p: Profile): ProfileMode {
    // a workload met for the first time this run has no reviewed profile: it is learned, never enforced
    if (this.fresh.has(p)) return 'discover';
    return this.forced.get(p) ?? this.opts.mode ?? p.mode;
  }

  /**
   * Sets a workload's mode for this run, also for a workload learned for the first time in this
   * run (it is then enforced like a reviewed profile); false when there is no such profile.
   */
  setMode(id: string, mode: ProfileMode): boolean {
    const p = this.profiles.get(id);
    if (!p) return false;
    this.fresh.delete(p);
    p.mode = mode;
    // over the run's --mode too: a mode set for one workload (from the console) is the one it is held in
    this.forced.set(p, mode);
    return true;
  }

  /** Modes set for one workload this run (setMode), above the run's `mode`. */
  private readonly forced = new WeakMap<Profile, ProfileMode>();

  /** Profiles created this run (no file existed for the workload). */
  private readonly fresh = new WeakSet<Profile>();

  /**
   * The container's metadata, asked again (refresh) at an exec when the state has no name for it:
   * by its processes' first exec the runtime's state is written, whereas events of the runtime's
   * own setup in the container's cgroup can come before it (and the state caches that miss).
   */
  private named(c: ContainerInfo, t: ThreadInfo, ev: SyscallEvent): ContainerInfo {
    if (c.name || !this.opts.refresh) return c;
    const known = this.containers.get(c.id);
    if (known?.name) {
      t.container = known;
      return known;
    }
    if (ev.type !== 'execve') return c;
    const up = this.opts.refresh(c, t.pid);
    if (!up?.name) return c;
    t.container = up;
    return up;
  }

  /** The workload profile of a container (created in discover mode when missing). */
  profileFor(c: ContainerInfo): { id: string; p: Profile } | undefined {
    const w = workloadOf(c);
    if (!w) return undefined;
    const id = workloadId(w);
    let p = this.profiles.get(id);
    if (!p) {
      p = emptyProfile(w);
      this.fresh.add(p);
      this.profiles.set(id, p);
    }
    return { id, p };
  }

  /** Handles one event; call after state.process(ev). */
  onEvent(ev: SyscallEvent, state: StateTracker): void {
    if (--this.sweepIn <= 0) this.sweep();
    if (ev.type === 'procexit') {
      this.exeOf.delete(ev.tid);
      const t = state.current;
      const r = t && t.tid === t.pid ? this.roots.get(t.containerId) : undefined;
      if (r && r.live.delete(t!.pid) && r.live.size === 0) r.closeAt = Date.now() + 5000;
      return;
    }
    if (ev.dir !== '<') return;
    const t = state.current ?? state.thread(ev.tid);
    if (!t) return;
    if (ev.type === 'clone') {
      const parent = this.exeOf.get(Number(ev.params.ptid));
      if (parent && t.tid === t.pid) this.exeOf.set(t.pid, parent);
      if (t.container && t.containerId !== 'host' && t.tid === t.pid) this.pin(t);
      return;
    }
    const c0 = t.container;
    if (!c0 || t.containerId === 'host') {
      if (ev.type === 'execve') this.exeOf.set(t.pid, t.exepath);
      return;
    }
    if (
      ev.type !== 'execve' &&
      ev.type !== 'open' &&
      ev.type !== 'openat' &&
      ev.type !== 'openat2' &&
      ev.type !== 'connect' &&
      ev.type !== 'bind'
    )
      return;
    const c2 = this.named(c0, t, ev);
    this.containers.set(c2.id, c2);
    if (this.containers.size > 8192) this.containers.delete(this.containers.keys().next().value!);
    const wp = this.profileFor(c2);
    if (!wp) return;
    const c = c2;
    switch (ev.type) {
      case 'execve':
        this.pin(t);
        if (returnValue(ev) === 0) this.exec(ev, t, state, c, wp);
        return;
      case 'open':
      case 'openat':
      case 'openat2': {
        const fd = returnValue(ev);
        const flags = Number(ev.params.flags ?? 0);
        if (fd === undefined || fd < 0) return;
        if (!(flags & (PPM_O_WRONLY | PPM_O_CREAT | PPM_O_TRUNC)) && (flags & PPM_O_RDWR) !== PPM_O_RDWR)
          return;
        const name = state.currentFd?.name ?? String(ev.params.name ?? '');
        if (!name.startsWith('/')) return;
        const dir = dirname(posix.normalize(name));
        this.check(
          wp,
          c,
          ev,
          t,
          'file',
          dir,
          (p) => dirAllowed(p.filesWritten, dir),
          (p) => p.filesWritten.push(dir),
        );
        return;
      }
      case 'connect': {
        const res = returnValue(ev);
        if (res !== 0 && res !== EINPROGRESS) return;
        const tu = ev.params.tuple as SockTuple | undefined;
        if (!tu) return;
        const proto = state.currentFd?.l4proto === 'udp' ? 'udp' : 'tcp';
        const ep = endpointOf(proto, { family: tu.family, ip: tu.dip, port: tu.dport, path: tu.path });
        if (!ep) return;
        this.check(
          wp,
          c,
          ev,
          t,
          'network',
          ep,
          (p) => endpointAllowed(p.outbound, ep),
          (p) => p.outbound.push(ep),
        );
        return;
      }
      case 'bind': {
        if (returnValue(ev) !== 0) return;
        const a = ev.params.addr as { family: SockTuple['family']; ip?: string; port?: number } | undefined;
        if (!a || a.family === 'unix' || !a.port) return;
        const fdn = state.currentFdNum;
        const fdi = fdn !== undefined ? t.shared.fds.get(fdn) : undefined;
        const ep = endpointOf(fdi?.l4proto === 'udp' ? 'udp' : 'tcp', a);
        if (!ep) return;
        this.check(
          wp,
          c,
          ev,
          t,
          'network',
          ep,
          (p) => endpointAllowed(p.listening, ep),
          (p) => p.listening.push(ep),
          'listen',
        );
        return;
      }
    }
  }

  /** The sensor's syscall set of a container (cumulative since the sensor started). */
  onSyscalls(containerId: string | undefined, nrs: number[], ts = BigInt(Date.now()) * 1_000_000n): void {
    if (!containerId) return;
    const c = this.containers.get(containerId);
    if (!c) return;
    const wp = this.profileFor(c);
    if (!wp) return;
    const names = syscallNames(nrs);
    const mode = this.modeOf(wp.p);
    if (mode === 'discover') {
      const have = new Set(wp.p.syscalls);
      const add = names.filter((n) => !have.has(n));
      if (add.length) {
        wp.p.syscalls.push(...add);
        this.learned(wp.p, wp.id, add.length);
      }
      return;
    }
    const have = new Set(wp.p.syscalls);
    for (const n of names)
      if (!have.has(n) && !RUNTIME_NOISE_SYSCALLS.has(n))
        this.deviate(wp, c, { what: 'syscall', value: n }, ts, undefined, true);
  }

  private learned(p: Profile, id: string, n: number): void {
    this.counters.learned += n;
    p.updated = new Date().toISOString();
    this.opts.onLearn?.(p, id);
  }

  private check(
    wp: { id: string; p: Profile },
    c: ContainerInfo,
    ev: SyscallEvent,
    t: ThreadInfo,
    what: Deviation['what'],
    value: string,
    allowed: (p: Profile) => boolean,
    add: (p: Profile) => void,
    reason?: string,
  ): void {
    if (allowed(wp.p)) return;
    if (this.modeOf(wp.p) === 'discover') {
      add(wp.p);
      this.learned(wp.p, wp.id, 1);
      return;
    }
    const d: Deviation = { what, value };
    if (reason) d.reason = reason;
    this.deviate(wp, c, d, ev.ts, t, true);
  }

  /** Reports a deviation (once per container and value unless `once` is false). */
  deviate(
    wp: { id: string; p: Profile },
    c: ContainerInfo,
    d: Deviation,
    ts: bigint,
    t: ThreadInfo | undefined,
    once: boolean,
    action: DeviationRecord['action'] = 'none',
  ): void {
    if (once) {
      const s = this.seen.get(c.id) ?? { reported: new Set<string>() };
      if (this.seen.size > 8192 && !this.seen.has(c.id)) this.seen.delete(this.seen.keys().next().value!);
      this.seen.set(c.id, s);
      const k = `${d.what}\0${d.value}\0${d.reason ?? ''}`;
      if (s.reported.has(k)) return;
      s.reported.add(k);
    }
    this.counters.deviations++;
    const rec: DeviationRecord = {
      ...d,
      ts,
      workload: wp.p.workload,
      workloadId: wp.id,
      container: c,
      mode: this.modeOf(wp.p),
      action,
    };
    if (t)
      rec.process = {
        pid: t.pid,
        exe: t.exepath || t.exe,
        cmdline: [t.comm, ...t.args].join(' '),
        uid: t.uid,
        ...(this.exeOf.get(t.ptid) ? { parent: this.exeOf.get(t.ptid) } : {}),
      };
    this.opts.onDeviation?.(rec);
  }

  /** Holds the container's root directory open (from a live process of it) and counts the process as live. */
  private pin(t: ThreadInfo): void {
    const r = this.roots.get(t.containerId);
    if (r) {
      r.live.add(t.pid);
      r.closeAt = undefined;
      return;
    }
    let fd: number;
    try {
      fd = openSync(`/proc/${t.pid}/root`, 'r');
    } catch {
      return; // gone already
    }
    if (this.roots.size >= 1024) {
      const [k, old] = this.roots.entries().next().value!;
      closeSync(old.fd);
      this.roots.delete(k);
    }
    this.roots.set(t.containerId, { fd, live: new Set([t.pid]) });
  }

  /** Closes the roots of containers whose processes all exited a while ago. */
  private sweep(): void {
    this.sweepIn = 256;
    const now = Date.now();
    for (const [k, r] of this.roots)
      if (r.closeAt !== undefined && r.closeAt <= now) {
        closeSync(r.fd);
        this.roots.delete(k);
      }
  }

  /** Closes every root held open. */
  close(): void {
    for (const r of this.roots.values()) closeSync(r.fd);
    this.roots.clear();
  }

  /** A root directory of the container that is still there: the one held open, the process's own, else another live process's. */
  private rootOf(t: ThreadInfo, state: StateTracker): string | undefined {
    const held = this.roots.get(t.containerId);
    if (held) return `/proc/self/fd/${held.fd}`;
    const ok = (pid: number) => {
      try {
        readlinkSync(`/proc/${pid}/root`);
        return true;
      } catch {
        return false;
      }
    };
    if (ok(t.pid)) return `/proc/${t.pid}/root`;
    for (const o of state.threads.values())
      if (o.containerId === t.containerId && o.pid !== t.pid && o.tid === o.pid && ok(o.pid))
        return `/proc/${o.pid}/root`;
    return undefined;
  }

  /**
   * The executable's path inside the container, symlinks resolved (cached per workload: replicas
   * of one image resolve alike); the sensor's path, flagged unresolved, when no process of the
   * container is left to resolve it in.
   */
  resolveExe(
    t: ThreadInfo,
    state: StateTracker,
    path: string,
    wid: string,
  ): { path: string; root?: string; resolved: boolean } {
    const key = `${wid}\0${path}`;
    const root = this.rootOf(t, state);
    const hit = this.resolved.get(key);
    if (hit) return { path: hit, root, resolved: true };
    if (!root || !path.startsWith('/')) return { path, root, resolved: false };
    const r = resolveInRoot(root, path);
    if (!r) return { path, root, resolved: false };
    if (this.resolved.size > 65536) this.resolved.clear();
    this.resolved.set(key, r);
    return { path: r, root, resolved: true };
  }

  /** `${workload id}\0${path}` of executables learned under the sensor's path, not yet resolved */
  private readonly unresolved = new Set<string>();

  private hashOf(file: string): string | undefined {
    let st;
    try {
      st = lstatSync(file);
    } catch {
      return undefined;
    }
    const k = `${st.dev}:${st.ino}:${st.mtimeMs}:${st.size}`;
    const hit = this.hashes.get(k);
    if (hit) return hit;
    const h = sha256File(file);
    if (h) {
      if (this.hashes.size > 16384) this.hashes.clear();
      this.hashes.set(k, h);
    }
    return h;
  }

  private exec(
    ev: SyscallEvent,
    t: ThreadInfo,
    state: StateTracker,
    c: ContainerInfo,
    wp: { id: string; p: Profile },
  ): void {
    this.counters.execs++;
    const p = wp.p;
    const raw = String(ev.params.trusted_exepath ?? t.exepath ?? ev.params.exe ?? '');
    const r = this.resolveExe(t, state, raw, wp.id);
    // a path that could not be resolved (every process of the container gone) is known by the aliases learned
    const path = r.resolved ? r.path : canonicalExe(p, raw);
    const parent = canonicalExe(p, this.exeOf.get(t.ptid) ?? state.parent(t)?.exepath ?? '');
    this.exeOf.set(t.pid, path);
    const mode = this.modeOf(p);
    const ukey = `${wp.id}\0${raw}`;
    if (!r.resolved) this.unresolved.add(ukey);
    else if (raw !== path && this.unresolved.delete(ukey)) {
      // learned before under the path as exec'd: now that it resolves, the entry takes the real path
      const old = p.executables.findIndex((e) => e.path === raw);
      if (old >= 0) {
        const [o] = p.executables.splice(old, 1);
        const cur = p.executables.find((e) => e.path === path);
        if (cur) {
          cur.parents.push(...o!.parents.filter((x) => !cur.parents.includes(x)));
          cur.uids.push(...o!.uids.filter((x) => !cur.uids.includes(x)));
        } else p.executables.push({ ...o!, path });
        this.learned(p, wp.id, 1);
      }
    }
    const entry = p.executables.find((e) => e.path === path);
    const hash = this.opts.hash !== false && r.root && r.resolved ? this.hashOf(r.root + path) : undefined;
    const upper = (Number(ev.params.flags ?? 0) & PPM_EXE_UPPER_LAYER) !== 0;
    if (mode === 'discover') {
      const alias = r.resolved && raw !== path && raw.startsWith('/') ? raw : undefined;
      if (!entry) {
        p.executables.push({
          path,
          ...(alias ? { aliases: [alias] } : {}),
          ...(hash ? { sha256: hash } : {}),
          parents: parent ? [parent] : [],
          uids: [t.uid],
        });
        this.learned(p, wp.id, 1);
        return;
      }
      let changed = false;
      if (alias && !(entry.aliases ?? []).includes(alias)) {
        entry.aliases = [...(entry.aliases ?? []), alias];
        changed = true;
      }
      if (hash && !entry.sha256) {
        entry.sha256 = hash;
        changed = true;
      }
      if (parent && !entry.parents.includes(parent) && !entry.parents.includes('*')) {
        entry.parents.push(parent);
        changed = true;
      }
      if (!entry.uids.includes(t.uid)) {
        entry.uids.push(t.uid);
        changed = true;
      }
      if (changed) this.learned(p, wp.id, 1);
      return;
    }
    let d: Deviation | undefined;
    if (p.zeroDrift && upper) d = { what: 'exe', value: path, reason: 'drift' };
    else if (!entry) d = { what: 'exe', value: path };
    else if (hash && entry.sha256 && hash !== entry.sha256)
      d = { what: 'exe', value: path, reason: 'sha256' };
    else if (
      parent &&
      entry.parents.length &&
      !entry.parents.includes('*') &&
      !entry.parents.includes(parent)
    )
      d = { what: 'exe', value: path, reason: 'parent' };
    else if (entry.uids.length && !entry.uids.includes(t.uid))
      d = { what: 'exe', value: path, reason: 'uid' };
    if (d) this.deviate(wp, c, d, ev.ts, t, false);
  }

  /** Profiles normalized (sorted, deduplicated), for writing. */
  snapshot(): Map<string, Profile> {
    return new Map([...this.profiles].map(([k, v]) => [k, normalizeProfile(v)]));
  }
}
