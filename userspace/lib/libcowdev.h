/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * libcowdev: thin wrappers around the /dev/cowdev ioctls.
 *
 * Every function returns 0 (or a file descriptor) on success and a negative
 * errno on failure; errno itself is left as the failing call set it.  The
 * structs are those of <linux/cowdev.h>; the library always passes the size
 * it was built with, so the module's extensible-struct rules apply.
 */
#ifndef LIBCOWDEV_H
#define LIBCOWDEV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/cowdev.h>

#define COWDEV_PATH "/dev/cowdev"

int cowdev_open(void);
int cowdev_set_size(int fd, uint64_t bytes);
int cowdev_get_size(int fd, uint64_t *bytes);
int cowdev_get_stats(int fd, struct cowdev_stats *st);
int cowdev_reset_stats(int fd);
int cowdev_pool_info(int fd, struct cowdev_pool_info *pi);
int cowdev_clone(int fd);
int cowdev_page_state(int fd, uint64_t start, uint64_t count, uint8_t *buf);

/*
 * The module's one swap area (root only: CAP_SYS_ADMIN).  @fd is any
 * /dev/cowdev fd (the area is module-wide); @swap_fd a regular file or block
 * device open O_RDWR, whose size in whole pages is the number of slots; the
 * caller may close it afterwards.  cowdev_swapoff() reads every swapped-out
 * page back first (-ENOMEM, still attached, when the pool cannot hold them).
 */
int cowdev_swapon(int fd, int swap_fd);
int cowdev_swapoff(int fd);
/* At most @pages pages of the view in the pool (0: no limit). */
int cowdev_set_resident_limit(int fd, uint64_t pages);

/*
 * Snapshots as storage systems use them.  cowdev_diff(): one COWDEV_DIFF_*
 * byte per page of [@start, @start + @count) into @buf (NULL: the counts
 * alone), comparing view @fd with view @other; @out (may be NULL) gets the
 * whole reply, counts included.  cowdev_rollback(): view @fd becomes what
 * view @snap holds.  cowdev_written(): one bit per page into @bits (NULL:
 * the count alone), (@count + 7) / 8 bytes; @flags 0 or
 * COWDEV_WRITTEN_CLEAR; *@written (may be NULL) the pages written.
 */
int cowdev_diff(int fd, int other, uint64_t start, uint64_t count,
		uint8_t *buf, struct cowdev_diff *out);
int cowdev_rollback(int fd, int snap);
int cowdev_written(int fd, uint64_t start, uint64_t count, uint8_t *bits,
		   unsigned int flags, uint64_t *written);

/*
 * Accesses to a mapping that may fault, as the demos and selftests make to
 * show SIGBUS past the end or with an empty pool: 0 if the access
 * completed, or the signal (SIGBUS, SIGSEGV) it raised.
 *
 * The catcher: handlers for both signals, installed by the first try and
 * left installed (call cowdev_try_catch() again after changing SIGBUS or
 * SIGSEGV handling), jump back out of the access.  The jump buffer is per
 * thread, so several threads may try at once.  A SIGBUS or SIGSEGV while
 * no try runs is a real crash: the handler says so on stderr and the
 * process dies of the signal.
 *
 * cowdev_try() runs @fn(@arg) under the catcher (a memset, a memcpy, ...):
 * 0 if it returned, or the signal that ended it.  @fn must not change the
 * signal mask or nest another try.
 */
void cowdev_try_catch(void);
int cowdev_try(void (*fn)(void *arg), void *arg);
int cowdev_try_read(const volatile char *p, char *val);
int cowdev_try_write(volatile char *p, char val);

/*
 * The value in kB of /proc/self/smaps field @field ("Rss", "Pss",
 * "Private_Dirty", ...) for the VMA that starts at @addr; -1 if there is
 * no such VMA or field.
 */
long cowdev_smaps_kb(const void *addr, const char *field);

/*
 * Observability: the pool counters in sysfs, the views table and
 * page maps in debugfs, and page-state maps drawn as text or SVG.  None of
 * these open /dev/cowdev (an open would create a view).
 */
#define COWDEV_SYSFS_DIR	"/sys/class/misc/cowdev"
#define COWDEV_DEBUGFS_MNT	"/sys/kernel/debug"
#define COWDEV_DEBUGFS_DIR	COWDEV_DEBUGFS_MNT "/cowdev"

/* One pool counter, /sys/class/misc/cowdev/@attr ("used_pages", ...). */
int cowdev_sysfs_read(const char *attr, uint64_t *val);
/* Every pool counter from sysfs: the same values as cowdev_pool_info(). */
int cowdev_sysfs_pool_info(struct cowdev_pool_info *pi);
/*
 * Wait until the pre-zeroed reserve stops moving on its own: the zeroer
 * has made zero_reserve pages (module parameter) or has no free page left
 * to clear (sysfs zeroed_pages and free_pages).  0 once it has, and at
 * once for a module without the reserve; -ETIMEDOUT after @timeout_ms.
 */
int cowdev_reserve_settle(unsigned int timeout_ms);

/*
 * Can the debugfs files be read?  0 if yes; -ENOENT when debugfs is not
 * mounted at COWDEV_DEBUGFS_MNT, -ENODEV when it is but has no cowdev
 * directory (module not loaded), -EACCES when not root.
 */
