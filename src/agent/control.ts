/**
 * The console's half of the agent's profiles and responses (#10). The console cannot reach the
 * agent, so the agent pulls: on each heartbeat it GETs `/api/runtime/agents/commands` (the modes
 * operators set for its cluster's workloads, and the commands waiting for its node), applies each
 * mode that differs from the one a workload is held in — without a restart — and carries out each
 * command once (undo a response: the responder's undo, whose record, naming the command, goes back
 * as a response event). It also reports its profiles (`kind: 'profile'` items through the shipper's
 * buffer): all of them at its first heartbeat, then those that learned something or changed mode.
 */
import type { Dispatcher } from 'undici';
import type { Profile, ProfileMode } from '../runtime/profile/index.js';
import { PROFILE_MODES } from '../runtime/profile/index.js';

/** What the agent pulls from the console. */
export interface ConsoleCommands {
  modes: { workload: string; mode: ProfileMode; setAt?: string }[];
  commands: { id: number; action: 'undo'; response: string; createdAt?: string }[];
}

/** One workload's profile as the console stores it (POST /api/runtime/events, kind 'profile'). */
export interface ProfileReportEvent {
  id: string;
  kind: 'profile';
  time: string;
  node: string;
  cluster?: string;
  profile: Omit<Profile, 'mode' | 'workload'> & {
    workload: string;
    workloadRef: Profile['workload'];
    mode: ProfileMode;
  };
}

/** The report of a workload's profile, in the mode it is held in. */
export function profileReport(
  id: string,
  workload: string,
  p: Profile,
  mode: ProfileMode,
  where: { node: string; cluster?: string },
): ProfileReportEvent {
  const { workload: ref, ...rest } = p;
  return {
    id,
    kind: 'profile',
    time: new Date().toISOString(),
    node: where.node,
    ...(where.cluster ? { cluster: where.cluster } : {}),
    profile: { ...rest, workload, workloadRef: ref, mode },
  };
}

export interface ConsoleControlOptions {
  server: string;
  token: string;
  node: string;
  cluster?: string;
  caCertPem?: string;
  timeoutMs?: number;
  onWarn?: (msg: string) => void;
}

/** GETs the agent's desired modes and pending commands from the console. */
export class ConsoleControl {
  private readonly url: URL;
  private dispatcher: Dispatcher | undefined;
  private lastWarn = '';

  constructor(private readonly o: ConsoleControlOptions) {
    const base = o.server.endsWith('/') ? o.server : o.server + '/';
    this.url = new URL('api/runtime/agents/commands', base);
    this.url.searchParams.set('node', o.node);
    if (o.cluster) this.url.searchParams.set('cluster', o.cluster);
  }

  private warn(m: string): void {
    if (m === this.lastWarn) return;
    this.lastWarn = m;
    (this.o.onWarn ?? ((x: string) => process.stderr.write(`bulwark agent: ${x}\n`)))(m);
  }

