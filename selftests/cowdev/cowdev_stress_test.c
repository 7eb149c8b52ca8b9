// SPDX-License-Identifier: GPL-2.0
/*
 * Stress of module-owned copy-on-write: worker threads and short
 * lived child processes do random writes (through mappings and through
 * /proc/self/mem, process_vm_writev and read() from a pipe), reads (the same
 * ways, and through fresh shared and private mappings), clones, closes,
 * opens, SET_SIZE, munmap + mmap and MADV_DONTNEED, for a bounded time, and
 * check every view's content against a model kept in userspace.
 *
 * The model (cowdev_model.h, shared with the fuzzer): each view slot holds
 * one stamp per 512-byte chunk of each page (0 = never written: zeros);
 * every write takes a new, globally unique stamp and fills the chunks it
 * covers with words (stamp << 12 | page << 3 | chunk), so a word read back
 * names the write, the page and the chunk it came from.  A clone copies the
 * source's model.
 *
 * Exactness under concurrency: a page is written or checked under its view's
 * rwlock (read) and the page's mutex, so writes to different pages of one
 * view and to different views run in parallel (the kernel sees concurrent
 * faults, COW breaks of one shared page from several views, copies racing
 * with reuses); clone, close, SET_SIZE and the page-state check take the
 * view's rwlock for write, so a snapshot never has a write in flight and
 * matches the model.  munmap + mmap of one of a view's mappings and
 * MADV_DONTNEED do not take the view's lock: they race with faults through
 * the view's other mappings (and, for MADV_DONTNEED, the same mapping).
 * Child processes are forked while the others run (fork copies cowdev's ptes),
 * work on the views that were live at the fork through their own mappings,
 * take clones of their own and exit, releasing what they held.
 *
 * At the end every view is checked, everything is closed and the pool's
 * used_pages must be back at its value before the test.
 *
 * COWDEV_STRESS_SECONDS (default 8) sets the duration, COWDEV_SEED the seed
 * (printed; the interleaving of threads is not reproducible, the choices of
 * each thread are).
 *
 * The swap mode (second test, root only) runs the same operations with a
 * swap area attached (a file under COWDEV_SWAP_DIR, default /tmp, removed
 * at once: the module keeps it open) over views of SWAP_NP pages, each with
 * a resident limit of a few dozen pages (COWDEV_IOC_SET_RESIDENT_LIMIT, set
 * at open and clone and changed at random), so that every view is several
 * times the memory it may hold: writes and reads evict pages of their own
 * view to the swap area and read them back, clones share swapped-out pages,
 * shrinks free their slots, from the threads and the child processes.  The
 * model is the same; a page of the model is one the view holds in the pool
 * or in the swap area (PAGE_STATE RESIDENT or SWAPPED, resident_pages +
 * swapped_pages).  At the end every slot must be free again before the
 * area is detached.  It runs for COWDEV_STRESS_SWAP_SECONDS (default half
 * of COWDEV_STRESS_SECONDS, at least 1).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <time.h>
#include <dirent.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"
#include "cowdev_model.h"

#define MAXV		8	/* view slots */
#define COW_NP		32	/* the largest view size (COW mode) */
#define SWAP_NP		256	/* the largest view size (swap mode) */
#define NP_MAX		SWAP_NP
#define SWAP_SLOTS	8192	/* the swap area of the swap mode, in pages */
#define NCHUNK		COWDEV_MODEL_CHUNKS	/* chunks per page */
#define NMAP		3	/* mappings of each view in the parent */
#define NTHREADS	4	/* worker threads */
#define NCHILDREN	2	/* child processes alive at once */
#define MAXFAIL_LOG	10	/* mismatch reports printed */

enum slot_state { FREE, RESERVED, LIVE };

enum op {
	OP_WRITE, OP_READ, OP_CHECK_VIEW, OP_CLONE, OP_CLOSE, OP_OPEN,
	OP_DONTNEED, OP_REMAP, OP_SET_SIZE, OP_STATE, OP_FORK,
	OP_CHILD_WRITE, OP_CHILD_READ, OP_CHILD_CLONE, OP_CHILD_LOCAL,
	OP_LIMIT, NR_OPS
};

static const char *const op_names[NR_OPS] = {
	"write", "read", "check_view", "clone", "close", "open", "dontneed",
	"remap", "set_size", "page_state", "fork", "child_write",
	"child_read", "child_clone", "child_local_op", "resident_limit",
};

_Static_assert(NP_MAX <= COWDEV_MODEL_PAGES, "a view is larger than the model");

/* The mode of this run: view sizes, and the swap area with its limits. */
static struct {
	unsigned int np;	/* pages per mapping; the largest view size */
	int swap;
} mode = { .np = COW_NP };

/* One view slot, in memory shared with the child processes. */
struct view {
	pthread_rwlock_t lock;
	pthread_mutex_t page_lock[NP_MAX];
	int state;		/* under lock (write) and the table lock */
	uint64_t gen;		/* bumped each time the slot gets a view */
	int fd;			/* the parent's fd */
	struct cowdev_model model;	/* and the size */
};

struct shared {
	pthread_mutex_t table;	/* slot states, live count, fork */
	int live;
	struct view v[MAXV];
	_Atomic uint64_t stamp;
	_Atomic uint64_t ops[NR_OPS];
	_Atomic uint64_t copies, reuses, demand;
	_Atomic uint64_t state_retries;	/* check_state looked again */
	_Atomic int failures;
	_Atomic int logged;
	_Atomic int stop;
};

/* A mapping of a view in the parent: pages [off, off + len) at addr. */
struct mapping {
	pthread_rwlock_t lock;
	char *addr;
	unsigned int off, len;
};

/* What one thread (or child process) works with. */
struct worker {
	int id;
	uint64_t rng;
	int mem;		/* /proc/self/mem */
	int how;		/* the way the last put() or get() went */
	int pipe[2];
	char *buf, *rbuf, *ebuf;	/* one page each */
	pthread_t thread;
	_Atomic int op;		/* the op it is in, for a hang report */
	_Atomic uint64_t nops;
};

static struct shared *sh;
static struct mapping maps[MAXV][NMAP];	/* parent only */
static size_t ps, cs;			/* page and chunk size */
static double t_end;
static uint64_t seed;

static uint64_t rnd(struct worker *w)
{
	/* xorshift64* */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 0x2545F4914F6CDD1DULL;
}

static unsigned int rnd_below(struct worker *w, unsigned int n)
{
	return (rnd(w) >> 16) % n;
}

static void count(enum op op)
{
	atomic_fetch_add(&sh->ops[op], 1);
}

