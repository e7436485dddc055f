/**
 * Exit codes and messages the README promises: usage errors exit 2, and the messages say what to do
 * (a missing kubeconfig, a registry without TLS). Runs bin/bulwark as a user would.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'bulwark');
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-exit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('scan config -s BOGUS is a usage error (exit 2) naming the flag', () => {
  writeFileSync(
    join(tmp, 'pod.yaml'),
    'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: nginx}]}\n',
  );
  const r = run(['scan', 'config', '-s', 'BOGUS', join(tmp, 'pod.yaml')]);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /--severity: .*BOGUS/);
  assert.equal(run(['scan', 'fs', '-s', 'BOGUS', tmp, '--scanners', 'secret']).code, 2);
});

test('scan cluster without any kubeconfig says so instead of dialling localhost:8080', () => {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: join(tmp, 'home') };
  delete env.KUBECONFIG;
  delete env.KUBERNETES_SERVICE_HOST;
  const r = run(['scan', 'cluster'], env);
  assert.equal(r.code, 2);
  assert.match(
    r.err,
    /no kubeconfig: \$KUBECONFIG is not set and .*\.kube\/config does not exist; pass --kubeconfig/,
  );
  assert.doesNotMatch(r.err, /localhost:8080/);
});

test('a registry answering in plain HTTP: the error hints at --insecure, without retrying for long', async () => {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    const t0 = Date.now();
    // asynchronously: the server in this process must keep answering while the CLI runs
    const r = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const c = spawn(
        process.execPath,
        [BIN, 'scan', 'image', `127.0.0.1:${port}/app:1`, '--scanners', 'secret'],
        {
          timeout: 60_000,
        },
      );
      let stderr = '';
      c.stderr.on('data', (d) => (stderr += String(d)));
      c.on('close', (status) => resolve({ status, stderr }));
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /does not speak TLS .*pass --insecure/);
    assert.ok(Date.now() - t0 < 15_000, 'no retry loop on a protocol mismatch');
    assert.equal(hits, 0, 'nothing was sent in plain HTTP without --insecure');
  } finally {
    server.close();
  }
});
