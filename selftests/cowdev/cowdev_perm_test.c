// SPDX-License-Identifier: GPL-2.0
/*
 * The permission model: the node's mode comes from the dev_mode parameter,
 * and each user (other than one with CAP_SYS_RESOURCE) may hold at most
 * user_max_pages pool pages; the write past that gets SIGBUS and counts in
 * limit_failures, not in pool_failures.  `run` loads the module with
 * pool_pages=256 dev_mode=0660 user_max_pages=64 for this test (the default
 * limit, half the pool, is checked in cowdev_device_test).  Unprivileged
 * children run as uid 65534/65533 with gid 0, so that the group bits let them
 * open the node.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

/* Become @uid with group @gid and no supplementary groups or caps. */
static int drop_to(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) || setresgid(gid, gid, gid) ||
	    setresuid(uid, uid, uid))
		return -1;
	return 0;
}

/*
 * As @uid (gid 0): open, size the view to @pages and write page by page
 * until SIGBUS.  Reports the pages written and the view's stats on @fd_out.
 */
struct fill_report {
	long written;
	struct cowdev_stats st;
	int open_err;
};

static void fill_as(uid_t uid, long pages, int fd_out, int hold_fd)
{
	struct fill_report rep = { 0 };
	size_t ps = cowdev_page_size();
	char *map, c;
	int fd;

	if (drop_to(uid, 0))
		_exit(10);
	fd = cowdev_open();
	if (fd < 0) {
		rep.open_err = -fd;
		goto report;
	}
	if (cowdev_set_size(fd, pages * ps))
		_exit(11);
	map = mmap(NULL, pages * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		_exit(12);
	while (rep.written < pages &&
	       !cowdev_try_write(map + rep.written * ps, 1))
		rep.written++;
	cowdev_get_stats(fd, &rep.st);
report:
	if (write(fd_out, &rep, sizeof(rep)) != sizeof(rep))
		_exit(13);
	if (hold_fd >= 0 && read(hold_fd, &c, 1) < 0)
		_exit(14);
	_exit(0);
}

/* The write end of the pipe the fill children wait on, closed in each child. */
static int hold_writer = -1;

/* Start fill_as() in a child; read its report. */
static pid_t start_fill(uid_t uid, long pages, int hold_fd,
			struct fill_report *rep)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (!pid) {
		close(p[0]);
		if (hold_writer >= 0)
			close(hold_writer);
		fill_as(uid, pages, p[1], hold_fd);
	}
	close(p[1]);
	if (read(p[0], rep, sizeof(*rep)) != sizeof(*rep))
		rep->written = -1;
	close(p[0]);
	return pid;
}

static int wait_ok(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static struct cowdev_pool_info pool_now(void)
{
	struct cowdev_pool_info pi = { 0 };
	int fd = cowdev_open();

	if (fd >= 0) {
		cowdev_pool_info(fd, &pi);
		close(fd);
	}
	pi.views--;	/* not counting the fd just opened */
	return pi;
}

TEST(node_mode_follows_dev_mode)
{
	unsigned long mode = cowdev_param("dev_mode");
	struct stat st;

	ASSERT_NE(0, mode) TH_LOG("no dev_mode parameter");
	ASSERT_EQ(0, stat(COWDEV_PATH, &st));
	EXPECT_EQ(mode, st.st_mode & 07777);
}

TEST(other_users_follow_node_mode)
{
	unsigned long mode = cowdev_param("dev_mode");
	int status, fd;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (drop_to(65534, 65534))
			_exit(10);
		fd = cowdev_open();
		_exit(fd >= 0 ? 0 : -fd == EACCES ? 1 : 2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(mode & 0006 ? 0 : 1, WEXITSTATUS(status));
}

TEST(user_gets_exactly_its_limit)
{
	unsigned long limit = cowdev_param("user_max_pages");
	struct cowdev_pool_info before = pool_now(), after;
	struct fill_report rep;
	pid_t pid;

	ASSERT_NE(0, limit);
	if (limit >= before.free_pages)
		SKIP(return, "pool smaller than the user limit");
	pid = start_fill(65534, limit + 1, -1, &rep);
	ASSERT_TRUE(wait_ok(pid));
	ASSERT_EQ(0, rep.open_err) TH_LOG("open: %s", strerror(rep.open_err));
	EXPECT_EQ(limit, rep.written);
	EXPECT_EQ(1, rep.st.limit_failures);
	EXPECT_EQ(0, rep.st.pool_failures);
	EXPECT_EQ(1, rep.st.sigbus);
	after = pool_now();
	EXPECT_EQ(before.used_pages, after.used_pages);
	EXPECT_EQ(before.alloc_failures, after.alloc_failures);
}

/* Two users at once: each has its own limit; root is not limited. */
TEST(limits_are_per_user_and_root_is_exempt)
{
	unsigned long limit = cowdev_param("user_max_pages");
	struct cowdev_pool_info before = pool_now();
	struct fill_report a, b;
	long root_pages, i;
	int hold[2], fd;
	size_t ps = cowdev_page_size();
	pid_t pa, pb;
	char *map;

	if (2 * limit + 1 > before.free_pages)
		SKIP(return, "pool too small for two users' limits");
	ASSERT_EQ(0, pipe(hold));
	hold_writer = hold[1];
	pa = start_fill(65534, limit + 1, hold[0], &a);
	pb = start_fill(65533, limit + 1, hold[0], &b);
	EXPECT_EQ(limit, a.written);
	EXPECT_EQ(limit, b.written);

	/* Root takes what is left of the pool, beyond any user limit. */
	root_pages = before.free_pages - 2 * limit;
	fd = cowdev_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cowdev_set_size(fd, root_pages * ps));
	map = mmap(NULL, root_pages * ps, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	for (i = 0; i < root_pages; i++)
		ASSERT_EQ(0, cowdev_try_write(map + i * ps, 1))
			TH_LOG("root write %ld of %ld", i, root_pages);
	EXPECT_GT(root_pages, (long)limit);
	munmap(map, root_pages * ps);
	close(fd);

	close(hold[1]);
	EXPECT_TRUE(wait_ok(pa));
	EXPECT_TRUE(wait_ok(pb));
	close(hold[0]);
	EXPECT_EQ(before.used_pages, pool_now().used_pages);
}

TEST_HARNESS_MAIN
