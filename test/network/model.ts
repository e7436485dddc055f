/**
 * The upstream e2e network-policy model as manifests: Namespaces x, y, z (labelled ns=<name>;
 * kubernetes.io/metadata.name is added by the loader as the API server does) and Pods a, b, c in
 * each (labelled pod=<name>, IP 10.0.<ns>.<pod>), one container per port and protocol with the
 * upstream port names serve-80-tcp, serve-81-udp, ...
 */
import { stringify } from 'yaml';

export const MODEL_NS = ['x', 'y', 'z'] as const;
export const MODEL_PODS = MODEL_NS.flatMap((n) => ['a', 'b', 'c'].map((p) => `${n}/${p}`));

export interface ModelOptions {
  /** extra labels per namespace */
  nsLabels?: Record<string, Record<string, string>>;
  /** extra labels per pod ("x/a") */
  podLabels?: Record<string, Record<string, string>>;
}

export function modelIp(pod: string): string {
  const [n, p] = pod.split('/') as [string, string];
  return `10.0.${MODEL_NS.indexOf(n as 'x') + 1}.${'abc'.indexOf(p) + 1}`;
}

export function modelManifests(o: ModelOptions = {}): string {
  const docs: unknown[] = [];
  for (const n of MODEL_NS)
    docs.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: n, labels: { ns: n, ...o.nsLabels?.[n] } },
    });
  for (const pod of MODEL_PODS) {
    const [n, p] = pod.split('/') as [string, string];
    const containers = [80, 81].flatMap((port) =>
      ['TCP', 'UDP', 'SCTP'].map((proto) => ({
        name: `cont-${port}-${proto.toLowerCase()}`,
        image: 'registry.k8s.io/e2e-test-images/agnhost:2.43',
        ports: [{ containerPort: port, name: `serve-${port}-${proto.toLowerCase()}`, protocol: proto }],
      })),
    );
    docs.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: p, namespace: n, labels: { pod: p, ...o.podLabels?.[pod] } },
      spec: { containers },
      status: { podIP: modelIp(pod), podIPs: [{ ip: modelIp(pod) }] },
    });
  }
  return docs.map((d) => stringify(d)).join('---\n');
}
