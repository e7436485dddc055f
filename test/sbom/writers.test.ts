import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyLicense,
  formatTable,
  readSbom,
  renderSbom,
  toCatalogJson,
  toCycloneDX,
  toSPDX,
} from '../../src/sbom/index.js';
import type { Package } from '../../src/core/types.js';
import { assertValidCycloneDX, assertValidSPDX } from './validate.js';
import { comparable, cornerCatalog, imageArtifact } from './fixtures.js';

type Json = Record<string, any>;

/** The catalog as a reader should give it back: licenses normalized, dangling dependencies dropped. */
function expectedAfterRoundTrip(pkgs: Package[], opts: { emptyDepsKnown: boolean }) {
  const ids = new Set(pkgs.map((p) => p.id));
  return pkgs.map((p) => {
    const c = comparable(p);
    c.licenses = [
      ...new Set(
        c.licenses.map((l) => {
          const k = classifyLicense(l);
          return k.kind === 'id'
            ? k.id
            : k.kind === 'expression'
              ? k.expression.replace(/^\((.*)\)$/, '$1')
              : k.name;
        }),
      ),
    ];
    if (c.dependsOn) c.dependsOn = c.dependsOn.filter((d) => ids.has(d));
    if (!opts.emptyDepsKnown && c.dependsOn?.length === 0) delete c.dependsOn;
    return c;
  });
}

