/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowdev_fuzz_test's private header: the configuration, the shared tables
 * and the per-thread state, randomness, and the functions each part offers
 * the others.  Only main.c includes kselftest_harness.h: the other parts
 * report through fz_fail() and fz_expect().
 *
 *   main.c       configuration, the loop, the test
 *   util.c       results, signals, argument arenas, helpers on the
 *                module, locking of the shared tables
 *   model.c      the owned objects (cowdev_model.h) and checks against them
 *   ioctl_ops.c  op: ioctl (its commands from the COWDEV_IOC_* macros)
 *   obj_ops.c    ops on the shared objects (open, close, dup, clone, ...)
 *   mm_ops.c     ops on the shared mappings
 *   fs_ops.c     debugfs and sysfs
 *   procs.c      processes: fork, clone(CLONE_VM), reaping
 *   own_ops.c    ops on the owned objects
 *   swap_ops.c   the swap area (SWAPON, SWAPOFF), resident limits and the
 *                replacement policy
 *   snap_ops.c   snapshots (DIFF, ROLLBACK, WRITTEN) of the owned objects
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
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

#include "libcowdev.h"
#include "../cowdev_model.h"

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
#define FZ_SWAP_FDS	12	/* files SWAPON is tried with, per process */
#define FZ_SWAP_PAGES	192	/* the largest swap file the fuzzer attaches */

#define BIT(x) (1u << (x))
/*
 * What CLONE may answer: a page that may be pinned is copied for the clone,
 * which needs a pool page (ENOSPC when the pool is empty, EDQUOT when the
 * user is at its limit).
 */
#define FZ_CLONE_OK (BIT(FR_OK) | BIT(FR_ENOSPC) | BIT(FR_EDQUOT))
#ifndef __noreturn
#define __noreturn __attribute__((noreturn))
#endif
#define MIN(a, b) ((a) < (b) ? (a) : (b))

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
_Static_assert(FZ_OWN_PAGES <= COWDEV_MODEL_PAGES,
	       "an owned object is larger than the model");

/* ---- configuration and the cross-process report ---- */

enum fz_op_id {
	OP_IOCTL, OP_SETSIZE, OP_OPEN, OP_CLOSE, OP_DUP, OP_REOPEN, OP_CLONE,
	OP_FDOPS, OP_MMAP, OP_MUNMAP, OP_MREMAP, OP_MPROTECT, OP_MADVISE,
	OP_MSYNC, OP_ACCESS, OP_KPATH, OP_VMSPLICE, OP_DRAIN, OP_DEBUGFS,
	OP_SYSFS, OP_FORK, OP_CLONE_VM, OP_REAP, OP_HOG, OP_RACE,
	OP_OWN_OPEN, OP_OWN_CLOSE, OP_OWN_CLONE, OP_OWN_SETSIZE, OP_OWN_MMAP,
	OP_OWN_MUNMAP, OP_OWN_MREMAP, OP_OWN_MPROTECT, OP_OWN_MADVISE,
	OP_OWN_ACCESS, OP_OWN_KPATH, OP_OWN_CHECK, OP_SWAP, OP_SNAP,
	OP_NR
};

struct fz_report {
	unsigned long iters;
	unsigned long ops[OP_NR];
	unsigned long forks;
	unsigned long sigbus, sigsegv;
	unsigned long ioctl_res[32];	/* ioctl results by FR_* */
	unsigned long swapons;		/* successful SWAPONs, any process */
	unsigned long swapoffs;		/* successful SWAPOFFs */
	int swapoff_running;		/* SWAPOFFs in flight (for reports) */
	unsigned long swap_res[32];	/* SWAPON and SWAPOFF results */
	unsigned int nfail;
	char msg[FZ_MAX_MSGS][FZ_MSG_LEN];
};

struct fz_cfg {
	uint64_t seed;
	double seconds, end;
	int procs, threads;
	unsigned long iters;
	int verbose;
	size_t ps;
	unsigned long max_pages;
	unsigned long pool_pages;
	uint64_t swap_max;	/* largest swap_total POOL_INFO may show */
	bool root;
	bool debugfs;
	struct fz_report *rep;
};
extern struct fz_cfg cfg;

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

