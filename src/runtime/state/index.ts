/**
 * Process/thread and fd state built from the event stream, as libsinsp keeps it: the thread
 * table (parent chain for proc.aname[N], proc.pname, cmdline, exepath, cwd, uid, loginuid, tty,
 * exe upper layer / memfd flags) and per-process fd tables (fd.name, typechar, sip/sport,
 * cip/cport, l4proto, directory/filename), plus container attribution through an injected
 * resolver. Memory is bounded by live threads and fds (and `maxThreads`), never by stream length.
 *
 * Use: for each event, `state.process(ev)` then evaluate rules with `state` as the context.
 * Removals (close, procexit) are deferred to the next process() call, as libsinsp does.
 */
import type { SockAddr, SockTuple, SyscallEvent, ThreadCaps } from '../event.js';
import { FD_RETURNING, FD_USING, returnValue } from '../event.js';
import {
  PPM_CL_CLONE_FILES,
  PPM_CL_CLONE_THREAD,
  PPM_EXE_FROM_MEMFD,
  PPM_EXE_UPPER_LAYER,
  PPM_EXE_WRITABLE,
  PPM_O_DIRECTORY,
} from '../flags.js';

export type FdType =
  | 'file'
  | 'directory'
  | 'ipv4'
  | 'ipv6'
  | 'unix'
  | 'pipe'
  | 'event'
  | 'signalfd'
  | 'eventpoll'
  | 'inotify'
  | 'timerfd'
  | 'netlink'
  | 'bpf'
  | 'userfaultfd'
  | 'io_uring'
  | 'memfd'
  | 'pidfd'
  | 'unknown';

/** fd.typechar for each FdType, as libsinsp prints it. */
export const FD_TYPECHAR: Record<FdType, string> = {
  file: 'f',
  directory: 'd',
  ipv4: '4',
  ipv6: '6',
  unix: 'u',
  pipe: 'p',
  event: 'e',
  signalfd: 's',
  eventpoll: 'l',
  inotify: 'i',
  timerfd: 't',
  netlink: 'n',
  bpf: 'b',
  userfaultfd: 'u',
  io_uring: 'r',
  memfd: 'm',
  pidfd: 'P',
  unknown: 'o',
};

export interface FdInfo {
  fd: number;
  type: FdType;
  /** fd.name: path for files, "sip:sport->dip:dport" for sockets, as libsinsp formats it */
  name: string;
  /** open flags (PPM_O_*) for files */
  openFlags: number;
  /** client/server ends for connected sockets (client = the side that connected) */
  cip?: string;
  cport?: number;
  sip?: string;
  sport?: number;
  l4proto?: 'tcp' | 'udp' | 'icmp' | 'raw';
  /** true when this process is the server side (accepted / listening) */
  isServer?: boolean;
  ino?: number | bigint;
  dev?: number;
}

/** Container metadata as a resolver knows it. */
export interface ContainerInfo {
  id: string;
  name?: string;
  image?: string;
  imageRepository?: string;
  imageTag?: string;
  imageDigest?: string;
  type?: string;
  privileged?: boolean;
  k8s?: { podName?: string; namespace?: string; podUid?: string; labels?: Record<string, string> };
}

/** Attribution of threads to containers; injected so the live agent can use CRI/runc state. */
export interface ContainerResolver {
  /** Returns the container for a thread, or undefined for the host. Called at clone/execve. */
  resolve(hint: {
    pid: number;
    cgroups?: string[];
    cgroupId?: bigint;
    containerId?: string;
  }): ContainerInfo | undefined;
}

/** Per-process data shared by the threads of a process (CLONE_FILES / CLONE_THREAD). */
export interface ProcessShared {
  fds: Map<number, FdInfo>;
}

