/**
 * Flow records: a superset of Cilium Hubble's flow (observer.Flow as `hubble observe -o json`
 * prints it) — source and destination workload identity (namespace, workload name and kind,
 * pod, labels), IP, port, protocol, L7 where known (HTTP, DNS, Kafka), verdict — with the
 * aggregation Hubble leaves to its consumers: a count and first/last seen per
 * (source, destination, protocol, port, verdict).
 *
 * Importers: Hubble JSON lines (`{"flow": {...}}` or a bare flow), conntrack event and table lines
 * (`conntrack -E`, `conntrack -L`, /proc/net/nf_conntrack; optionally prefixed `netns=NAME`), and
 * Bulwark's own flow records (JSON lines). IPs and network namespaces are attributed to workloads
 * through an inventory (--workloads) where no kubelet tells who owns them.
 */
import { BulwarkError } from '../core/errors.js';
import { parseIp } from './cidr.js';
import type { Labels } from './selector.js';
import type { InventoryEntry, ServiceEntry } from './workloads.js';

export type FlowProtocol = 'TCP' | 'UDP' | 'SCTP' | 'ICMPv4' | 'ICMPv6';
export type Verdict =
  'FORWARDED' | 'DROPPED' | 'ERROR' | 'AUDIT' | 'REDIRECTED' | 'TRACED' | 'TRANSLATED' | 'UNKNOWN';

export interface FlowEndpoint {
  /** a pod's namespace; absent for external addresses */
  namespace?: string;
  /** the workload: controller name, or the pod name for a bare pod */
  name?: string;
  /** controller kind (Deployment, StatefulSet, ...), Pod for a bare pod */
  kind?: string;
  pod?: string;
  labels: Labels;
  ip?: string;
  port?: number;
  /** Cilium security identity, where known */
  identity?: number;
  /** DNS names the address was resolved from (Hubble's destination_names) */
  names?: string[];
  /** Cilium reserved identities (world, host, kube-apiserver, ...) */
  reserved?: string[];
  /** network namespace of this end's socket (sensor events: the local end) */
  netns?: string;
  /** container id (12+ hex chars), from the runtime sensor */
  containerId?: string;
}

export interface L7Record {
  type?: string;
  latencyNs?: number;
  http?: { method?: string; url?: string; code?: number; protocol?: string };
  dns?: { query?: string; ips?: string[]; rcode?: number; qtypes?: string[] };
  kafka?: { apiKey?: string; topic?: string; errorCode?: number };
}

