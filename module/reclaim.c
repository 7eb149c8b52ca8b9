// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev: page replacement - choosing a victim, evicting it to the swap
 * area (swap.c), and the background evictor.
 *
 * The replacement list (lru.list, under lru.lock) holds every pool page
 * that views hold, in the order they were loaded (first write, COW copy,
 * page-in: cowdev_lru_add()).  The policy (module parameter evict_policy,
 * writable at run time) picks a victim from it:
 *
 *   fifo   the page loaded longest ago.
 *   clock  second chance: from the head (the hand), a page whose
 *          reference bit is set has it cleared and goes to the tail; the
 *          first page found without it is the victim.  A list rotated this
 *          way is the textbook circle of frames with its hand.
 *   lru    aging, an approximation of LRU: each search looks at the first
 *          COWDEV_AGING_WINDOW candidates (the oldest loaded), shifts each
 *          one's reference bit into the top of its 8-bit age and clears the
 *          bit; the victim is the lowest age, the oldest loaded on ties.
 *
 * Reference bits are software bits (cowdev_page.referenced): every fault
 * that maps a page sets it, and clearing it zaps the page's ptes in every
 * view that holds it, so that the next access faults and sets it again.
 * The cost is one extra minor fault for each page that is used again after
 * its bit was cleared; fifo clears nothing and costs nothing.
 *
 * Global replacement takes candidates from the whole list; a view at its
 * resident limit (local replacement) only its own pages, found in the same
 * list (a page is the view's if the view's slot at the page's index holds
 * it), so every policy has one definition for both.
 *
 * Eviction of a victim (cowdev_evict()): the page is marked isolated (other
 * evictions skip it; it keeps its place on the list) and held by a page
 * reference and a family reference.  Under its
 * family's lock and its page lock (trylock: the lock order puts the page
 * lock inside the family's), every holder is found in the family, its ptes
 * are zapped, and the page's refcount must then be the pool's and ours
 * alone: a pin, a pipe buffer or a fault in flight keeps it in the pool,
 * where it was on the list, and the request tries the next candidate.  A page without a good copy in the
 * swap area is written to a new slot; the holders' slots get the swap
 * entry; the page goes back to the pool's free list.  The family lock
 * keeps clone, shrink, destroy and page-in of the holders away meanwhile;
 * the page lock keeps faults and COW breaks away.
 *
 * The background evictor (cowdev_kswapd, a work item) is woken when an
 * allocation leaves fewer than low_watermark free pages, and evicts until
 * high_watermark pages are free (module parameters, writable; 0: off).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/list.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "cowdev.h"
#include "cowdev_trace.h"

/* Pages the lru policy ages at each search. */
#define COWDEV_AGING_WINDOW	32
/* Victims one eviction request tries before it gives up. */
#define COWDEV_EVICT_TRIES	16

static const char * const cowdev_policy_names[] = {
	[COWDEV_POLICY_FIFO] = "fifo",
	[COWDEV_POLICY_CLOCK] = "clock",
	[COWDEV_POLICY_LRU] = "lru",
};

static int cowdev_policy = COWDEV_POLICY_FIFO;

static int cowdev_policy_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(cowdev_policy_names, val);

	if (i < 0)
		return -EINVAL;
	WRITE_ONCE(cowdev_policy, i);
	return 0;
}

static int cowdev_policy_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  cowdev_policy_names[READ_ONCE(cowdev_policy)]);
}

static const struct kernel_param_ops cowdev_policy_ops = {
	.set = cowdev_policy_set,
	.get = cowdev_policy_get,
};
module_param_cb(evict_policy, &cowdev_policy_ops, NULL, 0644);
MODULE_PARM_DESC(evict_policy,
		 "Page replacement policy: fifo, clock or lru (default fifo)");

unsigned long cowdev_low_watermark;
module_param_named(low_watermark, cowdev_low_watermark, ulong, 0644);
MODULE_PARM_DESC(low_watermark,
		 "Wake the background evictor below this many free pages (default 0: never)");

