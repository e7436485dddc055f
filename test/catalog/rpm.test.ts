import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { parsePurl } from '../../src/core/purl.js';
import { catalogTarget } from '../../src/catalog/index.js';
import { rpmCataloger, readRpmDb } from '../../src/catalog/rpm/index.js';
import { parseRpmHeader, parseSourceRpm } from '../../src/catalog/rpm/header.js';
import { readSqliteBlobs } from '../../src/catalog/rpm/sqlite.js';
import { readTree, runCataloger } from '../helpers/catalog.js';
import { rpmFixture, rpmQueryAll, type RpmFixture } from './rpm-fixture.js';
import { SHARED } from '../helpers/shared.js';

const SYFT = `${SHARED}/corpora/syft`;
const REDHAT = `${SYFT}/syft/pkg/cataloger/redhat/testdata`;

/** Our packages in rpm's own -qa format (see rpmQueryAll). */
function asRpmQa(
  packages: {
    name: string;
    version: string;
    arch?: string;
    licenses: string[];
    metadata?: Record<string, unknown>;
  }[],
): string[] {
  return packages
    .map((p) => {
      const m = /^(?:(\d+):)?([^-]+)-(.+)$/.exec(p.version)!;
      return [
        p.name,
        m[1] ?? '(none)',
        m[2],
        m[3],
        p.arch ?? '',
        p.metadata?.sourceRpm ?? '',
        p.licenses.join(' '),
      ].join('|');
    })
    .sort();
}

