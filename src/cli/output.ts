/**
 * Where command output goes: stdout, or a file given with -o. A file is written to a temporary name
 * beside it and renamed when complete, so a failed run never leaves a half-written report.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { BulwarkError } from '../core/errors.js';

/** True when stdout is an interactive terminal (then human formats and colours make sense). */
export function stdoutIsTTY(): boolean {
  return Boolean(process.stdout.isTTY);
}

/** True when stderr is an interactive terminal (progress lines go there, and only then). */
export function stderrIsTTY(): boolean {
  return Boolean(process.stderr.isTTY);
}

export interface Output {
  stream: Writable;
  /** The destination is a terminal (never true for -o FILE). */
  isTTY: boolean;
  /** Finishes writing (and, for a file, moves it into place). */
  close(): Promise<void>;
  /** Gives up: a partial file is removed; stdout is left as is. */
  abort(): Promise<void>;
}

function fileError(file: string, e: unknown): BulwarkError {
  const code = (e as NodeJS.ErrnoException).code;
  // an output path that cannot be written is an I/O error (exit 1), not a usage error
  const kind =
    code === 'ENOENT' ? 'NOT_FOUND' : code === 'EACCES' || code === 'EPERM' ? 'FORBIDDEN' : 'INTERNAL';
  return new BulwarkError(kind, `cannot write ${file}: ${code ?? (e as Error).message}`, {
    subject: file,
  });
}

/** Opens the output: stdout when `file` is undefined or "-", else the file. */
export async function openOutput(file?: string): Promise<Output> {
  if (file === undefined || file === '-') {
    const out = process.stdout;
    return {
      stream: out,
      isTTY: Boolean(out.isTTY),
      close: () =>
        new Promise<void>((resolve) =>
          out.writableNeedDrain ? out.once('drain', () => resolve()) : resolve(),
        ),
      abort: async () => {},
    };
  }
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const ws: WriteStream = createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', (e) => reject(fileError(file, e)));
  });
  let failed: unknown;
  ws.on('error', (e) => (failed ??= e));
  return {
    stream: ws,
    isTTY: false,
    async close() {
      await new Promise<void>((resolve, reject) => {
        ws.end(() => resolve());
        ws.once('error', reject);
      }).catch((e) => (failed ??= e));
      if (failed) {
        await rm(tmp, { force: true });
        throw fileError(file, failed);
      }
      try {
        await rename(tmp, file);
      } catch (e) {
        await rm(tmp, { force: true });
        throw fileError(file, e);
      }
    },
    async abort() {
      ws.destroy();
      await rm(tmp, { force: true });
    },
  };
}

/** Writes a whole text (or chunks) to stdout or the file. */
export async function writeOutput(content: string | Iterable<string>, file?: string): Promise<void> {
  const out = await openOutput(file);
  try {
    for (const chunk of typeof content === 'string' ? [content] : content) {
      if (!out.stream.write(chunk)) await new Promise<void>((r) => out.stream.once('drain', () => r()));
    }
    await out.close();
  } catch (e) {
    await out.abort();
    throw e;
  }
}

// A reader that goes away (`bulwark sbom img | head`) is not an error worth a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
