/**
 * Advisory database API: open, import OSV inputs (paths or URLs), update from osv.dev exports, status.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdvisoryDb, type ImportStats } from './store.js';
import { readOsvPath, type SourceRecord } from './sources.js';
import { download } from './update.js';

export {
  AdvisoryDb,
  SCHEMA_VERSION,
  DEFAULT_MAX_AGE_MS,
  assertUsable,
  dbState,
  formatAge,
  parseMaxAge,
  type DbState,
  type DbStatus,
  type ImportStats,
  type SourceState,
  type OpenOptions,
} from './store.js';
export { readOsvPath, readOsvZip, verifyZip, type SourceRecord } from './sources.js';
export {
  updateDb,
  download,
  exportUrl,
  DEFAULT_MIRROR,
  type UpdateOptions,
  type EcosystemUpdate,
} from './update.js';
export { cacheDir, defaultDbPath } from './paths.js';

/**
 * Imports every input (directory, JSON file, zip archive, or http(s) URL of one of those files) in
 * ONE transaction: if any input fails, the database keeps its previous content.
 */
export async function importOsv(
  db: AdvisoryDb,
  inputs: string[],
  opts: { warn?: (msg: string) => void } = {},
): Promise<ImportStats> {
  const tmp = await mkdtemp(join(tmpdir(), 'bulwark-import-'));
  let invalid = 0;
  const readOpts = { warn: opts.warn, onInvalid: () => void invalid++ };
  async function* all(): AsyncGenerator<SourceRecord> {
    for (const [i, input] of inputs.entries()) {
      if (/^https?:\/\//i.test(input)) {
        const file = join(tmp, `input-${i}`);
        await download(input, file);
        for await (const r of readOsvPath(file, readOpts)) yield { ...r, source: input };
      } else {
        yield* readOsvPath(input, readOpts);
      }
    }
  }
  try {
    const stats = await db.importRecords(all());
    stats.invalid = invalid;
    return stats;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
