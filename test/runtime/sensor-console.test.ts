/**
 * Container and pod identity of live alerts, from the OCI runtime's own state: a runc container
 * (Debian fixture image, overlay root) whose spec carries the annotations containerd's CRI plugin
 * writes for a Kubernetes pod. No kubelet or containerd runs here, so runc stands in for the
 * runtime containerd drives; the resolver reads runc's real state (/run/runc/<id>/state.json →
 * bundle → config.json annotations). Falco fields (k8s.ns.name, k8s.pod.name, container.name,
 * container.image.repository) work in rule conditions and outputs, and the console event built
 * for the alert carries them.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { alertEvent, RuntimeStateResolver } from '../../src/agent/index.js';
import { loadRules, type Alert } from '../../src/runtime/rules/index.js';
import { Sensor, sensorBuildScript } from '../../src/runtime/sensor/index.js';
import type { ContainerInfo } from '../../src/runtime/state/index.js';
import { StateTracker } from '../../src/runtime/state/index.js';
import { RuncBundle } from '../helpers/runc.js';
import { SHARED } from '../helpers/shared.js';

const STABLE = `${SHARED}/data/falco/falco_rules.yaml`;
const LOCAL = `
- rule: Shadow read in the shop namespace
  desc: test rule on pod identity
  condition: open_read and fd.name=/etc/shadow and k8s.ns.name=shop and container.name=web
  output: shadow read in pod %k8s.ns.name/%k8s.pod.name container %container.name image %container.image.repository:%container.image.tag (%container.id)
  priority: CRITICAL
`;
const rules = loadRules(
  [
    { name: STABLE, content: readFileSync(STABLE, 'utf8') },
    { name: 'local.yaml', content: LOCAL },
  ],
  { hostname: 'node-1', ruleMatching: 'all' },
);
const state = new StateTracker({ resolver: new RuntimeStateResolver() });
const alerts: { alert: Alert; container?: ContainerInfo }[] = [];
const bundle = new RuncBundle();
let sensor: Sensor | undefined;

const CRI = (pod: string) => ({
  'io.kubernetes.cri.container-type': 'container',
  'io.kubernetes.cri.container-name': 'web',
  'io.kubernetes.cri.image-name': 'registry.example.com/shop/web:1.4.2',
  'io.kubernetes.cri.sandbox-id': randomBytes(32).toString('hex'),
  'io.kubernetes.cri.sandbox-name': pod,
  'io.kubernetes.cri.sandbox-namespace': 'shop',
  'io.kubernetes.cri.sandbox-uid': '5f0c8d2e-3b7a-4a1e-9d65-2f6b1c0e7a41',
});

describe('pod identity of live alerts from the runtime state', { timeout: 120_000 }, () => {
  before(async () => {
    execFileSync('bash', [sensorBuildScript(), '--require'], { stdio: ['ignore', 'ignore', 'inherit'] });
    await bundle.open();
    sensor = new Sensor({
      state,
      onEvent: (ev) => {
        for (const a of rules.evaluate(ev, state))
          alerts.push({ alert: a, container: state.current?.container });
      },
    });
    await sensor.start();
  });
  after(async () => {
    await sensor?.stop();
    bundle.close();
  });

  it('k8s and container fields from CRI annotations in conditions, outputs and the console event', async () => {
    const cid = await bundle.run(['/bin/sh', '-c', 'sleep 0.3; cat /etc/shadow >/dev/null; sleep 0.5'], {
      annotations: CRI('web-7d9f8c-x2k4q'),
    });
    const end = Date.now() + 5000;
    const mine = () => alerts.filter((a) => a.container?.id === cid);
    while (Date.now() < end && mine().length < 2) await new Promise((r) => setTimeout(r, 50));
    const byRule = new Map(mine().map((a) => [a.alert.rule, a]));
    assert.deepEqual([...byRule.keys()].sort(), [
      'Read sensitive file untrusted',
      'Shadow read in the shop namespace',
    ]);
    const local = byRule.get('Shadow read in the shop namespace')!;
    assert.equal(
      local.alert.output,
      `shadow read in pod shop/web-7d9f8c-x2k4q container web image registry.example.com/shop/web:1.4.2 (${cid})`,
    );
    const c = local.container!;
    assert.equal(c.name, 'web');
    assert.equal(c.imageRepository, 'registry.example.com/shop/web');
    assert.equal(c.imageTag, '1.4.2');
    assert.deepEqual(c.k8s, {
      podName: 'web-7d9f8c-x2k4q',
      namespace: 'shop',
      podUid: '5f0c8d2e-3b7a-4a1e-9d65-2f6b1c0e7a41',
    });
    const ev = alertEvent(byRule.get('Read sensitive file untrusted')!.alert, 'node-1:t:1', {
      node: 'node-1',
      cluster: 'prod-eu',
      container: byRule.get('Read sensitive file untrusted')!.container,
    });
    assert.deepEqual(ev.container, { id: cid, name: 'web', image: 'registry.example.com/shop/web:1.4.2' });
    assert.deepEqual(ev.k8s, { namespace: 'shop', pod: 'web-7d9f8c-x2k4q', container: 'web' });
    assert.equal(ev.cluster, 'prod-eu');
    assert.equal(ev.output_fields['fd.name'], '/etc/shadow');
  });

  it('a container without manager annotations keeps its id and no pod', async () => {
    const cid = await bundle.run(['/bin/sh', '-c', 'sleep 0.3; cat /etc/shadow >/dev/null; sleep 0.5']);
    const end = Date.now() + 5000;
    while (Date.now() < end && !alerts.some((a) => a.container?.id === cid))
      await new Promise((r) => setTimeout(r, 50));
    const a = alerts.find((x) => x.container?.id === cid)!;
    assert.equal(a.alert.rule, 'Read sensitive file untrusted');
    assert.equal(a.container!.k8s, undefined);
    assert.equal(a.container!.name, undefined);
  });
});
