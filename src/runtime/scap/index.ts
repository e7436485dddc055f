/**
 * .scap capture files: reading them (reader.ts) and replaying them through the state tracker and
 * a ruleset, as `falco -e FILE` does.
 */
import { formatAlert, type Alert, type AlertFormat } from '../rules/output.js';
import type { Ruleset } from '../rules/loader.js';
import { StateTracker, cgroupResolver, type ContainerInfo, type ContainerResolver, type StateOptions } from '../state/index.js';
import type { SyscallEvent } from '../event.js';
import { readScapFile, type ScapCapture } from './reader.js';

export { parseScap, readScapFile, ScapError } from './reader.js';
export type { ScapCapture, ScapProcess, ScapMachine, ScapCounts } from './reader.js';
export { EVENT_INFO } from './events.js';
export type { EventInfo, ParamKind } from './events.js';

/**
 * Container metadata from the capture's container events (PPME_CONTAINER_JSON: id, name, image...),
 * merged into the objects the resolver hands out, so threads attributed before the event see it.
 */
export class CaptureContainers implements ContainerResolver {
  private readonly byId = new Map<string, ContainerInfo>();
  constructor(private readonly base: ContainerResolver = cgroupResolver) {}
  resolve(hint: Parameters<ContainerResolver['resolve']>[0]): ContainerInfo | undefined {
    const c = this.base.resolve(hint);
    if (!c) return undefined;
    const known = this.byId.get(c.id);
    if (known) return known;
    this.byId.set(c.id, c);
    return c;
  }
  /** Takes a container event's metadata; returns true when the event was one. */
  observe(ev: SyscallEvent): boolean {
    if (ev.type !== 'container') return false;
    let info: ContainerInfo | undefined;
    const json = ev.params.json;
    if (typeof json === 'string') {
      try {
        const c = (JSON.parse(json) as { container?: Record<string, unknown> }).container ?? {};
        const image = typeof c.image === 'string' ? c.image : undefined;
        info = {
          id: String(c.id ?? ''),
          name: typeof c.name === 'string' ? c.name : undefined,
          image,
          imageRepository: typeof c.imagerepo === 'string' ? c.imagerepo : image?.replace(/[:@].*$/, ''),
          imageTag: typeof c.imagetag === 'string' ? c.imagetag : undefined,
          imageDigest: typeof c.imagedigest === 'string' ? c.imagedigest : undefined,
          type: typeof c.type === 'number' ? String(c.type) : undefined,
          privileged: typeof c.privileged === 'boolean' ? c.privileged : undefined,
        };
      } catch {
        return true;
      }
    } else if (typeof ev.params.id === 'string') {
      info = { id: ev.params.id, name: String(ev.params.name ?? ''), image: String(ev.params.image ?? '') };
    }
    if (info && info.id) {
      const id = info.id.slice(0, 12);
      const prev = this.byId.get(id);
      const clean = Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined)) as ContainerInfo;
      if (prev) Object.assign(prev, clean, { id });
      else this.byId.set(id, { ...clean, id });
    }
    return true;
  }
}

/** A state tracker primed with the capture's process list (the threads alive when it started). */
export function stateFromCapture(cap: ScapCapture, opts: StateOptions = {}): StateTracker {
  const st = new StateTracker(opts);
  // leaders first, so threads share their process's fd table
  const procs = [...cap.processes].sort((a, b) => Number(a.tid !== a.pid) - Number(b.tid !== b.pid));
  for (const p of procs) {
    st.addThread({
      tid: p.tid,
      pid: p.pid,
      ptid: p.ptid,
      sid: p.sid,
      pgid: p.vpgid,
      vtid: p.vtid,
      vpid: p.vpid,
      comm: p.comm,
      exe: p.exe,
      exepath: p.exepath || p.exe,
      args: p.args,
      env: p.env,
      cwd: p.cwd.endsWith('/') ? p.cwd : p.cwd + '/',
      uid: p.uid,
      gid: p.gid,
      cgroups: p.cgroups,
    });
  }
  return st;
}

export interface ReplayStats {
  events: number;
  alerts: number;
  byRule: Map<string, number>;
}

/** Replays a capture through `rs`; each alert goes to `onAlert` (formatted when `format` is given). */
export async function replayCapture(
  path: string,
  rs: Ruleset,
  onAlert: (line: string, alert: Alert) => void,
  format: AlertFormat = 'json',
): Promise<ReplayStats> {
  const cap = await readScapFile(path);
  return replay(cap, rs, (a) => onAlert(formatAlert(a, format), a));
}

export function replay(cap: ScapCapture, rs: Ruleset, onAlert: (a: Alert) => void, opts: StateOptions = {}): ReplayStats {
  const containers = new CaptureContainers(opts.resolver);
  const st = stateFromCapture(cap, { ...opts, resolver: containers });
  const stats: ReplayStats = { events: 0, alerts: 0, byRule: new Map() };
  for (const ev of cap.events()) {
    containers.observe(ev);
    st.process(ev);
    stats.events++;
    for (const a of rs.evaluate(ev, st)) {
      stats.alerts++;
      stats.byRule.set(a.rule, (stats.byRule.get(a.rule) ?? 0) + 1);
      onAlert(a);
    }
  }
  return stats;
}
