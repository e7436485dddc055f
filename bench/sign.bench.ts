/**
 * Signature verification throughput on real cosign signatures (containers/image fixtures in
 * shared/corpora/cosign), BENCH_SIGN_N (default 2000) verifications per run, best of 5 after a
 * warm-up, one core.
 *
 * Baseline: the bare crypto.verify of the signature over the payload with the public key (what
 * any verifier must pay). Measured: Bulwark's full check of the same layer (verifySignatureLayer:
 * media type, annotation decode, signature, payload parse, digest claim), and for the keyless
 * fixture also the Rekor SET and the certificate chain at the integrated time. Reports
 * verifications/s and the ratio measured/baseline.
 */
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildPolicy,
  trustedRootFrom,
  verifySignatureLayer,
  type SignatureLayer,
} from '../src/sign/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const shared = process.env.BULWARK_SHARED_DIR ?? join(root, '..', 'shared');
const FX = join(shared, 'corpora/cosign/signature/fixtures');
const N = Number(process.env.BENCH_SIGN_N ?? 2000);

function layer(path: string): SignatureLayer {
  const b = readFileSync(join(FX, path));
  const j = JSON.parse(b.subarray('\x00sigstore-json\n'.length).toString('utf8'));
  return { mediaType: j.mimeType, payload: Buffer.from(j.payload, 'base64'), annotations: j.annotations };
}
const digestOf = (l: SignatureLayer) =>
  JSON.parse(l.payload.toString()).critical.image['docker-manifest-digest'] as string;

function best(fn: () => number, runs = 5): { ms: number; n: number } {
  fn();
  let min = Infinity;
  let n = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    n = fn();
    min = Math.min(min, performance.now() - t);
  }
  return { ms: min, n };
}
const rate = (x: { ms: number; n: number }) => x.n / (x.ms / 1000);

function run(
  name: string,
  l: SignatureLayer,
  rawKey: ReturnType<typeof createPublicKey>,
  policy: ReturnType<typeof buildPolicy>,
) {
  const sig = Buffer.from(l.annotations['dev.cosignproject.cosign/signature']!, 'base64');
  const baseline = best(() => {
    let ok = 0;
    for (let i = 0; i < N; i++) ok += verify('sha256', l.payload, rawKey, sig) ? 1 : 0;
    if (ok !== N) throw new Error('baseline verify failed');
    return N;
  });
  const measured = best(() => {
    let ok = 0;
    for (let i = 0; i < N; i++) ok += verifySignatureLayer(l, policy).verified ? 1 : 0;
    if (ok !== N) throw new Error(`${name}: verification failed`);
    return N;
  });
  console.log(`${name}:`);
  console.log(
    `  baseline (crypto.verify): ${rate(baseline).toFixed(0)} verifications/s (${((baseline.ms / N) * 1000).toFixed(1)} µs each)`,
  );
  console.log(
    `  bulwark verifySignatureLayer: ${rate(measured).toFixed(0)} verifications/s (${((measured.ms / N) * 1000).toFixed(1)} µs each)`,
  );
  console.log(`  ratio: ${(rate(measured) / rate(baseline)).toFixed(2)}x the bare crypto.verify`);
}

const keyLayer = layer('dir-img-cosign-valid/signature-1');
const cosignPub = readFileSync(join(FX, 'cosign.pub'), 'utf8');
run(
  'key (ECDSA P-256)',
  keyLayer,
  createPublicKey(cosignPub),
  buildPolicy({ keys: [cosignPub], trustedRoot: trustedRootFrom({}) }, digestOf(keyLayer)),
);

const fulcioLayer = layer('dir-img-cosign-fulcio-rekor-valid/signature-1');
const cert = fulcioLayer.annotations['dev.sigstore.cosign/certificate']!;
const fixtureRoot = trustedRootFrom({
  rekorKeys: [readFileSync(join(FX, '../internal/testdata/rekor.pub'), 'utf8')],
  caCertificates: [readFileSync(join(FX, 'fulcio_v1.crt.pem'), 'utf8')],
});
run(
  'keyless (Fulcio certificate + Rekor SET + chain)',
  fulcioLayer,
  createPublicKey(cert),
  buildPolicy(
    {
      trustedRoot: fixtureRoot,
      certificateIdentity: 'mitr@redhat.com',
      certificateOidcIssuer: 'https://github.com/login/oauth',
    },
    digestOf(fulcioLayer),
  ),
);