/* Report a failure (async-signal-safe enough for a forked child). */
static void fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	atomic_fetch_add(&sh->failures, 1);
	atomic_store(&sh->stop, 1);
	if (atomic_fetch_add(&sh->logged, 1) >= MAXFAIL_LOG)
		return;
	n = snprintf(msg, sizeof(msg), "# FAIL (pid %d): ", getpid());
	va_start(ap, fmt);
	n += vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(msg) - 2)
		n = sizeof(msg) - 2;
	msg[n++] = '\n';
	if (write(2, msg, n) < 0)
		return;
}

/* Compare @got (the whole page @page) with the model. */
static int compare(const char *what, int slot, uint64_t gen,
		   unsigned int page, const struct cowdev_model *model,
		   const char *got)
{
	const uint64_t *gw = (const uint64_t *)got;
	unsigned int c, i;

	if (!cowdev_model_compare(model, page, got, &c, &i))
		return 0;
	gw += c * (cs / 8) + i;
	fail("%s: slot %d gen %" PRIu64 " page %u chunk %u word %u: got %#" PRIx64
	     " (stamp %" PRIu64 " page %u chunk %u), want stamp %" PRIu64,
	     what, slot, gen, page, c, i, *gw, *gw >> 12,
	     (unsigned int)(*gw >> 3) & 511,
	     (unsigned int)*gw & 7, model->pg[page].tag[c]);
	return -1;
}

/* Write @len bytes from @buf to @dst in this process, one of four ways. */
static int put(struct worker *w, char *dst, const char *buf, size_t len)
{
	struct iovec local = { (void *)buf, len }, remote = { dst, len };

	switch ((w->how = rnd_below(w, 4))) {
	case 0:
		memcpy(dst, buf, len);
		return 0;
	case 1:
		return pwrite(w->mem, buf, len, (off_t)(uintptr_t)dst) ==
		       (ssize_t)len ? 0 : -1;
	case 2:
		return process_vm_writev(getpid(), &local, 1, &remote, 1, 0) ==
		       (ssize_t)len ? 0 : -1;
	default:
		if (write(w->pipe[1], buf, len) != (ssize_t)len)
			return -1;
		return read(w->pipe[0], dst, len) == (ssize_t)len ? 0 : -1;
	}
}

/* Read @len bytes at @src into @buf, one of four ways. */
static int get(struct worker *w, char *buf, const char *src, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)src, len };

	switch ((w->how = rnd_below(w, 4))) {
	case 0:
		memcpy(buf, src, len);
		return 0;
	case 1:
		return pread(w->mem, buf, len, (off_t)(uintptr_t)src) ==
		       (ssize_t)len ? 0 : -1;
	case 2:
		return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) ==
		       (ssize_t)len ? 0 : -1;
	default:
		if (write(w->pipe[1], src, len) != (ssize_t)len)
			return -1;
		return read(w->pipe[0], buf, len) == (ssize_t)len ? 0 : -1;
	}
}

static const char *const how_names[] = {
	"memcpy", "/proc/self/mem", "process_vm_readv/writev", "a pipe",
};

static int local_fd = -1;	/* a child's own clone, for diag() */

/*
 * Swap mode, for the report of an access that failed: what the module says
 * of slot @slot's view (-1: the child's own clone) and of the pool, and
 * whether reading a byte of @page_addr again works.
 */
static void diag(char *buf, size_t len, int slot, const char *page_addr)
{
	int fd = slot >= 0 ? sh->v[slot].fd : local_fd;
	struct cowdev_pool_info pi;
	struct cowdev_stats st;
	char c;
	int sig;

	buf[0] = 0;
	if (!mode.swap)
		return;
	sig = cowdev_try_read(page_addr, &c);
	if (fd < 0 || cowdev_get_stats(fd, &st) || cowdev_pool_info(fd, &pi)) {
		snprintf(buf, len, "; a read again: %s",
			 sig ? strsignal(sig) : "ok");
		return;
	}
	snprintf(buf, len, "; a read again: %s; view: resident %" PRIu64
		 " swapped %" PRIu64 " limit %" PRIu64 " sigbus %" PRIu64
		 " pool_failures %" PRIu64 " major %" PRIu64 "; pool: free %"
		 PRIu64 " alloc_failures %" PRIu64 " swap_errors %" PRIu64
		 " swap %" PRIu64 "/%" PRIu64, sig ? strsignal(sig) : "ok",
		 (uint64_t)st.resident_pages, (uint64_t)st.swapped_pages,
		 (uint64_t)st.resident_limit, (uint64_t)st.sigbus,
		 (uint64_t)st.pool_failures, (uint64_t)st.major_faults,
		 (uint64_t)pi.free_pages, (uint64_t)pi.alloc_failures,
		 (uint64_t)pi.swap_errors, (uint64_t)pi.swap_used,
		 (uint64_t)pi.swap_total);
}

/*
 * Write chunks of page @p at @page_addr (the view's page @p in some
 * mapping) with a new stamp and update @model; the caller holds what makes
 * the page's model exact.
 */
static int write_page(struct worker *w, char *page_addr, unsigned int p,
		      struct cowdev_model *model, const char *what, int slot,
		      uint64_t gen)
{
	unsigned int c0, c1;
	uint64_t stamp;

	if (rnd_below(w, 2)) {
		c0 = 0;
		c1 = NCHUNK;
	} else {
		c0 = rnd_below(w, NCHUNK);
		c1 = c0 + 1 + rnd_below(w, NCHUNK - c0);
	}
	stamp = atomic_fetch_add(&sh->stamp, 1) + 1;
	cowdev_model_build(w->buf, p, c0, c1, stamp);
	if (put(w, page_addr + c0 * cs, w->buf, (c1 - c0) * cs)) {
		int err = errno;
		char more[400];

		diag(more, sizeof(more), slot, page_addr);
		fail("%s: slot %d gen %" PRIu64 " page %u: write through %s failed: %s%s",
		     what, slot, gen, p, how_names[w->how], strerror(err), more);
		return -1;
	}
	cowdev_model_write(model, p, c0, c1, stamp, 0);
	return 0;
}

/* Read page @p at @page_addr and compare it with @model. */
static int read_page(struct worker *w, const char *page_addr, unsigned int p,
		     const struct cowdev_model *model, const char *what, int slot,
		     uint64_t gen)
{
	if (get(w, w->rbuf, page_addr, ps)) {
		int err = errno;
		char more[400];

		diag(more, sizeof(more), slot, page_addr);
		fail("%s: slot %d gen %" PRIu64 " page %u: read through %s failed: %s%s",
		     what, slot, gen, p, how_names[w->how], strerror(err), more);
		return -1;
	}
	return compare(what, slot, gen, p, model, w->rbuf);
}

/* ---- the parent's operations -------------------------------------- */

static int pick_slot(struct worker *w)
{
	return rnd_below(w, MAXV);
}

