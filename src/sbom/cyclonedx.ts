/**
 * CycloneDX 1.6 JSON: writer (Catalog + ArtifactInfo → BOM) and reader (CycloneDX 1.2–1.6 JSON →
 * Catalog). Plain objects: the shape is small and the official schema (checked in the tests) is
 * the authority, so the CycloneDX library's model layer would add nothing but indirection.
 */
import { randomUUID } from 'node:crypto';
import type { ArtifactInfo } from '../core/analyzer.js';
import { BulwarkError } from '../core/errors.js';
import { buildPurl } from '../core/purl.js';
import type { Catalog, Distro, Package } from '../core/types.js';
import { classifyLicense, parenthesize, splitTopLevelAnd } from './licenses.js';
import {
  applyProperties,
  factsFromPurl,
  isOsPackage,
  packageProperties,
  preferredName,
  type Property,
} from './model.js';
import { finishCatalog, type DraftPackage, type SbomReadResult } from './read-common.js';

export interface WriteOptions {
  /** Document creation time (default: now). */
  timestamp?: Date;
  /** Unique document id (default: a random UUID). */
  uuid?: string;
  /** Producing tool; version omitted when unknown. */
  toolVersion?: string;
}

type Json = Record<string, unknown>;

export const ARTIFACT_REF = 'bulwark:artifact';

export function osRef(d: Distro): string {
  return `bulwark:os:${d.id}@${d.versionId}`;
}

/** CycloneDX `licenses` (a list of license objects, or a single SPDX expression). */
export function cdxLicenses(licenses: string[]): Json[] | undefined {
  const uniq = [...new Set(licenses.map((l) => l.trim()).filter(Boolean))];
  if (!uniq.length) return undefined;
  const classes = uniq.map(classifyLicense);
  // The schema allows either license objects or exactly one expression. A lone expression, or only
  // ids and expressions, becomes one expression; with free text in the mix each string becomes a
  // license object (ids by id, the rest by name) so nothing is lost.
  if (classes.some((c) => c.kind === 'expression') && classes.every((c) => c.kind !== 'name')) {
    const exprs = classes.map((c) => (c.kind === 'id' ? c.id : c.kind === 'expression' ? c.expression : ''));
    return [
      { expression: exprs.length === 1 ? exprs[0] : [...new Set(exprs.map(parenthesize))].join(' AND ') },
    ];
  }
  const objs = classes.map((c) =>
    c.kind === 'id'
      ? { license: { id: c.id } }
      : { license: { name: c.kind === 'name' ? c.name : c.expression } },
  );
  const seen = new Set<string>();
  return objs.filter((o) => !seen.has(JSON.stringify(o)) && seen.add(JSON.stringify(o)));
}

function artifactComponent(artifact: ArtifactInfo): Json {
  const props: Property[] = [];
  const add = (name: string, value: string | undefined) => value && props.push({ name, value });
  add('bulwark:artifact:kind', artifact.kind);
  add('bulwark:image:digest', artifact.digest);
  add('bulwark:image:id', artifact.imageId);
  for (const t of artifact.repoTags ?? []) add('bulwark:image:tag', t);
  for (const d of artifact.repoDigests ?? []) add('bulwark:image:repoDigest', d);
  const cfg = artifact.config;
  if (cfg?.os || cfg?.architecture) {
    add('bulwark:image:platform', [cfg.os, cfg.architecture, cfg.variant].filter(Boolean).join('/'));
  }
  for (const l of artifact.layers)
    add('bulwark:layer', [l.index, l.diffId ?? '', l.digest ?? ''].join(' ').trim());
  const c: Json = {
    'bom-ref': ARTIFACT_REF,
    type: artifact.kind === 'image' ? 'container' : 'application',
    name: artifact.name,
  };
  const purl = imagePurl(artifact);
  if (purl) c.purl = purl;
  if (props.length) c.properties = props;
  return c;
}

/** pkg:oci purl for an image pulled by reference (we know its repository and manifest digest). */
function imagePurl(artifact: ArtifactInfo): string | undefined {
  if (artifact.kind !== 'image') return undefined;
  const rd = artifact.repoDigests?.[0];
  const at = rd?.lastIndexOf('@') ?? -1;
  if (!rd || at < 0) return undefined;
  const repo = rd.slice(0, at);
  const digest = rd.slice(at + 1);
  const name = repo.split('/').pop()?.toLowerCase();
  if (!name || !/^sha256:[0-9a-f]{64}$/.test(digest)) return undefined;
  try {
    return buildPurl({
      type: 'oci',
      name,
      version: digest,
      qualifiers: { repository_url: repo.toLowerCase(), arch: artifact.config?.architecture },
    });
  } catch {
    return undefined;
  }
}

