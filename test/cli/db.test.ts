/**
 * `bulwark db import|status|update` through the CLI entry point. The update test serves zips of
 * /work/shared/data/osv from a local HTTP server on 127.0.0.1 that stands in for osv.dev's bucket
 * (not reachable here).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { main } from '../../src/cli/main.js';
import { SHARED } from '../helpers/shared.js';

const OSV = `${SHARED}/data/osv`;
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-db-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs the CLI with stdout captured. */
async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((c: string | Uint8Array) => (
    chunks.push(String(c)),
    true
  )) as typeof process.stdout.write;
  try {
    const code = await main(['node', 'bulwark', '-q', ...args]);
    return { code, out: chunks.join('') };
  } finally {
    process.stdout.write = write;
  }
}

test('db import and status: counts per ecosystem, default path from BULWARK_CACHE_DIR', async () => {
  const prev = process.env.BULWARK_CACHE_DIR;
  process.env.BULWARK_CACHE_DIR = join(tmp, 'cache');
  try {
    const imp = await cli('db', 'import', join(OSV, 'Debian'), join(OSV, 'npm', 'NSWG-ECO-100.json'));
    assert.equal(imp.code, 0);
    assert.match(imp.out, /imported 18 records into .*cache\/db\.sqlite: 18 new/);
    const st = await cli('db', 'status', '--format', 'json');
    assert.equal(st.code, 0);
    const s = JSON.parse(st.out);
    assert.equal(s.path, join(tmp, 'cache', 'db.sqlite'));
    assert.deepEqual(s.ecosystems, { Debian: 17, npm: 1 });
    assert.equal(s.schemaVersion, 1);
    const table = await cli('db', 'status');
    assert.match(table.out, /Schema version:\s+1/);
    assert.match(table.out, /Debian\s+17/);
  } finally {
    if (prev === undefined) delete process.env.BULWARK_CACHE_DIR;
    else process.env.BULWARK_CACHE_DIR = prev;
  }
  assert.equal((await cli('db', 'status', '--db', join(tmp, 'nothing.sqlite'))).code, 1);
  assert.equal((await cli('db', 'import', join(tmp, 'missing-dir'), '--db', join(tmp, 'x.sqlite'))).code, 1);
});

