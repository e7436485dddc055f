/**
 * A workload inventory for environments without a kubelet or container runtime (tests, bare
 * hosts): each entry maps network namespaces and IPs to a pod identity.
 *
 *   namespaces: [{name: x, labels: {team: a}}]            # optional
 *   workloads:
 *     - {namespace: x, name: a, kind: Deployment, labels: {app: a}, ips: [10.0.0.2],
 *        netns: bwk-1234-x-a, ports: [{name: http, port: 80, protocol: TCP}]}
 *   services:                                              # optional: ClusterIPs to workloads
 *     - {namespace: x, name: a, ips: [10.96.0.12], selector: {app: a}}
 *
 * (a bare list of workloads is accepted too). YAML or JSON.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { BulwarkError } from '../core/errors.js';
import { parseIp } from './cidr.js';
import {
  addWorkload,
  NS_NAME_LABEL,
  PROTOCOLS,
  type Cluster,
  type ContainerPort,
  type Protocol,
  type Workload,
} from './model.js';
import type { Labels } from './selector.js';

export interface InventoryEntry extends Workload {
  /** network namespace names (ip netns) or inode ids ("net:[4026532]") of the workload's pods */
  netns: string[];
  /** container ids of the workload's pods (from the runtime sensor's attribution) */
  containers?: string[];
}

/** A Service: its virtual IPs stand for the pods its selector picks. */
export interface ServiceEntry {
  namespace: string;
  name: string;
  ips: string[];
  selector: Labels;
}

export interface Inventory {
  namespaces: { name: string; labels: Labels }[];
  workloads: InventoryEntry[];
  services: ServiceEntry[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const strs = (v: unknown) => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);
const labelsOf = (v: unknown): Labels =>
  isObj(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)])) : {};

export function parseInventory(text: string, where: string): Inventory {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new BulwarkError('PARSE', `${where}: ${(e as Error).message.split('\n')[0]}`, { subject: where });
  }
  const list = Array.isArray(doc)
    ? doc
    : isObj(doc) && Array.isArray(doc.workloads)
      ? doc.workloads
      : undefined;
  if (!list)
    throw new BulwarkError('PARSE', `${where}: expected a list of workloads or {workloads: [...]}`, {
      subject: where,
    });
  const namespaces =
    isObj(doc) && Array.isArray(doc.namespaces)
      ? doc.namespaces.filter(isObj).map((n) => ({ name: String(n.name), labels: labelsOf(n.labels) }))
      : [];
  const workloads = list.map((w: unknown, i): InventoryEntry => {
    const at = `${where}: workloads[${i}]`;
    if (!isObj(w) || typeof w.name !== 'string' || !w.name)
      throw new BulwarkError('PARSE', `${at}: expected {namespace, name, ...}`, { subject: where });
    const ips = strs(w.ips ?? w.ip);
    for (const ip of ips)
      if (!parseIp(ip)) throw new BulwarkError('PARSE', `${at}.ips: invalid IP ${ip}`, { subject: where });
    const ports: ContainerPort[] = (Array.isArray(w.ports) ? w.ports : []).map((p: unknown, j) => {
      const o = isObj(p) ? p : { port: p };
      const port = Number(o.port ?? o.containerPort);
      const protocol = String(o.protocol ?? 'TCP').toUpperCase() as Protocol;
      if (!Number.isInteger(port) || port < 1 || port > 65535 || !PROTOCOLS.includes(protocol))
        throw new BulwarkError('PARSE', `${at}.ports[${j}]: expected {port 1-65535, protocol TCP|UDP|SCTP}`, {
          subject: where,
        });
      return { port, protocol, ...(typeof o.name === 'string' ? { name: o.name } : {}) };
    });
    return {
      namespace: typeof w.namespace === 'string' && w.namespace ? w.namespace : 'default',
      name: w.name,
      kind: typeof w.kind === 'string' && w.kind ? w.kind : 'Pod',
      labels: labelsOf(w.labels),
      ips,
      ports,
      netns: strs(w.netns),
      ...(w.containers ? { containers: strs(w.containers) } : {}),
      ...(w.pods ? { pods: strs(w.pods) } : {}),
    };
  });
  const services: ServiceEntry[] =
    isObj(doc) && Array.isArray(doc.services)
      ? doc.services.filter(isObj).map((sv, i) => {
          const ips = strs(sv.ips ?? sv.clusterIP ?? sv.ip);
          for (const ip of ips)
            if (!parseIp(ip))
              throw new BulwarkError('PARSE', `${where}: services[${i}].ips: invalid IP ${ip}`, {
                subject: where,
              });
          return {
            namespace: typeof sv.namespace === 'string' && sv.namespace ? sv.namespace : 'default',
            name: String(sv.name ?? ''),
            ips,
            selector: labelsOf(sv.selector),
          };
        })
      : [];
  return { namespaces, workloads, services };
}

export function readInventory(file: string): Inventory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new BulwarkError('NOT_FOUND', `${file}: ${(e as NodeJS.ErrnoException).code ?? 'cannot read'}`, {
      subject: file,
    });
  }
  return parseInventory(text, file);
}

export function addInventory(c: Cluster, inv: Inventory): void {
  for (const n of inv.namespaces)
    c.namespaces.set(n.name, { name: n.name, labels: { ...n.labels, [NS_NAME_LABEL]: n.name } });
  for (const w of inv.workloads) {
    const { netns: _netns, containers: _containers, ...wl } = w;
    void _netns;
    void _containers;
    addWorkload(c, { ...wl, ips: [...wl.ips], ports: [...wl.ports] });
  }
}

/** Adds the workloads (and namespaces) of an inventory file to a cluster. */
export function addWorkloadsFile(c: Cluster, file: string): void {
  addInventory(c, readInventory(file));
}
