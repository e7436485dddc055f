/**
 * Console hardening as a hostile client sees it: bounded unauthenticated bodies (multi-MB POSTs to
 * login while /healthz keeps answering and RSS stays flat), security headers on every kind of
 * response (and the built UI loading under its CSP in a real chromium), HTTPS with a real openssl
 * certificate (Secure cookies; X-Forwarded-Proto believed only from a trusted proxy), login
 * throttling per source and per account that does not lock the real user out, audited failed
 * bootstrap attempts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { memoryLogger } from '../../src/core/log.js';
import { startServer } from '../../src/server/index.js';
import { throttleSource } from '../../src/server/throttle.js';
import { repoRoot } from '../fixtures/index.js';
import { CHROMIUM, ensureWebBuilt } from '../web/helpers.js';
import { Client, startConsole, stopSharedPostgres } from './helpers.js';

after(stopSharedPostgres);

const MB = 1024 * 1024;

interface Sent {
  status?: number;
  body: string;
  error?: string;
  /** Bytes the client managed to write before the server answered or closed. */
  written: number;
  headers: http.IncomingHttpHeaders;
}

/**
 * POSTs `bytes` of JSON-looking data from one reused 1 MB buffer (the client holds no big body),
 * with Content-Length or chunked; stops writing as soon as the server answers.
 */
function bigPost(
  url: string,
  bytes: number,
  o: { chunked?: boolean; headers?: Record<string, string> } = {},
): Promise<Sent> {
  const chunk = Buffer.alloc(MB, 'a');
  chunk.write('{"username":"admin","password":"');
  return new Promise((resolve) => {
    let written = 0;
    let done = false;
    const req = http.request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(o.chunked ? {} : { 'content-length': String(bytes) }),
        ...o.headers,
      },
    });
    const finish = (s: Omit<Sent, 'written'>) => {
      if (done) return;
      done = true;
      req.destroy();
      resolve({ ...s, written });
    };
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => finish({ status: res.statusCode, body, headers: res.headers }));
      res.on('error', () => finish({ status: res.statusCode, body, headers: res.headers }));
    });
    req.on('error', (e) => finish({ error: e.message, body: '', headers: {} }));
    const pump = () => {
      while (!done && written < bytes) {
        const n = Math.min(MB, bytes - written);
        written += n;
        if (!req.write(n === MB ? chunk : chunk.subarray(0, n))) return void req.once('drain', pump);
      }
      if (!done) req.end();
    };
    pump();
  });
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  return [r, performance.now() - t0];
}

