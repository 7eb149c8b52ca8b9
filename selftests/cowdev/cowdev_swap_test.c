// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev's swap area, page replacement and major faults (issue 15), one
 * test per rule of the contract, with exact counters.  `run` loads the
 * module for this binary with a small pool (pool_pages=128) so that objects
 * of a few hundred pages outgrow it; each test SKIPs unless the pool is
 * small and the tests run as root.  They check:
 *  - COWDEV_IOC_SWAPON / SWAPOFF errors in the documented order (EPERM,
 *    EINVAL flags, EBADF, EBADF not O_RDWR, EINVAL not a regular file or
 *    block device, EINVAL smaller than a page, EBUSY; SWAPOFF EPERM and
 *    EINVAL), swap_total from the file size, the sysfs pool files;
 *  - an object larger than the pool, written and read back, every byte,
 *    with every counter equal to a model of fifo replacement;
 *  - major faults: getrusage() and /proc/self/stat majflt rise by exactly
 *    one per page-in (read or write, MAP_SHARED or MAP_PRIVATE), equal to
 *    the view's major_faults and page_ins and the pool's page_ins;
 *  - clean evictions, the swap copy dropped by the first write;
 *  - clones: a swapped slot shared and read back once for every view,
 *    PAGE_STATE and shared_pages the same after the round trip, COW of a
 *    shared swapped page, clones of views with swapped pages;
 *  - shrink and close free slots;
 *  - resident limits (local replacement), the policies fifo, clock and lru
 *    against userspace simulations of their definitions (Belady's string
 *    and random strings), evict_policy in sysfs;
 *  - pinned pages are never evicted;
 *  - swapoff reads everything back, or ENOMEM with nothing changed;
 *  - a full swap area, I/O errors (a truncated swap file, a swap file on a
 *    full tmpfs): SIGBUS for that access, swap_errors, no page lost;
 *  - swap slots are charged to the user's one limit;
 *  - the background evictor between the watermarks;
 *  - a block device (loop) as swap area;
 *  - without a swap area nothing changes (SIGBUS, pool_failures).
 * Every test leaves the module with no swap area attached (the teardown
 * detaches it), the policy fifo and the watermarks 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/fs.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

#define RW		(PROT_READ | PROT_WRITE)
#define SWAP_PAGES	1024	/* the fixture's swap area: 4 MiB */
#define MAXV		32	/* views and mappings a test may register */

static size_t ps;

/* ---- module parameters and sysfs ------------------------------------- */

/* The parameter's value without its newline, or "" when unreadable. */
static const char *param_read(const char *name, char *buf, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), COWDEV_PARAM_DIR "/%s", name);
	buf[0] = 0;
	f = fopen(path, "r");
	if (f) {
		if (!fgets(buf, len, f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

static uint64_t sysfs_u64(const char *attr)
{
	uint64_t v;

	return cowdev_sysfs_read(attr, &v) ? ~0ULL : v;
}

/* ---- major faults ---------------------------------------------------- */

static long majflt_rusage(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return -1;
	return ru.ru_majflt;
}

/* Field 12 of /proc/self/stat. */
static long majflt_stat(void)
{
	char buf[1024], *p;
	long v = -1;
	ssize_t n;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC), i;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	/* p + 2 is field 3 (state); field 12 is 9 fields further. */
	p += 2;
	for (i = 3; i < 12 && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p)
		sscanf(p, "%ld", &v);
	return v;
}

/* ---- page contents --------------------------------------------------- */

/* Word @w of page @page of a fill tagged @tag: differs for every word. */
static uint64_t word_of(int tag, size_t page, size_t w)
{
	return ((uint64_t)(tag & 0xff) << 56) ^ ((uint64_t)page << 24) ^
	       (w * 0x9e3779b1ULL) ^ 0x5a5a5a5a5a5aULL;
}

static void fill_page(char *m, size_t page, int tag)
{
	uint64_t *p = (uint64_t *)(m + page * ps);
	size_t w;

	for (w = 0; w < ps / 8; w++)
		p[w] = word_of(tag, page, w);
}

/* The first word of page @page that is not the fill's, or -1. */
static long check_page(const char *m, size_t page, int tag)
{
	const uint64_t *p = (const uint64_t *)(m + page * ps);
	size_t w;

	for (w = 0; w < ps / 8; w++)
		if (p[w] != word_of(tag, page, w))
			return w;
	return -1;
}

/* Pages [from, to) of @m hold fill @tag, every byte: EXPECT, log the first. */
#define expect_fill(m, from, to, tag) do {				\
	size_t _pg, _bad = 0;						\
	long _w;							\
	for (_pg = (from); _pg < (to); _pg++) {			\
		_w = check_page((m), _pg, (tag));			\
		if (_w >= 0 && !_bad++)					\
			TH_LOG("page %zu word %ld is %#" PRIx64 ", want %#" PRIx64, \
			       _pg, _w, ((uint64_t *)((m) + _pg * ps))[_w], \
			       word_of((tag), _pg, _w));		\
	}								\
	EXPECT_EQ(0, _bad) TH_LOG("pages %zu..%zu of fill '%c'",	\
				  (size_t)(from), (size_t)(to) - 1, (tag)); \
} while (0)

/* Fill pages [from, to); each page's first write is one access. */
static void fill_pages(char *m, size_t from, size_t to, int tag)
{
	size_t i;

	for (i = from; i < to; i++)
		fill_page(m, i, tag);
}

/* ---- page-state maps ------------------------------------------------- */

#define R	COWDEV_PAGE_RESIDENT
#define SH	COWDEV_PAGE_SHARED
#define DI	COWDEV_PAGE_DIRTY
#define SW	COWDEV_PAGE_SWAPPED

/*
 * One character per page-state byte:
 *   '.' hole
 *   'r' RESIDENT       'd' RESIDENT|DIRTY   's' RESIDENT|SHARED
 *   'o' SWAPPED        'D' SWAPPED|DIRTY    'S' SWAPPED|SHARED
 *   '?' anything else (RESIDENT and SWAPPED, SHARED and DIRTY, ...)
 */
static char swap_state_char(uint8_t b)
{
	switch (b) {
	case 0:
		return '.';
	case R:
		return 'r';
	case R | DI:
		return 'd';
	case R | SH:
		return 's';
	case SW:
		return 'o';
	case SW | DI:
		return 'D';
	case SW | SH:
		return 'S';
	default:
		return '?';
	}
}

/* The state string of pages [0, n) of @fd into @out (n + 1 bytes). */
static int state_string(int fd, size_t n, char *out)
{
	uint8_t buf[1024];
	size_t i;
	int ret;

	if (n > sizeof(buf))
		return -E2BIG;
	ret = cowdev_page_state(fd, 0, n, buf);
	if (ret)
		return ret;
	for (i = 0; i < n; i++)
		out[i] = swap_state_char(buf[i]);
	out[n] = 0;
	return 0;
}

/*
 * expect_states(fd, "ddDD"): the page-state map of pages [0, strlen) as
 * above; when it covers the whole view, resident_pages, swapped_pages and
 * shared_pages agree with it.
 */
static void __expect_states(struct __test_metadata *_metadata, int line,
			    int fd, const char *want)
{
	size_t n = strlen(want), i, res = 0, swp = 0, shr = 0;
	struct cowdev_stats st = cowdev_stats_of(fd);
	char got[1025];

	ASSERT_EQ(0, state_string(fd, n, got)) TH_LOG("line %d", line);
	EXPECT_STREQ(want, got) TH_LOG("line %d: page-state map", line);
	for (i = 0; i < n; i++) {
		res += got[i] == 'r' || got[i] == 'd' || got[i] == 's';
		swp += got[i] == 'o' || got[i] == 'D' || got[i] == 'S';
		shr += got[i] == 's';
	}
	if (st.size_pages == n) {
		EXPECT_EQ(res, st.resident_pages) TH_LOG("line %d", line);
		EXPECT_EQ(swp, st.swapped_pages) TH_LOG("line %d", line);
		EXPECT_EQ(shr, st.shared_pages) TH_LOG("line %d", line);
	}
}
#define expect_states(fd, want) __expect_states(_metadata, __LINE__, fd, want)

/* A state string of @n characters @c (for long views). */
static const char *repeat(char *buf, size_t n, char c)
{
	memset(buf, c, n);
	buf[n] = 0;
	return buf;
}

/* ---- the test environment -------------------------------------------- */

struct env {
	int ctl;		/* a view of size 0, for the module-wide ioctls */
	int swapfd;		/* the attached swap file, or -1 */
	struct cowdev_pool_info pi0;	/* after setup */
	int fd[MAXV];		/* views to close at teardown */
	int nfd;
	char *map[MAXV];	/* mappings to unmap at teardown */
	size_t maplen[MAXV];
	int nmap;
	int pipe[2];		/* vmsplice pipes, closed at teardown */
	char mnt[128];		/* a tmpfs the test mounted, or "" */
	char loopdev[64];	/* a loop device the test set up, or "" */
	int fileno;
};

static int make_file(struct env *e, const char *dir, off_t size, int flags)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/cowdev_swap_test.%d.%d", dir,
		 getpid(), e->fileno++);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | flags, 0600);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (ftruncate(fd, size)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void reg_fd(struct env *e, int fd)
{
	if (fd >= 0 && e->nfd < MAXV)
		e->fd[e->nfd++] = fd;
}

static void reg_map(struct env *e, char *m, size_t len)
{
	if (m && e->nmap < MAXV) {
		e->map[e->nmap] = m;
		e->maplen[e->nmap++] = len;
	}
}

/* A new view of @pages pages mapped MAP_SHARED at the result; *@fd. */
static char *new_view(struct env *e, size_t pages, int *fd)
{
	char *m = NULL;

	*fd = cowdev_new_view(pages, &m);
	if (*fd < 0)
		return NULL;
	reg_fd(e, *fd);
	reg_map(e, m, pages * ps);
	return m;
}

/* Map @pages of view @fd as @flags, registered for the teardown. */
static char *map_view(struct env *e, int fd, size_t pages, int flags)
{
	char *m = cowdev_map_view(fd, pages, RW, flags, 0);

	reg_map(e, m, pages * ps);
	return m;
}

/* A clone of @fd, registered. */
static int clone_view(struct env *e, int fd)
{
	int c = cowdev_clone(fd);

	reg_fd(e, c);
	return c;
}

/* Unmap and close one view now (its registrations are dropped). */
static void drop_view(struct env *e, int fd, char *m)
{
	int i;

	for (i = 0; i < e->nmap; i++)
		if (m && e->map[i] == m) {
			munmap(m, e->maplen[i]);
			e->map[i] = NULL;
		}
	for (i = 0; i < e->nfd; i++)
		if (fd >= 0 && e->fd[i] == fd) {
			close(fd);
			e->fd[i] = -1;
		}
}

static void env_setup(struct __test_metadata *_metadata, struct env *e,
		      int attach)
{
	unsigned long pool = cowdev_param("pool_pages");
	struct cowdev_pool_info pi;
	int ret;

	ps = cowdev_page_size();
	memset(e, 0, sizeof(*e));
	e->ctl = e->swapfd = e->pipe[0] = e->pipe[1] = -1;
	if (geteuid())
		SKIP_SETUP("swapon needs root");
	if (!pool || pool > 512)
		SKIP_SETUP("pool_pages=%lu is not small (run loads 128)", pool);
	e->ctl = cowdev_open();
	ASSERT_LE(0, e->ctl) TH_LOG("open: %s", strerror(-e->ctl));
	pi = cowdev_pool_of(e->ctl);
	ASSERT_NE(~0ULL, pi.total_pages);
	if (pi.swap_total) {
		/* A test killed before its teardown left one attached. */
		TH_LOG("a swap area of %llu slots is attached; detaching it",
		       (unsigned long long)pi.swap_total);
		ret = cowdev_swapoff(e->ctl);
		ASSERT_EQ(0, ret) TH_LOG("swapoff: %s", strerror(-ret));
	}
	ASSERT_EQ(0, cowdev_param_set("evict_policy", "fifo"));
	ASSERT_EQ(0, cowdev_param_set("low_watermark", "0"));
	ASSERT_EQ(0, cowdev_param_set("high_watermark", "0"));
	if (attach) {
		e->swapfd = make_file(e, "/tmp", SWAP_PAGES * ps, 0);
		ASSERT_LE(0, e->swapfd) TH_LOG("swap file: %s",
					       strerror(-e->swapfd));
		ret = cowdev_swapon(e->ctl, e->swapfd);
		ASSERT_EQ(0, ret) TH_LOG("swapon: %s", strerror(-ret));
	}
	e->pi0 = cowdev_pool_of(e->ctl);
	ASSERT_EQ(attach ? SWAP_PAGES : 0, e->pi0.swap_total);
	ASSERT_EQ(0, e->pi0.swap_used);
	ASSERT_EQ(0, e->pi0.limbo_pages);
}

static void env_teardown(struct __test_metadata *_metadata, struct env *e)
{
	struct cowdev_pool_info pi;
	int i, ret;

	/*
	 * After a failed ASSERT the 6.1 harness leaves its trigger set, and
	 * the next EXPECT would log its message although it passed.
	 */
	_metadata->trigger = 0;
	for (i = 0; i < e->nmap; i++)
		if (e->map[i])
			munmap(e->map[i], e->maplen[i]);
	for (i = 0; i < e->nfd; i++)
		if (e->fd[i] >= 0)
			close(e->fd[i]);
	if (e->pipe[0] >= 0)
		close(e->pipe[0]);
	if (e->pipe[1] >= 0)
		close(e->pipe[1]);
	if (e->ctl < 0)
		return;
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(0, pi.swap_used) TH_LOG("%llu slots left after every view closed",
					  (unsigned long long)pi.swap_used);
	if (pi.swap_total) {
		ret = cowdev_swapoff(e->ctl);
		EXPECT_EQ(0, ret) TH_LOG("teardown swapoff: %s", strerror(-ret));
	}
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(0, pi.swap_total);
	EXPECT_EQ(0, pi.swap_used);
	EXPECT_EQ(e->pi0.used_pages, pi.used_pages)
		TH_LOG("pool pages left after every view closed");
	cowdev_param_set("low_watermark", "0");
	cowdev_param_set("high_watermark", "0");
	cowdev_param_set("evict_policy", "fifo");
	if (e->loopdev[0]) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "losetup -d %s", e->loopdev);
		if (system(cmd))
			TH_LOG("%s failed", cmd);
	}
	if (e->swapfd >= 0)
		close(e->swapfd);
	e->swapfd = -1;
	if (e->mnt[0]) {
		if (umount(e->mnt))
			TH_LOG("umount %s: %s", e->mnt, strerror(errno));
		rmdir(e->mnt);
	}
	if (e->swapfd >= 0)
		close(e->swapfd);
	close(e->ctl);
}

