// SPDX-License-Identifier: Apache-2.0
/* Bulwark execguard: blocks executables outside a workload's profile BEFORE they run (#10).
 *
 * A fanotify group (FAN_CLASS_CONTENT) holds FAN_OPEN_EXEC_PERM marks on container root
 * filesystems: every overlay mounted now or later (the host's /proc/self/mountinfo is watched), or
 * what the agent names with `mark`. The kernel stops each execve (and each open_exec of an ELF
 * interpreter or a script's interpreter) on those filesystems until this helper answers; the
 * answer is made here, from allow-lists the agent sent, with no round trip to the agent per exec.
 * Only the first exec of a container whose cgroup it has not been told about is held while it asks
 * the agent (`who`), bounded by --timeout-ms.
 *
 * stdin, from the agent (one command a line; PATH is the rest of the line):
 *   policy ID ZERODRIFT     start (or replace) allow-list ID (> 0); ZERODRIFT 1: deny files of the overlay's upper layer
 *   allow ID PATH           add a path (inside the container, symlinks resolved) to the list being built
 *   commit ID               the list is complete: decisions use it from now on
 *   cgroup ID CGPATH        processes of this cgroup (v2 path, as /proc/PID/cgroup's "0::PATH") use list ID; 0 = not guarded
 *   mark PATH               guard the filesystem holding PATH too (FAN_MARK_FILESYSTEM)
 *   stats                   print a stats line now
 * stdout, to the agent:
 *   ready
 *   marked PATH | markerror ERRNO PATH
 *   who PID CGPATH          a process of an unknown cgroup is exec'ing: answer with `cgroup`
 *   deny ID PID REASON CGPATH<TAB>PATH   REASON: profile (not in the list), drift (written into the container), timeout
 *   stats allowed=N denied=N held=N timeouts=N events=N
 * An exec of an unknown cgroup not answered within --timeout-ms is allowed (--fail-closed: denied)
 * and counted. Exits on stdin EOF or SIGTERM (the marks go with the fanotify group).
 *
 * Interpreters: execve of a dynamic ELF opens its interpreter (ld-linux*.so*) with open_exec, and
 * a "#!" script opens its interpreter; such an open by the same process within 1 s after an allowed
 * exec is part of that execve and allowed with it (a script's interpreter once, then the loader).
 * Run directly (ld.so /tmp/x, sh from a denied script), they are checked like any executable.
 *
 * usage: bulwark-execguard [--timeout-ms 2000] [--fail-closed] [--no-overlays]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define MAX_POLICIES 4096
#define MAX_HELD 1024
#define CG_BUCKETS 4096
#define PID_SLOTS 8192

static int fan = -1;
static long timeout_ms = 2000;
static int fail_closed = 0;
static unsigned long n_allowed, n_denied, n_held, n_timeouts, n_events;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* ---- allow-lists: sorted string arrays, binary search ---- */
struct policy {
	char **paths;
	size_t n, cap;
	int zerodrift;
	int committed;
	/* being built */
	char **bpaths;
	size_t bn, bcap;
	int bzerodrift;
};
static struct policy policies[MAX_POLICIES];

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int policy_allows(struct policy *p, const char *path)
{
	size_t lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(p->paths[mid], path);
		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* ---- cgroup path -> policy id (chained hash) ---- */
struct cgent {
	char *path;
	int id;
	struct cgent *next;
};
static struct cgent *cgtab[CG_BUCKETS];

static struct cgent *cg_find(const char *path)
{
	for (struct cgent *e = cgtab[hash_str(path) % CG_BUCKETS]; e; e = e->next)
		if (strcmp(e->path, path) == 0)
			return e;
	return NULL;
}

static void cg_set(const char *path, int id)
{
	struct cgent *e = cg_find(path);
	if (e) {
		e->id = id;
		return;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->path = strdup(path);
	e->id = id;
	uint64_t b = hash_str(path) % CG_BUCKETS;
	e->next = cgtab[b];
	cgtab[b] = e;
}

/* ---- per-process interpreter chain ---- */
struct pidslot {
	int pid;
	uint64_t until;
	int policy;
	int after_script; /* the allowed exec was a "#!" script: its interpreter may follow */
};
static struct pidslot pids[PID_SLOTS];

/* ---- overlay upper dirs by device (zero-drift) ---- */
struct ovl {
	dev_t dev;
	char *upper;
};
static struct ovl *ovls;
static size_t n_ovls;

/* mountinfo escapes spaces etc. as \ooo */
static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else
			*o++ = *s;
	}
	*o = 0;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int mark_path(const char *path, int quiet)
{
	if (fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_EXEC_PERM, AT_FDCWD, path) < 0) {
		say("markerror %d %s", errno, path);
		return -1;
	}
	if (!quiet)
		say("marked %s", path);
	return 0;
}

