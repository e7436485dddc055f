/**
 * Operating-system detection: which distribution (and release) an artifact is. Reads os-release
 * (/etc first, then /usr/lib, as the os-release(5) spec says) and, when it is absent, the older
 * release files: lsb-release, debian_version, alpine-release, redhat-release (and its siblings).
 *
 * The analyzer only parses the small files it is given; `detectDistro` decides from the records of
 * the final filesystem. OSV ecosystem names for OS packages are derived from the detected distro.
 */
import type { AnalysisRecord, FileAnalyzer } from '../../core/analyzer.js';
import type { Distro, PackageType } from '../../core/types.js';

export const OS_ANALYZER_NAME = 'os-release';

/** Files that identify the distribution, in order of preference. */
const OS_FILES = [
  '/etc/os-release',
  '/usr/lib/os-release',
  '/etc/lsb-release',
  '/etc/alpine-release',
  '/etc/debian_version',
  '/etc/redhat-release',
  '/etc/centos-release',
  '/etc/rocky-release',
  '/etc/almalinux-release',
  '/etc/fedora-release',
  '/etc/system-release',
] as const;

export interface OsFileResult {
  /** key=value pairs (os-release, lsb-release) or the first line of a one-line release file. */
  fields?: Record<string, string>;
  line?: string;
}

/** Parses an os-release style file (shell-like KEY=value lines, values optionally quoted). */
export function parseKeyValueFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\(["$`\\])/g, '$1');
    }
    out[key] = value;
  }
  return out;
}

export const osReleaseAnalyzer: FileAnalyzer<OsFileResult> = {
  name: OS_ANALYZER_NAME,
  scope: 'final',
  maxBytes: 64 * 1024,
  wants: (e) => (OS_FILES as readonly string[]).includes(e.path),
  analyze(file) {
    const text = file.content.toString('utf8');
    if (file.path.endsWith('os-release') || file.path.endsWith('lsb-release')) {
      return { fields: parseKeyValueFile(text) };
    }
    const line = text.split(/\r?\n/, 1)[0]?.trim();
    return line ? { line } : undefined;
  },
};

function fromOsRelease(f: Record<string, string>): Distro | undefined {
  const id = f.ID?.toLowerCase();
  if (!id) return undefined;
  const d: Distro = { id, versionId: f.VERSION_ID ?? '' };
  if (f.VERSION_CODENAME) d.versionCodename = f.VERSION_CODENAME;
  if (f.PRETTY_NAME) d.prettyName = f.PRETTY_NAME;
  if (f.ID_LIKE) d.idLike = f.ID_LIKE.split(/\s+/).filter(Boolean);
  // Debian testing/sid has no VERSION_ID; the codename still tells the release apart.
  return d;
}

function fromLsbRelease(f: Record<string, string>): Distro | undefined {
  const id = f.DISTRIB_ID?.toLowerCase();
  if (!id) return undefined;
  const d: Distro = { id, versionId: f.DISTRIB_RELEASE ?? '' };
  if (f.DISTRIB_CODENAME) d.versionCodename = f.DISTRIB_CODENAME;
  if (f.DISTRIB_DESCRIPTION) d.prettyName = f.DISTRIB_DESCRIPTION;
  return d;
}

/** "Rocky Linux release 9.3 (Blue Onyx)" and friends. */
function fromRedhatRelease(line: string): Distro | undefined {
  const m = /^(.*?)\s+release\s+([0-9][0-9.]*)/i.exec(line);
  if (!m) return undefined;
  const name = m[1]!.toLowerCase();
  const id = name.includes('red hat')
    ? 'rhel'
    : name.includes('centos')
      ? 'centos'
      : name.includes('rocky')
        ? 'rocky'
        : name.includes('alma')
          ? 'almalinux'
          : name.includes('fedora')
            ? 'fedora'
            : name.includes('amazon')
              ? 'amzn'
              : name.includes('oracle')
                ? 'ol'
                : undefined;
  return id ? { id, versionId: m[2]!, prettyName: line } : undefined;
}

/**
 * Decides the distribution from the os-release analyzer's records (final filesystem). Returns
 * undefined when nothing identifies it (scratch and distroless images without os-release: the
 * catalog may still infer it from packages, see buildCatalog).
 */
