/**
 * `netpol eval` at scale: BENCH_NETPOL_PODS (default 1,000) workloads in 20 namespaces with 1-2
 * ports each, and BENCH_NETPOL_POLICIES (default 500) NetworkPolicies of the shapes real clusters
 * have (namespace default-deny, allow from a tier in another namespace on a port or named port,
 * matchExpressions, egress to an ipBlock with except, DNS egress to kube-dns).
 *
 * Baseline: the same evaluator over the same workloads without policies (enumerating every
 * pair and destination port). Measured: with the policies (compile + every pair and port).
 * Prints time, the (pair, port) checks per second, the allowed connections, and the ratio
 * measured/baseline throughput. Best of BENCH_NETPOL_RUNS (default 3) after a warm-up.
 *
 * Flow path: BENCH_NETPOL_FLOWS (default 200,000) `conntrack -E` NEW lines between those
 * workloads, each connection seen in both pods' namespaces (two lines). Baseline: parsing the
 * lines; measured: parsing + attribution through the inventory + aggregation with 5-tuple
 * dedupe; reported as connections/s and the share of one core at 1,000 new connections/s.
 */
import {
  Attributor,
  FlowAggregator,
  parseFlows,
  addManifestText,
  compile,
  completeNamespaces,
  emptyCluster,
  evaluate,
  type Cluster,
} from '../src/network/index.js';

const PODS = Number(process.env.BENCH_NETPOL_PODS ?? 1000);
const POLICIES = Number(process.env.BENCH_NETPOL_POLICIES ?? 500);
const RUNS = Number(process.env.BENCH_NETPOL_RUNS ?? 3);
const NS = 20;
const TIERS = ['web', 'api', 'db', 'cache', 'queue'];
const PORTS = [80, 443, 5432, 6379, 8080, 9000];

let seed = 42;
const r = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;

function build(withPolicies: boolean): Cluster {
  seed = 42;
  const docs: string[] = [];
  for (let n = 0; n < NS; n++)
    docs.push(
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: ns${n}, labels: {env: ${n % 2 ? 'prod' : 'dev'}}}`,
    );
  for (let i = 0; i < PODS; i++) {
    const ports = [...new Set([pick(PORTS), ...(r() < 0.5 ? [pick(PORTS)] : [])])];
    docs.push(
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app${i}, namespace: ns${i % NS}}\nspec:\n  template:\n    metadata: {labels: {app: app${i}, tier: ${pick(TIERS)}, team: t${i % 4}}}\n    spec: {containers: [{name: c, ports: [${ports.map((p) => `{containerPort: ${p}, name: p${p}}`).join(', ')}]}]}`,
    );
  }
  const policies: string[] = [];
  for (let k = 0; k < POLICIES; k++) {
    const ns = `ns${k % NS}`;
    const head = `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p${k}, namespace: ${ns}}\nspec:\n`;
    const kind = k < NS ? 0 : 1 + (k % 4);
    if (kind === 0) policies.push(`${head}  podSelector: {}\n  policyTypes: [Ingress]`);
    else if (kind === 1)
      policies.push(
        `${head}  podSelector: {matchLabels: {tier: ${pick(TIERS)}}}\n  ingress:\n    - from: [{namespaceSelector: {matchLabels: {env: prod}}, podSelector: {matchLabels: {tier: ${pick(TIERS)}}}}]\n      ports: [{port: ${pick(PORTS)}}]`,
      );
    else if (kind === 2)
      policies.push(
        `${head}  podSelector: {matchExpressions: [{key: team, operator: In, values: [t${k % 4}, t${(k + 1) % 4}]}]}\n  ingress:\n    - from: [{podSelector: {matchExpressions: [{key: tier, operator: NotIn, values: [db]}]}}]\n      ports: [{port: p${pick(PORTS)}}]`,
      );
    else if (kind === 3)
      policies.push(
        `${head}  podSelector: {matchLabels: {app: app${Math.floor(r() * PODS)}}}\n  policyTypes: [Egress]\n  egress:\n    - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]\n    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]\n      ports: [{protocol: UDP, port: 53}]\n    - to: [{podSelector: {}}]\n      ports: [{port: 8000, endPort: 9000}]`,
      );
    else
      policies.push(
        `${head}  podSelector: {matchLabels: {tier: ${pick(TIERS)}}}\n  ingress:\n    - from: [{namespaceSelector: {}}]\n      ports: [{port: 443}]\n    - from: [{podSelector: {matchLabels: {team: t${k % 4}}}}]`,
      );
  }
  const c = emptyCluster();
  addManifestText(c, docs.join('\n---\n'), 'bench-workloads.yaml');
  if (withPolicies) addManifestText(c, policies.join('\n---\n'), 'bench-policies.yaml');
  completeNamespaces(c);
  return c;
}

