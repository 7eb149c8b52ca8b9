// SPDX-License-Identifier: GPL-2.0
/*
 * Module-owned copy-on-write (issue 6): COWDEV_IOC_CLONE snapshots, the
 * copies and in-place reuses that follow, exact pool deltas, the page-state
 * map, trees of clones, snapshots taken under a concurrent writer, writes by
 * other kernel paths (process_vm_writev, /proc/PID/mem, read()), and the
 * release of a view in the middle of a tree.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

#define NPAGES 32

static char *map_view(int fd, size_t pages, int prot)
{
	char *m = mmap(NULL, pages * cowdev_page_size(), prot, MAP_SHARED,
		       fd, 0);

	return m == MAP_FAILED ? NULL : m;
}

/* Page-state byte of page @i. */
static int state_of(int fd, uint64_t i)
{
	uint8_t b = 0xee;

	if (cowdev_page_state(fd, i, 1, &b))
		return -1;
	return b;
}

FIXTURE(pair) {
	size_t ps;
	int a, b;		/* source and clone */
	char *ma, *mb;		/* NPAGES, shared, read-write */
	uint64_t used0;		/* pool used before the source was written */
};

/* View a with pages 0..15 written ('A' + page), 16..31 holes; b = clone. */
FIXTURE_SETUP(pair)
{
	int i;

	self->ps = cowdev_page_size();
	self->a = cowdev_open();
	ASSERT_LE(0, self->a);
	ASSERT_EQ(0, cowdev_set_size(self->a, NPAGES * self->ps));
	self->used0 = cowdev_pool_used(self->a);
	self->ma = map_view(self->a, NPAGES, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, self->ma);
	for (i = 0; i < 16; i++)
		memset(self->ma + i * self->ps, 'A' + i, self->ps);
	self->b = cowdev_clone(self->a);
	ASSERT_LE(0, self->b) TH_LOG("clone: %s", strerror(-self->b));
	self->mb = map_view(self->b, NPAGES, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, self->mb);
}

FIXTURE_TEARDOWN(pair)
{
	if (self->ma)
		munmap(self->ma, NPAGES * self->ps);
	munmap(self->mb, NPAGES * self->ps);
	close(self->a);
	close(self->b);
}

/* The clone: new O_RDWR | O_CLOEXEC fd, same size and data, no page. */
TEST_F(pair, clone_is_a_free_snapshot)
{
	struct cowdev_stats sa = cowdev_stats_of(self->a), sb = cowdev_stats_of(self->b);
	uint64_t size = 0;
	int i, flags;

	EXPECT_EQ(FD_CLOEXEC, fcntl(self->b, F_GETFD) & FD_CLOEXEC);
	flags = fcntl(self->b, F_GETFL);
	EXPECT_EQ(O_RDWR, flags & O_ACCMODE);
	ASSERT_EQ(0, cowdev_get_size(self->b, &size));
	EXPECT_EQ(NPAGES * self->ps, size);
	EXPECT_EQ(self->used0 + 16, cowdev_pool_used(self->a));
	EXPECT_NE(sa.view_id, sb.view_id);
	EXPECT_EQ(16, sa.shared_pages);
	EXPECT_EQ(16, sb.shared_pages);
	EXPECT_EQ(16, sb.resident_pages);
	EXPECT_EQ(1, sa.clones);
	for (i = 0; i < NPAGES; i++)
		ASSERT_EQ(i < 16 ? 'A' + i : 0, self->mb[i * self->ps + 9]);
	/* Reading the clone took no page. */
	EXPECT_EQ(self->used0 + 16, cowdev_pool_used(self->a));
}

/* Writes through either view are never seen through the other. */
TEST_F(pair, views_diverge_both_ways)
{
	self->ma[0] = 'x';
	self->mb[self->ps] = 'y';
	self->mb[20 * self->ps] = 'z';
	EXPECT_EQ('A', self->mb[0]);
	EXPECT_EQ('x', self->ma[0]);
	EXPECT_EQ('B', self->ma[self->ps]);
	EXPECT_EQ('y', self->mb[self->ps]);
	EXPECT_EQ(0, self->ma[20 * self->ps]);
	EXPECT_EQ('z', self->mb[20 * self->ps]);
	/* Two COW copies and one demand allocation. */
	EXPECT_EQ(1, cowdev_stats_of(self->a).cow_copies);
	EXPECT_EQ(1, cowdev_stats_of(self->b).cow_copies);
	EXPECT_EQ(1, cowdev_stats_of(self->b).demand_allocs);
	EXPECT_EQ(self->used0 + 19, cowdev_pool_used(self->a));
}