export interface FlowRecord {
  source: FlowEndpoint;
  destination: FlowEndpoint;
  protocol: FlowProtocol;
  /** destination port (absent for ICMP) */
  port?: number;
  verdict: Verdict;
  dropReason?: string;
  trafficDirection?: 'INGRESS' | 'EGRESS';
  l7?: L7Record;
  count: number;
  firstSeen?: string;
  lastSeen?: string;
  node?: string;
  /** where the record came from */
  observer: 'hubble' | 'conntrack' | 'bulwark';
  /** the network namespace the record was read in (conntrack in a pod's namespace) */
  observedIn?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Labels Cilium adds that are not the pod's own, and per-pod or per-revision labels no selector should use. */
const DROP_LABEL =
  /^(io\.kubernetes\.pod\.namespace|io\.cilium\.k8s\.|io\.kubernetes\.pod\.|pod-template-hash$|controller-revision-hash$|statefulset\.kubernetes\.io\/pod-name$|apps\.kubernetes\.io\/pod-index$|controller-uid$|batch\.kubernetes\.io\/controller-uid$)/;

function hubbleLabels(v: unknown): { labels: Labels; reserved: string[] } {
  const labels: Labels = {};
  const reserved: string[] = [];
  for (const l of Array.isArray(v) ? v : []) {
    if (typeof l !== 'string') continue;
    const colon = l.indexOf(':');
    const source = colon > 0 ? l.slice(0, colon) : '';
    const kv = colon > 0 ? l.slice(colon + 1) : l;
    if (source === 'reserved') {
      reserved.push(kv);
      continue;
    }
    if (source && source !== 'k8s') continue; // container:, cidr:, fqdn: labels are not pod labels
    const eq = kv.indexOf('=');
    const k = eq >= 0 ? kv.slice(0, eq) : kv;
    if (DROP_LABEL.test(k)) continue;
    labels[k] = eq >= 0 ? kv.slice(eq + 1) : '';
  }
  return { labels, reserved };
}

/** Workload-relevant labels only (drops pod-template-hash and the like). */
export function selectorLabels(l: Labels): Labels {
  return Object.fromEntries(Object.entries(l).filter(([k]) => !DROP_LABEL.test(k)));
}

function hubbleEndpoint(e: unknown, ip: string | undefined, port: number | undefined): FlowEndpoint {
  const o = isObj(e) ? e : {};
  const { labels, reserved } = hubbleLabels(o.labels);
  const ep: FlowEndpoint = { labels, ...(ip ? { ip } : {}), ...(port ? { port } : {}) };
  const ns = str(o.namespace);
  const pod = str(o.pod_name);
  if (ns && pod) {
    ep.namespace = ns;
    ep.pod = pod;
    const wl = Array.isArray(o.workloads) ? o.workloads.find(isObj) : undefined;
    ep.name = str(wl?.name) ?? pod;
    ep.kind = str(wl?.kind) ?? 'Pod';
  }
  const id = num(o.identity);
  if (id !== undefined) ep.identity = id;
  if (reserved.length) ep.reserved = reserved;
  return ep;
}

const VERDICTS = new Set(['FORWARDED', 'DROPPED', 'ERROR', 'AUDIT', 'REDIRECTED', 'TRACED', 'TRANSLATED']);

/** Converts one Hubble flow (the object under "flow", or a bare one) to a record; undefined for non-flow events. */
export function fromHubble(v: unknown, where = 'hubble flow'): FlowRecord | undefined {
  if (!isObj(v)) throw new BulwarkError('PARSE', `${where}: expected a JSON object`);
  const f = isObj(v.flow)
    ? v.flow
    : v.source !== undefined || v.IP !== undefined || v.l4 !== undefined
      ? v
      : undefined;
  if (!f) return undefined; // agent_event, debug_event, lost_events
  const ipo = isObj(f.IP) ? f.IP : {};
  const l4 = isObj(f.l4) ? f.l4 : {};
  let protocol: FlowProtocol | undefined;
  let sport: number | undefined;
  let dport: number | undefined;
  for (const p of ['TCP', 'UDP', 'SCTP', 'ICMPv4', 'ICMPv6'] as const) {
    const x = l4[p];
    if (isObj(x)) {
      protocol = p;
      sport = num(x.source_port);
      dport = num(x.destination_port);
    }
  }
  if (!protocol) return undefined; // an L2 or unknown-L4 flow names no connection
  const time = str(f.time) ?? str(v.time);
  const rec: FlowRecord = {
    source: hubbleEndpoint(f.source, str(ipo.source), sport),
    destination: hubbleEndpoint(f.destination, str(ipo.destination), dport),
    protocol,
    ...(dport !== undefined ? { port: dport } : {}),
    verdict: (VERDICTS.has(String(f.verdict)) ? f.verdict : 'UNKNOWN') as Verdict,
    count: 1,
    observer: 'hubble',
    ...(time ? { firstSeen: time, lastSeen: time } : {}),
  };
  const names = Array.isArray(f.destination_names)
    ? f.destination_names.filter((x): x is string => typeof x === 'string')
    : [];
  if (names.length) rec.destination.names = names;
  const dir = str(f.traffic_direction);
  if (dir === 'INGRESS' || dir === 'EGRESS') rec.trafficDirection = dir;
  const drop = str(f.drop_reason_desc);
  if (drop) rec.dropReason = drop;
  const node = str(f.node_name) ?? str(v.node_name);
  if (node) rec.node = node;
  if (isObj(f.l7)) {
    const l7: L7Record = {};
    if (str(f.l7.type)) l7.type = str(f.l7.type);
    if (num(f.l7.latency_ns) !== undefined) l7.latencyNs = num(f.l7.latency_ns);
    if (isObj(f.l7.http)) {
      const h = f.l7.http;
      l7.http = { method: str(h.method), url: str(h.url), code: num(h.code), protocol: str(h.protocol) };
    }
    if (isObj(f.l7.dns)) {
      const d = f.l7.dns;
      l7.dns = {
        query: str(d.query),
        ips: Array.isArray(d.ips) ? d.ips.map(String) : undefined,
        rcode: num(d.rcode),
        qtypes: Array.isArray(d.qtypes) ? d.qtypes.map(String) : undefined,
      };
    }
    if (isObj(f.l7.kafka)) {
      const k = f.l7.kafka;
      l7.kafka = { apiKey: str(k.api_key), topic: str(k.topic), errorCode: num(k.error_code) };
    }
    rec.l7 = l7;
  }
  // a reply travels from the server back to the client: the connection is the reverse
  if (f.is_reply === true) (rec as FlowRecord & { reply?: boolean }).reply = true;
  return rec;
}

const CT_PROTO: Record<string, FlowProtocol> = {
  tcp: 'TCP',
  udp: 'UDP',
  sctp: 'SCTP',
  icmp: 'ICMPv4',
  icmpv6: 'ICMPv6',
};

/**
 * Parses a conntrack line: `conntrack -E` ("[NEW] tcp 6 120 SYN_SENT src=.. dst=.. sport=.. dport=.. ..."),
 * `conntrack -L` or /proc/net/nf_conntrack ("ipv4 2 tcp 6 117 TIME_WAIT src=..."); an optional
 * `netns=NAME` prefix names the namespace it was read in, an optional `[epoch.usec]` the time.
 * Only the original direction (the first src/dst) is used; update and destroy events are skipped.
 */
export function fromConntrack(line: string): FlowRecord | undefined {
  let rest = line.trim();
  let netns: string | undefined;
  const ns = /^netns=(\S+)\s+/.exec(rest);
  if (ns) {
    netns = ns[1];
    rest = rest.slice(ns[0].length);
  }
  let time: string | undefined;
  const ts = /^\[(\d+)\.(\d+)\]\s*/.exec(rest);
  if (ts) {
    time = new Date(Number(ts[1]) * 1000 + Math.floor(Number(`0.${ts[2]}`) * 1000)).toISOString();
    rest = rest.slice(ts[0].length);
  }
  const ev = /^\[(NEW|UPDATE|DESTROY)\]\s*/.exec(rest);
  if (ev) {
    if (ev[1] !== 'NEW') return undefined;
    rest = rest.slice(ev[0].length);
  }
  const proto = /(?:^|\s)(tcp|udp|sctp|icmp|icmpv6)\s+\d+\s/.exec(rest);
  if (!proto) return undefined;
  const field = (k: string) => new RegExp(`(?:^|\\s)${k}=(\\S+)`).exec(rest)?.[1];
  const src = field('src');
  const dst = field('dst');
  if (!src || !dst || !parseIp(src) || !parseIp(dst)) return undefined;
  const protocol = CT_PROTO[proto[1]!]!;
  const dport = field('dport');
  const sport = field('sport');
  return {
    source: { labels: {}, ip: src, ...(sport ? { port: Number(sport) } : {}) },
    destination: { labels: {}, ip: dst, ...(dport ? { port: Number(dport) } : {}) },
    protocol,
    ...(dport ? { port: Number(dport) } : {}),
    verdict: 'FORWARDED',
    count: 1,
    observer: 'conntrack',
    // where it was read; not an endpoint's: both ends' namespaces see the same entry
    ...(netns ? { observedIn: netns } : {}),
    ...(time ? { firstSeen: time, lastSeen: time } : {}),
  };
}

function fromBulwark(o: Obj, where: string): FlowRecord {
  const ep = (e: unknown, w: string): FlowEndpoint => {
    if (!isObj(e)) throw new BulwarkError('PARSE', `${where}: ${w}: expected an object`);
    return { ...(e as unknown as FlowEndpoint), labels: isObj(e.labels) ? (e.labels as Labels) : {} };
  };
  const protocol = String(o.protocol) as FlowProtocol;
  if (!['TCP', 'UDP', 'SCTP', 'ICMPv4', 'ICMPv6'].includes(protocol))
    throw new BulwarkError('PARSE', `${where}: protocol: expected TCP, UDP, SCTP, ICMPv4 or ICMPv6`);
  return {
    ...(o as unknown as FlowRecord),
    source: ep(o.source, 'source'),
    destination: ep(o.destination, 'destination'),
    protocol,
    verdict: (VERDICTS.has(String(o.verdict)) ? o.verdict : 'FORWARDED') as Verdict,
    count: num(o.count) ?? 1,
    observer: (str(o.observer) as FlowRecord['observer']) ?? 'bulwark',
  };
}

/**
 * Parses a flows file: one record per line, each a Hubble JSON line, a Bulwark flow record or a
 * conntrack line. Blank lines and `#` comments are skipped; anything else is an error naming the line.
 */
export function parseFlows(text: string, where = 'flows', firstLine = 1): FlowRecord[] {
  const out: FlowRecord[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const w = `${where}:${i + firstLine}`;
    if (line.startsWith('{')) {
      let o: unknown;
      try {
        o = JSON.parse(line);
      } catch (e) {
        throw new BulwarkError('PARSE', `${w}: invalid JSON: ${(e as Error).message}`, { subject: where });
      }
      const r =
        isObj(o) && typeof o.protocol === 'string' && isObj(o.source) ? fromBulwark(o, w) : fromHubble(o, w);
      if (r) out.push(r);
      return;
    }
    const ct = fromConntrack(line);
    if (ct) out.push(ct);
    else if (
      !/^\[(UPDATE|DESTROY)\]|\[(UPDATE|DESTROY)\]/.test(line) &&
      !/conntrack v\d|flow (entries|events) have been shown/.test(line)
    )
      throw new BulwarkError(
        'PARSE',
        `${w}: not a Hubble JSON line, flow record or conntrack entry: ${line.slice(0, 80)}`,
        {
          subject: where,
        },
      );
  });
  return out;
}

