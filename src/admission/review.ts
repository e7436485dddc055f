/**
 * AdmissionReview v1 (admission.k8s.io/v1): the request the API server sends to a webhook and the
 * response it expects. Validation of the envelope only; the object inside is whatever the API
 * server admitted for decoding.
 */
import { BulwarkError } from '../core/errors.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
const OPERATIONS = new Set<string>(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}
export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource: GroupVersionResource;
  subResource?: string;
  requestKind?: GroupVersionKind;
  requestResource?: GroupVersionResource;
  requestSubResource?: string;
  name?: string;
  namespace?: string;
  operation: Operation;
  userInfo: UserInfo;
  object?: Record<string, unknown> | null;
  oldObject?: Record<string, unknown> | null;
  dryRun?: boolean;
  options?: Record<string, unknown> | null;
}

export interface AdmissionStatus {
  code?: number;
  message?: string;
  reason?: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: AdmissionStatus;
  patch?: string;
  patchType?: 'JSONPatch';
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReview {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks that `body` is an AdmissionReview v1 with a request; throws BulwarkError('PARSE') naming the
 * first field that is wrong.
 */
export function parseAdmissionReview(body: unknown): AdmissionRequest {
  const bad = (m: string) => new BulwarkError('PARSE', `not an AdmissionReview v1: ${m}`);
  if (!isObj(body)) throw bad('the body is not a JSON object');
  if (body.kind !== 'AdmissionReview')
    throw bad(`kind is ${JSON.stringify(body.kind)}, expected "AdmissionReview"`);
  if (body.apiVersion !== ADMISSION_API_VERSION)
    throw bad(
      `apiVersion is ${JSON.stringify(body.apiVersion)}, expected "${ADMISSION_API_VERSION}" (set admissionReviewVersions: [v1])`,
    );
  const r = body.request;
  if (!isObj(r)) throw bad('request is missing');
  if (typeof r.uid !== 'string' || !r.uid) throw bad('request.uid is missing');
  if (typeof r.operation !== 'string' || !OPERATIONS.has(r.operation))
    throw bad(
      `request.operation is ${JSON.stringify(r.operation)}, expected CREATE, UPDATE, DELETE or CONNECT`,
    );
  if (!isObj(r.kind) || typeof r.kind.kind !== 'string') throw bad('request.kind is missing');
  if (!isObj(r.resource) || typeof r.resource.resource !== 'string') throw bad('request.resource is missing');
  for (const f of ['object', 'oldObject'] as const)
    if (r[f] !== undefined && r[f] !== null && !isObj(r[f])) throw bad(`request.${f} is not an object`);
  return r as unknown as AdmissionRequest;
}

/** Wraps a response in an AdmissionReview envelope. */
export function reviewResponse(response: AdmissionResponse): AdmissionReview {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}

/** Builds an AdmissionReview request around an object (for tests, benchmarks and recorded events). */
export function admissionReviewFor(
  object: Obj | null,
  opts: {
    uid: string;
    operation?: Operation;
    resource?: string;
    namespace?: string;
    oldObject?: Obj | null;
    userInfo?: UserInfo;
    subResource?: string;
  },
): AdmissionReview {
  const src = object ?? opts.oldObject ?? {};
  const apiVersion = typeof src.apiVersion === 'string' ? src.apiVersion : 'v1';
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
  const kind = typeof src.kind === 'string' ? src.kind : '';
  const meta = isObj(src.metadata) ? src.metadata : {};
  const namespace = opts.namespace ?? (typeof meta.namespace === 'string' ? meta.namespace : undefined);
  return {
    apiVersion: ADMISSION_API_VERSION,
    kind: 'AdmissionReview',
    request: {
      uid: opts.uid,
      kind: { group: group!, version: version!, kind },
      resource: { group: group!, version: version!, resource: opts.resource ?? resourceOfKind(kind) },
      ...(opts.subResource ? { subResource: opts.subResource } : {}),
      ...(typeof meta.name === 'string' ? { name: meta.name } : {}),
      ...(namespace ? { namespace } : {}),
      operation: opts.operation ?? 'CREATE',
      userInfo: opts.userInfo ?? {
        username: 'kubernetes-admin',
        groups: ['system:masters', 'system:authenticated'],
      },
      object: opts.operation === 'DELETE' ? null : object,
      oldObject: opts.oldObject ?? null,
      dryRun: false,
    },
  };
}

/** Kinds whose plural resource name is not `lowercase(kind) + "s"`. */
const IRREGULAR: Record<string, string> = {
  Endpoints: 'endpoints',
  Ingress: 'ingresses',
  IngressClass: 'ingressclasses',
  NetworkPolicy: 'networkpolicies',
  PodSecurityPolicy: 'podsecuritypolicies',
  StorageClass: 'storageclasses',
  PriorityClass: 'priorityclasses',
  RuntimeClass: 'runtimeclasses',
  ValidatingAdmissionPolicy: 'validatingadmissionpolicies',
  MutatingAdmissionPolicy: 'mutatingadmissionpolicies',
  PodDisruptionBudget: 'poddisruptionbudgets',
};

/** The plural resource name of a kind as the API server names it (Pod → pods, Ingress → ingresses). */
export function resourceOfKind(kind: string): string {
  if (IRREGULAR[kind]) return IRREGULAR[kind];
  const l = kind.toLowerCase();
  if (/(s|x|ch|sh)$/.test(l)) return `${l}es`;
  if (/[^aeiou]y$/.test(l)) return `${l.slice(0, -1)}ies`;
  return `${l}s`;
}
