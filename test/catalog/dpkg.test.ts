import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dpkgCataloger } from '../../src/catalog/dpkg/index.js';
import { parseCopyrightLicenses } from '../../src/catalog/dpkg/copyright.js';
import { parseDependsField, parseSourceField } from '../../src/catalog/dpkg/control.js';
import { readTree, runCataloger } from '../helpers/catalog.js';
import { SHARED } from '../helpers/shared.js';

const SYFT = `${SHARED}/corpora/syft`;
const DEB = `${SYFT}/syft/pkg/cataloger/debian/testdata`;

interface Expected {
  test_file: string;
  case: string | null;
  fixture: string;
  db_entries: { package: string; version: string; architecture: string; source?: string }[];
}
const expected: Expected[] = readFileSync(`${SYFT}/expected_index.jsonl`, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Expected)
  .filter(
    (e) => e.test_file.startsWith('syft/pkg/cataloger/debian/') && e.fixture.includes('/var/lib/dpkg/'),
  );

describe('dpkg cataloger: syft fixtures', () => {
  it('has the debian status fixtures to check', () => assert.ok(expected.length >= 4));
  for (const e of expected) {
    it(`${e.case}: ${e.fixture.split('/').pop()}`, async () => {
      const content = readFileSync(join(SYFT, e.fixture));
      const { packages } = await runCataloger(dpkgCataloger, { '/var/lib/dpkg/status': content });
      assert.deepEqual(
        packages.map((p) => ({
          package: p.name,
          version: p.version,
          architecture: p.arch,
          source: p.sourceName,
        })),
        e.db_entries.map((d) => ({
          package: d.package,
          version: d.version,
          architecture: d.architecture,
          source: d.source,
        })),
      );
    });
  }

  it('image-dpkg: package with copyright licenses and purl', async () => {
    const { packages } = await runCataloger(dpkgCataloger, readTree(`${DEB}/image-dpkg`), {
      distro: { id: 'debian', versionId: '12' },
    });
    assert.equal(packages.length, 1);
    const p = packages[0]!;
    assert.equal(p.name, 'libpam-runtime');
    assert.equal(p.version, '1.1.8-3.6');
    assert.equal(p.sourceName, 'pam');
    assert.equal(p.ecosystem, 'Debian:12');
    assert.deepEqual(p.licenses, ['GPL-1', 'GPL-2', 'LGPL-2.1']);
    assert.equal(p.purl, 'pkg:deb/debian/libpam-runtime@1.1.8-3.6?arch=all&distro=debian-12&upstream=pam');
  });

  it('distroless status.d: paragraph per file, md5sums as file list, copyright', async () => {
    const { packages, warnings } = await runCataloger(dpkgCataloger, readTree(`${DEB}/image-distroless-deb`));
    assert.deepEqual(warnings, []);
    assert.equal(packages.length, 1);
    const p = packages[0]!;
    assert.deepEqual(
      [p.name, p.version, p.arch, p.sourceName],
      ['libsqlite3-0', '3.34.1-3', 'arm64', 'sqlite3'],
    );
    assert.equal(p.record?.path, '/var/lib/dpkg/status.d/libsqlite3-0');
    assert.ok(p.files?.includes('/usr/lib/aarch64-linux-gnu/libsqlite3.so.0.8.6'));
    assert.equal(p.files?.length, 6);
    assert.ok(p.licenses.length > 0);
    // no distro known: namespace falls back to debian, no distro qualifier
    assert.equal(p.purl, 'pkg:deb/debian/libsqlite3-0@3.34.1-3?arch=arm64&upstream=sqlite3');
  });

  it('corrupt status file: warning naming the file and line, no package', async () => {
    const { packages, warnings } = await runCataloger(dpkgCataloger, {
      '/var/lib/dpkg/status': readFileSync(`${DEB}/var/lib/dpkg/status.d/corrupt`),
    });
    assert.deepEqual(packages, []);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /\/var\/lib\/dpkg\/status:5: malformed line/);
  });

  it('dependencies from Pre-Depends and Depends (coreutils-relationships)', async () => {
    const { packages } = await runCataloger(dpkgCataloger, {
      '/var/lib/dpkg/status': readFileSync(`${DEB}/var/lib/dpkg/status.d/coreutils-relationships`),
    });
    const deps = Object.fromEntries(packages.map((p) => [p.name, (p.dependsOn ?? []).map((d) => d.name)]));
    assert.deepEqual(deps, {
      coreutils: ['libacl1', 'libattr1', 'libc6', 'libgmp10', 'libselinux1'],
      libacl1: ['libc6'],
      libc6: ['libgcc-s1'],
      'libgcc-s1': ['gcc-12-base', 'libc6'],
      'gcc-12-base': [],
      libattr1: ['libc6'],
      libgmp10: ['libc6'],
      libselinux1: ['libc6', 'libpcre2-8-0'],
      'libpcre2-8-0': ['libc6'],
    });
  });

  it('paragraphs without a version are stubs, not packages (doc-examples)', async () => {
    const { packages } = await runCataloger(dpkgCataloger, {
      '/var/lib/dpkg/status': readFileSync(`${DEB}/var/lib/dpkg/status.d/doc-examples`),
    });
    assert.deepEqual(
      packages.map((p) => p.name),
      ['mutt', 'made-up-package-1', 'made-up-package-2', 'made-up-package-3', 'made-up-package-4'],
    );
  });
});

