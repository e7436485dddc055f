/**
 * ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1) evaluated in CI: the policies and
 * bindings of a cluster, read from files, against manifests, as the API server would on CREATE.
 *
 * Semantics follow the Kubernetes docs (Validating Admission Policy):
 * - matchConstraints (resourceRules, excludeResourceRules, namespaceSelector, objectSelector) of the
 *   policy, then the binding's matchResources, then matchConditions (all true; an error is decided
 *   by failurePolicy).
 * - paramKind/paramRef: by name, or every object matching a selector (the policy is evaluated once
 *   per param); namespace from paramRef or, unset, the object's own; none found →
 *   parameterNotFoundAction (Deny: a violation; Allow: nothing).
 * - variables are evaluated in order (each may use the earlier ones) as `variables.NAME`.
 * - validations: expression false → a violation with messageExpression (a non-empty string), else
 *   message, else "failed expression: EXPR"; reason (default Invalid). An expression error is a
 *   violation with failurePolicy Fail (default), ignored with Ignore.
 * - validationActions of the binding: Deny, Warn, Audit; findings are HIGH, MEDIUM, LOW.
 * CEL variables: object, oldObject (null: CREATE), request, params, namespaceObject, variables.
 * JSON integers are CEL ints (as the API server decodes them), other numbers doubles.
 * `authorizer` is not available offline; an expression using it errors (→ failurePolicy).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  CelScalar,
  celEnv,
  celFunc,
  celMethod,
  mapType,
  isCelError,
  listType,
  parse,
  plan,
  type CelEnv,
  type CelList,
  type CelMap,
} from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { BulwarkError } from '../core/errors.js';
import type { MisconfigFinding } from '../core/findings.js';
import type { Severity } from '../core/types.js';
import { MAX_CONFIG_BYTES, parseManifests } from '../misconfig/index.js';
import type { PolicyInput } from '../policy/index.js';
import { resourceOfKind } from './review.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
type Compiled = (vars: Record<string, unknown>) => unknown;

export type ValidationAction = 'Deny' | 'Warn' | 'Audit';
const ACTION_SEVERITY: Record<ValidationAction, Severity> = { Deny: 'HIGH', Warn: 'MEDIUM', Audit: 'LOW' };

/** Kubernetes' CEL lists library: isSorted, sum, min, max, indexOf, lastIndexOf (numbers and strings). */
const DYN_LIST = listType(CelScalar.DYN);
type Scalar = bigint | number | string;
function items(l: CelList): Scalar[] {
  const out: Scalar[] = [];
  for (let i = 0; i < l.size; i++) {
    const v = l.get(i);
    if (typeof v !== 'bigint' && typeof v !== 'number' && typeof v !== 'string')
      throw new Error('list elements must be numbers or strings');
    out.push(v);
  }
  if (new Set(out.map((v) => typeof v)).size > 1) throw new Error('list elements must be of one type');
  return out;
}
const cmp = (a: Scalar, b: Scalar) => (a < b ? -1 : a > b ? 1 : 0);
const eq = (a: unknown, b: unknown) =>
  a === b || (typeof a === 'bigint' && typeof b === 'number' && Number(a) === b);
const k8sLists = [
  celMethod('isSorted', DYN_LIST, [], CelScalar.BOOL, function (this: CelList) {
    const v = items(this);
    return v.every((x, i) => i === 0 || cmp(v[i - 1]!, x) <= 0);
  }),
  celMethod('sum', DYN_LIST, [], CelScalar.DYN, function (this: CelList) {
    const v = items(this);
    if (!v.length) return 0n;
    if (typeof v[0] === 'string') throw new Error('sum() of strings');
    return typeof v[0] === 'bigint'
      ? (v as bigint[]).reduce((a, b) => a + b, 0n)
      : (v as number[]).reduce((a, b) => a + b, 0);
  }),
  celMethod('min', DYN_LIST, [], CelScalar.DYN, function (this: CelList) {
    const v = items(this);
    if (!v.length) throw new Error('min() of an empty list');
    return v.reduce((a, b) => (cmp(b, a) < 0 ? b : a));
  }),
  celMethod('max', DYN_LIST, [], CelScalar.DYN, function (this: CelList) {
    const v = items(this);
    if (!v.length) throw new Error('max() of an empty list');
    return v.reduce((a, b) => (cmp(b, a) > 0 ? b : a));
  }),
  celMethod('indexOf', DYN_LIST, [CelScalar.DYN], CelScalar.INT, function (this: CelList, x: unknown) {
    for (let i = 0; i < this.size; i++) if (eq(this.get(i), x)) return BigInt(i);
    return -1n;
  }),
  celMethod('lastIndexOf', DYN_LIST, [CelScalar.DYN], CelScalar.INT, function (this: CelList, x: unknown) {
    for (let i = this.size - 1; i >= 0; i--) if (eq(this.get(i), x)) return BigInt(i);
    return -1n;
  }),
];

