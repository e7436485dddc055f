import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSeverityList, severityRank } from '../../src/core/types.js';
import { buildPurl, parsePurl } from '../../src/core/purl.js';

test('severity lists parse case-insensitively and reject unknown names', () => {
  assert.deepEqual(parseSeverityList('high, Critical'), ['HIGH', 'CRITICAL']);
  assert.throws(() => parseSeverityList('HIGH,SEVERE'), /unknown severity "SEVERE"/);
  assert.ok(severityRank('CRITICAL') > severityRank('HIGH'));
  assert.ok(severityRank('LOW') > severityRank('UNKNOWN'));
});

test('purls follow the spec for scoped npm, pypi normalisation and deb qualifiers', () => {
  assert.equal(
    buildPurl({ type: 'npm', namespace: '@babel', name: 'core', version: '7.0.0' }),
    'pkg:npm/%40babel/core@7.0.0',
  );
  assert.equal(buildPurl({ type: 'pypi', name: 'Django_Foo', version: '1.0' }), 'pkg:pypi/django-foo@1.0');
  const deb = buildPurl({
    type: 'deb',
    namespace: 'debian',
    name: 'libc6',
    version: '2.36-9+deb12u4',
    qualifiers: { arch: 'amd64', distro: 'debian-12', upstream: undefined },
  });
  assert.equal(deb, 'pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12');
  assert.equal(parsePurl(deb).qualifiers?.distro, 'debian-12');
});
