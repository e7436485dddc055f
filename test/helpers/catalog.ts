/**
 * Runs one cataloger over in-memory files, the way the image walker does: wants() on each entry,
 * analyze() on the wanted ones, finalize() on the records. For per-cataloger corner-case tests; the
 * end-to-end tests run catalogers over real images and directories.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import type { AnalysisRecord, FileEntry, FileIndex } from '../../src/core/analyzer.js';
import type { Distro } from '../../src/core/types.js';
import type { Cataloger, PackageDraft } from '../../src/catalog/types.js';

export function memoryIndex(entries: FileEntry[]): FileIndex {
  const map = new Map(entries.map((e) => [e.path, e]));
  return {
    get: (p) => map.get(p),
    resolve(p) {
      let cur = p;
      for (let i = 0; i < 40; i++) {
        const e = map.get(cur);
        if (!e || e.type !== 'symlink' || !e.linkTarget) return e ? cur : undefined;
        cur = posix.resolve(posix.dirname(cur), e.linkTarget);
      }
      return undefined;
    },
    paths: () => map.keys(),
    get size() {
      return map.size;
    },
  };
}

export async function runCataloger<R>(
  cataloger: Cataloger<R>,
  files: Record<string, string | Buffer>,
  opts: { distro?: Distro } = {},
): Promise<{ packages: PackageDraft[]; warnings: string[]; records: AnalysisRecord<R>[] }> {
  const warnings: string[] = [];
  const entries: FileEntry[] = Object.entries(files).map(([path, content]) => ({
    path: path.startsWith('/') ? path : `/${path}`,
    type: 'file',
    size: Buffer.byteLength(content),
    mode: 0o644,
  }));
  const records: AnalysisRecord<R>[] = [];
  for (const e of entries) {
    if (!cataloger.wants(e)) continue;
    const raw = files[e.path] ?? files[e.path.slice(1)];
    const content = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
    if (content.length > (cataloger.maxBytes ?? Infinity)) {
      warnings.push(`${e.path}: skipped, larger than ${cataloger.maxBytes} bytes`);
      continue;
    }
    const result = await cataloger.analyze({ ...e, content }, { warn: (m) => void warnings.push(m) });
    if (result !== undefined) records.push({ path: e.path, result });
  }
  const packages = cataloger.finalize(records, {
    distro: opts.distro,
    files: memoryIndex(entries),
    warn: (m) => void warnings.push(m),
  });
  return { packages, warnings, records };
}

/** Reads a directory of fixture files into the shape runCataloger takes (paths relative to dir). */
export function readTree(dir: string, prefix = '/'): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out[posix.join(prefix, relative(dir, p).split('\\').join('/'))] = readFileSync(p);
    }
  };
  walk(dir);
  return out;
}
