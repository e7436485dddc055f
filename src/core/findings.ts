/**
 * Findings of every kind and the scan report that carries them. The JSON output of `bulwark scan`
 * is this structure; other parts (server, CI upload, admission) rely on it.
 */
import type { ArtifactInfo } from './analyzer.js';
import type { Distro, FindingBase, Package, ResourceRef, Severity, TargetKind } from './types.js';

export type VulnStatus =
  'fixed' | 'affected' | 'will_not_fix' | 'fix_deferred' | 'end_of_life' | 'under_investigation' | 'unknown';

export interface CvssScore {
  version: '2.0' | '3.0' | '3.1' | '4.0';
  vector: string;
  score: number;
  /** Who rated it: "nvd", "ghsa", "debian", the OSV record's source... */
  source?: string;
}

export interface VulnerabilityFinding extends FindingBase {
  kind: 'vulnerability';
  aliases: string[];
  cvss: CvssScore[];
  package: {
    name: string;
    version: string;
    purl: string;
    ecosystem: string;
    /** OS packages: the source package the advisory is keyed by. */
    sourceName?: string;
    sourceVersion?: string;
    /** Id of the package in the catalog. */
    id?: string;
  };
  fixedVersions: string[];
  status: VulnStatus;
  /** Distro urgency or similar rating kept verbatim ("unimportant", "low"...). */
  urgency?: string;
  /** Where the severity came from: "cvss:3.1", "cvss:4.0", "source:debian", "ghsa"... */
  severitySource?: string;
  /**
   * The alias whose own record gave the severity, when the matching advisory had none (a GO- or
   * PYSEC- advisory rated by its GHSA or CVE record in the DB).
   */
  severityFrom?: string;
  publishedAt?: string;
  modifiedAt?: string;
  /** Set when an ignore file or VEX statement suppressed the finding (kept only with --show-suppressed). */
  suppressed?: { by: 'ignorefile' | 'vex'; reason?: string; statement?: string };
}

export interface SecretFinding extends FindingBase {
  kind: 'secret';
  /** Rule category: "AWS", "GitHub", "PrivateKey", "Generic"... */
  category: string;
  /** The matched line with the secret masked (never the secret itself). */
  match: string;
  /** Where it was found beyond the path: "layer", "image-config:env", "image-config:history". */
  source?: string;
}

export interface MisconfigFinding extends FindingBase {
  kind: 'misconfig';
  /** Check type: "kubernetes", "dockerfile", "compose", "image-config", "rbac". */
  type: string;
  resource?: ResourceRef;
  remediation?: string;
  /** pass results are reported only when asked for (--include-non-failures). */
  status: 'fail' | 'pass';
  message?: string;
}

export interface LicenseFinding extends FindingBase {
  kind: 'license';
  license: string;
  category: string;
  package?: { name: string; version: string; purl: string };
}

export interface MalwareFinding extends FindingBase {
  kind: 'malware';
  /** What matched: a YARA rule, a ClamAV hash signature (.hdb/.hsb) or body signature (.ndb). */
  engine: 'yara' | 'clamav-hash' | 'clamav-body';
  /** "webshell", "test" (EICAR), "trojan"...: the rule's category or ClamAV name's second part. */
  category: string;
  /** The rule file that holds the rule: "policies/malware/webshells.yar" or a user's path. */
  ruleFile: string;
  /**
   * Images: whether this version of the file is still in the final filesystem ("present"), was
   * removed by a whiteout or opaque directory of a later layer ("deleted"), or replaced by a later
   * layer's file at the same path ("replaced"). Either way it is in the image's layer blobs.
   */
  fileState: 'present' | 'deleted' | 'replaced';
  /** SHA-256 of the file's content, for lookups elsewhere. */
  sha256: string;
  /** Offset of the (first) match in the file, for body signatures and YARA patterns. */
  offset?: number;
}

export type Finding =
  VulnerabilityFinding | SecretFinding | MisconfigFinding | LicenseFinding | MalwareFinding;

/** One section of a report: an OS package set, a lock file, a manifest, a file with secrets. */
export interface ScanResult {
  /** Human label: "debian 12 (dpkg)", "/app/package-lock.json", "deploy/web.yaml". */
  target: string;
  class: 'os-pkgs' | 'lang-pkgs' | 'secret' | 'config' | 'license' | 'malware';
  /** Ecosystem or file type: "debian", "npm", "kubernetes", "dockerfile". */
  type?: string;
  packages?: Package[];
  findings: Finding[];
}

export interface ScanReport {
  schemaVersion: 1;
  createdAt: string;
  tool: { name: 'bulwark'; version: string };
  artifact: Pick<ArtifactInfo, 'name' | 'digest' | 'imageId' | 'repoTags' | 'repoDigests' | 'layers'> & {
    kind: TargetKind;
    os?: Distro;
  };
  results: ScanResult[];
  warnings?: string[];
}

/** Counts of findings per severity, for summaries and exit codes. */
export function countBySeverity(findings: Iterable<Finding>): Record<Severity, number> {
  const c: Record<Severity, number> = { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 };
  for (const f of findings) c[f.severity]++;
  return c;
}
