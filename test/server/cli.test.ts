/**
 * `bulwark server` as users run it: the built binary (node bin/bulwark, after `npm run build`) on a
 * temp data dir, the first-login line with the one-time token, bootstrap, /healthz, /metrics in the
 * Prometheus text format, clean shutdown on SIGTERM, and clear errors for bad options.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, repoRoot } from '../fixtures/index.js';
import { Client } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-server-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function start(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; stderr: () => string; line: Promise<string>; exit: Promise<number | null> } {
  if (!existsSync(join(repoRoot, 'dist', 'cli', 'main.js')))
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const childEnv = { ...process.env, ...env };
  delete childEnv.BULWARK_ADMIN_PASSWORD;
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'bulwark'), 'server', ...args], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  const line = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /^Bulwark console: .*$/m.exec(err);
      if (m) resolve(m[0]);
    });
    child.on('exit', () => reject(new Error(`server exited: ${err}`)));
  });
  line.catch(() => {});
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => err, line, exit };
}

test('first start prints where to log in with a one-time token; bootstrap; health; metrics; SIGTERM', async () => {
  const port = await freePort();
  const data = join(dir, 'data');
  const s = start(['--listen', `127.0.0.1:${port}`, '--data', data, '--db', join(dir, 'adv.db')]);
  try {
    const line = await s.line;
    const m =
      /^Bulwark console: http:\/\/127\.0\.0\.1:(\d+) \(first login: open http:\/\/127\.0\.0\.1:\d+\/bootstrap and create the admin account with the one-time token (\S+)\)$/.exec(
        line,
      );
    assert.ok(m, line);
    assert.equal(Number(m[1]), port);
    const base = `http://127.0.0.1:${port}`;
    const c = new Client(base);
    assert.deepEqual((await c.get('/healthz')).body, {
      status: 'ok',
      version: (await c.get('/healthz')).body.version,
      database: 'sqlite',
    });
    assert.equal((await c.get('/api/images')).status, 401);
    const b = await c.post('/api/auth/bootstrap', {
      token: m[2],
      username: 'admin',
      password: 'first admin password',
    });
    assert.equal(b.status, 200);
    assert.equal((await c.get('/api/images')).status, 200);
    assert.equal(statSync(join(data, 'secret.key')).mode & 0o777, 0o600);
    assert.ok(existsSync(join(data, 'bulwark.db')));

    const metrics = await c.get('/metrics');
    assert.match(String(metrics.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const text = metrics.body as string;
    assert.match(text, /^# TYPE bulwark_http_requests_total counter$/m);
    assert.match(text, /^bulwark_http_requests_total\{method="GET",route="\/api\/images",status="401"\} 1$/m);
    assert.match(text, /^bulwark_http_requests_total\{method="GET",route="\/api\/images",status="200"\} 1$/m);
    assert.match(text, /^# TYPE bulwark_http_request_duration_seconds histogram$/m);
    assert.match(
      text,
      /^bulwark_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/api\/images"\} 2$/m,
    );
    assert.match(
      text,
      /^bulwark_http_request_duration_seconds_count\{method="GET",route="\/api\/images"\} 2$/m,
    );
    assert.match(text, /^# TYPE bulwark_findings gauge$/m);
    assert.match(text, /^# TYPE bulwark_jobs gauge$/m);
    // Every sample line is NAME{LABELS} VALUE.
    for (const l of text.split('\n').filter((x) => x && !x.startsWith('#')))
      assert.match(l, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.e+-]+|NaN$/, l);
    assert.ok(!s.stderr().includes('first admin password'));
  } finally {
    s.child.kill('SIGTERM');
    assert.equal(await s.exit, 0);
  }
  // Second start: users exist, no token.
  const s2 = start(['--listen', `127.0.0.1:${port}`, '--data', data, '--db', join(dir, 'adv.db')]);
  try {
    assert.match(await s2.line, /\(first login: log in with your account\)$/);
  } finally {
    s2.child.kill('SIGTERM');
    await s2.exit;
  }
});

test('bad options are clear errors without stack traces or secrets', async () => {
  const a = start(['--listen', 'nonsense', '--data', join(dir, 'd2')]);
  assert.notEqual(await a.exit, 0);
  assert.match(a.stderr(), /--listen: expected HOST:PORT/);
  assert.doesNotMatch(a.stderr(), /\n\s+at /);
  const port = await freePort();
  const b = start([
    '--database',
    `postgres://bulwark:s3cretpw@127.0.0.1:${port}/console`,
    '--listen',
    `127.0.0.1:${await freePort()}`,
  ]);
  assert.notEqual(await b.exit, 0);
  assert.match(
    b.stderr(),
    new RegExp(`cannot connect to PostgreSQL at postgres://127\\.0\\.0\\.1:${port}/console`),
  );
  assert.doesNotMatch(b.stderr(), /s3cretpw/);
});

test('--tls-cert/--tls-key serve HTTPS; --trust-proxy is validated', async () => {
  const cert = join(dir, 'cli-cert.pem');
  const key = join(dir, 'cli-key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const port = await freePort();
  const s = start(
    [
      '--listen',
      `127.0.0.1:${port}`,
      '--data',
      join(dir, 'tls-data'),
      '--db',
      join(dir, 'adv.db'),
      '--tls-cert',
      cert,
      '--tls-key',
      key,
      '--trust-proxy',
      '10.0.0.0/8,loopback',
    ],
    { BULWARK_ADMIN_PASSWORD: 'tls admin password' },
  );
  try {
    assert.match(await s.line, new RegExp(`^Bulwark console: https://127\\.0\\.0\\.1:${port} `));
    const status = await new Promise<number>((resolve, reject) =>
      https
        .get(`https://127.0.0.1:${port}/healthz`, { ca: readFileSync(cert) }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        })
        .on('error', reject),
    );
    assert.equal(status, 200);
  } finally {
    s.child.kill('SIGTERM');
    assert.equal(await s.exit, 0);
  }
  const bad = start([
    '--listen',
    `127.0.0.1:${await freePort()}`,
    '--data',
    join(dir, 'd3'),
    '--trust-proxy',
    'proxy.example',
  ]);
  assert.notEqual(await bad.exit, 0);
  assert.match(bad.stderr(), /--trust-proxy: expected an address, a CIDR/);
  const half = start([
    '--listen',
    `127.0.0.1:${await freePort()}`,
    '--data',
    join(dir, 'd4'),
    '--tls-cert',
    cert,
  ]);
  assert.notEqual(await half.exit, 0);
  assert.match(half.stderr(), /--tls-cert and --tls-key go together/);
});
