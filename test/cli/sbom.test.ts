/**
 * `bulwark sbom` end to end: the built binary (node bin/bulwark, after `npm run build`) on the real
 * fixture image (test/fixtures: Debian bookworm by mmdebstrap + umoci layers with npm, Python and a
 * Go binary) in every source form — OCI layout, docker-archive, unpacked rootfs, and pulled from
 * Debian's docker-registry over TLS with basic auth. Package lists are compared with what the
 * ecosystems' own tools reported when the fixture was built (dpkg-query, the npm lock file,
 * importlib.metadata, `go version -m`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  debianImage,
  repoRoot,
  startRegistry,
  type FixtureImage,
  type TestRegistry,
} from '../fixtures/index.js';
import { readSbom } from '../../src/sbom/index.js';
import type { Catalog } from '../../src/core/types.js';
import { assertValidCycloneDX, assertValidSPDX } from '../sbom/validate.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function bulwark(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'bulwark'), ...args],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', HOME: mkdtempSync(join(tmpdir(), 'bulwark-home-')), ...env },
        maxBuffer: 256 * 1024 * 1024,
        timeout: 180_000,
      },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** What the logger writes to erase a progress line on a terminal. */
const CLEAR_LINE = '\r\u001b[2K';
/** A terminal line as it ends up on screen: whatever came after the last erase. */
function afterLastClear(l: string): string {
  const i = l.lastIndexOf(CLEAR_LINE);
  return i < 0 ? l : l.slice(i + CLEAR_LINE.length);
}
const key = (name: string, version: string) => `${name}@${version}`;
const sorted = (xs: Iterable<string>) => [...xs].sort();

