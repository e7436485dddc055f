/**
 * Registry scanning end to end, shared by registry-sqlite.test.ts and registry-postgres.test.ts (two
 * files so the two backends run in parallel): the real docker-registry with TLS + htpasswd and the real
 * Debian fixture image, credentials sealed at rest, tag filter, job progress, rescan when the advisory
 * DB changes, retries with backoff and a failed job for a wrong password.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScanReport } from '../../src/core/findings.js';
import { AdvisoryDb, importOsv } from '../../src/vuln/index.js';
import { startRegistry } from '../fixtures/index.js';
import { OSV, advisoryDbCopy, debianReport } from './data.js';
import { Client, startConsole, waitFor, type Backend } from './helpers.js';

export async function registryFlow(backend: Backend): Promise<void> {
  const { image } = await debianReport();
  const reg = await startRegistry({ tls: true, auth: true });
  const t0 = await startConsole(backend, { workers: false });
  const dataDir = t0.dataDir;
  await t0.close({ keepData: true });
  const advisoryDbPath = await advisoryDbCopy(dataDir, ['Debian']);
  const t = await startConsole(backend, {
    dataDir,
    database: t0.database,
    advisoryDbPath,
    workers: true,
    jobBackoffMs: 50,
    jobMaxAttempts: 3,
  });
  try {
    await reg.push(image, 'team-a/debian', '1.0');
    await reg.push(image, 'team-a/debian', 'dev');
    const admin = await new Client(t.base).login();
    const add = await admin.post('/api/registries', {
      name: 'test',
      url: `https://${reg.host}`,
      username: reg.username,
      password: reg.password,
      caCert: readFileSync(reg.caCertFile, 'utf8'),
      tagFilter: '^1\\.',
      scheduleMinutes: 0,
    });
    assert.equal(add.status, 201, JSON.stringify(add.body));
    assert.equal(add.body.hasPassword, true);
    assert.ok(!JSON.stringify(add.body).includes(reg.password), 'password never returned');
    const row = await t.c.ctx.db
      .selectFrom('registries')
      .selectAll()
      .where('id', '=', add.body.id)
      .executeTakeFirstOrThrow();
    assert.ok(!row.secret.includes(reg.password) && row.secret.startsWith('v1:'), 'sealed at rest');
    assert.equal(t.c.ctx.box.open(row.secret), reg.password);
    const audit = JSON.stringify((await admin.get('/api/audit?action=registry')).body);
    assert.ok(audit.includes('registry.create') && !audit.includes(reg.password));

    const { jobId } = (await admin.post(`/api/registries/${add.body.id}/scan`)).body;
    const sync = await waitFor('registry-sync', async () => {
      const j = (await admin.get(`/api/jobs/${jobId}`)).body;
      return j.status === 'succeeded' || j.status === 'failed' ? j : undefined;
    });
    assert.equal(sync.status, 'succeeded', sync.message);
    assert.equal(sync.progress, 100);
    assert.match(sync.message, /1 image scan/);
    const scanJob = await waitFor('image-scan', async () => {
      const j = (await admin.get('/api/jobs?type=image-scan')).body.items[0];
      return j && (j.status === 'succeeded' || j.status === 'failed') ? j : undefined;
    });
    assert.equal(scanJob.status, 'succeeded', scanJob.message);
    assert.deepEqual(
      scanJob.payload,
      { registryId: add.body.id, repository: 'team-a/debian', tag: '1.0' },
      'tag filter kept 1.0 only',
    );
    const images = (await admin.get('/api/images')).body;
    assert.equal(images.total, 1);
    const img = images.items[0];
    assert.equal(img.name, `${reg.host}/team-a/debian`);
    assert.equal(img.registryId, add.body.id);
    const expectedDigest = JSON.parse(readFileSync(join(image.ociDir, 'index.json'), 'utf8')).manifests[0]
      .digest;
    assert.equal(img.digest, expectedDigest, 'stored per image digest');
    const first = (await admin.get('/api/findings?pageSize=500&kind=vulnerability')).body;
    assert.ok(first.total > 0);
    assert.ok(
      first.items.every((f: { ecosystem: string }) => f.ecosystem.startsWith('Debian')),
      'only Debian advisories so far',
    );

    // SBOM download of the registry scan: CycloneDX 1.6 listing the image's dpkg packages.
    const sbom = await admin.get(`/api/scans/${img.lastScanId}/sbom?format=cyclonedx`);
    assert.equal(sbom.status, 200);
    assert.match(String(sbom.headers['content-disposition']), /attachment; filename=".*\.cdx\.json"/);
    assert.match(String(sbom.headers['content-type']), /^application\/vnd\.cyclonedx\+json/);
    const bom = sbom.body as {
      bomFormat: string;
      specVersion: string;
      components: { name: string; purl?: string }[];
    };
    assert.equal(bom.bomFormat, 'CycloneDX');
    assert.equal(bom.specVersion, '1.6');
    const debs = new Set(bom.components.filter((c) => c.purl?.startsWith('pkg:deb/')).map((c) => c.name));
    for (const p of image.expected.dpkg) assert.ok(debs.has(p.name), `SBOM lists ${p.name}`);
    const spdx = (await admin.get(`/api/scans/${img.lastScanId}/sbom?format=spdx`)).body as {
      spdxVersion: string;
    };
    assert.equal(spdx.spdxVersion, 'SPDX-2.3');

    // The advisory DB changes (npm advisories imported) → every registry is rescanned.
    const db = AdvisoryDb.open(advisoryDbPath);
    try {
      await importOsv(db, [join(OSV, 'npm')]);
    } finally {
      db.close();
    }
    const rescan = await waitFor('rescan after DB change', async () => {
      const jobs = (await admin.get('/api/jobs?type=registry-sync')).body.items as {
        payload: { reason: string };
      }[];
      return jobs.find((j) => j.payload.reason === 'vulnerability DB changed');
    });
    assert.ok(rescan);
    await t.c.jobs.drain();
    const after = (await admin.get(`/api/images/${img.id}`)).body;
    assert.notEqual(after.lastScanId, img.lastScanId);
    const diff = (await admin.get(`/api/scans/${after.lastScanId}/diff`)).body;
    assert.ok(
      diff.new.length > 0 && diff.new.every((f: { ecosystem: string }) => f.ecosystem === 'npm'),
      'the new findings are the npm advisories',
    );
    assert.equal(diff.fixed.length, 0);

    // A CI token uploads a report for the same image with fewer findings: the registry's findings
    // stay in the image's view (reports are kept per source and merged).
    const registryKeys = (
      await admin.get(`/api/findings?imageId=${img.id}&pageSize=500&exactTotal=true`)
    ).body.items.map((f: { kind: string; advisoryId: string; pkgName: string; path: string }) =>
      [f.kind, f.advisoryId, f.pkgName, f.path].join('|'),
    ) as string[];
    assert.ok(registryKeys.length > 2);
    const ciReport = (await admin.get(`/api/scans/${after.lastScanId}/report`)).body as ScanReport;
    ciReport.artifact = { ...ciReport.artifact, name: `${reg.host}/team-a/debian:1.0`, digest: img.digest };
    for (const r of ciReport.results) r.findings = [];
    const ciToken = (await admin.post('/api/tokens', { name: 'ci', role: 'operator' })).body.token;
    const up = await new Client(t.base, ciToken).post('/api/scans', ciReport);
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.equal(up.body.imageId, img.id, 'the upload is for the registry-scanned image');
    assert.equal(up.body.findings, 0);
    const shown = (
      await admin.get(`/api/findings?imageId=${img.id}&pageSize=500&exactTotal=true`)
    ).body.items.map((f: { kind: string; advisoryId: string; pkgName: string; path: string }) =>
      [f.kind, f.advisoryId, f.pkgName, f.path].join('|'),
    ) as string[];
    assert.deepEqual(shown.sort(), registryKeys.sort(), 'an empty CI upload hides nothing');
    const imgAfterUpload = (await admin.get(`/api/images/${img.id}`)).body;
    assert.deepEqual(imgAfterUpload.counts, after.counts);
    assert.equal(imgAfterUpload.registryId, add.body.id);
    assert.equal(imgAfterUpload.sources.length, 2);
    // The image's SBOM link still gives the registry scan's package list.
    const sbom2 = await admin.get(`/api/scans/${imgAfterUpload.lastScanId}/sbom?format=cyclonedx`);
    assert.equal(sbom2.status, 200);

    // Wrong password: retried with backoff, then failed, error visible, no secret in it.
    const bad = await admin.post('/api/registries', {
      name: 'bad',
      url: reg.host,
      username: reg.username,
      password: 'wrong-password-xyz',
      caCert: readFileSync(reg.caCertFile, 'utf8'),
      scheduleMinutes: 0,
    });
    const badJob = (await admin.post(`/api/registries/${bad.body.id}/scan`)).body.jobId;
    const failed = await waitFor('failed job', async () => {
      const j = (await admin.get(`/api/jobs/${badJob}`)).body;
      return j.status === 'failed' ? j : undefined;
    });
    assert.equal(failed.attempts, 3);
    assert.match(failed.message, /401|auth|unauthori[sz]ed|denied/i);
    assert.ok(!failed.message.includes('wrong-password-xyz'));
    const metrics = (await admin.get('/metrics')).body as string;
    assert.match(metrics, /bulwark_jobs\{status="failed",type="registry-sync"\} 1/);
    assert.match(metrics, /bulwark_jobs\{status="succeeded",type="image-scan"\} 2/);
  } finally {
    await t.close();
    await reg.stop();
  }
}
