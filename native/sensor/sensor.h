/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bulwark sensor record format v2, shared by the BPF program (sensor.bpf.c), the loader (sensor.c)
 * and the TypeScript decoder (src/runtime/sensor/record.ts mirrors these constants; keep them equal).
 *
 * Stream (the loader's stdout): records back to back, little-endian, each starting with struct
 * bwk_hdr; `len` is the whole record (header included), so a reader can skip unknown types.
 * The first record is BWK_T_META (from the loader). Strings carry no NUL; argv is NUL-separated.
 */
#ifndef BWK_SENSOR_H
#define BWK_SENSOR_H

#define BWK_VERSION 2 /* 2: capabilities in exec and setid records, capset records */

enum bwk_type {
	BWK_T_META = 0,    /* loader: struct bwk_meta */
	BWK_T_EXEC = 1,    /* sched_process_exec: struct bwk_exec, filename, argv, cwd components, cgroup leaf */
	BWK_T_FORK = 2,    /* sched_process_fork (header = parent): struct bwk_fork */
	BWK_T_EXIT = 3,    /* sched_process_exit (every thread): struct bwk_exit */
	BWK_T_OPENAT = 4,  /* open/openat/openat2 exit (res = fd or -errno): struct bwk_open, path */
	BWK_T_CONNECT = 5, /* connect exit (res): struct bwk_connect, unix path */
	BWK_T_DUP = 6,     /* dup/dup2/dup3 exit (res = new fd or -errno): struct bwk_dup */
	BWK_T_CLOSE = 7,   /* close exit (res): struct bwk_close */
	BWK_T_SOCKET = 8,  /* socket exit (res = fd): struct bwk_socket */
	BWK_T_PTRACE = 9,  /* ptrace exit (res): struct bwk_ptrace */
	BWK_T_LINK = 10,   /* symlink/symlinkat/link/linkat exit (res): struct bwk_link, old path, new path */
	BWK_T_MODULE = 11, /* init_module/finit_module exit (res): struct bwk_module, uargs */
	BWK_T_SYSCALLS = 12, /* loader: struct bwk_syscalls; hdr.cgroup_id = the cgroup (sent when its set grows) */
	BWK_T_FILEOP = 13, /* unlink/rename/mkdir/rmdir/chmod families and memfd_create exit: struct bwk_link layout, path(s) */
	BWK_T_SETID = 14,  /* setuid/setgid/setreuid/setregid/setresuid/setresgid exit: struct bwk_setid */
	BWK_T_INBOUND = 15, /* accept/accept4 (res = new fd), bind, listen exit: struct bwk_inbound */
	BWK_T_CAPSET = 16, /* capset exit (res): struct bwk_caps, the thread's sets after the call */
	BWK_T_NTYPES = 17,
	BWK_T_STATS = 100, /* loader: struct bwk_stats */
};

struct bwk_hdr {
	unsigned short version;
	unsigned short type;
	unsigned int len;         /* whole record, header included */
	unsigned long long ts;    /* CLOCK_BOOTTIME ns; META gives the realtime offset */
	unsigned int tid, pid;    /* host pid namespace */
	unsigned int ppid;        /* real parent's tgid */
	unsigned int uid, gid;    /* effective */
	unsigned int cpu;
	unsigned long long cgroup_id; /* bpf_get_current_cgroup_id() */
	unsigned int pidns, mntns;    /* namespace inode numbers */
	long long res;                /* syscall return value (0 for sched events) */
	char comm[16];
}; /* 80 bytes */

/* a thread's capability sets (task->cred), bit n = capability n */
struct bwk_caps {
	unsigned long long inheritable, permitted, effective;
};

struct bwk_exec {
	unsigned int filename_len; /* bytes of linux_binprm->filename following this struct */
	unsigned int argv_len;     /* bytes of argv (NUL-separated, as in /proc/PID/cmdline) after it */
	unsigned int old_tid;      /* the thread that called execve (differs when a non-leader execs) */
	unsigned int loginuid;
	unsigned int cwd_len;      /* bytes of cwd after argv: path components leaf first, each NUL-terminated */
	unsigned int exe_flags;    /* BWK_EXE_* */
	unsigned int cgroup_len;   /* bytes of the cgroup v2 leaf name after cwd (a container's id is in it) */
	unsigned int pad;
	struct bwk_caps caps;      /* after the exec (file capabilities and setuid-root applied) */
};

/* exec flags, as Falco's PPM_EXE_* (execve exit `flags`) */
#define BWK_EXE_UPPER_LAYER (1 << 1) /* executable on an overlayfs with an upper-layer dentry */
#define BWK_EXE_FROM_MEMFD (1 << 2)  /* executable is a memfd ("memfd:" dentry) */
#define BWK_EXE_LOWER_LAYER (1 << 3) /* executable on an overlayfs, lower layer only */
#define BWK_EXE_KILLED (1 << 8)      /* the exec backstop sent SIGKILL: not in its cgroup's allow-list */

/*
 * Exec backstop (behind the fanotify execguard): the loader's stdin takes lines
 *   guard CGROUP_ID POLICY     a cgroup's execs are checked against POLICY's allow-list
 *   unguard CGROUP_ID
 *   allow POLICY HASH          HASH (16 hex digits) = bwk_path_hash of an allowed executable
 *   clear POLICY               (the loader drops every HASH of POLICY it was given)
 * and at sched_process_exec a guarded cgroup's exec whose executable (the file that runs, its
 * path walked from the dentry to the mount namespace's root) is not allowed gets SIGKILL from
 * bpf_send_signal before its first instruction; the exec record has BWK_EXE_KILLED.
 * bwk_path_hash: FNV-1a 64 over the path's components leaf first, each followed by a NUL
 * ("/usr/bin/id" hashes "id\0bin\0usr\0"), the cwd encoding of exec records.
 */
struct bwk_allow_key {
	unsigned int policy;
	unsigned int pad;
	unsigned long long hash;
};

struct bwk_fork {
	unsigned int child_tid, child_pid;
	unsigned int is_thread; /* child shares the parent's thread group */
	unsigned int pad;
};

struct bwk_exit {
	int exit_code; /* task->exit_code (wait status) */
	unsigned int pad;
};

struct bwk_open {
	int dirfd;          /* AT_FDCWD (-100) for open */
	unsigned int flags; /* raw O_* flags (openat2: how->flags) */
	unsigned int mode;
	unsigned int path_len;
	unsigned int syscall; /* 0 openat, 1 open, 2 openat2 */
	unsigned int resolve; /* openat2: how->resolve (RESOLVE_*) */
};

struct bwk_connect {
	int fd;
	unsigned short family; /* remote sockaddr family (AF_INET=2, AF_INET6=10, AF_UNIX=1) */
	unsigned short rport;  /* host order */
	unsigned char raddr[16];
	unsigned short lfamily, lport; /* local end of the socket after connect */
	unsigned char laddr[16];
	unsigned int path_len; /* AF_UNIX: sun_path bytes following */
	unsigned int proto;    /* sk_protocol of the socket (6 TCP, 17 UDP), 0 when unknown */
};

struct bwk_dup {
	unsigned int syscall; /* 0 dup, 2 dup2, 3 dup3 */
	int oldfd;
	int newfd; /* -1 for dup */
	unsigned int flags; /* dup3 flags (O_CLOEXEC) */
};

struct bwk_close {
	int fd;
	unsigned int pad;
};

struct bwk_socket {
	int domain, type, protocol;
	unsigned int pad;
};

struct bwk_ptrace {
	int request; /* the kernel's PTRACE_* request */
	int pid;     /* target */
	unsigned long long addr, data;
};

struct bwk_link {
	unsigned int syscall; /* 0 symlink, 1 symlinkat, 2 link, 3 linkat */
	int olddirfd;         /* linkat; AT_FDCWD otherwise */
	int newdirfd;         /* symlinkat/linkat; AT_FDCWD otherwise */
	unsigned int flags;   /* linkat flags */
	unsigned int old_len; /* bytes of target (symlink*) or oldpath (link*) after this struct */
	unsigned int new_len; /* bytes of linkpath / newpath after that */
};

/* BWK_T_FILEOP uses struct bwk_link's layout; syscall codes: */
enum bwk_fileop {
	BWK_OP_UNLINK = 0, BWK_OP_UNLINKAT, BWK_OP_RENAME, BWK_OP_RENAMEAT, BWK_OP_RENAMEAT2,
	BWK_OP_MKDIR, BWK_OP_MKDIRAT, BWK_OP_RMDIR, BWK_OP_CHMOD, BWK_OP_FCHMODAT, BWK_OP_FCHMOD,
	BWK_OP_MEMFD_CREATE,
};
/* fields: olddirfd = dirfd (or fd for fchmod), newdirfd = renames' new dirfd, flags = flags or mode */

struct bwk_setid {
	unsigned int syscall; /* 0 setuid, 1 setgid, 2 setreuid, 3 setregid, 4 setresuid, 5 setresgid */
	unsigned int a, b, c; /* the ids as passed (-1 = unchanged) */
	struct bwk_caps caps; /* after the call: a uid change can clear the permitted and effective sets */
};

struct bwk_inbound {
	unsigned int syscall; /* 0 accept, 1 accept4, 2 bind, 3 listen */
	int fd;               /* the listening socket (accept*, listen) or the bound socket (bind) */
	int arg;              /* accept4 flags, listen backlog */
	unsigned short family; /* bind: the address family given; accept: the socket's */
	unsigned short rport;  /* accept: the peer's port; bind: the port asked for */
	unsigned char raddr[16]; /* accept: the peer; bind: the address asked for */
	unsigned short lfamily, lport; /* accept: the new socket's local end */
	unsigned char laddr[16];
	unsigned int proto;
	unsigned int pad;
};

struct bwk_module {
	unsigned int syscall; /* 0 init_module, 1 finit_module */
	int fd;               /* finit_module */
	unsigned long long length; /* init_module image length */
	unsigned int flags;   /* finit_module flags */
	unsigned int uargs_len; /* bytes of the module parameters string after this struct */
};

/* the syscall numbers (bit n = syscall n, n < 512) threads of one cgroup entered since the sensor started */
struct bwk_syscalls {
	unsigned long long bits[8];
};

struct bwk_counter {
	unsigned long long events; /* records the kernel tried to emit */
	unsigned long long drops;  /* of those, lost: ring buffer full */
};

struct bwk_meta {
	long long boot_to_realtime_ns; /* realtime = ts + this */
	unsigned int loader_pid;
	unsigned int ring_bytes;
	unsigned long long enabled_mask; /* bit t = type t enabled in the kernel */
};

struct bwk_stats {
	unsigned int ntypes;
	unsigned int pad;
	struct bwk_counter c[BWK_T_NTYPES];
};

#define BWK_MAX_PATH 4096
#define BWK_MAX_FILENAME 512
#define BWK_MAX_ARGV 4096
#define BWK_CWD_DEPTH 32
#define BWK_MAX_CGROUP 256

#endif
