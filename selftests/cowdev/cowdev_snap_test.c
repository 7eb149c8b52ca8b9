// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots as storage systems use them (issue 16), one test per rule of
 * the contract in uapi/linux/cowdev.h, with exact results:
 *  - COWDEV_IOC_DIFF compares pages by identity: a fresh clone is SAME
 *    where it holds pages, a write on either side makes DIFFERENT (even
 *    with equal bytes), a page against a hole ONLY_THIS / ONLY_OTHER, a
 *    hole read keeps a hole; every pair of a tree of clones; a view with
 *    itself; unrelated views; views of different sizes; swapped-out pages
 *    are pages; counts alone with buf 0; errors (EBADF, EINVAL for a file
 *    that is not a view, flags and ranges, EFAULT) change nothing; only
 *    the caller's diffs counter moves;
 *  - COWDEV_IOC_ROLLBACK makes a view share its snapshot's pages and size:
 *    DIFF all SAME afterwards, the old pages no view holds go back to the
 *    pool (exact free/used deltas), PAGE_STATE shared and clean on both
 *    sides, rollbacks / rollback_pages exact, every pte of the view zapped
 *    in every process (a forked child reads the snapshot, or SIGBUS beyond
 *    a smaller size), writes after it COW both ways, snapshots bigger and
 *    smaller, a clone onto its source, onto a clone's clone, onto a twin;
 *    a writer in another process racing with the rollback loses its
 *    earlier writes and keeps its later ones, never in the snapshot;
 *    errors (EBADF, EINVAL, EXDEV) change nothing at all;
 *  - COWDEV_IOC_WRITTEN: the bit layout, reads and MAP_PRIVATE writes set
 *    nothing, new views and clones start clean, CLEAR re-arms tracking
 *    (a second write through the same pte is seen) in every process, sub
 *    ranges, fork, MADV_DONTNEED, pages gone by a shrink or a rollback,
 *    eviction and page-in, a CLEAR racing with a writer never loses a
 *    write, errors; PAGE_STATE's COWDEV_PAGE_STATE_WRITTEN flag;
 *  - the tracepoints cowdev_diff, cowdev_rollback and cowdev_written.
 * Every pool delta is exact: the tests run one at a time.  The swap cases
 * attach their own swap area (root) and SKIP when one is attached already.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

#ifndef COWDEV_PAGE_STATE_WRITTEN
#define COWDEV_PAGE_STATE_WRITTEN	(1U << 0)
#endif

#define RW		(PROT_READ | PROT_WRITE)
#define MAXP		64	/* pages a picture may cover */
#define MAXV		32	/* views and mappings a test may register */
#define KERNEL_ADDR	((void *)0xffffffff81000000UL)

static size_t ps;

/* ---- views and mappings, released at teardown ------------------------ */

struct env {
	int ctl;			/* a view of size 0, for POOL_INFO */
	struct cowdev_pool_info pi0;	/* after setup */
	int fd[MAXV];
	int nfd;
	char *map[MAXV];
	size_t maplen[MAXV];
	int nmap;
	int swapfd;			/* a swap file this test attached */
};

static int reg_fd(struct env *e, int fd)
{
	if (fd >= 0 && e->nfd < MAXV)
		e->fd[e->nfd++] = fd;
	return fd;
}

static char *reg_map(struct env *e, char *m, size_t len)
{
	if (m && e->nmap < MAXV) {
		e->map[e->nmap] = m;
		e->maplen[e->nmap++] = len;
	}
	return m;
}

/* A new view of @pages pages; mapped MAP_SHARED at *@m when @m. */
static int view(struct env *e, size_t pages, char **m)
{
	int fd = cowdev_new_view(pages, m);

	if (fd >= 0 && m)
		reg_map(e, *m, pages * ps);
	return reg_fd(e, fd);
}

static int clone_of(struct env *e, int fd)
{
	return reg_fd(e, cowdev_clone(fd));
}

/* @pages pages of view @fd from page 0, MAP_SHARED (or @flags). */
static char *map_of(struct env *e, int fd, size_t pages, int flags)
{
	return reg_map(e, cowdev_map_view(fd, pages, RW, flags, 0),
		       pages * ps);
}

/* Unmap @m now (its registration goes). */
static void drop_map(struct env *e, char *m)
{
	int i;

	for (i = 0; i < e->nmap; i++)
		if (e->map[i] == m) {
			munmap(m, e->maplen[i]);
			e->map[i] = NULL;
			e->maplen[i] = 0;
		}
}

/* Close @fd now (its registration goes). */
static void drop_fd(struct env *e, int fd)
{
	int i;

	for (i = 0; i < e->nfd; i++)
		if (e->fd[i] == fd) {
			close(fd);
			e->fd[i] = -1;
		}
}

static void env_setup(struct __test_metadata *_metadata, struct env *e)
{
	ps = cowdev_page_size();
	memset(e, 0, sizeof(*e));
	e->swapfd = -1;
	e->ctl = cowdev_open();
	ASSERT_LE(0, e->ctl) TH_LOG("open: %s", strerror(-e->ctl));
	e->pi0 = cowdev_pool_of(e->ctl);
	ASSERT_NE(~0ULL, e->pi0.total_pages);
}

static void env_teardown(struct __test_metadata *_metadata, struct env *e)
{
	struct cowdev_pool_info pi;
	int i;

	/* The 6.1 harness leaves the trigger of a failed ASSERT set. */
	_metadata->trigger = 0;
	for (i = 0; i < e->nmap; i++)
		if (e->map[i])
			munmap(e->map[i], e->maplen[i]);
	for (i = 0; i < e->nfd; i++)
		if (e->fd[i] >= 0)
			close(e->fd[i]);
	if (e->ctl < 0)
		return;
	if (e->swapfd >= 0) {
		EXPECT_EQ(0, cowdev_pool_of(e->ctl).swap_used);
		EXPECT_EQ(0, cowdev_swapoff(e->ctl));
		close(e->swapfd);
	}
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(e->pi0.used_pages, pi.used_pages)
		TH_LOG("pool pages left after every view closed");
	EXPECT_EQ(e->pi0.views, pi.views);
	close(e->ctl);
}

FIXTURE(snap) {
	struct env e;
};

FIXTURE_SETUP(snap)
{
	env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(snap)
{
	env_teardown(_metadata, &self->e);
}

/* ---- pages ----------------------------------------------------------- */

static void fill(char *m, size_t page, char c)
{
	memset(m + page * ps, c, ps);
}

/* fill_str(m, "ab.c"): page i filled with s[i], '.' skipped. */
static void fill_str(char *m, const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] != '.')
			fill(m, i, s[i]);
}

/* Read one byte of each of pages [0, n): hole reads map the zero page. */
static void read_pages(const char *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		(void)*(const volatile char *)(m + i * ps);
}

/* ---- the usual beginnings ------------------------------------------------ */

/* view() of @pages pages mapped at *@m, written as @pic (fill_str()). */
static int filled_view(struct env *e, size_t pages, char **m, const char *pic)
{
	int fd = view(e, pages, m);

	if (fd >= 0)
		fill_str(*m, pic);
	return fd;
}

/* A clone of view @fd, @pages pages of it mapped MAP_SHARED at *@m. */
static int mapped_clone(struct env *e, int fd, size_t pages, char **m)
{
	int c = clone_of(e, fd);

	if (c < 0)
		return -1;
	*m = map_of(e, c, pages, MAP_SHARED);
	return *m ? c : -1;
}

/*
 * A child held at a point until the parent lets it go on: gate_open()
 * before the fork (the pipes are the env's: teardown closes them); the
 * child calls gate_hold() at the point, the parent gate_wait() until the
 * child is there, then gate_release().  Each: 0, or -1.
 */
struct gate {
	int go[2], ready[2];
};

static int gate_open(struct env *e, struct gate *g)
{
	if (pipe(g->go))
		return -1;
	reg_fd(e, g->go[0]);
	reg_fd(e, g->go[1]);
	if (pipe(g->ready))
		return -1;
	reg_fd(e, g->ready[0]);
	reg_fd(e, g->ready[1]);
	return 0;
}

static int gate_hold(struct gate *g)
{
	char c;

	return write(g->ready[1], "r", 1) == 1 && read(g->go[0], &c, 1) == 1 ?
	       0 : -1;
}

static int gate_wait(struct gate *g)
{
	char c;

	return read(g->ready[0], &c, 1) == 1 ? 0 : -1;
}

static int gate_release(struct gate *g)
{
	return write(g->go[1], "g", 1) == 1 ? 0 : -1;
}

/* ---- DIFF pictures ----------------------------------------------------- */

/* '.' HOLES, 's' SAME, 'd' DIFFERENT, 't' ONLY_THIS, 'o' ONLY_OTHER. */
static const char diff_chars[] = ".sdto";

