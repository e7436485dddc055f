/**
 * buildCatalog over in-memory analyses: the records are produced by the real analyzers
 * (catalogAnalyzers()) from file contents, the way the image walker feeds them; only the layered
 * walk itself is replaced by a list of files with their layers. The end-to-end test over a real
 * image is in catalog-image.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AnalysisRecord, AnalysisResult, FileEntry, FileAnalyzer } from '../../src/core/analyzer.js';
import type { LayerRef } from '../../src/core/types.js';
import { buildCatalog, catalogAnalyzers } from '../../src/catalog/index.js';
import { apkCataloger } from '../../src/catalog/apk/index.js';
import { dpkgCataloger } from '../../src/catalog/dpkg/index.js';
import type { Cataloger } from '../../src/catalog/types.js';
import { memoryIndex } from '../helpers/catalog.js';

const L0: LayerRef = { index: 0, diffId: 'sha256:aaa', digest: 'sha256:a0' };
const L1: LayerRef = { index: 1, diffId: 'sha256:bbb', digest: 'sha256:b0' };

type Files = Record<string, { content?: string; layer?: LayerRef; symlink?: string; dir?: boolean }>;

/**
 * A cataloger for the orchestration tests only (a test double for a language cataloger): every
 * file named PKG-INFO is a PyPI package "Name: x / Version: y / Requires: a b".
 */
const fakePython: Cataloger<{ name: string; version: string; requires: string[] }> = {
  name: 'fake-python',
  scope: 'final',
  wants: (e) => e.path.endsWith('/PKG-INFO'),
  analyze(f) {
    const t = f.content.toString();
    const get = (k: string) => new RegExp(`^${k}: (.*)$`, 'm').exec(t)?.[1] ?? '';
    return {
      name: get('Name'),
      version: get('Version'),
      requires: get('Requires').split(' ').filter(Boolean),
    };
  },
  finalize: (records) =>
    records.map((record) => ({
      name: record.result.name,
      version: record.result.version,
      type: 'pypi',
      ecosystem: '',
      purl: `pkg:pypi/${record.result.name}@${record.result.version}`,
      licenses: [],
      foundBy: 'fake-python',
      record,
      dependsOn: record.result.requires.map((name) => ({ name })),
    })),
};

const CATALOGERS = [dpkgCataloger, apkCataloger, fakePython] as Cataloger[];

async function analyze(files: Files, order: 'asc' | 'desc' = 'asc'): Promise<AnalysisResult> {
  const entries: FileEntry[] = Object.entries(files).map(([path, f]) =>
    f.symlink
      ? { path, type: 'symlink', size: 0, mode: 0o777, linkTarget: f.symlink, layer: f.layer ?? L0 }
      : f.dir
        ? { path, type: 'dir', size: 0, mode: 0o755, layer: f.layer ?? L0 }
        : { path, type: 'file', size: Buffer.byteLength(f.content ?? ''), mode: 0o644, layer: f.layer ?? L0 },
  );
  if (order === 'desc') entries.reverse();
  const results = new Map<string, AnalysisRecord[]>();
  const warnings: string[] = [];
  for (const a of catalogAnalyzers(CATALOGERS) as FileAnalyzer[]) {
    const recs: AnalysisRecord[] = [];
    for (const e of entries) {
      if (e.type !== 'file' || !a.wants(e)) continue;
      const result = await a.analyze(
        { ...e, content: Buffer.from(files[e.path]!.content ?? '') },
        { warn: (m) => void warnings.push(m) },
      );
      if (result !== undefined) recs.push({ path: e.path, layer: e.layer, result });
    }
    results.set(a.name, recs);
  }
  return {
    artifact: { kind: 'image', name: 'test', layers: [L0, L1] },
    files: memoryIndex(entries),
    results,
    warnings,
  };
}

const OS_RELEASE =
  'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n';
const STATUS = `Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u4

Package: python3-requests
Status: install ok installed
Architecture: all
Source: requests
Version: 2.28.1+dfsg-1
Depends: python3-urllib3 (>= 1.21.1), python3:any

Package: python3-urllib3
Status: install ok installed
Architecture: all
Version: 1.26.12-1
Depends: libc6
`;

