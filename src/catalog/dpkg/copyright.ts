/**
 * Licenses from /usr/share/doc/PKG/copyright. Machine-readable (DEP-5) files declare them in
 * "License:" fields, whose first line is a short name or an expression ("MPL-1.1 or GPL-2");
 * older free-form files usually point at /usr/share/common-licenses/NAME. Both are collected, as
 * declared (Debian short names such as "GPL-2+" or "Expat" are kept; mapping them to SPDX is the
 * SBOM writer's business). Free text in a License field (not DEP-5 conformant) is ignored.
 */

/** A license short name: no spaces, starts with a letter or digit. */
const SHORT_NAME = /^[A-Za-z0-9][A-Za-z0-9.+_~-]*$/;
const COMMON_LICENSES = /\/usr\/share\/common-licenses\/([A-Za-z0-9][A-Za-z0-9.+_-]*)/g;
const NOT_A_LICENSE = new Set(['none', 'unknown', 'other']);

export function parseCopyrightLicenses(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(/^License:[ \t]*(.*)$/gm)) {
    const value = m[1]!.trim();
    if (!value) continue;
    // DEP-5 expressions: "A or B", "A and B", "A, and B" (exceptions: "GPL-2+ with OpenSSL exception")
    const parts = value
      .replace(/\s+with\s+.*$/i, '')
      .split(/\s*,?\s+(?:or|and)\s+|\s*,\s*/i)
      .map((p) => p.trim());
    if (!parts.every((p) => SHORT_NAME.test(p))) continue;
    for (const p of parts) if (!NOT_A_LICENSE.has(p.toLowerCase())) found.add(p);
  }
  for (const m of text.matchAll(COMMON_LICENSES)) {
    const name = m[1]!.replace(/[.]+$/, '');
    if (name) found.add(name);
  }
  return [...found].sort();
}
