/**
 * The admission decision: one AdmissionRequest → one AdmissionResponse. The object is adapted with
 * the same `kubernetesInput` and evaluated with the same `evaluate` and checks as `bulwark scan
 * config`, so one object gives one result in both. Image verdicts come from the ImageCache; what
 * is not known within the deadline is decided by the failure policy.
 */
import type { MisconfigFinding } from '../core/findings.js';
import type { Severity } from '../core/types.js';
import { severityRank } from '../core/types.js';
import { kubernetesInput } from '../misconfig/index.js';
import { evaluate, type CheckSet, type PathSeg, type PolicyInput } from '../policy/index.js';
import { digestOfRef, stripTag, worstSeverity, type ImageCache, type ImageVerdict } from './images.js';
import type { AdmissionRequest, AdmissionResponse } from './review.js';

export type Mode = 'enforce' | 'warn';
export type FailurePolicy = 'open' | 'closed';

export interface AdmitOptions {
  checks: CheckSet;
  /** enforce: violations deny; warn: violations are allowed with warnings. */
  mode: Mode;
  /** Severities of failing checks that count as violations (default all). */
  severities?: Severity[];
  /** What happens when a verdict is not known within the deadline or an error occurs. */
  failurePolicy: FailurePolicy;
  /** Hard deadline for one request, well under the webhook's timeoutSeconds. */
  deadlineMs: number;
  images?: ImageCache;
  /** Images must have a verified signature. */
  requireSignature?: boolean;
  /** Images must have no vulnerability above this severity. */
  maxSeverity?: Severity;
  /** Return a JSONPatch pinning tags to digests (mutating endpoint). */
  pinDigests?: boolean;
  /** Namespaces never evaluated (kube-system, Bulwark's own), also excluded by matchConditions. */
  exemptNamespaces?: string[];
}

