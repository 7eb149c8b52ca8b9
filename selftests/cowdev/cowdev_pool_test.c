// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev with an exhausted pool, at demand allocations and at COW breaks.
 * `run` loads the module for this binary with pool_pages=256 (each test
 * SKIPs unless /sys/module/cowdev/parameters/pool_pages is small).  The
 * tests run as root, whose views are exempt from user_max_pages, so they
 * can empty the whole pool.  They check:
 *  - a write that needs a page from an empty pool gets SIGBUS, the process
 *    survives, the view's pool_failures and sigbus and the pool's
 *    alloc_failures rise by exactly one, nothing else changes (reads,
 *    existing pages, private mappings, other views' data), and writes work
 *    again once pages are freed by a shrink and by a close;
 *  - concurrent writers racing for the last pages: exact totals;
 *  - a forked child that exhausts the pool and dies leaks nothing;
 *  - a COW break with an empty pool: SIGBUS, both views' data unchanged,
 *    and the break works once a page is free;
 *  - the pre-zeroed reserve (module parameter zero_reserve): first writes
 *    take its pages (zeroed_allocs) or clear one inline when it is empty
 *    (inline_zeroes), pages come back zero either way, and COW copies
 *    count in neither.
 */
#include <errno.h>
#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

#define SMALL_POOL_OR_SKIP() do {					\
	unsigned long n = cowdev_param("pool_pages");				\
	if (!n || n > 4096)						\
		SKIP(return, "pool_pages=%lu is not small (run loads 256)", n); \
} while (0)

/* Write page i's first byte for i in [from, to); the pages written. */
static size_t write_pages(char *map, size_t from, size_t to, char val)
{
	size_t ps = cowdev_page_size(), i;

	for (i = from; i < to; i++)
		if (cowdev_try_write(map + i * ps, val))
			break;
	return i - from;
}

/*
 * The pool runs dry under a writer: exactly the free pages can be written,
 * the next write is SIGBUS (first write to a hole, and write after a hole
 * read), with exact counters; reads, existing pages, private mappings and
 * other views keep working; a shrink and a close give pages back.
 */
