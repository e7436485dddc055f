/**
 * `bulwark admission`: the Kubernetes admission webhook (AdmissionReview v1 over HTTPS) evaluating
 * the same checks as `bulwark scan config`, with image verdicts (signature, vulnerabilities, digest)
 * from a background cache. `bulwark admission manifests`: the webhook's own Kubernetes objects.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { BulwarkError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { parseSeverityList, SEVERITIES, type Severity } from '../core/types.js';
import {
  cosignVerifier,
  HttpEventSink,
  ImageCache,
  RegistryDigestResolver,
  startWebhook,
  streamSink,
  webhookManifests,
  type EventSink,
  type VulnerabilitySource,
} from '../admission/index.js';
import { CheckSet, loadChecks } from '../policy/index.js';
import type { CliContext } from './context.js';
import { writeOutput } from './output.js';

interface ServeOptions {
  listen: string;
  tlsCert?: string;
  tlsKey?: string;
  policy: string[];
  requireSignature: string[];
  maxSeverity?: string;
  severity?: string;
  mode: 'enforce' | 'warn';
  failOpen?: boolean;
  failClosed?: boolean;
  deadlineMs: string;
  maxBodyBytes: string;
  pinDigests?: boolean;
  exemptNamespace: string[];
  warm: string[];
  eventsUrl?: string;
  server?: string;
  token?: string;
  cluster?: string;
  bufferDir?: string;
  events: string;
  db?: string;
  offline?: boolean;
  registryCaCert?: string;
  insecureRegistry?: boolean;
}

interface ManifestCliOptions {
  namespace: string;
  caBundle?: string;
  image?: string;
  timeoutSeconds: string;
  failOpen?: boolean;
  mode: 'enforce' | 'warn';
  pinDigests?: boolean;
  output?: string;
}

const repeat = (v: string, prev: string[]) => [...prev, v];

/** `:8443`, `0.0.0.0:8443`, `127.0.0.1:0`, `[::1]:8443` → host and port. */
export function parseListenAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535)
    throw new BulwarkError(
      'USAGE',
      `--listen: expected [HOST]:PORT (e.g. :8443 or 127.0.0.1:8443), got "${addr}"`,
    );
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

function positiveInt(flag: string, v: string, max = 600_000): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0 || n > max)
    throw new BulwarkError('USAGE', `${flag} must be a whole number from 1 to ${max}, not "${v}"`);
  return n;
}

function readPem(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new BulwarkError(
      'NOT_FOUND',
      `${flag} ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`,
      {
        subject: file,
      },
    );
  }
}

/** Vulnerability counts by severity from a `scan image` of the digest (the advisory DB must exist). */
export function vulnerabilitySource(
  o: Pick<ServeOptions, 'db' | 'registryCaCert' | 'insecureRegistry'>,
  logger: Logger,
): VulnerabilitySource {
  return {
    async scan(ref) {
      const { runScan } = await import('./scan.js');
      const run = await runScan(
        'image',
        ref,
        {
          format: 'json',
          exitCode: '0',
          scanners: 'vuln',
          ...(o.db ? { db: o.db } : {}),
          ...(o.registryCaCert ? { caCert: o.registryCaCert } : {}),
          ...(o.insecureRegistry ? { insecure: true } : {}),
        },
        logger,
      );
      const counts: Partial<Record<Severity, number>> = {};
      for (const r of run.report.results)
        for (const f of r.findings)
          if (f.kind === 'vulnerability') counts[f.severity] = (counts[f.severity] ?? 0) + 1;
      return counts;
    },
  };
}

