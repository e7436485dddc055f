/**
 * Rust cataloger: Cargo.lock files and binaries built with cargo-auditable (`.dep-v0` section).
 *
 * Crates from a registry or git get purl pkg:cargo/<name>@<version>. Local crates (path
 * dependencies, workspace members, the binary's own crate) are reported with an empty purl, as
 * syft does: a pkg:cargo purl would claim they are the crates.io crate of that name. Build-only
 * dependencies recorded by cargo-auditable (build scripts, proc macros) are not in the binary
 * and are left out.
 */
import { posix } from 'node:path';
import type { AnalysisRecord, AnalyzerFile, AnalyzeContext, FileEntry } from '../../core/analyzer.js';
import { buildPurl } from '../../core/purl.js';
import { GO_BINARY_MAX_BYTES, isCandidateBinary } from '../go/index.js';
import type { Cataloger, CatalogContext, PackageDraft } from '../types.js';
import { type AuditablePackage, readAuditableDeps } from './auditable.js';
import { type LockedCrate, parseCargoLock, sourceKind } from './cargo-lock.js';

export { parseCargoLock, sourceKind } from './cargo-lock.js';
export { parseAuditableJson, readAuditableDeps, readAuditableSection } from './auditable.js';
export type { CrateRef, LockedCrate } from './cargo-lock.js';
export type { AuditablePackage } from './auditable.js';

export type RustRecord =
  { kind: 'lock'; crates: LockedCrate[] } | { kind: 'binary'; packages: AuditablePackage[] };

export function cargoPurl(name: string, version: string, local: boolean): string {
  return local ? '' : buildPurl({ type: 'cargo', name, version });
}

function draft(
  name: string,
  version: string,
  local: boolean,
  foundBy: string,
  record: AnalysisRecord,
  extra: Partial<PackageDraft>,
): PackageDraft {
  return {
    name,
    version,
    type: 'cargo',
    ecosystem: 'crates.io',
    purl: cargoPurl(name, version, local),
    licenses: [],
    foundBy,
    record,
    ...extra,
  };
}

export const rustCataloger: Cataloger<RustRecord> = {
  name: 'rust',
  scope: 'final',
  maxBytes: GO_BINARY_MAX_BYTES,
  wants(entry: FileEntry): boolean {
    if (posix.basename(entry.path) === 'Cargo.lock') return entry.size <= 32 * 1024 * 1024;
    return isCandidateBinary(entry);
  },
  analyze(file: AnalyzerFile, ctx: AnalyzeContext): RustRecord | undefined {
    try {
      if (posix.basename(file.path) === 'Cargo.lock')
        return { kind: 'lock', crates: parseCargoLock(file.content.toString('utf8')) };
      const packages = readAuditableDeps(file.content);
      return packages ? { kind: 'binary', packages } : undefined;
    } catch (e) {
      const what =
        posix.basename(file.path) === 'Cargo.lock' ? 'Cargo.lock' : 'cargo-auditable data (.dep-v0)';
      ctx.warn(`cannot parse ${what}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  },
  finalize(records: AnalysisRecord<RustRecord>[], _ctx: CatalogContext): PackageDraft[] {
    const out: PackageDraft[] = [];
    for (const r of records) {
      const res = r.result;
      if (res.kind === 'lock') {
        for (const c of res.crates) {
          const kind = sourceKind(c.source);
          out.push(
            draft(c.name, c.version, kind === 'local', 'rust-cargo-lock', r, {
              dependsOn: c.deps.map((d) => ({ name: d.name, version: d.version })),
              metadata: { source: c.source ?? 'local', ...(c.checksum ? { checksum: c.checksum } : {}) },
            }),
          );
        }
        continue;
      }
      const pkgs = res.packages;
      for (const p of pkgs) {
        if (p.kind === 'build') continue;
        out.push(
          draft(p.name, p.version, p.source === 'local', 'rust-binary', r, {
            dependsOn: p.dependencies
              .map((i) => pkgs[i]!)
              .filter((d) => d.kind !== 'build')
              .map((d) => ({ name: d.name, version: d.version })),
            metadata: { source: p.source, ...(p.root ? { root: true } : {}) },
          }),
        );
      }
    }
    return out;
  },
};
