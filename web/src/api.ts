/**
 * The console API client: JSON over fetch with the session cookie, and the CSRF double-submit header
 * (X-CSRF-Token = the readable bulwark_csrf cookie) on every state-changing request, as the server
 * expects (docs/server.md).
 */

export type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'UNKNOWN';
export const SEVERITIES: Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];
export type Role = 'viewer' | 'operator' | 'admin';
export const ROLES: Role[] = ['viewer', 'operator', 'admin'];

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}
export interface Counts {
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
}
export interface Me {
  user: { id: number; username: string; role: Role; via: 'session' | 'token' };
  csrfToken?: string;
}
export interface Image {
  id: number;
  name: string;
  digest: string;
  tags: string[];
  os: string | null;
  registryId: number | null;
  firstSeen: string;
  lastScanId: number | null;
  lastScanAt: string | null;
  counts: Counts;
}
export interface Finding {
  id: number;
  scanId: number;
  imageId: number;
  imageName: string;
  imageDigest: string;
  kind: string;
  advisoryId: string;
  severity: Severity;
  title: string;
  pkgName: string;
  pkgVersion: string;
  pkgPurl: string;
  ecosystem: string;
  fixedVersion: string;
  fixable: boolean;
  path: string;
  suppressed: boolean;
}
export interface AdvisoryDetail {
  id: string;
  summary?: string;
  details?: string;
  aliases: string[];
  published?: string;
  modified: string;
  withdrawn?: string;
  severity: Severity;
  severitySource?: string;
  cvss: { version: string; vector: string; score: number }[];
  references: { type?: string; url: string }[];
  affected: { ecosystem: string; name: string; fixed: string[]; introduced: string[] }[];
}
export interface AdvisoryRow {
  advisoryId: string;
  title: string;
  maxSeverity: Severity;
  findings: number;
  images: number;
  fixable: number;
}
export interface Summary {
  images: number;
  bySeverity: Counts;
  byKind: Record<'vulnerability' | 'secret' | 'misconfig' | 'license' | 'malware', Counts>;
  fixableCritical: number;
  trend: (Counts & { date: string })[];
  topImages: { id: number; name: string; digest: string; critical: number; high: number }[];
}
export interface Registry {
  id: number;
  name: string;
  url: string;
  username: string;
  hasPassword: boolean;
  caCert: string;
  insecure: boolean;
  repositories: string[];
  tagFilter: string;
  scheduleMinutes: number;
  lastScheduledAt: string | null;
  createdAt: string;
}
export interface Job {
  id: number;
  type: string;
  payload: Record<string, unknown>;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  attempts: number;
  maxAttempts: number;
  progress: number;
  message: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}
export interface Suppression {
  id: number;
  advisoryId: string;
  pkgName: string;
  imageName: string;
  reason: string;
  owner: string;
  expiresAt: string | null;
  createdBy: string;
  createdAt: string;
  active: boolean;
}
export interface User {
  id: number;
  username: string;
  role: Role;
  disabled: boolean;
  createdAt: string;
}
export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  detail: Record<string, unknown> | null;
}
export interface Destination {
  id: number;
  name: string;
  type: 'syslog' | 'webhook' | 'slack';
  config: Record<string, unknown>;
  createdAt?: string;
}
export interface Rule {
  id: number;
  name: string;
  event: string;
  minSeverity: Severity;
  registryFilter: string;
  destinationId: number;
  enabled: boolean;
  createdAt: string;
}
export interface Delivery {
  id: number;
  destinationId: number;
  status: 'pending' | 'sending' | 'delivered' | 'dead';
  attempts: number;
  nextAttemptAt: string;
  lastError: string;
  createdAt: string;
  deliveredAt: string | null;
  event: Record<string, unknown>;
}
/** The parts of the stored ScanReport (src/core/findings.ts) the image page shows. */
export interface ScanReport {
  createdAt: string;
  artifact: {
    name: string;
    digest?: string;
    os?: { name?: string; version?: string; family?: string };
    layers?: {
      index: number;
      digest?: string;
      diffId?: string;
      createdBy?: string;
      size?: number;
      mediaType?: string;
    }[];
  };
  results: {
    target: string;
    class: string;
    type?: string;
    packages?: {
      id: string;
      name: string;
      version: string;
      type: string;
      ecosystem: string;
      purl: string;
      licenses: string[];
      locations?: ReportLocation[];
    }[];
    findings?: {
      kind: string;
      id: string;
      title?: string;
      severity: Severity;
      location?: ReportLocation;
      package?: { name: string; version: string };
    }[];
  }[];
}

export interface ReportLocation {
  path: string;
  layer?: string;
  layerIndex?: number;
}

/** An API error with the server's code and message ({"error": {code, message}}). */
export interface RuntimeEvent {
  id: number;
  eventId: string;
  kind: 'alert' | 'deviation' | 'response' | 'admission' | 'waf';
  time: string;
  node: string;
  cluster: string;
  rule: string;
  priority: string;
  source: string;
  output: string;
  container: { id: string; name: string; image: string };
  k8s: { namespace: string; pod: string };
  tags: string[];
  techniques: string[];
}

export interface RuntimeEventDetail extends RuntimeEvent {
  falco: Record<string, unknown>;
  event: Record<string, unknown>;
  processTree: { pid?: number; name: string; exe?: string; cmdline?: string; user?: string }[];
  related: RuntimeEvent[];
}

