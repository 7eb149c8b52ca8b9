// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev fault behaviour, one test per behaviour, with exact event
 * counters, pool deltas and smaps figures:
 *  - a read of a hole maps the pool's zero page (shared and private), which
 *    Rss counts and which is never dirty;
 *  - the first write to a hole allocates exactly one zeroed pool page, also
 *    after a read of the hole;
 *  - ->page_mkwrite on a read-only pte of a resident page keeps the page;
 *  - ->map_pages maps resident pages around a read fault (also around a
 *    hole read, which still reaches ->fault), read-only, never holes, and
 *    not at all while the region has no page table;
 *  - SIGBUS at and beyond the size, for reads and writes;
 *  - MAP_SHARED is one copy for every mapping (fork, SCM_RIGHTS);
 *  - MAP_PRIVATE reads follow the view until written, writes stay private;
 *  - MADV_DONTNEED, mprotect, munmap, mremap, SET_SIZE shrink and grow;
 *  - concurrent faults on one page and on many pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

#define NPAGES 128

FIXTURE(obj) {
	int fd;
	size_t ps;
	char *map;		/* NPAGES of the object, as variant->flags */
	uint64_t used0;		/* pool used_pages after setup */
};

FIXTURE_VARIANT(obj) {
	int flags;		/* MAP_SHARED or MAP_PRIVATE */
};

FIXTURE_VARIANT_ADD(obj, shared) {
	.flags = MAP_SHARED,
};

FIXTURE_VARIANT_ADD(obj, private) {
	.flags = MAP_PRIVATE,
};

