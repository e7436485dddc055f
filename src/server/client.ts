/**
 * Client side of the console API for CI: upload a scan report with an API token.
 */
import { Agent, request } from 'undici';
import { BulwarkError } from '../core/errors.js';
import type { ScanReport } from '../core/findings.js';

export interface UploadResult {
  scanId: number;
  imageId: number;
  imageName: string;
  digest: string;
  findings: number;
}

export interface UploadOptions {
  /** PEM CA certificate(s) to trust for an https console. */
  caCertPem?: string;
  timeoutMs?: number;
}

/**
 * POSTs a report to `${url}/api/scans` with `Authorization: Bearer token`. Errors name the console
 * URL and HTTP status, never the token.
 */
export async function uploadReport(
  url: string,
  token: string,
  report: ScanReport,
  opts: UploadOptions = {},
): Promise<UploadResult> {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new BulwarkError('USAGE', `--server: not a URL: ${url}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new BulwarkError('USAGE', `--server: expected an http(s) URL, got ${base.protocol}`);
  if (!token)
    throw new BulwarkError(
      'USAGE',
      '--token: an API token is needed to upload to the console (create one under Tokens)',
    );
  const endpoint = new URL('api/scans', base.href.endsWith('/') ? base.href : base.href + '/');
  const timeout = opts.timeoutMs ?? 120_000;
  const dispatcher = new Agent({
    connect: opts.caCertPem ? { ca: opts.caCertPem } : {},
    headersTimeout: timeout,
    bodyTimeout: timeout,
  });
  const where = `${endpoint.origin}${endpoint.pathname}`;
  try {
    let res;
    try {
      res = await request(endpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(report),
        dispatcher,
      });
    } catch (e) {
      throw new BulwarkError('NETWORK', `cannot upload the report to ${where}: ${(e as Error).message}`, {
        subject: where,
        cause: e,
      });
    }
    const text = await res.body.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (res.statusCode === 401)
      throw new BulwarkError('AUTH', `${where}: the API token was refused (HTTP 401)`, { subject: where });
    if (res.statusCode === 403)
      throw new BulwarkError(
        'FORBIDDEN',
        `${where}: the API token may not upload scans (needs the operator role; HTTP 403)`,
        { subject: where },
      );
    if (res.statusCode !== 201) {
      const msg =
        (body as { error?: { message?: string } } | undefined)?.error?.message ?? text.slice(0, 200);
      throw new BulwarkError('NETWORK', `${where}: upload failed with HTTP ${res.statusCode}: ${msg}`, {
        subject: where,
      });
    }
    return body as UploadResult;
  } finally {
    await dispatcher.close();
  }
}