export interface ThreadInfo {
  tid: number;
  /** tgid */
  pid: number;
  /** parent thread id (of the main thread, for the process tree) */
  ptid: number;
  vtid?: number;
  vpid?: number;
  sid?: number;
  pgid?: number;
  /** proc.name: comm */
  comm: string;
  /** proc.exe: argv[0] as passed */
  exe: string;
  /** proc.exepath: full path of the executable */
  exepath: string;
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  loginuid: number;
  tty: number;
  exeWritable: boolean;
  exeUpperLayer: boolean;
  exeFromMemfd: boolean;
  /** clone/exec time, ns */
  cloneTs: bigint;
  /** container id, "host" for none; container metadata in `container` */
  containerId: string;
  container?: ContainerInfo;
  cgroups?: string[];
  /** capability sets (thread.cap_*); undefined while unknown */
  caps?: ThreadCaps;
  shared: ProcessShared;
  /** true while the thread is known only from an event (no clone/exec seen) */
  incomplete: boolean;
}

/** Event types the state tracker needs to see, whatever the rules ask for (for the kernel pre-filter). */
export const STATE_EVENT_TYPES: ReadonlySet<string> = new Set([
  'clone',
  'clone3',
  'fork',
  'vfork',
  'execve',
  'execveat',
  'procexit',
  'open',
  'openat',
  'openat2',
  'creat',
  'open_by_handle_at',
  'close',
  'socket',
  'socketpair',
  'connect',
  'accept',
  'accept4',
  'bind',
  'listen',
  'dup',
  'dup2',
  'dup3',
  'fcntl',
  'pipe',
  'pipe2',
  'eventfd',
  'eventfd2',
  'memfd_create',
  'chdir',
  'fchdir',
  'setuid',
  'setresuid',
  'setgid',
  'setresgid',
  'capset',
  'signalfd',
  'signalfd4',
  'inotify_init',
  'inotify_init1',
  'timerfd_create',
  'epoll_create',
  'epoll_create1',
  'userfaultfd',
  'io_uring_setup',
  'bpf',
  'pidfd_open',
  'pidfd_getfd',
]);

export interface StateOptions {
  resolver?: ContainerResolver;
  /** bound on live threads; the least recently seen are dropped beyond it (default 65536) */
  maxThreads?: number;
}

/** Default resolver: container id from cgroup paths (docker, containerd/CRI, cri-o, podman, runc). */
export const cgroupResolver: ContainerResolver = {
  resolve(hint) {
    if (hint.containerId) return hint.containerId === 'host' ? undefined : { id: hint.containerId };
    for (const cg of hint.cgroups ?? []) {
      const id = containerIdFromCgroup(cg);
      if (id) return { id };
    }
    return undefined;
  },
};

const CG_PATTERNS = [
  /(?:docker|cri-containerd|crio|libpod|containerd)-([0-9a-f]{64})\.scope/,
  /\/(?:docker|kubepods[^/]*\/[^/]*|containerd|crio)\/([0-9a-f]{64})(?:\/|$)/,
  /\/([0-9a-f]{64})(?:\/|$)/,
];

/** Container id (first 12 chars, as Falco's container.id) from one cgroup line or path. */
export function containerIdFromCgroup(cg: string): string | undefined {
  for (const re of CG_PATTERNS) {
    const m = re.exec(cg);
    if (m) return m[1]!.slice(0, 12);
  }
  return undefined;
}

function tupleName(t: SockTuple): string {
  if (t.family === 'unix') return t.path ?? '';
  const fmt = (ip: string | undefined, p: number | undefined) =>
    t.family === 'inet6' ? `${ip ?? ''}:${p ?? 0}` : `${ip ?? ''}:${p ?? 0}`;
  return `${fmt(t.sip, t.sport)}->${fmt(t.dip, t.dport)}`;
}

function isTuple(v: unknown): v is SockTuple {
  return typeof v === 'object' && v !== null && 'family' in v && !(v instanceof Uint8Array);
}

function isAddr(v: unknown): v is SockAddr {
  return isTuple(v);
}

export class StateTracker {
  readonly threads = new Map<number, ThreadInfo>();
  private readonly resolver: ContainerResolver;
  private readonly maxThreads: number;
  private pendingFdClose: { shared: ProcessShared; fd: number } | undefined;
  private pendingExit: number | undefined;
  /** enter-event parameters kept until the matching exit (per tid), e.g. connect's addr */
  private readonly enter = new Map<number, SyscallEvent>();
  /** fd parameter of each thread's last enter event */
  private readonly lastEnterFd = new Map<number, number>();
  /** last event's thread (for field extraction) */
  current: ThreadInfo | undefined;
  /** fd the last event refers to, if any */
  currentFd: FdInfo | undefined;
  /** the fd number the last event refers to (fd-using and fd-creating events), even when unknown to the table */
  currentFdNum: number | undefined;

