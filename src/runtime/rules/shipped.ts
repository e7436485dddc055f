/**
 * The rules Bulwark ships: Falco's upstream default (stable) rules file, unchanged (rules/falco/).
 * The agent loads it when it is given no rules and the node has none of Falco's own.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Path of the shipped falco_rules.yaml (from src/ or dist/, and from the CLI bundle). */
export function shippedFalcoRules(): string {
  for (const rel of [
    '../../../rules/falco/falco_rules.yaml',
    '../../rules/falco/falco_rules.yaml',
    '../rules/falco/falco_rules.yaml',
  ]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return fileURLToPath(new URL('../../../rules/falco/falco_rules.yaml', import.meta.url));
}