unsigned long cowdev_high_watermark;
module_param_named(high_watermark, cowdev_high_watermark, ulong, 0644);
MODULE_PARM_DESC(high_watermark,
		 "The background evictor stops at this many free pages (default 0)");

static struct {
	spinlock_t lock;
	struct list_head list;	/* oldest loaded first */
	u64 kswapd_wakeups;
} lru = {
	.lock = __SPIN_LOCK_UNLOCKED(lru.lock),
	.list = LIST_HEAD_INIT(lru.list),
};

/*
 * An eviction has @cp: PG_owner_priv_1 of its struct page (cowdev.h).
 * Changed under lru.lock.
 */
static bool cowdev_isolated(struct cowdev_page *cp)
{
	return test_bit(PG_owner_priv_1, &cowdev_page_of(cp)->flags);
}

static void cowdev_set_isolated(struct cowdev_page *cp)
{
	lockdep_assert_held(&lru.lock);
	set_bit(PG_owner_priv_1, &cowdev_page_of(cp)->flags);
}

/* Clear the bit if it is set: no atomic write where there is nothing. */
static void cowdev_clear_isolated(struct cowdev_page *cp)
{
	lockdep_assert_held(&lru.lock);
	if (cowdev_isolated(cp))
		clear_bit(PG_owner_priv_1, &cowdev_page_of(cp)->flags);
}

/* @cp was published in its holders' slots: it is loaded now. */
void cowdev_lru_add(struct cowdev_page *cp)
{
	spin_lock(&lru.lock);
	cp->referenced = true;
	cp->age = 0;
	list_add_tail(cowdev_page_lru(cp), &lru.list);
	spin_unlock(&lru.lock);
}

/*
 * The last holder let go of @cp: off the list, and out of the hands of an
 * eviction that has it (which finds it released), so that it is never
 * loaded again isolated.
 */
void cowdev_lru_del(struct cowdev_page *cp)
{
	spin_lock(&lru.lock);
	list_del_init(cowdev_page_lru(cp));
	cowdev_clear_isolated(cp);
	spin_unlock(&lru.lock);
}

void cowdev_page_referenced(struct cowdev_page *cp)
{
	if (!READ_ONCE(cp->referenced))
		WRITE_ONCE(cp->referenced, true);
}

static struct cowdev_family *cowdev_family_get(struct cowdev_family *family)
{
	refcount_inc(&family->ref);
	return family;
}

/*
 * One eviction request: whose pages may go (@only, NULL for any), and the
 * victims it tried already, which it does not pick again.
 */
struct cowdev_evict_req {
	struct cowdev_view *only;
	unsigned int nr_tried;
	struct cowdev_page *tried[COWDEV_EVICT_TRIES];
};

static bool cowdev_tried(struct cowdev_evict_req *req, struct cowdev_page *cp)
{
	unsigned int i;

	for (i = 0; i < req->nr_tried; i++)
		if (req->tried[i] == cp)
			return true;
	return false;
}

/*
 * May @req take @cp?  Not while another eviction has it, not twice, and
 * for local replacement only a page of the view (its slot at the page's
 * index holds it).  Called with lru.lock.
 */
static bool cowdev_candidate(struct cowdev_evict_req *req,
			     struct cowdev_page *cp)
{
	if (cowdev_isolated(cp) || cowdev_tried(req, cp))
		return false;
	return !req->only ||
	       xa_load(&req->only->slots, cowdev_page_index(cp)) == cp;
}

static struct cowdev_page *cowdev_first_candidate(struct cowdev_evict_req *req)
{
	struct page *page;

	lockdep_assert_held(&lru.lock);
	list_for_each_entry(page, &lru.list, lru)
		if (cowdev_candidate(req, cowdev_page_from(page)))
			return cowdev_page_from(page);
	return NULL;
}

