// SPDX-License-Identifier: GPL-2.0
/* Bulwark CO-RE sensor: process exec/fork/exit (tp_btf sched_*) and exit-paired openat/connect
 * (tp_btf sys_enter/sys_exit, no tracefs needed). Records: see sensor.h. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "sensor.h"

char LICENSE[] SEC("license") = "GPL";

#define NR_OPENAT 257
#define NR_CONNECT 42
#define NR_DUP 32
#define NR_CLOSE 3
#define NR_SOCKET 41
#define NR_DUP2 33
#define NR_DUP3 292
#define NR_OPEN 2
#define NR_OPENAT2 437
#define NR_PTRACE 101
#define NR_SYMLINK 88
#define NR_SYMLINKAT 266
#define NR_LINK 86
#define NR_LINKAT 265
#define NR_INIT_MODULE 175
#define NR_FINIT_MODULE 313
#define AT_FDCWD -100
#define NR_UNLINK 87
#define NR_UNLINKAT 263
#define NR_RENAME 82
#define NR_RENAMEAT 264
#define NR_RENAMEAT2 316
#define NR_MKDIR 83
#define NR_MKDIRAT 258
#define NR_RMDIR 84
#define NR_CHMOD 90
#define NR_FCHMODAT 268
#define NR_FCHMOD 91
#define NR_MEMFD_CREATE 319
#define NR_SETUID 105
#define NR_SETGID 106
#define NR_SETREUID 113
#define NR_SETREGID 114
#define NR_SETRESUID 117
#define NR_SETRESGID 119
#define NR_ACCEPT 43
#define NR_ACCEPT4 288
#define NR_BIND 49
#define NR_LISTEN 50
#define NR_CAPSET 126
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10

/* set by the loader before load */
const volatile __u32 self_tgid = 0;
const volatile __u32 ignore_tgid = 0;
const volatile __u64 enabled_mask = ~0ULL;
/* batched delivery (the loader's --batch-ms): records wake the loader only for exec (it reads
 * /proc while the process lives); the rest wait for its next timed poll */
const volatile __u32 batch_wakeup = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BWK_T_NTYPES);
	__type(key, __u32);
	__type(value, struct bwk_counter);
} counters SEC(".maps");

#define SCRATCH 16384
#define CWD_HALF 8192
struct scratch { char b[SCRATCH]; };
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} heap SEC(".maps");

/* exec backstop: cgroup id → policy, and (policy, path hash) → allowed */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u32);
} guard_cg SEC(".maps");
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct bwk_allow_key);
	__type(value, __u8);
} guard_allow SEC(".maps");
/* the exe path walk's own scratch (the record being built uses `heap`) */
#define EXE_BUF 8192
struct exe_scratch { char b[EXE_BUF]; };
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exe_scratch);
} exe_heap SEC(".maps");

struct sc_bits {
	__u64 b[8];
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct sc_bits);
} syscalls_used SEC(".maps");

struct enter_args {
	__u64 nr;
	__u64 a[6];
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct enter_args);
} pending SEC(".maps");

static __always_inline int enabled(__u32 t)
{
	return (enabled_mask >> t) & 1;
}

static __always_inline int ignored(__u32 tgid)
{
	return tgid == self_tgid || (ignore_tgid && tgid == ignore_tgid);
}

static __always_inline struct scratch *get_heap(void)
{
	__u32 z = 0;
	return bpf_map_lookup_elem(&heap, &z);
}

static __always_inline void fill_hdr(struct bwk_hdr *h, __u16 type, struct task_struct *t, long long res)
{
	h->version = BWK_VERSION;
	h->type = type;
	h->ts = bpf_ktime_get_boot_ns();
	h->tid = BPF_CORE_READ(t, pid);
	h->pid = BPF_CORE_READ(t, tgid);
	h->ppid = BPF_CORE_READ(t, real_parent, tgid);
	h->uid = BPF_CORE_READ(t, cred, euid.val);
	h->gid = BPF_CORE_READ(t, cred, egid.val);
	h->cpu = bpf_get_smp_processor_id();
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->pidns = BPF_CORE_READ(t, nsproxy, pid_ns_for_children, ns.inum);
	h->mntns = BPF_CORE_READ(t, nsproxy, mnt_ns, ns.inum);
	h->res = res;
	BPF_CORE_READ_STR_INTO(&h->comm, t, comm);
}

