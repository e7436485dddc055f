/**
 * Loads benchmark definitions (policies/cis/<target>/*.yaml, or a user's file) and validates their
 * shape, so that a typo in a check is an error naming the file and the check, not a silent PASS.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BulwarkError } from '../core/errors.js';
import { PACKAGE_ROOT, readYamlData } from '../core/data.js';
import type { Benchmark } from './types.js';

const OPS = [
  'eq',
  'noteq',
  'gt',
  'gte',
  'lt',
  'lte',
  'has',
  'nothave',
  'regex',
  'valid_elements',
  'bitmask',
] as const;

const testItem = z
  .object({
    flag: z.string().optional(),
    path: z.string().optional(),
    env: z.string().optional(),
    set: z.boolean().optional(),
    compare: z
      .object({ op: z.enum(OPS), value: z.unknown().optional() })
      .strict()
      .optional(),
  })
  .strict()
  .refine((t) => t.flag !== undefined || t.path !== undefined || t.env !== undefined, {
    message: 'a test item needs flag, path or env',
  });

const testsSchema = z
  .object({ test_items: z.array(testItem), bin_op: z.enum(['and', 'or']).optional() })
  .strict();

const check = z
  .object({
    id: z.string().min(1),
    text: z.string().min(1),
    description: z.string().optional(),
    audit: z.string().optional(),
    audit_config: z.string().optional(),
    audit_env: z.string().optional(),
    use_multiple_values: z.boolean().optional(),
    tests: testsSchema.optional(),
    applicable: testsSchema.optional(),
    type: z.enum(['manual', 'skip']).optional(),
    scored: z.boolean().optional(),
    remediation: z.string().optional(),
    scope: z.enum(['host', 'container', 'image']).optional(),
    absent: z.literal('info').optional(),
    compliance: z.array(z.object({ framework: z.string(), control: z.string() }).strict()).optional(),
  })
  .strict();

const variable = z
  .object({
    kind: z.enum(['bin', 'file', 'value']),
    candidates: z.array(z.string()).optional(),
    default: z.string().optional(),
    flag: z.object({ process: z.string(), name: z.string() }).strict().optional(),
    config: z.object({ file: z.string(), path: z.string() }).strict().optional(),
  })
  .strict();

const benchmarkSchema = z
  .object({
    id: z.string().min(1),
    title: z.string().min(1),
    version: z.string().optional(),
    target: z.enum(['docker', 'k8s-node']),
    source: z.string().optional(),
    variables: z.record(z.string(), variable).optional(),
    groups: z.array(z.object({ id: z.string(), text: z.string(), checks: z.array(check) }).strict()).min(1),
  })
  .strict();

/** Validates a parsed benchmark document. */
export function parseBenchmark(doc: unknown, source: string): Benchmark {
  const r = benchmarkSchema.safeParse(doc);
  if (!r.success) {
    const issues = r.error.issues
      .slice(0, 5)
      .map((i) => `${describePath(doc, i.path)}: ${i.message}`)
      .join('; ');
    throw new BulwarkError('PARSE', `${source}: ${issues}`, { subject: source });
  }
  const seen = new Set<string>();
  for (const g of r.data.groups)
    for (const c of g.checks) {
      if (seen.has(c.id))
        throw new BulwarkError('PARSE', `${source}: check ${c.id} is defined twice`, { subject: source });
      seen.add(c.id);
    }
  return r.data as Benchmark;
}

/** "groups.0.checks.3.tests" → "check 4.1.4: tests" when the check has an id. */
function describePath(doc: unknown, path: PropertyKey[]): string {
  if (path[0] === 'groups' && path[2] === 'checks') {
    const g = (doc as { groups?: { checks?: { id?: unknown }[] }[] }).groups?.[Number(path[1])];
    const id = g?.checks?.[Number(path[3])]?.id;
    if (id !== undefined)
      return `check ${String(id)}${path.length > 4 ? `: ${path.slice(4).map(String).join('.')}` : ''}`;
  }
  return path.map(String).join('.') || '(benchmark)';
}

export const CIS_DIR = join(PACKAGE_ROOT, 'policies', 'cis');

/** Versions shipped for a target (file names without .yaml). */
export function benchmarkVersions(target: 'docker' | 'k8s-node'): string[] {
  const dir = join(CIS_DIR, target);
  return readdirSync(dir)
    .filter((n) => n.endsWith('.yaml'))
    .map((n) => n.slice(0, -5))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** The built-in benchmark of a target (the given version, or the default one). */
export function loadBuiltinBenchmark(target: 'docker' | 'k8s-node', version?: string): Benchmark {
  const versions = benchmarkVersions(target);
  const v = version ?? (target === 'docker' ? 'cis-docker-1.6.0' : 'cis-1.9');
  if (!versions.includes(v))
    throw new BulwarkError(
      'USAGE',
      `unknown ${target} benchmark version "${v}" (expected one of ${versions.join(', ')})`,
    );
  const file = join(CIS_DIR, target, `${v}.yaml`);
  return parseBenchmark(readYamlData(file), `policies/cis/${target}/${v}.yaml`);
}

/** A user's benchmark file (same format). */
export function loadBenchmarkFile(file: string): Benchmark {
  if (!existsSync(file))
    throw new BulwarkError('NOT_FOUND', `${file}: no such benchmark file`, { subject: file });
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new BulwarkError('PARSE', `${file}: invalid YAML: ${(e as Error).message.split('\n')[0]}`, {
      subject: file,
    });
  }
  return parseBenchmark(doc, file);
}
