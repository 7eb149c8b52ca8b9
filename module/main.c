// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev: module init/exit, module parameters and the /dev/cowdev misc
 * device.
 *
 * Owns the parameters (read-only once loaded) and the misc device.  The
 * pool is reserved before the device appears and freed after it is gone;
 * views cannot outlive the module because each holds a module reference
 * (see view.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "cowdev.h"

static unsigned long pool_pages = 16384;
module_param(pool_pages, ulong, 0444);
MODULE_PARM_DESC(pool_pages,
		 "Pages reserved for the pool at load, zero page included (default 16384)");

unsigned long cowdev_max_object_pages = 1UL << 20;
module_param_named(max_object_pages, cowdev_max_object_pages, ulong, 0444);
MODULE_PARM_DESC(max_object_pages,
		 "Largest size of one object, in pages (default 1048576)");

static struct miscdevice cowdev_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "cowdev",
	.fops = &cowdev_fops,
	.mode = 0666,
};

static int __init cowdev_init(void)
{
	int ret;

	ret = cowdev_pool_init(pool_pages);
	if (ret)
		return ret;
	ret = misc_register(&cowdev_misc);
	if (ret)
		goto err_pool;
	pr_info("pool of %lu pages, objects up to %lu pages\n", pool_pages,
		cowdev_max_object_pages);
	return 0;

err_pool:
	cowdev_pool_exit();
	return ret;
}

static void __exit cowdev_exit(void)
{
	misc_deregister(&cowdev_misc);
	cowdev_pool_exit();
}

module_init(cowdev_init);
module_exit(cowdev_exit);
MODULE_DESCRIPTION("Demand paging and copy-on-write over a module-owned page pool");
MODULE_LICENSE("GPL");