/**
 * Kubernetes' CEL quantity library (`quantity("1Gi")`, `isQuantity`, `isLessThan`,
 * `isGreaterThan`, `compareTo`, `add`, `sub`, `asInteger`, `asApproximateFloat`, `isInteger`,
 * `sign`). A quantity is a one-entry map {"__quantity__": value in base units}: @bufbuild/cel has no
 * opaque types, and a map keeps it a value CEL can pass around. Values are doubles (exact for the
 * sizes and CPU amounts manifests hold).
 */
const QKEY = '__quantity__';
const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
export function parseQuantity(text: string): number | undefined {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/.exec(
    text.trim(),
  );
  if (!m) return undefined;
  const n = Number(m[1]! + (m[2] ?? ''));
  return Number.isFinite(n) ? n * SUFFIX[m[3] ?? '']! : undefined;
}
const QMAP = mapType(CelScalar.STRING, CelScalar.DOUBLE);
const qv = (q: CelMap): number => {
  const v = q.get(QKEY);
  if (typeof v !== 'number') throw new Error('not a quantity');
  return v;
};
const qmap = (v: number) => new Map([[QKEY, v]]);
const k8sQuantity = [
  celFunc('quantity', [CelScalar.STRING], QMAP, (s: string) => {
    const v = parseQuantity(s);
    if (v === undefined) throw new Error(`invalid quantity ${JSON.stringify(s)}`);
    return qmap(v);
  }),
  celFunc('isQuantity', [CelScalar.STRING], CelScalar.BOOL, (s: string) => parseQuantity(s) !== undefined),
  celMethod('isLessThan', QMAP, [QMAP], CelScalar.BOOL, function (this: CelMap, o: CelMap) {
    return qv(this) < qv(o);
  }),
  celMethod('isGreaterThan', QMAP, [QMAP], CelScalar.BOOL, function (this: CelMap, o: CelMap) {
    return qv(this) > qv(o);
  }),
  celMethod('compareTo', QMAP, [QMAP], CelScalar.INT, function (this: CelMap, o: CelMap) {
    return BigInt(Math.sign(qv(this) - qv(o)));
  }),
  celMethod('add', QMAP, [QMAP], QMAP, function (this: CelMap, o: CelMap) {
    return qmap(qv(this) + qv(o));
  }),
  celMethod('sub', QMAP, [QMAP], QMAP, function (this: CelMap, o: CelMap) {
    return qmap(qv(this) - qv(o));
  }),
  celMethod('isInteger', QMAP, [], CelScalar.BOOL, function (this: CelMap) {
    return Number.isInteger(qv(this));
  }),
  celMethod('asInteger', QMAP, [], CelScalar.INT, function (this: CelMap) {
    const v = qv(this);
    if (!Number.isInteger(v)) throw new Error('quantity is not an integer');
    return BigInt(v);
  }),
  celMethod('asApproximateFloat', QMAP, [], CelScalar.DOUBLE, function (this: CelMap) {
    return qv(this);
  }),
  celMethod('sign', QMAP, [], CelScalar.INT, function (this: CelMap) {
    return BigInt(Math.sign(qv(this)));
  }),
];

let env: CelEnv | undefined;
function vapEnv(): CelEnv {
  env ??= celEnv({ funcs: [...strings, ...k8sLists, ...k8sQuantity] });
  return env;
}

