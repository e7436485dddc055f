/**
 * Vulnerability module: the OSV advisory database, the matcher and the `vuln` scanner plug-in.
 * Version schemes (./version) and CVSS (./cvss) have their own index files.
 */
export * from './db/index.js';
export * from './match/index.js';
export {
  parseOsvRecord,
  parseOsvJson,
  type OsvRecord,
  type OsvAffected,
  type OsvRange,
  type OsvEvent,
  type OsvSeverity,
} from './osv.js';
export {
  ecosystemBase,
  ecosystemRelease,
  ecosystemApplies,
  normalizePackageName,
  distroEcosystem,
  DEFAULT_UPDATE_ECOSYSTEMS,
} from './ecosystem.js';
export { createVulnScanner, groupResults, type VulnScannerOptions } from './scanner.js';
