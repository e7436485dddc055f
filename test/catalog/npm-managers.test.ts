/**
 * Real yarn.lock (classic and berry) and pnpm-lock.yaml files written by the real package managers
 * (yarn 1.22, yarn 4 from @yarnpkg/cli-dist, pnpm 9 — all installed from the npm registry into
 * .cache/catalog-npm-tools) for one project, and the trees they installed, cached under
 * .cache/catalog-npm-pm. The oracle is the package managers' own view of what they installed:
 * `npm ls --all --json --long` over yarn's node_modules (physical tree), `pnpm ls --json`.
 * Dev/prod for yarn classic: the tree `yarn install --production` installs is the prod set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { type NpmRecord, npmCataloger } from '../../src/catalog/npm/index.js';
import type { AnalysisRecord, FileEntry } from '../../src/core/analyzer.js';
import type { PackageDraft } from '../../src/catalog/types.js';
import { memoryIndex, runCataloger } from '../helpers/catalog.js';
import { withDirLock } from '../helpers/lock.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TOOLS = join(ROOT, '.cache', 'catalog-npm-tools');
const DIR = join(ROOT, '.cache', 'catalog-npm-pm');
const REGISTRY = 'https://registry.npmjs.org';
const MANIFEST = {
  name: 'pm-tree',
  version: '1.0.0',
  private: true,
  dependencies: {
    express: '4.21.2',
    '@babel/code-frame': '7.24.7',
    'str-alias': 'npm:string-width@4.2.3',
    debug: '4.3.7',
  },
  devDependencies: { 'is-number': '7.0.0', chalk: '^4.1.0' },
};

const withLock = (fn: () => void) => withDirLock(`${DIR}.lock`, fn, 600);

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  try {
    return execFileSync(cmd, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 600_000,
      maxBuffer: 256 << 20,
    });
  } catch (e) {
    const x = e as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(
      `${cmd} ${args.join(' ')} in ${cwd} failed:\n${x.stdout?.toString() ?? ''}${x.stderr?.toString() ?? ''}`,
      {
        cause: e,
      },
    );
  }
}

function ensureTrees() {
  withLock(() => {
    if (existsSync(join(DIR, 'done'))) return;
    rmSync(DIR, { recursive: true, force: true });
    if (!existsSync(join(TOOLS, 'node_modules', 'pnpm'))) {
      mkdirSync(TOOLS, { recursive: true });
      writeFileSync(
        join(TOOLS, 'package.json'),
        JSON.stringify({ name: 'tools', version: '1.0.0', private: true }),
      );
      run(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          '--ignore-scripts',
          'yarn@1.22.22',
          'pnpm@9.15.9',
          '@yarnpkg/cli-dist@4.5.3',
        ],
        TOOLS,
      );
    }
    const yarn1 = join(TOOLS, 'node_modules', 'yarn', 'bin', 'yarn.js');
    const berry = join(TOOLS, 'node_modules', '@yarnpkg', 'cli-dist', 'bin', 'yarn.js');
    const pnpm = join(TOOLS, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs');
    const project = (name: string) => {
      const d = join(DIR, name);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'package.json'), JSON.stringify(MANIFEST, null, 2));
      return d;
    };
    const y1args = [
      'install',
      '--registry',
      REGISTRY,
      '--ignore-scripts',
      '--non-interactive',
      '--no-progress',
      '--cache-folder',
      join(DIR, 'yarn-cache'),
    ];
    const y = project('yarn1');
    run('node', [yarn1, ...y1args], y);
    const yp = project('yarn1-prod');
    writeFileSync(join(yp, 'yarn.lock'), readFileSync(join(y, 'yarn.lock')));
    run('node', [yarn1, ...y1args, '--production', '--frozen-lockfile'], yp);
    const b = project('berry');
    writeFileSync(
      join(b, '.yarnrc.yml'),
      `nodeLinker: node-modules\nnpmRegistryServer: "${REGISTRY}"\nenableGlobalCache: false\nenableTelemetry: false\nenableScripts: false\n`,
    );
    // an empty lock file marks the project root (berry would otherwise look further up the tree)
    writeFileSync(join(b, 'yarn.lock'), '');
    // CI=true makes berry default to --immutable; this install writes the lock file on purpose
    run('node', [berry, 'install', '--no-immutable'], b, { YARN_ENABLE_PROGRESS_BARS: 'false' });
    const p = project('pnpm');
    run(
      'node',
      // --no-frozen-lockfile: under CI=true pnpm would refuse to write the lock file this test creates
      [
        pnpm,
        'install',
        '--no-frozen-lockfile',
        '--registry',
        REGISTRY,
        '--ignore-scripts',
        '--store-dir',
        join(DIR, 'pnpm-store'),
      ],
      p,
    );
    for (const d of [y, yp, b]) {
      // npm ls exits 1 on the production tree (dev dependencies "missing"): its JSON is still the tree
      const r = spawnSync('npm', ['ls', '--all', '--json', '--long'], { cwd: d, maxBuffer: 256 << 20 });
      writeFileSync(join(d, 'ls.json'), r.stdout);
    }
    writeFileSync(join(p, 'ls.json'), run('node', [pnpm, 'ls', '--json', '--depth', 'Infinity'], p));
    writeFileSync(join(DIR, 'done'), '');
  });
}

interface LsNode {
  name?: string;
  from?: string;
  version?: string;
  dependencies?: Record<string, LsNode>;
  devDependencies?: Record<string, LsNode>;
}

/** name@version → direct dependencies, from a package manager's ls tree; also the keys under dev roots only. */
function lsGraph(root: LsNode) {
  const nodes = new Map<string, Set<string>>();
  const visit = (key: string, n: LsNode): string => {
    const k = `${n.from ?? n.name ?? key}@${n.version}`;
    const set = nodes.get(k) ?? new Set<string>();
    nodes.set(k, set);
    for (const [dn, d] of Object.entries(n.dependencies ?? {}))
      if (typeof d === 'object' && d.version) set.add(visit(dn, d));
    return k;
  };
  // (npm ls --long also has package.json's devDependencies {name: range} on nodes: not tree nodes)
  const tree = (o: Record<string, LsNode> | undefined) =>
    Object.entries(o ?? {}).filter(([, n]) => typeof n === 'object' && typeof n.version === 'string');
  const prodRoots = tree(root.dependencies).map(([k, n]) => visit(k, n));
  const devRoots = tree(root.devDependencies).map(([k, n]) => visit(k, n));
  return { nodes, prodRoots, devRoots };
}

