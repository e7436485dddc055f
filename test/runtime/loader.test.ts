/**
 * Rules loader against Falco's own tables: falco's unit tests of the rule loader
 * (unit_tests/engine/test_rule_loader.cpp) and falcosecurity/testing's rules validation cases;
 * then the upstream stable, incubating and sandbox rule files, which must load with 0 errors.
 */
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadRules, priorityName, type Ruleset } from '../../src/runtime/rules/loader.js';
import { SHARED } from '../helpers/shared.js';

const FALCO = `${SHARED}/corpora/falco`;
const jsonl = <T>(f: string): T[] =>
  readFileSync(`${FALCO}/derived/${f}`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

// message constants of falco's test sources (rule_loading_messages.h and test_rule_loader.cpp)
const CONSTANTS: Record<string, string> = {
  ERROR_OVERRIDE_APPEND: "Keys 'override' and 'append: true' cannot be used together.",
  ERROR_NO_PREVIOUS_MACRO:
    "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists",
  ERROR_NO_PREVIOUS_LIST:
    "List uses 'append' or 'override.items: append' but no list by that name already exists",
  ERROR_NO_PREVIOUS_RULE_APPEND:
    "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists",
  ERROR_NO_PREVIOUS_RULE_REPLACE:
    "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists",
  WARNING_APPEND: "'append' key is deprecated.",
  WARNING_ENABLED: "The standalone 'enabled' key usage is deprecated.",
  WARNING_NO_EVTTYPE: 'Rule matches too many evt.type values.',
};

interface Call {
  call: string;
  args: unknown[];
}
interface Assertion {
  macro: string;
  raw: string;
  args: (Call | string)[];
  check?: string;
  check_args?: unknown[];
  expect?: boolean;
  expect_eq?: string | number;
  expect_prefix?: string;
}
interface LoaderCase {
  fixture: string;
  test: string;
  strings: Record<string, string>;
  assertions: Assertion[];
}

/**
 * The rules content a case loads. Cases without `strings` are not usable: for them the corpus
 * extraction put another test's string in the load_rules arguments (the twelve
 * exceptions_modifier_op_* cases all carry the same unrelated rule), so they are counted as not
 * applicable rather than judged against the wrong input.
 */
function contentOf(c: LoaderCase, shared: Map<string, number>): string | undefined {
  if (c.strings.rules_content) return c.strings.rules_content;
  const arg = loadArg(c);
  return arg !== undefined && shared.get(arg) === 1 ? arg : undefined;
}
function loadArg(c: LoaderCase): string | undefined {
  for (const a of c.assertions)
    for (const x of a.args)
      if (typeof x === 'object' && x.call === 'load_rules' && typeof x.args[0] === 'string') return x.args[0];
  return undefined;
}

type Verdict = 'ok' | 'n/a' | string;

function judge(a: Assertion, rs: Ruleset): Verdict {
  const f = rs.files[0]!;
  const positive = !/_FALSE$/.test(a.macro);
  const text = (x: unknown) => (typeof x === 'string' ? (CONSTANTS[x] ?? x) : String(x));
  switch (a.check) {
    case 'load_rules':
      return f.successful === a.expect
        ? 'ok'
        : `load_rules ${f.successful}, expected ${a.expect}: ${f.errors.map((e) => e.message).join(' | ')}`;
    case 'schema_validation': {
      const want = a.expect_prefix === 'yaml_helper::validation_ok' ? 'ok' : 'failed';
      return f.schemaValidation.startsWith(want)
        ? 'ok'
        : `schema validation ${f.schemaValidation}, expected ${want}`;
    }
    case 'check_error_message':
    case 'check_warning_message': {
      const msg = text(a.check_args![0]);
      const list = a.check === 'check_error_message' ? f.errors : f.warnings;
      const has = list.some((e) => e.message.includes(msg));
      return has === positive ? 'ok' : `${a.check}(${msg}) ${has}: ${list.map((e) => e.message).join(' | ')}`;
    }
    case 'has_warnings':
      return f.warnings.length > 0 === positive
        ? 'ok'
        : `has_warnings ${f.warnings.length}: ${f.warnings.map((e) => e.message).join(' | ')}`;
    case 'get_compiled_rule_condition': {
      const r = rs.rule(String(a.check_args![0]));
      return r?.compiledCondition === a.expect_eq
        ? 'ok'
        : `condition ${JSON.stringify(r?.compiledCondition)} != ${JSON.stringify(a.expect_eq)}`;
    }
    case 'num_rules_for_ruleset': {
      if (a.check_args && a.check_args.length) return 'n/a';
      const n = rs.rules.filter((r) => r.enabled).length;
      return n === Number(a.expect_eq ?? a.args[1]) ? 'ok' : `enabled rules ${n}`;
    }
  }
  // rule_description[...] / m_load_result->... assertions
  const raw = a.raw.replace(/\s+/g, ' ');
  let m = /rule_description\["rules"\]\[0\]\["info"\]\["(\w+)"\].*?, (.*)\)$/.exec(raw);
  if (m) {
    const r = rs.rules[0];
    if (!r) return 'no rule';
    const key = m[1]!;
    const want = (typeof a.args[1] === 'string' ? a.args[1] : m[2]!).replace(/u$/, '');
    const got =
      key === 'condition'
        ? r.condition
        : key === 'output'
          ? r.output
          : key === 'description'
            ? r.desc
            : key === 'priority'
              ? priorityName(r.priority)
              : key === 'capture'
                ? String(r.capture)
                : key === 'capture_duration'
                  ? String(r.captureDuration)
                  : undefined;
    if (got === undefined) return 'n/a';
    return got === want ? 'ok' : `${key} ${JSON.stringify(got)} != ${JSON.stringify(want)}`;
  }
  m = /rule_description\["(rules|macros|lists)"\]\.size\(\), (\d+)\)/.exec(raw);
  if (m) {
    const n = m[1] === 'rules' ? rs.rules.length : m[1] === 'macros' ? rs.macros.size : rs.lists.size;
    return n === Number(m[2]) ? 'ok' : `${m[1]} count ${n}`;
  }
  m = /rule_description\["lists"\]\[0\]\["details"\]\["items_compiled"\]\[(\d+)\]/.exec(raw);
  if (m) {
    const items = [...rs.lists.values()][0] ?? [];
    return items[Number(m[1])] === a.args[1]
      ? 'ok'
      : `list item ${JSON.stringify(items[Number(m[1])])} != ${JSON.stringify(a.args[1])}`;
  }
  if (/m_load_result->successful\(\)/.test(raw)) return f.successful === positive ? 'ok' : 'successful';
  if (/m_load_result->has_warnings\(\)/.test(raw))
    return f.warnings.length > 0 === positive ? 'ok' : 'has_warnings';
  m = /\["errors"\]\[0\]\["context"\]\["snippet"\]\)\s*\.find\("([^"]+)"\)/.exec(raw);
  if (m)
    return f.errors[0]?.snippet?.includes(m[1]!) ? 'ok' : `snippet ${JSON.stringify(f.errors[0]?.snippet)}`;
  return 'n/a';
}

