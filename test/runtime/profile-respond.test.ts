/**
 * Response policies without a kernel (#10): loading and validation (file:line:column), matching
 * alerts and deviations, and the responder's bookkeeping on a process of this test (kill of a
 * child it spawns; pause and quarantine refused outside a container). The actions on real
 * containers are in sensor-profile-respond.test.ts.
 */
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  globMatch,
  parseResponsePolicy,
  Responder,
  ResponsePolicyError,
  responseEvent,
  ruleMatches,
  type ResponseRecord,
} from '../../src/runtime/respond/index.js';

const POLICY = `apiVersion: bulwark.dev/v1alpha1
kind: ResponsePolicy
responses:
  - name: shells
    match:
      kinds: [alert]
      rules: ["Run shell untrusted", "Redirect STDOUT/STDIN*"]
      priority: warning
      tags: [T1059, mitre_execution]
    actions: [kill]
  - name: web-drift
    match: { kinds: [deviation], deviations: [exe], workloads: ["k8s:prod/deployment/web:*"] }
    actions: [pause, quarantine]
    pauseSeconds: 30
`;

describe('response policy', () => {
  it('loads rules with where they are defined', () => {
    const rules = parseResponsePolicy(POLICY, 'r.yaml');
    assert.deepEqual(
      rules.map((r) => [r.name, r.actions, r.pauseSeconds, r.source]),
      [
        ['shells', ['kill'], 0, 'r.yaml:4'],
        ['web-drift', ['pause', 'quarantine'], 30, 'r.yaml:11'],
      ],
    );
    assert.equal(rules[0]!.match.priority, 'Warning');
  });

  it('matches alerts by rule glob, priority and tags, deviations by type and workload glob', () => {
    const [shells, drift] = parseResponsePolicy(POLICY);
    const alert = {
      kind: 'alert' as const,
      rule: 'Redirect STDOUT/STDIN to Network Connection in Container',
      priority: 'Notice',
      tags: ['T1059'],
    };
    assert.equal(ruleMatches(shells!, alert), false, 'Notice is below Warning');
    assert.equal(ruleMatches(shells!, { ...alert, priority: 'Critical' }), true);
    assert.equal(ruleMatches(shells!, { ...alert, priority: 'Critical', tags: ['T1611'] }), false);
    assert.equal(
      ruleMatches(shells!, { ...alert, priority: 'Critical', rule: 'Read sensitive file untrusted' }),
      false,
    );
    const dev = { kind: 'deviation' as const, deviation: 'exe', workload: 'k8s:prod/deployment/web:nginx' };
    assert.equal(ruleMatches(drift!, dev), true);
    assert.equal(ruleMatches(drift!, { ...dev, workload: 'k8s:staging/deployment/web:nginx' }), false);
    assert.equal(ruleMatches(drift!, { ...dev, deviation: 'file' }), false);
    assert.equal(ruleMatches(shells!, dev), false);
    assert.ok(globMatch('a*c?', 'abbbcd') && !globMatch('a.c', 'abc'));
  });

  it('reports every problem with file, line and column', () => {
    const bad = [
      'apiVersion: bulwark.dev/v1alpha1', // 1
      'kind: ResponsePolicy', // 2
      'responses:', // 3
      '  - name: x', // 4
      '    match: { kinds: [alerts], priority: Loud, deviations: [exe, proc] }', // 5
      '    actions: [kill, reboot]', // 6
      '    pauseSeconds: -1', // 7
      '  - match: {}', // 8
      '    action: [kill]', // 9
      '',
    ].join('\n');
    assert.throws(
      () => parseResponsePolicy(bad, 'p.yaml'),
      (e: unknown) => {
        assert.ok(e instanceof ResponsePolicyError);
        assert.deepEqual(
          e.issues.map((i) => `${i.line}:${i.column} ${i.message.split(':')[0]}`),
          [
            '5:22 match.kinds',
            '5:41 match.priority',
            '5:65 match.deviations',
            '6:21 actions',
            '7:19 pauseSeconds',
            '8:5 name',
            '8:5 actions',
            '9:5 unknown key "action" in a response (expected one of',
          ],
        );
        assert.match(e.message, /^p\.yaml:5:22: match\.kinds: "alerts" is not one of alert, deviation/);
        return true;
      },
    );
  });
});

describe('responder', () => {
  it('kills the triggering process and audits it; pause/quarantine of a process outside a container fail and are audited too', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise<string | null>((r) => child.once('exit', (_c, sig) => r(sig)));
    const recs: ResponseRecord[] = [];
    const r = new Responder({
      rules: parseResponsePolicy(POLICY),
      onResponse: (x) => recs.push(x),
      idPrefix: 'n1:run',
    });
    const ts = BigInt(Date.now()) * 1_000_000n;
    await r.handle({
      kind: 'alert',
      id: 'ev-1',
      ts,
      rule: 'Run shell untrusted',
      priority: 'Error',
      tags: ['mitre_execution'],
      pid: child.pid,
    });
    assert.equal(await exited, 'SIGKILL');
    // this test process is in the host's cgroup and network namespace: both refused, never applied
    await r.handle({
      kind: 'deviation',
      id: 'ev-2',
      ts,
      deviation: 'exe',
      workload: 'k8s:prod/deployment/web:nginx',
      pid: process.pid,
      container: { id: 'c0ffee000001' },
    });
    assert.deepEqual(
      recs.map((x) => [x.id, x.action, x.status, x.policy, x.trigger.id]),
      [
        ['n1:run:1', 'kill', 'done', 'shells', 'ev-1'],
        ['n1:run:2', 'pause', 'failed', 'web-drift', 'ev-2'],
        ['n1:run:3', 'quarantine', 'failed', 'web-drift', 'ev-2'],
      ],
    );
    assert.match(recs[2]!.error!, /shares the host's network namespace/);
    assert.deepEqual(r.list(), []);
    const ev = responseEvent(recs[0]!, recs[0]!.id, { node: 'n1', cluster: 'c' });
    assert.equal(ev.kind, 'response');
    assert.equal(ev.rule, 'response');
    assert.equal(ev.response.action, 'kill');
    assert.equal(ev.response.trigger.rule, 'Run shell untrusted');
    assert.match(
      ev.output,
      /^response kill done by policy shells for alert Run shell untrusted container=- pid=\d+ after/,
    );
  });
});
