/**
 * Sensor records → the runtime event model (../event.ts), shaped as libscap has the same events
 * so the state tracker and the rules engine treat live and replayed streams alike:
 *   exec    → execve '<' (res 0, exe = argv[0], args, pid, ptid, comm, cwd (kernel), uid/gid, loginuid, trusted_exepath,
 *             cgroups (/proc; the kernel's cgroup v2 leaf when the process is already gone),
 *             cap_inheritable/cap_permitted/cap_effective)
 *   fork    → clone '<' in the child (res 0, pid, ptid, flags CLONE_THREAD|CLONE_FILES for threads, parent's exe/args/comm)
 *   exit    → procexit '>' (status, ret, sig, core)
 *   openat  → open/openat/openat2 '<' (fd, dirfd, name, flags as PPM_O_*, mode[, resolve])
 *   ptrace  → ptrace '>' (request as PPM_PTRACE_*, pid) and ptrace '<' (res, addr, data)
 *   link    → symlink/symlinkat/link/linkat '<' (res, target/oldpath, linkpath/newpath, dirfds, flags)
 *   module  → init_module/finit_module '<' (res, fd, uargs, flags, length)
 *   fileop  → unlink/unlinkat/rename/renameat/renameat2/mkdir/mkdirat/rmdir/chmod/fchmodat/fchmod/memfd_create '<'
 *   setid   → setuid/setgid/setresuid/setresgid/setreuid/setregid '>' (ids) and '<' (res; the capability sets after it as the `caps` hint)
 *   capset  → capset '>' and '<' (res, cap_inheritable, cap_permitted, cap_effective: the sets after the call)
 *   inbound → accept/accept4 '<' (fd, tuple peer→local), bind '>' (fd) '<' (res, addr), listen '>' (fd, backlog) '<' (res)
 *   connect → connect '<' (res, fd, tuple local→remote); addr as given
 *   dup     → dup/dup2/dup3 '<' (res, oldfd, newfd, flags)
 *   close   → close '>' (fd) and close '<' (res)
 *   socket  → socket '>' (domain, type, proto) and socket '<' (fd)
 */
import { readFileSync } from 'node:fs';
import type { SockAddr, SockTuple, SyscallEvent, ThreadCaps } from '../event.js';
import {
  PPM_CL_CLONE_FILES,
  PPM_CL_CLONE_THREAD,
  PPM_O_APPEND,
  PPM_O_CLOEXEC,
  PPM_O_CREAT,
  PPM_O_DIRECT,
  PPM_O_DIRECTORY,
  PPM_O_DSYNC,
  PPM_O_EXCL,
  PPM_O_LARGEFILE,
  PPM_O_NONBLOCK,
  PPM_O_RDONLY,
  PPM_O_RDWR,
  PPM_O_SYNC,
  PPM_O_TMPFILE,
  PPM_O_TRUNC,
  PPM_O_WRONLY,
} from '../flags.js';
import type { ThreadInfo } from '../state/index.js';
import type { FileopSyscall, SensorRecord } from './record.js';

/** A thread's capability sets as libscap's execve and capset exit events name them. */
function capParams(c: ThreadCaps): SyscallEvent['params'] {
  return { cap_inheritable: c.inheritable, cap_permitted: c.permitted, cap_effective: c.effective };
}

/** BWK_EXE_KILLED (sensor.h): the exec backstop killed the process; not a PPM_EXE_* flag */
const EXE_KILLED = 1 << 8;

/** Linux O_* open flags (x86_64/arm64 generic values) → libscap's PPM_O_* as scap files carry them. */
export function openFlagsToPpm(f: number): number {
  let r = 0;
  const acc = f & 3;
  r |= acc === 0 ? PPM_O_RDONLY : acc === 1 ? PPM_O_WRONLY : acc === 2 ? PPM_O_RDWR : 0;
  if (f & 0o100) r |= PPM_O_CREAT;
  if (f & 0o200) r |= PPM_O_EXCL;
  if (f & 0o1000) r |= PPM_O_TRUNC;
  if (f & 0o2000) r |= PPM_O_APPEND;
  if (f & 0o4000) r |= PPM_O_NONBLOCK;
  if (f & 0o10000) r |= PPM_O_DSYNC;
  if ((f & 0o4010000) === 0o4010000) r |= PPM_O_SYNC;
  if (f & 0o40000) r |= PPM_O_DIRECT;
  if (f & 0o100000) r |= PPM_O_LARGEFILE;
  if ((f & 0o20200000) === 0o20200000) r |= PPM_O_TMPFILE;
  else if (f & 0o200000) r |= PPM_O_DIRECTORY;
  if (f & 0o2000000) r |= PPM_O_CLOEXEC;
  return r;
}