function compile(expr: unknown, where: string): Compiled {
  if (typeof expr !== 'string' || !expr.trim())
    throw new BulwarkError('PARSE', `${where}: a CEL expression is required`);
  let ast;
  try {
    ast = parse(expr);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const m = /^<input>:(\d+):(\d+):\s*([\s\S]*)$/.exec(msg);
    throw new BulwarkError(
      'PARSE',
      `${where}: CEL syntax error${m ? ` at ${m[1]}:${m[2]}: ${m[3]}` : `: ${msg}`}`,
    );
  }
  const fn = plan(vapEnv(), ast);
  return (vars) => fn(vars as never);
}

/** JSON → CEL values as the API server sees them: integers are ints. */
export function toCel(v: unknown): unknown {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(toCel);
  if (isObj(v)) {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) out[k] = toCel(x);
    return out;
  }
  return v;
}

interface ResourceRule {
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  operations: string[];
  resourceNames: string[];
  scope: string;
}
interface MatchResources {
  resourceRules?: ResourceRule[];
  excludeResourceRules?: ResourceRule[];
  namespaceSelector?: Obj;
  objectSelector?: Obj;
}

interface CompiledPolicy {
  name: string;
  source: string;
  paramKind?: { apiVersion: string; kind: string };
  match: MatchResources;
  failurePolicy: 'Fail' | 'Ignore';
  matchConditions: { name: string; expr: Compiled }[];
  variables: { name: string; expr: Compiled }[];
  validations: {
    expression: string;
    expr: Compiled;
    message?: string;
    messageExpr?: Compiled;
    reason: string;
  }[];
}

interface Binding {
  name: string;
  source: string;
  policyName: string;
  paramRef?: { name?: string; namespace?: string; selector?: Obj; parameterNotFoundAction: 'Allow' | 'Deny' };
  match?: MatchResources;
  actions: ValidationAction[];
}

export interface VapSet {
  policies: Map<string, CompiledPolicy>;
  bindings: Binding[];
  /** Other objects read with the policies (params, namespaces). */
  objects: Obj[];
}

const ADMISSIONREG = /^admissionregistration\.k8s\.io\/(v1|v1beta1|v1alpha1)$/;

function nameOf(o: Obj): string | undefined {
  return isObj(o.metadata) && typeof o.metadata.name === 'string' ? o.metadata.name : undefined;
}
function nsOf(o: Obj): string | undefined {
  return isObj(o.metadata) && typeof o.metadata.namespace === 'string' ? o.metadata.namespace : undefined;
}
function labelsOf(o: Obj | undefined): Record<string, string> {
  const l = o && isObj(o.metadata) ? o.metadata.labels : undefined;
  return isObj(l) ? (l as Record<string, string>) : {};
}

function strList(v: unknown, where: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new BulwarkError('PARSE', `${where}: expected a list of strings`);
  return v as string[];
}

function rules(v: unknown, where: string): ResourceRule[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new BulwarkError('PARSE', `${where}: expected a list`);
  return v.map((r, i) => {
    const w = `${where}[${i}]`;
    if (!isObj(r)) throw new BulwarkError('PARSE', `${w}: expected an object`);
    return {
      apiGroups: strList(r.apiGroups, `${w}.apiGroups`),
      apiVersions: strList(r.apiVersions, `${w}.apiVersions`),
      resources: strList(r.resources, `${w}.resources`),
      operations: strList(r.operations, `${w}.operations`),
      resourceNames: strList(r.resourceNames, `${w}.resourceNames`),
      scope: typeof r.scope === 'string' ? r.scope : '*',
    };
  });
}

function matchResources(v: unknown, where: string): MatchResources | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw new BulwarkError('PARSE', `${where}: expected an object`);
  return {
    ...(v.resourceRules !== undefined
      ? { resourceRules: rules(v.resourceRules, `${where}.resourceRules`) }
      : {}),
    ...(v.excludeResourceRules !== undefined
      ? { excludeResourceRules: rules(v.excludeResourceRules, `${where}.excludeResourceRules`) }
      : {}),
    ...(isObj(v.namespaceSelector) ? { namespaceSelector: v.namespaceSelector } : {}),
    ...(isObj(v.objectSelector) ? { objectSelector: v.objectSelector } : {}),
  };
}

