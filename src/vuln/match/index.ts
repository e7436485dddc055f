export {
  matchCatalog,
  matchPackage,
  mergeAliases,
  compareIds,
  compareFindings,
  packageEcosystem,
  type AdvisorySource,
  type MatchOptions,
  type MatchStats,
} from './matcher.js';
export { inRange, evaluateAffected, type Compare, type AffectedResult } from './range.js';
export { severityOf, severityFromWord, cvssScores, type SeverityResult } from './severity.js';
export { comparatorFor } from './schemes.js';