/* Replace the attached swap area by @fd (nothing may be swapped out). */
static int reattach(struct env *e, int fd)
{
	int ret = cowdev_swapoff(e->ctl);

	if (ret)
		return ret;
	if (e->swapfd >= 0)
		close(e->swapfd);
	e->swapfd = fd;
	return cowdev_swapon(e->ctl, fd);
}

FIXTURE(swap) {
	struct env e;
};

FIXTURE_SETUP(swap)
{
	env_setup(_metadata, &self->e, 1);
}

FIXTURE_TEARDOWN(swap)
{
	env_teardown(_metadata, &self->e);
}

FIXTURE(noswap) {
	struct env e;
};

FIXTURE_SETUP(noswap)
{
	env_setup(_metadata, &self->e, 0);
}

FIXTURE_TEARDOWN(noswap)
{
	env_teardown(_metadata, &self->e);
}

/* ---- a model of one view's pages under a policy ----------------------- */

enum { FIFO, CLOCK, LRU, NPOLICIES };
static const char *const policy_name[NPOLICIES] = { "fifo", "clock", "lru" };

#define MP 512
enum { HOLE, RES, SWAPPED };

/*
 * The contract's replacement, for one view that is alone in the pool:
 * @frames pool pages (the free pool, or the resident limit).  Pages in
 * load order (first write, or page-in) in @order; clock keeps the circle
 * as a list whose head is the hand: a referenced page at the hand loses
 * its bit and goes to the tail, the first unreferenced one is the victim,
 * a new page goes to the tail (behind the hand) referenced.  lru ages the
 * first 32 pages in load order at each victim search, age = age >> 1 |
 * referenced << 7, clears their bits, and takes the lowest age, the first
 * loaded on a tie.  Every access to a resident page sets its bit (the
 * kernel's software bit: a cleared bit means the ptes are gone, so the
 * access faults and sets it).  A page has a slot while swapped out and,
 * after a page-in, until its first write (a clean copy).
 */
struct model {
	int policy;
	size_t frames;
	uint8_t st[MP], slot[MP], ref[MP], age[MP];
	char val[MP];			/* byte 0 of each page */
	size_t order[MP], n;
	uint64_t allocs, ins, outs, evictions, clean, used;
};

static void model_init(struct model *m, int policy, size_t frames)
{
	memset(m, 0, sizeof(*m));
	m->policy = policy;
	m->frames = frames;
}

static void model_remove(struct model *m, size_t i)
{
	memmove(&m->order[i], &m->order[i + 1],
		(m->n - i - 1) * sizeof(m->order[0]));
	m->n--;
}

static void model_evict(struct model *m)
{
	size_t v = 0, i, lim, pg;

	if (m->policy == CLOCK) {
		while (m->ref[m->order[0]]) {
			pg = m->order[0];
			m->ref[pg] = 0;
			model_remove(m, 0);
			m->order[m->n++] = pg;
		}
	} else if (m->policy == LRU) {
		lim = m->n < 32 ? m->n : 32;
		for (i = 0; i < lim; i++) {
			pg = m->order[i];
			m->age[pg] = (m->age[pg] >> 1) | (m->ref[pg] << 7);
			m->ref[pg] = 0;
		}
		for (i = 1; i < lim; i++)
			if (m->age[m->order[i]] < m->age[m->order[v]])
				v = i;
	}
	pg = m->order[v];
	model_remove(m, v);
	m->evictions++;
	if (m->slot[pg]) {
		m->clean++;
	} else {
		m->outs++;
		m->slot[pg] = 1;
		m->used++;
	}
	m->st[pg] = SWAPPED;
}

static void model_write_copy(struct model *m, size_t pg)
{
	if (m->slot[pg]) {
		m->slot[pg] = 0;
		m->used--;
	}
}

/* One access; returns 1 for a page-in (a major fault). */
static int model_access(struct model *m, size_t pg, int write, char val)
{
	int major = 0;

	if (m->st[pg] == RES) {
		m->ref[pg] = 1;
	} else if (m->st[pg] == HOLE && !write) {
		return 0;	/* the zero page */
	} else {
		if (m->n == m->frames)
			model_evict(m);
		if (m->st[pg] == HOLE) {
			m->allocs++;
		} else {
			m->ins++;
			major = 1;
		}
		m->st[pg] = RES;
		m->ref[pg] = 1;
		m->age[pg] = 0;
		m->order[m->n++] = pg;
	}
	if (write) {
		model_write_copy(m, pg);
		m->val[pg] = val;
	}
	return major;
}

/* A run of accesses to one view, checked against the model at each step. */
struct run {
	struct env *e;
	int fd;
	char *map;
	size_t pages;
	struct model m;
	struct cowdev_pool_info pi0;
	long maj0;
	int step, failed;
	const char *what;
};

static void run_start(struct run *r, struct env *e, int fd, char *map,
		      size_t pages, int policy, size_t frames,
		      const char *what)
{
	memset(r, 0, sizeof(*r));
	r->e = e;
	r->fd = fd;
	r->map = map;
	r->pages = pages;
	r->what = what;
	model_init(&r->m, policy, frames);
	r->pi0 = cowdev_pool_of(e->ctl);
	r->maj0 = majflt_rusage();
}

/* Compare everything the model predicts; log the first difference. */
static int run_compare(struct __test_metadata *_metadata, struct run *r,
		       size_t pg, int write, int sig, char got)
{
	struct cowdev_stats st = cowdev_stats_of(r->fd);
	struct cowdev_pool_info pi = cowdev_pool_of(r->e->ctl);
	uint8_t buf[MP];
	char want_map[MP + 1], got_map[MP + 1];
	uint64_t swapped = 0;
	long maj = majflt_rusage() - r->maj0;
	struct model *m = &r->m;
	size_t i;
	int bad = 0;

	if (cowdev_page_state(r->fd, 0, r->pages, buf))
		memset(buf, 0xff, r->pages);
	for (i = 0; i < r->pages; i++) {
		want_map[i] = m->st[i] == RES ? 'R' : m->st[i] == SWAPPED ?
			      'W' : '.';
		got_map[i] = (buf[i] & (R | SW)) == R ? 'R' :
			     (buf[i] & (R | SW)) == SW ? 'W' :
			     !(buf[i] & (R | SW)) ? '.' : '?';
		swapped += m->st[i] == SWAPPED;
	}
	want_map[r->pages] = got_map[r->pages] = 0;
#define CMP(want, have) do {						\
	if ((uint64_t)(want) != (uint64_t)(have)) {			\
		TH_LOG("%s step %d (%s page %zu): %s is %" PRIu64 ", the model says %" PRIu64, \
		       r->what, r->step, write ? "write" : "read", pg,	\
		       #have, (uint64_t)(have), (uint64_t)(want));	\
		bad = 1;						\
	}								\
} while (0)
	CMP(0, sig);
	if (!write)
		CMP((unsigned char)m->val[pg], (unsigned char)got);
	CMP(m->allocs, st.demand_allocs);
	CMP(m->ins, st.page_ins);
	CMP(m->ins, st.major_faults);
	CMP(m->outs, st.page_outs);
	CMP(m->evictions, st.evictions);
	CMP(m->n, st.resident_pages);
	CMP(swapped, st.swapped_pages);
	CMP(m->ins, pi.page_ins - r->pi0.page_ins);
	CMP(m->outs, pi.page_outs - r->pi0.page_outs);
	CMP(m->evictions, pi.evictions - r->pi0.evictions);
	CMP(m->clean, pi.clean_evictions - r->pi0.clean_evictions);
	CMP(m->used, pi.swap_used - r->pi0.swap_used);
	CMP(0, pi.swap_errors - r->pi0.swap_errors);
	CMP(m->ins, maj);
#undef CMP
	if (strcmp(want_map, got_map)) {
		TH_LOG("%s step %d (%s page %zu): resident/swapped\n#  model  %s\n#  kernel %s",
		       r->what, r->step, write ? "write" : "read", pg,
		       want_map, got_map);
		bad = 1;
	}
	return bad;
}

/* One access through the mapping, then the comparison (until a failure). */
static void run_access(struct __test_metadata *_metadata, struct run *r,
		       size_t pg, int write)
{
	char val = (char)(r->step % 251 + 1), got = 0;
	int sig;

	r->step++;
	if (write)
		sig = cowdev_try_write(r->map + pg * ps, val);
	else
		sig = cowdev_try_read(r->map + pg * ps, &got);
	model_access(&r->m, pg, write, val);
	if (!r->failed)
		r->failed = run_compare(_metadata, r, pg, write, sig, got);
}

/* ---- swapon / swapoff ------------------------------------------------ */

/* In a child that dropped every capability (uid 65534): 0 if all as said. */
static int unprivileged_child(int ctl, int swapfd)
{
	struct cowdev_swapon bad = { .fd = swapfd, .flags = 1 };
	int r;

	if (setgid(65534) || setuid(65534))
		return 10;
	r = cowdev_swapon(ctl, swapfd);
	if (r != -EPERM)
		return 11;
	if (ioctl(ctl, COWDEV_IOC_SWAPON, &bad) != -1 || errno != EPERM)
		return 12;
	r = cowdev_swapoff(ctl);
	if (r != -EPERM)
		return 13;
	r = cowdev_swapon(ctl, -1);
	if (r != -EPERM)
		return 14;
	return 0;
}

static int run_unprivileged(int ctl, int swapfd)
{
	pid_t pid = fork();

	if (!pid)
		_exit(unprivileged_child(ctl, swapfd));
	return cowdev_child_status(pid);
}

/*
 * SWAPON's errors in the contract's order, each leaving nothing attached:
 * EPERM without CAP_SYS_ADMIN (before everything else, also for bad
 * flags), EINVAL for flags, EBADF for an fd that is not open, EBADF for
 * O_RDONLY and O_WRONLY fds (a directory can only be opened O_RDONLY, so
 * it is EBADF too), EINVAL for fds open O_RDWR that are not a regular file
 * or block device (a FIFO, a socket, /dev/null, a cowdev view, the same
 * view's fd) or are O_APPEND, EINVAL for files of less than a page; then
 * EBUSY while one is attached (bad flags and a small file still EINVAL);
 * SWAPOFF: EPERM, and EINVAL with none attached.
 */
