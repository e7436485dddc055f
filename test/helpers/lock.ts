/**
 * A cross-process lock for building cached fixtures: test files run in parallel processes, and two
 * of them must not build the same cache at once. The lock is a directory (mkdir is atomic).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';

export function withDirLock(lock: string, fn: () => void, waitSeconds = 600): void {
  mkdirSync(dirname(lock), { recursive: true });
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (i > waitSeconds * 2) throw new Error(`timed out waiting for ${lock}`);
      execFileSync('sleep', ['0.5']);
    }
  }
  try {
    fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
