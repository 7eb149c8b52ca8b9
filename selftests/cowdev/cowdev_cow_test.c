// SPDX-License-Identifier: GPL-2.0
/*
 * Module-owned copy-on-write between views, one test per behaviour:
 *  - COWDEV_IOC_CLONE returns an O_RDWR | O_CLOEXEC fd: a snapshot with the
 *    same size and content that takes no pool page;
 *  - views diverge both ways, also for writes through mappings that were
 *    writable before the clone (here, in other mappings of this process and
 *    in a forked child) and for writes by other kernel paths after it
 *    (process_vm_writev and /proc/PID/mem from another process, read() from
 *    a pipe or a file into the mapping);
 *  - exact cow_copies / cow_reuses / shared_pages and pool deltas, and the
 *    page-state map (RESIDENT, SHARED, DIRTY) after every step;
 *  - trees of clones (chains, fan-out, depth), release of a view in the
 *    middle of a tree, closing the source first, SET_SIZE on one view, a
 *    clone of a view with holes and zero-page mappings;
 *  - a clone taken while another process or thread keeps writing: the
 *    snapshot is one instant and never changes afterwards.
 * Every pool delta is exact: the tests run one at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/userfaultfd.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

#define RW	(PROT_READ | PROT_WRITE)

static size_t ps;

static void init_ps(void)
{
	ps = cowdev_page_size();
}

static uint64_t pool_views(int fd)
{
	struct cowdev_pool_info pi;

	if (cowdev_pool_info(fd, &pi))
		return ~0ULL;
	return pi.views;
}

static void fill(char *m, size_t page, char c)
{
	memset(m + page * ps, c, ps);
}

/* Drop every pte of @m so that the next access faults. */
static void dontneed(char *m, size_t pages)
{
	madvise(m, pages * ps, MADV_DONTNEED);
}

/* ------------------------------------------------------------------ */

/*
 * CLONE returns a new O_RDWR | O_CLOEXEC fd (closed by exec), with the same
 * size and content, its own id and zeroed event counters; the clone takes no
 * pool page, and neither does reading it.
 */
TEST(clone_fd_is_a_free_snapshot)
{
	struct cowdev_stats sa, sb;
	uint64_t used, views, size_a = 0, size_b = 0;
	int probe, a, b, bb, i, status;
	char *ma, *mb, *mbb;
	pid_t pid;

	init_ps();
	probe = cowdev_open();
	ASSERT_LE(0, probe);
	a = cowdev_new_view(10, &ma);
	ASSERT_LE(0, a);
	for (i = 0; i < 6; i++)
		fill(ma, i, 'a' + i);
	ma[5 * ps + 77] = 'Z';
	EXPECT_EQ(0, ma[7 * ps]);	/* a hole read: the zero page */
	used = cowdev_pool_used(probe);
	views = pool_views(probe);

	b = cowdev_clone(a);
	ASSERT_LE(0, b) TH_LOG("clone: %s", strerror(-b));
	EXPECT_NE(a, b);
	EXPECT_NE(probe, b);
	EXPECT_EQ(FD_CLOEXEC, fcntl(b, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(b, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(used, cowdev_pool_used(probe));
	EXPECT_EQ(views + 1, pool_views(probe));
	ASSERT_EQ(0, cowdev_get_size(a, &size_a));
	ASSERT_EQ(0, cowdev_get_size(b, &size_b));
	EXPECT_EQ(10 * ps, size_b);
	EXPECT_EQ(size_a, size_b);

	sa = cowdev_stats_of(a);
	sb = cowdev_stats_of(b);
	EXPECT_NE(sa.view_id, sb.view_id);
	EXPECT_EQ(1, sa.clones);
	EXPECT_EQ(6, sa.resident_pages);
	EXPECT_EQ(6, sa.shared_pages);
	EXPECT_EQ(10, sb.size_pages);
	EXPECT_EQ(6, sb.resident_pages);
	EXPECT_EQ(6, sb.shared_pages);
	EXPECT_EQ(0, sb.faults);
	EXPECT_EQ(0, sb.mkwrite);
	EXPECT_EQ(0, sb.demand_allocs);
	EXPECT_EQ(0, sb.cow_copies);
	EXPECT_EQ(0, sb.cow_reuses);
	EXPECT_EQ(0, sb.clones);

	/* Same content, byte for byte; reading took no page. */
	mb = cowdev_map_view(b, 10, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, mb);
	EXPECT_EQ(0, memcmp(ma, mb, 10 * ps));
	expect_pages(mb, "abcd");
	EXPECT_EQ('Z', mb[5 * ps + 77]);
	EXPECT_EQ(0, cowdev_stats_of(b).cow_copies);
	EXPECT_EQ(used, cowdev_pool_used(probe));

	/* A clone of the clone is a snapshot and O_CLOEXEC too. */
	bb = cowdev_clone(b);
	ASSERT_LE(0, bb);
	EXPECT_EQ(FD_CLOEXEC, fcntl(bb, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(bb, F_GETFL) & O_ACCMODE);
	mbb = cowdev_map_view(bb, 10, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, mbb);
	EXPECT_EQ(0, memcmp(ma, mbb, 10 * ps));
	EXPECT_EQ(used, cowdev_pool_used(probe));
	EXPECT_EQ(6, cowdev_stats_of(a).shared_pages);

	/* exec closes it: the new program does not have the fd. */
	if (access("/bin/sh", X_OK) == 0) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			char cmd[64];

			snprintf(cmd, sizeof(cmd), "test ! -e /proc/$$/fd/%d",
				 b);
			execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
			_exit(99);
		}
		status = cowdev_child_status(pid);
		EXPECT_EQ(0, status) TH_LOG("fd %d survived exec", b);
	}

	munmap(mbb, 10 * ps);
	munmap(mb, 10 * ps);
	munmap(ma, 10 * ps);
	close(bb);
	close(b);
	close(a);
	EXPECT_EQ(used - 6, cowdev_pool_used(probe));
	EXPECT_EQ(views - 1, pool_views(probe));
	close(probe);
}

/* A clone of a view with no page, and of an empty (size 0) view. */
TEST(clone_of_empty_views)
{
	uint64_t used, size = 1;
	int a, b, c;
	char *mb;

	init_ps();
	a = cowdev_open();
	ASSERT_LE(0, a);
	used = cowdev_pool_used(a);
	b = cowdev_clone(a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, cowdev_get_size(b, &size));
	EXPECT_EQ(0, size);
	EXPECT_EQ(0, cowdev_stats_of(b).resident_pages);
	close(b);

	ASSERT_EQ(0, cowdev_set_size(a, 4 * ps));
	c = cowdev_clone(a);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, cowdev_get_size(c, &size));
	EXPECT_EQ(4 * ps, size);
	mb = cowdev_map_view(c, 4, RW, MAP_SHARED, 0);
	ASSERT_NE(NULL, mb);
	expect_pages(mb, "....");
	EXPECT_EQ(used, cowdev_pool_used(a));
	mb[ps] = 1;
	EXPECT_EQ(1, cowdev_stats_of(c).demand_allocs);
	EXPECT_EQ(0, cowdev_stats_of(c).cow_copies);
	EXPECT_EQ(used + 1, cowdev_pool_used(a));
	expect_map(a, "....");
	expect_map(c, ".d..");
	munmap(mb, 4 * ps);
	close(c);
	EXPECT_EQ(used, cowdev_pool_used(a));
	close(a);
}

/*
 * The cost of a clone follows the resident pages, not the size: a clone of
 * the largest object with two resident pages takes no page and shows them.
 */
TEST(clone_of_a_huge_sparse_view)
{
	unsigned long max_pages = cowdev_param("max_object_pages") ?: 1UL << 20;
	uint64_t used, size = 0;
	char *ma, *mb, *tail_a, *tail_b;
	struct timespec t0, t1;
	int a, b;

	init_ps();
	a = cowdev_new_view(max_pages, NULL);
	ASSERT_LE(0, a);
	ma = cowdev_map_view(a, 1, RW, MAP_SHARED, 0);
	tail_a = cowdev_map_view(a, 1, RW, MAP_SHARED, max_pages - 1);
	ASSERT_NE(NULL, ma);
	ASSERT_NE(NULL, tail_a);
	ma[0] = 'h';
	tail_a[ps - 1] = 't';
	used = cowdev_pool_used(a);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	b = cowdev_clone(a);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, cowdev_get_size(b, &size));
	EXPECT_EQ((uint64_t)max_pages * ps, size);
	EXPECT_EQ(used, cowdev_pool_used(a));
	EXPECT_EQ(2, cowdev_stats_of(b).resident_pages);
	EXPECT_EQ(2, cowdev_stats_of(b).shared_pages);
	mb = cowdev_map_view(b, 1, PROT_READ, MAP_SHARED, 0);
	tail_b = cowdev_map_view(b, 1, PROT_READ, MAP_SHARED, max_pages - 1);
	ASSERT_NE(NULL, mb);
	ASSERT_NE(NULL, tail_b);
	EXPECT_EQ('h', mb[0]);
	EXPECT_EQ('t', tail_b[ps - 1]);
	tail_a[ps - 1] = 'T';
	EXPECT_EQ('t', tail_b[ps - 1]);
	EXPECT_EQ(1, cowdev_stats_of(a).cow_copies);
	TH_LOG("clone of a %lu-page view with 2 resident pages: %ld us",
	       max_pages, (long)((t1.tv_sec - t0.tv_sec) * 1000000 +
				 (t1.tv_nsec - t0.tv_nsec) / 1000));
	munmap(tail_b, ps);
	munmap(mb, ps);
	munmap(tail_a, ps);
	munmap(ma, ps);
	close(b);
	close(a);
}

