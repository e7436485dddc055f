/**
 * The plug-in point of `bulwark scan`: every scanner (vuln, secret, misconfig, license) has this
 * shape. Its file analyzers join the ONE pass over the artifact (together with the catalogers);
 * after the pass it turns its analyzers' records (and the package catalog) into report sections.
 *
 * A scanner module exports `scanner: Scanner` from its index.ts; the CLI loads it by name
 * (src/cli/scan.ts, SCANNER_MODULES).
 */
import type { AnalysisResult, FileAnalyzer } from '../core/analyzer.js';
import type { ScanResult } from '../core/findings.js';
import type { Catalog, TargetKind } from '../core/types.js';

export interface ScannerContext {
  /** The single-pass analysis (absent for SBOM targets, which have packages only). */
  analysis?: AnalysisResult;
  /** Packages of the target (empty catalog when no cataloging was done). */
  catalog: Catalog;
  targetKind: TargetKind;
  warn(msg: string): void;
  /** Scanner-specific options from the command line (e.g. includeOsOwned for vuln). */
  options: Record<string, unknown>;
}

export interface Scanner {
  /** Name used with --scanners: "vuln", "secret", "misconfig", "license". */
  name: string;
  /** File analyzers to run in the shared pass (may be empty). */
  analyzers(options: Record<string, unknown>): FileAnalyzer[];
  /** Does this scanner need the package catalog? (Then cataloging runs even if vuln is off.) */
  needsCatalog?: boolean;
  results(ctx: ScannerContext): ScanResult[] | Promise<ScanResult[]>;
}
