/** Human-readable outputs: the package table and the catalog as JSON. */
import type { ArtifactInfo } from '../core/analyzer.js';
import type { Catalog, Package } from '../core/types.js';

function whereFrom(p: Package): string {
  const l = p.locations[0];
  if (!l) return '';
  const more = p.locations.length > 1 ? ` (+${p.locations.length - 1})` : '';
  const layer = l.layerIndex !== undefined ? ` [layer ${l.layerIndex}]` : '';
  return `${l.path}${layer}${more}`;
}

/** A plain-text table: one line per package, sorted by type then name, with a header line. */
export function formatTable(catalog: Catalog, artifact: Pick<ArtifactInfo, 'name'>): string {
  const rows = [...catalog.packages]
    .sort(
      (a, b) =>
        a.type.localeCompare(b.type) || a.name.localeCompare(b.name) || a.version.localeCompare(b.version),
    )
    .map((p) => [p.name, p.version, p.type, whereFrom(p)]);
  const header = ['NAME', 'VERSION', 'TYPE', 'LOCATION'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const d = catalog.distro;
  const os = d ? `${d.prettyName ?? `${d.id} ${d.versionId}`}` : 'unknown OS';
  const title = `${artifact.name} (${os}): ${catalog.packages.length} package${catalog.packages.length === 1 ? '' : 's'}`;
  return [title, '', line(header), ...rows.map(line), ''].join('\n');
}

export interface CatalogJson {
  schemaVersion: 1;
  artifact: Omit<ArtifactInfo, 'config'> & { platform?: string };
  distro?: Catalog['distro'];
  packages: Omit<Package, 'files'>[];
  warnings: string[];
}

/**
 * The catalog as JSON with the artifact it describes. Package file lists (can be large) and the
 * image config (its Env may hold secrets) are left out.
 */
export function toCatalogJson(catalog: Catalog, artifact: ArtifactInfo): CatalogJson {
  const { config, ...rest } = artifact;
  const a: CatalogJson['artifact'] = { ...rest };
  if (config?.os || config?.architecture)
    a.platform = [config.os, config.architecture, config.variant].filter(Boolean).join('/');
  const out: CatalogJson = {
    schemaVersion: 1,
    artifact: a,
    packages: catalog.packages.map(({ files: _files, ...p }) => p),
    warnings: catalog.warnings,
  };
  if (catalog.distro) out.distro = catalog.distro;
  return out;
}