/*
 * Swap mode: give view @fd a resident limit of a few dozen pages, a small
 * part of its SWAP_NP pages (never so few that the threads and children
 * faulting on it at once could hold every page it has).
 */
static void set_limit(struct worker *w, int fd, const char *what)
{
	static const unsigned int limits[] = { 16, 24, 32, 32, 48, 64 };
	unsigned int limit;
	int err;

	if (!mode.swap)
		return;
	limit = limits[rnd_below(w, sizeof(limits) / sizeof(limits[0]))];
	err = cowdev_set_resident_limit(fd, limit);
	if (err)
		fail("%s: SET_RESIDENT_LIMIT %u: %s", what, limit,
		     strerror(-err));
}

/*
 * Take a read lock on one of slot @s's mappings that covers page @p;
 * returns the page's address in it, or NULL (nothing locked).
 */
static char *lock_mapping_for(struct worker *w, int s, unsigned int p,
			      struct mapping **locked)
{
	unsigned int k, first = rnd_below(w, NMAP);

	for (k = 0; k < NMAP; k++) {
		struct mapping *m = &maps[s][(first + k) % NMAP];

		pthread_rwlock_rdlock(&m->lock);
		if (m->addr && p >= m->off && p < m->off + m->len) {
			*locked = m;
			return m->addr + (size_t)(p - m->off) * ps;
		}
		pthread_rwlock_unlock(&m->lock);
	}
	return NULL;
}

static void op_write_or_read(struct worker *w, int write)
{
	int s = pick_slot(w);
	struct view *v = &sh->v[s];
	struct mapping *m;
	unsigned int p;
	char *addr;

	pthread_rwlock_rdlock(&v->lock);
	if (v->state != LIVE || !v->model.size)
		goto out;
	p = rnd_below(w, v->model.size);
	addr = lock_mapping_for(w, s, p, &m);
	if (!addr)
		goto out;
	pthread_mutex_lock(&v->page_lock[p]);
	if (write)
		write_page(w, addr, p, &v->model, "write", s, v->gen);
	else
		read_page(w, addr, p, &v->model, "read", s, v->gen);
	pthread_mutex_unlock(&v->page_lock[p]);
	pthread_rwlock_unlock(&m->lock);
	count(write ? OP_WRITE : OP_READ);
out:
	pthread_rwlock_unlock(&v->lock);
}

/* Check a whole view through a new shared or private mapping. */
static void op_check_view(struct worker *w)
{
	int s = pick_slot(w), priv = rnd_below(w, 2);
	struct view *v = &sh->v[s];
	unsigned int p;
	char *m;

	pthread_rwlock_rdlock(&v->lock);
	if (v->state != LIVE || !v->model.size)
		goto out;
	m = mmap(NULL, v->model.size * ps, PROT_READ,
		 priv ? MAP_PRIVATE : MAP_SHARED, v->fd, 0);
	if (m == MAP_FAILED) {
		fail("check_view: mmap slot %d: %s", s, strerror(errno));
		goto out;
	}
	for (p = 0; p < v->model.size; p++) {
		pthread_mutex_lock(&v->page_lock[p]);
		read_page(w, m + p * ps, p, &v->model,
			  priv ? "check_view (private)" : "check_view", s,
			  v->gen);
		pthread_mutex_unlock(&v->page_lock[p]);
	}
	munmap(m, v->model.size * ps);
	count(OP_CHECK_VIEW);
out:
	pthread_rwlock_unlock(&v->lock);
}

/* Map slot @s's mappings (the slot is not LIVE yet, or we hold it). */
static void map_slot(int s, int fd)
{
	int k;

	for (k = 0; k < NMAP; k++) {
		struct mapping *m = &maps[s][k];
		char *a;

		pthread_rwlock_wrlock(&m->lock);
		m->off = k == 0 ? 0 : k * 5;
		m->len = mode.np - m->off;
		a = mmap(NULL, m->len * ps, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, m->off * ps);
		m->addr = a == MAP_FAILED ? NULL : a;
		if (!m->addr)
			fail("mmap of a new view: %s", strerror(errno));
		pthread_rwlock_unlock(&m->lock);
	}
}

static void unmap_slot(int s)
{
	int k;

	for (k = 0; k < NMAP; k++) {
		struct mapping *m = &maps[s][k];

		pthread_rwlock_wrlock(&m->lock);
		if (m->addr)
			munmap(m->addr, m->len * ps);
		m->addr = NULL;
		pthread_rwlock_unlock(&m->lock);
	}
}

static int reserve_slot(void)
{
	int s, found = -1;

	pthread_mutex_lock(&sh->table);
	for (s = 0; s < MAXV; s++) {
		if (sh->v[s].state == FREE) {
			sh->v[s].state = RESERVED;
			found = s;
			break;
		}
	}
	pthread_mutex_unlock(&sh->table);
	return found;
}

/* Make reserved slot @d live with view @fd and @model (and its size). */
static void publish(int d, int fd, const struct cowdev_model *model)
{
	struct view *v = &sh->v[d];

	map_slot(d, fd);
	pthread_rwlock_wrlock(&v->lock);
	v->fd = fd;
	v->model = *model;
	pthread_mutex_lock(&sh->table);
	v->gen++;
	v->state = LIVE;
	sh->live++;
	pthread_mutex_unlock(&sh->table);
	pthread_rwlock_unlock(&v->lock);
}

static void unreserve(int d)
{
	pthread_mutex_lock(&sh->table);
	sh->v[d].state = FREE;
	pthread_mutex_unlock(&sh->table);
}

static void op_clone(struct worker *w)
{
	static __thread struct cowdev_model model;
	int s = pick_slot(w), d, fd = -1;
	struct view *v = &sh->v[s];

	d = reserve_slot();
	if (d < 0)
		return;
	pthread_rwlock_wrlock(&v->lock);
	if (v->state == LIVE) {
		fd = cowdev_clone(v->fd);
		if (fd < 0)
			fail("clone of slot %d: %s", s, strerror(-fd));
		cowdev_model_clone(&v->model, &model);
	}
	pthread_rwlock_unlock(&v->lock);
	if (fd < 0) {
		unreserve(d);
		return;
	}
	set_limit(w, fd, "clone");
	publish(d, fd, &model);
	count(OP_CLONE);
}

static void op_open(struct worker *w)
{
	static __thread struct cowdev_model model;
	unsigned int size = 1 + rnd_below(w, mode.np);
	int d, fd, err;

	d = reserve_slot();
	if (d < 0)
		return;
	fd = cowdev_open();
	if (fd < 0) {
		fail("open: %s", strerror(-fd));
		unreserve(d);
		return;
	}
	err = cowdev_set_size(fd, size * ps);
	if (err) {
		fail("set_size of a new view: %s", strerror(-err));
		close(fd);
		unreserve(d);
		return;
	}
	set_limit(w, fd, "open");
	cowdev_model_init(&model, size);
	publish(d, fd, &model);
	count(OP_OPEN);
}

