// SPDX-License-Identifier: Apache-2.0
/* Bulwark sensor loader: loads and attaches sensor.bpf.c (libbpf skeleton) and writes the ring
 * buffer's records to stdout (format: sensor.h). A BWK_T_META record comes first; a BWK_T_STATS
 * record (per-type events and drops, summed over CPUs) every --stats-ms and on SIGUSR1.
 * Exits 0 on SIGTERM/SIGINT or when stdin reaches EOF; diagnostics go to stderr. Lines on stdin
 * command the exec backstop (guard/unguard/allow/clear, sensor.h).
 *
 * usage: bulwark-sensor [--ignore-pid PID] [--types exec,fork,exit,openat,connect,dup,close,socket,ptrace,link,module,syscalls,fileop,setid,inbound,capset] [--stats-ms N] [--batch-ms N]
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "sensor.h"
#include "sensor.skel.h"

static volatile sig_atomic_t stop, want_stats;
static void on_term(int s) { (void)s; stop = 1; }
static void on_usr1(int s) { (void)s; want_stats = 1; }

static int print_libbpf(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	if (lvl == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int write_all(const void *p, size_t n)
{
	if (fwrite(p, 1, n, stdout) != n) {
		stop = 1;
		return -1;
	}
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	return write_all(data, size) ? -1 : 0;
}

static long long now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void hdr_init(struct bwk_hdr *h, unsigned short type, unsigned int len)
{
	memset(h, 0, sizeof(*h));
	h->version = BWK_VERSION;
	h->type = type;
	h->len = len;
	h->ts = now_ns(CLOCK_BOOTTIME);
	h->tid = h->pid = getpid();
	strncpy(h->comm, "bulwark-sensor", sizeof(h->comm) - 1);
}

static void write_stats(struct sensor_bpf *skel)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bwk_counter *vals = calloc(ncpu, sizeof(*vals));
	struct { struct bwk_hdr h; struct bwk_stats s; } rec;
	if (!vals)
		return;
	hdr_init(&rec.h, BWK_T_STATS, sizeof(rec));
	memset(&rec.s, 0, sizeof(rec.s));
	rec.s.ntypes = BWK_T_NTYPES;
	int fd = bpf_map__fd(skel->maps.counters);
	for (unsigned int t = 0; t < BWK_T_NTYPES; t++) {
		if (bpf_map_lookup_elem(fd, &t, vals) != 0)
			continue;
		for (int c = 0; c < ncpu; c++) {
			rec.s.c[t].events += vals[c].events;
			rec.s.c[t].drops += vals[c].drops;
		}
	}
	free(vals);
	write_all(&rec, sizeof(rec));
	fflush(stdout);
}

/* what each cgroup's syscall set was when last sent: a record goes out only when it grew */
#define SC_CACHE 16384
static struct {
	unsigned long long cg;
	unsigned long long b[8];
	int used;
} sc_cache[SC_CACHE];

static void write_syscalls(struct sensor_bpf *skel)
{
	int fd = bpf_map__fd(skel->maps.syscalls_used);
	unsigned long long key = 0, next;
	int first = 1;
	struct { struct bwk_hdr h; struct bwk_syscalls s; } rec;
	while (bpf_map_get_next_key(fd, first ? NULL : &key, &next) == 0) {
		first = 0;
		key = next;
		struct bwk_syscalls v;
		if (bpf_map_lookup_elem(fd, &key, &v) != 0)
			continue;
		unsigned int slot = (unsigned int)((key * 0x9E3779B97F4A7C15ULL) >> 40) % SC_CACHE;
		int i;
		for (i = 0; i < SC_CACHE; i++, slot = (slot + 1) % SC_CACHE)
			if (!sc_cache[slot].used || sc_cache[slot].cg == key)
				break;
		if (i == SC_CACHE)
			slot = (unsigned int)(key % SC_CACHE); /* full: overwrite (a record may be repeated) */
		if (sc_cache[slot].used && sc_cache[slot].cg == key && !memcmp(sc_cache[slot].b, v.bits, sizeof(v.bits)))
			continue;
		sc_cache[slot].used = 1;
		sc_cache[slot].cg = key;
		memcpy(sc_cache[slot].b, v.bits, sizeof(v.bits));
		hdr_init(&rec.h, BWK_T_SYSCALLS, sizeof(rec));
		rec.h.cgroup_id = key;
		rec.s = v;
		write_all(&rec, sizeof(rec));
	}
}