TEST_F(noswap, swapon_and_swapoff_errors)
{
	struct env *e = &self->e;
	struct cowdev_swapon sw = { 0 };
	int good, other, fd, sv[2], view;
	char fifo[128];

	good = make_file(e, "/tmp", 16 * ps, 0);
	ASSERT_LE(0, good);
	other = make_file(e, "/tmp", 16 * ps, 0);
	ASSERT_LE(0, other);

	EXPECT_EQ(0, run_unprivileged(e->ctl, good));
	EXPECT_EQ(0, cowdev_pool_of(e->ctl).swap_total);

	sw.fd = good;
	sw.flags = 1;
	EXPECT_EQ(-EINVAL, cowdev_xioctl(e->ctl, COWDEV_IOC_SWAPON, &sw));
	sw.flags = 0x80000000;
	EXPECT_EQ(-EINVAL, cowdev_xioctl(e->ctl, COWDEV_IOC_SWAPON, &sw));
	sw.fd = -1;
	sw.flags = 1;		/* flags before the fd */
	EXPECT_EQ(-EINVAL, cowdev_xioctl(e->ctl, COWDEV_IOC_SWAPON, &sw));

	EXPECT_EQ(-EBADF, cowdev_swapon(e->ctl, -1));
	EXPECT_EQ(-EBADF, cowdev_swapon(e->ctl, 4000));	/* not open */
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBADF, cowdev_swapon(e->ctl, fd));
	close(fd);
	snprintf(fifo, sizeof(fifo), "/proc/self/fd/%d", good);
	fd = open(fifo, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBADF, cowdev_swapon(e->ctl, fd));
	close(fd);
	fd = open(fifo, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBADF, cowdev_swapon(e->ctl, fd));
	close(fd);
	fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBADF, cowdev_swapon(e->ctl, fd)) TH_LOG("a directory");
	close(fd);
	/* An O_RDONLY file that is also too small: EBADF comes first. */
	fd = make_file(e, "/tmp", 0, 0);
	ASSERT_LE(0, fd);
	snprintf(fifo, sizeof(fifo), "/proc/self/fd/%d", fd);
	view = open(fifo, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, view);
	EXPECT_EQ(-EBADF, cowdev_swapon(e->ctl, view));
	close(view);
	close(fd);

	/* O_RDWR but not a regular file or a block device. */
	snprintf(fifo, sizeof(fifo), "/tmp/cowdev_swap_test.%d.fifo", getpid());
	ASSERT_EQ(0, mkfifo(fifo, 0600));
	fd = open(fifo, O_RDWR | O_CLOEXEC);
	unlink(fifo);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, cowdev_swapon(e->ctl, fd)) TH_LOG("a FIFO");
	close(fd);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	EXPECT_EQ(-EINVAL, cowdev_swapon(e->ctl, sv[0])) TH_LOG("a socket");
	close(sv[0]);
	close(sv[1]);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, cowdev_swapon(e->ctl, fd)) TH_LOG("/dev/null");
	close(fd);
	view = cowdev_new_view(16, NULL);
	ASSERT_LE(0, view);
	EXPECT_EQ(-EINVAL, cowdev_swapon(e->ctl, view)) TH_LOG("a cowdev view");
	EXPECT_EQ(-EINVAL, cowdev_swapon(view, view)) TH_LOG("itself");
	close(view);
	fd = make_file(e, "/tmp", 16 * ps, O_APPEND);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, cowdev_swapon(e->ctl, fd)) TH_LOG("O_APPEND");
	close(fd);

	/* Smaller than one page. */
	fd = make_file(e, "/tmp", 0, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, cowdev_swapon(e->ctl, fd)) TH_LOG("empty");
	ASSERT_EQ(0, ftruncate(fd, ps - 1));
	EXPECT_EQ(-EINVAL, cowdev_swapon(e->ctl, fd)) TH_LOG("a page - 1");
	EXPECT_EQ(0, cowdev_pool_of(e->ctl).swap_total);
	EXPECT_EQ(-EINVAL, cowdev_swapoff(e->ctl));

	/* One attached: EBUSY, after the other checks. */
	ASSERT_EQ(0, cowdev_swapon(e->ctl, good));
	EXPECT_EQ(16, cowdev_pool_of(e->ctl).swap_total);
	EXPECT_EQ(-EBUSY, cowdev_swapon(e->ctl, other));
	EXPECT_EQ(-EBUSY, cowdev_swapon(e->ctl, good));
	EXPECT_EQ(-EINVAL, cowdev_swapon(e->ctl, fd)) TH_LOG("small, attached");
	sw.fd = other;
	sw.flags = 2;
	EXPECT_EQ(-EINVAL, cowdev_xioctl(e->ctl, COWDEV_IOC_SWAPON, &sw));
	EXPECT_EQ(0, run_unprivileged(e->ctl, other));
	EXPECT_EQ(16, cowdev_pool_of(e->ctl).swap_total);
	EXPECT_EQ(0, cowdev_swapoff(e->ctl));
	EXPECT_EQ(0, cowdev_pool_of(e->ctl).swap_total);
	EXPECT_EQ(-EINVAL, cowdev_swapoff(e->ctl));
	/* Any view's fd will do. */
	view = cowdev_new_view(1, NULL);
	ASSERT_LE(0, view);
	EXPECT_EQ(0, cowdev_swapon(view, other));
	EXPECT_EQ(-EBUSY, cowdev_swapon(e->ctl, good));
	EXPECT_EQ(0, cowdev_swapoff(e->ctl));
	close(view);
	close(fd);
	close(good);
	close(other);
}

/*
 * swap_total is the file's size in whole pages, fixed at swapon; SWAPOFF
 * sets swap_total and swap_used to 0; sysfs shows every pool counter as
 * POOL_INFO does, the new ones included.
 */
TEST_F(noswap, swap_total_from_the_file_size)
{
	static const struct {
		off_t bytes;
		uint64_t slots;
	} sizes[] = { { 1, 1 }, { 3, 3 }, { 1024, 1024 } };
	struct env *e = &self->e;
	struct cowdev_pool_info pi, sy;
	unsigned int i;
	int fd;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fd = make_file(e, "/tmp", sizes[i].bytes * ps + (i ? 100 : 0),
			       0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, cowdev_swapon(e->ctl, fd));
		/* The file grows after swapon: the slots do not. */
		ASSERT_EQ(0, ftruncate(fd, (sizes[i].bytes + 8) * ps));
		pi = cowdev_pool_of(e->ctl);
		EXPECT_EQ(sizes[i].slots, pi.swap_total);
		EXPECT_EQ(0, pi.swap_used);
		EXPECT_EQ(sizes[i].slots, sysfs_u64("swap_total"));
		ASSERT_EQ(0, cowdev_reserve_settle(10000));
		ASSERT_EQ(0, cowdev_sysfs_pool_info(&sy));
		pi = cowdev_pool_of(e->ctl);
		EXPECT_EQ(0, memcmp(&pi, &sy, sizeof(pi)))
			TH_LOG("sysfs and POOL_INFO differ");
		EXPECT_EQ(pi.page_outs, sy.page_outs);
		EXPECT_EQ(pi.page_ins, sy.page_ins);
		EXPECT_EQ(pi.evictions, sy.evictions);
		EXPECT_EQ(pi.clean_evictions, sy.clean_evictions);
		EXPECT_EQ(pi.swap_errors, sy.swap_errors);
		EXPECT_EQ(pi.kswapd_wakeups, sy.kswapd_wakeups);
		close(fd);	/* the module keeps its own reference */
		EXPECT_EQ(sizes[i].slots, cowdev_pool_of(e->ctl).swap_total);
		ASSERT_EQ(0, cowdev_swapoff(e->ctl));
		pi = cowdev_pool_of(e->ctl);
		EXPECT_EQ(0, pi.swap_total);
		EXPECT_EQ(0, pi.swap_used);
		EXPECT_EQ(0, sysfs_u64("swap_total"));
		EXPECT_EQ(0, sysfs_u64("swap_used"));
	}
}

/*
 * Without a swap area nothing changes: the pool runs dry, the next write
 * gets SIGBUS with pool_failures and alloc_failures, nothing is evicted,
 * no page is SWAPPED; a view at its resident limit gets SIGBUS for a page
 * it needs (pool_failures), not an eviction.  kswapd is never woken.
 */
TEST_F(noswap, without_swap_the_pool_edge_is_sigbus)
{
	struct env *e = &self->e;
	struct cowdev_pool_info pi;
	struct cowdev_stats st;
	size_t f = e->pi0.free_pages, i;
	char *m, *l, c, states[MP + 1];
	int fd, lfd;

	ASSERT_LT(16, f);
	ASSERT_GT(MP - 4, f);
	ASSERT_EQ(0, cowdev_param_set("high_watermark", "16"));
	ASSERT_EQ(0, cowdev_param_set("low_watermark", "8"));
	m = new_view(e, f + 2, &fd);
	ASSERT_NE(NULL, m);
	for (i = 0; i < f; i++)
		ASSERT_EQ(0, cowdev_try_write(m + i * ps, 'a')) TH_LOG("page %zu", i);
	EXPECT_EQ(SIGBUS, cowdev_try_write(m + f * ps, 'a'));
	st = cowdev_stats_of(fd);
	EXPECT_EQ(f, st.demand_allocs);
	EXPECT_EQ(f, st.resident_pages);
	EXPECT_EQ(1, st.pool_failures);
	EXPECT_EQ(1, st.sigbus);
	EXPECT_EQ(0, st.evictions);
	EXPECT_EQ(0, st.page_outs);
	EXPECT_EQ(0, st.swapped_pages);
	EXPECT_EQ(0, st.major_faults);
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(0, pi.free_pages);
	EXPECT_EQ(e->pi0.alloc_failures + 1, pi.alloc_failures);
	EXPECT_EQ(e->pi0.evictions, pi.evictions);
	EXPECT_EQ(e->pi0.page_outs, pi.page_outs);
	EXPECT_EQ(0, pi.swap_used);
	EXPECT_EQ(0, pi.swap_total);
	EXPECT_EQ(e->pi0.kswapd_wakeups, pi.kswapd_wakeups);
	repeat(states, f + 2, 'd');
	states[f] = states[f + 1] = '.';
	expect_states(fd, states);
	EXPECT_EQ(0, cowdev_try_read(m + (f + 1) * ps, &c));
	EXPECT_EQ(0, c);
	drop_view(e, fd, m);

	/* A resident limit without swap: SIGBUS at the limit. */
	l = new_view(e, 4, &lfd);
	ASSERT_NE(NULL, l);
	ASSERT_EQ(0, cowdev_set_resident_limit(lfd, 2));
	EXPECT_EQ(0, cowdev_try_write(l, 'x'));
	EXPECT_EQ(0, cowdev_try_write(l + ps, 'y'));
	EXPECT_EQ(SIGBUS, cowdev_try_write(l + 2 * ps, 'z'));
	st = cowdev_stats_of(lfd);
	EXPECT_EQ(2, st.resident_limit);
	EXPECT_EQ(2, st.demand_allocs);
	EXPECT_EQ(1, st.pool_failures);
	EXPECT_EQ(1, st.sigbus);
	EXPECT_EQ(0, st.evictions);
	expect_states(lfd, "dd..");
	EXPECT_EQ('x', l[0]);
	EXPECT_EQ('y', l[ps]);
	/* Limit lifted: the write works. */
	ASSERT_EQ(0, cowdev_set_resident_limit(lfd, 0));
	EXPECT_EQ(0, cowdev_try_write(l + 2 * ps, 'z'));
	expect_states(lfd, "ddd.");
	EXPECT_EQ(e->pi0.kswapd_wakeups,
		  cowdev_pool_of(e->ctl).kswapd_wakeups);
}

/*
 * SET_RESIDENT_LIMIT takes any value (0 is none), per view, shown in
 * stats.resident_limit, a gauge that RESET_STATS keeps; a clone's writes do
 * not change the source's limit.
 */
TEST_F(noswap, resident_limit_is_a_per_view_gauge)
{
	static const uint64_t vals[] = { 0, 1, 3, 1ULL << 40, ~0ULL, 5 };
	struct env *e = &self->e;
	unsigned int i;
	int a, b;

	a = cowdev_new_view(4, NULL);
	ASSERT_LE(0, a);
	reg_fd(e, a);
	b = cowdev_new_view(4, NULL);
	ASSERT_LE(0, b);
	reg_fd(e, b);
	EXPECT_EQ(0, cowdev_stats_of(a).resident_limit);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		ASSERT_EQ(0, cowdev_set_resident_limit(a, vals[i]));
		EXPECT_EQ(vals[i], cowdev_stats_of(a).resident_limit);
	}
	EXPECT_EQ(0, cowdev_stats_of(b).resident_limit);
	ASSERT_EQ(0, cowdev_reset_stats(a));
	EXPECT_EQ(5, cowdev_stats_of(a).resident_limit);
}

/* ---- paging ---------------------------------------------------------- */

/*
 * An object of 300 pages over a pool of about 127 free pages: every page
 * written with its own pattern, then read back, every byte.  The module's
 * reference to the swap file is its own (the test's fd is closed).  With
 * fifo and global replacement every counter is that of the model, and
 * majflt (getrusage and /proc/self/stat) rises by exactly the page-ins.
 */
TEST_F_TIMEOUT(swap, object_larger_than_the_pool, 180)
{
	struct env *e = &self->e;
	size_t f = e->pi0.free_pages, n = 300, i;
	struct cowdev_pool_info pi;
	struct cowdev_stats st;
	struct model md;
	long maj_ru, maj_st;
	char *m;
	int fd;

	ASSERT_LT(f, n) TH_LOG("pool of %zu free pages", f);
	ASSERT_GE(SWAP_PAGES, n);
	close(e->swapfd);
	e->swapfd = -1;
	m = new_view(e, n, &fd);
	ASSERT_NE(NULL, m);
	model_init(&md, FIFO, f);
	for (i = 0; i < n; i++) {
		fill_page(m, i, 'O');
		model_access(&md, i, 1, 0);
	}
	st = cowdev_stats_of(fd);
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(n, st.demand_allocs);
	EXPECT_EQ(n - f, st.evictions);
	EXPECT_EQ(n - f, st.page_outs);
	EXPECT_EQ(n - f, st.swapped_pages);
	EXPECT_EQ(f, st.resident_pages);
	EXPECT_EQ(0, st.page_ins);
	EXPECT_EQ(0, st.major_faults);
	EXPECT_EQ(0, st.sigbus);
	EXPECT_EQ(n - f, pi.evictions - e->pi0.evictions);
	EXPECT_EQ(n - f, pi.page_outs - e->pi0.page_outs);
	EXPECT_EQ(0, pi.clean_evictions - e->pi0.clean_evictions);
	EXPECT_EQ(n - f, pi.swap_used);
	EXPECT_EQ(0, pi.free_pages);
	EXPECT_EQ(e->pi0.alloc_failures, pi.alloc_failures);

	maj_ru = majflt_rusage();
	maj_st = majflt_stat();
	for (i = 0; i < n; i++)
		model_access(&md, i, 0, 0);
	expect_fill(m, 0, n, 'O');
	maj_ru = majflt_rusage() - maj_ru;
	maj_st = majflt_stat() - maj_st;
	st = cowdev_stats_of(fd);
	pi = cowdev_pool_of(e->ctl);
	TH_LOG("%zu pages, %zu free: %" PRIu64 " page-ins, %" PRIu64
	       " page-outs, %" PRIu64 " clean evictions", n, f, md.ins,
	       md.outs, md.clean);
	EXPECT_EQ(md.ins, st.page_ins);
	EXPECT_EQ(md.ins, st.major_faults);
	EXPECT_EQ(md.ins, (uint64_t)maj_ru);
	EXPECT_EQ(md.ins, (uint64_t)maj_st);
	EXPECT_EQ(md.ins, pi.page_ins - e->pi0.page_ins);
	EXPECT_EQ(md.outs, st.page_outs);
	EXPECT_EQ(md.outs, pi.page_outs - e->pi0.page_outs);
	EXPECT_EQ(md.evictions, st.evictions);
	EXPECT_EQ(md.evictions, pi.evictions - e->pi0.evictions);
	EXPECT_EQ(md.clean, pi.clean_evictions - e->pi0.clean_evictions);
	EXPECT_EQ(md.used, pi.swap_used);
	EXPECT_EQ(n, st.demand_allocs);
	EXPECT_EQ(f, st.resident_pages);
	EXPECT_EQ(n - f, st.swapped_pages);
	EXPECT_EQ(0, pi.swap_errors - e->pi0.swap_errors);
	EXPECT_EQ(0, st.sigbus);
	/* The pages were read, never written since: all have slots. */
	EXPECT_EQ(n, md.used);
}