/* Close slot @s's view if it is live (and, unless @force, not one of the
 * last two).
 */
static void close_slot(int s, int force)
{
	struct view *v = &sh->v[s];
	struct cowdev_stats st;
	int fd = -1;

	pthread_rwlock_wrlock(&v->lock);
	if (v->state != LIVE)
		goto out;
	pthread_mutex_lock(&sh->table);
	if (!force && sh->live <= 2) {
		pthread_mutex_unlock(&sh->table);
		goto out;
	}
	/* Not FREE before its mappings are gone: a new view could take it. */
	v->state = RESERVED;
	sh->live--;
	fd = v->fd;
	pthread_mutex_unlock(&sh->table);
	unmap_slot(s);
	if (!cowdev_get_stats(fd, &st)) {
		atomic_fetch_add(&sh->copies, st.cow_copies);
		atomic_fetch_add(&sh->reuses, st.cow_reuses);
		atomic_fetch_add(&sh->demand, st.demand_allocs);
	}
	close(fd);
	unreserve(s);
out:
	pthread_rwlock_unlock(&v->lock);
	if (fd >= 0)
		count(OP_CLOSE);
}

static void op_dontneed(struct worker *w)
{
	struct mapping *m = &maps[pick_slot(w)][rnd_below(w, NMAP)];
	unsigned int first, n;

	pthread_rwlock_rdlock(&m->lock);
	if (m->addr) {
		first = rnd_below(w, m->len);
		n = 1 + rnd_below(w, m->len - first);
		if (madvise(m->addr + first * ps, n * ps, MADV_DONTNEED))
			fail("madvise: %s", strerror(errno));
		else
			count(OP_DONTNEED);
	}
	pthread_rwlock_unlock(&m->lock);
}

/* munmap one mapping of a view and map it again, maybe at another offset. */
static void op_remap(struct worker *w)
{
	int s = pick_slot(w), k = rnd_below(w, NMAP);
	struct view *v = &sh->v[s];
	struct mapping *m = &maps[s][k];
	char *a;

	pthread_rwlock_rdlock(&v->lock);
	if (v->state != LIVE)
		goto out;
	pthread_rwlock_wrlock(&m->lock);
	if (m->addr)
		munmap(m->addr, m->len * ps);
	m->off = k == 0 ? 0 : rnd_below(w, mode.np);
	m->len = mode.np - m->off;
	a = mmap(NULL, m->len * ps, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd,
		 m->off * ps);
	m->addr = a == MAP_FAILED ? NULL : a;
	if (!m->addr)
		fail("remap of slot %d: %s", s, strerror(errno));
	pthread_rwlock_unlock(&m->lock);
	count(OP_REMAP);
out:
	pthread_rwlock_unlock(&v->lock);
}

static void op_set_size(struct worker *w)
{
	int s = pick_slot(w), err;
	struct view *v = &sh->v[s];
	unsigned int size = 1 + rnd_below(w, mode.np);

	pthread_rwlock_wrlock(&v->lock);
	if (v->state != LIVE)
		goto out;
	err = cowdev_set_size(v->fd, size * ps);
	if (err) {
		fail("set_size slot %d: %s", s, strerror(-err));
		goto out;
	}
	cowdev_model_resize(&v->model, size, 0);
	count(OP_SET_SIZE);
out:
	pthread_rwlock_unlock(&v->lock);
}

/* Swap mode: a new resident limit for a live view (its contents stay). */
static void op_limit(struct worker *w)
{
	int s = pick_slot(w);
	struct view *v = &sh->v[s];

	pthread_rwlock_rdlock(&v->lock);
	if (v->state == LIVE) {
		set_limit(w, v->fd, "resident_limit");
		count(OP_LIMIT);
	}
	pthread_rwlock_unlock(&v->lock);
}

/*
 * The page-state map and the gauges against the model: a page is resident
 * exactly when some chunk was written; SHARED and DIRTY only on resident
 * pages, never both (a page becomes shared only by a clone of this view,
 * which we exclude, and a clone clears DIRTY).  And the pool's balance.
 *
 * Swap mode: a written page is RESIDENT (in the pool) or SWAPPED (in the
 * swap area), never both; resident_pages and swapped_pages count them.
 * Faults through a clone that shares pages with this view may move a
 * shared page between the pool and the swap area while we look (eviction
 * zaps it in every view, a page-in brings it back for every view), so the
 * counts are compared again, a few times, before a difference is a failure.
 */
static void check_state(int fd, const struct cowdev_model *model,
			const char *what, int slot)
{
	const uint8_t known = COWDEV_PAGE_RESIDENT | COWDEV_PAGE_SHARED |
			      COWDEV_PAGE_DIRTY |
			      (mode.swap ? COWDEV_PAGE_SWAPPED : 0);
	struct cowdev_pool_info pi;
	struct cowdev_stats st;
	unsigned int p, size = model->size, nres, nin, nout, tries = 0;
	uint8_t map[NP_MAX];
	int err, ok, bad;

again:
	nres = nin = nout = bad = 0;
	err = cowdev_page_state(fd, 0, size, map);
	if (err) {
		fail("%s: page_state slot %d: %s", what, slot, strerror(-err));
		return;
	}
	for (p = 0; p < size; p++) {
		int res = cowdev_model_resident(model, p);
		uint8_t b = map[p];
		int held = !!(b & (COWDEV_PAGE_RESIDENT | COWDEV_PAGE_SWAPPED));

		nres += res;
		nin += !!(b & COWDEV_PAGE_RESIDENT);
		nout += !!(b & COWDEV_PAGE_SWAPPED);
		if (held != res || (b & ~known) ||
		    ((b & COWDEV_PAGE_RESIDENT) && (b & COWDEV_PAGE_SWAPPED)) ||
		    ((b & COWDEV_PAGE_SHARED) && (b & COWDEV_PAGE_DIRTY))) {
			fail("%s: slot %d page %u: state %#x, model %s", what,
			     slot, p, b, res ? "written" : "hole");
			bad = 1;
		}
	}
	err = cowdev_get_stats(fd, &st);
	ok = !err && st.resident_pages + st.swapped_pages == nres &&
	     st.size_pages == size && st.shared_pages <= st.resident_pages;
	if (mode.swap)
		ok = ok && st.resident_pages == nin && st.swapped_pages == nout;
	if (!ok && mode.swap && !bad && !err && st.size_pages == size &&
	    ++tries < 5) {
		atomic_fetch_add(&sh->state_retries, 1);
		usleep(1000);
		goto again;
	}
	if (!ok)
		fail("%s: slot %d: resident %" PRIu64 " swapped %" PRIu64
		     " (model %u pages; the map: %u resident, %u swapped) shared %"
		     PRIu64 " size %" PRIu64 " (model %u)", what, slot,
		     (uint64_t)st.resident_pages, (uint64_t)st.swapped_pages,
		     nres, nin, nout, (uint64_t)st.shared_pages,
		     (uint64_t)st.size_pages, size);
	if (cowdev_pool_info(fd, &pi) ||
	    pi.total_pages != pi.free_pages + pi.used_pages + 1)
		fail("pool: total %" PRIu64 " free %" PRIu64 " used %" PRIu64,
		     (uint64_t)pi.total_pages, (uint64_t)pi.free_pages,
		     (uint64_t)pi.used_pages);
	if (mode.swap && !pi.swap_total)
		fail("pool: the swap area is gone (swap_total 0)");
	if (mode.swap && pi.swap_used > pi.swap_total)
		fail("pool: swap_used %" PRIu64 " of %" PRIu64 " slots",
		     (uint64_t)pi.swap_used, (uint64_t)pi.swap_total);
}