/* sends len bytes of the scratch record, counting the event and a drop on reserve failure */
static __always_inline void emit(void *buf, __u32 len, __u32 type)
{
	struct bwk_counter *c = bpf_map_lookup_elem(&counters, &type);
	if (c)
		c->events++;
	((struct bwk_hdr *)buf)->len = len;
	__u64 fl = !batch_wakeup ? 0 : type == BWK_T_EXEC ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_output(&rb, buf, len & (SCRATCH - 1), fl) != 0 && c)
		c->drops++;
}

struct cwd_walk {
	struct dentry *d;
	struct vfsmount *vm;
	struct mount *mnt;
	__u32 coff;
};

/* one step of the cwd walk (bpf_loop callback): a component into the scratch's upper half, or a mount crossing */
static long cwd_step(__u32 i, void *ctx)
{
	struct cwd_walk *w = ctx;
	struct dentry *d = w->d;
	struct vfsmount *vm = w->vm;
	struct mount *mnt = w->mnt;
	struct scratch *s = get_heap();
	if (!s)
		return 1;
	struct dentry *mroot = BPF_CORE_READ(vm, mnt_root);
	if (d == mroot) {
		struct mount *mp = BPF_CORE_READ(mnt, mnt_parent);
		if (mp == mnt)
			return 1;
		w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = mp;
		w->vm = &mp->mnt;
		return 0;
	}
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	if (parent == d)
		return 1;
	const unsigned char *nm = BPF_CORE_READ(d, d_name.name);
	__u32 co = w->coff;
	if (co >= CWD_HALF - 256)
		return 1;
	long k = bpf_probe_read_kernel_str(s->b + CWD_HALF + co, 256, nm);
	if (k < 1 || k > 256)
		return 1;
	w->coff = co + k;
	w->d = parent;
	return 0;
}

#define OVERLAYFS_SUPER_MAGIC 0x794c7630

static __always_inline __u32 exe_flags(struct linux_binprm *bprm)
{
	__u32 fl = 0;
	struct file *f = BPF_CORE_READ(bprm, file);
	char nm[8] = {};
	bpf_probe_read_kernel_str(nm, sizeof(nm), BPF_CORE_READ(f, f_path.dentry, d_name.name));
	if (nm[0] == 'm' && nm[1] == 'e' && nm[2] == 'm' && nm[3] == 'f' && nm[4] == 'd' && nm[5] == ':')
		fl |= BWK_EXE_FROM_MEMFD;
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	if (BPF_CORE_READ(ino, i_sb, s_magic) == OVERLAYFS_SUPER_MAGIC) {
		struct ovl_inode *oi = container_of(ino, struct ovl_inode, vfs_inode);
		fl |= BPF_CORE_READ(oi, __upperdentry) ? BWK_EXE_UPPER_LAYER : BWK_EXE_LOWER_LAYER;
	}
	return fl;
}

/* kernel_cap_t before Linux 6.3: struct kernel_cap_struct { __u32 cap[2]; } (one u64 `val` since) */
struct kernel_cap_struct___pre63 {
	__u32 cap[2];
};
struct cred___pre63 {
	struct kernel_cap_struct___pre63 cap_inheritable, cap_permitted, cap_effective;
};

static __always_inline void read_caps(struct bwk_caps *c, struct task_struct *t)
{
	const struct cred *cr = BPF_CORE_READ(t, cred);
	if (bpf_core_field_exists(cr->cap_effective.val)) {
		c->inheritable = BPF_CORE_READ(cr, cap_inheritable.val);
		c->permitted = BPF_CORE_READ(cr, cap_permitted.val);
		c->effective = BPF_CORE_READ(cr, cap_effective.val);
	} else {
		const struct cred___pre63 *o = (const void *)cr;
		c->inheritable = BPF_CORE_READ(o, cap_inheritable.cap[0]) |
				 ((__u64)BPF_CORE_READ(o, cap_inheritable.cap[1]) << 32);
		c->permitted = BPF_CORE_READ(o, cap_permitted.cap[0]) | ((__u64)BPF_CORE_READ(o, cap_permitted.cap[1]) << 32);
		c->effective = BPF_CORE_READ(o, cap_effective.cap[0]) | ((__u64)BPF_CORE_READ(o, cap_effective.cap[1]) << 32);
	}
}

