/**
 * `bulwark profile list|show|export` and the agent's profile flags, through the real CLI
 * (src/cli/main.ts under tsx): output, -o FILE, errors on stderr with file:line:column, exit codes.
 * The live run of `bulwark agent --profiles DIR --mode protect` is in sensor-profile.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { emptyProfile, parseProfile, toSeccomp, writeProfile } from '../../src/runtime/profile/index.js';
import { BULWARK_FROM_SOURCE } from '../helpers/cli.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-profile-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [...BULWARK_FROM_SOURCE, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, BULWARK_PROFILES: '' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const dir = join(tmp, 'profiles');
const web = emptyProfile({ container: 'web', image: 'reg/app:1', imageDigest: 'sha256:' + '1'.repeat(64) });
web.mode = 'monitor';
web.executables.push({ path: '/usr/bin/dash', aliases: ['/bin/sh'], parents: ['*'], uids: [0] });
web.syscalls.push('read', 'write', 'execve', 'exit_group');
web.outbound.push('tcp/10.0.0.5:5432');
writeProfile(dir, web);
writeProfile(dir, emptyProfile({ container: 'db', namespace: 'prod', controller: 'statefulset/db' }));

describe('bulwark profile', { timeout: 60_000 }, () => {
  it('list: a table of the workloads, or JSON', () => {
    const t = cli('profile', 'list', '-p', dir);
    assert.equal(t.code, 0, t.err);
    const lines = t.out.trim().split('\n');
    assert.match(lines[0]!, /^WORKLOAD\s+MODE\s+EXES\s+DIRS\s+OUT\s+LISTEN\s+SYSCALLS\s+UPDATED$/);
    assert.equal(lines.length, 3);
    assert.match(lines[1]!, /^image:sha256:1+:web\s+monitor\s+1\s+0\s+1\s+0\s+4\s+/);
    assert.match(lines[2]!, /^k8s:prod\/statefulset\/db:db\s+discover\s+0\s+0\s+0\s+0\s+0\s+-$/);
    const j = cli('profile', 'list', '-p', dir, '-f', 'json');
    const rows = JSON.parse(j.out) as {
      workload: string;
      mode: string;
      executables: number;
      syscalls: number;
    }[];
    assert.deepEqual(
      rows.map((r) => [r.workload, r.mode, r.executables, r.syscalls]),
      [
        [`image:sha256:${'1'.repeat(64)}:web`, 'monitor', 1, 4],
        ['k8s:prod/statefulset/db:db', 'discover', 0, 0],
      ],
    );
  });

  it('show: a summary by container name, the YAML as stored, -o FILE', () => {
    const s = cli('profile', 'show', 'web', '-p', dir);
    assert.equal(s.code, 0, s.err);
    assert.match(s.out, /^workload: +image:sha256:1+:web$/m);
    assert.match(s.out, /^mode: +monitor$/m);
    assert.match(s.out, /^ {2}\/usr\/bin\/dash {2}uid 0 {2}parent \*$/m);
    const file = join(tmp, 'web.yaml');
    const y = cli('profile', 'show', 'web', '-p', dir, '-f', 'yaml', '-o', file);
    assert.equal(y.code, 0, y.err);
    assert.equal(y.out, '');
    assert.deepEqual(parseProfile(readFileSync(file, 'utf8')).executables, web.executables);
  });

  it('export --seccomp: the OCI seccomp profile of the learned syscalls', () => {
    const e = cli('profile', 'export', `image:sha256:${'1'.repeat(64)}:web`, '--seccomp', '-p', dir);
    assert.equal(e.code, 0, e.err);
    assert.deepEqual(JSON.parse(e.out), toSeccomp(web).profile);
    assert.deepEqual((JSON.parse(e.out) as { syscalls: { names: string[] }[] }).syscalls[0]!.names, [
      'execve',
      'exit',
      'exit_group',
      'futex',
      'read',
      'rt_sigreturn',
      'write',
    ]);
  });

  it('errors: unknown workload (exit 1), an invalid file named with its line (exit 1), no syscalls to export, bad flags (exit 2)', () => {
    const nf = cli('profile', 'show', 'nope', '-p', dir);
    assert.equal(nf.code, 1);
    assert.match(nf.err, /no profile for workload nope/);
    assert.equal(nf.out, '');
    const db = cli('profile', 'export', 'db', '--seccomp', '-p', dir);
    assert.equal(db.code, 2);
    assert.match(db.err, /has no syscalls yet/);
    const bad = join(tmp, 'bad');
    mkdirSync(bad);
    writeFileSync(
      join(bad, 'x.yaml'),
      'apiVersion: bulwark.dev/v1alpha1\nkind: RuntimeProfile\nworkload: {container: x}\nmode: block\n',
    );
    const b = cli('profile', 'list', '-p', bad);
    assert.equal(b.code, 1);
    assert.match(
      b.err,
      new RegExp(`${bad}/x\\.yaml:4:7: error: mode: expected one of discover, monitor, protect`),
    );
    const a = cli('agent', '--mode', 'protect');
    assert.equal(a.code, 2);
    assert.match(a.err, /--mode needs --profiles DIR/);
    const m = cli('agent', '--profiles', dir, '--mode', 'block');
    assert.equal(m.code, 2);
    assert.match(m.err, /argument 'block' is invalid/);
    const ag = cli('agent', '--profiles', bad, '--duration', '1');
    assert.equal(ag.code, 1);
    assert.match(ag.err, /x\.yaml:4:7: mode: expected one of/);
    const rp = join(tmp, 'responses.yaml');
    writeFileSync(
      rp,
      'apiVersion: bulwark.dev/v1alpha1\nkind: ResponsePolicy\nresponses:\n  - name: k\n    actions: [explode]\n',
    );
    const ar = cli('agent', '--profiles', dir, '--responses', rp, '--duration', '1');
    assert.equal(ar.code, 1);
    assert.match(ar.err, /responses\.yaml:5:15: actions: "explode" is not one of kill, pause, quarantine/);
  });
});
