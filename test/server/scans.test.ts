/**
 * Scan upload (through the real client, uploadReport) of the real Debian fixture image's report,
 * findings views with server-side filters/sorting/paging, diff between scans, suppressions — on
 * SQLite and on a real PostgreSQL. Expected numbers are computed from the report itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ScanReport, VulnerabilityFinding } from '../../src/core/findings.js';
import { severityRank } from '../../src/core/types.js';
import { isBulwarkError } from '../../src/core/errors.js';
import { uploadReport } from '../../src/server/index.js';
import { debianReport } from './data.js';
import { BACKENDS, Client, startConsole, stopSharedPostgres, type TestConsole } from './helpers.js';

after(stopSharedPostgres);

let report: ScanReport;
before(async () => {
  report = (await debianReport()).report;
});

/** Every stored finding of the report, keyed as the server keys them (secrets: path:line). */
const allKeys = () =>
  new Set(
    report.results
      .flatMap((r) => r.findings)
      .map((f) =>
        f.kind === 'vulnerability'
          ? `${f.kind}|${key(f)}`
          : `${f.kind}|${f.id}|undefined|${f.location.path}:${f.location.line}`,
      ),
  );
const vulns = () =>
  report.results
    .flatMap((r) => r.findings)
    .filter((f): f is VulnerabilityFinding => f.kind === 'vulnerability');
/** One finding per advisory, package and location (two copies of lodash are two findings). */
const key = (f: {
  id?: string;
  advisoryId?: string;
  package?: { name: string };
  pkgName?: string;
  path?: string;
  location?: { path: string };
}) => `${f.advisoryId ?? f.id}|${f.pkgName ?? f.package?.name}|${f.path ?? f.location?.path}`;

