/**
 * Test helpers: a console on a temp data dir (SQLite) or a fresh PostgreSQL database, listening on
 * 127.0.0.1, and a small HTTP client that keeps cookies and sends the CSRF header like a browser app.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { memoryLogger } from '../../src/core/log.js';
import { createConsole, type Console, type ServerOptions } from '../../src/server/index.js';
import { startPostgres, type TestPostgres } from './pg.js';

export type Backend = 'sqlite' | 'postgres';
export const BACKENDS: Backend[] = ['sqlite', 'postgres'];

let pgPromise: Promise<TestPostgres> | undefined;
/** One PostgreSQL per test process, stopped by stopSharedPostgres() in an after() hook. */
export function sharedPostgres(): Promise<TestPostgres> {
  pgPromise ??= startPostgres();
  return pgPromise;
}
export async function stopSharedPostgres(): Promise<void> {
  if (pgPromise) await (await pgPromise.catch(() => undefined))?.stop();
  pgPromise = undefined;
}

export interface TestConsole {
  c: Console;
  base: string;
  dataDir: string;
  database?: string;
  logger: ReturnType<typeof memoryLogger>;
  close(opts?: { keepData?: boolean }): Promise<void>;
}

export async function startConsole(
  backend: Backend,
  opts: Partial<ServerOptions> & { database?: string } = {},
): Promise<TestConsole> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'bulwark-server-'));
  const database =
    opts.database ?? (backend === 'postgres' ? await (await sharedPostgres()).createDatabase() : undefined);
  const logger = memoryLogger();
  const c = await createConsole({
    dataDir,
    database,
    advisoryDbPath: opts.advisoryDbPath ?? join(dataDir, 'no-advisories.db'),
    logger,
    pollMs: 50,
    workers: opts.workers ?? false,
    webDir: opts.webDir ?? join(dataDir, 'no-web'),
    env: opts.env ?? { BULWARK_ADMIN_PASSWORD: 'correct horse battery', BULWARK_ADMIN_USER: 'admin' },
    ...opts,
  });
  const addr = await c.app.listen({ host: '127.0.0.1', port: 0 });
  return {
    c,
    base: addr,
    dataDir,
    database,
    logger,
    async close(o = {}) {
      await c.close();
      if (!o.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Res<T = any> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

/** A browser-like client: cookie jar, X-CSRF-Token from the bulwark_csrf cookie; or a bearer token. */
export class Client {
  cookies = new Map<string, string>();
  constructor(
    readonly base: string,
    public token?: string,
  ) {}

  async req<T = any>(
    method: string,
    path: string,
    body?: unknown,
    extra: { csrf?: boolean; headers?: Record<string, string> } = {},
  ): Promise<Res<T>> {
    const headers: Record<string, string> = { ...extra.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (method !== 'GET' && extra.csrf !== false && this.cookies.get('bulwark_csrf'))
      headers['x-csrf-token'] = this.cookies.get('bulwark_csrf')!;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await request(this.base + path, {
      method: method as 'GET',
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = res.headers['set-cookie'];
    for (const c of Array.isArray(set) ? set : set ? [set] : []) {
      const [kv] = c.split(';');
      const i = kv!.indexOf('=');
      const k = kv!.slice(0, i);
      const v = kv!.slice(i + 1);
      if (v === '' || /Expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(k);
      else this.cookies.set(k, v);
    }
    const text = await res.body.text();
    let parsed: unknown = text;
    if ((res.headers['content-type'] ?? '').toString().includes('json') && text) parsed = JSON.parse(text);
    return { status: res.statusCode, body: parsed as T, headers: res.headers as Res['headers'] };
  }
  get<T = any>(p: string) {
    return this.req<T>('GET', p);
  }
  post<T = any>(p: string, b?: unknown) {
    return this.req<T>('POST', p, b ?? {});
  }
  patch<T = any>(p: string, b?: unknown) {
    return this.req<T>('PATCH', p, b ?? {});
  }
  del<T = any>(p: string) {
    return this.req<T>('DELETE', p);
  }
  async login(username = 'admin', password = 'correct horse battery'): Promise<this> {
    const r = await this.post('/api/auth/login', { username, password });
    if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
    return this;
  }
}

/** Polls `f` until it gives a value (every `everyMs`); throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  f: () => Promise<T | undefined | false>,
  timeoutMs = 120_000,
  everyMs = 100,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * A real nats-server, a console consuming it (SQLite) and an agent-side Shipper publishing to it
 * (disk buffer in `bufferDir`): `f` enqueues and checks; the shipper, console and server are
 * stopped afterwards whatever failed.
 */
export async function viaNats<T>(
  bufferDir: string,
  f: (x: { con: TestConsole; shipper: import('../../src/agent/index.js').Shipper }) => Promise<T>,
): Promise<T> {
  const { TestNats } = await import('../helpers/nats.js');
  const { Shipper } = await import('../../src/agent/index.js');
  const nats = new TestNats();
  await nats.start();
  let con: TestConsole | undefined;
  let shipper: import('../../src/agent/index.js').Shipper | undefined;
  try {
    con = await startConsole('sqlite', { nats: { servers: nats.url, auth: nats.token, ackWaitMs: 5000 } });
    shipper = new Shipper({ nats: nats.url, natsAuth: nats.token, bufferDir, onWarn: () => {} });
    shipper.start();
    return await f({ con, shipper });
  } finally {
    await shipper?.stop(0);
    await con?.close();
    await nats.kill();
  }
}
