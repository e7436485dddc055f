/**
 * Evaluates compiled checks over policy inputs. Pure: no I/O, no state kept between calls, so the
 * admission webhook can call it per request. A check is evaluated once per item of its scope and
 * reports one finding per violating item, pointing to the item's field path and source line.
 */
import type { MisconfigFinding } from '../core/findings.js';
import { formatFieldPath } from './path.js';
import type { CompiledCheck, PathSeg, PolicyInput, ScopeItem } from './types.js';

export interface EvaluateOptions {
  /** Also report a `pass` finding per (check, resource) that applied and did not fail. */
  includePasses?: boolean;
}

export interface EvaluateResult {
  findings: MisconfigFinding[];
  /** Checks that raised an evaluation error (deduplicated per check and error message). */
  warnings: string[];
}

/** Checks grouped by kind, for repeated evaluation (build once, evaluate many times). */
export class CheckSet {
  readonly checks: readonly CompiledCheck[];
  private readonly byKind = new Map<string, CompiledCheck[]>();
  constructor(checks: readonly CompiledCheck[]) {
    this.checks = checks;
    for (const c of checks) {
      for (const k of c.kinds) {
        let l = this.byKind.get(k);
        if (!l) this.byKind.set(k, (l = []));
        l.push(c);
      }
    }
  }
  forKind(kind: string): readonly CompiledCheck[] {
    return this.byKind.get(kind) ?? [];
  }
}

export function evaluate(
  set: CheckSet,
  inputs: Iterable<PolicyInput>,
  opts: EvaluateOptions = {},
): EvaluateResult {
  const findings: MisconfigFinding[] = [];
  const warnings = new Set<string>();
  for (const input of inputs) {
    for (const check of set.forKind(input.kind)) {
      const items = input.scope(check.scope);
      if (!items || !items.length) continue;
      let failed = false;
      for (const item of items) {
        const vars: Record<string, unknown> = { object: input.object, ...item.vars };
        for (const [v, path] of elements(check, vars)) {
          const r = check.evaluate(v);
          if (r instanceof Error) {
            warnings.add(
              `check ${check.id} (${check.source}) failed on ${describeInput(input)}: ${r.message}`,
            );
            continue;
          }
          if (!r) continue;
          failed = true;
          findings.push(
            makeFinding(
              check,
              input,
              path.length ? { ...item, path: [...item.path, ...path] } : item,
              'fail',
              check.render(v),
            ),
          );
        }
      }
      if (!failed && opts.includePasses)
        findings.push(makeFinding(check, input, { vars: {}, path: [] }, 'pass'));
    }
  }
  return { findings, warnings: [...warnings] };
}

/** The variables and extra path of each evaluation: the item itself, or each element of `each`. */
function elements(
  check: CompiledCheck,
  vars: Record<string, unknown>,
): [Record<string, unknown>, PathSeg[]][] {
  if (!check.eachPath) return [[vars, []]];
  let list: unknown = vars[check.eachVar!];
  for (const seg of check.eachPath)
    list = list && typeof list === 'object' ? (list as Record<string | number, unknown>)[seg] : undefined;
  if (!Array.isArray(list)) return [];
  return list.map((el, i) => [{ ...vars, item: el }, [...check.eachPath!, i]]);
}

function valueAt(v: unknown, path: PathSeg[]): unknown {
  for (const seg of path) {
    if (!v || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function describeInput(i: PolicyInput): string {
  return `${i.file}: ${i.kind}${i.name ? `/${i.name}` : ''}`;
}

function makeFinding(
  check: CompiledCheck,
  input: PolicyInput,
  item: ScopeItem,
  status: 'fail' | 'pass',
  message?: string,
): MisconfigFinding {
  let path: PathSeg[] = status === 'fail' ? [...item.path, ...check.fieldPath] : [];
  // a setting the container leaves to its pod: point at the pod's field, where the value is
  if (status === 'fail' && check.podFieldPath && item.podPath) {
    const own = valueAt(item.vars.container, check.fieldPath);
    const pod = valueAt(item.vars.spec, check.podFieldPath);
    if (own === undefined && pod !== undefined) path = [...item.podPath, ...check.podFieldPath];
  }
  const pos = item.line !== undefined ? { line: item.line, endLine: item.endLine } : input.locate(path);
  const fieldPath = formatFieldPath(path);
  return {
    kind: 'misconfig',
    id: check.id,
    title: check.title,
    severity: check.severity,
    type: input.type,
    status,
    location: {
      path: input.file,
      ...(pos?.line !== undefined ? { line: pos.line } : {}),
      ...(pos?.endLine !== undefined ? { endLine: pos.endLine } : {}),
      ...(fieldPath ? { fieldPath } : {}),
    },
    resource: {
      kind: input.kind,
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.namespace !== undefined ? { namespace: input.namespace } : {}),
      ...(input.apiVersion !== undefined ? { apiVersion: input.apiVersion } : {}),
      file: input.file,
    },
    description: check.description,
    remediation: check.remediation,
    ...(check.references.length ? { references: check.references } : {}),
    ...(check.compliance.length ? { compliance: check.compliance } : {}),
    ...(message !== undefined ? { message } : {}),
  };
}
