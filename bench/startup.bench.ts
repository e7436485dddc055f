/**
 * CLI start-up, against Node's own start-up measured in the same run: `node -e 0` is the baseline;
 * `bulwark --version` (goal ≤ 1.5x) and `bulwark scan fs EMPTY_DIR --scanners secret` (a whole scan
 * command that has nothing to scan: module loading and rule set-up; goal ≤ 2.5x). Runs bin/bulwark
 * (the bundle of `npm run build`). Best of 7 runs each after a warm-up.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(root, 'bin', 'bulwark');
const empty = mkdtempSync(join(tmpdir(), 'bulwark-bench-empty-'));

function best(args: string[], runs = 7): number {
  const once = () => {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return performance.now() - t;
  };
  once();
  let min = Infinity;
  for (let i = 0; i < runs; i++) min = Math.min(min, once());
  return min;
}

try {
  const node = best(['-e', '0']);
  const version = best([BIN, '--version']);
  const scan = best([BIN, '-q', 'scan', 'fs', empty, '--scanners', 'secret', '-f', 'json']);
  console.log(`baseline  node -e 0:                      ${node.toFixed(0)} ms`);
  console.log(
    `bulwark --version:                         ${version.toFixed(0)} ms = ${(version / node).toFixed(2)}x (goal ≤ 1.5x: ${version / node <= 1.5 ? 'met' : 'NOT met'})`,
  );
  console.log(
    `bulwark scan fs EMPTY --scanners secret:   ${scan.toFixed(0)} ms = ${(scan / node).toFixed(2)}x (goal ≤ 2.5x: ${scan / node <= 2.5 ? 'met' : 'NOT met'})`,
  );
} finally {
  rmSync(empty, { recursive: true, force: true });
}