/** The kernel's PTRACE_* request numbers → libscap's portable PPM_PTRACE_* (what rules and scap files see). */
const PTRACE_KERNEL_TO_PPM: Record<number, number> = {
  0: 1, // TRACEME
  1: 2, // PEEKTEXT
  2: 3, // PEEKDATA
  3: 4, // PEEKUSR
  4: 5, // POKETEXT
  5: 6, // POKEDATA
  6: 7, // POKEUSR
  7: 8, // CONT
  8: 9, // KILL
  9: 10, // SINGLESTEP
  12: 26, // GETREGS
  13: 27, // SETREGS
  14: 28, // GETFPREGS
  15: 29, // SETFPREGS
  16: 11, // ATTACH
  17: 12, // DETACH
  24: 13, // SYSCALL
  0x4200: 14, // SETOPTIONS
  0x4201: 15, // GETEVENTMSG
  0x4202: 16, // GETSIGINFO
  0x4203: 17, // SETSIGINFO
  0x4204: 18, // GETREGSET
  0x4205: 19, // SETREGSET
  0x4206: 20, // SEIZE
  0x4207: 21, // INTERRUPT
  0x4208: 22, // LISTEN
  0x4209: 23, // PEEKSIGINFO
  0x420a: 24, // GETSIGMASK
  0x420b: 25, // SETSIGMASK
};

/** Kernel ptrace request → PPM_PTRACE_* (0 = PPM_PTRACE_UNKNOWN). */
export function ptraceRequestToPpm(req: number): number {
  return PTRACE_KERNEL_TO_PPM[req] ?? 0;
}

export interface DecodeContext {
  /** realtime = boottime + this (from the META record) */
  bootToRealtime: bigint;
  /** next evt.num */
  num: number;
  /** the parent thread, for the child's clone event (exe/args/comm as libscap's clone carries) */
  thread?: (tid: number) => ThreadInfo | undefined;
  /** read cgroups of exec'ing processes from /proc (default true) */
  procfs?: boolean;
}

function readProc(pid: number): { cgroups?: string[] } {
  const out: { cgroups?: string[] } = {};
  try {
    // "0::/path" → "/path" as libscap's cgroups param carries "controller=path"; v2 has no controller name
    out.cgroups = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [, ctl, path] = /^\d+:([^:]*):(.*)$/.exec(l) ?? [];
        return `${ctl || 'cgroup2'}=${path ?? ''}`;
      });
  } catch {
    /* gone */
  }
  return out;
}

