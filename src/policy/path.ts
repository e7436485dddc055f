/** Field paths: `spec.template.spec.containers[1].securityContext.privileged`, `metadata.annotations["a.b/c"]`. */
import type { PathSeg } from './types.js';

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

export function formatFieldPath(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENT.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export function parseFieldPath(s: string): PathSeg[] {
  const out: PathSeg[] = [];
  const re = /\s*(?:\.?([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\])/y;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) throw new Error(`invalid field path "${s}" at ${pos + 1}`);
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(m[3]!) as string);
    pos = re.lastIndex;
  }
  return out;
}
