/**
 * rpmdb.sqlite (rpm >= 4.16, Fedora 33+, RHEL 9): table Packages(hnum, blob), one header blob per
 * installed package. The analyzer gets the file's bytes; SQLite needs a file, so they are written
 * to a private temporary directory, opened read-only and removed afterwards.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export function readSqliteBlobs(content: Buffer): Buffer[] {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-rpmdb-'));
  try {
    const file = join(dir, 'rpmdb.sqlite');
    writeFileSync(file, content, { mode: 0o600 });
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT blob FROM Packages ORDER BY hnum').raw().all() as [Buffer][];
      return rows.map((r) => r[0]).filter((b) => Buffer.isBuffer(b));
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
