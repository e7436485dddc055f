/**
 * An npm project scanned with its lock file and its installed node_modules: each package is reported
 * once, with both locations, and each advisory gives one finding (not one per copy). The tree is
 * installed by npm itself from the registry (cached under .cache/npm-dedup-tree) and matched against
 * the real npm advisories in ../shared/data/osv/npm (NSWG-ECO-46: ms <= 0.7.0).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARED } from '../helpers/shared.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'bulwark');
const TREE = join(ROOT, '.cache', 'npm-dedup-tree');
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-npm-dedup-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function ensureTree(): void {
  if (existsSync(join(TREE, 'done'))) return;
  rmSync(TREE, { recursive: true, force: true });
  mkdirSync(TREE, { recursive: true });
  writeFileSync(
    join(TREE, 'package.json'),
    JSON.stringify({ name: 'dedup-tree', version: '1.0.0', private: true }),
  );
  execFileSync(
    'npm',
    ['install', 'ms@0.7.0', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
    {
      cwd: TREE,
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 300_000,
    },
  );
  writeFileSync(join(TREE, 'done'), '');
}

function bulwark(...args: string[]): string {
  return execFileSync(process.execPath, [BIN, '-q', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

interface Report {
  results: {
    target: string;
    packages?: { name: string; version: string; locations: { path: string }[] }[];
    findings: { id: string; package?: { name: string } }[];
  }[];
}

test(
  'lock file + node_modules: one package with both locations, one finding per advisory',
  { timeout: 400_000 },
  () => {
    ensureTree();
    const db = join(tmp, 'db.sqlite');
    bulwark('db', 'import', join(SHARED, 'data', 'osv', 'npm'), '--db', db);
    bulwark(
      'scan',
      'fs',
      TREE,
      '--db',
      db,
      '--scanners',
      'vuln',
      '-f',
      'json',
      '--list-all-pkgs',
      '-o',
      join(tmp, 'r.json'),
    );
    const r = JSON.parse(readFileSync(join(tmp, 'r.json'), 'utf8')) as Report;
    const ms = r.results.flatMap((x) => x.packages ?? []).filter((p) => p.name === 'ms');
    assert.equal(ms.length, 1, 'ms is listed once');
    assert.deepEqual(
      ms[0]!.locations.map((l) => l.path),
      ['package-lock.json', 'node_modules/ms/package.json'],
    );
    const findings = r.results.flatMap((x) => x.findings).filter((f) => f.id === 'NSWG-ECO-46');
    assert.equal(findings.length, 1, 'one finding for one package, not one per copy');
    // the table's count agrees
    const table = bulwark('scan', 'fs', TREE, '--db', db, '--scanners', 'vuln');
    assert.equal(table.match(/NSWG-ECO-46/g)?.length, 1);
    assert.doesNotMatch(table, /npm-installed/);
  },
);
