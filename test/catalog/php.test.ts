import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { phpCataloger } from '../../src/catalog/php/index.js';
import { runCataloger } from '../helpers/catalog.js';
import { SHARED } from '../helpers/shared.js';
import { syftExpectedPurls } from '../helpers/syft.js';

const SYFT = `${SHARED}/corpora/syft`;
const PHP = `${SYFT}/syft/pkg/cataloger/php/testdata`;

const syftExpected = syftExpectedPurls;

test('composer.lock: production packages equal syft expectations; packages-dev are marked dev', async () => {
  const { packages, warnings } = await runCataloger(phpCataloger, {
    '/app/composer.lock': readFileSync(`${PHP}/composer.lock`),
  });
  assert.deepEqual(warnings, []);
  const prod = packages
    .filter((p) => !p.dev)
    .map((p) => p.purl)
    .sort();
  // syft's test lists only `packages`; we also report `packages-dev`, flagged dev (deliberate).
  assert.deepEqual(prod, syftExpected('TestParseComposerFileLock'));
  const dev = packages
    .filter((p) => p.dev)
    .map((p) => `${p.name}@${p.version}`)
    .sort();
  assert.deepEqual(dev, ['behat/gherkin@v4.6.2', 'codeception/codeception@4.1.6']);
  const adapter = packages.find((p) => p.name === 'alcaeus/mongo-php-adapter')!;
  assert.deepEqual(adapter.licenses, ['MIT']);
  // platform requirements (php, ext-*) are not dependencies
  assert.deepEqual(adapter.dependsOn, [{ name: 'mongodb/mongodb' }]);
  assert.equal(adapter.foundBy, 'php-composer-lock');
  assert.equal(adapter.ecosystem, 'Packagist');
  assert.equal(adapter.record?.path, '/app/composer.lock');
});

test('installed.json: Composer 1 array and Composer 2 object give the packages syft expects', async () => {
  const expected = syftExpected('TestParseInstalledJsonComposerV1');
  for (const v of ['composer_1', 'composer_2']) {
    const { packages, warnings } = await runCataloger(phpCataloger, {
      '/srv/vendor/composer/installed.json': readFileSync(`${PHP}/vendor/${v}/installed.json`),
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(packages.map((p) => p.purl).sort(), expected, v);
    const cors = packages.find((p) => p.name === 'asm89/stack-cors')!;
    assert.deepEqual(cors.dependsOn?.map((d) => d.name).sort(), [
      'symfony/http-foundation',
      'symfony/http-kernel',
    ]);
  }
  // Composer 2 records which packages are dev-only
  const v2 = await runCataloger(phpCataloger, {
    '/srv/vendor/composer/installed.json': readFileSync(`${PHP}/vendor/composer_2/installed.json`),
  });
  assert.deepEqual(
    v2.packages.filter((p) => p.dev).map((p) => p.name),
    ['behat/mink'],
  );
});

test('wants only the real file names; malformed input is a warning naming the file', async () => {
  const { packages, warnings } = await runCataloger(phpCataloger, {
    '/src/composer.lock': readFileSync(`${PHP}/glob-paths/src/composer.lock`),
    '/src/installed.json': readFileSync(`${PHP}/glob-paths/src/installed.json`), // not under vendor/composer
    '/x/vendor/composer/installed.json': '{"packages": "nope"}',
  });
  assert.deepEqual(packages, []);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^\/src\/composer\.lock: cannot parse Composer lock file/);
});

test('a package without a vendor prefix or version is handled without crashing', async () => {
  const lock = JSON.stringify({
    packages: [
      { name: 'monolog/monolog', version: '3.5.0', license: 'MIT' },
      { name: 'noversion/x' },
      42,
      null,
    ],
  });
  const { packages } = await runCataloger(phpCataloger, { '/composer.lock': lock });
  assert.deepEqual(
    packages.map((p) => [p.purl, p.licenses]),
    [['pkg:composer/monolog/monolog@3.5.0', ['MIT']]],
  );
});
