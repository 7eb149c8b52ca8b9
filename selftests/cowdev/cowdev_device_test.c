// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/cowdev node itself: a misc character device that anyone may open
 * read-write, many times at once, and that keeps the module loaded while
 * open; and the module's default parameters.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

#define MISC_MAJOR 10

TEST(node_is_misc_chardev)
{
	struct stat st;

	ASSERT_EQ(0, stat(COWDEV_PATH, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(MISC_MAJOR, major(st.st_rdev));
	EXPECT_EQ(0666U, st.st_mode & 0777U);
}

TEST(open_close_many)
{
	int fds[16], i;

	for (i = 0; i < 16; i++) {
		fds[i] = cowdev_open();
		ASSERT_LE(0, fds[i]) TH_LOG("open %d: %s", i, strerror(-fds[i]));
	}
	for (i = 0; i < 16; i++)
		EXPECT_EQ(0, close(fds[i]));
}

TEST(open_keeps_module_loaded)
{
	int fd = cowdev_open();

	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, syscall(SYS_delete_module, "cowdev", O_NONBLOCK));
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY)
		TH_LOG("delete_module: %s", strerror(errno));
	close(fd);
}

/* Loaded without parameters (as `run` does for this test): the defaults. */
TEST(default_parameters)
{
	EXPECT_EQ(16384, cowdev_param("pool_pages"));
	EXPECT_EQ(1UL << 20, cowdev_param("max_object_pages"));
	EXPECT_EQ(0666, cowdev_param("dev_mode"));
	EXPECT_EQ(cowdev_param("pool_pages") / 2, cowdev_param("user_max_pages"));
}

TEST_HARNESS_MAIN
