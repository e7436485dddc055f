/**
 * Every built-in check has at least one failing and one passing input here (minimal resources that
 * differ only in what the check is about). The corpus tests (hadolint, trivy-checks, polaris) and
 * the realistic fixtures add more evidence for most of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { evaluate } from '../../src/policy/index.js';
import { imageConfigInput } from '../../src/misconfig/index.js';
import type { ImageConfig } from '../../src/core/analyzer.js';
import { builtinChecks, builtinSet, scanText } from './helpers.js';

type Obj = Record<string, unknown>;
type Input = { k8s: Obj } | { dockerfile: string } | { compose: Obj } | { image: ImageConfig };

/** A Deployment whose single container and pod spec are patched; hardened so only the patch matters. */
function deploy(opts: { c?: Obj; spec?: Obj; meta?: Obj; podMeta?: Obj } = {}): Input {
  return {
    k8s: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'app', namespace: 'prod', ...opts.meta },
      spec: {
        selector: { matchLabels: { app: 'a' } },
        template: {
          metadata: { labels: { app: 'a' }, ...opts.podMeta },
          spec: { containers: [{ name: 'app', image: 'nginx:1.27', ...opts.c }], ...opts.spec },
        },
      },
    },
  };
}
const sc = (securityContext: Obj) => deploy({ c: { securityContext } });
const k8s = (kind: string, body: Obj, name = 'x'): Input => ({
  k8s: {
    apiVersion: kind.includes('Role') ? 'rbac.authorization.k8s.io/v1' : 'v1',
    kind,
    metadata: { name, namespace: 'prod' },
    ...body,
  },
});
const role = (rule: Obj, name = 'r') => k8s('ClusterRole', { rules: [rule] }, name);
const binding = (body: Obj) =>
  k8s('ClusterRoleBinding', {
    roleRef: { kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'User', name: 'u' }],
    ...body,
  });
const df = (body: string): Input => ({ dockerfile: body });
const svc = (s: Obj): Input => ({ compose: { services: { web: { image: 'nginx:1.27', ...s } } } });
const img = (config: ImageConfig['config']): Input => ({ image: { config } });
const GOOD_DF_TAIL = 'USER app\nHEALTHCHECK CMD true\n';