/*
 * After a clone, writes through either view are never seen through the
 * other: whole pages, single bytes, holes, repeated over several rounds,
 * checked through the old mappings and through new ones.
 */
TEST(views_diverge_both_ways)
{
	char want_a[11] = "abcdefgh..", want_b[11];
	char *ma, *mb, *ma2, *mb2;
	int probe, a, b, round;
	uint64_t used;

	init_ps();
	probe = cowdev_open();
	ASSERT_LE(0, probe);
	a = cowdev_new_view(10, &ma);
	ASSERT_LE(0, a);
	for (round = 0; round < 8; round++)
		fill(ma, round, want_a[round]);
	used = cowdev_pool_used(a);
	b = cowdev_clone(a);
	ASSERT_LE(0, b);
	memcpy(want_b, want_a, sizeof(want_b));
	mb = cowdev_map_view(b, 10, RW, MAP_SHARED, 0);
	ASSERT_NE(NULL, mb);

	/* One byte in the middle of a shared page: the copy keeps the rest. */
	ma[2 * ps + 100] = 'X';
	EXPECT_EQ('c', mb[2 * ps + 100]);
	EXPECT_EQ('c', ma[2 * ps + 99]);
	EXPECT_EQ('c', ma[2 * ps + 101]);
	EXPECT_EQ(0, memcmp(ma + 3 * ps, mb + 3 * ps, 5 * ps));
	mb[3 * ps + ps - 1] = 'Y';
	EXPECT_EQ('d', ma[3 * ps + ps - 1]);
	EXPECT_EQ('d', mb[3 * ps]);
	ma[2 * ps + 100] = 'c';
	mb[3 * ps + ps - 1] = 'd';

	/* Whole pages, both ways, holes included, in rounds. */
	for (round = 0; round < 6; round++) {
		int pa = (round * 3) % 10, pb = (round * 7 + 1) % 10;

		want_a[pa] = 'A' + round;
		fill(ma, pa, want_a[pa]);
		want_b[pb] = 'M' + round;
		fill(mb, pb, want_b[pb]);
		expect_pages(ma, want_a);
		expect_pages(mb, want_b);
	}
	/* New mappings fault everything in again and agree. */
	ma2 = cowdev_map_view(a, 10, PROT_READ, MAP_SHARED, 0);
	mb2 = cowdev_map_view(b, 10, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, ma2);
	ASSERT_NE(NULL, mb2);
	expect_pages(ma2, want_a);
	expect_pages(mb2, want_b);
	/*
	 * a copied 2, 0, 6 and reused 3, 5 (b had copied them); b copied 3,
	 * 1, 5 and reused 2, 6; holes 8 and 9 (twice) were demand allocated.
	 */
	EXPECT_EQ(3, cowdev_stats_of(a).cow_copies);
	EXPECT_EQ(2, cowdev_stats_of(a).cow_reuses);
	EXPECT_EQ(3, cowdev_stats_of(b).cow_copies);
	EXPECT_EQ(2, cowdev_stats_of(b).cow_reuses);
	EXPECT_EQ(used + 9, cowdev_pool_used(probe));
	munmap(ma2, 10 * ps);
	munmap(mb2, 10 * ps);
	munmap(ma, 10 * ps);
	munmap(mb, 10 * ps);
	close(b);
	close(a);
	EXPECT_EQ(used - 8, cowdev_pool_used(probe));
	close(probe);
}

/*
 * Mappings of the source that were writable before the clone, in this
 * process (several mappings, one at a page offset, one moved by mremap), do
 * not write into the snapshot.
 */
