/**
 * Types of the policy engine. The engine knows nothing about file formats: inputs (Kubernetes
 * objects, Dockerfiles, compose services, image configs) are adapted to `PolicyInput` by
 * src/misconfig, by the admission webhook or by the cluster scanner.
 */
import type { ComplianceRef, Severity } from '../core/types.js';

/** One step of a field path: an object key or a list index. */
export type PathSeg = string | number;

/**
 * What a check iterates over. `resource`: once per resource. The others bind an extra CEL variable
 * per item and report one finding per offending item, pointing to that item's field path:
 * - `pod`: the pod spec of a workload (`spec`, `podMeta`)
 * - `container`: every container, initContainer and ephemeralContainer (`container`, `containerType`
 *   (the list name), `containerRef` (e.g. `init container "setup"`, for messages), plus `spec`, `podMeta`)
 * - `volume`: every pod volume (`volume`, plus `spec`)
 * - `rule`: every RBAC rule of a Role/ClusterRole (`rule`)
 * - `instruction`: every Dockerfile instruction (`instruction`, `stage`)
 * - `stage`: every Dockerfile build stage (`stage`)
 */
export const SCOPES = ['resource', 'pod', 'container', 'volume', 'rule', 'instruction', 'stage'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ScopeItem {
  /** CEL variables bound for this item (in addition to `object`). */
  vars: Record<string, unknown>;
  /** Path of the item inside the resource. */
  path: PathSeg[];
  /** Container items: the path of their pod spec (for settings inherited from the pod). */
  podPath?: PathSeg[];
  /** Source line of the item when it is not derived from the path (Dockerfile instructions). */
  line?: number;
  endLine?: number;
}

/** A resource as the engine sees it. */
export interface PolicyInput {
  /** Kubernetes kind, or Dockerfile, ComposeService, ImageConfig. */
  kind: string;
  /** Finding type: kubernetes, rbac, dockerfile, compose, image-config. */
  type: string;
  name?: string;
  namespace?: string;
  apiVersion?: string;
  /** File (or image reference) the resource came from. */
  file: string;
  /** The parsed resource, bound to the CEL variable `object`. Plain JSON data only. */
  object: unknown;
  /** Items of a scope; undefined or empty when the scope does not apply to this resource. */
  scope(scope: Scope): ScopeItem[] | undefined;
  /** Source lines of a field path (the deepest existing node on it); undefined when unknown. */
  locate(path: PathSeg[]): { line: number; endLine?: number } | undefined;
}

/** A check as written in a check file (after schema validation). */
export interface CheckSpec {
  id: string;
  title: string;
  severity: Severity;
  description: string;
  remediation: string;
  /** Resource kinds; group names (Workload, PodTemplated) are expanded at load time. */
  kinds: string[];
  scope: Scope;
  /** CEL expression that is true when the item VIOLATES the check. */
  deny: string;
  /** Message template: literal text with `{{ CEL }}` placeholders evaluated with the same variables. */
  message?: string;
  /**
   * Optional: a list below the scope item (`container.ports`, `object.subjects`); the check is then
   * evaluated once per element, bound to `item`, and each violating element is its own finding
   * (`...containers[0].ports[1]`). The first segment must be the scope's item variable.
   */
  each?: string;
  /** Field path below the scope item (or below the `each` element) to point to (e.g. `securityContext.privileged`). */
  field?: string;
  /**
   * Container checks of a setting the pod's securityContext can give for all its containers
   * (runAsUser, seccompProfile...): the field below the pod spec. When the container does not set
   * `field` but the pod sets this one, the finding points at the pod's field and its line.
   */
  podField?: string;
  references: string[];
  compliance: ComplianceRef[];
}

export interface CompiledCheck extends CheckSpec {
  /** Where it was defined: a policies/ file or a user file. */
  source: string;
  builtin: boolean;
  /** Evaluates the deny expression; returns true (violation), false, or an Error. */
  evaluate(vars: Record<string, unknown>): boolean | Error;
  /** Renders the message template (or the title when there is none). */
  render(vars: Record<string, unknown>): string;
  /** Parsed `field`. */
  fieldPath: PathSeg[];
  /** Parsed `podField`. */
  podFieldPath?: PathSeg[];
  /** Parsed `each` without its first segment (the item variable), and that variable. */
  eachPath?: PathSeg[];
  eachVar?: string;
}
