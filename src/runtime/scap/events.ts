/**
 * libscap's event codes (PPME_*) → Falco event type name, direction and parameter names/kinds, for
 * the events the rules and the state tracker use (names and order as in falcosecurity/libs
 * driver/event_table.c; old event versions included so older captures decode). Parameters added
 * by later versions are simply absent from older captures: the decoder takes as many as the event
 * carries.
 */
export type ParamKind =
  | 'i64' // PT_FD, PT_ERRNO, PT_PID, PT_INT64
  | 'u64'
  | 'u32'
  | 'i32'
  | 'u16'
  | 'u8'
  | 'str' // PT_CHARBUF, PT_FSPATH, PT_FSRELPATH
  | 'buf' // PT_BYTEBUF
  | 'strlist' // NUL-separated strings in a PT_BYTEBUF (args, env, cgroups)
  | 'addr' // PT_SOCKADDR
  | 'tuple' // PT_SOCKTUPLE
  | 'raw'; // anything else: kept as bytes

export interface EventInfo {
  name: string;
  dir: '>' | '<';
  params: [string, ParamKind][];
}

const P = (spec: string): [string, ParamKind][] =>
  spec
    ? spec.split(' ').map((s) => {
        const [n, k] = s.split(':');
        return [n!, (k ?? 'i64') as ParamKind];
      })
    : [];

const CLONE_OLD =
  'res exe:str args:strlist tid pid ptid cwd:str fdlimit pgft_maj:u64 pgft_min:u64 vm_size:u32 vm_rss:u32 vm_swap:u32';
const EXECVE_BASE =
  'res exe:str args:strlist tid pid ptid cwd:str fdlimit:u64 pgft_maj:u64 pgft_min:u64 vm_size:u32 vm_rss:u32 vm_swap:u32';
const EXECVE_19 = `${EXECVE_BASE} comm:str cgroups:strlist env:strlist tty:u32 pgid loginuid:u32 flags:u32 cap_inheritable:u64 cap_permitted:u64 cap_effective:u64 exe_ino:u64 exe_ino_ctime:u64 exe_ino_mtime:u64 uid:u32 trusted_exepath:str pgid2 gid:u32`;
const CLONE_20 = `${CLONE_OLD} comm:str cgroups:strlist flags:u32 uid:u32 gid:u32 vtid vpid pidns_init_start_ts:u64`;

