/** Parameter rendering for evt.arg.X / evt.args, as libsinsp formats PT_FLAGS, errors and addresses. */
import type { ParamValue, SockAddr, SockTuple, SyscallEvent } from '../event.js';

const OPEN_FLAGS: [number, string][] = [
  [1 << 2, 'O_CREAT'],
  [1 << 3, 'O_APPEND'],
  [1 << 4, 'O_DSYNC'],
  [1 << 5, 'O_EXCL'],
  [1 << 6, 'O_NONBLOCK'],
  [1 << 7, 'O_SYNC'],
  [1 << 8, 'O_TRUNC'],
  [1 << 9, 'O_DIRECT'],
  [1 << 10, 'O_DIRECTORY'],
  [1 << 11, 'O_LARGEFILE'],
  [1 << 12, 'O_CLOEXEC'],
  [1 << 13, 'O_TMPFILE'],
  [1 << 14, 'O_F_CREATED'],
  [1 << 15, 'O_F_EXEC'],
];

/** libscap's portable ptrace requests (PPM_PTRACE_*), not the kernel's numbers. */
const PTRACE_REQ: Record<number, string> = {
  0: 'PTRACE_UNKNOWN',
  1: 'PTRACE_TRACEME',
  2: 'PTRACE_PEEKTEXT',
  3: 'PTRACE_PEEKDATA',
  4: 'PTRACE_PEEKUSR',
  5: 'PTRACE_POKETEXT',
  6: 'PTRACE_POKEDATA',
  7: 'PTRACE_POKEUSR',
  8: 'PTRACE_CONT',
  9: 'PTRACE_KILL',
  10: 'PTRACE_SINGLESTEP',
  11: 'PTRACE_ATTACH',
  12: 'PTRACE_DETACH',
  13: 'PTRACE_SYSCALL',
  14: 'PTRACE_SETOPTIONS',
  15: 'PTRACE_GETEVENTMSG',
  16: 'PTRACE_GETSIGINFO',
  17: 'PTRACE_SETSIGINFO',
  18: 'PTRACE_GETREGSET',
  19: 'PTRACE_SETREGSET',
  20: 'PTRACE_SEIZE',
  21: 'PTRACE_INTERRUPT',
  22: 'PTRACE_LISTEN',
  23: 'PTRACE_PEEKSIGINFO',
  24: 'PTRACE_GETSIGMASK',
  25: 'PTRACE_SETSIGMASK',
  26: 'PTRACE_GETREGS',
  27: 'PTRACE_SETREGS',
  28: 'PTRACE_GETFPREGS',
  29: 'PTRACE_SETFPREGS',
};

const AF: Record<number, string> = {
  0: 'AF_UNSPEC',
  1: 'AF_UNIX',
  2: 'AF_INET',
  10: 'AF_INET6',
  16: 'AF_NETLINK',
  17: 'AF_PACKET',
};

const EXE_FLAGS: [number, string][] = [
  [1 << 0, 'EXE_WRITABLE'],
  [1 << 1, 'EXE_UPPER_LAYER'],
  [1 << 2, 'EXE_FROM_MEMFD'],
  [1 << 3, 'EXE_LOWER_LAYER'],
];
export function renderExeFlags(fl: number): string {
  const parts = EXE_FLAGS.filter(([b]) => fl & b).map(([, n]) => n);
  return parts.length ? parts.join('|') : '0';
}

export function renderOpenFlags(fl: number): string {
  const acc = fl & 3;
  const parts: string[] = [];
  if (acc === 1) parts.push('O_RDONLY');
  else if (acc === 2) parts.push('O_WRONLY');
  else if (acc === 3) parts.push('O_RDWR');
  for (const [bit, name] of OPEN_FLAGS) if (fl & bit) parts.push(name);
  return parts.length ? parts.join('|') : 'O_NONE';
}

function renderAddr(a: SockAddr | SockTuple): string {
  if ('sip' in a || 'dip' in a) {
    const t = a as SockTuple;
    return t.family === 'unix'
      ? (t.path ?? '')
      : `${t.sip ?? ''}:${t.sport ?? 0}->${t.dip ?? ''}:${t.dport ?? 0}`;
  }
  const s = a as SockAddr;
  return s.family === 'unix' ? (s.path ?? '') : `${s.ip ?? ''}:${s.port ?? 0}`;
}

export function renderParam(ev: SyscallEvent, name: string, v: ParamValue | unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.join(' ');
  if (v instanceof Uint8Array) {
    let s = '';
    for (const b of v) s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    return s;
  }
  if (typeof v === 'object') return renderAddr(v as SockAddr);
  const n = Number(v);
  if (name === 'flags' && /^(open|openat|openat2|creat|open_by_handle_at)$/.test(ev.type))
    return renderOpenFlags(n);
  if (name === 'flags' && (ev.type === 'execve' || ev.type === 'execveat')) return renderExeFlags(n);
  if (name === 'request' && ev.type === 'ptrace') return PTRACE_REQ[n] ?? String(n);
  if (name === 'domain') return AF[n] ?? String(n);
  if (name === 'res' && n < 0) return `${n}`;
  if (name === 'mode') return '0' + n.toString(8);
  return String(v);
}
