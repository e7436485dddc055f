import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadRuleSet,
  scanText,
  secretAnalyzer,
  scanImageConfig,
  shannonEntropy,
} from '../../src/secret/index.js';

const rules = loadRuleSet();
// made-up token with the shape of a GitHub personal access token
const TOKEN = 'ghp_' + 'Zq7Xc2Vb9Nm4Lk8Jh1Gf5Ds3Ap6Oi0Uy2Tr4';

test('findings carry line numbers and never the secret itself', () => {
  const text = ['# deploy settings', 'region: eu-west-1', `github_token: "${TOKEN}"`, ''].join('\n');
  const [m, ...rest] = scanText(text, rules, 'deploy.yaml');
  assert.equal(rest.length, 0);
  assert.equal(m!.ruleId, 'github-pat');
  assert.equal(m!.line, 3);
  assert.ok(!m!.masked.includes(TOKEN.slice(4)), 'masked line leaks the token');
  assert.match(m!.masked, /^github_token: "\*+"$/);
});

test('a private key spanning lines is reported at its first line, fully masked', () => {
  const body = Array.from(
    { length: 6 },
    (_, i) => 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC' + i,
  ).join('\n');
  const text = `config:\n  key: |\n-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----\n`;
  const found = scanText(text, rules, 'values.yaml').filter((m) => m.ruleId === 'private-key');
  assert.equal(found.length, 1);
  assert.equal(found[0]!.line, 3);
  assert.equal(found[0]!.endLine, 10);
  assert.ok(!found[0]!.masked.includes('BEGIN RSA'));
});

test('long minified lines are cut around the secret', () => {
  const text = 'x'.repeat(5000) + ` token="${TOKEN}" ` + 'y'.repeat(5000);
  const [m] = scanText(text, rules, 'app.min.js');
  assert.ok(m && m.masked.length < 200, 'masked line not cut');
});

test('entropy is Shannon entropy in bits per character', () => {
  assert.equal(shannonEntropy('aaaa'), 0);
  assert.equal(shannonEntropy('abcd'), 2);
  assert.equal(shannonEntropy(''), 0);
});

test('user config adds rules, allow rules and disables built-ins (Trivy secret config keys)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-secret-'));
  const cfg = join(dir, 'secret.yaml');
  writeFileSync(
    cfg,
    [
      'rules:',
      '  - id: acme-internal-token',
      '    category: Acme',
      '    title: Acme internal service token',
      '    severity: HIGH',
      '    keywords: [acme_]',
      "    regex: '\\b(?<secret>acme_[a-z0-9]{24})\\b'",
      'disable-rules: [github-pat]',
      'allow-rules:',
      '  - id: fixtures',
      "    path: '^/srv/fixtures/'",
    ].join('\n'),
  );
  const custom = loadRuleSet(cfg);
  const text = `A=acme_k2j4h6g8f0d1s3a5q7w9e1r3\nB=${TOKEN}\n`;
  const ids = scanText(text, custom, '/srv/app/.env').map((m) => m.ruleId);
  assert.deepEqual(ids, ['acme-internal-token']);
  const analyzer = secretAnalyzer(custom);
  assert.equal(analyzer.wants({ path: '/srv/fixtures/.env', type: 'file', size: 10, mode: 0o644 }), false);
  assert.equal(analyzer.wants({ path: '/srv/app/.env', type: 'file', size: 10, mode: 0o644 }), true);
});

test('bad config files fail with the file and the reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-secret-'));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    'rules:\n  - id: x\n    category: c\n    title: t\n    severity: HIGH\n    regex: "(unclosed"\n',
  );
  assert.throws(
    () => loadRuleSet(bad),
    (e: Error) => e.message.includes('bad.yaml') && /invalid regular expression/.test(e.message),
  );
  writeFileSync(bad, 'disable-rules: [no-such-rule]\n');
  assert.throws(() => loadRuleSet(bad), /unknown built-in secret rule "no-such-rule"/);
  writeFileSync(bad, 'rules: [\n');
  assert.throws(() => loadRuleSet(bad), /bad\.yaml: invalid YAML/);
  assert.throws(() => loadRuleSet(join(dir, 'missing.yaml')), /missing\.yaml: ENOENT/);
});