FIXTURE_SETUP(obj)
{
	self->ps = cowdev_page_size();
	self->fd = cowdev_open();
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
	ASSERT_EQ(0, cowdev_set_size(self->fd, NPAGES * self->ps));
	self->map = mmap(NULL, NPAGES * self->ps, PROT_READ | PROT_WRITE,
			 variant->flags, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	self->used0 = cowdev_pool_used(self->fd);
	ASSERT_NE(~0ULL, self->used0);
}

FIXTURE_TEARDOWN(obj)
{
	if (self->map && self->map != MAP_FAILED)
		munmap(self->map, NPAGES * self->ps);
	close(self->fd);
}

/*
 * A read of a hole: ->fault maps the zero page.  faults +1, zero_maps +1,
 * no pool page, the whole page reads 0; a second read faults no more.
 */
TEST_F(obj, hole_read_maps_the_zero_page)
{
	struct cowdev_stats st;
	char *p = self->map + 5 * self->ps;

	ASSERT_EQ(0, p[17]);
	st = cowdev_stats_of(self->fd);
	EXPECT_EQ(1, st.faults);
	EXPECT_EQ(1, st.zero_maps);
	EXPECT_EQ(0, st.demand_allocs);
	EXPECT_EQ(0, st.mkwrite);
	EXPECT_EQ(0, st.private_cow);
	EXPECT_EQ(0, st.sigbus);
	EXPECT_EQ(0, st.resident_pages);
	EXPECT_EQ(self->used0, cowdev_pool_used(self->fd));
	EXPECT_TRUE(cowdev_all_bytes(p, self->ps, 0));
	/* Mapped now: more reads of that page do not fault. */
	EXPECT_EQ(0, p[self->ps - 1]);
	st = cowdev_stats_of(self->fd);
	EXPECT_EQ(1, st.faults);
	EXPECT_EQ(1, st.zero_maps);
	/* The zero page is an ordinary pte: Rss counts one page, not dirty. */
	EXPECT_EQ((long)(self->ps / 1024), cowdev_smaps_kb(self->map, "Rss"));
	EXPECT_EQ(0, cowdev_smaps_kb(self->map, "Private_Dirty"));
	/* Each further hole read is one more ->fault and zero map. */
	ASSERT_EQ(0, self->map[9 * self->ps]);
	ASSERT_EQ(0, self->map[NPAGES * self->ps - 1]);
	st = cowdev_stats_of(self->fd);
	EXPECT_EQ(3, st.faults);
	EXPECT_EQ(3, st.zero_maps);
	EXPECT_EQ(self->used0, cowdev_pool_used(self->fd));
}

/*
 * One byte into each of 100 holes: demand_allocs and pool used_pages rise
 * by exactly 100.  Through MAP_SHARED each first write is one ->fault and
 * one ->page_mkwrite; the pages are zeroed but for the byte written.
 * Through MAP_PRIVATE the writes are core mm's anonymous copies: each
 * reaches ->fault (private_cow), no pool page is used.
 */
TEST_F(obj, first_writes_to_100_holes)
{
	int shared = variant->flags == MAP_SHARED;
	struct cowdev_stats st;
	int i;

	for (i = 0; i < 100; i++)
		self->map[i * self->ps + i] = (char)(i + 1);
	st = cowdev_stats_of(self->fd);
	EXPECT_EQ(100, st.faults);
	EXPECT_EQ(0, st.zero_maps);
	EXPECT_EQ(0, st.sigbus);
	if (shared) {
		EXPECT_EQ(100, st.demand_allocs);
		EXPECT_EQ(100, st.mkwrite);
		EXPECT_EQ(0, st.private_cow);
		EXPECT_EQ(100, st.resident_pages);
		EXPECT_EQ(self->used0 + 100, cowdev_pool_used(self->fd));
	} else {
		EXPECT_EQ(0, st.demand_allocs);
		EXPECT_EQ(0, st.mkwrite);
		EXPECT_EQ(100, st.private_cow);
		EXPECT_EQ(0, st.resident_pages);
		EXPECT_EQ(self->used0, cowdev_pool_used(self->fd));
	}
	for (i = 0; i < 100; i++) {
		char *p = self->map + i * self->ps;

		ASSERT_EQ((char)(i + 1), p[i]);
		p[i] = 0;
		ASSERT_TRUE(cowdev_all_bytes(p, self->ps, 0)) TH_LOG("page %d", i);
	}
	/* Writing the pages again allocates nothing more. */
	st = cowdev_stats_of(self->fd);
	EXPECT_EQ(shared ? 100 : 0, st.demand_allocs);
	EXPECT_EQ(self->used0 + (shared ? 100 : 0), cowdev_pool_used(self->fd));
}

/*
 * Read a hole, then write it.  MAP_SHARED: ->page_mkwrite replaces the zero
 * page (faults 2, zero_maps 1, demand_allocs 1, mkwrite 2, one pool page)
 * and every mapping sees the write.  MAP_PRIVATE: core mm copies the zero
 * page without calling the module; the view stays a hole.
 */
TEST_F(obj, read_then_write_of_a_hole)
{
	int shared = variant->flags == MAP_SHARED;
	struct cowdev_stats st;
	char *p = self->map + 7 * self->ps, *other;

	ASSERT_EQ(0, p[100]);
	p[100] = 'w';
	st = cowdev_stats_of(self->fd);
	EXPECT_EQ(1, st.zero_maps);
	EXPECT_EQ(0, st.sigbus);
	if (shared) {
		EXPECT_EQ(2, st.faults);
		EXPECT_EQ(1, st.demand_allocs);
		EXPECT_EQ(2, st.mkwrite);
		EXPECT_EQ(1, st.resident_pages);
		EXPECT_EQ(self->used0 + 1, cowdev_pool_used(self->fd));
	} else {
		EXPECT_EQ(1, st.faults);
		EXPECT_EQ(0, st.demand_allocs);
		EXPECT_EQ(0, st.mkwrite);
		EXPECT_EQ(0, st.private_cow);
		EXPECT_EQ(0, st.resident_pages);
		EXPECT_EQ(self->used0, cowdev_pool_used(self->fd));
	}
	EXPECT_EQ('w', p[100]);
	p[100] = 0;
	EXPECT_TRUE(cowdev_all_bytes(p, self->ps, 0));
	p[100] = 'w';
	/* What a new shared mapping sees. */
	other = mmap(NULL, NPAGES * self->ps, PROT_READ, MAP_SHARED, self->fd,
		     0);
	ASSERT_NE(MAP_FAILED, other);
	EXPECT_EQ(shared ? 'w' : 0, other[7 * self->ps + 100]);
	/* The pool's zero page itself was never written. */
	EXPECT_EQ(0, other[8 * self->ps + 100]);
	EXPECT_TRUE(cowdev_all_bytes(other + 8 * self->ps, self->ps, 0));
	munmap(other, NPAGES * self->ps);
}

/* Pool pages are zeroed when a view gets them, whoever used them before. */
TEST(reused_pool_pages_are_zeroed)
{
	size_t ps = cowdev_page_size();
	int fd, i, n = 64;
	uint64_t used0;
	char *m;

	fd = cowdev_open();
	ASSERT_LE(0, fd);
	used0 = cowdev_pool_used(fd);
	ASSERT_EQ(0, cowdev_set_size(fd, n * ps));
	m = mmap(NULL, n * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	memset(m, 0xa5, n * ps);
	ASSERT_EQ(used0 + n, cowdev_pool_used(fd));
	ASSERT_EQ(0, munmap(m, n * ps));
	ASSERT_EQ(0, close(fd));

	fd = cowdev_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(used0, cowdev_pool_used(fd));
	ASSERT_EQ(0, cowdev_set_size(fd, n * ps));
	m = mmap(NULL, n * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	for (i = 0; i < n; i++) {
		m[i * ps + ps - 1] = 1;
		m[i * ps + ps - 1] = 0;
		ASSERT_TRUE(cowdev_all_bytes(m + i * ps, ps, 0)) TH_LOG("page %d", i);
	}
	EXPECT_EQ(n, cowdev_stats_of(fd).demand_allocs);
	EXPECT_EQ(used0 + n, cowdev_pool_used(fd));
	munmap(m, n * ps);
	close(fd);
}

/*
 * A write through a read-only pte of a resident page (MAP_SHARED, after
 * MADV_DONTNEED and a read): ->page_mkwrite +1, no allocation, the data is
 * written in place and the rest of the page is kept.
 */
TEST(page_mkwrite_after_dontneed_and_read)
{
	size_t ps = cowdev_page_size();
	struct cowdev_stats st;
	uint64_t used;
	char *m, *other;
	int fd;

	fd = cowdev_new_view(4, &m);
	ASSERT_LE(0, fd);
	memset(m, 'a', 4 * ps);
	used = cowdev_pool_used(fd);
	ASSERT_EQ(0, madvise(m, 4 * ps, MADV_DONTNEED));
	ASSERT_EQ('a', m[2 * ps + 9]);
	ASSERT_EQ(0, cowdev_reset_stats(fd));
	m[2 * ps + 9] = 'b';
	st = cowdev_stats_of(fd);
	EXPECT_EQ(1, st.mkwrite);
	EXPECT_EQ(0, st.demand_allocs);
	EXPECT_EQ(0, st.zero_maps);
	EXPECT_EQ(0, st.sigbus);
	EXPECT_EQ(4, st.resident_pages);
	EXPECT_EQ(used, cowdev_pool_used(fd));
	/* Writable now: further writes to that page call nothing. */
	m[2 * ps + 10] = 'c';
	EXPECT_EQ(1, cowdev_stats_of(fd).mkwrite);
	/* The write is in the view: a new mapping sees it. */
	other = mmap(NULL, 4 * ps, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, other);
	EXPECT_EQ('b', other[2 * ps + 9]);
	EXPECT_EQ('c', other[2 * ps + 10]);
	EXPECT_EQ('a', other[2 * ps + 8]);
	EXPECT_EQ('a', other[2 * ps + 11]);
	munmap(other, 4 * ps);
	munmap(m, 4 * ps);
	close(fd);
}

/*
 * The other way to a read-only pte of a resident page: the page was written
 * through one mapping and is read through a second one.  Writing through
 * the second: ->page_mkwrite +1, no allocation, the first mapping sees it.
 */
TEST(page_mkwrite_after_read_on_another_mapping)
{
	size_t ps = cowdev_page_size();
	struct cowdev_stats st;
	char *a, *b;
	int fd;

	fd = cowdev_new_view(2, &a);
	ASSERT_LE(0, fd);
	b = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, b);
	a[ps] = 'x';
	ASSERT_EQ('x', b[ps]);
	ASSERT_EQ(0, cowdev_reset_stats(fd));
	b[ps + 1] = 'y';
	st = cowdev_stats_of(fd);
	EXPECT_EQ(1, st.mkwrite);
	EXPECT_EQ(0, st.demand_allocs);
	EXPECT_EQ(1, st.resident_pages);
	EXPECT_EQ('y', a[ps + 1]);
	EXPECT_EQ('x', b[ps]);
	munmap(a, 2 * ps);
	munmap(b, 2 * ps);
	close(fd);
}

/*
 * A view of @n pages, page i holding (char)(i + 1), and a second mapping
 * of it with @prot at a @n-page-aligned address (one fault-around window
 * when @n is fault_around_bytes' pages).  The view's fd, or -1; *@w is
 * the view's first mapping, *@m the aligned one, *@rsv the reservation
 * (2 * @n pages) to unmap at the end.
 */
static int window_view(unsigned long n, int prot, char **w, char **m,
		       char **rsv)
{
	size_t ps = cowdev_page_size();
	unsigned long i;
	int fd;

	fd = cowdev_new_view(n, w);
	if (fd < 0)
		return -1;
	for (i = 0; i < n; i++)
		(*w)[i * ps] = (char)(i + 1);
	*m = cowdev_aligned_area(n * ps, n * ps, rsv);
	if (!*m || mmap(*m, n * ps, prot, MAP_SHARED | MAP_FIXED, fd, 0) != *m) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Fault-around, the deterministic recipe: a mapping of one fault-around
 * window, aligned to it, whose page table exists but whose ptes were
 * dropped, over pages that are all resident.  One read: ->map_pages maps
 * the whole window (read-only, ordinary ptes: Rss), ->fault is not called,
 * nothing is allocated; a write then goes through ->page_mkwrite.
 */
TEST(map_pages_maps_the_resident_window)
{
	size_t ps = cowdev_page_size();
	unsigned long n = cowdev_fault_around_pages(ps), i;
	struct cowdev_stats st;
	char *rsv, *w, *m;
	uint64_t used;
	int fd;

	if (n < 2 || n > 512)
		SKIP(return, "fault_around_bytes is %lu pages", n);
	fd = window_view(n, PROT_READ | PROT_WRITE, &w, &m, &rsv);
	ASSERT_LE(0, fd);
	used = cowdev_pool_used(fd);
	/* Make the page table exist, then drop the ptes. */
	ASSERT_EQ(1, m[0]);
	ASSERT_EQ(0, madvise(m, n * ps, MADV_DONTNEED));
	ASSERT_EQ(0, cowdev_smaps_kb(m, "Rss"));
	ASSERT_EQ(0, cowdev_reset_stats(fd));

	ASSERT_EQ(1, m[0]);
	st = cowdev_stats_of(fd);
	EXPECT_EQ(1, st.map_pages_calls);
	EXPECT_EQ(n, st.map_pages_mapped);
	EXPECT_EQ(0, st.faults);
	for (i = 0; i < n; i++)
		ASSERT_EQ((char)(i + 1), m[i * ps]);
	st = cowdev_stats_of(fd);
	EXPECT_EQ(0, st.faults);
	EXPECT_EQ(1, st.map_pages_calls);
	EXPECT_EQ(n, st.map_pages_mapped);
	EXPECT_EQ(0, st.demand_allocs);
	EXPECT_EQ(0, st.zero_maps);
	EXPECT_EQ((long)(n * ps / 1024), cowdev_smaps_kb(m, "Rss"));
	EXPECT_EQ(used, cowdev_pool_used(fd));
	/* The ptes are read-only: a write is one ->page_mkwrite. */
	m[(n - 1) * ps + 1] = 'W';
	st = cowdev_stats_of(fd);
	EXPECT_EQ(1, st.mkwrite);
	EXPECT_EQ(0, st.faults);
	EXPECT_EQ(0, st.demand_allocs);
	EXPECT_EQ('W', w[(n - 1) * ps + 1]);
	munmap(rsv, 2 * n * ps);
	munmap(w, n * ps);
	close(fd);
}

/*
 * ->map_pages maps runs of resident pages with one vm_insert_pages() call
 * each; a pte already there stops the call, and the run goes on after it.
 * With the window mapped but for two pages, one read maps exactly those
 * two and ->fault is not called.
 */
TEST(map_pages_maps_around_ptes_already_there)
{
	size_t ps = cowdev_page_size();
	unsigned long n = cowdev_fault_around_pages(ps), i;
	struct cowdev_stats st;
	char *rsv, *w, *m;
	int fd;

	if (n < 8 || n > 512)
		SKIP(return, "fault_around_bytes is %lu pages", n);
	fd = window_view(n, PROT_READ, &w, &m, &rsv);
	ASSERT_LE(0, fd);
	/*
	 * Make the page table exist (a new mapping may start a new one,
	 * and ->map_pages leaves a missing table to ->fault), drop the
	 * pte, and map the window.
	 */
	ASSERT_EQ(1, m[0]);
	ASSERT_EQ(0, madvise(m, ps, MADV_DONTNEED));
	ASSERT_EQ(1, m[0]);
	ASSERT_EQ((long)(n * ps / 1024), cowdev_smaps_kb(m, "Rss"));
	ASSERT_EQ(0, madvise(m + 3 * ps, ps, MADV_DONTNEED));
	ASSERT_EQ(0, madvise(m + (n - 2) * ps, ps, MADV_DONTNEED));
	ASSERT_EQ(0, cowdev_reset_stats(fd));

	ASSERT_EQ((char)(n - 1), m[(n - 2) * ps]);
	st = cowdev_stats_of(fd);
	EXPECT_EQ(1, st.map_pages_calls);
	EXPECT_EQ(2, st.map_pages_mapped);
	EXPECT_EQ(0, st.faults);
	EXPECT_EQ((long)(n * ps / 1024), cowdev_smaps_kb(m, "Rss"));
	for (i = 0; i < n; i++)
		ASSERT_EQ((char)(i + 1), m[i * ps]);
	st = cowdev_stats_of(fd);
	EXPECT_EQ(0, st.faults);
	EXPECT_EQ(1, st.map_pages_calls);
	munmap(rsv, 2 * n * ps);
	munmap(w, n * ps);
	close(fd);
}

/*
 * ->map_pages never maps holes and never allocates: with every other page
 * resident, a read maps the resident half; a hole read is then ->fault's
 * (zero page).
 */
TEST(map_pages_skips_holes)
{
	size_t ps = cowdev_page_size();
	unsigned long n = cowdev_fault_around_pages(ps), i;
	struct cowdev_stats st;
	char *rsv, *w, *m;
	uint64_t used;
	int fd;

	if (n < 4 || n > 512)
		SKIP(return, "fault_around_bytes is %lu pages", n);
	fd = cowdev_new_view(n, &w);
	ASSERT_LE(0, fd);
	for (i = 0; i < n; i += 2)
		w[i * ps] = 'r';
	used = cowdev_pool_used(fd);
	m = cowdev_aligned_area(n * ps, n * ps, &rsv);
	ASSERT_NE(NULL, m);
	ASSERT_EQ(m, mmap(m, n * ps, PROT_READ, MAP_SHARED | MAP_FIXED, fd,
			  0));
	ASSERT_EQ('r', m[0]);
	ASSERT_EQ(0, madvise(m, n * ps, MADV_DONTNEED));
	ASSERT_EQ(0, cowdev_reset_stats(fd));

	ASSERT_EQ('r', m[2 * ps]);
	st = cowdev_stats_of(fd);
	EXPECT_EQ(1, st.map_pages_calls);
	EXPECT_EQ(n / 2, st.map_pages_mapped);
	EXPECT_EQ(0, st.faults);
	EXPECT_EQ((long)(n / 2 * ps / 1024), cowdev_smaps_kb(m, "Rss"));
	/* A hole in the window: not mapped, so ->fault maps the zero page. */
	ASSERT_EQ(0, m[3 * ps]);
	st = cowdev_stats_of(fd);
	EXPECT_EQ(1, st.faults);
	EXPECT_EQ(1, st.zero_maps);
	EXPECT_EQ(0, st.demand_allocs);
	EXPECT_EQ(used, cowdev_pool_used(fd));
	/*
	 * A hole read with no pte in the window: ->map_pages maps the
	 * resident pages around it, then ->fault maps the zero page.
	 */
	ASSERT_EQ(0, madvise(m, n * ps, MADV_DONTNEED));
	ASSERT_EQ(0, cowdev_reset_stats(fd));
	ASSERT_EQ(0, m[1 * ps]);
	st = cowdev_stats_of(fd);
	EXPECT_EQ(1, st.faults);
	EXPECT_EQ(1, st.zero_maps);
	EXPECT_EQ(1, st.map_pages_calls);
	EXPECT_EQ(n / 2, st.map_pages_mapped);
	EXPECT_EQ(0, st.demand_allocs);
	EXPECT_EQ(used, cowdev_pool_used(fd));
	munmap(rsv, 2 * n * ps);
	munmap(w, n * ps);
	close(fd);
}

/*
 * ->map_pages maps nothing while the 2 MiB region has no page table (it
 * must not allocate one, it may not sleep): the read is ->fault's.
 */
TEST(map_pages_without_a_page_table_leaves_it_to_fault)
{
	size_t ps = cowdev_page_size(), pmd = 2UL << 20;
	struct cowdev_stats st;
	char *rsv, *w, *m;
	int fd;

	fd = cowdev_new_view(16, &w);
	ASSERT_LE(0, fd);
	memset(w, 'f', 16 * ps);
	m = cowdev_aligned_area(pmd, pmd, &rsv);
	ASSERT_NE(NULL, m);
	ASSERT_EQ(m, mmap(m, 16 * ps, PROT_READ, MAP_SHARED | MAP_FIXED, fd,
			  0));
	ASSERT_EQ(0, cowdev_reset_stats(fd));
	ASSERT_EQ('f', m[4 * ps]);
	st = cowdev_stats_of(fd);
	EXPECT_EQ(1, st.faults);
	EXPECT_EQ(1, st.map_pages_calls);
	EXPECT_EQ(0, st.map_pages_mapped);
	EXPECT_EQ(0, st.zero_maps);
	EXPECT_EQ(0, st.demand_allocs);
	EXPECT_EQ((long)(ps / 1024), cowdev_smaps_kb(m, "Rss"));
	munmap(rsv, 2 * pmd);
	munmap(w, 16 * ps);
	close(fd);
}

/*
 * Any access at or beyond the size: SIGBUS, sigbus +1 each, no page, no
 * pte; the process goes on.  Sizes are rounded up to pages.
 */
TEST_F(obj, sigbus_at_and_beyond_the_size)
{
	int shared = variant->flags == MAP_SHARED;
	size_t ps = self->ps;
	struct cowdev_stats st;
	uint64_t size;
	char c;

	/* 10 pages and one byte: 11 pages. */
	ASSERT_EQ(0, cowdev_set_size(self->fd, 10 * ps + 1));
	ASSERT_EQ(0, cowdev_get_size(self->fd, &size));
	ASSERT_EQ(11 * ps, size);
	ASSERT_EQ(0, cowdev_reset_stats(self->fd));
	/* The last byte of page 10, and a hole (page 9). */
	EXPECT_EQ(0, cowdev_try_write(self->map + 11 * ps - 1, 'e'));
	EXPECT_EQ(0, cowdev_try_read(self->map + 9 * ps, &c));
	EXPECT_EQ(0, c);
	EXPECT_EQ(0, cowdev_stats_of(self->fd).sigbus);

	EXPECT_EQ(SIGBUS, cowdev_try_read(self->map + 11 * ps, &c));
	EXPECT_EQ(1, cowdev_stats_of(self->fd).sigbus);
	EXPECT_EQ(SIGBUS, cowdev_try_write(self->map + 11 * ps + 5, 'x'));
	EXPECT_EQ(2, cowdev_stats_of(self->fd).sigbus);
	EXPECT_EQ(SIGBUS, cowdev_try_read(self->map + 40 * ps + 3, &c));
	EXPECT_EQ(SIGBUS, cowdev_try_write(self->map + NPAGES * ps - 1, 'x'));
	/* Again on the same page: SIGBUS again, nothing was mapped. */
	EXPECT_EQ(SIGBUS, cowdev_try_read(self->map + 11 * ps, &c));
	st = cowdev_stats_of(self->fd);
	EXPECT_EQ(5, st.sigbus);
	EXPECT_EQ(1, st.zero_maps);
	EXPECT_EQ(shared ? 1 : 0, st.demand_allocs);
	EXPECT_EQ(shared ? 1 : 0, st.resident_pages);
	EXPECT_EQ(self->used0 + (shared ? 1 : 0), cowdev_pool_used(self->fd));
	EXPECT_EQ((long)(2 * ps / 1024), cowdev_smaps_kb(self->map, "Rss"));

	/* Size 0: every access is SIGBUS. */
	ASSERT_EQ(0, cowdev_set_size(self->fd, 0));
	EXPECT_EQ(SIGBUS, cowdev_try_read(self->map, &c));
	EXPECT_EQ(SIGBUS, cowdev_try_write(self->map, 'z'));
	EXPECT_EQ(7, cowdev_stats_of(self->fd).sigbus);
	EXPECT_EQ(self->used0, cowdev_pool_used(self->fd));
}

/* A mapping at a page offset beyond the size: SIGBUS from its start. */
TEST(sigbus_in_a_mapping_past_the_end)
{
	size_t ps = cowdev_page_size();
	char *m, c;
	int fd;

	fd = cowdev_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cowdev_set_size(fd, 4 * ps));
	m = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 3 * ps);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(0, cowdev_try_write(m, 'o'));
	EXPECT_EQ(SIGBUS, cowdev_try_read(m + ps, &c));
	EXPECT_EQ(SIGBUS, cowdev_try_write(m + 3 * ps, 'o'));
	EXPECT_EQ(2, cowdev_stats_of(fd).sigbus);
	EXPECT_EQ(1, cowdev_stats_of(fd).demand_allocs);
	munmap(m, 4 * ps);
	/* The page written at offset 3 is page 3 of the object. */
	m = mmap(NULL, 4 * ps, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ('o', m[3 * ps]);
	munmap(m, 4 * ps);
	close(fd);
}

/* MAP_SHARED: two mappings in one process are one copy, both ways. */
TEST(shared_mappings_in_one_process_are_one_copy)
{
	size_t ps = cowdev_page_size();
	char *a, *b;
	int fd;

	fd = cowdev_new_view(8, &a);
	ASSERT_LE(0, fd);
	/* b starts at page 2 of the object. */
	b = mmap(NULL, 6 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 2 * ps);
	ASSERT_NE(MAP_FAILED, b);
	a[3 * ps] = 'a';
	EXPECT_EQ('a', b[ps]);
	b[4 * ps] = 'b';
	EXPECT_EQ('b', a[6 * ps]);
	/* A hole read through b, then written through a. */
	EXPECT_EQ(0, b[0]);
	a[2 * ps] = 'c';
	EXPECT_EQ('c', b[0]);
	EXPECT_EQ(3, cowdev_stats_of(fd).demand_allocs);
	EXPECT_EQ(3, cowdev_stats_of(fd).resident_pages);
	munmap(a, 8 * ps);
	munmap(b, 6 * ps);
	close(fd);
}

/* MAP_SHARED across fork: the child and the parent write one copy. */
TEST(shared_mapping_across_fork)
{
	size_t ps = cowdev_page_size();
	int to_child[2], to_parent[2], fd;
	uint64_t used;
	char *m, c;
	pid_t pid;

	fd = cowdev_new_view(8, &m);
	ASSERT_LE(0, fd);
	m[0] = 'P';
	ASSERT_EQ(0, m[ps]);	/* the zero page, in both after fork */
	used = cowdev_pool_used(fd);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (m[0] != 'P' || m[ps] != 0)
			_exit(1);
		m[ps] = 'C';		/* a hole the parent has mapped */
		m[2 * ps] = 'D';
		if (write(to_parent[1], "w", 1) != 1 ||
		    read(to_child[0], &c, 1) != 1)
			_exit(2);
		if (m[3 * ps] != 'Q' || m[0] != 'R')
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(1, read(to_parent[0], &c, 1));
	EXPECT_EQ('C', m[ps]);
	EXPECT_EQ('D', m[2 * ps]);
	m[3 * ps] = 'Q';
	m[0] = 'R';
	ASSERT_EQ(1, write(to_child[1], "g", 1));
	EXPECT_EQ(0, cowdev_child_status(pid));
	EXPECT_EQ(4, cowdev_stats_of(fd).demand_allocs);
	EXPECT_EQ(used + 3, cowdev_pool_used(fd));
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
	munmap(m, 8 * ps);
	close(fd);
}

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char byte = 'f';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	memset(cbuf, 0, sizeof(cbuf));
	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_level != SOL_SOCKET ||
	    cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * An fd passed over a unix socket (SCM_RIGHTS) to a process that did not
 * have it: that process's own mapping is the same object, both ways, and
 * the passed fd is the same view (its stats).
 */
TEST(shared_mapping_through_scm_rights)
{
	size_t ps = cowdev_page_size();
	int sv[2], fd, pfd;
	char *m, c;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct cowdev_stats st;
		char *cm;

		close(sv[0]);
		pfd = recv_fd(sv[1]);
		if (pfd < 0)
			_exit(1);
		cm = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_SHARED,
			  pfd, 0);
		if (cm == MAP_FAILED)
			_exit(2);
		if (cm[0] != 's' || cm[ps] != 0)
			_exit(3);
		cm[ps] = 'r';
		cm[2 * ps] = 'q';
		if (cowdev_get_stats(pfd, &st) || st.demand_allocs != 3)
			_exit(4);
		if (write(sv[1], "d", 1) != 1 || read(sv[1], &c, 1) != 1)
			_exit(5);
		if (cm[3 * ps] != 't')
			_exit(6);
		_exit(0);
	}
	close(sv[1]);
	fd = cowdev_new_view(4, &m);
	ASSERT_LE(0, fd);
	m[0] = 's';
	ASSERT_EQ(0, m[2 * ps]);
	ASSERT_EQ(0, send_fd(sv[0], fd));
	ASSERT_EQ(1, read(sv[0], &c, 1));
	EXPECT_EQ('r', m[ps]);
	EXPECT_EQ('q', m[2 * ps]);
	m[3 * ps] = 't';
	ASSERT_EQ(1, write(sv[0], "g", 1));
	EXPECT_EQ(0, cowdev_child_status(pid));
	EXPECT_EQ(4, cowdev_stats_of(fd).demand_allocs);
	EXPECT_EQ(4, cowdev_stats_of(fd).resident_pages);
	munmap(m, 4 * ps);
	close(fd);
	close(sv[0]);
}

