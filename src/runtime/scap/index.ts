/**
 * .scap capture files: reading them (reader.ts) and replaying them through the state tracker and
 * a ruleset, as `falco -e FILE` does.
 */
import { formatAlert, type Alert, type AlertFormat } from '../rules/output.js';
import type { Ruleset } from '../rules/loader.js';
import { StateTracker, type StateOptions } from '../state/index.js';
import { readScapFile, type ScapCapture } from './reader.js';

export { parseScap, readScapFile, ScapError } from './reader.js';
export type { ScapCapture, ScapProcess, ScapMachine, ScapCounts } from './reader.js';
export { EVENT_INFO } from './events.js';
export type { EventInfo, ParamKind } from './events.js';

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
  const st = stateFromCapture(cap, opts);
  const stats: ReplayStats = { events: 0, alerts: 0, byRule: new Map() };
  for (const ev of cap.events()) {
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