describe('falco rule loader corpus (test_rule_loader.cpp)', () => {
  const cases = jsonl<LoaderCase>('falco_engine_rule_loader_cases.jsonl');
  it('every case with rules content and loader-level assertions agrees', () => {
    assert.ok(cases.length > 100);
    const shared = new Map<string, number>();
    for (const c of cases) {
      const a = c.strings.rules_content ? undefined : loadArg(c);
      if (a !== undefined) shared.set(a, (shared.get(a) ?? 0) + 1);
    }
    let agreed = 0;
    let notApplicable = 0;
    const bad: string[] = [];
    for (const c of cases) {
      const content = contentOf(c, shared);
      if (!content) {
        notApplicable++;
        continue;
      }
      const rs = loadRules([{ name: 'rules.yaml', content }]);
      const verdicts = c.assertions.map((a) => judge(a, rs));
      const fails = verdicts.filter((v) => v !== 'ok' && v !== 'n/a');
      if (!verdicts.includes('ok') && !fails.length) notApplicable++;
      else if (fails.length) bad.push(`${c.test}: ${fails.join('; ')}`);
      else agreed++;
    }
    console.log(
      `rule loader cases: ${agreed} agree, ${bad.length} disagree, ${notApplicable} not applicable (engine API only, or no rules content of their own in the corpus)`,
    );
    if (bad.length) console.log(bad.join('\n'));
    assert.equal(bad.length, 0);
    assert.ok(agreed >= 88);
  });
});

