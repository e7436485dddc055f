/**
 * Secrets at rest and credentials: scrypt password hashes, random tokens, and an AES-256-GCM box
 * for registry passwords and webhook secrets under a key kept in DATA/secret.key (0600) or taken
 * from BULWARK_SECRET_KEY (base64 of 32 bytes).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  randomBytes,
  scrypt as scryptCb,
  timingSafeEqual,
  type ScryptOptions,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { BulwarkError } from '../core/errors.js';

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 64 };

function scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, keylen, opts, (e, k) => (e ? reject(e) : resolve(k))),
  );
}

/** `scrypt$N$r$p$salt$hash` (base64url), a fresh 16-byte salt per call. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keylen, {
    N: SCRYPT.N,
    r: SCRYPT.r,
    p: SCRYPT.p,
    maxmem: 64 * 1024 * 1024,
  });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  );
}

/** Constant-time check of a password against a stored hash; false for malformed hashes. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64url');
  const want = Buffer.from(parts[5]!, 'base64url');
  const got = await scrypt(password, salt, want.length, { N, r, p, maxmem: 256 * 1024 * 1024 });
  return got.length === want.length && timingSafeEqual(got, want);
}

/** A hash to burn the same time on when a user does not exist (no user enumeration by timing). */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(12).toString('hex'));
  return dummyHash;
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Seals and opens short secrets with AES-256-GCM; output `v1:iv:tag:ciphertext` (base64url). */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new BulwarkError('USAGE', 'secret key must be 32 bytes');
  }

  /** Key from BULWARK_SECRET_KEY, else DATA/secret.key (created with mode 0600 on first start). */
  static load(keyFile: string, env: string | undefined = process.env.BULWARK_SECRET_KEY): SecretBox {
    if (env) {
      const k = Buffer.from(env, 'base64');
      if (k.length !== 32) throw new BulwarkError('USAGE', 'BULWARK_SECRET_KEY must be base64 of 32 bytes');
      return new SecretBox(k);
    }
    if (!existsSync(keyFile)) {
      mkdirSync(dirname(keyFile), { recursive: true });
      writeFileSync(keyFile, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    }
    chmodSync(keyFile, 0o600);
    const k = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
    if (k.length !== 32)
      throw new BulwarkError('CORRUPT', `${keyFile}: not a base64 32-byte key`, { subject: keyFile });
    return new SecretBox(k);
  }

  seal(plain: string): string {
    if (!plain) return '';
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return [
      'v1',
      iv.toString('base64url'),
      c.getAuthTag().toString('base64url'),
      ct.toString('base64url'),
    ].join(':');
  }

  open(sealed: string): string {
    if (!sealed) return '';
    const [v, iv, tag, ct] = sealed.split(':');
    if (v !== 'v1' || !iv || !tag || ct === undefined)
      throw new BulwarkError('CORRUPT', 'sealed secret has an unknown format');
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
    } catch (e) {
      throw new BulwarkError(
        'CORRUPT',
        'cannot decrypt a stored secret (wrong BULWARK_SECRET_KEY or secret.key?)',
        { cause: e },
      );
    }
  }
}
