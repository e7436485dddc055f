/**
 * Bounded reading of zip archives (jar, war, ear...) held in memory, with yauzl. Only the entries a
 * caller selects are inflated, each one against caps checked before inflating (declared size,
 * compression ratio, remaining budget) and enforced while inflating (yauzl verifies that the
 * inflated size equals the declared one, so a lying header stops the stream).
 */
import yauzl from 'yauzl';

export interface ZipLimits {
  /** Largest entry to inflate, in bytes. */
  maxEntryBytes: number;
  /** Entries bigger than `ratioFloorBytes` may not inflate more than `maxRatio` times their compressed size. */
  maxRatio: number;
  ratioFloorBytes: number;
  /** Entries listed at most (central directory records). */
  maxEntries: number;
}

export interface ZipEntryInfo {
  name: string;
  size: number;
  compressedSize: number;
}

/** Shared across one top-level archive and everything nested in it. */
export interface InflateBudget {
  remaining: number;
}

function openZip(buf: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    // decodeStrings:false — yauzl would otherwise reject the whole archive for an entry name with
    // "..", which is harmless here (nothing is written to disk); we decode names ourselves.
    yauzl.fromBuffer(
      buf,
      { lazyEntries: true, decodeStrings: false, validateEntrySizes: true },
      (err, zip) => (err ? reject(err) : resolve(zip)),
    );
  });
}

function entryName(e: yauzl.Entry): string {
  const raw = e.fileName as unknown;
  return Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw);
}

/**
 * Lists the archive, asks `select` which entries to read, inflates those (within limits and the
 * budget) and hands each to `onEntry`, one at a time in archive order. Entries refused by a cap are
 * reported through `warn`. Throws if the archive itself is not a readable zip.
 */
export async function readZipEntries(
  buf: Buffer,
  select: (e: ZipEntryInfo) => boolean,
  onEntry: (e: ZipEntryInfo, content: Buffer) => Promise<void> | void,
  limits: ZipLimits,
  budget: InflateBudget,
  warn: (msg: string) => void,
): Promise<void> {
  const zip = await openZip(buf);
  try {
    if (zip.entryCount > limits.maxEntries) {
      warn(`archive lists ${zip.entryCount} entries; reading only the first ${limits.maxEntries}`);
    }
    const wanted: { entry: yauzl.Entry; info: ZipEntryInfo }[] = [];
    await new Promise<void>((resolve, reject) => {
      let seen = 0;
      zip.on('entry', (entry: yauzl.Entry) => {
        seen++;
        const info = {
          name: entryName(entry),
          size: entry.uncompressedSize,
          compressedSize: entry.compressedSize,
        };
        if (!info.name.endsWith('/') && select(info)) wanted.push({ entry, info });
        if (seen >= limits.maxEntries) resolve();
        else zip.readEntry();
      });
      zip.on('end', () => resolve());
      zip.on('error', reject);
      zip.readEntry();
    });
    for (const { entry, info } of wanted) {
      const refusal = refuse(entry, info, limits, budget);
      if (refusal) {
        warn(`${info.name}: ${refusal}`);
        continue;
      }
      budget.remaining -= info.size;
      let content: Buffer;
      try {
        content = await inflate(zip, entry, info.size);
      } catch (e) {
        warn(`${info.name}: cannot read entry: ${(e as Error).message}`);
        continue;
      }
      await onEntry(info, content);
    }
  } finally {
    zip.close();
  }
}

function refuse(
  entry: yauzl.Entry,
  info: ZipEntryInfo,
  limits: ZipLimits,
  budget: InflateBudget,
): string | undefined {
  if (entry.isEncrypted()) return 'encrypted entry skipped';
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    return `unsupported compression method ${entry.compressionMethod}, skipped`;
  }
  if (info.size > limits.maxEntryBytes)
    return `skipped, ${info.size} bytes uncompressed exceeds ${limits.maxEntryBytes}`;
  if (info.size > limits.ratioFloorBytes && info.size > limits.maxRatio * Math.max(1, info.compressedSize)) {
    return `skipped, compression ratio ${Math.round(info.size / Math.max(1, info.compressedSize))}:1 looks like a zip bomb`;
  }
  if (info.size > budget.remaining) return 'skipped, the archive exceeds the total uncompressed size budget';
  return undefined;
}

function inflate(zip: yauzl.ZipFile, entry: yauzl.Entry, declared: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err) return reject(err);
      const chunks: Buffer[] = [];
      let total = 0;
      stream.on('data', (c: Buffer) => {
        total += c.length;
        // yauzl also checks this; stopping here keeps memory bounded even before its check fires.
        if (total > declared) stream.destroy(new Error('inflates past its declared size'));
        else chunks.push(c);
      });
      stream.on('error', reject);
      stream.on('end', () => resolve(Buffer.concat(chunks, total)));
    });
  });
}
