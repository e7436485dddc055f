/**
 * `bulwark rules validate` as a process (the CLI entry point run by node with tsx): exit codes,
 * file:line issues in text, Falco's JSON load results, -o FILE.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARED } from '../helpers/shared.js';
import { BULWARK_FROM_SOURCE } from '../helpers/cli.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const RULES = `${SHARED}/corpora/falco/falcosecurity-rules/rules`;
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-rules-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function bulwark(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [...BULWARK_FROM_SOURCE, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const bad = join(tmp, 'bad.yaml');
writeFileSync(
  bad,
  `- macro: my_macro
  condition: evt.type = open

- rule: broken
  desc: d
  condition: >
    evt.type = open and
    proc.name in (a, b
  output: "x %proc.name"
  priority: WARNING
`,
);
const warnOnly = join(tmp, 'warn.yaml');
writeFileSync(
  warnOnly,
  `- list: unused_list
  items: [a]

- rule: broad
  desc: d
  condition: proc.name = cat
  output: "x %proc.name"
  priority: INFO
`,
);

describe('bulwark rules validate', () => {
  it('the upstream stable, incubating and sandbox files: exit 0, every file Ok, 0 errors', () => {
    const r = bulwark(
      'rules',
      'validate',
      `${RULES}/falco_rules.yaml`,
      `${RULES}/falco-incubating_rules.yaml`,
      `${RULES}/falco-sandbox_rules.yaml`,
    );
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /falco_rules\.yaml: Ok\n/);
    assert.match(r.out, /falco-sandbox_rules\.yaml: Ok\n/);
    assert.match(r.out, /3 file\(s\), 9\d rule\(s\): 0 error\(s\), 0 warning\(s\)\n$/);
  });

  it('a file with a syntax error: exit 1, the error with file:line and the item', () => {
    const r = bulwark('rules', 'validate', bad);
    assert.equal(r.code, 1);
    assert.match(r.out, new RegExp(`${bad}: Invalid\\n`));
    assert.match(
      r.out,
      new RegExp(`${bad}:6:\\d+: error LOAD_ERR_COMPILE_CONDITION: .* \\(rule 'broken'\\)`),
    );
  });

  it('warnings alone keep exit 0; -f json gives Falco load results; -o writes the file', () => {
    const out = join(tmp, 'res.json');
    const r = bulwark('rules', 'validate', '-f', 'json', '-o', out, warnOnly, bad);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    const j = JSON.parse(readFileSync(out, 'utf8')) as {
      falco_load_results: {
        name: string;
        successful: boolean;
        errors: {
          code: string;
          context: { item_type: string; item_name: string; position: { line: number } };
        }[];
        warnings: { code: string; context: { position: { line: number } } }[];
      }[];
    };
    const [w, b] = j.falco_load_results;
    assert.equal(w!.name, warnOnly);
    assert.equal(w!.successful, true);
    assert.deepEqual(w!.warnings.map((x) => [x.code, x.context.position.line]).sort(), [
      ['LOAD_NO_EVTTYPE', 4],
      ['LOAD_UNUSED_LIST', 1],
    ]);
    assert.equal(b!.successful, false);
    assert.equal(b!.errors[0]!.code, 'LOAD_ERR_COMPILE_CONDITION');
    assert.equal(b!.errors[0]!.context.item_type, 'rule');
    assert.equal(b!.errors[0]!.context.item_name, 'broken');
    const ok = bulwark('rules', 'validate', warnOnly);
    assert.equal(ok.code, 0);
    assert.match(
      ok.out,
      /warn\.yaml:1:3: warning LOAD_UNUSED_LIST: List not referred to by any other rule\/macro \(list 'unused_list'\)/,
    );
  });

  it('a missing file is an error (exit 1); a bad flag a usage error (exit 2)', () => {
    const r = bulwark('rules', 'validate', join(tmp, 'nope.yaml'));
    assert.equal(r.code, 1);
    assert.match(r.out, /nope\.yaml:0:0: error LOAD_ERR_FILE_READ: Could not read file: ENOENT/);
    assert.equal(bulwark('rules', 'validate', '-f', 'yaml', warnOnly).code, 2);
  });
});

describe('bulwark rules replay', () => {
  const T = `${SHARED}/corpora/falco/falco-legacy-regression-2023-08/test`;
  it('alerts of a rule file on a capture, as JSON lines and as text', () => {
    const j = bulwark(
      'rules',
      'replay',
      `${T}/trace_files/cat_write.scap`,
      '-r',
      `${T}/rules/single_rule.yaml`,
      '--hostname',
      'h1',
    );
    assert.equal(j.code, 0, j.err);
    const lines = j.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 8);
    assert.equal(lines[0]!.rule, 'open_from_cat');
    assert.equal(lines[0]!.hostname, 'h1');
    assert.equal(lines[0]!.priority, 'Warning');
    assert.equal(lines[0]!.time, '2016-08-04T16:17:57.881781397Z');
    assert.match(
      String(lines[0]!.output),
      /^16:17:57\.881781397: Warning An open was seen \(command=cat \/dev\/null\)$/,
    );
    const t = bulwark(
      'rules',
      'replay',
      `${T}/trace_files/cat_write.scap`,
      '-r',
      `${T}/rules/single_rule.yaml`,
      '-f',
      'text',
    );
    assert.equal(t.out.trim().split('\n').length, 8);
    assert.match(t.out, /^16:17:57\.\d{9}: Warning An open was seen \(command=cat \/dev\/null\)\n/);
  });
  it('a corrupt capture or a missing rules file is an error (exit 1)', () => {
    const junk = join(tmp, 'junk.scap');
    writeFileSync(junk, 'not a capture');
    const r = bulwark('rules', 'replay', junk, '-r', `${T}/rules/single_rule.yaml`);
    assert.equal(r.code, 1);
    assert.match(r.err, /junk\.scap: not a capture file/);
    assert.equal(bulwark('rules', 'replay', junk, '-r', join(tmp, 'none.yaml')).code, 1);
  });
});

describe('bulwark rules replay on a Kubernetes audit log', () => {
  it('runs the k8s_audit rules over the audit events', () => {
    const F = `${SHARED}/corpora/falco`;
    const r = bulwark(
      'rules',
      'replay',
      `${F}/falco-legacy-regression-2023-08/test/trace_files/k8s_audit/create_nginx_pod_privileged.json`,
      '-r',
      `${F}/falcosecurity-rules/falco_rules-1.0.1.yaml`,
      `${F}/falcosecurity-plugins/plugins/k8saudit/rules/k8s_audit_rules.2023-08.yaml`,
    );
    assert.equal(r.code, 0, r.err);
    const alerts = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { rule: string; source: string; priority: string });
    assert.deepEqual(
      alerts.map((a) => [a.rule, a.source, a.priority]),
      [['Create Privileged Pod', 'k8s_audit', 'Warning']],
    );
  });
});
