import { BulwarkError } from '../../core/errors.js';

/** Metric name -> allowed values, in the specification's order. */
export type MetricTable = Record<string, readonly string[]>;

export function cvssError(vector: string, why: string): BulwarkError {
  const shown = vector.length > 200 ? `${vector.slice(0, 200)}…` : vector;
  return new BulwarkError('PARSE', `invalid CVSS vector "${shown}": ${why}`, { subject: shown });
}

/**
 * Splits "AV:N/AC:L/..." into metrics, checking every name and value against the table, that no
 * metric repeats and that every mandatory metric is present. Metrics may come in any order.
 */
export function parseMetrics(
  vector: string,
  body: string,
  table: MetricTable,
  mandatory: readonly string[],
): Record<string, string> {
  const metrics: Record<string, string> = {};
  if (body === '') throw cvssError(vector, 'no metrics');
  for (const part of body.split('/')) {
    const colon = part.indexOf(':');
    if (colon <= 0) throw cvssError(vector, `"${part}" is not NAME:VALUE`);
    const name = part.slice(0, colon);
    const value = part.slice(colon + 1);
    const allowed = Object.hasOwn(table, name) ? table[name] : undefined;
    if (!allowed) throw cvssError(vector, `unknown metric "${name}"`);
    if (!allowed.includes(value)) {
      throw cvssError(vector, `metric ${name} has value "${value}", expected one of ${allowed.join(', ')}`);
    }
    if (Object.hasOwn(metrics, name)) throw cvssError(vector, `metric ${name} appears twice`);
    metrics[name] = value;
  }
  const missing = mandatory.filter((m) => !Object.hasOwn(metrics, m));
  if (missing.length)
    throw cvssError(vector, `missing mandatory metric${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  return metrics;
}
