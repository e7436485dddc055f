/**
 * Attestations as cosign writes them: an in-toto statement (subject: the image digest) wrapped in
 * a DSSE envelope signed over its PAE, one layer per attestation in the `sha256-<hex>.att`
 * manifest (media type application/vnd.dsse.envelope.v1+json, annotations predicateType and an
 * empty dev.cosignproject.cosign/signature). Verification checks the envelope signature (key or
 * certificate, SET when present), the predicate type, the subject digest, and for scan
 * attestations their age.
 */
import { BulwarkError, isBulwarkError } from '../core/errors.js';
import {
  parseImageReference,
  RegistryClient,
  type ImageReference,
  type RegistryOptions,
} from '../image/index.js';
import { buildPolicy, type VerifyOptions } from './policy.js';
import { sha256, type LayerDescriptor } from './layout.js';
import {
  appendAttachment,
  dockerReference,
  resolveImageDigest,
  signBytes,
  type SignOptions,
  type SignResult,
} from './sign.js';
import { attachBundle, readBundles } from './bundle.js';
import { attachmentTag, getAttachmentManifest, readAttachmentLayers } from './sources.js';
import { ANNOTATION, verifySignedBytes, type SignatureLayer, type SignatureResult } from './verify.js';

export const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const IN_TOTO_STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';

/** cosign's --type names and the predicate type URIs they stand for. */
export const PREDICATE_TYPES: Record<string, string> = {
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
  openvex: 'https://openvex.dev/ns',
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  link: 'https://in-toto.io/Link/v1',
  custom: 'https://cosign.sigstore.dev/attestation/v1',
};

export function predicateTypeFor(type: string): string {
  if (PREDICATE_TYPES[type]) return PREDICATE_TYPES[type]!;
  if (/^https?:\/\//.test(type)) return type;
  throw new BulwarkError(
    'USAGE',
    `unknown attestation type "${type}" (one of ${Object.keys(PREDICATE_TYPES).join(', ')}, or a predicate type URI)`,
  );
}

/** DSSE pre-authentication encoding. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `),
    payload,
  ]);
}

export interface Envelope {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

/** The vuln predicate cosign expects; a bare scan report is wrapped in it (result = the report). */
export function vulnPredicate(report: unknown, now = new Date()): unknown {
  const r = report as { scanner?: unknown; metadata?: { scanFinishedOn?: unknown } } | null;
  if (r && typeof r === 'object' && r.scanner && r.metadata?.scanFinishedOn) return report;
  const t = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    invocation: { parameters: null, uri: '', event_id: '', 'builder.id': '' },
    scanner: {
      uri: 'https://github.com/bulwark-security/bulwark',
      version: '',
      db: { uri: '', version: '' },
      result: report,
    },
    metadata: { scanStartedOn: t, scanFinishedOn: t },
  };
}

export interface AttestOptions extends SignOptions {
  /** cosign --type (spdx, cyclonedx, vuln, openvex…) or a predicate type URI. */
  type: string;
  /** The predicate document (parsed JSON). */
  predicate: unknown;
  /** Replace earlier attestations of the same predicate type (cosign --replace). */
  replace?: boolean;
  /** Also attach the statement as a Sigstore bundle referrer (cosign v3's layout). */
  bundle?: boolean;
}

