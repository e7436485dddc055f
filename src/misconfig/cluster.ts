/**
 * Reads a live cluster for `bulwark scan cluster`: workloads, RBAC objects, namespaces, Services,
 * Ingresses, NetworkPolicies and ServiceAccounts, as the API server returns them (plain JSON).
 *
 * Connection and credentials come from @kubernetes/client-node (kubeconfig with contexts, tokens,
 * client certificates and exec plugins, or the in-cluster service account); requests are plain
 * paginated GETs so the objects keep their API shape for the checks. Pods and ReplicaSets/Jobs owned
 * by a controller are skipped: their controller is checked instead.
 */
import http from 'node:http';
import https from 'node:https';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { BulwarkError } from '../core/errors.js';
import type { PolicyInput } from '../policy/index.js';
import { kubernetesInput } from './kubernetes.js';

type Obj = Record<string, unknown>;

export interface ClusterOptions {
  kubeconfig?: string;
  context?: string;
  /** Only this namespace (cluster-scoped objects are still read for the RBAC analysis). */
  namespace?: string;
  /** Use the in-cluster service account instead of a kubeconfig. */
  inCluster?: boolean;
  timeoutMs?: number;
  /** Page size of list requests. */
  pageSize?: number;
}

/** [API path prefix, plural, kind, namespaced] */
const RESOURCES: [string, string, string, boolean][] = [
  ['/api/v1', 'namespaces', 'Namespace', false],
  ['/api/v1', 'pods', 'Pod', true],
  ['/api/v1', 'replicationcontrollers', 'ReplicationController', true],
  ['/api/v1', 'services', 'Service', true],
  ['/api/v1', 'serviceaccounts', 'ServiceAccount', true],
  ['/apis/apps/v1', 'deployments', 'Deployment', true],
  ['/apis/apps/v1', 'statefulsets', 'StatefulSet', true],
  ['/apis/apps/v1', 'daemonsets', 'DaemonSet', true],
  ['/apis/apps/v1', 'replicasets', 'ReplicaSet', true],
  ['/apis/batch/v1', 'jobs', 'Job', true],
  ['/apis/batch/v1', 'cronjobs', 'CronJob', true],
  ['/apis/networking.k8s.io/v1', 'ingresses', 'Ingress', true],
  ['/apis/networking.k8s.io/v1', 'networkpolicies', 'NetworkPolicy', true],
  ['/apis/rbac.authorization.k8s.io/v1', 'roles', 'Role', true],
  ['/apis/rbac.authorization.k8s.io/v1', 'rolebindings', 'RoleBinding', true],
  ['/apis/rbac.authorization.k8s.io/v1', 'clusterroles', 'ClusterRole', false],
  ['/apis/rbac.authorization.k8s.io/v1', 'clusterrolebindings', 'ClusterRoleBinding', false],
];

export interface ClusterSnapshot {
  /** The kubeconfig context (or "in-cluster") and the API server URL. */
  context: string;
  server: string;
  objects: Obj[];
  warnings: string[];
}

async function loadConfig(o: ClusterOptions): Promise<KubeConfig> {
  // loaded here, not at the top: the client takes half a second to import, and every scan
  // command would pay for it
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    if (o.inCluster) kc.loadFromCluster();
    else if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
    else {
      // client-node falls back to http://localhost:8080 when there is no configuration at all:
      // say what is missing instead of failing on a connection nobody asked for
      const home = process.env.HOME ?? homedir();
      const defaultFile = join(home, '.kube', 'config');
      if (!process.env.KUBECONFIG && !existsSync(defaultFile) && !process.env.KUBERNETES_SERVICE_HOST)
        throw new BulwarkError(
          'USAGE',
          `no kubeconfig: $KUBECONFIG is not set and ${defaultFile} does not exist; pass --kubeconfig FILE (and --context NAME), or --in-cluster inside a pod`,
        );
      kc.loadFromDefault();
    }
  } catch (e) {
    if (e instanceof BulwarkError) throw e;
    throw new BulwarkError(
      'USAGE',
      `cannot load kubeconfig${o.kubeconfig ? ` ${o.kubeconfig}` : ''}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (o.context) {
    if (!kc.getContexts().some((c) => c.name === o.context)) {
      throw new BulwarkError(
        'USAGE',
        `kubeconfig has no context "${o.context}" (contexts: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        })`,
      );
    }
    kc.setCurrentContext(o.context);
  }
  if (!kc.getCurrentCluster())
    throw new BulwarkError('USAGE', 'kubeconfig has no current cluster (set a context with --context)');
  return kc;
}

async function getJson(kc: KubeConfig, url: URL, timeoutMs: number): Promise<{ status: number; body: Obj }> {
  const opts: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
  try {
    await kc.applyToHTTPSOptions(opts);
  } catch (e) {
    throw new BulwarkError('USAGE', `kubeconfig credentials for ${url.origin}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const mod = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { ...opts, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Obj = {};
        try {
          body = JSON.parse(text) as Obj;
        } catch {
          if ((res.statusCode ?? 0) < 400)
            return reject(
              new BulwarkError('CORRUPT', `${url.pathname}: the API server answered with invalid JSON`),
            );
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('timeout', () =>
      req.destroy(
        new BulwarkError('TIMEOUT', `${url.origin}${url.pathname}: no answer within ${timeoutMs} ms`),
      ),
    );
    req.on('error', (e) =>
      reject(
        e instanceof BulwarkError
          ? e
          : new BulwarkError(
              'NETWORK',
              `cannot reach the API server ${url.origin}: ${(e as Error).message}`,
              { cause: e },
            ),
      ),
    );
    req.end();
  });
}

