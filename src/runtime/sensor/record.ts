/**
 * Decoder for the sensor's binary record stream (native/sensor/sensor.h, version 2): records back
 * to back, little-endian, each with an 80-byte header whose `len` covers the whole record.
 * Constants here mirror sensor.h; keep them equal.
 */

import type { ThreadCaps } from '../event.js';

export const RECORD_VERSION = 2;
export const HDR_SIZE = 80;

export const T_META = 0;
export const T_EXEC = 1;
export const T_FORK = 2;
export const T_EXIT = 3;
export const T_OPENAT = 4;
export const T_CONNECT = 5;
export const T_DUP = 6;
export const T_CLOSE = 7;
export const T_SOCKET = 8;
export const T_PTRACE = 9;
export const T_LINK = 10;
export const T_MODULE = 11;
export const T_SYSCALLS = 12;
export const T_FILEOP = 13;
export const T_SETID = 14;
export const T_INBOUND = 15;
export const T_CAPSET = 16;
export const T_NTYPES = 17;
export const T_STATS = 100;

/** Names of the kernel record types (index = type), as the loader's --types takes them. */
export const RECORD_TYPE_NAMES = [
  'meta',
  'exec',
  'fork',
  'exit',
  'openat',
  'connect',
  'dup',
  'close',
  'socket',
  'ptrace',
  'link',
  'module',
  'syscalls',
  'fileop',
  'setid',
  'inbound',
  'capset',
] as const;

/** BWK_OP_* of fileop records (sensor.h), index = code */
export const FILEOP_SYSCALLS = [
  'unlink',
  'unlinkat',
  'rename',
  'renameat',
  'renameat2',
  'mkdir',
  'mkdirat',
  'rmdir',
  'chmod',
  'fchmodat',
  'fchmod',
  'memfd_create',
] as const;
export type FileopSyscall = (typeof FILEOP_SYSCALLS)[number];
const SETID_SYSCALLS = ['setuid', 'setgid', 'setreuid', 'setregid', 'setresuid', 'setresgid'] as const;
const INBOUND_SYSCALLS = ['accept', 'accept4', 'bind', 'listen'] as const;

export interface RecordHeader {
  version: number;
  type: number;
  len: number;
  /** CLOCK_BOOTTIME ns */
  ts: bigint;
  tid: number;
  pid: number;
  ppid: number;
  uid: number;
  gid: number;
  cpu: number;
  cgroupId: bigint;
  pidns: number;
  mntns: number;
  res: number;
  comm: string;
}

export type SensorRecord =
  | {
      kind: 'meta';
      h: RecordHeader;
      bootToRealtime: bigint;
      loaderPid: number;
      ringBytes: number;
      enabledMask: bigint;
    }
  | {
      kind: 'exec';
      h: RecordHeader;
      filename: string;
      argv: string[];
      cwd: string;
      /** BWK_EXE_* = PPM_EXE_* bits (upper/lower overlay layer, memfd) */
      exeFlags: number;
      oldTid: number;
      loginuid: number;
      /** after the exec */
      caps: ThreadCaps;
      /** the cgroup v2 directory's name (leaf), from the kernel */
      cgroupLeaf: string;
    }
  | { kind: 'fork'; h: RecordHeader; childTid: number; childPid: number; isThread: boolean }
  | { kind: 'exit'; h: RecordHeader; exitCode: number }
  | {
      kind: 'openat';
      h: RecordHeader;
      syscall: 'openat' | 'open' | 'openat2';
      dirfd: number;
      flags: number;
      mode: number;
      /** openat2's how->resolve */
      resolve: number;
      path: string;
    }
  | { kind: 'ptrace'; h: RecordHeader; request: number; pid: number; addr: bigint; data: bigint }
  | {
      kind: 'link';
      h: RecordHeader;
      syscall: 'symlink' | 'symlinkat' | 'link' | 'linkat';
      olddirfd: number;
      newdirfd: number;
      flags: number;
      /** symlink*: the target; link*: the existing path */
      oldPath: string;
      /** symlink*: the link path; link*: the new path */
      newPath: string;
    }
  | {
      kind: 'module';
      h: RecordHeader;
      syscall: 'init_module' | 'finit_module';
      fd: number;
      length: bigint;
      flags: number;
      uargs: string;
    }
  | {
      kind: 'connect';
      h: RecordHeader;
      fd: number;
      family: number;
      raddr: string;
      rport: number;
      lfamily: number;
      laddr: string;
      lport: number;
      path: string;
      proto: number;
    }
  | {
      kind: 'dup';
      h: RecordHeader;
      syscall: 'dup' | 'dup2' | 'dup3';
      oldfd: number;
      newfd: number;
      flags: number;
    }
  | { kind: 'close'; h: RecordHeader; fd: number }
  | { kind: 'socket'; h: RecordHeader; domain: number; type: number; protocol: number }
  | {
      kind: 'fileop';
      h: RecordHeader;
      syscall: FileopSyscall;
      /** dirfd (fd for fchmod) */
      dirfd: number;
      /** renames' new dirfd */
      newdirfd: number;
      /** flags, or the mode for mkdir/chmod */
      flags: number;
      path: string;
      /** renames' new path */
      newPath: string;
    }
  | {
      kind: 'setid';
      h: RecordHeader;
      syscall: (typeof SETID_SYSCALLS)[number];
      ids: [number, number, number];
      /** after the call */
      caps: ThreadCaps;
    }
  /** capset exit: the thread's sets after the call */
  | { kind: 'capset'; h: RecordHeader; caps: ThreadCaps }
  | {
      kind: 'inbound';
      h: RecordHeader;
      syscall: (typeof INBOUND_SYSCALLS)[number];
      fd: number;
      /** accept4 flags, listen backlog */
      arg: number;
      family: number;
      raddr: string;
      rport: number;
      lfamily: number;
      laddr: string;
      lport: number;
      proto: number;
    }
  /** the syscall numbers threads of cgroup h.cgroupId entered since the sensor started (loader) */
  | { kind: 'syscalls'; h: RecordHeader; nrs: number[] }
  | { kind: 'stats'; h: RecordHeader; counters: { events: bigint; drops: bigint }[] }
  | { kind: 'unknown'; h: RecordHeader };

