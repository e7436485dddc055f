/**
 * Helpers for the console's browser tests: the built UI, a real `bulwark server` process, and
 * Debian's chromium driven by playwright-core (never a downloaded browser).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { freePort, repoRoot } from '../fixtures/index.js';

export const CHROMIUM = '/usr/bin/chromium';
export const resultsDir = join(repoRoot, 'test-results', 'web');

/**
 * The UI must be built into web/dist (what `bulwark server` serves). `npm run build` does it; when
 * it is missing (a direct test run), build it here under a lock so parallel test files don't race.
 */
export function ensureWebBuilt(): void {
  const built = join(repoRoot, 'web', 'dist', 'index.html');
  if (existsSync(built) && newestSource(join(repoRoot, 'web')) <= statSync(built).mtimeMs) return;
  const lock = join(repoRoot, '.cache', 'web-build.lock');
  mkdirSync(join(repoRoot, '.cache'), { recursive: true });
  execFileSync(
    'flock',
    [
      lock,
      process.execPath,
      join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '--config',
      join(repoRoot, 'web', 'vite.config.ts'),
    ],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
}

/** Newest modification time of the UI's sources (web/ without dist/). */
function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'dist' || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export interface ServerProcess {
  url: string;
  pid: number;
  /** The one-time bootstrap token the server printed at first start ('' when none). */
  token: string;
  /** Everything the server wrote to stderr so far. */
  log(): string;
  stop(): Promise<void>;
}

/** Starts `node bin/bulwark server` on a free 127.0.0.1 port and waits for its first-start line. */
export async function startServerProcess(
  dataDir: string,
  advisoryDb: string,
  env: NodeJS.ProcessEnv = {},
  /** more `bulwark server` options */
  args: string[] = [],
): Promise<ServerProcess> {
  if (!existsSync(join(repoRoot, 'dist', 'cli', 'main.js')))
    throw new Error('dist/ is missing: run `npm run build` first');
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(repoRoot, 'bin', 'bulwark'),
      'server',
      '--listen',
      `127.0.0.1:${port}`,
      '--data',
      dataDir,
      '--db',
      advisoryDb,
      ...args,
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, BULWARK_ADMIN_PASSWORD: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout!.resume();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`bulwark server did not start in 30 s; stderr:\n${err}`)),
      30_000,
    );
    const check = () => {
      const m = /^Bulwark console: .*$/m.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bulwark server exited (${code}) before starting; stderr:\n${err}`));
    });
  });
  const token = /one-time token ([^\s)]+)/.exec(line)?.[1] ?? '';
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    token,
    log: () => err,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

export interface Browser {
  page: Page;
  context: BrowserContext;
  /** Saves test-results/web/NAME.png (full page) and returns its path. */
  shot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Debian's chromium, headless, with a new empty profile; a laptop-sized window. */
export async function openBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (scripts/install-deps.sh)`);
  mkdirSync(resultsDir, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'bulwark-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1366, height: 800 },
    locale: 'en-US',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    page,
    context,
    async shot(name) {
      const file = join(resultsDir, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Signs in through the console's login form and waits for the signed-in header. */
export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('current-user').waitFor();
}

export interface WebConsole {
  /** the test file's temp directory (the server's data under data/) */
  dir: string;
  server: ServerProcess;
  browser: Browser;
}

/**
 * One `bulwark server` process (fresh data, user `admin` with `password`, no advisory DB) and one
 * browser for a test file: started in before(), stopped and removed in after() whatever failed.
 * The fields are set once before() ran.
 */
export function webConsole(prefix: string, password: string): WebConsole {
  const w = {} as WebConsole;
  before(async () => {
    ensureWebBuilt();
    w.dir = mkdtempSync(join(tmpdir(), prefix));
    w.server = await startServerProcess(join(w.dir, 'data'), join(w.dir, 'no-advisories.db'), {
      BULWARK_ADMIN_USER: 'admin',
      BULWARK_ADMIN_PASSWORD: password,
    });
    w.browser = await openBrowser();
  });
  after(async () => {
    await w.browser?.close();
    await w.server?.stop();
    if (w.dir) rmSync(w.dir, { recursive: true, force: true });
  });
  return w;
}