function compilePolicy(o: Obj, source: string): CompiledPolicy {
  const name = nameOf(o) ?? '';
  const at = `${source}: ValidatingAdmissionPolicy ${name || '(no name)'}`;
  if (!name) throw new BulwarkError('PARSE', `${at}: metadata.name is required`);
  const spec = isObj(o.spec) ? o.spec : {};
  const match = matchResources(spec.matchConstraints, `${at}: spec.matchConstraints`);
  if (!match?.resourceRules?.length)
    throw new BulwarkError('PARSE', `${at}: spec.matchConstraints.resourceRules is required`);
  const fp = spec.failurePolicy ?? 'Fail';
  if (fp !== 'Fail' && fp !== 'Ignore')
    throw new BulwarkError(
      'PARSE',
      `${at}: spec.failurePolicy must be Fail or Ignore, not ${JSON.stringify(fp)}`,
    );
  let paramKind: CompiledPolicy['paramKind'];
  if (spec.paramKind !== undefined) {
    const pk = spec.paramKind;
    if (!isObj(pk) || typeof pk.apiVersion !== 'string' || typeof pk.kind !== 'string')
      throw new BulwarkError('PARSE', `${at}: spec.paramKind needs apiVersion and kind`);
    paramKind = { apiVersion: pk.apiVersion, kind: pk.kind };
  }
  const named = (list: unknown, field: string) => {
    if (list === undefined || list === null) return [];
    if (!Array.isArray(list)) throw new BulwarkError('PARSE', `${at}: spec.${field} must be a list`);
    return list.map((x, i) => {
      const w = `${at}: spec.${field}[${i}]`;
      if (!isObj(x) || typeof x.name !== 'string' || !x.name)
        throw new BulwarkError('PARSE', `${w}.name is required`);
      return { name: x.name, expr: compile(x.expression, `${w}.expression`) };
    });
  };
  const validations = (Array.isArray(spec.validations) ? spec.validations : []).map(
    (v: unknown, i: number) => {
      const w = `${at}: spec.validations[${i}]`;
      if (!isObj(v)) throw new BulwarkError('PARSE', `${w}: expected an object`);
      return {
        expression: String(v.expression ?? ''),
        expr: compile(v.expression, `${w}.expression`),
        ...(typeof v.message === 'string' && v.message ? { message: v.message } : {}),
        ...(v.messageExpression !== undefined
          ? { messageExpr: compile(v.messageExpression, `${w}.messageExpression`) }
          : {}),
        reason: typeof v.reason === 'string' && v.reason ? v.reason : 'Invalid',
      };
    },
  );
  // audit annotations are compiled (so that a syntax error is reported) but only annotate
  if (Array.isArray(spec.auditAnnotations))
    spec.auditAnnotations.forEach((a: unknown, i: number) =>
      compile(isObj(a) ? a.valueExpression : undefined, `${at}: spec.auditAnnotations[${i}].valueExpression`),
    );
  if (!validations.length && !Array.isArray(spec.auditAnnotations))
    throw new BulwarkError('PARSE', `${at}: spec.validations or spec.auditAnnotations is required`);
  return {
    name,
    source,
    ...(paramKind ? { paramKind } : {}),
    match,
    failurePolicy: fp,
    matchConditions: named(spec.matchConditions, 'matchConditions'),
    variables: named(spec.variables, 'variables'),
    validations,
  };
}

const ACTIONS = new Set(['Deny', 'Warn', 'Audit']);

