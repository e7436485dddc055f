/**
 * Secrets from files: for each variable below, `NAME_FILE=/path` stands for `NAME=<the file's
 * content>` (trailing newline removed), as Kubernetes mounts Secrets as files and as the official
 * images of PostgreSQL and others read `*_FILE`. A set `NAME` wins. An unreadable file is a usage
 * error naming the file, never its content.
 */
import { readFileSync } from 'node:fs';
import { BulwarkError } from '../core/errors.js';

export const SECRET_ENV = [
  'BULWARK_SECRET_KEY',
  'BULWARK_DATABASE_URL',
  'BULWARK_NATS_AUTH',
  'BULWARK_ADMIN_PASSWORD',
  'BULWARK_TOKEN',
] as const;

export function loadSecretFiles(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of SECRET_ENV) {
    const file = env[`${name}_FILE`];
    if (env[name] || !file) continue;
    let v: string;
    try {
      v = readFileSync(file, 'utf8');
    } catch (e) {
      throw new BulwarkError(
        'USAGE',
        `${name}_FILE: cannot read ${file}: ${(e as NodeJS.ErrnoException).code}`,
        {
          subject: file,
        },
      );
    }
    env[name] = v.replace(/\r?\n$/, '');
  }
}
