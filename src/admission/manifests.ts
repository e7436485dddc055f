/**
 * The webhook's own deployment: Namespace, ServiceAccount, Service, Deployment and the
 * ValidatingWebhookConfiguration (plus a MutatingWebhookConfiguration when digests are pinned).
 * The Deployment passes Bulwark's own restricted checks (tested with `scan config`).
 */
import { stringify } from 'yaml';

export interface ManifestOptions {
  namespace?: string;
  /** Name of the Service, Deployment and webhook configurations (default bulwark-admission). */
  name?: string;
  image?: string;
  /** PEM CA bundle that signed the webhook's serving certificate. */
  caBundlePem?: string;
  /** Secret with tls.crt and tls.key (default NAME-tls). */
  tlsSecret?: string;
  replicas?: number;
  timeoutSeconds?: number;
  failOpen?: boolean;
  mode?: 'enforce' | 'warn';
  /** Also a MutatingWebhookConfiguration that pins image tags to digests. */
  pinDigests?: boolean;
  /** Extra arguments for `bulwark admission` (--require-signature, --max-severity...). */
  args?: string[];
}

export const DEFAULT_IMAGE = 'ghcr.io/bulwark-security/bulwark:0.1.0';
const PORT = 8443;

/** Kinds and resources the webhook is registered for: pods and the workload controllers. */
export const WEBHOOK_RULES = [
  { apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] },
  {
    apiGroups: ['apps'],
    apiVersions: ['v1'],
    resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets'],
  },
  { apiGroups: ['batch'], apiVersions: ['v1'], resources: ['jobs', 'cronjobs'] },
];

/** The objects, in apply order. */
export function webhookObjects(o: ManifestOptions = {}): Record<string, unknown>[] {
  const ns = o.namespace ?? 'bulwark';
  const name = o.name ?? 'bulwark-admission';
  const secret = o.tlsSecret ?? `${name}-tls`;
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'bulwark' };
  const timeoutSeconds = o.timeoutSeconds ?? 5;
  // the internal deadline stays well under the API server's timeout
  const deadlineMs = Math.max(100, Math.min(2000, Math.floor(timeoutSeconds * 1000 * 0.4)));
  const args = [
    'admission',
    '--listen',
    `:${PORT}`,
    '--tls-cert',
    '/etc/bulwark/tls/tls.crt',
    '--tls-key',
    '/etc/bulwark/tls/tls.key',
    '--mode',
    o.mode ?? 'enforce',
    o.failOpen ? '--fail-open' : '--fail-closed',
    '--deadline-ms',
    String(deadlineMs),
    '--exempt-namespace',
    ns,
    ...(o.pinDigests ? ['--pin-digests'] : []),
    ...(o.args ?? []),
  ];
  const probe = { httpGet: { path: '/healthz', port: PORT, scheme: 'HTTPS' }, periodSeconds: 10 };
  const clientConfig = (path: string) => ({
    service: { name, namespace: ns, path, port: 443 },
    ...(o.caBundlePem ? { caBundle: Buffer.from(o.caBundlePem).toString('base64') } : {}),
  });
  const webhook = (hookName: string, path: string) => ({
    name: hookName,
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    timeoutSeconds,
    failurePolicy: o.failOpen ? 'Ignore' : 'Fail',
    matchPolicy: 'Equivalent',
    clientConfig: clientConfig(path),
    rules: WEBHOOK_RULES.map((r) => ({ ...r, operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' })),
    // never block the control plane or Bulwark itself (a broken webhook must not lock itself out)
    matchConditions: [
      { name: 'exclude-kube-system', expression: "request.namespace != 'kube-system'" },
      { name: 'exclude-bulwark', expression: `request.namespace != '${ns}'` },
    ],
  });
  const objects: Record<string, unknown>[] = [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: ns,
        labels: {
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/audit': 'restricted',
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name, namespace: ns, labels },
      automountServiceAccountToken: false,
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: ns, labels },
      spec: {
        type: 'ClusterIP',
        selector: labels,
        ports: [{ name: 'https', port: 443, targetPort: PORT, protocol: 'TCP' }],
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns, labels },
      spec: {
        replicas: o.replicas ?? 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: name,
            automountServiceAccountToken: false,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65532,
              runAsGroup: 65532,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'webhook',
                image: o.image ?? DEFAULT_IMAGE,
                imagePullPolicy: 'IfNotPresent',
                args,
                ports: [{ name: 'https', containerPort: PORT, protocol: 'TCP' }],
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  capabilities: { drop: ['ALL'] },
                },
                resources: {
                  requests: { cpu: '100m', memory: '128Mi' },
                  limits: { cpu: '1', memory: '512Mi' },
                },
                livenessProbe: probe,
                readinessProbe: { ...probe, httpGet: { ...probe.httpGet, path: '/readyz' } },
                volumeMounts: [
                  { name: 'tls', mountPath: '/etc/bulwark/tls', readOnly: true },
                  { name: 'cache', mountPath: '/home/nonroot/.cache' },
                ],
              },
            ],
            volumes: [
              { name: 'tls', secret: { secretName: secret } },
              { name: 'cache', emptyDir: { sizeLimit: '1Gi' } },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name, labels },
      webhooks: [webhook('validate.admission.bulwark.dev', '/validate')],
    },
  ];
  if (o.pinDigests)
    objects.push({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name, labels },
      webhooks: [
        { ...webhook('pin-digests.admission.bulwark.dev', '/mutate'), reinvocationPolicy: 'IfNeeded' },
      ],
    });
  return objects;
}

/** The objects as one multi-document YAML stream. */
export function webhookManifests(o: ManifestOptions = {}): string {
  return webhookObjects(o)
    .map((obj) => stringify(obj, { lineWidth: 0 }))
    .join('---\n');
}