static void op_state(struct worker *w)
{
	int s = pick_slot(w);
	struct view *v = &sh->v[s];

	pthread_rwlock_wrlock(&v->lock);
	if (v->state == LIVE) {
		check_state(v->fd, &v->model, "page_state", s);
		count(OP_STATE);
	}
	pthread_rwlock_unlock(&v->lock);
}

/* ---- child processes ---------------------------------------------- */

struct child_view {
	int slot;
	uint64_t gen;
	int fd;
	char *map;
	int dead;
};

/* A clone of the child's own, with a private model. */
struct local_view {
	int fd;
	char *map;
	struct cowdev_model model;	/* and the size */
};

static int child_lock(struct child_view *cv, int wr)
{
	struct view *v = &sh->v[cv->slot];

	if (cv->dead)
		return -1;
	if (wr)
		pthread_rwlock_wrlock(&v->lock);
	else
		pthread_rwlock_rdlock(&v->lock);
	if (v->state == LIVE && v->gen == cv->gen && v->model.size)
		return 0;
	pthread_rwlock_unlock(&v->lock);
	cv->dead = 1;
	return -1;
}

static void local_check_all(struct worker *w, struct local_view *lv)
{
	unsigned int p;

	for (p = 0; p < lv->model.size; p++)
		read_page(w, lv->map + p * ps, p, &lv->model,
			  "child local clone", -1, 0);
	check_state(lv->fd, &lv->model, "child local clone", -1);
}

static void local_close(struct worker *w, struct local_view *lv)
{
	local_check_all(w, lv);
	munmap(lv->map, mode.np * ps);
	close(lv->fd);
	lv->fd = -1;
}

static void child_op(struct worker *w, struct child_view *cvs, int n,
		     struct local_view *lv)
{
	struct child_view *cv = &cvs[rnd_below(w, n)];
	unsigned int r = rnd_below(w, 100), p;
	struct view *v = &sh->v[cv->slot];

	if (r < 10 && lv->fd >= 0) {
		/* Work on the local clone. */
		p = rnd_below(w, lv->model.size);
		if (r < 1)
			local_close(w, lv);
		else if (r < 6)
			write_page(w, lv->map + p * ps, p, &lv->model,
				   "child local write", -1, 0);
		else
			read_page(w, lv->map + p * ps, p, &lv->model,
				  "child local read", -1, 0);
		count(OP_CHILD_LOCAL);
		return;
	}
	if (r < 10) {
		/* Take a clone of our own. */
		if (child_lock(cv, 1))
			return;
		lv->fd = cowdev_clone(v->fd);
		local_fd = lv->fd;
		if (lv->fd < 0) {
			fail("child clone of slot %d: %s", cv->slot,
			     strerror(-lv->fd));
		} else {
			cowdev_model_clone(&v->model, &lv->model);
		}
		pthread_rwlock_unlock(&v->lock);
		if (lv->fd < 0)
			return;
		set_limit(w, lv->fd, "child clone");
		lv->map = mmap(NULL, mode.np * ps, PROT_READ | PROT_WRITE,
			       MAP_SHARED, lv->fd, 0);
		if (lv->map == MAP_FAILED) {
			fail("child mmap of its clone: %s", strerror(errno));
			close(lv->fd);
			lv->fd = -1;
			return;
		}
		local_check_all(w, lv);
		count(OP_CHILD_CLONE);
		return;
	}
	if (r < 15) {
		madvise(cv->map, mode.np * ps, MADV_DONTNEED);
		return;
	}
	if (child_lock(cv, 0))
		return;
	p = rnd_below(w, v->model.size);
	pthread_mutex_lock(&v->page_lock[p]);
	if (r < 65)
		write_page(w, cv->map + p * ps, p, &v->model, "child write",
			   cv->slot, cv->gen);
	else
		read_page(w, cv->map + p * ps, p, &v->model, "child read",
			  cv->slot, cv->gen);
	pthread_mutex_unlock(&v->page_lock[p]);
	pthread_rwlock_unlock(&v->lock);
	count(r < 65 ? OP_CHILD_WRITE : OP_CHILD_READ);
}

/* The child: work on the views live at the fork for a short while. */
static void child_main(struct worker *w, struct child_view *cvs, int n)
{
	static struct local_view lv;
	double end = cowdev_now() + 0.05 + rnd_below(w, 250) / 1000.0;
	int i;

	lv.fd = -1;
	w->mem = open("/proc/self/mem", O_RDWR);
	if (w->mem < 0 || pipe(w->pipe)) {
		fail("child setup: %s", strerror(errno));
		_exit(1);
	}
	for (i = 0; i < n; i++) {
		cvs[i].map = mmap(NULL, mode.np * ps, PROT_READ | PROT_WRITE,
				  MAP_SHARED, cvs[i].fd, 0);
		if (cvs[i].map == MAP_FAILED) {
			fail("child mmap: %s", strerror(errno));
			_exit(1);
		}
	}
	while (!atomic_load(&sh->stop) && cowdev_now() < end)
		child_op(w, cvs, n, &lv);
	if (lv.fd >= 0)
		local_close(w, &lv);
	_exit(0);
}

struct child {
	pid_t pid;
};

static struct child children[NCHILDREN];

