/**
 * Export of any list (`?export=csv|json`): every matching row beyond one page, the list's filters
 * and order kept, RFC 4180 quoting, spreadsheet formulas neutralised, and the same access rules as
 * the list. Real server (SQLite), reports uploaded through the API.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ScanReport } from '../../src/core/findings.js';
import { Client, startConsole, type TestConsole } from './helpers.js';

let con: TestConsole;
let admin: Client;
before(async () => {
  con = await startConsole('sqlite');
  admin = await new Client(con.base).login();
});
after(() => con.close());

function report(name: string, title: string, n: number): ScanReport {
  return {
    schemaVersion: 1,
    createdAt: new Date().toISOString(),
    tool: { name: 'bulwark', version: 'test' },
    artifact: { kind: 'fs', name, layers: [] },
    results: [
      {
        target: 'config',
        class: 'config',
        findings: Array.from({ length: n }, (_, i) => ({
          kind: 'misconfig' as const,
          id: `BW-TEST-${String(i).padStart(3, '0')}`,
          title,
          severity: 'HIGH' as const,
          type: 'kubernetes',
          status: 'fail' as const,
          location: { path: 'pod.yaml', line: i + 1 },
          description: 'd',
          remediation: 'r',
        })),
      },
    ],
  } as unknown as ScanReport;
}

test('lists export every row as CSV or JSON, filters kept, formulas neutralised', async () => {
  // 3 images; one with 620 findings (more than one export page of 500 and than any list page)
  for (const [name, n] of [
    ['app-one', 2],
    ['app-two', 620],
    ['other', 1],
  ] as const) {
    const r = await admin.post('/api/scans', report(name, '=HYPERLINK("http://evil","x"), "quoted"', n));
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  const csv = await admin.get<string>('/api/images?export=csv&q=app');
  assert.equal(csv.status, 200);
  assert.match(String(csv.headers['content-type']), /^text\/csv/);
  assert.match(String(csv.headers['content-disposition']), /attachment; filename="bulwark-images\.csv"/);
  const lines = csv.body.trimEnd().split('\r\n');
  assert.equal(lines.length, 3, csv.body);
  const header = lines[0]!.split(',');
  assert.ok(header.includes('name') && header.includes('counts.high'), lines[0]);
  assert.ok(
    lines.slice(1).every((l) => /app-(one|two)/.test(l)),
    'the q filter applies',
  );

  const all = await admin.get<unknown[]>('/api/findings?export=json');
  assert.equal(all.status, 200);
  assert.equal(all.headers['x-total-count'], '623');
  assert.equal((all.body as unknown[]).length, 623, 'every row, not one page');

  const fcsv = await admin.get<string>('/api/findings?export=csv');
  const rows = fcsv.body.trimEnd().split('\r\n');
  assert.equal(rows.length, 624);
  // a title starting with "=" is a formula for a spreadsheet: it is prefixed with a quote, and its
  // quotes and comma are escaped as RFC 4180 says
  assert.ok(rows[1]!.includes(`"'=HYPERLINK(""http://evil"",""x""), ""quoted"""`), rows[1]);
  assert.ok(!rows.slice(1).some((r) => /(^|,)=HYPERLINK/.test(r)));

  assert.equal((await admin.get('/api/findings?export=xml')).status, 400);
  const anon = await new Client(con.base).get('/api/findings?export=csv');
  assert.equal(anon.status, 401, 'same access as the list');
});