describe('dpkg cataloger: corner cases', () => {
  const status = [
    'Package: a',
    'Status: install ok installed',
    'Version: 1:2.0-1',
    'Architecture: amd64',
    'Source: a-src (2.0-0.1)',
    'Description: first line',
    ' continuation line with: a colon',
    ' .',
    ' more',
    'Depends: b:any (>= 1), perl:any | c, mail-transport-agent, debconf (>= 0.5) | debconf-2.0 [linux-any]',
    'Pre-Depends: e',
    '',
    'Package: b',
    'Status: deinstall ok config-files',
    'Version: 1.0',
    '',
    'Package: c',
    'Status: install ok half-installed',
    'Version: 3.0',
    'Architecture: all',
    '',
    'Package: d',
    'Status: purge ok not-installed',
    '',
    'Package: e',
    'Status: deinstall ok installed',
    'Version: 5',
    'Provides: mail-transport-agent, debconf-2.0',
    '',
    'Package: f',
    'Status: install ok unpacked',
    'Version: 6',
  ].join('\n'); // no trailing newline

  it('keeps packages whose files are on disk, parses source version, skips description continuations', async () => {
    const { packages, warnings } = await runCataloger(dpkgCataloger, { '/var/lib/dpkg/status': status });
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      packages.map((p) => [p.name, p.version]),
      [
        ['a', '1:2.0-1'],
        ['c', '3.0'],
        ['e', '5'],
        ['f', '6'],
      ],
    );
    const a = packages[0]!;
    assert.equal(a.sourceName, 'a-src');
    assert.equal(a.sourceVersion, '2.0-0.1');
    // Pre-Depends first; b is not installed (config-files); perl is not installed so c is the
    // installed alternative; virtual packages resolve to their installed provider (e), once
    assert.deepEqual(a.dependsOn, [{ name: 'e' }, { name: 'c' }]);
    assert.equal(a.purl, 'pkg:deb/debian/a@1:2.0-1?arch=amd64&upstream=a-src%402.0-0.1');
  });

  it('CRLF line endings parse the same', async () => {
    const { packages } = await runCataloger(dpkgCataloger, {
      '/var/lib/dpkg/status': status.replace(/\n/g, '\r\n'),
    });
    assert.deepEqual(
      packages.map((p) => p.name),
      ['a', 'c', 'e', 'f'],
    );
  });

  it('multi-arch .list files are matched by name and architecture', async () => {
    const { packages } = await runCataloger(dpkgCataloger, {
      '/var/lib/dpkg/status':
        'Package: libc6\nStatus: install ok installed\nVersion: 2.36\nArchitecture: amd64\n\nPackage: libc6\nStatus: install ok installed\nVersion: 2.36\nArchitecture: i386\n',
      '/var/lib/dpkg/info/libc6:amd64.list': '/.\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libc.so.6\n',
      '/var/lib/dpkg/info/libc6:i386.list': '/.\n/lib/i386-linux-gnu/libc.so.6\n',
    });
    assert.deepEqual(
      packages.map((p) => p.files),
      [['/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu/libc.so.6'], ['/lib/i386-linux-gnu/libc.so.6']],
    );
    assert.equal(packages[0]!.locations?.[0]?.path, '/var/lib/dpkg/info/libc6:amd64.list');
  });

  it('field parsers', () => {
    assert.deepEqual(parseSourceField('glibc (2.36-9+deb12u4)'), {
      name: 'glibc',
      version: '2.36-9+deb12u4',
    });
    assert.deepEqual(parseSourceField('glibc'), { name: 'glibc', version: undefined });
    assert.deepEqual(parseDependsField('libc6 (>= 2.34) [amd64], python3:any, a | b <!nocheck>'), [
      { alternatives: ['libc6'] },
      { alternatives: ['python3'] },
      { alternatives: ['a', 'b'] },
    ]);
  });

  it('copyright licenses: DEP-5 fields, expressions, common-licenses references, free text ignored', () => {
    const read = (n: string) => parseCopyrightLicenses(readFileSync(`${DEB}/copyright/${n}`, 'utf8'));
    assert.deepEqual(read('trilicense'), ['GPL-2', 'LGPL-2.1', 'MPL-1.1']);
    assert.deepEqual(read('libc6'), ['GPL-2', 'LGPL-2.1']);
    assert.deepEqual(read('libaudit-common'), ['GPL-1', 'GPL-2', 'LGPL-2.1']);
    assert.deepEqual(read('microsoft'), []);
    assert.deepEqual(read('cuda'), []);
    const python = read('python');
    for (const l of ['Apache-2', 'Apache-2.0', 'Expat', 'GPL-2', 'PSF-2', 'Python'])
      assert.ok(python.includes(l), l);
    assert.ok(!python.some((l) => /\s/.test(l)), 'no free text');
    const lzma = read('liblzma5');
    for (const l of [
      'GPL-2',
      'GPL-2+',
      'LGPL-2.1+',
      'PD',
      'probably-PD',
      'Autoconf',
      'config-h',
      'permissive-fsf',
    ]) {
      assert.ok(lzma.includes(l), l);
    }
    assert.ok(!lzma.includes('none'));
  });
});

