/**
 * Kubernetes manifests (YAML or JSON; multi-document; `List` kinds such as `v1/List` or
 * `DeploymentList`) → policy inputs with source positions. Every field path maps back to its line
 * through the `yaml` package's node ranges and a LineCounter.
 */
import { Composer, LineCounter, Parser, isMap, isScalar, isSeq, type Document } from 'yaml';
import { BulwarkError } from '../core/errors.js';
import type { PathSeg, PolicyInput, Scope, ScopeItem } from '../policy/index.js';
import { isDefaultRole } from '../policy/rbac.js';
import { loadRuleSet, scanText, type RuleSet } from '../secret/index.js';

let secretRules: RuleSet | undefined;

/**
 * Literal env values that the secret rules recognise (an AWS key, a GitHub token, a private key...)
 * whatever the variable is called: name → the rule's title. Checked as `NAME=value`, the way the
 * image config's Env is.
 */
function secretEnvOf(container: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(container.env)) return out;
  for (const e of container.env) {
    if (!isObj(e) || typeof e.name !== 'string' || typeof e.value !== 'string' || !e.value) continue;
    const m = scanText(`${e.name}=${e.value}`, (secretRules ??= loadRuleSet()), 'k8s-env')[0];
    if (m) out[e.name] = m.title;
  }
  return out;
}

/** Where the pod spec sits in each workload kind. */
const POD_SPEC_PATH: Record<string, PathSeg[]> = {
  Pod: ['spec'],
  PodTemplate: ['template', 'spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;
const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'ServiceAccount']);