describe('request bodies', () => {
  test('multi-MB POSTs to login and bootstrap get 413 without being buffered; /healthz stays prompt; uploads keep their limit', async () => {
    const t = await startConsole('sqlite');
    try {
      const anon = new Client(t.base);
      // Warm up the paths the test uses, then take the baseline.
      await anon.get('/healthz');
      await anon.post('/api/auth/login', { username: 'x', password: 'y' });
      global.gc?.();
      const rss0 = process.memoryUsage().rss;
      let peak = rss0;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      let slowest = 0;
      let probes = 0;
      let stop = false;
      const probe = (async () => {
        while (!stop) {
          const [r, ms] = await timed(() => anon.get('/healthz'));
          assert.equal(r.status, 200);
          slowest = Math.max(slowest, ms);
          probes++;
          await new Promise((res) => setTimeout(res, 25));
        }
      })();
      // Six 56 MB bodies with Content-Length (the incident) and six chunked ones.
      const results = await Promise.all([
        ...Array.from({ length: 6 }, () => bigPost(`${t.base}/api/auth/login`, 56 * MB)),
        ...Array.from({ length: 3 }, () => bigPost(`${t.base}/api/auth/login`, 56 * MB, { chunked: true })),
        ...Array.from({ length: 3 }, () =>
          bigPost(`${t.base}/api/auth/bootstrap`, 56 * MB, { chunked: true }),
        ),
      ]);
      stop = true;
      await probe;
      clearInterval(sampler);
      for (const r of results) {
        assert.equal(r.status, 413, JSON.stringify({ ...r, body: r.body.slice(0, 200) }));
        assert.equal(JSON.parse(r.body).error.code, 'FST_ERR_CTP_BODY_TOO_LARGE');
        assert.equal(r.headers.connection, 'close');
        // Refused early: far less than the 56 MB was sent (socket buffers, not the body).
        assert.ok(r.written < 16 * MB, `client wrote ${r.written} bytes before the answer`);
      }
      const grew = (peak - rss0) / MB;
      console.log(
        `# 12 x 56 MB POSTs: RSS +${grew.toFixed(0)} MB, slowest /healthz ${slowest.toFixed(0)} ms (${probes} probes)`,
      );
      assert.ok(grew < 60, `RSS grew by ${grew.toFixed(0)} MB during 12 x 56 MB POSTs`);
      assert.ok(probes >= 1);
      assert.ok(slowest < 1000, `slowest /healthz took ${slowest.toFixed(0)} ms`);

      // A few KB is the limit: 9 KB refused, a normal login body fine.
      const nine = await bigPost(`${t.base}/api/auth/login`, 9 * 1024);
      assert.equal(nine.status, 413);
      assert.equal(
        (await anon.post('/api/auth/login', { username: 'admin', password: 'x'.repeat(1000) })).status,
        401,
      );
      // Unknown routes and static files get the small limit too.
      assert.equal((await bigPost(`${t.base}/no/such/route`, 2 * MB)).status, 413);

      // Authenticated routes: an unauthenticated upload is refused before its body is read...
      const noAuth = await bigPost(`${t.base}/api/scans`, 40 * MB);
      assert.equal(noAuth.status, 401);
      assert.ok(noAuth.written < 16 * MB, `client wrote ${noAuth.written} bytes before the 401`);
      const badToken = await bigPost(`${t.base}/api/scans`, 40 * MB, {
        headers: { authorization: 'Bearer bwk_abcdefgh_not-a-real-token-at-all' },
      });
      assert.equal(badToken.status, 401);
      // ...while an operator token still uploads a multi-MB report.
      const admin = await new Client(t.base).login();
      const token = (await admin.post('/api/tokens', { name: 'ci', role: 'operator' })).body.token;
      const ci = new Client(t.base, token);
      const big = {
        schemaVersion: 1,
        artifact: { name: 'big.example/app:1', kind: 'image', digest: `sha256:${'b'.repeat(64)}` },
        results: [
          {
            target: 'big',
            findings: Array.from({ length: 3000 }, (_, i) => ({
              kind: 'secret',
              id: 'generic-api-key',
              severity: 'HIGH',
              title: 'x'.repeat(600),
              location: { path: `/etc/f${i}`, line: 1 },
            })),
          },
        ],
      };
      assert.ok(JSON.stringify(big).length > 2 * MB);
      const up = await ci.post('/api/scans', big);
      assert.equal(up.status, 201, JSON.stringify(up.body).slice(0, 300));
      assert.equal(up.body.findings, 3000);
      // Other authenticated routes keep a 1 MB limit.
      const huge = await admin.post('/api/suppressions', {
        advisoryId: 'CVE-1',
        reason: 'r'.repeat(2 * MB),
        owner: 'o',
      });
      assert.equal(huge.status, 413);
    } finally {
      await t.close();
    }
  });
});

