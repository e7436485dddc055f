/**
 * apk cataloger (Alpine, Wolfi, Chainguard): /lib/apk/db/installed.
 *
 * The database is a list of records separated by blank lines, one "K:value" line per field
 * (single-letter keys): P name, V version, A arch, o origin (source package), L license,
 * m maintainer, D dependencies, p provides, F directory followed by its R files.
 * Dependencies name packages, or things packages provide ("so:libc.musl-x86_64.so.1", "cmd:sh",
 * "/bin/sh"); they are resolved to the installed package that has that name or provides it.
 */
import type { AnalysisRecord } from '../../core/analyzer.js';
import { buildPurl } from '../../core/purl.js';
import { osEcosystem, purlDistro } from '../os/index.js';
import type { Cataloger, CatalogContext, PackageDraft } from '../types.js';

export const APK_CATALOGER = 'apk';
const DB_PATH = '/lib/apk/db/installed';

export interface ApkEntry {
  name: string;
  version: string;
  arch?: string;
  origin?: string;
  license?: string;
  maintainer?: string;
  url?: string;
  commit?: string;
  /** Raw dependency tokens ("so:libc.musl-x86_64.so.1", "busybox=1.36.1-r15", "!conflict"). */
  depends: string[];
  /** Provided names without versions ("so:libreadline.so.8", "cmd:bash", "/bin/sh"). */
  provides: string[];
  files: string[];
}

/** Strips a dependency's version constraint: "busybox>=1.36" → "busybox". */
function depName(token: string): string {
  const m = /^[^<>=~]+/.exec(token);
  return m ? m[0] : token;
}

export function parseApkDb(text: string, where: string, warn: (m: string) => void): ApkEntry[] {
  const out: ApkEntry[] = [];
  let cur: ApkEntry | undefined;
  let bad = false;
  let dir = '';
  let startLine = 1;
  const flush = () => {
    if (cur && !bad) {
      if (!cur.name || !cur.version)
        warn(`apk: ${where}:${startLine}: record without ${cur.name ? 'V' : 'P'} field; skipped`);
      else out.push(cur);
    }
    cur = undefined;
    bad = false;
    dir = '';
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line === '') {
      flush();
      continue;
    }
    if (!cur) {
      cur = { name: '', version: '', depends: [], provides: [], files: [] };
      startLine = i + 1;
    }
    if (bad) continue;
    if (line.length < 2 || line[1] !== ':') {
      warn(`apk: ${where}:${i + 1}: malformed line; record skipped`);
      bad = true;
      continue;
    }
    const value = line.slice(2);
    switch (line[0]) {
      case 'P':
        cur.name = value;
        break;
      case 'V':
        cur.version = value;
        break;
      case 'A':
        cur.arch = value;
        break;
      case 'o':
        cur.origin = value;
        break;
      case 'L':
        cur.license = value;
        break;
      case 'm':
        cur.maintainer = value;
        break;
      case 'U':
        cur.url = value;
        break;
      case 'c':
        cur.commit = value;
        break;
      case 'D':
        cur.depends.push(...value.split(/\s+/).filter(Boolean));
        break;
      case 'p':
        cur.provides.push(...value.split(/\s+/).filter(Boolean).map(depName));
        break;
      case 'F':
        dir = value;
        break;
      case 'R':
        cur.files.push(dir ? `/${dir}/${value}` : `/${value}`);
        break;
      default:
        break; // checksums, sizes, ACLs, timestamps...
    }
  }
  flush();
  return out;
}

/** Alpine's L: field is an SPDX expression ("MIT AND BSD-3-Clause") or, in older packages, a space separated list. */
function splitLicense(value: string | undefined): string[] {
  if (!value) return [];
  if (/\s(AND|OR|WITH)\s/.test(value)) return [value];
  return value.split(/\s+/).filter(Boolean);
}

function finalize(records: AnalysisRecord<ApkEntry[]>[], ctx: CatalogContext): PackageDraft[] {
  const distro = ctx.distro;
  const ecosystem = osEcosystem('apk', distro);
  const drafts: PackageDraft[] = [];
  for (const record of records) {
    const entries = record.result;
    const names = new Set(entries.map((e) => e.name));
    const provider = new Map<string, string>();
    for (const e of entries) for (const p of e.provides) if (!provider.has(p)) provider.set(p, e.name);
    for (const e of entries) {
      const deps = new Set<string>();
      for (const tok of e.depends) {
        if (tok.startsWith('!')) continue; // conflict
        const n = depName(tok);
        const pick = names.has(n) ? n : provider.get(n);
        if (pick && pick !== e.name) deps.add(pick);
      }
      const metadata: Record<string, unknown> = {};
      if (e.origin) metadata.origin = e.origin;
      if (e.maintainer) metadata.maintainer = e.maintainer;
      if (e.url) metadata.url = e.url;
      if (e.commit) metadata.commit = e.commit;
      if (e.provides.length) metadata.provides = e.provides;
      const draft: PackageDraft = {
        name: e.name,
        version: e.version,
        type: 'apk',
        ecosystem,
        purl: buildPurl({
          type: 'apk',
          namespace: distro?.id ?? 'alpine',
          name: e.name,
          version: e.version,
          qualifiers: { arch: e.arch, distro: purlDistro(distro), upstream: e.origin },
        }),
        licenses: splitLicense(e.license),
        foundBy: APK_CATALOGER,
        record,
        dependsOn: [...deps].map((name) => ({ name })),
        files: e.files,
        metadata,
      };
      if (e.origin) draft.sourceName = e.origin;
      if (e.arch) draft.arch = e.arch;
      drafts.push(draft);
    }
  }
  return drafts;
}

export const apkCataloger: Cataloger<ApkEntry[]> = {
  name: APK_CATALOGER,
  scope: 'final',
  wants: (e) => e.path === DB_PATH,
  analyze: (file, ctx) => parseApkDb(file.content.toString('utf8'), file.path, ctx.warn),
  finalize,
};
