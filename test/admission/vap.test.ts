/**
 * ValidatingAdmissionPolicy evaluation (the CI side of admission): table tests of the semantics
 * (params, matchConditions, validationActions, messageExpression, namespaceSelector, variables,
 * failurePolicy), the policies of the Kubernetes docs' examples (fixtures/vap, copied from
 * kubernetes.io), a policy over the real pods of the Falco audit corpus, and `scan config --vap`.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseManifests } from '../../src/misconfig/index.js';
import { evaluateVap, loadVapObjects, loadVapPaths, type VapSet } from '../../src/admission/index.js';
import { CORPORA } from '../helpers/shared.js';
import { cli } from './helpers.js';

const FIX = fileURLToPath(new URL('./fixtures/vap/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-vap-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const policies = (yaml: string): VapSet =>
  loadVapObjects(
    parseManifests(yaml, 'policy.yaml').inputs.map((i) => ({
      object: i.object as Record<string, unknown>,
      file: 'policy.yaml',
    })),
  );
const run = (set: VapSet, manifests: string) => evaluateVap(set, parseManifests(manifests, 'm.yaml').inputs);

const deployment = (name: string, ns: string | undefined, replicas: number, extra = '') => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
${ns ? `  namespace: ${ns}\n` : ''}${extra}spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - name: app
        image: test.example.com/app:1
---
`;
const namespace = (name: string, labels: Record<string, string>) => `
apiVersion: v1
kind: Namespace
metadata:
  name: ${name}
  labels: ${JSON.stringify(labels)}
---
`;

test('docs demo policy: namespaceSelector of the binding, int comparison, the API server message', () => {
  const set = loadVapPaths([join(FIX, 'demo-policy.yaml')]);
  const r = run(
    set,
    namespace('test', { environment: 'test' }) +
      namespace('prod', { environment: 'prod' }) +
      deployment('big', 'test', 6) +
      deployment('small', 'test', 5) +
      deployment('big-prod', 'prod', 50) +
      deployment('big-nolabel', 'other', 50),
  );
  assert.deepEqual(
    r.findings.map((f) => [f.resource?.name, f.id, f.severity, f.message]),
    [
      [
        'big',
        'VAP:demo-policy.example.com',
        'HIGH',
        "ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com' denied request: failed expression: object.spec.replicas <= 5",
      ],
    ],
  );
  assert.equal(r.findings[0]!.location.path, 'm.yaml');
  // the line where the Deployment starts in m.yaml
  assert.equal(r.findings[0]!.location.line, 16);
});

test('params: by name (namespace of the ref), messageExpression, parameterNotFoundAction Deny/Allow, selector', () => {
  const set = loadVapPaths([join(FIX, 'replica-limit.yaml')]);
  const ns = namespace('test', { environment: 'test' });
  const r = run(set, ns + deployment('four', 'test', 4) + deployment('three', 'test', 3));
  assert.deepEqual(
    r.findings.map((f) => [f.resource?.name, f.message]),
    [
      [
        'four',
        "ValidatingAdmissionPolicy 'replicalimit-policy.example.com' with binding 'replicalimit-binding-test.example.com' denied request: object.spec.replicas must be no greater than 3",
      ],
    ],
  );
  // the param object missing: Deny → a violation; Allow → nothing
  const text = readFileSync(join(FIX, 'replica-limit.yaml'), 'utf8');
  const noParam = text.slice(0, text.lastIndexOf('---'));
  const deny = run(policies(noParam), ns + deployment('three', 'test', 3));
  assert.match(
    deny.findings[0]!.message!,
    /no params found for policy binding with `Deny` parameterNotFoundAction/,
  );
  const allow = run(
    policies(noParam.replace('parameterNotFoundAction: Deny', 'parameterNotFoundAction: Allow')),
    ns + deployment('three', 'test', 3),
  );
  assert.deepEqual(allow.findings, []);
  // a selector: evaluated once per matching param (2 and 10 → only the first fails a 4-replica deployment)
  const sel = noParam.replace(
    /paramRef:\n\s+name: "replica-limit-test.example.com"\n\s+namespace: "default"/,
    'paramRef:\n    selector: {matchLabels: {tier: limits}}',
  );
  const params = [2, 10, 1]
    .map(
      (n, i) =>
        `apiVersion: rules.example.com/v1\nkind: ReplicaLimit\nmetadata: {name: l${i}, namespace: test, labels: {tier: ${i < 2 ? 'limits' : 'other'}}}\nmaxReplicas: ${n}\n---\n`,
    )
    .join('');
  const s = run(policies(sel), ns + params + deployment('four', 'test', 4));
  assert.deepEqual(
    s.findings.map((f) => f.message!.split(': ').pop()),
    ['object.spec.replicas must be no greater than 2'],
  );
});

test('variables and namespaceObject (docs variable composition example)', () => {
  const set = loadVapPaths([join(FIX, 'image-environment.yaml')]);
  const dep = (name: string, ns: string, image: string) =>
    deployment(name, ns, 1).replace('test.example.com/app:1', image);
  const r = run(
    set,
    namespace('staging', { environment: 'staging' }) +
      namespace('free', { environment: 'staging', exempt: 'true' }) +
      dep('ok', 'staging', 'staging.example.com/app:1') +
      dep('wrong', 'staging', 'prod.example.com/app:1') +
      dep('exempt', 'free', 'prod.example.com/app:1') +
      // no Namespace object: the API server's own (no environment label) → 'prod'
      dep('implicit-ns', 'nowhere', 'staging.example.com/app:1') +
      dep('not-checked', 'staging', 'docker.io/library/nginx:1'),
  );
  assert.deepEqual(
    r.findings.map((f) => [f.resource?.name, f.message!.split('denied request: ')[1]]),
    [
      ['wrong', 'only staging images are allowed in namespace staging'],
      ['implicit-ns', 'only prod images are allowed in namespace nowhere'],
    ],
  );
});

test('matchConditions (docs example) and validationActions Warn+Audit → MEDIUM', () => {
  const set = loadVapPaths([join(FIX, 'match-conditions.yaml')]);
  const r = run(
    set,
    deployment('demo-app', 'team', 1) +
      deployment('demo-app', 'demo', 1) +
      deployment('app', 'team', 1) +
      `apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: demo-lease, namespace: team}\n---\n` +
      `apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: demo-role, namespace: team}\nrules: []\n`,
  );
  assert.deepEqual(
    r.findings.map((f) => [f.resource?.kind, f.resource?.name, f.resource?.namespace, f.severity]),
    [['Deployment', 'demo-app', 'team', 'MEDIUM']],
  );
  assert.match(r.findings[0]!.description ?? '', /validationActions Warn, Audit/);
});

test('validationActions: Audit alone is LOW, Deny with Audit HIGH; Deny with Warn is refused', () => {
  const base = readFileSync(join(FIX, 'demo-policy.yaml'), 'utf8').replace(
    /\s+matchResources:[\s\S]*$/,
    '\n',
  );
  const m = deployment('big', 'x', 9);
  assert.equal(run(policies(base.replace('[Deny]', '[Audit]')), m).findings[0]!.severity, 'LOW');
  assert.equal(run(policies(base.replace('[Deny]', '[Audit, Deny]')), m).findings[0]!.severity, 'HIGH');
  assert.throws(
    () => policies(base.replace('[Deny]', '[Deny, Warn]')),
    /Deny and Warn may not be used together/,
  );
  assert.throws(() => policies(base.replace('[Deny]', '[Block]')), /unknown action "Block"/);
});

test('failurePolicy: an expression error is a violation with Fail, a warning with Ignore; messageExpression falls back', () => {
  const base = readFileSync(join(FIX, 'demo-policy.yaml'), 'utf8').replace(
    /\s+matchResources:[\s\S]*$/,
    '\n',
  );
  const erroring = base.replace('object.spec.replicas <= 5', 'object.spec.missing.field > 1');
  const m = deployment('d', 'x', 1);
  const fail = run(policies(erroring), m);
  assert.equal(fail.findings.length, 1);
  assert.match(fail.findings[0]!.message!, /expression 'object.spec.missing.field > 1' resulted in error/);
  const ignore = run(policies(erroring.replace('failurePolicy: Fail', 'failurePolicy: Ignore')), m);
  assert.deepEqual(ignore.findings, []);
  assert.equal(ignore.warnings.length, 1);
  // messageExpression that errors: the message is used
  const fallback = base.replace(
    '- expression: "object.spec.replicas <= 5"',
    '- expression: "object.spec.replicas <= 5"\n      message: "too many replicas"\n      messageExpression: "object.nope"',
  );
  const fb = run(policies(fallback), deployment('big', 'x', 9));
  assert.match(fb.findings[0]!.message!, /denied request: too many replicas$/);
  // matchConditions error with Fail → a violation
  const mcErr = base.replace(
    '  validations:',
    '  matchConditions:\n  - name: broken\n    expression: "object.nope == 1"\n  validations:',
  );
  assert.match(run(policies(mcErr), m).findings[0]!.message!, /matchCondition 'broken' error/);
});

test('matchConstraints: excludeResourceRules, objectSelector, resourceNames, scope; bad policies named with file and field', () => {
  const p = (match: string) => `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: p}
spec:
  matchConstraints:
${match}
  validations: [{expression: "false", message: nope}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec: {policyName: p, validationActions: [Deny]}
`;
  const all = `    resourceRules: [{apiGroups: ["*"], apiVersions: ["*"], operations: ["*"], resources: ["*"]}]\n`;
  const objs =
    deployment('a', 'n', 1, '  labels: {team: x}\n') +
    deployment('b', 'n', 1) +
    `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: n}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: cr}\nrules: []\n`;
  const names = (match: string) => run(policies(p(match)), objs).findings.map((f) => f.resource?.name);
  assert.deepEqual(names(all), ['a', 'b', 'c', 'cr']);
  assert.deepEqual(
    names(
      all +
        `    excludeResourceRules: [{apiGroups: ["apps"], apiVersions: ["*"], operations: ["*"], resources: ["deployments"]}]\n`,
    ),
    ['c', 'cr'],
  );
  assert.deepEqual(names(all + `    objectSelector: {matchExpressions: [{key: team, operator: Exists}]}\n`), [
    'a',
  ]);
  assert.deepEqual(
    names(all + `    objectSelector: {matchExpressions: [{key: team, operator: DoesNotExist}]}\n`),
    ['b', 'c', 'cr'],
  );
  assert.deepEqual(
    names(
      `    resourceRules: [{apiGroups: ["*"], apiVersions: ["*"], operations: ["*"], resources: ["*"], scope: Cluster}]\n`,
    ),
    ['cr'],
  );
  assert.deepEqual(
    names(
      `    resourceRules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["configmaps"], resourceNames: [c]}]\n`,
    ),
    ['c'],
  );
  assert.deepEqual(
    names(
      `    resourceRules: [{apiGroups: ["apps"], apiVersions: ["v1"], operations: ["DELETE"], resources: ["deployments"]}]\n`,
    ),
    [],
  );
  assert.deepEqual(
    names(
      `    resourceRules: [{apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["deployments/scale"]}]\n`,
    ),
    [],
  );
  // namespaceSelector: a Namespace is matched on its own labels
  const nsSel = `${all}    namespaceSelector: {matchLabels: {env: prod}}\n`;
  assert.deepEqual(
    run(
      policies(p(nsSel)),
      namespace('n', { env: 'prod' }) + namespace('m', { env: 'dev' }) + objs,
    ).findings.map((f) => f.resource?.name),
    ['n', 'a', 'b', 'c', 'cr'],
  );
  assert.throws(
    () => policies(p(all).replace('expression: "false"', 'expression: "1 +"')),
    /policy\.yaml: ValidatingAdmissionPolicy p: spec\.validations\[0\]\.expression: CEL syntax error/,
  );
  assert.throws(
    () => policies(p('    namespaceSelector: {}\n')),
    /spec\.matchConstraints\.resourceRules is required/,
  );
});

test('a policy over real pods: the Falco audit corpus privileged/hostNetwork pods fail, the unprivileged one passes', () => {
  const set = loadVapPaths([join(FIX, 'privileged.yaml')]);
  const dir = join(CORPORA, 'falco', 'falco-legacy-regression-2023-08', 'test', 'trace_files', 'k8s_audit');
  const pod = (f: string) => {
    const e = JSON.parse(readFileSync(join(dir, f), 'utf8').split('\n')[0]!);
    return {
      ...e.requestObject,
      metadata: { ...e.requestObject.metadata, name: f, namespace: e.objectRef.namespace },
    };
  };
  const files = [
    'create_nginx_pod_privileged.json',
    'create_nginx_pod_privileged_2nd_container.json',
    'create_nginx_pod_hostnetwork.json',
    'create_nginx_pod_unprivileged.json',
    'create_nginx_pod_nohostnetwork.json',
    'create_pod_kube_system_namespace.json',
  ];
  const r = run(set, files.map((f) => JSON.stringify(pod(f))).join('\n---\n'));
  const by = (f: string) =>
    r.findings.filter((x) => x.resource?.name === f).map((x) => x.message!.split('denied request: ')[1]);
  assert.match(by('create_nginx_pod_privileged.json')[0]!, /^privileged containers are not allowed: nginx$/);
  assert.equal(by('create_nginx_pod_privileged_2nd_container.json').length, 1);
  assert.deepEqual(by('create_nginx_pod_hostnetwork.json'), ['sharing the host network is not allowed']);
  assert.deepEqual(by('create_nginx_pod_unprivileged.json'), []);
  assert.deepEqual(by('create_nginx_pod_nohostnetwork.json'), []);
  // excluded by the binding's namespaceSelector whatever the pod is
  assert.deepEqual(by('create_pod_kube_system_namespace.json'), []);
});

test('scan config --vap DIR MANIFESTS: findings in the report with the built-in checks, exit code', async () => {
  // the Namespace (whose labels the binding selects on) in another file than the Deployment
  const m = join(tmp, 'app.yaml');
  const nsFile = join(tmp, 'ns.yaml');
  writeFileSync(nsFile, namespace('test', { environment: 'test' }));
  writeFileSync(m, deployment('small', 'test', 1) + deployment('big', 'test', 6));
  const out = join(tmp, 'r.json');
  const r = await cli('scan', 'config', '--vap', FIX, '-f', 'json', '-o', out, '--exit-code', '4', nsFile, m);
  assert.equal(r.code, 4);
  const rep = JSON.parse(readFileSync(out, 'utf8')) as {
    results: {
      target: string;
      findings: { id: string; message?: string; location: { path: string; line?: number } }[];
    }[];
  };
  const vapFindings = rep.results.flatMap((x) => x.findings.filter((f) => f.id.startsWith('VAP:')));
  // the big Deployment, at its line in app.yaml: over 5 replicas (demo) and over the param's 3
  assert.deepEqual(vapFindings.map((f) => [f.id, f.location.path, f.location.line]).sort(), [
    ['VAP:demo-policy.example.com', m, 18],
    ['VAP:replicalimit-policy.example.com', m, 18],
  ]);
  const ids = rep.results.flatMap((x) => x.findings.map((f) => f.id));
  assert.ok(ids.includes('VAP:demo-policy.example.com'));
  assert.ok(ids.includes('VAP:replicalimit-policy.example.com'));
  assert.ok(
    ids.some((i) => i.startsWith('BW-K8S-')),
    'the built-in checks still run',
  );
  // sarif too
  const sarif = join(tmp, 'r.sarif');
  await cli('scan', 'config', '--vap', FIX, '-f', 'sarif', '-o', sarif, nsFile, m);
  assert.match(readFileSync(sarif, 'utf8'), /VAP:demo-policy\.example\.com/);
  // a DIR without policies is an error naming it
  assert.equal((await cli('scan', 'config', '--vap', tmp, '-o', join(tmp, 'x'), m)).code, 1);
});

test("Kubernetes' CEL lists and quantity libraries and the strings extension", () => {
  const pol = (expr: string) => `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: p}
spec:
  matchConstraints: {resourceRules: [{apiGroups: ["*"], apiVersions: ["*"], operations: ["*"], resources: ["*"]}]}
  validations: [{expression: ${JSON.stringify(expr)}}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec: {policyName: p, validationActions: [Deny]}
`;
  const obj = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: n}\nnums: [3, 1, 2]\nstrs: [a, b]\nmem: 512Mi\ncpu: 500m\n`;
  const holds = (e: string) => run(policies(pol(e)), obj).findings.length === 0;
  const table: [string, boolean][] = [
    ['object.nums.sum() == 6', true],
    ['object.nums.sum() == 7', false],
    ['object.nums.isSorted()', false],
    ['object.strs.isSorted()', true],
    ['object.nums.min() == 1 && object.nums.max() == 3', true],
    ['object.nums.indexOf(2) == 2 && object.nums.indexOf(9) == -1', true],
    ['object.strs.lastIndexOf("b") == 1', true],
    ['[1.5, 2.5].sum() == 4.0', true],
    ['object.strs.join(",") == "a,b"', true],
    ['"a-b".split("-").size() == 2', true],
    ['object.nums.sum() + 1 == 7', true],
    // quantity library
    ['quantity(object.mem).isLessThan(quantity("1Gi"))', true],
    ['quantity(object.mem).isGreaterThan(quantity("256M"))', true],
    ['quantity(object.mem).compareTo(quantity("512Mi")) == 0', true],
    ['quantity(object.cpu).isLessThan(quantity("0.25"))', false],
    ['quantity(object.cpu).add(quantity("250m")).compareTo(quantity("1")) == 0', false],
    ['quantity(object.cpu).add(quantity("250m")).asApproximateFloat() == 0.75', true],
    ['quantity("2k").asInteger() == 2000 && quantity("1e3").isInteger()', true],
    ['isQuantity("10Mi") && !isQuantity("10 MB")', true],
  ];
  for (const [e, want] of table) assert.equal(holds(e), want, e);
});
