/**
 * NetworkPolicy evaluation on the upstream Kubernetes e2e network-policy model
 * (test/e2e/network/netpol in kubernetes/kubernetes): namespaces x, y, z, each with pods a, b,
 * c labelled pod=<name>, each pod serving ports 80 and 81 over TCP, UDP and SCTP on container
 * ports named serve-<port>-<proto>. Each case is the upstream test's policies, written as
 * manifests, and its expected reachability as a literal truth table (rows: from, columns: to;
 * "." reachable, "X" blocked, "-" the pod itself, which upstream ignores as loopback) for the full
 * 9x9 model. Tables were written from the upstream cases' Reachability expectations extended to
 * all nine pods; cases marked (bulwark) are not upstream tests but use the same model.
 * The manifests are loaded from files by the real loader, the matrix is asserted in full.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, loadManifests, type Protocol } from '../../src/network/index.js';
import { modelManifests, MODEL_PODS, type ModelOptions } from './model.js';

const tmp = mkdtempSync(join(tmpdir(), 'bulwark-netpol-e2e-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Case {
  name: string;
  policies: string;
  probes: Record<string, string>;
  model?: ModelOptions;
}

const CASES: Case[] = [
  {
    name: "should support a 'default-deny-ingress' policy",
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-ingress
  namespace: x
spec:
  podSelector: {}
  policyTypes:
  - Ingress
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   .   .   .   .   .   .
x/b  X   -   X   .   .   .   .   .   .
x/c  X   X   -   .   .   .   .   .   .
y/a  X   X   X   -   .   .   .   .   .
y/b  X   X   X   .   -   .   .   .   .
y/c  X   X   X   .   .   -   .   .   .
z/a  X   X   X   .   .   .   -   .   .
z/b  X   X   X   .   .   .   .   -   .
z/c  X   X   X   .   .   .   .   .   -
`,
      'UDP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   .   .   .   .   .   .
x/b  X   -   X   .   .   .   .   .   .
x/c  X   X   -   .   .   .   .   .   .
y/a  X   X   X   -   .   .   .   .   .
y/b  X   X   X   .   -   .   .   .   .
y/c  X   X   X   .   .   -   .   .   .
z/a  X   X   X   .   .   .   -   .   .
z/b  X   X   X   .   .   .   .   -   .
z/c  X   X   X   .   .   .   .   .   -
`,
      'SCTP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   .   .   .   .   .   .
x/b  X   -   X   .   .   .   .   .   .
x/c  X   X   -   .   .   .   .   .   .
y/a  X   X   X   -   .   .   .   .   .
y/b  X   X   X   .   -   .   .   .   .
y/c  X   X   X   .   .   -   .   .   .
z/a  X   X   X   .   .   .   -   .   .
z/b  X   X   X   .   .   .   .   -   .
z/c  X   X   X   .   .   .   .   .   -
`,
    },
  },
  {
    name: "should support a 'default-deny-all' policy",
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all
  namespace: x
spec:
  podSelector: {}
  policyTypes:
  - Ingress
  - Egress
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   X   X   X   X   X   X
x/b  X   -   X   X   X   X   X   X   X
x/c  X   X   -   X   X   X   X   X   X
y/a  X   X   X   -   .   .   .   .   .
y/b  X   X   X   .   -   .   .   .   .
y/c  X   X   X   .   .   -   .   .   .
z/a  X   X   X   .   .   .   -   .   .
z/b  X   X   X   .   .   .   .   -   .
z/c  X   X   X   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce policy to allow traffic from pods within server namespace based on PodSelector',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: x-a-allows-x-b
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          pod: b
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce policy to allow ingress traffic for a target',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all
  namespace: x
spec:
  podSelector: {}
  policyTypes:
  - Ingress
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-all-to-a
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector: {}
      namespaceSelector: {}
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   .   .   .   .   .   .
x/b  .   -   X   .   .   .   .   .   .
x/c  .   X   -   .   .   .   .   .   .
y/a  .   X   X   -   .   .   .   .   .
y/b  .   X   X   .   -   .   .   .   .
y/c  .   X   X   .   .   -   .   .   .
z/a  .   X   X   .   .   .   -   .   .
z/b  .   X   X   .   .   .   .   -   .
z/c  .   X   X   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce policy to allow ingress traffic from pods in all namespaces',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-from-another-ns
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels: {}
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-client-a-via-ns-selector
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: y
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce policy based on PodSelector with MatchExpressions',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: x-a-allows-x-b
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchExpressions:
        - key: pod
          operator: In
          values:
          - b
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce policy based on NamespaceSelector with MatchExpressions',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-ns-y-match-selector
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchExpressions:
        - key: kubernetes.io/metadata.name
          operator: In
          values:
          - y
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce policy based on PodSelector or NamespaceSelector',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-ns-y-match-selector
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchExpressions:
        - key: kubernetes.io/metadata.name
          operator: NotIn
          values:
          - x
    - podSelector:
        matchLabels:
          pod: b
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce policy based on PodSelector and NamespaceSelector',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-ns-y-podselector-and-nsselector
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchExpressions:
        - key: kubernetes.io/metadata.name
          operator: NotIn
          values:
          - x
      podSelector:
        matchLabels:
          pod: b
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce policy based on Multiple PodSelectors and NamespaceSelectors',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-ns-y-z-pod-b-c
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchExpressions:
        - key: kubernetes.io/metadata.name
          operator: NotIn
          values:
          - x
      podSelector:
        matchExpressions:
        - key: pod
          operator: In
          values:
          - b
          - c
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce policy based on any PodSelectors',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-ns-x-pod-b-c
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          pod: b
    - podSelector:
        matchLabels:
          pod: c
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-ns-y-pod-a-via-namespace-pod-selector
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: y
      podSelector:
        matchLabels:
          pod: a
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
      'UDP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
      'SCTP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce policy based on Ports',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-client-a-via-ns-selector
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: y
    ports:
    - port: 81
      protocol: TCP
`,
    probes: {
      'TCP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce policy based on Ports (UDP)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-ingress-on-port-81-ns-x
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: y
    ports:
    - port: 81
      protocol: UDP
`,
    probes: {
      'UDP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
      'TCP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce policy based on Ports (SCTP)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-ingress-on-port-81-ns-x
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: y
    ports:
    - port: 81
      protocol: SCTP
`,
    probes: {
      'SCTP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
      'TCP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce multiple, stacked policies with overlapping podSelectors',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-client-a-via-ns-selector
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: y
    ports:
    - port: 81
      protocol: TCP
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-client-a-via-ns-selector-80
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: y
    ports:
    - port: 80
      protocol: TCP
`,
    probes: {
      'TCP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should support allow-all policy',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-all
  namespace: x
spec:
  podSelector: {}
  policyTypes:
  - Ingress
  ingress:
  - {}
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
      'TCP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should allow ingress access on one named port',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-all
  namespace: x
spec:
  podSelector: {}
  policyTypes:
  - Ingress
  ingress:
  - ports:
    - port: serve-81-tcp
`,
    probes: {
      'TCP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   .   .   .   .   .   .
x/b  X   -   X   .   .   .   .   .   .
x/c  X   X   -   .   .   .   .   .   .
y/a  X   X   X   -   .   .   .   .   .
y/b  X   X   X   .   -   .   .   .   .
y/c  X   X   X   .   .   -   .   .   .
z/a  X   X   X   .   .   .   -   .   .
z/b  X   X   X   .   .   .   .   -   .
z/c  X   X   X   .   .   .   .   .   -
`,
      'UDP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   .   .   .   .   .   .
x/b  X   -   X   .   .   .   .   .   .
x/c  X   X   -   .   .   .   .   .   .
y/a  X   X   X   -   .   .   .   .   .
y/b  X   X   X   .   -   .   .   .   .
y/c  X   X   X   .   .   -   .   .   .
z/a  X   X   X   .   .   .   -   .   .
z/b  X   X   X   .   .   .   .   -   .
z/c  X   X   X   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should allow ingress access from namespace on one named port',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-client-a-via-ns-selector-80
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: y
    ports:
    - port: serve-80-tcp
      protocol: TCP
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
      'TCP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should allow egress access on one named port',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-egress
  namespace: x
spec:
  podSelector: {}
  policyTypes:
  - Egress
  egress:
  - ports:
    - port: serve-80-tcp
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
      'TCP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   X   X   X   X   X   X
x/b  X   -   X   X   X   X   X   X   X
x/c  X   X   -   X   X   X   X   X   X
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
      'UDP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   X   X   X   X   X   X
x/b  X   -   X   X   X   X   X   X   X
x/c  X   X   -   X   X   X   X   X   X
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce updated policy (ingress: [] denies, ingress: [{}] allows)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-all-mutate-to-deny-all
  namespace: x
spec:
  podSelector: {}
  policyTypes:
  - Ingress
  ingress: []
`,
    probes: {
      'TCP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   .   .   .   .   .   .
x/b  X   -   X   .   .   .   .   .   .
x/c  X   X   -   .   .   .   .   .   .
y/a  X   X   X   -   .   .   .   .   .
y/b  X   X   X   .   -   .   .   .   .
y/c  X   X   X   .   .   -   .   .   .
z/a  X   X   X   .   .   .   -   .   .
z/b  X   X   X   .   .   .   .   -   .
z/c  X   X   X   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should allow ingress access from updated namespace (before the label)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-client-a-via-ns-selector
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          ns2: updated
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should allow ingress access from updated namespace (after the label)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-client-a-via-ns-selector
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          ns2: updated
`,
    model: { nsLabels: { y: { ns2: 'updated' } } },
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should allow ingress access from updated pod (before the label)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-client-a-via-pod-selector
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          pod: b
          pod2: updated
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should allow ingress access from updated pod (after the label)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-client-a-via-pod-selector
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          pod: b
          pod2: updated
`,
    model: { podLabels: { 'x/b': { pod2: 'updated' } } },
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should deny ingress from pods on other namespaces',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-empty-policy
  namespace: x
spec:
  podSelector: {}
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels: {}
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  X   X   X   -   .   .   .   .   .
y/b  X   X   X   .   -   .   .   .   .
y/c  X   X   X   .   .   -   .   .   .
z/a  X   X   X   .   .   .   -   .   .
z/b  X   X   X   .   .   .   .   -   .
z/c  X   X   X   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should deny ingress access to updated pod (before the label)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-ingress-via-label-selector
  namespace: x
spec:
  podSelector:
    matchLabels:
      target: isolated
  policyTypes:
  - Ingress
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should deny ingress access to updated pod (after the label)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-ingress-via-label-selector
  namespace: x
spec:
  podSelector:
    matchLabels:
      target: isolated
  policyTypes:
  - Ingress
`,
    model: { podLabels: { 'x/a': { target: 'isolated' } } },
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should deny egress from pods based on PodSelector',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-egress-pod-a
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Egress
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   X   X   X   X   X   X
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should deny egress from all pods in a namespace',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-egress-ns-x
  namespace: x
spec:
  podSelector: {}
  policyTypes:
  - Egress
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   X   X   X   X   X   X
x/b  X   -   X   X   X   X   X   X   X
x/c  X   X   -   X   X   X   X   X   X
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should work with Ingress, Egress specified together',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-client-a-via-pod-selector
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Egress
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          pod: b
  egress:
  - ports:
    - port: 80
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
      'TCP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   X   X   X   X   X   X
x/b  .   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-to-ns-y-pod-a
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Egress
  egress:
  - to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: y
      podSelector:
        matchLabels:
          pod: a
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-from-xa-on-ya-match-selector
  namespace: y
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: x
      podSelector:
        matchLabels:
          pod: a
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-from-xa-on-yb-match-selector
  namespace: y
spec:
  podSelector:
    matchLabels:
      pod: b
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: x
      podSelector:
        matchLabels:
          pod: a
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   .   X   X   X   X   X
x/b  .   -   .   X   X   .   .   .   .
x/c  .   .   -   X   X   .   .   .   .
y/a  .   .   .   -   X   .   .   .   .
y/b  .   .   .   X   -   .   .   .   .
y/c  .   .   .   X   X   -   .   .   .
z/a  .   .   .   X   X   .   -   .   .
z/b  .   .   .   X   X   .   .   -   .
z/c  .   .   .   X   X   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-to-ns-y-pod-a
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Egress
  egress:
  - to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: y
      podSelector:
        matchLabels:
          pod: a
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   .   X   X   X   X   X
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce ingress policy allowing any port traffic to a server on a specific protocol',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-ingress-by-proto
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - ports:
    - protocol: TCP
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
      'UDP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce multiple ingress policies with ingress allow-all policy taking precedence (port 80 only)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-ingress-port-80
  namespace: x
spec:
  podSelector: {}
  policyTypes:
  - Ingress
  ingress:
  - ports:
    - port: 80
`,
    probes: {
      'TCP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   .   .   .   .   .   .
x/b  X   -   X   .   .   .   .   .   .
x/c  X   X   -   .   .   .   .   .   .
y/a  X   X   X   -   .   .   .   .   .
y/b  X   X   X   .   -   .   .   .   .
y/c  X   X   X   .   .   -   .   .   .
z/a  X   X   X   .   .   .   -   .   .
z/b  X   X   X   .   .   .   .   -   .
z/c  X   X   X   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce multiple ingress policies with ingress allow-all policy taking precedence (with allow-all)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-ingress-port-80
  namespace: x
spec:
  podSelector: {}
  policyTypes:
  - Ingress
  ingress:
  - ports:
    - port: 80
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-ingress
  namespace: x
spec:
  podSelector: {}
  policyTypes:
  - Ingress
  ingress:
  - {}
`,
    probes: {
      'TCP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce multiple egress policies with egress allow-all policy taking precedence (port 80 only)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-egress-port-80
  namespace: x
spec:
  podSelector: {}
  policyTypes:
  - Egress
  egress:
  - ports:
    - port: 80
`,
    probes: {
      'TCP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   X   X   X   X   X   X
x/b  X   -   X   X   X   X   X   X   X
x/c  X   X   -   X   X   X   X   X   X
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce multiple egress policies with egress allow-all policy taking precedence (with allow-all)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-egress-port-80
  namespace: x
spec:
  podSelector: {}
  policyTypes:
  - Egress
  egress:
  - ports:
    - port: 80
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-egress
  namespace: x
spec:
  podSelector: {}
  policyTypes:
  - Egress
  egress:
  - {}
`,
    probes: {
      'TCP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should stop enforcing policies after they are deleted (no policies)',
    policies: `
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should allow egress access to server in CIDR block',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-client-a-via-cidr-egress-rule
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Egress
  egress:
  - to:
    - ipBlock:
        cidr: 10.0.2.2/32
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   X   .   X   X   X   X
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce except clause while egress access to server in CIDR block',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-client-a-via-cidr-egress-rule
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Egress
  egress:
  - to:
    - ipBlock:
        cidr: 10.0.0.0/8
        except:
        - 10.0.1.2/32
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed (the /32 policy replaces the first)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-client-a-via-cidr-egress-rule
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Egress
  egress:
  - to:
    - ipBlock:
        cidr: 10.0.1.2/32
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   X   X   X   X   X   X   X
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: "an IP in one policy's except and another policy's cidr is allowed (union) (bulwark)",
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-client-a-via-cidr-egress-rule
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Egress
  egress:
  - to:
    - ipBlock:
        cidr: 10.0.0.0/8
        except:
        - 10.0.1.2/32
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-x-b
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Egress
  egress:
  - to:
    - ipBlock:
        cidr: 10.0.1.2/32
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-egress-for-target
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Egress
  egress:
  - {}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-ingress-via-label-selector
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP",
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-ingress
  namespace: x
spec:
  podSelector: {}
  policyTypes:
  - Ingress
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-only-sctp-ingress-on-port-81
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - ports:
    - port: 81
      protocol: SCTP
`,
    probes: {
      'TCP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   .   .   .   .   .   .
x/b  X   -   X   .   .   .   .   .   .
x/c  X   X   -   .   .   .   .   .   .
y/a  X   X   X   -   .   .   .   .   .
y/b  X   X   X   .   -   .   .   .   .
y/c  X   X   X   .   .   -   .   .   .
z/a  X   X   X   .   .   .   -   .   .
z/b  X   X   X   .   .   .   .   -   .
z/c  X   X   X   .   .   .   .   .   -
`,
      'SCTP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   .   .   .   .   .   .
x/b  .   -   X   .   .   .   .   .   .
x/c  .   X   -   .   .   .   .   .   .
y/a  .   X   X   -   .   .   .   .   .
y/b  .   X   X   .   -   .   .   .   .
y/c  .   X   X   .   .   -   .   .   .
z/a  .   X   X   .   .   .   -   .   .
z/b  .   X   X   .   .   .   .   -   .
z/c  .   X   X   .   .   .   .   .   -
`,
    },
  },
  {
    name: "should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't support SCTP",
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-only-sctp-ingress-on-port-80
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - ports:
    - port: 80
      protocol: SCTP
`,
    probes: {
      'TCP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
      'SCTP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should not allow access by TCP when a policy specifies only UDP',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-only-udp-ingress-on-port-81
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - ports:
    - port: 81
      protocol: UDP
`,
    probes: {
      'TCP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
      'UDP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'should enforce policy based on NamespaceSelector with MatchExpressions using default ns label (egress)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-ns-y-match-selector-for-immutable-ns-label
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Egress
  egress:
  - to:
    - namespaceSelector:
        matchExpressions:
        - key: kubernetes.io/metadata.name
          operator: NotIn
          values:
          - y
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   X   X   X   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  .   .   .   .   .   .   -   .   .
z/b  .   .   .   .   .   .   .   -   .
z/c  .   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'endPort: a port range 80-81 from namespace y (bulwark)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-range
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: y
    ports:
    - port: 80
      endPort: 81
      protocol: TCP
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
      'TCP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
      'UDP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'policyTypes defaulting: egress rules without policyTypes make the policy Ingress and Egress (bulwark)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: defaulted
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
  egress:
  - ports:
    - port: 80
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
      'TCP/81': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   X   X   X   X   X   X   X   X
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'policyTypes defaulting: a policy without rules or policyTypes isolates ingress only (bulwark)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: defaulted
  namespace: x
spec:
  podSelector:
    matchLabels:
      pod: a
`,
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  X   -   .   .   .   .   .   .   .
x/c  X   .   -   .   .   .   .   .   .
y/a  X   .   .   -   .   .   .   .   .
y/b  X   .   .   .   -   .   .   .   .
y/c  X   .   .   .   .   -   .   .   .
z/a  X   .   .   .   .   .   -   .   .
z/b  X   .   .   .   .   .   .   -   .
z/c  X   .   .   .   .   .   .   .   -
`,
    },
  },
  {
    name: 'matchExpressions Exists and DoesNotExist (bulwark)',
    policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: exists
  namespace: x
spec:
  podSelector:
    matchExpressions:
    - key: pod
      operator: Exists
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchExpressions:
        - key: ns2
          operator: DoesNotExist
      podSelector: {}
`,
    model: { nsLabels: { z: { ns2: 'other' } } },
    probes: {
      'TCP/80': `
    x/a x/b x/c y/a y/b y/c z/a z/b z/c
x/a  -   .   .   .   .   .   .   .   .
x/b  .   -   .   .   .   .   .   .   .
x/c  .   .   -   .   .   .   .   .   .
y/a  .   .   .   -   .   .   .   .   .
y/b  .   .   .   .   -   .   .   .   .
y/c  .   .   .   .   .   -   .   .   .
z/a  X   X   X   .   .   .   -   .   .
z/b  X   X   X   .   .   .   .   -   .
z/c  X   X   X   .   .   .   .   .   -
`,
    },
  },
];

/** Parses a literal table into from -> to -> expected (undefined on the diagonal). */
function parseTable(t: string): Map<string, Map<string, boolean>> {
  const lines = t.trim().split('\n');
  const cols = lines[0]!.trim().split(/\s+/);
  const m = new Map<string, Map<string, boolean>>();
  for (const line of lines.slice(1)) {
    const [from, ...cells] = line.trim().split(/\s+/);
    assert.equal(cells.length, cols.length, `table row ${from}`);
    const row = new Map<string, boolean>();
    cells.forEach((c, i) => {
      if (c !== '-') row.set(cols[i]!, c === '.');
    });
    m.set(from!, row);
  }
  return m;
}

for (const [i, c] of CASES.entries()) {
  test(`e2e model: ${c.name}`, () => {
    const dir = join(tmp, `case-${i}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'model.yaml'), modelManifests(c.model));
    writeFileSync(join(dir, 'policies.yaml'), c.policies);
    const ev = compile(loadManifests([dir]));
    const index = new Map(ev.endpoints.map((e, j) => [`${e.namespace}/${e.name}`, j]));
    assert.equal(index.size, 9);
    for (const [probe, table] of Object.entries(c.probes)) {
      const [proto, port] = probe.split('/') as [Protocol, string];
      const want = parseTable(table);
      const diff: string[] = [];
      for (const from of MODEL_PODS)
        for (const to of MODEL_PODS) {
          if (from === to) continue;
          const ok = ev.allowed(index.get(from)!, index.get(to)!, proto, Number(port));
          const exp = want.get(from)!.get(to)!;
          assert.equal(typeof exp, 'boolean', `${from} -> ${to} missing in the table`);
          if (ok !== exp) diff.push(`${from} -> ${to}: expected ${exp ? 'reachable' : 'blocked'}`);
        }
      assert.deepEqual(diff, [], `${probe}: ${diff.length} of 72 pairs differ`);
    }
  });
}
