// SPDX-License-Identifier: GPL-2.0
/*
 * cowbench - the cost of cowdev's faults beside the kernel's own memory,
 * every kind measured in the same run of the same machine (issue 20).
 *
 * Cases (-c picks some; default all):
 *  1 first write to a hole, one store per page: cowdev MAP_SHARED (with
 *    the pre-zeroed reserve full - zero_reserve raised to the pages of the
 *    run and waited for - and empty, zero_reserve 0, when the module has
 *    the parameter), anonymous memory with THP as the system has
 *    it and with MADV_NOHUGEPAGE, shmem (memfd), userfaultfd served by a
 *    handler thread with UFFDIO_ZEROPAGE and with UFFDIO_COPY (at most the
 *    first -u pages of the region: a round trip to the handler costs
 *    milliseconds under TCG); 1, 16 and 256 MiB (-q: 1 and 16);
 *  2 read of a hole: cowdev, anonymous (both THP settings), shmem;
 *  3 re-read of a resident object after munmap + mmap (fault-around):
 *    cowdev vs shmem;
 *  4 COW: write every page of a view after a clone, vs write every page of
 *    anonymous memory in a child after fork() (only the writes are timed);
 *  5 growth: clone time against resident pages, fault cost against object
 *    size (sparse objects, a fixed number of pages touched), each with a
 *    verdict: flat, linear or worse;
 *  6 scaling: 1 and 2 threads writing disjoint pages of one view (and of
 *    one anonymous mapping); cowdev with the reserve as loaded, and
 *    empty: the zeroer on the second CPU makes one thread faster, and
 *    leaves the two threads no CPU to gain;
 *  7 memory: module metadata bytes per resident page (MemFree and Slab of
 *    /proc/meminfo before and after N pages become resident).
 *
 * Each repetition runs every kind of a case once, in turn (A B C A B C...),
 * so that a slow minute of a shared host hits all kinds alike.  Reported:
 * the median and the spread (min..max) of ns per page, faults per page
 * (the task's minflt and, for cowdev, the module's counters), and the
 * per-repetition ratios cowdev / peer with their spread.  Lines starting
 * "ratio" are for scripts (scripts/bench); -j FILE writes everything as
 * JSON.  Run as root with the module loaded (scripts/bench does it).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/userfaultfd.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libcowdev.h"

#define MAX_REPS	32
#define MAX_KINDS	8
#define MAX_RATIOS	16
#define MAX_GROUPS	32
#define MAX_POINTS	8
#define MIB		(1024UL * 1024)

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define ZERO_RESERVE	"/sys/module/cowdev/parameters/zero_reserve"

static size_t ps;
static int reps = 5;
static size_t npages = 4096;
static size_t uffd_max = 1024;	/* pages a userfaultfd run touches, at most */
static bool quick;

/* ---- measuring ---------------------------------------------------------- */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void faults(long *min, long *maj)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*min = ru.ru_minflt;
	*maj = ru.ru_majflt;
}

/* The pre-zeroed reserve's counters (sysfs); absent on modules without it. */
enum { K_ZEROED_ALLOCS, K_INLINE_ZEROES, NR_KNOBS };
static const char *const knob_name[NR_KNOBS] = {
	"zeroed_allocs", "inline_zeroes",
};

static bool have_reserve;	/* zero_reserve and its counters exist */

/* One run of one kind: what it cost, per page. */
struct sample {
	double ns;		/* ns per page of the timed loop */
	double minflt;		/* the task's minor faults per page */
	double majflt;
	bool have_st;		/* cowdev: module counters of the view */
	struct cowdev_stats st;	/* deltas over the timed loop */
	bool have_knobs;
	uint64_t knob[NR_KNOBS];	/* deltas over the timed loop */
	double extra;		/* a second time a kind may report (clone) */
};

/* Counters and clocks around the timed part of a run. */
struct meter {
	double t;
	long min, maj;
	int fd;			/* a view whose counters to take, or -1 */
	struct cowdev_stats st;
	uint64_t knob[NR_KNOBS];
};

static void knobs_read(uint64_t *v)
{
	int i;

	for (i = 0; i < NR_KNOBS; i++)
		if (cowdev_sysfs_read(knob_name[i], &v[i]))
			v[i] = 0;
}

/*
 * Start timing.  The zeroer first finishes the refill an earlier step
 * (the setup of this kind, the kind before) left it: its clearing would
 * otherwise run beside the timed part, on the other vCPU's host thread.
 */
static void meter_start(struct meter *m, int fd)
{
	if (have_reserve)
		cowdev_reserve_settle(10000);
	m->fd = fd;
	if (fd >= 0)
		cowdev_get_stats(fd, &m->st);
	if (have_reserve)
		knobs_read(m->knob);
	faults(&m->min, &m->maj);
	m->t = now_ns();
}

#define ST_DELTA(f)	(s->st.f = st.f - m->st.f)

static void meter_stop(struct meter *m, struct sample *s, size_t pages)
{
	double t = now_ns() - m->t;
	struct cowdev_stats st;
	uint64_t k[NR_KNOBS];
	long min, maj;
	int i;

	faults(&min, &maj);
	s->ns = t / pages;
	s->minflt = (double)(min - m->min) / pages;
	s->majflt = (double)(maj - m->maj) / pages;
	s->have_st = m->fd >= 0 && !cowdev_get_stats(m->fd, &st);
	if (s->have_st) {
		ST_DELTA(faults);
		ST_DELTA(map_pages_calls);
		ST_DELTA(map_pages_mapped);
		ST_DELTA(mkwrite);
		ST_DELTA(zero_maps);
		ST_DELTA(demand_allocs);
		ST_DELTA(cow_copies);
		ST_DELTA(cow_reuses);
	}
	s->have_knobs = have_reserve;
	if (have_reserve) {
		knobs_read(k);
		for (i = 0; i < NR_KNOBS; i++)
			s->knob[i] = k[i] - m->knob[i];
	}
}

/* As the kernel's barrier(): each access below is made, in order. */
static inline void barrier(void)
{
	asm volatile("" ::: "memory");
}

/* One store to every @stride-th page of @pages pages: one fault each. */
static void touch_write_stride(char *p, size_t pages, size_t stride)
{
	size_t i;

	for (i = 0; i < pages; i++) {
		p[i * stride * ps] = 1;
		barrier();
	}
}

