import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import {
  createJavaCataloger,
  javaCataloger,
  parseManifest,
  parseProperties,
} from '../../src/catalog/java/index.js';
import { DEFAULT_ARCHIVE_LIMITS } from '../../src/catalog/java/archive.js';
import { runCataloger } from '../helpers/catalog.js';
import { SHARED } from '../helpers/shared.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SYFT = `${SHARED}/corpora/syft`;
const JAVA = `${SYFT}/syft/pkg/cataloger/java/testdata`;
const CACHE = join(ROOT, '.cache/catalog-java');

function syftExpected(testName: string, caseName?: string): string[] {
  const lines = readFileSync(`${SYFT}/expected_index.jsonl`, 'utf8').split('\n');
  const row = lines
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .find((r) => r.test === testName && (caseName === undefined || r.case === caseName));
  assert.ok(row, `no syft expectation for ${testName}`);
  return [
    ...new Set<string>(
      row.packages.filter((p: { purl?: string }) => p.purl).map((p: { purl: string }) => p.purl),
    ),
  ].sort();
}

/** Builds a cached fixture directory once (mkdir lock so parallel test files don't collide). */
function buildOnce(name: string, build: (dir: string) => void): string {
  const dir = join(CACHE, name);
  if (existsSync(join(dir, '.done'))) return dir;
  mkdirSync(CACHE, { recursive: true });
  const lock = `${dir}.lock`;
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(join(dir, '.done'))) return dir;
      if (i > 600) throw new Error(`timed out waiting for ${lock}`);
      execFileSync('sleep', ['0.1']);
    }
  }
  try {
    const tmp = `${dir}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    build(tmp);
    writeFileSync(join(tmp, '.done'), '');
    renameSync(tmp, dir);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return dir;
}

/** zip -r of a directory's contents, as syft's Makefile builds its jar-metadata fixtures. */
function zipDir(src: string, dest: string, extra: string[] = []): void {
  execFileSync('zip', ['-q', '-r', ...extra, dest, '.'], { cwd: src });
}

const realJars = () =>
  buildOnce('real-jars-v2', (dir) =>
    execFileSync(join(ROOT, 'test/catalog/fixtures/java/build-jars.sh'), [dir]),
  );

test('syft jar-metadata regressions: shaded poms, pom.xml-only jars, Jenkins plugin manifest', async () => {
  const dir = buildOnce('syft-jar-metadata', (out) => {
    const src = `${JAVA}/jar-metadata`;
    for (const name of [
      'api-all-2.0.0-sources',
      'jackson-core-2.15.2',
      'com.fasterxml.jackson.core.jackson-core-2.15.2',
      'micronaut-aop-4.9.11',
    ]) {
      zipDir(join(src, name), join(out, `${name}.jar`));
    }
    zipDir(join(src, 'jenkins-plugins/gradle/2.11'), join(out, 'gradle.hpi')); // no version in the name, as in syft
  });
  const files: Record<string, Buffer> = {};
  for (const n of readdirSync(dir)) if (!n.startsWith('.')) files[`/jars/${n}`] = readFileSync(join(dir, n));
  const { packages, warnings } = await runCataloger(javaCataloger, files);
  assert.deepEqual(warnings, []);
  assert.deepEqual(
    [...new Set(packages.map((p) => p.purl))].sort(),
    syftExpected('Test_parseJavaArchive_regressions'),
  );
  // one package per jar, except the shaded api-all (two poms)
  assert.equal(packages.length, 6);
  const byPath = (p: string) => packages.filter((x) => x.record?.path === p);
  assert.deepEqual(
    byPath('/jars/api-all-2.0.0-sources.jar').map((p) => p.metadata?.confidence),
    ['pom.properties', 'pom.properties'],
  );
  const jackson = byPath('/jars/jackson-core-2.15.2.jar')[0]!;
  assert.equal(jackson.metadata?.confidence, 'pom.xml');
  assert.deepEqual(jackson.licenses, ['The Apache Software License, Version 2.0']);
  assert.equal(jackson.name, 'com.fasterxml.jackson.core:jackson-core');
  assert.equal(jackson.ecosystem, 'Maven');
  const gradle = byPath('/jars/gradle.hpi')[0]!;
  assert.equal(gradle.metadata?.confidence, 'manifest');
  assert.equal(gradle.metadata?.groupGuessed, undefined);
});

test('real jars built with javac/jar: war and ear nesting, stored Spring Boot libs, fat jar', async () => {
  const dir = realJars();
  const files: Record<string, Buffer> = {};
  for (const n of readdirSync(dir))
    if (!n.startsWith('.')) files[`/opt/app/${n}`] = readFileSync(join(dir, n));
  const { packages, warnings } = await runCataloger(javaCataloger, files);
  assert.deepEqual(warnings, []);
  const rows = packages
    .map(
      (p) =>
        `${p.record?.path} ${String(p.metadata?.virtualPath ?? '-')} ${p.purl} ${p.metadata?.confidence}`,
    )
    .sort();
  assert.deepEqual(rows, [
    '/opt/app/boot-app-0.9.0.jar - pkg:maven/boot-app/boot-app@0.9.0 manifest',
    '/opt/app/boot-app-0.9.0.jar /opt/app/boot-app-0.9.0.jar:BOOT-INF/lib/greeting-lib-1.4.2.jar pkg:maven/com.example/greeting-lib@1.4.2 pom.properties',
    '/opt/app/enterprise-1.0.0.ear - pkg:maven/enterprise/enterprise@1.0.0 filename',
    '/opt/app/enterprise-1.0.0.ear /opt/app/enterprise-1.0.0.ear:lib/commons-lang3-3.12.0.jar pkg:maven/org.apache.commons/commons-lang3@3.12.0 pom.properties',
    '/opt/app/enterprise-1.0.0.ear /opt/app/enterprise-1.0.0.ear:webapp-3.1.0.war pkg:maven/com.example/webapp@3.1.0 pom.properties',
    '/opt/app/enterprise-1.0.0.ear /opt/app/enterprise-1.0.0.ear:webapp-3.1.0.war:WEB-INF/lib/greeting-lib-1.4.2.jar pkg:maven/com.example/greeting-lib@1.4.2 pom.properties',
    '/opt/app/enterprise-1.0.0.ear /opt/app/enterprise-1.0.0.ear:webapp-3.1.0.war:WEB-INF/lib/util-core-2.0.0-RC1.jar pkg:maven/org.example/util-core@2.0.0-RC1 pom.properties',
    '/opt/app/fat-app-0.1.0.jar - pkg:maven/fat-app/fat-app@0.1.0 filename',
    '/opt/app/fat-app-0.1.0.jar - pkg:maven/org.example/util-core@2.0.0-RC1 pom.properties',
    '/opt/app/greeting-lib-1.4.2.jar - pkg:maven/com.example/greeting-lib@1.4.2 pom.properties',
    '/opt/app/webapp-3.1.0.war - pkg:maven/com.example/webapp@3.1.0 pom.properties',
    '/opt/app/webapp-3.1.0.war /opt/app/webapp-3.1.0.war:WEB-INF/lib/greeting-lib-1.4.2.jar pkg:maven/com.example/greeting-lib@1.4.2 pom.properties',
    '/opt/app/webapp-3.1.0.war /opt/app/webapp-3.1.0.war:WEB-INF/lib/util-core-2.0.0-RC1.jar pkg:maven/org.example/util-core@2.0.0-RC1 pom.properties',
  ]);
  // the war's pom.xml: runtime dependencies, ${property} versions resolved, test scope left out
  const war = packages.find(
    (p) => p.record?.path === '/opt/app/webapp-3.1.0.war' && !p.metadata?.virtualPath,
  )!;
  assert.deepEqual(war.dependsOn, [
    { name: 'com.example:greeting-lib', version: '1.4.2' },
    { name: 'org.example:util-core', version: '2.0.0-RC1' },
  ]);
  const greeting = packages.find((p) => p.record?.path === '/opt/app/greeting-lib-1.4.2.jar')!;
  assert.deepEqual(greeting.licenses, ['Apache-2.0']);
  // no group recorded anywhere: the artifact id stands in for it, and the package says so
  assert.equal(packages.find((p) => p.purl.startsWith('pkg:maven/fat-app/'))!.metadata?.groupGuessed, true);
});

test("Debian's /usr/share/java jars agree with Debian's own maven-repo coordinates", async () => {
  // /usr/share/maven-repo/<group path>/<artifact>/<version>/<artifact>-<version>.jar links to the jar
  // in /usr/share/java: Debian's statement of each jar's Maven coordinates.
  const expected = new Map<string, Set<string>>();
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isSymbolicLink() && n.endsWith('.jar')) {
        const parts = relative('/usr/share/maven-repo', p).split('/');
        const [version, artifact] = [parts.at(-2)!, parts.at(-3)!];
        if (n !== `${artifact}-${version}.jar`) continue; // classifier jars, "debian" and "3.x" aliases
        const target = realpathSync(p);
        if (!target.startsWith('/usr/share/java/')) continue;
        const purl = `pkg:maven/${parts.slice(0, -3).join('.')}/${artifact}@${version}`;
        expected.set(target, (expected.get(target) ?? new Set()).add(purl));
      }
    }
  };
  walk('/usr/share/maven-repo');
  const files: Record<string, Buffer> = {};
  for (const n of readdirSync('/usr/share/java')) {
    const p = `/usr/share/java/${n}`;
    if (n.endsWith('.jar') && lstatSync(p).isFile()) files[p] = readFileSync(p);
  }
  assert.ok(files['/usr/share/java/commons-lang3.jar'], 'libcommons-lang3-java must be installed');
  const { packages, warnings } = await runCataloger(javaCataloger, files);
  assert.deepEqual(warnings, []);
  let checked = 0;
  for (const [jar, purls] of expected) {
    const found = packages.filter((p) => p.record?.path === jar);
    assert.ok(found.length > 0, `no package for ${jar}`);
    // Where the jar carries Maven's pom.properties, its own identity must be one Debian states.
    const own = found.filter((p) => p.metadata?.confidence === 'pom.properties' && purls.has(p.purl));
    const hasPom = found.some((p) => p.metadata?.confidence === 'pom.properties');
    const fromManifest = found.some((p) => p.metadata?.confidence !== 'pom.properties');
    if (hasPom && !fromManifest) {
      assert.equal(own.length, 1, `${jar}: ${found.map((p) => p.purl).join(' ')} vs ${[...purls].join(' ')}`);
      checked++;
    }
  }
  assert.ok(checked >= 20, `only ${checked} jars compared`);
  const lang3 = packages.find((p) => p.record?.path === '/usr/share/java/commons-lang3.jar')!;
  assert.equal(lang3.purl, 'pkg:maven/org.apache.commons/commons-lang3@3.12.0');
});

test('MANIFEST.MF and pom.properties parsing follows syft fixtures', () => {
  const m = (n: string) => parseManifest(readFileSync(`${JAVA}/manifest/${n}`, 'utf8'));
  assert.equal(
    m('continuation').get('plugin-scmurl'),
    'https://github.com/jenkinsci/plugin-pom/example-jenkins-plugin',
  );
  assert.equal(m('standard-info').get('implementation-version'), 'the-impl-version');
  assert.equal(m('standard-info').get('name'), 'the-best-name');
  assert.equal(m('version-with-date').get('implementation-version'), '1.3 2244 October 5 2005');
  // only the main section counts; junk lines are ignored
  const extra = m('extra-empty-lines');
  assert.equal(extra.get('created-by'), 'Apache Maven 3.6.3');
  assert.equal(extra.get('name'), undefined);
  // lines without "name:" and anything indented after them are junk, not continuations of the key
  assert.equal(m('leading-space').get('key-keykeykey'), 'initialconfig:com');
  assert.equal(m('leading-space').get('should'), 'parse');

  const p = (n: string) => parseProperties(readFileSync(`${JAVA}/pom/${n}.pom.properties`, 'utf8'));
  assert.deepEqual(
    [...p('small')],
    [
      ['groupId', 'org.anchore'],
      ['artifactId', 'example-java-app-maven'],
      ['version', '0.1.0'],
    ],
  );
  assert.deepEqual(
    [...p('colon-delimited')],
    [
      ['groupId', 'org.anchore'],
      ['artifactId', 'example-java-app-maven'],
      ['version', '0.1.0'],
    ],
  );
  assert.equal(p('equals-delimited-with-colons').get('artifactId'), 'example-java:app-maven');
  assert.equal(p('equals-delimited-with-colons').get('version'), '0.1.0:something');
  assert.equal(p('colon-delimited-with-equals').get('artifactId'), 'example-java=app-maven');
  assert.equal(p('extra').get('name'), 'something-here');
  assert.equal(parseProperties('a=b\\\n   c\nx\\:y=\\u0041').get('a'), 'bc');
  assert.equal(parseProperties('x\\:y=\\u0041').get('x:y'), 'A');
});

test('a manifest version with a trailing date keeps only the version', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-java-'));
  try {
    mkdirSync(join(dir, 'META-INF'));
    writeFileSync(join(dir, 'META-INF/MANIFEST.MF'), readFileSync(`${JAVA}/manifest/version-with-date`));
    zipDir(dir, join(dir, 'old-lib.jar'));
    const { packages } = await runCataloger(javaCataloger, {
      '/l/old-lib.jar': readFileSync(join(dir, 'old-lib.jar')),
    });
    assert.deepEqual(
      packages.map((p) => p.purl),
      ['pkg:maven/old-lib/old-lib@1.3'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('gradle.lockfile equals syft expectations; test-only configurations are dev', async () => {
  const { packages } = await runCataloger(javaCataloger, {
    '/p/gradle.lockfile': readFileSync(`${JAVA}/gradle/gradle.lockfile`),
  });
  assert.deepEqual(packages.map((p) => p.purl).sort(), syftExpected('Test_parserGradleLockfile'));
  assert.deepEqual(
    packages
      .filter((p) => p.dev)
      .map((p) => p.name)
      .sort(),
    ['junit:junit', 'org.hamcrest:hamcrest-core'],
  );
});

// ---- hostile archives ----

/** Rewrites the size an entry's central directory record declares (what yauzl trusts). */
function patchDeclaredSize(zip: Buffer, entry: string, size: number): Buffer {
  const out = Buffer.from(zip);
  for (let i = out.length - 22; i >= 0; i--) {
    if (out.readUInt32LE(i) !== 0x02014b50) continue;
    const nameLen = out.readUInt16LE(i + 28);
    if (out.toString('utf8', i + 46, i + 46 + nameLen) === entry) {
      out.writeUInt32LE(size, i + 24);
      return out;
    }
  }
  throw new Error(`${entry} not in central directory`);
}

test('zip bombs: ratio, size and budget caps refuse to inflate; lying sizes stop the stream', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-java-'));
  try {
    // 40 MB of zeros compresses ~1000:1
    mkdirSync(join(dir, 'bomb/lib'), { recursive: true });
    execFileSync('sh', ['-c', 'head -c 41943040 /dev/zero > bomb/lib/zeros.jar'], { cwd: dir });
    writeFileSync(join(dir, 'bomb/lib/ok.jar'), readFileSync(join(realJars(), 'greeting-lib-1.4.2.jar')));
    zipDir(join(dir, 'bomb'), join(dir, 'bomb.war'));
    const bomb = readFileSync(join(dir, 'bomb.war'));
    assert.ok(bomb.length < 200_000);
    const rss = process.memoryUsage().rss;
    const r1 = await runCataloger(javaCataloger, { '/x/bomb-1.0.war': bomb });
    assert.ok(process.memoryUsage().rss - rss < 30 * 1024 * 1024, 'the bomb was not inflated');
    assert.equal(r1.warnings.length, 1);
    assert.match(
      r1.warnings[0]!,
      /^\/x\/bomb-1\.0\.war: lib\/zeros\.jar: skipped, compression ratio \d+:1 looks like a zip bomb/,
    );
    assert.ok(
      r1.packages.some((p) => p.purl === 'pkg:maven/com.example/greeting-lib@1.4.2'),
      'the honest entry is still read',
    );

    // per-entry size cap and whole-archive budget
    const small = createJavaCataloger({
      ...DEFAULT_ARCHIVE_LIMITS,
      maxRatio: 1e9,
      maxEntryBytes: 1024 * 1024,
    });
    const r2 = await runCataloger(small, { '/x/bomb-1.0.war': bomb });
    assert.match(r2.warnings[0]!, /lib\/zeros\.jar: skipped, 41943040 bytes uncompressed exceeds 1048576/);
    const tight = createJavaCataloger({ ...DEFAULT_ARCHIVE_LIMITS, maxRatio: 1e9, maxTotalBytes: 1000 });
    const r3 = await runCataloger(tight, { '/x/bomb-1.0.war': bomb });
    assert.ok(r3.warnings.some((w) => /exceeds the total uncompressed size budget/.test(w)));

    // an entry that inflates past the size its header declares is cut off
    const liar = patchDeclaredSize(bomb, 'lib/ok.jar', 100);
    const r4 = await runCataloger(javaCataloger, { '/x/liar.war': liar });
    assert.ok(
      r4.warnings.some((w) => /^\/x\/liar\.war: lib\/ok\.jar: cannot read entry/.test(w)),
      r4.warnings.join('\n'),
    );
    assert.ok(!r4.packages.some((p) => p.purl.includes('greeting-lib')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nesting depth is capped; ".." entry names are read, not rejected; corrupt archives warn', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-java-'));
  try {
    // greeting-lib inside 6 levels of jars
    let inner = join(realJars(), 'greeting-lib-1.4.2.jar');
    for (let level = 1; level <= 6; level++) {
      const d = join(dir, `l${level}`);
      mkdirSync(join(d, 'lib'), { recursive: true });
      writeFileSync(join(d, 'lib', `level${level - 1}.jar`), readFileSync(inner));
      inner = join(dir, `level${level}.jar`);
      zipDir(d, inner);
    }
    const deep = await runCataloger(javaCataloger, { '/d/level6.jar': readFileSync(inner) });
    assert.ok(!deep.packages.some((p) => p.purl.includes('greeting-lib')));
    assert.equal(deep.warnings.length, 1);
    assert.match(
      deep.warnings[0]!,
      /level6\.jar:lib\/level5\.jar:lib\/level4\.jar:lib\/level3\.jar:lib\/level2\.jar: lib\/level1\.jar: not opened, nested deeper than 4 archives/,
    );
    const shallow = await runCataloger(javaCataloger, {
      '/d/level3.jar': readFileSync(join(dir, 'level3.jar')),
    });
    assert.ok(shallow.packages.some((p) => p.purl === 'pkg:maven/com.example/greeting-lib@1.4.2'));

    // an entry named ../../../lib.jar (same-length rename of aa/aa/aa/lib.jar in the zip bytes)
    const t = join(dir, 'trav');
    mkdirSync(join(t, 'aa/aa/aa'), { recursive: true });
    writeFileSync(join(t, 'aa/aa/aa/lib.jar'), readFileSync(join(realJars(), 'greeting-lib-1.4.2.jar')));
    zipDir(t, join(dir, 'trav.jar'));
    const bytes = readFileSync(join(dir, 'trav.jar'));
    const renamed = Buffer.from(
      bytes.toString('latin1').split('aa/aa/aa/lib.jar').join('../../../lib.jar'),
      'latin1',
    );
    const trav = await runCataloger(javaCataloger, { '/t/trav-1.0.jar': renamed });
    assert.deepEqual(trav.warnings, []);
    const nested = trav.packages.find((p) => p.purl.includes('greeting-lib'))!;
    assert.equal(nested.metadata?.virtualPath, '/t/trav-1.0.jar:../../../lib.jar');

    // not a zip at all (syft's corrupt fixture), a truncated jar, and a non-zip .rar
    const good = readFileSync(join(realJars(), 'webapp-3.1.0.war'));
    const bad = await runCataloger(javaCataloger, {
      '/c/example.jar': readFileSync(`${JAVA}/corrupt/example.jar`),
      '/c/half.war': good.subarray(0, Math.floor(good.length / 2)),
      '/c/winrar.rar': Buffer.from('Rar!\x1a\x07\x00 not a zip'),
    });
    assert.deepEqual(bad.packages, []);
    assert.equal(bad.warnings.length, 2);
    assert.match(bad.warnings[0]!, /^\/c\/example\.jar: not a readable zip archive: /);
    assert.match(bad.warnings[1]!, /^\/c\/half\.war: not a readable zip archive: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('standalone pom.xml: the project and its literal/self-resolved dependencies, as syft expects', async () => {
  const { packages, warnings } = await runCataloger(javaCataloger, {
    '/src/app/pom.xml': readFileSync(`${JAVA}/pom/example-java-app-maven/pom.xml`),
    '/src/text/pom.xml': readFileSync(`${JAVA}/pom/commons-text-1.10.0/pom.xml`),
    '/src/bad/pom.xml': readFileSync(`${JAVA}/corrupt/pom.xml`),
  });
  assert.deepEqual(warnings, ['/src/bad/pom.xml: cannot parse pom.xml: no <project> element']);
  const app = packages.filter((p) => p.record?.path === '/src/app/pom.xml');
  assert.deepEqual(app.map((p) => p.purl).sort(), syftExpected('Test_parsePomXML'));
  assert.deepEqual(app.find((p) => p.name === 'org.anchore:example-java-app-maven')!.dependsOn, [
    { name: 'com.joda:joda-time', version: '2.9.2' },
  ]);
  assert.equal(app.find((p) => p.name === 'junit:junit')!.dev, true); // <scope>test</scope>
  // commons-text: ${graalvm.version} resolved from its <properties>; junit-jupiter (version managed by
  // a BOM that is not in the artifact) left out rather than guessed
  const text = packages.filter((p) => p.record?.path === '/src/text/pom.xml');
  assert.ok(text.some((p) => p.purl === 'pkg:maven/org.graalvm.js/js@22.0.0.2' && p.dev));
  assert.ok(text.some((p) => p.purl === 'pkg:maven/org.apache.commons/commons-lang3@3.12.0' && !p.dev));
  assert.ok(!text.some((p) => p.name === 'org.junit.jupiter:junit-jupiter'));
  assert.ok(text.every((p) => !p.version.includes('${')));
});

test('encrypted entries are skipped with a warning; the entry-count cap is reported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-java-'));
  try {
    const src = join(dir, 'src');
    mkdirSync(join(src, 'META-INF/maven/org.example/secret'), { recursive: true });
    writeFileSync(
      join(src, 'META-INF/maven/org.example/secret/pom.properties'),
      'groupId=org.example\nartifactId=secret\nversion=1.0\n',
    );
    zipDir(src, join(dir, 'secret-1.0.jar'), ['-P', 'pw']);
    const enc = await runCataloger(javaCataloger, {
      '/e/secret-1.0.jar': readFileSync(join(dir, 'secret-1.0.jar')),
    });
    assert.deepEqual(enc.warnings, [
      '/e/secret-1.0.jar: META-INF/maven/org.example/secret/pom.properties: encrypted entry skipped',
    ]);
    // nothing readable inside: the file name is the last resort, and says so
    assert.deepEqual(
      enc.packages.map((p) => [p.purl, p.metadata?.confidence]),
      [['pkg:maven/secret/secret@1.0', 'filename']],
    );

    const few = createJavaCataloger({ ...DEFAULT_ARCHIVE_LIMITS, maxEntries: 2 });
    const capped = await runCataloger(few, {
      '/e/app.war': readFileSync(join(realJars(), 'webapp-3.1.0.war')),
    });
    assert.ok(
      capped.warnings.some((w) =>
        /^\/e\/app\.war: archive lists \d+ entries; reading only the first 2$/.test(w),
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