describe('security headers', () => {
  const expectHeaders = (h: Record<string, unknown>, what: string) => {
    const csp = String(h['content-security-policy'] ?? '');
    assert.match(csp, /(^|; )default-src 'none'(;|$)/, what);
    assert.match(csp, /(^|; )script-src 'self'(;|$)/, what);
    assert.match(csp, /(^|; )style-src 'self'(;|$)/, what);
    assert.match(csp, /(^|; )frame-ancestors 'none'(;|$)/, what);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/, what);
    assert.equal(h['x-frame-options'], 'DENY', what);
    assert.equal(h['x-content-type-options'], 'nosniff', what);
    assert.equal(h['referrer-policy'], 'no-referrer', what);
    assert.equal(h['strict-transport-security'], undefined, `${what}: no HSTS over plain HTTP`);
  };

  test('on the HTML page, assets, API JSON, errors and 404s; the built UI runs under the CSP in chromium', async () => {
    ensureWebBuilt();
    const t = await startConsole('sqlite', { webDir: join(repoRoot, 'web', 'dist') });
    try {
      const anon = new Client(t.base);
      const page = await anon.get('/');
      assert.equal(page.status, 200);
      assert.match(String(page.headers['content-type']), /text\/html/);
      expectHeaders(page.headers, 'index.html');
      const spa = await anon.get('/images/3');
      assert.match(String(spa.body), /<div id="root">/);
      expectHeaders(spa.headers, 'client-side route');
      const asset = /src="(\/assets\/[^"]+\.js)"/.exec(String(page.body))![1]!;
      expectHeaders((await anon.get(asset)).headers, 'asset');
      const json = await anon.get('/api/auth/status');
      assert.equal(json.status, 200);
      expectHeaders(json.headers, 'API JSON');
      assert.equal(json.headers['cache-control'], 'no-store');
      const unauth = await anon.get('/api/images');
      assert.equal(unauth.status, 401);
      expectHeaders(unauth.headers, '401');
      const bad = await anon.post('/api/auth/login', { username: 1 });
      assert.equal(bad.status, 400);
      expectHeaders(bad.headers, '400');
      const nf = await anon.get('/api/nope');
      assert.equal(nf.status, 404);
      expectHeaders(nf.headers, '404');
      expectHeaders((await bigPost(`${t.base}/api/auth/login`, MB)).headers, '413');

      // The real UI, in a real browser, under this policy: log in, open pages, no violation.
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      try {
        const p = await browser.newPage();
        const violations: string[] = [];
        await p.exposeFunction('reportViolation', (v: string) => violations.push(v));
        await p.addInitScript(() => {
          document.addEventListener('securitypolicyviolation', (e) =>
            (window as unknown as { reportViolation(v: string): void }).reportViolation(
              `${e.violatedDirective} ${e.blockedURI}`,
            ),
          );
        });
        const consoleErrors: string[] = [];
        p.on('console', (m) => {
          if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) consoleErrors.push(m.text());
        });
        await p.goto(`${t.base}/login`);
        await p.locator('input[type=password]').waitFor({ timeout: 15_000 });
        await p.locator('input:not([type=password])').first().fill('admin');
        await p.locator('input[type=password]').fill('correct horse battery');
        await p.locator('button[type=submit]').click();
        await p.locator('input[type=password]').waitFor({ state: 'detached', timeout: 15_000 });
        await p.waitForLoadState('networkidle');
        for (const path of ['/images', '/registries', '/audit']) {
          await p.goto(`${t.base}${path}`);
          await p.waitForLoadState('networkidle');
        }
        // The page really rendered (React mounted, stylesheet applied).
        assert.ok((await p.locator('#root *').count()) > 5);
        const sheets = await p.evaluate(() => document.styleSheets.length);
        assert.ok(sheets >= 1, 'the stylesheet loaded');
        assert.deepEqual(violations, []);
        assert.deepEqual(consoleErrors, []);
        // And the policy is enforced: an injected inline script does not run.
        const ran = await p.evaluate(() => {
          const s = document.createElement('script');
          s.textContent = 'window.__inline = 1';
          document.head.appendChild(s);
          return (window as unknown as { __inline?: number }).__inline ?? 0;
        });
        assert.equal(ran, 0);
      } finally {
        await browser.close();
      }
    } finally {
      await t.close();
    }
  });
});

