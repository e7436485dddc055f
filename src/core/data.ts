/**
 * The built-in data files (policies/**.yaml: secret rules, license categories, frameworks) are YAML
 * for people, but parsing ~45 KB of YAML costs a command a third of a second at start-up. The build
 * (scripts/build-data.mjs) writes each as JSON under dist/data/; this reads that twin when it is at
 * least as new as the YAML, else the YAML itself (a source checkout without a build, or an edited file).
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/** The package root: this file is src/core/data.ts or dist/core/data.js. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the build writes the JSON twin of a data file of the package. */
export function compiledDataPath(yamlPath: string): string {
  return join(PACKAGE_ROOT, 'dist', 'data', `${relative(PACKAGE_ROOT, yamlPath)}.json`);
}

/** Reads a YAML data file of the package: its JSON twin when current, else the YAML. */
export function readYamlData(yamlPath: string): unknown {
  const twin = compiledDataPath(yamlPath);
  try {
    if (statSync(twin).mtimeMs >= statSync(yamlPath).mtimeMs) return JSON.parse(readFileSync(twin, 'utf8'));
  } catch {
    // no twin (not built) or no YAML: fall through to the YAML, which reports its own errors
  }
  return parseYaml(readFileSync(yamlPath, 'utf8'));
}
