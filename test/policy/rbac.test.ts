/**
 * RBAC analysis: who can read secrets, exec into pods, create privileged pods, escalate — per
 * subject, with scope and the binding/role that grants it. Inputs: the RBAC fixture modelled on the
 * Kubernetes RBAC documentation, polaris' RBAC examples, and small cases for each rule shape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { analyzeRbac, renderRbacTable, subjectLabel, type RbacAnalysis } from '../../src/policy/index.js';
import { SHARED } from '../helpers/shared.js';
import { idsOf, scanText } from './helpers.js';

type Obj = Record<string, unknown>;
const load = (file: string): Obj[] =>
  parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => !!o && typeof o.kind === 'string');

function who(a: RbacAnalysis, cap: string): string[] {
  return a.subjects
    .flatMap((s) =>
      s.grants
        .filter((g) => g.capability === cap)
        .map((g) => `${subjectLabel(s.subject)} [${g.scope}] ${g.binding} ${g.role}`),
    )
    .sort();
}

const bind = (
  kind: 'RoleBinding' | 'ClusterRoleBinding',
  name: string,
  roleKind: string,
  role: string,
  subjects: Obj[],
  ns?: string,
): Obj => ({
  kind,
  metadata: { name, ...(ns ? { namespace: ns } : {}) },
  roleRef: { kind: roleKind, name: role, apiGroup: 'rbac.authorization.k8s.io' },
  subjects,
});
const role = (kind: 'Role' | 'ClusterRole', name: string, rules: Obj[], ns?: string): Obj => ({
  kind,
  metadata: { name, ...(ns ? { namespace: ns } : {}) },
  rules,
});

test('the RBAC documentation fixture: cluster-admin bound to a default service account', () => {
  const a = analyzeRbac(load(join(import.meta.dirname, '..', 'misconfig', 'fixtures', 'k8s', 'rbac.yaml')));
  const sa = 'ServiceAccount ci/default [cluster] ClusterRoleBinding/ci-admin ClusterRole/cluster-admin';
  assert.deepEqual(who(a, 'read-secrets'), [sa]);
  assert.deepEqual(who(a, 'exec-pods'), [sa]);
  assert.deepEqual(who(a, 'escalate'), [sa]);
  // jane's pod-reader grants nothing dangerous; secret-reader and ops-debug are not bound.
  assert.ok(!a.subjects.some((s) => s.subject.name === 'jane'));
  assert.deepEqual(a.danglingBindings, []);
  assert.match(
    renderRbacTable(a),
    /^Who can read Secrets \(1\)\n {2}ServiceAccount ci\/default {2}\[cluster\] {2}via ClusterRoleBinding\/ci-admin → ClusterRole\/cluster-admin \(\* \*\)/,
  );
});

test('namespaced grants, RoleBinding to a ClusterRole, Pod Security admission and resourceNames', () => {
  const objs: Obj[] = [
    {
      kind: 'Namespace',
      metadata: { name: 'team-a', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    },
    { kind: 'Namespace', metadata: { name: 'team-b' } },
    role('ClusterRole', 'deployer', [
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['create', 'update'] },
    ]),
    role('Role', 'debugger', [{ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }], 'team-b'),
    role(
      'Role',
      'one-secret',
      [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['tls'], verbs: ['get'] }],
      'team-b',
    ),
    role('ClusterRole', 'impersonator', [
      { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] },
    ]),
    bind(
      'RoleBinding',
      'deploy-a',
      'ClusterRole',
      'deployer',
      [{ kind: 'ServiceAccount', name: 'ci' }],
      'team-a',
    ),
    bind('RoleBinding', 'deploy-b', 'ClusterRole', 'deployer', [{ kind: 'Group', name: 'devs' }], 'team-b'),
    bind('RoleBinding', 'debug', 'Role', 'debugger', [{ kind: 'User', name: 'alice' }], 'team-b'),
    bind('RoleBinding', 'tls', 'Role', 'one-secret', [{ kind: 'User', name: 'bob' }], 'team-b'),
    bind('ClusterRoleBinding', 'imp', 'ClusterRole', 'impersonator', [{ kind: 'User', name: 'mallory' }]),
    bind('RoleBinding', 'gone', 'Role', 'deleted-role', [{ kind: 'User', name: 'x' }], 'team-b'),
    bind(
      'RoleBinding',
      'editors',
      'ClusterRole',
      'edit',
      [{ kind: 'Group', name: 'team-b-editors' }],
      'team-b',
    ),
  ];
  const a = analyzeRbac(objs);
  // team-a enforces restricted: creating deployments there cannot produce privileged pods.
  assert.deepEqual(who(a, 'create-privileged-pods'), [
    'Group devs [team-b] RoleBinding/team-b/deploy-b ClusterRole/deployer',
    'Group team-b-editors [team-b] RoleBinding/team-b/editors ClusterRole/edit',
  ]);
  assert.deepEqual(who(a, 'exec-pods'), [
    'Group team-b-editors [team-b] RoleBinding/team-b/editors ClusterRole/edit',
    'User alice [team-b] RoleBinding/team-b/debug Role/debugger',
  ]);
  // A rule limited to one named Secret does not let bob read Secrets in general.
  assert.deepEqual(who(a, 'read-secrets'), [
    'Group team-b-editors [team-b] RoleBinding/team-b/editors ClusterRole/edit',
  ]);
  assert.deepEqual(who(a, 'escalate'), [
    'Group team-b-editors [team-b] RoleBinding/team-b/editors ClusterRole/edit',
    'User mallory [cluster] ClusterRoleBinding/imp ClusterRole/impersonator',
  ]);
  // The ServiceAccount subject without a namespace takes the RoleBinding's.
  assert.ok(
    !a.subjects.some((s) => s.subject.kind === 'ServiceAccount'),
    'ci in team-a has no dangerous grant',
  );
  assert.deepEqual(a.danglingBindings, ['RoleBinding/team-b/gone → Role/team-b/deleted-role']);
});

test('polaris RBAC examples: every ClusterRole that polaris flags for exec/attach grants exec-pods when bound', () => {
  const dir = `${SHARED}/corpora/polaris/test/checks/clusterrolePodExecAttach`;
  for (const f of readdirSync(dir).filter((n) => n.startsWith('failure'))) {
    const objs = load(join(dir, f));
    const cr = objs.find((o) => o.kind === 'ClusterRole')!;
    objs.push(
      bind('ClusterRoleBinding', 'b', 'ClusterRole', String((cr.metadata as Obj).name), [
        { kind: 'User', name: 'u' },
      ]),
    );
    assert.deepEqual(who(analyzeRbac(objs), 'exec-pods').length, 1, f);
  }
  for (const f of [
    'success.exec_wrong_verb.yaml',
    'success.attach_wrong_verb.yaml',
    'success.allow_unrelated_perms.yaml',
  ]) {
    const objs = load(join(dir, f));
    const cr = objs.find((o) => o.kind === 'ClusterRole')!;
    objs.push(
      bind('ClusterRoleBinding', 'b', 'ClusterRole', String((cr.metadata as Obj).name), [
        { kind: 'User', name: 'u' },
      ]),
    );
    assert.deepEqual(who(analyzeRbac(objs), 'exec-pods'), [], f);
  }
});

test('aggregated ClusterRoles get the rules of the roles their selectors match; nodes/proxy counts as exec', () => {
  const monitoring: Obj = {
    kind: 'ClusterRole',
    metadata: { name: 'monitoring' },
    aggregationRule: {
      clusterRoleSelectors: [{ matchLabels: { 'rbac.example.com/aggregate-to-monitoring': 'true' } }],
    },
    rules: [],
  };
  const endpoints: Obj = {
    kind: 'ClusterRole',
    metadata: {
      name: 'monitoring-endpoints',
      labels: { 'rbac.example.com/aggregate-to-monitoring': 'true' },
    },
    rules: [
      {
        apiGroups: [''],
        resources: ['nodes/proxy', 'services', 'endpoints', 'pods'],
        verbs: ['get', 'list', 'watch'],
      },
    ],
  };
  const unrelated: Obj = {
    kind: 'ClusterRole',
    metadata: { name: 'secret-reader', labels: { team: 'ops' } },
    rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
  };
  const objects = [
    monitoring,
    endpoints,
    unrelated,
    bind('ClusterRoleBinding', 'prometheus', 'ClusterRole', 'monitoring', [
      { kind: 'ServiceAccount', name: 'prometheus', namespace: 'monitoring' },
    ]),
  ];
  const a = analyzeRbac(objects);
  assert.deepEqual(who(a, 'exec-pods'), [
    'ServiceAccount monitoring/prometheus [cluster] ClusterRoleBinding/prometheus ClusterRole/monitoring',
  ]);
  assert.deepEqual(who(a, 'read-secrets'), [], 'only the matching roles are aggregated');
  // a role that lists its own rules is taken as written
  const filled = analyzeRbac([
    { ...monitoring, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] },
    endpoints,
    objects[3]!,
  ]);
  assert.deepEqual(who(filled, 'exec-pods'), []);
});

test('--rbac: subresource wildcards (pods/*, nodes/*, */exec) grant exec; other API groups grant nothing', () => {
  const sa = (name: string) => [{ kind: 'ServiceAccount', name, namespace: 'apps' }];
  const a = analyzeRbac([
    role('ClusterRole', 'pods-any-sub', [{ apiGroups: [''], resources: ['pods/*'], verbs: ['create'] }]),
    role('ClusterRole', 'nodes-any-sub', [{ apiGroups: [''], resources: ['nodes/*'], verbs: ['get'] }]),
    role('ClusterRole', 'any-exec', [{ apiGroups: [''], resources: ['*/exec'], verbs: ['create'] }]),
    role('ClusterRole', 'wrong-group', [
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['pods', 'pods/exec', 'secrets'], verbs: ['*'] },
    ]),
    role('ClusterRole', 'star-impersonate', [
      { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['*'] },
    ]),
    bind('ClusterRoleBinding', 'b1', 'ClusterRole', 'pods-any-sub', sa('one')),
    bind('ClusterRoleBinding', 'b2', 'ClusterRole', 'nodes-any-sub', sa('two')),
    bind('ClusterRoleBinding', 'b3', 'ClusterRole', 'any-exec', sa('three')),
    bind('ClusterRoleBinding', 'b4', 'ClusterRole', 'wrong-group', sa('four')),
    bind('ClusterRoleBinding', 'b5', 'ClusterRole', 'star-impersonate', sa('five')),
  ]);
  assert.deepEqual(who(a, 'exec-pods'), [
    'ServiceAccount apps/one [cluster] ClusterRoleBinding/b1 ClusterRole/pods-any-sub',
    'ServiceAccount apps/three [cluster] ClusterRoleBinding/b3 ClusterRole/any-exec',
    'ServiceAccount apps/two [cluster] ClusterRoleBinding/b2 ClusterRole/nodes-any-sub',
  ]);
  assert.ok(
    !a.subjects.some((s) => s.subject.name === 'four'),
    'pods in rbac.authorization.k8s.io grant nothing',
  );
  assert.deepEqual(who(a, 'escalate'), [
    'ServiceAccount apps/five [cluster] ClusterRoleBinding/b5 ClusterRole/star-impersonate',
  ]);
});

