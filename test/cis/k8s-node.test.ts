/**
 * CIS Kubernetes worker node (kube-bench cfg/cis-1.9 converted to policies/cis/k8s-node):
 * - the shipped files are what the converter makes of the kube-bench corpus today;
 * - a good node (fake root: kubelet and kube-proxy in <root>/proc, kubelet config, kubeconfigs, CA,
 *   service file with their modes and owners) passes every check; for every check with tests, a
 *   mutation of that node (a mode, an owner, a config key, a flag) makes exactly that check fail;
 * - trivy-checks' node-facts cases (derived/rego_test_cases.jsonl, NodeInfo inputs of the KCV
 *   kubelet checks) give the same verdict, apart from a listed set where the two tools' semantics
 *   differ on purpose (each with the reason).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  benchmarkVersions,
  collectFacts,
  convertVersion,
  evaluateBenchmark,
  loadBuiltinBenchmark,
  runCheck,
  substitute,
  type BenchCheck,
  type CheckResult,
} from '../../src/cis/index.js';
import { CORPORA } from '../helpers/shared.js';
import {
  CA,
  CONFIG,
  KUBECONFIG,
  PROXYCONF,
  SVC,
  goodSpec,
  writeRoot as writeRootAt,
  type NodeSpec,
} from './node-roots.js';

const tmp = mkdtempSync(join(tmpdir(), 'bw-cis-node-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('the shipped node benchmarks are the conversion of kube-bench cfg/<version>/node.yaml', () => {
  const versions = benchmarkVersions('k8s-node');
  assert.ok(versions.includes('cis-1.9'));
  for (const v of versions) {
    const shipped = readFileSync(new URL(`../../policies/cis/k8s-node/${v}.yaml`, import.meta.url), 'utf8');
    assert.equal(
      shipped,
      convertVersion(join(CORPORA, 'kube-bench'), v),
      `${v} is stale: regenerate with src/cis/kube-bench.ts`,
    );
    loadBuiltinBenchmark('k8s-node', v); // validates against the schema
  }
});

// ------------------------------------------------------------------ fake-root node

type Json = Record<string, unknown>;
let rootN = 0;
/** Writes the node under a fresh root (node-roots.ts). */
const writeRoot = (spec: NodeSpec): string => writeRootAt(join(tmp, `root${rootN++}`), spec);
const goodNode = goodSpec;

async function evaluateNode(spec: NodeSpec, version = 'cis-1.9'): Promise<Map<string, CheckResult>> {
  const bench = loadBuiltinBenchmark('k8s-node', version);
  const facts = await collectFacts(bench, { root: writeRoot(spec) });
  const r = evaluateBenchmark(bench, facts);
  return new Map(r.groups.flatMap((g) => g.checks).map((c) => [c.id, c]));
}

type Mutation = (n: NodeSpec) => void;
const cfg = (n: NodeSpec) => n.config as Record<string, Record<string, unknown>>;

/** One mutation per check of cis-1.9 that has tests: it must make that check (and only it) fail. */
const MUTATIONS: Record<string, Mutation> = {
  '4.1.1': (n) => (n.files[SVC]!.mode = 0o644),
  '4.1.2': (n) => ((n.files[SVC]!.uid = 1000), (n.files[SVC]!.gid = 1000)),
  '4.1.3': (n) => (n.files[PROXYCONF]!.mode = 0o640),
  '4.1.4': (n) => (n.files[PROXYCONF]!.uid = 1000),
  '4.1.5': (n) => (n.files[KUBECONFIG]!.mode = 0o660),
  '4.1.6': (n) => (n.files[KUBECONFIG]!.gid = 1000),
  '4.1.7': (n) => (n.files[CA]!.mode = 0o644),
  '4.1.8': (n) => (n.files[CA]!.uid = 1000),
  '4.1.9': (n) => (n.files[CONFIG]!.mode = 0o644),
  '4.1.10': (n) => (n.files[CONFIG]!.uid = 1000),
  '4.2.1': (n) => (cfg(n).authentication!.anonymous = { enabled: true }),
  '4.2.2': (n) => (cfg(n).authorization!.mode = 'AlwaysAllow'),
  '4.2.3': (n) => delete cfg(n).authentication!.x509,
  '4.2.4': (n) => (n.config.readOnlyPort = 10255),
  '4.2.5': (n) => (n.config.streamingConnectionIdleTimeout = 0),
  '4.2.6': (n) => (n.config.makeIPTablesUtilChains = false),
  '4.2.7': (n) => n.kubeletArgv.push('--hostname-override=node-a'),
  '4.2.8': (n) => (n.config.eventRecordQPS = -1),
  '4.2.9': (n) => delete n.config.tlsPrivateKeyFile,
  '4.2.10': (n) => (n.config.rotateCertificates = false),
  '4.2.11': (n) => (n.config.featureGates = { RotateKubeletServerCertificate: false }),
  '4.2.12': (n) =>
    (n.config.tlsCipherSuites = ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'TLS_RSA_WITH_RC4_128_SHA']),
  '4.2.13': (n) => delete n.config.podPidsLimit,
  '4.3.1': (n) => (n.proxyArgv[2] = '--metrics-bind-address=0.0.0.0:10249'),
};

