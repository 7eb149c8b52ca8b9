// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev: snapshots as storage systems use them - what changed between two
 * views (COWDEV_IOC_DIFF), going back to a snapshot (COWDEV_IOC_ROLLBACK)
 * and write tracking (COWDEV_IOC_WRITTEN).
 *
 * Diff compares slot entries, never bytes: two views hold the same page
 * when their slots hold the same struct cowdev_page, or the same swap
 * entry.  It takes no view lock (xa_load() and xa_for_each() use RCU; an
 * entry is compared, never dereferenced), so it is exact while neither
 * view changes, and costs time in proportion to the entries of the range.
 *
 * Rollback makes a view (the target) hold what another view of its family
 * (the snapshot) holds, at every index, and takes its size.  It is a clone
 * of the snapshot into an existing view: the snapshot is treated as
 * clone's source (its pages are waited on and its ptes zapped, so that a
 * write through it after the rollback copies), and each slot of the target
 * that changes does so as a COW break does (vm.c): under the old page's
 * lock, followed by a zap of the index, and only then is the old page let
 * go.  Writes through the target either complete before its slot changes
 * (and are lost with the old page) or fault after the zap and wait for the
 * target's lock, which rollback holds for write.  Pages of the target that
 * a process copied for a MAP_PRIVATE mapping stay that process's, as they
 * do when another process writes a file; beyond a smaller new size they go
 * too, as truncate does.  Pages of the snapshot that may be pinned are
 * copied, as clone copies them (cow.c).
 * The steps that can fail come first and change nothing that can be seen:
 * copies of pinned pages, xa_reserve() of the target's slots that are
 * holes now, and of write tracking's records.  The rest cannot fail.
 *
 * Write tracking.  ->page_mkwrite is where every pte of a view becomes
 * writable (vm.c): it sets %COWDEV_SLOT_WRITTEN on the slot before the pte
 * is made writable.  COWDEV_IOC_WRITTEN with %COWDEV_WRITTEN_CLEAR takes
 * the view's lock for write (no ->page_mkwrite runs), reads and clears the
 * marks, waits on each page's lock for a fault that set its mark and is
 * installing a writable pte, and zaps the range: every later write faults
 * and marks again.  A write that lands between the clear and the zap went
 * through a pte that was made writable before the clear, so its mark was
 * in this answer.  Pages that went away leave a hole, which carries no
 * mark: view->gone records those indices (shrink, rollback).
 * What tracking cannot see: a page pinned for writing (O_DIRECT,
 * process_vm_writev(), io_uring fixed buffers) before a clear and written
 * through the pin after it; the same hole as clone's (cow.c).
 *
 * Locks (order in cowdev.h): rollback takes the two views' locks for
 * write, the one with the lower id first, then the family's lock.  Diff
 * takes none; write tracking takes the view's lock.  This file owns no
 * state of its own.
 */
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "cowdev.h"
#include "cowdev_trace.h"

/*
 * The view of fd @fd, with a reference on its file in *@filep; EBADF for a
 * bad fd, EINVAL for a file that is not a view.
 */
static struct cowdev_view *cowdev_view_fget(int fd, struct file **filep)
{
	struct file *file = fget(fd);

	if (!file)
		return ERR_PTR(-EBADF);
	if (file->f_op != &cowdev_fops) {
		fput(file);
		return ERR_PTR(-EINVAL);
	}
	*filep = file;
	return cowdev_file_view(file);
}

/* ---- diff ---------------------------------------------------------- */

static u8 cowdev_diff_code(void *mine, void *theirs)
{
	if (!mine)
		return theirs ? COWDEV_DIFF_ONLY_OTHER : COWDEV_DIFF_HOLES;
	if (!theirs)
		return COWDEV_DIFF_ONLY_THIS;
	return mine == theirs ? COWDEV_DIFF_SAME : COWDEV_DIFF_DIFFERENT;
}

