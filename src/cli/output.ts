/**
 * Where command output goes: stdout, or a file given with -o. A regular file (new or existing) is
 * written to a temporary name beside it and renamed when complete, so a failed run never leaves a
 * half-written report; an existing file keeps its mode. Anything else is written through and never
 * replaced: devices (`-o /dev/null`, `-o /dev/stdout`), FIFOs and process substitutions
 * (`-o >(gzip > r.gz)`), and symlinks, whose target is what gets written.
 */
import { createWriteStream, type Stats, type WriteStream } from 'node:fs';
import { chmod, lstat, realpath, rename, rm, stat } from 'node:fs/promises';
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
  const target = await resolveTarget(file);
  if (target.kind === 'through') return openThrough(file, target.append === true);
  return openAtomic(file, target.path, target.mode);
}

type Target = { kind: 'through'; append?: boolean } | { kind: 'atomic'; path: string; mode?: number };

/** Decides how `file` is written: through (devices, FIFOs, sockets) or atomically (regular files). */
async function resolveTarget(file: string): Promise<Target> {
  let l: Stats;
  try {
    l = await lstat(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'atomic', path: file };
    throw fileError(file, e);
  }
  if (l.isFile()) return { kind: 'atomic', path: file, mode: l.mode & 0o7777 };
  if (l.isDirectory()) throw fileError(file, Object.assign(new Error(), { code: 'EISDIR' }));
  if (!l.isSymbolicLink()) return { kind: 'through' };
  // a symlink: what it points at decides (/dev/stdout -> /proc/self/fd/1 -> pipe or tty)
  let s: Stats;
  try {
    s = await stat(file);
  } catch (e) {
    // dangling: writing through the link creates its target, as the shell's `>` does
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'through' };
    throw fileError(file, e);
  }
  if (s.isDirectory()) throw fileError(file, Object.assign(new Error(), { code: 'EISDIR' }));
  if (!s.isFile()) return { kind: 'through' };
  // a link to a regular file: replace the target atomically, keep the link.
  // /proc/self/fd/N of a regular file (e.g. `-o /dev/stdout` redirected to a file) is written
  // through: the open description may be in append mode or shared with the caller.
  const real = await realpath(file).catch(() => undefined);
  if (!real || /^\/proc\/|^\/dev\/(fd\/|stdout$|stderr$)/.test(file))
    return { kind: 'through', append: true };
  return { kind: 'atomic', path: real, mode: s.mode & 0o7777 };
}

/**
 * Opens a write stream on `path`, reporting failures as errors about `file`. `finish` ends it and
 * returns the first write error, if any; `abort` destroys it.
 */
async function openStream(
  file: string,
  path: string,
  opts: { flags: string; mode?: number },
): Promise<{ ws: WriteStream; finish(): Promise<unknown> }> {
  const ws: WriteStream = createWriteStream(path, opts);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', (e) => reject(fileError(file, e)));
  });
  let failed: unknown;
  ws.on('error', (e) => (failed ??= e));
  return {
    ws,
    async finish() {
      await new Promise<void>((resolve, reject) => {
        ws.end(() => resolve());
        ws.once('error', reject);
      }).catch((e) => (failed ??= e));
      return failed;
    },
  };
}

/** Writes straight into an existing device, FIFO, socket or link target; nothing is renamed. */
async function openThrough(file: string, append: boolean): Promise<Output> {
  // an inherited regular file (`-o /dev/stdout >> log`) is appended to, never truncated
  const { ws, finish } = await openStream(file, file, { flags: append ? 'a' : 'w' });
  return {
    stream: ws,
    isTTY: false,
    async close() {
      const failed = await finish();
      if (failed) throw fileError(file, failed);
    },
    async abort() {
      ws.destroy();
    },
  };
}

/** Writes `path` (a regular file) through a temporary file renamed over it at the end. */
async function openAtomic(file: string, path: string, mode?: number): Promise<Output> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  // new files get 0666 minus the umask, as the shell's `>` would create them
  const { ws, finish } = await openStream(file, tmp, { flags: 'wx', mode: mode ?? 0o666 });
  return {
    stream: ws,
    isTTY: false,
    async close() {
      const failed = await finish();
      if (failed) {
        await rm(tmp, { force: true });
        throw fileError(file, failed);
      }
      try {
        // the umask applied at creation; an existing file keeps exactly its mode
        if (mode !== undefined) await chmod(tmp, mode);
        await rename(tmp, path);
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
