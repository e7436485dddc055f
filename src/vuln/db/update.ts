/**
 * `bulwark db update`: downloads osv.dev's per-ecosystem exports (`<base>/<ecosystem>/all.zip`)
 * and imports them incrementally.
 *
 * - Resumable: bytes go to `<name>.part`; a later run continues with `Range: bytes=N-` and
 *   `If-Range: <ETag>` (a changed file is then sent whole, and the partial one discarded).
 * - Verified: the size must match Content-Length / Content-Range; an MD5 given by the server
 *   (`x-goog-hash: md5=...`, as Google Cloud Storage sends, or `Content-MD5`) must match; every zip
 *   entry's size and CRC-32 are checked as it is imported, and a damaged archive rolls the import
 *   back.
 * - Incremental: the stored ETag makes an unchanged export a 304; records not newer (by
 *   `modified`) than the stored copy are skipped by the import.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BulwarkError } from '../../core/errors.js';
import type { AdvisoryDb, ImportStats } from './store.js';
import { readOsvZip } from './sources.js';

export const DEFAULT_MIRROR = 'https://osv-vulnerabilities.storage.googleapis.com';

export interface UpdateOptions {
  ecosystems: string[];
  /** Base URL; `<mirror>/<ecosystem>/all.zip` is fetched. */
  mirror?: string;
  /** Where partial and finished downloads are kept (default: `<db dir>/downloads`). */
  downloadDir?: string;
  warn?: (msg: string) => void;
  info?: (msg: string) => void;
  /** Per-request timeout without progress, ms (default 60 s). */
  timeoutMs?: number;
}

export interface EcosystemUpdate {
  ecosystem: string;
  url: string;
  status: 'updated' | 'unchanged';
  bytes: number;
  resumedFrom?: number;
  stats?: ImportStats;
}

export function exportUrl(mirror: string, ecosystem: string): string {
  return `${mirror.replace(/\/+$/, '')}/${encodeURIComponent(ecosystem)}/all.zip`;
}

export async function updateDb(db: AdvisoryDb, opts: UpdateOptions): Promise<EcosystemUpdate[]> {
  const mirror = opts.mirror ?? process.env.BULWARK_OSV_MIRROR ?? DEFAULT_MIRROR;
  const dir = opts.downloadDir ?? join(dirname(db.path), 'downloads');
  await mkdir(dir, { recursive: true });
  const out: EcosystemUpdate[] = [];
  for (const eco of opts.ecosystems) {
    const url = exportUrl(mirror, eco);
    const file = join(dir, `${eco.replace(/[^A-Za-z0-9._-]/g, '_')}.zip`);
    const prev = db.sourceState(url);
    const dl = await download(url, file, {
      etag: existsSync(`${file}.part`) ? undefined : prev?.etag,
      timeoutMs: opts.timeoutMs ?? 60_000,
    });
    if (dl.notModified) {
      opts.info?.(`${eco}: unchanged since ${prev?.updatedAt ?? 'last update'}`);
      out.push({ ecosystem: eco, url, status: 'unchanged', bytes: 0 });
      continue;
    }
    // The import checks every entry's size and CRC-32 as it reads (one pass); a damaged archive
    // rolls the transaction back, and the download is discarded so the next run fetches it anew.
    let stats: ImportStats;
    try {
      stats = await db.importRecords(readOsvZip(file, { warn: opts.warn }));
    } catch (e) {
      await rm(file, { force: true });
      throw e;
    }
    db.recordSource({
      url,
      etag: dl.etag,
      size: dl.size,
      records: stats.read,
      updatedAt: new Date().toISOString(),
    });
    await rm(file, { force: true });
    opts.info?.(
      `${eco}: ${stats.read} records (${stats.inserted} new, ${stats.updated} updated, ${stats.unchanged} unchanged)`,
    );
    out.push({ ecosystem: eco, url, status: 'updated', bytes: dl.size, resumedFrom: dl.resumedFrom, stats });
  }
  return out;
}

interface DownloadResult {
  notModified?: boolean;
  etag?: string;
  size: number;
  resumedFrom?: number;
}

interface PartMeta {
  url: string;
  etag?: string;
  total?: number;
  md5?: string;
}

/**
 * Downloads `url` to `dest` through `dest.part` (+ `dest.part.json` with the ETag and expected size),
 * resuming a previous partial download when the server supports ranges.
 */
