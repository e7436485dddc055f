/**
 * Protect mode where no CNI enforces NetworkPolicies: the policies that select a pod, translated
 * into iptables rules for the pod's own network namespace (INPUT for ingress, OUTPUT for egress),
 * in iptables-restore format for the filter table. New connections a direction is isolated in
 * are accepted only by the translated rules and rejected otherwise (TCP reset, ICMP
 * port-unreachable), so a blocked probe fails at once; replies pass through conntrack.
 *
 * Selector peers are resolved to the IPs of the matching workloads known at translation time
 * (re-translate when pods change); ipBlock peers become source/destination CIDRs with a chain
 * that returns for the except blocks; named ports are resolved against the destination's
 * container ports. `family: 6` gives the ip6tables-restore input for the IPv6 addresses (with
 * neighbour discovery let through).
 */
import { parseIp } from './cidr.js';
import type { Cluster, Policy, PolicyPort, Rule, Workload } from './model.js';
import { matches } from './selector.js';

export type WorkloadMode = 'discover' | 'monitor' | 'protect';

export interface IptablesOptions {
  /**
   * protect (default): connections outside the policies are rejected; monitor: they are logged
   * to NFLOG (group `nflogGroup`, default 1, prefix bwk-ingress / bwk-egress) and accepted;
   * discover: no policy chains, only conntrack active so flows can be learned
   */
  mode?: WorkloadMode;
  /** 4 (default): iptables-restore input for the IPv4 addresses; 6: ip6tables-restore input for the IPv6 ones */
  family?: 4 | 6;
  /** DROP instead of REJECT for blocked connections */
  drop?: boolean;
  /** also log new connections to NFLOG group N (keeps conntrack events flowing for monitoring) */
  nflogGroup?: number;
}

interface Dest {
  /** -s / -d argument; undefined = any address */
  cidr?: string;
  except: string[];
  /** for resolving named ports (the destination workload; undefined for ipBlocks and "all") */
  workload?: Workload;
}

const ofFamily = (fam: 4 | 6) => (ip: string) => parseIp(ip)?.family === fam;
const host = (ip: string, fam: 4 | 6) => `${ip}/${fam === 4 ? 32 : 128}`;

function selects(p: Policy, w: Workload): boolean {
  return p.namespace === w.namespace && matches(p.podSelector, w.labels);
}

/** The peers of a rule as address sets. */
function peersOf(c: Cluster, policy: Policy, rule: Rule, self: Workload, fam: 4 | 6): Dest[] | undefined {
  if (!rule.peers) return undefined;
  const out: Dest[] = [];
  for (const peer of rule.peers) {
    if (peer.ipBlock) {
      if (peer.ipBlock.cidr.family === fam)
        out.push({
          cidr: peer.ipBlock.cidr.text,
          except: peer.ipBlock.except.filter((e) => e.family === fam).map((e) => e.text),
        });
      continue;
    }
    for (const w of c.workloads) {
      if (w === self) continue;
      const nsLabels = c.namespaces.get(w.namespace)?.labels ?? {};
      if (
        peer.namespaceSelector ? !matches(peer.namespaceSelector, nsLabels) : w.namespace !== policy.namespace
      )
        continue;
      if (peer.podSelector && !matches(peer.podSelector, w.labels)) continue;
      for (const ip of w.ips.filter(ofFamily(fam)))
        out.push({ cidr: host(ip, fam), except: [], workload: w });
    }
  }
  return out;
}

/** `-p tcp --dport 80` fragments of a rule's ports for one destination workload (undefined = unknown). */
function portArgs(
  ports: PolicyPort[] | undefined,
  dst: Workload | undefined,
  all: Workload[],
  fam: 4 | 6,
): { args: string; dst?: string }[] {
  if (!ports) return [{ args: '' }];
  const out: { args: string; dst?: string }[] = [];
  for (const p of ports) {
    const proto = `-p ${p.protocol.toLowerCase()}`;
    if (p.port === undefined) out.push({ args: proto });
    else if (typeof p.port === 'number')
      out.push({
        args: `${proto} --dport ${p.port}${p.endPort && p.endPort !== p.port ? `:${p.endPort}` : ''}`,
      });
    else {
      // a named port: the destination's container port of that name and protocol
      for (const w of dst ? [dst] : all)
        for (const cp of w.ports)
          if (cp.name === p.port && cp.protocol === p.protocol)
            out.push({
              args: `${proto} --dport ${cp.port}`,
              ...(dst
                ? {}
                : {
                    dst: w.ips
                      .filter(ofFamily(fam))
                      .map((ip) => host(ip, fam))
                      .join(','),
                  }),
            });
    }
  }
  return out;
}