function packageComponent(p: Package, ref: string): Json {
  const c: Json = { 'bom-ref': ref, type: 'library', name: p.name };
  if (p.version) c.version = p.version;
  const lic = cdxLicenses(p.licenses);
  if (lic) c.licenses = lic;
  if (p.purl) c.purl = p.purl;
  const props = packageProperties(p);
  if (props.length) c.properties = props;
  if (p.locations.length) {
    const seen = new Set<string>();
    const occ = p.locations
      .filter((l) => !seen.has(l.path) && seen.add(l.path))
      .map((l) => ({ location: l.path }));
    c.evidence = { occurrences: occ };
  }
  return c;
}

/** A CycloneDX 1.6 BOM (plain JSON object) for the catalog of one artifact. */
export function toCycloneDX(catalog: Catalog, artifact: ArtifactInfo, opts: WriteOptions = {}): Json {
  const tool: Json = { type: 'application', name: 'bulwark', group: 'bulwark' };
  if (opts.toolVersion) tool.version = opts.toolVersion;

  // bom-refs must be unique; catalog ids are, but guard against a duplicate rather than emit a bad BOM.
  const refOf = new Map<string, string>();
  const used = new Set<string>([ARTIFACT_REF]);
  const components: Json[] = [];
  const distro = catalog.distro;
  const osComponentRef = distro ? osRef(distro) : undefined;
  if (distro && osComponentRef) {
    used.add(osComponentRef);
    const os: Json = { 'bom-ref': osComponentRef, type: 'operating-system', name: distro.id };
    if (distro.versionId) os.version = distro.versionId;
    if (distro.prettyName) os.description = distro.prettyName;
    const props: Property[] = [];
    if (distro.versionCodename) props.push({ name: 'bulwark:os:codename', value: distro.versionCodename });
    if (distro.idLike?.length) props.push({ name: 'bulwark:os:idLike', value: distro.idLike.join(' ') });
    if (props.length) os.properties = props;
    components.push(os);
  }
  for (const p of catalog.packages) {
    let ref = p.id;
    for (let n = 2; used.has(ref); n++) ref = `${p.id}#${n}`;
    used.add(ref);
    if (!refOf.has(p.id)) refOf.set(p.id, ref);
    components.push(packageComponent(p, ref));
  }

  // Dependencies: artifact → OS and every non-OS package nothing else depends on; OS → its packages;
  // each package → its recorded direct dependencies.
  const dependedOn = new Set<string>();
  for (const p of catalog.packages) for (const d of p.dependsOn ?? []) dependedOn.add(d);
  const rootDeps: string[] = [];
  const osDeps: string[] = [];
  if (osComponentRef) rootDeps.push(osComponentRef);
  for (const p of catalog.packages) {
    const ref = refOf.get(p.id)!;
    if (isOsPackage(p) && osComponentRef) osDeps.push(ref);
    else if (!dependedOn.has(p.id)) rootDeps.push(ref);
  }
  const dependencies: Json[] = [{ ref: ARTIFACT_REF, dependsOn: uniq(rootDeps) }];
  if (osComponentRef) dependencies.push({ ref: osComponentRef, dependsOn: uniq(osDeps) });
  const listed = new Set<string>();
  for (const p of catalog.packages) {
    if (!p.dependsOn) continue;
    const ref = refOf.get(p.id)!;
    if (listed.has(ref)) continue;
    listed.add(ref);
    const deps = uniq(
      p.dependsOn.map((d) => refOf.get(d)).filter((r): r is string => r !== undefined && r !== ref),
    );
    dependencies.push({ ref, dependsOn: deps });
  }

  return {
    $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: `urn:uuid:${opts.uuid ?? randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: isoSeconds(opts.timestamp ?? new Date()),
      tools: { components: [tool] },
      component: artifactComponent(artifact),
    },
    components,
    dependencies,
  };
}

export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

// ---------------------------------------------------------------------------------------------
// Reader

const TRIVY = 'aquasecurity:trivy:';

/** A Catalog from a CycloneDX JSON BOM (spec 1.2–1.6). */
export function fromCycloneDX(bom: unknown, source = 'CycloneDX BOM'): SbomReadResult {
  if (!isObj(bom) || bom.bomFormat !== 'CycloneDX') {
    throw new BulwarkError(
      'PARSE',
      `${source}: not a CycloneDX JSON document (bomFormat is not "CycloneDX")`,
      { subject: source },
    );
  }
  const spec = String(bom.specVersion ?? '');
  if (!/^1\.[2-7]$/.test(spec)) {
    throw new BulwarkError(
      'UNSUPPORTED',
      `${source}: CycloneDX specVersion "${spec}" is not supported (1.2 to 1.7)`,
      { subject: source },
    );
  }
  const warnings: string[] = [];
  let distro: Distro | undefined;
  const pkgs: DraftPackage[] = [];
  const idOfRef = new Map<string, string>();
  const rawDeps = new Map<string, string[]>();

  const visit = (list: unknown, depth: number) => {
    if (!Array.isArray(list) || depth > 32) return;
    for (const c of list) {
      if (!isObj(c)) continue;
      const ref = typeof c['bom-ref'] === 'string' ? c['bom-ref'] : undefined;
      if (c.type === 'operating-system') {
        if (!distro && typeof c.name === 'string') {
          distro = { id: c.name.toLowerCase(), versionId: str(c.version) ?? '' };
          if (typeof c.description === 'string') distro.prettyName = c.description;
          for (const p of props(c.properties)) {
            if (p.name === 'bulwark:os:codename') distro.versionCodename = p.value;
            if (p.name === 'bulwark:os:idLike') distro.idLike = p.value.split(' ').filter(Boolean);
          }
        }
      } else {
        const d = componentToPackage(c, pkgs.length);
        if (d) {
          pkgs.push(d);
          if (ref) idOfRef.set(ref, d.pkg.id);
        }
      }
      visit(c.components, depth + 1);
    }
  };
  visit(bom.components, 0);

  for (const d of Array.isArray(bom.dependencies) ? bom.dependencies : []) {
    if (!isObj(d) || typeof d.ref !== 'string' || !Array.isArray(d.dependsOn)) continue;
    rawDeps.set(
      d.ref,
      d.dependsOn.filter((x): x is string => typeof x === 'string'),
    );
  }
  for (const [ref, deps] of rawDeps) {
    const id = idOfRef.get(ref);
    if (!id) continue;
    const p = pkgs.find((x) => x.pkg.id === id)?.pkg;
    if (p) p.dependsOn = deps.map((d) => idOfRef.get(d)).filter((x): x is string => x !== undefined);
  }

  const metaName =
    isObj(bom.metadata) && isObj(bom.metadata.component) ? str(bom.metadata.component.name) : undefined;
  return finishCatalog({
    format: 'cyclonedx',
    specVersion: spec,
    name: metaName,
    distro,
    packages: pkgs,
    warnings,
  });
}

function componentToPackage(c: Record<string, unknown>, n: number): DraftPackage | undefined {
  const purl = str(c.purl);
  const facts = purl ? factsFromPurl(purl) : undefined;
  const compName = str(c.name);
  // Components without a purl are groupings (lock files, applications) unless they are plain libraries.
  if (!facts && !(compName && (c.type === 'library' || c.type === 'framework'))) return undefined;
  const group = str(c.group);
  let name = preferredName(compName, facts);
  if (group && compName && !compName.startsWith(group))
    name = facts?.type === 'maven' ? `${group}:${compName}` : `${group}/${compName}`;
  const type = facts?.type ?? 'generic';
  const p: Package = {
    id: str(c['bom-ref']) ?? `${type}:${name}@${str(c.version) ?? ''}#${n}`,
    name,
    version: str(c.version) ?? facts?.version ?? '',
    type,
    ecosystem: '',
    purl: purl ?? '',
    licenses: readLicenses(c.licenses),
    locations: [],
    foundBy: 'sbom-cyclonedx',
  };
  if (facts?.arch) p.arch = facts.arch;
  if (facts?.upstream && facts.upstream.name !== name) p.sourceName = facts.upstream.name;
  if (facts?.upstream?.version && facts.upstream.version !== p.version)
    p.sourceVersion = facts.upstream.version;
  const ps = props(c.properties);
  // Other producers' conventions for the fields vulnerability matching needs (Trivy, Syft).
  for (const x of ps) {
    if (x.name === `${TRIVY}SrcName`) p.sourceName = x.value;
    if (x.name === `${TRIVY}SrcVersion`) p.sourceVersion = x.value;
    if (x.name === `${TRIVY}FilePath` || /^syft:location:\d+:path$/.test(x.name))
      p.locations.push({ path: x.value });
  }
  if (!p.locations.length && isObj(c.evidence) && Array.isArray(c.evidence.occurrences)) {
    for (const o of c.evidence.occurrences)
      if (isObj(o) && typeof o.location === 'string') p.locations.push({ path: o.location });
  }
  applyProperties(p, ps);
  return { pkg: p, purlDistro: facts?.distro };
}

function readLicenses(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  const out: string[] = [];
  for (const l of v) {
    if (!isObj(l)) continue;
    // an expression joining several declared licenses with AND reads back as those licenses
    if (typeof l.expression === 'string') out.push(...splitTopLevelAnd(l.expression));
    else if (isObj(l.license)) {
      const s = str(l.license.id) ?? str(l.license.name);
      if (s) out.push(s);
    }
  }
  return out;
}

function props(v: unknown): Property[] {
  if (!Array.isArray(v)) return [];
  return v.filter(
    (p): p is Property => isObj(p) && typeof p.name === 'string' && typeof p.value === 'string',
  );
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
