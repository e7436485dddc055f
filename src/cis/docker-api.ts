/**
 * A minimal Docker Engine API client (GET only) over a unix socket (`unix:///var/run/docker.sock`)
 * or plain TCP (`tcp://127.0.0.1:2375`), with a per-request timeout and a response size bound.
 */
import { request } from 'node:http';
import { BulwarkError } from '../core/errors.js';

const MAX_BODY = 64 * 1024 * 1024;

export interface DockerApi {
  host: string;
  get(path: string): Promise<unknown>;
}

export function dockerApi(host: string, timeoutMs = 15_000): DockerApi {
  let target: { socketPath: string } | { host: string; port: number };
  if (host.startsWith('unix://')) target = { socketPath: host.slice('unix://'.length) };
  else if (/^(tcp|http):\/\//.test(host)) {
    const u = new URL(host.replace(/^tcp:/, 'http:'));
    target = { host: u.hostname, port: Number(u.port || 2375) };
  } else
    throw new BulwarkError('USAGE', `--docker-host: expected unix:///path or tcp://host:port, got ${host}`);
  return {
    host,
    get: (path: string) =>
      new Promise((resolve, reject) => {
        const req = request({ ...target, path, method: 'GET', headers: { host: 'docker' } }, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY) {
              req.destroy(
                new BulwarkError('LIMIT', `Docker API ${path}: response larger than ${MAX_BODY} bytes`),
              );
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            if ((res.statusCode ?? 500) >= 400) {
              let msg = body.trim();
              try {
                msg = (JSON.parse(body) as { message?: string }).message ?? msg;
              } catch {
                // not JSON
              }
              reject(
                new BulwarkError(
                  'NETWORK',
                  `Docker API ${path} at ${host}: HTTP ${res.statusCode}: ${msg.slice(0, 200)}`,
                ),
              );
              return;
            }
            try {
              resolve(JSON.parse(body) as unknown);
            } catch {
              reject(new BulwarkError('PARSE', `Docker API ${path} at ${host}: invalid JSON`));
            }
          });
          res.on('error', reject);
        });
        req.setTimeout(timeoutMs, () =>
          req.destroy(
            new BulwarkError('TIMEOUT', `Docker API ${path} at ${host}: no answer within ${timeoutMs} ms`),
          ),
        );
        req.on('error', (e) =>
          reject(
            e instanceof BulwarkError
              ? e
              : new BulwarkError(
                  'NETWORK',
                  `Docker Engine API not reachable at ${host}: ${(e as NodeJS.ErrnoException).code ?? e.message}`,
                ),
          ),
        );
        req.end();
      }),
  };
}
