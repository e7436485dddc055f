/**
 * The vulnerability scanner as a `bulwark scan` plug-in: it needs the package catalog only (no
 * file analyzers of its own), matches it against the advisory DB and returns one report section
 * per OS package set and per language package source (lock file, or cataloger for installed
 * packages spread over many files).
 */
import type { ScanResult, VulnerabilityFinding } from '../core/findings.js';
import type { Catalog, Package } from '../core/types.js';
import type { Scanner, ScannerContext } from '../report/scanner.js';
import { AdvisoryDb } from './db/store.js';
import { defaultDbPath } from './db/paths.js';
import { compareFindings, matchCatalog, type AdvisorySource } from './match/matcher.js';

export interface VulnScannerOptions {
  /** An open advisory source (the CLI opens the DB before the scan, to fail fast); else dbPath. */
  db?: AdvisorySource;
  dbPath?: string;
  includeOsOwned?: boolean;
  /** Put the packages of each section into the report (for CycloneDX, --list-all-pkgs). */
  listPackages?: boolean;
}

const OS_TYPES = new Set(['deb', 'apk', 'rpm']);

/** Splits matched findings into report sections, Trivy-style. */
export function groupResults(
  catalog: Catalog,
  findings: VulnerabilityFinding[],
  artifactName: string,
  listPackages = false,
): ScanResult[] {
  const byPkg = new Map<string, VulnerabilityFinding[]>();
  for (const f of findings) {
    const k = f.package.id ?? f.package.purl;
    const l = byPkg.get(k) ?? [];
    l.push(f);
    byPkg.set(k, l);
  }
  const pathCount = new Map<string, number>();
  for (const p of catalog.packages) {
    const path = p.locations[0]?.path ?? '';
    pathCount.set(path, (pathCount.get(path) ?? 0) + 1);
  }
  const sections = new Map<string, ScanResult>();
  const sectionFor = (p: Package): ScanResult => {
    let key: string;
    let target: string;
    let cls: ScanResult['class'];
    let type: string;
    if (OS_TYPES.has(p.type)) {
      const d = catalog.distro;
      key = `os:${p.type}`;
      target = d ? `${artifactName} (${d.id} ${d.versionId})` : `${artifactName} (${p.type})`;
      cls = 'os-pkgs';
      type = d?.id ?? p.type;
    } else {
      const path = p.locations[0]?.path ?? '';
      const shared = (pathCount.get(path) ?? 0) > 1;
      key = shared ? `lang:${path}` : `lang:${p.foundBy}`;
      target = shared ? path : p.foundBy;
      cls = 'lang-pkgs';
      type = p.type;
    }
    let s = sections.get(key);
    if (!s) {
      s = { target, class: cls, type, ...(listPackages ? { packages: [] } : {}), findings: [] };
      sections.set(key, s);
    }
    return s;
  };
  for (const p of catalog.packages) {
    const s = sectionFor(p);
    if (listPackages) s.packages!.push(stripFiles(p));
    const fs = byPkg.get(p.id);
    if (fs) s.findings.push(...fs);
  }
  const out = [...sections.values()];
  for (const s of out)
    s.findings.sort((a, b) => compareFindings(a as VulnerabilityFinding, b as VulnerabilityFinding));
  // OS first, then language sections by target
  return out.sort((a, b) =>
    a.class === b.class ? a.target.localeCompare(b.target) : a.class === 'os-pkgs' ? -1 : 1,
  );
}

function stripFiles(p: Package): Package {
  if (!p.files) return p;
  const { files: _files, ...rest } = p;
  return rest;
}

export function createVulnScanner(opts: VulnScannerOptions = {}): Scanner {
  return {
    name: 'vuln',
    needsCatalog: true,
    analyzers: () => [],
    results(ctx: ScannerContext): ScanResult[] {
      const own = opts.db ? undefined : AdvisoryDb.open(opts.dbPath ?? defaultDbPath(), { readonly: true });
      try {
        const { findings } = matchCatalog(ctx.catalog, opts.db ?? own!, {
          includeOsOwned: opts.includeOsOwned,
          warn: ctx.warn,
        });
        const name = String(ctx.options.artifactName ?? ctx.analysis?.artifact.name ?? 'target');
        return groupResults(ctx.catalog, findings, name, opts.listPackages);
      } finally {
        own?.close();
      }
    },
  };
}
