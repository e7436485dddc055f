/**
 * A MOCK Kubernetes API server for tests (no kube-apiserver can run on this machine: not packaged in
 * Debian, no network for other sources). HTTPS on 127.0.0.1 with a throw-away self-signed
 * certificate that the generated kubeconfig trusts; bearer-token auth; the list endpoints of the
 * resources Bulwark reads, answered as the API would (items without kind/apiVersion, `continue`
 * pagination); networkpolicies answer 403 to exercise partial permissions. It serves the realistic
 * fixtures of test/misconfig/fixtures/k8s plus two pods (one owned by a ReplicaSet, one bare).
 */
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const FIX = join(import.meta.dirname, 'fixtures', 'k8s');
export const TOKEN = 'test-token-123';
const PLURAL: Record<string, string> = {
  Namespace: 'namespaces',
  Pod: 'pods',
  Service: 'services',
  ServiceAccount: 'serviceaccounts',
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
  ReplicaSet: 'replicasets',
  Job: 'jobs',
  CronJob: 'cronjobs',
  Ingress: 'ingresses',
  NetworkPolicy: 'networkpolicies',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  ReplicationController: 'replicationcontrollers',
};

/** The objects the mock cluster holds. */
export function clusterObjects(): Obj[] {
  const objects: Obj[] = [];
  for (const f of readdirSync(FIX).filter((n) => n.endsWith('.yaml'))) {
    for (const d of parseAllDocuments(readFileSync(join(FIX, f), 'utf8'))) {
      const o = d.toJS() as Obj | null;
      if (o?.kind) objects.push(o);
    }
  }
  // What a cluster also has: a pod owned by a ReplicaSet (checked through its Deployment) and a bare pod.
  objects.push(
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'nginx-deployment-abc',
        namespace: 'default',
        ownerReferences: [{ kind: 'ReplicaSet', name: 'nginx-deployment-7f', controller: true }],
      },
      spec: { containers: [{ name: 'nginx', image: 'nginx:1.14.2', securityContext: { privileged: true } }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'debug-shell', namespace: 'ops' },
      spec: { hostPID: true, containers: [{ name: 'sh', image: 'busybox:1.36' }] },
    },
  );
  return objects;
}

export interface MockApiServer {
  /** kubeconfig with contexts: test (valid token), badauth (wrong token), down (port 1; current). */
  kubeconfig: string;
  /** Requests seen: "GET /path" (+ "?continue" when paging). */
  seen: string[];
  objects: Obj[];
  close(): Promise<void>;
}

export async function startMockApiServer(): Promise<MockApiServer> {
  const objects = clusterObjects();
  const seen: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'bw-apiserver-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-days',
      '1',
    ].concat(['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]),
    { stdio: 'ignore' },
  );
  const cert = readFileSync(join(dir, 'cert.pem'));
  const server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
    const url = new URL(req.url!, 'https://x');
    seen.push(`${req.method} ${url.pathname}${url.searchParams.get('continue') ? '?continue' : ''}`);
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`)
      return json(401, { kind: 'Status', message: 'Unauthorized', code: 401 });
    const m = /^\/(?:api\/v1|apis\/([^/]+)\/v1)(?:\/namespaces\/([^/]+))?\/([a-z]+)$/.exec(url.pathname);
    if (!m) return json(404, { kind: 'Status', message: 'not found', code: 404 });
    const [, group, ns, plural] = m;
    if (plural === 'networkpolicies') {
      return json(403, {
        kind: 'Status',
        message: 'networkpolicies.networking.k8s.io is forbidden: User "bulwark" cannot list resource',
        code: 403,
      });
    }
    const kind = Object.keys(PLURAL).find((k) => PLURAL[k] === plural)!;
    const all = objects.filter((o) => o.kind === kind && (!ns || o.metadata.namespace === ns));
    const limit = Number(url.searchParams.get('limit') ?? 500);
    const start = Number(url.searchParams.get('continue') ?? 0);
    const next = start + limit < all.length ? String(start + limit) : '';
    const items = all.slice(start, start + limit).map(({ kind: _k, apiVersion: _a, ...rest }) => rest);
    return json(200, {
      kind: `${kind}List`,
      apiVersion: group ? `${group}/v1` : 'v1',
      metadata: { resourceVersion: '1', ...(next ? { continue: next } : {}) },
      items,
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const ca = cert.toString('base64');
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: { server: "https://127.0.0.1:${port}", certificate-authority-data: ${ca} }
- name: other
  cluster: { server: "https://127.0.0.1:1", certificate-authority-data: ${ca} }
users:
- name: scanner
  user: { token: ${TOKEN} }
- name: nobody
  user: { token: wrong }
contexts:
- name: test
  context: { cluster: test, user: scanner }
- name: badauth
  context: { cluster: test, user: nobody }
- name: down
  context: { cluster: other, user: scanner }
current-context: down
`,
  );
  return {
    kubeconfig,
    seen,
    objects,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
