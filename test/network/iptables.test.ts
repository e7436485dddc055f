/**
 * The iptables translation of protect mode, checked on its text (the live harness in
 * netns.test.ts applies it inside real namespaces): ipBlock except chains, named ports resolved
 * on the destination, selector peers resolved to workload IPs, no chain for a direction the
 * pod is not isolated in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addManifestText, completeNamespaces, emptyCluster, iptablesRules } from '../../src/network/index.js';

const MANIFESTS = `
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, ports: [{containerPort: 8080, name: http}]}]}
status: {podIP: 10.1.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: data, labels: {app: db}}
spec: {containers: [{name: c, ports: [{containerPort: 5432, name: pg}]}]}
status: {podIP: 10.1.0.3}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: data}}, podSelector: {matchLabels: {app: db}}}]
      ports: [{port: pg}]
    - to: [{ipBlock: {cidr: 192.0.2.0/24, except: [192.0.2.128/25]}}]
      ports: [{port: 443}, {protocol: UDP, port: 5000, endPort: 5010}]
`;

test('iptables: egress only, selector peers as /32, named port on the destination, except chain', () => {
  const c = emptyCluster();
  addManifestText(c, MANIFESTS, 'm.yaml');
  completeNamespaces(c);
  const web = c.workloads.find((w) => w.name === 'web')!;
  const rules = iptablesRules(c, web);
  assert.ok(!rules.includes('BWK-INGRESS'), 'web is not isolated for ingress');
  const lines = rules.split('\n');
  assert.ok(lines.includes('-A OUTPUT -j BWK-EGRESS'));
  assert.ok(
    lines.includes(
      '-A BWK-EGRESS -d 10.1.0.3/32 -p tcp --dport 5432 -m comment --comment "shop/web" -j ACCEPT',
    ),
  );
  assert.ok(lines.includes('-A BWK-EGRESS -d 192.0.2.0/24 -m comment --comment "shop/web" -j BWK-OUT-1'));
  assert.ok(lines.includes('-A BWK-OUT-1 -d 192.0.2.128/25 -j RETURN'));
  assert.ok(
    lines.includes('-A BWK-OUT-1 -p udp --dport 5000:5010 -m comment --comment "shop/web" -j ACCEPT'),
  );
  assert.deepEqual(lines.slice(-4, -2), [
    '-A BWK-EGRESS -p tcp -j REJECT --reject-with tcp-reset',
    '-A BWK-EGRESS -j REJECT --reject-with icmp-port-unreachable',
  ]);
  assert.equal(lines.at(-2), 'COMMIT');
  const db = c.workloads.find((w) => w.name === 'db')!;
  assert.ok(!iptablesRules(c, db).includes('BWK-'), 'db is selected by no policy');
  assert.ok(iptablesRules(c, web, { drop: true }).includes('-A BWK-EGRESS -j DROP'));
  const mon = iptablesRules(c, web, { mode: 'monitor', nflogGroup: 7 }).split('\n');
  assert.deepEqual(mon.slice(-4, -2), [
    '-A BWK-EGRESS -m comment --comment "bulwark monitor: outside the policies" -j NFLOG --nflog-group 7 --nflog-prefix bwk-egress',
    '-A BWK-EGRESS -j ACCEPT',
  ]);
  const disc = iptablesRules(c, web, { mode: 'discover' });
  assert.ok(!disc.includes('BWK-'));
  assert.ok(disc.includes('-A OUTPUT -m conntrack --ctstate NEW -j NFLOG --nflog-group 1'));
});