/* the exec backstop's commands on stdin (sensor.h): one line each; unknown lines are reported */
static void guard_command(struct sensor_bpf *skel, char *line)
{
	char cmd[16];
	unsigned long long a = 0, b = 0;
	int n = sscanf(line, "%15s %llu %llx", cmd, &a, &b);
	if (n >= 2 && !strcmp(cmd, "guard")) {
		/* guard CGROUP_ID POLICY: the policy is decimal (the third field read above as hex) */
		unsigned long long cg = a;
		unsigned int policy = 0;
		if (sscanf(line, "%*s %*llu %u", &policy) != 1 || !policy)
			goto bad;
		if (bpf_map__update_elem(skel->maps.guard_cg, &cg, sizeof(cg), &policy, sizeof(policy), BPF_ANY))
			fprintf(stderr, "bulwark-sensor: guard %llu: %s\n", cg, strerror(errno));
	} else if (n >= 2 && !strcmp(cmd, "unguard")) {
		unsigned long long cg = a;
		bpf_map__delete_elem(skel->maps.guard_cg, &cg, sizeof(cg), 0);
	} else if (n == 3 && !strcmp(cmd, "allow")) {
		struct bwk_allow_key k = {.policy = (unsigned int)a, .pad = 0, .hash = b};
		unsigned char one = 1;
		if (bpf_map__update_elem(skel->maps.guard_allow, &k, sizeof(k), &one, sizeof(one), BPF_ANY))
			fprintf(stderr, "bulwark-sensor: allow %llu: %s\n", a, strerror(errno));
	} else if (n >= 2 && !strcmp(cmd, "clear")) {
		struct bwk_allow_key k, next;
		/* collect first, delete after: deleting while iterating restarts the walk */
		static struct bwk_allow_key doomed[4096];
		for (;;) {
			int cnt = 0, first = 1;
			while (cnt < 4096 &&
			       !bpf_map__get_next_key(skel->maps.guard_allow, first ? NULL : &k, &next, sizeof(next))) {
				first = 0;
				k = next;
				if (next.policy == (unsigned int)a)
					doomed[cnt++] = next;
			}
			for (int i = 0; i < cnt; i++)
				bpf_map__delete_elem(skel->maps.guard_allow, &doomed[i], sizeof(doomed[i]), 0);
			if (cnt < 4096)
				break;
		}
	} else {
	bad:
		fprintf(stderr, "bulwark-sensor: unknown command: %s\n", line);
	}
}

static unsigned long long parse_types(const char *s)
{
	static const char *names[BWK_T_NTYPES] = {"meta", "exec", "fork", "exit", "openat", "connect", "dup", "close", "socket", "ptrace", "link", "module", "syscalls", "fileop", "setid", "inbound", "capset"};
	unsigned long long m = 0;
	char *dup = strdup(s), *save = NULL;
	for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int found = 0;
		for (int t = 1; t < BWK_T_NTYPES; t++)
			if (!strcmp(tok, names[t])) {
				m |= 1ULL << t;
				found = 1;
			}
		if (!found) {
			fprintf(stderr, "bulwark-sensor: unknown type %s\n", tok);
			exit(2);
		}
	}
	free(dup);
	return m;
}

