import { homedir } from 'node:os';
import { join } from 'node:path';

/** Bulwark's cache dir: $BULWARK_CACHE_DIR, else $XDG_CACHE_HOME/bulwark, else ~/.cache/bulwark. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BULWARK_CACHE_DIR) return env.BULWARK_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'bulwark');
}

/** Default advisory DB file. */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), 'db.sqlite');
}
