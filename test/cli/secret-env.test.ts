/**
 * NAME_FILE for the secrets Bulwark reads from its environment (Kubernetes mounts Secrets as files).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BulwarkError } from '../../src/core/errors.js';
import { loadSecretFiles } from '../../src/cli/secret-env.js';

test('NAME_FILE: the file content (without its newline) stands for NAME; a set NAME wins; errors never show content', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-secret-env-'));
  try {
    writeFileSync(join(dir, 'key'), 'c2VjcmV0LWtleS0zMi1ieXRlcy1sb25nLXZhbHVlISE=\n');
    writeFileSync(join(dir, 'url'), 'postgres://u:p@db/console');
    const env: NodeJS.ProcessEnv = {
      BULWARK_SECRET_KEY_FILE: join(dir, 'key'),
      BULWARK_DATABASE_URL_FILE: join(dir, 'url'),
      BULWARK_TOKEN: 'bwk_given',
      BULWARK_TOKEN_FILE: join(dir, 'missing'),
    };
    loadSecretFiles(env);
    assert.equal(env.BULWARK_SECRET_KEY, 'c2VjcmV0LWtleS0zMi1ieXRlcy1sb25nLXZhbHVlISE=');
    assert.equal(env.BULWARK_DATABASE_URL, 'postgres://u:p@db/console');
    assert.equal(env.BULWARK_TOKEN, 'bwk_given', 'a set variable wins over its _FILE');
    const bad: NodeJS.ProcessEnv = { BULWARK_NATS_AUTH_FILE: join(dir, 'nope') };
    assert.throws(
      () => loadSecretFiles(bad),
      (e: unknown) =>
        e instanceof BulwarkError &&
        e.code === 'USAGE' &&
        /BULWARK_NATS_AUTH_FILE: cannot read .*nope: ENOENT/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
