/**
 * A hand-written catalog covering the writers' corner cases (license kinds, dependencies, duplicate
 * ids, packages without version or location). The end-to-end tests (test/cli/sbom*.test.ts) use
 * catalogs of real images.
 */
import type { ArtifactInfo } from '../../src/core/analyzer.js';
import type { Catalog, Package } from '../../src/core/types.js';

const L0 = 'sha256:' + '1'.repeat(64);
const L2 = 'sha256:' + '3'.repeat(64);

export function cornerCatalog(): Catalog {
  const pkgs: Package[] = [
    {
      id: 'deb:libc6@2.36-9+deb12u4',
      name: 'libc6',
      version: '2.36-9+deb12u4',
      type: 'deb',
      ecosystem: 'Debian:12',
      purl: 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12',
      licenses: ['LGPL-2.1', 'GPL-2+'],
      locations: [{ path: '/var/lib/dpkg/status', layer: L0, layerIndex: 0 }],
      foundBy: 'dpkg',
      sourceName: 'glibc',
      arch: 'amd64',
      dependsOn: ['deb:libgcc-s1@12.2.0-14'],
      files: ['/lib/x86_64-linux-gnu/libc.so.6'],
    },
    {
      id: 'deb:libgcc-s1@12.2.0-14',
      name: 'libgcc-s1',
      version: '12.2.0-14',
      type: 'deb',
      ecosystem: 'Debian:12',
      purl: 'pkg:deb/debian/libgcc-s1@12.2.0-14?arch=amd64&distro=debian-12',
      licenses: ['GPL-3.0-or-later WITH GCC-exception-3.1'],
      locations: [{ path: '/var/lib/dpkg/status', layer: L0, layerIndex: 0 }],
      foundBy: 'dpkg',
      sourceName: 'gcc-12',
      sourceVersion: '12.2.0-14',
      arch: 'amd64',
      dependsOn: [],
    },
    {
      id: 'npm:@scope/app@1.0.0',
      name: '@scope/app',
      version: '1.0.0',
      type: 'npm',
      ecosystem: 'npm',
      purl: 'pkg:npm/%40scope/app@1.0.0',
      licenses: ['(MIT OR Apache-2.0)', 'mit'],
      locations: [
        { path: '/srv/app/package-lock.json', layer: L2, layerIndex: 2 },
        { path: '/srv/app/node_modules/@scope/app/package.json', layer: L2, layerIndex: 2 },
      ],
      foundBy: 'npm-lock',
      dependsOn: ['npm:left-pad@1.3.0', 'npm:does-not-exist@0'],
    },
    {
      id: 'npm:left-pad@1.3.0',
      name: 'left-pad',
      version: '1.3.0',
      type: 'npm',
      ecosystem: 'npm',
      purl: 'pkg:npm/left-pad@1.3.0',
      licenses: ['WTFPL', 'Some Custom License v2 (see LICENSE)'],
      locations: [{ path: '/srv/app/package-lock.json', layer: L2, layerIndex: 2 }],
      foundBy: 'npm-lock',
      dev: true,
      dependsOn: [],
    },
    {
      id: 'pypi:requests@2.28.1',
      name: 'requests',
      version: '2.28.1',
      type: 'pypi',
      ecosystem: 'PyPI',
      purl: 'pkg:pypi/requests@2.28.1',
      licenses: ['Apache 2.0'],
      locations: [
        {
          path: '/usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO',
          layer: L0,
          layerIndex: 0,
        },
      ],
      foundBy: 'python-installed',
      ownedBy: 'deb:libc6@2.36-9+deb12u4',
    },
    {
      id: 'golang:stdlib@go1.19.8',
      name: 'stdlib',
      version: 'go1.19.8',
      type: 'golang',
      ecosystem: 'Go',
      purl: 'pkg:golang/stdlib@go1.19.8',
      licenses: [],
      locations: [{ path: '/usr/local/bin/hello' }],
      foundBy: 'go-binary',
    },
    {
      id: 'generic:no-version',
      name: 'no-version',
      version: '',
      type: 'generic',
      ecosystem: '',
      purl: 'pkg:generic/no-version',
      licenses: [],
      locations: [],
      foundBy: 'test',
    },
  ];
  return {
    distro: {
      id: 'debian',
      versionId: '12',
      versionCodename: 'bookworm',
      prettyName: 'Debian GNU/Linux 12 (bookworm)',
    },
    packages: pkgs,
    warnings: [],
  };
}

export function imageArtifact(): ArtifactInfo {
  const digest = 'sha256:' + 'a'.repeat(64);
  return {
    kind: 'image',
    name: '127.0.0.1:5000/bulwark/app:1.0',
    digest,
    imageId: 'sha256:' + 'b'.repeat(64),
    repoTags: ['127.0.0.1:5000/bulwark/app:1.0'],
    repoDigests: [`127.0.0.1:5000/bulwark/app@${digest}`],
    config: { os: 'linux', architecture: 'amd64', config: { Env: ['SECRET_TOKEN=do-not-print'] } },
    layers: [
      { index: 0, diffId: L0, digest: 'sha256:' + '4'.repeat(64) },
      { index: 1, diffId: 'sha256:' + '2'.repeat(64) },
      { index: 2, diffId: L2 },
    ],
  };
}

/** What a reader can give back of a package: everything but file lists and free-form metadata. */
export function comparable(p: Package): Omit<Package, 'files' | 'metadata'> {
  const { files: _f, metadata: _m, ...rest } = p;
  const out = { ...rest, licenses: [...new Set(rest.licenses.map((l) => l.trim()))] };
  if (out.dependsOn) out.dependsOn = [...new Set(out.dependsOn)].sort();
  return out;
}
