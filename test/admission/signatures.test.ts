/**
 * Signature verdicts with the real cosign verifier (src/sign's verifyImageSignatures) behind the
 * webhook over TLS: the real cosign signatures of containers/image's test fixtures
 * (../shared/corpora/cosign), read as `dir:` images (no registry can sign here yet: signing lands in
 * src/sign separately). Valid signatures are admitted, unsigned and tampered images are denied with
 * the verifier's reason, a cold cache is filled within the deadline.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CheckSet } from '../../src/policy/index.js';
import {
  admissionReviewFor,
  cosignVerifier,
  ImageCache,
  startWebhook,
  type AdmissionReview,
  type WebhookServer,
} from '../../src/admission/index.js';
import { CORPORA } from '../helpers/shared.js';
import { httpsRequest, makeTls, type Tls } from './helpers.js';

const FIXTURES = join(CORPORA, 'cosign', 'signature', 'fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-admission-sig-'));

/** The corpus keeps git symlinks as small files naming their target: follow them. */
function corpusFile(p: string): Buffer {
  for (let i = 0; i < 5; i++) {
    const b = readFileSync(p);
    const s = b.toString('utf8');
    if (
      b.length < 200 &&
      /^\.\.?\//.test(s) &&
      !s.includes('\n') &&
      existsSync(resolve(dirname(p), s.trim()))
    )
      p = resolve(dirname(p), s.trim());
    else return b;
  }
  throw new Error(`${p}: symlink loop`);
}
function image(name: string): string {
  const out = join(tmp, name);
  mkdirSync(out, { recursive: true });
  for (const f of readdirSync(join(FIXTURES, name)))
    if (statSync(join(FIXTURES, name, f)).isFile())
      writeFileSync(join(out, f), corpusFile(join(FIXTURES, name, f)));
  return `dir:${out}`;
}

let tls: Tls;
let hook: WebhookServer;
let cache: ImageCache;
const valid = image('dir-img-cosign-valid');
const unsigned = image('dir-img-unsigned');
const modified = image('dir-img-cosign-modified-manifest');
before(async () => {
  tls = makeTls();
  cache = new ImageCache({
    verifier: cosignVerifier({ keys: [corpusFile(join(FIXTURES, 'cosign.pub')).toString()] }),
  });
  hook = await startWebhook({
    cert: tls.cert,
    key: tls.key,
    checks: new CheckSet([]),
    mode: 'enforce',
    failurePolicy: 'closed',
    deadlineMs: 2000,
    images: cache,
    requireSignature: true,
  });
});
after(async () => {
  await hook?.close();
  tls?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

const pod = (img: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'team' },
  spec: { containers: [{ name: 'app', image: img }] },
});
async function send(img: string, uid: string) {
  const res = await httpsRequest(`${hook.url}/validate`, tls.cert, {
    body: JSON.stringify(admissionReviewFor(pod(img), { uid })),
  });
  assert.equal(res.status, 200);
  return (JSON.parse(res.body) as AdmissionReview).response!;
}

test('real cosign signatures: signed admitted (cold cache filled within the deadline), unsigned and tampered denied', async () => {
  const ok = await send(valid, 'v');
  assert.equal(ok.allowed, true, JSON.stringify(ok));
  assert.equal(
    ok.auditAnnotations?.['image-digests'],
    `${valid}=sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00`,
  );
  const no = await send(unsigned, 'u');
  assert.equal(no.allowed, false);
  assert.match(no.status!.message!, /has no valid signature: no signatures in dir:/);
  const bad = await send(modified, 'm');
  assert.equal(bad.allowed, false);
  assert.match(bad.status!.message!, /has no valid signature/);
  // the second time from the cache: no new verification
  const fills = cache.stats.fills;
  assert.equal((await send(valid, 'v2')).allowed, true);
  assert.equal(cache.stats.fills, fills);
});