interface ValidationCase {
  test: string;
  rules: { filename: string; content: string }[];
  validation_asserts: {
    expect_present: boolean;
    collection: 'AllErrors' | 'AllWarnings';
    OfCode?: string;
    OfItemType?: string;
    OfItemName?: string;
    OfMessage?: string;
  }[];
  other_asserts: string[];
}

describe('falcosecurity/testing rules validation cases', () => {
  const cases = jsonl<ValidationCase>('falco_testing_rules_validation_cases.jsonl');
  it('every case agrees on codes, item types and names, messages and exit status', () => {
    assert.ok(cases.length >= 39);
    const bad: string[] = [];
    let messageDiffers = 0;
    for (const c of cases) {
      const rs = loadRules(c.rules.map((r) => ({ name: r.filename, content: r.content })));
      const fails: string[] = [];
      for (const v of c.validation_asserts) {
        const list = v.collection === 'AllErrors' ? rs.errors : rs.warnings;
        const match = (withMessage: boolean) =>
          list.some(
            (e) =>
              (!v.OfCode || e.code === v.OfCode) &&
              (!v.OfItemType || e.itemType === v.OfItemType) &&
              (!v.OfItemName || e.itemName === v.OfItemName) &&
              (!withMessage || !v.OfMessage || e.message === v.OfMessage),
          );
        if (match(true) === v.expect_present) continue;
        // yaml-cpp's own parse messages cannot be reproduced by another YAML parser: code and item must agree
        if (v.OfCode === 'LOAD_ERR_YAML_PARSE' && match(false) === v.expect_present) {
          messageDiffers++;
          continue;
        }
        fails.push(
          `${v.collection} ${v.OfCode}/${v.OfItemType}/${v.OfItemName}/${v.OfMessage} ${v.expect_present ? 'missing' : 'present'}: ${list.map((e) => `${e.code}/${e.itemType}/${e.itemName}/${e.message}`).join(' | ')}`,
        );
      }
      for (const o of c.other_asserts) {
        let m: RegExpExecArray | null;
        if ((m = /assert\.Equal\(t, (\d+), res\.ExitCode\(\)\)/.exec(o))) {
          const code = rs.successful ? 0 : 1;
          if (code !== Number(m[1]))
            fails.push(`exit ${code}: ${rs.errors.map((e) => e.message).join(' | ')}`);
        } else if (
          (m =
            /assert\.Equal\(t, (\d+), res\.RuleValidation\(\)\.(AllErrors|AllWarnings)\(\)\.Count\(\)\)/.exec(
              o,
            ))
        ) {
          const n = (m[2] === 'AllErrors' ? rs.errors : rs.warnings).length;
          if (n !== Number(m[1]))
            fails.push(
              `${m[2]} count ${n}: ${(m[2] === 'AllErrors' ? rs.errors : rs.warnings).map((e) => e.message).join(' | ')}`,
            );
        } else if (/RuleValidation\(\)\.At\(0\)\.Successful/.test(o)) {
          if (!rs.files[0]!.successful) fails.push('first file not successful');
        }
      }
      if (fails.length) bad.push(`${c.test}: ${fails.join('; ')}`);
    }
    console.log(
      `validation cases: ${cases.length - bad.length}/${cases.length} agree (${messageDiffers} YAML parse message(s) worded differently from yaml-cpp)`,
    );
    if (bad.length) console.log(bad.join('\n'));
    assert.equal(bad.length, 0);
  });
});

