/**
 * Finds and parses configuration files (files, directories, stdin) and image configs, and evaluates
 * the policy checks over them; the single-pass file analyzer for images and filesystems.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { FileAnalyzer, ImageConfig } from '../core/analyzer.js';
import { BulwarkError } from '../core/errors.js';
import type { MisconfigFinding } from '../core/findings.js';
import { CheckSet, evaluate, type PolicyInput } from '../policy/index.js';
import { composeInputs, dockerfileInput, imageConfigInput } from './inputs.js';
import { eachManifest, isKubernetesObject, kubernetesInput } from './kubernetes.js';

export type ConfigFileType = 'dockerfile' | 'compose' | 'kubernetes';

/** Files larger than this are skipped with a warning. */
export const MAX_CONFIG_BYTES = 10 * 1024 * 1024;
const SKIP_DIRS = new Set(['node_modules', '.git', 'vendor', '.cache']);
/** In image and filesystem walks: YAML/JSON files larger than this are not considered manifests. */
const MAX_MANIFEST_IN_TREE = 2 * 1024 * 1024;
const SKIP_IN_TREE =
  /\/(node_modules|\.git|vendor|site-packages|dist-packages|__pycache__)\/|^\/(usr|proc|sys|dev|var\/lib|lib|lib64|etc\/ssl)\//;

/** Type of a configuration file from its name alone (undefined: not a config file we read). */
export function configTypeOfName(path: string): ConfigFileType | 'yaml' | undefined {
  const name = basename(path);
  // Dockerfile, Dockerfile.prod, api.Dockerfile; but dockerfile.yaml / .json is a data file
  if (
    (/^(Dockerfile|Containerfile)(\..+)?$/i.test(name) && !/\.(ya?ml|json)$/i.test(name)) ||
    /\.(dockerfile|containerfile)$/i.test(name)
  )
    return 'dockerfile';
  if (/^(docker-)?compose([.-].*)?\.ya?ml$/i.test(name)) return 'compose';
  if (/\.(ya?ml|json)$/i.test(name)) return 'yaml';
  return undefined;
}

/** Guesses the type of text without a useful name (stdin). */
export function sniffConfigType(text: string): ConfigFileType {
  const firstInstruction = text
    .split(/\r?\n/)
    .find((l) => l.trim() && !l.trim().startsWith('#'))
    ?.trim();
  if (firstInstruction && /^(FROM|ARG)\s/i.test(firstInstruction) && !/^\s*(apiVersion|kind)\s*:/m.test(text))
    return 'dockerfile';
  if (/^services\s*:/m.test(text) && !/^kind\s*:/m.test(text)) return 'compose';
  return 'kubernetes';
}

/** Parses one configuration file's text into policy inputs. */
export function configInputs(
  text: string,
  file: string,
  type: ConfigFileType | 'yaml',
): { inputs: PolicyInput[]; warnings: string[] } {
  const inputs: PolicyInput[] = [];
  const { warnings } = eachConfigInput(text, file, type, (batch) => void inputs.push(...batch));
  return { inputs, warnings };
}

/**
 * Parses one configuration file's text, handing its inputs to `onInputs` as they are parsed (a
 * manifest file one document at a time); returns the parse warnings and the file's actual type.
 */
export function eachConfigInput(
  text: string,
  file: string,
  type: ConfigFileType | 'yaml',
  onInputs: (inputs: PolicyInput[]) => void,
): { warnings: string[]; type: ConfigFileType } {
  if (type === 'dockerfile') {
    onInputs([dockerfileInput(text, file)]);
    return { warnings: [], type };
  }
  if (type === 'compose') {
    onInputs(composeInputs(text, file));
    return { warnings: [], type };
  }
  const k = eachManifest(text, file, onInputs);
  // A YAML file without Kubernetes objects may still be a compose file with another name.
  if (type === 'yaml' && !k.count && /^services\s*:/m.test(text)) {
    onInputs(composeInputs(text, file));
    return { warnings: [], type: 'compose' };
  }
  return { warnings: k.warnings, type: 'kubernetes' };
}

export interface ConfigScanTarget {
  /** The file path as given/found, or "-" for stdin. */
  path: string;
  type: ConfigFileType;
  resources: number;
}

export interface ConfigScanResult {
  targets: ConfigScanTarget[];
  inputs: PolicyInput[];
  findings: MisconfigFinding[];
  warnings: string[];
}

export interface ConfigScanOptions {
  includePasses?: boolean;
  /** Reads stdin for the path "-" (injected by the CLI; tests pass text). */
  readStdin?: () => Promise<string>;
}

