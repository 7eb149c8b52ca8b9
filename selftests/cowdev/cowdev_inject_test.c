// SPDX-License-Identifier: GPL-2.0
/*
 * Failure injection (/sys/kernel/debug/cowdev/fail_*): an injected failure
 * behaves as the real one, with the same counters, plus the pool's
 * injected_failures, the point's own counters and injected=1 in the
 * events; the kernel's attribute rules (probability, interval, times,
 * space) and cowdev's filters (pid, view), each exact.  Root only (debugfs).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

#define FAIL_DIR "/sys/kernel/debug/cowdev"
#define TRACE_DIR "/sys/kernel/tracing"

static int attr_write(const char *point, const char *attr, long long val)
{
	char dir[128];

	snprintf(dir, sizeof(dir), FAIL_DIR "/%s", point);
	return cowdev_attr_write(dir, attr, val);
}

static long long attr_read(const char *point, const char *attr)
{
	char dir[128];

	snprintf(dir, sizeof(dir), FAIL_DIR "/%s", point);
	return cowdev_attr_read(dir, attr);
}

/* Every point back to its defaults: nothing fails. */
static void reset_points(void)
{
	static const char *const points[] = {
		"fail_alloc", "fail_swap_in", "fail_swap_out"
	};
	unsigned int i;

	for (i = 0; i < 3; i++) {
		attr_write(points[i], "probability", 0);
		attr_write(points[i], "interval", 1);
		attr_write(points[i], "times", 1);
		attr_write(points[i], "space", 0);
		attr_write(points[i], "verbose", 0);
		attr_write(points[i], "pid", 0);
		attr_write(points[i], "view", 0);
	}
}

FIXTURE(inject) {
	size_t ps;
	int fd;
	char *map;
	struct cowdev_pool_info pi0;
	struct cowdev_stats st0;
	long long calls0, injected0;
};

#define NP 160

FIXTURE_SETUP(inject)
{
	if (geteuid())
		SKIP_SETUP("failure injection is in debugfs: root only");
	if (access(FAIL_DIR "/fail_alloc/probability", W_OK))
		SKIP_SETUP("no " FAIL_DIR "/fail_alloc (debugfs not mounted?)");
	reset_points();
	self->ps = cowdev_page_size();
	self->fd = cowdev_new_view(NP, &self->map);
	ASSERT_LE(0, self->fd);
	self->pi0 = cowdev_pool_of(self->fd);
	self->st0 = cowdev_stats_of(self->fd);
	self->calls0 = attr_read("fail_alloc", "calls");
	self->injected0 = attr_read("fail_alloc", "injected");
}

FIXTURE_TEARDOWN(inject)
{
	reset_points();
	if (self->map)
		munmap(self->map, NP * self->ps);
	if (self->fd >= 0)
		close(self->fd);
}

/* Write page @i; 0 or the signal. */
static int touch(FIXTURE_DATA(inject) *self, size_t i)
{
	return cowdev_try_write(self->map + i * self->ps, (char)(i + 1));
}

/*
 * probability 100, times 1: the next allocation fails as an empty pool
 * does (SIGBUS, pool_failures, sigbus, alloc_failures), and only that one.
 */
TEST_F(inject, one_failure_like_an_empty_pool)
{
	struct cowdev_pool_info pi;
	struct cowdev_stats st;

	ASSERT_EQ(0, attr_write("fail_alloc", "probability", 100));
	EXPECT_EQ(SIGBUS, touch(self, 0));
	EXPECT_EQ(0, touch(self, 0));
	EXPECT_EQ(0, touch(self, 1));
	pi = cowdev_pool_of(self->fd);
	st = cowdev_stats_of(self->fd);
	EXPECT_EQ(self->pi0.alloc_failures + 1, pi.alloc_failures);
	EXPECT_EQ(self->pi0.injected_failures + 1, pi.injected_failures);
	EXPECT_EQ(self->pi0.used_pages + 2, pi.used_pages);
	EXPECT_EQ(self->st0.pool_failures + 1, st.pool_failures);
	EXPECT_EQ(self->st0.sigbus + 1, st.sigbus);
	EXPECT_EQ(2, st.demand_allocs);
	EXPECT_EQ(0, attr_read("fail_alloc", "times"));
	EXPECT_EQ(self->injected0 + 1, attr_read("fail_alloc", "injected"));
}