/** What was decided and why, for events and tests. */
export interface Decision {
  response: AdmissionResponse;
  /** Failing checks that count as violations. */
  failed: MisconfigFinding[];
  /** Image problems (unsigned, too vulnerable, unknown within the deadline). */
  imageProblems: string[];
  images: ImageVerdict[];
  /** The failure policy decided part of it (deadline or error). */
  failurePolicyApplied: boolean;
  /** Why nothing was evaluated (DELETE, subresource, exempt namespace). */
  skipped?: string;
  durationMs: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The file name findings carry for an admitted object (a cluster object has no file). */
export function admissionFileName(req: AdmissionRequest): string {
  const meta = isObj(req.object?.metadata) ? (req.object.metadata as Obj) : {};
  const name =
    req.name ?? (typeof meta.name === 'string' ? meta.name : (meta.generateName as string | undefined));
  return `admission:${req.namespace ? `${req.namespace}/` : ''}${req.kind.kind}/${name ?? ''}`;
}

/** The findings `scan config` would report for the request's object. */
export function evaluateObject(checks: CheckSet, obj: Obj | PolicyInput, file: string): MisconfigFinding[] {
  const input =
    'scope' in obj && typeof obj.scope === 'function'
      ? (obj as PolicyInput)
      : kubernetesInput(obj as Obj, file);
  return evaluate(checks, [input]).findings.filter((f) => f.status === 'fail');
}

interface ImageUse {
  ref: string;
  /** JSON pointer of the image field. */
  pointer: string;
}

function pointer(path: PathSeg[]): string {
  return '/' + path.map((s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

function imagesOf(input: PolicyInput): ImageUse[] {
  const out: ImageUse[] = [];
  for (const item of input.scope('container') ?? []) {
    const c = item.vars.container as Obj;
    if (typeof c.image === 'string' && c.image)
      out.push({ ref: c.image, pointer: pointer([...item.path, 'image']) });
  }
  return out;
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

function allow(uid: string, extra: Partial<AdmissionResponse> = {}): AdmissionResponse {
  return { uid, allowed: true, ...extra };
}

/**
 * Decides one request. Never throws: an internal error is decided by the failure policy.
 * `start` (performance.now() clock) is when the request arrived; the deadline counts from it.
 */
export async function admit(
  req: AdmissionRequest,
  o: AdmitOptions,
  start = performance.now(),
): Promise<Decision> {
  const uid = req.uid;
  const done = (d: Omit<Decision, 'durationMs'>): Decision => ({
    ...d,
    durationMs: performance.now() - start,
  });
  const base = { failed: [], imageProblems: [], images: [], failurePolicyApplied: false };
  if (req.operation === 'DELETE' || req.operation === 'CONNECT')
    return done({ ...base, response: allow(uid), skipped: `${req.operation} is not evaluated` });
  if (req.subResource)
    return done({
      ...base,
      response: allow(uid),
      skipped: `subresource ${req.subResource} is not evaluated`,
    });
  if (req.namespace && o.exemptNamespaces?.includes(req.namespace))
    return done({ ...base, response: allow(uid), skipped: `namespace ${req.namespace} is exempt` });
  const obj = req.object;
  if (!isObj(obj)) return done({ ...base, response: allow(uid), skipped: 'no object in the request' });
  try {
    // the API server fills kind/apiVersion in request.object; a namespaced create may leave
    // metadata.namespace out
    const full: Obj =
      req.namespace && isObj(obj.metadata) && obj.metadata.namespace === undefined
        ? { ...obj, metadata: { ...obj.metadata, namespace: req.namespace } }
        : obj;
    const file = admissionFileName(req);
    const sev = o.severities ? new Set(o.severities) : undefined;
    // one adaptation for the checks and the images (its scopes are computed once)
    const input = kubernetesInput(full, file);
    const failed = evaluateObject(o.checks, input, file).filter((f) => !sev || sev.has(f.severity));

    const images = imagesOf(input);
    const imageProblems: string[] = [];
    /** Images whose verdict is unknown (deadline, error): the failure policy decides them. */
    const unknown: string[] = [];
    const verdicts: ImageVerdict[] = [];
    const cache = o.images;
    const needVerdicts = cache?.active && (o.requireSignature || o.maxSeverity || o.pinDigests);
    if (cache && needVerdicts && images.length) {
      const refs = [...new Set(images.map((i) => i.ref))];
      const known = new Map<string, ImageVerdict>();
      const missing: string[] = [];
      for (const r of refs) {
        const v = cache.get(r);
        if (v) known.set(r, v);
        else missing.push(r);
      }
      if (missing.length) {
        // wait for the fills already started by get(), but never past the deadline
        // a few ms are kept for evaluating and answering
        const left = o.deadlineMs - (performance.now() - start) - 5;
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<undefined>((res) => {
          timer = setTimeout(() => res(undefined), Math.max(0, left));
        });
        await Promise.all(
          missing.map(async (r) => {
            const v = await Promise.race([cache.warm(r), expired]);
            if (v) known.set(r, v);
          }),
        );
        clearTimeout(timer);
      }
      for (const r of refs) {
        const v = known.get(r);
        if (!v) {
          unknown.push(`image ${r}: no verdict within the ${o.deadlineMs} ms deadline`);
          continue;
        }
        verdicts.push(v);
        if (v.error) {
          unknown.push(`image ${r}: ${oneLine(v.error)}`);
          continue;
        }
        if (o.requireSignature && !v.signature) {
          unknown.push(`image ${r}: no signature verdict (no signature verifier configured)`);
          continue;
        }
        if (o.requireSignature && v.signature && !v.signature.verified)
          imageProblems.push(
            `image ${r}${v.digest ? ` (${v.digest})` : ''} has no valid signature${v.signature.errors.length ? `: ${oneLine(v.signature.errors.join('; '))}` : ''}`,
          );
        if (o.maxSeverity && !v.vulnerabilities) {
          unknown.push(`image ${r}: no vulnerability verdict (no scanner configured)`);
          continue;
        }
        if (o.maxSeverity && v.vulnerabilities) {
          const worst = worstSeverity(v.vulnerabilities);
          if (worst && severityRank(worst) > severityRank(o.maxSeverity))
            imageProblems.push(
              `image ${r}${v.digest ? ` (${v.digest})` : ''} has ${v.vulnerabilities[worst]} ${worst} vulnerabilit${v.vulnerabilities[worst] === 1 ? 'y' : 'ies'} (allowed up to ${o.maxSeverity})`,
            );
        }
      }
    }
    const failurePolicyApplied = unknown.length > 0;
    const violations = [
      ...failed.map(
        (f) =>
          `${f.id}: ${oneLine(f.message ?? f.title)}${f.location.fieldPath ? ` (${f.location.fieldPath})` : ''}`,
      ),
      ...imageProblems,
    ];
    // warn mode never denies: what is unknown is a warning there, whatever the failure policy
    const blockingUnknown = o.failurePolicy === 'closed' && o.mode === 'enforce' ? unknown : [];
    const annotations: Record<string, string> = {
      decision: '',
      mode: o.mode,
      ...(failed.length ? { 'failed-checks': [...new Set(failed.map((f) => f.id))].join(',') } : {}),
      ...(verdicts.some((v) => v.digest)
        ? {
            'image-digests': verdicts
              .filter((v) => v.digest)
              .map((v) => `${v.ref}=${v.digest}`)
              .join(','),
          }
        : {}),
      ...(unknown.length ? { 'failure-policy': `fail-${o.failurePolicy}` } : {}),
    };
    const deny = (o.mode === 'enforce' && violations.length > 0) || blockingUnknown.length > 0;
    const warnings = [
      ...(o.mode === 'warn' ? violations : []),
      ...(blockingUnknown.length
        ? []
        : unknown.map((u) => `${u} (allowed: ${o.mode === 'warn' ? 'warn mode' : 'fail-open'})`)),
    ];
    annotations.decision = deny ? 'deny' : violations.length ? 'allow-with-violations' : 'allow';
    const response: AdmissionResponse = { uid, allowed: !deny, auditAnnotations: annotations };
    if (deny) {
      const reasons = [...violations, ...blockingUnknown];
      response.status = {
        code: 403,
        reason: 'Forbidden',
        message: truncate(
          `Bulwark denied ${req.kind.kind}${req.name ? ` ${req.name}` : ''}: ${reasons.join('; ')}`,
          4096,
        ),
      };
    }
    if (warnings.length) response.warnings = capWarnings(warnings);
    if (!deny && o.pinDigests) {
      const byRef = new Map(verdicts.filter((v) => v.digest).map((v) => [v.ref, v.digest!]));
      const ops = images
        .filter((i) => !digestOfRef(i.ref) && byRef.has(i.ref))
        .map((i) => ({ op: 'replace', path: i.pointer, value: `${i.ref}@${byRef.get(i.ref)}` }));
      if (ops.length) {
        response.patchType = 'JSONPatch';
        response.patch = Buffer.from(JSON.stringify(ops)).toString('base64');
      }
    }
    return done({
      response,
      failed,
      imageProblems: [...imageProblems, ...unknown],
      images: verdicts,
      failurePolicyApplied,
    });
  } catch (e) {
    // an unexpected error: decided by the failure policy, never a 500 to the API server
    const msg = e instanceof Error ? e.message : String(e);
    return done({
      ...base,
      response: failureResponse(uid, effectivePolicy(o), `could not evaluate: ${oneLine(msg)}`),
      failurePolicyApplied: true,
    });
  }
}

/** Warn mode never denies, so there the failure policy is in effect always open. */
function effectivePolicy(o: AdmitOptions): FailurePolicy {
  return o.mode === 'warn' ? 'open' : o.failurePolicy;
}

/** The answer the failure policy gives when no decision could be reached. */
export function failureResponse(uid: string, policy: FailurePolicy, why: string): AdmissionResponse {
  return policy === 'open'
    ? {
        uid,
        allowed: true,
        warnings: [`Bulwark ${why} (allowed: fail-open)`],
        auditAnnotations: { decision: 'allow', 'failure-policy': 'fail-open' },
      }
    : {
        uid,
        allowed: false,
        status: { code: 500, reason: 'InternalError', message: `Bulwark ${why} (denied: fail-closed)` },
        auditAnnotations: { decision: 'deny', 'failure-policy': 'fail-closed' },
      };
}

/** admit() with a hard deadline: past `o.deadlineMs` the failure policy answers. */
export async function admitWithin(
  req: AdmissionRequest,
  o: AdmitOptions,
  start = performance.now(),
): Promise<Decision> {
  let timer: NodeJS.Timeout | undefined;
  const left = Math.max(0, o.deadlineMs - (performance.now() - start));
  const late = new Promise<Decision>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          response: failureResponse(
            req.uid,
            effectivePolicy(o),
            `reached no decision within the ${o.deadlineMs} ms deadline`,
          ),
          failed: [],
          imageProblems: [],
          images: [],
          failurePolicyApplied: true,
          durationMs: performance.now() - start,
        }),
      left,
    );
  });
  try {
    return await Promise.race([admit(req, o, start), late]);
  } finally {
    clearTimeout(timer);
  }
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/** The API server caps warnings (each ≤ 256 characters is kept readable; 4 KiB in all). */
function capWarnings(ws: string[]): string[] {
  const out: string[] = [];
  let total = 0;
  for (const w of ws) {
    const t = truncate(w, 256);
    if (total + t.length > 4000) {
      out.push(`... ${ws.length - out.length} more`);
      break;
    }
    out.push(t);
    total += t.length;
  }
  return out;
}

/** `repo:tag@digest` → `repo@digest` (what a pinned reference should look like when the tag is dropped). */
export function pinnedRef(ref: string, digest: string): string {
  return `${stripTag(ref)}@${digest}`;
}
