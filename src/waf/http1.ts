/**
 * A strict HTTP/1.x request reader over raw bytes (latin1 strings): request line, header fields,
 * Content-Length or chunked bodies, with limits. It gives every malformed request a defined
 * answer (400, 413, 414, 431, 501, 505) instead of guessing, and is shared by the regression
 * runner's in-process mode and by tests of the proxy's behaviour.
 */
import type { WafRequest } from './engine.js';

export interface RawLimits {
  maxHeaderBytes: number;
  maxHeaders: number;
  maxUriBytes: number;
  maxBodyBytes: number;
}

export const DEFAULT_LIMITS: RawLimits = {
  maxHeaderBytes: 65536,
  maxHeaders: 200,
  maxUriBytes: 16384,
  maxBodyBytes: 13107200,
};

export type RawParse = { ok: true; req: WafRequest } | { ok: false; status: number; reason: string };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function parseRawRequest(raw: string, limits: RawLimits = DEFAULT_LIMITS): RawParse {
  const fail = (status: number, reason: string): RawParse => ({ ok: false, status, reason });
  let he = raw.indexOf('\r\n\r\n');
  let sep = 4;
  const lf = raw.indexOf('\n\n');
  if (lf >= 0 && (he < 0 || lf < he)) {
    he = lf;
    sep = 2;
  }
  if (he < 0) {
    if (raw.length > limits.maxHeaderBytes) return fail(431, 'header section too large');
    return fail(400, 'incomplete header section');
  }
  if (he > limits.maxHeaderBytes) return fail(431, 'header section too large');
  const lines = raw.slice(0, he).split(/\r?\n/);
  const rl = lines[0]!;
  const m = /^([^ ]+) ([^ ]+)(?: (HTTP\/\d+(?:\.\d+)?))?$/.exec(rl);
  if (!m) return fail(400, 'malformed request line');
  const [, method, uri, proto] = m as unknown as [string, string, string, string | undefined];
  if (!TOKEN.test(method)) return fail(400, 'bad method');
  if (proto === undefined) return fail(400, 'HTTP/0.9 is not supported');
  if (!/^HTTP\/[1-9]\.\d$/.test(proto)) return fail(400, `malformed protocol ${proto}`);
  if (uri.length > limits.maxUriBytes) return fail(414, 'request target too long');
  const bad = checkTarget(method, uri);
  if (bad) return fail(400, bad);
  const headers: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^[ \t]/.test(l)) return fail(400, 'obsolete header line folding');
    const c = l.indexOf(':');
    if (c <= 0) return fail(400, 'malformed header field');
    const name = l.slice(0, c);
    if (!TOKEN.test(name)) return fail(400, 'bad header field name');
    const value = l.slice(c + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (value.includes('\r')) return fail(400, 'bare CR in a header field');
    headers.push([name, value]);
    if (headers.length > limits.maxHeaders) return fail(431, 'too many header fields');
  }
  const get = (n: string) => headers.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
  const badHost = checkHost(proto, get('host'));
  if (badHost) return fail(400, badHost);
  const te = get('transfer-encoding');
  const cl = get('content-length');
  const rest = raw.slice(he + sep);
  let body = '';
  if (te.length) {
    if (cl.length) return fail(400, 'both Transfer-Encoding and Content-Length');
    if (te.join(',').trim().toLowerCase() !== 'chunked') return fail(501, 'unsupported transfer coding');
    const d = decodeChunked(rest, limits.maxBodyBytes);
    if (typeof d === 'number') return fail(d, d === 413 ? 'body too large' : 'bad chunked encoding');
    body = d;
  } else if (cl.length) {
    if (new Set(cl).size !== 1 || !/^\d{1,15}$/.test(cl[0]!)) return fail(400, 'bad Content-Length');
    const n = Number(cl[0]);
    if (n > limits.maxBodyBytes) return fail(413, 'body too large');
    if (rest.length < n) return fail(400, 'body shorter than Content-Length');
    body = rest.slice(0, n);
  }
  return { ok: true, req: { method, uri, protocol: proto, headers, body } };
}

/** decodes a chunked body; returns an HTTP status on error */
export function decodeChunked(s: string, max: number): string | number {
  let i = 0;
  let out = '';
  for (;;) {
    const e = s.indexOf('\r\n', i);
    if (e < 0) return 400;
    const sizeLine = s.slice(i, e).split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeLine)) return 400;
    const n = parseInt(sizeLine, 16);
    i = e + 2;
    if (n === 0) {
      // trailers up to an empty line
      for (;;) {
        const t = s.indexOf('\r\n', i);
        if (t < 0) return 400;
        if (t === i) return out;
        i = t + 2;
      }
    }
    if (out.length + n > max) return 413;
    if (i + n + 2 > s.length) return 400;
    out += s.slice(i, i + n);
    if (s.slice(i + n, i + n + 2) !== '\r\n') return 400;
    i += n + 2;
  }
}

/** the request-target rules shared by the raw reader and the proxy: a reason when it is refused */
export function checkTarget(method: string, uri: string): string | null {
  if (method === 'CONNECT') return /^[^/?#@]+:\d{1,5}$/.test(uri) ? null : 'CONNECT needs host:port';
  if (!(
    uri.startsWith('/') ||
    /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(uri) ||
    (uri === '*' && method === 'OPTIONS')
  ))
    return 'malformed request target';
  if (uri.includes('#')) return 'fragment in request target';
  return null;
}

/** Host rules: one Host in HTTP/1.1, a plain host name or IP literal with an optional port */
export function checkHost(proto: string, host: string[]): string | null {
  if (proto === 'HTTP/1.1' && host.length !== 1) return 'HTTP/1.1 needs exactly one Host';
  if (host.length > 1) return 'more than one Host';
  if (
    host.length === 1 &&
    !(host[0] === '' && proto === 'HTTP/1.0') &&
    !/^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(host[0]!)
  )
    return 'malformed Host';
  return null;
}
