/**
 * scan config keeps every resource after evaluating it (for --vap and --rbac), but without its
 * YAML syntax tree: on 3,000 resources made from the real Polaris test manifests, what the kept
 * inputs hold stays a small multiple of the resource data (it was ~8.6 KB a resource when the
 * kept inputs' closures still referenced their documents' syntax trees), and the kept inputs
 * still answer every scope the checks ask for, exactly as freshly parsed ones do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseManifests, scanConfigPaths } from '../../src/misconfig/index.js';
import type { Scope } from '../../src/policy/index.js';
import { builtinSet } from '../policy/helpers.js';
import { CORPORA } from '../helpers/shared.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-scan-memory-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function polarisDocs(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(n))
        for (const doc of readFileSync(p, 'utf8').split(/^---[ \t]*$/m))
          if (/^kind:/m.test(doc) && /^apiVersion:/m.test(doc)) out.push(doc.trim());
    }
  };
  walk(join(CORPORA, 'polaris', 'test', 'checks'));
  return out;
}

test('kept inputs hold no syntax trees and still answer every scope', async () => {
  const docs = polarisDocs();
  const all: string[] = [];
  for (let k = 0; all.length < 3000; k++)
    for (const d of docs) all.push(d.replace(/^( {2}name: *)(["']?)([^"'\s]+)\2/m, `$1$3-${k}`));
  const file = join(tmp, 'all.yaml');
  const text = all.join('\n---\n') + '\n';
  writeFileSync(file, text);
  const set = builtinSet();
  gc();
  const before = process.memoryUsage().heapUsed;
  const r = await scanConfigPaths([file], set);
  r.findings.length = 0; // findings are the report; this measures what the inputs keep
  gc();
  const perResource = (process.memoryUsage().heapUsed - before) / r.inputs.length;
  assert.ok(r.inputs.length >= 3000, `${r.inputs.length} inputs`);
  assert.ok(perResource < 4000, `kept inputs hold ${perResource.toFixed(0)} bytes per resource`);

  const fresh = parseManifests(text, file).inputs;
  assert.equal(fresh.length, r.inputs.length);
  const scopes: Scope[] = ['resource', 'pod', 'container', 'volume', 'rule'];
  for (let i = 0; i < fresh.length; i += 7) {
    const [a, b] = [r.inputs[i]!, fresh[i]!];
    assert.deepEqual(
      [a.kind, a.type, a.name, a.namespace, a.apiVersion, a.file],
      [b.kind, b.type, b.name, b.namespace, b.apiVersion, b.file],
    );
    assert.deepEqual(a.object, b.object);
    for (const s of scopes) assert.deepEqual(a.scope(s), b.scope(s), `${b.kind} ${b.name} ${s}`);
    assert.equal(a.locate([]), undefined);
  }
});
