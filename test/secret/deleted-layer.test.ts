/**
 * A secret written by one layer and deleted by a later one is still in the image (anyone who pulls
 * it can read the layer): the scan reports it with the layer that holds it, and the image config's
 * env and history are scanned too. The image is built with umoci, as real tools build them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = new URL('../../bin/bulwark', import.meta.url).pathname;
// made-up credentials with real shapes
const TOKEN = 'ghp_' + 'Zq7Xc2Vb9Nm4Lk8Jh1Gf5Ds3Ap6Oi0Uy2Tr4';
const DB_URL = 'postgres://app:Wq8zP3vLxK2m@db.internal:5432/orders';

test('a secret deleted by a later layer is reported with its layer; env secrets from the config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-secret-layers-'));
  const image = join(dir, 'image');
  const umoci = (...args: string[]) => execFileSync('umoci', args, { stdio: 'pipe' });
  umoci('init', '--layout', image);
  umoci('new', '--image', `${image}:app`);
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', '.env'), `DATABASE_URL=${DB_URL}\nLOG_LEVEL=info\n`);
  writeFileSync(join(dir, 'src', 'app.conf'), 'listen = 8080\n');
  umoci('insert', '--image', `${image}:app`, join(dir, 'src'), '/srv/app');
  umoci('insert', '--image', `${image}:app`, '--whiteout', '/srv/app/.env');
  umoci('config', '--image', `${image}:app`, `--config.env=GITHUB_TOKEN=${TOKEN}`);

  const out = execFileSync(
    process.execPath,
    [bin, 'scan', 'image', `oci:${image}:app`, '--scanners', 'secret', '-f', 'json'],
    {
      encoding: 'utf8',
    },
  );
  assert.ok(!out.includes(TOKEN) && !out.includes('Wq8zP3vLxK2m'), 'secrets are masked in the report');
  const report = JSON.parse(out) as {
    artifact: { layers: { index: number; diffId?: string }[] };
    results: {
      target: string;
      findings: {
        id: string;
        location: { path: string; layer?: string; layerIndex?: number; line?: number; fieldPath?: string };
      }[];
    }[];
  };
  const all = report.results.flatMap((r) => r.findings);
  const deleted = all.find((f) => f.location.path === '/srv/app/.env');
  assert.ok(deleted, JSON.stringify(all));
  assert.equal(deleted.id, 'database-url-password');
  assert.equal(deleted.location.line, 1);
  assert.equal(deleted.location.layerIndex, 0, 'the layer that wrote the file, not the one that deleted it');
  assert.equal(deleted.location.layer, report.artifact.layers[0]!.diffId);
  const env = all.find((f) => f.location.fieldPath?.startsWith('config.Env'));
  assert.equal(env?.id, 'github-pat');
  assert.equal(all.length, 2, JSON.stringify(all));
});
