/**
 * Behaviour profiles without a kernel: the syscall name table against the kernel's own header,
 * YAML writing (stable order), loading and validation (file:line:column), merging, the seccomp
 * export, workload identity, and the engine's learn/deviate logic on hand-built event streams.
 * The live evidence (real runc containers, the real sensor, the execguard helper) is in
 * test/runtime/sensor-profile.test.ts.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SyscallEvent } from '../../src/runtime/event.js';
import { PPM_O_CREAT, PPM_O_RDONLY, PPM_O_WRONLY } from '../../src/runtime/flags.js';
import {
  dirAllowed,
  emptyProfile,
  endpointAllowed,
  findProfile,
  loadProfileDir,
  mergeProfiles,
  parseProfile,
  podController,
  ProfileEngine,
  ProfileError,
  profileFileName,
  profileToYaml,
  resolveInRoot,
  syscallNames,
  toSeccomp,
  workloadId,
  workloadOf,
  writeProfile,
  X86_64_SYSCALLS,
  type DeviationRecord,
  type Profile,
} from '../../src/runtime/profile/index.js';
import { StateTracker } from '../../src/runtime/state/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'bulwark-profile-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const DIGEST = 'sha256:' + 'ab'.repeat(32);
function sample(): Profile {
  const p = emptyProfile(
    { container: 'web', image: 'reg.example/app:1.4', imageDigest: DIGEST },
    new Date(0),
  );
  p.executables.push(
    { path: '/usr/bin/python3.11', parents: ['/usr/bin/dash'], uids: [1000, 0] },
    {
      path: '/usr/bin/dash',
      aliases: ['/bin/sh'],
      sha256: 'cd'.repeat(32),
      parents: ['/usr/sbin/runc'],
      uids: [0],
    },
  );
  p.filesWritten.push('/tmp', '/var/log/app/**', '/tmp');
  p.outbound.push('tcp/10.0.0.5:5432', 'udp/[fd00::1]:53');
  p.listening.push('tcp/0.0.0.0:8080');
  p.syscalls.push('write', 'read', 'execve');
  return p;
}

describe('syscall name table', () => {
  const header = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';
  it('equals the kernel header asm/unistd_64.h, entry for entry', { skip: !existsSync(header) }, () => {
    const real: Record<number, string> = {};
    for (const m of readFileSync(header, 'utf8').matchAll(/#define __NR_(\w+) (\d+)/g))
      real[Number(m[2])] = m[1]!;
    assert.ok(Object.keys(real).length > 300);
    assert.deepEqual(X86_64_SYSCALLS, real);
  });
  it('names numbers, keeping unknown ones as numbers', () => {
    assert.deepEqual(syscallNames([59, 0, 1, 0, 511]), ['511', 'execve', 'read', 'write']);
  });
});

describe('profile YAML', () => {
  it('writes keys in a fixed order and every list sorted and deduplicated', () => {
    const y = profileToYaml(sample());
    const keys = [...y.matchAll(/^([a-zA-Z]+):/gm)].map((m) => m[1]);
    assert.deepEqual(keys, [
      'apiVersion',
      'kind',
      'workload',
      'mode',
      'zeroDrift',
      'executables',
      'files',
      'network',
      'syscalls',
      'learned',
    ]);
    assert.ok(y.indexOf('path: /usr/bin/dash') < y.indexOf('path: /usr/bin/python3.11'));
    assert.equal(y.match(/- \/tmp$/gm)?.length, 1);
    assert.match(y, /uids:\n\s+- 0\n\s+- 1000/);
    assert.match(y, /syscalls:\n\s+- execve\n\s+- read\n\s+- write/);
  });

  it('reads back what it wrote, and writing again gives the same bytes', () => {
    const y = profileToYaml(sample());
    const p = parseProfile(y, 'web.yaml');
    assert.equal(p.workload.imageDigest, DIGEST);
    assert.deepEqual(p.filesWritten, ['/tmp', '/var/log/app/**']);
    assert.equal(p.executables.find((e) => e.path === '/usr/bin/dash')?.sha256, 'cd'.repeat(32));
    assert.deepEqual(p.executables.find((e) => e.path === '/usr/bin/dash')?.aliases, ['/bin/sh']);
    assert.match(y, /- path: \/usr\/bin\/dash\n\s+aliases:\n\s+- \/bin\/sh\n\s+sha256: c/);
    assert.equal(profileToYaml(p), y);
  });

  it('accepts a hand-written profile (flow style, comments, no learned section)', () => {
    const p = parseProfile(
      [
        'apiVersion: bulwark.dev/v1alpha1',
        'kind: RuntimeProfile',
        'workload: {namespace: prod, controller: deployment/web, container: nginx}',
        'mode: protect   # reviewed',
        'zeroDrift: true',
        'executables:',
        '  - {path: /usr/sbin/nginx, parents: ["*"], uids: [101]}',
        'network: {listening: [tcp/0.0.0.0:80], outbound: ["tcp/*:443"]}',
        '',
      ].join('\n'),
      'nginx.yaml',
    );
    assert.equal(p.mode, 'protect');
    assert.equal(p.zeroDrift, true);
    assert.equal(workloadId(p.workload), 'k8s:prod/deployment/web:nginx');
    assert.deepEqual(p.executables, [{ path: '/usr/sbin/nginx', parents: ['*'], uids: [101] }]);
    assert.deepEqual(p.filesWritten, []);
  });

  it('reports every problem with file, line and column', () => {
    const text = [
      'apiVersion: bulwark.dev/v1alpha1', // 1
      'kind: RuntimeProfile', // 2
      'workload:', // 3
      '  container: web', // 4
      '  imageDigest: sha256:nothex', // 5
      'mode: enforce', // 6
      'executable:', // 7
      '  - path: /bin/sh', // 8
      'executables:', // 9
      '  - path: bin/ls', // 10
      '    uids: [root]', // 11
      '    sha256: xyz', // 12
      'network:', // 13
      '  outbound: [tcp/10.0.0.1:99999, "http://x"]', // 14
      'syscalls: [read, "Bad Name"]', // 15
      'zeroDrift: yes', // 16
      '',
    ].join('\n');
    let err: unknown;
    try {
      parseProfile(text, 'p/web.yaml');
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof ProfileError, String(err));
    const got = err.issues.map((i) => `${i.line}:${i.column} ${i.message.split(':')[0]}`);
    assert.deepEqual(got, [
      '5:16 workload.imageDigest',
      '6:7 mode',
      '7:1 unknown key "executable" in the profile (expected one of',
      '10:11 executables[].path',
      '11:12 executables[].uids',
      '12:13 executables[].sha256',
      '14:14 network.outbound',
      '14:34 network.outbound',
      '15:18 syscalls',
      '16:12 zeroDrift',
    ]);
    assert.ok(err.message.startsWith('p/web.yaml:5:16: '), err.message);
  });

  it('reports YAML syntax errors and a missing workload', () => {
    assert.throws(
      () => parseProfile('mode: [discover\n', 'a.yaml'),
      (e: unknown) => {
        assert.ok(e instanceof ProfileError);
        assert.equal(e.issues[0]!.file, 'a.yaml');
        return true;
      },
    );
    assert.throws(
      () => parseProfile('apiVersion: bulwark.dev/v1alpha1\nkind: RuntimeProfile\nmode: monitor\n', 'b.yaml'),
      /b\.yaml:1:1: workload: expected a mapping/,
    );
    assert.throws(() => parseProfile('- a\n', 'c.yaml'), /c\.yaml:1:1: a profile is a mapping/);
  });

  it('merges learned behaviour into a reviewed profile, keeping its mode and zero-drift', () => {
    const base = sample();
    base.mode = 'protect';
    base.zeroDrift = true;
    const learned = emptyProfile(base.workload, new Date(1000));
    learned.executables.push(
      { path: '/usr/bin/dash', parents: ['/usr/bin/python3.11'], uids: [1000] },
      { path: '/usr/bin/ls', sha256: 'ef'.repeat(32), parents: [], uids: [0] },
    );
    learned.syscalls.push('openat', 'read');
    learned.outbound.push('tcp/10.0.0.5:5432');
    const m = mergeProfiles(base, learned);
    assert.equal(m.mode, 'protect');
    assert.equal(m.zeroDrift, true);
    assert.deepEqual(
      m.executables.map((e) => [e.path, e.parents, e.uids, e.sha256?.slice(0, 2)]),
      [
        ['/usr/bin/dash', ['/usr/bin/python3.11', '/usr/sbin/runc'], [0, 1000], 'cd'],
        ['/usr/bin/ls', [], [0], 'ef'],
        ['/usr/bin/python3.11', ['/usr/bin/dash'], [0, 1000], undefined],
      ],
    );
    assert.deepEqual(m.syscalls, ['execve', 'openat', 'read', 'write']);
    assert.deepEqual(m.outbound, ['tcp/10.0.0.5:5432', 'udp/[fd00::1]:53']);
    assert.equal(m.learnedSince, new Date(0).toISOString());
  });
});

describe('seccomp export', () => {
  it('allows exactly the learned syscalls (plus what runc needs after installing the filter), EPERM otherwise', () => {
    const p = sample();
    p.syscalls.push('462', 'getpid');
    const { profile, skipped } = toSeccomp(p);
    assert.equal(profile.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(profile.defaultErrnoRet, 1);
    assert.deepEqual(profile.architectures, ['SCMP_ARCH_X86_64']);
    assert.deepEqual(profile.syscalls, [
      {
        names: ['execve', 'exit', 'exit_group', 'futex', 'getpid', 'read', 'rt_sigreturn', 'write'],
        action: 'SCMP_ACT_ALLOW',
      },
    ]);
    assert.deepEqual(skipped, ['462']);
    assert.deepEqual(toSeccomp(p, { baseline: false }).profile.syscalls[0]!.names, [
      'execve',
      'getpid',
      'read',
      'write',
    ]);
  });
});

describe('workload identity', () => {
  it('names pod controllers as Kubernetes names their pods', () => {
    assert.equal(
      podController('web-7d9f8b6c4-x2x9q', { 'pod-template-hash': '7d9f8b6c4' }),
      'deployment/web',
    );
    assert.equal(
      podController('db-2', {
        'statefulset.kubernetes.io/pod-name': 'db-2',
        'controller-revision-hash': 'db-5',
      }),
      'statefulset/db',
    );
    assert.equal(
      podController('agent-k7f2p', { 'controller-revision-hash': '6c9', 'pod-template-generation': '1' }),
      'daemonset/agent',
    );
    assert.equal(podController('migrate-abcde', { 'job-name': 'migrate' }), 'job/migrate');
    assert.equal(podController('debug'), 'pod/debug');
  });
  it('uses image digest + container name outside Kubernetes, and no workload without a name', () => {
    const w = workloadOf({ id: 'abc', name: 'web', image: 'reg/app:1', imageDigest: DIGEST });
    assert.deepEqual(w, { container: 'web', image: 'reg/app:1', imageDigest: DIGEST });
    assert.equal(workloadId(w!), `image:${DIGEST}:web`);
    assert.equal(profileFileName(w!), `image_sha256_${'ab'.repeat(32)}_web.yaml`);
    assert.equal(workloadOf({ id: 'abc' }), undefined);
    const k = workloadOf({
      id: 'x',
      name: 'app',
      k8s: { namespace: 'prod', podName: 'web-5f-abcde', labels: { 'pod-template-hash': '5f' } },
    });
    assert.equal(workloadId(k!), 'k8s:prod/deployment/web:app');
  });
});

describe('profile directory', () => {
  it('loads every file, reports problems of all files together, finds a profile by name', () => {
    const dir = join(tmp, 'dir');
    const p = sample();
    const path = writeProfile(dir, p);
    assert.equal(path, join(dir, profileFileName(p.workload)));
    const other = emptyProfile({ container: 'db', image: 'postgres:16' });
    writeProfile(dir, other);
    const loaded = loadProfileDir(dir);
    assert.equal(loaded.profiles.size, 2);
    const f = findProfile(loaded, 'web');
    assert.ok('p' in f && f.file === path);
    const f2 = findProfile(loaded, profileFileName(other.workload).replace('.yaml', ''));
    assert.ok('p' in f2 && f2.p.workload.container === 'db');
    assert.ok('error' in findProfile(loaded, 'nope'));
    writeFileSync(join(dir, 'bad1.yaml'), 'apiVersion: x\n');
    writeFileSync(join(dir, 'bad2.yml'), profileToYaml(p)); // the same workload twice
    assert.throws(
      () => loadProfileDir(dir),
      (e: unknown) => {
        assert.ok(e instanceof ProfileError);
        const files = e.issues.map((i) => i.file.replace(/^.*\//, ''));
        assert.ok(files.includes('bad1.yaml'), files.join(','));
        // files load in name order: the later of the two files of one workload is the one refused
        assert.match(
          e.message,
          /_web\.yaml:1:1: workload image:sha256:(ab)+:web already has a profile in .*bad2\.yml/,
        );
        return true;
      },
    );
    assert.equal(loadProfileDir(join(tmp, 'missing')).profiles.size, 0);
  });
});

describe('matching helpers', () => {
  it('endpoints with wildcards, directories with subtrees', () => {
    assert.ok(endpointAllowed(['tcp/*:443'], 'tcp/1.2.3.4:443'));
    assert.ok(!endpointAllowed(['tcp/*:443'], 'udp/1.2.3.4:443'));
    assert.ok(endpointAllowed(['tcp/[::1]:*'], 'tcp/[::1]:8080'));
    assert.ok(!endpointAllowed(['tcp/10.0.0.1:80'], 'tcp/10.0.0.2:80'));
    assert.ok(dirAllowed(['/var/log/**'], '/var/log/app/x'));
    assert.ok(dirAllowed(['/var/log/**'], '/var/log'));
    assert.ok(!dirAllowed(['/var/log/**'], '/var/logs'));
    assert.ok(!dirAllowed(['/tmp'], '/tmp/sub'));
  });
  it('resolves symlinks inside a root, absolute targets included', () => {
    const root = join(tmp, 'root');
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    mkdirSync(join(root, 'etc/alternatives'), { recursive: true });
    writeFileSync(join(root, 'usr/bin/mawk'), '');
    writeFileSync(join(root, 'usr/bin/dash'), '');
    symlinkSync('usr/bin', join(root, 'bin'));
    symlinkSync('dash', join(root, 'usr/bin/sh'));
    symlinkSync('/usr/bin/mawk', join(root, 'etc/alternatives/awk'));
    symlinkSync('/etc/alternatives/awk', join(root, 'usr/bin/awk'));
    assert.equal(resolveInRoot(root, '/bin/sh'), '/usr/bin/dash');
    assert.equal(resolveInRoot(root, '/bin/awk'), '/usr/bin/mawk');
    assert.equal(resolveInRoot(root, '/bin/../bin/./sh'), '/usr/bin/dash');
    assert.equal(resolveInRoot(root, '/bin/nothere'), undefined);
  });
});

describe('profile engine on an event stream', () => {
  // a container the resolver knows by its cgroup; events as the sensor decodes them
  const CID = 'c0ffee000001';
  const info = { id: CID, name: 'web', image: 'reg/app:1', imageDigest: DIGEST };
  let num = 1;
  const ev = (tid: number, type: string, dir: '<' | '>', params: SyscallEvent['params']): SyscallEvent => ({
    num: num++,
    ts: BigInt(num) * 1000n,
    tid,
    cpu: 0,
    type,
    dir,
    params,
  });
  function run(engine: ProfileEngine, events: SyscallEvent[]): StateTracker {
    const state = new StateTracker({
      resolver: { resolve: (h) => (h.cgroups?.some((c) => c.includes(CID)) ? info : undefined) },
    });
    for (const e of events) {
      state.process(e);
      engine.onEvent(e, state);
    }
    return state;
  }
  const cg = [`cgroup2=/${CID}`];
  const exec = (pid: number, path: string, ppid = 1) =>
    ev(pid, 'execve', '<', {
      res: 0,
      exe: path,
      args: [],
      tid: pid,
      pid,
      ptid: ppid,
      cwd: '/',
      comm: path.replace(/.*\//, ''),
      uid: 0,
      gid: 0,
      cgroups: cg,
      trusted_exepath: path,
      flags: 0,
    });
  const open = (pid: number, name: string, flags: number, fd = 3) =>
    ev(pid, 'openat', '<', { fd, dirfd: -100, name, flags, mode: 0 });
  const connect = (pid: number, ip: string, port: number) =>
    ev(pid, 'connect', '<', {
      res: 0,
      fd: 4,
      tuple: { family: 'inet', sip: '10.1.1.1', sport: 40000, dip: ip, dport: port },
      addr: { family: 'inet', ip, port },
    });
  const workload = [
    exec(4194500, '/usr/bin/app'),
    open(4194500, '/var/log/app.log', PPM_O_WRONLY | PPM_O_CREAT),
    open(4194500, '/etc/passwd', PPM_O_RDONLY, 5),
    connect(4194500, '10.0.0.5', 5432),
  ];

  it('learns executables, written directories and endpoints in discover, then reports only what is new in monitor', () => {
    const learned: string[] = [];
    const d = new ProfileEngine({ hash: false, onLearn: (_p, id) => learned.push(id) });
    run(d, workload);
    const id = `image:${DIGEST}:web`;
    const p = d.profiles.get(id);
    assert.ok(p, [...d.profiles.keys()].join(','));
    assert.deepEqual(
      p.executables.map((e) => [e.path, e.uids]),
      [['/usr/bin/app', [0]]],
    );
    assert.deepEqual(p.filesWritten, ['/var/log']);
    assert.deepEqual(p.outbound, ['tcp/10.0.0.5:5432']);
    assert.ok(learned.length >= 3);
    d.onSyscalls(CID, [0, 1, 59]);
    assert.deepEqual(p.syscalls, ['execve', 'read', 'write']);

    // the stored profile, now in monitor: the same behaviour is quiet, new behaviour is a deviation
    const stored = parseProfile(profileToYaml(p), 'web.yaml');
    const devs: DeviationRecord[] = [];
    const m = new ProfileEngine({
      hash: false,
      mode: 'monitor',
      profiles: new Map([[id, stored]]),
      onDeviation: (x) => devs.push(x),
    });
    run(m, workload);
    m.onSyscalls(CID, [0, 1, 59]);
    assert.equal(devs.length, 0, JSON.stringify(devs.map((x) => x.value)));
    run(m, [
      exec(4194600, '/usr/bin/app'),
      exec(4194601, '/usr/bin/nc', 4194600),
      exec(4194602, '/usr/bin/nc', 4194600),
      open(4194600, '/etc/cron.d/x', PPM_O_WRONLY | PPM_O_CREAT),
      open(4194600, '/etc/cron.d/y', PPM_O_WRONLY | PPM_O_CREAT),
      connect(4194600, '203.0.113.9', 4444),
    ]);
    m.onSyscalls(CID, [0, 1, 59, 101]);
    m.onSyscalls(CID, [0, 1, 59, 101]);
    assert.deepEqual(
      devs.map((x) => [x.what, x.value, x.mode, x.action]),
      [
        ['exe', '/usr/bin/nc', 'monitor', 'none'],
        ['exe', '/usr/bin/nc', 'monitor', 'none'],
        ['file', '/etc/cron.d', 'monitor', 'none'],
        ['network', 'tcp/203.0.113.9:4444', 'monitor', 'none'],
        ['syscall', 'ptrace', 'monitor', 'none'],
      ],
    );
    assert.equal(devs[0]!.workloadId, id);
    assert.equal(devs[0]!.container.id, CID);
    assert.equal(devs[0]!.process?.pid, 4194601);
    assert.deepEqual(
      stored.executables.map((e) => e.path),
      ['/usr/bin/app'],
      'monitor never learns',
    );
  });

  it('learns a workload met for the first time even in monitor mode, and reports zero-drift execs', () => {
    const devs: DeviationRecord[] = [];
    const m = new ProfileEngine({ hash: false, mode: 'monitor', onDeviation: (x) => devs.push(x) });
    run(m, workload);
    assert.equal(devs.length, 0, JSON.stringify(devs.map((x) => x.value)));
    assert.equal([...m.profiles.values()][0]!.executables.length, 1);
    const p = parseProfile(profileToYaml([...m.profiles.values()][0]!), 'x.yaml');
    p.zeroDrift = true;
    const z = new ProfileEngine({
      hash: false,
      mode: 'protect',
      profiles: new Map([[`image:${DIGEST}:web`, p]]),
      onDeviation: (x) => devs.push(x),
    });
    const drifted = exec(4194700, '/usr/bin/app');
    drifted.params.flags = 2; // PPM_EXE_UPPER_LAYER: the binary was written into the container
    run(z, [drifted]);
    assert.deepEqual(
      devs.map((x) => [x.what, x.value, x.reason, x.mode]),
      [['exe', '/usr/bin/app', 'drift', 'protect']],
    );
  });

  it('knows an executable that can no longer be resolved by the aliases it was learned with', () => {
    const p = emptyProfile({ container: 'web', image: 'reg/app:1', imageDigest: DIGEST });
    p.executables.push({ path: '/usr/bin/dash', aliases: ['/bin/sh'], parents: [], uids: [0] });
    const devs: DeviationRecord[] = [];
    const m = new ProfileEngine({
      hash: false,
      mode: 'monitor',
      profiles: new Map([[`image:${DIGEST}:web`, p]]),
      onDeviation: (x) => devs.push(x),
    });
    // no process of the container is alive (pids above pid_max): nothing to resolve /bin/sh in
    run(m, [exec(4194900, '/bin/sh'), exec(4194901, '/bin/bash', 4194900)]);
    m.close();
    assert.deepEqual(
      devs.map((d) => [d.what, d.value, d.reason, d.process?.parent]),
      [['exe', '/bin/bash', undefined, '/usr/bin/dash']],
    );
  });
});