  /** The console's answer; undefined when it could not be asked (warned once per distinct error). */
  async pull(): Promise<ConsoleCommands | undefined> {
    const { Agent, request } = await import('undici');
    const timeout = this.o.timeoutMs ?? 10_000;
    this.dispatcher ??= new Agent({
      connect: this.o.caCertPem ? { ca: this.o.caCertPem, timeout } : { timeout },
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    try {
      const res = await request(this.url, {
        method: 'GET',
        headers: { authorization: `Bearer ${this.o.token}` },
        dispatcher: this.dispatcher,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) {
        this.warn(`cannot pull commands from ${this.url.origin}${this.url.pathname}: HTTP ${res.statusCode}`);
        return undefined;
      }
      const j = JSON.parse(text) as Partial<ConsoleCommands>;
      this.lastWarn = '';
      return {
        modes: (j.modes ?? []).filter((m) => PROFILE_MODES.includes(m.mode)),
        commands: (j.commands ?? []).filter((c) => c.action === 'undo'),
      };
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      this.warn(`cannot pull commands from ${this.url.origin}: ${err.code ?? err.message}`);
      return undefined;
    }
  }

  async close(): Promise<void> {
    await (this.dispatcher as { close?: () => Promise<void> } | undefined)?.close?.();
  }
}

/** What applying the console's answer needs from the agent. */
export interface ControlTarget {
  /** the mode a workload is held in; undefined when this agent has no profile of it */
  modeOf(workload: string): ProfileMode | undefined;
  setMode(workload: string, mode: ProfileMode): Promise<boolean>;
  /** carries out an undo command (the response record naming it goes to the console) */
  undo?(response: string, command: number): Promise<unknown>;
}

/**
 * Applies a pull: each mode that differs from the held one (returns the workloads changed), each
 * command not carried out before in this run.
 */
export async function applyCommands(
  c: ConsoleCommands,
  t: ControlTarget,
  done: Set<number>,
  onError: (e: Error) => void = () => {},
): Promise<{ modes: { workload: string; from: ProfileMode; to: ProfileMode }[]; commands: number[] }> {
  const out = {
    modes: [] as { workload: string; from: ProfileMode; to: ProfileMode }[],
    commands: [] as number[],
  };
  for (const m of c.modes) {
    const cur = t.modeOf(m.workload);
    if (cur === undefined || cur === m.mode) continue;
    try {
      if (await t.setMode(m.workload, m.mode))
        out.modes.push({ workload: m.workload, from: cur, to: m.mode });
    } catch (e) {
      onError(new Error(`cannot hold ${m.workload} in ${m.mode} mode: ${(e as Error).message}`));
    }
  }
  for (const cmd of c.commands) {
    if (done.has(cmd.id) || !t.undo) continue;
    done.add(cmd.id);
    try {
      await t.undo(cmd.response, cmd.id);
      out.commands.push(cmd.id);
    } catch (e) {
      onError(new Error(`cannot undo ${cmd.response}: ${(e as Error).message}`));
    }
  }
  return out;
}

/** Reports profiles that are new, learned something or changed mode since they were last reported. */
export class ProfileReporter {
  private readonly sent = new Map<string, string>();
  private seq = 0;

  constructor(
    private readonly idPrefix: string,
    private readonly where: { node: string; cluster?: string },
  ) {}

  due(profiles: Iterable<[string, Profile, ProfileMode]>): ProfileReportEvent[] {
    const out: ProfileReportEvent[] = [];
    for (const [id, p, mode] of profiles) {
      const key = [
        mode,
        p.zeroDrift,
        p.updated ?? '',
        p.executables.length,
        p.filesWritten.length,
        p.outbound.length,
        p.listening.length,
        p.syscalls.length,
      ].join('|');
      if (this.sent.get(id) === key) continue;
      this.sent.set(id, key);
      out.push(profileReport(`${this.idPrefix}:profile:${++this.seq}`, id, p, mode, this.where));
    }
    return out;
  }
}

export interface ControlLoopOptions {
  /** the console to pull from (absent with --nats: profiles are reported, nothing is pulled) */
  control?: ConsoleControl;
  target: ControlTarget;
  /** the agent's profiles and the mode each is held in */
  profiles?: () => Iterable<[string, Profile, ProfileMode]>;
  reporter: ProfileReporter;
  enqueue: (evs: ProfileReportEvent[]) => void;
  onInfo?: (msg: string) => void;
  onError?: (e: Error) => void;
}

/** One heartbeat's work: report what changed, pull, apply, and report the modes just changed. */
export class ControlLoop {
  private busy: Promise<void> | undefined;
  private readonly done = new Set<number>();
  readonly counters = { pulls: 0, modes: 0, commands: 0 };

  constructor(private readonly o: ControlLoopOptions) {}

  private report(): void {
    if (!this.o.profiles) return;
    const evs = this.o.reporter.due(this.o.profiles());
    if (evs.length) this.o.enqueue(evs);
  }

  private closed = false;

  /** Runs once (a tick while the previous one still runs is skipped); after close() it only reports. */
  tick(): Promise<void> {
    if (this.closed) {
      this.report();
      return Promise.resolve();
    }
    if (this.busy) return this.busy;
    this.busy = (async () => {
      try {
        this.report();
        const c = await this.o.control?.pull();
        if (this.closed) return;
        if (!c) return;
        this.counters.pulls++;
        const r = await applyCommands(c, this.o.target, this.done, this.o.onError);
        this.counters.modes += r.modes.length;
        this.counters.commands += r.commands.length;
        for (const m of r.modes)
          this.o.onInfo?.(`${m.workload}: ${m.from} → ${m.to} mode (set in the console)`);
        for (const id of r.commands) this.o.onInfo?.(`console command ${id} carried out`);
        if (r.modes.length) this.report();
      } finally {
        this.busy = undefined;
      }
    })();
    return this.busy;
  }

  /** Stops pulling (before the profiles and responses stop); later ticks only report. */
  async close(): Promise<void> {
    this.closed = true;
    await this.busy;
    await this.o.control?.close();
  }
}

/**
 * The agent's control loop over its profile runtime and responder: profiles reported through
 * `enqueue`, and with `server` the console's modes and undo commands pulled and applied.
 */
export function agentControl(o: {
  server?: string;
  token?: string;
  caCertPem?: string;
  node: string;
  cluster?: string;
  idPrefix: string;
  profiles?: {
    engine: { profiles: Map<string, Profile>; modeOf(p: Profile): ProfileMode };
    modeOf(id: string): ProfileMode | undefined;
    setMode(id: string, mode: ProfileMode): Promise<boolean>;
  };
  responder?: { undoCommand(id: string, command: number): Promise<unknown> };
  enqueue: (evs: ProfileReportEvent[]) => void;
  onInfo?: (msg: string) => void;
  onError?: (e: Error) => void;
}): ControlLoop {
  const where = { node: o.node, ...(o.cluster ? { cluster: o.cluster } : {}) };
  const pr = o.profiles;
  const rs = o.responder;
  return new ControlLoop({
    control:
      o.server && o.token
        ? new ConsoleControl({ server: o.server, token: o.token, caCertPem: o.caCertPem, ...where })
        : undefined,
    reporter: new ProfileReporter(o.idPrefix, where),
    profiles: pr
      ? () =>
          [...pr.engine.profiles].map(
            ([id, p]) => [id, p, pr.engine.modeOf(p)] as [string, Profile, ProfileMode],
          )
      : undefined,
    target: {
      modeOf: (id) => pr?.modeOf(id),
      setMode: async (id, m) => (pr ? pr.setMode(id, m) : false),
      ...(rs ? { undo: (id: string, cmd: number) => rs.undoCommand(id, cmd) } : {}),
    },
    enqueue: o.enqueue,
    onInfo: o.onInfo,
    onError: o.onError,
  });
}
