/**
 * Identifies the Maven packages in one Java archive and, recursively, in the archives it contains
 * (WEB-INF/lib/*.jar in a war, BOOT-INF/lib/*.jar in a Spring Boot jar, modules of an ear...).
 *
 * Evidence, strongest first (the `confidence` recorded on every package):
 *  1. pom.properties under META-INF/maven/<group>/<artifact>/ — what Maven itself wrote; a shaded
 *     jar has several, and each is reported.
 *  2. pom.xml under META-INF/maven/ when no pom.properties exists — coordinates with ${...}
 *     resolved from the pom itself only.
 *  3. MANIFEST.MF (Implementation-/Bundle-/Jenkins plugin attributes) for the archive itself.
 *  4. The file name ("name-1.2.3.jar"), last resort.
 * The archive's own identity is the pom whose artifactId matches the file name or manifest (or the
 * only pom, when its version matches theirs); otherwise the archive gets a package from 3/4 and the
 * poms it carries are reported beside it (a fat jar with its dependencies' pom.properties).
 */
import { posix } from 'node:path';
import { interpolate, parseManifest, parsePomXml, parseProperties, type PomProject } from './metadata.js';
import { readZipEntries, type InflateBudget, type ZipLimits } from './zip.js';

export type JavaConfidence = 'pom.properties' | 'pom.xml' | 'manifest' | 'filename';

export interface JavaPackage {
  groupId: string;
  artifactId: string;
  version: string;
  /** The group id was not recorded anywhere; the artifact id stands in for it (as syft does). */
  groupGuessed?: boolean;
  licenses: string[];
  confidence: JavaConfidence;
  /** Archive path chain: "/app.ear:lib/x.war:WEB-INF/lib/y.jar" (just the file path at the top). */
  virtualPath: string;
  /** Direct (non-test, non-optional) dependencies declared in the embedded pom.xml, when versions are literal. */
  dependsOn?: { name: string; version?: string }[];
}

/** Extensions of zip-based Java archives (Jenkins .hpi/.jpi, JBoss .sar/.par, NiFi .nar, Karaf .kar...). */
export const JAVA_ARCHIVE_EXTENSIONS = [
  '.jar',
  '.war',
  '.ear',
  '.jpi',
  '.hpi',
  '.par',
  '.sar',
  '.nar',
  '.kar',
  '.rar',
  '.lpkg',
  '.zap',
];

