/**
 * Sigstore bundles (v0.3) attached to images as OCI 1.1 referrers, as cosign v3 does
 * (cosign's BUNDLE_SPEC): a manifest with artifactType application/vnd.dev.sigstore.bundle.v0.3+json,
 * the empty config, one layer holding the bundle JSON and `subject` naming the image. Registries
 * without the referrers API (Debian's docker-registry answers 404) get the referrers tag scheme:
 * an OCI index at tag `sha256-<hex>` listing the referrers, which is created or appended to.
 *
 * Signing writes a DSSE envelope over an in-toto statement whose subject is the image digest and
 * whose predicate type is https://sigstore.dev/cosign/sign/v1. Verification reads both places
 * (referrers API, else the tag index), checks the envelope like an attestation, and a Rekor entry
 * when the bundle carries one (its inclusion promise, offline, against the trusted root).
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { BulwarkError } from '../core/errors.js';
import {
  MANIFEST_ACCEPT,
  RegistryClient,
  RegistryPusher,
  type ImageReference,
  type RegistryOptions,
} from '../image/index.js';
import { sha256 } from './layout.js';
import { goJsonString } from './payload.js';
import { signBytes } from './sign.js';
import { attachmentTag } from './sources.js';
import { ANNOTATION, type SignatureLayer } from './verify.js';

export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const EMPTY_CONFIG_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const EMPTY = Buffer.from('{}');
const MAX_BUNDLES = 64;

const pae = (type: string, body: Buffer) =>
  Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);

export interface Descriptor {
  mediaType: string;
  size: number;
  digest: string;
  artifactType?: string;
  annotations?: Record<string, string>;
}

function annotationsJson(a: Record<string, string>): string {
  return `{${Object.keys(a)
    .sort()
    .map((k) => `${goJsonString(k)}:${goJsonString(a[k]!)}`)
    .join(',')}}`;
}

function descJson(d: Descriptor): string {
  let s = `{"mediaType":${goJsonString(d.mediaType)},"size":${d.size},"digest":${goJsonString(d.digest)}`;
  if (d.annotations && Object.keys(d.annotations).length)
    s += `,"annotations":${annotationsJson(d.annotations)}`;
  if (d.artifactType) s += `,"artifactType":${goJsonString(d.artifactType)}`;
  return `${s}}`;
}

/** The bundle for a key signature over the image digest (DSSE, no transparency log entry). */
/** The in-toto statement of a cosign v3 image signature: the image digest as subject, an empty predicate. */
export function signStatement(digest: string, name: string): InTotoStatement {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name, digest: { sha256: digest.replace(/^sha256:/, '') } }],
    predicateType: COSIGN_SIGN_PREDICATE,
    predicate: {},
  };
}

export interface InTotoStatement {
  _type: string;
  subject: { name?: string; digest: Record<string, string> }[];
  predicateType: string;
  predicate: unknown;
}

/** A bundle holding a key-signed DSSE envelope of `statement` (no transparency log entry). */
export function makeBundle(key: KeyObject, statement: InTotoStatement): Buffer {
  const body = Buffer.from(JSON.stringify(statement));
  const sig = signBytes(key, pae('application/vnd.in-toto+json', body));
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return Buffer.from(
    JSON.stringify({
      mediaType: BUNDLE_MEDIA_TYPE,
      verificationMaterial: {
        publicKey: { hint: createHash('sha256').update(spki).digest('base64') },
        tlogEntries: [],
      },
      dsseEnvelope: {
        payload: body.toString('base64'),
        payloadType: 'application/vnd.in-toto+json',
        signatures: [{ sig: sig.toString('base64'), keyid: '' }],
      },
    }),
  );
}

/**
 * Attaches a bundle for the image at `digest` as a referrer; returns the referrer manifest digest
 * and, when the registry has no referrers API, the fallback tag it updated.
 */
