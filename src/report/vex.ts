/**
 * VEX input: OpenVEX (v0.2.0 and the older v0.0.x shapes) and CycloneDX VEX (a BOM whose
 * `vulnerabilities[].analysis.state` says not_affected or false_positive). Statements that say a
 * product is not affected (OpenVEX `not_affected` and `fixed`; CycloneDX `not_affected`,
 * `false_positive`) suppress the matching vulnerability findings.
 *
 * Matching: the statement's vulnerability must be the finding's id or one of its aliases; and its
 * product must name the finding's package (purl), or name the scanned artifact while a
 * subcomponent names the package.
 */
import { readFileSync } from 'node:fs';
import { BulwarkError } from '../core/errors.js';
import type { ScanReport, VulnerabilityFinding } from '../core/findings.js';
import { parsePurl } from '../core/purl.js';
import { purlMatches } from './purl-match.js';

export interface VexStatement {
  vulnerability: string[];
  /** Purls or identifiers of products. */
  products: string[];
  /** Purls of subcomponents (empty: the product itself). */
  subcomponents: string[];
  /** Normalised: not_affected, fixed, false_positive (others are dropped at load). */
  status: string;
  justification?: string;
  detail?: string;
}

export interface VexDocument {
  file: string;
  format: 'openvex' | 'cyclonedx';
  statements: VexStatement[];
}

