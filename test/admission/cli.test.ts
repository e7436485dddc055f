/**
 * `bulwark admission` as a process: started on 127.0.0.1:0 with an openssl certificate and a user
 * check directory, driven over HTTPS; decisions come out as JSON lines on stdout; SIGTERM stops it
 * cleanly (exit 0). The process is killed in `after` whatever happens.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { admissionReviewFor, type AdmissionReview } from '../../src/admission/index.js';
import { httpsRequest, makeTls } from './helpers.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const tls = makeTls();
let proc: ChildProcess | undefined;
after(() => {
  if (proc && proc.exitCode === null) proc.kill('SIGKILL');
  tls.cleanup();
});

test('bulwark admission: serves, evaluates user checks too, logs decisions as JSON lines, stops on SIGTERM', async () => {
  const policy = join(tls.dir, 'checks.yaml');
  writeFileSync(
    policy,
    `checks:
  - id: ORG-001
    title: Team label missing
    severity: LOW
    description: Every workload names its team.
    remediation: Add metadata.labels.team.
    kinds: [Pod]
    deny: "!has(object.metadata.labels) || !('team' in object.metadata.labels)"
`,
  );
  proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { main } = await import(${JSON.stringify(MAIN)}); process.exitCode = await main(process.argv);`,
      'bulwark',
      'admission',
      '--listen',
      '127.0.0.1:0',
      '--tls-cert',
      tls.certFile,
      '--tls-key',
      tls.keyFile,
      '--policy',
      policy,
      '--mode',
      'enforce',
      '--severity',
      'LOW',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c) => (out += c));
  const url = await new Promise<string>((resolve, reject) => {
    proc!.stderr!.on('data', (c) => {
      err += c;
      const m = /admission webhook on (https:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    proc!.once('exit', (c) => reject(new Error(`exited ${c}: ${err}`)));
  });
  const pod = (labels: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'team-a', labels },
    spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] },
  });
  const send = async (o: object, uid: string) => {
    const r = await httpsRequest(`${url}/validate`, tls.cert, {
      body: JSON.stringify(admissionReviewFor(o as never, { uid })),
    });
    assert.equal(r.status, 200);
    return (JSON.parse(r.body) as AdmissionReview).response!;
  };
  // --severity LOW: only LOW checks deny; ORG-001 is the user's LOW check
  const noTeam = await send(pod({}), 'a');
  assert.equal(noTeam.allowed, false);
  assert.match(noTeam.status!.message!, /ORG-001: Team label missing/);
  const withTeam = await send(pod({ team: 'x' }), 'b');
  assert.ok(!(withTeam.auditAnnotations?.['failed-checks'] ?? '').includes('ORG-001'));
  proc.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => proc!.once('exit', resolve));
  assert.equal(code, 0, err);
  const events = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { uid: string; allowed: boolean; failedChecks: string[] });
  assert.deepEqual(
    events.map((e) => e.uid),
    ['a', 'b'],
  );
  assert.ok(events[0]!.failedChecks.includes('ORG-001'));
});

test('bulwark admission --server: decisions reach the console as admission events (buffered, once)', async () => {
  const { Client, startConsole } = await import('../server/helpers.js');
  const con = await startConsole('sqlite');
  try {
    const admin = await new Client(con.base).login();
    const token = (await admin.post('/api/tokens', { name: 'webhook', role: 'operator', cluster: 'prod-eu' }))
      .body.token as string;
    const p = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const { main } = await import(${JSON.stringify(MAIN)}); process.exitCode = await main(process.argv);`,
        'bulwark',
        'admission',
        '--listen',
        '127.0.0.1:0',
        '--tls-cert',
        tls.certFile,
        '--tls-key',
        tls.keyFile,
        '--mode',
        'enforce',
        '--events',
        'none',
        '--server',
        con.base,
        '--buffer-dir',
        join(tls.dir, 'buffer'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BULWARK_TOKEN: token } },
    );
    proc = p;
    let err = '';
    const url = await new Promise<string>((resolve, reject) => {
      p.stderr!.on('data', (c) => {
        err += c;
        const m = /admission webhook on (https:\/\/127\.0\.0\.1:\d+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      p.once('exit', (c) => reject(new Error(`exited ${c}: ${err}`)));
    });
    const privileged = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'root-shell', namespace: 'team-a' },
      spec: { containers: [{ name: 'c', image: 'nginx:1.25', securityContext: { privileged: true } }] },
    };
    const r = await httpsRequest(`${url}/validate`, tls.cert, {
      body: JSON.stringify(admissionReviewFor(privileged as never, { uid: 'deny-1' })),
    });
    const resp = (JSON.parse(r.body) as AdmissionReview).response!;
    assert.equal(resp.allowed, false, 'a privileged pod is denied');
    let items: { rule: string; kind: string; cluster: string; output: string; id: number }[] = [];
    const end = Date.now() + 15_000;
    while (Date.now() < end) {
      items = (await admin.get('/api/runtime/events?kind=admission')).body.items;
      if (items.length) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(items.length, 1, err);
    assert.equal(items[0]!.rule, 'Admission denied');
    assert.equal(items[0]!.cluster, 'prod-eu');
    assert.match(items[0]!.output, /CREATE Pod team-a\/root-shell denied: .*BW-K8S/);
    const one = (await admin.get(`/api/runtime/events/${items[0]!.id}`)).body;
    assert.equal(one.event.admission.uid, 'deny-1');
    assert.equal(one.event.admission.allowed, false);
    p.kill('SIGTERM');
    assert.equal(await new Promise<number | null>((res) => p.once('exit', res)), 0, err);
    assert.ok(!err.includes(token), 'the token is never printed');
  } finally {
    await con.close();
  }
});