/** Flags on the kubelet's command line take precedence over its config file, as in kube-bench. */
const FLAG_MUTATIONS: Record<string, Mutation> = {
  '4.2.1': (n) => n.kubeletArgv.push('--anonymous-auth=true'),
  '4.2.2': (n) => n.kubeletArgv.push('--authorization-mode=AlwaysAllow'),
  '4.2.4': (n) => n.kubeletArgv.push('--read-only-port=10255'),
  '4.2.6': (n) => n.kubeletArgv.push('--make-iptables-util-chains=false'),
  '4.2.10': (n) => n.kubeletArgv.push('--rotate-certificates=false'),
  '4.3.1': (n) => (n.proxyArgv[2] = '--metrics-bind-address=10.0.0.1:10249'),
};

test('cis-1.9: the good node passes every check with tests; manual checks aside', async () => {
  const results = await evaluateNode(goodNode());
  const bench = loadBuiltinBenchmark('k8s-node', 'cis-1.9');
  const withTests = bench.groups.flatMap((g) => g.checks).filter((c) => c.tests && !c.type);
  assert.deepEqual(
    withTests
      .map((c) => [c.id, results.get(c.id)!.state, results.get(c.id)!.reason ?? ''])
      .filter((r) => r[1] !== 'PASS'),
    [],
  );
  // every check with tests has a mutation (the table covers all automated and manual-with-tests checks)
  assert.deepEqual(
    withTests.map((c) => c.id).filter((id) => !MUTATIONS[id]),
    [],
  );
  assert.ok(withTests.filter((c) => c.scored).length >= 12);
});

for (const [table, muts] of [
  ['config/file', MUTATIONS],
  ['command-line flag', FLAG_MUTATIONS],
] as const)
  test(`cis-1.9: each ${table} mutation fails exactly its check (FAIL when scored, else WARN)`, async () => {
    const good = await evaluateNode(goodNode());
    const wrong: string[] = [];
    for (const [id, mutate] of Object.entries(muts)) {
      const n = goodNode();
      mutate(n);
      const r = await evaluateNode(n);
      const target = r.get(id)!;
      const want = target.scored ? 'FAIL' : 'WARN';
      if (target.state !== want)
        wrong.push(`${id}: ${target.state}, want ${want} (${target.expected ?? target.reason})`);
      const others = [...r.values()]
        .filter((c) => c.id !== id && c.state !== good.get(c.id)!.state)
        .map((c) => c.id);
      if (others.length) wrong.push(`${id}: also changed ${others.join(', ')}`);
    }
    assert.deepEqual(wrong, []);
  });

test('cis-1.9: a missing file is not applicable (INFO), and a kubelet not running fails its flag checks', async () => {
  const n = goodNode();
  delete n.files[PROXYCONF];
  const r = await evaluateNode(n);
  assert.equal(r.get('4.1.3')!.state, 'INFO');
  assert.equal(r.get('4.1.4')!.state, 'INFO');
  const empty = join(tmp, 'empty');
  mkdirSync(empty);
  const bench = loadBuiltinBenchmark('k8s-node', 'cis-1.9');
  const rep = evaluateBenchmark(bench, await collectFacts(bench, { root: empty }));
  const byId = new Map(rep.groups.flatMap((g) => g.checks).map((c) => [c.id, c]));
  assert.equal(byId.get('4.2.1')!.state, 'FAIL');
  assert.equal(byId.get('4.1.1')!.state, 'INFO');
});

// ------------------------------------------------------------------ trivy-checks node facts

