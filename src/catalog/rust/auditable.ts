/**
 * cargo-auditable dependency data: a `.dep-v0` section (ELF, PE; `__dep_v0` on Mach-O) holding
 * zlib-compressed JSON {"packages": [{name, version, source, kind?, dependencies?: [index], root?}]}.
 * Decompression is bounded: the JSON of even huge dependency trees is well under the cap.
 */
import { inflateSync } from 'node:zlib';
import { openExecutable } from '../go/index.js';

export interface AuditablePackage {
  name: string;
  version: string;
  /** "crates.io", "git", "local", "registry" or "other". */
  source: string;
  /** "runtime" (default) or "build" (build scripts, proc macros: not part of the binary's code). */
  kind: 'runtime' | 'build';
  root: boolean;
  /** Indices into the package list. */
  dependencies: number[];
}

export const AUDITABLE_MAX_JSON = 8 * 1024 * 1024;

export function readAuditableSection(content: Buffer): Buffer | undefined {
  const exe = openExecutable(content);
  if (!exe) return undefined;
  const s = exe.section('.dep-v0') ?? exe.section('__dep_v0');
  return s ? exe.data(s) : undefined;
}

/** Parses the decompressed JSON; throws with a message on malformed data. */
export function parseAuditableJson(json: unknown): AuditablePackage[] {
  const pkgs = (json as { packages?: unknown })?.packages;
  if (!Array.isArray(pkgs)) throw new Error('no "packages" list');
  return pkgs.map((p, i) => {
    const o = p as Record<string, unknown>;
    if (typeof o?.name !== 'string' || typeof o.version !== 'string')
      throw new Error(`package ${i}: missing name or version`);
    const deps = Array.isArray(o.dependencies) ? o.dependencies : [];
    return {
      name: o.name,
      version: o.version,
      source: typeof o.source === 'string' ? o.source : 'crates.io',
      kind: o.kind === 'build' ? 'build' : 'runtime',
      root: o.root === true,
      dependencies: deps.filter((d): d is number => Number.isInteger(d) && d >= 0 && d < pkgs.length),
    };
  });
}

/** Dependency list of a cargo-auditable binary; undefined when it has none. Throws on corrupt data. */
export function readAuditableDeps(content: Buffer): AuditablePackage[] | undefined {
  const section = readAuditableSection(content);
  if (!section) return undefined;
  const json = inflateSync(section, { maxOutputLength: AUDITABLE_MAX_JSON }).toString('utf8');
  return parseAuditableJson(JSON.parse(json));
}