function readLs(dir: string): LsNode {
  const j = JSON.parse(readFileSync(join(dir, 'ls.json'), 'utf8')) as LsNode | LsNode[];
  return Array.isArray(j) ? j[0]! : j;
}

function lockFiles(dir: string, lock: string): Record<string, Buffer> {
  return {
    [`/app/${lock}`]: readFileSync(join(dir, lock)),
    '/app/package.json': readFileSync(join(dir, 'package.json')),
  };
}

const key = (p: { name: string; version?: string }) => `${p.name}@${p.version}`;
function edgesOf(ps: PackageDraft[]) {
  const m = new Map<string, string[]>();
  for (const p of ps) m.set(key(p), (p.dependsOn ?? []).map(key).sort());
  return m;
}

/** Installed package.json files of a node_modules tree, as the walker would see them. */
function installedFiles(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (name === 'package.json' && p.includes('node_modules'))
        out[`/app/${relative(dir, p)}`] = readFileSync(p);
    }
  };
  walk(join(dir, 'node_modules'));
  return out;
}

test(
  'yarn classic lock from real yarn 1.22: packages, edges and dev equal what yarn installed',
  { timeout: 900_000 },
  async () => {
    ensureTrees();
    const dir = join(DIR, 'yarn1');
    const { packages, warnings } = await runCataloger(npmCataloger, lockFiles(dir, 'yarn.lock'));
    assert.deepEqual(warnings, []);
    const { nodes } = lsGraph(readLs(dir));
    nodes.delete(`${MANIFEST.name}@${MANIFEST.version}`);
    assert.ok(nodes.size > 60);
    assert.deepEqual([...new Set(packages.map(key))].sort(), [...nodes.keys()].sort());
    // Edges: what the lock pins equals what Node resolves in the tree yarn laid out.
    const installed = await runCataloger(npmCataloger, installedFiles(dir));
    const lockEdges = edgesOf(packages);
    for (const [k, deps] of edgesOf(installed.packages))
      assert.deepEqual(lockEdges.get(k), deps, `dependencies of ${k}`);
    // Dev: the packages `yarn install --production` installs are exactly our non-dev ones.
    const prod = lsGraph(readLs(join(DIR, 'yarn1-prod'))).nodes;
    prod.delete(`${MANIFEST.name}@${MANIFEST.version}`);
    assert.deepEqual(
      packages
        .filter((p) => !p.dev)
        .map(key)
        .sort(),
      [...prod.keys()].sort(),
    );
    assert.ok(packages.some((p) => p.dev));
    assert.ok(
      packages.some((p) => key(p) === 'string-width@4.2.3' && !p.dev),
      'alias entry under the real name',
    );
  },
);

