// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev: deliberate bugs, to prove that the test matrix catches them.
 *
 * Never part of the shipped module: Kbuild compiles this file only when the
 * build is made with COWDEV_BUG=<name> (make module-for KERNEL=... or make
 * check with COWDEV_BUG in the environment).  cowdev_init() calls
 * cowdev_bug_inject() once, before the device is registered; each bug is
 * one the kernel's own checkers (or vm-run's dmesg patterns, or the
 * selftests) must report:
 *
 *   rcu_sleep        msleep() inside rcu_read_lock()  (DEBUG_ATOMIC_SLEEP,
 *                    PROVE_RCU on the debug kernels)
 *   use_after_free   a read of a freed kmalloc object (KASAN)
 *   unbalanced_lock  a mutex still held when insmod returns (lockdep)
 *   warn             WARN_ON(1) (every kernel)
 *   load_fail        module init fails (every kernel)
 */
#include <linux/delay.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "cowdev.h"

static DEFINE_MUTEX(cowdev_bug_mutex);

static void cowdev_bug_rcu_sleep(void)
{
	rcu_read_lock();
	msleep(20);
	rcu_read_unlock();
}

static noinline u8 cowdev_bug_read(const u8 *p)
{
	return READ_ONCE(*p);
}

static void cowdev_bug_use_after_free(void)
{
	u8 *p = kmalloc(64, GFP_KERNEL);

	if (!p)
		return;
	kfree(p);
	pr_info("bug: read %u from a freed object\n", cowdev_bug_read(p + 8));
}

int cowdev_bug_inject(void)
{
	const char *bug = COWDEV_BUG;

	pr_warn("deliberate bug '%s' built in\n", bug);
	if (!strcmp(bug, "rcu_sleep"))
		cowdev_bug_rcu_sleep();
	else if (!strcmp(bug, "use_after_free"))
		cowdev_bug_use_after_free();
	else if (!strcmp(bug, "unbalanced_lock"))
		mutex_lock(&cowdev_bug_mutex);
	else if (!strcmp(bug, "warn"))
		WARN_ON(1);
	else if (!strcmp(bug, "load_fail"))
		return -ENODEV;
	return 0;
}