test('rule checks: apiGroups honoured, verbs * is impersonate, exact-name default-role exemption', () => {
  const doc = (kind: string, name: string, rules: Obj[], ns?: string) =>
    JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', ...role(kind as 'Role', name, rules, ns) });
  const ids = (text: string) => idsOf(scanText(text, 'rbac.yaml', 'yaml'));
  // create pods in the wrong API group: no workload creation, no secrets
  const wrong = ids(
    doc('ClusterRole', 'wrong', [
      {
        apiGroups: ['rbac.authorization.k8s.io'],
        resources: ['pods', 'secrets', 'pods/exec'],
        verbs: ['create', 'get'],
      },
    ]),
  );
  assert.ok(
    !wrong.has('BW-RBAC-004') && !wrong.has('BW-RBAC-002') && !wrong.has('BW-RBAC-003'),
    [...wrong].join(),
  );
  assert.ok(
    ids(doc('ClusterRole', 'right', [{ apiGroups: [''], resources: ['pods'], verbs: ['create'] }])).has(
      'BW-RBAC-004',
    ),
  );
  assert.ok(
    ids(
      doc('ClusterRole', 'apps', [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['create'] }]),
    ).has('BW-RBAC-004'),
  );
  assert.ok(
    !ids(
      doc('ClusterRole', 'apps-core', [{ apiGroups: [''], resources: ['deployments'], verbs: ['create'] }]),
    ).has('BW-RBAC-004'),
  );
  // verbs ["*"] on serviceaccounts includes impersonate
  assert.ok(
    ids(doc('ClusterRole', 'star', [{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['*'] }])).has(
      'BW-RBAC-005',
    ),
  );
  assert.ok(
    !ids(
      doc('ClusterRole', 'sa-read', [{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get'] }]),
    ).has('BW-RBAC-005'),
  );
  // subresource wildcards
  assert.ok(
    ids(doc('Role', 'pods-sub', [{ apiGroups: [''], resources: ['pods/*'], verbs: ['create'] }], 'apps')).has(
      'BW-RBAC-003',
    ),
  );
  assert.ok(
    ids(doc('ClusterRole', 'nodes-sub', [{ apiGroups: [''], resources: ['nodes/*'], verbs: ['get'] }])).has(
      'BW-RBAC-011',
    ),
  );
  // default roles by exact name only
  const all = [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }];
  assert.equal(ids(doc('ClusterRole', 'cluster-admin', all)).size, 0);
  assert.equal(ids(doc('ClusterRole', 'system:controller:deployment-controller', all)).size, 0);
  assert.equal(ids(doc('Role', 'system:controller:token-cleaner', all, 'kube-system')).size, 0);
  assert.ok(
    ids(doc('ClusterRole', 'system:viewer', all)).has('BW-RBAC-001'),
    'a custom system: role is checked',
  );
  assert.ok(
    ids(doc('Role', 'system:controller:token-cleaner', all, 'default')).has('BW-RBAC-001'),
    'outside kube-system it is custom',
  );
});
