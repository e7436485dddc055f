/**
 * The console's compliance view: a framework's controls rated on the open misconfiguration findings
 * of the latest scans. A `scan config` report of the Kubernetes fixtures is uploaded; the console's
 * control statuses must equal what `bulwark scan config --compliance` says for the same manifests,
 * and a suppression moves a control from fail to pass. Real server (SQLite), real CLI.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client, startConsole, type TestConsole } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'bulwark');
const FIX = join(ROOT, 'test', 'misconfig', 'fixtures', 'k8s');

let con: TestConsole;
let admin: Client;
before(async () => {
  con = await startConsole('sqlite');
  admin = await new Client(con.base).login();
});
after(() => con.close());

const cli = (...args: string[]) =>
  execFileSync(process.execPath, [BIN, '-q', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });

type Controls = { controls: { id: string; status: string; failures: { id: string }[] }[] };

test('framework controls rated on the uploaded findings, as scan config --compliance rates them', async () => {
  const report = JSON.parse(cli('scan', 'config', FIX, '-f', 'json'));
  const up = await admin.post('/api/scans', report);
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const want = JSON.parse(cli('scan', 'config', FIX, '--compliance', 'cis-k8s', '-f', 'json')) as Controls;
  const got = await admin.get<Controls>('/api/compliance/cis-k8s');
  assert.equal(got.status, 200, JSON.stringify(got.body));
  const status = (c: Controls) => Object.fromEntries(c.controls.map((x) => [x.id, x.status]));
  assert.deepEqual(status(got.body), status(want));
  const failing = got.body.controls.filter((c) => c.status === 'fail');
  assert.ok(failing.length > 3, `${failing.length} failing controls`);

  // the same report as self-contained HTML
  const html = await admin.get<string>('/api/compliance/cis-k8s?format=html');
  assert.match(String(html.headers['content-type']), /^text\/html/);
  assert.match(html.body, /<html[\s\S]*cis-k8s|CIS/i);

  // suppressing every check of one failing control makes it pass
  const ctl = failing[0]!;
  for (const id of new Set(ctl.failures.map((f) => f.id)))
    assert.equal(
      (await admin.post('/api/suppressions', { advisoryId: id, reason: 'accepted risk', owner: 'sec' }))
        .status,
      201,
    );
  const after = await admin.get<Controls>('/api/compliance/cis-k8s');
  assert.equal(after.body.controls.find((c) => c.id === ctl.id)!.status, 'pass');

  assert.equal((await admin.get('/api/compliance/no-such-framework')).status, 404);
  assert.equal((await new Client(con.base).get('/api/compliance/cis-k8s')).status, 401);
});
