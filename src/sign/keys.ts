/**
 * Signing keys in cosign's formats. Private keys: PEM "ENCRYPTED SIGSTORE PRIVATE KEY" (cosign 2+;
 * "ENCRYPTED COSIGN PRIVATE KEY" from older cosign is read too) whose body is the JSON of
 * go-securesystemslib's `encrypted` package: scrypt (N=32768, r=8, p=1, 32-byte salt) derives the
 * key of a NaCl secretbox (XSalsa20-Poly1305, 24-byte nonce) holding the PKCS#8 DER key. Public
 * keys: PEM "PUBLIC KEY" (SubjectPublicKeyInfo). Passwords come from COSIGN_PASSWORD like cosign.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  scryptSync,
  type KeyObject,
} from 'node:crypto';
import { secretbox } from '@noble/ciphers/salsa.js';
import { BulwarkError } from '../core/errors.js';

export const SIGSTORE_PEM = 'ENCRYPTED SIGSTORE PRIVATE KEY';
export const COSIGN_PEM = 'ENCRYPTED COSIGN PRIVATE KEY';

const SCRYPT = { N: 32768, r: 8, p: 1 };
/** Largest N read: cosign 3 writes 65536 (64 MiB of scrypt memory); more would let a key file take GBs. */
const MAX_N = 1 << 16;

interface EncryptedKeyJson {
  kdf: { name: string; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: string; nonce: string };
  ciphertext: string;
}

function pem(type: string, der: Buffer): string {
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${type}-----\n${b64}\n-----END ${type}-----\n`;
}

function pemBlock(text: string): { type: string; der: Buffer } | undefined {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\s*([A-Za-z0-9+/=\s]*?)\s*-----END \1-----/.exec(text);
  if (!m) return undefined;
  return { type: m[1]!, der: Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64') };
}

function deriveKey(password: string, salt: Buffer, p: { N: number; r: number; p: number }): Buffer {
  return scryptSync(Buffer.from(password, 'utf8'), salt, 32, {
    N: p.N,
    r: p.r,
    p: p.p,
    maxmem: 256 * p.N * p.r + 1024 * 1024,
  });
}

/** Encrypts a PKCS#8 DER private key into cosign's PEM. */
export function encryptPrivateKey(pkcs8: Buffer, password: string): string {
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const key = deriveKey(password, salt, SCRYPT);
  const ct = Buffer.from(secretbox(key, nonce).seal(pkcs8));
  // Field order as Go's json.Marshal writes the struct.
  const body: EncryptedKeyJson = {
    kdf: { name: 'scrypt', params: { ...SCRYPT }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: ct.toString('base64'),
  };
  return pem(SIGSTORE_PEM, Buffer.from(JSON.stringify(body)));
}

/**
 * Reads a private key: cosign's encrypted PEM (with `password`), or an unencrypted PKCS#8 / SEC1
 * PEM. `what` names the file in errors; the password is never shown.
 */
export function readPrivateKey(text: string, password: string | undefined, what: string): KeyObject {
  const b = pemBlock(text);
  if (!b) throw new BulwarkError('PARSE', `${what}: no PEM block`);
  if (b.type === SIGSTORE_PEM || b.type === COSIGN_PEM) {
    let j: EncryptedKeyJson;
    try {
      j = JSON.parse(b.der.toString('utf8')) as EncryptedKeyJson;
    } catch {
      throw new BulwarkError('PARSE', `${what}: encrypted key body is not JSON`);
    }
    if (j?.kdf?.name !== 'scrypt')
      throw new BulwarkError('UNSUPPORTED', `${what}: key derivation "${j?.kdf?.name}" is not scrypt`);
    if (j.cipher?.name !== 'nacl/secretbox')
      throw new BulwarkError('UNSUPPORTED', `${what}: cipher "${j.cipher?.name}" is not nacl/secretbox`);
    const p = j.kdf.params ?? {};
    if (!(p.N >= 2 && p.N <= MAX_N && (p.N & (p.N - 1)) === 0 && p.r === 8 && p.p === 1))
      throw new BulwarkError(
        'UNSUPPORTED',
        `${what}: unexpected scrypt parameters N=${p.N} r=${p.r} p=${p.p}`,
      );
    if (password === undefined)
      throw new BulwarkError('USAGE', `${what} is encrypted: set COSIGN_PASSWORD (empty for no password)`);
    const nonce = Buffer.from(j.cipher.nonce ?? '', 'base64');
    if (nonce.length !== 24) throw new BulwarkError('PARSE', `${what}: nonce is not 24 bytes`);
    const key = deriveKey(password, Buffer.from(j.kdf.salt ?? '', 'base64'), p);
    let der: Buffer;
    try {
      der = Buffer.from(secretbox(key, nonce).open(Buffer.from(j.ciphertext ?? '', 'base64')));
    } catch {
      throw new BulwarkError('AUTH', `${what}: decryption failed (wrong COSIGN_PASSWORD?)`);
    }
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  }
  try {
    return createPrivateKey(text);
  } catch (e) {
    throw new BulwarkError('PARSE', `${what}: not a private key (${(e as Error).message})`);
  }
}

/** A new ECDSA P-256 key pair as cosign writes it: encrypted cosign.key and cosign.pub. */
export function generateKeyPair(password: string): {
  privatePem: string;
  publicPem: string;
  publicKey: KeyObject;
} {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  return {
    privatePem: encryptPrivateKey(pkcs8, password),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    publicKey,
  };
}

/** Public keys from PEM text (one or more PUBLIC KEY blocks, or a certificate's key), or KeyObjects. */
export function toPublicKeys(keys: (KeyObject | string)[], what = 'public key'): KeyObject[] {
  const out: KeyObject[] = [];
  for (const k of keys) {
    if (typeof k !== 'string') {
      out.push(k.type === 'private' ? createPublicKey(k) : k);
      continue;
    }
    const blocks = k.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g) ?? [];
    if (!blocks.length) throw new BulwarkError('PARSE', `${what}: no PEM public key`);
    for (const b of blocks) {
      try {
        out.push(createPublicKey(b));
      } catch (e) {
        throw new BulwarkError('PARSE', `${what}: unreadable (${(e as Error).message})`);
      }
    }
  }
  return out;
}

/** Digest algorithm cosign uses with a key: SHA-256 (ECDSA P-256, RSA), SHA-384/512 for P-384/P-521, none for Ed25519. */
export function hashFor(key: KeyObject): string | null {
  if (key.asymmetricKeyType === 'ed25519') return null;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === 'secp384r1') return 'sha384';
  if (curve === 'secp521r1') return 'sha512';
  return 'sha256';
}
