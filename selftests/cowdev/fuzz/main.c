// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev_fuzz_test: a seeded, time-bounded fuzzer of cowdev's whole
 * userspace interface.
 *
 * Several worker processes, each with several threads, run random
 * operations until the time is up:
 *  - ioctls with random commands (the valid ones, neighbouring numbers,
 *    random direction and size bits, other magics), struct sizes (0, below
 *    the first version, exact, larger with a zero or non-zero tail, above a
 *    page), argument pointers (valid, NULL, kernel, non-canonical,
 *    PROT_NONE, read-only, straddling a page boundary into a read-only or
 *    inaccessible page, inside a cowdev mapping), SET_SIZE values (0, 1,
 *    page - 1, huge, beyond max_object_pages), PAGE_STATE ranges and
 *    buffers, CLONE;
 *  - open, close, dup, dup3, reopen through /proc/self/fd, read/write/lseek
 *    on the device fd;
 *  - mmap (shared, private, any length and offset, beyond the size,
 *    MAP_POPULATE, MAP_FIXED, MAP_SHARED_VALIDATE), munmap, mremap (move,
 *    grow, shrink, MREMAP_DONTUNMAP, duplicate), mprotect, madvise (DONTNEED,
 *    WILLNEED, POPULATE_*, PAGEOUT, DONTFORK and others), msync;
 *  - reads and writes of mapped memory, directly (SIGBUS and SIGSEGV are
 *    caught by libcowdev's cowdev_try(), a thread-local sigjmp_buf) and
 *    through kernel paths (pipes, process_vm_readv/writev, vmsplice, which
 *    pins pages);
 *  - fork (children fuzz on, under a watchdog alarm), clone(CLONE_VM) whose
 *    child uses and closes copies of the fds, a lowered RLIMIT_NOFILE;
 *  - debugfs pagemap and views reads racing with view teardown, sysfs reads;
 *  - the swap area (swap_ops.c): SWAPON with files it must take (a file, a
 *    one-page file, a memfd) and files it must refuse for each documented
 *    reason, SWAPOFF, both from an unprivileged child (EPERM), resident
 *    limits on shared and owned views, evict_policy switched at run time,
 *    all racing with everything above: pages of every view, owned ones
 *    included, are evicted to the area and read back;
 *  - snapshots (snap_ops.c and the ioctl op): DIFF, ROLLBACK and WRITTEN
 *    with valid and invalid arguments on shared views, and on the owned
 *    ones checked against the model: DIFF page by page from the models'
 *    page identities, ROLLBACK's new contents, size and counters,
 *    WRITTEN's bits (which writes, shrinks and rollbacks set and CLEAR
 *    clears), PAGE_STATE with COWDEV_PAGE_STATE_WRITTEN.
 *
 * Checks: every call gets a result from the set the documented semantics
 * allow for its input (a valid GET_STATS succeeds, a bad pointer is EFAULT,
 * a struct size below VER0 EINVAL, ...); output structs are zero-filled past
 * the module's size and nothing outside the argument is written; an access
 * raises exactly the signal it must (SIGSEGV for a protection violation,
 * SIGBUS beyond the size or with an empty pool); no process dies of
 * anything else and none hangs (every process has a watchdog alarm); and at
 * the end, with every fd and mapping gone, the pool's used_pages is back to
 * its value before the run and pool_info.views counts only the checker's own
 * view.  Each thread also owns a few objects nobody else touches, with a
 * model of their size, content and page states, checked after every access
 * and through GET_STATS and PAGE_STATE (a page of the model is in the pool
 * or in the swap area: RESIDENT or SWAPPED, resident_pages +
 * swapped_pages).  At the end no swap slot is in use, the swap area is
 * detached (whoever attached it) and evict_policy is put back.  The guest runner fails the run on
 * any kernel warning, so the kernel side is checked too.
 *
 * Environment:
 *   COWDEV_SEED=N            the seed (default: from the clock); printed
 *   COWDEV_FUZZ_SECONDS=S    run time (default 10)
 *   COWDEV_FUZZ_PROCS=N      worker processes (default 3)
 *   COWDEV_FUZZ_THREADS=N    threads per worker (default 3)
 *   COWDEV_FUZZ_ITERS=N      stop each thread after N operations
 *   COWDEV_FUZZ_VERBOSE=1    log every operation to stderr
 * Each thread's sequence of operations depends only on the seed and its
 * place (worker, thread, fork number); COWDEV_FUZZ_PROCS=1
 * COWDEV_FUZZ_THREADS=1 with COWDEV_FUZZ_ITERS replays a failure exactly.
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "../cowdev_test.h"
#include "fuzz.h"