/*
 * The first write to a shared page copies it (cow_copies, one pool page);
 * the other view's later write to it is in place (cow_reuses, no page); a
 * page never shared moves neither counter.
 */
TEST_F(pair, copies_then_reuses_with_exact_pool_deltas)
{
	uint64_t used = cowdev_pool_used(self->a);

	ASSERT_EQ(0, cowdev_reset_stats(self->a));
	ASSERT_EQ(0, cowdev_reset_stats(self->b));
	self->mb[2 * self->ps] = 'b';
	EXPECT_EQ(1, cowdev_stats_of(self->b).cow_copies);
	EXPECT_EQ(0, cowdev_stats_of(self->b).cow_reuses);
	EXPECT_EQ(used + 1, cowdev_pool_used(self->a));
	EXPECT_EQ(15, cowdev_stats_of(self->b).shared_pages);
	EXPECT_EQ(15, cowdev_stats_of(self->a).shared_pages);

	self->ma[2 * self->ps] = 'a';
	EXPECT_EQ(0, cowdev_stats_of(self->a).cow_copies);
	EXPECT_EQ(1, cowdev_stats_of(self->a).cow_reuses);
	EXPECT_EQ(used + 1, cowdev_pool_used(self->a));

	/* Written again: neither counter (the page is the view's own). */
	self->ma[2 * self->ps + 1] = 'a';
	self->mb[2 * self->ps + 1] = 'b';
	/* A hole never shared: a demand allocation only. */
	self->ma[30 * self->ps] = 'h';
	EXPECT_EQ(0, cowdev_stats_of(self->a).cow_copies);
	EXPECT_EQ(1, cowdev_stats_of(self->a).cow_reuses);
	EXPECT_EQ(1, cowdev_stats_of(self->b).cow_copies);
	EXPECT_EQ(0, cowdev_stats_of(self->b).cow_reuses);
	EXPECT_EQ(used + 2, cowdev_pool_used(self->a));
	EXPECT_EQ('a', self->ma[2 * self->ps]);
	EXPECT_EQ('b', self->mb[2 * self->ps]);
	EXPECT_EQ('C', self->ma[2 * self->ps + 2]);
	EXPECT_EQ('C', self->mb[2 * self->ps + 2]);
}

/* The page-state map follows every step. */
TEST_F(pair, page_state_flags)
{
	const int RS = COWDEV_PAGE_RESIDENT | COWDEV_PAGE_SHARED;
	const int RD = COWDEV_PAGE_RESIDENT | COWDEV_PAGE_DIRTY;
	uint8_t map[NPAGES + 2];
	int i;

	/* Right after the clone: shared, not dirty, in both; holes 0. */
	EXPECT_EQ(RS, state_of(self->a, 0));
	EXPECT_EQ(RS, state_of(self->b, 15));
	EXPECT_EQ(0, state_of(self->a, 16));
	self->mb[0] = 1;		/* copy in b */
	self->ma[31 * self->ps] = 1;	/* demand allocation in a */
	EXPECT_EQ(RD, state_of(self->b, 0));
	EXPECT_EQ(COWDEV_PAGE_RESIDENT, state_of(self->a, 0));
	self->ma[0] = 1;		/* reuse in a */
	EXPECT_EQ(RD, state_of(self->a, 0));
	EXPECT_EQ(RD, state_of(self->a, 31));
	EXPECT_EQ(0, state_of(self->b, 31));
	/* The whole map at once, with guard bytes untouched. */
	memset(map, 0x5a, sizeof(map));
	ASSERT_EQ(0, cowdev_page_state(self->a, 0, NPAGES, map + 1));
	EXPECT_EQ(0x5a, map[0]);
	EXPECT_EQ(0x5a, map[NPAGES + 1]);
	for (i = 1; i < 16; i++)
		EXPECT_EQ(RS, map[1 + i]);
	for (i = 16; i < 31; i++)
		EXPECT_EQ(0, map[1 + i]);
	/* A new clone clears DIRTY on the pages it shares, in both views. */
	close(cowdev_clone(self->a));
	EXPECT_EQ(COWDEV_PAGE_RESIDENT, state_of(self->a, 0));
}

