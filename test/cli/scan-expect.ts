/**
 * Expectations for scan tests computed WITHOUT the matcher: real tools and the records' own data.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import type { FixtureImage } from '../fixtures/index.js';
import { SHARED } from '../helpers/shared.js';

export const OSV = `${SHARED}/data/osv`;

export function records(eco: string): any[] {
  return readdirSync(join(OSV, eco)).map((f) => JSON.parse(readFileSync(join(OSV, eco, f), 'utf8')));
}

/** "binary id" pairs: Debian records by source package, fixes ordered by the real dpkg. */
export function expectedDebian(dpkg: FixtureImage['expected']['dpkg']): Set<string> {
  const debian = records('Debian');
  const expected = new Set<string>();
  for (const p of dpkg) {
    for (const r of debian) {
      for (const a of r.affected) {
        if (a.package.ecosystem !== 'Debian:12' || a.package.name !== p.source) continue;
        const fixed: string | undefined = a.ranges[0].events.find((e: { fixed?: string }) => e.fixed)?.fixed;
        let affected = true;
        if (fixed) {
          try {
            execFileSync('dpkg', ['--compare-versions', p.sourceVersion, 'lt', fixed]);
          } catch {
            affected = false;
          }
        }
        if (affected) expected.add(`${p.name} ${r.id}`);
      }
    }
  }
  return expected;
}

/** "name@version id" pairs: npm records' vulnerable_versions with node-semver. */
export function expectedNpm(pkgs: { name: string; version: string }[]): Set<string> {
  const npm = records('npm').filter((r) => !r.withdrawn);
  const expected = new Set<string>();
  for (const p of pkgs) {
    for (const r of npm) {
      const range = r.database_specific?.vulnerable_versions;
      if (!range || !r.affected.some((a: { package: { name: string } }) => a.package.name === p.name))
        continue;
      if (semver.satisfies(p.version, range)) expected.add(`${p.name}@${p.version} ${r.id}`);
    }
  }
  return expected;
}

/** "name@version id" pairs: PyPI records whose OSV-generated `versions` list has the exact version. */
export function expectedPyPI(pkgs: { name: string; version: string }[]): Set<string> {
  const norm = (n: string) => n.toLowerCase().replace(/[-_.]+/g, '-');
  const expected = new Set<string>();
  const pypi = records('PyPI').filter((r) => !r.withdrawn);
  for (const p of pkgs) {
    for (const r of pypi) {
      if (
        r.affected.some(
          (a: { package: { name: string }; versions?: string[] }) =>
            norm(a.package.name) === norm(p.name) && a.versions?.includes(p.version),
        )
      ) {
        expected.add(`${p.name}@${p.version} ${r.id}`);
      }
    }
  }
  return expected;
}
