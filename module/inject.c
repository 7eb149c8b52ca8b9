// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev: failure injection, for programs that must handle an empty pool or
 * a failing swap area, and for the tests of those paths.
 *
 * Stock Debian kernels have no CONFIG_FAULT_INJECTION, so cowdev carries its
 * own, shaped like the kernel's fault-injection attributes
 * (Documentation/fault-injection/fault-injection.rst), in debugfs:
 *
 *   /sys/kernel/debug/cowdev/fail_alloc/      a pool page for a view
 *   /sys/kernel/debug/cowdev/fail_swap_in/    a page read from the swap area
 *   /sys/kernel/debug/cowdev/fail_swap_out/   a page written to it
 *
 * each with probability, interval, times, space and verbose as the kernel's
 * have them, pid (only calls made by that process, 0 for any: the stand-in
 * for task-filter and /proc/PID/make-it-fail, which these kernels lack),
 * view (only calls for that view id, 0 for any; fail_swap_out has none: a
 * page-out is for a page that many views may hold) and two counters, calls
 * (calls that got past the filters, times and space: the ones interval
 * counts; writing interval sets it to 0, so that "the 100th call from now"
 * is interval 100) and injected (failures made).
 *
 * An injected failure takes the path of the real one: an allocation fails
 * as if the pool were empty and nothing could be evicted (SIGBUS for a
 * fault, pool_failures and alloc_failures counted, ENOSPC for a clone or
 * a rollback that needed a copy), a swap read or write as if the file had
 * returned EIO (swap_errors).  The pool's injected_failures counts them
 * all, and the cowdev_pool_alloc, cowdev_page_in and cowdev_page_out
 * events say injected=1.
 *
 * Delay injection, for tests: named points at the race windows the code
 * documents (enum cowdev_delay_point) sleep for delay/<point>/ms
 * milliseconds in the one task delay/<point>/pid names (a thread id; 0 for
 * any), so that a test holds a window open while another thread acts in
 * it; delay/<point>/hits counts the sleeps.  The points sit behind a
 * static key that is on only while some point has a delay: the shipped
 * module's paths pay a patched-out jump.
 *
 * The attributes are plain words written by debugfs; a call reads each
 * once.  times and space are atomic, as the kernel's are; calls and
 * injected are atomic counters.  Everything lives as long as the module.
 */
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/jump_label.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/random.h>
#include <linux/sched.h>

#include "cowdev.h"

/**
 * struct cowdev_fail - one failure-injection point
 * @name: its debugfs directory
 * @probability: percent of the calls that reach it that fail
 * @interval: only every @interval-th call that passed the filters may fail
 * @times: failures left to make, -1 for no limit
 * @space: bytes of calls to let through before any may fail (each call is
 *	PAGE_SIZE), as the kernel's "space"
 * @verbose: 0 quiet, 1 one line per failure, 2 with a stack dump
 * @pid: only calls by this process (tgid), 0 for any
 * @view: only calls for this view id, 0 for any
 * @calls: calls past the filters, @times and @space (what @interval counts)
 * @injected: failures made
 */
struct cowdev_fail {
	const char *name;
	u32 probability;
	u32 interval;
	atomic_t times;
	atomic_t space;
	u32 verbose;
	u32 pid;
	u64 view;
	atomic64_t calls;
	atomic64_t injected;
};

#define COWDEV_FAIL_INIT(n) {				\
	.name = n,					\
	.interval = 1,					\
	.times = ATOMIC_INIT(1),			\
	.space = ATOMIC_INIT(0),			\
	.verbose = 1,					\
	.calls = ATOMIC64_INIT(0),			\
	.injected = ATOMIC64_INIT(0),			\
}

static struct cowdev_fail cowdev_fails[] = {
	[COWDEV_FAIL_ALLOC] = COWDEV_FAIL_INIT("fail_alloc"),
	[COWDEV_FAIL_SWAP_IN] = COWDEV_FAIL_INIT("fail_swap_in"),
	[COWDEV_FAIL_SWAP_OUT] = COWDEV_FAIL_INIT("fail_swap_out"),
};

/* Does this call pass the attribute's filters? */
static bool cowdev_fail_matches(struct cowdev_fail *f, u64 view)
{
	u32 pid = READ_ONCE(f->pid);
	u64 want = READ_ONCE(f->view);

	if (pid && task_tgid_nr(current) != pid)
		return false;
	return !want || !view || want == view;
}