/* one step of the exe path walk (bpf_loop): a component into exe_heap, or a mount crossing */
static long exe_step(__u32 i, void *ctx)
{
	struct cwd_walk *w = ctx;
	struct dentry *d = w->d;
	struct vfsmount *vm = w->vm;
	struct mount *mnt = w->mnt;
	__u32 z = 0;
	struct exe_scratch *x = bpf_map_lookup_elem(&exe_heap, &z);
	if (!x)
		return 1;
	struct dentry *mroot = BPF_CORE_READ(vm, mnt_root);
	if (d == mroot) {
		struct mount *mp = BPF_CORE_READ(mnt, mnt_parent);
		if (mp == mnt)
			return 1;
		w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = mp;
		w->vm = &mp->mnt;
		return 0;
	}
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	if (parent == d)
		return 1;
	__u32 co = w->coff;
	if (co >= EXE_BUF - 256)
		return 1;
	long k = bpf_probe_read_kernel_str(x->b + co, 256, BPF_CORE_READ(d, d_name.name));
	if (k < 1 || k > 256)
		return 1;
	w->coff = co + k;
	w->d = parent;
	return 0;
}

struct hash_ctx {
	__u64 h;
	__u32 len;
	struct exe_scratch *x;
};

static long hash_step(__u32 i, void *ctx)
{
	struct hash_ctx *c = ctx;
	if (i >= c->len)
		return 1;
	c->h ^= (__u8)c->x->b[i & (EXE_BUF - 1)];
	c->h *= 0x100000001b3ULL;
	return 0;
}

