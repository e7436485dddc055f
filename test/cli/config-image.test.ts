/**
 * `bulwark scan image --scanners misconfig` through the built binary: the misconfig plug-in joins
 * the single pass over a real OCI image built with umoci (root user, port 22 and a token in the
 * image config; a Dockerfile and a Kubernetes manifest in a layer).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'test', 'misconfig', 'fixtures');

test('scan image --scanners misconfig: image config and config files in layers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-img-mc-'));
  try {
    const umoci = (...a: string[]) => execFileSync('umoci', a, { cwd: dir, stdio: 'pipe' });
    umoci('init', '--layout', 'oci');
    umoci('new', '--image', 'oci:app');
    umoci(
      'config',
      '--image',
      'oci:app',
      '--config.user',
      '0',
      '--config.exposedports',
      '22/tcp',
      '--config.env',
      'API_TOKEN=tok_example',
    );
    mkdirSync(join(dir, 'l', 'deploy'), { recursive: true });
    cpSync(join(FIX, 'docker', 'Dockerfile.legacy-node'), join(dir, 'l', 'Dockerfile'));
    cpSync(join(FIX, 'k8s', 'cronjob.yaml'), join(dir, 'l', 'deploy', 'cronjob.yaml'));
    umoci('insert', '--image', 'oci:app', join(dir, 'l'), '/app');
    const r = spawnSync(
      process.execPath,
      [
        join(ROOT, 'bin', 'bulwark'),
        'scan',
        'image',
        `oci:${join(dir, 'oci')}:app`,
        '--scanners',
        'misconfig',
        '-f',
        'json',
        '--exit-code',
        '7',
      ],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: dir },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    assert.equal(r.status, 7, r.stderr);
    const rep = JSON.parse(r.stdout);
    const byType = new Map(rep.results.map((x: { type: string; target: string }) => [x.type, x]));
    const cfg = byType.get('image-config') as { findings: { id: string }[] };
    assert.deepEqual(cfg.findings.map((f) => f.id).sort(), [
      'BW-IMG-001',
      'BW-IMG-002',
      'BW-IMG-003',
      'BW-IMG-004',
    ]);
    const df = rep.results.find((x: { target: string }) => x.target === '/app/Dockerfile');
    assert.ok(
      df.findings.some(
        (f: { id: string; location: { line: number; layerIndex: number } }) =>
          f.id === 'BW-DF-007' && f.location.line === 8 && f.location.layerIndex === 0,
      ),
    );
    const k8s = rep.results.find((x: { target: string }) => x.target === '/app/deploy/cronjob.yaml');
    assert.ok(k8s.findings.some((f: { id: string }) => f.id === 'BW-K8S-004'));
    assert.ok(!r.stdout.includes('tok_example'), 'the token value is not printed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
