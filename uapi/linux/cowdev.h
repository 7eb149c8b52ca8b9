/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * cowdev: demand paging and module-owned copy-on-write over a bounded page
 * pool, exposed as /dev/cowdev.  This header is the whole userspace ABI; the
 * module and every tool and test include it.
 *
 * Extensible structs: every struct below may grow at its end in a later
 * version.  Its size travels in the ioctl number (_IOC_SIZE), so a caller
 * built against an older or newer header keeps working:
 *  - input structs are read like copy_struct_from_user(): a shorter struct
 *    is zero-extended, a longer one is accepted only if the bytes the module
 *    does not know are zero (else E2BIG);
 *  - output structs are written up to the caller's size; bytes the module
 *    does not know are zeroed in the caller's buffer;
 *  - a size below the first published size (the *_SIZE_VER0 constants) is
 *    EINVAL, a size above 4096 bytes is E2BIG.
 * A zero-filled struct is always a valid argument, except where a field
 * is a file descriptor (struct cowdev_diff, struct cowdev_rollback,
 * struct cowdev_swapon): 0 is then fd 0.
 */
#ifndef _UAPI_LINUX_COWDEV_H
#define _UAPI_LINUX_COWDEV_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define COWDEV_IOC_MAGIC	0xC7

/**
 * struct cowdev_stats - counters of one view (COWDEV_IOC_GET_STATS)
 * @faults: calls of ->fault
 * @map_pages_calls: calls of ->map_pages (fault-around)
 * @map_pages_mapped: ptes installed by ->map_pages
 * @mkwrite: calls of ->page_mkwrite
 * @zero_maps: hole reads served by mapping the shared zero page
 * @demand_allocs: pool pages allocated for first writes to holes
 * @private_cow: write faults from MAP_PRIVATE mappings that reached ->fault
 * @sigbus: faults answered with SIGBUS (beyond the size, or no pool page)
 * @pool_failures: faults that needed a pool page and found the pool empty
 * @resident_pages: pages the view holds now (gauge, not reset)
 * @cow_copies: writes to a shared page that copied it for this view
 * @cow_reuses: first in-place writes to a page that was shared but no
 *              longer is
 * @shared_pages: resident pages this view shares with another view (gauge)
 * @size_pages: the view's size in pages (gauge)
 * @view_id: the view's id, as in debugfs and tracepoints
 * @clones: clones taken of this view
 * @limit_failures: faults that needed a pool page while the view's user was
 *                  at its limit (module parameter user_max_pages)
 * @pinned_copies: pages that clones of this view got as copies at clone
 *                 time instead of sharing them, because the page may be
 *                 pinned (FOLL_PIN: process_vm_writev, O_DIRECT, io_uring
 *                 fixed buffers...), as fork() does for anonymous memory
 * @major_faults: faults on a page of this view that was in the swap area
 *                and had to be read back (VM_FAULT_MAJOR: each one is one
 *                major fault of the faulting task, its majflt)
 * @page_ins: pages read from the swap area for a fault or a swapoff in
 *            this view (one read brings a page back for every view that
 *            shares it; it is counted in the view that asked)
 * @page_outs: pages this view held that were written to the swap area
 *             (counted in every view that held the page)
 * @evictions: pages this view held that were evicted from the pool, with or
 *             without a write (counted in every view that held the page)
 * @swapped_pages: pages of this view that are in the swap area and not in
 *                 the pool (gauge)
 * @resident_limit: the view's resident limit in pages, 0 for none (gauge,
 *                  COWDEV_IOC_SET_RESIDENT_LIMIT)
 * @diffs: COWDEV_IOC_DIFF calls made on this view that succeeded
 * @rollbacks: COWDEV_IOC_ROLLBACK calls that rolled this view back
 * @rollback_pages: pages whose contents those rollbacks changed (the slot
 *                  now holds another page, a hole where a page was, or a
 *                  page where a hole was; pages dropped beyond a smaller
 *                  size count too)
 * @written_queries: COWDEV_IOC_WRITTEN calls on this view that succeeded
 * @written_clears: part of @written_queries: calls with
 *                  COWDEV_WRITTEN_CLEAR, which re-armed write tracking
 *
 * Gauges are not changed by COWDEV_IOC_RESET_STATS; event counters are.
 */
