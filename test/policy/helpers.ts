/** Shared test helpers: the built-in checks compiled once, and evaluation of one text input. */
import { configInputs, sniffConfigType, type ConfigFileType } from '../../src/misconfig/index.js';
import { CheckSet, evaluate, loadChecks, type CompiledCheck } from '../../src/policy/index.js';
import type { MisconfigFinding } from '../../src/core/findings.js';

let cached: CompiledCheck[] | undefined;
export function builtinChecks(): CompiledCheck[] {
  cached ??= loadChecks();
  return cached;
}

let set: CheckSet | undefined;
export function builtinSet(): CheckSet {
  set ??= new CheckSet(builtinChecks());
  return set;
}

/** Evaluates the built-in checks (or `checks`) on one text; evaluation errors fail the test. */
export function scanText(
  text: string,
  file: string,
  type?: ConfigFileType | 'yaml',
  checks = builtinSet(),
): MisconfigFinding[] {
  const { inputs } = configInputs(text, file, type ?? sniffConfigType(text));
  const r = evaluate(checks, inputs);
  if (r.warnings.length) throw new Error(`evaluation errors on ${file}:\n${r.warnings.join('\n')}`);
  return r.findings;
}

export const idsOf = (fs: MisconfigFinding[]) => new Set(fs.map((f) => f.id));
