/**
 * `dir:PATH` — a root filesystem (has etc/os-release, var/lib/dpkg, ...) or a project directory.
 * Walked with lstat only: symlinks are recorded, never followed, so nothing outside PATH is read;
 * files are opened with O_NOFOLLOW and re-checked with fstat (a file swapped for a symlink between
 * the walk and the read is skipped). Contents are read only for files an analyzer wants, up to its cap.
 * Paths are absolute inside the artifact: PATH/etc/passwd is "/etc/passwd".
 */
import { constants, type Dirent, type Stats } from 'node:fs';
import { lstat, open, opendir, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnalysisResult, FileAnalyzer, FileEntry } from '../core/analyzer.js';
import { BulwarkError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { Collector, Warnings } from './collector.js';
import type { LimitOptions } from './image.js';
import { DEFAULT_MAX_ENTRIES } from './layers.js';
import { joinPath } from './paths.js';
import { FileTree } from './tree.js';

const ROOTFS_MARKERS = [
  'etc/os-release',
  'usr/lib/os-release',
  'var/lib/dpkg/status',
  'lib/apk/db/installed',
  'var/lib/rpm',
  'usr/lib/sysimage/rpm',
];
/** Pseudo filesystems skipped at the top of a root filesystem. */
const ROOTFS_SKIP = new Set(['/proc', '/sys', '/dev']);

export async function looksLikeRootfs(dir: string): Promise<boolean> {
  for (const m of ROOTFS_MARKERS) if (await lstat(join(dir, m)).catch(() => undefined)) return true;
  return false;
}

async function readCapped(abs: string, expectSize: number, limit: number): Promise<Buffer | undefined> {
  const fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile()) return undefined;
    const size = Math.min(st.size, expectSize, limit);
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const { bytesRead } = await fh.read(buf, off, size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return off === size ? buf : buf.subarray(0, off);
  } finally {
    await fh.close();
  }
}

export async function analyzeDir(
  dirArg: string,
  name: string,
  kind: 'fs' | 'rootfs' | undefined,
  analyzers: FileAnalyzer[],
  opts: LimitOptions & { logger?: Logger } = {},
): Promise<AnalysisResult> {
  let root: string;
  try {
    root = await realpath(dirArg);
  } catch (e) {
    throw new BulwarkError('NOT_FOUND', `${dirArg}: no such file or directory`, {
      subject: dirArg,
      cause: e,
    });
  }
  const top = await lstat(root);
  const warnings = new Warnings();
  const tree = new FileTree();
  const collector = new Collector(analyzers, warnings);
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  let count = 0;
  let lastProgress = 0;

  // A single file: the artifact is its directory holding just that file.
  let single: string | undefined;
  if (!top.isDirectory()) {
    if (!top.isFile())
      throw new BulwarkError('USAGE', `${dirArg} is neither a directory nor a regular file`, {
        subject: dirArg,
      });
    single = root.slice(root.lastIndexOf('/') + 1);
    root = root.slice(0, root.lastIndexOf('/')) || '/';
  }
  const artifactKind = kind ?? (single === undefined && (await looksLikeRootfs(root)) ? 'rootfs' : 'fs');

  const statOrWarn = (rel: string, abs: string): Promise<Stats | undefined> =>
    lstat(abs).catch((e: unknown) => {
      warnings.add(`${rel}: cannot stat (${(e as NodeJS.ErrnoException).code ?? e})`);
      return undefined;
    });

  const visit = async (rel: string, abs: string, pre?: Promise<Stats | undefined>): Promise<boolean> => {
    if (++count > maxEntries)
      throw new BulwarkError('LIMIT', `more than ${maxEntries} entries under ${dirArg} (limit)`);
    const st = await (pre ?? statOrWarn(rel, abs));
    if (!st) return false;
    const entry: FileEntry = { path: rel, type: 'other', size: 0, mode: st.mode & 0o7777 };
    if (st.isDirectory()) {
      entry.type = 'dir';
      tree.put(entry);
      return true;
    }
    if (st.isSymbolicLink()) {
      entry.type = 'symlink';
      entry.linkTarget = await readlink(abs).catch(() => '');
      tree.put(entry);
      return false;
    }
    if (!st.isFile()) {
      tree.put(entry); // devices, sockets, fifos: listed, never opened
      return false;
    }
    entry.type = 'file';
    entry.size = st.size;
    const seq = tree.put(entry);
    const now = Date.now();
    if (opts.logger && now - lastProgress > 200) {
      lastProgress = now;
      opts.logger.progress(`${count} files ${rel.slice(0, 60)}`);
    }
    const wanting = collector.hasAnalyzers ? collector.wanting(entry) : [];
    if (wanting.length > 0) {
      await collector.analyzeFile(entry, seq, wanting, async (limit) => {
        try {
          return await readCapped(abs, entry.size, limit);
        } catch (e) {
          warnings.add(`${rel}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
          return undefined;
        }
      });
    }
    return false;
  };

  if (single !== undefined) {
    await visit(`/${single}`, join(root, single));
  } else {
    // Depth-first, names sorted, with an explicit stack (deep trees do not grow the JS stack).
    const stack: { rel: string; abs: string }[] = [{ rel: '/', abs: root }];
    while (stack.length > 0) {
      const { rel, abs } = stack.pop()!;
      let names: Dirent[];
      try {
        const dh = await opendir(abs);
        names = [];
        for await (const d of dh) names.push(d);
      } catch (e) {
        warnings.add(`${rel}: cannot list directory (${(e as NodeJS.ErrnoException).code ?? e})`);
        continue;
      }
      names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const subdirs: { rel: string; abs: string }[] = [];
      const children = names
        .map((d) => ({ rel: joinPath(rel, d.name), abs: join(abs, d.name) }))
        .filter((c) => !(artifactKind === 'rootfs' && rel === '/' && ROOTFS_SKIP.has(c.rel)));
      // lstat a directory's entries concurrently (the thread pool), then visit them in order.
      for (let i = 0; i < children.length; i += 64) {
        const batch = children.slice(i, i + 64);
        const stats = batch.map((c) => statOrWarn(c.rel, c.abs));
        for (let j = 0; j < batch.length; j++) {
          if (await visit(batch[j]!.rel, batch[j]!.abs, stats[j])) subdirs.push(batch[j]!);
        }
      }
      for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
    }
  }
  opts.logger?.progress('');
  return {
    artifact: { kind: artifactKind, name, layers: [] },
    files: tree,
    results: collector.finish(tree),
    warnings: warnings.done(),
  };
}
