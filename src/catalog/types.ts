/**
 * The shape every cataloger plugin has (one folder per ecosystem under src/catalog/<name>/).
 * A cataloger is a file analyzer (it says which files it wants and parses each one in the single
 * pass over the artifact) plus a finalize step that turns the per-file results of the final
 * filesystem into packages (joining files where an ecosystem needs several, e.g. dpkg status +
 * info/*.list).
 */
import type { AnalysisRecord, FileAnalyzer, FileIndex } from '../core/analyzer.js';
import type { Distro, Package } from '../core/types.js';

export interface CatalogContext {
  distro?: Distro;
  files: FileIndex;
  warn(msg: string): void;
}

/** A package as a cataloger reports it; ids, locations and layers are filled in by the catalog. */
export type PackageDraft = Omit<Package, 'id' | 'locations' | 'dependsOn'> & {
  /** Extra locations besides the record's own file (e.g. the lock file and the installed copy). */
  locations?: Package['locations'];
  /** Direct dependencies by name (and version, when the ecosystem pins it), resolved to ids later. */
  dependsOn?: { name: string; version?: string }[];
  /** Set by finalize when it built this draft from a specific record (to attach path and layer). */
  record?: AnalysisRecord;
};

export interface Cataloger<R = unknown> extends FileAnalyzer<R> {
  scope: 'final';
  /** Turn the records of the final filesystem into packages. */
  finalize(records: AnalysisRecord<R>[], ctx: CatalogContext): PackageDraft[];
}
