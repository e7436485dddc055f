/**
 * Rust cataloger on a real Cargo project built here with this machine's cargo (cached under
 * .cache/catalog-rust, rebuilt when missing). crates.io is unreachable, so the registry crates come
 * from a vendored directory source (cargo's own offline mechanism): cargo still writes them to
 * Cargo.lock as crates.io packages with checksums. Two versions of one crate, a path dependency and
 * a build-only dependency are in the tree. The Cargo.lock view is compared with `cargo metadata`.
 *
 * cargo-auditable is not installed (and cannot be fetched), so the `.dep-v0` section is added to
 * the real release binary with `objcopy --add-section`: its content is real zlib (Python's zlib)
 * of JSON in cargo-auditable's schema, generated from `cargo metadata` for this build.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { catalogTarget } from '../../src/catalog/index.js';
import { rustCataloger } from '../../src/catalog/rust/index.js';
import { runCataloger } from '../helpers/catalog.js';
import { withDirLock } from '../helpers/lock.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, '.cache', 'catalog-rust');
const CRATES_IO = 'registry+https://github.com/rust-lang/crates.io-index';

function write(p: string, s: string) {
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, s);
}

const withLock = (fn: () => void) => withDirLock(`${DIR}.lock`, fn, 300);

function crate(dir: string, name: string, version: string, src: string, deps = '') {
  write(
    join(dir, 'Cargo.toml'),
    `[package]\nname = "${name}"\nversion = "${version}"\nedition = "2021"\n${deps}`,
  );
  write(join(dir, 'src', 'lib.rs'), src);
}

interface Meta {
  packages: { id: string; name: string; version: string; source: string | null }[];
  resolve: {
    root: string;
    nodes: { id: string; deps: { pkg: string; dep_kinds: { kind: string | null }[] }[] }[];
  };
}

function ensureBuilt() {
  withLock(() => {
    if (existsSync(join(DIR, 'done'))) return;
    rmSync(DIR, { recursive: true, force: true });
    const v = join(DIR, 'vendor');
    crate(join(v, 'tinyfoo-1.2.3'), 'tinyfoo', '1.2.3', 'pub fn foo() -> u32 { 1 }\n');
    crate(join(v, 'tinyfoo'), 'tinyfoo', '2.0.0', 'pub fn foo() -> u32 { 2 }\n');
    crate(
      join(v, 'tinybar'),
      'tinybar',
      '0.4.0',
      'pub fn bar() -> u32 { tinyfoo::foo() + 1 }\n',
      '[dependencies]\ntinyfoo = "1"\n',
    );
    crate(join(v, 'tinybuild'), 'tinybuild', '0.1.0', 'pub fn gen() -> &\'static str { "x" }\n');
    for (const c of ['tinyfoo-1.2.3', 'tinyfoo', 'tinybar', 'tinybuild'])
      write(
        join(v, c, '.cargo-checksum.json'),
        JSON.stringify({ files: {}, package: createHash('sha256').update(c).digest('hex') }),
      );
    crate(join(DIR, 'util'), 'util', '0.1.0', 'pub fn u() -> u32 { 3 }\n');
    const app = join(DIR, 'app');
    write(
      join(app, 'Cargo.toml'),
      '[package]\nname = "app"\nversion = "1.0.0"\nedition = "2021"\n\n[dependencies]\ntinybar = "0.4"\ntinyfoo = "2"\nutil = { path = "../util" }\n\n[build-dependencies]\ntinybuild = "0.1"\n',
    );
    write(join(app, 'build.rs'), 'fn main() { let _ = tinybuild::gen(); }\n');
    write(
      join(app, 'src', 'main.rs'),
      'fn main() { println!("{}", tinybar::bar() + tinyfoo::foo() + util::u()); }\n',
    );
    write(
      join(DIR, '.cargo', 'config.toml'),
      `[source.crates-io]\nreplace-with = "vendored"\n[source.vendored]\ndirectory = "${v}"\n`,
    );
    const env = { ...process.env, CARGO_TARGET_DIR: join(DIR, 'target') };
    execFileSync('cargo', ['build', '--release', '--offline', '--quiet'], {
      cwd: app,
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 600_000,
    });
    const meta = execFileSync('cargo', ['metadata', '--offline', '--format-version', '1'], {
      cwd: app,
      env,
      maxBuffer: 64 << 20,
    });
    writeFileSync(join(DIR, 'metadata.json'), meta);
    // cargo-auditable's schema, from cargo's own resolve graph
    const m = JSON.parse(meta.toString()) as Meta;
    const ids = m.packages.map((p) => p.id).sort();
    const byId = new Map(m.packages.map((p) => [p.id, p]));
    const nodes = new Map(m.resolve.nodes.map((n) => [n.id, n]));
    const runtime = new Set<string>();
    const stack = [m.resolve.root];
    while (stack.length) {
      const id = stack.pop()!;
      if (runtime.has(id)) continue;
      runtime.add(id);
      for (const d of nodes.get(id)!.deps) if (d.dep_kinds.some((k) => k.kind === null)) stack.push(d.pkg);
    }
    const audit = {
      packages: ids.map((id) => {
        const p = byId.get(id)!;
        return {
          name: p.name,
          version: p.version,
          source: p.source === CRATES_IO ? 'crates.io' : p.source === null ? 'local' : 'registry',
          ...(runtime.has(id) ? {} : { kind: 'build' }),
          dependencies: nodes
            .get(id)!
            .deps.map((d) => ids.indexOf(d.pkg))
            .sort((a, b) => a - b),
          ...(id === m.resolve.root ? { root: true } : {}),
        };
      }),
    };
    writeFileSync(join(DIR, 'audit.json'), JSON.stringify(audit));
    execFileSync('python3', [
      '-c',
      'import sys,zlib; open(sys.argv[2],"wb").write(zlib.compress(open(sys.argv[1],"rb").read(), 9))',
      join(DIR, 'audit.json'),
      join(DIR, 'audit.zlib'),
    ]);
    execFileSync('objcopy', [
      '--add-section',
      `.dep-v0=${join(DIR, 'audit.zlib')}`,
      join(DIR, 'target', 'release', 'app'),
      join(DIR, 'app-auditable'),
    ]);
    writeFileSync(join(DIR, 'done'), '');
  });
}

function metaGraph() {
  const m = JSON.parse(readFileSync(join(DIR, 'metadata.json'), 'utf8')) as Meta;
  const byId = new Map(m.packages.map((p) => [p.id, p]));
  const key = (id: string) => `${byId.get(id)!.name}@${byId.get(id)!.version}`;
  const edges = new Map<string, { all: string[]; runtime: string[] }>();
  for (const n of m.resolve.nodes)
    edges.set(key(n.id), {
      all: n.deps.map((d) => key(d.pkg)).sort(),
      runtime: n.deps
        .filter((d) => d.dep_kinds.some((k) => k.kind === null))
        .map((d) => key(d.pkg))
        .sort(),
    });
  return { m, byId, key, edges };
}

test(
  'real Cargo.lock (v4) equals cargo metadata: packages, sources, dependency edges',
  { timeout: 900_000 },
  async () => {
    ensureBuilt();
    const { m, edges } = metaGraph();
    const { packages, warnings } = await runCataloger(rustCataloger, {
      '/src/app/Cargo.lock': readFileSync(join(DIR, 'app', 'Cargo.lock')),
    });
    assert.deepEqual(warnings, []);
    const k = (p: { name: string; version?: string }) => `${p.name}@${p.version}`;
    assert.deepEqual(packages.map(k).sort(), m.packages.map(k).sort());
    for (const p of packages) {
      assert.deepEqual(p.dependsOn!.map(k).sort(), edges.get(k(p))!.all, `dependencies of ${k(p)}`);
      const src = m.packages.find((x) => k(x) === k(p))!.source;
      assert.equal(p.metadata?.source, src ?? 'local');
      assert.equal(p.purl, src ? `pkg:cargo/${p.name}@${p.version}` : '');
      // the checksum cargo recorded is the vendored crate's package checksum
      const vendored = p.name === 'tinyfoo' && p.version === '1.2.3' ? 'tinyfoo-1.2.3' : p.name;
      if (src) assert.equal(p.metadata?.checksum, createHash('sha256').update(vendored).digest('hex'));
    }
  },
);

test(
  'cargo-auditable .dep-v0 in a real ELF: runtime crates and edges, build-only crates left out',
  { timeout: 900_000 },
  async () => {
    ensureBuilt();
    const { m, byId, key, edges } = metaGraph();
    const bin = readFileSync(join(DIR, 'app-auditable'));
    const { packages, warnings } = await runCataloger(rustCataloger, {
      '/usr/local/bin/app': bin,
      '/usr/local/bin/plain': readFileSync(join(DIR, 'target', 'release', 'app')),
    });
    assert.deepEqual(warnings, []);
    const k = (p: { name: string; version?: string }) => `${p.name}@${p.version}`;
    const buildOnly = new Set(['tinybuild@0.1.0']);
    assert.ok(
      m.packages.some((p) => buildOnly.has(k(p))),
      'the build dependency is in the tree',
    );
    assert.deepEqual(
      packages.map(k).sort(),
      m.packages
        .map(k)
        .filter((x) => !buildOnly.has(x))
        .sort(),
      'the binary without .dep-v0 adds nothing',
    );
    for (const p of packages) {
      assert.equal(p.foundBy, 'rust-binary');
      assert.deepEqual(p.dependsOn!.map(k).sort(), edges.get(k(p))!.runtime, `dependencies of ${k(p)}`);
    }
    const root = packages.find((p) => p.metadata?.root)!;
    assert.equal(key(m.resolve.root), k(root));
    assert.equal(root.purl, '');
    assert.equal(packages.find((p) => k(p) === 'tinyfoo@1.2.3')!.purl, 'pkg:cargo/tinyfoo@1.2.3');
    void byId;
  },
);

test('through the real pipeline (dir: target): ids, dependency ids, locations; a corrupt .dep-v0 warns with the path', async () => {
  ensureBuilt();
  const bad = join(DIR, 'bad.zlib');
  writeFileSync(bad, Buffer.from('not zlib at all'));
  const tree = join(DIR, 'pipeline');
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(join(tree, 'bin'), { recursive: true });
  mkdirSync(join(tree, 'src'), { recursive: true });
  execFileSync('objcopy', [
    '--add-section',
    `.dep-v0=${bad}`,
    join(DIR, 'target', 'release', 'app'),
    join(tree, 'bin', 'app-bad'),
  ]);
  copyFileSync(join(DIR, 'app-auditable'), join(tree, 'bin', 'app'));
  copyFileSync(join(DIR, 'app', 'Cargo.lock'), join(tree, 'src', 'Cargo.lock'));
  const catalog = await catalogTarget(`dir:${tree}`);
  const w = catalog.warnings.filter((x) => x.includes('app-bad'));
  assert.equal(w.length, 1, catalog.warnings.join('\n'));
  assert.match(w[0]!, /rust: .*\/bin\/app-bad.*cannot parse cargo-auditable data \(\.dep-v0\): /);
  const bin = catalog.packages.filter((p) => p.foundBy === 'rust-binary');
  const lock = catalog.packages.filter((p) => p.foundBy === 'rust-cargo-lock');
  assert.equal(bin.length, 5); // the build-only tinybuild is in the lock but not the binary
  assert.equal(lock.length, 6);
  assert.ok(bin.every((p) => p.locations[0]?.path === '/bin/app'));
  assert.ok(lock.every((p) => p.locations[0]?.path === '/src/Cargo.lock'));
  // dependency ids point at packages of the same file
  const root = bin.find((p) => p.name === 'app')!;
  const byId = new Map(catalog.packages.map((p) => [p.id, p]));
  assert.deepEqual(
    root
      .dependsOn!.map((id) => `${byId.get(id)!.name}@${byId.get(id)!.version} ${byId.get(id)!.foundBy}`)
      .sort(),
    ['tinybar@0.4.0 rust-binary', 'tinyfoo@2.0.0 rust-binary', 'util@0.1.0 rust-binary'],
  );
});
