import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rubyCataloger, parseGemspec, parseGemfileLock } from '../../src/catalog/ruby/index.js';
import { readTree, runCataloger } from '../helpers/catalog.js';
import { SHARED } from '../helpers/shared.js';
import { syftExpectedPurls } from '../helpers/syft.js';

const SYFT = `${SHARED}/corpora/syft`;
const RUBY = `${SYFT}/syft/pkg/cataloger/ruby/testdata`;

const syftExpected = syftExpectedPurls;

test('Gemfile.lock: GEM, GIT and PATH specs equal syft expectations; junk sections ignored', async () => {
  const { packages, warnings } = await runCataloger(rubyCataloger, {
    '/app/Gemfile.lock': readFileSync(`${RUBY}/Gemfile.lock`),
  });
  assert.deepEqual(warnings, []);
  assert.deepEqual(packages.map((p) => p.purl).sort(), syftExpected('TestParseGemfileLockEntries'));
  const get = (n: string) => packages.find((p) => p.name === n)!;
  assert.deepEqual(get('actionmailer').dependsOn, [
    { name: 'actionpack' },
    { name: 'actionview' },
    { name: 'mail' },
  ]);
  assert.deepEqual(get('treetop').dependsOn, [{ name: 'polyglot' }]); // listed twice, once
  assert.equal(get('turbolinks').metadata?.source, 'GIT');
  assert.equal(get('turbolinks').metadata?.revision, '80216ce9d89920bf073709405e3fce6d0a3ccd9a');
  assert.equal(get('google-cloud-errors').metadata?.source, 'PATH');
  assert.equal(get('rails').metadata?.direct, true);
  assert.equal(get('actionview').metadata?.direct, undefined);
  assert.equal(get('rails').ecosystem, 'RubyGems');
  assert.ok(!packages.some((p) => p.name.startsWith('bad-')));
});

test('Gemfile.lock: platform suffixes become the purl platform qualifier; BUNDLED WITH is kept', () => {
  const lock = parseGemfileLock(
    [
      'GEM',
      '  remote: https://rubygems.org/',
      '  specs:',
      '    nokogiri (1.16.0-x86_64-linux)',
      '      racc (~> 1.4)',
      '    nokogiri (1.16.0-arm64-darwin)',
      '      racc (~> 1.4)',
      '    racc (1.7.3)',
      '',
      'PLATFORMS',
      '  arm64-darwin',
      '  x86_64-linux',
      '',
      'DEPENDENCIES',
      '  nokogiri',
      '',
      'BUNDLED WITH',
      '   2.5.3',
      '',
    ].join('\r\n'),
  );
  assert.deepEqual(
    lock.gems.map((g) => [g.name, g.version, g.platform ?? null]),
    [
      ['nokogiri', '1.16.0', 'x86_64-linux'],
      ['nokogiri', '1.16.0', 'arm64-darwin'],
      ['racc', '1.7.3', null],
    ],
  );
  assert.equal(lock.bundledWith, '2.5.3');
  assert.deepEqual(lock.direct, ['nokogiri']);
});

test('Gemfile.lock: purl carries the platform', async () => {
  const text = 'GEM\n  remote: https://rubygems.org/\n  specs:\n    ffi (1.16.3-x86_64-linux-gnu)\n';
  const { packages } = await runCataloger(rubyCataloger, { '/Gemfile.lock': text });
  assert.deepEqual(
    packages.map((p) => p.purl),
    ['pkg:gem/ffi@1.16.3?platform=x86_64-linux-gnu'],
  );
});

test('gemspecs: syft fixtures (freeze, unicode escapes, #{s.name} interpolation)', async () => {
  const { packages, warnings } = await runCataloger(rubyCataloger, {
    '/usr/lib/ruby/gems/3.1.0/specifications/bundler-2.1.4.gemspec': readFileSync(`${RUBY}/bundler.gemspec`),
    '/usr/lib/ruby/gems/3.1.0/specifications/formatador-1.1.0.gemspec': readFileSync(
      `${RUBY}/formatador.gemspec`,
    ),
  });
  assert.deepEqual(warnings, []);
  const purls = packages.map((p) => p.purl).sort();
  assert.deepEqual(
    purls,
    [
      ...syftExpected('TestParseGemspec'),
      ...syftExpected('TestParseGemspec_ResolvesRubyInterpolation'),
    ].sort(),
  );
  const fmt = packages.find((p) => p.name === 'formatador')!;
  assert.equal(fmt.metadata?.homepage, 'https://github.com/geemus/formatador');
  assert.deepEqual(fmt.licenses, ['MIT']);
  const bundler = parseGemspec(readFileSync(`${RUBY}/bundler.gemspec`, 'utf8'))!;
  assert.deepEqual(bundler.licenses, ['MIT']);
});

