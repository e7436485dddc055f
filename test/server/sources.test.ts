/**
 * Reports are stored per source: a registry scan of the real Debian fixture image (stored as the
 * registry job stores it), then CI uploads for the same image from API tokens. An upload adds its
 * own findings to the image's view but never replaces or hides the registry's; each source replaces
 * only its own earlier report; counts, dashboard, history, report/SBOM links and notifications agree.
 * On SQLite and on a real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Finding, ScanReport } from '../../src/core/findings.js';
import { imageNameOf, storeReport } from '../../src/server/index.js';
import { debianReport } from './data.js';
import { BACKENDS, Client, startConsole, stopSharedPostgres, type TestConsole } from './helpers.js';

after(stopSharedPostgres);

let report: ScanReport;
before(async () => {
  report = (await debianReport()).report;
});

const fkey = (f: { kind: string; advisoryId: string; pkgName: string; path: string }) =>
  `${f.kind}|${f.advisoryId}|${f.pkgName}|${f.path}`;

/** The same report with only `keep` of its findings (plus `extra`). */
function trimmed(r: ScanReport, keep: number, extra: Finding[] = []): ScanReport {
  const c = structuredClone(r);
  let left = keep;
  for (const res of c.results) {
    res.findings = res.findings.slice(0, Math.max(0, left));
    left -= res.findings.length;
  }
  c.results[0]!.findings.push(...extra);
  return c;
}

const ciSecret: Finding = {
  kind: 'secret',
  id: 'aws-access-key-id',
  severity: 'CRITICAL',
  title: 'AWS access key in the CI build context',
  location: { path: '/ci/build/.env', line: 3 },
} as unknown as Finding;

