/**
 * Two `bulwark server` processes on one real PostgreSQL, scanning the real docker-registry (TLS +
 * htpasswd) holding the Debian fixture image: the replica that runs the image scan is killed with
 * SIGKILL while the job runs; once its lease (3 s here, BULWARK_JOB_LEASE_SECONDS) is over, the
 * other replica takes the job and finishes it — and the image has exactly one scan. The replicas
 * share BULWARK_SECRET_KEY (the registry password is sealed with it), as a deployment must.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startRegistry, type TestRegistry } from '../fixtures/index.js';
import { startServerProcess, type ServerProcess } from '../web/helpers.js';
import { advisoryDbCopy, debianReport } from './data.js';
import { Client, sharedPostgres, stopSharedPostgres, waitFor } from './helpers.js';

after(stopSharedPostgres);

test(
  'a replica killed during a registry scan: the other finishes the job, once',
  { timeout: 240_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-failover-'));
    let reg: TestRegistry | undefined;
    const servers: ServerProcess[] = [];
    try {
      const { image } = await debianReport();
      reg = await startRegistry({ tls: true, auth: true });
      await reg.push(image, 'team-a/debian', '1.0');
      const database = await (await sharedPostgres()).createDatabase();
      const advisoryDb = await advisoryDbCopy(dir, ['Debian']);
      const env = {
        BULWARK_DATABASE_URL: database,
        BULWARK_SECRET_KEY: randomBytes(32).toString('base64'),
        BULWARK_ADMIN_USER: 'admin',
        BULWARK_ADMIN_PASSWORD: 'correct horse battery',
        BULWARK_JOB_LEASE_SECONDS: '3',
      };
      // one after the other: the first creates the schema
      servers.push(await startServerProcess(join(dir, 'a'), advisoryDb, env));
      servers.push(await startServerProcess(join(dir, 'b'), advisoryDb, env));
      const api = [
        await new Client(servers[0]!.url).login('admin', env.BULWARK_ADMIN_PASSWORD),
        await new Client(servers[1]!.url).login('admin', env.BULWARK_ADMIN_PASSWORD),
      ];
      const add = await api[0]!.post('/api/registries', {
        name: 'test',
        url: `https://${reg.host}`,
        username: reg.username,
        password: reg.password,
        caCert: readFileSync(reg.caCertFile, 'utf8'),
        scheduleMinutes: 0,
      });
      assert.equal(add.status, 201, JSON.stringify(add.body));
      assert.equal((await api[0]!.post(`/api/registries/${add.body.id}/scan`)).status, 202);
      // the image scan starts on one of the replicas
      const running = await waitFor(
        'the image scan to run',
        async () => {
          const j = (await api[1]!.get('/api/jobs?type=image-scan')).body.items?.[0];
          return j?.status === 'running' && j.runner ? j : undefined;
        },
        120_000,
        50,
      );
      const runnerPid = Number(String(running.runner).split(':')[1]);
      const victim = servers.findIndex((s) => s.pid === runnerPid);
      assert.ok(victim >= 0, `runner ${running.runner} is one of the servers (${servers.map((s) => s.pid)})`);
      process.kill(runnerPid, 'SIGKILL');
      const killedAt = Date.now();
      const survivor = api[1 - victim]!;
      const done = await waitFor(
        'the other replica to finish the job',
        async () => {
          const j = (await survivor.get(`/api/jobs/${running.id}`)).body;
          return j.status === 'succeeded' || j.status === 'failed' ? j : undefined;
        },
        120_000,
        50,
      );
      assert.equal(done.status, 'succeeded', done.message);
      assert.equal(done.attempts, 2, 'run twice: on the killed replica, then on the other');
      assert.ok(Date.now() - killedAt >= 3000, 'taken over only after the lease');
      const images = (await survivor.get('/api/images')).body;
      assert.equal(images.total, 1);
      const scans = (await survivor.get(`/api/scans?imageId=${images.items[0].id}`)).body;
      assert.equal(scans.total, 1, 'the image has one scan, not two');
      assert.match(servers[1 - victim]!.log(), /stopped renewing the lease/);
    } finally {
      for (const s of servers) await s.stop().catch(() => {});
      await reg?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
