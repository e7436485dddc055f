/**
 * Go build information embedded in binaries (what `go version -m` prints).
 *
 * The linker writes a 32-byte header starting with "\xff Go buildinf:" (16-byte aligned) into the
 * `.go.buildinfo` section (ELF; `__go_buildinfo` on Mach-O; inside `.data` on PE and older files):
 * byte 14 is the pointer size, byte 15 flags. With flag 0x2 (Go 1.18+) the Go version and the
 * module info follow the header as uvarint-length-prefixed strings; otherwise (Go 1.13-1.17) the
 * header holds two pointers to Go string headers {data pointer, length}, read through the virtual
 * address map, in the byte order given by byte 15 (0 little, 1 big endian).
 * The module info text is wrapped in 16-byte sentinels and lists lines:
 *   path <main package path> / mod <path> <version> <sum> / dep <path> <version> <sum> /
 *   => <path> <version> <sum> (replaces the line above) / build <key>=<value>
 */
import { type Executable, openExecutable } from './exe.js';

export interface GoModule {
  path: string;
  version: string;
  sum?: string;
  /** The module that replaced this one (`=>` line): another module, or a local directory (no version). */
  replace?: GoModule;
}

export interface GoBuildInfo {
  /** As written by the toolchain: "go1.19.8", "go1.21.0 X:boringcrypto", "devel go1.23-abcdef". */
  goVersion: string;
  /** Main package path ("path" line). */
  path?: string;
  main?: GoModule;
  deps: GoModule[];
  settings: Record<string, string>;
}

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
/** Upper bound on a version or modinfo string: real ones are a few KB to a few hundred KB. */
const MAX_STRING = 16 * 1024 * 1024;

function searchData(exe: Executable): Buffer[] {
  const names =
    exe.format === 'elf'
      ? ['.go.buildinfo', '.data', '.noptrdata']
      : exe.format === 'macho'
        ? ['__go_buildinfo', '__data', '__noptrdata']
        : ['.data'];
  const out: Buffer[] = [];
  for (const n of names) {
    const s = exe.section(n);
    const d = s && exe.data(s);
    if (d) out.push(d);
  }
  return out;
}

function findHeader(data: Buffer): number {
  for (let i = data.indexOf(MAGIC); i >= 0; i = data.indexOf(MAGIC, i + 1)) {
    if (i % 16 === 0 && i + 32 <= data.length) return i;
  }
  return -1;
}

function uvarint(b: Buffer, off: number): [number, number] | undefined {
  let x = 0;
  let mul = 1;
  for (let i = 0; i < 10 && off + i < b.length; i++) {
    const c = b[off + i]!;
    x += (c & 0x7f) * mul;
    if (c < 0x80) return [x, off + i + 1];
    mul *= 128;
  }
  return undefined;
}

function readPtr(b: Buffer, off: number, size: number, le: boolean): number {
  if (size === 4) return le ? b.readUInt32LE(off) : b.readUInt32BE(off);
  const v = le ? b.readBigUInt64LE(off) : b.readBigUInt64BE(off);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(v);
}

/** Version and raw module info strings, or undefined when the file has no Go build info. */
export function readBuildInfoStrings(exe: Executable): { version: string; modinfo: string } | undefined {
  for (const data of searchData(exe)) {
    const h = findHeader(data);
    if (h < 0) continue;
    const ptrSize = data[h + 14]!;
    const flags = data[h + 15]!;
    if (flags & 0x2) {
      const strs: string[] = [];
      let off = h + 32;
      for (let k = 0; k < 2; k++) {
        const v = uvarint(data, off);
        if (!v || v[0] > MAX_STRING || v[1] + v[0] > data.length) return undefined;
        strs.push(data.toString('utf8', v[1], v[1] + v[0]));
        off = v[1] + v[0];
      }
      return { version: strs[0]!, modinfo: strs[1]! };
    }
    if (ptrSize !== 4 && ptrSize !== 8) return undefined;
    const le = flags === 0;
    const goString = (addrOff: number): string | undefined => {
      const addr = readPtr(data, h + addrOff, ptrSize, le);
      const hdr = addr >= 0 ? exe.readAt(addr, 2 * ptrSize) : undefined;
      if (!hdr) return undefined;
      const p = readPtr(hdr, 0, ptrSize, le);
      const n = readPtr(hdr, ptrSize, ptrSize, le);
      if (n < 0 || n > MAX_STRING) return undefined;
      if (n === 0) return '';
      return exe.readAt(p, n)?.toString('utf8');
    };
    const version = goString(16);
    const modinfo = goString(16 + ptrSize);
    if (version === undefined) return undefined;
    return { version, modinfo: modinfo ?? '' };
  }
  return undefined;
}

/** Parses the module info text (without or with its 16-byte sentinels). */
export function parseModInfo(goVersion: string, text: string): GoBuildInfo {
  if (text.length >= 33 && text[text.length - 17] === '\n') text = text.slice(16, text.length - 16);
  const info: GoBuildInfo = { goVersion, deps: [], settings: {} };
  let last: GoModule | undefined;
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    const mod = (): GoModule => ({ path: f[1] ?? '', version: f[2] ?? '', ...(f[3] ? { sum: f[3] } : {}) });
    switch (f[0]) {
      case 'path':
        info.path = f[1];
        break;
      case 'mod':
        info.main = last = mod();
        break;
      case 'dep':
        info.deps.push((last = mod()));
        break;
      case '=>':
        if (last) last.replace = mod();
        break;
      case 'build': {
        const kv = line.slice('build\t'.length);
        const eq = kv.indexOf('=');
        if (eq > 0) {
          let v = kv.slice(eq + 1);
          if (v.startsWith('"')) {
            try {
              v = JSON.parse(v) as string; // quoted values (-ldflags with spaces)
            } catch {
              /* keep as written */
            }
          }
          info.settings[kv.slice(0, eq)] = v;
        }
        break;
      }
      default:
        break;
    }
  }
  return info;
}

/** Build info of a Go binary, or undefined for anything that is not one. */
export function readGoBuildInfo(content: Buffer): GoBuildInfo | undefined {
  const exe = openExecutable(content);
  if (!exe) return undefined;
  const s = readBuildInfoStrings(exe);
  if (!s || !s.version) return undefined;
  return parseModInfo(s.version, s.modinfo);
}