  constructor(opts: StateOptions = {}) {
    this.resolver = opts.resolver ?? cgroupResolver;
    this.maxThreads = opts.maxThreads ?? 65536;
  }

  thread(tid: number): ThreadInfo | undefined {
    return this.threads.get(tid);
  }

  /** The main thread of a thread's process (proc.* fields describe it). */
  main(t: ThreadInfo): ThreadInfo {
    return t.tid === t.pid ? t : (this.threads.get(t.pid) ?? t);
  }

  /** The parent process of a thread, if known. */
  parent(t: ThreadInfo): ThreadInfo | undefined {
    const m = this.main(t);
    if (m.ptid <= 0 || m.ptid === m.tid) return undefined;
    const p = this.threads.get(m.ptid);
    return p ? this.main(p) : undefined;
  }

  /** Ancestor N (0 = the process itself, 1 = parent...), as proc.aname[N]. */
  ancestor(t: ThreadInfo, n: number): ThreadInfo | undefined {
    let cur: ThreadInfo | undefined = this.main(t);
    for (let i = 0; i < n && cur; i++) cur = this.parent(cur);
    return cur;
  }

  fd(t: ThreadInfo, fd: number): FdInfo | undefined {
    return t.shared.fds.get(fd);
  }

  private newThread(tid: number, pid: number, ts: bigint): ThreadInfo {
    if (this.threads.size >= this.maxThreads) {
      const oldest = this.threads.keys().next().value;
      if (oldest !== undefined) this.threads.delete(oldest);
    }
    const t: ThreadInfo = {
      tid,
      pid,
      ptid: 0,
      comm: '',
      exe: '',
      exepath: '',
      args: [],
      env: [],
      cwd: '',
      uid: 0xffffffff,
      gid: 0xffffffff,
      loginuid: 0xffffffff,
      tty: 0,
      exeWritable: false,
      exeUpperLayer: false,
      exeFromMemfd: false,
      cloneTs: ts,
      containerId: 'host',
      shared: { fds: new Map() },
      incomplete: true,
    };
    this.threads.set(tid, t);
    return t;
  }

  /** Registers an fd known from outside the stream (a capture's fd list, a /proc scan) for a thread's process. */
  addFd(tid: number, info: FdInfo): void {
    const t = this.threads.get(tid);
    if (t) t.shared.fds.set(info.fd, info);
  }

  /** Registers a thread known from outside the stream (e.g. /proc scan or scap's proclist). */
  addThread(info: Partial<ThreadInfo> & { tid: number; pid: number }): ThreadInfo {
    const t = this.newThread(info.tid, info.pid, 0n);
    if (info.cloneTs !== undefined) t.cloneTs = info.cloneTs;
    Object.assign(t, info, { incomplete: false });
    if (!info.shared) {
      const leader = info.tid !== info.pid ? this.threads.get(info.pid) : undefined;
      t.shared = leader ? leader.shared : { fds: new Map() };
    }
    if (!info.containerId) this.attribute(t, undefined);
    return t;
  }

  private attribute(t: ThreadInfo, ev: SyscallEvent | undefined): void {
    const c = this.resolver.resolve({
      pid: t.pid,
      cgroups: t.cgroups,
      cgroupId: ev?.cgroupId,
      containerId: ev?.containerId,
    });
    t.container = c;
    t.containerId = c ? c.id : 'host';
  }

  private getThread(ev: SyscallEvent): ThreadInfo {
    let t = this.threads.get(ev.tid);
    if (!t) {
      // a thread first seen in an event: its start time is unknown (proc.duration is <NA>)
      t = this.newThread(ev.tid, ev.tid, 0n);
      if (ev.containerId || ev.cgroupId !== undefined) this.attribute(t, ev);
    }
    return t;
  }