TEST(writable_mappings_of_this_process_from_before_the_clone)
{
	char *m1, *m2, *m3, *reserve, *mb;
	uint64_t used;
	int a, b;

	init_ps();
	a = cowdev_new_view(6, NULL);
	ASSERT_LE(0, a);
	m1 = cowdev_map_view(a, 6, RW, MAP_SHARED, 0);
	m2 = cowdev_map_view(a, 4, RW, MAP_SHARED, 2);		/* pages 2..5 */
	m3 = cowdev_map_view(a, 6, RW, MAP_SHARED, 0);
	ASSERT_NE(NULL, m1);
	ASSERT_NE(NULL, m2);
	ASSERT_NE(NULL, m3);
	reserve = mmap(NULL, 6 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	ASSERT_NE(MAP_FAILED, reserve);
	m3 = mremap(m3, 6 * ps, 6 * ps, MREMAP_MAYMOVE | MREMAP_FIXED,
		    reserve);
	ASSERT_EQ(reserve, m3);
	/* Every mapping gets writable ptes. */
	fill(m1, 0, '0');
	fill(m1, 1, '1');
	fill(m2, 0, '2');
	fill(m2, 1, '3');
	fill(m3, 4, '4');
	fill(m3, 5, '5');
	m1[4 * ps] = '4';
	m2[3 * ps] = '5';
	m3[0] = '0';
	m3[ps] = '1';
	m1[2 * ps] = '2';
	m1[3 * ps] = '3';
	used = cowdev_pool_used(a);
	ASSERT_EQ(0, cowdev_reset_stats(a));

	b = cowdev_clone(a);
	ASSERT_LE(0, b);
	fill(m1, 0, 'p');
	fill(m2, 1, 'q');	/* page 3 */
	fill(m3, 5, 'r');
	m3[ps] = 's';
	m1[2 * ps + 1] = 't';
	m2[2 * ps] = 'u';	/* page 4 */

	mb = cowdev_map_view(b, 6, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, mb);
	expect_pages(mb, "012345");
	expect_pages(m1 + 3 * ps, "q");
	expect_pages(m3 + 5 * ps, "r");
	EXPECT_EQ('p', m3[0]);
	EXPECT_EQ('s', m1[ps]);
	EXPECT_EQ('t', m2[1]);
	EXPECT_EQ('u', m1[4 * ps]);
	/* Each of the six pages copied once for the source. */
	expect_cow(a, 6, 0, 0);
	expect_cow(b, 0, 0, 0);
	EXPECT_EQ(used + 6, cowdev_pool_used(a));
	expect_map(b, "rrrrrr");
	expect_map(a, "dddddd");
	munmap(mb, 6 * ps);
	munmap(m1, 6 * ps);
	munmap(m2, 4 * ps);
	munmap(m3, 6 * ps);
	close(b);
	close(a);
}

/*
 * A forked child holds MAP_SHARED mappings of the source with writable
 * ptes (its own writes, and ptes fork copied from the parent); its writes
 * after the clone go to the source only.
 */
TEST(writable_mapping_in_a_forked_child)
{
	int a, b, go[2], done[2], status;
	char *m, *mb, c;
	uint64_t used;
	pid_t pid;

	init_ps();
	a = cowdev_new_view(4, &m);
	ASSERT_LE(0, a);
	fill(m, 2, 'P');	/* parent's writable ptes, copied by fork */
	fill(m, 3, 'P');
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		size_t i;

		fill(m, 0, 'c');
		fill(m, 1, 'c');
		if (write(done[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		/* After the clone, through the same (writable) mapping. */
		for (i = 0; i < 4; i++)
			fill(m, i, 'C');
		m[0] = 'x';
		for (i = 0; i < 4; i++)
			if (m[i * ps + 1] != 'C')
				_exit(2);
		_exit(write(done[1], "w", 1) == 1 ? 0 : 3);
	}
	ASSERT_EQ(1, read(done[0], &c, 1));
	used = cowdev_pool_used(a);
	ASSERT_EQ(0, cowdev_reset_stats(a));
	b = cowdev_clone(a);
	ASSERT_LE(0, b);
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(1, read(done[0], &c, 1));
	status = cowdev_child_status(pid);
	EXPECT_EQ(0, status);

	mb = cowdev_map_view(b, 4, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, mb);
	expect_pages(mb, "ccPP");
	EXPECT_EQ('x', m[0]);
	EXPECT_EQ('C', m[1]);
	expect_pages(m + ps, "CCC");
	expect_cow(a, 4, 0, 0);
	EXPECT_EQ(used + 4, cowdev_pool_used(a));
	munmap(mb, 4 * ps);
	munmap(m, 4 * ps);
	close(b);
	close(a);
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
}

/*
 * The pair the kernel-path tests use: view a with pages 0..5 written
 * ('0' + i) through ma, whose ptes are all writable when b is cloned; b is
 * mapped at mb with page 1 read (read-only pte; fault-around may map others
 * read-only too).
 */
FIXTURE(pair) {
	int a, b;
	char *ma, *mb;
	uint64_t used;		/* after the clone */
};

FIXTURE_SETUP(pair)
{
	int i;

	init_ps();
	self->a = cowdev_new_view(6, &self->ma);
	ASSERT_LE(0, self->a);
	for (i = 0; i < 6; i++)
		fill(self->ma, i, '0' + i);
	self->b = cowdev_clone(self->a);
	ASSERT_LE(0, self->b);
	self->mb = cowdev_map_view(self->b, 6, RW, MAP_SHARED, 0);
	ASSERT_NE(NULL, self->mb);
	ASSERT_EQ('1', self->mb[ps]);
	self->used = cowdev_pool_used(self->a);
	ASSERT_EQ(0, cowdev_reset_stats(self->a));
	ASSERT_EQ(0, cowdev_reset_stats(self->b));
}

FIXTURE_TEARDOWN(pair)
{
	munmap(self->ma, 6 * ps);
	munmap(self->mb, 6 * ps);
	close(self->a);
	close(self->b);
}

/*
 * process_vm_writev from another process into shared pages of the clone
 * (read-only pte, no pte) and of the source (pte writable before the
 * clone), one iovec spanning two pages: each lands in its view only.
 */
TEST_F(pair, process_vm_writev_from_another_process)
{
	pid_t parent = getpid(), pid;
	char *ma2, *mb2;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		static char buf[2 * 4096 * 4];
		struct iovec local[4], remote[4];
		ssize_t want = 0;
		int i;

		if (2 * ps > sizeof(buf) / 4)
			_exit(10);
		memset(buf, 'w', sizeof(buf));
		remote[0].iov_base = self->ma;			/* a 0 */
		remote[0].iov_len = ps;
		remote[1].iov_base = self->mb + ps;		/* b 1, ro pte */
		remote[1].iov_len = ps;
		remote[2].iov_base = self->mb + 2 * ps + 10;	/* b 2, none */
		remote[2].iov_len = 5;
		remote[3].iov_base = self->ma + 4 * ps - 3;	/* a 3 and 4 */
		remote[3].iov_len = 6;
		for (i = 0; i < 4; i++) {
			local[i].iov_base = buf + i * 2 * ps;
			local[i].iov_len = remote[i].iov_len;
			want += remote[i].iov_len;
		}
		_exit(process_vm_writev(parent, local, 4, remote, 4, 0) ==
		      want ? 0 : 1);
	}
	ASSERT_EQ(0, cowdev_child_status(pid));

	ma2 = cowdev_map_view(self->a, 6, PROT_READ, MAP_SHARED, 0);
	mb2 = cowdev_map_view(self->b, 6, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, ma2);
	ASSERT_NE(NULL, mb2);
	expect_pages(ma2, "w12");
	expect_pages(mb2, "0");
	expect_pages(mb2 + ps, "w");
	expect_pages(ma2 + ps, "1");
	EXPECT_EQ(0, memcmp(mb2 + 2 * ps + 10, "wwwww", 5));
	EXPECT_EQ('2', mb2[2 * ps + 9]);
	EXPECT_EQ('2', mb2[2 * ps + 15]);
	EXPECT_EQ(0, memcmp(ma2 + 4 * ps - 3, "wwwwww", 6));
	EXPECT_EQ('3', ma2[4 * ps - 4]);
	EXPECT_EQ('4', ma2[4 * ps + 3]);
	expect_pages(mb2 + 3 * ps, "345");
	/* The same through the old mappings. */
	EXPECT_EQ('0', self->mb[0]);
	EXPECT_EQ('3', self->mb[4 * ps - 1]);
	EXPECT_EQ('w', self->ma[4 * ps - 1]);
	/* Only page 5 is still shared. */
	expect_cow(self->a, 3, 0, 1);
	expect_cow(self->b, 2, 0, 1);
	EXPECT_EQ(self->used + 5, cowdev_pool_used(self->a));
	expect_map(self->a, "drrdds");
	expect_map(self->b, "rddrrs");
	munmap(ma2, 6 * ps);
	munmap(mb2, 6 * ps);
}

/*
 * pwrite to /proc/PID/mem from another process: into a page of the source
 * whose pte was writable before the clone, into a shared page of the clone,
 * and (FOLL_FORCE) into a read-only MAP_PRIVATE mapping of the clone, which
 * makes a private copy and changes no view.
 */
TEST_F(pair, proc_pid_mem_from_another_process)
{
	char *priv, *ma2, *mb2, path[64];
	pid_t pid;

	priv = cowdev_map_view(self->b, 6, PROT_READ, MAP_PRIVATE, 0);
	ASSERT_NE(NULL, priv);
	EXPECT_EQ('5', priv[5 * ps]);
	snprintf(path, sizeof(path), "/proc/%d/mem", getpid());
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int mem = open(path, O_RDWR);

		if (mem < 0)
			_exit(1);
		if (pwrite(mem, "mem-a", 5,
			   (off_t)(uintptr_t)(self->ma + 2 * ps)) != 5)
			_exit(2);
		if (pwrite(mem, "mem-b", 5,
			   (off_t)(uintptr_t)(self->mb + 3 * ps + 7)) != 5)
			_exit(3);
		if (pwrite(mem, "mem-p", 5,
			   (off_t)(uintptr_t)(priv + 5 * ps)) != 5)
			_exit(4);
		_exit(0);
	}
	ASSERT_EQ(0, cowdev_child_status(pid));

	EXPECT_EQ(0, memcmp(priv + 5 * ps, "mem-p", 5));
	ma2 = cowdev_map_view(self->a, 6, PROT_READ, MAP_SHARED, 0);
	mb2 = cowdev_map_view(self->b, 6, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, ma2);
	ASSERT_NE(NULL, mb2);
	EXPECT_EQ(0, memcmp(ma2 + 2 * ps, "mem-a", 5));
	EXPECT_EQ('2', ma2[2 * ps + 5]);
	expect_pages(mb2 + 2 * ps, "2");
	EXPECT_EQ(0, memcmp(mb2 + 3 * ps + 7, "mem-b", 5));
	EXPECT_EQ('3', mb2[3 * ps + 6]);
	EXPECT_EQ('3', mb2[3 * ps + 12]);
	expect_pages(ma2 + 3 * ps, "3");
	/* The private write reached neither view. */
	expect_pages(mb2 + 5 * ps, "5");
	expect_pages(ma2 + 5 * ps, "5");
	expect_cow(self->a, 1, 0, 4);
	expect_cow(self->b, 1, 0, 4);
	EXPECT_EQ(self->used + 2, cowdev_pool_used(self->a));
	expect_map(self->a, "ssdrss");
	expect_map(self->b, "ssrdss");
	munmap(ma2, 6 * ps);
	munmap(mb2, 6 * ps);
	munmap(priv, 6 * ps);
}

/*
 * read() from a pipe and from a file into shared pages, in both views
 * (writable-before-the-clone pte, read-only pte, no pte, a read spanning
 * two pages); write() from a shared page (a read of it) copies nothing.
 */
TEST_F(pair, read_into_the_mapping)
{
	char buf[64], *ma2, *mb2;
	int p[2], file;

	ASSERT_EQ(0, pipe(p));
	/* A read of the mapping by the kernel: no copy. */
	ASSERT_EQ(16, write(p[1], self->mb + 4 * ps, 16));
	ASSERT_EQ(16, read(p[0], buf, 16));
	EXPECT_EQ(0, memcmp(buf, "4444444444444444", 16));
	expect_cow(self->b, 0, 0, 6);
	EXPECT_EQ(self->used, cowdev_pool_used(self->a));

	ASSERT_EQ(10, write(p[1], "pipe-into-a", 10));
	ASSERT_EQ(10, read(p[0], self->ma + ps + 100, 10));	/* a 1 */
	ASSERT_EQ(10, write(p[1], "pipe-into-b", 10));
	ASSERT_EQ(10, read(p[0], self->mb + ps + 200, 10));	/* b 1 */
	ASSERT_EQ(8, write(p[1], "spanning", 8));
	ASSERT_EQ(8, read(p[0], self->mb + 3 * ps - 4, 8));	/* b 2, 3 */
	close(p[0]);
	close(p[1]);

	file = memfd_create("cowdev-src", 0);
	ASSERT_LE(0, file);
	ASSERT_EQ(9, write(file, "file-data", 9));
	ASSERT_EQ(9, pread(file, self->ma + 5 * ps + 1, 9, 0));	/* a 5 */
	close(file);

	ma2 = cowdev_map_view(self->a, 6, PROT_READ, MAP_SHARED, 0);
	mb2 = cowdev_map_view(self->b, 6, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, ma2);
	ASSERT_NE(NULL, mb2);
	EXPECT_EQ(0, memcmp(ma2 + ps + 100, "pipe-into-", 10));
	EXPECT_EQ('1', ma2[ps + 200]);
	EXPECT_EQ(0, memcmp(mb2 + ps + 200, "pipe-into-", 10));
	EXPECT_EQ('1', mb2[ps + 100]);
	EXPECT_EQ(0, memcmp(mb2 + 3 * ps - 4, "spanning", 8));
	expect_pages(ma2 + 2 * ps, "23");
	EXPECT_EQ(0, memcmp(ma2 + 5 * ps + 1, "file-data", 9));
	expect_pages(mb2 + 5 * ps, "5");
	/* a: pages 1 and 5 copied; b: 1 reused (a copied it first), 2, 3. */
	expect_cow(self->a, 2, 0, 2);
	expect_cow(self->b, 2, 1, 2);
	EXPECT_EQ(self->used + 4, cowdev_pool_used(self->a));
	expect_map(self->a, "sdrrsd");
	expect_map(self->b, "sdddsr");
	munmap(ma2, 6 * ps);
	munmap(mb2, 6 * ps);
}

/*
 * The faults of a COW break.  A write with no pte (a clone zaps the
 * source's ptes): ->fault copies and returns the copy, ->page_mkwrite keeps
 * it, one task fault (faults 1, mkwrite 1).  A write through a read-only
 * pte (the page was read after the clone): ->page_mkwrite copies and asks
 * for a retry, which faults the copy in (faults 1, mkwrite 2, and one
 * more task fault).
 */
TEST(cow_break_faults)
{
	struct cowdev_stats st;
	struct rusage r0, r1;
	char *m;
	int a, b;

	init_ps();
	a = cowdev_new_view(2, &m);
	ASSERT_LE(0, a);
	fill(m, 0, 'x');
	fill(m, 1, 'y');
	b = cowdev_clone(a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, cowdev_reset_stats(a));

	getrusage(RUSAGE_SELF, &r0);
	m[0] = 'X';
	getrusage(RUSAGE_SELF, &r1);
	st = cowdev_stats_of(a);
	EXPECT_EQ(1, st.cow_copies);
	EXPECT_EQ(1, st.faults);
	EXPECT_EQ(1, st.mkwrite);
	EXPECT_EQ(1, r1.ru_minflt - r0.ru_minflt);

	EXPECT_EQ('y', *(volatile char *)(m + ps));
	getrusage(RUSAGE_SELF, &r0);
	ASSERT_EQ(0, cowdev_reset_stats(a));
	m[ps] = 'Y';
	getrusage(RUSAGE_SELF, &r1);
	st = cowdev_stats_of(a);
	EXPECT_EQ(1, st.cow_copies);
	EXPECT_EQ(1, st.faults);
	EXPECT_EQ(2, st.mkwrite);
	EXPECT_EQ(2, r1.ru_minflt - r0.ru_minflt);
	EXPECT_EQ('X', m[0]);
	EXPECT_EQ('Y', m[ps]);
	munmap(m, 2 * ps);
	close(b);
	close(a);
}

/*
 * Exact counters and pool deltas: the first write to a shared page copies
 * it (cow_copies +1, one pool page); the other view's later write is in
 * place (cow_reuses +1, no page); further writes and pages never shared move
 * neither.  A page stops being shared also when the other view goes away or
 * shrinks; reads and private writes never copy.
 */
TEST(copies_reuses_and_pool_deltas)
{
	int probe, a, b, c;
	char *ma, *mb, *priv;
	uint64_t used, size;

	init_ps();
	probe = cowdev_open();
	ASSERT_LE(0, probe);
	a = cowdev_new_view(8, &ma);
	ASSERT_LE(0, a);
	fill(ma, 0, 'a');
	fill(ma, 1, 'b');
	fill(ma, 2, 'c');
	fill(ma, 3, 'd');
	used = cowdev_pool_used(a);
	b = cowdev_clone(a);
	ASSERT_LE(0, b);
	mb = cowdev_map_view(b, 8, RW, MAP_SHARED, 0);
	ASSERT_NE(NULL, mb);
	ASSERT_EQ(0, cowdev_reset_stats(a));
	ASSERT_EQ(0, cowdev_reset_stats(b));
	expect_cow(a, 0, 0, 4);
	expect_cow(b, 0, 0, 4);

	/* Reading everything copies nothing. */
	expect_pages(mb, "abcd....");
	expect_cow(b, 0, 0, 4);
	EXPECT_EQ(used, cowdev_pool_used(a));

	/* b writes shared page 0: a copy for b. */
	mb[0] = 'B';
	expect_cow(b, 1, 0, 3);
	expect_cow(a, 0, 0, 3);
	EXPECT_EQ(4, cowdev_stats_of(b).resident_pages);
	EXPECT_EQ(used + 1, cowdev_pool_used(a));

	/* a writes page 0, no longer shared: in place. */
	ma[0] = 'A';
	expect_cow(a, 0, 1, 3);
	expect_cow(b, 1, 0, 3);
	EXPECT_EQ(used + 1, cowdev_pool_used(a));

	/* Writing them again (through fresh faults) moves nothing. */
	dontneed(ma, 8);
	dontneed(mb, 8);
	ma[1 + 0] = 'A';
	mb[1 + 0] = 'B';
	expect_cow(a, 0, 1, 3);
	expect_cow(b, 1, 0, 3);
	EXPECT_EQ(used + 1, cowdev_pool_used(a));

	/* A page never shared (a hole written after the clone): neither. */
	ma[5 * ps] = 'n';
	dontneed(ma, 8);
	ma[5 * ps + 1] = 'n';
	expect_cow(a, 0, 1, 3);
	EXPECT_EQ(1, cowdev_stats_of(a).demand_allocs);
	EXPECT_EQ(0, mb[5 * ps]);
	EXPECT_EQ(used + 2, cowdev_pool_used(a));

	/* The other way round: a copies page 1, b then reuses it. */
	ma[ps] = 'x';
	expect_cow(a, 1, 1, 2);
	EXPECT_EQ(used + 3, cowdev_pool_used(a));
	mb[ps] = 'y';
	expect_cow(b, 1, 1, 2);
	EXPECT_EQ(used + 3, cowdev_pool_used(a));

	/* A private write to a shared page: core mm's copy, not ours. */
	priv = cowdev_map_view(b, 8, RW, MAP_PRIVATE, 0);
	ASSERT_NE(NULL, priv);
	priv[2 * ps] = 'p';
	expect_cow(b, 1, 1, 2);
	EXPECT_EQ(used + 3, cowdev_pool_used(a));
	EXPECT_EQ('c', mb[2 * ps]);
	EXPECT_EQ('c', ma[2 * ps]);
	munmap(priv, 8 * ps);

	/* Shared with c, which goes away: a's next writes are reuses. */
	c = cowdev_clone(a);
	ASSERT_LE(0, c);
	EXPECT_EQ(used + 3, cowdev_pool_used(a));
	expect_cow(a, 1, 1, 5);		/* 0, 1, 5 with c; 2, 3 with b, c */
	expect_cow(b, 1, 1, 2);
	EXPECT_EQ(5, cowdev_stats_of(c).shared_pages);
	close(c);
	EXPECT_EQ(used + 3, cowdev_pool_used(a));
	expect_cow(a, 1, 1, 2);
	ma[5 * ps] = 'N';
	ma[0] = 'Z';
	expect_cow(a, 1, 3, 2);
	EXPECT_EQ(used + 3, cowdev_pool_used(a));

	/* b shrinks below page 3: a's page 3 is its own, written in place. */
	ASSERT_EQ(0, cowdev_set_size(b, 3 * ps));
	ASSERT_EQ(0, cowdev_get_size(b, &size));
	EXPECT_EQ(3 * ps, size);
	EXPECT_EQ(used + 3, cowdev_pool_used(a));
	expect_cow(a, 1, 3, 1);
	ma[3 * ps] = 'D';
	expect_cow(a, 1, 4, 1);
	expect_cow(b, 1, 1, 1);
	EXPECT_EQ(used + 3, cowdev_pool_used(a));

	EXPECT_EQ('Z', ma[0]);
	EXPECT_EQ('A', ma[1]);
	EXPECT_EQ('B', mb[0]);
	EXPECT_EQ('B', mb[1]);
	EXPECT_EQ('x', ma[ps]);
	EXPECT_EQ('y', mb[ps]);
	EXPECT_EQ('D', ma[3 * ps]);
	munmap(mb, 8 * ps);
	close(b);
	EXPECT_EQ(used + 1, cowdev_pool_used(a));	/* b's 0 and 1 */
	munmap(ma, 8 * ps);
	close(a);
	EXPECT_EQ(used - 4, cowdev_pool_used(probe));
	close(probe);
}

/*
 * The page-state map after every step: a demand allocation is dirty; a
 * clone clears DIRTY on the pages it shares, in both views; a copy and an
 * in-place write make a page dirty; a page left alone by its sharers is
 * resident only; holes (read or not) are 0.
 */
TEST(page_state_after_every_step)
{
	uint8_t part[3];
	char *ma, *mb;
	int a, b, c;

	init_ps();
	a = cowdev_new_view(8, &ma);
	ASSERT_LE(0, a);
	expect_map(a, "........");
	ma[0] = 1;
	ma[ps] = 1;
	ma[2 * ps] = 1;
	EXPECT_EQ(0, ma[3 * ps]);		/* the zero page */
	expect_map(a, "ddd.....");

	b = cowdev_clone(a);
	ASSERT_LE(0, b);
	expect_map(a, "sss.....");
	expect_map(b, "sss.....");
	mb = cowdev_map_view(b, 8, RW, MAP_SHARED, 0);
	ASSERT_NE(NULL, mb);
	EXPECT_EQ(1, mb[ps]);			/* a read changes nothing */
	expect_map(b, "sss.....");

	mb[0] = 2;				/* copy in b */
	expect_map(b, "dss.....");
	expect_map(a, "rss.....");
	ma[0] = 3;				/* reuse in a */
	expect_map(a, "dss.....");
	ma[6 * ps] = 4;				/* demand allocation in a */
	mb[7 * ps] = 5;				/* and in b */
	expect_map(a, "dss...d.");
	expect_map(b, "dss....d");

	c = cowdev_clone(a);
	ASSERT_LE(0, c);
	expect_map(a, "sss...s.");
	expect_map(c, "sss...s.");
	expect_map(b, "dss....d");
	memset(part, 0xee, sizeof(part));
	ASSERT_EQ(0, cowdev_page_state(c, 5, 2, part));
	EXPECT_EQ(0, part[0]);
	EXPECT_EQ(COWDEV_PAGE_RESIDENT | COWDEV_PAGE_SHARED, part[1]);
	EXPECT_EQ(0xee, part[2]);

	close(c);				/* 0 and 6 are a's alone again */
	expect_map(a, "rss...r.");
	ma[6 * ps] = 6;
	expect_map(a, "rss...d.");
	mb[ps] = 7;				/* copy in b */
	expect_map(b, "dds....d");
	expect_map(a, "rrs...d.");

	munmap(mb, 8 * ps);
	close(b);
	expect_map(a, "rrr...d.");
	ma[ps] = 8;
	expect_map(a, "rdr...d.");
	EXPECT_EQ(3, cowdev_stats_of(a).cow_reuses);	/* pages 0, 6 and 1 */
	ma[2 * ps] = 9;
	EXPECT_EQ(4, cowdev_stats_of(a).cow_reuses);
	expect_map(a, "rdd...d.");
	munmap(ma, 8 * ps);
	close(a);
}

/*
 * Clone of a clone, three ways: A -> B -> C with each view diverging before
 * and after each clone; each sees its own snapshot; a page shared by all
 * three is copied, copied, then reused; exact counters, maps and pool.
 */
TEST(clone_of_clone_three_ways)
{
	int probe, v[3], i;
	char *m[3], *fresh;
	uint64_t used0;

	init_ps();
	probe = cowdev_open();
	ASSERT_LE(0, probe);
	used0 = cowdev_pool_used(probe);
	v[0] = cowdev_new_view(6, &m[0]);
	ASSERT_LE(0, v[0]);
	for (i = 0; i < 6; i++)
		fill(m[0], i, 'a');
	v[1] = cowdev_clone(v[0]);				/* B */
	ASSERT_LE(0, v[1]);
	m[1] = cowdev_map_view(v[1], 6, RW, MAP_SHARED, 0);
	ASSERT_NE(NULL, m[1]);
	fill(m[0], 1, 'A');
	fill(m[1], 2, 'b');
	v[2] = cowdev_clone(v[1]);				/* C */
	ASSERT_LE(0, v[2]);
	m[2] = cowdev_map_view(v[2], 6, RW, MAP_SHARED, 0);
	ASSERT_NE(NULL, m[2]);
	expect_map(v[0], "sdrsss");
	expect_map(v[1], "ssssss");
	expect_map(v[2], "ssssss");
	fill(m[1], 3, 'B');
	fill(m[2], 4, 'c');
	fill(m[0], 5, 'x');
	expect_pages(m[0], "aAaaax");
	expect_pages(m[1], "aabBaa");
	expect_pages(m[2], "aabaca");
	EXPECT_EQ(used0 + 11, cowdev_pool_used(probe));

	/* Page 0 is held by all three: copy, copy, reuse. */
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, cowdev_reset_stats(v[i]));
	m[0][0] = '0';
	EXPECT_EQ(used0 + 12, cowdev_pool_used(probe));
	m[1][0] = '1';
	EXPECT_EQ(used0 + 13, cowdev_pool_used(probe));
	m[2][0] = '2';
	EXPECT_EQ(used0 + 13, cowdev_pool_used(probe));
	expect_cow(v[0], 1, 0, 2);	/* 3 with C, 4 with B */
	expect_cow(v[1], 1, 0, 4);	/* 1, 2, 5 with C, 4 with A */
	expect_cow(v[2], 0, 1, 4);	/* 1, 2, 5 with B, 3 with A */
	expect_map(v[0], "ddrssd");
	expect_map(v[1], "dssdss");
	expect_map(v[2], "dsssds");
	for (i = 0; i < 3; i++) {
		fresh = cowdev_map_view(v[i], 6, PROT_READ, MAP_SHARED, 0);
		ASSERT_NE(NULL, fresh);
		EXPECT_EQ('0' + i, fresh[0]);
		expect_pages(fresh + ps, i == 0 ? "Aaaax" :
					 i == 1 ? "abBaa" : "abaca");
		munmap(fresh, 6 * ps);
	}
	for (i = 0; i < 3; i++) {
		munmap(m[i], 6 * ps);
		close(v[i]);
	}
	EXPECT_EQ(used0, cowdev_pool_used(probe));
	close(probe);
}

