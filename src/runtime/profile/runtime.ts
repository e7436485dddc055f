/**
 * Profiles in the node agent: the profile directory (loaded and validated at start, learned
 * profiles written back every few seconds and at stop), the engine fed by the sensor's events, and
 * in protect mode the execguard helper, told each protected workload's allow-list when its
 * container first execs. Deviations (from the engine and the helper's refusals) go to one callback.
 */
import type { SyscallEvent } from '../event.js';
import type { ContainerInfo, ContainerResolver, StateTracker } from '../state/index.js';
import { ProfileEngine, resolveInRoot, type DeviationRecord } from './engine.js';
import { ExecGuard, type GuardDenial } from './guard.js';
import type { Profile, ProfileMode } from './model.js';
import { loadProfileDir, writeProfile } from './store.js';

export interface ProfileRuntimeOptions {
  /** the profile directory (created when missing) */
  dir: string;
  /** mode for every workload with a profile this run (default: each profile's own) */
  mode?: ProfileMode;
  state: StateTracker;
  /** container metadata for the helper's questions (the agent's runtime-state resolver) */
  resolver: ContainerResolver;
  /**
   * another resolver for containers the state could not name yet (their runtime state was not
   * there when it first looked), best with a short miss TTL; separate from `resolver`, so a miss
   * cached here before the container's state was written never answers the helper's question
   */
  refreshResolver?: ContainerResolver;
  /** execguard options; false: never start it (protect then reports, blocks nothing) */
  guard?: false | { binary?: string; timeoutMs?: number; failClosed?: boolean; noOverlays?: boolean };
  onDeviation: (d: DeviationRecord) => void;
  onError?: (e: Error) => void;
  /** how often learned profiles are written (default 2000 ms) */
  writeEveryMs?: number;
  /**
   * the sensor's exec backstop (Sensor.backstopPolicy/backstopBind): a protected workload's
   * cgroups, met at their execs, get its allow-list in the kernel, where an exec outside it is
   * killed before its first instruction — behind the execguard, or alone where it cannot run
   */
  backstop?: {
    policy(id: number, paths: Iterable<string>): void;
    bind(cgroupId: bigint, policy: number): void;
  };
}

export class ProfileRuntime {
  readonly engine: ProfileEngine;
  guard: ExecGuard | undefined;
  private readonly files: Map<string, string>;
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly policyOf = new Map<string, number>();
  private readonly workloadOfPolicy = new Map<number, string>();
  /** cgroup path → container, from the helper's questions */
  private readonly cgroupContainer = new Map<string, ContainerInfo>();
  private readonly recentDenials = new Map<string, number>();
  /** cgroup path → the workload, a process and the container the helper asked about */
  private readonly asked = new Map<string, { wid: string; pid: number; c: ContainerInfo }>();
  /** cgroup id → the workload, a process and the container met at an exec (the backstop's bindings) */
  private readonly backstopSeen = new Map<bigint, { wid: string; pid: number; c: ContainerInfo }>();
  readonly counters = { denials: 0, policies: 0, written: 0, backstopKills: 0 };

  /** Loads and validates the directory (throws ProfileError naming file:line:column). */
  constructor(private readonly opts: ProfileRuntimeOptions) {
    const loaded = loadProfileDir(opts.dir);
    this.files = loaded.files;
    this.engine = new ProfileEngine({
      profiles: loaded.profiles,
      mode: opts.mode,
      onDeviation: opts.onDeviation,
      onLearn: (_p, id) => this.dirty.add(id),
      refresh: opts.refreshResolver
        ? (c, pid) => opts.refreshResolver!.resolve({ pid, containerId: c.id })
        : undefined,
    });
  }

  /** True when some workload is held in protect mode this run. */
  get protects(): boolean {
    return (
      this.opts.mode === 'protect' ||
      [...this.engine.profiles.values()].some((p) => this.engine.modeOf(p) === 'protect')
    );
  }

  async start(): Promise<void> {
    if (this.protects) await this.startGuard();
    this.timer = setInterval(() => this.flush(), this.opts.writeEveryMs ?? 2000);
    this.timer.unref();
  }

