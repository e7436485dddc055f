/**
 * cosign-compatible commands: `bulwark generate-key-pair`, `sign`, `verify`, `attest`,
 * `verify-attestation`. Flags, outputs and exit codes follow cosign: verified payloads as JSON on
 * stdout, "Verification for … --" and the checks performed on stderr, exit 1 with the reason when
 * nothing verifies, 2 for usage errors. Private key passwords come from COSIGN_PASSWORD.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { BulwarkError, isBulwarkError } from '../core/errors.js';
import type { CliContext } from './context.js';
import { openOutput } from './output.js';
import {
  addTargetOptions,
  armTimeout,
  parseDuration,
  resolveTargetOptions,
  toAnalyzeOptions,
  type TargetCliOptions,
} from './target-options.js';

type Sign = typeof import('../sign/index.js');
const loadSign = (): Promise<Sign> => import('../sign/index.js');

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new BulwarkError(
      'USAGE',
      `${what} ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`,
      { subject: file },
    );
  }
}

function usage(cmd: Command, e: unknown): never {
  if (isBulwarkError(e) && e.code === 'USAGE')
    cmd.error(`error: ${e.message}`, { exitCode: 2, code: 'bulwark.usage' });
  throw e;
}

async function registryOpts(ctx: CliContext, cmd: Command, o: TargetCliOptions) {
  const logger = ctx.logger();
  try {
    const t = await resolveTargetOptions(o, logger);
    return { t, registry: toAnalyzeOptions(t, logger) };
  } catch (e) {
    return usage(cmd, e);
  }
}

async function privateKey(file: string) {
  const { readPrivateKey } = await loadSign();
  return readPrivateKey(await readText(file, '--key'), process.env.COSIGN_PASSWORD, file);
}

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

function annotations(list: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of list) {
    const i = a.indexOf('=');
    if (i <= 0) throw new BulwarkError('USAGE', `-a "${a}": expected key=value`);
    out[a.slice(0, i)] = a.slice(i + 1);
  }
  return out;
}

interface VerifyCli extends TargetCliOptions {
  key?: string[];
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  offline?: boolean;
  trustedRoot?: string;
  caRoots?: string;
  caIntermediates?: string;
  insecureIgnoreTlog?: boolean;
  requireTlog?: boolean;
  matchReference?: 'repository' | 'exact';
  output?: string;
}

function addVerifyOptions(cmd: Command): Command {
  return cmd
    .option('--key <file>', 'public key (PEM) to verify with; repeat for several', collect)
    .option('--certificate-identity <san>', "keyless: the signing certificate's identity (email or URI SAN)")
    .option('--certificate-identity-regexp <re>', 'keyless: a regular expression the identity must match')
    .option('--certificate-oidc-issuer <url>', 'keyless: the OIDC issuer in the certificate')
    .option(
      '--certificate-oidc-issuer-regexp <re>',
      'keyless: a regular expression the OIDC issuer must match',
    )
    .option(
      '--offline',
      'never contact Rekor or TUF (always the case: the SET is verified from the signature)',
    )
    .option(
      '--trusted-root <file>',
      'Sigstore trusted_root.json with the Rekor keys and Fulcio CAs (default: the shipped one)',
    )
    .option('--ca-roots <file>', 'PEM CA certificates for signing certificates from a private PKI')
    .option('--ca-intermediates <file>', 'PEM intermediate certificates for --ca-roots')
    .option(
      '--insecure-ignore-tlog',
      'ignore Rekor entries (neither required nor checked); keyless certificates must then be valid now',
    )
    .option('--require-tlog', 'require a Rekor entry (SET) for key signatures too')
    .addOption(
      new Option('--match-reference <how>', 'also check the signed docker-reference against IMAGE').choices([
        'repository',
        'exact',
      ]),
    )
    .option('-o, --output-file <file>', 'write the verified payloads to FILE instead of standard output');
}

/** The verification policy of the flags (what `bulwark server --verify-key …` takes too, with `keyFlag`). */
export async function verifyOptions(
  o: Pick<
    VerifyCli,
    | 'key'
    | 'certificateIdentity'
    | 'certificateIdentityRegexp'
    | 'certificateOidcIssuer'
    | 'certificateOidcIssuerRegexp'
    | 'trustedRoot'
    | 'caRoots'
    | 'caIntermediates'
    | 'insecureIgnoreTlog'
    | 'requireTlog'
    | 'matchReference'
  >,
  keyFlag = '--key',
) {
  const keys = await Promise.all((o.key ?? []).map((k) => readText(k, keyFlag)));
  const keyless = o.certificateIdentity !== undefined || o.certificateIdentityRegexp !== undefined;
  if (!keys.length && !keyless)
    throw new BulwarkError(
      'USAGE',
      `pass ${keyFlag} FILE, or --certificate-identity(-regexp) with --certificate-oidc-issuer(-regexp) for keyless`,
    );
  if (keys.length && keyless)
    throw new BulwarkError('USAGE', `${keyFlag} and --certificate-identity cannot be used together`);
  if (
    keyless &&
    !o.caRoots &&
    o.certificateOidcIssuer === undefined &&
    o.certificateOidcIssuerRegexp === undefined
  )
    throw new BulwarkError(
      'USAGE',
      'keyless verification needs --certificate-oidc-issuer or --certificate-oidc-issuer-regexp',
    );
  if (o.insecureIgnoreTlog && o.requireTlog)
    throw new BulwarkError('USAGE', '--insecure-ignore-tlog and --require-tlog cannot be used together');
  if (o.caIntermediates && !o.caRoots) throw new BulwarkError('USAGE', '--ca-intermediates needs --ca-roots');
  const check = (re: string | undefined, flag: string) => {
    if (re === undefined) return;
    try {
      new RegExp(re);
    } catch (e) {
      throw new BulwarkError('USAGE', `${flag} "${re}": ${(e as Error).message}`);
    }
  };
  check(o.certificateIdentityRegexp, '--certificate-identity-regexp');
  check(o.certificateOidcIssuerRegexp, '--certificate-oidc-issuer-regexp');
  const { loadTrustedRoot } = await loadSign();
  return {
    keys: keys.length ? keys : undefined,
    certificateIdentity: o.certificateIdentity,
    certificateIdentityRegexp: o.certificateIdentityRegexp,
    certificateOidcIssuer: o.certificateOidcIssuer,
    certificateOidcIssuerRegexp: o.certificateOidcIssuerRegexp,
    offline: true,
    trustedRoot: loadTrustedRoot(o.trustedRoot),
    caRoots: o.caRoots ? await readText(o.caRoots, '--ca-roots') : undefined,
    caIntermediates: o.caIntermediates ? await readText(o.caIntermediates, '--ca-intermediates') : undefined,
    requireTlog: o.requireTlog ? true : undefined,
    ignoreTlog: Boolean(o.insecureIgnoreTlog),
    matchReference: o.matchReference,
    keyless,
  };
}

