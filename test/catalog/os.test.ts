import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AnalysisRecord } from '../../src/core/analyzer.js';
import {
  detectDistro,
  osEcosystem,
  osReleaseAnalyzer,
  purlDistro,
  type OsFileResult,
} from '../../src/catalog/os/index.js';
import { SHARED } from '../helpers/shared.js';

/** Runs the os-release analyzer over in-memory files and detects the distro. */
async function detect(files: Record<string, string>) {
  const records: AnalysisRecord<OsFileResult>[] = [];
  for (const [path, text] of Object.entries(files)) {
    const e = { path, type: 'file' as const, size: text.length, mode: 0o644 };
    if (!osReleaseAnalyzer.wants(e)) continue;
    const r = await osReleaseAnalyzer.analyze({ ...e, content: Buffer.from(text) }, { warn: () => {} });
    if (r) records.push({ path, result: r });
  }
  return detectDistro(records);
}

const UBUNTU_2204 = `PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
`;
const ALPINE = `NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.19.1
PRETTY_NAME="Alpine Linux v3.19"
`;
const ROCKY = `NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
`;

describe('os detection', () => {
  it("this machine's /etc/os-release", async () => {
    const text = readFileSync('/etc/os-release', 'utf8');
    const fields = Object.fromEntries(
      text
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^"|"$/g, '')]),
    );
    const d = await detect({ '/etc/os-release': text });
    assert.equal(d?.id, fields.ID);
    assert.equal(d?.versionId, fields.VERSION_ID ?? '');
    assert.equal(d?.prettyName, fields.PRETTY_NAME);
  });

  it('syft image-dpkg os-release (Debian 12)', async () => {
    const text = readFileSync(
      `${SHARED}/corpora/syft/syft/pkg/cataloger/debian/testdata/image-dpkg/etc/os-release`,
      'utf8',
    );
    const d = await detect({ '/etc/os-release': text });
    assert.deepEqual(d, {
      id: 'debian',
      versionId: '12',
      versionCodename: 'bookworm',
      prettyName: 'Debian GNU/Linux 12 (bookworm)',
    });
    assert.equal(osEcosystem('deb', d), 'Debian:12');
    assert.equal(purlDistro(d), 'debian-12');
  });

  it('/usr/lib/os-release when /etc has none; /etc wins when both exist', async () => {
    assert.equal((await detect({ '/usr/lib/os-release': ALPINE }))?.id, 'alpine');
    assert.equal((await detect({ '/usr/lib/os-release': ALPINE, '/etc/os-release': ROCKY }))?.id, 'rocky');
  });

  it('ecosystems: Ubuntu LTS, Alpine minor, Rocky major, RHEL', async () => {
    const ubuntu = await detect({ '/etc/os-release': UBUNTU_2204 });
    assert.deepEqual(ubuntu?.idLike, ['debian']);
    assert.equal(osEcosystem('deb', ubuntu), 'Ubuntu:22.04:LTS');
    assert.equal(osEcosystem('deb', { id: 'ubuntu', versionId: '23.10' }), 'Ubuntu:23.10');
    const alpine = await detect({ '/etc/os-release': ALPINE });
    assert.equal(osEcosystem('apk', alpine), 'Alpine:v3.19');
    assert.equal(purlDistro(alpine), 'alpine-3.19.1');
    assert.equal(osEcosystem('rpm', await detect({ '/etc/os-release': ROCKY })), 'Rocky Linux:9');
    assert.equal(osEcosystem('rpm', { id: 'rhel', versionId: '9.3' }), 'Red Hat');
    assert.equal(osEcosystem('rpm', undefined), '');
  });

  it('fallbacks without os-release: lsb-release, alpine-release, redhat-release, debian_version', async () => {
    assert.deepEqual(
      await detect({
        '/etc/lsb-release':
          'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=20.04\nDISTRIB_CODENAME=focal\nDISTRIB_DESCRIPTION="Ubuntu 20.04.6 LTS"\n',
      }),
      { id: 'ubuntu', versionId: '20.04', versionCodename: 'focal', prettyName: 'Ubuntu 20.04.6 LTS' },
    );
    assert.deepEqual(await detect({ '/etc/alpine-release': '3.18.4\n' }), {
      id: 'alpine',
      versionId: '3.18.4',
    });
    assert.deepEqual(
      await detect({ '/etc/redhat-release': 'Red Hat Enterprise Linux release 8.9 (Ootpa)\n' }),
      {
        id: 'rhel',
        versionId: '8.9',
        prettyName: 'Red Hat Enterprise Linux release 8.9 (Ootpa)',
      },
    );
    assert.deepEqual(await detect({ '/etc/debian_version': '12.5\n' }), { id: 'debian', versionId: '12' });
    assert.deepEqual(await detect({ '/etc/debian_version': 'trixie/sid\n' }), {
      id: 'debian',
      versionId: '',
      versionCodename: 'trixie',
    });
    assert.equal(await detect({ '/etc/hostname': 'x' }), undefined);
  });
});