/* Reads the host's mountinfo: remembers each overlay's upper dir by device, and marks new overlays. */
static void scan_mounts(int mark_overlays)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	struct ovl *nv = NULL;
	size_t nn = 0;
	while (getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		unsigned maj, min;
		char mp[PATH_MAX];
		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, mp) != 3)
			continue;
		char *sep = strstr(line, " - ");
		if (!sep || strncmp(sep, " - overlay ", 11) != 0)
			continue;
		char *super = strchr(sep + 11, ' ');
		if (!super)
			continue;
		char *up = strstr(super, "upperdir=");
		char upper[PATH_MAX] = "";
		if (up) {
			up += 9;
			size_t k = strcspn(up, ",\n");
			if (k >= sizeof(upper))
				k = sizeof(upper) - 1;
			memcpy(upper, up, k);
			upper[k] = 0;
			unescape(upper);
		}
		unescape(mp);
		dev_t d = makedev(maj, min);
		int known = 0;
		for (size_t i = 0; i < n_ovls; i++)
			if (ovls[i].dev == d)
				known = 1;
		struct ovl *t = realloc(nv, (nn + 1) * sizeof(*nv));
		if (!t)
			break;
		nv = t;
		nv[nn].dev = d;
		nv[nn].upper = strdup(upper);
		nn++;
		if (mark_overlays && !known)
			mark_path(mp, 0);
	}
	free(line);
	fclose(f);
	for (size_t i = 0; i < n_ovls; i++)
		free(ovls[i].upper);
	free(ovls);
	ovls = nv;
	n_ovls = nn;
}

/* 1 when PATH (inside the container) of the file on device DEV is in that overlay's upper layer. */
static int in_upper(dev_t dev, const char *path)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n_ovls; i++) {
			if (ovls[i].dev != dev)
				continue;
			if (!ovls[i].upper[0])
				return 0;
			char p[PATH_MAX * 2];
			snprintf(p, sizeof(p), "%s%s", ovls[i].upper, path);
			struct stat st;
			return lstat(p, &st) == 0 && !S_ISDIR(st.st_mode);
		}
		scan_mounts(0);
	}
	return 0;
}

/* the cgroup v2 path of a process ("0::/path"), or "" */
static void cgroup_of(int pid, char *out, size_t n)
{
	char p[64], buf[4096];
	out[0] = 0;
	snprintf(p, sizeof(p), "/proc/%d/cgroup", pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return;
	buf[r] = 0;
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, "0::", 3) == 0) {
			size_t k = strcspn(l + 3, "\n");
			if (k >= n)
				k = n - 1;
			memcpy(out, l + 3, k);
			out[k] = 0;
			return;
		}
	}
}

static int is_loader(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	return strncmp(b, "ld-", 3) == 0 && strstr(b, ".so") != NULL;
}

static void respond(int fd, uint32_t verdict)
{
	struct fanotify_response r = {.fd = fd, .response = verdict};
	if (write(fan, &r, sizeof(r)) < 0 && errno != ENOENT)
		fprintf(stderr, "execguard: response: %s\n", strerror(errno));
}

struct held {
	int fd, pid;
	uint64_t deadline;
	char cg[1024];
};
static struct held held[MAX_HELD];
static int n_heldq;

