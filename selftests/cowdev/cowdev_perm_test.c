// SPDX-License-Identifier: GPL-2.0
/*
 * The permission model: the node's mode comes from the dev_mode parameter,
 * and each user (other than one with CAP_SYS_RESOURCE) may hold at most
 * user_max_pages pool pages; the write past that gets SIGBUS and counts in
 * limit_failures, not in pool_failures.  A page counts until it is back on
 * the pool's free stack (a page in limbo, still referenced from a pipe,
 * counts), and a task inside a user namespace is charged to the user that
 * owns the namespace, not to its own global uid.  `run` loads the module with
 * pool_pages=256 dev_mode=0660 user_max_pages=64 for this test (the default
 * limit, half the pool, is checked in cowdev_device_test).  Unprivileged
 * children run as uid 65534/65533 with gid 0, so that the group bits let them
 * open the node.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
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

/*
 * In a child, as the user it already is: open a view, size it to @pages and
 * write page by page until SIGBUS, into @rep.  The view stays open and
 * mapped (until the child exits).  Exits the child if the view cannot be set
 * up.
 */
static void fill_view(long pages, struct fill_report *rep)
{
	size_t ps = cowdev_page_size();
	char *map;
	int fd;

	memset(rep, 0, sizeof(*rep));
	fd = cowdev_open();
	if (fd < 0) {
		rep->open_err = -fd;
		return;
	}
	if (cowdev_set_size(fd, pages * ps))
		_exit(11);
	map = mmap(NULL, pages * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		_exit(12);
	while (rep->written < pages &&
	       !cowdev_try_write(map + rep->written * ps, 1))
		rep->written++;
	cowdev_get_stats(fd, &rep->st);
}

static void fill_as(uid_t uid, long pages, int fd_out, int hold_fd)
{
	struct fill_report rep;
	char c;

	if (drop_to(uid, 0))
		_exit(10);
	fill_view(pages, &rep);
	if (write(fd_out, &rep, sizeof(rep)) != sizeof(rep))
		_exit(13);
	if (hold_fd >= 0 && read(hold_fd, &c, 1) < 0)
		_exit(14);
	_exit(0);
}

/*
 * The write end of a pipe that another task waits on for EOF (the pipe the
 * fill children hold their pages on, or one a parent reads reports from):
 * closed in each fill child, so that the child cannot keep it open.
 */
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
	return cowdev_child_status(pid) == 0;
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

/*
 * Pages the limbo test passes to a pipe with vmsplice(): a pipe's default
 * capacity, one buffer per page.
 */
#define LIMBO_PAGES 16

/* What the limbo test's child reports once its first view is closed. */
struct limbo_report {
	int step;		/* 0, or the step that failed (limbo_steps) */
	int err;		/* errno of that step */
	long spliced;		/* bytes vmsplice() took */
};

static const char *const limbo_steps[] = {
	"", "pipe", "open", "set size", "mmap", "write", "vmsplice", "close",
};

/*
 * The limbo test's child, as @uid: write LIMBO_PAGES pages of a view,
 * vmsplice() them (no SPLICE_F_GIFT: the pipe takes page references) into a
 * pipe that it keeps open, unmap and close the view (its pages go to limbo)
 * and report on @up.  Then, when the parent says so on @down, fill a new
 * view of @pages pages until SIGBUS and report that on @up, the pipe still
 * open.  Exiting closes the pipe.
 */
static void limbo_child(uid_t uid, long pages, int up, int down)
{
	struct limbo_report lr = { 0 };
	struct iovec iov[LIMBO_PAGES];
	size_t ps = cowdev_page_size();
	struct fill_report rep;
	int fd, pipefd[2], i;
	char *map, c;

	if (drop_to(uid, 0))
		_exit(10);
	lr.step = 1;
	if (pipe(pipefd))
		goto report;
	lr.step = 2;
	fd = cowdev_open();
	if (fd < 0) {
		errno = -fd;
		goto report;
	}
	lr.step = 3;
	if (cowdev_set_size(fd, LIMBO_PAGES * ps))
		goto report;
	lr.step = 4;
	map = mmap(NULL, LIMBO_PAGES * ps, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	if (map == MAP_FAILED)
		goto report;
	lr.step = 5;
	for (i = 0; i < LIMBO_PAGES; i++) {
		if (cowdev_try_write(map + i * ps, 'l')) {
			errno = EFAULT;
			goto report;
		}
		iov[i].iov_base = map + i * ps;
		iov[i].iov_len = ps;
	}
	lr.step = 6;
	lr.spliced = vmsplice(pipefd[1], iov, LIMBO_PAGES, SPLICE_F_NONBLOCK);
	if (lr.spliced < 0)
		goto report;
	lr.step = 7;
	if (munmap(map, LIMBO_PAGES * ps) || close(fd))
		goto report;
	lr.step = 0;
report:
	lr.err = lr.step ? errno : 0;
	if (write(up, &lr, sizeof(lr)) != sizeof(lr))
		_exit(13);
	if (lr.step)
		_exit(0);
	/* EOF: the parent has given up. */
	if (read(down, &c, 1) != 1)
		_exit(0);
	fill_view(pages, &rep);
	if (write(up, &rep, sizeof(rep)) != sizeof(rep))
		_exit(13);
	_exit(0);
}

/*
 * A pool page stays charged to the user that allocated it until it is back
 * on the pool's free stack, not only until its last view lets go of it: the
 * pages a user's closed view left in limbo, because the user's own pipe
 * still references them (vmsplice), count against the user's limit, which
 * would otherwise let the user hold any number of pool pages.  Once the pipe
 * is closed the user has its whole limit back at once: a charge that finds
 * the user at its limit reaps limbo first (no POOL_INFO read in between).
 */
TEST(limbo_pages_stay_charged)
{
	unsigned long limit = cowdev_param("user_max_pages");
	struct cowdev_pool_info before = pool_now(), limbo = { 0 }, after;
	struct limbo_report lr = { .step = -1 };
	struct fill_report rep = { .written = -1 }, again;
	size_t ps = cowdev_page_size();
	int up[2], down[2], status, filled = 0;
	pid_t pid;

	ASSERT_NE(0, limit);
	if (limit <= LIMBO_PAGES || limit >= before.free_pages)
		SKIP(return, "need %d < user_max_pages < free pool pages",
		     LIMBO_PAGES);
	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(up[0]);
		close(down[1]);
		limbo_child(65534, limit + 1, up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	if (read(up[0], &lr, sizeof(lr)) == sizeof(lr) && !lr.step &&
	    lr.spliced == (long)(LIMBO_PAGES * ps)) {
		limbo = pool_now();
		filled = write(down[1], "f", 1) == 1 &&
			 read(up[0], &rep, sizeof(rep)) == sizeof(rep);
	}
	close(down[1]);
	close(up[0]);
	/* The child exits: its pipe and its second view are closed. */
	status = cowdev_child_status(pid);
	/* Straight away, before any POOL_INFO reaps limbo: the whole limit. */
	pid = start_fill(65534, limit + 1, -1, &again);
	ASSERT_TRUE(wait_ok(pid));
	after = pool_now();

	ASSERT_LE(0, lr.step) TH_LOG("no report from the child (status %d)",
				     status);
	ASSERT_EQ(0, lr.step) TH_LOG("child: %s: %s", limbo_steps[lr.step],
				     strerror(lr.err));
	ASSERT_EQ(LIMBO_PAGES * ps, lr.spliced);
	/* The closed view's pages wait in limbo for the pipe, still used. */
	EXPECT_EQ(before.limbo_pages + LIMBO_PAGES, limbo.limbo_pages);
	EXPECT_EQ(before.used_pages + LIMBO_PAGES, limbo.used_pages);
	ASSERT_TRUE(filled) TH_LOG("no fill report (status %d)", status);
	EXPECT_EQ(0, status);
	ASSERT_EQ(0, rep.open_err) TH_LOG("open: %s", strerror(rep.open_err));
	/* ...and still charged: the new view gets the rest of the limit. */
	EXPECT_EQ(limit - LIMBO_PAGES, rep.written);
	EXPECT_EQ(1, rep.st.limit_failures);
	EXPECT_EQ(0, rep.st.pool_failures);
	EXPECT_EQ(1, rep.st.sigbus);
	/* The pipe closed: they are free again, and uncharged. */
	EXPECT_EQ(before.limbo_pages, after.limbo_pages);
	EXPECT_EQ(before.used_pages, after.used_pages);
	ASSERT_EQ(0, again.open_err) TH_LOG("open: %s",
					    strerror(again.open_err));
	EXPECT_EQ(limit, again.written);
	EXPECT_EQ(1, again.st.limit_failures);
	EXPECT_EQ(0, again.st.pool_failures);
	EXPECT_EQ(before.used_pages, pool_now().used_pages);
}

/*
 * The user namespace test: the namespace's owner, and the global uid of the
 * namespace's uid 0 (its uid_map maps uids 0-999 to NS_UID_BASE...).
 */
#define NS_OWNER	65534
#define NS_UID_BASE	200000

/*
 * What the namespace's owner reports: once after unshare(), once with the
 * fills of its tasks.
 */
struct ns_report {
	int step;		/* 0, or the step that failed (ns_steps) */
	int err;		/* errno of that step */
	int unchroot_err;	/* errno of unchroot(), 0 if it worked */
	struct fill_report a;	/* ns uid 1, holding its pages */
	struct fill_report b;	/* ns uid 2, after a */
	int b_status;		/* exit status of ns uid 2's task */
};

static const char *const ns_steps[] = {
	"", "drop to the owner", "unshare(CLONE_NEWUSER)",
	"become the namespace's root",
};
#define NS_STEP_UNSHARE 2

/*
 * unshare(CLONE_NEWUSER) fails with EPERM in a chroot, and scripts/vm-run
 * runs the tests chrooted into the host's root.  Called as root in a child:
 * give it a mount namespace of its own in which the mount that is its root
 * is moved onto the namespace's root (as switch_root does at boot), so that
 * it is no longer chrooted.  Nothing changes outside the child; a child that
 * is not chrooted only gets the namespace.  0, or -1 with errno.
 */
static int unchroot(void)
{
	int root = -1, cwd = -1, ns = -1, ret = -1, err;
	struct stat old_root, ns_root;

	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -1;
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (root < 0 || cwd < 0 || ns < 0 || fstat(root, &old_root))
		goto out;
	/* Joining its own mount namespace sets the root to the namespace's. */
	if (setns(ns, CLONE_NEWNS) || stat("/", &ns_root))
		goto out;
	if ((old_root.st_dev != ns_root.st_dev ||
	     old_root.st_ino != ns_root.st_ino) &&
	    (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	     fchdir(root) || mount(".", "/", NULL, MS_MOVE, NULL) ||
	     chroot(".")))
		goto out;
	ret = fchdir(cwd);
out:
	err = errno;
	close(root);
	close(cwd);
	close(ns);
	errno = err;
	return ret;
}

/*
 * The owner of the user namespace, started as root: become NS_OWNER (gid 0,
 * for the node's group bits), make the namespace and report on @up.  Once
 * the parent has written the id maps (a byte on @down), become the
 * namespace's root, fill a view of @pages pages as ns uid 1 (a task that
 * holds its pages until @hold reads EOF), then one as ns uid 2, and report
 * both on @up.  Exits when ns uid 1's task has.
 */
static void ns_owner(long pages, int up, int down, int hold)
{
	struct ns_report rep = { 0 };
	pid_t pa, pb;
	char c;

	if (unchroot())
		rep.unchroot_err = errno;
	rep.step = 1;
	if (drop_to(NS_OWNER, 0))
		goto report;
	rep.step = NS_STEP_UNSHARE;
	if (unshare(CLONE_NEWUSER))
		goto report;
	rep.step = 0;
report:
	rep.err = rep.step ? errno : 0;
	if (write(up, &rep, sizeof(rep)) != sizeof(rep))
		_exit(13);
	if (rep.step)
		_exit(0);
	/* EOF: the parent could not map the ids. */
	if (read(down, &c, 1) != 1)
		_exit(0);
	close(down);
	if (setresgid(0, 0, 0) || setresuid(0, 0, 0)) {
		rep.step = 3;
		rep.err = errno;
		_exit(write(up, &rep, sizeof(rep)) == sizeof(rep) ? 0 : 13);
	}
	/* The tasks must not keep @up open: the parent waits on it. */
	hold_writer = up;
	pa = start_fill(1, pages, hold, &rep.a);
	close(hold);
	pb = start_fill(2, pages, -1, &rep.b);
	rep.b_status = cowdev_child_status(pb);
	if (write(up, &rep, sizeof(rep)) != sizeof(rep))
		rep.step = -1;
	close(up);
	/* ns uid 1's task exits when the parent closes the hold pipe. */
	_exit(wait_ok(pa) && !rep.step ? 0 : 16);
}

/* Write @text to /proc/@pid/@file: 0, or -1 with errno. */
static int write_proc(pid_t pid, const char *file, const char *text)
{
	ssize_t len = strlen(text);
	char path[64];
	int fd, ok, err;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, text, len) == len;
	err = errno;
	close(fd);
	errno = err;
	return ok ? 0 : -1;
}

/*
 * Pages charged in a user namespace count against the user that owns the
 * outermost namespace of its chain (the one whose parent is the initial
 * namespace), as the kernel's rlimit counts do, not against each namespace
 * uid's global uid: the namespace's uids, though a subordinate range maps
 * them to distinct global uids, share their owner's one limit, with the
 * owner's own views outside the namespace too.  Otherwise one user could
 * hold user_max_pages per uid of the range.
 */
TEST(user_namespace_uids_share_owner_limit)
{
	unsigned long limit = cowdev_param("user_max_pages");
	struct cowdev_pool_info before = pool_now(), after;
	struct ns_report hello = { .step = -1 }, rep = { .step = -1 };
	struct fill_report outside = { .written = -1 };
	int up[2], down[2], hold[2], status, map_err = -1;
	int outside_status = -1;
	char uid_map[64];
	pid_t pid, po;

	ASSERT_NE(0, limit);
	if (2 * limit + 1 > before.free_pages)
		SKIP(return, "pool too small for two users' limits");
	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	ASSERT_EQ(0, pipe(hold));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(up[0]);
		close(down[1]);
		close(hold[1]);
		ns_owner(limit + 1, up[1], down[0], hold[0]);
	}
	close(up[1]);
	close(down[0]);
	close(hold[0]);
	if (read(up[0], &hello, sizeof(hello)) == sizeof(hello) &&
	    !hello.step) {
		snprintf(uid_map, sizeof(uid_map), "0 %d 1000\n", NS_UID_BASE);
		map_err = 0;
		if (write_proc(pid, "uid_map", uid_map) ||
		    write_proc(pid, "gid_map", "0 0 1\n") ||
		    write(down[1], "m", 1) != 1)
			map_err = errno;
	}
	close(down[1]);
	if (!map_err && read(up[0], &rep, sizeof(rep)) == sizeof(rep) &&
	    !rep.step) {
		/* ns uid 1 holds the owner's limit: the owner gets nothing. */
		hold_writer = hold[1];
		po = start_fill(NS_OWNER, limit + 1, -1, &outside);
		outside_status = cowdev_child_status(po);
	}
	/* Let ns uid 1's task go, and so the owner. */
	close(hold[1]);
	close(up[0]);
	status = cowdev_child_status(pid);
	after = pool_now();

	ASSERT_LE(0, hello.step) TH_LOG("no report from the owner (status %d)",
					status);
	if (hello.step == NS_STEP_UNSHARE &&
	    (hello.err == EPERM || hello.err == EINVAL || hello.err == ENOSPC))
		SKIP(return, "no user namespaces: unshare: %s (unchroot: %s)",
		     strerror(hello.err),
		     hello.unchroot_err ? strerror(hello.unchroot_err) : "ok");
	ASSERT_EQ(0, hello.step) TH_LOG("owner: %s: %s",
					ns_steps[hello.step],
					strerror(hello.err));
	ASSERT_EQ(0, map_err) TH_LOG("writing the id maps: %s",
				     strerror(map_err));
	ASSERT_LE(0, rep.step) TH_LOG("no fill report (status %d)", status);
	ASSERT_EQ(0, rep.step) TH_LOG("owner: %s: %s", ns_steps[rep.step],
				      strerror(rep.err));
	EXPECT_EQ(0, status);
	/* ns uid 1 (global NS_UID_BASE + 1) gets the owner's whole limit... */
	ASSERT_EQ(0, rep.a.open_err) TH_LOG("open: %s",
					    strerror(rep.a.open_err));
	EXPECT_EQ(limit, rep.a.written);
	EXPECT_EQ(1, rep.a.st.limit_failures);
	EXPECT_EQ(0, rep.a.st.pool_failures);
	/* ...so ns uid 2, another global uid, gets nothing at all... */
	EXPECT_EQ(0, rep.b_status);
	ASSERT_EQ(0, rep.b.open_err) TH_LOG("open: %s",
					    strerror(rep.b.open_err));
	EXPECT_EQ(0, rep.b.written);
	EXPECT_EQ(1, rep.b.st.limit_failures);
	EXPECT_EQ(0, rep.b.st.pool_failures);
	EXPECT_EQ(1, rep.b.st.sigbus);
	/* ...and nor does the owner outside the namespace. */
	EXPECT_EQ(0, outside_status);
	EXPECT_EQ(0, outside.open_err);
	EXPECT_EQ(0, outside.written);
	EXPECT_EQ(1, outside.st.limit_failures);
	EXPECT_EQ(0, outside.st.pool_failures);
	EXPECT_EQ(before.used_pages, after.used_pages);
}

TEST_HARNESS_MAIN
