/**
 * NetworkPolicy evaluation with the semantics of networking.k8s.io/v1:
 * - a pod selected by any policy whose policyTypes include a direction is isolated in that
 *   direction; what is allowed is the union of the rules of those policies; a pod no policy
 *   selects for a direction is not isolated in it;
 * - a connection is allowed only when the source's egress and the destination's ingress allow it;
 * - a peer's podSelector alone selects pods of the policy's namespace, namespaceSelector alone
 *   all pods of the matching namespaces, both together (one peer) the pods matching both;
 *   separate peers are alternatives; ipBlock matches IPs inside cidr and outside every except;
 * - ports: protocol defaults to TCP; a port may be a number, a range (endPort) or a name,
 *   resolved against the destination pod's container ports (name and protocol); a port entry
 *   without port allows every port of its protocol; no ports means every port and protocol.
 *
 * Endpoints are workloads (the pods of one controller, or a bare pod) and external addresses
 * (host ipBlocks named in policies, or given). A workload's connections to itself are not
 * listed (loopback; the upstream e2e suite ignores them as well).
 */
import { cidrContains, parseIp, type Ip } from './cidr.js';
import {
  NS_NAME_LABEL,
  type Cluster,
  type ContainerPort,
  type IpBlock,
  type Peer,
  type Policy,
  type PolicyPort,
  type Protocol,
  type Rule,
  type Workload,
} from './model.js';
import { matches, type Labels } from './selector.js';

export interface Endpoint {
  /** `ns/name[Kind]` for workloads, `IP[External]` for external addresses */
  id: string;
  namespace?: string;
  name: string;
  kind: string;
  labels: Labels;
  ips: string[];
  ports: ContainerPort[];
  external: boolean;
}

export interface Connection {
  source: Endpoint;
  destination: Endpoint;
  protocol: Protocol;
  port: number;
}

export interface EvalOptions {
  /** extra (protocol, port) pairs checked on every destination */
  ports?: { protocol: Protocol; port: number }[];
  /** external addresses to include as endpoints, beside the host ipBlocks of the policies */
  externals?: string[];
}

export function workloadId(w: { namespace: string; name: string; kind: string }): string {
  return `${w.namespace}/${w.name}[${w.kind}]`;
}

export function externalId(ip: string): string {
  return `${ip}[External]`;
}

function endpointOf(w: Workload): Endpoint {
  return {
    id: workloadId(w),
    namespace: w.namespace,
    name: w.name,
    kind: w.kind,
    labels: w.labels,
    ips: w.ips,
    ports: w.ports,
    external: false,
  };
}

interface CompiledRule {
  /** peer match per endpoint index; undefined = every endpoint */
  peers?: Uint8Array;
  ports?: PolicyPort[];
}

function blockMatches(b: IpBlock, ips: Ip[]): boolean {
  return ips.some((ip) => cidrContains(b.cidr, ip) && !b.except.some((e) => cidrContains(e, ip)));
}

function peerMatches(p: Peer, policy: Policy, e: Endpoint, ips: Ip[], nsLabels: Labels | undefined): boolean {
  if (p.ipBlock) return blockMatches(p.ipBlock, ips);
  if (e.external) return false;
  if (p.namespaceSelector) {
    if (!nsLabels || !matches(p.namespaceSelector, nsLabels)) return false;
  } else if (e.namespace !== policy.namespace) return false;
  return !p.podSelector || matches(p.podSelector, e.labels);
}

/** Whether a rule's ports allow (protocol, port) on destination `dst`. */
export function portAllowed(
  ports: PolicyPort[] | undefined,
  protocol: Protocol,
  port: number,
  dst: Endpoint,
): boolean {
  if (!ports) return true;
  for (const p of ports) {
    if (p.protocol !== protocol) continue;
    if (p.port === undefined) return true;
    if (typeof p.port === 'number') {
      if (port >= p.port && port <= (p.endPort ?? p.port)) return true;
    } else if (dst.ports.some((cp) => cp.name === p.port && cp.protocol === protocol && cp.port === port))
      return true;
  }
  return false;
}

export interface Evaluator {
  endpoints: Endpoint[];
  /** the (protocol, port) pairs checked for a destination */
  portsOf(dst: number): { protocol: Protocol; port: number }[];
  allowed(src: number, dst: number, protocol: Protocol, port: number): boolean;
  /** each direction on its own: the source's egress and the destination's ingress */
  explain(src: number, dst: number, protocol: Protocol, port: number): { egress: boolean; ingress: boolean };
  /** index of an endpoint by id (`ns/name[Kind]`, `IP[External]`) */
  indexOf(id: string): number | undefined;
  connections(): Connection[];
}