function readBinding(o: Obj, source: string): Binding {
  const name = nameOf(o) ?? '';
  const at = `${source}: ValidatingAdmissionPolicyBinding ${name || '(no name)'}`;
  if (!name) throw new BulwarkError('PARSE', `${at}: metadata.name is required`);
  const spec = isObj(o.spec) ? o.spec : {};
  if (typeof spec.policyName !== 'string' || !spec.policyName)
    throw new BulwarkError('PARSE', `${at}: spec.policyName is required`);
  const actions = strList(spec.validationActions, `${at}: spec.validationActions`);
  if (!actions.length)
    throw new BulwarkError('PARSE', `${at}: spec.validationActions is required (Deny, Warn, Audit)`);
  for (const a of actions)
    if (!ACTIONS.has(a))
      throw new BulwarkError('PARSE', `${at}: spec.validationActions: unknown action ${JSON.stringify(a)}`);
  if (actions.includes('Deny') && actions.includes('Warn'))
    throw new BulwarkError('PARSE', `${at}: spec.validationActions: Deny and Warn may not be used together`);
  let paramRef: Binding['paramRef'];
  if (spec.paramRef !== undefined) {
    const p = spec.paramRef;
    if (!isObj(p)) throw new BulwarkError('PARSE', `${at}: spec.paramRef must be an object`);
    if (p.name !== undefined && p.selector !== undefined)
      throw new BulwarkError('PARSE', `${at}: spec.paramRef: name and selector exclude each other`);
    const pnf = p.parameterNotFoundAction ?? 'Deny';
    if (pnf !== 'Allow' && pnf !== 'Deny')
      throw new BulwarkError('PARSE', `${at}: spec.paramRef.parameterNotFoundAction must be Allow or Deny`);
    paramRef = {
      ...(typeof p.name === 'string' ? { name: p.name } : {}),
      ...(typeof p.namespace === 'string' ? { namespace: p.namespace } : {}),
      ...(isObj(p.selector) ? { selector: p.selector } : {}),
      parameterNotFoundAction: pnf,
    };
  }
  const match = matchResources(spec.matchResources, `${at}: spec.matchResources`);
  return {
    name,
    source,
    policyName: spec.policyName,
    ...(paramRef ? { paramRef } : {}),
    ...(match ? { match } : {}),
    actions: actions as ValidationAction[],
  };
}

/** Reads policies, bindings and other objects (params, namespaces) from parsed objects. */
export function loadVapObjects(objects: { object: Obj; file: string }[]): VapSet {
  const set: VapSet = { policies: new Map(), bindings: [], objects: [] };
  for (const { object: o, file } of objects) {
    const admissionReg = typeof o.apiVersion === 'string' && ADMISSIONREG.test(o.apiVersion);
    if (admissionReg && o.kind === 'ValidatingAdmissionPolicy') {
      const p = compilePolicy(o, file);
      const prev = set.policies.get(p.name);
      if (prev)
        throw new BulwarkError(
          'PARSE',
          `ValidatingAdmissionPolicy ${p.name} is defined twice: ${prev.source} and ${file}`,
        );
      set.policies.set(p.name, p);
    } else if (admissionReg && o.kind === 'ValidatingAdmissionPolicyBinding')
      set.bindings.push(readBinding(o, file));
    else set.objects.push(o);
  }
  return set;
}

/** Kinds that are not namespaced (for scope matching and params). */
const CLUSTER_KINDS = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'ClusterRole',
  'ClusterRoleBinding',
  'StorageClass',
  'CustomResourceDefinition',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'PriorityClass',
  'RuntimeClass',
  'IngressClass',
  'CSIDriver',
  'CSINode',
  'APIService',
  'CertificateSigningRequest',
  'VolumeAttachment',
]);

/** A Kubernetes label selector (matchLabels, matchExpressions). Undefined or {} matches everything. */
export function matchesSelector(sel: Obj | undefined, labels: Record<string, string>): boolean {
  if (!sel) return true;
  if (isObj(sel.matchLabels))
    for (const [k, v] of Object.entries(sel.matchLabels)) if (labels[k] !== v) return false;
  if (Array.isArray(sel.matchExpressions))
    for (const e of sel.matchExpressions) {
      if (!isObj(e) || typeof e.key !== 'string') return false;
      const has = Object.prototype.hasOwnProperty.call(labels, e.key);
      const values = Array.isArray(e.values) ? (e.values as string[]) : [];
      switch (e.operator) {
        case 'In':
          if (!has || !values.includes(labels[e.key]!)) return false;
          break;
        case 'NotIn':
          if (has && values.includes(labels[e.key]!)) return false;
          break;
        case 'Exists':
          if (!has) return false;
          break;
        case 'DoesNotExist':
          if (has) return false;
          break;
        default:
          return false;
      }
    }
  return true;
}

interface Target {
  object: Obj;
  group: string;
  version: string;
  kind: string;
  resource: string;
  name: string;
  namespace?: string;
  namespaceObject: Obj | null;
  operation: string;
}

