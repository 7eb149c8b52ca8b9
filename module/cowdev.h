/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowdev: the module's private declarations, and the rules of its two
 * shared structures (kernel-doc on each field below).  Each .c file says at
 * its top what else it owns.
 *
 * Lock order, outermost first; every file refers here:
 *
 *   swap.admin (mutex: swapon, swapoff)
 *   cowdev_views_lock (mutex; outer only for swapoff's walk of every view)
 *   mmap_lock or the per-VMA lock (held by core mm around a fault)
 *     view->lock (rw_semaphore; two of them only in rollback, the
 *                 lower view id first: snap.c)
 *       family->lock (mutex: the slots of every view of a family that hold
 *                     a swap entry, and eviction; swap.c, reclaim.c)
 *         swap.rwsem (read: swap I/O; write: attach and detach)
 *           page lock (one at a time; eviction only trylocks)
 *             i_mmap_rwsem (inside unmap_mapping_range())
 *               page-table lock
 *                 xarray lock (view->slots)
 *                   pool.lock, lru.lock, swap.lock (spinlocks, leaves)
 *   pool.reaping (mutex) may be taken inside view->lock and a page lock
 *   (an allocation in a fault or a clone reaps limbo); nothing but
 *   pool.lock is taken inside it.
 *   cowdev_views_lock is otherwise a leaf, as is cowdev_users_lock.
 *   Eviction (reclaim.c) runs with no view->lock held: a fault that needs
 *   room drops its view's lock, evicts, and starts over.
 *
 * Faults hold mmap_lock or the VMA lock and take view->lock for read, then
 * one page lock; clone and resize take view->lock for write without
 * mmap_lock, then page locks one at a time; zaps run inside a page lock, as
 * truncate's do.  No user memory is copied while view->lock is held (a
 * fault on the view's own mapping would wait for itself).
 */
#ifndef COWDEV_H
#define COWDEV_H

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/jump_label.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/rwsem.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/xarray.h>
#include <linux/cowdev.h>

struct cowdev_user;
struct cowdev_view;

/**
 * struct cowdev_family - the views that may share pages: one view opened
 *	from /dev/cowdev and every clone made from it or its clones (view.c)
 * @lock: taken by whatever changes a slot that holds a swap entry, or
 *	turns a resident slot into one: eviction, page-in, and clone, shrink
 *	and destroy while they walk their slots.  Held across swap I/O.
 * @views: the live views of the family, under @lock.
 * @ref: one per view, one per eviction or zap in progress.
 *
 * A page is only ever held by views of one family, always at the same
 * index: that is the reverse map eviction uses to find every holder.
 */
struct cowdev_family {
	struct mutex lock;
	struct list_head views;
	refcount_t ref;
};

/* pool.c */

/* cowdev_page.swap of a page that has no copy in the swap area */
#define COWDEV_NO_SWAP	UINT_MAX

/**
 * struct cowdev_page - what the pool keeps of one pool page beside its
 *	struct page (pool.c): 16 bytes
 * @holders: how many view slots hold the page; atomic.  0 while free or in
 *	limbo.  Raised only by a view that holds the page already (clone
 *	shares the slots of a source whose lock it holds for write).
 * @swap: the swap slot that holds a copy of the page as it is now, or
 *	%COWDEV_NO_SWAP.  Set by page-in; dropped by the first write after it
 *	and by the last holder; written under swap.lock.
 * @origin: the low 32 bits of the id of the view that allocated the page
 *	(tracepoints).  Written when the page is allocated, before any other
 *	view can see it.
 * @user: the id of the user charged for the page (user.c), 0 if none.
 *	Written when the page is allocated and cleared when it is back on a
 *	free list: a page in limbo is still its user's.  Eviction hands the
 *	charge to the swap slot and page-in takes it back (swap.c).
 * @age: the lru policy's history of @referenced, under lru.lock.
 * @referenced: software reference bit (reclaim.c): set by every fault
 *	that maps the page; cleared, with a zap of its ptes, by the policies.
 *
 * One per pool page, in one array that lives as long as the module.  The
 * rest of a pool page's state is in its struct page, which the pool owns
 * from load to unload: the page is never in the page cache, never
 * anonymous, never on the kernel's LRU lists and never mlocked (cowdev's
 * VMAs are VM_MIXEDMAP, which mlock() skips), so these fields are the
 * owner's (cowdev_page_of() finds the struct page, cowdev_page_from() the
 * way back):
 *
 *   lru      the one pool list the page is on: free, zeroed, limbo or the
 *            reaper's (pool.c, pool.lock or pool.reaping), or the
 *            replacement list (reclaim.c, lru.lock).  A page leaves one
 *            before it goes on another.
 *   index    the page's number in the pool in the upper 32 bits (constant),
 *            and in the lower 32 the page's index in every view that holds
 *            it (cowdev_page_index(); objects have at most INT_MAX pages).
 *   private  the family of the views that hold it (cowdev_page_family()),
 *            while they do.
 *   flags    PG_owner_priv_1 while an eviction has the page and views
 *            still hold it (reclaim.c, changed under lru.lock): the bit
 *            the kernel leaves to a page's owner when the page is neither
 *            in the page cache nor anonymous.
 *
 * The index and the family are written when the page is published in a
 * slot (cowdev_page_set_owner()), before it goes on the replacement list.
 */
struct cowdev_page {
	atomic_t holders;
	unsigned int swap;
	u32 origin;
	u16 user;
	u8 age;
	bool referenced;
};

/*
 * Where the pool's pages are: @pages[i] is the bookkeeping of pool page i,
 * whose struct page is in @blocks, the blocks of 2^@block_order physically
 * contiguous pages the pool was allocated in.  Written at load only.
 */
struct cowdev_pool_map {
	struct cowdev_page *pages;
	struct page **blocks;
	unsigned int block_order;
};

extern struct cowdev_pool_map cowdev_pool_map;

#define COWDEV_PAGE_NR_SHIFT	32
#define COWDEV_PAGE_INDEX_MASK	((1UL << COWDEV_PAGE_NR_SHIFT) - 1)

static inline unsigned long cowdev_page_nr(const struct cowdev_page *cp)
{
	return cp - cowdev_pool_map.pages;
}

static inline struct cowdev_page *cowdev_pool_page(unsigned long nr)
{
	return &cowdev_pool_map.pages[nr];
}

static inline struct page *cowdev_page_of(const struct cowdev_page *cp)
{
	unsigned long nr = cowdev_page_nr(cp);
	unsigned int order = cowdev_pool_map.block_order;

	return cowdev_pool_map.blocks[nr >> order] +
	       (nr & ((1UL << order) - 1));
}

/* The link of @cp's one pool list (see above). */
static inline struct list_head *cowdev_page_lru(const struct cowdev_page *cp)
{
	return &cowdev_page_of(cp)->lru;
}

static inline struct cowdev_page *cowdev_page_from(const struct page *page)
{
	return cowdev_pool_page(page->index >> COWDEV_PAGE_NR_SHIFT);
}

static inline pgoff_t cowdev_page_index(const struct cowdev_page *cp)
{
	return cowdev_page_of(cp)->index & COWDEV_PAGE_INDEX_MASK;
}

static inline struct cowdev_family *
cowdev_page_family(const struct cowdev_page *cp)
{
	return (struct cowdev_family *)page_private(cowdev_page_of(cp));
}

/* @cp is about to be published at @index in views of @family. */
static inline void cowdev_page_set_owner(struct cowdev_page *cp,
					 struct cowdev_family *family,
					 pgoff_t index)
{
	struct page *page = cowdev_page_of(cp);

	page->index = (page->index & ~COWDEV_PAGE_INDEX_MASK) | index;
	set_page_private(page, (unsigned long)family);
}

int cowdev_pool_init(unsigned long nr_pages);
void cowdev_pool_exit(void);
struct cowdev_page *cowdev_pool_alloc(bool zero);
void cowdev_pool_alloc_failed(bool injected);
unsigned long cowdev_pool_nr_free(void);
void cowdev_page_hold(struct cowdev_page *cp);
void cowdev_page_release(struct cowdev_page *cp);
bool cowdev_pool_reap(void);
struct cowdev_page *cowdev_zero_page(void);
unsigned long cowdev_pool_total(void);
size_t cowdev_pool_meta_bytes(void);
unsigned long cowdev_pool_block_pages(void);
void cowdev_pool_get_info(struct cowdev_pool_info *info);

static inline bool cowdev_page_shared(struct cowdev_page *cp)
{
	return atomic_read(&cp->holders) > 1;
}

/* What one ->fault or ->page_mkwrite call did (tracepoints). */
enum cowdev_outcome {
	COWDEV_ZERO,		/* the zero page was mapped or handed out */
	COWDEV_ALLOC,		/* a hole got a new pool page */
	COWDEV_RESIDENT,	/* a resident page was returned */
	COWDEV_COPY,		/* a shared page was copied (COW break) */
	COWDEV_REUSE,		/* an unshared page is written in place */
	COWDEV_SIGBUS,		/* beyond the size */
	COWDEV_POOL_EMPTY,	/* SIGBUS: no pool page */
	COWDEV_RETRY,		/* raced with a slot change; access retries */
	COWDEV_NOMEM,		/* SIGBUS: no memory for the view's xarray */
	COWDEV_SWAP_IN,		/* a swapped-out page was read back (major) */
	COWDEV_SWAP_ERROR,	/* SIGBUS: the swap area could not be read */
	COWDEV_RECLAIM,		/* internal: evict a page, then start over */
};

/* view.c */

enum cowdev_stat {
	COWDEV_STAT_FAULTS,
	COWDEV_STAT_MAP_PAGES_CALLS,
	COWDEV_STAT_MAP_PAGES_MAPPED,
	COWDEV_STAT_MKWRITE,
	COWDEV_STAT_ZERO_MAPS,
	COWDEV_STAT_DEMAND_ALLOCS,
	COWDEV_STAT_PRIVATE_COW,
	COWDEV_STAT_SIGBUS,
	COWDEV_STAT_POOL_FAILURES,
	COWDEV_STAT_COW_COPIES,
	COWDEV_STAT_COW_REUSES,
	COWDEV_STAT_CLONES,
	COWDEV_STAT_LIMIT_FAILURES,
	COWDEV_STAT_PINNED_COPIES,
	COWDEV_STAT_MAJOR_FAULTS,
	COWDEV_STAT_PAGE_INS,
	COWDEV_STAT_PAGE_OUTS,
	COWDEV_STAT_EVICTIONS,
	COWDEV_STAT_DIFFS,
	COWDEV_STAT_ROLLBACKS,
	COWDEV_STAT_ROLLBACK_PAGES,
	COWDEV_STAT_WRITTEN_QUERIES,
	COWDEV_STAT_WRITTEN_CLEARS,
	COWDEV_NR_STATS
};

/* Marks on a view's slots. */
#define COWDEV_SLOT_DIRTY	XA_MARK_0	/* written since it became ours */
#define COWDEV_SLOT_WAS_SHARED	XA_MARK_1	/* shared since the last write */
#define COWDEV_SLOT_WRITTEN	XA_MARK_2	/* written since tracking was
						 * re-armed (snap.c)
						 */

/**
 * struct cowdev_view - one view of a memory object (view.c)
 * @lock: taken for write by what changes the pages of a range of slots or
 *	the size: clone (of this view as the source) and resize.  Taken for
 *	read by ->fault and ->page_mkwrite, which change single slots, and by
 *	the page-state map.  ->map_pages never takes it.  Never held across
 *	a copy to or from user memory.
 * @slots: page index -> struct cowdev_page, or a value entry holding the
 *	swap slot of a page that was evicted (xa_is_value()); absent is a
 *	hole.  Readers use RCU or @lock.  Writers hold @lock, for read or for write; with it for
 *	read a hole is filled with xa_cmpxchg() (no page lock: the race with
 *	zero-page readers is in vm.c) and a resident slot changes only under
 *	the page lock of the page it holds (COW break).  A swap entry, and a
 *	resident slot that becomes one, change only under @family->lock
 *	(swap.c, reclaim.c), which eviction and page-in take without @lock:
 *	clone, shrink, rollback and destroy take @family->lock too.  Marks
 *	%COWDEV_SLOT_DIRTY and %COWDEV_SLOT_WAS_SHARED change with the slot;
 *	%COWDEV_SLOT_WRITTEN is set by ->page_mkwrite and by a hole fill for
 *	a write (@lock for read) and cleared by COWDEV_IOC_WRITTEN (@lock for
 *	write), under the xarray's lock, and stays with the index when the
 *	slot is swapped out and in.
 * @gone: write tracking's record of the indices whose page went away (a
 *	shrink or a rollback left a hole there) since tracking was re-armed:
 *	a value entry per index.  Changed under @lock held for write; an
 *	index is reserved (xa_reserve()) before the change that may need it,
 *	so that the change itself cannot fail (snap.c).
 * @size_pages: written under @lock held for write (WRITE_ONCE), read with
 *	READ_ONCE anywhere; faults re-check it under @lock held for read.
 * @resident: slots that hold a page; atomic, changes with @slots.
 * @swapped: slots that hold a swap entry; atomic, changes with @slots.
 * @resident_limit: the most pages the view may hold before it evicts its
 *	own (0: none); READ_ONCE/WRITE_ONCE.
 * @over_limit: pages the view may take past @resident_limit because its
 *	own were all busy when it had to evict one (reclaim.c); atomic.
 * @family: the view's family, and @family_node its entry there.  Set at
 *	creation.
 * @inode: an inode of cowdev's pseudo filesystem, giving the view its own
 *	address_space (file->f_mapping), so that unmap_mapping_range() zaps
 *	exactly this view's ptes in every process.  Set at creation.
 * @id: unique id (stats, debugfs, tracepoints).  Set at creation.
 * @owner_pid: tgid of the task that made the view.  Set at creation.
 * @user: the user charged for pages this view allocates, NULL when not
 *	charged (user.c).  Set at creation.
 * @node: on the list of live views, under cowdev_views_lock.
 * @debugfs: the view's debugfs pagemap file; removed, waiting for readers,
 *	before the view is freed.
 * @stats: event counters, per CPU (a fault counts without touching a cache
 *	line that other CPUs write); read as the sum over the CPUs less
 *	@stats_base, the sums at the last reset, under @stats_lock.
 *
 * A view belongs to its file: it is freed by ->release, once the last fd is
 * closed and the last mapping is gone (every VMA holds the file).
 */
struct cowdev_view_stats {
	u64 count[COWDEV_NR_STATS];
};

struct cowdev_view {
	struct rw_semaphore lock;
	struct xarray slots;
	struct xarray gone;
	unsigned long size_pages;
	atomic_long_t resident;
	atomic_long_t swapped;
	u64 resident_limit;
	atomic_t over_limit;
	bool zero_mapped;	/* a read mapped the zero page here, ever */
	struct cowdev_family *family;
	struct list_head family_node;
	struct inode *inode;
	u64 id;
	pid_t owner_pid;
	struct cowdev_user *user;
	struct list_head node;
	struct dentry *debugfs;
	struct cowdev_view_stats __percpu *stats;
	struct mutex stats_lock;
	u64 stats_base[COWDEV_NR_STATS];
};

extern const struct file_operations cowdev_fops;
extern unsigned long cowdev_max_object_pages;

struct cowdev_view *cowdev_view_create(struct cowdev_view *relative);
void cowdev_view_destroy(struct cowdev_view *view);
long cowdev_views_count(void);
void cowdev_views_show(struct seq_file *m);
int cowdev_view_set_size(struct cowdev_view *view, u64 bytes);
void cowdev_view_get_stats(struct cowdev_view *view, struct cowdev_stats *st);
void cowdev_view_reset_stats(struct cowdev_view *view);
void cowdev_view_zap(struct cowdev_view *view, pgoff_t start, pgoff_t nr,
		     bool even_cows);
struct file *cowdev_view_file(struct cowdev_view *view);
struct cowdev_page *cowdev_view_alloc_page(struct cowdev_view *view,
					   bool grows);
void cowdev_view_publish(struct cowdev_view *view, pgoff_t index,
			 struct cowdev_page *cp);
bool cowdev_view_at_limit(struct cowdev_view *view);
void cowdev_family_put(struct cowdev_family *family);
int cowdev_views_swap_in_all(void);
struct cowdev_page *cowdev_view_store_copy(struct cowdev_view *view,
					   pgoff_t index,
					   struct cowdev_page *cp);
int cowdev_page_state(struct cowdev_view *view,
		      const struct cowdev_page_state *req);
void cowdev_fill_page_map(struct cowdev_view *view, unsigned long start,
			  unsigned long count, u8 *map, bool written);
void cowdev_view_wait_pages(struct cowdev_view *view, unsigned long first,
			    unsigned long last);
void cowdev_view_drop_entry(struct cowdev_view *view, void *entry);
unsigned long cowdev_view_shrink_locked(struct cowdev_view *view,
					unsigned long new_size);

static inline void cowdev_count_add(struct cowdev_view *view,
				    enum cowdev_stat s, u64 n)
{
	this_cpu_add(view->stats->count[s], n);
}

static inline void cowdev_count(struct cowdev_view *view, enum cowdev_stat s)
{
	this_cpu_inc(view->stats->count[s]);
}

/* The page a slot entry holds, NULL for a hole or a swap entry. */
static inline struct cowdev_page *cowdev_entry_page(void *entry)
{
	return xa_is_value(entry) ? NULL : entry;
}

static inline struct cowdev_view *cowdev_file_view(struct file *file)
{
	return file->private_data;
}

/* user.c */
extern unsigned long cowdev_user_max_pages;
struct cowdev_user *cowdev_user_get(void);
bool cowdev_user_charge(struct cowdev_user *user);
void cowdev_user_uncharge(struct cowdev_user *user);
u16 cowdev_user_id(const struct cowdev_user *user);
struct cowdev_user *cowdev_user_by_id(u16 id);
void cowdev_users_exit(void);

/* vm.c */
int cowdev_mmap(struct file *file, struct vm_area_struct *vma);

/* cow.c */
int cowdev_clone(struct cowdev_view *src);
bool cowdev_page_maybe_pinned(struct page *page);
void cowdev_share_marks(struct cowdev_view *view, unsigned long index);

/* snap.c */
int cowdev_diff_check(struct cowdev_view *view, const struct cowdev_diff *req);
int cowdev_diff(struct cowdev_view *view, struct cowdev_diff *req);
int cowdev_rollback(struct cowdev_view *view,
		    const struct cowdev_rollback *req);
int cowdev_written_check(struct cowdev_view *view,
			 const struct cowdev_written *req);
int cowdev_written(struct cowdev_view *view, struct cowdev_written *req);
int cowdev_gone_reserve_beyond(struct cowdev_view *view,
			       unsigned long new_size);
void cowdev_gone_release_beyond(struct cowdev_view *view,
				unsigned long new_size);
void cowdev_gone_mark(struct cowdev_view *view, unsigned long index);
void cowdev_written_fill_map(struct cowdev_view *view, unsigned long start,
			     unsigned long count, u8 *map);

/* swap.c */
int cowdev_swap_init(const char *path);
void cowdev_swap_exit(void);
int cowdev_swapon(const struct cowdev_swapon *req);
int cowdev_swapoff(void);
bool cowdev_swap_usable(void);
void cowdev_swap_dup(unsigned int slot);
void cowdev_swap_put(unsigned int slot);
unsigned int cowdev_swap_count(unsigned int slot);
void cowdev_swap_forget(struct cowdev_page *cp);
void cowdev_swap_forget_all(void);
void cowdev_swap_get_info(struct cowdev_pool_info *info);
int cowdev_swap_out_begin(struct cowdev_page *cp, unsigned int holders,
			  bool *written);
void cowdev_swap_out_end(void);
int cowdev_swap_in(struct cowdev_view *view, pgoff_t index, void *entry,
		   bool fault);

/* reclaim.c */
enum cowdev_policy {
	COWDEV_POLICY_FIFO,
	COWDEV_POLICY_CLOCK,
	COWDEV_POLICY_LRU,
};

extern unsigned long cowdev_low_watermark, cowdev_high_watermark;
void cowdev_lru_add(struct cowdev_page *cp);
void cowdev_lru_del(struct cowdev_page *cp);
void cowdev_page_referenced(struct cowdev_page *cp);
int cowdev_make_room(struct cowdev_view *view);
void cowdev_kswapd_wake(unsigned long nr_free);
void cowdev_kswapd_stop(void);
void cowdev_reclaim_get_info(struct cowdev_pool_info *info);

/* inject.c */
enum cowdev_fail_point {
	COWDEV_FAIL_ALLOC,
	COWDEV_FAIL_SWAP_IN,
	COWDEV_FAIL_SWAP_OUT,
};

bool cowdev_should_fail(enum cowdev_fail_point point, u64 view);
u64 cowdev_injected_failures(void);
void cowdev_inject_debugfs_init(struct dentry *root);

/* The race windows a test can hold open (inject.c, "delay injection"). */
enum cowdev_delay_point {
	COWDEV_DELAY_FAULT_LOCKED,	/* ->fault returns a locked page */
	COWDEV_DELAY_MKWRITE_LOCKED,	/* ->page_mkwrite keeps a page locked */
	COWDEV_DELAY_HOLE_FILL,		/* a hole filled, not yet zapped */
	COWDEV_DELAY_ZERO_INSERT,	/* a hole read, zero pte not yet in */
	COWDEV_DELAY_SHRINK,		/* size lowered, pages not waited on */
	COWDEV_DELAY_SHRINK_ZAPPED,	/* ptes zapped, slots not yet dropped */
	COWDEV_DELAY_CLONE,		/* pages waited on, ptes not zapped */
	COWDEV_DELAY_COW_BREAK,		/* copy in the slot, not yet zapped */
	COWDEV_DELAY_ROLLBACK,		/* a slot changed, not yet zapped */
	COWDEV_DELAY_WRITTEN_CLEAR,	/* marks cleared, range not zapped */
	COWDEV_DELAY_ZERO_CLEAR,	/* the zeroer cleared a page, not put */
};

DECLARE_STATIC_KEY_FALSE(cowdev_delays_on);
void __cowdev_delay(enum cowdev_delay_point point);
void cowdev_delay_debugfs_init(struct dentry *root);

static inline void cowdev_delay(enum cowdev_delay_point point)
{
	if (static_branch_unlikely(&cowdev_delays_on))
		__cowdev_delay(point);
}

/*
 * Mutants: a build made with COWDEV_BUG=<name> leaves out the fix of that
 * name (scripts/check-mutants proves a test catches it); constant false in
 * every other build.
 */
#ifdef COWDEV_BUG
static inline bool cowdev_mutant(const char *name)
{
	return !strcmp(COWDEV_BUG, name);
}
#else
static inline bool cowdev_mutant(const char *name)
{
	return false;
}
#endif

/* trace.c */
const char *cowdev_outcome_name(int outcome);

/* debugfs.c */
void cowdev_debugfs_init(void);
void cowdev_debugfs_exit(void);
void cowdev_debugfs_add_view(struct cowdev_view *view);
void cowdev_debugfs_remove_view(struct cowdev_view *view);

/* ioctl.c */
long cowdev_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* bugs.c: deliberate bugs, only in builds made with COWDEV_BUG=<name> */
#ifdef COWDEV_BUG
int cowdev_bug_inject(void);
#else
static inline int cowdev_bug_inject(void)
{
	return 0;
}
#endif

#endif /* COWDEV_H */