/*
 * MAP_PRIVATE reads see the view, including later shared writes, for the
 * pages the private mapping has not written: resident pages, and holes it
 * has read (the zero page pte is replaced).
 */
TEST(private_reads_follow_later_shared_writes)
{
	size_t ps = cowdev_page_size();
	char *s, *p;
	int fd;

	fd = cowdev_new_view(8, &s);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 8 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	s[0] = 'A';
	EXPECT_EQ('A', p[0]);
	s[0] = 'B';
	EXPECT_EQ('B', p[0]);
	/* A hole the private mapping has read, then a shared write. */
	EXPECT_EQ(0, p[ps]);
	s[ps] = 'H';
	EXPECT_EQ('H', p[ps]);
	s[ps] = 'I';
	EXPECT_EQ('I', p[ps]);
	/* The shared page after MADV_DONTNEED of the shared mapping. */
	ASSERT_EQ(0, madvise(s, 8 * ps, MADV_DONTNEED));
	s[0] = 'C';
	EXPECT_EQ('C', p[0]);
	EXPECT_EQ(2, cowdev_stats_of(fd).demand_allocs);
	EXPECT_EQ(0, cowdev_stats_of(fd).private_cow);
	munmap(s, 8 * ps);
	munmap(p, 8 * ps);
	close(fd);
}