/**
 * Resolves IPs and network namespaces to workloads of an inventory (and Service IPs to the workload
 * their selector picks); unknown addresses stay external. DNS answers it is shown (Hubble L7 DNS)
 * name the external addresses they resolved to.
 */
export class Attributor {
  private readonly byIp = new Map<string, InventoryEntry>();
  private readonly byNetns = new Map<string, InventoryEntry>();
  private readonly byContainer = new Map<string, InventoryEntry>();
  private readonly bySvc = new Map<string, InventoryEntry>();
  private readonly dns = new Map<string, Set<string>>();
  /** grows whenever an address or container is learned (attributions made before may change) */
  version = 0;

  constructor(inventory: InventoryEntry[] = [], services: ServiceEntry[] = []) {
    for (const w of inventory) {
      for (const ip of w.ips) if (!this.byIp.has(ip)) this.byIp.set(ip, w);
      for (const n of w.netns) this.byNetns.set(n, w);
      for (const c of w.containers ?? []) this.byContainer.set(c.slice(0, 12), w);
    }
    // a Service's virtual IP stands for the workload its selector picks (when exactly one does)
    for (const svc of services) {
      const picked = inventory.filter(
        (w) =>
          w.namespace === svc.namespace &&
          Object.keys(svc.selector).length > 0 &&
          Object.entries(svc.selector).every(([k, v]) => w.labels[k] === v),
      );
      if (picked.length === 1) for (const ip of svc.ips) this.bySvc.set(ip, picked[0]!);
    }
  }

