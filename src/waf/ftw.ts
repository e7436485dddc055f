/**
 * A runner for go-ftw YAML regression tests (the CRS format): stages with an input request
 * (fields or a base64 `encoded_request`) and expected output (log expect_ids / no_expect_ids,
 * match_regex / no_match_regex, status, expect_error). Two back ends: in-process (the engine
 * evaluates each request with an albedo-like reflecting backend for response rules) and a real
 * target URL (the request is sent on a socket; rule ids come from the WAF's JSON log, found by
 * a marker header).
 */
import { closeSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { Transaction, type WafResponse } from './engine.js';
import type { RuleSet } from './rules.js';
import { parseRawRequest } from './http1.js';

export interface FtwInput {
  dest_addr?: string;
  port?: number;
  method?: string;
  uri?: string;
  version?: string;
  headers?: Record<string, string | number>;
  data?: string;
  encoded_request?: string;
  autocomplete_headers?: boolean;
}

export interface FtwOutput {
  status?: number | number[];
  expect_error?: boolean;
  log?: { expect_ids?: number[]; no_expect_ids?: number[]; match_regex?: string; no_match_regex?: string };
  /* older spellings */
  log_contains?: string;
  no_log_contains?: string;
}

export interface FtwStage {
  input: FtwInput;
  output: FtwOutput;
}

export interface FtwTest {
  file: string;
  ruleId: number;
  testId: number;
  desc?: string;
  stages: FtwStage[];
}

export interface Override {
  rule_id: number;
  test_ids?: number[];
  reason: string;
}

export interface StageResult {
  status?: number;
  error?: string;
  ids: number[];
  log: string;
}

export interface TestOutcome {
  test: FtwTest;
  pass: boolean;
  skipped: boolean;
  reason?: string;
  detail?: string;
}

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (e.endsWith('.yaml') || e.endsWith('.yml')) out.push(p);
  }
}

export function loadFtwTests(dir: string): FtwTest[] {
  const files: string[] = [];
  if (statSync(dir).isDirectory()) walk(dir, files);
  else files.push(dir);
  const out: FtwTest[] = [];
  for (const f of files) {
    const doc = parseYaml(readFileSync(f, 'utf8')) as {
      rule_id?: number;
      tests?: {
        test_id: number;
        desc?: string;
        stages: ({ input: FtwInput; output: FtwOutput } | { stage: FtwStage })[];
      }[];
    } | null;
    if (!doc?.tests) continue;
    for (const t of doc.tests) {
      const stages = (t.stages ?? []).map((s) => ('stage' in s ? s.stage : s));
      out.push({
        file: relative(dir, f) || f,
        ruleId: Number(doc.rule_id ?? 0),
        testId: Number(t.test_id),
        desc: t.desc,
        stages,
      });
    }
  }
  return out;
}

export function loadOverrides(path: string): Map<string, string> {
  const doc = parseYaml(readFileSync(path, 'utf8')) as { test_overrides?: Override[] } | null;
  const m = new Map<string, string>();
  for (const o of doc?.test_overrides ?? []) {
    if (!o.reason || !String(o.reason).trim())
      throw new Error(`${path}: override for ${o.rule_id} has no reason`);
    for (const id of o.test_ids ?? []) m.set(`${o.rule_id}-${id}`, o.reason);
  }
  return m;
}

/** go-ftw data templates: only sprig's `{{ "x" | repeat N }}` is used by the CRS tests */
function expandTemplate(s: string): string {
  return s.replace(/\{\{\s*"((?:[^"\\]|\\.)*)"\s*\|\s*repeat\s+(\d+)\s*\}\}/g, (_m, str: string, n: string) =>
    str.repeat(Number(n)),
  );
}

