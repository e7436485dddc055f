/**
 * Readers of OSV inputs, each yielding records one at a time (never the whole set in memory):
 * directories (recursive, *.json), single JSON files (a record or an array of records), and zip
 * archives shaped like osv.dev's `<ecosystem>/all.zip` (entries streamed; CRC-32 of every entry
 * checked, since yauzl itself does not).
 */
import { open as openFile, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { BulwarkError } from '../../core/errors.js';
import { parseOsvJson, type OsvRecord } from '../osv.js';

export interface SourceRecord {
  record: OsvRecord;
  source: string;
}

export interface ReadOptions {
  /** Called for a malformed record that is skipped. */
  warn?: (msg: string) => void;
  onInvalid?: () => void;
}

/** Largest single JSON record or entry accepted (OSV records are a few KB; the biggest a few MB). */
export const MAX_RECORD_BYTES = 32 * 1024 * 1024;

/** Reads a path: directory, .zip (by magic bytes) or JSON file. */
export async function* readOsvPath(path: string, opts: ReadOptions = {}): AsyncGenerator<SourceRecord> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new BulwarkError('NOT_FOUND', `${path}: no such file or directory`, { subject: path });
  }
  if (st.isDirectory()) {
    yield* readOsvDir(path, opts);
  } else if (await isZip(path)) {
    yield* readOsvZip(path, opts);
  } else {
    if (st.size > MAX_RECORD_BYTES) {
      throw new BulwarkError('LIMIT', `${path}: JSON file larger than ${MAX_RECORD_BYTES} bytes`, { subject: path });
    }
    for (const record of parseOsvJson(await readFile(path, 'utf8'), path)) yield { record, source: path };
  }
}

async function isZip(path: string): Promise<boolean> {
  const fh = await openFile(path, 'r');
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    // local file header, or the end-of-central-directory of an empty archive
    return bytesRead === 4 && b[0] === 0x50 && b[1] === 0x4b && (b[2] === 3 || b[2] === 5);
  } finally {
    await fh.close();
  }
}

async function* readOsvDir(dir: string, opts: ReadOptions): AsyncGenerator<SourceRecord> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* readOsvDir(p, opts);
    else if (e.isFile() && e.name.endsWith('.json')) yield* parseSkippingInvalid(await readFile(p, 'utf8'), p, opts);
  }
}

function* parseSkippingInvalid(text: string, where: string, opts: ReadOptions): Generator<SourceRecord> {
  let recs: OsvRecord[];
  try {
    recs = parseOsvJson(text, where);
  } catch (e) {
    opts.warn?.(`skipped ${(e as Error).message}`);
    opts.onInvalid?.();
    return;
  }
  for (const record of recs) yield { record, source: where };
}

/**
 * Streams the .json entries of a zip archive. A damaged archive (bad central directory, CRC or size
 * mismatch) is an error: the caller's transaction then keeps the old database.
 */
export async function* readOsvZip(path: string, opts: ReadOptions = {}): AsyncGenerator<SourceRecord> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: true, validateEntrySizes: true }, (err, z) =>
      err ? reject(corrupt(path, err)) : resolve(z),
    ),
  );
  try {
    while (true) {
      const entry = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
        const onEntry = (e: yauzl.Entry) => {
          cleanup();
          resolve(e);
        };
        const onEnd = () => {
          cleanup();
          resolve(undefined);
        };
        const onError = (err: Error) => {
          cleanup();
          reject(corrupt(path, err));
        };
        const cleanup = () => {
          zip.off('entry', onEntry);
          zip.off('end', onEnd);
          zip.off('error', onError);
        };
        zip.on('entry', onEntry);
        zip.on('end', onEnd);
        zip.on('error', onError);
        zip.readEntry();
      });
      if (!entry) break;
      if (entry.fileName.endsWith('/') || !entry.fileName.endsWith('.json')) continue;
      const where = `${path}!${entry.fileName}`;
      if (entry.uncompressedSize > MAX_RECORD_BYTES) {
        throw new BulwarkError('LIMIT', `${where}: entry larger than ${MAX_RECORD_BYTES} bytes`, { subject: where });
      }
      const data = await readEntry(zip, entry, where);
      yield* parseSkippingInvalid(data.toString('utf8'), where, opts);
    }
  } finally {
    zip.close();
  }
}

function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, where: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err) return reject(corrupt(where, err));
      const chunks: Buffer[] = [];
      let crc = 0;
      stream.on('data', (c: Buffer) => {
        crc = crc32(c, crc);
        chunks.push(c);
      });
      stream.on('error', (e) => reject(corrupt(where, e)));
      stream.on('end', () => {
        if (crc >>> 0 !== entry.crc32 >>> 0) reject(new BulwarkError('CORRUPT', `${where}: CRC-32 mismatch (damaged archive)`, { subject: where }));
        else resolve(Buffer.concat(chunks));
      });
    });
  });
}

function corrupt(where: string, err: Error): BulwarkError {
  return new BulwarkError('CORRUPT', `${where}: not a readable zip archive: ${err.message}`, { subject: where, cause: err });
}

/** Checks a whole zip archive (central directory, every entry's size and CRC-32) without importing. */
export async function verifyZip(path: string): Promise<number> {
  let n = 0;
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: true }, (err, z) => (err ? reject(corrupt(path, err)) : resolve(z))),
  );
  await new Promise<void>((resolve, reject) => {
    zip.on('error', (e) => reject(corrupt(path, e)));
    zip.on('end', () => resolve());
    zip.on('entry', (entry: yauzl.Entry) => {
      if (entry.fileName.endsWith('/')) return zip.readEntry();
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(corrupt(path, err));
        let crc = 0;
        stream.on('data', (c: Buffer) => (crc = crc32(c, crc)));
        stream.on('error', (e) => reject(corrupt(`${path}!${entry.fileName}`, e)));
        stream.on('end', () => {
          if (crc >>> 0 !== entry.crc32 >>> 0) return reject(new BulwarkError('CORRUPT', `${path}!${entry.fileName}: CRC-32 mismatch`, { subject: path }));
          n++;
          zip.readEntry();
        });
      });
    });
    zip.readEntry();
  });
  return n;
}