struct fz_proc {
	pthread_rwlock_t fork_lock;	/* ops: read; fork and clone_vm: write */
	struct fz_obj obj[FZ_OBJS];
	struct fz_map map[FZ_MAPS];
	pthread_mutex_t dbg_lock[FZ_DBG];
	int dbg_fd[FZ_DBG];
	pthread_mutex_t child_lock;
	struct fz_child child[FZ_CHILDREN];
	int race_fd;			/* a cowdev fd number op_race swaps */
	int depth;
	int swap_fd[FZ_SWAP_FDS];	/* SWAPON candidates (swap_ops.c) */
};
extern struct fz_proc P;

/* ---- per-thread state ---- */

/* fz_own.wr[]: COWDEV_IOC_WRITTEN's bit of a page, as far as known. */
enum { FZ_WR_NO, FZ_WR_YES, FZ_WR_UNKNOWN };

struct fz_own {
	bool live;
	int fd;			/* -1 once closed (mappings may keep it) */
	int nmaps;
	uint64_t limit;		/* resident limit set, 0 for none */
	uint64_t fam;		/* family: the open() the object came from */
	uint64_t vid, root;	/* its view id, and its family's first one's */
	uint8_t wr[COWDEV_MODEL_PAGES];	/* written bits, FZ_WR_* */
	/*
	 * Size, and per page: every byte is the tag, resident (or unknown),
	 * dirty, the pool page's id, the iteration of the last write.
	 */
	struct cowdev_model m;
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
	struct fz_own own[FZ_OWN_OBJS];
	struct fz_omap omap[FZ_OWN_MAPS];
};

extern const char *const fz_op_names[OP_NR];

/* ---- randomness and time ---- */

