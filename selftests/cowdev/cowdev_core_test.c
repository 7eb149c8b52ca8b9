// SPDX-License-Identifier: GPL-2.0
/*
 * The core of cowdev (issue 5): demand paging through ->map_pages, ->fault
 * and ->page_mkwrite over the module's pool, with exact counters: the zero
 * page for hole reads, one pool page per first write, fault-around of
 * resident pages, SIGBUS past the end, shared and private mappings, the mm
 * calls (fork, fd passing, MADV_DONTNEED, mprotect, mremap, shrink) and
 * concurrent faults on one page.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

#define NPAGES 64

/* Wait for @pid; true if it exited with status 0. */
static int child_ok(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

FIXTURE(view) {
	int fd;
	size_t ps;
	char *map;		/* NPAGES, MAP_SHARED, read-write */
	char *area;		/* the reservation map is aligned in */
	uint64_t used0;		/* pool used_pages at setup */
};

FIXTURE_SETUP(view)
{
	self->ps = cowdev_page_size();
	self->fd = cowdev_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", COWDEV_PATH,
				      strerror(-self->fd));
	ASSERT_EQ(0, cowdev_set_size(self->fd, NPAGES * self->ps));
	/*
	 * Aligned to its own size, so that page 0 starts a fault-around
	 * window (fault_around_bytes, 64 KiB, divides NPAGES pages): which
	 * resident pages a read maps must not depend on where mmap put it.
	 */
	self->area = mmap(NULL, 2 * NPAGES * self->ps, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->area);
	self->map = (char *)(((uintptr_t)self->area + NPAGES * self->ps - 1) &
			     ~(uintptr_t)(NPAGES * self->ps - 1));
	ASSERT_EQ(self->map, mmap(self->map, NPAGES * self->ps,
				  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
				  self->fd, 0));
	self->used0 = cowdev_pool_used(self->fd);
}

FIXTURE_TEARDOWN(view)
{
	munmap(self->area, 2 * NPAGES * self->ps);
	close(self->fd);
}

/* A read of a hole maps the zero page: no pool page, reads 0. */
TEST_F(view, hole_reads_map_the_zero_page)
{
	struct cowdev_stats st;
	char *priv;
	int i;

	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, self->map[i * self->ps + 7]);
	priv = mmap(NULL, NPAGES * self->ps, PROT_READ, MAP_PRIVATE,
		    self->fd, 0);
	ASSERT_NE(MAP_FAILED, priv);
	for (i = 16; i < 24; i++)
		ASSERT_EQ(0, priv[i * self->ps]);
	st = cowdev_stats_of(self->fd);
	EXPECT_EQ(24, st.zero_maps);
	EXPECT_EQ(24, st.faults);
	EXPECT_EQ(0, st.demand_allocs);
	EXPECT_EQ(0, st.resident_pages);
	EXPECT_EQ(self->used0, cowdev_pool_used(self->fd));
	/* Both mappings hold the zero page: Rss counts it, no dirty page. */
	EXPECT_EQ(16 * self->ps / 1024, cowdev_smaps_kb(self->map, "Rss"));
	EXPECT_EQ(0, cowdev_smaps_kb(self->map, "Private_Dirty"));
	munmap(priv, NPAGES * self->ps);
}

/* One byte into each of N holes: exactly N pool pages. */
TEST_F(view, first_writes_allocate_one_page_each)
{
	struct cowdev_stats st;
	int i;

	for (i = 0; i < NPAGES; i++)
		self->map[i * self->ps + i] = (char)(i + 1);
	st = cowdev_stats_of(self->fd);
	EXPECT_EQ(NPAGES, st.demand_allocs);
	EXPECT_EQ(NPAGES, st.resident_pages);
	EXPECT_EQ(NPAGES, st.faults);
	EXPECT_EQ(NPAGES, st.mkwrite);
	EXPECT_EQ(0, st.zero_maps);
	EXPECT_EQ(self->used0 + NPAGES, cowdev_pool_used(self->fd));
	/* The pages are zeroed except for what was written. */
	for (i = 0; i < NPAGES; i++) {
		ASSERT_EQ((char)(i + 1), self->map[i * self->ps + i]);
		ASSERT_EQ(0, self->map[i * self->ps + (i + 1) % self->ps]);
	}
	EXPECT_EQ(self->used0 + NPAGES, cowdev_pool_used(self->fd));
}

