/**
 * Table-driven tests of every scheme: each table is a list of groups in ascending order (all
 * versions in one group are equal), checked on every pair in both directions, so a table of
 * n versions gives n*(n-1) ordered comparisons. Orders come from each ecosystem's documented
 * rules and examples (PEP 440's ordering example, the SemVer spec's example, Maven's
 * ComparableVersionTest lists, deb-version(7), rpmvercmp, apk-tools' suffix rules).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isBulwarkError } from '../../../src/core/errors.js';
import { isWellFormedApk } from '../../../src/vuln/version/apk.js';
import { schemeFor, schemes, type VersionScheme } from '../../../src/vuln/version/index.js';

type Groups = Array<string | string[]>;

function checkOrder(scheme: VersionScheme, groups: Groups): number {
  const gs = groups.map((g) => (Array.isArray(g) ? g : [g]));
  const bad: string[] = [];
  let n = 0;
  for (let i = 0; i < gs.length; i++) {
    for (let j = 0; j < gs.length; j++) {
      for (const a of gs[i]!) {
        for (const b of gs[j]!) {
          n++;
          const want = Math.sign(i - j);
          const got = Math.sign(scheme.compare(a, b));
          if (got !== want) bad.push(`${a} vs ${b}: got ${got}, want ${want}`);
        }
      }
    }
  }
  for (const v of gs.flat()) if (!scheme.isValid(v)) bad.push(`${v} should be valid`);
  assert.deepEqual(bad, []);
  return n;
}

function checkInvalid(scheme: VersionScheme, versions: string[]): void {
  for (const v of versions) {
    assert.equal(scheme.isValid(v), false, `${scheme.name}: "${v}" should be invalid`);
    assert.throws(
      () => scheme.compare(v, '1'),
      (e: unknown) =>
        isBulwarkError(e) && e.code === 'PARSE' && e.message.includes(v) && e.message.includes(scheme.name),
    );
    assert.throws(
      () => scheme.compare('1', v),
      (e: unknown) => isBulwarkError(e) && e.code === 'PARSE',
    );
  }
}

const TABLES: Record<string, { order: Groups[]; invalid: string[] }> = {
  dpkg: {
    order: [
      [
        '0:0~rc1',
        ['0', '0:0', '0-0'],
        '0.1',
        '1~~',
        '1~~a',
        '1~',
        ['1', '1-0', '0:1-0'],
        '1-1~',
        '1-1',
        '1-1+b1',
        '1-1.1',
        '1-2',
        '1-10',
        '1a',
        '1+dfsg',
        '1.0',
        '1.0.1',
        ['1.1', '1.01', '1.001'],
        '1.2~beta',
        '1.2',
        '1.10',
        '2.36-9',
        '2.36-9+deb12u4',
        '2.36-9+deb12u10',
        '2.36-10',
        '10',
        '1:0',
        '1:0.9',
        '2:0',
      ],
      // Ubuntu-style revisions and security updates.
      [
        '1.2.3-1',
        '1.2.3-1build1',
        '1.2.3-1ubuntu0.1',
        '1.2.3-1ubuntu0.10',
        '1.2.3-1ubuntu1',
        '1.2.3-1ubuntu1.1',
        '1.2.3-2',
      ],
    ],
    invalid: ['', 'a:1.0', '1.0 1', '1:', '1.0$'],
  },
  apk: {
    order: [
      [
        '1.0_alpha',
        '1.0_alpha1',
        '1.0_alpha2',
        '1.0_beta',
        '1.0_beta10',
        '1.0_pre1',
        '1.0_rc1',
        '1.0_rc2',
        '1.0',
        '1.0-r1',
        '1.0-r2',
        '1.0-r10',
        '1.0_cvs1',
        '1.0_svn1',
        '1.0_git1',
        '1.0_hg1',
        '1.0_p1',
        '1.0_p1-r1',
        '1.0a',
        '1.0b',
        '1.0.1_rc1',
        '1.0.1',
        '1.1',
        '2.0',
        '10.0',
      ],
      // A number with leading zeros after a dot compares as a decimal fraction.
      ['1.001', '1.01', '1.1', '1.2'],
      ['3.0.13-r0', '3.0.14-r0', '3.1.4-r5', '3.1.4-r6', '3.3.0-r1'],
    ],
    invalid: ['', 'abc', 'v1.0', ' '],
  },
  rpm: {
    order: [
      // Alphabetic segments are older than numeric ones.
      [
        'a1',
        '1.0~rc1',
        '1.0~rc2',
        '1.0',
        '1.0^',
        '1.0^git1',
        '1.0^git2',
        '1.0a',
        '1.0.1',
        ['1.1', '1.01', '1.001'],
        '1.10',
      ],
      [
        '1.0-1',
        ['1.0-1.el8', '0:1.0-1.el8'],
        '1.0-1.el8_5',
        '1.0-2.el8',
        '1.0-10.el8',
        '1.1-1',
        '2.0-1',
        '1:0.1-1',
        '2:0.0.1-1',
      ],
      ['2.28-225.el9', '2.28-225.el9_3.1', '2.28-225.el9_4', '2.28-226.el9'],
    ],
    invalid: ['', 'x:1.0', '1.0 1'],
  },
  npm: {
    // The SemVer 2.0 spec's precedence example.
    order: [
      [
        '0.0.1',
        '0.1.0',
        '1.0.0-alpha',
        '1.0.0-alpha.1',
        '1.0.0-alpha.beta',
        '1.0.0-beta',
        '1.0.0-beta.2',
        '1.0.0-beta.11',
        '1.0.0-rc.1',
        ['1.0.0', 'v1.0.0', '=1.0.0', '1.0.0+build.5', ' 1.0.0 '],
        '1.0.1',
        '1.1.0',
        '2.0.0',
        '10.0.0',
      ],
    ],
    invalid: ['1.0', 'abc', '1.0.0.0', ''],
  },
  go: {
    order: [
      [
        'v0.0.0-20190101000000-abcdefabcdef',
        'v0.0.0-20200101000000-abcdefabcdef',
        'v0.1.0',
        'v1.0.0-rc.1',
        ['v1.0.0', '1.0.0'],
        // A pseudo-version after v1.0.0 is a pre-release of v1.0.1.
        'v1.0.1-0.20210101000000-abcdefabcdef',
        'v1.0.1',
        ['v2.0.0+incompatible', '2.0.0'],
        'v2.1.0',
      ],
      // Standard library / toolchain versions.
      [
        ['go1.9beta1', '1.9.0-beta.1'],
        'go1.9',
        ['go1.19', 'go1.19.0', '1.19.0'],
        'go1.19.8',
        'go1.20rc1',
        ['go1.20', '1.20.0'],
        'go1.21.0',
      ],
    ],
    invalid: ['v1', '1.0', 'latest', 'go1', ''],
  },
  cargo: {
    order: [['0.1.0', '1.0.0-alpha', '1.0.0-alpha.1', ['1.0.0', '1.0.0+meta'], '1.0.1', '1.2.0', '1.10.0']],
    invalid: ['v1.0.0', '01.0.0', '1.0', '*'],
  },
  semver: {
    order: [
      [
        '1.0.0-alpha',
        ['1.0.0.beta', '1.0.0-beta'],
        ['1.0.0', 'v1.0.0', '1', '1.0', 'V1'],
        '1.0.1',
        ['1.20rc1', '1.20.0-rc1'],
        ['1.20', '1.20.0'],
        ['2', '2.0', '2.0.0+meta'],
      ],
    ],
    invalid: ['abc', '', '1.2.3.4.5'],
  },
  pep440: {
    // PEP 440's own ordering example, then epochs.
    order: [
      [
        '1.0.dev456',
        '1.0a1',
        '1.0a2.dev456',
        '1.0a12.dev456',
        '1.0a12',
        '1.0b1.dev456',
        ['1.0b2', '1.0-beta-2', '1.0.beta2', '1.0B2'],
        '1.0b2.post345.dev456',
        '1.0b2.post345',
        '1.0rc1.dev456',
        ['1.0rc1', '1.0c1', '1.0-pre1', '1.0preview1'],
        ['1.0', '1.0.0', 'v1.0', '1.0.0.0'],
        '1.0+abc.5',
        ['1.0+abc.7', '1.0+abc-7', '1.0+abc_7'],
        '1.0+5',
        '1.0.post456.dev34',
        ['1.0.post456', '1.0-456', '1.0-r456', '1.0.rev456', '1.0post456'],
        '1.0.15',
        '1.1.dev1',
        ['2.2', '2.2.0'],
        '10.0',
        '1!0.1',
        '2!0.0.1',
      ],
    ],
    invalid: ['not/valid', 'abc', '1..0', '', '2.0.0-final'],
  },
  maven: {
    // Maven's ComparableVersionTest qualifier and number lists (each strictly increasing).
    order: [
      [
        '1-alpha2snapshot',
        '1-alpha2',
        '1-alpha-123',
        '1-beta-2',
        '1-beta123',
        '1-m2',
        '1-m11',
        ['1-rc', '1-cr'],
        '1-cr2',
        '1-rc123',
        '1-SNAPSHOT',
        ['1', '1.0', '1.0.0', '1-ga', '1.final', '1-RELEASE', '1-0', '01'],
        '1-sp',
        '1-sp2',
        '1-sp123',
        '1-abc',
        '1-def',
        '1-pom-1',
        '1-1-snapshot',
        '1-1',
        '1-2',
        '1-123',
      ],
      [
        '2.0',
        '2.0.a',
        '2-1',
        '2.0.2',
        '2.0.123',
        '2.1.0',
        '2.1-a',
        '2.1b',
        '2.1-c',
        '2.1-1',
        '2.1.0.1',
        '2.2',
        '2.123',
        '11.a2',
        '11.a11',
        '11.b2',
        '11.b11',
        '11.m2',
        '11.m11',
        '11',
        '11.a',
        '11b',
        '11c',
        '11m',
      ],
      ['5.3.0.RC1', '5.3.0-SNAPSHOT', ['5.3.0', '5.3.0.RELEASE'], '5.3.1', '5.3.10'],
    ],
    invalid: ['', '   ', '1.0/2'],
  },
  rubygems: {
    order: [
      [
        ['', '0', '0.0'],
        '0.9',
        ['1.0.a', '1.a', '1.0.0.a'],
        '1.0.a.1',
        '1.0.b1',
        // "-" reads as ".pre.": 1.0-rc1 is [1, "pre", "rc", 1], before [1, "rc", 1].
        ['1.0-rc1', '1.0.pre.rc1'],
        '1.0.rc1',
        ['1', '1.0', '1.0.0'],
        '1.0.1',
        '1.1',
        '1.10',
      ],
      // Versions from gem file names carry a platform, which is not part of the version.
      ['1.19.2', ['1.19.3', '1.19.3-x86_64-linux-gnu', '1.19.3-java', '1.19.3-arm64-darwin'], '1.19.4'],
      ['7.0.8-rc1', '7.0.8', '7.0.8.1', '7.1.0.beta1', '7.1.0'],
    ],
    invalid: ['abc', '1..0', '1.0 beta'],
  },
  composer: {
    order: [
      [
        '1.0.0-dev',
        ['1.0.0-alpha1', '1.0.0-a1', '1.0.0alpha1'],
        '1.0.0-alpha2',
        '1.0.0-beta',
        ['1.0.0-beta2', '1.0.0-b2', '1.0.0-beta.2'],
        ['1.0.0-RC1', '1.0.0-rc1'],
        ['1.0.0', 'v1.0.0', '1.0', '1.0.0.0', '1.0.0+build'],
        ['1.0.0-patch1', '1.0.0-p1', '1.0.0-pl1'],
        '1.0.1',
        '1.1',
        'v2.0',
        '2.x-dev',
        '3.0.0',
      ],
    ],
    invalid: ['dev-main', 'abc', '', '1.0.0-foo'],
  },
  nuget: {
    order: [
      [
        '1.0.0-alpha',
        '1.0.0-alpha.1',
        '1.0.0-alpha.2',
        '1.0.0-alpha.10',
        '1.0.0-alpha.beta',
        '1.0.0-beta',
        ['1.0.0-rc.1', '1.0.0-RC.1'],
        ['1.0', '1.0.0', '1.0.0.0', '01.0.0', '1.0.0+build'],
        '1.0.0.1-beta',
        '1.0.0.1',
        '1.0.1',
        '1.1',
        '2.0.0',
      ],
    ],
    invalid: ['v1.0.0', '1.0.0.0.0', 'a', ''],
  },
};

describe('version schemes: ordering tables', () => {
  let total = 0;
  for (const [name, table] of Object.entries(TABLES)) {
    test(name, () => {
      const scheme = schemes[name];
      assert.ok(scheme, `no scheme ${name}`);
      assert.equal(scheme.name, name);
      for (const groups of table.order) total += checkOrder(scheme, groups);
      checkInvalid(scheme, table.invalid);
    });
  }
  test('the tables are large', () => {
    assert.ok(total > 5000, `${total} comparisons`);
  });
});

test('every registered scheme has a table', () => {
  assert.deepEqual(Object.keys(schemes).sort(), Object.keys(TABLES).sort());
});

test('schemeFor maps OSV ecosystem names, with release suffixes, to schemes', () => {
  const want: Record<string, string> = {
    Debian: 'dpkg',
    'Debian:12': 'dpkg',
    'Ubuntu:22.04:LTS': 'dpkg',
    'Ubuntu:Pro:18.04:LTS': 'dpkg',
    'Alpine:v3.19': 'apk',
    Wolfi: 'apk',
    Chainguard: 'apk',
    'Red Hat': 'rpm',
    'Red Hat:enterprise_linux:9::baseos': 'rpm',
    'Rocky Linux:9': 'rpm',
    'AlmaLinux:8': 'rpm',
    'openSUSE:Leap 15.5': 'rpm',
    'SUSE:Linux Enterprise Server 15 SP5': 'rpm',
    npm: 'npm',
    Go: 'go',
    'crates.io': 'cargo',
    PyPI: 'pep440',
    Maven: 'maven',
    RubyGems: 'rubygems',
    Packagist: 'composer',
    NuGet: 'nuget',
    Pub: 'semver',
    Hex: 'semver',
    pypi: 'pep440',
  };
  for (const [eco, name] of Object.entries(want)) assert.equal(schemeFor(eco)?.name, name, eco);
  assert.equal(schemeFor('GIT'), undefined);
  assert.equal(schemeFor('CRAN'), undefined);
  assert.equal(schemeFor(''), undefined);
});

test("isWellFormedApk is apk's strict grammar; the scheme still orders what apk-tools orders", () => {
  for (const v of [
    '1.0',
    '1.2.3_rc1-r4',
    '1.0a_p2',
    '2.0_alpha1_pre2',
    '1.0~abc123-r0',
    '0.1.0_git20240101-r1',
  ]) {
    assert.equal(isWellFormedApk(v), true, v);
  }
  for (const v of ['1.0bc', '23_foo', '1.0-r', '1.0-1', 'v1.0', '1.0~', '1..0', '']) {
    assert.equal(isWellFormedApk(v), false, v);
  }
  // Not well formed, yet ordered token by token like apk-tools does (its own test table has these).
  assert.ok(schemes.apk!.compare('1.0', '1.0bc') < 0);
  assert.ok(schemes.apk!.compare('23_foo', '4_beta') > 0);
});