  /**
   * A container's workload learned at run time (the agent reads it from the container runtime's
   * state): flows of the container, and of the addresses it used, are attributed to it.
   */
  learnContainer(containerId: string, w: InventoryEntry): void {
    const k = containerId.slice(0, 12);
    if (!this.byContainer.has(k)) {
      this.byContainer.set(k, w);
      this.version++;
    }
  }

  /** Records the DNS answer a flow carries, if any. */
  observe(f: FlowRecord): void {
    const d = f.l7?.dns;
    if (!d?.query || !d.ips) return;
    for (const ip of d.ips) {
      if (!this.dns.has(ip)) this.dns.set(ip, new Set());
      this.dns.get(ip)!.add(d.query.replace(/\.$/, ''));
    }
  }

  /** DNS names an address was resolved from, as far as seen. */
  namesOf(ip: string): string[] | undefined {
    const n = this.dns.get(ip);
    return n ? [...n].sort() : undefined;
  }

  private container(e: FlowEndpoint): InventoryEntry | undefined {
    const w = e.containerId ? this.byContainer.get(e.containerId.slice(0, 12)) : undefined;
    // the address a container (or namespace) used is its pod's: learn it for the other end's records
    if (w && e.ip && !this.byIp.has(e.ip)) {
      this.byIp.set(e.ip, w);
      this.version++;
    }
    return w;
  }

