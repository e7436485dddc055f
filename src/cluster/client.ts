/**
 * Reads resources from a live cluster. @kubernetes/client-node handles the kubeconfig (contexts,
 * tokens, client certificates, exec plugins, in-cluster config); requests are plain GETs of list
 * endpoints with paging, so objects stay plain JSON as the API server wrote them.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { BulwarkError } from '../core/errors.js';
import type { K8sObject } from './rbac.js';

export interface ClusterOptions {
  kubeconfig?: string;
  context?: string;
  /** Only these namespaces (namespaced kinds); default all. */
  namespaces?: string[];
  timeoutMs?: number;
  /** Use the service account of the pod this runs in. */
  inCluster?: boolean;
}

interface KindSpec {
  kind: string;
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

/** What a cluster scan reads. Secrets are deliberately absent: their values are never fetched. */
export const CLUSTER_KINDS: KindSpec[] = [
  { kind: 'Namespace', group: '', version: 'v1', plural: 'namespaces', namespaced: false },
  { kind: 'Pod', group: '', version: 'v1', plural: 'pods', namespaced: true },
  { kind: 'ReplicationController', group: '', version: 'v1', plural: 'replicationcontrollers', namespaced: true },
  { kind: 'Service', group: '', version: 'v1', plural: 'services', namespaced: true },
  { kind: 'ServiceAccount', group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true },
  { kind: 'Deployment', group: 'apps', version: 'v1', plural: 'deployments', namespaced: true },
  { kind: 'StatefulSet', group: 'apps', version: 'v1', plural: 'statefulsets', namespaced: true },
  { kind: 'DaemonSet', group: 'apps', version: 'v1', plural: 'daemonsets', namespaced: true },
  { kind: 'ReplicaSet', group: 'apps', version: 'v1', plural: 'replicasets', namespaced: true },
  { kind: 'Job', group: 'batch', version: 'v1', plural: 'jobs', namespaced: true },
  { kind: 'CronJob', group: 'batch', version: 'v1', plural: 'cronjobs', namespaced: true },
  { kind: 'Ingress', group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespaced: true },
  { kind: 'NetworkPolicy', group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', namespaced: true },
  { kind: 'Role', group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', namespaced: true },
  { kind: 'RoleBinding', group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', namespaced: true },
  { kind: 'ClusterRole', group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', namespaced: false },
  { kind: 'ClusterRoleBinding', group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', namespaced: false },
];

export interface ClusterSnapshot {
  context: string;
  server: string;
  objects: K8sObject[];
  warnings: string[];
}

function loadConfig(opts: ClusterOptions): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (opts.inCluster) kc.loadFromCluster();
    else if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
  } catch (e) {
    throw new BulwarkError('USAGE', `cannot load kubeconfig${opts.kubeconfig ? ' ' + opts.kubeconfig : ''}: ${(e as Error).message}`, {
      subject: opts.kubeconfig,
    });
  }
  if (opts.context) {
    if (!kc.getContexts().some((c) => c.name === opts.context)) {
      throw new BulwarkError('USAGE', `kubeconfig has no context "${opts.context}" (have: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    }
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()) throw new BulwarkError('USAGE', 'kubeconfig has no current cluster; pass --context or --kubeconfig');
  return kc;
}

async function getJson(kc: KubeConfig, server: string, path: string, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  const url = new URL(path, server.endsWith('/') ? server : server + '/');
  const opts: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
  await kc.applyToHTTPSOptions(opts);
  const mod = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { ...opts, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* non-JSON error bodies are kept as text */
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new BulwarkError('TIMEOUT', `${url.host}: no answer in ${timeoutMs} ms (${url.pathname})`)));
    req.on('error', (e) =>
      reject(e instanceof BulwarkError ? e : new BulwarkError('NETWORK', `${url.host}: ${(e as Error).message}`, { subject: url.host, cause: e })),
    );
    req.end();
  });
}

function listPath(k: KindSpec, namespace?: string): string {
  const base = k.group ? `apis/${k.group}/${k.version}` : `api/${k.version}`;
  return namespace && k.namespaced ? `${base}/namespaces/${encodeURIComponent(namespace)}/${k.plural}` : `${base}/${k.plural}`;
}

/** Lists every kind in CLUSTER_KINDS (paged); kinds the server lacks or forbids become warnings. */
export async function readCluster(opts: ClusterOptions = {}): Promise<ClusterSnapshot> {
  const kc = loadConfig(opts);
  const cluster = kc.getCurrentCluster()!;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const objects: K8sObject[] = [];
  const warnings: string[] = [];
  for (const k of CLUSTER_KINDS) {
    const scopes = k.namespaced && opts.namespaces?.length ? opts.namespaces : [undefined];
    for (const ns of scopes) {
      let cont: string | undefined;
      do {
        const path = `${listPath(k, ns)}?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`;
        const { status, body } = await getJson(kc, cluster.server, path, timeoutMs);
        if (status === 401) throw new BulwarkError('AUTH', `${cluster.server}: unauthorized (401): the credentials of context "${kc.getCurrentContext()}" were refused`);
        if (status === 403 || status === 404) {
          warnings.push(`${k.kind}${ns ? ` in ${ns}` : ''}: ${status === 403 ? 'forbidden' : 'not served'} (${status}); skipped`);
          break;
        }
        if (status !== 200 || typeof body !== 'object' || body === null) {
          throw new BulwarkError('NETWORK', `${cluster.server}: GET /${path} answered ${status}`, { subject: cluster.server });
        }
        const list = body as { items?: K8sObject[]; metadata?: { continue?: string } };
        for (const item of list.items ?? []) objects.push({ apiVersion: k.group ? `${k.group}/${k.version}` : k.version, kind: k.kind, ...item });
        cont = list.metadata?.continue || undefined;
      } while (cont);
    }
  }
  return { context: kc.getCurrentContext(), server: cluster.server, objects, warnings };
}