/* Fan-out: clones of one view at different times keep their instants. */
TEST(clones_of_one_view_at_different_times)
{
	int a, b, c, d;
	char *ma, *mb, *mc, *md;
	uint64_t used;

	init_ps();
	a = cowdev_new_view(3, &ma);
	ASSERT_LE(0, a);
	fill(ma, 0, '1');
	fill(ma, 1, '1');
	used = cowdev_pool_used(a);
	b = cowdev_clone(a);
	ASSERT_LE(0, b);
	fill(ma, 0, '2');
	c = cowdev_clone(a);
	ASSERT_LE(0, c);
	fill(ma, 0, '3');
	fill(ma, 2, '3');
	d = cowdev_clone(a);
	ASSERT_LE(0, d);
	fill(ma, 1, '4');
	mb = cowdev_map_view(b, 3, PROT_READ, MAP_SHARED, 0);
	mc = cowdev_map_view(c, 3, PROT_READ, MAP_SHARED, 0);
	md = cowdev_map_view(d, 3, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, mb);
	ASSERT_NE(NULL, mc);
	ASSERT_NE(NULL, md);
	expect_pages(mb, "11.");
	expect_pages(mc, "21.");
	expect_pages(md, "313");
	expect_pages(ma, "343");
	/* Page 1 '1' is held by b, c, d; a copied it. */
	EXPECT_EQ(3, cowdev_stats_of(a).cow_copies);
	EXPECT_EQ(used + 4, cowdev_pool_used(a));
	expect_map(b, "rs.");
	expect_map(c, "rs.");
	expect_map(d, "sss");
	expect_map(a, "sds");
	munmap(mb, 3 * ps);
	munmap(mc, 3 * ps);
	munmap(md, 3 * ps);
	munmap(ma, 3 * ps);
	close(d);
	close(c);
	close(b);
	close(a);
}