int cowdev_debugfs_check(void);
/* A sentence for a cowdev_debugfs_check() (or other debugfs) error. */
const char *cowdev_debugfs_strerror(int err);

/*
 * One line of the debugfs views table.  The columns are matched by their
 * header names; @st holds those the table has (view_id, size_pages,
 * resident_pages, shared_pages and the event counters) and 0 elsewhere.
 */
struct cowdev_view_info {
	uint64_t id;
	int64_t pid;
	struct cowdev_stats st;
};

/*
 * Read the debugfs views table into a malloc()ed array (free() it); the
 * number of views goes to *@count.  -errno as for cowdev_debugfs_check().
 */
int cowdev_debugfs_views(struct cowdev_view_info **views, size_t *count);
/* Read @count page-state bytes of view @id from @start; returns the bytes
 * read (fewer when the view is smaller), or -errno (-ENOENT: no such view).
 */
long cowdev_debugfs_pagemap(uint64_t id, uint64_t start, uint64_t count,
			    uint8_t *buf);

/*
 * Page-state maps.  A map is one byte per page, the COWDEV_PAGE_* flags of
 * COWDEV_IOC_PAGE_STATE or debugfs, plus COWDEV_MAP_ZERO: a library-only bit
 * for a hole that the caller's own mapping maps with the pool's zero page
 * (a hole that was read).  The module does not report that (PAGE_STATE says
 * "hole" either way); cowdev_map_mark_zero() finds it in /proc/self/pagemap.
 *
 * Each page is drawn as one of six states, first match wins:
 *   swapped   COWDEV_PAGE_SWAPPED: in the swap area, not in the pool
 *   shared    COWDEV_PAGE_SHARED: resident and held by another view too
 *   dirty     COWDEV_PAGE_DIRTY: resident, written through this view since
 *             it became the view's own
 *   resident  COWDEV_PAGE_RESIDENT only: the view's own page, not written
 *             since a clone that shared it went away
 *   zero      a hole mapped by the zero page in the caller (COWDEV_MAP_ZERO)
 *   hole      no page: reads give zeros, nothing is allocated
 */
#define COWDEV_MAP_ZERO		(1U << 7)

enum cowdev_map_state {
	COWDEV_STATE_HOLE,
	COWDEV_STATE_ZERO,
	COWDEV_STATE_RESIDENT,
	COWDEV_STATE_SHARED,
	COWDEV_STATE_DIRTY,
	COWDEV_STATE_SWAPPED,
	COWDEV_NR_STATES
};

/* A page-state map to draw: @count flag bytes for pages @first... */
struct cowdev_map {
	const uint8_t *flags;
	uint64_t first;
	uint64_t count;
	const char *title;	/* may be NULL */
};

enum cowdev_map_state cowdev_map_state(uint8_t flags);
/* "hole", "zero", "resident", "shared", "dirty", "swapped" */
const char *cowdev_map_state_name(enum cowdev_map_state state);
/* The terminal glyph of a state: '.', '0', 'r', 'S', 'D', 'w'. */
char cowdev_map_state_glyph(enum cowdev_map_state state);
/* Its colours in the SVG pictures ("#rrggbb"): fill and outline. */
const char *cowdev_map_state_fill(enum cowdev_map_state state);
const char *cowdev_map_state_stroke(enum cowdev_map_state state);
/* Pages per state, into @counts[COWDEV_NR_STATES]. */
void cowdev_map_count(const struct cowdev_map *map, uint64_t *counts);

/*
 * Set COWDEV_MAP_ZERO in @flags[i] for each hole (flags 0) whose page @i
 * of the caller's MAP_SHARED mapping at @addr is present as a file page in
 * /proc/self/pagemap: that is the zero page a read installed.  Returns the
 * number of pages marked, or -errno.
 */
int cowdev_map_mark_zero(const void *addr, uint64_t count, uint8_t *flags);

/*
 * Draw maps as a grid of @columns pages per row (0: 64): as text (one glyph
 * per page, ANSI colours when @color, a legend with counts), or as one SVG
 * document (the maps stacked, each page a <rect> with data-state and
 * data-page attributes, a legend with counts).  Return 0 or -errno.
 */
int cowdev_map_text(FILE *out, const struct cowdev_map *map,
		    unsigned int columns, int color);
int cowdev_map_svg_multi(FILE *out, const struct cowdev_map *maps, size_t n,
			 unsigned int columns);
int cowdev_map_svg(FILE *out, const struct cowdev_map *map,
		   unsigned int columns);

/*
 * The map of a whole view from its fd (COWDEV_IOC_PAGE_STATE), with the
 * zero pages of the caller's mapping at @addr marked when @addr is not
 * NULL (@addr must map the view MAP_SHARED from offset 0 over its size).
 * cowdev_map_read() fills @map (free its flags with cowdev_map_release());
 * cowdev_map_fd_svg() and cowdev_map_fd_text() draw it directly.
 */
int cowdev_map_read(int fd, const void *addr, struct cowdev_map *map);
void cowdev_map_release(struct cowdev_map *map);
int cowdev_map_fd_svg(int fd, const void *addr, FILE *out,
		      unsigned int columns, const char *title);
int cowdev_map_fd_text(int fd, const void *addr, FILE *out,
		       unsigned int columns, int color, const char *title);

#endif /* LIBCOWDEV_H */