/*
 * majflt of the faulting task rises by exactly one per page-in, for a
 * read and a write through MAP_SHARED and through MAP_PRIVATE, in this
 * process (getrusage and /proc/self/stat) and in a forked child (its own
 * majflt, not the parent's).  A second access is no fault.  A private
 * write pages the view's page in and copies it into an anonymous page
 * (private_cow): the view's page keeps its contents and its swap copy.
 * ->map_pages never pages in: a read next to swapped pages leaves them
 * swapped.
 */
TEST_F(swap, majflt_counts_page_ins)
{
	struct env *e = &self->e;
	struct cowdev_pool_info pi;
	struct cowdev_stats st;
	long ru0, st0;
	char *m, *p, c;
	int fd;
	pid_t pid;

	m = new_view(e, 12, &fd);
	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, cowdev_set_resident_limit(fd, 4));
	fill_pages(m, 0, 12, 'M');
	expect_states(fd, "DDDDDDDDdddd");
	ASSERT_EQ(0, cowdev_set_resident_limit(fd, 0));
	EXPECT_EQ(8, cowdev_pool_of(e->ctl).swap_used);

	/* Fault-around over resident and swapped neighbours: no page-in. */
	madvise(m, 12 * ps, MADV_DONTNEED);
	ru0 = majflt_rusage();
	EXPECT_EQ(-1, check_page(m, 9, 'M'));
	expect_states(fd, "DDDDDDDDdddd");
	EXPECT_EQ(0, cowdev_stats_of(fd).page_ins);
	EXPECT_EQ(ru0, majflt_rusage());

	ru0 = majflt_rusage();
	st0 = majflt_stat();
	/* MAP_SHARED read. */
	EXPECT_EQ(-1, check_page(m, 0, 'M'));
	EXPECT_EQ(ru0 + 1, majflt_rusage());
	EXPECT_EQ(-1, check_page(m, 0, 'M'));
	EXPECT_EQ(ru0 + 1, majflt_rusage());
	st = cowdev_stats_of(fd);
	EXPECT_EQ(1, st.major_faults);
	EXPECT_EQ(1, st.page_ins);
	EXPECT_EQ(8, cowdev_pool_of(e->ctl).swap_used);	/* a clean copy */
	/* MAP_SHARED write: page-in, then the copy is dropped. */
	EXPECT_EQ(0, cowdev_try_write(m + ps + 8, 'w'));
	EXPECT_EQ(ru0 + 2, majflt_rusage());
	EXPECT_EQ(7, cowdev_pool_of(e->ctl).swap_used);
	EXPECT_EQ('w', m[ps + 8]);
	m[ps + 8] = (char)(word_of('M', 1, 1) & 0xff);
	EXPECT_EQ(-1, check_page(m, 1, 'M'));
	/* MAP_PRIVATE read and write. */
	p = map_view(e, fd, 12, MAP_PRIVATE);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(-1, check_page(p, 2, 'M'));
	EXPECT_EQ(ru0 + 3, majflt_rusage());
	EXPECT_EQ(0, cowdev_try_write(p + 3 * ps, 'p'));
	EXPECT_EQ(ru0 + 4, majflt_rusage());
	EXPECT_EQ('p', p[3 * ps]);
	EXPECT_EQ(st0 + 4, majflt_stat());
	st = cowdev_stats_of(fd);
	EXPECT_EQ(4, st.major_faults);
	EXPECT_EQ(4, st.page_ins);
	EXPECT_EQ(1, st.private_cow);
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(4, pi.page_ins - e->pi0.page_ins);
	EXPECT_EQ(7, pi.swap_used);
	/* The view's page 3: unchanged, resident, no second page-in. */
	EXPECT_EQ(-1, check_page(m, 3, 'M'));
	EXPECT_EQ(ru0 + 4, majflt_rusage());
	expect_states(fd, "ddddDDDDdddd");

	/* A forked child's page-in is the child's major fault. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		long c0 = majflt_rusage();

		if (check_page(m, 4, 'M') != -1)
			_exit(1);
		if (majflt_rusage() != c0 + 1)
			_exit(2);
		if (check_page(m, 4, 'M') != -1 || majflt_rusage() != c0 + 1)
			_exit(3);
		_exit(0);
	}
	EXPECT_EQ(0, cowdev_child_status(pid));
	EXPECT_EQ(ru0 + 4, majflt_rusage());
	EXPECT_EQ(5, cowdev_stats_of(fd).major_faults);
	/* Resident now: no fault in the parent either. */
	EXPECT_EQ(0, cowdev_try_read(m + 4 * ps, &c));
	EXPECT_EQ(ru0 + 4, majflt_rusage());
	EXPECT_EQ(5, cowdev_pool_of(e->ctl).page_ins - e->pi0.page_ins);
}

/*
 * Dirty versus clean: a page read back keeps its swap copy, so evicting it
 * again writes nothing (clean_evictions, page_outs unchanged, swap_used
 * unchanged); the first write after the page-in drops the copy (swap_used
 * - 1) and the next eviction writes it again.  Limit 2 over 4 pages, fifo.
 */
TEST_F(swap, second_eviction_of_an_unwritten_page_is_clean)
{
	struct env *e = &self->e;
	struct cowdev_pool_info pi;
	struct cowdev_stats st;
	char *m;
	int fd;

	m = new_view(e, 4, &fd);
	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, cowdev_set_resident_limit(fd, 2));
	fill_pages(m, 0, 4, 'C');	/* 0 and 1 written out */
	expect_states(fd, "DDdd");
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(2, pi.page_outs - e->pi0.page_outs);
	EXPECT_EQ(2, pi.swap_used);

	/* Read 0 and 1 back: 2 and 3 are written out. */
	expect_fill(m, 0, 2, 'C');
	expect_states(fd, "ddDD");
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(4, pi.page_outs - e->pi0.page_outs);
	EXPECT_EQ(0, pi.clean_evictions - e->pi0.clean_evictions);
	EXPECT_EQ(4, pi.swap_used);	/* 0 and 1 keep clean copies */

	/* Read 2 back: 0 goes, clean. */
	expect_fill(m, 2, 3, 'C');
	expect_states(fd, "DddD");
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(4, pi.page_outs - e->pi0.page_outs);
	EXPECT_EQ(1, pi.clean_evictions - e->pi0.clean_evictions);
	EXPECT_EQ(5, pi.evictions - e->pi0.evictions);
	EXPECT_EQ(4, pi.swap_used);
	st = cowdev_stats_of(fd);
	EXPECT_EQ(4, st.page_outs);
	EXPECT_EQ(5, st.evictions);
	EXPECT_EQ(3, st.page_ins);

	/* Write 2 (read back, resident): its copy is dropped. */
	m[2 * ps] = 'W';
	EXPECT_EQ(3, cowdev_pool_of(e->ctl).swap_used);
	/* Read 3 back: 1 goes, clean. */
	expect_fill(m, 3, 4, 'C');
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(2, pi.clean_evictions - e->pi0.clean_evictions);
	EXPECT_EQ(4, pi.page_outs - e->pi0.page_outs);
	EXPECT_EQ(3, pi.swap_used);
	/* Read 0 back: 2, written since its page-in, is written out. */
	expect_fill(m, 0, 1, 'C');
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(5, pi.page_outs - e->pi0.page_outs);
	EXPECT_EQ(2, pi.clean_evictions - e->pi0.clean_evictions);
	EXPECT_EQ(7, pi.evictions - e->pi0.evictions);
	EXPECT_EQ(4, pi.swap_used);
	expect_states(fd, "dDDd");
	st = cowdev_stats_of(fd);
	EXPECT_EQ(5, st.page_outs);
	EXPECT_EQ(7, st.evictions);
	EXPECT_EQ(5, st.page_ins);
	EXPECT_EQ(5, st.major_faults);
	EXPECT_EQ('W', m[2 * ps]);
	m[2 * ps] = (char)(word_of('C', 2, 0) & 0xff);
	expect_fill(m, 0, 4, 'C');
}

/* ---- clones ---------------------------------------------------------- */

/*
 * A view A of 16 pages with pages 0-7 shared with its clone B, evicted by
 * A's resident limit of 8 when A writes pages 8-15: one slot per page for
 * both views (swap_used 8), SWAPPED|SHARED in both, counted in both views'
 * evictions and page_outs.  Returns A's fd; B's in *@b, maps in *@ma, *@mb.
 */
static int shared_swapped_pair(struct __test_metadata *_metadata,
			       struct env *e, char **ma, int *b, char **mb)
{
	struct cowdev_pool_info pi;
	struct cowdev_stats st;
	int a;

	*ma = new_view(e, 16, &a);
	if (!*ma)
		return -1;
	if (cowdev_set_resident_limit(a, 8))
		return -1;
	fill_pages(*ma, 0, 8, 'A');
	*b = clone_view(e, a);
	if (*b < 0)
		return -1;
	*mb = map_view(e, *b, 16, MAP_SHARED);
	if (!*mb)
		return -1;
	expect_states(a, "ssssssss........");
	expect_states(*b, "ssssssss........");
	fill_pages(*ma, 8, 16, 'a');
	expect_states(a, "SSSSSSSSdddddddd");
	expect_states(*b, "SSSSSSSS........");
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(8, pi.evictions - e->pi0.evictions);
	EXPECT_EQ(8, pi.page_outs - e->pi0.page_outs);
	EXPECT_EQ(0, pi.clean_evictions - e->pi0.clean_evictions);
	EXPECT_EQ(8, pi.swap_used);
	st = cowdev_stats_of(a);
	EXPECT_EQ(8, st.evictions);
	EXPECT_EQ(8, st.page_outs);
	EXPECT_EQ(16, st.demand_allocs);
	st = cowdev_stats_of(*b);
	EXPECT_EQ(8, st.evictions);
	EXPECT_EQ(8, st.page_outs);
	EXPECT_EQ(0, st.demand_allocs);
	if (cowdev_set_resident_limit(a, 0))
		return -1;
	return a;
}

/*
 * One page-in brings a shared slot back for both views: the reading view
 * takes the major fault (majflt, major_faults, page_ins), the clone's
 * later access is no major fault and no read; after the round trip
 * PAGE_STATE and shared_pages are those of before, the slots stay as
 * clean copies, and each page is one pool page.
 */
TEST_F(swap, clone_shares_a_swapped_slot)
{
	struct env *e = &self->e;
	struct cowdev_pool_info pi;
	struct cowdev_stats st;
	uint64_t used0;
	long ru0;
	char *ma, *mb;
	int a, b;

	a = shared_swapped_pair(_metadata, e, &ma, &b, &mb);
	ASSERT_LE(0, a);
	used0 = cowdev_pool_of(e->ctl).used_pages;
	ru0 = majflt_rusage();

	EXPECT_EQ(-1, check_page(ma, 3, 'A'));
	EXPECT_EQ(ru0 + 1, majflt_rusage());
	st = cowdev_stats_of(a);
	EXPECT_EQ(1, st.major_faults);
	EXPECT_EQ(1, st.page_ins);
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(1, pi.page_ins - e->pi0.page_ins);
	EXPECT_EQ(8, pi.swap_used);
	EXPECT_EQ(used0 + 1, pi.used_pages);
	expect_states(a, "SSSsSSSSdddddddd");
	expect_states(b, "SSSsSSSS........");

	/* The clone finds it in the pool: a minor fault. */
	EXPECT_EQ(-1, check_page(mb, 3, 'A'));
	EXPECT_EQ(ru0 + 1, majflt_rusage());
	st = cowdev_stats_of(b);
	EXPECT_EQ(0, st.major_faults);
	EXPECT_EQ(0, st.page_ins);
	EXPECT_EQ(1, cowdev_pool_of(e->ctl).page_ins - e->pi0.page_ins);

	/* All of them, through A, then B. */
	expect_fill(ma, 0, 8, 'A');
	EXPECT_EQ(ru0 + 8, majflt_rusage());
	expect_fill(mb, 0, 8, 'A');
	EXPECT_EQ(ru0 + 8, majflt_rusage());
	st = cowdev_stats_of(a);
	EXPECT_EQ(8, st.major_faults);
	EXPECT_EQ(8, st.page_ins);
	st = cowdev_stats_of(b);
	EXPECT_EQ(0, st.major_faults);
	EXPECT_EQ(0, st.page_ins);
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(8, pi.page_ins - e->pi0.page_ins);
	EXPECT_EQ(8, pi.swap_used);
	EXPECT_EQ(used0 + 8, pi.used_pages);
	/* As before the trip: shared, not dirty, one page for both. */
	expect_states(a, "ssssssssdddddddd");
	expect_states(b, "ssssssss........");
	expect_cow(a, 0, 0, 8);
	expect_cow(b, 0, 0, 8);
	expect_fill(ma, 8, 16, 'a');
}

/*
 * A write to a swapped page shared with a clone pages it in (one major
 * fault) and then copies it for the writer (cow_copies): the other view
 * keeps the page read back, unshared, with its swap copy; that view's
 * first write then reuses it in place and drops the copy.
 */
