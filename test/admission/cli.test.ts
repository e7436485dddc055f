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
