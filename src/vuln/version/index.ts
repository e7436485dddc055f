/**
 * Version schemes: one module per scheme, all implementing VersionScheme, registered here and
 * looked up by OSV ecosystem name.
 */
import { apk } from './apk.js';
import { composer } from './composer.js';
import { dpkg } from './dpkg.js';
import { maven } from './maven.js';
import { nuget } from './nuget.js';
import { pep440 } from './pep440.js';
import { rpm } from './rpm.js';
import { rubygems } from './rubygems.js';
import { cargo, go, npm, semver } from './semver.js';
import type { VersionScheme } from './types.js';

export type { VersionScheme } from './types.js';

/** Every scheme by its name. */
export const schemes: Record<string, VersionScheme> = {
  dpkg,
  apk,
  rpm,
  npm,
  go,
  cargo,
  semver,
  pep440,
  maven,
  rubygems,
  composer,
  nuget,
};

/**
 * OSV ecosystem (the part before the first ":", so "Debian:12", "Alpine:v3.19" and
 * "Ubuntu:22.04:LTS" resolve like "Debian", "Alpine", "Ubuntu") to its scheme.
 */
const BY_ECOSYSTEM: Record<string, VersionScheme> = {
  Debian: dpkg,
  Ubuntu: dpkg,
  Alpine: apk,
  Chainguard: apk,
  Wolfi: apk,
  Alpaquita: apk,
  'BellSoft Hardened Containers': apk,
  'Red Hat': rpm,
  'Rocky Linux': rpm,
  AlmaLinux: rpm,
  openSUSE: rpm,
  SUSE: rpm,
  'SUSE Linux Enterprise': rpm,
  Mageia: rpm,
  openEuler: rpm,
  'Azure Linux': rpm,
  'CBL-Mariner': rpm,
  'Photon OS': rpm,
  'Amazon Linux': rpm,
  'Oracle Linux': rpm,
  Fedora: rpm,
  CentOS: rpm,
  npm,
  Go: go,
  'crates.io': cargo,
  PyPI: pep440,
  Maven: maven,
  RubyGems: rubygems,
  Packagist: composer,
  NuGet: nuget,
  Pub: semver,
  Hex: semver,
  SwiftURL: semver,
};

const BY_ECOSYSTEM_LOWER: Record<string, VersionScheme> = Object.fromEntries(
  Object.entries(BY_ECOSYSTEM).map(([k, v]) => [k.toLowerCase(), v]),
);

/** The scheme for an OSV ecosystem name, or undefined when Bulwark has none for it. */
export function schemeFor(ecosystem: string): VersionScheme | undefined {
  const base = ecosystem.split(':')[0]!.trim();
  return BY_ECOSYSTEM[base] ?? BY_ECOSYSTEM_LOWER[base.toLowerCase()];
}

/** The scheme for an OSV range of type SEMVER (whatever the ecosystem). */
export const semverRangeScheme: VersionScheme = semver;
