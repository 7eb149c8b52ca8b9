// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* libcowdev: see libcowdev.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>

#include "libcowdev.h"

static int cowdev_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

int cowdev_open(void)
{
	int fd = open(COWDEV_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int cowdev_set_size(int fd, uint64_t bytes)
{
	return cowdev_ioctl(fd, COWDEV_IOC_SET_SIZE, &bytes);
}

int cowdev_get_size(int fd, uint64_t *bytes)
{
	return cowdev_ioctl(fd, COWDEV_IOC_GET_SIZE, bytes);
}

int cowdev_get_stats(int fd, struct cowdev_stats *st)
{
	memset(st, 0, sizeof(*st));
	return cowdev_ioctl(fd, COWDEV_IOC_GET_STATS, st);
}

int cowdev_reset_stats(int fd)
{
	return cowdev_ioctl(fd, COWDEV_IOC_RESET_STATS, NULL);
}

int cowdev_pool_info(int fd, struct cowdev_pool_info *pi)
{
	memset(pi, 0, sizeof(*pi));
	return cowdev_ioctl(fd, COWDEV_IOC_POOL_INFO, pi);
}

int cowdev_clone(int fd)
{
	return cowdev_ioctl(fd, COWDEV_IOC_CLONE, NULL);
}

int cowdev_page_state(int fd, uint64_t start, uint64_t count, uint8_t *buf)
{
	struct cowdev_page_state ps = {
		.start = start,
		.count = count,
		.buf = (uintptr_t)buf,
	};

	return cowdev_ioctl(fd, COWDEV_IOC_PAGE_STATE, &ps);
}
