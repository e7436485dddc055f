/**
 * The advisory DB against the real OSV records in /work/shared/data/osv: directories, single JSON
 * files and zip archives made with the real `zip` tool (the shape of osv.dev's all.zip exports).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdvisoryDb, importOsv, readOsvZip, defaultDbPath } from '../../src/vuln/db/index.js';
import { isBulwarkError } from '../../src/core/errors.js';
import { SHARED } from '../helpers/shared.js';

const OSV = `${SHARED}/data/osv`;
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-vulndb-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function zipDir(dir: string, out: string): string {
  execFileSync('zip', ['-q', '-j', '-r', out, '.'], { cwd: dir });
  return out;
}

test('imports the real OSV directories; counts per ecosystem equal the files on disk', async () => {
  const db = AdvisoryDb.open(join(tmp, 'all.sqlite'));
  const stats = await importOsv(db, [OSV]);
  const files = Object.fromEntries(readdirSync(OSV).map((e) => [e, readdirSync(join(OSV, e)).length]));
  const total = Object.values(files).reduce((a, b) => a + b, 0);
  assert.equal(stats.read, total);
  assert.equal(stats.inserted, total);
  const st = db.status();
  assert.equal(st.advisories, total);
  assert.equal(st.schemaVersion, 1);
  // every record in each folder names its folder's ecosystem
  assert.deepEqual(st.ecosystems, files);
  assert.ok(st.withdrawn > 0, 'the real data has withdrawn records');
  // lookup by normalised name: PyPI PEP 503 and Debian source package
  const django = db.lookup('PyPI', 'DJANGO');
  assert.ok(django.length > 50);
  assert.ok(django.every((r) => r.affected?.some((a) => a.package?.name.toLowerCase() === 'django')));
  const glibc = db.lookup('Debian:12', 'glibc').map((r) => r.id);
  assert.ok(glibc.includes('DEBIAN-CVE-2023-4911'));
  // withdrawn records are never returned
  const withdrawnId = readdirSync(join(OSV, 'Go'))
    .map((f) => JSON.parse(readFileSync(join(OSV, 'Go', f), 'utf8')))
    .find((r) => r.withdrawn);
  assert.ok(withdrawnId, 'a withdrawn Go record exists');
  const pkgName = withdrawnId.affected[0].package.name;
  assert.ok(!db.lookup('Go', pkgName).some((r) => r.id === withdrawnId.id));
  assert.equal(db.get(withdrawnId.id)?.id, withdrawnId.id);
  db.close();
});

test('zip archives are streamed; re-import skips records not newer; a newer modified replaces', async () => {
  const z = zipDir(join(OSV, 'npm'), join(tmp, 'npm-all.zip'));
  const db = AdvisoryDb.open(join(tmp, 'zip.sqlite'));
  const first = await importOsv(db, [z]);
  assert.equal(first.inserted, readdirSync(join(OSV, 'npm')).length);
  const again = await importOsv(db, [z]);
  assert.equal(again.inserted + again.updated, 0);
  assert.equal(again.unchanged, first.inserted);
  // a newer version of one record (as a single JSON file)
  const rec = JSON.parse(readFileSync(join(OSV, 'npm', 'NSWG-ECO-100.json'), 'utf8'));
  rec.modified = '2099-01-01T00:00:00Z';
  rec.summary = 'changed';
  writeFileSync(join(tmp, 'newer.json'), JSON.stringify(rec));
  const upd = await importOsv(db, [join(tmp, 'newer.json')]);
  assert.deepEqual([upd.updated, upd.inserted], [1, 0]);
  assert.equal(db.get('NSWG-ECO-100')?.summary, 'changed');
  // an older one is ignored
  rec.modified = '2000-01-01T00:00:00Z';
  rec.summary = 'older';
  writeFileSync(join(tmp, 'older.json'), JSON.stringify(rec));
  const old = await importOsv(db, [join(tmp, 'older.json')]);
  assert.equal(old.unchanged, 1);
  assert.equal(db.get('NSWG-ECO-100')?.summary, 'changed');
  db.close();
});

test('a damaged archive fails with a clear error and leaves the previous DB content intact', async () => {
  const dbPath = join(tmp, 'atomic.sqlite');
  const db = AdvisoryDb.open(dbPath);
  await importOsv(db, [join(OSV, 'Debian')]);
  const before = db.status();
  // a valid Go archive followed (in the same import) by an archive with a flipped byte in an entry
  const goZip = zipDir(join(OSV, 'Go'), join(tmp, 'go.zip'));
  const bad = join(tmp, 'bad.zip');
  const src = mkdtempSync(join(tmp, 'pypi-'));
  for (const f of readdirSync(join(OSV, 'PyPI')).slice(0, 50)) cpSync(join(OSV, 'PyPI', f), join(src, f));
  execFileSync('zip', ['-q', '-0', '-j', '-r', bad, '.'], { cwd: src }); // stored: bytes appear verbatim
  const buf = readFileSync(bad);
  const at = buf.indexOf(Buffer.from('"details"', 'utf8'), buf.length >> 1);
  buf[at + 3] ^= 0x01;
  writeFileSync(bad, buf);
  await assert.rejects(
    importOsv(db, [goZip, bad]),
    (e: unknown) =>
      isBulwarkError(e) && e.code === 'CORRUPT' && /CRC-32/.test(e.message) && e.message.includes('bad.zip'),
  );
  const after = db.status();
  assert.equal(after.advisories, before.advisories);
  assert.deepEqual(after.ecosystems, before.ecosystems);
  db.close();
});

test('readers see the old content while an import is in progress (WAL), and the new one after', async () => {
  const dbPath = join(tmp, 'wal.sqlite');
  const writer = AdvisoryDb.open(dbPath);
  await importOsv(writer, [join(OSV, 'Debian')]);
  const reader = AdvisoryDb.open(dbPath, { readonly: true });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let midCount = -1;
  async function* slow() {
    let i = 0;
    for await (const r of readOsvZip(zipDir(join(OSV, 'npm'), join(tmp, 'npm2.zip')))) {
      yield r;
      if (++i === 100) {
        midCount = reader.status().advisories; // another connection, mid-transaction
        release();
      }
    }
  }
  const p = writer.importRecords(slow());
  await gate;
  await p;
  assert.equal(midCount, 17);
  assert.equal(reader.status().advisories, 17 + readdirSync(join(OSV, 'npm')).length);
  reader.close();
  writer.close();
});

test('malformed records are skipped with a warning naming the file; bad JSON file given directly is an error', async () => {
  const dir = join(tmp, 'mixed');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  cpSync(join(OSV, 'Debian', 'DEBIAN-CVE-2023-4911.json'), join(dir, 'sub', 'ok.json'));
  writeFileSync(join(dir, 'broken.json'), '{"id": "X-1", "modified": ');
  writeFileSync(join(dir, 'noid.json'), '{"modified": "2024-01-01T00:00:00Z"}');
  const db = AdvisoryDb.open(join(tmp, 'mixed.sqlite'));
  const warnings: string[] = [];
  const s = await importOsv(db, [dir], { warn: (m) => warnings.push(m) });
  assert.equal(s.inserted, 1);
  assert.equal(s.invalid, 2);
  assert.ok(warnings.some((w) => w.includes('broken.json') && w.includes('invalid JSON')));
  assert.ok(warnings.some((w) => w.includes('noid.json') && w.includes('missing "id"')));
  await assert.rejects(importOsv(db, [join(tmp, 'nope')]), /no such file/);
  db.close();
});

test('opening: missing DB for a scan is a clear error; a non-DB file is rejected; default path honours env', () => {
  assert.throws(
    () => AdvisoryDb.open(join(tmp, 'missing.sqlite'), { readonly: true }),
    /no vulnerability database at .*db import/,
  );
  writeFileSync(join(tmp, 'junk.sqlite'), 'not sqlite at all, just text'.repeat(40));
  assert.throws(
    () => AdvisoryDb.open(join(tmp, 'junk.sqlite')),
    (e: unknown) => isBulwarkError(e) && e.code === 'DB' && e.message.includes('junk.sqlite'),
  );
  assert.equal(defaultDbPath({ BULWARK_CACHE_DIR: '/x/c' }), '/x/c/db.sqlite');
  assert.equal(defaultDbPath({ XDG_CACHE_HOME: '/x/xdg' }), '/x/xdg/bulwark/db.sqlite');
  assert.match(defaultDbPath({ HOME: '/home/u' }), /\.cache\/bulwark\/db\.sqlite$/);
});

test('an import killed with SIGKILL mid-transaction leaves the previous content, and the file intact', async () => {
  const dbPath = join(tmp, 'killed.sqlite');
  const db = AdvisoryDb.open(dbPath);
  await importOsv(db, [join(OSV, 'Debian')]);
  db.close();
  // A child process imports the Go records and stops for good after 1000 of them, inside the
  // transaction; it is then killed the hard way.
  const script = `
    import { AdvisoryDb, readOsvPath } from ${JSON.stringify(new URL('../../src/vuln/db/index.ts', import.meta.url).pathname)};
    const db = AdvisoryDb.open(${JSON.stringify(dbPath)});
    async function* recs() {
      let n = 0;
      for await (const r of readOsvPath(${JSON.stringify(join(OSV, 'Go'))})) {
        yield r;
        if (++n === 1000) { process.stdout.write('mid\\n'); await new Promise(() => {}); }
      }
    }
    await db.importRecords(recs());
  `;
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: join(import.meta.dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('mid') && resolve());
    child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
  });
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGKILL');
  await exited;
  const after = AdvisoryDb.open(dbPath);
  const st = after.status();
  assert.equal(st.advisories, 17);
  assert.deepEqual(st.ecosystems, { Debian: 17 });
  after.close();
  const Database = (await import('better-sqlite3')).default;
  const raw = new Database(dbPath, { readonly: true });
  assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
  raw.close();
});
