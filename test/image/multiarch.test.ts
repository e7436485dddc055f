/**
 * Multi-platform images: two real single-platform images made with umoci (amd64 and arm64), joined
 * by an OCI image index in the same layout, read locally and pushed (skopeo --all) to docker-registry.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BulwarkError } from '../../src/core/errors.js';
import { analyzeTarget } from '../../src/image/index.js';
import { startRegistry, type FixtureImage, type TestRegistry } from '../fixtures/index.js';
import { execFileP, recorder, type Seen } from './helpers.js';

const arch = () => recorder('arch', 'final', (e) => e.path === '/etc/arch');
const content = (r: Awaited<ReturnType<typeof analyzeTarget>>) =>
  (r.results.get('arch')![0]!.result as Seen).content.toString().trim();

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

async function buildMultiArch(dir: string): Promise<string> {
  const layout = join(dir, 'multi');
  await execFileP('umoci', ['init', '--layout', layout]);
  for (const a of ['amd64', 'arm64']) {
    const src = join(dir, `src-${a}`);
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'arch'), `${a}\n`);
    await execFileP('umoci', ['new', '--image', `${layout}:${a}`]);
    await execFileP('umoci', ['config', '--image', `${layout}:${a}`, '--os', 'linux', '--architecture', a]);
    await execFileP('umoci', ['insert', '--image', `${layout}:${a}`, join(src, 'arch'), '/etc/arch']);
  }
  // The index umoci does not write: both manifests with their platforms, tagged "multi".
  const indexPath = join(layout, 'index.json');
  const top = JSON.parse(readFileSync(indexPath, 'utf8')) as { schemaVersion: number; manifests: Desc[] };
  const byTag = (t: string) =>
    top.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === t)!;
  const strip = ({ mediaType, digest, size }: Desc) => ({ mediaType, digest, size });
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      { ...strip(byTag('amd64')), platform: { os: 'linux', architecture: 'amd64' } },
      { ...strip(byTag('arm64')), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ],
  };
  const body = Buffer.from(JSON.stringify(index));
  const hex = createHash('sha256').update(body).digest('hex');
  writeFileSync(join(layout, 'blobs', 'sha256', hex), body);
  top.manifests.push({
    mediaType: 'application/vnd.oci.image.index.v1+json',
    digest: `sha256:${hex}`,
    size: body.length,
    annotations: { 'org.opencontainers.image.ref.name': 'multi' },
  });
  writeFileSync(indexPath, JSON.stringify(top));
  return layout;
}

describe('multi-platform images', { timeout: 300_000 }, () => {
  let tmp: string;
  let layout: string;
  let reg: TestRegistry;
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'bulwark-multi-'));
    [layout, reg] = await Promise.all([buildMultiArch(tmp), startRegistry({ tls: true, auth: true })]);
    const img: FixtureImage = {
      ociDir: layout,
      tag: 'multi',
      dockerArchive: '',
      rootfs: '',
      expected: { dpkg: [], npm: [], python: [], go: [], goStdlib: '' },
    };
    await reg.push(img, 'bulwark/multi', '1', { all: true });
  });
  after(async () => {
    await reg?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('oci layout: default linux/amd64, --platform picks, unknown platform lists the choices', async () => {
    assert.equal(content(await analyzeTarget(`oci:${layout}:multi`, [arch()])), 'amd64');
    const arm = await analyzeTarget(`oci:${layout}:multi`, [arch()], { platform: 'linux/arm64' });
    assert.equal(content(arm), 'arm64');
    assert.equal(arm.artifact.config?.architecture, 'arm64');
    assert.equal(
      content(await analyzeTarget(`oci:${layout}:multi`, [arch()], { platform: 'linux/arm64/v8' })),
      'arm64',
    );
    await assert.rejects(
      analyzeTarget(`oci:${layout}:multi`, [arch()], { platform: 'linux/s390x' }),
      (e: unknown) => {
        assert.ok(e instanceof BulwarkError && e.code === 'NOT_FOUND');
        assert.match(
          e.message,
          /no image for platform linux\/s390x; available: linux\/amd64, linux\/arm64\/v8/,
        );
        return true;
      },
    );
    await assert.rejects(
      analyzeTarget(`oci:${layout}:nope`, [arch()]),
      /tag "nope" not found in OCI layout .* \(tags: amd64, arm64, multi\)/,
    );
  });

  test('registry: the index is resolved per platform; repoDigests name the index', async () => {
    const o = { username: reg.username, password: reg.password, caCertFile: reg.caCertFile };
    const amd = await analyzeTarget(`${reg.host}/bulwark/multi:1`, [arch()], o);
    const arm = await analyzeTarget(`${reg.host}/bulwark/multi:1`, [arch()], {
      ...o,
      platform: 'linux/arm64',
    });
    assert.equal(content(amd), 'amd64');
    assert.equal(content(arm), 'arm64');
    assert.notEqual(amd.artifact.digest, arm.artifact.digest);
    assert.deepEqual(amd.artifact.repoDigests, arm.artifact.repoDigests, 'both name the index digest');
    await assert.rejects(
      analyzeTarget(`${reg.host}/bulwark/multi:1`, [arch()], { ...o, platform: 'windows/amd64' }),
      /available: linux\/amd64, linux\/arm64\/v8/,
    );
  });
});
