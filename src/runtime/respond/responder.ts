/**
 * The responder (#10): each alert or deviation is matched against the response policy; the
 * actions of every matching rule run at once, and each one is audited as a response record
 * (kind 'response' when shipped): what was done, to which container and process, for which event
 * and rule, how long after the event, and whether it can be undone. Pause and quarantine are
 * reversible (undo(id), or by themselves after pauseSeconds / quarantineSeconds); undoing is a
 * record too. stop() undoes what is still active, so an agent that stops leaves no container
 * frozen or cut off.
 */
import { existsSync } from 'node:fs';
import type { ContainerInfo } from '../state/index.js';
import { join } from 'node:path';
import {
  capture,
  freezerOf,
  killProcess,
  quarantine,
  release,
  setFrozen,
  type Capture,
  type FreezeTarget,
  type Quarantined,
} from './actions.js';
import { ruleMatches, type ResponseAction, type ResponseRule, type TriggerEvent } from './policy.js';

export interface Trigger extends TriggerEvent {
  /** the triggering event's id (as shipped) */
  id: string;
  /** its time, ns since the epoch (the kernel's, for sensor events) */
  ts: bigint;
  /** the process that caused it */
  pid?: number;
  /**
   * other processes of its container (parent first): pause and quarantine act on the container,
   * through the first of these still alive when the process itself is gone
   */
  containerPids?: number[];
  container?: ContainerInfo;
}

export interface ResponseRecord {
  id: string;
  /** when the action completed, ns since the epoch */
  ts: bigint;
  /** 'undo': an undo asked for (by the console) of a response not in force here */
  action: ResponseAction | 'resume' | 'release' | 'capture-end' | 'undo';
  status: 'done' | 'failed' | 'skipped';
  /** the policy rule (and where it is defined) */
  policy: string;
  source: string;
  trigger: { id: string; kind: string; rule?: string; workload?: string; deviation?: string };
  target: { containerId?: string; pid?: number };
  /** from the triggering event to the action's completion */
  latencyMs: number;
  /** can be undone (undo(id)) */
  reversible: boolean;
  /** capture: the pcap files (at capture-end) and their directory */
  capture?: { dir: string; files?: string[] };
  /** for resume/release/capture-end: the response undone or ended, and whether by itself (timer) */
  undoes?: string;
  automatic?: boolean;
  /** the console command this undo carried out (its id in the console) */
  command?: number;
  error?: string;
}

interface Active {
  rec: ResponseRecord;
  undo: (extra?: Partial<ResponseRecord>) => Promise<ResponseRecord>;
  timer?: NodeJS.Timeout;
  /** undone by its own timer */
  auto?: boolean;
}

export interface ResponderOptions {
  rules: ResponseRule[];
  onResponse: (r: ResponseRecord) => void;
  /** addresses quarantine keeps reachable (the console the agent ships to) */
  quarantineAllow?: string[];
  /** response record ids: prefix + sequence */
  idPrefix?: string;
  /** where captures go: <dir>/<response id>/capture.pcap* (default /var/lib/bulwark/captures) */
  captureDir?: string;
}

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

export class Responder {
  private seq = 0;
  /** active reversible responses by id */
  private readonly active = new Map<string, Active>();
  /** container id + action of what is active (one pause, one quarantine per container) */
  private readonly byContainer = new Map<string, string>();
  readonly counters = { triggered: 0, done: 0, failed: 0, skipped: 0, undone: 0 };

  constructor(private readonly opts: ResponderOptions) {}

  /** Runs the actions of every rule matching the event; resolves with the records made. */
  async handle(t: Trigger): Promise<ResponseRecord[]> {
    const out: ResponseRecord[] = [];
    for (const r of this.opts.rules) {
      if (!ruleMatches(r, t)) continue;
      this.counters.triggered++;
      for (const a of r.actions) out.push(await this.act(r, a, t));
    }
    return out;
  }

  private record(
    r: ResponseRule,
    a: ResponseRecord['action'],
    t: Trigger,
    extra: Partial<ResponseRecord>,
  ): ResponseRecord {
    const ts = nowNs();
    const rec: ResponseRecord = {
      id: `${this.opts.idPrefix ?? 'response'}:${++this.seq}`,
      ts,
      action: a,
      status: 'done',
      policy: r.name,
      source: r.source,
      trigger: { id: t.id, kind: t.kind },
      target: {},
      latencyMs: Number(ts - t.ts) / 1e6,
      reversible: false,
      ...extra,
    };
    if (t.rule) rec.trigger.rule = t.rule;
    if (t.workload) rec.trigger.workload = t.workload;
    if (t.deviation) rec.trigger.deviation = t.deviation;
    if (t.container) rec.target.containerId = t.container.id;
    if (t.pid !== undefined) rec.target.pid = t.pid;
    this.counters[rec.status]++;
    this.opts.onResponse(rec);
    return rec;
  }

  private async act(r: ResponseRule, a: ResponseAction, t: Trigger): Promise<ResponseRecord> {
    if (t.pid === undefined)
      return this.record(r, a, t, { status: 'skipped', error: 'no process for this event' });
    if (a !== 'kill' && !t.container)
      return this.record(r, a, t, { status: 'skipped', error: 'the process is not in a container' });
    const key = `${t.container?.id}\0${a}`;
    if (a !== 'kill' && this.byContainer.has(key))
      return this.record(r, a, t, {
        status: 'skipped',
        error: `already ${a === 'pause' ? 'paused' : a === 'capture' ? 'captured' : 'quarantined'} by ${this.byContainer.get(key)}`,
      });
    if (a === 'kill') {
      try {
        killProcess(t.pid);
        return this.record(r, a, t, {});
      } catch (e) {
        return this.record(r, a, t, { status: 'failed', error: (e as Error).message });
      }
    }
    // taken before the first await: a second trigger arriving meanwhile is skipped, not applied twice
    this.byContainer.set(key, `${t.id} (in progress)`);
    const rec = await this.applyToContainer(r, a, t, key, t.pid);
    if (!rec.reversible || rec.status !== 'done') this.byContainer.delete(key);
    return rec;
  }

