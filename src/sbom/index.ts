/**
 * SBOMs: CycloneDX 1.6 and SPDX 2.3 JSON writers, readers for CycloneDX (1.2–1.6 JSON) and SPDX
 * (2.2/2.3 JSON and tag-value), and the table / json views of a catalog.
 */
import { open } from 'node:fs/promises';
import type { ArtifactInfo } from '../core/analyzer.js';
import { BulwarkError } from '../core/errors.js';
import type { Catalog } from '../core/types.js';
import { fromCycloneDX, toCycloneDX, type WriteOptions } from './cyclonedx.js';
import { fromSPDX, toSPDX } from './spdx.js';
import { looksLikeTagValue, tagValueToJson } from './spdx-tv.js';
import { formatTable, toCatalogJson } from './table.js';
import type { SbomReadResult } from './read-common.js';

export { toCycloneDX, fromCycloneDX, type WriteOptions } from './cyclonedx.js';
export { toSPDX, fromSPDX } from './spdx.js';
export { formatTable, toCatalogJson, type CatalogJson } from './table.js';
export { classifyLicense, type LicenseClass } from './licenses.js';
export { factsFromPurl, type PurlFacts } from './model.js';
export type { SbomReadResult, SbomFormatName } from './read-common.js';

/** Output formats of `bulwark sbom`. "spdx" and "spdx-json" are the same (SPDX 2.3 JSON). */
export const SBOM_FORMATS = ['table', 'json', 'cyclonedx', 'spdx', 'spdx-json'] as const;
export type SbomOutputFormat = (typeof SBOM_FORMATS)[number];

/** The catalog of one artifact rendered in the given format (text ending with a newline). */
export function renderSbom(
  format: SbomOutputFormat,
  catalog: Catalog,
  artifact: ArtifactInfo,
  opts: WriteOptions = {},
): string {
  switch (format) {
    case 'table':
      return formatTable(catalog, artifact);
    case 'json':
      return JSON.stringify(toCatalogJson(catalog, artifact), null, 2) + '\n';
    case 'cyclonedx':
      return JSON.stringify(toCycloneDX(catalog, artifact, opts), null, 2) + '\n';
    case 'spdx':
    case 'spdx-json':
      return JSON.stringify(toSPDX(catalog, artifact, opts), null, 2) + '\n';
  }
}

/** Reads an SBOM (CycloneDX JSON, SPDX JSON or SPDX tag-value), detecting the format. */
export function readSbom(text: string, source = 'SBOM'): SbomReadResult {
  const body = text.replace(/^\uFEFF/, '');
  if (looksLikeTagValue(body)) return fromSPDX(tagValueToJson(body, source), source);
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (e) {
    const xml = body.trimStart().startsWith('<');
    throw new BulwarkError(
      'PARSE',
      xml
        ? `${source}: XML SBOMs are not supported; use CycloneDX JSON or SPDX JSON/tag-value`
        : `${source}: not valid JSON (${(e as Error).message}) and not SPDX tag-value`,
      { subject: source },
    );
  }
  if (typeof doc === 'object' && doc !== null) {
    const o = doc as Record<string, unknown>;
    if (o.bomFormat === 'CycloneDX') return fromCycloneDX(doc, source);
    if (typeof o.spdxVersion === 'string') return fromSPDX(doc, source);
  }
  throw new BulwarkError(
    'PARSE',
    `${source}: neither a CycloneDX BOM (bomFormat) nor an SPDX document (spdxVersion)`,
    { subject: source },
  );
}

/** Largest SBOM file read (they are parsed whole: JSON documents cannot be consumed in pieces). */
export const MAX_SBOM_BYTES = 256 * 1024 * 1024;

export async function readSbomFile(path: string, maxBytes = MAX_SBOM_BYTES): Promise<SbomReadResult> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BulwarkError(
      code === 'ENOENT' ? 'NOT_FOUND' : 'PARSE',
      `${path}: cannot read SBOM (${code ?? (e as Error).message})`,
      {
        subject: path,
      },
    );
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new BulwarkError('PARSE', `${path}: not a regular file`, { subject: path });
    if (st.size > maxBytes)
      throw new BulwarkError('LIMIT', `${path}: SBOM is ${st.size} bytes, more than the ${maxBytes} limit`, {
        subject: path,
      });
    const text = await fh.readFile('utf8');
    return readSbom(text, path);
  } finally {
    await fh.close();
  }
}
