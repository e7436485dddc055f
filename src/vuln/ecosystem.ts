/**
 * OSV ecosystem names and package-name normalisation, so that a catalog's package and an
 * advisory's `affected.package` meet under the same key.
 */

/** "Debian:12" → "Debian"; "Ubuntu:22.04:LTS" → "Ubuntu"; "npm" → "npm". */
export function ecosystemBase(ecosystem: string): string {
  const i = ecosystem.indexOf(':');
  return i < 0 ? ecosystem : ecosystem.slice(0, i);
}

/** The release part of a distro ecosystem ("Debian:12" → "12"), or undefined. */
export function ecosystemRelease(ecosystem: string): string | undefined {
  const i = ecosystem.indexOf(':');
  return i < 0 ? undefined : ecosystem.slice(i + 1);
}

/**
 * Package name as compared for a given ecosystem base:
 * - PyPI: PEP 503 (lower case, runs of "-", "_", "." become "-")
 * - npm: lower case (the registry refuses new mixed-case names; old ones compare case-insensitively)
 * - Go: module paths are case-sensitive; only a trailing "/" is dropped
 * - Packagist, NuGet, RubyGems? NuGet and Packagist are case-insensitive; others kept as is.
 */
export function normalizePackageName(base: string, name: string): string {
  switch (base) {
    case 'PyPI':
      return name.toLowerCase().replace(/[-_.]+/g, '-');
    case 'npm':
    case 'NuGet':
    case 'Packagist':
      return name.toLowerCase();
    case 'Go':
      return name.replace(/\/+$/, '');
    default:
      return name;
  }
}

/** OSV ecosystem base names whose records `bulwark db update` fetches by default. */
export const DEFAULT_UPDATE_ECOSYSTEMS = [
  'Alpine',
  'crates.io',
  'Debian',
  'Go',
  'Maven',
  'npm',
  'NuGet',
  'Packagist',
  'PyPI',
  'RubyGems',
  'Ubuntu',
] as const;

/** OSV ecosystem for a distro as the catalog reports it (os-release id and VERSION_ID). */
export function distroEcosystem(id: string, versionId: string): string | undefined {
  switch (id) {
    case 'debian': {
      const major = versionId.split('.')[0];
      return major ? `Debian:${major}` : undefined;
    }
    case 'ubuntu':
      return versionId ? `Ubuntu:${versionId}` : undefined;
    case 'alpine': {
      const m = /^(\d+)\.(\d+)/.exec(versionId);
      return m ? `Alpine:v${m[1]}.${m[2]}` : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Does an advisory's `affected.package.ecosystem` apply to a package's ecosystem? Bases must be
 * equal; a release in the advisory ("Debian:12", "Ubuntu:22.04:LTS") must equal the package's
 * release (Ubuntu's ":LTS"/":Pro" qualifiers are ignored). An advisory without a release applies to
 * every release.
 */
export function ecosystemApplies(packageEcosystem: string, advisoryEcosystem: string): boolean {
  if (ecosystemBase(packageEcosystem) !== ecosystemBase(advisoryEcosystem)) return false;
  const adv = ecosystemRelease(advisoryEcosystem);
  if (adv === undefined) return true;
  const pkg = ecosystemRelease(packageEcosystem);
  if (pkg === undefined) return false;
  return adv.split(':')[0] === pkg.split(':')[0];
}
