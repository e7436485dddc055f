/**
 * The libinjection-style detectors on benign text: every README.md of this repository's
 * node_modules (prose with code samples, quotes, parentheses and SQL words in it) and, where the
 * machine has them, Debian's /usr/share/doc copyright files. The attack side is the CRS regression
 * corpus (942100/942101, 941100/941101 all pass in crs-regression.test.ts); here the false-positive
 * rates are printed and bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectSqli, detectXss } from '../../src/waf/libinjection.js';

const NM = fileURLToPath(new URL('../../node_modules', import.meta.url));

function linesOf(files: string[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    try {
      if (statSync(f).size > 300000) continue;
      for (const l of readFileSync(f, 'latin1').split('\n')) {
        const t = l.trim();
        if (t.length > 3 && t.length < 300) out.push(t);
      }
    } catch {
      /* no such file */
    }
  }
  return out;
}

function rate(lines: string[]) {
  let sqli = 0;
  let xss = 0;
  for (const l of lines) {
    if (detectSqli(l) !== null) sqli++;
    if (detectXss(l)) xss++;
  }
  return { sqli: sqli / lines.length, xss: xss / lines.length };
}

test('few false positives on README prose and code samples', () => {
  const lines = linesOf(readdirSync(NM).map((d) => join(NM, d, 'README.md')));
  assert.ok(lines.length > 5000, `${lines.length} lines`);
  const r = rate(lines.filter((l) => !/[<>]/.test(l)));
  console.log(
    `node_modules READMEs: ${lines.length} lines, SQLi ${(r.sqli * 100).toFixed(3)}%, XSS ${(r.xss * 100).toFixed(3)}% (lines without < >)`,
  );
  assert.ok(r.sqli < 0.005, `SQLi false positives ${r.sqli}`);
  assert.ok(r.xss < 0.001, `XSS false positives ${r.xss}`);
});

test('almost none on Debian copyright prose', { skip: !existsSync('/usr/share/doc') }, () => {
  const docs = readdirSync('/usr/share/doc').map((d) => join('/usr/share/doc', d, 'copyright'));
  const lines = linesOf(docs);
  const r = rate(lines);
  console.log(
    `Debian copyright files: ${lines.length} lines, SQLi ${(r.sqli * 100).toFixed(4)}%, XSS ${(r.xss * 100).toFixed(4)}%`,
  );
  assert.ok(lines.length > 10000);
  assert.ok(r.sqli < 0.0002 && r.xss < 0.0002);
});

test('the classic payloads', () => {
  for (const s of [
    "1' OR '1'='1",
    '1 OR 1=1',
    "admin'--",
    "x' UNION SELECT password FROM users--",
    '1;DROP TABLE users',
    "' and sleep(5)#",
  ])
    assert.ok(detectSqli(s), s);
  for (const s of [
    'Maria Jensen',
    "O'Reilly and sons",
    'select a size from the list',
    'Rock & roll',
    '2 or 3 items',
  ])
    assert.equal(detectSqli(s), null, s);
  for (const s of [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">x</a>',
    '<svg/onload=alert(1)>',
  ])
    assert.ok(detectXss(s), s);
  for (const s of ['a < b and c > d', 'online shopping', '<b>bold</b> text', 'x=1 y=2'])
    assert.equal(detectXss(s), false, s);
});
