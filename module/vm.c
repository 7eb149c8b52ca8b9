// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev: the vm_operations_struct - demand paging and the write side of
 * copy-on-write.
 *
 * ->map_pages  maps pages a view already holds around a read fault,
 *              read-only, with vm_insert_pages() (ordinary, refcounted ptes;
 *              a run of consecutive pages per call).  On 6.5+ it runs under
 *              rcu_read_lock(): it must not sleep, so it maps nothing while
 *              the pmd has no page table (vm_insert_pages() would allocate
 *              one), takes no sleeping lock, and only trylocks pages.  It
 *              skips swapped-out pages and pages whose reference bit a
 *              replacement policy cleared (reclaim.c).
 * ->fault      holes: a read maps the pool's zero page; a write through a
 *              MAP_SHARED mapping allocates the page; a write through a
 *              MAP_PRIVATE mapping gets the zero page to copy.  Resident
 *              pages are returned locked.  A swapped-out page is read back
 *              (swap.c) and returned with VM_FAULT_MAJOR.
 * ->page_mkwrite  the first write through a read-only pte of a MAP_SHARED
 *              mapping: fills a hole mapped by the zero page, copies a page
 *              another view shares (COW break), or keeps the page.
 *
 * Handlers run under mmap_lock or, on 6.12, only the VMA lock: exclusion
 * against clone and resize comes from view->lock (read here, write there).
 * A handler that needs a pool page and must evict one for it (the pool is
 * empty, or the view is at its resident limit) drops view->lock, evicts
 * (cowdev_make_room(): eviction takes the family's lock and may need this
 * very view's slots) and starts over.
 *
 * The races, and what closes them (the lock order is in cowdev.h):
 *  - A slot changes (COW break, shrink) while a fault installs a pte for the
 *    old page.  Whoever changes a resident slot holds the old page's lock
 *    across "change the slot, zap the index"; a fault re-checks the slot
 *    with the page locked and keeps it locked (VM_FAULT_LOCKED) until core
 *    mm has installed the pte, so the pte is either zapped or never made.
 *  - A hole is filled while a reader maps the zero page there.  Readers do
 *    not lock the zero page for this (it would serialise every hole read of
 *    every view): the reader installs the pte and then looks at the slot
 *    again; the filler stores the slot and then zaps the index, with a full
 *    barrier on each side (cowdev_map_zero(), cowdev_fill_hole()).  Either
 *    the reader sees the new page and zaps its own pte, or the filler's zap
 *    finds the pte.
 *  - A MAP_PRIVATE write to a hole: core mm copies the zero page we return
 *    into an anonymous page and installs that after ->fault has dropped the
 *    view's lock.  The zero page is returned locked (core mm would lock it
 *    anyway, __do_fault()) and stays locked until the pte is in; a shrink
 *    locks and unlocks the zero page after lowering the size and before it
 *    zaps (view.c), so the private copy is either zapped or never made.
 *  - A write through a pte made writable just before a clone: clone locks
 *    and unlocks each page before it zaps (cow.c), and a reused page stays
 *    locked until its pte is writable, so no writable pte survives a clone.
 *  - A shrink drops pages while fault-around, which takes no view lock,
 *    maps them.  Shrink lowers the size before it zaps and drops the slots
 *    after; cowdev_map_one() checks both the size and the slot with the
 *    page locked, so it maps a page before the zap (which removes it) or
 *    not at all.
 *  - A page is evicted while a fault maps it.  Eviction holds the page
 *    lock while it zaps every holder and swaps the slots to the swap entry;
 *    a fault that found the page takes a reference before it locks it, so
 *    eviction sees the extra reference and leaves the page alone, or the
 *    fault finds the slot changed under the lock and retries.
 */
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/rcupdate.h>

#include "compat.h"
#include "cowdev.h"
#include "cowdev_trace.h"

