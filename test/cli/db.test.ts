/**
 * `bulwark db import|status|update` through the CLI entry point. The update test serves zips of
 * /work/shared/data/osv from a local HTTP server on 127.0.0.1 that stands in for osv.dev's bucket
 * (not reachable here).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
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
