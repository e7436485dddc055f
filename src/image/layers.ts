/**
 * The single streaming pass over image layers, bottom to top:
 *
 *   blob stream → sha256 (blob digest) → gunzip/zstd/none → sha256 (diff_id) + size cap → tar-stream
 *
 * Every tar entry is applied to the FileTree (whiteouts, opaque dirs, overwrites) and regular files
 * go to the Collector. Nothing is written to disk and nothing but wanted file contents is buffered.
 * Digest mismatches surface when a layer's stream ends; the analysis is then abandoned.
 */
import { pipeline } from 'node:stream/promises';
import { Writable, type Readable, type Transform } from 'node:stream';
import { extract as tarExtract, type Header } from 'tar-stream';
import type { FileEntry } from '../core/analyzer.js';
import { BulwarkError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { LayerRef } from '../core/types.js';
import { describeLocation, type Collector, type Warnings } from './collector.js';
import { decompressor, peek, sniffCompression, type Compression } from './decompress.js';
import { HashingStream } from './digest.js';
import { basename, dirname, joinPath, normalizeEntryPath } from './paths.js';
import type { FileTree } from './tree.js';

export interface LayerSource {
  /** Filled in further while streaming (digest, size, mediaType when they were unknown). */
  ref: LayerRef;
  /** Opens the blob as stored (possibly compressed). */
  open(): Promise<Readable>;
  /** Expected digest of the stored bytes. */
  digest?: string;
  /** Expected digest of the uncompressed tar (config rootfs.diff_ids). */
  diffId?: string;
}

export interface WalkOptions {
  /** Cap on uncompressed bytes per layer (default 16 GiB). */
  maxLayerBytes?: number;
  /** Cap on entries over the whole image (default 5 million). */
  maxEntries?: number;
  logger?: Logger;
}

export const DEFAULT_MAX_LAYER_BYTES = 16 * 1024 ** 3;
export const DEFAULT_MAX_ENTRIES = 5_000_000;
/** Longer entry names are skipped (Linux PATH_MAX). */
const MAX_PATH = 4096;

const MEDIA_BY_COMPRESSION: Record<Compression, string> = {
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  none: 'application/vnd.oci.image.layer.v1.tar',
};

export function layerName(ref: LayerRef): string {
  return `layer ${ref.index}${ref.digest ? ` (${ref.digest})` : ref.diffId ? ` (diff_id ${ref.diffId})` : ''}`;
}

export async function walkLayers(
  layers: LayerSource[],
  tree: FileTree,
  collector: Collector,
  warnings: Warnings,
  opts: WalkOptions = {},
): Promise<void> {
  const state = { entries: 0 };
  for (const layer of layers) {
    try {
      await walkLayer(layer, layers.length, tree, collector, warnings, opts, state);
    } catch (e) {
      throw await explainLayerError(e, layer);
    }
  }
  opts.logger?.progress('');
}

async function walkLayer(
  layer: LayerSource,
  total: number,
  tree: FileTree,
  collector: Collector,
  warnings: Warnings,
  opts: WalkOptions,
  state: { entries: number },
): Promise<void> {
  const ref = layer.ref;
  const what = layerName(ref);
  const src = await layer.open();
  const head = await peek(src);
  const compression = sniffCompression(head);
  ref.mediaType ??= MEDIA_BY_COMPRESSION[compression];

  let lastProgress = 0;
  const sizeText = ref.size !== undefined ? `/${(ref.size / 1e6).toFixed(1)}` : '';
  const blobHash = new HashingStream({
    expected: layer.digest,
    what: `${what} blob`,
    onBytes: (n) => {
      const now = Date.now();
      if (opts.logger && now - lastProgress > 200) {
        lastProgress = now;
        opts.logger.progress(
          `layer ${ref.index + 1}/${total} ${(ref.digest ?? '').slice(7, 19)} ${(n / 1e6).toFixed(1)}${sizeText} MB`,
        );
      }
    },
  });
  const stages: (Readable | Transform | NodeJS.WritableStream)[] = [src, blobHash];
  const dec = decompressor(compression, what);
  // Uncompressed blob: its digest is the diff_id, one hash is enough.
  const diffHash = dec
    ? new HashingStream({
        expected: layer.diffId,
        what: `${what} uncompressed (diff_id)`,
        maxBytes: opts.maxLayerBytes ?? DEFAULT_MAX_LAYER_BYTES,
      })
    : undefined;
  if (dec && diffHash) stages.push(dec, diffHash);
  if (!dec && layer.diffId && layer.digest && layer.diffId !== layer.digest) {
    throw new BulwarkError(
      'DIGEST_MISMATCH',
      `${what}: uncompressed layer whose digest ${layer.digest} differs from its diff_id ${layer.diffId}`,
    );
  }
  if (!dec && !layer.digest && layer.diffId) {
    // An uncompressed layer verified against its diff_id.
    stages[1] = new HashingStream({
      expected: layer.diffId,
      what: `${what} (diff_id)`,
      maxBytes: opts.maxLayerBytes ?? DEFAULT_MAX_LAYER_BYTES,
    });
  }

  const extract = lenientEnd(tarExtract({ highWaterMark: 1024 * 1024 } as object));
  extract.on('entry', (header: Header, stream: unknown, next: (err?: Error | null) => void) => {
    // tar-stream's entry streams are streamx Readables; they behave like node's for what we use.
    handleEntry(header, stream as Readable, ref, tree, collector, warnings, opts, state).then(
      () => next(),
      (e: unknown) => next(e as Error),
    );
  });
  stages.push(extract as unknown as NodeJS.WritableStream);
  await pipeline(stages as unknown as [Readable, ...Transform[]]);

  const h = stages[1] as HashingStream;
  ref.digest ??= h.digest;
  ref.size ??= h.bytes;
  if (!dec) ref.diffId ??= h.digest;
  else ref.diffId ??= diffHash!.digest;
}

/**
 * `umoci insert` writes layers whose last entry is complete but with neither its 512-byte padding
 * nor the end-of-archive blocks (Go's tar writer never closed). tar-stream calls that "Unexpected
 * end of data". Accept exactly that case: no entry open, nothing buffered, only padding (<512
 * bytes) outstanding. A stream cut inside an entry's data or header still fails.
 */
function lenientEnd<T extends object>(extract: T): T {
  const x = extract as unknown as {
    _final(cb: (err?: Error | null) => void): void;
    _stream: unknown;
    _longHeader: boolean;
    _missing: number;
    _buffer: { buffered: number };
  };
  const final = x._final.bind(x);
  x._final = (cb) => {
    if (
      x._stream === null &&
      !x._longHeader &&
      x._missing > 0 &&
      x._missing < 512 &&
      x._buffer.buffered === 0
    )
      x._missing = 0;
    final(cb);
  };
  return extract;
}

async function drain(stream: Readable): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
    stream.resume();
  });
}

