/**
 * The fast matching path — the SQLite store's one-query-per-name lookup and its caches, the
 * matcher's memoised groups and record-derived finding parts — against the straightforward one on
 * the real advisories in /work/shared/data/osv: records read from the files, indexed in a plain
 * map, and every package matched against a fresh source (nothing memoised). Packages are made from
 * the records' own range events (introduced, fixed, last_affected versions, so every boundary is
 * hit) and unknown names; each is matched twice through the store (cold, then warm).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdvisoryDb, importOsv } from '../../src/vuln/db/index.js';
import { matchCatalog, matchPackage, type AdvisorySource } from '../../src/vuln/match/index.js';
import type { OsvRecord } from '../../src/vuln/osv.js';
import { ecosystemBase, normalizePackageName } from '../../src/vuln/ecosystem.js';
import type { Package } from '../../src/core/types.js';
import type { VulnerabilityFinding } from '../../src/core/findings.js';
import { SHARED } from '../helpers/shared.js';

const OSV = `${SHARED}/data/osv`;
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-match-store-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const records: OsvRecord[] = [];
for (const eco of readdirSync(OSV))
  for (const f of readdirSync(join(OSV, eco)))
    records.push(JSON.parse(readFileSync(join(OSV, eco, f), 'utf8')) as OsvRecord);

/** The plain reference: a map by (ecosystem base, normalised name), records in id order. */
function referenceSource(): AdvisorySource {
  const idx = new Map<string, OsvRecord[]>();
  const byId = new Map<string, OsvRecord>();
  for (const r of records) {
    byId.set(r.id, r);
    for (const a of r.affected ?? []) {
      if (!a.package?.ecosystem || !a.package.name) continue;
      const base = ecosystemBase(a.package.ecosystem);
      const k = `${base}\0${normalizePackageName(base, a.package.name)}`;
      const l = idx.get(k) ?? [];
      if (!l.includes(r)) l.push(r);
      idx.set(k, l);
    }
  }
  for (const l of idx.values()) l.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    lookup: (eco, name) => {
      const base = ecosystemBase(eco);
      return (idx.get(`${base}\0${normalizePackageName(base, name)}`) ?? []).filter((r) => !r.withdrawn);
    },
    get: (id) => byId.get(id),
  };
}

function packages(): Package[] {
  const out: Package[] = [];
  const seen = new Set<string>();
  for (const r of records) {
    for (const a of r.affected ?? []) {
      if (!a.package) continue;
      const versions = new Set<string>();
      for (const rg of a.ranges ?? [])
        for (const e of rg.events) for (const v of Object.values(e)) if (v !== '0') versions.add(v);
      for (const v of (a.versions ?? []).slice(0, 3)) versions.add(v);
      for (const v of versions) {
        const eco = a.package.ecosystem;
        const k = `${eco}\0${a.package.name}\0${v}`;
        if (seen.has(k)) continue;
        seen.add(k);
        const n = out.length;
        const debian = eco.startsWith('Debian');
        out.push({
          id: `p${n}`,
          // Debian advisories name source packages: a binary package of that source
          name: debian ? `lib${a.package.name}-bin` : a.package.name,
          version: v,
          type: debian ? 'deb' : 'generic',
          ecosystem: eco,
          ...(debian ? { sourceName: a.package.name, sourceVersion: v } : {}),
          purl: `pkg:generic/${encodeURIComponent(a.package.name)}@${encodeURIComponent(v)}`,
          licenses: [],
          locations: [{ path: `/layer/${n}` }],
          foundBy: 'test',
        });
        if (n % 5 === 0)
          out.push({
            ...out[n]!,
            id: `u${n}`,
            name: `${a.package.name}-no-such-package`,
            sourceName: undefined,
          });
      }
    }
  }
  return out;
}

const key = (f: VulnerabilityFinding) => `${f.package.id}\0${f.id}`;
const sorted = (fs: VulnerabilityFinding[]) => [...fs].sort((a, b) => (key(a) < key(b) ? -1 : 1));