/* Read a hole, then write it: the zero page's pte is replaced. */
TEST_F(view, write_after_hole_read_replaces_the_zero_page)
{
	struct cowdev_stats st;
	char c = self->map[3 * self->ps];

	ASSERT_EQ(0, c);
	self->map[3 * self->ps] = 'w';
	st = cowdev_stats_of(self->fd);
	EXPECT_EQ(1, st.zero_maps);
	EXPECT_EQ(1, st.demand_allocs);
	EXPECT_EQ(2, st.faults);
	EXPECT_EQ(2, st.mkwrite);
	EXPECT_EQ(1, st.resident_pages);
	EXPECT_EQ(self->used0 + 1, cowdev_pool_used(self->fd));
	EXPECT_EQ('w', self->map[3 * self->ps]);
	/* Another mapping sees the write, not the zero page. */
	EXPECT_EQ(0, munmap(self->map, NPAGES * self->ps));
	self->map = mmap(NULL, NPAGES * self->ps, PROT_READ | PROT_WRITE,
			 MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	EXPECT_EQ('w', self->map[3 * self->ps]);
}

/* A write to a resident page through a read-only pte: ->page_mkwrite. */
TEST_F(view, page_mkwrite_on_a_read_only_pte_keeps_the_page)
{
	struct cowdev_stats st;

	memset(self->map, 'a', 4 * self->ps);
	ASSERT_EQ(0, madvise(self->map, 4 * self->ps, MADV_DONTNEED));
	ASSERT_EQ('a', self->map[self->ps + 1]);
	ASSERT_EQ(0, cowdev_reset_stats(self->fd));
	self->map[self->ps + 1] = 'b';
	st = cowdev_stats_of(self->fd);
	EXPECT_EQ(1, st.mkwrite);
	EXPECT_EQ(0, st.demand_allocs);
	EXPECT_EQ(4, st.resident_pages);
	EXPECT_EQ(self->used0 + 4, cowdev_pool_used(self->fd));
	EXPECT_EQ('b', self->map[self->ps + 1]);
	EXPECT_EQ('a', self->map[self->ps + 2]);
}

/*
 * Fault-around: resident pages around a read fault are mapped by
 * ->map_pages, read-only, without ->fault and without allocation.
 */
TEST_F(view, map_pages_maps_resident_pages_around_a_read)
{
	unsigned long n = cowdev_fault_around_pages(self->ps);
	struct cowdev_stats st;
	char *area, *m;
	unsigned long i;

	if (n < 2 || n > NPAGES)
		SKIP(return, "fault_around_bytes gives %lu pages", n);
	/* Every page resident, through the fixture's mapping. */
	for (i = 0; i < NPAGES; i++)
		self->map[i * self->ps] = (char)i;
	/* A mapping aligned to the fault-around window. */
	area = mmap(NULL, 2 * n * self->ps, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	m = (char *)(((uintptr_t)area + n * self->ps - 1) &
		     ~(n * self->ps - 1));
	ASSERT_EQ(m, mmap(m, n * self->ps, PROT_READ, MAP_SHARED | MAP_FIXED,
			  self->fd, 0));
	/* Touch once so the page table exists, then drop the ptes. */
	ASSERT_EQ(0, m[0]);
	ASSERT_EQ(0, madvise(m, n * self->ps, MADV_DONTNEED));
	ASSERT_EQ(0, cowdev_reset_stats(self->fd));

	ASSERT_EQ(0, m[0]);
	st = cowdev_stats_of(self->fd);
	EXPECT_EQ(1, st.map_pages_calls);
	EXPECT_EQ(n, st.map_pages_mapped);
	EXPECT_EQ(0, st.faults);
	for (i = 0; i < n; i++)
		ASSERT_EQ((char)i, m[i * self->ps]);
	st = cowdev_stats_of(self->fd);
	EXPECT_EQ(0, st.faults);
	EXPECT_EQ(1, st.map_pages_calls);
	EXPECT_EQ(0, st.demand_allocs);
	EXPECT_EQ((long)(n * self->ps / 1024), cowdev_smaps_kb(m, "Rss"));
	EXPECT_EQ(self->used0 + NPAGES, cowdev_pool_used(self->fd));
	munmap(area, 2 * n * self->ps);
}

/* map_pages never maps holes: a read of a hole still reaches ->fault. */
TEST_F(view, map_pages_skips_holes)
{
	struct cowdev_stats st;

	self->map[0] = 1;
	ASSERT_EQ(0, madvise(self->map, NPAGES * self->ps, MADV_DONTNEED));
	ASSERT_EQ(0, cowdev_reset_stats(self->fd));
	ASSERT_EQ(0, self->map[1 * self->ps]);
	st = cowdev_stats_of(self->fd);
	EXPECT_EQ(1, st.faults);
	EXPECT_EQ(1, st.zero_maps);
	EXPECT_EQ(1, st.map_pages_calls);
	EXPECT_EQ(1, st.map_pages_mapped);
	EXPECT_EQ(self->used0 + 1, cowdev_pool_used(self->fd));
}

/* Any access at or past the size gets SIGBUS; the size is the limit. */
TEST_F(view, access_past_the_size_gets_sigbus)
{
	struct cowdev_stats st;
	char c;

	ASSERT_EQ(0, cowdev_set_size(self->fd, 10 * self->ps));
	EXPECT_EQ(0, cowdev_try_write(self->map + 9 * self->ps, 1));
	EXPECT_EQ(SIGBUS, cowdev_try_read(self->map + 10 * self->ps, &c));
	EXPECT_EQ(SIGBUS, cowdev_try_write(self->map + 11 * self->ps, 1));
	EXPECT_EQ(SIGBUS, cowdev_try_read(self->map + (NPAGES - 1) * self->ps,
					  &c));
	st = cowdev_stats_of(self->fd);
	EXPECT_EQ(3, st.sigbus);
	EXPECT_EQ(1, st.demand_allocs);
	EXPECT_EQ(self->used0 + 1, cowdev_pool_used(self->fd));
	/* Size 0: every access faults. */
	ASSERT_EQ(0, cowdev_set_size(self->fd, 0));
	EXPECT_EQ(SIGBUS, cowdev_try_read(self->map, &c));
	EXPECT_EQ(self->used0, cowdev_pool_used(self->fd));
}

/* A byte count is rounded up to whole pages. */
TEST_F(view, size_is_rounded_up_to_pages)
{
	uint64_t size;

	ASSERT_EQ(0, cowdev_set_size(self->fd, 3 * self->ps + 1));
	ASSERT_EQ(0, cowdev_get_size(self->fd, &size));
	EXPECT_EQ(4 * self->ps, size);
	EXPECT_EQ(4, cowdev_stats_of(self->fd).size_pages);
	EXPECT_EQ(0, cowdev_try_write(self->map + 3 * self->ps + 100, 1));
}

/* MAP_SHARED: a forked child and the parent see one copy. */
TEST_F(view, shared_mapping_is_shared_with_a_child)
{
	pid_t pid;

	self->map[0] = 'p';
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (self->map[0] != 'p')
			_exit(1);
		self->map[self->ps] = 'c';
		_exit(0);
	}
	ASSERT_TRUE(child_ok(pid));
	EXPECT_EQ('c', self->map[self->ps]);
	EXPECT_EQ(2, cowdev_stats_of(self->fd).demand_allocs);
	EXPECT_EQ(self->used0 + 2, cowdev_pool_used(self->fd));
}

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte = 'f';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* An fd passed over a unix socket maps the same object. */
TEST(shared_mapping_through_a_passed_fd)
{
	size_t ps = cowdev_page_size();
	int sv[2], fd;
	char *map, c;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sv[0]);
		fd = recv_fd(sv[1]);
		if (fd < 0)
			_exit(1);
		map = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_SHARED,
			   fd, 0);
		if (map == MAP_FAILED || map[0] != 's')
			_exit(2);
		map[ps] = 'r';
		if (write(sv[1], "d", 1) != 1)
			_exit(3);
		_exit(0);
	}
	close(sv[1]);
	fd = cowdev_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cowdev_set_size(fd, 4 * ps));
	map = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	map[0] = 's';
	ASSERT_EQ(0, send_fd(sv[0], fd));
	ASSERT_EQ(1, read(sv[0], &c, 1));
	EXPECT_EQ('r', map[ps]);
	ASSERT_TRUE(child_ok(pid));
	EXPECT_EQ(2, cowdev_stats_of(fd).demand_allocs);
	munmap(map, 4 * ps);
	close(fd);
	close(sv[0]);
}

