/**
 * Console database schema (one set of tables for SQLite and PostgreSQL). Timestamps are ISO-8601 UTC
 * strings (sortable as text on both dialects); booleans are 0/1 integers; JSON is stored as text.
 */
import type { Generated } from 'kysely';

export interface UsersTable {
  id: Generated<number>;
  username: string;
  password_hash: string;
  role: string;
  disabled: number;
  created_at: string;
}
export interface SessionsTable {
  /** sha256 of the session cookie value. */
  id_hash: string;
  user_id: number;
  csrf: string;
  created_at: string;
  expires_at: string;
}
export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  /** Public lookup prefix of the token ("bwk_xxxxxxxx"), not secret. */
  prefix: string;
  token_hash: string;
  role: string;
  created_at: string;
  last_used_at: string | null;
  /** '' = any cluster; else the cluster its agents' events and uploads belong to */
  cluster: Generated<string>;
}
export interface AuditTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  target: string;
  detail: string | null;
}
export interface ImagesTable {
  id: Generated<number>;
  /** Repository name without tag/digest, e.g. "127.0.0.1:5000/library/debian". */
  name: string;
  digest: string;
  registry_id: number | null;
  tags: string;
  os: string | null;
  first_seen: string;
  last_scan_id: number | null;
  last_scan_at: string | null;
}
export interface ScansTable {
  id: Generated<number>;
  image_id: number;
  created_at: string;
  source: string;
  /** User or token that uploaded it / "registry:<id>". */
  submitted_by: string;
  advisory_db: string | null;
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
  /** The ScanReport JSON; '' for merged rows (see merged_from). */
  report: string;
  /** Who the scan belongs to: "registry:<id>", "token:<id>", "user:<id>"; '' for merged rows. */
  source_key: Generated<string>;
  /** Merged rows: JSON array of the source scan ids, the primary (report, layers) first. */
  merged_from: string | null;
  /** 1 when the row was its image's view (what the console shows) when stored. */
  is_view: Generated<number>;
  /** The cluster of the token that uploaded it ('' for none / registry scans). */
  cluster: Generated<string>;
}
/** The latest scan of each source of an image. */
export interface ImageSourcesTable {
  image_id: number;
  source_key: string;
  scan_id: number;
  updated_at: string;
}
export interface FindingsTable {
  id: Generated<number>;
  scan_id: number;
  image_id: number;
  kind: string;
  advisory_id: string;
  severity: string;
  severity_rank: number;
  title: string;
  pkg_name: string;
  pkg_version: string;
  pkg_purl: string;
  ecosystem: string;
  fixed_version: string;
  fixable: number;
  path: string;
  /** Stable key of a finding across scans of the same image (diffs). */
  fkey: string;
}
export interface SuppressionsTable {
  id: Generated<number>;
  advisory_id: string;
  /** Empty string = any. */
  pkg_name: string;
  image_name: string;
  reason: string;
  owner: string;
  expires_at: string | null;
  created_by: string;
  created_at: string;
}
export interface RegistriesTable {
  id: Generated<number>;
  name: string;
  url: string;
  username: string;
  /** AES-256-GCM sealed password (see crypto.ts); '' when none. */
  secret: string;
  ca_cert: string;
  insecure: number;
  repositories: string;
  tag_filter: string;
  schedule_minutes: number;
  last_scheduled_at: string | null;
  created_at: string;
}
export interface JobsTable {
  id: Generated<number>;
  type: string;
  payload: string;
  status: string;
  attempts: number;
  max_attempts: number;
  run_after: string;
  progress: number;
  message: string;
  locked_by: string | null;
  locked_at: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}
export interface SettingsTable {
  key: string;
  value: string;
}
export interface DestinationsTable {
  id: Generated<number>;
  name: string;
  type: string;
  /** JSON config; secrets inside are sealed. */
  config: string;
  created_at: string;
}
export interface RulesTable {
  id: Generated<number>;
  name: string;
  event: string;
  min_severity: string;
  registry_filter: string;
  destination_id: number;
  enabled: number;
  created_at: string;
}
export interface OutboxTable {
  id: Generated<number>;
  destination_id: number;
  event: string;
  status: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string;
  created_at: string;
  delivered_at: string | null;
}
/** One runtime event of a node agent (see migrations.ts 0004). */
export interface RuntimeEventsTable {
  id: Generated<number>;
  /** The agent's id of the event (unique). */
  event_id: string;
  /** alert | deviation | response */
  kind: string;
  /** Event time, ISO-8601 UTC with milliseconds (the exact time is in body). */
  time: string;
  received_at: string;
  node: string;
  cluster: string;
  rule: string;
  /** Falco's priority name: Emergency ... Debug */
  priority: string;
  /** 7 Emergency ... 0 Debug */
  priority_rank: number;
  source: string;
  output: string;
  /** '' for events not in a container ("host") */
  container_id: string;
  container_name: string;
  image: string;
  namespace: string;
  pod: string;
  /** Token or user that posted it. */
  submitted_by: string;
  /** The rule's tags as ",a,b," (filter: LIKE '%,tag,%'). */
  tags: string;
  /** The event as posted (JSON). */
  body: string;
}
/** The latest stats record of each node agent. */
export interface RuntimeAgentsTable {
  id: Generated<number>;
  /** '' when the agent has no --cluster */
  cluster: string;
  node: string;
  run_id: string;
  version: string;
  started_at: string;
  /** time of the latest stats record */
  last_seen: string;
  received_at: string;
  submitted_by: string;
  /** sensor drops of the current run */
  drops: number;
  /** the stats record as sent (JSON) */
  stats: string;
}
/** An east-west edge aggregated over time (see migrations.ts 0004). */
export interface NetworkFlowsTable {
  id: Generated<number>;
  cluster: string;
  /** "ns/a[Deployment] => ns/b[Deployment] : TCP 80 FORWARDED" */
  edge: string;
  /** endpoint keys: "ns/name[Kind]" or "IP[External]" */
  src: string;
  src_ns: string;
  dst: string;
  dst_ns: string;
  protocol: string;
  /** -1 for none (ICMP) */
  port: number;
  verdict: string;
  count: number;
  first_seen: string;
  last_seen: string;
  /** JSON array of the nodes that reported it */
  nodes: string;
  /** the aggregated flow record (JSON), as `netpol generate --flows` reads it */
  record: string;
}
export interface NetworkFlowIdsTable {
  event_id: string;
  received_at: string;
}
export interface RuntimeEventTagsTable {
  event_row: number;
  tag: string;
}

