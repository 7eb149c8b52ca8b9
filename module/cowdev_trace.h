/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowdev: tracepoints (system "cowdev").  Every event carries what a script
 * needs to aggregate without reading kernel memory; TP_printk lines read as
 * they are.  Documented in Documentation/cowdev.rst, "Tracepoints".
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM cowdev

#if !defined(_COWDEV_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _COWDEV_TRACE_H

#include <linux/tracepoint.h>

#include "cowdev.h"

TRACE_DEFINE_ENUM(COWDEV_POLICY_FIFO);
TRACE_DEFINE_ENUM(COWDEV_POLICY_CLOCK);
TRACE_DEFINE_ENUM(COWDEV_POLICY_LRU);

/*
 * Outcomes travel as the number (outcome) and as the name (outcome_name,
 * from cowdev_outcome_name(), the one table of names), so that scripts
 * and perf read the name and never copy a number.  6.10 dropped
 * __assign_str()'s source argument, which __string() now names.
 */
#ifndef cowdev_assign_str
#ifdef COWDEV_HAVE_ASSIGN_STR_DST_ONLY
#define cowdev_assign_str(dst, ...) __assign_str(dst)
#else
#define cowdev_assign_str(dst, ...) __assign_str(dst, __VA_ARGS__)
#endif
#endif

#define cowdev_show_policy(p)					\
	__print_symbolic(p,					\
			 { COWDEV_POLICY_FIFO, "fifo" },	\
			 { COWDEV_POLICY_CLOCK, "clock" },	\
			 { COWDEV_POLICY_LRU, "lru" })

/* Once per ->fault and once per ->page_mkwrite call. */
TRACE_EVENT(cowdev_fault,
	TP_PROTO(u64 view, u64 pgoff, bool write, bool shared, bool mkwrite,
		 int outcome, u64 address, u64 pfn),
	TP_ARGS(view, pgoff, write, shared, mkwrite, outcome, address, pfn),
	TP_STRUCT__entry(
		__field(u64, view)
		__field(u64, pgoff)
		__field(bool, write)
		__field(bool, shared)
		__field(bool, mkwrite)
		__field(int, outcome)
		__field(u64, address)
		__field(u64, pfn)
		__string(outcome_name, cowdev_outcome_name(outcome))
	),
	TP_fast_assign(
		__entry->view = view;
		__entry->pgoff = pgoff;
		__entry->write = write;
		__entry->shared = shared;
		__entry->mkwrite = mkwrite;
		__entry->outcome = outcome;
		__entry->address = address;
		__entry->pfn = pfn;
		cowdev_assign_str(outcome_name, cowdev_outcome_name(outcome));
	),
	TP_printk("view=%llu pgoff=%llu write=%d shared=%d mkwrite=%d outcome=%s address=0x%llx pfn=0x%llx",
		  __entry->view, __entry->pgoff, __entry->write,
		  __entry->shared, __entry->mkwrite, __get_str(outcome_name),
		  __entry->address, __entry->pfn)
);

TRACE_EVENT(cowdev_mkwrite,
	TP_PROTO(u64 view, u64 pgoff, int outcome),
	TP_ARGS(view, pgoff, outcome),
	TP_STRUCT__entry(
		__field(u64, view)
		__field(u64, pgoff)
		__field(int, outcome)
		__string(outcome_name, cowdev_outcome_name(outcome))
	),
	TP_fast_assign(
		__entry->view = view;
		__entry->pgoff = pgoff;
		__entry->outcome = outcome;
		cowdev_assign_str(outcome_name, cowdev_outcome_name(outcome));
	),
	TP_printk("view=%llu pgoff=%llu outcome=%s", __entry->view,
		  __entry->pgoff, __get_str(outcome_name))
);

TRACE_EVENT(cowdev_map_pages,
	TP_PROTO(u64 view, u64 start, u64 end, u64 pgoff, u32 mapped),
	TP_ARGS(view, start, end, pgoff, mapped),
	TP_STRUCT__entry(
		__field(u64, view)
		__field(u64, start)
		__field(u64, end)
		__field(u64, pgoff)
		__field(u32, mapped)
	),
	TP_fast_assign(
		__entry->view = view;
		__entry->start = start;
		__entry->end = end;
		__entry->pgoff = pgoff;
		__entry->mapped = mapped;
	),
	TP_printk("view=%llu start=%llu end=%llu pgoff=%llu mapped=%u",
		  __entry->view, __entry->start, __entry->end, __entry->pgoff,
		  __entry->mapped)
);