  /** Updates the state with one event; afterwards `current`/`currentFd` describe it. */
  process(ev: SyscallEvent): void {
    if (this.pendingFdClose) {
      this.pendingFdClose.shared.fds.delete(this.pendingFdClose.fd);
      this.pendingFdClose = undefined;
    }
    if (this.pendingExit !== undefined) {
      this.threads.delete(this.pendingExit);
      this.pendingExit = undefined;
    }
    const t = this.getThread(ev);
    this.current = t;
    if (ev.caps) t.caps = ev.caps;
    this.currentFd = undefined;
    this.currentFdNum = undefined;
    const p = ev.params;
    if (ev.dir === '>') {
      if (NEEDS_ENTER.has(ev.type)) this.enter.set(ev.tid, ev);
      const fd = FD_USING.has(ev.type) ? p.fd : undefined;
      // libsinsp keeps the enter event's fd for the exit (tinfo->m_lastevent_fd)
      if (typeof fd === 'number') this.lastEnterFd.set(ev.tid, fd);
      else this.lastEnterFd.delete(ev.tid);
      if (typeof fd === 'number') {
        this.currentFdNum = fd;
        this.currentFd = t.shared.fds.get(fd);
      }
      if (ev.type === 'procexit') this.pendingExit = ev.tid;
      return;
    }
    const enter = this.enter.get(ev.tid);
    if (enter) this.enter.delete(ev.tid);
    const res = returnValue(ev) ?? 0;
    switch (ev.type) {
      case 'clone':
      case 'clone3':
      case 'fork':
      case 'vfork':
        this.onClone(ev, t, res);
        break;
      case 'execve':
      case 'execveat':
        if (res === 0) this.onExec(ev, t);
        break;
      case 'procexit':
        this.pendingExit = ev.tid;
        break;
      case 'open':
      case 'openat':
      case 'openat2':
      case 'creat':
      case 'open_by_handle_at':
        if (res >= 0) {
          const name = typeof p.name === 'string' ? p.name : '';
          const flags = typeof p.flags === 'number' ? p.flags : 0;
          const dirfd = typeof p.dirfd === 'number' ? p.dirfd : -100;
          const path = this.resolvePath(t, name, dirfd);
          this.setFd(t, res, {
            fd: res,
            type: flags & PPM_O_DIRECTORY ? 'directory' : 'file',
            name: path,
            openFlags: flags,
            ino: typeof p.ino === 'number' || typeof p.ino === 'bigint' ? p.ino : undefined,
            dev: typeof p.dev === 'number' ? p.dev : undefined,
          });
        }
        break;
      case 'memfd_create':
        if (res >= 0) {
          const name = typeof p.name === 'string' ? p.name : '';
          this.setFd(t, res, { fd: res, type: 'memfd', name: `memfd:${name}`, openFlags: 0 });
        }
        break;
      case 'socket':
        if (res >= 0) {
          const dom = enter ? enter.params.domain : undefined;
          const ty = enter ? enter.params.type : undefined;
          const type: FdType =
            dom === 2
              ? 'ipv4'
              : dom === 10
                ? 'ipv6'
                : dom === 1
                  ? 'unix'
                  : dom === 16
                    ? 'netlink'
                    : 'unknown';
          const st = typeof ty === 'number' ? ty & 0xf : 0;
          this.setFd(t, res, {
            fd: res,
            type,
            name: '',
            openFlags: 0,
            l4proto:
              type === 'ipv4' || type === 'ipv6' ? (st === 2 ? 'udp' : st === 3 ? 'raw' : 'tcp') : undefined,
          });
        }
        break;
      case 'connect': {
        const fdn =
          typeof p.fd === 'number'
            ? p.fd
            : enter && typeof enter.params.fd === 'number'
              ? enter.params.fd
              : -1;
        const f = t.shared.fds.get(fdn);
        const tuple = p.tuple;
        if (f && isTuple(tuple)) this.setTuple(f, tuple, false);
        else if (f && enter && isAddr(enter.params.addr) && !f.name) {
          const a = enter.params.addr;
          f.sip = a.ip;
          f.sport = a.port;
          f.name = a.path ?? `${a.ip ?? ''}:${a.port ?? 0}`;
        }
        this.currentFd = f;
        break;
      }
      case 'accept':
      case 'accept4':
        if (res >= 0) {
          const tuple = p.tuple;
          const f: FdInfo = { fd: res, type: 'ipv4', name: '', openFlags: 0, l4proto: 'tcp', isServer: true };
          if (isTuple(tuple)) {
            f.type = tuple.family === 'inet6' ? 'ipv6' : tuple.family === 'unix' ? 'unix' : 'ipv4';
            if (f.type === 'unix') f.l4proto = undefined;
            this.setTuple(f, tuple, true);
          }
          this.setFd(t, res, f);
        }
        break;
      case 'dup':
      case 'dup2':
      case 'dup3':
      case 'fcntl': {
        const old =
          enter && typeof enter.params.fd === 'number'
            ? enter.params.fd
            : typeof p.oldfd === 'number'
              ? p.oldfd
              : -1;
        const src = t.shared.fds.get(typeof p.oldfd === 'number' ? p.oldfd : old);
        if (ev.type === 'fcntl') {
          const cmd = enter ? enter.params.cmd : undefined;
          // F_DUPFD (PPM_FCNTL_F_DUPFD=1) and F_DUPFD_CLOEXEC (=23)
          if (!(cmd === 1 || cmd === 23)) break;
        }
        if (res >= 0 && src) this.setFd(t, res, { ...src, fd: res });
        break;
      }
      case 'pipe':
      case 'pipe2': {
        for (const k of ['fd1', 'fd2']) {
          const v = p[k];
          if (typeof v === 'number' && res >= 0)
            this.setFd(t, v, { fd: v, type: 'pipe', name: '', openFlags: 0 });
        }
        break;
      }
      case 'socketpair': {
        for (const k of ['fd1', 'fd2']) {
          const v = p[k];
          if (typeof v === 'number' && res >= 0)
            this.setFd(t, v, { fd: v, type: 'unix', name: '', openFlags: 0 });
        }
        break;
      }
      case 'eventfd':
      case 'eventfd2':
        if (res >= 0) this.setFd(t, res, { fd: res, type: 'event', name: '', openFlags: 0 });
        break;
      case 'signalfd':
      case 'signalfd4':
        if (res >= 0) this.setFd(t, res, { fd: res, type: 'signalfd', name: '', openFlags: 0 });
        break;
      case 'inotify_init':
      case 'inotify_init1':
        if (res >= 0) this.setFd(t, res, { fd: res, type: 'inotify', name: '', openFlags: 0 });
        break;
      case 'timerfd_create':
        if (res >= 0) this.setFd(t, res, { fd: res, type: 'timerfd', name: '', openFlags: 0 });
        break;
      case 'epoll_create':
      case 'epoll_create1':
        if (res >= 0) this.setFd(t, res, { fd: res, type: 'eventpoll', name: '', openFlags: 0 });
        break;
      case 'bpf':
        if (res >= 0 && typeof p.fd === 'number')
          this.setFd(t, res, { fd: res, type: 'bpf', name: '', openFlags: 0 });
        break;
      case 'userfaultfd':
        if (res >= 0) this.setFd(t, res, { fd: res, type: 'userfaultfd', name: '', openFlags: 0 });
        break;
      case 'io_uring_setup':
        if (res >= 0) this.setFd(t, res, { fd: res, type: 'io_uring', name: '', openFlags: 0 });
        break;
      case 'close': {
        const fdn = enter && typeof enter.params.fd === 'number' ? enter.params.fd : -1;
        this.currentFd = t.shared.fds.get(fdn);
        if (res >= 0 && fdn >= 0) this.pendingFdClose = { shared: t.shared, fd: fdn };
        break;
      }
      case 'chdir':
        if (res >= 0 && typeof p.path === 'string')
          this.main(t).cwd = this.resolvePath(t, p.path, -100) + '/';
        break;
      case 'fchdir': {
        const fdn = enter && typeof enter.params.fd === 'number' ? enter.params.fd : -1;
        const f = t.shared.fds.get(fdn);
        if (res >= 0 && f) this.main(t).cwd = f.name.endsWith('/') ? f.name : f.name + '/';
        break;
      }
      case 'setuid':
      case 'setreuid':
      case 'setresuid': {
        const uid = enter ? (enter.params.uid ?? enter.params.euid) : undefined;
        if (res === 0 && typeof uid === 'number' && uid !== 0xffffffff && uid !== -1) t.uid = uid;
        break;
      }
      case 'setgid':
      case 'setregid':
      case 'setresgid': {
        const gid = enter ? (enter.params.gid ?? enter.params.egid) : undefined;
        if (res === 0 && typeof gid === 'number' && gid !== 0xffffffff && gid !== -1) t.gid = gid;
        break;
      }
      case 'capset':
        if (res === 0) {
          const c = capsFromParams(p);
          if (c) t.caps = c;
        }
        break;
      default:
        break;
    }
    if (!this.currentFd && FD_USING.has(ev.type)) {
      const fdv =
        typeof p.fd === 'number'
          ? p.fd
          : enter && typeof enter.params.fd === 'number'
            ? enter.params.fd
            : undefined;
      if (fdv !== undefined) {
        this.currentFdNum = fdv;
        this.currentFd = t.shared.fds.get(fdv);
      } else if (!FD_RETURNING.has(ev.type)) {
        const last = this.lastEnterFd.get(ev.tid);
        if (last !== undefined) {
          this.currentFdNum = last;
          this.currentFd = t.shared.fds.get(last);
        }
      }
    }
    if (this.currentFd) this.currentFdNum = this.currentFd.fd;
    else if (this.currentFdNum === undefined && FD_RETURNING.has(ev.type) && res >= 0 && ev.dir === '<')
      this.currentFdNum = res;
    this.lastEnterFd.delete(ev.tid);
  }