  private async applyToContainer(
    r: ResponseRule,
    a: ResponseAction,
    t: Trigger,
    key: string,
    pid: number,
  ): Promise<ResponseRecord> {
    try {
      // the container, through the first of its processes still there (each may exit meanwhile)
      let lastErr: Error | undefined;
      for (const via of [pid, ...(t.containerPids ?? [])]) {
        if (!existsSync(`/proc/${via}`)) continue;
        try {
          if (a === 'pause') {
            const fz: FreezeTarget = freezerOf(via);
            await setFrozen(fz, true);
            return this.activate(r, a, t, key, r.pauseSeconds, 'resume', () => setFrozen(fz, false));
          }
          if (a === 'capture') return await this.startCapture(r, t, key, via);
          const q: Quarantined = await quarantine(via, this.opts.quarantineAllow);
          return this.activate(r, a, t, key, r.quarantineSeconds, 'release', () => release(q));
        } catch (e) {
          lastErr = e as Error;
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ESRCH')
            throw e;
        }
      }
      return this.record(r, a, t, {
        status: 'skipped',
        error: `no process of the container is left${lastErr ? ` (${lastErr.message})` : ''}`,
      });
    } catch (e) {
      return this.record(r, a, t, { status: 'failed', error: (e as Error).message });
    }
  }

  private activate(
    r: ResponseRule,
    a: ResponseAction,
    t: Trigger,
    key: string,
    seconds: number,
    undoAction: 'resume' | 'release' | 'capture-end',
    undoFn: () => Promise<Partial<ResponseRecord> | void>,
    extra: Partial<ResponseRecord> = {},
  ): ResponseRecord {
    const rec = this.record(r, a, t, { reversible: true, ...extra });
    const act: Active = {
      rec,
      auto: false,
      undo: async (extra: Partial<ResponseRecord> = {}) => {
        this.active.delete(rec.id);
        this.byContainer.delete(key);
        if (act.timer) clearTimeout(act.timer);
        let err: string | undefined;
        let more: Partial<ResponseRecord> | void = undefined;
        try {
          more = await undoFn();
        } catch (e) {
          err = (e as Error).message;
        }
        this.counters.undone++;
        return this.record(r, undoAction, t, {
          ...(more || {}),
          undoes: rec.id,
          automatic: act.auto === true,
          ...extra,
          ...(err ? { status: 'failed', error: err } : {}),
          latencyMs: 0,
        });
      },
    };
    this.active.set(rec.id, act);
    this.byContainer.set(key, rec.id);
    if (seconds > 0) {
      act.timer = setTimeout(() => {
        act.auto = true;
        void act.undo();
      }, seconds * 1000);
      act.timer.unref();
    }
    return rec;
  }

  /** A bounded capture that ends by itself; its end (with the files) is a record too. */
  private async startCapture(r: ResponseRule, t: Trigger, key: string, via: number): Promise<ResponseRecord> {
    const id = `${this.opts.idPrefix ?? 'response'}:${this.seq + 1}`;
    const dir = join(
      this.opts.captureDir ?? '/var/lib/bulwark/captures',
      id.replace(/[^A-Za-z0-9._-]+/g, '_'),
    );
    const cap: Capture = await capture(via, dir, r.capture);
    const end = async () => {
      await cap.stop();
      return { capture: { dir, files: cap.files } };
    };
    const rec = this.activate(r, 'capture', t, key, 0, 'capture-end', end, { capture: { dir } });
    // it stops by itself (its duration): that end is recorded like an undo, with the files
    void cap.done.then(async () => {
      const a = this.active.get(rec.id);
      if (a) {
        a.auto = true;
        await a.undo();
      }
    });
    return rec;
  }

  /** Reversible responses still in force. */
  list(): ResponseRecord[] {
    return [...this.active.values()].map((a) => a.rec);
  }

  /** Undoes a pause (resume) or quarantine (release); false when it is not active. */
  async undo(id: string): Promise<boolean> {
    const a = this.active.get(id);
    if (!a) return false;
    await a.undo();
    return true;
  }

  /**
   * Carries out the console's command to undo response `id`: the undo record names the command;
   * a response not in force here (ended by its timer, undone, made by an earlier run of the agent)
   * is a record too (action 'undo', skipped), so the console always learns the outcome.
   */
  async undoCommand(id: string, command: number): Promise<ResponseRecord> {
    const a = this.active.get(id);
    if (a) return a.undo({ command });
    const ts = nowNs();
    const rec: ResponseRecord = {
      id: `${this.opts.idPrefix ?? 'response'}:${++this.seq}`,
      ts,
      action: 'undo',
      status: 'skipped',
      policy: '',
      source: 'console',
      trigger: { id: `command:${command}`, kind: 'command' },
      target: {},
      latencyMs: 0,
      reversible: false,
      undoes: id,
      automatic: false,
      command,
      error: `response ${id} is not in force on this agent (ended, undone, or made by an earlier run)`,
    };
    this.counters.skipped++;
    this.opts.onResponse(rec);
    return rec;
  }

  /** Undoes everything still active. */
  async stop(): Promise<void> {
    for (const id of [...this.active.keys()]) await this.undo(id);
  }
}
