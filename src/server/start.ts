/** Starting the console from the CLI: listen address, data directory, first-run message. */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BulwarkError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { createConsole, type Console } from './app.js';

import { validatePolicy, type SignaturePolicyOptions } from './signatures.js';

export interface StartOptions {
  listen?: string;
  dataDir?: string;
  database?: string;
  advisoryDbPath: string;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** PEM files: serve HTTPS (session cookies are then Secure). Both or neither. */
  tlsCert?: string;
  tlsKey?: string;
  /** Proxies whose X-Forwarded-Proto/-For are believed (addresses, CIDRs, "loopback"). */
  trustProxy?: string[];
  /** NATS URL(s): consume the agents' events from JetStream; credentials token or user:password. */
  nats?: string;
  natsAuth?: string;
  /** Registry images' signatures: public key files (PEM) and certificate identities to verify against. */
  verifyKeys?: string[];
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
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

/** --trust-proxy values: IPv4/IPv6 addresses, CIDRs, or proxy-addr's names (loopback, linklocal, uniquelocal). */
export function parseTrustProxy(values: string[]): string[] {
  const out: string[] = [];
  for (const v of values
    .flatMap((x) => x.split(','))
    .map((x) => x.trim())
    .filter(Boolean)) {
    const [addr, bits, extra] = v.split('/');
    const family = isIP(addr!);
    const okBits =
      bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (!['loopback', 'linklocal', 'uniquelocal'].includes(v) && (!family || !okBits || extra !== undefined))
      throw new BulwarkError(
        'USAGE',
        `--trust-proxy: expected an address, a CIDR (10.0.0.0/8) or loopback/linklocal/uniquelocal, got "${v}"`,
      );
    out.push(v);
  }
  return out;
}

/**
 * The signature policy of the options, checked as `bulwark verify` checks its flags (one
 * verifyOptions: keyless needs an issuer, a key and an identity exclude each other); a key file
 * that cannot be read or parsed is a usage error now, not at every scan.
 */
async function readSignaturePolicy(o: StartOptions): Promise<SignaturePolicyOptions | undefined> {
  if (
    !o.verifyKeys?.length &&
    [
      o.certificateIdentity,
      o.certificateIdentityRegexp,
      o.certificateOidcIssuer,
      o.certificateOidcIssuerRegexp,
    ].every((x) => x === undefined)
  )
    return undefined;
  const { verifyOptions } = await import('../cli/sign.js');
  const v = await verifyOptions(
    {
      key: o.verifyKeys,
      certificateIdentity: o.certificateIdentity,
      certificateIdentityRegexp: o.certificateIdentityRegexp,
      certificateOidcIssuer: o.certificateOidcIssuer,
      certificateOidcIssuerRegexp: o.certificateOidcIssuerRegexp,
    },
    '--verify-key',
  );
  const p: SignaturePolicyOptions = {
    keys: v.keys,
    certificateIdentity: v.certificateIdentity,
    certificateIdentityRegexp: v.certificateIdentityRegexp,
    certificateOidcIssuer: v.certificateOidcIssuer,
    certificateOidcIssuerRegexp: v.certificateOidcIssuerRegexp,
    trustedRoot: v.trustedRoot,
  };
  try {
    validatePolicy(p);
  } catch (e) {
    throw new BulwarkError('USAGE', `--verify-key: ${(e as Error).message}`, { cause: e });
  }
  return p;
}

function readTls(o: StartOptions): { cert: Buffer; key: Buffer } | undefined {
  if (!o.tlsCert && !o.tlsKey) return undefined;
  if (!o.tlsCert || !o.tlsKey)
    throw new BulwarkError('USAGE', '--tls-cert and --tls-key go together (PEM certificate chain and key)');
  const read = (what: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new BulwarkError('USAGE', `${what}: cannot read ${file}: ${(e as Error).message}`, { cause: e });
    }
  };
  return { cert: read('--tls-cert', o.tlsCert), key: read('--tls-key', o.tlsKey) };
}

export async function startServer(o: StartOptions): Promise<RunningServer> {
  const env = o.env ?? process.env;
  const { host, port } = parseListen(o.listen ?? '127.0.0.1:8080');
  const dataDir = o.dataDir ?? defaultDataDir(env);
  const tls = readTls(o);
  const trustProxy = parseTrustProxy(o.trustProxy ?? []);
  const signaturePolicy = await readSignaturePolicy(o);
  let c: Console;
  try {
    c = await createConsole({
      dataDir,
      tls,
      trustProxy,
      database: o.database,
      advisoryDbPath: o.advisoryDbPath,
      ...(signaturePolicy ? { signaturePolicy } : {}),
      logger: o.logger,
      env,
      ...(o.nats ? { nats: { servers: o.nats, auth: o.natsAuth } } : {}),
      // how long a dead replica's running jobs stay reserved (default 60 s)
      ...(env.BULWARK_JOB_LEASE_SECONDS ? { jobLeaseMs: Number(env.BULWARK_JOB_LEASE_SECONDS) * 1000 } : {}),
    });
  } catch (e) {
    // A key that does not match the certificate, or a malformed PEM, is the operator's mistake.
    if (tls && /key|cert|PEM|asn1|bad decrypt/i.test((e as Error).message))
      throw new BulwarkError('USAGE', `--tls-cert/--tls-key: ${(e as Error).message}`, { cause: e });
    throw e;
  }
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