/** A request over HTTPS that verifies the server against `ca` (the test's own certificate). */
function httpsReq(
  url: string,
  ca: Buffer,
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method,
      ca,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const setCookies = (h: Record<string, unknown>) => {
  const v = h['set-cookie'];
  return (Array.isArray(v) ? v : v ? [v] : []) as string[];
};
const LOGIN = { username: 'admin', password: 'correct horse battery' };

describe('TLS and proxies', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-tls-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('--tls-cert/--tls-key: HTTPS with an openssl certificate, Secure cookies, HSTS; bad key pairs are usage errors', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
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
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    const ca = execFileSync('cat', [cert]);
    let out = '';
    const srv = await startServer({
      listen: '127.0.0.1:0',
      dataDir: join(dir, 'data'),
      advisoryDbPath: join(dir, 'adv.db'),
      logger: memoryLogger(),
      env: { BULWARK_ADMIN_PASSWORD: LOGIN.password, BULWARK_ADMIN_USER: 'admin' },
      tlsCert: cert,
      tlsKey: key,
      out: { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream,
    });
    try {
      assert.match(srv.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.match(out, /^Bulwark console: https:\/\/127\.0\.0\.1:\d+ /);
      const health = await httpsReq(`${srv.url}/healthz`, ca, 'GET');
      assert.equal(health.status, 200);
      assert.equal(health.headers['strict-transport-security'], 'max-age=31536000');
      const login = await httpsReq(`${srv.url}/api/auth/login`, ca, 'POST', LOGIN);
      assert.equal(login.status, 200, login.body);
      const cookies = setCookies(login.headers);
      assert.equal(cookies.length, 2);
      for (const c of cookies) assert.match(c, /; Secure(;|$)/, c);
      assert.ok(cookies.some((c) => /^bulwark_session=.*HttpOnly/.test(c)));
      // Plain HTTP to the TLS port is not served.
      const port = new URL(srv.url).port;
      const plain = await bigPost(`http://127.0.0.1:${port}/api/auth/login`, 100);
      assert.notEqual(plain.status, 200);
    } finally {
      await srv.close();
    }
    const base = {
      listen: '127.0.0.1:0',
      dataDir: join(dir, 'data2'),
      advisoryDbPath: join(dir, 'adv.db'),
      logger: memoryLogger(),
      out: { write: () => true } as unknown as NodeJS.WritableStream,
    };
    await assert.rejects(startServer({ ...base, tlsCert: cert }), /--tls-cert and --tls-key go together/);
    await assert.rejects(
      startServer({ ...base, tlsCert: cert, tlsKey: join(dir, 'missing.pem') }),
      /--tls-key: cannot read .*missing\.pem/,
    );
    const other = join(dir, 'other-key.pem');
    execFileSync('openssl', [
      'genpkey',
      '-algorithm',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-out',
      other,
    ]);
    await assert.rejects(startServer({ ...base, tlsCert: cert, tlsKey: other }), (e: Error) => {
      assert.match(e.message, /^--tls-cert\/--tls-key: /);
      assert.equal((e as { code?: string }).code, 'USAGE');
      return true;
    });
    await assert.rejects(startServer({ ...base, trustProxy: ['10.0.0.0/99'] }), /--trust-proxy: expected/);
  });

  test('X-Forwarded-Proto: https makes cookies Secure only from a trusted proxy', async () => {
    const untrusted = await startConsole('sqlite');
    try {
      const r = await new Client(untrusted.base).req('POST', '/api/auth/login', LOGIN, {
        headers: { 'x-forwarded-proto': 'https' },
      });
      assert.equal(r.status, 200);
      for (const c of setCookies(r.headers)) assert.doesNotMatch(c, /Secure/i, c);
    } finally {
      await untrusted.close();
    }
    const trusted = await startConsole('sqlite', { trustProxy: ['127.0.0.1'] });
    try {
      const viaProxy = await new Client(trusted.base).req('POST', '/api/auth/login', LOGIN, {
        headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' },
      });
      assert.equal(viaProxy.status, 200);
      const cookies = setCookies(viaProxy.headers);
      assert.equal(cookies.length, 2);
      for (const c of cookies) assert.match(c, /; Secure(;|$)/, c);
      assert.equal(viaProxy.headers['strict-transport-security'], 'max-age=31536000');
      const direct = await new Client(trusted.base).post('/api/auth/login', LOGIN);
      for (const c of setCookies(direct.headers)) assert.doesNotMatch(c, /Secure/i, c);
      // The audit log has the client's address as the proxy reported it.
      const admin = await new Client(trusted.base).login();
      const audit = await admin.get('/api/audit?action=auth.login');
      assert.ok(audit.body.items.some((e: { detail: { ip?: string } }) => e.detail?.ip === '203.0.113.7'));
    } finally {
      await trusted.close();
    }
  });
});

describe('login throttling', () => {
  const limits = { pairFree: 3, pairBaseMs: 500, sourceMax: 8, accountMax: 6, windowMs: 60_000 };
  const from = (c: Client, ip: string, body: unknown) =>
    c.req('POST', '/api/auth/login', body, { headers: { 'x-forwarded-for': ip } });
  const wrong = (user = 'admin') => ({ username: user, password: 'not the password' });

  test('per (source, account) exponential delay, per-source budget, per-account limit; the real user still logs in', async () => {
    const t = await startConsole('sqlite', { trustProxy: ['127.0.0.1'], loginLimits: limits });
    try {
      const c = new Client(t.base);
      // (source, account): three free failures, then blocked with a growing delay.
      for (let i = 0; i < 4; i++) assert.equal((await from(c, '10.0.0.1', wrong())).status, 401);
      const blocked = await from(c, '10.0.0.1', LOGIN);
      assert.equal(blocked.status, 429, 'even the right password waits out the delay');
      assert.equal(blocked.body.error.code, 'RATE_LIMIT');
      assert.equal(blocked.headers['retry-after'], '1');
      // The real user, from their own address, is not affected.
      assert.equal((await from(new Client(t.base), '10.0.0.2', LOGIN)).status, 200);
      await new Promise((r) => setTimeout(r, 550));
      assert.equal((await from(c, '10.0.0.1', wrong())).status, 401, 'delay over: one more guess');
      assert.equal((await from(c, '10.0.0.1', wrong())).status, 429, 'and the next delay is longer');
      await new Promise((r) => setTimeout(r, 550));
      assert.equal((await from(c, '10.0.0.1', LOGIN)).status, 429, 'doubled: 1000 ms');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await from(c, '10.0.0.1', LOGIN)).status, 200, 'after it, the right password works');

      // Per source: a spray of user names from one address exhausts its budget.
      for (let i = 0; i < 8; i++) assert.equal((await from(c, '10.0.0.3', wrong(`user${i}`))).status, 401);
      const spray = await from(c, '10.0.0.3', LOGIN);
      assert.equal(spray.status, 429);
      assert.match(spray.body.error.message, /from this address/);
      assert.ok(Number(spray.headers['retry-after']) > 50);
      assert.equal((await from(new Client(t.base), '10.0.0.4', LOGIN)).status, 200);

      // Per account: a distributed guess (one failure from each of many sources).
      const admin = await new Client(t.base).login();
      assert.equal(
        (await admin.post('/api/users', { username: 'alice', password: 'alice password 1', role: 'viewer' }))
          .status,
        201,
      );
      const alice = { username: 'alice', password: 'alice password 1' };
      assert.equal((await from(new Client(t.base), '10.1.0.99', alice)).status, 200, 'alice at home');
      for (let i = 1; i <= 6; i++) assert.equal((await from(c, `10.1.0.${i}`, wrong('alice'))).status, 401);
      const guesser = await from(c, '10.1.0.1', alice);
      assert.equal(guesser.status, 429, 'a source that already guessed is out once the account is hot');
      assert.match(guesser.body.error.message, /for this account/);
      assert.equal((await from(c, '10.1.0.50', wrong('alice'))).status, 401, 'a fresh source gets a try');
      assert.equal((await from(new Client(t.base), '10.1.0.77', alice)).status, 200, 'fresh source logs in');
      // Alice's own address, known from her earlier login, is exempt even after a typo.
      assert.equal((await from(c, '10.1.0.99', wrong('alice'))).status, 401);
      assert.equal((await from(new Client(t.base), '10.1.0.99', alice)).status, 200);
    } finally {
      await t.close();
    }
  });

  test('IPv6 sources are counted per /64; IPv4-mapped addresses as IPv4', async () => {
    assert.equal(throttleSource('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(throttleSource('2001:0db8:0001:0002:ffff:1:2:3'), '2001:db8:1:2::/64');
    assert.equal(throttleSource('2001:db8::5'), '2001:db8:0:0::/64');
    assert.equal(throttleSource('::1'), '0:0:0:0::/64');
    assert.equal(throttleSource('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(throttleSource('10.1.2.3'), '10.1.2.3');
    const t = await startConsole('sqlite', { trustProxy: ['127.0.0.1'], loginLimits: limits });
    try {
      const c = new Client(t.base);
      // Rotating the interface id inside one /64 does not give fresh tries.
      for (let i = 1; i <= 4; i++) assert.equal((await from(c, `2001:db8:7:7::${i}`, wrong())).status, 401);
      assert.equal((await from(c, '2001:db8:7:7::99', LOGIN)).status, 429);
      assert.equal((await from(new Client(t.base), '2001:db8:7:8::1', LOGIN)).status, 200, 'another /64');
    } finally {
      await t.close();
    }
  });

  test('without a trusted proxy, X-Forwarded-For does not give an attacker new sources', async () => {
    const t = await startConsole('sqlite', { loginLimits: limits });
    try {
      const c = new Client(t.base);
      for (let i = 0; i < 4; i++) assert.equal((await from(c, `10.9.0.${i}`, wrong())).status, 401);
      assert.equal((await from(c, '10.9.0.200', wrong())).status, 429);
    } finally {
      await t.close();
    }
  });

  test('failed bootstrap attempts are audited and throttled; the right token still works', async () => {
    const t = await startConsole('sqlite', { env: {}, loginLimits: limits });
    try {
      const token = (t.c.bootstrap as { token: string }).token;
      const anon = new Client(t.base);
      const body = (tok: string) => ({ token: tok, username: 'root', password: 'a long enough password' });
      for (let i = 0; i < 4; i++)
        assert.equal((await anon.post('/api/auth/bootstrap', body(`guess${i}`))).status, 403);
      const held = await anon.post('/api/auth/bootstrap', body(token));
      assert.equal(held.status, 429);
      await new Promise((r) => setTimeout(r, 550));
      const ok = await anon.post('/api/auth/bootstrap', body(token));
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal((await new Client(t.base).post('/api/auth/bootstrap', body(token))).status, 403);
      const audit = await anon.get('/api/audit?action=auth.bootstrap_failed');
      assert.equal(audit.status, 200);
      assert.equal(audit.body.items.length, 5);
      for (const e of audit.body.items) {
        assert.equal(e.actor, 'anonymous');
        assert.equal(e.target, 'user:root');
        assert.equal(e.detail.ip, '127.0.0.1');
        assert.ok(!JSON.stringify(e).includes('guess'), 'the guessed token is not logged');
      }
      assert.deepEqual(
        audit.body.items.map((e: { detail: { reason: string } }) => e.detail.reason),
        ['already bootstrapped', 'wrong token', 'wrong token', 'wrong token', 'wrong token'],
      );
    } finally {
      await t.close();
    }
  });
});