/*
 * MAP_PRIVATE: reads follow the view until the page is written privately;
 * private writes never reach the view and take no pool page.
 */
TEST_F(view, private_mapping_reads_the_view_and_writes_privately)
{
	struct cowdev_stats st;
	char *priv;

	priv = mmap(NULL, NPAGES * self->ps, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, priv);
	self->map[0] = 'A';
	self->map[self->ps] = 'B';
	EXPECT_EQ('A', priv[0]);
	EXPECT_EQ('B', priv[self->ps]);
	/* Later shared writes show through pages not written privately. */
	self->map[0] = 'C';
	EXPECT_EQ('C', priv[0]);
	ASSERT_EQ(0, cowdev_reset_stats(self->fd));
	/* A write fault reaching ->fault (no pte yet) counts private_cow. */
	priv[2 * self->ps] = 'p';
	/* A write to a page mapped read-only is core mm's copy alone. */
	priv[0] = 'q';
	st = cowdev_stats_of(self->fd);
	EXPECT_EQ(1, st.private_cow);
	EXPECT_EQ(0, st.demand_allocs);
	EXPECT_EQ(self->used0 + 2, cowdev_pool_used(self->fd));
	EXPECT_EQ(0, self->map[2 * self->ps]);
	EXPECT_EQ('C', self->map[0]);
	/* The privately written page no longer follows the view. */
	self->map[0] = 'D';
	EXPECT_EQ('q', priv[0]);
	EXPECT_EQ('p', priv[2 * self->ps]);
	EXPECT_EQ('B', priv[self->ps]);
	munmap(priv, NPAGES * self->ps);
}

