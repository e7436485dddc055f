/**
 * Signatures and attestations on the image page (#13): the real docker-registry (TLS + htpasswd),
 * the real Debian fixture image pushed twice (team/signed, team/plain); team/signed signed with a
 * cosign key and given a vuln attestation by Bulwark's own `signImage` / `attestImage` (the same
 * code paths as `bulwark sign` / `bulwark attest`, whose output equals cosign's: test/sign). A
 * console with `--verify-key` scans the registry: cosign's attachment tags are not scanned as
 * images, the signed image shows its verified signature (key 1) and attestation (the vuln
 * predicate), the plain one none. The same registry read without a policy lists them unverified;
 * with another key they fail with the reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { attestImage, generateKeyPair, readPrivateKey, signImage } from '../../src/sign/index.js';
import { checkImageSignatures } from '../../src/server/signatures.js';
import { startRegistry } from '../fixtures/index.js';
import { advisoryDbCopy, debianReport } from './data.js';
import { Client, startConsole, waitFor, type Backend } from './helpers.js';

const VULN = 'https://cosign.sigstore.dev/attestation/vuln/v1';

for (const backend of ['sqlite'] as Backend[]) {
  test(
    `registry scans read and verify cosign signatures and attestations (${backend})`,
    { timeout: 300_000 },
    async () => {
      const { image } = await debianReport();
      const reg = await startRegistry({ tls: true, auth: true });
      const t0 = await startConsole(backend, { workers: false });
      const dataDir = t0.dataDir;
      await t0.close({ keepData: true });
      const advisoryDbPath = await advisoryDbCopy(dataDir, ['Debian']);
      const kp = generateKeyPair('pw');
      const other = generateKeyPair('pw');
      const t = await startConsole(backend, {
        dataDir,
        database: t0.database,
        advisoryDbPath,
        workers: true,
        signaturePolicy: { keys: [kp.publicPem] },
      });
      try {
        await reg.push(image, 'team/signed', '1.0');
        await reg.push(image, 'team/plain', '1.0');
        const regOpts = { username: reg.username, password: reg.password, caCertFile: reg.caCertFile };
        const key = readPrivateKey(kp.privatePem, 'pw', 'test key');
        const signed = `${reg.host}/team/signed:1.0`;
        const s = await signImage(signed, { ...regOpts, key });
        await attestImage(signed, {
          ...regOpts,
          key,
          type: 'vuln',
          predicate: {
            scanner: { uri: 'pkg:github/bulwark/bulwark', version: '0.1.0' },
            metadata: { scanStartedOn: new Date().toISOString(), scanFinishedOn: new Date().toISOString() },
          },
        });

        const admin = await new Client(t.base).login();
        const add = await admin.post('/api/registries', {
          name: 'test',
          url: `https://${reg.host}`,
          username: reg.username,
          password: reg.password,
          caCert: readFileSync(reg.caCertFile, 'utf8'),
          scheduleMinutes: 0,
        });
        assert.equal(add.status, 201, JSON.stringify(add.body));
        const { jobId } = (await admin.post(`/api/registries/${add.body.id}/scan`)).body;
        const sync = await waitFor(
          'registry-sync',
          async () => {
            const j = (await admin.get(`/api/jobs/${jobId}`)).body;
            return j.status === 'succeeded' || j.status === 'failed' ? j : undefined;
          },
          180_000,
        );
        assert.equal(sync.status, 'succeeded', sync.message);
        const scans = await waitFor(
          'image scans',
          async () => {
            const items = (await admin.get('/api/jobs?type=image-scan')).body.items as {
              status: string;
              payload: { repository: string; tag: string };
            }[];
            return items.length >= 2 && items.every((j) => j.status === 'succeeded' || j.status === 'failed')
              ? items
              : undefined;
          },
          180_000,
        );
        // the .sig / .att tags next to team/signed:1.0 are cosign's, not images
        assert.deepEqual(scans.map((j) => `${j.payload.repository}:${j.payload.tag} ${j.status}`).sort(), [
          'team/plain:1.0 succeeded',
          'team/signed:1.0 succeeded',
        ]);
        const images = (await admin.get('/api/images')).body.items as { id: number; name: string }[];
        const idOf = (repo: string) => images.find((i) => i.name === `${reg.host}/${repo}`)!.id;

        const sig = (await admin.get(`/api/images/${idOf('team/signed')}/signatures`)).body;
        assert.equal(sig.checked, true, JSON.stringify(sig) + t.logger.warnings.join('\n'));
        assert.equal(sig.digest, s.digest);
        assert.equal(sig.policy, true);
        assert.equal(sig.signed, true, JSON.stringify(sig));
        assert.deepEqual(sig.attested, [VULN]);
        assert.deepEqual(
          sig.items.map((i: { kind: string; verified: boolean; signer?: string; predicateType?: string }) => [
            i.kind,
            i.verified,
            i.signer,
            i.predicateType,
          ]),
          [
            ['signature', true, 'key 1', undefined],
            ['attestation', true, 'key 1', VULN],
          ],
        );
        const plain = (await admin.get(`/api/images/${idOf('team/plain')}/signatures`)).body;
        assert.deepEqual([plain.checked, plain.signed, plain.items], [true, false, []]);
        assert.equal((await admin.get('/api/images/999999/signatures')).status, 404);

        // the same registry without a policy: listed, not verified; with another key: not verified, and why
        const digestRef = `${reg.host}/team/signed@${s.digest}`;
        const listed = await checkImageSignatures(digestRef, regOpts, undefined);
        assert.deepEqual(
          listed.items.map((i) => [i.kind, i.verified, i.predicateType]),
          [
            ['signature', null, undefined],
            ['attestation', null, VULN],
          ],
        );
        assert.equal(listed.signed, false);
        const wrong = await checkImageSignatures(digestRef, regOpts, { keys: [other.publicPem] });
        assert.equal(wrong.signed, false);
        assert.deepEqual(
          wrong.items.map((i) => [i.kind, i.verified]),
          [
            ['signature', false],
            ['attestation', false],
          ],
        );
        assert.ok(
          wrong.items.every((i) => i.errors.some((e) => /signature/i.test(e))),
          JSON.stringify(wrong.items),
        );
        // a registry that refuses the credentials: the error is kept, nothing is claimed
        const denied = await checkImageSignatures(
          digestRef,
          { ...regOpts, password: 'wrong', retries: 0 },
          {
            keys: [kp.publicPem],
          },
        );
        assert.equal(denied.signed, false);
        assert.match(denied.error ?? '', /401|unauthori[sz]ed|denied/i);
        assert.ok(!JSON.stringify(denied).includes(reg.password));
      } finally {
        await t.close();
        await reg.stop();
      }
    },
  );
}

test('bulwark server checks its signature policy as bulwark verify checks its flags, before it starts', async () => {
  const { startServer } = await import('../../src/server/start.js');
  const { memoryLogger } = await import('../../src/core/log.js');
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-sig-policy-'));
  try {
    const base = {
      dataDir: dir,
      advisoryDbPath: join(dir, 'none.db'),
      logger: memoryLogger(),
      listen: '127.0.0.1:0',
    };
    await assert.rejects(
      startServer({ ...base, certificateIdentity: 'ci@example.com' }),
      /--certificate-oidc-issuer/,
    );
    writeFileSync(join(dir, 'k.pub'), generateKeyPair('pw').publicPem);
    await assert.rejects(
      startServer({
        ...base,
        verifyKeys: [join(dir, 'k.pub')],
        certificateIdentity: 'ci@example.com',
        certificateOidcIssuer: 'https://x',
      }),
      /--verify-key and --certificate-identity cannot be used together/,
    );
    await assert.rejects(
      startServer({ ...base, verifyKeys: [join(dir, 'missing.pub')] }),
      /--verify-key .*missing\.pub: cannot read/,
    );
    writeFileSync(join(dir, 'bad.pub'), 'not a key');
    await assert.rejects(startServer({ ...base, verifyKeys: [join(dir, 'bad.pub')] }), /--verify-key/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