static struct cowdev_view *cowdev_vmf_view(struct vm_fault *vmf)
{
	return cowdev_file_view(vmf->vma->vm_file);
}

static bool cowdev_vmf_shared(struct vm_fault *vmf)
{
	return vmf->vma->vm_flags & VM_SHARED;
}

/*
 * Answer a fault with SIGBUS (never VM_FAULT_OOM: the OOM killer must not
 * run for cowdev's pool).  @err says why: 0 (beyond the size, or no memory
 * for a page table), -ENOSPC (pool empty and nothing to evict, or the view
 * at its resident limit without a swap area), -EDQUOT (the view's user is
 * at its limit), -ENOMEM (no memory for the view's xarray) or another
 * errno (the swap area could not be read).
 */
static vm_fault_t cowdev_sigbus(struct cowdev_view *view, int err,
				enum cowdev_outcome *outcome)
{
	switch (err) {
	case 0:
		*outcome = COWDEV_SIGBUS;
		break;
	case -ENOSPC:
		*outcome = COWDEV_POOL_EMPTY;
		cowdev_count(view, COWDEV_STAT_POOL_FAILURES);
		break;
	case -EDQUOT:
		*outcome = COWDEV_POOL_EMPTY;
		cowdev_count(view, COWDEV_STAT_LIMIT_FAILURES);
		break;
	case -ENOMEM:
		*outcome = COWDEV_NOMEM;
		break;
	default:
		*outcome = COWDEV_SWAP_ERROR;
		break;
	}
	cowdev_count(view, COWDEV_STAT_SIGBUS);
	return VM_FAULT_SIGBUS;
}

/*
 * A page could not be had: -EAGAIN asks the caller to evict one without
 * the view's lock and start over (COWDEV_RECLAIM); anything else is
 * SIGBUS.
 */
static vm_fault_t cowdev_no_page(struct cowdev_view *view, int err,
				 enum cowdev_outcome *outcome)
{
	if (err != -EAGAIN)
		return cowdev_sigbus(view, err, outcome);
	*outcome = COWDEV_RECLAIM;
	return 0;
}

/*
 * Read of a hole: install the zero page read-only, then re-check the slot
 * and the size (see "hole is filled" above).
 */
static vm_fault_t cowdev_map_zero(struct cowdev_view *view,
				  struct vm_fault *vmf,
				  enum cowdev_outcome *outcome)
{
	struct page *zero = cowdev_page_of(cowdev_zero_page());
	int err;

	/* Before the pte: a filler that misses it finds this (below). */
	if (!READ_ONCE(view->zero_mapped))
		WRITE_ONCE(view->zero_mapped, true);
	cowdev_delay(COWDEV_DELAY_ZERO_INSERT);
	err = vm_insert_page(vmf->vma, vmf->address & PAGE_MASK, zero);
	if (err && err != -EBUSY)
		return cowdev_sigbus(view, 0, outcome);
	*outcome = COWDEV_ZERO;
	if (!err)
		cowdev_count(view, COWDEV_STAT_ZERO_MAPS);
	/*
	 * Order the pte store before the slot load.  Pairs with the smp_mb()
	 * between the slot store and the zap in cowdev_fill_hole(): of a
	 * reader and a filler at one index, at least one sees the other's
	 * store.  (Both take the pte lock when the page table exists, but the
	 * filler's zap skips a range whose page table is not there yet.)
	 */
	smp_mb();
	if (!cowdev_mutant("no_zero_recheck") &&
	    xa_load(&view->slots, vmf->pgoff))
		cowdev_view_zap(view, vmf->pgoff, 1, false);
	return VM_FAULT_NOPAGE;
}