/* fork with a private mapping: ordinary anonymous COW between the two. */
TEST_F(view, private_mapping_across_fork)
{
	char *priv;
	pid_t pid;

	self->map[0] = 'v';
	priv = mmap(NULL, 4 * self->ps, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		    self->fd, 0);
	ASSERT_NE(MAP_FAILED, priv);
	priv[0] = 'P';
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (priv[0] != 'P')
			_exit(1);
		priv[0] = 'K';
		priv[self->ps] = 'K';
		_exit(self->map[0] == 'v' ? 0 : 2);
	}
	ASSERT_TRUE(child_ok(pid));
	EXPECT_EQ('P', priv[0]);
	EXPECT_EQ(0, priv[self->ps]);
	EXPECT_EQ('v', self->map[0]);
	EXPECT_EQ(0, self->map[self->ps]);
	munmap(priv, 4 * self->ps);
}

/* MADV_DONTNEED on a shared mapping drops ptes, not data. */
TEST_F(view, madv_dontneed_drops_ptes_not_data)
{
	int i;

	for (i = 0; i < 8; i++)
		self->map[i * self->ps] = (char)('a' + i);
	EXPECT_EQ(8 * self->ps / 1024, cowdev_smaps_kb(self->map, "Rss"));
	ASSERT_EQ(0, madvise(self->map, NPAGES * self->ps, MADV_DONTNEED));
	EXPECT_EQ(0, cowdev_smaps_kb(self->map, "Rss"));
	EXPECT_EQ(8, cowdev_stats_of(self->fd).resident_pages);
	EXPECT_EQ(self->used0 + 8, cowdev_pool_used(self->fd));
	for (i = 0; i < 8; i++)
		ASSERT_EQ((char)('a' + i), self->map[i * self->ps]);
	EXPECT_EQ(8, cowdev_stats_of(self->fd).demand_allocs);
}