/** the raw request bytes go-ftw would send for a stage (latin1 string) */
export function buildRawRequest(input: FtwInput, marker?: [string, string]): string {
  if (input.encoded_request) {
    let raw = Buffer.from(input.encoded_request.replace(/\s+/g, ''), 'base64').toString('latin1');
    if (marker) {
      const e = raw.indexOf('\r\n');
      if (e > 0) raw = raw.slice(0, e + 2) + `${marker[0]}: ${marker[1]}\r\n` + raw.slice(e + 2);
    }
    return raw;
  }
  const method = input.method ?? 'GET';
  const uri = input.uri ?? '/';
  const version = input.version ?? 'HTTP/1.1';
  const headers: [string, string][] = Object.entries(input.headers ?? {}).map(([k, v]) => [k, String(v)]);
  const data =
    input.data === undefined || input.data === null
      ? ''
      : Buffer.from(expandTemplate(String(input.data)), 'utf8').toString('latin1');
  const auto = input.autocomplete_headers !== false;
  const has = (n: string) => headers.some(([k]) => k.toLowerCase() === n);
  if (auto) {
    if (
      (data !== '' || /^(?:POST|PUT|PATCH)$/i.test(method)) &&
      !has('content-length') &&
      !has('transfer-encoding')
    )
      headers.push(['Content-Length', String(data.length)]);
    if (!has('connection')) headers.push(['Connection', 'close']);
    if (data !== '' && !has('content-type'))
      headers.push(['Content-Type', 'application/x-www-form-urlencoded']);
  }
  if (marker) headers.push(marker);
  const line = version === '' ? `${method} ${uri}` : `${method} ${uri} ${version}`;
  // the YAML text is Unicode; on the wire it is UTF-8
  const head = `${line}\r\n${headers.map(([k, v]) => `${k}: ${v}`).join('\r\n')}${headers.length ? '\r\n' : ''}\r\n`;
  return Buffer.from(head, 'utf8').toString('latin1') + data;
}

/** albedo-like backend: /reflect answers with the status, headers and body given in a JSON body */
export function reflectBackend(uri: string, body: string): WafResponse {
  if (uri.split('?')[0] === '/reflect') {
    try {
      const j = JSON.parse(Buffer.from(body, 'latin1').toString('utf8')) as {
        status?: number;
        headers?: Record<string, string>;
        body?: string;
        encodedBody?: string;
      };
      const headers: [string, string][] = Object.entries(j.headers ?? {}).map(([k, v]) => [k, String(v)]);
      const b = j.encodedBody
        ? Buffer.from(j.encodedBody, 'base64').toString('latin1')
        : Buffer.from(j.body ?? '', 'utf8').toString('latin1');
      if (!headers.some(([k]) => k.toLowerCase() === 'content-type'))
        headers.push([
          'Content-Type',
          /^\s*<(?:!doctype html|html|head|body|script|p|div)/i.test(b)
            ? 'text/html; charset=utf-8'
            : 'text/plain; charset=utf-8',
        ]);
      return { status: j.status ?? 200, headers, body: b };
    } catch {
      return { status: 400, headers: [['Content-Type', 'text/plain']], body: 'bad reflect request' };
    }
  }
  return { status: 200, headers: [['Content-Type', 'text/plain; charset=utf-8']], body: '' };
}

/** ModSecurity-like error-log text for the logged matches of a transaction */
const escapeLog = (s: string) =>
  s.replace(/[^\x20-\x7e]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));

export function logText(tx: Transaction): string {
  return tx.matches
    .filter((m) => m.logged)
    .map(
      (m) =>
        `ModSecurity: Warning. [id "${m.id}"]${m.msg ? ` [msg "${escapeLog(m.msg)}"]` : ''}${m.data ? ` [data "${escapeLog(m.data)}"]` : ''}${m.severity ? ` [severity "${m.severity}"]` : ''}`,
    )
    .join('\n');
}

/** evaluates one raw request in process against a rule set, with the reflecting backend */
export function runInProcessStage(rs: RuleSet, raw: string): StageResult {
  const p = parseRawRequest(raw);
  if (!p.ok) return { status: p.status, error: p.reason, ids: [], log: '' };
  const tx = new Transaction(rs, p.req);
  let iv = tx.processRequest();
  let status = 200;
  if (!iv) {
    const resp = reflectBackend(p.req.uri, p.req.body ?? '');
    iv = tx.processResponseHeaders(resp);
    if (!iv) iv = tx.processResponseBody(resp.body ?? '');
    status = resp.status;
  }
  tx.processLogging();
  if (iv) status = iv.status;
  return { status, ids: tx.loggedIds(), log: logText(tx) };
}

export function checkStage(out: FtwOutput, r: StageResult): string | null {
  if (out.expect_error) return r.error !== undefined ? null : 'expected an error';
  if (out.status !== undefined) {
    const want = Array.isArray(out.status) ? out.status : [out.status];
    if (r.status === undefined || !want.includes(r.status))
      return `status ${r.status ?? 'none'} (want ${want.join('|')})`;
  }
  const log = out.log;
  if (log) {
    for (const id of log.expect_ids ?? [])
      if (!r.ids.includes(id)) return `missing ${id} (got ${r.ids.join(',') || 'none'})`;
    for (const id of log.no_expect_ids ?? []) if (r.ids.includes(id)) return `unexpected ${id}`;
    if (log.match_regex && !new RegExp(log.match_regex).test(r.log))
      return `log does not match /${log.match_regex}/`;
    if (log.no_match_regex && new RegExp(log.no_match_regex).test(r.log))
      return `log matches /${log.no_match_regex}/`;
  }
  if (out.log_contains && !new RegExp(out.log_contains).test(r.log))
    return `log does not contain ${out.log_contains}`;
  if (out.no_log_contains && new RegExp(out.no_log_contains).test(r.log))
    return `log contains ${out.no_log_contains}`;
  return null;
}

