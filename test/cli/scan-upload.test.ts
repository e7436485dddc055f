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
import { SHARED } from '../helpers/shared.js';

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

  // scan config and scan sbom upload too (issue #8): a manifest with a privileged container, and
  // the SBOM of a lock file with a vulnerable ms@0.7.0 matched against the real npm advisories
  writeFileSync(
    join(project, 'pod.yaml'),
    'apiVersion: v1\nkind: Pod\nmetadata: {name: uploaded}\nspec:\n  containers:\n    - name: c\n      image: nginx:1.25\n      securityContext: {privileged: true}\n',
  );
  const env = { ...process.env, BULWARK_TOKEN: token };
  const cfg = spawnSync(
    process.execPath,
    [bin, 'scan', 'config', join(project, 'pod.yaml'), '-f', 'json', '--server', server.url],
    {
      encoding: 'utf8',
      env,
    },
  );
  assert.equal(cfg.status, 0, cfg.stderr);
  assert.match(cfg.stderr, /uploaded to .*scan \d+ \(\d+ findings\)/);
  writeFileSync(
    join(project, 'package-lock.json'),
    JSON.stringify({
      lockfileVersion: 3,
      packages: { '': { name: 'p' }, 'node_modules/ms': { version: '0.7.0' } },
    }),
  );
  const sbomFile = join(dir, 'p.cdx.json');
  const sb = spawnSync(process.execPath, [bin, '-q', 'sbom', project, '-f', 'cyclonedx', '-o', sbomFile], {
    encoding: 'utf8',
  });
  assert.equal(sb.status, 0, sb.stderr);
  const db = join(dir, 'npm.sqlite');
  const imp = spawnSync(
    process.execPath,
    [bin, '-q', 'db', 'import', join(SHARED, 'data', 'osv', 'npm'), '--db', db],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(imp.status, 0, imp.stderr);
  const vs = spawnSync(
    process.execPath,
    [bin, 'scan', 'sbom', sbomFile, '--db', db, '-f', 'json', '--server', server.url],
    {
      encoding: 'utf8',
      env,
    },
  );
  assert.equal(vs.status, 0, vs.stderr);
  assert.match(vs.stderr, /uploaded to .*scan \d+ \(1 findings\)/);
  const after = (await (
    await fetch(`${server.url}/api/images`, { headers: { authorization: `Bearer ${token}` } })
  ).json()) as { items: { name: string; lastScanId: number }[] };
  assert.ok(
    after.items.some((i) => i.name.endsWith('pod.yaml')),
    JSON.stringify(after),
  );
  // the SBOM names the project it describes: its scan is that image's latest
  const sbomScan = Number(/scan (\d+) \(1 findings\)/.exec(vs.stderr)![1]);
  assert.ok(
    after.items.some((i) => i.lastScanId === sbomScan),
    JSON.stringify(after),
  );
});
