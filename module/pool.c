// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev: the page pool.
 *
 * All pages that cowdev maps into processes come from one pool reserved at
 * load (module parameter pool_pages).  One of them is the shared zero page;
 * the others are handed to views on first write and on copy-on-write breaks.
 * Allocation and free are O(1) pops and pushes of a stack of page indexes;
 * the page allocator is never called after load.
 *
 * struct cowdev_page (one per pool page, in one array that lives as long as
 * the module):
 *   @page     the struct page; the pool owns one reference for as long as
 *             the module is loaded (dropped in cowdev_pool_exit()).
 *   @holders  how many view slots hold the page (atomic).  0 while free or in
 *             limbo.  A view may only raise it while it holds the page itself
 *             (clone copies the slots of a view it has locked).
 *   @limbo    on pool.limbo while released by every view but still
 *             referenced by a pte or a pin (page_ref_count() > 1).
 *
 * pool.lock (spinlock, never held across anything that sleeps) protects the
 * free stack, the limbo list and the counters.  A page goes back to the free
 * stack only when no view holds it and its refcount is the pool's alone, so
 * nothing a process can still read is ever handed to another object.
 *
 * A page stays charged to the user that allocated it (@user, user.c) until
 * it is back on the free stack: a page in limbo is still that user's, so
 * pins (vmsplice into the user's own pipes) cannot be used to pass the
 * user's limit.
 *
 * Pages that views hold are also on the replacement list (reclaim.c) from
 * when they are published in a slot until their last holder lets go or
 * they are evicted; a page's copy in the swap area (@swap) is dropped with
 * its last holder.
 *
 * Limbo pages are reaped (moved to the free stack once their last outside
 * reference is gone) when an allocation finds the free stack empty and when
 * the pool's counters are read.  Nothing signals the drop of an outside
 * reference, so reaping has to look at every limbo page; it does so with
 * the list detached and pool.lock dropped, so the lock is held only for the
 * pages actually freed (each page is freed once: O(1) amortised).  One
 * reaper runs at a time (pool.reaping, a mutex taken outside pool.lock);
 * callers that queue behind a reap in progress take its result instead of
 * scanning again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "cowdev.h"
#include "cowdev_trace.h"

static struct {
	spinlock_t lock;
	struct cowdev_page *pages;	/* [total] */
	unsigned int *free;		/* stack of indexes into pages */
	unsigned long nr_free;
	unsigned long total;
	unsigned long used;		/* held by views or in limbo */
	unsigned long peak_used;
	unsigned long nr_limbo;		/* on @limbo or being reaped */
	struct list_head limbo;
	struct mutex reaping;		/* one reaper at a time */
	unsigned long reaps;		/* 2 per reap, odd during one */
	u64 alloc_failures;
	u64 allocs;
	u64 frees;
} pool = {
	.lock = __SPIN_LOCK_UNLOCKED(pool.lock),
	.limbo = LIST_HEAD_INIT(pool.limbo),
	.reaping = __MUTEX_INITIALIZER(pool.reaping),
};

/* Index 0 is the zero page; it is never on the free stack. */
#define COWDEV_ZERO_INDEX 0

static unsigned int cowdev_page_index(struct cowdev_page *cp)
{
	return cp - pool.pages;
}

static void cowdev_push_free(struct cowdev_page *cp)
{
	lockdep_assert_held(&pool.lock);
	pool.free[pool.nr_free++] = cowdev_page_index(cp);
	pool.used--;
	pool.frees++;
}

/*
 * Push @cp on the free stack and then uncharge its user: a page counts
 * against its user until it is really free.
 */
static void cowdev_free_page(struct cowdev_page *cp, bool from_limbo)
{
	struct cowdev_user *user = cp->user;
	unsigned long nr_free, used;

	cp->user = NULL;
	spin_lock(&pool.lock);
	if (from_limbo)
		pool.nr_limbo--;
	cowdev_push_free(cp);
	nr_free = pool.nr_free;
	used = pool.used;
	spin_unlock(&pool.lock);
	trace_cowdev_pool_free(page_to_pfn(cp->page), false, nr_free, used);
	cowdev_user_uncharge(user);
}

/*
 * Free the limbo pages whose last outside reference is gone.  A page on the
 * detached list is the reaper's alone: no view holds it (nothing can raise
 * its holders) and it is not on the free stack.  Called with pool.reaping.
 */
static void cowdev_reap_limbo(void)
{
	struct cowdev_page *cp, *tmp;
	LIST_HEAD(scan);

	lockdep_assert_held(&pool.reaping);
	spin_lock(&pool.lock);
	list_splice_init(&pool.limbo, &scan);
	spin_unlock(&pool.lock);
	list_for_each_entry_safe(cp, tmp, &scan, limbo) {
		if (page_ref_count(cp->page) != 1)
			continue;
		list_del_init(&cp->limbo);
		cowdev_free_page(cp, true);
	}
	spin_lock(&pool.lock);
	list_splice(&scan, &pool.limbo);
	spin_unlock(&pool.lock);
}

/**
 * cowdev_pool_reap() - free the limbo pages nothing references any more
 *
 * Reaps unless a whole reap ran between this call and its turn: callers
 * that queue behind a reap wait for one scan instead of each making their
 * own.  pool.reaps is odd while a reap runs and grows by two per reap.
 *
 * Return: true if limbo was not empty (an allocation or a charge may
 * succeed now).
 */
bool cowdev_pool_reap(void)
{
	unsigned long seq = READ_ONCE(pool.reaps);
	unsigned long done = ((seq + 1) | 1) + 1;	/* end of a whole reap */

	if (!READ_ONCE(pool.nr_limbo))
		return false;
	mutex_lock(&pool.reaping);
	if ((long)(pool.reaps - done) < 0) {
		WRITE_ONCE(pool.reaps, pool.reaps + 1);
		cowdev_reap_limbo();
		WRITE_ONCE(pool.reaps, pool.reaps + 1);
	}
	mutex_unlock(&pool.reaping);
	return true;
}

/* Pop a page off the free stack, NULL when it is empty. */
static struct cowdev_page *cowdev_pop_free(void)
{
	struct cowdev_page *cp = NULL;
	unsigned long nr_free, used;

	spin_lock(&pool.lock);
	if (pool.nr_free) {
		cp = &pool.pages[pool.free[--pool.nr_free]];
		pool.used++;
		pool.allocs++;
		pool.peak_used = max(pool.peak_used, pool.used);
	}
	nr_free = pool.nr_free;
	used = pool.used;
	spin_unlock(&pool.lock);
	if (cp)
		trace_cowdev_pool_alloc(page_to_pfn(cp->page), true, nr_free,
					used, false);
	if (nr_free < READ_ONCE(cowdev_low_watermark))
		cowdev_kswapd_wake(nr_free);
	return cp;
}

/**
 * cowdev_pool_alloc() - take a page from the pool
 * @zero: clear it (a page-in overwrites it whole instead)
 *
 * Return: the page with one holder, or NULL when the pool is empty; the
 * caller decides whether that is a failure (cowdev_pool_alloc_failed()) or
 * a reason to evict (reclaim.c).  Never calls the page allocator.  An empty
 * free stack reaps limbo first, which may wait for a reap in progress
 * (pool.reaping).
 */
struct cowdev_page *cowdev_pool_alloc(bool zero)
{
	struct cowdev_page *cp;

	cp = cowdev_pop_free();
	if (!cp && cowdev_pool_reap())
		cp = cowdev_pop_free();
	if (!cp)
		return NULL;
	if (zero)
		clear_highpage(cp->page);
	cp->swap = COWDEV_NO_SWAP;
	cp->referenced = false;
	cp->age = 0;
	atomic_set(&cp->holders, 1);
	return cp;
}

/*
 * An allocation found the pool empty and nothing could be evicted, or
 * was made to fail as if it had (@injected: inject.c).
 */
void cowdev_pool_alloc_failed(bool injected)
{
	unsigned long nr_free, used;

	spin_lock(&pool.lock);
	pool.alloc_failures++;
	nr_free = pool.nr_free;
	used = pool.used;
	spin_unlock(&pool.lock);
	trace_cowdev_pool_alloc(0, false, nr_free, used, injected);
}

unsigned long cowdev_pool_nr_free(void)
{
	return READ_ONCE(pool.nr_free);
}

/* One more view slot holds @cp; the caller holds it already. */
void cowdev_page_hold(struct cowdev_page *cp)
{
	WARN_ON_ONCE(atomic_inc_return(&cp->holders) < 2);
}

/*
 * A view slot lets go of @cp.  The last holder returns it to the free stack,
 * or to limbo while a pte or pin still references it.  The caller has zapped
 * the slot's ptes in its own view already.
 */
void cowdev_page_release(struct cowdev_page *cp)
{
	unsigned long nr_free, used;

	if (!atomic_dec_and_test(&cp->holders))
		return;
	cowdev_lru_del(cp);
	cowdev_swap_forget(cp);
	ClearPageDirty(cp->page);
	/*
	 * No view holds the page and its ptes are gone, so its refcount can
	 * only fall from here (a pin needs a pte to start from).
	 */
	if (page_ref_count(cp->page) == 1) {
		cowdev_free_page(cp, false);
		return;
	}
	/* Still referenced: the user stays charged until it is reaped. */
	spin_lock(&pool.lock);
	list_add_tail(&cp->limbo, &pool.limbo);
	pool.nr_limbo++;
	nr_free = pool.nr_free;
	used = pool.used;
	spin_unlock(&pool.lock);
	trace_cowdev_pool_free(page_to_pfn(cp->page), true, nr_free, used);
}

struct cowdev_page *cowdev_zero_page(void)
{
	return &pool.pages[COWDEV_ZERO_INDEX];
}

struct cowdev_page *cowdev_pool_page(unsigned long i)
{
	return &pool.pages[i];
}

unsigned long cowdev_pool_total(void)
{
	return pool.total;
}

void cowdev_pool_get_info(struct cowdev_pool_info *info)
{
	cowdev_pool_reap();
	spin_lock(&pool.lock);
	info->total_pages = pool.total;
	info->free_pages = pool.nr_free;
	info->used_pages = pool.used;
	info->peak_used = pool.peak_used;
	info->alloc_failures = pool.alloc_failures;
	info->limbo_pages = pool.nr_limbo;
	info->allocs = pool.allocs;
	info->frees = pool.frees;
	spin_unlock(&pool.lock);
	info->views = cowdev_views_count();
	cowdev_swap_get_info(info);
	cowdev_reclaim_get_info(info);
	info->injected_failures = cowdev_injected_failures();
}

static void cowdev_pool_free_pages(unsigned long nr)
{
	while (nr--)
		put_page(pool.pages[nr].page);
}

/**
 * cowdev_pool_init() - reserve the pool
 * @nr_pages: pages to reserve, the zero page included
 *
 * Fails (without invoking the OOM killer) when the pages cannot be had.
 */
int cowdev_pool_init(unsigned long nr_pages)
{
	const gfp_t gfp = GFP_KERNEL | __GFP_ZERO | __GFP_RETRY_MAYFAIL |
			  __GFP_NOWARN;
	unsigned long i;

	if (nr_pages < 2 || nr_pages > UINT_MAX) {
		pr_err("pool_pages=%lu: need 2 to %u\n", nr_pages, UINT_MAX);
		return -EINVAL;
	}
	pool.pages = kvcalloc(nr_pages, sizeof(*pool.pages), GFP_KERNEL);
	pool.free = kvcalloc(nr_pages, sizeof(*pool.free), GFP_KERNEL);
	if (!pool.pages || !pool.free)
		goto err_arrays;
	for (i = 0; i < nr_pages; i++) {
		pool.pages[i].page = alloc_page(gfp);
		if (!pool.pages[i].page)
			goto err_pages;
		INIT_LIST_HEAD(&pool.pages[i].limbo);
		INIT_LIST_HEAD(&pool.pages[i].lru);
		pool.pages[i].swap = COWDEV_NO_SWAP;
	}
	/* Push so that low indexes are allocated first. */
	for (i = nr_pages - 1; i > COWDEV_ZERO_INDEX; i--)
		pool.free[pool.nr_free++] = i;
	pool.total = nr_pages;
	return 0;

err_pages:
	pr_err("cannot reserve %lu pages for the pool (got %lu)\n",
	       nr_pages, i);
	cowdev_pool_free_pages(i);
err_arrays:
	kvfree(pool.free);
	kvfree(pool.pages);
	pool.free = NULL;
	pool.pages = NULL;
	return -ENOMEM;
}

/*
 * Drop the pool's reference on every page.  No view exists any more; a page
 * still pinned from outside is freed by its last put_page().
 */
void cowdev_pool_exit(void)
{
	/* Every view is gone: only pages pinned from outside may be in use. */
	WARN(pool.used != pool.nr_limbo || pool.nr_free + pool.used + 1 != pool.total,
	     "pool accounting at unload: total %lu free %lu used %lu limbo %lu\n",
	     pool.total, pool.nr_free, pool.used, pool.nr_limbo);
	cowdev_pool_free_pages(pool.total);
	kvfree(pool.free);
	kvfree(pool.pages);
}
