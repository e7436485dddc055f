/** Condition compiler: libsinsp's compile (type/operator compatibility, warnings) and run cases, then the operators on real events. */
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileCondition, conditionToString, CompileError, expandCondition } from '../../src/runtime/rules/compiler.js';
import { FIELDS, type FieldDef } from '../../src/runtime/rules/fields.js';
import { parseCondition } from '../../src/runtime/rules/parser.js';
import type { SyscallEvent } from '../../src/runtime/event.js';
import { StateTracker } from '../../src/runtime/state/index.js';
import { SHARED } from '../helpers/shared.js';

const D = `${SHARED}/corpora/falco/derived`;
const jsonl = <T>(f: string): T[] =>
  readFileSync(`${D}/${f}`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

// the test factory's fields of libsinsp's filter_compiler.ut.cpp: constant-valued checks
const cst = (type: FieldDef['type'], v: string | Uint8Array): FieldDef => ({ type, get: () => v });
const TEST_FIELDS: Record<string, FieldDef> = {
  ...FIELDS,
  'c.true': cst('string', '1'),
  'c.false': cst('string', '0'),
  'c.buffer': cst('bytebuf', Buffer.from('HTTP/1.1')),
  'c.singlequote': cst('string', "hello 'quoted'"),
  'c.doublequote': cst('string', 'hello "quoted"'),
};

interface CompileCase {
  test: string;
  condition: string;
  expect_fail: boolean;
  expected_warnings?: string;
  expected_msg?: string;
}
interface RunCase {
  test: string;
  condition: string;
  expect_result: boolean;
}

describe('falco condition compiler (libsinsp corpus)', () => {
  it('compile cases agree (operators × field types, warnings, transformer arguments)', () => {
    const cases = jsonl<CompileCase>('libs_filter_compiler_compile_cases.jsonl');
    assert.ok(cases.length > 300);
    const bad: string[] = [];
    for (const c of cases) {
      let failed = false;
      let msg = '';
      let warnings: string[] = [];
      try {
        warnings = compileCondition(parseCondition(c.condition), { fields: TEST_FIELDS }).warnings;
      } catch (e) {
        failed = true;
        msg = (e as Error).message;
      }
      if (failed !== c.expect_fail) bad.push(`${c.test}: ${JSON.stringify(c.condition)} expected ${c.expect_fail ? 'failure' : 'success'} ${msg}`);
      else if (c.expected_warnings !== undefined && warnings.length !== Number(c.expected_warnings))
        bad.push(`${c.test}: ${JSON.stringify(c.condition)} expected ${c.expected_warnings} warnings, got ${JSON.stringify(warnings)}`);
      else if (c.expected_msg && !c.expected_msg.endsWith(msg) && !msg.includes(c.expected_msg.replace(/^filter error: /, '')))
        bad.push(`${c.test}: ${JSON.stringify(c.condition)} expected message ${c.expected_msg}, got ${msg}`);
    }
    if (bad.length) console.log(bad.join('\n'));
    assert.equal(bad.length, 0, `${bad.length}/${cases.length} disagree`);
  });

  it('run cases agree (boolean evaluation, string escapes)', () => {
    const cases = jsonl<RunCase>('libs_filter_compiler_run_cases.jsonl');
    assert.ok(cases.length >= 40);
    const st = new StateTracker();
    const ev: SyscallEvent = { num: 1, ts: 0n, tid: 1, cpu: 0, type: 'openat', dir: '<', params: {} };
    const bad = cases.filter(
      (c) => compileCondition(parseCondition(c.condition), { fields: TEST_FIELDS }).filter(ev, st) !== c.expect_result,
    );
    assert.deepEqual(bad.map((c) => c.condition), []);
  });
});

describe('expansion, printing and event types', () => {
  const macros = new Map([
    ['open_read', parseCondition('evt.type in (open, openat) and evt.is_open_read=true')],
    ['never_true', parseCondition('evt.num=0')],
    ['loop_a', parseCondition('loop_b')],
    ['loop_b', parseCondition('loop_a')],
  ]);
  const lists = new Map([['shells', ['bash', 'sh']]]);

  it('expands macros and lists and prints as Falco', () => {
    const n = expandCondition(parseCondition('open_read and proc.name in (shells, zsh) and not never_true'), macros, lists);
    assert.equal(
      conditionToString(n),
      '((evt.type in (open, openat) and evt.is_open_read = true) and proc.name in (bash, sh, zsh) and not evt.num = 0)',
    );
  });
  it('rejects undefined macros and loops', () => {
    assert.throws(() => expandCondition(parseCondition('nope'), macros, lists), /Undefined macro 'nope' used in filter/);
    assert.throws(() => expandCondition(parseCondition('loop_a'), macros, lists), CompileError);
  });
  it('derives event types', () => {
    const t = (c: string) => {
      const r = compileCondition(parseCondition(c));
      return r.eventTypes ? [...r.eventTypes].sort() : undefined;
    };
    assert.deepEqual(t('evt.type in (open, openat) and proc.name = cat'), ['open', 'openat']);
    assert.deepEqual(t('evt.type = execve or evt.type = connect'), ['connect', 'execve']);
    assert.deepEqual(t('evt.type in (open, openat) and not evt.type = open'), ['openat']);
    assert.deepEqual(t('evt.type = open and evt.type = close'), []);
    assert.equal(t('proc.name = cat'), undefined);
    assert.equal(t('not evt.type = open'), undefined);
  });
});