/*
 * Private writes stay private: never in the view, never a pool page.  A
 * write fault that reaches ->fault (no pte) counts private_cow; a write to a
 * page the private mapping maps read-only is core mm's copy alone (no
 * counter moves).  Once written privately, a page no longer follows the
 * view.
 */
TEST(private_writes_stay_private)
{
	size_t ps = cowdev_page_size();
	struct cowdev_stats st;
	char *s, *p, *p2;
	uint64_t used;
	int fd;

	fd = cowdev_new_view(8, &s);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 8 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(s, 'v', 2 * ps);		/* pages 0, 1 resident */
	ASSERT_EQ('v', p[0]);		/* page 0 mapped read-only in p */
	ASSERT_EQ(0, p[2 * ps]);	/* hole 2 mapped (zero page) in p */
	/* Fault-around mapped page 1 in p too: drop that pte. */
	ASSERT_EQ(0, madvise(p + ps, ps, MADV_DONTNEED));
	used = cowdev_pool_used(fd);
	ASSERT_EQ(0, cowdev_reset_stats(fd));

	/* Resident page, no pte in p: ->fault, private_cow +1. */
	p[ps] = 'p';
	st = cowdev_stats_of(fd);
	EXPECT_EQ(1, st.private_cow);
	EXPECT_EQ(1, st.faults);
	/* Hole, no pte in p: ->fault, private_cow +1, still a hole. */
	p[3 * ps] = 'q';
	st = cowdev_stats_of(fd);
	EXPECT_EQ(2, st.private_cow);
	EXPECT_EQ(2, st.faults);
	/* Read-only ptes (resident page and zero page): nothing counted. */
	p[0] = 'r';
	p[2 * ps] = 's';
	st = cowdev_stats_of(fd);
	EXPECT_EQ(2, st.private_cow);
	EXPECT_EQ(2, st.faults);
	EXPECT_EQ(0, st.mkwrite);
	EXPECT_EQ(0, st.demand_allocs);
	EXPECT_EQ(0, st.zero_maps);
	EXPECT_EQ(2, st.resident_pages);
	EXPECT_EQ(used, cowdev_pool_used(fd));

	/* The copies hold the view's data and the private write. */
	EXPECT_EQ('p', p[ps]);
	EXPECT_EQ('v', p[ps + 1]);
	EXPECT_EQ('r', p[0]);
	EXPECT_EQ('v', p[1]);
	EXPECT_EQ(0, p[3 * ps + 1]);
	/* The view and every other mapping: unchanged. */
	EXPECT_EQ('v', s[0]);
	EXPECT_EQ('v', s[ps]);
	EXPECT_EQ(0, s[2 * ps]);
	EXPECT_EQ(0, s[3 * ps]);
	p2 = mmap(NULL, 8 * ps, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p2);
	EXPECT_EQ('v', p2[0]);
	EXPECT_EQ(0, p2[3 * ps]);
	EXPECT_EQ(2, cowdev_stats_of(fd).resident_pages);
	/* Privately written pages no longer follow the view. */
	s[0] = 'S';
	s[ps] = 'T';
	s[3 * ps] = 'U';
	EXPECT_EQ('r', p[0]);
	EXPECT_EQ('p', p[ps]);
	EXPECT_EQ('q', p[3 * ps]);
	EXPECT_EQ('S', p2[0]);
	EXPECT_EQ('U', p2[3 * ps]);
	/* Private_Dirty: the four private copies. */
	EXPECT_EQ((long)(4 * ps / 1024), cowdev_smaps_kb(p, "Private_Dirty"));
	munmap(p2, 8 * ps);
	munmap(s, 8 * ps);
	munmap(p, 8 * ps);
	close(fd);
}

