/**
 * The `k8s_audit` event source: Kubernetes audit events (audit.k8s.io Event objects, one JSON
 * object per line as the API server's log backend writes them) and the fields Falco's k8saudit
 * plugin extracts from them (ka.*, jevt.*), so the upstream k8s audit rules run unchanged.
 */
import type { SyscallEvent } from '../event.js';
import type { FieldDef, FieldType, FieldValue } from './fields.js';
import { globToRegExp } from './compiler.js';

export const K8S_AUDIT_SOURCE = 'k8s_audit';

/** One audit event with the time Falco gives it (ns since the epoch). */
export interface K8sAuditEvent {
  num: number;
  ts: bigint;
  obj: Record<string, unknown>;
}

/** Parses the API server's audit log: JSON lines (and JSON arrays or EventLists, as webhooks send them). */
export function parseAuditEvents(text: string): K8sAuditEvent[] {
  const out: K8sAuditEvent[] = [];
  const push = (o: unknown) => {
    if (!o || typeof o !== 'object') return;
    const r = o as Record<string, unknown>;
    if (r.kind === 'EventList' && Array.isArray(r.items)) return r.items.forEach(push);
    const t = Date.parse(String(r.stageTimestamp ?? r.timestamp ?? ''));
    out.push({ num: out.length + 1, ts: Number.isFinite(t) ? BigInt(t) * 1000000n : 0n, obj: r });
  };
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) (JSON.parse(trimmed) as unknown[]).forEach(push);
  else for (const line of trimmed.split('\n')) if (line.trim()) push(JSON.parse(line));
  return out;
}