static void reap_children(int block)
{
	int i, status;

	for (i = 0; i < NCHILDREN; i++) {
		pid_t r;

		if (!children[i].pid)
			continue;
		r = waitpid(children[i].pid, &status, block ? 0 : WNOHANG);
		if (r == 0)
			continue;
		if (r != children[i].pid) {
			fail("waitpid %d: %s", children[i].pid,
			     strerror(errno));
		} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fail("child %d: %s %d", children[i].pid,
			     WIFSIGNALED(status) ? "killed by signal" :
			     "exit status", WIFSIGNALED(status) ?
			     WTERMSIG(status) : WEXITSTATUS(status));
		}
		children[i].pid = 0;
	}
}

static void op_fork(struct worker *w)
{
	static struct child_view cvs[MAXV];
	int i, s, n = 0;
	pid_t pid;

	reap_children(0);
	for (i = 0; i < NCHILDREN && children[i].pid; i++)
		;
	if (i == NCHILDREN)
		return;
	pthread_mutex_lock(&sh->table);
	for (s = 0; s < MAXV; s++) {
		if (sh->v[s].state != LIVE)
			continue;
		cvs[n].slot = s;
		cvs[n].gen = sh->v[s].gen;
		cvs[n].fd = sh->v[s].fd;
		cvs[n].dead = 0;
		n++;
	}
	if (!n) {
		pthread_mutex_unlock(&sh->table);
		return;
	}
	w->rng ^= rnd(w);	/* the child's choices differ from ours */
	pid = fork();
	if (!pid) {
		w->rng = rnd(w) ^ 0x9e3779b97f4a7c15ULL;
		child_main(w, cvs, n);
	}
	pthread_mutex_unlock(&sh->table);
	if (pid < 0) {
		fail("fork: %s", strerror(errno));
		return;
	}
	children[i].pid = pid;
	count(OP_FORK);
}

/* ---- workers --------------------------------------------------------- */

static void one_op(struct worker *w)
{
	unsigned int r = rnd_below(w, 1000);

	if (sh->live < 2) {
		atomic_store(&w->op, OP_OPEN);
		op_open(w);
		return;
	}
	if (w->id == 0 && r < 15) {
		atomic_store(&w->op, OP_FORK);
		op_fork(w);
	} else if (r < 420) {
		atomic_store(&w->op, OP_WRITE);
		op_write_or_read(w, 1);
	} else if (r < 600) {
		atomic_store(&w->op, OP_READ);
		op_write_or_read(w, 0);
	} else if (r < 630) {
		atomic_store(&w->op, OP_CHECK_VIEW);
		op_check_view(w);
	} else if (r < 700) {
		atomic_store(&w->op, OP_CLONE);
		op_clone(w);
	} else if (r < 740) {
		atomic_store(&w->op, OP_CLOSE);
		close_slot(pick_slot(w), 0);
	} else if (r < 750) {
		atomic_store(&w->op, OP_OPEN);
		op_open(w);
	} else if (r < 850) {
		atomic_store(&w->op, OP_DONTNEED);
		op_dontneed(w);
	} else if (r < 920) {
		atomic_store(&w->op, OP_REMAP);
		op_remap(w);
	} else if (r < 950) {
		atomic_store(&w->op, OP_SET_SIZE);
		op_set_size(w);
	} else if (mode.swap && r < 970) {
		atomic_store(&w->op, OP_LIMIT);
		op_limit(w);
	} else {
		atomic_store(&w->op, OP_STATE);
		op_state(w);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load(&sh->stop) && cowdev_now() < t_end) {
		one_op(w);
		atomic_fetch_add(&w->nops, 1);
	}
	atomic_store(&w->op, -1);
	return NULL;
}

static int worker_init(struct worker *w, int id)
{
	w->id = id;
	w->rng = seed ^ (0x9e3779b97f4a7c15ULL * (id + 1));
	if (!w->rng)
		w->rng = 1;
	w->mem = open("/proc/self/mem", O_RDWR);
	w->buf = mmap(NULL, 3 * ps, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w->mem < 0 || w->buf == MAP_FAILED || pipe(w->pipe))
		return -1;
	w->rbuf = w->buf + ps;
	w->ebuf = w->buf + 2 * ps;
	return 0;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	char *end;
	uint64_t val;

	if (!s || !*s)
		return def;
	errno = 0;
	val = strtoull(s, &end, 0);
	return errno || *end ? def : val;
}

/* The workers, and the time by which the run must be over. */
static struct {
	double limit;
	struct worker w[NTHREADS];
	char phase[128];	/* what the main thread does, for a hang */
} run;

/* Past run.limit the run is declared hung: report and end the process. */
static void *watchdog(void *arg)
{
	char path[300], line[256];
	struct dirent *de;
	DIR *d;
	FILE *f;
	int i, op;

	while (cowdev_now() < run.limit)
		sleep(1);
	fprintf(stderr, "# HANG: stress test still running after its limit\n");
	for (i = 0; i < NTHREADS; i++) {
		op = atomic_load(&run.w[i].op);
		fprintf(stderr, "#   thread %d in %s after %" PRIu64 " ops\n", i,
			op < 0 ? "(done)" : op_names[op],
			(uint64_t)run.w[i].nops);
	}
	fprintf(stderr, "#   main thread: %s\n", run.phase);
	/* Where each thread is in the kernel (root only). */
	d = opendir("/proc/self/task");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stack",
			 de->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			fprintf(stderr, "#   task %s: %s", de->d_name, line);
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	for (i = 0; i < NCHILDREN; i++)
		if (children[i].pid)
			kill(children[i].pid, SIGKILL);
	fflush(stderr);
	_exit(2);
}

/* What still holds views: the debugfs table, our fds and mappings. */
static void dump_leftovers(void)
{
	char line[512], path[64], target[256];
	FILE *f;
	int fd;
	ssize_t n;

	f = fopen(COWDEV_DEBUGFS_DIR "/views", "r");
	while (f && fgets(line, sizeof(line), f))
		fprintf(stderr, "# views: %s", line);
	if (f)
		fclose(f);
	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (strstr(target, "cowdev"))
			fprintf(stderr, "# fd %d: %s\n", fd, target);
	}
	f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "cowdev"))
			fprintf(stderr, "# map: %s", line);
	if (f)
		fclose(f);
}

FIXTURE(stress) {
	int probe;
	uint64_t used0, views0;
	int swapped_on;		/* this test attached the swap area */
};

FIXTURE_SETUP(stress)
{
	struct cowdev_pool_info pi;

	self->swapped_on = 0;
	self->probe = cowdev_open();
	ASSERT_LE(0, self->probe) TH_LOG("open: %s", strerror(-self->probe));
	ASSERT_EQ(0, cowdev_pool_info(self->probe, &pi));
	self->used0 = pi.used_pages;
	self->views0 = pi.views;
}

FIXTURE_TEARDOWN(stress)
{
	/* A test that ended early must not leave the swap area attached. */
	if (self->swapped_on)
		cowdev_swapoff(self->probe);
	close(self->probe);
}

