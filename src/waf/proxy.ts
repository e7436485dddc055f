/**
 * The WAF as a reverse proxy (a sidecar in front of one service): node:http with keep-alive on
 * both sides, chunked or sized request bodies read up to a limit, every request evaluated through
 * phases 1-5, an upstream timeout, and one JSON log line per request (rule ids, score, action,
 * never bodies). Malformed requests get a defined answer: 400 (bad request line, target, Host,
 * chunking, header syntax), 413 (body over the limit), 414 (target too long), 431 (header section
 * too large), 502/504 (upstream failure / timeout).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Writable } from 'node:stream';
import type { Waf } from './index.js';
import type { Transaction, WafResponse } from './engine.js';
import { checkHost, checkTarget } from './http1.js';
import type { RuntimeEvent } from '../agent/shipper.js';

export interface ProxyOptions {
  waf: Waf;
  upstream: string;
  /** where JSON log lines go (one per request) */
  log?: Writable;
  /** request body limit in bytes (default: the rule set's SecRequestBodyLimit) */
  bodyLimit?: number;
  /** maximum request header section in bytes (default 16 KiB, answered with 431) */
  maxHeaderSize?: number;
  maxUriBytes?: number;
  /** upstream response timeout in ms (default 30 s, answered with 504) */
  upstreamTimeoutMs?: number;
  /** a request header whose value is copied into the log line, so a harness can bracket requests */
  markerHeader?: string;
  /** called with the log record of every request blocked (or, in detection mode, that would be) */
  onBlock?: (rec: WafLogRecord) => void;
}

/** The JSON log line of one request. */
export interface WafLogRecord {
  time: string;
  id?: string;
  client?: string;
  method?: string;
  uri: string;
  status: number;
  action: 'block' | 'detect' | 'pass';
  score: number;
  rules: { id: number; msg?: string; data?: string; severity?: string | number }[];
  ms: number;
  marker?: string;
  [extra: string]: unknown;
}

export interface WafProxy {
  server: http.Server;
  listen(host: string, port: number): Promise<AddressInfo>;
  close(): Promise<void>;
}

const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);

function pairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

