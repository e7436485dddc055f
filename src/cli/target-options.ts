/**
 * Command-line options shared by every command that reads an image or a directory
 * (`bulwark sbom`, `bulwark scan image|fs|sbom`): registry credentials, TLS, platform and timeout.
 * Names follow Trivy's flags.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { BulwarkError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { SourceOptions } from '../image/index.js';

export interface TargetCliOptions {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  caCert?: string;
  insecure?: boolean;
  platform?: string;
  timeout?: string;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** Parsed, checked target options. */
export interface TargetOptions {
  username?: string;
  password?: string;
  /** Path of a PEM file with the CA certificate(s) to trust for registries, and its content. */
  caCert?: string;
  caCertPem?: string;
  insecure: boolean;
  platform?: Platform;
  timeoutMs: number;
}

export const DEFAULT_TIMEOUT = '5m0s';

/** Adds the target options to a command (call before .action()). */
export function addTargetOptions(cmd: Command): Command {
  return cmd
    .option('--username <name>', 'registry user name (env BULWARK_USERNAME)')
    .option(
      '--password <password>',
      'registry password; prefer env BULWARK_PASSWORD or --password-stdin (visible in process lists)',
    )
    .option('--password-stdin', 'read the registry password from standard input')
    .option('--ca-cert <file>', 'PEM file with the CA certificate(s) of a private registry')
    .option('--insecure', 'allow plain HTTP and unverified TLS certificates for registries', false)
    .option(
      '--platform <os/arch[/variant]>',
      'platform to pick from a multi-platform image, e.g. linux/arm64/v8',
    )
    .addOption(
      new Option('--timeout <duration>', 'give up after this long (e.g. 90s, 5m, 1h30m)').default(
        DEFAULT_TIMEOUT,
      ),
    );
}

/** "5m0s", "90s", "1h30m", "250ms", or plain seconds ("300"). */
export function parseDuration(s: string): number {
  const t = s.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let ms = 0;
  let matched = 0;
  for (let m; (m = re.exec(t));) {
    const n = Number(m[1]);
    ms += n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    matched = re.lastIndex;
  }
  if (!t || matched !== t.length) {
    throw new BulwarkError(
      'USAGE',
      `invalid --timeout "${s}" (expected a duration such as 90s, 5m or 1h30m)`,
    );
  }
  return Math.round(ms);
}

export function parsePlatform(s: string): Platform {
  const m = /^([a-z0-9]+)\/([a-z0-9_]+)(?:\/([a-z0-9]+))?$/i.exec(s.trim());
  if (!m)
    throw new BulwarkError(
      'USAGE',
      `invalid --platform "${s}" (expected os/arch or os/arch/variant, e.g. linux/arm64/v8)`,
    );
  const p: Platform = { os: m[1]!.toLowerCase(), architecture: m[2]!.toLowerCase() };
  if (m[3]) p.variant = m[3].toLowerCase();
  return p;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 64 * 1024) throw new BulwarkError('USAGE', '--password-stdin: input is larger than 64 KiB');
    chunks.push(c);
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * Checks the options and resolves credentials: --username / BULWARK_USERNAME with a password from
 * BULWARK_PASSWORD, --password-stdin or --password (that last one with a warning). Usage problems
 * throw BulwarkError('USAGE'); the caller turns them into exit code 2.
 */
export async function resolveTargetOptions(
  o: TargetCliOptions,
  logger: Pick<Logger, 'warn'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TargetOptions> {
  const out: TargetOptions = {
    insecure: Boolean(o.insecure),
    timeoutMs: parseDuration(o.timeout ?? DEFAULT_TIMEOUT),
  };
  if (out.timeoutMs <= 0)
    throw new BulwarkError('USAGE', `invalid --timeout "${o.timeout}" (must be more than zero)`);
  if (o.platform) out.platform = parsePlatform(o.platform);

  const username = o.username ?? env.BULWARK_USERNAME;
  if (o.password !== undefined && o.passwordStdin)
    throw new BulwarkError('USAGE', '--password and --password-stdin cannot be used together');
  let password: string | undefined;
  if (o.passwordStdin) password = await readStdin();
  else if (o.password !== undefined) {
    logger.warn(
      '--password is visible to other users in the process list; use BULWARK_PASSWORD or --password-stdin',
    );
    password = o.password;
  } else password = env.BULWARK_PASSWORD;
  if (username && password === undefined) {
    throw new BulwarkError(
      'USAGE',
      'a registry user name needs a password: set BULWARK_PASSWORD or use --password-stdin',
    );
  }
  if (password !== undefined && !username) {
    if (o.password !== undefined || o.passwordStdin)
      throw new BulwarkError('USAGE', 'a registry password needs --username (or BULWARK_USERNAME)');
    password = undefined; // BULWARK_PASSWORD alone is ignored: there is no user to send it for
  }
  if (username) {
    out.username = username;
    out.password = password;
  }

  if (o.caCert) {
    let pem: string;
    try {
      pem = readFileSync(o.caCert, 'utf8');
    } catch (e) {
      throw new BulwarkError(
        'USAGE',
        `--ca-cert ${o.caCert}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        {
          subject: o.caCert,
        },
      );
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new BulwarkError('USAGE', `--ca-cert ${o.caCert}: no PEM certificate in the file`, {
        subject: o.caCert,
      });
    }
    out.caCert = o.caCert;
    out.caCertPem = pem;
  }
  return out;
}

/** The image module's source options for these target options. */
export function toAnalyzeOptions(t: TargetOptions, logger: Logger): SourceOptions {
  const o: SourceOptions = { insecure: t.insecure, logger };
  if (t.username !== undefined) {
    o.username = t.username;
    o.password = t.password;
  }
  if (t.caCert) o.caCertFile = t.caCert;
  if (t.platform)
    o.platform = [t.platform.os, t.platform.architecture, t.platform.variant].filter(Boolean).join('/');
  return o;
}

/**
 * --timeout bounds the whole command, as in Trivy. When it runs out the process ends with one line
 * on stderr and exit code 1 (open registry connections would otherwise keep it alive). Returns the
 * function that disarms it.
 */
export function armTimeout(ms: number, what: string): () => void {
  const t = setTimeout(() => {
    process.stderr.write(`bulwark: ${what}: timed out after ${formatDuration(ms)} (raise --timeout)\n`);
    process.exit(1);
  }, ms);
  t.unref();
  return () => clearTimeout(t);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