  private netns(e: FlowEndpoint): InventoryEntry | undefined {
    const w = e.netns ? this.byNetns.get(e.netns) : undefined;
    if (w && e.ip && !this.byIp.has(e.ip)) {
      this.byIp.set(e.ip, w);
      this.version++;
    }
    return w;
  }

  /** An external endpoint whose address has since been learned, attributed; else as it is. */
  resolve(e: FlowEndpoint): FlowEndpoint {
    return !e.namespace && e.ip ? this.fill(e, this.byIp.get(e.ip)) : e;
  }

  private fill(e: FlowEndpoint, w: InventoryEntry | undefined): FlowEndpoint {
    if (!w || e.namespace) return e;
    return {
      ...e,
      namespace: w.namespace,
      name: w.name,
      kind: w.kind,
      labels: { ...w.labels },
      ...(w.pods?.[0] ? { pod: w.pods[0] } : {}),
    };
  }

  /** What attribute() learns from a record (a container's or namespace's address), without building the attributed copy. */
  learn(f: FlowRecord): void {
    const s = f.source;
    const d = f.destination;
    if (!d.ip || (!this.byIp.has(d.ip) && !this.bySvc.has(d.ip))) this.container(d);
    if (!s.ip || !this.byIp.has(s.ip)) {
      if (!this.netns(s)) this.container(s);
    }
  }

  attribute(f: FlowRecord): FlowRecord {
    const src = f.source;
    const dst = f.destination;
    const destination = this.fill(
      dst,
      (dst.ip ? (this.byIp.get(dst.ip) ?? this.bySvc.get(dst.ip)) : undefined) ?? this.container(dst),
    );
    const names = !destination.namespace && dst.ip && !destination.names ? this.namesOf(dst.ip) : undefined;
    return {
      ...f,
      source: this.fill(src, (src.ip && this.byIp.get(src.ip)) || this.netns(src) || this.container(src)),
      destination: names ? { ...destination, names } : destination,
    };
  }
}

/** Attributes a batch of records (DNS answers anywhere in the batch name external addresses). */
export function attribute(
  flows: FlowRecord[],
  inventory: InventoryEntry[],
  services: ServiceEntry[] = [],
): FlowRecord[] {
  const a = new Attributor(inventory, services);
  for (const f of flows) a.observe(f);
  return flows.map((f) => a.attribute(f));
}

export function endpointKey(e: FlowEndpoint): string {
  return e.namespace && e.name ? `${e.namespace}/${e.name}[${e.kind ?? 'Pod'}]` : `${e.ip ?? '?'}[External]`;
}

function isLoopback(ip: string | undefined): boolean {
  return !!ip && (ip.startsWith('127.') || ip === '::1');
}

/**
 * A record as a connection from client to server: a reply turned around; undefined for loopback
 * and for a workload's traffic to itself.
 */
export function orient(f0: FlowRecord): FlowRecord | undefined {
  let f = f0;
  if ((f as FlowRecord & { reply?: boolean }).reply) {
    const { reply: _r, ...rest } = f as FlowRecord & { reply?: boolean };
    void _r;
    f = { ...rest, source: f.destination, destination: f.source, port: f.source.port } as FlowRecord;
    if (f.port === undefined) delete f.port;
  }
  if (isLoopback(f.source.ip) || isLoopback(f.destination.ip)) return undefined;
  if (endpointKey(f.source) === endpointKey(f.destination)) return undefined;
  return f;
}

/**
 * Aggregates records into one per (source, destination, protocol, port, verdict): counts add up,
 * first/last seen span them. Replies are turned around, loopback and a workload's traffic to
 * itself dropped; the client's ephemeral port is not part of the key, but one 5-tuple seen twice
 * (at both ends, or by conntrack and Hubble) within a window counts once. Memory grows with the
 * distinct connections, not with the records: a flow stream of any length can be fed to add().
 */
