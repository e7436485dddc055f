/**
 * RBAC analysis: from Roles, ClusterRoles and their bindings, which subject (User, Group,
 * ServiceAccount) can read Secrets, exec into pods, create privileged pods, or escalate its
 * privileges — where (cluster-wide or in which namespace) and through which binding and role.
 *
 * Pure data in, data out: the same function serves manifests on disk and a live cluster.
 * Rules with resourceNames are treated as not granting the capability (they name single objects).
 */

type Obj = Record<string, unknown>;

export const RBAC_CAPABILITIES = ['read-secrets', 'exec-pods', 'create-privileged-pods', 'escalate'] as const;
export type RbacCapability = (typeof RBAC_CAPABILITIES)[number];

export const CAPABILITY_TITLES: Record<RbacCapability, string> = {
  'read-secrets': 'can read Secrets',
  'exec-pods': 'can exec into (or attach to) pods',
  'create-privileged-pods':
    'can create privileged pods (workload creation where Pod Security admission does not forbid it)',
  escalate: 'can escalate privileges (bind, escalate, impersonate, mint tokens, or full wildcard)',
};

export interface RbacSubject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  name: string;
  namespace?: string;
}

export interface RbacGrant {
  capability: RbacCapability;
  /** "cluster" for a ClusterRoleBinding, else the namespace of the RoleBinding. */
  scope: string;
  binding: string;
  role: string;
  /** What in the role grants it: "create pods/exec", "get secrets", "escalate clusterroles"... */
  reason: string;
}

export interface RbacSubjectReport {
  subject: RbacSubject;
  grants: RbacGrant[];
}

export interface RbacAnalysis {
  subjects: RbacSubjectReport[];
  /** Bindings whose role does not exist among the objects (warnings). */
  danglingBindings: string[];
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames: string[];
}

const strs = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
const meta = (o: Obj) => (o.metadata && typeof o.metadata === 'object' ? (o.metadata as Obj) : {});
const nameOf = (o: Obj) => String(meta(o).name ?? '');
const nsOf = (o: Obj) => (typeof meta(o).namespace === 'string' ? (meta(o).namespace as string) : undefined);

function rulesOf(role: Obj): Rule[] {
  return (Array.isArray(role.rules) ? role.rules : [])
    .filter((r): r is Obj => !!r && typeof r === 'object')
    .map((r) => ({
      apiGroups: strs(r.apiGroups),
      resources: strs(r.resources),
      verbs: strs(r.verbs),
      resourceNames: strs(r.resourceNames),
    }));
}

/**
 * The roles Kubernetes creates itself (the RBAC bootstrap policy: plugin/pkg/auth/authorizer/rbac/
 * bootstrappolicy), by exact name. These are powerful by design and exempt from the rule checks;
 * any other role is checked, whatever its prefix: a custom "system:viewer" is not a default role.
 */
const BOOTSTRAP_CLUSTER_ROLES = new Set([
  'cluster-admin',
  'admin',
  'edit',
  'view',
  'system:aggregate-to-admin',
  'system:aggregate-to-edit',
  'system:aggregate-to-view',
  'system:auth-delegator',
  'system:basic-user',
  'system:certificates.k8s.io:certificatesigningrequests:nodeclient',
  'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient',
  'system:certificates.k8s.io:kube-apiserver-client-approver',
  'system:certificates.k8s.io:kube-apiserver-client-kubelet-approver',
  'system:certificates.k8s.io:kubelet-serving-approver',
  'system:certificates.k8s.io:legacy-unknown-approver',
  'system:discovery',
  'system:heapster',
  'system:kube-aggregator',
  'system:kube-controller-manager',
  'system:kube-dns',
  'system:kube-scheduler',
  'system:kubelet-api-admin',
  'system:monitoring',
  'system:node',
  'system:node-bootstrapper',
  'system:node-problem-detector',
  'system:node-proxier',
  'system:persistent-volume-provisioner',
  'system:public-info-viewer',
  'system:service-account-issuer-discovery',
  'system:volume-scheduler',
  ...[
    'attachdetach-controller',
    'certificate-controller',
    'clusterrole-aggregation-controller',
    'cronjob-controller',
    'daemon-set-controller',
    'deployment-controller',
    'disruption-controller',
    'endpoint-controller',
    'endpointslice-controller',
    'endpointslicemirroring-controller',
    'ephemeral-volume-controller',
    'expand-controller',
    'generic-garbage-collector',
    'horizontal-pod-autoscaler',
    'job-controller',
    'legacy-service-account-token-cleaner',
    'namespace-controller',
    'node-controller',
    'persistent-volume-binder',
    'pod-garbage-collector',
    'pv-protection-controller',
    'pvc-protection-controller',
    'replicaset-controller',
    'replication-controller',
    'resource-claim-controller',
    'resourcequota-controller',
    'root-ca-cert-publisher',
    'route-controller',
    'selinux-warning-controller',
    'service-account-controller',
    'service-cidrs-controller',
    'service-controller',
    'statefulset-controller',
    'ttl-after-finished-controller',
    'ttl-controller',
    'validatingadmissionpolicy-status-controller',
    'volumeattributesclass-protection-controller',
  ].map((c) => `system:controller:${c}`),
]);