/*
 * A chain of 12 clones.  Each view writes a page of its own (a hole); after
 * its clone is taken, it writes the next page (a hole) and rewrites page 0,
 * which it shares with all its descendants (a copy).  Every view sees its
 * ancestors' writes from before its clone and its own; closing them in a
 * scrambled order returns every page.
 */
TEST(deep_chain)
{
	enum { DEPTH = 12 };
	int probe, v[DEPTH], i, j;
	char *m[DEPTH], want[DEPTH + 1];
	uint64_t used0;

	init_ps();
	probe = cowdev_open();
	ASSERT_LE(0, probe);
	used0 = cowdev_pool_used(probe);
	v[0] = cowdev_new_view(DEPTH, NULL);
	ASSERT_LE(0, v[0]);
	for (i = 0; i < DEPTH; i++) {
		if (i) {
			v[i] = cowdev_clone(v[i - 1]);
			ASSERT_LE(0, v[i]);
		}
		m[i] = cowdev_map_view(v[i], DEPTH, RW, MAP_SHARED, 0);
		ASSERT_NE(NULL, m[i]);
		fill(m[i], i, 'A' + i);
		if (i) {
			fill(m[i - 1], i, 'a' + i - 1);
			fill(m[i - 1], 0, 'a' + i - 1);
		}
	}
	for (i = 0; i < DEPTH; i++) {
		for (j = 0; j < DEPTH; j++)
			want[j] = j <= i ? 'A' + j : '.';
		if (i + 1 < DEPTH) {
			want[0] = 'a' + i;
			want[i + 1] = 'a' + i;
		}
		want[DEPTH] = 0;
		expect_pages(m[i], want);
		EXPECT_EQ(i + 1 < DEPTH, cowdev_stats_of(v[i]).cow_copies);
		EXPECT_EQ(0, cowdev_stats_of(v[i]).cow_reuses);
	}
	/* One page each, one more hole and one copy of page 0 per parent. */
	EXPECT_EQ(used0 + 3 * DEPTH - 2, cowdev_pool_used(probe));
	for (i = 0; i < DEPTH; i++) {
		j = (i * 5) % DEPTH;
		munmap(m[j], DEPTH * ps);
		close(v[j]);
	}
	EXPECT_EQ(used0, cowdev_pool_used(probe));
	close(probe);
}

