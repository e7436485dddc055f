/**
 * Index of an outer tar archive (docker-archive) without extracting it: entry names → data offset
 * and size, so that each layer inside can be streamed straight from the file. Understands ustar,
 * GNU long names and pax path records; checks header checksums.
 */
import { open } from 'node:fs/promises';
import { BulwarkError } from '../core/errors.js';
import { normalizeEntryPath } from './paths.js';

export interface TarIndexEntry {
  name: string;
  type: 'file' | 'symlink' | 'link' | 'dir' | 'other';
  offset: number;
  size: number;
  linkname?: string;
}

function parseNumber(field: Buffer): number {
  if (field[0]! & 0x80) {
    // GNU base-256
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const s = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function cstr(field: Buffer): string {
  const i = field.indexOf(0);
  return field.subarray(0, i === -1 ? field.length : i).toString('utf8');
}

function parsePax(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < buf.length) {
    const sp = buf.indexOf(0x20, off);
    if (sp === -1) break;
    const len = parseInt(buf.toString('latin1', off, sp), 10);
    if (!(len > 0) || off + len > buf.length) break;
    const rec = buf.toString('utf8', sp + 1, off + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    off += len;
  }
  return out;
}

const MAX_META = 1024 * 1024;
const MAX_ENTRIES = 100_000;

export async function indexTar(file: string): Promise<Map<string, TarIndexEntry>> {
  const fh = await open(file, 'r');
  try {
    const { size: fileSize } = await fh.stat();
    const out = new Map<string, TarIndexEntry>();
    const header = Buffer.alloc(512);
    let off = 0;
    let longName: string | undefined;
    let longLink: string | undefined;
    let pax: Record<string, string> = {};
    while (off + 512 <= fileSize) {
      await fh.read(header, 0, 512, off);
      if (header.every((b) => b === 0)) break;
      const stored = parseNumber(header.subarray(148, 156));
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
      if (stored !== sum)
        throw new BulwarkError('CORRUPT', `${file}: corrupt tar header at offset ${off} (checksum)`, {
          subject: file,
        });
      const size = parseNumber(header.subarray(124, 136));
      const typeflag = String.fromCharCode(header[156]!);
      const dataOff = off + 512;
      if (dataOff + size > fileSize)
        throw new BulwarkError(
          'CORRUPT',
          `${file}: truncated archive (entry at offset ${off} runs past the end)`,
          { subject: file },
        );
      const next = dataOff + Math.ceil(size / 512) * 512;
      if (typeflag === 'L' || typeflag === 'K' || typeflag === 'x' || typeflag === 'g') {
        if (size > MAX_META)
          throw new BulwarkError('CORRUPT', `${file}: oversized tar metadata entry at offset ${off}`, {
            subject: file,
          });
        const data = Buffer.alloc(size);
        await fh.read(data, 0, size, dataOff);
        if (typeflag === 'L') longName = cstr(data);
        else if (typeflag === 'K') longLink = cstr(data);
        else if (typeflag === 'x') pax = parsePax(data);
        off = next;
        continue;
      }
      const prefix = header.subarray(257, 263).toString('latin1').startsWith('ustar')
        ? cstr(header.subarray(345, 500))
        : '';
      let name =
        pax.path ??
        longName ??
        (prefix ? `${prefix}/${cstr(header.subarray(0, 100))}` : cstr(header.subarray(0, 100)));
      const linkname = pax.linkpath ?? longLink ?? cstr(header.subarray(157, 257));
      const realSize = pax.size !== undefined ? Number(pax.size) : size;
      longName = longLink = undefined;
      pax = {};
      const norm = normalizeEntryPath(name);
      if (norm !== undefined && norm !== '/') {
        name = norm.slice(1);
        const type =
          typeflag === '0' || typeflag === '\0' || typeflag === '7'
            ? 'file'
            : typeflag === '2'
              ? 'symlink'
              : typeflag === '1'
                ? 'link'
                : typeflag === '5'
                  ? 'dir'
                  : 'other';
        out.set(name, { name, type, offset: dataOff, size: realSize, linkname: linkname || undefined });
        if (out.size > MAX_ENTRIES)
          throw new BulwarkError('LIMIT', `${file}: more than ${MAX_ENTRIES} entries in the archive`);
      }
      off = dataOff + Math.ceil(realSize / 512) * 512;
    }
    return out;
  } finally {
    await fh.close();
  }
}

/** Follows symlinks and hard links between entries of the archive (old `docker save` layouts use them). */
export function resolveTarEntry(
  index: Map<string, TarIndexEntry>,
  name: string,
  file: string,
): TarIndexEntry {
  let cur = normalizeEntryPath(name)?.slice(1);
  for (let i = 0; i < 16 && cur !== undefined; i++) {
    const e = index.get(cur);
    if (!e) break;
    if (e.type === 'file') return e;
    if (e.type === 'link') cur = normalizeEntryPath(e.linkname ?? '')?.slice(1);
    else if (e.type === 'symlink') {
      const base = cur.includes('/') ? cur.slice(0, cur.lastIndexOf('/')) : '';
      const t = e.linkname ?? '';
      cur = normalizeEntryPath(t.startsWith('/') ? t : `${base}/${t}`)?.slice(1);
    } else break;
  }
  throw new BulwarkError('NOT_FOUND', `${file}: "${name}" is not a file in the archive`, { subject: file });
}