/** rpm's own answer to "which installed package satisfies each requirement of NAME". */
function rpmResolvedDeps(dbArgs: string[], name: string): string[] {
  const reqs = execFileSync('rpm', [...dbArgs, '-qR', name], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0]!)
    .filter((r) => r && !r.startsWith('rpmlib('));
  const out = new Set<string>();
  for (const r of reqs) {
    try {
      const p = execFileSync('rpm', [...dbArgs, '-q', '--whatprovides', r, '--qf', '%{NAME}\\n'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const first = p.split('\n')[0]!;
      if (first && first !== name) out.add(first);
    } catch {
      // not provided by an installed package
    }
  }
  return [...out].sort();
}

describe('rpm cataloger: syft Berkeley DB fixture', () => {
  it('Packages (dive) equals syft expected package and purl, and rpm -qa', async () => {
    const expected = readFileSync(`${SYFT}/expected_index.jsonl`, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(
        (l) => JSON.parse(l) as { test: string; packages: { name: string; version: string; purl: string }[] },
      )
      .find((e) => e.test === 'TestParseRpmDB')!;
    const { packages, warnings } = await runCataloger(rpmCataloger, {
      '/var/lib/rpm/Packages': readFileSync(`${REDHAT}/Packages`),
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      packages.map((p) => ({ name: p.name, version: p.version, purl: parsePurl(p.purl) })),
      expected.packages.map((p) => ({ name: p.name, version: p.version, purl: parsePurl(p.purl) })),
    );
    assert.deepEqual(packages[0]!.files, ['/usr/local/bin/dive']);
    assert.deepEqual(packages[0]!.licenses, ['MIT']);
  });

  it('container-manifest-2 (Mariner distroless) equals syft expected packages and purls', async () => {
    const expected = readFileSync(`${SYFT}/expected_index.jsonl`, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(
        (l) => JSON.parse(l) as { test: string; packages: { name: string; version: string; purl: string }[] },
      )
      .find((e) => e.test === 'TestParseRpmManifest')!;
    const { packages, warnings } = await runCataloger(rpmCataloger, {
      '/var/lib/rpmmanifest/container-manifest-2': readFileSync(`${REDHAT}/container-manifest-2`),
    });
    assert.deepEqual(warnings, []);
    assert.ok(expected.packages.length >= 5);
    assert.deepEqual(
      packages.map((p) => ({ name: p.name, version: p.version, purl: parsePurl(p.purl) })),
      expected.packages.map((p) => ({ name: p.name, version: p.version, purl: parsePurl(p.purl) })),
    );
    assert.equal(packages.find((p) => p.name === 'openssl-libs')!.sourceName, 'openssl');
  });

  it('syft glob-paths placeholders (empty and 5-byte files) warn, never throw', async () => {
    const { packages, warnings } = await runCataloger(rpmCataloger, readTree(`${REDHAT}/glob-paths`));
    assert.deepEqual(packages, []);
    // the three 5-byte files in /var/lib/rpm are read (the empty ones are skipped)
    assert.ok(
      warnings.some((w) => w.startsWith('rpm: /var/lib/rpm/rpmdb.sqlite: cannot read the sqlite database')),
    );
    assert.ok(warnings.some((w) => w.startsWith('rpm: /var/lib/rpm/Packages: cannot read the bdb database')));
    assert.ok(
      warnings.some((w) =>
        w.startsWith('rpm: /var/lib/rpm/Packages.db: cannot read the ndb database: not an NDB database'),
      ),
    );
  });
});

describe('rpm cataloger: databases written by rpm itself', () => {
  let fx: RpmFixture;
  let sqliteArgs: string[];
  let bdbArgs: string[];
  before(() => {
    fx = rpmFixture();
    sqliteArgs = ['--root', fx.sqliteRoot, '--dbpath', '/var/lib/rpm'];
    bdbArgs = ['--dbpath', fx.bdbDir, '--define', '_db_backend bdb_ro'];
  });

  it('rpmdb.sqlite: packages equal rpm -qa (name, epoch, version, release, arch, source rpm, license)', async () => {
    const bytes = readFileSync(fx.sqlite);
    // rpm writes its sqlite database in WAL mode (file format bytes 18-19 = 2)
    assert.deepEqual([bytes[18], bytes[19]], [2, 2]);
    const { packages, warnings } = await runCataloger(rpmCataloger, { '/var/lib/rpm/rpmdb.sqlite': bytes });
    assert.deepEqual(warnings, []);
    const want = rpmQueryAll(sqliteArgs);
    assert.equal(want.length, 4);
    assert.deepEqual(asRpmQa(packages), want);
  });

  it('rpmdb.sqlite: installed files equal rpm -ql, requirements resolve as rpm --whatprovides does', async () => {
    const { packages } = await runCataloger(rpmCataloger, {
      '/usr/lib/sysimage/rpm/rpmdb.sqlite': readFileSync(fx.sqlite),
    });
    for (const p of packages) {
      const ql = execFileSync('rpm', [...sqliteArgs, '-ql', p.name], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean);
      assert.deepEqual(p.files, ql, p.name);
      assert.deepEqual(p.dependsOn!.map((d) => d.name).sort(), rpmResolvedDeps(sqliteArgs, p.name), p.name);
    }
    const hello = packages.find((p) => p.name === 'hello')!;
    assert.deepEqual(hello.dependsOn!.map((d) => d.name).sort(), ['tinysh', 'world']);
  });

  it('version, purl, source package and epoch 0 as rpm records them', async () => {
    const { packages } = await runCataloger(
      rpmCataloger,
      { '/var/lib/rpm/rpmdb.sqlite': readFileSync(fx.sqlite) },
      {
        distro: { id: 'rhel', versionId: '9.3' },
      },
    );
    const by = Object.fromEntries(packages.map((p) => [p.name, p]));
    assert.equal(by.hello!.version, '2:1.2.3-4.el9');
    assert.equal(
      by.hello!.purl,
      'pkg:rpm/redhat/hello@1.2.3-4.el9?arch=noarch&distro=rhel-9.3&epoch=2&upstream=hello-1.2.3-4.el9.src.rpm',
    );
    assert.equal(by.hello!.ecosystem, 'Red Hat');
    assert.equal(by.tinysh!.version, '0:0.1-0.rc1');
    assert.equal(parsePurl(by.tinysh!.purl).qualifiers?.epoch, '0');
    assert.equal(by['world-libs']!.sourceName, 'world');
    assert.equal(by['world-libs']!.sourceVersion, undefined, 'same version-release as the binary');
    assert.equal(
      by.world!.purl,
      'pkg:rpm/redhat/world@1.0-1?arch=noarch&distro=rhel-9.3&upstream=world-1.0-1.src.rpm',
    );
  });

  it('Berkeley DB Packages written by db_load: rpm (bdb_ro) and the cataloger read the same packages', async () => {
    const want = rpmQueryAll(bdbArgs);
    assert.deepEqual(want, rpmQueryAll(sqliteArgs));
    const { packages, warnings } = await runCataloger(rpmCataloger, {
      '/var/lib/rpm/Packages': readFileSync(fx.bdb),
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(asRpmQa(packages), want);
  });

  it('NDB Packages.db (container built here from the real header blobs: no NDB writer on Debian)', async () => {
    const blobs = readSqliteBlobs(readFileSync(fx.sqlite));
    const ndb = buildNdb(blobs);
    const { packages, warnings } = await runCataloger(rpmCataloger, {
      '/usr/lib/sysimage/rpm/Packages.db': ndb,
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(asRpmQa(packages), rpmQueryAll(sqliteArgs));
    // a corrupt slot is a warning naming the file, not a crash
    const bad = Buffer.from(ndb);
    bad.writeUInt32LE(0xdeadbeef, 32 + 16);
    const r = await runCataloger(rpmCataloger, { '/usr/lib/sysimage/rpm/Packages.db': bad });
    assert.deepEqual(r.packages, []);
    assert.match(
      r.warnings[0]!,
      /^rpm: \/usr\/lib\/sysimage\/rpm\/Packages\.db: cannot read the ndb database: bad slot magic at offset 48/,
    );
  });

  it('several databases: the newest format wins, the others are named in a warning', async () => {
    const { packages, warnings } = await runCataloger(rpmCataloger, {
      '/var/lib/rpm/Packages': readFileSync(`${REDHAT}/Packages`),
      '/usr/lib/sysimage/rpm/rpmdb.sqlite': readFileSync(fx.sqlite),
    });
    assert.equal(packages.length, 4);
    assert.deepEqual(warnings, [
      'rpm: /var/lib/rpm/Packages ignored, using the newer database /usr/lib/sysimage/rpm/rpmdb.sqlite',
    ]);
  });

  it('corrupt header blobs are skipped with a warning; truncations never read out of range', () => {
    const blob = readSqliteBlobs(readFileSync(fx.sqlite))[0]!;
    for (let cut = 0; cut < blob.length; cut += 97) {
      assert.throws(() => parseRpmHeader(blob.subarray(0, cut)), /./, `cut at ${cut}`);
    }
    const warnings: string[] = [];
    const bad = Buffer.from(blob);
    bad.writeUInt32BE(0x7fffffff, 0); // absurd index count
    assert.deepEqual(
      readRpmDb(bad, 'bdb', '/x', (m) => warnings.push(m)),
      [],
    );
    assert.match(warnings[0]!, /^rpm: \/x: cannot read the bdb database/);
  });

  it('whole pipeline on a root filesystem where rpm installed the packages (dir:)', async () => {
    const cat = await catalogTarget(`dir:${fx.installedRoot}`);
    assert.deepEqual(cat.warnings, []);
    assert.equal(cat.distro?.id, 'rocky');
    const rpms = cat.packages.filter((p) => p.type === 'rpm');
    assert.deepEqual(asRpmQa(rpms), rpmQueryAll(['--root', fx.installedRoot, '--dbpath', '/var/lib/rpm']));
    const hello = rpms.find((p) => p.name === 'hello')!;
    assert.equal(hello.ecosystem, 'Rocky Linux:9');
    assert.equal(
      hello.purl,
      'pkg:rpm/rocky/hello@1.2.3-4.el9?arch=noarch&distro=rocky-9.3&epoch=2&upstream=hello-1.2.3-4.el9.src.rpm',
    );
    assert.deepEqual(
      hello.locations.map((l) => l.path),
      ['/var/lib/rpm/rpmdb.sqlite'],
    );
    const ids = new Map(rpms.map((p) => [p.name, p.id]));
    assert.deepEqual(hello.dependsOn?.sort(), [ids.get('tinysh'), ids.get('world')].sort());
    // the Python distribution the hello rpm installed is owned by it
    const py = cat.packages.find((p) => p.type === 'pypi' && p.name === 'hello')!;
    assert.equal(py.locations[0]!.path, '/usr/lib/python3.9/site-packages/hello-1.2.3.dist-info/METADATA');
    assert.equal(py.ownedBy, hello.id);
  });

  it('source rpm names', () => {
    assert.deepEqual(parseSourceRpm('openssl-1.1.1k-15.cm2.src.rpm'), {
      name: 'openssl',
      version: '1.1.1k-15.cm2',
    });
    assert.deepEqual(parseSourceRpm('python-3.9-libs-3.9.18-1.el9.nosrc.rpm'), {
      name: 'python-3.9-libs',
      version: '3.9.18-1.el9',
    });
    assert.equal(parseSourceRpm('garbage'), undefined);
  });
});

/** Writes an NDB file (rpm's ndb format: header, slot pages, 16-byte blocks) holding `blobs`. */
function buildNdb(blobs: Buffer[]): Buffer {
  const PAGE = 4096;
  const slotPages = 1;
  const parts: Buffer[] = [];
  const head = Buffer.alloc(slotPages * PAGE);
  head.writeUInt32LE(0x506d7052, 0);
  head.writeUInt32LE(0, 4);
  head.writeUInt32LE(1, 8);
  head.writeUInt32LE(slotPages, 12);
  for (let at = 32; at + 16 <= head.length; at += 16) head.writeUInt32LE(0x746f6c53, at);
  let blk = head.length / 16;
  blobs.forEach((b, i) => {
    const len = 16 + b.length;
    const blocks = Math.ceil(len / 16);
    const rec = Buffer.alloc(blocks * 16);
    rec.writeUInt32LE(0x53626c42, 0);
    rec.writeUInt32LE(i + 1, 4);
    rec.writeUInt32LE(0, 8);
    rec.writeUInt32LE(b.length, 12);
    b.copy(rec, 16);
    const slot = 32 + i * 16;
    head.writeUInt32LE(i + 1, slot + 4);
    head.writeUInt32LE(blk, slot + 8);
    head.writeUInt32LE(blocks, slot + 12);
    blk += blocks;
    parts.push(rec);
  });
  return Buffer.concat([head, ...parts]);
}