static uint64_t count_char(const char *s, char c)
{
	uint64_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

/* The picture of the other side: ONLY_THIS and ONLY_OTHER swap. */
static void mirror(const char *want, char *out)
{
	size_t i;

	for (i = 0; want[i]; i++)
		out[i] = want[i] == 't' ? 'o' : want[i] == 'o' ? 't' : want[i];
	out[i] = 0;
}

/* One DIFF of @a against @b over [start, start + strlen(want)). */
static void diff_one(struct __test_metadata *_metadata, int line, int a,
		     int b, uint64_t start, const char *want)
{
	size_t n = strlen(want), i;
	struct cowdev_diff d, d0;
	uint8_t buf[MAXP + 8];
	char got[MAXP + 1];
	int ret;

	ASSERT_GE(MAXP, n);
	memset(buf, 0xee, sizeof(buf));
	ret = cowdev_diff(a, b, start, n, buf, &d);
	ASSERT_EQ(0, ret) TH_LOG("line %d: DIFF: %s", line, strerror(-ret));
	for (i = 0; i < n; i++)
		got[i] = buf[i] < 5 ? diff_chars[buf[i]] : '?';
	got[n] = 0;
	EXPECT_STREQ(want, got) TH_LOG("line %d: DIFF map", line);
	EXPECT_EQ(0xee, buf[n]) TH_LOG("line %d: wrote past count", line);
	EXPECT_EQ(count_char(want, 's'), d.same) TH_LOG("line %d", line);
	EXPECT_EQ(count_char(want, 'd'), d.different) TH_LOG("line %d", line);
	EXPECT_EQ(count_char(want, 't'), d.only_this) TH_LOG("line %d", line);
	EXPECT_EQ(count_char(want, 'o'), d.only_other) TH_LOG("line %d", line);
	/* buf 0: the same counts. */
	ret = cowdev_diff(a, b, start, n, NULL, &d0);
	ASSERT_EQ(0, ret) TH_LOG("line %d: DIFF counts: %s", line,
				 strerror(-ret));
	EXPECT_EQ(d.same, d0.same) TH_LOG("line %d: counts alone", line);
	EXPECT_EQ(d.different, d0.different) TH_LOG("line %d", line);
	EXPECT_EQ(d.only_this, d0.only_this) TH_LOG("line %d", line);
	EXPECT_EQ(d.only_other, d0.only_other) TH_LOG("line %d", line);
}

/*
 * expect_diff(a, b, "sd.t"): DIFF of view @a against view @b from page 0,
 * one character per page (diff_chars), with the counts, and the mirror
 * picture the other way round.  Each call is two DIFFs on @a, one on @b.
 */
static void __expect_diff(struct __test_metadata *_metadata, int line, int a,
			  int b, uint64_t start, const char *want)
{
	char mirrored[MAXP + 1];

	diff_one(_metadata, line, a, b, start, want);
	if (a == b)
		return;
	mirror(want, mirrored);
	diff_one(_metadata, line, b, a, start, mirrored);
}
#define expect_diff(a, b, want) __expect_diff(_metadata, __LINE__, a, b, 0, want)
#define expect_diff_at(a, b, start, want) \
	__expect_diff(_metadata, __LINE__, a, b, start, want)

/* ---- page-state pictures with the written bit -------------------------- */

#define R	COWDEV_PAGE_RESIDENT
#define SH	COWDEV_PAGE_SHARED
#define DI	COWDEV_PAGE_DIRTY
#define SW	COWDEV_PAGE_SWAPPED
#define WR	COWDEV_PAGE_WRITTEN

/* PAGE_STATE with @flags: the result, or -errno. */
static long page_state(int fd, uint64_t start, uint64_t count, uint8_t *buf,
		       uint64_t flags)
{
	struct cowdev_page_state req = {
		.start = start, .count = count,
		.buf = (uintptr_t)buf, .flags = flags,
	};

	return cowdev_xioctl(fd, COWDEV_IOC_PAGE_STATE, &req);
}

/*
 * One character per page-state byte: '.' hole, 'r' RESIDENT, 's'
 * RESIDENT|SHARED, 'd' RESIDENT|DIRTY, 'o' SWAPPED, 'h' SWAPPED|SHARED, 'x'
 * SWAPPED|DIRTY; upper case with COWDEV_PAGE_WRITTEN, 'W' a hole with it;
 * '?' anything else.
 */
static char wstate_char(uint8_t b)
{
	static const struct { uint8_t b; char c; } tab[] = {
		{ 0, '.' }, { R, 'r' }, { R | SH, 's' }, { R | DI, 'd' },
		{ SW, 'o' }, { SW | SH, 'h' }, { SW | DI, 'x' },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tab); i++) {
		if (tab[i].b == b)
			return tab[i].c;
		if ((tab[i].b | WR) == b)
			return tab[i].c == '.' ? 'W' : tab[i].c - 'a' + 'A';
	}
	return '?';
}

/*
 * expect_wmap(fd, "dD.W"): PAGE_STATE with COWDEV_PAGE_STATE_WRITTEN of
 * pages [0, strlen) (wstate_char); the same call with flags 0 gives the
 * same bytes without COWDEV_PAGE_WRITTEN.  Neither counts anywhere.
 */
static void __expect_wmap(struct __test_metadata *_metadata, int line, int fd,
			  const char *want)
{
	size_t n = strlen(want), i;
	uint8_t buf[MAXP + 1], plain[MAXP + 1];
	char got[MAXP + 1];
	long ret;

	ASSERT_GE(MAXP, n);
	memset(buf, 0xee, sizeof(buf));
	memset(plain, 0xee, sizeof(plain));
	ret = page_state(fd, 0, n, buf, COWDEV_PAGE_STATE_WRITTEN);
	ASSERT_EQ(0, ret) TH_LOG("line %d: PAGE_STATE WRITTEN: %s", line,
				 strerror(-ret));
	ret = page_state(fd, 0, n, plain, 0);
	ASSERT_EQ(0, ret) TH_LOG("line %d: PAGE_STATE: %s", line,
				 strerror(-ret));
	for (i = 0; i < n; i++) {
		got[i] = wstate_char(buf[i]);
		EXPECT_EQ(buf[i] & ~WR, plain[i])
			TH_LOG("line %d: page %zu: flags 0 gives %#x, WRITTEN %#x",
			       line, i, plain[i], buf[i]);
	}
	got[n] = 0;
	EXPECT_STREQ(want, got) TH_LOG("line %d: page-state map", line);
	EXPECT_EQ(0xee, buf[n]);
	EXPECT_EQ(0xee, plain[n]);
}
#define expect_wmap(fd, want) __expect_wmap(_metadata, __LINE__, fd, want)

/* ---- WRITTEN pictures -------------------------------------------------- */

/*
 * WRITTEN of [start, start + strlen(want)) with @flags: one character per
 * page, 'w' written, '.' not.  The bits past the count in the last byte
 * must be 0 (the buffer starts all ones), nothing past the last byte is
 * written, and the count is the number of bits set; the count alone
 * (buf 0) is the same, unless the call clears.
 */
static void __expect_written(struct __test_metadata *_metadata, int line,
			     int fd, uint64_t start, unsigned int flags,
			     const char *want)
{
	size_t n = strlen(want), i, nbytes = (n + 7) / 8;
	uint64_t written = ~0ULL, alone = ~0ULL;
	uint8_t buf[MAXP / 8 + 2];
	char got[MAXP + 1];
	int ret;

	ASSERT_GE(MAXP, n);
	if (!(flags & COWDEV_WRITTEN_CLEAR)) {
		ret = cowdev_written(fd, start, n, NULL, flags, &alone);
		ASSERT_EQ(0, ret) TH_LOG("line %d: WRITTEN count: %s", line,
					 strerror(-ret));
		EXPECT_EQ(count_char(want, 'w'), alone)
			TH_LOG("line %d: count alone", line);
	}
	memset(buf, 0xff, sizeof(buf));
	ret = cowdev_written(fd, start, n, buf, flags, &written);
	ASSERT_EQ(0, ret) TH_LOG("line %d: WRITTEN: %s", line, strerror(-ret));
	for (i = 0; i < n; i++)
		got[i] = buf[i / 8] & (1U << (i % 8)) ? 'w' : '.';
	got[n] = 0;
	EXPECT_STREQ(want, got) TH_LOG("line %d: WRITTEN%s from page %llu",
				       line, flags ? " CLEAR" : "",
				       (unsigned long long)start);
	EXPECT_EQ(count_char(want, 'w'), written) TH_LOG("line %d", line);
	if (n % 8)
		EXPECT_EQ(0, buf[nbytes - 1] >> (n % 8))
			TH_LOG("line %d: bits past the count", line);
	EXPECT_EQ(0xff, buf[nbytes]) TH_LOG("line %d: wrote past the bits",
					    line);
}
#define expect_written(fd, want) \
	__expect_written(_metadata, __LINE__, fd, 0, 0, want)
#define expect_written_at(fd, start, want) \
	__expect_written(_metadata, __LINE__, fd, start, 0, want)
#define expect_cleared(fd, start, want) \
	__expect_written(_metadata, __LINE__, fd, start, COWDEV_WRITTEN_CLEAR, \
			 want)

/* ---- everything an error must leave alone ------------------------------ */

struct view_state {
	uint64_t size;
	struct cowdev_stats st;
	uint8_t map[MAXP];	/* PAGE_STATE with the written bit */
	size_t n;
};

static void state_of(int fd, size_t n, struct view_state *s)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	if (cowdev_get_size(fd, &s->size))
		s->size = ~0ULL;
	s->st = cowdev_stats_of(fd);
	if (page_state(fd, 0, n, s->map, COWDEV_PAGE_STATE_WRITTEN))
		memset(s->map, 0xee, sizeof(s->map));
}

/* View @fd is as in @s: size, every counter, page states, written bits. */
static void __expect_state(struct __test_metadata *_metadata, int line,
			   int fd, const struct view_state *s)
{
	struct view_state now;
	size_t i;

	state_of(fd, s->n, &now);
	EXPECT_EQ(s->size, now.size) TH_LOG("line %d: size", line);
	EXPECT_EQ(0, memcmp(&s->st, &now.st, sizeof(now.st)))
		TH_LOG("line %d: stats changed: diffs %llu rollbacks %llu rollback_pages %llu written_queries %llu cow_copies %llu",
		       line, (unsigned long long)now.st.diffs,
		       (unsigned long long)now.st.rollbacks,
		       (unsigned long long)now.st.rollback_pages,
		       (unsigned long long)now.st.written_queries,
		       (unsigned long long)now.st.cow_copies);
	for (i = 0; i < s->n; i++) {
		EXPECT_EQ(s->map[i], now.map[i])
			TH_LOG("line %d: page %zu state", line, i);
	}
}
#define expect_state(fd, s) __expect_state(_metadata, __LINE__, fd, s)

/* The pool's counters are as in @pi (swap counters included). */
static void __expect_pool(struct __test_metadata *_metadata, int line,
			  int fd, const struct cowdev_pool_info *pi)
{
	struct cowdev_pool_info now = cowdev_pool_of(fd);

	EXPECT_EQ(pi->used_pages, now.used_pages) TH_LOG("line %d", line);
	EXPECT_EQ(pi->free_pages, now.free_pages) TH_LOG("line %d", line);
	EXPECT_EQ(pi->allocs, now.allocs) TH_LOG("line %d", line);
	EXPECT_EQ(pi->frees, now.frees) TH_LOG("line %d", line);
	EXPECT_EQ(pi->views, now.views) TH_LOG("line %d", line);
	EXPECT_EQ(pi->limbo_pages, now.limbo_pages) TH_LOG("line %d", line);
	EXPECT_EQ(pi->swap_used, now.swap_used) TH_LOG("line %d", line);
}
#define expect_pool(fd, pi) __expect_pool(_metadata, __LINE__, fd, pi)

/* The lowest free fd number, then closed: an fd that is not open. */
static int closed_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	return fd;
}