/** Namespaced default Roles, by namespace. */
const BOOTSTRAP_ROLES: Record<string, ReadonlySet<string>> = {
  'kube-system': new Set([
    'extension-apiserver-authentication-reader',
    'system::leader-locking-kube-controller-manager',
    'system::leader-locking-kube-scheduler',
    'system:controller:bootstrap-signer',
    'system:controller:cloud-provider',
    'system:controller:token-cleaner',
  ]),
  'kube-public': new Set(['system:controller:bootstrap-signer']),
};

/** True for a role Kubernetes itself creates: exact name (and namespace, for a Role). */
export function isDefaultRole(kind: string, name: string, namespace?: string): boolean {
  if (kind === 'ClusterRole') return BOOTSTRAP_CLUSTER_ROLES.has(name);
  if (kind === 'Role') return Boolean(namespace && BOOTSTRAP_ROLES[namespace]?.has(name));
  return false;
}

/** A rule's resource entry matches a resource: "*", exact, "pods/*" (any subresource), "*\/scale". */
function resourceMatches(pattern: string, resource: string): boolean {
  if (pattern === '*' || pattern === resource) return true;
  const slash = resource.indexOf('/');
  if (slash < 0) return false;
  if (pattern === `${resource.slice(0, slash)}/*`) return true;
  return pattern === `*${resource.slice(slash)}`;
}

const has = (list: string[], ...wanted: string[]) => list.some((x) => x === '*' || wanted.includes(x));

/** Matches a rule against API groups, resources and verbs; returns "verb resource" or undefined. */
function grants(rule: Rule, groups: string[], resources: string[], verbs: string[]): string | undefined {
  if (rule.resourceNames.length) return undefined;
  if (!has(rule.apiGroups, ...groups)) return undefined;
  const res = rule.resources.find((r) => resources.some((x) => resourceMatches(r, x)));
  const verb = rule.verbs.find((v) => v === '*' || verbs.includes(v));
  return res && verb ? `${verb} ${res}` : undefined;
}

const WORKLOADS: [string[], string[]][] = [
  [[''], ['pods']],
  [['apps'], ['deployments', 'daemonsets', 'statefulsets', 'replicasets']],
  [['batch'], ['jobs', 'cronjobs']],
  [[''], ['replicationcontrollers']],
];

