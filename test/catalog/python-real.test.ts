/**
 * Python installed-package cataloger on this machine's real Debian dist-packages (egg-info
 * directories and files, dist-info), compared with what Python's own importlib.metadata reports
 * over the same path: names, versions and unconditional requirements.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pythonCataloger, normalizePyName } from '../../src/catalog/python/index.js';
import { runCataloger } from '../helpers/catalog.js';

const SITE = '/usr/lib/python3/dist-packages';

const PY = `
import json, importlib.metadata as m
out = []
for d in m.distributions(path=[${JSON.stringify(SITE)}]):
    reqs = [r for r in (d.requires or []) if 'extra ==' not in r.split(';', 1)[-1] or ';' not in r]
    out.append({"name": d.metadata["Name"], "version": d.version, "requires": reqs})
print(json.dumps(out))
`;

/** Only the files the cataloger wants, read from disk (like the walker, without reading every .py). */
function wantedFiles(root: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const walk = (d: string, depth: number) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) {
        if (depth < 1) walk(p, depth + 1);
      } else if (
        st.isFile() &&
        pythonCataloger.wants({ path: p, type: 'file', size: st.size, mode: st.mode })
      ) {
        out[p] = readFileSync(p);
      }
    }
  };
  walk(root, 0);
  return out;
}

test(
  'Debian dist-packages: same distributions, versions and requirements as importlib.metadata',
  { skip: !existsSync(SITE) },
  async () => {
    const py = JSON.parse(execFileSync('python3', ['-c', PY], { encoding: 'utf8' })) as {
      name: string;
      version: string;
      requires: string[];
    }[];
    assert.ok(py.length >= 10, `importlib found ${py.length}`);
    const { packages, warnings } = await runCataloger(pythonCataloger, wantedFiles(SITE));
    assert.deepEqual(warnings, []);
    const k = (p: { name: string; version: string }) => `${p.name}@${p.version}`;
    assert.deepEqual(packages.map(k).sort(), py.map(k).sort());
    // Debian ships egg-info directories: at least some distributions come from them
    assert.ok(packages.some((p) => (p.record?.path ?? '').endsWith('.egg-info/PKG-INFO')));
    for (const p of packages) {
      assert.equal(p.foundBy, 'python-installed');
      assert.ok(p.purl.startsWith(`pkg:pypi/${normalizePyName(p.name)}@`), p.purl);
      const mine = new Set((p.dependsOn ?? []).map((d) => normalizePyName(d.name)));
      const cands = py.filter((x) => k(x) === k(p));
      // one of the same-named distributions (cryptography is there twice) has exactly these requirements
      assert.ok(
        cands.some((x) => {
          const theirs = new Set(x.requires.map((r) => normalizePyName(/^[A-Za-z0-9._-]+/.exec(r)![0])));
          return theirs.size === mine.size && [...theirs].every((n) => mine.has(n));
        }),
        `requirements of ${k(p)}: ${[...mine].join(',')} vs ${cands.map((c) => c.requires.join(',')).join(' | ')}`,
      );
    }
  },
);

test(
  'requirements.txt written by `pip freeze` over the same directory: every pin, as pip wrote it',
  { skip: !existsSync(SITE) },
  async () => {
    const frozen = execFileSync('python3', ['-m', 'pip', 'freeze', '--all', '--path', SITE], {
      encoding: 'utf8',
    });
    const pins = frozen.split('\n').filter((l) => /^[A-Za-z0-9][\w.-]*==\S+$/.test(l.trim()));
    assert.ok(pins.length >= 10, frozen);
    const { packages, warnings } = await runCataloger(pythonCataloger, { '/app/requirements.txt': frozen });
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      packages.map((p) => `${p.name}==${p.version}`),
      pins.map((l) => l.trim()),
    );
    assert.ok(packages.every((p) => p.foundBy === 'python-requirements'));
  },
);
