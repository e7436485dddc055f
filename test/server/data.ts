/**
 * Real inputs for server tests: an advisory DB imported from the real OSV records in
 * shared/data/osv (test/helpers/shared.ts), and the scan report of the real Debian fixture image made by the real scan
 * pipeline (cached under .cache/server/, keyed by the image and advisory set; rebuilt when missing).
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { runScan } from '../../src/cli/scan.js';
import type { ScanReport } from '../../src/core/findings.js';
import { memoryLogger } from '../../src/core/log.js';
import { AdvisoryDb, importOsv } from '../../src/vuln/index.js';
import { debianImage, repoRoot, type FixtureImage } from '../fixtures/index.js';
import { OSV_DATA } from '../helpers/shared.js';

export const OSV = OSV_DATA;
const cacheDir = join(repoRoot, '.cache', 'server');

function locked<T>(name: string, build: () => Promise<T>): Promise<T> {
  mkdirSync(cacheDir, { recursive: true });
  // mkdir-based lock so two test files don't build the same thing at once.
  const lock = join(cacheDir, `${name}.lock`);
  return (async () => {
    for (let i = 0; ; i++) {
      try {
        mkdirSync(lock);
        break;
      } catch {
        if (i > 1200) throw new Error(`lock ${lock} held too long (remove it if stale)`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    try {
      return await build();
    } finally {
      execFileSync('rmdir', [lock]);
    }
  })();
}

/** A fresh copy (in `dir`) of an advisory DB with the given OSV ecosystems imported. */
export async function advisoryDbCopy(
  dir: string,
  ecosystems: string[] = ['Debian', 'npm', 'PyPI', 'Go'],
): Promise<string> {
  const name = `advisories-${ecosystems.join('-')}.db`;
  const cached = join(cacheDir, name);
  await locked(name, async () => {
    if (existsSync(cached)) return;
    const tmp = cached + '.tmp';
    const db = AdvisoryDb.open(tmp);
    try {
      await importOsv(
        db,
        ecosystems.map((e) => join(OSV, e)),
      );
    } finally {
      db.close();
    }
    renameSync(tmp, cached);
  });
  const out = join(dir, name);
  copyFileSync(cached, out);
  return out;
}

/** The Debian fixture image scanned with every OSV ecosystem (the JSON report of `bulwark scan`). */
export async function debianReport(): Promise<{ report: ScanReport; image: FixtureImage }> {
  const image = await debianImage();
  const key = image.ociDir.split('/').slice(-2, -1)[0]!;
  const file = join(cacheDir, `report-${key}.json`);
  await locked('report', async () => {
    if (existsSync(file)) return;
    const tmp = join(cacheDir, `tmp-${process.pid}`);
    mkdirSync(tmp, { recursive: true });
    const db = await advisoryDbCopy(tmp);
    const run = await runScan(
      'image',
      `oci:${image.ociDir}:${image.tag}`,
      { format: 'json', exitCode: '0', db },
      memoryLogger(),
    );
    writeFileSync(file, JSON.stringify(run.report));
    rmSync(tmp, { recursive: true, force: true });
  });
  return { report: JSON.parse(readFileSync(file, 'utf8')) as ScanReport, image };
}
