/**
 * The WAF reverse proxy in front of a real upstream on 127.0.0.1, with the CRS 4.29 rules of the
 * corpus at paranoia level 1: attacks are refused with 403, ordinary traffic (a GET, a 1.1 KB JSON
 * POST, a chunked upload) reaches the upstream intact over keep-alive connections, malformed
 * requests get defined answers, and each request leaves one JSON log line without bodies.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { CORPORA } from '../helpers/shared.js';
import { createWaf } from '../../src/waf/index.js';
import { createWafProxy, type WafProxy } from '../../src/waf/proxy.js';

const RULES = join(CORPORA, 'coreruleset', 'rules');

let upstream: http.Server;
let upPort = 0;
const seen: { method: string; url: string; body: string; headers: http.IncomingHttpHeaders }[] = [];
let proxy: WafProxy;
let port = 0;
let detect: WafProxy;
let detectPort = 0;
const lines: Record<string, unknown>[] = [];
const detectLines: Record<string, unknown>[] = [];
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function collect(into: Record<string, unknown>[]) {
  const s = new PassThrough();
  let buf = '';
  s.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      into.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
      buf = buf.slice(i + 1);
    }
  });
  return s;
}

before(async () => {
  upstream = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      seen.push({ method: req.method!, url: req.url!, body, headers: req.headers });
      if (req.url === '/slow') return; // never answers: the proxy's upstream timeout
      if (req.url === '/big') {
        // 2 MB of text, past SecResponseBodyLimit: inspected in part, then streamed through
        res.writeHead(200, { 'content-type': 'text/plain' });
        for (let i = 0; i < 2048; i++) res.write('x'.repeat(1023) + '\n');
        res.end();
        return;
      }
      if (req.url === '/leak') {
        const page =
          '<html><body><b>Warning</b>: Cannot modify header information - headers already sent in /var/www/shop/cart.php on line 12</body></html>';
        res.writeHead(200, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(page) });
        res.end(page);
        return;
      }
      const out = JSON.stringify({
        ok: true,
        method: req.method,
        url: req.url,
        bytes: Buffer.byteLength(body),
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  upPort = (upstream.address() as AddressInfo).port;
  const waf = createWaf({ rules: [RULES], paranoia: 1, mode: 'block' });
  proxy = createWafProxy({
    waf,
    upstream: `http://127.0.0.1:${upPort}`,
    log: collect(lines),
    bodyLimit: 64 * 1024,
    upstreamTimeoutMs: 400,
    markerHeader: 'x-test-marker',
  });
  port = (await proxy.listen('127.0.0.1', 0)).port;
  const wafD = createWaf({ rules: [RULES], paranoia: 1, mode: 'detect' });
  detect = createWafProxy({ waf: wafD, upstream: `http://127.0.0.1:${upPort}`, log: collect(detectLines) });
  detectPort = (await detect.listen('127.0.0.1', 0)).port;
});

after(async () => {
  agent.destroy();
  await proxy.close();
  await detect.close();
  upstream.closeAllConnections();
  await new Promise<void>((r) => upstream.close(() => r()));
});

function request(
  p: number,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
  chunked = false,
) {
  return new Promise<{ status: number; body: string; socket: unknown }>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: p,
        method,
        path,
        agent,
        headers: {
          host: 'shop.example',
          'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
          accept: 'text/html,application/json',
          ...headers,
        },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, body: Buffer.concat(parts).toString(), socket: req.socket }),
        );
      },
    );
    req.on('error', reject);
    if (body !== undefined) {
      if (chunked) {
        const b = Buffer.from(body);
        req.write(b.subarray(0, 100));
        req.write(b.subarray(100));
      } else req.write(body);
    }
    req.end();
  });
}

function raw(p: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(p, '127.0.0.1');
    let buf = '';
    s.on('data', (d) => (buf += d.toString('latin1')));
    s.on('end', () => resolve(buf));
    s.on('error', () => resolve(buf));
    s.on('close', () => resolve(buf));
    s.end(Buffer.from(text, 'latin1'));
  });
}

const lastLine = () => lines[lines.length - 1]!;

test('SQL injection and XSS are refused with 403 at PL1; the log line names the rules', async () => {
  const sqli = await request(port, 'GET', `/products?id=${encodeURIComponent("1' OR '1'='1")}`, undefined, {
    'x-test-marker': 'sqli-1',
  });
  assert.equal(sqli.status, 403);
  const l = lastLine();
  assert.equal(l.marker, 'sqli-1');
  assert.equal(l.action, 'block');
  assert.equal(l.status, 403);
  const ids = (l.rules as { id: number }[]).map((r) => r.id);
  assert.ok(ids.includes(949110), `ids ${ids}`);
  assert.ok(
    ids.some((id) => id >= 942000 && id < 943000),
    `a 942 rule in ${ids}`,
  );
  assert.ok((l.score as number) >= 5);
  const xss = await request(port, 'GET', `/search?q=${encodeURIComponent('<script>alert(1)</script>')}`);
  assert.equal(xss.status, 403);
  assert.ok((lastLine().rules as { id: number }[]).some((r) => r.id >= 941000 && r.id < 942000));
  // neither reached the upstream
  assert.ok(!seen.some((s) => s.url.startsWith('/products?id=') || s.url.startsWith('/search?q=')));
});

test('a benign GET and a 1.1 KB JSON POST pass over one keep-alive connection', async () => {
  const get = await request(port, 'GET', '/products?page=2&sort=price');
  assert.equal(get.status, 200);
  assert.equal(JSON.parse(get.body).url, '/products?page=2&sort=price');
  assert.equal(lastLine().action, 'pass');
  const order = {
    customer: {
      id: 48213,
      name: 'Maria Jensen',
      email: 'maria.jensen@example.com',
      phone: '+45 20 12 34 56',
    },
    shipping: { street: 'Vesterbrogade 12', city: 'Copenhagen', zip: '1620', country: 'DK' },
    items: Array.from({ length: 10 }, (_, i) => ({
      sku: `SKU-${1000 + i}`,
      title: `Ceramic mug, blue, 350 ml (set ${i + 1})`,
      qty: i + 1,
      price: 12.5 + i,
    })),
    note: 'Please leave the parcel at the door if nobody answers.',
    coupon: 'WINTER10',
  };
  const body = JSON.stringify(order);
  assert.ok(body.length >= 1100 && body.length < 1300, `JSON is ${body.length} bytes`);
  const post = await request(port, 'POST', '/api/orders', body, { 'content-type': 'application/json' });
  assert.equal(post.status, 200, JSON.stringify(lastLine()));
  assert.equal(seen[seen.length - 1]!.body, body);
  assert.equal(get.socket, post.socket, 'same client connection (keep-alive)');
  // the log line carries no body
  assert.ok(!JSON.stringify(lastLine()).includes('Vesterbrogade'));
});

test('a chunked request body is reassembled and forwarded with a length', async () => {
  const body = 'name=' + 'a'.repeat(300) + '&city=Aarhus';
  const r = await request(
    port,
    'POST',
    '/form',
    body,
    { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' },
    true,
  );
  assert.equal(r.status, 200);
  const s = seen[seen.length - 1]!;
  assert.equal(s.body, body);
  assert.equal(s.headers['content-length'], String(body.length));
  assert.equal(s.headers['transfer-encoding'], undefined);
});

test('malformed requests get defined answers', async () => {
  const badChunk = await raw(
    port,
    'POST /form HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n',
  );
  assert.match(badChunk, /^HTTP\/1\.1 400 /);
  const huge = await raw(port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(20000)}\r\n\r\n`);
  assert.match(huge, /^HTTP\/1\.1 431 /);
  const badHost = await raw(port, 'GET / HTTP/1.1\r\nHost: exa mple%00\r\n\r\n');
  assert.match(badHost, /^HTTP\/1\.1 400 /);
  const noHost = await raw(port, 'GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n');
  assert.match(noHost, /^HTTP\/1\.1 400 /);
  const both = await raw(
    port,
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
  );
  assert.match(both, /^HTTP\/1\.1 400 /);
  const big = await request(port, 'POST', '/upload', 'x'.repeat(70 * 1024), { 'content-type': 'text/plain' });
  assert.equal(big.status, 413);
  const slow = await request(port, 'GET', '/slow');
  assert.equal(slow.status, 504);
  assert.equal(lastLine().status, 504);
});

test('responses: a PHP error leak is refused, a 2 MB body streams through intact', async () => {
  const leak = await request(port, 'GET', '/leak');
  assert.equal(leak.status, 403);
  assert.ok(
    (lastLine().rules as { id: number }[]).some((r) => r.id >= 953000 && r.id < 954000),
    JSON.stringify(lastLine()),
  );
  const big = await request(port, 'GET', '/big');
  assert.equal(big.status, 200);
  assert.equal(big.body.length, 2048 * 1024);
  assert.equal(lastLine().status, 200);
});

test('detect mode logs what it would block and lets the request through', async () => {
  const r = await request(detectPort, 'GET', `/products?id=${encodeURIComponent("1' OR '1'='1")}`);
  assert.equal(r.status, 200);
  const l = detectLines[detectLines.length - 1]!;
  assert.equal(l.action, 'detect');
  assert.ok((l.rules as { id: number }[]).some((x) => x.id === 949110));
});