describe('upstream Falco rule files', () => {
  const R = `${FALCO}/falcosecurity-rules/rules`;
  const read = (f: string) => ({ name: f, content: readFileSync(f, 'utf8') });
  it('stable, incubating and sandbox load with 0 errors, in order', () => {
    const rs = loadRules([
      read(`${R}/falco_rules.yaml`),
      read(`${R}/falco-incubating_rules.yaml`),
      read(`${R}/falco-sandbox_rules.yaml`),
    ]);
    assert.deepEqual(rs.errors, []);
    assert.deepEqual(
      rs.files.map((f) => f.successful),
      [true, true, true],
    );
    assert.ok(rs.rules.length >= 90, `${rs.rules.length} rules`);
    // every enabled rule is indexed by event type (none needs every event)
    assert.deepEqual(
      rs.rules.filter((r) => !r.eventTypes).map((r) => r.name),
      [],
    );
  });
  it('the stable ruleset shipped in shared/data loads with 0 errors', () => {
    const rs = loadRules([read(`${SHARED}/data/falco/falco_rules.yaml`)]);
    assert.deepEqual(rs.errors, []);
    assert.ok(rs.rule('Read sensitive file untrusted'));
    assert.ok(rs.rule('Terminal shell in container'));
  });
  it('the legacy falco_rules 1.0.1 loads with 0 errors', () => {
    const rs = loadRules([read(`${FALCO}/falcosecurity-rules/falco_rules-1.0.1.yaml`)]);
    assert.deepEqual(
      rs.errors.map((e) => `${e.line}: ${e.message}`),
      [],
    );
  });
});

// hand-written: the exception modifiers of Falco's newer loader tests, whose rules content the corpus lost
describe('exceptions with modifier comparisons (startswith oneof, contains allof, ...)', () => {
  const cond = (exceptions: string, condition = 'evt.type = open') => {
    const rs = loadRules([
      {
        name: 'r.yaml',
        content: `- rule: test_rule\n  desc: d\n  condition: ${condition}\n  output: x\n  priority: INFO\n  exceptions:\n${exceptions}`,
      },
    ]);
    return rs.successful
      ? rs.rule('test_rule')!.compiledCondition
      : `ERROR ${rs.errors.map((e) => e.message).join(' | ')}`;
  };
  it('renders them as Falco does', () => {
    assert.equal(
      cond(
        '    - name: ex\n      fields: [proc.name]\n      comps: [startswith oneof]\n      values:\n        - [[sshd, sudo, systemd]]\n',
      ),
      '(evt.type = open and not proc.name startswith oneof (sshd, sudo, systemd))',
    );
    assert.equal(
      cond(
        '    - name: ex\n      fields: [proc.cmdline]\n      comps: [contains allof]\n      values:\n        - [[curl, bash]]\n',
        'evt.type = execve',
      ),
      '(evt.type = execve and not proc.cmdline contains allof (curl, bash))',
    );
    assert.equal(
      cond(
        '    - name: ex\n      fields: [proc.name, fd.name]\n      comps: [startswith oneof, startswith]\n      values:\n        - [[sshd, sudo], /etc/]\n',
      ),
      '(evt.type = open and not (proc.name startswith oneof (sshd, sudo) and fd.name startswith /etc/))',
    );
    assert.equal(
      cond(
        '    - name: ex\n      fields: [proc.name]\n      comps: [startswith   oneof]\n      values:\n        - [sshd]\n',
      ),
      '(evt.type = open and not proc.name startswith oneof (sshd))',
    );
  });
  it('rejects operators that take no modifier', () => {
    for (const [comp, msg] of [
      ['frobulate oneof', "'frobulate oneof' is not a supported comparison operator"],
      ['in oneof', "'in oneof' is not a supported comparison operator"],
      ['>= oneof', "'>= oneof' is not a supported comparison operator"],
      ['oneof', "'oneof' is not a supported comparison operator"],
    ])
      assert.match(
        cond(
          `    - name: ex\n      fields: [proc.name]\n      comps: ["${comp}"]\n      values:\n        - [[a]]\n`,
        ),
        new RegExp(msg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
      );
  });
});