/** Attests an image (cosign attest --key K --type T --predicate FILE --tlog-upload=false). */
export async function attestImage(ref: string | ImageReference, opts: AttestOptions): Promise<SignResult> {
  const r = typeof ref === 'string' ? parseImageReference(ref) : ref;
  const predicateType = predicateTypeFor(opts.type);
  const digest = await resolveImageDigest(r, opts);
  const predicate = predicateType === PREDICATE_TYPES.vuln ? vulnPredicate(opts.predicate) : opts.predicate;
  const statement = {
    _type: IN_TOTO_STATEMENT_V01,
    predicateType,
    subject: [{ name: dockerReference(r), digest: { sha256: digest.replace(/^sha256:/, '') } }],
    predicate,
  };
  const body = Buffer.from(JSON.stringify(statement));
  const sig = signBytes(opts.key, pae(IN_TOTO_PAYLOAD_TYPE, body));
  const env: Envelope = {
    payloadType: IN_TOTO_PAYLOAD_TYPE,
    payload: body.toString('base64'),
    signatures: [{ keyid: '', sig: sig.toString('base64') }],
  };
  const envBytes = Buffer.from(JSON.stringify(env));
  const layer: LayerDescriptor = {
    mediaType: DSSE_MEDIA_TYPE,
    size: envBytes.length,
    digest: sha256(envBytes),
    annotations: { [ANNOTATION.signature]: '', [ANNOTATION.predicateType]: predicateType },
  };
  const tag = attachmentTag(digest, 'att');
  const manifestDigest = await appendAttachment(r, tag, envBytes, layer, opts, {
    replace: opts.replace ? (l) => l.annotations?.[ANNOTATION.predicateType] === predicateType : undefined,
  });
  const out: SignResult = { digest, tag, manifestDigest, payload: envBytes, layer };
  if (opts.bundle)
    out.bundle = await attachBundle(r, { ...opts, digest, name: dockerReference(r), statement });
  return out;
}

export interface AttestationResult extends SignatureResult {
  predicateType?: string;
  /** The decoded in-toto statement. */
  statement?: {
    _type?: string;
    predicateType?: string;
    subject?: { name?: string; digest?: Record<string, string> }[];
    predicate?: unknown;
  };
  envelope?: Envelope;
}

export interface VerifyAttestationOptions extends VerifyOptions {
  /** Expected type (cosign --type name or URI); default: any. */
  type?: string;
  /** Also read Sigstore bundle referrers (default true). */
  bundles?: boolean;
  /** For vuln attestations: the scan must have finished within this many ms. */
  maxAgeMs?: number;
  now?: Date;
}

/** When a scan attestation says the scan finished (vuln: metadata.scanFinishedOn; CycloneDX: metadata.timestamp). */
export function scanTime(predicateType: string | undefined, predicate: unknown): Date | undefined {
  const p = predicate as {
    metadata?: { scanFinishedOn?: string; timestamp?: string };
    creationInfo?: { created?: string };
  } | null;
  const s =
    predicateType === PREDICATE_TYPES.vuln
      ? p?.metadata?.scanFinishedOn
      : predicateType === PREDICATE_TYPES.cyclonedx
        ? p?.metadata?.timestamp
        : predicateType === PREDICATE_TYPES.spdx
          ? p?.creationInfo?.created
          : undefined;
  if (!s) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Verifies one attestation layer. */
export function verifyAttestationLayer(
  layer: SignatureLayer,
  opts: VerifyAttestationOptions,
  digest: string,
): AttestationResult {
  const res: AttestationResult = { verified: false, source: layer.source, errors: [] };
  if (layer.mediaType !== DSSE_MEDIA_TYPE) {
    res.errors.push(`not a DSSE attestation (media type ${layer.mediaType || '(none)'})`);
    return res;
  }
  let env: Envelope;
  try {
    env = JSON.parse(layer.payload.toString('utf8')) as Envelope;
  } catch {
    res.errors.push('DSSE envelope is not valid JSON');
    return res;
  }
  if (typeof env?.payload !== 'string' || !Array.isArray(env.signatures) || !env.signatures.length) {
    res.errors.push('DSSE envelope has no payload or no signatures');
    return res;
  }
  res.envelope = env;
  const body = Buffer.from(env.payload, 'base64');
  const policy = buildPolicy(opts, digest);
  const signed = pae(env.payloadType ?? '', body);
  let best: ReturnType<typeof verifySignedBytes> | undefined;
  for (const s of env.signatures) {
    const v = verifySignedBytes(signed, Buffer.from(s.sig ?? '', 'base64'), layer.annotations, policy, body);
    if (!v.errors.length) {
      best = v;
      break;
    }
    best ??= v;
  }
  res.signer = best!.signer;
  res.tlog = best!.tlog;
  res.errors.push(...best!.errors);
  if (res.errors.length) return res;
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    res.errors.push(`DSSE payload type is ${env.payloadType}, not ${IN_TOTO_PAYLOAD_TYPE}`);
    return res;
  }
  try {
    res.statement = JSON.parse(body.toString('utf8')) as AttestationResult['statement'];
  } catch {
    res.errors.push('in-toto statement is not valid JSON');
    return res;
  }
  const st = res.statement!;
  res.predicateType = st.predicateType;
  if (opts.type !== undefined) {
    const want = predicateTypeFor(opts.type);
    if (st.predicateType !== want) res.errors.push(`predicate type is ${st.predicateType}, not ${want}`);
  }
  const hex = digest.replace(/^sha256:/, '');
  if (!(st.subject ?? []).some((s) => s?.digest?.sha256 === hex))
    res.errors.push(
      `statement subject digests (${(st.subject ?? []).map((s) => s?.digest?.sha256).join(', ') || 'none'}) do not include the image digest ${digest}`,
    );
  if (opts.maxAgeMs !== undefined) {
    const t = scanTime(st.predicateType, st.predicate);
    const now = opts.now ?? new Date();
    if (!t)
      res.errors.push(
        'the attestation has no scan time (metadata.scanFinishedOn / metadata.timestamp) to check --max-age against',
      );
    else if (now.getTime() - t.getTime() > opts.maxAgeMs)
      res.errors.push(
        `the attestation is too old: made ${t.toISOString()}, more than ${Math.round(opts.maxAgeMs / 1000)} s ago`,
      );
  }
  res.verified = res.errors.length === 0;
  return res;
}

