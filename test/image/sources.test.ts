/**
 * The three local sources on the real fixture image (Debian bookworm built with mmdebstrap + umoci,
 * see test/fixtures/build-debian-image.sh): OCI layout, skopeo's docker-archive, and the rootfs
 * unpacked by umoci. File contents handed to analyzers are checked against what the ecosystems' own
 * tools reported at build time (dpkg-query, npm's lock file, importlib.metadata, go version -m).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { before, describe, test } from 'node:test';
import type { AnalysisResult } from '../../src/core/analyzer.js';
import { analyzeTarget } from '../../src/image/index.js';
import { debianImage, type FixtureImage } from '../fixtures/index.js';
import { recorder, sha256, type Seen } from './helpers.js';

const METADATA = /^\/usr\/lib\/python3\/dist-packages\/[^/]+\.(dist-info\/METADATA|egg-info\/PKG-INFO)$/;

function analyzers() {
  return [
    recorder('dpkg-status', 'final', (e) => e.path === '/var/lib/dpkg/status'),
    recorder('npm-lock', 'final', (e) => e.path.endsWith('/package-lock.json')),
    recorder('npm-lock-all', 'all-layers', (e) => e.path.endsWith('/package-lock.json')),
    recorder('py-meta', 'final', (e) => METADATA.test(e.path)),
    recorder('go-bin', 'final', (e) => e.path === '/usr/local/bin/hello'),
    recorder('motd', 'all-layers', (e) => e.path === '/etc/motd'),
    recorder('perl', 'final', (e) => e.path === '/usr/bin/perl' || e.path === '/usr/bin/perl5.36.0'),
  ];
}

function seen(r: AnalysisResult, name: string): Seen[] {
  return (r.results.get(name) ?? []).map((x) => x.result as Seen);
}

/** dpkg status stanzas of installed packages → name/version/arch (what dpkg-query -W reads). */
function parseStatus(text: string) {
  return text
    .split(/\n\n+/)
    .map((stanza) =>
      Object.fromEntries(
        stanza
          .split('\n')
          .filter((l) => /^\S+: /.test(l))
          .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
      ),
    )
    .filter((f) => f.Status?.endsWith(' installed'))
    .map((f) => ({ name: f.Package as string, version: f.Version as string, arch: f.Architecture as string }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function checkContents(r: AnalysisResult, img: FixtureImage, layered: boolean) {
  // dpkg status: every installed package dpkg-query listed, with the same version and arch.
  const status = seen(r, 'dpkg-status');
  assert.equal(status.length, 1);
  assert.deepEqual(
    parseStatus(status[0]!.content.toString('utf8')),
    img.expected.dpkg.map((p) => ({ name: p.name, version: p.version, arch: p.arch })),
  );
  // npm: only /app's lock in the final filesystem (/opt/legacy was replaced by an opaque dir).
  const locks = seen(r, 'npm-lock');
  assert.deepEqual(locks.map((s) => s.path).sort(), ['/app/package-lock.json']);
  const lock = JSON.parse(
    locks.find((s) => s.path === '/app/package-lock.json')!.content.toString('utf8'),
  ) as {
    packages: Record<string, { version?: string }>;
  };
  assert.deepEqual(
    Object.entries(lock.packages)
      .filter(([k]) => k)
      .map(([k, v]) => `/app/${k}@${v.version}`)
      .sort(),
    img.expected.npm.map((p) => `${p.path}@${p.version}`).sort(),
  );
  // Python: the METADATA/PKG-INFO files present = what importlib.metadata found (PyYAML was whited out).
  const py = seen(r, 'py-meta').map((s) => {
    const t = s.content.toString('utf8');
    return `${/^Name: (.*)$/m.exec(t)?.[1]}@${/^Version: (.*)$/m.exec(t)?.[1]}`;
  });
  assert.deepEqual(py.sort(), img.expected.python.map((p) => `${p.name}@${p.version}`).sort());
  assert.ok(!py.some((p) => p.startsWith('PyYAML')));
  // Go: the binary's build info carries the modules `go version -m` printed.
  const go = seen(r, 'go-bin');
  assert.equal(go.length, 1);
  const bin = go[0]!.content.toString('latin1');
  assert.ok(bin.includes(img.expected.goStdlib));
  for (const m of img.expected.go) assert.ok(bin.includes(`dep\t${m.module}\t${m.version}`), m.module);
  // The final /etc/motd is the one the repack layer wrote.
  const motd = seen(r, 'motd');
  assert.equal(motd.at(-1)!.content.toString(), 'Bulwark fixture image\n');
  if (layered) {
    assert.equal(motd.length, 2, 'all-layers analyzer sees the base and the overwritten /etc/motd');
    assert.equal(motd.at(-1)!.layer?.index, 7);
    assert.equal(motd[0]!.layer?.index, 0);
    // all-layers keeps the lock files of /opt/legacy (layer 2), later hidden by the opaque dir.
    const all = seen(r, 'npm-lock-all').map((s) => `${s.path}@${s.layer?.index}`);
    assert.ok(all.includes('/opt/legacy/package-lock.json@2'), all.join(' '));
    assert.equal(locks.find((s) => s.path === '/app/package-lock.json')!.layer?.index, 1);
  }
  // Hard link (tar 'link' entry perl5.36.0 → perl in layer 0): a record under the link's path
  // carrying the result the analyzer produced for the target (a dir source reads both).
  const perl = r.results.get('perl')!;
  assert.deepEqual(perl.map((p) => p.path).sort(), ['/usr/bin/perl', '/usr/bin/perl5.36.0']);
  const [a, b] = perl.map((p) => (p.result as Seen).content);
  assert.ok(a!.equals(b!));
  assert.ok(a!.length > 1000);
  if (layered) assert.equal(r.files.get('/usr/bin/perl5.36.0')?.type, 'hardlink');
}

function checkTree(r: AnalysisResult) {
  const f = r.files;
  assert.equal(f.get('/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info'), undefined, 'whiteout applied');
  assert.equal(f.get('/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA'), undefined);
  assert.ok(f.get('/usr/lib/python3/dist-packages/yaml'), 'siblings of the whited-out dir stay');
  assert.equal(f.get('/usr/bin/wget'), undefined, 'deleted by the repack layer');
  const legacy = [...f.paths()].filter((p) => p.startsWith('/opt/legacy/')).sort();
  assert.deepEqual(legacy, ['/opt/legacy/README'], 'opaque dir hides the lower contents');
  assert.equal(f.get('/opt/pyapp/requirements.txt')?.type, 'file');
  assert.equal(f.resolve('/usr/bin/python3'), '/usr/bin/python3.11');
  assert.equal(f.resolve('/bin/sh'), '/usr/bin/dash', 'merged /usr: /bin → usr/bin, sh → dash');
  assert.equal(f.get('/bin')?.type, 'symlink');
  for (const p of f.paths()) assert.ok(p.startsWith('/') && !p.split('/').includes('..'), p);
}

describe('local image sources on the real Debian fixture', { timeout: 600_000 }, () => {
  let img: FixtureImage;
  let oci: AnalysisResult;
  before(async () => {
    img = await debianImage();
  });

  test('oci: layout — contents, whiteouts, opaque dir, layers', async () => {
    const progress: string[] = [];
    oci = await analyzeTarget(`oci:${img.ociDir}:${img.tag}`, analyzers(), {
      logger: { warn: () => {}, info: () => {}, debug: () => {}, progress: (m) => void progress.push(m) },
    });
    checkContents(oci, img, true);
    checkTree(oci);
    assert.deepEqual(oci.warnings, []);
    // Layer refs from the manifest, diff_ids and history (empty_layer entries skipped).
    const index = JSON.parse(readFileSync(join(img.ociDir, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    const blob = (d: string) => readFileSync(join(img.ociDir, 'blobs', 'sha256', d.slice(7)));
    const manifest = JSON.parse(blob(index.manifests[0]!.digest).toString()) as {
      config: { digest: string };
      layers: { digest: string; size: number }[];
    };
    const config = JSON.parse(blob(manifest.config.digest).toString()) as { rootfs: { diff_ids: string[] } };
    assert.equal(oci.artifact.digest, index.manifests[0]!.digest);
    assert.equal(oci.artifact.imageId, manifest.config.digest);
    assert.deepEqual(oci.artifact.repoTags, ['debian']);
    assert.equal(oci.artifact.layers.length, 8);
    oci.artifact.layers.forEach((l, i) => {
      assert.equal(l.index, i);
      assert.equal(l.digest, manifest.layers[i]!.digest);
      assert.equal(l.size, manifest.layers[i]!.size);
      assert.equal(l.diffId, config.rootfs.diff_ids[i]);
      assert.equal(l.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    });
    assert.match(oci.artifact.layers[0]!.createdBy ?? '', /^mmdebstrap /);
    assert.equal(oci.artifact.layers[1]!.createdBy, 'COPY app/ /app');
    assert.equal(oci.artifact.config?.architecture, 'amd64');
    assert.ok(
      progress.some((m) => /^layer 1\/8 /.test(m)),
      'progress reported per layer',
    );
  });

  test('umoci insert layers (no tar padding, no end-of-archive blocks) are read in full', () => {
    // Proves the fixture really has such a layer: the uncompressed tar of layer 1 stops mid-block.
    const layer1 = oci.artifact.layers[1]!;
    const tar = gunzipSync(readFileSync(join(img.ociDir, 'blobs', 'sha256', layer1.digest!.slice(7))));
    assert.notEqual(tar.length % 512, 0);
    assert.equal(sha256(tar), layer1.diffId);
    // ...and every file of it is in the index, the last one included.
    const expected = img.expected.npm.map((p) => `${p.path}/package.json`);
    for (const p of expected) assert.equal(oci.files.get(p)?.layer?.index, 1, p);
  });

  test('docker-archive: same image through skopeo', async () => {
    const r = await analyzeTarget(`docker-archive:${img.dockerArchive}`, analyzers());
    checkContents(r, img, true);
    checkTree(r);
    assert.deepEqual(
      r.artifact.repoTags,
      ['docker.io/bulwark/debian:fixture'],
      'RepoTags as skopeo wrote them',
    );
    assert.equal(r.artifact.imageId, oci.artifact.imageId, 'same config blob');
    assert.deepEqual(
      r.artifact.layers.map((l) => l.diffId),
      oci.artifact.layers.map((l) => l.diffId),
    );
    assert.equal(
      r.artifact.layers[0]!.mediaType,
      'application/vnd.oci.image.layer.v1.tar',
      'skopeo stores layers uncompressed',
    );
    assert.deepEqual([...r.files.paths()].sort(), [...oci.files.paths()].sort());
  });

  test('dir: the rootfs unpacked by umoci', async () => {
    const r = await analyzeTarget(`dir:${img.rootfs}`, analyzers());
    assert.equal(r.artifact.kind, 'rootfs');
    checkContents(r, img, false);
    checkTree(r);
    // Same files as the image, except the pseudo filesystems a rootfs scan skips.
    const skip = (p: string) => /^\/(dev|proc|sys)(\/|$)/.test(p);
    assert.deepEqual(
      [...r.files.paths()].filter((p) => !skip(p)).sort(),
      [...oci.files.paths()].filter((p) => !skip(p)).sort(),
    );
    // A project directory inside it is an 'fs' target with paths relative to it.
    const app = await analyzeTarget(join(img.rootfs, 'app'), analyzers(), { kind: 'fs' });
    assert.equal(app.artifact.kind, 'fs');
    assert.deepEqual(
      seen(app, 'npm-lock')
        .map((s) => s.path)
        .sort(),
      ['/package-lock.json'],
    );
  });
});