struct fz_cfg cfg;
struct fz_proc P;

const char *const fz_op_names[OP_NR] = {
	"ioctl", "setsize", "open", "close", "dup", "reopen", "clone",
	"fdops", "mmap", "munmap", "mremap", "mprotect", "madvise", "msync",
	"access", "kpath", "vmsplice", "drain", "debugfs", "sysfs", "fork",
	"clone_vm", "reap", "hog", "race",
	"own_open", "own_close", "own_clone", "own_setsize", "own_mmap",
	"own_munmap", "own_mremap", "own_mprotect", "own_madvise",
	"own_access", "own_kpath", "own_check", "swap", "snap",
};

double fz_now(void)
{
	return cowdev_now();
}

/* ---- the loop ---- */

static const struct {
	void (*fn)(struct fz_thread *t);
	int weight;
	bool excl;	/* runs with the process stopped */
} fz_ops[OP_NR] = {
	[OP_IOCTL] = { op_ioctl, 22 },
	[OP_SETSIZE] = { op_setsize, 5 },
	[OP_OPEN] = { op_open, 3 },
	[OP_CLOSE] = { op_close, 2 },
	[OP_DUP] = { op_dup, 2 },
	[OP_REOPEN] = { op_reopen, 1 },
	[OP_CLONE] = { op_clone, 3 },
	[OP_FDOPS] = { op_fdops, 1 },
	[OP_MMAP] = { op_mmap, 8 },
	[OP_MUNMAP] = { op_munmap, 3 },
	[OP_MREMAP] = { op_mremap, 3 },
	[OP_MPROTECT] = { op_mprotect, 3 },
	[OP_MADVISE] = { op_madvise, 5 },
	[OP_MSYNC] = { op_msync, 1 },
	[OP_ACCESS] = { op_access, 18 },
	[OP_KPATH] = { op_kpath, 4 },
	[OP_VMSPLICE] = { op_vmsplice, 2 },
	[OP_DRAIN] = { op_drain, 1 },
	[OP_DEBUGFS] = { op_debugfs, 3 },
	[OP_SYSFS] = { op_sysfs, 1 },
	[OP_FORK] = { op_fork, 1, true },
	[OP_CLONE_VM] = { op_clone_vm, 1, true },
	[OP_REAP] = { op_reap, 1 },
	[OP_HOG] = { op_hog, 1 },
	[OP_RACE] = { op_race, 2 },
	[OP_OWN_OPEN] = { op_own_open, 2 },
	[OP_OWN_CLOSE] = { op_own_close, 1 },
	[OP_OWN_CLONE] = { op_own_clone, 2 },
	[OP_OWN_SETSIZE] = { op_own_setsize, 3 },
	[OP_OWN_MMAP] = { op_own_mmap, 4 },
	[OP_OWN_MUNMAP] = { op_own_munmap, 2 },
	[OP_OWN_MREMAP] = { op_own_mremap, 2 },
	[OP_OWN_MPROTECT] = { op_own_mprotect, 2 },
	[OP_OWN_MADVISE] = { op_own_madvise, 3 },
	[OP_OWN_ACCESS] = { op_own_access, 14 },
	[OP_OWN_KPATH] = { op_own_kpath, 3 },
	[OP_OWN_CHECK] = { op_own_check, 4 },
	[OP_SWAP] = { op_swap, 3 },
	[OP_SNAP] = { op_snap, 4 },
};

