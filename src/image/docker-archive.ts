/**
 * `docker-archive:FILE[:REF]` — a `docker save` / `skopeo copy docker-archive:` tarball. The outer tar
 * is indexed once (tar-index.ts) and each layer is streamed straight from its offset in the file.
 * Layers are verified against the config's diff_ids, and against the digest in their file name
 * where the archive names blobs by digest (blobs/sha256/HEX, HEX.tar).
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { BulwarkError } from '../core/errors.js';
import { checkJsonSize } from './blobs.js';
import { digestOf, verifyBuffer } from './digest.js';
import type { ImagePlan } from './image.js';
import { layerRefs, parseImageConfig } from './manifest.js';
import { indexTar, resolveTarEntry, type TarIndexEntry } from './tar-index.js';

interface ArchiveManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/** Splits "FILE[:REF]" (REF may hold ':' itself): FILE is the shortest prefix that exists. */
export async function splitArchiveTarget(spec: string): Promise<{ file: string; ref?: string }> {
  if (await stat(spec).catch(() => undefined)) return { file: spec };
  for (let i = spec.indexOf(':'); i > 0; i = spec.indexOf(':', i + 1)) {
    if ((await stat(spec.slice(0, i)).catch(() => undefined))?.isFile())
      return { file: spec.slice(0, i), ref: spec.slice(i + 1) };
  }
  return { file: spec };
}

async function readEntry(file: string, e: TarIndexEntry, what: string): Promise<Buffer> {
  checkJsonSize(e.size, what);
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(e.size);
    await fh.read(buf, 0, e.size, e.offset);
    return buf;
  } finally {
    await fh.close();
  }
}

/** The digest a blob's name promises (blobs/sha256/HEX, HEX.tar, HEX.json), if any. */
function digestFromName(name: string): string | undefined {
  const m = /(?:^|\/)(?:blobs\/sha256\/)?([a-f0-9]{64})(?:\.tar|\.json)?$/.exec(name);
  if (!m) return undefined;
  // Old docker save: <layer-id>/layer.tar — the id is not a content digest.
  if (/^[a-f0-9]{64}\/layer\.tar$/.test(name) || /\/json$/.test(name)) return undefined;
  return `sha256:${m[1]}`;
}

export async function openDockerArchive(
  target: { file: string; ref?: string },
  name: string,
): Promise<ImagePlan> {
  const { file } = target;
  const st = await stat(file).catch((e: unknown) => {
    throw new BulwarkError(
      'NOT_FOUND',
      `docker archive ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`,
      { subject: file },
    );
  });
  if (!st.isFile())
    throw new BulwarkError('USAGE', `docker archive ${file} is not a file`, { subject: file });
  const index = await indexTar(file);
  const mf = index.get('manifest.json');
  if (!mf)
    throw new BulwarkError('PARSE', `${file}: no manifest.json; not a docker-archive (docker save) tarball`, {
      subject: file,
    });
  let manifest: ArchiveManifestEntry[];
  try {
    manifest = JSON.parse(
      (await readEntry(file, mf, `${file} manifest.json`)).toString('utf8'),
    ) as ArchiveManifestEntry[];
  } catch (e) {
    if (e instanceof BulwarkError) throw e;
    throw new BulwarkError('PARSE', `${file} manifest.json: not valid JSON (${(e as Error).message})`, {
      subject: file,
    });
  }
  if (!Array.isArray(manifest) || manifest.length === 0)
    throw new BulwarkError('PARSE', `${file} manifest.json: no images listed`, { subject: file });

  let img: ArchiveManifestEntry | undefined;
  const allTags = manifest.flatMap((m) => m.RepoTags ?? []);
  if (target.ref) {
    img = manifest.find((m) =>
      (m.RepoTags ?? []).some((t) => t === target.ref || t.endsWith(`/${target.ref}`)),
    );
    if (!img)
      throw new BulwarkError(
        'NOT_FOUND',
        `${file}: no image tagged "${target.ref}" (tags: ${allTags.join(', ') || 'none'})`,
        { subject: file },
      );
  } else if (manifest.length === 1) img = manifest[0];
  else
    throw new BulwarkError(
      'USAGE',
      `${file} holds ${manifest.length} images; name one as docker-archive:${file}:REF (tags: ${allTags.join(', ')})`,
    );
  if (
    !img ||
    typeof img.Config !== 'string' ||
    !Array.isArray(img.Layers) ||
    !img.Layers.every((l) => typeof l === 'string')
  ) {
    throw new BulwarkError('PARSE', `${file} manifest.json: entry without Config and Layers`, {
      subject: file,
    });
  }

  const configEntry = resolveTarEntry(index, img.Config, file);
  const configBuf = await readEntry(file, configEntry, `${file} ${img.Config}`);
  const configDigest = digestFromName(img.Config);
  if (configDigest) verifyBuffer(configBuf, configDigest, `${file} image config ${img.Config}`);
  const config = parseImageConfig(configBuf, `${file} ${img.Config}`);
  const entries = img.Layers.map((l) => resolveTarEntry(index, l, file));
  const refs = layerRefs(
    img.Layers.map((l, i) => ({ digest: digestFromName(l) ?? '', size: entries[i]!.size, mediaType: '' })),
    config,
    `${file} image`,
  );
  return {
    artifact: {
      kind: 'image',
      name,
      imageId: configDigest ?? digestOf(configBuf),
      repoTags: img.RepoTags?.length ? img.RepoTags : undefined,
      config,
      layers: refs,
    },
    layers: refs.map((ref, i) => {
      const e = entries[i]!;
      return {
        ref,
        digest: ref.digest,
        diffId: ref.diffId,
        open: async () =>
          e.size === 0
            ? Readable.from([])
            : createReadStream(file, {
                start: e.offset,
                end: e.offset + e.size - 1,
                highWaterMark: 1024 * 1024,
              }),
      };
    }),
  };
}
