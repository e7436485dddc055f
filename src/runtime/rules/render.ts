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

const PTRACE_REQ: Record<number, string> = {
  0: 'PTRACE_TRACEME',
  1: 'PTRACE_PEEKTEXT',
  2: 'PTRACE_PEEKDATA',
  3: 'PTRACE_PEEKUSR',
  4: 'PTRACE_POKETEXT',
  5: 'PTRACE_POKEDATA',
  6: 'PTRACE_POKEUSR',
  7: 'PTRACE_CONT',
  8: 'PTRACE_KILL',
  9: 'PTRACE_SINGLESTEP',
  10: 'PTRACE_ATTACH',
  11: 'PTRACE_DETACH',
  12: 'PTRACE_SYSCALL',
  13: 'PTRACE_SETOPTIONS',
  14: 'PTRACE_GETEVENTMSG',
  15: 'PTRACE_GETSIGINFO',
  16: 'PTRACE_SETSIGINFO',
  17: 'PTRACE_GETREGSET',
  18: 'PTRACE_SETREGSET',
  19: 'PTRACE_SEIZE',
  20: 'PTRACE_INTERRUPT',
  21: 'PTRACE_LISTEN',
  22: 'PTRACE_PEEKSIGINFO',
  23: 'PTRACE_GETREGS',
  24: 'PTRACE_SETREGS',
};

const AF: Record<number, string> = { 0: 'AF_UNSPEC', 1: 'AF_UNIX', 2: 'AF_INET', 10: 'AF_INET6', 16: 'AF_NETLINK', 17: 'AF_PACKET' };

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
    return t.family === 'unix' ? (t.path ?? '') : `${t.sip ?? ''}:${t.sport ?? 0}->${t.dip ?? ''}:${t.dport ?? 0}`;
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
  if (name === 'flags' && /^(open|openat|openat2|creat|open_by_handle_at)$/.test(ev.type)) return renderOpenFlags(n);
  if (name === 'request' && ev.type === 'ptrace') return PTRACE_REQ[n] ?? String(n);
  if (name === 'domain') return AF[n] ?? String(n);
  if (name === 'res' && n < 0) return `${n}`;
  if (name === 'mode') return '0' + n.toString(8);
  return String(v);
}
