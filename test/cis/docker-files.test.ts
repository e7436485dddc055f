/**
 * CIS Docker section 3 (daemon configuration files) under a fake root: a well-configured host
 * passes 3.1-3.24; each mutation (one owner or mode) flips exactly one check to FAIL; missing files
 * are INFO. docker-bench's 3.x functions read fixed absolute paths (/etc/docker, /var/run/docker.sock,
 * the running dockerd's flags), so they cannot be pointed at a fake root: the expected verdicts below
 * are derived from reading ../shared/corpora/docker-bench/tests/3_docker_daemon_configuration_files.sh
 * (owner checks: `stat -c %u%g` -eq 00, or %U:%G equal to root:root / root:docker; mode checks:
 * `stat -c %a` -le 644/755/444/660, -eq 400 for the TLS key; INFO when the file is missing). Each
 * mutated mode below is one that docker-bench's decimal comparison and CIS's "or more restrictive"
 * bitmask judge alike.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  collectFacts,
  evaluateBenchmark,
  loadBuiltinBenchmark,
  type CheckState,
} from '../../src/cis/index.js';
import { main } from '../../src/cli/main.js';

const tmp = mkdtempSync(join(tmpdir(), 'bw-cis-files-'));
const servers: Server[] = [];
after(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(tmp, { recursive: true, force: true });
});

type Entry = { kind: 'file' | 'dir' | 'socket'; mode: number; uid: number; gid: number; content?: string };
type Spec = Record<string, Entry>;

const DOCKER_GID = 999;
const f = (mode: number, uid = 0, gid = 0, content = ''): Entry => ({
  kind: 'file',
  mode,
  uid,
  gid,
  content,
});

function goodHost(): Spec {
  return {
    '/lib/systemd/system/docker.service': f(0o644, 0, 0, '[Service]\nExecStart=/usr/bin/dockerd -H fd://\n'),
    '/lib/systemd/system/docker.socket': f(0o644, 0, 0, '[Socket]\nListenStream=/run/docker.sock\n'),
    '/etc/docker': { kind: 'dir', mode: 0o755, uid: 0, gid: 0 },
    '/etc/docker/daemon.json': f(
      0o644,
      0,
      0,
      JSON.stringify({
        tlscacert: '/etc/docker/tls/ca.pem',
        tlscert: '/etc/docker/tls/cert.pem',
        tlskey: '/etc/docker/tls/key.pem',
      }),
    ),
    '/etc/docker/tls/ca.pem': f(0o444),
    '/etc/docker/tls/cert.pem': f(0o444),
    '/etc/docker/tls/key.pem': f(0o400),
    '/etc/docker/certs.d/registry.example:5000/ca.crt': f(0o444),
    '/var/run/docker.sock': { kind: 'socket', mode: 0o660, uid: 0, gid: DOCKER_GID },
    '/etc/default/docker': f(0o644),
    '/etc/sysconfig/docker': f(0o644),
    '/run/containerd/containerd.sock': { kind: 'socket', mode: 0o660, uid: 0, gid: 0 },
  };
}

let n = 0;
async function writeRoot(spec: Spec): Promise<string> {
  const root = join(tmp, `root${n++}`);
  const mk = (p: string) => mkdirSync(dirname(join(root, p)), { recursive: true });
  mk('/etc/passwd');
  writeFileSync(
    join(root, '/etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n',
  );
  writeFileSync(join(root, '/etc/group'), `root:x:0:\ndocker:x:${DOCKER_GID}:alice\nalice:x:1000:\n`);
  // directories first (their own mode is set last so that files can still be created inside)
  const entries = Object.entries(spec).sort((a, b) => a[0].length - b[0].length);
  for (const [p, e] of entries) {
    const abs = join(root, p);
    if (e.kind === 'dir') mkdirSync(abs, { recursive: true });
    else {
      mk(p);
      if (e.kind === 'file') writeFileSync(abs, e.content ?? '');
      else {
        const s = createServer();
        await new Promise<void>((r) => s.listen(abs, r));
        servers.push(s);
      }
    }
  }
  for (const [p, e] of entries.reverse()) {
    chownSync(join(root, p), e.uid, e.gid);
    chmodSync(join(root, p), e.mode);
  }
  return root;
}

async function section3(spec: Spec): Promise<Map<string, CheckState>> {
  const bench = loadBuiltinBenchmark('docker');
  const facts = await collectFacts(bench, {
    root: await writeRoot(spec),
    dockerHost: 'unix:///nonexistent/docker.sock',
  });
  const r = evaluateBenchmark(bench, facts);
  return new Map(r.groups.find((g) => g.id === '3')!.checks.map((c) => [c.id, c.state]));
}

const SVC = '/lib/systemd/system/docker.service';
const SOCKUNIT = '/lib/systemd/system/docker.socket';
const set = (p: string, ch: Partial<Entry>) => (s: Spec) => void Object.assign(s[p]!, ch);

/** One mutation per check; the only check that docker-bench would turn from PASS to WARN. */
const MUTATIONS: [string, (s: Spec) => void][] = [
  ['3.1', set(SVC, { uid: 1000 })],
  ['3.2', set(SVC, { mode: 0o664 })],
  ['3.3', set(SOCKUNIT, { gid: 1000 })],
  ['3.4', set(SOCKUNIT, { mode: 0o646 })],
  ['3.5', set('/etc/docker', { uid: 1000, gid: 1000 })],
  ['3.6', set('/etc/docker', { mode: 0o775 })],
  ['3.7', set('/etc/docker/certs.d/registry.example:5000/ca.crt', { uid: 1000 })],
  ['3.8', set('/etc/docker/certs.d/registry.example:5000/ca.crt', { mode: 0o644 })],
  ['3.9', set('/etc/docker/tls/ca.pem', { gid: 1000 })],
  ['3.10', set('/etc/docker/tls/ca.pem', { mode: 0o644 })],
  ['3.11', set('/etc/docker/tls/cert.pem', { uid: 1000 })],
  ['3.12', set('/etc/docker/tls/cert.pem', { mode: 0o644 })],
  ['3.13', set('/etc/docker/tls/key.pem', { uid: 1000 })],
  ['3.14', set('/etc/docker/tls/key.pem', { mode: 0o600 })],
  ['3.15', set('/var/run/docker.sock', { gid: 0 })],
  ['3.16', set('/var/run/docker.sock', { mode: 0o666 })],
  ['3.17', set('/etc/docker/daemon.json', { uid: 1000 })],
  ['3.18', set('/etc/docker/daemon.json', { mode: 0o664 })],
  ['3.19', set('/etc/default/docker', { gid: 1000 })],
  ['3.20', set('/etc/default/docker', { mode: 0o666 })],
  ['3.21', set('/etc/sysconfig/docker', { mode: 0o654 })],
  ['3.22', set('/etc/sysconfig/docker', { uid: 1000 })],
  ['3.23', set('/run/containerd/containerd.sock', { gid: DOCKER_GID })],
  ['3.24', set('/run/containerd/containerd.sock', { mode: 0o670 })],
];