/* MAP_PRIVATE across fork: ordinary anonymous COW between the two. */
TEST(private_mapping_across_fork)
{
	size_t ps = cowdev_page_size();
	char *s, *p;
	pid_t pid;
	int fd;

	fd = cowdev_new_view(4, &s);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	s[0] = 'v';
	p[0] = 'P';
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (p[0] != 'P')
			_exit(1);
		p[0] = 'K';
		p[ps] = 'K';
		_exit(s[0] == 'v' && s[ps] == 0 ? 0 : 2);
	}
	EXPECT_EQ(0, cowdev_child_status(pid));
	EXPECT_EQ('P', p[0]);
	EXPECT_EQ(0, p[ps]);
	EXPECT_EQ('v', s[0]);
	EXPECT_EQ(0, s[ps]);
	EXPECT_EQ(1, cowdev_stats_of(fd).demand_allocs);
	munmap(s, 4 * ps);
	munmap(p, 4 * ps);
	close(fd);
}

/*
 * MADV_DONTNEED drops ptes, not data: Rss goes to 0, the view keeps its
 * pages (resident, pool), reading them back allocates nothing.  On a
 * private mapping it drops the private copies: the view shows through.
 */
TEST(madv_dontneed_drops_ptes_not_data)
{
	size_t ps = cowdev_page_size();
	struct cowdev_stats st;
	uint64_t used;
	char *s, *p;
	int fd, i;

	fd = cowdev_new_view(16, &s);
	ASSERT_LE(0, fd);
	for (i = 0; i < 8; i++)
		memset(s + i * ps, 'a' + i, ps);
	used = cowdev_pool_used(fd);
	EXPECT_EQ((long)(8 * ps / 1024), cowdev_smaps_kb(s, "Rss"));
	ASSERT_EQ(0, madvise(s, 16 * ps, MADV_DONTNEED));
	EXPECT_EQ(0, cowdev_smaps_kb(s, "Rss"));
	st = cowdev_stats_of(fd);
	EXPECT_EQ(8, st.resident_pages);
	EXPECT_EQ(used, cowdev_pool_used(fd));
	ASSERT_EQ(0, cowdev_reset_stats(fd));
	for (i = 0; i < 8; i++)
		ASSERT_TRUE(cowdev_all_bytes(s + i * ps, ps, 'a' + i)) TH_LOG("%d", i);
	st = cowdev_stats_of(fd);
	EXPECT_EQ(0, st.demand_allocs);
	EXPECT_EQ(0, st.zero_maps);
	EXPECT_EQ(8, st.resident_pages);
	EXPECT_EQ(used, cowdev_pool_used(fd));

	p = mmap(NULL, 16 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 'X';
	p[9 * ps] = 'Y';
	ASSERT_EQ(0, madvise(p, 16 * ps, MADV_DONTNEED));
	EXPECT_EQ('a', p[0]);
	EXPECT_EQ(0, p[9 * ps]);
	EXPECT_EQ(used, cowdev_pool_used(fd));
	munmap(p, 16 * ps);
	munmap(s, 16 * ps);
	close(fd);
}

/*
 * mprotect: read-only, a write is SIGSEGV (not the module's SIGBUS: no
 * counter moves) and reads work; PROT_NONE, reads are SIGSEGV too; back
 * to read-write, writes work and the first one to a resident page is a
 * ->page_mkwrite.
 */
TEST(mprotect_is_honoured)
{
	size_t ps = cowdev_page_size();
	struct cowdev_stats st;
	char *m, c;
	int fd;

	fd = cowdev_new_view(4, &m);
	ASSERT_LE(0, fd);
	m[0] = 'x';
	ASSERT_EQ(0, mprotect(m, 4 * ps, PROT_READ));
	ASSERT_EQ(0, cowdev_reset_stats(fd));
	EXPECT_EQ(SIGSEGV, cowdev_try_write(m, 'y'));
	EXPECT_EQ(SIGSEGV, cowdev_try_write(m + ps, 'y'));
	EXPECT_EQ(0, cowdev_try_read(m, &c));
	EXPECT_EQ('x', c);
	EXPECT_EQ(0, cowdev_try_read(m + 2 * ps, &c));
	EXPECT_EQ(0, c);
	st = cowdev_stats_of(fd);
	EXPECT_EQ(0, st.sigbus);
	EXPECT_EQ(0, st.demand_allocs);
	EXPECT_EQ(0, st.mkwrite);
	EXPECT_EQ(1, st.resident_pages);
	ASSERT_EQ(0, mprotect(m, 4 * ps, PROT_NONE));
	EXPECT_EQ(SIGSEGV, cowdev_try_read(m, &c));
	ASSERT_EQ(0, mprotect(m, 4 * ps, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, cowdev_try_write(m, 'z'));
	EXPECT_EQ(0, cowdev_try_write(m + ps, 'w'));
	EXPECT_EQ(0, cowdev_try_write(m + 2 * ps, 'v'));
	st = cowdev_stats_of(fd);
	EXPECT_EQ(2, st.demand_allocs);
	EXPECT_EQ(0, st.sigbus);
	EXPECT_EQ('z', m[0]);
	EXPECT_EQ('w', m[ps]);
	EXPECT_EQ('v', m[2 * ps]);
	munmap(m, 4 * ps);
	close(fd);
}

/*
 * munmap: unmapping part of a mapping leaves the rest mapped and every
 * page in the view; an unmapped address is SIGSEGV; a new mapping after
 * all are gone sees the data (the open fd keeps the view).
 */
TEST(munmap_keeps_the_view)
{
	size_t ps = cowdev_page_size();
	uint64_t used;
	char *m, c;
	int fd;

	fd = cowdev_new_view(8, &m);
	ASSERT_LE(0, fd);
	m[0] = '0';
	m[3 * ps] = '3';
	m[6 * ps] = '6';
	used = cowdev_pool_used(fd);
	ASSERT_EQ(0, munmap(m + 2 * ps, 2 * ps));
	EXPECT_EQ(SIGSEGV, cowdev_try_read(m + 3 * ps, &c));
	EXPECT_EQ('0', m[0]);
	EXPECT_EQ('6', m[6 * ps]);
	EXPECT_EQ(used, cowdev_pool_used(fd));
	EXPECT_EQ(3, cowdev_stats_of(fd).resident_pages);
	ASSERT_EQ(0, munmap(m, 8 * ps));
	EXPECT_EQ(used, cowdev_pool_used(fd));
	m = mmap(NULL, 8 * ps, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ('0', m[0]);
	EXPECT_EQ('3', m[3 * ps]);
	EXPECT_EQ('6', m[6 * ps]);
	EXPECT_EQ(3, cowdev_stats_of(fd).demand_allocs);
	munmap(m, 8 * ps);
	close(fd);
}

/*
 * mremap: a move keeps the data and the view (writes through the moved
 * mapping reach the view); growing by moving, the part within the size
 * sees the view's data and the part beyond it gets SIGBUS; growing in place
 * is refused by core mm (ENOMEM, documented); shrinking keeps the rest.
 */
TEST(mremap_moves_and_grows)
{
	size_t ps = cowdev_page_size();
	char *m, *guard, *dst, *r, *other, c;
	struct cowdev_stats st;
	int fd;

	fd = cowdev_new_view(8, &other);
	ASSERT_LE(0, fd);
	other[5 * ps] = '5';
	/* 4 pages, with another mapping right after them. */
	m = cowdev_aligned_area(5 * ps, ps, &guard);
	ASSERT_NE(NULL, m);
	ASSERT_EQ(m, mmap(m, 4 * ps, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_FIXED, fd, 0));
	m[0] = 'm';
	m[ps] = 'n';

	/* A pure move to a chosen place. */
	dst = mmap(NULL, 16 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	ASSERT_NE(MAP_FAILED, dst);
	r = mremap(m, 4 * ps, 4 * ps, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_EQ(dst, r);
	EXPECT_EQ(SIGSEGV, cowdev_try_read(m, &c));
	EXPECT_EQ('m', r[0]);
	EXPECT_EQ('n', r[ps]);
	r[2 * ps] = 'o';
	EXPECT_EQ('o', other[2 * ps]);

	/*
	 * Documented (Documentation/cowdev.rst): core mm never expands a
	 * VM_MIXEDMAP VMA in place, so with the range after it free, growing
	 * fails with ENOMEM even with MREMAP_MAYMOVE, and changes nothing.
	 */
	ASSERT_EQ(0, munmap(dst + 4 * ps, 12 * ps));
	EXPECT_EQ(MAP_FAILED, mremap(r, 4 * ps, 8 * ps, MREMAP_MAYMOVE));
	EXPECT_EQ(ENOMEM, errno);
	EXPECT_EQ('m', r[0]);
	EXPECT_EQ((long)(4 * ps / 1024), cowdev_smaps_kb(r, "Size"));
	/* Grow with the next page mapped: mremap moves it. */
	ASSERT_EQ(dst + 4 * ps, mmap(dst + 4 * ps, ps, PROT_NONE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				     -1, 0));
	r = mremap(r, 4 * ps, 12 * ps, MREMAP_MAYMOVE);
	ASSERT_NE(MAP_FAILED, r) TH_LOG("mremap: %s", strerror(errno));
	ASSERT_EQ(0, cowdev_reset_stats(fd));
	EXPECT_EQ('m', r[0]);
	EXPECT_EQ('o', r[2 * ps]);
	EXPECT_EQ('5', r[5 * ps]);
	EXPECT_EQ(0, cowdev_try_write(r + 7 * ps, '7'));
	EXPECT_EQ('7', other[7 * ps]);
	EXPECT_EQ(SIGBUS, cowdev_try_read(r + 8 * ps, &c));
	EXPECT_EQ(SIGBUS, cowdev_try_write(r + 11 * ps, 'x'));
	st = cowdev_stats_of(fd);
	EXPECT_EQ(2, st.sigbus);
	EXPECT_EQ(1, st.demand_allocs);
	/* Growing the object makes the grown part usable. */
	ASSERT_EQ(0, cowdev_set_size(fd, 12 * ps));
	EXPECT_EQ(0, cowdev_try_write(r + 11 * ps, 'x'));
	EXPECT_EQ(2, cowdev_stats_of(fd).sigbus);
	/* Pages 0, 1, 2, 5, 7 and 11. */
	EXPECT_EQ(6, cowdev_stats_of(fd).resident_pages);
	/* Shrinking the mapping keeps what remains; the rest is gone. */
	ASSERT_EQ(r, mremap(r, 12 * ps, 6 * ps, 0));
	EXPECT_EQ('5', r[5 * ps]);
	EXPECT_EQ(SIGSEGV, cowdev_try_read(r + 7 * ps, &c));
	munmap(r, 6 * ps);
	munmap(dst + 4 * ps, ps);
	munmap(guard, 6 * ps);
	munmap(other, 8 * ps);
	close(fd);
}

/*
 * SET_SIZE shrink: the pages beyond the new end are unmapped in every
 * process (SIGBUS there, in another process's own mapping too, and in
 * private mappings, whose copies go as with truncate) and exactly the
 * resident ones are freed; growing again shows holes (zeros).
 */
TEST(shrink_unmaps_everywhere_and_frees_exactly)
{
	size_t ps = cowdev_page_size();
	int ready[2], go[2], fd, i;
	struct cowdev_stats st;
	uint64_t used;
	char *m, *p, c;
	pid_t pid;

	fd = cowdev_new_view(32, &m);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 32 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* 16 resident pages: the even ones.  Odd pages read (zero page). */
	for (i = 0; i < 32; i += 2)
		memset(m + i * ps, 'e', ps);
	for (i = 1; i < 32; i += 2)
		ASSERT_EQ(0, m[i * ps]);
	used = cowdev_pool_used(fd);
	ASSERT_EQ(16, cowdev_stats_of(fd).resident_pages);
	/* Private copies on both sides of the new end. */
	p[2 * ps] = 'p';
	p[20 * ps] = 'p';
	EXPECT_EQ('e', p[22 * ps]);

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char *cm = mmap(NULL, 32 * ps, PROT_READ | PROT_WRITE,
				MAP_SHARED, fd, 0);

		if (cm == MAP_FAILED)
			_exit(1);
		if (cm[24 * ps] != 'e' || cm[25 * ps] != 0)
			_exit(2);
		cm[24 * ps + 1] = 'c';
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(3);
		if (cowdev_try_read(cm + 24 * ps, &c) != SIGBUS)
			_exit(4);
		if (cowdev_try_read(cm + 25 * ps, &c) != SIGBUS)
			_exit(5);
		if (cowdev_try_write(cm + 11 * ps, 'w') != SIGBUS)
			_exit(6);
		if (cowdev_try_read(cm + 10 * ps, &c) || c != 'e')
			_exit(7);
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	/* 11 pages remain: 0..10, of which 6 are resident (0, 2, .., 10). */
	ASSERT_EQ(0, cowdev_reset_stats(fd));
	ASSERT_EQ(0, cowdev_set_size(fd, 10 * ps + 1));
	EXPECT_EQ(used - 10, cowdev_pool_used(fd));
	st = cowdev_stats_of(fd);
	EXPECT_EQ(6, st.resident_pages);
	EXPECT_EQ(11, st.size_pages);
	ASSERT_EQ(1, write(go[1], "g", 1));
	EXPECT_EQ(0, cowdev_child_status(pid));
	EXPECT_EQ(SIGBUS, cowdev_try_read(m + 11 * ps, &c));
	EXPECT_EQ(SIGBUS, cowdev_try_read(m + 12 * ps, &c));
	EXPECT_EQ(SIGBUS, cowdev_try_read(p + 20 * ps, &c));
	EXPECT_EQ(SIGBUS, cowdev_try_read(p + 22 * ps, &c));
	EXPECT_EQ('p', p[2 * ps]);
	EXPECT_EQ('e', m[10 * ps]);
	EXPECT_EQ(0, m[9 * ps]);
	EXPECT_EQ(3 + 4, cowdev_stats_of(fd).sigbus);
	EXPECT_EQ(used - 10, cowdev_pool_used(fd));

	/* Growing again: holes, nothing allocated until written. */
	ASSERT_EQ(0, cowdev_set_size(fd, 32 * ps));
	EXPECT_EQ(used - 10, cowdev_pool_used(fd));
	for (i = 11; i < 32; i++) {
		ASSERT_TRUE(cowdev_all_bytes(m + i * ps, ps, 0)) TH_LOG("page %d", i);
		ASSERT_EQ(0, p[i * ps]) TH_LOG("private page %d", i);
	}
	st = cowdev_stats_of(fd);
	EXPECT_EQ(0, st.demand_allocs);
	EXPECT_EQ(6, st.resident_pages);
	EXPECT_EQ(used - 10, cowdev_pool_used(fd));
	m[20 * ps] = 'n';
	EXPECT_EQ('n', p[20 * ps]);
	EXPECT_EQ(used - 9, cowdev_pool_used(fd));
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	munmap(p, 32 * ps);
	munmap(m, 32 * ps);
	close(fd);
}

/*
 * msync() and fsync() of a view succeed, as for shmem: there is nothing to
 * write back.  Programs that persist through a shared mapping call them.
 */
TEST(msync_and_fsync_succeed)
{
	size_t ps = cowdev_page_size();
	int fd, clone;
	char *m;

	fd = cowdev_new_view(4, &m);
	ASSERT_LE(0, fd);
	memset(m, 's', 2 * ps);
	EXPECT_EQ(0, msync(m, 4 * ps, MS_SYNC)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, msync(m, 4 * ps, MS_ASYNC));
	EXPECT_EQ(0, msync(m + ps, ps, MS_INVALIDATE));
	EXPECT_EQ(0, fsync(fd)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, fdatasync(fd));
	clone = cowdev_clone(fd);
	ASSERT_LE(0, clone);
	EXPECT_EQ(0, fsync(clone));
	EXPECT_TRUE(cowdev_all_bytes(m, 2 * ps, 's'));
	EXPECT_TRUE(cowdev_all_bytes(m + 2 * ps, 2 * ps, 0));
	EXPECT_EQ(2, cowdev_stats_of(fd).resident_pages);
	close(clone);
	munmap(m, 4 * ps);
	close(fd);
}

/* Shrinking to the same size or growing frees nothing. */
TEST(resize_without_shrink_frees_nothing)
{
	size_t ps = cowdev_page_size();
	uint64_t used;
	char *m;
	int fd;

	fd = cowdev_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cowdev_set_size(fd, 4 * ps));
	m = mmap(NULL, 8 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	memset(m, 'k', 4 * ps);
	used = cowdev_pool_used(fd);
	ASSERT_EQ(0, cowdev_set_size(fd, 4 * ps));
	ASSERT_EQ(0, cowdev_set_size(fd, 3 * ps + 1));
	EXPECT_EQ(used, cowdev_pool_used(fd));
	ASSERT_EQ(0, cowdev_set_size(fd, 8 * ps));
	EXPECT_EQ(used, cowdev_pool_used(fd));
	EXPECT_TRUE(cowdev_all_bytes(m, 4 * ps, 'k'));
	EXPECT_TRUE(cowdev_all_bytes(m + 4 * ps, 4 * ps, 0));
	EXPECT_EQ(4, cowdev_stats_of(fd).resident_pages);
	munmap(m, 8 * ps);
	close(fd);
}

/* Threads. */

#define NTHREADS 8
#define RACE_PAGES 256
#define RACE_SECONDS 1.0

struct race {
	char *map;
	size_t ps;
	int page;			/* the page of this round */
	pthread_barrier_t start, end;
	atomic_int stop;
};

struct racer {
	struct race *race;
	int id;
};

/* Every round, each thread writes its byte into the same hole at once. */
static void *same_hole_writer(void *arg)
{
	struct racer *r = arg;
	struct race *race = r->race;

	for (;;) {
		pthread_barrier_wait(&race->start);
		if (atomic_load(&race->stop))
			break;
		race->map[race->page * race->ps + r->id * 8] = (char)(r->id + 1);
		pthread_barrier_wait(&race->end);
	}
	return NULL;
}

/*
 * Many threads writing one hole at once: exactly one pool page per hole
 * (demand_allocs), and one copy of the data: every thread's byte is in the
 * page that every mapping sees.  Rounds on fresh holes for about a second.
 */
TEST(threads_writing_one_hole_get_one_page)
{
	size_t ps = cowdev_page_size();
	struct racer r[NTHREADS];
	pthread_t t[NTHREADS];
	struct race race = { .ps = ps };
	struct cowdev_stats st;
	int fd, i, rounds;
	uint64_t used;
	double end;
	char *other;

	fd = cowdev_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cowdev_set_size(fd, RACE_PAGES * ps));
	race.map = mmap(NULL, RACE_PAGES * ps, PROT_READ | PROT_WRITE,
			MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, race.map);
	used = cowdev_pool_used(fd);
	pthread_barrier_init(&race.start, NULL, NTHREADS + 1);
	pthread_barrier_init(&race.end, NULL, NTHREADS + 1);
	for (i = 0; i < NTHREADS; i++) {
		r[i].race = &race;
		r[i].id = i;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, same_hole_writer,
					    &r[i]));
	}
	end = cowdev_now() + RACE_SECONDS;
	for (rounds = 0; rounds < RACE_PAGES && cowdev_now() < end; rounds++) {
		race.page = rounds;
		pthread_barrier_wait(&race.start);
		pthread_barrier_wait(&race.end);
	}
	atomic_store(&race.stop, 1);
	pthread_barrier_wait(&race.start);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&race.start);
	pthread_barrier_destroy(&race.end);
	TH_LOG("%d rounds", rounds);

	st = cowdev_stats_of(fd);
	EXPECT_EQ(rounds, st.demand_allocs);
	EXPECT_EQ(rounds, st.resident_pages);
	EXPECT_EQ(0, st.sigbus);
	EXPECT_EQ(used + rounds, cowdev_pool_used(fd));
	other = mmap(NULL, RACE_PAGES * ps, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, other);
	for (rounds--; rounds >= 0; rounds--) {
		for (i = 0; i < NTHREADS; i++) {
			ASSERT_EQ((char)(i + 1), other[rounds * ps + i * 8])
				TH_LOG("page %d thread %d", rounds, i);
			ASSERT_EQ((char)(i + 1),
				  race.map[rounds * ps + i * 8]);
		}
	}
	munmap(other, RACE_PAGES * ps);
	munmap(race.map, RACE_PAGES * ps);
	close(fd);
}

struct spread {
	char *map;
	size_t ps;
	int pages;			/* per thread */
	int read_first;
	pthread_barrier_t start;
};

struct spreader {
	struct spread *s;
	int id;
};

/* Thread @id writes pages id, id + NTHREADS, id + 2 * NTHREADS, ... */
static void *spread_writer(void *arg)
{
	struct spreader *w = arg;
	struct spread *s = w->s;
	int i, page;

	pthread_barrier_wait(&s->start);
	for (i = 0; i < s->pages; i++) {
		page = i * NTHREADS + w->id;
		if (s->read_first && s->map[page * s->ps] != 0)
			return (void *)1;
		s->map[page * s->ps + w->id] = (char)(page + 1);
	}
	return NULL;
}

static int run_spread(struct spread *s)
{
	struct spreader w[NTHREADS];
	int i, bad;

	pthread_barrier_init(&s->start, NULL, NTHREADS);
	for (i = 0; i < NTHREADS; i++) {
		w[i].s = s;
		w[i].id = i;
	}
	bad = cowdev_run_threads(NTHREADS, spread_writer, w, sizeof(w[0]));
	pthread_barrier_destroy(&s->start);
	return bad;
}

/*
 * Threads faulting different pages at once (interleaved, so neighbours are
 * faulted by different threads): exact totals of allocations, resident
 * pages and pool pages, and each page holds its writer's byte.  Then the
 * same with a read of each hole before its write.
 */
TEST(threads_faulting_different_pages)
{
	size_t ps = cowdev_page_size();
	struct spread s = { .ps = ps, .pages = RACE_PAGES / NTHREADS / 2 };
	int n = s.pages * NTHREADS, fd, i;
	struct cowdev_stats st;
	uint64_t used;

	fd = cowdev_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cowdev_set_size(fd, 2 * n * ps));
	s.map = mmap(NULL, 2 * n * ps, PROT_READ | PROT_WRITE, MAP_SHARED,
		     fd, 0);
	ASSERT_NE(MAP_FAILED, s.map);
	used = cowdev_pool_used(fd);

	ASSERT_EQ(0, run_spread(&s));
	st = cowdev_stats_of(fd);
	EXPECT_EQ(n, st.demand_allocs);
	EXPECT_EQ(n, st.resident_pages);
	EXPECT_EQ(0, st.zero_maps);
	EXPECT_EQ(0, st.sigbus);
	EXPECT_EQ(used + n, cowdev_pool_used(fd));
	for (i = 0; i < n; i++)
		ASSERT_EQ((char)(i + 1), s.map[i * ps + i % NTHREADS])
			TH_LOG("page %d", i);

	/* The second half of the object, each hole read before it is written. */
	s.map += n * ps;
	s.read_first = 1;
	ASSERT_EQ(0, cowdev_reset_stats(fd));
	ASSERT_EQ(0, run_spread(&s));
	s.map -= n * ps;
	st = cowdev_stats_of(fd);
	EXPECT_EQ(n, st.demand_allocs);
	EXPECT_EQ(n, st.zero_maps);
	EXPECT_EQ(2 * n, st.resident_pages);
	EXPECT_EQ(used + 2 * n, cowdev_pool_used(fd));
	for (i = 0; i < n; i++)
		ASSERT_EQ((char)(i + 1), s.map[(n + i) * ps + i % NTHREADS])
			TH_LOG("page %d", n + i);
	munmap(s.map, 2 * n * ps);
	close(fd);
}

