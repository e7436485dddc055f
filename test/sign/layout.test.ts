/**
 * What Bulwark writes equals what cosign writes, byte for byte: simplesigning payloads against
 * the real cosign payloads in the containers/image fixtures, the `.sig` manifest and config
 * against a genuine cosign v3.0.4 capture (testdata/README.md), annotations in Go's order; and
 * cosign's encrypted private key format, both ways (a key cosign 3 wrote is read).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ANNOTATION,
  attachmentManifest,
  encryptPrivateKey,
  generateKeyPair,
  readPrivateKey,
  simpleSigningPayload,
  SIMPLESIGNING_MEDIA_TYPE,
  SIGSTORE_PEM,
} from '../../src/sign/index.js';
import { sha256 } from '../../src/sign/layout.js';
import { CORPORA } from '../helpers/shared.js';
import { COSIGN_FIXTURES, readSigstoreJson } from './helpers.js';

const testdata = fileURLToPath(new URL('./testdata/', import.meta.url));

test('simplesigning payloads equal cosign’s bytes for every fixture signature', () => {
  const cases = [
    'dir-img-cosign-valid/signature-1',
    'dir-img-cosign-valid-2/signature-2',
    'dir-img-cosign-key-rekor-valid/signature-1',
    'dir-img-cosign-fulcio-rekor-valid/signature-1',
    'dir-img-cosign-pki-valid/signature-1',
    'dir-img-cosign-valid-with-tag/signature-1',
  ];
  for (const c of cases) {
    const s = readSigstoreJson(join(COSIGN_FIXTURES, c));
    assert.equal(s.mimeType, SIMPLESIGNING_MEDIA_TYPE);
    const real = Buffer.from(s.payload, 'base64');
    const j = JSON.parse(real.toString('utf8'));
    const mine = simpleSigningPayload(
      j.critical.identity['docker-reference'],
      j.critical.image['docker-manifest-digest'],
      j.optional ?? undefined,
    );
    assert.equal(mine.toString('utf8'), real.toString('utf8'), c);
    assert.ok(mine.equals(real), c);
  }
  const rekorPayload = readFileSync(
    join(CORPORA, 'cosign', 'signature', 'internal', 'testdata', 'rekor-payload'),
  );
  assert.ok(
    simpleSigningPayload(
      '192.168.64.2:5000/test-repo-2100826901021538654/alpine',
      'sha256:fa93b01658e3a5a1686dc3ae55f170d8de487006fb53a28efcd12ab0710a2e5f',
    ).equals(rekorPayload),
  );
  // Go's encoder escapes HTML characters; so do we (a claim value with <&>).
  assert.match(
    simpleSigningPayload('r/x', 'sha256:00', { note: 'a<b>&c' }).toString(),
    /"optional":\{"note":"a\\u003cb\\u003e\\u0026c"\}/,
  );
});

test('the .sig manifest and its config equal a genuine cosign v3.0.4 capture', () => {
  const payload = Buffer.from(
    '{"critical":{"identity":{"docker-reference":"localhost:15381/tobby/fixture"},"image":{"docker-manifest-digest":"sha256:f20c43161d73848408ef247f0ec7111b19fe58ffebc0cbcaa0d2c8bda4967268"},"type":"cosign container image signature"},"optional":null}',
  );
  assert.ok(
    simpleSigningPayload(
      'localhost:15381/tobby/fixture',
      'sha256:f20c43161d73848408ef247f0ec7111b19fe58ffebc0cbcaa0d2c8bda4967268',
    ).equals(payload),
  );
  const captured =
    '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":233,"digest":"sha256:2122b6ad0794d3fdae43a4b477cf1d95d4a38d3c5f10631e199676039b876e37"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":245,"digest":"sha256:3a29d26a2fc848d25ccf9c2288194ca90599e70ef69087644f186e5e7331f28b","annotations":{"dev.cosignproject.cosign/signature":"MEUCIEB+pz4s+9yxG+Om/bukeAfwloKFEISUhxLvIYlP02P8AiEAz1oNkilC+cprxcrEHqN0vxM+zvP34ikHFzi8e7Sevls="}}]}';
  const { manifest, config } = attachmentManifest([
    {
      mediaType: SIMPLESIGNING_MEDIA_TYPE,
      size: payload.length,
      digest: sha256(payload),
      annotations: {
        [ANNOTATION.signature]:
          'MEUCIEB+pz4s+9yxG+Om/bukeAfwloKFEISUhxLvIYlP02P8AiEAz1oNkilC+cprxcrEHqN0vxM+zvP34ikHFzi8e7Sevls=',
      },
    },
  ]);
  assert.equal(manifest.toString('utf8'), captured);
  assert.equal(sha256(config), 'sha256:2122b6ad0794d3fdae43a4b477cf1d95d4a38d3c5f10631e199676039b876e37');
  // two layers: one history entry and one diff_id each, layers in order
  const two = attachmentManifest([
    { mediaType: SIMPLESIGNING_MEDIA_TYPE, size: 1, digest: sha256(Buffer.from('a')) },
    { mediaType: SIMPLESIGNING_MEDIA_TYPE, size: 1, digest: sha256(Buffer.from('b')) },
  ]);
  const cfg = JSON.parse(two.config.toString());
  assert.equal(cfg.history.length, 2);
  assert.deepEqual(cfg.rootfs.diff_ids, [sha256(Buffer.from('a')), sha256(Buffer.from('b'))]);
});

test('annotations are written in Go’s sorted order, certificate PEM newlines escaped', () => {
  const fr = readSigstoreJson(join(COSIGN_FIXTURES, 'dir-img-cosign-fulcio-rekor-valid', 'signature-1'));
  const payload = Buffer.from(fr.payload, 'base64');
  const { manifest } = attachmentManifest([
    {
      mediaType: SIMPLESIGNING_MEDIA_TYPE,
      size: payload.length,
      digest: sha256(payload),
      annotations: fr.annotations,
    },
  ]);
  const text = manifest.toString('utf8');
  const order = [ANNOTATION.signature, ANNOTATION.bundle, ANNOTATION.certificate, ANNOTATION.chain].map((k) =>
    text.indexOf(`"${k}"`),
  );
  assert.ok(
    order.every((p, i) => p > 0 && (i === 0 || p > order[i - 1]!)),
    `annotation order: ${order}`,
  );
  assert.deepEqual(JSON.parse(text).layers[0].annotations, fr.annotations);
  assert.ok(text.includes('-----BEGIN CERTIFICATE-----\\n'));
});

test('cosign encrypted private keys: written as cosign does, read back, and a key cosign 3 wrote is read', () => {
  const kp = generateKeyPair('s3cret');
  assert.match(kp.privatePem, new RegExp(`^-----BEGIN ${SIGSTORE_PEM}-----\n`));
  assert.match(kp.publicPem, /^-----BEGIN PUBLIC KEY-----\n/);
  const body = JSON.parse(Buffer.from(kp.privatePem.split('\n').slice(1, -2).join(''), 'base64').toString());
  assert.deepEqual(Object.keys(body), ['kdf', 'cipher', 'ciphertext']);
  assert.deepEqual(body.kdf.params, { N: 32768, r: 8, p: 1 });
  assert.equal(body.kdf.name, 'scrypt');
  assert.equal(Buffer.from(body.kdf.salt, 'base64').length, 32);
  assert.equal(body.cipher.name, 'nacl/secretbox');
  assert.equal(Buffer.from(body.cipher.nonce, 'base64').length, 24);
  const key = readPrivateKey(kp.privatePem, 's3cret', 'cosign.key');
  const sig = sign('sha256', Buffer.from('x'), key);
  assert.ok(verify('sha256', Buffer.from('x'), createPublicKey(kp.publicPem), sig));
  assert.throws(() => readPrivateKey(kp.privatePem, 'wrong', 'cosign.key'), /cosign.key: decryption failed/);
  assert.throws(() => readPrivateKey(kp.privatePem, undefined, 'cosign.key'), /set COSIGN_PASSWORD/);
  // the older header cosign 1.x wrote
  const old = encryptPrivateKey(key.export({ format: 'der', type: 'pkcs8' }), '').replaceAll(
    SIGSTORE_PEM,
    'ENCRYPTED COSIGN PRIVATE KEY',
  );
  assert.equal(readPrivateKey(old, '', 'old.key').asymmetricKeyType, 'ec');
  // written by cosign 3 itself (N=65536), empty password
  const real = readFileSync(join(testdata, 'cosign3-empty-password.key'), 'utf8');
  const k3 = readPrivateKey(real, '', 'cosign3.key');
  assert.equal(k3.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.throws(() => readPrivateKey(real, 'nope', 'cosign3.key'), /decryption failed/);
  // scrypt parameters out of bounds are refused before any work
  const huge = Buffer.from(
    JSON.stringify({ ...body, kdf: { ...body.kdf, params: { N: 1 << 30, r: 8, p: 1 } } }),
  ).toString('base64');
  assert.throws(
    () =>
      readPrivateKey(
        `-----BEGIN ${SIGSTORE_PEM}-----\n${huge}\n-----END ${SIGSTORE_PEM}-----\n`,
        'x',
        'big.key',
      ),
    /unexpected scrypt parameters/,
  );
});