/*
 * Swap mode: attach a swap area of @slots pages, a file under
 * COWDEV_SWAP_DIR (default /tmp) that is unlinked at once.  0, or the
 * negative errno of what failed (-EPERM: not root; -EBUSY: some other area
 * is attached).
 */
static int attach_swap(int probe, size_t slots, char *path, size_t len)
{
	const char *dir = getenv("COWDEV_SWAP_DIR");
	int sfd, err;

	snprintf(path, len, "%s/cowdev-stress-swap.XXXXXX",
		 dir && *dir ? dir : "/tmp");
	sfd = mkostemp(path, O_CLOEXEC);
	if (sfd < 0)
		return -errno;
	unlink(path);
	if (ftruncate(sfd, (off_t)(slots * cowdev_page_size()))) {
		err = -errno;
		close(sfd);
		return err;
	}
	err = cowdev_swapon(probe, sfd);
	close(sfd);
	return err;
}

/*
 * Swap mode, whatever the random operations managed in the time given:
 * send the pages of one more view through the swap area and back, each
 * checked, while the workload's views still hold their pages.  Its
 * resident limit of RT_LIMIT pages makes each of the RT_PAGES writes past
 * the first RT_LIMIT evict one page, and reading them all again brings at
 * least RT_PAGES - RT_LIMIT back.  Returns 0, or -1 with the reason logged.
 */
