/**
 * .scap capture files: reading them (reader.ts) and replaying them through the state tracker and
 * a ruleset, as `falco -e FILE` does.
 */
import { formatAlert, type Alert, type AlertFormat } from '../rules/output.js';
import type { Ruleset } from '../rules/loader.js';
import {
  StateTracker,
  cgroupResolver,
  type ContainerInfo,
  type ContainerResolver,
  type StateOptions,
} from '../state/index.js';
import type { SyscallEvent } from '../event.js';
import { readScapFile, type ScapCapture, type ScapFd } from './reader.js';
import type { FdInfo, FdType } from '../state/index.js';

// libscap's scap_fd_type → the state's fd types
const FD_TYPES: Record<number, FdType> = {
  0: 'unknown',
  1: 'file',
  2: 'directory',
  3: 'ipv4',
  4: 'ipv6',
  5: 'ipv4',
  6: 'ipv6',
  7: 'pipe',
  8: 'unix',
  9: 'event',
  10: 'unknown',
  11: 'signalfd',
  12: 'eventpoll',
  13: 'inotify',
  14: 'timerfd',
  15: 'netlink',
  16: 'file',
  17: 'bpf',
  18: 'userfaultfd',
  19: 'io_uring',
  20: 'memfd',
  21: 'pidfd',
};
const L4: Record<number, FdInfo['l4proto']> = { 2: 'tcp', 3: 'udp', 4: 'icmp', 5: 'raw' };

function fdInfo(e: ScapFd): FdInfo {
  const type = FD_TYPES[e.scapType] ?? 'unknown';
  const f: FdInfo = { fd: e.fd, type, name: e.name, openFlags: e.openFlags ?? 0, ino: e.ino };
  if (e.scapType === 3 || e.scapType === 4) {
    f.cip = e.sip;
    f.cport = e.sport;
    f.sip = e.dip;
    f.sport = e.dport;
    f.l4proto = L4[e.l4proto ?? 0];
    f.name = `${e.sip}:${e.sport}->${e.dip}:${e.dport}`;
  } else if (e.scapType === 5 || e.scapType === 6) {
    f.sip = e.ip;
    f.sport = e.port;
    f.isServer = true;
    f.l4proto = L4[e.l4proto ?? 0];
    f.name = `${e.ip}:${e.port}`;
  }
  return f;
}

export { parseScap, readScapFile, ScapError } from './reader.js';
export type { ScapCapture, ScapProcess, ScapMachine, ScapCounts, ScapFd } from './reader.js';
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
      const clean = Object.fromEntries(
        Object.entries(info).filter(([, v]) => v !== undefined),
      ) as ContainerInfo;
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
  for (const [tid, list] of cap.fds) for (const e of list) st.addFd(tid, fdInfo(e));
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

export function replay(
  cap: ScapCapture,
  rs: Ruleset,
  onAlert: (a: Alert) => void,
  opts: StateOptions = {},
): ReplayStats {
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