/* The recipe: make the 100th allocation of this process fail. */
TEST_F(inject, the_hundredth_allocation_of_a_pid)
{
	size_t i;

	ASSERT_EQ(0, attr_write("fail_alloc", "pid", getpid()));
	ASSERT_EQ(0, attr_write("fail_alloc", "interval", 100));
	ASSERT_EQ(0, attr_write("fail_alloc", "times", 1));
	ASSERT_EQ(0, attr_write("fail_alloc", "probability", 100));
	/* Writing interval started the count again. */
	EXPECT_EQ(0, attr_read("fail_alloc", "calls"));
	for (i = 0; i < 99; i++) {
		ASSERT_EQ(0, touch(self, i)) {
			TH_LOG("allocation %zu", i + 1);
		}
	}
	EXPECT_EQ(SIGBUS, touch(self, 99));
	EXPECT_EQ(100, attr_read("fail_alloc", "calls"));
	for (i = 99; i < 150; i++) {
		EXPECT_EQ(0, touch(self, i)) {
			TH_LOG("allocation after, %zu", i);
		}
	}
	EXPECT_EQ(self->injected0 + 1, attr_read("fail_alloc", "injected"));
	EXPECT_EQ(150, cowdev_stats_of(self->fd).demand_allocs);
}

/* The pid filter: another process's allocations are not even counted. */
TEST_F(inject, pid_filter)
{
	pid_t child;

	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		pause();
		_exit(0);
	}
	ASSERT_EQ(0, attr_write("fail_alloc", "pid", child));
	ASSERT_EQ(0, attr_write("fail_alloc", "times", -1));
	ASSERT_EQ(0, attr_write("fail_alloc", "probability", 100));
	EXPECT_EQ(0, touch(self, 0));
	EXPECT_EQ(0, touch(self, 1));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	EXPECT_EQ(self->calls0, attr_read("fail_alloc", "calls"));
	EXPECT_EQ(self->injected0, attr_read("fail_alloc", "injected"));
}

/* The view filter: only the named view's allocations fail. */
TEST_F(inject, view_filter)
{
	char *m2;
	int fd2 = cowdev_new_view(4, &m2);

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, attr_write("fail_alloc", "view",
				cowdev_stats_of(fd2).view_id));
	ASSERT_EQ(0, attr_write("fail_alloc", "times", -1));
	ASSERT_EQ(0, attr_write("fail_alloc", "probability", 100));
	EXPECT_EQ(0, touch(self, 0));
	EXPECT_EQ(SIGBUS, cowdev_try_write(m2, 'x'));
	EXPECT_EQ(SIGBUS, cowdev_try_write(m2 + self->ps, 'x'));
	EXPECT_EQ(0, touch(self, 1));
	EXPECT_EQ(2, cowdev_stats_of(fd2).pool_failures);
	EXPECT_EQ(self->injected0 + 2, attr_read("fail_alloc", "injected"));
	munmap(m2, 4 * self->ps);
	close(fd2);
}

/*
 * space, as the kernel's: calls are let through while more than a page's
 * worth of it is left.  Three pages of space: two through, the third fails.
 */
TEST_F(inject, space_lets_calls_through_first)
{
	ASSERT_EQ(0, attr_write("fail_alloc", "space", 3 * self->ps));
	ASSERT_EQ(0, attr_write("fail_alloc", "probability", 100));
	EXPECT_EQ(0, touch(self, 0));
	EXPECT_EQ(0, touch(self, 1));
	EXPECT_EQ(SIGBUS, touch(self, 2));
	EXPECT_EQ(0, touch(self, 2));
}

/* A COW break needs a page too: the write to a shared page gets SIGBUS. */
TEST_F(inject, cow_break_fails)
{
	int clone;

	ASSERT_EQ(0, touch(self, 0));
	clone = cowdev_clone(self->fd);
	ASSERT_LE(0, clone);
	ASSERT_EQ(0, attr_write("fail_alloc", "probability", 100));
	EXPECT_EQ(SIGBUS, touch(self, 0));
	EXPECT_EQ(0, touch(self, 0));
	EXPECT_EQ(1, cowdev_stats_of(self->fd).cow_copies);
	EXPECT_EQ(self->st0.pool_failures + 1,
		  cowdev_stats_of(self->fd).pool_failures);
	close(clone);
}

