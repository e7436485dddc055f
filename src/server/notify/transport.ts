/** Sending one notification: syslog over UDP, TCP or TLS; webhooks and Slack over HTTP(S). */
import { createSocket } from 'node:dgram';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Agent, request } from 'undici';
import { octetFrame, slackMessage, toSyslog, webhookRequest, type NotifyEvent } from './format.js';

export interface SyslogConfig {
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | 'tls';
  format: 'rfc5424' | 'cef';
  facility?: number;
  caCert?: string;
  insecure?: boolean;
}
export interface WebhookConfig {
  url: string;
  /** HMAC key (plain here; sealed in the database). */
  secret?: string;
  caCert?: string;
}
export type Destination =
  | { type: 'syslog'; config: SyslogConfig }
  | { type: 'webhook'; config: WebhookConfig }
  | { type: 'slack'; config: WebhookConfig };

const TIMEOUT_MS = 10_000;

export async function deliver(d: Destination, e: NotifyEvent, deliveryId: string): Promise<void> {
  if (d.type === 'syslog')
    return sendSyslog(d.config, toSyslog(e, { format: d.config.format, facility: d.config.facility }));
  if (d.type === 'webhook') {
    const { body, headers } = webhookRequest(e, d.config.secret ?? '', deliveryId);
    return post(d.config, body, headers);
  }
  return post(d.config, slackMessage(e), { 'content-type': 'application/json' });
}

async function post(c: WebhookConfig, body: string, headers: Record<string, string>): Promise<void> {
  const dispatcher = new Agent({
    connect: c.caCert ? { ca: c.caCert } : {},
    headersTimeout: TIMEOUT_MS,
    bodyTimeout: TIMEOUT_MS,
    connectTimeout: TIMEOUT_MS,
  });
  try {
    const res = await request(c.url, { method: 'POST', body, headers, dispatcher });
    await res.body.dump();
    if (res.statusCode < 200 || res.statusCode >= 300)
      throw new Error(`HTTP ${res.statusCode} from ${redactUrl(c.url)}`);
  } finally {
    await dispatcher.close();
  }
}

/** Slack webhook URLs carry their secret in the path: show only scheme, host and port. */
export function redactUrl(u: string): string {
  try {
    const x = new URL(u);
    return `${x.protocol}//${x.host}/…`;
  } catch {
    return '(invalid URL)';
  }
}

function sendSyslog(c: SyslogConfig, msg: string): Promise<void> {
  if (c.transport === 'udp') {
    return new Promise((resolve, reject) => {
      const sock = createSocket(c.host.includes(':') ? 'udp6' : 'udp4');
      sock.send(Buffer.from(msg, 'utf8'), c.port, c.host, (err) => {
        sock.close();
        if (err) reject(err);
        else resolve();
      });
    });
  }
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(t);
      sock.destroy();
      if (err) reject(err);
      else resolve();
    };
    const t = setTimeout(() => done(new Error(`syslog ${c.host}:${c.port}: timeout`)), TIMEOUT_MS);
    const onConnect = () => sock.end(octetFrame(msg), () => done());
    const sock: Socket =
      c.transport === 'tls'
        ? tlsConnect(
            {
              host: c.host,
              port: c.port,
              ca: c.caCert || undefined,
              rejectUnauthorized: !c.insecure,
              servername: /^[\d.]+$/.test(c.host) ? undefined : c.host,
            },
            onConnect,
          )
        : netConnect({ host: c.host, port: c.port }, onConnect);
    sock.on('error', (e) => done(new Error(`syslog ${c.host}:${c.port}: ${e.message}`)));
  });
}
