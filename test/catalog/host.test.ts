/**
 * Real-world proof on this machine's own root filesystem: the registered analyzers run over the
 * directories that matter (os-release, the dpkg database, /usr/share/doc, the Python
 * dist-packages), then buildCatalog. The walk here only stands in for the image walker, limited to
 * those directories so the test stays fast; everything else is the real pipeline on real files.
 *
 * Checks: the distro is /etc/os-release's; every Python distribution installed by a Debian package
 * is ownedBy exactly the package that `dpkg -S` names for its metadata file, and the others
 * (pip-installed into /usr/local) by none.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AnalysisRecord, AnalysisResult, FileEntry } from '../../src/core/analyzer.js';
import { buildCatalog, catalogAnalyzers } from '../../src/catalog/index.js';
import { parseKeyValueFile } from '../../src/catalog/os/index.js';
import { memoryIndex } from '../helpers/catalog.js';

const ROOTS = [
  '/etc',
  '/usr/lib/os-release',
  '/var/lib/dpkg',
  '/usr/share/doc',
  '/usr/lib/python3/dist-packages',
  '/usr/local/lib',
];
const TOP_LINKS = ['/lib', '/lib64', '/bin', '/sbin', '/usr', '/usr/lib'];

function entryOf(path: string): FileEntry | undefined {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return undefined;
  if (st.isSymbolicLink())
    return { path, type: 'symlink', size: 0, mode: st.mode & 0o7777, linkTarget: readlinkSync(path) };
  if (st.isDirectory()) return { path, type: 'dir', size: 0, mode: st.mode & 0o7777 };
  if (st.isFile()) return { path, type: 'file', size: st.size, mode: st.mode & 0o7777 };
  return undefined;
}

async function analyzeHost(): Promise<AnalysisResult> {
  const entries: FileEntry[] = [];
  const walk = (p: string, depth: number) => {
    const e = entryOf(p);
    if (!e) return;
    entries.push(e);
    if (e.type === 'dir' && depth < 12) for (const n of readdirSync(p)) walk(join(p, n), depth + 1);
  };
  for (const r of ROOTS) walk(r, r === '/etc' ? 11 : 0);
  for (const t of TOP_LINKS) {
    const e = entryOf(t);
    if (e && !entries.some((x) => x.path === t)) entries.push(e);
  }
  const results = new Map<string, AnalysisRecord[]>();
  const warnings: string[] = [];
  for (const a of catalogAnalyzers()) {
    const recs: AnalysisRecord[] = [];
    for (const e of entries) {
      if (e.type !== 'file' || !a.wants(e)) continue;
      if (e.size > (a.maxBytes ?? 64 * 1024 * 1024)) continue;
      const r = await a.analyze(
        { ...e, content: readFileSync(e.path) },
        { warn: (m) => void warnings.push(m) },
      );
      if (r !== undefined) recs.push({ path: e.path, result: r });
    }
    results.set(a.name, recs);
  }
  return {
    artifact: { kind: 'rootfs', name: 'dir:/', layers: [] },
    files: memoryIndex(entries),
    results,
    warnings,
  };
}

/** `dpkg -S` for many paths: path → owning package names. */
function dpkgOwners(paths: string[]): Map<string, string[]> {
  const r = spawnSync('dpkg', ['-S', ...paths], { encoding: 'utf8' });
  const out = new Map<string, string[]>();
  for (const line of r.stdout.split('\n')) {
    if (!line || line.startsWith('diversion by')) continue;
    const i = line.indexOf(': ');
    const pkgs = line
      .slice(0, i)
      .split(', ')
      .map((p) => p.split(':')[0]!);
    out.set(line.slice(i + 2), pkgs);
  }
  return out;
}

describe(
  'catalog of this machine',
  { skip: !existsSync('/var/lib/dpkg/status') && 'not a dpkg system' },
  () => {
    it('distro, Debian packages, and Python packages owned by the Debian package dpkg -S names', async () => {
      const cat = buildCatalog(await analyzeHost());
      const osr = parseKeyValueFile(readFileSync('/etc/os-release', 'utf8'));
      assert.equal(cat.distro?.id, osr.ID);
      assert.equal(cat.distro?.versionId, osr.VERSION_ID ?? '');

      const debs = cat.packages.filter((p) => p.type === 'deb');
      const installed = spawnSync('dpkg-query', ['-W', '-f', '${db:Status-Status}\n'], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter((s) => s && s !== 'not-installed' && s !== 'config-files').length;
      assert.equal(debs.length, installed);
      assert.equal(new Set(cat.packages.map((p) => p.id)).size, cat.packages.length, 'ids are unique');
      if (osr.ID === 'debian' && osr.VERSION_ID)
        assert.ok(debs.every((p) => p.ecosystem === `Debian:${osr.VERSION_ID}`));

      const pys = cat.packages.filter(
        (p) => p.type === 'pypi' && p.locations[0]!.path.includes('-packages/'),
      );
      const system = pys.filter((p) => p.locations[0]!.path.startsWith('/usr/lib/python3/dist-packages/'));
      assert.ok(system.length >= 5, `found ${system.length} Debian-installed Python distributions`);
      const owners = dpkgOwners(pys.map((p) => p.locations[0]!.path));
      const debById = new Map(debs.map((d) => [d.id, d.name]));
      for (const p of pys) {
        const want = owners.get(p.locations[0]!.path);
        const got = p.ownedBy ? debById.get(p.ownedBy) : undefined;
        if (want)
          assert.ok(
            got && want.includes(got),
            `${p.locations[0]!.path}: ownedBy ${got}, dpkg -S says ${want.join(', ')}`,
          );
        else assert.equal(got, undefined, `${p.locations[0]!.path} is owned by no package`);
      }
      // and the owned ones are the Debian-installed ones
      assert.ok(system.every((p) => p.ownedBy));
    });
  },
);
