/**
 * NetworkPolicy generation from observed flows: one policy per workload with Ingress and Egress
 * isolation and one rule per observed peer and port, so that the policies allow exactly the
 * observed connections (`netpol eval` over them lists the observed set, no more, no less).
 *
 * - peers inside the cluster: podSelector on the peer's labels AND a namespaceSelector on
 *   kubernetes.io/metadata.name (also for the same namespace);
 * - external peers: ipBlock with the host's /32 (or /128);
 * - DNS: egress to kube-dns is an observed flow like any other and is kept (with --cilium it
 *   also carries the DNS proxy rule toFQDNs needs);
 * - workloads of the inventory without flows get a policy too (deny all), so none stays open.
 *
 * Optionally CiliumNetworkPolicy (cilium.io/v2) with toFQDNs for external peers whose DNS names
 * are known (Hubble's destination_names).
 */
import { hostCidr } from './cidr.js';
import { endpointKey, type FlowEndpoint, type FlowRecord } from './flow.js';
import { NS_NAME_LABEL, type Workload } from './model.js';
import { matches, type Labels } from './selector.js';

export interface GenerateOptions {
  /** only workloads of this namespace get policies (peers elsewhere are still named) */
  namespace?: string;
  /** the known workloads (those without flows get deny-all policies); also used to check selectors */
  inventory?: Workload[];
  cilium?: boolean;
}

export interface GeneratedPolicy {
  namespace: string;
  name: string;
  /** the workload the policy is for: ns/name[Kind] */
  workload: string;
  manifest: Record<string, unknown>;
  kind: 'NetworkPolicy' | 'CiliumNetworkPolicy';
}

export interface GenerateResult {
  policies: GeneratedPolicy[];
  warnings: string[];
}

const USED = new Set(['FORWARDED', 'AUDIT', 'REDIRECTED', 'TRACED', 'UNKNOWN']);

interface Target {
  namespace: string;
  name: string;
  kind: string;
  labels: Labels;
}

interface Edge {
  peer: FlowEndpoint;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  port: number;
}

function dnsName(s: string): string {
  const n = s
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return n.slice(0, 253) || 'workload';
}

function isKubeDns(e: FlowEndpoint): boolean {
  return e.labels['k8s-app'] === 'kube-dns' || /^(kube-dns|coredns)$/.test(e.name ?? '');
}

