// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev: the ioctls of a view (uapi/linux/cowdev.h).
 *
 * Commands are matched on type, number and direction; the size in the
 * command is the caller's struct size, so older and newer callers work:
 * input structs are read with copy_struct_from_user() (shorter: zero
 * extended; longer: the unknown tail must be zero, else E2BIG), output
 * structs are written up to the caller's size with the unknown tail zeroed.
 * A size below the command's first published size is EINVAL, above a page
 * E2BIG, an unknown command ENOTTY.  Arguments are copied in before and out
 * after any lock is taken, and a command that fails changes nothing.
 * This file owns no state.
 */
#include <linux/fs.h>
#include <linux/uaccess.h>

#include "cowdev.h"

/* The argument of any command, in the kernel's layout. */
union cowdev_ioctl_arg {
	u64 size;
	struct cowdev_stats stats;
	struct cowdev_pool_info pool;
	struct cowdev_page_state page_state;
	struct cowdev_swapon swapon;
	struct cowdev_diff diff;
	struct cowdev_rollback rollback;
	struct cowdev_written written;
};

struct cowdev_ioctl_desc {
	unsigned int cmd;
	size_t size_ver0;	/* smallest size a caller may pass */
	long (*handler)(struct cowdev_view *view, union cowdev_ioctl_arg *arg);
	/* Argument errors, before the answer is known writable (or NULL). */
	long (*check)(struct cowdev_view *view, union cowdev_ioctl_arg *arg);
};

static long cowdev_ioc_set_size(struct cowdev_view *view,
				union cowdev_ioctl_arg *arg)
{
	return cowdev_view_set_size(view, arg->size);
}

static long cowdev_ioc_get_size(struct cowdev_view *view,
				union cowdev_ioctl_arg *arg)
{
	arg->size = (u64)READ_ONCE(view->size_pages) << PAGE_SHIFT;
	return 0;
}

static long cowdev_ioc_get_stats(struct cowdev_view *view,
				 union cowdev_ioctl_arg *arg)
{
	cowdev_view_get_stats(view, &arg->stats);
	return 0;
}

static long cowdev_ioc_reset_stats(struct cowdev_view *view,
				   union cowdev_ioctl_arg *arg)
{
	cowdev_view_reset_stats(view);
	return 0;
}

static long cowdev_ioc_pool_info(struct cowdev_view *view,
				 union cowdev_ioctl_arg *arg)
{
	cowdev_pool_get_info(&arg->pool);
	return 0;
}

static long cowdev_ioc_clone(struct cowdev_view *view,
			     union cowdev_ioctl_arg *arg)
{
	return cowdev_clone(view);
}

static long cowdev_ioc_page_state(struct cowdev_view *view,
				  union cowdev_ioctl_arg *arg)
{
	return cowdev_page_state(view, &arg->page_state);
}

static long cowdev_ioc_swapon(struct cowdev_view *view,
			      union cowdev_ioctl_arg *arg)
{
	return cowdev_swapon(&arg->swapon);
}

static long cowdev_ioc_swapoff(struct cowdev_view *view,
			       union cowdev_ioctl_arg *arg)
{
	return cowdev_swapoff();
}

static long cowdev_ioc_set_resident_limit(struct cowdev_view *view,
					  union cowdev_ioctl_arg *arg)
{
	WRITE_ONCE(view->resident_limit, arg->size);
	return 0;
}

static long cowdev_ioc_diff(struct cowdev_view *view,
			    union cowdev_ioctl_arg *arg)
{
	return cowdev_diff(view, &arg->diff);
}

static long cowdev_ioc_diff_check(struct cowdev_view *view,
				  union cowdev_ioctl_arg *arg)
{
	return cowdev_diff_check(view, &arg->diff);
}

static long cowdev_ioc_written_check(struct cowdev_view *view,
				     union cowdev_ioctl_arg *arg)
{
	return cowdev_written_check(view, &arg->written);
}

static long cowdev_ioc_rollback(struct cowdev_view *view,
				union cowdev_ioctl_arg *arg)
{
	return cowdev_rollback(view, &arg->rollback);
}

static long cowdev_ioc_written(struct cowdev_view *view,
			       union cowdev_ioctl_arg *arg)
{
	return cowdev_written(view, &arg->written);
}