/** Allowed (pair, port) decisions only: compile, then every check, no connection list built or sorted. */
function decide(c: Cluster): number {
  const ev = compile(c);
  let n = 0;
  const e = ev.endpoints.length;
  for (let s = 0; s < e; s++)
    for (let d = 0; d < e; d++)
      if (s !== d) for (const p of ev.portsOf(d)) if (ev.allowed(s, d, p.protocol, p.port)) n++;
  return n;
}

function best(
  c: Cluster,
  fn: (c: Cluster) => number = (x) => evaluate(x).length,
): { ms: number; conns: number } {
  fn(c);
  let ms = Infinity;
  let conns = 0;
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    conns = fn(c);
    ms = Math.min(ms, performance.now() - t);
  }
  return { ms, conns };
}

const plain = build(false);
const withPol = build(true);
const checks = plain.workloads.reduce((n, w) => n + w.ports.length, 0) * (PODS - 1);
const base = best(plain);
const meas = best(withPol);
const rate = (x: { ms: number }) => checks / (x.ms / 1000);
console.log(
  `topology: ${PODS} workloads in ${NS} namespaces, ${withPol.policies.length} policies, ${checks} (pair, port) checks`,
);
console.log(
  `baseline (no policies): ${base.ms.toFixed(0)} ms, ${(rate(base) / 1e6).toFixed(2)}M checks/s, ${base.conns} connections`,
);
console.log(
  `netpol eval (${withPol.policies.length} policies): ${meas.ms.toFixed(0)} ms, ${(rate(meas) / 1e6).toFixed(2)}M checks/s, ${meas.conns} allowed connections (${(meas.conns / (meas.ms / 1000) / 1e6).toFixed(2)}M connections/s)`,
);
console.log(
  `ratio: ${(rate(meas) / rate(base)).toFixed(2)}x the no-policy enumeration (which builds and sorts every pair)`,
);
const dBase = best(plain, decide);
const dMeas = best(withPol, decide);
console.log(
  `decisions only (no list): baseline ${dBase.ms.toFixed(0)} ms (${(rate(dBase) / 1e6).toFixed(2)}M checks/s), with policies ${dMeas.ms.toFixed(0)} ms (${(rate(dMeas) / 1e6).toFixed(2)}M checks/s), ratio ${(rate(dMeas) / rate(dBase)).toFixed(2)}x`,
);
if (dMeas.conns !== meas.conns) throw new Error(`decision count ${dMeas.conns} != eval ${meas.conns}`);

// the flow path: conntrack lines → records → attributed, deduplicated aggregates
const FLOWS = Number(process.env.BENCH_NETPOL_FLOWS ?? 200_000);
const ipOf = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const inventory = plain.workloads.map((w, i) => ({ ...w, ips: [ipOf(i + 1)], netns: [] }));
seed = 7;
const lines: string[] = [];
for (let k = 0; lines.length < FLOWS; k++) {
  const a = Math.floor(r() * PODS);
  const b = (a + 1 + Math.floor(r() * (PODS - 1))) % PODS;
  const dport = plain.workloads[b]!.ports[0]!.port;
  const sport = 32768 + (k % 28000);
  const l = `[NEW] tcp      6 120 SYN_SENT src=${ipOf(a + 1)} dst=${ipOf(b + 1)} sport=${sport} dport=${dport} [UNREPLIED] src=${ipOf(b + 1)} dst=${ipOf(a + 1)} sport=${dport} dport=${sport}`;
  lines.push(l, l); // seen in the client's and the server's namespace
}
const text = lines.join('\n');
const conns = lines.length / 2;
const parseOnly = best(plain, () => parseFlows(text, 'bench').length);
let aggregated = 0;
const flowPath = best(plain, () => {
  const agg = new FlowAggregator(new Attributor(inventory));
  for (const f of parseFlows(text, 'bench')) agg.add(f);
  const res = agg.results();
  aggregated = res.length;
  return res.reduce((n, f) => n + f.count, 0);
});
if (flowPath.conns !== conns) throw new Error(`counted ${flowPath.conns} connections, expected ${conns}`);
const cps = (x: { ms: number }) => conns / (x.ms / 1000);
console.log(
  `flows: ${lines.length} conntrack lines (${conns} connections, each seen at both ends) → ${aggregated} aggregates`,
);
console.log(
  `baseline (parse): ${(cps(parseOnly) / 1000).toFixed(0)}k connections/s (${parseOnly.ms.toFixed(0)} ms)`,
);
console.log(
  `parse + attribute + dedupe + aggregate: ${(cps(flowPath) / 1000).toFixed(0)}k connections/s (${flowPath.ms.toFixed(0)} ms); at 1,000 new connections/s: ${((1000 / cps(flowPath)) * 100).toFixed(2)}% of a core`,
);
console.log(`ratio: ${(cps(flowPath) / cps(parseOnly)).toFixed(2)}x parsing alone`);
