/**
 * License scanning: every license a package declares, classified into the categories of
 * policies/licenses/categories.yaml (forbidden, restricted, reciprocal, notice, unencumbered, or
 * unknown), one finding per package and license. The `license` scanner of `bulwark scan`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { readYamlData } from '../core/data.js';
import { BulwarkError } from '../core/errors.js';
import type { LicenseFinding, ScanResult } from '../core/findings.js';
import { SEVERITIES, type Package, type Severity } from '../core/types.js';
import type { Scanner } from '../report/scanner.js';

const schema = z
  .object({
    categories: z.record(
      z.string(),
      z.object({ severity: z.enum(SEVERITIES), licenses: z.array(z.string()) }).strict(),
    ),
    aliases: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export interface LicenseClass {
  /** The license as the package declares it. */
  license: string;
  /** The SPDX id it was recognised as (undefined when unknown). */
  spdx?: string;
  category: string;
  severity: Severity;
}

const CATEGORIES_PATH = fileURLToPath(new URL('../../policies/licenses/categories.yaml', import.meta.url));

export class LicenseClassifier {
  private readonly byId = new Map<string, { id: string; category: string; severity: Severity }>();
  private readonly aliases = new Map<string, string>();

  constructor(path = CATEGORIES_PATH) {
    const parsed = schema.safeParse(
      path === CATEGORIES_PATH ? readYamlData(path) : parseYaml(readFileSync(path, 'utf8')),
    );
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new BulwarkError('PARSE', `${path}: ${i.path.join('.')}: ${i.message}`, { subject: path });
    }
    for (const [category, c] of Object.entries(parsed.data.categories)) {
      for (const id of c.licenses) this.byId.set(id.toLowerCase(), { id, category, severity: c.severity });
    }
    for (const [alias, id] of Object.entries(parsed.data.aliases))
      this.aliases.set(alias.toLowerCase(), id.toLowerCase());
  }

  /**
   * Classifies one license name: SPDX ids case-insensitively, "-only"/"-or-later"/"+" suffixes and
   * "WITH exception" parts stripped, then the aliases (Debian short names, free text).
   */
  classify(license: string): LicenseClass {
    const lookup = (name: string) => {
      const key = name.trim().toLowerCase();
      return this.byId.get(key) ?? this.byId.get(this.aliases.get(key) ?? '');
    };
    const base = license
      .replace(/\s+WITH\s+.*$/i, '')
      .replace(/-with-.*$/i, '')
      .replace(/(?:-only|-or-later|\+)$/i, '');
    const hit = lookup(license) ?? lookup(base);
    return hit
      ? { license, spdx: hit.id, category: hit.category, severity: hit.severity }
      : { license, category: 'unknown', severity: 'UNKNOWN' };
  }
}

/** Splits an SPDX expression ("MIT OR Apache-2.0", "(GPL-2.0+ AND BSD-3-Clause)") into its licenses. */
export function licensesOf(expression: string): string[] {
  if (!/\s(?:AND|OR)\s/.test(expression)) return [expression.trim()].filter(Boolean);
  return expression
    .split(/\s+(?:AND|OR)\s+/)
    .map((s) => s.replace(/^[(\s]+|[)\s]+$/g, ''))
    .filter(Boolean);
}

const GROUP: Partial<Record<Package['type'], string>> = {
  deb: 'OS packages',
  apk: 'OS packages',
  rpm: 'OS packages',
};

/** One finding per package (by purl) and declared license, grouped into one result per package type. */
export function licenseResults(packages: Package[], classifier = new LicenseClassifier()): ScanResult[] {
  const groups = new Map<string, { type: string; findings: LicenseFinding[] }>();
  // A package found twice (its lock file entry and its installed copy) is one package here.
  const seen = new Set<string>();
  for (const p of packages) {
    for (const l of p.licenses.flatMap(licensesOf)) {
      const key = `${p.purl || p.id}\0${l}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const c = classifier.classify(l);
      const target = GROUP[p.type] ?? p.type;
      const group = groups.get(target) ?? { type: p.type, findings: [] };
      group.findings.push({
        kind: 'license',
        id: c.spdx ?? l,
        title: `${l} (${c.category})`,
        severity: c.severity,
        license: l,
        category: c.category,
        package: { name: p.name, version: p.version, purl: p.purl },
        location: p.locations[0] ?? { path: '' },
      });
      groups.set(target, group);
    }
  }
  return [...groups].map(([target, g]) => ({
    target,
    class: 'license' as const,
    type: g.type,
    findings: g.findings,
  }));
}

export const scanner: Scanner = {
  name: 'license',
  needsCatalog: true,
  analyzers: () => [],
  results: (ctx) => licenseResults(ctx.catalog.packages),
};
