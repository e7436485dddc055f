/**
 * Content digests (OCI "algorithm:hex"): validation, hashing of buffers, and a pass-through stream
 * that hashes and counts what flows through it and fails at the end on a mismatch.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { BulwarkError } from '../core/errors.js';

const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}

/** Throws a clear error for anything that is not a sha256/sha512 digest (hostile paths included). */
export function checkDigest(s: unknown, what: string): string {
  if (typeof s !== 'string' || !DIGEST_RE.test(s)) {
    throw new BulwarkError('CORRUPT', `${what}: invalid digest ${JSON.stringify(s)?.slice(0, 100)}`);
  }
  return s;
}

function algorithmOf(digest: string): 'sha256' | 'sha512' {
  return digest.startsWith('sha512:') ? 'sha512' : 'sha256';
}

export function digestOf(data: Buffer, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** Verifies a whole buffer against its digest; `what` names the blob in the error. */
export function verifyBuffer(data: Buffer, expected: string, what: string): void {
  const got = digestOf(data, algorithmOf(expected));
  if (got !== expected) {
    throw new BulwarkError('DIGEST_MISMATCH', `${what}: digest mismatch (expected ${expected}, got ${got})`, {
      subject: expected,
    });
  }
}

export interface HashingStreamOptions {
  /** Expected digest; when set, the stream errors at its end if the content differs. */
  expected?: string;
  /** Names the blob in errors: "layer 2 (sha256:...)". */
  what: string;
  /** Error when more than this many bytes pass (decompression bombs). */
  maxBytes?: number;
  onBytes?: (total: number) => void;
}

/** Pass-through that hashes and counts the bytes; `digest` is set once the stream has ended. */
export class HashingStream extends Transform {
  bytes = 0;
  digest?: string;
  private readonly hash;
  private readonly algorithm: 'sha256' | 'sha512';

  constructor(private readonly opts: HashingStreamOptions) {
    // Large buffers: decompressors emit 128 KiB chunks; a 16 KiB mark would stall the pipeline.
    super({ highWaterMark: 1024 * 1024 });
    this.algorithm = opts.expected ? algorithmOf(opts.expected) : 'sha256';
    this.hash = createHash(this.algorithm);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.opts.maxBytes !== undefined && this.bytes > this.opts.maxBytes) {
      cb(
        new BulwarkError(
          'LIMIT',
          `${this.opts.what}: more than ${this.opts.maxBytes} uncompressed bytes (limit); refusing to read further`,
          {
            subject: this.opts.what,
          },
        ),
      );
      return;
    }
    this.hash.update(chunk);
    this.opts.onBytes?.(this.bytes);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.digest = `${this.algorithm}:${this.hash.digest('hex')}`;
    const exp = this.opts.expected;
    if (exp && exp !== this.digest) {
      cb(
        new BulwarkError(
          'DIGEST_MISMATCH',
          `${this.opts.what}: digest mismatch (expected ${exp}, got ${this.digest})`,
          { subject: exp },
        ),
      );
      return;
    }
    cb();
  }
}