static int fz_pick_op(struct fz_thread *t)
{
	static int total;
	int i, r;

	if (!total)
		for (i = 0; i < OP_NR; i++)
			total += fz_ops[i].weight;
	r = rn(t, total);
	for (i = 0; i < OP_NR; i++) {
		r -= fz_ops[i].weight;
		if (r < 0)
			return i;
	}
	return 0;
}

void fz_loop(struct fz_thread *t)
{
	int op;

	while ((!t->max_iters || t->iter < t->max_iters) &&
	       cowdev_now() < t->end) {
		op = fz_pick_op(t);
		t->op = fz_op_names[op];
		if (cfg.verbose)
			fprintf(stderr, "# %s %lu %s\n", t->who, t->iter, t->op);
		if (fz_ops[op].excl) {
			pthread_rwlock_wrlock(&P.fork_lock);
			fz_ops[op].fn(t);
			pthread_rwlock_unlock(&P.fork_lock);
		} else {
			pthread_rwlock_rdlock(&P.fork_lock);
			fz_ops[op].fn(t);
			pthread_rwlock_unlock(&P.fork_lock);
		}
		t->ops[op]++;
		t->iter++;
	}
	t->op = "end";
}

void fz_thread_init(struct fz_thread *t, const char *who, uint64_t seed,
		    double end, unsigned long max_iters)
{
	int i;

	snprintf(t->who, sizeof(t->who), "%s", who);
	t->rng = fz_mix(seed) | 1;
	t->end = end;
	t->max_iters = max_iters;
	t->op = "init";
	if (!t->arg)
		t->arg = fz_arena_new();
	if (!t->buf)
		t->buf = fz_arena_new();
	t->scratch = malloc(FZ_SCRATCH);
	t->info_fd = cowdev_open();
	t->mem_fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	if (!t->arg || !t->buf || !t->scratch || t->info_fd < 0 ||
	    t->mem_fd < 0 ||
	    pipe2(t->pipe, O_NONBLOCK | O_CLOEXEC)) {
		fz_fail(t, "thread setup failed");
		t->max_iters = 1;
		t->end = 0;
	}
	for (i = 0; i < FZ_OWN_OBJS; i++) {
		t->own[i].live = false;
		t->own[i].fd = -1;
	}
	for (i = 0; i < FZ_OWN_MAPS; i++)
		t->omap[i].live = false;
}

/* Check the owned views one last time, free them, add up the counts. */
void fz_thread_fini(struct fz_thread *t)
{
	int i;

	for (i = 0; i < FZ_OWN_OBJS; i++)
		if (t->own[i].live && t->own[i].fd >= 0) {
			t->op = "final check";
			op_own_check(t);
			break;
		}
	t->op = "end";
	for (i = 0; i < FZ_OWN_OBJS; i++)
		if (t->own[i].live)
			fz_own_drop(t, i);
	if (t->info_fd >= 0)
		close(t->info_fd);
	if (t->mem_fd >= 0)
		close(t->mem_fd);
	close(t->pipe[0]);
	close(t->pipe[1]);
	free(t->scratch);
	__atomic_fetch_add(&cfg.rep->iters, t->iter, __ATOMIC_RELAXED);
	for (i = 0; i < OP_NR; i++)
		__atomic_fetch_add(&cfg.rep->ops[i], t->ops[i],
				   __ATOMIC_RELAXED);
}

static void *fz_thread_fn(void *arg)
{
	fz_loop(arg);
	return NULL;
}

