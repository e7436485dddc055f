/**
 * The schemes against the real OSV records in /work/shared/data/osv:
 * - every range event version (introduced, fixed, last_affected) of the Debian, Go, npm and
 *   PyPI records is valid for its ecosystem's scheme and each introduced precedes its fixed;
 * - PyPI records list the affected versions that osv.dev enumerated from their ranges with
 *   PyPA `packaging`; each listed version must fall inside the record's ECOSYSTEM ranges under
 *   our PEP 440 ordering (140k versions). The few that do not are inconsistencies of the records
 *   themselves (listed, with the reason, below).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { schemeFor, type VersionScheme } from '../../../src/vuln/version/index.js';
import { SHARED } from '../../helpers/shared.js';

const DATA = `${SHARED}/data/osv`;

interface Event {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}
interface Affected {
  package: { ecosystem: string; name: string };
  ranges?: Array<{ type: string; events: Event[] }>;
  versions?: string[];
}

function* records(eco: string): Generator<[string, Affected[]]> {
  for (const f of readdirSync(`${DATA}/${eco}`).sort()) {
    const rec = JSON.parse(readFileSync(`${DATA}/${eco}/${f}`, 'utf8')) as { affected?: Affected[] };
    yield [f, rec.affected ?? []];
  }
}

// Range event versions that are not valid PEP 440 (legacy PyPI versions); the matcher must
// skip such events rather than guess.
const INVALID_EVENTS: Record<string, string[]> = { PyPI: ['2019-09-12', '0.2.0-n653'] };

for (const eco of ['Debian', 'Go', 'npm', 'PyPI']) {
  test(`${eco}: range events are valid versions and introduced < fixed`, () => {
    const invalid: string[] = [];
    const misordered: string[] = [];
    let events = 0;
    for (const [file, affected] of records(eco)) {
      for (const a of affected) {
        const scheme = schemeFor(a.package.ecosystem);
        assert.ok(scheme, `${file}: no scheme for ${a.package.ecosystem}`);
        for (const r of a.ranges ?? []) {
          if (r.type === 'GIT') continue;
          let introduced: string | undefined;
          for (const e of r.events) {
            for (const v of Object.values(e) as string[]) {
              events++;
              if (v !== '0' && !scheme.isValid(v)) invalid.push(v);
            }
            if (e.introduced !== undefined) introduced = e.introduced;
            const end = e.fixed ?? e.last_affected;
            if (end !== undefined && introduced !== undefined && introduced !== '0') {
              if (scheme.isValid(introduced) && scheme.isValid(end) && scheme.compare(introduced, end) > 0) {
                misordered.push(`${file}: ${introduced} > ${end}`);
              }
            }
          }
        }
      }
    }
    assert.ok(events > 10, `only ${events} events`);
    assert.deepEqual(invalid.sort(), (INVALID_EVENTS[eco] ?? []).sort());
    assert.deepEqual(misordered, []);
  });
}

function inRanges(scheme: VersionScheme, v: string, ranges: Array<{ events: Event[] }>): boolean {
  return ranges.some((r) => {
    let inside = false;
    for (const e of r.events) {
      if (e.introduced !== undefined) {
        inside =
          e.introduced === '0' || (scheme.isValid(e.introduced) && scheme.compare(v, e.introduced) >= 0);
      } else if (e.fixed !== undefined && scheme.isValid(e.fixed)) {
        if (inside && scheme.compare(v, e.fixed) < 0) return true;
        inside = false;
      } else if (e.last_affected !== undefined && scheme.isValid(e.last_affected)) {
        if (inside && scheme.compare(v, e.last_affected) <= 0) return true;
        inside = false;
      }
    }
    return inside;
  });
}

// Listed versions outside the record's own ranges under PEP 440 (and under `packaging`, which
// orders the same way): the lists were curated separately from the ranges.
const RECORD_INCONSISTENCIES = new Set([
  // fixed "23.9.0" yet the list names 23.9.0 and its post-release
  'PYSEC-2023-177.json 23.9.0',
  'PYSEC-2023-177.json 23.9.0.post1',
  // introduced "3.2"/"4.2" yet the list names their pre-releases, which PEP 440 orders earlier
  'PYSEC-2023-61.json 3.2a1',
  'PYSEC-2023-61.json 3.2b1',
  'PYSEC-2023-61.json 3.2rc1',
  'PYSEC-2023-61.json 4.2a1',
  'PYSEC-2023-61.json 4.2b1',
  'PYSEC-2023-61.json 4.2rc1',
]);

test('PyPI: the versions osv.dev enumerated lie inside the ranges under our PEP 440 ordering', () => {
  let checked = 0;
  const outside: string[] = [];
  for (const [file, affected] of records('PyPI')) {
    for (const a of affected) {
      const scheme = schemeFor(a.package.ecosystem)!;
      const ranges = (a.ranges ?? []).filter((r) => r.type === 'ECOSYSTEM');
      if (ranges.length === 0) continue;
      for (const v of a.versions ?? []) {
        if (!scheme.isValid(v)) continue; // legacy, non-PEP 440 versions ("2.0.0-final")
        checked++;
        if (!inRanges(scheme, v, ranges)) outside.push(`${file} ${v}`);
      }
    }
  }
  assert.ok(checked > 100_000, `only ${checked} versions checked`);
  assert.deepEqual(
    outside.filter((o) => !RECORD_INCONSISTENCIES.has(o)),
    [],
  );
  assert.equal(outside.length, RECORD_INCONSISTENCIES.size);
});