const owned = (o: Obj, kinds: string[]) => {
  const refs = (o.metadata as Obj | undefined)?.ownerReferences;
  return (
    Array.isArray(refs) &&
    refs.some((r) => (r as Obj).controller === true && kinds.includes(String((r as Obj).kind)))
  );
};

/** Lists the resources Bulwark checks; a resource the credentials may not list is a warning. */
export async function readCluster(o: ClusterOptions = {}): Promise<ClusterSnapshot> {
  const kc = await loadConfig(o);
  const cluster = kc.getCurrentCluster()!;
  const base = new URL(cluster.server);
  const timeoutMs = o.timeoutMs ?? 30_000;
  const limit = o.pageSize ?? 500;
  const objects: Obj[] = [];
  const warnings: string[] = [];
  for (const [prefix, plural, kind, namespaced] of RESOURCES) {
    const path = `${prefix}${namespaced && o.namespace ? `/namespaces/${encodeURIComponent(o.namespace)}` : ''}/${plural}`;
    let cont: string | undefined;
    do {
      const url = new URL(base.pathname.replace(/\/$/, '') + path, base);
      url.searchParams.set('limit', String(limit));
      if (cont) url.searchParams.set('continue', cont);
      const r = await getJson(kc, url, timeoutMs);
      if (r.status === 401)
        throw new BulwarkError('AUTH', `the API server ${base.origin} rejected the credentials (401)`);
      if (r.status === 403 || r.status === 404) {
        warnings.push(
          `cannot list ${plural}: ${r.status === 403 ? 'forbidden' : 'not served'} (${String(r.body.message ?? '').slice(0, 200)})`,
        );
        break;
      }
      if (r.status >= 400)
        throw new BulwarkError(
          'NETWORK',
          `${path}: the API server answered ${r.status}: ${String(r.body.message ?? '').slice(0, 200)}`,
        );
      const apiVersion =
        typeof r.body.apiVersion === 'string' ? r.body.apiVersion : prefix.replace(/^\/apis?\//, '');
      for (const item of Array.isArray(r.body.items) ? (r.body.items as Obj[]) : []) {
        // List items carry neither kind nor apiVersion.
        const obj = { apiVersion, kind, ...item };
        if (
          kind === 'Pod' &&
          owned(obj, ['ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicationController'])
        )
          continue;
        if (kind === 'ReplicaSet' && owned(obj, ['Deployment'])) continue;
        if (kind === 'Job' && owned(obj, ['CronJob'])) continue;
        objects.push(obj);
      }
      const m = r.body.metadata as Obj | undefined;
      cont = typeof m?.continue === 'string' && m.continue ? m.continue : undefined;
    } while (cont);
  }
  return {
    context: o.inCluster ? 'in-cluster' : kc.getCurrentContext(),
    server: cluster.server,
    objects,
    warnings,
  };
}

/** Policy inputs for cluster objects; their "file" is NAMESPACE/KIND/NAME (or KIND/NAME). */
export function clusterInputs(objects: readonly Obj[]): PolicyInput[] {
  return objects.map((o) => {
    const m = (o.metadata ?? {}) as Obj;
    const file = [m.namespace, o.kind, m.name].filter((x) => typeof x === 'string' && x).join('/');
    return kubernetesInput(o, file);
  });
}