async function readAll(stream: Readable, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => {
      c.copy(buf, off);
      off += c.length;
    });
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  return off === size ? buf : buf.subarray(0, off);
}

async function handleEntry(
  header: Header,
  stream: Readable,
  ref: LayerRef,
  tree: FileTree,
  collector: Collector,
  warnings: Warnings,
  opts: WalkOptions,
  state: { entries: number },
): Promise<void> {
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (++state.entries > maxEntries) {
    throw new BulwarkError('LIMIT', `more than ${maxEntries} entries in the image (limit)`);
  }
  const name = header.name;
  const path = name.length <= MAX_PATH ? normalizeEntryPath(name) : undefined;
  if (path === undefined) {
    warnings.add(
      `${layerName(ref)}: skipped entry ${JSON.stringify(name.slice(0, 200))}: ${name.length > MAX_PATH ? 'name too long' : 'path leaves the image root'}`,
    );
    return drain(stream);
  }
  if (path === '/') return drain(stream);
  const base = basename(path);
  const dir = dirname(path);
  if (base.startsWith('.wh.')) {
    if (base === '.wh..wh..opq') tree.makeOpaque(dir, ref.index);
    else {
      const target = base.slice(4);
      if (target === '' || target === '.' || target === '..')
        warnings.add(`${layerName(ref)}: ignored malformed whiteout ${path}`);
      else tree.remove(joinPath(dir, target), ref.index);
    }
    return drain(stream);
  }

  const entry: FileEntry = { path, type: 'other', size: 0, mode: header.mode ?? 0, layer: ref };
  switch (header.type) {
    case 'file':
    case 'contiguous-file': {
      entry.type = 'file';
      entry.size = header.size ?? 0;
      const seq = tree.put(entry);
      const wanting = collector.hasAnalyzers ? collector.wanting(entry) : [];
      if (wanting.length === 0) return drain(stream);
      let read = false;
      await collector.analyzeFile(entry, seq, wanting, async () => {
        read = true;
        return readAll(stream, entry.size);
      });
      if (!read) await drain(stream);
      return;
    }
    case 'directory':
      entry.type = 'dir';
      tree.put(entry);
      return drain(stream);
    case 'symlink':
      entry.type = 'symlink';
      entry.linkTarget = header.linkname ?? '';
      tree.put(entry);
      return drain(stream);
    case 'link': {
      const target =
        header.linkname && header.linkname.length <= MAX_PATH
          ? normalizeEntryPath(header.linkname)
          : undefined;
      const t = target ? tree.get(target) : undefined;
      if (!target || !t || (t.type !== 'file' && t.type !== 'hardlink')) {
        warnings.add(
          `${layerName(ref)}: skipped hard link ${path} -> ${JSON.stringify((header.linkname ?? '').slice(0, 200))}: ${target ? 'target is not a file in the image' : 'target leaves the image root'}`,
        );
        return drain(stream);
      }
      const origin = t.type === 'hardlink' ? t.linkTarget! : target;
      entry.type = 'hardlink';
      entry.linkTarget = origin;
      entry.size = t.size;
      const targetSeq = tree.seqOf(target);
      const seq = tree.put(entry);
      if (collector.hasAnalyzers) collector.hardlink(entry, seq, target, targetSeq);
      return drain(stream);
    }
    case 'character-device':
    case 'block-device':
    case 'fifo':
      // Device nodes and fifos are listed, never read.
      tree.put(entry);
      return drain(stream);
    default:
      warnings.add(`${layerName(ref)}: ignored ${header.type ?? 'unknown'} entry ${describeLocation(path)}`);
      return drain(stream);
  }
}

