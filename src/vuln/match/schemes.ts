/**
 * Comparators for OSV range types in one ecosystem, from the version-scheme module:
 * ECOSYSTEM ranges use the ecosystem's scheme; SEMVER ranges use it too when it is a SemVer
 * family scheme (npm, Go, Cargo: they read their ecosystem's spellings such as Go's "v" prefix),
 * else the generic SemVer scheme. GIT ranges have no comparator.
 */
import { schemeFor, semverRangeScheme } from '../version/index.js';
import type { Compare } from './range.js';

const SEMVER_FAMILY = new Set(['npm', 'go', 'cargo', 'semver']);

export function comparatorFor(ecosystem: string): (rangeType: string) => { cmp: Compare } | undefined {
  const eco = schemeFor(ecosystem);
  return (rangeType) => {
    if (rangeType === 'ECOSYSTEM') return eco ? { cmp: eco.compare } : undefined;
    if (rangeType === 'SEMVER') {
      if (eco && SEMVER_FAMILY.has(eco.name)) return { cmp: eco.compare };
      return { cmp: semverRangeScheme.compare };
    }
    return undefined;
  };
}