test('binary files, vendored trees, docs and lock files are skipped', async () => {
  const a = secretAnalyzer(rules);
  const entry = (path: string, size = 100) => ({ path, type: 'file' as const, size, mode: 0o644 });
  assert.equal(a.wants(entry('/app/node_modules/lib/test.pem')), false);
  assert.equal(a.wants(entry('/usr/share/doc/openssl/README')), false);
  assert.equal(a.wants(entry('/app/package-lock.json')), false);
  assert.equal(a.wants(entry('/app/logo.png')), false);
  assert.equal(a.wants(entry('/app/huge.log', 50 * 1024 * 1024)), false);
  assert.equal(a.wants(entry('/app/config/.env')), true);
  const binary = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0]), Buffer.from(`token=${TOKEN}`)]);
  assert.equal(
    await a.analyze({ ...entry('/app/bin/tool', binary.length), content: binary }, { warn() {} }),
    undefined,
  );
});

test('image config: env values and build history are scanned, with the layer of the history entry', () => {
  const config = {
    config: { Env: ['PATH=/usr/bin', `GITHUB_TOKEN=${TOKEN}`] },
    history: [
      { created_by: '/bin/sh -c #(nop) ADD file:abc in /' },
      { created_by: '/bin/sh -c #(nop) ENV X=1', empty_layer: true },
      { created_by: `/bin/sh -c curl -u deploy:Qv7xL2mpZ9 https://repo.example.internal/pkg.tgz | tar xz` },
    ],
  };
  const layers = [
    { index: 0, diffId: 'sha256:aaa' },
    { index: 1, diffId: 'sha256:bbb' },
  ];
  const [res] = scanImageConfig(config, layers, rules);
  assert.ok(res);
  const env = res.findings.find((f) => f.location.fieldPath === 'config.Env[1]');
  assert.equal(env?.id, 'github-pat');
  const hist = res.findings.find((f) => f.location.fieldPath === 'history[2].created_by');
  assert.equal(hist?.id, 'curl-auth-user');
  assert.equal(hist?.location.layer, 'sha256:bbb');
  assert.ok(!JSON.stringify(res).includes('Qv7xL2mpZ9'));
  assert.ok(!JSON.stringify(res).includes(TOKEN));
});

test('typed declarations, code references and placeholders are not secrets; literal values still are', () => {
  const quiet = [
    'export async function hashPassword(password: string): Promise<string> {',
    '  async completeBootstrap(token: string, username: string, password: string): Promise<void> {',
    "const Password = z.string().min(12, 'at least 12 characters').max(1024);",
    '      password: reg.username ? password : undefined,',
    '  onChange={(e) => setF({ ...f, password: e.target.value })}',
    '  api_tokens: ApiTokensTable;',
    "import { SECRET_ANALYZER, secretAnalyzer, secretResults } from './analyzer.js';",
    'Registry password: BULWARK_PASSWORD or --password-stdin (with --username).',
    ' * (a `RUN curl -u user:pass` or `ENV TOKEN=...` stays in the history)',
    'fn login(user: &str, password: &str) -> Result<()> {',
    '    password: Option<String>,',
  ];
  for (const line of quiet) assert.deepEqual(scanText(line, rules, 'src/x.ts'), [], line);
  const loud = [
    'const password = "Vq8#mZ2!rT9x";',
    'password: Vq8mZ2rT9xW4',
    'db_password=k3Lp9QzX7vWm',
    'api_key: 9f8e7d6c5b4a39281706f5e4d3c2b1a0',
  ];
  for (const line of loud) assert.ok(scanText(line, rules, 'config.yaml').length > 0, `missed: ${line}`);
});

test("the project's own sources raise no secret finding (they are full of password: string)", async () => {
  const { execFileSync } = await import('node:child_process');
  const root = join(import.meta.dirname, '..', '..');
  const out = execFileSync(
    process.execPath,
    [
      join(root, 'bin', 'bulwark'),
      '-q',
      'scan',
      'fs',
      join(root, 'src'),
      '--scanners',
      'secret',
      '-f',
      'json',
    ],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const found = (
    JSON.parse(out) as {
      results: { target: string; findings: { id: string; location: { line?: number } }[] }[];
    }
  ).results.flatMap((r) => r.findings.map((f) => `${r.target}:${f.location.line} ${f.id}`));
  assert.deepEqual(found, []);
});
