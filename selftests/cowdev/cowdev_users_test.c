// SPDX-License-Identifier: GPL-2.0
/*
 * A pool page records the user it is charged to as a 16-bit id, so cowdev
 * knows at most 65535 users between load and unload: the view of a 65536th
 * distinct user fails with EUSERS, while users it knows and exempt tasks
 * (CAP_SYS_RESOURCE) go on opening views.  The ids stay taken until unload,
 * so `run` gives this test a load of the module of its own; it expects no
 * user to be known when it starts.  The users are effective uids from
 * USER_BASE on (the test switches its effective uid only, and back to root
 * between opens); the node's default mode, 0666, lets them open it.  It
 * skips on the debug kernels of the matrix, where 65536 opens take more
 * than ten minutes under TCG; the code is the same on 6.1 and 6.12.
 */
#include <errno.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

#define USER_BASE	200000
#define MAX_USERS	65535

/* Open and close a view as effective uid @uid.  Return: 0 or an errno. */
static int open_as(uid_t uid)
{
	int fd, err = 0;

	if (setresuid(-1, uid, -1))
		return -1;
	fd = cowdev_open();
	if (fd < 0)
		err = errno;
	else
		close(fd);
	if (seteuid(0))
		return -1;
	return err;
}

FIXTURE(users) {
	int unused;
};

FIXTURE_SETUP(users)
{
	if (geteuid())
		SKIP_SETUP("needs root, to switch uids");
	if (cowdev_debug_kernel())
		SKIP_SETUP("65536 opens take too long on a debug kernel");
}

FIXTURE_TEARDOWN(users)
{
}

TEST_F_TIMEOUT(users, the_65536th_user_gets_eusers, 900)
{
	unsigned int n;
	int err = 0;
	int fd;

	for (n = 0; n < MAX_USERS; n++) {
		err = open_as(USER_BASE + n);
		if (err)
			break;
	}
	ASSERT_EQ(0, err) TH_LOG("user %u of %u: %s", n + 1, MAX_USERS,
				 strerror(err));
	ASSERT_EQ(MAX_USERS, n);
	/* Every id is taken: a new user is refused, and stays refused. */
	ASSERT_EQ(EUSERS, open_as(USER_BASE + MAX_USERS));
	ASSERT_EQ(EUSERS, open_as(USER_BASE + MAX_USERS));
	/* Users cowdev knows keep their ids: the first and the last. */
	ASSERT_EQ(0, open_as(USER_BASE));
	ASSERT_EQ(0, open_as(USER_BASE + MAX_USERS - 1));
	/* Root is exempt: it is no user of the pool and needs no id. */
	fd = cowdev_open();
	ASSERT_LE(0, fd);
	close(fd);
}

TEST_HARNESS_MAIN