export function generatePolicies(flows: FlowRecord[], opts: GenerateOptions = {}): GenerateResult {
  const warnings: string[] = [];
  const targets = new Map<string, Target>();
  const ingress = new Map<string, Map<string, Edge>>();
  const egress = new Map<string, Map<string, Edge>>();
  const addTarget = (t: Target) => {
    const k = endpointKey(t);
    const have = targets.get(k);
    if (!have) targets.set(k, { ...t, labels: { ...t.labels } });
    else if (!Object.keys(have.labels).length) have.labels = { ...t.labels };
  };
  for (const w of opts.inventory ?? []) addTarget(w);
  const inScope = (e: FlowEndpoint) =>
    !!e.namespace && !!e.name && (!opts.namespace || e.namespace === opts.namespace);
  const peerKey = (e: FlowEndpoint) => endpointKey(e);
  for (const f of flows) {
    if (!USED.has(f.verdict) || f.port === undefined) continue;
    if (f.protocol !== 'TCP' && f.protocol !== 'UDP' && f.protocol !== 'SCTP') continue;
    const edge = (peer: FlowEndpoint): Edge => ({
      peer,
      protocol: f.protocol as Edge['protocol'],
      port: f.port!,
    });
    for (const [self, peer, map] of [
      [f.destination, f.source, ingress],
      [f.source, f.destination, egress],
    ] as const) {
      if (!inScope(self)) continue;
      addTarget({
        namespace: self.namespace!,
        name: self.name!,
        kind: self.kind ?? 'Pod',
        labels: self.labels,
      });
      const k = endpointKey(self);
      const edges = map.get(k) ?? new Map<string, Edge>();
      map.set(k, edges);
      const ek = `${peerKey(peer)} ${f.protocol} ${f.port}`;
      const have = edges.get(ek);
      if (!have) edges.set(ek, edge(peer));
      else if (peer.names)
        have.peer = { ...have.peer, names: [...new Set([...(have.peer.names ?? []), ...peer.names])] };
    }
  }

  const known = [...targets.values()];
  /** checks that a selector picks out exactly the intended workload among those known */
  /**
   * The selector for exactly the intended workload among those known: its labels, plus
   * `DoesNotExist` for a label that sets apart each other workload those labels also match
   * (a canary with an extra track label); a warning when nothing sets one apart.
   */
  const selector = (what: string, ns: string, labels: Labels, intended: string): Record<string, unknown> => {
    const sel: Record<string, unknown> = { matchLabels: { ...labels } };
    if (!Object.keys(labels).length) {
      warnings.push(`${what}: ${intended} has no labels; its selector matches every pod of namespace ${ns}`);
      return sel;
    }
    const also = known.filter(
      (w) =>
        w.namespace === ns &&
        endpointKey(w) !== intended &&
        matches({ matchLabels: labels, matchExpressions: [] }, w.labels),
    );
    const absent = new Set<string>();
    const alike: string[] = [];
    for (const w of also) {
      const extra = Object.keys(w.labels)
        .filter((k) => !(k in labels))
        .sort();
      if (extra.some((k) => absent.has(k))) continue;
      if (extra.length) absent.add(extra[0]!);
      else alike.push(endpointKey(w));
    }
    if (absent.size)
      sel.matchExpressions = [...absent].sort().map((key) => ({ key, operator: 'DoesNotExist' }));
    if (alike.length)
      warnings.push(`${what}: the selector for ${intended} also matches ${alike.join(', ')} (same labels)`);
    return sel;
  };

  const k8sPeer = (p: FlowEndpoint, what: string): Record<string, unknown> => {
    if (!p.namespace || !p.name) return { ipBlock: { cidr: hostCidr(p.ip ?? '0.0.0.0') } };
    return {
      podSelector: selector(what, p.namespace, p.labels, endpointKey(p)),
      namespaceSelector: { matchLabels: { [NS_NAME_LABEL]: p.namespace } },
    };
  };
  const sorted = (m: Map<string, Edge> | undefined) =>
    [...(m?.values() ?? [])].sort(
      (a, b) =>
        peerKey(a.peer).localeCompare(peerKey(b.peer)) ||
        a.protocol.localeCompare(b.protocol) ||
        a.port - b.port,
    );

  const policies: GeneratedPolicy[] = [];
  for (const t of [...targets.values()].sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)))) {
    if (opts.namespace && t.namespace !== opts.namespace) continue;
    const key = endpointKey(t);
    // two workloads of one name (a Deployment and a StatefulSet web) get the kind in theirs
    const sameName =
      [...targets.values()].filter((x) => x.namespace === t.namespace && x.name === t.name).length > 1;
    const name = dnsName(`bulwark-${t.name}${sameName ? `-${t.kind}` : ''}`);
    const what = `NetworkPolicy ${t.namespace}/${name}`;
    if (!Object.keys(t.labels).length) {
      warnings.push(`${key} has no labels: no policy can select it alone, none generated`);
      continue;
    }
    const podSelector = selector(what, t.namespace, t.labels, key);
    const ins = sorted(ingress.get(key));
    const outs = sorted(egress.get(key));
    const meta = {
      name,
      namespace: t.namespace,
      labels: { 'app.kubernetes.io/managed-by': 'bulwark' },
      annotations: { 'bulwark.dev/workload': key },
    };
    policies.push({
      namespace: t.namespace,
      name,
      workload: key,
      kind: 'NetworkPolicy',
      manifest: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: meta,
        spec: {
          podSelector,
          policyTypes: ['Ingress', 'Egress'],
          ingress: ins.map((e) => ({
            from: [k8sPeer(e.peer, what)],
            ports: [{ protocol: e.protocol, port: e.port }],
          })),
          egress: outs.map((e) => ({
            to: [k8sPeer(e.peer, what)],
            ports: [{ protocol: e.protocol, port: e.port }],
          })),
        },
      },
    });
    if (opts.cilium) policies.push(ciliumPolicy(t, podSelector, meta, ins, outs));
  }
  return { policies, warnings };
}

function ciliumEndpoint(p: FlowEndpoint): Record<string, unknown> {
  return { matchLabels: { ...p.labels, 'k8s:io.kubernetes.pod.namespace': p.namespace } };
}

function ciliumPolicy(
  t: Target,
  endpointSelector: Record<string, unknown>,
  meta: Record<string, unknown>,
  ins: Edge[],
  outs: Edge[],
): GeneratedPolicy {
  const toPorts = (e: Edge, dns = false) => [
    {
      ports: [{ port: String(e.port), protocol: e.protocol }],
      ...(dns ? { rules: { dns: [{ matchPattern: '*' }] } } : {}),
    },
  ];
  const ingress = ins.map((e) =>
    e.peer.namespace
      ? { fromEndpoints: [ciliumEndpoint(e.peer)], toPorts: toPorts(e) }
      : { fromCIDR: [hostCidr(e.peer.ip!)], toPorts: toPorts(e) },
  );
  const egress = outs.map((e) => {
    if (e.peer.namespace)
      return {
        toEndpoints: [ciliumEndpoint(e.peer)],
        toPorts: toPorts(e, isKubeDns(e.peer) && e.port === 53),
      };
    if (e.peer.names?.length)
      return { toFQDNs: e.peer.names.map((n) => ({ matchName: n })), toPorts: toPorts(e) };
    return { toCIDR: [hostCidr(e.peer.ip!)], toPorts: toPorts(e) };
  });
  const name = String(meta.name);
  return {
    namespace: t.namespace,
    name,
    workload: endpointKey(t),
    kind: 'CiliumNetworkPolicy',
    manifest: {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNetworkPolicy',
      metadata: meta,
      spec: {
        endpointSelector,
        // an empty rule turns default deny on without allowing anything
        ingress: ingress.length ? ingress : [{}],
        egress: egress.length ? egress : [{}],
      },
    },
  };
}