/*
 * A clone taken while another process or thread keeps writing through a
 * writable mapping is one instant and never changes afterwards.  The writer
 * stores n into the first and the last word of pages 1..K in order, then
 * into page 0: a snapshot of one instant reads, in that order, a
 * non-increasing sequence whose ends differ by at most one; and its counter
 * is at least the one read before the clone and at most the first word read
 * after it.
 */
#define SW_PAGES	7			/* counter page + K = 6 */
#define SW_POS		(2 * (SW_PAGES - 1) + 1)
#define SW_CLONES	24

static volatile uint64_t *sw_word(char *m, int pos)
{
	if (pos == SW_POS - 1)
		return (volatile uint64_t *)m;
	return (volatile uint64_t *)(m + (1 + pos / 2) * ps +
				     (pos & 1) * (ps - 8));
}

static void sw_write_forever(char *m, volatile int *stop)
{
	uint64_t n;
	int pos;

	for (n = 1; !*stop; n++)
		for (pos = 0; pos < SW_POS; pos++)
			*sw_word(m, pos) = n;
}

static volatile int sw_stop;

static void *sw_thread(void *m)
{
	sw_write_forever(m, &sw_stop);
	return NULL;
}

FIXTURE(writer) {
	int fd;
	char *m;
	pid_t pid;
	pthread_t thread;
};

FIXTURE_VARIANT(writer) {
	int process;
};

FIXTURE_VARIANT_ADD(writer, process) {
	.process = 1,
};

FIXTURE_VARIANT_ADD(writer, thread) {
	.process = 0,
};

FIXTURE_SETUP(writer)
{
	init_ps();
	self->pid = 0;
	self->fd = cowdev_new_view(SW_PAGES, &self->m);
	ASSERT_LE(0, self->fd);
	sw_stop = 0;
	if (variant->process) {
		self->pid = fork();
		ASSERT_LE(0, self->pid);
		if (!self->pid) {
			sw_write_forever(self->m, &sw_stop);
			_exit(0);
		}
	} else {
		ASSERT_EQ(0, pthread_create(&self->thread, NULL, sw_thread,
					    self->m));
	}
	/* Wait until the writer runs. */
	while (!*sw_word(self->m, SW_POS - 1))
		sched_yield();
}

FIXTURE_TEARDOWN(writer)
{
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	} else {
		sw_stop = 1;
		pthread_join(self->thread, NULL);
	}
	munmap(self->m, SW_PAGES * ps);
	close(self->fd);
}

TEST_F(writer, snapshot_under_a_concurrent_writer)
{
	uint64_t seen[SW_CLONES][SW_POS], before, after, last = 0;
	int snap[SW_CLONES], n, i, pos, consistent;
	char *sm[SW_CLONES], *again;
	double end = cowdev_now() + 1.5;

	for (n = 0; n < SW_CLONES && (n < 6 || cowdev_now() < end); n++) {
		usleep(1000 + (n % 5) * 1500);
		before = *sw_word(self->m, SW_POS - 1);
		snap[n] = cowdev_clone(self->fd);
		ASSERT_LE(0, snap[n]);
		after = *sw_word(self->m, 0);
		sm[n] = cowdev_map_view(snap[n], SW_PAGES, PROT_READ, MAP_SHARED, 0);
		ASSERT_NE(NULL, sm[n]);
		consistent = 1;
		for (pos = 0; pos < SW_POS; pos++) {
			seen[n][pos] = *sw_word(sm[n], pos);
			if (pos && seen[n][pos] > seen[n][pos - 1])
				consistent = 0;
		}
		if (seen[n][0] > seen[n][SW_POS - 1] + 1)
			consistent = 0;
		EXPECT_TRUE(consistent)
			TH_LOG("clone %d: first %llu, page 2 %llu, last %llu",
			       n, (unsigned long long)seen[n][0],
			       (unsigned long long)seen[n][3],
			       (unsigned long long)seen[n][SW_POS - 1]);
		EXPECT_LE(before, seen[n][SW_POS - 1]);
		EXPECT_GE(after, seen[n][0]);
		EXPECT_LE(last, seen[n][SW_POS - 1]);
		last = seen[n][SW_POS - 1];
	}
	/* Later, through the old mapping and a new one: unchanged. */
	usleep(20000);
	for (i = 0; i < n; i++) {
		again = cowdev_map_view(snap[i], SW_PAGES, PROT_READ, MAP_SHARED, 0);
		ASSERT_NE(NULL, again);
		for (pos = 0; pos < SW_POS; pos++) {
			EXPECT_EQ(seen[i][pos], *sw_word(sm[i], pos))
				TH_LOG("clone %d pos %d changed", i, pos);
			EXPECT_EQ(seen[i][pos], *sw_word(again, pos));
		}
		EXPECT_EQ(0, cowdev_stats_of(snap[i]).cow_copies);
		munmap(again, SW_PAGES * ps);
		munmap(sm[i], SW_PAGES * ps);
		close(snap[i]);
	}
	/* The writer went on after every clone. */
	EXPECT_LT(last, *sw_word(self->m, SW_POS - 1));
	EXPECT_LT(seen[0][0], last);
	TH_LOG("%d clones, writer at %llu", n,
	       (unsigned long long)*sw_word(self->m, SW_POS - 1));
}

/*
 * Closing the view in the middle of A -> B -> C returns exactly the pages
 * only B held; A and C keep their data, and the pages C shared with B only
 * are C's own.
 */
TEST(release_in_the_middle_of_a_tree)
{
	int probe, a, b, c, i;
	char *ma, *mb, *mc;
	uint64_t used0, views;

	init_ps();
	probe = cowdev_open();
	ASSERT_LE(0, probe);
	used0 = cowdev_pool_used(probe);
	a = cowdev_new_view(10, &ma);
	ASSERT_LE(0, a);
	for (i = 0; i < 8; i++)
		fill(ma, i, 'a');
	b = cowdev_clone(a);
	ASSERT_LE(0, b);
	mb = cowdev_map_view(b, 10, RW, MAP_SHARED, 0);
	ASSERT_NE(NULL, mb);
	fill(mb, 0, 'b');		/* copies, then shared with C */
	fill(mb, 1, 'b');
	fill(mb, 8, 'b');		/* demand, then shared with C */
	c = cowdev_clone(b);
	ASSERT_LE(0, c);
	fill(mb, 2, 'B');		/* B's alone */
	fill(mb, 3, 'B');
	fill(mb, 9, 'B');
	EXPECT_EQ(used0 + 14, cowdev_pool_used(probe));
	expect_map(a, "rrssssss..");
	expect_map(b, "ssddsssssd");
	expect_map(c, "sssssssss.");
	views = pool_views(probe);

	munmap(mb, 10 * ps);
	close(b);
	EXPECT_EQ(used0 + 11, cowdev_pool_used(probe));
	EXPECT_EQ(views - 1, pool_views(probe));
	expect_map(a, "rrssssss..");
	expect_map(c, "rrssssssr.");
	mc = cowdev_map_view(c, 10, RW, MAP_SHARED, 0);
	ASSERT_NE(NULL, mc);
	expect_pages(mc, "bbaaaaaab.");
	expect_pages(ma, "aaaaaaaa..");
	/* C's pages from B are its own: written in place. */
	ASSERT_EQ(0, cowdev_reset_stats(c));
	mc[0] = 'c';
	mc[8 * ps] = 'c';
	mc[2 * ps] = 'c';
	expect_cow(c, 1, 2, 5);
	EXPECT_EQ(used0 + 12, cowdev_pool_used(probe));
	EXPECT_EQ('a', ma[2 * ps]);
	munmap(mc, 10 * ps);
	close(c);
	EXPECT_EQ(used0 + 8, cowdev_pool_used(probe));
	expect_map(a, "rrrrrrrr..");
	munmap(ma, 10 * ps);
	close(a);
	EXPECT_EQ(used0, cowdev_pool_used(probe));
	close(probe);
}

/*
 * A view goes away with its last fd and its last mapping: B's fd closed in
 * the parent, its mapping alive in a child that still reads B's snapshot;
 * B's own pages return to the pool exactly when the child exits.
 */
