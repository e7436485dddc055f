#!/usr/bin/env node
// Runs every test/**/*.test.ts file with node's test runner (TypeScript loaded through tsx).
// Usage: node scripts/run-tests.mjs [path-substring ...]   (filters test files by substring)
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'fixtures' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}
const filters = process.argv.slice(2);
let files = walk(join(root, 'test'), []).sort();
if (filters.length) files = files.filter((f) => filters.some((s) => f.includes(s)));
if (!files.length) {
  console.error('no test files matched');
  process.exit(1);
}
// A full run (no filter) first type-checks the tests with the sources (tsconfig.test.json) and
// lints the tree, as CI does; a filtered run (`npm test -- PATTERN`) runs only the matching tests.
if (!filters.length && process.env.BULWARK_SKIP_CHECKS !== '1') {
  const { spawnSync } = await import('node:child_process');
  for (const [what, cmd, args] of [
    ['type-checking sources and tests', 'npx', ['tsc', '-p', 'tsconfig.test.json']],
    ['type-checking the web UI', 'npx', ['tsc', '-p', 'web/tsconfig.json', '--noEmit']],
    ['linting', 'npx', ['eslint', 'src', 'test', 'bench', 'web/src']],
  ]) {
    console.error(`run-tests: ${what}`);
    const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) {
      console.error(`run-tests: ${what} failed`);
      process.exit(1);
    }
  }
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const reporter = process.env.TEST_REPORTER ?? 'spec';
// The live eBPF sensor tests observe the whole machine: next to other test files they read
// millions of foreign events and fall behind. They run after the rest, one file at a time.
const SERIAL = /^test\/runtime\/sensor/;
const phases = [
  { files: files.filter((f) => !SERIAL.test(f)), concurrency },
  { files: files.filter((f) => SERIAL.test(f)), concurrency: '1' },
].filter((p) => p.files.length);
let failed = false;
for (const p of phases) {
  const args = [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${p.concurrency}`,
    `--test-reporter=${reporter}`,
    ...p.files,
  ];
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
    child.on('exit', (c, signal) => resolve(signal ? 1 : (c ?? 1)));
  });
  if (code !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
