/**
 * The objects NetworkPolicy evaluation works on — namespaces, workloads (pods or their
 * controllers) and policies (networking.k8s.io/v1) — and their loading from manifests
 * (YAML or JSON files, multi-document, `List` kinds, directories walked recursively).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { BulwarkError } from '../core/errors.js';
import { parseCidr, type Cidr } from './cidr.js';
import { parseSelector, type LabelSelector, type Labels } from './selector.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

/** The label every namespace carries (set by the API server since Kubernetes 1.21). */
export const NS_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface Namespace {
  name: string;
  labels: Labels;
}

export interface ContainerPort {
  name?: string;
  port: number;
  protocol: Protocol;
}

/** A pod, or the pods of one controller (Deployment, StatefulSet, ...), as one endpoint. */
export interface Workload {
  namespace: string;
  name: string;
  /** controller kind where known (Deployment, StatefulSet, DaemonSet, Job, ...), else Pod */
  kind: string;
  labels: Labels;
  ips: string[];
  ports: ContainerPort[];
  /** pod names behind the workload, where known */
  pods?: string[];
}

export interface IpBlock {
  cidr: Cidr;
  except: Cidr[];
}

export interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IpBlock;
}

export interface PolicyPort {
  protocol: Protocol;
  /** number, name (resolved against the destination's container ports) or undefined (all ports) */
  port?: number | string;
  endPort?: number;
}

export interface Rule {
  /** undefined: all peers (from/to empty or absent) */
  peers?: Peer[];
  /** undefined: all ports and protocols (ports empty or absent) */
  ports?: PolicyPort[];
}

export interface Policy {
  namespace: string;
  name: string;
  podSelector: LabelSelector;
  ingress: Rule[];
  egress: Rule[];
  /** effective policyTypes (defaulted as the API server does) */
  types: { ingress: boolean; egress: boolean };
  /** where the policy was read from */
  origin?: string;
}

