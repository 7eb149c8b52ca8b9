// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev: clones (point-in-time snapshots of a view) and the page-state map.
 *
 * A clone is a new view whose slots hold the same pool pages as the source's
 * at the instant of the clone; each page's holders count says how many
 * views hold it.  Nothing is copied at clone time.  The first write through
 * either view to a shared page copies it for the writer (->page_mkwrite,
 * vm.c); a page that is no longer shared is written in place.
 *
 * Exactness: clone holds the source's lock for write, so no ->fault or
 * ->page_mkwrite of the source runs meanwhile.  It first locks and unlocks
 * every resident page, which waits for a fault that already decided to keep
 * a page and is making its pte writable (the page stays locked until then),
 * and then zaps every pte of the source view in every process.  From then on
 * every write through a shared mapping of the source faults and reaches
 * ->page_mkwrite, which sees the page shared and copies it.  Writes that
 * completed before the zap are in the snapshot; none after it are.
 *
 * A write that another kernel path prepared before the clone by pinning the
 * page (get_user_pages) and completes after it would reach both views; the
 * pin predates the snapshot, as with fork() before Linux 5.x.  cowdev does
 * not copy pinned pages at clone time.
 *
 * Marks: clone sets COWDEV_SLOT_WAS_SHARED on every page it shares, in both
 * views, and clears COWDEV_SLOT_DIRTY in the source (no page is "its own"
 * any more).  Locks: as in view.c; the source's lock, then page locks.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "cowdev.h"
#include "cowdev_trace.h"

/* Make @dst hold every page @src holds; @dst is new and unreachable. */
static int cowdev_share_slots(struct cowdev_view *src, struct cowdev_view *dst)
{
	struct cowdev_page *cp;
	unsigned long index;
	int ret = 0;

	down_write(&src->lock);
	xa_for_each(&src->slots, index, cp) {
		lock_page(cp->page);
		unlock_page(cp->page);
	}
	cowdev_view_zap(src, 0, 0, false);
	xa_for_each(&src->slots, index, cp) {
		ret = xa_err(xa_store(&dst->slots, index, cp, GFP_KERNEL));
		if (ret)
			goto out;
		cowdev_page_hold(cp);
		xa_set_mark(&dst->slots, index, COWDEV_SLOT_WAS_SHARED);
		atomic_long_inc(&dst->resident);
	}
	xa_for_each(&src->slots, index, cp) {
		xa_set_mark(&src->slots, index, COWDEV_SLOT_WAS_SHARED);
		xa_clear_mark(&src->slots, index, COWDEV_SLOT_DIRTY);
	}
	dst->size_pages = src->size_pages;
out:
	up_write(&src->lock);
	return ret;
}

/**
 * cowdev_clone() - snapshot a view into a new one
 * @src: the view to snapshot
 *
 * Return: a new O_RDWR | O_CLOEXEC fd of the clone, or a negative errno; on
 * error nothing changed.
 */
int cowdev_clone(struct cowdev_view *src)
{
	struct cowdev_view *dst;
	struct file *file;
	int fd, ret;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	dst = cowdev_view_create();
	if (IS_ERR(dst)) {
		ret = PTR_ERR(dst);
		goto err_fd;
	}
	ret = cowdev_share_slots(src, dst);
	if (ret)
		goto err_view;
	file = cowdev_view_file(dst);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_view;
	}
	cowdev_count(src, COWDEV_STAT_CLONES);
	trace_cowdev_clone(src->id, dst->id, atomic_long_read(&dst->resident));
	fd_install(fd, file);
	return fd;

err_view:
	cowdev_view_destroy(dst);
err_fd:
	put_unused_fd(fd);
	return ret;
}

static u8 cowdev_slot_state(struct cowdev_view *view, unsigned long index,
			    struct cowdev_page *cp)
{
	u8 state = COWDEV_PAGE_RESIDENT;

	if (cowdev_page_shared(cp))
		state |= COWDEV_PAGE_SHARED;
	if (xa_get_mark(&view->slots, index, COWDEV_SLOT_DIRTY))
		state |= COWDEV_PAGE_DIRTY;
	return state;
}

/*
 * Fill @map with the state of @count pages from @start, which the caller
 * checked against the size.
 */
void cowdev_fill_page_map(struct cowdev_view *view, unsigned long start,
			  unsigned long count, u8 *map)
{
	struct cowdev_page *cp;
	unsigned long index;

	memset(map, 0, count);
	down_read(&view->lock);
	xa_for_each_range(&view->slots, index, cp, start, start + count - 1)
		map[index - start] = cowdev_slot_state(view, index, cp);
	up_read(&view->lock);
}

/**
 * cowdev_page_state() - one byte of COWDEV_PAGE_* flags per page
 * @view: the view
 * @req: the range and the user buffer
 *
 * The range must lie inside the view's size.  The map is taken under the
 * view's lock into a kernel buffer and copied out after, so the user buffer
 * is written only within [buf, buf + count) and only once the request was
 * found valid.
 */
int cowdev_page_state(struct cowdev_view *view,
		      const struct cowdev_page_state *req)
{
	u64 end;
	u8 *map;
	int ret = 0;

	if (req->flags)
		return -EINVAL;
	if (check_add_overflow(req->start, req->count, &end) ||
	    end > READ_ONCE(view->size_pages))
		return -EINVAL;
	if (!req->count)
		return 0;
	map = kvmalloc(req->count, GFP_KERNEL);
	if (!map)
		return -ENOMEM;
	cowdev_fill_page_map(view, req->start, req->count, map);
	if (copy_to_user(u64_to_user_ptr(req->buf), map, req->count))
		ret = -EFAULT;
	kvfree(map);
	return ret;
}