/** Real-world proof: this machine's own dpkg database against dpkg-query. */
describe(
  'dpkg cataloger: this machine /var/lib/dpkg equals dpkg-query',
  { skip: !existsSync('/var/lib/dpkg/status') && 'no dpkg here' },
  () => {
    it('same packages, versions, sources and architectures as dpkg-query -W', async () => {
      const files: Record<string, Buffer> = { '/var/lib/dpkg/status': readFileSync('/var/lib/dpkg/status') };
      for (const n of readdirSync('/var/lib/dpkg/info')) {
        if (n.endsWith('.list')) files[`/var/lib/dpkg/info/${n}`] = readFileSync(`/var/lib/dpkg/info/${n}`);
      }
      const { packages, warnings } = await runCataloger(dpkgCataloger, files);
      assert.deepEqual(warnings, []);
      const out = execFileSync(
        'dpkg-query',
        [
          '-W',
          '-f',
          '${db:Status-Status} ${Package} ${Version} ${source:Package} ${source:Version} ${Architecture}\n',
        ],
        { encoding: 'utf8' },
      );
      const want = out
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' '))
        .filter(([st]) => st !== 'not-installed' && st !== 'config-files')
        .map((f) => f.slice(1).join(' '))
        .sort();
      const got = packages
        .map(
          (p) => `${p.name} ${p.version} ${p.sourceName ?? p.name} ${p.sourceVersion ?? p.version} ${p.arch}`,
        )
        .sort();
      assert.ok(want.length > 50);
      assert.deepEqual(got, want);
      // the installed file lists are dpkg -L's
      const dpkgFiles = execFileSync('dpkg', ['-L', 'dpkg'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l && l !== '/.');
      assert.deepEqual(packages.find((p) => p.name === 'dpkg')!.files, dpkgFiles);
    });
  },
);