static void touch_write(char *p, size_t pages)
{
	touch_write_stride(p, pages, 1);
}

static void touch_read(const char *p, size_t pages)
{
	char sink = 0;
	size_t i;

	for (i = 0; i < pages; i++) {
		sink += p[i * ps];
		barrier();
	}
	asm volatile("" : : "r" (sink));
}

/* ---- statistics --------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct spread {
	double med, min, max;
};

static struct spread spread_of(const double *v, int n)
{
	struct spread s = { NAN, NAN, NAN };
	double t[MAX_REPS];

	if (n <= 0)
		return s;
	memcpy(t, v, n * sizeof(*v));
	qsort(t, n, sizeof(*t), cmp_double);
	s.med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	s.min = t[0];
	s.max = t[n - 1];
	return s;
}

/* ---- the kinds ---------------------------------------------------------- */

struct group;
struct kind {
	const char *name;
	/* 0 measured, 1 skipped (why set), -1 failed */
	int (*run)(const struct group *g, struct kind *k, struct sample *s);
	int mode;		/* a kind-specific variant */
	const char *why;	/* why skipped */
	bool reserve_full;	/* wait for a full reserve before each run */
	bool reserve_empty;	/* zero_reserve 0 for each run */
	int nrep;
	struct sample s[MAX_REPS];
};

struct group {
	int cas;		/* case number, 1-7 */
	char id[32];		/* "write-16M": scripts key on it */
	char title[64];
	size_t pages;
	int nkinds;
	struct kind k[MAX_KINDS];
	int nratios;
	int ratio[MAX_RATIOS][2];	/* kind indexes: numerator, peer */
};

static struct group groups[MAX_GROUPS];
static int ngroups;

static int die_errno(const char *what)
{
	fprintf(stderr, "cowbench: %s: %s\n", what, strerror(errno));
	return -1;
}