export function detectDistro(records: AnalysisRecord<OsFileResult>[]): Distro | undefined {
  const byPath = new Map(records.map((r) => [r.path, r.result]));
  for (const p of ['/etc/os-release', '/usr/lib/os-release']) {
    const f = byPath.get(p)?.fields;
    const d = f && fromOsRelease(f);
    if (d) return d;
  }
  const lsb = byPath.get('/etc/lsb-release')?.fields;
  const fromLsb = lsb && fromLsbRelease(lsb);
  if (fromLsb) return fromLsb;
  const alpine = byPath.get('/etc/alpine-release')?.line;
  if (alpine && /^\d/.test(alpine)) return { id: 'alpine', versionId: alpine };
  for (const p of [
    '/etc/redhat-release',
    '/etc/rocky-release',
    '/etc/almalinux-release',
    '/etc/centos-release',
    '/etc/fedora-release',
    '/etc/system-release',
  ]) {
    const line = byPath.get(p)?.line;
    const d = line && fromRedhatRelease(line);
    if (d) return d;
  }
  const debian = byPath.get('/etc/debian_version')?.line;
  if (debian) {
    // "12.5" on a release; "trixie/sid" on testing/unstable.
    const m = /^(\d+)/.exec(debian);
    return m
      ? { id: 'debian', versionId: m[1]! }
      : { id: 'debian', versionId: '', versionCodename: debian.split('/')[0] };
  }
  return undefined;
}

/**
 * Debian's base-files version carries the release ("12.4+deb12u5"): the fallback for distroless
 * images that have a dpkg database but no os-release.
 */
export function distroFromBaseFiles(version: string): Distro | undefined {
  const m = /^(\d+)(\.\d+)*(\+deb\d+u\d+)?$/.exec(version);
  return m ? { id: 'debian', versionId: m[1]! } : undefined;
}

/** Ubuntu LTS releases are the even years' April releases (22.04, 24.04...). */
function isUbuntuLts(versionId: string): boolean {
  const m = /^(\d+)\.04$/.exec(versionId);
  return m !== null && Number(m[1]) % 2 === 0;
}

function majorMinor(v: string): string {
  return v.split('.').slice(0, 2).join('.');
}

function major(v: string): string {
  return v.split('.')[0] ?? '';
}

/**
 * The OSV ecosystem of an OS package type on a distro ("Debian:12", "Ubuntu:22.04:LTS",
 * "Alpine:v3.19", "Red Hat", "Rocky Linux:9"...); '' when there is no OSV ecosystem for it.
 */
export function osEcosystem(type: PackageType, distro: Distro | undefined): string {
  if (!distro) return '';
  const id = distro.id;
  const v = distro.versionId;
  switch (type) {
    case 'deb':
      if (id === 'debian') return v ? `Debian:${major(v)}` : 'Debian';
      if (id === 'ubuntu') return v ? `Ubuntu:${v}${isUbuntuLts(v) ? ':LTS' : ''}` : 'Ubuntu';
      return '';
    case 'apk':
      if (id === 'alpine') {
        if (!v) return 'Alpine';
        return /_alpha|_beta|_rc/.test(v) ? 'Alpine:edge' : `Alpine:v${majorMinor(v)}`;
      }
      if (id === 'wolfi') return 'Wolfi';
      if (id === 'chainguard') return 'Chainguard';
      return '';
    case 'rpm':
      if (id === 'rhel') return 'Red Hat';
      if (id === 'rocky') return v ? `Rocky Linux:${major(v)}` : 'Rocky Linux';
      if (id === 'almalinux') return v ? `AlmaLinux:${major(v)}` : 'AlmaLinux';
      return '';
    default:
      return '';
  }
}

/** The purl `distro` qualifier: "debian-12", "alpine-3.19.1", "rhel-9.3". */
export function purlDistro(distro: Distro | undefined): string | undefined {
  if (!distro) return undefined;
  return distro.versionId
    ? `${distro.id}-${distro.versionId}`
    : distro.versionCodename
      ? `${distro.id}-${distro.versionCodename}`
      : distro.id;
}