/** Compiles the cluster's policies into an evaluator over its endpoints. */
export function compile(c: Cluster, opts: EvalOptions = {}): Evaluator {
  const endpoints: Endpoint[] = c.workloads.map(endpointOf);
  const externals = new Set<string>(opts.externals ?? []);
  for (const p of c.policies)
    for (const r of [...p.ingress, ...p.egress])
      for (const peer of r.peers ?? [])
        if (peer.ipBlock && peer.ipBlock.cidr.prefix === (peer.ipBlock.cidr.family === 4 ? 32 : 128))
          externals.add(peer.ipBlock.cidr.text.split('/')[0]!);
  const podIps = new Set(c.workloads.flatMap((w) => w.ips));
  for (const ip of [...externals].sort())
    if (!podIps.has(ip))
      endpoints.push({
        id: externalId(ip),
        name: ip,
        kind: 'External',
        labels: {},
        ips: [ip],
        ports: [],
        external: true,
      });
  const n = endpoints.length;
  const ips = endpoints.map((e) => e.ips.map(parseIp).filter((x): x is Ip => x !== undefined));
  const nsLabels = endpoints.map((e) =>
    e.namespace ? (c.namespaces.get(e.namespace)?.labels ?? { [NS_NAME_LABEL]: e.namespace }) : undefined,
  );

  const compileRule = (policy: Policy, r: Rule): CompiledRule => {
    if (!r.peers) return { ports: r.ports };
    const m = new Uint8Array(n);
    for (let i = 0; i < n; i++)
      for (const p of r.peers)
        if (peerMatches(p, policy, endpoints[i]!, ips[i]!, nsLabels[i])) {
          m[i] = 1;
          break;
        }
    return { peers: m, ports: r.ports };
  };

  const ingress: (CompiledRule[] | undefined)[] = new Array(n);
  const egress: (CompiledRule[] | undefined)[] = new Array(n);
  for (const p of c.policies) {
    const selected: number[] = [];
    for (let i = 0; i < n; i++) {
      const e = endpoints[i]!;
      if (!e.external && e.namespace === p.namespace && matches(p.podSelector, e.labels)) selected.push(i);
    }
    if (!selected.length) continue;
    if (p.types.ingress) {
      const rules = p.ingress.map((r) => compileRule(p, r));
      for (const i of selected) (ingress[i] ??= []).push(...rules);
    }
    if (p.types.egress) {
      const rules = p.egress.map((r) => compileRule(p, r));
      for (const i of selected) (egress[i] ??= []).push(...rules);
    }
  }

  const extra = opts.ports ?? [];
  const portsCache = new Map<number, { protocol: Protocol; port: number }[]>();
  const key = (p: { protocol: Protocol; port: number }) => `${p.protocol}/${p.port}`;
  const portsOf = (d: number) => {
    let ps = portsCache.get(d);
    if (ps) return ps;
    const seen = new Map<string, { protocol: Protocol; port: number }>();
    const e = endpoints[d]!;
    for (const cp of e.ports) seen.set(key(cp), { protocol: cp.protocol, port: cp.port });
    if (e.external) {
      // an external address has no declared ports: those the egress rules naming it allow
      for (const rules of egress)
        for (const r of rules ?? [])
          if (r.peers?.[d])
            for (const pp of r.ports ?? [])
              if (typeof pp.port === 'number' && (pp.endPort ?? pp.port) - pp.port < 64)
                for (let q = pp.port; q <= (pp.endPort ?? pp.port); q++)
                  seen.set(key({ protocol: pp.protocol, port: q }), { protocol: pp.protocol, port: q });
    }
    for (const p of extra) seen.set(key(p), p);
    ps = [...seen.values()].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port);
    portsCache.set(d, ps);
    return ps;
  };

  const allowedBy = (
    rules: CompiledRule[] | undefined,
    peer: number,
    protocol: Protocol,
    port: number,
    dst: Endpoint,
  ) => {
    if (!rules) return true; // not isolated in this direction
    for (const r of rules)
      if ((!r.peers || r.peers[peer]) && portAllowed(r.ports, protocol, port, dst)) return true;
    return false;
  };

  const allowed = (s: number, d: number, protocol: Protocol, port: number) => {
    const dst = endpoints[d]!;
    return allowedBy(egress[s], d, protocol, port, dst) && allowedBy(ingress[d], s, protocol, port, dst);
  };

  const byId = new Map(endpoints.map((e, i) => [e.id, i]));
  return {
    endpoints,
    portsOf,
    allowed,
    explain: (s, d, protocol, port) => ({
      egress: allowedBy(egress[s], d, protocol, port, endpoints[d]!),
      ingress: allowedBy(ingress[d], s, protocol, port, endpoints[d]!),
    }),
    indexOf: (id) => byId.get(id),
    connections() {
      const out: Connection[] = [];
      for (let s = 0; s < n; s++) {
        const src = endpoints[s]!;
        for (let d = 0; d < n; d++) {
          if (s === d) continue;
          const dst = endpoints[d]!;
          if (src.external && dst.external) continue;
          for (const p of portsOf(d))
            if (allowed(s, d, p.protocol, p.port)) out.push({ source: src, destination: dst, ...p });
        }
      }
      return sortConnections(out);
    },
  };
}

export function sortConnections(cs: Connection[]): Connection[] {
  return cs.sort(
    (a, b) =>
      cmp(a.source.id, b.source.id) ||
      cmp(a.destination.id, b.destination.id) ||
      cmp(a.protocol, b.protocol) ||
      a.port - b.port,
  );
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The allowed connections of a cluster. */
export function evaluate(c: Cluster, opts: EvalOptions = {}): Connection[] {
  return compile(c, opts).connections();
}

/** `ns/name[Kind] => ns/name[Kind] : TCP 8080` */
export function connectionLine(c: Connection): string {
  return `${c.source.id} => ${c.destination.id} : ${c.protocol} ${c.port}`;
}

export function connectionJson(c: Connection): Record<string, unknown> {
  const ep = (e: Endpoint) =>
    e.external ? { kind: 'External', ip: e.ips[0] } : { namespace: e.namespace, name: e.name, kind: e.kind };
  return { source: ep(c.source), destination: ep(c.destination), protocol: c.protocol, port: c.port };
}

export interface ConnectionDiff {
  added: Connection[];
  removed: Connection[];
}

/** The connections `next` allows that `prev` does not (added) and the reverse (removed). */
export function diffConnections(prev: Connection[], next: Connection[]): ConnectionDiff {
  const a = new Map(prev.map((c) => [connectionLine(c), c]));
  const b = new Map(next.map((c) => [connectionLine(c), c]));
  return {
    added: sortConnections([...b].filter(([k]) => !a.has(k)).map(([, c]) => c)),
    removed: sortConnections([...a].filter(([k]) => !b.has(k)).map(([, c]) => c)),
  };
}
