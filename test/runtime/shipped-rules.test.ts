/**
 * The Falco rules Bulwark ships (rules/falco/): the upstream default rules file byte for byte as in
 * ../shared/data/falco, with its licence, and it loads with 0 errors in the rules engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadRules } from '../../src/runtime/rules/index.js';
import { shippedFalcoRules } from '../../src/runtime/rules/shipped.js';
import { SHARED } from '../helpers/shared.js';

test('the shipped rules are the upstream default rules, unchanged, and load cleanly', () => {
  const p = shippedFalcoRules();
  assert.ok(existsSync(p), p);
  assert.ok(readFileSync(p).equals(readFileSync(join(SHARED, 'data', 'falco', 'falco_rules.yaml'))));
  assert.match(readFileSync(join(dirname(p), 'LICENSE'), 'utf8'), /Apache License/);
  const rs = loadRules([{ name: p, content: readFileSync(p, 'utf8') }]);
  assert.deepEqual(rs.errors, []);
  assert.ok(rs.rules.length > 20, `${rs.rules.length} rules`);
});
