/**
 * CIS benchmark data model: a benchmark is YAML data (policies/cis/*.yaml) in kube-bench's shape —
 * groups of checks, each with `tests` over the output of an audit — except that audits are
 * declarative fact sources (`process kubelet`, `stat permissions $kubeletsvc`, `file $kubeletconf`,
 * `container`, ...) that Bulwark's collectors answer from files, /proc and the Docker Engine API,
 * never shell commands.
 */

/** One test of a check (kube-bench's test_items entry). */
export interface TestItem {
  /** Looked for in the audit output: `--flag=value`, `flag: value`, `--flag` (true) or bare text. */
  flag?: string;
  /** A JSONPath template over the audit_config output (YAML or JSON), e.g. `{.readOnlyPort}`. */
  path?: string;
  /** Looked for as `NAME=value` lines in the audit_env output. */
  env?: string;
  /** true (default): the value must be present (and pass `compare`); false: must be absent. */
  set?: boolean;
  compare?: { op: string; value?: unknown };
}

export interface Tests {
  test_items: TestItem[];
  /** How the items combine: and (default) or or. */
  bin_op?: string;
}

/** kube-bench's verdicts: PASS, FAIL (scored), WARN (not scored or manual), INFO (skipped / not applicable). */
export type CheckState = 'PASS' | 'FAIL' | 'WARN' | 'INFO';

/** Where a check is evaluated: once on the host, or once per running container / image. */
export type CheckScope = 'host' | 'container' | 'image';

export interface ComplianceRef {
  framework: string;
  control: string;
}

export interface BenchCheck {
  id: string;
  text: string;
  description?: string;
  audit?: string;
  audit_config?: string;
  audit_env?: string;
  /** Each line of the audit output must pass (kube-bench's use_multiple_values). */
  use_multiple_values?: boolean;
  tests?: Tests;
  /** manual → WARN, skip → INFO, without evaluating. */
  type?: string;
  scored?: boolean;
  remediation?: string;
  scope?: CheckScope;
  /** Tests over the same audit outputs that decide whether the check applies; INFO when they fail. */
  applicable?: Tests;
  /** When every audit output is empty (the file/daemon does not exist): INFO instead of evaluating. */
  absent?: 'info';
  compliance?: ComplianceRef[];
}

export interface BenchGroup {
  id: string;
  text: string;
  checks: BenchCheck[];
}

export interface Benchmark {
  id: string;
  title: string;
  version?: string;
  /** k8s-node or docker. */
  target: string;
  /** Where the definitions come from (upstream file and commit). */
  source?: string;
  /** The $variables the audits use, and how the collector resolves them on a host. */
  variables?: Record<string, VariableSpec>;
  groups: BenchGroup[];
}

/**
 * How a $variable is resolved: a `bin` is the first candidate with a running process; a `file` is,
 * in order, the value of a flag of a running process (`flag`), of a key in a config file
 * (`config`), the first candidate that exists under the root, else `default`.
 */
export interface VariableSpec {
  kind: 'bin' | 'file' | 'value';
  candidates?: string[];
  default?: string;
  /** e.g. {process: kubeletbin, name: --config}: the flag's value on the running process. */
  flag?: { process: string; name: string };
  /** e.g. {file: kubeletconf, path: '{.authentication.x509.clientCAFile}'}. */
  config?: { file: string; path: string };
}

/** The outputs of a check's three audits, as kube-bench's runAudit would return them. */
export interface AuditOutputs {
  audit: string;
  auditConfig: string;
  auditEnv: string;
  /** An audit source that could not be answered (e.g. the config file is unreadable YAML source). */
  error?: string;
}

/** Facts about one subject (the host, one container, one image): each audit source's output. */
export interface SubjectFacts {
  /** Empty for the host; the container or image id and name otherwise. */
  id?: string;
  name?: string;
  outputs: Record<string, string>;
  /** Sources that failed (unreadable file, API error), with the reason. */
  errors?: Record<string, string>;
}

export interface Facts {
  target: string;
  root: string;
  /** Resolved values of the benchmark's $variables. */
  vars: Record<string, string>;
  host: SubjectFacts;
  containers: SubjectFacts[];
  images: SubjectFacts[];
}

export interface SubjectResult {
  id?: string;
  name?: string;
  state: CheckState;
  expected?: string;
  actual?: string;
  reason?: string;
}

export interface CheckResult {
  id: string;
  text: string;
  group: string;
  state: CheckState;
  scored: boolean;
  type?: string;
  scope: CheckScope;
  expected?: string;
  actual?: string;
  reason?: string;
  remediation?: string;
  /** Per container / image (scope other than host): the offenders decide the check's state. */
  subjects?: SubjectResult[];
}

export interface BenchmarkReport {
  benchmark: { id: string; title: string; version?: string; target: string; source?: string };
  root: string;
  createdAt: string;
  totals: { pass: number; fail: number; warn: number; info: number };
  groups: { id: string; text: string; checks: CheckResult[] }[];
}