static void cowdev_diff_count(struct cowdev_diff *req, u8 code)
{
	switch (code) {
	case COWDEV_DIFF_SAME:
		req->same++;
		break;
	case COWDEV_DIFF_DIFFERENT:
		req->different++;
		break;
	case COWDEV_DIFF_ONLY_THIS:
		req->only_this++;
		break;
	case COWDEV_DIFF_ONLY_OTHER:
		req->only_other++;
		break;
	}
}

/*
 * Every index of [@first, @last] where @view or @other holds something:
 * first @view's entries, then @other's where @view has a hole.  @map (may
 * be NULL) has one zeroed byte per index from @first.
 */
static void cowdev_diff_walk(struct cowdev_view *view,
			     struct cowdev_view *other, unsigned long first,
			     unsigned long last, u8 *map,
			     struct cowdev_diff *req)
{
	unsigned long index, n = 0;
	void *entry;
	u8 code;

	xa_for_each_range(&view->slots, index, entry, first, last) {
		code = cowdev_diff_code(entry, xa_load(&other->slots, index));
		cowdev_diff_count(req, code);
		if (map)
			map[index - first] = code;
		if (!(++n % 1024))
			cond_resched();
	}
	xa_for_each_range(&other->slots, index, entry, first, last) {
		if (xa_load(&view->slots, index))
			continue;
		req->only_other++;
		if (map)
			map[index - first] = COWDEV_DIFF_ONLY_OTHER;
		if (!(++n % 1024))
			cond_resched();
	}
}

static int cowdev_diff_views(struct cowdev_view *view,
			     struct cowdev_view *other,
			     struct cowdev_diff *req)
{
	u64 end, size = max(READ_ONCE(view->size_pages),
			    READ_ONCE(other->size_pages));
	u8 *map = NULL;
	int ret = 0;

	if (check_add_overflow(req->start, req->count, &end) || end > size)
		return -EINVAL;
	req->same = req->different = req->only_this = req->only_other = 0;
	if (!req->count)
		return 0;
	if (req->buf) {
		map = kvzalloc(req->count, GFP_KERNEL);
		if (!map)
			return -ENOMEM;
	}
	cowdev_diff_walk(view, other, req->start, end - 1, map, req);
	if (map && copy_to_user(u64_to_user_ptr(req->buf), map, req->count))
		ret = -EFAULT;
	kvfree(map);
	return ret;
}

/*
 * The argument errors of COWDEV_IOC_DIFF, found before anything is done:
 * ioctl.c reports them ahead of an answer that cannot be written back.
 */
int cowdev_diff_check(struct cowdev_view *view, const struct cowdev_diff *req)
{
	struct cowdev_view *other;
	struct file *file;
	int ret = 0;
	u64 end;

	if (req->flags)
		return -EINVAL;
	other = cowdev_view_fget(req->fd, &file);
	if (IS_ERR(other))
		return PTR_ERR(other);
	if (check_add_overflow(req->start, req->count, &end) ||
	    end > max(READ_ONCE(view->size_pages),
		      READ_ONCE(other->size_pages)))
		ret = -EINVAL;
	fput(file);
	return ret;
}

/**
 * cowdev_diff() - compare @view with the view of @req->fd, page by page
 * @view: the view the ioctl was called on
 * @req: the request (uapi/linux/cowdev.h); its counts are filled in
 *
 * Return: 0, or -EINVAL (flags, range, not a view), -EBADF, -ENOMEM or
 * -EFAULT, with nothing changed.
 */
int cowdev_diff(struct cowdev_view *view, struct cowdev_diff *req)
{
	struct cowdev_view *other;
	struct file *file;
	int ret = cowdev_diff_check(view, req);

	if (ret)
		return ret;
	other = cowdev_view_fget(req->fd, &file);
	if (IS_ERR(other))
		return PTR_ERR(other);
	ret = cowdev_diff_views(view, other, req);
	if (!ret) {
		cowdev_count(view, COWDEV_STAT_DIFFS);
		trace_cowdev_diff(view->id, other->id, req->start, req->count,
				  req);
	}
	fput(file);
	return ret;
}

