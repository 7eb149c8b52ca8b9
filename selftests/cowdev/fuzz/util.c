// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev_fuzz_test: results, signals, argument arenas, helpers on the
 * module, locking of the shared tables.
 */
#include "fuzz.h"

/* ---- results ---- */


const char *const fz_res_names[FR_NR] = {
	"success", "EFAULT", "EINVAL", "E2BIG", "ENOTTY", "EFBIG", "EMFILE",
	"ENOMEM", "EACCES", "EPERM", "EOVERFLOW", "EAGAIN", "ENXIO", "ENOENT",
	"EIO", "EOPNOTSUPP", "EEXIST", "ENODEV", "ESPIPE", "ENOSPC", "EDQUOT",
	"EBADF", "EBUSY", "EXDEV", "other",
};

int fz_res(int err)
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
	case ENOSPC:
		return FR_ENOSPC;
	case EDQUOT:
		return FR_EDQUOT;
	case EBADF:
		return FR_EBADF;
	case EBUSY:
		return FR_EBUSY;
	case EXDEV:
		return FR_EXDEV;
	default:
		return FR_OTHER;
	}
}

void fz_fail(struct fz_thread *t, const char *fmt, ...)
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
bool fz_expect(struct fz_thread *t, int err, unsigned int set,
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


/* ---- signals: libcowdev's catcher, per thread ---- */

struct fz_fill_arg {
	char *p;
	int v;
	size_t len;
};

static void fz_fill_fn(void *arg)
{
	struct fz_fill_arg *a = arg;

	if (a->len == 1)
		*(volatile char *)a->p = a->v;
	else
		memset(a->p, a->v, a->len);
}

/* Read one byte at @p; 0, SIGBUS or SIGSEGV. */
int fz_read(volatile char *p, char *val)
{
	return cowdev_try_read(p, val);
}

/* Write @len bytes of @v from @p. */
int fz_fill(char *p, int v, size_t len)
{
	struct fz_fill_arg a = { p, v, len };

	return cowdev_try(fz_fill_fn, &a);
}

void fz_count_sig(int sig)
{
	if (sig == SIGBUS)
		__atomic_fetch_add(&cfg.rep->sigbus, 1, __ATOMIC_RELAXED);
	else if (sig == SIGSEGV)
		__atomic_fetch_add(&cfg.rep->sigsegv, 1, __ATOMIC_RELAXED);
}

const char *fz_sig_name(int sig)
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
const int fz_kinds[FZ_ARENA_PAGES] = {
	AK_RW, AK_RW, AK_NONE, AK_RO0, AK_RW, AK_ROX, AK_NONE
};

char *fz_arena_new(void)
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

int fz_kind(const char *a, uintptr_t p)
{
	uintptr_t base = (uintptr_t)a;

	if (p < base || p >= base + FZ_ARENA_PAGES * cfg.ps)
		return AK_NONE;
	return fz_kinds[(p - base) / cfg.ps];
}

void fz_arena_fill(char *a, int v)
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
uintptr_t fz_arena_ptr(struct fz_thread *t, char *a, size_t n)
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
uintptr_t fz_bad_ptr(struct fz_thread *t, size_t n, char *name,
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

void fz_ptr_name(const char *a, uintptr_t p, char *name, size_t len,
		 const char *arena)
{
	snprintf(name, len, "%s page %lu + %lu", arena,
		 (unsigned long)((p - (uintptr_t)a) / cfg.ps),
		 (unsigned long)((p - (uintptr_t)a) % cfg.ps));
}

/* ---- helpers on the module ---- */

long fz_ioctl(int fd, unsigned long cmd, unsigned long arg)
{
	return ioctl(fd, cmd, arg);
}

static int fz_pool_info(int fd, struct cowdev_pool_info *pi)
{
	return cowdev_pool_info(fd, pi);
}

/*
 * The pool's alloc_failures plus swap_errors now (for "SIGBUS because the
 * pool is empty", or because the swap area could not be read or written).
 */
uint64_t fz_alloc_failures(struct fz_thread *t)
{
	struct cowdev_pool_info pi;

	if (fz_pool_info(t->info_fd, &pi))
		return 0;
	return pi.alloc_failures + pi.swap_errors;
}

/*
 * A page-state byte: a hole (0), or a page in the pool (RESIDENT) or in the
 * swap area (SWAPPED), not both, maybe SHARED and DIRTY (PAGE_STATE without
 * COWDEV_PAGE_STATE_WRITTEN: never COWDEV_PAGE_WRITTEN).
 */
bool fz_state_ok(uint8_t s)
{
	if (s & ~(COWDEV_PAGE_RESIDENT | COWDEV_PAGE_SHARED |
		  COWDEV_PAGE_DIRTY | COWDEV_PAGE_SWAPPED))
		return false;
	if ((s & COWDEV_PAGE_RESIDENT) && (s & COWDEV_PAGE_SWAPPED))
		return false;
	return !s || (s & (COWDEV_PAGE_RESIDENT | COWDEV_PAGE_SWAPPED));
}

/* Invariants of a POOL_INFO answer. */
void fz_check_pool(struct fz_thread *t,
		   const struct cowdev_pool_info *pi, size_t have,
		   const char *what)
{
	if (have < sizeof(*pi))
		return;
	if (pi->total_pages != cfg.pool_pages ||
	    pi->total_pages != pi->free_pages + pi->used_pages + 1 ||
	    pi->limbo_pages > pi->used_pages || pi->peak_used < pi->used_pages ||
	    pi->allocs - pi->frees != pi->used_pages || !pi->views ||
	    pi->swap_used > pi->swap_total ||
	    pi->swap_total > cfg.swap_max ||
	    pi->clean_evictions > pi->evictions)
		fz_fail(t, "%s: inconsistent pool info: total %llu free %llu used %llu peak %llu limbo %llu allocs %llu frees %llu views %llu swap %llu of %llu evictions %llu clean %llu",
			what, (unsigned long long)pi->total_pages,
			(unsigned long long)pi->free_pages,
			(unsigned long long)pi->used_pages,
			(unsigned long long)pi->peak_used,
			(unsigned long long)pi->limbo_pages,
			(unsigned long long)pi->allocs,
			(unsigned long long)pi->frees,
			(unsigned long long)pi->views,
			(unsigned long long)pi->swap_used,
			(unsigned long long)pi->swap_total,
			(unsigned long long)pi->evictions,
			(unsigned long long)pi->clean_evictions);
}

/* ---- locking of the shared tables ---- */

void fz_init_locks(void)
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
int fz_obj_rdlock(struct fz_thread *t)
{
	int i = rn(t, FZ_OBJS);

	pthread_rwlock_rdlock(&P.obj[i].lock);
	if (P.obj[i].fd < 0) {
		pthread_rwlock_unlock(&P.obj[i].lock);
		return -1;
	}
	return i;
}

int fz_map_lock(struct fz_thread *t, bool write, bool try)
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
void fz_obj_store(struct fz_thread *t, int fd, bool rd, bool wr,
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