/** The catalog's packages per ecosystem equal what the ecosystems' own tools listed. */
function assertMatchesFixture(cat: Catalog, img: FixtureImage, label: string) {
  const e = img.expected;
  assert.equal(cat.distro?.id, 'debian', label);
  assert.equal(cat.distro?.versionId.split('.')[0], '12', label);

  const deb = cat.packages.filter((p) => p.type === 'deb');
  assert.deepEqual(
    sorted(deb.map((p) => key(p.name, p.version))),
    sorted(e.dpkg.map((d) => key(d.name, d.version))),
    `${label}: dpkg`,
  );
  for (const d of e.dpkg) {
    const p = deb.find((x) => x.name === d.name)!;
    assert.equal(p.sourceName ?? p.name, d.source, `${label}: source of ${d.name}`);
    assert.equal(p.ecosystem, 'Debian:12');
  }

  // the lock file's packages; the project itself (the lock file's root, /app/package.json) is not one of them
  const project = JSON.parse(readFileSync(join(img.rootfs, 'app', 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  const npm = cat.packages.filter(
    (p) =>
      p.type === 'npm' &&
      p.locations.some((l) => l.path.startsWith('/app/')) &&
      key(p.name, p.version) !== key(project.name, project.version),
  );
  assert.deepEqual(
    sorted(new Set(npm.map((p) => key(p.name, p.version)))),
    sorted(new Set(e.npm.map((d) => key(d.name, d.version)))),
    `${label}: npm`,
  );

  // installed distributions (what importlib sees) ...
  const py = cat.packages.filter(
    (p) => p.type === 'pypi' && p.locations.some((l) => /\/(site|dist)-packages\//.test(l.path)),
  );
  assert.deepEqual(
    sorted(new Set(py.map((p) => key(p.name.toLowerCase(), p.version)))),
    sorted(new Set(e.python.map((d) => key(d.name.toLowerCase(), d.version)))),
    `${label}: python installed`,
  );
  // ... and the pins of the image's requirements file
  const reqFile = '/opt/pyapp/requirements.txt';
  const pins = [
    ...readFileSync(join(img.rootfs, reqFile), 'utf8').matchAll(/^([A-Za-z0-9._-]+)==([^\s#;]+)/gm),
  ].map((m) => key(m[1]!.toLowerCase(), m[2]!));
  assert.ok(pins.length > 0);
  const pinned = cat.packages.filter((p) => p.type === 'pypi' && p.locations.some((l) => l.path === reqFile));
  assert.deepEqual(
    sorted(pinned.map((p) => key(p.name.toLowerCase(), p.version))),
    sorted(pins),
    `${label}: python requirements`,
  );

  const go = cat.packages.filter(
    (p) => p.type === 'golang' && p.locations.some((l) => l.path === '/usr/local/bin/hello'),
  );
  const stdlib = go.find((p) => p.name === 'stdlib');
  assert.ok(stdlib, `${label}: Go stdlib`);
  assert.equal(
    stdlib.version.replace(/^v/, 'go').replace(/^(?!go)/, 'go'),
    e.goStdlib,
    `${label}: Go stdlib version`,
  );
  // everything in the binary but the standard library and the main module itself
  const mainModule = /^module\s+(\S+)/m.exec(
    readFileSync(join(repoRoot, 'test', 'fixtures', 'hello-go', 'go.mod'), 'utf8'),
  )![1];
  const goDeps = go.filter((p) => p.name !== 'stdlib' && p.name !== mainModule);
  assert.deepEqual(
    sorted(goDeps.map((p) => key(p.name, p.version))),
    sorted(e.go.map((m) => key(m.module, m.version))),
    `${label}: go modules`,
  );
}

/** Non-TTY stderr: no progress lines, no terminal control sequences; only WARN lines if anything. */
function assertQuietStderr(r: Run) {
  assert.ok(
    !r.stderr.includes('\r') && !r.stderr.includes(CLEAR_LINE),
    'no progress or control sequences on a non-terminal stderr',
  );
  for (const line of r.stderr.split('\n').filter(Boolean))
    assert.match(line, /^WARN /, `unexpected stderr line: ${line}`);
}

describe('bulwark sbom (built CLI, real fixture image)', { timeout: 600_000 }, () => {
  let img: FixtureImage;
  before(async () => {
    if (!existsSync(join(repoRoot, 'dist', 'cli', 'main.js')))
      throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    img = await debianImage();
  });

  it('oci: layout → CycloneDX 1.6 (the default off a terminal), schema-valid, packages as the ecosystems list them', async () => {
    const r = await bulwark(['sbom', `oci:${img.ociDir}:${img.tag}`]);
    assert.equal(r.code, 0, r.stderr);
    assertQuietStderr(r);
    const bom = JSON.parse(r.stdout);
    assertValidCycloneDX(bom);
    assert.equal(bom.metadata.component.type, 'container');
    const os = bom.components.find((c: any) => c.type === 'operating-system');
    assert.equal(os.name, 'debian');
    assertMatchesFixture(readSbom(r.stdout).catalog, img, 'oci');
    // every layer-backed location names a layer of this image
    const layerProps = bom.components.flatMap((c: any) =>
      (c.properties ?? []).filter((p: any) => p.name === 'bulwark:location:layer'),
    );
    assert.ok(layerProps.length > 0);
  });

  it('docker-archive: → SPDX 2.3, schema-valid, same packages', async () => {
    const r = await bulwark(['sbom', '--format', 'spdx', `docker-archive:${img.dockerArchive}`]);
    assert.equal(r.code, 0, r.stderr);
    assertQuietStderr(r);
    const doc = JSON.parse(r.stdout);
    assertValidSPDX(doc);
    assert.equal(doc.packages[0].primaryPackagePurpose, 'CONTAINER');
    assertMatchesFixture(readSbom(r.stdout).catalog, img, 'docker-archive');
  });

  it('dir: rootfs → json written with -o FILE', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'bulwark-sbom-')), 'catalog.json');
    const r = await bulwark(['sbom', '-f', 'json', '-o', out, `dir:${img.rootfs}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '', 'nothing on stdout with -o');
    assertQuietStderr(r);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(j.schemaVersion, 1);
    assert.equal(j.artifact.kind === 'rootfs' || j.artifact.kind === 'fs', true);
    assertMatchesFixture({ distro: j.distro, packages: j.packages, warnings: j.warnings }, img, 'dir');
    assert.deepEqual(readdirSync(join(out, '..')), ['catalog.json'], 'no temporary file left behind');
  });

  it('on a terminal (a real pty from script(1)): table by default, progress on stderr; -q silences progress', async () => {
    const inPty = (args: string[]) =>
      new Promise<Run>((resolve) => {
        const cmd = [process.execPath, join(repoRoot, 'bin', 'bulwark'), ...args]
          .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
          .join(' ');
        execFile(
          'script',
          ['-qec', cmd, '/dev/null'],
          { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
          (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
        );
      });
    const tty = await inPty(['sbom', `oci:${img.ociDir}:${img.tag}`]);
    assert.equal(tty.code, 0, tty.stdout);
    assert.ok(tty.stdout.includes(CLEAR_LINE), 'progress lines are drawn and cleared');
    const lines = tty.stdout.split(/\r?\n/).map(afterLastClear);
    const header = lines.findIndex((l) => /^NAME\s+VERSION\s+TYPE\s+LOCATION$/.test(l));
    assert.ok(header > 0, 'table is the default on a terminal');
    assert.match(lines[header - 2]!, /^oci:.*\(Debian GNU\/Linux 12 \(bookworm\)\): \d+ packages$/);
    const libc = img.expected.dpkg.find((d) => d.name === 'libc6')!;
    const row = new RegExp(
      `^libc6\\s+${libc.version.replace(/[.+]/g, '\\$&')}\\s+deb\\s+/var/lib/dpkg/status \\[layer 0\\]`,
    );
    assert.ok(
      lines.some((l) => row.test(l)),
      'libc6 row with version, type and where it came from',
    );
    // -q: no progress (a target that fails fast is enough to see it)
    const quiet = await inPty(['-q', 'sbom', 'oci:/nonexistent/layout:latest']);
    assert.ok(!quiet.stdout.includes('analyzing') && !quiet.stdout.includes(CLEAR_LINE), quiet.stdout);
    assert.match(quiet.stdout, /^bulwark: .*\/nonexistent\/layout/m);
  });

  describe('from a registry with TLS and basic auth', () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startRegistry({ tls: true, auth: true });
      await reg.push(img, 'bulwark/debian', 'fixture');
    });
    after(async () => reg?.stop());

    it('pulls with --ca-cert, --username and BULWARK_PASSWORD: valid CycloneDX with the pkg:oci purl, complete package lists', async () => {
      const ref = `${reg.host}/bulwark/debian:fixture`;
      const common = ['--ca-cert', reg.caCertFile, '--username', reg.username];
      const env = { BULWARK_PASSWORD: reg.password };
      const c = await bulwark(['sbom', ...common, '-f', 'cyclonedx', ref], env);
      for (const r of [c]) {
        assert.equal(r.code, 0, r.stderr);
        assertQuietStderr(r);
        assert.ok(
          !r.stdout.includes(reg.password) && !r.stderr.includes(reg.password),
          'the password is never printed',
        );
      }
      const bom = JSON.parse(c.stdout);
      assertValidCycloneDX(bom);
      assert.match(bom.metadata.component.purl ?? '', /^pkg:oci\/debian@sha256:[0-9a-f]{64}\?/);
      assert.equal(bom.metadata.component.name, ref);
      assertMatchesFixture(readSbom(c.stdout).catalog, img, 'registry');
    });

    it('fails with one clear line for a wrong password and for an untrusted certificate', async () => {
      const ref = `${reg.host}/bulwark/debian:fixture`;
      const bad = await bulwark(['sbom', '--ca-cert', reg.caCertFile, '--username', reg.username, ref], {
        BULWARK_PASSWORD: 'wrong-password',
      });
      assert.equal(bad.code, 1);
      assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
      assert.match(bad.stderr, /^bulwark: .*(401|unauthori|authentication|credentials)/i);
      assert.doesNotMatch(bad.stderr, /wrong-password/);
      const untrusted = await bulwark(['sbom', '--username', reg.username, ref], {
        BULWARK_PASSWORD: reg.password,
      });
      assert.equal(untrusted.code, 1);
      assert.equal(untrusted.stderr.trim().split('\n').length, 1, untrusted.stderr);
      assert.match(untrusted.stderr, /^bulwark: .*(certificate|TLS|self.signed|verify)/i);
    });
  });

  it('usage errors exit 2; a missing target exits 1 naming it', async () => {
    const fmt = await bulwark(['sbom', '--format', 'xml', `oci:${img.ociDir}`]);
    assert.equal(fmt.code, 2, fmt.stderr);
    assert.match(fmt.stderr, /xml/);
    const plat = await bulwark(['sbom', '--platform', 'linux', `oci:${img.ociDir}`]);
    assert.equal(plat.code, 2, plat.stderr);
    assert.match(plat.stderr, /invalid --platform "linux"/);
    const user = await bulwark(['sbom', '--username', 'x', `oci:${img.ociDir}`]);
    assert.equal(user.code, 2, user.stderr);
    assert.match(user.stderr, /needs a password/);
    const missing = await bulwark(['sbom', 'oci:/nonexistent/layout:latest']);
    assert.equal(missing.code, 1, missing.stderr);
    assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
    assert.match(missing.stderr, /^bulwark: .*\/nonexistent\/layout/);
    // --timeout bounds the whole run (as in Trivy): one line, exit 1
    const slow = await bulwark(['sbom', '--timeout', '50ms', `oci:${img.ociDir}:${img.tag}`]);
    assert.equal(slow.code, 1, slow.stderr);
    assert.match(slow.stderr, /^bulwark: oci:.*: timed out after 50ms \(raise --timeout\)\n$/);
    assert.equal(slow.stdout, '');
    const out = await bulwark(['sbom', '-o', '/nonexistent/dir/sbom.json', `oci:${img.ociDir}:${img.tag}`]);
    assert.equal(out.code, 1, out.stderr);
    assert.equal(out.stderr, 'bulwark: cannot write /nonexistent/dir/sbom.json: ENOENT\n');
  });
});
