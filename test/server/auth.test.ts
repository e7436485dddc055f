/**
 * Users and access on both backends: bootstrap (token and env), login, cookie flags, CSRF, roles,
 * API tokens (hashed at rest), audit log; and every registered route refuses unauthenticated calls.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BACKENDS, Client, startConsole, stopSharedPostgres } from './helpers.js';

after(stopSharedPostgres);

/** Routes anyone may call: documented in docs/server.md. */
const PUBLIC = new Set([
  'GET /healthz',
  'HEAD /healthz',
  'GET /metrics',
  'HEAD /metrics',
  'GET /api/openapi.json',
  'HEAD /api/openapi.json',
  'GET /api/auth/status',
  'HEAD /api/auth/status',
  'POST /api/auth/login',
  'POST /api/auth/bootstrap',
]);

for (const backend of BACKENDS) {
  describe(`auth (${backend})`, () => {
    test('bootstrap with the one-time token, then the token is spent', async () => {
      const t = await startConsole(backend, { env: {} });
      try {
        assert.equal(t.c.bootstrap?.kind, 'token');
        const token = (t.c.bootstrap as { token: string }).token;
        const anon = new Client(t.base);
        assert.deepEqual((await anon.get('/api/auth/status')).body, { needsBootstrap: true });
        const wrong = await anon.post('/api/auth/bootstrap', {
          token: token + 'x',
          username: 'root',
          password: 'a long enough password',
        });
        assert.equal(wrong.status, 403);
        const short = await anon.post('/api/auth/bootstrap', { token, username: 'root', password: 'short' });
        assert.equal(short.status, 400);
        assert.match(short.body.error.message, /password/);
        const ok = await anon.post('/api/auth/bootstrap', {
          token,
          username: 'root',
          password: 'a long enough password',
        });
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        assert.equal(ok.body.user.role, 'admin');
        assert.equal((await anon.get('/api/auth/me')).body.user.username, 'root');
        const again = await new Client(t.base).post('/api/auth/bootstrap', {
          token,
          username: 'evil',
          password: 'a long enough password',
        });
        assert.equal(again.status, 403);
        assert.deepEqual((await anon.get('/api/auth/status')).body, { needsBootstrap: false });
        const audit = await anon.get('/api/audit');
        assert.ok(
          audit.body.items.some(
            (e: { action: string; actor: string }) => e.action === 'user.bootstrap' && e.actor === 'root',
          ),
        );
      } finally {
        await t.close();
      }
    });

    test('login, cookies, CSRF, roles, API tokens, audit', async () => {
      const t = await startConsole(backend);
      try {
        assert.equal(t.c.bootstrap?.kind, 'password');
        const anon = new Client(t.base);
        const bad = await anon.post('/api/auth/login', { username: 'admin', password: 'wrong password!' });
        assert.equal(bad.status, 401);
        const nouser = await anon.post('/api/auth/login', {
          username: 'nobody',
          password: 'wrong password!',
        });
        assert.equal(nouser.status, 401);
        assert.deepEqual(nouser.body, bad.body, 'same answer whether or not the user exists');
        // Brute force: five free failures per (address, account), then a delay (throttle.ts; the
        // policy in detail is tested in hardening.test.ts).
        for (let i = 0; i < 5; i++)
          assert.equal(
            (await anon.post('/api/auth/login', { username: 'nobody', password: `guess ${i}` })).status,
            401,
          );
        const limited = await anon.post('/api/auth/login', { username: 'nobody', password: 'guess again' });
        assert.equal(limited.status, 429);
        assert.equal(limited.body.error.code, 'RATE_LIMIT');

        const admin = new Client(t.base);
        const r = await admin.post('/api/auth/login', {
          username: 'admin',
          password: 'correct horse battery',
        });
        assert.equal(r.status, 200);
        const cookies = ([] as string[]).concat(r.headers['set-cookie'] as string[]);
        const session = cookies.find((c) => c.startsWith('bulwark_session='))!;
        assert.match(session, /HttpOnly/i);
        assert.match(session, /SameSite=Strict/i);
        const csrf = cookies.find((c) => c.startsWith('bulwark_csrf='))!;
        assert.doesNotMatch(csrf, /HttpOnly/i, 'the app reads the CSRF cookie');
        assert.match(csrf, /SameSite=Strict/i);
        assert.equal(r.body.csrfToken, admin.cookies.get('bulwark_csrf'));

        // State change without / with a wrong CSRF header is refused; with it, it works.
        const noCsrf = await admin.req(
          'POST',
          '/api/users',
          { username: 'vera', password: 'viewer password 1', role: 'viewer' },
          { csrf: false },
        );
        assert.equal(noCsrf.status, 403);
        assert.equal(noCsrf.body.error.code, 'CSRF');
        const wrongCsrf = await admin.req(
          'POST',
          '/api/users',
          { username: 'vera', password: 'viewer password 1', role: 'viewer' },
          { csrf: false, headers: { 'x-csrf-token': 'nope' } },
        );
        assert.equal(wrongCsrf.status, 403);
        const created = await admin.post('/api/users', {
          username: 'vera',
          password: 'viewer password 1',
          role: 'viewer',
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        await admin.post('/api/users', { username: 'otto', password: 'operator password', role: 'operator' });

        // Stored password: scrypt with a per-user salt, never the password.
        const rows = await t.c.ctx.db.selectFrom('users').select(['username', 'password_hash']).execute();
        const salts = rows.map((u) => u.password_hash.split('$')[4]);
        assert.equal(new Set(salts).size, rows.length);
        for (const u of rows) assert.match(u.password_hash, /^scrypt\$16384\$8\$1\$/);
        assert.ok(!rows.some((u) => u.password_hash.includes('viewer password')));

        // Roles.
        const viewer = await new Client(t.base).login('vera', 'viewer password 1');
        assert.equal((await viewer.get('/api/images')).status, 200);
        const forb = await viewer.post('/api/users', {
          username: 'x',
          password: 'xxxxxxxxxxxxxx',
          role: 'admin',
        });
        assert.equal(forb.status, 403);
        assert.equal(forb.body.error.code, 'FORBIDDEN');
        assert.equal(
          (await viewer.post('/api/suppressions', { advisoryId: 'CVE-1', reason: 'r', owner: 'o' })).status,
          403,
        );
        assert.equal((await viewer.get('/api/audit')).status, 403);
        const operator = await new Client(t.base).login('otto', 'operator password');
        assert.equal(
          (await operator.post('/api/suppressions', { advisoryId: 'CVE-1', reason: 'r', owner: 'o' })).status,
          201,
        );
        assert.equal(
          (await operator.post('/api/registries', { name: 'r', url: 'reg.example:5000' })).status,
          403,
        );

        // API tokens: shown once, hashed at rest, role capped by the owner's, no CSRF needed.
        const tokRes = await operator.post('/api/tokens', { name: 'ci' });
        assert.equal(tokRes.status, 201);
        const token: string = tokRes.body.token;
        assert.match(token, /^bwk_[A-Za-z0-9]{8}_/);
        const stored = await t.c.ctx.db.selectFrom('api_tokens').selectAll().execute();
        const tokenSecret = token.slice('bwk_12345678_'.length);
        assert.ok(tokenSecret.length >= 40);
        assert.ok(!JSON.stringify(stored).includes(tokenSecret), 'token secret not stored');
        assert.equal((await operator.post('/api/tokens', { name: 'too much', role: 'admin' })).status, 403);
        const list = await operator.get('/api/tokens');
        assert.ok(!JSON.stringify(list.body).includes(tokenSecret), 'token never listed');
        const ci = new Client(t.base, token);
        assert.equal((await ci.get('/api/auth/me')).body.user.via, 'token');
        assert.equal(
          (await ci.post('/api/suppressions', { advisoryId: 'CVE-2', reason: 'r', owner: 'o' })).status,
          201,
        );
        const viewerTok = (await operator.post('/api/tokens', { name: 'ro', role: 'viewer' })).body.token;
        assert.equal(
          (
            await new Client(t.base, viewerTok).post('/api/suppressions', {
              advisoryId: 'CVE-3',
              reason: 'r',
              owner: 'o',
            })
          ).status,
          403,
        );
        assert.equal((await new Client(t.base, token.slice(0, -2) + 'xx').get('/api/images')).status, 401);
        // Revoked token stops working.
        assert.equal((await operator.del(`/api/tokens/${tokRes.body.id}`)).status, 204);
        assert.equal((await ci.get('/api/images')).status, 401);

        // Disabled user loses the session at once.
        const vera = (await admin.get('/api/users')).body.items.find(
          (u: { username: string }) => u.username === 'vera',
        );
        assert.equal((await admin.patch(`/api/users/${vera.id}`, { disabled: true })).status, 200);
        assert.equal((await viewer.get('/api/images')).status, 401);

        // Logout ends the session server-side (replaying the old cookie fails).
        const oldCookie = new Map(operator.cookies);
        assert.equal((await operator.post('/api/auth/logout')).status, 204);
        const replay = new Client(t.base);
        replay.cookies = oldCookie;
        assert.equal((await replay.get('/api/images')).status, 401);

        const audit = (await admin.get('/api/audit?pageSize=100')).body.items as {
          action: string;
          actor: string;
          target: string;
          at: string;
        }[];
        const actions = audit.map((a) => a.action);
        for (const a of [
          'auth.login',
          'auth.login_failed',
          'user.create',
          'user.update',
          'suppression.create',
          'token.create',
          'token.revoke',
          'auth.logout',
        ]) {
          assert.ok(actions.includes(a), `audit has ${a}`);
        }
        const sup = audit.find((a) => a.action === 'suppression.create' && a.actor.includes('token'));
        assert.ok(sup, 'token actions are attributed to the token');
        assert.match(sup.target, /^advisory:CVE-2$/);
        assert.ok(!JSON.stringify(audit).includes('operator password'), 'no passwords in the audit log');
      } finally {
        await t.close();
      }
    });
  });
}

test('every registered route refuses unauthenticated requests (except the documented public ones)', async () => {
  // A built UI in the web dir: static routes are registered too (public by design: the login page).
  const web = mkdtempSync(join(tmpdir(), 'bulwark-web-'));
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>Bulwark</title>');
  const t2 = await startConsole('sqlite', { webDir: web });
  try {
    const routes = t2.c.routes;
    assert.ok(routes.length > 40, `found ${routes.length} routes`);
    assert.ok(
      routes.some((r) => r.url === '/index.html' || r.url === '/*'),
      'static UI routes registered',
    );
    const seen = new Set<string>();
    const checked: string[] = [];
    for (const r of routes) {
      const key = `${r.method} ${r.url}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (r.url === '/*' || r.url === '/' || r.url === '/index.html') {
        // @fastify/static: the UI's files are public; they contain no data.
        assert.equal(r.method === 'GET' || r.method === 'HEAD', true, key);
        continue;
      }
      const path = r.url.replace(/:([A-Za-z_]+)/g, '1');
      for (const creds of [
        {},
        { cookie: 'bulwark_session=forged; bulwark_csrf=x', 'x-csrf-token': 'x' },
        { authorization: 'Bearer bwk_abcdefgh_' + 'x'.repeat(43) },
        { authorization: 'Basic YWRtaW46YWRtaW4=' },
      ]) {
        const res = await t2.c.app.inject({
          method: r.method as 'GET',
          url: path,
          headers: creds,
          payload: r.method === 'GET' || r.method === 'HEAD' ? undefined : {},
        });
        if (PUBLIC.has(key)) {
          assert.notEqual(res.statusCode, 401, `${key} is public`);
        } else {
          assert.equal(
            res.statusCode,
            401,
            `${key} with ${JSON.stringify(creds)} → ${res.statusCode} ${res.body}`,
          );
        }
      }
      checked.push(key);
    }
    // Every public route that exists is in the list and vice versa (a new public route must be added on purpose).
    assert.deepEqual(
      checked.filter((k) => PUBLIC.has(k)).sort(),
      [...PUBLIC].filter((k) => seen.has(k)).sort(),
    );
    assert.ok(checked.length > 40);
    // Static UI served; unknown API paths are JSON 404, not the UI.
    const idx = await t2.c.app.inject({ method: 'GET', url: '/images/3' });
    assert.equal(idx.statusCode, 200);
    assert.match(idx.body, /<title>Bulwark/);
    const api404 = await t2.c.app.inject({ method: 'GET', url: '/api/nope' });
    assert.equal(api404.statusCode, 404);
    assert.equal(api404.json().error.code, 'NOT_FOUND');
  } finally {
    await t2.close();
    rmSync(web, { recursive: true, force: true });
  }
});

test('OpenAPI document lists every API route with its schemas', async () => {
  const t = await startConsole('sqlite');
  try {
    const doc = (await t.c.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    assert.equal(doc.openapi, '3.1.0');
    const documented = new Set<string>();
    for (const [p, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>))
      for (const m of Object.keys(ops)) documented.add(`${m.toUpperCase()} ${p}`);
    for (const r of t.c.routes) {
      if (!r.url.startsWith('/api/') || r.method === 'HEAD' || r.url === '/api/openapi.json') continue;
      assert.ok(
        documented.has(`${r.method} ${r.url.replace(/:([A-Za-z_]+)/g, '{$1}')}`),
        `${r.method} ${r.url} documented`,
      );
    }
    const findings = doc.paths['/api/findings'].get;
    assert.ok(findings.parameters.some((p: { name: string }) => p.name === 'severity'));
    assert.equal(findings['x-required-role'], 'viewer');
    assert.ok(findings.responses['200'].content['application/json'].schema);
    // The document validates as OpenAPI 3.1 JSON Schema-wise: every $ref resolves.
    const refs = JSON.stringify(doc).match(/"\$ref":"#\/components\/schemas\/([^"]+)"/g) ?? [];
    for (const r of refs) assert.ok(doc.components.schemas[r.split('/').pop()!.replace('"', '')], r);
  } finally {
    await t.close();
  }
});
