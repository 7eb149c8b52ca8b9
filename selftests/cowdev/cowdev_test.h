/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the cowdev selftests on top of libcowdev (which has the
 * SIGBUS-catching accesses and the smaps reader): asserting on counters.
 */
#ifndef COWDEV_TEST_H
#define COWDEV_TEST_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "libcowdev.h"

/*
 * SKIP() for a FIXTURE_SETUP.  The 6.1 harness, which the build uses, runs
 * a test's body even after its setup called SKIP(): end the test's process
 * instead, with the exit status that harness reads as "skipped".
 */
#define SKIP_SETUP(fmt, ...) SKIP(_exit(255), fmt, ##__VA_ARGS__)

/* ioctl(): the result, or -errno. */
static inline long cowdev_xioctl(int fd, unsigned long cmd, void *arg)
{
	long r = ioctl(fd, cmd, arg);

	return r < 0 ? -errno : r;
}

/* The value of module parameter @name; 0 when it cannot be read. */
static inline unsigned long cowdev_param(const char *name)
{
	char path[128];
	unsigned long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/cowdev/parameters/%s", name);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/* GET_STATS of @fd; every field all ones when the ioctl fails. */
static inline struct cowdev_stats cowdev_stats_of(int fd)
{
	struct cowdev_stats st;

	if (cowdev_get_stats(fd, &st))
		memset(&st, 0xff, sizeof(st));
	return st;
}

/* POOL_INFO through @fd; every field all ones when the ioctl fails. */
static inline struct cowdev_pool_info cowdev_pool_of(int fd)
{
	struct cowdev_pool_info pi;

	if (cowdev_pool_info(fd, &pi))
		memset(&pi, 0xff, sizeof(pi));
	return pi;
}

static inline uint64_t cowdev_pool_used(int fd)
{
	return cowdev_pool_of(fd).used_pages;
}

static inline size_t cowdev_page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * Pages the kernel's fault-around covers (debugfs fault_around_bytes; the
 * kernel's default of 64 KiB when debugfs cannot tell).
 */
static inline unsigned long cowdev_fault_around_pages(size_t ps)
{
	unsigned long bytes = 65536;
	FILE *f = fopen("/sys/kernel/debug/fault_around_bytes", "r");

	if (f) {
		if (fscanf(f, "%lu", &bytes) != 1)
			bytes = 65536;
		fclose(f);
	}
	return bytes / ps;
}

#endif /* COWDEV_TEST_H */