let good: Map<string, CheckState>;
before(async () => {
  good = await section3(goodHost());
});

test('a well-configured host passes every 3.x check', () => {
  assert.equal(good.size, 24);
  assert.deepEqual(
    [...good].filter(([, s]) => s !== 'PASS'),
    [],
  );
});

test('each mutation flips exactly one 3.x check to FAIL', async () => {
  assert.equal(MUTATIONS.length, 24);
  const wrong: string[] = [];
  for (const [id, mutate] of MUTATIONS) {
    const spec = goodHost();
    mutate(spec);
    const r = await section3(spec);
    const flipped = [...r].filter(([cid, s]) => s !== good.get(cid)).map(([cid, s]) => `${cid}=${s}`);
    if (flipped.join() !== `${id}=FAIL`) wrong.push(`${id}: flipped ${flipped.join(', ') || 'nothing'}`);
  }
  assert.deepEqual(wrong, []);
});

test('missing files are INFO (not applicable), as docker-bench reports them', async () => {
  const spec = goodHost();
  delete spec['/etc/sysconfig/docker'];
  delete spec['/etc/docker/daemon.json'];
  delete spec['/run/containerd/containerd.sock'];
  const r = await section3(spec);
  for (const id of [
    '3.21',
    '3.22',
    '3.17',
    '3.18',
    '3.23',
    '3.24',
    '3.9',
    '3.10',
    '3.11',
    '3.12',
    '3.13',
    '3.14',
  ])
    assert.equal(r.get(id), 'INFO', id);
  assert.equal(r.get('3.1'), 'PASS');
  // a regular file where the socket should be is not the socket
  const spec2 = goodHost();
  spec2['/var/run/docker.sock'] = f(0o600);
  const r2 = await section3(spec2);
  assert.equal(r2.get('3.15'), 'INFO');
});

test('CLI: --exit-code on a failing 3.x check, the table names the check, JSON and HTML reports', async () => {
  const spec = goodHost();
  set('/etc/docker/daemon.json', { mode: 0o666 })(spec);
  const root = await writeRoot(spec);
  const out = join(tmp, 'r.html');
  const code = await main([
    'node',
    'bulwark',
    '-q',
    'benchmark',
    'docker',
    '--root',
    root,
    '--docker-host',
    'unix:///nonexistent.sock',
    '--check',
    '3.17,3.18',
    '-f',
    'html',
    '-o',
    out,
    '--exit-code',
    '3',
  ]);
  assert.equal(code, 3);
  const { readFileSync } = await import('node:fs');
  const html = readFileSync(out, 'utf8');
  assert.match(html, /<tr class="fail"><td>FAIL<\/td><td>3\.18<\/td>/);
  assert.match(html, /<tr class="pass"><td>PASS<\/td><td>3\.17<\/td>/);
  const jsonOut = join(tmp, 'r.json');
  assert.equal(
    await main([
      'node',
      'bulwark',
      '-q',
      'benchmark',
      'docker',
      '--root',
      root,
      '--check',
      '3.18',
      '-f',
      'json',
      '-o',
      jsonOut,
    ]),
    0,
  );
  const rep = JSON.parse(readFileSync(jsonOut, 'utf8')) as {
    totals: { fail: number };
    groups: { checks: { id: string; expected: string }[] }[];
  };
  assert.equal(rep.totals.fail, 1);
  assert.equal(
    rep.groups[0]!.checks[0]!.expected,
    'permissions has permissions 666, expected 644 or more restrictive',
  );
  // usage errors exit 2
  assert.equal(
    await main(['node', 'bulwark', '-q', 'benchmark', 'docker', '--root', root, '--check', '9.9']),
    2,
  );
  assert.equal(await main(['node', 'bulwark', '-q', 'benchmark', 'k8s-node', '--benchmark', 'cis-0.1']), 2);
  assert.equal(await main(['node', 'bulwark', '-q', 'benchmark', 'docker', '--root', join(tmp, 'nope')]), 1);
});
