/**
 * Parsers for the metadata files inside Java archives: META-INF/MANIFEST.MF (JAR file spec:
 * "Name: value" lines, continuation lines start with one space, sections separated by blank lines),
 * META-INF/maven/<group>/<artifact>/pom.properties (java.util.Properties text) and pom.xml (only
 * the project's own coordinates, name and licenses; no parent resolution).
 */
import { XMLParser } from 'fast-xml-parser';

/** Main section attributes of a manifest, keys lower-cased (attribute names are case-insensitive). */
export function parseManifest(text: string): Map<string, string> {
  const main = new Map<string, string>();
  let key: string | undefined;
  let started = false;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line.startsWith(' ')) {
      // continuation of the previous attribute (only if there is one)
      if (key !== undefined) main.set(key, main.get(key)! + line.slice(1));
      continue;
    }
    if (line.trim() === '') {
      if (started) break; // end of the main section
      continue;
    }
    started = true;
    const i = line.indexOf(':');
    if (i <= 0) {
      key = undefined; // junk line: ignore it and anything that "continues" it
      continue;
    }
    key = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    if (!main.has(key)) main.set(key, value);
  }
  return main;
}

/**
 * java.util.Properties: `key=value`, `key:value` or `key value`; # and ! comments; a trailing
 * backslash continues the line; backslash escapes (\t \n \uXXXX ...).
 */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/^[ \t\f]+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i]!.replace(/^[ \t\f]+/, '');
    }
    let k = 0;
    while (k < line.length && !'=: \t\f'.includes(line[k]!)) k += line[k] === '\\' ? 2 : 1;
    const key = unescapeProps(line.slice(0, k));
    let rest = line.slice(k).replace(/^[ \t\f]*/, '');
    if (rest.startsWith('=') || rest.startsWith(':')) rest = rest.slice(1).replace(/^[ \t\f]*/, '');
    if (!out.has(key)) out.set(key, unescapeProps(rest));
  }
  return out;
}

function unescapeProps(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c: string) => {
    if (c.length === 5) return String.fromCharCode(parseInt(c.slice(1), 16));
    return { t: '\t', n: '\n', r: '\r', f: '\f' }[c] ?? c;
  });
}

export interface PomProject {
  groupId?: string;
  artifactId?: string;
  version?: string;
  name?: string;
  parent?: { groupId?: string; artifactId?: string; version?: string };
  licenses: { name?: string; url?: string }[];
  properties: Record<string, string>;
  dependencies: {
    groupId?: string;
    artifactId?: string;
    version?: string;
    scope?: string;
    optional?: boolean;
  }[];
}

const xml = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false, // versions like 1.10 must stay strings
  trimValues: true,
  processEntities: false, // no entity expansion at all (billion-laughs safe)
  isArray: (name) => name === 'license' || name === 'dependency',
});

type X = Record<string, unknown>;
const obj = (v: unknown): X => (v && typeof v === 'object' && !Array.isArray(v) ? (v as X) : {});
const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;

/** Parses pom.xml text; throws on malformed XML or a document without <project>. */
export function parsePomXml(source: string): PomProject {
  const doc = obj(xml.parse(source));
  if (!('project' in doc)) throw new Error('no <project> element');
  const p = obj(doc.project);
  const parent = obj(p.parent);
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(p.properties))) {
    const t = text(v);
    if (t !== undefined) properties[k] = t;
  }
  const deps = obj(p.dependencies).dependency;
  return {
    groupId: text(p.groupId),
    artifactId: text(p.artifactId),
    version: text(p.version),
    name: text(p.name),
    parent:
      'parent' in p
        ? {
            groupId: text(parent.groupId),
            artifactId: text(parent.artifactId),
            version: text(parent.version),
          }
        : undefined,
    licenses: (Array.isArray(obj(p.licenses).license) ? (obj(p.licenses).license as unknown[]) : []).map(
      (l) => ({
        name: text(obj(l).name),
        url: text(obj(l).url),
      }),
    ),
    properties,
    dependencies: (Array.isArray(deps) ? deps : []).map((d) => {
      const o = obj(d);
      return {
        groupId: text(o.groupId),
        artifactId: text(o.artifactId),
        version: text(o.version),
        scope: text(o.scope),
        optional: text(o.optional) === 'true',
      };
    }),
  };
}

/**
 * Replaces ${...} references that the pom itself defines (project.* coordinates, parent
 * coordinates, <properties>). Returns undefined if anything stays unresolved: a guessed version is
 * worse than none.
 */
export function interpolate(value: string | undefined, pom: PomProject): string | undefined {
  if (value === undefined) return undefined;
  const builtin: Record<string, string | undefined> = {
    'project.groupId': pom.groupId ?? pom.parent?.groupId,
    'project.artifactId': pom.artifactId,
    'project.version': pom.version ?? pom.parent?.version,
    'project.parent.groupId': pom.parent?.groupId,
    'project.parent.version': pom.parent?.version,
    'parent.version': pom.parent?.version,
    'pom.version': pom.version ?? pom.parent?.version,
    version: pom.version ?? pom.parent?.version,
  };
  let out = value;
  for (let round = 0; round < 10 && out.includes('${'); round++) {
    out = out.replace(/\$\{([^}]+)\}/g, (m, k: string) => pom.properties[k] ?? builtin[k] ?? m);
  }
  return out.includes('${') ? undefined : out;
}
