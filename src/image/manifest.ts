/**
 * OCI / Docker v2 manifests, indexes and image configs: media types, parsing with clear errors,
 * platform selection, and LayerRefs from a manifest + config.
 */
import type { ImageConfig } from '../core/analyzer.js';
import { BulwarkError } from '../core/errors.js';
import type { LayerRef } from '../core/types.js';
import { checkDigest } from './digest.js';

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

/** What we send in Accept: every manifest and index type we read (Debian's docker-registry needs them listed). */
export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.dockerManifest];

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageIndex {
  mediaType: string;
  manifests: Descriptor[];
}

export type ManifestDoc =
  { kind: 'manifest'; manifest: ImageManifest } | { kind: 'index'; index: ImageIndex };

function parseJson(body: Buffer, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new BulwarkError('PARSE', `${what}: not valid JSON (${(e as Error).message})`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new BulwarkError('PARSE', `${what}: expected a JSON object`);
  return v as Record<string, unknown>;
}

function parseDescriptor(v: unknown, what: string): Descriptor {
  const d = v as Partial<Descriptor> | null;
  if (!d || typeof d !== 'object') throw new BulwarkError('PARSE', `${what}: descriptor is not an object`);
  checkDigest(d.digest, what);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw new BulwarkError('PARSE', `${what}: descriptor ${d.digest} has no valid size`);
  }
  return {
    mediaType: typeof d.mediaType === 'string' ? d.mediaType : '',
    digest: d.digest as string,
    size: d.size,
    platform: d.platform && typeof d.platform === 'object' ? d.platform : undefined,
    annotations: d.annotations && typeof d.annotations === 'object' ? d.annotations : undefined,
  };
}

/** Parses a manifest or index; contentType (HTTP Content-Type) wins over the body's mediaType. */
export function parseManifestDoc(body: Buffer, what: string, contentType?: string): ManifestDoc {
  const doc = parseJson(body, what);
  const ct = contentType?.split(';')[0]?.trim();
  const mediaType =
    (typeof doc.mediaType === 'string' && doc.mediaType) || (ct && ct !== 'application/json' ? ct : '');
  if (
    doc.schemaVersion === 1 ||
    mediaType === MEDIA.dockerSchema1 ||
    mediaType === MEDIA.dockerSchema1Signed
  ) {
    throw new BulwarkError(
      'UNSUPPORTED',
      `${what}: Docker schema 1 manifests are not supported (push the image again with a current tool)`,
    );
  }
  if (Array.isArray(doc.manifests) || mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList) {
    if (!Array.isArray(doc.manifests))
      throw new BulwarkError('PARSE', `${what}: index without a manifests list`);
    return {
      kind: 'index',
      index: {
        mediaType: mediaType || MEDIA.ociIndex,
        manifests: doc.manifests.map((m, i) => parseDescriptor(m, `${what} manifests[${i}]`)),
      },
    };
  }
  if (!doc.config || !Array.isArray(doc.layers))
    throw new BulwarkError('PARSE', `${what}: not an image manifest (no config or layers)`);
  const config = parseDescriptor(doc.config, `${what} config`);
  if (config.mediaType && config.mediaType !== MEDIA.ociConfig && config.mediaType !== MEDIA.dockerConfig) {
    throw new BulwarkError(
      'UNSUPPORTED',
      `${what}: not a container image (config media type ${config.mediaType})`,
    );
  }
  return {
    kind: 'manifest',
    manifest: {
      mediaType: mediaType || MEDIA.ociManifest,
      config,
      layers: doc.layers.map((l, i) => parseDescriptor(l, `${what} layers[${i}]`)),
    },
  };
}

export function parseImageConfig(body: Buffer, what: string): ImageConfig {
  const c = parseJson(body, what) as ImageConfig;
  if (c.rootfs !== undefined) {
    if (
      !c.rootfs ||
      !Array.isArray(c.rootfs.diff_ids) ||
      !c.rootfs.diff_ids.every((d) => typeof d === 'string')
    ) {
      throw new BulwarkError('PARSE', `${what}: rootfs.diff_ids is not a list of digests`);
    }
  }
  if (c.history !== undefined && !Array.isArray(c.history))
    throw new BulwarkError('PARSE', `${what}: history is not a list`);
  return c;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export function parsePlatform(s: string): Platform {
  const m = /^([a-z0-9]+)\/([a-z0-9_]+)(?:\/([a-z0-9]+))?$/i.exec(s.trim());
  if (!m)
    throw new BulwarkError(
      'USAGE',
      `invalid platform "${s}" (expected os/arch or os/arch/variant, e.g. linux/arm64/v8)`,
    );
  return { os: m[1]!.toLowerCase(), architecture: m[2]!.toLowerCase(), variant: m[3]?.toLowerCase() };
}

export function formatPlatform(p: { os?: string; architecture?: string; variant?: string }): string {
  return [p.os ?? '?', p.architecture ?? '?', p.variant].filter(Boolean).join('/');
}

/** arm64 without a variant is v8; arm without a variant is v7 (as containerd normalizes). */
function normVariant(arch: string | undefined, variant: string | undefined): string | undefined {
  if (variant) return variant;
  if (arch === 'arm64') return 'v8';
  if (arch === 'arm') return 'v7';
  return undefined;
}

/** Picks the manifest for `platform` (default linux/amd64) from an index; the error lists what there is. */
export function selectPlatform(index: ImageIndex, platform: string | undefined, what: string): Descriptor {
  const want = parsePlatform(platform ?? 'linux/amd64');
  const images = index.manifests.filter(
    (m) => !(m.platform?.os === 'unknown' && m.platform?.architecture === 'unknown'), // attestations
  );
  const match = images.find(
    (m) =>
      m.platform?.os === want.os &&
      m.platform?.architecture === want.architecture &&
      (want.variant === undefined ||
        normVariant(m.platform.architecture, m.platform.variant) ===
          normVariant(want.architecture, want.variant)),
  );
  if (match) return match;
  // Indexes without platform fields (some OCI layouts): take the only entry when no platform was asked for.
  if (platform === undefined && images.length === 1 && !images[0]!.platform) return images[0]!;
  const available = images.map((m) =>
    m.platform ? formatPlatform(m.platform) : `(no platform) ${m.digest}`,
  );
  throw new BulwarkError(
    'NOT_FOUND',
    `${what}: no image for platform ${formatPlatform(want)}; available: ${available.join(', ') || 'none'} (choose one with --platform)`,
  );
}

/** LayerRefs from a manifest's layers and the config (diff_ids, history without empty layers). */
export function layerRefs(
  layers: Pick<Descriptor, 'digest' | 'size' | 'mediaType'>[],
  config: ImageConfig,
  what: string,
): LayerRef[] {
  const diffIds = config.rootfs?.diff_ids;
  if (diffIds && diffIds.length !== layers.length) {
    throw new BulwarkError(
      'CORRUPT',
      `${what}: the config lists ${diffIds.length} diff_ids but there are ${layers.length} layers`,
    );
  }
  const history = (config.history ?? []).filter((h) => h && !h.empty_layer);
  return layers.map((l, index) => {
    const ref: LayerRef = {
      index,
      digest: l.digest || undefined,
      size: l.size,
      mediaType: l.mediaType || undefined,
    };
    if (diffIds) ref.diffId = checkDigest(diffIds[index], `${what} rootfs.diff_ids[${index}]`);
    const createdBy = history.length === layers.length ? history[index]?.created_by : undefined;
    if (createdBy) ref.createdBy = createdBy;
    return ref;
  });
}