export function isJavaArchiveName(name: string): boolean {
  const lower = name.toLowerCase();
  return JAVA_ARCHIVE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

export interface ArchiveLimits extends ZipLimits {
  /** Nesting levels below the scanned file that are opened (ear → war → jar is 2). */
  maxDepth: number;
  /** Total bytes inflated for one scanned file and everything inside it. */
  maxTotalBytes: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxDepth: 4,
  maxEntryBytes: 64 * 1024 * 1024,
  maxRatio: 100,
  ratioFloorBytes: 1024 * 1024,
  maxEntries: 100_000,
  maxTotalBytes: 512 * 1024 * 1024,
};

/** The JDK finds the manifest whatever the case of its name. */
const isManifest = (name: string) => name.toUpperCase() === 'META-INF/MANIFEST.MF';

const MAVEN_DIR = /^META-INF\/maven\/([^/]+)\/([^/]+)\/(pom\.properties|pom\.xml)$/;

/** "commons-lang3-3.12.0.jar" → {name: "commons-lang3", version: "3.12.0"}; "gradle.hpi" → {name: "gradle"}. */
export function parseArchiveFileName(fileName: string): { name: string; base: string; version?: string } {
  const base = posix.basename(fileName).replace(/\.[^.]+$/, '');
  const m = /^(.+?)[-_](\d[^-_]*(?:[-_.].*)?)$/.exec(base);
  if (m) return { name: m[1]!, base, version: m[2]! };
  return { name: base, base };
}

function firstToken(v: string | undefined): string | undefined {
  const t = v?.trim().split(/\s+/)[0];
  return t ? t : undefined;
}

/** Bundle-SymbolicName may carry directives: "org.foo.bar;singleton:=true". */
function symbolicName(manifest: Map<string, string>): string | undefined {
  return manifest.get('bundle-symbolicname')?.split(';')[0]?.trim() || undefined;
}

interface Found {
  dir: string;
  props?: Map<string, string>;
  pom?: PomProject;
}

export async function scanArchive(
  content: Buffer,
  virtualPath: string,
  depth: number,
  limits: ArchiveLimits,
  budget: InflateBudget,
  warn: (msg: string) => void,
): Promise<JavaPackage[]> {
  let manifest = new Map<string, string>();
  const maven = new Map<string, Found>();
  const packages: JavaPackage[] = [];
  const prefixWarn = (m: string) => warn(`${virtualPath}: ${m}`);

  await readZipEntries(
    content,
    (e) => {
      if (isManifest(e.name) || MAVEN_DIR.test(e.name)) return true;
      if (!isJavaArchiveName(e.name)) return false;
      if (depth < limits.maxDepth) return true;
      prefixWarn(`${e.name}: not opened, nested deeper than ${limits.maxDepth} archives`);
      return false;
    },
    async (e, data) => {
      if (isManifest(e.name)) {
        manifest = parseManifest(data.toString('utf8'));
        return;
      }
      const m = MAVEN_DIR.exec(e.name);
      if (m) {
        const dir = `${m[1]}/${m[2]}`;
        const f = maven.get(dir) ?? { dir };
        maven.set(dir, f);
        if (m[3] === 'pom.properties') f.props = parseProperties(data.toString('utf8'));
        else {
          try {
            f.pom = parsePomXml(data.toString('utf8'));
          } catch (err) {
            prefixWarn(`${e.name}: cannot parse: ${(err as Error).message}`);
          }
        }
        return;
      }
      // Nested archive: scanned right away so its buffer can be dropped before the next one.
      packages.push(...(await scanNested(data, `${virtualPath}:${e.name}`, depth + 1, limits, budget, warn)));
    },
    limits,
    budget,
    prefixWarn,
  );

  // the scanned file's own name, or the entry name of a nested archive ("...:WEB-INF/lib/x.jar")
  const fromFile = parseArchiveFileName(
    depth === 0 ? virtualPath : virtualPath.slice(virtualPath.lastIndexOf(':') + 1),
  );
  const poms: JavaPackage[] = [];
  for (const f of maven.values()) {
    const p = fromMavenDir(f, virtualPath);
    if (
      p &&
      !poms.some((q) => q.groupId === p.groupId && q.artifactId === p.artifactId && q.version === p.version)
    )
      poms.push(p);
  }

  const own = ownPackage(poms, fromFile, manifest);
  const self = own ? undefined : fromManifest(manifest, fromFile, virtualPath);
  return [...(self ? [self] : []), ...poms, ...packages];
}

async function scanNested(
  data: Buffer,
  virtualPath: string,
  depth: number,
  limits: ArchiveLimits,
  budget: InflateBudget,
  warn: (msg: string) => void,
): Promise<JavaPackage[]> {
  try {
    return await scanArchive(data, virtualPath, depth, limits, budget, warn);
  } catch (e) {
    warn(`${virtualPath}: not a readable zip archive: ${(e as Error).message}`);
    return [];
  }
}

function fromMavenDir(f: Found, virtualPath: string): JavaPackage | undefined {
  const licenses = (f.pom?.licenses ?? []).map((l) => l.name ?? l.url).filter((x): x is string => Boolean(x));
  const dependsOn = f.pom ? pomDependencies(f.pom) : undefined;
  if (f.props) {
    const groupId = f.props.get('groupId');
    const artifactId = f.props.get('artifactId');
    const version = f.props.get('version');
    if (groupId && artifactId && version) {
      return { groupId, artifactId, version, licenses, confidence: 'pom.properties', virtualPath, dependsOn };
    }
  }
  if (f.pom) {
    const groupId = interpolate(f.pom.groupId ?? f.pom.parent?.groupId, f.pom);
    const artifactId = interpolate(f.pom.artifactId, f.pom);
    const version = interpolate(f.pom.version ?? f.pom.parent?.version, f.pom);
    if (groupId && artifactId && version) {
      return { groupId, artifactId, version, licenses, confidence: 'pom.xml', virtualPath, dependsOn };
    }
  }
  return undefined;
}

/** Runtime dependencies with versions the pom states itself (managed versions need the parent chain). */
function pomDependencies(pom: PomProject): { name: string; version?: string }[] {
  const out: { name: string; version?: string }[] = [];
  for (const d of pom.dependencies) {
    if (d.optional || d.scope === 'test' || d.scope === 'provided' || d.scope === 'system') continue;
    const g = interpolate(d.groupId, pom);
    const a = interpolate(d.artifactId, pom);
    if (!g || !a) continue;
    out.push({ name: `${g}:${a}`, version: interpolate(d.version, pom) });
  }
  return out;
}

/** Names compared loosely: Debian and others rename jars ("geronimo-interceptor-3.0-spec" for "geronimo-interceptor_3.0_spec"). */
const loose = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Common Maven classifiers and assembly suffixes that follow the artifactId in a file name. */
const CLASSIFIER =
  /[-_](shaded|all|uber|standalone|(jar-)?with-dependencies|sources|javadoc|tests|no[-_]aop|bin|exec)$/i;

function ownPackage(
  poms: JavaPackage[],
  fromFile: { name: string; base: string; version?: string },
  manifest: Map<string, string>,
): JavaPackage | undefined {
  const names = new Set(
    [
      fromFile.name,
      fromFile.name.replace(CLASSIFIER, ''),
      fromFile.base,
      manifest.get('implementation-title'),
      manifest.get('short-name'),
      manifest.get('extension-name'),
    ]
      .filter((x): x is string => Boolean(x))
      .map(loose),
  );
  const sym = symbolicName(manifest)?.toLowerCase();
  const byName = poms.find(
    (p) =>
      names.has(loose(p.artifactId)) ||
      (sym !== undefined &&
        (sym === `${p.groupId}.${p.artifactId}`.toLowerCase() ||
          sym.endsWith(`.${p.artifactId.toLowerCase()}`))),
  );
  if (byName) return byName;
  // Otherwise the one pom whose version is the archive's version (from its name or manifest).
  const versions = new Set(
    [fromFile.version, manifestVersion(manifest), firstToken(manifest.get('bundle-version'))].filter(Boolean),
  );
  const byVersion = poms.filter((p) => versions.has(p.version));
  if (byVersion.length === 1) return byVersion[0];
  // A single pom and nothing in the archive that says otherwise.
  if (poms.length === 1 && versions.size === 0) return poms[0];
  return undefined;
}

function manifestVersion(m: Map<string, string>): string | undefined {
  return firstToken(
    m.get('implementation-version') ??
      m.get('plugin-version') ??
      m.get('bundle-version') ??
      m.get('specification-version'),
  );
}

function fromManifest(
  manifest: Map<string, string>,
  fromFile: { name: string; version?: string },
  virtualPath: string,
): JavaPackage | undefined {
  const sym = symbolicName(manifest);
  const title = manifest.get('implementation-title');
  const artifactId =
    fromFile.name ||
    manifest.get('short-name') ||
    manifest.get('extension-name') ||
    (title && !/\s/.test(title) ? title : undefined) ||
    sym;
  if (!artifactId) return undefined;
  const mv = manifestVersion(manifest);
  const version = mv ?? fromFile.version;
  if (!version) return undefined;
  let groupId = manifest.get('group-id') || manifest.get('implementation-vendor-id');
  if (!groupId && sym && sym.toLowerCase().endsWith(`.${artifactId.toLowerCase()}`))
    groupId = sym.slice(0, sym.length - artifactId.length - 1);
  const bundleLicense = manifest.get('bundle-license');
  return {
    groupId: groupId || artifactId,
    artifactId,
    version,
    ...(groupId ? {} : { groupGuessed: true }),
    licenses: bundleLicense
      ? bundleLicense
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
    confidence: mv ? 'manifest' : 'filename',
    virtualPath,
  };
}
