/**
 * `oci:DIR[:TAG]` — an OCI image layout directory (index.json, oci-layout, blobs/<alg>/<hex>).
 * The tag is matched against the org.opencontainers.image.ref.name annotation; nested indexes
 * (multi-platform) are resolved with the platform option.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BulwarkError } from '../core/errors.js';
import { checkJsonSize } from './blobs.js';
import { checkDigest, verifyBuffer } from './digest.js';
import type { ImagePlan } from './image.js';
import {
  layerRefs,
  parseImageConfig,
  parseManifestDoc,
  selectPlatform,
  type Descriptor,
  type ImageIndex,
} from './manifest.js';

const REF_NAME = 'org.opencontainers.image.ref.name';

export interface OciTarget {
  dir: string;
  tag?: string;
}

/** Splits "DIR[:TAG]": the tag is whatever follows the last ':' when DIR alone exists or TAG has no '/'. */
export async function splitOciTarget(spec: string): Promise<OciTarget> {
  const i = spec.lastIndexOf(':');
  if (i > 0 && !spec.slice(i + 1).includes('/')) {
    const whole = await stat(spec).catch(() => undefined);
    if (!whole?.isDirectory()) return { dir: spec.slice(0, i), tag: spec.slice(i + 1) };
  }
  return { dir: spec };
}

function blobPath(dir: string, digest: string): string {
  const [alg, hex] = checkDigest(digest, `OCI layout ${dir}`).split(':') as [string, string];
  return join(dir, 'blobs', alg, hex);
}

async function readBlob(dir: string, d: Descriptor, what: string): Promise<Buffer> {
  checkJsonSize(d.size, what);
  let buf: Buffer;
  try {
    buf = await readFile(blobPath(dir, d.digest));
  } catch (e) {
    throw new BulwarkError('NOT_FOUND', `${what}: blob ${d.digest} is missing from ${dir}`, {
      subject: d.digest,
      cause: e,
    });
  }
  verifyBuffer(buf, d.digest, `${what} (blob ${d.digest})`);
  return buf;
}

export async function openOciLayout(
  target: OciTarget,
  name: string,
  platform: string | undefined,
): Promise<ImagePlan> {
  const { dir, tag } = target;
  let indexBuf: Buffer;
  try {
    const st = await stat(join(dir, 'index.json'));
    checkJsonSize(st.size, `${dir}/index.json`);
    indexBuf = await readFile(join(dir, 'index.json'));
  } catch (e) {
    if (e instanceof BulwarkError) throw e;
    throw new BulwarkError('NOT_FOUND', `${dir} is not an OCI image layout (no readable index.json)`, {
      subject: dir,
      cause: e,
    });
  }
  const top = parseManifestDoc(indexBuf, `${dir}/index.json`);
  if (top.kind !== 'index') throw new BulwarkError('PARSE', `${dir}/index.json: not an image index`);

  let desc: Descriptor;
  const tagged = (m: Descriptor) => m.annotations?.[REF_NAME];
  if (tag !== undefined) {
    const found = top.index.manifests.find((m) => tagged(m) === tag);
    if (!found) {
      const tags = top.index.manifests.map(tagged).filter(Boolean);
      throw new BulwarkError(
        'NOT_FOUND',
        `tag "${tag}" not found in OCI layout ${dir} (tags: ${tags.join(', ') || 'none'})`,
        { subject: dir },
      );
    }
    desc = found;
  } else if (top.index.manifests.length === 1) {
    desc = top.index.manifests[0]!;
  } else {
    const tags = top.index.manifests.map(tagged).filter(Boolean);
    // A layout that is itself one multi-platform image: select from its index directly.
    if (tags.length === 0 && top.index.manifests.every((m) => m.platform))
      desc = selectPlatform(top.index, platform, `${dir}/index.json`);
    else
      throw new BulwarkError(
        'USAGE',
        `OCI layout ${dir} holds ${top.index.manifests.length} images; name one as oci:${dir}:TAG (tags: ${tags.join(', ')})`,
      );
  }

  // Follow nested indexes down to one image manifest.
  for (let depth = 0; ; depth++) {
    if (depth > 4) throw new BulwarkError('CORRUPT', `${dir}: image indexes nested too deeply`);
    const body = await readBlob(dir, desc, `${dir} manifest`);
    const doc = parseManifestDoc(body, `${dir} manifest ${desc.digest}`, desc.mediaType);
    if (doc.kind === 'index') {
      desc = selectPlatform(doc.index as ImageIndex, platform, `${dir} index ${desc.digest}`);
      continue;
    }
    const m = doc.manifest;
    const configBuf = await readBlob(dir, m.config, `${dir} image config`);
    const config = parseImageConfig(configBuf, `${dir} image config ${m.config.digest}`);
    const refs = layerRefs(m.layers, config, `${dir} image ${desc.digest}`);
    return {
      artifact: {
        kind: 'image',
        name,
        digest: desc.digest,
        imageId: m.config.digest,
        repoTags: tag !== undefined ? [tag] : tagged(desc) ? [tagged(desc)!] : undefined,
        config,
        layers: refs,
      },
      layers: refs.map((ref, i) => {
        const l = m.layers[i]!;
        return {
          ref,
          digest: l.digest,
          diffId: ref.diffId,
          open: async () => {
            const p = blobPath(dir, l.digest);
            await stat(p).catch((e: unknown) => {
              throw new BulwarkError('NOT_FOUND', `layer ${i} (${l.digest}): blob missing from ${dir}`, {
                subject: l.digest,
                cause: e,
              });
            });
            return createReadStream(p, { highWaterMark: 1024 * 1024 });
          },
        };
      }),
    };
  }
}
