// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev: the swap area - one file or block device that holds the pages
 * evicted from the pool (reclaim.c), and page-in.
 *
 * The area is attached by COWDEV_IOC_SWAPON or the module parameter
 * swap_file, and detached by COWDEV_IOC_SWAPOFF or at unload.  It is cut
 * into page-sized slots; a slot is allocated and freed in O(1) from a stack
 * of free slot numbers.  Page I/O is
 * kernel_read()/kernel_write() of one page at the slot's offset, done by a
 * worker (cowdev_swap_wq) while the task that needs it waits: never under a
 * spinlock, never from ->map_pages, never charged to the task.
 *
 * A slot is in use while (@count, under swap.lock):
 *  - view slots hold it as a swap entry (xa_mk_value(slot)): @count is how
 *    many, the page is out of the pool, and the slot carries the page's
 *    user charge (@user) and origin; or
 *  - a pool page that was read back from it and not written since records
 *    it in cowdev_page.swap (@count is 1): the slot is a clean copy, so the
 *    page's next eviction writes nothing.  This is the swap cache: one
 *    page-in puts the one pool page in every view that held the slot (a
 *    family's views are the reverse map, view.c), so clones share it again.
 * A page is always either in the pool for all of its holders or in the
 * swap area for all of them.
 *
 * Locks: swap.admin (mutex) serialises swapon and swapoff.  swap.rwsem is
 * held for read by every eviction and page-in across its I/O, and for
 * write to attach and detach, so the file cannot go away under I/O.
 * swap.lock (spinlock) protects the slots, the free stack, the counters and
 * cowdev_page.swap.  A swap entry in a view's slot changes only under the
 * family's lock (cowdev.h has the order).
 *
 * Charges: a user's pages count against user_max_pages wherever they are,
 * in the pool or in the swap area (one limit for both): eviction moves the
 * charge from the pool page to the slot, page-in moves it back, and the
 * slot's last holder uncharges it.
 *
 * Errors: a failed write leaves the page in the pool (reclaim.c tries
 * another victim); a failed read leaves the page in the swap area and the
 * access gets SIGBUS.  Both count in swap_errors.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "cowdev.h"
#include "cowdev_trace.h"

struct cowdev_swap_slot {
	unsigned int count;
	struct cowdev_user *user;
	u64 origin;
};

static struct {
	struct mutex admin;
	struct rw_semaphore rwsem;
	spinlock_t lock;
	struct file *file;		/* NULL: none attached */
	bool stopping;			/* swapoff runs: no new evictions */
	struct cowdev_swap_slot *slots;	/* [total] */
	unsigned int *free;		/* stack of free slot numbers */
	unsigned long nr_free;
	unsigned long total;
	unsigned long nr_swapped;	/* slots held by views, not cached */
	u64 page_outs;
	u64 page_ins;
	u64 evictions;
	u64 clean_evictions;
	u64 errors;
} swap = {
	.admin = __MUTEX_INITIALIZER(swap.admin),
	.rwsem = __RWSEM_INITIALIZER(swap.rwsem),
	.lock = __SPIN_LOCK_UNLOCKED(swap.lock),
};

/* Can an eviction write to the swap area now?  Racy; evict re-checks. */
bool cowdev_swap_usable(void)
{
	return READ_ONCE(swap.file) && !READ_ONCE(swap.stopping);
}

/*
 * A free slot for an eviction, with a count of 0 (the caller sets it), or
 * -ENOSPC.  Called with swap.rwsem held for read.
 */
static int cowdev_swap_alloc_slot(void)
{
	int slot = -ENOSPC;

	spin_lock(&swap.lock);
	if (swap.file && !swap.stopping && swap.nr_free)
		slot = swap.free[--swap.nr_free];
	spin_unlock(&swap.lock);
	return slot;
}

static void cowdev_swap_free_slot(unsigned int slot)
{
	struct cowdev_user *user;

	lockdep_assert_held(&swap.lock);
	user = swap.slots[slot].user;
	swap.slots[slot].user = NULL;
	swap.free[swap.nr_free++] = slot;
	cowdev_user_uncharge(user);
}

/* A clone's slot holds the swap entry too. */
void cowdev_swap_dup(unsigned int slot)
{
	spin_lock(&swap.lock);
	swap.slots[slot].count++;
	spin_unlock(&swap.lock);
}

/* A view slot lets go of a swap entry; the last one frees the slot. */
void cowdev_swap_put(unsigned int slot)
{
	spin_lock(&swap.lock);
	if (!WARN_ON_ONCE(!swap.slots[slot].count) &&
	    !--swap.slots[slot].count) {
		swap.nr_swapped--;
		cowdev_swap_free_slot(slot);
	}
	spin_unlock(&swap.lock);
}

/* How many view slots hold @slot (page-state map). */
unsigned int cowdev_swap_count(unsigned int slot)
{
	unsigned int count;

	spin_lock(&swap.lock);
	count = swap.file && slot < swap.total ? swap.slots[slot].count : 0;
	spin_unlock(&swap.lock);
	return count;
}

/*
 * Eviction: @holders view slots are about to hold @slot instead of @cp.
 * The slot takes the page's charge and origin.  For a clean eviction the
 * slot is @cp's cached copy (count 1) and becomes the holders'.
 */
static void cowdev_swap_take_charge(unsigned int slot, unsigned int holders,
				    struct cowdev_page *cp)
{
	spin_lock(&swap.lock);
	swap.slots[slot].count = holders;
	swap.slots[slot].user = cowdev_user_by_id(cp->user);
	swap.slots[slot].origin = cp->origin;
	swap.nr_swapped++;
	if (cp->swap == slot)
		cp->swap = COWDEV_NO_SWAP;
	spin_unlock(&swap.lock);
	cp->user = 0;
}

/*
 * Page-in: @cp now stands for @slot in every view that held it; the slot
 * stays as @cp's clean copy (count 1) and hands back the charge.
 */
static void cowdev_swap_give_charge(unsigned int slot,
				    struct cowdev_page *cp)
{
	spin_lock(&swap.lock);
	cp->user = cowdev_user_id(swap.slots[slot].user);
	cp->origin = swap.slots[slot].origin;
	swap.slots[slot].user = NULL;
	swap.slots[slot].count = 1;
	swap.nr_swapped--;
	cp->swap = slot;
	spin_unlock(&swap.lock);
}

/* @cp is written or freed: its copy in the swap area is stale. */
void cowdev_swap_forget(struct cowdev_page *cp)
{
	unsigned int slot;

	if (READ_ONCE(cp->swap) == COWDEV_NO_SWAP)
		return;
	spin_lock(&swap.lock);
	slot = cp->swap;
	cp->swap = COWDEV_NO_SWAP;
	if (slot != COWDEV_NO_SWAP && !WARN_ON_ONCE(swap.slots[slot].count != 1)) {
		swap.slots[slot].count = 0;
		cowdev_swap_free_slot(slot);
	}
	spin_unlock(&swap.lock);
}

/*
 * The area is full: free the slot of one clean copy (a page read back and
 * not written since), as the kernel frees swap cache when swap runs out,
 * so that pool + swap hold as many pages as they have room for.  The
 * copy's page must be locked (its eviction reads cowdev_page.swap under
 * its page lock), so pages locked now are passed over.  Called with
 * swap.rwsem held for read.  Return: true if a slot was freed.
 */
static bool cowdev_swap_free_a_copy(void)
{
	unsigned long i, total = cowdev_pool_total();
	struct cowdev_page *cp;

	for (i = 0; i < total; i++) {
		cp = cowdev_pool_page(i);
		if (READ_ONCE(cp->swap) == COWDEV_NO_SWAP ||
		    !trylock_page(cowdev_page_of(cp)))
			continue;
		cowdev_swap_forget(cp);
		unlock_page(cowdev_page_of(cp));
		if (READ_ONCE(swap.nr_free))
			return true;
	}
	return false;
}

/* swapoff: drop every clean copy; evictions are stopped. */
void cowdev_swap_forget_all(void)
{
	unsigned long i, total = cowdev_pool_total();

	for (i = 0; i < total; i++)
		cowdev_swap_forget(cowdev_pool_page(i));
}

/* One page of I/O, done by a worker for a task that waits for it. */
struct cowdev_swap_io {
	struct work_struct work;
	struct completion finished;
	struct page *page;
	loff_t pos;
	bool write;
	ssize_t done;
};

static struct workqueue_struct *cowdev_swap_wq;

static void cowdev_swap_io_work(struct work_struct *work)
{
	struct cowdev_swap_io *io = container_of(work, struct cowdev_swap_io,
						 work);
	void *addr = page_address(io->page);

	if (io->write)
		io->done = kernel_write(swap.file, addr, PAGE_SIZE, &io->pos);
	else
		io->done = kernel_read(swap.file, addr, PAGE_SIZE, &io->pos);
	/* The waiter may free @io (on its stack) as soon as this is done. */
	complete(&io->finished);
}

/*
 * Read or write @page at @slot, and wait.  The I/O runs in a kernel worker,
 * not in the faulting task: the file's page cache is then not charged to
 * the task's memory cgroup (whose limit could call the OOM killer), and the
 * task's RLIMIT_FSIZE and signals play no part.  The worker takes none of
 * cowdev's locks.  Called with swap.rwsem held for read.
 *
 * The task waits on a completion, as the loop driver's submitter waits for
 * its worker's file I/O, not with flush_work(): lockdep would join the
 * worker's filesystem locks to whatever the task holds (an eviction holds
 * its family's lock, which a clone takes inside its view's lock) and
 * report a cycle with any write(2) from a cowdev mapping into another file
 * of the swap file's filesystem, one i_rwsem class for two inodes.  The
 * one real cycle is a write(2) from a cowdev mapping into the swap file
 * itself, which root must not do (as with a loop device's backing file;
 * Documentation/cowdev.rst).
 */
static int cowdev_swap_io(unsigned int slot, struct page *page, bool write)
{
	struct cowdev_swap_io io = {
		.page = page,
		.pos = (loff_t)slot << PAGE_SHIFT,
		.write = write,
	};
	ssize_t n;

	lockdep_assert_held_read(&swap.rwsem);
	INIT_WORK_ONSTACK(&io.work, cowdev_swap_io_work);
	init_completion(&io.finished);
	queue_work(cowdev_swap_wq, &io.work);
	wait_for_completion(&io.finished);
	destroy_work_on_stack(&io.work);
	n = io.done;
	if (n == PAGE_SIZE)
		return 0;
	spin_lock(&swap.lock);
	swap.errors++;
	spin_unlock(&swap.lock);
	return n < 0 ? n : -EIO;
}

/* Write @page to @slot.  Called with swap.rwsem held for read. */
static int cowdev_swap_write(unsigned int slot, struct page *page)
{
	int err = cowdev_swap_io(slot, page, true);

	if (!err) {
		spin_lock(&swap.lock);
		swap.page_outs++;
		spin_unlock(&swap.lock);
	}
	return err;
}

static int cowdev_swap_read(unsigned int slot, struct page *page)
{
	return cowdev_swap_io(slot, page, false);
}

/* A read or write made to fail (inject.c): counted as the real one is. */
static int cowdev_swap_injected_error(void)
{
	spin_lock(&swap.lock);
	swap.errors++;
	spin_unlock(&swap.lock);
	return -EIO;
}

static void cowdev_swap_count_page_in(void)
{
	spin_lock(&swap.lock);
	swap.page_ins++;
	spin_unlock(&swap.lock);
}

/**
 * cowdev_swap_out_begin() - give the evicted page @cp a slot
 * @cp: the page; its @holders views' ptes are gone, its page lock and its
 *	family's lock are held
 * @holders: how many view slots will hold the slot
 * @written: set when @cp had no good copy and was written
 *
 * On success the slot has @holders references and @cp's charge, and
 * swap.rwsem stays held for read until cowdev_swap_out_end(), so that
 * swapoff, which waits for it, finds the swap entries the caller stores.
 *
 * Return: the slot, or -ENOSPC (area full, none, or swapoff running) or
 * the write's error, with nothing held.
 */
int cowdev_swap_out_begin(struct cowdev_page *cp, unsigned int holders,
			  bool *written)
{
	int slot = -ENOSPC, err;
	bool injected;

	down_read(&swap.rwsem);
	if (!swap.file || READ_ONCE(swap.stopping))
		goto fail;
	*written = cp->swap == COWDEV_NO_SWAP;
	slot = *written ? cowdev_swap_alloc_slot() : cp->swap;
	if (slot == -ENOSPC && cowdev_swap_free_a_copy())
		slot = cowdev_swap_alloc_slot();
	if (slot < 0)
		goto fail;
	if (*written) {
		injected = cowdev_should_fail(COWDEV_FAIL_SWAP_OUT, 0);
		err = injected ? cowdev_swap_injected_error() :
				 cowdev_swap_write(slot, cowdev_page_of(cp));
		trace_cowdev_page_out(cowdev_page_index(cp),
				      page_to_pfn(cowdev_page_of(cp)), slot,
				      err, injected);
		if (err) {
			spin_lock(&swap.lock);
			cowdev_swap_free_slot(slot);
			spin_unlock(&swap.lock);
			slot = err;
			goto fail;
		}
	}
	cowdev_swap_take_charge(slot, holders, cp);
	spin_lock(&swap.lock);
	swap.evictions++;
	swap.clean_evictions += !*written;
	spin_unlock(&swap.lock);
	return slot;

fail:
	up_read(&swap.rwsem);
	return slot;
}

void cowdev_swap_out_end(void)
{
	up_read(&swap.rwsem);
}

void cowdev_swap_get_info(struct cowdev_pool_info *info)
{
	spin_lock(&swap.lock);
	info->swap_total = swap.file ? swap.total : 0;
	info->swap_used = swap.file ? swap.total - swap.nr_free : 0;
	info->page_outs = swap.page_outs;
	info->page_ins = swap.page_ins;
	info->evictions = swap.evictions;
	info->clean_evictions = swap.clean_evictions;
	info->swap_errors = swap.errors;
	spin_unlock(&swap.lock);
}

/*
 * Put @cp, just read from @slot, in every view of @view's family whose
 * slot @index holds the swap entry.  Called with the family's lock.
 * Return: how many views took it.
 */
static unsigned int cowdev_swap_in_publish(struct cowdev_view *view,
					   pgoff_t index, void *entry,
					   struct cowdev_page *cp)
{
	struct cowdev_view *v;
	unsigned int n = 0;

	cowdev_page_set_owner(cp, view->family, index);
	list_for_each_entry(v, &view->family->views, family_node) {
		if (xa_load(&v->slots, index) != entry)
			continue;
		/* Replacing a present entry allocates nothing. */
		WARN_ON_ONCE(xa_is_err(xa_store(&v->slots, index, cp,
						 GFP_NOWAIT)));
		atomic_long_dec(&v->swapped);
		atomic_long_inc(&v->resident);
		n++;
	}
	atomic_set(&cp->holders, n);
	return n;
}

/*
 * Read the page at swap entry @entry into @cp and publish it.  Called with
 * the family's lock; the entry is still in @view's slot @index.
 */
static int cowdev_swap_in_locked(struct cowdev_view *view, pgoff_t index,
				 void *entry, struct cowdev_page *cp)
{
	unsigned int slot = xa_to_value(entry), n;
	u64 start = ktime_get_ns();
	bool injected = false;
	int err;

	down_read(&swap.rwsem);
	if (swap.file)
		injected = cowdev_should_fail(COWDEV_FAIL_SWAP_IN, view->id);
	if (!swap.file)
		err = -EIO;
	else if (injected)
		err = cowdev_swap_injected_error();
	else
		err = cowdev_swap_read(slot, cowdev_page_of(cp));
	trace_cowdev_page_in(view->id, index, page_to_pfn(cowdev_page_of(cp)),
			     slot, ktime_get_ns() - start, err, injected);
	if (err)
		goto out;
	n = cowdev_swap_count(slot);
	cowdev_swap_give_charge(slot, cp);
	WARN_ON_ONCE(cowdev_swap_in_publish(view, index, entry, cp) != n);
	cowdev_swap_count_page_in();
	cowdev_count(view, COWDEV_STAT_PAGE_INS);
	cowdev_lru_add(cp);
out:
	up_read(&swap.rwsem);
	return err;
}

/**
 * cowdev_swap_in() - bring a swapped-out page of @view back into the pool
 * @view: the view, whose lock the caller holds (read is enough)
 * @index: the slot index
 * @entry: the swap entry the caller found there
 * @fault: for a fault (the faulting view's resident limit applies and an
 *	empty pool asks for an eviction) rather than for swapoff
 *
 * Return: 1 when this call read the page back, 0 when a racing one did
 * (either way the slot holds a pool page now, unless it changed again),
 * -EAGAIN when room must be made first (cowdev_make_room()
 * without the view's lock), -ENOSPC when the pool is empty and nothing can
 * be evicted, or the read's error.
 */
int cowdev_swap_in(struct cowdev_view *view, pgoff_t index, void *entry,
		   bool fault)
{
	struct cowdev_family *family = view->family;
	struct cowdev_page *cp;
	bool published = false;
	int err = 0;

	if (fault && cowdev_view_at_limit(view))
		return cowdev_swap_usable() ? -EAGAIN : -ENOSPC;
	cp = cowdev_pool_alloc(false);
	if (!cp && fault && cowdev_swap_usable())
		return -EAGAIN;
	if (!cp) {
		cowdev_pool_alloc_failed(false);
		return -ENOSPC;
	}
	mutex_lock(&family->lock);
	/* Else a racing page-in won: the slot holds a pool page already. */
	if (xa_load(&view->slots, index) == entry) {
		err = cowdev_swap_in_locked(view, index, entry, cp);
		published = !err;
	}
	mutex_unlock(&family->lock);
	if (!published)
		cowdev_page_release(cp);
	return err ? err : published;
}

/* Take a reference to the file to swap to, and check that it can be one. */
static int cowdev_swap_check_file(struct file *file, unsigned long *slots)
{
	struct inode *inode = file_inode(file);
	loff_t size;

	if ((file->f_mode & (FMODE_READ | FMODE_WRITE)) !=
	    (FMODE_READ | FMODE_WRITE))
		return -EBADF;
	if (file->f_op == &cowdev_fops || (file->f_flags & O_APPEND) ||
	    !(S_ISREG(inode->i_mode) || S_ISBLK(inode->i_mode)))
		return -EINVAL;
	size = i_size_read(file->f_mapping->host);
	*slots = min_t(loff_t, size >> PAGE_SHIFT, UINT_MAX - 1);
	return *slots ? 0 : -EINVAL;
}

/* Attach @file (the caller's reference becomes the module's). */
static int cowdev_swap_attach(struct file *file)
{
	struct cowdev_swap_slot *slots;
	unsigned long nr, i;
	unsigned int *free;
	int err;

	err = cowdev_swap_check_file(file, &nr);
	if (err)
		return err;
	if (swap.file)
		return -EBUSY;
	slots = kvcalloc(nr, sizeof(*slots), GFP_KERNEL);
	free = kvcalloc(nr, sizeof(*free), GFP_KERNEL);
	if (!slots || !free) {
		kvfree(slots);
		kvfree(free);
		return -ENOMEM;
	}
	/* Push so that low slots are used first. */
	for (i = 0; i < nr; i++)
		free[i] = nr - 1 - i;
	down_write(&swap.rwsem);
	spin_lock(&swap.lock);
	swap.slots = slots;
	swap.free = free;
	swap.nr_free = nr;
	swap.total = nr;
	swap.nr_swapped = 0;
	swap.file = file;
	spin_unlock(&swap.lock);
	up_write(&swap.rwsem);
	pr_info("swap area of %lu pages attached\n", nr);
	return 0;
}

/*
 * Detach the area, once nothing is swapped out and nothing is cached.
 * Return: 0, or -EBUSY (and still attached) if a slot is in use.
 */
static int cowdev_swap_detach(void)
{
	struct file *file;

	down_write(&swap.rwsem);
	spin_lock(&swap.lock);
	if (WARN(swap.nr_free != swap.total,
		 "swap area in use: %lu of %lu slots\n",
		 swap.total - swap.nr_free, swap.total)) {
		spin_unlock(&swap.lock);
		up_write(&swap.rwsem);
		return -EBUSY;
	}
	file = swap.file;
	swap.file = NULL;
	spin_unlock(&swap.lock);
	up_write(&swap.rwsem);
	kvfree(swap.slots);
	kvfree(swap.free);
	swap.slots = NULL;
	swap.free = NULL;
	swap.total = 0;
	swap.nr_free = 0;
	fput(file);
	pr_info("swap area detached\n");
	return 0;
}

int cowdev_swapon(const struct cowdev_swapon *req)
{
	struct file *file;
	int err;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (req->flags)
		return -EINVAL;
	file = fget(req->fd);
	if (!file)
		return -EBADF;
	mutex_lock(&swap.admin);
	err = cowdev_swap_attach(file);
	mutex_unlock(&swap.admin);
	if (err)
		fput(file);
	return err;
}

/*
 * Bring every swapped-out page back, then detach.  Evictions stop first
 * (swap.stopping, then a write lock waits for those in flight); if the
 * pool cannot hold the pages, or a read fails, swapoff fails and the area
 * stays attached (pages already read back stay in the pool).
 */
static int cowdev_swapoff_locked(void)
{
	unsigned long needed;
	int err;

	if (!swap.file)
		return -EINVAL;
	WRITE_ONCE(swap.stopping, true);
	cowdev_kswapd_stop();
	down_write(&swap.rwsem);
	up_write(&swap.rwsem);
	spin_lock(&swap.lock);
	needed = swap.nr_swapped;
	spin_unlock(&swap.lock);
	cowdev_pool_reap();
	err = -ENOMEM;
	if (cowdev_pool_nr_free() < needed)
		goto out;
	err = cowdev_views_swap_in_all();
	/* Pages taken by racing faults since the check: ENOMEM all the same. */
	if (err == -ENOSPC)
		err = -ENOMEM;
	if (err)
		goto out;
	cowdev_swap_forget_all();
	err = cowdev_swap_detach();
out:
	WRITE_ONCE(swap.stopping, false);
	return err;
}

int cowdev_swapoff(void)
{
	int err;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	mutex_lock(&swap.admin);
	err = cowdev_swapoff_locked();
	mutex_unlock(&swap.admin);
	return err;
}

/* Module parameter swap_file: attach @path at load, if given. */
int cowdev_swap_init(const char *path)
{
	struct file *file;
	int err;

	/* A rescuer thread: page-outs make progress when memory is short. */
	cowdev_swap_wq = alloc_workqueue("cowdev_swap",
					 WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!cowdev_swap_wq)
		return -ENOMEM;
	if (!path || !*path)
		return 0;
	file = filp_open(path, O_RDWR | O_LARGEFILE, 0);
	if (IS_ERR(file)) {
		pr_err("swap_file=%s: cannot open: %ld\n", path, PTR_ERR(file));
		err = PTR_ERR(file);
		goto err_wq;
	}
	err = cowdev_swap_attach(file);
	if (err) {
		pr_err("swap_file=%s: cannot swap to it: %d\n", path, err);
		fput(file);
		goto err_wq;
	}
	return 0;

err_wq:
	destroy_workqueue(cowdev_swap_wq);
	return err;
}

/* Unload: every view is gone, so every slot is free. */
void cowdev_swap_exit(void)
{
	if (swap.file)
		cowdev_swap_detach();	/* cannot fail: no view is left */
	destroy_workqueue(cowdev_swap_wq);
}
