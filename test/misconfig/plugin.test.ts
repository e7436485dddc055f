/**
 * The misconfig scanner plug-in in the real single-pass analysis: a real OCI image built with umoci
 * (image config with root user, port 22 and a token in Env; a layer with a Dockerfile and a
 * Kubernetes manifest) and a project directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeTarget } from '../../src/image/index.js';
import { scanner } from '../../src/misconfig/index.js';
import type { Catalog } from '../../src/core/types.js';
import type { MisconfigFinding } from '../../src/core/findings.js';

const FIX = join(import.meta.dirname, 'fixtures');
const catalog: Catalog = { packages: [], warnings: [] };

test('image: image-config checks and config files inside layers, with the layer that wrote them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-mc-img-'));
  try {
    const umoci = (...a: string[]) => execFileSync('umoci', a, { cwd: dir, stdio: 'pipe' });
    umoci('init', '--layout', 'oci');
    umoci('new', '--image', 'oci:app');
    umoci(
      'config',
      '--image',
      'oci:app',
      '--config.user',
      'root',
      '--config.exposedports',
      '22/tcp',
      '--config.env',
      'GITHUB_TOKEN=ghp_example',
      '--config.env',
      'PATH=/usr/bin',
    );
    mkdirSync(join(dir, 'l', 'srv', 'deploy'), { recursive: true });
    cpSync(join(FIX, 'docker', 'Dockerfile.legacy-node'), join(dir, 'l', 'srv', 'Dockerfile'));
    cpSync(join(FIX, 'k8s', 'fluentd-daemonset.yaml'), join(dir, 'l', 'srv', 'deploy', 'ds.yaml'));
    umoci('insert', '--image', 'oci:app', join(dir, 'l', 'srv'), '/srv');

    const analysis = await analyzeTarget(`oci:${join(dir, 'oci')}:app`, scanner.analyzers({}), {
      kind: 'image',
    });
    const warnings: string[] = [];
    const results = await scanner.results({
      analysis,
      catalog,
      targetKind: 'image',
      warn: (m) => warnings.push(m),
      options: {},
    });
    assert.deepEqual(warnings, []);
    const byTarget = new Map(results.map((r) => [r.target, r]));
    const cfg = results.find((r) => r.type === 'image-config');
    assert.ok(cfg, `targets: ${[...byTarget.keys()].join(', ')}`);
    const cfgIds = cfg.findings.map((f) => f.id).sort();
    assert.deepEqual(cfgIds, ['BW-IMG-001', 'BW-IMG-002', 'BW-IMG-003', 'BW-IMG-004']);
    assert.ok(
      !JSON.stringify(cfg.findings).includes('ghp_example'),
      'the token value is not in the findings',
    );

    const df = byTarget.get('/srv/Dockerfile');
    assert.ok(df, `targets: ${[...byTarget.keys()].join(', ')}`);
    assert.equal(df.type, 'dockerfile');
    const f = df.findings.find((x) => x.id === 'BW-DF-007') as MisconfigFinding;
    assert.equal(f.location.line, 8);
    assert.equal(f.location.layerIndex, 0);
    assert.match(f.location.layer ?? '', /^sha256:[0-9a-f]{64}$/);
    const k8s = byTarget.get('/srv/deploy/ds.yaml');
    assert.ok(k8s?.findings.some((x) => x.id === 'BW-K8S-001' && x.location.line === 37));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fs: a project directory; YAML files that are not manifests are ignored', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-mc-fs-'));
  try {
    cpSync(join(FIX, 'docker', 'docker-compose.yml'), join(dir, 'docker-compose.yml'));
    cpSync(join(FIX, 'k8s', 'cronjob.yaml'), join(dir, 'cronjob.yaml'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, '.gitlab-ci.yml'), 'stages: [build]\nbuild:\n  script: [make]\n');
    const analysis = await analyzeTarget(dir, scanner.analyzers({}), { kind: 'fs' });
    const results = await scanner.results({
      analysis,
      catalog,
      targetKind: 'fs',
      warn: () => {},
      options: {},
    });
    assert.deepEqual(results.map((r) => [r.target.replace(/^\//, ''), r.type]).sort(), [
      ['cronjob.yaml', 'kubernetes'],
      ['docker-compose.yml', 'compose'],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file types from names: Dockerfile variants are Dockerfiles, dockerfile.yaml is YAML', async () => {
  const { configTypeOfName } = await import('../../src/misconfig/scan.js');
  for (const n of [
    'Dockerfile',
    'dockerfile',
    'Dockerfile.prod',
    'Containerfile',
    'api.Dockerfile',
    'x/build.containerfile',
  ])
    assert.equal(configTypeOfName(n), 'dockerfile', n);
  // a policy or data file named after Dockerfiles (Bulwark's own policies/docker/dockerfile.yaml)
  for (const n of ['dockerfile.yaml', 'policies/docker/Dockerfile.yml', 'Dockerfile.json'])
    assert.equal(configTypeOfName(n), 'yaml', n);
  assert.equal(configTypeOfName('docker-compose.yml'), 'compose');
});
