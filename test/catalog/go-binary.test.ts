/**
 * Go cataloger on real Go binaries built here by Debian's Go toolchain (cached under
 * .cache/catalog-go, rebuilt when missing), compared with `go version -m` on the same files.
 *
 * The program depends on real modules served by a file:// GOPROXY built by this test (module zips
 * in the layout the go command downloads), so the build records versions and h1 sums, plus a
 * module replaced by another module version and one replaced by a local directory; it is built in
 * a git checkout so the build info carries VCS settings. Cross-compiled for ELF 64/32-bit,
 * big-endian ELF, Mach-O and PE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { goCataloger, readGoBuildInfo, stdlibVersion } from '../../src/catalog/go/index.js';
import { runCataloger } from '../helpers/catalog.js';
import { withDirLock } from '../helpers/lock.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, '.cache', 'catalog-go');
const TARGETS = [
  { goos: 'linux', goarch: 'amd64' },
  { goos: 'linux', goarch: '386' },
  { goos: 'linux', goarch: 'ppc64' },
  { goos: 'darwin', goarch: 'arm64' },
  { goos: 'windows', goarch: 'amd64' },
];
const bin = (t: { goos: string; goarch: string }) => join(DIR, 'bin', `app-${t.goos}-${t.goarch}`);

function write(p: string, s: string) {
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, s);
}

const withLock = (fn: () => void) => withDirLock(`${DIR}.lock`, fn, 600);

/** A module in GOPROXY layout: <proxy>/<path>/@v/{list,VER.info,VER.mod,VER.zip}. */
function proxyModule(proxy: string, path: string, version: string, declaredPath: string, goSrc: string) {
  const stage = join(DIR, 'stage');
  rmSync(stage, { recursive: true, force: true });
  const top = `${path}@${version}`;
  const gomod = `module ${declaredPath}\n\ngo 1.19\n`;
  write(join(stage, top, 'go.mod'), gomod);
  write(join(stage, top, 'lib.go'), goSrc);
  const at = join(proxy, path, '@v');
  mkdirSync(at, { recursive: true });
  write(join(at, 'list'), `${version}\n`);
  write(join(at, `${version}.info`), JSON.stringify({ Version: version, Time: '2023-01-02T03:04:05Z' }));
  write(join(at, `${version}.mod`), gomod);
  execFileSync('zip', ['-q', '-X', '-r', join(at, `${version}.zip`), top], { cwd: stage });
}

function ensureBinaries() {
  withLock(() => {
    if (existsSync(join(DIR, 'done'))) return;
    rmSync(DIR, { recursive: true, force: true });
    const proxy = join(DIR, 'proxy');
    proxyModule(
      proxy,
      'example.com/greet',
      'v1.2.3',
      'example.com/greet',
      'package greet\n\nfunc Hello() string { return "hello" }\n',
    );
    // a fork published under another path that keeps the original module path (how forks work)
    proxyModule(
      proxy,
      'example.com/fork',
      'v0.2.0',
      'example.com/orig',
      'package orig\n\nfunc Name() string { return "fork" }\n',
    );
    const app = join(DIR, 'app');
    write(join(app, 'local', 'go.mod'), 'module example.com/local\n\ngo 1.19\n');
    write(join(app, 'local', 'local.go'), 'package local\n\nfunc X() int { return 42 }\n');
    write(
      join(app, 'go.mod'),
      [
        'module example.com/app',
        '',
        'go 1.19',
        '',
        'require (',
        '\texample.com/greet v1.2.3',
        '\texample.com/orig v0.1.0 // indirect',
        '\texample.com/local v0.0.0',
        ')',
        '',
        'replace example.com/orig v0.1.0 => example.com/fork v0.2.0',
        '',
        'replace example.com/local => ./local',
        '',
      ].join('\n'),
    );
    write(
      join(app, 'main.go'),
      'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/greet"\n\t"example.com/local"\n\t"example.com/orig"\n)\n\nfunc main() { fmt.Println(greet.Hello(), orig.Name(), local.X()) }\n',
    );
    const env = {
      ...process.env,
      GOPROXY: `file://${proxy}`,
      GOSUMDB: 'off',
      GOFLAGS: '-mod=mod',
      GOPATH: join(DIR, 'gopath'),
      GOCACHE: join(DIR, 'gocache'),
      CGO_ENABLED: '0',
      GIT_AUTHOR_DATE: '2024-05-06T07:08:09Z',
      GIT_COMMITTER_DATE: '2024-05-06T07:08:09Z',
    };
    const git = (...a: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...a], {
        cwd: app,
        env,
        stdio: 'ignore',
      });
    git('init', '-q');
    execFileSync('go', ['mod', 'tidy'], { cwd: app, env, stdio: ['ignore', 'ignore', 'pipe'] });
    git('add', '-A');
    git('commit', '-q', '-m', 'app');
    for (const t of TARGETS) {
      execFileSync('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', bin(t), '.'], {
        cwd: app,
        env: { ...env, GOOS: t.goos, GOARCH: t.goarch },
        stdio: ['ignore', 'ignore', 'inherit'],
        timeout: 600_000,
      });
    }
    writeFileSync(join(DIR, 'done'), '');
  });
}