/* A page that is read-only, and an address that is not mapped. */
static char *ro_page(struct env *e)
{
	char *p = mmap(NULL, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	return reg_map(e, p == MAP_FAILED ? NULL : p, ps);
}

static void *unmapped_addr(void)
{
	char *p = mmap(NULL, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED)
		return (void *)16;
	munmap(p, ps);
	return p;
}

static long raw_diff(int fd, struct cowdev_diff *d)
{
	return cowdev_xioctl(fd, COWDEV_IOC_DIFF, d);
}

static long raw_rollback(int fd, int snap, uint32_t flags)
{
	struct cowdev_rollback rb = { .fd = snap, .flags = flags };

	return cowdev_xioctl(fd, COWDEV_IOC_ROLLBACK, &rb);
}

static long raw_written(int fd, uint64_t start, uint64_t count, void *buf,
			uint64_t flags)
{
	struct cowdev_written w = {
		.start = start, .count = count, .buf = (uintptr_t)buf,
		.flags = flags,
	};

	return cowdev_xioctl(fd, COWDEV_IOC_WRITTEN, &w);
}

/* ======================================================================== */
/* DIFF                                                                     */
/* ======================================================================== */

/*
 * A fresh clone is SAME wherever the source holds a page, HOLES elsewhere
 * (a hole read before or after changes nothing).  After the clone, a write
 * on either side is DIFFERENT, even one that writes the bytes the page
 * had; a hole written on one side is ONLY_THIS / ONLY_OTHER.
 */
TEST_F(snap, diff_compares_pages_by_identity)
{
	struct env *e = &self->e;
	char *ma, *mb;
	int a, b;

	a = filled_view(e, 8, &ma, "abcd.f..");
	ASSERT_LE(0, a);
	read_pages(ma, 8);
	b = mapped_clone(e, a, 8, &mb);
	ASSERT_LE(0, b);
	expect_diff(a, b, "ssss.s..");

	fill(ma, 1, 'x');		/* COW in the source */
	fill(mb, 2, 'y');		/* COW in the clone */
	fill(ma, 4, 'e');		/* a hole of both, written in A */
	fill(mb, 7, 'h');		/* ... in B */
	fill(mb, 5, 'f');		/* the very bytes it had */
	read_pages(ma, 8);
	read_pages(mb, 8);
	expect_diff(a, b, "sddstd.o");
	expect_pages(ma, "axcdef..");
	expect_pages(mb, "abyd.f.h");
	EXPECT_EQ(0, memcmp(ma + 5 * ps, mb + 5 * ps, ps));
	expect_wmap(a, "SDRSDR..");
	expect_wmap(b, "srDs.D.D");
	expect_diff_at(a, b, 3, "std");
	expect_diff_at(a, b, 7, "o");
}

/* A view with itself (the same fd or a dup): SAME or HOLES only. */
TEST_F(snap, diff_with_itself)
{
	struct env *e = &self->e;
	int a, c, dup_a;
	char *ma;

	a = filled_view(e, 6, &ma, "a.c.e.");
	ASSERT_LE(0, a);
	expect_diff(a, a, "s.s.s.");
	dup_a = reg_fd(e, dup(a));
	ASSERT_LE(0, dup_a);
	expect_diff(a, dup_a, "s.s.s.");
	c = clone_of(e, a);
	ASSERT_LE(0, c);
	fill(ma, 0, 'z');
	expect_diff(c, c, "s.s.s.");
	expect_diff(a, a, "s.s.s.");
}

/*
 * Views that clones do not relate (two open()s) share no page: DIFFERENT
 * wherever both hold one, whatever the bytes.
 */
TEST_F(snap, diff_of_unrelated_views)
{
	struct env *e = &self->e;
	char *ma, *mb;
	int a, b;

	a = filled_view(e, 6, &ma, "xxy..z");
	ASSERT_LE(0, a);
	b = filled_view(e, 6, &mb, "xx.y.z");
	ASSERT_LE(0, b);
	read_pages(ma, 6);
	read_pages(mb, 6);
	expect_diff(a, b, "ddto.d");
	EXPECT_EQ(0, memcmp(ma, mb, 2 * ps));
}

/*
 * Views of different sizes: the range may reach the larger size, beyond
 * the smaller one that view holds holes; past the larger size EINVAL.
 */
TEST_F(snap, diff_up_to_the_larger_size)
{
	struct env *e = &self->e;
	uint8_t buf[16];
	char *ma, *ms;
	int a, s;

	a = filled_view(e, 4, &ma, "abcd");
	ASSERT_LE(0, a);
	s = clone_of(e, a);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, cowdev_set_size(s, 8 * ps));
	ms = map_of(e, s, 8, MAP_SHARED);
	ASSERT_NE(NULL, ms);
	fill(ms, 6, 'g');
	expect_diff(a, s, "ssss..o.");
	expect_diff_at(a, s, 5, ".o.");
	EXPECT_EQ(-EINVAL, cowdev_diff(a, s, 0, 9, buf, NULL));
	EXPECT_EQ(-EINVAL, cowdev_diff(s, a, 8, 1, buf, NULL));
	/* The smaller one shrinks further: still the larger size. */
	ASSERT_EQ(0, cowdev_set_size(a, 2 * ps));
	expect_diff(a, s, "ssoo..o.");
}

/*
 * A -> B -> C: B a clone of A, C a clone of B, each written after; every
 * pair compared both ways.  A page of A that B copied and C did not still
 * is SAME between A and C; closing B in the middle changes nothing.
 */
TEST_F(snap, diff_across_a_clone_tree)
{
	struct env *e = &self->e;
	char *ma, *mb, *mc;
	int a, b, c;

	a = filled_view(e, 8, &ma, "012345..");
	ASSERT_LE(0, a);
	b = mapped_clone(e, a, 8, &mb);
	ASSERT_LE(0, b);
	fill(ma, 0, 'A');
	fill(mb, 1, 'B');
	c = mapped_clone(e, b, 8, &mc);
	ASSERT_LE(0, c);
	fill(mb, 2, 'b');
	fill(mc, 3, 'C');
	fill(ma, 4, 'a');
	fill(mc, 6, 'c');
	fill(ma, 7, 'z');
	expect_pages(ma, "A123a5.z");
	expect_pages(mb, "0Bb345..");
	expect_pages(mc, "0B2C45c.");

	expect_diff(a, b, "dddsds.t");
	expect_diff(a, c, "ddsddsot");
	expect_diff(b, c, "ssddsso.");
	expect_wmap(a, "DRSSDS.D");
	expect_wmap(b, "sSDsss..");
	expect_wmap(c, "sssDssD.");

	drop_map(e, mb);
	drop_fd(e, b);
	expect_diff(a, c, "ddsddsot");
	expect_diff(c, c, "sssssss.");
}

/*
 * DIFF reads and counts: only the caller's diffs counter moves (count 0
 * and counts alone included), never the other view's; no page state, no
 * pool counter.  Output counts are the answer's, whatever the caller put
 * in them.
 */
TEST_F(snap, diff_changes_nothing_but_its_counter)
{
	struct env *e = &self->e;
	struct view_state sa, sb;
	struct cowdev_pool_info pi;
	struct cowdev_diff d;
	uint8_t buf[8];
	char *ma;
	int a, b;

	a = filled_view(e, 8, &ma, "ab.d");
	ASSERT_LE(0, a);
	b = clone_of(e, a);
	ASSERT_LE(0, b);
	fill(ma, 1, 'B');
	state_of(a, 8, &sa);
	state_of(b, 8, &sb);
	pi = cowdev_pool_of(e->ctl);

	memset(&d, 0, sizeof(d));
	d.fd = b;
	d.count = 8;
	d.buf = (uintptr_t)buf;
	d.same = d.different = d.only_this = d.only_other = 1000;
	ASSERT_EQ(0, raw_diff(a, &d));
	EXPECT_EQ(2, d.same);
	EXPECT_EQ(1, d.different);
	EXPECT_EQ(0, d.only_this);
	EXPECT_EQ(0, d.only_other);
	EXPECT_EQ(b, d.fd);
	EXPECT_EQ(0, d.start);
	EXPECT_EQ(8, d.count);
	d.buf = 0;
	ASSERT_EQ(0, raw_diff(a, &d));
	EXPECT_EQ(2, d.same);
	EXPECT_EQ(1, d.different);
	/* count 0: success, counts 0, at the end too, with any buffer. */
	d.start = 8;
	d.count = 0;
	d.buf = (uintptr_t)KERNEL_ADDR;
	ASSERT_EQ(0, raw_diff(a, &d));
	EXPECT_EQ(0, d.same + d.different + d.only_this + d.only_other);

	sa.st.diffs += 3;
	expect_state(a, &sa);
	expect_state(b, &sb);
	expect_pool(e->ctl, &pi);
}

/*
 * Bad input: EBADF for an fd that is not open, EINVAL for a file that is
 * not a view, flags, a range past the larger size or overflowing, EFAULT
 * for a bad buffer; nothing changes (counters, states, pool, the buffer
 * outside what EFAULT may have written).
 */
