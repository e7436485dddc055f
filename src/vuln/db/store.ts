/**
 * The advisory database: one SQLite file (better-sqlite3) holding raw OSV records and an index of
 * affected packages by (ecosystem base name, normalised package name).
 *
 * Safety: an import runs in ONE write transaction (BEGIN IMMEDIATE ... COMMIT), so a crash or an
 * error part-way leaves the previous content intact (SQLite rolls the journal back). The file is in
 * WAL mode so scans reading it are not blocked by an import and never see half an import.
 */
import Database from 'better-sqlite3';
import { mkdirSync, existsSync, realpathSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import { BulwarkError } from '../../core/errors.js';
import { ecosystemBase, normalizePackageName } from '../ecosystem.js';
import type { OsvRecord } from '../osv.js';

export const SCHEMA_VERSION = 1;

const INDEXES = `
CREATE INDEX IF NOT EXISTS affected_pkg ON affected (ecosystem, name, advisory_id);
CREATE INDEX IF NOT EXISTS affected_adv ON affected (advisory_id);
`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS advisory (
  id TEXT PRIMARY KEY,
  modified TEXT NOT NULL,
  withdrawn TEXT,
  source TEXT,
  json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS affected (
  ecosystem TEXT NOT NULL,      -- base name: "Debian", "PyPI"
  name TEXT NOT NULL,           -- normalised per ecosystem
  advisory_id TEXT NOT NULL,
  full_ecosystem TEXT NOT NULL  -- as in the record: "Debian:12"
);
${INDEXES}CREATE TABLE IF NOT EXISTS source (
  url TEXT PRIMARY KEY,
  etag TEXT,
  size INTEGER,
  records INTEGER,
  updated_at TEXT NOT NULL
);
`;

export interface OpenOptions {
  /** Open for reading only (scans). The file must exist. */
  readonly?: boolean;
}

export interface ImportStats {
  read: number;
  inserted: number;
  updated: number;
  /** Records not newer (by `modified`) than the stored copy. */
  unchanged: number;
  /** Malformed records skipped with a warning. */
  invalid: number;
}

export interface SourceState {
  url: string;
  etag?: string;
  size?: number;
  records?: number;
  updatedAt: string;
}

export interface DbStatus {
  path: string;
  schemaVersion: number;
  advisories: number;
  withdrawn: number;
  /** Advisories per ecosystem base name (an advisory affecting two ecosystems counts in both). */
  ecosystems: Record<string, number>;
  lastUpdate?: string;
  sources: SourceState[];
  /** ok, empty (never imported, or every update failed) or stale (older than the allowed age). */
  state?: DbState;
  /** Hours since the last successful import or update. */
  ageHours?: number;
}

export type DbState = 'ok' | 'empty' | 'stale';

/** Default age after which a scan refuses a database: 7 days (osv.dev exports change daily). */
export const DEFAULT_MAX_AGE_MS = 7 * 24 * 3600_000;

/**
 * Parses a maximum database age: "0" (never stale), or a number with a unit: 90m, 36h, 7d, 2w.
 */
export function parseMaxAge(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([mhdw]?)\s*$/i.exec(text);
  if (!m)
    throw new BulwarkError(
      'USAGE',
      `--db-max-age: expected 0 or a duration such as 36h, 7d, 2w; got "${text}"`,
    );
  const n = Number(m[1]);
  if (n === 0) return 0;
  const unit = (m[2] || 'h').toLowerCase();
  return n * { m: 60_000, h: 3600_000, d: 86_400_000, w: 604_800_000 }[unit as 'm' | 'h' | 'd' | 'w'];
}

/** The database's state given a maximum age in ms (0: age is not checked). */
export function dbState(
  s: DbStatus,
  maxAgeMs: number,
  now = Date.now(),
): { state: DbState; ageHours?: number } {
  if (s.advisories === 0) return { state: 'empty' };
  const t = s.lastUpdate ? Date.parse(s.lastUpdate) : NaN;
  const ageHours = Number.isFinite(t) ? Math.max(0, (now - t) / 3600_000) : undefined;
  if (maxAgeMs > 0 && (ageHours === undefined || ageHours * 3600_000 > maxAgeMs))
    return { state: 'stale', ageHours };
  return { state: 'ok', ageHours };
}

/**
 * Throws when the database cannot be trusted for a scan: empty (a scan would report "0
 * vulnerabilities" for everything) or older than `maxAgeMs`. The message says what to run.
 */
export function assertUsable(db: AdvisoryDb, maxAgeMs: number): void {
  const s = db.status();
  const { state, ageHours } = dbState(s, maxAgeMs);
  if (state === 'empty')
    throw new BulwarkError(
      'DB',
      `the vulnerability database ${s.path} holds no advisories (never imported, or its updates failed): run "bulwark db update" or "bulwark db import PATH"; a scan against it would report no vulnerabilities`,
      { subject: s.path },
    );
  if (state === 'stale')
    throw new BulwarkError(
      'DB',
      `the vulnerability database ${s.path} is stale: last updated ${s.lastUpdate ?? 'never'}${ageHours !== undefined ? ` (${formatAge(ageHours)} ago)` : ''}, older than --db-max-age ${formatAge(maxAgeMs / 3600_000)}: run "bulwark db update", or pass --db-max-age 0 to scan with it anyway`,
      { subject: s.path },
    );
}

export function formatAge(hours: number): string {
  if (hours < 1) return `${Math.round(hours * 60)}m`;
  if (hours < 48) return `${Math.round(hours)}h`;
  return `${Math.round(hours / 24)}d`;
}

/**
 * Lookup caches of one database content (file and content stamp), shared by the handles open on
 * it in this process and kept SHARED_STATE_LINGER_MS after the last one closes: a registry rescan
 * opens a handle per image, back to back. Bounded (results, records) like a handle's own were.
 */
interface SharedState {
  key: string;
  handles: number;
  timer?: NodeJS.Timeout;
  /** Every (ecosystem, name) with an advisory, loaded on the first lookup: most packages have none. */
  names?: Set<string>;
  /** Every advisory id, loaded on the first get(): most alias ids (CVE-, GHSA-) are not in the DB. */
  ids?: Set<string>;
  /** Lookup results by (ecosystem, name): images share most of their packages. */
  results: Map<string, OsvRecord[]>;
  /** Parsed records (never withdrawn ones) by id. */
  records: Map<string, OsvRecord>;
}
const sharedStates = new Map<string, SharedState>();
const SHARED_STATE_LINGER_MS = 60_000;

export class AdvisoryDb {
  readonly path: string;
  /** The file's real path: handles opened through different spellings share caches. */
  private readonly file: string;
  private readonly db: Database.Database;
  private readonly recordsStmt: Database.Statement<[string, string], { id: string; json: string }>;
  private getStmt?: Database.Statement<[string], { json: string }>;
  /** The lookup caches, shared with the process's other handles on the same content. */
  private state?: SharedState;
  private closed = false;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.db = db;
    try {
      this.file = realpathSync(path);
    } catch {
      this.file = path;
    }
    // one query per package name: ids in id order from the covering index (an id twice when the
    // record names the package in two releases: adjacent, skipped below), joined to the
    // non-withdrawn records' text; a record's text is parsed once per id (cache below)
    this.recordsStmt = db.prepare(
      `SELECT a.id AS id, a.json AS json
         FROM affected f JOIN advisory a ON a.id = f.advisory_id
        WHERE f.ecosystem = ? AND f.name = ? AND a.withdrawn IS NULL
        ORDER BY f.advisory_id`,
    );
  }

  static open(path: string, opts: OpenOptions = {}): AdvisoryDb {
    if (opts.readonly && !existsSync(path)) {
      throw new BulwarkError(
        'NOT_FOUND',
        `no vulnerability database at ${path}: run "bulwark db import PATH" or "bulwark db update" first (or pass --db FILE)`,
        { subject: path },
      );
    }
    let db: Database.Database;
    try {
      if (!opts.readonly) mkdirSync(dirname(path), { recursive: true });
      db = new Database(path, { readonly: Boolean(opts.readonly), fileMustExist: Boolean(opts.readonly) });
      db.pragma('busy_timeout = 10000');
      if (!opts.readonly) {
        // A new file: 16 KiB pages (before anything is written; an existing file keeps its own).
        // OSV records are 1-2 KB; an import writes ~20% less b-tree and WAL overhead than with
        // 4 KiB pages, and lookups measured the same.
        if ((db.pragma('page_count', { simple: true }) as number) === 0) db.pragma('page_size = 16384');
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
    } catch (e) {
      throw new BulwarkError('DB', `cannot open vulnerability database ${path}: ${(e as Error).message}`, {
        subject: path,
        cause: e,
      });
    }
    try {
      const version = AdvisoryDb.schemaVersionOf(db);
      if (version === undefined) {
        if (opts.readonly)
          throw new BulwarkError('DB', `${path} is not a Bulwark vulnerability database (no schema)`, {
            subject: path,
          });
        db.exec(SCHEMA);
        db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)`).run(
          String(SCHEMA_VERSION),
        );
        // this database's identity (part of the content stamp: a file deleted and created again at
        // the same path is another database)
        db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('db_id', ?)`).run(randomUUID());
      } else if (version > SCHEMA_VERSION) {
        throw new BulwarkError(
          'DB',
          `${path} has schema version ${version}, newer than this Bulwark supports (${SCHEMA_VERSION}); upgrade Bulwark or use another --db`,
          { subject: path },
        );
      }
    } catch (e) {
      db.close();
      if (e instanceof BulwarkError) throw e;
      throw new BulwarkError('DB', `${path}: not a usable SQLite database: ${(e as Error).message}`, {
        subject: path,
        cause: e,
      });
    }
    return new AdvisoryDb(path, db);
  }

  private static schemaVersionOf(db: Database.Database): number | undefined {
    const t = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get();
    if (!t) return undefined;
    const row = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as
      { value: string } | undefined;
    return row ? Number(row.value) : undefined;
  }

  close(): void {
    if (!this.closed) this.release();
    this.closed = true;
    this.db.close();
  }

  /**
   * Imports records in one transaction. `records` may be async (zip entries, downloads); if it
   * throws, nothing of this import is kept. Records not newer than the stored copy are skipped.
   */
  async importRecords(
    records:
      | AsyncIterable<{ record: OsvRecord; source: string; raw?: string }>
      | Iterable<{ record: OsvRecord; source: string; raw?: string }>,
    opts: { onProgress?: (s: ImportStats) => void } = {},
  ): Promise<ImportStats> {
    const stats: ImportStats = { read: 0, inserted: 0, updated: 0, unchanged: 0, invalid: 0 };
    const getMod = this.db.prepare<[string], { modified: string }>(
      `SELECT modified FROM advisory WHERE id = ?`,
    );
    const upsert = this.db.prepare(
      `INSERT INTO advisory (id, modified, withdrawn, source, json) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET modified = excluded.modified, withdrawn = excluded.withdrawn,
         source = excluded.source, json = excluded.json`,
    );
    const delAff = this.db.prepare(`DELETE FROM affected WHERE advisory_id = ?`);
    const insAff = this.db.prepare(
      `INSERT INTO affected (ecosystem, name, advisory_id, full_ecosystem) VALUES (?, ?, ?, ?)`,
    );
    this.db.exec('BEGIN IMMEDIATE');
    try {
      // Into an empty database (a first import, `db update` on a fresh cache): the lookup indexes
      // are built once at the end, sorted, instead of row by row (same transaction, so a failure
      // still leaves the previous state), and only ids already written by this import can have a
      // stored copy to compare with.
      const fresh = this.db.prepare(`SELECT 1 FROM advisory LIMIT 1`).get() === undefined;
      const written = fresh ? new Set<string>() : undefined;
      if (fresh) this.db.exec(`DROP INDEX IF EXISTS affected_pkg; DROP INDEX IF EXISTS affected_adv;`);
      for await (const { record, source, raw } of records) {
        stats.read++;
        let prev: { modified: string } | undefined;
        if (!written) prev = getMod.get(record.id);
        else if (written.has(record.id)) prev = getMod.get(record.id);
        else written.add(record.id);
        if (prev && Date.parse(prev.modified) >= Date.parse(record.modified)) {
          stats.unchanged++;
          continue;
        }
        upsert.run(
          record.id,
          record.modified,
          record.withdrawn ?? null,
          source,
          raw ?? JSON.stringify(record),
        );
        if (prev) {
          delAff.run(record.id);
          stats.updated++;
        } else stats.inserted++;
        const seen = new Set<string>();
        for (const a of record.affected ?? []) {
          if (!a.package?.ecosystem || !a.package.name) continue;
          const base = ecosystemBase(a.package.ecosystem);
          const name = normalizePackageName(base, a.package.name);
          const key = `${a.package.ecosystem}\0${name}`;
          if (seen.has(key)) continue;
          seen.add(key);
          insAff.run(base, name, record.id, a.package.ecosystem);
        }
        if (opts.onProgress && stats.read % 5000 === 0) opts.onProgress(stats);
      }
      if (fresh) this.db.exec(INDEXES);
      this.db
        .prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('last_import', ?)`)
        .run(new Date().toISOString());
      // the content's generation: caches shared between handles are keyed by it (contentStamp)
      this.db
        .prepare(
          `INSERT OR REPLACE INTO meta (key, value) VALUES ('import_seq',
             CAST(COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'import_seq'), 0) + 1 AS TEXT))`,
        )
        .run();
      this.db.exec('COMMIT');
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw e;
    }
    // the content changed: this handle's next lookup finds (or starts) the caches of the new content
    this.release();
    return stats;
  }

  /**
   * Non-withdrawn advisories that name this package (ecosystem base + name, normalised here).
   * Parsed records are cached per id for the life of this handle.
   */
  lookup(ecosystem: string, name: string): OsvRecord[] {
    const base = ecosystemBase(ecosystem);
    const norm = normalizePackageName(base, name);
    const key = `${base}\0${norm}`;
    const st = this.shared();
    st.names ??= new Set(
      (
        this.db.prepare(`SELECT DISTINCT ecosystem || char(0) || name AS k FROM affected`).all() as {
          k: string;
        }[]
      ).map((r) => r.k),
    );
    if (!st.names.has(key)) return [];
    const hit = st.results.get(key);
    if (hit) return hit;
    const out: OsvRecord[] = [];
    let last: string | undefined;
    for (const { id, json } of this.recordsStmt.all(base, norm)) {
      if (id === last) continue;
      last = id;
      let rec = st.records.get(id);
      if (rec === undefined) {
        rec = JSON.parse(json) as OsvRecord;
        if (st.records.size > 50_000) st.records.clear();
        st.records.set(id, rec);
      }
      out.push(rec);
    }
    if (st.results.size >= 20_000) st.results.clear();
    st.results.set(key, out);
    return out;
  }

  /** One record by id (withdrawn included), or undefined. */
  get(id: string): OsvRecord | undefined {
    const st = this.shared();
    st.ids ??= new Set(
      (this.db.prepare(`SELECT id FROM advisory`).all() as { id: string }[]).map((r) => r.id),
    );
    if (!st.ids.has(id)) return undefined;
    this.getStmt ??= this.db.prepare<[string], { json: string }>(`SELECT json FROM advisory WHERE id = ?`);
    const row = this.getStmt.get(id);
    return row ? (JSON.parse(row.json) as OsvRecord) : undefined;
  }

  /**
   * The object the matcher keys its memos by (see AdvisorySource.memoScope): the same for every
   * handle on the same database content in this process, so a console's image-scan jobs, each
   * opening its own handle, share what the previous scans looked up and matched.
   */
  memoScope(): object {
    return this.shared();
  }

  /** This handle's shared caches: those of its file's current content, created on first use. */
  private shared(): SharedState {
    if (this.state) return this.state;
    const key = `${this.file}\0${this.contentStamp()}`;
    let st = sharedStates.get(key);
    if (!st) sharedStates.set(key, (st = { key, handles: 0, results: new Map(), records: new Map() }));
    if (st.timer) clearTimeout(st.timer);
    st.timer = undefined;
    st.handles++;
    this.state = st;
    return st;
  }

  /** Lets go of the shared caches; the last handle to leave them drops them after a short while. */
  private release(): void {
    const st = this.state;
    this.state = undefined;
    if (!st || --st.handles > 0) return;
    st.timer = setTimeout(() => {
      if (st.handles === 0 && sharedStates.get(st.key) === st) sharedStates.delete(st.key);
    }, SHARED_STATE_LINGER_MS);
    st.timer.unref();
  }

  /**
   * What identifies the database's content: its `db_id` (set at creation), and every import (one
   * transaction) bumps `import_seq` and sets `last_import`; the highest rowid too, for databases
   * written before these keys existed.
   */
  private contentStamp(): string {
    const meta = this.db
      .prepare(`SELECT key, value FROM meta WHERE key IN ('db_id', 'import_seq', 'last_import') ORDER BY key`)
      .all() as { key: string; value: string }[];
    // (MAX(rowid) is one b-tree descent; COUNT(*) would read the whole table at every open)
    const rows = this.db.prepare(`SELECT MAX(rowid) AS r FROM advisory`).get() as { r: number | null };
    return JSON.stringify([meta.map((m) => m.value), rows.r]);
  }

  sourceState(url: string): SourceState | undefined {
    const r = this.db
      .prepare<
        [string],
        { url: string; etag: string | null; size: number | null; records: number | null; updated_at: string }
      >(`SELECT * FROM source WHERE url = ?`)
      .get(url);
    return r
      ? {
          url: r.url,
          etag: r.etag ?? undefined,
          size: r.size ?? undefined,
          records: r.records ?? undefined,
          updatedAt: r.updated_at,
        }
      : undefined;
  }

  recordSource(s: SourceState): void {
    this.db
      .prepare(`INSERT OR REPLACE INTO source (url, etag, size, records, updated_at) VALUES (?, ?, ?, ?, ?)`)
      .run(s.url, s.etag ?? null, s.size ?? null, s.records ?? null, s.updatedAt);
    this.db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('last_update', ?)`).run(s.updatedAt);
  }

  status(): DbStatus {
    const meta = new Map(
      (this.db.prepare(`SELECT key, value FROM meta`).all() as { key: string; value: string }[]).map((r) => [
        r.key,
        r.value,
      ]),
    );
    const counts = this.db.prepare(`SELECT COUNT(*) AS n, COUNT(withdrawn) AS w FROM advisory`).get() as {
      n: number;
      w: number;
    };
    const eco: Record<string, number> = {};
    for (const r of this.db
      .prepare(
        `SELECT ecosystem, COUNT(DISTINCT advisory_id) AS n FROM affected GROUP BY ecosystem ORDER BY ecosystem`,
      )
      .all() as { ecosystem: string; n: number }[]) {
      eco[r.ecosystem] = r.n;
    }
    const sources = (
      this.db.prepare(`SELECT * FROM source ORDER BY url`).all() as {
        url: string;
        etag: string | null;
        size: number | null;
        records: number | null;
        updated_at: string;
      }[]
    ).map((r) => ({
      url: r.url,
      etag: r.etag ?? undefined,
      size: r.size ?? undefined,
      records: r.records ?? undefined,
      updatedAt: r.updated_at,
    }));
    const last = [meta.get('last_update'), meta.get('last_import')].filter(Boolean).sort().pop();
    return {
      path: this.path,
      schemaVersion: Number(meta.get('schema_version') ?? SCHEMA_VERSION),
      advisories: counts.n,
      withdrawn: counts.w,
      ecosystems: eco,
      lastUpdate: last,
      sources,
    };
  }
}
