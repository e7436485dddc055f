/**
 * Layer decompression chosen by the content's magic bytes (the media type can lie): gzip (zlib),
 * zstd (fzstd, pure JS) or none. Both decompressors honour back-pressure, so a decompression bomb
 * never sits in memory: at most a few MB are in flight.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import { BulwarkError } from '../core/errors.js';

export type Compression = 'gzip' | 'zstd' | 'none';

export function sniffCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/** Reads the first bytes of a stream without consuming them (they are unshifted back). */
export async function peek(stream: Readable, n = 8): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onReadable = () => {
      const chunk = stream.read() as Buffer | null;
      if (chunk === null) {
        if (stream.readableEnded) done(Buffer.alloc(0));
        return;
      }
      done(chunk);
    };
    const onEnd = () => done(Buffer.alloc(0));
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const done = (chunk: Buffer) => {
      cleanup();
      if (chunk.length > 0) stream.unshift(chunk);
      resolve(chunk.subarray(0, n));
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

/** zstd frames may ask for a window this large at most (zstd's own default limit is 128 MiB). */
const MAX_ZSTD_WINDOW = 256 * 1024 * 1024;
/** Input is fed in slices this small so that one slice cannot expand to more than a few MB. */
const ZSTD_SLICE = 128;

/** zstd → bytes, pushing output only as fast as the reader takes it. */
class ZstdDecompress extends Transform {
  private readonly d: Decompress;
  private waiting?: () => void;
  private first = true;

  constructor(private readonly what: string) {
    super();
    this.d = new Decompress((chunk) => {
      this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
  }

  override _read(size: number): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
    super._read(size);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.feed(chunk).then(
      () => cb(),
      (e: unknown) => cb(this.toError(e)),
    );
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.d.push(new Uint8Array(0), true);
      cb();
    } catch (e) {
      cb(this.toError(e));
    }
  }

  private async feed(chunk: Buffer): Promise<void> {
    if (this.first) {
      this.first = false;
      checkZstdWindow(chunk, this.what);
    }
    for (let off = 0; off < chunk.length; off += ZSTD_SLICE) {
      this.d.push(chunk.subarray(off, off + ZSTD_SLICE));
      while (this.readableLength >= this.readableHighWaterMark) {
        await new Promise<void>((r) => (this.waiting = r));
      }
    }
  }

  private toError(e: unknown): Error {
    if (e instanceof BulwarkError) return e;
    return new BulwarkError('CORRUPT', `${this.what}: corrupt zstd stream (${(e as Error).message})`, {
      cause: e,
    });
  }
}

/** Refuses a first zstd frame whose window would need an unreasonable allocation. */
function checkZstdWindow(head: Buffer, what: string): void {
  if (head.length < 6 || head.readUInt32LE(0) !== 0xfd2fb528) return;
  const fhd = head[4]!;
  const singleSegment = (fhd >> 5) & 1;
  if (singleSegment) {
    // Window = content size; with the 8-byte size field it can claim up to 2^64.
    const fcsFlag = fhd >> 6;
    const dictIdBytes = [0, 1, 2, 4][fhd & 3]!;
    const off = 5 + dictIdBytes;
    const fcsBytes = [1, 2, 4, 8][fcsFlag]!;
    if (head.length < off + fcsBytes) return;
    let size = 0;
    for (let i = fcsBytes - 1; i >= 0; i--) size = size * 256 + head[off + i]!;
    if (fcsBytes === 2) size += 256;
    if (size > MAX_ZSTD_WINDOW) {
      throw new BulwarkError(
        'LIMIT',
        `${what}: zstd frame needs a ${size}-byte window (limit ${MAX_ZSTD_WINDOW})`,
      );
    }
    return;
  }
  const wd = head[5]!;
  const exp = wd >> 3;
  const base = 2 ** (10 + exp);
  const window = base + (base / 8) * (wd & 7);
  if (window > MAX_ZSTD_WINDOW) {
    throw new BulwarkError(
      'LIMIT',
      `${what}: zstd frame needs a ${window}-byte window (limit ${MAX_ZSTD_WINDOW})`,
    );
  }
}

export function decompressor(kind: Compression, what: string): Transform | undefined {
  if (kind === 'gzip') return createGunzip({ chunkSize: 128 * 1024 });
  if (kind === 'zstd') return new ZstdDecompress(what);
  return undefined;
}
