/**
 * Console API latency for the findings list on a database with one million findings, on SQLite and
 * on PostgreSQL (a real PostgreSQL 15 started like the tests do, test/server/pg.ts).
 *
 * Data: 1,000 images × 1,000 findings (latest scan of each image), advisory ids taken from the real
 * OSV records in shared/data/osv, severities CRITICAL 5% / HIGH 20% / MEDIUM 40% / LOW 25% /
 * UNKNOWN 10%, 60% fixable, 20 suppressions; bulk-inserted through the drivers.
 *
 * Measured: GET /api/findings?severity=CRITICAL,HIGH&fixable=true&sort=severity&order=desc&
 * pageSize=50&page=N (N random in 1..100) over HTTP on 127.0.0.1 with an API token — routing, auth,
 * validation, both queries (count + page) and JSON. Baseline: the SAME two SQL statements (compiled
 * from the same Kysely builders) run directly through better-sqlite3 / pg. Prints p50/p99 of each
 * and the ratio API/baseline.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { request } from 'undici';
import { memoryLogger } from '../src/core/log.js';
import { createConsole, openStore } from '../src/server/index.js';
import { COUNT_CAP, findingsQueries, FindingsQuery } from '../src/server/api/scans.js';
import { startPostgres } from '../test/server/pg.js';
import { OSV_DATA } from '../test/helpers/shared.js';

const IMAGES = Number(process.env.BENCH_IMAGES ?? 1000);
const PER_IMAGE = 1000;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100);
const WARMUP = 5;
const QUERY = 'severity=CRITICAL,HIGH&fixable=true&sort=severity&order=desc&pageSize=50';

const advisories: string[] = [];
for (const eco of readdirSync(OSV_DATA))
  for (const f of readdirSync(join(OSV_DATA, eco))) advisories.push(f.replace(/\.json$/, ''));
const SEV: [string, number, number][] = [
  ['CRITICAL', 4, 0.05],
  ['HIGH', 3, 0.2],
  ['MEDIUM', 2, 0.4],
  ['LOW', 1, 0.25],
  ['UNKNOWN', 0, 0.1],
];
let seed = 42;
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
function pickSev(): [string, number] {
  let x = rnd();
  for (const [s, r, p] of SEV) if ((x -= p) <= 0) return [s, r];
  return ['UNKNOWN', 0];
}

const NOW = new Date().toISOString();
function* rows(imageId: number): Generator<unknown[]> {
  for (let j = 0; j < PER_IMAGE; j++) {
    const [sev, rank] = pickSev();
    const adv = advisories[Math.floor(rnd() * advisories.length)]!;
    const pkg = `pkg-${Math.floor(rnd() * 5000)}`;
    const fixable = rnd() < 0.6 ? 1 : 0;
    // scan_id = image_id (one scan per image)
    yield [
      imageId,
      imageId,
      'vulnerability',
      adv,
      sev,
      rank,
      `${adv} in ${pkg}`,
      pkg,
      '1.0.0',
      `pkg:npm/${pkg}@1.0.0`,
      'npm',
      fixable ? '1.0.1' : '',
      fixable,
      `/app/node_modules/${pkg}/package.json`,
      `vulnerability|${adv}|${pkg}|${j}`,
    ];
  }
}
const COLS = [
  'scan_id',
  'image_id',
  'kind',
  'advisory_id',
  'severity',
  'severity_rank',
  'title',
  'pkg_name',
  'pkg_version',
  'pkg_purl',
  'ecosystem',
  'fixed_version',
  'fixable',
  'path',
  'fkey',
];

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function fillSqlite(file: string): Promise<void> {
  await (await openStore(file)).close();
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const img = db.prepare(
    `INSERT INTO images (id, name, digest, registry_id, tags, os, first_seen, last_scan_id, last_scan_at) VALUES (?, ?, ?, NULL, '[]', 'debian 12', ?, ?, ?)`,
  );
  const scan = db.prepare(
    `INSERT INTO scans (id, image_id, created_at, source, submitted_by, advisory_db, critical, high, medium, low, unknown, report) VALUES (?, ?, ?, 'upload', 'bench', NULL, 0, 0, 0, 0, 0, '{}')`,
  );
  // Bulk load without the findings indexes, then recreate them from their own definitions.
  const idx = db
    .prepare(
      `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'findings' AND sql IS NOT NULL`,
    )
    .all() as { name: string; sql: string }[];
  for (const i of idx) db.exec(`DROP INDEX ${i.name}`);
  const f = db.prepare(
    `INSERT INTO findings (${COLS.join(', ')}) VALUES (${COLS.map(() => '?').join(', ')})`,
  );
  db.transaction(() => {
    for (let i = 1; i <= IMAGES; i++) {
      img.run(
        i,
        `registry.example/team-${i % 20}/app-${i}`,
        `sha256:${i.toString(16).padStart(64, '0')}`,
        NOW,
        i,
        NOW,
      );
      scan.run(i, i, NOW);
      for (const r of rows(i)) f.run(...r);
    }
    const sup = db.prepare(
      `INSERT INTO suppressions (advisory_id, pkg_name, image_name, reason, owner, expires_at, created_by, created_at) VALUES (?, '', '', 'bench', 'bench', NULL, 'bench', ?)`,
    );
    for (let i = 0; i < 20; i++) sup.run(advisories[i * 7]!, NOW);
  })();
  for (const i of idx) db.exec(i.sql);
  db.exec('ANALYZE');
  db.close();
}

async function fillPostgres(url: string): Promise<void> {
  await (await openStore(url)).close();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('BEGIN');
    const idx = (
      await c.query(
        `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'findings' AND indexname NOT LIKE '%_pkey'`,
      )
    ).rows as { indexname: string; indexdef: string }[];
    for (const i of idx) await c.query(`DROP INDEX ${i.indexname}`);
    for (let i = 1; i <= IMAGES; i++) {
      await c.query(
        `INSERT INTO images (id, name, digest, registry_id, tags, os, first_seen, last_scan_id, last_scan_at) VALUES ($1, $2, $3, NULL, '[]', 'debian 12', $4, $1, $4)`,
        [i, `registry.example/team-${i % 20}/app-${i}`, `sha256:${i.toString(16).padStart(64, '0')}`, NOW],
      );
      await c.query(
        `INSERT INTO scans (id, image_id, created_at, source, submitted_by, advisory_db, critical, high, medium, low, unknown, report) VALUES ($1, $1, $2, 'upload', 'bench', NULL, 0, 0, 0, 0, 0, '{}')`,
        [i, NOW],
      );
      const cols: unknown[][] = COLS.map(() => []);
      for (const r of rows(i)) r.forEach((v, k) => cols[k]!.push(v));
      const types = [
        'int',
        'int',
        'text',
        'text',
        'text',
        'int',
        'text',
        'text',
        'text',
        'text',
        'text',
        'text',
        'int',
        'text',
        'text',
      ];
      await c.query(
        `INSERT INTO findings (${COLS.join(', ')}) SELECT * FROM unnest(${types.map((t, k) => `$${k + 1}::${t}[]`).join(', ')})`,
        cols,
      );
    }
    for (let i = 0; i < 20; i++)
      await c.query(
        `INSERT INTO suppressions (advisory_id, pkg_name, image_name, reason, owner, expires_at, created_by, created_at) VALUES ($1, '', '', 'bench', 'bench', NULL, 'bench', $2)`,
        [advisories[i * 7]!, NOW],
      );
    await c.query(`SELECT setval(pg_get_serial_sequence('images', 'id'), ${IMAGES})`);
    await c.query(`SELECT setval(pg_get_serial_sequence('scans', 'id'), ${IMAGES})`);
    for (const i of idx) await c.query(i.indexdef);
    await c.query('COMMIT');
    // Sets the visibility map too, so index-only scans need no heap fetches (autovacuum would, later).
    await c.query('VACUUM ANALYZE');
  } finally {
    await c.end();
  }
}

async function measure(
  label: string,
  dataDir: string,
  database: string | undefined,
  sqliteFile?: string,
): Promise<void> {
  const con = await createConsole({
    dataDir,
    database,
    advisoryDbPath: join(dataDir, 'none.db'),
    logger: memoryLogger(),
    workers: false,
    env: { BULWARK_ADMIN_PASSWORD: 'bench password 123' },
  });
  const base = await con.app.listen({ host: '127.0.0.1', port: 0 });
  const uid = (await con.ctx.db.selectFrom('users').select('id').executeTakeFirstOrThrow()).id;
  const { token } = await con.ctx.auth.createToken(uid, 'bench', 'viewer');
  const pages = Array.from({ length: REQUESTS + WARMUP }, () => 1 + Math.floor(rnd() * 100));

  // Baseline: the same compiled SQL straight through the driver.
  const sqlite = sqliteFile ? new BetterSqlite3(sqliteFile, { readonly: true }) : undefined;
  const pgc = database ? new pg.Client({ connectionString: database }) : undefined;
  await pgc?.connect();
  const direct = async (page: number) => {
    const q = FindingsQuery.parse(Object.fromEntries(new URLSearchParams(`${QUERY}&page=${page}`)));
    const { count, rows } = findingsQueries(con.ctx, q);
    const a = count.compile();
    const b = rows.compile();
    if (sqlite) {
      const n = sqlite.prepare(a.sql).get(...(a.parameters as unknown[])) as { n: number };
      const r = sqlite.prepare(b.sql).all(...(b.parameters as unknown[]));
      return [n.n, r.length];
    }
    const n = await pgc!.query(a.sql, a.parameters as unknown[]);
    const r = await pgc!.query(b.sql, b.parameters as unknown[]);
    return [n.rows[0].n, r.rows.length];
  };
  const api = async (page: number) => {
    const res = await request(`${base}/api/findings?${QUERY}&page=${page}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await res.body.json()) as { total: number; items: unknown[] };
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    return [body.total, body.items.length];
  };
  const time = async (f: (p: number) => Promise<unknown[]>) => {
    const out: number[] = [];
    let check: unknown[] = [];
    for (const [i, p] of pages.entries()) {
      const t = performance.now();
      check = await f(p);
      if (i >= WARMUP) out.push(performance.now() - t);
    }
    return { out, check };
  };
  const b = await time(direct);
  const m = await time(api);
  if (Number((m.check as number[])[0]) !== Math.min(COUNT_CAP, Number((b.check as number[])[0])))
    throw new Error(`API total ${m.check[0]} != baseline ${b.check[0]}`);
  const exact = (await request(`${base}/api/findings?${QUERY}&exactTotal=true`, {
    headers: { authorization: `Bearer ${token}` },
  }).then((r) => r.body.json())) as { total: number };
  const total = exact.total;
  const bp50 = pct(b.out, 50),
    bp99 = pct(b.out, 99),
    mp50 = pct(m.out, 50),
    mp99 = pct(m.out, 99);
  console.log(
    `${label}: ${IMAGES * PER_IMAGE} findings, ${total} match the filter (lists count up to ${COUNT_CAP}); ${REQUESTS} requests`,
  );
  console.log(`  baseline (driver, same SQL): p50 ${bp50.toFixed(2)} ms  p99 ${bp99.toFixed(2)} ms`);
  console.log(`  API (HTTP GET /api/findings): p50 ${mp50.toFixed(2)} ms  p99 ${mp99.toFixed(2)} ms`);
  console.log(`  ratio API/baseline: p50 ${(mp50 / bp50).toFixed(2)}x  p99 ${(mp99 / bp99).toFixed(2)}x`);
  sqlite?.close();
  await pgc?.end();
  await con.close();
}

const dir = mkdtempSync(join(tmpdir(), 'bulwark-bench-server-'));
try {
  let t = performance.now();
  const file = join(dir, 'sqlite', 'bulwark.db');
  await fillSqlite(file);
  console.log(
    `SQLite: generated ${IMAGES * PER_IMAGE} findings in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  await measure('SQLite', join(dir, 'sqlite'), undefined, file);

  const pgs = await startPostgres();
  // Interrupted (Ctrl-C, timeout): stop PostgreSQL instead of leaving it running.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void pgs.stop().finally(() => process.exit(130)));
  }
  try {
    const url = await pgs.createDatabase();
    t = performance.now();
    await fillPostgres(url);
    console.log(
      `PostgreSQL: generated ${IMAGES * PER_IMAGE} findings in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    await measure('PostgreSQL', join(dir, 'pg'), url);
  } finally {
    await pgs.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