function get(o: unknown, ...path: (string | number)[]): unknown {
  let cur = o;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function containers(e: K8sAuditEvent): Record<string, unknown>[] {
  const c = get(e.obj, 'requestObject', 'spec', 'containers');
  return Array.isArray(c) ? (c as Record<string, unknown>[]) : [];
}

/** The repository of an image reference: without the tag and the digest. */
export function imageRepository(image: string): string {
  let s = image.replace(/@.*$/, '');
  const slash = s.lastIndexOf('/');
  const colon = s.lastIndexOf(':');
  if (colon > slash) s = s.slice(0, colon);
  return s;
}

function list(v: unknown[] | undefined, arg: string | undefined): FieldValue {
  if (!v) return undefined;
  const s = v.map((x) => str(x) ?? '');
  if (arg !== undefined) return s[Number(arg)];
  return s.length ? s : undefined;
}

/** JSON pointer (RFC 6901) into the event. */
function pointer(o: unknown, ptr: string): unknown {
  if (ptr === '') return o;
  if (!ptr.startsWith('/')) return undefined;
  let cur = o;
  for (const raw of ptr.slice(1).split('/')) {
    const k = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

type Get = (e: K8sAuditEvent, arg: string | undefined) => FieldValue;
const k = (type: FieldType, g: Get, extra: Partial<FieldDef> = {}): FieldDef => ({
  type,
  get: (ev: SyscallEvent, _st, arg) => g(ev as unknown as K8sAuditEvent, arg),
  ...extra,
});
const s = (...path: (string | number)[]) => k('string', (e) => str(get(e.obj, ...path)));
const bool = (v: unknown) => (v === true || v === 'true' ? 'true' : 'false');

export const K8S_AUDIT_FIELDS: Record<string, FieldDef> = {
  'ka.auditid': s('auditID'),
  'ka.stage': s('stage'),
  'ka.auth.decision': s('annotations', 'authorization.k8s.io/decision'),
  'ka.auth.reason': s('annotations', 'authorization.k8s.io/reason'),
  'ka.user.name': s('user', 'username'),
  'ka.user.groups': k(
    'string',
    (e, arg) => list(get(e.obj, 'user', 'groups') as unknown[] | undefined, arg),
    { arg: 'optional', argIndex: true, list: true },
  ),
  'ka.impuser.name': s('impersonatedUser', 'username'),
  'ka.verb': s('verb'),
  'ka.uri': s('requestURI'),
  'ka.uri.param': k(
    'string',
    (e, arg) => {
      const uri = str(get(e.obj, 'requestURI'));
      if (!uri || arg === undefined) return undefined;
      const q = uri.indexOf('?');
      return q < 0 ? undefined : (new URLSearchParams(uri.slice(q + 1)).get(arg) ?? undefined);
    },
    { arg: 'required' },
  ),
  'ka.target.name': s('objectRef', 'name'),
  'ka.target.namespace': s('objectRef', 'namespace'),
  'ka.target.resource': s('objectRef', 'resource'),
  'ka.target.subresource': s('objectRef', 'subresource'),
  'ka.req.binding.subjects': k(
    'string',
    (e, arg) => {
      const subj = get(e.obj, 'requestObject', 'subjects');
      return Array.isArray(subj)
        ? list(
            subj.map((x) => get(x, 'name') ?? ''),
            arg,
          )
        : undefined;
    },
    { arg: 'optional', argIndex: true, list: true },
  ),
  'ka.req.binding.role': s('requestObject', 'roleRef', 'name'),
  'ka.req.binding.subject.has_name': k(
    'string',
    (e, arg) => {
      const subj = get(e.obj, 'requestObject', 'subjects');
      if (!Array.isArray(subj) || arg === undefined) return undefined;
      return bool(subj.some((x) => get(x, 'name') === arg));
    },
    { arg: 'required' },
  ),
  'ka.req.configmap.name': k('string', (e) =>
    get(e.obj, 'objectRef', 'resource') === 'configmaps' ? str(get(e.obj, 'objectRef', 'name')) : undefined,
  ),
  'ka.req.configmap.obj': k('string', (e) => str(get(e.obj, 'requestObject', 'data'))),
  'ka.req.pod.containers.image': k(
    'string',
    (e, arg) => list(containers(e).length ? containers(e).map((c) => c.image) : undefined, arg),
    {
      arg: 'optional',
      argIndex: true,
      list: true,
    },
  ),
  'ka.req.container.image': k('string', (e) => str(containers(e)[0]?.image)),
  'ka.req.pod.containers.image.repository': k(
    'string',
    (e, arg) =>
      list(
        containers(e).length ? containers(e).map((c) => imageRepository(String(c.image ?? ''))) : undefined,
        arg,
      ),
    { arg: 'optional', argIndex: true, list: true },
  ),
  'ka.req.container.image.repository': k('string', (e) => {
    const i = containers(e)[0]?.image;
    return i === undefined ? undefined : imageRepository(String(i));
  }),
  'ka.req.pod.host_ipc': k('string', (e) =>
    get(e.obj, 'requestObject', 'spec') ? bool(get(e.obj, 'requestObject', 'spec', 'hostIPC')) : undefined,
  ),
  'ka.req.pod.host_network': k('string', (e) =>
    get(e.obj, 'requestObject', 'spec')
      ? bool(get(e.obj, 'requestObject', 'spec', 'hostNetwork'))
      : undefined,
  ),
  'ka.req.container.host_network': k('string', (e) =>
    get(e.obj, 'requestObject', 'spec')
      ? bool(get(e.obj, 'requestObject', 'spec', 'hostNetwork'))
      : undefined,
  ),
  'ka.req.pod.host_pid': k('string', (e) =>
    get(e.obj, 'requestObject', 'spec') ? bool(get(e.obj, 'requestObject', 'spec', 'hostPID')) : undefined,
  ),
  'ka.req.pod.containers.privileged': k(
    'string',
    (e, arg) =>
      list(
        containers(e).length
          ? containers(e).map((c) => bool(get(c, 'securityContext', 'privileged')))
          : undefined,
        arg,
      ),
    { arg: 'optional', argIndex: true, list: true },
  ),
  'ka.req.container.privileged': k('string', (e) =>
    containers(e).length
      ? bool(containers(e).some((c) => get(c, 'securityContext', 'privileged') === true))
      : undefined,
  ),
  'ka.req.pod.volumes.hostpath': k(
    'string',
    (e, arg) => {
      const vols = get(e.obj, 'requestObject', 'spec', 'volumes');
      if (!Array.isArray(vols)) return undefined;
      const paths = vols.map((v) => get(v, 'hostPath', 'path')).filter((p) => p !== undefined);
      return paths.length ? list(paths, arg) : undefined;
    },
    { arg: 'optional', argIndex: true, list: true },
  ),
  'ka.req.volume.hostpath': k(
    'string',
    (e, arg) => {
      const vols = get(e.obj, 'requestObject', 'spec', 'volumes');
      if (!Array.isArray(vols) || arg === undefined) return undefined;
      const re = globToRegExp(arg);
      return bool(vols.some((v) => re.test(String(get(v, 'hostPath', 'path') ?? '\0'))));
    },
    { arg: 'required' },
  ),
  'ka.req.role.rules': k('string', (e) => str(get(e.obj, 'requestObject', 'rules'))),
  'ka.req.role.rules.verbs': k(
    'string',
    (e) => {
      const r = get(e.obj, 'requestObject', 'rules');
      if (!Array.isArray(r)) return undefined;
      const v = r
        .flatMap((x) => (Array.isArray(get(x, 'verbs')) ? (get(x, 'verbs') as unknown[]) : []))
        .map(String);
      return v.length ? v : undefined;
    },
    { list: true },
  ),
  'ka.req.role.rules.resources': k(
    'string',
    (e) => {
      const r = get(e.obj, 'requestObject', 'rules');
      if (!Array.isArray(r)) return undefined;
      const v = r
        .flatMap((x) => (Array.isArray(get(x, 'resources')) ? (get(x, 'resources') as unknown[]) : []))
        .map(String);
      return v.length ? v : undefined;
    },
    { list: true },
  ),
  'ka.req.service.type': s('requestObject', 'spec', 'type'),
  'ka.req.service.ports': k('string', (e) => str(get(e.obj, 'requestObject', 'spec', 'ports'))),
  'ka.resp.name': s('responseObject', 'metadata', 'name'),
  'ka.response.code': s('responseStatus', 'code'),
  'ka.response.reason': s('responseStatus', 'reason'),
  'ka.useragent': s('userAgent'),
  'ka.sourceips': k('string', (e, arg) => list(get(e.obj, 'sourceIPs') as unknown[] | undefined, arg), {
    arg: 'optional',
    argIndex: true,
    list: true,
  }),
  'jevt.time': k('string', (e) => {
    const ms = Number(e.ts / 1000000n);
    return new Date(ms).toISOString().slice(11, 19) + '.' + (e.ts % 1000000000n).toString().padStart(9, '0');
  }),
  'jevt.time.iso8601': k(
    'string',
    (e) =>
      new Date(Number(e.ts / 1000000n)).toISOString().slice(0, 19) +
      '.' +
      (e.ts % 1000000000n).toString().padStart(9, '0') +
      'Z',
  ),
  'jevt.rawtime': k('abstime', (e) => e.ts),
  'jevt.value': k('string', (e, arg) => (arg === undefined ? undefined : str(pointer(e.obj, arg))), {
    arg: 'required',
  }),
  'jevt.obj': k('string', (e) => JSON.stringify(e.obj)),
  'evt.source': k('string', () => K8S_AUDIT_SOURCE),
  'evt.num': k('uint', (e) => e.num),
};
