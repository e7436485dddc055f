/**
 * Shared data model of Bulwark. Every module speaks these types; keep them small and stable.
 */

export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Rank for sorting and thresholds: CRITICAL=4 ... UNKNOWN=0. */
export function severityRank(s: Severity): number {
  return { CRITICAL: 4, HIGH: 3, MEDIUM: 2, LOW: 1, UNKNOWN: 0 }[s];
}

/** Parses a comma-separated severity list ("HIGH,CRITICAL"); throws on an unknown name. */
export function parseSeverityList(list: string): Severity[] {
  return list
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean)
    .map((s) => {
      if (!(SEVERITIES as readonly string[]).includes(s)) {
        throw new Error(`unknown severity "${s}" (expected one of ${SEVERITIES.join(', ')})`);
      }
      return s as Severity;
    });
}

/** One layer of an image, bottom (index 0) to top. */
export interface LayerRef {
  index: number;
  /** Digest of the blob as stored (compressed), e.g. sha256:..., when known. */
  digest?: string;
  /** Digest of the uncompressed tar (rootfs.diff_ids entry), when known. */
  diffId?: string;
  /** The history entry's created_by, when known. */
  createdBy?: string;
  size?: number;
  mediaType?: string;
}

/**
 * Where something was found. `path` is absolute inside the artifact ("/usr/lib/os-release") for
 * images and root filesystems, or relative to the scanned directory for project directories.
 */
export interface Location {
  path: string;
  /** Layer that last wrote the file (images only): its diffId, or digest if diffId is unknown. */
  layer?: string;
  layerIndex?: number;
  /** 1-based line numbers in the file, when the finding has a position. */
  line?: number;
  endLine?: number;
  column?: number;
  /** Field path inside a structured resource: spec.template.spec.containers[0].securityContext */
  fieldPath?: string;
}

export interface Distro {
  /** os-release ID: debian, ubuntu, alpine, rhel, rocky, amzn, ... */
  id: string;
  /** os-release VERSION_ID: "12", "3.19.1", "22.04" */
  versionId: string;
  versionCodename?: string;
  prettyName?: string;
  idLike?: string[];
}

/**
 * Package types, named as in the purl spec: https://github.com/package-url/purl-spec
 * deb, apk, rpm, npm, pypi, golang, maven, gem, cargo, composer, nuget, generic.
 */
export type PackageType =
  | 'deb'
  | 'apk'
  | 'rpm'
  | 'npm'
  | 'pypi'
  | 'golang'
  | 'maven'
  | 'gem'
  | 'cargo'
  | 'composer'
  | 'nuget'
  | 'generic';

export interface Package {
  /** Stable identifier within one catalog (used for relationships): e.g. "deb:libc6@2.36-9+deb12u4#0". */
  id: string;
  name: string;
  version: string;
  type: PackageType;
  /**
   * OSV ecosystem name used for advisory matching: "Debian:12", "Alpine:v3.19", "npm", "PyPI", "Go",
   * "Maven", "RubyGems", "crates.io", "Packagist", "NuGet". Empty when unknown.
   */
  ecosystem: string;
  purl: string;
  /** SPDX license ids or expressions as declared by the package; free text if not an SPDX id. */
  licenses: string[];
  locations: Location[];
  /** Cataloger that found it ("dpkg", "npm-lock", "python-installed", ...). */
  foundBy: string;
  /** OS packages: source package name and version when they differ from the binary's. */
  sourceName?: string;
  sourceVersion?: string;
  arch?: string;
  /** Language packages: the id of the OS package that owns the file where it was found. */
  ownedBy?: string;
  /** Direct dependencies (package ids in the same catalog), where the ecosystem records them. */
  dependsOn?: string[];
  /** Development-only dependency (lock files that say so). */
  dev?: boolean;
  /** OS packages: files they install (absolute paths), used to decide ownership; not serialized in SBOMs. */
  files?: string[];
  /** Free-form, ecosystem specific extras (checksums, maintainer, origin...). */
  metadata?: Record<string, unknown>;
}

/** The result of cataloging one artifact. */
export interface Catalog {
  distro?: Distro;
  packages: Package[];
  warnings: string[];
}

export type FindingKind = 'vulnerability' | 'secret' | 'misconfig' | 'license' | 'malware';

export interface ComplianceRef {
  framework: string;
  control: string;
}

/** Common fields of every finding. Kind-specific payloads extend it. */
export interface FindingBase {
  kind: FindingKind;
  /** The rule's or advisory's own id (CVE-2023-1234, GHSA-..., KSV-001, aws-access-key-id). */
  id: string;
  title: string;
  severity: Severity;
  location: Location;
  description?: string;
  references?: string[];
  compliance?: ComplianceRef[];
}

/** Kinds of things a target can be: an image, a filesystem directory, an SBOM file, manifests. */
export type TargetKind = 'image' | 'fs' | 'rootfs' | 'sbom' | 'config' | 'cluster';

/** Runtime/structured resource a misconfiguration points to (Kubernetes object, Dockerfile...). */
export interface ResourceRef {
  kind: string;
  name?: string;
  namespace?: string;
  apiVersion?: string;
  file?: string;
}