int main(int argc, char **argv)
{
	unsigned int ignore = 0;
	unsigned long long mask = ~0ULL;
	long stats_ms = 1000;
	/* records other than exec are delivered every batch_ms (BPF_RB_NO_WAKEUP, a timed poll):
	 * a few large writes instead of one per record keep the loader's and the reader's wake-ups
	 * (and their CPU) low at any event rate; exec wakes the loader at once. 0: every record wakes it */
	long batch_ms = 5;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ignore-pid") && i + 1 < argc)
			ignore = (unsigned int)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--types") && i + 1 < argc)
			mask = parse_types(argv[++i]);
		else if (!strcmp(argv[i], "--stats-ms") && i + 1 < argc)
			stats_ms = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--batch-ms") && i + 1 < argc)
			batch_ms = strtol(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: %s [--ignore-pid PID] [--types exec,fork,exit,openat,connect,dup,close,socket,ptrace,link,module,syscalls,fileop,setid,inbound,capset] [--stats-ms N] [--batch-ms N]\n", argv[0]);
			return 2;
		}
	}
	libbpf_set_print(print_libbpf);
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {0};
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	static char obuf[1 << 20];
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));

	struct sensor_bpf *skel = sensor_bpf__open();
	if (!skel) {
		fprintf(stderr, "bulwark-sensor: open failed: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->self_tgid = getpid();
	skel->rodata->ignore_tgid = ignore;
	skel->rodata->enabled_mask = mask;
	skel->rodata->batch_wakeup = batch_ms > 0;
	int err = sensor_bpf__load(skel);
	if (!err)
		err = sensor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "bulwark-sensor: load/attach failed: %s\n", strerror(-err));
		sensor_bpf__destroy(skel);
		return 1;
	}
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(skel->maps.rb), on_record, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "bulwark-sensor: ring buffer: %s\n", strerror(errno));
		sensor_bpf__destroy(skel);
		return 1;
	}
	struct { struct bwk_hdr h; struct bwk_meta m; } meta;
	hdr_init(&meta.h, BWK_T_META, sizeof(meta));
	meta.m.boot_to_realtime_ns = now_ns(CLOCK_REALTIME) - now_ns(CLOCK_BOOTTIME);
	meta.m.loader_pid = getpid();
	meta.m.ring_bytes = bpf_map__max_entries(skel->maps.rb);
	meta.m.enabled_mask = mask;
	write_all(&meta, sizeof(meta));
	fflush(stdout);
	fprintf(stderr, "bulwark-sensor: attached (pid %d)\n", getpid());

	static char cmdbuf[4096];
	size_t cmdlen = 0;
	long long last_stats = now_ns(CLOCK_MONOTONIC);
	while (!stop) {
		/* wait for the ring (a wake-up: exec, or any record unbatched) or a command on stdin, at
		 * most batch_ms; then drain the ring, what arrived without a wake-up included */
		struct pollfd w[2] = {{.fd = ring_buffer__epoll_fd(rb), .events = POLLIN}, {.fd = 0, .events = POLLIN}};
		if (poll(w, 2, batch_ms > 0 ? (int)batch_ms : 100) < 0 && errno != EINTR) {
			fprintf(stderr, "bulwark-sensor: poll: %s\n", strerror(errno));
			break;
		}
		int n = ring_buffer__consume(rb);
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "bulwark-sensor: ring: %s\n", strerror(-n));
			break;
		}
		long long t = now_ns(CLOCK_MONOTONIC);
		if (want_stats || (stats_ms > 0 && t - last_stats >= stats_ms * 1000000LL)) {
			want_stats = 0;
			last_stats = t;
			if ((mask >> BWK_T_SYSCALLS) & 1)
				write_syscalls(skel);
			write_stats(skel);
		}
		if (fflush(stdout) != 0)
			break;
		struct pollfd p = {.fd = 0, .events = POLLIN};
		if (poll(&p, 1, 0) > 0) {
			if (p.revents & POLLIN) {
				ssize_t r = read(0, cmdbuf + cmdlen, sizeof(cmdbuf) - 1 - cmdlen);
				if (r <= 0)
					break;
				cmdlen += r;
				cmdbuf[cmdlen] = 0;
				char *line = cmdbuf, *nl;
				while ((nl = strchr(line, '\n'))) {
					*nl = 0;
					if (*line)
						guard_command(skel, line);
					line = nl + 1;
				}
				cmdlen = strlen(line);
				memmove(cmdbuf, line, cmdlen + 1);
				if (cmdlen == sizeof(cmdbuf) - 1)
					cmdlen = 0; /* an overlong line: dropped */
			} else if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
				break;
		}
	}
	if (!ferror(stdout)) {
		if ((mask >> BWK_T_SYSCALLS) & 1)
			write_syscalls(skel);
		write_stats(skel);
	}
	ring_buffer__free(rb);
	sensor_bpf__destroy(skel);
	fprintf(stderr, "bulwark-sensor: stopped\n");
	return 0;
}