function checksPerformed(keyless: boolean, tlog: boolean, what = 'signatures'): string {
  const lines = [
    `The following checks were performed on each of these ${what}:`,
    '  - The cosign claims were validated',
  ];
  if (tlog) lines.push('  - Existence of the claims in the transparency log was verified offline');
  lines.push(
    keyless
      ? '  - The code-signing certificate was verified using trusted certificate authority certificates'
      : `  - The signatures were verified against the specified public key`,
  );
  return lines.join('\n') + '\n';
}

export function register(ctx: CliContext): void {
  const p = ctx.program;

  const gen = p
    .command('generate-key-pair')
    .description(
      'write an encrypted cosign.key and cosign.pub (ECDSA P-256, cosign format; password from COSIGN_PASSWORD)',
    )
    .option('--output-key-prefix <prefix>', 'name of the files to write (PREFIX.key, PREFIX.pub)', 'cosign');
  gen.action(async (o: { outputKeyPrefix: string }) => {
    const password = process.env.COSIGN_PASSWORD;
    if (password === undefined)
      return gen.error(
        'error: set COSIGN_PASSWORD to the password for the private key (an empty value for none)',
        {
          exitCode: 2,
          code: 'bulwark.usage',
        },
      );
    const keyFile = `${o.outputKeyPrefix}.key`;
    const pubFile = `${o.outputKeyPrefix}.pub`;
    for (const f of [keyFile, pubFile])
      if (existsSync(f))
        throw new BulwarkError('USAGE', `${f} already exists; remove it or pick another --output-key-prefix`);
    const { generateKeyPair } = await loadSign();
    const kp = generateKeyPair(password);
    await writeFile(keyFile, kp.privatePem, { mode: 0o600, flag: 'wx' });
    await writeFile(pubFile, kp.publicPem, { mode: 0o644, flag: 'wx' });
    process.stderr.write(`Private key written to ${keyFile}\nPublic key written to ${pubFile}\n`);
  });

  const sign = p
    .command('sign')
    .description('sign an image in a registry with a key (cosign legacy layout: tag sha256-<hex>.sig)')
    .argument('<image>', 'host[:port]/repo[:tag|@digest]')
    .requiredOption(
      '--key <file>',
      'private key (cosign.key, password from COSIGN_PASSWORD; or an unencrypted PEM key)',
    )
    .option(
      '-a, --annotations <key=value>',
      'extra claim in the payload\'s "optional" section; repeatable',
      collect,
    )
    .option('-y, --yes', 'accepted for cosign compatibility (no prompts are ever shown)')
    .option(
      '--bundle',
      'also attach a Sigstore bundle v0.3 as an OCI referrer (tag sha256-<hex> where the registry has no referrers API)',
    );
  addTargetOptions(sign);
  sign.action(
    async (
      image: string,
      o: TargetCliOptions & { key: string; annotations?: string[]; bundle?: boolean },
    ) => {
      const { t, registry } = await registryOpts(ctx, sign, o);
      let ann: Record<string, string>;
      let key;
      try {
        ann = annotations(o.annotations);
        key = await privateKey(o.key);
      } catch (e) {
        return usage(sign, e);
      }
      const disarm = armTimeout(t.timeoutMs, image);
      try {
        const s = await loadSign();
        const r = await s.signImage(image, { ...registry, key, annotations: ann });
        const { parseImageReference } = await import('../image/index.js');
        const ref = parseImageReference(image);
        process.stderr.write(`Pushing signature to: ${ref.registry}/${ref.repository}:${r.tag}\n`);
        if (o.bundle) {
          const b = await s.attachBundle(ref, {
            ...registry,
            key,
            digest: r.digest,
            name: s.dockerReference(ref),
          });
          process.stderr.write(
            `Pushing bundle to: ${ref.registry}/${ref.repository}@${b.manifestDigest}${b.fallbackTag ? ` (no referrers API: listed in tag ${b.fallbackTag})` : ''}\n`,
          );
        }
      } finally {
        disarm();
      }
    },
  );

  const verify = addVerifyOptions(
    p
      .command('verify')
      .description(
        'verify the cosign signatures of an image (registry, or dir:PATH in containers/image layout)',
      )
      .argument('<image>', 'host[:port]/repo[:tag|@digest] or dir:PATH'),
  );
  addTargetOptions(verify);
  verify.action(async (image: string, o: VerifyCli & { outputFile?: string }) => {
    const { t, registry } = await registryOpts(ctx, verify, o);
    let vo;
    try {
      vo = await verifyOptions(o);
    } catch (e) {
      return usage(verify, e);
    }
    const out = await openOutput(o.outputFile);
    const disarm = armTimeout(t.timeoutMs, image);
    try {
      const { verifyImageSignatures } = await loadSign();
      const res = await verifyImageSignatures(image, { ...registry, ...vo });
      if (!res.verified) {
        await out.abort();
        process.stderr.write(`bulwark: no matching signatures: ${res.errors.join('; ')}\n`);
        ctx.exitCode = 1;
        return;
      }
      const good = res.signatures.filter((s) => s.verified);
      const payloads = good.map((s) => {
        if (!s.payload)
          // a Sigstore bundle: printed as cosign v3 prints it (the statement's type in critical.type)
          return {
            critical: {
              identity: { 'docker-reference': image },
              image: { 'docker-manifest-digest': res.digest },
              type: (s.statement as { predicateType?: string } | undefined)?.predicateType,
            },
            optional:
              s.signer?.kind === 'certificate'
                ? { Issuer: s.signer.issuer, Subject: s.signer.subject.join(', ') }
                : {},
          };
        const optional: Record<string, unknown> = { ...(s.payload!.optional ?? {}) };
        if (s.signer?.kind === 'certificate') {
          optional.Issuer = s.signer.issuer;
          optional.Subject = s.signer.subject.join(', ');
        }
        if (s.tlog)
          optional.Bundle = {
            logIndex: s.tlog.logIndex,
            logID: s.tlog.logID,
            integratedTime: s.tlog.integratedTime,
          };
        return { ...s.payload!, optional: Object.keys(optional).length ? optional : null };
      });
      process.stderr.write(
        `\nVerification for ${image} --\n${checksPerformed(
          vo.keyless,
          good.some((s) => s.tlog),
        )}\n`,
      );
      out.stream.write(JSON.stringify(payloads) + '\n');
      await out.close();
    } catch (e) {
      await out.abort();
      throw e;
    } finally {
      disarm();
    }
  });

  const attest = p
    .command('attest')
    .description('attach a signed in-toto attestation (DSSE) to an image: tag sha256-<hex>.att')
    .argument('<image>', 'host[:port]/repo[:tag|@digest]')
    .requiredOption('--key <file>', 'private key (cosign.key, password from COSIGN_PASSWORD)')
    .requiredOption('--predicate <file>', 'the predicate document (JSON): SBOM, scan report, VEX…')
    .addOption(
      new Option(
        '--type <type>',
        'predicate type: spdx, spdxjson, cyclonedx, vuln, openvex, slsaprovenance, custom, or a URI',
      ).default('custom'),
    )
    .option('--replace', 'replace earlier attestations of the same predicate type')
    .option(
      '--bundle',
      'also attach the attestation as a Sigstore bundle v0.3 referrer (tag sha256-<hex> without a referrers API)',
    )
    .option('-y, --yes', 'accepted for cosign compatibility');
  addTargetOptions(attest);
  attest.action(
    async (
      image: string,
      o: TargetCliOptions & {
        key: string;
        predicate: string;
        type: string;
        replace?: boolean;
        bundle?: boolean;
      },
    ) => {
      const { t, registry } = await registryOpts(ctx, attest, o);
      let key;
      let predicate: unknown;
      try {
        const { predicateTypeFor } = await loadSign();
        predicateTypeFor(o.type);
        key = await privateKey(o.key);
        const text = await readText(o.predicate, '--predicate');
        try {
          predicate = JSON.parse(text);
        } catch (e) {
          throw new BulwarkError(
            'USAGE',
            `--predicate ${o.predicate}: not valid JSON (${(e as Error).message})`,
          );
        }
      } catch (e) {
        return usage(attest, e);
      }
      const disarm = armTimeout(t.timeoutMs, image);
      try {
        const { attestImage } = await loadSign();
        const r = await attestImage(image, {
          ...registry,
          key,
          type: o.type,
          predicate,
          replace: o.replace,
          bundle: o.bundle,
        });
        const { parseImageReference } = await import('../image/index.js');
        const ref = parseImageReference(image);
        process.stderr.write(`Pushing attestation to: ${ref.registry}/${ref.repository}:${r.tag}\n`);
        if (r.bundle)
          process.stderr.write(
            `Pushing bundle to: ${ref.registry}/${ref.repository}@${r.bundle.manifestDigest}${r.bundle.fallbackTag ? ` (no referrers API: listed in tag ${r.bundle.fallbackTag})` : ''}\n`,
          );
      } finally {
        disarm();
      }
    },
  );

  const va = addVerifyOptions(
    p
      .command('verify-attestation')
      .description("verify an image's attestations: signature, predicate type, subject digest, age of scans")
      .argument('<image>', 'host[:port]/repo[:tag|@digest]')
      .option(
        '--type <type>',
        'predicate type the attestation must have (spdx, cyclonedx, vuln, openvex… or a URI)',
      )
      .option(
        '--max-age <duration>',
        'scan attestations (vuln, cyclonedx, spdx) must be newer than this, e.g. 24h',
      ),
  );
  addTargetOptions(va);
  va.action(async (image: string, o: VerifyCli & { type?: string; maxAge?: string; outputFile?: string }) => {
    const { t, registry } = await registryOpts(ctx, va, o);
    let vo;
    let maxAgeMs: number | undefined;
    try {
      vo = await verifyOptions(o);
      if (o.type !== undefined) (await loadSign()).predicateTypeFor(o.type);
      if (o.maxAge !== undefined) {
        try {
          maxAgeMs = parseDuration(o.maxAge);
        } catch {
          throw new BulwarkError(
            'USAGE',
            `invalid --max-age "${o.maxAge}" (expected a duration such as 24h or 90m)`,
          );
        }
      }
    } catch (e) {
      return usage(va, e);
    }
    const out = await openOutput(o.outputFile);
    const disarm = armTimeout(t.timeoutMs, image);
    try {
      const { verifyImageAttestations } = await loadSign();
      const res = await verifyImageAttestations(image, { ...registry, ...vo, type: o.type, maxAgeMs });
      if (!res.verified) {
        await out.abort();
        process.stderr.write(`bulwark: no matching attestations: ${res.errors.join('; ')}\n`);
        ctx.exitCode = 1;
        return;
      }
      const good = res.attestations.filter((a) => a.verified);
      process.stderr.write(
        `\nVerification for ${image} --\n${checksPerformed(
          vo.keyless,
          good.some((a) => a.tlog),
          'attestations',
        )}\n`,
      );
      for (const a of good) out.stream.write(JSON.stringify(a.envelope) + '\n');
      await out.close();
    } catch (e) {
      await out.abort();
      throw e;
    } finally {
      disarm();
    }
  });
}