type TrivyCase = {
  file: string;
  check_id: string;
  test: string;
  input: { info: Record<string, { values: unknown[] }> };
  expect_fail: boolean;
};

/** trivy's NodeInfo fact → the cis-1.9 (or 1.24) check, and how the fact reads on a node. */
const FACTS: Record<
  string,
  {
    check: string;
    version?: string;
    config?: (v: unknown) => Json;
    flag?: string;
    stat?: 'permissions' | 'owner';
  }
> = {
  kubeletAnonymousAuthArgumentSet: {
    check: '4.2.1',
    config: (v) => ({ authentication: { anonymous: { enabled: v === 'true' } } }),
  },
  kubeletAuthorizationModeArgumentSet: { check: '4.2.2', config: (v) => ({ authorization: { mode: v } }) },
  kubeletClientCaFileArgumentSet: {
    check: '4.2.3',
    config: (v) => ({ authentication: { x509: { clientCAFile: v } } }),
  },
  kubeletReadOnlyPortArgumentSet: { check: '4.2.4', config: (v) => ({ readOnlyPort: v }) },
  kubeletStreamingConnectionIdleTimeoutArgumentSet: {
    check: '4.2.5',
    config: (v) => ({ streamingConnectionIdleTimeout: v }),
  },
  kubeletMakeIptablesUtilChainsArgumentSet: {
    check: '4.2.6',
    config: (v) => ({ makeIPTablesUtilChains: v === 'true' }),
  },
  kubeletHostnameOverrideArgumentSet: { check: '4.2.7', flag: '--hostname-override' },
  kubeletEventQpsArgumentSet: { check: '4.2.8', config: (v) => ({ eventRecordQPS: v }) },
  kubeletTlsCertFileTlsArgumentSet: {
    check: '4.2.9',
    config: (v) => ({ tlsCertFile: v, tlsPrivateKeyFile: '/var/lib/kubelet/pki/kubelet.key' }),
  },
  kubeletTlsPrivateKeyFileArgumentSet: {
    check: '4.2.9',
    config: (v) => ({ tlsPrivateKeyFile: v, tlsCertFile: '/var/lib/kubelet/pki/kubelet.crt' }),
  },
  kubeletRotateCertificatesArgumentSet: {
    check: '4.2.10',
    config: (v) => ({ rotateCertificates: v === 'true' }),
  },
  kubeletRotateKubeletServerCertificateArgumentSet: {
    check: '4.2.11',
    config: (v) => ({ featureGates: { RotateKubeletServerCertificate: v === 'true' } }),
  },
  kubeletOnlyUseStrongCryptographic: { check: '4.2.12' },
  kubeletProtectKernelDefaultsArgumentSet: {
    check: '4.2.6',
    version: 'cis-1.24',
    config: (v) => ({ protectKernelDefaults: v === 'true' }),
  },
  kubeletServiceFilePermissions: { check: '4.1.1', stat: 'permissions' },
  kubeletServiceFileOwnership: { check: '4.1.2', stat: 'owner' },
  kubeconfigFileExistsPermissions: { check: '4.1.3', stat: 'permissions' },
  kubeconfigFileExistsOwnership: { check: '4.1.4', stat: 'owner' },
  kubeletConfFilePermissions: { check: '4.1.5', stat: 'permissions' },
  kubeletConfFileOwnership: { check: '4.1.6', stat: 'owner' },
  certificateAuthoritiesFilePermissions: { check: '4.1.7', stat: 'permissions' },
  certificateAuthoritiesFileOwnership: { check: '4.1.8', stat: 'owner' },
  kubeletConfigYamlConfigurationFilePermission: { check: '4.1.9', stat: 'permissions' },
  kubeletConfigYamlConfigurationFileOwnership: { check: '4.1.10', stat: 'owner' },
};

/**
 * Where Bulwark (kube-bench's semantics) and trivy disagree, and why. Trivy has no
 * not-applicable state: its pass on a missing file is Bulwark's INFO, which counts as agreement.
 */
