/**
 * Hostile and broken layers. These archives are written by the test (tar-stream, zlib) into real OCI
 * layouts, because no well-behaved tool produces them: path traversal, symlink escapes, bombs,
 * truncated or tampered blobs, corrupt headers.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import { createGzip, gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import type { AnalysisResult } from '../../src/core/analyzer.js';
import { BulwarkError } from '../../src/core/errors.js';
import { analyzeTarget } from '../../src/image/index.js';
import {
  execFileP,
  gzLayer,
  recorder,
  sha256,
  tarBuffer,
  writeOciLayout,
  type LayoutLayer,
  type Seen,
} from './helpers.js';

let tmp: string;
let n = 0;
function layout(layers: LayoutLayer[]): string {
  const dir = join(tmp, `img${n++}`);
  writeOciLayout(dir, 't', layers);
  return `oci:${dir}:t`;
}
const everything = () => recorder('all', 'all-layers', () => true);
const finalAll = () => recorder('final', 'final', () => true);
const paths = (r: AnalysisResult) => [...r.files.paths()].sort();

async function rejectsWith(p: Promise<unknown>, code: string, re: RegExp): Promise<BulwarkError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof BulwarkError, `expected a BulwarkError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return e;
  }
  assert.fail('expected an error');
}

describe('hostile and broken layers', { timeout: 300_000 }, () => {
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'bulwark-hostile-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test('"../" and absolute entry names never escape the root', async () => {
    const tar = await tarBuffer([
      { name: '../../etc/evil', content: 'evil' },
      { name: '/abs/file', content: 'abs' },
      { name: 'a/../../b', content: 'climb' },
      { name: 'ok/../fine', content: 'fine' },
      { name: './x/./y', content: 'y' },
      { name: 'hl', type: 'link', linkname: '../../etc/passwd' },
      { name: 'w/.wh..', content: '' },
    ]);
    const r = await analyzeTarget(layout([gzLayer(tar)]), [everything()]);
    assert.deepEqual(paths(r), ['/abs', '/abs/file', '/fine', '/x', '/x/y']);
    const seen = r.results
      .get('all')!
      .map((x) => x.path)
      .sort();
    assert.deepEqual(seen, ['/abs/file', '/fine', '/x/y']);
    for (const name of ['../../etc/evil', 'a/../../b']) {
      assert.ok(
        r.warnings.some(
          (w) =>
            w.includes(JSON.stringify(name)) &&
            w.includes('leaves the image root') &&
            w.startsWith('layer 0 (sha256:'),
        ),
        name,
      );
    }
    assert.ok(r.warnings.some((w) => /hard link \/hl -> "\.\.\/\.\.\/etc\/passwd"/.test(w)));
    assert.ok(r.warnings.some((w) => /malformed whiteout/.test(w)));
  });

  test('symlinks resolve inside the root only: escapes, chains, loops, symlinked parents', async () => {
    const tar = await tarBuffer([
      { name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
      { name: 'up', type: 'symlink', linkname: '../../../../etc' },
      { name: 'abs', type: 'symlink', linkname: '/etc/passwd' },
      { name: 'rel', type: 'symlink', linkname: 'etc/../etc/./passwd' },
      { name: 'c1', type: 'symlink', linkname: 'c2' },
      { name: 'c2', type: 'symlink', linkname: 'c3' },
      { name: 'c3', type: 'symlink', linkname: 'sub/../..' },
      { name: 'sub/', type: 'directory' },
      { name: 'loop1', type: 'symlink', linkname: 'loop2' },
      { name: 'loop2', type: 'symlink', linkname: 'loop1' },
      { name: 'usr/lib', type: 'symlink', linkname: '../../..' },
      // Written "through" the symlinked parent: placed by name, the symlink is not followed.
      { name: 'usr/lib/x', content: 'x' },
      { name: 'var/run', type: 'symlink', linkname: '/../../run' },
      { name: 'run/ok', content: 'ok' },
    ]);
    const r = await analyzeTarget(layout([gzLayer(tar)]), [everything()]);
    const f = r.files;
    assert.equal(f.resolve('/up/passwd'), undefined, '.. above the root');
    assert.equal(f.resolve('/up'), undefined);
    assert.equal(f.resolve('/abs'), '/etc/passwd', 'absolute targets start at the image root');
    assert.equal(f.resolve('/rel'), '/etc/passwd');
    assert.equal(f.resolve('/c1/etc/passwd'), undefined, 'a chain ending above the root');
    assert.equal(f.resolve('/loop1'), undefined);
    assert.equal(f.get('/usr/lib')?.type, 'dir');
    assert.equal(f.resolve('/usr/lib/x'), '/usr/lib/x');
    assert.equal(f.resolve('/var/run/ok'), undefined, '"/../.." is refused, not clamped');
    assert.equal(f.resolve('/nothing/here'), undefined);
    // Analyzers only ever get regular files, by their own path.
    assert.deepEqual(
      r.results
        .get('all')!
        .map((x) => x.path)
        .sort(),
      ['/etc/passwd', '/run/ok', '/usr/lib/x'],
    );
  });

  test('dir: symlinks out of the directory are recorded, never followed', async () => {
    const root = join(tmp, 'dirsrc');
    mkdirSync(join(root, 'app'), { recursive: true });
    writeFileSync(join(root, 'app', 'package.json'), '{}');
    symlinkSync('/etc', join(root, 'etc-link'));
    symlinkSync('../../../../../..', join(root, 'app', 'up'));
    symlinkSync('/etc/passwd', join(root, 'passwd'));
    const r = await analyzeTarget(`dir:${root}`, [everything()]);
    assert.equal(r.artifact.kind, 'fs');
    assert.deepEqual(
      r.results.get('all')!.map((x) => x.path),
      ['/app/package.json'],
    );
    assert.equal(r.files.get('/etc-link')?.type, 'symlink');
    assert.equal(r.files.resolve('/passwd'), undefined, 'dangles: there is no /etc/passwd in the artifact');
    assert.equal(r.files.resolve('/app/up/etc'), undefined);
    assert.ok(!paths(r).some((p) => p.startsWith('/etc-link/')));
  });

  test('decompression bomb: 1 GiB of zeros streams through in bounded memory; the per-layer cap stops it', async () => {
    const file = join(tmp, 'bomb.tar.gz');
    const p = pack();
    const size = 1024 ** 3;
    const zeros = Buffer.alloc(1024 * 1024);
    const entry = p.entry({ name: 'zeros', size }) as unknown as Writable;
    const writing = (async () => {
      for (let i = 0; i < size / zeros.length; i++) {
        if (!entry.write(zeros)) await new Promise((r) => entry.once('drain', r));
      }
      entry.end();
      p.entry({ name: 'after-the-bomb', size: 2 }, 'ok');
      p.finalize();
    })();
    // The diff_id is hashed while the tar is generated.
    const h = createHash('sha256');
    const tee = new Transform({ transform: (c: Buffer, _e, cb) => (h.update(c), cb(null, c)) });
    await Promise.all([
      writing,
      pipeline(p as unknown as Readable, tee, createGzip({ level: 1 }), createWriteStream(file)),
    ]);
    const blob = readFileSync(file);
    assert.ok(blob.length < 8 * 1024 * 1024, `bomb is small: ${blob.length}`);
    const target = layout([{ blob, diffId: `sha256:${h.digest('hex')}` }]);

    let peak = 0;
    const base = process.memoryUsage().rss;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const r = await analyzeTarget(target, [
      recorder('zeros', 'final', (x) => x.path === '/zeros'),
      everything(),
    ]);
    clearInterval(timer);
    assert.ok(peak - base < 150 * 1024 * 1024, `RSS grew by ${((peak - base) / 1e6).toFixed(0)} MB`);
    assert.equal(r.files.get('/zeros')?.size, size);
    assert.deepEqual(
      r.results.get('all')!.map((x) => x.path),
      ['/after-the-bomb'],
    );
    assert.ok(
      r.warnings.some((w) =>
        /skipped \/zeros \(layer 0 sha256:[0-9a-f]{12}\) for zeros: 1073741824 bytes is over its 67108864-byte limit/.test(
          w,
        ),
      ),
      r.warnings.join('\n'),
    );
    // A per-layer cap on uncompressed bytes turns the bomb into an error.
    await rejectsWith(
      analyzeTarget(target, [], { maxLayerBytes: 100 * 1024 * 1024 }),
      'LIMIT',
      /layer 0 .*more than 104857600 uncompressed bytes/,
    );
  });

  test('truncated gzip stream: error names the layer', async () => {
    const tar = await tarBuffer(
      Array.from({ length: 20 }, (_, i) => ({
        name: `f${i}`,
        content: Buffer.from(sha256(Buffer.from(String(i))).repeat(2000)),
      })),
    );
    const full = gzipSync(tar);
    const cut = full.subarray(0, Math.floor(full.length * 0.6));
    const e = await rejectsWith(
      analyzeTarget(layout([{ blob: cut, tar }]), [everything()]),
      'CORRUPT',
      /^layer 0 \(sha256:[0-9a-f]{64}\): truncated gzip stream$/,
    );
    assert.equal(e.subject, sha256(cut));
  });

  test('tar cut inside an entry fails; a tar missing only its padding and end blocks is accepted', async () => {
    const tar = await tarBuffer([
      { name: 'a', content: 'A'.repeat(700) },
      { name: 'b', content: 'B'.repeat(300) },
    ]);
    // 512 header a + 1024 data a + 512 header b + 300 data b: drop b's padding and the 1024-byte trailer.
    const noTrailer = tar.subarray(0, 512 + 1024 + 512 + 300);
    const r = await analyzeTarget(layout([gzLayer(noTrailer)]), [everything()]);
    assert.equal((r.results.get('all')![1]!.result as Seen).content.toString(), 'B'.repeat(300));
    const cutInside = tar.subarray(0, 512 + 1024 + 512 + 200);
    await rejectsWith(
      analyzeTarget(layout([gzLayer(cutInside)]), [everything()]),
      'CORRUPT',
      /^layer 0 \(sha256:[0-9a-f]{64}\): truncated tar stream/,
    );
  });

  test('tampered layer: digest mismatch names the blob', async () => {
    const tar = await tarBuffer(
      Array.from({ length: 10 }, (_, i) => ({ name: `f${i}`, content: `file ${i}\n`.repeat(500) })),
    );
    const good = gzipSync(tar);
    // (a) gzip header mtime changed: decompresses fine, only the digest tells.
    const a = Buffer.from(good);
    a[4] = a[4]! ^ 0xff;
    await rejectsWith(
      analyzeTarget(layout([{ blob: a, tar, digest: sha256(good) }]), [everything()]),
      'DIGEST_MISMATCH',
      new RegExp(
        `^layer 0 \\(${sha256(good)}\\) blob: digest mismatch \\(expected ${sha256(good)}, got ${sha256(a)}\\)`,
      ),
    );
    // (b) a byte flipped inside the deflate data: decompression breaks first, the error still says tampered.
    const b = Buffer.from(good);
    b[Math.floor(b.length / 2)] = b[Math.floor(b.length / 2)]! ^ 0x55;
    await rejectsWith(
      analyzeTarget(layout([{ blob: b, tar, digest: sha256(good) }]), [everything()]),
      'DIGEST_MISMATCH',
      /blob: digest mismatch/,
    );
    // (c) right blob digest, wrong diff_id in the config.
    await rejectsWith(
      analyzeTarget(layout([{ blob: good, tar, diffId: sha256(Buffer.from('other')) }]), [everything()]),
      'DIGEST_MISMATCH',
      /layer 0 .* uncompressed \(diff_id\): digest mismatch/,
    );
  });

  test('corrupt tar header: error names the layer', async () => {
    const tar = await tarBuffer([
      { name: 'a', content: 'aaa' },
      { name: 'b', content: 'bbb' },
    ]);
    const bad = Buffer.from(tar);
    bad[1024 + 148] = 0x39; // second header's checksum field
    bad[1024 + 0] = 0xff;
    await rejectsWith(
      analyzeTarget(layout([gzLayer(bad)]), [everything()]),
      'CORRUPT',
      /^layer 0 \(sha256:[0-9a-f]{64}\): corrupt tar header/,
    );
  });

  test('device files and fifos are listed, never read', async () => {
    const tar = await tarBuffer([
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 },
      { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 },
      { name: 'run/fifo', type: 'fifo' },
      { name: 'etc/hostname', content: 'box\n' },
    ]);
    const r = await analyzeTarget(layout([gzLayer(tar)]), [everything()]);
    assert.equal(r.files.get('/dev/null')?.type, 'other');
    assert.equal(r.files.get('/run/fifo')?.type, 'other');
    assert.deepEqual(
      r.results.get('all')!.map((x) => x.path),
      ['/etc/hostname'],
    );
  });

  test('per-analyzer size caps: over the cap is skipped with a warning, content read once for the rest', async () => {
    const big = Buffer.alloc(5000, 0x61);
    const tar = await tarBuffer([{ name: 'big', content: big }]);
    const r = await analyzeTarget(layout([gzLayer(tar)]), [
      recorder('small', 'final', () => true, 1000),
      recorder('large', 'final', () => true, 10_000),
    ]);
    assert.equal(r.results.get('small')!.length, 0);
    assert.ok((r.results.get('large')![0]!.result as Seen).content.equals(big));
    assert.ok(
      r.warnings.some((w) =>
        /^skipped \/big \(layer 0 sha256:[0-9a-f]{12}\) for small: 5000 bytes is over its 1000-byte limit$/.test(
          w,
        ),
      ),
      r.warnings.join('\n'),
    );
    // dir: the same rule, reading from disk.
    const d = join(tmp, 'bigdir');
    mkdirSync(d);
    writeFileSync(join(d, 'big'), big);
    const rd = await analyzeTarget(`dir:${d}`, [
      recorder('small', 'final', () => true, 1000),
      recorder('large', 'final', () => true, 10_000),
    ]);
    assert.equal(rd.results.get('small')!.length, 0);
    assert.ok((rd.results.get('large')![0]!.result as Seen).content.equals(big));
  });

  test('whiteouts, opaque dirs and overwrites across hand-made layers', async () => {
    const l0 = await tarBuffer([
      { name: 'a/x', content: 'x0' },
      { name: 'a/y', content: 'y0' },
      { name: 'b/z', content: 'z0' },
      { name: 'c/inner', content: 'c0' },
      { name: 'keep', content: 'k0' },
    ]);
    const l1 = await tarBuffer([
      { name: 'a/new', content: 'n1' }, // before the opaque marker, same layer: stays
      { name: 'a/.wh..wh..opq', content: '' },
      { name: '.wh.b', content: '' },
      { name: 'c', content: 'file over dir' },
      { name: 'keep', content: 'k1' },
      { name: 'same', content: 's1' }, // a whiteout never hides its own layer's entries
      { name: '.wh.same', content: '' },
    ]);
    const r = await analyzeTarget(layout([gzLayer(l0), gzLayer(l1)]), [finalAll(), everything()]);
    assert.deepEqual(paths(r), ['/a', '/a/new', '/c', '/keep', '/same']);
    const fin = r.results
      .get('final')!
      .map((x) => `${x.path}@${x.layer!.index}`)
      .sort();
    assert.deepEqual(fin, ['/a/new@1', '/c@1', '/keep@1', '/same@1']);
    const all = r.results
      .get('all')!
      .map((x) => `${x.path}@${x.layer!.index}`)
      .sort();
    assert.deepEqual(all, [
      '/a/new@1',
      '/a/x@0',
      '/a/y@0',
      '/b/z@0',
      '/c/inner@0',
      '/c@1',
      '/keep@0',
      '/keep@1',
      '/same@1',
    ]);
    assert.equal(r.files.get('/keep')?.layer?.index, 1);
  });

  test('zstd layers', { skip: !hasZstd() && 'zstd not installed' }, async () => {
    const tar = await tarBuffer([{ name: 'etc/os-release', content: 'ID=debian\n' }]);
    const raw = join(tmp, 'z.tar');
    writeFileSync(raw, tar);
    await execFileP('zstd', ['-q', '-19', raw, '-o', `${raw}.zst`]);
    const blob = readFileSync(`${raw}.zst`);
    const r = await analyzeTarget(
      layout([{ blob, tar, mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' }]),
      [everything()],
    );
    assert.equal((r.results.get('all')![0]!.result as Seen).content.toString(), 'ID=debian\n');
    assert.equal(r.artifact.layers[0]!.mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd');
  });

  test(
    'zstd bomb: 256 MiB of zeros from a few KB stays bounded in memory',
    { skip: !hasZstd() && 'zstd not installed' },
    async () => {
      const n = 256 * 1024 * 1024;
      const out = join(tmp, 'zeros.zst');
      await execFileP('sh', ['-c', `head -c ${n} /dev/zero | zstd -q -3 > ${out}`]);
      const blob = readFileSync(out);
      assert.ok(blob.length < 64 * 1024, `${blob.length} bytes`);
      const diffId = `sha256:${createHash('sha256').update(Buffer.alloc(n)).digest('hex')}`;
      const target = layout([{ blob, diffId, mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' }]);
      let peak = 0;
      const base = process.memoryUsage().rss;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
      // All zeros is a tar holding nothing but end-of-archive blocks: an empty, valid layer.
      const r = await analyzeTarget(target, [everything()]);
      clearInterval(timer);
      assert.equal(r.files.size, 0);
      assert.equal(r.artifact.layers[0]!.diffId, diffId);
      assert.ok(peak - base < 100 * 1024 * 1024, `RSS grew by ${((peak - base) / 1e6).toFixed(0)} MB`);
    },
  );
});

function hasZstd(): boolean {
  try {
    execFileSync('zstd', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
