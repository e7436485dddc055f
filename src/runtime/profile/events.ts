/**
 * Deviations as the console's runtime events (kind 'deviation'; docs/runtime-profiles.md): the
 * alert shape's common fields (id, time, node, cluster, rule "deviation", priority, source,
 * output, output_fields, tags, container, k8s) plus workload, workloadRef, deviation, mode and
 * action. The agent (src/cli/agent.ts) adds the process lineage and ships it with the alerts.
 */
import type { WorkloadRef } from './model.js';
import type { DeviationRecord } from './engine.js';

export interface DeviationEvent {
  id: string;
  kind: 'deviation';
  time: string;
  node: string;
  cluster?: string;
  rule: 'deviation';
  priority: string;
  source: 'syscall';
  output: string;
  output_fields: Record<string, string | number | boolean | null>;
  tags: string[];
  container?: { id: string; name?: string; image?: string; imageDigest?: string };
  k8s?: { namespace?: string; pod?: string; container?: string; labels?: Record<string, string> };
  workload: string;
  workloadRef: WorkloadRef;
  deviation: { type: DeviationRecord['what']; value: string; reason?: string };
  mode: DeviationRecord['mode'];
  action: DeviationRecord['action'];
}

const WHAT: Record<DeviationRecord['what'], string> = {
  exe: 'process',
  file: 'write in directory',
  network: 'connection',
  syscall: 'syscall',
};

/** One line a person reads: what, where, and what was done. */
export function deviationText(d: DeviationRecord): string {
  const why =
    d.reason === 'drift'
      ? ' (not in the image: zero-drift)'
      : d.reason === 'sha256'
        ? ' (file content differs from the profile)'
        : d.reason === 'parent'
          ? ` (parent ${d.process?.parent ?? '?'} not in the profile)`
          : d.reason === 'uid'
            ? ` (uid ${d.process?.uid ?? '?'} not in the profile)`
            : d.reason === 'listen'
              ? ' (listening)'
              : '';
  const act = d.action === 'blocked' ? 'blocked' : 'reported';
  return `${WHAT[d.what]} ${d.value} is not in the profile of ${d.workloadId}${why}: ${act} (${d.mode}) container=${d.container.id}${d.process ? ` pid=${d.process.pid} cmdline=${d.process.cmdline}` : ''}`;
}

const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();

export function deviationEvent(
  d: DeviationRecord,
  id: string,
  where: { node: string; cluster?: string },
): DeviationEvent {
  const c = d.container;
  const f: DeviationEvent['output_fields'] = {
    'profile.workload': d.workloadId,
    'profile.mode': d.mode,
    'deviation.type': d.what,
    'deviation.value': d.value,
    'deviation.reason': d.reason ?? null,
    'deviation.action': d.action,
    'container.id': c.id,
    'container.name': c.name ?? null,
    'container.image': c.image ?? null,
  };
  if (d.process) {
    f['proc.pid'] = d.process.pid;
    f['proc.exepath'] = d.process.exe;
    f['proc.cmdline'] = d.process.cmdline;
    f['proc.pexepath'] = d.process.parent ?? null;
    f['user.uid'] = d.process.uid;
  }
  const ev: DeviationEvent = {
    id,
    kind: 'deviation',
    time: iso(d.ts),
    node: where.node,
    rule: 'deviation',
    priority: d.action === 'blocked' ? 'Critical' : 'Warning',
    source: 'syscall',
    output: deviationText(d),
    output_fields: f,
    tags: ['profile', `deviation.${d.what}`, ...(d.reason === 'drift' ? ['drift'] : [])],
    workload: d.workloadId,
    workloadRef: d.workload,
    deviation: { type: d.what, value: d.value, ...(d.reason ? { reason: d.reason } : {}) },
    mode: d.mode,
    action: d.action,
  };
  if (where.cluster) ev.cluster = where.cluster;
  ev.container = { id: c.id };
  if (c.name) ev.container.name = c.name;
  if (c.image) ev.container.image = c.image;
  if (c.imageDigest) ev.container.imageDigest = c.imageDigest;
  if (c.k8s) {
    ev.k8s = {};
    if (c.k8s.namespace) ev.k8s.namespace = c.k8s.namespace;
    if (c.k8s.podName) ev.k8s.pod = c.k8s.podName;
    if (c.name) ev.k8s.container = c.name;
  }
  return ev;
}