test(
  'yarn berry lock from real yarn 4: packages and edges equal the node_modules tree it installed',
  { timeout: 900_000 },
  async () => {
    ensureTrees();
    const dir = join(DIR, 'berry');
    const { packages, warnings } = await runCataloger(npmCataloger, lockFiles(dir, 'yarn.lock'));
    assert.deepEqual(warnings, []);
    const { nodes } = lsGraph(readLs(dir));
    const rootKey = `${MANIFEST.name}@${MANIFEST.version}`;
    const root = packages.find((p) => p.metadata?.root)!;
    assert.equal(key(root), rootKey, 'the workspace root gets the project version, not 0.0.0-use.local');
    assert.deepEqual(
      [...new Set(packages.filter((p) => p !== root).map(key))].sort(),
      [...nodes.keys()].sort(),
    );
    const installed = await runCataloger(npmCataloger, installedFiles(dir));
    const lockEdges = edgesOf(packages);
    for (const [k, deps] of edgesOf(installed.packages))
      assert.deepEqual(lockEdges.get(k), deps, `dependencies of ${k}`);
    const devNames = packages.filter((p) => p.dev).map((p) => p.name);
    assert.ok(devNames.includes('is-number') && !devNames.includes('express'));
  },
);

test('pnpm 9 lock from real pnpm: packages, edges and dev equal pnpm ls', { timeout: 900_000 }, async () => {
  ensureTrees();
  const dir = join(DIR, 'pnpm');
  const { packages, warnings } = await runCataloger(npmCataloger, lockFiles(dir, 'pnpm-lock.yaml'));
  assert.deepEqual(warnings, []);
  const { nodes, prodRoots, devRoots } = lsGraph(readLs(dir));
  assert.deepEqual([...new Set(packages.map(key))].sort(), [...nodes.keys()].sort());
  const lockEdges = edgesOf(packages);
  for (const [k, deps] of nodes) assert.deepEqual(lockEdges.get(k), [...deps].sort(), `dependencies of ${k}`);
  const reach = (roots: string[]) => {
    const seen = new Set<string>();
    const st = [...roots];
    while (st.length) {
      const k = st.pop()!;
      if (!seen.has(k)) {
        seen.add(k);
        st.push(...(nodes.get(k) ?? []));
      }
    }
    return seen;
  };
  const prod = reach(prodRoots);
  const wantDev = [...reach(devRoots)].filter((k) => !prod.has(k)).sort();
  assert.deepEqual(
    packages
      .filter((p) => p.dev)
      .map(key)
      .sort(),
    wantDev,
  );
  assert.ok(wantDev.length > 0);
});

test(
  'pnpm node_modules (symlinked layout): installed packages and edges equal pnpm ls',
  { timeout: 900_000 },
  async () => {
    ensureTrees();
    const dir = join(DIR, 'pnpm');
    // Walk like the image walker: symlinks are entries, not followed; only regular files are analyzed.
    const entries: FileEntry[] = [];
    const records: AnalysisRecord<NpmRecord>[] = [];
    const warnings: string[] = [];
    const walk = (d: string) => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        const path = `/app/${relative(dir, p)}`;
        const st = lstatSync(p);
        if (st.isSymbolicLink())
          entries.push({ path, type: 'symlink', size: 0, mode: st.mode, linkTarget: readlinkSync(p) });
        else if (st.isDirectory()) {
          entries.push({ path, type: 'dir', size: 0, mode: st.mode });
          walk(p);
        } else if (st.isFile()) {
          const e: FileEntry = { path, type: 'file', size: st.size, mode: st.mode };
          entries.push(e);
          if (!npmCataloger.wants(e) || !path.includes('/node_modules/')) continue;
          const result = npmCataloger.analyze(
            { ...e, content: readFileSync(p) },
            { warn: (m) => void warnings.push(m) },
          );
          if (result && !(result instanceof Promise)) records.push({ path, result });
        }
      }
    };
    walk(join(dir, 'node_modules'));
    const packages = npmCataloger.finalize(records, {
      files: memoryIndex(entries),
      warn: (m) => void warnings.push(m),
    });
    assert.deepEqual(warnings, []);
    const { nodes } = lsGraph(readLs(dir));
    assert.deepEqual([...new Set(packages.map(key))].sort(), [...nodes.keys()].sort());
    const ours = edgesOf(packages);
    for (const [k, deps] of nodes) assert.deepEqual(ours.get(k), [...deps].sort(), `dependencies of ${k}`);
  },
);
