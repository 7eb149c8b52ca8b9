/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowdev: the module's private declarations, and the rules of its two
 * shared structures (kernel-doc on each field below).  Each .c file says at
 * its top what else it owns.
 *
 * Lock order, outermost first; every file refers here:
 *
 *   mmap_lock or the per-VMA lock (held by core mm around a fault)
 *     view->lock (rw_semaphore)
 *       page lock (one at a time)
 *         i_mmap_rwsem (inside unmap_mapping_range())
 *           page-table lock
 *             xarray lock (view->slots)
 *               pool.lock (spinlock)
 *   pool.reaping (mutex) may be taken inside view->lock and a page lock
 *   (an allocation in a fault or a clone reaps limbo); nothing but
 *   pool.lock is taken inside it.
 *   cowdev_views_lock and cowdev_users_lock (mutexes) are leaves.
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
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/rwsem.h>
#include <linux/seq_file.h>
#include <linux/xarray.h>
#include <linux/cowdev.h>

struct cowdev_user;

/* pool.c */

/**
 * struct cowdev_page - bookkeeping of one pool page (pool.c)
 * @page: the struct page.  The pool holds one reference from load to unload
 *	(cowdev_pool_exit()); every pte that maps it and every pin hold more.
 * @holders: how many view slots hold the page; atomic.  0 while free or in
 *	limbo.  Raised only by a view that holds the page already (clone
 *	shares the slots of a source whose lock it holds for write).
 * @limbo: on the pool's limbo list, under pool.lock, while no view holds
 *	the page but a pte or a pin still references it; on the reaper's
 *	private list while a reap looks at it (pool.reaping).
 * @origin: id of the view that allocated the page (tracepoints).  Written
 *	when the page is allocated, before any other view can see it.
 * @user: the user charged for the page (user.c), NULL if none.  Written
 *	when the page is allocated and cleared when it is back on the free
 *	stack: a page in limbo is still its user's.
 *
 * One per pool page, in one array that lives as long as the module.
 */
struct cowdev_page {
	struct page *page;
	atomic_t holders;
	struct list_head limbo;
	u64 origin;
	struct cowdev_user *user;
};

int cowdev_pool_init(unsigned long nr_pages);
void cowdev_pool_exit(void);
struct cowdev_page *cowdev_pool_alloc(void);
void cowdev_page_hold(struct cowdev_page *cp);
void cowdev_page_release(struct cowdev_page *cp);
bool cowdev_pool_reap(void);
struct cowdev_page *cowdev_zero_page(void);
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
	COWDEV_NR_STATS
};

/* Marks on a view's slots. */
#define COWDEV_SLOT_DIRTY	XA_MARK_0	/* written since it became ours */
#define COWDEV_SLOT_WAS_SHARED	XA_MARK_1	/* shared since the last write */

/**
 * struct cowdev_view - one view of a memory object (view.c)
 * @lock: taken for write by what changes the pages of a range of slots or
 *	the size: clone (of this view as the source) and resize.  Taken for
 *	read by ->fault and ->page_mkwrite, which change single slots, and by
 *	the page-state map.  ->map_pages never takes it.  Never held across
 *	a copy to or from user memory.
 * @slots: page index -> struct cowdev_page; absent is a hole.  Readers use
 *	RCU or @lock.  Writers hold @lock, for read or for write; with it for
 *	read a hole is filled with xa_cmpxchg() (no page lock: the race with
 *	zero-page readers is in vm.c) and a resident slot changes only under
 *	the page lock of the page it holds (COW break).  Marks
 *	%COWDEV_SLOT_DIRTY and %COWDEV_SLOT_WAS_SHARED change with the slot.
 * @size_pages: written under @lock held for write (WRITE_ONCE), read with
 *	READ_ONCE anywhere; faults re-check it under @lock held for read.
 * @resident: slots that hold a page; atomic, changes with @slots.
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
 * @stats: event counters; atomic.
 *
 * A view belongs to its file: it is freed by ->release, once the last fd is
 * closed and the last mapping is gone (every VMA holds the file).
 */
struct cowdev_view {
	struct rw_semaphore lock;
	struct xarray slots;
	unsigned long size_pages;
	atomic_long_t resident;
	struct inode *inode;
	u64 id;
	pid_t owner_pid;
	struct cowdev_user *user;
	struct list_head node;
	struct dentry *debugfs;
	atomic64_t stats[COWDEV_NR_STATS];
};

extern const struct file_operations cowdev_fops;
extern unsigned long cowdev_max_object_pages;

struct cowdev_view *cowdev_view_create(void);
void cowdev_view_destroy(struct cowdev_view *view);
long cowdev_views_count(void);
void cowdev_views_show(struct seq_file *m);
int cowdev_view_set_size(struct cowdev_view *view, u64 bytes);
void cowdev_view_get_stats(struct cowdev_view *view, struct cowdev_stats *st);
void cowdev_view_reset_stats(struct cowdev_view *view);
void cowdev_view_zap(struct cowdev_view *view, pgoff_t start, pgoff_t nr,
		     bool even_cows);
struct file *cowdev_view_file(struct cowdev_view *view);
struct cowdev_page *cowdev_view_alloc_page(struct cowdev_view *view);
struct cowdev_page *cowdev_view_store_copy(struct cowdev_view *view,
					   pgoff_t index,
					   struct cowdev_page *cp);
int cowdev_page_state(struct cowdev_view *view,
		      const struct cowdev_page_state *req);
void cowdev_fill_page_map(struct cowdev_view *view, unsigned long start,
			  unsigned long count, u8 *map);

static inline void cowdev_count(struct cowdev_view *view, enum cowdev_stat s)
{
	atomic64_inc(&view->stats[s]);
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
void cowdev_users_exit(void);

/* vm.c */
int cowdev_mmap(struct file *file, struct vm_area_struct *vma);

/* cow.c */
int cowdev_clone(struct cowdev_view *src);

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
