/**
 * Mode switches from the console reach an agent whose events go through NATS (#10, #15): a real
 * nats-server (JetStream), a real `bulwark server --nats` process, and a real `bulwark agent
 * --profiles DIR --nats URL --console URL` process with the eBPF sensor, learning a workload in
 * a real runc container. Its profile reaches the console through JetStream; the operator sets the
 * workload to monitor in the console; the agent pulls the switch over HTTP (--console) at its
 * next heartbeat and applies it without a restart; then an unlearned exec in a new container is
 * one deviation in the console, again through NATS. Everything is stopped in `after`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { workloadId } from '../../src/runtime/profile/index.js';
import { sensorBuildScript } from '../../src/runtime/sensor/index.js';
import { freePort } from '../fixtures/index.js';
import { TestNats } from '../helpers/nats.js';
import { ProfileBundle } from '../helpers/runc-profile.js';
import { Client } from '../server/helpers.js';
import { BULWARK_FROM_SOURCE } from '../helpers/cli.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const DIGEST = 'sha256:' + createHash('sha256').update('bulwark-profile-nats-fixture').digest('hex');
const annotations = {
  'org.opencontainers.container.name': 'natsapp',
  'org.opencontainers.image.base.digest': DIGEST,
};
const WID = workloadId({ container: 'natsapp', imageDigest: DIGEST });
const PASSWORD = 'correct horse battery staple 12';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-profile-nats-'));
const bundle = new ProfileBundle();
const nats = new TestNats();
const procs: ChildProcess[] = [];

function cli(args: string[], env: NodeJS.ProcessEnv = {}): { p: ChildProcess; err: () => string } {
  const p = spawn(process.execPath, [...BULWARK_FROM_SOURCE, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  procs.push(p);
  let err = '';
  let out = '';
  p.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  p.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  return { p, err: () => `${err}\nstdout:\n${out}` };
}

async function until<T>(
  what: string,
  f: () => Promise<T | undefined | false>,
  diag: () => string,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${diag().slice(-3000)}`);
    await sleep(150);
  }
}

before(async () => {
  execFileSync('bash', [sensorBuildScript(), '--require'], { stdio: ['ignore', 'ignore', 'inherit'] });
  await bundle.open();
  await nats.start();
});

after(async () => {
  for (const p of procs.reverse())
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGTERM');
      const gone = await Promise.race([
        new Promise<boolean>((r) => p.once('exit', () => r(true))),
        sleep(10_000).then(() => false),
      ]);
      if (!gone) p.kill('SIGKILL');
    }
  bundle.close();
  await nats.kill();
  rmSync(tmp, { recursive: true, force: true });
});

test(
  'agent --nats --console: the profile through JetStream, the mode switch pulled from the console',
  { timeout: 240_000 },
  async () => {
    const port = await freePort();
    const server = cli(
      [
        'server',
        '--listen',
        `127.0.0.1:${port}`,
        '--data',
        join(tmp, 'data'),
        '--db',
        join(tmp, 'none.db'),
        '--nats',
        nats.url,
        '--nats-auth',
        nats.token,
      ],
      { BULWARK_ADMIN_USER: 'admin', BULWARK_ADMIN_PASSWORD: PASSWORD },
    );
    await until('the console', async () => /Bulwark console: /.test(server.err()), server.err);
    const base = `http://127.0.0.1:${port}`;
    const admin = await new Client(base).login('admin', PASSWORD);
    const tok = await admin.post('/api/tokens', { name: 'agent', role: 'operator', cluster: 'live' });
    assert.equal(tok.status, 201, JSON.stringify(tok.body));
    // --console without --nats, and without a token, are refused with the reason
    const bad = cli(['agent', '--profiles', join(tmp, 'p'), '--console', base]);
    await new Promise((r) => bad.p.once('exit', r));
    assert.equal(bad.p.exitCode, 2);
    assert.match(bad.err(), /--console is for --nats/);

    const agent = cli(
      [
        'agent',
        '--profiles',
        join(tmp, 'profiles'),
        '--nats',
        nats.url,
        '--nats-auth',
        nats.token,
        '--console',
        base,
        '--cluster',
        'live',
        '--hostname',
        'node-nats',
        '--heartbeat',
        '1',
        '--buffer-dir',
        join(tmp, 'buffer'),
        '-f',
        'json',
      ],
      { BULWARK_TOKEN: tok.body.token as string },
    );
    await until('the agent', async () => agent.err().includes('sensor attached'), agent.err);
    type W = { workload: string; mode: string; counts: { executables: number }; deviations: number };
    const workload = async () =>
      ((await admin.get('/api/runtime/workloads?cluster=live')).body.items as W[]).find(
        (w) => w.workload === WID,
      );
    await until(
      'the learned profile in the console (through NATS)',
      async () => {
        const r = await bundle.run(['/bin/sh', '-c', 'echo start; sleep 0.05; echo end'], { annotations });
        assert.equal(r.code, 0, r.stderr);
        await sleep(1500);
        const w = await workload();
        return w && w.counts.executables >= 2 ? w : undefined;
      },
      agent.err,
    );
    assert.equal((await workload())!.mode, 'discover');

    const set = await admin.req('PUT', '/api/runtime/workloads/mode', {
      cluster: 'live',
      workload: WID,
      mode: 'monitor',
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    await until(
      'the agent to apply monitor',
      async () => /natsapp: discover → monitor mode \(set in the console\)/.test(agent.err()),
      agent.err,
    );
    // an unlearned exec in monitor mode: one deviation, in the console through NATS
    const r = await bundle.run(['/bin/sh', '-c', `perl -e 'print "ran\\n"'; echo end`], { annotations });
    assert.equal(r.stdout, 'ran\nend\n', 'monitor blocks nothing');
    await until(
      'the deviation in the console',
      async () => ((await workload())?.deviations ?? 0) >= 1,
      agent.err,
    );
    const w = (await workload())!;
    assert.equal(w.mode, 'monitor');
  },
);
