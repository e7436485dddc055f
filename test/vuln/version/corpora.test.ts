/**
 * The version-compare corpora (/work/shared/corpora/version-compare, see MANIFEST.md there):
 * apk-tools' and go-apk-version's tables, dpkg's own Dpkg_Version.t table, go-deb-version's,
 * rpm's own rpmvercmp.at, go-rpm-version's 4,489 cases, and grype's compare and constraint
 * tables for every format Bulwark has a scheme for. Every case runs; the few grype cases that
 * encode grype's own behaviour rather than the ecosystem's rule are listed in EXCLUDED with the
 * reason, and the test checks that each listed case really exists and really disagrees.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { schemes, type VersionScheme } from '../../../src/vuln/version/index.js';
import { verrevcmp } from '../../../src/vuln/version/dpkg.js';
import { rpmvercmp } from '../../../src/vuln/version/rpm.js';
import { readJsonl, readTable, satisfies, sign } from './corpus.js';

const OP: Record<string, number> = { '<': -1, '=': 0, '>': 1 };

interface Case {
  key: string;
  run: () => boolean;
}

function check(cases: Case[], excluded: Record<string, string> = {}): void {
  const failures: string[] = [];
  const seen = new Set<string>();
  for (const c of cases) {
    let ok: boolean;
    let detail = '';
    try {
      ok = c.run();
    } catch (e) {
      ok = false;
      detail = ` (threw ${(e as Error).message})`;
    }
    if (c.key in excluded) {
      seen.add(c.key);
      // An exclusion must stay justified: the case disagrees with the ecosystem's rule.
      assert.equal(ok, false, `excluded case now passes, remove it from EXCLUDED: ${c.key}`);
      continue;
    }
    if (!ok) failures.push(c.key + detail);
  }
  assert.deepEqual(failures, [], `${failures.length} of ${cases.length} corpus cases fail`);
  const stale = Object.keys(excluded).filter((k) => !seen.has(k));
  assert.deepEqual(stale, [], 'EXCLUDED lists cases that are not in the corpus');
}

// grype format name -> Bulwark scheme. grype formats without a Bulwark scheme (bitnami, fuzzy,
// jvm, kb, pacman, portage, generic) are not version schemes of any OSV ecosystem Bulwark matches.
const GRYPE_FORMATS: Record<string, string> = {
  apk: 'apk',
  deb: 'dpkg',
  rpm: 'rpm',
  gem: 'rubygems',
  maven: 'maven',
  pep440: 'pep440',
  semantic: 'semver',
  golang: 'go',
};

const RPM_EPOCH =
  "grype ignores the epoch when only one side has one; rpm (rpmvercmp/rpmVersionCompare, dnf, libsolv) reads a missing epoch as 0, and OSV's Red Hat/Rocky/Alma data writes epochs explicitly";
const RPM_TRAILING =
  'grype treats "el8" and "el8.0.0" as equal; rpmvercmp orders the longer one higher (as in rpm\'s own "2.0 < 2.0.1" case)';
const PEP440_SPECIFIER =
  'PEP 440 *specifier* matching ignores the candidate\'s local label ("==2.0.0" matches "2.0.0+cgr.1"); version *ordering* (what a scheme provides and OSV ranges use) puts 2.0.0+cgr.1 after 2.0.0';
const SEMVER_DOTS =
  'grype rewrites dots inside a pre-release into hyphens; in SemVer "alpha.beta" (two identifiers) and "alpha-beta" (one) are different pre-releases';
const APK_V_PREFIX = 'grype strips a "v" prefix; Alpine versions never have one and apk-tools rejects them';
const MAVEN_JRE =
  'grype drops "jreNN"/"jdkNN" qualifiers (MS SQL JDBC driver builds); Maven\'s ComparableVersion orders an unknown qualifier after the release';

const EXCLUDED: Record<string, string> = {
  'constraint rpm 1:0 "< 1" true': RPM_EPOCH,
  'constraint rpm 1.0 "< 2:1.0" false': RPM_EPOCH,
  'constraint rpm 2:4.19.01-1.el7_5 "<= 4.19.1-1.el7_5" true': RPM_EPOCH,
  'constraint rpm 4.19.01-1.el7_5 "< 2:4.19.1-1.el7_5" false': RPM_EPOCH,
  'constraint rpm 4.19.0-1.el7_5 "< 12:4.19.0-1.el7" false': RPM_EPOCH,
  'constraint rpm 4.19.0-1.el7_5 "<= 12:4.19.0-1.el7" false': RPM_EPOCH,
  'constraint rpm 3:4.19.0-1.el7_5 "< 4.21.0-1.el7" true': RPM_EPOCH,
  'compare rpm 1:0 1 -1': RPM_EPOCH,
  'compare rpm 2:4.19.01-1.el7_5 4.19.1-1.el7_5 0': RPM_EPOCH,
  'compare rpm 4.19.01-1.el7_5 2:4.19.1-1.el7_5 0': RPM_EPOCH,
  'compare rpm 4.19.0-1.el7_5 12:4.19.0-1.el7 1': RPM_EPOCH,
  'compare rpm 3:4.19.0-1.el7_5 4.21.0-1.el7 -1': RPM_EPOCH,
  'constraint rpm 8.3.1-5.el8 "< 0:8.3.1-5.el8.0.0" false': RPM_TRAILING,
  'constraint rpm 8.3.1-5.el8.0.0 "> 0:8.3.1-5.el8" false': RPM_TRAILING,
  'constraint pep440 6.4+cgr.1 "<=6.4.0" true': PEP440_SPECIFIER,
  'constraint pep440 2.0.0+cgr.1 "= 2.0.0" true': PEP440_SPECIFIER,
  'constraint semantic 1.0.0.alpha.beta "= 1.0.0-alpha-beta" true': SEMVER_DOTS,
  'constraint semantic 1.0.0.rc.alpha "= 1.0.0-rc-alpha" true': SEMVER_DOTS,
  'format apk 1.5.0 v1.5.0': APK_V_PREFIX,
  'format apk 1.5.0 V1.5.0': APK_V_PREFIX,
  'format apk v1.5.0 1.5.0': APK_V_PREFIX,
  'compare maven 12.10.2 12.10.2.jre11 0': MAVEN_JRE,
  'compare maven 12.10.2.jre11 12.10.2 0': MAVEN_JRE,
  'compare maven 12.10.2.jdk17 12.10.2 0': MAVEN_JRE,
  'compare maven 12.10.2.jre11 12.10.2.jdk17 0': MAVEN_JRE,
};

test('apk: apk-tools test table (apk_version.data) and go-apk-version cases', () => {
  const apk = schemes.apk!;
  const table = readTable('apk_version.data').map(([a, op, b]): Case => ({
    key: `${a} ${op} ${b}`,
    run: () => sign(apk.compare(a!, b!)) === OP[op!],
  }));
  const jsonl = readJsonl<{ v1: string; op: string; v2: string }>('apk_compare.jsonl').map((r): Case => ({
    key: `${r.v1} ${r.op} ${r.v2}`,
    run: () => sign(apk.compare(r.v1, r.v2)) === OP[r.op],
  }));
  assert.ok(table.length > 700 && jsonl.length > 700);
  check([...table, ...jsonl]);
});

test("dpkg: dpkg's own Dpkg_Version.t table and go-deb-version cases", () => {
  const dpkg = schemes.dpkg!;
  const table = readTable('deb_dpkg_Dpkg_Version.t.txt').map(([a, b, r]): Case => ({
    key: `${a} ${b} ${r}`,
    run: () => sign(dpkg.compare(a!, b!)) === Number(r),
  }));
  const go = readJsonl<{ test: string; v1: string; v2: string; v1_less: boolean }>(
    'deb_compare_go-deb-version.jsonl',
  ).map((r): Case => ({
    key: `${r.test} ${r.v1} ${r.v2}`,
    // TestCompareString exercises the comparison of one version part (verrevcmp).
    run: () =>
      (r.test === 'TestCompareString' ? verrevcmp(r.v1, r.v2) : dpkg.compare(r.v1, r.v2)) < 0 === r.v1_less,
  }));
  assert.equal(table.length, 44);
  check([...table, ...go]);
});

test("rpm: rpm's own rpmvercmp.at cases and go-rpm-version's 4,489 cases", () => {
  const rpm = schemes.rpm!;
  const at = readTable('rpm_rpmvercmp.at.txt').map(([a, b, r]): Case => ({
    key: `${a} ${b} ${r}`,
    // rpmvercmp.at tests plain version strings; as full versions they order the same way.
    run: () => sign(rpmvercmp(a!, b!)) === Number(r) && sign(rpm.compare(a!, b!)) === Number(r),
  }));
  const go = readJsonl<{ v1: string; v2: string; result: number }>('rpm_compare.jsonl').map((r): Case => ({
    key: `${r.v1} ${r.v2} ${r.result}`,
    run: () => sign(rpmvercmp(r.v1, r.v2)) === r.result,
  }));
  assert.ok(at.length > 60 && go.length === 4489);
  check([...at, ...go]);
});

test('grype compare and constraint tables, for every format with a Bulwark scheme', () => {
  const cases: Case[] = [];
  const scheme = (format: string): VersionScheme | undefined => schemes[GRYPE_FORMATS[format] ?? ''];
  for (const r of readJsonl<Record<string, string & boolean & number>>('grype_constraints.jsonl')) {
    const s = scheme(r.format);
    if (!s) continue;
    cases.push({
      key: `constraint ${r.format} ${r.version} "${r.constraint}" ${r.satisfied}`,
      run: () => satisfies(s, r.version, r.constraint) === r.satisfied,
    });
  }
  for (const r of readJsonl<Record<string, string & boolean & number>>('grype_compare.jsonl')) {
    const s = scheme(r.format);
    if (!s) continue;
    if ('thisVersion' in r) {
      // grype's format tests: a comparison succeeds or fails, or gives a stated result.
      cases.push({
        key: `format ${r.format} ${r.thisVersion} ${r.otherVersion}`,
        run: () => {
          let result: number;
          try {
            result = s.compare(r.thisVersion, r.otherVersion);
          } catch {
            return r.expectError === true;
          }
          if (r.expectResult) return sign(result) === Number(/-?\d+/.exec(r.expectResult)![0]);
          return r.expectError !== true;
        },
      });
      continue;
    }
    const want = (r.result ?? r.want) as number;
    cases.push({
      key: `compare ${r.format} ${r.v1} ${r.v2} ${want}`,
      run: () => sign(s.compare(r.v1, r.v2)) === want,
    });
  }
  assert.ok(cases.length > 500, `only ${cases.length} grype cases`);
  check(cases, EXCLUDED);
});
