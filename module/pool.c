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
 * nothing a process can still read is ever handed to another object.  Limbo
 * pages are reaped (moved to the free stack once their last outside
 * reference is gone) on allocation and when the pool's counters are read.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/mm.h>
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
	unsigned long nr_limbo;
	struct list_head limbo;
	u64 alloc_failures;
	u64 allocs;
	u64 frees;
} pool = {
	.lock = __SPIN_LOCK_UNLOCKED(pool.lock),
	.limbo = LIST_HEAD_INIT(pool.limbo),
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

/* Move limbo pages whose last outside reference is gone to the free stack. */
static void cowdev_reap_limbo(void)
{
	struct cowdev_page *cp, *tmp;

	lockdep_assert_held(&pool.lock);
	list_for_each_entry_safe(cp, tmp, &pool.limbo, limbo) {
		if (page_ref_count(cp->page) != 1)
			continue;
		list_del_init(&cp->limbo);
		pool.nr_limbo--;
		cowdev_push_free(cp);
		trace_cowdev_pool_free(page_to_pfn(cp->page), false,
				       pool.nr_free, pool.used);
	}
}

/**
 * cowdev_pool_alloc() - take a zeroed page from the pool
 *
 * Return: the page with one holder, or NULL when the pool is empty.  Never
 * sleeps and never calls the page allocator.
 */
struct cowdev_page *cowdev_pool_alloc(void)
{
	struct cowdev_page *cp = NULL;
	unsigned long nr_free, used;

	spin_lock(&pool.lock);
	if (!pool.nr_free && pool.nr_limbo)
		cowdev_reap_limbo();
	if (pool.nr_free) {
		cp = &pool.pages[pool.free[--pool.nr_free]];
		pool.used++;
		pool.allocs++;
		pool.peak_used = max(pool.peak_used, pool.used);
	} else {
		pool.alloc_failures++;
	}
	nr_free = pool.nr_free;
	used = pool.used;
	spin_unlock(&pool.lock);
	trace_cowdev_pool_alloc(cp ? page_to_pfn(cp->page) : 0, cp, nr_free,
				used);
	if (!cp)
		return NULL;
	clear_highpage(cp->page);
	atomic_set(&cp->holders, 1);
	return cp;
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
	bool limbo;

	if (!atomic_dec_and_test(&cp->holders))
		return;
	cowdev_user_uncharge(cp->user);
	cp->user = NULL;
	ClearPageDirty(cp->page);
	spin_lock(&pool.lock);
	limbo = page_ref_count(cp->page) != 1;
	if (limbo) {
		list_add_tail(&cp->limbo, &pool.limbo);
		pool.nr_limbo++;
	} else {
		cowdev_push_free(cp);
	}
	nr_free = pool.nr_free;
	used = pool.used;
	spin_unlock(&pool.lock);
	trace_cowdev_pool_free(page_to_pfn(cp->page), limbo, nr_free, used);
}

struct cowdev_page *cowdev_zero_page(void)
{
	return &pool.pages[COWDEV_ZERO_INDEX];
}

void cowdev_pool_get_info(struct cowdev_pool_info *info)
{
	spin_lock(&pool.lock);
	if (pool.nr_limbo)
		cowdev_reap_limbo();
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