TEST_F(swap, write_to_a_shared_swapped_page_pages_in_then_copies)
{
	struct env *e = &self->e;
	struct cowdev_pool_info pi, pi1;
	struct cowdev_stats st;
	long ru0;
	char *ma, *mb;
	int a, b;

	a = shared_swapped_pair(_metadata, e, &ma, &b, &mb);
	ASSERT_LE(0, a);
	pi1 = cowdev_pool_of(e->ctl);
	ru0 = majflt_rusage();

	EXPECT_EQ(0, cowdev_try_write(mb + 2 * ps, 'Z'));
	EXPECT_EQ(ru0 + 1, majflt_rusage());
	st = cowdev_stats_of(b);
	EXPECT_EQ(1, st.major_faults);
	EXPECT_EQ(1, st.page_ins);
	EXPECT_EQ(1, st.cow_copies);
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(1, pi.page_ins - pi1.page_ins);
	EXPECT_EQ(2, pi.allocs - pi1.allocs);
	EXPECT_EQ(pi1.used_pages + 2, pi.used_pages);
	EXPECT_EQ(8, pi.swap_used);	/* A's page keeps its copy */
	expect_states(a, "SSrSSSSSdddddddd");
	expect_states(b, "SSdSSSSS........");
	EXPECT_EQ('Z', mb[2 * ps]);
	mb[2 * ps] = (char)(word_of('A', 2, 0) & 0xff);
	EXPECT_EQ(-1, check_page(mb, 2, 'A'));
	EXPECT_EQ(-1, check_page(ma, 2, 'A'));
	EXPECT_EQ(ru0 + 1, majflt_rusage());

	/* A's page is its own now: written in place, the copy dropped. */
	ma[2 * ps] = 'Y';
	st = cowdev_stats_of(a);
	EXPECT_EQ(1, st.cow_reuses);
	EXPECT_EQ(0, st.cow_copies);
	EXPECT_EQ(7, cowdev_pool_of(e->ctl).swap_used);
	expect_states(a, "SSdSSSSSdddddddd");

	/* The other way round: A writes a shared swapped page. */
	EXPECT_EQ(0, cowdev_try_write(ma + 5 * ps, 'X'));
	EXPECT_EQ(ru0 + 2, majflt_rusage());
	st = cowdev_stats_of(a);
	EXPECT_EQ(1, st.major_faults);
	EXPECT_EQ(1, st.cow_copies);
	expect_states(a, "SSdSSdSSdddddddd");
	expect_states(b, "SSdSSrSS........");
	EXPECT_EQ(7, cowdev_pool_of(e->ctl).swap_used);
	EXPECT_EQ('X', ma[5 * ps]);
	EXPECT_EQ(-1, check_page(mb, 5, 'A'));
	EXPECT_EQ(ru0 + 2, majflt_rusage());
	expect_fill(mb, 0, 2, 'A');
	expect_fill(ma, 6, 8, 'A');
}

/*
 * A clone of a view with swapped-out pages shares their slots without any
 * I/O; a page-in through the clone brings the page back for the source
 * too; closing the source leaves the clone every slot (swap_used
 * unchanged) and its contents.
 */
TEST_F(swap, clone_of_a_view_with_swapped_pages)
{
	struct env *e = &self->e;
	struct cowdev_pool_info pi, pi1;
	long ru0;
	char *ma, *mb;
	int a, b;

	ma = new_view(e, 12, &a);
	ASSERT_NE(NULL, ma);
	ASSERT_EQ(0, cowdev_set_resident_limit(a, 4));
	fill_pages(ma, 0, 12, 'K');
	expect_states(a, "DDDDDDDDdddd");
	ASSERT_EQ(0, cowdev_set_resident_limit(a, 0));
	pi1 = cowdev_pool_of(e->ctl);
	b = clone_view(e, a);
	ASSERT_LE(0, b);
	mb = map_view(e, b, 12, MAP_SHARED);
	ASSERT_NE(NULL, mb);
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(pi1.page_ins, pi.page_ins);
	EXPECT_EQ(pi1.page_outs, pi.page_outs);
	EXPECT_EQ(pi1.used_pages, pi.used_pages);
	EXPECT_EQ(8, pi.swap_used);
	expect_states(a, "SSSSSSSSssss");
	expect_states(b, "SSSSSSSSssss");

	ru0 = majflt_rusage();
	EXPECT_EQ(-1, check_page(mb, 0, 'K'));
	EXPECT_EQ(ru0 + 1, majflt_rusage());
	EXPECT_EQ(1, cowdev_stats_of(b).major_faults);
	expect_states(a, "sSSSSSSSssss");
	EXPECT_EQ(-1, check_page(ma, 0, 'K'));
	EXPECT_EQ(ru0 + 1, majflt_rusage());
	EXPECT_EQ(0, cowdev_stats_of(a).major_faults);

	drop_view(e, a, ma);
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(8, pi.swap_used);
	expect_states(b, "rooooooorrrr");
	expect_fill(mb, 0, 12, 'K');
	EXPECT_EQ(ru0 + 8, majflt_rusage());
	EXPECT_EQ(8, cowdev_stats_of(b).major_faults);
}

/*
 * A shrink frees the slots of the swapped pages it cuts off, unless a
 * clone still holds them; closing the last holder frees the rest, when its
 * last mapping goes.
 */
TEST_F(swap, shrink_and_close_free_slots)
{
	struct env *e = &self->e;
	struct cowdev_pool_info pi;
	char *ma;
	int a, b;

	ma = new_view(e, 20, &a);
	ASSERT_NE(NULL, ma);
	ASSERT_EQ(0, cowdev_set_resident_limit(a, 5));
	fill_pages(ma, 0, 20, 'H');
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(15, pi.swap_used);
	EXPECT_EQ(e->pi0.free_pages - 5, pi.free_pages);

	ASSERT_EQ(0, cowdev_set_size(a, 10 * ps));
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(10, pi.swap_used);
	EXPECT_EQ(e->pi0.free_pages, pi.free_pages);
	expect_states(a, "DDDDDDDDDD");

	b = clone_view(e, a);
	ASSERT_LE(0, b);
	EXPECT_EQ(10, cowdev_pool_of(e->ctl).swap_used);
	expect_states(b, "SSSSSSSSSS");
	ASSERT_EQ(0, cowdev_set_size(b, 4 * ps));
	EXPECT_EQ(10, cowdev_pool_of(e->ctl).swap_used);
	expect_states(b, "SSSS");
	expect_states(a, "SSSSoooooo");
	ASSERT_EQ(0, cowdev_set_size(a, 6 * ps));
	EXPECT_EQ(6, cowdev_pool_of(e->ctl).swap_used);
	expect_states(a, "SSSSoo");

	drop_view(e, b, NULL);
	EXPECT_EQ(6, cowdev_pool_of(e->ctl).swap_used);
	expect_states(a, "oooooo");
	ASSERT_EQ(0, cowdev_set_resident_limit(a, 0));
	expect_fill(ma, 0, 6, 'H');
	EXPECT_EQ(6, cowdev_pool_of(e->ctl).swap_used);	/* clean copies */
	EXPECT_EQ(0, cowdev_pool_of(e->ctl).clean_evictions -
		     e->pi0.clean_evictions);
	ASSERT_EQ(0, cowdev_set_resident_limit(a, 6));
	ASSERT_EQ(0, cowdev_set_size(a, 8 * ps));
	fill_pages(ma, 6, 8, 'h');	/* evicts 0 and 1, both clean */
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(6, pi.swap_used);
	EXPECT_EQ(2, pi.clean_evictions - e->pi0.clean_evictions);
	expect_states(a, "oorrrrdd");

	/* The fd first, then the last mapping. */
	drop_view(e, a, NULL);
	EXPECT_EQ(6, cowdev_pool_of(e->ctl).swap_used);
	drop_view(e, -1, ma);
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(0, pi.swap_used);
	EXPECT_EQ(e->pi0.used_pages, pi.used_pages);
	EXPECT_EQ(e->pi0.free_pages, pi.free_pages);
}

/* ---- resident limits and policies ------------------------------------ */

/*
 * A view with limit 3 writing 5 pages keeps 3 resident: 2 evictions, both
 * written out, in that view only; another view's pages stay.  A higher
 * limit lets a page-in grow the view; a lower one does not shrink it at
 * once, but the next page it needs brings it back to "at most this many"
 * (the header's words): it evicts its oldest pages until it has room for
 * the new one within the limit.  COW copies do not grow a
 * view (no eviction for them); the next page it needs evicts its oldest
 * page, shared with a clone, from both.
 */
TEST_F(swap, resident_limit_is_local_replacement)
{
	struct env *e = &self->e;
	struct cowdev_pool_info pi;
	struct cowdev_stats st;
	char *mx, *ma, *mv;
	int x, a, v, c;

	mx = new_view(e, 4, &x);
	ASSERT_NE(NULL, mx);
	fill_pages(mx, 0, 4, 'X');
	ma = new_view(e, 5, &a);
	ASSERT_NE(NULL, ma);
	ASSERT_EQ(0, cowdev_set_resident_limit(a, 3));
	fill_pages(ma, 0, 5, 'L');
	st = cowdev_stats_of(a);
	EXPECT_EQ(3, st.resident_pages);
	EXPECT_EQ(2, st.evictions);
	EXPECT_EQ(2, st.page_outs);
	EXPECT_EQ(2, st.swapped_pages);
	EXPECT_EQ(5, st.demand_allocs);
	EXPECT_EQ(3, st.resident_limit);
	expect_states(a, "DDddd");
	expect_states(x, "dddd");
	EXPECT_EQ(0, cowdev_stats_of(x).evictions);
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(2, pi.evictions - e->pi0.evictions);
	EXPECT_EQ(2, pi.page_outs - e->pi0.page_outs);
	EXPECT_EQ(2, pi.swap_used);
	EXPECT_EQ(e->pi0.free_pages - 7, pi.free_pages);

	ASSERT_EQ(0, cowdev_set_resident_limit(a, 4));
	EXPECT_EQ(-1, check_page(ma, 0, 'L'));
	expect_states(a, "dDddd");
	EXPECT_EQ(2, cowdev_stats_of(a).evictions);
	ASSERT_EQ(0, cowdev_set_resident_limit(a, 2));
	expect_states(a, "dDddd");
	/* Page 1 back: 2, 3 and 4, the oldest, go; 0 and 1 stay. */
	EXPECT_EQ(-1, check_page(ma, 1, 'L'));
	expect_states(a, "ddDDD");
	st = cowdev_stats_of(a);
	EXPECT_EQ(5, st.evictions);
	EXPECT_EQ(2, st.resident_pages);
	expect_states(x, "dddd");
	expect_fill(mx, 0, 4, 'X');
	expect_fill(ma, 0, 5, 'L');

	/* COW copies and local replacement. */
	mv = new_view(e, 3, &v);
	ASSERT_NE(NULL, mv);
	ASSERT_EQ(0, cowdev_set_resident_limit(v, 2));
	fill_pages(mv, 0, 2, 'V');
	c = clone_view(e, v);
	ASSERT_LE(0, c);
	mv[0] = 'w';			/* a COW copy: no eviction */
	st = cowdev_stats_of(v);
	EXPECT_EQ(1, st.cow_copies);
	EXPECT_EQ(0, st.evictions);
	EXPECT_EQ(2, st.resident_pages);
	expect_states(v, "ds.");
	expect_states(c, "rs.");
	fill_page(mv, 2, 'V');		/* evicts page 1, shared with c */
	expect_states(v, "dSd");
	expect_states(c, "rS.");
	EXPECT_EQ(1, cowdev_stats_of(v).evictions);
	EXPECT_EQ(1, cowdev_stats_of(c).evictions);
	EXPECT_EQ(0, cowdev_stats_of(x).evictions);
}

static const size_t belady[] = { 0, 1, 2, 3, 0, 1, 4, 0, 1, 2, 3, 4 };

/*
 * Belady's reference string 1 2 3 4 1 2 5 1 2 3 4 5 (writes, pages 0-4)
 * with 3 and 4 frames (resident limits): under fifo 9 and 10 faults
 * (demand_allocs + page_ins), the anomaly; under clock and lru the counts
 * of the simulations.  Every step is compared with the simulation: the
 * resident set and every counter.
 */
TEST_F_TIMEOUT(swap, belady_string_under_every_policy, 120)
{
	struct env *e = &self->e;
	struct cowdev_stats st;
	struct run r;
	uint64_t faults[NPOLICIES][2];
	int policy, k, fd;
	size_t frames, i;
	char *m, what[32];

	for (policy = 0; policy < NPOLICIES; policy++) {
		ASSERT_EQ(0, cowdev_param_set("evict_policy", policy_name[policy]));
		for (k = 0; k < 2; k++) {
			frames = 3 + k;
			m = new_view(e, 5, &fd);
			ASSERT_NE(NULL, m);
			ASSERT_EQ(0, cowdev_set_resident_limit(fd, frames));
			snprintf(what, sizeof(what), "%s/%zu",
				 policy_name[policy], frames);
			run_start(&r, e, fd, m, 5, policy, frames, what);
			for (i = 0; i < sizeof(belady) / sizeof(belady[0]); i++)
				run_access(_metadata, &r, belady[i], 1);
			EXPECT_EQ(0, r.failed) TH_LOG("%s", what);
			st = cowdev_stats_of(fd);
			faults[policy][k] = st.demand_allocs + st.page_ins;
			EXPECT_EQ(r.m.allocs + r.m.ins, faults[policy][k])
				TH_LOG("%s", what);
			EXPECT_EQ(faults[policy][k] - frames, st.evictions);
			if (policy == FIFO) {
				EXPECT_EQ(9 + k, r.m.allocs + r.m.ins);
				EXPECT_EQ(9 + k, faults[policy][k]);
			}
			drop_view(e, fd, m);
		}
		TH_LOG("%-5s 3 frames: %" PRIu64 " faults, 4 frames: %" PRIu64,
		       policy_name[policy], faults[policy][0],
		       faults[policy][1]);
	}
}

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