/* true when the exec must be killed: its cgroup is guarded and the executable is not allowed */
static __always_inline int backstop(struct linux_binprm *bprm)
{
	__u64 cg = bpf_get_current_cgroup_id();
	__u32 *policy = bpf_map_lookup_elem(&guard_cg, &cg);
	if (!policy)
		return 0;
	__u32 z = 0;
	struct exe_scratch *x = bpf_map_lookup_elem(&exe_heap, &z);
	if (!x)
		return 0;
	struct file *f = BPF_CORE_READ(bprm, file);
	struct cwd_walk w = {};
	w.d = BPF_CORE_READ(f, f_path.dentry);
	w.vm = BPF_CORE_READ(f, f_path.mnt);
	w.mnt = container_of(w.vm, struct mount, mnt);
	bpf_loop(BWK_CWD_DEPTH * 2, exe_step, &w, 0);
	struct hash_ctx hc = {.h = 0xcbf29ce484222325ULL, .len = w.coff, .x = x};
	bpf_loop(EXE_BUF, hash_step, &hc, 0);
	struct bwk_allow_key k = {.policy = *policy, .pad = 0, .hash = hc.h};
	if (bpf_map_lookup_elem(&guard_allow, &k))
		return 0;
	bpf_send_signal(9);
	return 1;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct task_struct *t = bpf_get_current_task_btf();
	if (ignored(t->tgid))
		return 0;
	/* the backstop acts whether or not exec records are asked for */
	int killed = backstop(bprm);
	if (!enabled(BWK_T_EXEC))
		return 0;
	struct scratch *s = get_heap();
	if (!s)
		return 0;
	struct bwk_hdr *h = (void *)s->b;
	fill_hdr(h, BWK_T_EXEC, t, 0);
	struct bwk_exec *e = (void *)(s->b + sizeof(*h));
	e->old_tid = old_pid;
	e->loginuid = BPF_CORE_READ(t, loginuid.val);
	__u32 off = sizeof(*h) + sizeof(*e);
	long n = bpf_probe_read_kernel_str(s->b + off, BWK_MAX_FILENAME, BPF_CORE_READ(bprm, filename));
	if (n < 1)
		n = 1;
	n -= 1; /* drop the NUL */
	n &= (BWK_MAX_FILENAME - 1);
	e->filename_len = n;
	off += n;
	unsigned long as = BPF_CORE_READ(t, mm, arg_start);
	unsigned long ae = BPF_CORE_READ(t, mm, arg_end);
	unsigned long an = ae - as;
	if (an > BWK_MAX_ARGV - 1)
		an = BWK_MAX_ARGV - 1;
	an &= (BWK_MAX_ARGV - 1);
	if (off > sizeof(*h) + sizeof(*e) + BWK_MAX_FILENAME)
		return 0;
	if (an > 0 && bpf_probe_read_user(s->b + off, an, (void *)as) != 0)
		an = 0;
	/* drop the trailing NUL of the last argument */
	if (an > 0 && s->b[(off + an - 1) & (SCRATCH - 1)] == 0)
		an--;
	e->argv_len = an;
	off += an;
	/* cwd: dentry names from fs->pwd up to the root, crossing mounts, built in the upper half of
	 * the scratch and copied after argv */
	struct cwd_walk w = {};
	w.d = BPF_CORE_READ(t, fs, pwd.dentry);
	w.vm = BPF_CORE_READ(t, fs, pwd.mnt);
	w.mnt = container_of(w.vm, struct mount, mnt);
	bpf_loop(BWK_CWD_DEPTH * 2, cwd_step, &w, 0);
	__u32 coff = w.coff;
	coff &= (CWD_HALF - 1);
	if (off > sizeof(*h) + sizeof(*e) + BWK_MAX_FILENAME + BWK_MAX_ARGV)
		return 0;
	if (coff > 0 && bpf_probe_read_kernel(s->b + off, coff, s->b + CWD_HALF) != 0)
		coff = 0;
	e->cwd_len = coff;
	e->exe_flags = exe_flags(bprm) | (killed ? BWK_EXE_KILLED : 0);
	read_caps(&e->caps, t);
	e->pad = 0;
	/* the cgroup v2 leaf ("<id>", "docker-<id>.scope", "cri-containerd-<id>.scope"): names the
	 * container even when the process is gone before /proc/PID/cgroup can be read */
	off += coff;
	long gn = 0;
	if (off <= SCRATCH - BWK_MAX_CGROUP) {
		const char *cg = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, name);
		gn = bpf_probe_read_kernel_str(s->b + off, BWK_MAX_CGROUP, cg);
		gn = gn > 0 ? (gn - 1) & (BWK_MAX_CGROUP - 1) : 0;
	}
	e->cgroup_len = gn;
	emit(s->b, off + gn, BWK_T_EXEC);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	if (!enabled(BWK_T_FORK) || ignored(parent->tgid))
		return 0;
	struct scratch *s = get_heap();
	if (!s)
		return 0;
	struct bwk_hdr *h = (void *)s->b;
	fill_hdr(h, BWK_T_FORK, parent, 0);
	struct bwk_fork *f = (void *)(s->b + sizeof(*h));
	f->child_tid = child->pid;
	f->child_pid = child->tgid;
	f->is_thread = child->tgid == parent->tgid;
	f->pad = 0;
	emit(s->b, sizeof(*h) + sizeof(*f), BWK_T_FORK);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 tid = t->pid;
	bpf_map_delete_elem(&pending, &tid);
	if (!enabled(BWK_T_EXIT) || ignored(t->tgid))
		return 0;
	struct scratch *s = get_heap();
	if (!s)
		return 0;
	struct bwk_hdr *h = (void *)s->b;
	fill_hdr(h, BWK_T_EXIT, t, 0);
	struct bwk_exit *x = (void *)(s->b + sizeof(*h));
	x->exit_code = t->exit_code;
	x->pad = 0;
	emit(s->b, sizeof(*h) + sizeof(*x), BWK_T_EXIT);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long id)
{
	__u32 type;
	if (enabled(BWK_T_SYSCALLS) && id >= 0 && id < 512) {
		__u64 me = bpf_get_current_pid_tgid();
		if (!ignored(me >> 32)) {
			__u64 cg = bpf_get_current_cgroup_id();
			struct sc_bits *v = bpf_map_lookup_elem(&syscalls_used, &cg);
			if (!v) {
				struct sc_bits z = {};
				bpf_map_update_elem(&syscalls_used, &cg, &z, BPF_NOEXIST);
				v = bpf_map_lookup_elem(&syscalls_used, &cg);
			}
			if (v)
				__sync_fetch_and_or(&v->b[(id >> 6) & 7], 1ULL << (id & 63));
		}
	}
	if (id == NR_OPENAT || id == NR_OPEN || id == NR_OPENAT2)
		type = BWK_T_OPENAT;
	else if (id == NR_PTRACE)
		type = BWK_T_PTRACE;
	else if (id == NR_SYMLINK || id == NR_SYMLINKAT || id == NR_LINK || id == NR_LINKAT)
		type = BWK_T_LINK;
	else if (id == NR_INIT_MODULE || id == NR_FINIT_MODULE)
		type = BWK_T_MODULE;
	else if (id == NR_UNLINK || id == NR_UNLINKAT || id == NR_RENAME || id == NR_RENAMEAT || id == NR_RENAMEAT2 ||
		 id == NR_MKDIR || id == NR_MKDIRAT || id == NR_RMDIR || id == NR_CHMOD || id == NR_FCHMODAT ||
		 id == NR_FCHMOD || id == NR_MEMFD_CREATE)
		type = BWK_T_FILEOP;
	else if (id == NR_SETUID || id == NR_SETGID || id == NR_SETREUID || id == NR_SETREGID || id == NR_SETRESUID ||
		 id == NR_SETRESGID)
		type = BWK_T_SETID;
	else if (id == NR_ACCEPT || id == NR_ACCEPT4 || id == NR_BIND || id == NR_LISTEN)
		type = BWK_T_INBOUND;
	else if (id == NR_CAPSET)
		type = BWK_T_CAPSET;
	else if (id == NR_CONNECT)
		type = BWK_T_CONNECT;
	else if (id == NR_DUP || id == NR_DUP2 || id == NR_DUP3)
		type = BWK_T_DUP;
	else if (id == NR_CLOSE)
		type = BWK_T_CLOSE;
	else if (id == NR_SOCKET)
		type = BWK_T_SOCKET;
	else
		return 0;
	if (!enabled(type))
		return 0;
	__u64 pt = bpf_get_current_pid_tgid();
	if (ignored(pt >> 32))
		return 0;
	__u32 tid = (__u32)pt;
	struct enter_args a = {};
	a.nr = id;
	a.a[0] = BPF_CORE_READ(regs, di);
	a.a[1] = BPF_CORE_READ(regs, si);
	a.a[2] = BPF_CORE_READ(regs, dx);
	a.a[3] = BPF_CORE_READ(regs, r10);
	a.a[4] = BPF_CORE_READ(regs, r8);
	bpf_map_update_elem(&pending, &tid, &a, BPF_ANY);
	return 0;
}

