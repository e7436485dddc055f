/** Shared CLI plumbing used by `bulwark sbom` and `bulwark scan`: target options and output. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDuration, parsePlatform, resolveTargetOptions } from '../../src/cli/target-options.js';
import { writeOutput } from '../../src/cli/output.js';
import { memoryLogger } from '../../src/core/log.js';
import { makeTlsFiles } from '../fixtures/index.js';

describe('target options', () => {
  it('parses durations the way Trivy writes them', () => {
    assert.equal(parseDuration('5m0s'), 300_000);
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('300'), 300_000);
    assert.equal(parseDuration('1.5s'), 1500);
    for (const bad of ['', 'abc', '5x', '5m junk', 'm5'])
      assert.throws(() => parseDuration(bad), /invalid --timeout/, bad);
  });

  it('parses platforms os/arch[/variant]', () => {
    assert.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
    for (const bad of ['linux', 'linux/', '/amd64', 'linux/arm/v7/x', 'linux amd64']) {
      assert.throws(() => parsePlatform(bad), /invalid --platform .*expected os\/arch/, bad);
    }
  });

  it('takes the password from BULWARK_PASSWORD, warns for --password, refuses half credentials', async () => {
    const log = memoryLogger();
    const a = await resolveTargetOptions({ username: 'alice', timeout: '5m0s' }, log, {
      BULWARK_PASSWORD: 's3cret',
    });
    assert.deepEqual([a.username, a.password, a.timeoutMs, a.insecure], ['alice', 's3cret', 300_000, false]);
    assert.deepEqual(log.warnings, []);

    const b = await resolveTargetOptions({ username: 'alice', password: 'pw' }, log, {});
    assert.equal(b.password, 'pw');
    assert.match(log.warnings[0]!, /--password is visible .* process list/);
    assert.doesNotMatch(log.warnings.join('\n'), /pw/, 'the warning never repeats the password');

    const c = await resolveTargetOptions({}, log, { BULWARK_USERNAME: 'bob', BULWARK_PASSWORD: 'x' });
    assert.deepEqual([c.username, c.password], ['bob', 'x']);

    await assert.rejects(resolveTargetOptions({ username: 'alice' }, log, {}), /needs a password/);
    await assert.rejects(resolveTargetOptions({ password: 'pw' }, memoryLogger(), {}), /needs --username/);
    const d = await resolveTargetOptions({}, log, { BULWARK_PASSWORD: 'x' });
    assert.equal(d.password, undefined, 'a password without a user is not sent anywhere');
  });

  it('reads --ca-cert and rejects unreadable or non-PEM files by name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-ca-'));
    const { caCert } = await makeTlsFiles(dir); // real CA made by openssl
    const o = await resolveTargetOptions({ caCert }, memoryLogger(), {});
    assert.equal(o.caCert, caCert);
    assert.match(o.caCertPem!, /-----BEGIN CERTIFICATE-----/);
    await assert.rejects(
      resolveTargetOptions({ caCert: join(dir, 'missing.pem') }, memoryLogger(), {}),
      /--ca-cert .*missing\.pem: cannot read \(ENOENT\)/,
    );
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    await assert.rejects(
      resolveTargetOptions({ caCert: notPem }, memoryLogger(), {}),
      /not\.pem: no PEM certificate/,
    );
    await assert.rejects(
      resolveTargetOptions({ platform: 'bogus' }, memoryLogger(), {}),
      /invalid --platform/,
    );
    await assert.rejects(
      resolveTargetOptions({ timeout: '0s' }, memoryLogger(), {}),
      /must be more than zero/,
    );
  });
});

describe('output', () => {
  it('-o FILE writes the whole text and leaves no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-out-'));
    const f = join(dir, 'sbom.json');
    await writeOutput(['{"a":', '1}\n'], f);
    assert.equal(readFileSync(f, 'utf8'), '{"a":1}\n');
    await writeOutput('second\n', f);
    assert.equal(readFileSync(f, 'utf8'), 'second\n', 'an existing file is replaced');
    assert.deepEqual(readdirSync(dir), ['sbom.json']);
  });

  it('names the file when it cannot be written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-out-'));
    const f = join(dir, 'no-such-dir', 'sbom.json');
    await assert.rejects(writeOutput('x', f), (e: Error) => e.message === `cannot write ${f}: ENOENT`);
    assert.equal(existsSync(join(dir, 'no-such-dir')), false);
  });
});
