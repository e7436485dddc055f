/**
 * Minimal executable-format reader (ELF 32/64 either endianness, Mach-O 32/64 incl. the first
 * slice of a universal binary, PE32/PE32+): section names, file ranges and virtual addresses, and
 * reads by virtual address. Enough to find Go build info and cargo-auditable's `.dep-v0`; it never
 * reads outside the buffer (every offset is checked) so hostile headers yield `undefined`, not a throw.
 */

export interface ExeSection {
  name: string;
  /** Virtual address of the section's first byte. */
  addr: number;
  /** File offset and size of its data (size 0 for sections without file data). */
  offset: number;
  size: number;
}

export interface Executable {
  format: 'elf' | 'macho' | 'pe';
  littleEndian: boolean;
  ptrSize: 4 | 8;
  sections: ExeSection[];
  section(name: string): ExeSection | undefined;
  /** The section's bytes (a view, not a copy); undefined if it lies outside the file. */
  data(s: ExeSection): Buffer | undefined;
  /** `len` bytes at virtual address `addr`, when some section with file data covers them. */
  readAt(addr: number, len: number): Buffer | undefined;
}

/** Cheap magic-number test: is this worth parsing as an executable? */
export function looksExecutable(b: Buffer): boolean {
  if (b.length < 64) return false;
  const m = b.readUInt32BE(0);
  return (
    m === 0x7f454c46 || // \x7fELF
    m === 0xfeedface ||
    m === 0xfeedfacf ||
    m === 0xcefaedfe ||
    m === 0xcffaedfe ||
    m === 0xcafebabe ||
    (b[0] === 0x4d && b[1] === 0x5a) // MZ
  );
}

class Reader {
  constructor(
    readonly b: Buffer,
    readonly le: boolean,
  ) {}
  ok(off: number, len: number): boolean {
    return Number.isSafeInteger(off) && off >= 0 && len >= 0 && off + len <= this.b.length;
  }
  u16(off: number): number {
    return this.le ? this.b.readUInt16LE(off) : this.b.readUInt16BE(off);
  }
  u32(off: number): number {
    return this.le ? this.b.readUInt32LE(off) : this.b.readUInt32BE(off);
  }
  u64(off: number): number {
    const v = this.le ? this.b.readBigUInt64LE(off) : this.b.readBigUInt64BE(off);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(v);
  }
  cstr(off: number, max: number): string {
    let end = off;
    while (end < this.b.length && end < off + max && this.b[end] !== 0) end++;
    return this.b.toString('latin1', off, end);
  }
}

function make(format: Executable['format'], r: Reader, ptrSize: 4 | 8, sections: ExeSection[]): Executable {
  return {
    format,
    littleEndian: r.le,
    ptrSize,
    sections,
    section: (name) => sections.find((s) => s.name === name),
    data: (s) => (r.ok(s.offset, s.size) ? r.b.subarray(s.offset, s.offset + s.size) : undefined),
    readAt(addr, len) {
      for (const s of sections) {
        if (s.size === 0 || addr < s.addr || addr + len > s.addr + s.size) continue;
        const off = s.offset + (addr - s.addr);
        return r.ok(off, len) ? r.b.subarray(off, off + len) : undefined;
      }
      return undefined;
    },
  };
}

function parseElf(b: Buffer): Executable | undefined {
  const cls = b[4];
  const le = b[5] === 1;
  if ((cls !== 1 && cls !== 2) || (b[5] !== 1 && b[5] !== 2)) return undefined;
  const r = new Reader(b, le);
  const is64 = cls === 2;
  const shoff = is64 ? r.u64(0x28) : r.u32(0x20);
  const shentsize = r.u16(is64 ? 0x3a : 0x2e);
  const shnum = r.u16(is64 ? 0x3c : 0x30);
  const shstrndx = r.u16(is64 ? 0x3e : 0x32);
  if (shoff <= 0 || shnum === 0 || shnum > 65535 || !r.ok(shoff, shnum * shentsize)) return undefined;
  const raw: { nameOff: number; type: number; addr: number; offset: number; size: number }[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    if (!r.ok(o, is64 ? 64 : 40)) return undefined;
    raw.push(
      is64
        ? {
            nameOff: r.u32(o),
            type: r.u32(o + 4),
            addr: r.u64(o + 16),
            offset: r.u64(o + 24),
            size: r.u64(o + 32),
          }
        : {
            nameOff: r.u32(o),
            type: r.u32(o + 4),
            addr: r.u32(o + 12),
            offset: r.u32(o + 16),
            size: r.u32(o + 20),
          },
    );
  }
  const strtab = raw[shstrndx];
  if (!strtab || !r.ok(strtab.offset, strtab.size)) return undefined;
  const sections: ExeSection[] = raw.map((s) => ({
    name: s.nameOff < strtab.size ? r.cstr(strtab.offset + s.nameOff, strtab.size - s.nameOff) : '',
    addr: s.addr,
    offset: s.offset,
    size: s.type === 8 /* SHT_NOBITS */ ? 0 : s.size,
  }));
  return make('elf', r, is64 ? 8 : 4, sections);
}