struct watch {
	char *map;		/* a second shared mapping, or a private one */
	size_t ps;
	atomic_int page;	/* the hole being written; -1: stop */
	atomic_int seen;	/* readers that saw the write */
	pthread_barrier_t start;
};

/*
 * Each reader spins reading the hole of the round until it sees the
 * writer's byte (the zero page pte it may have mapped must go away).
 */
static void *hole_reader(void *arg)
{
	struct watch *w = arg;
	int page;

	for (;;) {
		pthread_barrier_wait(&w->start);
		page = atomic_load(&w->page);
		if (page < 0)
			break;
		while (*(volatile char *)(w->map + page * w->ps) == 0)
			;
		atomic_fetch_add(&w->seen, 1);
	}
	return NULL;
}

/*
 * Readers mapping a hole with the zero page while another thread fills it:
 * every reader sees the write (no zero page pte survives the fill), on a
 * second shared mapping and on a private one; one page per hole.  A
 * stress test of many interleavings, by chance: the window itself is held
 * open on purpose by cowdev_race_test (hole_reader_looks_again_...).
 */
TEST_F_TIMEOUT(obj, readers_see_a_hole_being_filled, 60)
{
	size_t ps = self->ps;
	pthread_t t[NTHREADS / 2];
	struct watch w = { .ps = ps };
	struct cowdev_stats st;
	int i, round, nr = NTHREADS / 2;
	char *writer;
	double end;

	/* The fixture's mapping (shared or private) is the readers'. */
	w.map = self->map;
	writer = mmap(NULL, NPAGES * ps, PROT_READ | PROT_WRITE, MAP_SHARED,
		      self->fd, 0);
	ASSERT_NE(MAP_FAILED, writer);
	pthread_barrier_init(&w.start, NULL, nr + 1);
	for (i = 0; i < nr; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, hole_reader, &w));
	end = cowdev_now() + RACE_SECONDS / 2;
	for (round = 0; round < NPAGES && cowdev_now() < end; round++) {
		double give_up = cowdev_now() + 10;

		atomic_store(&w.page, round);
		atomic_store(&w.seen, 0);
		pthread_barrier_wait(&w.start);
		/* Let some readers map the zero page first. */
		if (round & 1)
			usleep(200);
		writer[round * ps] = (char)(round | 1);
		while (atomic_load(&w.seen) < nr && cowdev_now() < give_up)
			usleep(10);
		if (atomic_load(&w.seen) < nr)
			break;
	}
	EXPECT_EQ(nr, atomic_load(&w.seen))
		TH_LOG("round %d: a reader still sees the zero page", round);
	if (atomic_load(&w.seen) < nr) {
		/* Unstick the readers so that they can be joined. */
		memset(writer, 1, NPAGES * ps);
		ASSERT_EQ(0, madvise(self->map, NPAGES * ps, MADV_DONTNEED));
		round++;
	}
	atomic_store(&w.page, -1);
	pthread_barrier_wait(&w.start);
	for (i = 0; i < nr; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&w.start);
	TH_LOG("%d rounds", round);
	st = cowdev_stats_of(self->fd);
	EXPECT_EQ(round, st.demand_allocs);
	EXPECT_EQ(round, st.resident_pages);
	EXPECT_EQ(self->used0 + round, cowdev_pool_used(self->fd));
	munmap(writer, NPAGES * ps);
}