test('db update --mirror against a local stand-in for osv.dev', async () => {
  const zips = new Map<string, Buffer>();
  for (const eco of ['Debian', 'npm']) {
    const out = join(tmp, `${eco}.zip`);
    execFileSync('zip', ['-q', '-j', '-r', out, '.'], { cwd: join(OSV, eco) });
    zips.set(`/${eco}/all.zip`, readFileSync(out));
  }
  const server = createServer((req, res) => {
    const body = zips.get(req.url ?? '');
    if (!body) return void res.writeHead(404).end();
    if (req.headers['if-none-match'] === `"${body.length}"`) return void res.writeHead(304).end();
    res.writeHead(200, { 'content-length': body.length, etag: `"${body.length}"` }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dbPath = join(tmp, 'upd.sqlite');
    const r = await cli('db', 'update', '--db', dbPath, '--ecosystem', 'Debian,npm', '--mirror', mirror);
    assert.equal(r.code, 0);
    assert.match(r.out, /Debian: 17 records, 17 new/);
    assert.match(r.out, new RegExp(`npm: ${readdirSync(join(OSV, 'npm')).length} records`));
    const again = await cli('db', 'update', '--db', dbPath, '--ecosystem', 'Debian', '--mirror', mirror);
    assert.match(again.out, /Debian: unchanged/);
    assert.equal(
      (await cli('db', 'update', '--db', dbPath, '--ecosystem', 'Nope', '--mirror', mirror)).code,
      1,
    );
    assert.equal((await cli('db', 'update', '--db', dbPath, '--mirror', 'ftp://x')).code, 2);
  } finally {
    server.close();
  }
});

/** Runs the CLI with stdout and stderr captured. */
async function cli2(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const err: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((c: string | Uint8Array) => (
    err.push(String(c)),
    true
  )) as typeof process.stderr.write;
  try {
    const r = await cli(...args);
    return { ...r, err: err.join('') };
  } finally {
    process.stderr.write = write;
  }
}

test('an offline update leaves an empty DB: db status says EMPTY and scans refuse it (exit 1)', async () => {
  const dbPath = join(tmp, 'offline.sqlite');
  // nothing listens on port 1: the download fails as it would without network
  const upd = await cli2(
    'db',
    'update',
    '--db',
    dbPath,
    '--ecosystem',
    'npm',
    '--mirror',
    'http://127.0.0.1:1',
  );
  assert.equal(upd.code, 1);
  const st = await cli2('db', 'status', '--db', dbPath);
  assert.equal(st.code, 1);
  assert.match(st.out, /State:\s+EMPTY/);
  const js = await cli2('db', 'status', '--db', dbPath, '--format', 'json');
  assert.equal(JSON.parse(js.out).state, 'empty');
  const dir = join(tmp, 'proj');
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package-lock.json'),
    JSON.stringify({
      lockfileVersion: 3,
      packages: { '': { name: 'p' }, 'node_modules/lodash': { version: '4.17.4' } },
    }),
  );
  const scan = await cli2('scan', 'fs', dir, '--db', dbPath, '--scanners', 'vuln', '-f', 'json');
  assert.equal(scan.code, 1, 'a scan against an empty DB must fail, not report 0 vulnerabilities');
  assert.match(scan.err, /holds no advisories/);
  assert.match(scan.err, /bulwark db update/);
  assert.equal(scan.out, '', 'no report is printed');
});

test('a stale DB is refused unless --db-max-age allows it; db status shows its age', async () => {
  const dbPath = join(tmp, 'stale.sqlite');
  assert.equal((await cli('db', 'import', join(OSV, 'npm'), '--db', dbPath)).code, 0);
  const dir = join(tmp, 'proj2');
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package-lock.json'),
    JSON.stringify({
      lockfileVersion: 3,
      packages: { '': { name: 'p' }, 'node_modules/lodash': { version: '4.17.4' } },
    }),
  );
  const fresh = await cli2('scan', 'fs', dir, '--db', dbPath, '--scanners', 'vuln', '-f', 'json');
  assert.equal(fresh.code, 0, fresh.err);
  // age the database by 30 days, as if no update had run since
  const old = new Date(Date.now() - 30 * 86_400_000).toISOString();
  const raw = new Database(dbPath);
  raw.prepare(`UPDATE meta SET value = ? WHERE key IN ('last_import', 'last_update')`).run(old);
  raw.close();
  const stale = await cli2('scan', 'fs', dir, '--db', dbPath, '--scanners', 'vuln', '-f', 'json');
  assert.equal(stale.code, 1);
  assert.match(stale.err, /is stale: last updated .* \(30d ago\)/);
  assert.equal(
    (await cli2('scan', 'fs', dir, '--db', dbPath, '--scanners', 'vuln', '--db-max-age', '60d')).code,
    0,
  );
  assert.equal(
    (await cli2('scan', 'fs', dir, '--db', dbPath, '--scanners', 'vuln', '--db-max-age', '0')).code,
    0,
  );
  assert.equal(
    (await cli2('scan', 'fs', dir, '--db', dbPath, '--scanners', 'vuln', '--db-max-age', 'soon')).code,
    2,
  );
  const st = await cli2('db', 'status', '--db', dbPath);
  assert.equal(st.code, 1);
  assert.match(st.out, /Last update:.*\(30d ago\)/);
  assert.match(st.out, /State:\s+STALE/);
  assert.equal((await cli2('db', 'status', '--db', dbPath, '--db-max-age', '90d')).code, 0);
  // a secret-only scan needs no DB at all
  assert.equal((await cli2('scan', 'fs', dir, '--db', dbPath, '--scanners', 'secret')).code, 0);
});
