/**
 * Server messages in the UI's languages: every message the server can send (src/server/messages.ts)
 * is in the web dictionaries as srv.<key> with the same English text and a zh-CN translation; no
 * API error is written outside the catalogue; real error responses carry key and parameters and
 * come out in Chinese, and job messages and audit values (plain English text) are translated by
 * matching the templates.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { enqueue } from '../../src/server/index.js';
import { format, SERVER_MESSAGES, type MessageKey } from '../../src/server/messages.js';
import { DICTS, serverText, type Key } from '../../web/src/i18n.js';
import { repoRoot } from '../fixtures/index.js';
import { CHROMIUM, ensureWebBuilt } from '../web/helpers.js';
import { chromium } from 'playwright-core';
import { Client, startConsole, stopSharedPostgres } from './helpers.js';

after(stopSharedPostgres);

test('every server message is in the web dictionaries, same English, translated', () => {
  for (const [k, v] of Object.entries(SERVER_MESSAGES)) {
    const key = `srv.${k}` as Key;
    assert.equal(DICTS.en[key], v, `web/src/i18n.tsx: ${key} must equal the server's template`);
    assert.ok(DICTS['zh-CN'][key] && DICTS['zh-CN'][key] !== v, `${key} translated`);
  }
  const srvKeys = Object.keys(DICTS.en).filter((k) => k.startsWith('srv.'));
  assert.deepEqual(
    srvKeys.sort(),
    Object.keys(SERVER_MESSAGES)
      .map((k) => `srv.${k}`)
      .sort(),
    'no stale srv.* keys',
  );
});

test('API errors are written through the catalogue only', () => {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.ts')) files.push(p);
    }
  };
  walk(join(repoRoot, 'src', 'server'));
  const literal = /new HttpError\(\s*\d+,\s*'[A-Z_]+',\s*['`"]/g;
  for (const f of files) {
    const hits = readFileSync(f, 'utf8').match(literal);
    assert.equal(hits, null, `${f}: ${hits?.join(' | ')}`);
  }
  assert.ok(files.length > 10);
});

test('real error responses carry key and parameters and read in Chinese', async () => {
  const t = await startConsole('sqlite', { trustProxy: ['127.0.0.1'], loginLimits: { pairFree: 1 } });
  try {
    const anon = new Client(t.base);
    const admin = await new Client(t.base).login();
    type ErrRes = {
      status: number;
      body: {
        error: { code: string; message: string; key?: string; params?: Record<string, string | number> };
      };
    };
    const check = async (
      p: Promise<{ status: number; body: unknown }>,
      status: number,
      key: MessageKey,
      zh: string,
    ) => {
      const r = (await p) as ErrRes;
      assert.equal(r.status, status, JSON.stringify(r.body));
      const e = r.body.error;
      assert.equal(e.key, key);
      assert.equal(e.message, format(key, e.params), 'message is the English template filled in');
      assert.equal(serverText('zh-CN', e.message, e.key, e.params), zh);
      // The text alone (as job messages come) gives the same translation.
      assert.equal(serverText('zh-CN', e.message), zh);
      assert.equal(serverText('en', e.message, e.key, e.params), e.message);
    };
    await check(
      anon.get('/api/images'),
      401,
      'auth.required',
      '需要登录（会话 Cookie 或 Authorization: Bearer 令牌）',
    );
    await check(admin.del('/api/users/999'), 404, 'user.notFound', '未找到用户 999');
    await check(admin.get('/api/images/77'), 404, 'image.notFound', '未找到镜像 77');
    await check(admin.get('/api/nowhere'), 404, 'route.notFound', '没有路由 GET /api/nowhere');
    await check(
      admin.post('/api/users', { username: 'admin', password: 'long enough password', role: 'viewer' }),
      409,
      'user.exists',
      '用户 admin 已存在',
    );
    // Validation details: English in message/params, Chinese in localized (zod's zh-CN messages and
    // the schemas' own ones).
    const zhOf = (e: ErrRes['body']['error'] & { localized?: Record<string, Record<string, string>> }) =>
      serverText('zh-CN', e.message, e.key, e.params, e.localized);
    const bad = (await admin.get('/api/findings?pageSize=0')) as ErrRes;
    assert.equal(bad.body.error.key, 'request.invalidQuery');
    assert.match(bad.body.error.message, /^invalid query parameter: pageSize: /);
    assert.match(zhOf(bad.body.error), /^查询参数无效：pageSize：数值过小/);
    const short = (await admin.post('/api/users', {
      username: 'bob',
      password: 'short',
      role: 'viewer',
    })) as ErrRes;
    assert.equal(short.status, 400);
    assert.match(short.body.error.message, /password: at least 12 characters/);
    assert.equal(zhOf(short.body.error), '请求体无效：password：至少 12 个字符');
    const sev = (await admin.get('/api/findings?severity=BOGUS')) as ErrRes;
    assert.match(zhOf(sev.body.error), /未知的严重级别 BOGUS/);
    const big = await anon.req('POST', '/api/auth/login', { username: 'x', password: 'y'.repeat(20_000) });
    assert.equal(big.status, 413);
    assert.equal(big.body.error.code, 'FST_ERR_CTP_BODY_TOO_LARGE');
    assert.equal(
      serverText('zh-CN', big.body.error.message, big.body.error.key, big.body.error.params),
      '请求体过大（此处最多 8192 字节）',
    );
    const login = (ip: string, password: string) =>
      anon.req(
        'POST',
        '/api/auth/login',
        { username: 'admin', password },
        { headers: { 'x-forwarded-for': ip } },
      );
    await login('10.0.0.1', 'wrong one');
    await login('10.0.0.1', 'wrong two');
    const limited = (await login('10.0.0.1', 'wrong three')) as ErrRes;
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.key, 'auth.throttledPair');
    assert.equal(
      serverText('zh-CN', limited.body.error.message, limited.body.error.key, limited.body.error.params),
      `此地址对该账户的登录失败次数过多，请 ${limited.body.error.params!.seconds} 秒后重试`,
    );

    // Job messages: plain text in the jobs table, translated by template (nested ones too).
    await enqueue(t.c.ctx.db, 'registry-sync', { registryId: 1, reason: format('job.reasonSchedule') });
    const job = (await admin.get('/api/jobs')).body.items[0];
    assert.equal(job.message, 'queued');
    assert.equal(serverText('zh-CN', job.message), '已排队');
    const retry = format('job.retrying', { attempt: 2, error: format('registry.notFound', { id: 5 }) });
    assert.equal(serverText('zh-CN', retry), '第 2 次尝试失败：未找到镜像仓库 5；将重试');
    assert.equal(
      serverText('zh-CN', format('job.syncDone', { count: 3, reason: format('job.reasonDbChanged') })),
      '已排队 3 个镜像扫描（漏洞库已更新）',
    );
    // Text the server did not write (an error from a registry) stays as it came.
    assert.equal(
      serverText('zh-CN', 'connect ECONNREFUSED 127.0.0.1:5000'),
      'connect ECONNREFUSED 127.0.0.1:5000',
    );
    // Audit values.
    assert.equal(serverText('zh-CN', format('audit.wrongToken')), '令牌错误');
    assert.equal(DICTS['zh-CN']['audit.act.auth.login_failed'], '登录失败');
  } finally {
    await t.close();
  }
});

test('in the browser (zh-CN): a login error, job messages and the audit log read in Chinese', async () => {
  ensureWebBuilt();
  const t = await startConsole('sqlite', { webDir: join(repoRoot, 'web', 'dist') });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    await enqueue(t.c.ctx.db, 'registry-sync', { registryId: 1, reason: format('job.reasonSchedule') });
    const p = await browser.newPage();
    await p.addInitScript(() => localStorage.setItem('bulwark.lang', 'zh-CN'));
    await p.goto(`${t.base}/login`);
    await p.locator('input:not([type=password])').first().fill('admin');
    await p.locator('input[type=password]').fill('not the password');
    await p.locator('button[type=submit]').click();
    const alert = p.getByRole('alert');
    await alert.waitFor({ timeout: 15_000 });
    assert.equal((await alert.textContent())?.trim(), '用户名或密码错误 (LOGIN)');
    await p.locator('input[type=password]').fill('correct horse battery');
    await p.locator('button[type=submit]').click();
    await p.locator('input[type=password]').waitFor({ state: 'detached', timeout: 15_000 });
    await p.goto(`${t.base}/registries`);
    await p.getByTestId('jobs-table').getByText('已排队', { exact: true }).waitFor({ timeout: 15_000 });
    await p.goto(`${t.base}/audit`);
    const row = p.getByTestId('audit-table').locator('tr', { hasText: '登录失败' });
    await row.first().waitFor({ timeout: 15_000 });
    assert.match((await row.first().textContent()) ?? '', /地址: 127\.0\.0\.1/);
    // What the page itself receives for a missing image carries the key the UI translates.
    const res = await p.evaluate(async () => (await fetch('/api/images/424242')).json());
    assert.equal(
      serverText('zh-CN', res.error.message, res.error.key, res.error.params),
      '未找到镜像 424242',
    );
  } finally {
    await browser.close();
    await t.close();
  }
});
