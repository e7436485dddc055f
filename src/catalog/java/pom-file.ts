/**
 * A project's pom.xml on disk (a source tree or a build image): the project itself and the
 * dependencies it declares with versions the pom can state on its own (literal or ${property} of
 * this pom). Versions managed by a parent pom or BOM would need the parent chain (usually not in
 * the artifact, and never fetched): such dependencies are left out rather than guessed.
 */
import { interpolate, parsePomXml } from './metadata.js';

export interface PomCoordinates {
  groupId: string;
  artifactId: string;
  version: string;
  scope?: string;
}

export interface PomFile {
  project?: PomCoordinates & { licenses: string[] };
  dependencies: PomCoordinates[];
}

export function readPomFile(text: string): PomFile {
  const pom = parsePomXml(text);
  const groupId = interpolate(pom.groupId ?? pom.parent?.groupId, pom);
  const artifactId = interpolate(pom.artifactId, pom);
  const version = interpolate(pom.version ?? pom.parent?.version, pom);
  const dependencies: PomCoordinates[] = [];
  for (const d of pom.dependencies) {
    const g = interpolate(d.groupId, pom);
    const a = interpolate(d.artifactId, pom);
    const v = interpolate(d.version, pom);
    if (!g || !a || !v) continue;
    if (dependencies.some((x) => x.groupId === g && x.artifactId === a && x.version === v)) continue;
    dependencies.push({ groupId: g, artifactId: a, version: v, ...(d.scope ? { scope: d.scope } : {}) });
  }
  return {
    ...(groupId && artifactId && version
      ? {
          project: {
            groupId,
            artifactId,
            version,
            licenses: pom.licenses.map((l) => l.name ?? l.url).filter((x): x is string => Boolean(x)),
          },
        }
      : {}),
    dependencies,
  };
}
