/**
 * Compliance frameworks: control catalogues (policies/frameworks/*.yaml) and the compliance report
 * that rates each control pass / fail / manual from the findings of a scan.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BulwarkError } from '../core/errors.js';
import type { MisconfigFinding } from '../core/findings.js';
import { severityRank, type Severity } from '../core/types.js';
import { builtinPolicyDir } from './load.js';
import type { CompiledCheck } from './types.js';

const frameworkSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/),
    /** The `framework` value used in checks' compliance references. */
    framework: z.string().min(1),
    title: z.string().min(1),
    version: z.string().optional(),
    source: z.string().optional(),
    description: z.string().optional(),
    controls: z
      .array(
        z
          .object({
            id: z.string().min(1),
            title: z.string().min(1),
            checks: z.array(z.string()).default([]),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export type Framework = z.infer<typeof frameworkSchema>;
export type FrameworkControl = Framework['controls'][number];

/** Parses one framework catalogue (YAML text). */
export function parseFramework(text: string, source: string): Framework {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new BulwarkError('PARSE', `${source}: invalid YAML: ${(e as Error).message.split('\n')[0]}`, {
      subject: source,
    });
  }
  const r = frameworkSchema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(framework)'}: ${i.message}`).join('; ');
    throw new BulwarkError('PARSE', `${source}: ${issues}`, { subject: source });
  }
  const seen = new Set<string>();
  for (const c of r.data.controls) {
    if (seen.has(c.id))
      throw new BulwarkError('PARSE', `${source}: control ${c.id} is listed twice`, { subject: source });
    seen.add(c.id);
  }
  return r.data;
}

/** Every built-in framework, by id. */
export function loadFrameworks(dir = join(builtinPolicyDir(), 'frameworks')): Map<string, Framework> {
  const out = new Map<string, Framework>();
  for (const name of readdirSync(dir).sort()) {
    if (!/\.ya?ml$/.test(name)) continue;
    const fw = parseFramework(readFileSync(join(dir, name), 'utf8'), `policies/frameworks/${name}`);
    out.set(fw.id, fw);
  }
  return out;
}

/** The framework named on the command line, or a USAGE error listing the known ones. */
export function getFramework(id: string, frameworks = loadFrameworks()): Framework {
  const fw = frameworks.get(id);
  if (!fw)
    throw new BulwarkError(
      'USAGE',
      `unknown compliance framework "${id}" (expected one of ${[...frameworks.keys()].join(', ')})`,
    );
  return fw;
}

/**
 * Checks of each control: the catalogue's list, plus user checks (not built-in) whose compliance
 * references name this framework and control. Unknown check ids in a catalogue are an error.
 */
export function controlChecks(fw: Framework, checks: readonly CompiledCheck[]): Map<string, CompiledCheck[]> {
  const byId = new Map(checks.map((c) => [c.id, c]));
  const out = new Map<string, CompiledCheck[]>();
  for (const ctl of fw.controls) {
    const list: CompiledCheck[] = [];
    for (const id of ctl.checks) {
      const c = byId.get(id);
      if (!c)
        throw new BulwarkError('PARSE', `framework ${fw.id}: control ${ctl.id} lists unknown check ${id}`);
      list.push(c);
    }
    for (const c of checks) {
      if (
        !c.builtin &&
        !list.includes(c) &&
        c.compliance.some((r) => r.framework === fw.framework && r.control === ctl.id)
      )
        list.push(c);
    }
    out.set(ctl.id, list);
  }
  return out;
}

export type ControlStatus = 'pass' | 'fail' | 'manual';

export interface ControlResult {
  id: string;
  title: string;
  status: ControlStatus;
  checks: { id: string; title: string; severity: Severity }[];
  /** Highest severity among the failing checks. */
  severity?: Severity;
  /** Number of (check, resource) evaluations behind the result; 0 means nothing applicable was scanned. */
  evaluated: number;
  failures: MisconfigFinding[];
}

export interface ComplianceReport {
  framework: { id: string; title: string; version?: string; source?: string; description?: string };
  createdAt: string;
  tool: { name: 'bulwark'; version: string };
  /** What was scanned: files (or images) with their type and resource count. */
  inputs: { path: string; type: string; resources: number }[];
  summary: { total: number; pass: number; fail: number; manual: number };
  controls: ControlResult[];
}

export interface ComplianceInput {
  /** Findings of the scan, including `pass` results (evaluate with includePasses). */
  findings: readonly MisconfigFinding[];
  checks: readonly CompiledCheck[];
  inputs: ComplianceReport['inputs'];
  toolVersion: string;
  now?: Date;
}

/** Rates every control of the framework. */
export function complianceReport(fw: Framework, input: ComplianceInput): ComplianceReport {
  const perControl = controlChecks(fw, input.checks);
  const byCheck = new Map<string, MisconfigFinding[]>();
  for (const f of input.findings) {
    let l = byCheck.get(f.id);
    if (!l) byCheck.set(f.id, (l = []));
    l.push(f);
  }
  const controls: ControlResult[] = fw.controls.map((ctl) => {
    const checks = perControl.get(ctl.id) ?? [];
    const results = checks.flatMap((c) => byCheck.get(c.id) ?? []);
    const failures = results.filter((f) => f.status === 'fail');
    // One evaluation per (check, resource): a passing resource yields one pass result, a failing one
    // one or more fail results.
    const evaluated = new Set(
      results.map(
        (f) =>
          `${f.id}\0${f.location.path}\0${f.resource?.kind}\0${f.resource?.namespace}\0${f.resource?.name}`,
      ),
    ).size;
    const status: ControlStatus = !checks.length ? 'manual' : failures.length ? 'fail' : 'pass';
    const severity = failures.reduce<Severity | undefined>(
      (m, f) => (m === undefined || severityRank(f.severity) > severityRank(m) ? f.severity : m),
      undefined,
    );
    return {
      id: ctl.id,
      title: ctl.title,
      status,
      checks: checks.map((c) => ({ id: c.id, title: c.title, severity: c.severity })),
      ...(severity ? { severity } : {}),
      evaluated,
      failures,
    };
  });
  const count = (s: ControlStatus) => controls.filter((c) => c.status === s).length;
  return {
    framework: {
      id: fw.id,
      title: fw.title,
      ...(fw.version ? { version: fw.version } : {}),
      ...(fw.source ? { source: fw.source } : {}),
      ...(fw.description ? { description: fw.description } : {}),
    },
    createdAt: (input.now ?? new Date()).toISOString(),
    tool: { name: 'bulwark', version: input.toolVersion },
    inputs: input.inputs,
    summary: { total: controls.length, pass: count('pass'), fail: count('fail'), manual: count('manual') },
    controls,
  };
}

/** Ids of the checks that a framework's controls reference (to restrict a scan to them). */
export function frameworkCheckIds(fw: Framework, checks: readonly CompiledCheck[]): Set<string> {
  return new Set([...controlChecks(fw, checks).values()].flat().map((c) => c.id));
}
