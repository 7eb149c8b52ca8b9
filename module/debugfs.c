// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev: debugfs (/sys/kernel/debug/cowdev/), for tools that look at every
 * live view: cowstat, cowmap.
 *
 *   views           one line per live view: id, pid, size, resident,
 *                   shared and the counters (header line first)
 *   pagemap/<id>    one byte of COWDEV_PAGE_* flags per page of view <id>;
 *                   pread at offset = first page index
 *   fail_alloc/, fail_swap_in/, fail_swap_out/   failure injection
 *                   (inject.c)
 *   delay/<point>/  delay injection (inject.c)
 *
 * A pagemap file is created with its view and removed before the view is
 * freed; debugfs_remove() waits for readers, which is what keeps the view
 * alive while a read runs.  debugfs failures are not errors.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "cowdev.h"

static struct dentry *cowdev_debugfs_root;
static struct dentry *cowdev_debugfs_pagemaps;

static int cowdev_views_debugfs_show(struct seq_file *m, void *unused)
{
	cowdev_views_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cowdev_views_debugfs);

static ssize_t cowdev_pagemap_read(struct file *file, char __user *buf,
				   size_t count, loff_t *ppos)
{
	struct cowdev_view *view = file_inode(file)->i_private;
	unsigned long size = READ_ONCE(view->size_pages);
	ssize_t ret;
	u8 *map;

	if (*ppos < 0)
		return -EINVAL;
	if (*ppos >= size || !count)
		return 0;
	count = min_t(size_t, count, size - *ppos);
	count = min_t(size_t, count, PAGE_SIZE * 16);
	map = kmalloc(count, GFP_KERNEL);
	if (!map)
		return -ENOMEM;
	cowdev_fill_page_map(view, *ppos, count, map, false);
	ret = count;
	if (copy_to_user(buf, map, count))
		ret = -EFAULT;
	else
		*ppos += count;
	kfree(map);
	return ret;
}

static const struct file_operations cowdev_pagemap_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = cowdev_pagemap_read,
	.llseek = default_llseek,
};

void cowdev_debugfs_add_view(struct cowdev_view *view)
{
	char name[24];

	snprintf(name, sizeof(name), "%llu", view->id);
	view->debugfs = debugfs_create_file(name, 0400,
					    cowdev_debugfs_pagemaps, view,
					    &cowdev_pagemap_fops);
}

void cowdev_debugfs_remove_view(struct cowdev_view *view)
{
	debugfs_remove(view->debugfs);
}

void cowdev_debugfs_init(void)
{
	cowdev_debugfs_root = debugfs_create_dir("cowdev", NULL);
	debugfs_create_file("views", 0400, cowdev_debugfs_root, NULL,
			    &cowdev_views_debugfs_fops);
	cowdev_debugfs_pagemaps = debugfs_create_dir("pagemap",
						     cowdev_debugfs_root);
	cowdev_inject_debugfs_init(cowdev_debugfs_root);
	cowdev_delay_debugfs_init(cowdev_debugfs_root);
}

void cowdev_debugfs_exit(void)
{
	debugfs_remove(cowdev_debugfs_root);
}
