/**
 * `bulwark agent --benchmark k8s-node,docker` as a real process (the built CLI, with the live eBPF
 * sensor: it needs root and BTF) shipping to a real `bulwark server` process: over a fake-root
 * Kubernetes node whose verdicts are known (every automated cis-1.9 check passes) and with no
 * Docker Engine API under that root, the first round runs shortly after start and the next after
 * --benchmark-interval; the console lists the node with the k8s-node benchmark at 100 % and the
 * Docker run as failed with its reason, two runs each; the agent stops cleanly on SIGTERM. Usage
 * errors (an unknown benchmark, no --server) exit 2 before the sensor starts.
 * Everything is stopped and removed at the end, also when the test fails.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { repoRoot } from '../fixtures/index.js';
import { goodNode } from '../cis/node-roots.js';
import { Client } from '../server/helpers.js';
import { startServerProcess, type ServerProcess } from '../web/helpers.js';

const BIN = join(repoRoot, 'bin', 'bulwark');
const canRun = process.getuid?.() === 0 && existsSync('/sys/kernel/btf/vmlinux');
const PASSWORD = 'correct horse battery staple 14';
const RULE = `
- rule: Bulwark benchmark test marker
  desc: a rule that never fires (the agent needs one)
  condition: evt.type = execve and proc.name = bulwark-benchmark-never
  output: never %proc.name
  priority: NOTICE
`;

describe(
  'bulwark agent --benchmark (live)',
  { timeout: 180_000, skip: canRun ? false : 'needs root and BTF' },
  () => {
    const tmp = mkdtempSync(join(tmpdir(), 'bulwark-agent-bench-'));
    let server: ServerProcess | undefined;
    let agent: ChildProcess | undefined;
    before(async () => {
      execFileSync('bash', [join(repoRoot, 'scripts', 'build-sensor.sh'), '--require'], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      server = await startServerProcess(join(tmp, 'data'), join(tmp, 'no-advisories.db'), {
        BULWARK_ADMIN_USER: 'admin',
        BULWARK_ADMIN_PASSWORD: PASSWORD,
      });
    });
    after(async () => {
      if (agent && agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
      await server?.stop();
      rmSync(tmp, { recursive: true, force: true });
    });

    it('usage errors exit 2 before the sensor starts', () => {
      writeFileSync(join(tmp, 'rule.yaml'), RULE);
      const bogus = spawnSync(
        process.execPath,
        [
          BIN,
          'agent',
          '-r',
          join(tmp, 'rule.yaml'),
          '--server',
          'http://127.0.0.1:9',
          '--token',
          'x',
          '--benchmark',
          'windows',
        ],
        { encoding: 'utf8' },
      );
      assert.equal(bogus.status, 2, bogus.stderr);
      assert.match(bogus.stderr, /unknown benchmark "windows"/);
      const nowhere = spawnSync(
        process.execPath,
        [BIN, 'agent', '-r', join(tmp, 'rule.yaml'), '--benchmark', 'docker'],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(nowhere.status, 2, nowhere.stderr);
      assert.match(nowhere.stderr, /--benchmark needs --server or --nats/);
      const interval = spawnSync(
        process.execPath,
        [
          BIN,
          'agent',
          '-r',
          join(tmp, 'rule.yaml'),
          '--server',
          'http://127.0.0.1:9',
          '--token',
          'x',
          '--benchmark',
          'docker',
          '--benchmark-interval',
          'soon',
        ],
        { encoding: 'utf8' },
      );
      assert.equal(interval.status, 2, interval.stderr);
      assert.match(interval.stderr, /not a duration/);
    });

    it('runs the benchmarks on a schedule and the console shows them per node', async () => {
      const srv = server!;
      const admin = await new Client(srv.url).login('admin', PASSWORD);
      const token = (await admin.post('/api/tokens', { name: 'agent', role: 'operator', cluster: 'lab' }))
        .body.token as string;
      const root = goodNode(join(tmp, 'root'));
      const a = spawn(
        process.execPath,
        [
          BIN,
          'agent',
          '-r',
          join(tmp, 'rule.yaml'),
          '--server',
          srv.url,
          '--hostname',
          'node-live',
          '--buffer-dir',
          join(tmp, 'buffer'),
          '--heartbeat',
          '2',
          '--benchmark',
          'k8s-node',
          '--benchmark',
          'docker',
          '--benchmark-interval',
          '3s',
          '--root',
          root,
        ],
        { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BULWARK_TOKEN: token } },
      );
      agent = a;
      let err = '';
      a.stdout!.resume();
      a.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
      const exited = new Promise<number | null>((r) => a.once('exit', (c) => r(c)));
      const until = async (pred: () => boolean | Promise<boolean>, what: string, ms: number) => {
        const end = Date.now() + ms;
        while (!(await pred())) {
          if (Date.now() > end || a.exitCode !== null) throw new Error(`${what}; stderr: ${err}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      const started = Date.now();
      await until(() => err.includes('sensor attached'), 'agent did not attach', 30_000);
      type Sum = {
        target: string;
        status: string;
        error: string;
        score: number | null;
        runs: number;
        time: string;
      };
      let sums: Sum[] = [];
      await until(
        async () => {
          const r = await admin.get('/api/benchmarks/nodes');
          const n = (r.body.items as { cluster: string; node: string; benchmarks: Sum[] }[]).find(
            (x) => x.node === 'node-live',
          );
          sums = n?.benchmarks ?? [];
          return sums.length === 2 && sums.every((s) => s.runs >= 2);
        },
        'two rounds of both benchmarks did not reach the console',
        60_000,
      );
      const firstSeen = Date.now() - started;
      a.kill('SIGTERM');
      assert.equal(await exited, 0, err);
      const k8s = sums.find((s) => s.target === 'k8s-node')!;
      assert.equal(k8s.status, 'ok', k8s.error);
      assert.equal(k8s.score, 100);
      const docker = sums.find((s) => s.target === 'docker')!;
      assert.equal(docker.status, 'error');
      assert.match(docker.error, /Docker Engine API not reachable/);
      assert.match(err, /benchmark k8s-node — PASS \d+, FAIL 0/);
      assert.ok(!err.includes(token), 'the token is never printed');
      const detail = await admin.get(
        `/api/benchmarks/node?cluster=lab&node=node-live&target=k8s-node&status=FAIL`,
      );
      assert.equal(detail.status, 200, JSON.stringify(detail.body));
      assert.deepEqual(detail.body.checks, [], 'no check fails on the good node');
      assert.equal(detail.body.checksFrom.root, root);
      // the cluster came from the token (the agent named none)
      assert.equal((await admin.get('/api/benchmarks/nodes?cluster=lab')).body.items.length, 1);
      process.stderr.write(`# two rounds of benchmarks in the console ${firstSeen} ms after start\n`);
    });
  },
);