TEST(writer_gets_sigbus_when_the_pool_is_empty)
{
	size_t ps = cowdev_page_size(), f, i;
	struct cowdev_pool_info pi0, pi;
	struct cowdev_stats st;
	char *m, *m2, *p, c;
	int fd, fd2;

	SMALL_POOL_OR_SKIP();
	fd = cowdev_new_view(1, &m);
	ASSERT_LE(0, fd);
	pi0 = cowdev_pool_of(fd);
	f = pi0.free_pages;
	ASSERT_LT(16, f);
	ASSERT_EQ(pi0.total_pages, pi0.free_pages + pi0.used_pages + 1);
	munmap(m, ps);
	ASSERT_EQ(0, cowdev_set_size(fd, (f + 8) * ps));
	m = mmap(NULL, (f + 8) * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	fd2 = cowdev_new_view(4, &m2);
	ASSERT_LE(0, fd2);

	/* Every free page, written by root past user_max_pages. */
	ASSERT_EQ(f, write_pages(m, 0, f, 'f'));
	pi = cowdev_pool_of(fd);
	EXPECT_EQ(0, pi.free_pages);
	EXPECT_EQ(pi0.used_pages + f, pi.used_pages);
	EXPECT_EQ(pi.total_pages - 1, pi.peak_used);
	EXPECT_EQ(pi0.alloc_failures, pi.alloc_failures);
	if (cowdev_param("user_max_pages"))
		EXPECT_LT(cowdev_param("user_max_pages"), f);
	st = cowdev_stats_of(fd);
	EXPECT_EQ(f, st.demand_allocs);
	EXPECT_EQ(f, st.resident_pages);
	EXPECT_EQ(0, st.pool_failures);
	EXPECT_EQ(0, st.limit_failures);
	EXPECT_EQ(0, st.sigbus);

	/* First write to a hole: SIGBUS, +1 everywhere, no page. */
	EXPECT_EQ(SIGBUS, cowdev_try_write(m + f * ps, 'x'));
	st = cowdev_stats_of(fd);
	EXPECT_EQ(1, st.pool_failures);
	EXPECT_EQ(1, st.sigbus);
	EXPECT_EQ(0, st.limit_failures);
	EXPECT_EQ(f, st.demand_allocs);
	EXPECT_EQ(f, st.resident_pages);
	pi = cowdev_pool_of(fd);
	EXPECT_EQ(pi0.alloc_failures + 1, pi.alloc_failures);
	EXPECT_EQ(pi0.used_pages + f, pi.used_pages);
	EXPECT_EQ(0, pi.free_pages);

	/* The hole still reads as zeros; writing it after the read: SIGBUS. */
	EXPECT_EQ(0, cowdev_try_read(m + f * ps, &c));
	EXPECT_EQ(0, c);
	EXPECT_EQ(SIGBUS, cowdev_try_write(m + f * ps + 1, 'y'));
	EXPECT_EQ(SIGBUS, cowdev_try_write(m + (f + 1) * ps, 'y'));
	st = cowdev_stats_of(fd);
	EXPECT_EQ(3, st.pool_failures);
	EXPECT_EQ(3, st.sigbus);
	EXPECT_EQ(1, st.zero_maps);
	EXPECT_EQ(f, st.resident_pages);
	EXPECT_EQ(pi0.alloc_failures + 3, cowdev_pool_of(fd).alloc_failures);
	EXPECT_EQ(0, cowdev_try_read(m + f * ps + 1, &c));
	EXPECT_EQ(0, c);

	/* Nothing else broke: existing pages read and write in place. */
	for (i = 0; i < f; i++)
		ASSERT_EQ('f', m[i * ps]) TH_LOG("page %zu", i);
	EXPECT_EQ(0, cowdev_try_write(m + 5 * ps + 9, 'w'));
	EXPECT_EQ('w', m[5 * ps + 9]);
	EXPECT_EQ(f, cowdev_stats_of(fd).demand_allocs);
	/* Private copies are anonymous memory, not pool pages. */
	p = mmap(NULL, (f + 8) * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
		 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, cowdev_try_write(p + (f + 2) * ps, 'p'));
	EXPECT_EQ(0, cowdev_try_write(p + 3 * ps, 'q'));
	EXPECT_EQ('f', p[4 * ps]);
	EXPECT_EQ('q', p[3 * ps]);
	EXPECT_EQ('f', m[3 * ps]);
	munmap(p, (f + 8) * ps);
	/* Another view: reads fine, its writes fail the same way. */
	EXPECT_EQ(0, cowdev_try_read(m2, &c));
	EXPECT_EQ(0, c);
	EXPECT_EQ(SIGBUS, cowdev_try_write(m2 + ps, 'o'));
	st = cowdev_stats_of(fd2);
	EXPECT_EQ(1, st.pool_failures);
	EXPECT_EQ(1, st.sigbus);
	EXPECT_EQ(0, st.resident_pages);
	EXPECT_EQ(3, cowdev_stats_of(fd).pool_failures);
	EXPECT_EQ(pi0.alloc_failures + 4, cowdev_pool_of(fd).alloc_failures);

	/* A shrink frees three pages: three writes work, the fourth fails. */
	ASSERT_EQ(0, cowdev_set_size(fd, (f - 3) * ps));
	EXPECT_EQ(3, cowdev_pool_of(fd).free_pages);
	EXPECT_EQ(3, write_pages(m2, 0, 3, 'o'));
	EXPECT_EQ(SIGBUS, cowdev_try_write(m2 + 3 * ps, 'o'));
	EXPECT_EQ(2, cowdev_stats_of(fd2).pool_failures);
	EXPECT_EQ(3, cowdev_stats_of(fd2).demand_allocs);
	EXPECT_EQ(pi0.alloc_failures + 5, cowdev_pool_of(fd).alloc_failures);
	EXPECT_EQ(0, cowdev_pool_of(fd).free_pages);

	/* A close frees the other view's pages: they can be written again. */
	munmap(m2, 4 * ps);
	close(fd2);
	EXPECT_EQ(3, cowdev_pool_of(fd).free_pages);
	ASSERT_EQ(0, cowdev_set_size(fd, (f + 8) * ps));
	EXPECT_EQ(3, write_pages(m, f - 3, f + 1, 'g'));
	EXPECT_EQ(0, cowdev_pool_of(fd).free_pages);
	EXPECT_EQ('g', m[(f - 1) * ps]);
	EXPECT_EQ(0, m[(f - 1) * ps + 1]);
	EXPECT_EQ(4, cowdev_stats_of(fd).pool_failures);
	EXPECT_EQ(pi0.alloc_failures + 6, cowdev_pool_of(fd).alloc_failures);

	munmap(m, (f + 8) * ps);
	close(fd);
	fd = cowdev_open();
	ASSERT_LE(0, fd);
	pi = cowdev_pool_of(fd);
	EXPECT_EQ(pi0.used_pages, pi.used_pages);
	EXPECT_EQ(pi0.free_pages, pi.free_pages);
	EXPECT_EQ(pi.total_pages, pi.free_pages + pi.used_pages + 1);
	close(fd);
}

#define NTHREADS 4

struct racer {
	char *map;
	size_t ps, first, count;	/* this thread's pages */
	pthread_barrier_t *start;
	size_t ok, failed;
	int other;			/* a signal other than SIGBUS */
};

/* Write each of this thread's pages once; count what worked. */
static void *racer_run(void *arg)
{
	struct racer *r = arg;
	size_t i;
	int sig;

	pthread_barrier_wait(r->start);
	for (i = r->first; i < r->first + r->count; i++) {
		sig = cowdev_try_write(r->map + i * r->ps, (char)i | 1);
		if (!sig)
			r->ok++;
		else if (sig == SIGBUS)
			r->failed++;
		else
			r->other = sig;
	}
	return NULL;
}

/*
 * Threads racing for the last free pages, each writing its own holes:
 * exactly the free pages are allocated, every other write is one SIGBUS,
 * one pool failure and one allocation failure.
 */
TEST(threads_race_for_the_last_pages)
{
	size_t ps = cowdev_page_size(), f, per, ok = 0, failed = 0, i;
	struct racer r[NTHREADS];
	pthread_barrier_t start;
	struct cowdev_pool_info pi0, pi;
	struct cowdev_stats st;
	char *m;
	int fd;

	SMALL_POOL_OR_SKIP();
	fd = cowdev_open();
	ASSERT_LE(0, fd);
	pi0 = cowdev_pool_of(fd);
	f = pi0.free_pages;
	ASSERT_LT(0, f);
	/* Twice as many holes as free pages, a block per thread. */
	per = f * 2 / NTHREADS + 1;
	ASSERT_EQ(0, cowdev_set_size(fd, per * NTHREADS * ps));
	m = mmap(NULL, per * NTHREADS * ps, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	pthread_barrier_init(&start, NULL, NTHREADS);
	for (i = 0; i < NTHREADS; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].map = m;
		r[i].ps = ps;
		r[i].first = i * per;
		r[i].count = per;
		r[i].start = &start;
	}
	ASSERT_EQ(0, cowdev_run_threads(NTHREADS, racer_run, r, sizeof(r[0])));
	for (i = 0; i < NTHREADS; i++) {
		ok += r[i].ok;
		failed += r[i].failed;
		EXPECT_EQ(0, r[i].other);
	}
	pthread_barrier_destroy(&start);
	TH_LOG("%zu writes worked, %zu got SIGBUS", ok, failed);
	EXPECT_EQ(f, ok);
	EXPECT_EQ(per * NTHREADS - f, failed);
	st = cowdev_stats_of(fd);
	EXPECT_EQ(f, st.demand_allocs);
	EXPECT_EQ(f, st.resident_pages);
	EXPECT_EQ(failed, st.pool_failures);
	EXPECT_EQ(failed, st.sigbus);
	pi = cowdev_pool_of(fd);
	EXPECT_EQ(0, pi.free_pages);
	EXPECT_EQ(pi0.alloc_failures + failed, pi.alloc_failures);
	/* Every page that worked holds its byte; the others read 0. */
	for (i = 0, ok = 0; i < per * NTHREADS; i++) {
		char c = m[i * ps];

		ASSERT_TRUE(c == 0 || c == ((char)i | 1)) TH_LOG("page %zu", i);
		ok += c != 0;
	}
	EXPECT_EQ(f, ok);
	munmap(m, per * NTHREADS * ps);
	close(fd);
	fd = cowdev_open();
	ASSERT_LE(0, fd);
	EXPECT_EQ(pi0.used_pages, cowdev_pool_of(fd).used_pages);
	close(fd);
}

/*
 * A forked child that empties the pool and dies of the SIGBUS (its own
 * view, no handler) leaks nothing; a child that empties the pool through
 * the parent's view leaves its pages to that view, which gives them back
 * when it closes.
 */
TEST(child_exhausting_the_pool_and_dying_leaks_nothing)
{
	size_t ps = cowdev_page_size(), f, i;
	struct cowdev_pool_info pi0, pi;
	int fd, status;
	char *m;
	pid_t pid;

	SMALL_POOL_OR_SKIP();
	fd = cowdev_open();
	ASSERT_LE(0, fd);
	pi0 = cowdev_pool_of(fd);
	f = pi0.free_pages;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct rlimit no_core = { 0, 0 };
		char *cm;
		int cfd;

		setrlimit(RLIMIT_CORE, &no_core);
		signal(SIGBUS, SIG_DFL);
		cfd = cowdev_new_view(f + 1, &cm);
		if (cfd < 0)
			_exit(1);
		for (i = 0; i <= f; i++)
			((volatile char *)cm)[i * ps] = 'c';
		_exit(2);	/* page f should have been SIGBUS */
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("child exited %d",
						WEXITSTATUS(status));
	EXPECT_EQ(SIGBUS, WTERMSIG(status));
	pi = cowdev_pool_of(fd);
	EXPECT_EQ(pi0.used_pages, pi.used_pages);
	EXPECT_EQ(pi0.free_pages, pi.free_pages);
	EXPECT_EQ(pi0.views, pi.views);
	EXPECT_EQ(pi0.alloc_failures + 1, pi.alloc_failures);
	EXPECT_EQ(0, pi.limbo_pages);

	/* Through the parent's view: the pages stay with the view. */
	ASSERT_EQ(0, cowdev_set_size(fd, (f + 1) * ps));
	m = mmap(NULL, (f + 1) * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(write_pages(m, 0, f + 1, 'd') == f ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	pi = cowdev_pool_of(fd);
	EXPECT_EQ(pi0.used_pages + f, pi.used_pages);
	EXPECT_EQ(0, pi.free_pages);
	EXPECT_EQ(pi0.alloc_failures + 2, pi.alloc_failures);
	EXPECT_EQ(f, cowdev_stats_of(fd).demand_allocs);
	EXPECT_EQ(1, cowdev_stats_of(fd).pool_failures);
	EXPECT_EQ('d', m[(f - 1) * ps]);
	munmap(m, (f + 1) * ps);
	close(fd);
	fd = cowdev_open();
	ASSERT_LE(0, fd);
	pi = cowdev_pool_of(fd);
	EXPECT_EQ(pi0.used_pages, pi.used_pages);
	EXPECT_EQ(pi0.free_pages, pi.free_pages);
	close(fd);
}

/*
 * A COW break with an empty pool: after COWDEV_IOC_CLONE, the pool is
 * filled by a third view; a write to a shared page through either view is
 * SIGBUS (pool_failures +1, alloc_failures +1, no copy), and both views
 * keep their data.  Once a page is free the same write copies the page.
 */
TEST(cow_break_with_an_empty_pool)
{
	size_t ps = cowdev_page_size(), f, i, n = 8;
	struct cowdev_pool_info base, pi0, pi;
	struct cowdev_stats st;
	int a, b, c;
	char *ma, *mb, *mc, ch;

	SMALL_POOL_OR_SKIP();
	a = cowdev_new_view(n, &ma);
	ASSERT_LE(0, a);
	base = cowdev_pool_of(a);
	pi0 = base;
	for (i = 0; i < n; i++)
		memset(ma + i * ps, 'a' + i, ps);
	b = cowdev_clone(a);
	ASSERT_LE(0, b);
	mb = mmap(NULL, n * ps, PROT_READ | PROT_WRITE, MAP_SHARED, b, 0);
	ASSERT_NE(MAP_FAILED, mb);
	pi = cowdev_pool_of(a);
	ASSERT_EQ(pi0.used_pages + n, pi.used_pages);	/* clone: no page */
	f = pi.free_pages;
	c = cowdev_new_view(f, &mc);
	ASSERT_LE(0, c);
	ASSERT_EQ(f, write_pages(mc, 0, f, 'c'));
	pi0 = cowdev_pool_of(a);
	ASSERT_EQ(0, pi0.free_pages);
	ASSERT_EQ(n, cowdev_stats_of(a).shared_pages);

	/* Write without a pte (the clone zapped them), through a. */
	EXPECT_EQ(SIGBUS, cowdev_try_write(ma + 2 * ps, 'A'));
	st = cowdev_stats_of(a);
	EXPECT_EQ(1, st.pool_failures);
	EXPECT_EQ(1, st.sigbus);
	EXPECT_EQ(0, st.cow_copies);
	EXPECT_EQ(n, st.shared_pages);
	EXPECT_EQ(pi0.alloc_failures + 1, cowdev_pool_of(a).alloc_failures);
	/* Write after a read (read-only pte), through b. */
	EXPECT_EQ(0, cowdev_try_read(mb + 3 * ps, &ch));
	EXPECT_EQ('a' + 3, ch);
	EXPECT_EQ(SIGBUS, cowdev_try_write(mb + 3 * ps, 'B'));
	st = cowdev_stats_of(b);
	EXPECT_EQ(1, st.pool_failures);
	EXPECT_EQ(1, st.sigbus);
	EXPECT_EQ(0, st.cow_copies);
	EXPECT_EQ(n, st.shared_pages);
	pi = cowdev_pool_of(a);
	EXPECT_EQ(pi0.alloc_failures + 2, pi.alloc_failures);
	EXPECT_EQ(pi0.used_pages, pi.used_pages);
	/* Both views unchanged, whichever mapping looks. */
	for (i = 0; i < n; i++) {
		ASSERT_EQ('a' + i, ma[i * ps]) TH_LOG("a page %zu", i);
		ASSERT_EQ('a' + i, ma[i * ps + ps - 1]);
		ASSERT_EQ('a' + i, mb[i * ps]) TH_LOG("b page %zu", i);
		ASSERT_EQ('a' + i, mb[i * ps + ps - 1]);
	}

	/* Two pages back to the pool: both breaks work now. */
	ASSERT_EQ(0, cowdev_set_size(c, (f - 2) * ps));
	EXPECT_EQ(2, cowdev_pool_of(a).free_pages);
	EXPECT_EQ(0, cowdev_try_write(ma + 2 * ps, 'A'));
	EXPECT_EQ(0, cowdev_try_write(mb + 3 * ps, 'B'));
	EXPECT_EQ(1, cowdev_stats_of(a).cow_copies);
	EXPECT_EQ(1, cowdev_stats_of(b).cow_copies);
	EXPECT_EQ(n - 2, cowdev_stats_of(a).shared_pages);
	EXPECT_EQ('A', ma[2 * ps]);
	EXPECT_EQ('a' + 2, mb[2 * ps]);
	EXPECT_EQ('B', mb[3 * ps]);
	EXPECT_EQ('a' + 3, ma[3 * ps]);
	EXPECT_EQ('a' + 2, ma[2 * ps + 1]);
	EXPECT_EQ(0, cowdev_pool_of(a).free_pages);
	EXPECT_EQ(pi0.alloc_failures + 2, cowdev_pool_of(a).alloc_failures);

	munmap(mc, f * ps);
	close(c);
	munmap(mb, n * ps);
	close(b);
	munmap(ma, n * ps);
	close(a);
	a = cowdev_open();
	ASSERT_LE(0, a);
	pi = cowdev_pool_of(a);
	EXPECT_EQ(base.used_pages, pi.used_pages);
	EXPECT_EQ(base.free_pages, pi.free_pages);
	close(a);
}

#define RESERVE_PARAM COWDEV_PARAM_DIR "/zero_reserve"

/* 0, or -errno. */
static int set_zero_reserve(unsigned long pages)
{
	return cowdev_attr_write(COWDEV_PARAM_DIR, "zero_reserve", pages);
}

FIXTURE(reserve) {
	unsigned long saved;
	int fd;
};

FIXTURE_SETUP(reserve)
{
	if (access(RESERVE_PARAM, W_OK))
		SKIP(return, "cannot write " RESERVE_PARAM " (not root?)");
	self->saved = cowdev_param("zero_reserve");
	self->fd = cowdev_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(reserve)
{
	set_zero_reserve(self->saved);
	close(self->fd);
}

/* Write 1 byte to each of @n pages of a new view; it stays open. */
static int write_new_view(int n, char **map)
{
	int fd = cowdev_new_view(n, map);

	if (fd >= 0)
		write_pages(*map, 0, n, 'w');
	return fd;
}

/*
 * With a reserve of 16, once the zeroer has made it, 8 first writes take
 * 8 pre-zeroed pages and clear none; with the reserve at 0 (emptied at
 * once), 8 more clear 8 inline.  Every page reads as zeros but its byte.
 */
TEST_F(reserve, first_writes_take_pre_zeroed_pages_or_clear_inline)
{
	struct cowdev_pool_info a, b;
	size_t ps = cowdev_page_size();
	char *m1, *m2;
	int v1, v2;

	ASSERT_EQ(0, set_zero_reserve(16));
	ASSERT_EQ(0, cowdev_reserve_settle(10000));
	a = cowdev_pool_of(self->fd);
	ASSERT_EQ(16, a.zeroed_pages);
	v1 = write_new_view(8, &m1);
	ASSERT_LE(0, v1);
	b = cowdev_pool_of(self->fd);
	EXPECT_EQ(a.zeroed_allocs + 8, b.zeroed_allocs);
	EXPECT_EQ(a.inline_zeroes, b.inline_zeroes);

	ASSERT_EQ(0, set_zero_reserve(0));
	a = cowdev_pool_of(self->fd);
	EXPECT_EQ(0, a.zeroed_pages);
	v2 = write_new_view(8, &m2);
	ASSERT_LE(0, v2);
	b = cowdev_pool_of(self->fd);
	EXPECT_EQ(a.zeroed_allocs, b.zeroed_allocs);
	EXPECT_EQ(a.inline_zeroes + 8, b.inline_zeroes);
	EXPECT_EQ(a.allocs + 8, b.allocs);
	EXPECT_TRUE(cowdev_all_bytes(m1 + 1, ps - 1, 0));
	EXPECT_TRUE(cowdev_all_bytes(m2 + 7 * ps + 1, ps - 1, 0));
	munmap(m1, 8 * ps);
	munmap(m2, 8 * ps);
	close(v1);
	close(v2);
}

/*
 * Allocations wake the zeroer only once the reserve is short by a batch
 * (an eighth of it: 8 pages of 64); a read of the pool counters wakes it
 * when it is short at all.  With the zeroer asleep, after 3 first writes
 * the reserve is refilled for a reader that waits for it:
 * cowdev_reserve_settle() would time out if nothing woke the zeroer.
 */
TEST_F(reserve, a_counter_read_refills_a_reserve_short_by_less_than_a_batch)
{
	struct cowdev_pool_info a, b;
	size_t ps = cowdev_page_size();
	char *m;
	int v;

	ASSERT_EQ(0, set_zero_reserve(64));
	ASSERT_EQ(0, cowdev_reserve_settle(10000));
	a = cowdev_pool_of(self->fd);
	ASSERT_EQ(64, a.zeroed_pages);
	ASSERT_EQ(0, cowdev_kthread_wait_idle(cowdev_kthread_pid("cowdev_zero")));
	v = write_new_view(3, &m);
	ASSERT_LE(0, v);
	ASSERT_EQ(0, cowdev_reserve_settle(10000));
	b = cowdev_pool_of(self->fd);
	EXPECT_EQ(64, b.zeroed_pages);
	EXPECT_EQ(a.zeroed_allocs + 3, b.zeroed_allocs);
	EXPECT_EQ(a.inline_zeroes, b.inline_zeroes);
	munmap(m, 3 * ps);
	close(v);
}

/*
 * Pages filled with 0xaa and freed come back all zero, cleared by the
 * zeroer (round 0) and inline (round 1): no old data reaches a new view.
 */
TEST_F(reserve, freed_pages_come_back_zero)
{
	size_t ps = cowdev_page_size();
	unsigned long free_pages = cowdev_pool_of(self->fd).free_pages;
	int n = free_pages < 64 ? free_pages : 64, round, fd, i;
	struct cowdev_pool_info a, b;
	char *m;

	ASSERT_LT(0, n);
	for (round = 0; round < 2; round++) {
		ASSERT_EQ(0, set_zero_reserve(0));
		fd = cowdev_new_view(n, &m);
		ASSERT_LE(0, fd);
		memset(m, 0xaa, n * ps);
		munmap(m, n * ps);
		close(fd);
		ASSERT_EQ(0, set_zero_reserve(round ? 0 : n));
		ASSERT_EQ(0, cowdev_reserve_settle(10000));
		a = cowdev_pool_of(self->fd);
		fd = cowdev_new_view(n, &m);
		ASSERT_LE(0, fd);
		for (i = 0; i < n; i++) {
			m[i * ps + ps - 1] = 1;
			EXPECT_TRUE(cowdev_all_bytes(m + i * ps, ps - 1, 0))
				TH_LOG("round %d page %d", round, i);
		}
		b = cowdev_pool_of(self->fd);
		EXPECT_EQ(round ? 0 : n, b.zeroed_allocs - a.zeroed_allocs);
		EXPECT_EQ(round ? n : 0, b.inline_zeroes - a.inline_zeroes);
		munmap(m, n * ps);
		close(fd);
	}
}

/* A COW copy overwrites its page whole: neither counter moves. */
TEST_F(reserve, cow_copies_are_not_zeroed_first)
{
	struct cowdev_pool_info a, b;
	size_t ps = cowdev_page_size();
	int fd, c;
	char *m;

	fd = write_new_view(4, &m);
	ASSERT_LE(0, fd);
	c = cowdev_clone(fd);
	ASSERT_LE(0, c);
	a = cowdev_pool_of(self->fd);
	write_pages(m, 0, 4, 'c');
	b = cowdev_pool_of(self->fd);
	EXPECT_EQ(4, cowdev_stats_of(fd).cow_copies);
	EXPECT_EQ(a.allocs + 4, b.allocs);
	EXPECT_EQ(a.zeroed_allocs, b.zeroed_allocs);
	EXPECT_EQ(a.inline_zeroes, b.inline_zeroes);
	munmap(m, 4 * ps);
	close(c);
	close(fd);
}

/*
 * The zeroer runs under SCHED_IDLE: only on a CPU with nothing else to
 * run, never taking time from a faulting task.
 */
TEST(zeroer_runs_under_sched_idle)
{
	pid_t pid = cowdev_kthread_pid("cowdev_zero");

	ASSERT_LT(0, pid);
	EXPECT_EQ(SCHED_IDLE, sched_getscheduler(pid));
}

TEST_HARNESS_MAIN
