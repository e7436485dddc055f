/**
 * The filter fields (libsinsp's filterchecks) the upstream Falco rules use, with their types and
 * extractors over (event, state). A field value is `undefined` when the field does not apply to
 * the event (then every comparison but `exists` is false, as in libsinsp).
 */
import type { SockAddr, SockTuple, SyscallEvent } from '../event.js';
import { SYSCALL_SOURCE, returnValue } from '../event.js';
import { PPM_O_CREAT, PPM_O_RDONLY, PPM_O_WRONLY, PPM_O_F_CREATED, capsToString } from '../flags.js';
import { FD_TYPECHAR, type FdInfo, type StateTracker, type ThreadInfo } from '../state/index.js';
import { renderParam } from './render.js';

export type FieldType =
  'string' | 'bytebuf' | 'int' | 'uint' | 'bool' | 'ipaddr' | 'ipnet' | 'port' | 'abstime' | 'reltime';

export type FieldValue = string | number | bigint | boolean | Uint8Array | string[] | undefined;

export interface FieldDef {
  type: FieldType;
  /** 'required' / 'optional' argument in [brackets]; 'index' means the argument must be a number */
  arg?: 'required' | 'optional';
  argIndex?: boolean;
  /** without an argument the field stands for all ancestors (proc.aname): comparisons match any */
  anyWithoutArg?: boolean;
  /** a list field (plugin fields such as ka.req.pod.containers.image): `in` holds when every value is in the set */
  list?: boolean;
  get(ev: SyscallEvent, st: StateTracker, arg: string | undefined): FieldValue;
}

const U32_NONE = 0xffffffff;
const OPEN_TYPES = new Set(['open', 'openat', 'openat2', 'creat', 'open_by_handle_at']);

const capsText = (m: number | undefined): string | undefined =>
  m === undefined ? undefined : capsToString(m);

function thr(st: StateTracker): ThreadInfo | undefined {
  return st.current;
}
function proc(st: StateTracker): ThreadInfo | undefined {
  const t = st.current;
  return t ? st.main(t) : undefined;
}
function fdOf(st: StateTracker): FdInfo | undefined {
  return st.currentFd;
}
function cmdline(t: ThreadInfo): string {
  return t.args.length ? `${t.comm} ${t.args.join(' ')}` : t.comm;
}
function isSock(f: FdInfo): boolean {
  return f.type === 'ipv4' || f.type === 'ipv6';
}
function userName(uid: number): string {
  return uid === 0 ? 'root' : uid === U32_NONE ? '<NA>' : String(uid);
}
function ancestorField(get: (t: ThreadInfo) => FieldValue): FieldDef['get'] {
  return (_ev, st, arg) => {
    const t = proc(st);
    if (!t) return undefined;
    if (arg === undefined) {
      const out: string[] = [];
      let cur = st.parent(t);
      for (let i = 0; cur && i < 64; i++, cur = st.parent(cur)) out.push(String(get(cur)));
      return out;
    }
    const a = st.ancestor(t, Number(arg));
    return a ? get(a) : undefined;
  };
}

function resValue(ev: SyscallEvent): number | undefined {
  return returnValue(ev);
}
const ERRNO: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  4: 'EINTR',
  5: 'EIO',
  9: 'EBADF',
  11: 'EAGAIN',
  12: 'ENOMEM',
  13: 'EACCES',
  14: 'EFAULT',
  16: 'EBUSY',
  17: 'EEXIST',
  20: 'ENOTDIR',
  21: 'EISDIR',
  22: 'EINVAL',
  24: 'EMFILE',
  28: 'ENOSPC',
  32: 'EPIPE',
  38: 'ENOSYS',
  95: 'EOPNOTSUPP',
  97: 'EAFNOSUPPORT',
  98: 'EADDRINUSE',
  101: 'ENETUNREACH',
  104: 'ECONNRESET',
  110: 'ETIMEDOUT',
  111: 'ECONNREFUSED',
  113: 'EHOSTUNREACH',
  114: 'EALREADY',
  115: 'EINPROGRESS',
};
export function errnoName(n: number): string {
  return ERRNO[n] ?? `E${n}`;
}

function openFlags(ev: SyscallEvent): number | undefined {
  if (ev.dir !== '<') return undefined;
  if (!/^(open|openat|openat2|open_by_handle_at|creat)$/.test(ev.type)) return undefined;
  const f = ev.params.flags;
  return typeof f === 'number' ? f : ev.type === 'creat' ? PPM_O_CREAT | PPM_O_WRONLY : undefined;
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? (i === 0 ? '/' : p) : p.slice(0, i);
}
function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}