export function createWafProxy(o: ProxyOptions): WafProxy {
  const up = new URL(o.upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });
  const bodyLimit = o.bodyLimit ?? o.waf.rules.requestBodyLimit;
  const maxUri = o.maxUriBytes ?? 8192;
  const timeout = o.upstreamTimeoutMs ?? 30000;
  const marker = o.markerHeader?.toLowerCase();
  const detect = o.waf.rules.engine !== 'On';

  const writeLog = (rec: Record<string, unknown>) => {
    if (o.log) o.log.write(JSON.stringify(rec) + '\n');
  };

  const logTx = (
    req: http.IncomingMessage,
    t0: number,
    status: number,
    tx: Transaction | null,
    extra: Record<string, unknown> = {},
  ) => {
    if (!o.log && !o.onBlock) return;
    const rules = tx
      ? tx.matches
          .filter((m) => m.logged)
          .map((m) => ({
            id: m.id,
            msg: m.msg,
            data: m.data ? m.data.slice(0, 120) : undefined,
            severity: m.severity,
          }))
      : [];
    const score = tx ? tx.inboundScore() : 0;
    const blocked = tx?.intervention != null;
    const wouldBlock = rules.some((r) => r.id === 949110 || r.id === 959100);
    const rec: WafLogRecord = {
      time: new Date().toISOString(),
      id: tx?.uniqueId,
      client: req.socket.remoteAddress,
      method: req.method,
      uri: (req.url ?? '').slice(0, 512),
      status,
      action: blocked ? 'block' : detect && wouldBlock ? 'detect' : 'pass',
      score,
      rules,
      ms: Date.now() - t0,
      ...(marker && typeof req.headers[marker] === 'string' ? { marker: req.headers[marker] } : {}),
      ...extra,
    };
    writeLog(rec);
    if (rec.action !== 'pass') o.onBlock?.(rec);
  };

  const deny = (res: http.ServerResponse, status: number, close = false) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = `${status} ${http.STATUS_CODES[status] ?? ''}\n`;
    res.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      ...(close ? { connection: 'close' } : {}),
    });
    res.end(body);
  };

  const server = http.createServer(
    {
      maxHeaderSize: o.maxHeaderSize ?? 16384,
      keepAlive: true,
      keepAliveTimeout: 5000,
      requestTimeout: 60000,
      headersTimeout: 20000,
      insecureHTTPParser: false,
    },
    (req, res) => {
      const t0 = Date.now();
      const url = req.url ?? '/';
      const proto = `HTTP/${req.httpVersion}`;
      const headers = pairs(req.rawHeaders);
      const bad =
        url.length > maxUri
          ? 'request target too long'
          : (checkTarget(req.method ?? 'GET', url) ??
            checkHost(
              proto,
              headers.filter(([k]) => k.toLowerCase() === 'host').map(([, v]) => v),
            ));
      if (bad) {
        const status = url.length > maxUri ? 414 : 400;
        req.resume();
        deny(res, status, true);
        logTx(req, t0, status, null, { error: bad });
        return;
      }
      const tx = o.waf.transaction({
        method: req.method ?? 'GET',
        uri: url,
        protocol: proto,
        headers,
        remoteAddr: req.socket.remoteAddress?.replace(/^::ffff:/, ''),
        remotePort: req.socket.remotePort,
        serverPort: req.socket.localPort,
      });
      let iv = tx.processRequestHeaders();
      if (iv) {
        req.resume();
        deny(res, iv.status, true);
        tx.processLogging();
        logTx(req, t0, iv.status, tx);
        return;
      }
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > bodyLimit) {
        req.resume();
        deny(res, 413, true);
        logTx(req, t0, 413, tx, { error: 'request body over the limit' });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      req.on('data', (c: Buffer) => {
        if (over) return;
        size += c.length;
        if (size > bodyLimit) {
          over = true;
          chunks.length = 0;
          deny(res, 413, true);
          logTx(req, t0, 413, tx, { error: 'request body over the limit' });
          return;
        }
        chunks.push(c);
      });
      req.on('error', () => res.destroy());
      req.on('end', () => {
        if (over) return;
        const body = Buffer.concat(chunks);
        tx.req.body = body.toString('latin1');
        iv = tx.processRequestBody();
        if (iv) {
          deny(res, iv.status);
          tx.processLogging();
          logTx(req, t0, iv.status, tx);
          return;
        }
        forward(req, res, tx, body, t0);
      });
    },
  );

  const forward = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    tx: Transaction,
    body: Buffer,
    t0: number,
  ) => {
    const h: http.OutgoingHttpHeaders = {};
    const connTokens = String(req.headers.connection ?? '')
      .toLowerCase()
      .split(',')
      .map((s) => s.trim());
    for (const [k, v] of tx.req.headers) {
      const l = k.toLowerCase();
      if (HOP.has(l) || connTokens.includes(l) || l === 'content-length') continue;
      const cur = h[l];
      h[l] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [String(cur), v];
    }
    if (body.length || req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH')
      h['content-length'] = body.length;
    const xff = req.headers['x-forwarded-for'];
    h['x-forwarded-for'] = (xff ? `${String(xff)}, ` : '') + (req.socket.remoteAddress ?? '');
    const preq = http.request(
      {
        protocol: up.protocol,
        hostname: up.hostname,
        port: up.port || 80,
        method: req.method,
        path: (up.pathname === '/' ? '' : up.pathname.replace(/\/$/, '')) + (req.url ?? '/'),
        headers: h,
        agent,
        timeout,
      },
      (pres) => {
        const resp: WafResponse = {
          status: pres.statusCode ?? 502,
          protocol: `HTTP/${pres.httpVersion}`,
          headers: pairs(pres.rawHeaders),
        };
        let iv = tx.processResponseHeaders(resp);
        if (iv) {
          pres.resume();
          deny(res, iv.status);
          tx.processLogging();
          logTx(req, t0, iv.status, tx);
          return;
        }
        const outHeaders: [string, string][] = resp.headers.filter(([k]) => !HOP.has(k.toLowerCase()));
        if (!tx.wantsResponseBody()) {
          res.writeHead(resp.status, outHeaders.flat());
          pres.pipe(res);
          pres.on('end', () => {
            tx.processLogging();
            logTx(req, t0, resp.status, tx);
          });
          pres.on('error', () => res.destroy());
          return;
        }
        // the body is inspected up to SecResponseBodyLimit (ProcessPartial): past it, what was
        // held is inspected, then sent, and the rest streams through; memory stays bounded
        const limit = o.waf.rules.responseBodyLimit;
        const parts: Buffer[] = [];
        let n = 0;
        let streaming = false;
        const inspect = (final: boolean): boolean => {
          const held = Buffer.concat(parts);
          parts.length = 0;
          iv = tx.processResponseBody(held.subarray(0, limit).toString('latin1'));
          tx.processLogging();
          if (iv) {
            pres.destroy();
            deny(res, iv.status);
            logTx(req, t0, iv.status, tx);
            return false;
          }
          const hs = final ? outHeaders.filter(([k]) => k.toLowerCase() !== 'content-length') : outHeaders;
          if (final) hs.push(['content-length', String(held.length)]);
          res.writeHead(resp.status, hs.flat());
          if (final) {
            res.end(held);
            logTx(req, t0, resp.status, tx);
          } else res.write(held);
          return true;
        };
        pres.on('data', (c: Buffer) => {
          if (streaming) {
            if (!res.write(c)) {
              pres.pause();
              res.once('drain', () => pres.resume());
            }
            return;
          }
          n += c.length;
          parts.push(c);
          if (n > limit) {
            streaming = true;
            if (!inspect(false)) streaming = false;
          }
        });
        pres.on('error', () => res.destroy());
        pres.on('end', () => {
          if (streaming) {
            res.end();
            logTx(req, t0, resp.status, tx);
          } else if (!res.headersSent) inspect(true);
        });
      },
    );
    preq.on('timeout', () => {
      preq.destroy(new Error('upstream timeout'));
    });
    preq.on('error', (e) => {
      const status = e.message === 'upstream timeout' ? 504 : 502;
      deny(res, status);
      tx.processLogging();
      logTx(req, t0, status, tx, { error: e.message });
    });
    preq.end(body);
  };

  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const code = err.code ?? '';
    const status =
      code === 'HPE_HEADER_OVERFLOW'
        ? 431
        : code === 'HPE_REQUEST_TIMEOUT' || code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? 408
          : 400;
    writeLog({
      time: new Date().toISOString(),
      client: (socket as Socket).remoteAddress,
      status,
      action: 'reject',
      error: code || err.message,
    });
    if (socket.writable) {
      const body = `${status} ${http.STATUS_CODES[status]}\n`;
      socket.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
    } else socket.destroy();
  });

  return {
    server,
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        agent.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * A blocked (or detected) request as a console runtime event (kind 'waf'): the summary only — the
 * method, the path, the names of the query parameters, the rules and the score — never the query
 * values, the body or the matched data, which may hold credentials.
 */
export function wafConsoleEvent(
  rec: WafLogRecord,
  id: string,
  where: { node: string; service: string; cluster?: string },
): RuntimeEvent {
  const [path = '', query = ''] = rec.uri.split('?', 2);
  const params = [...new URLSearchParams(query).keys()].slice(0, 50);
  const attack = rec.rules.filter((r) => r.id < 949000 || r.id >= 960000);
  const top = attack[0] ?? rec.rules[0];
  const verb = rec.action === 'block' ? 'blocked' : 'detected (not blocked)';
  return {
    id,
    kind: 'waf',
    time: rec.time,
    node: where.node,
    ...(where.cluster ? { cluster: where.cluster } : {}),
    rule: top?.msg ? `WAF: ${top.msg}` : `WAF: request ${verb}`,
    priority: rec.action === 'block' ? 'Warning' : 'Notice',
    source: 'waf',
    output: `${rec.status} ${rec.method ?? ''} ${path} ${verb} on ${where.service}: ${attack
      .slice(0, 5)
      .map((r) => r.id)
      .join(', ')} (anomaly score ${rec.score}) from ${rec.client ?? '?'}`,
    output_fields: {
      'http.method': rec.method ?? null,
      'http.path': path.slice(0, 512),
      'http.status': rec.status,
      'waf.score': rec.score,
      'waf.action': rec.action,
      'waf.rules': attack.map((r) => r.id).join(','),
      'net.client': rec.client ?? null,
    },
    tags: ['waf', ...new Set(attack.map((r) => `crs-${String(r.id).slice(0, 3)}`))],
    container: { id: '', name: where.service },
    waf: {
      service: where.service,
      requestId: rec.id,
      method: rec.method,
      path: path.slice(0, 512),
      queryParameters: params,
      status: rec.status,
      action: rec.action,
      score: rec.score,
      rules: rec.rules.map((r) => ({ id: r.id, msg: r.msg, severity: r.severity })),
      client: rec.client,
      ms: rec.ms,
    },
  };
}
