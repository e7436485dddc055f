/**
 * SPDX 2.x tag-value documents, converted into the JSON document shape so that one reader
 * (fromSPDX) interprets both. Only the fields the reader uses are carried over.
 */
import { BulwarkError } from '../core/errors.js';

type Json = Record<string, unknown>;

/** (tag, value) pairs; multi-line values are wrapped in <text>...</text>. */
function* tagValues(text: string, source: string): Generator<[string, string, number]> {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    const m = /^([A-Za-z][A-Za-z0-9]*):\s?(.*)$/.exec(line);
    if (!m) throw new BulwarkError('PARSE', `${source}:${i + 1}: expected "Tag: value"`, { subject: source });
    const start = i + 1;
    let value = m[2]!;
    if (value.trimStart().startsWith('<text>')) {
      value = value.trimStart().slice('<text>'.length);
      while (!value.includes('</text>')) {
        if (++i >= lines.length)
          throw new BulwarkError('PARSE', `${source}:${start}: <text> is never closed`, { subject: source });
        value += '\n' + lines[i];
      }
      value = value.slice(0, value.indexOf('</text>'));
    }
    yield [m[1]!, value.trim(), start];
  }
}

export function looksLikeTagValue(text: string): boolean {
  return /^\s*(#[^\n]*\n\s*)*SPDXVersion:\s*SPDX-/.test(text);
}

export function tagValueToJson(text: string, source = 'SPDX document'): Json {
  const doc: Json = { packages: [], relationships: [], hasExtractedLicensingInfos: [] };
  const packages = doc.packages as Json[];
  const relationships = doc.relationships as Json[];
  const licenses = doc.hasExtractedLicensingInfos as Json[];
  const bySpdxId = new Map<string, Json>();
  let section: 'doc' | 'package' | 'file' | 'snippet' | 'license' = 'doc';
  let pkg: Json | undefined;
  let lic: Json | undefined;
  let annotationTarget: string | undefined;
  let pendingAnnotation: string | undefined;

  for (const [tag, value, line] of tagValues(text, source)) {
    switch (tag) {
      case 'SPDXVersion':
        doc.spdxVersion = value;
        continue;
      case 'DocumentName':
        doc.name = value;
        continue;
      case 'DocumentNamespace':
        doc.documentNamespace = value;
        continue;
      case 'PackageName':
        section = 'package';
        pkg = { name: value, annotations: [] };
        packages.push(pkg);
        continue;
      case 'FileName':
        section = 'file';
        continue;
      case 'SnippetSPDXID':
        section = 'snippet';
        continue;
      case 'LicenseID':
        section = 'license';
        lic = { licenseId: value };
        licenses.push(lic);
        continue;
      case 'Relationship': {
        const m = /^(\S+)\s+(\S+)\s+(\S+)/.exec(value);
        if (!m)
          throw new BulwarkError('PARSE', `${source}:${line}: malformed Relationship "${value}"`, {
            subject: source,
          });
        relationships.push({ spdxElementId: m[1], relationshipType: m[2], relatedSpdxElement: m[3] });
        continue;
      }
      case 'SPDXREF':
        annotationTarget = value;
        if (pendingAnnotation !== undefined) attachAnnotation(bySpdxId, annotationTarget, pendingAnnotation);
        pendingAnnotation = undefined;
        continue;
      case 'AnnotationComment':
        // SPDXREF may come before or after the comment
        if (annotationTarget) attachAnnotation(bySpdxId, annotationTarget, value);
        else pendingAnnotation = value;
        annotationTarget = undefined;
        continue;
      case 'Annotator':
        annotationTarget = undefined;
        pendingAnnotation = undefined;
        continue;
    }
    if (section === 'doc' && tag === 'SPDXID') doc.SPDXID = value;
    if (section === 'package' && pkg) {
      switch (tag) {
        case 'SPDXID':
          pkg.SPDXID = value;
          bySpdxId.set(value, pkg);
          break;
        case 'PackageVersion':
          pkg.versionInfo = value;
          break;
        case 'PackageLicenseDeclared':
          pkg.licenseDeclared = value;
          break;
        case 'PackageSourceInfo':
          pkg.sourceInfo = value;
          break;
        case 'PrimaryPackagePurpose':
          pkg.primaryPackagePurpose = value;
          break;
        case 'PackageComment':
          pkg.comment = value;
          break;
        case 'ExternalRef': {
          const m = /^(\S+)\s+(\S+)\s+(\S+)/.exec(value);
          if (m)
            ((pkg.externalRefs ??= []) as Json[]).push({
              referenceCategory: m[1],
              referenceType: m[2],
              referenceLocator: m[3],
            });
          break;
        }
      }
    }
    if (section === 'license' && lic) {
      if (tag === 'ExtractedText') lic.extractedText = value;
      if (tag === 'LicenseName') lic.name = value;
    }
  }
  return doc;
}

function attachAnnotation(bySpdxId: Map<string, Json>, target: string, comment: string) {
  const p = bySpdxId.get(target);
  if (p) (p.annotations as Json[]).push({ comment });
}
