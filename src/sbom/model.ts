/**
 * What Bulwark keeps of a package in an SBOM beyond name, version, purl and licenses, and how
 * packages read from someone else's SBOM get a type and an ecosystem back from their purl.
 *
 * Extra fields travel as `bulwark:` name/value pairs: CycloneDX `properties`, SPDX `annotations`
 * (comment "name=value"). docs/sbom.md lists them.
 */
import { parsePurl } from '../core/purl.js';
import type { Distro, Location, Package, PackageType } from '../core/types.js';

export { ecosystemFor } from '../catalog/index.js';

export const PROP = {
  ecosystem: 'bulwark:ecosystem',
  foundBy: 'bulwark:foundBy',
  /** One per location, in order; the layer properties that follow apply to the location before them. */
  location: 'bulwark:location',
  layer: 'bulwark:location:layer',
  layerIndex: 'bulwark:location:layerIndex',
  sourceName: 'bulwark:sourceName',
  sourceVersion: 'bulwark:sourceVersion',
  arch: 'bulwark:arch',
  ownedBy: 'bulwark:ownedBy',
  dev: 'bulwark:dev',
  /** SPDX only (CycloneDX uses bom-ref): the catalog id of the package. */
  id: 'bulwark:id',
} as const;

export type Property = { name: string; value: string };

export const OS_PACKAGE_TYPES: ReadonlySet<PackageType> = new Set(['deb', 'apk', 'rpm']);

export function isOsPackage(p: Package): boolean {
  return OS_PACKAGE_TYPES.has(p.type);
}

export function packageProperties(p: Package): Property[] {
  const out: Property[] = [];
  const add = (name: string, value: string | number | boolean | undefined) => {
    if (value !== undefined && value !== '') out.push({ name, value: String(value) });
  };
  add(PROP.ecosystem, p.ecosystem);
  add(PROP.foundBy, p.foundBy);
  for (const l of p.locations) {
    add(PROP.location, l.path);
    add(PROP.layer, l.layer);
    add(PROP.layerIndex, l.layerIndex);
  }
  add(PROP.sourceName, p.sourceName);
  add(PROP.sourceVersion, p.sourceVersion);
  add(PROP.arch, p.arch);
  add(PROP.ownedBy, p.ownedBy);
  if (p.dev) add(PROP.dev, true);
  return out;
}

/** Applies `bulwark:` properties to a package being read; ignores everyone else's. */
export function applyProperties(p: Package, props: Iterable<Property>): void {
  let fromProps: Location[] | undefined;
  for (const { name, value } of props) {
    switch (name) {
      case PROP.ecosystem:
        p.ecosystem = value;
        break;
      case PROP.foundBy:
        p.foundBy = value;
        break;
      case PROP.location:
        (fromProps ??= []).push({ path: value });
        break;
      case PROP.layer:
        if (fromProps?.length) fromProps[fromProps.length - 1]!.layer = value;
        break;
      case PROP.layerIndex: {
        const n = Number(value);
        if (fromProps?.length && Number.isInteger(n) && n >= 0)
          fromProps[fromProps.length - 1]!.layerIndex = n;
        break;
      }
      case PROP.sourceName:
        p.sourceName = value;
        break;
      case PROP.sourceVersion:
        p.sourceVersion = value;
        break;
      case PROP.arch:
        p.arch = value;
        break;
      case PROP.ownedBy:
        p.ownedBy = value;
        break;
      case PROP.dev:
        p.dev = value === 'true';
        break;
      case PROP.id:
        p.id = value;
        break;
    }
  }
  if (fromProps) p.locations = fromProps;
}

const PURL_TYPES: Record<string, PackageType> = {
  deb: 'deb',
  apk: 'apk',
  alpm: 'generic',
  rpm: 'rpm',
  npm: 'npm',
  pypi: 'pypi',
  golang: 'golang',
  maven: 'maven',
  gem: 'gem',
  cargo: 'cargo',
  composer: 'composer',
  nuget: 'nuget',
};

const DEBIAN_CODENAMES: Record<string, string> = {
  stretch: '9',
  buster: '10',
  bullseye: '11',
  bookworm: '12',
  trixie: '13',
};

/** Distro named by a purl's `distro` qualifier ("debian-12", "alpine-3.19.1", "bookworm"). */
export function distroFromQualifier(
  namespace: string | undefined,
  q: string | undefined,
): Distro | undefined {
  if (!q) return undefined;
  const m = /^([a-z][a-z0-9._]*)-(\d[\w.]*)$/i.exec(q);
  if (m) return { id: m[1]!.toLowerCase(), versionId: m[2]! };
  let codename = q.toLowerCase();
  if (namespace && codename.startsWith(`${namespace.toLowerCase()}-`))
    codename = codename.slice(namespace.length + 1);
  if (DEBIAN_CODENAMES[codename])
    return { id: 'debian', versionId: DEBIAN_CODENAMES[codename]!, versionCodename: codename };
  if (namespace) return { id: namespace.toLowerCase(), versionId: '', versionCodename: codename };
  return undefined;
}

export interface PurlFacts {
  type: PackageType;
  /** Full package name as Bulwark names it ("@scope/pkg", "github.com/a/b", "group:artifact"). */
  name: string;
  version?: string;
  arch?: string;
  distro?: Distro;
  /** Source package from the `upstream` qualifier ("glibc" or "glibc@2.36-9"). */
  upstream?: { name: string; version?: string };
}

/** Type, name, version and distro of a package from its purl; undefined if the purl does not parse. */
export function factsFromPurl(purl: string): PurlFacts | undefined {
  let p;
  try {
    p = parsePurl(purl);
  } catch {
    return undefined;
  }
  const type = PURL_TYPES[p.type] ?? 'generic';
  let name = p.name;
  if (p.namespace) {
    if (type === 'maven') name = `${p.namespace}:${p.name}`;
    else if (type === 'npm' || type === 'golang' || type === 'composer') name = `${p.namespace}/${p.name}`;
  }
  const q = p.qualifiers ?? {};
  const facts: PurlFacts = { type, name, version: p.version, arch: q.arch };
  if (OS_PACKAGE_TYPES.has(type)) facts.distro = distroFromQualifier(p.namespace, q.distro);
  if (q.upstream) {
    const at = q.upstream.indexOf('@');
    facts.upstream =
      at > 0 ? { name: q.upstream.slice(0, at), version: q.upstream.slice(at + 1) } : { name: q.upstream };
  }
  return facts;
}

/**
 * The package name to keep: the document's, unless the purl shows it lost its namespace (some
 * producers write only "my-app" for pkg:maven/com.example/my-app or "b" for pkg:golang/a/b).
 */
export function preferredName(given: string | undefined, facts: PurlFacts | undefined): string {
  if (!given) return facts?.name ?? '';
  if (
    facts &&
    ['golang', 'npm', 'maven', 'composer'].includes(facts.type) &&
    !given.includes('/') &&
    !given.includes(':')
  ) {
    return facts.name;
  }
  return given;
}
