/**
 * Round trip against the real registry: Debian's docker-registry on 127.0.0.1 with TLS and
 * htpasswd auth (startRegistry), the real Debian fixture image pushed with skopeo. Through the CLI:
 * generate-key-pair, sign (the legacy `.sig` tag: the fallback every registry serves), verify;
 * then tampering (another image re-tagged, signatures moved, a modified signature layer) fails
 * naming why; and a CycloneDX SBOM made by Bulwark itself is attested and verified.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RegistryPusher } from '../../src/image/index.js';
import {
  ANNOTATION,
  attachmentManifest,
  readPrivateKey,
  signImage,
  SIMPLESIGNING_MEDIA_TYPE,
  verifyImageAttestations,
  verifyImageSignatures,
} from '../../src/sign/index.js';
import { sha256 } from '../../src/sign/layout.js';
import { debianImage, startRegistry, type FixtureImage, type TestRegistry } from '../fixtures/index.js';
import { runCli } from './helpers.js';

const execFileP = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-sign-registry-'));
let reg: TestRegistry;
let img: FixtureImage;
let env: NodeJS.ProcessEnv;
let creds: string[];
const keyPrefix = join(tmp, 'cosign');
const password = 'correct horse battery staple';

before(async () => {
  [reg, img] = await Promise.all([startRegistry({ auth: true }), debianImage()]);
  await reg.push(img, 'bulwark/debian', 'v1');
  env = { BULWARK_PASSWORD: reg.password, COSIGN_PASSWORD: password };
  creds = ['--username', reg.username, '--ca-cert', reg.caCertFile];
});
after(async () => {
  await reg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const regOpts = () => ({ username: reg.username, password: reg.password, caCertFile: reg.caCertFile });
const pusher = () => new RegistryPusher(reg.host, regOpts());

async function manifestOf(repo: string, ref: string) {
  const p = pusher();
  try {
    return await p.getManifestRaw(repo, ref, [
      'application/vnd.oci.image.manifest.v1+json',
      'application/vnd.docker.distribution.manifest.v2+json',
    ]);
  } finally {
    await p.close();
  }
}

test('generate-key-pair, sign, verify through the CLI against the TLS + auth registry', async () => {
  const gen = await runCli(['generate-key-pair', '--output-key-prefix', keyPrefix], env);
  assert.equal(gen.code, 0, gen.stderr);
  assert.match(gen.stderr, /Private key written to .*cosign\.key/);
  assert.equal(statSync(`${keyPrefix}.key`).mode & 0o777, 0o600);
  assert.match(readFileSync(`${keyPrefix}.key`, 'utf8'), /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----/);
  assert.equal(
    (await runCli(['generate-key-pair', '--output-key-prefix', keyPrefix], env)).code,
    2,
    'refuses to overwrite',
  );
  const noPw = await runCli(['generate-key-pair', '--output-key-prefix', join(tmp, 'other')], {
    COSIGN_PASSWORD: undefined,
  });
  assert.equal(noPw.code, 2);
  assert.match(noPw.stderr, /COSIGN_PASSWORD/);

  const image = `${reg.host}/bulwark/debian:v1`;
  const wrongPw = await runCli(['sign', image, '--key', `${keyPrefix}.key`, ...creds], {
    ...env,
    COSIGN_PASSWORD: 'nope',
  });
  assert.notEqual(wrongPw.code, 0);
  assert.match(wrongPw.stderr, /decryption failed/);
  assert.ok(
    !wrongPw.stderr.includes(password) && !wrongPw.stderr.includes(reg.password),
    'no secret on stderr',
  );

  const s = await runCli(['sign', image, '--key', `${keyPrefix}.key`, ...creds], env);
  assert.equal(s.code, 0, s.stderr);
  assert.match(
    s.stderr,
    new RegExp(`Pushing signature to: ${reg.host}/bulwark/debian:sha256-[0-9a-f]{64}\\.sig`),
  );

  const v = await runCli(['verify', image, '--key', `${keyPrefix}.pub`, ...creds], env);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stderr, new RegExp(`Verification for ${image} --`));
  const top = await manifestOf('bulwark/debian', 'v1');
  const payloads = JSON.parse(v.stdout);
  assert.equal(payloads.length, 1);
  assert.equal(payloads[0].critical.image['docker-manifest-digest'], top!.digest);
  assert.equal(payloads[0].critical.identity['docker-reference'], `${reg.host}/bulwark/debian`);

  // what is in the registry: cosign's layout, the manifest exactly as the layout writer makes it
  const tag = `sha256-${top!.digest.slice(7)}.sig`;
  const sig = await manifestOf('bulwark/debian', tag);
  const doc = JSON.parse(sig!.body.toString());
  assert.equal(doc.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(doc.layers.length, 1);
  assert.equal(doc.layers[0].mediaType, SIMPLESIGNING_MEDIA_TYPE);
  assert.ok(sig!.body.equals(attachmentManifest(doc.layers).manifest));
});

test('a second signature is appended; the library API (used by admission) verifies with a KeyObject', async () => {
  const image = `${reg.host}/bulwark/debian:v1`;
  const key = readPrivateKey(readFileSync(`${keyPrefix}.key`, 'utf8'), password, 'cosign.key');
  const r = await signImage(image, { ...regOpts(), key, annotations: { env: 'ci' } });
  const sig = await manifestOf('bulwark/debian', r.tag);
  assert.equal(JSON.parse(sig!.body.toString()).layers.length, 2);
  const res = await verifyImageSignatures(image, {
    ...regOpts(),
    keys: [readFileSync(`${keyPrefix}.pub`, 'utf8')],
  });
  assert.equal(res.verified, true, res.errors.join('; '));
  assert.equal(res.digest, r.digest);
  assert.equal(res.signatures.length, 2);
  assert.deepEqual(res.signatures[1]!.payload!.optional, { env: 'ci' });
  const byObj = await verifyImageSignatures(
    { registry: reg.host, repository: 'bulwark/debian', digest: r.digest },
    { ...regOpts(), keys: [createPublicKey(key)] },
  );
  assert.equal(byObj.verified, true);
});

test('tampering fails naming why: another image re-tagged, signatures moved, a modified layer, another key', async () => {
  const image = `${reg.host}/bulwark/debian:v1`;
  const signed = (await manifestOf('bulwark/debian', 'v1'))!.digest;
  const sigTag = `sha256-${signed.slice(7)}.sig`;
  // another image (the same content as a Docker v2s2 manifest: another digest) pushed over the signed tag
  const certDir = join(tmp, 'certs.d');
  mkdirSync(certDir, { recursive: true });
  copyFileSync(reg.caCertFile, join(certDir, 'ca.crt'));
  await execFileP(
    'skopeo',
    [
      'copy',
      '--quiet',
      '--format',
      'v2s2',
      `oci:${img.ociDir}:${img.tag}`,
      `docker://${image}`,
      `--dest-cert-dir=${certDir}`,
      `--dest-creds=${reg.username}:${reg.password}`,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const other = (await manifestOf('bulwark/debian', 'v1'))!.digest;
  assert.notEqual(other, signed);
  const v1 = await runCli(['verify', image, '--key', `${keyPrefix}.pub`, ...creds], env);
  assert.equal(v1.code, 1);
  assert.match(
    v1.stderr,
    new RegExp(
      `no matching signatures: no signatures found for .*@${other} \\(no tag sha256-${other.slice(7)}\\.sig\\)`,
    ),
  );
  assert.equal(v1.stdout, '');

  // the attacker copies the signatures of the signed image to the new one
  const sig = (await manifestOf('bulwark/debian', sigTag))!;
  const p = pusher();
  try {
    await p.putManifest(
      'bulwark/debian',
      `sha256-${other.slice(7)}.sig`,
      sig.body,
      'application/vnd.oci.image.manifest.v1+json',
    );
  } finally {
    await p.close();
  }
  const v2 = await runCli(['verify', image, '--key', `${keyPrefix}.pub`, ...creds], env);
  assert.equal(v2.code, 1);
  assert.match(v2.stderr, new RegExp(`signature is for image digest ${signed}, not ${other}`));

  // a modified signature layer: the payload names the new digest, the signature is the old one
  const doc = JSON.parse(sig.body.toString()) as {
    layers: { mediaType: string; size: number; digest: string; annotations: Record<string, string> }[];
  };
  const forged = Buffer.from(
    `{"critical":{"identity":{"docker-reference":"${reg.host}/bulwark/debian"},"image":{"docker-manifest-digest":"${other}"},"type":"cosign container image signature"},"optional":null}`,
  );
  const layer = {
    mediaType: SIMPLESIGNING_MEDIA_TYPE,
    size: forged.length,
    digest: sha256(forged),
    annotations: { [ANNOTATION.signature]: doc.layers[0]!.annotations[ANNOTATION.signature]! },
  };
  const { manifest, config } = attachmentManifest([layer]);
  const p2 = pusher();
  try {
    await p2.pushBlob('bulwark/debian', forged);
    await p2.pushBlob('bulwark/debian', config);
    await p2.putManifest(
      'bulwark/debian',
      `sha256-${other.slice(7)}.sig`,
      manifest,
      'application/vnd.oci.image.manifest.v1+json',
    );
  } finally {
    await p2.close();
  }
  const v3 = await runCli(['verify', image, '--key', `${keyPrefix}.pub`, ...creds], env);
  assert.equal(v3.code, 1);
  assert.match(v3.stderr, /signature does not verify with the given public key/);

  // the signed digest itself still verifies; with another key it does not
  const byDigest = `${reg.host}/bulwark/debian@${signed}`;
  assert.equal((await runCli(['verify', byDigest, '--key', `${keyPrefix}.pub`, ...creds], env)).code, 0);
  const otherKey = join(tmp, 'other.pub');
  writeFileSync(
    otherKey,
    generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'pem', type: 'spki' }),
  );
  const v4 = await runCli(['verify', byDigest, '--key', otherKey, ...creds], env);
  assert.equal(v4.code, 1);
  assert.match(v4.stderr, /does not verify with the given public key/);
  // usage errors exit 2
  assert.equal((await runCli(['verify', byDigest, ...creds], env)).code, 2);
  assert.equal(
    (await runCli(['verify', byDigest, '--certificate-identity', 'a@b.c', ...creds], env)).code,
    2,
  );
});

test('attest a CycloneDX SBOM made by Bulwark and verify-attestation it; a vuln attestation and its age', async () => {
  // the signed image again under its own tag
  await reg.push(img, 'bulwark/debian', 'att');
  const image = `${reg.host}/bulwark/debian:att`;
  const sbomFile = join(tmp, 'sbom.cdx.json');
  const sb = await runCli(['sbom', `oci:${img.ociDir}:${img.tag}`, '-f', 'cyclonedx', '-o', sbomFile]);
  assert.equal(sb.code, 0, sb.stderr);
  const sbom = JSON.parse(readFileSync(sbomFile, 'utf8'));
  assert.equal(sbom.bomFormat, 'CycloneDX');

  const a = await runCli(
    ['attest', image, '--type', 'cyclonedx', '--predicate', sbomFile, '--key', `${keyPrefix}.key`, ...creds],
    env,
  );
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stderr, /Pushing attestation to: .*:sha256-[0-9a-f]{64}\.att/);
  const digest = (await manifestOf('bulwark/debian', 'att'))!.digest;
  const att = JSON.parse(
    (await manifestOf('bulwark/debian', `sha256-${digest.slice(7)}.att`))!.body.toString(),
  );
  assert.equal(att.layers[0].mediaType, 'application/vnd.dsse.envelope.v1+json');
  assert.deepEqual(att.layers[0].annotations, {
    [ANNOTATION.signature]: '',
    predicateType: 'https://cyclonedx.org/bom',
  });

  const v = await runCli(
    [
      'verify-attestation',
      image,
      '--type',
      'cyclonedx',
      '--key',
      `${keyPrefix}.pub`,
      '--max-age',
      '1h',
      ...creds,
    ],
    env,
  );
  assert.equal(v.code, 0, v.stderr);
  const env0 = JSON.parse(v.stdout.trim().split('\n')[0]!);
  assert.equal(env0.payloadType, 'application/vnd.in-toto+json');
  const st = JSON.parse(Buffer.from(env0.payload, 'base64').toString());
  assert.equal(st.predicateType, 'https://cyclonedx.org/bom');
  assert.deepEqual(st.subject[0].digest, { sha256: digest.slice(7) });
  assert.equal(st.predicate.components.length, sbom.components.length);

  const wrongType = await runCli(
    ['verify-attestation', image, '--type', 'spdx', '--key', `${keyPrefix}.pub`, ...creds],
    env,
  );
  assert.equal(wrongType.code, 1);
  assert.match(
    wrongType.stderr,
    /predicate type is https:\/\/cyclonedx.org\/bom, not https:\/\/spdx.dev\/Document/,
  );

  // a scan attestation: fresh now, too old two hours later
  const report = join(tmp, 'scan.json');
  writeFileSync(report, JSON.stringify({ ArtifactName: image, Results: [] }));
  const av = await runCli(
    ['attest', image, '--type', 'vuln', '--predicate', report, '--key', `${keyPrefix}.key`, ...creds],
    env,
  );
  assert.equal(av.code, 0, av.stderr);
  const fresh = await runCli(
    ['verify-attestation', image, '--type', 'vuln', '--max-age', '1h', '--key', `${keyPrefix}.pub`, ...creds],
    env,
  );
  assert.equal(fresh.code, 0, fresh.stderr);
  const later = await verifyImageAttestations(image, {
    ...regOpts(),
    keys: [readFileSync(`${keyPrefix}.pub`, 'utf8')],
    type: 'vuln',
    maxAgeMs: 3_600_000,
    now: new Date(Date.now() + 7_200_000),
  });
  assert.equal(later.verified, false);
  assert.match(later.errors.join(), /too old/);
  // the statement names the attested digest: the same attestations copied to another image fail
  const other = (await manifestOf('bulwark/debian', 'v1'))!;
  assert.notEqual(other.digest, digest);
  const attBody = (await manifestOf('bulwark/debian', `sha256-${digest.slice(7)}.att`))!.body;
  const p = pusher();
  try {
    await p.putManifest(
      'bulwark/debian',
      `sha256-${other.digest.slice(7)}.att`,
      attBody,
      'application/vnd.oci.image.manifest.v1+json',
    );
  } finally {
    await p.close();
  }
  const moved = await runCli(
    ['verify-attestation', `${reg.host}/bulwark/debian:v1`, '--key', `${keyPrefix}.pub`, ...creds],
    env,
  );
  assert.equal(moved.code, 1);
  assert.match(moved.stderr, new RegExp(`do not include the image digest ${other.digest}`));
});

test('--bundle: a Sigstore bundle referrer, through the sha256-<hex> tag index (the registry has no referrers API)', async () => {
  await reg.push(img, 'bulwark/bundled', 'v1');
  const image = `${reg.host}/bulwark/bundled:v1`;
  const s = await runCli(['sign', image, '--bundle', '--key', `${keyPrefix}.key`, ...creds], env);
  assert.equal(s.code, 0, s.stderr);
  assert.match(
    s.stderr,
    /Pushing bundle to: .*@sha256:[0-9a-f]{64} \(no referrers API: listed in tag sha256-[0-9a-f]{64}\)/,
  );
  const digest = (await manifestOf('bulwark/bundled', 'v1'))!.digest;
  const p = pusher();
  let index;
  try {
    assert.equal(
      await p.referrers('bulwark/bundled', digest),
      undefined,
      "Debian's docker-registry answers 404 on the referrers API",
    );
    index = await p.getManifestRaw('bulwark/bundled', `sha256-${digest.slice(7)}`, [
      'application/vnd.oci.image.index.v1+json',
    ]);
  } finally {
    await p.close();
  }
  const idx = JSON.parse(index!.body.toString());
  assert.equal(idx.manifests.length, 1);
  assert.equal(idx.manifests[0].artifactType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
  assert.equal(idx.manifests[0].annotations['dev.sigstore.bundle.content'], 'dsse-envelope');
  const ref = JSON.parse((await manifestOf('bulwark/bundled', idx.manifests[0].digest))!.body.toString());
  assert.equal(ref.subject.digest, digest);
  assert.equal(ref.config.mediaType, 'application/vnd.oci.empty.v1+json');

  const v = await runCli(['verify', image, '--key', `${keyPrefix}.pub`, ...creds], env);
  assert.equal(v.code, 0, v.stderr);
  const out = JSON.parse(v.stdout);
  assert.equal(out.length, 2, 'the legacy signature and the bundle');
  // printed as cosign v3 prints a bundle signature
  assert.equal(out[1].critical.type, 'https://sigstore.dev/cosign/sign/v1');
  assert.equal(out[1].critical.image['docker-manifest-digest'], digest);

  // a bundle alone (no .sig tag) verifies; without reading bundles nothing does; another key fails
  await reg.push(img, 'bulwark/bundleonly', 'v1');
  const key = readPrivateKey(readFileSync(`${keyPrefix}.key`, 'utf8'), password, 'cosign.key');
  const { attachBundle } = await import('../../src/sign/index.js');
  const only = { registry: reg.host, repository: 'bulwark/bundleonly', tag: 'v1' };
  const a = await attachBundle(only, { ...regOpts(), key, digest, name: `${reg.host}/bulwark/bundleonly` });
  assert.equal(a.fallbackTag, `sha256-${digest.slice(7)}`);
  const pub = readFileSync(`${keyPrefix}.pub`, 'utf8');
  const r = await verifyImageSignatures(only, { ...regOpts(), keys: [pub] });
  assert.equal(r.verified, true, r.errors.join('; '));
  assert.match(r.signatures[0]!.source!, /via tag sha256-/);
  const legacyOnly = await verifyImageSignatures(only, { ...regOpts(), keys: [pub], bundles: false });
  assert.equal(legacyOnly.verified, false);
  assert.match(legacyOnly.errors.join(), /no signatures found/);
  const otherPub = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
  const bad = await verifyImageSignatures(only, { ...regOpts(), keys: [otherPub] });
  assert.equal(bad.verified, false);
  assert.match(bad.errors.join(), /does not verify with the given public key/);

  // attest --bundle: the attestation as a bundle too; verify-attestation reads both, verify ignores it
  const sbomFile = join(tmp, 'sbom.cdx.json');
  const onlyImage = `${reg.host}/bulwark/bundleonly:v1`;
  const at = await runCli(
    [
      'attest',
      onlyImage,
      '--bundle',
      '--type',
      'cyclonedx',
      '--predicate',
      sbomFile,
      '--key',
      `${keyPrefix}.key`,
      ...creds,
    ],
    env,
  );
  assert.equal(at.code, 0, at.stderr);
  assert.match(at.stderr, /Pushing bundle to: .*listed in tag sha256-/);
  const va = await runCli(
    ['verify-attestation', onlyImage, '--type', 'cyclonedx', '--key', `${keyPrefix}.pub`, ...creds],
    env,
  );
  assert.equal(va.code, 0, va.stderr);
  assert.equal(va.stdout.trim().split('\n').length, 2, 'the .att layer and the bundle');
  const viaBundle = await verifyImageAttestations(only, { ...regOpts(), keys: [pub], type: 'cyclonedx' });
  assert.equal(viaBundle.attestations.filter((x) => x.verified).length, 2);
  assert.match(viaBundle.attestations[1]!.source!, /via tag sha256-/);
  const sigsAfter = await verifyImageSignatures(only, { ...regOpts(), keys: [pub] });
  assert.equal(sigsAfter.signatures.length, 1, 'attestation bundles are not read as signatures');
});