/*
 * Give a hole a new pool page.  Whether this call or a racing one filled it,
 * the index's zero-page ptes are zapped afterwards, unless no read ever
 * mapped the zero page in this view (view->zero_mapped): the zap's walk of
 * every mapping would find nothing, and a first write would pay for it.
 * A reader sets the flag before it installs its pte and looks at the slot
 * after (cowdev_map_zero()); the filler stores the slot and then looks at
 * the flag, with smp_mb() between on each side: one of them sees the
 * other's store, and that one zaps.
 *
 * Return: 1 if this call filled it, 0 if a racing one did, or an errno of
 * cowdev_view_alloc_page() (-EAGAIN: evict first) or the xarray.
 */
static int cowdev_fill_hole(struct cowdev_view *view, pgoff_t index)
{
	struct cowdev_page *cp, *old;
	int filled = 0;

	if (xa_load(&view->slots, index))
		goto zap;
	cp = cowdev_view_alloc_page(view, true);
	if (IS_ERR(cp))
		return PTR_ERR(cp);
	/*
	 * One section of the xarray's lock for the store and the marks of the
	 * write this fill is for; ->page_mkwrite finds them set and does not
	 * take the lock again (cowdev_slot_mark_write()).
	 */
	xa_lock(&view->slots);
	old = __xa_cmpxchg(&view->slots, index, NULL, cp, GFP_KERNEL);
	if (!old) {
		__xa_set_mark(&view->slots, index, COWDEV_SLOT_DIRTY);
		__xa_set_mark(&view->slots, index, COWDEV_SLOT_WRITTEN);
	}
	xa_unlock(&view->slots);
	if (xa_is_err(old)) {
		cowdev_page_release(cp);
		return xa_err(old);
	}
	if (old) {
		cowdev_page_release(cp);
	} else {
		atomic_long_inc(&view->resident);
		cowdev_view_publish(view, index, cp);
		cowdev_count(view, COWDEV_STAT_DEMAND_ALLOCS);
		filled = 1;
		cowdev_delay(COWDEV_DELAY_HOLE_FILL);
	}
	/* Order the slot store before the zap; pairs with cowdev_map_zero(). */
	smp_mb();
zap:
	if (READ_ONCE(view->zero_mapped))
		cowdev_view_zap(view, index, 1, false);
	return filled;
}

/*
 * Lock @cp's page for core mm, after checking that the slot still holds it.
 * Return: VM_FAULT_LOCKED with vmf->page set and referenced, or
 * VM_FAULT_NOPAGE (retry) when the slot changed.
 */
static vm_fault_t cowdev_lock_slot_page(struct cowdev_view *view,
					struct vm_fault *vmf,
					struct cowdev_page *cp,
					enum cowdev_outcome *outcome)
{
	struct page *page = cowdev_page_of(cp);

	get_page(page);
	lock_page(page);
	if (xa_load(&view->slots, vmf->pgoff) != cp) {
		unlock_page(page);
		put_page(page);
		*outcome = COWDEV_RETRY;
		return VM_FAULT_NOPAGE;
	}
	cowdev_page_referenced(cp);
	vmf->page = page;
	return VM_FAULT_LOCKED;
}

/*
 * The slot holds swap entry @entry: read the page back (swap.c).
 * Return: VM_FAULT_MAJOR with the slot resident if this fault read it, 0
 * if a racing fault did; else what cowdev_no_page() makes of the error.
 */
static vm_fault_t cowdev_fault_swap_in(struct cowdev_view *view,
				       struct vm_fault *vmf, void *entry,
				       enum cowdev_outcome *outcome)
{
	int ret = cowdev_swap_in(view, vmf->pgoff, entry, true);

	if (ret < 0)
		return cowdev_no_page(view, ret, outcome);
	*outcome = COWDEV_SWAP_IN;
	return ret ? VM_FAULT_MAJOR : 0;
}

/*
 * The COW break: a copy of @cp, which another view shares, takes @view's
 * slot while @cp's page is locked, and the index is zapped.  The caller
 * holds @cp's page lock, and after unlocking it releases @cp if the copy
 * was made.
 * Return: the copy, or an ERR_PTR of cowdev_view_store_copy().
 */
