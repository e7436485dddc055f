import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = new URL('../../bin/bulwark', import.meta.url).pathname;

test('scan fs --scanners misconfig --policy DIR runs the user checks beside the built-in ones', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-scan-policy-'));
  mkdirSync(join(dir, 'app'));
  mkdirSync(join(dir, 'pol'));
  writeFileSync(
    join(dir, 'app', 'docker-compose.yml'),
    'services:\n  web:\n    image: nginx:1.25\n    privileged: true\n',
  );
  writeFileSync(
    join(dir, 'pol', 'org.yaml'),
    [
      'checks:',
      '  - id: ORG-001',
      '    title: Compose services must name an owning team',
      '    severity: MEDIUM',
      '    description: Every service needs a team label.',
      '    remediation: Add labels.team.',
      '    kinds: [ComposeService]',
      `    deny: "!has(object.labels) || !('team' in object.labels)"`,
      '    message: "service {{ name }} has no team"',
    ].join('\n'),
  );
  const run = (extra: string[]) =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [bin, 'scan', 'fs', join(dir, 'app'), '--scanners', 'misconfig', '-f', 'json', ...extra],
        {
          encoding: 'utf8',
        },
      ),
    ) as { results: { findings: { id: string; message?: string }[] }[] };
  const ids = (r: ReturnType<typeof run>) => r.results.flatMap((x) => x.findings.map((f) => f.id)).sort();
  const without = ids(run([]));
  const withPolicy = run(['--policy', join(dir, 'pol')]);
  assert.ok(without.includes('BW-COMPOSE-001'), 'built-in privileged check');
  assert.ok(!without.includes('ORG-001'));
  assert.deepEqual(ids(withPolicy), [...without, 'ORG-001'].sort());
  const org = withPolicy.results.flatMap((x) => x.findings).find((f) => f.id === 'ORG-001');
  assert.equal(org?.message, 'service web has no team');
});

test('scan --timeout bounds the whole command: one line on stderr, exit 1', () => {
  const r = spawnSync(
    process.execPath,
    [bin, 'scan', 'fs', '/usr', '--scanners', 'secret', '--timeout', '1s'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr, 'bulwark: /usr: timed out after 1s (raise --timeout)\n');
  const bad = spawnSync(process.execPath, [bin, 'scan', 'fs', '/usr', '--timeout', '1x'], {
    encoding: 'utf8',
  });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /invalid --timeout "1x"/);
});
