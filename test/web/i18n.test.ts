/**
 * The UI's dictionaries: zh-CN has every English key (also enforced by tsc), nothing left in
 * English by copy-paste, the same {placeholders}, and translate() fills them in.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DICTS, translate } from '../../web/src/i18n.js';

/** Product and protocol names that stay as they are in Chinese UIs. */
const SAME_IN_BOTH = new Set(['notify.type.syslog', 'notify.type.webhook', 'notify.type.slack']);

test('zh-CN translates every English string with the same placeholders', () => {
  const en = DICTS.en;
  const zh = DICTS['zh-CN'];
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
  const holes = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const k of Object.keys(en) as (keyof typeof en & string)[]) {
    assert.ok(zh[k].trim(), `${k} is empty in zh-CN`);
    if (!SAME_IN_BOTH.has(k)) assert.notEqual(zh[k], en[k], `${k} is not translated`);
    assert.deepEqual(holes(zh[k]), holes(en[k]), `${k}: placeholders differ`);
  }
});

test('translate fills placeholders and leaves unknown ones', () => {
  assert.equal(
    translate('en', 'common.pageOf', { page: 2, pages: 5, total: 120 }),
    'Page 2 of 5 · 120 total',
  );
  assert.equal(
    translate('zh-CN', 'common.pageOf', { page: 2, pages: 5, total: 120 }),
    '第 2 / 5 页 · 共 120 条',
  );
  assert.equal(translate('en', 'registries.confirmDelete'), 'Delete registry {name}?');
});
