// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev: module init/exit and the /dev/cowdev misc device.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

static int cowdev_open(struct inode *inode, struct file *file)
{
	return 0;
}

static int cowdev_release(struct inode *inode, struct file *file)
{
	return 0;
}

static const struct file_operations cowdev_fops = {
	.owner = THIS_MODULE,
	.open = cowdev_open,
	.release = cowdev_release,
};

static struct miscdevice cowdev_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "cowdev",
	.fops = &cowdev_fops,
	.mode = 0666,
};

static int __init cowdev_init(void)
{
	return misc_register(&cowdev_misc);
}

static void __exit cowdev_exit(void)
{
	misc_deregister(&cowdev_misc);
}

module_init(cowdev_init);
module_exit(cowdev_exit);
MODULE_DESCRIPTION("Demand paging and copy-on-write over a module-owned page pool");
MODULE_LICENSE("GPL");