export interface Cluster {
  namespaces: Map<string, Namespace>;
  workloads: Workload[];
  policies: Policy[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function err(where: string, msg: string): BulwarkError {
  return new BulwarkError('PARSE', `${where}: ${msg}`, { subject: where });
}

function protocolOf(v: unknown, where: string): Protocol {
  if (v === undefined || v === null) return 'TCP';
  const p = String(v).toUpperCase();
  if (!(PROTOCOLS as readonly string[]).includes(p))
    throw err(where, `unknown protocol ${JSON.stringify(v)} (expected TCP, UDP or SCTP)`);
  return p as Protocol;
}

function labelsOf(v: unknown): Labels {
  const out: Labels = {};
  if (isObj(v)) for (const [k, val] of Object.entries(v)) out[k] = String(val);
  return out;
}

function portNumber(v: unknown, where: string): number {
  const n = typeof v === 'number' ? v : /^\d+$/.test(String(v)) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw err(where, `invalid port ${JSON.stringify(v)}`);
  return n;
}

function parsePeer(v: unknown, where: string): Peer {
  if (!isObj(v)) throw err(where, 'expected a peer object');
  const peer: Peer = {};
  if (v.ipBlock !== undefined && v.ipBlock !== null) {
    if (v.podSelector != null || v.namespaceSelector != null)
      throw err(where, 'ipBlock cannot be combined with podSelector or namespaceSelector');
    const b = v.ipBlock;
    if (!isObj(b) || typeof b.cidr !== 'string') throw err(`${where}.ipBlock`, 'expected {cidr, except}');
    const cidr = parseCidr(b.cidr, `${where}.ipBlock.cidr`);
    const except = (Array.isArray(b.except) ? b.except : []).map((e: unknown, i) =>
      parseCidr(String(e), `${where}.ipBlock.except[${i}]`),
    );
    peer.ipBlock = { cidr, except };
    return peer;
  }
  if (v.podSelector !== undefined && v.podSelector !== null)
    peer.podSelector = parseSelector(v.podSelector, `${where}.podSelector`);
  if (v.namespaceSelector !== undefined && v.namespaceSelector !== null)
    peer.namespaceSelector = parseSelector(v.namespaceSelector, `${where}.namespaceSelector`);
  if (!peer.podSelector && !peer.namespaceSelector)
    throw err(where, 'a peer needs podSelector, namespaceSelector or ipBlock');
  return peer;
}

function parsePorts(v: unknown, where: string): PolicyPort[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw err(where, 'expected a list');
  if (v.length === 0) return undefined;
  return v.map((p: unknown, i) => {
    const w = `${where}[${i}]`;
    if (!isObj(p)) throw err(w, 'expected a port object');
    const out: PolicyPort = { protocol: protocolOf(p.protocol, `${w}.protocol`) };
    if (p.port !== undefined && p.port !== null) {
      out.port =
        typeof p.port === 'string' && !/^\d+$/.test(p.port) ? p.port : portNumber(p.port, `${w}.port`);
    }
    if (p.endPort !== undefined && p.endPort !== null) {
      if (typeof out.port !== 'number') throw err(`${w}.endPort`, 'requires a numeric port');
      out.endPort = portNumber(p.endPort, `${w}.endPort`);
      if (out.endPort < out.port) throw err(`${w}.endPort`, `must be >= port (${out.port})`);
    }
    return out;
  });
}

function parseRules(v: unknown, peersKey: 'from' | 'to', where: string): Rule[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw err(where, 'expected a list of rules');
  return v.map((r: unknown, i) => {
    const w = `${where}[${i}]`;
    if (r === null) return {};
    if (!isObj(r)) throw err(w, 'expected a rule object');
    const rule: Rule = {};
    const peers = r[peersKey];
    if (peers !== undefined && peers !== null) {
      if (!Array.isArray(peers)) throw err(`${w}.${peersKey}`, 'expected a list');
      if (peers.length) rule.peers = peers.map((p: unknown, j) => parsePeer(p, `${w}.${peersKey}[${j}]`));
    }
    const ports = parsePorts(r.ports, `${w}.ports`);
    if (ports) rule.ports = ports;
    return rule;
  });
}

/** Parses one NetworkPolicy object. `where` names the file (and document) in errors. */
export function parsePolicy(o: Obj, where: string): Policy {
  const meta = isObj(o.metadata) ? o.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  if (!name) throw err(where, 'NetworkPolicy without metadata.name');
  const namespace = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : 'default';
  const w = `${where}: NetworkPolicy ${namespace}/${name}`;
  const spec = isObj(o.spec) ? o.spec : {};
  const podSelector = parseSelector(spec.podSelector, `${w}: spec.podSelector`);
  const ingress = parseRules(spec.ingress, 'from', `${w}: spec.ingress`);
  const egress = parseRules(spec.egress, 'to', `${w}: spec.egress`);
  let types: Policy['types'];
  if (Array.isArray(spec.policyTypes) && spec.policyTypes.length) {
    types = { ingress: false, egress: false };
    for (const t of spec.policyTypes) {
      if (t === 'Ingress') types.ingress = true;
      else if (t === 'Egress') types.egress = true;
      else throw err(`${w}: spec.policyTypes`, `unknown policy type ${JSON.stringify(t)}`);
    }
  } else {
    // the API server's defaulting: Ingress always, Egress when there are egress rules
    types = { ingress: true, egress: egress.length > 0 };
  }
  return { namespace, name, podSelector, ingress, egress, types, origin: where };
}

function containerPorts(podSpec: Obj, where: string): ContainerPort[] {
  const out: ContainerPort[] = [];
  for (const key of ['containers', 'initContainers']) {
    const cs = podSpec[key];
    if (!Array.isArray(cs)) continue;
    cs.forEach((c: unknown, i) => {
      if (!isObj(c) || !Array.isArray(c.ports)) return;
      c.ports.forEach((p: unknown, j) => {
        if (!isObj(p)) return;
        const w = `${where}.${key}[${i}].ports[${j}]`;
        const cp: ContainerPort = {
          port: portNumber(p.containerPort, `${w}.containerPort`),
          protocol: protocolOf(p.protocol, `${w}.protocol`),
        };
        if (typeof p.name === 'string' && p.name) cp.name = p.name;
        out.push(cp);
      });
    });
  }
  return out;
}

const TEMPLATE_KINDS = new Set([
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'ReplicationController',
  'Job',
]);

/** The controller kind and name of a pod from its ownerReferences (a Deployment's ReplicaSet collapses to the Deployment). */
function controllerOf(meta: Obj, labels: Labels): { kind: string; name: string } | undefined {
  const refs = Array.isArray(meta.ownerReferences) ? meta.ownerReferences.filter(isObj) : [];
  const ref = refs.find((r) => r.controller === true) ?? refs[0];
  if (!ref || typeof ref.kind !== 'string' || typeof ref.name !== 'string') return undefined;
  const hash = labels['pod-template-hash'];
  if (ref.kind === 'ReplicaSet' && hash && ref.name.endsWith(`-${hash}`))
    return { kind: 'Deployment', name: ref.name.slice(0, -hash.length - 1) };
  return { kind: ref.kind, name: ref.name };
}

/** Adds the objects of one parsed document to the cluster. */
function addObject(c: Cluster, o: unknown, where: string): void {
  if (!isObj(o)) return;
  const kind = typeof o.kind === 'string' ? o.kind : '';
  if (kind === 'List' || (kind.endsWith('List') && Array.isArray(o.items))) {
    (Array.isArray(o.items) ? o.items : []).forEach((it, i) => addObject(c, it, `${where} items[${i}]`));
    return;
  }
  const meta = isObj(o.metadata) ? o.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  const ns = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : 'default';
  if (kind === 'NetworkPolicy') {
    c.policies.push(parsePolicy(o, where));
    return;
  }
  if (kind === 'Namespace') {
    if (!name) throw err(where, 'Namespace without metadata.name');
    c.namespaces.set(name, { name, labels: { ...labelsOf(meta.labels), [NS_NAME_LABEL]: name } });
    return;
  }
  let template: Obj | undefined;
  if (kind === 'Pod') template = o;
  else if (TEMPLATE_KINDS.has(kind))
    template = isObj(o.spec) && isObj(o.spec.template) ? o.spec.template : undefined;
  else if (kind === 'CronJob') {
    const jt = isObj(o.spec) && isObj(o.spec.jobTemplate) ? o.spec.jobTemplate : undefined;
    template = jt && isObj(jt.spec) && isObj(jt.spec.template) ? jt.spec.template : undefined;
  } else return;
  if (!name) throw err(where, `${kind} without metadata.name`);
  if (!template) throw err(where, `${kind} ${ns}/${name}: no pod template`);
  const tmeta = isObj(template.metadata) ? template.metadata : {};
  const labels = labelsOf(tmeta.labels);
  const spec = isObj(template.spec) ? template.spec : {};
  const ports = containerPorts(spec, `${where}: ${kind} ${ns}/${name}: spec`);
  const ips: string[] = [];
  let wl = { kind, name };
  if (kind === 'Pod') {
    const st = isObj(o.status) ? o.status : {};
    if (typeof st.podIP === 'string' && st.podIP) ips.push(st.podIP);
    if (Array.isArray(st.podIPs))
      for (const p of st.podIPs)
        if (isObj(p) && typeof p.ip === 'string' && !ips.includes(p.ip)) ips.push(p.ip);
    wl = controllerOf(meta, labels) ?? wl;
  }
  addWorkload(c, {
    namespace: ns,
    name: wl.name,
    kind: wl.kind,
    labels,
    ips,
    ports,
    ...(kind === 'Pod' ? { pods: [name] } : {}),
  });
}

/** Adds a workload, merging it into an existing one with the same identity (replicas of one controller). */
export function addWorkload(c: Cluster, w: Workload): void {
  const have = c.workloads.find((x) => x.namespace === w.namespace && x.name === w.name && x.kind === w.kind);
  if (!have) {
    c.workloads.push(w);
    return;
  }
  for (const ip of w.ips) if (!have.ips.includes(ip)) have.ips.push(ip);
  for (const p of w.ports)
    if (!have.ports.some((q) => q.port === p.port && q.protocol === p.protocol && q.name === p.name))
      have.ports.push(p);
  if (w.pods) have.pods = [...new Set([...(have.pods ?? []), ...w.pods])];
}

export function emptyCluster(): Cluster {
  return { namespaces: new Map(), workloads: [], policies: [] };
}

/** Every namespace a workload or policy lives in exists, with its automatic name label. */
export function completeNamespaces(c: Cluster): void {
  const names = [...c.workloads.map((w) => w.namespace), ...c.policies.map((p) => p.namespace)];
  for (const n of names)
    if (!c.namespaces.has(n)) c.namespaces.set(n, { name: n, labels: { [NS_NAME_LABEL]: n } });
  for (const ns of c.namespaces.values()) ns.labels[NS_NAME_LABEL] = ns.name;
}

/** Parses manifest text (YAML or JSON, several documents) into `c`. */
export function addManifestText(c: Cluster, text: string, where: string): void {
  const docs = parseAllDocuments(text);
  docs.forEach((d, i) => {
    if (d.errors.length) throw err(`${where} document ${i + 1}`, d.errors[0]!.message.split('\n')[0]!);
    addObject(c, d.toJS({ maxAliasCount: 100 }), docs.length > 1 ? `${where} document ${i + 1}` : where);
  });
}

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

function manifestFiles(path: string, out: string[]): void {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new BulwarkError('NOT_FOUND', `${path}: ${(e as NodeJS.ErrnoException).code ?? 'cannot read'}`, {
      subject: path,
    });
  }
  if (st.isDirectory()) {
    for (const n of readdirSync(path).sort()) {
      if (n.startsWith('.')) continue;
      const p = join(path, n);
      if (statSync(p).isDirectory()) manifestFiles(p, out);
      else if (MANIFEST_EXT.test(n)) out.push(p);
    }
  } else out.push(path);
}

/** Loads the namespaces, workloads and NetworkPolicies of manifest files and directories. */
export function loadManifests(paths: string[], into: Cluster = emptyCluster()): Cluster {
  const files: string[] = [];
  for (const p of paths) manifestFiles(p, files);
  for (const f of files) addManifestText(into, readFileSync(f, 'utf8'), f);
  completeNamespaces(into);
  return into;
}