struct cowdev_stats {
	__u64 faults;
	__u64 map_pages_calls;
	__u64 map_pages_mapped;
	__u64 mkwrite;
	__u64 zero_maps;
	__u64 demand_allocs;
	__u64 private_cow;
	__u64 sigbus;
	__u64 pool_failures;
	__u64 resident_pages;
	__u64 cow_copies;
	__u64 cow_reuses;
	__u64 shared_pages;
	__u64 size_pages;
	__u64 view_id;
	__u64 clones;
	__u64 limit_failures;
	__u64 pinned_copies;
	__u64 major_faults;
	__u64 page_ins;
	__u64 page_outs;
	__u64 evictions;
	__u64 swapped_pages;
	__u64 resident_limit;
	__u64 diffs;
	__u64 rollbacks;
	__u64 rollback_pages;
	__u64 written_queries;
	__u64 written_clears;
};
#define COWDEV_STATS_SIZE_VER0	128

/**
 * struct cowdev_pool_info - the module-wide page pool (COWDEV_IOC_POOL_INFO)
 * @total_pages: pages reserved at load (module parameter pool_pages); one of
 *               them is the shared zero page
 * @free_pages: pages ready to be allocated
 * @used_pages: pages allocated to views, or released by views but still
 *              referenced by a pte or a pin (see @limbo_pages);
 *              total_pages == free_pages + used_pages + 1
 * @peak_used: highest @used_pages since load
 * @alloc_failures: allocations that found the pool empty
 * @views: live views (open files and clones)
 * @limbo_pages: part of @used_pages: released pages that wait for their last
 *               outside reference before they return to the free list
 * @allocs: successful allocations since load
 * @frees: pages returned to the free list since load
 * @swap_total: page-sized slots of the swap area, 0 while none is attached
 * @swap_used: slots in use: pages that are out of the pool, and clean copies
 *             of pages that were read back and not written since
 * @page_outs: pages written to the swap area
 * @page_ins: pages read from the swap area
 * @evictions: pages taken from the views that held them to free a pool page
 * @clean_evictions: part of @evictions: pages whose copy in the swap area was
 *                   still good, so nothing was written
 * @swap_errors: reads and writes of the swap area that failed (the access
 *               that needed the read gets SIGBUS; a page whose write failed
 *               stays in the pool)
 * @kswapd_wakeups: times the background evictor was woken because free
 *                  pages fell below the module parameter low_watermark
 * @injected_failures: allocations and swap reads and writes made to fail
 *                     by failure injection (debugfs cowdev/fail_*), each
 *                     also counted where the real failure would be
 * @zeroed_pages: part of @free_pages: pages kept zeroed off the fault path
 *                (module parameter zero_reserve) for the next allocations
 * @zeroed_allocs: allocations of a zeroed page (a hole's) served by a page
 *                 zeroed in advance
 * @inline_zeroes: allocations of a zeroed page that found none in advance
 *                 and cleared one themselves; copies and page-ins, which
 *                 overwrite their page whole, count in neither
 */
struct cowdev_pool_info {
	__u64 total_pages;
	__u64 free_pages;
	__u64 used_pages;
	__u64 peak_used;
	__u64 alloc_failures;
	__u64 views;
	__u64 limbo_pages;
	__u64 allocs;
	__u64 frees;
	__u64 swap_total;
	__u64 swap_used;
	__u64 page_outs;
	__u64 page_ins;
	__u64 evictions;
	__u64 clean_evictions;
	__u64 swap_errors;
	__u64 kswapd_wakeups;
	__u64 injected_failures;
	__u64 zeroed_pages;
	__u64 zeroed_allocs;
	__u64 inline_zeroes;
};
#define COWDEV_POOL_INFO_SIZE_VER0	72

/* Bits of each byte COWDEV_IOC_PAGE_STATE writes; a hole is 0. */
#define COWDEV_PAGE_RESIDENT	(1U << 0) /* the view holds a pool page */
#define COWDEV_PAGE_SHARED	(1U << 1) /* ...that another view holds too */
#define COWDEV_PAGE_DIRTY	(1U << 2) /* written through this view since
					   * the page became its own
					   */
