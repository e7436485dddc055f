/**
 * Helpers for the image tests: analyzers that record what they see, and small real OCI layouts
 * written blob by blob (for hostile layers that no well-behaved tool would produce) or built with
 * umoci (for ordinary small images).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';
import type { FileAnalyzer, FileEntry } from '../../src/core/analyzer.js';
import type { LayerRef } from '../../src/core/types.js';

export const execFileP = promisify(execFile);

export interface Seen {
  path: string;
  layer?: LayerRef;
  content: Buffer;
  type: string;
}

/** An analyzer that keeps every wanted file's content (tests only; files are small). */
export function recorder(
  name: string,
  scope: 'final' | 'all-layers',
  wants: (e: FileEntry) => boolean,
  maxBytes?: number,
): FileAnalyzer<Seen> {
  return {
    name,
    scope,
    maxBytes,
    wants,
    analyze: (f) => ({ path: f.path, layer: f.layer, content: f.content, type: f.type }),
  };
}

export function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

export type TarEntry = Partial<Header> & { name: string; content?: Buffer | string };

/** A tar archive from entries (tar-stream writes it, with end-of-archive blocks unless cut later). */
export async function tarBuffer(entries: TarEntry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  for (const { content, ...h } of entries) {
    const body =
      content === undefined ? undefined : Buffer.isBuffer(content) ? content : Buffer.from(content);
    await new Promise<void>((resolve, reject) => {
      const header = { mode: 0o644, ...h, size: body?.length ?? h.size ?? 0 } as Header;
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) p.entry(header, body, cb);
      else (p.entry(header, cb) as unknown as { end(): void }).end();
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface LayoutLayer {
  /** The blob as stored. */
  blob: Buffer;
  /** diff_id to put in the config (default: sha256 of the uncompressed tar given as `tar`). */
  diffId?: string;
  tar?: Buffer;
  mediaType?: string;
  /** Digest written in the manifest (default: the blob's real digest). */
  digest?: string;
}

export function gzLayer(tar: Buffer): LayoutLayer {
  return { blob: gzipSync(tar), tar, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' };
}

function writeBlob(dir: string, b: Buffer): { digest: string; size: number } {
  const digest = sha256(b);
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)), b);
  return { digest, size: b.length };
}

/** Writes an OCI image layout holding one image tagged `tag`; returns the manifest digest. */
export function writeOciLayout(dir: string, tag: string, layers: LayoutLayer[], arch = 'amd64'): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const layerDescs = layers.map((l) => {
    let w = { digest: sha256(l.blob), size: l.blob.length };
    if (l.digest) {
      // Tampered on purpose: the bytes are stored under the digest the manifest claims.
      mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
      writeFileSync(join(dir, 'blobs', 'sha256', l.digest.slice(7)), l.blob);
    } else w = writeBlob(dir, l.blob);
    return {
      mediaType: l.mediaType ?? 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: l.digest ?? w.digest,
      size: w.size,
    };
  });
  const config = {
    architecture: arch,
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId ?? sha256(l.tar ?? l.blob)) },
    history: layers.map((_, i) => ({ created_by: `layer ${i}` })),
  };
  const c = writeBlob(dir, Buffer.from(JSON.stringify(config)));
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...c },
    layers: layerDescs,
  };
  const m = writeBlob(dir, Buffer.from(JSON.stringify(manifest)));
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        ...m,
        annotations: { 'org.opencontainers.image.ref.name': tag },
      },
    ],
  };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  return m.digest;
}

/** A small real image made with umoci: `files` (path → content) inserted as one layer. */
export async function umociImage(
  layout: string,
  tag: string,
  files: Record<string, string>,
  arch = 'amd64',
): Promise<void> {
  const src = join(layout, `..`, `${tag}-src`);
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(join(src, p, '..'), { recursive: true });
    writeFileSync(join(src, p), content);
  }
  await execFileP('umoci', ['init', '--layout', layout]).catch(() => undefined); // exists already: fine
  await execFileP('umoci', ['new', '--image', `${layout}:${tag}`]);
  await execFileP('umoci', [
    'config',
    '--image',
    `${layout}:${tag}`,
    '--os',
    'linux',
    '--architecture',
    arch,
  ]);
  await execFileP('umoci', ['insert', '--image', `${layout}:${tag}`, src, '/']);
}