#define RT_PAGES 32
#define RT_LIMIT 8
static int swap_round_trip(struct __test_metadata *_metadata)
{
	int fd = cowdev_open(), ret = -1;
	unsigned int i;
	char *map;

	if (fd < 0) {
		TH_LOG("round trip: open: %s", strerror(-fd));
		return -1;
	}
	if (cowdev_set_size(fd, RT_PAGES * ps) ||
	    cowdev_set_resident_limit(fd, RT_LIMIT)) {
		TH_LOG("round trip: set_size/limit: %s", strerror(errno));
		goto out_close;
	}
	map = mmap(NULL, RT_PAGES * ps, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	if (map == MAP_FAILED) {
		TH_LOG("round trip: mmap: %s", strerror(errno));
		goto out_close;
	}
	for (i = 0; i < RT_PAGES; i++)
		memset(map + i * ps, 0x40 + i, ps);
	for (i = 0; i < RT_PAGES; i++)
		if (map[i * ps] != 0x40 + i ||
		    map[(i + 1) * ps - 1] != 0x40 + i) {
			TH_LOG("round trip: page %u came back as %#x", i,
			       map[i * ps]);
			goto out_unmap;
		}
	ret = 0;
out_unmap:
	munmap(map, RT_PAGES * ps);
out_close:
	close(fd);
	return ret;
}

static void run_stress(struct __test_metadata *_metadata,
		       FIXTURE_DATA(stress) *self, uint64_t seconds)
{
	pthread_rwlockattr_t rwa;
	pthread_mutexattr_t ma;
	struct cowdev_pool_info pi, pi0, rt0 = { 0 };
	uint64_t total = 0;
	pthread_t wd;
	double t0;
	int i, s, p, k;

	ps = cowdev_page_size();
	cs = ps / NCHUNK;
	seed = env_u64("COWDEV_SEED", (uint64_t)time(NULL) ^
				      ((uint64_t)getpid() << 32));
	TH_LOG("seed %" PRIu64 " (COWDEV_SEED), %" PRIu64
	       " s (%s), %d threads, %d children at once, views of up to %u pages%s",
	       seed, seconds, mode.swap ? "COWDEV_STRESS_SWAP_SECONDS" :
	       "COWDEV_STRESS_SECONDS", NTHREADS, NCHILDREN, mode.np,
	       mode.swap ? " with resident limits of 16 to 64, a swap area" :
	       "");

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset(sh, 0, sizeof(*sh));
	ASSERT_EQ(0, pthread_rwlockattr_init(&rwa));
	ASSERT_EQ(0, pthread_rwlockattr_setpshared(&rwa,
						   PTHREAD_PROCESS_SHARED));
	ASSERT_EQ(0, pthread_rwlockattr_setkind_np(&rwa,
			PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP));
	ASSERT_EQ(0, pthread_mutexattr_init(&ma));
	ASSERT_EQ(0, pthread_mutexattr_setpshared(&ma,
						  PTHREAD_PROCESS_SHARED));
	ASSERT_EQ(0, pthread_mutex_init(&sh->table, &ma));
	for (s = 0; s < MAXV; s++) {
		ASSERT_EQ(0, pthread_rwlock_init(&sh->v[s].lock, &rwa));
		for (p = 0; p < (int)mode.np; p++)
			ASSERT_EQ(0, pthread_mutex_init(&sh->v[s].page_lock[p],
							&ma));
		for (k = 0; k < NMAP; k++)
			ASSERT_EQ(0, pthread_rwlock_init(&maps[s][k].lock,
							 NULL));
	}
	for (i = 0; i < NTHREADS; i++)
		ASSERT_EQ(0, worker_init(&run.w[i], i));
	ASSERT_EQ(0, cowdev_pool_info(self->probe, &pi0));

	/* Start with three views, one of them with data and a clone. */
	for (i = 0; i < 3; i++)
		op_open(&run.w[0]);
	ASSERT_EQ(3, sh->live);
	for (p = 0; p < (int)sh->v[0].model.size; p++)
		op_write_or_read(&run.w[0], 1);
	op_clone(&run.w[0]);

	t0 = cowdev_now();
	t_end = t0 + seconds;
	run.limit = t_end + 60 + seconds * 2;
	ASSERT_EQ(0, pthread_create(&wd, NULL, watchdog, NULL));
	for (i = 0; i < NTHREADS; i++)
		ASSERT_EQ(0, pthread_create(&run.w[i].thread, NULL,
					    worker_main, &run.w[i]));
	snprintf(run.phase, sizeof(run.phase), "waiting for the workers");
	for (i = 0; i < NTHREADS; i++)
		pthread_join(run.w[i].thread, NULL);
	atomic_store(&sh->stop, 1);
	snprintf(run.phase, sizeof(run.phase), "reaping the children");
	TH_LOG("workers done after %.1f s", cowdev_now() - t0);
	reap_children(1);
	TH_LOG("children reaped after %.1f s", cowdev_now() - t0);
	if (mode.swap) {
		ASSERT_EQ(0, cowdev_pool_info(self->probe, &pi));
		TH_LOG("swap from the random operations: %" PRIu64
		       " page-outs, %" PRIu64 " page-ins",
		       (uint64_t)(pi.page_outs - pi0.page_outs),
		       (uint64_t)(pi.page_ins - pi0.page_ins));
		rt0 = pi;
		EXPECT_EQ(0, swap_round_trip(_metadata));
	}

	/* Every view as the model says, then all closed. */
	for (s = 0; s < MAXV; s++) {
		struct view *v = &sh->v[s];

		if (v->state != LIVE)
			continue;
		for (p = 0; p < (int)v->model.size; p++) {
			struct mapping *m;
			char *addr = lock_mapping_for(&run.w[0], s, p, &m);

			snprintf(run.phase, sizeof(run.phase),
				 "final check of slot %d page %d", s, p);
			EXPECT_NE(NULL, addr);
			if (!addr)
				continue;
			read_page(&run.w[0], addr, p, &v->model, "final", s,
				  v->gen);
			pthread_rwlock_unlock(&m->lock);
		}
		snprintf(run.phase, sizeof(run.phase),
			 "final page-state check and close of slot %d", s);
		check_state(v->fd, &v->model, "final", s);
		close_slot(s, 1);
	}
	snprintf(run.phase, sizeof(run.phase), "after the final checks");
	EXPECT_EQ(0, sh->live);
	ASSERT_EQ(0, cowdev_pool_info(self->probe, &pi));
	if (mode.swap) {
		TH_LOG("swap: %" PRIu64 " evictions (%" PRIu64 " clean), %"
		       PRIu64 " page-outs, %" PRIu64 " page-ins, %" PRIu64
		       " swap errors; %" PRIu64 " of %" PRIu64
		       " slots in use after every view was closed; %" PRIu64
		       " page-state checks looked again",
		       (uint64_t)(pi.evictions - pi0.evictions),
		       (uint64_t)(pi.clean_evictions - pi0.clean_evictions),
		       (uint64_t)(pi.page_outs - pi0.page_outs),
		       (uint64_t)(pi.page_ins - pi0.page_ins),
		       (uint64_t)(pi.swap_errors - pi0.swap_errors),
		       (uint64_t)pi.swap_used, (uint64_t)pi.swap_total,
		       (uint64_t)sh->state_retries);
		/* The last holder of a swapped-out page frees its slot. */
		EXPECT_EQ(pi0.swap_used, pi.swap_used);
		EXPECT_EQ(pi0.swap_errors, pi.swap_errors);
		/*
		 * At least the round trip's page-outs and page-ins: the
		 * random operations alone may not reach a limit in a short
		 * run on a slow kernel.
		 */
		EXPECT_LE(rt0.page_outs + RT_PAGES - RT_LIMIT, pi.page_outs);
		EXPECT_LE(rt0.page_ins + RT_PAGES - RT_LIMIT, pi.page_ins);
		EXPECT_LE(pi.clean_evictions - pi0.clean_evictions,
			  pi.evictions - pi0.evictions);
	}
	EXPECT_EQ(self->used0, pi.used_pages)
		TH_LOG("pool used_pages %" PRIu64 " after everything was closed, %"
		       PRIu64 " before (limbo %" PRIu64 ")",
		       (uint64_t)pi.used_pages, self->used0,
		       (uint64_t)pi.limbo_pages);
	EXPECT_EQ(self->views0, pi.views);
	if (self->used0 != pi.used_pages || self->views0 != pi.views)
		dump_leftovers();
	EXPECT_EQ(pi.total_pages, pi.free_pages + pi.used_pages + 1);

	for (i = 0; i < NR_OPS; i++)
		total += sh->ops[i];
	TH_LOG("%" PRIu64 " operations in %.1f s; COW copies %" PRIu64
	       ", reuses %" PRIu64 ", demand allocations %" PRIu64
	       " (views closed by the parent)", total, cowdev_now() - t0,
	       (uint64_t)sh->copies, (uint64_t)sh->reuses,
	       (uint64_t)sh->demand);
	for (i = 0; i < NR_OPS; i++)
		if (i != OP_LIMIT || mode.swap)
			TH_LOG("  %-14s %" PRIu64, op_names[i],
			       (uint64_t)sh->ops[i]);
	EXPECT_EQ(0, sh->failures) TH_LOG("seed %" PRIu64, seed);
	EXPECT_LT(0, sh->ops[OP_WRITE]);
	EXPECT_LT(0, sh->ops[OP_CLONE]);
}

TEST_F_TIMEOUT(stress, random_ops_against_a_model, 86400)
{
	mode.np = COW_NP;
	mode.swap = 0;
	run_stress(_metadata, self, env_u64("COWDEV_STRESS_SECONDS", 8));
}

/*
 * The same with a swap area: views of SWAP_NP pages, each at most a few
 * dozen of them in the pool.  The run is a process of its own, so that the
 * area is detached here however it ends (a SIGBUS that kills it, the
 * watchdog).
 */
TEST_F_TIMEOUT(stress, swap_random_ops_against_a_model, 86400)
{
	uint64_t seconds = env_u64("COWDEV_STRESS_SECONDS", 8) / 2;
	struct cowdev_pool_info pi;
	char path[512];
	int err, status;
	pid_t pid;

	if (seconds < 1)
		seconds = 1;
	seconds = env_u64("COWDEV_STRESS_SWAP_SECONDS", seconds);
	if (geteuid())
		SKIP(return, "attaching a swap area needs root");
	err = attach_swap(self->probe, SWAP_SLOTS, path, sizeof(path));
	if (err == -EBUSY)
		SKIP(return, "a swap area is attached already");
	ASSERT_EQ(0, err) TH_LOG("swapon of %s: %s", path, strerror(-err));
	self->swapped_on = 1;
	ASSERT_EQ(0, cowdev_pool_info(self->probe, &pi));
	ASSERT_EQ(SWAP_SLOTS, pi.swap_total);
	ASSERT_EQ(0, pi.swap_used);
	mode.np = SWAP_NP;
	mode.swap = 1;
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid) TH_LOG("fork: %s", strerror(errno));
	if (!pid) {
		self->swapped_on = 0;	/* the parent detaches it */
		run_stress(_metadata, self, seconds);
		fflush(NULL);
		_exit(cowdev_test_passed(_metadata) ? 0 : 1);
	}
	status = cowdev_child_status(pid);
	EXPECT_EQ(0, status)
		TH_LOG("the stress process %s %d", status > 128 ?
		       "was killed by signal" : "exited with",
		       status > 128 ? status - 128 : status);
	err = cowdev_swapoff(self->probe);
	EXPECT_EQ(0, err) TH_LOG("swapoff: %s", strerror(-err));
	if (!err)
		self->swapped_on = 0;
	ASSERT_EQ(0, cowdev_pool_info(self->probe, &pi));
	EXPECT_EQ(0, pi.swap_total);
	EXPECT_EQ(0, pi.swap_used);
}

TEST_HARNESS_MAIN