export async function attachBundle(
  r: ImageReference,
  o: RegistryOptions & {
    key: KeyObject;
    digest: string;
    name: string;
    /** Default: a signature (cosign/sign/v1 statement); else an attestation's statement. */
    statement?: InTotoStatement;
    now?: Date;
  },
): Promise<{ manifestDigest: string; fallbackTag?: string }> {
  const statement = o.statement ?? signStatement(o.digest, o.name);
  const bundle = makeBundle(o.key, statement);
  const created = (o.now ?? new Date()).toISOString();
  const annotations = {
    'dev.sigstore.bundle.content': 'dsse-envelope',
    'dev.sigstore.bundle.predicateType': statement.predicateType,
    'org.opencontainers.image.created': created,
  };
  const p = new RegistryPusher(r.registry, o);
  try {
    const subject = await p.getManifestRaw(r.repository, o.digest, MANIFEST_ACCEPT);
    if (!subject)
      throw new BulwarkError(
        'NOT_FOUND',
        `${r.registry}/${r.repository}@${o.digest}: image manifest not found`,
      );
    const manifest = Buffer.from(
      `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","artifactType":"${BUNDLE_MEDIA_TYPE}","config":${descJson({ mediaType: EMPTY_CONFIG_MEDIA_TYPE, size: 2, digest: sha256(EMPTY) })},"layers":[${descJson({ mediaType: BUNDLE_MEDIA_TYPE, size: bundle.length, digest: sha256(bundle) })}],"subject":${descJson({ mediaType: subject.mediaType, size: subject.body.length, digest: o.digest })},"annotations":${annotationsJson(annotations)}}`,
    );
    await p.pushBlob(r.repository, EMPTY);
    await p.pushBlob(r.repository, bundle);
    const manifestDigest = await p.putManifest(r.repository, sha256(manifest), manifest, OCI_MANIFEST);
    const referrers = await p.referrers(r.repository, o.digest);
    if (referrers !== undefined) return { manifestDigest };
    // No referrers API: the referrers tag scheme.
    const tag = attachmentTag(o.digest, '');
    const existing = await p.getManifestRaw(r.repository, tag, [OCI_INDEX]);
    let entries: Descriptor[] = [];
    if (existing) {
      const j = JSON.parse(existing.body.toString('utf8')) as { manifests?: Descriptor[] };
      entries = (j.manifests ?? []).filter((m) => m.digest !== manifestDigest);
    }
    entries.push({
      mediaType: OCI_MANIFEST,
      size: manifest.length,
      digest: manifestDigest,
      artifactType: BUNDLE_MEDIA_TYPE,
      annotations,
    });
    const index = Buffer.from(
      `{"schemaVersion":2,"mediaType":"${OCI_INDEX}","manifests":[${entries.map(descJson).join(',')}]}`,
    );
    await p.putManifest(r.repository, tag, index, OCI_INDEX);
    return { manifestDigest, fallbackTag: tag };
  } finally {
    await p.close();
  }
}

interface BundleJson {
  mediaType?: string;
  verificationMaterial?: {
    certificate?: { rawBytes?: string };
    x509CertificateChain?: { certificates?: { rawBytes?: string }[] };
    tlogEntries?: {
      logIndex?: string;
      logId?: { keyId?: string };
      integratedTime?: string;
      inclusionPromise?: { signedEntryTimestamp?: string };
      canonicalizedBody?: string;
    }[];
  };
  dsseEnvelope?: { payload?: string; payloadType?: string; signatures?: { sig?: string; keyid?: string }[] };
  messageSignature?: unknown;
}