test('store + memoised matcher give exactly the findings of a plain, unmemoised match on the real advisories', async () => {
  const dbPath = join(tmp, 'db.sqlite');
  const w = AdvisoryDb.open(dbPath);
  await importOsv(w, [OSV]);
  w.close();
  const db = AdvisoryDb.open(dbPath, { readonly: true });
  const pkgs = packages();
  assert.ok(pkgs.length > 10_000, `${pkgs.length} packages`);

  const ref = referenceSource();
  const expected: VulnerabilityFinding[] = [];
  for (const p of pkgs) {
    // a new source object per package: the matcher's memos (keyed by source) start empty
    const fresh: AdvisorySource = { lookup: ref.lookup, get: ref.get };
    expected.push(...matchPackage(p, p.ecosystem!, fresh));
  }
  assert.ok(expected.length > 5_000, `${expected.length} reference findings`);

  const cold = matchCatalog({ packages: pkgs, warnings: [] }, db).findings;
  const warm = matchCatalog({ packages: pkgs, warnings: [] }, db).findings;
  // same findings, field for field (JSON text: also the same keys in the same order)
  const want = sorted(expected).map((f) => JSON.stringify(f));
  assert.deepEqual(
    sorted(cold).map((f) => JSON.stringify(f)),
    want,
  );
  assert.deepEqual(
    sorted(warm).map((f) => JSON.stringify(f)),
    want,
  );
  // and in the same order as the plain match produced them
  assert.deepEqual(cold.map(key), expected.map(key));

  // findings built from one memoised group share no arrays: editing one leaves the others alone
  const byId = new Map<string, VulnerabilityFinding[]>();
  for (const f of warm) byId.set(f.id, [...(byId.get(f.id) ?? []), f]);
  const [a, b] = [...byId.values()].find((l) => l.length > 1 && l[0]!.aliases.length > 0)!;
  const before = JSON.stringify(b);
  const aBefore = JSON.stringify(a);
  a!.aliases.push('EDITED');
  a!.references!.push('EDITED');
  a!.fixedVersions.push('EDITED');
  a!.cvss.length = 0;
  assert.equal(JSON.stringify(b), before);
  const again = matchCatalog({ packages: pkgs, warnings: [] }, db).findings;
  assert.equal(JSON.stringify(again.find((f) => key(f) === key(a!))), aBefore);
  db.close();
});

test('handles on the same content share caches; an import starts new ones; warnings repeat in every scan', async () => {
  const dbPath = join(tmp, 'shared.sqlite');
  const w = AdvisoryDb.open(dbPath);
  await importOsv(w, [join(OSV, 'PyPI')]);
  const rec = records.find((r) => r.id.startsWith('PYSEC-') && r.affected?.[0]?.ranges?.length)!;
  const name = rec.affected![0]!.package!.name;
  const pkgs = (version: string): Package[] => [
    {
      id: 'p',
      name,
      version,
      type: 'pypi',
      ecosystem: 'PyPI',
      purl: `pkg:pypi/${name}@${version}`,
      licenses: [],
      locations: [{ path: '/site-packages' }],
      foundBy: 'test',
    },
  ];
  const scan = (version: string) => {
    const db = AdvisoryDb.open(dbPath, { readonly: true });
    const warnings: string[] = [];
    const r = matchCatalog({ packages: pkgs(version), warnings: [] }, db, { warn: (m) => warnings.push(m) });
    const scope = db.memoScope();
    db.close();
    return { findings: r.findings, warnings, scope };
  };
  const a = scan('0.0.0.dev0');
  const b = scan('0.0.0.dev0');
  assert.equal(a.scope, b.scope, 'two handles on the same content share one memo scope');
  assert.ok(a.findings.some((f) => f.id === rec.id));
  assert.deepEqual(
    b.findings.map((f) => JSON.stringify(f)),
    a.findings.map((f) => JSON.stringify(f)),
  );
  // a version PEP 440 cannot read: the warning is reported by every scan, memoised or not
  const bad1 = scan('not a version!');
  const bad2 = scan('not a version!');
  assert.ok(
    bad1.warnings.some((m) => /cannot compare/.test(m)),
    bad1.warnings.join('\n'),
  );
  assert.deepEqual(bad2.warnings, bad1.warnings);

  // an import that changes the record: new handles see the change at once
  const changed = structuredClone(rec);
  changed.modified = '2099-01-01T00:00:00Z';
  changed.summary = 'changed by the test';
  writeFileSync(join(tmp, 'changed.json'), JSON.stringify(changed));
  const held = AdvisoryDb.open(dbPath, { readonly: true });
  const heldScope = held.memoScope();
  await importOsv(w, [join(tmp, 'changed.json')]);
  const c = scan('0.0.0.dev0');
  assert.notEqual(c.scope, a.scope);
  assert.equal(c.findings.find((f) => f.id === rec.id)?.title, 'changed by the test');
  assert.equal(held.memoScope(), heldScope, 'a handle keeps the caches it started with');
  held.close();
  // the writer's own lookups after its import see the new content too
  assert.equal(w.lookup('PyPI', name).find((r) => r.id === rec.id)?.summary, 'changed by the test');
  w.close();
});
