/**
 * A small report with one finding of every kind, hand-written for the writers' corner cases
 * (escaping, grouping, several packages sharing an advisory). The end-to-end scan tests check the
 * writers on real scans of real images.
 */
import type { ScanReport, VulnerabilityFinding } from '../../src/core/findings.js';

export function vuln(
  over: Partial<VulnerabilityFinding> & { pkg?: Partial<VulnerabilityFinding['package']> } = {},
): VulnerabilityFinding {
  const { pkg, ...rest } = over;
  return {
    kind: 'vulnerability',
    id: 'DEBIAN-CVE-2023-4911',
    aliases: ['CVE-2023-4911', 'DSA-5514-1'],
    title: 'glibc: buffer overflow in ld.so <GLIBC_TUNABLES> & "friends"\u0001',
    severity: 'HIGH',
    location: { path: '/var/lib/dpkg/status', layer: 'sha256:aaa', layerIndex: 0 },
    cvss: [
      { version: '3.1', vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', score: 7.8, source: 'nvd' },
    ],
    package: {
      name: 'libc6',
      version: '2.36-9+deb12u1',
      purl: 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u1?arch=amd64&distro=debian-12',
      ecosystem: 'Debian:12',
      sourceName: 'glibc',
      id: 'deb:libc6@2.36-9+deb12u1',
      ...pkg,
    },
    fixedVersions: ['2.36-9+deb12u3'],
    status: 'fixed',
    references: ['https://security-tracker.debian.org/tracker/CVE-2023-4911'],
    modifiedAt: '2026-01-01T00:00:00Z',
    ...rest,
  };
}

export function sampleReport(): ScanReport {
  return {
    schemaVersion: 1,
    createdAt: '2026-11-23T10:00:00.000Z',
    tool: { name: 'bulwark', version: '0.1.0' },
    artifact: {
      kind: 'image',
      name: 'oci:/tmp/img:latest',
      digest: 'sha256:bbb',
      layers: [{ index: 0, diffId: 'sha256:aaa' }],
      os: { id: 'debian', versionId: '12.5' },
    },
    results: [
      {
        target: 'oci:/tmp/img:latest (debian 12.5)',
        class: 'os-pkgs',
        type: 'debian',
        packages: [
          {
            id: 'deb:libc6@2.36-9+deb12u1',
            name: 'libc6',
            version: '2.36-9+deb12u1',
            type: 'deb',
            ecosystem: 'Debian:12',
            purl: 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u1?arch=amd64&distro=debian-12',
            licenses: [],
            locations: [{ path: '/var/lib/dpkg/status' }],
            foundBy: 'dpkg',
          },
          {
            id: 'deb:libc-bin@2.36-9+deb12u1',
            name: 'libc-bin',
            version: '2.36-9+deb12u1',
            type: 'deb',
            ecosystem: 'Debian:12',
            purl: 'pkg:deb/debian/libc-bin@2.36-9%2Bdeb12u1?arch=amd64&distro=debian-12',
            licenses: [],
            locations: [{ path: '/var/lib/dpkg/status' }],
            foundBy: 'dpkg',
          },
        ],
        findings: [
          vuln(),
          vuln({
            pkg: {
              name: 'libc-bin',
              purl: 'pkg:deb/debian/libc-bin@2.36-9%2Bdeb12u1?arch=amd64&distro=debian-12',
              id: 'deb:libc-bin@2.36-9+deb12u1',
            },
          }),
          vuln({
            id: 'DEBIAN-CVE-2019-1010022',
            aliases: ['CVE-2019-1010022'],
            title: 'glibc stack guard bypass',
            severity: 'LOW',
            cvss: [],
            fixedVersions: [],
            status: 'affected',
            urgency: 'unimportant',
          }),
        ],
      },
      {
        target: '/app/package-lock.json',
        class: 'lang-pkgs',
        type: 'npm',
        findings: [
          vuln({
            id: 'NSWG-ECO-100',
            aliases: [],
            title: 'Regular Expression Denial Of Service',
            severity: 'CRITICAL',
            cvss: [{ version: '3.0', vector: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', score: 9.8 }],
            location: { path: '/app/package-lock.json' },
            package: {
              name: 'uri-js',
              version: '2.1.1',
              purl: 'pkg:npm/uri-js@2.1.1',
              ecosystem: 'npm',
              id: 'npm:uri-js@2.1.1',
            },
            fixedVersions: [],
            status: 'affected',
          }),
        ],
      },
      {
        target: '/app/.env',
        class: 'secret',
        findings: [
          {
            kind: 'secret',
            id: 'aws-access-key-id',
            title: 'AWS Access Key ID',
            severity: 'CRITICAL',
            category: 'AWS',
            match: 'AWS_KEY=AKIA************',
            location: { path: '/app/.env', line: 3, layer: 'sha256:ccc' },
          },
        ],
      },
      {
        target: 'Dockerfile',
        class: 'config',
        type: 'dockerfile',
        findings: [
          {
            kind: 'misconfig',
            id: 'DS002',
            title: 'Image user should not be root',
            severity: 'HIGH',
            type: 'dockerfile',
            status: 'fail',
            message: 'Specify USER <non-root>',
            location: { path: 'Dockerfile', line: 1, endLine: 1 },
            remediation: 'Add USER',
          },
        ],
      },
      {
        target: 'licenses',
        class: 'license',
        findings: [
          {
            kind: 'license',
            id: 'GPL-3.0-only',
            title: 'GPL-3.0-only',
            severity: 'MEDIUM',
            license: 'GPL-3.0-only',
            category: 'restricted',
            package: { name: 'bash', version: '5.2', purl: 'pkg:deb/debian/bash@5.2' },
            location: { path: '/usr/share/doc/bash/copyright' },
          },
        ],
      },
      { target: '/srv/empty/requirements.txt', class: 'lang-pkgs', type: 'pypi', findings: [] },
    ],
  };
}