function ruleMatches(r: ResourceRule, t: Target): boolean {
  const any = (l: string[], v: string) => l.includes('*') || l.includes(v);
  if (!any(r.apiGroups, t.group) || !any(r.apiVersions, t.version) || !any(r.operations, t.operation))
    return false;
  if (!(r.resources.includes(t.resource) || r.resources.includes('*') || r.resources.includes('*/*')))
    return false;
  if (r.resourceNames.length && !r.resourceNames.includes(t.name)) return false;
  if (r.scope === 'Cluster' && t.namespace) return false;
  if (r.scope === 'Namespaced' && !t.namespace) return false;
  return true;
}

function matches(m: MatchResources, t: Target): boolean {
  if (m.resourceRules && !m.resourceRules.some((r) => ruleMatches(r, t))) return false;
  if (m.excludeResourceRules?.some((r) => ruleMatches(r, t))) return false;
  // a Namespace is matched on its own labels; other cluster-scoped objects are never excluded
  if (m.namespaceSelector) {
    const nsLabels =
      t.kind === 'Namespace'
        ? labelsOf(t.object)
        : t.namespace
          ? labelsOf(t.namespaceObject ?? undefined)
          : undefined;
    if (nsLabels && !matchesSelector(m.namespaceSelector, nsLabels)) return false;
  }
  if (m.objectSelector && !matchesSelector(m.objectSelector, labelsOf(t.object))) return false;
  return true;
}

export interface VapResult {
  findings: MisconfigFinding[];
  warnings: string[];
}

export interface VapEvaluateOptions {
  /** Namespace of objects without metadata.namespace (default "default", as kubectl apply). */
  defaultNamespace?: string;
  /** Who `request.userInfo` says made the request. */
  username?: string;
  /** More objects to find params and namespaces among (besides the inputs and the policies' files). */
  lookup?: Obj[];
}

/**
 * Evaluates every binding of `set` over `inputs` (parsed manifests). Params and namespaces are
 * looked up among the inputs and the objects read with the policies; a Namespace not found is the
 * one the API server would create (labelled kubernetes.io/metadata.name).
 */