test('gemspec reader: dependencies, legacy else-branch, Gem::Version, %q, single quotes, no code run', () => {
  const spec = parseGemspec(`# -*- encoding: utf-8 -*-
# stub: demo 0.3.0 x86_64-linux lib

Gem::Specification.new do |spec|
  spec.name = %q{demo}
  spec.version = Gem::Version.new("0.3.0")
  spec.platform = "x86_64-linux".freeze
  spec.license = 'Apache-2.0'
  spec.summary = "has \\"quotes\\" and #{\`rm -rf /\`}".freeze
  system("touch /tmp/should-never-run")
  if spec.respond_to? :add_runtime_dependency then
    spec.add_runtime_dependency(%q<rack>.freeze, [">= 2.0"])
    spec.add_development_dependency(%q<rspec>.freeze, ["~> 3"])
  else
    spec.add_dependency(%q<rack>.freeze, [">= 2.0"])
    spec.add_dependency(%q<rspec>.freeze, ["~> 3"])
  end
  spec.add_dependency "json", ">= 2"
end
`)!;
  assert.deepEqual(spec, {
    name: 'demo',
    version: '0.3.0',
    licenses: ['Apache-2.0'],
    platform: 'x86_64-linux',
    dependencies: ['rack', 'json'],
  });
  assert.ok(!existsSync('/tmp/should-never-run'));
  // only the stub line: still identified
  assert.deepEqual(parseGemspec('# stub: tiny 1.0 ruby lib\n')?.version, '1.0');
  assert.equal(parseGemspec('bogus'), undefined);
});

test('unreadable gemspecs warn with their path; only specifications/ dirs and lock names are wanted', async () => {
  const files = readTree(`${RUBY}/glob-paths`);
  const { packages, warnings } = await runCataloger(rubyCataloger, {
    ...files,
    '/src/app.gemspec': 'Gem::Specification.new do |s| s.name = "x"; s.version = "1" end',
  });
  assert.deepEqual(packages, []);
  assert.deepEqual(warnings.sort(), [
    '/specifications/pkg/nested.gemspec: no gem name and version found in gemspec',
    '/specifications/root.gemspec: no gem name and version found in gemspec',
  ]);
});

test("Debian's installed gems equal `gem list --local`", async () => {
  // The gem paths RubyGems itself searches (Debian: default gems, bundled gems, rubygems-integration).
  const gemPaths = execFileSync('gem', ['env', 'gempath'], { encoding: 'utf8' }).trim().split(':');
  const files: Record<string, Buffer> = {};
  for (const p of gemPaths) {
    if (existsSync(`${p}/specifications`))
      Object.assign(files, readTree(`${p}/specifications`, `${p}/specifications`));
  }
  const { packages, warnings } = await runCataloger(rubyCataloger, files);
  assert.deepEqual(warnings, []);
  const ours = new Map<string, Set<string>>();
  for (const p of packages) ours.set(p.name, (ours.get(p.name) ?? new Set()).add(p.version));
  // "name (1.0, default: 2.0)"
  const theirs = new Map<string, Set<string>>();
  for (const line of execFileSync('gem', ['list', '--local'], { encoding: 'utf8' }).split('\n')) {
    const m = /^(\S+) \((.*)\)$/.exec(line.trim());
    if (m) theirs.set(m[1]!, new Set(m[2]!.split(',').map((v) => v.replace('default:', '').trim())));
  }
  assert.ok(theirs.has('rack'), 'ruby-rack must be installed');
  assert.deepEqual(
    [...ours].map(([n, v]) => `${n} ${[...v].sort().join(',')}`).sort(),
    [...theirs].map(([n, v]) => `${n} ${[...v].sort().join(',')}`).sort(),
  );
  const rack = packages.find((p) => p.name === 'rack')!;
  assert.deepEqual(rack.licenses, ['MIT']);
  const typeprof = packages.find((p) => p.name === 'typeprof')!;
  assert.deepEqual(typeprof.dependsOn, [{ name: 'rbs' }]);
});