static struct cowdev_page *cowdev_break_cow(struct cowdev_view *view,
					    pgoff_t index,
					    struct cowdev_page *cp)
{
	struct cowdev_page *copy = cowdev_view_store_copy(view, index, cp);

	if (IS_ERR(copy))
		return copy;
	xa_clear_mark(&view->slots, index, COWDEV_SLOT_WAS_SHARED);
	xa_set_mark(&view->slots, index, COWDEV_SLOT_DIRTY);
	cowdev_delay(COWDEV_DELAY_COW_BREAK);
	cowdev_view_zap(view, index, 1, false);
	cowdev_count(view, COWDEV_STAT_COW_COPIES);
	return copy;
}

/*
 * A write fault through a MAP_SHARED mapping found a page that clones
 * share: copy it here (the COW break) and return the copy locked, so that
 * ->page_mkwrite finds the view's own page and the access is done in one
 * fault.  (Copying in ->page_mkwrite instead would return VM_FAULT_NOPAGE
 * and fault again for the copy; a write through a read-only pte still
 * does, since ->page_mkwrite cannot hand core mm another page.)  After a
 * swap-in core mm reports this fault's VM_FAULT_MAJOR, which it would not
 * if ->page_mkwrite retried.
 */
static vm_fault_t cowdev_copy_on_fault(struct cowdev_view *view,
				       struct vm_fault *vmf,
				       struct cowdev_page *cp, bool swapped_in,
				       enum cowdev_outcome *outcome)
{
	struct page *page = cowdev_page_of(cp);
	struct cowdev_page *copy;

	lock_page(page);
	if (xa_load(&view->slots, vmf->pgoff) != cp) {
		unlock_page(page);
		*outcome = COWDEV_RETRY;
		return VM_FAULT_NOPAGE;
	}
	copy = cowdev_break_cow(view, vmf->pgoff, cp);
	unlock_page(page);
	if (IS_ERR(copy))
		return cowdev_no_page(view, PTR_ERR(copy), outcome);
	cowdev_page_release(cp);
	if (!swapped_in)
		*outcome = COWDEV_COPY;
	return cowdev_lock_slot_page(view, vmf, copy, outcome);
}

static vm_fault_t cowdev_fault_locked(struct cowdev_view *view,
				      struct vm_fault *vmf,
				      enum cowdev_outcome *outcome)
{
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	vm_fault_t major = 0;
	struct cowdev_page *cp;
	void *entry;
	int filled;

	if (vmf->pgoff >= READ_ONCE(view->size_pages))
		return cowdev_sigbus(view, 0, outcome);
	entry = xa_load(&view->slots, vmf->pgoff);
	if (xa_is_value(entry)) {
		major = cowdev_fault_swap_in(view, vmf, entry, outcome);
		if (*outcome != COWDEV_SWAP_IN)
			return major;
		entry = xa_load(&view->slots, vmf->pgoff);
		if (!cowdev_entry_page(entry)) {
			*outcome = COWDEV_RETRY;
			return VM_FAULT_NOPAGE | major;
		}
	}
	if (entry && write && cowdev_vmf_shared(vmf) &&
	    cowdev_page_shared(entry))
		return cowdev_copy_on_fault(view, vmf, entry, major, outcome) |
		       major;
	if (entry) {
		if (!major)
			*outcome = COWDEV_RESIDENT;
		return cowdev_lock_slot_page(view, vmf, entry, outcome) |
		       major;
	}
	if (!write)
		return cowdev_map_zero(view, vmf, outcome);
	if (!cowdev_vmf_shared(vmf)) {
		/*
		 * Core mm copies it into vmf->cow_page; locked until that
		 * pte is in, for a shrink to wait on (see the top).
		 */
		vmf->page = cowdev_page_of(cowdev_zero_page());
		get_page(vmf->page);
		lock_page(vmf->page);
		*outcome = COWDEV_ZERO;
		return VM_FAULT_LOCKED;
	}
	filled = cowdev_fill_hole(view, vmf->pgoff);
	if (filled < 0)
		return cowdev_no_page(view, filled, outcome);
	*outcome = filled ? COWDEV_ALLOC : COWDEV_RESIDENT;
	cp = cowdev_entry_page(xa_load(&view->slots, vmf->pgoff));
	if (!cp) {
		*outcome = COWDEV_RETRY;
		return VM_FAULT_NOPAGE;
	}
	return cowdev_lock_slot_page(view, vmf, cp, outcome);
}