/* ---- write tracking's record of pages that went away ---------------- */

/*
 * Make sure cowdev_gone_mark() can record @index without allocating: a
 * reserved entry reads as NULL until it is stored to.
 */
static int cowdev_gone_reserve(struct cowdev_view *view, unsigned long index)
{
	return xa_reserve(&view->gone, index, GFP_KERNEL);
}

/* Every slot of @view at or beyond @new_size will be dropped. */
int cowdev_gone_reserve_beyond(struct cowdev_view *view,
			       unsigned long new_size)
{
	unsigned long index;
	void *entry;
	int ret;

	xa_for_each_start(&view->slots, index, entry, new_size) {
		ret = cowdev_gone_reserve(view, index);
		if (ret) {
			cowdev_gone_release_beyond(view, new_size);
			return ret;
		}
	}
	return 0;
}

/* Undo cowdev_gone_reserve_beyond(): records made before stay. */
void cowdev_gone_release_beyond(struct cowdev_view *view,
				unsigned long new_size)
{
	unsigned long index;
	void *entry;

	xa_for_each_start(&view->slots, index, entry, new_size)
		xa_release(&view->gone, index);
}

/* The page at @index went away; reserved by cowdev_gone_reserve(). */
void cowdev_gone_mark(struct cowdev_view *view, unsigned long index)
{
	WARN_ON_ONCE(xa_is_err(xa_store(&view->gone, index, xa_mk_value(1),
					GFP_NOWAIT)));
}

/* ---- rollback -------------------------------------------------------- */

/* The pages of @rb->snap that @rb->view gets as copies: index -> page. */
struct cowdev_rollback_ctx {
	struct cowdev_view *view;
	struct cowdev_view *snap;
	struct xarray copies;
	unsigned long changed;
	unsigned long copied;
};

/* Lock two views for write, the one with the lower id first. */
static void cowdev_lock_two(struct cowdev_view *a, struct cowdev_view *b)
{
	if (a->id > b->id)
		swap(a, b);
	down_write(&a->lock);
	down_write_nested(&b->lock, SINGLE_DEPTH_NESTING);
}

static void cowdev_unlock_two(struct cowdev_view *a, struct cowdev_view *b)
{
	up_write(&a->lock);
	up_write(&b->lock);
}

/* A copy of @cp for the target at @index: the snapshot's page is pinned. */
static int cowdev_rollback_copy(struct cowdev_rollback_ctx *rb,
				unsigned long index, struct cowdev_page *cp)
{
	struct cowdev_page *copy = cowdev_view_alloc_page(rb->view, false);
	int ret;

	/* No eviction here: the family's lock is held.  Pool empty. */
	if (PTR_ERR_OR_ZERO(copy) == -EAGAIN)
		return -ENOSPC;
	if (IS_ERR(copy))
		return PTR_ERR(copy);
	copy_highpage(cowdev_page_of(copy), cowdev_page_of(cp));
	ret = xa_err(xa_store(&rb->copies, index, copy, GFP_KERNEL));
	if (ret)
		cowdev_page_release(copy);
	return ret;
}

/* Undo what cowdev_rollback_prepare() did. */
static void cowdev_rollback_unprepare(struct cowdev_rollback_ctx *rb)
{
	struct cowdev_page *copy;
	unsigned long index;
	void *entry;

	xa_for_each(&rb->copies, index, copy)
		cowdev_page_release(copy);
	xa_for_each(&rb->snap->slots, index, entry)
		xa_release(&rb->view->slots, index);
	xa_for_each(&rb->view->slots, index, entry)
		xa_release(&rb->view->gone, index);
}

/*
 * Everything that can fail, before anything the target's users can see
 * changes: copies of the snapshot's pages that may be pinned, room in the
 * target's slots where it has holes, and write tracking's records where a
 * page of the target will go.  The snapshot's ptes are gone already, so
 * no new pin can reach its pages (cow.c).
 */