export interface ProfileCounts {
  executables: number;
  filesWritten: number;
  outbound: number;
  listening: number;
  syscalls: number;
}
/** A workload with a behaviour profile (GET /api/runtime/workloads). */
export interface ProfileWorkload {
  cluster: string;
  workload: string;
  ref: Record<string, string>;
  mode: string;
  modes: Record<string, string>;
  desired: { mode: string; setBy: string; setAt: string } | null;
  counts: ProfileCounts;
  deviations: number;
  responses: number;
  lastReport: string | null;
}
/** One workload (GET /api/runtime/workload). */
export interface WorkloadDetail {
  cluster: string;
  workload: string;
  desired: { mode: string; setBy: string; setAt: string } | null;
  nodes: { node: string; mode: string; reportedAt: string; counts: ProfileCounts }[];
  profile: {
    workloadRef: Record<string, string>;
    mode: string;
    zeroDrift: boolean;
    executables: { path: string; aliases?: string[]; sha256?: string; parents: string[]; uids: number[] }[];
    filesWritten: string[];
    outbound: string[];
    listening: string[];
    syscalls: string[];
    learnedSince?: string;
    updated?: string;
  } | null;
  deviations: {
    id: number;
    time: string;
    node: string;
    containerId: string;
    type: string;
    value: string;
    reason: string;
    mode: string;
    action: string;
    output: string;
  }[];
  responses: {
    id: number;
    eventId: string;
    time: string;
    node: string;
    containerId: string;
    action: string;
    status: string;
    policy: string;
    latencyMs: number | null;
    reversible: boolean;
    undoes: string;
    error: string;
    output: string;
    state: string;
    undoneBy?: { eventId: string; action: string; status: string; automatic: boolean };
    command?: {
      id: number;
      state: string;
      createdBy: string;
      createdAt: string;
      error: string | null;
      resultEvent: string | null;
    };
  }[];
}

export interface RuntimeAgent {
  node: string;
  cluster: string;
  runId: string;
  version: string;
  startedAt: string;
  lastSeen: string;
  receivedAt: string;
  stale: boolean;
  rules: number;
  events: number;
  drops: number;
  alerts: number;
  kernel: Record<string, { events: number; drops: number }>;
  buffer?: { pendingBytes: number; dropped: number; rejected: number; sent: number };
}

export interface ClusterRow {
  cluster: string;
  agents: number;
  staleAgents: number;
  drops: number;
  events24h: number;
  byPriority24h: Record<string, number>;
  images: number;
  critical: number;
  high: number;
}

export interface NetworkFlow {
  id: number;
  cluster: string;
  source: string;
  destination: string;
  protocol: string;
  port: number | null;
  verdict: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  nodes: string[];
}

export interface NetworkMap {
  nodes: { id: string; namespace: string; name: string; kind: string }[];
  edges: NetworkFlow[];
  truncated: boolean;
}

type Groups = { key: string; count: number }[];
export interface RuntimeSummary {
  total: number;
  byPriority: Groups;
  byRule: Groups;
  byTechnique: Groups;
  byTactic: Groups;
  byImage: Groups;
  byNamespace: Groups;
  byContainer: Groups;
  byNode: Groups;
  byKind: Groups;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The server's message key and parameters (translated with serverText). */
    readonly key?: string,
    readonly params?: Record<string, string | number>,
    readonly localized?: Record<string, Record<string, string | number>>,
  ) {
    super(message);
  }
}

export interface ErrorJson {
  error?: {
    code?: string;
    message?: string;
    key?: string;
    params?: Record<string, string | number>;
    localized?: Record<string, Record<string, string | number>>;
  };
}

function csrfCookie(): string {
  const m = /(?:^|;\s*)bulwark_csrf=([^;]*)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]!) : '';
}

/** Called when any request answers 401 (the session expired): the app goes to the login page. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(f: () => void): void {
  onUnauthorized = f;
}

export async function api<T>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfCookie();
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const err = (data as ErrorJson | undefined)?.error;
    if (res.status === 401 && !path.startsWith('/api/auth/')) onUnauthorized();
    throw new ApiError(
      res.status,
      err?.code ?? String(res.status),
      err?.message ?? `${method} ${path}: HTTP ${res.status}`,
      err?.key,
      err?.params,
      err?.localized,
    );
  }
  return data as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body);
export const del = <T>(path: string) => api<T>('DELETE', path);

/** A query string from the non-empty values (the server filters, sorts and pages). */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

/** A node's latest run of one CIS benchmark (GET /api/benchmarks/nodes). */
export interface BenchmarkSummary {
  target: string;
  benchmarkId: string;
  version: string;
  title: string;
  status: 'ok' | 'error';
  error: string;
  time: string;
  receivedAt: string;
  durationMs: number;
  intervalSeconds: number;
  stale: boolean;
  totals: { pass: number; fail: number; warn: number; info: number };
  score: number | null;
  runs: number;
  trend: { time: string; status: string; score: number | null; fail: number }[];
}
export interface BenchmarkNode {
  cluster: string;
  node: string;
  benchmarks: BenchmarkSummary[];
}
export interface BenchmarkCheck {
  id: string;
  title: string;
  section: string;
  sectionTitle: string;
  status: 'PASS' | 'FAIL' | 'WARN' | 'INFO';
  scored: boolean;
  type?: string;
  scope: string;
  expected?: string;
  actual?: string;
  reason?: string;
  remediation?: string;
  compliance: { framework: string; control: string; title?: string }[];
  subjects?: { id?: string; name?: string; state: string; reason?: string }[];
  previous?: string;
}
export interface BenchmarkNodeDetail {
  cluster: string;
  node: string;
  target: string;
  summary: BenchmarkSummary;
  checksFrom: { time: string; root: string; source?: string } | null;
  sections: {
    id: string;
    title: string;
    totals: { pass: number; fail: number; warn: number; info: number; total: number };
  }[];
  checks: BenchmarkCheck[];
  targets: string[];
}
