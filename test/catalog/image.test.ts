/**
 * The whole pipeline on the real Debian bookworm fixture image (mmdebstrap + umoci layers, see
 * test/fixtures/build-debian-image.sh): image walker → catalogers → buildCatalog, compared with
 * what dpkg-query reported on the same root filesystem at build time.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Catalog } from '../../src/core/types.js';
import { catalogTarget } from '../../src/catalog/index.js';
import { debianImage, type FixtureImage } from '../fixtures/index.js';

describe('catalog of the Debian fixture image', () => {
  let fx: FixtureImage;
  let cat: Catalog;
  before(async () => {
    fx = await debianImage();
    cat = await catalogTarget(`oci:${fx.ociDir}:${fx.tag}`);
  });

  it('distro and Debian packages equal dpkg-query on the image rootfs', () => {
    assert.equal(cat.distro?.id, 'debian');
    assert.equal(cat.distro?.versionId, '12');
    const got = cat.packages
      .filter((p) => p.type === 'deb')
      .map((p) => ({
        name: p.name,
        version: p.version,
        source: p.sourceName ?? p.name,
        sourceVersion: p.sourceVersion ?? p.version,
        arch: p.arch,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    assert.ok(fx.expected.dpkg.length > 100);
    assert.deepEqual(got, fx.expected.dpkg);
    for (const p of cat.packages.filter((x) => x.type === 'deb')) {
      assert.equal(p.ecosystem, 'Debian:12');
      assert.match(p.purl, /^pkg:deb\/debian\/[^@]+@[^?]+\?arch=[a-z0-9]+&distro=debian-12/);
    }
  });

  it('locations carry the layer that last wrote the file', () => {
    assert.ok(cat.packages.length > 100);
    for (const p of cat.packages) {
      for (const l of p.locations) {
        assert.equal(typeof l.layerIndex, 'number', `${p.id} ${l.path}`);
        assert.match(l.layer ?? '', /^sha256:[0-9a-f]{64}$/);
      }
    }
    // the dpkg file lists come from the mmdebstrap layer (layer 0)
    const curl = cat.packages.find((p) => p.type === 'deb' && p.name === 'curl')!;
    assert.equal(curl.locations[1]!.path, '/var/lib/dpkg/info/curl.list');
    assert.equal(curl.locations[1]!.layerIndex, 0);
    assert.ok(curl.files?.includes('/usr/bin/curl'));
    assert.ok(curl.dependsOn?.some((id) => id.startsWith('deb:libcurl4@')));
    assert.ok(curl.licenses.length > 0);
  });

  it("Debian's Python packages are owned by their deb; the image's own are not", () => {
    const debs = new Map(cat.packages.filter((p) => p.type === 'deb').map((p) => [p.id, p]));
    const pys = cat.packages.filter((p) => p.type === 'pypi' && p.locations[0]!.path.includes('-packages/'));
    const system = pys.filter((p) => p.locations[0]!.path.startsWith('/usr/lib/python3/dist-packages/'));
    assert.ok(system.some((p) => p.name.toLowerCase() === 'requests'));
    for (const p of system) {
      const owner = p.ownedBy && debs.get(p.ownedBy);
      assert.ok(owner, `${p.name} at ${p.locations[0]!.path} has no owner`);
      assert.ok(owner.files?.includes(p.locations[0]!.path));
      assert.match(owner.name, /^python3-/);
    }
    assert.equal(
      debs.get(system.find((p) => p.name.toLowerCase() === 'requests')!.ownedBy!)!.name,
      'python3-requests',
    );
    for (const p of cat.packages.filter((x) => x.type === 'npm' || x.type === 'golang'))
      assert.equal(p.ownedBy, undefined, p.id);
  });

  it('ids are unique and every dependsOn points at a package of the catalog', () => {
    const ids = new Set(cat.packages.map((p) => p.id));
    assert.equal(ids.size, cat.packages.length);
    for (const p of cat.packages) for (const d of p.dependsOn ?? []) assert.ok(ids.has(d), `${p.id} → ${d}`);
  });

  it('docker-archive of the same image gives the same catalog', async () => {
    const other = await catalogTarget(`docker-archive:${fx.dockerArchive}`);
    const key = (c: Catalog) =>
      c.packages.map((p) => `${p.id} ${p.purl} ${p.ownedBy ?? ''} ${(p.dependsOn ?? []).join(',')}`);
    assert.deepEqual(key(other), key(cat));
  });
});
