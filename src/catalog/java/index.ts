/**
 * Java cataloger: zip-based Java archives (jar, war, ear, Jenkins hpi/jpi, ...), including the
 * archives nested inside them, and gradle.lockfile. purl: pkg:maven/groupId/artifactId@version.
 * See archive.ts for how packages are identified and docs/catalog-languages-2.md for the limits.
 */
import { posix } from 'node:path';
import { buildPurl } from '../../core/purl.js';
import type { AnalysisRecord } from '../../core/analyzer.js';
import type { Cataloger, PackageDraft } from '../types.js';
import {
  DEFAULT_ARCHIVE_LIMITS,
  isJavaArchiveName,
  scanArchive,
  type ArchiveLimits,
  type JavaPackage,
} from './archive.js';
import { parseGradleLockfile, type GradleLockEntry } from './gradle.js';
import { readPomFile, type PomFile } from './pom-file.js';

export {
  parseArchiveFileName,
  type JavaPackage,
  type ArchiveLimits,
  DEFAULT_ARCHIVE_LIMITS,
} from './archive.js';
export { parseManifest, parseProperties, parsePomXml } from './metadata.js';
export { parseGradleLockfile } from './gradle.js';

export type JavaRecord =
  | { kind: 'archive'; packages: JavaPackage[] }
  | { kind: 'gradle-lock'; entries: GradleLockEntry[] }
  | { kind: 'pom'; pom: PomFile };

/** Maven scopes that are not part of the running application. */
const DEV_SCOPES = new Set(['test']);

/** A Java cataloger with its own limits (tests use small ones; the default is DEFAULT_ARCHIVE_LIMITS). */
export function createJavaCataloger(limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Cataloger<JavaRecord> {
  return {
    name: 'java',
    scope: 'final',
    // The top-level archive is handed over whole; what it contains is inflated within `limits`.
    maxBytes: 256 * 1024 * 1024,
    wants: (e) =>
      isJavaArchiveName(e.path) || ['gradle.lockfile', 'pom.xml'].includes(posix.basename(e.path)),
    async analyze(file, ctx) {
      if (posix.basename(file.path) === 'pom.xml') {
        try {
          return { kind: 'pom', pom: readPomFile(file.content.toString('utf8')) };
        } catch (e) {
          ctx.warn(`${file.path}: cannot parse pom.xml: ${(e as Error).message}`);
          return undefined;
        }
      }
      if (posix.basename(file.path) === 'gradle.lockfile') {
        return { kind: 'gradle-lock', entries: parseGradleLockfile(file.content.toString('utf8')) };
      }
      // ".rar" is also WinRAR's extension; only a zip (a JCA resource adapter) is ours to read.
      if (
        file.path.toLowerCase().endsWith('.rar') &&
        (file.content.length < 4 || file.content.readUInt32LE(0) !== 0x04034b50)
      )
        return undefined;
      try {
        const budget = { remaining: limits.maxTotalBytes };
        const packages = await scanArchive(file.content, file.path, 0, limits, budget, ctx.warn);
        return { kind: 'archive', packages };
      } catch (e) {
        ctx.warn(`${file.path}: not a readable zip archive: ${(e as Error).message}`);
        return undefined;
      }
    },
    finalize(records: AnalysisRecord<JavaRecord>[]) {
      const drafts: PackageDraft[] = [];
      for (const record of records) {
        const r = record.result;
        if (r.kind === 'gradle-lock') {
          for (const e of r.entries) {
            const dev = e.configurations.length > 0 && e.configurations.every((c) => /^test/i.test(c));
            drafts.push({
              ...mavenIdentity(e.groupId, e.artifactId, e.version),
              licenses: [],
              foundBy: 'java-gradle-lockfile',
              ...(dev ? { dev: true } : {}),
              metadata: { configurations: e.configurations },
              record,
            });
          }
          continue;
        }
        if (r.kind === 'pom') {
          const { project, dependencies } = r.pom;
          if (project) {
            drafts.push({
              ...mavenIdentity(project.groupId, project.artifactId, project.version),
              licenses: project.licenses,
              foundBy: 'java-pom',
              dependsOn: dependencies
                .filter((d) => !DEV_SCOPES.has(d.scope ?? ''))
                .map((d) => ({ name: `${d.groupId}:${d.artifactId}`, version: d.version })),
              metadata: { confidence: 'pom.xml' },
              record,
            });
          }
          for (const d of dependencies) {
            drafts.push({
              ...mavenIdentity(d.groupId, d.artifactId, d.version),
              licenses: [],
              foundBy: 'java-pom',
              ...(DEV_SCOPES.has(d.scope ?? '') ? { dev: true } : {}),
              metadata: { confidence: 'pom.xml', ...(d.scope ? { scope: d.scope } : {}) },
              record,
            });
          }
          continue;
        }
        for (const p of r.packages) {
          const metadata: Record<string, unknown> = { confidence: p.confidence };
          if (p.virtualPath !== record.path) metadata.virtualPath = p.virtualPath;
          if (p.groupGuessed) metadata.groupGuessed = true;
          drafts.push({
            ...mavenIdentity(p.groupId, p.artifactId, p.version),
            licenses: p.licenses,
            foundBy: 'java-archive',
            ...(p.dependsOn?.length ? { dependsOn: p.dependsOn } : {}),
            metadata,
            record,
          });
        }
      }
      return drafts;
    },
  };
}

/** Maven packages are named "groupId:artifactId" (as OSV's Maven ecosystem names them). */
function mavenIdentity(groupId: string, artifactId: string, version: string) {
  return {
    name: `${groupId}:${artifactId}`,
    version,
    type: 'maven' as const,
    ecosystem: 'Maven',
    purl: buildPurl({ type: 'maven', namespace: groupId, name: artifactId, version }),
  };
}

export const javaCataloger = createJavaCataloger();
