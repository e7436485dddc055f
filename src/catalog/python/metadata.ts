/**
 * Core metadata of installed Python distributions (https://packaging.python.org/specifications/core-metadata/):
 * *.dist-info/METADATA and *.egg-info/PKG-INFO (or an *.egg-info file) are RFC 822 style headers,
 * an egg's requires.txt lists its dependencies in sections.
 */

export interface CoreMetadata {
  name?: string;
  version?: string;
  licenses: string[];
  /** Requirement names that apply unconditionally (no `extra` marker). */
  requires: string[];
  summary?: string;
  author?: string;
  homePage?: string;
}

/** Headers up to the first blank line; continuation lines (leading whitespace) join the previous header. */
export function parseHeaders(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let last: { key: string; idx: number } | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break; // the body (long description) follows
    if (/^[ \t]/.test(line)) {
      if (last) {
        const vals = out.get(last.key)!;
        vals[last.idx] += `\n${line.trim()}`;
      }
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const vals = out.get(key) ?? [];
    vals.push(line.slice(colon + 1).trim());
    out.set(key, vals);
    last = { key, idx: vals.length - 1 };
  }
  return out;
}

// Classifiers whose meaning is one SPDX license; others are kept as written.
const CLASSIFIER_SPDX: Record<string, string> = {
  'MIT License': 'MIT',
  'Apache Software License': 'Apache-2.0',
  'ISC License (ISCL)': 'ISC',
  'Mozilla Public License 2.0 (MPL 2.0)': 'MPL-2.0',
  'GNU General Public License v2 (GPLv2)': 'GPL-2.0-only',
  'GNU General Public License v3 (GPLv3)': 'GPL-3.0-only',
  'GNU General Public License v2 or later (GPLv2+)': 'GPL-2.0-or-later',
  'GNU General Public License v3 or later (GPLv3+)': 'GPL-3.0-or-later',
  'GNU Lesser General Public License v2 or later (LGPLv2+)': 'LGPL-2.0-or-later',
  'GNU Lesser General Public License v3 (LGPLv3)': 'LGPL-3.0-only',
  'GNU Lesser General Public License v3 or later (LGPLv3+)': 'LGPL-3.0-or-later',
  'Python Software Foundation License': 'PSF-2.0',
  'The Unlicense (Unlicense)': 'Unlicense',
  'Zope Public License': 'ZPL-2.1',
};

/**
 * License-Expression (PEP 639) first; else the License field when it is a short name rather than
 * a pasted license text or "UNKNOWN"; else the License :: classifiers.
 */
export function pickLicenses(h: Map<string, string[]>): string[] {
  const expr = h.get('license-expression')?.[0];
  if (expr) return [expr];
  const lic = h.get('license')?.[0]?.trim();
  if (lic && !/^unknown$/i.test(lic) && !lic.includes('\n') && lic.length <= 80) return [lic];
  const out: string[] = [];
  for (const c of h.get('classifier') ?? []) {
    const parts = c.split('::').map((s) => s.trim());
    if (parts[0] !== 'License' || parts.length < 2) continue;
    const last = parts[parts.length - 1]!;
    if (last === 'OSI Approved') continue;
    out.push(CLASSIFIER_SPDX[last] ?? last);
  }
  return [...new Set(out)];
}

/** Name of a PEP 508 requirement ("requests[socks] (>=2) ; python_version<'3'" → "requests"). */
export function requirementName(req: string): string | undefined {
  const m = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)/.exec(req);
  return m?.[1];
}

/** Requires-Dist entries that apply without extras (a marker naming `extra` makes it optional). */
export function unconditionalRequires(reqs: string[]): string[] {
  const out: string[] = [];
  for (const r of reqs) {
    const semi = r.indexOf(';');
    if (semi >= 0 && /\bextra\s*==/.test(r.slice(semi))) continue;
    const n = requirementName(r);
    if (n) out.push(n);
  }
  return [...new Set(out)];
}

export function parseCoreMetadata(text: string): CoreMetadata {
  const h = parseHeaders(text);
  const one = (k: string) => h.get(k)?.[0] || undefined;
  return {
    name: one('name'),
    version: one('version'),
    licenses: pickLicenses(h),
    requires: unconditionalRequires(h.get('requires-dist') ?? h.get('requires') ?? []),
    summary: one('summary'),
    author: one('author'),
    homePage: one('home-page'),
  };
}

/**
 * An egg's requires.txt: requirement lines, then "[extra]" or "[extra:marker]" / "[:marker]"
 * sections. Lines before any section and in marker-only sections are dependencies; extras are not.
 */
export function parseRequiresTxt(text: string): string[] {
  const out: string[] = [];
  let inExtra = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const sec = /^\[(.*)\]$/.exec(line);
    if (sec) {
      inExtra = !sec[1]!.startsWith(':');
      continue;
    }
    if (inExtra) continue;
    const n = requirementName(line);
    if (n) out.push(n);
  }
  return [...new Set(out)];
}
