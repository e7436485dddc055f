/**
 * Notifications with real receivers on 127.0.0.1: a UDP syslog socket, a TCP syslog socket (RFC 6587
 * octet counting), a TLS syslog socket (CA made by openssl), an HTTP webhook receiver that checks the
 * HMAC signature, and a Slack-style receiver. The receivers start DOWN; the server is stopped while
 * deliveries are failing, restarted, the receivers come up, and every queued event arrives (at least
 * once). A receiver that always answers 500 fills the dead-letter list, which the API shows and requeues.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { after, describe, test } from 'node:test';
import type { ScanReport } from '../../src/core/findings.js';
import { toCef, toSyslog, type NotifyEvent } from '../../src/server/index.js';
import { freePort, makeTlsFiles } from '../fixtures/index.js';
import { debianReport } from './data.js';
import { BACKENDS, Client, startConsole, stopSharedPostgres, sharedPostgres } from './helpers.js';

after(stopSharedPostgres);

const SYSLOG_RE = /^<(\d+)>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\[bulwark@32473 (?:[^\]\\]|\\.)*\]) (.*)$/s;

/** Parses an RFC 6587 octet-counted stream into messages. */
function octetParser(onMessage: (m: string) => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const sp = buf.indexOf(0x20);
      if (sp < 0) return;
      const len = Number(buf.subarray(0, sp).toString());
      assert.ok(
        Number.isInteger(len) && len > 0,
        `octet count expected, got ${buf.subarray(0, sp).toString()}`,
      );
      if (buf.length < sp + 1 + len) return;
      onMessage(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
      buf = buf.subarray(sp + 1 + len);
    }
  };
}

interface Receivers {
  udp: string[];
  tcp: string[];
  tls: string[];
  webhook: { headers: Record<string, string>; body: string }[];
  slack: string[];
  failing: number;
  stop(): Promise<void>;
}

async function startReceivers(
  ports: { udp: number; tcp: number; tls: number; http: number },
  tlsFiles: { cert: string; key: string },
): Promise<Receivers> {
  const r: Receivers = {
    udp: [],
    tcp: [],
    tls: [],
    webhook: [],
    slack: [],
    failing: 0,
    stop: async () => {},
  };
  const udp = createSocket('udp4');
  udp.on('message', (m) => r.udp.push(m.toString('utf8')));
  await new Promise<void>((res) => udp.bind(ports.udp, '127.0.0.1', res));
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const tcp: NetServer = createNetServer((s) => {
    track(s);
    s.on(
      'data',
      octetParser((m) => r.tcp.push(m)),
    );
  });
  await new Promise<void>((res) => tcp.listen(ports.tcp, '127.0.0.1', res));
  const tls = createTlsServer({ cert: readFileSync(tlsFiles.cert), key: readFileSync(tlsFiles.key) }, (s) => {
    track(s);
    s.on(
      'data',
      octetParser((m) => r.tls.push(m)),
    );
  });
  await new Promise<void>((res) => tls.listen(ports.tls, '127.0.0.1', res));
  const http: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.url === '/hook') r.webhook.push({ headers: req.headers as Record<string, string>, body });
      else if (req.url === '/services/T000/B000/XXXX') r.slack.push(body);
      else if (req.url === '/fail') {
        r.failing++;
        res.writeHead(500).end('no');
        return;
      }
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((res) => http.listen(ports.http, '127.0.0.1', res));
  r.stop = async () => {
    udp.close();
    for (const s of sockets) s.destroy();
    http.closeAllConnections();
    await Promise.all([tcp, tls, http].map((s) => new Promise((res) => s.close(res))));
  };
  return r;
}

async function waitFor(what: string, f: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('syslog and CEF formats', () => {
  const e: NotifyEvent = {
    id: 'e1',
    type: 'new-finding',
    time: '2026-01-02T03:04:05.000Z',
    severity: 'CRITICAL',
    summary: 'x|y=z\\ "q" ]',
    image: { name: 'reg/app', digest: 'sha256:ab' },
    registry: 'r"1]',
    scanId: 7,
    findings: [
      {
        advisoryId: 'CVE-1',
        severity: 'CRITICAL',
        pkgName: 'p',
        pkgVersion: '1',
        fixedVersion: '2',
        title: 't',
      },
    ],
  };
  const line = toSyslog(e, { format: 'rfc5424', host: 'h1' });
  const m = SYSLOG_RE.exec(line);
  assert.ok(m, line);
  assert.equal(m[1], String(10 * 8 + 2), 'authpriv.crit');
  assert.equal(m[2], e.time);
  assert.equal(m[6], 'new-finding');
  assert.match(m[7]!, /registry="r\\"1\\]"/, 'SD-PARAM values escape " ] \\');
  const cef = toCef(e);
  assert.match(cef, /^CEF:0\|Bulwark\|Bulwark console\|[^|]+\|new-finding\|x\\\|y=z\\\\ "q" \]\|10\|/);
  assert.match(cef, /msg=x\|y\\=z\\\\ "q" \]/, 'extension escapes = and \\');
  assert.match(cef, /cs1Label=image cs1=reg\/app@sha256:ab/);
});

