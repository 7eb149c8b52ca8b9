// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev: module init/exit, module parameters and the /dev/cowdev misc
 * device.
 *
 * Owns the parameters (read-only once loaded, except those of replacement
 * in reclaim.c; user_max_pages shows the effective limit), the misc device (its mode is dev_mode) and its
 * read-only sysfs attributes (/sys/class/misc/cowdev/: the pool counters of
 * COWDEV_IOC_POOL_INFO, one number each).  The pool is reserved before the
 * device appears and freed after it is gone; views cannot outlive the module
 * because each holds a module reference (see view.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sysfs.h>

#include "cowdev.h"

/* Set by module/Kbuild from git describe or the VERSION file. */
#ifndef COWDEV_VERSION
#define COWDEV_VERSION "0.0.0"
#endif

static unsigned long pool_pages = 16384;
module_param(pool_pages, ulong, 0444);
MODULE_PARM_DESC(pool_pages,
		 "Pages reserved for the pool at load, zero page included (default 16384)");

static ushort dev_mode = 0666;
module_param(dev_mode, ushort, 0444);
MODULE_PARM_DESC(dev_mode, "Mode of /dev/cowdev (default 0666)");

module_param_named(user_max_pages, cowdev_user_max_pages, ulong, 0444);
MODULE_PARM_DESC(user_max_pages,
		 "Pool pages one user may hold; 0: half the pool (default 0)");

/*
 * At most INT_MAX pages (8 TiB with 4 KiB pages): sizes in bytes, page
 * offsets and a whole-object page-state map (one byte a page) then fit in
 * every type they are computed in.
 */
#define COWDEV_MAX_OBJECT_PAGES_LIMIT	((unsigned long)INT_MAX)

unsigned long cowdev_max_object_pages = 1UL << 20;
module_param_named(max_object_pages, cowdev_max_object_pages, ulong, 0444);
MODULE_PARM_DESC(max_object_pages,
		 "Largest size of one object, in pages: 1 to 2147483647 (default 1048576)");

static char *swap_file;
module_param(swap_file, charp, 0444);
MODULE_PARM_DESC(swap_file,
		 "Attach this file or block device as the swap area at load (default: none)");

#define COWDEV_POOL_ATTR(field)						\
static ssize_t field##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	struct cowdev_pool_info info;					\
									\
	cowdev_pool_get_info(&info);					\
	return sysfs_emit(buf, "%llu\n", info.field);			\
}									\
static DEVICE_ATTR_RO(field)

COWDEV_POOL_ATTR(total_pages);
COWDEV_POOL_ATTR(free_pages);
COWDEV_POOL_ATTR(used_pages);
COWDEV_POOL_ATTR(peak_used);
COWDEV_POOL_ATTR(alloc_failures);
COWDEV_POOL_ATTR(views);
COWDEV_POOL_ATTR(limbo_pages);
COWDEV_POOL_ATTR(allocs);
COWDEV_POOL_ATTR(frees);
COWDEV_POOL_ATTR(swap_total);
COWDEV_POOL_ATTR(swap_used);
COWDEV_POOL_ATTR(page_outs);
COWDEV_POOL_ATTR(page_ins);
COWDEV_POOL_ATTR(evictions);
COWDEV_POOL_ATTR(clean_evictions);
COWDEV_POOL_ATTR(swap_errors);
COWDEV_POOL_ATTR(kswapd_wakeups);
COWDEV_POOL_ATTR(zeroed_pages);
COWDEV_POOL_ATTR(zeroed_allocs);
COWDEV_POOL_ATTR(inline_zeroes);

static struct attribute *cowdev_attrs[] = {
	&dev_attr_total_pages.attr,
	&dev_attr_free_pages.attr,
	&dev_attr_used_pages.attr,
	&dev_attr_peak_used.attr,
	&dev_attr_alloc_failures.attr,
	&dev_attr_views.attr,
	&dev_attr_limbo_pages.attr,
	&dev_attr_allocs.attr,
	&dev_attr_frees.attr,
	&dev_attr_swap_total.attr,
	&dev_attr_swap_used.attr,
	&dev_attr_page_outs.attr,
	&dev_attr_page_ins.attr,
	&dev_attr_evictions.attr,
	&dev_attr_clean_evictions.attr,
	&dev_attr_swap_errors.attr,
	&dev_attr_kswapd_wakeups.attr,
	&dev_attr_zeroed_pages.attr,
	&dev_attr_zeroed_allocs.attr,
	&dev_attr_inline_zeroes.attr,
	NULL
};
ATTRIBUTE_GROUPS(cowdev);

static struct miscdevice cowdev_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "cowdev",
	.fops = &cowdev_fops,
	.groups = cowdev_groups,
};

static int __init cowdev_init(void)
{
	int ret;

	if (dev_mode & ~0777) {
		pr_err("dev_mode=%#o: not a file mode\n", dev_mode);
		return -EINVAL;
	}
	if (!cowdev_max_object_pages ||
	    cowdev_max_object_pages > COWDEV_MAX_OBJECT_PAGES_LIMIT) {
		pr_err("max_object_pages=%lu: need 1 to %lu\n",
		       cowdev_max_object_pages, COWDEV_MAX_OBJECT_PAGES_LIMIT);
		return -EINVAL;
	}
	cowdev_misc.mode = dev_mode;
	if (!cowdev_user_max_pages)
		cowdev_user_max_pages = pool_pages / 2;
	ret = cowdev_bug_inject();
	if (ret)
		return ret;
	ret = cowdev_pool_init(pool_pages);
	if (ret)
		return ret;
	ret = cowdev_swap_init(swap_file);
	if (ret)
		goto err_pool;
	cowdev_debugfs_init();
	ret = misc_register(&cowdev_misc);
	if (ret)
		goto err_debugfs;
	pr_info("pool of %lu pages (%zu bytes of metadata each, %zu per block of %lu), objects up to %lu pages, %lu per user\n",
		pool_pages, cowdev_pool_meta_bytes(), sizeof(struct page *),
		cowdev_pool_block_pages(), cowdev_max_object_pages,
		cowdev_user_max_pages);
	return 0;

err_debugfs:
	cowdev_debugfs_exit();
	cowdev_swap_exit();
err_pool:
	cowdev_pool_exit();
	cowdev_users_exit();
	return ret;
}

static void __exit cowdev_exit(void)
{
	misc_deregister(&cowdev_misc);
	cowdev_debugfs_exit();
	cowdev_kswapd_stop();
	cowdev_swap_exit();
	cowdev_pool_exit();
	cowdev_users_exit();
}

module_init(cowdev_init);
module_exit(cowdev_exit);
MODULE_DESCRIPTION("Demand paging and copy-on-write over a module-owned page pool");
MODULE_AUTHOR("The cowdev authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(COWDEV_VERSION);