#define COWDEV_PAGE_SWAPPED	(1U << 3) /* the page is in the swap area,
					   * not in the pool (RESIDENT clear)
					   */
#define COWDEV_PAGE_WRITTEN	(1U << 4) /* written since write tracking
					   * was last re-armed: the bit
					   * COWDEV_IOC_WRITTEN reports.
					   * Alone on a hole whose page went
					   * away since (shrink, rollback).
					   */

/**
 * struct cowdev_page_state - page-state map request (COWDEV_IOC_PAGE_STATE)
 * @start: first page index
 * @count: number of pages; @start + @count must not exceed the view's size
 * @buf: user pointer (u64_to_user_ptr) to @count bytes, one per page
 * @flags: 0, or COWDEV_PAGE_STATE_WRITTEN to have COWDEV_PAGE_WRITTEN
 *         reported too (without it the bytes are as they were before write
 *         tracking existed: a hole is 0)
 */
struct cowdev_page_state {
	__u64 start;
	__u64 count;
	__u64 buf;
	__u64 flags;
};
#define COWDEV_PAGE_STATE_SIZE_VER0	32
#define COWDEV_PAGE_STATE_WRITTEN	(1U << 0)

/**
 * struct cowdev_swapon - attach a swap area (COWDEV_IOC_SWAPON)
 * @fd: a regular file or a block device, open for reading and writing; its
 *      size in whole pages is the number of slots (at least one).  The module
 *      keeps its own reference; the caller may close @fd.
 * @flags: must be 0
 */
struct cowdev_swapon {
	__s32 fd;
	__u32 flags;
};
#define COWDEV_SWAPON_SIZE_VER0	8

/*
 * One byte per page of COWDEV_IOC_DIFF: what this view (the fd the ioctl is
 * called on) and the other one hold at that index.  Pages are compared by
 * identity (the same pool page, or the same swap slot), never by contents.
 */
#define COWDEV_DIFF_HOLES	0 /* a hole in both */
#define COWDEV_DIFF_SAME	1 /* the same page in both (shared) */
#define COWDEV_DIFF_DIFFERENT	2 /* a page in each, not the same one */
#define COWDEV_DIFF_ONLY_THIS	3 /* a page here, a hole in the other */
#define COWDEV_DIFF_ONLY_OTHER	4 /* a hole here, a page in the other */

/**
 * struct cowdev_diff - compare two views page by page (COWDEV_IOC_DIFF)
 * @fd: the other view, any cowdev fd (of this family or not; views that
 *      clones do not relate hold no page in common)
 * @flags: must be 0
 * @start: first page index
 * @count: number of pages; @start + @count must not exceed the larger of
 *         the two views' sizes (beyond a view's size it holds holes)
 * @buf: user pointer to @count bytes, one COWDEV_DIFF_* per page, or 0 for
 *       the counts alone
 * @same: out: pages that are COWDEV_DIFF_SAME
 * @different: out: pages that are COWDEV_DIFF_DIFFERENT
 * @only_this: out: pages that are COWDEV_DIFF_ONLY_THIS
 * @only_other: out: pages that are COWDEV_DIFF_ONLY_OTHER
 *
 * Exact while neither view changes during the call; it takes neither
 * view's lock and costs time in proportion to the pages the two views hold
 * in the range (plus @count to clear and copy @buf).
 */
struct cowdev_diff {
	__s32 fd;
	__u32 flags;
	__u64 start;
	__u64 count;
	__u64 buf;
	__u64 same;
	__u64 different;
	__u64 only_this;
	__u64 only_other;
};
#define COWDEV_DIFF_SIZE_VER0	64

/**
 * struct cowdev_rollback - roll this view back to a snapshot
 *	(COWDEV_IOC_ROLLBACK)
 * @fd: the snapshot: another view of the same family (a clone of this view,
 *      its source, a clone of those...); this view itself is EINVAL
 * @flags: must be 0
 */
