/**
 * Every real cosign signature among containers/image's fixtures (../shared/corpora/cosign) verifies
 * and every negative fails, with no network: the file re-runs itself under `unshare -n` (a new,
 * empty network namespace, where any socket to anything fails) and the outer test passes only if
 * all inner tests passed. Expectations follow containers/image's policy_eval_sigstore_test.go.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ANNOTATION,
  bundleToLayer,
  verifyAttestationLayer,
  loadTrustedRoot,
  trustedRootFrom,
  verifyImageSignatures,
  type VerifyOptions,
} from '../../src/sign/index.js';
import {
  COSIGN_FIXTURES,
  fixtureText,
  makeDirImage,
  materializeFixtures,
  readSigstoreJson,
  runCli,
  type SigstoreJson,
} from './helpers.js';

const self = fileURLToPath(import.meta.url);
const testdata = fileURLToPath(new URL('./testdata/', import.meta.url));

if (process.env.BULWARK_SIGN_NETNS !== '1') {
  test('cosign fixtures verify offline: the whole file runs again under unshare -n', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, BULWARK_SIGN_NETNS: '1' };
    delete env.NODE_TEST_CONTEXT; // the inner run reports for itself (TAP on stdout)
    const r = spawnSync('unshare', ['-n', process.execPath, '--import', 'tsx', '--test-reporter=tap', self], {
      env,
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (r.status !== 0) process.stderr.write(`${r.stdout}\n${r.stderr}\n`);
    assert.equal(r.error, undefined);
    assert.equal(r.status, 0, 'the tests inside the network namespace failed (output above)');
    assert.match(r.stdout, /^# pass [1-9]\d*$/m);
    assert.match(r.stdout, /^# fail 0$/m);
  });
} else {
  const root = materializeFixtures();
  after(() => rmSync(root, { recursive: true, force: true }));
  const dir = (n: string) => `dir:${join(root, n)}`;
  const cosignPub = fixtureText('cosign.pub');
  const cosign2Pub = fixtureText('cosign2.pub');
  const rekorPub = fixtureText('rekor.pub');
  const fulcioRoot = fixtureText('fulcio_v1.crt.pem');
  const fixtureRoot = trustedRootFrom({ rekorKeys: [rekorPub], caCertificates: [fulcioRoot] }, 'fixtures');
  const fulcioOpts: VerifyOptions = {
    trustedRoot: fixtureRoot,
    certificateIdentity: 'mitr@redhat.com',
    certificateOidcIssuer: 'https://github.com/login/oauth',
  };
  const pkiOpts: VerifyOptions = {
    caRoots: fixtureText('pki_root_crts.pem'),
    caIntermediates: fixtureText('pki_intermediate_crts.pem'),
    certificateIdentity: 'qiwan@redhat.com',
  };
  const sig = (n: string) => readSigstoreJson(join(COSIGN_FIXTURES, n));
  let n = 0;
  /** A dir: image with the manifest of `from` and these signatures. */
  const image = (from: string, sigs: SigstoreJson[]) =>
    `dir:${makeDirImage(root, `case-${++n}`, from, sigs)}`;
  const without = (s: SigstoreJson, k: string): SigstoreJson => {
    const a = { ...s.annotations };
    delete a[k];
    return { ...s, annotations: a };
  };
  const withAnn = (s: SigstoreJson, k: string, v: string): SigstoreJson => ({
    ...s,
    annotations: { ...s.annotations, [k]: v },
  });

  const expectOk = async (ref: string, o: VerifyOptions & { referenceForDir?: string }, count = 1) => {
    const r = await verifyImageSignatures(ref, o);
    assert.equal(r.verified, true, `${ref}: ${r.errors.join(' | ')}`);
    assert.equal(r.signatures.filter((s) => s.verified).length, count);
    return r;
  };
  const expectFail = async (ref: string, o: VerifyOptions & { referenceForDir?: string }, why: RegExp) => {
    const r = await verifyImageSignatures(ref, o);
    assert.equal(r.verified, false, `${ref} verified but should not`);
    assert.match(r.errors.join(' | '), why);
    return r;
  };

  test('the network namespace has no way out (a socket attempt fails)', async () => {
    const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: 9 });
      s.on('connect', () => (s.destroy(), resolve(undefined)));
      s.on('error', (e) => resolve(e));
    });
    assert.ok(err, 'connect succeeded: not in an empty network namespace');
    assert.match(String(err.code), /ENETUNREACH|ECONNREFUSED|EADDRNOTAVAIL/);
  });

  test('key signatures: valid, two valid, one bad and one good, tag identity', async () => {
    const r = await expectOk(dir('dir-img-cosign-valid'), {
      keys: [cosignPub],
      matchReference: 'repository',
      referenceForDir: '192.168.64.2:5000/cosign-signed-single-sample',
    });
    assert.equal(r.digest, 'sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00');
    assert.equal(r.signatures[0]!.payload!.critical.image['docker-manifest-digest'], r.digest);
    await expectOk(dir('dir-img-cosign-valid'), { keys: [cosign2Pub, cosignPub] });
    await expectOk(dir('dir-img-cosign-valid-2'), { keys: [cosignPub] }, 2);
    const mixed = await expectOk(dir('dir-img-cosign-mixed'), { keys: [cosignPub] }, 1);
    assert.match(mixed.signatures[0]!.errors.join(), /does not verify with the given public key/);
    await expectOk(dir('dir-img-cosign-valid-with-tag'), {
      keys: [cosignPub],
      matchReference: 'exact',
      referenceForDir: '192.168.64.2:5000/skopeo-signed:tag',
    });
  });

  test('key + Rekor SET: verifies against the fixture Rekor key and against the shipped trusted root', async () => {
    const r = await expectOk(dir('dir-img-cosign-key-rekor-valid'), {
      keys: [cosign2Pub],
      trustedRoot: fixtureRoot,
      requireTlog: true,
    });
    assert.equal(r.signatures[0]!.tlog?.kind, 'hashedrekord');
    assert.ok(r.signatures[0]!.tlog!.logIndex > 0);
    await expectOk(dir('dir-img-cosign-key-rekor-valid'), {
      keys: [cosignPub, cosign2Pub],
      requireTlog: true,
    });
    assert.equal(loadTrustedRoot().tlogs[0]!.logId, r.signatures[0]!.tlog!.logID);
  });

  test('keyless (Fulcio + Rekor): verifies with the identity, the chain at the integrated time', async () => {
    const r = await expectOk(dir('dir-img-cosign-fulcio-rekor-valid'), fulcioOpts);
    const signer = r.signatures[0]!.signer;
    assert.equal(signer?.kind, 'certificate');
    assert.deepEqual(signer.kind === 'certificate' && signer.subject, ['mitr@redhat.com']);
    // the shipped trusted root (Sigstore public-good) holds the same Fulcio root and Rekor key
    await expectOk(dir('dir-img-cosign-fulcio-rekor-valid'), { ...fulcioOpts, trustedRoot: undefined });
    await expectOk(dir('dir-img-cosign-fulcio-rekor-valid'), {
      ...fulcioOpts,
      certificateIdentity: undefined,
      certificateIdentityRegexp: '.*@redhat\\.com',
    });
  });

  test('private PKI certificates (no Rekor)', async () => {
    await expectOk(dir('dir-img-cosign-pki-valid'), pkiOpts);
    await expectOk(dir('dir-img-cosign-pki-valid'), {
      ...pkiOpts,
      certificateIdentity: 'myhost.example.com',
    });
    const s = sig('dir-img-cosign-pki-valid/signature-1');
    await expectOk(image('dir-img-cosign-pki-valid', [without(s, ANNOTATION.chain)]), pkiOpts);
    await expectFail(
      image('dir-img-cosign-pki-valid', [without(s, ANNOTATION.chain)]),
      { ...pkiOpts, caIntermediates: undefined },
      /does not chain to a trusted CA/,
    );
    await expectFail(
      image('dir-img-cosign-pki-valid', [without(s, ANNOTATION.certificate)]),
      pkiOpts,
      /has no certificate/,
    );
    await expectFail(
      dir('dir-img-cosign-pki-valid'),
      { ...pkiOpts, certificateIdentity: 'someone@example.com' },
      /not the expected someone@example.com/,
    );
  });

  test('negatives: unknown key, bad signature, wrong manifest, other attachment, identity', async () => {
    await expectFail(
      image('dir-img-cosign-valid', [sig('unknown-cosign-key.signature')]),
      { keys: [cosignPub] },
      /does not verify/,
    );
    const good = sig('dir-img-cosign-valid/signature-1');
    await expectFail(
      image('dir-img-cosign-valid', [
        withAnn(good, ANNOTATION.signature, Buffer.from('invalid signature').toString('base64')),
      ]),
      { keys: [cosignPub] },
      /does not verify/,
    );
    await expectFail(
      image('dir-img-cosign-valid', [without(good, ANNOTATION.signature)]),
      { keys: [cosignPub] },
      /no dev.cosignproject.cosign\/signature/,
    );
    await expectFail(
      dir('dir-img-cosign-modified-manifest'),
      { keys: [cosignPub] },
      /signature is for image digest sha256:634a8f35.*, not sha256:/,
    );
    await expectFail(
      dir('dir-img-cosign-other-attachment'),
      { keys: [cosignPub] },
      /not a cosign signature \(media type text\/plain/,
    );
    await expectFail(dir('dir-img-cosign-valid'), { keys: [cosign2Pub] }, /does not verify/);
    await expectFail(
      dir('dir-img-cosign-valid'),
      { keys: [cosignPub], matchReference: 'repository', referenceForDir: 'testing/manifest:notlatest' },
      /is for reference 192.168.64.2:5000\/cosign-signed-single-sample, not testing\/manifest:notlatest/,
    );
    await expectFail(
      dir('dir-img-cosign-valid-with-tag'),
      {
        keys: [cosignPub],
        matchReference: 'exact',
        referenceForDir: '192.168.64.2:5000/skopeo-signed:othertag',
      },
      /not 192.168.64.2:5000\/skopeo-signed:othertag/,
    );
    await expectFail(
      dir('dir-img-cosign-valid'),
      {
        keys: [cosignPub],
        matchReference: 'exact',
        referenceForDir: '192.168.64.2:5000/cosign-signed-single-sample:latest',
      },
      /is for reference/,
    );
    await expectFail(
      dir('dir-img-cosign-valid-2'),
      { keys: [cosignPub], matchReference: 'repository', referenceForDir: 'this/does-not:match' },
      /signature 2/,
    );
    await expectFail(dir('dir-img-unsigned'), { keys: [cosignPub] }, /no signatures in dir:/);
    await expectFail(
      dir('dir-img-valid'),
      { keys: [cosignPub] },
      /no sigstore signatures .*\(1 of another kind\)/,
    );
    await assert.rejects(
      verifyImageSignatures(dir('dir-img-cosign-no-manifest'), { keys: [cosignPub] }),
      /cannot read manifest.json/,
    );
    await assert.rejects(
      verifyImageSignatures(dir('dir-img-cosign-manifest-digest-error'), { keys: [cosignPub] }),
      /signed Docker schema 1 manifests are not supported/,
    );
    await assert.rejects(
      verifyImageSignatures(dir('dir-img-cosign-valid'), {}),
      /needs a public key or an expected certificate identity/,
    );
  });

  test('negatives: Rekor SET missing, invalid, from an untrusted log, for another signature', async () => {
    const kr = sig('dir-img-cosign-key-rekor-valid/signature-1');
    const o = { keys: [cosign2Pub], trustedRoot: fixtureRoot, requireTlog: true };
    await expectFail(
      image('dir-img-cosign-key-rekor-valid', [without(kr, ANNOTATION.bundle)]),
      o,
      /no Rekor SET/,
    );
    await expectFail(
      image('dir-img-cosign-key-rekor-valid', [withAnn(kr, ANNOTATION.bundle, 'this is not a valid SET')]),
      o,
      /not valid JSON/,
    );
    await expectFail(
      dir('dir-img-cosign-key-rekor-valid'),
      { ...o, trustedRoot: trustedRootFrom({ rekorKeys: [cosignPub] }) },
      /not in the trusted root/,
    );
    // --insecure-ignore-tlog: the SET is not even looked at (an untrusted log passes, nothing is reported)
    const ignored = await expectOk(dir('dir-img-cosign-key-rekor-valid'), {
      keys: [cosign2Pub],
      trustedRoot: trustedRootFrom({ rekorKeys: [cosignPub] }),
      ignoreTlog: true,
    });
    assert.equal(ignored.signatures[0]!.tlog, undefined);
    // … and keyless then needs a certificate valid now: the fixture's expired in 2022
    await expectFail(
      dir('dir-img-cosign-fulcio-rekor-valid'),
      { ...fulcioOpts, ignoreTlog: true },
      /is not valid at/,
    );
    // a SET whose log ID names the trusted key but whose signature is not that log's
    const set = JSON.parse(kr.annotations[ANNOTATION.bundle]!) as { SignedEntryTimestamp: string };
    const forged = {
      ...JSON.parse(kr.annotations[ANNOTATION.bundle]!),
      SignedEntryTimestamp: sig('dir-img-cosign-valid/signature-1').annotations[ANNOTATION.signature],
    };
    assert.notEqual(forged.SignedEntryTimestamp, set.SignedEntryTimestamp);
    await expectFail(
      image('dir-img-cosign-key-rekor-valid', [withAnn(kr, ANNOTATION.bundle, JSON.stringify(forged))]),
      o,
      /SET signature does not verify/,
    );
    // cosign.pub's signature with cosign2's SET: the SET is for another signature
    const good = sig('dir-img-cosign-valid/signature-1');
    await expectFail(
      image('dir-img-cosign-valid', [withAnn(good, ANNOTATION.bundle, kr.annotations[ANNOTATION.bundle]!)]),
      { keys: [cosignPub, cosign2Pub], trustedRoot: fixtureRoot },
      /is not the payload's sha256|signature in Rekor SET does not match/,
    );
  });

  test('negatives: keyless without SET, certificate, chain; wrong identity, issuer or Rekor key', async () => {
    const fr = sig('dir-img-cosign-fulcio-rekor-valid/signature-1');
    const from = 'dir-img-cosign-fulcio-rekor-valid';
    await expectFail(image(from, [without(fr, ANNOTATION.bundle)]), fulcioOpts, /no Rekor SET/);
    await expectFail(image(from, [without(fr, ANNOTATION.certificate)]), fulcioOpts, /has no certificate/);
    await expectFail(
      image(from, [without(fr, ANNOTATION.chain)]),
      fulcioOpts,
      /does not chain to a trusted CA/,
    );
    // … fine when the intermediate itself is trusted
    await expectOk(image(from, [without(fr, ANNOTATION.chain)]), {
      ...fulcioOpts,
      trustedRoot: trustedRootFrom({
        rekorKeys: [rekorPub],
        caCertificates: [fr.annotations[ANNOTATION.chain]!],
      }),
    });
    await expectFail(
      image(from, [withAnn(fr, ANNOTATION.certificate, 'this is not a valid certificate')]),
      fulcioOpts,
      /certificate is unreadable/,
    );
    await expectFail(
      dir(from),
      { ...fulcioOpts, certificateIdentity: 'this-does-not-match@example.com' },
      /not the expected this-does-not-match@example.com/,
    );
    await expectFail(
      dir(from),
      { ...fulcioOpts, certificateOidcIssuer: 'https://accounts.google.com' },
      /OIDC issuer https:\/\/github.com\/login\/oauth is not the expected/,
    );
    await expectFail(
      image(from, [withAnn(fr, ANNOTATION.bundle, 'this is not a valid SET')]),
      fulcioOpts,
      /not valid JSON/,
    );
    await expectFail(
      dir(from),
      {
        ...fulcioOpts,
        trustedRoot: trustedRootFrom({ rekorKeys: [cosignPub], caCertificates: [fulcioRoot] }),
      },
      /not in the trusted root/,
    );
    // the certificate expired in 2022: without the SET's time it is rejected even when the SET is not required
    await expectFail(
      image(from, [without(fr, ANNOTATION.bundle)]),
      { ...fulcioOpts, requireTlog: false },
      /is not valid at/,
    );
    await expectFail(
      dir(from),
      {
        certificateOidcIssuer: 'https://github.com/login/oauth',
        keys: undefined,
        trustedRoot: fixtureRoot,
        certificateIdentityRegexp: 'nobody@.*',
      },
      /does not match/,
    );
  });

  test('a real Sigstore bundle (GitHub attestation, public-good Rekor and Fulcio) verifies with the shipped trusted root', () => {
    const text = readFileSync(join(testdata, 'github-attestation-bundle.json'));
    const layer = bundleToLayer(text, 'github-attestation-bundle.json');
    const digest = 'sha256:ddd0a5974451642404b6a3485f95eb35ca5fb58e4a80ac22004ca3e3229aabc0';
    const id = {
      certificateIdentity:
        'https://github.com/foundry-rs/foundry/.github/workflows/release.yml@refs/tags/stable',
      certificateOidcIssuer: 'https://token.actions.githubusercontent.com',
      type: 'slsaprovenance1',
    };
    const ok = verifyAttestationLayer(layer, id, digest);
    assert.equal(ok.verified, true, ok.errors.join('; '));
    assert.equal(ok.tlog?.kind, 'dsse');
    assert.equal(ok.tlog?.logIndex, 726844033);
    assert.equal(ok.predicateType, 'https://slsa.dev/provenance/v1');
    const fail = (o: Record<string, unknown>, d: string, re: RegExp) => {
      const r = verifyAttestationLayer(layer, { ...id, ...o }, d);
      assert.equal(r.verified, false);
      assert.match(r.errors.join('; '), re);
    };
    fail(
      { certificateIdentity: 'https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main' },
      digest,
      /not the expected/,
    );
    fail({}, `sha256:${'0'.repeat(64)}`, /do not include the image digest/);
    fail({ type: 'cyclonedx' }, digest, /predicate type is https:\/\/slsa.dev\/provenance\/v1/);
    fail({ trustedRoot: fixtureRoot }, digest, /does not chain to a trusted CA|not valid at/);
    const b = JSON.parse(text.toString());
    b.dsseEnvelope.payload = Buffer.from(
      Buffer.from(b.dsseEnvelope.payload, 'base64').toString().replace('anvil', 'anvi1'),
    ).toString('base64');
    const tampered = verifyAttestationLayer(
      bundleToLayer(Buffer.from(JSON.stringify(b)), 'tampered'),
      id,
      digest,
    );
    assert.equal(tampered.verified, false);
    assert.match(tampered.errors.join(), /does not verify with the public key of its certificate/);
  });

  test('CLI: --trusted-root replaces the shipped root (a trusted_root.json made of the fixture keys)', async () => {
    const der = (pem: string) =>
      Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64').toString('base64');
    const file = (tlogs: boolean) => {
      const p = join(root, `trusted_root_${tlogs}.json`);
      writeFileSync(
        p,
        JSON.stringify({
          mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
          tlogs: tlogs
            ? [
                {
                  baseUrl: 'https://rekor.example',
                  hashAlgorithm: 'SHA2_256',
                  publicKey: {
                    rawBytes: der(rekorPub),
                    keyDetails: 'PKIX_ECDSA_P256_SHA_256',
                    validFor: { start: '2021-01-01T00:00:00Z' },
                  },
                },
              ]
            : [],
          certificateAuthorities: [
            {
              uri: 'https://fulcio.example',
              certChain: { certificates: [{ rawBytes: der(fulcioRoot) }] },
              validFor: { start: '2021-01-01T00:00:00Z' },
            },
          ],
        }),
      );
      return p;
    };
    const args = [
      'verify',
      dir('dir-img-cosign-fulcio-rekor-valid'),
      '--certificate-identity',
      'mitr@redhat.com',
      '--certificate-oidc-issuer',
      'https://github.com/login/oauth',
    ];
    const ok = await runCli([...args, '--trusted-root', file(true)]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /Existence of the claims in the transparency log was verified offline/);
    const noLog = await runCli([...args, '--trusted-root', file(false)]);
    assert.equal(noLog.code, 1);
    assert.match(
      noLog.stderr,
      /Rekor SET is from log c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d, which is not in the trusted root/,
    );
    const bad = join(root, 'not-a-root.json');
    writeFileSync(bad, '{"mediaType":"something else"}');
    const badRun = await runCli([...args, '--trusted-root', bad]);
    assert.equal(badRun.code, 1);
    assert.match(badRun.stderr, /not a Sigstore trusted root/);
    const missing = await runCli([...args, '--trusted-root', join(root, 'nope.json')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /trusted root .*nope.json: cannot read \(ENOENT\)/);
    // usage: keyless without an issuer
    assert.equal(
      (
        await runCli([
          'verify',
          dir('dir-img-cosign-fulcio-rekor-valid'),
          '--certificate-identity',
          'mitr@redhat.com',
        ])
      ).code,
      2,
    );
  });

  test('CLI: bulwark verify prints the verified payloads on stdout, cosign-style lines on stderr', async () => {
    const keyFile = join(root, 'cosign.pub');
    writeFileSync(keyFile, cosignPub);
    const okRun = await runCli(['verify', dir('dir-img-cosign-valid-2'), '--key', keyFile]);
    const ok = okRun.code;
    const okOut = okRun.stdout;
    const okErr = okRun.stderr;
    const badRun = await runCli(['verify', dir('dir-img-cosign-modified-manifest'), '--key', keyFile]);
    const bad = badRun.code;
    const kl = await runCli([
      'verify',
      dir('dir-img-cosign-fulcio-rekor-valid'),
      '--certificate-identity',
      'mitr@redhat.com',
      '--certificate-oidc-issuer',
      'https://github.com/login/oauth',
      '--offline',
    ]);
    const keyless = kl.code;
    const err = [badRun.stderr, kl.stderr];
    assert.equal(badRun.stdout, '');
    assert.equal(ok, 0, okErr);
    const payloads = JSON.parse(okOut) as { critical: { image: { 'docker-manifest-digest': string } } }[];
    assert.equal(payloads.length, 2);
    assert.equal(
      payloads[0]!.critical.image['docker-manifest-digest'],
      'sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00',
    );
    assert.match(okErr, /^Verification for .*dir-img-cosign-valid-2 --$/m);
    assert.match(okErr, /The signatures were verified against the specified public key/);
    assert.equal(bad, 1);
    assert.match(err.join(''), /no matching signatures: .*signature is for image digest/);
    assert.equal(keyless, 0, err.join(''));
    assert.match(
      err.join(''),
      /The code-signing certificate was verified using trusted certificate authority certificates/,
    );
  });
}