struct hammer {
	char *map;		/* the readers' mapping */
	int fd, flags;		/* the view; MAP_SHARED or MAP_PRIVATE */
	size_t ps;
	atomic_int page;	/* the hole of this round; -1: stop */
	atomic_int written;	/* the writer's store has returned */
	atomic_int stale;	/* final reads that still saw 0 */
	atomic_long faults;	/* reads done while the hole was filled */
	pthread_barrier_t start, end;
};

/*
 * Each round: drop the pte and read the hole, again and again, so that a
 * read fault is in flight when the writer fills the hole; once the write
 * has returned, one last read must see it.
 */
static void *hammer_reader(void *arg)
{
	struct hammer *h = arg;
	volatile char *p;
	long n;
	int page;

	for (;;) {
		pthread_barrier_wait(&h->start);
		page = atomic_load(&h->page);
		if (page < 0)
			break;
		p = (volatile char *)h->map + page * h->ps;
		for (n = 0; !atomic_load(&h->written); n++) {
			madvise((void *)p, h->ps, MADV_DONTNEED);
			(void)*p;
		}
		if (*p == 0)
			atomic_fetch_add(&h->stale, 1);
		atomic_fetch_add(&h->faults, n);
		pthread_barrier_wait(&h->end);
	}
	return NULL;
}

