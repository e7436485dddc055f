/**
 * `bulwark waf` and `bulwark waf test` as processes: the proxy started from the command line in
 * detect mode with a JSON log, and the go-ftw runner sending the CRS XSS regression tests to it
 * over HTTP (rule ids read back from the log by marker), compared with the in-process run. Usage
 * errors exit 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORPORA } from '../helpers/shared.js';

const CRS = join(CORPORA, 'coreruleset');
const ENTRY = fileURLToPath(new URL('./bulwark-cli.mjs', import.meta.url));
const cliArgs = (args: string[]) => ['--import', 'tsx', ENTRY, ...args];

function run(args: string[]) {
  return spawnSync(process.execPath, cliArgs(args), { encoding: 'utf8', timeout: 120000 });
}

test('usage errors exit 2', () => {
  const r = run(['waf', '--rules', join(CRS, 'rules')]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--upstream/);
  const p = run([
    'waf',
    '--upstream',
    'http://127.0.0.1:1',
    '--rules',
    join(CRS, 'rules'),
    '--paranoia',
    '7',
  ]);
  assert.equal(p.status, 2);
});

test('waf test in process and against the live proxy agree on the CRS 941 tests', async () => {
  const inproc = run(['waf', 'test', CRS, '--rule', '941', '-f', 'json']);
  assert.equal(inproc.status, 0, inproc.stderr + inproc.stdout.slice(0, 2000));
  const a = JSON.parse(inproc.stdout) as { total: number; passed: number };
  assert.ok(a.total > 200 && a.passed === a.total);

  // an upstream that reflects like the CRS harness backend, the proxy in detect mode at PL4
  const up = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', () => r()));
  const upPort = (up.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'bw-waf-cli-'));
  const log = join(dir, 'waf.log');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const proxy = spawn(
    process.execPath,
    cliArgs([
      'waf',
      '--listen',
      `127.0.0.1:${port}`,
      '--upstream',
      `http://127.0.0.1:${upPort}`,
      '--rules',
      join(CRS, 'rules'),
      '--paranoia',
      '4',
      '--mode',
      'detect',
      '--log',
      log,
      '--marker-header',
      'X-Bulwark-Test',
    ]),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    let err = '';
    proxy.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // wait until it listens
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((r) => {
        const q = http.get({ host: '127.0.0.1', port, path: '/', headers: { host: 'localhost' } }, (res) => {
          res.resume();
          r(true);
        });
        q.on('error', () => r(false));
      });
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const live = spawn(
      process.execPath,
      cliArgs([
        'waf',
        'test',
        join(CRS, 'tests', 'regression', 'tests', 'REQUEST-941-APPLICATION-ATTACK-XSS'),
        '--target',
        `http://127.0.0.1:${port}`,
        '--log',
        log,
        '-f',
        'json',
      ]),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    live.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => live.on('exit', r));
    const b = JSON.parse(out) as {
      total: number;
      passed: number;
      failures: { rule_id: number; test_id: number; detail: string }[];
    };
    console.log(`CRS 941 against the live proxy: ${b.passed}/${b.total}`);
    for (const f of b.failures.slice(0, 10)) console.log(`  ${f.rule_id}-${f.test_id}: ${f.detail}`);
    assert.equal(b.total, a.total);
    assert.equal(b.passed, b.total, err);
    assert.equal(code, 0);
  } finally {
    proxy.kill('SIGTERM');
    await new Promise((r) => proxy.on('exit', r));
    up.closeAllConnections();
    up.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--workers 2: both workers serve and block, and SIGTERM stops them all', async () => {
  const up = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(`pid ${process.pid}`));
  });
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', () => r()));
  const upPort = (up.address() as AddressInfo).port;
  const port = 20000 + Math.floor(Math.random() * 20000);
  const p = spawn(
    process.execPath,
    cliArgs([
      '-q',
      'waf',
      '--listen',
      `127.0.0.1:${port}`,
      '--upstream',
      `http://127.0.0.1:${upPort}`,
      '--rules',
      join(CRS, 'rules'),
      '--workers',
      '2',
    ]),
    { stdio: 'ignore' },
  );
  const get = (path: string) =>
    new Promise<number>((r) => {
      const q = http.get(
        {
          host: '127.0.0.1',
          port,
          path,
          agent: false,
          headers: { host: 'localhost', 'user-agent': 'Mozilla/5.0' },
        },
        (res) => {
          res.resume();
          r(res.statusCode ?? 0);
        },
      );
      q.on('error', () => r(0));
    });
  try {
    let s = 0;
    for (let i = 0; i < 150 && s === 0; i++) {
      s = await get('/');
      if (!s) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(s, 200);
    const codes = await Promise.all(
      Array.from({ length: 6 }, () => get(`/?q=${encodeURIComponent('<script>alert(1)</script>')}`)),
    );
    assert.deepEqual(codes, Array(6).fill(403));
  } finally {
    p.kill('SIGTERM');
    const code = await new Promise((r) => p.on('exit', (c, sig) => r(c ?? sig)));
    assert.equal(code, 0);
    up.close();
  }
});

test('waf --server: blocked requests reach the console as waf events, a summary without values', async () => {
  const { Client, startConsole } = await import('../server/helpers.js');
  const con = await startConsole('sqlite');
  const up = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', () => r()));
  const upPort = (up.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'bw-waf-console-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  let proxy: ReturnType<typeof spawn> | undefined;
  try {
    const admin = await new Client(con.base).login();
    const token = (await admin.post('/api/tokens', { name: 'waf', role: 'operator' })).body.token as string;
    proxy = spawn(
      process.execPath,
      cliArgs([
        'waf',
        '--listen',
        `127.0.0.1:${port}`,
        '--upstream',
        `http://127.0.0.1:${upPort}`,
        '--rules',
        join(CRS, 'rules'),
        '--server',
        con.base,
        '--service',
        'shop-api',
        '--buffer-dir',
        join(dir, 'buffer'),
      ]),
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BULWARK_TOKEN: token } },
    );
    let err = '';
    proxy.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const get = (path: string) =>
      new Promise<number>((r) => {
        const q = http.get({ host: '127.0.0.1', port, path, headers: { host: 'localhost' } }, (res) => {
          res.resume();
          r(res.statusCode ?? 0);
        });
        q.on('error', () => r(0));
      });
    for (let i = 0; i < 150 && (await get('/')) === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await get('/?q=shoes'), 200);
    const secret = "1' OR '1'='1";
    assert.equal(await get(`/search?id=${encodeURIComponent(secret)}&session=s3cr3t-token`), 403);
    type Item = { id: number; rule: string; output: string; container: { name: string } };
    let items: Item[] = [];
    for (let i = 0; i < 150 && !items.length; i++) {
      items = (await admin.get('/api/runtime/events?kind=waf')).body.items;
      if (!items.length) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(items.length, 1, `only the blocked request: ${err}`);
    assert.match(items[0]!.rule, /^WAF: SQL Injection/i);
    assert.match(items[0]!.output, /^403 GET \/search blocked on shop-api: .*942/);
    assert.equal(items[0]!.container.name, 'shop-api');
    const one = (await admin.get(`/api/runtime/events/${items[0]!.id}`)).body;
    assert.deepEqual(one.event.waf.queryParameters, ['id', 'session']);
    const all = JSON.stringify(one);
    assert.ok(!all.includes('s3cr3t-token') && !all.includes("OR '1'"), 'no query values in the console');
    proxy.kill('SIGTERM');
    await new Promise((r) => proxy!.once('exit', r));
    assert.ok(!err.includes(token));
  } finally {
    if (proxy && proxy.exitCode === null) proxy.kill('SIGKILL');
    await new Promise<void>((r) => up.close(() => r()));
    await con.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
