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
 * Free pages are kept in two arrays: pages that may hold old data in a
 * ring (pool.free), pages known to be zero on a stack (pool.zeroed).
 * Allocations and frees push and pop at the ring's head, so that the page
 * freed last, still in the caches, is used first and the pages of one
 * object stay together; the zeroer takes from its tail, the coldest pages,
 * out of their way.  An allocation that needs a zeroed page takes a
 * pre-zeroed one and clears a page on the fault path only when there is
 * none; a copy or a page-in, which overwrite the page whole, take an
 * unzeroed one first.  The zeroer (a kernel thread under SCHED_IDLE,
 * cowdev_zeroer()) keeps up to zero_reserve pages (module parameter,
 * writable; 0: none) pre-zeroed: it takes one page off the ring's tail
 * (pool.nr_clearing counts it, still free), clears it without the lock and
 * pushes it on the zeroed stack.  An allocation that finds both empty
 * while a page is being cleared waits for it: one page's clear, but on a
 * machine whose CPUs are all busy a SCHED_IDLE thread may first wait for
 * a CPU (this happens only with the pool down to its last free page).
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

static struct {
	spinlock_t lock;
	struct cowdev_page *pages;	/* [total] */
	unsigned int *free;		/* ring of unzeroed free page indexes */
	unsigned long free_head;	/* where the next free page goes */
	unsigned long nr_free;		/* in the ring, before free_head */
	unsigned int *zeroed;		/* stack of zeroed free page indexes */
	unsigned long nr_zeroed;
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
	.limbo = LIST_HEAD_INIT(pool.limbo),
	.reaping = __MUTEX_INITIALIZER(pool.reaping),
	.zeroer_wait = __WAIT_QUEUE_HEAD_INITIALIZER(pool.zeroer_wait),
};

static unsigned long cowdev_zero_reserve = 256;

/* Index 0 is the zero page; it is never on the free stack. */
#define COWDEV_ZERO_INDEX 0

static unsigned int cowdev_page_index(struct cowdev_page *cp)
{
	return cp - pool.pages;
}

/* The ring of unzeroed pages, under pool.lock: push and pop at its head. */
static void cowdev_ring_push(unsigned int i)
{
	pool.free[pool.free_head] = i;
	if (++pool.free_head == pool.total)
		pool.free_head = 0;
	pool.nr_free++;
}

static unsigned int cowdev_ring_pop(void)
{
	pool.free_head = (pool.free_head ?: pool.total) - 1;
	pool.nr_free--;
	return pool.free[pool.free_head];
}

/* The ring's coldest page, for the zeroer. */
static unsigned int cowdev_ring_pop_tail(void)
{
	unsigned long tail = (pool.free_head + pool.total - pool.nr_free) %
			     pool.total;

	pool.nr_free--;
	return pool.free[tail];
}

/* Free pages: the ring, the zeroed stack, the one being cleared. */
static unsigned long cowdev_nr_free_locked(void)
{
	return pool.nr_free + pool.nr_zeroed + pool.nr_clearing;
}

/*
 * How many pages the reserve lacks (zeroed or being cleared), 0 when it
 * is full or there is no unzeroed page to clear.  Exact under pool.lock.
 */
static unsigned long cowdev_zero_shortfall(void)
{
	unsigned long reserve = READ_ONCE(cowdev_zero_reserve);
	unsigned long have = READ_ONCE(pool.nr_zeroed) +
			     READ_ONCE(pool.nr_clearing);

	if (!READ_ONCE(pool.nr_free) || have >= reserve)
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

/* Move pre-zeroed pages beyond the reserve back to the unzeroed stack. */
static void cowdev_zero_reserve_trim(void)
{
	spin_lock(&pool.lock);
	while (pool.nr_zeroed > READ_ONCE(cowdev_zero_reserve))
		cowdev_ring_push(pool.zeroed[--pool.nr_zeroed]);
	spin_unlock(&pool.lock);
}

static int cowdev_zero_reserve_set(const char *val,
				   const struct kernel_param *kp)
{
	int ret = param_set_ulong(val, kp);

	if (ret || !pool.free)
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
	cowdev_ring_push(cowdev_page_index(cp));
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
	nr_free = cowdev_nr_free_locked();
	used = pool.used;
	spin_unlock(&pool.lock);
	trace_cowdev_pool_free(page_to_pfn(cp->page), false, nr_free, used);
	cowdev_user_uncharge(user);
	cowdev_zeroer_wake(cowdev_zero_batch());
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

/*
 * Take a free page: with @zero a pre-zeroed one first (*@zeroed says which
 * it got), else an unzeroed one first.  Called with pool.lock; NULL when
 * neither has a page.
 */
static struct cowdev_page *cowdev_take_free(bool zero, bool *zeroed)
{
	unsigned int i;

	lockdep_assert_held(&pool.lock);
	*zeroed = pool.nr_zeroed && (zero || !pool.nr_free);
	if (*zeroed)
		i = pool.zeroed[--pool.nr_zeroed];
	else if (pool.nr_free)
		i = cowdev_ring_pop();
	else
		return NULL;
	return &pool.pages[i];
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
		trace_cowdev_pool_alloc(page_to_pfn(cp->page), true, nr_free,
					used, false);
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
		cp = &pool.pages[cowdev_ring_pop_tail()];
		pool.nr_clearing++;
	}
	spin_unlock(&pool.lock);
	return cp;
}

/* @cp is clear: onto the zeroed stack, and wake an allocation waiting. */
static void cowdev_zeroer_put(struct cowdev_page *cp)
{
	spin_lock(&pool.lock);
	pool.zeroed[pool.nr_zeroed++] = cowdev_page_index(cp);
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
		clear_highpage(cp->page);
		cowdev_zeroer_put(cp);
		cond_resched();
	}
	return 0;
}

