/** Reference parsing, auth challenges and docker-archive integrity (small archives made by skopeo). */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BulwarkError } from '../../src/core/errors.js';
import { analyzeTarget, parseChallenge, parseImageReference } from '../../src/image/index.js';
import { execFileP, recorder, type Seen } from './helpers.js';

describe('parseImageReference', () => {
  const table: [string, ReturnType<typeof parseImageReference>][] = [
    ['alpine', { registry: 'docker.io', repository: 'library/alpine', tag: 'latest', digest: undefined }],
    ['alpine:3.19', { registry: 'docker.io', repository: 'library/alpine', tag: '3.19', digest: undefined }],
    ['bitnami/redis:7', { registry: 'docker.io', repository: 'bitnami/redis', tag: '7', digest: undefined }],
    [
      'index.docker.io/library/debian:12',
      { registry: 'docker.io', repository: 'library/debian', tag: '12', digest: undefined },
    ],
    [
      '127.0.0.1:5000/team/app:1.0',
      { registry: '127.0.0.1:5000', repository: 'team/app', tag: '1.0', digest: undefined },
    ],
    ['localhost/app', { registry: 'localhost', repository: 'app', tag: 'latest', digest: undefined }],
    [
      'ghcr.io/o/r@sha256:' + 'a'.repeat(64),
      { registry: 'ghcr.io', repository: 'o/r', tag: undefined, digest: 'sha256:' + 'a'.repeat(64) },
    ],
    [
      'reg.example:443/a/b:t@sha256:' + 'b'.repeat(64),
      { registry: 'reg.example:443', repository: 'a/b', tag: 't', digest: 'sha256:' + 'b'.repeat(64) },
    ],
    ['docker://quay.io/x/y:z', { registry: 'quay.io', repository: 'x/y', tag: 'z', digest: undefined }],
  ];
  for (const [ref, want] of table) test(ref, () => assert.deepEqual(parseImageReference(ref), want));
  for (const bad of ['', 'UPPER/case', 'a@sha256:123', 'host:5000/repo:bad tag', 'repo:-x']) {
    test(`rejects ${JSON.stringify(bad)}`, () =>
      assert.throws(
        () => parseImageReference(bad),
        (e: unknown) => e instanceof BulwarkError && e.code === 'USAGE',
      ));
  }
});

test('parseChallenge reads Bearer and Basic challenges', () => {
  assert.deepEqual(
    parseChallenge(
      'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"',
    ),
    {
      scheme: 'bearer',
      params: {
        realm: 'https://auth.example/token',
        service: 'registry.example',
        scope: 'repository:a/b:pull',
      },
    },
  );
  assert.deepEqual(parseChallenge('Basic realm="bulwark-test"'), {
    scheme: 'basic',
    params: { realm: 'bulwark-test' },
  });
  assert.equal(parseChallenge(undefined), undefined);
});

describe('docker-archive integrity', { timeout: 120_000 }, () => {
  let tmp: string;
  let archive: string;
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'bulwark-archive-'));
    const src = join(tmp, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'hello.txt'), 'hello '.repeat(1000));
    const layout = join(tmp, 'oci');
    await execFileP('umoci', ['init', '--layout', layout]);
    await execFileP('umoci', ['new', '--image', `${layout}:t`]);
    await execFileP('umoci', ['insert', '--image', `${layout}:t`, join(src, 'hello.txt'), '/hello.txt']);
    archive = join(tmp, 'img.tar');
    await execFileP('skopeo', [
      'copy',
      '--quiet',
      `oci:${layout}:t`,
      `docker-archive:${archive}:bulwark/small:t`,
    ]);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test('reads the archive, by file and by REF', async () => {
    const r = await analyzeTarget(`docker-archive:${archive}:bulwark/small:t`, [
      recorder('h', 'final', (e) => e.path === '/hello.txt'),
    ]);
    assert.equal((r.results.get('h')![0]!.result as Seen).content.toString(), 'hello '.repeat(1000));
    await assert.rejects(
      analyzeTarget(`docker-archive:${archive}:other:1`, []),
      /no image tagged "other:1" \(tags: docker\.io\/bulwark\/small:t\)/,
    );
  });

  test('without a prefix: an existing file is a docker-archive, a directory a dir:, a single file works too', async () => {
    const h = () => recorder('h', 'final', (e) => e.path === '/hello.txt');
    const r = await analyzeTarget(archive, [h()]);
    assert.equal(r.artifact.kind, 'image');
    assert.equal(r.results.get('h')!.length, 1);
    const d = await analyzeTarget(join(tmp, 'src'), [h()]);
    assert.equal(d.artifact.kind, 'fs');
    assert.equal(d.results.get('h')!.length, 1);
    const f = await analyzeTarget(`dir:${join(tmp, 'src', 'hello.txt')}`, [h()]);
    assert.deepEqual([...f.files.paths()], ['/hello.txt']);
    assert.equal(f.results.get('h')!.length, 1);
  });

  test('a changed byte inside a layer is a digest mismatch naming the layer', async () => {
    const buf = Buffer.from(readFileSync(archive));
    const at = buf.indexOf('hello hello');
    assert.ok(at > 0);
    buf[at] = 0x48; // 'h' → 'H' in the uncompressed layer
    const bad = join(tmp, 'tampered.tar');
    writeFileSync(bad, buf);
    await assert.rejects(analyzeTarget(`docker-archive:${bad}`, []), (e: unknown) => {
      assert.ok(e instanceof BulwarkError && e.code === 'DIGEST_MISMATCH', String(e));
      assert.match(e.message, /^layer 0 \(sha256:[0-9a-f]{64}\) blob: digest mismatch/);
      return true;
    });
  });

  test('a truncated archive is refused with its name', async () => {
    const buf = readFileSync(archive);
    const cut = join(tmp, 'cut.tar');
    writeFileSync(cut, buf.subarray(0, Math.floor(buf.length / 2)));
    await assert.rejects(
      analyzeTarget(`docker-archive:${cut}`, []),
      (e: unknown) => e instanceof BulwarkError && e.code === 'CORRUPT' && e.message.includes(cut),
    );
  });
});