static inline uint64_t fz_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline uint64_t rnd(struct fz_thread *t)
{
	uint64_t x = t->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static inline unsigned long rn(struct fz_thread *t, unsigned long n)
{
	return n ? rnd(t) % n : 0;
}

static inline bool chance(struct fz_thread *t, unsigned int pct)
{
	return rn(t, 100) < pct;
}


/* ---- results ---- */

enum {
	FR_OK, FR_EFAULT, FR_EINVAL, FR_E2BIG, FR_ENOTTY, FR_EFBIG, FR_EMFILE,
	FR_ENOMEM, FR_EACCES, FR_EPERM, FR_EOVERFLOW, FR_EAGAIN, FR_ENXIO, FR_ENOENT,
	FR_EIO, FR_EOPNOTSUPP, FR_EEXIST, FR_ENODEV, FR_ESPIPE, FR_ENOSPC, FR_EDQUOT,
	FR_EBADF, FR_EBUSY, FR_EXDEV, FR_OTHER, FR_NR
};
_Static_assert(FR_NR <= 32, "results are bits of an unsigned int");

/* errno of a syscall result: 0 on success. */
static inline int fz_err(long ret)
{
	return ret < 0 ? errno : 0;
}

/* ---- argument arenas ---- */

enum { AK_RW, AK_NONE, AK_RO0, AK_ROX };
extern const int fz_kinds[FZ_ARENA_PAGES];
extern const char *const fz_res_names[];

#define FZ_ROX_BYTE 0x5a
#define FZ_GUARD_ARG 0xff
#define FZ_GUARD_BUF 0xa5

/* ---- what the parts offer each other ---- */

/* An op: one random operation of thread @t (the loop's table, main.c). */
typedef void fz_op_fn(struct fz_thread *t);

/* util.c */
int fz_read(volatile char *p, char *val);
int fz_fill(char *p, int v, size_t len);
int fz_res(int err);
void fz_fail(struct fz_thread *t, const char *fmt, ...);
bool fz_expect(struct fz_thread *t, int err, unsigned int set,
	       const char *fmt, ...);
void fz_count_sig(int sig);
const char *fz_sig_name(int sig);
char *fz_arena_new(void);
int fz_kind(const char *a, uintptr_t p);
void fz_arena_fill(char *a, int v);
uintptr_t fz_arena_ptr(struct fz_thread *t, char *a, size_t n);
uintptr_t fz_bad_ptr(struct fz_thread *t, size_t n, char *name,
		     size_t len);
void fz_ptr_name(const char *a, uintptr_t p, char *name, size_t len,
		 const char *arena);
long fz_ioctl(int fd, unsigned long cmd, unsigned long arg);
uint64_t fz_alloc_failures(struct fz_thread *t);
bool fz_state_ok(uint8_t s);
void fz_check_pool(struct fz_thread *t,
		   const struct cowdev_pool_info *pi, size_t have,
		   const char *what);
void fz_init_locks(void);
int fz_obj_rdlock(struct fz_thread *t);
int fz_map_lock(struct fz_thread *t, bool write, bool try);
void fz_obj_store(struct fz_thread *t, int fd, bool rd, bool wr,
		  bool clone, int not);

/* model.c */
void fz_own_write(struct fz_thread *t, struct fz_own *o,
		  unsigned long p, uint8_t v);
void fz_own_write_failed(struct fz_own *o, unsigned long p);
uint64_t fz_own_new_family(void);
void fz_own_free_if_unused(struct fz_thread *t, int o);
void fz_own_resize(struct fz_thread *t, int o, unsigned long size);
void fz_own_unmap(struct fz_thread *t, int m);
void fz_own_drop(struct fz_thread *t, int o);
void fz_own_cloned(struct fz_thread *t, int o, int c, int fd);
int fz_own_free_slot(struct fz_thread *t);
int fz_own_pick(struct fz_thread *t);
int fz_omap_pick(struct fz_thread *t);
struct fz_omap *fz_omap_pick_obj(struct fz_thread *t, struct fz_own **a);
void fz_omap_priv_write(struct fz_thread *t, struct fz_omap *om,
			unsigned long i, uint8_t v);
uint8_t fz_omap_value(struct fz_thread *t, struct fz_omap *om,
		      unsigned long i);
void fz_check_states(struct fz_thread *t, int o, uint64_t start,
		     uint64_t count, const uint8_t *map);
void fz_check_stats(struct fz_thread *t, int o,
		    const struct cowdev_stats *st, size_t have);

/* ioctl_ops.c */
fz_op_fn op_ioctl;
uint64_t fz_gen_bytes(struct fz_thread *t, bool own);

/* obj_ops.c */
fz_op_fn op_setsize, op_open, op_close, op_dup, op_reopen, op_clone, op_fdops;

/* mm_ops.c */
fz_op_fn op_mmap, op_race, op_munmap, op_mremap, op_mprotect, op_madvise,
	 op_msync, op_access, op_kpath, op_vmsplice, op_drain, op_hog;
void fz_map_clear(struct fz_map *m);
long fz_kpath(struct fz_thread *t, char *page, int kind);

/* fs_ops.c */
fz_op_fn op_debugfs, op_sysfs;

/* procs.c */
fz_op_fn op_reap, op_fork, op_clone_vm;
void fz_proc_cleanup(struct fz_thread *t);
void fz_check_child(struct fz_thread *t, const char *who, int st);
void fz_reap(struct fz_thread *t, bool wait);

/* own_ops.c */
fz_op_fn op_own_open, op_own_close, op_own_clone, op_own_setsize,
	 op_own_mmap, op_own_munmap, op_own_mremap, op_own_mprotect,
	 op_own_madvise, op_own_access, op_own_kpath, op_own_check;

/* snap_ops.c */
fz_op_fn op_snap;
uint64_t fz_view_id(int fd);
void fz_report_rollback(struct fz_thread *t, int own, int fd, int snap);
unsigned int fz_diff_set(struct fz_thread *t, int own, long size,
			 const struct cowdev_diff *d, int bufcls);
unsigned int fz_rollback_set(struct fz_thread *t, int own, int fd,
			     const struct cowdev_rollback *rb);
unsigned int fz_written_set(long size, const struct cowdev_written *w,
			    int bufcls);
void fz_check_diff(struct fz_thread *t, uint64_t count,
		   const struct cowdev_diff *d, const uint8_t *map);
void fz_check_written(struct fz_thread *t, int own,
		      const struct cowdev_written *w, const uint8_t *bits);

/* swap_ops.c */
fz_op_fn op_swap;
void fz_swap_init(void);
unsigned int fz_swapon_set(int fd, uint32_t flags, bool *attaches);
int fz_swap_fd(struct fz_thread *t, bool valid);
uint64_t fz_gen_limit(struct fz_thread *t);
bool fz_swap_seen(void);
uint64_t fz_own_failures(struct fz_thread *t, const struct fz_own *a);

/* main.c */
double fz_now(void);
void fz_loop(struct fz_thread *t);
void fz_thread_init(struct fz_thread *t, const char *who, uint64_t seed,
		    double end, unsigned long max_iters);
void fz_thread_fini(struct fz_thread *t);

#endif /* FUZZ_H */
