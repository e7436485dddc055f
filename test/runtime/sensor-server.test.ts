/**
 * `bulwark agent --server` as a process with the live sensor and the upstream stable Falco rules,
 * shipping to a real console (in this process, SQLite) with an operator API token: a real
 * `cat -- /etc/shadow` run by this test must appear in the console's runtime API as the upstream
 * 'Read sensitive file untrusted' alert with its process tree (cat, whose parent is this test
 * process) and the node and cluster names; the agent's stdout stays empty of alerts it was not
 * asked to print, and its stderr never shows the token.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SHARED } from '../helpers/shared.js';
import { Client, startConsole } from '../server/helpers.js';
import { BULWARK_FROM_SOURCE } from '../helpers/cli.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const RULES = `${SHARED}/data/falco/falco_rules.yaml`;

describe('bulwark agent --server', { timeout: 90_000 }, () => {
  let agent: ChildProcess | undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'bulwark-agent-server-'));
  after(() => {
    if (agent && agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  });

  it('delivers a live alert to the console with its process tree', async () => {
    execFileSync('bash', [`${ROOT}/scripts/build-sensor.sh`, '--require'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const con = await startConsole('sqlite');
    try {
      const admin = await new Client(con.base).login();
      const token = (await admin.post('/api/tokens', { name: 'agent', role: 'operator' })).body
        .token as string;
      const a = spawn(
        process.execPath,
        [
          ...BULWARK_FROM_SOURCE,
          'agent',
          '--rules',
          RULES,
          '--server',
          con.base,
          '--cluster',
          'lab',
          '--hostname',
          'node-live',
          '--buffer-dir',
          join(tmp, 'buffer'),
          '-f',
          'json',
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BULWARK_TOKEN: token } },
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
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      await until(() => err.includes('sensor attached'), 'agent did not attach', 30_000);
      execFileSync('/bin/cat', ['--', '/etc/shadow'], { stdio: 'ignore' });
      type Item = { id: number; rule: string; node: string; cluster: string; output: string };
      let mine: Item | undefined;
      await until(
        async () => {
          const r = await admin.get(
            '/api/runtime/events?rule=Read%20sensitive%20file%20untrusted&pageSize=100',
          );
          mine = (r.body.items as Item[] | undefined)?.find((e) => e.output.includes('cat -- /etc/shadow'));
          return !!mine;
        },
        'the alert did not reach the console',
        20_000,
      );
      a.kill('SIGTERM');
      assert.equal(await exited, 0, err);
      assert.equal(mine!.node, 'node-live');
      assert.equal(mine!.cluster, 'lab');
      const one = await admin.get(`/api/runtime/events/${mine!.id}`);
      assert.equal(one.body.falco.output_fields['fd.name'], '/etc/shadow');
      assert.deepEqual(one.body.techniques, ['T1555'], 'the upstream rule is tagged T1555');
      const tree = one.body.processTree as { pid: number; name: string; cmdline?: string }[];
      const leaf = tree.at(-1)!;
      assert.equal(leaf.name, 'cat');
      assert.equal(leaf.cmdline, 'cat -- /etc/shadow');
      assert.equal(tree.at(-2)?.pid, process.pid, 'its parent is this test process');
      assert.ok(!err.includes(token), 'the token is never printed');
      // the agent's stats (sent at start, every heartbeat and at exit) are the console's view of the node
      const agents = (await admin.get('/api/runtime/agents')).body.items as {
        node: string;
        cluster: string;
        rules: number;
        events: number;
        alerts: number;
        drops: number;
        kernel: Record<string, { events: number; drops: number }>;
      }[];
      const me = agents.find((x) => x.node === 'node-live');
      assert.ok(me, JSON.stringify(agents));
      assert.equal(me.cluster, 'lab');
      assert.ok(me.rules > 20, `rules loaded: ${me.rules}`);
      assert.ok(me.events > 0 && me.kernel.openat!.events > 0, JSON.stringify(me));
      assert.ok(me.alerts >= 1);
      assert.equal(typeof me.drops, 'number');
    } finally {
      await con.close();
    }
  });
});