/* A COW break: @view (the writer) copies the page @src_view allocated. */
TRACE_EVENT(cowdev_cow,
	TP_PROTO(u64 view, u64 src_view, u64 pgoff, u64 old_pfn, u64 new_pfn),
	TP_ARGS(view, src_view, pgoff, old_pfn, new_pfn),
	TP_STRUCT__entry(
		__field(u64, view)
		__field(u64, src_view)
		__field(u64, pgoff)
		__field(u64, old_pfn)
		__field(u64, new_pfn)
	),
	TP_fast_assign(
		__entry->view = view;
		__entry->src_view = src_view;
		__entry->pgoff = pgoff;
		__entry->old_pfn = old_pfn;
		__entry->new_pfn = new_pfn;
	),
	TP_printk("view=%llu src_view=%llu pgoff=%llu old_pfn=0x%llx new_pfn=0x%llx",
		  __entry->view, __entry->src_view, __entry->pgoff,
		  __entry->old_pfn, __entry->new_pfn)
);

TRACE_EVENT(cowdev_clone,
	TP_PROTO(u64 view, u64 clone, u64 pages),
	TP_ARGS(view, clone, pages),
	TP_STRUCT__entry(
		__field(u64, view)
		__field(u64, clone)
		__field(u64, pages)
	),
	TP_fast_assign(
		__entry->view = view;
		__entry->clone = clone;
		__entry->pages = pages;
	),
	TP_printk("view=%llu clone=%llu pages=%llu", __entry->view,
		  __entry->clone, __entry->pages)
);

/* Once per COWDEV_IOC_DIFF: the view it ran on, the other, the counts. */
TRACE_EVENT(cowdev_diff,
	TP_PROTO(u64 view, u64 other, u64 start, u64 count,
		 const struct cowdev_diff *d),
	TP_ARGS(view, other, start, count, d),
	TP_STRUCT__entry(
		__field(u64, view)
		__field(u64, other)
		__field(u64, start)
		__field(u64, count)
		__field(u64, same)
		__field(u64, different)
		__field(u64, only_this)
		__field(u64, only_other)
	),
	TP_fast_assign(
		__entry->view = view;
		__entry->other = other;
		__entry->start = start;
		__entry->count = count;
		__entry->same = d->same;
		__entry->different = d->different;
		__entry->only_this = d->only_this;
		__entry->only_other = d->only_other;
	),
	TP_printk("view=%llu other=%llu start=%llu count=%llu same=%llu different=%llu only_this=%llu only_other=%llu",
		  __entry->view, __entry->other, __entry->start,
		  __entry->count, __entry->same, __entry->different,
		  __entry->only_this, __entry->only_other)
);

/*
 * Once per COWDEV_IOC_ROLLBACK that succeeded: @pages slots changed,
 * @copied of them got a copy of a page that may be pinned.
 */
TRACE_EVENT(cowdev_rollback,
	TP_PROTO(u64 view, u64 snapshot, u64 old_size, u64 new_size,
		 u64 pages, u64 copied),
	TP_ARGS(view, snapshot, old_size, new_size, pages, copied),
	TP_STRUCT__entry(
		__field(u64, view)
		__field(u64, snapshot)
		__field(u64, old_size)
		__field(u64, new_size)
		__field(u64, pages)
		__field(u64, copied)
	),
	TP_fast_assign(
		__entry->view = view;
		__entry->snapshot = snapshot;
		__entry->old_size = old_size;
		__entry->new_size = new_size;
		__entry->pages = pages;
		__entry->copied = copied;
	),
	TP_printk("view=%llu snapshot=%llu old_size=%llu new_size=%llu pages=%llu copied=%llu",
		  __entry->view, __entry->snapshot, __entry->old_size,
		  __entry->new_size, __entry->pages, __entry->copied)
);

/* Once per COWDEV_IOC_WRITTEN: @written pages of the range; @clear re-armed. */
TRACE_EVENT(cowdev_written,
	TP_PROTO(u64 view, u64 start, u64 count, u64 written, bool clear),
	TP_ARGS(view, start, count, written, clear),
	TP_STRUCT__entry(
		__field(u64, view)
		__field(u64, start)
		__field(u64, count)
		__field(u64, written)
		__field(bool, clear)
	),
	TP_fast_assign(
		__entry->view = view;
		__entry->start = start;
		__entry->count = count;
		__entry->written = written;
		__entry->clear = clear;
	),
	TP_printk("view=%llu start=%llu count=%llu written=%llu clear=%d",
		  __entry->view, __entry->start, __entry->count,
		  __entry->written, __entry->clear)
);

TRACE_EVENT(cowdev_pool_alloc,
	TP_PROTO(u64 pfn, bool ok, u64 free, u64 used, bool injected),
	TP_ARGS(pfn, ok, free, used, injected),
	TP_STRUCT__entry(
		__field(u64, pfn)
		__field(bool, ok)
		__field(u64, free)
		__field(u64, used)
		__field(bool, injected)
	),
	TP_fast_assign(
		__entry->pfn = pfn;
		__entry->ok = ok;
		__entry->free = free;
		__entry->used = used;
		__entry->injected = injected;
	),
	TP_printk("pfn=0x%llx ok=%d free=%llu used=%llu injected=%d",
		  __entry->pfn, __entry->ok, __entry->free, __entry->used,
		  __entry->injected)
);