struct cowdev_rollback {
	__s32 fd;
	__u32 flags;
};
#define COWDEV_ROLLBACK_SIZE_VER0	8

/* COWDEV_IOC_WRITTEN: clear the bits it returns and re-arm tracking. */
#define COWDEV_WRITTEN_CLEAR	(1U << 0)

/**
 * struct cowdev_written - pages written since the last re-arm
 *	(COWDEV_IOC_WRITTEN)
 * @start: first page index
 * @count: number of pages; @start + @count must not exceed the view's size
 * @buf: user pointer to (@count + 7) / 8 bytes: page @start + i is bit
 *       (i % 8) of byte i / 8, 1 when written; 0 for the count alone
 * @flags: 0 or COWDEV_WRITTEN_CLEAR
 * @written: out: pages of the range that are written (bits set in @buf)
 */
struct cowdev_written {
	__u64 start;
	__u64 count;
	__u64 buf;
	__u64 flags;
	__u64 written;
};
#define COWDEV_WRITTEN_SIZE_VER0	40

/* Set the view's size in bytes (rounded up to pages). */
#define COWDEV_IOC_SET_SIZE	_IOW(COWDEV_IOC_MAGIC, 0x01, __u64)
/* Get the view's size in bytes. */
#define COWDEV_IOC_GET_SIZE	_IOR(COWDEV_IOC_MAGIC, 0x02, __u64)
#define COWDEV_IOC_GET_STATS	_IOR(COWDEV_IOC_MAGIC, 0x03, struct cowdev_stats)
/* Zero the view's event counters. */
#define COWDEV_IOC_RESET_STATS	_IO(COWDEV_IOC_MAGIC, 0x04)
#define COWDEV_IOC_POOL_INFO	_IOR(COWDEV_IOC_MAGIC, 0x05, struct cowdev_pool_info)
/* Snapshot the view; returns a new O_RDWR | O_CLOEXEC fd. */
#define COWDEV_IOC_CLONE	_IO(COWDEV_IOC_MAGIC, 0x06)
#define COWDEV_IOC_PAGE_STATE	_IOW(COWDEV_IOC_MAGIC, 0x07, struct cowdev_page_state)
/*
 * Attach the module's one swap area; CAP_SYS_ADMIN (else EPERM), EBUSY when
 * one is attached.  Module-wide, like COWDEV_IOC_POOL_INFO: any view's fd.
 */
#define COWDEV_IOC_SWAPON	_IOW(COWDEV_IOC_MAGIC, 0x08, struct cowdev_swapon)
/*
 * Detach it, reading every page it holds back into the pool first; ENOMEM,
 * with the area still attached, when the pool cannot hold them; EINVAL when
 * none is attached.  CAP_SYS_ADMIN.
 */
#define COWDEV_IOC_SWAPOFF	_IO(COWDEV_IOC_MAGIC, 0x09)
/*
 * At most this many pages of the view in the pool (0: no limit).  A view at
 * its limit evicts one of its own pages for each page it needs (local
 * replacement); without a swap area that fault gets SIGBUS.
 */
#define COWDEV_IOC_SET_RESIDENT_LIMIT _IOW(COWDEV_IOC_MAGIC, 0x0a, __u64)
/* Compare this view with another, page by page (struct cowdev_diff). */
#define COWDEV_IOC_DIFF		_IOWR(COWDEV_IOC_MAGIC, 0x0b, struct cowdev_diff)
/*
 * Make this view's contents and size those of another view of its family
 * by sharing its pages, like zfs rollback: nothing is copied (except pages
 * that may be pinned, as clone copies them), this view's pages that are
 * no longer held go back to the pool, and its ptes in every process are
 * zapped.  EINVAL for itself or a file that is not a view, EXDEV for a
 * view of another family, EBADF for a bad fd.
 */
#define COWDEV_IOC_ROLLBACK	_IOW(COWDEV_IOC_MAGIC, 0x0c, struct cowdev_rollback)
/* Which pages were written since tracking was last re-armed. */
#define COWDEV_IOC_WRITTEN	_IOWR(COWDEV_IOC_MAGIC, 0x0d, struct cowdev_written)

#endif /* _UAPI_LINUX_COWDEV_H */
