/**
 * The agent's benchmark scheduler (#14) on its own: flags parsed, the first round shortly after
 * start and the next after the interval, a run past its timeout killed and reported as failed, a
 * run cut short by the agent stopping not reported, and the real child-process runner keeping the
 * event loop free while it runs (the end-to-end paths with the console are in
 * test/server/benchmarks.test.ts and test/agent/benchmark-live.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  BenchmarkScheduler,
  childProcessRunner,
  parseBenchmarkTargets,
  parseDuration,
  type BenchmarkRunEvent,
  type BenchmarkRunner,
} from '../../src/agent/index.js';
import { goodNode } from '../cis/node-roots.js';

const tmp = mkdtempSync(join(tmpdir(), 'bulwark-bench-sched-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('flags: targets (repeatable, comma lists) and durations', () => {
  assert.deepEqual(parseBenchmarkTargets(['docker,k8s-node', 'docker']), ['docker', 'k8s-node']);
  assert.throws(() => parseBenchmarkTargets(['windows']), /unknown benchmark "windows"/);
  assert.equal(parseDuration('24h'), 86_400_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('45'), 45_000);
  for (const bad of ['', 'soon', '0s', '5x', '1h 30m'])
    assert.throws(() => parseDuration(bad), /not a duration/);
});

const fakeReport = (target: string) => ({
  report: {
    benchmark: { id: target === 'docker' ? 'cis-docker-1.6.0' : 'cis-1.9', title: 'T', target },
    root: '/',
    createdAt: new Date().toISOString(),
    totals: { pass: 1, fail: 0, warn: 0, info: 0 },
    groups: [],
  },
  compliance: {},
});

test('schedule: first round after the first delay, then every interval', async () => {
  const times: number[] = [];
  const t0 = Date.now();
  const runner: BenchmarkRunner = async (spec) => {
    times.push(Date.now() - t0);
    return fakeReport(spec.target);
  };
  const evs: BenchmarkRunEvent[] = [];
  const s = new BenchmarkScheduler({
    benchmarks: [{ target: 'k8s-node' }, { target: 'docker' }],
    firstDelayMs: 50,
    intervalMs: 300,
    node: 'n',
    idPrefix: 'n:run',
    runner,
    enqueue: (e) => evs.push(...e),
  });
  s.start();
  while (evs.length < 4) await new Promise((r) => setTimeout(r, 10));
  await s.stop();
  assert.ok(times[0]! >= 45 && times[0]! < 250, `first run at ${times[0]} ms`);
  assert.ok(times[2]! - times[0]! >= 280, `second round ${times[2]! - times[0]!} ms after the first`);
  assert.deepEqual(
    evs.slice(0, 4).map((e) => `${e.id} ${e.benchmark.status} ${e.benchmark.intervalSeconds}`),
    [
      'n:run:benchmark:k8s-node:1 ok 1',
      'n:run:benchmark:docker:2 ok 1',
      'n:run:benchmark:k8s-node:3 ok 1',
      'n:run:benchmark:docker:4 ok 1',
    ],
  );
});

test('a run past its timeout is killed and reported as failed; a stop does not report', async () => {
  const hang: BenchmarkRunner = (_spec, signal) =>
    new Promise((_, reject) =>
      signal.addEventListener('abort', () =>
        reject(new Error(`benchmark stopped: ${String(signal.reason)}`)),
      ),
    );
  const evs: BenchmarkRunEvent[] = [];
  const s = new BenchmarkScheduler({
    benchmarks: [{ target: 'docker' }],
    timeoutMs: 100,
    node: 'n',
    idPrefix: 'n:run',
    runner: hang,
    enqueue: (e) => evs.push(...e),
  });
  await s.runAll();
  assert.equal(evs.length, 1);
  assert.equal(evs[0]!.benchmark.status, 'error');
  assert.match(evs[0]!.benchmark.error!, /ran longer than/);
  assert.equal(evs[0]!.benchmark.report, undefined);
  // stopped while running: killed, nothing reported (the next start runs it)
  const s2 = new BenchmarkScheduler({
    benchmarks: [{ target: 'docker' }],
    timeoutMs: 60_000,
    node: 'n',
    idPrefix: 'n:run2',
    runner: hang,
    enqueue: (e) => evs.push(...e),
  });
  const round = s2.runAll();
  await new Promise((r) => setTimeout(r, 50));
  await s2.stop();
  await round;
  assert.equal(evs.length, 1);
});

test('the child-process runner: the report of a real run, the event loop free meanwhile, killed on abort', async () => {
  const root = goodNode(join(tmp, 'good'));
  const runner = childProcessRunner();
  let ticks = 0;
  const iv = setInterval(() => ticks++, 5);
  const t0 = Date.now();
  const r = await runner({ target: 'k8s-node', root }, new AbortController().signal);
  const ms = Date.now() - t0;
  clearInterval(iv);
  assert.equal(r.report.benchmark.id, 'cis-1.9');
  assert.equal(r.report.totals.fail, 0);
  assert.equal(r.error, undefined);
  // ticks every 5 ms: at least a third of them ran while the child worked
  assert.ok(ticks >= ms / 15, `${ticks} ticks in ${ms} ms`);
  const ac = new AbortController();
  const p = runner({ target: 'k8s-node', root }, ac.signal);
  ac.abort('the agent stopped');
  await assert.rejects(p, /benchmark stopped: the agent stopped/);
  await assert.rejects(
    runner({ target: 'k8s-node', root: join(tmp, 'missing') }, new AbortController().signal),
    /not a directory/,
  );
});
