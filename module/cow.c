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
 * Writes by other kernel paths.  A path that pins with FOLL_PIN and writes
 * later (process_vm_writev(), O_DIRECT reads into the mapping, io_uring
 * fixed buffers, RDMA) may have pinned a page of the source before the
 * clone and write it after.  Such pages (folio_maybe_dma_pinned(), checked
 * after the zap, when no new pin can reach the source: a pin starts from a
 * pte, and a write pin through a clone's mapping would break COW first) are
 * copied for the clone at clone time, as fork() does for pinned anonymous
 * pages: the source keeps the pinned page, so the late write lands in the
 * source and the clone holds the contents of the instant of the clone.
 * Counted in the source's pinned_copies.  What remains: FOLL_GET users that
 * look a page up and copy to it without a pin (/proc/PID/mem, ptrace
 * POKEDATA: get_user_pages() then a copy under mmap_lock, no sleep in
 * between) leave a window of a few instructions in which a clone can share
 * the page: a write that lands after such a clone is seen by the clone
 * too, and not by the source if the source broke COW in between.  Their
 * reference cannot be told from a pte's, so they are not copied.
 *
 * Swapped-out pages are shared the same way: the clone's slot holds the
 * same swap entry, and one page-in brings the page back for both (swap.c).
 *
 * Marks: clone sets COWDEV_SLOT_WAS_SHARED on every page it shares, in both
 * views, and clears COWDEV_SLOT_DIRTY in the source (no page is "its own"
 * any more).  Locks (order in cowdev.h): the source's lock, then page locks,
 * then the family's lock while the slots are shared.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>

#include "cowdev.h"
#include "cowdev_trace.h"

/*
 * May a pin (FOLL_PIN) on @page complete a write after the clone?  Then the
 * clone gets a copy and the source keeps the page, as fork() copies pinned
 * anonymous pages: the write lands in the view it was aimed at.
 */
bool cowdev_page_maybe_pinned(struct page *page)
{
	return folio_maybe_dma_pinned(page_folio(page));
}

/* Give @dst its own copy of @cp at @index (a page that may be pinned). */
static int cowdev_clone_copy(struct cowdev_view *src, struct cowdev_view *dst,
			     unsigned long index, struct cowdev_page *cp)
{
	struct cowdev_page *copy = cowdev_view_store_copy(dst, index, cp);

	/* No eviction here: the family's lock is held.  Pool empty. */
	if (PTR_ERR_OR_ZERO(copy) == -EAGAIN)
		return -ENOSPC;
	if (IS_ERR(copy))
		return PTR_ERR(copy);
	atomic_long_inc(&dst->resident);
	cowdev_count(src, COWDEV_STAT_PINNED_COPIES);
	return 0;
}

/*
 * Make @dst hold what @src holds at @index: the page, or the swap entry of
 * a page that was evicted.
 */
static int cowdev_clone_share(struct cowdev_view *dst, unsigned long index,
			      void *entry)
{
	int ret = xa_err(xa_store(&dst->slots, index, entry, GFP_KERNEL));

	if (ret)
		return ret;
	if (xa_is_value(entry)) {
		cowdev_swap_dup(xa_to_value(entry));
		atomic_long_inc(&dst->swapped);
	} else {
		cowdev_page_hold(entry);
		atomic_long_inc(&dst->resident);
	}
	xa_set_mark(&dst->slots, index, COWDEV_SLOT_WAS_SHARED);
	return 0;
}

/*
 * @view's page at @index is shared from now on, and no longer its own:
 * marks as clone sets them on its source (see the top).
 */
void cowdev_share_marks(struct cowdev_view *view, unsigned long index)
{
	xa_set_mark(&view->slots, index, COWDEV_SLOT_WAS_SHARED);
	xa_clear_mark(&view->slots, index, COWDEV_SLOT_DIRTY);
}

/*
 * Fill @dst (new and unreachable) with the contents of @src: every page is
 * shared, except pages that may be pinned, which are copied.  Only after
 * all of it succeeded are the source's marks changed, so on error the
 * source is as it was (its ptes are zapped, which it does not notice).
 */
static int cowdev_share_slots(struct cowdev_view *src, struct cowdev_view *dst)
{
	struct cowdev_page *cp;
	unsigned long index;
	void *entry;
	int ret = 0;

	down_write(&src->lock);
	if (!cowdev_mutant("no_clone_page_wait"))
		cowdev_view_wait_pages(src, 0, ULONG_MAX);
	cowdev_delay(COWDEV_DELAY_CLONE);
	/* After the zap no new pin can reach the source's pages (see top). */
	cowdev_view_zap(src, 0, 0, false);
	/* Eviction and page-in change slots under the family's lock. */
	mutex_lock(&src->family->lock);
	xa_for_each(&src->slots, index, entry) {
		cp = cowdev_entry_page(entry);
		if (cp && cowdev_page_maybe_pinned(cowdev_page_of(cp)))
			ret = cowdev_clone_copy(src, dst, index, cp);
		else
			ret = cowdev_clone_share(dst, index, entry);
		if (ret)
			goto out;
	}
	xa_for_each(&src->slots, index, entry) {
		if (xa_load(&dst->slots, index) != entry)
			continue;	/* copied: still the source's own */
		cowdev_share_marks(src, index);
	}
	WRITE_ONCE(dst->size_pages, src->size_pages);
out:
	mutex_unlock(&src->family->lock);
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
	dst = cowdev_view_create(src);
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
