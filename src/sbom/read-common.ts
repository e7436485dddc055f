/** What the SBOM readers share: turning read packages into a consistent Catalog. */
import type { Catalog, Distro, Package } from '../core/types.js';
import { ecosystemFor, isOsPackage } from './model.js';

export type SbomFormatName = 'cyclonedx' | 'spdx';

export interface SbomReadResult {
  format: SbomFormatName;
  /** "1.6", "SPDX-2.3"... as the document says. */
  specVersion: string;
  /** What the document describes (its root component / package), when it says. */
  name?: string;
  catalog: Catalog;
}

export interface DraftPackage {
  pkg: Package;
  /** Distro named by the package's purl `distro` qualifier. */
  purlDistro?: Distro;
}

export function finishCatalog(d: {
  format: SbomFormatName;
  specVersion: string;
  name?: string;
  distro?: Distro;
  packages: DraftPackage[];
  warnings: string[];
}): SbomReadResult {
  const distro =
    d.distro ?? d.packages.find((x) => isOsPackage(x.pkg) && x.purlDistro?.versionId)?.purlDistro;
  const seen = new Set<string>();
  const packages: Package[] = [];
  for (const { pkg, purlDistro } of d.packages) {
    if (!pkg.name) {
      d.warnings.push(`skipped a package without a name (${pkg.purl || pkg.id})`);
      continue;
    }
    if (!pkg.ecosystem) pkg.ecosystem = ecosystemFor(pkg.type, purlDistro?.versionId ? purlDistro : distro);
    // ids must be unique within a catalog (they key relationships)
    let id = pkg.id;
    for (let n = 2; seen.has(id); n++) id = `${pkg.id}#${n}`;
    seen.add(id);
    pkg.id = id;
    packages.push(pkg);
  }
  const catalog: Catalog = { packages, warnings: d.warnings };
  if (distro) catalog.distro = distro;
  return { format: d.format, specVersion: d.specVersion, name: d.name, catalog };
}