TEST_F(snap, diff_errors_change_nothing)
{
	static const struct { uint64_t start, count; } ranges[] = {
		{ 0, 9 }, { 8, 1 }, { 7, 2 }, { 9, 0 }, { ~0ULL, 2 },
		{ 1, ~0ULL }, { 1ULL << 63, 1ULL << 63 }, { ~0ULL, ~0ULL },
	};
	struct view_state sa, sb;
	struct cowdev_pool_info pi;
	struct env *e = &self->e;
	struct cowdev_diff d;
	int a, b, nul, p[2];
	uint8_t buf[16];
	char *ma, *ro;
	size_t i;

	a = filled_view(e, 4, &ma, "ab");
	ASSERT_LE(0, a);
	b = view(e, 8, NULL);
	ASSERT_LE(0, b);
	ro = ro_page(e);
	ASSERT_NE(NULL, ro);
	nul = reg_fd(e, open("/dev/null", O_RDWR | O_CLOEXEC));
	ASSERT_LE(0, nul);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	reg_fd(e, p[0]);
	reg_fd(e, p[1]);
	state_of(a, 4, &sa);
	state_of(b, 8, &sb);
	pi = cowdev_pool_of(e->ctl);
	memset(buf, 0x5a, sizeof(buf));

	EXPECT_EQ(-EBADF, cowdev_diff(a, -1, 0, 4, buf, NULL));
	EXPECT_EQ(-EBADF, cowdev_diff(a, closed_fd(), 0, 4, buf, NULL));
	EXPECT_EQ(-EBADF, cowdev_diff(a, 0x7ffffff0, 0, 4, buf, NULL));
	EXPECT_EQ(-EINVAL, cowdev_diff(a, nul, 0, 4, buf, NULL));
	EXPECT_EQ(-EINVAL, cowdev_diff(a, p[0], 0, 4, buf, NULL));
	EXPECT_EQ(-EINVAL, cowdev_diff(a, p[1], 0, 1, buf, NULL));
	for (i = 0; i < ARRAY_SIZE(ranges); i++) {
		EXPECT_EQ(-EINVAL, cowdev_diff(a, b, ranges[i].start,
					       ranges[i].count, buf, NULL))
			TH_LOG("start %llu count %llu",
			       (unsigned long long)ranges[i].start,
			       (unsigned long long)ranges[i].count);
	}
	for (i = 0; i < 32; i++) {
		memset(&d, 0, sizeof(d));
		d.fd = b;
		d.count = 4;
		d.buf = (uintptr_t)buf;
		d.flags = 1U << i;
		EXPECT_EQ(-EINVAL, raw_diff(a, &d)) TH_LOG("flags %#x", d.flags);
	}
	for (i = 0; i < sizeof(buf); i++) {
		EXPECT_EQ(0x5a, buf[i]) TH_LOG("byte %zu written", i);
	}
	EXPECT_EQ(-EFAULT, cowdev_diff(a, b, 0, 8, (uint8_t *)ro, NULL));
	EXPECT_EQ(-EFAULT, cowdev_diff(a, b, 0, 8, unmapped_addr(), NULL));
	EXPECT_EQ(-EFAULT, cowdev_diff(a, b, 0, 8, KERNEL_ADDR, NULL));
	EXPECT_EQ(-EFAULT, cowdev_diff(a, b, 0, 8, (void *)1, NULL));
	EXPECT_EQ(0, ro[0]);
	expect_state(a, &sa);
	expect_state(b, &sb);
	expect_pool(e->ctl, &pi);
	expect_pages(ma, "ab..");
}

/* ======================================================================== */
/* ROLLBACK                                                                 */
/* ======================================================================== */

/*
 * A view diverged from its snapshot is rolled back: it reads the
 * snapshot's contents through the mapping it had, DIFF says SAME
 * everywhere, both sides' pages are shared and clean, the pages only it
 * held went back to the pool (exact deltas), rollbacks 1 and
 * rollback_pages the slots that changed; writes afterwards are COW on
 * either side.
 */
TEST_F(snap, rollback_shares_the_snapshot)
{
	struct cowdev_pool_info pi0, pi;
	struct cowdev_stats st0, st;
	struct env *e = &self->e;
	char *ma, *ms;
	uint64_t size;
	int a, s;

	a = filled_view(e, 8, &ma, "abcdef");
	ASSERT_LE(0, a);
	read_pages(ma, 8);
	s = mapped_clone(e, a, 8, &ms);
	ASSERT_LE(0, s);
	fill(ma, 1, 'X');
	fill(ma, 3, 'Z');
	fill(ma, 6, 'Y');
	expect_pages(ma, "aXcZefY.");
	expect_diff(a, s, "sdsdsst.");
	pi0 = cowdev_pool_of(e->ctl);
	st0 = cowdev_stats_of(a);

	ASSERT_EQ(0, cowdev_rollback(a, s));
	st = cowdev_stats_of(a);
	EXPECT_EQ(st0.rollbacks + 1, st.rollbacks);
	EXPECT_EQ(st0.rollback_pages + 3, st.rollback_pages);
	EXPECT_EQ(st0.cow_copies, st.cow_copies);
	EXPECT_EQ(6, st.resident_pages);
	EXPECT_EQ(6, st.shared_pages);
	EXPECT_EQ(8, st.size_pages);
	EXPECT_EQ(0, cowdev_stats_of(s).rollbacks);
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(pi0.free_pages + 3, pi.free_pages);
	EXPECT_EQ(pi0.used_pages - 3, pi.used_pages);
	EXPECT_EQ(pi0.frees + 3, pi.frees);
	EXPECT_EQ(pi0.allocs, pi.allocs);
	EXPECT_EQ(pi0.views, pi.views);
	ASSERT_EQ(0, cowdev_get_size(a, &size));
	EXPECT_EQ(8 * ps, size);
	expect_map(a, "ssssss..");
	expect_map(s, "ssssss..");
	expect_pages(ma, "abcdef..");
	expect_diff(a, s, "ssssss..");

	/* Writes after it: COW both ways, each side keeps its own. */
	fill(ma, 0, 'q');
	fill(ms, 2, 'r');
	fill(ma, 7, 'h');
	expect_pages(ma, "qbcdef.h");
	expect_pages(ms, "abrdef..");
	EXPECT_EQ(st0.cow_copies + 1, cowdev_stats_of(a).cow_copies);
	expect_diff(a, s, "dsdsss.t");
	expect_map(a, "dsrsss.d");
	expect_map(s, "rsdsss..");
}

/*
 * The old pages of the view that another view still holds (a clone taken
 * after the divergence) stay in use; only the others go back.
 */
TEST_F(snap, rollback_frees_only_pages_no_view_holds)
{
	struct cowdev_pool_info pi0, pi;
	struct env *e = &self->e;
	char *ma, *mc;
	int a, s, c;

	a = filled_view(e, 4, &ma, "abcd");
	ASSERT_LE(0, a);
	s = clone_of(e, a);
	ASSERT_LE(0, s);
	fill(ma, 1, 'X');
	fill(ma, 2, 'Y');
	c = clone_of(e, a);		/* holds X and Y */
	ASSERT_LE(0, c);
	fill(ma, 2, 'W');		/* a copy of Y for A alone */
	pi0 = cowdev_pool_of(e->ctl);
	ASSERT_EQ(0, cowdev_rollback(a, s));
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(pi0.free_pages + 1, pi.free_pages);
	EXPECT_EQ(pi0.used_pages - 1, pi.used_pages);
	EXPECT_EQ(2, cowdev_stats_of(a).rollback_pages);
	mc = map_of(e, c, 4, MAP_SHARED);
	ASSERT_NE(NULL, mc);
	expect_pages(mc, "aXYd");
	expect_pages(ma, "abcd");
	expect_diff(a, c, "sdds");
	expect_diff(a, s, "ssss");
	expect_map(a, "ssss");
	expect_map(c, "srrs");
}

/* Map all @n pages of @m once, writing the first byte of @w ones. */
static void touch_all(char *m, size_t n, const char *w)
{
	size_t i;

	read_pages(m, n);
	for (i = 0; w && w[i]; i++)
		if (w[i] != '.')
			m[i * ps] = w[i];
}

/*
 * A process that had the view mapped (ptes for every page, writable ones
 * too) when another rolled it back reads the snapshot afterwards, and its
 * write then is COW: it lands in the view, not in the snapshot.
 */
TEST_F(snap, rollback_zaps_ptes_in_every_process)
{
	struct env *e = &self->e;
	struct gate g;
	char *ma, *ms;
	pid_t pid;
	int a, s;

	a = filled_view(e, 8, &ma, "abcdefgh");
	ASSERT_LE(0, a);
	s = clone_of(e, a);
	ASSERT_LE(0, s);
	fill_str(ma, "ABCDEFGH");
	ASSERT_EQ(0, gate_open(e, &g));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		const char *want = "abcdefgh";
		size_t i;

		touch_all(ma, 8, "ABCDEFGH");	/* writable ptes */
		if (gate_hold(&g))
			_exit(10);
		for (i = 0; i < 8; i++)
			if (!cowdev_all_bytes(ma + i * ps, ps, want[i]))
				_exit(20 + i);
		fill(ma, 1, 'Q');
		_exit(0);
	}
	ASSERT_EQ(0, gate_wait(&g));
	touch_all(ma, 8, "ABCDEFGH");
	ASSERT_EQ(0, cowdev_rollback(a, s));
	expect_pages(ma, "abcdefgh");
	ASSERT_EQ(0, gate_release(&g));
	EXPECT_EQ(0, cowdev_child_status(pid));
	ms = map_of(e, s, 8, MAP_SHARED);
	ASSERT_NE(NULL, ms);
	expect_pages(ma, "aQcdefgh");
	expect_pages(ms, "abcdefgh");
	expect_diff(a, s, "sdssssss");
}

/*
 * A snapshot smaller than the view: the size becomes the snapshot's, the
 * pages beyond it are dropped (counted in rollback_pages, back to the
 * pool), and an access there through a mapping made before -- in this
 * process or another -- is SIGBUS.
 */
TEST_F(snap, rollback_to_a_smaller_snapshot)
{
	struct cowdev_pool_info pi0, pi;
	struct env *e = &self->e;
	struct gate g;
	uint64_t size;
	char *ma, c;
	pid_t pid;
	int a, s;

	a = view(e, 4, NULL);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, cowdev_set_size(a, 8 * ps));
	ma = map_of(e, a, 8, MAP_SHARED);
	ASSERT_NE(NULL, ma);
	fill_str(ma, "abcd");
	ASSERT_EQ(0, cowdev_set_size(a, 4 * ps));
	s = clone_of(e, a);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, cowdev_set_size(a, 8 * ps));
	fill_str(ma, ".B...F.H");
	ASSERT_EQ(0, gate_open(e, &g));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		touch_all(ma, 8, NULL);
		if (gate_hold(&g))
			_exit(10);
		if (cowdev_try_read(ma + 5 * ps, &c) != SIGBUS)
			_exit(11);
		if (cowdev_try_write(ma + 4 * ps, 'x') != SIGBUS)
			_exit(12);
		if (cowdev_try_read(ma + ps, &c) || c != 'b')
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(0, gate_wait(&g));
	pi0 = cowdev_pool_of(e->ctl);
	ASSERT_EQ(0, cowdev_rollback(a, s));
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(pi0.free_pages + 3, pi.free_pages);
	EXPECT_EQ(pi0.used_pages - 3, pi.used_pages);
	ASSERT_EQ(0, cowdev_get_size(a, &size));
	EXPECT_EQ(4 * ps, size);
	EXPECT_EQ(4, cowdev_stats_of(a).size_pages);
	EXPECT_EQ(1, cowdev_stats_of(a).rollbacks);
	EXPECT_EQ(3, cowdev_stats_of(a).rollback_pages);
	ASSERT_EQ(0, gate_release(&g));
	EXPECT_EQ(0, cowdev_child_status(pid));
	EXPECT_EQ(SIGBUS, cowdev_try_read(ma + 7 * ps, &c));
	EXPECT_EQ(SIGBUS, cowdev_try_read(ma + 4 * ps, &c));
	expect_pages(ma, "abcd");
	expect_map(a, "ssss");
	expect_diff(a, s, "ssss");
	/* Grown again: holes, not the dropped pages. */
	ASSERT_EQ(0, cowdev_set_size(a, 8 * ps));
	expect_pages(ma, "abcd....");
	expect_map(a, "ssss....");
}