const pairs: [number, string, string, string][] = [
  // code, name, enter params, exit params
  [0, 'syscall', 'ID:u16 nativeID:u16', 'ID:u16'],
  [2, 'open', 'name:str flags:u32 mode:u32', 'fd name:str flags:u32 mode:u32 dev:u32 ino:u64'],
  [4, 'close', 'fd', 'res'],
  [6, 'read', 'fd size:u32', 'res data:buf'],
  [8, 'write', 'fd size:u32', 'res data:buf'],
  [10, 'brk', 'size:u32', 'res:u64'],
  [12, 'execve', '', 'res exe:str args:strlist tid pid ptid cwd:str fdlimit:u64'],
  [14, 'clone', '', 'res exe:str args:strlist tid pid ptid cwd:str fdlimit flags:u32 uid:u32 gid:u32'],
  [16, 'procexit', '', ''],
  [18, 'socket', 'domain:u32 type:u32 proto:u32', 'fd'],
  [20, 'bind', 'fd', 'res addr:addr'],
  [22, 'connect', 'fd addr:addr', 'res tuple:tuple fd'],
  [24, 'listen', 'fd backlog:i32', 'res'],
  [26, 'accept', '', 'fd tuple:tuple queuepct:u8'],
  [28, 'send', 'fd size:u32', 'res data:buf'],
  [30, 'sendto', 'fd size:u32 tuple:tuple', 'res data:buf'],
  [32, 'recv', 'fd size:u32', 'res data:buf'],
  [34, 'recvfrom', 'fd size:u32', 'res data:buf tuple:tuple'],
  [36, 'shutdown', 'fd how:u8', 'res'],
  [38, 'getsockname', '', ''],
  [40, 'getpeername', '', ''],
  [42, 'socketpair', 'domain:u32 type:u32 proto:u32', 'res fd1 fd2 source:u64 peer:u64'],
  [44, 'setsockopt', '', 'res fd level:u8 optname:u8 val:raw optlen:u32'],
  [46, 'getsockopt', '', 'res fd level:u8 optname:u8 val:raw optlen:u32'],
  [48, 'sendmsg', 'fd size:u32 tuple:tuple', 'res data:buf'],
  [50, 'sendmmsg', '', ''],
  [52, 'recvmsg', 'fd', 'res size:u32 data:buf tuple:tuple msgcontrol:buf'],
  [54, 'recvmmsg', '', ''],
  [56, 'accept', 'flags:i32', 'fd tuple:tuple queuepct:u8'],
  [58, 'creat', 'name:str mode:u32', 'fd name:str mode:u32 dev:u32 ino:u64'],
  [60, 'pipe', '', 'res fd1 fd2 ino:u64'],
  [62, 'eventfd', 'initval:u64 flags:u32', 'res'],
  [64, 'futex', 'addr:u64 op:u16 val:u64', 'res'],
  [66, 'stat', '', 'res path:str'],
  [68, 'lstat', '', 'res path:str'],
  [70, 'fstat', 'fd', 'res'],
  [72, 'stat64', '', 'res path:str'],
  [74, 'lstat64', '', 'res path:str'],
  [76, 'fstat64', 'fd', 'res'],
  [78, 'epoll_wait', 'maxevents', 'res'],
  [80, 'poll', 'fds:raw timeout', 'res fds:raw'],
  [82, 'select', '', 'res'],
  [84, 'select', '', 'res'],
  [86, 'lseek', 'fd offset:u64 whence:u8', 'res'],
  [88, 'llseek', 'fd offset:u64 whence:u8', 'res'],
  [90, 'ioctl', 'fd request:u64', 'res'],
  [92, 'getcwd', '', 'res path:str'],
  [94, 'chdir', '', 'res path:str'],
  [96, 'fchdir', 'fd', 'res'],
  [98, 'mkdir', 'path:str mode:u32', 'res'],
  [100, 'rmdir', 'path:str', 'res'],
  [102, 'openat', 'dirfd name:str flags:u32 mode:u32', 'fd'],
  [104, 'link', 'oldpath:str newpath:str', 'res'],
  [106, 'linkat', 'olddir oldpath:str newdir newpath:str', 'res'],
  [108, 'unlink', 'path:str', 'res'],
  [110, 'unlinkat', 'dirfd name:str', 'res'],
  [112, 'pread', 'fd size:u32 pos:u64', 'res data:buf'],
  [114, 'pwrite', 'fd size:u32 pos:u64', 'res data:buf'],
  [116, 'readv', 'fd', 'res size:u32 data:buf'],
  [118, 'writev', 'fd size:u32', 'res data:buf'],
  [120, 'preadv', 'fd pos:u64', 'res size:u32 data:buf'],
  [122, 'pwritev', 'fd size:u32 pos:u64', 'res data:buf'],
  [124, 'dup', 'fd', 'res'],
  [126, 'signalfd', 'fd mask:u32 flags:u8', 'res'],
  [128, 'kill', 'pid sig:u8', 'res'],
  [130, 'tkill', 'tid sig:u8', 'res'],
  [132, 'tgkill', 'pid tid sig:u8', 'res'],
  [134, 'nanosleep', 'interval:u64', 'res'],
  [136, 'timerfd_create', 'clockid:u8 flags:u8', 'res'],
  [138, 'inotify_init', 'flags:u8', 'res'],
  [140, 'getrlimit', 'resource:u8', 'res cur max'],
  [142, 'setrlimit', 'resource:u8', 'res cur max resource:u8'],
  [144, 'prlimit', 'pid resource:u8', 'res newcur newmax oldcur oldmax pid resource:u8'],
  [146, 'switch', 'next', ''],
  [148, 'drop', 'ratio:u32', 'ratio:u32'],
  [150, 'fcntl', 'fd cmd:u8', 'res fd cmd:u8'],
  [152, 'switch', 'next pgft_maj:u64 pgft_min:u64 vm_size:u32 vm_rss:u32 vm_swap:u32', ''],
  [154, 'execve', '', EXECVE_BASE],
  [156, 'clone', '', `${CLONE_OLD} flags:u32 uid:u32 gid:u32`],
  [158, 'brk', 'addr:u64', 'res:u64 vm_size:u32 vm_rss:u32 vm_swap:u32'],
  [
    160,
    'mmap',
    'addr:u64 length:u64 prot:u32 flags:u32 fd offset:u64',
    'res vm_size:u32 vm_rss:u32 vm_swap:u32',
  ],
  [
    162,
    'mmap2',
    'addr:u64 length:u64 prot:u32 flags:u32 fd pgoffset:u64',
    'res vm_size:u32 vm_rss:u32 vm_swap:u32',
  ],
  [164, 'munmap', 'addr:u64 length:u64', 'res vm_size:u32 vm_rss:u32 vm_swap:u32'],
  [166, 'splice', 'fd_in fd_out size:u64 flags:u32', 'res'],
  [168, 'ptrace', 'request:u16 pid', 'res addr:raw data:raw'],
  [170, 'ioctl', 'fd request:u64 argument:u64', 'res'],
  [172, 'execve', '', `${EXECVE_BASE} env:strlist`],
  [174, 'rename', '', 'res oldpath:str newpath:str'],
  [176, 'renameat', '', 'res olddirfd oldpath:str newdirfd newpath:str'],
  [178, 'symlink', '', 'res target:str linkpath:str'],
  [180, 'symlinkat', '', 'res target:str linkdirfd linkpath:str'],
  [182, 'fork', '', `${CLONE_OLD} flags:u32 uid:u32 gid:u32`],
  [184, 'vfork', '', `${CLONE_OLD} flags:u32 uid:u32 gid:u32`],
  [186, 'procexit', 'status ret sig:u8 core:u8 reaper_tid', ''],
  [188, 'sendfile', 'out_fd in_fd offset:u64 size:u64', 'res offset:u64'],
  [192, 'setresuid', 'ruid:u32 euid:u32 suid:u32', 'res'],
  [194, 'setresgid', 'rgid:u32 egid:u32 sgid:u32', 'res'],
  [196, 'scapevent', 'event_type:u32 event_data:u64', ''],
  [198, 'setuid', 'uid:u32', 'res'],
  [200, 'setgid', 'gid:u32', 'res'],
  [202, 'getuid', '', 'uid:u32'],
  [204, 'geteuid', '', 'euid:u32'],
  [206, 'getgid', '', 'gid:u32'],
  [208, 'getegid', '', 'egid:u32'],
  [210, 'getresuid', '', 'res ruid:u32 euid:u32 suid:u32'],
  [212, 'getresgid', '', 'res rgid:u32 egid:u32 sgid:u32'],
  [214, 'execve', '', `${EXECVE_BASE} comm:str env:strlist`],
  [216, 'clone', '', `${CLONE_OLD} comm:str flags:u32 uid:u32 gid:u32`],
  [218, 'fork', '', `${CLONE_OLD} comm:str flags:u32 uid:u32 gid:u32`],
  [220, 'vfork', '', `${CLONE_OLD} comm:str flags:u32 uid:u32 gid:u32`],
  [222, 'clone', '', CLONE_20],
  [224, 'fork', '', CLONE_20],
  [226, 'vfork', '', CLONE_20],
  [228, 'container', 'id:str type:u32 name:str image:str', ''],
  [230, 'execve', '', `${EXECVE_BASE} comm:str cgroups:strlist env:strlist`],
  [232, 'signaldeliver', 'spid dpid sig:u8', ''],
  [234, 'procinfo', 'cpu_usr:u64 cpu_sys:u64', ''],
  [236, 'getdents', 'fd', 'res'],
  [238, 'getdents64', 'fd', 'res'],
  [240, 'setns', 'fd nstype:u32', 'res'],
  [242, 'flock', 'fd operation:u32', 'res'],
  [244, 'cpu_hotplug', 'cpu:u32 action:u32', ''],
  [246, 'accept', '', 'fd tuple:tuple queuepct:u8 queuelen:u32 queuemax:u32'],
  [248, 'accept', 'flags:i32', 'fd tuple:tuple queuepct:u8 queuelen:u32 queuemax:u32'],
  [256, 'mount', 'flags:u32', 'res dev:str dir:str type:str'],
  [258, 'umount', 'flags:u32', 'res name:str'],
  [260, 'k8s', 'json:str', ''],
  [264, 'access', 'mode:u32', 'res name:str'],
  [266, 'chroot', '', 'res path:str'],
  [272, 'container', 'json:str', ''],
  [274, 'setsid', '', 'res'],
  [276, 'mkdir', 'mode:u32', 'res path:str'],
  [278, 'rmdir', '', 'res path:str'],
  [280, 'notification', 'id:str desc:str', ''],
  [282, 'execve', '', `${EXECVE_BASE} comm:str cgroups:strlist env:strlist tty:u32`],
  [284, 'unshare', 'flags:u32', 'res'],
  [286, 'infra', 'source:str name:str description:str scope:str', ''],
  [288, 'execve', '', `${EXECVE_BASE} comm:str cgroups:strlist env:strlist tty:u32 pgid`],
  [290, 'page_fault', 'addr:u64 ip:u64 error:u32', ''],
  [292, 'execve', 'filename:str', EXECVE_19],
  [294, 'setpgid', 'pid pgid', 'res'],
  [296, 'bpf', 'cmd', 'res'],
  [298, 'seccomp', 'op:u64', 'res'],
  [300, 'unlink', '', 'res path:str'],
  [302, 'unlinkat', '', 'res dirfd name:str flags:u32'],
  [304, 'mkdirat', '', 'res dirfd path:str mode:u32'],
  [
    306,
    'openat',
    'dirfd name:str flags:u32 mode:u32',
    'fd dirfd name:str flags:u32 mode:u32 dev:u32 ino:u64',
  ],
  [308, 'link', '', 'res oldpath:str newpath:str'],
  [310, 'linkat', '', 'res olddir oldpath:str newdir newpath:str flags:u32'],
  [312, 'fchmodat', '', 'res dirfd filename:str mode:u32'],
  [314, 'chmod', '', 'res filename:str mode:u32'],
  [316, 'fchmod', '', 'res fd mode:u32'],
  [318, 'renameat2', '', 'res olddirfd oldpath:str newdirfd newpath:str flags:u32'],
  [320, 'userfaultfd', '', 'res flags:u32'],
  [322, 'pluginevent', 'plugin_id:u32 event_data:buf', ''],
  [324, 'container', 'json:str', ''],
  [
    326,
    'openat2',
    'dirfd name:str flags:u32 mode:u32 resolve:u32',
    'fd dirfd name:str flags:u32 mode:u32 resolve:u32',
  ],
  [328, 'mprotect', 'addr:u64 length:u64 prot:u32', 'res'],
  [330, 'execveat', 'dirfd pathname:str flags:u32', EXECVE_19],
  [332, 'copy_file_range', 'fdin offin:u64 len:u64', 'res fdout offout:u64'],
  [334, 'clone3', '', CLONE_20],
  [336, 'open_by_handle_at', '', 'fd mountfd flags:u32 path:str'],
  [
    338,
    'io_uring_setup',
    '',
    'res entries:u32 sq_entries:u32 cq_entries:u32 flags:u32 sq_thread_cpu:u32 sq_thread_idle:u32 features:u32',
  ],
  [340, 'io_uring_enter', '', 'res fd to_submit:u32 min_complete:u32 flags:u32 sig:raw'],
  [342, 'io_uring_register', '', 'res fd opcode:u32 arg:u64 nr_args:u32'],
  [344, 'mlock', '', 'res addr:u64 len:u64'],
  [346, 'munlock', '', 'res addr:u64 len:u64'],
  [348, 'mlockall', '', 'res flags:u32'],
  [350, 'munlockall', '', 'res'],
  [352, 'capset', '', 'res cap_inheritable:u64 cap_permitted:u64 cap_effective:u64'],
  [354, 'useradded', 'uid:u32 gid:u32 name:str home:str shell:str container_id:str', ''],
  [356, 'userdeleted', 'uid:u32 gid:u32 name:str home:str shell:str container_id:str', ''],
  [358, 'groupadded', 'gid:u32 name:str container_id:str', ''],
  [360, 'groupdeleted', 'gid:u32 name:str container_id:str', ''],
  [362, 'dup2', 'fd', 'res oldfd newfd'],
  [364, 'dup3', 'fd', 'res oldfd newfd flags:u32'],
  [366, 'dup', 'fd', 'res oldfd'],
  [368, 'bpf', 'cmd', 'fd'],
  [370, 'mlock2', '', 'res addr:u64 len:u64 flags:u32'],
  [372, 'fsconfig', '', 'res fd cmd:u32 key:str value_bytebuf:buf value_charbuf:str aux:i32'],
  [374, 'epoll_create', 'size:i32', 'res'],
  [376, 'epoll_create1', 'flags:u32', 'res'],
  [378, 'chown', '', 'res path:str uid:u32 gid:u32'],
  [380, 'lchown', '', 'res path:str uid:u32 gid:u32'],
  [382, 'fchown', '', 'res fd uid:u32 gid:u32'],
  [384, 'fchownat', '', 'res dirfd pathname:str uid:u32 gid:u32 flags:u32'],
  [386, 'umount', '', 'res name:str'],
  [388, 'accept4', 'flags:i32', 'fd tuple:tuple queuepct:u8 queuelen:u32 queuemax:u32'],
  [390, 'umount2', 'flags:u32', 'res name:str'],
  [392, 'pipe2', '', 'res fd1 fd2 ino:u64 flags:u32'],
  [394, 'inotify_init1', '', 'res flags:u32'],
  [396, 'eventfd2', 'initval:u64', 'res flags:u32'],
  [398, 'signalfd4', 'fd mask:u32', 'res flags:u32'],
  [400, 'prctl', '', 'res option:u32 arg2_str:str arg2_int'],
  [402, 'asyncevent', 'plugin_id:u32 name:str data:buf', ''],
  [404, 'memfd_create', '', 'fd name:str flags:u32'],
  [406, 'pidfd_getfd', '', 'fd pid_fd target_fd flags:u32'],
  [408, 'pidfd_open', '', 'fd pid flags:u32'],
  [410, 'init_module', '', 'res img:buf length:u64 uargs:str'],
  [412, 'finit_module', '', 'res fd uargs:str flags:u32'],
  [414, 'mknod', '', 'res path:str mode:u32 dev:u32'],
  [416, 'mknodat', '', 'res dirfd path:str mode:u32 dev:u32'],
  [418, 'newfstatat', '', 'res dirfd path:str flags:u32'],
  [420, 'process_vm_readv', '', 'res pid data:buf'],
  [422, 'process_vm_writev', '', 'res pid data:buf'],
  [424, 'delete_module', '', 'res name:str flags:u32'],
];

export const EVENT_INFO: Map<number, EventInfo> = new Map();
for (const [code, name, e, x] of pairs) {
  EVENT_INFO.set(code, { name, dir: '>', params: P(e) });
  EVENT_INFO.set(code + 1, { name, dir: '<', params: P(x) });
}
// the exit halves of tracepoint/meta events do not exist
for (const c of [
  17, 147, 153, 187, 197, 229, 233, 235, 245, 261, 273, 281, 287, 291, 323, 325, 355, 357, 359, 361, 403,
])
  EVENT_INFO.delete(c);