/*
 * A page reference keeps a last release from freeing @cp while we work on
 * it (it would wait in limbo), and a family reference keeps its family.
 * Called with lru.lock, while @cp is on the list: views hold it, so its
 * family is alive.
 */
static void cowdev_grab(struct cowdev_page *cp)
{
	lockdep_assert_held(&lru.lock);
	get_page(cowdev_page_of(cp));
	cowdev_family_get(cowdev_page_family(cp));
}

static void cowdev_ungrab(struct cowdev_page *cp, struct cowdev_family *family)
{
	put_page(cowdev_page_of(cp));
	cowdev_family_put(family);
}

/*
 * Take @cp as @req's victim.  It keeps its place on the list (a page that
 * cannot go now stays where its policy put it); other evictions skip it.
 */
static struct cowdev_page *cowdev_isolate(struct cowdev_evict_req *req,
					  struct cowdev_page *cp)
{
	lockdep_assert_held(&lru.lock);
	cowdev_set_isolated(cp);
	cowdev_grab(cp);
	req->tried[req->nr_tried++] = cp;
	return cp;
}

/* The eviction of @cp failed: others may take it again. */
static void cowdev_putback(struct cowdev_page *cp)
{
	struct cowdev_family *family = cowdev_page_family(cp);

	spin_lock(&lru.lock);
	cowdev_clear_isolated(cp);
	spin_unlock(&lru.lock);
	cowdev_ungrab(cp, family);
}

/*
 * Zap @cp's ptes in every view of its family that holds it.  Called with
 * the family's lock.  Return: how many views hold it.
 */
static unsigned int cowdev_zap_holders(struct cowdev_page *cp)
{
	struct cowdev_family *family = cowdev_page_family(cp);
	pgoff_t index = cowdev_page_index(cp);
	struct cowdev_view *view;
	unsigned int n = 0;

	lockdep_assert_held(&family->lock);
	list_for_each_entry(view, &family->views, family_node) {
		if (xa_load(&view->slots, index) != cp)
			continue;
		cowdev_view_zap(view, index, 1, false);
		n++;
	}
	return n;
}

/*
 * A policy cleared @cp's reference bit: zap its ptes, so that its next
 * access faults and sets the bit again.  @cp was grabbed.
 */
static void cowdev_clear_reference(struct cowdev_page *cp)
{
	struct cowdev_family *family = cowdev_page_family(cp);

	mutex_lock(&family->lock);
	cowdev_zap_holders(cp);
	mutex_unlock(&family->lock);
	cowdev_ungrab(cp, family);
}

/*
 * Clock: the first candidate without its reference bit.  A candidate with
 * it loses it and goes to the tail, its ptes zapped before the hand moves
 * on; every candidate is seen at most twice unless faults keep setting
 * bits.  Return: the victim, isolated, or NULL.
 */
static struct cowdev_page *cowdev_pick_clock(struct cowdev_evict_req *req)
{
	struct cowdev_page *cp;

	for (;;) {
		spin_lock(&lru.lock);
		cp = cowdev_first_candidate(req);
		if (!cp || !cp->referenced)
			break;
		cp->referenced = false;
		list_move_tail(cowdev_page_lru(cp), &lru.list);
		cowdev_grab(cp);
		spin_unlock(&lru.lock);
		cowdev_clear_reference(cp);
		cond_resched();
	}
	if (cp)
		cowdev_isolate(req, cp);
	spin_unlock(&lru.lock);
	return cp;
}

/*
 * Aging: age the first COWDEV_AGING_WINDOW candidates and take the oldest
 * of them.  Return: the victim, isolated, or NULL.
 */
static struct cowdev_page *cowdev_pick_lru(struct cowdev_evict_req *req)
{
	struct cowdev_page *cp, *victim = NULL;
	struct cowdev_page *zap[COWDEV_AGING_WINDOW];
	int seen = 0, nr_zap = 0, i;
	struct page *page;