typedef vm_fault_t (*cowdev_handler_t)(struct cowdev_view *view,
				       struct vm_fault *vmf,
				       enum cowdev_outcome *outcome);

/*
 * Run @handler with the view's lock held for read.  When it needs a page
 * evicted first (COWDEV_RECLAIM), evict one without the lock (eviction may
 * need this view's slots) and run it again.
 */
static vm_fault_t cowdev_run_locked(struct cowdev_view *view,
				    struct vm_fault *vmf,
				    cowdev_handler_t handler,
				    enum cowdev_outcome *outcome)
{
	vm_fault_t ret;
	int err;

	for (;;) {
		down_read(&view->lock);
		ret = handler(view, vmf, outcome);
		up_read(&view->lock);
		if (*outcome != COWDEV_RECLAIM)
			return ret;
		err = cowdev_make_room(view);
		if (err)
			return cowdev_sigbus(view, err, outcome);
	}
}

/*
 * For the cowdev_fault event: the pfn the faulting access will find at its
 * address, 0 when none (SIGBUS, a retry).  The page a handler returned
 * locked, the zero page it mapped, or, after a COW copy or a hole filled
 * by ->page_mkwrite (which retry the access), the page now in the slot;
 * read without a lock, as a trace may.
 */
static u64 cowdev_trace_pfn(struct cowdev_view *view, struct vm_fault *vmf,
			    vm_fault_t ret, enum cowdev_outcome outcome)
{
	struct cowdev_page *cp;

	if ((ret & VM_FAULT_LOCKED) && vmf->page)
		return page_to_pfn(vmf->page);
	switch (outcome) {
	case COWDEV_ZERO:
		return page_to_pfn(cowdev_page_of(cowdev_zero_page()));
	case COWDEV_COPY:
	case COWDEV_ALLOC:
		cp = cowdev_entry_page(xa_load(&view->slots, vmf->pgoff));
		return cp ? page_to_pfn(cowdev_page_of(cp)) : 0;
	default:
		return 0;
	}
}

/* One cowdev_fault event per handler call; nothing to compute when off. */
static void cowdev_trace_fault(struct cowdev_view *view, struct vm_fault *vmf,
			       bool mkwrite, enum cowdev_outcome outcome,
			       vm_fault_t ret)
{
	if (!trace_cowdev_fault_enabled())
		return;
	trace_cowdev_fault(view->id, vmf->pgoff, vmf->flags & FAULT_FLAG_WRITE,
			   cowdev_vmf_shared(vmf), mkwrite, outcome,
			   vmf->address,
			   cowdev_trace_pfn(view, vmf, ret, outcome));
}

static vm_fault_t cowdev_fault(struct vm_fault *vmf)
{
	struct cowdev_view *view = cowdev_vmf_view(vmf);
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	bool shared = cowdev_vmf_shared(vmf);
	enum cowdev_outcome outcome;
	vm_fault_t ret;

	cowdev_count(view, COWDEV_STAT_FAULTS);
	if (write && !shared)
		cowdev_count(view, COWDEV_STAT_PRIVATE_COW);
	ret = cowdev_run_locked(view, vmf, cowdev_fault_locked, &outcome);
	if (ret & VM_FAULT_MAJOR)
		cowdev_count(view, COWDEV_STAT_MAJOR_FAULTS);
	cowdev_trace_fault(view, vmf, false, outcome, ret);
	/* The window: the view's lock is dropped, the page still locked. */
	if (ret & VM_FAULT_LOCKED)
		cowdev_delay(COWDEV_DELAY_FAULT_LOCKED);
	return ret;
}

