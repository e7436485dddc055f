/**
 * Reader for libscap capture files (.scap, as `sysdig -w` and Falco write them): pcapng-style
 * blocks (block type, total length, body, total length again), gzip-compressed or not.
 * Decoded: the section header, the machine info, process lists (PL V1..V9 as far as their
 * layout is known: V6 and V8 fully), and event blocks (EV, EVF, V2 forms) into `SyscallEvent`s
 * with parameters named as libs' event table names them. Old captures whose event header lacks
 * `nparams` take the parameter count from the table, checked against the event length.
 */
import { gunzipSync } from 'node:zlib';
import { readFile } from 'node:fs/promises';
import type { ParamValue, SockAddr, SockTuple, SyscallEvent } from '../event.js';
import { EVENT_INFO, type ParamKind } from './events.js';
import { X86_64_SYSCALLS } from './syscalls.js';

export const SHB_BLOCK_TYPE = 0x0a0d0d0a;
export const MI_BLOCK_TYPE = 0x201;
export const PL_BLOCK_TYPES: Record<number, number> = {
  0x202: 1,
  0x207: 2,
  0x209: 3,
  0x210: 4,
  0x211: 5,
  0x212: 6,
  0x213: 7,
  0x214: 8,
  0x215: 9,
};
export const FDL_BLOCK_TYPE = 0x203;
export const FDL_BLOCK_TYPE_V2 = 0x218;
export const EV_BLOCK_TYPE = 0x204;
export const EVF_BLOCK_TYPE = 0x208;
export const EV_BLOCK_TYPE_V2 = 0x216;
export const EVF_BLOCK_TYPE_V2 = 0x217;
export const IL_BLOCK_TYPE = 0x205;
export const UL_BLOCK_TYPE = 0x206;

export class ScapError extends Error {}

/** A process from the capture's process list (the state before the first event). */
export interface ScapProcess {
  tid: number;
  pid: number;
  ptid: number;
  sid: number;
  vpgid?: number;
  comm: string;
  exe: string;
  exepath?: string;
  args: string[];
  cwd: string;
  uid: number;
  gid: number;
  env: string[];
  vtid: number;
  vpid: number;
  cgroups: string[];
  root: string;
}

/** An fd from the capture's fd lists (the fd tables before the first event). */
export interface ScapFd {
  fd: number;
  ino: number;
  /** libscap's scap_fd_type */
  scapType: number;
  name: string;
  openFlags?: number;
  sip?: string;
  dip?: string;
  sport?: number;
  dport?: number;
  l4proto?: number;
  /** server sockets: the listening address */
  ip?: string;
  port?: number;
}

export interface ScapMachine {
  cpus: number;
  memoryBytes: bigint;
  hostname: string;
}

export interface ScapCounts {
  blocks: number;
  events: number;
  /** events whose code this reader has no table entry for (kept with type "unknown") */
  unknownEvents: number;
  /** process-list blocks of a layout this reader does not decode */
  skippedProcLists: number;
  /** fd-list blocks this reader could not decode */
  skippedFdLists: number;
}

const dec = new TextDecoder('utf-8');

function cstr(b: Uint8Array): string {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return dec.decode(b.subarray(0, end));
}