for (const backend of BACKENDS) {
  describe(`scans and findings (${backend})`, () => {
    let t: TestConsole;
    let admin: Client;
    let token: string;
    before(async () => {
      t = await startConsole(backend);
      admin = await new Client(t.base).login();
      token = (await admin.post('/api/tokens', { name: 'ci', role: 'operator' })).body.token;
    });
    after(() => t?.close());

    test('upload through uploadReport; the image and its findings match the report', async () => {
      const all = vulns();
      assert.ok(all.length > 50, `the fixture has real findings (${all.length})`);
      const up = await uploadReport(t.base, token, report);
      assert.equal(up.findings, allKeys().size);
      assert.equal(
        (await admin.get('/api/findings?kind=vulnerability&pageSize=1')).body.total,
        new Set(all.map(key)).size,
      );
      assert.equal(
        (await admin.get('/api/findings?kind=secret&pageSize=1')).body.total,
        allKeys().size - new Set(all.map(key)).size,
      );
      assert.equal(up.digest, report.artifact.digest);

      const images = await admin.get('/api/images');
      assert.equal(images.body.total, 1);
      const img = images.body.items[0];
      const expected = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
      const uniq = new Map(all.map((f) => [key(f), f]));
      for (const f of uniq.values()) expected[f.severity.toLowerCase() as keyof typeof expected]++;
      const secrets = report.results.flatMap((r) => r.findings).filter((f) => f.kind === 'secret');
      for (const f of secrets) expected[f.severity.toLowerCase() as keyof typeof expected]++;
      assert.deepEqual(img.counts, expected);
      assert.equal(img.lastScanId, up.scanId);

      // Severity + fixability filter, counted independently from the report.
      const want = [...uniq.values()].filter(
        (f) => ['CRITICAL', 'HIGH'].includes(f.severity) && f.fixedVersions.length > 0,
      );
      const res = await admin.get(`/api/findings?severity=critical,HIGH&fixable=true&pageSize=500`);
      assert.equal(res.status, 200);
      assert.equal(res.body.total, want.length);
      assert.deepEqual(res.body.items.map(key).sort(), want.map(key).sort());
      for (const f of res.body.items) assert.ok(f.fixedVersion && f.fixable);

      // Paging and sorting on the server: pages are disjoint, ordered, and cover the total.
      const seen = new Set<number>();
      let prevRank = 5;
      const total = (await admin.get('/api/findings?pageSize=1')).body.total;
      assert.equal(total, allKeys().size);
      for (let p = 1; p <= Math.ceil(total / 25); p++) {
        const pg = await admin.get(`/api/findings?page=${p}&pageSize=25&sort=severity&order=desc`);
        for (const f of pg.body.items) {
          assert.ok(!seen.has(f.id));
          seen.add(f.id);
          assert.ok(severityRank(f.severity) <= prevRank);
          prevRank = severityRank(f.severity);
        }
      }
      assert.equal(seen.size, total);
      const byPkgAsc = (await admin.get('/api/findings?sort=package&order=asc&pageSize=500')).body.items.map(
        (f: { pkgName: string }) => f.pkgName,
      );
      assert.deepEqual(
        byPkgAsc,
        [...byPkgAsc].sort((a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)),
      );

      // By package / by advisory across images.
      const somePkg = [...uniq.values()][0]!.package.name;
      const byPkg = await admin.get(`/api/findings/by-package?pageSize=500`);
      const row = byPkg.body.items.find((r: { pkgName: string }) => r.pkgName === somePkg);
      assert.equal(row.findings, [...uniq.values()].filter((f) => f.package.name === somePkg).length);
      const adv = [...uniq.values()].find((f) => f.id.startsWith('DEBIAN-'))!;
      const byAdv = await admin.get(`/api/findings/by-advisory?advisory=${encodeURIComponent(adv.id)}`);
      assert.equal(byAdv.body.total, 1);
      assert.equal(byAdv.body.items[0].images, 1);
      assert.equal(byAdv.body.items[0].maxSeverity, adv.severity);
      const affected = await admin.get(`/api/findings?advisory=${encodeURIComponent(adv.id)}`);
      assert.equal(affected.body.items[0].imageName, img.name);

      // The uploaded JSON report has no package list: the SBOM download says so.
      const noPkgs = await admin.get(`/api/scans/${up.scanId}/sbom`);
      assert.equal(noPkgs.status, 404);
      assert.equal(noPkgs.body.error.code, 'NO_PACKAGES');

      // Bad query parameters are a clear 400.
      const bad = await admin.get('/api/findings?severity=BAD');
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /severity.*BAD/);
      assert.equal((await admin.get('/api/findings?pageSize=100000')).status, 400);

      const sum = await admin.get('/api/summary');
      assert.equal(sum.body.images, 1);
      assert.deepEqual(sum.body.bySeverity, expected);
      assert.equal(
        sum.body.fixableCritical,
        [...uniq.values()].filter((f) => f.severity === 'CRITICAL' && f.fixedVersions.length).length,
      );
      assert.deepEqual(sum.body.trend.at(-1), { date: new Date().toISOString().slice(0, 10), ...expected });
      // Kept apart per kind: vulnerabilities counted from the report's vulnerabilities alone, the
      // secrets from its secrets, and the kinds add up to the totals.
      const vulnCounts = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
      for (const f of uniq.values()) vulnCounts[f.severity.toLowerCase() as keyof typeof vulnCounts]++;
      assert.deepEqual(sum.body.byKind.vulnerability, vulnCounts);
      const secretCounts = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
      for (const f of secrets) secretCounts[f.severity.toLowerCase() as keyof typeof secretCounts]++;
      assert.deepEqual(sum.body.byKind.secret, secretCounts);
      for (const sev of Object.keys(expected) as (keyof typeof expected)[])
        assert.equal(
          Object.values(sum.body.byKind as Record<string, typeof expected>).reduce((n, c) => n + c[sev], 0),
          expected[sev],
        );
    });

    test('history per digest and diff between scans (new, fixed)', async () => {
      const all = vulns();
      const dropped = all.filter((f) => f.package.ecosystem === 'npm');
      assert.ok(dropped.length > 0);
      const fewer: ScanReport = structuredClone(report);
      for (const r of fewer.results)
        r.findings = r.findings.filter((f) => !(f.kind === 'vulnerability' && f.package.ecosystem === 'npm'));
      const second = await uploadReport(t.base, token, fewer);
      const third = await uploadReport(t.base, token, report);
      assert.equal(second.imageId, third.imageId, 'same digest, same image, new scans');
      const hist = await admin.get(`/api/scans?imageId=${second.imageId}`);
      assert.ok(hist.body.total >= 3);

      const d2 = await admin.get(`/api/scans/${second.scanId}/diff`);
      assert.equal(d2.body.new.length, 0);
      assert.deepEqual(d2.body.fixed.map(key).sort(), [...new Set(dropped.map(key))].sort());
      const d3 = await admin.get(`/api/scans/${third.scanId}/diff`);
      assert.equal(d3.body.baseScanId, second.scanId);
      assert.deepEqual(d3.body.new.map(key).sort(), [...new Set(dropped.map(key))].sort());
      assert.equal(d3.body.fixed.length, 0);
      // The stored report is the uploaded one.
      const raw = await admin.get(`/api/scans/${third.scanId}/report`);
      assert.equal(raw.body.artifact.digest, report.artifact.digest);
      // Latest scan drives the views; an older scan can be asked for.
      assert.equal(
        (await admin.get(`/api/findings?scanId=${second.scanId}&pageSize=1`)).body.total,
        allKeys().size - new Set(dropped.map(key)).size,
      );
    });

    test('suppressions: applied in views, expiry honoured, audited', async () => {
      const f = vulns().find((x) => x.severity !== 'UNKNOWN')!;
      const before = (await admin.get(`/api/findings?advisory=${encodeURIComponent(f.id)}`)).body.total;
      assert.ok(before >= 1);
      const expired = await admin.post('/api/suppressions', {
        advisoryId: f.id,
        reason: 'old',
        owner: 'sec-team',
        expiresAt: '2020-01-01T00:00:00Z',
      });
      assert.equal(expired.status, 201);
      assert.equal(expired.body.active, false);
      assert.equal(
        (await admin.get(`/api/findings?advisory=${encodeURIComponent(f.id)}`)).body.total,
        before,
        'expired suppression does not apply',
      );
      const s = await admin.post('/api/suppressions', {
        advisoryId: f.id,
        pkgName: f.package.name,
        reason: 'not reachable',
        owner: 'alice',
        expiresAt: new Date(Date.now() + 86400_000).toISOString(),
      });
      assert.equal(s.status, 201);
      assert.equal(
        (
          await admin.get(
            `/api/findings?advisory=${encodeURIComponent(f.id)}&package=${encodeURIComponent(f.package.name)}`,
          )
        ).body.total,
        0,
      );
      const only = await admin.get(`/api/findings?suppressed=only&pageSize=500`);
      assert.ok(
        only.body.items.every(
          (x: { advisoryId: string; suppressed: boolean }) => x.advisoryId === f.id && x.suppressed,
        ),
      );
      assert.ok(only.body.total >= 1);
      const summary = (await admin.get('/api/summary')).body;
      const counts = summary.bySeverity;
      const bySev = (await admin.get(`/api/findings?severity=${f.severity}&pageSize=1`)).body.total;
      assert.equal(counts[f.severity.toLowerCase()], bySev, 'dashboard counts exclude suppressed findings');
      // the trend as well: today's point is the suppression-aware totals
      const { date: _d, ...today } = summary.trend.at(-1);
      assert.deepEqual(today, counts, 'the trend excludes suppressed findings');
      // the image list and the image page count the same way as the findings list
      const images = (await admin.get('/api/images?pageSize=500')).body.items as {
        id: number;
        counts: Record<string, number>;
      }[];
      for (const img of images) {
        const listed = (await admin.get(`/api/findings?imageId=${img.id}&severity=${f.severity}&pageSize=1`))
          .body.total;
        assert.equal(
          img.counts[f.severity.toLowerCase()],
          listed,
          `image ${img.id} list counts exclude suppressed findings`,
        );
        assert.equal(
          (await admin.get(`/api/images/${img.id}`)).body.counts[f.severity.toLowerCase()],
          listed,
          'image page counts too',
        );
      }
      assert.equal((await admin.del(`/api/suppressions/${s.body.id}`)).status, 204);
      assert.equal(
        (await admin.get(`/api/findings?advisory=${encodeURIComponent(f.id)}`)).body.total,
        before,
      );
      const audit = (await admin.get('/api/audit?action=suppression&pageSize=10')).body.items;
      const created = audit.find(
        (a: { action: string; detail: { reason?: string } }) =>
          a.action === 'suppression.create' && a.detail.reason === 'not reachable',
      );
      assert.ok(created);
      assert.equal(created.detail.owner, 'alice');
      assert.ok(audit.some((a: { action: string }) => a.action === 'suppression.delete'));
      assert.equal(
        (
          await admin.post('/api/suppressions', {
            advisoryId: f.id,
            reason: 'x',
            owner: 'y',
            expiresAt: 'tomorrow',
          })
        ).status,
        400,
      );
    });

    test('bad uploads are clear errors', async () => {
      const ci = new Client(t.base, token);
      const r = await ci.post('/api/scans', {
        schemaVersion: 1,
        artifact: { name: 'x' },
        results: [{ findings: [{ id: 'A', kind: 'vulnerability', severity: 'BAD' }] }],
      });
      assert.equal(r.status, 400);
      assert.match(r.body.error.message, /results\[0\]\.findings\[0\]/);
      await assert.rejects(
        uploadReport(t.base, 'bwk_notvalid_' + 'x'.repeat(40), report),
        (e) => isBulwarkError(e) && e.code === 'AUTH' && !e.message.includes('notvalid'),
      );
      await assert.rejects(
        uploadReport('ftp://x', token, report),
        (e) => isBulwarkError(e) && e.code === 'USAGE',
      );
    });
  });
}
