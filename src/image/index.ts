/**
 * Image sources behind one API: analyzeTarget() walks an image (registry, OCI layout,
 * docker-archive) or a directory once and feeds every analyzer in that single pass.
 *
 * Targets:
 *   oci:DIR[:TAG]            OCI image layout
 *   docker-archive:FILE[:REF] docker save / skopeo docker-archive tarball
 *   dir:PATH                 root filesystem (etc/os-release, var/lib/dpkg... present) or project directory
 *   host[:port]/repo[:tag|@digest]   pulled with the OCI distribution API (docker:// prefix accepted)
 * Without a prefix, opts.kind decides ('fs'/'rootfs' → directory, 'image' → registry); with no kind,
 * an existing local directory is a dir:, an existing file a docker-archive:, anything else a registry reference.
 */
import { stat } from 'node:fs/promises';
import type { AnalysisResult, FileAnalyzer } from '../core/analyzer.js';
import { BulwarkError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { analyzeDir } from './dir.js';
import { openDockerArchive, splitArchiveTarget } from './docker-archive.js';
import { analyzePlan, type ImagePlan, type LimitOptions } from './image.js';
import { layerRefs, parseImageConfig } from './manifest.js';
import { openOciLayout, splitOciTarget } from './oci-layout.js';
import { parseImageReference, formatReference } from './reference.js';
import { RegistryClient } from './registry.js';

export { RegistryClient, parseChallenge, type RegistryOptions, type ManifestResponse } from './registry.js';
export { RegistryPusher, type RawManifest } from './push.js';
export { parseImageReference, formatReference, type ImageReference } from './reference.js';
export {
  MEDIA,
  MANIFEST_ACCEPT,
  selectPlatform,
  parsePlatform,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
} from './manifest.js';
export { DEFAULT_MAX_LAYER_BYTES, DEFAULT_MAX_ENTRIES } from './layers.js';
export { FileTree } from './tree.js';
export { normalizeEntryPath } from './paths.js';

export interface SourceOptions extends LimitOptions {
  username?: string;
  password?: string;
  /** Docker client config with registry credentials (default $DOCKER_CONFIG/config.json, ~/.docker/config.json). */
  dockerConfigPath?: string;
  /** PEM file with CA certificate(s) to trust besides the system ones. */
  caCertFile?: string;
  /** Plain HTTP, or HTTPS without certificate verification. */
  insecure?: boolean;
  /** os/arch[/variant] to pick from a multi-platform index (default linux/amd64). */
  platform?: string;
  /** Per registry request: headers and idle body timeout (default 60 s). */
  timeoutMs?: number;
  /** Retries on 429/5xx/timeouts (default 3). */
  retries?: number;
  logger?: Logger;
}

export type TargetKind = 'image' | 'fs' | 'rootfs';

export type ParsedTarget =
  | { type: 'oci'; spec: string }
  | { type: 'docker-archive'; spec: string }
  | { type: 'dir'; path: string }
  | { type: 'registry'; ref: string };

/** Which source a target string names (see the module comment). */
export async function parseTarget(target: string, kind?: TargetKind): Promise<ParsedTarget> {
  const prefixed = /^(oci|docker-archive|dir|docker):(.*)$/s.exec(target);
  if (prefixed) {
    const [, p, rest] = prefixed as unknown as [string, string, string];
    if (!rest) throw new BulwarkError('USAGE', `target "${target}": nothing after "${p}:"`);
    if (p === 'oci') return { type: 'oci', spec: rest };
    if (p === 'docker-archive') return { type: 'docker-archive', spec: rest };
    if (p === 'dir') return { type: 'dir', path: rest };
    return { type: 'registry', ref: rest.replace(/^\/\//, '') };
  }
  if (kind === 'fs' || kind === 'rootfs') return { type: 'dir', path: target };
  if (kind !== 'image') {
    const st = await stat(target).catch(() => undefined);
    if (st?.isDirectory()) return { type: 'dir', path: target };
    if (st?.isFile()) return { type: 'docker-archive', spec: target };
  }
  return { type: 'registry', ref: target };
}

/** Resolves a registry image to a plan whose layers stream from the registry. */
async function openRegistryImage(
  client: RegistryClient,
  ref: string,
  name: string,
  platform?: string,
): Promise<ImagePlan> {
  const r = parseImageReference(ref);
  const reference = r.digest ?? r.tag!;
  const img = await client.resolveImage(r.repository, reference, platform);
  const where = `${client.registry}/${r.repository}`;
  const configBuf = await client.getBlobBuffer(r.repository, img.manifest.config.digest);
  const config = parseImageConfig(configBuf, `image config ${img.manifest.config.digest} of ${where}`);
  const refs = layerRefs(img.manifest.layers, config, `image ${img.digest} of ${where}`);
  return {
    artifact: {
      kind: 'image',
      name,
      digest: img.digest,
      imageId: img.manifest.config.digest,
      repoTags: r.tag ? [formatReference({ ...r, digest: undefined })] : undefined,
      repoDigests: [`${r.registry}/${r.repository}@${img.indexDigest ?? img.digest}`],
      config,
      layers: refs,
    },
    layers: refs.map((lref, i) => {
      const l = img.manifest.layers[i]!;
      return {
        ref: lref,
        digest: l.digest,
        diffId: lref.diffId,
        // Verified by the layer walker itself (one hash per blob).
        open: async () => (await client.getBlob(r.repository, l.digest, { verify: false })).stream,
      };
    }),
  };
}

/**
 * Analyzes an image or directory in a single streaming pass. Errors are BulwarkErrors with a code
 * (NOT_FOUND, AUTH, DIGEST_MISMATCH, CORRUPT, LIMIT...) and a message naming what failed.
 */
export async function analyzeTarget(
  target: string,
  analyzers: FileAnalyzer[],
  opts: SourceOptions & { kind?: TargetKind } = {},
): Promise<AnalysisResult> {
  const names = new Set<string>();
  for (const a of analyzers) {
    if (names.has(a.name)) throw new BulwarkError('INTERNAL', `two analyzers are named "${a.name}"`);
    names.add(a.name);
  }
  const t = await parseTarget(target, opts.kind);
  const limits = { maxLayerBytes: opts.maxLayerBytes, maxEntries: opts.maxEntries, logger: opts.logger };
  switch (t.type) {
    case 'dir':
      return analyzeDir(
        t.path,
        target,
        opts.kind === 'fs' || opts.kind === 'rootfs' ? opts.kind : undefined,
        analyzers,
        limits,
      );
    case 'oci': {
      const plan = await openOciLayout(await splitOciTarget(t.spec), target, opts.platform);
      return analyzePlan(plan, analyzers, limits);
    }
    case 'docker-archive': {
      const plan = await openDockerArchive(await splitArchiveTarget(t.spec), target);
      return analyzePlan(plan, analyzers, limits);
    }
    case 'registry': {
      const r = parseImageReference(t.ref);
      const client = new RegistryClient(r.registry, opts);
      try {
        const plan = await openRegistryImage(client, t.ref, target, opts.platform);
        return await analyzePlan(plan, analyzers, limits);
      } finally {
        await client.close();
      }
    }
  }
}
