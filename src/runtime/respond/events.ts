/**
 * Response records as the console's runtime events (kind 'response'; docs/runtime-profiles.md):
 * the alert shape's common fields plus `response` (action, status, policy, trigger, latency,
 * reversible, undoes).
 */
import type { ContainerInfo } from '../state/index.js';
import type { ResponseRecord } from './responder.js';

export interface ResponseEvent {
  id: string;
  kind: 'response';
  time: string;
  node: string;
  cluster?: string;
  rule: 'response';
  priority: string;
  source: 'syscall';
  output: string;
  output_fields: Record<string, string | number | boolean | null>;
  tags: string[];
  container?: { id: string; name?: string; image?: string; imageDigest?: string };
  workload?: string;
  response: {
    action: ResponseRecord['action'];
    status: ResponseRecord['status'];
    policy: string;
    source: string;
    trigger: ResponseRecord['trigger'];
    target: ResponseRecord['target'];
    latencyMs: number;
    reversible: boolean;
    undoes?: string;
    automatic?: boolean;
    /** the console command an undo carried out */
    command?: number;
    error?: string;
    /** capture: where the pcap ring is (and, at capture-end, its files) */
    capture?: { dir: string; files?: string[] };
  };
}

export function responseText(r: ResponseRecord): string {
  const what = r.undoes ? `${r.action} (undoes ${r.undoes}${r.automatic ? ', timer' : ''})` : r.action;
  const on = `container=${r.target.containerId ?? '-'}${r.target.pid !== undefined ? ` pid=${r.target.pid}` : ''}`;
  const why = `${r.trigger.kind} ${r.trigger.rule ?? r.trigger.deviation ?? ''}`.trim();
  return `response ${what} ${r.status} by policy ${r.policy} for ${why} ${on} after ${r.latencyMs.toFixed(1)} ms${r.error ? `: ${r.error}` : ''}`;
}

export function responseEvent(
  r: ResponseRecord,
  id: string,
  where: { node: string; cluster?: string; container?: ContainerInfo },
): ResponseEvent {
  const ev: ResponseEvent = {
    id,
    kind: 'response',
    time: new Date(Number(r.ts / 1_000_000n)).toISOString(),
    node: where.node,
    rule: 'response',
    priority: r.status === 'failed' ? 'Error' : 'Notice',
    source: 'syscall',
    output: responseText(r),
    output_fields: {
      'response.action': r.action,
      'response.status': r.status,
      'response.policy': r.policy,
      'response.latency_ms': Math.round(r.latencyMs * 10) / 10,
      'response.trigger': r.trigger.id,
      'container.id': r.target.containerId ?? null,
      'proc.pid': r.target.pid ?? null,
    },
    tags: ['response', r.action],
    response: {
      action: r.action,
      status: r.status,
      policy: r.policy,
      source: r.source,
      trigger: r.trigger,
      target: r.target,
      latencyMs: r.latencyMs,
      reversible: r.reversible,
      ...(r.undoes ? { undoes: r.undoes, automatic: r.automatic === true } : {}),
      ...(r.command !== undefined ? { command: r.command } : {}),
      ...(r.capture ? { capture: r.capture } : {}),
      ...(r.error ? { error: r.error } : {}),
    },
  };
  if (where.cluster) ev.cluster = where.cluster;
  if (r.trigger.workload) ev.workload = r.trigger.workload;
  const c = where.container;
  if (c) {
    ev.container = { id: c.id };
    if (c.name) ev.container.name = c.name;
    if (c.image) ev.container.image = c.image;
    if (c.imageDigest) ev.container.imageDigest = c.imageDigest;
  } else if (r.target.containerId) ev.container = { id: r.target.containerId };
  return ev;
}