const CASES: Record<string, { fail: Input; pass: Input }> = {
  'BW-K8S-001': { fail: sc({ privileged: true }), pass: sc({ privileged: false }) },
  'BW-K8S-002': { fail: deploy({ spec: { hostPID: true } }), pass: deploy({ spec: { hostPID: false } }) },
  'BW-K8S-003': { fail: deploy({ spec: { hostIPC: true } }), pass: deploy({ spec: { hostIPC: false } }) },
  'BW-K8S-004': {
    fail: deploy({ spec: { hostNetwork: true } }),
    pass: deploy({ spec: { hostNetwork: false } }),
  },
  'BW-K8S-005': {
    fail: deploy({ spec: { volumes: [{ name: 'v', hostPath: { path: '/data' } }] } }),
    pass: deploy({ spec: { volumes: [{ name: 'v', emptyDir: {} }] } }),
  },
  'BW-K8S-006': {
    fail: deploy({ c: { ports: [{ containerPort: 80, hostPort: 80 }] } }),
    pass: deploy({ c: { ports: [{ containerPort: 80 }] } }),
  },
  'BW-K8S-007': {
    fail: sc({ capabilities: { add: ['NET_ADMIN'] } }),
    pass: sc({ capabilities: { add: ['NET_BIND_SERVICE', 'CHOWN'] } }),
  },
  'BW-K8S-008': {
    fail: deploy({ spec: { securityContext: { appArmorProfile: { type: 'Unconfined' } } } }),
    pass: deploy({
      podMeta: { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'runtime/default' } },
    }),
  },
  'BW-K8S-009': {
    fail: sc({ seLinuxOptions: { type: 'spc_t' } }),
    pass: sc({ seLinuxOptions: { type: 'container_t', level: 's0:c123,c456' } }),
  },
  'BW-K8S-010': { fail: sc({ procMount: 'Unmasked' }), pass: sc({ procMount: 'Default' }) },
  'BW-K8S-011': {
    fail: deploy({ spec: { securityContext: { seccompProfile: { type: 'Unconfined' } } } }),
    pass: deploy({
      spec: { securityContext: { seccompProfile: { type: 'Unconfined' } } },
      c: { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } },
    }),
  },
  'BW-K8S-012': {
    fail: deploy({ spec: { securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '65536' }] } } }),
    pass: deploy({
      spec: { securityContext: { sysctls: [{ name: 'net.ipv4.tcp_syncookies', value: '1' }] } },
    }),
  },
  'BW-K8S-013': {
    fail: sc({ windowsOptions: { hostProcess: true } }),
    pass: sc({ windowsOptions: { hostProcess: false } }),
  },
  'BW-K8S-014': {
    fail: deploy({ spec: { volumes: [{ name: 'v', nfs: { server: 'nfs', path: '/' } }] } }),
    pass: deploy({ spec: { volumes: [{ name: 'v', configMap: { name: 'c' } }] } }),
  },
  'BW-K8S-015': {
    fail: sc({ allowPrivilegeEscalation: true }),
    pass: sc({ allowPrivilegeEscalation: false }),
  },
  'BW-K8S-016': {
    fail: deploy({
      spec: { securityContext: { runAsNonRoot: true } },
      c: { securityContext: { runAsNonRoot: false } },
    }),
    pass: deploy({ spec: { securityContext: { runAsNonRoot: true } } }),
  },
  'BW-K8S-017': {
    fail: sc({ runAsUser: 0 }),
    pass: deploy({
      spec: { securityContext: { runAsUser: 0 } },
      c: { securityContext: { runAsUser: 1000 } },
    }),
  },
  'BW-K8S-018': {
    fail: sc({ seccompProfile: { type: 'Unconfined' } }),
    pass: deploy({ spec: { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } } }),
  },
  'BW-K8S-019': {
    fail: sc({ capabilities: { drop: ['NET_RAW'] } }),
    pass: sc({ capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } }),
  },
  'BW-K8S-020': {
    fail: deploy({ spec: { volumes: [{ name: 'v', hostPath: { path: '/var/run/docker.sock' } }] } }),
    pass: deploy({ spec: { volumes: [{ name: 'v', hostPath: { path: '/srv/data' } }] } }),
  },
  'BW-K8S-021': { fail: sc({ readOnlyRootFilesystem: false }), pass: sc({ readOnlyRootFilesystem: true }) },
  'BW-K8S-022': {
    fail: deploy({ c: { resources: { limits: { memory: '1Gi' } } } }),
    pass: deploy({ c: { resources: { limits: { cpu: '1' } } } }),
  },
  'BW-K8S-023': {
    fail: deploy({ c: { resources: { limits: { cpu: '1' } } } }),
    pass: deploy({ c: { resources: { limits: { memory: '1Gi' } } } }),
  },
  'BW-K8S-024': {
    fail: deploy({ c: { resources: { requests: { memory: '1Gi' } } } }),
    pass: deploy({ c: { resources: { requests: { cpu: '1' } } } }),
  },
  'BW-K8S-025': {
    fail: deploy({ c: { resources: { requests: { cpu: '1' } } } }),
    pass: deploy({ c: { resources: { requests: { memory: '1Gi' } } } }),
  },
  'BW-K8S-026': {
    fail: deploy({ c: { image: 'registry:5000/nginx:latest' } }),
    pass: deploy({ c: { image: 'registry:5000/nginx:1.27' } }),
  },
  'BW-K8S-027': {
    fail: deploy({ c: { image: 'nginx:1.27' } }),
    pass: deploy({ c: { image: `nginx:1.27@sha256:${'a'.repeat(64)}` } }),
  },
  'BW-K8S-028': {
    fail: deploy({ spec: { automountServiceAccountToken: true } }),
    pass: deploy({ spec: { automountServiceAccountToken: false } }),
  },
  'BW-K8S-029': {
    fail: deploy({ meta: { namespace: 'default' } }),
    pass: deploy({ meta: { namespace: 'prod' } }),
  },
  'BW-K8S-030': { fail: deploy(), pass: deploy({ c: { livenessProbe: { tcpSocket: { port: 80 } } } }) },
  'BW-K8S-031': { fail: deploy(), pass: deploy({ c: { readinessProbe: { tcpSocket: { port: 80 } } } }) },
  'BW-K8S-032': {
    fail: sc({ capabilities: { add: ['SYS_ADMIN'] } }),
    pass: sc({ capabilities: { add: ['NET_BIND_SERVICE'] } }),
  },
  'BW-K8S-033': {
    fail: deploy({ c: { env: [{ name: 'DB_PASSWORD', value: 's3cr3t' }] } }),
    pass: deploy({
      c: {
        env: [
          { name: 'DB_PASSWORD_FILE', valueFrom: { secretKeyRef: { name: 'db', key: 'p' } } },
          { name: 'LOG_LEVEL', value: 'info' },
        ],
      },
    }),
  },
  'BW-K8S-034': {
    fail: deploy({ c: { envFrom: [{ secretRef: { name: 'db' } }] } }),
    pass: deploy({ c: { envFrom: [{ configMapRef: { name: 'cfg' } }] } }),
  },
  'BW-K8S-040': {
    fail: k8s('Service', { spec: { type: 'NodePort', ports: [{ port: 80 }] } }),
    pass: k8s('Service', { spec: { type: 'ClusterIP', ports: [{ port: 80 }] } }),
  },
  'BW-K8S-041': {
    fail: k8s('Ingress', { spec: { rules: [{ host: 'a.example' }] } }),
    pass: k8s('Ingress', {
      spec: { tls: [{ hosts: ['a.example'], secretName: 'tls' }], rules: [{ host: 'a.example' }] },
    }),
  },
  'BW-K8S-042': {
    fail: k8s('NetworkPolicy', { spec: { podSelector: {}, ingress: [{}] } }),
    pass: k8s('NetworkPolicy', {
      spec: { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { a: 'b' } } }] }] },
    }),
  },
  'BW-K8S-043': {
    fail: k8s('Namespace', { metadata: { name: 'prod', labels: { team: 'x' } } }),
    pass: k8s('Namespace', {
      metadata: { name: 'prod', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    }),
  },
  'BW-RBAC-001': {
    fail: role({ apiGroups: [''], resources: ['pods'], verbs: ['*'] }),
    pass: role({ apiGroups: [''], resources: ['pods'], verbs: ['get'] }),
  },
  'BW-RBAC-002': {
    fail: role({ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }),
    pass: role({ apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['tls-cert'] }),
  },
  'BW-RBAC-003': {
    fail: role({ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }),
    pass: role({ apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }),
  },
  'BW-RBAC-004': {
    fail: role({ apiGroups: ['apps'], resources: ['deployments'], verbs: ['create'] }),
    pass: role({ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] }),
  },
  'BW-RBAC-005': {
    fail: role({
      apiGroups: ['rbac.authorization.k8s.io'],
      resources: ['clusterroles'],
      verbs: ['escalate'],
    }),
    pass: role({ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['get'] }),
  },
  'BW-RBAC-006': {
    fail: binding({ roleRef: { kind: 'ClusterRole', name: 'cluster-admin' } }),
    pass: binding({}),
  },
  'BW-RBAC-007': {
    fail: binding({ subjects: [{ kind: 'Group', name: 'system:masters' }] }),
    pass: binding({ subjects: [{ kind: 'Group', name: 'devs' }] }),
  },
  'BW-RBAC-008': {
    fail: binding({ subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'ci' }] }),
    pass: binding({ subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: 'ci' }] }),
  },
  'BW-RBAC-009': {
    fail: k8s('ServiceAccount', {}, 'default'),
    pass: k8s('ServiceAccount', { automountServiceAccountToken: false }, 'default'),
  },
  'BW-RBAC-010': {
    fail: role({ apiGroups: [''], resources: ['persistentvolumes'], verbs: ['create'] }),
    pass: role({ apiGroups: [''], resources: ['persistentvolumes'], verbs: ['list'] }),
  },
  'BW-RBAC-011': {
    fail: role({ apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] }),
    pass: role({ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }),
  },
  'BW-RBAC-012': {
    fail: role({
      apiGroups: ['certificates.k8s.io'],
      resources: ['certificatesigningrequests/approval'],
      verbs: ['update'],
    }),
    pass: role({
      apiGroups: ['certificates.k8s.io'],
      resources: ['certificatesigningrequests'],
      verbs: ['get'],
    }),
  },
  'BW-RBAC-013': {
    fail: role({
      apiGroups: ['admissionregistration.k8s.io'],
      resources: ['validatingwebhookconfigurations'],
      verbs: ['patch'],
    }),
    pass: role({
      apiGroups: ['admissionregistration.k8s.io'],
      resources: ['validatingwebhookconfigurations'],
      verbs: ['list'],
    }),
  },
  'BW-RBAC-014': {
    fail: role({ apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] }),
    pass: role({ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get'] }),
  },
  'BW-DF-001': {
    fail: df('FROM debian:12\nUSER app\nFROM debian:12\nUSER root\n'),
    pass: df('FROM debian:12\nUSER root\nFROM debian:12\nUSER 10001:10001\n'),
  },
  'BW-DF-002': { fail: df('FROM debian:12\nUSER app\n'), pass: df('FROM debian:12\n' + GOOD_DF_TAIL) },
  'BW-DF-003': {
    fail: df('FROM debian:12\nADD app.jar /srv/app.jar\n'),
    pass: df('FROM debian:12\nADD rootfs.tar.xz /\nCOPY app.jar /srv/app.jar\n'),
  },
  'BW-DF-004': { fail: df('FROM debian:latest\n'), pass: df('FROM debian:12 AS base\nFROM base\n') },
  'BW-DF-005': {
    fail: df('FROM debian:12\nRUN apt-get install -y curl\n'),
    pass: df('FROM debian:12\nRUN apt-get install -y --no-install-recommends curl\n'),
  },
  'BW-DF-006': {
    fail: df('FROM debian:12\nRUN apt-get update && apt-get install -y curl\n'),
    pass: df(
      'FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n',
    ),
  },
  'BW-DF-007': {
    fail: df('FROM debian:12\nRUN curl -fsSL https://get.example.sh | sh\n'),
    pass: df('FROM debian:12\nRUN curl -fsSLo /tmp/i.sh https://get.example.sh && sha256sum -c i.sha256\n'),
  },
  'BW-DF-008': {
    fail: df('FROM debian:12\nENV API_KEY=abc123\n'),
    pass: df('FROM debian:12\nENV API_KEY_FILE=/run/secrets/api_key\nARG VERSION=1\n'),
  },
  'BW-DF-009': {
    fail: df('FROM debian:12\nRUN sudo apt-get install -y x\n'),
    pass: df('FROM debian:12\nRUN echo sudo is only a word here\n'),
  },
  'BW-DF-010': {
    fail: df('FROM debian:12\nEXPOSE 22/tcp 80\n'),
    pass: df('FROM debian:12\nEXPOSE 2222 80\n'),
  },
  'BW-DF-011': {
    fail: df('FROM alpine:3.20\nRUN apk update\n'),
    pass: df('FROM alpine:3.20\nRUN apk update && apk add curl\n'),
  },
  'BW-DF-012': {
    fail: df('FROM a:1\nCMD ["a"]\nCMD ["b"]\n'),
    pass: df('FROM a:1\nCMD ["a"]\nFROM b:1\nCMD ["b"]\n'),
  },
  'BW-DF-013': {
    fail: df('FROM a:1\nENTRYPOINT ["a"]\nENTRYPOINT ["b"]\n'),
    pass: df('FROM a:1\nENTRYPOINT ["a"]\n'),
  },
  'BW-DF-014': {
    fail: df('FROM a:1\nHEALTHCHECK CMD a\nHEALTHCHECK CMD b\n'),
    pass: df('FROM a:1\nHEALTHCHECK CMD a\n'),
  },
  'BW-DF-015': {
    fail: df('FROM debian:12\nRUN apt-get install --no-install-recommends curl\n'),
    pass: df('FROM debian:12\nRUN apt-get -qq install --no-install-recommends curl\n'),
  },
  'BW-DF-016': {
    fail: df('FROM a:1\nMAINTAINER me\n'),
    pass: df('FROM a:1\nLABEL org.opencontainers.image.authors=me\n'),
  },
  'BW-DF-017': { fail: df('FROM a:1\nWORKDIR app\n'), pass: df('FROM a:1\nWORKDIR /app\nWORKDIR $HOME/x\n') },
  'BW-DF-018': {
    fail: df('FROM a:1\nRUN cd /tmp && make\n'),
    pass: df('FROM a:1\nWORKDIR /tmp\nRUN make\n'),
  },
  'BW-DF-019': { fail: df('FROM a:1\nEXPOSE 70000\n'), pass: df('FROM a:1\nEXPOSE 65535/udp 8000-8010\n') },
  'BW-DF-020': {
    fail: df('FROM a:1 AS build\nCOPY --from=build /x /y\n'),
    pass: df('FROM a:1 AS build\nFROM b:1\nCOPY --from=build /x /y\n'),
  },
  'BW-DF-021': { fail: df('FROM a:1 AS x\nFROM b:1 AS x\n'), pass: df('FROM a:1 AS x\nFROM b:1 AS y\n') },
  'BW-DF-022': {
    fail: df('FROM centos:7\nRUN yum install -y httpd\n'),
    pass: df('FROM centos:7\nRUN yum install -y httpd && yum clean all\n'),
  },
  'BW-DF-023': {
    fail: df('FROM fedora:40\nRUN dnf install -y httpd\n'),
    pass: df('FROM fedora:40\nRUN dnf install -y httpd && dnf clean all\n'),
  },
  'BW-DF-024': {
    fail: df('FROM opensuse/leap:15\nRUN zypper install -y httpd\n'),
    pass: df('FROM opensuse/leap:15\nRUN zypper install -y httpd && zypper clean\n'),
  },
  'BW-DF-025': {
    fail: df('FROM alpine:3.20\nRUN apk add curl\n'),
    pass: df('FROM alpine:3.20\nRUN apk add --no-cache curl\n'),
  },
  'BW-DF-026': {
    fail: df('FROM debian:12\nRUN apt-get update && apt-get dist-upgrade -y\n'),
    pass: df('FROM debian:12\nRUN apt-get update && apt-get upgrade -y\n'),
  },
  'BW-DF-027': {
    fail: df('FROM debian:12\nRUN wget http://a/x\nRUN curl -O http://a/y\n'),
    pass: df('FROM debian:12\nRUN curl -O http://a/x\nFROM b:1\nRUN wget http://a/y\n'),
  },
  'BW-DF-028': { fail: df('FROM a:1\nCOPY a b /dest\n'), pass: df('FROM a:1\nCOPY a b /dest/\n') },
  'BW-COMPOSE-001': { fail: svc({ privileged: true }), pass: svc({ privileged: false }) },
  'BW-COMPOSE-002': { fail: svc({ network_mode: 'host' }), pass: svc({ network_mode: 'bridge' }) },
  'BW-COMPOSE-003': { fail: svc({ pid: 'host' }), pass: svc({ pid: 'service:db' }) },
  'BW-COMPOSE-004': { fail: svc({ ipc: 'host' }), pass: svc({ ipc: 'private' }) },
  'BW-COMPOSE-005': {
    fail: svc({ volumes: [{ type: 'bind', source: '/run/containerd/containerd.sock', target: '/c.sock' }] }),
    pass: svc({ volumes: ['./data:/data', { type: 'volume', source: 'db', target: '/var/lib/db' }] }),
  },
  'BW-COMPOSE-006': { fail: svc({ cap_add: ['NET_ADMIN'] }), pass: svc({ cap_drop: ['ALL'] }) },
  'BW-COMPOSE-007': {
    fail: svc({ security_opt: ['seccomp=unconfined'] }),
    pass: svc({ security_opt: ['no-new-privileges:true'] }),
  },
  'BW-COMPOSE-008': {
    fail: svc({ volumes: ['/etc:/host/etc:ro'] }),
    pass: svc({ volumes: ['/srv/app/etc:/etc/app:ro'] }),
  },
  'BW-COMPOSE-009': { fail: svc({ user: 'root' }), pass: svc({ user: '1000:1000' }) },
  'BW-IMG-001': { fail: img({ User: '0:0' }), pass: img({ User: 'app' }) },
  'BW-IMG-002': {
    fail: img({ Healthcheck: { Test: ['NONE'] } }),
    pass: img({ Healthcheck: { Test: ['CMD', 'true'] } }),
  },
  'BW-IMG-003': {
    fail: img({ Env: ['PATH=/usr/bin', 'AWS_SECRET_ACCESS_KEY=wJalr'] }),
    pass: img({ Env: ['PATH=/usr/bin', 'SECRET_FILE=/run/secrets/x'] }),
  },
  'BW-IMG-004': {
    fail: img({ ExposedPorts: { '22/tcp': {} } }),
    pass: img({ ExposedPorts: { '8022/tcp': {} } }),
  },
  'BW-IMG-005': {
    fail: { image: { history: [{ created_by: '/bin/sh -c curl -sL https://x/install | bash' }] } },
    pass: { image: { history: [{ created_by: '/bin/sh -c curl -sLo /tmp/x https://x/install' }] } },
  },
};