/*
 * A snapshot bigger than the view: the size becomes the snapshot's, and a
 * mapping made before over the larger range reaches the new pages.
 */
TEST_F(snap, rollback_to_a_bigger_snapshot)
{
	struct cowdev_pool_info pi0, pi;
	struct env *e = &self->e;
	char *ma, *ms, c;
	uint64_t size;
	int a, s;

	a = view(e, 4, NULL);
	ASSERT_LE(0, a);
	ma = map_of(e, a, 10, MAP_SHARED);
	ASSERT_NE(NULL, ma);
	fill_str(ma, "abcd");
	s = clone_of(e, a);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, cowdev_set_size(s, 10 * ps));
	ms = map_of(e, s, 10, MAP_SHARED);
	ASSERT_NE(NULL, ms);
	fill(ms, 8, 'I');
	fill(ms, 2, 'C');
	EXPECT_EQ(SIGBUS, cowdev_try_read(ma + 8 * ps, &c));
	pi0 = cowdev_pool_of(e->ctl);
	ASSERT_EQ(0, cowdev_rollback(a, s));
	pi = cowdev_pool_of(e->ctl);
	/* A's page 2 was its own since S copied it. */
	EXPECT_EQ(pi0.free_pages + 1, pi.free_pages);
	EXPECT_EQ(pi0.used_pages - 1, pi.used_pages);
	ASSERT_EQ(0, cowdev_get_size(a, &size));
	EXPECT_EQ(10 * ps, size);
	EXPECT_EQ(2, cowdev_stats_of(a).rollback_pages);
	expect_pages(ma, "abCd....I.");
	expect_diff(a, s, "ssss....s.");
	expect_map(a, "ssss....s.");
	fill(ma, 9, 'J');
	expect_pages(ms, "abCd....I.");
	expect_diff(a, s, "ssss....st");
}

/*
 * Any view of the family is a snapshot: a clone rolled back onto its
 * source, the source onto a clone's clone, a view onto a twin (nothing
 * changes: rollback_pages += 0, rollbacks += 1).
 */
TEST_F(snap, rollback_within_a_family)
{
	struct cowdev_pool_info pi0, pi;
	struct env *e = &self->e;
	char *ma, *mb, *md;
	int a, b, c, d;

	a = filled_view(e, 6, &ma, "abcd");
	ASSERT_LE(0, a);
	b = mapped_clone(e, a, 6, &mb);
	ASSERT_LE(0, b);
	fill_str(mb, "B...E");
	pi0 = cowdev_pool_of(e->ctl);
	ASSERT_EQ(0, cowdev_rollback(b, a));	/* a clone onto its source */
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(pi0.free_pages + 2, pi.free_pages);
	EXPECT_EQ(2, cowdev_stats_of(b).rollback_pages);
	expect_pages(mb, "abcd..");
	expect_diff(b, a, "ssss..");

	c = clone_of(e, b);
	ASSERT_LE(0, c);
	d = mapped_clone(e, c, 6, &md);
	ASSERT_LE(0, d);
	fill(md, 1, 'D');
	fill(ma, 2, 'A');
	pi0 = cowdev_pool_of(e->ctl);
	ASSERT_EQ(0, cowdev_rollback(a, d));	/* onto a clone's clone */
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(pi0.free_pages + 1, pi.free_pages);	/* A's 'A' page */
	EXPECT_EQ(2, cowdev_stats_of(a).rollback_pages);
	expect_pages(ma, "aDcd..");
	expect_diff(a, d, "ssss..");
	expect_diff(a, b, "sdss..");

	/* Onto a twin: nothing changes but the counter. */
	pi0 = cowdev_pool_of(e->ctl);
	ASSERT_EQ(0, cowdev_rollback(c, b));
	EXPECT_EQ(1, cowdev_stats_of(c).rollbacks);
	EXPECT_EQ(0, cowdev_stats_of(c).rollback_pages);
	expect_pool(e->ctl, &pi0);
	expect_diff(c, b, "ssss..");
}

/*
 * Bad snapshots: EBADF for an fd that is not open, EINVAL for a file that
 * is not a view, for flags, for the view itself (the same fd, a dup),
 * EXDEV for a view of another family (either way); nothing changes --
 * contents, size, counters, page states, written bits, the pool.
 */
TEST_F(snap, rollback_errors_change_nothing)
{
	struct view_state sa, ss, sx;
	struct cowdev_pool_info pi;
	struct env *e = &self->e;
	int a, s, x, nul, dup_a, p[2];
	char *ma, *mx;
	size_t i;

	a = filled_view(e, 8, &ma, "abcd");
	ASSERT_LE(0, a);
	s = clone_of(e, a);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, cowdev_set_size(s, 6 * ps));
	fill_str(ma, ".X....g");
	x = filled_view(e, 8, &mx, "x");
	ASSERT_LE(0, x);
	nul = reg_fd(e, open("/dev/null", O_RDWR | O_CLOEXEC));
	ASSERT_LE(0, nul);
	dup_a = reg_fd(e, dup(a));
	ASSERT_LE(0, dup_a);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	reg_fd(e, p[0]);
	reg_fd(e, p[1]);
	state_of(a, 8, &sa);
	state_of(s, 6, &ss);
	state_of(x, 8, &sx);
	pi = cowdev_pool_of(e->ctl);

	EXPECT_EQ(-EBADF, raw_rollback(a, -1, 0));
	EXPECT_EQ(-EBADF, raw_rollback(a, closed_fd(), 0));
	EXPECT_EQ(-EBADF, raw_rollback(a, 0x7ffffff0, 0));
	EXPECT_EQ(-EINVAL, raw_rollback(a, nul, 0));
	EXPECT_EQ(-EINVAL, raw_rollback(a, p[0], 0));
	EXPECT_EQ(-EINVAL, raw_rollback(a, p[1], 0));
	EXPECT_EQ(-EINVAL, raw_rollback(a, a, 0));
	EXPECT_EQ(-EINVAL, raw_rollback(a, dup_a, 0));
	EXPECT_EQ(-EINVAL, raw_rollback(dup_a, a, 0));
	for (i = 0; i < 32; i++) {
		EXPECT_EQ(-EINVAL, raw_rollback(a, s, 1U << i))
			TH_LOG("flags %#x", 1U << i);
	}
	EXPECT_EQ(-EXDEV, raw_rollback(a, x, 0));
	EXPECT_EQ(-EXDEV, raw_rollback(x, a, 0));
	EXPECT_EQ(-EXDEV, raw_rollback(x, s, 0));

	expect_state(a, &sa);
	expect_state(s, &ss);
	expect_state(x, &sx);
	expect_pool(e->ctl, &pi);
	expect_pages(ma, "aXcd..g.");
	expect_pages(mx, "x.......");
}

/* ---- a writer racing with the rollback ---------------------------------- */

#define RACE_PAGES	16
#define RACE_SLOTS	8	/* words of a page the writer cycles through */
#define RACE_ROUNDS	3

struct race_ctl {
	uint64_t progress;	/* iterations the writer completed */
	int stop;
};

static size_t race_word(unsigned int slot)
{
	return slot * (ps / 8 / RACE_SLOTS);
}

static uint64_t snap_word(size_t page, size_t w)
{
	return 0x5100000000000000ULL | (uint64_t)page << 32 | w;
}

static uint64_t old_word(size_t page, size_t w)
{
	return 0x0100000000000000ULL | (uint64_t)page << 32 | w;
}

/* Iteration @k of round @round writes this into page @page. */
static uint64_t child_word(int round, uint64_t k, size_t page)
{
	return 0xc000000000000000ULL | (uint64_t)round << 56 | k << 16 | page;
}

/* Iteration k writes word slot k % RACE_SLOTS of every page. */
static void race_writer(char *m, struct race_ctl *ctl, int round)
{
	uint64_t k;
	size_t i;

	for (k = 1; !__atomic_load_n(&ctl->stop, __ATOMIC_ACQUIRE); k++) {
		for (i = 0; i < RACE_PAGES; i++)
			((volatile uint64_t *)(m + i * ps))
				[race_word(k % RACE_SLOTS)] =
				child_word(round, k, i);
		__atomic_store_n(&ctl->progress, k, __ATOMIC_RELEASE);
	}
}

static uint64_t race_progress(struct race_ctl *ctl)
{
	return __atomic_load_n(&ctl->progress, __ATOMIC_ACQUIRE);
}

/*
 * After a round: every word of the view that the writer never writes is
 * the snapshot's; a slot whose last write (iteration lastk) completed
 * before the rollback began (lastk <= k0) holds the snapshot's word, one
 * written after the rollback returned (lastk >= p + 2) holds that write,
 * and one in between either.  Nothing else: no word of the contents before
 * the rollback, no earlier write of the writer.  The snapshot is intact.
 */
static int check_race(struct __test_metadata *_metadata, const char *ma,
		      const char *ms, int round, uint64_t k0, uint64_t p,
		      uint64_t kf)
{
	size_t i, w, slot, bad = 0;

	for (i = 0; i < RACE_PAGES; i++) {
		const uint64_t *pa = (const uint64_t *)(ma + i * ps);
		const uint64_t *psn = (const uint64_t *)(ms + i * ps);

		for (w = 0; w < ps / 8; w++) {
			uint64_t got = pa[w], lastk = 0, cw;
			int ok = 0;

			if (psn[w] != snap_word(i, w) && !bad++)
				TH_LOG("snapshot page %zu word %zu: %#" PRIx64,
				       i, w, psn[w]);
			for (slot = 0; slot < RACE_SLOTS; slot++)
				if (race_word(slot) == w)
					break;
			if (slot < RACE_SLOTS)
				lastk = kf - (kf + RACE_SLOTS - slot) % RACE_SLOTS;
			cw = lastk ? child_word(round, lastk, i) : 0;
			if (!lastk || lastk <= k0)
				ok = got == snap_word(i, w);
			else if (lastk >= p + 2)
				ok = got == cw;
			else
				ok = got == cw || got == snap_word(i, w);
			if (!ok && !bad++)
				TH_LOG("round %d page %zu word %zu: %#" PRIx64 " (last write %" PRIu64 ", k0 %" PRIu64 " p %" PRIu64 " kf %" PRIu64 ")",
				       round, i, w, got, lastk, k0, p, kf);
		}
	}
	return bad;
}

