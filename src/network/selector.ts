/**
 * Kubernetes label selectors (metav1.LabelSelector): matchLabels and matchExpressions with
 * In, NotIn, Exists, DoesNotExist. An empty selector matches everything.
 */
import { BulwarkError } from '../core/errors.js';

export type Labels = Record<string, string>;

export interface Requirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

export interface LabelSelector {
  matchLabels: Labels;
  matchExpressions: Requirement[];
}

const OPS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses a selector object from a manifest; `where` names it in errors (file and field path). */
export function parseSelector(v: unknown, where: string): LabelSelector {
  if (v === null || v === undefined) return { matchLabels: {}, matchExpressions: [] };
  if (!isObj(v)) throw new BulwarkError('PARSE', `${where}: expected a label selector object`);
  const matchLabels: Labels = {};
  if (v.matchLabels !== undefined && v.matchLabels !== null) {
    if (!isObj(v.matchLabels)) throw new BulwarkError('PARSE', `${where}.matchLabels: expected a map`);
    for (const [k, val] of Object.entries(v.matchLabels)) matchLabels[k] = String(val);
  }
  const matchExpressions: Requirement[] = [];
  if (v.matchExpressions !== undefined && v.matchExpressions !== null) {
    if (!Array.isArray(v.matchExpressions))
      throw new BulwarkError('PARSE', `${where}.matchExpressions: expected a list`);
    v.matchExpressions.forEach((e: unknown, i) => {
      const w = `${where}.matchExpressions[${i}]`;
      if (!isObj(e) || typeof e.key !== 'string' || !OPS.has(String(e.operator)))
        throw new BulwarkError(
          'PARSE',
          `${w}: expected {key, operator: In|NotIn|Exists|DoesNotExist, values}, got ${JSON.stringify(e)}`,
        );
      const op = e.operator as Requirement['operator'];
      const values = Array.isArray(e.values) ? e.values.map(String) : [];
      if ((op === 'In' || op === 'NotIn') && values.length === 0)
        throw new BulwarkError('PARSE', `${w}: operator ${op} needs at least one value`);
      if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0)
        throw new BulwarkError('PARSE', `${w}: operator ${op} takes no values`);
      matchExpressions.push({ key: e.key, operator: op, values });
    });
  }
  return { matchLabels, matchExpressions };
}

export function matches(sel: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels)) if (labels[k] !== v) return false;
  for (const r of sel.matchExpressions) {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    switch (r.operator) {
      case 'In':
        if (!has || !r.values.includes(labels[r.key]!)) return false;
        break;
      case 'NotIn':
        if (has && r.values.includes(labels[r.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}
