// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev: views, their files and their lifetime.
 *
 * A view is one file: each open() of /dev/cowdev makes a new empty memory
 * object seen through one view, and COWDEV_IOC_CLONE makes a new view that
 * starts as a snapshot of another (cow.c).  Views share pool pages, never
 * slots.
 *
 * The rules of struct cowdev_view, field by field, are its kernel-doc in
 * cowdev.h.  This file also owns the list of live views (cowdev_views,
 * under cowdev_views_lock, a mutex) and the page-state map of a view
 * (COWDEV_IOC_PAGE_STATE and debugfs), read under the view's lock.
 *
 * Families: a view opened from /dev/cowdev starts a family, and every clone
 * joins its source's (struct cowdev_family, cowdev.h).  Pages are shared
 * only within a family and always at the same index, so the family's list
 * of views is the reverse map that eviction and page-in walk (reclaim.c,
 * swap.c).  A family is freed with its last view.
 *
 * Lifetime: a view belongs to its file.  Every VMA of a mapping holds the
 * file, so ->release runs when the last fd is closed and the last mapping is
 * gone; only then does the view release its pages (cowdev_view_destroy()).
 * Each view pins the pseudo filesystem; the misc device's open() and every
 * clone file hold a module reference, so rmmod is refused while a view
 * lives.
 *
 * Lock order: cowdev.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/pseudo_fs.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "cowdev.h"
#include "cowdev_trace.h"

#define COWDEV_FS_MAGIC 0x636f7764	/* "cowd" */

static LIST_HEAD(cowdev_views);
static DEFINE_MUTEX(cowdev_views_lock);
static long cowdev_nr_views;		/* under cowdev_views_lock */
static atomic64_t cowdev_next_view_id = ATOMIC64_INIT(0);

static struct vfsmount *cowdev_mnt;
static int cowdev_mnt_count;