export function loadVex(path: string): VexDocument {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BulwarkError(
      'NOT_FOUND',
      `cannot read VEX file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { subject: path },
    );
  }
  return parseVex(text, path);
}

const SUPPRESSING = new Set(['not_affected', 'fixed', 'false_positive']);

function idOf(x: unknown): string | undefined {
  if (typeof x === 'string') return x;
  if (x && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    const v = o['@id'] ?? o.name ?? o.id;
    if (typeof v === 'string') return v;
  }
  return undefined;
}

export function parseVex(text: string, file: string): VexDocument {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new BulwarkError('PARSE', `${file}: invalid JSON: ${(e as Error).message}`, { subject: file });
  }
  if (!doc || typeof doc !== 'object')
    throw new BulwarkError('PARSE', `${file}: not a VEX document`, { subject: file });
  if (doc.bomFormat === 'CycloneDX') return parseCycloneDxVex(doc, file);
  const ctx = String(doc['@context'] ?? '');
  if (ctx.includes('openvex') || Array.isArray(doc.statements)) return parseOpenVex(doc, file);
  throw new BulwarkError(
    'PARSE',
    `${file}: neither OpenVEX (@context openvex, statements) nor CycloneDX VEX (bomFormat CycloneDX)`,
    { subject: file },
  );
}

function parseOpenVex(doc: Record<string, unknown>, file: string): VexDocument {
  if (!Array.isArray(doc.statements))
    throw new BulwarkError('PARSE', `${file}: OpenVEX document without "statements"`, { subject: file });
  const statements: VexStatement[] = [];
  doc.statements.forEach((s: unknown, i: number) => {
    const where = `${file}: statements[${i}]`;
    if (!s || typeof s !== 'object')
      throw new BulwarkError('PARSE', `${where}: not an object`, { subject: file });
    const o = s as Record<string, unknown>;
    const vuln = o.vulnerability;
    const names: string[] = [];
    const n = idOf(vuln);
    if (n) names.push(n);
    if (vuln && typeof vuln === 'object') {
      const v = vuln as Record<string, unknown>;
      if (typeof v.name === 'string' && !names.includes(v.name)) names.push(v.name);
      if (Array.isArray(v.aliases)) for (const a of v.aliases) if (typeof a === 'string') names.push(a);
    }
    if (!names.length)
      throw new BulwarkError('PARSE', `${where}: missing "vulnerability"`, { subject: file });
    if (typeof o.status !== 'string')
      throw new BulwarkError('PARSE', `${where}: missing "status"`, { subject: file });
    if (!SUPPRESSING.has(o.status)) return;
    const products: string[] = [];
    const subcomponents: string[] = [];
    for (const p of Array.isArray(o.products) ? o.products : []) {
      const pid = idOf(p);
      if (pid) products.push(pid);
      if (p && typeof p === 'object') {
        const po = p as Record<string, unknown>;
        const ids = po.identifiers as Record<string, unknown> | undefined;
        if (ids && typeof ids.purl === 'string') products.push(ids.purl);
        for (const sc of Array.isArray(po.subcomponents) ? po.subcomponents : []) {
          const sid = idOf(sc);
          if (sid) subcomponents.push(sid);
          const sids = (sc as Record<string, unknown> | null)?.identifiers as
            Record<string, unknown> | undefined;
          if (sids && typeof sids.purl === 'string') subcomponents.push(sids.purl);
        }
      }
    }
    // v0.0.x: top-level "subcomponents"
    for (const sc of Array.isArray(o.subcomponents) ? o.subcomponents : []) {
      const sid = idOf(sc);
      if (sid) subcomponents.push(sid);
    }
    statements.push({
      vulnerability: names,
      products,
      subcomponents,
      status: o.status,
      ...(typeof o.justification === 'string' ? { justification: o.justification } : {}),
      ...(typeof o.impact_statement === 'string' ? { detail: o.impact_statement } : {}),
    });
  });
  return { file, format: 'openvex', statements };
}

function parseCycloneDxVex(doc: Record<string, unknown>, file: string): VexDocument {
  const refToPurl = new Map<string, string>();
  const walk = (cs: unknown) => {
    for (const c of Array.isArray(cs) ? cs : []) {
      const o = c as Record<string, unknown>;
      if (typeof o['bom-ref'] === 'string' && typeof o.purl === 'string') refToPurl.set(o['bom-ref'], o.purl);
      walk(o.components);
    }
  };
  walk(doc.components);
  const meta = (doc.metadata as Record<string, unknown> | undefined)?.component as
    Record<string, unknown> | undefined;
  if (meta && typeof meta['bom-ref'] === 'string' && typeof meta.purl === 'string')
    refToPurl.set(meta['bom-ref'], meta.purl);
  const statements: VexStatement[] = [];
  const vulns = Array.isArray(doc.vulnerabilities) ? doc.vulnerabilities : [];
  vulns.forEach((v: unknown, i: number) => {
    const o = v as Record<string, unknown>;
    const where = `${file}: vulnerabilities[${i}]`;
    if (typeof o?.id !== 'string')
      throw new BulwarkError('PARSE', `${where}: missing "id"`, { subject: file });
    const analysis = o.analysis as Record<string, unknown> | undefined;
    const state = analysis?.state;
    if (typeof state !== 'string' || !SUPPRESSING.has(state) || state === 'fixed') return;
    const names = [o.id];
    for (const r of Array.isArray(o.references) ? o.references : []) {
      const rid = (r as Record<string, unknown>)?.id;
      if (typeof rid === 'string') names.push(rid);
    }
    const products: string[] = [];
    for (const a of Array.isArray(o.affects) ? o.affects : []) {
      const ref = (a as Record<string, unknown>)?.ref;
      if (typeof ref !== 'string') continue;
      // a BOM-Link (urn:cdx:serial/version#bom-ref) or a local bom-ref or a purl
      const local = ref.startsWith('urn:cdx:') ? decodeURIComponent(ref.slice(ref.indexOf('#') + 1)) : ref;
      products.push(refToPurl.get(local) ?? local);
    }
    statements.push({
      vulnerability: names,
      products,
      subcomponents: [],
      status: state,
      ...(typeof analysis?.justification === 'string' ? { justification: analysis.justification } : {}),
      ...(typeof analysis?.detail === 'string' ? { detail: analysis.detail } : {}),
    });
  });
  return { file, format: 'cyclonedx', statements };
}

/** Does a product id name the scanned artifact (image purl by digest or repository, or its name)? */
function namesArtifact(product: string, artifact: ScanReport['artifact']): boolean {
  if (product === artifact.name) return true;
  if (!product.startsWith('pkg:')) return false;
  let p;
  try {
    p = parsePurl(product);
  } catch {
    return false;
  }
  if (p.type !== 'oci' && p.type !== 'docker') return false;
  if (p.version && (p.version === artifact.digest || p.version === artifact.imageId)) return true;
  const repos = [artifact.name, ...(artifact.repoTags ?? []), ...(artifact.repoDigests ?? [])];
  return (
    !p.version &&
    repos.some(
      (r) =>
        r
          .replace(/[:@].*$/, '')
          .split('/')
          .pop() === p.name,
    )
  );
}

export function vexStatementFor(
  f: VulnerabilityFinding,
  docs: VexDocument[],
  artifact: ScanReport['artifact'],
): VexStatement | undefined {
  const ids = new Set([f.id, ...f.aliases]);
  for (const d of docs) {
    for (const s of d.statements) {
      if (!s.vulnerability.some((v) => ids.has(v))) continue;
      const direct = s.products.some((p) => purlMatches(p, f.package.purl));
      const viaSub =
        s.subcomponents.some((sc) => purlMatches(sc, f.package.purl)) &&
        (s.products.length === 0 || s.products.some((p) => namesArtifact(p, artifact)));
      if (direct || viaSub) return s;
    }
  }
  return undefined;
}