export class FlowAggregator {
  private readonly out = new Map<string, FlowRecord>();
  /** recent connections by 5-tuple → time seen (ms; NaN when unknown) and the vantages that saw it, oldest first */
  private recent = new Map<string, RecentConn>();
  /** the generation before `recent`: two generations of maxRecent/2 bound the memory, and
   * dropping a whole generation costs nothing per record (deleting the oldest key of one big
   * Map, record after record, made every lookup slow) */
  private older = new Map<string, RecentConn>();
  /** the last firstSeen parsed (records of one interval share their timestamps' text) */
  private lastIso = '';
  private lastT = NaN;
  /** raw ends of a record → the key of its aggregated edge (null: dropped), for the attributor's version */
  private readonly edgeOf = new Map<string, string | null>();
  private edgeVersion = -1;
  constructor(
    private readonly attributor?: Attributor,
    /** the same 5-tuple within this window is one connection (seen at both ends, or by two observers) */
    private readonly dedupeMs = 120_000,
    private readonly maxRecent = 200_000,
  ) {}

  /**
   * True when this record's connection (protocol, client ip:port, server ip:port) was already
   * counted: the same 5-tuple within the window, seen from another vantage (the other end, another
   * namespace's conntrack, another observer). The sensor's connect/accept and conntrack's NEW see
   * each connection once per vantage, so the same 5-tuple from the same vantage is a new
   * connection on a reused client port (a busy client reuses ports within seconds); Hubble reports
   * every packet event of a connection, so its repeats stay one connection.
   */
  private duplicate(f: FlowRecord): boolean {
    if (f.source.port === undefined || !f.source.ip || !f.destination.ip || f.port === undefined)
      return false;
    const k = `${f.protocol} ${f.source.ip} ${f.source.port} ${f.destination.ip} ${f.port} ${f.verdict}`;
    let t = NaN;
    if (f.firstSeen) {
      if (f.firstSeen !== this.lastIso) {
        this.lastIso = f.firstSeen;
        this.lastT = Date.parse(f.firstSeen);
      }
      t = this.lastT;
    }
    const vantage = `${f.observer} ${f.observedIn ?? ''} ${f.trafficDirection ?? ''} ${f.node ?? ''}`;
    const prev = this.recent.get(k) ?? this.older.get(k);
    if (
      prev !== undefined &&
      (Number.isNaN(prev.t) || Number.isNaN(t) || Math.abs(t - prev.t) < this.dedupeMs)
    ) {
      if (prev.v !== vantage && !prev.more?.includes(vantage)) {
        (prev.more ??= []).push(vantage);
        return true;
      }
      if (f.observer === 'hubble') return true;
    }
    this.recent.set(k, { t, v: vantage });
    if (this.recent.size >= this.maxRecent / 2) {
      this.older = this.recent;
      this.recent = new Map();
    }
    return false;
  }

  add(f0: FlowRecord): void {
    const a = this.attributor;
    a?.observe(f0);
    // the other end's record of a counted connection (half of the sensor's): only what it teaches
    // about addresses matters, so it skips attribution (attribution keeps addresses and ports, and
    // only a reply is turned around, so the 5-tuple is the same before and after)
    const reply = (f0 as FlowRecord & { reply?: boolean }).reply === true;
    if (!reply && this.duplicate(f0)) {
      a?.learn(f0);
      return;
    }
    // a raw record (addresses, namespace, container: the sensor's and conntrack's) of an edge
    // already aggregated: its edge is known from the same raw ends, so attribution is skipped
    // (the cache is dropped whenever the attributor learns an address)
    let raw: string | undefined;
    if (!reply && isRaw(f0)) {
      if (a && a.version !== this.edgeVersion) {
        this.edgeOf.clear();
        this.edgeVersion = a.version;
      }
      const s = f0.source;
      const d = f0.destination;
      raw = `${f0.protocol} ${f0.port ?? ''} ${f0.verdict} ${s.ip ?? ''} ${s.netns ?? ''} ${s.containerId ?? ''} ${d.ip ?? ''} ${d.netns ?? ''} ${d.containerId ?? ''}`;
      const k = this.edgeOf.get(raw);
      if (k === null) return; // loopback, or a workload's traffic to itself
      const have = k !== undefined ? this.out.get(k) : undefined;
      if (have) {
        mergeInto(have, f0);
        return;
      }
    }
    const f = orient(a ? a.attribute(f0) : f0);
    const k = f
      ? `${endpointKey(f.source)} ${endpointKey(f.destination)} ${f.protocol} ${f.port ?? ''} ${f.verdict}`
      : null;
    if (raw !== undefined && (!a || a.version === this.edgeVersion)) {
      if (this.edgeOf.size >= 100_000) this.edgeOf.clear();
      this.edgeOf.set(raw, k);
    }
    if (!f || k === null || (reply && this.duplicate(f))) return;
    const have = this.out.get(k);
    if (!have) {
      const { port: _sp, ...src } = f.source;
      void _sp;
      this.out.set(k, { ...f, source: src, destination: { ...f.destination }, count: f.count });
      return;
    }
    mergeInto(have, f);
  }

