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
 *    caught with a thread-local sigjmp_buf) and through kernel paths (pipes,
 *    process_vm_readv/writev, vmsplice, which pins pages);
 *  - fork (children fuzz on, under a watchdog alarm), clone(CLONE_VM) whose
 *    child uses and closes copies of the fds, a lowered RLIMIT_NOFILE;
 *  - debugfs pagemap and views reads racing with view teardown, sysfs reads.
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
 * and through GET_STATS and PAGE_STATE.  The guest runner fails the run on
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
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_COLD
#define MADV_COLD 20
#define MADV_PAGEOUT 21
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif

/* A mmap flag bit no kernel defines (MAP_SHARED_VALIDATE refuses it). */
#define FZ_MAP_UNKNOWN	0x800000

#define FZ_OBJS		12	/* shared objects per process */
#define FZ_MAPS		16	/* shared mappings per process */
#define FZ_DBG		3	/* open debugfs pagemap files per process */
#define FZ_CHILDREN	6	/* forked children alive per process */
#define FZ_OWN_OBJS	4	/* objects each thread owns */
#define FZ_OWN_MAPS	6	/* mappings of them */
#define FZ_OWN_PAGES	48	/* largest owned object */
#define FZ_OWN_MAP_PAGES 16	/* largest owned mapping */
#define FZ_ARENA_PAGES	7
#define FZ_SCRATCH	(96 * 1024)
#define FZ_MAX_MSGS	24
#define FZ_MSG_LEN	640
#define FZ_MAX_DEPTH	2	/* fork generations */
#define FZ_CHILD_ALARM	60	/* watchdog of a forked child, seconds */
#define FZ_TOUCH_PAGES	4096	/* accesses stay in the first 16 MiB */

#define BIT(x) (1u << (x))
#ifndef __noinline
#define __noinline __attribute__((noinline))
#endif
#ifndef __noreturn
#define __noreturn __attribute__((noreturn))
#endif
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* ---- configuration and the cross-process report ---- */

enum fz_op_id {
	OP_IOCTL, OP_SETSIZE, OP_OPEN, OP_CLOSE, OP_DUP, OP_REOPEN, OP_CLONE,
	OP_FDOPS, OP_MMAP, OP_MUNMAP, OP_MREMAP, OP_MPROTECT, OP_MADVISE,
	OP_MSYNC, OP_ACCESS, OP_KPATH, OP_VMSPLICE, OP_DRAIN, OP_DEBUGFS,
	OP_SYSFS, OP_FORK, OP_CLONE_VM, OP_REAP, OP_HOG, OP_RACE,
	OP_OWN_OPEN, OP_OWN_CLOSE, OP_OWN_CLONE, OP_OWN_SETSIZE, OP_OWN_MMAP,
	OP_OWN_MUNMAP, OP_OWN_MREMAP, OP_OWN_MPROTECT, OP_OWN_MADVISE,
	OP_OWN_ACCESS, OP_OWN_KPATH, OP_OWN_CHECK,
	OP_NR
};

struct fz_report {
	unsigned long iters;
	unsigned long ops[OP_NR];
	unsigned long forks;
	unsigned long sigbus, sigsegv;
	unsigned long ioctl_res[32];	/* ioctl results by FR_* */
	unsigned int nfail;
	char msg[FZ_MAX_MSGS][FZ_MSG_LEN];
};

static struct {
	uint64_t seed;
	double seconds, end;
	int procs, threads;
	unsigned long iters;
	int verbose;
	size_t ps;
	unsigned long max_pages;
	unsigned long pool_pages;
	bool root;
	bool debugfs;
	struct fz_report *rep;
} cfg;

/* ---- per-process shared state (copied by fork) ---- */

struct fz_obj {
	pthread_rwlock_t lock;
	int fd;			/* -1: empty */
	bool rd, wr;		/* open mode */
	bool clone;		/* a clone's file (cannot be reopened) */
};

struct fz_map {
	pthread_rwlock_t lock;
	char *addr;		/* NULL: empty */
	size_t len;
	int prot;
	bool shared;
	bool wr_ok;		/* PROT_WRITE allowed by the fd's mode */
	bool dontfork;
};

struct fz_child {
	pid_t pid;
	char who[48];
};

static struct {
	pthread_rwlock_t fork_lock;	/* ops: read; fork and clone_vm: write */
	struct fz_obj obj[FZ_OBJS];
	struct fz_map map[FZ_MAPS];
	pthread_mutex_t dbg_lock[FZ_DBG];
	int dbg_fd[FZ_DBG];
	pthread_mutex_t child_lock;
	struct fz_child child[FZ_CHILDREN];
	int race_fd;			/* a cowdev fd number op_race swaps */
	int depth;
} P;

/* ---- per-thread state ---- */

struct fz_own {
	bool live;
	int fd;			/* -1 once closed (mappings may keep it) */
	unsigned long size;	/* pages */
	int nmaps;
	uint8_t data[FZ_OWN_PAGES];	/* every byte of page p */
	uint8_t res[FZ_OWN_PAGES];	/* 0 hole, 1 resident, 2 unknown */
	uint8_t dirty[FZ_OWN_PAGES];
	uint32_t id[FZ_OWN_PAGES];	/* equal ids = the same pool page */
	unsigned long wit[FZ_OWN_PAGES];	/* iteration of the last write */
};

struct fz_omap {
	bool live;
	int obj;
	char *addr;
	unsigned long npages, pgoff;
	int prot;
	bool shared;
	uint8_t priv[FZ_OWN_MAP_PAGES];	/* private copy made */
	uint8_t pval[FZ_OWN_MAP_PAGES];	/* its content */
	unsigned long pit[FZ_OWN_MAP_PAGES];	/* iteration it was made */
};

struct fz_thread {
	char who[48];
	int idx;
	uint64_t rng;
	unsigned long iter, max_iters;
	double end;
	const char *op;
	unsigned long ops[OP_NR];
	unsigned int forks;
	char *arg;		/* argument arena */
	char *buf;		/* PAGE_STATE buffer arena */
	uint8_t *scratch;
	int pipe[2];
	int mem_fd;		/* /proc/self/mem */
	int info_fd;		/* a view of its own, for POOL_INFO */
	uint32_t next_id;
	struct fz_own own[FZ_OWN_OBJS];
	struct fz_omap omap[FZ_OWN_MAPS];
};

static const char *const fz_op_names[OP_NR] = {
	"ioctl", "setsize", "open", "close", "dup", "reopen", "clone",
	"fdops", "mmap", "munmap", "mremap", "mprotect", "madvise", "msync",
	"access", "kpath", "vmsplice", "drain", "debugfs", "sysfs", "fork",
	"clone_vm", "reap", "hog", "race",
	"own_open", "own_close", "own_clone", "own_setsize", "own_mmap",
	"own_munmap", "own_mremap", "own_mprotect", "own_madvise",
	"own_access", "own_kpath", "own_check",
};

/* ---- randomness and time ---- */