function strlist(b: Uint8Array): string[] {
  const s = dec.decode(b);
  const parts = s.split('\0');
  if (parts.length && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

function ipv4(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}
function ipv6(b: Uint8Array, o: number): string {
  const v = new DataView(b.buffer, b.byteOffset + o, 16);
  // IPv4-mapped addresses print as IPv4, as libsinsp does
  let mapped = true;
  for (let i = 0; i < 10; i++) if (b[o + i] !== 0) mapped = false;
  if (mapped && b[o + 10] === 0xff && b[o + 11] === 0xff) return ipv4(b, o + 12);
  const words: string[] = [];
  for (let i = 0; i < 8; i++) words.push(v.getUint16(i * 2, false).toString(16));
  return words
    .join(':')
    .replace(/\b(?:0:){2,}0?\b/, ':')
    .replace(/^0::/, '::')
    .replace(/:{3,}/, '::');
}

function sockaddr(b: Uint8Array): SockAddr {
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const fam = b[0];
  if (fam === 2 && b.length >= 7) return { family: 'inet', ip: ipv4(b, 1), port: dv.getUint16(5, true) };
  if (fam === 10 && b.length >= 19) return { family: 'inet6', ip: ipv6(b, 1), port: dv.getUint16(17, true) };
  if (fam === 1) return { family: 'unix', path: cstr(b.subarray(1)) };
  return { family: 'other' };
}

function socktuple(b: Uint8Array): SockTuple {
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const fam = b[0];
  if (fam === 2 && b.length >= 13)
    return {
      family: 'inet',
      sip: ipv4(b, 1),
      sport: dv.getUint16(5, true),
      dip: ipv4(b, 7),
      dport: dv.getUint16(11, true),
    };
  if (fam === 10 && b.length >= 37)
    return {
      family: 'inet6',
      sip: ipv6(b, 1),
      sport: dv.getUint16(17, true),
      dip: ipv6(b, 19),
      dport: dv.getUint16(35, true),
    };
  if (fam === 1) return { family: 'unix', path: b.length > 17 ? cstr(b.subarray(17)) : '' };
  return { family: 'other' };
}

function num(dv: DataView, o: number, len: number, kind: ParamKind): number | bigint {
  const signed = kind === 'i64' || kind === 'i32';
  switch (len) {
    case 1:
      return signed ? dv.getInt8(o) : dv.getUint8(o);
    case 2:
      return signed ? dv.getInt16(o, true) : dv.getUint16(o, true);
    case 4:
      return signed ? dv.getInt32(o, true) : dv.getUint32(o, true);
    case 8: {
      // fast path: values that fit in 53 bits without BigInt
      const lo = dv.getUint32(o, true);
      const hi = dv.getUint32(o + 4, true);
      if (hi < 0x200000) return hi * 0x100000000 + lo;
      if (signed && hi >= 0xffe00000) return (hi - 0x100000000) * 0x100000000 + lo;
      const v = signed ? dv.getBigInt64(o, true) : dv.getBigUint64(o, true);
      return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
    }
    default:
      return 0;
  }
}

function decodeParam(b: Uint8Array, dv: DataView, o: number, len: number, kind: ParamKind): ParamValue {
  switch (kind) {
    case 'str':
      return cstr(b.subarray(o, o + len));
    case 'strlist':
      return strlist(b.subarray(o, o + len));
    case 'addr':
      return sockaddr(b.subarray(o, o + len));
    case 'tuple':
      return socktuple(b.subarray(o, o + len));
    case 'buf':
    case 'raw':
      return b.subarray(o, o + len);
    default:
      return len === 0 ? 0 : num(dv, o, len, kind);
  }
}

/** per event code, the parameter count old-format events of this capture had */
let lastCount = new Map<number, number>();

/** Parameter lengths of an event body, trying the header forms libscap has used. */
function paramLayout(
  b: Uint8Array,
  off: number,
  len: number,
  code: number,
  tableCount: number | undefined,
): { lens: number[]; dataOff: number } | undefined {
  const dv = new DataView(b.buffer, b.byteOffset);
  const end = off + len;
  const sumOk = (n: number, at: number, width: 2 | 4): number[] | undefined => {
    if (at + n * width > end) return undefined;
    const lens: number[] = [];
    let total = 0;
    for (let i = 0; i < n; i++) {
      const l = width === 2 ? dv.getUint16(at + i * 2, true) : dv.getUint32(at + i * 4, true);
      lens.push(l);
      total += l;
    }
    return at + n * width + total === end ? lens : undefined;
  };
  // current form: u32 nparams after the type
  if (len >= 26) {
    const np = dv.getUint32(off + 22, true);
    if (np <= 64) {
      for (const w of [2, 4] as const) {
        const lens = sumOk(np, off + 26, w);
        if (lens) return { lens, dataOff: off + 26 + np * w };
      }
    }
  }
  // old form: no nparams; the count from the table (or the last count seen for this code), else
  // the one the length allows, nearest to the table's
  const hint = lastCount.get(code) ?? tableCount;
  if (hint !== undefined) {
    const lens = sumOk(hint, off + 22, 2);
    if (lens) return { lens, dataOff: off + 22 + hint * 2 };
  }
  const candidates: number[] = [];
  for (let n = 0; n <= 40; n++) if (n !== hint) candidates.push(n);
  if (tableCount !== undefined)
    candidates.sort((x, y) => Math.abs(x - tableCount) - Math.abs(y - tableCount) || y - x);
  for (const n of candidates) {
    const lens = sumOk(n, off + 22, 2);
    if (lens) {
      lastCount.set(code, n);
      return { lens, dataOff: off + 22 + n * 2 };
    }
  }
  void code;
  return undefined;
}

export interface ScapCapture {
  version: { major: number; minor: number };
  machine?: ScapMachine;
  processes: ScapProcess[];
  /** fd tables by thread id */
  fds: Map<number, ScapFd[]>;
  counts: ScapCounts;
  /** events in file order (evt.num from 1) */
  events(): Generator<SyscallEvent>;
}

function readProcList(b: Uint8Array, off: number, end: number, version: number): ScapProcess[] | undefined {
  if (version < 6 || version > 9) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset);
  const out: ScapProcess[] = [];
  let o = off;
  const u64 = () => {
    const v = Number(dv.getBigUint64(o, true));
    o += 8;
    return v;
  };
  const u32 = () => {
    const v = dv.getUint32(o, true);
    o += 4;
    return v;
  };
  const bytes = () => {
    const n = dv.getUint16(o, true);
    o += 2;
    const s = b.subarray(o, o + n);
    o += n;
    return s;
  };
  while (o + 32 <= end) {
    // V9 entries carry their own length, so that later versions can append fields
    let entryEnd = end;
    if (version >= 9) {
      const n = u32();
      entryEnd = o - 4 + n;
    }
    const tid = u64();
    const pid = u64();
    const ptid = u64();
    const sid = u64();
    const vpgid = version >= 8 ? u64() : undefined;
    const comm = cstr(bytes());
    const exe = cstr(bytes());
    const exepath = version >= 7 ? cstr(bytes()) : undefined;
    const args = strlist(bytes());
    const cwd = cstr(bytes());
    o += 8; // fdlimit
    o += 4; // flags
    const uid = u32();
    const gid = u32();
    o += 4 + 4 + 4 + 8 + 8; // vmsize, vmrss, vmswap, pfmajor, pfminor
    const env = strlist(bytes());
    const vtid = u64();
    const vpid = u64();
    const cgroups = strlist(bytes());
    const root = cstr(bytes());
    if (version >= 9) o = entryEnd;
    if (o > end) break;
    const p: ScapProcess = {
      tid,
      pid,
      ptid,
      sid,
      comm,
      exe,
      args,
      cwd,
      uid,
      gid,
      env,
      vtid,
      vpid,
      cgroups,
      root,
    };
    if (vpgid !== undefined) p.vpgid = vpgid;
    if (exepath !== undefined) p.exepath = exepath;
    out.push(p);
  }
  return out;
}

const SCAP_FD_NAMES_ONLY = new Set([0, 1, 2, 7, 9, 10, 11, 12, 13, 14, 15, 17, 18, 19, 20, 21]);

function readFdList(
  b: Uint8Array,
  off: number,
  end: number,
  v2: boolean,
): { tid: number; fds: ScapFd[] } | undefined {
  const dv = new DataView(b.buffer, b.byteOffset);
  let o = off;
  const tid = Number(dv.getBigUint64(o, true));
  o += 8;
  const fds: ScapFd[] = [];
  const str = () => {
    const n = dv.getUint16(o, true);
    o += 2;
    const x = cstr(b.subarray(o, o + n));
    o += n;
    return x;
  };
  while (o + 17 <= end) {
    const start = o;
    let entryEnd = end;
    if (v2) {
      entryEnd = start + dv.getUint32(o, true);
      o += 4;
      if (entryEnd > end || entryEnd <= start) return undefined;
    }
    const fd = Number(dv.getBigInt64(o, true));
    const ino = Number(dv.getBigUint64(o + 8, true));
    const scapType = dv.getUint8(o + 16);
    o += 17;
    const e: ScapFd = { fd, ino, scapType, name: '' };
    if (scapType === 3) {
      e.sip = ipv4(b, o);
      e.dip = ipv4(b, o + 4);
      e.sport = dv.getUint16(o + 8, true);
      e.dport = dv.getUint16(o + 10, true);
      e.l4proto = dv.getUint8(o + 12);
      o += 13;
    } else if (scapType === 4) {
      e.sip = ipv6(b, o);
      e.dip = ipv6(b, o + 16);
      e.sport = dv.getUint16(o + 32, true);
      e.dport = dv.getUint16(o + 34, true);
      e.l4proto = dv.getUint8(o + 36);
      o += 37;
    } else if (scapType === 5) {
      e.ip = ipv4(b, o);
      e.port = dv.getUint16(o + 4, true);
      e.l4proto = dv.getUint8(o + 6);
      o += 7;
    } else if (scapType === 6) {
      e.ip = ipv6(b, o);
      e.port = dv.getUint16(o + 16, true);
      e.l4proto = dv.getUint8(o + 18);
      o += 19;
    } else if (scapType === 8) {
      o += 16; // source, dest
      e.name = str();
    } else if (scapType === 16) {
      e.openFlags = dv.getUint32(o, true);
      o += 4;
      e.name = str();
    } else if (SCAP_FD_NAMES_ONLY.has(scapType)) e.name = str();
    else return undefined;
    if (v2) o = entryEnd;
    if (o > end) return undefined;
    fds.push(e);
  }
  return { tid, fds };
}

/** Parses a capture held in memory (gzip or plain). */
export function parseScap(input: Uint8Array): ScapCapture {
  let b = input;
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) b = gunzipSync(b);
  if (b.length < 28) throw new ScapError('not a capture file: too short');
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  if (dv.getUint32(0, true) !== SHB_BLOCK_TYPE)
    throw new ScapError('not a capture file: no section header block');
  if (dv.getUint32(8, true) !== 0x1a2b3c4d)
    throw new ScapError('unsupported capture: byte order magic is not little-endian 0x1A2B3C4D');
  const version = { major: dv.getUint16(12, true), minor: dv.getUint16(14, true) };
  const counts: ScapCounts = {
    blocks: 0,
    events: 0,
    unknownEvents: 0,
    skippedProcLists: 0,
    skippedFdLists: 0,
  };
  const processes: ScapProcess[] = [];
  const fds = new Map<number, ScapFd[]>();
  let machine: ScapMachine | undefined;
  const evBlocks: [number, number, number][] = []; // offset, length, type

  let off = 0;
  while (off + 12 <= b.length) {
    const type = dv.getUint32(off, true);
    const len = dv.getUint32(off + 4, true);
    if (len < 12 || off + len > b.length)
      throw new ScapError(
        `corrupt capture: block of type 0x${type.toString(16)} at offset ${off} has length ${len}`,
      );
    counts.blocks++;
    const body = off + 8;
    const end = off + len - 4;
    if (type === MI_BLOCK_TYPE) {
      const cpus = dv.getUint32(body, true);
      const mem = dv.getBigUint64(body + 4, true);
      machine = {
        cpus,
        memoryBytes: mem,
        hostname: cstr(b.subarray(body + 20, Math.min(end, body + 20 + 256))),
      };
    } else if (PL_BLOCK_TYPES[type] !== undefined) {
      const ps = readProcList(b, body, end, PL_BLOCK_TYPES[type]!);
      if (ps) processes.push(...ps);
      else counts.skippedProcLists++;
    } else if (type === FDL_BLOCK_TYPE || type === FDL_BLOCK_TYPE_V2) {
      const l = readFdList(b, body, end, type === FDL_BLOCK_TYPE_V2);
      if (l) fds.set(l.tid, [...(fds.get(l.tid) ?? []), ...l.fds]);
      else counts.skippedFdLists++;
    } else if (
      type === EV_BLOCK_TYPE ||
      type === EVF_BLOCK_TYPE ||
      type === EV_BLOCK_TYPE_V2 ||
      type === EVF_BLOCK_TYPE_V2
    ) {
      evBlocks.push([off, len, type]);
      counts.events++;
      const code = dv.getUint16(
        body + 2 + (type === EVF_BLOCK_TYPE || type === EVF_BLOCK_TYPE_V2 ? 4 : 0) + 20,
        true,
      );
      if (!EVENT_INFO.has(code)) counts.unknownEvents++;
    }
    off += len;
  }
  if (off !== b.length)
    throw new ScapError(`corrupt capture: ${b.length - off} trailing bytes (truncated block)`);

  return {
    version,
    machine,
    processes,
    fds,
    counts,
    *events() {
      let n = 0;
      lastCount = new Map();
      // generic events name their syscall by number on enter; the exit inherits it per thread
      const generic = new Map<number, string>();
      for (const [boff, , type] of evBlocks) {
        const cpu = dv.getUint16(boff + 8, true);
        const hasFlags = type === EVF_BLOCK_TYPE || type === EVF_BLOCK_TYPE_V2;
        const eoff = boff + 10 + (hasFlags ? 4 : 0);
        const ts = dv.getBigUint64(eoff, true);
        const tid = Number(dv.getBigUint64(eoff + 8, true));
        const elen = dv.getUint32(eoff + 16, true);
        const code = dv.getUint16(eoff + 20, true);
        const info = EVENT_INFO.get(code);
        const layout = paramLayout(b, eoff, elen, code, info?.params.length);
        if (!layout)
          throw new ScapError(
            `corrupt capture: event ${n + 1} (code ${code}) parameters do not fit its length ${elen}`,
          );
        const params: Record<string, ParamValue> = {};
        let p = layout.dataOff;
        layout.lens.forEach((l, i) => {
          const spec = info?.params[i];
          const name = spec ? spec[0] : `p${i}`;
          params[name] = decodeParam(b, dv, p, l, spec ? spec[1] : 'raw');
          p += l;
        });
        let typeName = info ? info.name : 'unknown';
        if (code === 0 || code === 1) {
          const native = params.nativeID;
          if (code === 0 && typeof native === 'number' && X86_64_SYSCALLS[native])
            generic.set(tid, X86_64_SYSCALLS[native]!);
          typeName = generic.get(tid) ?? 'syscall';
          if (code === 1) generic.delete(tid);
        }
        yield {
          num: ++n,
          ts,
          tid,
          cpu,
          type: typeName,
          dir: info ? info.dir : code % 2 ? '<' : '>',
          params,
          code,
        };
      }
    },
  };
}

export async function readScapFile(path: string): Promise<ScapCapture> {
  return parseScap(new Uint8Array(await readFile(path)));
}
