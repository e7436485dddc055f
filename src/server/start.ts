/** Starting the console from the CLI: listen address, data directory, first-run message. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BulwarkError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { createConsole, type Console } from './app.js';

export interface StartOptions {
  listen?: string;
  dataDir?: string;
  database?: string;
  advisoryDbPath: string;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** Where the first-login line goes (default stderr). */
  out?: NodeJS.WritableStream;
}

export interface RunningServer {
  console: Console;
  url: string;
  close(): Promise<void>;
}

/** $BULWARK_DATA, else $XDG_DATA_HOME/bulwark, else ~/.local/share/bulwark. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BULWARK_DATA) return env.BULWARK_DATA;
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'bulwark');
}

export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-f:]+)\]|([^:]+)):(\d{1,5})$/i.exec(s.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535)
    throw new BulwarkError('USAGE', `--listen: expected HOST:PORT (e.g. 127.0.0.1:8080), got "${s}"`);
  return { host: m[1] ?? m[2]!, port };
}

export async function startServer(o: StartOptions): Promise<RunningServer> {
  const env = o.env ?? process.env;
  const { host, port } = parseListen(o.listen ?? '127.0.0.1:8080');
  const dataDir = o.dataDir ?? defaultDataDir(env);
  const c = await createConsole({
    dataDir,
    database: o.database,
    advisoryDbPath: o.advisoryDbPath,
    logger: o.logger,
    env,
  });
  let addr: string;
  try {
    addr = await c.app.listen({ host, port });
  } catch (e) {
    await c.close();
    throw new BulwarkError('USAGE', `cannot listen on ${host}:${port}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const url = addr.replace('[::1]', 'localhost');
  const out = o.out ?? process.stderr;
  const b = c.bootstrap;
  const first = !b
    ? 'log in with your account'
    : b.kind === 'password'
      ? `user "${b.username}" with the password in BULWARK_ADMIN_PASSWORD`
      : `open ${url}/bootstrap and create the admin account with the one-time token ${b.token}`;
  out.write(`Bulwark console: ${url} (first login: ${first})\n`);
  out.write(
    `Data: ${c.ctx.store.location}${c.ctx.dialect === 'sqlite' ? '' : ` (data dir ${dataDir})`}; advisory DB: ${o.advisoryDbPath}\n`,
  );
  return { console: c, url, close: () => c.close() };
}
