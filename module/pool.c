// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev: the page pool.
 *
 * All pages that cowdev maps into processes come from one pool reserved at
 * load (module parameter pool_pages).  One of them is the shared zero page;
 * the others are handed to views on first write and on copy-on-write breaks.
 * Allocation and free are O(1) pops and pushes of lists of pages; the page
 * allocator is never called after load.
 *
 * The pool owns one reference to each of its pages for as long as the
 * module is loaded (dropped in cowdev_pool_exit()).  It allocates them at
 * load in blocks of up to 2^pool_block_order physically contiguous pages
 * (split into single pages), so that page i is found from i alone
 * (cowdev_page_of()); what it keeps per page beside the struct page is one
 * struct cowdev_page (cowdev.h): 16 bytes, and 8 per block.  A page's lists
 * go through its struct page's lru field: it is on one pool list at a time
 * (free, zeroed, limbo, the reaper's, or the replacement list of
 * reclaim.c).  A page is on pool.limbo while released by every view but
 * still referenced by a pte or a pin (page_ref_count() > 1).
 *
 * pool.lock (spinlock, never held across anything that sleeps) protects the
 * free lists, the limbo list and the counters.  A page goes back to a free
 * list only when no view holds it and its refcount is the pool's alone, so
 * nothing a process can still read is ever handed to another object.
 *
 * A page stays charged to the user that allocated it (@user, user.c) until
 * it is back on a free list: a page in limbo is still that user's, so
 * pins (vmsplice into the user's own pipes) cannot be used to pass the
 * user's limit.
 *
 * Pages that views hold are also on the replacement list (reclaim.c) from
 * when they are published in a slot until their last holder lets go or
 * they are evicted; a page's copy in the swap area (@swap) is dropped with
 * its last holder.
 *
 * Free pages are kept on two lists: pages that may hold old data
 * (pool.free), pages known to be zero (pool.zeroed).  Allocations and
 * frees push and pop at pool.free's head, so that the page freed last,
 * still in the caches, is used first and the pages of one object stay
 * together; the zeroer takes from its tail, the coldest pages, out of
 * their way.  An allocation that needs a zeroed page takes a
 * pre-zeroed one and clears a page on the fault path only when there is
 * none; a copy or a page-in, which overwrite the page whole, take an
 * unzeroed one first.  The zeroer (a kernel thread under SCHED_IDLE,
 * cowdev_zeroer()) keeps up to zero_reserve pages (module parameter,
 * writable; 0: none) pre-zeroed: it takes one page off pool.free's tail
 * (pool.nr_clearing counts it, still free), clears it without the lock and
 * pushes it on the zeroed list, or back on pool.free if zero_reserve was
 * lowered meanwhile and the list is full.  An allocation that finds both empty
 * while a page is being cleared waits for it: one page's clear, but on a
 * machine whose CPUs are all busy a SCHED_IDLE thread may first wait for
 * a CPU (this happens only with the pool down to its last free page).
 *
 * Limbo pages are reaped (moved to the free list once their last outside
 * reference is gone) when an allocation finds the free lists empty and when
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
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait_bit.h>
#include <uapi/linux/sched/types.h>

#include "cowdev.h"
#include "cowdev_trace.h"

/* Free pages, linked through their struct page's lru. */
struct cowdev_free_list {
	struct list_head pages;
	unsigned long nr;
};

static struct {
	spinlock_t lock;
	struct cowdev_free_list free;	/* unzeroed free pages, hot first */
	struct cowdev_free_list zeroed;	/* zeroed free pages */
	unsigned long nr_clearing;	/* taken by the zeroer, still free */
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
	u64 zeroed_allocs;		/* served pre-zeroed */
	u64 inline_zeroes;		/* cleared on the allocating path */
	struct task_struct *zeroer;
	wait_queue_head_t zeroer_wait;
} pool = {
	.lock = __SPIN_LOCK_UNLOCKED(pool.lock),
	.free.pages = LIST_HEAD_INIT(pool.free.pages),
	.zeroed.pages = LIST_HEAD_INIT(pool.zeroed.pages),
	.limbo = LIST_HEAD_INIT(pool.limbo),
	.reaping = __MUTEX_INITIALIZER(pool.reaping),
	.zeroer_wait = __WAIT_QUEUE_HEAD_INITIALIZER(pool.zeroer_wait),
};

static unsigned long cowdev_zero_reserve = 256;

struct cowdev_pool_map cowdev_pool_map;

/* Index 0 is the zero page; it is never on a free list. */
#define COWDEV_ZERO_INDEX 0

/* The largest blocks the pool is allocated in: 2 MiB. */
#define COWDEV_MAX_BLOCK_ORDER 9

static unsigned int cowdev_pool_block_order = COWDEV_MAX_BLOCK_ORDER;
module_param_named(pool_block_order, cowdev_pool_block_order, uint, 0444);
MODULE_PARM_DESC(pool_block_order,
		 "The pool is allocated in blocks of up to 2^N pages (0 to 9, default 9)");

static struct cowdev_page *cowdev_list_take(struct list_head *node)
{
	list_del_init(node);
	return cowdev_page_from(list_entry(node, struct page, lru));
}

/* A free list, under pool.lock: push and pop at the head. */
static void cowdev_free_push(struct cowdev_free_list *fl,
			     struct cowdev_page *cp)
{
	list_add(cowdev_page_lru(cp), &fl->pages);
	fl->nr++;
}

static struct cowdev_page *cowdev_free_pop(struct cowdev_free_list *fl)
{
	fl->nr--;
	return cowdev_list_take(fl->pages.next);
}

/* The coldest page of @fl, for the zeroer. */
static struct cowdev_page *cowdev_free_pop_tail(struct cowdev_free_list *fl)
{
	fl->nr--;
	return cowdev_list_take(fl->pages.prev);
}

static void cowdev_free_list_init(struct cowdev_free_list *fl)
{
	INIT_LIST_HEAD(&fl->pages);
	fl->nr = 0;
}

/* Free pages: both lists, and the one being cleared. */
static unsigned long cowdev_nr_free_locked(void)
{
	return pool.free.nr + pool.zeroed.nr + pool.nr_clearing;
}

/*
 * How many pages the reserve lacks (zeroed or being cleared), 0 when it
 * is full or there is no unzeroed page to clear.  Exact under pool.lock.
 */
static unsigned long cowdev_zero_shortfall(void)
{
	unsigned long reserve = READ_ONCE(cowdev_zero_reserve);
	unsigned long have = READ_ONCE(pool.zeroed.nr) +
			     READ_ONCE(pool.nr_clearing);

	if (!READ_ONCE(pool.free.nr) || have >= reserve)
		return 0;
	return reserve - have;
}

/*
 * Wake the zeroer if the reserve lacks at least @min pages.  Allocations
 * and frees ask for a batch (cowdev_zero_batch()), not one page: a
 * wake-up (a wait-queue lock with interrupts off, an IPI to the idle CPU)
 * cost a first write about a fifth of its time.  Awake, the zeroer fills
 * the whole reserve.
 */
static void cowdev_zeroer_wake(unsigned long min)
{
	if (cowdev_zero_shortfall() >= min &&
	    wq_has_sleeper(&pool.zeroer_wait))
		wake_up(&pool.zeroer_wait);
}

/* An eighth of the reserve, 1 to 64 pages. */
static unsigned long cowdev_zero_batch(void)
{
	return clamp(READ_ONCE(cowdev_zero_reserve) / 8, 1UL, 64UL);
}

/* Move pre-zeroed pages beyond the reserve back to the unzeroed list. */
static void cowdev_zero_reserve_trim(void)
{
	spin_lock(&pool.lock);
	while (pool.zeroed.nr > READ_ONCE(cowdev_zero_reserve))
		cowdev_free_push(&pool.free, cowdev_free_pop(&pool.zeroed));
	spin_unlock(&pool.lock);
}

static int cowdev_zero_reserve_set(const char *val,
				   const struct kernel_param *kp)
{
	int ret = param_set_ulong(val, kp);

	if (ret || !pool.total)
		return ret;
	cowdev_zero_reserve_trim();
	wake_up(&pool.zeroer_wait);
	return 0;
}

static const struct kernel_param_ops cowdev_zero_reserve_ops = {
	.set = cowdev_zero_reserve_set,
	.get = param_get_ulong,
};
module_param_cb(zero_reserve, &cowdev_zero_reserve_ops, &cowdev_zero_reserve,
		0644);
MODULE_PARM_DESC(zero_reserve,
		 "Free pages kept zeroed off the fault path (default 256; 0: none)");

static void cowdev_push_free(struct cowdev_page *cp)
{
	lockdep_assert_held(&pool.lock);
	cowdev_free_push(&pool.free, cp);
	pool.used--;
	pool.frees++;
}

/*
 * Push @cp on the free list and then uncharge its user: a page counts
 * against its user until it is really free.
 */
static void cowdev_free_page(struct cowdev_page *cp, bool from_limbo)
{
	struct cowdev_user *user = cowdev_user_by_id(cp->user);
	unsigned long nr_free, used;

	cp->user = 0;
	set_page_private(cowdev_page_of(cp), 0);
	spin_lock(&pool.lock);
	if (from_limbo)
		pool.nr_limbo--;
	cowdev_push_free(cp);
	nr_free = cowdev_nr_free_locked();
	used = pool.used;
	spin_unlock(&pool.lock);
	trace_cowdev_pool_free(page_to_pfn(cowdev_page_of(cp)), false, nr_free,
			       used);
	cowdev_user_uncharge(user);
	cowdev_zeroer_wake(cowdev_zero_batch());
}

/*
 * Free the limbo pages whose last outside reference is gone.  A page on the
 * detached list is the reaper's alone: no view holds it (nothing can raise
 * its holders) and it is not on a free list.  Called with pool.reaping.
 */
static void cowdev_reap_limbo(void)
{
	struct page *page, *tmp;
	LIST_HEAD(scan);

	lockdep_assert_held(&pool.reaping);
	spin_lock(&pool.lock);
	list_splice_init(&pool.limbo, &scan);
	spin_unlock(&pool.lock);
	list_for_each_entry_safe(page, tmp, &scan, lru) {
		if (page_ref_count(page) != 1)
			continue;
		cowdev_free_page(cowdev_list_take(&page->lru), true);
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

/*
 * Take a free page: with @zero a pre-zeroed one first (*@zeroed says which
 * it got), else an unzeroed one first.  Called with pool.lock; NULL when
 * neither has a page.
 */
static struct cowdev_page *cowdev_take_free(bool zero, bool *zeroed)
{
	lockdep_assert_held(&pool.lock);
	*zeroed = pool.zeroed.nr && (zero || !pool.free.nr);
	if (*zeroed)
		return cowdev_free_pop(&pool.zeroed);
	if (pool.free.nr)
		return cowdev_free_pop(&pool.free);
	return NULL;
}

/* Pop a free page (cowdev_take_free()), NULL when there is none. */
static struct cowdev_page *cowdev_pop_free(bool zero, bool *zeroed)
{
	struct cowdev_page *cp;
	unsigned long nr_free, used;

	spin_lock(&pool.lock);
	cp = cowdev_take_free(zero, zeroed);
	if (cp) {
		pool.used++;
		pool.allocs++;
		pool.peak_used = max(pool.peak_used, pool.used);
		if (zero && *zeroed)
			pool.zeroed_allocs++;
		else if (zero)
			pool.inline_zeroes++;
	}
	nr_free = cowdev_nr_free_locked();
	used = pool.used;
	spin_unlock(&pool.lock);
	if (cp)
		trace_cowdev_pool_alloc(page_to_pfn(cowdev_page_of(cp)), true,
					nr_free, used, false);
	if (nr_free < READ_ONCE(cowdev_low_watermark))
		cowdev_kswapd_wake(nr_free);
	return cp;
}

/* Take an unzeroed page to clear; NULL when the reserve is full. */
static struct cowdev_page *cowdev_zeroer_take(void)
{
	struct cowdev_page *cp = NULL;

	spin_lock(&pool.lock);
	if (cowdev_zero_shortfall()) {
		cp = cowdev_free_pop_tail(&pool.free);
		pool.nr_clearing++;
	}
	spin_unlock(&pool.lock);
	return cp;
}

/*
 * @cp is clear: onto the zeroed list, unless zero_reserve was lowered
 * while it was being cleared and the list is full (the trim cannot see a
 * page being cleared); then back among the unzeroed pages.  Either way,
 * wake an allocation waiting for it.
 */
static void cowdev_zeroer_put(struct cowdev_page *cp)
{
	struct cowdev_free_list *list = &pool.zeroed;

	spin_lock(&pool.lock);
	if (pool.zeroed.nr >= READ_ONCE(cowdev_zero_reserve) &&
	    !cowdev_mutant("no_zero_reserve_room_check"))
		list = &pool.free;
	cowdev_free_push(list, cp);
	pool.nr_clearing--;
	spin_unlock(&pool.lock);
	/* Order the count before the waiter check; see wake_up_var(). */
	smp_mb();
	wake_up_var(&pool.nr_clearing);
}

/*
 * SCHED_IDLE: the zeroer runs only on a CPU that has nothing else to run,
 * so it never takes time from a faulting task (at nice 19 it still had its
 * share, and a wake-up could preempt one).  Should the policy be refused,
 * it stays at nice 19.
 */
static void cowdev_zeroer_idle(void)
{
	struct sched_attr attr = { .sched_policy = SCHED_IDLE };

	if (sched_setattr_nocheck(current, &attr))
		set_user_nice(current, MAX_NICE);
}

/*
 * The zeroer: clears free pages, under SCHED_IDLE, until zero_reserve of
 * them are zeroed, then sleeps until allocations or frees leave the
 * reserve short by a batch (cowdev_zeroer_wake()) or a reader of the pool
 * counters finds it short at all.
 */
static int cowdev_zeroer(void *unused)
{
	struct cowdev_page *cp;

	cowdev_zeroer_idle();
	while (!kthread_should_stop()) {
		cp = cowdev_zeroer_take();
		if (!cp) {
			wait_event_idle(pool.zeroer_wait,
					cowdev_zero_shortfall() ||
					kthread_should_stop());
			continue;
		}
		clear_highpage(cowdev_page_of(cp));
		cowdev_delay(COWDEV_DELAY_ZERO_CLEAR);
		cowdev_zeroer_put(cp);
		cond_resched();
	}
	return 0;
}

/* Both lists are empty: wait for a page the zeroer is clearing, if any. */
static bool cowdev_wait_clearing(void)
{
	if (!READ_ONCE(pool.nr_clearing))
		return false;
	wait_var_event(&pool.nr_clearing, !READ_ONCE(pool.nr_clearing));
	return true;
}

/**
 * cowdev_pool_alloc() - take a page from the pool
 * @zero: clear it (a page-in or a copy overwrites it whole instead)
 *
 * Return: the page with one holder, or NULL when the pool is empty; the
 * caller decides whether that is a failure (cowdev_pool_alloc_failed()) or
 * a reason to evict (reclaim.c).  Never calls the page allocator.  An empty
 * free list reaps limbo first, which may wait for a reap in progress
 * (pool.reaping), and waits for a page the zeroer is clearing.
 */
struct cowdev_page *cowdev_pool_alloc(bool zero)
{
	struct cowdev_page *cp;
	bool zeroed;

	cp = cowdev_pop_free(zero, &zeroed);
	if (!cp && cowdev_pool_reap())
		cp = cowdev_pop_free(zero, &zeroed);
	while (!cp && cowdev_wait_clearing())
		cp = cowdev_pop_free(zero, &zeroed);
	if (!cp)
		return NULL;
	if (zero && !zeroed)
		clear_highpage(cowdev_page_of(cp));
	cp->swap = COWDEV_NO_SWAP;
	cp->referenced = false;
	cp->age = 0;
	atomic_set(&cp->holders, 1);
	cowdev_zeroer_wake(cowdev_zero_batch());
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
	nr_free = cowdev_nr_free_locked();
	used = pool.used;
	spin_unlock(&pool.lock);
	trace_cowdev_pool_alloc(0, false, nr_free, used, injected);
}

unsigned long cowdev_pool_nr_free(void)
{
	return READ_ONCE(pool.free.nr) + READ_ONCE(pool.zeroed.nr) +
	       READ_ONCE(pool.nr_clearing);
}

/* One more view slot holds @cp; the caller holds it already. */
void cowdev_page_hold(struct cowdev_page *cp)
{
	WARN_ON_ONCE(atomic_inc_return(&cp->holders) < 2);
}

/*
 * A view slot lets go of @cp.  The last holder returns it to a free list,
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
	ClearPageDirty(cowdev_page_of(cp));
	/*
	 * No view holds the page and its ptes are gone, so its refcount can
	 * only fall from here (a pin needs a pte to start from).
	 */
	if (page_ref_count(cowdev_page_of(cp)) == 1) {
		cowdev_free_page(cp, false);
		return;
	}
	/* Still referenced: the user stays charged until it is reaped. */
	spin_lock(&pool.lock);
	list_add_tail(cowdev_page_lru(cp), &pool.limbo);
	pool.nr_limbo++;
	nr_free = cowdev_nr_free_locked();
	used = pool.used;
	spin_unlock(&pool.lock);
	trace_cowdev_pool_free(page_to_pfn(cowdev_page_of(cp)), true, nr_free,
			       used);
}

struct cowdev_page *cowdev_zero_page(void)
{
	return cowdev_pool_page(COWDEV_ZERO_INDEX);
}

/*
 * What the pool keeps per page beside the struct page itself; the block
 * table adds a pointer per cowdev_pool_block_pages() pages.
 */
size_t cowdev_pool_meta_bytes(void)
{
	BUILD_BUG_ON(sizeof(struct cowdev_page) != 16);
	return sizeof(struct cowdev_page);
}

/* The size of the blocks the pool was allocated in. */
unsigned long cowdev_pool_block_pages(void)
{
	return 1UL << cowdev_pool_map.block_order;
}

unsigned long cowdev_pool_total(void)
{
	return pool.total;
}

void cowdev_pool_get_info(struct cowdev_pool_info *info)
{
	cowdev_pool_reap();
	/*
	 * A reader of the counters sees the reserve fill up (it waits for
	 * the zeroer to settle): any shortfall is worth a wake-up here.
	 */
	cowdev_zeroer_wake(1);
	spin_lock(&pool.lock);
	info->total_pages = pool.total;
	info->free_pages = cowdev_nr_free_locked();
	info->used_pages = pool.used;
	info->peak_used = pool.peak_used;
	info->alloc_failures = pool.alloc_failures;
	info->limbo_pages = pool.nr_limbo;
	info->allocs = pool.allocs;
	info->frees = pool.frees;
	info->zeroed_pages = pool.zeroed.nr;
	info->zeroed_allocs = pool.zeroed_allocs;
	info->inline_zeroes = pool.inline_zeroes;
	spin_unlock(&pool.lock);
	info->views = cowdev_views_count();
	cowdev_swap_get_info(info);
	cowdev_reclaim_get_info(info);
	info->injected_failures = cowdev_injected_failures();
}

/*
 * Give back the first @nr pool pages, off whatever pool list they are on.
 * Their struct page fields are the pool's no more: cleared, so that a page
 * still pinned from outside is freed clean by its last put_page().
 */
static void cowdev_pool_free_pages(unsigned long nr)
{
	struct page *page;

	while (nr--) {
		page = cowdev_page_of(cowdev_pool_page(nr));
		list_del_init(&page->lru);
		page->index = 0;
		set_page_private(page, 0);
		clear_bit(PG_owner_priv_1, &page->flags);
		put_page(page);
	}
}

static void cowdev_pool_free_map(void)
{
	kvfree(cowdev_pool_map.blocks);
	kvfree(cowdev_pool_map.pages);
	cowdev_pool_map.blocks = NULL;
	cowdev_pool_map.pages = NULL;
}

/*
 * Give back every page (each leaves its list first: the heads are reset
 * after), then the arrays.
 */
static void cowdev_pool_free_all(void)
{
	cowdev_pool_free_pages(pool.total);
	cowdev_free_list_init(&pool.free);
	cowdev_free_list_init(&pool.zeroed);
	INIT_LIST_HEAD(&pool.limbo);
	pool.total = 0;
	cowdev_pool_free_map();
}

/*
 * One block of pages @first.. (at most 2^@order of them, fewer at the
 * end of the pool): allocated whole, split into single pages, the pages
 * past @nr_pages given back.  Each page records its number in the pool.
 */
static int cowdev_pool_alloc_block(unsigned long first,
				   unsigned long nr_pages, unsigned int order)
{
	gfp_t gfp = GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN;
	unsigned long i, n = min(nr_pages - first, 1UL << order);
	struct page *page;

	gfp |= order ? __GFP_NORETRY : __GFP_RETRY_MAYFAIL;
	page = alloc_pages(gfp, order);
	if (!page)
		return -ENOMEM;
	split_page(page, order);
	for (i = n; i < 1UL << order; i++)
		__free_page(page + i);
	for (i = 0; i < n; i++) {
		INIT_LIST_HEAD(&page[i].lru);
		page[i].index = (first + i) << COWDEV_PAGE_NR_SHIFT;
		cowdev_pool_page(first + i)->swap = COWDEV_NO_SWAP;
	}
	cowdev_pool_map.blocks[first >> order] = page;
	return 0;
}

/*
 * The pool's pages in blocks of 2^@order.  Return: 0, or -ENOMEM with
 * nothing kept but the arrays.
 */
static int cowdev_pool_alloc_blocks(unsigned long nr_pages,
				    unsigned int order)
{
	unsigned long first;

	cowdev_pool_map.block_order = order;
	for (first = 0; first < nr_pages; first += 1UL << order) {
		if (cowdev_pool_alloc_block(first, nr_pages, order)) {
			cowdev_pool_free_pages(first);
			return -ENOMEM;
		}
		cond_resched();
	}
	return 0;
}

/*
 * Reserve @nr_pages in the largest blocks the page allocator gives at
 * once: 2^pool_block_order pages, or smaller ones when memory is
 * fragmented.
 */
static int cowdev_pool_alloc_pages(unsigned long nr_pages)
{
	int order;

	for (order = cowdev_pool_block_order; order >= 0; order--) {
		cowdev_pool_map.blocks =
			kvcalloc(DIV_ROUND_UP(nr_pages, 1UL << order),
				 sizeof(struct page *), GFP_KERNEL);
		if (!cowdev_pool_map.blocks)
			return -ENOMEM;
		if (!cowdev_pool_alloc_blocks(nr_pages, order))
			return 0;
		kvfree(cowdev_pool_map.blocks);
		cowdev_pool_map.blocks = NULL;
	}
	pr_err("cannot reserve %lu pages for the pool\n", nr_pages);
	return -ENOMEM;
}

/* Every page is zero now: up to zero_reserve of them start zeroed. */
static void cowdev_pool_fill_lists(unsigned long nr_pages)
{
	unsigned long i, zeroed;

	zeroed = min(nr_pages - 1, READ_ONCE(cowdev_zero_reserve));
	/* Pushed so that low numbers are allocated first. */
	for (i = nr_pages - 1; i > zeroed; i--)
		cowdev_free_push(&pool.free, cowdev_pool_page(i));
	for (; i > COWDEV_ZERO_INDEX; i--)
		cowdev_free_push(&pool.zeroed, cowdev_pool_page(i));
}

/**
 * cowdev_pool_init() - reserve the pool
 * @nr_pages: pages to reserve, the zero page included
 *
 * Fails (without invoking the OOM killer) when the pages cannot be had.
 */
int cowdev_pool_init(unsigned long nr_pages)
{
	BUILD_BUG_ON(BITS_PER_LONG < 64);
	if (nr_pages < 2 || nr_pages > UINT_MAX) {
		pr_err("pool_pages=%lu: need 2 to %u\n", nr_pages, UINT_MAX);
		return -EINVAL;
	}
	if (cowdev_pool_block_order > COWDEV_MAX_BLOCK_ORDER) {
		pr_err("pool_block_order=%u: need 0 to %u\n",
		       cowdev_pool_block_order, COWDEV_MAX_BLOCK_ORDER);
		return -EINVAL;
	}
	cowdev_pool_map.pages = kvcalloc(nr_pages, sizeof(struct cowdev_page),
					 GFP_KERNEL);
	if (!cowdev_pool_map.pages)
		return -ENOMEM;
	if (cowdev_pool_alloc_pages(nr_pages))
		goto err_map;
	spin_lock(&pool.lock);
	cowdev_pool_fill_lists(nr_pages);
	spin_unlock(&pool.lock);
	pool.total = nr_pages;
	pool.zeroer = kthread_run(cowdev_zeroer, NULL, "cowdev_zero");
	if (IS_ERR(pool.zeroer)) {
		pr_err("cannot start the zeroer thread\n");
		goto err_pages;
	}
	return 0;

err_pages:
	cowdev_pool_free_all();
	return -ENOMEM;
err_map:
	cowdev_pool_free_map();
	return -ENOMEM;
}

/*
 * Drop the pool's reference on every page.  No view exists any more; a page
 * still pinned from outside is freed by its last put_page().
 */
void cowdev_pool_exit(void)
{
	kthread_stop(pool.zeroer);
	/* Every view is gone: only pages pinned from outside may be in use. */
	WARN(pool.used != pool.nr_limbo ||
	     cowdev_nr_free_locked() + pool.used + 1 != pool.total,
	     "pool accounting at unload: total %lu free %lu used %lu limbo %lu\n",
	     pool.total, cowdev_nr_free_locked(), pool.used, pool.nr_limbo);
	cowdev_pool_free_all();
}