function debianImage(): Files {
  return {
    '/etc/os-release': { content: OS_RELEASE },
    '/lib': { symlink: 'usr/lib' },
    '/usr/lib': { dir: true },
    '/var/lib/dpkg/status': { content: STATUS, layer: L1 },
    '/var/lib/dpkg/info/libc6:amd64.list': { content: '/.\n/lib/x86_64-linux-gnu/libc.so.6\n' },
    '/var/lib/dpkg/info/python3-requests.list': {
      content:
        '/.\n/usr/lib/python3/dist-packages/requests-2.28.1.egg-info\n/usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO\n',
      layer: L1,
    },
    '/var/lib/dpkg/info/python3-urllib3.list': {
      content: '/.\n/lib/python3/dist-packages/urllib3-1.26.12.egg-info/PKG-INFO\n',
      layer: L1,
    },
    '/usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO': {
      content: 'Name: requests\nVersion: 2.28.1\nRequires: urllib3 idna\n',
      layer: L1,
    },
    '/usr/lib/python3/dist-packages/urllib3-1.26.12.egg-info/PKG-INFO': {
      content: 'Name: urllib3\nVersion: 1.26.12\n',
      layer: L1,
    },
    '/usr/local/lib/python3.11/dist-packages/idna-3.6.egg-info/PKG-INFO': {
      content: 'Name: idna\nVersion: 3.6\n',
      layer: L1,
    },
    '/usr/share/doc/libc6/copyright': { content: 'License: LGPL-2.1\n' },
  };
}

