/**
 * SPDX 2.3 JSON: writer (Catalog + ArtifactInfo → document) and reader (SPDX 2.2/2.3 JSON, and
 * tag-value through ./spdx-tv.ts → Catalog).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { ArtifactInfo } from '../core/analyzer.js';
import { BulwarkError } from '../core/errors.js';
import type { Catalog, Distro, Package } from '../core/types.js';
import { isoSeconds, type WriteOptions } from './cyclonedx.js';
import { classifyLicense, licenseRefFor, parenthesize, splitTopLevelAnd, stripParens } from './licenses.js';
import {
  applyProperties,
  factsFromPurl,
  isOsPackage,
  packageProperties,
  preferredName,
  PROP,
  type Property,
} from './model.js';
import { finishCatalog, type DraftPackage, type SbomReadResult } from './read-common.js';

type Json = Record<string, unknown>;

const NOASSERTION = 'NOASSERTION';
export const DOCUMENT_ID = 'SPDXRef-DOCUMENT';

/** SPDX element id for a catalog package: readable prefix plus a hash of the (unique) catalog id. */
export function spdxIdFor(p: Pick<Package, 'id' | 'type' | 'name'>): string {
  const h = createHash('sha256').update(p.id).digest('hex').slice(0, 16);
  const name = p.name
    .replace(/[^A-Za-z0-9.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return `SPDXRef-Package-${p.type}-${name ? name + '-' : ''}${h}`;
}

/** licenseDeclared plus the extracted-licensing entries that free-text licenses need. */
function declaredLicense(licenses: string[], extracted: Map<string, string>): string {
  const uniq = [...new Set(licenses.map((l) => l.trim()).filter(Boolean))];
  if (!uniq.length) return NOASSERTION;
  const parts = uniq.map((l) => {
    const c = classifyLicense(l);
    if (c.kind === 'id') return c.id;
    if (c.kind === 'expression') return c.expression;
    // Free text is not an SPDX expression: refer to it as LicenseRef-* and ship the text once.
    let ref = licenseRefFor(c.name);
    for (let n = 2; extracted.has(ref) && extracted.get(ref) !== c.name; n++)
      ref = `${licenseRefFor(c.name)}-${n}`;
    extracted.set(ref, c.name);
    return ref;
  });
  const joined = [...new Set(parts.map(parenthesize))];
  return joined.length === 1 ? stripParens(joined[0]!) : joined.join(' AND ');
}

function sanitizeForUri(s: string): string {
  return (
    s
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 100) || 'artifact'
  );
}

/** An SPDX 2.3 document (plain JSON object) for the catalog of one artifact. */
export function toSPDX(catalog: Catalog, artifact: ArtifactInfo, opts: WriteOptions = {}): Json {
  const created = isoSeconds(opts.timestamp ?? new Date());
  const tool = opts.toolVersion ? `bulwark-${opts.toolVersion}` : 'bulwark';
  const annotator = `Tool: ${tool}`;
  const extracted = new Map<string, string>();
  const annotate = (ps: Property[]) =>
    ps.map((x) => ({
      annotationDate: created,
      annotationType: 'OTHER',
      annotator,
      comment: `${x.name}=${x.value}`,
    }));

  const rootId = `SPDXRef-${artifact.kind === 'image' ? 'ContainerImage' : 'Filesystem'}-${createHash('sha256').update(artifact.name).digest('hex').slice(0, 16)}`;
  const root: Json = {
    SPDXID: rootId,
    name: artifact.name,
    downloadLocation: NOASSERTION,
    filesAnalyzed: false,
    primaryPackagePurpose: artifact.kind === 'image' ? 'CONTAINER' : 'SOURCE',
  };
  if (artifact.digest) root.versionInfo = artifact.digest;
  const rootProps: Property[] = [{ name: 'bulwark:artifact:kind', value: artifact.kind }];
  if (artifact.imageId) rootProps.push({ name: 'bulwark:image:id', value: artifact.imageId });
  for (const t of artifact.repoTags ?? []) rootProps.push({ name: 'bulwark:image:tag', value: t });
  for (const d of artifact.repoDigests ?? []) rootProps.push({ name: 'bulwark:image:repoDigest', value: d });
  root.annotations = annotate(rootProps);

  const packages: Json[] = [root];
  const relationships: Json[] = [
    { spdxElementId: DOCUMENT_ID, relationshipType: 'DESCRIBES', relatedSpdxElement: rootId },
  ];
  const rel = (a: string, type: string, b: string) =>
    relationships.push({ spdxElementId: a, relationshipType: type, relatedSpdxElement: b });

  let osId: string | undefined;
  const distro = catalog.distro;
  if (distro) {
    osId = `SPDXRef-OperatingSystem-${createHash('sha256').update(`${distro.id}@${distro.versionId}`).digest('hex').slice(0, 16)}`;
    const os: Json = {
      SPDXID: osId,
      name: distro.id,
      downloadLocation: NOASSERTION,
      filesAnalyzed: false,
      primaryPackagePurpose: 'OPERATING-SYSTEM',
    };
    if (distro.versionId) os.versionInfo = distro.versionId;
    if (distro.prettyName) os.description = distro.prettyName;
    const osProps: Property[] = [];
    if (distro.versionCodename) osProps.push({ name: 'bulwark:os:codename', value: distro.versionCodename });
    if (distro.idLike?.length) osProps.push({ name: 'bulwark:os:idLike', value: distro.idLike.join(' ') });
    if (osProps.length) os.annotations = annotate(osProps);
    packages.push(os);
    rel(rootId, 'CONTAINS', osId);
  }

  const idOf = new Map<string, string>();
  const used = new Set<string>([rootId, ...(osId ? [osId] : [])]);
  for (const p of catalog.packages) {
    let sid = spdxIdFor(p);
    for (let n = 2; used.has(sid); n++) sid = `${spdxIdFor(p)}-${n}`;
    used.add(sid);
    if (!idOf.has(p.id)) idOf.set(p.id, sid);
    const sp: Json = {
      SPDXID: sid,
      name: p.name,
      downloadLocation: NOASSERTION,
      filesAnalyzed: false,
      // Concluding a license needs human review; Bulwark only reports what the package declares.
      licenseConcluded: NOASSERTION,
      licenseDeclared: declaredLicense(p.licenses, extracted),
      copyrightText: NOASSERTION,
      primaryPackagePurpose: 'LIBRARY',
    };
    if (p.version) sp.versionInfo = p.version;
    if (p.sourceName || p.sourceVersion) {
      sp.sourceInfo = `built package from: ${p.sourceName ?? p.name} ${p.sourceVersion ?? p.version}`;
    }
    if (p.purl)
      sp.externalRefs = [
        { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p.purl },
      ];
    sp.annotations = annotate([{ name: PROP.id, value: p.id }, ...packageProperties(p)]);
    packages.push(sp);
    rel(isOsPackage(p) && osId ? osId : rootId, 'CONTAINS', sid);
  }
  for (const p of catalog.packages) {
    const from = idOf.get(p.id)!;
    for (const d of new Set(p.dependsOn ?? [])) {
      const to = idOf.get(d);
      if (to && to !== from) rel(from, 'DEPENDS_ON', to);
    }
  }

  const doc: Json = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: DOCUMENT_ID,
    name: artifact.name,
    documentNamespace: `https://spdx.org/spdxdocs/bulwark-${artifact.kind}-${sanitizeForUri(artifact.name)}-${opts.uuid ?? randomUUID()}`,
    creationInfo: { created, creators: [`Tool: ${tool}`] },
    packages,
    relationships,
  };
  if (extracted.size) {
    doc.hasExtractedLicensingInfos = [...extracted].map(([licenseId, text]) => ({
      licenseId,
      extractedText: text,
      name: text,
    }));
  }
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Reader

/** A Catalog from an SPDX 2.2/2.3 JSON document. */
export function fromSPDX(doc: unknown, source = 'SPDX document'): SbomReadResult {
  if (!isObj(doc) || typeof doc.spdxVersion !== 'string') {
    throw new BulwarkError('PARSE', `${source}: not an SPDX JSON document (no spdxVersion)`, {
      subject: source,
    });
  }
  const spec = doc.spdxVersion;
  if (!/^SPDX-2\.[0-3]$/.test(spec)) {
    throw new BulwarkError('UNSUPPORTED', `${source}: ${spec} is not supported (SPDX-2.2 or SPDX-2.3)`, {
      subject: source,
    });
  }
  const warnings: string[] = [];
  const extractedText = new Map<string, string>();
  for (const e of arr(doc.hasExtractedLicensingInfos)) {
    if (isObj(e) && typeof e.licenseId === 'string')
      extractedText.set(e.licenseId, str(e.extractedText) ?? str(e.name) ?? e.licenseId);
  }
  const rels = arr(doc.relationships).filter(isObj);
  const described = new Set<string>(
    arr(doc.documentDescribes).filter((x): x is string => typeof x === 'string'),
  );
  for (const r of rels)
    if (r.spdxElementId === DOCUMENT_ID && r.relationshipType === 'DESCRIBES')
      described.add(String(r.relatedSpdxElement));

  let distro: Distro | undefined;
  let name: string | undefined;
  const drafts: DraftPackage[] = [];
  const idOfSpdx = new Map<string, string>();
  for (const sp of arr(doc.packages)) {
    if (!isObj(sp) || typeof sp.SPDXID !== 'string') continue;
    const purpose = str(sp.primaryPackagePurpose);
    const purl = arr(sp.externalRefs)
      .filter(isObj)
      .find(
        (r) => r.referenceType === 'purl' && /^PACKAGE[-_]MANAGER$/.test(String(r.referenceCategory)),
      )?.referenceLocator;
    const facts = typeof purl === 'string' ? factsFromPurl(purl) : undefined;
    if (purpose === 'OPERATING-SYSTEM') {
      if (!distro && typeof sp.name === 'string') {
        distro = { id: sp.name.toLowerCase(), versionId: str(sp.versionInfo) ?? '' };
        if (typeof sp.description === 'string') distro.prettyName = sp.description;
        for (const { name: k, value } of bulwarkAnnotations(sp)) {
          if (k === 'bulwark:os:codename') distro.versionCodename = value;
          if (k === 'bulwark:os:idLike') distro.idLike = value.split(' ').filter(Boolean);
        }
      }
      continue;
    }
    const isImage = typeof purl === 'string' && /^pkg:(oci|docker)\//.test(purl);
    if (purpose === 'CONTAINER' || isImage || (described.has(sp.SPDXID) && !facts)) {
      name ??= str(sp.name);
      continue;
    }
    if (!facts && !str(sp.name)) continue;
    const type = facts?.type ?? 'generic';
    const pkg: Package = {
      id: sp.SPDXID,
      name: preferredName(str(sp.name), facts),
      version: str(sp.versionInfo) ?? facts?.version ?? '',
      type,
      ecosystem: '',
      purl: typeof purl === 'string' ? purl : '',
      licenses: readDeclared(str(sp.licenseDeclared), extractedText),
      locations: [],
      foundBy: 'sbom-spdx',
    };
    if (facts?.arch) pkg.arch = facts.arch;
    // Source package: the purl's upstream qualifier (Syft) or "built package from: NAME VERSION" (Trivy, us).
    const src = /^built package from:\s*(\S+)(?:\s+(\S+))?/.exec(str(sp.sourceInfo) ?? '');
    const srcName = src?.[1] ?? facts?.upstream?.name;
    const srcVersion = src?.[2] ?? facts?.upstream?.version;
    if (srcName && srcName !== pkg.name) pkg.sourceName = srcName;
    if (srcVersion && srcVersion !== pkg.version) pkg.sourceVersion = srcVersion;
    applyProperties(pkg, bulwarkAnnotations(sp));
    idOfSpdx.set(sp.SPDXID, pkg.id);
    drafts.push({ pkg, purlDistro: facts?.distro });
  }
  const byId = new Map(drafts.map((d) => [d.pkg.id, d.pkg]));
  const addDep = (fromSpdx: string, toSpdx: string) => {
    const a = byId.get(idOfSpdx.get(fromSpdx) ?? '');
    const b = idOfSpdx.get(toSpdx);
    if (!a || !b || a.id === b) return;
    a.dependsOn ??= [];
    if (!a.dependsOn.includes(b)) a.dependsOn.push(b);
  };
  for (const r of rels) {
    const a = String(r.spdxElementId);
    const b = String(r.relatedSpdxElement);
    if (r.relationshipType === 'DEPENDS_ON') addDep(a, b);
    else if (r.relationshipType === 'DEPENDENCY_OF') addDep(b, a);
  }
  name ??= str(doc.name);
  return finishCatalog({ format: 'spdx', specVersion: spec, name, distro, packages: drafts, warnings });
}

/** Our name=value annotations on an SPDX element. */
function bulwarkAnnotations(el: Record<string, unknown>): Property[] {
  const props: Property[] = [];
  for (const a of arr(el.annotations)) {
    if (!isObj(a) || typeof a.comment !== 'string') continue;
    const m = /^(bulwark:[\w:.-]+)=([\s\S]*)$/.exec(a.comment);
    if (m) props.push({ name: m[1]!, value: m[2]! });
  }
  return props;
}

function readDeclared(v: string | undefined, extracted: Map<string, string>): string[] {
  if (!v || v === NOASSERTION || v === 'NONE') return [];
  return splitTopLevelAnd(v).map((part) => extracted.get(part) ?? part);
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
