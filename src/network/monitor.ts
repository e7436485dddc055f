/**
 * Monitor mode: observed flows checked against the NetworkPolicies, one alert per connection
 * (source, destination, protocol, port) the policies do not allow — the first time it is seen;
 * later flows of the same connection only count. Nothing is blocked.
 */
import type { Cluster } from './model.js';
import { compile, type Evaluator } from './eval.js';
import { endpointKey, flowLine, type FlowRecord } from './flow.js';

export interface NetpolAlert {
  rule: 'Connection outside NetworkPolicy';
  time?: string;
  /** `ns/a[Kind] => ns/b[Kind] : TCP 80` */
  connection: string;
  source: FlowRecord['source'];
  destination: FlowRecord['destination'];
  protocol: FlowRecord['protocol'];
  port?: number;
  /** which side denies it: the source's egress, the destination's ingress, or both */
  deniedBy: ('egress' | 'ingress')[];
  output: string;
}

export class Monitor {
  private ev: Evaluator;
  private readonly alerted = new Set<string>();
  private readonly externals = new Set<string>();

  constructor(private readonly cluster: Cluster) {
    this.ev = compile(cluster);
  }

  /** The alert for a flow outside the policies, once per connection; undefined otherwise. */
  check(f: FlowRecord): NetpolAlert | undefined {
    if (f.protocol !== 'TCP' && f.protocol !== 'UDP' && f.protocol !== 'SCTP') return undefined;
    if (f.port === undefined) return undefined;
    const line = flowLine(f);
    if (this.alerted.has(line)) return undefined;
    const s = this.index(f.source);
    const d = this.index(f.destination);
    if (s === undefined || d === undefined || s === d) return undefined;
    const why = this.ev.explain(s, d, f.protocol, f.port);
    if (why.egress && why.ingress) return undefined;
    this.alerted.add(line);
    const deniedBy = [
      ...(why.egress ? [] : ['egress' as const]),
      ...(why.ingress ? [] : ['ingress' as const]),
    ];
    return {
      rule: 'Connection outside NetworkPolicy',
      ...(f.firstSeen ? { time: f.firstSeen } : {}),
      connection: line,
      source: f.source,
      destination: f.destination,
      protocol: f.protocol,
      port: f.port,
      deniedBy,
      output: `Connection outside NetworkPolicy (${line}, denied by ${deniedBy
        .map((d) =>
          d === 'egress' ? `egress of ${endpointKey(f.source)}` : `ingress of ${endpointKey(f.destination)}`,
        )
        .join(' and ')})`,
    };
  }

  private index(e: FlowRecord['source']): number | undefined {
    const id = endpointKey(e);
    const i = this.ev.indexOf(id);
    if (i !== undefined || e.namespace || !e.ip) return i;
    // an external address first seen now: recompile with it as an endpoint (rare)
    this.externals.add(e.ip);
    this.ev = compile(this.cluster, { externals: [...this.externals] });
    return this.ev.indexOf(id);
  }
}