	spin_lock(&lru.lock);
	list_for_each_entry(page, &lru.list, lru) {
		cp = cowdev_page_from(page);
		if (!cowdev_candidate(req, cp))
			continue;
		cp->age = (cp->age >> 1) | (cp->referenced ? 0x80 : 0);
		if (cp->referenced) {
			cp->referenced = false;
			zap[nr_zap++] = cp;
		}
		if (!victim || cp->age < victim->age)
			victim = cp;
		if (++seen == COWDEV_AGING_WINDOW)
			break;
	}
	for (i = 0; i < nr_zap; i++)
		cowdev_grab(zap[i]);
	if (victim)
		cowdev_isolate(req, victim);
	spin_unlock(&lru.lock);
	for (i = 0; i < nr_zap; i++)
		cowdev_clear_reference(zap[i]);
	return victim;
}

static struct cowdev_page *cowdev_pick_victim(struct cowdev_evict_req *req)
{
	struct cowdev_page *cp;

	switch (READ_ONCE(cowdev_policy)) {
	case COWDEV_POLICY_CLOCK:
		return cowdev_pick_clock(req);
	case COWDEV_POLICY_LRU:
		return cowdev_pick_lru(req);
	default:
		spin_lock(&lru.lock);
		cp = cowdev_first_candidate(req);
		if (cp)
			cowdev_isolate(req, cp);
		spin_unlock(&lru.lock);
		return cp;
	}
}

/*
 * Give the slot @cp's holders @slot instead of @cp, and count the
 * eviction in each.  Called with the family's lock and @cp's page lock.
 */
static void cowdev_unpublish(struct cowdev_page *cp, unsigned int slot,
			     bool written)
{
	pgoff_t index = cowdev_page_index(cp);
	struct cowdev_view *view;

	list_for_each_entry(view, &cowdev_page_family(cp)->views, family_node) {
		if (xa_load(&view->slots, index) != cp)
			continue;
		/* Replacing a present entry allocates nothing. */
		WARN_ON_ONCE(xa_is_err(xa_store(&view->slots, index,
						 xa_mk_value(slot),
						 GFP_NOWAIT)));
		atomic_long_dec(&view->resident);
		atomic_long_inc(&view->swapped);
		cowdev_count(view, COWDEV_STAT_EVICTIONS);
		if (written)
			cowdev_count(view, COWDEV_STAT_PAGE_OUTS);
	}
}

/*
 * Write @cp out if it has no good copy, and move its holders to the slot.
 * Called with the family's lock and the page lock, once the ptes are gone
 * and nothing else references the page.
 * Return: 0, or -ENOSPC (no slot, or swapoff runs) or the write's error.
 */
static int cowdev_page_out(struct cowdev_page *cp, unsigned int holders,
			   u64 who)
{
	bool written;
	int slot;

	slot = cowdev_swap_out_begin(cp, holders, &written);
	if (slot < 0)
		return slot;
	trace_cowdev_evict(who, cowdev_page_index(cp),
			   page_to_pfn(cowdev_page_of(cp)),
			   READ_ONCE(cowdev_policy), written, slot);
	cowdev_unpublish(cp, slot, written);
	cowdev_swap_out_end();
	return 0;
}

/*
 * Evict the isolated page @cp.  Return: 0 when its frame is free, else an
 * errno (the page stays in the pool and on the list, where it was).
 */
static int cowdev_evict(struct cowdev_page *cp, u64 who)
{
	struct cowdev_family *family = cowdev_page_family(cp);
	struct page *page = cowdev_page_of(cp);
	unsigned int holders;
	int err = -EBUSY;

	mutex_lock(&family->lock);
	if (!trylock_page(page))
		goto out;
	holders = atomic_read(&cp->holders);
	/* Released meanwhile (limbo frees it once we let go), or not whole. */
	if (!holders || cowdev_zap_holders(cp) != holders)
		goto unlock;
	/* The pool's reference and ours: no pte, pin, pipe or fault. */
	if (page_ref_count(page) != 2)
		goto unlock;
	err = cowdev_page_out(cp, holders, who);
unlock:
	unlock_page(page);
out:
	mutex_unlock(&family->lock);
	if (err) {
		cowdev_putback(cp);
		return err;
	}
	/* Ours is the last view reference: the frame goes to a free list. */
	atomic_set(&cp->holders, 1);
	cowdev_ungrab(cp, family);
	cowdev_page_release(cp);
	return 0;
}

