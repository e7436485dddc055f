/**
 * Which rule files `bulwark agent` loads (resolveRuleFiles): Falco's rules_files semantics —
 * files as given, directories expanded to their YAML files in name order, and without -r the
 * default paths that exist (given here as temp paths: the test never reads the machine's /etc).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveRuleFiles } from '../../src/cli/agent.js';
import { shippedFalcoRules } from '../../src/runtime/rules/shipped.js';
import { BulwarkError } from '../../src/core/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'bulwark-rulefiles-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('agent rule files', () => {
  it('expands directories in name order, keeps the order given, uses the defaults that exist', async () => {
    const d = join(tmp, 'rules.d');
    mkdirSync(d);
    for (const n of ['20-b.yaml', '10-a.yml', 'notes.txt']) writeFileSync(join(d, n), '[]');
    const main = join(tmp, 'falco_rules.yaml');
    writeFileSync(main, '[]');
    assert.deepEqual(await resolveRuleFiles([main, d]), [main, join(d, '10-a.yml'), join(d, '20-b.yaml')]);
    const missingLocal = join(tmp, 'falco_rules.local.yaml');
    assert.deepEqual(await resolveRuleFiles(undefined, [main, missingLocal, d]), [
      main,
      join(d, '10-a.yml'),
      join(d, '20-b.yaml'),
    ]);
  });

  it('a missing given file is an error naming it; no Falco rules on the node: the shipped upstream rules', async () => {
    await assert.rejects(resolveRuleFiles([join(tmp, 'nope.yaml')]), (e: unknown) => {
      assert.ok(e instanceof BulwarkError && e.code === 'NOT_FOUND' && e.message.includes('nope.yaml'));
      return true;
    });
    assert.deepEqual(await resolveRuleFiles(undefined, [join(tmp, 'x', 'falco_rules.yaml')]), [
      shippedFalcoRules(),
    ]);
    await assert.rejects(
      resolveRuleFiles(undefined, [join(tmp, 'x', 'falco_rules.yaml')], false),
      (e: unknown) => {
        assert.ok(e instanceof BulwarkError && e.code === 'USAGE' && /pass -r/.test(e.message));
        return true;
      },
    );
  });
});