/*
 * The kernel's should_fail() rules, in its order: times left, space, the
 * interval, then the probability.
 */
static bool cowdev_fail_decide(struct cowdev_fail *f)
{
	u32 interval = READ_ONCE(f->interval);

	if (atomic_read(&f->times) == 0)
		return false;
	if (atomic_read(&f->space) > PAGE_SIZE) {
		atomic_sub(PAGE_SIZE, &f->space);
		return false;
	}
	if (atomic64_inc_return(&f->calls) % max(interval, 1U))
		return false;
	if (READ_ONCE(f->probability) <= get_random_u32() % 100)
		return false;
	if (atomic_read(&f->times) != -1 && !atomic_add_unless(&f->times, -1, 0))
		return false;
	return true;
}

/**
 * cowdev_should_fail() - make this call fail?
 * @point: which point (enum cowdev_fail_point)
 * @view: the id of the view the call is for, 0 when none
 *
 * Return: true when the caller must fail as the real failure would.
 */
bool cowdev_should_fail(enum cowdev_fail_point point, u64 view)
{
	struct cowdev_fail *f = &cowdev_fails[point];
	u32 verbose;

	if (!READ_ONCE(f->probability) || !cowdev_fail_matches(f, view))
		return false;
	if (!cowdev_fail_decide(f))
		return false;
	atomic64_inc(&f->injected);
	verbose = READ_ONCE(f->verbose);
	if (verbose)
		pr_info("cowdev: %s: injected a failure (view %llu, pid %d)\n",
			f->name, view, task_tgid_nr(current));
	if (verbose > 1)
		dump_stack();
	return true;
}

/* Failures injected at every point since load (pool_info). */
u64 cowdev_injected_failures(void)
{
	u64 n = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(cowdev_fails); i++)
		n += atomic64_read(&cowdev_fails[i].injected);
	return n;
}

static int cowdev_fail_interval_get(void *data, u64 *val)
{
	*val = READ_ONCE(((struct cowdev_fail *)data)->interval);
	return 0;
}

