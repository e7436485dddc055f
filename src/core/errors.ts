/**
 * Errors a user sees. `BulwarkError` carries a stable code and, where it applies, what the error is
 * about (a layer digest, a file path, a registry URL). Messages never include secrets.
 */
export type ErrorCode =
  | 'USAGE'
  | 'NOT_FOUND'
  | 'AUTH'
  | 'FORBIDDEN'
  | 'NETWORK'
  | 'TIMEOUT'
  | 'RATE_LIMIT'
  | 'DIGEST_MISMATCH'
  | 'CORRUPT'
  | 'UNSUPPORTED'
  | 'LIMIT'
  | 'PARSE'
  | 'DB'
  | 'INTERNAL';

export class BulwarkError extends Error {
  readonly code: ErrorCode;
  /** What the error is about: "layer sha256:...", "/etc/passwd", "https://reg/v2/...". */
  readonly subject?: string;
  constructor(code: ErrorCode, message: string, opts: { subject?: string; cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'BulwarkError';
    this.code = code;
    this.subject = opts.subject;
  }
}

export function isBulwarkError(e: unknown): e is BulwarkError {
  return e instanceof BulwarkError;
}

/** A one-line message for stderr: the message plus, for unexpected errors, their type. */
export function describeError(e: unknown): string {
  if (e instanceof BulwarkError) return e.message;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