static int cowdev_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, COWDEV_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type cowdev_fs_type = {
	.name = "cowdev",
	.owner = THIS_MODULE,
	.init_fs_context = cowdev_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

long cowdev_views_count(void)
{
	long nr;

	mutex_lock(&cowdev_views_lock);
	nr = cowdev_nr_views;
	mutex_unlock(&cowdev_views_lock);
	return nr;
}

/* The debugfs "views" table: one line per live view. */
void cowdev_views_show(struct seq_file *m)
{
	struct cowdev_view *view;
	struct cowdev_stats st;

	seq_puts(m, "id pid size_pages resident shared faults map_pages_calls map_pages_mapped mkwrite zero_maps demand_allocs private_cow sigbus pool_failures cow_copies cow_reuses clones limit_failures pinned_copies major_faults page_ins page_outs evictions swapped resident_limit\n");
	mutex_lock(&cowdev_views_lock);
	list_for_each_entry(view, &cowdev_views, node) {
		cowdev_view_get_stats(view, &st);
		seq_printf(m, "%llu %d %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   st.view_id, view->owner_pid, st.size_pages,
			   st.resident_pages, st.shared_pages, st.faults,
			   st.map_pages_calls, st.map_pages_mapped, st.mkwrite,
			   st.zero_maps, st.demand_allocs, st.private_cow,
			   st.sigbus, st.pool_failures, st.cow_copies,
			   st.cow_reuses, st.clones);
		seq_printf(m, " %llu %llu %llu %llu %llu %llu %llu %llu\n",
			   st.limit_failures, st.pinned_copies,
			   st.major_faults, st.page_ins, st.page_outs,
			   st.evictions, st.swapped_pages, st.resident_limit);
	}
	mutex_unlock(&cowdev_views_lock);
}

static struct cowdev_family *cowdev_family_new(void)
{
	struct cowdev_family *family = kzalloc(sizeof(*family), GFP_KERNEL);

	if (!family)
		return NULL;
	mutex_init(&family->lock);
	INIT_LIST_HEAD(&family->views);
	refcount_set(&family->ref, 1);
	return family;
}

void cowdev_family_put(struct cowdev_family *family)
{
	if (!refcount_dec_and_test(&family->ref))
		return;
	WARN_ON(!list_empty(&family->views));
	mutex_destroy(&family->lock);
	kfree(family);
}

/* @view joins @relative's family, or starts one. */
static int cowdev_view_join(struct cowdev_view *view,
			    struct cowdev_view *relative)
{
	struct cowdev_family *family;

	if (relative) {
		family = relative->family;
		refcount_inc(&family->ref);
	} else {
		family = cowdev_family_new();
		if (!family)
			return -ENOMEM;
	}
	mutex_lock(&family->lock);
	list_add_tail(&view->family_node, &family->views);
	mutex_unlock(&family->lock);
	view->family = family;
	return 0;
}

/*
 * A new empty view with its own address_space, in @relative's family (a
 * clone) or in a new one (NULL).
 */
struct cowdev_view *cowdev_view_create(struct cowdev_view *relative)
{
	struct cowdev_view *view;
	int ret;

	view = kzalloc(sizeof(*view), GFP_KERNEL);
	if (!view)
		return ERR_PTR(-ENOMEM);
	view->stats = alloc_percpu(struct cowdev_view_stats);
	if (!view->stats) {
		ret = -ENOMEM;
		goto err_free;
	}
	mutex_init(&view->stats_lock);
	ret = simple_pin_fs(&cowdev_fs_type, &cowdev_mnt, &cowdev_mnt_count);
	if (ret)
		goto err_free;
	view->user = cowdev_user_get();
	if (IS_ERR(view->user)) {
		ret = PTR_ERR(view->user);
		goto err_unpin;
	}
	view->inode = alloc_anon_inode(cowdev_mnt->mnt_sb);
	if (IS_ERR(view->inode)) {
		ret = PTR_ERR(view->inode);
		goto err_unpin;
	}
	init_rwsem(&view->lock);
	xa_init(&view->slots);
	xa_init(&view->gone);
	ret = cowdev_view_join(view, relative);
	if (ret)
		goto err_iput;
	view->id = atomic64_inc_return(&cowdev_next_view_id);
	view->owner_pid = task_tgid_nr(current);
	cowdev_debugfs_add_view(view);
	mutex_lock(&cowdev_views_lock);
	list_add_tail(&view->node, &cowdev_views);
	cowdev_nr_views++;
	mutex_unlock(&cowdev_views_lock);
	return view;

err_iput:
	iput(view->inode);
err_unpin:
	simple_release_fs(&cowdev_mnt, &cowdev_mnt_count);
err_free:
	free_percpu(view->stats);
	kfree(view);
	return ERR_PTR(ret);
}

/*
 * A slot of @view lets go of @entry (a page or a swap entry).  Called with
 * the family's lock, or for a page the caller otherwise keeps still.
 */
void cowdev_view_drop_entry(struct cowdev_view *view, void *entry)
{
	if (xa_is_value(entry)) {
		atomic_long_dec(&view->swapped);
		cowdev_swap_put(xa_to_value(entry));
		return;
	}
	atomic_long_dec(&view->resident);
	cowdev_page_release(entry);
}

/* Release every page of a view that nothing maps any more, and free it. */
void cowdev_view_destroy(struct cowdev_view *view)
{
	struct cowdev_family *family = view->family;
	unsigned long index;
	void *entry;

	/*
	 * Swap entries go before the view leaves the list of views, so that
	 * swapoff, which reads back what it finds on that list, never
	 * detaches the area while a view still holds a slot.
	 */
	mutex_lock(&family->lock);
	list_del(&view->family_node);
	xa_for_each(&view->slots, index, entry) {
		xa_erase(&view->slots, index);
		cowdev_view_drop_entry(view, entry);
	}
	mutex_unlock(&family->lock);

	mutex_lock(&cowdev_views_lock);
	list_del(&view->node);
	cowdev_nr_views--;
	mutex_unlock(&cowdev_views_lock);
	cowdev_debugfs_remove_view(view);
	/* Until here swapoff's walk may look at the view, and its family. */
	cowdev_family_put(family);
	xa_destroy(&view->slots);
	xa_destroy(&view->gone);
	iput(view->inode);
	simple_release_fs(&cowdev_mnt, &cowdev_mnt_count);
	free_percpu(view->stats);
	kfree(view);
}

/*
 * A file for a view made by clone.  The pseudo file takes its own inode
 * reference; fput() drops the module reference that open() would have
 * taken, so take one here.
 */
struct file *cowdev_view_file(struct cowdev_view *view)
{
	struct file *file;

	ihold(view->inode);
	file = alloc_file_pseudo(view->inode, cowdev_mnt, "cowdev", O_RDWR,
				 &cowdev_fops);
	if (IS_ERR(file)) {
		iput(view->inode);
		return file;
	}
	__module_get(THIS_MODULE);
	file->private_data = view;
	return file;
}

/* Zap this view's ptes for @nr pages from @start in every process. */
void cowdev_view_zap(struct cowdev_view *view, pgoff_t start, pgoff_t nr,
		     bool even_cows)
{
	unmap_mapping_range(view->inode->i_mapping,
			    (loff_t)start << PAGE_SHIFT,
			    (loff_t)nr << PAGE_SHIFT, even_cows);
}

/*
 * Must @view evict one of its own pages before it takes another?  It is at
 * its resident limit, and has no pass: when all its pages were busy (pinned,
 * or faulted on) and none could be evicted, cowdev_make_room() gives the
 * view one page over its limit (@over_limit) rather than a SIGBUS.
 */
bool cowdev_view_at_limit(struct cowdev_view *view)
{
	u64 limit = READ_ONCE(view->resident_limit);

	if (!limit || atomic_long_read(&view->resident) < limit)
		return false;
	return !atomic_add_unless(&view->over_limit, -1, 0);
}

/*
 * A new pool page for @view, charged to its user.  @grows: the page fills
 * a hole, so it adds to the view's resident pages (the view's resident
 * limit applies) and comes zeroed; else it is a copy, which replaces a
 * page and is overwritten whole, so it is not zeroed first.
 * Return: the page, ERR_PTR(-EDQUOT) when the user is at its limit,
 * ERR_PTR(-EAGAIN) when a page must be evicted first (cowdev_make_room(),
 * without the view's lock), or ERR_PTR(-ENOSPC) when the pool is empty or
 * the view at its limit and there is no swap area.
 */
struct cowdev_page *cowdev_view_alloc_page(struct cowdev_view *view,
					   bool grows)
{
	struct cowdev_page *cp;

	if (grows && cowdev_view_at_limit(view))
		return ERR_PTR(cowdev_swap_usable() ? -EAGAIN : -ENOSPC);
	/* Pages of this user that wait in limbo may be free by now. */
	if (!cowdev_user_charge(view->user) &&
	    (!cowdev_pool_reap() || !cowdev_user_charge(view->user)))
		return ERR_PTR(-EDQUOT);
	/* An injected failure is an empty pool with nothing to evict. */
	if (cowdev_should_fail(COWDEV_FAIL_ALLOC, view->id)) {
		cowdev_user_uncharge(view->user);
		cowdev_pool_alloc_failed(true);
		return ERR_PTR(-ENOSPC);
	}
	cp = cowdev_pool_alloc(grows);
	if (!cp) {
		cowdev_user_uncharge(view->user);
		if (cowdev_swap_usable())
			return ERR_PTR(-EAGAIN);
		cowdev_pool_alloc_failed(false);
		return ERR_PTR(-ENOSPC);
	}
	cp->origin = view->id;
	cp->user = cowdev_user_id(view->user);
	return cp;
}

/*
 * @cp was just stored in @view's slot @index: it is loaded, and may be
 * evicted from now on.
 */
void cowdev_view_publish(struct cowdev_view *view, pgoff_t index,
			 struct cowdev_page *cp)
{
	cowdev_page_set_owner(cp, view->family, index);
	cowdev_lru_add(cp);
}

/*
 * Store a new copy of @cp, charged to @view's user, in @view's slot @index:
 * a COW break, or a clone's copy of a page that may be pinned.  The caller
 * keeps @cp's slot stable and releases what the slot held before, if
 * anything.
 * Return: the copy, or an ERR_PTR of cowdev_view_alloc_page() or the
 * xarray.
 */
struct cowdev_page *cowdev_view_store_copy(struct cowdev_view *view,
					   pgoff_t index,
					   struct cowdev_page *cp)
{
	struct cowdev_page *copy = cowdev_view_alloc_page(view, false);
	int err;

	if (IS_ERR(copy))
		return copy;
	copy_highpage(cowdev_page_of(copy), cowdev_page_of(cp));
	err = xa_err(xa_store(&view->slots, index, copy, GFP_KERNEL));
	if (err) {
		cowdev_page_release(copy);
		return ERR_PTR(err);
	}
	cowdev_view_publish(view, index, copy);
	trace_cowdev_cow(view->id, cp->origin, index,
			 page_to_pfn(cowdev_page_of(cp)),
			 page_to_pfn(cowdev_page_of(copy)));
	return copy;
}

/*
 * Lock and unlock every resident page of @view from index @first to @last:
 * waits for each fault that decided to keep a page and holds it locked
 * until core mm has installed its pte (vm.c).
 */
void cowdev_view_wait_pages(struct cowdev_view *view, unsigned long first,
			    unsigned long last)
{
	struct cowdev_page *cp;
	unsigned long index;
	void *entry;

	xa_for_each_range(&view->slots, index, entry, first, last) {
		cp = cowdev_entry_page(entry);
		if (!cp)
			continue;
		lock_page(cowdev_page_of(cp));
		unlock_page(cowdev_page_of(cp));
	}
}

/**
 * cowdev_view_shrink_locked() - drop every slot at or beyond @new_size
 * @view: the view, its lock held for write and its family's lock held
 * @new_size: the new size in pages, below the current one
 *
 * The size is lowered first, so no fault maps those pages again; waiting
 * on each page's lock waits for a fault that checked the old size and is
 * installing its pte, and the zero page's lock waits the same way for a
 * MAP_PRIVATE write to a hole that core mm is copying (vm.c); then the
 * ptes go (private copies too, as truncate does) and last the pages.  Each
 * index that held a page is recorded for write tracking; the caller
 * reserved those records (cowdev_gone_reserve_beyond()).
 *
 * Return: the number of slots dropped.
 */
unsigned long cowdev_view_shrink_locked(struct cowdev_view *view,
					unsigned long new_size)
{
	unsigned long old_size = view->size_pages, index, dropped = 0;
	void *entry;

	WRITE_ONCE(view->size_pages, new_size);
	cowdev_delay(COWDEV_DELAY_SHRINK);
	if (!cowdev_mutant("no_shrink_page_wait"))
		cowdev_view_wait_pages(view, new_size, ULONG_MAX);
	if (!cowdev_mutant("no_shrink_zero_wait")) {
		lock_page(cowdev_page_of(cowdev_zero_page()));
		unlock_page(cowdev_page_of(cowdev_zero_page()));
	}
	cowdev_view_zap(view, new_size, old_size - new_size, true);
	cowdev_delay(COWDEV_DELAY_SHRINK_ZAPPED);
	xa_for_each_start(&view->slots, index, entry, new_size) {
		xa_erase(&view->slots, index);
		cowdev_gone_mark(view, index);
		cowdev_view_drop_entry(view, entry);
		dropped++;
	}
	return dropped;
}

/*
 * Shrinking needs write tracking's records first (the only step that can
 * fail); eviction or a page-in may change the slots beyond the size until
 * the family's lock is held.
 */
static int cowdev_view_shrink(struct cowdev_view *view, unsigned long new_size)
{
	int ret = cowdev_gone_reserve_beyond(view, new_size);

	if (ret)
		return ret;
	mutex_lock(&view->family->lock);
	cowdev_view_shrink_locked(view, new_size);
	mutex_unlock(&view->family->lock);
	return 0;
}

int cowdev_view_set_size(struct cowdev_view *view, u64 bytes)
{
	u64 pages = DIV_ROUND_UP_ULL(bytes, PAGE_SIZE);
	int ret = 0;

	if (bytes > (u64)cowdev_max_object_pages << PAGE_SHIFT)
		return -EFBIG;
	down_write(&view->lock);
	if (pages < view->size_pages)
		ret = cowdev_view_shrink(view, pages);
	else
		WRITE_ONCE(view->size_pages, pages);
	up_write(&view->lock);
	return ret;
}

/* The counters since the last reset, into @c.  Called with stats_lock. */
static void cowdev_stats_sum(struct cowdev_view *view, u64 *c)
{
	int cpu, i;

	lockdep_assert_held(&view->stats_lock);
	for (i = 0; i < COWDEV_NR_STATS; i++)
		c[i] = -view->stats_base[i];
	for_each_possible_cpu(cpu) {
		struct cowdev_view_stats *pcp = per_cpu_ptr(view->stats, cpu);

		for (i = 0; i < COWDEV_NR_STATS; i++)
			c[i] += READ_ONCE(pcp->count[i]);
	}
}

void cowdev_view_get_stats(struct cowdev_view *view, struct cowdev_stats *st)
{
	u64 c[COWDEV_NR_STATS];
	struct cowdev_page *cp;
	unsigned long index;
	u64 shared = 0;
	void *entry;

	rcu_read_lock();
	xa_for_each(&view->slots, index, entry) {
		cp = cowdev_entry_page(entry);
		shared += cp && cowdev_page_shared(cp);
	}
	rcu_read_unlock();

	mutex_lock(&view->stats_lock);
	cowdev_stats_sum(view, c);
	mutex_unlock(&view->stats_lock);
	st->faults = c[COWDEV_STAT_FAULTS];
	st->map_pages_calls = c[COWDEV_STAT_MAP_PAGES_CALLS];
	st->map_pages_mapped = c[COWDEV_STAT_MAP_PAGES_MAPPED];
	st->mkwrite = c[COWDEV_STAT_MKWRITE];
	st->zero_maps = c[COWDEV_STAT_ZERO_MAPS];
	st->demand_allocs = c[COWDEV_STAT_DEMAND_ALLOCS];
	st->private_cow = c[COWDEV_STAT_PRIVATE_COW];
	st->sigbus = c[COWDEV_STAT_SIGBUS];
	st->pool_failures = c[COWDEV_STAT_POOL_FAILURES];
	st->cow_copies = c[COWDEV_STAT_COW_COPIES];
	st->cow_reuses = c[COWDEV_STAT_COW_REUSES];
	st->clones = c[COWDEV_STAT_CLONES];
	st->limit_failures = c[COWDEV_STAT_LIMIT_FAILURES];
	st->pinned_copies = c[COWDEV_STAT_PINNED_COPIES];
	st->major_faults = c[COWDEV_STAT_MAJOR_FAULTS];
	st->page_ins = c[COWDEV_STAT_PAGE_INS];
	st->page_outs = c[COWDEV_STAT_PAGE_OUTS];
	st->evictions = c[COWDEV_STAT_EVICTIONS];
	st->diffs = c[COWDEV_STAT_DIFFS];
	st->rollbacks = c[COWDEV_STAT_ROLLBACKS];
	st->rollback_pages = c[COWDEV_STAT_ROLLBACK_PAGES];
	st->written_queries = c[COWDEV_STAT_WRITTEN_QUERIES];
	st->written_clears = c[COWDEV_STAT_WRITTEN_CLEARS];
	st->swapped_pages = atomic_long_read(&view->swapped);
	st->resident_limit = READ_ONCE(view->resident_limit);
	st->resident_pages = atomic_long_read(&view->resident);
	st->shared_pages = shared;
	st->size_pages = READ_ONCE(view->size_pages);
	st->view_id = view->id;
}

/*
 * A reset moves the base to the current sums: another CPU's counter is
 * never written from here, so no count racing with a reset is lost.
 */
void cowdev_view_reset_stats(struct cowdev_view *view)
{
	u64 c[COWDEV_NR_STATS];
	int i;

	mutex_lock(&view->stats_lock);
	cowdev_stats_sum(view, c);
	for (i = 0; i < COWDEV_NR_STATS; i++)
		view->stats_base[i] += c[i];
	mutex_unlock(&view->stats_lock);
}

static u8 cowdev_slot_state(struct cowdev_view *view, unsigned long index,
			    void *entry)
{
	struct cowdev_page *cp = cowdev_entry_page(entry);
	u8 state;

	if (cp) {
		state = COWDEV_PAGE_RESIDENT;
		if (cowdev_page_shared(cp))
			state |= COWDEV_PAGE_SHARED;
	} else {
		state = COWDEV_PAGE_SWAPPED;
		if (cowdev_swap_count(xa_to_value(entry)) > 1)
			state |= COWDEV_PAGE_SHARED;
	}
	if (xa_get_mark(&view->slots, index, COWDEV_SLOT_DIRTY))
		state |= COWDEV_PAGE_DIRTY;
	return state;
}

/*
 * Fill @map with the state of @count pages from @start, which the caller
 * checked against the size, with COWDEV_PAGE_WRITTEN if @written.  @count
 * may be 0 (then nothing is written: the range below would wrap).
 */
void cowdev_fill_page_map(struct cowdev_view *view, unsigned long start,
			  unsigned long count, u8 *map, bool written)
{
	unsigned long index;
	void *entry;

	if (!count)
		return;
	memset(map, 0, count);
	down_read(&view->lock);
	xa_for_each_range(&view->slots, index, entry, start, start + count - 1)
		map[index - start] = cowdev_slot_state(view, index, entry);
	if (written)
		cowdev_written_fill_map(view, start, count, map);
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

	if (req->flags & ~(u64)COWDEV_PAGE_STATE_WRITTEN)
		return -EINVAL;
	if (check_add_overflow(req->start, req->count, &end) ||
	    end > READ_ONCE(view->size_pages))
		return -EINVAL;
	if (!req->count)
		return 0;
	map = kvmalloc(req->count, GFP_KERNEL | __GFP_NOWARN);
	if (!map)
		return -ENOMEM;
	cowdev_fill_page_map(view, req->start, req->count, map,
			     req->flags & COWDEV_PAGE_STATE_WRITTEN);
	if (copy_to_user(u64_to_user_ptr(req->buf), map, req->count))
		ret = -EFAULT;
	kvfree(map);
	return ret;
}

/*
 * swapoff: bring every swapped-out page of every view back into the pool.
 * Evictions are stopped.  Return: 0, or the first page-in's error.
 */
int cowdev_views_swap_in_all(void)
{
	struct cowdev_view *view;
	unsigned long index;
	void *entry;
	int err = 0;

	mutex_lock(&cowdev_views_lock);
	list_for_each_entry(view, &cowdev_views, node) {
		down_read(&view->lock);
		xa_for_each(&view->slots, index, entry) {
			if (!xa_is_value(entry))
				continue;
			err = cowdev_swap_in(view, index, entry, false);
			if (err < 0)
				break;
			err = 0;
		}
		up_read(&view->lock);
		if (err)
			break;
	}
	mutex_unlock(&cowdev_views_lock);
	return err;
}

/*
 * Every use of a view needs both directions (a shared mapping that can be
 * written, clones that are O_RDWR), so a view is only ever opened O_RDWR.
 */
static int cowdev_open(struct inode *inode, struct file *file)
{
	struct cowdev_view *view;

	if ((file->f_flags & O_ACCMODE) != O_RDWR)
		return -EACCES;
	view = cowdev_view_create(NULL);
	if (IS_ERR(view))
		return PTR_ERR(view);
	file->private_data = view;
	file->f_mapping = view->inode->i_mapping;
	return 0;
}

static int cowdev_release(struct inode *inode, struct file *file)
{
	cowdev_view_destroy(cowdev_file_view(file));
	return 0;
}

const struct file_operations cowdev_fops = {
	.owner = THIS_MODULE,
	.open = cowdev_open,
	.release = cowdev_release,
	.mmap = cowdev_mmap,
	/* Nothing to write back, as for shmem: msync() and fsync() succeed. */
	.fsync = noop_fsync,
	.unlocked_ioctl = cowdev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};