/*
 * A child writes a known pattern into every page of the view in a loop
 * while the parent rolls the view back onto its snapshot: each write lands
 * either before (lost) or after (on the snapshot's contents), never in the
 * snapshot and never a mix (check_race).  Three rounds.
 */
TEST_F_TIMEOUT(snap, rollback_races_with_a_writer, 120)
{
	struct env *e = &self->e;
	uint64_t k0, p, kf;
	struct race_ctl *ctl;
	char *ma, *ms;
	int a, s, round;
	size_t i, w;
	pid_t pid;

	a = view(e, RACE_PAGES, &ma);
	ASSERT_LE(0, a);
	for (i = 0; i < RACE_PAGES; i++)
		for (w = 0; w < ps / 8; w++)
			((uint64_t *)(ma + i * ps))[w] = snap_word(i, w);
	s = mapped_clone(e, a, RACE_PAGES, &ms);
	ASSERT_LE(0, s);
	ctl = mmap(NULL, ps, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, (void *)ctl);
	reg_map(e, (char *)ctl, ps);

	for (round = 1; round <= RACE_ROUNDS; round++) {
		for (i = 0; i < RACE_PAGES; i++)
			for (w = 0; w < ps / 8; w++)
				((uint64_t *)(ma + i * ps))[w] = old_word(i, w);
		memset(ctl, 0, sizeof(*ctl));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			race_writer(ma, ctl, round);
			_exit(0);
		}
		while (race_progress(ctl) < 20 * round)
			sched_yield();
		k0 = race_progress(ctl);
		ASSERT_EQ(0, cowdev_rollback(a, s));
		p = race_progress(ctl);
		while (race_progress(ctl) < p + 3 * RACE_SLOTS + 2)
			sched_yield();
		__atomic_store_n(&ctl->stop, 1, __ATOMIC_RELEASE);
		ASSERT_EQ(0, cowdev_child_status(pid));
		kf = race_progress(ctl);
		EXPECT_EQ(0, check_race(_metadata, ma, ms, round, k0, p, kf));
		/* Every page was written after the rollback: a copy each. */
		expect_map(s, "rrrrrrrrrrrrrrrr");
		expect_diff(a, s, "dddddddddddddddd");
	}
	EXPECT_EQ(RACE_ROUNDS, cowdev_stats_of(a).rollbacks);
}

/* ======================================================================== */
/* WRITTEN                                                                  */
/* ======================================================================== */

/*
 * A new view has no bit set.  A write through a MAP_SHARED mapping sets
 * its page's bit (to a hole, to a page read before); a read, a hole read,
 * a MAP_PRIVATE write do not.  Bit i of byte j is page start + 8j + i,
 * bits past the count are 0, the count alone is the number of bits.
 */
TEST_F(snap, written_bits_and_layout)
{
	static const char *want = "w..w....ww.....w...w";
	struct env *e = &self->e;
	struct cowdev_stats st;
	uint64_t n = ~0ULL;
	char *ma, *mp;
	int a;

	a = view(e, 20, &ma);
	ASSERT_LE(0, a);
	expect_written(a, "....................");
	fill_str(ma, "x.......y");
	read_pages(ma, 20);
	mp = map_of(e, a, 20, MAP_PRIVATE);
	ASSERT_NE(NULL, mp);
	fill(mp, 4, 'p');
	fill(mp, 0, 'p');
	ma[3 * ps] = 1;
	ma[9 * ps + 100] = 1;
	ma[15 * ps + ps - 1] = 1;
	ma[19 * ps] = 1;
	expect_written(a, want);
	expect_written_at(a, 3, "w....ww...");
	expect_written_at(a, 8, "ww.....w");
	expect_written_at(a, 8, "ww.....w.");
	expect_written_at(a, 19, "w");
	expect_written_at(a, 1, "..w....ww.....w...w");
	ASSERT_EQ(0, cowdev_written(a, 20, 0, NULL, 0, &n));
	EXPECT_EQ(0, n);
	ASSERT_EQ(0, cowdev_written(a, 0, 20, NULL, 0, &n));
	EXPECT_EQ(6, n);
	expect_wmap(a, "D..D....DD.....D...D");
	st = cowdev_stats_of(a);
	/* Each expect_written is two queries: the count, then the bits. */
	EXPECT_EQ(2 + 6 * 2 + 2, st.written_queries);
	EXPECT_EQ(0, st.written_clears);
}

/*
 * CLEAR returns the bits and clears them for its range only, and re-arms
 * tracking: a second write through the very pte that was writable before
 * is seen again, without a new mmap.
 */
TEST_F(snap, written_clear_rearms_tracking)
{
	struct env *e = &self->e;
	struct cowdev_stats st;
	char *ma;
	int a;

	a = filled_view(e, 8, &ma, "abc");
	ASSERT_LE(0, a);
	expect_cleared(a, 0, "www.....");
	expect_written(a, "........");
	expect_cleared(a, 0, "........");
	ma[0] = 'x';			/* through the old writable pte */
	expect_written(a, "w.......");
	expect_cleared(a, 1, "..");
	ma[ps] = 'y';
	ma[2 * ps] = 'z';
	ma[5 * ps] = 'f';
	expect_written(a, "www..w..");
	expect_cleared(a, 2, "w.");	/* pages 2 and 3 only */
	expect_written(a, "ww...w..");
	ma[2 * ps + 1] = 'z';
	expect_written(a, "www..w..");
	expect_cleared(a, 0, "www..w..");
	expect_written(a, "........");
	EXPECT_EQ('x', ma[0]);
	EXPECT_EQ('a', ma[1]);
	EXPECT_EQ('y', ma[ps]);
	st = cowdev_stats_of(a);
	EXPECT_EQ(5, st.written_clears);
	EXPECT_EQ(5 + 6 * 2, st.written_queries);
}

/*
 * Writes of any process count: a forked child's, also through a pte it
 * had made writable before the parent's CLEAR.  MADV_DONTNEED neither sets
 * nor clears a bit (the contents stay); a write after it sets it again.
 */
TEST_F(snap, written_across_fork_and_dontneed)
{
	struct env *e = &self->e;
	struct gate g;
	pid_t pid;
	char *ma;
	int a;

	a = filled_view(e, 8, &ma, "abcd");
	ASSERT_LE(0, a);
	expect_cleared(a, 0, "wwww....");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		fill(ma, 1, 'B');
		_exit(0);
	}
	ASSERT_EQ(0, cowdev_child_status(pid));
	expect_written(a, ".w......");
	expect_pages(ma, "aBcd");

	ASSERT_EQ(0, gate_open(e, &g));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		ma[2 * ps] = 'C';	/* a writable pte in the child */
		if (gate_hold(&g))
			_exit(10);
		ma[2 * ps + 1] = 'C';
		_exit(0);
	}
	ASSERT_EQ(0, gate_wait(&g));
	expect_cleared(a, 0, ".ww.....");
	ASSERT_EQ(0, gate_release(&g));
	ASSERT_EQ(0, cowdev_child_status(pid));
	expect_written(a, "..w.....");

	/* MADV_DONTNEED keeps bits and contents, and sets none. */
	ASSERT_EQ(0, madvise(ma, 8 * ps, MADV_DONTNEED));
	expect_written(a, "..w.....");
	expect_pages(ma, "aB");
	EXPECT_EQ('C', ma[2 * ps + 1]);
	expect_cleared(a, 0, "..w.....");
	ASSERT_EQ(0, madvise(ma, 8 * ps, MADV_DONTNEED));
	expect_written(a, "........");
	ma[3 * ps] = 'D';
	expect_written(a, "...w....");
	expect_wmap(a, "dddD....");
}

/*
 * A clone starts with no bit set; the source keeps its own.  Writes
 * through the clone count on the clone only, and the other way round.
 */
TEST_F(snap, written_clone_starts_clean)
{
	struct env *e = &self->e;
	char *ma, *mb;
	int a, b;

	a = filled_view(e, 8, &ma, "ab");
	ASSERT_LE(0, a);
	b = clone_of(e, a);
	ASSERT_LE(0, b);
	expect_written(b, "........");
	expect_written(a, "ww......");
	mb = map_of(e, b, 8, MAP_SHARED);
	ASSERT_NE(NULL, mb);
	fill(mb, 0, 'A');		/* COW */
	fill(mb, 2, 'C');		/* a hole */
	expect_written(b, "w.w.....");
	expect_written(a, "ww......");
	fill(ma, 3, 'd');
	fill(ma, 1, 'B');		/* COW in the source */
	expect_written(a, "ww.w....");
	expect_written(b, "w.w.....");
	expect_wmap(a, "RD.D....");
	expect_wmap(b, "DrD.....");
}

/*
 * Pages that went away count as written: a shrink and a grow leave holes
 * whose bit is set where a page was (PAGE_STATE: WRITTEN alone), none
 * where there was none; a CLEAR clears them like any other.
 */
TEST_F(snap, written_pages_gone_by_a_shrink)
{
	struct env *e = &self->e;
	uint8_t bits[1];
	char *ma;
	int a, c;

	a = filled_view(e, 8, &ma, "abc.ef");
	ASSERT_LE(0, a);
	c = clone_of(e, a);		/* holds the pages: they stay */
	ASSERT_LE(0, c);
	expect_cleared(a, 0, "www.ww..");
	ASSERT_EQ(0, cowdev_set_size(a, 2 * ps));
	EXPECT_EQ(-EINVAL, raw_written(a, 0, 8, bits, 0));
	expect_written(a, "..");
	ASSERT_EQ(0, cowdev_set_size(a, 8 * ps));
	expect_written(a, "..w.ww..");
	expect_wmap(a, "ssW.WW..");
	expect_cleared(a, 0, "..w.ww..");
	expect_wmap(a, "ss......");
	fill(ma, 4, 'E');
	expect_written(a, "....w...");
	/* Without a clone the pages go back to the pool: the same. */
	drop_fd(e, c);
	expect_cleared(a, 0, "....w...");
	ASSERT_EQ(0, cowdev_set_size(a, 3 * ps));
	ASSERT_EQ(0, cowdev_set_size(a, 8 * ps));
	expect_written(a, "....w...");
	expect_wmap(a, "rr..W...");
}