export interface VerifyAttestationsResult {
  digest: string;
  verified: boolean;
  attestations: AttestationResult[];
  errors: string[];
}

/** Verifies an image's attestations (cosign verify-attestation). */
export async function verifyImageAttestations(
  ref: string | ImageReference,
  opts: VerifyAttestationOptions & RegistryOptions,
): Promise<VerifyAttestationsResult> {
  const r = typeof ref === 'string' ? parseImageReference(ref) : ref;
  const client = new RegistryClient(r.registry, opts);
  try {
    const digest = (await client.getManifest(r.repository, r.digest ?? r.tag!)).digest;
    buildPolicy(opts, digest);
    if (opts.type !== undefined) predicateTypeFor(opts.type);
    const tag = attachmentTag(digest, 'att');
    const m = await getAttachmentManifest(client, r.repository, tag);
    const layers = m ? await readAttachmentLayers(client, r.repository, m) : [];
    const results: AttestationResult[] = layers.map((l) => {
      try {
        return verifyAttestationLayer(l, opts, digest);
      } catch (e) {
        if (isBulwarkError(e) && e.code !== 'USAGE')
          return { verified: false, source: l.source, errors: [e.message] };
        throw e;
      }
    });
    if (opts.bundles !== false) {
      const b = await readBundles(r, digest, opts, 'attestations');
      for (const l of b.layers) {
        const via = `via ${b.via === 'tag' ? `tag ${attachmentTag(digest, '')}` : 'referrers API'}`;
        if (l.mediaType === 'invalid')
          results.push({ verified: false, source: l.source, errors: [l.source ?? 'unreadable bundle'] });
        else results.push({ ...verifyAttestationLayer(l, opts, digest), source: `${l.source} (${via})` });
      }
    }
    const verified = results.some((a) => a.verified);
    const errors: string[] = [];
    if (!results.length)
      errors.push(`no attestations found for ${r.registry}/${r.repository}@${digest} (no tag ${tag})`);
    else if (!verified)
      results.forEach((a, i) =>
        errors.push(`attestation ${i + 1}${a.source ? ` (${a.source})` : ''}: ${a.errors.join('; ')}`),
      );
    return { digest, verified, attestations: results, errors };
  } finally {
    await client.close();
  }
}