/*
 * Evict one page: one of @only's when it is at its resident limit, else
 * any.  @who is the view that asks, 0 for the background evictor.
 * Return: 0 when a pool page was freed, -EBUSY when every victim tried
 * was busy (pinned, or a fault in flight), else -ENOSPC (none, or the
 * swap area full or failing).
 */
static int cowdev_evict_one(struct cowdev_view *only, u64 who)
{
	struct cowdev_evict_req req = { .only = only };
	struct cowdev_page *cp;
	bool all_busy = true;
	int ret;

	if (!cowdev_swap_usable())
		return -ENOSPC;
	while (req.nr_tried < COWDEV_EVICT_TRIES) {
		cp = cowdev_pick_victim(&req);
		if (!cp)
			break;
		ret = cowdev_evict(cp, who);
		if (!ret)
			return 0;
		all_busy &= ret == -EBUSY;
		cond_resched();
	}
	return req.nr_tried && all_busy ? -EBUSY : -ENOSPC;
}

/**
 * cowdev_make_room() - evict a page so that a fault of @view can have one
 * @view: the faulting view, whose lock the caller does not hold
 *
 * A view at its resident limit evicts one of its own pages (if all of
 * them are busy, it may take one page over its limit instead); otherwise
 * a page is evicted from any view, unless the pool has a free page by now.
 *
 * Return: 0 when the fault may start over, -ENOSPC when nothing could be
 * evicted (the fault gets SIGBUS).
 */
int cowdev_make_room(struct cowdev_view *view)
{
	u64 limit = READ_ONCE(view->resident_limit);
	int err;

	if (limit && atomic_long_read(&view->resident) >= limit) {
		err = cowdev_evict_one(view, view->id);
		if (err != -EBUSY)
			return err;
		/* Its pages are busy: one page over the limit, no SIGBUS. */
		atomic_inc(&view->over_limit);
		return 0;
	}
	if (cowdev_pool_nr_free())
		return 0;
	err = cowdev_evict_one(NULL, view->id);
	if (err) {
		cowdev_pool_alloc_failed(false);
		return -ENOSPC;
	}
	return 0;
}

static void cowdev_kswapd(struct work_struct *work)
{
	while (cowdev_pool_nr_free() < READ_ONCE(cowdev_high_watermark) &&
	       !cowdev_evict_one(NULL, 0))
		cond_resched();
}

static DECLARE_WORK(cowdev_kswapd_work, cowdev_kswapd);

/* An allocation left @nr_free pages, below low_watermark. */
void cowdev_kswapd_wake(unsigned long nr_free)
{
	if (!cowdev_swap_usable() ||
	    !queue_work(system_unbound_wq, &cowdev_kswapd_work))
		return;
	spin_lock(&lru.lock);
	lru.kswapd_wakeups++;
	spin_unlock(&lru.lock);
	trace_cowdev_kswapd(nr_free, READ_ONCE(cowdev_low_watermark),
			    READ_ONCE(cowdev_high_watermark));
}

void cowdev_reclaim_get_info(struct cowdev_pool_info *info)
{
	spin_lock(&lru.lock);
	info->kswapd_wakeups = lru.kswapd_wakeups;
	spin_unlock(&lru.lock);
}

/* Unload, or swapoff: no wake-up may run any more. */
void cowdev_kswapd_stop(void)
{
	cancel_work_sync(&cowdev_kswapd_work);
}