/*
 * After a rollback, every index whose page changed is written (another
 * page, a hole where a page was, a page where a hole was); unchanged ones
 * are not; the snapshot's bits are its own.
 */
TEST_F(snap, written_after_a_rollback)
{
	struct env *e = &self->e;
	char *ma, *ms;
	int a, s;

	a = filled_view(e, 8, &ma, "abcd");
	ASSERT_LE(0, a);
	s = mapped_clone(e, a, 8, &ms);
	ASSERT_LE(0, s);
	expect_cleared(a, 0, "wwww....");
	expect_written(s, "........");
	fill(ma, 1, 'X');
	fill(ma, 5, 'Y');
	fill(ms, 2, 'Z');
	fill(ms, 6, 'W');
	expect_written(a, ".w...w..");
	expect_written(s, "..w...w.");
	expect_cleared(a, 0, ".w...w..");
	ASSERT_EQ(0, cowdev_rollback(a, s));
	EXPECT_EQ(4, cowdev_stats_of(a).rollback_pages);
	expect_written(a, ".ww..ww.");
	expect_wmap(a, "sSSs.WS.");
	expect_wmap(s, "ssSs..S.");	/* shared now: no longer dirty */
	expect_written(s, "..w...w.");
	expect_pages(ma, "abZd..W.");
}

/*
 * Every flag bit 1..63 added to @clr: EINVAL (with count 8 and count 0).
 * Returns the number of wrong answers; logs the first.
 */
static int bad_written_flags(int fd, unsigned int clr, uint8_t *buf)
{
	long r1, r2;
	int i, bad = 0;

	for (i = 1; i < 64; i++) {
		r1 = raw_written(fd, 0, 8, buf, clr | 1ULL << i);
		r2 = raw_written(fd, 0, 0, NULL, clr | 1ULL << i);
		if (r1 == -EINVAL && r2 == -EINVAL)
			continue;
		if (!bad++)
			fprintf(stderr, "# WRITTEN flags %#llx: %ld, count 0: %ld, not EINVAL\n",
				(unsigned long long)(clr | 1ULL << i), r1, r2);
	}
	return bad;
}

/*
 * EINVAL for a range past the size or overflowing, for any flag other than
 * COWDEV_WRITTEN_CLEAR (in all 64 bits), with or without CLEAR; nothing
 * changes (no bit cleared, no counter, nothing written to the buffer).
 * count 0 is fine anywhere up to the size, with any buffer.
 */
TEST_F(snap, written_bad_ranges_and_flags)
{
	static const struct { uint64_t start, count; } bad[] = {
		{ 0, 9 }, { 8, 1 }, { 7, 2 }, { 9, 0 }, { ~0ULL, 2 },
		{ 1, ~0ULL }, { 1ULL << 63, 1ULL << 63 },
	};
	struct cowdev_pool_info pi;
	struct env *e = &self->e;
	struct view_state sa;
	uint8_t buf[4];
	unsigned int clr;
	size_t i;
	char *ma;
	int a;

	a = filled_view(e, 8, &ma, "a.c");
	ASSERT_LE(0, a);
	state_of(a, 8, &sa);
	pi = cowdev_pool_of(e->ctl);
	memset(buf, 0x5a, sizeof(buf));
	for (clr = 0; clr <= COWDEV_WRITTEN_CLEAR; clr++) {
		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			EXPECT_EQ(-EINVAL, raw_written(a, bad[i].start,
						       bad[i].count, buf, clr))
				TH_LOG("start %llu count %llu flags %u",
				       (unsigned long long)bad[i].start,
				       (unsigned long long)bad[i].count, clr);
		}
		EXPECT_EQ(0, bad_written_flags(a, clr, buf))
			TH_LOG("with flags %u", clr);
	}
	EXPECT_EQ(-EINVAL, raw_written(a, 0, 8, buf, ~0ULL));
	EXPECT_EQ(0x5a5a5a5a, *(uint32_t *)buf);
	expect_state(a, &sa);
	expect_pool(e->ctl, &pi);
	expect_written(a, "w.w.....");
	/* count 0: fine, any buffer, also at the end. */
	EXPECT_EQ(0, raw_written(a, 8, 0, KERNEL_ADDR, COWDEV_WRITTEN_CLEAR));
	EXPECT_EQ(0, raw_written(a, 0, 0, NULL, 0));
	expect_written(a, "w.w.....");
	sa.st.written_queries += 2 * 2 + 2;
	sa.st.written_clears += 1;
	expect_state(a, &sa);
}

/*
 * EFAULT for a buffer that cannot be written (read-only, unmapped, a
 * kernel address), with or without CLEAR: a call that failed changed
 * nothing -- no counter, and no bit is lost (CLEAR's bits are still there
 * for the next call).
 */
TEST_F(snap, written_bad_buffer_loses_nothing)
{
	struct cowdev_pool_info pi;
	struct env *e = &self->e;
	struct view_state sa;
	unsigned int clr;
	char *ma, *ro;
	int a;

	a = filled_view(e, 8, &ma, "a.c");
	ASSERT_LE(0, a);
	ro = ro_page(e);
	ASSERT_NE(NULL, ro);
	state_of(a, 8, &sa);
	pi = cowdev_pool_of(e->ctl);
	for (clr = 0; clr <= COWDEV_WRITTEN_CLEAR; clr++) {
		EXPECT_EQ(-EFAULT, raw_written(a, 0, 8, ro, clr));
		EXPECT_EQ(-EFAULT, raw_written(a, 0, 8, unmapped_addr(), clr));
		EXPECT_EQ(-EFAULT, raw_written(a, 0, 8, KERNEL_ADDR, clr));
	}
	EXPECT_EQ(0, ro[0]);
	expect_state(a, &sa);
	expect_pool(e->ctl, &pi);
	expect_written(a, "w.w.....");
}

/*
 * PAGE_STATE's flags: 0 (the bytes as before write tracking: no
 * COWDEV_PAGE_WRITTEN, see expect_wmap) or COWDEV_PAGE_STATE_WRITTEN; any
 * other bit of the 64 is EINVAL and writes nothing.
 */
TEST_F(snap, page_state_flags)
{
	struct env *e = &self->e;
	uint8_t states[8];
	size_t i, bad;
	long r1, r2;
	char *ma;
	int a;

	a = filled_view(e, 8, &ma, "a.c");
	ASSERT_LE(0, a);
	memset(states, 0x5a, sizeof(states));
	for (i = 1, bad = 0; i < 64; i++) {
		r1 = page_state(a, 0, 8, states, 1ULL << i);
		r2 = page_state(a, 0, 8, states,
				COWDEV_PAGE_STATE_WRITTEN | 1ULL << i);
		if ((r1 != -EINVAL || r2 != -EINVAL) && !bad++)
			TH_LOG("flags bit %zu: %ld, with WRITTEN %ld", i, r1, r2);
	}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(-EINVAL, page_state(a, 0, 0, NULL, 2));
	for (i = 0; i < sizeof(states); i++)
		EXPECT_EQ(0x5a, states[i]);
	expect_wmap(a, "D.D.....");
}

/* ---- CLEAR racing with a writer ------------------------------------------ */

#define CLR_PAGES	32
#define CLR_PASSES	12
#define CLR_MAX		4096	/* CLEARs recorded */

struct clr_writer {
	char *m;
	uint64_t done;		/* writes completed */
};

static void *clr_write(void *arg)
{
	struct clr_writer *w = arg;
	uint64_t n;

	for (n = 0; n < CLR_PAGES * CLR_PASSES; n++) {
		w->m[(n % CLR_PAGES) * ps + n / CLR_PAGES] = (char)n;
		__atomic_store_n(&w->done, n + 1, __ATOMIC_RELEASE);
		if (n % 7 == 0)
			sched_yield();
	}
	return NULL;
}

struct clr_answer {
	uint64_t before, after;	/* writes done before the call, after it */
	uint32_t bits;
};

/*
 * Write n (to page n % CLR_PAGES) starts once n writes are done and ends
 * before n + 1 are.  An answer can hold it only if it ended after the
 * write began (its "after" >= n); the first answer that began after the
 * write ended ("before" >= n + 1) must hold it unless an answer between
 * did: a write is in the answer of the CLEAR it raced with or in the next
 * one, never lost.
 */
static int check_clear_answers(struct __test_metadata *_metadata,
			       const struct clr_answer *ans, int nans)
{
	uint64_t n;
	int i, found, bad = 0;

	for (n = 0; n < CLR_PAGES * CLR_PASSES; n++) {
		uint32_t bit = 1U << (n % CLR_PAGES);

		found = 0;
		for (i = 0; i < nans; i++) {
			if (ans[i].after < n)
				continue;
			if (ans[i].bits & bit) {
				found = 1;
				break;
			}
			if (ans[i].before >= n + 1)
				break;
		}
		if (!found && !bad++)
			TH_LOG("write %" PRIu64 " (page %" PRIu64 ") lost", n,
			       n % CLR_PAGES);
	}
	return bad;
}

TEST_F_TIMEOUT(snap, written_clear_never_loses_a_write, 120)
{
	struct env *e = &self->e;
	struct clr_writer w;
	struct clr_answer *ans;
	pthread_t thr;
	uint8_t bits[CLR_PAGES / 8];
	int a, nans = 0, done = 0;
	char *ma;

	ASSERT_EQ(0, CLR_PAGES % 8);
	a = view(e, CLR_PAGES, &ma);
	ASSERT_LE(0, a);
	ans = calloc(CLR_MAX, sizeof(*ans));
	ASSERT_NE(NULL, ans);
	w.m = ma;
	w.done = 0;
	ASSERT_EQ(0, pthread_create(&thr, NULL, clr_write, &w));
	while (!done && nans < CLR_MAX - 1) {
		struct clr_answer *c = &ans[nans++];

		c->before = __atomic_load_n(&w.done, __ATOMIC_ACQUIRE);
		done = c->before == CLR_PAGES * CLR_PASSES;
		ASSERT_EQ(0, cowdev_written(a, 0, CLR_PAGES, bits,
					    COWDEV_WRITTEN_CLEAR, NULL));
		c->after = __atomic_load_n(&w.done, __ATOMIC_ACQUIRE);
		memcpy(&c->bits, bits, sizeof(c->bits));
	}
	pthread_join(thr, NULL);
	/* The last answer: after the writer ended. */
	ans[nans].before = ans[nans].after = CLR_PAGES * CLR_PASSES;
	ASSERT_EQ(0, cowdev_written(a, 0, CLR_PAGES, bits,
				    COWDEV_WRITTEN_CLEAR, NULL));
	memcpy(&ans[nans++].bits, bits, sizeof(ans[0].bits));
	EXPECT_EQ(0, check_clear_answers(_metadata, ans, nans));
	TH_LOG("%d CLEARs", nans);
	expect_written(a, "................................");
	free(ans);
}

