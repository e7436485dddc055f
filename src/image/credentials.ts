/**
 * Registry credentials: explicit options first, then the Docker client config
 * ($DOCKER_CONFIG/config.json or ~/.docker/config.json): `auths.<host>.auth` (base64 user:pass),
 * `auths.<host>.username/password`, `credHelpers`/`credsStore` (docker-credential-* programs).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../core/log.js';
import { DOCKER_HUB } from './reference.js';

export interface Credentials {
  username: string;
  password: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export function dockerConfigPath(explicit?: string): string {
  if (explicit) return explicit;
  if (process.env.DOCKER_CONFIG) return join(process.env.DOCKER_CONFIG, 'config.json');
  return join(homedir(), '.docker', 'config.json');
}

/** "https://host/v1/" → "host"; Docker Hub's legacy key maps to docker.io. */
function normalizeKey(k: string): string {
  const host = k.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
}

function helper(name: string, host: string): Promise<Credentials | undefined> {
  return new Promise((resolve) => {
    const child = execFile(`docker-credential-${name}`, ['get'], { timeout: 10_000 }, (err, stdout) => {
      if (err) return resolve(undefined);
      try {
        const j = JSON.parse(stdout) as { Username?: string; Secret?: string };
        resolve(j.Username && j.Secret ? { username: j.Username, password: j.Secret } : undefined);
      } catch {
        resolve(undefined);
      }
    });
    child.stdin?.end(host === DOCKER_HUB ? 'https://index.docker.io/v1/' : host);
  });
}

export async function lookupCredentials(
  registry: string,
  opts: { username?: string; password?: string; dockerConfigPath?: string; logger?: Logger },
): Promise<Credentials | undefined> {
  if (opts.username !== undefined && opts.password !== undefined)
    return { username: opts.username, password: opts.password };
  const path = dockerConfigPath(opts.dockerConfigPath);
  let cfg: DockerConfig;
  try {
    cfg = JSON.parse(readFileSync(path, 'utf8')) as DockerConfig;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || opts.dockerConfigPath) {
      opts.logger?.warn(`cannot read Docker config ${path}: ${(e as Error).message.split('\n')[0]}`);
    }
    return undefined;
  }
  const host = normalizeKey(registry);
  for (const [key, a] of Object.entries(cfg.auths ?? {})) {
    if (normalizeKey(key) !== host || !a) continue;
    if (a.auth) {
      const dec = Buffer.from(a.auth, 'base64').toString('utf8');
      const i = dec.indexOf(':');
      if (i > 0) return { username: dec.slice(0, i), password: dec.slice(i + 1) };
      opts.logger?.warn(`${path}: auths["${key}"].auth is not base64 of "user:password"; ignored`);
    }
    if (a.username && a.password) return { username: a.username, password: a.password };
  }
  const helperName = cfg.credHelpers?.[host] ?? cfg.credsStore;
  if (helperName) {
    const c = await helper(helperName, host);
    if (!c) opts.logger?.warn(`docker-credential-${helperName} gave no credentials for ${host}`);
    return c;
  }
  return undefined;
}