/*
 * Random reference strings with locality (10 pages, a limit of 4, 100
 * accesses), each policy against its simulation at every step: writes
 * only, then reads and writes (reads of holes, page-ins by reads that
 * keep a clean copy, clean evictions).
 */
static void random_local(struct __test_metadata *_metadata, struct env *e,
			 int reads)
{
	struct run r;
	uint32_t seed;
	size_t pg;
	int policy, i, fd, w;
	char *m, what[32];

	for (policy = 0; policy < NPOLICIES; policy++) {
		ASSERT_EQ(0, cowdev_param_set("evict_policy", policy_name[policy]));
		m = new_view(e, 10, &fd);
		ASSERT_NE(NULL, m);
		ASSERT_EQ(0, cowdev_set_resident_limit(fd, 4));
		snprintf(what, sizeof(what), "%s/%s", policy_name[policy],
			 reads ? "rw" : "w");
		run_start(&r, e, fd, m, 10, policy, 4, what);
		seed = 15 + reads;
		for (i = 0; i < 100; i++) {
			/* Mostly a hot window that moves, sometimes anywhere. */
			if (lcg(&seed) % 4)
				pg = (i / 25 * 2 + lcg(&seed) % 5) % 10;
			else
				pg = lcg(&seed) % 10;
			w = !reads || lcg(&seed) % 5 >= 2;
			run_access(_metadata, &r, pg, w);
		}
		EXPECT_EQ(0, r.failed) TH_LOG("%s", what);
		TH_LOG("%s: %" PRIu64 " allocs, %" PRIu64 " page-ins, %" PRIu64
		       " page-outs, %" PRIu64 " clean evictions", what,
		       r.m.allocs, r.m.ins, r.m.outs, r.m.clean);
		drop_view(e, fd, m);
	}
}

TEST_F_TIMEOUT(swap, policies_match_their_definitions_writes, 120)
{
	random_local(_metadata, &self->e, 0);
}

TEST_F_TIMEOUT(swap, policies_match_their_definitions_reads_and_writes, 120)
{
	random_local(_metadata, &self->e, 1);
}

/*
 * Global replacement (no limit, the whole free pool) under each policy:
 * an object of free + 16 pages written in order, then 200 writes, most
 * of them to a hot set, checked against the simulation at every step.
 */
TEST_F_TIMEOUT(swap, global_replacement_matches_the_model, 300)
{
	struct env *e = &self->e;
	size_t f = e->pi0.free_pages, n = f + 16, pg, i;
	struct run r;
	uint32_t seed = 7;
	int policy, fd;
	char *m, what[32];

	ASSERT_GE(MP, n);
	for (policy = 0; policy < NPOLICIES; policy++) {
		ASSERT_EQ(0, cowdev_param_set("evict_policy", policy_name[policy]));
		m = new_view(e, n, &fd);
		ASSERT_NE(NULL, m);
		snprintf(what, sizeof(what), "%s/global", policy_name[policy]);
		run_start(&r, e, fd, m, n, policy, f, what);
		for (i = 0; i < n && !r.failed; i++)
			run_access(_metadata, &r, i, 1);
		for (i = 0; i < 200 && !r.failed; i++) {
			if (lcg(&seed) % 4)
				pg = lcg(&seed) % 48;
			else
				pg = lcg(&seed) % n;
			run_access(_metadata, &r, pg, 1);
		}
		EXPECT_EQ(0, r.failed) TH_LOG("%s", what);
		TH_LOG("%s: %" PRIu64 " page-ins, %" PRIu64 " evictions", what,
		       r.m.ins, r.m.evictions);
		drop_view(e, fd, m);
	}
}

/*
 * evict_policy is a 0644 parameter that takes fifo, clock and lru (with
 * or without a newline) and rejects anything else with EINVAL, keeping
 * its value; the watermarks are 0644 parameters too.
 */
TEST_F(noswap, evict_policy_in_sysfs)
{
	static const char *const bad[] = { "bogus", "FIFO", "lru2", "fif" };
	static const char *const files[] = {
		"evict_policy", "low_watermark", "high_watermark",
	};
	struct stat sb;
	char buf[64], path[128];
	unsigned int i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), COWDEV_PARAM_DIR "/%s", files[i]);
		ASSERT_EQ(0, stat(path, &sb)) TH_LOG("%s", path);
		EXPECT_EQ(0644, sb.st_mode & 07777) TH_LOG("%s", path);
	}
	EXPECT_STREQ("fifo", param_read("evict_policy", buf, sizeof(buf)));
	for (i = 0; i < NPOLICIES; i++) {
		EXPECT_EQ(0, cowdev_param_set("evict_policy", policy_name[i]));
		EXPECT_STREQ(policy_name[i],
			     param_read("evict_policy", buf, sizeof(buf)));
	}
	EXPECT_EQ(0, cowdev_param_set("evict_policy", "clock\n"));
	EXPECT_STREQ("clock", param_read("evict_policy", buf, sizeof(buf)));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, cowdev_param_set("evict_policy", bad[i]))
			TH_LOG("\"%s\"", bad[i]);
		EXPECT_STREQ("clock",
			     param_read("evict_policy", buf, sizeof(buf)));
	}
	EXPECT_EQ(0, cowdev_param_set("evict_policy", "fifo"));
	EXPECT_STREQ("fifo", param_read("evict_policy", buf, sizeof(buf)));
}

/* ---- pins ------------------------------------------------------------ */

/*
 * A page vmsplice()d into a pipe (an extra reference) is never a victim:
 * with a resident limit the view evicts its other pages instead, and the
 * pinned one stays RESIDENT; under global pressure too.  Once the pipe
 * has given the page back it can be evicted again.
 */
TEST_F_TIMEOUT(swap, pinned_pages_are_never_evicted, 120)
{
	struct env *e = &self->e;
	struct iovec iov;
	char *m, *g, *pusher, *buf, st[16];
	size_t f;
	int fd, gfd, pfd, p2[2];

	m = new_view(e, 6, &fd);
	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, cowdev_set_resident_limit(fd, 3));
	fill_pages(m, 0, 3, 'P');
	ASSERT_EQ(0, pipe(e->pipe));
	iov.iov_base = m;
	iov.iov_len = ps;
	ASSERT_EQ((ssize_t)ps, vmsplice(e->pipe[1], &iov, 1, 0));
	fill_pages(m, 3, 6, 'P');
	expect_states(fd, "dDDDdd");
	EXPECT_EQ(3, cowdev_stats_of(fd).evictions);
	EXPECT_EQ(-1, check_page(m, 0, 'P'));
	buf = malloc(ps);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ((ssize_t)ps, read(e->pipe[0], buf, ps));
	EXPECT_EQ(-1, check_page(buf, 0, 'P'));
	close(e->pipe[0]);
	close(e->pipe[1]);
	e->pipe[0] = e->pipe[1] = -1;
	/* Unpinned, it can go: within the next three page-ins. */
	expect_fill(m, 1, 4, 'P');
	expect_states(fd, "DdddDD");
	EXPECT_EQ(6, cowdev_stats_of(fd).evictions);
	expect_fill(m, 0, 6, 'P');
	drop_view(e, fd, m);

	/* Global: the oldest page in the pool is pinned, the others go. */
	g = new_view(e, 1, &gfd);
	ASSERT_NE(NULL, g);
	fill_page(g, 0, 'G');
	ASSERT_EQ(0, pipe(p2));
	iov.iov_base = g;
	ASSERT_EQ((ssize_t)ps, vmsplice(p2[1], &iov, 1, 0));
	f = cowdev_pool_of(e->ctl).free_pages;
	pusher = new_view(e, f + 8, &pfd);
	ASSERT_NE(NULL, pusher);
	fill_pages(pusher, 0, f + 8, 'p');
	expect_states(gfd, "d");
	EXPECT_EQ(0, cowdev_stats_of(gfd).evictions);
	EXPECT_EQ(8, cowdev_stats_of(pfd).evictions);
	ASSERT_EQ(0, state_string(pfd, 9, st));
	EXPECT_STREQ("DDDDDDDDd", st);
	EXPECT_EQ(-1, check_page(g, 0, 'G'));
	close(p2[0]);
	close(p2[1]);
	free(buf);
}

/*
 * fifo is "the page loaded longest ago": a page skipped while it was
 * pinned is still the oldest once the pin is gone, so it is the next
 * victim.
 */
TEST_F(swap, fifo_order_survives_a_pin)
{
	struct env *e = &self->e;
	struct iovec iov;
	int fd;
	char *m;

	m = new_view(e, 6, &fd);
	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, cowdev_set_resident_limit(fd, 3));
	fill_pages(m, 0, 3, 'P');
	ASSERT_EQ(0, pipe(e->pipe));
	iov.iov_base = m;
	iov.iov_len = ps;
	ASSERT_EQ((ssize_t)ps, vmsplice(e->pipe[1], &iov, 1, 0));
	fill_pages(m, 3, 6, 'P');	/* evicts 1, 2, 3 */
	expect_states(fd, "dDDDdd");
	close(e->pipe[0]);
	close(e->pipe[1]);
	e->pipe[0] = e->pipe[1] = -1;
	EXPECT_EQ(-1, check_page(m, 1, 'P'));	/* evicts 0, the oldest */
	expect_states(fd, "DdDDdd");
	EXPECT_EQ(4, cowdev_stats_of(fd).evictions);
}

/* ---- swapoff ---------------------------------------------------------- */

/*
 * SWAPOFF reads every swapped page back, once per slot even when clones
 * share it (page_ins rises by the slots: counted once, in one of the
 * views), detaches (swap_total and swap_used 0), and the views hold the
 * same pages, shared as before; no task takes a major fault.
 */
TEST_F(swap, swapoff_brings_every_page_back)
{
	struct env *e = &self->e;
	struct cowdev_pool_info pi, pi1;
	struct cowdev_stats sa, sb;
	char *ma, *mb, want[64];
	long ru0;
	int a, b;

	ma = new_view(e, 40, &a);
	ASSERT_NE(NULL, ma);
	ASSERT_EQ(0, cowdev_set_resident_limit(a, 10));
	fill_pages(ma, 0, 40, 'F');
	ASSERT_EQ(0, cowdev_set_resident_limit(a, 0));
	b = clone_view(e, a);
	ASSERT_LE(0, b);
	mb = map_view(e, b, 40, MAP_SHARED);
	ASSERT_NE(NULL, mb);
	memset(want, 'S', 30);
	memset(want + 30, 's', 10);
	want[40] = 0;
	expect_states(a, want);
	expect_states(b, want);
	pi1 = cowdev_pool_of(e->ctl);
	EXPECT_EQ(30, pi1.swap_used);
	ru0 = majflt_rusage();

	ASSERT_EQ(0, cowdev_swapoff(e->ctl));
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(30, pi.page_ins - pi1.page_ins);
	EXPECT_EQ(0, pi.swap_total);
	EXPECT_EQ(0, pi.swap_used);
	EXPECT_EQ(pi1.free_pages - 30, pi.free_pages);
	EXPECT_EQ(pi1.page_outs, pi.page_outs);
	EXPECT_EQ(pi1.evictions, pi.evictions);
	memset(want, 's', 40);
	expect_states(a, want);
	expect_states(b, want);
	sa = cowdev_stats_of(a);
	sb = cowdev_stats_of(b);
	EXPECT_EQ(30, sa.page_ins + sb.page_ins);
	EXPECT_EQ(0, sa.major_faults);
	EXPECT_EQ(0, sb.major_faults);
	expect_fill(ma, 0, 40, 'F');
	expect_fill(mb, 0, 40, 'F');
	EXPECT_EQ(ru0, majflt_rusage());
	EXPECT_EQ(-EINVAL, cowdev_swapoff(e->ctl));
}

/*
 * SWAPOFF when the free pool cannot hold the swapped pages (one page
 * short): ENOMEM, and nothing changed, not a counter of the pool or the
 * view, not a page state; the area stays attached.  With one page more
 * it succeeds and empties the pool exactly.
 */