describe('CycloneDX 1.6 writer', () => {
  const catalog = cornerCatalog();
  const bom = toCycloneDX(catalog, imageArtifact(), { toolVersion: '9.9.9' }) as Json;

  it('validates against the official CycloneDX 1.6 schema', () => {
    assertValidCycloneDX(bom);
    assert.equal(bom.specVersion, '1.6');
    assert.match(bom.serialNumber, /^urn:uuid:[0-9a-f-]{36}$/);
    assert.match(bom.metadata.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(bom.metadata.tools.components[0], {
      type: 'application',
      name: 'bulwark',
      group: 'bulwark',
      version: '9.9.9',
    });
  });

  it('describes the image as a container component with digest, tags and a pkg:oci purl', () => {
    const c = bom.metadata.component;
    assert.equal(c.type, 'container');
    assert.equal(c.name, '127.0.0.1:5000/bulwark/app:1.0');
    assert.equal(
      c.purl,
      `pkg:oci/app@sha256:${'a'.repeat(64)}?arch=amd64&repository_url=127.0.0.1%3A5000%2Fbulwark%2Fapp`,
    );
    const props = Object.fromEntries(c.properties.map((p: Json) => [p.name, p.value]));
    assert.equal(props['bulwark:image:digest'], 'sha256:' + 'a'.repeat(64));
    assert.equal(props['bulwark:image:tag'], '127.0.0.1:5000/bulwark/app:1.0');
    assert.equal(props['bulwark:image:platform'], 'linux/amd64');
    // the image config (its Env) never reaches the SBOM
    assert.doesNotMatch(JSON.stringify(bom), /do-not-print/);
  });

  it('has an operating-system component and one library component per package, bom-ref = package id', () => {
    const os = bom.components.find((c: Json) => c.type === 'operating-system');
    assert.deepEqual(
      [os.name, os.version, os.description],
      ['debian', '12', 'Debian GNU/Linux 12 (bookworm)'],
    );
    const libs = bom.components.filter((c: Json) => c.type === 'library');
    assert.deepEqual(
      libs.map((c: Json) => c['bom-ref']),
      catalog.packages.map((p) => p.id),
    );
    const libc = libs.find((c: Json) => c.name === 'libc6');
    assert.equal(libc.purl, catalog.packages[0]!.purl);
    const props = libc.properties.map((p: Json) => `${p.name}=${p.value}`);
    assert.ok(props.includes('bulwark:location=/var/lib/dpkg/status'));
    assert.ok(props.includes(`bulwark:location:layer=sha256:${'1'.repeat(64)}`));
    assert.ok(props.includes('bulwark:sourceName=glibc'));
    assert.deepEqual(libc.evidence.occurrences, [{ location: '/var/lib/dpkg/status' }]);
    assert.ok(!('files' in libc), 'file lists are not serialized');
    const noVersion = libs.find((c: Json) => c.name === 'no-version');
    assert.ok(!('version' in noVersion));
  });

  it('writes licenses as SPDX ids, names, or a single expression as the schema requires', () => {
    const lic = (name: string) => bom.components.find((c: Json) => c.name === name).licenses;
    // listed id + free text: two license objects
    assert.deepEqual(lic('libc6'), [{ license: { id: 'LGPL-2.1' } }, { license: { name: 'GPL-2+' } }]);
    // an expression with an exception: one expression
    assert.deepEqual(lic('libgcc-s1'), [{ expression: 'GPL-3.0-or-later WITH GCC-exception-3.1' }]);
    // expression + id (lower-case "mit" fixed up): joined into one expression
    assert.deepEqual(lic('@scope/app'), [{ expression: '(MIT OR Apache-2.0) AND MIT' }]);
    assert.deepEqual(lic('left-pad'), [
      { license: { id: 'WTFPL' } },
      { license: { name: 'Some Custom License v2 (see LICENSE)' } },
    ]);
    assert.deepEqual(lic('requests'), [{ license: { name: 'Apache 2.0' } }]);
    assert.equal(lic('stdlib'), undefined);
  });

  it('records dependencies: artifact → OS and top-level packages, OS → OS packages, package → its deps', () => {
    const deps = new Map(bom.dependencies.map((d: Json) => [d.ref, d.dependsOn]));
    assert.deepEqual(deps.get('bulwark:artifact'), [
      'bulwark:os:debian@12',
      'npm:@scope/app@1.0.0',
      'pypi:requests@2.28.1',
      'golang:stdlib@go1.19.8',
      'generic:no-version',
    ]);
    assert.deepEqual(deps.get('bulwark:os:debian@12'), [
      'deb:libc6@2.36-9+deb12u4',
      'deb:libgcc-s1@12.2.0-14',
    ]);
    assert.deepEqual(deps.get('deb:libc6@2.36-9+deb12u4'), ['deb:libgcc-s1@12.2.0-14']);
    // the dangling reference is dropped rather than pointing at nothing
    assert.deepEqual(deps.get('npm:@scope/app@1.0.0'), ['npm:left-pad@1.3.0']);
    assert.deepEqual(deps.get('npm:left-pad@1.3.0'), []);
    assert.equal(deps.has('pypi:requests@2.28.1'), false, 'no entry where dependencies are unknown');
    const refs = new Set([
      bom.metadata.component['bom-ref'],
      ...bom.components.map((c: Json) => c['bom-ref']),
    ]);
    for (const d of bom.dependencies)
      for (const r of [d.ref, ...d.dependsOn]) assert.ok(refs.has(r), `unknown ref ${r}`);
  });

  it('keeps bom-refs unique when the catalog repeats an id', () => {
    const cat = cornerCatalog();
    cat.packages.push({ ...cat.packages[5]!, locations: [{ path: '/usr/local/bin/other' }] });
    const b = toCycloneDX(cat, imageArtifact()) as Json;
    assertValidCycloneDX(b);
    const refs = b.components.map((c: Json) => c['bom-ref']);
    assert.equal(new Set(refs).size, refs.length);
  });

  it('describes a directory as an application without OS when there is no distro', () => {
    const cat = cornerCatalog();
    delete cat.distro;
    const b = toCycloneDX(cat, { kind: 'fs', name: 'dir:/srv/app', layers: [] }) as Json;
    assertValidCycloneDX(b);
    assert.equal(b.metadata.component.type, 'application');
    assert.equal(
      b.components.some((c: Json) => c.type === 'operating-system'),
      false,
    );
    // without an OS component, OS packages hang off the artifact directly
    assert.ok(
      b.dependencies[0].dependsOn.includes('deb:libgcc-s1@12.2.0-14') === false,
      'libgcc-s1 is a dependency of libc6',
    );
    assert.ok(b.dependencies[0].dependsOn.includes('deb:libc6@2.36-9+deb12u4'));
  });

  it('round-trips through the reader', () => {
    const read = readSbom(JSON.stringify(bom), 'bom.json');
    assert.equal(read.format, 'cyclonedx');
    assert.deepEqual(read.catalog.distro, cornerCatalog().distro);
    assert.deepEqual(
      read.catalog.packages.map(comparable),
      expectedAfterRoundTrip(catalog.packages, { emptyDepsKnown: true }),
    );
  });
});

describe('SPDX 2.3 writer', () => {
  const catalog = cornerCatalog();
  const doc = toSPDX(catalog, imageArtifact(), { toolVersion: '9.9.9' }) as Json;

  it('validates against the official SPDX 2.3 schema', () => {
    assertValidSPDX(doc);
    assert.equal(doc.spdxVersion, 'SPDX-2.3');
    assert.equal(doc.dataLicense, 'CC0-1.0');
    assert.equal(doc.SPDXID, 'SPDXRef-DOCUMENT');
    assert.deepEqual(doc.creationInfo.creators, ['Tool: bulwark-9.9.9']);
    assert.match(
      doc.documentNamespace,
      /^https:\/\/spdx\.org\/spdxdocs\/bulwark-image-127\.0\.0\.1-5000-bulwark-app-1\.0-[0-9a-f-]{36}$/,
    );
    const other = toSPDX(catalog, imageArtifact()) as Json;
    assert.notEqual(other.documentNamespace, doc.documentNamespace, 'each document gets its own namespace');
  });

  it('has a container package, an OS package and one package per catalog package with a purl', () => {
    const root = doc.packages[0];
    assert.equal(root.primaryPackagePurpose, 'CONTAINER');
    assert.equal(root.versionInfo, 'sha256:' + 'a'.repeat(64));
    const os = doc.packages.find((p: Json) => p.primaryPackagePurpose === 'OPERATING-SYSTEM');
    assert.deepEqual([os.name, os.versionInfo], ['debian', '12']);
    const libs = doc.packages.filter((p: Json) => p.primaryPackagePurpose === 'LIBRARY');
    assert.equal(libs.length, catalog.packages.length);
    const ids = doc.packages.map((p: Json) => p.SPDXID);
    assert.equal(new Set(ids).size, ids.length);
    for (const [i, p] of catalog.packages.entries()) {
      const sp = libs[i];
      assert.equal(sp.name, p.name);
      assert.deepEqual(sp.externalRefs, [
        { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p.purl },
      ]);
      assert.equal(sp.downloadLocation, 'NOASSERTION');
      assert.equal(sp.licenseConcluded, 'NOASSERTION');
      assert.equal(sp.copyrightText, 'NOASSERTION');
      assert.equal(sp.filesAnalyzed, false);
    }
    assert.equal(
      libs.find((p: Json) => p.name === 'libc6').sourceInfo,
      'built package from: glibc 2.36-9+deb12u4',
    );
  });

  it('declares licenses as SPDX expressions, free text through LicenseRef- with its text', () => {
    const decl = (name: string) => doc.packages.find((p: Json) => p.name === name).licenseDeclared;
    assert.equal(decl('libc6'), 'LGPL-2.1 AND LicenseRef-GPL-2');
    assert.equal(decl('libgcc-s1'), 'GPL-3.0-or-later WITH GCC-exception-3.1');
    assert.equal(decl('@scope/app'), '(MIT OR Apache-2.0) AND MIT');
    assert.equal(decl('requests'), 'LicenseRef-Apache-2.0');
    assert.equal(decl('stdlib'), 'NOASSERTION');
    const extracted = new Map(
      doc.hasExtractedLicensingInfos.map((e: Json) => [e.licenseId, e.extractedText]),
    );
    assert.equal(extracted.get('LicenseRef-GPL-2'), 'GPL-2+');
    assert.equal(extracted.get('LicenseRef-Apache-2.0'), 'Apache 2.0');
    assert.equal(
      extracted.get('LicenseRef-Some-Custom-License-v2-see-LICENSE'),
      'Some Custom License v2 (see LICENSE)',
    );
  });

  it('relates DOCUMENT DESCRIBES image, image CONTAINS OS and packages, OS CONTAINS OS packages, DEPENDS_ON', () => {
    const idOf = (name: string) => doc.packages.find((p: Json) => p.name === name).SPDXID;
    const rel = new Set(
      doc.relationships.map((r: Json) => `${r.spdxElementId} ${r.relationshipType} ${r.relatedSpdxElement}`),
    );
    const root = doc.packages[0].SPDXID;
    const os = idOf('debian');
    assert.ok(rel.has(`SPDXRef-DOCUMENT DESCRIBES ${root}`));
    assert.ok(rel.has(`${root} CONTAINS ${os}`));
    assert.ok(rel.has(`${os} CONTAINS ${idOf('libc6')}`));
    assert.ok(rel.has(`${root} CONTAINS ${idOf('@scope/app')}`));
    assert.ok(rel.has(`${idOf('libc6')} DEPENDS_ON ${idOf('libgcc-s1')}`));
    assert.ok(rel.has(`${idOf('@scope/app')} DEPENDS_ON ${idOf('left-pad')}`));
    const all = new Set(doc.packages.map((p: Json) => p.SPDXID).concat('SPDXRef-DOCUMENT'));
    for (const r of doc.relationships) assert.ok(all.has(r.spdxElementId) && all.has(r.relatedSpdxElement));
  });

  it('round-trips through the reader', () => {
    const read = readSbom(JSON.stringify(doc), 'doc.spdx.json');
    assert.equal(read.format, 'spdx');
    assert.equal(read.name, '127.0.0.1:5000/bulwark/app:1.0');
    assert.deepEqual(read.catalog.distro, cornerCatalog().distro);
    assert.deepEqual(
      read.catalog.packages.map(comparable),
      expectedAfterRoundTrip(catalog.packages, { emptyDepsKnown: false }),
    );
  });
});

describe('table and json views', () => {
  it('table lists every package sorted by type and name with where it was found', () => {
    const t = formatTable(cornerCatalog(), imageArtifact());
    const lines = t.trimEnd().split('\n');
    assert.equal(lines[0], '127.0.0.1:5000/bulwark/app:1.0 (Debian GNU/Linux 12 (bookworm)): 7 packages');
    assert.match(lines[2]!, /^NAME\s+VERSION\s+TYPE\s+LOCATION$/);
    // columns start where their header does
    const starts = ['NAME', 'VERSION', 'TYPE', 'LOCATION'].map((h) => lines[2]!.indexOf(h));
    const rows = lines.slice(3).map((l) => starts.map((s, i) => l.slice(s, starts[i + 1]).trim()));
    assert.deepEqual(
      rows.map((r) => `${r[2]}:${r[0]}`),
      [
        'deb:libc6',
        'deb:libgcc-s1',
        'generic:no-version',
        'golang:stdlib',
        'npm:@scope/app',
        'npm:left-pad',
        'pypi:requests',
      ],
    );
    assert.deepEqual(rows[0], ['libc6', '2.36-9+deb12u4', 'deb', '/var/lib/dpkg/status [layer 0]']);
    assert.equal(rows[4]![3], '/srv/app/package-lock.json [layer 2] (+1)');
  });

  it('json is the catalog with the artifact, without file lists or image config', () => {
    const j = JSON.parse(renderSbom('json', cornerCatalog(), imageArtifact()));
    assert.deepEqual(j, JSON.parse(JSON.stringify(toCatalogJson(cornerCatalog(), imageArtifact()))));
    assert.equal(j.artifact.platform, 'linux/amd64');
    assert.equal(j.packages.length, 7);
    assert.equal('files' in j.packages[0], false);
    assert.equal('config' in j.artifact, false);
    assert.deepEqual(j.distro.id, 'debian');
  });

  it('renders spdx and spdx-json identically apart from ids and time', () => {
    const opts = {
      timestamp: new Date('2024-01-02T03:04:05.678Z'),
      uuid: '00000000-0000-4000-8000-000000000000',
    };
    assert.equal(
      renderSbom('spdx', cornerCatalog(), imageArtifact(), opts),
      renderSbom('spdx-json', cornerCatalog(), imageArtifact(), opts),
    );
    assert.match(
      renderSbom('cyclonedx', cornerCatalog(), imageArtifact(), opts),
      /"timestamp": "2024-01-02T03:04:05Z"/,
    );
  });
});