/*
 * Mutant no_cow_break_page_lock (scripts/check-mutants): a COW break made
 * without the old page's lock, so that a fault installing a pte for that
 * page is not waited for.  Return: true if it made the break.
 */
static bool cowdev_mutant_break_unlocked(struct cowdev_view *view,
					 struct vm_fault *vmf)
{
	struct cowdev_page *cp, *copy;

	cp = cowdev_entry_page(xa_load(&view->slots, vmf->pgoff));
	if (!cp || cowdev_page_of(cp) != vmf->page || !cowdev_page_shared(cp))
		return false;
	copy = cowdev_break_cow(view, vmf->pgoff, cp);
	if (IS_ERR(copy))
		return false;
	cowdev_page_release(cp);
	return true;
}

/*
 * A write is about to go through @index's pte: the slot is dirty, written
 * since tracking was re-armed (snap.c), and no longer was-shared.  The
 * caller holds the page lock of the slot's page.  Marks already in that
 * state, as a hole fill leaves them, cost one walk and no lock.
 * Return: whether the slot was marked was-shared (a COW reuse).
 */
static bool cowdev_slot_mark_write(struct cowdev_view *view, pgoff_t index)
{
	XA_STATE(xas, &view->slots, index);
	bool was_shared, done;

	rcu_read_lock();
	xas_load(&xas);
	was_shared = xas_get_mark(&xas, COWDEV_SLOT_WAS_SHARED);
	done = !was_shared && xas_get_mark(&xas, COWDEV_SLOT_DIRTY) &&
	       xas_get_mark(&xas, COWDEV_SLOT_WRITTEN);
	rcu_read_unlock();
	if (done)
		return false;
	xas_reset(&xas);
	xas_lock(&xas);
	xas_load(&xas);
	was_shared = xas_get_mark(&xas, COWDEV_SLOT_WAS_SHARED);
	xas_clear_mark(&xas, COWDEV_SLOT_WAS_SHARED);
	xas_set_mark(&xas, COWDEV_SLOT_DIRTY);
	xas_set_mark(&xas, COWDEV_SLOT_WRITTEN);
	xas_unlock(&xas);
	return was_shared;
}

/*
 * Write to a resident page through a MAP_SHARED mapping.  A page another
 * view shares is copied (the COW break) and the access retries.
 */
static vm_fault_t cowdev_write_resident(struct cowdev_view *view,
					struct vm_fault *vmf,
					enum cowdev_outcome *outcome)
{
	struct page *page = vmf->page;
	struct cowdev_page *cp, *copy;
	pgoff_t index = vmf->pgoff;

	if (cowdev_mutant("no_cow_break_page_lock") &&
	    cowdev_mutant_break_unlocked(view, vmf)) {
		*outcome = COWDEV_COPY;
		return VM_FAULT_NOPAGE;
	}
	lock_page(page);
	cp = cowdev_entry_page(xa_load(&view->slots, index));
	if (!cp || cowdev_page_of(cp) != page) {
		unlock_page(page);
		*outcome = COWDEV_RETRY;
		return VM_FAULT_NOPAGE;
	}
	if (!cowdev_page_shared(cp)) {
		/* Write tracking (snap.c): before the pte is writable. */
		if (cowdev_slot_mark_write(view, index))
			cowdev_count(view, COWDEV_STAT_COW_REUSES);
		/* Its copy in the swap area, if any, is stale from now on. */
		cowdev_swap_forget(cp);
		cowdev_page_referenced(cp);
		*outcome = COWDEV_REUSE;
		return VM_FAULT_LOCKED;
	}
	copy = cowdev_break_cow(view, index, cp);
	unlock_page(page);
	if (IS_ERR(copy))
		return cowdev_no_page(view, PTR_ERR(copy), outcome);
	cowdev_page_release(cp);
	*outcome = COWDEV_COPY;
	return VM_FAULT_NOPAGE;
}

