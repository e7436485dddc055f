/**
 * gradle.lockfile (Gradle dependency locking): one "group:artifact:version=conf1,conf2" per line,
 * comments with #, and an "empty=..." line listing configurations without dependencies.
 */
export interface GradleLockEntry {
  groupId: string;
  artifactId: string;
  version: string;
  configurations: string[];
}

export function parseGradleLockfile(text: string): GradleLockEntry[] {
  const out: GradleLockEntry[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('empty=')) continue;
    const eq = line.indexOf('=');
    const coords = (eq >= 0 ? line.slice(0, eq) : line).split(':');
    if (coords.length !== 3 || coords.some((c) => !c)) continue;
    const configurations =
      eq >= 0
        ? line
            .slice(eq + 1)
            .split(',')
            .map((c) => c.trim())
            .filter(Boolean)
        : [];
    out.push({ groupId: coords[0]!, artifactId: coords[1]!, version: coords[2]!, configurations });
  }
  return out;
}