export function evaluateVap(set: VapSet, inputs: PolicyInput[], opts: VapEvaluateOptions = {}): VapResult {
  const findings: MisconfigFinding[] = [];
  const warnings = new Set<string>();
  const all: Obj[] = [...set.objects, ...(opts.lookup ?? inputs.map((i) => i.object as Obj))];
  const namespaces = new Map<string, Obj>();
  for (const o of all) if (o.kind === 'Namespace' && nameOf(o)) namespaces.set(nameOf(o)!, o);
  const nsObject = (ns: string): Obj =>
    namespaces.get(ns) ?? {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } },
    };
  const celCache = new WeakMap<Obj, unknown>();
  const cel = (o: Obj | null): unknown => {
    if (!o) return null;
    let v = celCache.get(o);
    if (v === undefined) celCache.set(o, (v = toCel(o)));
    return v;
  };
  for (const b of set.bindings)
    if (!set.policies.has(b.policyName))
      warnings.add(
        `${b.source}: ValidatingAdmissionPolicyBinding ${b.name} binds policy ${b.policyName}, which is not among the policies read`,
      );

  for (const input of inputs) {
    const obj = input.object as Obj;
    if (typeof obj.kind !== 'string' || typeof obj.apiVersion !== 'string') continue;
    const [group, version] = obj.apiVersion.includes('/')
      ? obj.apiVersion.split('/', 2)
      : ['', obj.apiVersion];
    const clusterScoped = CLUSTER_KINDS.has(obj.kind);
    const namespace = clusterScoped ? undefined : (nsOf(obj) ?? opts.defaultNamespace ?? 'default');
    const withNs =
      namespace && !nsOf(obj)
        ? { ...obj, metadata: { ...(isObj(obj.metadata) ? obj.metadata : {}), namespace } }
        : obj;
    const t: Target = {
      object: withNs,
      group: group!,
      version: version!,
      kind: obj.kind,
      resource: resourceOfKind(obj.kind),
      name: nameOf(obj) ?? '',
      ...(namespace ? { namespace } : {}),
      namespaceObject: namespace ? nsObject(namespace) : null,
      operation: 'CREATE',
    };
    const request = {
      uid: '00000000-0000-0000-0000-000000000000',
      kind: { group: t.group, version: t.version, kind: t.kind },
      resource: { group: t.group, version: t.version, resource: t.resource },
      requestKind: { group: t.group, version: t.version, kind: t.kind },
      requestResource: { group: t.group, version: t.version, resource: t.resource },
      name: t.name,
      ...(namespace ? { namespace } : {}),
      operation: 'CREATE',
      userInfo: { username: opts.username ?? 'bulwark-ci', groups: ['system:authenticated'] },
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    };
    for (const b of set.bindings) {
      const p = set.policies.get(b.policyName);
      if (!p) continue;
      if (!matches(p.match, t) || (b.match && !matches(b.match, t))) continue;
      const report = (message: string, reason: string, validation: string) => {
        const sev = b.actions.map((a) => ACTION_SEVERITY[a]).sort((x, y) => rank(y) - rank(x))[0]!;
        const pos = input.locate([]);
        findings.push({
          kind: 'misconfig',
          id: `VAP:${p.name}`,
          title: `ValidatingAdmissionPolicy ${p.name}`,
          severity: sev,
          type: input.type,
          status: 'fail',
          location: {
            path: input.file,
            ...(pos ? { line: pos.line, ...(pos.endLine ? { endLine: pos.endLine } : {}) } : {}),
          },
          resource: {
            kind: t.kind,
            ...(t.name ? { name: t.name } : {}),
            ...(namespace ? { namespace } : {}),
            apiVersion: obj.apiVersion as string,
            file: input.file,
          },
          description: `${validation} (policy ${p.name} from ${p.source}, binding ${b.name}; validationActions ${b.actions.join(', ')}; reason ${reason})`,
          remediation: `Change the ${t.kind} so that the policy's validation holds, or exclude it in the binding's matchResources.`,
          message: `ValidatingAdmissionPolicy '${p.name}' with binding '${b.name}' denied request: ${message}`,
        });
      };
      // params
      let paramsList: (Obj | null)[] = [null];
      if (p.paramKind) {
        if (!b.paramRef) {
          if (p.failurePolicy === 'Fail')
            report(
              `no params found for policy binding with \`Deny\` parameterNotFoundAction`,
              'Invalid',
              'the policy has a paramKind but the binding no paramRef',
            );
          else
            warnings.add(
              `${b.source}: binding ${b.name}: policy ${p.name} has a paramKind but the binding no paramRef; ignored (failurePolicy Ignore)`,
            );
          continue;
        }
        const ref = b.paramRef;
        const pns = ref.namespace ?? namespace;
        const candidates = all.filter(
          (o) =>
            o.apiVersion === p.paramKind!.apiVersion &&
            o.kind === p.paramKind!.kind &&
            (CLUSTER_KINDS.has(p.paramKind!.kind) || (nsOf(o) ?? opts.defaultNamespace ?? 'default') === pns),
        );
        paramsList = ref.name
          ? candidates.filter((o) => nameOf(o) === ref.name)
          : candidates.filter((o) => matchesSelector(ref.selector ?? {}, labelsOf(o)));
        if (!paramsList.length) {
          if (ref.parameterNotFoundAction === 'Deny')
            report(
              'no params found for policy binding with `Deny` parameterNotFoundAction',
              'Invalid',
              `params ${p.paramKind.kind} ${ref.name ?? '(selector)'} not found`,
            );
          continue;
        }
      }
      for (const params of paramsList) {
        const vars: Record<string, unknown> = {
          object: cel(withNs),
          oldObject: null,
          params: cel(params),
          namespaceObject: cel(t.namespaceObject),
          request: toCel(request),
        };
        const fail = (why: string, what: string) => {
          if (p.failurePolicy === 'Fail') report(why, 'Invalid', what);
          else
            warnings.add(
              `${input.file}: ${t.kind} ${t.name}: policy ${p.name}: ${why} (ignored: failurePolicy Ignore)`,
            );
        };
        // matchConditions: all must be true
        let skip = false;
        for (const mc of p.matchConditions) {
          const r = mc.expr({ ...vars, variables: {} });
          if (isCelError(r) || typeof r !== 'boolean') {
            fail(
              `matchCondition '${mc.name}' error: ${isCelError(r) ? r.message : `evaluated to ${typeof r}, not a bool`}`,
              `matchCondition ${mc.name}`,
            );
            skip = true;
            break;
          }
          if (!r) {
            skip = true;
            break;
          }
        }
        if (skip) continue;
        const variables: Record<string, unknown> = {};
        const varErrors: string[] = [];
        for (const v of p.variables) {
          const r = v.expr({ ...vars, variables });
          if (isCelError(r)) varErrors.push(`variables.${v.name}: ${r.message}`);
          else variables[v.name] = r;
        }
        const full = { ...vars, variables };
        for (const v of p.validations) {
          const r = v.expr(full);
          if (isCelError(r) || typeof r !== 'boolean') {
            const msg = isCelError(r) ? r.message : `evaluated to ${typeof r}, not a bool`;
            fail(
              `expression '${v.expression}' resulted in error: ${msg}${varErrors.length ? ` (${varErrors.join('; ')})` : ''}`,
              v.expression,
            );
            continue;
          }
          if (r) continue;
          let message = v.message ?? `failed expression: ${v.expression}`;
          if (v.messageExpr) {
            const m = v.messageExpr(full);
            if (typeof m === 'string' && m.trim()) message = m;
            else
              warnings.add(
                `${p.source}: policy ${p.name}: messageExpression ${isCelError(m) ? `failed: ${m.message}` : 'did not give a non-empty string'}; the message is used`,
              );
          }
          report(message, v.reason, v.expression);
        }
      }
    }
  }
  return { findings, warnings: [...warnings] };
}

