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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { migrate } from '../../src/server/db/migrations.js';
import {
  BACKENDS,
  Client,
  sharedPostgres,
  startConsole,
  stopSharedPostgres,
  type TestConsole,
} from './helpers.js';

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

    test('new-finding notifications compare the merged view: repeating the registry is nothing new', async () => {
      const dest = await admin.post('/api/notifications/destinations', {
        name: 'hook',
        type: 'webhook',
        config: { url: 'http://127.0.0.1:9/hook' },
      });
      assert.equal(dest.status, 201, JSON.stringify(dest.body));
      assert.equal(
        (
          await admin.post('/api/notifications/rules', {
            name: 'all-new',
            event: 'new-finding',
            minSeverity: 'LOW',
            destinationId: dest.body.id,
          })
        ).status,
        201,
      );
      const events = async () =>
        (await t.c.ctx.db.selectFrom('outbox').select('event').orderBy('id').execute())
          .map(
            (r) =>
              JSON.parse(r.event) as {
                type: string;
                image: { name: string };
                findings?: { advisoryId: string }[];
              },
          )
          .filter((e) => e.type === 'new-finding' && e.image.name === 'notify.example/app');
      const r0 = structuredClone(report);
      r0.artifact = {
        ...r0.artifact,
        name: 'notify.example/app:1',
        digest: `sha256:${'e'.repeat(64)}`,
        repoDigests: [],
        repoTags: [],
      };
      await storeReport(
        t.c.ctx.db,
        r0,
        { source: 'registry', submittedBy: 'registry:test', registryId: 1 },
        async (st, tx) => {
          for (const h of t.c.ctx.onScanStored) await h({ ...st, registryId: null }, tx);
        },
      );
      assert.equal((await events()).length, 1, 'the first registry scan: its vulnerabilities are new');
      const tok = (await admin.post('/api/tokens', { name: 'ci-n', role: 'operator' })).body.token;
      const ci = new Client(t.base, tok);
      assert.equal((await ci.post('/api/scans', trimmed(r0, 5))).status, 201);
      assert.equal((await events()).length, 1, 'a CI report of known findings is nothing new');
      const extra = {
        kind: 'vulnerability',
        id: 'CVE-2099-0001',
        severity: 'HIGH',
        title: 'only CI sees this',
        package: {
          name: 'ci-only-lib',
          version: '1.0.0',
          ecosystem: 'npm',
          purl: 'pkg:npm/ci-only-lib@1.0.0',
        },
        fixedVersions: ['1.0.1'],
        location: { path: '/app/package-lock.json' },
      } as unknown as Finding;
      assert.equal((await ci.post('/api/scans', trimmed(r0, 5, [extra]))).status, 201);
      const ev = await events();
      assert.equal(ev.length, 2);
      assert.deepEqual(
        ev[1]!.findings!.map((f) => f.advisoryId),
        ['CVE-2099-0001'],
      );
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

for (const backend of BACKENDS) {
  test(`a database from before reports per source is migrated; its images keep their findings (${backend})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-migrate-'));
    const database =
      backend === 'postgres' ? await (await sharedPostgres()).createDatabase() : join(dir, 'old.db');
    // Schema 0002 and rows as the old storeReport wrote them: an upload that replaced a registry scan.
    const old = new Kysely<any>({
      dialect:
        backend === 'postgres'
          ? new PostgresDialect({ pool: new pg.Pool({ connectionString: database }) })
          : new SqliteDialect({ database: new BetterSqlite3(database) }),
    });
    const at = new Date().toISOString();
    const counts = { critical: 0, high: 1, medium: 0, low: 0, unknown: 0 };
    try {
      await migrate(old, backend, '0002_findings_rank_index');
      await old
        .insertInto('images')
        .values({
          name: 'reg.example/app',
          digest: `sha256:${'d'.repeat(64)}`,
          registry_id: 3,
          tags: '[]',
          os: null,
          first_seen: at,
          last_scan_id: 2,
          last_scan_at: at,
        })
        .execute();
      const scan = (id: number, source: string, by: string) => ({
        image_id: 1,
        created_at: at,
        source,
        submitted_by: by,
        advisory_db: null,
        ...counts,
        report: '{}',
        id,
      });
      await old
        .insertInto('scans')
        .values([scan(1, 'registry', 'registry:reg'), scan(2, 'upload', 'admin (token 1)')])
        .execute();
      const finding = (scanId: number, adv: string) => ({
        scan_id: scanId,
        image_id: 1,
        kind: 'vulnerability',
        advisory_id: adv,
        severity: 'HIGH',
        severity_rank: 3,
        title: '',
        pkg_name: 'openssl',
        pkg_version: '1',
        pkg_purl: '',
        ecosystem: 'Debian',
        fixed_version: '',
        fixable: 0,
        path: '/var/lib/dpkg/status',
        fkey: `vulnerability|${adv}|openssl|/var/lib/dpkg/status`,
      });
      await old
        .insertInto('findings')
        .values([finding(1, 'CVE-REG'), finding(2, 'CVE-CI')])
        .execute();
      if (backend === 'postgres')
        await sql`SELECT setval(pg_get_serial_sequence('scans', 'id'), 2)`.execute(old);
    } finally {
      await old.destroy();
    }
    const t = await startConsole(backend, { database, dataDir: dir });
    try {
      const rows = await t.c.ctx.db.selectFrom('image_sources').selectAll().execute();
      assert.deepEqual(
        rows.map((r) => [r.image_id, r.source_key, r.scan_id]),
        [[1, 'upload:admin (token 1)', 2]],
      );
      const keys = await t.c.ctx.db
        .selectFrom('scans')
        .select(['id', 'source_key', 'is_view'])
        .orderBy('id')
        .execute();
      assert.deepEqual(
        keys.map((k) => [k.id, k.source_key, k.is_view]),
        [
          [1, 'registry:3', 1],
          [2, 'upload:admin (token 1)', 1],
        ],
      );
      const admin = await new Client(t.base).login();
      const ids = async () =>
        ((await admin.get('/api/findings?imageId=1')).body.items as { advisoryId: string }[])
          .map((f) => f.advisoryId)
          .sort();
      assert.deepEqual(await ids(), ['CVE-CI']);
      // The next registry scan joins the upload instead of being replaced by it, and vice versa.
      await storeReport(
        t.c.ctx.db,
        {
          schemaVersion: 1,
          artifact: { name: 'reg.example/app:1', kind: 'image', digest: `sha256:${'d'.repeat(64)}` },
          results: [
            {
              target: 'x',
              findings: [
                {
                  kind: 'vulnerability',
                  id: 'CVE-REG',
                  severity: 'HIGH',
                  package: { name: 'openssl', version: '1', ecosystem: 'Debian', purl: '' },
                  fixedVersions: [],
                  location: { path: '/var/lib/dpkg/status' },
                },
              ],
            },
          ],
        } as unknown as ScanReport,
        { source: 'registry', submittedBy: 'registry:reg', registryId: 3 },
      );
      assert.deepEqual(await ids(), ['CVE-CI', 'CVE-REG']);
    } finally {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