TEST(release_waits_for_the_last_mapping)
{
	int probe, a, b, go[2], status;
	char *ma, *mb, c;
	uint64_t used0, views;
	pid_t pid;

	init_ps();
	probe = cowdev_open();
	ASSERT_LE(0, probe);
	used0 = cowdev_pool_used(probe);
	a = cowdev_new_view(4, &ma);
	ASSERT_LE(0, a);
	fill(ma, 0, 'a');
	fill(ma, 1, 'a');
	b = cowdev_clone(a);
	ASSERT_LE(0, b);
	mb = cowdev_map_view(b, 4, RW, MAP_SHARED, 0);
	ASSERT_NE(NULL, mb);
	fill(mb, 1, 'b');		/* copy */
	fill(mb, 2, 'b');		/* demand */
	EXPECT_EQ(used0 + 4, cowdev_pool_used(probe));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(b);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		/* The parent closed B and changed A. */
		if (mb[0] != 'a' || mb[ps] != 'b' || mb[2 * ps] != 'b' ||
		    mb[3 * ps] != 0)
			_exit(2);
		mb[3 * ps] = 'z';	/* B lives: one more page */
		_exit(mb[3 * ps] == 'z' ? 0 : 3);
	}
	close(go[0]);
	munmap(mb, 4 * ps);
	close(b);
	views = pool_views(probe);
	EXPECT_EQ(used0 + 4, cowdev_pool_used(probe));
	fill(ma, 0, 'A');		/* still shared with B: a copy */
	EXPECT_EQ(used0 + 5, cowdev_pool_used(probe));
	EXPECT_EQ(1, cowdev_stats_of(a).cow_copies);
	ASSERT_EQ(1, write(go[1], "g", 1));
	status = cowdev_child_status(pid);
	EXPECT_EQ(0, status);
	/* B's pages 0 (old 'a'), 1, 2 and 3 are gone. */
	EXPECT_EQ(used0 + 2, cowdev_pool_used(probe));
	EXPECT_EQ(views - 1, pool_views(probe));
	expect_map(a, "dr..");
	expect_pages(ma, "Aa..");
	munmap(ma, 4 * ps);
	close(a);
	close(go[1]);
	EXPECT_EQ(used0, cowdev_pool_used(probe));
	close(probe);
}

/*
 * SET_SIZE on a view never changes its clones: their size, their data,
 * their mappings (no SIGBUS); shrinking frees only the pages nobody else
 * holds; growing shows holes in the view that grew only.
 */
TEST(set_size_does_not_affect_clones)
{
	uint64_t used, size;
	char *ma, *mb, ch;
	int a, b, i;

	init_ps();
	a = cowdev_new_view(8, NULL);
	ASSERT_LE(0, a);
	ma = cowdev_map_view(a, 16, RW, MAP_SHARED, 0);
	ASSERT_NE(NULL, ma);
	for (i = 0; i < 8; i++)
		fill(ma, i, 'a' + i);
	used = cowdev_pool_used(a);
	b = cowdev_clone(a);
	ASSERT_LE(0, b);
	mb = cowdev_map_view(b, 16, RW, MAP_SHARED, 0);
	ASSERT_NE(NULL, mb);
	expect_pages(mb, "abcdefgh");	/* b's ptes exist before a shrinks */

	ASSERT_EQ(0, cowdev_set_size(a, 3 * ps));
	ASSERT_EQ(0, cowdev_get_size(b, &size));
	EXPECT_EQ(8 * ps, size);
	EXPECT_EQ(8, cowdev_stats_of(b).size_pages);
	EXPECT_EQ(used, cowdev_pool_used(a));		/* b holds 3..7 */
	expect_pages(mb, "abcdefgh");
	EXPECT_EQ(SIGBUS, cowdev_try_read(ma + 5 * ps, &ch));
	EXPECT_EQ(0, cowdev_try_write(mb + 5 * ps, 'F'));
	expect_map(a, "sss");
	expect_map(b, "sssrrdrr");

	EXPECT_EQ(1, cowdev_stats_of(b).cow_reuses);	/* page 5 is b's alone */
	EXPECT_EQ(0, cowdev_stats_of(b).cow_copies);

	ASSERT_EQ(0, cowdev_set_size(a, 8 * ps));
	expect_pages(ma, "abc.....");
	expect_map(a, "sss.....");
	EXPECT_EQ(used, cowdev_pool_used(a));

	ASSERT_EQ(0, cowdev_set_size(b, 2 * ps));
	EXPECT_EQ(used - 5, cowdev_pool_used(a));	/* 2 stays with a */
	ASSERT_EQ(0, cowdev_get_size(a, &size));
	EXPECT_EQ(8 * ps, size);
	expect_pages(ma, "abc.....");
	expect_map(a, "ssr.....");
	EXPECT_EQ(SIGBUS, cowdev_try_read(mb + 2 * ps, &ch));

	ASSERT_EQ(0, cowdev_set_size(b, 16 * ps));
	EXPECT_EQ(0, cowdev_try_write(mb + 12 * ps, 'm'));
	ASSERT_EQ(0, cowdev_get_size(a, &size));
	EXPECT_EQ(8 * ps, size);
	EXPECT_EQ(SIGBUS, cowdev_try_read(ma + 12 * ps, &ch));
	expect_pages(mb, "ab..........");
	EXPECT_EQ('m', mb[12 * ps]);
	expect_pages(mb + 13 * ps, "...");
	EXPECT_EQ(used - 4, cowdev_pool_used(a));
	munmap(mb, 16 * ps);
	munmap(ma, 16 * ps);
	close(b);
	close(a);
}

/*
 * A clone of a view with holes, some read (the source maps the zero page
 * there): the clone has holes at the same pages, reading 0 and taking no
 * page; a write to such a hole in either view is a demand allocation in
 * that view only, never a copy.
 */
TEST(clone_of_a_view_with_holes_and_zero_pages)
{
	struct cowdev_stats sa, sb;
	char *ma, *mb, *keep;
	uint64_t used;
	int a, b, c;

	init_ps();
	a = cowdev_new_view(8, &ma);
	ASSERT_LE(0, a);
	fill(ma, 0, 'a');
	fill(ma, 5, 'f');
	EXPECT_EQ(0, ma[ps]);		/* zero page mapped in a */
	EXPECT_EQ(0, ma[2 * ps]);
	/* A mapping that will keep its zero-page ptes across the clone. */
	keep = cowdev_map_view(a, 8, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, keep);
	EXPECT_EQ(0, keep[4 * ps]);
	used = cowdev_pool_used(a);
	ASSERT_EQ(0, cowdev_reset_stats(a));

	b = cowdev_clone(a);
	ASSERT_LE(0, b);
	EXPECT_EQ(used, cowdev_pool_used(a));
	expect_map(b, "s....s..");
	expect_map(a, "s....s..");
	mb = cowdev_map_view(b, 8, RW, MAP_SHARED, 0);
	ASSERT_NE(NULL, mb);
	expect_pages(mb, "a....f..");
	EXPECT_EQ(used, cowdev_pool_used(a));

	fill(ma, 1, 'A');		/* a's zero page, read before */
	fill(ma, 3, 'A');		/* a hole never read */
	fill(mb, 2, 'B');		/* b read it above */
	fill(mb, 4, 'B');		/* read by a's mapping only */
	expect_pages(ma, "aA.A.f..");
	expect_pages(mb, "a.B.Bf..");
	EXPECT_EQ(0, keep[4 * ps]);
	EXPECT_EQ('A', keep[ps]);
	sa = cowdev_stats_of(a);
	sb = cowdev_stats_of(b);
	EXPECT_EQ(2, sa.demand_allocs);
	EXPECT_EQ(2, sb.demand_allocs);
	expect_cow(a, 0, 0, 2);
	expect_cow(b, 0, 0, 2);
	EXPECT_EQ(used + 4, cowdev_pool_used(a));
	expect_map(a, "sd.d.s..");
	expect_map(b, "s.d.ds..");

	/* A clone of a view with no resident page at all. */
	ASSERT_EQ(0, cowdev_set_size(b, 0));
	ASSERT_EQ(0, cowdev_set_size(b, 8 * ps));
	EXPECT_EQ(0, mb[6 * ps]);
	c = cowdev_clone(b);
	ASSERT_LE(0, c);
	EXPECT_EQ(0, cowdev_stats_of(c).resident_pages);
	mb[6 * ps] = 'b';
	EXPECT_EQ(1, cowdev_stats_of(b).resident_pages);
	expect_map(c, "........");
	munmap(keep, 8 * ps);
	keep = cowdev_map_view(c, 8, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, keep);
	expect_pages(keep, "........");
	munmap(keep, 8 * ps);
	munmap(mb, 8 * ps);
	munmap(ma, 8 * ps);
	close(c);
	close(b);
	close(a);
}

/*
 * Closing the source first: the clone keeps all its data, and the pages it
 * shared with the source only are its own (in place writes, no page); the
 * source's own pages return to the pool.  Also for a chain A -> B -> C
 * closed from its root.
 */