/* ======================================================================== */
/* tracepoints                                                              */
/* ======================================================================== */

static const char *tracefs(void)
{
	static const char *const roots[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(roots); i++) {
		snprintf(path, sizeof(path), "%s/instances", roots[i]);
		if (!access(path, W_OK))
			return roots[i];
	}
	return NULL;
}

static int put(const char *dir, const char *file, const char *s)
{
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

/*
 * The events of this process in instance @dir, "name: fields" each, one
 * per line, into @out (@len bytes).
 */
static int trace_lines(const char *dir, char *out, size_t len)
{
	char path[512], line[512], *p;
	size_t used = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", dir);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	out[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, ": cowdev_");
		if (line[0] == '#' || !p)
			continue;
		used += snprintf(out + used, len - used, "%s", p + 2);
		if (used >= len)
			break;
	}
	fclose(f);
	return 0;
}

static uint64_t id_of(int fd)
{
	return cowdev_stats_of(fd).view_id;
}

/*
 * cowdev_diff, cowdev_rollback and cowdev_written: once per call that
 * succeeded, with the documented fields (sizes in pages, no page copied
 * for a rollback without pins); none for a call that failed.
 */
TEST_F(snap, tracepoints)
{
	struct env *e = &self->e;
	char dir[256], pid[32], *got, want[2048];
	const char *root = tracefs();
	uint8_t bits[1];
	int a, s, n = 0;
	char *ma;

	if (!root || geteuid())
		SKIP(return, "no writable tracefs (root only)");
	a = filled_view(e, 6, &ma, "abc");
	ASSERT_LE(0, a);
	s = clone_of(e, a);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, cowdev_set_size(s, 4 * ps));
	fill_str(ma, ".B..e");
	snprintf(dir, sizeof(dir), "%s/instances/cowdev_snap_test.%d", root,
		 getpid());
	rmdir(dir);
	ASSERT_EQ(0, mkdir(dir, 0700)) TH_LOG("%s: %s", dir, strerror(errno));
	snprintf(pid, sizeof(pid), "%d", getpid());
	EXPECT_EQ(0, put(dir, "set_event_pid", pid));
	EXPECT_EQ(0, put(dir, "events/cowdev/cowdev_diff/enable", "1"));
	EXPECT_EQ(0, put(dir, "events/cowdev/cowdev_rollback/enable", "1"));
	EXPECT_EQ(0, put(dir, "events/cowdev/cowdev_written/enable", "1"));
	EXPECT_EQ(0, put(dir, "tracing_on", "1"));

	EXPECT_EQ(0, cowdev_diff(a, s, 1, 5, NULL, NULL));
	EXPECT_EQ(-EINVAL, cowdev_diff(a, s, 1, 6, NULL, NULL));
	EXPECT_EQ(0, cowdev_written(a, 0, 6, bits, 0, NULL));
	EXPECT_EQ(0, cowdev_written(a, 2, 3, NULL, COWDEV_WRITTEN_CLEAR, NULL));
	EXPECT_EQ(-EINVAL, cowdev_written(a, 0, 7, NULL, 0, NULL));
	EXPECT_EQ(-EINVAL, cowdev_rollback(a, a));
	EXPECT_EQ(0, cowdev_rollback(a, s));
	put(dir, "tracing_on", "0");

	n += snprintf(want + n, sizeof(want) - n,
		      "cowdev_diff: view=%llu other=%llu start=1 count=5 same=1 different=1 only_this=1 only_other=0\n",
		      (unsigned long long)id_of(a),
		      (unsigned long long)id_of(s));
	n += snprintf(want + n, sizeof(want) - n,
		      "cowdev_written: view=%llu start=0 count=6 written=4 clear=0\n",
		      (unsigned long long)id_of(a));
	n += snprintf(want + n, sizeof(want) - n,
		      "cowdev_written: view=%llu start=2 count=3 written=2 clear=1\n",
		      (unsigned long long)id_of(a));
	snprintf(want + n, sizeof(want) - n,
		 "cowdev_rollback: view=%llu snapshot=%llu old_size=6 new_size=4 pages=2 copied=0\n",
		 (unsigned long long)id_of(a), (unsigned long long)id_of(s));
	got = calloc(1, 65536);
	ASSERT_NE(NULL, got);
	EXPECT_EQ(0, trace_lines(dir, got, 65536));
	EXPECT_STREQ(want, got);
	put(dir, "events/cowdev/enable", "0");
	rmdir(dir);
	free(got);
}

/* ======================================================================== */
/* with a swap area                                                         */
/* ======================================================================== */

FIXTURE(swap) {
	struct env e;
};

/* Attach a swap area of 256 pages in /tmp: root, none attached yet. */
FIXTURE_SETUP(swap)
{
	char path[] = "/tmp/cowdev_snap_test.XXXXXX";
	struct env *e = &self->e;
	int fd, ret;

	env_setup(_metadata, e);
	if (geteuid())
		SKIP_SETUP("swapon needs root");
	if (e->pi0.swap_total)
		SKIP_SETUP("a swap area is attached already");
	fd = mkostemp(path, O_CLOEXEC);
	ASSERT_LE(0, fd);
	unlink(path);
	ASSERT_EQ(0, ftruncate(fd, 256 * ps));
	ret = cowdev_swapon(e->ctl, fd);
	if (ret == -EBUSY) {
		close(fd);
		SKIP_SETUP("a swap area is attached already (EBUSY)");
	}
	ASSERT_EQ(0, ret) TH_LOG("swapon: %s", strerror(-ret));
	e->swapfd = fd;
	e->pi0 = cowdev_pool_of(e->ctl);
}

FIXTURE_TEARDOWN(swap)
{
	env_teardown(_metadata, &self->e);
}

/*
 * A view of 8 pages, all written, the first @out of them in the swap area
 * (a resident limit of 8 - @out, fifo, lifted afterwards).
 */
static int swapped_view(struct __test_metadata *_metadata, struct env *e,
			char **m, size_t out)
{
	char want[9] = "DDDDDDDD";
	int fd;

	fd = view(e, 8, m);
	if (fd < 0)
		return -1;
	if (cowdev_set_resident_limit(fd, 8 - out))
		return -1;
	fill_str(*m, "abcdefgh");
	if (cowdev_set_resident_limit(fd, 0))
		return -1;
	memset(want, 'X', out);
	expect_wmap(fd, want);
	return fd;
}

/*
 * Swapped-out pages are pages: a slot shared by a clone is SAME, against
 * a page of an unrelated view DIFFERENT, against a hole ONLY_THIS; a
 * write to it (page-in, then COW) makes it DIFFERENT; a page-in through
 * one view keeps it SAME.
 */
TEST_F(swap, diff_counts_swapped_pages)
{
	struct env *e = &self->e;
	char *ma, *mb, *mc;
	int a, b, c;

	a = swapped_view(_metadata, e, &ma, 4);
	ASSERT_LE(0, a);
	b = clone_of(e, a);
	ASSERT_LE(0, b);
	expect_diff(a, b, "ssssssss");
	c = view(e, 8, &mc);
	ASSERT_LE(0, c);
	fill(mc, 0, 'a');
	fill(mc, 5, 'f');
	expect_diff(a, c, "dttttdtt");
	mb = map_of(e, b, 8, MAP_SHARED);
	ASSERT_NE(NULL, mb);
	fill(mb, 1, 'B');
	EXPECT_EQ('c', ma[2 * ps]);	/* a page-in through A */
	expect_diff(a, b, "sdssssss");
	expect_pages(ma, "abcdefgh");
	expect_pages(mb, "aBcdefgh");
}

/*
 * A rollback onto a snapshot with pages in the swap area shares its slots
 * (no I/O, swap_used unchanged), and they read back right; the view's own
 * pages go back to the pool.
 */
TEST_F(swap, rollback_onto_swapped_pages)
{
	struct cowdev_pool_info pi0, pi;
	struct env *e = &self->e;
	char *ma;
	int a, s;

	a = swapped_view(_metadata, e, &ma, 4);
	ASSERT_LE(0, a);
	s = clone_of(e, a);
	ASSERT_LE(0, s);
	fill(ma, 5, 'F');
	fill(ma, 7, 'H');
	pi0 = cowdev_pool_of(e->ctl);
	ASSERT_EQ(0, cowdev_rollback(a, s));
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(pi0.free_pages + 2, pi.free_pages);
	EXPECT_EQ(pi0.swap_used, pi.swap_used);
	EXPECT_EQ(pi0.page_ins, pi.page_ins);
	EXPECT_EQ(pi0.page_outs, pi.page_outs);
	EXPECT_EQ(2, cowdev_stats_of(a).rollback_pages);
	expect_diff(a, s, "ssssssss");
	expect_wmap(a, "HHHHSSSS");
	expect_pages(ma, "abcdefgh");
	expect_diff(a, s, "ssssssss");
}

/* Eviction and page-in keep the written bits; a page-in sets none. */
TEST_F(swap, written_bits_survive_the_swap_area)
{
	struct env *e = &self->e;
	char *ma;
	int a;

	a = swapped_view(_metadata, e, &ma, 6);
	ASSERT_LE(0, a);
	expect_written(a, "wwwwwwww");
	EXPECT_EQ('a', ma[0]);		/* page-in */
	expect_written(a, "wwwwwwww");
	expect_cleared(a, 0, "wwwwwwww");
	EXPECT_EQ('b', ma[ps]);		/* page-in, read */
	fill(ma, 2, 'C');		/* page-in, write */
	fill(ma, 6, 'G');
	fill(ma, 7, 'H');
	expect_written(a, "..w...ww");
	/* Page-ins at a limit of 2 evict written pages: bits kept. */
	ASSERT_EQ(0, cowdev_set_resident_limit(a, 2));
	read_pages(ma + 3 * ps, 3);
	ASSERT_EQ(0, cowdev_set_resident_limit(a, 0));
	expect_written(a, "..w...ww");
	expect_pages(ma, "abCdefGH");
	expect_written(a, "..w...ww");
}

TEST_HARNESS_MAIN
