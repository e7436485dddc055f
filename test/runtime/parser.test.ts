/** Falco condition parser against libsinsp's own parser test table (accept/reject). */
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCondition, ParseError } from '../../src/runtime/rules/parser.js';
import { SHARED } from '../helpers/shared.js';

interface Case {
  test: string;
  condition: string;
  expect: 'accept' | 'reject';
}
const CASES: Case[] = readFileSync(`${SHARED}/corpora/falco/derived/libs_filter_parser_cases.jsonl`, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Case);

describe('falco condition parser', () => {
  it(`agrees with libsinsp on all ${CASES.length} parser cases`, () => {
    assert.ok(CASES.length > 500);
    const bad: string[] = [];
    for (const c of CASES) {
      let accepted = true;
      let err = '';
      try {
        parseCondition(c.condition);
      } catch (e) {
        assert.ok(e instanceof ParseError, `non-ParseError thrown for ${JSON.stringify(c.condition)}: ${e}`);
        accepted = false;
        err = e.message;
      }
      if (accepted !== (c.expect === 'accept'))
        bad.push(`${c.test}: expected ${c.expect} ${JSON.stringify(c.condition)} ${err}`);
    }
    if (bad.length) console.log(bad.join('\n'));
    assert.equal(bad.length, 0, `${bad.length}/${CASES.length} disagree`);
  });

  it('reports the position of a syntax error', () => {
    try {
      parseCondition('evt.type = open and\n  proc.name in (a, b');
      assert.fail('accepted');
    } catch (e) {
      assert.ok(e instanceof ParseError);
      assert.equal(e.pos.line, 2);
    }
  });

  it('builds the tree: macros as identifiers, field arguments, modifiers and transformers', () => {
    const n = parseCondition(
      'spawned_process and proc.aname[2] = sshd and not fd.name startswith oneof (/etc, /usr) and tolower(proc.name) in (a)',
    );
    assert.equal(n.kind, 'and');
    if (n.kind !== 'and') return;
    assert.deepEqual(n.children[0], {
      kind: 'id',
      name: 'spawned_process',
      pos: { idx: 0, line: 1, col: 1 },
    });
    const c1 = n.children[1]!;
    assert.ok(
      c1.kind === 'check' && c1.left.kind === 'field' && c1.left.name === 'proc.aname' && c1.left.arg === '2',
    );
    const c2 = n.children[2]!;
    assert.ok(
      c2.kind === 'not' &&
        c2.child.kind === 'check' &&
        c2.child.modifier === 'oneof' &&
        c2.child.op === 'startswith',
    );
    const c3 = n.children[3]!;
    assert.ok(c3.kind === 'check' && c3.left.kind === 'transform' && c3.left.name === 'tolower');
  });
});