/*
 * The same, but each read is through a new one-page mapping alone in its
 * 2 MiB region, so that its page table is freed at munmap and every read
 * fault also allocates one (a longer fault: a wider race window).  The
 * region is a hole in the middle of this thread's own reservation: with
 * free address space beside it, another thread's mmap() (the next
 * reader's reservation, a thread stack) could land in it and the
 * MAP_FIXED mappings here would replace that.
 */
static void *hammer_remap_reader(void *arg)
{
	size_t pmd = 2UL << 20;
	struct hammer *h = arg;
	volatile char *p;
	char *rsv, *a;
	long n;
	int page;

	rsv = mmap(NULL, 3 * pmd, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (rsv == MAP_FAILED)
		return (void *)1;
	/* rsv < a and a + pmd < rsv + 3 * pmd: reserved on both sides. */
	a = (char *)(((uintptr_t)rsv + pmd) & ~(uintptr_t)(pmd - 1));
	munmap(a, pmd);
	for (;;) {
		pthread_barrier_wait(&h->start);
		page = atomic_load(&h->page);
		if (page < 0)
			break;
		for (n = 0;; n++) {
			p = mmap(a, h->ps, PROT_READ, h->flags | MAP_FIXED,
				 h->fd, page * h->ps);
			if (p != (volatile char *)a)
				return (void *)2;
			(void)*p;
			if (atomic_load(&h->written))
				break;
			munmap(a, h->ps);
		}
		if (*p == 0)
			atomic_fetch_add(&h->stale, 1);
		munmap(a, h->ps);
		atomic_fetch_add(&h->faults, n);
		pthread_barrier_wait(&h->end);
	}
	munmap(rsv, 3 * pmd);
	return NULL;
}

/*
 * A hole filled while read faults keep mapping it with the zero page (the
 * pte installed by a reader that looked before the fill must not outlive
 * it): after the write returns, every reader sees the data, on a second
 * shared mapping and on a private one.  About a second of rounds, each on
 * a new hole, with a varying delay before the write.
 */
#define HAMMER_PAGES 1024
#define HAMMER_READERS 3	/* one drops its pte, the others remap */
#define HAMMER_SECONDS 1.5

TEST_F_TIMEOUT(obj, hole_fill_races_with_faulting_readers, 60)
{
	size_t ps = self->ps, len = HAMMER_PAGES * ps;
	pthread_t t[HAMMER_READERS];
	struct hammer h = { .ps = ps, .fd = self->fd,
			    .flags = variant->flags };
	struct cowdev_stats st;
	volatile unsigned long spin;
	int i, round;
	char *writer;
	void *ret;
	double end;

	ASSERT_EQ(0, cowdev_set_size(self->fd, len));
	h.map = mmap(NULL, len, PROT_READ, variant->flags, self->fd, 0);
	ASSERT_NE(MAP_FAILED, h.map);
	writer = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      self->fd, 0);
	ASSERT_NE(MAP_FAILED, writer);
	pthread_barrier_init(&h.start, NULL, HAMMER_READERS + 1);
	pthread_barrier_init(&h.end, NULL, HAMMER_READERS + 1);
	for (i = 0; i < HAMMER_READERS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, i ? hammer_remap_reader
					    : hammer_reader, &h));
	end = cowdev_now() + HAMMER_SECONDS;
	for (round = 0; round < HAMMER_PAGES && cowdev_now() < end; round++) {
		atomic_store(&h.page, round);
		atomic_store(&h.written, 0);
		pthread_barrier_wait(&h.start);
		/* A varying delay: the fill lands at varying points. */
		for (spin = 0; spin < (unsigned long)(round % 16) * 500; spin++)
			;
		writer[round * ps] = (char)(round | 1);
		atomic_store(&h.written, 1);
		pthread_barrier_wait(&h.end);
	}
	atomic_store(&h.page, -1);
	pthread_barrier_wait(&h.start);
	for (i = 0; i < HAMMER_READERS; i++) {
		pthread_join(t[i], &ret);
		EXPECT_EQ(NULL, ret);
	}
	pthread_barrier_destroy(&h.start);
	pthread_barrier_destroy(&h.end);
	TH_LOG("%d rounds, %ld reads during the fills", round,
	       atomic_load(&h.faults));
	EXPECT_EQ(0, atomic_load(&h.stale));
	for (i = 0; i < round; i++)
		ASSERT_EQ((char)(i | 1), h.map[i * ps]) TH_LOG("page %d", i);
	st = cowdev_stats_of(self->fd);
	EXPECT_EQ(round, st.demand_allocs);
	EXPECT_EQ(round, st.resident_pages);
	EXPECT_EQ(0, st.sigbus);
	EXPECT_EQ(self->used0 + round, cowdev_pool_used(self->fd));
	munmap(writer, len);
	munmap(h.map, len);
}

TEST_HARNESS_MAIN
