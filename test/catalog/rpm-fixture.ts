/**
 * Builds real rpm databases for the rpm cataloger tests, with the real tools:
 * - rpmbuild builds a few small packages (epoch, subpackages of one source, Provides, file
 *   requirements, a Python dist-info directory) from the specs below;
 * - `rpm --justdb -i` installs them into an rpmdb.sqlite (Debian's rpm writes only sqlite);
 * - db5.3_load writes the same header blobs into a Berkeley DB hash "Packages", as rpm < 4.16
 *   did, which Debian's rpm reads back with its bdb_ro backend (the tests check that it does).
 * Output is cached under .cache/catalog-rpm (rebuilt when missing), built under a lock.
 * Needs the Debian packages rpm and db5.3-util.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const ROOT = new URL('../..', import.meta.url).pathname;
const CACHE = join(ROOT, '.cache', 'catalog-rpm');
const VERSION = 'v3';

const SPECS: Record<string, string> = {
  hello: `Name: hello
Version: 1.2.3
Release: 4.el9
Epoch: 2
Summary: greets
License: MIT AND Apache-2.0
BuildArch: noarch
Requires: world >= 1.0
Requires: /bin/sh
Requires: libworld.so.1()(64bit)
%description
greets
%install
mkdir -p %{buildroot}/usr/share/hello %{buildroot}/usr/lib/python3.9/site-packages/hello-1.2.3.dist-info
echo hi > %{buildroot}/usr/share/hello/a.txt
printf 'Metadata-Version: 2.1\\nName: hello\\nVersion: 1.2.3\\n' > %{buildroot}/usr/lib/python3.9/site-packages/hello-1.2.3.dist-info/METADATA
%files
/usr/share/hello
/usr/lib/python3.9/site-packages/hello-1.2.3.dist-info
`,
  world: `Name: world
Version: 1.0
Release: 1
Summary: the world
License: GPL-2.0-or-later
BuildArch: noarch
Provides: libworld.so.1()(64bit)
%description
world
%package libs
Summary: world libraries
License: LGPL-2.1-only
Requires: world = %{version}-%{release}
%description libs
libs
%install
mkdir -p %{buildroot}/usr/lib64 %{buildroot}/usr/share/world
echo w > %{buildroot}/usr/share/world/w.txt
echo l > %{buildroot}/usr/lib64/libworld.so.1
%files
/usr/share/world/w.txt
%files libs
/usr/lib64/libworld.so.1
`,
  shell: `Name: tinysh
Version: 0.1
Release: 0.rc1
Epoch: 0
Summary: a shell
License: BSD-3-Clause
BuildArch: noarch
%description
shell
%install
mkdir -p %{buildroot}/bin
echo '#!/bin/false' > %{buildroot}/bin/sh
%files
/bin/sh
`,
};

/** As Rocky Linux 9.3 ships it (trimmed). */
const ROCKY_OS_RELEASE = `NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
`;

export interface RpmFixture {
  /** Root whose /var/lib/rpm/rpmdb.sqlite holds the installed packages. */
  sqliteRoot: string;
  sqlite: string;
  /** Directory holding a Berkeley DB "Packages" with the same packages. */
  bdbDir: string;
  bdb: string;
  /** A root filesystem with the packages really installed (files too) and a Rocky Linux 9 os-release. */
  installedRoot: string;
}

function paths(): RpmFixture {
  const sqliteRoot = join(CACHE, VERSION, 'root');
  const bdbDir = join(CACHE, VERSION, 'bdb');
  return {
    sqliteRoot,
    sqlite: join(sqliteRoot, 'var/lib/rpm/rpmdb.sqlite'),
    bdbDir,
    bdb: join(bdbDir, 'Packages'),
    installedRoot: join(CACHE, VERSION, 'installed'),
  };
}

/** db_load "print" format: printable bytes as-is, backslash doubled, others as \xx. */
function dbText(b: Buffer): string {
  let s = '';
  for (const c of b)
    s +=
      c === 0x5c
        ? '\\\\'
        : c >= 0x20 && c < 0x7f
          ? String.fromCharCode(c)
          : `\\${c.toString(16).padStart(2, '0')}`;
  return s;
}