/* Decides an event of a process whose cgroup maps to policy ID: 1 allow, 0 deny. */
static int decide(int fd, int pid, int id, const char *cg)
{
	char lp[64], path[PATH_MAX];
	snprintf(lp, sizeof(lp), "/proc/self/fd/%d", fd);
	ssize_t k = readlink(lp, path, sizeof(path) - 1);
	if (k < 0)
		return 1;
	path[k] = 0;
	if (id <= 0 || id >= MAX_POLICIES || !policies[id].committed)
		return 1;
	struct policy *p = &policies[id];
	struct pidslot *s = &pids[pid % PID_SLOTS];
	uint64_t now = now_ms();
	int chained = s->pid == pid && s->policy == id && now <= s->until &&
		      (s->after_script || is_loader(path));
	const char *reason = NULL;
	struct stat st;
	if (!chained) {
		if (!policy_allows(p, path))
			reason = "profile";
		else if (p->zerodrift && fstat(fd, &st) == 0 && in_upper(st.st_dev, path))
			reason = "drift";
	}
	if (reason) {
		s->pid = 0;
		n_denied++;
		say("deny %d %d %s %s\t%s", id, pid, reason, cg, path);
		return 0;
	}
	/* allowed: what may follow within this execve (a script's interpreter, the ELF loader) */
	char magic[2] = {0, 0};
	int script = pread(fd, magic, 2, 0) == 2 && magic[0] == '#' && magic[1] == '!';
	if (!chained || script) {
		s->pid = pid;
		s->policy = id;
		s->until = now + 1000;
		s->after_script = script;
	} else if (s->after_script)
		s->after_script = 0; /* the interpreter came: only the loader may follow now */
	n_allowed++;
	return 1;
}

static void finish_held(void)
{
	uint64_t now = now_ms();
	int j = 0;
	for (int i = 0; i < n_heldq; i++) {
		struct held *h = &held[i];
		struct cgent *e = cg_find(h->cg);
		if (e) {
			respond(h->fd, decide(h->fd, h->pid, e->id, h->cg) ? FAN_ALLOW : FAN_DENY);
			close(h->fd);
			continue;
		}
		if (now >= h->deadline) {
			n_timeouts++;
			if (fail_closed) {
				n_denied++;
				say("deny 0 %d timeout %s\t", h->pid, h->cg);
			} else
				n_allowed++;
			respond(h->fd, fail_closed ? FAN_DENY : FAN_ALLOW);
			close(h->fd);
			continue;
		}
		held[j++] = *h;
	}
	n_heldq = j;
}

static void on_event(struct fanotify_event_metadata *m)
{
	n_events++;
	if (m->fd < 0)
		return;
	if (!(m->mask & FAN_OPEN_EXEC_PERM)) {
		close(m->fd);
		return;
	}
	char cg[1024];
	cgroup_of(m->pid, cg, sizeof(cg));
	struct cgent *e = cg[0] ? cg_find(cg) : NULL;
	if (e || !cg[0]) {
		respond(m->fd, decide(m->fd, m->pid, e ? e->id : 0, cg) ? FAN_ALLOW : FAN_DENY);
		close(m->fd);
		return;
	}
	if (n_heldq >= MAX_HELD) {
		n_timeouts++;
		respond(m->fd, fail_closed ? FAN_DENY : FAN_ALLOW);
		close(m->fd);
		return;
	}
	/* ask once per cgroup: a second exec of the same unknown cgroup waits for the same answer */
	int asked = 0;
	for (int i = 0; i < n_heldq; i++)
		if (strcmp(held[i].cg, cg) == 0)
			asked = 1;
	struct held *h = &held[n_heldq++];
	h->fd = m->fd;
	h->pid = m->pid;
	h->deadline = now_ms() + (uint64_t)timeout_ms;
	snprintf(h->cg, sizeof(h->cg), "%s", cg);
	n_held++;
	if (!asked)
		say("who %d %s", m->pid, cg);
}

