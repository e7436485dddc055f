/**
 * Whole pipeline on this machine's Debian-installed Java and Ruby packages: every registered
 * analyzer runs over the dpkg database, /usr/share/java, and the RubyGems directories, then
 * buildCatalog. (The walk stands in for the image walker, limited to those directories to stay
 * fast; everything else is the real pipeline on real files.) Each jar and gemspec must be ownedBy
 * the Debian package that `dpkg -S` names for its file and carry the OSV ecosystem; dependencies
 * declared in jars' pom.xml and in gemspecs resolve to the other installed jars and gems.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnalysisRecord, FileEntry } from '../../src/core/analyzer.js';
import { buildCatalog, catalogAnalyzers } from '../../src/catalog/index.js';
import { memoryIndex } from '../helpers/catalog.js';

const ROOTS = ['/var/lib/dpkg', '/usr/share/java', '/usr/lib/ruby/gems', '/usr/share/rubygems-integration'];

function walk(root: string, out: FileEntry[]): void {
  const st = lstatSync(root, { throwIfNoEntry: false });
  if (!st) return;
  if (st.isDirectory()) {
    out.push({ path: root, type: 'dir', size: 0, mode: st.mode & 0o7777 });
    for (const n of readdirSync(root)) walk(join(root, n), out);
  } else if (st.isFile()) out.push({ path: root, type: 'file', size: st.size, mode: st.mode & 0o7777 });
}

test(
  'Debian jars and gems: catalogued through the pipeline, ownedBy the package dpkg -S names',
  { skip: !existsSync('/var/lib/dpkg/status') && 'not a dpkg system' },
  async () => {
    const entries: FileEntry[] = [];
    for (const r of ROOTS) walk(r, entries);
    const results = new Map<string, AnalysisRecord[]>();
    const warnings: string[] = [];
    for (const a of catalogAnalyzers()) {
      const recs: AnalysisRecord[] = [];
      for (const e of entries) {
        if (e.type !== 'file' || !a.wants(e) || e.size > (a.maxBytes ?? 64 * 1024 * 1024)) continue;
        const r = await a.analyze(
          { ...e, content: readFileSync(e.path) },
          { warn: (m) => void warnings.push(m) },
        );
        if (r !== undefined) recs.push({ path: e.path, result: r });
      }
      results.set(a.name, recs);
    }
    const cat = buildCatalog({
      artifact: { kind: 'rootfs', name: 'dir:/', layers: [] },
      files: memoryIndex(entries),
      results,
      warnings,
    });
    const mine = cat.packages.filter((p) => p.type === 'maven' || p.type === 'gem');
    const jars = mine.filter((p) => p.type === 'maven');
    const gems = mine.filter((p) => p.type === 'gem');
    assert.ok(jars.length >= 20 && gems.length >= 60, `${jars.length} maven, ${gems.length} gem packages`);
    assert.ok(jars.every((p) => p.ecosystem === 'Maven') && gems.every((p) => p.ecosystem === 'RubyGems'));

    const paths = [...new Set(mine.map((p) => p.locations[0]!.path))];
    const owners = new Map<string, string[]>();
    const r = spawnSync('dpkg', ['-S', ...paths], { encoding: 'utf8' });
    for (const line of r.stdout.split('\n')) {
      const i = line.indexOf(': ');
      if (i > 0 && !line.startsWith('diversion by'))
        owners.set(
          line.slice(i + 2),
          line
            .slice(0, i)
            .split(', ')
            .map((s) => s.split(':')[0]!),
        );
    }
    const debName = new Map(cat.packages.filter((p) => p.type === 'deb').map((d) => [d.id, d.name]));
    let owned = 0;
    for (const p of mine) {
      const path = p.locations[0]!.path;
      const want = owners.get(path);
      const got = p.ownedBy ? debName.get(p.ownedBy) : undefined;
      if (want) {
        assert.ok(got && want.includes(got), `${path}: ownedBy ${got}, dpkg -S says ${want.join(', ')}`);
        owned++;
      } else assert.equal(got, undefined, `${path} is owned by no package`);
    }
    assert.ok(owned >= 80, `only ${owned} owned`);
    const lang3 = jars.find((p) => p.purl === 'pkg:maven/org.apache.commons/commons-lang3@3.12.0')!;
    assert.equal(debName.get(lang3.ownedBy!), 'libcommons-lang3-java');
    const rack = gems.find((p) => p.name === 'rack')!;
    assert.equal(debName.get(rack.ownedBy!), 'ruby-rack');

    // a jar's pom.xml dependencies resolve to the other installed jars (Debian's classpath)
    const byId = new Map(cat.packages.map((p) => [p.id, p]));
    for (const p of jars) for (const d of p.dependsOn ?? []) assert.equal(byId.get(d)!.type, 'maven');
    const epa = jars.find((p) => p.name === 'com.google.errorprone:error_prone_annotation')!;
    const guava = byId.get(epa.dependsOn!.find((d) => byId.get(d)!.name === 'com.google.guava:guava')!)!;
    assert.equal(guava.locations[0]!.path, '/usr/share/java/guava.jar');
    // a gem's runtime dependency on another installed gem resolves (typeprof → rbs)
    const typeprof = gems.find((p) => p.name === 'typeprof')!;
    assert.deepEqual(
      typeprof.dependsOn?.map((d) => byId.get(d)!.name),
      ['rbs'],
    );
  },
);