for (const backend of BACKENDS) {
  describe(`notifications (${backend})`, () => {
    test('at-least-once delivery survives a restart while receivers are down; dead letters', async () => {
      const { report } = await debianReport();
      const dir = mkdtempSync(join(tmpdir(), 'bulwark-notify-'));
      const tlsFiles = await makeTlsFiles(dir);
      const ports = {
        udp: await freePort(),
        tcp: await freePort(),
        tls: await freePort(),
        http: await freePort(),
      };
      const database = backend === 'postgres' ? await (await sharedPostgres()).createDatabase() : undefined;
      const opts = {
        dataDir: join(dir, 'data'),
        database,
        workers: true,
        notifyBackoffMs: 100,
        notifyMaxAttempts: 1000,
      };
      let t = await startConsole(backend, opts);
      let receivers: Receivers | undefined;
      try {
        let admin = await new Client(t.base).login();
        const secret = 'webhook-hmac-key';
        const dest = async (body: unknown) => {
          const r = await admin.post('/api/notifications/destinations', body);
          assert.equal(r.status, 201, JSON.stringify(r.body));
          return r.body.id as number;
        };
        const ids = {
          udp: await dest({
            name: 'udp',
            type: 'syslog',
            config: { host: '127.0.0.1', port: ports.udp, transport: 'udp' },
          }),
          tcp: await dest({
            name: 'tcp',
            type: 'syslog',
            config: { host: '127.0.0.1', port: ports.tcp, transport: 'tcp', format: 'cef' },
          }),
          tls: await dest({
            name: 'tls',
            type: 'syslog',
            config: {
              host: '127.0.0.1',
              port: ports.tls,
              transport: 'tls',
              caCert: readFileSync(tlsFiles.caCert, 'utf8'),
            },
          }),
          webhook: await dest({
            name: 'hook',
            type: 'webhook',
            config: { url: `http://127.0.0.1:${ports.http}/hook`, secret },
          }),
          slack: await dest({
            name: 'slack',
            type: 'slack',
            config: { url: `http://127.0.0.1:${ports.http}/services/T000/B000/XXXX` },
          }),
        };
        const listed = JSON.stringify((await admin.get('/api/notifications/destinations')).body);
        assert.ok(
          !listed.includes(secret) && !listed.includes('B000/XXXX'),
          'webhook secret and Slack URL path not shown',
        );
        for (const [name, id] of Object.entries(ids)) {
          const r = await admin.post('/api/notifications/rules', {
            name: `crit-${name}`,
            event: 'new-finding',
            minSeverity: 'HIGH',
            destinationId: id,
          });
          assert.equal(r.status, 201, JSON.stringify(r.body));
        }
        // A rule whose namespace filter does not match sends nothing.
        await admin.post('/api/notifications/rules', {
          name: 'other-team',
          event: 'scan-completed',
          registryFilter: 'registry.other/team-b/',
          destinationId: ids.webhook,
        });

        // Receivers are down: uploads queue events, deliveries fail and are retried.
        const up = await admin.post('/api/scans', report);
        assert.equal(up.status, 201);
        const highs = new Set(
          report.results
            .flatMap((r) => r.findings)
            .filter((f) => f.kind === 'vulnerability' && (f.severity === 'HIGH' || f.severity === 'CRITICAL'))
            .map((f) => f.id),
        );
        assert.ok(highs.size > 0, 'the real report has HIGH/CRITICAL findings');
        const second: ScanReport = structuredClone(report);
        second.artifact.digest = 'sha256:' + 'b'.repeat(64);
        second.artifact.repoDigests = [];
        assert.equal((await admin.post('/api/scans', second)).status, 201);
        await waitFor('failed attempts', async () => {
          const rows = await t.c.ctx.db
            .selectFrom('outbox')
            .selectAll()
            .where('destination_id', '=', ids.tcp)
            .execute();
          return rows.length === 2 && rows.every((r) => r.attempts >= 2);
        });
        const pendingBefore = await t.c.ctx.db.selectFrom('outbox').selectAll().execute();
        assert.equal(pendingBefore.length, 10, 'two events × five destinations');
        assert.ok(
          pendingBefore.every((r) => r.status !== 'delivered' || r.destination_id === ids.udp),
          'only UDP can "succeed" with nobody listening',
        );
        assert.ok(pendingBefore.some((r) => /ECONNREFUSED/.test(r.last_error)));
        const eventIds = new Set(pendingBefore.map((r) => (JSON.parse(r.event) as NotifyEvent).id));
        assert.equal(eventIds.size, 2);

        // Stop the server in the middle of failing deliveries; restart it; the receivers come up.
        await t.close({ keepData: true });
        t = await startConsole(backend, opts);
        // The session survives the restart (it is in the database); only the port changed.
        const cookies = admin.cookies;
        admin = new Client(t.base);
        admin.cookies = cookies;
        assert.equal((await admin.get('/api/auth/me')).status, 200);
        receivers = await startReceivers(ports, tlsFiles);
        const rec = receivers;
        await waitFor('all deliveries', async () => {
          const rows = await t.c.ctx.db.selectFrom('outbox').select(['status', 'destination_id']).execute();
          return rows.filter((r) => r.destination_id !== ids.udp).every((r) => r.status === 'delivered');
        });

        // Webhook: both events, valid HMAC over "<timestamp>.<body>".
        const hookIds = new Set<string>();
        for (const w of rec.webhook) {
          const ts = w.headers['x-bulwark-timestamp'];
          const want = 'sha256=' + createHmac('sha256', secret).update(`${ts}.${w.body}`).digest('hex');
          assert.equal(w.headers['x-bulwark-signature'], want);
          const ev = JSON.parse(w.body) as NotifyEvent;
          assert.equal(ev.type, 'new-finding');
          assert.equal(w.headers['x-bulwark-event'], 'new-finding');
          assert.ok(ev.findings!.every((f) => f.severity === 'HIGH' || f.severity === 'CRITICAL'));
          assert.deepEqual(new Set(ev.findings!.map((f) => f.advisoryId)), highs);
          hookIds.add(ev.id);
        }
        assert.deepEqual(hookIds, eventIds, 'nothing lost across the restart');
        // TCP: octet-counted RFC 5424 frames carrying CEF.
        const tcpIds = new Set<string>();
        for (const line of rec.tcp) {
          const m = SYSLOG_RE.exec(line);
          assert.ok(m, line);
          assert.match(m[8]!, /^CEF:0\|Bulwark\|/);
          tcpIds.add(/eventId="([^"]+)"/.exec(m[7]!)![1]!);
        }
        assert.deepEqual(tcpIds, eventIds);
        const tlsIds = new Set(rec.tls.map((l) => /eventId="([^"]+)"/.exec(l)![1]!));
        assert.deepEqual(tlsIds, eventIds);
        assert.equal(rec.slack.length >= 2, true);
        assert.match(JSON.parse(rec.slack[0]!).text, /new finding\(s\) in/);

        // UDP with the receiver up.
        const before = rec.udp.length;
        assert.equal((await admin.post(`/api/notifications/destinations/${ids.udp}/test`)).status, 202);
        await waitFor('udp datagram', () => rec.udp.length > before);
        assert.ok(SYSLOG_RE.test(rec.udp.at(-1)!));
        assert.match(rec.udp.at(-1)!, /test notification from Bulwark/);

        // Dead letters: a receiver that always fails.
        const failId = await dest({
          name: 'fail',
          type: 'webhook',
          config: { url: `http://127.0.0.1:${ports.http}/fail` },
        });
        await t.close({ keepData: true });
        t = await startConsole(backend, { ...opts, notifyMaxAttempts: 3 });
        const admin2 = await new Client(t.base).login();
        assert.equal((await admin2.post(`/api/notifications/destinations/${failId}/test`)).status, 202);
        let dead: { items: { id: number; attempts: number; lastError: string }[] } = { items: [] };
        await waitFor('dead letter', async () => {
          dead = (await admin2.get('/api/notifications/deliveries?status=dead')).body;
          return dead.items.length === 1;
        });
        assert.equal(dead.items[0]!.attempts, 3);
        assert.match(dead.items[0]!.lastError, /HTTP 500/);
        assert.equal(rec.failing, 3);
        assert.equal(
          (await admin2.post(`/api/notifications/deliveries/${dead.items[0]!.id}/retry`)).status,
          204,
        );
        await waitFor('retried', () => rec.failing >= 4);
        const audit = (await admin2.get('/api/audit?action=delivery')).body.items;
        assert.equal(audit[0].action, 'delivery.retry');
        const metrics = (await admin2.get('/metrics')).body as string;
        assert.match(metrics, /bulwark_outbox\{status="delivered"\} \d+/);
      } finally {
        await t.close();
        await receivers?.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
