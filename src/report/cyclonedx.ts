/**
 * CycloneDX 1.6 JSON with `vulnerabilities`: the scanned packages as components and one
 * vulnerability entry per advisory id, whose `affects` point at the components (bom-ref) it was
 * found in. Suppressed findings (VEX, ignore file) carry an `analysis` (state not_affected /
 * false_positive) so the output is itself usable as CycloneDX VEX. CycloneDX has no place for
 * secrets or misconfigurations; those findings are left out and counted in `omitted`.
 */
import { randomUUID } from 'node:crypto';
import type { ScanReport, VulnerabilityFinding } from '../core/findings.js';
import type { Package } from '../core/types.js';
import { parsePurl } from '../core/purl.js';

const METHOD: Record<string, string> = {
  '2.0': 'CVSSv2',
  '3.0': 'CVSSv3',
  '3.1': 'CVSSv31',
  '4.0': 'CVSSv4',
};

function sourceOf(id: string): { name: string; url?: string } {
  if (id.startsWith('GHSA-'))
    return { name: 'GitHub Advisory Database', url: `https://github.com/advisories/${id}` };
  if (id.startsWith('CVE-')) return { name: 'NVD', url: `https://nvd.nist.gov/vuln/detail/${id}` };
  return { name: 'OSV', url: `https://osv.dev/vulnerability/${id}` };
}

export function toCycloneDx(
  report: ScanReport,
  opts: { toolVersion?: string } = {},
): { bom: object; omitted: number } {
  const components: object[] = [];
  const refs = new Map<string, string>(); // package id or purl → bom-ref
  const addComponent = (
    p: Pick<Package, 'name' | 'version' | 'purl'> & { id?: string; licenses?: string[] },
  ) => {
    const key = p.id ?? p.purl;
    const existing = refs.get(key) ?? refs.get(p.purl);
    if (existing) return existing;
    const ref = p.id ?? p.purl ?? `pkg-${refs.size}`;
    refs.set(key, ref);
    if (p.purl) refs.set(p.purl, ref);
    let group: string | undefined;
    try {
      group = p.purl ? parsePurl(p.purl).namespace : undefined;
    } catch {
      group = undefined;
    }
    components.push({
      'bom-ref': ref,
      type: 'library',
      ...(group ? { group } : {}),
      name: p.name,
      version: p.version,
      ...(p.purl ? { purl: p.purl } : {}),
    });
    return ref;
  };
  for (const r of report.results) for (const p of r.packages ?? []) addComponent(p);

  const byId = new Map<string, { f: VulnerabilityFinding; affects: Map<string, string> }>();
  let omitted = 0;
  for (const r of report.results) {
    for (const f of r.findings) {
      if (f.kind !== 'vulnerability') {
        omitted++;
        continue;
      }
      const ref = addComponent({
        id: f.package.id,
        name: f.package.name,
        version: f.package.version,
        purl: f.package.purl,
      });
      const e = byId.get(f.id) ?? { f, affects: new Map<string, string>() };
      e.affects.set(ref, f.package.version);
      byId.set(f.id, e);
    }
  }
  const vulnerabilities = [...byId.values()].map(({ f, affects }) => {
    const ratings = f.cvss.length
      ? f.cvss.map((c) => ({
          ...(c.source ? { source: { name: c.source } } : {}),
          score: c.score,
          severity: f.severity.toLowerCase(),
          method: METHOD[c.version] ?? 'other',
          vector: c.vector,
        }))
      : [{ severity: f.severity.toLowerCase(), method: 'other' }];
    const v: Record<string, unknown> = {
      'bom-ref': `vuln:${f.id}`,
      id: f.id,
      source: sourceOf(f.id),
      references: f.aliases.map((a) => ({ id: a, source: sourceOf(a) })),
      ratings,
      ...(f.description ? { description: f.description } : f.title ? { description: f.title } : {}),
      ...(f.fixedVersions.length
        ? { recommendation: `Upgrade ${f.package.name} to ${f.fixedVersions.join(' or ')}` }
        : {}),
      advisories: (f.references ?? []).filter(isUrl).map((url) => ({ url })),
      ...(f.publishedAt && isDate(f.publishedAt) ? { published: new Date(f.publishedAt).toISOString() } : {}),
      ...(f.modifiedAt && isDate(f.modifiedAt) ? { updated: new Date(f.modifiedAt).toISOString() } : {}),
      affects: [...affects].map(([ref, version]) => ({ ref, versions: [{ version, status: 'affected' }] })),
    };
    if (f.suppressed) {
      v.analysis = {
        state: f.suppressed.statement === 'false_positive' ? 'false_positive' : 'not_affected',
        ...(f.suppressed.reason ? { detail: f.suppressed.reason } : {}),
      };
    }
    return v;
  });
  const kind = report.artifact.kind;
  const bom = {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: new Date(report.createdAt).toISOString(),
      tools: {
        components: [
          { type: 'application', name: 'bulwark', version: opts.toolVersion ?? report.tool.version },
        ],
      },
      component: {
        'bom-ref': `artifact:${report.artifact.name}`,
        type: kind === 'image' ? 'container' : kind === 'sbom' ? 'application' : 'file',
        name: report.artifact.name,
      },
    },
    components,
    vulnerabilities,
  };
  return { bom, omitted };
}

function isUrl(s: string): boolean {
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
}

function isDate(s: string): boolean {
  return !Number.isNaN(Date.parse(s));
}