/* cowdev_pool_alloc says injected=1 for the failure it did not have. */
TEST_F(inject, event_says_injected)
{
	char *trace;
	size_t len;
	int fd;

	if (access(TRACE_DIR "/events/cowdev/cowdev_pool_alloc/enable", W_OK))
		SKIP(return, "no tracefs at " TRACE_DIR);
	fd = open(TRACE_DIR "/trace", O_WRONLY | O_TRUNC | O_CLOEXEC);
	ASSERT_LE(0, fd);
	close(fd);
	fd = open(TRACE_DIR "/events/cowdev/cowdev_pool_alloc/enable",
		  O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "1", 1));
	ASSERT_EQ(0, attr_write("fail_alloc", "probability", 100));
	EXPECT_EQ(SIGBUS, touch(self, 0));
	EXPECT_EQ(0, touch(self, 0));
	ASSERT_EQ(1, write(fd, "0", 1));
	close(fd);
	fd = open(TRACE_DIR "/trace", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	trace = calloc(1, 1 << 20);
	ASSERT_NE(NULL, trace);
	len = 0;
	for (;;) {
		ssize_t n = read(fd, trace + len, (1 << 20) - 1 - len);

		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	EXPECT_NE(NULL, strstr(trace, "ok=0 free=")) TH_LOG("%s", trace);
	EXPECT_NE(NULL, strstr(trace, "injected=1")) TH_LOG("%s", trace);
	EXPECT_NE(NULL, strstr(trace, "ok=1 ")) TH_LOG("%s", trace);
	free(trace);
}

/* A view with a swap area and a resident limit of one page. */
static int swap_view(FIXTURE_DATA(inject) *self)
{
	char path[] = "/tmp/cowdev-inject-swap.XXXXXX";
	int sfd = mkostemp(path, O_CLOEXEC), err;

	if (sfd < 0)
		return -errno;
	unlink(path);
	if (ftruncate(sfd, 64 * self->ps)) {
		close(sfd);
		return -errno;
	}
	err = cowdev_swapon(self->fd, sfd);
	close(sfd);
	if (err)
		return err;
	return cowdev_set_resident_limit(self->fd, 1);
}

/*
 * The end of a test with swap_view(): the view goes (its mapping, its
 * fd, and with them its pages in the swap area), and the swap area is
 * detached through a new open of the device, which the teardown closes.
 * The result of SWAPOFF.
 */
static int swap_view_end(FIXTURE_DATA(inject) *self)
{
	munmap(self->map, NP * self->ps);
	self->map = NULL;
	close(self->fd);
	self->fd = cowdev_open();
	return cowdev_swapoff(self->fd);
}

/*
 * fail_swap_in: the fault that needed the read gets SIGBUS (swap_errors),
 * the page stays in the swap area, and the next access reads it back.
 */
TEST_F(inject, swap_in_fails_once)
{
	struct cowdev_pool_info pi;
	int err = swap_view(self);
	char c;

	if (err == -EBUSY)
		SKIP(return, "a swap area is attached already");
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, touch(self, 0));
	ASSERT_EQ(0, touch(self, 1));	/* evicts page 0 */
	ASSERT_EQ(1, cowdev_stats_of(self->fd).swapped_pages);
	ASSERT_EQ(0, attr_write("fail_swap_in", "probability", 100));
	ASSERT_EQ(0, attr_write("fail_swap_in", "view",
				cowdev_stats_of(self->fd).view_id));
	/* Room first (page 1 goes out), then the read that fails. */
	EXPECT_EQ(SIGBUS, cowdev_try_read(self->map, &c));
	pi = cowdev_pool_of(self->fd);
	EXPECT_EQ(self->pi0.swap_errors + 1, pi.swap_errors);
	EXPECT_EQ(self->pi0.injected_failures + 1, pi.injected_failures);
	EXPECT_EQ(2, cowdev_stats_of(self->fd).swapped_pages);
	EXPECT_EQ(0, cowdev_try_read(self->map, &c));
	EXPECT_EQ(1, cowdev_stats_of(self->fd).swapped_pages);
	EXPECT_EQ(1, c);
	EXPECT_EQ(1, attr_read("fail_swap_in", "injected"));
	EXPECT_EQ(0, swap_view_end(self));
}

/*
 * fail_swap_out: the page whose write failed stays in the pool; the fault
 * that needed the room gets SIGBUS; nothing is lost.
 */
TEST_F(inject, swap_out_fails_once)
{
	struct cowdev_pool_info pi;
	int err = swap_view(self);
	char c;

	if (err == -EBUSY)
		SKIP(return, "a swap area is attached already");
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, touch(self, 0));
	ASSERT_EQ(0, attr_write("fail_swap_out", "probability", 100));
	EXPECT_EQ(SIGBUS, touch(self, 1));
	pi = cowdev_pool_of(self->fd);
	EXPECT_EQ(self->pi0.swap_errors + 1, pi.swap_errors);
	EXPECT_EQ(self->pi0.page_outs, pi.page_outs);
	EXPECT_EQ(0, cowdev_stats_of(self->fd).swapped_pages);
	EXPECT_EQ(0, touch(self, 1));
	EXPECT_EQ(1, cowdev_stats_of(self->fd).swapped_pages);
	EXPECT_EQ(0, cowdev_try_read(self->map, &c));
	EXPECT_EQ(1, c);
	EXPECT_EQ(1, attr_read("fail_swap_out", "injected"));
	EXPECT_EQ(0, swap_view_end(self));
}

TEST_HARNESS_MAIN