/* A read mapped the hole with the zero page: fill it, zap, retry. */
static vm_fault_t cowdev_write_zero(struct cowdev_view *view,
				    struct vm_fault *vmf,
				    enum cowdev_outcome *outcome)
{
	int filled = cowdev_fill_hole(view, vmf->pgoff);

	if (filled < 0)
		return cowdev_no_page(view, filled, outcome);
	*outcome = filled ? COWDEV_ALLOC : COWDEV_RETRY;
	return VM_FAULT_NOPAGE;
}

static vm_fault_t cowdev_page_mkwrite_locked(struct cowdev_view *view,
					     struct vm_fault *vmf,
					     enum cowdev_outcome *outcome)
{
	if (vmf->pgoff >= READ_ONCE(view->size_pages))
		return cowdev_sigbus(view, 0, outcome);
	if (vmf->page == cowdev_page_of(cowdev_zero_page()))
		return cowdev_write_zero(view, vmf, outcome);
	return cowdev_write_resident(view, vmf, outcome);
}

static vm_fault_t cowdev_page_mkwrite(struct vm_fault *vmf)
{
	struct cowdev_view *view = cowdev_vmf_view(vmf);
	enum cowdev_outcome outcome;
	vm_fault_t ret;

	cowdev_count(view, COWDEV_STAT_MKWRITE);
	ret = cowdev_run_locked(view, vmf, cowdev_page_mkwrite_locked, &outcome);
	cowdev_trace_fault(view, vmf, true, outcome, ret);
	if (ret & VM_FAULT_LOCKED)
		cowdev_delay(COWDEV_DELAY_MKWRITE_LOCKED);
	trace_cowdev_mkwrite(view->id, vmf->pgoff, outcome);
	return ret;
}

/*
 * Fault-around maps runs of consecutive resident pages with one
 * vm_insert_pages() call each: one page-table walk and one pte lock per
 * run instead of one per page.  The pages of a run stay locked from the
 * check of their slot until their ptes are in.
 */
#define COWDEV_MAP_BATCH 16

struct cowdev_map_batch {
	pgoff_t first;			/* index of pages[0] */
	unsigned int nr;
	struct page *pages[COWDEV_MAP_BATCH];
	struct cowdev_page *fault_cp;	/* the faulting index's, if here */
};

/*
 * Lock a resident page for fault-around if it is still the slot's (@xas
 * points at it) and inside the size.  A neighbour whose reference bit a
 * replacement policy cleared is left to fault, so that its next access
 * sets the bit (reclaim.c).  Return: the locked page, or NULL.
 */
static struct page *cowdev_map_lock(struct cowdev_view *view,
				    struct vm_fault *vmf, struct xa_state *xas,
				    struct cowdev_page *cp)
{
	struct page *page = cowdev_page_of(cp);
	pgoff_t index = xas->xa_index;

	if (index != vmf->pgoff && !READ_ONCE(cp->referenced))
		return NULL;
	if (!trylock_page(page))
		return NULL;
	if ((cowdev_mutant("no_fault_around_size_check") ||
	     index < READ_ONCE(view->size_pages)) &&
	    xas_reload(xas) == cp)
		return page;
	unlock_page(page);
	return NULL;
}

/*
 * Insert the batch's ptes and unlock its pages.  A page whose pte is
 * already there (-EBUSY) is skipped; another error ends the batch.
 * Return: the pages mapped; *@hit is set if one of them is @vmf's.
 */
