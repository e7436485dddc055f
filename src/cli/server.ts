/**
 * `bulwark server`: the console (HTTP API, web UI, registry scanning, notifications).
 */
import { defaultDbPath } from '../vuln/index.js';
import { startServer, defaultDataDir } from '../server/index.js';
import type { CliContext } from './context.js';

export function register(ctx: CliContext): void {
  ctx.program
    .command('server')
    .description('run the Bulwark console (API, web UI, registry scans, notifications)')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8080')
    .option(
      '--data <dir>',
      `data directory: SQLite database, secret key (default ${defaultDataDir()}; env BULWARK_DATA)`,
    )
    .option(
      '--database <url>',
      'PostgreSQL URL (postgres://user:pass@host/db) instead of SQLite in the data directory (env BULWARK_DATABASE_URL)',
    )
    .option('--db <file>', 'vulnerability database for registry scans', defaultDbPath())
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (chain); needs --tls-key')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option(
      '--trust-proxy <addr|cidr>',
      'reverse proxy whose X-Forwarded-For/-Proto is believed (address, CIDR or loopback; repeatable, comma-separated)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--nats <url>',
      "consume the node agents' events from NATS JetStream (agents run with --nats); replicas share one durable consumer",
    )
    .option('--nats-auth <token|user:password>', 'NATS credentials (default: $BULWARK_NATS_AUTH)')
    .option(
      '--verify-key <file>',
      "registry scans verify images' cosign signatures and attestations with this public key (PEM; repeatable)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--certificate-identity <san>', 'keyless signatures: the signing certificate identity to accept')
    .option('--certificate-identity-regexp <re>', 'keyless signatures: identities matching this expression')
    .option('--certificate-oidc-issuer <url>', 'keyless signatures: the OIDC issuer to accept')
    .option('--certificate-oidc-issuer-regexp <re>', 'keyless signatures: issuers matching this expression')
    .action(
      async (o: {
        nats?: string;
        natsAuth?: string;
        listen: string;
        data?: string;
        database?: string;
        db: string;
        tlsCert?: string;
        tlsKey?: string;
        trustProxy?: string[];
        verifyKey?: string[];
        certificateIdentity?: string;
        certificateIdentityRegexp?: string;
        certificateOidcIssuer?: string;
        certificateOidcIssuerRegexp?: string;
      }) => {
        const logger = ctx.logger();
        const srv = await startServer({
          listen: o.listen,
          dataDir: o.data,
          database: o.database ?? process.env.BULWARK_DATABASE_URL,
          advisoryDbPath: o.db,
          tlsCert: o.tlsCert,
          tlsKey: o.tlsKey,
          trustProxy: o.trustProxy,
          nats: o.nats,
          natsAuth: o.natsAuth ?? process.env.BULWARK_NATS_AUTH,
          verifyKeys: o.verifyKey,
          certificateIdentity: o.certificateIdentity,
          certificateIdentityRegexp: o.certificateIdentityRegexp,
          certificateOidcIssuer: o.certificateOidcIssuer,
          certificateOidcIssuerRegexp: o.certificateOidcIssuerRegexp,
          logger,
        });
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            logger.info('shutting down');
            void srv.close().then(resolve, resolve);
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
      },
    );
}