function rank(s: Severity): number {
  return { CRITICAL: 4, HIGH: 3, MEDIUM: 2, LOW: 1, UNKNOWN: 0 }[s];
}

/** Reads ValidatingAdmissionPolicies, bindings and param objects from files or directories (YAML/JSON). */
export function loadVapPaths(paths: string[]): VapSet {
  const objects: { object: Obj; file: string }[] = [];
  const visit = (p: string, explicit: boolean) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new BulwarkError('NOT_FOUND', `--vap ${p}: no such file or directory`, { subject: p });
    }
    if (st.isDirectory()) {
      for (const n of readdirSync(p).sort()) if (!n.startsWith('.')) visit(join(p, n), false);
      return;
    }
    if (!st.isFile() || (!explicit && !/\.(ya?ml|json)$/i.test(p))) return;
    if (st.size > MAX_CONFIG_BYTES)
      throw new BulwarkError('LIMIT', `--vap ${p}: ${st.size} bytes is more than ${MAX_CONFIG_BYTES}`);
    for (const i of parseManifests(readFileSync(p, 'utf8'), p).inputs)
      objects.push({ object: i.object as Obj, file: p });
  };
  for (const p of paths) visit(p, true);
  const set = loadVapObjects(objects);
  if (!set.policies.size)
    throw new BulwarkError('NOT_FOUND', `--vap ${paths.join(', ')}: no ValidatingAdmissionPolicy found`);
  return set;
}

/**
 * `scan config --vap`: the policies under `paths` over already parsed manifests. Inputs that no
 * longer know their source lines (scan config keeps them without syntax trees) are parsed again from
 * their file, one file at a time, so that findings point at the object's lines.
 */
export function scanVap(paths: string[], inputs: PolicyInput[], opts: VapEvaluateOptions = {}): VapResult {
  const set = loadVapPaths(paths);
  const findings: MisconfigFinding[] = [];
  const warnings: string[] = [];
  const byFile = new Map<string, PolicyInput[]>();
  for (const i of inputs) {
    let l = byFile.get(i.file);
    if (!l) byFile.set(i.file, (l = []));
    l.push(i);
  }
  for (const [file, list] of byFile) {
    let located = list;
    if (
      file !== '-' &&
      list.some((i) => i.type === 'kubernetes' || i.type === 'rbac') &&
      !list[0]!.locate([])
    ) {
      try {
        const again = parseManifests(readFileSync(file, 'utf8'), file).inputs;
        if (again.length === list.filter((i) => i.type === 'kubernetes' || i.type === 'rbac').length)
          located = again;
      } catch {
        // keep the inputs as they are (no lines)
      }
    }
    const r = evaluateVap(set, located, {
      ...opts,
      lookup: opts.lookup ?? inputs.map((i) => i.object as Obj),
    });
    findings.push(...r.findings);
    warnings.push(...r.warnings);
  }
  return { findings, warnings: [...new Set(warnings)] };
}