const DIFFERENT: Record<string, string> = {
  'KCV-0079 test_validate_kubelet_anonymous_auth_not_set':
    "unset, the kubelet's --anonymous-auth defaults to true: CIS 4.2.1 (and kube-bench) require false to be set",
  'KCV-0090 test_validate_rotate_certificates_empty':
    'CIS 4.2.10 is "not set to false": kube-bench passes an unset value',
  'KCV-0091 test_validate_rotate_kubelet_server_certificate_empty':
    'the RotateKubeletServerCertificate gate defaults to true: kube-bench 4.2.11 passes it unset',
  'KCV-0088 test_validate_tls_cert_file_fake':
    'trivy wants a .crt name; CIS 4.2.9 requires the file to be set, not its extension',
  'KCV-0089 test_validate_tls_key_file_fake':
    'trivy wants a .key name; CIS 4.2.9 requires the file to be set, not its extension',
  'KCV-0069 test_validate_service_file_permission_lower_600':
    '500 grants execute, which 600 does not: not "600 or more restrictive" as a bitmask (kube-bench)',
  'KCV-0071 test_validate_kube_config_permission_lower_600':
    '500 is not a subset of 600 (bitmask, kube-bench)',
  'KCV-0073 test_validate_kublet_config_permission_lower_600':
    '500 is not a subset of 600 (bitmask, kube-bench)',
  'KCV-0075 test_validate_certificate_authorities_permission_lower_600':
    '500 is not a subset of 600 (bitmask, kube-bench)',
  'KCV-0077 test_validate_kublet_config_yaml_permission_lower_600':
    '500 is not a subset of 600 (bitmask, kube-bench)',
};

test('trivy-checks node-facts cases (KCV kubelet checks) agree, apart from the listed semantic differences', () => {
  const cases = readFileSync(join(CORPORA, 'trivy-checks', 'derived', 'rego_test_cases.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TrivyCase)
    .filter((c) => c.file.startsWith('checks/kubernetes/kubelet_'));
  assert.equal(cases.length, 71);
  const vars = {
    kubeletbin: 'kubelet',
    proxybin: 'kube-proxy',
    kubeletconf: CONFIG,
    kubeletsvc: SVC,
    kubeletkubeconfig: KUBECONFIG,
    kubeletcafile: CA,
    proxykubeconfig: PROXYCONF,
  };
  const benches = new Map<string, Map<string, BenchCheck>>();
  const checkOf = (version: string, id: string) => {
    if (!benches.has(version))
      benches.set(
        version,
        new Map(
          loadBuiltinBenchmark('k8s-node', version)
            .groups.flatMap((g) => g.checks)
            .map((c) => [c.id, c]),
        ),
      );
    return benches.get(version)!.get(id)!;
  };
  const disagree: string[] = [];
  let agreed = 0;
  for (const c of cases) {
    const [key, fact] = Object.entries(c.input.info)[0]!;
    const map = FACTS[key];
    assert.ok(map, `no mapping for trivy fact ${key}`);
    const check = checkOf(map.version ?? 'cis-1.9', map.check);
    const values = fact.values;
    const outputs: Record<string, string> = {};
    const audit = check.audit ? substitute(check.audit, vars) : '';
    const auditConfig = check.audit_config ? substitute(check.audit_config, vars) : '';
    outputs[audit] = '/usr/bin/kubelet --config=' + CONFIG;
    if (map.stat) {
      const v = values[0];
      outputs[audit] =
        v === undefined
          ? audit.includes(' or ')
            ? audit.split(' or ')[1]!
            : ''
          : map.stat === 'permissions'
            ? `permissions=${String(v)}`
            : String(v);
    } else if (map.flag) {
      if (values.length) outputs[audit] += ` ${map.flag}=${String(values[0])}`;
    } else if (key === 'kubeletOnlyUseStrongCryptographic') {
      outputs[auditConfig] = JSON.stringify(values.length ? { tlsCipherSuites: values } : {});
    } else {
      outputs[auditConfig] = JSON.stringify(values.length ? map.config!(values[0]) : {});
    }
    const r = runCheck(check, {
      audit: outputs[audit] ?? '',
      auditConfig: outputs[auditConfig] ?? '',
      auditEnv: '',
    });
    const bulwarkFails = r.state === 'FAIL' || r.state === 'WARN';
    const name = `${c.check_id} ${c.test}`;
    if (bulwarkFails === c.expect_fail) agreed++;
    else disagree.push(name);
  }
  assert.deepEqual(
    disagree.sort(),
    Object.keys(DIFFERENT).sort(),
    'disagreements other than the listed ones',
  );
  assert.equal(agreed, cases.length - Object.keys(DIFFERENT).length);
});