static int cowdev_rollback_prepare(struct cowdev_rollback_ctx *rb)
{
	struct cowdev_view *view = rb->view, *snap = rb->snap;
	unsigned long index, new_size = snap->size_pages;
	struct cowdev_page *cp;
	void *entry, *old;
	int ret = 0;

	xa_for_each(&snap->slots, index, entry) {
		old = xa_load(&view->slots, index);
		if (old == entry)
			continue;
		cp = cowdev_entry_page(entry);
		if (cp && cowdev_page_maybe_pinned(cowdev_page_of(cp)))
			ret = cowdev_rollback_copy(rb, index, cp);
		if (!ret && !old)
			ret = xa_reserve(&view->slots, index, GFP_KERNEL);
		if (ret)
			goto undo;
	}
	xa_for_each(&view->slots, index, entry) {
		if (index < new_size && xa_load(&snap->slots, index))
			continue;
		ret = cowdev_gone_reserve(view, index);
		if (ret)
			goto undo;
	}
	return 0;
undo:
	cowdev_rollback_unprepare(rb);
	return ret;
}

/*
 * The target's slot @index, which holds @old, takes @new (NULL: a hole):
 * under @old's page lock, then the index is zapped and @old let go, as a
 * COW break does (see the top).  @new was held for the target already.
 */
static void cowdev_rollback_replace(struct cowdev_rollback_ctx *rb,
				    unsigned long index, void *old, void *new)
{
	struct cowdev_view *view = rb->view;
	struct cowdev_page *old_cp = cowdev_entry_page(old);

	if (cowdev_mutant("no_rollback_page_lock"))
		old_cp = NULL;
	if (old_cp)
		lock_page(cowdev_page_of(old_cp));
	if (new)
		xa_store(&view->slots, index, new, GFP_NOWAIT);
	else
		xa_erase(&view->slots, index);
	cowdev_delay(COWDEV_DELAY_ROLLBACK);
	cowdev_view_zap(view, index, 1, false);
	if (old_cp)
		unlock_page(cowdev_page_of(old_cp));
	if (old)
		cowdev_view_drop_entry(view, old);
	if (!new)
		cowdev_gone_mark(view, index);
	rb->changed++;
}

/* The target holds @entry, the snapshot's at @index, or its copy. */
static void cowdev_rollback_take(struct cowdev_rollback_ctx *rb,
				 unsigned long index, void *entry)
{
	struct cowdev_view *view = rb->view;
	struct cowdev_page *copy = xa_load(&rb->copies, index);
	void *old = xa_load(&view->slots, index);

	if (copy) {
		entry = copy;
		rb->copied++;
		cowdev_count(rb->snap, COWDEV_STAT_PINNED_COPIES);
	} else if (xa_is_value(entry)) {
		cowdev_swap_dup(xa_to_value(entry));
	} else {
		cowdev_page_hold(entry);
	}
	cowdev_rollback_replace(rb, index, old, entry);
	if (xa_is_value(entry))
		atomic_long_inc(&view->swapped);
	else
		atomic_long_inc(&view->resident);
	if (copy) {
		cowdev_view_publish(view, index, copy);
		xa_clear_mark(&view->slots, index, COWDEV_SLOT_DIRTY);
		xa_clear_mark(&view->slots, index, COWDEV_SLOT_WAS_SHARED);
	} else {
		cowdev_share_marks(view, index);
		cowdev_share_marks(rb->snap, index);
	}
	xa_set_mark(&view->slots, index, COWDEV_SLOT_WRITTEN);
}

/* Nothing from here on can fail. */
static void cowdev_rollback_commit(struct cowdev_rollback_ctx *rb)
{
	struct cowdev_view *view = rb->view, *snap = rb->snap;
	unsigned long index, new_size = snap->size_pages;
	void *entry;

	if (new_size < view->size_pages)
		rb->changed += cowdev_view_shrink_locked(view, new_size);
	xa_for_each(&snap->slots, index, entry) {
		if (xa_load(&view->slots, index) != entry)
			cowdev_rollback_take(rb, index, entry);
	}
	xa_for_each(&view->slots, index, entry) {
		if (!xa_load(&snap->slots, index))
			cowdev_rollback_replace(rb, index, entry, NULL);
	}
	WRITE_ONCE(view->size_pages, new_size);
}

