/**
 * Opens the console database: SQLite file (default) or PostgreSQL URL, migrated to the latest schema.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { BulwarkError } from '../../core/errors.js';
import { migrate, type Dialect } from './migrations.js';
import type { Database } from './schema.js';

export type { Database } from './schema.js';
export type { Dialect } from './migrations.js';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where it lives, without credentials (for logs). */
  location: string;
  close(): Promise<void>;
}

/** `postgres://...` / `postgresql://...` → PostgreSQL; anything else is a SQLite file path. */
export async function openStore(spec: string): Promise<Store> {
  let db: Kysely<Database>;
  let dialect: Dialect;
  let location: string;
  if (/^postgres(ql)?:\/\//.test(spec)) {
    dialect = 'postgres';
    const u = new URL(spec);
    location = `postgres://${u.host}${u.pathname}`;
    // COUNT(*) and the like come back as int8 strings; our counts fit in a JS number.
    pg.types.setTypeParser(20, (v: string) => Number(v));
    const pool = new pg.Pool({ connectionString: spec, max: 10 });
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    try {
      await pool.query('select 1');
    } catch (e) {
      await db.destroy();
      throw new BulwarkError('DB', `cannot connect to PostgreSQL at ${location}: ${(e as Error).message}`, {
        subject: location,
        cause: e,
      });
    }
  } else {
    dialect = 'sqlite';
    location = spec;
    mkdirSync(dirname(spec), { recursive: true });
    let sqlite: BetterSqlite3.Database;
    try {
      sqlite = new BetterSqlite3(spec);
    } catch (e) {
      throw new BulwarkError('DB', `cannot open database ${spec}: ${(e as Error).message}`, {
        subject: spec,
        cause: e,
      });
    }
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  }
  try {
    await migrate(db, dialect);
  } catch (e) {
    await db.destroy();
    throw new BulwarkError('DB', `${location}: ${(e as Error).message}`, { subject: location, cause: e });
  }
  return { db, dialect, location, close: () => db.destroy() };
}