static const struct cowdev_ioctl_desc cowdev_ioctls[] = {
	{ COWDEV_IOC_SET_SIZE, sizeof(u64), cowdev_ioc_set_size },
	{ COWDEV_IOC_GET_SIZE, sizeof(u64), cowdev_ioc_get_size },
	{ COWDEV_IOC_GET_STATS, COWDEV_STATS_SIZE_VER0, cowdev_ioc_get_stats },
	{ COWDEV_IOC_RESET_STATS, 0, cowdev_ioc_reset_stats },
	{ COWDEV_IOC_POOL_INFO, COWDEV_POOL_INFO_SIZE_VER0,
	  cowdev_ioc_pool_info },
	{ COWDEV_IOC_CLONE, 0, cowdev_ioc_clone },
	{ COWDEV_IOC_PAGE_STATE, COWDEV_PAGE_STATE_SIZE_VER0,
	  cowdev_ioc_page_state },
	{ COWDEV_IOC_SWAPON, COWDEV_SWAPON_SIZE_VER0, cowdev_ioc_swapon },
	{ COWDEV_IOC_SWAPOFF, 0, cowdev_ioc_swapoff },
	{ COWDEV_IOC_SET_RESIDENT_LIMIT, sizeof(u64),
	  cowdev_ioc_set_resident_limit },
	{ COWDEV_IOC_DIFF, COWDEV_DIFF_SIZE_VER0, cowdev_ioc_diff,
	  cowdev_ioc_diff_check },
	{ COWDEV_IOC_ROLLBACK, COWDEV_ROLLBACK_SIZE_VER0, cowdev_ioc_rollback },
	{ COWDEV_IOC_WRITTEN, COWDEV_WRITTEN_SIZE_VER0, cowdev_ioc_written,
	  cowdev_ioc_written_check },
};

static const struct cowdev_ioctl_desc *cowdev_ioctl_find(unsigned int cmd)
{
	const struct cowdev_ioctl_desc *desc;

	for (desc = cowdev_ioctls; desc < cowdev_ioctls + ARRAY_SIZE(cowdev_ioctls);
	     desc++) {
		if (_IOC_TYPE(cmd) != _IOC_TYPE(desc->cmd) ||
		    _IOC_NR(cmd) != _IOC_NR(desc->cmd) ||
		    _IOC_DIR(cmd) != _IOC_DIR(desc->cmd))
			continue;
		/* Commands without an argument take no size either. */
		if (_IOC_DIR(cmd) == _IOC_NONE && _IOC_SIZE(cmd))
			return NULL;
		return desc;
	}
	return NULL;
}

/* Write @ksize bytes of @karg to a caller's struct of @usize bytes. */
static int cowdev_copy_out(void __user *uarg, size_t usize, const void *karg,
			   size_t ksize)
{
	if (copy_to_user(uarg, karg, min(usize, ksize)))
		return -EFAULT;
	if (usize > ksize && clear_user(uarg + ksize, usize - ksize))
		return -EFAULT;
	return 0;
}

long cowdev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct cowdev_view *view = cowdev_file_view(file);
	const struct cowdev_ioctl_desc *desc = cowdev_ioctl_find(cmd);
	void __user *uarg = (void __user *)arg;
	size_t usize = _IOC_SIZE(cmd);
	union cowdev_ioctl_arg karg = {};
	long ret;
	int err;

	if (!desc)
		return -ENOTTY;
	if (_IOC_DIR(cmd) != _IOC_NONE) {
		if (usize < desc->size_ver0)
			return -EINVAL;
		if (usize > PAGE_SIZE)
			return -E2BIG;
	}
	if (_IOC_DIR(cmd) & _IOC_WRITE) {
		err = copy_struct_from_user(&karg, _IOC_SIZE(desc->cmd), uarg,
					    usize);
		if (err)
			return err;
	}
	/*
	 * A command that answers in its argument must not act when the answer
	 * cannot be written back: after its argument errors, write the
	 * argument as it came (the same bytes) first.
	 */
	if (desc->check) {
		ret = desc->check(view, &karg);
		if (ret)
			return ret;
	}
	if ((_IOC_DIR(cmd) & _IOC_READ) && (_IOC_DIR(cmd) & _IOC_WRITE)) {
		err = cowdev_copy_out(uarg, usize, &karg,
				      _IOC_SIZE(desc->cmd));
		if (err)
			return err;
	}
	ret = desc->handler(view, &karg);
	if (ret < 0 || !(_IOC_DIR(cmd) & _IOC_READ))
		return ret;
	err = cowdev_copy_out(uarg, usize, &karg, _IOC_SIZE(desc->cmd));
	return err ? err : ret;
}