static void command(char *l)
{
	size_t n = strlen(l);
	while (n && (l[n - 1] == '\n' || l[n - 1] == '\r'))
		l[--n] = 0;
	int id, zd, off = 0;
	if (sscanf(l, "policy %d %d", &id, &zd) == 2) {
		if (id <= 0 || id >= MAX_POLICIES)
			return;
		struct policy *p = &policies[id];
		for (size_t i = 0; i < p->bn; i++)
			free(p->bpaths[i]);
		p->bn = 0;
		p->bzerodrift = zd;
	} else if (sscanf(l, "allow %d %n", &id, &off) == 1 && off > 0) {
		if (id <= 0 || id >= MAX_POLICIES)
			return;
		struct policy *p = &policies[id];
		if (p->bn == p->bcap) {
			size_t c = p->bcap ? p->bcap * 2 : 64;
			char **t = realloc(p->bpaths, c * sizeof(*t));
			if (!t)
				return;
			p->bpaths = t;
			p->bcap = c;
		}
		p->bpaths[p->bn++] = strdup(l + off);
	} else if (sscanf(l, "commit %d", &id) == 1) {
		if (id <= 0 || id >= MAX_POLICIES)
			return;
		struct policy *p = &policies[id];
		for (size_t i = 0; i < p->n; i++)
			free(p->paths[i]);
		free(p->paths);
		qsort(p->bpaths, p->bn, sizeof(char *), cmpstr);
		p->paths = p->bpaths;
		p->n = p->bn;
		p->cap = p->bcap;
		p->bpaths = NULL;
		p->bn = p->bcap = 0;
		p->zerodrift = p->bzerodrift;
		p->committed = 1;
	} else if (sscanf(l, "cgroup %d %n", &id, &off) == 1 && off > 0) {
		cg_set(l + off, id);
		finish_held();
	} else if (strncmp(l, "mark ", 5) == 0) {
		mark_path(l + 5, 0);
	} else if (strcmp(l, "stats") == 0) {
		say("stats allowed=%lu denied=%lu held=%lu timeouts=%lu events=%lu", n_allowed, n_denied, n_held,
		    n_timeouts, n_events);
	} else if (n) {
		fprintf(stderr, "execguard: unknown command: %s\n", l);
	}
}

static volatile sig_atomic_t stop;
static void on_term(int s) { (void)s; stop = 1; }

int main(int argc, char **argv)
{
	int overlays = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc)
			timeout_ms = atol(argv[++i]);
		else if (strcmp(argv[i], "--fail-closed") == 0)
			fail_closed = 1;
		else if (strcmp(argv[i], "--no-overlays") == 0)
			overlays = 0;
		else {
			fprintf(stderr, "usage: bulwark-execguard [--timeout-ms N] [--fail-closed] [--no-overlays]\n");
			return 2;
		}
	}
	struct sigaction sa = {.sa_handler = on_term};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_UNLIMITED_QUEUE | FAN_UNLIMITED_MARKS,
			    O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (fan < 0) {
		fprintf(stderr, "execguard: fanotify_init: %s (needs CAP_SYS_ADMIN)\n", strerror(errno));
		return 1;
	}
	scan_mounts(overlays);
	int mfd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	say("ready");
	char *buf = malloc(1 << 16);
	size_t have = 0;
	char ev[8192] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	while (!stop) {
		struct pollfd pf[3] = {
			{.fd = fan, .events = POLLIN},
			{.fd = 0, .events = POLLIN},
			{.fd = mfd, .events = POLLPRI},
		};
		int r = poll(pf, mfd >= 0 ? 3 : 2, n_heldq ? 20 : 1000);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[0].revents & POLLIN) {
			ssize_t len = read(fan, ev, sizeof(ev));
			if (len > 0) {
				struct fanotify_event_metadata *m = (void *)ev;
				for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len))
					on_event(m);
			}
		}
		if (pf[1].revents & (POLLIN | POLLHUP)) {
			ssize_t k = read(0, buf + have, (1 << 16) - 1 - have);
			if (k <= 0)
				break;
			have += (size_t)k;
			buf[have] = 0;
			char *s = buf, *nl;
			while ((nl = memchr(s, '\n', have - (size_t)(s - buf)))) {
				*nl = 0;
				command(s);
				s = nl + 1;
			}
			have -= (size_t)(s - buf);
			memmove(buf, s, have);
			if (have >= (1 << 16) - 1)
				have = 0; /* an over-long line: dropped */
		}
		if (mfd >= 0 && (pf[2].revents & (POLLPRI | POLLERR)))
			scan_mounts(overlays);
		if (n_heldq)
			finish_held();
	}
	/* answer what is held before leaving (the group's close allows the rest) */
	for (int i = 0; i < n_heldq; i++) {
		respond(held[i].fd, FAN_ALLOW);
		close(held[i].fd);
	}
	say("stats allowed=%lu denied=%lu held=%lu timeouts=%lu events=%lu", n_allowed, n_denied, n_held, n_timeouts,
	    n_events);
	return 0;
}