function argByName(ev: SyscallEvent, name: string): unknown {
  return ev.params[name];
}

function argIndex(ev: SyscallEvent, idx: number): unknown {
  const keys = Object.keys(ev.params);
  const k = keys[idx];
  return k === undefined ? undefined : ev.params[k];
}

function fdIp(f: FdInfo | undefined, side: 'c' | 's' | 'l' | 'r'): string | undefined {
  if (!f || !isSock(f)) return undefined;
  if (side === 'c') return f.cip;
  if (side === 's') return f.sip;
  // local/remote: the server side is local for an accepted socket
  if (side === 'l') return f.isServer ? f.sip : f.cip;
  return f.isServer ? f.cip : f.sip;
}
function fdPort(f: FdInfo | undefined, side: 'c' | 's' | 'l' | 'r'): number | undefined {
  if (!f || !isSock(f)) return undefined;
  if (side === 'c') return f.cport;
  if (side === 's') return f.sport;
  if (side === 'l') return f.isServer ? f.sport : f.cport;
  return f.isServer ? f.cport : f.sport;
}

const f = (type: FieldType, get: FieldDef['get'], extra: Partial<FieldDef> = {}): FieldDef => ({
  type,
  get,
  ...extra,
});

export const FIELDS: Record<string, FieldDef> = {
  // evt.*
  'evt.num': f('uint', (ev) => ev.num),
  'evt.type': f('string', (ev) => ev.type),
  'evt.dir': f('string', (ev) => ev.dir),
  'evt.cpu': f('int', (ev) => ev.cpu),
  'evt.rawtime': f('abstime', (ev) => ev.ts),
  'evt.time': f('string', (ev) => {
    const ms = Number(ev.ts / 1000000n);
    return new Date(ms).toISOString().slice(11, 19) + '.' + (ev.ts % 1000000000n).toString().padStart(9, '0');
  }),
  'evt.time.iso8601': f('string', (ev) => {
    const ms = Number(ev.ts / 1000000n);
    return (
      new Date(ms).toISOString().slice(0, 19) + '.' + (ev.ts % 1000000000n).toString().padStart(9, '0') + 'Z'
    );
  }),
  'evt.source': f('string', () => SYSCALL_SOURCE),
  'evt.plugininfo': f('string', () => undefined),
  'evt.count': f('uint', () => 1),
  'evt.is_io': f('bool', (ev) =>
    /^(read|write|readv|writev|pread|pwrite|preadv|pwritev|send|sendto|sendmsg|sendmmsg|recv|recvfrom|recvmsg|recvmmsg)$/.test(
      ev.type,
    ),
  ),
  'evt.buffer': f('bytebuf', (ev) => {
    const d = ev.params.data;
    return d instanceof Uint8Array ? d : undefined;
  }),
  'evt.res': f('string', (ev) => {
    const r = resValue(ev);
    if (r === undefined || ev.dir !== '<') return undefined;
    return r >= 0 ? 'SUCCESS' : errnoName(-r);
  }),
  'evt.rawres': f('int', (ev) => (ev.dir === '<' ? resValue(ev) : undefined)),
  'evt.failed': f('bool', (ev) => {
    const r = resValue(ev);
    return r !== undefined && ev.dir === '<' ? r < 0 : false;
  }),
  'evt.is_open_read': f('bool', (ev) => {
    const fl = openFlags(ev);
    return fl !== undefined && (fl & PPM_O_RDONLY) !== 0;
  }),
  'evt.is_open_write': f('bool', (ev) => {
    const fl = openFlags(ev);
    return fl !== undefined && (fl & PPM_O_WRONLY) !== 0;
  }),
  'evt.is_open_exec': f('bool', (ev) => {
    const fl = openFlags(ev);
    return fl !== undefined && (fl & (1 << 15)) !== 0;
  }),
  'evt.is_open_create': f('bool', (ev) => {
    const fl = openFlags(ev);
    return fl !== undefined && (fl & PPM_O_F_CREATED) !== 0;
  }),
  'evt.arg': f(
    'string',
    (ev, _st, arg) => {
      if (arg === undefined) return undefined;
      const v = /^[0-9]+$/.test(arg) ? argIndex(ev, Number(arg)) : argByName(ev, arg);
      return v === undefined
        ? undefined
        : renderParam(ev, /^[0-9]+$/.test(arg) ? (Object.keys(ev.params)[Number(arg)] ?? '') : arg, v);
    },
    { arg: 'required' },
  ),
  'evt.rawarg': f(
    'string',
    (ev, _st, arg) => {
      if (arg === undefined) return undefined;
      const v = argByName(ev, arg);
      if (typeof v === 'number' || typeof v === 'string' || typeof v === 'bigint') return v;
      return v === undefined ? undefined : renderParam(ev, arg, v);
    },
    { arg: 'required' },
  ),
  'evt.args': f('string', (ev) =>
    Object.entries(ev.params)
      .map(([k, v]) => `${k}=${renderParam(ev, k, v)}`)
      .join(' '),
  ),
  // proc.* / thread.*
  'proc.pid': f('int', (_ev, st) => thr(st)?.pid),
  'proc.tid': f('int', (_ev, st) => thr(st)?.tid),
  'thread.tid': f('int', (_ev, st) => thr(st)?.tid),
  'proc.ppid': f('int', (_ev, st) => {
    const t = proc(st);
    return t ? t.ptid : undefined;
  }),
  'proc.vpid': f('int', (_ev, st) => thr(st)?.vpid),
  'proc.sid': f('int', (_ev, st) => proc(st)?.sid),
  'proc.vpgid': f('int', (_ev, st) => proc(st)?.pgid),
  'proc.is_vpgid_leader': f('bool', (_ev, st) => {
    const t = proc(st);
    return t && t.pgid !== undefined && t.vpid !== undefined ? t.pgid === t.vpid : undefined;
  }),
  // libsinsp names a thread it knows nothing about "<NA>" (hence the rules' proc_name_exists macro)
  'proc.name': f('string', (_ev, st) => {
    const t = thr(st);
    return t ? t.comm || '<NA>' : undefined;
  }),
  'proc.exe': f('string', (_ev, st) => proc(st)?.exe),
  'proc.exepath': f('string', (_ev, st) => proc(st)?.exepath),
  'proc.args': f('string', (_ev, st) => proc(st)?.args.join(' ')),
  'proc.cmdline': f('string', (_ev, st) => {
    const t = proc(st);
    return t ? cmdline(t) : undefined;
  }),
  'proc.cwd': f('string', (_ev, st) => proc(st)?.cwd),
  'proc.tty': f('uint', (_ev, st) => proc(st)?.tty),
  'proc.env': f(
    'string',
    (_ev, st, arg) => {
      const t = proc(st);
      if (!t) return undefined;
      if (arg === undefined) return t.env.join(' ');
      const e = t.env.find((x) => x.startsWith(arg + '='));
      return e === undefined ? '' : e.slice(arg.length + 1);
    },
    { arg: 'optional' },
  ),
  'proc.pname': f('string', (_ev, st) => {
    const t = proc(st);
    const p = t ? st.parent(t) : undefined;
    return p?.comm;
  }),
  'proc.pcmdline': f('string', (_ev, st) => {
    const t = proc(st);
    const p = t ? st.parent(t) : undefined;
    return p ? cmdline(p) : undefined;
  }),
  'proc.pexe': f('string', (_ev, st) => {
    const t = proc(st);
    return t ? st.parent(t)?.exe : undefined;
  }),
  'proc.pexepath': f('string', (_ev, st) => {
    const t = proc(st);
    return t ? st.parent(t)?.exepath : undefined;
  }),
  'proc.sname': f('string', (_ev, st) => {
    const t = proc(st);
    if (!t || t.sid === undefined) return undefined;
    let cur: ThreadInfo | undefined = t;
    let last = t;
    for (let i = 0; cur && i < 64; i++) {
      if (cur.sid !== t.sid) break;
      last = cur;
      cur = st.parent(cur);
    }
    return last.comm;
  }),
  'proc.aname': f(
    'string',
    ancestorField((t) => t.comm),
    { arg: 'optional', argIndex: true, anyWithoutArg: true },
  ),
  'proc.apid': f(
    'int',
    ancestorField((t) => t.pid),
    { arg: 'optional', argIndex: true, anyWithoutArg: true },
  ),
  'proc.aexe': f(
    'string',
    ancestorField((t) => t.exe),
    { arg: 'optional', argIndex: true, anyWithoutArg: true },
  ),
  'proc.aexepath': f(
    'string',
    ancestorField((t) => t.exepath),
    {
      arg: 'optional',
      argIndex: true,
      anyWithoutArg: true,
    },
  ),
  'proc.is_exe_upper_layer': f('bool', (_ev, st) => proc(st)?.exeUpperLayer),
  'proc.is_exe_from_memfd': f('bool', (_ev, st) => proc(st)?.exeFromMemfd),
  'proc.is_exe_writable': f('bool', (_ev, st) => proc(st)?.exeWritable),
  'proc.exe_ino': f('int', () => undefined),
  'proc.exe_ino.ctime': f('abstime', () => undefined),
  'proc.exe_ino.mtime': f('abstime', () => undefined),
  'proc.exe_ino.ctime_duration_proc_start': f('reltime', () => undefined),
  'proc.duration': f('reltime', (ev, st) => {
    const t = proc(st);
    return t && t.cloneTs ? ev.ts - t.cloneTs : undefined;
  }),
  'proc.pid.ts': f('reltime', (_ev, st) => {
    const t = proc(st);
    return t && t.cloneTs ? t.cloneTs : undefined;
  }),
  'thread.cpu': f('uint', () => undefined),
  'thread.cap_effective': f('string', (_ev, st) => capsText(thr(st)?.caps?.effective)),
  'thread.cap_permitted': f('string', (_ev, st) => capsText(thr(st)?.caps?.permitted)),
  'thread.cap_inheritable': f('string', (_ev, st) => capsText(thr(st)?.caps?.inheritable)),
  // user / group
  'user.uid': f('uint', (_ev, st) => thr(st)?.uid),
  'user.name': f('string', (_ev, st) => {
    const t = thr(st);
    return t ? userName(t.uid) : undefined;
  }),
  'user.loginuid': f('int', (_ev, st) => {
    const t = thr(st);
    return t ? (t.loginuid === U32_NONE ? -1 : t.loginuid) : undefined;
  }),
  'user.loginname': f('string', (_ev, st) => {
    const t = thr(st);
    return t ? userName(t.loginuid) : undefined;
  }),
  'group.gid': f('uint', (_ev, st) => thr(st)?.gid),
  'group.name': f('string', (_ev, st) => {
    const t = thr(st);
    return t ? (t.gid === 0 ? 'root' : String(t.gid)) : undefined;
  }),
  // fd.*
  'fd.num': f('int', (_ev, st) => fdOf(st)?.fd ?? st.currentFdNum),
  // an open has no fd yet on enter (or when it fails) but is about a file, as libsinsp reports it
  'fd.type': f('string', (ev, st) => fdOf(st)?.type ?? (OPEN_TYPES.has(ev.type) ? 'file' : undefined)),
  'fd.typechar': f('string', (ev, st) => {
    const fd = fdOf(st);
    return fd ? FD_TYPECHAR[fd.type] : OPEN_TYPES.has(ev.type) ? 'f' : undefined;
  }),
  'fd.name': f('string', (ev, st) => fdName(ev, st)),
  'fd.nameraw': f('string', (ev, st) => fdName(ev, st)),
  'fd.name_changed': f('bool', () => false),
  'fd.directory': f('string', (ev, st) => {
    const fd = fdOf(st);
    if (!fd || (fd.type !== 'file' && fd.type !== 'directory')) return undefined;
    return fd.type === 'directory' ? fd.name : dirname(fd.name);
  }),
  'fd.filename': f('string', (_ev, st) => {
    const fd = fdOf(st);
    if (!fd || fd.type !== 'file') return undefined;
    return basename(fd.name);
  }),
  'fd.sockfamily': f('string', (_ev, st) => {
    const fd = fdOf(st);
    return fd ? (isSock(fd) ? 'ip' : fd.type === 'unix' ? 'unix' : undefined) : undefined;
  }),
  // libsinsp learns the protocol when the socket gets addresses (connect, accept, a capture's fd list)
  'fd.l4proto': f('string', (_ev, st) => {
    const fd = fdOf(st);
    if (!fd || !isSock(fd)) return undefined;
    return fd.cip === undefined && fd.sip === undefined ? 'unknown' : (fd.l4proto ?? 'unknown');
  }),
  'fd.connected': f('bool', (_ev, st) => {
    const fd = fdOf(st);
    return fd ? fd.cip !== undefined : undefined;
  }),
  'fd.dev': f('uint', (_ev, st) => fdOf(st)?.dev),
  'fd.ino': f('int', (_ev, st) => {
    const i = fdOf(st)?.ino;
    return i;
  }),
  'fd.ip': f('ipaddr', (_ev, st) => {
    const fd = fdOf(st);
    if (!fd || !isSock(fd)) return undefined;
    return [fd.cip, fd.sip].filter((x): x is string => x !== undefined);
  }),
  'fd.cip': f('ipaddr', (_ev, st) => fdIp(fdOf(st), 'c')),
  'fd.sip': f('ipaddr', (_ev, st) => fdIp(fdOf(st), 's')),
  'fd.lip': f('ipaddr', (_ev, st) => fdIp(fdOf(st), 'l')),
  'fd.rip': f('ipaddr', (_ev, st) => fdIp(fdOf(st), 'r')),
  'fd.net': f('ipnet', (_ev, st) => {
    const fd = fdOf(st);
    if (!fd || !isSock(fd)) return undefined;
    return [fd.cip, fd.sip].filter((x): x is string => x !== undefined);
  }),
  'fd.cnet': f('ipnet', (_ev, st) => fdIp(fdOf(st), 'c')),
  'fd.snet': f('ipnet', (_ev, st) => fdIp(fdOf(st), 's')),
  'fd.lnet': f('ipnet', (_ev, st) => fdIp(fdOf(st), 'l')),
  'fd.rnet': f('ipnet', (_ev, st) => fdIp(fdOf(st), 'r')),
  'fd.port': f('port', (_ev, st) => {
    const fd = fdOf(st);
    if (!fd || !isSock(fd)) return undefined;
    return [fd.cport, fd.sport].filter((x): x is number => x !== undefined).map(String);
  }),
  'fd.cport': f('port', (_ev, st) => fdPort(fdOf(st), 'c')),
  'fd.sport': f('port', (_ev, st) => fdPort(fdOf(st), 's')),
  'fd.lport': f('port', (_ev, st) => fdPort(fdOf(st), 'l')),
  'fd.rport': f('port', (_ev, st) => fdPort(fdOf(st), 'r')),
  'fd.cip.name': f('string', () => undefined),
  'fd.sip.name': f('string', () => undefined),
  'fd.lip.name': f('string', () => undefined),
  'fd.rip.name': f('string', () => undefined),
  // container.* / k8s.*
  'container.id': f('string', (_ev, st) => {
    const t = thr(st);
    return t ? t.containerId : undefined;
  }),
  'container.name': f('string', (_ev, st) => {
    const t = thr(st);
    return t ? (t.container ? (t.container.name ?? '') : 'host') : undefined;
  }),
  'container.image': f('string', (_ev, st) => thr(st)?.container?.image),
  'container.image.repository': f('string', (_ev, st) => thr(st)?.container?.imageRepository),
  'container.image.tag': f('string', (_ev, st) => thr(st)?.container?.imageTag),
  'container.image.digest': f('string', (_ev, st) => thr(st)?.container?.imageDigest),
  'container.privileged': f('bool', (_ev, st) => thr(st)?.container?.privileged),
  'container.info': f('string', () => undefined),
  'container.mounts': f('string', () => undefined),
  'container.mount.dest': f('string', () => undefined, { arg: 'optional' }),
  'container.start_ts': f('abstime', () => undefined),
  'k8s.ns.name': f('string', (_ev, st) => thr(st)?.container?.k8s?.namespace),
  'k8s.pod.name': f('string', (_ev, st) => thr(st)?.container?.k8s?.podName),
  'k8s.pod.uid': f('string', (_ev, st) => thr(st)?.container?.k8s?.podUid),
  'k8s.pod.label': f('string', (_ev, st, arg) => (arg ? thr(st)?.container?.k8s?.labels?.[arg] : undefined), {
    arg: 'required',
  }),
};