static int cowdev_rollback_views(struct cowdev_view *view,
				 struct cowdev_view *snap)
{
	struct cowdev_rollback_ctx rb = { .view = view, .snap = snap };
	unsigned long old_size;
	int ret;

	xa_init(&rb.copies);
	cowdev_lock_two(view, snap);
	old_size = view->size_pages;
	/* The snapshot, as clone's source: its pages become shared. */
	cowdev_view_wait_pages(snap, 0, ULONG_MAX);
	cowdev_view_zap(snap, 0, 0, false);
	mutex_lock(&view->family->lock);
	ret = cowdev_rollback_prepare(&rb);
	if (!ret)
		cowdev_rollback_commit(&rb);
	mutex_unlock(&view->family->lock);
	cowdev_unlock_two(view, snap);
	xa_destroy(&rb.copies);
	if (ret)
		return ret;
	cowdev_count(view, COWDEV_STAT_ROLLBACKS);
	cowdev_count_add(view, COWDEV_STAT_ROLLBACK_PAGES, rb.changed);
	trace_cowdev_rollback(view->id, snap->id, old_size, snap->size_pages,
			      rb.changed, rb.copied);
	return 0;
}

/**
 * cowdev_rollback() - make @view hold what the view of @req->fd holds
 * @view: the view the ioctl was called on
 * @req: the request (uapi/linux/cowdev.h)
 *
 * Return: 0, or -EINVAL (flags, not a view, @view itself), -EBADF, -EXDEV
 * (another family), -ENOMEM or -ENOSPC (no page for a copy of a pinned
 * page), with nothing changed.
 */
int cowdev_rollback(struct cowdev_view *view,
		    const struct cowdev_rollback *req)
{
	struct cowdev_view *snap;
	struct file *file;
	int ret;

	if (req->flags)
		return -EINVAL;
	snap = cowdev_view_fget(req->fd, &file);
	if (IS_ERR(snap))
		return PTR_ERR(snap);
	if (snap == view)
		ret = -EINVAL;
	else if (snap->family != view->family)
		ret = -EXDEV;
	else
		ret = cowdev_rollback_views(view, snap);
	fput(file);
	return ret;
}

/* ---- write tracking --------------------------------------------------- */

/*
 * Set bit @index - @first of @bits for each written page of [@first,
 * @last], clearing the records if @clear: the pages that went away, then
 * the marked slots (a page can be both).  The slots' marks are read under
 * the xarray's lock, which is dropped now and then on a long walk.
 */
static void cowdev_written_collect(struct cowdev_view *view,
				   unsigned long first, unsigned long last,
				   unsigned long *bits, bool clear)
{
	XA_STATE(xas, &view->slots, first);
	unsigned long index, n = 0;
	void *entry;

	xa_for_each_range(&view->gone, index, entry, first, last) {
		__set_bit_le(index - first, bits);
		if (clear)
			xa_erase(&view->gone, index);
	}
	xas_lock(&xas);
	xas_for_each_marked(&xas, entry, last, COWDEV_SLOT_WRITTEN) {
		__set_bit_le(xas.xa_index - first, bits);
		if (clear)
			xas_clear_mark(&xas, COWDEV_SLOT_WRITTEN);
		if (++n % 1024)
			continue;
		xas_pause(&xas);
		xas_unlock(&xas);
		cond_resched();
		xas_lock(&xas);
	}
	xas_unlock(&xas);
}

/*
 * Add COWDEV_PAGE_WRITTEN to a page-state map of @count pages from @start
 * (COWDEV_PAGE_STATE_WRITTEN).  The caller holds the view's lock.
 */
