/**
 * `db update` against a local HTTP server on 127.0.0.1 that STANDS IN FOR osv.dev's export bucket
 * (not reachable here). It serves zips made with the real `zip` tool from /work/shared/data/osv,
 * with the headers Google Cloud Storage sends (ETag, x-goog-hash md5, Accept-Ranges, Content-Range).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { AdvisoryDb, updateDb } from '../../src/vuln/db/index.js';
import { isBulwarkError } from '../../src/core/errors.js';
import { SHARED } from '../helpers/shared.js';

const OSV = `${SHARED}/data/osv`;
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-update-'));
const files = new Map<string, Buffer>();
for (const eco of ['npm', 'Debian']) {
  const out = join(tmp, `${eco}.zip`);
  execFileSync('zip', ['-q', '-j', '-r', out, '.'], { cwd: join(OSV, eco) });
  files.set(`/${eco}/all.zip`, readFileSync(out));
}

interface Req {
  path: string;
  range?: string;
  ifRange?: string;
  ifNoneMatch?: string;
}
const requests: Req[] = [];
let cutNext = 0; // bytes after which the next full response is cut (simulated network failure)
let corruptMd5 = false;

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const path = req.url ?? '';
  requests.push({
    path,
    range: req.headers.range,
    ifRange: req.headers['if-range'] as string,
    ifNoneMatch: req.headers['if-none-match'] as string,
  });
  const body = files.get(path);
  if (!body) {
    res.writeHead(404).end();
    return;
  }
  const etag = `"${createHash('md5').update(body).digest('hex')}"`;
  const md5 = corruptMd5
    ? createHash('md5').update('other').digest('base64')
    : createHash('md5').update(body).digest('base64');
  const common = {
    etag,
    'x-goog-hash': `crc32c=AAAAAA==,md5=${md5}`,
    'accept-ranges': 'bytes',
    'content-type': 'application/zip',
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { etag }).end();
    return;
  }
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (m && (!req.headers['if-range'] || req.headers['if-range'] === etag)) {
    const start = Number(m[1]);
    res.writeHead(206, {
      ...common,
      'content-length': body.length - start,
      'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
    });
    res.end(body.subarray(start));
    return;
  }
  res.writeHead(200, { ...common, 'content-length': body.length });
  if (cutNext) {
    const n = cutNext;
    cutNext = 0;
    res.write(body.subarray(0, n), () => setTimeout(() => res.destroy(), 20));
    return;
  }
  res.end(body);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => {
  server.close();
  rmSync(tmp, { recursive: true, force: true });
});

test('update downloads per-ecosystem exports, imports them, and records source state', async () => {
  requests.length = 0;
  const db = AdvisoryDb.open(join(tmp, 'u1', 'db.sqlite'));
  const res = await updateDb(db, { ecosystems: ['npm', 'Debian'], mirror });
  assert.deepEqual(
    res.map((r) => [r.ecosystem, r.status]),
    [
      ['npm', 'updated'],
      ['Debian', 'updated'],
    ],
  );
  const st = db.status();
  assert.equal(st.ecosystems.npm, readdirSync(join(OSV, 'npm')).length);
  assert.equal(st.ecosystems.Debian, readdirSync(join(OSV, 'Debian')).length);
  assert.equal(st.sources.length, 2);
  assert.ok(st.sources.every((s) => s.etag && s.size && s.records));
  assert.ok(st.lastUpdate);
  // second run: conditional requests, 304, nothing imported
  const again = await updateDb(db, { ecosystems: ['npm', 'Debian'], mirror });
  assert.deepEqual(
    again.map((r) => r.status),
    ['unchanged', 'unchanged'],
  );
  assert.ok(requests.slice(-2).every((r) => r.ifNoneMatch?.startsWith('"')));
  db.close();
});

test('an interrupted download is resumed with Range/If-Range into the .part file', async () => {
  requests.length = 0;
  const dir = join(tmp, 'u2');
  const db = AdvisoryDb.open(join(dir, 'db.sqlite'));
  const size = files.get('/npm/all.zip')!.length;
  cutNext = Math.floor(size / 2);
  await assert.rejects(
    updateDb(db, { ecosystems: ['npm'], mirror }),
    (e: unknown) => isBulwarkError(e) && e.code === 'NETWORK' && /run again to resume/.test(e.message),
  );
  const part = join(dir, 'downloads', 'npm.zip.part');
  assert.ok(existsSync(part));
  const kept = statSync(part).size;
  assert.ok(kept > 0 && kept < size, `partial file kept (${kept} of ${size})`);
  assert.equal(db.status().advisories, 0, 'nothing imported from a partial download');
  const res = await updateDb(db, { ecosystems: ['npm'], mirror });
  assert.equal(res[0]!.resumedFrom, kept);
  const last = requests.at(-1)!;
  assert.equal(last.range, `bytes=${kept}-`);
  assert.ok(last.ifRange?.startsWith('"'));
  assert.equal(db.status().ecosystems.npm, readdirSync(join(OSV, 'npm')).length);
  assert.ok(!existsSync(part));
  db.close();
});

test("a download whose MD5 differs from the server's is rejected and nothing is imported", async () => {
  const db = AdvisoryDb.open(join(tmp, 'u3', 'db.sqlite'));
  corruptMd5 = true;
  try {
    await assert.rejects(
      updateDb(db, { ecosystems: ['Debian'], mirror }),
      (e: unknown) => isBulwarkError(e) && e.code === 'DIGEST_MISMATCH',
    );
  } finally {
    corruptMd5 = false;
  }
  assert.equal(db.status().advisories, 0);
  await assert.rejects(
    updateDb(db, { ecosystems: ['NoSuchEco'], mirror }),
    (e: unknown) => isBulwarkError(e) && e.code === 'NOT_FOUND' && /HTTP 404/.test(e.message),
  );
  db.close();
});

test('a changed export is fetched again and only records with a newer `modified` are replaced', async () => {
  const db = AdvisoryDb.open(join(tmp, 'u4', 'db.sqlite'));
  await updateDb(db, { ecosystems: ['Debian'], mirror });
  // the export changes: one record gets a newer modified date, another an older one
  const dir = mkdtempSync(join(tmp, 'deb-'));
  execFileSync('cp', ['-r', `${join(OSV, 'Debian')}/.`, dir]);
  const newer = JSON.parse(readFileSync(join(dir, 'DEBIAN-CVE-2023-4911.json'), 'utf8'));
  newer.modified = '2099-01-01T00:00:00Z';
  newer.affected[0].ranges[0].events = [{ introduced: '0' }, { fixed: '2.36-9+deb12u4' }];
  writeFileSync(join(dir, 'DEBIAN-CVE-2023-4911.json'), JSON.stringify(newer));
  const older = JSON.parse(readFileSync(join(dir, 'DEBIAN-CVE-2011-3374.json'), 'utf8'));
  older.modified = '2000-01-01T00:00:00Z';
  older.summary = 'stale copy';
  writeFileSync(join(dir, 'DEBIAN-CVE-2011-3374.json'), JSON.stringify(older));
  const out = join(tmp, 'Debian2.zip');
  execFileSync('zip', ['-q', '-j', '-r', out, '.'], { cwd: dir });
  const before = files.get('/Debian/all.zip')!;
  files.set('/Debian/all.zip', readFileSync(out));
  try {
    const res = await updateDb(db, { ecosystems: ['Debian'], mirror });
    assert.equal(res[0]!.status, 'updated');
    assert.deepEqual([res[0]!.stats!.updated, res[0]!.stats!.inserted, res[0]!.stats!.unchanged], [1, 0, 16]);
    assert.equal(
      db.get('DEBIAN-CVE-2023-4911')!.affected![0]!.ranges![0]!.events[1]!.fixed,
      '2.36-9+deb12u4',
    );
    assert.equal(
      db.get('DEBIAN-CVE-2011-3374')!.summary,
      undefined,
      'the older copy did not replace the stored one',
    );
  } finally {
    files.set('/Debian/all.zip', before);
  }
  db.close();
});

test('an archive damaged at the source (MD5 matches, an entry CRC does not) rolls back and is discarded', async () => {
  const dir = mkdtempSync(join(tmp, 'stored-'));
  execFileSync('cp', ['-r', `${join(OSV, 'Debian')}/.`, dir]);
  const out = join(tmp, 'stored.zip');
  execFileSync('zip', ['-q', '-0', '-j', '-r', out, '.'], { cwd: dir }); // stored: JSON bytes verbatim
  const buf = readFileSync(out);
  const at = buf.indexOf(Buffer.from('"references"'));
  buf[at + 2] ^= 0x01;
  files.set('/Broken/all.zip', buf);
  const db = AdvisoryDb.open(join(tmp, 'u5', 'db.sqlite'));
  await assert.rejects(
    updateDb(db, { ecosystems: ['Broken'], mirror }),
    (e: unknown) => isBulwarkError(e) && e.code === 'CORRUPT' && /CRC-32/.test(e.message),
  );
  assert.equal(db.status().advisories, 0);
  assert.ok(!existsSync(join(tmp, 'u5', 'downloads', 'Broken.zip')));
  assert.ok(!existsSync(join(tmp, 'u5', 'downloads', 'Broken.zip.part')));
  db.close();
});