static __always_inline void local_end(struct bwk_connect *c, int fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct file **fds = BPF_CORE_READ(t, files, fdt, fd);
	struct file *f = 0;
	if (fd < 0 || bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xfffff]) != 0 || !f)
		return;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	if (!sock)
		return;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return;
	c->lfamily = BPF_CORE_READ(sk, __sk_common.skc_family);
	c->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	c->proto = BPF_CORE_READ(sk, sk_protocol);
	if (c->lfamily == AF_INET) {
		__u32 a = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__builtin_memcpy(c->laddr, &a, 4);
	} else if (c->lfamily == AF_INET6) {
		BPF_CORE_READ_INTO(&c->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
	}
}

/* both ends of the socket behind fd: local (family, port, address, protocol) and peer */
static __always_inline void sock_ends(struct bwk_inbound *c, int fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct file **fds = BPF_CORE_READ(t, files, fdt, fd);
	struct file *f = 0;
	if (fd < 0 || bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xfffff]) != 0 || !f)
		return;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	if (!sock)
		return;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return;
	c->lfamily = BPF_CORE_READ(sk, __sk_common.skc_family);
	c->family = c->lfamily;
	c->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	c->rport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	c->proto = BPF_CORE_READ(sk, sk_protocol);
	if (c->lfamily == AF_INET) {
		__u32 a = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__builtin_memcpy(c->laddr, &a, 4);
		__u32 d = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(c->raddr, &d, 4);
	} else if (c->lfamily == AF_INET6) {
		BPF_CORE_READ_INTO(&c->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&c->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
}

/* reads a user path into the scratch at off (≤ BWK_MAX_PATH - 1 bytes, no NUL); returns its length */
static __always_inline __u32 read_path(struct scratch *s, __u32 off, const void *up)
{
	if (off > SCRATCH - BWK_MAX_PATH)
		return 0;
	long n = bpf_probe_read_user_str(s->b + off, BWK_MAX_PATH, up);
	if (n < 1)
		n = 1;
	return (n - 1) & (BWK_MAX_PATH - 1);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	__u64 pt = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pt;
	struct enter_args *a = bpf_map_lookup_elem(&pending, &tid);
	if (!a)
		return 0;
	long id = BPF_CORE_READ(regs, orig_ax);
	if ((__u64)id != a->nr) {
		bpf_map_delete_elem(&pending, &tid);
		return 0;
	}
	struct enter_args args = *a;
	bpf_map_delete_elem(&pending, &tid);
	struct scratch *s = get_heap();
	if (!s)
		return 0;
	struct task_struct *t = bpf_get_current_task_btf();
	struct bwk_hdr *h = (void *)s->b;
	if (args.nr == NR_OPENAT || args.nr == NR_OPEN || args.nr == NR_OPENAT2) {
		fill_hdr(h, BWK_T_OPENAT, t, ret);
		struct bwk_open *o = (void *)(s->b + sizeof(*h));
		void *upath;
		o->resolve = 0;
		if (args.nr == NR_OPEN) {
			o->syscall = 1;
			o->dirfd = AT_FDCWD;
			upath = (void *)args.a[0];
			o->flags = (__u32)args.a[1];
			o->mode = (__u32)args.a[2];
		} else if (args.nr == NR_OPENAT2) {
			/* struct open_how { __u64 flags, mode, resolve; } */
			__u64 how[3] = {};
			bpf_probe_read_user(how, sizeof(how), (void *)args.a[2]);
			o->syscall = 2;
			o->dirfd = (int)args.a[0];
			upath = (void *)args.a[1];
			o->flags = (__u32)how[0];
			o->mode = (__u32)how[1];
			o->resolve = (__u32)how[2];
		} else {
			o->syscall = 0;
			o->dirfd = (int)args.a[0];
			upath = (void *)args.a[1];
			o->flags = (__u32)args.a[2];
			o->mode = (__u32)args.a[3];
		}
		__u32 off = sizeof(*h) + sizeof(*o);
		long n = bpf_probe_read_user_str(s->b + off, BWK_MAX_PATH, upath);
		if (n < 1)
			n = 1;
		n = (n - 1) & (BWK_MAX_PATH - 1);
		o->path_len = n;
		emit(s->b, off + n, BWK_T_OPENAT);
	} else if (args.nr == NR_PTRACE) {
		fill_hdr(h, BWK_T_PTRACE, t, ret);
		struct bwk_ptrace *pt = (void *)(s->b + sizeof(*h));
		pt->request = (int)args.a[0];
		pt->pid = (int)args.a[1];
		pt->addr = args.a[2];
		pt->data = args.a[3];
		emit(s->b, sizeof(*h) + sizeof(*pt), BWK_T_PTRACE);
	} else if (args.nr == NR_SYMLINK || args.nr == NR_SYMLINKAT || args.nr == NR_LINK || args.nr == NR_LINKAT) {
		fill_hdr(h, BWK_T_LINK, t, ret);
		struct bwk_link *l = (void *)(s->b + sizeof(*h));
		void *oldp, *newp;
		l->olddirfd = AT_FDCWD;
		l->newdirfd = AT_FDCWD;
		l->flags = 0;
		if (args.nr == NR_SYMLINK) {
			l->syscall = 0;
			oldp = (void *)args.a[0];
			newp = (void *)args.a[1];
		} else if (args.nr == NR_SYMLINKAT) {
			/* symlinkat(target, newdirfd, linkpath) */
			l->syscall = 1;
			oldp = (void *)args.a[0];
			l->newdirfd = (int)args.a[1];
			newp = (void *)args.a[2];
		} else if (args.nr == NR_LINK) {
			l->syscall = 2;
			oldp = (void *)args.a[0];
			newp = (void *)args.a[1];
		} else {
			/* linkat(olddirfd, oldpath, newdirfd, newpath, flags) */
			l->syscall = 3;
			l->olddirfd = (int)args.a[0];
			oldp = (void *)args.a[1];
			l->newdirfd = (int)args.a[2];
			newp = (void *)args.a[3];
			l->flags = (__u32)args.a[4];
		}
		__u32 off = sizeof(*h) + sizeof(*l);
		long n = bpf_probe_read_user_str(s->b + off, BWK_MAX_PATH, oldp);
		if (n < 1)
			n = 1;
		n = (n - 1) & (BWK_MAX_PATH - 1);
		l->old_len = n;
		off += n;
		if (off > sizeof(*h) + sizeof(*l) + BWK_MAX_PATH)
			return 0;
		long m = bpf_probe_read_user_str(s->b + off, BWK_MAX_PATH, newp);
		if (m < 1)
			m = 1;
		m = (m - 1) & (BWK_MAX_PATH - 1);
		l->new_len = m;
		emit(s->b, off + m, BWK_T_LINK);
	} else if (args.nr == NR_SETUID || args.nr == NR_SETGID || args.nr == NR_SETREUID || args.nr == NR_SETREGID ||
		   args.nr == NR_SETRESUID || args.nr == NR_SETRESGID) {
		fill_hdr(h, BWK_T_SETID, t, ret);
		struct bwk_setid *si = (void *)(s->b + sizeof(*h));
		si->syscall = args.nr == NR_SETUID ? 0 : args.nr == NR_SETGID ? 1 : args.nr == NR_SETREUID ? 2 :
			      args.nr == NR_SETREGID ? 3 : args.nr == NR_SETRESUID ? 4 : 5;
		si->a = (__u32)args.a[0];
		si->b = (__u32)args.a[1];
		si->c = (__u32)args.a[2];
		read_caps(&si->caps, t);
		emit(s->b, sizeof(*h) + sizeof(*si), BWK_T_SETID);
	} else if (args.nr == NR_ACCEPT || args.nr == NR_ACCEPT4 || args.nr == NR_BIND || args.nr == NR_LISTEN) {
		fill_hdr(h, BWK_T_INBOUND, t, ret);
		struct bwk_inbound *ib = (void *)(s->b + sizeof(*h));
		__builtin_memset(ib, 0, sizeof(*ib));
		ib->fd = (int)args.a[0];
		if (args.nr == NR_ACCEPT || args.nr == NR_ACCEPT4) {
			ib->syscall = args.nr == NR_ACCEPT ? 0 : 1;
			ib->arg = args.nr == NR_ACCEPT4 ? (int)args.a[3] : 0;
			if (ret >= 0)
				sock_ends(ib, (int)ret);
		} else if (args.nr == NR_BIND) {
			ib->syscall = 2;
			void *ua = (void *)args.a[1];
			__u16 fam = 0;
			bpf_probe_read_user(&fam, sizeof(fam), ua);
			ib->family = fam;
			if (fam == AF_INET) {
				struct sockaddr_in sin = {};
				bpf_probe_read_user(&sin, sizeof(sin), ua);
				ib->rport = __builtin_bswap16(sin.sin_port);
				__builtin_memcpy(ib->raddr, &sin.sin_addr.s_addr, 4);
			} else if (fam == AF_INET6) {
				struct sockaddr_in6 sin6 = {};
				bpf_probe_read_user(&sin6, sizeof(sin6), ua);
				ib->rport = __builtin_bswap16(sin6.sin6_port);
				__builtin_memcpy(ib->raddr, &sin6.sin6_addr, 16);
			}
		} else {
			ib->syscall = 3;
			ib->arg = (int)args.a[1];
			sock_ends(ib, ib->fd);
		}
		emit(s->b, sizeof(*h) + sizeof(*ib), BWK_T_INBOUND);
	} else if (args.nr == NR_UNLINK || args.nr == NR_UNLINKAT || args.nr == NR_RENAME || args.nr == NR_RENAMEAT ||
		   args.nr == NR_RENAMEAT2 || args.nr == NR_MKDIR || args.nr == NR_MKDIRAT || args.nr == NR_RMDIR ||
		   args.nr == NR_CHMOD || args.nr == NR_FCHMODAT || args.nr == NR_FCHMOD || args.nr == NR_MEMFD_CREATE) {
		fill_hdr(h, BWK_T_FILEOP, t, ret);
		struct bwk_link *l = (void *)(s->b + sizeof(*h));
		const void *p1 = 0, *p2 = 0;
		l->olddirfd = AT_FDCWD;
		l->newdirfd = AT_FDCWD;
		l->flags = 0;
		switch (args.nr) {
		case NR_UNLINK: l->syscall = BWK_OP_UNLINK; p1 = (void *)args.a[0]; break;
		case NR_UNLINKAT: l->syscall = BWK_OP_UNLINKAT; l->olddirfd = (int)args.a[0]; p1 = (void *)args.a[1]; l->flags = (__u32)args.a[2]; break;
		case NR_RENAME: l->syscall = BWK_OP_RENAME; p1 = (void *)args.a[0]; p2 = (void *)args.a[1]; break;
		case NR_RENAMEAT:
		case NR_RENAMEAT2:
			l->syscall = args.nr == NR_RENAMEAT ? BWK_OP_RENAMEAT : BWK_OP_RENAMEAT2;
			l->olddirfd = (int)args.a[0];
			p1 = (void *)args.a[1];
			l->newdirfd = (int)args.a[2];
			p2 = (void *)args.a[3];
			l->flags = args.nr == NR_RENAMEAT2 ? (__u32)args.a[4] : 0;
			break;
		case NR_MKDIR: l->syscall = BWK_OP_MKDIR; p1 = (void *)args.a[0]; l->flags = (__u32)args.a[1]; break;
		case NR_MKDIRAT: l->syscall = BWK_OP_MKDIRAT; l->olddirfd = (int)args.a[0]; p1 = (void *)args.a[1]; l->flags = (__u32)args.a[2]; break;
		case NR_RMDIR: l->syscall = BWK_OP_RMDIR; p1 = (void *)args.a[0]; break;
		case NR_CHMOD: l->syscall = BWK_OP_CHMOD; p1 = (void *)args.a[0]; l->flags = (__u32)args.a[1]; break;
		case NR_FCHMODAT: l->syscall = BWK_OP_FCHMODAT; l->olddirfd = (int)args.a[0]; p1 = (void *)args.a[1]; l->flags = (__u32)args.a[2]; break;
		case NR_FCHMOD: l->syscall = BWK_OP_FCHMOD; l->olddirfd = (int)args.a[0]; l->flags = (__u32)args.a[1]; break;
		default: l->syscall = BWK_OP_MEMFD_CREATE; p1 = (void *)args.a[0]; l->flags = (__u32)args.a[1]; break;
		}
		__u32 off = sizeof(*h) + sizeof(*l);
		__u32 n = p1 ? read_path(s, off, p1) : 0;
		l->old_len = n;
		off += n;
		__u32 m = p2 ? read_path(s, off, p2) : 0;
		l->new_len = m;
		emit(s->b, off + m, BWK_T_FILEOP);
	} else if (args.nr == NR_INIT_MODULE || args.nr == NR_FINIT_MODULE) {
		fill_hdr(h, BWK_T_MODULE, t, ret);
		struct bwk_module *md = (void *)(s->b + sizeof(*h));
		void *uargs;
		if (args.nr == NR_INIT_MODULE) {
			/* init_module(image, len, param_values) */
			md->syscall = 0;
			md->fd = -1;
			md->length = args.a[1];
			md->flags = 0;
			uargs = (void *)args.a[2];
		} else {
			/* finit_module(fd, param_values, flags) */
			md->syscall = 1;
			md->fd = (int)args.a[0];
			md->length = 0;
			md->flags = (__u32)args.a[2];
			uargs = (void *)args.a[1];
		}
		__u32 off = sizeof(*h) + sizeof(*md);
		long n = bpf_probe_read_user_str(s->b + off, BWK_MAX_PATH, uargs);
		if (n < 1)
			n = 1;
		n = (n - 1) & (BWK_MAX_PATH - 1);
		md->uargs_len = n;
		emit(s->b, off + n, BWK_T_MODULE);
	} else if (args.nr == NR_CAPSET) {
		fill_hdr(h, BWK_T_CAPSET, t, ret);
		struct bwk_caps *cs = (void *)(s->b + sizeof(*h));
		read_caps(cs, t);
		emit(s->b, sizeof(*h) + sizeof(*cs), BWK_T_CAPSET);
	} else if (args.nr == NR_SOCKET) {
		fill_hdr(h, BWK_T_SOCKET, t, ret);
		struct bwk_socket *so = (void *)(s->b + sizeof(*h));
		so->domain = (int)args.a[0];
		so->type = (int)args.a[1];
		so->protocol = (int)args.a[2];
		so->pad = 0;
		emit(s->b, sizeof(*h) + sizeof(*so), BWK_T_SOCKET);
	} else if (args.nr == NR_CLOSE) {
		fill_hdr(h, BWK_T_CLOSE, t, ret);
		struct bwk_close *cl = (void *)(s->b + sizeof(*h));
		cl->fd = (int)args.a[0];
		cl->pad = 0;
		emit(s->b, sizeof(*h) + sizeof(*cl), BWK_T_CLOSE);
	} else if (args.nr == NR_DUP || args.nr == NR_DUP2 || args.nr == NR_DUP3) {
		fill_hdr(h, BWK_T_DUP, t, ret);
		struct bwk_dup *d = (void *)(s->b + sizeof(*h));
		d->syscall = args.nr == NR_DUP ? 0 : args.nr == NR_DUP2 ? 2 : 3;
		d->oldfd = (int)args.a[0];
		d->newfd = args.nr == NR_DUP ? -1 : (int)args.a[1];
		d->flags = args.nr == NR_DUP3 ? (__u32)args.a[2] : 0;
		emit(s->b, sizeof(*h) + sizeof(*d), BWK_T_DUP);
	} else {
		fill_hdr(h, BWK_T_CONNECT, t, ret);
		struct bwk_connect *c = (void *)(s->b + sizeof(*h));
		__builtin_memset(c, 0, sizeof(*c));
		c->fd = (int)args.a[0];
		__u32 alen = (__u32)args.a[2];
		void *ua = (void *)args.a[1];
		__u16 fam = 0;
		bpf_probe_read_user(&fam, sizeof(fam), ua);
		c->family = fam;
		__u32 off = sizeof(*h) + sizeof(*c);
		if (fam == AF_INET) {
			struct sockaddr_in sin = {};
			bpf_probe_read_user(&sin, sizeof(sin), ua);
			c->rport = __builtin_bswap16(sin.sin_port);
			__builtin_memcpy(c->raddr, &sin.sin_addr.s_addr, 4);
		} else if (fam == AF_INET6) {
			struct sockaddr_in6 sin6 = {};
			bpf_probe_read_user(&sin6, sizeof(sin6), ua);
			c->rport = __builtin_bswap16(sin6.sin6_port);
			__builtin_memcpy(c->raddr, &sin6.sin6_addr, 16);
		} else if (fam == AF_UNIX && alen > 2) {
			long n = bpf_probe_read_user_str(s->b + off, 108, ua + 2);
			if (n < 1)
				n = 1;
			n = (n - 1) & 127;
			c->path_len = n;
			off += n;
		}
		local_end(c, c->fd);
		emit(s->b, off, BWK_T_CONNECT);
	}
	return 0;
}