/** `go version -m FILE`, parsed independently of the code under test. */
function goVersionM(file: string) {
  const out = execFileSync('go', ['version', '-m', file], { encoding: 'utf8' });
  const [first, ...rest] = out.trimEnd().split('\n');
  const res = {
    goVersion: first!.slice(first!.lastIndexOf(': ') + 2),
    mod: [] as string[],
    deps: [] as { path: string; version: string; sum?: string; to?: { path: string; version: string } }[],
    build: {} as Record<string, string>,
  };
  for (const l of rest) {
    const f = l.replace(/^\t/, '').split('\t');
    if (f[0] === 'mod') res.mod = f.slice(1);
    else if (f[0] === 'dep') res.deps.push({ path: f[1]!, version: f[2]!, sum: f[3] });
    else if (f[0] === '=>') res.deps[res.deps.length - 1]!.to = { path: f[1]!, version: f[2] ?? '' };
    else if (f[0] === 'build') {
      const kv = l.slice(l.indexOf('build') + 6);
      res.build[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
    }
  }
  return res;
}

test(
  'go binaries: packages equal `go version -m` for ELF (64/32-bit, big-endian), Mach-O and PE',
  { timeout: 900_000 },
  async () => {
    ensureBinaries();
    for (const t of TARGETS) {
      const file = bin(t);
      const want = goVersionM(file);
      assert.equal(want.deps.length, 3, `${file}: go version -m lists the three deps`);
      assert.deepEqual(want.deps.map((d) => d.to?.path ?? '').sort(), ['', './local', 'example.com/fork']);
      const { packages, warnings } = await runCataloger(goCataloger, {
        '/usr/local/bin/app': readFileSync(file),
      });
      assert.deepEqual(warnings, []);
      const got = new Map(packages.map((p) => [p.name, p]));
      // stdlib, without the "go" prefix
      const std = got.get('stdlib')!;
      assert.equal(`go${std.version}`, want.goVersion);
      assert.equal(std.purl, `pkg:golang/stdlib@${std.version}`);
      // dependencies with replacements applied
      for (const d of want.deps) {
        if (d.to && d.to.path.startsWith('./')) {
          // "=> ./local (devel)": a directory, reported under the module path without a version
          const p = got.get(d.path)!;
          assert.equal(p.version, '', `${d.path} replaced by a local directory has no version`);
          assert.equal(p.purl, `pkg:golang/${d.path}`);
          assert.equal(p.metadata?.replacedBy, d.to.path);
          assert.equal(got.get(d.to.path), undefined);
        } else if (d.to) {
          const p = got.get(d.to.path)!;
          assert.equal(p.version, d.to.version);
          assert.equal(p.metadata?.replaces, `${d.path}@${d.version}`);
        } else {
          const p = got.get(d.path)!;
          assert.equal(p.version, d.version);
          assert.equal(p.metadata?.h1Digest, d.sum);
          assert.equal(p.purl, `pkg:golang/${d.path}@${d.version}`);
        }
      }
      // main module: "(devel)" in the binary, pseudo-version from the recorded VCS commit
      assert.equal(want.mod[1], '(devel)');
      const main = got.get(want.mod[0]!)!;
      const rev = want.build['vcs.revision']!;
      assert.ok(rev, 'built in a git checkout');
      assert.equal(main.version, `v0.0.0-20240506070809-${rev.slice(0, 12)}`);
      assert.equal(main.metadata?.GOOS, t.goos);
      assert.equal(main.metadata?.GOARCH, t.goarch);
      assert.equal(main.dependsOn?.length, 4);
      assert.equal(packages.length, 5);
    }
  },
);

test('non-Go executables and corrupt headers are ignored quickly, without warnings', async () => {
  const ls = readFileSync('/bin/ls');
  const truncated = readFileSync(bin(TARGETS[0]!)).subarray(0, 4096);
  const garbage = Buffer.alloc(8192, 0xab);
  garbage.write('\x7fELF\x02\x01', 'latin1');
  const t0 = Date.now();
  const { packages, warnings } = await runCataloger(goCataloger, {
    '/bin/ls': ls,
    '/usr/bin/truncated': truncated,
    '/usr/bin/garbage': garbage,
    '/usr/bin/script': Buffer.concat([Buffer.from('#!/bin/sh\n'), Buffer.alloc(4096, 0x20)]),
  });
  assert.ok(Date.now() - t0 < 2000);
  assert.deepEqual(packages, []);
  assert.deepEqual(warnings, []);
  assert.equal(readGoBuildInfo(ls), undefined);
});

test('stdlib versions: release, boringcrypto, rc, devel', () => {
  assert.equal(stdlibVersion('go1.19.8'), '1.19.8');
  assert.equal(stdlibVersion('go1.21.0 X:boringcrypto'), '1.21.0');
  assert.equal(stdlibVersion('go1.22rc1'), '1.22rc1');
  assert.equal(stdlibVersion('devel go1.23-abcdef Tue Jan 1'), undefined);
});

test('wants: executables and bin dirs, not small files or scripts by name; go.mod outside module caches', () => {
  const e = (path: string, mode = 0o755, size = 100_000) => ({ path, type: 'file' as const, mode, size });
  assert.equal(goCataloger.wants(e('/usr/local/bin/app', 0o644)), true);
  assert.equal(goCataloger.wants(e('/opt/app/server')), true);
  assert.equal(goCataloger.wants(e('/opt/app/data.bin', 0o644)), false);
  assert.equal(goCataloger.wants(e('/usr/bin/tool', 0o755, 200)), false);
  assert.equal(goCataloger.wants(e('/usr/bin/run.sh')), false);
  assert.equal(goCataloger.wants(e('/src/app/go.mod', 0o644, 200)), true);
  assert.equal(goCataloger.wants(e('/root/go/pkg/mod/github.com/x/y@v1.0.0/go.mod', 0o644, 200)), false);
});

test('Go binaries built by Debian (GOPATH mode, cgo, PIE): stdlib and deps equal `go version -m`', async () => {
  const candidates = [
    '/usr/bin/skopeo',
    '/usr/bin/umoci',
    '/usr/bin/docker-registry',
    '/usr/lib/go-1.19/bin/go',
    '/usr/lib/go-1.19/bin/gofmt',
  ];
  const files = candidates.filter((f) => existsSync(f));
  assert.ok(files.length >= 2, 'Debian Go binaries are installed (golang-go, skopeo, umoci)');
  for (const f of files) {
    const want = goVersionM(f);
    const info = readGoBuildInfo(readFileSync(f))!;
    assert.equal(info.goVersion, want.goVersion, f);
    assert.deepEqual(
      info.deps.map((d) => `${d.path}@${d.version}`),
      want.deps.map((d) => `${d.path}@${d.version}`),
      f,
    );
    assert.equal(info.main?.path, want.mod[0], f);
    assert.equal(info.settings.GOARCH, want.build.GOARCH, f);
    const { packages } = await runCataloger(goCataloger, {
      [`/usr/bin/${f.split('/').pop()}`]: readFileSync(f),
    });
    assert.ok(
      packages.some((p) => p.name === 'stdlib' && `go${p.version}` === want.goVersion),
      f,
    );
  }
});