/** Walks paths (files or directories; "-" is stdin) and evaluates the checks on every config file found. */
export async function scanConfigPaths(
  paths: string[],
  checks: CheckSet,
  opts: ConfigScanOptions = {},
): Promise<ConfigScanResult> {
  const targets: ConfigScanTarget[] = [];
  const inputs: PolicyInput[] = [];
  const warnings: string[] = [];
  const findings: MisconfigFinding[] = [];
  const evalOpts = { includePasses: opts.includePasses };
  // Each resource is evaluated as soon as it is parsed; what is kept of it afterwards has no
  // syntax tree (positions are in the findings already), so memory follows one document, not the
  // whole input. A file's results count only once the whole file has parsed.
  // (A manifest input's own closures share one context with its document's syntax tree, so a
  // Kubernetes input is rebuilt from its object alone: about 8 KB less per resource.)
  const lighten = (i: PolicyInput): PolicyInput =>
    (i.type === 'kubernetes' || i.type === 'rbac') && isKubernetesObject(i.object)
      ? kubernetesInput(i.object, i.file)
      : { ...i, locate: () => undefined };
  const addText = (text: string, file: string, type: ConfigFileType | 'yaml') => {
    const fileFindings: MisconfigFinding[] = [];
    const fileWarnings: string[] = [];
    const fileInputs: PolicyInput[] = [];
    const take = (batch: PolicyInput[]) => {
      const r = evaluate(checks, batch, evalOpts);
      fileFindings.push(...r.findings);
      fileWarnings.push(...r.warnings);
      for (const i of batch) fileInputs.push(lighten(i));
    };
    const parsed = eachConfigInput(text, file, type, take);
    fileWarnings.unshift(...parsed.warnings);
    const t = parsed.type;
    warnings.push(...fileWarnings);
    findings.push(...fileFindings);
    if (!fileInputs.length) return;
    targets.push({ path: file, type: t, resources: fileInputs.length });
    inputs.push(...fileInputs);
  };
  const visit = (p: string, explicit: boolean) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new BulwarkError('NOT_FOUND', `${p}: no such file or directory`, { subject: p });
    }
    if (st.isDirectory()) {
      const names = readdirSync(p).sort();
      // A Helm chart's templates are not YAML until rendered.
      const chart = names.includes('Chart.yaml');
      if (chart)
        warnings.push(
          `${p}: Helm chart templates are skipped; scan the rendered output: helm template ${p} | bulwark scan config -`,
        );
      for (const name of names) {
        if (SKIP_DIRS.has(name) || (chart && name === 'templates')) continue;
        visit(join(p, name), false);
      }
      return;
    }
    if (!st.isFile()) return;
    const type = configTypeOfName(p) ?? (explicit ? 'yaml' : undefined);
    if (!type) return;
    if (st.size > MAX_CONFIG_BYTES) {
      warnings.push(`${p}: ${st.size} bytes is more than ${MAX_CONFIG_BYTES}; skipped`);
      return;
    }
    const text = readFileSync(p, 'utf8');
    if (explicit) return addText(text, p, type);
    try {
      addText(text, p, type);
    } catch (e) {
      // Inside a directory, a broken YAML file must not stop the scan of the others.
      warnings.push(e instanceof Error ? e.message : String(e));
    }
  };
  for (const p of paths) {
    if (p === '-') {
      if (!opts.readStdin) throw new BulwarkError('USAGE', 'reading from stdin is not available here');
      const text = await opts.readStdin();
      addText(text, '-', sniffConfigType(text));
    } else visit(p, true);
  }
  // evaluation warnings repeat per document (one broken check, many resources): once each
  return { targets, inputs, findings, warnings: [...new Set(warnings)] };
}

/** Evaluates the checks over an image configuration (user, env, ports, healthcheck, history). */
export function scanImageConfig(
  config: ImageConfig,
  image: string,
  checks: CheckSet,
): { findings: MisconfigFinding[]; warnings: string[] } {
  return evaluate(checks, [imageConfigInput(config, image)]);
}

/**
 * A single-pass file analyzer for images and filesystems: Dockerfiles, compose files and Kubernetes
 * manifests met during the walk are checked; the result of each file is its findings.
 */
export function misconfigAnalyzer(checks: CheckSet): FileAnalyzer<MisconfigFinding[]> {
  return {
    name: 'misconfig',
    scope: 'final',
    maxBytes: MAX_CONFIG_BYTES,
    wants: (e) => {
      const t = configTypeOfName(e.path);
      if (t === undefined) return false;
      if (t !== 'yaml') return true;
      // Manifests are small and live in project trees, not in package and data directories.
      return e.size <= MAX_MANIFEST_IN_TREE && !SKIP_IN_TREE.test(e.path);
    },
    analyze(file, ctx) {
      const type = configTypeOfName(file.path);
      if (!type) return undefined;
      const text = file.content.toString('utf8');
      // Only YAML/JSON that holds Kubernetes objects or compose services is relevant; cheap pre-filter.
      if (type === 'yaml' && !/\b(apiVersion|services)\b/.test(text)) return undefined;
      try {
        const r = configInputs(text, file.path, type);
        const ev = evaluate(checks, r.inputs);
        for (const w of ev.warnings) ctx.warn(w);
        return ev.findings.length ? ev.findings : undefined;
      } catch (e) {
        if (type !== 'yaml') ctx.warn(e instanceof Error ? e.message : String(e));
        return undefined;
      }
    },
  };
}