for (const backend of BACKENDS) {
  describe(`reports per source (${backend})`, () => {
    let t: TestConsole;
    let admin: Client;
    before(async () => {
      t = await startConsole(backend);
      admin = await new Client(t.base).login();
    });
    after(() => t?.close());

    test('a CI upload with fewer findings never hides the registry scan; each source replaces only itself', async () => {
      const name = imageNameOf(report);
      const registryScan = await storeReport(t.c.ctx.db, report, {
        source: 'registry',
        submittedBy: 'registry:test',
        registryId: 1,
        imageName: name,
      });
      const all = async (q = '') =>
        (await admin.get(`/api/findings?imageId=${registryScan.imageId}&pageSize=500&exactTotal=true${q}`))
          .body as {
          total: number;
          items: { kind: string; advisoryId: string; pkgName: string; path: string; severity: string }[];
        };
      const registryView = await all();
      const registryKeys = new Set(registryView.items.map(fkey));
      assert.ok(registryKeys.size > 50, `the registry scan has real findings (${registryKeys.size})`);
      assert.equal(registryView.total, registryScan.findings);
      const registryCounts = (await admin.get(`/api/images/${registryScan.imageId}`)).body.counts;

      // A CI token uploads the same image (same name and digest) with 3 of those findings and one
      // of its own.
      const tokA = (await admin.post('/api/tokens', { name: 'ci-a', role: 'operator' })).body;
      const ciA = new Client(t.base, tokA.token);
      const upA = await ciA.post('/api/scans', trimmed(report, 3, [ciSecret]));
      assert.equal(upA.status, 201, JSON.stringify(upA.body));
      assert.equal(upA.body.imageId, registryScan.imageId, 'the same image');
      assert.equal(upA.body.findings, 4);
      assert.notEqual(upA.body.viewScanId, upA.body.scanId, 'the view is a merge of both sources');

      const merged = await all();
      const mergedKeys = new Set(merged.items.map(fkey));
      for (const k of registryKeys) assert.ok(mergedKeys.has(k), `registry finding still shown: ${k}`);
      assert.ok(mergedKeys.has('secret|aws-access-key-id||/ci/build/.env:3'), "CI's own finding shown");
      assert.equal(merged.total, registryKeys.size + 1, 'findings both sources report are shown once');
      const img = (await admin.get(`/api/images/${registryScan.imageId}`)).body;
      assert.deepEqual(img.counts, { ...registryCounts, critical: registryCounts.critical + 1 });
      assert.equal(img.lastScanId, upA.body.viewScanId);
      assert.deepEqual(
        img.sources.map((x: { key: string; scanId: number }) => [x.key, x.scanId]),
        [
          [`upload:admin (token ${tokA.id})`, upA.body.scanId],
          ['registry:1', registryScan.scanId],
        ],
      );
      // The image list, the dashboard and its trend count the merged view.
      const listed = (await admin.get('/api/images')).body.items.find(
        (i: { id: number }) => i.id === registryScan.imageId,
      );
      assert.deepEqual(listed.counts, img.counts);
      const sum = (await admin.get('/api/summary')).body;
      assert.deepEqual(sum.bySeverity, img.counts);
      assert.deepEqual(sum.trend.at(-1), { date: new Date().toISOString().slice(0, 10), ...img.counts });
      // The report behind the image's view is the registry's (layers, packages, SBOM).
      const rep = await admin.get(`/api/scans/${img.lastScanId}/report`);
      assert.equal(rep.status, 200);
      assert.equal(
        (rep.body as ScanReport).results.flatMap((r) => r.findings).length,
        report.results.flatMap((r) => r.findings).length,
      );
      // History lists what each source sent, not the merged view.
      const hist = (await admin.get(`/api/scans?imageId=${registryScan.imageId}`)).body.items;
      assert.deepEqual(
        hist.map((h: { id: number; source: string }) => [h.id, h.source]),
        [
          [upA.body.scanId, 'upload'],
          [registryScan.scanId, 'registry'],
        ],
      );

      // A second CI token adds its own report; the first one re-uploads an empty report: only its
      // own finding goes away.
      const tokB = (await admin.post('/api/tokens', { name: 'ci-b', role: 'operator' })).body.token;
      const upB = await new Client(t.base, tokB).post('/api/scans', trimmed(report, 1));
      assert.equal(upB.status, 201);
      assert.equal((await admin.get(`/api/images/${registryScan.imageId}`)).body.sources.length, 3);
      const emptyA = await ciA.post('/api/scans', trimmed(report, 0));
      assert.equal(emptyA.status, 201);
      const afterEmpty = await all();
      assert.deepEqual(new Set(afterEmpty.items.map(fkey)), registryKeys);
      assert.equal((await admin.get(`/api/images/${registryScan.imageId}`)).body.sources.length, 3);

      // The registry's own rescan does replace the registry's findings (here: fewer of them).
      const rescan = await storeReport(t.c.ctx.db, trimmed(report, 10), {
        source: 'registry',
        submittedBy: 'registry:test',
        registryId: 1,
        imageName: name,
      });
      assert.equal(rescan.findings, 10);
      const afterRescan = await all();
      assert.equal(afterRescan.total, 10, 'the registry now reports 10; the uploads repeat 1 of them');
      // Replaced merged views keep no copies of findings.
      const copies = await t.c.ctx.db
        .selectFrom('findings')
        .innerJoin('scans', 'scans.id', 'findings.scan_id')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('scans.source', '=', 'merged')
        .executeTakeFirstOrThrow();
      assert.equal(Number(copies.n), 10);
    });

    test('an upload alone is its own view; an upload of another image does not touch this one', async () => {
      const other = structuredClone(report);
      other.artifact = {
        ...other.artifact,
        name: 'ci.example/other:1',
        digest: `sha256:${'c'.repeat(64)}`,
        repoDigests: [],
        repoTags: [],
      };
      const tok = (await admin.post('/api/tokens', { name: 'ci-c', role: 'operator' })).body.token;
      const up = await new Client(t.base, tok).post('/api/scans', trimmed(other, 5));
      assert.equal(up.status, 201);
      assert.equal(up.body.viewScanId, up.body.scanId);
      const img = (await admin.get(`/api/images/${up.body.imageId}`)).body;
      assert.equal(img.lastScanId, up.body.scanId);
      assert.equal(img.sources.length, 1);
      assert.equal((await admin.get(`/api/findings?imageId=${up.body.imageId}`)).body.total, 5);
    });
  });
}