function parseMachO(b: Buffer, base = 0): Executable | undefined {
  const magicBE = b.readUInt32BE(base);
  if (magicBE === 0xcafebabe) {
    // Universal binary: take the first slice (fat_arch: cputype, subtype, offset, size, align).
    const n = b.readUInt32BE(4);
    if (n < 1 || n > 32 || b.length < 28) return undefined;
    const off = b.readUInt32BE(16);
    return off > 0 && off + 32 <= b.length ? parseMachO(b, off) : undefined;
  }
  const le = magicBE === 0xcefaedfe || magicBE === 0xcffaedfe;
  const is64 = magicBE === 0xfeedfacf || magicBE === 0xcffaedfe;
  const r = new Reader(b, le);
  const ncmds = r.u32(base + 16);
  let off = base + (is64 ? 32 : 28);
  const sections: ExeSection[] = [];
  for (let i = 0; i < ncmds && i < 4096; i++) {
    if (!r.ok(off, 8)) return undefined;
    const cmd = r.u32(off);
    const size = r.u32(off + 4);
    if (size < 8) return undefined;
    if (cmd === 0x19 || cmd === 0x1) {
      const nsects = r.u32(off + (is64 ? 64 : 48));
      let s = off + (is64 ? 72 : 56);
      const ssize = is64 ? 80 : 68;
      for (let j = 0; j < nsects && j < 1024; j++, s += ssize) {
        if (!r.ok(s, ssize)) return undefined;
        sections.push({
          name: r.cstr(s, 16),
          addr: is64 ? r.u64(s + 32) : r.u32(s + 32),
          size: is64 ? r.u64(s + 40) : r.u32(s + 36),
          offset: base + r.u32(s + (is64 ? 48 : 40)),
        });
      }
    }
    off += size;
  }
  return make('macho', r, is64 ? 8 : 4, sections);
}

function parsePe(b: Buffer): Executable | undefined {
  const r = new Reader(b, true);
  const pe = r.u32(0x3c);
  if (!r.ok(pe, 24) || b.readUInt32BE(pe) !== 0x50450000) return undefined;
  const nsects = r.u16(pe + 6);
  const optSize = r.u16(pe + 20);
  const opt = pe + 24;
  if (!r.ok(opt, 32)) return undefined;
  const magic = r.u16(opt);
  const is64 = magic === 0x20b;
  const imageBase = is64 ? r.u64(opt + 24) : r.u32(opt + 28);
  const sections: ExeSection[] = [];
  let s = opt + optSize;
  for (let i = 0; i < nsects; i++, s += 40) {
    if (!r.ok(s, 40)) return undefined;
    const vsize = r.u32(s + 8);
    const rawSize = r.u32(s + 16);
    sections.push({
      name: r.cstr(s, 8),
      addr: imageBase + r.u32(s + 12),
      size: Math.min(vsize || rawSize, rawSize),
      offset: r.u32(s + 20),
    });
  }
  return make('pe', r, is64 ? 8 : 4, sections);
}

/** Parses the headers of an ELF, Mach-O or PE file; undefined for anything else or a broken header. */
export function openExecutable(b: Buffer): Executable | undefined {
  if (!looksExecutable(b)) return undefined;
  try {
    if (b.readUInt32BE(0) === 0x7f454c46) return parseElf(b);
    if (b[0] === 0x4d && b[1] === 0x5a) return parsePe(b);
    return parseMachO(b);
  } catch {
    return undefined; // a header field pointing past the end: not a usable executable
  }
}