static uint64_t fz_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t rnd(struct fz_thread *t)
{
	uint64_t x = t->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static unsigned long rn(struct fz_thread *t, unsigned long n)
{
	return n ? rnd(t) % n : 0;
}

static bool chance(struct fz_thread *t, unsigned int pct)
{
	return rn(t, 100) < pct;
}

/* ---- results ---- */

enum {
	FR_OK, FR_EFAULT, FR_EINVAL, FR_E2BIG, FR_ENOTTY, FR_EFBIG, FR_EMFILE,
	FR_ENOMEM, FR_EACCES, FR_EPERM, FR_EOVERFLOW, FR_EAGAIN, FR_ENXIO, FR_ENOENT,
	FR_EIO, FR_EOPNOTSUPP, FR_EEXIST, FR_ENODEV, FR_ESPIPE, FR_OTHER, FR_NR
};

static const char *const fz_res_names[FR_NR] = {
	"success", "EFAULT", "EINVAL", "E2BIG", "ENOTTY", "EFBIG", "EMFILE",
	"ENOMEM", "EACCES", "EPERM", "EOVERFLOW", "EAGAIN", "ENXIO", "ENOENT",
	"EIO", "EOPNOTSUPP", "EEXIST", "ENODEV", "ESPIPE", "other",
};

static int fz_res(int err)
{
	switch (err) {
	case 0:
		return FR_OK;
	case EFAULT:
		return FR_EFAULT;
	case EINVAL:
		return FR_EINVAL;
	case E2BIG:
		return FR_E2BIG;
	case ENOTTY:
		return FR_ENOTTY;
	case EFBIG:
		return FR_EFBIG;
	case EMFILE:
		return FR_EMFILE;
	case ENOMEM:
		return FR_ENOMEM;
	case EACCES:
		return FR_EACCES;
	case EPERM:
		return FR_EPERM;
	case EOVERFLOW:
		return FR_EOVERFLOW;
	case EAGAIN:
		return FR_EAGAIN;
	case ENXIO:
		return FR_ENXIO;
	case ENOENT:
		return FR_ENOENT;
	case EIO:
		return FR_EIO;
	case EOPNOTSUPP:
		return FR_EOPNOTSUPP;
	case EEXIST:
		return FR_EEXIST;
	case ENODEV:
		return FR_ENODEV;
	case ESPIPE:
		return FR_ESPIPE;
	default:
		return FR_OTHER;
	}
}

static void fz_fail(struct fz_thread *t, const char *fmt, ...)
{
	char m[FZ_MSG_LEN];
	unsigned int i;
	va_list ap;
	int n;

	n = snprintf(m, sizeof(m), "seed=%#" PRIx64 " %s iter=%lu op=%s: ",
		     cfg.seed, t->who, t->iter, t->op ? t->op : "-");
	va_start(ap, fmt);
	vsnprintf(m + n, sizeof(m) - n, fmt, ap);
	va_end(ap);
	i = __atomic_fetch_add(&cfg.rep->nfail, 1, __ATOMIC_SEQ_CST);
	if (i < FZ_MAX_MSGS)
		memcpy(cfg.rep->msg[i], m, sizeof(m));
	if (i < 10)
		fprintf(stderr, "# FAIL %s\n", m);
}

static void fz_set_str(unsigned int set, char *s, size_t len)
{
	size_t n = 0;
	int i;

	s[0] = 0;
	for (i = 0; i < FR_NR && n < len; i++)
		if (set & BIT(i))
			n += snprintf(s + n, len - n, "%s%s", n ? "," : "",
				      fz_res_names[i]);
}

/* Is @err (0 or an errno) in @set?  Report it if not. */
static bool fz_expect(struct fz_thread *t, int err, unsigned int set,
		      const char *fmt, ...)
{
	char what[320], want[160];
	va_list ap;

	if (set & BIT(fz_res(err)))
		return true;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	fz_set_str(set, want, sizeof(want));
	fz_fail(t, "%s: got %s (%d), expected {%s}", what,
		err ? strerror(err) : "success", err, want);
	return false;
}

/* errno of a syscall result: 0 on success. */
static int fz_err(long ret)
{
	return ret < 0 ? errno : 0;
}

/* ---- signals: thread-local recovery from SIGBUS/SIGSEGV ---- */

static __thread sigjmp_buf fz_jmp;
static __thread volatile sig_atomic_t fz_armed;

static void fz_signal(int sig, siginfo_t *si, void *uc)
{
	char m[160];
	int n;

	if (fz_armed) {
		fz_armed = 0;
		siglongjmp(fz_jmp, sig);
	}
	/* Outside an access: a real crash.  Say where, then die of it. */
	n = snprintf(m, sizeof(m),
		     "# FAIL pid %d: unexpected signal %d at %p outside an access\n",
		     getpid(), sig, si->si_addr);
	if (write(2, m, n) < 0)
		n = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void fz_signals(void)
{
	struct sigaction sa = { .sa_sigaction = fz_signal,
				.sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Read one byte at @p; 0, SIGBUS or SIGSEGV. */
static int __noinline fz_read(volatile char *p, char *val)
{
	int sig = sigsetjmp(fz_jmp, 1);

	if (!sig) {
		fz_armed = 1;
		*val = *p;
		fz_armed = 0;
	}
	return sig;
}

/* Write @len bytes of @v from @p. */
static int __noinline fz_fill(char *p, int v, size_t len)
{
	int sig = sigsetjmp(fz_jmp, 1);

	if (!sig) {
		fz_armed = 1;
		if (len == 1)
			*(volatile char *)p = v;
		else
			memset(p, v, len);
		fz_armed = 0;
	}
	return sig;
}

static void fz_count_sig(int sig)
{
	if (sig == SIGBUS)
		__atomic_fetch_add(&cfg.rep->sigbus, 1, __ATOMIC_RELAXED);
	else if (sig == SIGSEGV)
		__atomic_fetch_add(&cfg.rep->sigsegv, 1, __ATOMIC_RELAXED);
}

static const char *fz_sig_name(int sig)
{
	return sig == SIGBUS ? "SIGBUS" : sig == SIGSEGV ? "SIGSEGV" :
	       sig ? "signal" : "no signal";
}

/* ---- argument arenas ---- */

/*
 * Each thread has two arenas of FZ_ARENA_PAGES pages with these kinds, so
 * that a pointer can sit in a writable page, a read-only one (zeros or
 * 0x5a), an inaccessible one, or straddle from one kind into the next.
 */
enum { AK_RW, AK_NONE, AK_RO0, AK_ROX };
static const int fz_kinds[FZ_ARENA_PAGES] = {
	AK_RW, AK_RW, AK_NONE, AK_RO0, AK_RW, AK_ROX, AK_NONE
};

#define FZ_ROX_BYTE 0x5a
#define FZ_GUARD_ARG 0xff
#define FZ_GUARD_BUF 0xa5

static char *fz_arena_new(void)
{
	size_t ps = cfg.ps;
	char *a;
	int i;

	a = mmap(NULL, FZ_ARENA_PAGES * ps, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return NULL;
	for (i = 0; i < FZ_ARENA_PAGES; i++) {
		char *p = a + i * ps;

		if (fz_kinds[i] == AK_ROX)
			memset(p, FZ_ROX_BYTE, ps);
		if (fz_kinds[i] == AK_RO0 || fz_kinds[i] == AK_ROX)
			mprotect(p, ps, PROT_READ);
		else if (fz_kinds[i] == AK_NONE)
			mprotect(p, ps, PROT_NONE);
	}
	return a;
}

static int fz_kind(const char *a, uintptr_t p)
{
	uintptr_t base = (uintptr_t)a;

	if (p < base || p >= base + FZ_ARENA_PAGES * cfg.ps)
		return AK_NONE;
	return fz_kinds[(p - base) / cfg.ps];
}

static void fz_arena_fill(char *a, int v)
{
	int i;

	for (i = 0; i < FZ_ARENA_PAGES; i++)
		if (fz_kinds[i] == AK_RW)
			memset(a + i * cfg.ps, v, cfg.ps);
}

/*
 * A pointer to @n bytes in arena @a: inside one page, straddling into the
 * next page, or spanning several.  Every start page is followed, before the
 * arena's end, by a page that is not writable, so a kernel write running
 * past the arena stops inside it.
 */
static uintptr_t fz_arena_ptr(struct fz_thread *t, char *a, size_t n)
{
	static const int starts[] = { 0, 1, 3, 4, 5 };
	size_t ps = cfg.ps, off;
	int sp = starts[rn(t, 5)];

	if (n <= ps && chance(t, 45)) {
		/* Well inside the writable pages 0 and 1. */
		off = rn(t, 2 * ps - n + 1);
		if (chance(t, 70))
			off &= ~7UL;
		return (uintptr_t)a + off;
	}
	if (n && n < ps && chance(t, 55)) {
		off = rn(t, ps - n + 1);
		if (chance(t, 50))
			off &= ~7UL;
	} else if (n) {
		off = ps - 1 - rn(t, MIN(n, ps));	/* straddles */
	} else {
		off = rn(t, ps);
	}
	return (uintptr_t)a + sp * ps + off;
}

/* Pointers no byte of which is accessible. */
static uintptr_t fz_bad_ptr(struct fz_thread *t, size_t n, char *name,
			    size_t len)
{
	static const struct { uintptr_t p; const char *name; } bad[] = {
		{ 0, "NULL" },
		{ 8, "0x8" },
		{ 0xff8, "0xff8" },
		{ 0x1000, "0x1000" },
		{ 0xffffffff81000000UL, "kernel text" },
		{ 0xffff888000000000UL, "kernel direct map" },
		{ 0xfffffffffffff000UL, "top of address space" },
		{ 0x0000800000000000UL, "non-canonical" },
		{ 0x8000000000000000UL, "non-canonical high" },
	};
	int i = rn(t, ARRAY_SIZE(bad) + 1);

	if (i == ARRAY_SIZE(bad)) {
		/* Straddles the end of the user address space. */
		size_t k = MIN(n, 4096) / 2 + 1;

		snprintf(name, len, "end of user space - %zu", k);
		return 0x7ffffffff000UL - k;
	}
	snprintf(name, len, "%s", bad[i].name);
	return bad[i].p;
}

static void fz_ptr_name(const char *a, uintptr_t p, char *name, size_t len,
			const char *arena)
{
	snprintf(name, len, "%s page %lu + %lu", arena,
		 (unsigned long)((p - (uintptr_t)a) / cfg.ps),
		 (unsigned long)((p - (uintptr_t)a) % cfg.ps));
}

/* ---- helpers on the module ---- */

static long fz_ioctl(int fd, unsigned long cmd, unsigned long arg)
{
	return ioctl(fd, cmd, arg);
}

static int fz_pool_info(int fd, struct cowdev_pool_info *pi)
{
	return cowdev_pool_info(fd, pi);
}

/* The pool's alloc_failures now (for "SIGBUS because the pool is empty"). */
static uint64_t fz_alloc_failures(struct fz_thread *t)
{
	struct cowdev_pool_info pi;

	if (fz_pool_info(t->info_fd, &pi))
		return 0;
	return pi.alloc_failures;
}

static bool fz_state_ok(uint8_t s)
{
	if (s & ~(COWDEV_PAGE_RESIDENT | COWDEV_PAGE_SHARED |
		  COWDEV_PAGE_DIRTY))
		return false;
	return !s || (s & COWDEV_PAGE_RESIDENT);
}

/* Invariants of a POOL_INFO answer. */
static void fz_check_pool(struct fz_thread *t,
			  const struct cowdev_pool_info *pi, size_t have,
			  const char *what)
{
	if (have < sizeof(*pi))
		return;
	if (pi->total_pages != cfg.pool_pages ||
	    pi->total_pages != pi->free_pages + pi->used_pages + 1 ||
	    pi->limbo_pages > pi->used_pages || pi->peak_used < pi->used_pages ||
	    pi->allocs - pi->frees != pi->used_pages || !pi->views)
		fz_fail(t, "%s: inconsistent pool info: total %llu free %llu used %llu peak %llu limbo %llu allocs %llu frees %llu views %llu",
			what, (unsigned long long)pi->total_pages,
			(unsigned long long)pi->free_pages,
			(unsigned long long)pi->used_pages,
			(unsigned long long)pi->peak_used,
			(unsigned long long)pi->limbo_pages,
			(unsigned long long)pi->allocs,
			(unsigned long long)pi->frees,
			(unsigned long long)pi->views);
}

/* ---- locking of the shared tables ---- */

static void fz_init_locks(void)
{
	pthread_rwlockattr_t wa;
	int i;

	pthread_rwlockattr_init(&wa);
	pthread_rwlockattr_setkind_np(&wa,
		PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&P.fork_lock, &wa);
	pthread_rwlockattr_destroy(&wa);
	for (i = 0; i < FZ_OBJS; i++)
		pthread_rwlock_init(&P.obj[i].lock, NULL);
	for (i = 0; i < FZ_MAPS; i++)
		pthread_rwlock_init(&P.map[i].lock, NULL);
	for (i = 0; i < FZ_DBG; i++)
		pthread_mutex_init(&P.dbg_lock[i], NULL);
	pthread_mutex_init(&P.child_lock, NULL);
}

/* A random live object, read-locked; -1 if the slot drawn is empty. */
static int fz_obj_rdlock(struct fz_thread *t)
{
	int i = rn(t, FZ_OBJS);

	pthread_rwlock_rdlock(&P.obj[i].lock);
	if (P.obj[i].fd < 0) {
		pthread_rwlock_unlock(&P.obj[i].lock);
		return -1;
	}
	return i;
}

static int fz_map_lock(struct fz_thread *t, bool write, bool try)
{
	int i = rn(t, FZ_MAPS), r;

	if (write)
		r = try ? pthread_rwlock_trywrlock(&P.map[i].lock) :
			  pthread_rwlock_wrlock(&P.map[i].lock);
	else
		r = try ? pthread_rwlock_tryrdlock(&P.map[i].lock) :
			  pthread_rwlock_rdlock(&P.map[i].lock);
	return r ? -1 : i;
}

/* Put @fd (a cowdev fd) into a free-for-writing slot, or close it. */
static void fz_obj_store(struct fz_thread *t, int fd, bool rd, bool wr,
			 bool clone, int not)
{
	int i = rn(t, FZ_OBJS);

	if (i != not && !pthread_rwlock_trywrlock(&P.obj[i].lock)) {
		if (P.obj[i].fd >= 0)
			fz_expect(t, fz_err(close(P.obj[i].fd)), BIT(FR_OK),
				  "close of a replaced fd");
		P.obj[i].fd = fd;
		P.obj[i].rd = rd;
		P.obj[i].wr = wr;
		P.obj[i].clone = clone;
		pthread_rwlock_unlock(&P.obj[i].lock);
		return;
	}
	fz_expect(t, fz_err(close(fd)), BIT(FR_OK), "close of a new fd");
}

/* ---- the owned-object model ---- */

static bool fz_own_shared(struct fz_thread *t, int o, unsigned long p)
{
	struct fz_own *a = &t->own[o];
	int q;

	if (a->res[p] != 1)
		return false;
	for (q = 0; q < FZ_OWN_OBJS; q++) {
		struct fz_own *b = &t->own[q];

		if (q != o && b->live && p < b->size && b->res[p] == 1 &&
		    b->id[p] == a->id[p])
			return true;
	}
	return false;
}

static void fz_own_write(struct fz_thread *t, struct fz_own *o,
			 unsigned long p, uint8_t v)
{
	o->data[p] = v;
	o->wit[p] = t->iter;
	o->res[p] = 1;
	o->dirty[p] = 1;
	o->id[p] = ++t->next_id;	/* never shared after a write */
}

static void fz_own_free_if_unused(struct fz_thread *t, int o)
{
	if (t->own[o].fd < 0 && !t->own[o].nmaps)
		t->own[o].live = false;
}

static void fz_own_resize(struct fz_thread *t, int o, unsigned long size)
{
	struct fz_own *a = &t->own[o];
	unsigned long p;
	int m;

	for (p = size; p < a->size && p < FZ_OWN_PAGES; p++) {
		a->data[p] = 0;
		a->wit[p] = t->iter;
		a->res[p] = 0;
		a->dirty[p] = 0;
	}
	/* Private copies beyond the end go too (truncate semantics). */
	if (size < a->size)
		for (m = 0; m < FZ_OWN_MAPS; m++) {
			struct fz_omap *om = &t->omap[m];
			unsigned long i;

			if (!om->live || om->obj != o)
				continue;
			for (i = 0; i < om->npages; i++)
				if (om->pgoff + i >= size)
					om->priv[i] = 0;
		}
	a->size = size;
}

static void fz_own_unmap(struct fz_thread *t, int m)
{
	struct fz_omap *om = &t->omap[m];

	fz_expect(t, fz_err(munmap(om->addr, om->npages * cfg.ps)), BIT(FR_OK),
		  "munmap of an owned mapping");
	om->live = false;
	t->own[om->obj].nmaps--;
	fz_own_free_if_unused(t, om->obj);
}

/* Stop modelling object @o: close it and unmap its mappings. */
static void fz_own_drop(struct fz_thread *t, int o)
{
	int m;

	for (m = 0; m < FZ_OWN_MAPS; m++)
		if (t->omap[m].live && t->omap[m].obj == o)
			fz_own_unmap(t, m);
	if (t->own[o].fd >= 0)
		close(t->own[o].fd);
	t->own[o].fd = -1;
	t->own[o].live = false;
}

/* The model's view of a clone of @o into slot @c (or none: @c < 0). */
static void fz_own_cloned(struct fz_thread *t, int o, int c, int fd)
{
	struct fz_own *a = &t->own[o];
	unsigned long p;

	for (p = 0; p < a->size; p++)
		if (a->res[p] == 1)
			a->dirty[p] = 0;
	if (c < 0)
		return;
	t->own[c] = *a;
	t->own[c].fd = fd;
	t->own[c].nmaps = 0;
}

static int fz_own_free_slot(struct fz_thread *t)
{
	int o;

	for (o = 0; o < FZ_OWN_OBJS; o++)
		if (!t->own[o].live)
			return o;
	return -1;
}

/* A random owned object with an open fd, or -1. */
static int fz_own_pick(struct fz_thread *t)
{
	int o = rn(t, FZ_OWN_OBJS), i;

	for (i = 0; i < FZ_OWN_OBJS; i++, o = (o + 1) % FZ_OWN_OBJS)
		if (t->own[o].live && t->own[o].fd >= 0)
			return o;
	return -1;
}

static int fz_omap_pick(struct fz_thread *t)
{
	int m = rn(t, FZ_OWN_MAPS), i;

	for (i = 0; i < FZ_OWN_MAPS; i++, m = (m + 1) % FZ_OWN_MAPS)
		if (t->omap[m].live)
			return m;
	return -1;
}

/* Expected value of page @i of owned mapping @m (inside the size). */
static uint8_t fz_omap_value(struct fz_thread *t, struct fz_omap *om,
			     unsigned long i)
{
	if (!om->shared && om->priv[i])
		return om->pval[i];
	return t->own[om->obj].data[om->pgoff + i];
}

/* ---- op: ioctl ---- */

struct fz_desc {
	unsigned int nr, dir;
	size_t ksize, ver0;
};

/* Every command of uapi/linux/cowdev.h, from its macro, with its VER0. */
#define FZ_DESC(cmd, ver0) { _IOC_NR(cmd), _IOC_DIR(cmd), _IOC_SIZE(cmd), ver0 }

static const struct fz_desc fz_descs[] = {
	FZ_DESC(COWDEV_IOC_SET_SIZE, sizeof(__u64)),
	FZ_DESC(COWDEV_IOC_GET_SIZE, sizeof(__u64)),
	FZ_DESC(COWDEV_IOC_GET_STATS, COWDEV_STATS_SIZE_VER0),
	FZ_DESC(COWDEV_IOC_RESET_STATS, 0),
	FZ_DESC(COWDEV_IOC_POOL_INFO, COWDEV_POOL_INFO_SIZE_VER0),
	FZ_DESC(COWDEV_IOC_CLONE, 0),
	FZ_DESC(COWDEV_IOC_PAGE_STATE, COWDEV_PAGE_STATE_SIZE_VER0),
};
#define FZ_NDESC ARRAY_SIZE(fz_descs)

static const struct fz_desc *fz_desc_of(unsigned int cmd)
{
	size_t i;

	if (_IOC_TYPE(cmd) != COWDEV_IOC_MAGIC)
		return NULL;
	for (i = 0; i < FZ_NDESC; i++)
		if (fz_descs[i].nr == _IOC_NR(cmd) &&
		    fz_descs[i].dir == _IOC_DIR(cmd))
			return &fz_descs[i];
	return NULL;
}

static size_t fz_gen_size(struct fz_thread *t, const struct fz_desc *d)
{
	size_t k = d ? d->ksize : 8, v0 = d ? d->ver0 : 8;

	switch (rn(t, 12)) {
	case 0:
		return 0;
	case 1:
		return 1 + rn(t, 7);
	case 2:
		return v0 ? v0 - 1 : 0;
	case 3:
		return v0;
	case 4:
		return k + 1 + rn(t, 64);
	case 5:
		return k + 8 * (1 + rn(t, 8));
	case 6:
		return 4096;
	case 7:
		return 4097;
	case 8:
		return 4097 + rn(t, _IOC_SIZEMASK - 4096);
	case 9:
		return _IOC_SIZEMASK;
	case 10:
		return rn(t, 4097);
	default:
		return k;
	}
}

/*
 * Magics the VFS answers some commands of itself (FIONBIO, FICLONE,
 * FS_IOC_*, ...): random commands avoid them.
 */
static bool fz_vfs_magic(unsigned int m)
{
	return m == 'T' || m == 'X' || m == 'f' || m == 0x94 || m == 0x15 ||
	       m == COWDEV_IOC_MAGIC;
}

static unsigned int fz_gen_cmd(struct fz_thread *t)
{
	static const unsigned int nrs[] = { 0, 8, 9, 0x0f, 0x10, 0x7f, 0x80,
					    0xfe, 0xff };
	unsigned int r = rn(t, 100), dir, nr, magic;
	const struct fz_desc *d = &fz_descs[rn(t, FZ_NDESC)];
	size_t size;

	if (r < 65) {
		size = d->ksize;
		if (chance(t, 30))
			size = d->dir == _IOC_NONE ? 1 + rn(t, 64) :
						     fz_gen_size(t, d);
		return _IOC(d->dir, COWDEV_IOC_MAGIC, d->nr, size);
	}
	if (r < 75) {
		dir = rn(t, 4);
		size = chance(t, 50) ? d->ksize : fz_gen_size(t, d);
		return _IOC(dir, COWDEV_IOC_MAGIC, d->nr, size);
	}
	if (r < 87) {
		nr = chance(t, 60) ? nrs[rn(t, 9)] : rn(t, 256);
		if (nr >= 1 && nr <= FZ_NDESC)
			nr = 0;
		return _IOC(rn(t, 4), COWDEV_IOC_MAGIC, nr, fz_gen_size(t, NULL));
	}
	if (r < 90)
		return chance(t, 50) ? TCGETS : TIOCGWINSZ;
	do
		magic = chance(t, 30) ? COWDEV_IOC_MAGIC + (chance(t, 50) ? 1 : -1)
				      : rn(t, 256);
	while (fz_vfs_magic(magic));
	return _IOC(rn(t, 4), magic, rn(t, 256), fz_gen_size(t, NULL));
}

/* A SET_SIZE value; @own: one that keeps an owned object modelable. */
static uint64_t fz_gen_bytes(struct fz_thread *t, bool own)
{
	uint64_t max = (uint64_t)cfg.max_pages * cfg.ps, ps = cfg.ps;

	if (own)
		switch (rn(t, 8)) {
		case 0:
			return 0;
		case 1:
			return 1;
		case 2:
			return ps - 1;
		case 3:
			return ~0ULL;
		case 4:
			return (1ULL << 63) | rnd(t);
		default:
			return rn(t, FZ_OWN_PAGES * ps + 1);
		}
	switch (rn(t, 14)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return ps - 1;
	case 3:
		return ps;
	case 4:
		return ps + 1;
	case 5:
		return max;
	case 6:
		return max - 1;
	case 7:
		return max + 1;
	case 8:
		return max + ps;
	case 9:
		return ~0ULL;
	case 10:
		return rnd(t);
	case 11:
		return rn(t, 1024) * ps;
	default:
		return rn(t, 64 * ps + 1);
	}
}

/*
 * The arguments of one fuzzed ioctl and what the module may answer.
 * @arena is where an in-arena argument lives; @eff/@rd are the bytes an
 * input struct reads (what the kernel sees) and whether each is readable.
 */
struct fz_call {
	int fd;
	int own;		/* owned object, or -1 */
	unsigned int cmd;
	const struct fz_desc *d;
	size_t usize;
	uintptr_t arg;
	enum { P_ARENA, P_BAD, P_MAP } pcls;
	char pname[64];
	uint8_t eff[4096], rd[4096];
	/* PAGE_STATE's buffer */
	uintptr_t buf;
	int bcls;
	char bname[64];
	struct cowdev_page_state ps;
	unsigned int set;	/* acceptable results */
};

/* Expected results of PAGE_STATE @ps on a view of @size pages (-1: unknown). */
static unsigned int fz_page_state_set(struct fz_thread *t, struct fz_call *c,
				      const struct cowdev_page_state *ps,
				      long size)
{
	unsigned int set = 0, io;
	uint64_t end;
	size_t i;

	if (ps->flags)
		return BIT(FR_EINVAL);
	if (__builtin_add_overflow(ps->start, ps->count, &end) ||
	    end > cfg.max_pages)
		return BIT(FR_EINVAL);
	if (size < 0)
		set |= BIT(FR_EINVAL);
	else if (end > (uint64_t)size)
		return BIT(FR_EINVAL);
	if (!ps->count)
		return set | BIT(FR_OK);
	if (c->bcls == P_BAD)
		io = BIT(FR_EFAULT);
	else if (c->bcls == P_MAP)
		io = BIT(FR_OK) | BIT(FR_EFAULT);
	else {
		io = BIT(FR_OK);
		for (i = 0; i < ps->count; i++)
			if (fz_kind(t->buf, ps->buf + i) != AK_RW) {
				io = BIT(FR_EFAULT);
				break;
			}
	}
	return set | io;
}

static void fz_gen_page_state(struct fz_thread *t, struct fz_call *c,
			      struct cowdev_page_state *ps, long size,
			      int map)
{
	uint64_t s = size < 0 ? 0 : size;

	memset(ps, 0, sizeof(*ps));
	switch (rn(t, 12)) {
	case 0:
		ps->count = s;
		break;
	case 1:
		break;
	case 2:
		ps->start = s;
		break;
	case 3:
		ps->start = s + 1;
		break;
	case 4:
		ps->count = s + 1;
		break;
	case 5:
		ps->start = ~0ULL;
		ps->count = 2;
		break;
	case 6:
		ps->start = 1;
		ps->count = ~0ULL;
		break;
	case 7:
		ps->start = s ? s - 1 : 0;
		ps->count = 1;
		break;
	case 8:
		ps->start = rnd(t);
		ps->count = rnd(t);
		break;
	case 9:
		ps->count = cfg.max_pages + 1;
		break;
	default:
		ps->start = rn(t, s + 1);
		ps->count = rn(t, s - ps->start + 1);
		break;
	}
	if (chance(t, 8))
		ps->flags = chance(t, 50) ? 1ULL << rn(t, 64) : rnd(t);
	c->bcls = P_ARENA;
	if (chance(t, 8))
		c->bcls = P_BAD;
	else if (map >= 0 && chance(t, 30))
		c->bcls = P_MAP;
	if (c->bcls == P_BAD) {
		c->buf = fz_bad_ptr(t, ps->count, c->bname, sizeof(c->bname));
	} else if (c->bcls == P_MAP) {
		struct fz_map *fm = &P.map[map];
		size_t pages = MIN(fm->len / cfg.ps, FZ_TOUCH_PAGES);

		c->buf = (uintptr_t)fm->addr + rn(t, pages) * cfg.ps +
			 rn(t, cfg.ps);
		snprintf(c->bname, sizeof(c->bname), "cowdev mapping");
		/* Never let the module write past the mapping's end. */
		if (ps->count > (uintptr_t)fm->addr + fm->len - c->buf)
			c->bcls = P_ARENA;
	}
	if (c->bcls == P_ARENA) {
		c->buf = fz_arena_ptr(t, t->buf, MIN(ps->count, 2 * cfg.ps));
		fz_ptr_name(t->buf, c->buf, c->bname, sizeof(c->bname), "buf");
	}
	ps->buf = c->buf;
}

/* Check PAGE_STATE's buffer arena after the call: nothing outside written. */
static void fz_check_buf(struct fz_thread *t, struct fz_call *c, int err)
{
	size_t ps = cfg.ps, i;
	uintptr_t base = (uintptr_t)t->buf;

	if (c->bcls != P_ARENA)
		return;
	for (i = 0; i < FZ_ARENA_PAGES * ps; i++) {
		uintptr_t p = base + i;
		uint8_t v;

		if (fz_kinds[i / ps] != AK_RW)
			continue;
		v = *(uint8_t *)p;
		if (p >= c->buf && p - c->buf < c->ps.count) {
			/* Inside: states, or untouched after EFAULT. */
			if (fz_state_ok(v) || (err && v == FZ_GUARD_BUF))
				continue;
			fz_fail(t, "PAGE_STATE start %llu count %llu buf %s: byte %zu is %#x, not a page state",
				(unsigned long long)c->ps.start,
				(unsigned long long)c->ps.count, c->bname,
				(size_t)(p - c->buf), v);
			return;
		}
		if (v != FZ_GUARD_BUF) {
			fz_fail(t, "PAGE_STATE start %llu count %llu buf %s (%s): wrote outside the buffer at offset %ld",
				(unsigned long long)c->ps.start,
				(unsigned long long)c->ps.count, c->bname,
				err ? strerror(err) : "success",
				(long)(p - c->buf));
			return;
		}
	}
}

/* Compare a successful PAGE_STATE of an owned object with the model. */
static void fz_check_states(struct fz_thread *t, int o, uint64_t start,
			    uint64_t count, const uint8_t *map)
{
	struct fz_own *a = &t->own[o];
	uint64_t i;

	for (i = 0; i < count; i++) {
		unsigned long p = start + i;
		uint8_t s = map[i], want;

		if (!fz_state_ok(s)) {
			fz_fail(t, "owned view: page %lu state %#x is not a valid state",
				p, s);
			return;
		}
		if (a->res[p] == 2)
			continue;
		want = a->res[p] ? COWDEV_PAGE_RESIDENT : 0;
		if (a->res[p] && a->dirty[p])
			want |= COWDEV_PAGE_DIRTY;
		if ((s & ~COWDEV_PAGE_SHARED) != want ||
		    (fz_own_shared(t, o, p) && !(s & COWDEV_PAGE_SHARED))) {
			fz_fail(t, "owned view: page %lu state %#x, model: resident %d dirty %d shared %d",
				p, s, a->res[p], a->dirty[p],
				fz_own_shared(t, o, p));
			return;
		}
	}
}

static void fz_check_stats(struct fz_thread *t, int o,
			   const struct cowdev_stats *st, size_t have)
{
	struct fz_own *a = o >= 0 ? &t->own[o] : NULL;
	unsigned long p, res = 0, shared = 0;
	bool known = true;

#define HAVE(f) (offsetof(struct cowdev_stats, f) + 8 <= have)
	if (HAVE(size_pages) && st->size_pages > cfg.max_pages)
		fz_fail(t, "GET_STATS: size_pages %llu above max_object_pages",
			(unsigned long long)st->size_pages);
	if (HAVE(view_id) && !st->view_id)
		fz_fail(t, "GET_STATS: view_id 0");
	if (HAVE(limit_failures) && cfg.root && st->limit_failures)
		fz_fail(t, "GET_STATS: limit_failures %llu for root, who is exempt",
			(unsigned long long)st->limit_failures);
	if (!a)
		return;
	for (p = 0; p < a->size; p++) {
		if (a->res[p] == 2)
			known = false;
		res += a->res[p] == 1;
		shared += fz_own_shared(t, o, p);
	}
	if (HAVE(size_pages) && st->size_pages != a->size)
		fz_fail(t, "owned view: size_pages %llu, model %lu",
			(unsigned long long)st->size_pages, a->size);
	if (HAVE(resident_pages) && known && st->resident_pages != res)
		fz_fail(t, "owned view: resident_pages %llu, model %lu",
			(unsigned long long)st->resident_pages, res);
	if (HAVE(shared_pages) && HAVE(resident_pages) &&
	    (st->shared_pages < shared ||
	     st->shared_pages > st->resident_pages))
		fz_fail(t, "owned view: shared_pages %llu, resident %llu, model shares at least %lu",
			(unsigned long long)st->shared_pages,
			(unsigned long long)st->resident_pages, shared);
#undef HAVE
}

/* Check an output struct written at @c->arg; @err is the call's result. */
static void fz_check_output(struct fz_thread *t, struct fz_call *c, int err)
{
	const uint8_t *p = (const uint8_t *)c->arg;
	size_t ksize = c->d->ksize, n = MIN(c->usize, ksize), i;
	uintptr_t base = (uintptr_t)t->arg;
	union {
		__u64 size;
		struct cowdev_stats st;
		struct cowdev_pool_info pi;
	} out;

	if (c->pcls != P_ARENA)
		return;
	/* Nothing outside [arg, arg + usize) written, success or not. */
	for (i = 0; i < FZ_ARENA_PAGES * cfg.ps; i++) {
		uintptr_t q = base + i;

		if (fz_kinds[i / cfg.ps] != AK_RW ||
		    (q >= c->arg && q - c->arg < c->usize))
			continue;
		if (*(uint8_t *)q != FZ_GUARD_ARG) {
			fz_fail(t, "ioctl %#x size %zu arg %s: byte at offset %ld outside the argument written",
				c->cmd, c->usize, c->pname,
				(long)(q - c->arg));
			return;
		}
	}
	if (err)
		return;
	for (i = ksize; i < c->usize; i++)
		if (p[i]) {
			fz_fail(t, "ioctl %#x size %zu: byte %zu past the module's %zu-byte struct is %#x, not 0",
				c->cmd, c->usize, i, ksize, p[i]);
			return;
		}
	memset(&out, 0, sizeof(out));
	memcpy(&out, p, n);
	switch (c->d->nr) {
	case 0x02:
		if (n < 8)
			break;
		if (out.size % cfg.ps ||
		    out.size > (uint64_t)cfg.max_pages * cfg.ps ||
		    (c->own >= 0 && out.size != t->own[c->own].size * cfg.ps))
			fz_fail(t, "GET_SIZE: %llu (owned model %ld pages)",
				(unsigned long long)out.size,
				c->own >= 0 ? (long)t->own[c->own].size : -1L);
		break;
	case 0x03:
		fz_check_stats(t, c->own, &out.st, n);
		break;
	case 0x05:
		fz_check_pool(t, &out.pi, n, "POOL_INFO");
		break;
	}
}

/* What the handler of @c->d answers for the input struct in @c->eff. */
static unsigned int fz_input_set(struct fz_thread *t, struct fz_call *c)
{
	long size = c->own >= 0 ? (long)t->own[c->own].size : -1;

	if (c->d->nr == 0x01) {
		uint64_t v;

		memcpy(&v, c->eff, 8);
		return v > (uint64_t)cfg.max_pages * cfg.ps ? BIT(FR_EFBIG) :
							      BIT(FR_OK);
	}
	memset(&c->ps, 0, sizeof(c->ps));
	memcpy(&c->ps, c->eff, MIN(c->usize, sizeof(c->ps)));
	if (c->ps.buf != c->buf && !c->ps.flags) {
		/*
		 * Zeros of a read-only page replaced part of buf: the module
		 * would write wherever that points.  Only go on when that is
		 * surely nowhere.
		 */
		uint64_t end;

		if (c->ps.buf < 0x800000000000ULL &&
		    (__builtin_add_overflow(c->ps.buf, c->ps.count, &end) ||
		     end > 0x10000))
			return 0;
		c->bcls = P_BAD;
	}
	return fz_page_state_set(t, c, &c->ps, size);
}

static void op_ioctl(struct fz_thread *t)
{
	static __thread struct fz_call call;
	struct fz_call *c = &call;
	uint8_t want[4096];
	int slot = -1, map = -1, err, newfd = -1;
	long size = -1, ret;
	size_t i;

	c->own = -1;
	if (chance(t, 30))
		c->own = fz_own_pick(t);
	if (c->own >= 0) {
		c->fd = t->own[c->own].fd;
		size = t->own[c->own].size;
	} else {
		if (chance(t, 15)) {
			c->fd = P.race_fd;	/* swapped under our feet */
		} else {
			slot = fz_obj_rdlock(t);
			if (slot < 0)
				return;
			c->fd = P.obj[slot].fd;
		}
		map = fz_map_lock(t, false, true);
		if (map >= 0 && !P.map[map].addr) {
			pthread_rwlock_unlock(&P.map[map].lock);
			map = -1;
		}
		if (chance(t, 50)) {
			uint64_t b;

			if (!cowdev_get_size(c->fd, &b))
				size = b / cfg.ps;
		}
	}
	c->cmd = fz_gen_cmd(t);
	c->d = fz_desc_of(c->cmd);
	c->usize = _IOC_SIZE(c->cmd);
	c->pcls = P_ARENA;
	c->bcls = P_ARENA;
	c->buf = 0;
	c->arg = 0;
	snprintf(c->pname, sizeof(c->pname), "-");
	fz_arena_fill(t->arg, FZ_GUARD_ARG);
	fz_arena_fill(t->buf, FZ_GUARD_BUF);

	/* The command alone. */
	if (!c->d || (c->d->dir == _IOC_NONE && c->usize)) {
		c->set = BIT(FR_ENOTTY);
		c->d = NULL;
	} else if (c->d->dir == _IOC_NONE) {
		c->set = c->d->nr == 0x06 ? BIT(FR_OK) : BIT(FR_OK);
	} else if (c->usize < c->d->ver0) {
		c->set = BIT(FR_EINVAL);
	} else if (c->usize > 4096) {
		c->set = BIT(FR_E2BIG);
	} else {
		c->set = 0;
	}

	/* The argument. */
	i = rn(t, 100);
	if (c->set || !c->d || c->d->dir == _IOC_NONE) {
		c->arg = i < 50 ? fz_arena_ptr(t, t->arg, 8) :
			 fz_bad_ptr(t, 8, c->pname, sizeof(c->pname));
	} else if (i < 10) {
		c->pcls = P_BAD;
		c->arg = fz_bad_ptr(t, c->usize, c->pname, sizeof(c->pname));
		c->set = BIT(FR_EFAULT);
	} else if (i < 20 && map >= 0 && c->d->nr != 0x07) {
		/* (Never a PAGE_STATE struct: its buf would be anything.) */
		struct fz_map *fm = &P.map[map];
		size_t pages = MIN(fm->len / cfg.ps, FZ_TOUCH_PAGES);

		c->pcls = P_MAP;
		c->arg = (uintptr_t)fm->addr + rn(t, pages) * cfg.ps +
			 (chance(t, 50) ? cfg.ps - rn(t, c->usize) - 1 :
					  rn(t, cfg.ps - c->usize + 1));
		if (c->arg + c->usize > (uintptr_t)fm->addr + fm->len)
			c->arg = (uintptr_t)fm->addr;
		snprintf(c->pname, sizeof(c->pname), "cowdev mapping (%s)",
			 fm->shared ? "shared" : "private");
		c->set = c->d->dir & _IOC_WRITE ?
			 BIT(FR_OK) | BIT(FR_EFAULT) | BIT(FR_E2BIG) |
			 BIT(FR_EINVAL) | BIT(FR_EFBIG) :
			 BIT(FR_OK) | BIT(FR_EFAULT);
		if (c->d->nr == 0x07)
			c->bcls = P_BAD;	/* buf unknown: never in arena */
	} else {
		c->arg = fz_arena_ptr(t, t->arg, c->usize);
		fz_ptr_name(t->arg, c->arg, c->pname, sizeof(c->pname), "arg");
		if (c->d->dir & _IOC_WRITE) {
			bool all = true, tail_nz = false;

			/* Build the struct, then see what the kernel reads. */
			memset(want, 0, c->usize);
			if (c->d->nr == 0x01) {
				uint64_t v = fz_gen_bytes(t, c->own >= 0);

				memcpy(want, &v, 8);
			} else {
				struct cowdev_page_state ps;

				fz_gen_page_state(t, c, &ps, size, map);
				memcpy(want, &ps, sizeof(ps));
			}
			if (c->usize > c->d->ksize && chance(t, 30))
				want[c->d->ksize + rn(t, c->usize - c->d->ksize)] =
					1 + rn(t, 255);
			for (i = 0; i < c->usize; i++) {
				uintptr_t q = c->arg + i;

				switch (fz_kind(t->arg, q)) {
				case AK_RW:
					*(uint8_t *)q = want[i];
					c->eff[i] = want[i];
					c->rd[i] = 1;
					break;
				case AK_RO0:
					c->eff[i] = 0;
					c->rd[i] = 1;
					break;
				case AK_ROX:
					c->eff[i] = FZ_ROX_BYTE;
					c->rd[i] = 1;
					break;
				default:
					c->eff[i] = 0;
					c->rd[i] = 0;
					all = false;
				}
				if (i >= c->d->ksize && c->rd[i] && c->eff[i])
					tail_nz = true;
			}
			if (!all)
				c->set = BIT(FR_EFAULT) |
					 (tail_nz ? BIT(FR_E2BIG) : 0);
			else if (tail_nz)
				c->set = BIT(FR_E2BIG);
			else
				c->set = fz_input_set(t, c);
			if (c->d->nr == 0x07 && c->bcls == P_ARENA)
				fz_arena_fill(t->buf, FZ_GUARD_BUF);
		} else {
			c->set = BIT(FR_OK);
			for (i = 0; i < c->usize; i++)
				if (fz_kind(t->arg, c->arg + i) != AK_RW) {
					c->set = BIT(FR_EFAULT);
					break;
				}
		}
	}
	if (c->own >= 0 && c->d && c->d->nr == 0x01 &&
	    (c->set & BIT(FR_OK)) && c->pcls == P_ARENA) {
		uint64_t v;

		memcpy(&v, c->eff, 8);
		if ((v + cfg.ps - 1) / cfg.ps > FZ_OWN_PAGES) {
			/* Would leave the model's range: not for owned. */
			c->set = 0;
		}
	}
	if (!c->set)
		goto done;

	if (cfg.verbose)
		fprintf(stderr, "# %s %lu ioctl fd %d cmd %#x arg %s\n", t->who,
			t->iter, c->fd, c->cmd, c->pname);
	ret = fz_ioctl(c->fd, c->cmd, c->arg);
	err = fz_err(ret);
	__atomic_fetch_add(&cfg.rep->ioctl_res[fz_res(err)], 1,
			   __ATOMIC_RELAXED);
	if (!fz_expect(t, err, c->set,
		       "ioctl(%s, cmd %#x = dir %u nr %#x size %u magic %#x, arg %s%s%s)",
		       c->own >= 0 ? "owned view" : "shared view", c->cmd,
		       _IOC_DIR(c->cmd), _IOC_NR(c->cmd), _IOC_SIZE(c->cmd),
		       _IOC_TYPE(c->cmd), c->pname,
		       c->d && c->d->nr == 0x07 ? ", buf " : "",
		       c->d && c->d->nr == 0x07 ? c->bname : ""))
		goto done;
	if (!c->d)
		goto done;
	if (c->d->nr == 0x06 && !err) {
		newfd = ret;
		if (!(fcntl(newfd, F_GETFD) & FD_CLOEXEC))
			fz_fail(t, "CLONE: fd %d without FD_CLOEXEC", newfd);
		if (c->own >= 0) {
			int n = fz_own_free_slot(t);

			fz_own_cloned(t, c->own, n, newfd);
			if (n < 0)
				close(newfd);
		} else {
			fz_obj_store(t, newfd, true, true, true, slot);
		}
	}
	if ((c->d->dir & _IOC_READ) && c->pcls == P_ARENA)
		fz_check_output(t, c, err);
	if (c->d->nr == 0x07 && c->pcls == P_ARENA) {
		fz_check_buf(t, c, err);
		if (!err && c->own >= 0 && c->ps.count)
			fz_check_states(t, c->own, c->ps.start, c->ps.count,
					(const uint8_t *)c->buf);
	}
	if (c->d->nr == 0x01 && !err && c->own >= 0 && c->pcls == P_ARENA) {
		uint64_t v;

		memcpy(&v, c->eff, 8);
		fz_own_resize(t, c->own, (v + cfg.ps - 1) / cfg.ps);
	}
done:
	fz_arena_fill(t->arg, FZ_GUARD_ARG);
	if (map >= 0)
		pthread_rwlock_unlock(&P.map[map].lock);
	if (slot >= 0)
		pthread_rwlock_unlock(&P.obj[slot].lock);
}

/* ---- ops on the shared objects ---- */

static void op_setsize(struct fz_thread *t)
{
	int s = fz_obj_rdlock(t);
	uint64_t v = fz_gen_bytes(t, false);

	if (s < 0)
		return;
	if (chance(t, 60))
		v = rn(t, 256) * cfg.ps;	/* favour sizes that get used */
	fz_expect(t, -cowdev_set_size(P.obj[s].fd, v),
		  v > (uint64_t)cfg.max_pages * cfg.ps ? BIT(FR_EFBIG) : BIT(FR_OK),
		  "SET_SIZE %#llx", (unsigned long long)v);
	pthread_rwlock_unlock(&P.obj[s].lock);
}

static int fz_open_dev(struct fz_thread *t, bool *rd, bool *wr)
{
	static const int modes[] = { O_RDWR, O_RDWR, O_RDWR, O_RDONLY,
				     O_WRONLY };
	int m = modes[rn(t, 5)], fd;

	fd = open(COWDEV_PATH, m | O_CLOEXEC);
	/* A view is opened O_RDWR or not at all. */
	fz_expect(t, fz_err(fd), m == O_RDWR ? BIT(FR_OK) : BIT(FR_EACCES),
		  "open(%s, %#x)", COWDEV_PATH, m);
	*rd = m != O_WRONLY;
	*wr = m != O_RDONLY;
	return fd;
}

static void op_open(struct fz_thread *t)
{
	int i = rn(t, FZ_OBJS), fd;
	bool rd, wr;

	pthread_rwlock_wrlock(&P.obj[i].lock);
	if (P.obj[i].fd >= 0)
		fz_expect(t, fz_err(close(P.obj[i].fd)), BIT(FR_OK), "close");
	P.obj[i].fd = -1;
	fd = fz_open_dev(t, &rd, &wr);
	if (fd >= 0) {
		P.obj[i].fd = fd;
		P.obj[i].rd = rd;
		P.obj[i].wr = wr;
		P.obj[i].clone = false;
		if (chance(t, 80))
			fz_expect(t, -cowdev_set_size(fd, rn(t, 128) * cfg.ps),
				  BIT(FR_OK), "SET_SIZE of a new view");
	}
	pthread_rwlock_unlock(&P.obj[i].lock);
}

static void op_close(struct fz_thread *t)
{
	int i = rn(t, FZ_OBJS);

	pthread_rwlock_wrlock(&P.obj[i].lock);
	if (P.obj[i].fd >= 0)
		fz_expect(t, fz_err(close(P.obj[i].fd)), BIT(FR_OK), "close");
	P.obj[i].fd = -1;
	pthread_rwlock_unlock(&P.obj[i].lock);
}

static void op_dup(struct fz_thread *t)
{
	int s = fz_obj_rdlock(t), d, fd;

	if (s < 0)
		return;
	d = rn(t, FZ_OBJS);
	if (d == s || pthread_rwlock_trywrlock(&P.obj[d].lock)) {
		pthread_rwlock_unlock(&P.obj[s].lock);
		return;
	}
	if (P.obj[d].fd >= 0 && chance(t, 50)) {
		/* dup3 replaces the file behind dst's fd number. */
		fd = dup3(P.obj[s].fd, P.obj[d].fd, O_CLOEXEC);
		fz_expect(t, fz_err(fd), BIT(FR_OK), "dup3");
	} else {
		if (P.obj[d].fd >= 0)
			fz_expect(t, fz_err(close(P.obj[d].fd)), BIT(FR_OK),
				  "close");
		fd = chance(t, 50) ? dup(P.obj[s].fd) :
				     fcntl(P.obj[s].fd, F_DUPFD_CLOEXEC, 3);
		fz_expect(t, fz_err(fd), BIT(FR_OK), "dup");
	}
	P.obj[d].fd = fd;
	P.obj[d].rd = P.obj[s].rd;
	P.obj[d].wr = P.obj[s].wr;
	P.obj[d].clone = P.obj[s].clone;
	pthread_rwlock_unlock(&P.obj[d].lock);
	pthread_rwlock_unlock(&P.obj[s].lock);
}

/* open("/proc/self/fd/N"): a new view for the device, ENXIO for a clone. */
static void op_reopen(struct fz_thread *t)
{
	int s = fz_obj_rdlock(t), fd, mode = chance(t, 80) ? O_RDWR : O_RDONLY;
	char path[64];
	bool clone;

	if (s < 0)
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", P.obj[s].fd);
	clone = P.obj[s].clone;
	fd = open(path, mode | O_CLOEXEC);
	fz_expect(t, fz_err(fd),
		  clone ? BIT(FR_ENXIO) :
		  mode == O_RDWR ? BIT(FR_OK) : BIT(FR_EACCES),
		  "reopen of a %s fd through %s", clone ? "clone" : "device",
		  path);
	if (fd >= 0)
		fz_obj_store(t, fd, true, mode == O_RDWR, clone, s);
	pthread_rwlock_unlock(&P.obj[s].lock);
}

static void op_clone(struct fz_thread *t)
{
	int s = fz_obj_rdlock(t), fd;

	if (s < 0)
		return;
	fd = cowdev_clone(P.obj[s].fd);
	if (fz_expect(t, fd < 0 ? -fd : 0, BIT(FR_OK), "CLONE") && fd >= 0) {
		if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
			fz_fail(t, "CLONE: fd without FD_CLOEXEC");
		fz_obj_store(t, fd, true, true, true, s);
	}
	pthread_rwlock_unlock(&P.obj[s].lock);
}

/* read/write/lseek/fstat on the device fd: it has no read or write. */
static void op_fdops(struct fz_thread *t)
{
	int s = fz_obj_rdlock(t), fd;
	struct stat stb;
	char b[16];

	if (s < 0)
		return;
	fd = P.obj[s].fd;
	switch (rn(t, 4)) {
	case 0:
		fz_expect(t, fz_err(read(fd, b, sizeof(b))),
			  P.obj[s].rd ? BIT(FR_EINVAL) : BIT(FR_OTHER), "read");
		break;
	case 1:
		fz_expect(t, fz_err(write(fd, b, sizeof(b))),
			  P.obj[s].wr ? BIT(FR_EINVAL) : BIT(FR_OTHER), "write");
		break;
	case 2:
		lseek(fd, rnd(t) >> 1, SEEK_SET);
		break;
	default:
		fz_expect(t, fz_err(fstat(fd, &stb)), BIT(FR_OK), "fstat");
	}
	pthread_rwlock_unlock(&P.obj[s].lock);
}

/* ---- ops on the shared mappings ---- */

static bool fz_prot_read_ok(int prot)
{
	return prot != PROT_NONE;
}

static void fz_map_clear(struct fz_map *m)
{
	m->addr = NULL;
	m->len = 0;
}

static void op_mmap(struct fz_thread *t)
{
	static const int prots[] = { PROT_READ | PROT_WRITE, PROT_READ,
		PROT_READ | PROT_WRITE, PROT_NONE, PROT_WRITE,
		PROT_READ | PROT_EXEC };
	size_t ps = cfg.ps, len;
	int s = -1, m, prot, flags, extra = 0;
	unsigned int set = BIT(FR_OK);
	struct fz_obj *o, race = { .fd = P.race_fd, .rd = true, .wr = true };
	struct fz_map *fm;
	uint64_t off;
	bool fixed = false, exotic = false;
	char *addr;

	if (chance(t, 10)) {
		o = &race;
	} else {
		s = fz_obj_rdlock(t);
		if (s < 0)
			return;
		o = &P.obj[s];
	}
	m = fz_map_lock(t, true, true);
	if (m < 0) {
		if (s >= 0)
			pthread_rwlock_unlock(&o->lock);
		return;
	}
	fm = &P.map[m];
	switch (rn(t, 12)) {
	case 0:
		len = 0;
		break;
	case 1:
		len = ps * (1 + rn(t, 4)) - 1 - rn(t, ps - 1);
		break;
	case 2:
		len = 1UL << 40;
		break;
	case 3:
		len = -ps;
		break;
	case 4:
		len = ps * (1 + rn(t, 512));
		break;
	default:
		len = ps * (1 + rn(t, 32));
	}
	switch (rn(t, 14)) {
	case 0:
		off = 1 + rn(t, ps - 1);
		break;
	case 1:
		off = 1ULL << 40;
		break;
	case 2:
		off = -ps;
		exotic = true;
		break;
	case 3:
		off = (1ULL << 62) + rn(t, 16) * ps;
		exotic = true;
		break;
	case 4:
		off = rn(t, 4096) * ps;
		break;
	case 5:
		off = (uint64_t)cfg.max_pages * ps;
		break;
	default:
		off = rn(t, 64) * ps;
	}
	prot = prots[rn(t, 6)];
	flags = chance(t, 65) ? MAP_SHARED : MAP_PRIVATE;
	if (chance(t, 10) && flags == MAP_SHARED) {
		flags = MAP_SHARED_VALIDATE;
		if (chance(t, 50))
			extra = chance(t, 50) ? MAP_SYNC : FZ_MAP_UNKNOWN;
	}
	if (len && len <= 64 * ps && chance(t, 15))
		extra |= MAP_POPULATE;
	if (len && len <= 16 * ps && chance(t, 5))
		extra |= MAP_LOCKED;
	if (chance(t, 5))
		extra |= MAP_NORESERVE;
	addr = NULL;
	if (fm->addr && len && len <= fm->len && chance(t, 25)) {
		fixed = true;		/* replace the old mapping in place */
		addr = fm->addr;
		extra |= MAP_FIXED;
	} else if (fm->addr) {
		fz_expect(t, fz_err(munmap(fm->addr, fm->len)), BIT(FR_OK),
			  "munmap");
		fz_map_clear(fm);
	}
	if (!fixed && chance(t, 3)) {
		/* Onto the argument arena: must refuse. */
		addr = t->arg;
		extra |= MAP_FIXED_NOREPLACE;
	}

	/* What mmap must answer, in the order the kernel checks. */
	if (!len || off % ps) {
		set = BIT(FR_EINVAL);
	} else if (len > (1UL << 47)) {
		set = BIT(FR_ENOMEM);
	} else {
		if (extra & MAP_FIXED_NOREPLACE)
			set = BIT(FR_EEXIST);
		else if (flags == MAP_SHARED_VALIDATE &&
			 (extra & (MAP_SYNC | FZ_MAP_UNKNOWN)))
			set = BIT(FR_EOPNOTSUPP);
		else if (flags != MAP_PRIVATE && (prot & PROT_WRITE) && !o->wr)
			set = BIT(FR_EACCES);
		else if (!o->rd)
			set = BIT(FR_EACCES);
		else if (prot & PROT_EXEC)
			set = BIT(FR_OK) | BIT(FR_EPERM);	/* noexec mounts */
		if (exotic)	/* pgoff near the end of the file space */
			set |= BIT(FR_EOVERFLOW);
		if (len >= (1UL << 40))
			set |= BIT(FR_ENOMEM);
		if ((extra & MAP_LOCKED) && (set & BIT(FR_OK)))
			set |= BIT(FR_EAGAIN);
	}

	addr = mmap(addr, len, prot, flags | extra, o->fd, off);
	fz_expect(t, addr == MAP_FAILED ? errno : 0, set,
		  "mmap(len %#zx, prot %#x, flags %#x, off %#llx) of a %s%s fd",
		  len, prot, flags | extra, (unsigned long long)off,
		  o->rd ? "r" : "", o->wr ? "w" : "");
	{
		if (addr != MAP_FAILED) {
			if (fixed && len < fm->len)
				munmap(fm->addr + ((len + ps - 1) & ~(ps - 1)),
				       fm->len - ((len + ps - 1) & ~(ps - 1)));
			fm->addr = addr;
			fm->len = (len + ps - 1) & ~(ps - 1);
			fm->prot = prot;
			fm->shared = flags != MAP_PRIVATE;
			fm->wr_ok = !fm->shared || o->wr;
			fm->dontfork = false;
		} else if (fixed) {
			/* A failed MAP_FIXED may have unmapped the range. */
			munmap(fm->addr, fm->len);
			fz_map_clear(fm);
		}
	}
	pthread_rwlock_unlock(&fm->lock);
	if (s >= 0)
		pthread_rwlock_unlock(&o->lock);
}

/*
 * Replace the file behind the race fd number with dup2() while other
 * threads use the number: ioctls and mmaps then race with the release of
 * the view they started on.
 */
static void op_race(struct fz_thread *t)
{
	int fd;

	fd = chance(t, 30) ? cowdev_clone(P.race_fd) : cowdev_open();
	if (!fz_expect(t, fd < 0 ? -fd : 0, BIT(FR_OK), "open or clone"))
		return;
	if (chance(t, 70))
		fz_expect(t, -cowdev_set_size(fd, rn(t, 64) * cfg.ps),
			  BIT(FR_OK), "SET_SIZE");
	fz_expect(t, fz_err(dup2(fd, P.race_fd)), BIT(FR_OK), "dup2");
	fz_expect(t, fz_err(close(fd)), BIT(FR_OK), "close");
}

static void op_munmap(struct fz_thread *t)
{
	int m = fz_map_lock(t, true, false);
	struct fz_map *fm = &P.map[m];
	size_t ps = cfg.ps, pages, cut;

	if (!fm->addr)
		goto out;
	pages = fm->len / ps;
	if (pages > 1 && chance(t, 40)) {
		cut = 1 + rn(t, pages - 1);
		if (chance(t, 50)) {
			/* the tail */
			fz_expect(t, fz_err(munmap(fm->addr + cut * ps,
						   fm->len - cut * ps)),
				  BIT(FR_OK), "munmap of a tail");
			fm->len = cut * ps;
		} else {
			fz_expect(t, fz_err(munmap(fm->addr, cut * ps)),
				  BIT(FR_OK), "munmap of a head");
			fm->addr += cut * ps;
			fm->len -= cut * ps;
		}
		goto out;
	}
	fz_expect(t, fz_err(munmap(fm->addr, fm->len)), BIT(FR_OK), "munmap");
	fz_map_clear(fm);
out:
	pthread_rwlock_unlock(&fm->lock);
}

static void op_mremap(struct fz_thread *t)
{
	int m = fz_map_lock(t, true, false), n;
	struct fz_map *fm = &P.map[m], *nm;
	size_t ps = cfg.ps, nlen;
	unsigned int set = BIT(FR_OK);
	int flags = MREMAP_MAYMOVE;
	char *addr;

	if (!fm->addr)
		goto out;
	switch (rn(t, 5)) {
	case 0:
		nlen = fm->len;
		break;
	case 1:
		nlen = ps * (1 + rn(t, fm->len / ps));
		break;
	case 2:
		nlen = MIN(fm->len * 2, 1UL << 41);
		break;
	default:
		nlen = ps * (1 + rn(t, 64));
	}
	switch (rn(t, 11)) {
	case 10:
		/* The old nonlinear interface, now a MAP_FIXED mmap. */
		if (fm->len < 2 * ps)
			break;
		fz_expect(t, fz_err(remap_file_pages(fm->addr + ps,
			  MIN(fm->len - ps, 16 * ps), 0, rn(t, 64), 0)),
			  fm->shared ? BIT(FR_OK) | BIT(FR_EINVAL) :
				       BIT(FR_EINVAL), "remap_file_pages");
		goto out;
	case 0:
	case 1:
		flags = 0;		/* in place: may not fit */
		set |= BIT(FR_ENOMEM);
		break;
	case 2:
		flags |= MREMAP_DONTUNMAP;
		nlen = fm->len;
		set |= BIT(FR_EINVAL);
		break;
	case 3:
		/* old_size 0: a second mapping of the same pages. */
		n = fz_map_lock(t, true, true);
		if (n < 0)
			break;
		nm = &P.map[n];
		if (nm == fm || nm->addr) {
			pthread_rwlock_unlock(&nm->lock);
			break;
		}
		addr = mremap(fm->addr, 0, nlen, MREMAP_MAYMOVE);
		if (fz_expect(t, addr == MAP_FAILED ? errno : 0,
			      fm->shared ? BIT(FR_OK) : BIT(FR_EINVAL),
			      "mremap(old_size 0, %#zx) of a %s mapping", nlen,
			      fm->shared ? "shared" : "private") &&
		    addr != MAP_FAILED) {
			nm->addr = addr;
			nm->len = nlen;
			nm->prot = fm->prot;
			nm->shared = fm->shared;
			nm->wr_ok = fm->wr_ok;
			nm->dontfork = fm->dontfork;	/* the flag is copied */
		} else if (addr != MAP_FAILED) {
			munmap(addr, nlen);
		}
		pthread_rwlock_unlock(&nm->lock);
		goto out;
	}
	/*
	 * Growing: core mm may refuse (ENOMEM: 6.12 cannot grow a VM_SPECIAL
	 * vma such as a VM_MIXEDMAP one in place and says so instead of
	 * moving it; memory accounting of private mappings), and a mapping
	 * that madvise split into several vmas cannot be remapped as a
	 * whole (EFAULT).
	 */
	if (nlen > fm->len)
		set |= BIT(FR_ENOMEM);
	set |= BIT(FR_EFAULT);
	addr = mremap(fm->addr, fm->len, nlen, flags);
	if (fz_expect(t, addr == MAP_FAILED ? errno : 0, set,
		      "mremap(%#zx -> %#zx, flags %#x)", fm->len, nlen, flags) &&
	    addr != MAP_FAILED) {
		if (flags & MREMAP_DONTUNMAP)
			munmap(fm->addr, fm->len);
		fm->addr = addr;
		fm->len = nlen;
	}
out:
	pthread_rwlock_unlock(&fm->lock);
}

static void op_mprotect(struct fz_thread *t)
{
	static const int prots[] = { PROT_NONE, PROT_READ,
		PROT_READ | PROT_WRITE, PROT_WRITE, PROT_READ | PROT_EXEC };
	int m = fz_map_lock(t, true, false), prot = prots[rn(t, 5)], err;
	struct fz_map *fm = &P.map[m];
	unsigned int set = BIT(FR_OK);

	if (!fm->addr)
		goto out;
	if ((prot & PROT_WRITE) && !fm->wr_ok)
		set = BIT(FR_EACCES);
	if (prot & PROT_EXEC)
		set |= BIT(FR_EACCES);
	/* Making a large private mapping writable needs memory accounting. */
	if (!fm->shared && (prot & PROT_WRITE) && !(fm->prot & PROT_WRITE))
		set |= BIT(FR_ENOMEM);
	err = fz_err(mprotect(fm->addr, fm->len, prot));
	fz_expect(t, err, set, "mprotect(%#x) of a %s mapping", prot,
		  fm->shared ? "shared" : "private");
	if (err && mprotect(fm->addr, fm->len, PROT_NONE)) {
		/* (A refusal may have changed some vmas of a split mapping.) */
		fz_fail(t, "mprotect(PROT_NONE): %s", strerror(errno));
	}
	fm->prot = err ? PROT_NONE : prot;
out:
	pthread_rwlock_unlock(&fm->lock);
}

static void op_madvise(struct fz_thread *t)
{
	static const int advs[] = { MADV_DONTNEED, MADV_DONTNEED,
		MADV_WILLNEED, MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL,
		MADV_COLD, MADV_PAGEOUT, MADV_POPULATE_READ,
		MADV_POPULATE_WRITE, MADV_DONTFORK, MADV_DOFORK, MADV_FREE,
		MADV_REMOVE, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP,
		MADV_DODUMP, MADV_MERGEABLE, MADV_WIPEONFORK, 25, 1000 };
	int adv = advs[rn(t, ARRAY_SIZE(advs))], m, err;
	bool forkflag = adv == MADV_DONTFORK || adv == MADV_DOFORK;
	struct fz_map *fm;
	size_t ps = cfg.ps, pages, a, n;

	m = fz_map_lock(t, forkflag, false);
	fm = &P.map[m];
	if (!fm->addr)
		goto out;
	pages = fm->len / ps;
	if (forkflag) {
		a = 0;
		n = pages;
	} else {
		a = rn(t, MIN(pages, FZ_TOUCH_PAGES));
		n = 1 + rn(t, MIN(pages - a, 256));
	}
	err = fz_err(madvise(fm->addr + a * ps, n * ps, adv));
	if (adv == MADV_DONTNEED)
		fz_expect(t, err, BIT(FR_OK), "madvise(DONTNEED)");
	else if (adv == 1000)
		fz_expect(t, err, BIT(FR_EINVAL), "madvise(1000)");
	if (!err && adv == MADV_DONTFORK)
		fm->dontfork = true;
	if (!err && adv == MADV_DOFORK)
		fm->dontfork = false;
out:
	pthread_rwlock_unlock(&fm->lock);
}

static void op_msync(struct fz_thread *t)
{
	int m = fz_map_lock(t, false, false);
	struct fz_map *fm = &P.map[m];
	int flags = chance(t, 50) ? MS_SYNC : MS_ASYNC;

	if (chance(t, 20))
		flags |= MS_INVALIDATE;
	if (fm->addr)
		msync(fm->addr, MIN(fm->len, FZ_TOUCH_PAGES * cfg.ps), flags);
	pthread_rwlock_unlock(&fm->lock);
}

/* A page of @fm to touch: one of the first FZ_TOUCH_PAGES, or the last. */
static char *fz_map_page(struct fz_thread *t, struct fz_map *fm)
{
	size_t pages = fm->len / cfg.ps;

	if (chance(t, 10))
		return fm->addr + (pages - 1) * cfg.ps;
	return fm->addr + rn(t, MIN(pages, FZ_TOUCH_PAGES)) * cfg.ps;
}

static void op_access(struct fz_thread *t)
{
	int m = fz_map_lock(t, false, false), sig, expect;
	struct fz_map *fm = &P.map[m];
	bool write = chance(t, 50);
	char *p, v;

	if (!fm->addr)
		goto out;
	p = fz_map_page(t, fm);
	if (write) {
		expect = fm->prot & PROT_WRITE ? 0 : SIGSEGV;
		if (chance(t, 20))
			sig = fz_fill(p, rn(t, 256), cfg.ps);
		else
			sig = fz_fill(p + rn(t, cfg.ps), rn(t, 256), 1);
	} else {
		expect = fz_prot_read_ok(fm->prot) ? 0 : SIGSEGV;
		sig = fz_read(p + rn(t, cfg.ps), &v);
	}
	fz_count_sig(sig);
	if (sig != expect && !(expect == 0 && sig == SIGBUS))
		fz_fail(t, "%s of a %s mapping with prot %#x: %s, expected %s",
			write ? "write" : "read",
			fm->shared ? "shared" : "private", fm->prot,
			fz_sig_name(sig), expect ? fz_sig_name(expect) :
						   "none or SIGBUS");
out:
	pthread_rwlock_unlock(&fm->lock);
}

/* Empty the thread's pipe. */
static void fz_drain(struct fz_thread *t)
{
	while (read(t->pipe[0], t->scratch, FZ_SCRATCH) > 0)
		;
}

/*
 * A kernel path reads (odd @kind) or writes (even @kind) one page of a
 * mapping: pipe in or out, process_vm_readv/writev, /proc/self/mem (which
 * uses FOLL_FORCE).  A write writes 0x11 bytes; a read leaves the page in
 * scratch.  Returns the result (bytes, or -errno).
 */
static long fz_kpath(struct fz_thread *t, char *page, int kind)
{
	struct iovec local = { t->scratch, cfg.ps }, remote = { page, cfg.ps };
	long r;

	fz_drain(t);
	if (!(kind & 1))
		memset(t->scratch, 0x11, cfg.ps);
	switch (kind) {
	case 0:		/* the kernel writes the page from a pipe */
		if (write(t->pipe[1], t->scratch, cfg.ps) != (ssize_t)cfg.ps)
			return -EIO;
		r = read(t->pipe[0], page, cfg.ps);
		break;
	case 1:		/* the kernel reads the page into a pipe */
		r = write(t->pipe[1], page, cfg.ps);
		if (r == (long)cfg.ps &&
		    read(t->pipe[0], t->scratch, cfg.ps) != (ssize_t)cfg.ps)
			return -EIO;
		break;
	case 2:
		r = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
		break;
	case 3:
		r = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
		break;
	case 4:		/* FOLL_FORCE: writes private read-only mappings */
		r = pwrite(t->mem_fd, t->scratch, cfg.ps, (off_t)page);
		break;
	default:
		r = pread(t->mem_fd, t->scratch, cfg.ps, (off_t)page);
	}
	if (r < 0)
		r = -errno;
	fz_drain(t);
	return r;
}

static void op_kpath(struct fz_thread *t)
{
	int m = fz_map_lock(t, false, false), kind = rn(t, 6);
	struct fz_map *fm = &P.map[m];
	bool write = !(kind & 1);
	unsigned int set;
	long r;

	if (!fm->addr)
		goto out;
	if (kind >= 4)		/* /proc/self/mem: EIO, and FOLL_FORCE */
		set = BIT(FR_EIO) | (write && fm->shared &&
				     !(fm->prot & PROT_WRITE) ? 0 : BIT(FR_OK));
	else if (write)
		set = fm->prot & PROT_WRITE ? BIT(FR_OK) | BIT(FR_EFAULT) :
					      BIT(FR_EFAULT);
	else
		set = fz_prot_read_ok(fm->prot) ? BIT(FR_OK) | BIT(FR_EFAULT) :
						  BIT(FR_EFAULT);
	r = fz_kpath(t, fz_map_page(t, fm), kind);
	/* A concurrent shrink may cut a copy short. */
	fz_expect(t, r < 0 ? -r : 0, set,
		  "kernel %s (path %d) of a %s mapping with prot %#x",
		  write ? "write" : "read", kind,
		  fm->shared ? "shared" : "private", fm->prot);
out:
	pthread_rwlock_unlock(&fm->lock);
}

/* vmsplice pins pages into the pipe: they wait in limbo when released. */
static void op_vmsplice(struct fz_thread *t)
{
	int m = fz_map_lock(t, false, false);
	struct fz_map *fm = &P.map[m];
	struct iovec iov;
	unsigned int set;
	long r;

	if (!fm->addr)
		goto out;
	iov.iov_base = fz_map_page(t, fm);
	iov.iov_len = cfg.ps * (1 + rn(t, 2));
	if (iov.iov_base + iov.iov_len > (void *)(fm->addr + fm->len))
		iov.iov_len = cfg.ps;
	set = fz_prot_read_ok(fm->prot) ?
	      BIT(FR_OK) | BIT(FR_EFAULT) | BIT(FR_EAGAIN) :
	      BIT(FR_EFAULT) | BIT(FR_EAGAIN);
	r = vmsplice(t->pipe[1], &iov, 1, SPLICE_F_NONBLOCK);
	fz_expect(t, fz_err(r), set, "vmsplice of a mapping with prot %#x",
		  fm->prot);
out:
	pthread_rwlock_unlock(&fm->lock);
}

static void op_drain(struct fz_thread *t)
{
	fz_drain(t);
}

/*
 * A view that takes a good part of the pool at once (POPULATE_WRITE of
 * thousands of pages), so that the pool runs dry now and then while
 * everything else goes on: first writes and COW breaks then get SIGBUS.
 */
static void op_hog(struct fz_thread *t)
{
	unsigned long n = MIN(cfg.pool_pages / (2 + rn(t, 4)), 8192);
	int i = rn(t, FZ_OBJS), m, fd, err;
	uint64_t af0;
	char *addr;

	if (!chance(t, 25))
		return;
	pthread_rwlock_wrlock(&P.obj[i].lock);
	m = fz_map_lock(t, true, true);
	if (m < 0) {
		pthread_rwlock_unlock(&P.obj[i].lock);
		return;
	}
	if (P.obj[i].fd >= 0)
		fz_expect(t, fz_err(close(P.obj[i].fd)), BIT(FR_OK), "close");
	P.obj[i].fd = -1;
	if (P.map[m].addr)
		fz_expect(t, fz_err(munmap(P.map[m].addr, P.map[m].len)),
			  BIT(FR_OK), "munmap");
	fz_map_clear(&P.map[m]);
	fd = cowdev_open();
	if (!fz_expect(t, fd < 0 ? -fd : 0, BIT(FR_OK), "open"))
		goto out;
	P.obj[i].fd = fd;
	P.obj[i].rd = P.obj[i].wr = true;
	P.obj[i].clone = false;
	if (!fz_expect(t, -cowdev_set_size(fd, n * cfg.ps), BIT(FR_OK),
		       "SET_SIZE"))
		goto out;
	addr = mmap(NULL, n * cfg.ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    0);
	if (!fz_expect(t, addr == MAP_FAILED ? errno : 0, BIT(FR_OK), "mmap"))
		goto out;
	P.map[m].addr = addr;
	P.map[m].len = n * cfg.ps;
	P.map[m].prot = PROT_READ | PROT_WRITE;
	P.map[m].shared = true;
	P.map[m].wr_ok = true;
	P.map[m].dontfork = false;
	af0 = fz_alloc_failures(t);
	err = fz_err(madvise(addr, n * cfg.ps, MADV_POPULATE_WRITE));
	if (err && (err != EFAULT || fz_alloc_failures(t) == af0))
		fz_fail(t, "madvise(POPULATE_WRITE) of %lu pages: %s without a pool failure",
			n, strerror(err));
out:
	pthread_rwlock_unlock(&P.map[m].lock);
	pthread_rwlock_unlock(&P.obj[i].lock);
}

/* ---- debugfs and sysfs ---- */

static void op_debugfs(struct fz_thread *t)
{
	int i = rn(t, FZ_DBG), s, fd, err;
	struct cowdev_stats st;
	char path[96];
	long r;

	if (!cfg.debugfs)
		return;
	pthread_mutex_lock(&P.dbg_lock[i]);
	switch (rn(t, 4)) {
	case 0:		/* open the pagemap of a live view */
		s = fz_obj_rdlock(t);
		if (s < 0)
			break;
		if (!cowdev_get_stats(P.obj[s].fd, &st)) {
			snprintf(path, sizeof(path),
				 "/sys/kernel/debug/cowdev/pagemap/%llu",
				 (unsigned long long)st.view_id);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fz_expect(t, fz_err(fd), BIT(FR_OK),
				      "open of a live view's %s", path)) {
				if (P.dbg_fd[i] >= 0)
					close(P.dbg_fd[i]);
				P.dbg_fd[i] = fd;
			}
		}
		pthread_rwlock_unlock(&P.obj[s].lock);
		break;
	case 1:		/* read it, maybe after its view is gone */
	{
		static const size_t counts[] = { 0, 1, 100, 4096, 70000 };
		size_t count = counts[rn(t, 5)];
		off_t off = chance(t, 10) ? -1 : chance(t, 10) ?
			    (off_t)1 << 40 : (off_t)rn(t, 300);
		unsigned int set = BIT(FR_OK) | BIT(FR_EIO);
		uint8_t *buf = t->scratch;
		long k;

		if (P.dbg_fd[i] < 0)
			break;
		if (chance(t, 10)) {
			buf = (uint8_t *)t->arg + 2 * cfg.ps;	/* PROT_NONE */
			set = BIT(FR_EFAULT) | BIT(FR_EIO) | BIT(FR_OK);
		}
		if (off < 0)
			set = BIT(FR_EINVAL);
		r = pread(P.dbg_fd[i], buf, count, off);
		err = fz_err(r);
		fz_expect(t, err, set, "pread(pagemap, %zu, %lld)", count,
			  (long long)off);
		if (r > (long)count)
			fz_fail(t, "pread(pagemap, %zu) returned %ld", count, r);
		if (r > 0 && buf == t->scratch)
			for (k = 0; k < r; k++)
				if (!fz_state_ok(buf[k])) {
					fz_fail(t, "pagemap byte %ld is %#x",
						k, buf[k]);
					break;
				}
		break;
	}
	case 2:
		if (P.dbg_fd[i] >= 0)
			close(P.dbg_fd[i]);
		P.dbg_fd[i] = -1;
		break;
	default:	/* the views table */
		fd = open("/sys/kernel/debug/cowdev/views", O_RDONLY | O_CLOEXEC);
		if (!fz_expect(t, fz_err(fd), BIT(FR_OK), "open views"))
			break;
		r = read(fd, t->scratch, FZ_SCRATCH - 1);
		if (fz_expect(t, fz_err(r), BIT(FR_OK), "read views") &&
		    strncmp((char *)t->scratch, "id pid size_pages", 17))
			fz_fail(t, "views: no header line");
		while (r > 0)
			r = read(fd, t->scratch, FZ_SCRATCH);
		close(fd);
	}
	pthread_mutex_unlock(&P.dbg_lock[i]);
}

static void op_sysfs(struct fz_thread *t)
{
	static const char *const attrs[] = { "total_pages", "free_pages",
		"used_pages", "peak_used", "alloc_failures", "views",
		"limbo_pages", "allocs", "frees" };
	const char *a = attrs[rn(t, 9)];
	char path[96], b[64];
	int fd;
	long r;

	snprintf(path, sizeof(path), "/sys/class/misc/cowdev/%s", a);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!fz_expect(t, fz_err(fd), BIT(FR_OK), "open %s", path))
		return;
	r = read(fd, b, sizeof(b) - 1);
	if (fz_expect(t, fz_err(r), BIT(FR_OK), "read %s", path)) {
		b[r > 0 ? r : 0] = 0;
		if (r < 2 || b[r - 1] != '\n' || b[0] < '0' || b[0] > '9')
			fz_fail(t, "%s: \"%s\" is not a number", path, b);
	}
	close(fd);
}

/* ---- processes ---- */

static void fz_loop(struct fz_thread *t);
static void fz_thread_init(struct fz_thread *t, const char *who, uint64_t seed,
			   double end, unsigned long max_iters);
static void fz_thread_fini(struct fz_thread *t);
static void fz_reap(struct fz_thread *t, bool wait);

/* Free everything of the shared tables (fds, mappings, debugfs files). */
static void fz_proc_cleanup(struct fz_thread *t)
{
	int i;

	for (i = 0; i < FZ_MAPS; i++)
		if (P.map[i].addr) {
			fz_expect(t, fz_err(munmap(P.map[i].addr, P.map[i].len)),
				  BIT(FR_OK), "final munmap");
			fz_map_clear(&P.map[i]);
		}
	for (i = 0; i < FZ_OBJS; i++)
		if (P.obj[i].fd >= 0) {
			fz_expect(t, fz_err(close(P.obj[i].fd)), BIT(FR_OK),
				  "final close");
			P.obj[i].fd = -1;
		}
	for (i = 0; i < FZ_DBG; i++)
		if (P.dbg_fd[i] >= 0) {
			close(P.dbg_fd[i]);
			P.dbg_fd[i] = -1;
		}
	close(P.race_fd);
}

/* A forked child: fuzz a little more on its copy of everything, exit. */
static void __noreturn
fz_child_main(struct fz_thread *pt, uint64_t seed, const char *who)
{
	static struct fz_thread ct;
	struct rlimit rl, low;
	int i, fd;

	alarm(FZ_CHILD_ALARM);
	fz_init_locks();
	P.depth++;
	memset(P.child, 0, sizeof(P.child));
	for (i = 0; i < FZ_MAPS; i++)
		if (P.map[i].dontfork)
			fz_map_clear(&P.map[i]);	/* not in this mm */
	/*
	 * The forking thread's arenas are in this mm; its owned objects
	 * are left alone.
	 */
	ct.arg = pt->arg;
	ct.buf = pt->buf;
	fz_thread_init(&ct, who, seed, MIN(cfg.end, cowdev_now() + 0.3),
		       20 + seed % 200);
	ct.op = "child";

	/* With no fd left, CLONE must say EMFILE and change nothing. */
	if (seed % 4 == 0 && !getrlimit(RLIMIT_NOFILE, &rl)) {
		for (i = 0; i < FZ_OBJS && P.obj[i].fd < 0; i++)
			;
		fd = dup(0);
		if (i < FZ_OBJS && fd >= 0) {
			close(fd);
			low = rl;
			low.rlim_cur = fd;
			if (!setrlimit(RLIMIT_NOFILE, &low)) {
				fd = cowdev_clone(P.obj[i].fd);
				fz_expect(&ct, fd < 0 ? -fd : 0,
					  BIT(FR_EMFILE), "CLONE with no free fd");
				if (fd >= 0)
					close(fd);
				setrlimit(RLIMIT_NOFILE, &rl);
			}
		}
	}
	fz_loop(&ct);
	if (seed & 8)
		fz_proc_cleanup(&ct);
	fz_thread_fini(&ct);
	fz_reap(&ct, true);
	fflush(NULL);
	_exit(0);
}

static void fz_check_child(struct fz_thread *t, const char *who, int st)
{
	if (WIFEXITED(st) && !WEXITSTATUS(st))
		return;
	if (WIFSIGNALED(st))
		fz_fail(t, "process %s killed by signal %d (%s)%s", who,
			WTERMSIG(st), strsignal(WTERMSIG(st)),
			WTERMSIG(st) == SIGALRM ? ": watchdog, it hung" : "");
	else
		fz_fail(t, "process %s exited with %d", who, WEXITSTATUS(st));
}

/* Collect forked children; @wait: all of them. */
static void fz_reap(struct fz_thread *t, bool wait)
{
	int i, st;

	pthread_mutex_lock(&P.child_lock);
	for (i = 0; i < FZ_CHILDREN; i++) {
		struct fz_child *c = &P.child[i];

		if (!c->pid)
			continue;
		if (waitpid(c->pid, &st, wait ? 0 : WNOHANG) != c->pid)
			continue;
		fz_check_child(t, c->who, st);
		c->pid = 0;
	}
	pthread_mutex_unlock(&P.child_lock);
}

static void op_reap(struct fz_thread *t)
{
	fz_reap(t, false);
}

/* With every other thread of the process stopped (fork_lock). */
static void op_fork(struct fz_thread *t)
{
	uint64_t seed;
	char who[48];
	int i;
	pid_t pid;

	if (P.depth >= FZ_MAX_DEPTH)
		return;
	fz_reap(t, false);
	for (i = 0; i < FZ_CHILDREN && P.child[i].pid; i++)
		;
	if (i == FZ_CHILDREN)
		return;
	seed = rnd(t);
	snprintf(who, sizeof(who), "%.36s.f%u", t->who, t->forks++);
	fflush(NULL);
	pid = fork();
	if (!pid)
		fz_child_main(t, seed, who);
	if (!fz_expect(t, fz_err(pid), BIT(FR_OK), "fork"))
		return;
	__atomic_fetch_add(&cfg.rep->forks, 1, __ATOMIC_RELAXED);
	P.child[i].pid = pid;
	snprintf(P.child[i].who, sizeof(P.child[i].who), "%s", who);
}

/*
 * clone(CLONE_VM | CLONE_VFORK): a task sharing this mm but with its own
 * copy of the fd table uses the views (GET_STATS, CLONE) and closes some of
 * its copies while this process's mappings and fds stay.
 */
struct fz_cvm {
	int n;
	int fd[FZ_OBJS];
	int stats_err[FZ_OBJS], clone_err[FZ_OBJS], close_err[FZ_OBJS];
};

static int fz_cvm_child(void *arg)
{
	struct fz_cvm *a = arg;
	struct cowdev_stats st;
	int i, c;

	for (i = 0; i < a->n; i++) {
		a->stats_err[i] = ioctl(a->fd[i], COWDEV_IOC_GET_STATS, &st) < 0 ?
				  errno : 0;
		c = ioctl(a->fd[i], COWDEV_IOC_CLONE, 0);
		a->clone_err[i] = c < 0 ? errno : 0;
		if (c >= 0)
			close(c);
		a->close_err[i] = (i & 1) && close(a->fd[i]) < 0 ? errno : 0;
	}
	return 0;
}

static void op_clone_vm(struct fz_thread *t)
{
	static struct fz_cvm a;
	size_t stack_size = 64 * 1024;
	char *stack;
	int i, st;
	pid_t pid;

	memset(&a, 0, sizeof(a));
	for (i = 0; i < FZ_OBJS; i++)
		if (P.obj[i].fd >= 0)
			a.fd[a.n++] = P.obj[i].fd;
	stack = malloc(stack_size);
	if (!stack)
		return;
	pid = clone(fz_cvm_child, stack + stack_size,
		    CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
	if (fz_expect(t, fz_err(pid), BIT(FR_OK), "clone(CLONE_VM)") &&
	    waitpid(pid, &st, 0) == pid) {
		fz_check_child(t, "clone_vm child", st);
		for (i = 0; i < a.n; i++) {
			fz_expect(t, a.stats_err[i], BIT(FR_OK),
				  "GET_STATS from a CLONE_VM task");
			fz_expect(t, a.clone_err[i], BIT(FR_OK),
				  "CLONE from a CLONE_VM task");
			fz_expect(t, a.close_err[i], BIT(FR_OK),
				  "close from a CLONE_VM task");
		}
	}
	free(stack);
}

/* ---- ops on the owned objects ---- */

static void op_own_open(struct fz_thread *t)
{
	int o = fz_own_free_slot(t), fd;
	unsigned long size = rn(t, FZ_OWN_PAGES + 1);
	uint64_t bytes = size * cfg.ps;
	struct fz_own *a;

	if (o < 0)
		return;
	if (size && chance(t, 30))
		bytes -= rn(t, cfg.ps);
	fd = cowdev_open();
	if (!fz_expect(t, fd < 0 ? -fd : 0, BIT(FR_OK), "open"))
		return;
	if (!fz_expect(t, -cowdev_set_size(fd, bytes), BIT(FR_OK),
		       "SET_SIZE %llu", (unsigned long long)bytes)) {
		close(fd);
		return;
	}
	a = &t->own[o];
	memset(a, 0, sizeof(*a));
	a->live = true;
	a->fd = fd;
	a->size = size;
}

static void op_own_close(struct fz_thread *t)
{
	int o = fz_own_pick(t);

	if (o < 0)
		return;
	fz_expect(t, fz_err(close(t->own[o].fd)), BIT(FR_OK), "close");
	t->own[o].fd = -1;
	fz_own_free_if_unused(t, o);
}

static void op_own_clone(struct fz_thread *t)
{
	int o = fz_own_pick(t), n, fd;

	if (o < 0)
		return;
	fd = cowdev_clone(t->own[o].fd);
	if (!fz_expect(t, fd < 0 ? -fd : 0, BIT(FR_OK), "CLONE"))
		return;
	n = fz_own_free_slot(t);
	fz_own_cloned(t, o, n, fd);
	if (n < 0)
		fz_expect(t, fz_err(close(fd)), BIT(FR_OK), "close of a clone");
}

static void op_own_setsize(struct fz_thread *t)
{
	int o = fz_own_pick(t);
	unsigned long size = rn(t, FZ_OWN_PAGES + 1);
	uint64_t bytes = size * cfg.ps;

	if (o < 0)
		return;
	if (size && chance(t, 30))
		bytes -= rn(t, cfg.ps);
	if (fz_expect(t, -cowdev_set_size(t->own[o].fd, bytes), BIT(FR_OK),
		      "SET_SIZE %llu", (unsigned long long)bytes))
		fz_own_resize(t, o, size);
}

static void op_own_mmap(struct fz_thread *t)
{
	static const int prots[] = { PROT_READ | PROT_WRITE,
		PROT_READ | PROT_WRITE, PROT_READ, PROT_NONE };
	int o = fz_own_pick(t), m;
	struct fz_omap *om;
	char *addr;

	if (o < 0)
		return;
	for (m = 0; m < FZ_OWN_MAPS && t->omap[m].live; m++)
		;
	if (m == FZ_OWN_MAPS)
		return;
	om = &t->omap[m];
	memset(om, 0, sizeof(*om));
	om->obj = o;
	om->pgoff = MIN(rn(t, t->own[o].size + 3), FZ_OWN_PAGES);
	om->npages = 1 + rn(t, FZ_OWN_MAP_PAGES / 2);
	om->prot = prots[rn(t, 4)];
	om->shared = chance(t, 70);
	addr = mmap(NULL, om->npages * cfg.ps, om->prot,
		    om->shared ? MAP_SHARED : MAP_PRIVATE, t->own[o].fd,
		    om->pgoff * cfg.ps);
	if (!fz_expect(t, addr == MAP_FAILED ? errno : 0, BIT(FR_OK),
		       "mmap of an owned view"))
		return;
	om->addr = addr;
	om->live = true;
	t->own[o].nmaps++;
}

static void op_own_munmap(struct fz_thread *t)
{
	int m = fz_omap_pick(t);

	if (m >= 0)
		fz_own_unmap(t, m);
}

static void op_own_mremap(struct fz_thread *t)
{
	int m = fz_omap_pick(t);
	unsigned long n = 1 + rn(t, FZ_OWN_MAP_PAGES), i;
	struct fz_omap *om;
	char *addr;

	if (m < 0)
		return;
	om = &t->omap[m];
	addr = mremap(om->addr, om->npages * cfg.ps, n * cfg.ps,
		      MREMAP_MAYMOVE);
	if (addr == MAP_FAILED && errno == ENOMEM && n > om->npages) {
		/*
		 * 6.12 cannot grow a VM_SPECIAL vma in place and fails
		 * instead of moving it: move it explicitly.
		 */
		char *to = mmap(NULL, n * cfg.ps, PROT_NONE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (to == MAP_FAILED)
			return;
		addr = mremap(om->addr, om->npages * cfg.ps, n * cfg.ps,
			      MREMAP_MAYMOVE | MREMAP_FIXED, to);
		if (addr == MAP_FAILED)
			munmap(to, n * cfg.ps);
	}
	if (!fz_expect(t, addr == MAP_FAILED ? errno : 0, BIT(FR_OK),
		       "mremap of an owned mapping (%lu -> %lu pages)",
		       om->npages, n))
		return;
	for (i = om->npages; i < n; i++)
		om->priv[i] = 0;
	om->addr = addr;
	om->npages = n;
}

static void op_own_mprotect(struct fz_thread *t)
{
	static const int prots[] = { PROT_NONE, PROT_READ,
		PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE };
	int m = fz_omap_pick(t), prot = prots[rn(t, 4)];

	if (m < 0)
		return;
	if (fz_expect(t, fz_err(mprotect(t->omap[m].addr,
					 t->omap[m].npages * cfg.ps, prot)),
		      BIT(FR_OK), "mprotect of an owned mapping"))
		t->omap[m].prot = prot;
}

/* Expected signal of an access to page @i of owned mapping @om. */
static int fz_omap_sig(struct fz_thread *t, struct fz_omap *om,
		       unsigned long i, bool write)
{
	if (om->prot == PROT_NONE || (write && !(om->prot & PROT_WRITE)))
		return SIGSEGV;
	if (om->pgoff + i >= t->own[om->obj].size)
		return SIGBUS;
	return 0;
}

static void op_own_madvise(struct fz_thread *t)
{
	static const int advs[] = { MADV_DONTNEED, MADV_DONTNEED,
		MADV_WILLNEED, MADV_COLD, MADV_PAGEOUT, MADV_POPULATE_READ,
		MADV_POPULATE_WRITE, MADV_POPULATE_WRITE, MADV_RANDOM,
		MADV_HUGEPAGE };
	int m = fz_omap_pick(t), adv = advs[rn(t, 10)], err;
	struct fz_omap *om;
	struct fz_own *a;
	unsigned long i, s, n, in;
	uint64_t af0;

	if (m < 0)
		return;
	om = &t->omap[m];
	a = &t->own[om->obj];
	s = rn(t, om->npages);
	n = 1 + rn(t, om->npages - s);
	if (adv == MADV_RANDOM || adv == MADV_HUGEPAGE) {
		s = 0;		/* never split the vma: mremap needs one */
		n = om->npages;
	}
	/* Pages of the range inside the size. */
	for (in = 0; in < n && om->pgoff + s + in < a->size; in++)
		;
	if (adv == MADV_POPULATE_READ || adv == MADV_POPULATE_WRITE) {
		if (!in || fz_omap_sig(t, om, s, adv == MADV_POPULATE_WRITE))
			adv = MADV_DONTNEED;
		else
			n = in;
	}
	af0 = fz_alloc_failures(t);
	err = fz_err(madvise(om->addr + s * cfg.ps, n * cfg.ps, adv));
	switch (adv) {
	case MADV_DONTNEED:
		if (fz_expect(t, err, BIT(FR_OK), "madvise(DONTNEED)") &&
		    !om->shared)
			for (i = s; i < s + n; i++)
				om->priv[i] = 0;
		break;
	case MADV_POPULATE_READ:
		fz_expect(t, err, BIT(FR_OK), "madvise(POPULATE_READ) inside the size");
		break;
	case MADV_POPULATE_WRITE:
		if (!om->shared) {
			if (fz_expect(t, err, BIT(FR_OK),
				      "madvise(POPULATE_WRITE) of a private mapping"))
				for (i = s; i < s + n; i++)
					if (!om->priv[i]) {
						om->priv[i] = 1;
						om->pval[i] = a->data[om->pgoff + i];
						om->pit[i] = t->iter;
					}
			break;
		}
		if (err && (err != EFAULT || fz_alloc_failures(t) == af0))
			fz_fail(t, "madvise(POPULATE_WRITE) of a shared mapping inside the size: %s without a pool failure",
				strerror(err));
		for (i = s; i < s + n; i++) {
			unsigned long p = om->pgoff + i;

			if (a->res[p] == 1 && a->dirty[p])
				continue;
			if (err)
				a->res[p] = 2;
			else
				fz_own_write(t, a, p, a->data[p]);
		}
		break;
	}
}

static void op_own_access(struct fz_thread *t)
{
	int m = fz_omap_pick(t), sig, want;
	bool write = chance(t, 50);
	struct fz_omap *om;
	struct fz_own *a;
	unsigned long i, p;
	uint64_t af0 = 0;
	char *page, v;
	uint8_t val = rn(t, 256);

	if (m < 0)
		return;
	om = &t->omap[m];
	a = &t->own[om->obj];
	i = rn(t, om->npages);
	p = om->pgoff + i;
	page = om->addr + i * cfg.ps;
	want = fz_omap_sig(t, om, i, write);
	if (write) {
		if (om->shared && !want)
			af0 = fz_alloc_failures(t);
		sig = fz_fill(page, val, cfg.ps);
	} else {
		sig = fz_read(page + rn(t, cfg.ps), &v);
	}
	fz_count_sig(sig);
	if (sig != want) {
		if (!(write && om->shared && !want && sig == SIGBUS &&
		      fz_alloc_failures(t) != af0))
			fz_fail(t, "%s of page %lu (size %lu) through a %s mapping with prot %#x: %s, expected %s",
				write ? "write" : "read", p, a->size,
				om->shared ? "shared" : "private", om->prot,
				fz_sig_name(sig), fz_sig_name(want));
		return;
	}
	if (sig)
		return;
	if (!write) {
		if ((uint8_t)v != fz_omap_value(t, om, i)) {
			uint8_t st = 0xff;

			if (a->fd >= 0)
				cowdev_page_state(a->fd, p, 1, &st);
			fz_fail(t, "read of page %lu through a %s mapping: %#x, model %#x (%s at iter %lu; page state %#x, model resident %d dirty %d)",
				p, om->shared ? "shared" : "private",
				(uint8_t)v, fz_omap_value(t, om, i),
				!om->shared && om->priv[i] ? "private copy" :
				"view written", !om->shared && om->priv[i] ?
				om->pit[i] : a->wit[p], st, a->res[p],
				a->dirty[p]);
		}
		return;
	}
	if (om->shared) {
		fz_own_write(t, a, p, val);
	} else {
		om->priv[i] = 1;
		om->pval[i] = val;
		om->pit[i] = t->iter;
	}
}

static void op_own_kpath(struct fz_thread *t)
{
	int m = fz_omap_pick(t), kind = rn(t, 6), ferr = EFAULT;
	bool write = !(kind & 1), denied;
	struct fz_omap *om;
	struct fz_own *a;
	unsigned long i, p, k;
	uint64_t af0;
	long r;

	if (m < 0)
		return;
	om = &t->omap[m];
	a = &t->own[om->obj];
	i = rn(t, om->npages);
	p = om->pgoff + i;
	af0 = fz_alloc_failures(t);
	r = fz_kpath(t, om->addr + i * cfg.ps, kind);
	denied = fz_omap_sig(t, om, i, write);
	if (kind >= 4) {
		/* FOLL_FORCE reads anything and writes private copies. */
		ferr = EIO;
		denied = p >= a->size || (write && om->shared &&
					  !(om->prot & PROT_WRITE));
	}
	if (denied) {
		fz_expect(t, r < 0 ? -r : 0, BIT(fz_res(ferr)),
			  "kernel %s (path %d) of page %lu (size %lu), prot %#x",
			  write ? "write" : "read", kind, p, a->size, om->prot);
		return;
	}
	if (r != (long)cfg.ps) {
		if (!(r == -ferr && write && om->shared &&
		      fz_alloc_failures(t) != af0))
			fz_fail(t, "kernel %s (path %d) of page %lu (size %lu) through a %s mapping: %ld",
				write ? "write" : "read", kind, p, a->size,
				om->shared ? "shared" : "private", r);
		return;
	}
	if (write) {
		if (om->shared) {
			fz_own_write(t, a, p, 0x11);
		} else {
			om->priv[i] = 1;
			om->pval[i] = 0x11;
			om->pit[i] = t->iter;
		}
		return;
	}
	for (k = 0; k < cfg.ps; k++)
		if (t->scratch[k] != fz_omap_value(t, om, i)) {
			fz_fail(t, "kernel read (path %d) of page %lu through a %s mapping: byte %lu is %#x, model %#x",
				kind, p, om->shared ? "shared" : "private", k,
				t->scratch[k], fz_omap_value(t, om, i));
			return;
		}
}

static void op_own_check(struct fz_thread *t)
{
	int o = fz_own_pick(t);
	struct cowdev_stats st;
	int r;

	if (o < 0)
		return;
	r = cowdev_get_stats(t->own[o].fd, &st);
	if (fz_expect(t, -r, BIT(FR_OK), "GET_STATS"))
		fz_check_stats(t, o, &st, sizeof(st));
	if (!t->own[o].size)
		return;
	r = cowdev_page_state(t->own[o].fd, 0, t->own[o].size, t->scratch);
	if (fz_expect(t, -r, BIT(FR_OK), "PAGE_STATE of the whole view"))
		fz_check_states(t, o, 0, t->own[o].size, t->scratch);
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

static void fz_loop(struct fz_thread *t)
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

static void fz_thread_init(struct fz_thread *t, const char *who, uint64_t seed,
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
static void fz_thread_fini(struct fz_thread *t)
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

FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
}

FIXTURE_TEARDOWN(fuzz)
{
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

	ksft_print_msg("cowdev_fuzz: seed=%#" PRIx64 " seconds=%g procs=%d threads=%d%s (replay: COWDEV_SEED=%#" PRIx64 ")\n",
		       cfg.seed, cfg.seconds, cfg.procs, cfg.threads,
		       cfg.debugfs ? "" : " (no debugfs)", cfg.seed);
	fflush(stdout);
	fz_signals();
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