describe('buildCatalog', () => {
  it('distro, ecosystems, ids, locations with layers', async () => {
    const cat = buildCatalog(await analyze(debianImage()), CATALOGERS);
    assert.deepEqual(cat.distro, {
      id: 'debian',
      versionId: '12',
      versionCodename: 'bookworm',
      prettyName: 'Debian GNU/Linux 12 (bookworm)',
    });
    assert.deepEqual(cat.warnings, []);
    const ids = cat.packages.map((p) => p.id);
    assert.deepEqual(ids, [
      'deb:libc6@2.36-9+deb12u4#0',
      'deb:python3-requests@2.28.1+dfsg-1#0',
      'deb:python3-urllib3@1.26.12-1#0',
      'pypi:idna@3.6#0',
      'pypi:requests@2.28.1#0',
      'pypi:urllib3@1.26.12#0',
    ]);
    const libc = cat.packages[0]!;
    assert.equal(libc.ecosystem, 'Debian:12');
    assert.equal(libc.purl, 'pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12&upstream=glibc');
    assert.deepEqual(libc.licenses, ['LGPL-2.1']);
    assert.deepEqual(libc.locations, [
      { path: '/var/lib/dpkg/status', layer: 'sha256:bbb', layerIndex: 1 },
      { path: '/var/lib/dpkg/info/libc6:amd64.list', layer: 'sha256:aaa', layerIndex: 0 },
    ]);
    assert.equal(cat.packages.find((p) => p.name === 'idna')!.ecosystem, 'PyPI');
    assert.ok(!('record' in libc), 'draft-only fields are not in the package');
  });

  it('ids do not depend on the order records arrive in', async () => {
    const a = buildCatalog(await analyze(debianImage(), 'asc'), CATALOGERS);
    const b = buildCatalog(await analyze(debianImage(), 'desc'), CATALOGERS);
    assert.deepEqual(
      a.packages.map((p) => [p.id, p.dependsOn]),
      b.packages.map((p) => [p.id, p.dependsOn]),
    );
  });

  it('dependsOn resolves to ids; ownedBy for language packages installed by dpkg (incl. merged /usr)', async () => {
    const cat = buildCatalog(await analyze(debianImage()), CATALOGERS);
    const by = Object.fromEntries(cat.packages.map((p) => [p.id, p]));
    assert.deepEqual(by['deb:python3-requests@2.28.1+dfsg-1#0']!.dependsOn, [
      'deb:python3-urllib3@1.26.12-1#0',
    ]);
    assert.deepEqual(by['deb:python3-urllib3@1.26.12-1#0']!.dependsOn, ['deb:libc6@2.36-9+deb12u4#0']);
    // one-package files resolve against the same cataloger's other packages
    assert.deepEqual(by['pypi:requests@2.28.1#0']!.dependsOn, ['pypi:urllib3@1.26.12#0', 'pypi:idna@3.6#0']);
    assert.equal(by['pypi:requests@2.28.1#0']!.ownedBy, 'deb:python3-requests@2.28.1+dfsg-1#0');
    // listed by dpkg as /lib/python3/..., found at /usr/lib/python3/... through the /lib symlink
    assert.equal(by['pypi:urllib3@1.26.12#0']!.ownedBy, 'deb:python3-urllib3@1.26.12-1#0');
    assert.equal(by['pypi:idna@3.6#0']!.ownedBy, undefined);
  });

  it('duplicates get distinct ids; dependencies prefer the same file', async () => {
    const files: Files = {
      '/a/lib/apk/db/installed': { content: '' },
      '/lib/apk/db/installed': { content: 'P:x\nV:1\nD:y\n\nP:y\nV:2\n' },
      '/srv/one/PKG-INFO': { content: 'Name: dup\nVersion: 1.0\n' },
      '/srv/two/PKG-INFO': { content: 'Name: dup\nVersion: 1.0\n' },
      '/srv/two/app/PKG-INFO': { content: 'Name: app\nVersion: 0.1\nRequires: dup\n' },
    };
    const cat = buildCatalog(await analyze(files), CATALOGERS);
    assert.deepEqual(
      cat.packages.map((p) => p.id),
      ['apk:x@1#0', 'apk:y@2#0', 'pypi:app@0.1#0', 'pypi:dup@1.0#0', 'pypi:dup@1.0#1'],
    );
    assert.deepEqual(cat.packages[0]!.dependsOn, ['apk:y@2#0']);
    // nearest path wins: /srv/two/PKG-INFO
    const dup1 = cat.packages.find((p) => p.id === 'pypi:dup@1.0#1')!;
    assert.equal(dup1.locations[0]!.path, '/srv/two/PKG-INFO');
    assert.deepEqual(cat.packages.find((p) => p.name === 'app')!.dependsOn, ['pypi:dup@1.0#1']);
    assert.equal(cat.distro, undefined);
    assert.equal(cat.packages[0]!.ecosystem, '');
  });

  it('distroless without os-release: distro from base-files, status.d dependencies across files', async () => {
    const files: Files = {
      '/var/lib/dpkg/status.d/base-files': {
        content: 'Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n',
      },
      '/var/lib/dpkg/status.d/libssl3': {
        content:
          'Package: libssl3\nSource: openssl\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\nDepends: libc6 (>= 2.34)\n',
      },
      '/var/lib/dpkg/status.d/libc6': {
        content: 'Package: libc6\nSource: glibc\nVersion: 2.36-9+deb12u4\nArchitecture: amd64\n',
      },
      '/var/lib/dpkg/status.d/libc6.md5sums': {
        content: '0123456789abcdef0123456789abcdef  lib/x86_64-linux-gnu/libc.so.6\n',
      },
    };
    const cat = buildCatalog(await analyze(files), CATALOGERS);
    assert.deepEqual(cat.distro, { id: 'debian', versionId: '12' });
    const ssl = cat.packages.find((p) => p.name === 'libssl3')!;
    assert.equal(ssl.ecosystem, 'Debian:12');
    assert.equal(
      ssl.purl,
      'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl',
    );
    assert.deepEqual(ssl.dependsOn, ['deb:libc6@2.36-9+deb12u4#0']);
    assert.deepEqual(cat.packages.find((p) => p.name === 'libc6')!.files, [
      '/lib/x86_64-linux-gnu/libc.so.6',
    ]);
  });

  it('a failing cataloger becomes a warning, the others still report', async () => {
    const broken: Cataloger = {
      ...fakePython,
      finalize: () => {
        throw new Error('boom');
      },
    } as Cataloger;
    const res = await analyze(debianImage());
    const cat = buildCatalog(res, [dpkgCataloger as Cataloger, broken]);
    assert.deepEqual(cat.warnings, ['fake-python: cataloging failed: boom']);
    assert.equal(cat.packages.length, 3);
  });
});
