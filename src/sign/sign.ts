/**
 * Signing: `signImage` writes cosign's legacy layout (a simplesigning payload layer appended to
 * the `sha256-<hex>.sig` manifest beside the image) and, with `bundle`, a Sigstore bundle v0.3 as
 * an OCI 1.1 referrer (see bundle.ts). Signatures are made with a local key; nothing is uploaded
 * to Rekor (no network besides the registry), so they carry no SET, as `cosign sign --tlog-upload=false`.
 */
import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import { BulwarkError } from '../core/errors.js';
import {
  parseImageReference,
  RegistryClient,
  RegistryPusher,
  type ImageReference,
  type RegistryOptions,
} from '../image/index.js';
import { hashFor } from './keys.js';
import { attachmentManifest, OCI_MANIFEST, sha256, type LayerDescriptor } from './layout.js';
import { simpleSigningPayload, SIMPLESIGNING_MEDIA_TYPE } from './payload.js';
import { attachmentTag, getAttachmentManifest } from './sources.js';
import { ANNOTATION } from './verify.js';

export interface SignOptions extends RegistryOptions {
  /** Private key (see readPrivateKey). */
  key: KeyObject;
  /** cosign -a key=value: goes into the payload's "optional" section. */
  annotations?: Record<string, string>;
}

export interface SignResult {
  digest: string;
  /** The attachment tag written (sha256-<hex>.sig / .att). */
  tag: string;
  manifestDigest: string;
  /** The signed bytes (payload or DSSE envelope). */
  payload: Buffer;
  layer: LayerDescriptor;
  /** The bundle referrer, when one was attached. */
  bundle?: { manifestDigest: string; fallbackTag?: string };
}

/** The repository name cosign puts in docker-reference (go-containerregistry's Repository.Name()). */
export function dockerReference(r: ImageReference): string {
  const registry = r.registry === 'docker.io' ? 'index.docker.io' : r.registry;
  return `${registry}/${r.repository}`;
}

export function signBytes(key: KeyObject, data: Buffer): Buffer {
  if (key.type !== 'private') throw new BulwarkError('USAGE', 'signing needs a private key');
  return cryptoSign(hashFor(key), data, key);
}

/**
 * Appends a layer to the attachment manifest at `tag` (creating it), as cosign does: existing
 * layers are kept in order, an identical layer (same digest and annotations) is not added twice.
 */
export async function appendAttachment(
  r: ImageReference,
  tag: string,
  layerBytes: Buffer,
  layer: LayerDescriptor,
  opts: RegistryOptions,
  o: { replace?: (l: LayerDescriptor) => boolean } = {},
): Promise<string> {
  const client = new RegistryClient(r.registry, opts);
  const pusher = new RegistryPusher(r.registry, opts);
  try {
    const existing = await getAttachmentManifest(client, r.repository, tag);
    let layers: LayerDescriptor[] = (existing?.layers ?? []).map((l) => ({
      mediaType: l.mediaType,
      size: l.size,
      digest: l.digest,
      annotations: l.annotations,
    }));
    if (o.replace) layers = layers.filter((l) => !o.replace!(l));
    const same = (l: LayerDescriptor) =>
      l.digest === layer.digest &&
      JSON.stringify(l.annotations ?? {}) === JSON.stringify(layer.annotations ?? {});
    if (!layers.some(same)) layers.push(layer);
    const { manifest, config } = attachmentManifest(layers);
    await pusher.pushBlob(r.repository, layerBytes);
    await pusher.pushBlob(r.repository, config);
    return await pusher.putManifest(r.repository, tag, manifest, OCI_MANIFEST);
  } finally {
    await client.close();
    await pusher.close();
  }
}

export async function resolveImageDigest(r: ImageReference, opts: RegistryOptions): Promise<string> {
  const client = new RegistryClient(r.registry, opts);
  try {
    return (await client.getManifest(r.repository, r.digest ?? r.tag!)).digest;
  } finally {
    await client.close();
  }
}

/** Signs an image in the registry (cosign sign --key K --tlog-upload=false). */
export async function signImage(ref: string | ImageReference, opts: SignOptions): Promise<SignResult> {
  const r = typeof ref === 'string' ? parseImageReference(ref) : ref;
  const digest = await resolveImageDigest(r, opts);
  const payload = simpleSigningPayload(dockerReference(r), digest, opts.annotations);
  const sig = signBytes(opts.key, payload);
  const layer: LayerDescriptor = {
    mediaType: SIMPLESIGNING_MEDIA_TYPE,
    size: payload.length,
    digest: sha256(payload),
    annotations: { [ANNOTATION.signature]: sig.toString('base64') },
  };
  const tag = attachmentTag(digest, 'sig');
  const manifestDigest = await appendAttachment(r, tag, payload, layer, opts);
  return { digest, tag, manifestDigest, payload, layer };
}