function capabilitiesOfRule(rule: Rule): [RbacCapability, string][] {
  const out: [RbacCapability, string][] = [];
  const secrets = grants(rule, [''], ['secrets'], ['get', 'list', 'watch']);
  if (secrets) out.push(['read-secrets', secrets]);
  // nodes/proxy reaches the kubelet API, which runs commands in any pod on the node (and is not
  // in the API server's audit log): as good as exec
  const exec =
    grants(rule, [''], ['pods/exec', 'pods/attach'], ['create', 'get']) ??
    grants(rule, [''], ['nodes/proxy'], ['create', 'get']);
  if (exec) out.push(['exec-pods', exec]);
  for (const [g, r] of WORKLOADS) {
    const c = grants(rule, g, r, ['create']);
    if (c) {
      out.push(['create-privileged-pods', c]);
      break;
    }
  }
  const esc =
    grants(rule, ['rbac.authorization.k8s.io'], ['roles', 'clusterroles'], ['bind', 'escalate']) ??
    grants(rule, [''], ['users', 'groups', 'serviceaccounts'], ['impersonate']) ??
    grants(rule, ['authentication.k8s.io'], ['userextras/scopes', 'uids'], ['impersonate']) ??
    grants(rule, [''], ['serviceaccounts/token'], ['create']) ??
    (rule.verbs.includes('*') &&
    rule.resources.includes('*') &&
    rule.apiGroups.includes('*') &&
    !rule.resourceNames.length
      ? '* *'
      : undefined);
  if (esc) out.push(['escalate', esc]);
  return out;
}

/**
 * Namespaces where Pod Security admission forbids privileged pods (enforce=baseline or restricted).
 * Namespaces not among the objects are assumed to allow them.
 */
function protectedNamespaces(objects: Obj[]): Set<string> {
  const out = new Set<string>();
  for (const o of objects) {
    if (o.kind !== 'Namespace') continue;
    const labels = (meta(o).labels ?? {}) as Record<string, string>;
    if (['baseline', 'restricted'].includes(labels['pod-security.kubernetes.io/enforce'] ?? ''))
      out.add(nameOf(o));
  }
  return out;
}

/**
 * Kubernetes' bootstrap ClusterRoles, reduced to the rules this analysis looks at (from the
 * Kubernetes RBAC documentation's "User-facing roles"). Used only when the objects do not define
 * them, i.e. when analysing manifests rather than a live cluster.
 */
const DEFAULT_CLUSTER_ROLES: Obj[] = [
  {
    kind: 'ClusterRole',
    metadata: { name: 'cluster-admin' },
    rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
  },
  ...['admin', 'edit'].map((name) => ({
    kind: 'ClusterRole',
    metadata: { name },
    rules: [
      {
        apiGroups: [''],
        resources: ['secrets'],
        verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
      },
      {
        apiGroups: [''],
        resources: ['pods', 'pods/exec', 'pods/attach'],
        verbs: ['create', 'get', 'list', 'watch', 'delete'],
      },
      {
        apiGroups: ['apps'],
        resources: ['deployments', 'daemonsets', 'statefulsets', 'replicasets'],
        verbs: ['create', 'update', 'patch', 'delete'],
      },
      { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] },
    ],
  })),
  {
    kind: 'ClusterRole',
    metadata: { name: 'view' },
    rules: [
      { apiGroups: [''], resources: ['pods', 'services', 'configmaps'], verbs: ['get', 'list', 'watch'] },
    ],
  },
];

/**
 * An aggregated ClusterRole (aggregationRule) has its rules filled in by the API server from the
 * ClusterRoles its selectors match; manifests often leave `rules` empty, so do the same here.
 */
function withAggregatedRules(role: Obj, objects: readonly Obj[]): Obj {
  const agg = role.aggregationRule as
    { clusterRoleSelectors?: { matchLabels?: Record<string, string> }[] } | undefined;
  const selectors = agg?.clusterRoleSelectors ?? [];
  if (!selectors.length || rulesOf(role).length) return role;
  const matches = (o: Obj) => {
    const labels = (meta(o).labels ?? {}) as Record<string, string>;
    return selectors.some((sel) => Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v));
  };
  const rules = objects
    .filter((o) => o !== role && o.kind === 'ClusterRole' && matches(o))
    .flatMap((o) => (Array.isArray(o.rules) ? o.rules : []));
  return { ...role, rules };
}

