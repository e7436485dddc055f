/**
 * Readers of OSV inputs, each yielding records one at a time (never the whole set in memory):
 * directories (recursive, *.json), single JSON files (a record or an array of records), and zip
 * archives shaped like osv.dev's `<ecosystem>/all.zip` (entries read one at a time by ./zip.ts,
 * size and CRC-32 of every entry checked).
 */
import { open as openFile, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BulwarkError } from '../../core/errors.js';
import { parseOsvJson, type OsvRecord } from '../osv.js';
import { zipEntries } from './zip.js';

export interface SourceRecord {
  record: OsvRecord;
  source: string;
  /** The record's JSON text as read, when the input held exactly this record (stored verbatim). */
  raw?: string;
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
      throw new BulwarkError('LIMIT', `${path}: JSON file larger than ${MAX_RECORD_BYTES} bytes`, {
        subject: path,
      });
    }
    const text = await readFile(path, 'utf8');
    const recs = parseOsvJson(text, path);
    if (recs.length === 1) yield { record: recs[0]!, source: path, raw: text };
    else for (const record of recs) yield { record, source: path };
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
    else if (e.isFile() && e.name.endsWith('.json'))
      yield* parseSkippingInvalid(await readFile(p, 'utf8'), p, opts);
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
  if (recs.length === 1) yield { record: recs[0]!, source: where, raw: text };
  else for (const record of recs) yield { record, source: where };
}

/**
 * Streams the .json entries of a zip archive. A damaged archive (bad central directory, CRC or size
 * mismatch) is an error: the caller's transaction then keeps the old database.
 */
export async function* readOsvZip(path: string, opts: ReadOptions = {}): AsyncGenerator<SourceRecord> {
  for (const { name, data } of zipEntries(path, MAX_RECORD_BYTES)) {
    if (!name.endsWith('.json')) continue;
    yield* parseSkippingInvalid(data.toString('utf8'), `${path}!${name}`, opts);
  }
}

/** Checks a whole zip archive (central directory, every entry's size and CRC-32) without importing. */
export async function verifyZip(path: string): Promise<number> {
  let n = 0;
  for (const _e of zipEntries(path, MAX_RECORD_BYTES)) n++;
  return n;
}
