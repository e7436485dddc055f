/**
 * Readers on SBOMs written by another tool: Syft's own test documents (SPDX 2.2/2.3 JSON,
 * tag-value, CycloneDX 1.2–1.7 JSON) from /work/shared/corpora/syft, plus error cases.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSbom, readSbomFile } from '../../src/sbom/index.js';
import { isBulwarkError } from '../../src/core/errors.js';
import { SHARED } from '../helpers/shared.js';

const SYFT = `${SHARED}/corpora/syft/syft/format`;
const text = (p: string) => readFileSync(join(SYFT, p), 'utf8');

/** The purls a document lists for its packages, read straight from the JSON (independent of our reader). */
function spdxPurls(doc: any): string[] {
  return doc.packages
    .flatMap((p: any) =>
      (p.externalRefs ?? [])
        .filter((r: any) => r.referenceType === 'purl')
        .map((r: any) => r.referenceLocator),
    )
    .sort();
}

describe('SPDX JSON reader (Syft documents)', () => {
  it('reads an SPDX 2.2 Alpine image SBOM: apk packages, distro from the purl, source package from upstream', () => {
    const raw = text('spdxjson/testdata/spdx/alpine-3.10.syft.spdx.json');
    const { catalog, format, specVersion } = readSbom(raw, 'alpine.spdx.json');
    assert.equal(format, 'spdx');
    assert.equal(specVersion, 'SPDX-2.2');
    assert.deepEqual(catalog.packages.map((p) => p.purl).sort(), spdxPurls(JSON.parse(raw)));
    assert.deepEqual(catalog.distro, { id: 'alpine', versionId: '3.10.9' });
    const byName = new Map(catalog.packages.map((p) => [p.name, p]));
    const busybox = byName.get('busybox')!;
    assert.deepEqual(
      [busybox.type, busybox.version, busybox.ecosystem, busybox.arch, busybox.licenses],
      ['apk', '1.30.1-r5', 'Alpine:v3.10', 'x86_64', ['GPL-2.0']],
    );
    assert.equal(byName.get('ssl_client')!.sourceName, 'busybox');
    assert.equal(byName.get('libssl1.1')!.licenses[0], 'OpenSSL');
  });

  it('reads an SPDX 2.3 document and skips its document-root file package', () => {
    const raw = text('spdxjson/testdata/identify/2.3.json');
    const { catalog } = readSbom(raw);
    assert.deepEqual(
      catalog.packages.map((p) => [p.type, p.name, p.version, p.ecosystem, p.licenses]),
      [['golang', 'github.com/wagoodman/go-partybus', 'v0.0.0-20230516145632-8ccac152c651', 'Go', []]],
    );
  });

  it('reads SPDX tag-value: maven names from the purl, NONE licenses, repeated packages kept apart', () => {
    const raw = text('spdxtagvalue/testdata/tag-value.spdx');
    const { catalog, specVersion } = readSbom(raw, 'tag-value.spdx');
    assert.equal(specVersion, 'SPDX-2.3');
    const purlsInFile = [...raw.matchAll(/^ExternalRef: PACKAGE-MANAGER purl (\S+)$/gm)]
      .map((m) => m[1])
      .sort();
    assert.deepEqual(catalog.packages.map((p) => p.purl).sort(), purlsInFile);
    assert.equal(new Set(catalog.packages.map((p) => p.id)).size, catalog.packages.length);
    const app = catalog.packages.find((p) => p.purl === 'pkg:maven/com.mycompany.app/my-app@1')!;
    assert.deepEqual(
      [app.type, app.name, app.ecosystem, app.licenses],
      ['maven', 'com.mycompany.app:my-app', 'Maven', []],
    );
    const bb = catalog.packages.find((p) => p.name === 'busybox')!;
    assert.deepEqual([bb.ecosystem, bb.licenses], ['Alpine:v3.12', ['GPL-2.0-only']]);
  });
});

describe('CycloneDX JSON reader (Syft documents)', () => {
  for (const v of ['1.2', '1.3', '1.4', '1.5', '1.6', '1.7']) {
    it(`reads CycloneDX ${v}`, () => {
      const raw = text(`cyclonedxjson/testdata/identify/${v}.json`);
      const doc = JSON.parse(raw);
      const { catalog, specVersion } = readSbom(raw);
      assert.equal(specVersion, v);
      const expected = doc.components.filter((c: any) => c.purl).map((c: any) => c.purl);
      assert.deepEqual(
        catalog.packages.map((p) => p.purl),
        expected,
      );
      for (const p of catalog.packages) {
        assert.equal(p.type, 'golang');
        assert.equal(p.ecosystem, 'Go');
        assert.ok(p.name.includes('/'), p.name);
      }
    });
  }

  it('reads an image BOM: OS component → distro, syft location properties, unparseable purl kept as generic', () => {
    const { catalog, name } = readSbom(
      text('cyclonedxjson/testdata/snapshot/TestCycloneDxImageEncoder.golden'),
    );
    assert.equal(name, 'user-image-input');
    assert.equal(catalog.distro?.id, 'debian');
    assert.equal(catalog.distro?.versionId, '1.2.3');
    const p2 = catalog.packages.find((p) => p.name === 'package-2')!;
    assert.deepEqual([p2.type, p2.version, p2.ecosystem], ['deb', '2.0.1', 'Debian:1']);
    assert.deepEqual(p2.locations, [{ path: '/somefile-2.txt' }]);
    const p1 = catalog.packages.find((p) => p.name === 'package-1')!;
    assert.deepEqual([p1.type, p1.licenses], ['generic', ['MIT']]);
  });
});

describe('reader errors', () => {
  const fails = (input: string, re: RegExp) => {
    assert.throws(
      () => readSbom(input, 'in.json'),
      (e: unknown) => isBulwarkError(e) && re.test(e.message) && e.message.startsWith('in.json'),
    );
  };
  it('names the file and the problem', () => {
    fails('{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [', /not valid JSON/);
    fails(
      '<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6"/>',
      /XML SBOMs are not supported/,
    );
    fails('{"hello": "world"}', /neither a CycloneDX BOM .* nor an SPDX document/);
    fails('{"bomFormat": "CycloneDX", "specVersion": "2.0"}', /specVersion "2.0" is not supported/);
    fails('{"spdxVersion": "SPDX-3.0"}', /SPDX-3.0 is not supported/);
    fails(
      'SPDXVersion: SPDX-2.3\nPackageName: x\nPackageComment: <text>never closed\n',
      /in.json:3: <text> is never closed/,
    );
  });

  it("refuses Syft's deliberately bad documents with a message, not a crash", () => {
    for (const p of [
      'cyclonedxjson/testdata/bad-sbom',
      'spdxjson/testdata/spdx/bad/bad-sbom',
      'spdxtagvalue/testdata/bad-sbom',
    ]) {
      assert.throws(
        () => readSbom(text(p), p),
        (e: unknown) => isBulwarkError(e),
        p,
      );
    }
  });

  it('readSbomFile: missing file, directory and size cap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-sbom-'));
    await assert.rejects(readSbomFile(join(dir, 'nope.json')), /nope\.json: cannot read SBOM \(ENOENT\)/);
    await assert.rejects(readSbomFile(dir), /not a regular file/);
    const f = join(dir, 'big.json');
    writeFileSync(f, JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [] }));
    await assert.rejects(readSbomFile(f, 10), /more than the 10 limit/);
    assert.equal((await readSbomFile(f)).catalog.packages.length, 0);
  });
});