export function analyzeRbac(objects: readonly Obj[]): RbacAnalysis {
  const roles = new Map<string, Obj>();
  for (const o of DEFAULT_CLUSTER_ROLES) roles.set(`ClusterRole/${nameOf(o)}`, o);
  for (const o of objects) {
    if (o.kind === 'ClusterRole') roles.set(`ClusterRole/${nameOf(o)}`, withAggregatedRules(o, objects));
    if (o.kind === 'Role') roles.set(`Role/${nsOf(o) ?? 'default'}/${nameOf(o)}`, o);
  }
  const guarded = protectedNamespaces(objects as Obj[]);
  const bySubject = new Map<string, RbacSubjectReport>();
  const dangling: string[] = [];

  for (const b of objects) {
    if (b.kind !== 'RoleBinding' && b.kind !== 'ClusterRoleBinding') continue;
    const ref = (b.roleRef ?? {}) as Obj;
    const bns = b.kind === 'RoleBinding' ? (nsOf(b) ?? 'default') : undefined;
    const roleKey =
      ref.kind === 'Role' ? `Role/${bns}/${String(ref.name)}` : `ClusterRole/${String(ref.name)}`;
    const bindingLabel = `${b.kind}/${bns ? `${bns}/` : ''}${nameOf(b)}`;
    const role = roles.get(roleKey);
    if (!role) {
      dangling.push(`${bindingLabel} → ${roleKey}`);
      continue;
    }
    const scope = bns ?? 'cluster';
    const caps = rulesOf(role).flatMap(capabilitiesOfRule);
    const found: RbacGrant[] = [];
    for (const [capability, reason] of caps) {
      if (capability === 'create-privileged-pods') {
        // Pod Security admission in enforce mode blocks privileged pods in that namespace. A
        // cluster-wide grant always counts: kube-system and new namespaces are rarely guarded.
        if (scope !== 'cluster' && guarded.has(scope)) continue;
      }
      if (!found.some((g) => g.capability === capability)) {
        found.push({
          capability,
          scope,
          binding: bindingLabel,
          role: roleKey.replace(/^Role\/[^/]+\//, 'Role/'),
          reason,
        });
      }
    }
    if (!found.length) continue;
    for (const s of Array.isArray(b.subjects) ? (b.subjects as Obj[]) : []) {
      const kind = s.kind;
      if (kind !== 'User' && kind !== 'Group' && kind !== 'ServiceAccount') continue;
      const subject: RbacSubject = {
        kind,
        name: String(s.name ?? ''),
        ...(kind === 'ServiceAccount'
          ? { namespace: typeof s.namespace === 'string' ? s.namespace : (bns ?? 'default') }
          : {}),
      };
      const key = `${subject.kind}\0${subject.namespace ?? ''}\0${subject.name}`;
      let rep = bySubject.get(key);
      if (!rep) bySubject.set(key, (rep = { subject, grants: [] }));
      rep.grants.push(...found);
    }
  }
  const subjects = [...bySubject.values()].sort(
    (a, b) =>
      a.subject.kind.localeCompare(b.subject.kind) ||
      (a.subject.namespace ?? '').localeCompare(b.subject.namespace ?? '') ||
      a.subject.name.localeCompare(b.subject.name),
  );
  return { subjects, danglingBindings: dangling };
}

export function subjectLabel(s: RbacSubject): string {
  return s.kind === 'ServiceAccount' ? `ServiceAccount ${s.namespace}/${s.name}` : `${s.kind} ${s.name}`;
}

/** Text report: one section per capability, listing who has it, where and through what. */
export function renderRbacTable(a: RbacAnalysis): string {
  const out: string[] = [];
  for (const cap of RBAC_CAPABILITIES) {
    const rows = a.subjects.flatMap((s) =>
      s.grants.filter((g) => g.capability === cap).map((g) => ({ s, g })),
    );
    out.push(`Who ${CAPABILITY_TITLES[cap]} (${rows.length})`);
    if (!rows.length) out.push('  nobody', '');
    else {
      for (const { s, g } of rows)
        out.push(`  ${subjectLabel(s.subject)}  [${g.scope}]  via ${g.binding} → ${g.role} (${g.reason})`);
      out.push('');
    }
  }
  for (const d of a.danglingBindings) out.push(`WARN binding to a missing role: ${d}`);
  return out.join('\n').replace(/\n+$/, '\n');
}