/** Converts one record into events (none for meta/stats/unknown records). */
export function recordToEvents(r: SensorRecord, ctx: DecodeContext): SyscallEvent[] {
  if (r.kind === 'meta' || r.kind === 'stats' || r.kind === 'syscalls' || r.kind === 'unknown') return [];
  const h = r.h;
  const base = (type: string, dir: '<' | '>', tid: number, params: SyscallEvent['params']): SyscallEvent => ({
    num: ctx.num++,
    ts: h.ts + ctx.bootToRealtime,
    tid,
    cpu: h.cpu,
    type,
    dir,
    params,
    cgroupId: h.cgroupId,
  });
  switch (r.kind) {
    case 'exec': {
      // cwd from the kernel (fs->pwd walked to the root); cgroups from /proc while the process lives
      const proc = ctx.procfs === false ? {} : readProc(h.pid);
      const cwd = r.cwd.endsWith('/') ? r.cwd : r.cwd + '/';
      let exepath = r.filename;
      if (!exepath.startsWith('/') && cwd) exepath = cwd + exepath.replace(/^\.\//, '');
      const params: SyscallEvent['params'] = {
        res: 0,
        exe: r.argv[0] ?? r.filename,
        args: r.argv.slice(1),
        tid: h.tid,
        pid: h.pid,
        ptid: h.ppid,
        cwd,
        comm: h.comm,
        uid: h.uid,
        gid: h.gid,
        loginuid: r.loginuid,
        flags: r.exeFlags & ~EXE_KILLED,
        trusted_exepath: exepath,
        ...capParams(r.caps),
      };
      // the kernel's cgroup v2 leaf at the exec ("<id>", "docker-<id>.scope", ...) is the truth:
      // /proc gives the full paths, but only while the process lives, and after the exec (runc
      // moves its init into the container's cgroup after init's own execs)
      const leaf = r.cgroupLeaf;
      const v2 = proc.cgroups?.find((c) => c.startsWith('cgroup2='));
      if (proc.cgroups && (v2 === undefined || v2.slice(v2.lastIndexOf('/') + 1) === leaf))
        params.cgroups = proc.cgroups;
      else if (proc.cgroups || leaf) params.cgroups = [`cgroup2=/${leaf}`];
      const ev = base('execve', '<', h.tid, params);
      if (r.exeFlags & EXE_KILLED) ev.killed = true;
      return [ev];
    }
    case 'fork': {
      const parent = ctx.thread?.(h.tid) ?? ctx.thread?.(h.pid);
      const params: SyscallEvent['params'] = {
        res: 0,
        exe: parent?.exe ?? h.comm,
        args: parent?.args ?? [],
        tid: r.childTid,
        pid: r.childPid,
        ptid: r.isThread ? h.ppid : h.pid,
        comm: h.comm,
        uid: h.uid,
        gid: h.gid,
        flags: r.isThread ? PPM_CL_CLONE_THREAD | PPM_CL_CLONE_FILES : 0,
      };
      if (parent?.cwd) params.cwd = parent.cwd;
      if (parent?.cgroups) params.cgroups = parent.cgroups;
      return [base('clone', '<', r.childTid, params)];
    }
    case 'exit': {
      const st = r.exitCode;
      return [
        base('procexit', '>', h.tid, {
          status: st,
          ret: (st >> 8) & 0xff,
          sig: st & 0x7f,
          core: (st >> 7) & 1,
        }),
      ];
    }
    case 'openat': {
      const params: SyscallEvent['params'] = {
        fd: h.res,
        name: r.path,
        flags: openFlagsToPpm(r.flags),
        mode: r.mode,
      };
      if (r.syscall !== 'open') params.dirfd = r.dirfd;
      if (r.syscall === 'openat2') params.resolve = r.resolve;
      return [base(r.syscall, '<', h.tid, params)];
    }
    case 'ptrace': {
      // libscap: ptrace enter (request as PPM_PTRACE_*, pid), exit (res, addr, data)
      const enter = base('ptrace', '>', h.tid, { request: ptraceRequestToPpm(r.request), pid: r.pid });
      return [enter, base('ptrace', '<', h.tid, { res: h.res, addr: r.addr, data: r.data })];
    }
    case 'link': {
      const params: SyscallEvent['params'] = { res: h.res };
      if (r.syscall === 'symlink' || r.syscall === 'symlinkat') {
        params.target = r.oldPath;
        if (r.syscall === 'symlinkat') params.linkdirfd = r.newdirfd;
        params.linkpath = r.newPath;
      } else {
        if (r.syscall === 'linkat') params.olddir = r.olddirfd;
        params.oldpath = r.oldPath;
        if (r.syscall === 'linkat') params.newdir = r.newdirfd;
        params.newpath = r.newPath;
        if (r.syscall === 'linkat') params.flags = r.flags;
      }
      return [base(r.syscall, '<', h.tid, params)];
    }
    case 'fileop': {
      const res = h.res;
      const dir = r.dirfd;
      const P: Record<FileopSyscall, SyscallEvent['params']> = {
        unlink: { res, path: r.path },
        unlinkat: { res, dirfd: dir, name: r.path, flags: r.flags },
        rename: { res, oldpath: r.path, newpath: r.newPath },
        renameat: { res, olddirfd: dir, oldpath: r.path, newdirfd: r.newdirfd, newpath: r.newPath },
        renameat2: {
          res,
          olddirfd: dir,
          oldpath: r.path,
          newdirfd: r.newdirfd,
          newpath: r.newPath,
          flags: r.flags,
        },
        mkdir: { res, path: r.path, mode: r.flags },
        mkdirat: { res, dirfd: dir, path: r.path, mode: r.flags },
        rmdir: { res, path: r.path },
        chmod: { res, filename: r.path, mode: r.flags },
        fchmodat: { res, dirfd: dir, filename: r.path, mode: r.flags },
        fchmod: { res, fd: dir, mode: r.flags },
        memfd_create: { fd: res, name: r.path, flags: r.flags },
      };
      return [base(r.syscall, '<', h.tid, P[r.syscall])];
    }
    case 'setid': {
      const [a, b2, c] = r.ids;
      const enter: SyscallEvent['params'] =
        r.syscall === 'setuid'
          ? { uid: a }
          : r.syscall === 'setgid'
            ? { gid: a }
            : r.syscall === 'setresuid'
              ? { ruid: a, euid: b2, suid: c }
              : r.syscall === 'setresgid'
                ? { rgid: a, egid: b2, sgid: c }
                : r.syscall === 'setreuid'
                  ? { ruid: a, euid: b2 }
                  : { rgid: a, egid: b2 };
      const exit = base(r.syscall, '<', h.tid, { res: h.res });
      exit.caps = r.caps;
      return [base(r.syscall, '>', h.tid, enter), exit];
    }
    case 'capset':
      return [
        base('capset', '>', h.tid, {}),
        base('capset', '<', h.tid, { res: h.res, ...capParams(r.caps) }),
      ];
    case 'inbound': {
      const fam = (n: number): SockTuple['family'] =>
        n === 2 ? 'inet' : n === 10 ? 'inet6' : n === 1 ? 'unix' : 'other';
      if (r.syscall === 'accept' || r.syscall === 'accept4') {
        // libscap's accept tuple: the client (peer) → the server (this socket's local end)
        const params: SyscallEvent['params'] = {
          fd: h.res,
          tuple: { family: fam(r.lfamily), sip: r.raddr, sport: r.rport, dip: r.laddr, dport: r.lport },
          queuepct: 0,
        };
        const out = [base(r.syscall, '<', h.tid, params)];
        if (r.syscall === 'accept4') out.unshift(base('accept4', '>', h.tid, { flags: r.arg }));
        return out;
      }
      if (r.syscall === 'bind')
        return [
          base('bind', '>', h.tid, { fd: r.fd }),
          base('bind', '<', h.tid, {
            res: h.res,
            addr: { family: fam(r.family), ip: r.raddr, port: r.rport },
          }),
        ];
      return [
        base('listen', '>', h.tid, { fd: r.fd, backlog: r.arg }),
        base('listen', '<', h.tid, { res: h.res }),
      ];
    }
    case 'module': {
      const params: SyscallEvent['params'] =
        r.syscall === 'finit_module'
          ? { res: h.res, fd: r.fd, uargs: r.uargs, flags: r.flags }
          : { res: h.res, length: r.length, uargs: r.uargs };
      return [base(r.syscall, '<', h.tid, params)];
    }
    case 'socket': {
      // libscap: socket enter (domain, type, proto), exit (fd); AF_* values are PPM_AF_* for inet/inet6/unix
      const enter = base('socket', '>', h.tid, { domain: r.domain, type: r.type, proto: r.protocol });
      return [enter, base('socket', '<', h.tid, { fd: h.res })];
    }
    case 'close': {
      // libscap: close enter (fd), close exit (res); the state removes the fd after the exit
      const enter = base('close', '>', h.tid, { fd: r.fd });
      return [enter, base('close', '<', h.tid, { res: h.res })];
    }
    case 'dup': {
      // libscap: dup exit (res, oldfd), dup2 exit (res, oldfd, newfd), dup3 exit (res, oldfd, newfd, flags)
      const params: SyscallEvent['params'] = { res: h.res, oldfd: r.oldfd };
      if (r.syscall !== 'dup') params.newfd = r.newfd;
      if (r.syscall === 'dup3') params.flags = r.flags & 0o2000000 ? PPM_O_CLOEXEC : 0;
      return [base(r.syscall, '<', h.tid, params)];
    }
    case 'connect': {
      const fam: SockTuple['family'] =
        r.family === 2 ? 'inet' : r.family === 10 ? 'inet6' : r.family === 1 ? 'unix' : 'other';
      const tuple: SockTuple =
        fam === 'unix'
          ? { family: 'unix', path: r.path }
          : { family: fam, sip: r.laddr, sport: r.lport, dip: r.raddr, dport: r.rport };
      const addr: SockAddr =
        fam === 'unix' ? { family: fam, path: r.path } : { family: fam, ip: r.raddr, port: r.rport };
      return [base('connect', '<', h.tid, { res: h.res, fd: r.fd, tuple, addr })];
    }
  }
}
