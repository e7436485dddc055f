/**
 * Advisories without a rating of their own (most GO- and PYSEC- records) take the severity of an
 * alias's record in the DB, and the finding says which. The GO-/PYSEC- records are the real ones in
 * ../shared/data/osv; their GHSA/CVE alias records are not in that data set (it holds GO- and PYSEC-
 * records only), so the two alias records here are hand-written in the shape osv.dev serves them
 * (GHSA: database_specific.severity; CVE: a CVSS vector and no affected packages).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdvisoryDb, importOsv } from '../../src/vuln/db/index.js';
import { matchPackage } from '../../src/vuln/match/index.js';
import type { Package } from '../../src/core/types.js';
import { SHARED } from '../helpers/shared.js';

const OSV = `${SHARED}/data/osv`;
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-alias-sev-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const pkg = (name: string, version: string, type: Package['type'], ecosystem: string): Package => ({
  id: `${type}:${name}@${version}`,
  name,
  version,
  type,
  ecosystem,
  purl: `pkg:${type}/${name}@${version}`,
  licenses: [],
  locations: [{ path: '/x' }],
  foundBy: 'test',
});

test('GO- and PYSEC- advisories are rated by their GHSA / CVE records, with the source named', async () => {
  const dir = join(tmp, 'records');
  mkdirSync(dir);
  copyFileSync(join(OSV, 'Go', 'GO-2020-0001.json'), join(dir, 'GO-2020-0001.json'));
  copyFileSync(join(OSV, 'PyPI', 'PYSEC-2005-1.json'), join(dir, 'PYSEC-2005-1.json'));
  const modified = '2024-01-01T00:00:00Z';
  writeFileSync(
    join(dir, 'GHSA-6vm3-jj99-7229.json'),
    JSON.stringify({
      schema_version: '1.6.0',
      id: 'GHSA-6vm3-jj99-7229',
      modified,
      aliases: ['CVE-2020-36567'],
      summary: 'Arbitrary log line injection in gin',
      affected: [
        {
          package: { ecosystem: 'Go', name: 'github.com/gin-gonic/gin' },
          ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.6.0' }] }],
        },
      ],
      database_specific: { severity: 'MODERATE', github_reviewed: true },
    }),
  );
  writeFileSync(
    join(dir, 'CVE-2005-4644.json'),
    JSON.stringify({
      schema_version: '1.6.0',
      id: 'CVE-2005-4644',
      modified,
      severity: [{ type: 'CVSS_V2', score: 'AV:N/AC:L/Au:N/C:P/I:P/A:P' }],
    }),
  );
  const db = AdvisoryDb.open(join(tmp, 'db.sqlite'));
  try {
    await importOsv(db, [dir]);
    const [gin] = matchPackage(pkg('github.com/gin-gonic/gin', '1.5.0', 'golang', 'Go'), 'Go', db);
    // the GHSA record affects the same module: it is merged, and its rating is the finding's
    assert.equal(gin!.id, 'GO-2020-0001');
    assert.equal(gin!.severity, 'MEDIUM');
    assert.equal(gin!.severitySource, 'source:ghsa');

    const [trac] = matchPackage(pkg('trac', '0.9', 'pypi', 'PyPI'), 'PyPI', db);
    assert.equal(trac!.id, 'PYSEC-2005-1');
    assert.equal(trac!.severity, 'HIGH', 'CVSS v2 7.5 from the CVE record');
    assert.equal(trac!.severitySource, 'cvss:2.0');
    assert.equal(trac!.severityFrom, 'CVE-2005-4644');
    assert.ok(trac!.cvss.some((c) => c.vector === 'AV:N/AC:L/Au:N/C:P/I:P/A:P'));
  } finally {
    db.close();
  }
  // without the alias records: UNKNOWN, as before (nothing is invented)
  const bare = AdvisoryDb.open(join(tmp, 'bare.sqlite'));
  try {
    await importOsv(bare, [join(OSV, 'PyPI', 'PYSEC-2005-1.json')]);
    const [trac] = matchPackage(pkg('trac', '0.9', 'pypi', 'PyPI'), 'PyPI', bare);
    assert.equal(trac!.severity, 'UNKNOWN');
    assert.equal(trac!.severityFrom, undefined);
  } finally {
    bare.close();
  }
});