TEST(closing_the_source_first)
{
	int probe, a, b, c, d;
	char *ma, *mb, *mc, *md;
	uint64_t used0;

	init_ps();
	probe = cowdev_open();
	ASSERT_LE(0, probe);
	used0 = cowdev_pool_used(probe);
	a = cowdev_new_view(6, &ma);
	ASSERT_LE(0, a);
	for (int i = 0; i < 6; i++)
		fill(ma, i, 'a' + i);
	b = cowdev_clone(a);
	ASSERT_LE(0, b);
	mb = cowdev_map_view(b, 6, RW, MAP_SHARED, 0);
	ASSERT_NE(NULL, mb);
	fill(ma, 0, 'A');		/* a's copy */
	fill(mb, 1, 'B');		/* b's copy */
	EXPECT_EQ(used0 + 8, cowdev_pool_used(probe));
	munmap(ma, 6 * ps);
	close(a);
	/* a's copy of 0 and its old page 1 go; b keeps the rest. */
	EXPECT_EQ(used0 + 6, cowdev_pool_used(probe));
	expect_map(b, "rdrrrr");
	expect_pages(mb, "aBcdef");
	ASSERT_EQ(0, cowdev_reset_stats(b));
	fill(mb, 2, 'C');
	fill(mb, 0, 'Z');
	expect_cow(b, 0, 2, 0);
	EXPECT_EQ(used0 + 6, cowdev_pool_used(probe));

	/* A chain closed from the root: the leaf keeps its snapshot. */
	c = cowdev_clone(b);
	ASSERT_LE(0, c);
	fill(mb, 3, 'D');
	d = cowdev_clone(c);
	ASSERT_LE(0, d);
	mc = cowdev_map_view(c, 6, RW, MAP_SHARED, 0);
	ASSERT_NE(NULL, mc);
	fill(mc, 4, 'E');
	EXPECT_EQ(used0 + 8, cowdev_pool_used(probe));
	munmap(mb, 6 * ps);
	close(b);
	EXPECT_EQ(used0 + 7, cowdev_pool_used(probe));	/* b's page 3 */
	munmap(mc, 6 * ps);
	close(c);
	EXPECT_EQ(used0 + 6, cowdev_pool_used(probe));	/* c's page 4 */
	md = cowdev_map_view(d, 6, RW, MAP_SHARED, 0);
	ASSERT_NE(NULL, md);
	expect_pages(md, "ZBCdef");
	expect_map(d, "rrrrrr");
	ASSERT_EQ(0, cowdev_reset_stats(d));
	fill(md, 5, 'F');
	expect_cow(d, 0, 1, 0);
	EXPECT_EQ(used0 + 6, cowdev_pool_used(probe));
	munmap(md, 6 * ps);
	close(d);
	EXPECT_EQ(used0, cowdev_pool_used(probe));
	close(probe);
}

/*
 * MAP_PRIVATE mappings follow their own view across COW breaks: a private
 * mapping of the source reads the source's new data after the source copied
 * a page, one of the clone keeps reading the snapshot, and a private write
 * stays private.
 */
TEST(private_mappings_follow_their_view)
{
	char *ma, *pa, *pb;
	int a, b;

	init_ps();
	a = cowdev_new_view(2, &ma);
	ASSERT_LE(0, a);
	fill(ma, 0, 'o');
	fill(ma, 1, 'o');
	b = cowdev_clone(a);
	ASSERT_LE(0, b);
	pa = cowdev_map_view(a, 2, RW, MAP_PRIVATE, 0);
	pb = cowdev_map_view(b, 2, RW, MAP_PRIVATE, 0);
	ASSERT_NE(NULL, pa);
	ASSERT_NE(NULL, pb);
	EXPECT_EQ('o', pa[0]);		/* read-only ptes on the shared page */
	EXPECT_EQ('o', pb[0]);
	fill(ma, 0, 'n');		/* a copies page 0 */
	EXPECT_EQ('n', pa[0]);
	EXPECT_EQ('o', pb[0]);
	pb[ps] = 'p';			/* private to pb */
	EXPECT_EQ('o', ma[ps]);
	EXPECT_EQ('o', pa[ps]);
	fill(ma, 1, 'm');		/* a's page 1: still shared with b */
	EXPECT_EQ('m', pa[ps]);
	EXPECT_EQ('p', pb[ps]);
	EXPECT_EQ(2, cowdev_stats_of(a).cow_copies);
	EXPECT_EQ(0, cowdev_stats_of(b).cow_copies);
	expect_map(b, "rr");
	munmap(pa, 2 * ps);
	munmap(pb, 2 * ps);
	munmap(ma, 2 * ps);
	close(b);
	close(a);
}

/*
 * A write that a kernel path pinned before a clone and completes after it
 * lands in the view it was aimed at.  process_vm_writev() pins the target
 * page (FOLL_PIN) and then copies from the local buffer; here the local
 * buffer is registered with userfaultfd, so the copy waits until the test
 * has cloned the view and written to the source (which would break COW on
 * a shared page).  The clone copies a page that may be pinned at clone
 * time, as fork() does: the source keeps the pinned page (written in place,
 * no COW break), the late write lands in the source, and the clone holds
 * the contents of the instant of the clone.  Without the copy at clone
 * time the remote write landed in the page only the clone held, every time.
 */
struct pinned_writer {
	pid_t pid;
	char *local, *remote;
	size_t len;
	ssize_t ret;
	int err;
};

static void *pinned_writer(void *arg)
{
	struct pinned_writer *w = arg;
	struct iovec local = { w->local, w->len };
	struct iovec remote = { w->remote, w->len };

	w->ret = process_vm_writev(w->pid, &local, 1, &remote, 1, 0);
	w->err = errno;
	return NULL;
}

/* A userfaultfd with @area registered for missing pages; -errno. */
static int uffd_for(char *area, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { (unsigned long)area, len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int uffd = syscall(__NR_userfaultfd, O_CLOEXEC);

	if (uffd < 0)
		return -errno;
	if (ioctl(uffd, UFFDIO_API, &api) || ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		int err = -errno;

		close(uffd);
		return err;
	}
	return uffd;
}

TEST(write_pinned_before_a_clone_lands_in_the_source)
{
	struct pinned_writer w = { .pid = getpid(), .len = 16 };
	struct pollfd pfd = { .events = POLLIN };
	struct uffdio_copy copy = { 0 };
	struct uffd_msg msg;
	struct cowdev_stats st;
	char *m, *cm, *src, *data;
	pthread_t thread;
	int fd, clone;

	init_ps();
	fd = cowdev_new_view(2, &m);
	ASSERT_LE(0, fd);
	fill(m, 0, 'a');
	fill(m, 1, 'b');
	src = mmap(NULL, ps, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	data = mmap(NULL, ps, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, src);
	ASSERT_NE(MAP_FAILED, data);
	memset(data, 'X', ps);
	pfd.fd = uffd_for(src, ps);
	if (pfd.fd < 0)
		SKIP(return, "userfaultfd: %s", strerror(-pfd.fd));

	w.local = src;
	w.remote = m + 100;
	ASSERT_EQ(0, pthread_create(&thread, NULL, pinned_writer, &w));
	/* The writer has pinned page 0 and waits for its local buffer. */
	ASSERT_EQ(1, poll(&pfd, 1, 30000)) TH_LOG("no userfault");
	ASSERT_EQ(sizeof(msg), read(pfd.fd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);

	clone = cowdev_clone(fd);
	ASSERT_LE(0, clone);
	m[0] = 's';		/* through the source, while the pin is held */
	m[ps] = 's';		/* a shared page: copied for the source */

	copy.dst = (unsigned long)src;
	copy.src = (unsigned long)data;
	copy.len = ps;
	ASSERT_EQ(0, ioctl(pfd.fd, UFFDIO_COPY, &copy));
	pthread_join(thread, NULL);
	ASSERT_EQ(w.len, w.ret) TH_LOG("process_vm_writev: %s",
				       strerror(w.err));

	EXPECT_EQ('s', m[0]);
	EXPECT_EQ(0, memcmp(m + 100, "XXXXXXXXXXXXXXXX", 16))
		TH_LOG("the pinned write is not in the source");
	EXPECT_EQ('a', m[99]);
	EXPECT_EQ('a', m[116]);
	cm = cowdev_map_view(clone, 2, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, cm);
	expect_pages(cm, "ab");
	st = cowdev_stats_of(fd);
	EXPECT_EQ(1, st.pinned_copies);
	EXPECT_EQ(1, st.cow_copies);		/* page 1 only */
	EXPECT_EQ(0, st.shared_pages);
	EXPECT_EQ(0, cowdev_stats_of(clone).shared_pages);
	expect_map(fd, "dd");
	expect_map(clone, "rr");
	munmap(cm, 2 * ps);
	close(clone);
	close(pfd.fd);
	munmap(data, ps);
	munmap(src, ps);
	munmap(m, 2 * ps);
	close(fd);
}

TEST_HARNESS_MAIN
