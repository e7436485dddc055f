/**
 * Secret rules on real-world content: a Debian bookworm root filesystem (the image fixture built
 * with mmdebstrap) holds thousands of configuration files, scripts and docs and no credentials, so
 * every finding there is a false positive. A secret planted in a layer and deleted by a later one is
 * still found, with the layer that holds it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeTarget } from '../../src/image/index.js';
import { loadRuleSet, secretAnalyzer, secretResults, SECRET_ANALYZER } from '../../src/secret/index.js';
import { debianImage } from '../fixtures/index.js';

test('no findings on the files of a real Debian root filesystem', { timeout: 900_000 }, async () => {
  const img = await debianImage();
  const result = await analyzeTarget(`dir:${img.rootfs}`, [secretAnalyzer(loadRuleSet())]);
  assert.ok(result.files.size > 5000, `rootfs has only ${result.files.size} entries`);
  const findings = secretResults(result.results.get(SECRET_ANALYZER) ?? []).flatMap((r) =>
    r.findings.map((f) => `${f.id} ${f.location.path}:${f.location.line} ${'match' in f ? f.match : ''}`),
  );
  assert.deepEqual(findings, []);
});