  /** Starts the execguard helper unless it runs or is disabled (guard: false). */
  private async startGuard(): Promise<void> {
    if (this.guard || this.opts.guard === false) return;
    const g = this.opts.guard || {};
    const guard = new ExecGuard({
      ...g,
      who: (pid, cg) => this.who(pid, cg),
      onDeny: (d) => this.denied(d),
      onError: this.opts.onError,
    });
    this.guard = guard;
    try {
      await guard.start();
    } catch (e) {
      this.guard = undefined;
      throw e;
    }
  }

  /** The mode a workload is held in now; undefined when there is no profile for it. */
  modeOf(id: string): ProfileMode | undefined {
    const p = this.engine.profiles.get(id);
    return p ? this.engine.modeOf(p) : undefined;
  }

  /**
   * Holds a workload in another mode from now on, without a restart (the console's mode switch):
   * the engine checks its next events in that mode, the profile file records it, and the execguard
   * helper — started now if this is the first protected workload — guards the workload's
   * containers it has met (their cgroups are re-bound: to the allow-list for protect, to none
   * otherwise) and those it meets from now on. False when there is no profile for the workload.
   */
  async setMode(id: string, mode: ProfileMode): Promise<boolean> {
    if (!this.engine.setMode(id, mode)) return false;
    const p = this.engine.profiles.get(id)!;
    this.dirty.add(id);
    this.flush();
    if (mode === 'protect') await this.startGuard();
    for (const [cg, k] of this.backstopSeen)
      if (k.wid === id)
        this.toBackstop((b) => b.bind(cg, mode === 'protect' ? this.policyFor(id, p, k.pid, true) : 0));
    const g = this.guard;
    if (!g) return true;
    for (const [cg, k] of this.asked) {
      if (k.wid !== id) continue;
      if (mode === 'protect') {
        g.bind(cg, this.policyFor(id, p, k.pid, true));
        this.cgroupContainer.set(cg, k.c);
      } else g.bind(cg, 0);
    }
    return true;
  }

  onEvent(ev: SyscallEvent): void {
    if (ev.killed && ev.type === 'execve') {
      this.backstopKilled(ev);
      return;
    }
    this.engine.onEvent(ev, this.opts.state);
    if (
      this.opts.backstop &&
      ev.type === 'execve' &&
      ev.cgroupId !== undefined &&
      !this.backstopSeen.has(ev.cgroupId)
    )
      this.bindBackstop(ev, ev.cgroupId);
  }

  /** A cgroup's first exec seen: its workload's allow-list into the kernel when it is protected. */
  private bindBackstop(ev: SyscallEvent, cg: bigint): void {
    const t = this.opts.state.thread(ev.tid);
    const c = t?.container;
    if (!c?.name) return; // not named yet: asked again at the cgroup's next exec
    const wp = this.engine.profileFor(c);
    if (!wp) return;
    // not bound (the sensor is gone): asked again at the cgroup's next exec
    if (
      this.engine.modeOf(wp.p) === 'protect' &&
      !this.toBackstop((b) => b.bind(cg, this.policyFor(wp.id, wp.p, ev.tid, false)))
    )
      return;
    // every cgroup met, protected or not: a mode switch re-binds them (setMode)
    this.backstopSeen.set(cg, { wid: wp.id, pid: ev.tid, c });
    if (this.backstopSeen.size > 8192) this.backstopSeen.delete(this.backstopSeen.keys().next().value!);
  }

  /** An exec the backstop killed: one blocked deviation, as for a refusal by the execguard. */
  private backstopKilled(ev: SyscallEvent): void {
    const t = this.opts.state.thread(ev.tid);
    const c = t?.container;
    const wp = c ? this.engine.profileFor(c) : undefined;
    if (!t || !c || !wp) return;
    this.counters.backstopKills++;
    this.engine.deviate(
      { id: wp.id, p: wp.p },
      c,
      { what: 'exe', value: t.exepath || t.exe, reason: 'killed at exec' },
      ev.ts,
      t,
      false,
      'blocked',
    );
  }

  onSyscalls(containerId: string | undefined, nrs: number[]): void {
    this.engine.onSyscalls(containerId, nrs);
  }

