/**
 * CVSS scores of published examples: FIRST's "CVSS v3.1 Examples" document, the CVSS v2 guide's
 * examples and common NVD base scores, CVSS v4.0 scores from FIRST's reference calculator
 * documentation and NVD/GHSA records, and Log4Shell. Plus parsing errors and severity bands.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { isBulwarkError } from '../../../src/core/errors.js';
import {
  parseCvss,
  ratingOf,
  scoreCvss,
  scoreOsvSeverity,
  severityOf,
} from '../../../src/vuln/cvss/index.js';

const V31_EXAMPLES: Array<[string, string, number]> = [
  ['CVE-2021-44228 Log4Shell', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10.0],
  ['CVE-2013-1937 phpMyAdmin XSS', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 6.1],
  ['CVE-2013-0375 MySQL SQLi', 'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N', 6.4],
  ['CVE-2014-3566 POODLE', 'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N', 3.1],
  ['CVE-2012-1516 VMware guest to host', 'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H', 9.9],
  ['CVE-2009-0783 Tomcat XML parser', 'CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L', 4.2],
  ['CVE-2012-0384 Cisco IOS', 'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', 8.8],
  ['CVE-2015-1098 Apple iWork', 'CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H', 7.8],
  ['CVE-2014-0160 Heartbleed', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', 7.5],
  ['CVE-2014-6271 Shellshock', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8],
  ['CVE-2008-1447 DNS cache poisoning', 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N', 6.8],
  ['CVE-2014-2005 Sophos login bypass', 'CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 6.8],
  ['CVE-2010-0467 Joomla traversal', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N', 5.8],
  ['CVE-2012-1342 Cisco ACL bypass', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:L/A:N', 5.8],
  ['CVE-2013-6014 Juniper proxy ARP', 'CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:H', 9.3],
  ['CVE-2014-9253 DokuWiki XSS', 'CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N', 5.4],
  ['CVE-2011-1265 Microsoft Bluetooth', 'CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 8.8],
  ['CVE-2014-2019 Apple iOS', 'CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N', 4.6],
  ['CVE-2015-0970 SearchBlox CSRF', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H', 8.8],
  ['CVE-2014-0224 OpenSSL CCS injection', 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N', 7.4],
  ['no impact', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N', 0.0],
  // The same vectors under v3.0 (equal here: no floating-point edge).
  ['v3.0 Log4Shell-style', 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10.0],
  ['v3.0 Heartbleed', 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', 7.5],
  // Temporal/environmental metrics are accepted and do not change the base score.
  ['with temporal metrics', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C', 9.8],
  ['any order', 'CVSS:3.1/S:U/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H', 9.8],
];

const V2_EXAMPLES: Array<[string, string, number]> = [
  ['CVE-2002-0392 Apache chunked encoding (v2 guide)', 'AV:N/AC:L/Au:N/C:N/I:N/A:C', 7.8],
  ['CVE-2003-0818 Microsoft ASN.1 (v2 guide)', 'AV:N/AC:L/Au:N/C:C/I:C/A:C', 10.0],
  ['CVE-2003-0062 NOD32 (v2 guide)', 'AV:L/AC:H/Au:N/C:C/I:C/A:C', 6.2],
  ['NVD typical remote', 'AV:N/AC:L/Au:N/C:P/I:P/A:P', 7.5],
  ['NVD typical XSS', 'AV:N/AC:M/Au:N/C:N/I:P/A:N', 4.3],
  ['NVD local root', 'AV:L/AC:L/Au:N/C:C/I:C/A:C', 7.2],
  ['NVD remote DoS', 'AV:N/AC:L/Au:N/C:N/I:N/A:P', 5.0],
  ['NVD authenticated', 'AV:N/AC:L/Au:S/C:P/I:P/A:P', 6.5],
  ['NVD medium complexity', 'AV:N/AC:M/Au:N/C:P/I:P/A:P', 6.8],
  ['NVD local info leak', 'AV:L/AC:L/Au:N/C:P/I:N/A:N', 2.1],
  ['parenthesised, with temporal metrics', '(AV:N/AC:L/Au:N/C:P/I:P/A:P/E:F/RL:OF/RC:C)', 7.5],
  ['CVSS:2.0 prefix', 'CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P', 7.5],
];

const V4_EXAMPLES: Array<[string, string, number]> = [
  [
    'FIRST calculator: network, no interaction, low CIA',
    'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N',
    6.9,
  ],
  [
    'reference calculator doc example (E:A, MAV:A)',
    'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:L/SC:N/SI:N/SA:N/E:A/MAV:A',
    8.7,
  ],
  ['NVD critical', 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 9.3],
  ['all high', 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H', 10.0],
  ['GHSA authenticated RCE', 'CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 8.7],
  ['GHSA local privilege escalation', 'CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 8.5],
  ['GHSA denial of service', 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N', 8.7],
  [
    'GHSA stored XSS (active interaction)',
    'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N',
    5.1,
  ],
  // An exact x.x5 tie that binary floating point reaches as 8.5499999: rounds half up, as the
  // reference calculator does since its fix (RedHatProductSecurity/cvss-v4-calculator#66).
  ['x.x5 tie rounds up', 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:L/VA:N/SC:H/SI:H/SA:H', 8.6],
  ['no impact anywhere', 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N', 0.0],
];

describe('published scores', () => {
  for (const [name, vector, want] of [...V31_EXAMPLES, ...V2_EXAMPLES, ...V4_EXAMPLES]) {
    test(`${name}: ${vector} = ${want}`, () => {
      const s = scoreCvss(vector);
      assert.equal(s.score, want);
      assert.equal(s.rating, ratingOf(want, s.version));
    });
  }
});

test('unknown exploit maturity lowers a v4 score; supplemental metrics do not change it', () => {
  const base = 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N';
  assert.ok(scoreCvss(`${base}/E:U`).score < scoreCvss(base).score);
  assert.equal(scoreCvss(`${base}/E:A`).score, scoreCvss(base).score);
  assert.equal(scoreCvss(`${base}/S:P/AU:Y/R:I/V:C/RE:H/U:Red`).score, scoreCvss(base).score);
});

test('severity bands: v3/v4 per the specification, v2 per NVD, 0.0 is not promoted to LOW', () => {
  const cases: Array<[number, '3.1' | '4.0' | '2.0', string, string]> = [
    [0, '3.1', 'NONE', 'UNKNOWN'],
    [0.1, '3.1', 'LOW', 'LOW'],
    [3.9, '3.1', 'LOW', 'LOW'],
    [4.0, '3.1', 'MEDIUM', 'MEDIUM'],
    [6.9, '4.0', 'MEDIUM', 'MEDIUM'],
    [7.0, '4.0', 'HIGH', 'HIGH'],
    [8.9, '3.1', 'HIGH', 'HIGH'],
    [9.0, '3.1', 'CRITICAL', 'CRITICAL'],
    [10, '4.0', 'CRITICAL', 'CRITICAL'],
    [0, '2.0', 'LOW', 'LOW'],
    [3.9, '2.0', 'LOW', 'LOW'],
    [4.0, '2.0', 'MEDIUM', 'MEDIUM'],
    [6.9, '2.0', 'MEDIUM', 'MEDIUM'],
    [7.0, '2.0', 'HIGH', 'HIGH'],
    [10, '2.0', 'HIGH', 'HIGH'],
  ];
  for (const [score, version, rating, severity] of cases) {
    assert.equal(ratingOf(score, version), rating, `${score} v${version}`);
    assert.equal(severityOf(score, version), severity, `${score} v${version}`);
  }
  assert.equal(scoreCvss('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N').severity, 'UNKNOWN');
});

test('parseCvss returns the version and metrics', () => {
  assert.deepEqual(parseCvss('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N'), {
    version: '3.1',
    metrics: { AV: 'N', AC: 'L', PR: 'N', UI: 'N', S: 'U', C: 'H', I: 'L', A: 'N' },
  });
  assert.equal(parseCvss(' AV:N/AC:L/Au:N/C:P/I:P/A:P ').version, '2.0');
  assert.equal(parseCvss('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N').metrics.AT, 'N');
});

test('invalid vectors throw PARSE errors that say what is wrong', () => {
  const bad: Array<[string, RegExp]> = [
    ['', /not a CVSS vector/],
    ['hello', /not a CVSS vector/],
    ['CVSS:3.1/', /no metrics/],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H', /missing mandatory metric A\b/],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/C:H/I:H', /missing mandatory metrics S, A/],
    ['CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', /metric AV has value "X"/],
    ['CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', /AV appears twice/],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1', /unknown metric "ZZ"/],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/', /is not NAME:VALUE/],
    ['CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', /unsupported CVSS version 3.2/],
    ['CVSS:4.0/AV:N/AC:L/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', /missing mandatory metric AT/],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:R/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', /metric UI has value "R"/],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N', /metric SI has value "S"/],
    ['AV:N/AC:L/Au:N/C:P/I:P', /missing mandatory metric A\b/],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/toString:x', /unknown metric "toString"/],
  ];
  for (const [vector, message] of bad) {
    assert.throws(
      () => scoreCvss(vector),
      (e: unknown) => isBulwarkError(e) && e.code === 'PARSE' && message.test(e.message),
      vector,
    );
  }
});

test('scoreOsvSeverity picks v3.x, then v4.0, then v2, and skips what it cannot score', () => {
  const v31 = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';
  const v40 = 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N';
  const v2 = 'AV:N/AC:L/Au:N/C:P/I:P/A:P';
  assert.equal(
    scoreOsvSeverity([
      { type: 'CVSS_V4', score: v40 },
      { type: 'CVSS_V3', score: v31 },
    ])?.score,
    9.8,
  );
  assert.equal(
    scoreOsvSeverity([
      { type: 'CVSS_V4', score: v40 },
      { type: 'CVSS_V2', score: v2 },
    ])?.score,
    6.9,
  );
  assert.equal(scoreOsvSeverity([{ type: 'CVSS_V2', score: v2 }])?.score, 7.5);
  assert.equal(scoreOsvSeverity([{ type: 'CVSS_V4', score: v40 }], ['4.0'])?.version, '4.0');
  // Not CVSS, invalid, or mislabelled: nothing to use, so the caller keeps the source's rating.
  assert.equal(scoreOsvSeverity([{ type: 'Ubuntu', score: 'high' }]), undefined);
  assert.equal(scoreOsvSeverity([{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N' }]), undefined);
  assert.equal(scoreOsvSeverity([{ type: 'CVSS_V3', score: v40 }]), undefined);
  assert.equal(scoreOsvSeverity(undefined), undefined);
});

test("FIRST's CVSS v4.0 reference scores (excerpt of the calculator validation set)", () => {
  const lines = readFileSync(new URL('first-v4-reference.txt', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('CVSS:4.0/'));
  assert.ok(lines.length >= 60);
  const diffs = lines
    .map((l) => l.split(' ') as [string, string])
    .filter(([v, s]) => scoreCvss(v).score !== Number(s))
    .map(([v, s]) => `${v}: ${scoreCvss(v).score}, FIRST ${s}`);
  assert.deepEqual(diffs, []);
});
