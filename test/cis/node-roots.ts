/**
 * Fake-root Kubernetes worker nodes for the agent's scheduled benchmarks (#14), built as
 * test/cis/k8s-node.test.ts builds its good node (files with modes and owners, kubelet and
 * kube-proxy in <root>/proc): `goodNode` passes every cis-1.9 check with tests; `badNode` is the
 * good node with known mutations (each fails exactly its check there) and a password on the
 * kubelet's command line that must never leave the node unredacted.
 */
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const CONFIG = '/var/lib/kubelet/config.yaml';
export const SVC = '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf';
export const KUBECONFIG = '/etc/kubernetes/kubelet.conf';
export const CA = '/etc/kubernetes/pki/ca.crt';
export const PROXYCONF = '/var/lib/kube-proxy/kubeconfig.conf';

export const NODE_SECRET = 'Sup3rSecretRegistryPassw0rd';

/** A node for the CIS Kubernetes node checks: the kubelet's and kube-proxy's command lines, the kubelet config, files with modes and owners. */
export interface NodeSpec {
  kubeletArgv: string[];
  proxyArgv: string[];
  config: Record<string, unknown>;
  files: Record<string, { mode: number; uid: number; gid: number; content?: string }>;
}

/** A node that passes every cis-1.9 check with tests. */
export function goodSpec(): NodeSpec {
  return {
    kubeletArgv: [
      '/usr/bin/kubelet',
      `--config=${CONFIG}`,
      `--kubeconfig=${KUBECONFIG}`,
      '--container-runtime-endpoint=unix:///run/containerd/containerd.sock',
    ],
    proxyArgv: [
      '/usr/local/bin/kube-proxy',
      `--kubeconfig=${PROXYCONF}`,
      '--metrics-bind-address=127.0.0.1:10249',
    ],
    config: {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: CA },
      },
      authorization: { mode: 'Webhook' },
      readOnlyPort: 0,
      streamingConnectionIdleTimeout: '4h0m0s',
      makeIPTablesUtilChains: true,
      eventRecordQPS: 5,
      tlsCertFile: '/var/lib/kubelet/pki/kubelet.crt',
      tlsPrivateKeyFile: '/var/lib/kubelet/pki/kubelet.key',
      rotateCertificates: true,
      featureGates: { RotateKubeletServerCertificate: true },
      tlsCipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'],
      podPidsLimit: 4096,
    },
    files: {
      [CONFIG]: { mode: 0o600, uid: 0, gid: 0 },
      [SVC]: {
        mode: 0o600,
        uid: 0,
        gid: 0,
        content: '[Service]\nExecStart=/usr/bin/kubelet $KUBELET_KUBEADM_ARGS\n',
      },
      [KUBECONFIG]: { mode: 0o600, uid: 0, gid: 0, content: 'apiVersion: v1\nkind: Config\n' },
      [CA]: { mode: 0o600, uid: 0, gid: 0, content: '-----BEGIN CERTIFICATE-----\n' },
      [PROXYCONF]: { mode: 0o600, uid: 0, gid: 0, content: 'apiVersion: v1\nkind: Config\n' },
    },
  };
}

/** Writes the node under `root`: files with modes and owners, /proc/<pid>/cmdline; returns root. */
export function writeRoot(root: string, spec: NodeSpec): string {
  const put = (p: string, content: string) => {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), content);
  };
  put('/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nkube:x:1000:1000::/home/kube:/bin/sh\n');
  put('/etc/group', 'root:x:0:\nkube:x:1000:\n');
  for (const [p, f] of Object.entries(spec.files)) {
    put(p, f.content ?? (p === CONFIG ? JSON.stringify(spec.config, null, 2) : ''));
    chmodSync(join(root, p), f.mode);
    chownSync(join(root, p), f.uid, f.gid);
  }
  put('/proc/4242/cmdline', spec.kubeletArgv.join('\0') + '\0');
  put('/proc/4343/cmdline', spec.proxyArgv.join('\0') + '\0');
  return root;
}

/** A node that passes every cis-1.9 check with tests (the manual ones are WARN). */
export function goodNode(root: string): string {
  return writeRoot(root, goodSpec());
}

/** The cis-1.9 checks badNode fails, each by its own mutation (see k8s-node.test.ts MUTATIONS). */
export const BAD_NODE_FAILS = ['4.1.5', '4.1.9', '4.2.1', '4.2.2'];

/**
 * The good node with its kubeconfig group-writable, the kubelet config world-readable, anonymous
 * auth on and authorization AlwaysAllow (unless `fixed` names checks to leave passing), and a
 * registry password on the kubelet's command line.
 */
export function badNode(root: string, fixed: string[] = []): string {
  const n = goodSpec();
  const cfg = n.config as Record<string, Record<string, unknown>>;
  if (!fixed.includes('4.1.5')) n.files[KUBECONFIG]!.mode = 0o660;
  if (!fixed.includes('4.1.9')) n.files[CONFIG]!.mode = 0o644;
  if (!fixed.includes('4.2.1')) cfg.authentication!.anonymous = { enabled: true };
  if (!fixed.includes('4.2.2')) cfg.authorization!.mode = 'AlwaysAllow';
  n.kubeletArgv.push(`--registry-password=${NODE_SECRET}`);
  return writeRoot(root, n);
}
