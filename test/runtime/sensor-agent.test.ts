/**
 * `bulwark agent` as a process (CLI entry run by node with tsx): the live sensor with the upstream
 * stable Falco rules; a real `cat -- /etc/shadow` must come out as a 'Read sensitive file untrusted'
 * JSON alert line, and SIGTERM must stop it cleanly with final stats (kernel events/drops per type)
 * on stderr. Builds the sensor itself (scripts/build-sensor.sh --require).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SHARED } from '../helpers/shared.js';
import { BULWARK_FROM_SOURCE } from '../helpers/cli.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const RULES = `${SHARED}/data/falco/falco_rules.yaml`;

describe('bulwark agent', { timeout: 60_000 }, () => {
  let agent: ChildProcess | undefined;
  after(() => {
    if (agent && agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
  });

  it('prints the upstream alert for a live cat -- /etc/shadow and stops cleanly with stats', async () => {
    execFileSync('bash', [`${ROOT}/scripts/build-sensor.sh`, '--require'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const a = spawn(process.execPath, [...BULWARK_FROM_SOURCE, 'agent', '--rules', RULES, '-f', 'json'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    agent = a;
    let out = '';
    let err = '';
    a.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    a.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => a.once('exit', (c) => r(c)));
    const until = async (pred: () => boolean, what: string, ms: number) => {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end || a.exitCode !== null) throw new Error(`${what}; stderr: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until(() => err.includes('sensor attached'), 'agent did not attach', 30_000);
    execFileSync('/bin/cat', ['--', '/etc/shadow'], { stdio: 'ignore' });
    execFileSync('/bin/cat', ['--', '/etc/hostname'], { stdio: 'ignore' });
    const mine = () =>
      out
        .split('\n')
        .filter(Boolean)
        .map(
          (l) => JSON.parse(l) as { rule: string; priority: string; output_fields: Record<string, unknown> },
        )
        .filter((j) => String(j.output_fields['proc.cmdline']).startsWith('cat -- /etc/'));
    await until(() => mine().length > 0, 'no alert for cat -- /etc/shadow', 10_000);
    // give the benign read time to be processed too
    await new Promise((r) => setTimeout(r, 500));
    a.kill('SIGTERM');
    assert.equal(await exited, 0, err);
    const alerts = mine();
    assert.equal(alerts.length, 1, JSON.stringify(alerts));
    assert.equal(alerts[0]!.rule, 'Read sensitive file untrusted');
    assert.equal(alerts[0]!.priority, 'Warning');
    assert.equal(alerts[0]!.output_fields['fd.name'], '/etc/shadow');
    assert.equal(alerts[0]!.output_fields['proc.name'], 'cat');
    const statsLine = err
      .split('\n')
      .filter((l) => l.startsWith('{"stats"'))
      .pop();
    assert.ok(statsLine, err);
    const stats = (
      JSON.parse(statsLine) as {
        stats: { kernel: Record<string, { events: number; drops: number }>; alerts: number; rules: number };
      }
    ).stats;
    assert.ok(stats.kernel.exec!.events >= 2, statsLine);
    assert.ok(stats.kernel.openat!.events >= 2, statsLine);
    assert.equal(typeof stats.kernel.openat!.drops, 'number');
    assert.ok(stats.alerts >= 1);
    assert.ok(stats.rules > 20);
  });

  it('exits 1 with the reason when the sensor loader dies (never silently)', async () => {
    const a = spawn(process.execPath, [...BULWARK_FROM_SOURCE, 'agent', '--rules', RULES], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    agent = a;
    let err = '';
    a.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => a.once('exit', (c) => r(c)));
    const end = Date.now() + 30_000;
    while (!/loader pid (\d+)/.test(err)) {
      if (Date.now() > end || a.exitCode !== null) throw new Error(`agent did not attach: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const loader = Number(/loader pid (\d+)/.exec(err)![1]);
    process.kill(loader, 'SIGKILL');
    assert.equal(await exited, 1);
    assert.match(err, /sensor exited unexpectedly \(SIGKILL\)/);
  });
});
