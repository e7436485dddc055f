/**
 * Notification events and their wire formats: RFC 5424 syslog lines (with octet counting per
 * RFC 6587 for stream transports), ArcSight CEF, webhook JSON with an HMAC-SHA256 signature, and
 * Slack-compatible incoming-webhook messages.
 */
import { createHmac } from 'node:crypto';
import { hostname } from 'node:os';
import type { Severity } from '../../core/types.js';
import { VERSION } from '../../cli/version.js';

export const EVENT_TYPES = ['new-finding', 'scan-completed', 'scan-failed', 'runtime-alert', 'test'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface NotifyEvent {
  /** Unique per event (receivers de-duplicate at-least-once deliveries with it). */
  id: string;
  type: EventType;
  time: string;
  /** Highest severity involved (scan-failed: HIGH). */
  severity: Severity;
  summary: string;
  registry?: string;
  image?: { name: string; digest: string };
  scanId?: number;
  jobId?: number;
  /** runtime-alert: the event from the node agent, with the alert in Falco's JSON output format. */
  runtime?: {
    eventId: string;
    /** id on the console (/api/runtime/events/:id) */
    consoleId: number;
    kind: string;
    node: string;
    cluster?: string;
    container?: { id: string; name?: string; image?: string; imageDigest?: string };
    k8s?: { namespace?: string; pod?: string; container?: string; labels?: Record<string, string> };
    /** a burst summary: how many alerts it stands for that were not sent one by one */
    suppressed?: number;
    falco: {
      hostname: string;
      output: string;
      output_fields: Record<string, unknown>;
      priority: string;
      rule: string;
      source: string;
      tags: string[];
      time: string;
    };
  };
  findings?: {
    advisoryId: string;
    severity: Severity;
    pkgName: string;
    pkgVersion: string;
    fixedVersion: string;
    title: string;
  }[];
}

/** Syslog severity (RFC 5424 section 6.2.1) for a finding severity. */
const SYSLOG_SEVERITY: Record<Severity, number> = { CRITICAL: 2, HIGH: 3, MEDIUM: 4, LOW: 5, UNKNOWN: 6 };
const CEF_SEVERITY: Record<Severity, number> = { CRITICAL: 10, HIGH: 8, MEDIUM: 5, LOW: 3, UNKNOWN: 0 };
/** Private enterprise number 32473 is reserved for documentation (RFC 5612); used as our SD-ID suffix. */
export const SD_ID = 'bulwark@32473';

function sdEscape(v: string): string {
  return v.replace(/[\\"\]]/g, (c) => '\\' + c);
}

function cefHeaderEscape(v: string): string {
  return v.replace(/[\\|]/g, (c) => '\\' + c).replace(/[\r\n]+/g, ' ');
}

function cefExtEscape(v: string): string {
  return v.replace(/[\\=]/g, (c) => '\\' + c).replace(/\r?\n/g, '\\n');
}

/** ArcSight Common Event Format: CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension */
export function toCef(e: NotifyEvent): string {
  const ext: [string, string][] = [
    ['rt', String(Date.parse(e.time))],
    ['externalId', e.id],
    ['msg', e.summary],
  ];
  if (e.image)
    ext.push(
      ['cs1Label', 'image'],
      ['cs1', e.image.digest ? `${e.image.name}@${e.image.digest}` : e.image.name],
    );
  if (e.registry) ext.push(['cs2Label', 'registry'], ['cs2', e.registry]);
  if (e.findings?.length)
    ext.push(
      ['cs3Label', 'advisories'],
      [
        'cs3',
        e.findings
          .slice(0, 20)
          .map((f) => f.advisoryId)
          .join(','),
      ],
    );
  if (e.scanId !== undefined) ext.push(['cn1Label', 'scanId'], ['cn1', String(e.scanId)]);
  const r = e.runtime;
  if (r) {
    ext.push(['dvchost', r.node], ['cs4Label', 'rule'], ['cs4', r.falco.rule]);
    ext.push(['cs5Label', 'priority'], ['cs5', r.falco.priority]);
    if (r.container?.id) ext.push(['cs6Label', 'container'], ['cs6', r.container.id]);
    if (r.k8s?.namespace) ext.push(['cs2Label', 'k8s'], ['cs2', `${r.k8s.namespace}/${r.k8s.pod ?? ''}`]);
    const f = r.falco.output_fields;
    if (typeof f['proc.name'] === 'string') ext.push(['sproc', f['proc.name']]);
    if (typeof f['user.name'] === 'string') ext.push(['suser', f['user.name']]);
    if (typeof f['fd.name'] === 'string') ext.push(['filePath', f['fd.name']]);
    if (r.falco.tags.length) ext.push(['cs3Label', 'tags'], ['cs3', r.falco.tags.join(',')]);
    if (r.suppressed) ext.push(['cnt', String(r.suppressed)]);
  }
  return [
    'CEF:0',
    'Bulwark',
    'Bulwark console',
    cefHeaderEscape(VERSION),
    cefHeaderEscape(e.runtime ? `${e.type}:${e.runtime.falco.rule}` : e.type),
    cefHeaderEscape((e.runtime ? e.runtime.falco.rule : e.summary).slice(0, 200)),
    String(CEF_SEVERITY[e.severity]),
    ext.map(([k, v]) => `${k}=${cefExtEscape(v)}`).join(' '),
  ].join('|');
}

/** One RFC 5424 message; facility defaults to 10 (security/authorization, "authpriv"). */
export function toSyslog(
  e: NotifyEvent,
  opts: { format: 'rfc5424' | 'cef'; facility?: number; appName?: string; host?: string },
): string {
  const pri = (opts.facility ?? 10) * 8 + SYSLOG_SEVERITY[e.severity];
  const host = (opts.host ?? hostname()).replace(/[^\x21-\x7e]/g, '').slice(0, 255) || '-';
  const app = (opts.appName ?? 'bulwark').slice(0, 48);
  const params: [string, string][] = [
    ['eventId', e.id],
    ['type', e.type],
    ['severity', e.severity],
  ];
  if (e.image) params.push(['image', e.image.name], ['digest', e.image.digest]);
  if (e.registry) params.push(['registry', e.registry]);
  if (e.scanId !== undefined) params.push(['scanId', String(e.scanId)]);
  if (e.findings) params.push(['findings', String(e.findings.length)]);
  if (e.runtime) {
    params.push(
      ['rule', e.runtime.falco.rule],
      ['priority', e.runtime.falco.priority],
      ['node', e.runtime.node],
    );
    if (e.runtime.container?.id) params.push(['container', e.runtime.container.id]);
    if (e.runtime.k8s?.namespace) params.push(['namespace', e.runtime.k8s.namespace]);
    if (e.runtime.k8s?.pod) params.push(['pod', e.runtime.k8s.pod]);
    if (e.runtime.suppressed) params.push(['suppressed', String(e.runtime.suppressed)]);
  }
  const sd = `[${SD_ID} ${params.map(([k, v]) => `${k}="${sdEscape(v)}"`).join(' ')}]`;
  const msg = opts.format === 'cef' ? toCef(e) : e.summary;
  return `<${pri}>1 ${e.time} ${host} ${app} ${process.pid} ${e.type} ${sd} ${msg}`;
}

/** RFC 6587 octet counting: "LEN SP MSG", LEN in bytes. */
export function octetFrame(msg: string): Buffer {
  const b = Buffer.from(msg, 'utf8');
  return Buffer.concat([Buffer.from(`${b.length} `), b]);
}

/** Body and headers of a signed webhook delivery. Signature: HMAC-SHA256 over "<timestamp>.<body>". */
export function webhookRequest(
  e: NotifyEvent,
  secret: string,
  deliveryId: string,
  nowSec = Math.floor(Date.now() / 1000),
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(e);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': `bulwark/${VERSION}`,
    'x-bulwark-event': e.type,
    'x-bulwark-delivery': deliveryId,
    'x-bulwark-timestamp': String(nowSec),
  };
  if (secret)
    headers['x-bulwark-signature'] =
      'sha256=' + createHmac('sha256', secret).update(`${nowSec}.${body}`).digest('hex');
  return { body, headers };
}

/** Slack incoming-webhook payload (also accepted by Mattermost, Rocket.Chat and similar). */
export function slackMessage(e: NotifyEvent): string {
  const lines = [`*Bulwark: ${e.summary}*`];
  if (e.image) lines.push(`Image: \`${e.image.name}${e.image.digest ? '@' + e.image.digest : ''}\``);
  if (e.runtime) {
    const r = e.runtime;
    lines.push(`Rule: ${r.falco.rule} (${r.falco.priority}) · node ${r.node}`);
    if (r.container?.id)
      lines.push(`Container: \`${r.container.name ?? ''} ${r.container.id.slice(0, 12)}\``);
    if (r.k8s?.pod) lines.push(`Pod: \`${r.k8s.namespace ?? ''}/${r.k8s.pod}\``);
    const mitre = r.falco.tags.filter((t) => /^T\d{4}/.test(t) || t.startsWith('mitre_'));
    if (mitre.length) lines.push(`ATT&CK: ${mitre.join(', ')}`);
  }
  for (const f of (e.findings ?? []).slice(0, 10))
    lines.push(
      `• ${f.severity} ${f.advisoryId} in ${f.pkgName} ${f.pkgVersion}${f.fixedVersion ? ` (fixed in ${f.fixedVersion})` : ''}`,
    );
  if ((e.findings?.length ?? 0) > 10) lines.push(`…and ${e.findings!.length - 10} more`);
  return JSON.stringify({ text: lines.join('\n') });
}