/* mprotect read-only: writes get SIGSEGV; read-write again: they work. */
TEST_F(view, mprotect_is_honoured)
{
	char c;

	self->map[0] = 'x';
	ASSERT_EQ(0, mprotect(self->map, NPAGES * self->ps, PROT_READ));
	EXPECT_EQ(SIGSEGV, cowdev_try_write(self->map, 'y'));
	EXPECT_EQ(SIGSEGV, cowdev_try_write(self->map + self->ps, 'y'));
	EXPECT_EQ(0, cowdev_try_read(self->map, &c));
	EXPECT_EQ('x', c);
	EXPECT_EQ(1, cowdev_stats_of(self->fd).demand_allocs);
	ASSERT_EQ(0, mprotect(self->map, NPAGES * self->ps,
			      PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, cowdev_try_write(self->map + self->ps, 'y'));
	EXPECT_EQ('y', self->map[self->ps]);
	EXPECT_EQ(2, cowdev_stats_of(self->fd).demand_allocs);
}

/* munmap of part of a mapping leaves the data and the rest mapped. */
TEST_F(view, munmap_keeps_the_data)
{
	self->map[0] = '0';
	self->map[NPAGES / 2 * self->ps] = 'h';
	ASSERT_EQ(0, munmap(self->map, NPAGES / 2 * self->ps));
	EXPECT_EQ('h', self->map[NPAGES / 2 * self->ps]);
	EXPECT_EQ(self->used0 + 2, cowdev_pool_used(self->fd));
	ASSERT_EQ(0, munmap(self->map + NPAGES / 2 * self->ps,
			    NPAGES / 2 * self->ps));
	self->map = mmap(NULL, NPAGES * self->ps, PROT_READ | PROT_WRITE,
			 MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	EXPECT_EQ('0', self->map[0]);
}

/*
 * mremap: shrinking and moving keep the data; a mapping grown past the
 * object's size gets SIGBUS there.  Core mm does not grow a VM_MIXEDMAP
 * VMA in place: with the range after it free, growth fails with ENOMEM and
 * changes nothing; a move to a new place works.
 */
TEST_F(view, mremap_shrinks_moves_and_grows_by_moving)
{
	size_t ps = self->ps;
	char *m, *dst, c;

	ASSERT_EQ(0, cowdev_set_size(self->fd, 8 * ps));
	self->map[0] = 'm';
	m = mremap(self->map, NPAGES * ps, 4 * ps, 0);
	ASSERT_EQ(self->map, m);
	/* The 60 pages after it are free now: no growth in place. */
	EXPECT_EQ(MAP_FAILED, mremap(m, 4 * ps, 12 * ps, MREMAP_MAYMOVE));
	EXPECT_EQ(ENOMEM, errno);
	EXPECT_EQ('m', m[0]);
	/* Grow into a new place. */
	dst = mmap(NULL, 12 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	ASSERT_NE(MAP_FAILED, dst);
	m = mremap(m, 4 * ps, 12 * ps, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_EQ(dst, m);
	self->map = m;
	EXPECT_EQ('m', m[0]);
	EXPECT_EQ(0, cowdev_try_write(m + 7 * ps, 's'));
	EXPECT_EQ(SIGBUS, cowdev_try_read(m + 8 * ps, &c));
	EXPECT_EQ(SIGBUS, cowdev_try_write(m + 11 * ps, 1));
	EXPECT_EQ(2, cowdev_stats_of(self->fd).demand_allocs);
	EXPECT_EQ(2, cowdev_stats_of(self->fd).sigbus);
	EXPECT_EQ(self->used0 + 2, cowdev_pool_used(self->fd));
	/* The teardown unmaps NPAGES pages from self->map. */
	munmap(m, 12 * ps);
	self->map = mmap(NULL, NPAGES * ps, PROT_READ | PROT_WRITE,
			 MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	EXPECT_EQ('s', self->map[7 * ps]);
}

/*
 * Shrinking unmaps the pages past the new end in every process and frees
 * them; growing again shows holes.
 */
TEST_F(view, shrink_unmaps_everywhere_and_frees_the_pages)
{
	int go[2], done[2], status;
	char c = 0;
	pid_t pid;
	int i;

	for (i = 0; i < 16; i++)
		self->map[i * self->ps] = 'd';
	ASSERT_EQ(self->used0 + 16, cowdev_pool_used(self->fd));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Map the tail in the child, then wait for the shrink. */
		if (self->map[12 * self->ps] != 'd' ||
		    write(done[1], "m", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		if (cowdev_try_read(self->map + 12 * self->ps, &c) != SIGBUS)
			_exit(2);
		if (cowdev_try_read(self->map + 3 * self->ps, &c) || c != 'd')
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(1, read(done[0], &c, 1));
	ASSERT_EQ(0, cowdev_set_size(self->fd, 4 * self->ps));
	EXPECT_EQ(self->used0 + 4, cowdev_pool_used(self->fd));
	EXPECT_EQ(4, cowdev_stats_of(self->fd).resident_pages);
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	EXPECT_EQ(SIGBUS, cowdev_try_read(self->map + 5 * self->ps, &c));
	ASSERT_EQ(0, cowdev_set_size(self->fd, 16 * self->ps));
	EXPECT_EQ(0, self->map[12 * self->ps]);
	EXPECT_EQ('d', self->map[3 * self->ps]);
	EXPECT_EQ(self->used0 + 4, cowdev_pool_used(self->fd));
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
}

#define NTHREADS 8

struct race {
	char *map;
	size_t ps;
	pthread_barrier_t start;
	int same_page;
};

struct racer {
	struct race *race;
	int id;
};

static void *racer_run(void *arg)
{
	struct racer *r = arg;
	struct race *race = r->race;
	int i;

	pthread_barrier_wait(&race->start);
	if (race->same_page) {
		race->map[r->id] = (char)(r->id + 1);
		return NULL;
	}
	for (i = 0; i < 4; i++)
		race->map[(r->id * 4 + i) * race->ps] = (char)(r->id + 1);
	return NULL;
}

static void run_racers(struct race *race)
{
	struct racer r[NTHREADS];
	pthread_t t[NTHREADS];
	int i;

	pthread_barrier_init(&race->start, NULL, NTHREADS);
	for (i = 0; i < NTHREADS; i++) {
		r[i].race = race;
		r[i].id = i;
		pthread_create(&t[i], NULL, racer_run, &r[i]);
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&race->start);
}

/* Many threads writing one hole at once: one page, one copy of the data. */
TEST_F(view, threads_writing_one_hole_get_one_page)
{
	struct race race = { .map = self->map, .ps = self->ps,
			     .same_page = 1 };
	char *other;
	int round, i;

	for (round = 0; round < 8; round++) {
		race.map = self->map + round * self->ps;
		run_racers(&race);
	}
	EXPECT_EQ(8, cowdev_stats_of(self->fd).demand_allocs);
	EXPECT_EQ(self->used0 + 8, cowdev_pool_used(self->fd));
	/* Every thread's byte landed in the one page every mapping sees. */
	other = mmap(NULL, 8 * self->ps, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, other);
	for (round = 0; round < 8; round++)
		for (i = 0; i < NTHREADS; i++)
			ASSERT_EQ((char)(i + 1), other[round * self->ps + i]);
	munmap(other, 8 * self->ps);
}

/* Threads faulting different pages at once: exact totals. */
TEST_F(view, threads_writing_different_pages)
{
	struct race race = { .map = self->map, .ps = self->ps };
	int i;

	run_racers(&race);
	EXPECT_EQ(NTHREADS * 4, cowdev_stats_of(self->fd).demand_allocs);
	EXPECT_EQ(self->used0 + NTHREADS * 4, cowdev_pool_used(self->fd));
	for (i = 0; i < NTHREADS * 4; i++)
		ASSERT_EQ((char)(i / 4 + 1), self->map[i * self->ps]);
}

/*
 * Nothing leaks: the pool's used count returns to its baseline once every
 * fd and mapping is gone, and rmmod is refused while any remains.
 */
TEST(no_leak_and_rmmod_refused_while_in_use)
{
	size_t ps = cowdev_page_size();
	struct cowdev_pool_info pi;
	uint64_t base, views;
	int fd, clone, probe;
	char *map;

	probe = cowdev_open();
	ASSERT_LE(0, probe);
	ASSERT_EQ(0, cowdev_pool_info(probe, &pi));
	base = pi.used_pages;
	views = pi.views;

	fd = cowdev_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cowdev_set_size(fd, 32 * ps));
	map = mmap(NULL, 32 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	memset(map, 'l', 32 * ps);
	clone = cowdev_clone(fd);
	ASSERT_LE(0, clone);
	memset(map, 'm', 16 * ps);
	ASSERT_EQ(0, cowdev_pool_info(probe, &pi));
	EXPECT_EQ(base + 48, pi.used_pages);
	EXPECT_EQ(views + 2, pi.views);
	EXPECT_EQ(pi.total_pages, pi.free_pages + pi.used_pages + 1);

	EXPECT_EQ(-1, syscall(SYS_delete_module, "cowdev", O_NONBLOCK));
	EXPECT_TRUE(errno == EBUSY || errno == EWOULDBLOCK);
	/* The mapping outlives both fds; the module stays in use. */
	close(fd);
	close(clone);
	EXPECT_EQ(-1, syscall(SYS_delete_module, "cowdev", O_NONBLOCK));
	EXPECT_TRUE(errno == EBUSY || errno == EWOULDBLOCK);
	ASSERT_EQ(0, cowdev_pool_info(probe, &pi));
	EXPECT_EQ(base + 32, pi.used_pages);
	EXPECT_EQ(views + 1, pi.views);
	EXPECT_EQ('m', map[0]);
	EXPECT_EQ('l', map[31 * ps]);
	munmap(map, 32 * ps);
	ASSERT_EQ(0, cowdev_pool_info(probe, &pi));
	EXPECT_EQ(base, pi.used_pages);
	EXPECT_EQ(views, pi.views);
	EXPECT_EQ(pi.total_pages, pi.free_pages + pi.used_pages + 1);
	close(probe);
}

TEST_HARNESS_MAIN
