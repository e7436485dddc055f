/**
 * A real PostgreSQL 15 (Debian's postgresql package) for tests: initdb + pg_ctl in a temp dir on a
 * free 127.0.0.1 port, run as the `postgres` system user when we are root (postgres refuses root).
 * If PostgreSQL cannot start, startPostgres() THROWS with the reason: tests that need it fail
 * (scripts/install-deps.sh installs postgresql); they never skip silently.
 *
 *   const pgs = await startPostgres();
 *   const url = await pgs.createDatabase();   // fresh empty database per test
 *   ...
 *   await pgs.stop();
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../fixtures/index.js';

const execFileP = promisify(execFile);

export interface TestPostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  adminUrl: string;
  port: number;
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

function pgBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions.length) {
    throw new Error(
      'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl): install the Debian package "postgresql" (scripts/install-deps.sh)',
    );
  }
  return join(root, versions[0]!, 'bin');
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = pgBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await execFileP('id', ['-u', 'postgres']).catch(() => {
      throw new Error(
        'running as root but there is no "postgres" system user to run PostgreSQL as (install the Debian package "postgresql")',
      );
    });
    const uid = Number(stdout.trim());
    const gid = Number((await execFileP('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const run = (cmd: string, args: string[]) =>
    asRoot
      ? execFileP('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args])
      : execFileP(join(bin, cmd), args);
  try {
    await run('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
      '--no-sync',
    ]);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `PostgreSQL initdb failed: ${(e as { stderr?: string }).stderr ?? (e as Error).message}`,
      { cause: e },
    );
  }
  let port = 0;
  let lastErr = '';
  for (let attempt = 0; attempt < 3 && !port; attempt++) {
    const p = await freePort();
    try {
      await run('pg_ctl', [
        '-D',
        data,
        '-l',
        join(dir, 'log'),
        '-w',
        '-t',
        '30',
        '-o',
        `-p ${p} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
        'start',
      ]);
      port = p;
    } catch (e) {
      lastErr = (e as { stderr?: string }).stderr ?? (e as Error).message;
    }
  }
  if (!port) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start: ${lastErr}`);
  }
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let n = 0;
  return {
    adminUrl,
    port,
    async createDatabase() {
      const name = `bulwark_test_${process.pid}_${++n}`;
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      try {
        await run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