/* A page leaves its last view: to a free list, or to limbo. */
TRACE_EVENT(cowdev_pool_free,
	TP_PROTO(u64 pfn, bool limbo, u64 free, u64 used),
	TP_ARGS(pfn, limbo, free, used),
	TP_STRUCT__entry(
		__field(u64, pfn)
		__field(bool, limbo)
		__field(u64, free)
		__field(u64, used)
	),
	TP_fast_assign(
		__entry->pfn = pfn;
		__entry->limbo = limbo;
		__entry->free = free;
		__entry->used = used;
	),
	TP_printk("pfn=0x%llx limbo=%d free=%llu used=%llu", __entry->pfn,
		  __entry->limbo, __entry->free, __entry->used)
);

/*
 * A victim leaves the pool: @view asked (0: the background evictor), its
 * page at @pgoff now lives in swap slot @slot; @dirty: it was written.
 */
TRACE_EVENT(cowdev_evict,
	TP_PROTO(u64 view, u64 pgoff, u64 pfn, int policy, bool dirty,
		 u32 slot),
	TP_ARGS(view, pgoff, pfn, policy, dirty, slot),
	TP_STRUCT__entry(
		__field(u64, view)
		__field(u64, pgoff)
		__field(u64, pfn)
		__field(int, policy)
		__field(bool, dirty)
		__field(u32, slot)
	),
	TP_fast_assign(
		__entry->view = view;
		__entry->pgoff = pgoff;
		__entry->pfn = pfn;
		__entry->policy = policy;
		__entry->dirty = dirty;
		__entry->slot = slot;
	),
	TP_printk("view=%llu pgoff=%llu pfn=0x%llx policy=%s dirty=%d slot=%u",
		  __entry->view, __entry->pgoff, __entry->pfn,
		  cowdev_show_policy(__entry->policy), __entry->dirty,
		  __entry->slot)
);

/* One page written to the swap area; @err is 0 or the write's error. */
TRACE_EVENT(cowdev_page_out,
	TP_PROTO(u64 pgoff, u64 pfn, u32 slot, int err, bool injected),
	TP_ARGS(pgoff, pfn, slot, err, injected),
	TP_STRUCT__entry(
		__field(u64, pgoff)
		__field(u64, pfn)
		__field(u32, slot)
		__field(int, err)
		__field(bool, injected)
	),
	TP_fast_assign(
		__entry->pgoff = pgoff;
		__entry->pfn = pfn;
		__entry->slot = slot;
		__entry->err = err;
		__entry->injected = injected;
	),
	TP_printk("pgoff=%llu pfn=0x%llx slot=%u err=%d injected=%d",
		  __entry->pgoff, __entry->pfn, __entry->slot, __entry->err,
		  __entry->injected)
);

/* One page read back for @view; @ns is the time the read took. */
TRACE_EVENT(cowdev_page_in,
	TP_PROTO(u64 view, u64 pgoff, u64 pfn, u32 slot, u64 ns, int err,
		 bool injected),
	TP_ARGS(view, pgoff, pfn, slot, ns, err, injected),
	TP_STRUCT__entry(
		__field(u64, view)
		__field(u64, pgoff)
		__field(u64, pfn)
		__field(u32, slot)
		__field(u64, ns)
		__field(int, err)
		__field(bool, injected)
	),
	TP_fast_assign(
		__entry->view = view;
		__entry->pgoff = pgoff;
		__entry->pfn = pfn;
		__entry->slot = slot;
		__entry->ns = ns;
		__entry->err = err;
		__entry->injected = injected;
	),
	TP_printk("view=%llu pgoff=%llu pfn=0x%llx slot=%u ns=%llu err=%d injected=%d",
		  __entry->view, __entry->pgoff, __entry->pfn, __entry->slot,
		  __entry->ns, __entry->err, __entry->injected)
);

/* The background evictor was woken with @free pages left. */
TRACE_EVENT(cowdev_kswapd,
	TP_PROTO(u64 free, u64 low, u64 high),
	TP_ARGS(free, low, high),
	TP_STRUCT__entry(
		__field(u64, free)
		__field(u64, low)
		__field(u64, high)
	),
	TP_fast_assign(
		__entry->free = free;
		__entry->low = low;
		__entry->high = high;
	),
	TP_printk("free=%llu low=%llu high=%llu", __entry->free,
		  __entry->low, __entry->high)
);

#endif /* _COWDEV_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE cowdev_trace
#include <trace/define_trace.h>