  /**
   * The allow-list of a cgroup's workload when it is protected, else 0. A container without a
   * name yet (its runtime state not readable) is asked again a few times before the answer, which
   * the helper keeps for the cgroup, is given.
   */
  private async who(pid: number, cgroup: string): Promise<number> {
    const hint = { pid, cgroups: [`cgroup2=${cgroup}`] };
    let c = this.opts.resolver.resolve(hint);
    for (let i = 0; c && !c.name && this.opts.refreshResolver && i < 3; i++) {
      await new Promise((r) => setTimeout(r, 120));
      c = this.opts.refreshResolver.resolve(hint);
    }
    if (!c) return 0;
    const wp = this.engine.profileFor(c);
    if (!wp) return 0;
    // every cgroup asked about, protected or not: a mode switch re-binds them (setMode)
    this.asked.set(cgroup, { wid: wp.id, pid, c });
    if (this.asked.size > 8192) this.asked.delete(this.asked.keys().next().value!);
    if (this.engine.modeOf(wp.p) !== 'protect') return 0;
    this.cgroupContainer.set(cgroup, c);
    if (this.cgroupContainer.size > 8192)
      this.cgroupContainer.delete(this.cgroupContainer.keys().next().value!);
    return this.policyFor(wp.id, wp.p, pid, false);
  }

  /** The helper's allow-list id of a workload, sent when new (or again, with `resend`). */
  private policyFor(wid: string, p: Profile, pid: number, resend: boolean): number {
    let id = this.policyOf.get(wid);
    if (id !== undefined && !resend) return id;
    if (id === undefined) {
      id = this.policyOf.size + 1;
      this.policyOf.set(wid, id);
      this.workloadOfPolicy.set(id, wid);
      this.counters.policies++;
    }
    const allow = this.allowList(p, pid);
    this.guard?.setPolicy(id, allow, p.zeroDrift);
    this.toBackstop((b) => b.policy(id, allow));
    return id;
  }

  /** Sends to the exec backstop, if any; false (reported) when it could not take it. */
  private toBackstop(f: (b: NonNullable<ProfileRuntimeOptions['backstop']>) => void): boolean {
    const b = this.opts.backstop;
    if (!b) return true;
    try {
      f(b);
      return true;
    } catch (e) {
      this.opts.onError?.(new Error(`exec backstop: ${(e as Error).message}`));
      return false;
    }
  }

  /**
   * The paths the helper may allow: each executable's path and aliases, and what they resolve to
   * in the asking process's root (it is alive: held in execve), so a hand-written `/bin/sh` also
   * allows the `/usr/bin/dash` the kernel opens.
   */
  private allowList(p: Profile, pid: number): Set<string> {
    const out = new Set<string>();
    const root = `/proc/${pid}/root`;
    for (const e of p.executables)
      for (const x of [e.path, ...(e.aliases ?? [])]) {
        out.add(x);
        const r = resolveInRoot(root, x);
        if (r) out.add(r);
      }
    return out;
  }

  private denied(d: GuardDenial): void {
    const wid = this.workloadOfPolicy.get(d.policy);
    const p = wid ? this.engine.profiles.get(wid) : undefined;
    if (!wid || !p) return;
    // a shell retries a refused command under each PATH entry (/usr/bin/x, then /bin/x): one refusal
    const now = Date.now();
    const k = `${d.pid}\0${d.path}`;
    const last = this.recentDenials.get(k);
    this.recentDenials.set(k, now);
    if (this.recentDenials.size > 4096) this.recentDenials.delete(this.recentDenials.keys().next().value!);
    if (last !== undefined && now - last < 1000) return;
    this.counters.denials++;
    const t = this.opts.state.thread(d.pid);
    const c = this.cgroupContainer.get(d.cgroup) ?? t?.container;
    if (!c) return;
    this.engine.deviate(
      { id: wid, p },
      c,
      { what: 'exe', value: d.path, ...(d.reason === 'drift' ? { reason: 'drift' } : {}) },
      BigInt(now) * 1_000_000n,
      t,
      false,
      'blocked',
    );
  }

  /** Writes the profiles that learned something since the last write. */
  flush(): void {
    for (const id of [...this.dirty]) {
      const p: Profile | undefined = this.engine.profiles.get(id);
      this.dirty.delete(id);
      if (!p) continue;
      try {
        this.files.set(id, writeProfile(this.opts.dir, p, this.files.get(id)));
        this.counters.written++;
      } catch (e) {
        this.opts.onError?.(new Error(`cannot write the profile of ${id}: ${(e as Error).message}`));
      }
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.guard?.stop();
    this.flush();
    this.engine.close();
  }
}