static void __noreturn fz_worker(int w)
{
	struct fz_thread *ts = calloc(cfg.threads, sizeof(*ts));
	pthread_t *tids = calloc(cfg.threads, sizeof(*tids));
	char who[48];
	int i;

	alarm((unsigned int)cfg.seconds + 120);
	fz_init_locks();
	for (i = 0; i < FZ_OBJS; i++)
		P.obj[i].fd = -1;
	for (i = 0; i < FZ_DBG; i++)
		P.dbg_fd[i] = -1;
	if (!ts || !tids)
		_exit(3);
	fz_swap_init();
	for (i = 0; i < cfg.threads; i++) {
		snprintf(who, sizeof(who), "w%d.t%d", w, i);
		fz_thread_init(&ts[i], who,
			       cfg.seed ^ ((uint64_t)(w + 1) << 32) ^ (i + 1),
			       cfg.end, cfg.iters);
	}
	P.race_fd = cowdev_open();
	if (P.race_fd < 0)
		_exit(3);
	/* A few views to start with. */
	for (i = 0; i < FZ_OBJS / 2; i++)
		op_open(&ts[0]);
	for (i = 1; i < cfg.threads; i++)
		if (pthread_create(&tids[i], NULL, fz_thread_fn, &ts[i])) {
			fz_fail(&ts[0], "pthread_create failed");
			tids[i] = 0;
		}
	fz_loop(&ts[0]);
	for (i = 1; i < cfg.threads; i++)
		if (tids[i])
			pthread_join(tids[i], NULL);
	ts[0].op = "cleanup";
	fz_proc_cleanup(&ts[0]);
	for (i = 0; i < cfg.threads; i++)
		fz_thread_fini(&ts[i]);
	fz_reap(&ts[0], true);
	fflush(NULL);
	_exit(0);
}

static const char *fz_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* evict_policy before the run, put back at the end ("" if none). */
static char fz_policy0[32];

#define FZ_POLICY_PARAM "/sys/module/cowdev/parameters/evict_policy"

static void fz_policy_save(void)
{
	FILE *f = fopen(FZ_POLICY_PARAM, "r");
	char *b, *e;

	fz_policy0[0] = 0;
	if (!f)
		return;
	if (!fgets(fz_policy0, sizeof(fz_policy0), f))
		fz_policy0[0] = 0;
	fclose(f);
	/* "name", or a "[name] other ..." list. */
	b = strchr(fz_policy0, '[');
	if (b && (e = strchr(b, ']'))) {
		*e = 0;
		memmove(fz_policy0, b + 1, strlen(b + 1) + 1);
	}
	fz_policy0[strcspn(fz_policy0, " \n")] = 0;
}

/* Put evict_policy back; 0, or the errno of the write. */
static int fz_policy_restore(void)
{
	int fd, err = 0;

	if (!fz_policy0[0])
		return 0;
	fd = open(FZ_POLICY_PARAM, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (write(fd, fz_policy0, strlen(fz_policy0)) < 0)
		err = errno;
	close(fd);
	return err;
}

/* Detach the swap area if one is attached; 0 or the errno. */
static int fz_swap_detach(void)
{
	int fd = cowdev_open(), err;

	if (fd < 0)
		return -fd;
	err = -cowdev_swapoff(fd);
	close(fd);
	return err == EINVAL ? 0 : err;
}

FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
}

/* Whatever happened, the swap area is detached and the policy restored. */
FIXTURE_TEARDOWN(fuzz)
{
	fz_swap_detach();
	fz_policy_restore();
}

/*
 * The fuzzer.  Its own time bound (COWDEV_FUZZ_SECONDS, at most 6000) and
 * watchdogs end it; the harness timeout is only a last resort.
 */
