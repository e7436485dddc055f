/**
 * Policy engine: check-file validation errors (file, line, check id, CEL position), user checks
 * from --policy directories, message templates, scopes and field paths, and evaluation errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CheckSet,
  evaluate,
  formatFieldPath,
  loadChecks,
  loadCheckText,
  parseFieldPath,
} from '../../src/policy/index.js';
import { parseManifests } from '../../src/misconfig/index.js';
import { builtinChecks } from './helpers.js';

const CHECK = (over: string) => `checks:
  - id: ORG-001
    title: Team label required
    severity: MEDIUM
    description: Every workload names its owning team.
    remediation: Add metadata.labels.team.
    kinds: [Workload]
${over}`;

test('a valid user check: deny, message template with CEL, field path and line', () => {
  const [c] = loadCheckText(
    CHECK(`    field: metadata.labels
    deny: "!has(object.metadata.labels) || !('team' in object.metadata.labels)"
    message: "{{ object.kind }} {{ object.metadata.name }} has {{ has(object.metadata.labels) ? size(object.metadata.labels) : 0 }} label(s) but no team"
    compliance: [{ framework: org, control: OWN-1 }]
`),
    'org.yaml',
  );
  const m = parseManifests(
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    app: x\nspec:\n  containers: []\n',
    'p.yaml',
  );
  const r = evaluate(new CheckSet([c!]), m.inputs);
  assert.deepEqual(r.warnings, []);
  assert.equal(r.findings.length, 1);
  const f = r.findings[0]!;
  assert.equal(f.message, 'Pod p has 1 label(s) but no team');
  assert.equal(f.location.fieldPath, 'metadata.labels');
  assert.equal(f.location.line, 5); // the line of the `labels:` key
  assert.deepEqual(f.compliance, [{ framework: 'org', control: 'OWN-1' }]);
  assert.equal(f.type, 'kubernetes');
});

test('CEL syntax error names the file, the deny line, the check id and the position in the expression', () => {
  assert.throws(
    () => loadCheckText(CHECK(`    deny: "object.metadata.(name"\n`), 'policies/org.yaml'),
    (e: Error) => {
      assert.match(
        e.message,
        /^policies\/org\.yaml:8: check ORG-001: deny: CEL syntax error at 1:16: found \. but expecting end of input$/,
      );
      return true;
    },
  );
  assert.throws(
    () => loadCheckText(CHECK(`    deny: "true"\n    message: "{{ object. }}"\n`), 'o.yaml'),
    /o\.yaml:9: check ORG-001: message: CEL syntax error/,
  );
  assert.throws(
    () => loadCheckText(CHECK(`    deny: "true"\n    message: "{{ open"\n`), 'o.yaml'),
    /check ORG-001: message: unterminated "\{\{"/,
  );
});

test('schema errors are listed per field; unknown keys and bad severities are rejected', () => {
  assert.throws(
    () =>
      loadCheckText(
        CHECK(`    deny: "true"\n    scope: everything\n    colour: red\n`).replace('MEDIUM', 'SEVERE'),
        'x.yaml',
      ),
    (e: Error) => {
      assert.match(e.message, /^x\.yaml:2: check ORG-001: /);
      assert.match(e.message, /severity/);
      assert.match(e.message, /scope/);
      assert.match(e.message, /colour/);
      return true;
    },
  );
  assert.throws(
    () => loadCheckText('rules: []\n', 'y.yaml'),
    /y\.yaml: a check file needs a top-level "checks:" list/,
  );
  assert.throws(
    () => loadCheckText('checks: [\n', 'z.yaml'),
    /^Error: z\.yaml:\d+:\d+: invalid YAML|z\.yaml:\d+:\d+: invalid YAML/,
  );
});

test('--policy directories add checks; duplicate ids are an error naming both files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-pol-'));
  try {
    mkdirSync(join(dir, 'k8s'));
    writeFileSync(join(dir, 'k8s', 'team.yaml'), CHECK(`    deny: "!has(object.metadata.labels)"\n`));
    writeFileSync(join(dir, 'README.md'), 'not a check');
    const all = loadChecks({ extra: [dir] });
    const mine = all.find((c) => c.id === 'ORG-001')!;
    assert.equal(mine.builtin, false);
    assert.equal(mine.source, join(dir, 'k8s', 'team.yaml'));
    assert.equal(all.length, builtinChecks().length + 1);
    writeFileSync(join(dir, 'dup.yaml'), CHECK(`    deny: "false"\n`));
    assert.throws(
      () => loadChecks({ extra: [dir] }),
      /check id ORG-001 is defined twice: .*dup\.yaml and .*team\.yaml|defined twice/,
    );
    assert.throws(
      () => loadChecks({ extra: [join(dir, 'missing')] }),
      /policy path .*missing does not exist/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('evaluation errors (a field read without has()) become warnings, never findings or crashes', () => {
  const [c] = loadCheckText(CHECK(`    deny: "object.metadata.labels.team == ''"\n`), 'o.yaml');
  const m = parseManifests(
    'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n',
    'p.yaml',
  );
  const r = evaluate(new CheckSet([c!]), m.inputs);
  assert.equal(r.findings.length, 0);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /check ORG-001 \(o\.yaml\) failed on p\.yaml: Pod\/p: /);
  const [nb] = loadCheckText(CHECK(`    deny: "object.metadata.name"\n`), 'o.yaml');
  assert.match(evaluate(new CheckSet([nb!]), m.inputs).warnings[0]!, /not a bool/);
});

test('includePasses: one pass result per (check, resource) that applied and did not fail', () => {
  const [c] = loadCheckText(CHECK(`    scope: container\n    deny: "container.name == 'bad'"\n`), 'o.yaml');
  const m = parseManifests(
    'apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers: [{name: ok}, {name: bad}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec:\n  containers: [{name: ok}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: c}\nspec: {}\n',
    'p.yaml',
  );
  const r = evaluate(new CheckSet([c!]), m.inputs, { includePasses: true });
  assert.deepEqual(
    r.findings.map((f) => `${f.resource?.name}:${f.status}:${f.location.fieldPath ?? ''}`),
    ['a:fail:spec.containers[1]', 'b:pass:'],
  );
});

test('field paths round-trip, including keys that need quoting', () => {
  const p = ['metadata', 'annotations', 'container.apparmor.security.beta.kubernetes.io/nginx'];
  const s = formatFieldPath(p);
  assert.equal(s, 'metadata.annotations["container.apparmor.security.beta.kubernetes.io/nginx"]');
  assert.deepEqual(parseFieldPath(s), p);
  assert.deepEqual(parseFieldPath('spec.containers[12].ports'), ['spec', 'containers', 12, 'ports']);
  assert.throws(() => parseFieldPath('spec..x'), /invalid field path/);
});

test('built-in checks: ids unique, every check maps to at least one framework control or says why not', () => {
  const checks = builtinChecks();
  assert.equal(new Set(checks.map((c) => c.id)).size, checks.length);
  assert.ok(checks.length >= 90, `${checks.length} checks`);
  for (const c of checks) assert.ok(c.builtin && c.source.startsWith('policies/'), c.id);
});

test('each: one evaluation per list element, bound to `item`, with the element path; must start at the scope item', () => {
  const [c] = loadCheckText(
    CHECK(
      `    scope: container\n    each: container.env\n    field: value\n    deny: "has(item.value) && item.value == 'bad'"\n    message: "{{ containerRef }} {{ item.name }}"\n`,
    ),
    'o.yaml',
  );
  const m = parseManifests(
    'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    env:\n    - {name: X, value: ok}\n    - {name: Y, value: bad}\n  - name: b\n',
    'p.yaml',
  );
  const r = evaluate(new CheckSet([c!]), m.inputs, { includePasses: true });
  assert.deepEqual(
    r.findings.map((f) => [f.status, f.location.fieldPath, f.location.line, f.message]),
    [['fail', 'spec.containers[0].env[1].value', 9, 'container "a" Y']],
  );
  assert.throws(
    () => loadCheckText(CHECK(`    scope: container\n    each: spec.volumes\n    deny: "true"\n`), 'o.yaml'),
    /each: must name a list below "container"/,
  );
});