static unsigned long cowdev_map_flush(struct vm_fault *vmf,
				      struct cowdev_map_batch *b, bool *hit)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long addr, num, done, mapped = 0;
	pgoff_t fault = vmf->pgoff - b->first;	/* >= nr: not in the batch */
	unsigned int i = 0;
	int err;

	addr = vma->vm_start + ((b->first - vma->vm_pgoff) << PAGE_SHIFT);
	while (i < b->nr) {
		num = b->nr - i;
		err = vm_insert_pages(vma, addr + ((unsigned long)i << PAGE_SHIFT),
				      &b->pages[i], &num);
		done = b->nr - i - num;
		if (b->fault_cp && fault >= i && fault < i + done) {
			cowdev_page_referenced(b->fault_cp);
			*hit = true;
		}
		mapped += done;
		i += done;
		if (err != -EBUSY)
			break;
		i++;
	}
	for (i = 0; i < b->nr; i++)
		unlock_page(b->pages[i]);
	b->nr = 0;
	b->fault_cp = NULL;
	return mapped;
}

/*
 * Add @cp's locked @page at @index; flush first unless it extends the
 * run.
 */
static unsigned long cowdev_map_add(struct vm_fault *vmf,
				    struct cowdev_map_batch *b, pgoff_t index,
				    struct cowdev_page *cp, struct page *page,
				    bool *hit)
{
	unsigned long mapped = 0;

	if (b->nr && (b->nr == COWDEV_MAP_BATCH || index != b->first + b->nr))
		mapped = cowdev_map_flush(vmf, b, hit);
	if (!b->nr)
		b->first = index;
	if (index == vmf->pgoff)
		b->fault_cp = cp;
	b->pages[b->nr++] = page;
	return mapped;
}

static vm_fault_t cowdev_map_pages(struct vm_fault *vmf, pgoff_t start_pgoff,
				   pgoff_t end_pgoff)
{
	struct cowdev_view *view = cowdev_vmf_view(vmf);
	XA_STATE(xas, &view->slots, start_pgoff);
	struct cowdev_map_batch batch;
	struct cowdev_page *cp;
	unsigned long mapped = 0;
	struct page *page;
	bool hit = false;
	void *entry;

	cowdev_count(view, COWDEV_STAT_MAP_PAGES_CALLS);
	/*
	 * Nothing to map while the pmd has no page table, or while the view
	 * holds no page (a read of a view of holes; a page filled meanwhile
	 * is ->fault's).
	 */
	if (pmd_none(pmdp_get_lockless(vmf->pmd)) ||
	    !atomic_long_read(&view->resident))
		goto out;
	batch.nr = 0;
	batch.fault_cp = NULL;
	rcu_read_lock();
	xas_for_each(&xas, entry, end_pgoff) {
		if (xas_retry(&xas, entry))
			continue;
		/* Swapped-out pages are read back by ->fault, not here. */
		cp = cowdev_entry_page(entry);
		page = cp ? cowdev_map_lock(view, vmf, &xas, cp) : NULL;
		if (page)
			mapped += cowdev_map_add(vmf, &batch, xas.xa_index,
						 cp, page, &hit);
	}
	if (batch.nr)
		mapped += cowdev_map_flush(vmf, &batch, &hit);
	rcu_read_unlock();
	if (mapped)
		cowdev_count_add(view, COWDEV_STAT_MAP_PAGES_MAPPED, mapped);
out:
	trace_cowdev_map_pages(view->id, start_pgoff, end_pgoff, vmf->pgoff,
			       mapped);
	return hit ? VM_FAULT_NOPAGE : 0;
}

static const struct vm_operations_struct cowdev_vm_ops = {
	.fault = cowdev_fault,
	.map_pages = cowdev_map_pages,
	.page_mkwrite = cowdev_page_mkwrite,
};

int cowdev_mmap(struct file *file, struct vm_area_struct *vma)
{
	vm_flags_set(vma, VM_MIXEDMAP);
	vma->vm_ops = &cowdev_vm_ops;
	return 0;
}