async function serve(ctx: CliContext, o: ServeOptions): Promise<void> {
  const log = ctx.logger();
  if (!o.tlsCert || !o.tlsKey)
    throw new BulwarkError(
      'USAGE',
      '--tls-cert and --tls-key are required (the API server only calls webhooks over HTTPS)',
    );
  if (o.failOpen && o.failClosed)
    throw new BulwarkError('USAGE', '--fail-open and --fail-closed exclude each other');
  const { host, port } = parseListenAddr(o.listen);
  const deadlineMs = positiveInt('--deadline-ms', o.deadlineMs, 29_000);
  const maxBodyBytes = positiveInt('--max-body-bytes', o.maxBodyBytes, 64 * 1024 * 1024);
  let maxSeverity: Severity | undefined;
  if (o.maxSeverity) {
    const s = o.maxSeverity.toUpperCase();
    if (!(SEVERITIES as readonly string[]).includes(s))
      throw new BulwarkError(
        'USAGE',
        `--max-severity: unknown severity "${o.maxSeverity}" (expected ${SEVERITIES.join(', ')})`,
      );
    maxSeverity = s as Severity;
  }
  let severities: Severity[] | undefined;
  try {
    severities = o.severity ? parseSeverityList(o.severity) : undefined;
  } catch (e) {
    throw new BulwarkError('USAGE', `--severity: ${(e as Error).message}`);
  }
  const cert = readPem('--tls-cert', o.tlsCert);
  const key = readPem('--tls-key', o.tlsKey);
  const checks = new CheckSet(loadChecks({ extra: o.policy }));
  const registry = {
    ...(o.registryCaCert ? { caCertFile: o.registryCaCert } : {}),
    ...(o.insecureRegistry ? { insecure: true } : {}),
  };
  const resolver =
    o.pinDigests || maxSeverity || o.requireSignature.length
      ? new RegistryDigestResolver(registry)
      : undefined;
  const verifier = o.requireSignature.length
    ? cosignVerifier({
        keys: o.requireSignature.map((k) => readPem('--require-signature', k)),
        offline: Boolean(o.offline),
        ...registry,
      })
    : undefined;
  const images = new ImageCache({
    ...(resolver ? { resolver } : {}),
    ...(verifier ? { verifier } : {}),
    ...(maxSeverity ? { vulnerabilities: vulnerabilitySource(o, log) } : {}),
  });
  const sinks: EventSink[] = [];
  if (o.events === '-') sinks.push(streamSink(process.stdout));
  else if (o.events !== 'none') {
    const { createWriteStream } = await import('node:fs');
    sinks.push(streamSink(createWriteStream(o.events, { flags: 'a' })));
  }
  let http: HttpEventSink | undefined;
  if (o.eventsUrl) {
    let u: URL;
    try {
      u = new URL(o.eventsUrl);
    } catch {
      throw new BulwarkError('USAGE', `--events-url: not a URL: ${o.eventsUrl}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new BulwarkError('USAGE', '--events-url: expected an http(s) URL');
    http = new HttpEventSink(u.href, { onError: (m) => log.warn(m) });
    sinks.push(http.sink);
  }
  // decisions to the console: through a disk buffer, in order, never lost while it is away
  let shipper: import('../agent/index.js').Shipper | undefined;
  if (o.server) {
    const { consoleShipper } = await import('./console-shipper.js');
    const { consoleEvent } = await import('../admission/index.js');
    const { hostname } = await import('node:os');
    shipper = await consoleShipper(
      { server: o.server, token: o.token, bufferDir: o.bufferDir },
      'admission-buffer',
      (m) => log.warn(m),
    );
    const sh = shipper;
    const node = hostname();
    const run = `admission:${node}:${Date.now().toString(36)}`;
    let n = 0;
    sinks.push((e) => sh.enqueue([consoleEvent(e, `${run}:${++n}`, node, o.cluster)]));
  }
  for (const ref of o.warm) void images.warm(ref);
  const hook = await startWebhook(
    {
      cert,
      key,
      checks,
      mode: o.mode,
      ...(severities ? { severities } : {}),
      failurePolicy: o.failOpen ? 'open' : 'closed',
      deadlineMs,
      maxBodyBytes,
      images,
      requireSignature: Boolean(verifier),
      ...(maxSeverity ? { maxSeverity } : {}),
      pinDigests: Boolean(o.pinDigests),
      exemptNamespaces: o.exemptNamespace.length ? o.exemptNamespace : ['kube-system'],
      events: (e) => sinks.forEach((s) => s(e)),
    },
    host,
    port,
  );
  log.info(
    `admission webhook on https://${host.includes(':') ? `[${host}]` : host}:${hook.port} (/validate, /mutate): ${checks.checks.length} checks, mode ${o.mode}, fail-${o.failOpen ? 'open' : 'closed'}, deadline ${deadlineMs} ms`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  log.info('shutting down');
  await hook.close();
  await http?.flush();
  await shipper?.stop(5000);
  await resolver?.close();
}

export function register(ctx: CliContext): void {
  const cmd: Command = ctx.program
    .command('admission')
    .description(
      'Kubernetes admission webhook (AdmissionReview v1) running the scan config checks; see "admission manifests"',
    )
    .option('--listen <addr>', 'HTTPS listen address [HOST]:PORT', ':8443')
    .option('--tls-cert <file>', 'serving certificate (PEM)')
    .option('--tls-key <file>', 'serving key (PEM)')
    .option(
      '--policy <dir>',
      'extra check files or directories, as for scan config (repeatable)',
      repeat,
      [] as string[],
    )
    .option(
      '--require-signature <key>',
      'images must carry a cosign signature verified by this public key (repeatable)',
      repeat,
      [] as string[],
    )
    .option(
      '--offline',
      'verify signatures with no Rekor or TUF access (always so; accepted for cosign parity)',
    )
    .option(
      '--max-severity <severity>',
      'deny images with a vulnerability above this severity (needs the advisory DB)',
    )
    .option('--db <file>', 'advisory database for --max-severity (default ~/.cache/bulwark/db.sqlite)')
    .option('-s, --severity <list>', 'severities of failing checks that count as violations (default all)')
    .addOption(
      new Option('--mode <mode>', 'enforce: deny violations; warn: allow with warnings')
        .choices(['enforce', 'warn'])
        .default('enforce'),
    )
    .option('--fail-open', 'allow when a verdict is not known within the deadline')
    .option('--fail-closed', 'deny when a verdict is not known within the deadline (default)')
    .option('--deadline-ms <n>', 'hard deadline per request, well under the webhook timeoutSeconds', '2000')
    .option('--max-body-bytes <n>', 'largest AdmissionReview accepted', String(3 * 1024 * 1024))
    .option('--pin-digests', 'on /mutate, a JSONPatch replacing image tags by tag@digest')
    .option(
      '--exempt-namespace <ns>',
      'namespace never evaluated (repeatable; default kube-system)',
      repeat,
      [] as string[],
    )
    .option(
      '--warm <image>',
      'image to verify at start-up, before it is first admitted (repeatable)',
      repeat,
      [] as string[],
    )
    .option('--events <file>', 'decisions as JSON lines: "-" for stdout, a file, or "none"', '-')
    .option('--events-url <url>', 'also POST decisions (JSON lines, batched) to this URL')
    .option('--server <url>', "send decisions to the console's runtime events (kind admission)")
    .option('--token <token>', 'API token for --server (default: $BULWARK_TOKEN)')
    .option('--cluster <name>', 'cluster name on the decisions sent to the console')
    .option('--buffer-dir <dir>', 'disk buffer for --server (default ~/.cache/bulwark/admission-buffer)')
    .option('--registry-ca-cert <file>', 'CA certificate(s) for registries')
    .option('--insecure-registry', 'registries over plain HTTP or unverified TLS')
    .action((o: ServeOptions) => serve(ctx, o));

  cmd
    .command('manifests')
    .description('print the ValidatingWebhookConfiguration, Service and Deployment of the webhook (YAML)')
    .option('-n, --namespace <ns>', 'namespace of the webhook', 'bulwark')
    .option('--ca-bundle <file>', 'PEM CA that signed the serving certificate (caBundle)')
    .option('--image <ref>', 'Bulwark image (pin it by digest)')
    .option('--timeout-seconds <n>', 'webhook timeoutSeconds (1-30)', '5')
    .option('--fail-open', 'failurePolicy Ignore (default Fail)')
    .addOption(new Option('--mode <mode>', 'webhook mode').choices(['enforce', 'warn']).default('enforce'))
    .option('--pin-digests', 'also a MutatingWebhookConfiguration pinning image tags to digests')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (local: ManifestCliOptions, sub: Command) => {
      // the root program parses options anywhere, so `manifests --fail-open` may land on the
      // parent `admission` command, which has options of the same names: take them from either
      const o = { ...local };
      for (const k of ['failOpen', 'mode', 'pinDigests'] as const)
        if (sub.getOptionValueSource(k) !== 'cli' && cmd.getOptionValueSource(k) === 'cli')
          (o as Record<string, unknown>)[k] = cmd.getOptionValue(k);
      const timeoutSeconds = positiveInt('--timeout-seconds', o.timeoutSeconds, 30);
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(o.namespace) || o.namespace.length > 63)
        throw new BulwarkError('USAGE', `--namespace: "${o.namespace}" is not a valid namespace name`);
      const caBundlePem = o.caBundle ? readPem('--ca-bundle', o.caBundle) : undefined;
      if (caBundlePem && !caBundlePem.includes('-----BEGIN CERTIFICATE-----'))
        throw new BulwarkError('USAGE', `--ca-bundle ${o.caBundle}: no PEM certificate in the file`);
      if (!caBundlePem)
        ctx.logger().warn('no --ca-bundle: the API server will verify the webhook against its system roots');
      await writeOutput(
        webhookManifests({
          namespace: o.namespace,
          ...(caBundlePem ? { caBundlePem } : {}),
          ...(o.image ? { image: o.image } : {}),
          timeoutSeconds,
          failOpen: Boolean(o.failOpen),
          mode: o.mode,
          pinDigests: Boolean(o.pinDigests),
        }),
        o.output,
      );
    });
}
