/**
 * Order properties on real version strings: the versions syft's fixtures report for each
 * ecosystem (/work/shared/corpora/syft/expected_index.jsonl), the range events of the real OSV
 * records, and the versions of the compare corpora. For each scheme the strings are sorted with
 * its compare, and then every pair of a bounded sample must respect that order (a comparator
 * that is not a total order — not transitive or not antisymmetric — fails here), compare(a, a)
 * must be 0, and swapping the arguments must flip the sign.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { schemeFor, schemes, type VersionScheme } from '../../../src/vuln/version/index.js';
import { readJsonl, readTable } from './corpus.js';
import { SHARED } from '../../helpers/shared.js';

const SYFT_TYPES: Record<string, string> = {
  'pkg.NpmPkg': 'npm',
  'pkg.PythonPkg': 'pep440',
  'pkg.GemPkg': 'rubygems',
  'pkg.HexPkg': 'semver',
  'pkg.RustPkg': 'cargo',
  'pkg.DotnetPkg': 'nuget',
  'pkg.DartPubPkg': 'semver',
  'pkg.GoModulePkg': 'go',
  'pkg.RpmPkg': 'rpm',
  'pkg.ApkPkg': 'apk',
  'pkg.DebPkg': 'dpkg',
  'pkg.PhpComposerPkg': 'composer',
  'pkg.JavaPkg': 'maven',
};

function checkTotalOrder(scheme: VersionScheme, versions: string[], limit = 300): void {
  const sorted = [...new Set(versions)].sort((a, b) => scheme.compare(a, b));
  // Evenly spaced sample keeps the pairwise check bounded.
  const step = Math.max(1, Math.ceil(sorted.length / limit));
  const sample = sorted.filter((_, i) => i % step === 0);
  const bad: string[] = [];
  for (let i = 0; i < sample.length; i++) {
    const a = sample[i]!;
    if (scheme.compare(a, a) !== 0) bad.push(`${a} != itself`);
    for (let j = i + 1; j < sample.length; j++) {
      const b = sample[j]!;
      const ab = Math.sign(scheme.compare(a, b));
      const ba = Math.sign(scheme.compare(b, a));
      if (ab > 0) bad.push(`${a} sorted before ${b} but compares greater`);
      if (ab !== -ba) bad.push(`${a} vs ${b} is not antisymmetric`);
    }
  }
  assert.deepEqual(bad.slice(0, 10), [], `${scheme.name}: ${bad.length} violations`);
}

test("syft's real package versions are valid for their ecosystem's scheme and totally ordered", () => {
  const byScheme = new Map<string, string[]>();
  const invalid: string[] = [];
  for (const rec of readJsonl<{ packages?: Array<{ type: string; version?: string; name: string }> }>(
    '../syft/expected_index.jsonl',
  )) {
    for (const p of rec.packages ?? []) {
      const name = SYFT_TYPES[p.type];
      if (!name || p.version === undefined) continue;
      if (!schemes[name]!.isValid(p.version)) {
        invalid.push(`${name} "${p.version}" (${p.name})`);
        continue;
      }
      byScheme.set(name, [...(byScheme.get(name) ?? []), p.version]);
    }
  }
  // Only the two packages whose version syft leaves empty (a path dependency, a replaced module).
  assert.deepEqual(invalid.sort(), ['go "" (github.com/aws/aws-sdk-go-v2)', 'semver "" (local_dep)']);
  assert.equal(byScheme.size, new Set(Object.values(SYFT_TYPES)).size);
  for (const [name, versions] of byScheme) checkTotalOrder(schemes[name]!, versions);
});

test('range event versions of the real OSV records are totally ordered per ecosystem', () => {
  for (const eco of ['Debian', 'Go', 'npm', 'PyPI']) {
    const versions: string[] = [];
    let scheme: VersionScheme | undefined;
    for (const f of readdirSync(`${SHARED}/data/osv/${eco}`)) {
      const rec = JSON.parse(readFileSync(`${SHARED}/data/osv/${eco}/${f}`, 'utf8')) as {
        affected?: Array<{
          package: { ecosystem: string };
          ranges?: Array<{ type: string; events: object[] }>;
        }>;
      };
      for (const a of rec.affected ?? []) {
        scheme = schemeFor(a.package.ecosystem);
        for (const r of a.ranges ?? []) {
          if (r.type === 'GIT') continue;
          for (const e of r.events)
            for (const v of Object.values(e) as string[]) if (scheme!.isValid(v)) versions.push(v);
        }
      }
    }
    assert.ok(scheme && versions.length > 10, eco);
    checkTotalOrder(scheme, versions);
  }
});

test('versions of the dpkg, rpm and apk corpora are totally ordered', () => {
  const dpkg = readTable('deb_dpkg_Dpkg_Version.t.txt').flatMap(([a, b]) => [a!, b!]);
  const rpm = readJsonl<{ v1: string; v2: string }>('rpm_compare.jsonl')
    .flatMap((r) => [r.v1, r.v2])
    .filter((v) => schemes.rpm!.isValid(v));
  const apk = readTable('apk_version.data').flatMap(([a, , b]) => [a!, b!]);
  checkTotalOrder(schemes.dpkg!, dpkg);
  checkTotalOrder(schemes.rpm!, rpm);
  checkTotalOrder(schemes.apk!, apk);
});
