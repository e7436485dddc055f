/**
 * Package cataloging: the public API of src/catalog.
 *
 *   const result = await analyzeTarget(target, catalogAnalyzers(), opts); // one pass over the artifact
 *   const catalog = buildCatalog(result);                                  // packages + distro
 *
 * or `catalogTarget(target, opts)` for both. Catalogers are plugins listed in registry.ts.
 */
import type { AnalysisResult, FileAnalyzer } from '../core/analyzer.js';
import type { Catalog } from '../core/types.js';
import { analyzeTarget } from '../image/index.js';
import { buildCatalog as build } from './build.js';
import { osReleaseAnalyzer } from './os/index.js';
import { CATALOGERS } from './registry.js';
import type { Cataloger } from './types.js';

export type { Cataloger, CatalogContext, PackageDraft } from './types.js';
export { CATALOGERS } from './registry.js';
export { ecosystemFor } from './build.js';
export { detectDistro, osEcosystem, purlDistro, parseKeyValueFile, OS_ANALYZER_NAME } from './os/index.js';

/** Every registered cataloger plus the OS-release analyzer, for the image walker. */
export function catalogAnalyzers(catalogers: readonly Cataloger[] = CATALOGERS): FileAnalyzer[] {
  return [...catalogers, osReleaseAnalyzer] as FileAnalyzer[];
}

/**
 * Builds the catalog (distro, packages with ids, locations, ecosystems, dependencies, ownership)
 * from an analysis run with catalogAnalyzers().
 */
export function buildCatalog(result: AnalysisResult, catalogers: readonly Cataloger[] = CATALOGERS): Catalog {
  return build(result, catalogers);
}

/** Options of catalogTarget: those of the image walker (credentials, platform, limits, kind). */
export type CatalogTargetOptions = NonNullable<Parameters<typeof analyzeTarget>[2]>;

/** Analyzes a target (image reference, oci:, docker-archive:, dir:) and catalogs it. */
export async function catalogTarget(target: string, opts: CatalogTargetOptions = {}): Promise<Catalog> {
  return buildCatalog(await analyzeTarget(target, catalogAnalyzers(), opts));
}
