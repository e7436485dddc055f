/**
 * Helpers for the admission tests: a self-signed certificate made with openssl in a temp dir, an
 * HTTPS client that trusts it, and the CLI driven in-process.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';

export interface Tls {
  dir: string;
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
  cleanup(): void;
}

/** A P-256 certificate for 127.0.0.1 and the webhook Service's DNS names, valid one day. */
export function makeTls(prefix = 'bulwark-admission-tls-'): Tls {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=bulwark-admission.bulwark.svc',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:bulwark-admission.bulwark.svc',
    ],
    { stdio: 'pipe' },
  );
  return {
    dir,
    certFile,
    keyFile,
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS request to the webhook, verifying its certificate against `ca`. */
export function httpsRequest(
  url: string,
  ca: string,
  opts: { method?: string; body?: string | Buffer; headers?: Record<string, string | number> } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: opts.method ?? 'POST', ca, headers: opts.headers ?? { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * Runs the CLI in-process. Its stdout is not captured: under `node --test` the runner reports
 * through this process's stdout, so tests give `-o FILE` for anything they read.
 */
export async function cli(...args: string[]): Promise<{ code: number }> {
  return { code: await main(['node', 'bulwark', '-q', ...args]) };
}
