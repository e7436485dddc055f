/**
 * The OCI manifest and config of cosign's legacy attachments (`.sig`, `.att`), byte for byte as
 * cosign writes them through go-containerregistry: descriptor fields in the order mediaType,
 * size, digest, annotations; annotation maps with sorted keys; the config an empty image config
 * with one history entry and one diff_id per layer.
 */
import { createHash } from 'node:crypto';
import { goJsonString } from './payload.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

export interface LayerDescriptor {
  mediaType: string;
  size: number;
  digest: string;
  annotations?: Record<string, string>;
}

export const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function annotationsJson(a: Record<string, string>): string {
  return `{${Object.keys(a)
    .sort()
    .map((k) => `${goJsonString(k)}:${goJsonString(a[k]!)}`)
    .join(',')}}`;
}

export function descriptorJson(d: LayerDescriptor): string {
  const ann =
    d.annotations && Object.keys(d.annotations).length
      ? `,"annotations":${annotationsJson(d.annotations)}`
      : '';
  return `{"mediaType":${goJsonString(d.mediaType)},"size":${d.size},"digest":${goJsonString(d.digest)}${ann}}`;
}

/** The config blob cosign writes for these layers. */
export function attachmentConfig(layers: LayerDescriptor[]): Buffer {
  const history = layers.map(() => '{"created":"0001-01-01T00:00:00Z"}').join(',');
  const diffIds = layers.map((l) => goJsonString(l.digest)).join(',');
  return Buffer.from(
    `{"architecture":"","created":"0001-01-01T00:00:00Z","history":[${history}],"os":"","rootfs":{"type":"layers","diff_ids":[${diffIds}]},"config":{}}`,
  );
}

/** The attachment manifest for `layers` (config included), and the config bytes it names. */
export function attachmentManifest(layers: LayerDescriptor[]): { manifest: Buffer; config: Buffer } {
  const config = attachmentConfig(layers);
  const cfg: LayerDescriptor = { mediaType: OCI_CONFIG, size: config.length, digest: sha256(config) };
  const manifest = Buffer.from(
    `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":${descriptorJson(cfg)},"layers":[${layers.map(descriptorJson).join(',')}]}`,
  );
  return { manifest, config };
}
