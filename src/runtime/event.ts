/**
 * The raw runtime event model: what both event sources (the live eBPF sensor in
 * src/runtime/sensor and the .scap reader in src/runtime/scap) produce, and what the state
 * tracker (src/runtime/state) and the rules engine (src/runtime/rules) consume.
 *
 * INTERFACE NOTE (for the sensor/agent engineer)
 * - A source yields `SyscallEvent`s in timestamp order, one per kernel event, enter ('>') and
 *   exit ('<') separately, exactly as libscap has them. `type` is Falco's event type name
 *   ("execve", "openat", "connect", "procexit", ...), `params` are keyed by the parameter names
 *   of falcosecurity/libs' event table (driver/event_table.c): res, fd, name, dirfd, flags, mode,
 *   dev, ino, tuple, addr, exe, args, cwd, pid, ptid, uid, gid, loginuid, tty, comm, env,
 *   cgroups, exe_writable, exe_upper_layer, exe_from_memfd, pgid, vpid, vtid, ...
 * - Value types: integers as `number` (64-bit values that can exceed 2^53 such as inode numbers
 *   may be `bigint`), strings as `string`, lists of strings (args, env, cgroups) as `string[]`,
 *   raw buffers (read/write data) as `Uint8Array`, socket addresses/tuples as `SockAddr` /
 *   `SockTuple`. Flags are the raw numeric PPM_* bitmasks (see PPM_O_* in flags.ts) as in scap.
 * - `num` is the event number (evt.num): 1-based, consecutive per source.
 * - `cgroupId` / `containerId` are hints a live sensor can fill (bpf_get_current_cgroup_id(),
 *   or an id already known); the state tracker asks its ContainerResolver otherwise.
 * - Consumption order per event: `state.process(ev)` then `ruleset.evaluate(ev, state)`.
 *   Like libsinsp, removals caused by an event (close, procexit) are deferred to the next call
 *   of process(), so rules still see the closing fd / exiting thread.
 * - Filtering in the kernel: `ruleset.eventTypes()` returns the Falco event type names the
 *   loaded rules need (plus the ones state tracking needs: see STATE_EVENT_TYPES in state/).
 */

export type Direction = '>' | '<';

/** A socket endpoint as libscap decodes PT_SOCKADDR. */
export interface SockAddr {
  family: 'inet' | 'inet6' | 'unix' | 'other';
  /** Address as text ("10.0.0.1", "::1"); path for unix sockets. */
  ip?: string;
  port?: number;
  path?: string;
}

/** A connection tuple as libscap decodes PT_SOCKTUPLE (source → destination as the kernel saw it). */
export interface SockTuple {
  family: 'inet' | 'inet6' | 'unix' | 'other';
  sip?: string;
  sport?: number;
  dip?: string;
  dport?: number;
  /** unix sockets: the peer path */
  path?: string;
}

export type ParamValue = number | bigint | string | string[] | Uint8Array | SockAddr | SockTuple;

export interface SyscallEvent {
  /** evt.num */
  num: number;
  /** evt.rawtime: nanoseconds since the epoch */
  ts: bigint;
  /** thread id (host pid namespace) */
  tid: number;
  /** cpu that produced the event (evt.cpu) */
  cpu: number;
  /** Falco event type name, e.g. "execve", "openat", "procexit" */
  type: string;
  /** '>' enter, '<' exit */
  dir: Direction;
  /** parameters by libs event-table name */
  params: Record<string, ParamValue>;
  /** libscap event code (PPME_*), when known; informative only */
  code?: number;
  /** live sensor hint: bpf_get_current_cgroup_id() */
  cgroupId?: bigint;
  /** live sensor hint: container id when already known (12+ hex chars), "host" for the host */
  containerId?: string;
  /**
   * live sensor hint: the thread's capability sets after this event, where libscap's event has no
   * parameter for them (a setuid can clear the permitted and effective sets)
   */
  caps?: ThreadCaps;
  /** live sensor hint (execve): the exec backstop killed the process before its first instruction */
  killed?: boolean;
}

/** A thread's capability sets, bit n = capability n (linux/capability.h). */
export interface ThreadCaps {
  inheritable: number;
  permitted: number;
  effective: number;
}

/** Event source name as Falco has it (rules' `source:`), for alerts. */
export const SYSCALL_SOURCE = 'syscall';

/** Reads a numeric parameter; undefined when absent or not numeric. */
export function numParam(ev: SyscallEvent, name: string): number | undefined {
  const v = ev.params[name];
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
}

/** Reads a string parameter; undefined when absent or not a string. */
export function strParam(ev: SyscallEvent, name: string): string | undefined {
  const v = ev.params[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Exit events whose return value libscap names `fd` rather than `res` (driver/event_table.c):
 * the fd-creating calls.
 */
export const FD_RETURNING: ReadonlySet<string> = new Set([
  'open',
  'openat',
  'openat2',
  'creat',
  'open_by_handle_at',
  'socket',
  'accept',
  'accept4',
  'signalfd',
  'signalfd4',
  'eventfd',
  'eventfd2',
  'timerfd_create',
  'inotify_init',
  'inotify_init1',
  'epoll_create',
  'epoll_create1',
  'userfaultfd',
  'memfd_create',
  'pidfd_open',
  'pidfd_getfd',
  'io_uring_setup',
  'bpf',
]);

/** The return value of an exit event (`res`, or `fd` for the fd-creating calls); undefined for enter events. */
export function returnValue(ev: SyscallEvent): number | undefined {
  if (ev.dir !== '<') return undefined;
  const r = ev.params.res ?? (FD_RETURNING.has(ev.type) ? ev.params.fd : undefined);
  return typeof r === 'number' ? r : typeof r === 'bigint' ? Number(r) : undefined;
}

/**
 * Event types that refer to an existing fd (libs' EF_USES_FD): only these (and the fd-creating
 * calls) bind an event to an fd, so fd.* fields of e.g. mmap's `fd` argument stay empty as in libsinsp.
 */
export const FD_USING: ReadonlySet<string> = new Set([
  'close',
  'read',
  'write',
  'pread',
  'pwrite',
  'readv',
  'writev',
  'preadv',
  'pwritev',
  'bind',
  'connect',
  'listen',
  'send',
  'sendto',
  'recv',
  'recvfrom',
  'shutdown',
  'setsockopt',
  'getsockopt',
  'sendmsg',
  'recvmsg',
  'sendmmsg',
  'recvmmsg',
  'fstat',
  'fstat64',
  'lseek',
  'llseek',
  'ioctl',
  'fchdir',
  'dup',
  'dup2',
  'dup3',
  'splice',
  'getdents',
  'getdents64',
  'setns',
  'flock',
  'sendfile',
  'fcntl',
  'fchmod',
  'fchown',
  'io_uring_enter',
  'io_uring_register',
  'copy_file_range',
  'finit_module',
  'fsconfig',
  'epoll_ctl',
  'fdatasync',
  'fsync',
  'ftruncate',
  'fadvise64',
]);

/** libscap's internal meta events (procinfo, drop, ...): consumed by the state, never shown to filters. */
export const INTERNAL_EVENTS: ReadonlySet<string> = new Set([
  'procinfo',
  'drop',
  'scapevent',
  'cpu_hotplug',
  'container',
]);
