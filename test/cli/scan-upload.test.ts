/**
 * CI upload: `bulwark scan ... --server URL` with an API token (env BULWARK_TOKEN) sends the report
 * to a real `bulwark server`, where it appears as an image with its findings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerProcess } from '../web/helpers.js';

const bin = new URL('../../bin/bulwark', import.meta.url).pathname;

test('scan fs --server uploads the report with an API token; a bad token fails with exit 1 and no token in the message', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-upload-'));
  const server = await startServerProcess(join(dir, 'data'), join(dir, 'advisories.sqlite'), {
    BULWARK_ADMIN_PASSWORD: 'correct horse battery staple',
  });
  t.after(() => server.stop());
  // log in as the admin and create an API token for CI
  const login = await fetch(`${server.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'correct horse battery staple' }),
  });
  assert.equal(login.status, 200, await login.clone().text());
  const cookies = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const csrf = ((await login.json()) as { csrfToken: string }).csrfToken;
  const created = await fetch(`${server.url}/api/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: cookies, 'x-csrf-token': csrf },
    body: JSON.stringify({ name: 'ci', role: 'operator' }),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const token = ((await created.json()) as { token: string }).token;

  const project = join(dir, 'project');
  spawnSync('mkdir', ['-p', project]);
  // a made-up token with the shape of a GitHub PAT, so the report has a finding
  writeFileSync(join(project, '.env'), 'GITHUB_TOKEN=ghp_Zq7Xc2Vb9Nm4Lk8Jh1Gf5Ds3Ap6Oi0Uy2Tr4\n');
  const ok = spawnSync(
    process.execPath,
    [bin, 'scan', 'fs', project, '--scanners', 'secret', '-f', 'json', '--server', server.url],
    {
      encoding: 'utf8',
      env: { ...process.env, BULWARK_TOKEN: token },
    },
  );
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /uploaded to http:\/\/127\.0\.0\.1:\d+: .*scan \d+ \(1 findings\)/);
  const images = await fetch(`${server.url}/api/images`, { headers: { authorization: `Bearer ${token}` } });
  const list = (await images.json()) as { items: { name: string }[] };
  assert.ok(
    list.items.some((i) => i.name.includes('project')),
    JSON.stringify(list),
  );

  const bad = spawnSync(
    process.execPath,
    [
      bin,
      'scan',
      'fs',
      project,
      '--scanners',
      'secret',
      '--server',
      server.url,
      '--token',
      'bwk_not-a-real-token',
    ],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /401/);
  assert.ok(!bad.stderr.includes('bwk_not-a-real-token'));
});