function run(input: Input) {
  if ('image' in input) {
    const r = evaluate(builtinSet(), [imageConfigInput(input.image, 'registry.local/app:1')]);
    assert.deepEqual(r.warnings, []);
    return r.findings;
  }
  if ('dockerfile' in input) return scanText(input.dockerfile, 'Dockerfile', 'dockerfile');
  if ('compose' in input) return scanText(stringify(input.compose), 'compose.yaml', 'compose');
  return scanText(stringify(input.k8s), 'manifest.yaml', 'kubernetes');
}

test('every built-in check has a failing and a passing case', () => {
  assert.deepEqual(
    Object.keys(CASES).sort(),
    builtinChecks()
      .map((c) => c.id)
      .sort(),
  );
});

for (const check of builtinChecks()) {
  test(`${check.id} ${check.title}`, () => {
    const c = CASES[check.id];
    assert.ok(c, 'no cases');
    const fail = run(c.fail).filter((f) => f.id === check.id);
    assert.ok(fail.length >= 1, 'failing input not flagged');
    for (const f of fail) {
      assert.equal(f.status, 'fail');
      assert.equal(f.severity, check.severity);
      assert.ok(f.message && !f.message.includes('?'), `message rendered: ${f.message}`);
      if (!('image' in c.fail)) assert.ok(f.location.line && f.location.line > 0, 'has a line');
    }
    assert.deepEqual(
      run(c.pass)
        .filter((f) => f.id === check.id)
        .map((f) => f.message),
      [],
      'passing input flagged',
    );
  });
}
