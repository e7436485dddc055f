/**
 * Path handling for archive entries: every path inside an artifact is absolute and normalized
 * ("/usr/bin/env"). Entry names from hostile archives ("../../etc/passwd", "/abs", "a/../../b") are
 * normalized here; a name whose ".." would climb above the root is rejected, never clamped, so that
 * it cannot shadow a real file.
 */

/** Normalizes an archive entry name to an absolute path; undefined if ".." climbs above the root. */
export function normalizeEntryPath(name: string): string | undefined {
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(part);
  }
  return `/${out.join('/')}`;
}

/** Splits an absolute normalized path into components ("/" → []). */
export function splitPath(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}
