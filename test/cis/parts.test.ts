/**
 * Parts of the benchmark engine on their own: the JSONPath subset (as kubectl prints), flag
 * lookup in argv, audit sources over a fake root (auditd rules, mounts, group members, environ,
 * bounded reads), benchmark-file validation errors, and the compliance mapping onto a framework.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  argvFlag,
  complianceOf,
  deriveContainerFacts,
  evaluateBenchmark,
  executeJsonPath,
  HostView,
  hostSource,
  loadBenchmarkFile,
  loadBuiltinBenchmark,
  parseBenchmark,
  runCheck,
  type Facts,
} from '../../src/cis/index.js';
import { getFramework } from '../../src/policy/index.js';
import { main } from '../../src/cli/main.js';

const tmp = mkdtempSync(join(tmpdir(), 'bw-cis-parts-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const put = (root: string, p: string, content: string) => {
  mkdirSync(dirname(join(root, p)), { recursive: true });
  writeFileSync(join(root, p), content);
};

test('JSONPath: fields, quoted keys, indexes, wildcards, range with literals; missing keys print nothing', () => {
  const doc = {
    a: { b: { c: false } },
    'log-level': 'info',
    n: 15000,
    list: [{ x: 1 }, { x: 2 }],
    suites: ['A', 'B'],
    m: { k: 'v' },
    'dotted.key': 'd',
  };
  assert.equal(executeJsonPath('{.a.b.c}', doc), 'false');
  assert.equal(executeJsonPath('{.log-level}', doc), 'info');
  assert.equal(executeJsonPath('{.n}', doc), '15000');
  assert.equal(executeJsonPath('{.list[1].x}', doc), '2');
  assert.equal(executeJsonPath('{.list[-1].x}', doc), '2');
  assert.equal(executeJsonPath('{.list[*].x}', doc), '1 2');
  assert.equal(executeJsonPath("{range .suites[:]}{}{','}{end}", doc), 'A,B,');
  assert.equal(executeJsonPath('{.m}', doc), '{"k":"v"}');
  assert.equal(executeJsonPath("{.['dotted.key']}", doc), 'd');
  assert.equal(executeJsonPath('{.missing.deeper}', doc), '');
  assert.equal(executeJsonPath('{.a.b.c.d}', doc), '');
  assert.throws(() => executeJsonPath('{.a', doc), /unclosed \{/);
  assert.throws(() => executeJsonPath('{range .x}{.y}', doc), /without \{end\}/);
});

test('argv flags: --name=value, --name value, bare boolean, last one wins', () => {
  const argv = ['/usr/bin/kubelet', '--config', '/etc/k.yaml', '--v=2', '--rotate', '--v=4'];
  assert.equal(argvFlag(argv, '--config'), '/etc/k.yaml');
  assert.equal(argvFlag(argv, '--v'), '4');
  assert.equal(argvFlag(argv, '--rotate'), 'true');
  assert.equal(argvFlag(argv, '--absent'), undefined);
});

test('audit sources under a root: auditd rules, mount points, group members, environ, processes', () => {
  const root = join(tmp, 'r1');
  put(root, '/etc/audit/audit.rules', '# comment -w /usr/bin/dockerd\n-w /usr/bin/runc -k docker\n');
  put(
    root,
    '/etc/audit/rules.d/docker.rules',
    '-a exit,always -F path=/run/containerd -F perm=war -k docker\n-w /usr/bin/dockerd -k docker\n',
  );
  put(root, '/proc/mounts', '/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /var/lib/docker\\040x ext4 rw 0 0\n');
  put(root, '/etc/group', 'docker:x:999:alice,bob\n');
  put(root, '/proc/7/cmdline', 'kubelet\0--v=2\0');
  put(root, '/proc/7/environ', 'A=1\0KUBELET_EXTRA=--x\0');
  put(root, '/proc/8/cmdline', '/usr/bin/hyperkube\0kubelet\0--v=3\0');
  const h = new HostView(root);
  const src = (s: string) => hostSource(h, s, new Map());
  assert.equal(src('audit-rules /usr/bin/dockerd'), '-w /usr/bin/dockerd -k docker');
  assert.equal(
    src('audit-rules /run/containerd'),
    '-a exit,always -F path=/run/containerd -F perm=war -k docker',
  );
  assert.equal(src('audit-rules /etc/docker'), '');
  assert.equal(src('mountpoint /var/lib/docker x'), 'mountpoint=/var/lib/docker x');
  assert.equal(src('mountpoint /var/lib/docker'), '');
  assert.equal(src('group-members docker'), 'members=alice,bob');
  assert.equal(src('group-members nope'), '');
  assert.equal(src('process kubelet'), 'kubelet --v=2');
  assert.equal(src('process hyperkube kubelet'), '/usr/bin/hyperkube kubelet --v=3');
  assert.equal(src('environ kubelet'), 'A=1\nKUBELET_EXTRA=--x');
  assert.throws(() => src('shell rm -rf /'), /unknown audit source "shell"/);
});

test('a config file over the read bound is an error, not a silent truncation', async () => {
  const root = join(tmp, 'r2');
  put(root, '/var/lib/kubelet/config.yaml', 'a: 1\n'.repeat(100));
  const h = new HostView(root, 64);
  assert.throws(() => h.read('/var/lib/kubelet/config.yaml'), /more than the 64 read/);
  const bench = loadBuiltinBenchmark('k8s-node', 'cis-1.9');
  const { collectFacts } = await import('../../src/cis/index.js');
  const facts = await collectFacts(bench, { root, maxFileBytes: 64 });
  assert.match(facts.host.errors!['file /var/lib/kubelet/config.yaml']!, /more than the 64 read/);
});

test('benchmark files: schema errors name the file and the check', () => {
  const bad = join(tmp, 'bad.yaml');
  writeFileSync(
    bad,
    'id: x\ntitle: X\ntarget: docker\ngroups:\n  - id: "1"\n    text: g\n    checks:\n      - id: "1.1"\n        text: t\n        tests: {test_items: [{flag: a, compare: {op: equals, value: 1}}]}\n',
  );
  assert.throws(
    () => loadBenchmarkFile(bad),
    (e: Error) => /bad\.yaml: check 1\.1: tests\.test_items\.0\.compare\.op/.test(e.message),
  );
  assert.throws(() => loadBenchmarkFile(join(tmp, 'none.yaml')), /no such benchmark file/);
  assert.throws(
    () =>
      parseBenchmark(
        {
          id: 'x',
          title: 'X',
          target: 'docker',
          groups: [
            {
              id: '1',
              text: 'g',
              checks: [
                { id: 'a', text: 't' },
                { id: 'a', text: 't' },
              ],
            },
          ],
        },
        'mem',
      ),
    /check a is defined twice/,
  );
});

test('an unparsable kubelet config fails the checks that read it, with the parse error as reason', () => {
  const bench = loadBuiltinBenchmark('k8s-node', 'cis-1.9');
  const check = bench.groups[1]!.checks.find((c) => c.id === '4.2.1')!;
  const r = runCheck(check, { audit: '/usr/bin/kubelet', auditConfig: 'a: [unclosed', auditEnv: '' });
  assert.equal(r.state, 'FAIL');
  assert.match(r.reason ?? '', /failed to load YAML or JSON/);
});

test('derived container facts: non-default capabilities, rw sensitive mounts, wildcard ports', () => {
  const d = deriveContainerFacts(
    {
      HostConfig: { CapAdd: ['cap_net_raw', 'CAP_SYS_ADMIN', 'CHOWN'], SecurityOpt: ['seccomp=unconfined'] },
      Mounts: [
        { Source: '/etc', Destination: '/x', RW: false },
        { Source: '/srv', Destination: '/usr', RW: true },
      ],
      NetworkSettings: { Ports: { '80/tcp': [{ HostIp: '', HostPort: '80' }] } },
    },
    {},
  );
  assert.equal(d.CapAddNonDefault, 'SYS_ADMIN');
  assert.equal(d.SensitiveMountsRW, '/srv:/usr');
  assert.equal(d.SeccompProfile, 'unconfined');
  assert.equal(d.PrivilegedHostPorts, '80');
  assert.equal(d.WildcardHostIPs, 'true');
});

test('--compliance: controls rated from the mapped checks (cis-docker numbering, nist-800-190)', async () => {
  const bench = loadBuiltinBenchmark('docker');
  const inspect = {
    Config: { User: 'root' },
    HostConfig: { Privileged: true, NetworkMode: 'host', ReadonlyRootfs: true },
  };
  const facts: Facts = {
    target: 'docker',
    root: '/',
    vars: {},
    host: { outputs: {} },
    containers: [
      {
        id: 'c1',
        name: 'app',
        outputs: { container: JSON.stringify({ ...inspect, Bulwark: deriveContainerFacts(inspect, {}) }) },
      },
    ],
    images: [],
  };
  const report = evaluateBenchmark(bench, facts);
  const comp = complianceOf(getFramework('cis-docker'), bench, report);
  const byId = new Map(comp.controls.map((c) => [c.id, c]));
  assert.equal(byId.get('5.4')!.status, 'fail'); // privileged (docker-bench 5.5)
  assert.deepEqual(byId.get('5.4')!.checks, [{ id: '5.5', state: 'FAIL' }]);
  assert.equal(byId.get('5.12')!.status, 'pass'); // read-only rootfs (docker-bench 5.13)
  assert.equal(byId.get('4.1')!.status, 'fail'); // user root
  assert.equal(byId.get('4.2')!.status, 'manual');
  const nist = complianceOf(getFramework('nist-800-190'), bench, report);
  assert.equal(nist.controls.find((c) => c.id === '4.4.3')!.status, 'fail');
  // the CLI refuses a framework no check maps to
  assert.equal(
    await main([
      'node',
      'bulwark',
      '-q',
      'benchmark',
      'k8s-node',
      '--root',
      tmp,
      '--compliance',
      'pci-dss-4.0',
    ]),
    2,
  );
});

test('applicable: 2.7 is INFO without a TCP socket, FAIL on tcp:// without --tlsverify, PASS with it', () => {
  const bench = loadBuiltinBenchmark('docker');
  const c27 = bench.groups.flatMap((g) => g.checks).find((c) => c.id === '2.7')!;
  const run = (audit: string, auditConfig = '') => runCheck(c27, { audit, auditConfig, auditEnv: '' }).state;
  assert.equal(run('/usr/bin/dockerd -H fd://'), 'INFO');
  assert.equal(run('/usr/bin/dockerd -H tcp://0.0.0.0:2376'), 'FAIL');
  assert.equal(run('/usr/bin/dockerd -H tcp://0.0.0.0:2376 --tlsverify'), 'PASS');
  assert.equal(
    run('/usr/bin/dockerd', '{"hosts": ["unix:///run/docker.sock", "tcp://10.0.0.1:2376"]}'),
    'FAIL',
  );
  assert.equal(run('/usr/bin/dockerd', '{"hosts": ["tcp://10.0.0.1:2376"], "tlsverify": true}'), 'PASS');
  assert.equal(run('/usr/bin/dockerd', '{"hosts": ["unix:///run/docker.sock"]}'), 'INFO');
});

test('reports never carry secrets: actual values redacted, no inspect documents for containers', async () => {
  const { redactActual } = await import('../../src/cis/evaluator.js');
  assert.equal(
    redactActual('/usr/bin/kubelet --bootstrap-token=abc.def --v=2 --password hunter2'),
    '/usr/bin/kubelet --bootstrap-token=*** --v=2 --password ***',
  );
  assert.equal(
    redactActual('{"registry-password": "s3cr3t", "debug": true}'),
    '{"registry-password": ***, "debug": true}',
  );
  const bench = loadBuiltinBenchmark('docker');
  const inspect = {
    Config: { User: '', Env: ['DB_PASSWORD=s3cr3t-value'] },
    HostConfig: { Privileged: false },
  };
  const facts: Facts = {
    target: 'docker',
    root: '/',
    vars: {},
    host: { outputs: {} },
    containers: [
      {
        id: 'c1',
        name: 'db',
        outputs: { container: JSON.stringify({ ...inspect, Bulwark: deriveContainerFacts(inspect, {}) }) },
      },
    ],
    images: [],
  };
  const json = JSON.stringify(evaluateBenchmark(bench, facts));
  assert.ok(!json.includes('s3cr3t'), 'the container environment leaked into the report');
});
