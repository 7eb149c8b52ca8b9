/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * libcowdev: thin wrappers around the /dev/cowdev ioctls.
 *
 * Every function returns 0 (or a file descriptor) on success and a negative
 * errno on failure; errno itself is left as the failing call set it.  The
 * structs are those of <linux/cowdev.h>; the library always passes the size
 * it was built with, so the module's extensible-struct rules apply.
 */
#ifndef LIBCOWDEV_H
#define LIBCOWDEV_H

#include <stdint.h>
#include <linux/cowdev.h>

#define COWDEV_PATH "/dev/cowdev"

int cowdev_open(void);
int cowdev_set_size(int fd, uint64_t bytes);
int cowdev_get_size(int fd, uint64_t *bytes);
int cowdev_get_stats(int fd, struct cowdev_stats *st);
int cowdev_reset_stats(int fd);
int cowdev_pool_info(int fd, struct cowdev_pool_info *pi);
int cowdev_clone(int fd);
int cowdev_page_state(int fd, uint64_t start, uint64_t count, uint8_t *buf);

#endif /* LIBCOWDEV_H */