/** iptables-restore input (filter table) enforcing the policies that select `w` inside its network namespace. */
export function iptablesRules(c: Cluster, w: Workload, opts: IptablesOptions = {}): string {
  const lines: string[] = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];
  const chains: string[] = [];
  const rules: string[] = [];
  const ingressPolicies = c.policies.filter((p) => p.types.ingress && selects(p, w));
  const egressPolicies = c.policies.filter((p) => p.types.egress && selects(p, w));
  const fam = opts.family ?? 4;
  const selfIps = w.ips.filter(ofFamily(fam));
  const mode = opts.mode ?? 'protect';
  const reject = (chain: string) =>
    mode === 'monitor'
      ? [
          `-A ${chain} -m comment --comment "bulwark monitor: outside the policies" -j NFLOG --nflog-group ${opts.nflogGroup ?? 1} --nflog-prefix ${chain === 'BWK-INGRESS' ? 'bwk-ingress' : 'bwk-egress'}`,
          `-A ${chain} -j ACCEPT`,
        ]
      : opts.drop
        ? [`-A ${chain} -j DROP`]
        : [
            `-A ${chain} -p tcp -j REJECT --reject-with tcp-reset`,
            `-A ${chain} -j REJECT --reject-with ${fam === 4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable'}`,
          ];
  let n = 0;
  const emit = (dir: 'in' | 'out', policies: Policy[]) => {
    const main = dir === 'in' ? 'BWK-INGRESS' : 'BWK-EGRESS';
    const flag = dir === 'in' ? '-s' : '-d';
    chains.push(`:${main} - [0:0]`);
    for (const p of policies)
      for (const r of dir === 'in' ? p.ingress : p.egress) {
        const comment = `-m comment --comment "${p.namespace}/${p.name}"`;
        const peers = peersOf(c, p, r, w, fam);
        const dests: Dest[] = peers ?? [{ except: [] }];
        for (const d of dests) {
          // for ingress the destination is the pod itself; for egress the peer
          const dstWl = dir === 'in' ? w : d.workload;
          const ports = portArgs(r.ports, dstWl, dir === 'in' || d.cidr ? [] : c.workloads, fam);
          let chain = main;
          if (d.except.length) {
            chain = `BWK-${dir.toUpperCase()}-${++n}`;
            chains.push(`:${chain} - [0:0]`);
            rules.push(`-A ${main} ${flag} ${d.cidr} ${comment} -j ${chain}`);
            for (const e of d.except) rules.push(`-A ${chain} ${flag} ${e} -j RETURN`);
          }
          const addr = d.cidr && chain === main ? ` ${flag} ${d.cidr}` : '';
          for (const pa of ports) {
            const extra = pa.dst ? ` ${flag} ${pa.dst}` : '';
            if (pa.dst === '') continue;
            rules.push(`-A ${chain}${addr}${extra}${pa.args ? ` ${pa.args}` : ''} ${comment} -j ACCEPT`);
          }
        }
      }
    rules.push(...reject(main));
  };
  const head: string[] = [];
  for (const [chain, iface] of [
    ['INPUT', '-i lo'],
    ['OUTPUT', '-o lo'],
  ] as const) {
    head.push(`-A ${chain} ${iface} -j ACCEPT`);
    // IPv6 needs neighbour discovery and router messages, which NetworkPolicy does not govern
    if (fam === 6)
      for (const t of [133, 134, 135, 136])
        head.push(`-A ${chain} -p ipv6-icmp --icmpv6-type ${t} -j ACCEPT`);
    head.push(`-A ${chain} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`);
    if (opts.nflogGroup !== undefined || mode === 'discover')
      head.push(`-A ${chain} -m conntrack --ctstate NEW -j NFLOG --nflog-group ${opts.nflogGroup ?? 1}`);
  }
  if (mode === 'discover') return [...lines, ...head, 'COMMIT', ''].join('\n');
  if (ingressPolicies.length) {
    emit('in', ingressPolicies);
    head.push(`-A INPUT${selfIps.length ? ` -d ${selfIps.join(',')}` : ''} -j BWK-INGRESS`);
  }
  if (egressPolicies.length) {
    emit('out', egressPolicies);
    head.push('-A OUTPUT -j BWK-EGRESS');
  }
  return [...lines, ...chains, ...head, ...rules, 'COMMIT', ''].join('\n');
}