/*
 * Mappings that were writable before the clone, here and in a child, do
 * not write into the snapshot.
 */
TEST(writable_mappings_from_before_the_clone)
{
	size_t ps = cowdev_page_size();
	int fd, snap, go[2], done[2];
	char *m, *s, c;
	pid_t pid;

	fd = cowdev_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cowdev_set_size(fd, 4 * ps));
	m = map_view(fd, 4, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, m);
	memset(m, 'o', 4 * ps);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		m[ps] = 'c';	/* the child's pte is writable now */
		if (write(done[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		m[ps] = 'C';	/* after the clone */
		m[ps + 1] = 'C';
		_exit(write(done[1], "w", 1) == 1 ? 0 : 2);
	}
	ASSERT_EQ(1, read(done[0], &c, 1));
	m[0] = 'p';		/* the parent's pte is writable too */
	snap = cowdev_clone(fd);
	ASSERT_LE(0, snap);
	m[0] = 'P';
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(1, read(done[0], &c, 1));
	s = map_view(snap, 4, PROT_READ);
	ASSERT_NE(NULL, s);
	EXPECT_EQ('p', s[0]);
	EXPECT_EQ('c', s[ps]);
	EXPECT_EQ('o', s[ps + 1]);
	EXPECT_EQ('P', m[0]);
	EXPECT_EQ('C', m[ps]);
	EXPECT_EQ(2, cowdev_stats_of(fd).cow_copies);
	EXPECT_EQ(pid, waitpid(pid, NULL, 0));
	munmap(s, 4 * ps);
	munmap(m, 4 * ps);
	close(snap);
	close(fd);
}

/* process_vm_writev into a shared page of a clone, from another process. */
TEST_F(pair, process_vm_writev_into_a_shared_page)
{
	struct iovec local, remote;
	char buf[8] = "written";
	pid_t me = getpid(), pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		local.iov_base = buf;
		local.iov_len = sizeof(buf);
		remote.iov_base = self->mb + 3 * self->ps;
		remote.iov_len = sizeof(buf);
		_exit(process_vm_writev(me, &local, 1, &remote, 1, 0) ==
		      sizeof(buf) ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	EXPECT_EQ(0, memcmp(self->mb + 3 * self->ps, "written", 8));
	EXPECT_EQ('D', self->ma[3 * self->ps]);
	EXPECT_EQ('D', self->mb[3 * self->ps + 8]);
	EXPECT_EQ(1, cowdev_stats_of(self->b).cow_copies);
	EXPECT_EQ(self->used0 + 17, cowdev_pool_used(self->a));
}

/* /proc/self/mem and read() into a mapping break the sharing too. */
TEST_F(pair, proc_mem_and_read_into_a_shared_page)
{
	int mem, p[2];

	mem = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, mem);
	ASSERT_EQ(4, pwrite(mem, "mem!", 4,
			    (off_t)(uintptr_t)(self->ma + 4 * self->ps)));
	close(mem);
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(5, write(p[1], "pipe!", 5));
	ASSERT_EQ(5, read(p[0], self->mb + 5 * self->ps, 5));
	close(p[0]);
	close(p[1]);
	EXPECT_EQ(0, memcmp(self->ma + 4 * self->ps, "mem!", 4));
	EXPECT_EQ('E', self->mb[4 * self->ps]);
	EXPECT_EQ(0, memcmp(self->mb + 5 * self->ps, "pipe!", 5));
	EXPECT_EQ('F', self->ma[5 * self->ps]);
	EXPECT_EQ(1, cowdev_stats_of(self->a).cow_copies);
	EXPECT_EQ(1, cowdev_stats_of(self->b).cow_copies);
}

/* SET_SIZE on one view leaves its clone's size and data alone. */
TEST_F(pair, resize_does_not_touch_the_clone)
{
	uint64_t size;
	char c;

	ASSERT_EQ(0, cowdev_set_size(self->a, 2 * self->ps));
	ASSERT_EQ(0, cowdev_get_size(self->b, &size));
	EXPECT_EQ(NPAGES * self->ps, size);
	EXPECT_EQ('J', self->mb[9 * self->ps]);
	EXPECT_EQ(SIGBUS, cowdev_try_read(self->ma + 9 * self->ps, &c));
	/* The clone still holds the pages the source gave up. */
	EXPECT_EQ(self->used0 + 16, cowdev_pool_used(self->b));
	ASSERT_EQ(0, cowdev_set_size(self->b, 0));
	EXPECT_EQ(self->used0 + 2, cowdev_pool_used(self->b));
	EXPECT_EQ('A', self->ma[0]);
}

static int probe_open(uint64_t *used)
{
	int fd = cowdev_open();

	*used = fd >= 0 ? cowdev_pool_used(fd) : ~0ULL;
	return fd;
}

/* Clones of clones: A -> B -> C, each with its own snapshot. */
TEST(clone_of_clone_three_ways)
{
	size_t ps = cowdev_page_size();
	uint64_t used0;
	int probe, v[3], i;
	char *m[3];

	probe = probe_open(&used0);
	ASSERT_LE(0, probe);
	v[0] = cowdev_open();
	ASSERT_LE(0, v[0]);
	ASSERT_EQ(0, cowdev_set_size(v[0], 4 * ps));
	m[0] = map_view(v[0], 4, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, m[0]);
	memset(m[0], '0', 4 * ps);
	v[1] = cowdev_clone(v[0]);
	ASSERT_LE(0, v[1]);
	m[1] = map_view(v[1], 4, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, m[1]);
	m[1][ps] = '1';			/* B's own page 1 */
	v[2] = cowdev_clone(v[1]);
	ASSERT_LE(0, v[2]);
	m[2] = map_view(v[2], 4, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, m[2]);
	EXPECT_EQ(3, cowdev_stats_of(v[0]).shared_pages);
	EXPECT_EQ(4, cowdev_stats_of(v[1]).shared_pages);
	EXPECT_EQ(4, cowdev_stats_of(v[2]).shared_pages);
	EXPECT_EQ(used0 + 5, cowdev_pool_used(probe));

	/* Page 0 is shared three ways: copy, copy, then reuse. */
	for (i = 0; i < 3; i++)
		m[i][0] = 'a' + i;
	m[0][2 * ps] = 'x';
	for (i = 0; i < 3; i++)
		EXPECT_EQ('a' + i, m[i][0]);
	EXPECT_EQ('0', m[0][ps]);
	EXPECT_EQ('1', m[1][ps]);
	EXPECT_EQ('1', m[2][ps]);
	EXPECT_EQ('x', m[0][2 * ps]);
	EXPECT_EQ('0', m[1][2 * ps]);
	EXPECT_EQ('0', m[2][2 * ps]);
	EXPECT_EQ(2, cowdev_stats_of(v[0]).cow_copies);
	EXPECT_EQ(0, cowdev_stats_of(v[0]).cow_reuses);
	EXPECT_EQ(2, cowdev_stats_of(v[1]).cow_copies);
	EXPECT_EQ(0, cowdev_stats_of(v[2]).cow_copies);
	EXPECT_EQ(1, cowdev_stats_of(v[2]).cow_reuses);
	EXPECT_EQ(used0 + 8, cowdev_pool_used(probe));
	for (i = 0; i < 3; i++) {
		munmap(m[i], 4 * ps);
		close(v[i]);
	}
	EXPECT_EQ(used0, cowdev_pool_used(probe));
	close(probe);
}

/*
 * Closing the view in the middle of A -> B -> C frees exactly the pages
 * only B held; A and C keep their data.
 */
TEST(release_in_the_middle_of_a_tree)
{
	size_t ps = cowdev_page_size();
	int probe, a, b, c, i;
	char *ma, *mb, *mc;
	uint64_t used0;

	probe = probe_open(&used0);
	ASSERT_LE(0, probe);
	a = cowdev_open();
	ASSERT_LE(0, a);
	ASSERT_EQ(0, cowdev_set_size(a, 8 * ps));
	ma = map_view(a, 8, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, ma);
	for (i = 0; i < 8; i++)
		ma[i * ps] = 'a';
	b = cowdev_clone(a);
	ASSERT_LE(0, b);
	mb = map_view(b, 8, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mb);
	mb[0] = 'b';			/* B's pages 0 and 1, shared with C */
	mb[ps] = 'b';
	c = cowdev_clone(b);
	ASSERT_LE(0, c);
	mb[2 * ps] = 'B';		/* B's pages 2 and 3, B's alone */
	mb[3 * ps] = 'B';
	EXPECT_EQ(used0 + 12, cowdev_pool_used(probe));
	munmap(mb, 8 * ps);
	close(b);
	EXPECT_EQ(used0 + 10, cowdev_pool_used(probe));
	mc = map_view(c, 8, PROT_READ);
	ASSERT_NE(NULL, mc);
	EXPECT_EQ('b', mc[0]);
	EXPECT_EQ('b', mc[ps]);
	EXPECT_EQ('a', mc[2 * ps]);
	EXPECT_EQ('a', ma[2 * ps]);
	EXPECT_EQ('a', ma[0]);
	/* C's pages 0 and 1 are its own now; 2..7 it shares with A. */
	EXPECT_EQ(6, cowdev_stats_of(c).shared_pages);
	EXPECT_EQ(COWDEV_PAGE_RESIDENT, state_of(c, 0));
	EXPECT_EQ(COWDEV_PAGE_RESIDENT | COWDEV_PAGE_SHARED, state_of(c, 2));
	munmap(mc, 8 * ps);
	close(c);
	EXPECT_EQ(used0 + 8, cowdev_pool_used(probe));
	munmap(ma, 8 * ps);
	close(a);
	EXPECT_EQ(used0, cowdev_pool_used(probe));
	close(probe);
}

/*
 * A clone taken while another process keeps writing: the snapshot is one
 * instant (the writer stores n into page 0, then into page 1, so page 0
 * is n or n + 1 when page 1 is n) and never changes afterwards.
 */
TEST(snapshot_under_a_concurrent_writer)
{
	size_t ps = cowdev_page_size();
	volatile uint64_t *w0, *w1;
	uint64_t s0, s1, again0, again1;
	int fd, snap, round;
	uint64_t *s;
	char *m;
	pid_t pid;

	fd = cowdev_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cowdev_set_size(fd, 2 * ps));
	m = map_view(fd, 2, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, m);
	w0 = (volatile uint64_t *)m;
	w1 = (volatile uint64_t *)(m + ps);
	*w0 = 0;
	*w1 = 0;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		uint64_t n;

		for (n = 1;; n++) {
			*w0 = n;
			*w1 = n;
		}
	}
	for (round = 0; round < 20; round++) {
		usleep(2000);
		snap = cowdev_clone(fd);
		ASSERT_LE(0, snap);
		s = (uint64_t *)map_view(snap, 2, PROT_READ);
		ASSERT_NE(NULL, s);
		s1 = s[ps / 8];
		s0 = s[0];
		EXPECT_TRUE(s0 == s1 || s0 == s1 + 1)
			TH_LOG("snapshot page 0 %llu page 1 %llu",
			       (unsigned long long)s0, (unsigned long long)s1);
		usleep(2000);
		again0 = s[0];
		again1 = s[ps / 8];
		EXPECT_EQ(s0, again0);
		EXPECT_EQ(s1, again1);
		munmap(s, 2 * ps);
		close(snap);
	}
	/* The writer was running, and was never blocked for good. */
	EXPECT_NE(0, s1);
	EXPECT_LT(s0, *w1 + 1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	munmap(m, 2 * ps);
	close(fd);
}

/* Closing the source first leaves the clone whole. */
TEST_F(pair, closing_the_source_first)
{
	uint64_t used = cowdev_pool_used(self->b);

	munmap(self->ma, NPAGES * self->ps);
	self->ma = NULL;
	close(self->a);
	self->a = -1;
	EXPECT_EQ(used, cowdev_pool_used(self->b));
	EXPECT_EQ(0, cowdev_stats_of(self->b).shared_pages);
	EXPECT_EQ('P', self->mb[15 * self->ps]);
	self->mb[15 * self->ps] = 'q';
	EXPECT_EQ(1, cowdev_stats_of(self->b).cow_reuses);
	EXPECT_EQ(0, cowdev_stats_of(self->b).cow_copies);
	EXPECT_EQ(used, cowdev_pool_used(self->b));
}

TEST_HARNESS_MAIN