/** The latest behaviour profile a node agent reported for a workload (migrations.ts 0005). */
export interface RuntimeProfilesTable {
  id: Generated<number>;
  cluster: string;
  node: string;
  /** runtime/profile workloadId */
  workload: string;
  /** the mode the agent holds it in */
  mode: string;
  /** the agent's time of the report */
  reported_at: string;
  received_at: string;
  submitted_by: string;
  /** {executables, filesWritten, outbound, listening, syscalls} (JSON) */
  counts: string;
  /** the profile as reported (JSON) */
  profile: string;
}
/** Deviation and response events by workload; responses by what they undo (0005). */
export interface RuntimeWorkloadEventsTable {
  event_row: number;
  event_id: string;
  /** deviation | response */
  kind: string;
  cluster: string;
  node: string;
  /** '' when the event named none */
  workload: string;
  time: string;
  /** response: kill, pause, quarantine, capture, resume, release, capture-end, undo; deviation: none | blocked */
  action: string;
  /** response: done | failed | skipped */
  status: string;
  reversible: number;
  /** response: the response event id it undoes ('' for none) */
  undoes: string;
  /** response: the console command it carried out */
  command: number | null;
}
/** The mode an operator set for a workload of a cluster (0005). */
export interface RuntimeModesTable {
  cluster: string;
  workload: string;
  mode: string;
  set_by: string;
  set_at: string;
}
/** A command waiting for (or carried out by) the agent of a node: undo a response (0005). */
export interface RuntimeCommandsTable {
  id: Generated<number>;
  cluster: string;
  node: string;
  /** undo */
  action: string;
  /** the response event id */
  target: string;
  /** pending | done | failed | skipped */
  state: string;
  created_by: string;
  created_at: string;
  /** when the agent last pulled it */
  pulled_at: string | null;
  done_at: string | null;
  /** the agent's response event carrying it out */
  result_event: string | null;
  error: string | null;
}
/** A CIS benchmark run sent by a node agent (0006): the last runs per cluster + node + target. */
export interface BenchmarkRunsTable {
  id: Generated<number>;
  /** the agent's item id (idempotency) */
  event_id: string;
  cluster: string;
  node: string;
  /** docker | k8s-node */
  target: string;
  /** cis-docker-1.6.0, cis-1.9, ... */
  benchmark_id: string;
  version: string;
  title: string;
  /** ok | error */
  status: string;
  error: string;
  /** when the run ended (the agent's clock) */
  time: string;
  started_at: string;
  received_at: string;
  submitted_by: string;
  duration_ms: number;
  interval_seconds: number;
  pass: number;
  fail: number;
  warn: number;
  info: number;
  /** PASS / (PASS + FAIL) in percent; null without either */
  score: number | null;
  /** 1 while `report` is kept (the newest runs) */
  has_report: number;
  /** JSON {report, compliance} (server/benchmarks.ts StoredReport); null for older runs */
  report: string | null;
}
/** An image's signatures and attestations as the last registry scan read them (0007). */
export interface ImageSignaturesTable {
  id: Generated<number>;
  image_id: number;
  digest: string;
  checked_at: string;
  /** JSON server/signatures.ts ImageSignatures */
  summary: string;
}
export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  audit_log: AuditTable;
  images: ImagesTable;
  scans: ScansTable;
  image_sources: ImageSourcesTable;
  findings: FindingsTable;
  suppressions: SuppressionsTable;
  registries: RegistriesTable;
  jobs: JobsTable;
  settings: SettingsTable;
  notify_destinations: DestinationsTable;
  notify_rules: RulesTable;
  outbox: OutboxTable;
  runtime_events: RuntimeEventsTable;
  runtime_event_tags: RuntimeEventTagsTable;
  runtime_agents: RuntimeAgentsTable;
  network_flows: NetworkFlowsTable;
  network_flow_ids: NetworkFlowIdsTable;
  runtime_profiles: RuntimeProfilesTable;
  runtime_workload_events: RuntimeWorkloadEventsTable;
  runtime_modes: RuntimeModesTable;
  runtime_commands: RuntimeCommandsTable;
  benchmark_runs: BenchmarkRunsTable;
  image_signatures: ImageSignaturesTable;
}
