/**
 * npm cataloger on a real tree: packages installed from the npm registry by npm itself (cached
 * under .cache/catalog-npm-real, rebuilt when missing), compared with `npm ls --all --json` — the
 * package manager's own view of the same tree — for both the lock-file and the installed-package
 * views, including the dependency edges.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { npmCataloger } from '../../src/catalog/npm/index.js';
import { runCataloger } from '../helpers/catalog.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, '.cache', 'catalog-npm-real');
const LOCK = `${DIR}.lock`;

function withLock<T>(fn: () => T): T {
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  for (let i = 0; ; i++) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      if (i > 600) throw new Error(`timed out waiting for ${LOCK}`);
      execFileSync('sleep', ['0.5']);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function ensureTree(): void {
  withLock(() => {
    if (existsSync(join(DIR, 'done'))) return;
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    writeFileSync(
      join(DIR, 'package.json'),
      JSON.stringify({ name: 'real-tree', version: '1.0.0', private: true }),
    );
    const npm = (...args: string[]) =>
      execFileSync('npm', [...args, '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], {
        cwd: DIR,
        stdio: ['ignore', 'ignore', 'inherit'],
        timeout: 300_000,
      });
    // A scoped package, an alias, nested duplicate versions (debug@2 under express, debug@4 elsewhere)
    // and a dev dependency.
    npm(
      'install',
      'express@4.21.2',
      '@babel/code-frame@7.24.7',
      'chalk@4.1.2',
      'str-alias@npm:string-width@4.2.3',
      'debug@4.3.7',
    );
    npm('install', '-D', 'is-number@7.0.0');
    writeFileSync(
      join(DIR, 'ls.json'),
      execFileSync('npm', ['ls', '--all', '--json'], { cwd: DIR, maxBuffer: 64 << 20 }),
    );
    writeFileSync(join(DIR, 'done'), '');
  });
}

/** package.json and lock files of the tree, as the image walker would hand them to the cataloger. */
function treeFiles(): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (name === 'package.json' || name === 'package-lock.json')
        out[`/app/${relative(DIR, p)}`] = readFileSync(p);
    }
  };
  walk(DIR);
  return out;
}

interface LsNode {
  version?: string;
  name?: string;
  dependencies?: Record<string, LsNode>;
}

/** name@version → set of direct dependency name@version, from npm's own tree. */
function npmGraph(): { nodes: Map<string, Set<string>>; dev: Set<string> } {
  const ls = JSON.parse(readFileSync(join(DIR, 'ls.json'), 'utf8')) as LsNode & { name: string };
  const lock = JSON.parse(readFileSync(join(DIR, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { name?: string; version?: string; dev?: boolean }>;
  };
  // `npm ls --json` names an aliased package by its alias ("str-alias"); the lock has the real name.
  const realName = new Map<string, string>();
  const keyName = (k: string) => k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length);
  for (const [k, e] of Object.entries(lock.packages))
    if (k && e.name && e.name !== keyName(k)) realName.set(keyName(k), e.name);
  const nodes = new Map<string, Set<string>>();
  const visit = (name: string, n: LsNode): string => {
    const k = `${realName.get(name) ?? name}@${n.version}`;
    const set = nodes.get(k) ?? new Set<string>();
    nodes.set(k, set);
    for (const [dn, d] of Object.entries(n.dependencies ?? {})) if (d.version) set.add(visit(dn, d));
    return k;
  };
  visit(ls.name, ls);
  const dev = new Set<string>();
  for (const [k, e] of Object.entries(lock.packages))
    if (e.dev) dev.add(`${e.name ?? keyName(k)}@${e.version}`);
  return { nodes, dev };
}

test(
  'real npm tree: lock and installed packages equal npm ls --all, edges included',
  { timeout: 600_000 },
  async () => {
    ensureTree();
    const { nodes, dev } = npmGraph();
    assert.ok(nodes.size > 60, `npm ls lists ${nodes.size} packages`);
    const { packages, warnings } = await runCataloger(npmCataloger, treeFiles());
    assert.deepEqual(warnings, []);
    // With the lock file present, each installed copy is the lock's package (one package, both
    // locations); without it, the installed view alone must still equal npm ls.
    assert.equal(packages.filter((p) => p.foundBy === 'npm-installed').length, 0, 'no duplicates');
    const noLock = Object.fromEntries(
      Object.entries(treeFiles()).filter(([k]) => !k.endsWith('/package-lock.json')),
    );
    const installedOnly = (await runCataloger(npmCataloger, noLock)).packages;
    for (const foundBy of ['npm-lock', 'npm-installed']) {
      const ps = (foundBy === 'npm-lock' ? packages : installedOnly).filter((p) => p.foundBy === foundBy);
      const keys = new Set(ps.map((p) => `${p.name}@${p.version}`));
      const want = new Set(
        [...nodes.keys()].filter((k) => foundBy === 'npm-lock' || !k.startsWith('real-tree@')),
      );
      assert.deepEqual([...keys].sort(), [...want].sort(), `${foundBy}: same packages as npm ls`);
      // Every edge npm ls shows is one of ours, and we invent none.
      const ours = new Map<string, Set<string>>();
      for (const p of ps) {
        const s = ours.get(`${p.name}@${p.version}`) ?? new Set();
        for (const d of p.dependsOn ?? []) s.add(`${d.name}@${d.version}`);
        ours.set(`${p.name}@${p.version}`, s);
      }
      for (const [k, deps] of nodes) {
        if (!ours.has(k)) continue;
        assert.deepEqual([...ours.get(k)!].sort(), [...deps].sort(), `${foundBy}: dependencies of ${k}`);
      }
    }
    const lockPkgs = packages.filter((p) => p.foundBy === 'npm-lock');
    assert.deepEqual(
      lockPkgs
        .filter((p) => p.dev)
        .map((p) => `${p.name}@${p.version}`)
        .sort(),
      [...dev].sort(),
    );
    assert.ok(
      lockPkgs.some((p) => p.name === 'string-width' && p.version === '4.2.3'),
      'alias resolved to the real name',
    );
    const debugs = new Set(lockPkgs.filter((p) => p.name === 'debug').map((p) => p.version));
    assert.ok(debugs.size >= 2, 'nested duplicate versions are kept apart');
    const frame = lockPkgs.find((p) => p.name === '@babel/code-frame')!;
    assert.equal(frame.purl, 'pkg:npm/%40babel/code-frame@7.24.7');
    assert.deepEqual(frame.licenses, ['MIT']);
    const express = installedOnly.find((p) => p.foundBy === 'npm-installed' && p.name === 'express')!;
    assert.deepEqual(express.licenses, ['MIT']);
    // every locked package (the project itself aside) carries its lock entry and its installed copy
    for (const p of lockPkgs.filter((x) => x.name !== 'real-tree')) {
      // drafts: the record is the first location, `locations` the ones added to it
      const paths = [p.record!.path, ...(p.locations ?? []).map((l) => l.path)];
      assert.equal(paths[0], '/app/package-lock.json', `${p.name}@${p.version}: lock file first`);
      assert.ok(
        paths.slice(1).some((x) => /^\/app\/node_modules\/.*package\.json$/.test(x)),
        `${p.name}@${p.version}: installed location kept (${paths.join(', ')})`,
      );
    }
    const debug2 = lockPkgs.find((p) => p.name === 'debug' && p.version.startsWith('2.'))!;
    assert.ok(
      (debug2.locations ?? []).some((l) =>
        /\/node_modules\/[^/]+\/node_modules\/debug\/package\.json$/.test(l.path),
      ),
      'the nested copy is attached to its own version',
    );
  },
);
