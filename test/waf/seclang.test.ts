/**
 * SecLang loading: every CRS 4.29 rule file parses unmodified (continuations, quoting, chains,
 * actions), the compiled rule count equals the SecRule/SecAction directives in the files, every
 * @rx pattern translates to a V8 regex, and the translations keep PCRE's meaning on edge cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CORPORA } from '../helpers/shared.js';
import { compileRules, loadSecLangFile, parseSecLang } from '../../src/waf/index.js';
import { compileRegex } from '../../src/waf/regex.js';
import { splitActions } from '../../src/waf/rules.js';

const RULES = join(CORPORA, 'coreruleset', 'rules');
const files = readdirSync(RULES)
  .filter((f) => f.endsWith('.conf'))
  .sort();

test('every CRS rule file loads and the rule count matches the directives', () => {
  let directives = 0;
  let compiled = 0;
  let heads = 0;
  for (const f of files) {
    const text = readFileSync(join(RULES, f), 'latin1');
    // count directives as written: a line starting (after blanks) with SecRule or SecAction
    const n = text.split('\n').filter((l) => /^\s*Sec(?:Rule|Action)\s/.test(l)).length;
    const rs = compileRules(loadSecLangFile(join(RULES, f)));
    let c = 0;
    for (const r of rs.byId.values()) for (let l: typeof r | undefined = r; l; l = l.chain) c++;
    assert.equal(c, n, `${f}: ${c} compiled rules, ${n} directives`);
    directives += n;
    compiled += c;
    heads += rs.byId.size;
  }
  console.log(
    `CRS: ${files.length} files, ${directives} SecRule/SecAction directives, ${heads} rules (with chains ${compiled})`,
  );
  assert.ok(directives > 700);
  // the whole set together (ids unique across files)
  const all = compileRules(files.flatMap((f) => loadSecLangFile(join(RULES, f))));
  assert.equal(all.byId.size, heads);
});

test('every @rx pattern of the CRS compiles to a V8 regex', () => {
  let count = 0;
  for (const f of files) {
    const rs = compileRules(loadSecLangFile(join(RULES, f)));
    for (const r of rs.byId.values())
      for (let l: typeof r | undefined = r; l; l = l.chain) if (l.op.name === 'rx' && !l.op.dynamic) count++;
  }
  assert.ok(count >= 300, `${count} @rx`);
});

test('PCRE translation edge cases', () => {
  const m = (p: string, s: string) => compileRegex(p).re.test(s);
  assert.ok(m('(?i)select', 'SeLeCt'));
  assert.ok(m('a(?i:bc)d', 'aBCd'));
  assert.ok(!m('a(?i:bc)d', 'aBCD'));
  assert.ok(m('\\x{41}\\x{e2}', 'A\xe2'));
  assert.ok(m('a++b', 'aaab'));
  assert.ok(m('(?>ab|a)c', 'abc'));
  assert.ok(m('^\\h+x', ' \tx'));
  // PCRE byte-mode \s does not match 0xA0 (JavaScript's does)
  assert.ok(!m('a\\sb', 'a\xa0b'));
  assert.ok(m('[[:alpha:]]+1', 'abc1'));
  assert.ok(m('\\Aab\\z', 'ab'));
  assert.ok(!m('\\Aab\\z', 'ab\n'));
  // DOTALL: . matches a newline as ModSecurity compiles
  assert.ok(m('a.b', 'a\nb'));
});

test('SecLang quoting, continuations and action lists', () => {
  const d = parseSecLang(
    'SecRule ARGS "@rx a\\"b" \\\n    "id:1,\\\n    msg:\'it\\\'s\',t:none"\n# comment\nSecAction "id:2,nolog"',
  );
  assert.equal(d.length, 2);
  assert.deepEqual(d[0]!.args, ['ARGS', '@rx a"b', "id:1,    msg:'it\\'s',t:none"]);
  assert.deepEqual(splitActions(d[0]!.args[2]!), [
    ['id', '1'],
    ['msg', "it's"],
    ['t', 'none'],
  ]);
});

test('the @rx literal pre-filter never changes a result (CRS 941/942 regression requests, PL4)', async () => {
  const { buildRuleSet, loadFtwTests, buildRawRequest, runInProcessStage } =
    await import('../../src/waf/index.js');
  const base = { rules: [RULES], paranoia: 4, mode: 'detect' as const };
  const withPf = buildRuleSet(base);
  const without = buildRuleSet({ ...base, prefilter: false });
  assert.ok(withPf.literals && withPf.literals.size > 100);
  assert.equal(without.literals, null);
  const tests = loadFtwTests(join(CORPORA, 'coreruleset', 'tests', 'regression', 'tests')).filter((t) =>
    /^(941|942)/.test(String(t.ruleId)),
  );
  let stages = 0;
  for (const t of tests)
    for (const s of t.stages) {
      const raw = buildRawRequest(s.input);
      assert.deepEqual(
        runInProcessStage(withPf, raw).ids,
        runInProcessStage(without, raw).ids,
        `${t.ruleId}-${t.testId}`,
      );
      stages++;
    }
  assert.ok(stages > 1200, `${stages} stages`);
});

test('SecRuleUpdateActionById, SecRuleRemoveById/ByTag and SecRuleUpdateTargetById after the CRS', async () => {
  const { createWaf } = await import('../../src/waf/index.js');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'bw-waf-after-'));
  try {
    const after = join(dir, 'after.conf');
    writeFileSync(
      after,
      [
        // the search box may carry SQL-looking text: no SQLi rule looks at ARGS:q
        'SecRuleUpdateTargetByTag "attack-sqli" "!ARGS:q"',
        // rule 941100 only logs, never adds to the score
        'SecRuleUpdateActionById 941100 "pass,nolog"',
        'SecRuleRemoveById 941110-941390',
      ].join('\n'),
    );
    const waf = createWaf({ rules: [RULES, after], paranoia: 1 });
    const run = (uri: string) => {
      const tx = waf.transaction({
        method: 'GET',
        uri,
        protocol: 'HTTP/1.1',
        headers: [
          ['Host', 'a'],
          ['User-Agent', 'Mozilla/5.0'],
          ['Accept', '*/*'],
        ],
      });
      return { iv: tx.processRequest(), ids: tx.matches.map((m) => m.id) };
    };
    const q = run(`/?q=${encodeURIComponent("1' OR '1'='1")}`);
    assert.ok(!q.ids.some((id) => id >= 942100 && id < 943000), `${q.ids}`);
    const id = run(`/?id=${encodeURIComponent("1' OR '1'='1")}`);
    assert.equal(id.iv?.status, 403);
    const x = run(`/?c=${encodeURIComponent('<script>alert(1)</script>')}`);
    assert.ok(x.ids.includes(941100), `${x.ids}`);
    assert.ok(!x.ids.some((i) => i >= 941110 && i <= 941390));
    assert.equal(waf.rules.byId.has(941160), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