/* A new view of @pages pages mapped MAP_SHARED; the fd into *@fd. */
static char *cowdev_map(size_t pages, int *fd)
{
	char *p;

	*fd = cowdev_open();
	if (*fd < 0)
		return NULL;
	if (cowdev_set_size(*fd, (uint64_t)pages * ps)) {
		close(*fd);
		return NULL;
	}
	p = mmap(NULL, pages * ps, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (p == MAP_FAILED) {
		close(*fd);
		return NULL;
	}
	return p;
}

static char *anon_map(size_t pages, bool nohuge)
{
	char *p = mmap(NULL, pages * ps, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (nohuge && madvise(p, pages * ps, MADV_NOHUGEPAGE)) {
		munmap(p, pages * ps);
		return NULL;
	}
	return p;
}

static char *shmem_map(size_t pages, int *fd)
{
	char *p;

	*fd = memfd_create("cowbench", MFD_CLOEXEC);
	if (*fd < 0)
		return NULL;
	if (ftruncate(*fd, pages * ps)) {
		close(*fd);
		return NULL;
	}
	p = mmap(NULL, pages * ps, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (p == MAP_FAILED) {
		close(*fd);
		return NULL;
	}
	return p;
}

enum { TOUCH_WRITE, TOUCH_READ };

/* mode: TOUCH_WRITE or TOUCH_READ of every page of a new view. */
static int run_cowdev(const struct group *g, struct kind *k, struct sample *s)
{
	struct meter m;
	char *p;
	int fd;

	p = cowdev_map(g->pages, &fd);
	if (!p)
		return die_errno("cowdev view");
	meter_start(&m, fd);
	if (k->mode == TOUCH_WRITE)
		touch_write(p, g->pages);
	else
		touch_read(p, g->pages);
	meter_stop(&m, s, g->pages);
	munmap(p, g->pages * ps);
	close(fd);
	return 0;
}

/* mode: bit 0 read (else write), bit 1 MADV_NOHUGEPAGE. */
static int run_anon(const struct group *g, struct kind *k, struct sample *s)
{
	char *p = anon_map(g->pages, k->mode & 2);
	struct meter m;

	if (!p)
		return die_errno("anonymous mapping");
	meter_start(&m, -1);
	if (k->mode & 1)
		touch_read(p, g->pages);
	else
		touch_write(p, g->pages);
	meter_stop(&m, s, g->pages);
	munmap(p, g->pages * ps);
	return 0;
}

static int run_shmem(const struct group *g, struct kind *k, struct sample *s)
{
	struct meter m;
	char *p;
	int fd;

	p = shmem_map(g->pages, &fd);
	if (!p)
		return die_errno("memfd");
	meter_start(&m, -1);
	if (k->mode == TOUCH_WRITE)
		touch_write(p, g->pages);
	else
		touch_read(p, g->pages);
	meter_stop(&m, s, g->pages);
	munmap(p, g->pages * ps);
	close(fd);
	return 0;
}

/* ---- userfaultfd -------------------------------------------------------- */

enum { UFFD_ZERO, UFFD_COPY };

struct uffd_server {
	int uffd, stop[2], mode;
	char *src;		/* one page, the source of UFFDIO_COPY */
	long served, errors;
};

static void *uffd_serve(void *arg)
{
	struct uffd_server *u = arg;
	struct pollfd pfd[2] = {
		{ .fd = u->uffd, .events = POLLIN },
		{ .fd = u->stop[0], .events = POLLIN },
	};
	struct uffd_msg msg;
	unsigned long addr;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		if (read(u->uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		addr = msg.arg.pagefault.address & ~(ps - 1);
		if (u->mode == UFFD_ZERO) {
			struct uffdio_zeropage z = {
				.range = { .start = addr, .len = ps },
			};

			if (ioctl(u->uffd, UFFDIO_ZEROPAGE, &z) &&
			    errno != EEXIST)
				u->errors++;
		} else {
			struct uffdio_copy c = {
				.dst = addr, .src = (unsigned long)u->src,
				.len = ps,
			};

			if (ioctl(u->uffd, UFFDIO_COPY, &c) && errno != EEXIST)
				u->errors++;
		}
		u->served++;
	}
	return NULL;
}

static int uffd_open(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd;

	fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * mode: UFFD_ZERO or UFFD_COPY; first writes to anonymous 4 KiB pages, the
 * first uffd_max of the group's (each is a round trip through the handler
 * thread, milliseconds under TCG).
 */
static int run_uffd(const struct group *g, struct kind *k, struct sample *s)
{
	size_t n = g->pages < uffd_max ? g->pages : uffd_max;
	struct uffd_server u = { .mode = k->mode };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct meter m;
	pthread_t th;
	char *p;
	int ret = -1;

	u.uffd = uffd_open();
	if (u.uffd < 0) {
		k->why = "userfaultfd unavailable";
		return 1;
	}
	p = anon_map(g->pages, true);
	u.src = anon_map(1, true);
	if (!p || !u.src || pipe(u.stop))
		goto out;
	memset(u.src, 0, ps);
	reg.range.start = (unsigned long)p;
	reg.range.len = g->pages * ps;
	if (ioctl(u.uffd, UFFDIO_REGISTER, &reg)) {
		k->why = "UFFDIO_REGISTER failed";
		ret = 1;
		goto out_pipe;
	}
	if (pthread_create(&th, NULL, uffd_serve, &u))
		goto out_pipe;
	meter_start(&m, -1);
	touch_write(p, n);
	meter_stop(&m, s, n);
	if (write(u.stop[1], "x", 1) != 1)
		perror("cowbench: uffd stop");
	pthread_join(th, NULL);
	ret = u.errors ? -1 : 0;
	if (u.errors)
		fprintf(stderr, "cowbench: %ld userfaultfd ioctls failed\n",
			u.errors);
out_pipe:
	close(u.stop[0]);
	close(u.stop[1]);
out:
	if (p)
		munmap(p, g->pages * ps);
	if (u.src)
		munmap(u.src, ps);
	close(u.uffd);
	return ret;
}

/* ---- the re-read after munmap + mmap (case 3) --------------------------- */

static int run_reread(const struct group *g, struct kind *k, struct sample *s)
{
	size_t len = g->pages * ps;
	struct meter m;
	char *p;
	int fd;

	p = k->mode ? shmem_map(g->pages, &fd) : cowdev_map(g->pages, &fd);
	if (!p)
		return die_errno("re-read mapping");
	touch_write(p, g->pages);
	munmap(p, len);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return die_errno("re-read mmap");
	}
	meter_start(&m, k->mode ? -1 : fd);
	touch_read(p, g->pages);
	meter_stop(&m, s, g->pages);
	munmap(p, len);
	close(fd);
	return 0;
}

/* ---- COW (case 4) ------------------------------------------------------- */

/* Write every page of a view after a clone of it; s->extra: clone ns. */
static int run_clone(const struct group *g, struct kind *k, struct sample *s)
{
	struct meter m;
	double t;
	char *p;
	int fd, cfd;

	(void)k;
	p = cowdev_map(g->pages, &fd);
	if (!p)
		return die_errno("cowdev view");
	touch_write(p, g->pages);
	t = now_ns();
	cfd = cowdev_clone(fd);
	s->extra = now_ns() - t;
	if (cfd < 0) {
		munmap(p, g->pages * ps);
		close(fd);
		return die_errno("clone");
	}
	meter_start(&m, fd);
	touch_write(p, g->pages);
	meter_stop(&m, s, g->pages);
	munmap(p, g->pages * ps);
	close(cfd);
	close(fd);
	return 0;
}

/* Write every page of anonymous memory in a child after fork(). */
static int run_fork(const struct group *g, struct kind *k, struct sample *s)
{
	char *p = anon_map(g->pages, true);
	int pfd[2], status;
	struct meter m;
	pid_t pid;
	double t;

	(void)k;
	if (!p || pipe(pfd))
		return die_errno("fork setup");
	touch_write(p, g->pages);
	t = now_ns();
	pid = fork();
	if (!pid) {
		close(pfd[0]);
		meter_start(&m, -1);
		touch_write(p, g->pages);
		meter_stop(&m, s, g->pages);
		_exit(write(pfd[1], s, sizeof(*s)) != sizeof(*s));
	}
	close(pfd[1]);
	if (pid < 0 || read(pfd[0], s, sizeof(*s)) != sizeof(*s))
		pid = -1;
	close(pfd[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	s->extra = now_ns() - t;	/* fork, writes and exit: not compared */
	munmap(p, g->pages * ps);
	return pid > 0 ? 0 : die_errno("fork");
}

/* ---- scaling (case 6) --------------------------------------------------- */

struct writer {
	char *p;
	size_t pages;
	pthread_barrier_t *bar;
	double t0, t1;
};

static void *writer_thread(void *arg)
{
	struct writer *w = arg;

	pthread_barrier_wait(w->bar);
	w->t0 = now_ns();
	touch_write(w->p, w->pages);
	w->t1 = now_ns();
	return NULL;
}

/*
 * mode: bits 0-1 threads (1 or 2), bit 2 anonymous (else cowdev).  The
 * pages are split between the threads; the time is the first start to
 * the last end, so ns per page is the inverse of the throughput.
 */
static int run_threads(const struct group *g, struct kind *k,
		       struct sample *s)
{
	int nth = k->mode & 3, i, fd = -1;
	bool anon = k->mode & 4;
	struct writer w[2];
	pthread_barrier_t bar;
	pthread_t th[2];
	struct meter m;
	double t0, t1;
	size_t per = g->pages / nth;
	char *p;

	p = anon ? anon_map(g->pages, true) : cowdev_map(g->pages, &fd);
	if (!p)
		return die_errno("scaling mapping");
	pthread_barrier_init(&bar, NULL, nth + 1);
	for (i = 0; i < nth; i++) {
		w[i] = (struct writer){ .p = p + i * per * ps, .pages = per,
					.bar = &bar };
		pthread_create(&th[i], NULL, writer_thread, &w[i]);
	}
	meter_start(&m, fd);
	pthread_barrier_wait(&bar);
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	meter_stop(&m, s, per * nth);
	t0 = w[0].t0;
	t1 = w[0].t1;
	for (i = 1; i < nth; i++) {
		t0 = fmin(t0, w[i].t0);
		t1 = fmax(t1, w[i].t1);
	}
	s->ns = (t1 - t0) / (per * nth);
	pthread_barrier_destroy(&bar);
	munmap(p, g->pages * ps);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* ---- the pre-zeroed reserve --------------------------------------------- */

static long param_read(const char *path)
{
	char buf[32];
	long v = -1;
	FILE *f = fopen(path, "r");

	if (f && fgets(buf, sizeof(buf), f))
		v = strtol(buf, NULL, 0);
	if (f)
		fclose(f);
	return v;
}

static int param_write(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fprintf(f, "%ld\n", v) < 0;
	return fclose(f) || ret ? -1 : 0;
}

static long reserve_saved = -1;

/*
 * Until zeroed_pages reaches @want or stops rising (200 ms without a
 * change), at most 60 s.
 */
static void reserve_wait_full(uint64_t want)
{
	uint64_t last = 0, cur;
	double start = now_ns(), change = start;

	if (cowdev_sysfs_read("zeroed_pages", &last))
		return;
	while (last < want && now_ns() - start < 60e9) {
		usleep(20000);
		if (cowdev_sysfs_read("zeroed_pages", &cur))
			return;
		if (cur != last) {
			last = cur;
			change = now_ns();
		} else if (now_ns() - change > 2e8) {
			return;
		}
	}
}

/*
 * Before a run of kind @k: the reserve as the kind wants it: full, empty,
 * or as the module was loaded.
 */
static void reserve_prepare(const struct group *g, const struct kind *k)
{
	if (!have_reserve)
		return;
	if (k->reserve_empty) {
		param_write(ZERO_RESERVE, 0);
	} else if (k->reserve_full) {
		/* Enough for every page of the run, as a pool at rest has. */
		param_write(ZERO_RESERVE, reserve_saved > (long)g->pages ?
			    reserve_saved : (long)g->pages);
		reserve_wait_full(g->pages);
	} else if (reserve_saved >= 0) {
		param_write(ZERO_RESERVE, reserve_saved);
	}
}

static void reserve_restore(void)
{
	if (have_reserve && reserve_saved >= 0)
		param_write(ZERO_RESERVE, reserve_saved);
}

/* ---- groups ------------------------------------------------------------- */

static struct group *group_new(int cas, size_t pages, const char *id,
			       const char *title)
{
	struct group *g;

	if (ngroups == MAX_GROUPS) {
		fprintf(stderr, "cowbench: too many groups\n");
		exit(1);
	}
	g = &groups[ngroups++];
	memset(g, 0, sizeof(*g));
	g->cas = cas;
	g->pages = pages;
	snprintf(g->id, sizeof(g->id), "%s", id);
	snprintf(g->title, sizeof(g->title), "%s", title);
	return g;
}

static int kind_add(struct group *g, const char *name,
		    int (*run)(const struct group *, struct kind *,
			       struct sample *), int mode)
{
	struct kind *k = &g->k[g->nkinds];

	k->name = name;
	k->run = run;
	k->mode = mode;
	return g->nkinds++;
}

static void ratio_add(struct group *g, int num, int peer)
{
	if (g->nratios == MAX_RATIOS) {
		fprintf(stderr, "cowbench: too many ratios\n");
		exit(1);
	}
	g->ratio[g->nratios][0] = num;
	g->ratio[g->nratios][1] = peer;
	g->nratios++;
}

/* -k: run only the kind of this name (for a profile of it, scripts/profile). */
static const char *only_kind;

static int group_run(struct group *g)
{
	struct kind *k;
	int r, i, ret;

	fprintf(stderr, "cowbench: %s (%zu pages, %d reps)\n", g->title,
		g->pages, reps);
	for (r = 0; r < reps; r++) {
		for (i = 0; i < g->nkinds; i++) {
			k = &g->k[i];
			if (k->why || (only_kind && strcmp(k->name, only_kind)))
				continue;
			reserve_prepare(g, k);
			ret = k->run(g, k, &k->s[k->nrep]);
			if (ret < 0)
				return -1;
			if (ret == 0)
				k->nrep++;
		}
	}
	reserve_restore();
	return 0;
}

static struct spread kind_ns(const struct kind *k)
{
	double v[MAX_REPS];
	int i;

	for (i = 0; i < k->nrep; i++)
		v[i] = k->s[i].ns;
	return spread_of(v, k->nrep);
}

static struct spread ratio_spread(const struct group *g, int j)
{
	const struct kind *a = &g->k[g->ratio[j][0]], *b = &g->k[g->ratio[j][1]];
	double v[MAX_REPS];
	int i, n = a->nrep < b->nrep ? a->nrep : b->nrep;

	for (i = 0; i < n; i++)
		v[i] = a->s[i].ns / b->s[i].ns;
	return spread_of(v, n);
}

/* Mean over the repetitions of a per-page value (offset into a sample). */
static double kind_mean(const struct kind *k, size_t off)
{
	double sum = 0;
	int i;

	for (i = 0; i < k->nrep; i++)
		sum += *(const double *)((const char *)&k->s[i] + off);
	return k->nrep ? sum / k->nrep : NAN;
}

/* Module counter @off (a __u64 of struct cowdev_stats) per page. */
static double kind_st(const struct group *g, const struct kind *k,
		      size_t off)
{
	double sum = 0;
	int i;

	if (!k->nrep || !k->s[0].have_st)
		return NAN;
	for (i = 0; i < k->nrep; i++)
		sum += *(const uint64_t *)((const char *)&k->s[i].st + off);
	return sum / k->nrep / g->pages;
}

static double kind_knob(const struct group *g, const struct kind *k, int n)
{
	double sum = 0;
	int i;

	if (!k->nrep || !k->s[0].have_knobs)
		return NAN;
	for (i = 0; i < k->nrep; i++)
		sum += k->s[i].knob[n];
	return sum / k->nrep / g->pages;
}

#define STF(f)	offsetof(struct cowdev_stats, f)
#define SMF(f)	offsetof(struct sample, f)

static void group_print(const struct group *g)
{
	const struct kind *k;
	struct spread s;
	int i;

	printf("\n== case %d: %s (%zu pages, %d reps)\n", g->cas, g->title,
	       g->pages, reps);
	printf("%-22s %10s %21s %8s %6s %7s %7s %7s", "kind", "ns/page",
	       "(min..max)", "minflt/p", "maj/p", "fault/p", "mkw/p", "fa/p");
	if (have_reserve && g->cas == 1)
		printf(" %8s %8s", "zeroed/p", "inline/p");
	printf("\n");
	for (i = 0; i < g->nkinds; i++) {
		k = &g->k[i];
		if (k->why) {
			printf("%-22s skipped: %s\n", k->name, k->why);
			continue;
		}
		s = kind_ns(k);
		printf("%-22s %10.0f %10.0f..%-10.0f %8.3f %6.3f", k->name,
		       s.med, s.min, s.max, kind_mean(k, SMF(minflt)),
		       kind_mean(k, SMF(majflt)));
		if (k->s[0].have_st)
			printf(" %7.3f %7.3f %7.3f", kind_st(g, k, STF(faults)),
			       kind_st(g, k, STF(mkwrite)),
			       kind_st(g, k, STF(map_pages_calls)));
		else
			printf(" %7s %7s %7s", "-", "-", "-");
		if (have_reserve && g->cas == 1 && k->s[0].have_knobs)
			printf(" %8.3f %8.3f", kind_knob(g, k, K_ZEROED_ALLOCS),
			       kind_knob(g, k, K_INLINE_ZEROES));
		if (k->run == run_uffd && g->pages > uffd_max)
			printf("  (first %zu pages)", uffd_max);
		if (g->cas == 4)
			printf("  (%s %.0f us)", k->run == run_clone ?
			       "clone" : "fork+writes+exit",
			       kind_mean(k, SMF(extra)) / 1e3);
		printf("\n");
	}
	for (i = 0; i < g->nratios; i++) {
		const struct kind *a = &g->k[g->ratio[i][0]];
		const struct kind *b = &g->k[g->ratio[i][1]];

		if (a->why || b->why)
			continue;
		s = ratio_spread(g, i);
		printf("ratio\t%s\t%s/%s\t%.2f\t%.2f\t%.2f\n", g->id, a->name,
		       b->name, s.med, s.min, s.max);
	}
}

/* ---- growth (case 5) ---------------------------------------------------- */

struct growth {
	char id[32];
	char title[80];
	const char *xunit;	/* what x counts */
	const char *per;	/* the unit of the per-unit cost */
	int n;
	double x[MAX_POINTS];
	struct spread total[MAX_POINTS];	/* ns per operation */
	double unit[MAX_POINTS];	/* median ns per x-unit */
	double fpp[MAX_POINTS];		/* faults per touched page */
	double exponent;		/* log-log least-squares slope */
	double unit_ratio;		/* per-unit cost, largest / smallest */
	const char *verdict;
	const char *skipped;		/* the sizes skipped, and why */
};

static struct growth growths[4];
static int ngrowths;

static void growth_fit(struct growth *gr)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, lx, ly, tot;
	int i, n = gr->n;

	gr->verdict = "n/a";
	if (n < 2)
		return;
	for (i = 0; i < n; i++) {
		lx = log(gr->x[i]);
		ly = log(gr->total[i].med);
		sx += lx;
		sy += ly;
		sxx += lx * lx;
		sxy += lx * ly;
	}
	gr->exponent = (n * sxy - sx * sy) / (n * sxx - sx * sx);
	tot = gr->total[n - 1].med / gr->total[0].med;
	/* the cost per x-unit (per page, per MiB), largest over smallest */
	gr->unit_ratio = tot * gr->x[0] / gr->x[n - 1];
	if (tot <= 1.5)
		gr->verdict = "flat";
	else if (gr->unit_ratio < 1 / 1.5)
		gr->verdict = "sublinear";
	else if (gr->unit_ratio <= 1.5)
		gr->verdict = "linear";
	else
		gr->verdict = "worse than linear";
}

static void growth_print(const struct growth *gr)
{
	int i;

	printf("\n== case 5: %s (%d reps)\n", gr->title, reps);
	printf("%12s %14s %25s %12s %8s\n", gr->xunit, "ns", "(min..max)",
	       gr->per, "flt/page");
	for (i = 0; i < gr->n; i++)
		printf("%12.0f %14.0f %12.0f..%-12.0f %12.1f %8.3f\n",
		       gr->x[i], gr->total[i].med, gr->total[i].min,
		       gr->total[i].max, gr->unit[i], gr->fpp[i]);
	if (gr->skipped)
		printf("skipped: %s\n", gr->skipped);
	printf("growth\t%s\t%s\texponent %.2f\tper-unit ratio %.2f\n", gr->id,
	       gr->verdict, gr->exponent, gr->unit_ratio);
}

static uint64_t pool_room(void)
{
	uint64_t free_pages = 0, limit = 0;

	cowdev_sysfs_read("free_pages", &free_pages);
	limit = param_read("/sys/module/cowdev/parameters/user_max_pages");
	if (limit > 0 && limit < free_pages)
		return limit;
	return free_pages;
}

/* Clone time against resident pages: 1 Ki to 256 Ki (-q: to 16 Ki). */
static int growth_clone(void)
{
	static char skipped[128];
	struct growth *gr = &growths[ngrowths++];
	size_t pages, maxp = quick ? 16384 : 262144;
	double t[MAX_REPS];
	int fd, cfd, r;
	char *p;

	snprintf(gr->id, sizeof(gr->id), "clone-growth");
	snprintf(gr->title, sizeof(gr->title),
		 "clone time against resident pages");
	gr->xunit = "pages";
	gr->per = "ns/page";
	fprintf(stderr, "cowbench: %s\n", gr->title);
	for (pages = 1024; pages <= maxp; pages *= 4) {
		if (pages + 64 > pool_room()) {
			snprintf(skipped, sizeof(skipped),
				 "%zu pages and up (the pool has room for %llu)",
				 pages, (unsigned long long)pool_room());
			gr->skipped = skipped;
			break;
		}
		p = cowdev_map(pages, &fd);
		if (!p)
			return die_errno("cowdev view");
		touch_write(p, pages);
		munmap(p, pages * ps);
		for (r = 0; r < reps; r++) {
			double t0 = now_ns();

			cfd = cowdev_clone(fd);
			t[r] = now_ns() - t0;
			if (cfd < 0) {
				close(fd);
				return die_errno("clone");
			}
			close(cfd);
		}
		close(fd);
		gr->x[gr->n] = pages;
		gr->total[gr->n] = spread_of(t, reps);
		gr->unit[gr->n] = gr->total[gr->n].med / pages;
		gr->fpp[gr->n] = NAN;	/* a clone takes no fault */
		gr->n++;
	}
	growth_fit(gr);
	return 0;
}

/*
 * Write-fault cost against object size: sparse objects of 1 MiB to 4 GiB
 * (max_object_pages permitting), 256 pages touched spread evenly.
 */
static int growth_size(void)
{
	struct growth *gr = &growths[ngrowths++];
	static char skipped[128];
	uint64_t maxobj = param_read("/sys/module/cowdev/parameters/max_object_pages");
	size_t mib, pages, touch = 256, stride;
	double t[MAX_REPS], fl = 0;
	struct meter m;
	struct sample s;
	char *p;
	int fd, r;

	snprintf(gr->id, sizeof(gr->id), "size-growth");
	snprintf(gr->title, sizeof(gr->title),
		 "write-fault cost against object size (%zu pages touched)",
		 touch);
	gr->xunit = "MiB";
	gr->per = "ns/fault";
	fprintf(stderr, "cowbench: %s\n", gr->title);
	for (mib = 1; mib <= 4096; mib *= 16) {
		pages = mib * MIB / ps;
		if (pages > maxobj) {
			snprintf(skipped, sizeof(skipped),
				 "%zu MiB (max_object_pages %llu)", mib,
				 (unsigned long long)maxobj);
			gr->skipped = skipped;
			break;
		}
		stride = pages / touch;
		fl = 0;
		for (r = 0; r < reps; r++) {
			p = cowdev_map(pages, &fd);
			if (!p)
				return die_errno("sparse view");
			meter_start(&m, fd);
			touch_write_stride(p, touch, stride);
			meter_stop(&m, &s, touch);
			t[r] = s.ns;
			fl += s.minflt;
			munmap(p, pages * ps);
			close(fd);
		}
		gr->x[gr->n] = mib;
		gr->total[gr->n] = spread_of(t, reps);
		gr->unit[gr->n] = gr->total[gr->n].med;
		gr->fpp[gr->n] = fl / reps;
		gr->n++;
	}
	growth_fit(gr);
	/*
	 * The cost per fault should not depend on the size: "flat" here is
	 * what growth_fit() calls flat for the per-fault time.
	 */
	return 0;
}

/* ---- memory (case 7) ---------------------------------------------------- */

static long meminfo_kb(const char *field)
{
	char line[128];
	size_t len = strlen(field);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static struct {
	size_t pages;
	struct spread free_b, slab_b;	/* bytes per resident page */
	bool done;
} mem;

static void settle(void)
{
	sync();
	param_write("/proc/sys/vm/drop_caches", 3);
	usleep(200000);
}

/*
 * Bytes of kernel memory per resident page beyond the pool page itself:
 * N pages written through a mapping that is then unmapped (so that no page
 * table counts), the view held open; MemFree and Slab before and after.
 */
static int memory_case(void)
{
	double fb[MAX_REPS], sb[MAX_REPS];
	long f0, s0;
	char *p;
	int fd, r;

	mem.pages = quick ? 16384 : 65536;
	if (mem.pages + 64 > pool_room())
		mem.pages = pool_room() / 2;
	fprintf(stderr, "cowbench: memory per resident page (%zu pages)\n",
		mem.pages);
	for (r = 0; r < reps; r++) {
		settle();
		f0 = meminfo_kb("MemFree");
		s0 = meminfo_kb("Slab");
		p = cowdev_map(mem.pages, &fd);
		if (!p)
			return die_errno("cowdev view");
		touch_write(p, mem.pages);
		munmap(p, mem.pages * ps);
		settle();
		fb[r] = (f0 - meminfo_kb("MemFree")) * 1024.0 / mem.pages;
		sb[r] = (meminfo_kb("Slab") - s0) * 1024.0 / mem.pages;
		close(fd);
	}
	mem.free_b = spread_of(fb, reps);
	mem.slab_b = spread_of(sb, reps);
	mem.done = true;
	printf("\n== case 7: module memory per resident page (%zu pages, %d reps)\n",
	       mem.pages, reps);
	printf("MemFree drop %.1f bytes/page (%.1f..%.1f), Slab growth %.1f bytes/page (%.1f..%.1f)\n",
	       mem.free_b.med, mem.free_b.min, mem.free_b.max, mem.slab_b.med,
	       mem.slab_b.min, mem.slab_b.max);
	printf("memory\tresident-page\t%.1f\t%.1f\n", mem.free_b.med,
	       mem.slab_b.med);
	return 0;
}

/* ---- setting the cases up ----------------------------------------------- */

static const char *knob_state(void)
{
	static char buf[32];
	long v = param_read(ZERO_RESERVE);

	if (v < 0)
		return "n/a";
	snprintf(buf, sizeof(buf), "%ld", v);
	return buf;
}

static void setup_case1(size_t mib)
{
	char id[32], title[64];
	struct group *g;
	int c, c2 = -1, a, a4, sh, uz, uc, i;

	snprintf(id, sizeof(id), "write-%zuM", mib);
	snprintf(title, sizeof(title), "first write to a hole, %zu MiB", mib);
	g = group_new(1, mib * MIB / ps, id, title);
	if (have_reserve) {
		c = kind_add(g, "cowdev-reserve-full", run_cowdev, TOUCH_WRITE);
		g->k[c].reserve_full = true;
		c2 = kind_add(g, "cowdev-reserve-empty", run_cowdev,
			      TOUCH_WRITE);
		g->k[c2].reserve_empty = true;
	} else {
		c = kind_add(g, "cowdev", run_cowdev, TOUCH_WRITE);
	}
	a = kind_add(g, "anon-thp", run_anon, 0);
	a4 = kind_add(g, "anon-4k", run_anon, 2);
	sh = kind_add(g, "shmem", run_shmem, TOUCH_WRITE);
	uz = kind_add(g, "uffd-zeropage", run_uffd, UFFD_ZERO);
	uc = kind_add(g, "uffd-copy", run_uffd, UFFD_COPY);
	for (i = 0; i < 2; i++) {
		int x = i ? c2 : c;

		if (x < 0)
			continue;
		ratio_add(g, x, a4);
		ratio_add(g, x, a);
		ratio_add(g, x, sh);
		ratio_add(g, x, uz);
		ratio_add(g, x, uc);
	}
}

static void setup_cases(unsigned int which)
{
	struct group *g;
	int c, p;

	if (which & 1 << 1) {
		setup_case1(1);
		setup_case1(16);
		if (!quick)
			setup_case1(256);
	}
	if (which & 1 << 2) {
		g = group_new(2, npages, "read-hole", "read of a hole");
		c = kind_add(g, "cowdev", run_cowdev, TOUCH_READ);
		p = kind_add(g, "anon-4k", run_anon, 1 | 2);
		ratio_add(g, c, p);
		p = kind_add(g, "anon-thp", run_anon, 1);
		ratio_add(g, c, p);
		p = kind_add(g, "shmem", run_shmem, TOUCH_READ);
		ratio_add(g, c, p);
	}
	if (which & 1 << 3) {
		g = group_new(3, npages, "reread",
			      "re-read of resident pages after munmap + mmap");
		c = kind_add(g, "cowdev", run_reread, 0);
		p = kind_add(g, "shmem", run_reread, 1);
		ratio_add(g, c, p);
	}
	if (which & 1 << 4) {
		g = group_new(4, npages, "cow",
			      "write every page after clone / after fork");
		c = kind_add(g, "cowdev-clone", run_clone, 0);
		p = kind_add(g, "anon-fork", run_fork, 0);
		ratio_add(g, c, p);
	}
	if (which & 1 << 6) {
		g = group_new(6, npages, "scaling",
			      "first writes by 1 and 2 threads, disjoint pages");
		c = kind_add(g, "cowdev-1thread", run_threads, 1);
		p = kind_add(g, "cowdev-2threads", run_threads, 2);
		/* ns per page of 1 thread over 2 threads: the speedup */
		ratio_add(g, c, p);
		c = kind_add(g, "anon-4k-1thread", run_threads, 4 | 1);
		p = kind_add(g, "anon-4k-2threads", run_threads, 4 | 2);
		ratio_add(g, c, p);
		ratio_add(g, 0, 2);	/* cowdev / anon, 1 thread */
		ratio_add(g, 1, 3);	/* and 2 threads */
		if (have_reserve) {
			c = kind_add(g, "cowdev-1thread-reserve-empty",
				     run_threads, 1);
			p = kind_add(g, "cowdev-2threads-reserve-empty",
				     run_threads, 2);
			g->k[c].reserve_empty = true;
			g->k[p].reserve_empty = true;
			ratio_add(g, c, p);
		}
	}
}

/* ---- JSON --------------------------------------------------------------- */

static void json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fprintf(f, "null");
	else
		fprintf(f, "%.4g", v);
}

static void json_spread(FILE *f, const char *name, struct spread s)
{
	fprintf(f, "\"%s\": {\"median\": ", name);
	json_num(f, s.med);
	fprintf(f, ", \"min\": ");
	json_num(f, s.min);
	fprintf(f, ", \"max\": ");
	json_num(f, s.max);
	fprintf(f, "}");
}

static void json_kind(FILE *f, const struct group *g, const struct kind *k)
{
	static const struct { const char *name; size_t off; } st[] = {
		{ "faults", STF(faults) },
		{ "map_pages_calls", STF(map_pages_calls) },
		{ "map_pages_mapped", STF(map_pages_mapped) },
		{ "mkwrite", STF(mkwrite) },
		{ "zero_maps", STF(zero_maps) },
		{ "demand_allocs", STF(demand_allocs) },
		{ "cow_copies", STF(cow_copies) },
		{ "cow_reuses", STF(cow_reuses) },
	};
	size_t i;
	int r;

	fprintf(f, "        {\"kind\": \"%s\"", k->name);
	if (k->why) {
		fprintf(f, ", \"skipped\": \"%s\"}", k->why);
		return;
	}
	fprintf(f, ", ");
	json_spread(f, "ns_per_page", kind_ns(k));
	fprintf(f, ", \"ns_per_page_reps\": [");
	for (r = 0; r < k->nrep; r++) {
		fprintf(f, r ? ", " : "");
		json_num(f, k->s[r].ns);
	}
	fprintf(f, "], \"minflt_per_page\": ");
	json_num(f, kind_mean(k, SMF(minflt)));
	fprintf(f, ", \"majflt_per_page\": ");
	json_num(f, kind_mean(k, SMF(majflt)));
	if (g->cas == 4) {
		fprintf(f, ", \"%s_ns\": ", k->run == run_clone ? "clone" :
			"fork_writes_exit");
		json_num(f, kind_mean(k, SMF(extra)));
	}
	if (k->s[0].have_st) {
		fprintf(f, ", \"module_per_page\": {");
		for (i = 0; i < ARRAY_SIZE(st); i++) {
			fprintf(f, "%s\"%s\": ", i ? ", " : "", st[i].name);
			json_num(f, kind_st(g, k, st[i].off));
		}
		fprintf(f, "}");
	}
	if (k->s[0].have_knobs && k->run == run_cowdev) {
		fprintf(f, ", \"reserve_per_page\": {");
		for (i = 0; i < NR_KNOBS; i++) {
			fprintf(f, "%s\"%s\": ", i ? ", " : "", knob_name[i]);
			json_num(f, kind_knob(g, k, i));
		}
		fprintf(f, "}");
	}
	fprintf(f, "}");
}

static void json_write(FILE *f, const char *thp, bool uffd)
{
	const struct group *g;
	const struct growth *gr;
	struct utsname u;
	int i, j;

	uname(&u);
	fprintf(f, "{\n  \"kernel\": \"%s\",\n  \"reps\": %d,\n", u.release,
		reps);
	fprintf(f, "  \"pages\": %zu,\n  \"uffd_max_pages\": %zu,\n  \"quick\": %s,\n",
		npages, uffd_max, quick ? "true" : "false");
	fprintf(f, "  \"thp\": \"%s\",\n  \"userfaultfd\": %s,\n", thp,
		uffd ? "true" : "false");
	fprintf(f, "  \"zero_reserve\": \"%s\",\n  \"groups\": [\n",
		have_reserve ? knob_state() : "n/a");
	for (i = 0; i < ngroups; i++) {
		g = &groups[i];
		fprintf(f, "    {\"case\": %d, \"id\": \"%s\", \"title\": \"%s\", \"pages\": %zu,\n",
			g->cas, g->id, g->title, g->pages);
		fprintf(f, "      \"kinds\": [\n");
		for (j = 0; j < g->nkinds; j++) {
			json_kind(f, g, &g->k[j]);
			fprintf(f, "%s\n", j + 1 < g->nkinds ? "," : "");
		}
		fprintf(f, "      ],\n      \"ratios\": [");
		for (j = 0; j < g->nratios; j++) {
			const struct kind *a = &g->k[g->ratio[j][0]];
			const struct kind *b = &g->k[g->ratio[j][1]];

			fprintf(f, "%s\n        {\"of\": \"%s\", \"to\": \"%s\"",
				j ? "," : "", a->name, b->name);
			if (a->why || b->why) {
				fprintf(f, ", \"skipped\": true}");
				continue;
			}
			fprintf(f, ", ");
			json_spread(f, "ratio", ratio_spread(g, j));
			fprintf(f, "}");
		}
		fprintf(f, "]}%s\n", i + 1 < ngroups ? "," : "");
	}
	fprintf(f, "  ],\n  \"growth\": [\n");
	for (i = 0; i < ngrowths; i++) {
		gr = &growths[i];
		fprintf(f, "    {\"id\": \"%s\", \"title\": \"%s\", \"x_unit\": \"%s\", \"points\": [",
			gr->id, gr->title, gr->xunit);
		for (j = 0; j < gr->n; j++) {
			fprintf(f, "%s{\"x\": %.0f, ", j ? ", " : "", gr->x[j]);
			json_spread(f, "ns", gr->total[j]);
			fprintf(f, ", \"per_unit_ns\": ");
			json_num(f, gr->unit[j]);
			fprintf(f, ", \"faults_per_page\": ");
			json_num(f, gr->fpp[j]);
			fprintf(f, "}");
		}
		fprintf(f, "],\n      \"exponent\": ");
		json_num(f, gr->exponent);
		fprintf(f, ", \"per_unit_ratio\": ");
		json_num(f, gr->unit_ratio);
		fprintf(f, ", \"verdict\": \"%s\"", gr->verdict);
		if (gr->skipped)
			fprintf(f, ", \"skipped\": \"%s\"", gr->skipped);
		fprintf(f, "}%s\n", i + 1 < ngrowths ? "," : "");
	}
	fprintf(f, "  ]");
	if (mem.done) {
		fprintf(f, ",\n  \"memory\": {\"resident_pages\": %zu, ",
			mem.pages);
		json_spread(f, "memfree_bytes_per_resident_page", mem.free_b);
		fprintf(f, ", ");
		json_spread(f, "slab_bytes_per_resident_page", mem.slab_b);
		fprintf(f, "}");
	}
	fprintf(f, "\n}\n");
}

/* ---- main --------------------------------------------------------------- */

static void thp_setting(char *buf, size_t len)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	snprintf(buf, len, "n/a");
	if (f && fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = '\0';
	if (f)
		fclose(f);
}

static unsigned int parse_cases(const char *s)
{
	unsigned int mask = 0;
	char *end;
	long c;

	while (*s) {
		c = strtol(s, &end, 10);
		if (end == s || c < 1 || c > 7)
			return 0;
		mask |= 1U << c;
		s = *end == ',' ? end + 1 : end;
	}
	return mask;
}

static void print_usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-q] [-r REPS] [-n PAGES] [-c CASES] [-k KIND] [-j FILE]\n"
		"  -q        quick: first writes of 1 and 16 MiB only, smaller growth\n"
		"  -r REPS   repetitions of each case, 1-%d (default 5)\n"
		"  -n PAGES  pages of cases 2, 3, 4 and 6 (default 4096)\n"
		"  -u PAGES  pages a userfaultfd run touches, at most (default 1024)\n"
		"  -c CASES  the cases to run, e.g. 1,3,4 (default 1-7)\n"
		"  -k KIND   run only the kind KIND (e.g. cowdev, anon-4k): to profile it\n"
		"  -j FILE   write the results as JSON to FILE\n"
		"Run as root with the cowdev module loaded.\n",
		argv0, MAX_REPS);
}

int main(int argc, char **argv)
{
	unsigned int which = 0xfe;
	const char *json = NULL;
	struct utsname u;
	char thp[96];
	bool uffd;
	int opt, i, fd;
	FILE *f;

	while ((opt = getopt(argc, argv, "qr:n:u:c:k:j:h")) != -1) {
		switch (opt) {
		case 'q':
			quick = true;
			break;
		case 'r':
			reps = atoi(optarg);
			break;
		case 'n':
			npages = strtoul(optarg, NULL, 0);
			break;
		case 'u':
			uffd_max = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			which = parse_cases(optarg);
			break;
		case 'k':
			only_kind = optarg;
			break;
		case 'j':
			json = optarg;
			break;
		case 'h':
			print_usage(argv[0]);
			return 0;
		default:
			print_usage(argv[0]);
			return 2;
		}
	}
	if (reps < 1 || reps > MAX_REPS || npages < 2 || !uffd_max || !which) {
		print_usage(argv[0]);
		return 2;
	}
	ps = sysconf(_SC_PAGESIZE);
	fd = cowdev_open();
	if (fd < 0) {
		fprintf(stderr, "cowbench: %s: %s (is the module loaded?)\n",
			COWDEV_PATH, strerror(errno));
		return 1;
	}
	close(fd);
	reserve_saved = param_read(ZERO_RESERVE);
	{
		uint64_t v;

		have_reserve = reserve_saved >= 0 &&
			       !cowdev_sysfs_read("zeroed_allocs", &v) &&
			       !cowdev_sysfs_read("inline_zeroes", &v);
	}
	thp_setting(thp, sizeof(thp));
	fd = uffd_open();
	uffd = fd >= 0;
	if (uffd)
		close(fd);
	uname(&u);
	printf("cowbench: kernel %s, %d reps, THP %s, userfaultfd %s, zero_reserve %s\n",
	       u.release, reps, thp, uffd ? "yes" : "no (skipped)",
	       knob_state());
	printf("ns/page: median and min..max of the repetitions; minflt/p, maj/p: the\n"
	       "task's minor and major faults per page (6.1 counts a fault retried\n"
	       "after userfaultfd as major); fault/p, mkw/p, fa/p: the module's ->fault,\n"
	       "->page_mkwrite and ->map_pages calls per page (cowdev kinds).\n");
	setup_cases(which);
	for (i = 0; i < ngroups; i++) {
		if (group_run(&groups[i]))
			goto fail;
		group_print(&groups[i]);
		fflush(stdout);
	}
	if (which & 1 << 5) {
		if (growth_clone() || growth_size())
			goto fail;
		for (i = 0; i < ngrowths; i++)
			growth_print(&growths[i]);
	}
	if (which & 1 << 7 && memory_case())
		goto fail;
	if (json) {
		f = fopen(json, "w");
		if (!f) {
			perror(json);
			return 1;
		}
		json_write(f, thp, uffd);
		if (fclose(f)) {
			perror(json);
			return 1;
		}
	}
	return 0;
fail:
	reserve_restore();
	return 1;
}
