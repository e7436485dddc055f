/**
 * Adapters from parsed Dockerfiles, compose files and image configs to policy inputs.
 */
import { LineCounter, parseDocument } from 'yaml';
import type { ImageConfig } from '../core/analyzer.js';
import { BulwarkError } from '../core/errors.js';
import type { PathSeg, PolicyInput, Scope, ScopeItem } from '../policy/index.js';
import { parseDockerfile, type Dockerfile } from './dockerfile.js';
import { locateInYaml } from './kubernetes.js';

/** Deep copy without undefined fields (CEL sees only JSON data). */
const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export function dockerfileInput(text: string, file: string): PolicyInput {
  const df = plain(parseDockerfile(text, file)) as Dockerfile;
  const scopes: Partial<Record<Scope, ScopeItem[]>> = {
    resource: [{ vars: {}, path: [], line: df.stages.at(-1)?.line ?? 1 }],
    // Dockerfile findings are located by line; their internal list indexes are no field path.
    stage: df.stages.map((s) => ({ vars: { stage: s }, path: [], line: s.line })),
    instruction: df.instructions.map((ins) => ({
      vars: { instruction: ins, stage: ins.stage >= 0 ? df.stages[ins.stage]! : {} },
      path: [],
      line: ins.line,
      endLine: ins.endLine,
    })),
  };
  return {
    kind: 'Dockerfile',
    type: 'dockerfile',
    file,
    object: df,
    scope: (s) => scopes[s],
    locate(path) {
      if (path[0] === 'instructions' && typeof path[1] === 'number') {
        const ins = df.instructions[path[1]];
        if (ins) return { line: ins.line, endLine: ins.endLine };
      }
      if (path[0] === 'stages' && typeof path[1] === 'number') {
        const st = df.stages[path[1]];
        if (st) return { line: st.line };
      }
      return undefined;
    },
  };
}

/** One input per service of a docker-compose file; field paths start at `services.NAME`. */
export function composeInputs(text: string, file: string): PolicyInput[] {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const pos = lc.linePos(e.pos[0]);
    throw new BulwarkError(
      'PARSE',
      `${file}:${pos.line}:${pos.col}: invalid YAML: ${e.message.split('\n')[0]}`,
      { subject: file },
    );
  }
  const obj = doc.toJS({ maxAliasCount: 1000 }) as { services?: Record<string, unknown> } | null;
  const services = obj?.services;
  if (!services || typeof services !== 'object') return [];
  return Object.entries(services)
    .filter(([, svc]) => svc && typeof svc === 'object')
    .map(([name, svc]) => {
      const prefix: PathSeg[] = ['services', name];
      const items: ScopeItem[] = [{ vars: { name }, path: prefix }];
      return {
        kind: 'ComposeService',
        type: 'compose',
        name,
        file,
        object: svc,
        scope: (s: Scope) => (s === 'resource' ? items : undefined),
        locate: (path: PathSeg[]) => locateInYaml(doc.contents, lc, path),
      };
    });
}

/** The image configuration (OCI config JSON) of an image; field paths are the config's own keys. */
export function imageConfigInput(config: ImageConfig, image: string): PolicyInput {
  const obj = plain(config);
  const items: ScopeItem[] = [{ vars: {}, path: [] }];
  return {
    kind: 'ImageConfig',
    type: 'image-config',
    name: image,
    file: image,
    object: obj,
    scope: (s) => (s === 'resource' ? items : undefined),
    locate: () => undefined,
  };
}
