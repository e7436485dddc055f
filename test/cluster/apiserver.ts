/**
 * A stand-in for the Kubernetes API server, for tests only: no kube-apiserver can run on this
 * machine (Debian packages none, and nothing may be downloaded), so this serves the list
 * endpoints a cluster scan reads, over HTTPS with bearer-token auth and paging, from objects
 * given by the test. Everything on the client side (kubeconfig loading, TLS, auth) is real.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import type { K8sObject } from '../../src/cluster/index.js';

export interface FakeApiServer {
  url: string;
  kubeconfig: string;
  requests: string[];
  close(): Promise<void>;
}

const PLURALS: Record<string, string> = {
  Namespace: 'namespaces', Pod: 'pods', ReplicationController: 'replicationcontrollers', Service: 'services',
  ServiceAccount: 'serviceaccounts', Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets',
  ReplicaSet: 'replicasets', Job: 'jobs', CronJob: 'cronjobs', Ingress: 'ingresses', NetworkPolicy: 'networkpolicies',
  Role: 'roles', RoleBinding: 'rolebindings', ClusterRole: 'clusterroles', ClusterRoleBinding: 'clusterrolebindings',
};

export async function startFakeApiServer(
  objects: K8sObject[],
  opts: { token: string; forbidden?: string[]; pageSize?: number },
): Promise<FakeApiServer> {
  const dir = mkdtempSync(join(tmpdir(), 'bw-apiserver-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const cert = readFileSync(join(dir, 'cert.pem'));
  const requests: string[] = [];
  const server: Server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    requests.push(url.pathname + url.search);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${opts.token}`) return json(401, { kind: 'Status', code: 401, reason: 'Unauthorized' });
    const m = /^\/apis?\/(?:([^/]+)\/)?v1\/(?:namespaces\/([^/]+)\/)?([a-z]+)$/.exec(url.pathname);
    const kind = m && Object.keys(PLURALS).find((k) => PLURALS[k] === m[3]);
    if (!m || !kind) return json(404, { kind: 'Status', code: 404 });
    if (opts.forbidden?.includes(kind)) return json(403, { kind: 'Status', code: 403, reason: 'Forbidden' });
    const items = objects.filter((o) => o.kind === kind && (!m[2] || o.metadata?.namespace === m[2]));
    const size = opts.pageSize ?? 500;
    const start = Number(url.searchParams.get('continue') ?? 0);
    const page = items.slice(start, start + size).map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
    json(200, { kind: `${kind}List`, metadata: start + size < items.length ? { continue: String(start + size) } : {}, items: page });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'test',
      clusters: [{ name: 'test', cluster: { server: url, 'certificate-authority-data': cert.toString('base64') } }],
      users: [
        { name: 'scanner', user: { token: opts.token } },
        { name: 'intruder', user: { token: `not-${opts.token}` } },
      ],
      contexts: [
        { name: 'test', context: { cluster: 'test', user: 'scanner' } },
        { name: 'wrong-token', context: { cluster: 'test', user: 'intruder' } },
      ],
    }),
  );
  return {
    url,
    kubeconfig,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
        rmSync(dir, { recursive: true, force: true });
      }),
  };
}