function build(out: RpmFixture, work: string): void {
  for (const tool of ['rpmbuild', 'rpm', 'db5.3_load']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' });
    } catch {
      throw new Error(
        `rpm fixture: ${tool} not found; install the Debian packages rpm and db5.3-util (scripts/install-deps.sh)`,
      );
    }
  }
  const top = join(work, 'top');
  for (const [name, spec] of Object.entries(SPECS)) {
    const f = join(work, `${name}.spec`);
    writeFileSync(f, spec);
    execFileSync(
      'rpmbuild',
      ['-bb', '--quiet', '--define', `_topdir ${top}`, '--define', 'debug_package %{nil}', f],
      { stdio: 'pipe' },
    );
  }
  const rpms = execFileSync('find', [join(top, 'RPMS'), '-name', '*.rpm'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .sort();
  const root = join(work, 'root');
  const rpm = ['--root', root, '--dbpath', '/var/lib/rpm', '--define', '_db_backend sqlite'];
  execFileSync('rpm', [...rpm, '--initdb'], { stdio: 'pipe' });
  execFileSync('rpm', [...rpm, '-i', '--justdb', '--nodeps', '--noscripts', ...rpms], { stdio: 'pipe' });
  // rpm leaves its WAL-mode database checkpointed (empty -wal): the file is used as rpm left it
  const db = new Database(join(root, 'var/lib/rpm/rpmdb.sqlite'), { readonly: true });
  const blobs = (
    db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum').raw().all() as [number, Buffer][]
  ).map(([n, b]) => ({ n, b }));
  db.close();
  // Berkeley DB hash Packages: key = instance number (host order), value = header blob
  const bdb = join(work, 'bdb');
  mkdirSync(bdb, { recursive: true });
  const lines = ['VERSION=3', 'format=print', 'type=hash', 'HEADER=END'];
  for (const { n, b } of blobs) {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(n);
    lines.push(` ${dbText(key)}`, ` ${dbText(b)}`);
  }
  lines.push('DATA=END', '');
  writeFileSync(join(work, 'packages.txt'), lines.join('\n'));
  execFileSync('db5.3_load', ['-f', join(work, 'packages.txt'), join(bdb, 'Packages')], { stdio: 'pipe' });
  // the same packages installed for real (files on disk), in a rootfs that says it is Rocky Linux 9
  const installed = join(work, 'installed');
  mkdirSync(join(installed, 'etc'), { recursive: true });
  writeFileSync(join(installed, 'etc/os-release'), ROCKY_OS_RELEASE);
  const irpm = ['--root', installed, '--dbpath', '/var/lib/rpm', '--define', '_db_backend sqlite'];
  execFileSync('rpm', [...irpm, '--initdb'], { stdio: 'pipe' });
  execFileSync('rpm', [...irpm, '-i', '--nodeps', '--noscripts', '--ignoreos', ...rpms], { stdio: 'pipe' });
  const final = join(CACHE, VERSION);
  for (const n of readdirSync(CACHE))
    if (/^v\d+$/.test(n)) rmSync(join(CACHE, n), { recursive: true, force: true });
  mkdirSync(final, { recursive: true });
  renameSync(root, out.sqliteRoot);
  renameSync(bdb, out.bdbDir);
  renameSync(installed, out.installedRoot);
}

export function rpmFixture(): RpmFixture {
  const out = paths();
  if (existsSync(out.sqlite) && existsSync(out.bdb) && existsSync(out.installedRoot)) return out;
  mkdirSync(CACHE, { recursive: true });
  const lock = join(CACHE, 'lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`rpm fixture: lock ${lock} held for 2 minutes`);
      execFileSync('sleep', ['0.2']);
    }
  }
  try {
    if (existsSync(out.sqlite) && existsSync(out.bdb) && existsSync(out.installedRoot)) return out;
    const work = join(CACHE, `work-${process.pid}`);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    try {
      build(out, work);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    return out;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** What rpm itself reports for a database: name, epoch, version, release, arch, source rpm, license. */
export function rpmQueryAll(args: string[]): string[] {
  return execFileSync(
    'rpm',
    [...args, '-qa', '--qf', '%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{SOURCERPM}|%{LICENSE}\\n'],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  )
    .split('\n')
    .filter(Boolean)
    .sort();
}

export function readBytes(p: string): Buffer {
  return readFileSync(p);
}