  private setFd(t: ThreadInfo, fd: number, info: FdInfo): void {
    t.shared.fds.set(fd, info);
    this.currentFd = info;
  }

  private setTuple(f: FdInfo, tuple: SockTuple, server: boolean): void {
    if (tuple.family === 'unix') {
      f.name = tuple.path ?? '';
      return;
    }
    // the tuple is source->destination as seen by this socket; the client is the source of a
    // connect and the destination of an accept's... libsinsp reports accept tuples as client->server
    f.cip = tuple.sip;
    f.cport = tuple.sport;
    f.sip = tuple.dip;
    f.sport = tuple.dport;
    f.isServer = server;
    f.name = tupleName(tuple);
  }

  /** Absolute path for a name relative to dirfd (AT_FDCWD = -100) or the cwd. */
  resolvePath(t: ThreadInfo, name: string, dirfd: number): string {
    if (name.startsWith('/')) return normalizePath(name);
    let base: string;
    if (dirfd === -100 || dirfd === 0xffffff9c) base = this.main(t).cwd;
    else base = t.shared.fds.get(dirfd)?.name ?? '';
    if (!base) return name;
    return normalizePath(base.endsWith('/') ? base + name : base + '/' + name);
  }

  private onClone(ev: SyscallEvent, t: ThreadInfo, res: number): void {
    const p = ev.params;
    const flags = typeof p.flags === 'number' ? p.flags : 0;
    if (res !== 0) {
      // parent side: the child may appear later (or first, from its own event)
      if (res > 0) this.fillFromCloneParams(t, p);
      return;
    }
    // child side: ev.tid is the new thread
    const pid = typeof p.pid === 'number' ? p.pid : ev.tid;
    const ptid = typeof p.ptid === 'number' ? p.ptid : 0;
    const c = this.threads.get(ev.tid) ?? this.newThread(ev.tid, pid, ev.ts);
    c.pid = pid;
    c.cloneTs = ev.ts;
    const parent = this.threads.get(ptid);
    if (flags & PPM_CL_CLONE_THREAD) {
      const leader = this.threads.get(pid);
      c.ptid = leader ? leader.ptid : ptid;
      if (leader) {
        c.shared = leader.shared;
        c.caps ??= leader.caps;
      }
    } else {
      c.ptid = ptid;
      if (parent) {
        c.shared = flags & PPM_CL_CLONE_FILES ? parent.shared : { fds: new Map(parent.shared.fds) };
        c.loginuid = parent.loginuid;
        c.env = parent.env;
        c.exepath = parent.exepath;
        c.exeUpperLayer = parent.exeUpperLayer;
        c.exeFromMemfd = parent.exeFromMemfd;
        c.exeWritable = parent.exeWritable;
        c.tty = parent.tty;
        c.caps ??= parent.caps;
      }
    }
    this.fillFromCloneParams(c, p);
    c.incomplete = false;
    this.attribute(c, ev);
    this.current = c;
  }