TEST_F_TIMEOUT(fuzz, interface, 7200)
{
	struct cowdev_pool_info base, pi;
	struct fz_thread top = { .who = "main", .op = "final" };
	pid_t pids[64];
	int i, fd, st, left;
	double start, deadline;
	char line[1024];
	size_t n;

	cfg.ps = cowdev_page_size();
	cfg.root = geteuid() == 0;
	cfg.seconds = fz_env("COWDEV_FUZZ_SECONDS") ?
		      strtod(getenv("COWDEV_FUZZ_SECONDS"), NULL) : 10;
	if (!(cfg.seconds >= 0.1))
		cfg.seconds = 0.1;
	if (cfg.seconds > 6000)
		cfg.seconds = 6000;
	cfg.procs = fz_env("COWDEV_FUZZ_PROCS") ?
		    atoi(getenv("COWDEV_FUZZ_PROCS")) : 3;
	cfg.threads = fz_env("COWDEV_FUZZ_THREADS") ?
		      atoi(getenv("COWDEV_FUZZ_THREADS")) : 3;
	cfg.procs = cfg.procs < 1 ? 1 : cfg.procs > 64 ? 64 : cfg.procs;
	cfg.threads = cfg.threads < 1 ? 1 : cfg.threads > 32 ? 32 : cfg.threads;
	cfg.iters = fz_env("COWDEV_FUZZ_ITERS") ?
		    strtoul(getenv("COWDEV_FUZZ_ITERS"), NULL, 0) : 0;
	cfg.verbose = fz_env("COWDEV_FUZZ_VERBOSE") != NULL;
	if (fz_env("COWDEV_SEED"))
		cfg.seed = strtoull(getenv("COWDEV_SEED"), NULL, 0);
	else
		cfg.seed = fz_mix(((uint64_t)time(NULL) << 20) ^ getpid() ^
				  (uint64_t)(cowdev_now() * 1e9));
	cfg.max_pages = cowdev_param("max_object_pages");
	cfg.pool_pages = cowdev_param("pool_pages");
	if (geteuid())
		SKIP(return, "the fuzzer runs as root (root is exempt from user_max_pages)");
	ASSERT_NE(0, cfg.max_pages);
	ASSERT_NE(0, cfg.pool_pages);
	cfg.debugfs = !access("/sys/kernel/debug/cowdev/views", R_OK);
	cfg.rep = mmap(NULL, sizeof(*cfg.rep), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, cfg.rep);

	fd = cowdev_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cowdev_pool_info(fd, &base));
	ASSERT_EQ(0, close(fd));
	base.views--;
	cfg.swap_max = base.swap_total > FZ_SWAP_PAGES ? base.swap_total :
						       FZ_SWAP_PAGES;
	if (base.swap_total)
		ksft_print_msg("cowdev_fuzz: a swap area of %llu pages is attached already: the fuzzer may detach it\n",
			       (unsigned long long)base.swap_total);
	fz_policy_save();

	ksft_print_msg("cowdev_fuzz: seed=%#" PRIx64 " seconds=%g procs=%d threads=%d%s (replay: COWDEV_SEED=%#" PRIx64 ")\n",
		       cfg.seed, cfg.seconds, cfg.procs, cfg.threads,
		       cfg.debugfs ? "" : " (no debugfs)", cfg.seed);
	fflush(stdout);
	signal(SIGPIPE, SIG_IGN);
	cowdev_try_catch();
	start = cowdev_now();
	cfg.end = start + cfg.seconds;
	for (i = 0; i < cfg.procs; i++) {
		fflush(NULL);
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i])
			fz_worker(i);
	}

	/* The workers' alarms fire at seconds + 120; give them a little more. */
	deadline = cfg.end + 150;
	left = cfg.procs;
	while (left) {
		pid_t pid = waitpid(-1, &st, WNOHANG);

		if (pid > 0) {
			for (i = 0; i < cfg.procs; i++)
				if (pids[i] == pid) {
					snprintf(line, sizeof(line), "worker %d", i);
					fz_check_child(&top, line, st);
					pids[i] = 0;
					left--;
				}
			continue;
		}
		if (cowdev_now() > deadline) {
			fz_fail(&top, "%d workers still running %g s after the end: hung",
				left, cowdev_now() - cfg.end);
			for (i = 0; i < cfg.procs; i++)
				if (pids[i])
					kill(pids[i], SIGKILL);
			break;
		}
		usleep(50000);
	}

	ksft_print_msg("cowdev_fuzz: %lu iterations in %.1f s (seed %#" PRIx64 "), %lu forks, %lu SIGBUS and %lu SIGSEGV caught\n",
		       cfg.rep->iters, cowdev_now() - start, cfg.seed,
		       cfg.rep->forks, cfg.rep->sigbus, cfg.rep->sigsegv);
	n = 0;
	for (i = 0; i < OP_NR; i++) {
		n += snprintf(line + n, sizeof(line) - n, " %s=%lu",
			      fz_op_names[i], cfg.rep->ops[i]);
		if (n > 60 || i == OP_NR - 1) {
			ksft_print_msg("cowdev_fuzz: ops:%s\n", line);
			n = 0;
		}
	}

	n = 0;
	for (i = 0; i < FR_NR; i++)
		if (cfg.rep->ioctl_res[i])
			n += snprintf(line + n, sizeof(line) - n, " %s=%lu",
				      fz_res_names[i], cfg.rep->ioctl_res[i]);
	ksft_print_msg("cowdev_fuzz: ioctl results:%s\n", line);
	n = 0;
	for (i = 0; i < FR_NR; i++)
		if (cfg.rep->swap_res[i])
			n += snprintf(line + n, sizeof(line) - n, " %s=%lu",
				      fz_res_names[i], cfg.rep->swap_res[i]);
	ksft_print_msg("cowdev_fuzz: SWAPON/SWAPOFF results:%s; %lu attached, %lu detached\n",
		       n ? line : " none", cfg.rep->swapons, cfg.rep->swapoffs);

	if (!left) {
		/* Every fd and mapping is gone: the pool is back. */
		fd = cowdev_open();
		ASSERT_LE(0, fd);
		for (i = 0; i < 100; i++) {
			ASSERT_EQ(0, cowdev_pool_info(fd, &pi));
			if (pi.used_pages == base.used_pages &&
			    pi.views == base.views + 1)
				break;
			usleep(50000);
		}
		/*
		 * Every view is gone, so is every page it had in the swap
		 * area; then the area is detached whoever attached it.
		 */
		if (pi.swap_total && !base.swap_total)
			EXPECT_EQ(0, pi.swap_used);
		EXPECT_EQ(0, fz_swap_detach());
		EXPECT_EQ(0, fz_policy_restore());
		ASSERT_EQ(0, cowdev_pool_info(fd, &pi));
		EXPECT_EQ(0, pi.swap_total);
		EXPECT_EQ(0, pi.swap_used);
		ksft_print_msg("cowdev_fuzz: swap: %llu evictions (%llu clean), %llu page-outs, %llu page-ins, %llu swap errors during the run\n",
			       (unsigned long long)(pi.evictions - base.evictions),
			       (unsigned long long)(pi.clean_evictions -
						    base.clean_evictions),
			       (unsigned long long)(pi.page_outs - base.page_outs),
			       (unsigned long long)(pi.page_ins - base.page_ins),
			       (unsigned long long)(pi.swap_errors -
						    base.swap_errors));
		EXPECT_EQ(base.used_pages, pi.used_pages);
		EXPECT_EQ(base.views + 1, pi.views);
		EXPECT_EQ(pi.total_pages, pi.free_pages + pi.used_pages + 1);
		EXPECT_EQ(pi.used_pages, pi.allocs - pi.frees);
		ksft_print_msg("cowdev_fuzz: pool: used %llu (before %llu), peak %llu of %llu, %llu allocation failures during the run, views %llu\n",
			       (unsigned long long)pi.used_pages,
			       (unsigned long long)base.used_pages,
			       (unsigned long long)pi.peak_used,
			       (unsigned long long)pi.total_pages,
			       (unsigned long long)(pi.alloc_failures -
						    base.alloc_failures),
			       (unsigned long long)pi.views);
		close(fd);
	}
	fflush(stdout);		/* the harness ends with _exit() */
	for (i = 0; i < (int)MIN(cfg.rep->nfail, FZ_MAX_MSGS); i++)
		TH_LOG("%s", cfg.rep->msg[i]);
	if (cfg.rep->nfail)
		TH_LOG("%u failures; replay with COWDEV_SEED=%#" PRIx64,
		       cfg.rep->nfail, cfg.seed);
	EXPECT_EQ(0, cfg.rep->nfail);
}

TEST_HARNESS_MAIN