TEST_F_TIMEOUT(swap, swapoff_without_room_is_enomem_and_changes_nothing, 120)
{
	struct env *e = &self->e;
	size_t f = e->pi0.free_pages, n = f + 23;
	struct cowdev_pool_info p1, p2;
	struct cowdev_stats s1, s2;
	char st1[MP + 1], st2[MP + 1];
	long ru0;
	char *m;
	int fd;

	ASSERT_GE(MP, n);
	m = new_view(e, n, &fd);
	ASSERT_NE(NULL, m);
	fill_pages(m, 0, n, 'E');
	EXPECT_EQ(23, cowdev_stats_of(fd).swapped_pages);
	ASSERT_EQ(0, cowdev_set_size(fd, (f + 1) * ps));
	ASSERT_EQ(0, cowdev_reserve_settle(10000));
	p1 = cowdev_pool_of(e->ctl);
	s1 = cowdev_stats_of(fd);
	ASSERT_EQ(0, state_string(fd, f + 1, st1));
	EXPECT_EQ(22, p1.free_pages);
	EXPECT_EQ(23, p1.swap_used);

	EXPECT_EQ(-ENOMEM, cowdev_swapoff(e->ctl));
	p2 = cowdev_pool_of(e->ctl);
	s2 = cowdev_stats_of(fd);
	ASSERT_EQ(0, state_string(fd, f + 1, st2));
	EXPECT_EQ(0, memcmp(&p1, &p2, sizeof(p1))) {
		TH_LOG("pool: free %llu/%llu used %llu/%llu page_ins %llu/%llu swap_used %llu/%llu alloc_failures %llu/%llu",
		       (unsigned long long)p1.free_pages,
		       (unsigned long long)p2.free_pages,
		       (unsigned long long)p1.used_pages,
		       (unsigned long long)p2.used_pages,
		       (unsigned long long)p1.page_ins,
		       (unsigned long long)p2.page_ins,
		       (unsigned long long)p1.swap_used,
		       (unsigned long long)p2.swap_used,
		       (unsigned long long)p1.alloc_failures,
		       (unsigned long long)p2.alloc_failures);
	}
	EXPECT_EQ(0, memcmp(&s1, &s2, sizeof(s1)));
	EXPECT_STREQ(st1, st2);
	EXPECT_EQ(SWAP_PAGES, p2.swap_total);

	ASSERT_EQ(0, cowdev_set_size(fd, f * ps));
	EXPECT_EQ(23, cowdev_pool_of(e->ctl).free_pages);
	ru0 = majflt_rusage();
	ASSERT_EQ(0, cowdev_swapoff(e->ctl));
	p2 = cowdev_pool_of(e->ctl);
	EXPECT_EQ(0, p2.free_pages);
	EXPECT_EQ(23, p2.page_ins - p1.page_ins);
	EXPECT_EQ(0, p2.swap_total);
	s2 = cowdev_stats_of(fd);
	EXPECT_EQ(f, s2.resident_pages);
	EXPECT_EQ(0, s2.swapped_pages);
	expect_states(fd, repeat(st1, f, 'd'));
	expect_fill(m, 0, f, 'E');
	EXPECT_EQ(ru0, majflt_rusage());
}

/* ---- full areas and I/O errors --------------------------------------- */

/* Fill page @pg under the catcher: 0, or the signal of its first write. */
static int try_fill(char *m, size_t pg, int tag)
{
	int sig = cowdev_try_write(m + pg * ps,
				   (char)(word_of(tag, pg, 0) & 0xff));

	if (!sig)
		fill_page(m, pg, tag);
	return sig;
}

/*
 * The swap area bounds pool + swap: with 8 slots, exactly free + 8 pages
 * can be written; the next write gets SIGBUS as with an empty pool
 * (pool_failures, alloc_failures), swap_used == swap_total, no I/O error.
 * Every page is still there.
 */
TEST_F_TIMEOUT(swap, full_swap_area_and_full_pool_is_sigbus, 120)
{
	struct env *e = &self->e;
	struct cowdev_pool_info pi, pi1;
	struct cowdev_stats st;
	size_t f = e->pi0.free_pages, i;
	char *m;
	int fd, small;

	small = make_file(e, "/tmp", 8 * ps, 0);
	ASSERT_LE(0, small);
	ASSERT_EQ(0, reattach(e, small));
	pi1 = cowdev_pool_of(e->ctl);
	EXPECT_EQ(8, pi1.swap_total);
	m = new_view(e, f + 10, &fd);
	ASSERT_NE(NULL, m);
	for (i = 0; i < f + 10; i++)
		if (try_fill(m, i, 'B'))
			break;
	EXPECT_EQ(f + 8, i);
	EXPECT_EQ(SIGBUS, try_fill(m, f + 9, 'B'));
	st = cowdev_stats_of(fd);
	EXPECT_EQ(2, st.pool_failures);
	EXPECT_EQ(2, st.sigbus);
	EXPECT_EQ(8, st.evictions);
	EXPECT_EQ(8, st.swapped_pages);
	EXPECT_EQ(f, st.resident_pages);
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(2, pi.alloc_failures - pi1.alloc_failures);
	EXPECT_EQ(8, pi.swap_used);
	EXPECT_EQ(0, pi.swap_errors - pi1.swap_errors);
	EXPECT_EQ(0, pi.free_pages);
	expect_fill(m, 8, f + 8, 'B');
	/* Room in the pool: the swapped pages come back. */
	ASSERT_EQ(0, cowdev_set_size(fd, f * ps));
	EXPECT_EQ(8, cowdev_pool_of(e->ctl).free_pages);
	expect_fill(m, 0, 8, 'B');
	EXPECT_EQ(8, cowdev_stats_of(fd).page_ins);
}

/*
 * The swap area's size bounds the total (pool + swap): with 40 slots and
 * free + 30 pages of data, every page can be read back, even though the
 * clean copies of pages read back would fill the area if they were all
 * kept.  Every read works, every byte is intact.
 */
TEST_F_TIMEOUT(swap, capacity_is_pool_plus_swap, 120)
{
	struct env *e = &self->e;
	size_t f = e->pi0.free_pages, n = f + 30, i, bad = 0;
	int fd, small, sig;
	char *m, c;

	small = make_file(e, "/tmp", 40 * ps, 0);
	ASSERT_LE(0, small);
	ASSERT_EQ(0, reattach(e, small));
	m = new_view(e, n, &fd);
	ASSERT_NE(NULL, m);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, try_fill(m, i, 'U')) TH_LOG("write of page %zu", i);
	EXPECT_EQ(30, cowdev_pool_of(e->ctl).swap_used);
	for (i = 0; i < n; i++) {
		sig = cowdev_try_read(m + i * ps, &c);
		if (sig && !bad++)
			TH_LOG("read of page %zu: signal %d (swap_used %llu of 40)",
			       i, sig, (unsigned long long)
			       cowdev_pool_of(e->ctl).swap_used);
	}
	EXPECT_EQ(0, bad) TH_LOG("%zu reads of %zu failed", bad, n);
	EXPECT_EQ(bad, cowdev_stats_of(fd).sigbus);
	if (!bad)
		expect_fill(m, 0, n, 'U');
}

/*
 * The swap file truncated to 0 under the module: reading a swapped page
 * gets SIGBUS (the read comes back short) and swap_errors rises, for a
 * read and for a write access; the page stays SWAPPED, the pool page is
 * given back, no major fault is counted.  Resident pages are unharmed.
 * SWAPOFF cannot read the pages: it fails with EIO and leaves the area
 * attached and the pages swapped (asserted here: a swapoff that
 * succeeded would have lost them).  With the file's contents put back,
 * every page reads back intact.
 */
TEST_F(swap, truncated_swap_file_read_is_sigbus)
{
	struct env *e = &self->e;
	struct cowdev_pool_info pi, pi1;
	struct cowdev_stats st;
	size_t len = SWAP_PAGES * ps;
	char *m, *save, c;
	long ru0;
	int fd, ret;

	m = new_view(e, 10, &fd);
	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, cowdev_set_resident_limit(fd, 4));
	fill_pages(m, 0, 10, 'T');
	ASSERT_EQ(0, cowdev_set_resident_limit(fd, 0));
	expect_states(fd, "DDDDDDdddd");
	save = malloc(len);
	ASSERT_NE(NULL, save);
	ASSERT_EQ((ssize_t)len, pread(e->swapfd, save, len, 0));
	ASSERT_EQ(0, ftruncate(e->swapfd, 0));
	pi1 = cowdev_pool_of(e->ctl);
	ru0 = majflt_rusage();

	EXPECT_EQ(SIGBUS, cowdev_try_read(m, &c));
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(1, pi.swap_errors - pi1.swap_errors);
	EXPECT_EQ(pi1.page_ins, pi.page_ins);
	EXPECT_EQ(pi1.free_pages, pi.free_pages);
	EXPECT_EQ(pi1.used_pages, pi.used_pages);
	EXPECT_EQ(6, pi.swap_used);
	st = cowdev_stats_of(fd);
	EXPECT_EQ(1, st.sigbus);
	EXPECT_EQ(0, st.page_ins);
	EXPECT_EQ(0, st.major_faults);
	EXPECT_EQ(ru0, majflt_rusage());
	EXPECT_EQ(SIGBUS, cowdev_try_write(m + ps, 'w'));
	EXPECT_EQ(2, cowdev_pool_of(e->ctl).swap_errors - pi1.swap_errors);
	EXPECT_EQ(2, cowdev_stats_of(fd).sigbus);
	expect_states(fd, "DDDDDDdddd");
	expect_fill(m, 6, 10, 'T');

	ret = cowdev_swapoff(e->ctl);
	EXPECT_EQ(-EIO, ret) TH_LOG("swapoff of unreadable pages: %s",
				    strerror(-ret));
	pi = cowdev_pool_of(e->ctl);
	if (!ret) {
		/* Detached: the pages cannot be checked; put the area back. */
		free(save);
		return;
	}
	EXPECT_EQ(SWAP_PAGES, pi.swap_total);
	EXPECT_EQ(6, pi.swap_used);
	EXPECT_LT(2, pi.swap_errors - pi1.swap_errors);
	expect_states(fd, "DDDDDDdddd");

	/* The contents back in the file: every page reads back. */
	ASSERT_EQ(0, ftruncate(e->swapfd, len));
	ASSERT_EQ((ssize_t)len, pwrite(e->swapfd, save, len, 0));
	free(save);
	expect_fill(m, 0, 10, 'T');
	EXPECT_EQ(ru0 + 6, majflt_rusage());
	EXPECT_EQ(6, cowdev_stats_of(fd).page_ins);
	expect_states(fd, "dddddddddd");
}

/*
 * A swap file on a full filesystem (a 64 KiB tmpfs, the file sparse and
 * bigger): page-outs succeed until the filesystem is full, then fail:
 * swap_errors rises, the page stays in the pool, and the write that needed
 * a page gets SIGBUS once no victim can be written (every page of the
 * view at its limit is dirty).  No page is lost: the resident pages are
 * intact, the swapped ones read back, and with the limit lifted the write
 * gets a free pool page.
 */
TEST_F(swap, swap_file_on_a_full_filesystem)
{
	struct env *e = &self->e;
	struct cowdev_pool_info pi, pi1;
	struct cowdev_stats st;
	size_t i, k;
	char *m, want[65];
	int fd, sf, sig;

	snprintf(e->mnt, sizeof(e->mnt), "/tmp/cowdev_swap_test.%d.mnt",
		 getpid());
	ASSERT_EQ(0, mkdir(e->mnt, 0700));
	if (mount("tmpfs", e->mnt, "tmpfs", 0, "size=64k,mode=0700")) {
		int err = errno;

		rmdir(e->mnt);
		e->mnt[0] = 0;
		SKIP(return, "mount tmpfs: %s", strerror(err));
	}
	sf = make_file(e, e->mnt, 256 * ps, 0);
	ASSERT_LE(0, sf);
	ASSERT_EQ(0, reattach(e, sf));
	EXPECT_EQ(256, cowdev_pool_of(e->ctl).swap_total);
	pi1 = cowdev_pool_of(e->ctl);

	m = new_view(e, 64, &fd);
	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, cowdev_set_resident_limit(fd, 4));
	sig = 0;
	for (i = 0; i < 64; i++) {
		sig = try_fill(m, i, 'N');
		if (sig)
			break;
	}
	ASSERT_EQ(SIGBUS, sig) TH_LOG("64 pages written");
	ASSERT_LE(4, i);
	k = i - 4;		/* pages written out */
	TH_LOG("%zu page-outs fit in the filesystem", k);
	EXPECT_LE(1, k);
	EXPECT_GE(16, k);
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(k, pi.page_outs - pi1.page_outs);
	EXPECT_EQ(k, pi.evictions - pi1.evictions);
	EXPECT_LE(1, pi.swap_errors - pi1.swap_errors);
	EXPECT_EQ(k, pi.swap_used);
	st = cowdev_stats_of(fd);
	EXPECT_EQ(1, st.sigbus);
	EXPECT_EQ(k, st.evictions);
	EXPECT_EQ(4, st.resident_pages);
	memset(want, '.', 64);
	memset(want, 'D', k);
	memset(want + k, 'd', 4);
	want[64] = 0;
	expect_states(fd, want);
	expect_fill(m, k, k + 4, 'N');
	/* Still no victim can be written. */
	EXPECT_EQ(SIGBUS, try_fill(m, k + 4, 'N'));
	EXPECT_LT(pi.swap_errors, cowdev_pool_of(e->ctl).swap_errors);
	EXPECT_EQ(2, cowdev_stats_of(fd).sigbus);
	expect_states(fd, want);
	/* Without the limit the pool has room. */
	ASSERT_EQ(0, cowdev_set_resident_limit(fd, 0));
	EXPECT_EQ(0, try_fill(m, k + 4, 'N'));
	expect_fill(m, 0, k + 5, 'N');
	st = cowdev_stats_of(fd);
	EXPECT_EQ(k, st.page_ins);
	EXPECT_EQ(0, st.swapped_pages);
}

/* ---- users, kswapd, block devices ------------------------------------ */

struct charge_report {
	int err, sig;
	size_t written;
	struct cowdev_stats st;
	struct cowdev_pool_info pi;
};

/*
 * Swap slots count against the user's one limit (user_max_pages) like
 * pool pages: a user (uid 65534) whose view has a resident limit of 10
 * writes exactly user_max_pages pages, most of them swapped out, and the
 * next write gets SIGBUS (limit_failures, not pool_failures); its slots
 * are freed when it exits.
 */