  private fillFromCloneParams(t: ThreadInfo, p: SyscallEvent['params']): void {
    if (typeof p.exe === 'string') t.exe = p.exe;
    if (Array.isArray(p.args)) t.args = p.args;
    if (typeof p.comm === 'string') t.comm = p.comm;
    if (typeof p.cwd === 'string' && p.cwd) t.cwd = p.cwd;
    if (typeof p.uid === 'number') t.uid = p.uid;
    if (typeof p.gid === 'number') t.gid = p.gid;
    if (typeof p.vtid === 'number') t.vtid = p.vtid;
    if (typeof p.vpid === 'number') t.vpid = p.vpid;
    if (Array.isArray(p.cgroups)) t.cgroups = p.cgroups;
    if (t.tid === t.pid && typeof p.ptid === 'number' && t.ptid === 0) t.ptid = p.ptid;
  }

  private onExec(ev: SyscallEvent, t: ThreadInfo): void {
    const p = ev.params;
    // exec makes the thread the leader of its process (a non-leader thread takes over the tgid)
    if (typeof p.pid === 'number' && p.pid !== t.tid) {
      const leader = this.threads.get(p.pid);
      if (leader && leader !== t) {
        t.ptid = leader.ptid;
        this.threads.delete(t.tid);
        t.tid = p.pid;
        this.threads.set(t.tid, t);
      }
      t.pid = p.pid;
    }
    if (typeof p.ptid === 'number') t.ptid = p.ptid;
    this.fillFromCloneParams(t, p);
    if (typeof p.trusted_exepath === 'string' && p.trusted_exepath) t.exepath = p.trusted_exepath;
    else if (t.exe.startsWith('/')) t.exepath = t.exe;
    else t.exepath = t.exe;
    if (Array.isArray(p.env)) t.env = p.env;
    if (typeof p.loginuid === 'number') t.loginuid = p.loginuid;
    if (typeof p.tty === 'number') t.tty = p.tty;
    if (typeof p.pgid === 'number') t.pgid = p.pgid;
    // the sets after the exec (file capabilities, setuid-root); older captures' execve lacks them
    const caps = capsFromParams(p);
    if (caps) t.caps = caps;
    const flags = typeof p.flags === 'number' ? p.flags : 0;
    t.exeWritable = (flags & PPM_EXE_WRITABLE) !== 0;
    t.exeUpperLayer = (flags & PPM_EXE_UPPER_LAYER) !== 0;
    t.exeFromMemfd = (flags & PPM_EXE_FROM_MEMFD) !== 0;
    // close-on-exec fds are dropped; the clone time stays (exec does not start a process)
    for (const [n, f] of t.shared.fds) if (f.openFlags & (1 << 12)) t.shared.fds.delete(n);
    t.incomplete = false;
    this.attribute(t, ev);
  }
}

const NEEDS_ENTER = new Set([
  'socket',
  'connect',
  'close',
  'dup',
  'dup2',
  'dup3',
  'fcntl',
  'fchdir',
  'setuid',
  'setresuid',
  'setgid',
  'setresgid',
]);

/** The cap_inheritable/cap_permitted/cap_effective parameters of execve or capset, when all three are there. */
function capsFromParams(p: SyscallEvent['params']): ThreadCaps | undefined {
  const n = (v: unknown): number | undefined =>
    typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
  const inheritable = n(p.cap_inheritable);
  const permitted = n(p.cap_permitted);
  const effective = n(p.cap_effective);
  if (inheritable === undefined || permitted === undefined || effective === undefined) return undefined;
  return { inheritable, permitted, effective };
}

/** Collapses "//", "/./" and "/../" like libsinsp's path concatenation. */
export function normalizePath(p: string): string {
  if (!p.includes('/.') && !p.includes('//')) return p;
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return '/' + out.join('/');
}
