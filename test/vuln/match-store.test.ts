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
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
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