export interface RunSummary {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  ms: number;
  outcomes: TestOutcome[];
}

export async function runTests(
  tests: FtwTest[],
  send: (stage: FtwStage) => StageResult | Promise<StageResult>,
  overrides: Map<string, string> = new Map(),
): Promise<RunSummary> {
  const t0 = Date.now();
  const outcomes: TestOutcome[] = [];
  for (const t of tests) {
    const reason = overrides.get(`${t.ruleId}-${t.testId}`);
    if (reason !== undefined) {
      outcomes.push({ test: t, pass: false, skipped: true, reason });
      continue;
    }
    let detail: string | null = null;
    for (const s of t.stages) {
      const r = await send(s);
      detail = checkStage(s.output ?? {}, r);
      if (detail) break;
    }
    outcomes.push({ test: t, pass: detail === null, skipped: false, detail: detail ?? undefined });
  }
  const passed = outcomes.filter((o) => o.pass).length;
  const skipped = outcomes.filter((o) => o.skipped).length;
  return {
    total: tests.length,
    passed,
    failed: tests.length - passed - skipped,
    skipped,
    ms: Date.now() - t0,
    outcomes,
  };
}

/** reads a growing JSON-lines log incrementally; lines are kept by the marker they carry */
class LogTail {
  private offset = 0;
  private rest = '';
  private byMarker = new Map<string, string>();
  constructor(private readonly path: string) {}
  read(): void {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return;
    }
    try {
      const buf = Buffer.alloc(1 << 20);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        const text = this.rest + buf.subarray(0, n).toString('utf8');
        const lines = text.split('\n');
        this.rest = lines.pop() ?? '';
        for (const l of lines) {
          const m = /"marker":"([^"]+)"/.exec(l);
          if (m) this.byMarker.set(m[1]!, l);
        }
      }
    } finally {
      closeSync(fd);
    }
  }
  take(marker: string): string | undefined {
    const l = this.byMarker.get(marker);
    if (l !== undefined) this.byMarker.delete(marker);
    return l;
  }
}

/** sends a stage to a live WAF; rule ids come from its JSON log lines carrying the marker */
export function targetSender(
  target: string,
  logFile?: string,
  markerHeader = 'X-Bulwark-Test',
): (s: FtwStage) => Promise<StageResult> {
  const u = new URL(target);
  const tail = logFile ? new LogTail(logFile) : null;
  return async (s) => {
    const id = randomUUID();
    const raw = buildRawRequest(s.input, [markerHeader, id]);
    const status = await new Promise<{ status?: number; error?: string }>((res) => {
      const sock = connect(Number(u.port || 80), u.hostname);
      let buf = '';
      const done = (r: { status?: number; error?: string }) => {
        sock.destroy();
        res(r);
      };
      sock.setTimeout(5000, () => done({ error: 'timeout' }));
      sock.on('data', (d) => {
        buf += d.toString('latin1');
        const m = /^HTTP\/\d\.\d (\d{3})/.exec(buf);
        if (m && buf.includes('\r\n\r\n')) done({ status: Number(m[1]) });
      });
      sock.on('error', (e) => done({ error: e.message }));
      sock.on('end', () =>
        done(
          buf
            ? { status: Number(/^HTTP\/\d\.\d (\d{3})/.exec(buf)?.[1]) || undefined }
            : { error: 'connection closed' },
        ),
      );
      sock.write(Buffer.from(raw, 'latin1'));
    });
    let ids: number[] = [];
    let log = '';
    if (tail) {
      // the WAF writes the line when the response is complete: poll for up to 2 s
      for (let i = 0; i < 80; i++) {
        tail.read();
        const line = tail.take(id);
        if (line) {
          const j = JSON.parse(line) as { rules?: { id: number; msg?: string; data?: string }[] };
          ids = (j.rules ?? []).map((r) => r.id);
          log = (j.rules ?? [])
            .map(
              (r) => `[id "${r.id}"] [msg "${escapeLog(r.msg ?? '')}"] [data "${escapeLog(r.data ?? '')}"]`,
            )
            .join('\n');
          break;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    return { ...status, ids, log };
  };
}
