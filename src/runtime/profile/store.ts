/**
 * The profile directory: one YAML file per workload (model.ts profileFileName). Loading validates
 * every file and reports all problems with file:line:column; writing replaces a file atomically
 * (temporary name, then rename) so a crash never leaves half a profile.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { profileFileName, workloadId, type Profile } from './model.js';
import { ProfileError, parseProfile, profileToYaml, type ProfileIssue } from './yaml.js';

export interface LoadedProfiles {
  /** by workload id */
  profiles: Map<string, Profile>;
  /** workload id → the file it came from */
  files: Map<string, string>;
}

/** Loads every *.yaml / *.yml in a directory (a missing directory is empty); throws ProfileError with every issue. */
export function loadProfileDir(dir: string): LoadedProfiles {
  const out: LoadedProfiles = { profiles: new Map(), files: new Map() };
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => /\.ya?ml$/.test(n))
      .sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw e;
  }
  const issues: ProfileIssue[] = [];
  for (const n of names) {
    const file = join(dir, n);
    try {
      const p = parseProfile(readFileSync(file, 'utf8'), file);
      const id = workloadId(p.workload);
      const prev = out.files.get(id);
      if (prev) {
        issues.push({ file, line: 1, column: 1, message: `workload ${id} already has a profile in ${prev}` });
        continue;
      }
      out.profiles.set(id, p);
      out.files.set(id, file);
    } catch (e) {
      if (e instanceof ProfileError) issues.push(...e.issues);
      else throw e;
    }
  }
  if (issues.length) throw new ProfileError(issues);
  return out;
}

/** Writes a profile to its file in `dir` (or to `file`), atomically; returns the path. */
export function writeProfile(dir: string, p: Profile, file?: string): string {
  mkdirSync(dir, { recursive: true });
  const path = file ?? join(dir, profileFileName(p.workload));
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, profileToYaml(p));
  renameSync(tmp, path);
  return path;
}

/**
 * Finds a profile by what a person types: the workload id, the file name (with or without
 * .yaml), or the container name when only one workload has it.
 */
export function findProfile(
  loaded: LoadedProfiles,
  q: string,
): { id: string; p: Profile; file: string } | { error: string } {
  const hits: string[] = [];
  for (const [id, p] of loaded.profiles) {
    const file = loaded.files.get(id) ?? '';
    const base = file.replace(/^.*\//, '');
    if (id === q || base === q || base.replace(/\.ya?ml$/, '') === q) return { id, p, file };
    if (p.workload.container === q) hits.push(id);
  }
  if (hits.length === 1)
    return { id: hits[0]!, p: loaded.profiles.get(hits[0]!)!, file: loaded.files.get(hits[0]!)! };
  if (hits.length > 1) return { error: `${q} names ${hits.length} workloads: ${hits.join(', ')}` };
  return { error: `no profile for workload ${q}` };
}