export interface ParsedManifests {
  inputs: PolicyInput[];
  warnings: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function getPath(root: unknown, path: readonly PathSeg[]): unknown {
  let cur = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** True when a parsed document looks like a Kubernetes object. */
export function isKubernetesObject(v: unknown): v is Obj {
  return isObj(v) && typeof v.kind === 'string' && typeof v.apiVersion === 'string';
}

/**
 * Parses manifest text. Documents that are not Kubernetes objects (no apiVersion/kind) are
 * skipped; YAML syntax errors throw with file and line.
 */
export function parseManifests(text: string, file: string): ParsedManifests {
  const inputs: PolicyInput[] = [];
  const { warnings } = eachManifest(text, file, (batch) => void inputs.push(...batch));
  return { inputs, warnings };
}

/**
 * Parses a multi-document YAML file one document at a time, handing each document's resources to
 * `onInputs` before reading the next: a caller that evaluates and drops them keeps one document's
 * syntax tree in memory, not the whole file's (5,000 manifests in one file once took 525 MB).
 * Throws on the first invalid document, naming file, line and column.
 */
export function eachManifest(
  text: string,
  file: string,
  onInputs: (inputs: PolicyInput[]) => void,
): { warnings: string[]; count: number } {
  const lc = new LineCounter();
  const parser = new Parser(lc.addNewLine);
  const composer = new Composer({ prettyErrors: false, uniqueKeys: false });
  const warnings: string[] = [];
  let count = 0;
  for (const doc of composer.compose(parser.parse(text))) {
    const inputs: PolicyInput[] = [];
    if (doc.errors.length) {
      const e = doc.errors[0]!;
      const pos = lc.linePos(e.pos[0]);
      throw new BulwarkError(
        'PARSE',
        `${file}:${pos.line}:${pos.col}: invalid YAML: ${e.message.split('\n')[0]}`,
        { subject: file },
      );
    }
    if (doc.contents === null) continue;
    let obj: unknown;
    try {
      obj = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      throw new BulwarkError('PARSE', `${file}: ${(e as Error).message}`, { subject: file });
    }
    if (!isKubernetesObject(obj)) continue;
    const kind = obj.kind as string;
    if (kind.endsWith('List') && Array.isArray(obj.items)) {
      obj.items.forEach((item, i) => {
        if (isKubernetesObject(item)) inputs.push(kubernetesInput(item, file, doc, lc, ['items', i]));
        else warnings.push(`${file}: ${kind} item ${i} is not a Kubernetes object; skipped`);
      });
    } else inputs.push(kubernetesInput(obj, file, doc, lc, []));
    count += inputs.length;
    if (inputs.length) onInputs(inputs);
  }
  return { warnings, count };
}

/**
 * Adapts one Kubernetes object. `doc`/`lc` give source positions; without them (objects from the
 * API server or an AdmissionReview) `locate` returns undefined.
 */
export function kubernetesInput(
  obj: Obj,
  file: string,
  doc?: Document.Parsed | Document,
  lc?: LineCounter,
  prefix: PathSeg[] = [],
): PolicyInput {
  const kind = obj.kind as string;
  const meta = isObj(obj.metadata) ? obj.metadata : {};
  const podPath = POD_SPEC_PATH[kind];
  const cache = new Map<Scope, ScopeItem[] | undefined>();
  const scopeItems = (scope: Scope): ScopeItem[] | undefined => {
    switch (scope) {
      case 'resource':
        return [{ vars: {}, path: [] }];
      case 'pod':
      case 'container':
      case 'volume': {
        if (!podPath) return undefined;
        const spec = getPath(obj, podPath);
        if (!isObj(spec)) return undefined;
        const podMeta = getPath(obj, kind === 'Pod' ? ['metadata'] : [...podPath.slice(0, -1), 'metadata']);
        const base = { spec, podMeta: isObj(podMeta) ? podMeta : {} };
        if (scope === 'pod') return [{ vars: base, path: podPath }];
        const items: ScopeItem[] = [];
        if (scope === 'volume') {
          if (Array.isArray(spec.volumes))
            spec.volumes.forEach(
              (v, i) =>
                isObj(v) && items.push({ vars: { ...base, volume: v }, path: [...podPath, 'volumes', i] }),
            );
          return items;
        }
        for (const list of CONTAINER_LISTS) {
          const cs = spec[list];
          if (!Array.isArray(cs)) continue;
          cs.forEach((c, i) => {
            if (!isObj(c)) return;
            const label =
              list === 'containers'
                ? 'container'
                : list === 'initContainers'
                  ? 'init container'
                  : 'ephemeral container';
            const containerRef = `${label} "${typeof c.name === 'string' ? c.name : `#${i}`}"`;
            items.push({
              vars: { ...base, container: c, containerType: list, containerRef, secretEnv: secretEnvOf(c) },
              path: [...podPath, list, i],
              podPath,
            });
          });
        }
        return items;
      }
      case 'rule': {
        if (!Array.isArray(obj.rules)) return undefined;
        const items: ScopeItem[] = [];
        // defaultRole: one of the roles Kubernetes creates itself, by exact name (exempt from rule checks)
        const defaultRole = isDefaultRole(
          kind,
          typeof meta.name === 'string' ? meta.name : '',
          typeof meta.namespace === 'string' ? meta.namespace : undefined,
        );
        obj.rules.forEach(
          (r, i) => isObj(r) && items.push({ vars: { rule: r, defaultRole }, path: ['rules', i] }),
        );
        return items;
      }
      default:
        return undefined;
    }
  };
  return {
    kind,
    type: RBAC_KINDS.has(kind) ? 'rbac' : 'kubernetes',
    ...(typeof meta.name === 'string' ? { name: meta.name } : {}),
    ...(typeof meta.namespace === 'string' ? { namespace: meta.namespace } : {}),
    apiVersion: obj.apiVersion as string,
    file,
    object: obj,
    scope(s) {
      if (!cache.has(s)) cache.set(s, scopeItems(s));
      return cache.get(s);
    },
    locate(path) {
      if (!doc || !lc) return undefined;
      return locateInYaml(doc.contents, lc, [...prefix, ...path]);
    },
  };
}

type Ranged = { range?: [number, number, number] | null } | null | undefined;

/**
 * Lines of the deepest existing node on `path`: for a map entry, from its key's line to the end of
 * its value; for a list item, the item's lines. A missing field points to its nearest parent.
 */
export function locateInYaml(
  root: unknown,
  lc: LineCounter,
  path: readonly PathSeg[],
): { line: number; endLine?: number } | undefined {
  let node: unknown = root;
  let start: number | undefined = (root as Ranged)?.range?.[0];
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
      if (!pair) break;
      start = (pair.key as Ranged)?.range?.[0] ?? start;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      node = node.items[seg];
      start = (node as Ranged)?.range?.[0] ?? start;
    } else break;
  }
  if (start === undefined) return undefined;
  const end = (node as Ranged)?.range?.[1];
  const line = lc.linePos(start).line;
  return {
    line,
    endLine: end !== undefined && end > start ? Math.max(line, lc.linePos(end - 1).line) : line,
  };
}