export async function download(
  url: string,
  dest: string,
  opts: { etag?: string; timeoutMs?: number } = {},
): Promise<DownloadResult> {
  const part = `${dest}.part`;
  const metaPath = `${part}.json`;
  let have = 0;
  let meta: PartMeta | undefined;
  if (existsSync(part) && existsSync(metaPath)) {
    try {
      meta = JSON.parse(await readFile(metaPath, 'utf8')) as PartMeta;
      if (meta.url !== url) meta = undefined;
    } catch {
      meta = undefined;
    }
    if (meta) have = (await stat(part)).size;
  }
  if (!meta) await rm(part, { force: true });

  const headers: Record<string, string> = { 'user-agent': 'bulwark' };
  if (have > 0 && meta) {
    headers.range = `bytes=${have}-`;
    if (meta.etag) headers['if-range'] = meta.etag;
  } else if (opts.etag) {
    headers['if-none-match'] = opts.etag;
  }

  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => ac.abort(), opts.timeoutMs ?? 60_000);
  };
  arm();
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: ac.signal, redirect: 'follow' });
  } catch (e) {
    clearTimeout(timer);
    throw new BulwarkError(
      'NETWORK',
      `cannot download ${url}: ${(e as Error).cause ? String((e as Error & { cause: Error }).cause.message) : (e as Error).message}`,
      {
        subject: url,
        cause: e,
      },
    );
  }
  try {
    if (res.status === 304) return { notModified: true, size: 0, etag: opts.etag };
    if (res.status === 416 && meta?.total !== undefined && have === meta.total) {
      // Already complete from a previous run that stopped before renaming.
      await finish(part, dest, meta, url);
      return { etag: meta.etag, size: have, resumedFrom: have };
    }
    if (res.status !== 200 && res.status !== 206) {
      throw new BulwarkError(
        res.status === 404 ? 'NOT_FOUND' : 'NETWORK',
        `cannot download ${url}: HTTP ${res.status}`,
        { subject: url },
      );
    }
    if (!res.body)
      throw new BulwarkError('NETWORK', `cannot download ${url}: empty response`, { subject: url });
    const etag = res.headers.get('etag') ?? undefined;
    const md5 = md5Of(res.headers);
    let start = 0;
    let total: number | undefined;
    if (res.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      if (!m || Number(m[1]) !== have) {
        throw new BulwarkError(
          'NETWORK',
          `${url}: server answered a range request with an unexpected Content-Range`,
          { subject: url },
        );
      }
      start = have;
      total = m[3] === '*' ? undefined : Number(m[3]);
    } else {
      const len = res.headers.get('content-length');
      total = len !== null ? Number(len) : undefined;
    }
    const newMeta: PartMeta = { url, etag, total, md5: md5 ?? (start > 0 ? meta?.md5 : undefined) };
    await mkdir(dirname(dest), { recursive: true });
    await writeFile(metaPath, JSON.stringify(newMeta));
    const progress = new Transform({
      transform(chunk, _enc, cb) {
        arm();
        cb(null, chunk);
      },
    });
    try {
      await pipeline(
        Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
        progress,
        createWriteStream(part, { flags: start > 0 ? 'a' : 'w' }),
      );
    } catch (e) {
      throw new BulwarkError(
        'NETWORK',
        `download of ${url} interrupted (${(await stat(part).catch(() => ({ size: 0 }))).size} bytes kept; run again to resume): ${(e as Error).message}`,
        { subject: url, cause: e },
      );
    }
    const size = (await stat(part)).size;
    if (total !== undefined && size !== total) {
      throw new BulwarkError(
        'NETWORK',
        `download of ${url} incomplete: ${size} of ${total} bytes (run again to resume)`,
        { subject: url },
      );
    }
    await finish(part, dest, newMeta, url);
    return { etag, size, resumedFrom: start > 0 ? start : undefined };
  } finally {
    clearTimeout(timer);
  }
}

async function finish(part: string, dest: string, meta: PartMeta, url: string): Promise<void> {
  if (meta.md5) {
    const h = createHash('md5');
    await pipeline(createReadStream(part), h);
    const got = h.digest('base64');
    if (got !== meta.md5) {
      await rm(part, { force: true });
      await rm(`${part}.json`, { force: true });
      throw new BulwarkError(
        'DIGEST_MISMATCH',
        `${url}: MD5 of the download (${got}) differs from the server's (${meta.md5}); removed it`,
        {
          subject: url,
        },
      );
    }
  }
  await rename(part, dest);
  await rm(`${part}.json`, { force: true });
}

/** MD5 (base64) from `x-goog-hash: crc32c=...,md5=...` or `Content-MD5`. */
function md5Of(h: Headers): string | undefined {
  const goog = h.get('x-goog-hash');
  if (goog) {
    for (const part of goog.split(',')) {
      const [k, ...v] = part.trim().split('=');
      if (k === 'md5') return v.join('=');
    }
  }
  return h.get('content-md5') ?? undefined;
}