export class RecordFormatError extends Error {}

function cstr(b: Buffer, off: number, max: number): string {
  let end = off;
  while (end < off + max && b[end] !== 0) end++;
  return b.toString('utf8', off, end);
}

/** IPv4/IPv6 address text from 16 raw bytes (IPv4 in the first 4). */
export function addrText(family: number, b: Buffer, off: number): string {
  if (family === 2) return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
  if (family === 10) {
    const words: string[] = [];
    for (let i = 0; i < 8; i++) words.push(b.readUInt16BE(off + 2 * i).toString(16));
    // IPv4-mapped
    if (words.slice(0, 5).every((w) => w === '0') && words[5] === 'ffff')
      return `::ffff:${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
    // longest run of zero words → "::"
    let best = -1;
    let bestLen = 0;
    for (let i = 0; i < 8;) {
      if (words[i] !== '0') {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && words[j] === '0') j++;
      if (j - i > bestLen && j - i > 1) {
        best = i;
        bestLen = j - i;
      }
      i = j;
    }
    if (best < 0) return words.join(':');
    return `${words.slice(0, best).join(':')}::${words.slice(best + bestLen).join(':')}`;
  }
  return '';
}

/** struct bwk_caps */
function readCaps(b: Buffer, o: number): ThreadCaps {
  // capability numbers stay below 64, and below 53 on every kernel so far (CAP_LAST_CAP is 40)
  return {
    inheritable: Number(b.readBigUInt64LE(o)),
    permitted: Number(b.readBigUInt64LE(o + 8)),
    effective: Number(b.readBigUInt64LE(o + 16)),
  };
}

export function decodeHeader(b: Buffer, o: number): RecordHeader {
  return {
    version: b.readUInt16LE(o),
    type: b.readUInt16LE(o + 2),
    len: b.readUInt32LE(o + 4),
    ts: b.readBigUInt64LE(o + 8),
    tid: b.readUInt32LE(o + 16),
    pid: b.readUInt32LE(o + 20),
    ppid: b.readUInt32LE(o + 24),
    uid: b.readUInt32LE(o + 28),
    gid: b.readUInt32LE(o + 32),
    cpu: b.readUInt32LE(o + 36),
    cgroupId: b.readBigUInt64LE(o + 40),
    pidns: b.readUInt32LE(o + 48),
    mntns: b.readUInt32LE(o + 52),
    // int64 without a BigInt: syscall results are far below 2^53
    res: b.readInt32LE(o + 60) * 0x100000000 + b.readUInt32LE(o + 56),
    comm: cstr(b, o + 64, 16),
  };
}

/** Decodes one whole record starting at `o` (its header's len bytes must be present). */
export function decodeRecord(b: Buffer, o: number): SensorRecord {
  const h = decodeHeader(b, o);
  if (h.version !== RECORD_VERSION)
    throw new RecordFormatError(`sensor record version ${h.version}, expected ${RECORD_VERSION}`);
  if (h.len < HDR_SIZE) throw new RecordFormatError(`sensor record length ${h.len} < header`);
  const p = o + HDR_SIZE;
  const end = o + h.len;
  const need = (n: number) => {
    if (p + n > end)
      throw new RecordFormatError(`sensor record type ${h.type}: ${h.len} bytes, payload needs ${n}`);
  };
  switch (h.type) {
    case T_META:
      need(24);
      return {
        kind: 'meta',
        h,
        bootToRealtime: b.readBigInt64LE(p),
        loaderPid: b.readUInt32LE(p + 8),
        ringBytes: b.readUInt32LE(p + 12),
        enabledMask: b.readBigUInt64LE(p + 16),
      };
    case T_EXEC: {
      need(56);
      const fl = b.readUInt32LE(p);
      const al = b.readUInt32LE(p + 4);
      const cl = b.readUInt32LE(p + 16);
      const gl = b.readUInt32LE(p + 24);
      need(56 + fl + al + cl + gl);
      const q = p + 56;
      const filename = b.toString('utf8', q, q + fl);
      const argv = al > 0 ? b.toString('utf8', q + fl, q + fl + al).split('\0') : [];
      // cwd: components leaf first, each NUL-terminated; none = "/"
      const comps = b
        .toString('utf8', q + fl + al, q + fl + al + cl)
        .split('\0')
        .filter((s) => s !== '');
      const cwd = '/' + comps.reverse().join('/');
      return {
        kind: 'exec',
        h,
        filename,
        argv,
        cwd,
        exeFlags: b.readUInt32LE(p + 20),
        oldTid: b.readUInt32LE(p + 8),
        loginuid: b.readUInt32LE(p + 12),
        caps: readCaps(b, p + 32),
        cgroupLeaf: b.toString('utf8', q + fl + al + cl, q + fl + al + cl + gl),
      };
    }
    case T_FORK:
      need(12);
      return {
        kind: 'fork',
        h,
        childTid: b.readUInt32LE(p),
        childPid: b.readUInt32LE(p + 4),
        isThread: b.readUInt32LE(p + 8) !== 0,
      };
    case T_EXIT:
      need(4);
      return { kind: 'exit', h, exitCode: b.readInt32LE(p) };
    case T_OPENAT: {
      need(24);
      const pl = b.readUInt32LE(p + 12);
      need(24 + pl);
      const sc = b.readUInt32LE(p + 16);
      return {
        kind: 'openat',
        h,
        syscall: sc === 1 ? 'open' : sc === 2 ? 'openat2' : 'openat',
        dirfd: b.readInt32LE(p),
        flags: b.readUInt32LE(p + 4),
        mode: b.readUInt32LE(p + 8),
        resolve: b.readUInt32LE(p + 20),
        path: b.toString('utf8', p + 24, p + 24 + pl),
      };
    }
    case T_PTRACE:
      need(24);
      return {
        kind: 'ptrace',
        h,
        request: b.readInt32LE(p),
        pid: b.readInt32LE(p + 4),
        addr: b.readBigUInt64LE(p + 8),
        data: b.readBigUInt64LE(p + 16),
      };
    case T_LINK: {
      need(24);
      const ol = b.readUInt32LE(p + 16);
      const nl = b.readUInt32LE(p + 20);
      need(24 + ol + nl);
      const sc = b.readUInt32LE(p);
      return {
        kind: 'link',
        h,
        syscall: (['symlink', 'symlinkat', 'link', 'linkat'] as const)[sc & 3]!,
        olddirfd: b.readInt32LE(p + 4),
        newdirfd: b.readInt32LE(p + 8),
        flags: b.readUInt32LE(p + 12),
        oldPath: b.toString('utf8', p + 24, p + 24 + ol),
        newPath: b.toString('utf8', p + 24 + ol, p + 24 + ol + nl),
      };
    }
    case T_MODULE: {
      need(24);
      const ul = b.readUInt32LE(p + 20);
      need(24 + ul);
      return {
        kind: 'module',
        h,
        syscall: b.readUInt32LE(p) === 1 ? 'finit_module' : 'init_module',
        fd: b.readInt32LE(p + 4),
        length: b.readBigUInt64LE(p + 8),
        flags: b.readUInt32LE(p + 16),
        uargs: b.toString('utf8', p + 24, p + 24 + ul),
      };
    }
    case T_CONNECT: {
      need(52);
      const family = b.readUInt16LE(p + 4);
      const lfamily = b.readUInt16LE(p + 24);
      const pl = b.readUInt32LE(p + 44);
      need(52 + pl);
      return {
        kind: 'connect',
        h,
        fd: b.readInt32LE(p),
        family,
        rport: b.readUInt16LE(p + 6),
        raddr: addrText(family, b, p + 8),
        lfamily,
        lport: b.readUInt16LE(p + 26),
        laddr: addrText(lfamily, b, p + 28),
        path: b.toString('utf8', p + 52, p + 52 + pl),
        proto: b.readUInt32LE(p + 48),
      };
    }
    case T_DUP: {
      need(16);
      const sc = b.readUInt32LE(p);
      return {
        kind: 'dup',
        h,
        syscall: sc === 0 ? 'dup' : sc === 2 ? 'dup2' : 'dup3',
        oldfd: b.readInt32LE(p + 4),
        newfd: b.readInt32LE(p + 8),
        flags: b.readUInt32LE(p + 12),
      };
    }
    case T_CLOSE:
      need(8);
      return { kind: 'close', h, fd: b.readInt32LE(p) };
    case T_SOCKET:
      need(16);
      return {
        kind: 'socket',
        h,
        domain: b.readInt32LE(p),
        type: b.readInt32LE(p + 4),
        protocol: b.readInt32LE(p + 8),
      };
    case T_FILEOP: {
      need(24);
      const ol = b.readUInt32LE(p + 16);
      const nl = b.readUInt32LE(p + 20);
      need(24 + ol + nl);
      const sc = FILEOP_SYSCALLS[b.readUInt32LE(p)];
      if (!sc) return { kind: 'unknown', h };
      return {
        kind: 'fileop',
        h,
        syscall: sc,
        dirfd: b.readInt32LE(p + 4),
        newdirfd: b.readInt32LE(p + 8),
        flags: b.readUInt32LE(p + 12),
        path: b.toString('utf8', p + 24, p + 24 + ol),
        newPath: b.toString('utf8', p + 24 + ol, p + 24 + ol + nl),
      };
    }
    case T_SETID: {
      need(40);
      const sc = SETID_SYSCALLS[b.readUInt32LE(p)];
      if (!sc) return { kind: 'unknown', h };
      return {
        kind: 'setid',
        h,
        syscall: sc,
        ids: [b.readInt32LE(p + 4), b.readInt32LE(p + 8), b.readInt32LE(p + 12)],
        caps: readCaps(b, p + 16),
      };
    }
    case T_CAPSET:
      need(24);
      return { kind: 'capset', h, caps: readCaps(b, p) };
    case T_INBOUND: {
      need(56);
      const sc = INBOUND_SYSCALLS[b.readUInt32LE(p)];
      if (!sc) return { kind: 'unknown', h };
      const family = b.readUInt16LE(p + 12);
      const lfamily = b.readUInt16LE(p + 32);
      return {
        kind: 'inbound',
        h,
        syscall: sc,
        fd: b.readInt32LE(p + 4),
        arg: b.readInt32LE(p + 8),
        family,
        rport: b.readUInt16LE(p + 14),
        raddr: addrText(family, b, p + 16),
        lfamily,
        lport: b.readUInt16LE(p + 34),
        laddr: addrText(lfamily, b, p + 36),
        proto: b.readUInt32LE(p + 52),
      };
    }
    case T_SYSCALLS: {
      need(64);
      const nrs: number[] = [];
      for (let w = 0; w < 8; w++) {
        const v = b.readBigUInt64LE(p + 8 * w);
        if (v === 0n) continue;
        for (let bit = 0; bit < 64; bit++) if ((v >> BigInt(bit)) & 1n) nrs.push(w * 64 + bit);
      }
      return { kind: 'syscalls', h, nrs };
    }
    case T_STATS: {
      need(8);
      const n = b.readUInt32LE(p);
      need(8 + 16 * n);
      const counters = [];
      for (let i = 0; i < n; i++)
        counters.push({
          events: b.readBigUInt64LE(p + 8 + 16 * i),
          drops: b.readBigUInt64LE(p + 16 + 16 * i),
        });
      return { kind: 'stats', h, counters };
    }
    default:
      return { kind: 'unknown', h };
  }
}

/** Splits a byte stream into records across chunk boundaries. */
export class RecordStream {
  private buf: Buffer = Buffer.alloc(0);

  /** Appends a chunk; returns the whole records it completes. */
  push(chunk: Buffer): SensorRecord[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: SensorRecord[] = [];
    let o = 0;
    while (this.buf.length - o >= HDR_SIZE) {
      const len = this.buf.readUInt32LE(o + 4);
      if (len < HDR_SIZE) throw new RecordFormatError(`sensor record length ${len} at stream offset ${o}`);
      if (this.buf.length - o < len) break;
      out.push(decodeRecord(this.buf, o));
      o += len;
    }
    this.buf = o === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(o);
    return out;
  }

  /** bytes of an incomplete record held back */
  get pending(): number {
    return this.buf.length;
  }
}