/** Turns stream errors into messages that name the layer. */
async function explainLayerError(e: unknown, layer: LayerSource): Promise<BulwarkError> {
  const what = layerName(layer.ref);
  if (e instanceof BulwarkError) return e;
  const err = e as NodeJS.ErrnoException;
  const msg = err?.message ?? String(e);
  let text: string;
  if (err?.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(msg)) text = 'truncated gzip stream';
  else if (
    err?.code === 'Z_DATA_ERROR' ||
    /incorrect header check|invalid (block|distance|stored)/i.test(msg)
  )
    text = `corrupt gzip data (${msg})`;
  else if (/Unexpected end of data/i.test(msg)) text = 'truncated tar stream (an entry is cut short)';
  else if (/Invalid tar header|Invalid header|Header exceeds max size|checksum/i.test(msg))
    text = `corrupt tar header (${msg})`;
  else if (err?.code && /^(ECONN|ETIMEDOUT|EPIPE|UND_ERR)/.test(err.code)) {
    return new BulwarkError('NETWORK', `${what}: reading the blob failed (${msg})`, {
      subject: layer.ref.digest,
      cause: e,
    });
  } else text = msg;
  const corrupt = new BulwarkError('CORRUPT', `${what}: ${text}`, { subject: layer.ref.digest, cause: e });
  // A tampered blob often breaks decompression before its digest can be checked: re-hash it so
  // that the error says what really happened.
  if (layer.digest) {
    try {
      const s = await layer.open();
      const h = new HashingStream({ expected: layer.digest, what: `${what} blob` });
      await pipeline(s, h, new Writable({ write: (_c, _e, cb) => cb() }));
    } catch (again) {
      if (again instanceof BulwarkError && again.code === 'DIGEST_MISMATCH') return again;
    }
  }
  return corrupt;
}