TEST_F(swap, swap_slots_count_against_the_user_limit)
{
	struct env *e = &self->e;
	unsigned long umax = cowdev_param("user_max_pages");
	struct charge_report rep;
	struct cowdev_pool_info pi;
	int pfd[2];
	pid_t pid;

	if (umax <= 10 || umax >= 200)
		SKIP(return, "user_max_pages=%lu", umax);
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char *m = NULL;
		int fd;

		memset(&rep, 0, sizeof(rep));
		close(pfd[0]);
		if (setgid(65534) || setuid(65534)) {
			rep.err = 1;
		} else {
			fd = cowdev_new_view(200, &m);
			if (fd < 0)
				rep.err = 2;
			else if (cowdev_set_resident_limit(fd, 10))
				rep.err = 3;
			for (; !rep.err && rep.written < 200; rep.written++) {
				rep.sig = cowdev_try_write(m + rep.written * ps,
							   'u');
				if (rep.sig)
					break;
			}
			if (!rep.err) {
				cowdev_get_stats(fd, &rep.st);
				cowdev_pool_info(fd, &rep.pi);
			}
		}
		if (write(pfd[1], &rep, sizeof(rep)) != sizeof(rep))
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	ASSERT_EQ(sizeof(rep), read(pfd[0], &rep, sizeof(rep)));
	close(pfd[0]);
	EXPECT_EQ(0, cowdev_child_status(pid));
	ASSERT_EQ(0, rep.err);
	EXPECT_EQ(SIGBUS, rep.sig);
	EXPECT_EQ(umax, rep.written);
	EXPECT_EQ(1, rep.st.limit_failures);
	EXPECT_EQ(0, rep.st.pool_failures);
	EXPECT_EQ(1, rep.st.sigbus);
	EXPECT_EQ(umax, rep.st.resident_pages + rep.st.swapped_pages);
	EXPECT_LE(rep.st.resident_pages, 10);
	EXPECT_EQ(rep.st.swapped_pages, rep.pi.swap_used);
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(0, pi.swap_used);
	EXPECT_EQ(e->pi0.used_pages, pi.used_pages);
}

/* Wait up to 30 s for at least @want free pages; the free count. */
static uint64_t wait_free(int ctl, uint64_t want)
{
	double end = cowdev_now() + 30;
	uint64_t f;

	for (;;) {
		f = cowdev_pool_of(ctl).free_pages;
		if (f >= want || cowdev_now() > end)
			return f;
		usleep(20000);
	}
}

/*
 * The background evictor: low_watermark 8, high_watermark 16.  The write
 * that leaves 7 free pages wakes it once (kswapd_wakeups), and it evicts
 * the oldest pages (fifo) until exactly 16 are free; again for the next 9
 * writes.  Without a swap area it is never woken (see
 * without_swap_the_pool_edge_is_sigbus).
 */
TEST_F_TIMEOUT(swap, kswapd_keeps_free_pages_between_the_watermarks, 120)
{
	struct env *e = &self->e;
	size_t f = e->pi0.free_pages, w = f - 7;
	struct cowdev_pool_info pi;
	char buf[32], want[MP + 1];
	char *m;
	int fd;

	ASSERT_EQ(0, cowdev_param_set("high_watermark", "16"));
	ASSERT_EQ(0, cowdev_param_set("low_watermark", "8"));
	EXPECT_STREQ("16", param_read("high_watermark", buf, sizeof(buf)));
	EXPECT_STREQ("8", param_read("low_watermark", buf, sizeof(buf)));
	ASSERT_GE(MP, w + 9);
	m = new_view(e, w + 9, &fd);
	ASSERT_NE(NULL, m);
	fill_pages(m, 0, w - 1, 'W');
	usleep(200000);
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(8, pi.free_pages);
	EXPECT_EQ(0, pi.kswapd_wakeups - e->pi0.kswapd_wakeups);
	fill_page(m, w - 1, 'W');	/* leaves 7 free */
	EXPECT_EQ(16, wait_free(e->ctl, 16));
	usleep(200000);
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(16, pi.free_pages);
	EXPECT_EQ(1, pi.kswapd_wakeups - e->pi0.kswapd_wakeups);
	EXPECT_EQ(9, pi.evictions - e->pi0.evictions);
	EXPECT_EQ(9, pi.page_outs - e->pi0.page_outs);
	EXPECT_EQ(9, cowdev_stats_of(fd).evictions);
	memset(want, 'd', w + 9);
	memset(want, 'D', 9);
	memset(want + w, '.', 9);
	want[w + 9] = 0;
	expect_states(fd, want);

	fill_pages(m, w, w + 9, 'W');	/* leaves 7 free again */
	EXPECT_EQ(16, wait_free(e->ctl, 16));
	usleep(200000);
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(16, pi.free_pages);
	EXPECT_EQ(2, pi.kswapd_wakeups - e->pi0.kswapd_wakeups);
	EXPECT_EQ(18, pi.evictions - e->pi0.evictions);
	memset(want, 'd', w + 9);
	memset(want, 'D', 18);
	expect_states(fd, want);
	ASSERT_EQ(0, cowdev_param_set("low_watermark", "0"));
	expect_fill(m, 0, w + 9, 'W');
}

/*
 * A block device as the swap area: a loop device over a file in /tmp
 * (SKIP when there is none).  An object larger than the pool goes out and
 * comes back intact, every counter as the fifo model says.
 */
TEST_F_TIMEOUT(swap, block_device_as_swap_area, 180)
{
	struct env *e = &self->e;
	size_t f = e->pi0.free_pages, n = f + 40, i;
	struct cowdev_pool_info pi;
	struct model md;
	char path[128], cmd[256];
	FILE *p;
	char *m;
	int fd, dev, ret;

	snprintf(path, sizeof(path), "/tmp/cowdev_swap_test.%d.loop", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 512 * ps));
	close(fd);
	if (system("modprobe loop >/dev/null 2>&1"))
		TH_LOG("modprobe loop failed (maybe built in)");
	snprintf(cmd, sizeof(cmd), "losetup -f --show %s 2>/dev/null", path);
	p = popen(cmd, "r");
	if (!p || !fgets(e->loopdev, sizeof(e->loopdev), p)) {
		e->loopdev[0] = 0;
		if (p)
			pclose(p);
		unlink(path);
		SKIP(return, "no loop device");
	}
	pclose(p);
	unlink(path);
	e->loopdev[strcspn(e->loopdev, "\n")] = 0;
	dev = open(e->loopdev, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev) TH_LOG("%s: %s", e->loopdev, strerror(errno));
	ret = reattach(e, dev);
	ASSERT_EQ(0, ret) TH_LOG("swapon %s: %s", e->loopdev, strerror(-ret));
	EXPECT_EQ(512, cowdev_pool_of(e->ctl).swap_total);

	m = new_view(e, n, &fd);
	ASSERT_NE(NULL, m);
	model_init(&md, FIFO, f);
	for (i = 0; i < n; i++) {
		fill_page(m, i, 'Q');
		model_access(&md, i, 1, 0);
	}
	for (i = 0; i < n; i++)
		model_access(&md, i, 0, 0);
	expect_fill(m, 0, n, 'Q');
	pi = cowdev_pool_of(e->ctl);
	EXPECT_EQ(md.outs, pi.page_outs - e->pi0.page_outs);
	EXPECT_EQ(md.ins, pi.page_ins - e->pi0.page_ins);
	EXPECT_EQ(md.clean, pi.clean_evictions - e->pi0.clean_evictions);
	EXPECT_EQ(md.used, pi.swap_used);
	EXPECT_EQ(0, pi.swap_errors - e->pi0.swap_errors);
}

/* ---- tracepoints ---------------------------------------------------- */

struct trace {
	char dir[256];
	char *buf;		/* the events read back, one per line */
};

static int trace_write(struct trace *t, const char *file, const char *val)
{
	char path[512];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", t->dir, file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -EIO;
}

/* An instance of its own tracing the swap events and cowdev_fault. */
static int trace_start(struct trace *t)
{
	static const char *const events[] = {
		"cowdev_evict", "cowdev_page_out", "cowdev_page_in",
		"cowdev_kswapd", "cowdev_fault",
	};
	char file[128];
	unsigned int i;
	int ret;

	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir),
		 "/sys/kernel/tracing/instances/cowdev_swap_test.%d", getpid());
	if (mkdir(t->dir, 0700))
		return -errno;
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		snprintf(file, sizeof(file), "events/cowdev/%s/enable",
			 events[i]);
		ret = trace_write(t, file, "1");
		if (ret)
			return ret;
	}
	return trace_write(t, "tracing_on", "1");
}

/* Stop and read the buffer: lines from "cowdev_..." on. */
static void trace_stop(struct trace *t)
{
	char path[512], line[512], *p;
	size_t len = 0, cap = 65536;
	FILE *f;

	trace_write(t, "tracing_on", "0");
	snprintf(path, sizeof(path), "%s/trace", t->dir);
	t->buf = calloc(cap, 1);
	f = fopen(path, "r");
	if (!f || !t->buf) {
		if (f)
			fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, ": cowdev_");
		if (line[0] == '#' || !p || len + strlen(p) + 1 >= cap)
			continue;
		strcpy(t->buf + len, p + 2);
		len += strlen(p + 2);
	}
	fclose(f);
}

static void trace_end(struct trace *t)
{
	if (t->dir[0]) {
		trace_write(t, "tracing_on", "0");
		trace_write(t, "events/cowdev/enable", "0");
		rmdir(t->dir);
	}
	free(t->buf);
	t->buf = NULL;
}

/* Lines of the buffer that start with @prefix and contain @part (or NULL). */
static int trace_count(const struct trace *t, const char *prefix,
		       const char *part)
{
	const char *line = t->buf, *end;
	char one[512];
	int n = 0;
	size_t len;

	while (line && *line) {
		end = strchr(line, '\n');
		len = end ? (size_t)(end - line) : strlen(line);
		if (len >= sizeof(one))
			len = sizeof(one) - 1;
		memcpy(one, line, len);
		one[len] = 0;
		if (!strncmp(one, prefix, strlen(prefix)) &&
		    (!part || strstr(one, part)))
			n++;
		line = end ? end + 1 : NULL;
	}
	return n;
}

/*
 * The tracepoints: cowdev_evict (the view that asked, pgoff, policy, dirty
 * or clean), cowdev_page_out (err=0), cowdev_page_in (the view, pgoff,
 * ns, err=0), cowdev_fault with outcome SWAP_IN, one per eviction, write
 * and read; cowdev_kswapd once per wake-up, with the watermarks, and the
 * background evictor's evictions with view 0.
 */
TEST_F_TIMEOUT(swap, tracepoints, 120)
{
	struct env *e = &self->e;
	size_t f, i;
	struct trace t;
	char want[128], *m, *w;
	uint64_t id;
	int fd, wfd, ret;

	m = new_view(e, 4, &fd);
	ASSERT_NE(NULL, m);
	id = cowdev_stats_of(fd).view_id;
	ASSERT_EQ(0, cowdev_set_resident_limit(fd, 2));
	ret = trace_start(&t);
	if (ret) {
		trace_end(&t);
		SKIP(return, "tracefs instance: %s", strerror(-ret));
	}
	fill_pages(m, 0, 3, 'R');	/* 0 out, dirty */
	expect_fill(m, 0, 2, 'R');	/* 0 and 1 in; 1 and 2 out, dirty */
	expect_fill(m, 2, 3, 'R');	/* 2 in; 0 out, clean */
	trace_stop(&t);
	snprintf(want, sizeof(want), "cowdev_evict: view=%" PRIu64 " ", id);
	EXPECT_EQ(4, trace_count(&t, want, NULL));
	EXPECT_EQ(4, trace_count(&t, want, "policy=fifo"));
	EXPECT_EQ(3, trace_count(&t, want, "dirty=1"));
	EXPECT_EQ(1, trace_count(&t, want, "dirty=0"));
	EXPECT_EQ(2, trace_count(&t, want, "pgoff=0 "));
	EXPECT_EQ(3, trace_count(&t, "cowdev_page_out: ", NULL));
	EXPECT_EQ(3, trace_count(&t, "cowdev_page_out: ", "err=0"));
	snprintf(want, sizeof(want), "cowdev_page_in: view=%" PRIu64 " ", id);
	EXPECT_EQ(3, trace_count(&t, want, NULL));
	EXPECT_EQ(3, trace_count(&t, want, "err=0"));
	EXPECT_EQ(3, trace_count(&t, want, " ns="));
	EXPECT_EQ(3, trace_count(&t, "cowdev_fault: ", "outcome=SWAP_IN"));
	EXPECT_EQ(0, trace_count(&t, "cowdev_kswapd: ", NULL));
	if (!cowdev_test_passed(_metadata) && t.buf)
		fprintf(stderr, "%s", t.buf);
	trace_end(&t);
	drop_view(e, fd, m);

	/* The background evictor. */
	ASSERT_EQ(0, cowdev_param_set("high_watermark", "16"));
	ASSERT_EQ(0, cowdev_param_set("low_watermark", "8"));
	f = cowdev_pool_of(e->ctl).free_pages;
	w = new_view(e, f, &wfd);
	ASSERT_NE(NULL, w);
	ASSERT_EQ(0, trace_start(&t));
	for (i = 0; i < f - 7; i++)
		fill_page(w, i, 'k');
	EXPECT_EQ(16, wait_free(e->ctl, 16));
	usleep(200000);
	trace_stop(&t);
	EXPECT_EQ(1, trace_count(&t, "cowdev_kswapd: ", NULL));
	EXPECT_EQ(1, trace_count(&t, "cowdev_kswapd: ",
				 "free=7 low=8 high=16"));
	EXPECT_EQ(9, trace_count(&t, "cowdev_evict: view=0 ", NULL));
	EXPECT_EQ(9, trace_count(&t, "cowdev_page_out: ", "err=0"));
	if (!cowdev_test_passed(_metadata) && t.buf)
		fprintf(stderr, "%s", t.buf);
	trace_end(&t);
}

TEST_HARNESS_MAIN
