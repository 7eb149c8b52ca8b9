// SPDX-License-Identifier: GPL-2.0
/*
 * An empty pool (issues 5 and 6): the write that needs a page gets SIGBUS,
 * the process survives, the view's pool_failures and sigbus and the pool's
 * alloc_failures rise by one, nothing else changes, and writes work again
 * once pages are freed (shrink, close, a child's exit).  The same at a COW
 * break.  `run` loads the module with pool_pages=256 for this binary; the
 * tests run as root, so user_max_pages does not apply.
 */
#include <errno.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

FIXTURE(small) {
	size_t ps;
	int probe;
	struct cowdev_pool_info pi0;
};

FIXTURE_SETUP(small)
{
	self->ps = cowdev_page_size();
	self->probe = cowdev_open();
	ASSERT_LE(0, self->probe);
	self->pi0 = cowdev_pool_of(self->probe);
	if (self->pi0.total_pages > 1024)
		SKIP_SETUP("needs a small pool (run loads pool_pages=256)");
	ASSERT_LT(16, self->pi0.free_pages);
}

FIXTURE_TEARDOWN(small)
{
	struct cowdev_pool_info pi = cowdev_pool_of(self->probe);

	/* Every test gives back all it took. */
	EXPECT_EQ(self->pi0.used_pages, pi.used_pages);
	close(self->probe);
}

/* Open a view of @pages pages, mapped shared read-write at *map. */
static int open_mapped(size_t pages, char **map)
{
	size_t ps = cowdev_page_size();
	int fd = cowdev_open();

	if (fd < 0)
		return fd;
	if (cowdev_set_size(fd, pages * ps))
		return -1;
	*map = mmap(NULL, pages * ps, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, 0);
	return *map == MAP_FAILED ? -1 : fd;
}

/* Write one byte per page from @from until a write faults. */
static size_t fill(char *map, size_t from, size_t pages)
{
	size_t i;

	for (i = from; i < pages; i++)
		if (cowdev_try_write(map + i * cowdev_page_size(), (char)i))
			break;
	return i - from;
}

TEST_F(small, write_with_an_empty_pool_gets_sigbus)
{
	size_t pages = self->pi0.total_pages + 8, got, i;
	struct cowdev_pool_info pi;
	struct cowdev_stats st;
	char *map, c;
	int fd;

	fd = open_mapped(pages, &map);
	ASSERT_LE(0, fd);
	got = fill(map, 0, pages);
	EXPECT_EQ(self->pi0.free_pages, got);
	st = cowdev_stats_of(fd);
	EXPECT_EQ(1, st.pool_failures);
	EXPECT_EQ(1, st.sigbus);
	EXPECT_EQ(got, st.demand_allocs);
	EXPECT_EQ(0, st.limit_failures);
	pi = cowdev_pool_of(fd);
	EXPECT_EQ(self->pi0.alloc_failures + 1, pi.alloc_failures);
	EXPECT_EQ(0, pi.free_pages);
	EXPECT_EQ(pi.total_pages - 1, pi.used_pages);
	EXPECT_EQ(pi.total_pages - 1, pi.peak_used);
	/* Still fine: reads of data and of holes, and the process. */
	for (i = 0; i < got; i++)
		ASSERT_EQ((char)i, map[i * self->ps]);
	EXPECT_EQ(0, cowdev_try_read(map + (pages - 1) * self->ps, &c));
	EXPECT_EQ(0, c);
	/* Again: one more failure each. */
	EXPECT_EQ(SIGBUS, cowdev_try_write(map + got * self->ps, 1));
	EXPECT_EQ(2, cowdev_stats_of(fd).pool_failures);
	/* Shrinking frees 8 pages: 8 more writes work, the 9th fails. */
	ASSERT_EQ(0, cowdev_set_size(fd, (got - 8) * self->ps));
	ASSERT_EQ(0, cowdev_set_size(fd, pages * self->ps));
	EXPECT_EQ(8, cowdev_pool_of(fd).free_pages);
	EXPECT_EQ(8, fill(map, got, pages));
	EXPECT_EQ(3, cowdev_stats_of(fd).pool_failures);
	munmap(map, pages * self->ps);
	close(fd);
}

TEST_F(small, closing_a_view_makes_room)
{
	size_t pages = self->pi0.total_pages;
	char *a, *b;
	int fa, fb;

	fa = open_mapped(pages, &a);
	ASSERT_LE(0, fa);
	EXPECT_EQ(self->pi0.free_pages, fill(a, 0, pages));
	fb = open_mapped(4, &b);
	ASSERT_LE(0, fb);
	EXPECT_EQ(SIGBUS, cowdev_try_write(b, 1));
	munmap(a, pages * self->ps);
	close(fa);
	EXPECT_EQ(0, cowdev_try_write(b, 1));
	EXPECT_EQ(4, fill(b, 0, 4));
	EXPECT_EQ(1, cowdev_stats_of(fb).pool_failures);
	munmap(b, 4 * self->ps);
	close(fb);
}

/* A child that empties the pool and exits gives every page back. */
TEST_F(small, a_child_that_dies_leaks_nothing)
{
	size_t pages = self->pi0.total_pages;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char *m;

		if (open_mapped(pages, &m) < 0)
			_exit(1);
		_exit(fill(m, 0, pages) == self->pi0.free_pages ? 0 : 2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	EXPECT_EQ(self->pi0.used_pages, cowdev_pool_of(self->probe).used_pages);
	EXPECT_EQ(self->pi0.alloc_failures + 1,
		  cowdev_pool_of(self->probe).alloc_failures);
}

/* An empty pool at a COW break: SIGBUS, and both snapshots intact. */
TEST_F(small, empty_pool_at_a_cow_break)
{
	size_t pages = self->pi0.total_pages;
	char *a, *b, *filler;
	int fa, fb, ff;

	fa = open_mapped(4, &a);
	ASSERT_LE(0, fa);
	memset(a, 'a', 4 * self->ps);
	fb = cowdev_clone(fa);
	ASSERT_LE(0, fb);
	b = mmap(NULL, 4 * self->ps, PROT_READ | PROT_WRITE, MAP_SHARED, fb, 0);
	ASSERT_NE(MAP_FAILED, b);
	ff = open_mapped(pages, &filler);
	ASSERT_LE(0, ff);
	EXPECT_EQ(self->pi0.free_pages - 4, fill(filler, 0, pages));

	EXPECT_EQ(SIGBUS, cowdev_try_write(b + self->ps, 'b'));
	EXPECT_EQ(SIGBUS, cowdev_try_write(a + 2 * self->ps, 'A'));
	EXPECT_EQ(1, cowdev_stats_of(fb).pool_failures);
	EXPECT_EQ(1, cowdev_stats_of(fa).pool_failures);
	EXPECT_EQ(0, cowdev_stats_of(fb).cow_copies);
	EXPECT_EQ(4, cowdev_stats_of(fb).shared_pages);
	EXPECT_EQ('a', b[self->ps]);
	EXPECT_EQ('a', a[2 * self->ps]);

	/* Room again: the break copies. */
	munmap(filler, pages * self->ps);
	close(ff);
	EXPECT_EQ(0, cowdev_try_write(b + self->ps, 'b'));
	EXPECT_EQ(1, cowdev_stats_of(fb).cow_copies);
	EXPECT_EQ('b', b[self->ps]);
	EXPECT_EQ('a', a[self->ps]);
	munmap(a, 4 * self->ps);
	munmap(b, 4 * self->ps);
	close(fa);
	close(fb);
}

TEST_HARNESS_MAIN