/* Both stacks are empty: wait for a page the zeroer is clearing, if any. */
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
 * free stack reaps limbo first, which may wait for a reap in progress
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
		clear_highpage(cp->page);
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
	return READ_ONCE(pool.nr_free) + READ_ONCE(pool.nr_zeroed) +
	       READ_ONCE(pool.nr_clearing);
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
	nr_free = cowdev_nr_free_locked();
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

/* What the pool keeps per page beside the struct page itself. */
size_t cowdev_pool_meta_bytes(void)
{
	return sizeof(*pool.pages) + sizeof(*pool.free) + sizeof(*pool.zeroed);
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
	info->zeroed_pages = pool.nr_zeroed;
	info->zeroed_allocs = pool.zeroed_allocs;
	info->inline_zeroes = pool.inline_zeroes;
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
	unsigned long i, zeroed;

	if (nr_pages < 2 || nr_pages > UINT_MAX) {
		pr_err("pool_pages=%lu: need 2 to %u\n", nr_pages, UINT_MAX);
		return -EINVAL;
	}
	pool.pages = kvcalloc(nr_pages, sizeof(*pool.pages), GFP_KERNEL);
	pool.free = kvcalloc(nr_pages, sizeof(*pool.free), GFP_KERNEL);
	pool.zeroed = kvcalloc(nr_pages, sizeof(*pool.zeroed), GFP_KERNEL);
	if (!pool.pages || !pool.free || !pool.zeroed)
		goto err_arrays;
	for (i = 0; i < nr_pages; i++) {
		pool.pages[i].page = alloc_page(gfp);
		if (!pool.pages[i].page)
			goto err_pages;
		INIT_LIST_HEAD(&pool.pages[i].limbo);
		INIT_LIST_HEAD(&pool.pages[i].lru);
		pool.pages[i].swap = COWDEV_NO_SWAP;
	}
	/*
	 * Every page is zero now: up to zero_reserve of them start on the
	 * zeroed stack.  Pushed so that low indexes are allocated first.
	 */
	pool.total = nr_pages;
	zeroed = min(nr_pages - 1, READ_ONCE(cowdev_zero_reserve));
	for (i = nr_pages - 1; i > zeroed; i--)
		cowdev_ring_push(i);
	for (; i > COWDEV_ZERO_INDEX; i--)
		pool.zeroed[pool.nr_zeroed++] = i;
	pool.zeroer = kthread_run(cowdev_zeroer, NULL, "cowdev_zero");
	if (IS_ERR(pool.zeroer)) {
		pr_err("cannot start the zeroer thread\n");
		i = nr_pages;
		goto err_pages;
	}
	return 0;

err_pages:
	if (i < nr_pages)
		pr_err("cannot reserve %lu pages for the pool (got %lu)\n",
		       nr_pages, i);
	cowdev_pool_free_pages(i);
err_arrays:
	kvfree(pool.zeroed);
	kvfree(pool.free);
	kvfree(pool.pages);
	pool.zeroed = NULL;
	pool.free = NULL;
	pool.pages = NULL;
	pool.total = 0;
	pool.free_head = 0;
	pool.nr_free = 0;
	pool.nr_zeroed = 0;
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
	cowdev_pool_free_pages(pool.total);
	kvfree(pool.zeroed);
	kvfree(pool.free);
	kvfree(pool.pages);
}