const pemOf = (b64: string) =>
  `-----BEGIN CERTIFICATE-----\n${b64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;

/**
 * A bundle as a DSSE attestation layer with the legacy annotations (certificate, chain, Rekor
 * SET), so the same verification applies. Throws for bundles Bulwark cannot check.
 */
export function bundleToLayer(text: Buffer, source: string): SignatureLayer {
  let b: BundleJson;
  try {
    b = JSON.parse(text.toString('utf8')) as BundleJson;
  } catch {
    throw new BulwarkError('PARSE', `${source}: bundle is not valid JSON`);
  }
  if (!String(b.mediaType ?? '').startsWith('application/vnd.dev.sigstore.bundle'))
    throw new BulwarkError('PARSE', `${source}: not a Sigstore bundle (mediaType ${b.mediaType})`);
  if (!b.dsseEnvelope)
    throw new BulwarkError(
      'UNSUPPORTED',
      `${source}: only DSSE bundles are verified for images (this one has ${b.messageSignature ? 'a message signature' : 'no content'})`,
    );
  const annotations: Record<string, string> = {};
  const vm = b.verificationMaterial ?? {};
  const certs = vm.certificate?.rawBytes
    ? [vm.certificate.rawBytes]
    : (vm.x509CertificateChain?.certificates ?? []).map((c) => c.rawBytes ?? '');
  if (certs[0]) annotations[ANNOTATION.certificate] = pemOf(certs[0]);
  if (certs.length > 1) annotations[ANNOTATION.chain] = certs.slice(1).map(pemOf).join('');
  const t = vm.tlogEntries?.find((e) => e.inclusionPromise?.signedEntryTimestamp);
  if (t) {
    annotations[ANNOTATION.bundle] = JSON.stringify({
      SignedEntryTimestamp: t.inclusionPromise!.signedEntryTimestamp,
      Payload: {
        body: t.canonicalizedBody,
        integratedTime: Number(t.integratedTime),
        logIndex: Number(t.logIndex),
        logID: Buffer.from(t.logId?.keyId ?? '', 'base64').toString('hex'),
      },
    });
  }
  const env = {
    payloadType: b.dsseEnvelope.payloadType,
    payload: b.dsseEnvelope.payload,
    signatures: b.dsseEnvelope.signatures ?? [],
  };
  return {
    mediaType: 'application/vnd.dsse.envelope.v1+json',
    payload: Buffer.from(JSON.stringify(env)),
    annotations,
    source,
  };
}

/** The bundle layers referring to `digest`: referrers API, else the `sha256-<hex>` tag index. */
export async function readBundles(
  r: ImageReference,
  digest: string,
  o: RegistryOptions,
  want: 'signatures' | 'attestations' = 'signatures',
): Promise<{ layers: SignatureLayer[]; via?: 'referrers' | 'tag' }> {
  const p = new RegistryPusher(r.registry, o);
  try {
    let index = await p.referrers(r.repository, digest);
    let via: 'referrers' | 'tag' | undefined = index ? 'referrers' : undefined;
    if (!index) {
      const m = await p.getManifestRaw(r.repository, attachmentTag(digest, ''), [OCI_INDEX]);
      if (m) {
        index = m.body;
        via = 'tag';
      }
    }
    if (!index) return { layers: [] };
    let j: { manifests?: Descriptor[] };
    try {
      j = JSON.parse(index.toString('utf8')) as typeof j;
    } catch {
      throw new BulwarkError('PARSE', `referrers of ${digest} in ${r.repository}: not valid JSON`);
    }
    const layers: SignatureLayer[] = [];
    // Signatures are the cosign/sign/v1 bundles, attestations the others (by the index's annotation;
    // one without it is read for both and the predicate type check decides).
    const kindOk = (m: Descriptor) => {
      const pt = m.annotations?.['dev.sigstore.bundle.predicateType'];
      if (pt === undefined) return true;
      return want === 'signatures' ? pt === COSIGN_SIGN_PREDICATE : pt !== COSIGN_SIGN_PREDICATE;
    };
    const wanted = (j.manifests ?? []).filter((m) => m.artifactType === BUNDLE_MEDIA_TYPE && kindOk(m));
    for (const d of wanted.slice(0, MAX_BUNDLES)) {
      const m = await p.getManifestRaw(r.repository, d.digest, [OCI_MANIFEST]);
      if (!m) continue;
      const doc = JSON.parse(m.body.toString('utf8')) as {
        layers?: Descriptor[];
        subject?: { digest?: string };
      };
      if (doc.subject?.digest !== digest) continue; // a tag index entry for another image
      const l = doc.layers?.find((x) => x.mediaType === BUNDLE_MEDIA_TYPE);
      if (!l) continue;
      const c = new RegistryClient(r.registry, o);
      try {
        const blob = await c.getBlobBuffer(r.repository, l.digest, 16 * 1024 * 1024);
        try {
          layers.push(bundleToLayer(blob, `bundle ${d.digest}`));
        } catch (e) {
          layers.push({
            mediaType: 'invalid',
            payload: Buffer.alloc(0),
            annotations: {},
            source: `bundle ${d.digest}: ${(e as Error).message}`,
          });
        }
      } finally {
        await c.close();
      }
    }
    return { layers, via };
  } finally {
    await p.close();
  }
}