function fdName(ev: SyscallEvent, st: StateTracker): string | undefined {
  const fd = fdOf(st);
  if (fd) return fd.name;
  // a failed open still names its path (libsinsp sets fd.name from the open's arguments)
  if (ev.dir === '<' && /^(open|openat|openat2|creat)$/.test(ev.type) && typeof ev.params.name === 'string') {
    const t = thr(st);
    const dirfd = typeof ev.params.dirfd === 'number' ? ev.params.dirfd : -100;
    return t ? st.resolvePath(t, ev.params.name, dirfd) : ev.params.name;
  }
  return undefined;
}

export function isSockTuple(v: unknown): v is SockTuple | SockAddr {
  return typeof v === 'object' && v !== null && 'family' in v;
}

/**
 * A field by name, as libsinsp's filterchecks parse it: exact names, and the dotted-argument
 * forms `evt.arg.NAME` / `evt.rawarg.NAME` (same as `evt.arg[NAME]`).
 */
export function lookupField(
  name: string,
  fields: Record<string, FieldDef> = FIELDS,
): { def: FieldDef; arg: string | undefined } | undefined {
  const d = fields[name];
  if (d) return { def: d, arg: undefined };
  const m = /^(evt\.(?:raw)?arg)\.([a-zA-Z0-9_]+)$/.exec(name);
  if (m && fields[m[1]!]) return { def: fields[m[1]!]!, arg: m[2]! };
  return undefined;
}