  /**
   * The records aggregated since the last drain, and forgets them (an agent ships one interval at
   * a time); the de-duplication of 5-tuples seen twice spans intervals.
   */
  drain(): FlowRecord[] {
    const r = this.results();
    this.out.clear();
    return r;
  }

  /** The aggregated records, sorted; external destinations get the DNS names seen for them. */
  results(): FlowRecord[] {
    const merged = new Map<string, FlowRecord>();
    for (const r0 of this.out.values()) {
      // addresses learned after a record was added (the server's container seen on its accept)
      const a = this.attributor;
      const r = a
        ? { ...r0, source: a.resolve(r0.source), destination: a.resolve(r0.destination) }
        : { ...r0 };
      if (!r.destination.namespace && r.destination.ip && !r.destination.names) {
        const n = a?.namesOf(r.destination.ip);
        if (n) r.destination.names = n;
      }
      if (endpointKey(r.source) === endpointKey(r.destination)) continue;
      const k = `${flowLine(r)} ${r.verdict}`;
      const have = merged.get(k);
      if (!have) merged.set(k, r);
      else {
        have.count += r.count;
        if (r.firstSeen && (!have.firstSeen || r.firstSeen < have.firstSeen)) have.firstSeen = r.firstSeen;
        if (r.lastSeen && (!have.lastSeen || r.lastSeen > have.lastSeen)) have.lastSeen = r.lastSeen;
      }
    }
    return [...merged.values()].sort((a, b) => flowLine(a).localeCompare(flowLine(b)));
  }
}

export function aggregate(flows: FlowRecord[]): FlowRecord[] {
  const a = new FlowAggregator();
  for (const f of flows) a.add(f);
  return a.results();
}

/** A connection's 5-tuple seen recently: when (ms), and from which vantages. */
interface RecentConn {
  t: number;
  v: string;
  more?: string[];
}

/** A record whose ends carry only addresses, ports, a namespace or a container id (no identity yet). */
function isRaw(f: FlowRecord): boolean {
  return !f.l7 && isRawEnd(f.source) && isRawEnd(f.destination);
}

function isRawEnd(e: FlowEndpoint): boolean {
  return !(e.namespace || e.name || e.pod || e.names || e.reserved || e.identity !== undefined);
}

/** Adds a record's count, times, DNS names and L7 identity to its aggregated edge. */
function mergeInto(have: FlowRecord, f: FlowRecord): void {
  have.count += f.count;
  if (f.firstSeen && (!have.firstSeen || f.firstSeen < have.firstSeen)) have.firstSeen = f.firstSeen;
  if (f.lastSeen && (!have.lastSeen || f.lastSeen > have.lastSeen)) have.lastSeen = f.lastSeen;
  if (f.destination.names)
    have.destination.names = [...new Set([...(have.destination.names ?? []), ...f.destination.names])];
  if (f.l7 && !have.l7) have.l7 = f.l7;
}

/** `ns/a[Deployment] => ns/b[Deployment] : TCP 80`, as `netpol eval` prints connections. */
export function flowLine(f: FlowRecord): string {
  return `${endpointKey(f.source)} => ${endpointKey(f.destination)} : ${f.protocol}${f.port !== undefined ? ` ${f.port}` : ''}`;
}