/* A new interval counts from the next call: "the 100th from now". */
static int cowdev_fail_interval_set(void *data, u64 val)
{
	struct cowdev_fail *f = data;

	if (val > U32_MAX)
		return -EINVAL;
	WRITE_ONCE(f->interval, val);
	atomic64_set(&f->calls, 0);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(cowdev_fail_interval_fops, cowdev_fail_interval_get,
			 cowdev_fail_interval_set, "%llu\n");

static int cowdev_fail_calls_get(void *data, u64 *val)
{
	*val = atomic64_read(&((struct cowdev_fail *)data)->calls);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(cowdev_fail_calls_fops, cowdev_fail_calls_get, NULL,
			 "%llu\n");

static int cowdev_fail_injected_get(void *data, u64 *val)
{
	*val = atomic64_read(&((struct cowdev_fail *)data)->injected);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(cowdev_fail_injected_fops, cowdev_fail_injected_get,
			 NULL, "%llu\n");

static void cowdev_fail_debugfs(struct cowdev_fail *f, struct dentry *root,
				bool has_view)
{
	struct dentry *dir = debugfs_create_dir(f->name, root);

	debugfs_create_u32("probability", 0600, dir, &f->probability);
	debugfs_create_file_unsafe("interval", 0600, dir, f,
				   &cowdev_fail_interval_fops);
	debugfs_create_atomic_t("times", 0600, dir, &f->times);
	debugfs_create_atomic_t("space", 0600, dir, &f->space);
	debugfs_create_u32("verbose", 0600, dir, &f->verbose);
	debugfs_create_u32("pid", 0600, dir, &f->pid);
	if (has_view)
		debugfs_create_u64("view", 0600, dir, &f->view);
	debugfs_create_file_unsafe("calls", 0400, dir, f,
				   &cowdev_fail_calls_fops);
	debugfs_create_file_unsafe("injected", 0400, dir, f,
				   &cowdev_fail_injected_fops);
}

/* The fail_* directories under cowdev's debugfs directory @root. */
void cowdev_inject_debugfs_init(struct dentry *root)
{
	cowdev_fail_debugfs(&cowdev_fails[COWDEV_FAIL_ALLOC], root, true);
	cowdev_fail_debugfs(&cowdev_fails[COWDEV_FAIL_SWAP_IN], root, true);
	cowdev_fail_debugfs(&cowdev_fails[COWDEV_FAIL_SWAP_OUT], root, false);
}

/* ---- delay injection -------------------------------------------------- */

DEFINE_STATIC_KEY_FALSE(cowdev_delays_on);

/**
 * struct cowdev_delay - one delay point
 * @name: its debugfs directory under delay/
 * @ms: how long to sleep there, 0 for not at all
 * @pid: only in this thread (task pid), 0 for any
 * @hits: sleeps made
 */
struct cowdev_delay {
	const char *name;
	u32 ms;
	u32 pid;
	atomic64_t hits;
};

static struct cowdev_delay cowdev_delays[] = {
	[COWDEV_DELAY_FAULT_LOCKED] = { .name = "fault_locked" },
	[COWDEV_DELAY_MKWRITE_LOCKED] = { .name = "mkwrite_locked" },
	[COWDEV_DELAY_HOLE_FILL] = { .name = "hole_fill" },
	[COWDEV_DELAY_ZERO_INSERT] = { .name = "zero_insert" },
	[COWDEV_DELAY_SHRINK] = { .name = "shrink" },
	[COWDEV_DELAY_SHRINK_ZAPPED] = { .name = "shrink_zapped" },
	[COWDEV_DELAY_CLONE] = { .name = "clone" },
	[COWDEV_DELAY_COW_BREAK] = { .name = "cow_break" },
	[COWDEV_DELAY_ROLLBACK] = { .name = "rollback" },
	[COWDEV_DELAY_WRITTEN_CLEAR] = { .name = "written_clear" },
	[COWDEV_DELAY_ZERO_CLEAR] = { .name = "zero_clear" },
};

/* Serialises the key's flips with the writes of ms. */
static DEFINE_MUTEX(cowdev_delays_lock);

void __cowdev_delay(enum cowdev_delay_point point)
{
	struct cowdev_delay *d = &cowdev_delays[point];
	u32 ms = READ_ONCE(d->ms), pid = READ_ONCE(d->pid);

	if (!ms || (pid && current->pid != pid))
		return;
	atomic64_inc(&d->hits);
	msleep(ms);
}

static int cowdev_delay_ms_get(void *data, u64 *val)
{
	*val = READ_ONCE(((struct cowdev_delay *)data)->ms);
	return 0;
}

/* The key is on while any point has a delay. */
static int cowdev_delay_ms_set(void *data, u64 val)
{
	struct cowdev_delay *d = data;
	bool any = false;
	int i;

	if (val > 60000)
		return -EINVAL;
	mutex_lock(&cowdev_delays_lock);
	WRITE_ONCE(d->ms, val);
	for (i = 0; i < ARRAY_SIZE(cowdev_delays); i++)
		any |= READ_ONCE(cowdev_delays[i].ms) != 0;
	if (any)
		static_branch_enable(&cowdev_delays_on);
	else
		static_branch_disable(&cowdev_delays_on);
	mutex_unlock(&cowdev_delays_lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(cowdev_delay_ms_fops, cowdev_delay_ms_get,
			 cowdev_delay_ms_set, "%llu\n");

static int cowdev_delay_hits_get(void *data, u64 *val)
{
	*val = atomic64_read(&((struct cowdev_delay *)data)->hits);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(cowdev_delay_hits_fops, cowdev_delay_hits_get, NULL,
			 "%llu\n");

/* The delay/ directory under cowdev's debugfs directory @root. */
void cowdev_delay_debugfs_init(struct dentry *root)
{
	struct dentry *top = debugfs_create_dir("delay", root), *dir;
	int i;

	for (i = 0; i < ARRAY_SIZE(cowdev_delays); i++) {
		struct cowdev_delay *d = &cowdev_delays[i];

		dir = debugfs_create_dir(d->name, top);
		debugfs_create_file_unsafe("ms", 0600, dir, d,
					   &cowdev_delay_ms_fops);
		debugfs_create_u32("pid", 0600, dir, &d->pid);
		debugfs_create_file_unsafe("hits", 0400, dir, d,
					   &cowdev_delay_hits_fops);
	}
}
