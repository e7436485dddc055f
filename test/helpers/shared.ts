/**
 * Where the shared reference data lives: `shared/` beside the repository (as in CI and on the
 * developers' machines), or BULWARK_SHARED_DIR. Tests take corpora and advisories from here.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

function findShared(): string {
  const candidates = [process.env.BULWARK_SHARED_DIR, join(repoRoot, '..', 'shared'), '/work/shared'].filter(
    (p): p is string => Boolean(p),
  );
  const found = candidates.find((p) => existsSync(join(p, 'corpora')) && existsSync(join(p, 'data')));
  if (!found)
    throw new Error(
      `shared reference data not found (looked in ${candidates.join(', ')}); set BULWARK_SHARED_DIR`,
    );
  return found;
}

export const SHARED = findShared();
export const CORPORA = join(SHARED, 'corpora');
export const OSV_DATA = join(SHARED, 'data', 'osv');
export const FALCO_DATA = join(SHARED, 'data', 'falco');