void cowdev_written_fill_map(struct cowdev_view *view, unsigned long start,
			     unsigned long count, u8 *map)
{
	unsigned long last = start + count - 1, index;
	void *entry;

	xa_for_each_range(&view->slots, index, entry, start, last)
		if (xa_get_mark(&view->slots, index, COWDEV_SLOT_WRITTEN))
			map[index - start] |= COWDEV_PAGE_WRITTEN;
	xa_for_each_range(&view->gone, index, entry, start, last)
		map[index - start] |= COWDEV_PAGE_WRITTEN;
}

/*
 * Read the bits of [@first, @last]; with @clear, clear them and re-arm:
 * wait for faults that are making a pte writable, then zap the range.
 */
static void cowdev_written_range(struct cowdev_view *view,
				 unsigned long first, unsigned long last,
				 unsigned long *bits, bool clear)
{
	if (!clear) {
		down_read(&view->lock);
		cowdev_written_collect(view, first, last, bits, false);
		up_read(&view->lock);
		return;
	}
	down_write(&view->lock);
	cowdev_written_collect(view, first, last, bits, true);
	cowdev_delay(COWDEV_DELAY_WRITTEN_CLEAR);
	if (!cowdev_mutant("no_written_clear_page_wait"))
		cowdev_view_wait_pages(view, first, last);
	cowdev_view_zap(view, first, last - first + 1, false);
	up_write(&view->lock);
}

/* The argument errors of COWDEV_IOC_WRITTEN (see cowdev_diff_check()). */
int cowdev_written_check(struct cowdev_view *view,
			 const struct cowdev_written *req)
{
	u64 end;

	if (req->flags & ~(u64)COWDEV_WRITTEN_CLEAR)
		return -EINVAL;
	if (check_add_overflow(req->start, req->count, &end) ||
	    end > READ_ONCE(view->size_pages))
		return -EINVAL;
	return 0;
}

/**
 * cowdev_written() - which pages of a range were written since the last
 *	re-arm, and re-arm
 * @view: the view
 * @req: the request (uapi/linux/cowdev.h); @req->written is filled in
 *
 * Return: 0, or -EINVAL (flags, range), -ENOMEM or -EFAULT, with nothing
 * changed: the buffer is written (zeros) before the bits are read, so a
 * bad one fails first.  Only a buffer that another thread unmaps while the
 * call runs can still fail the copy after a clear; those bits are lost.
 */
int cowdev_written(struct cowdev_view *view, struct cowdev_written *req)
{
	bool clear = req->flags & COWDEV_WRITTEN_CLEAR;
	unsigned long *bits = NULL;
	int ret = cowdev_written_check(view, req);
	u64 end = req->start + req->count;

	if (ret)
		return ret;
	req->written = 0;
	/* A buffer that cannot take the answer fails before anything clears. */
	if (req->buf && req->count &&
	    clear_user(u64_to_user_ptr(req->buf), DIV_ROUND_UP(req->count, 8)))
		return -EFAULT;
	if (req->count) {
		bits = kvcalloc(BITS_TO_LONGS(req->count), sizeof(long),
				GFP_KERNEL);
		if (!bits)
			return -ENOMEM;
		cowdev_written_range(view, req->start, end - 1, bits, clear);
		req->written = bitmap_weight(bits, req->count);
	}
	/* Only (count + 7) / 8 bytes go out: bits beyond count are 0. */
	if (bits && req->buf &&
	    copy_to_user(u64_to_user_ptr(req->buf), bits,
			 DIV_ROUND_UP(req->count, 8)))
		ret = -EFAULT;
	kvfree(bits);
	if (ret)
		return ret;
	cowdev_count(view, COWDEV_STAT_WRITTEN_QUERIES);
	if (clear)
		cowdev_count(view, COWDEV_STAT_WRITTEN_CLEARS);
	trace_cowdev_written(view->id, req->start, req->count, req->written,
			     clear);
	return ret;
}
