// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev's tracepoints, read through tracefs: each event fires
 * exactly when the documented behaviour says, once, in the documented order,
 * with the documented TP_printk text and field values: cowdev_fault for
 * every outcome that can be provoked (ZERO, ALLOC, RESIDENT, COPY, REUSE,
 * SIGBUS, POOL_EMPTY), cowdev_map_pages (window, faulting page, ptes
 * installed), cowdev_mkwrite (REUSE, COPY, ALLOC, POOL_EMPTY), cowdev_cow
 * (writer and source view ids as COWDEV_IOC_GET_STATS reports them, old and
 * new pfns as the pool handed them out), cowdev_clone (pages shared) and
 * cowdev_pool_alloc / cowdev_pool_free (pfns, free and used counts equal to
 * COWDEV_IOC_POOL_INFO, limbo).
 *
 * Each test traces into its own tracefs instance, with set_event_pid set to
 * the test's process, so only its own events are read back.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

/* The test mappings: one fault-around window (64 KiB), aligned to it. */
#define NP 16

#define MAX_EVENTS 8192

struct event {
	char text[256];		/* "cowdev_fault: view=1 pgoff=0 ..." */
	int pid;
};

struct tracer {
	char dir[256];		/* the instance */
	struct event *ev;
	int nev;
	int foreign;		/* events of another pid */
};

static const char *tracefs_root(void)
{
	static const char *const roots[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[128];
	unsigned int i;

	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(path, sizeof(path), "%s/instances", roots[i]);
		if (!access(path, F_OK))
			return roots[i];
	}
	return NULL;
}

static int write_str(const char *dir, const char *file, const char *s,
		     int flags)
{
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | flags);
	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

/* A malloc'ed, NUL-terminated copy of a whole file; NULL on error. */
static char *read_all(const char *path, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	ssize_t r;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (;;) {
		if (cap - n < 4096) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				break;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	if (buf)
		buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

/* Make an instance tracing every cowdev event of this process. */
static int tracer_start(struct tracer *t)
{
	const char *root = tracefs_root();
	char pid[32];
	int ret;

	memset(t, 0, sizeof(*t));
	if (!root)
		return -ENOENT;
	snprintf(t->dir, sizeof(t->dir), "%s/instances/cowdev_trace_test.%d",
		 root, getpid());
	rmdir(t->dir);
	if (mkdir(t->dir, 0700))
		return -errno;
	snprintf(pid, sizeof(pid), "%d", getpid());
	ret = write_str(t->dir, "set_event_pid", pid, O_TRUNC);
	if (!ret)
		ret = write_str(t->dir, "events/cowdev/enable", "1", 0);
	if (!ret)
		ret = write_str(t->dir, "tracing_on", "1", 0);
	return ret;
}

static void tracer_on(struct tracer *t, int on)
{
	write_str(t->dir, "tracing_on", on ? "1" : "0", 0);
}

/* Drop what was traced so far and go on tracing. */
static void tracer_clear(struct tracer *t)
{
	write_str(t->dir, "trace", "", O_TRUNC);
	free(t->ev);
	t->ev = NULL;
	t->nev = 0;
	t->foreign = 0;
}

/*
 * Stop tracing and parse the buffer.  A line looks like
 *   "  comm-123     [001] .....    12.345678: cowdev_fault: view=1 ..."
 */
static int tracer_stop(struct tracer *t)
{
	char path[512], *buf, *line, *save = NULL, *p, *q;

	tracer_on(t, 0);
	snprintf(path, sizeof(path), "%s/trace", t->dir);
	buf = read_all(path, NULL);
	if (!buf)
		return -errno;
	free(t->ev);
	t->ev = calloc(MAX_EVENTS, sizeof(*t->ev));
	t->nev = 0;
	t->foreign = 0;
	for (line = strtok_r(buf, "\n", &save); line && t->ev;
	     line = strtok_r(NULL, "\n", &save)) {
		struct event *e;

		if (line[0] == '#')
			continue;
		p = strstr(line, ": cowdev_");
		q = strstr(line, " [");
		if (!p || !q || q > p || t->nev == MAX_EVENTS)
			continue;
		e = &t->ev[t->nev++];
		snprintf(e->text, sizeof(e->text), "%s", p + 2);
		*q = 0;
		q = strrchr(line, '-');
		e->pid = q ? atoi(q + 1) : -1;
		if (e->pid != getpid())
			t->foreign++;
	}
	free(buf);
	return t->ev ? 0 : -ENOMEM;
}

static void tracer_end(struct tracer *t)
{
	if (!t->dir[0])
		return;
	tracer_on(t, 0);
	write_str(t->dir, "events/cowdev/enable", "0", 0);
	rmdir(t->dir);
	free(t->ev);
	t->ev = NULL;
}

/* The value of "key=" in event @i, parsed as a number (0x... allowed). */
static uint64_t ev_u64(const struct tracer *t, int i, const char *key)
{
	char want[64];
	const char *p;

	if (i < 0 || i >= t->nev)
		return ~0ULL;
	snprintf(want, sizeof(want), " %s=", key);
	p = strstr(t->ev[i].text, want);
	return p ? strtoull(p + strlen(want), NULL, 0) : ~0ULL;
}

/* Index of the @nth (from 0) event named @name, or -1. */
static int ev_find(const struct tracer *t, const char *name, int nth)
{
	size_t len = strlen(name);
	int i;

	for (i = 0; i < t->nev; i++)
		if (!strncmp(t->ev[i].text, name, len) &&
		    t->ev[i].text[len] == ':' && nth-- == 0)
			return i;
	return -1;
}

static int ev_count(const struct tracer *t, const char *name)
{
	int n = 0;

	while (ev_find(t, name, n) >= 0)
		n++;
	return n;
}

/* printf into one of a ring of static buffers. */
static const char *fmt(const char *f, ...)
{
	static char bufs[32][256];
	static int next;
	char *b = bufs[next++ % 32];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof(bufs[0]), f, ap);
	va_end(ap);
	return b;
}

static void dump(const struct tracer *t)
{
	int i;

	for (i = 0; i < t->nev; i++)
		fprintf(stderr, "#   [%d] pid %d %s\n", i, t->ev[i].pid,
			t->ev[i].text);
}

/*
 * @text without the " address=... pfn=..." that ends every cowdev_fault
 * event: most tests compare what happened; fault_address_and_pfn checks
 * where.
 */
static const char *without_where(const char *text)
{
	const char *w = strstr(text, " address=0x");

	if (strncmp(text, "cowdev_fault:", 13) || !w)
		return text;
	return fmt("%.*s", (int)(w - text), text);
}

/* The traced events, all from this process, are exactly @want[0..n). */
static void expect_events(struct __test_metadata *_metadata,
			  const struct tracer *t, const char *const *want,
			  int n)
{
	int i;

	EXPECT_EQ(0, t->foreign);
	EXPECT_EQ(n, t->nev) {
		dump(t);
	}
	for (i = 0; i < n && i < t->nev; i++)
		EXPECT_STREQ(want[i], without_where(t->ev[i].text)) {
			dump(t);
		}
}

static const char *fault_ev(uint64_t view, uint64_t pgoff, int write,
			    int shared, int mkwrite, const char *outcome)
{
	return fmt("cowdev_fault: view=%llu pgoff=%llu write=%d shared=%d mkwrite=%d outcome=%s",
		   (unsigned long long)view, (unsigned long long)pgoff, write,
		   shared, mkwrite, outcome);
}

static const char *mkwrite_ev(uint64_t view, uint64_t pgoff,
			      const char *outcome)
{
	return fmt("cowdev_mkwrite: view=%llu pgoff=%llu outcome=%s",
		   (unsigned long long)view, (unsigned long long)pgoff,
		   outcome);
}

static const char *map_pages_ev(uint64_t view, uint64_t start, uint64_t end,
				uint64_t pgoff, unsigned int mapped)
{
	return fmt("cowdev_map_pages: view=%llu start=%llu end=%llu pgoff=%llu mapped=%u",
		   (unsigned long long)view, (unsigned long long)start,
		   (unsigned long long)end, (unsigned long long)pgoff, mapped);
}

static const char *alloc_ev(uint64_t pfn, int ok, uint64_t free_pages,
			    uint64_t used)
{
	return fmt("cowdev_pool_alloc: pfn=0x%llx ok=%d free=%llu used=%llu injected=0",
		   (unsigned long long)pfn, ok,
		   (unsigned long long)free_pages, (unsigned long long)used);
}

static const char *free_ev(uint64_t pfn, int limbo, uint64_t free_pages,
			   uint64_t used)
{
	return fmt("cowdev_pool_free: pfn=0x%llx limbo=%d free=%llu used=%llu",
		   (unsigned long long)pfn, limbo,
		   (unsigned long long)free_pages, (unsigned long long)used);
}

static uint64_t view_id(int fd)
{
	struct cowdev_stats st;

	if (cowdev_get_stats(fd, &st))
		return ~0ULL;
	return st.view_id;
}

/*
 * NP pages of @fd from page 0, at an address aligned to NP pages, so that
 * a fault-around window is exactly the mapping: start=0 end=NP-1.
 */
static char *map_aligned(int fd, int prot, int flags, size_t ps)
{
	size_t len = NP * ps;
	char *area, *m;

	area = mmap(NULL, 2 * len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (area == MAP_FAILED)
		return MAP_FAILED;
	m = (char *)(((uintptr_t)area + len - 1) & ~(uintptr_t)(len - 1));
	if (m > area)
		munmap(area, m - area);
	munmap(m + len, area + 2 * len - (m + len));
	return mmap(m, len, prot, flags | MAP_FIXED, fd, 0);
}

FIXTURE(trace) {
	struct tracer tr;
	size_t ps;
	int fd;
	uint64_t id;		/* the fd's view id */
	char *map;		/* NP pages, MAP_SHARED, read-write, aligned */
};

FIXTURE_SETUP(trace)
{
	int ret;

	memset(&self->tr, 0, sizeof(self->tr));
	self->map = MAP_FAILED;
	self->ps = cowdev_page_size();
	if (!tracefs_root())
		SKIP_SETUP("no tracefs");
	if (cowdev_fault_around_pages(self->ps) != NP)
		SKIP_SETUP("fault_around_bytes is not %d pages", NP);
	self->fd = cowdev_open();
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
	ASSERT_EQ(0, cowdev_set_size(self->fd, NP * self->ps));
	self->id = view_id(self->fd);
	ASSERT_NE(~0ULL, self->id);
	self->map = map_aligned(self->fd, PROT_READ | PROT_WRITE, MAP_SHARED,
				self->ps);
	ASSERT_NE(MAP_FAILED, self->map);
	ret = tracer_start(&self->tr);
	ASSERT_EQ(0, ret) TH_LOG("tracefs instance %s: %s", self->tr.dir,
				 strerror(-ret));
}

FIXTURE_TEARDOWN(trace)
{
	tracer_end(&self->tr);
	if (self->map != MAP_FAILED) {
		munmap(self->map, NP * self->ps);
		close(self->fd);
	}
}

/* Each event's fields, with the types the documentation gives. */
TEST_F(trace, event_formats)
{
	static const char *const fields[][9] = {
		{ "cowdev_fault", "u64 view", "u64 pgoff", "bool write",
		  "bool shared", "bool mkwrite", "int outcome", "u64 address",
		  "u64 pfn" },
		{ "cowdev_map_pages", "u64 view", "u64 start", "u64 end",
		  "u64 pgoff", "u32 mapped" },
		{ "cowdev_mkwrite", "u64 view", "u64 pgoff", "int outcome" },
		{ "cowdev_cow", "u64 view", "u64 src_view", "u64 pgoff",
		  "u64 old_pfn", "u64 new_pfn" },
		{ "cowdev_clone", "u64 view", "u64 clone", "u64 pages" },
		{ "cowdev_pool_alloc", "u64 pfn", "bool ok", "u64 free",
		  "u64 used", "bool injected" },
		{ "cowdev_pool_free", "u64 pfn", "bool limbo", "u64 free",
		  "u64 used" },
		{ "cowdev_diff", "u64 view", "u64 other", "u64 start",
		  "u64 count", "u64 same", "u64 different", "u64 only_this",
		  "u64 only_other" },
		{ "cowdev_rollback", "u64 view", "u64 snapshot", "u64 old_size",
		  "u64 new_size", "u64 pages", "u64 copied" },
		{ "cowdev_written", "u64 view", "u64 start", "u64 count",
		  "u64 written", "bool clear" },
	};
	char path[512], want[64], *f;
	unsigned int i, j;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		snprintf(path, sizeof(path), "%s/events/cowdev/%s/format",
			 tracefs_root(), fields[i][0]);
		f = read_all(path, NULL);
		ASSERT_NE(NULL, f) TH_LOG("%s: %s", path, strerror(errno));
		for (j = 1; j < 9 && fields[i][j]; j++) {
			snprintf(want, sizeof(want), "field:%s;", fields[i][j]);
			EXPECT_NE(NULL, strstr(f, want))
				TH_LOG("%s has no %s", fields[i][0], want);
		}
		free(f);
	}
}

/* A read of a hole: map_pages finds nothing, ->fault maps the zero page. */
TEST_F(trace, fault_zero_on_hole_read)
{
	const char *want[2];
	char c;

	c = self->map[3 * self->ps];
	ASSERT_EQ(0, c);
	ASSERT_EQ(0, tracer_stop(&self->tr));
	want[0] = map_pages_ev(self->id, 0, NP - 1, 3, 0);
	want[1] = fault_ev(self->id, 3, 0, 1, 0, "ZERO");
	expect_events(_metadata, &self->tr, want, 2);
}

/*
 * The pfn of @addr in this process's page tables (/proc/self/pagemap, bits
 * 0-54, which only root is shown), 0 when none.
 */
static uint64_t pagemap_pfn(const void *addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), (uintptr_t)addr / getpagesize() * 8) !=
	    sizeof(e))
		e = 0;
	close(fd);
	return e >> 63 ? e & ((1ULL << 55) - 1) : 0;
}

/*
 * Each cowdev_fault event says where: the faulting user address, and the
 * pfn the access then finds there, the one /proc/self/pagemap shows (the
 * zero page for a read of a hole; the new page for a first write; after a
 * clone, the copy the COW break made).
 */
TEST_F(trace, fault_address_and_pfn)
{
	char *hole = self->map + 3 * self->ps, *page = self->map + 5 * self->ps;
	uint64_t hole_pfn, first_pfn;
	int i, clone, n;
	char c;

	if (geteuid())
		SKIP(return, "pfns in /proc/self/pagemap need root");
	c = *hole;
	ASSERT_EQ(0, c);
	hole_pfn = pagemap_pfn(hole);	/* the clone zaps it */
	*page = 1;
	first_pfn = pagemap_pfn(page);
	clone = cowdev_clone(self->fd);
	ASSERT_LE(0, clone);
	*page = 2;
	ASSERT_EQ(0, tracer_stop(&self->tr));
	n = ev_count(&self->tr, "cowdev_fault");
	ASSERT_LE(4, n) dump(&self->tr);
	i = ev_find(&self->tr, "cowdev_fault", 0);
	EXPECT_EQ((uintptr_t)hole, ev_u64(&self->tr, i, "address"));
	EXPECT_EQ(hole_pfn, ev_u64(&self->tr, i, "pfn"));
	EXPECT_NE(0, hole_pfn);
	/* The first write: ALLOC, then REUSE, both on the new page. */
	i = ev_find(&self->tr, "cowdev_fault", 1);
	EXPECT_EQ((uintptr_t)page, ev_u64(&self->tr, i, "address"));
	EXPECT_EQ(first_pfn, ev_u64(&self->tr, i, "pfn"));
	EXPECT_NE(0, first_pfn);
	/* The last ->page_mkwrite (REUSE of the copy) and the COPY before. */
	i = ev_find(&self->tr, "cowdev_fault", n - 1);
	EXPECT_EQ((uintptr_t)page, ev_u64(&self->tr, i, "address"));
	EXPECT_EQ(pagemap_pfn(page), ev_u64(&self->tr, i, "pfn"));
	for (i = 0; i < n; i++) {
		int e = ev_find(&self->tr, "cowdev_fault", i);

		if (!strstr(self->tr.ev[e].text, "outcome=COPY"))
			continue;
		EXPECT_EQ(pagemap_pfn(page), ev_u64(&self->tr, e, "pfn"));
	}
	EXPECT_NE(0, pagemap_pfn(page));
	close(clone);
}

/*
 * A first write to a hole: ->fault allocates (one pool_alloc, whose free
 * and used are the pool's counters after it), then ->page_mkwrite keeps the
 * new page.
 */
TEST_F(trace, fault_alloc_on_first_write)
{
	struct cowdev_pool_info before, after;
	const char *want[4];
	uint64_t pfn;

	before = cowdev_pool_of(self->fd);
	self->map[5 * self->ps] = 1;
	after = cowdev_pool_of(self->fd);
	ASSERT_EQ(0, tracer_stop(&self->tr));
	ASSERT_EQ(before.used_pages + 1, after.used_pages);
	pfn = ev_u64(&self->tr, 0, "pfn");
	EXPECT_NE(0, pfn);
	EXPECT_NE(~0ULL, pfn);
	want[0] = alloc_ev(pfn, 1, after.free_pages, after.used_pages);
	want[1] = fault_ev(self->id, 5, 1, 1, 0, "ALLOC");
	want[2] = fault_ev(self->id, 5, 1, 1, 1, "REUSE");
	want[3] = mkwrite_ev(self->id, 5, "REUSE");
	expect_events(_metadata, &self->tr, want, 4);
}

/*
 * Read a hole, then write it: ->page_mkwrite finds the zero page and
 * allocates (ALLOC), the access is retried, ->fault finds the page
 * (RESIDENT) and ->page_mkwrite keeps it (REUSE).
 */
TEST_F(trace, mkwrite_alloc_after_hole_read)
{
	struct cowdev_pool_info after;
	const char *want[8];
	uint64_t pfn;
	char c;

	c = self->map[2 * self->ps];
	ASSERT_EQ(0, c);
	self->map[2 * self->ps] = 'x';
	after = cowdev_pool_of(self->fd);
	ASSERT_EQ(0, tracer_stop(&self->tr));
	pfn = ev_u64(&self->tr, 2, "pfn");
	EXPECT_NE(0, pfn);
	want[0] = map_pages_ev(self->id, 0, NP - 1, 2, 0);
	want[1] = fault_ev(self->id, 2, 0, 1, 0, "ZERO");
	want[2] = alloc_ev(pfn, 1, after.free_pages, after.used_pages);
	want[3] = fault_ev(self->id, 2, 1, 1, 1, "ALLOC");
	want[4] = mkwrite_ev(self->id, 2, "ALLOC");
	want[5] = fault_ev(self->id, 2, 1, 1, 0, "RESIDENT");
	want[6] = fault_ev(self->id, 2, 1, 1, 1, "REUSE");
	want[7] = mkwrite_ev(self->id, 2, "REUSE");
	expect_events(_metadata, &self->tr, want, 8);
}

/* A write to a resident page whose pte is gone: RESIDENT, then REUSE. */
TEST_F(trace, fault_resident_and_mkwrite_reuse)
{
	const char *want[3];

	self->map[self->ps] = 1;
	ASSERT_EQ(0, madvise(self->map, NP * self->ps, MADV_DONTNEED));
	tracer_clear(&self->tr);
	self->map[self->ps] = 2;
	ASSERT_EQ(0, tracer_stop(&self->tr));
	want[0] = fault_ev(self->id, 1, 1, 1, 0, "RESIDENT");
	want[1] = fault_ev(self->id, 1, 1, 1, 1, "REUSE");
	want[2] = mkwrite_ev(self->id, 1, "REUSE");
	expect_events(_metadata, &self->tr, want, 3);
}

/*
 * MAP_PRIVATE: shared=0.  A read of a hole maps the zero page, a write to a
 * hole is given the zero page to copy, a write to a resident page is given
 * that page; core mm copies, so no pool page and no ->page_mkwrite.
 */
TEST_F(trace, private_mapping_faults)
{
	const char *want[4];
	char *priv, c;

	self->map[7 * self->ps] = 1;
	priv = map_aligned(self->fd, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			   self->ps);
	ASSERT_NE(MAP_FAILED, priv);
	tracer_clear(&self->tr);
	priv[6 * self->ps] = 1;
	priv[7 * self->ps] = 2;
	c = priv[8 * self->ps];
	ASSERT_EQ(0, tracer_stop(&self->tr));
	ASSERT_EQ(0, c);
	want[0] = fault_ev(self->id, 6, 1, 0, 0, "ZERO");
	want[1] = fault_ev(self->id, 7, 1, 0, 0, "RESIDENT");
	/* Page 7 is resident but already mapped here: map_pages skips it. */
	want[2] = map_pages_ev(self->id, 0, NP - 1, 8, 0);
	want[3] = fault_ev(self->id, 8, 0, 0, 0, "ZERO");
	expect_events(_metadata, &self->tr, want, 4);
	EXPECT_EQ(1, self->map[7 * self->ps]);
	munmap(priv, NP * self->ps);
}

/* Accesses at or beyond the size: SIGBUS, for reads and writes. */
TEST_F(trace, fault_sigbus_beyond_size)
{
	const char *want[3];
	char c;

	ASSERT_EQ(0, cowdev_set_size(self->fd, 8 * self->ps));
	tracer_clear(&self->tr);
	EXPECT_EQ(SIGBUS, cowdev_try_write(self->map + 10 * self->ps, 1));
	EXPECT_EQ(SIGBUS, cowdev_try_read(self->map + 12 * self->ps, &c));
	ASSERT_EQ(0, tracer_stop(&self->tr));
	want[0] = fault_ev(self->id, 10, 1, 1, 0, "SIGBUS");
	want[1] = map_pages_ev(self->id, 0, NP - 1, 12, 0);
	want[2] = fault_ev(self->id, 12, 0, 1, 0, "SIGBUS");
	expect_events(_metadata, &self->tr, want, 3);
}

/*
 * Fault-around over a window of resident pages: one map_pages call maps
 * all of them, including the faulting page, so ->fault never runs.
 */
TEST_F(trace, map_pages_maps_the_resident_window)
{
	const char *want[1];
	int i;

	for (i = 0; i < NP; i++)
		self->map[i * self->ps] = (char)(i + 1);
	/* The page table stays: map_pages can install ptes in it. */
	ASSERT_EQ(0, madvise(self->map, NP * self->ps, MADV_DONTNEED));
	tracer_clear(&self->tr);
	ASSERT_EQ(6, self->map[5 * self->ps]);
	for (i = 0; i < NP; i++)
		ASSERT_EQ((char)(i + 1), self->map[i * self->ps]);
	ASSERT_EQ(0, tracer_stop(&self->tr));
	want[0] = map_pages_ev(self->id, 0, NP - 1, 5, NP);
	expect_events(_metadata, &self->tr, want, 1);
}

/* Half the window resident: mapped counts only those; holes reach ->fault. */
TEST_F(trace, map_pages_counts_only_resident_pages)
{
	const char *want[3];
	int i;

	for (i = 0; i < NP; i += 2)
		self->map[i * self->ps] = 1;
	ASSERT_EQ(0, madvise(self->map, NP * self->ps, MADV_DONTNEED));
	tracer_clear(&self->tr);
	ASSERT_EQ(1, self->map[0]);
	ASSERT_EQ(0, self->map[self->ps]);
	ASSERT_EQ(0, tracer_stop(&self->tr));
	want[0] = map_pages_ev(self->id, 0, NP - 1, 0, NP / 2);
	want[1] = map_pages_ev(self->id, 0, NP - 1, 1, 0);
	want[2] = fault_ev(self->id, 1, 0, 1, 0, "ZERO");
	expect_events(_metadata, &self->tr, want, 3);
}

/*
 * cowdev_clone: the source's and the clone's view ids and the pages shared;
 * nothing is allocated.  A clone of a clone, and of an empty view, too.
 */
TEST_F(trace, clone_events)
{
	int c1, c2, empty, c3, i;
	const char *want[3];

	for (i = 0; i < 5; i++)
		self->map[i * self->ps] = 1;
	empty = cowdev_open();
	ASSERT_LE(0, empty);
	tracer_clear(&self->tr);
	c1 = cowdev_clone(self->fd);
	ASSERT_LE(0, c1);
	c2 = cowdev_clone(c1);
	ASSERT_LE(0, c2);
	c3 = cowdev_clone(empty);
	ASSERT_LE(0, c3);
	ASSERT_EQ(0, tracer_stop(&self->tr));
	want[0] = fmt("cowdev_clone: view=%llu clone=%llu pages=5",
		      (unsigned long long)self->id,
		      (unsigned long long)view_id(c1));
	want[1] = fmt("cowdev_clone: view=%llu clone=%llu pages=5",
		      (unsigned long long)view_id(c1),
		      (unsigned long long)view_id(c2));
	want[2] = fmt("cowdev_clone: view=%llu clone=%llu pages=0",
		      (unsigned long long)view_id(empty),
		      (unsigned long long)view_id(c3));
	expect_events(_metadata, &self->tr, want, 3);
	EXPECT_NE(view_id(c1), self->id);
	EXPECT_NE(view_id(c1), view_id(c2));
	close(c3);
	close(c2);
	close(c1);
	close(empty);
}

/*
 * A COW break through the clone: cowdev_cow names the clone as the writer
 * and the original as the source; old_pfn is the page the original
 * allocated, new_pfn the page just allocated for the copy.  The original
 * then writes its page in place: no copy, no allocation.
 */
TEST_F(trace, cow_break_through_the_clone)
{
	uint64_t old_pfn, new_pfn, cid;
	struct cowdev_pool_info pi;
	struct cowdev_stats st;
	const char *want[8];
	int clone;
	char *m2;

	self->map[0] = 'a';
	ASSERT_EQ(0, tracer_stop(&self->tr));
	old_pfn = ev_u64(&self->tr, ev_find(&self->tr, "cowdev_pool_alloc", 0),
			 "pfn");
	ASSERT_NE(0, old_pfn);
	ASSERT_NE(~0ULL, old_pfn);
	clone = cowdev_clone(self->fd);
	ASSERT_LE(0, clone);
	cid = view_id(clone);
	m2 = map_aligned(clone, PROT_READ | PROT_WRITE, MAP_SHARED, self->ps);
	ASSERT_NE(MAP_FAILED, m2);
	tracer_clear(&self->tr);
	tracer_on(&self->tr, 1);

	m2[0] = 'b';
	pi = cowdev_pool_of(self->fd);
	ASSERT_EQ(0, tracer_stop(&self->tr));
	new_pfn = ev_u64(&self->tr, 0, "pfn");
	EXPECT_NE(0, new_pfn);
	EXPECT_NE(old_pfn, new_pfn);
	/*
	 * A write fault with no pte: ->fault copies and returns the copy,
	 * ->page_mkwrite finds it the clone's own.  One fault.
	 */
	want[0] = alloc_ev(new_pfn, 1, pi.free_pages, pi.used_pages);
	want[1] = fmt("cowdev_cow: view=%llu src_view=%llu pgoff=0 old_pfn=0x%llx new_pfn=0x%llx",
		      (unsigned long long)cid, (unsigned long long)self->id,
		      (unsigned long long)old_pfn,
		      (unsigned long long)new_pfn);
	want[2] = fault_ev(cid, 0, 1, 1, 0, "COPY");
	want[3] = fault_ev(cid, 0, 1, 1, 1, "REUSE");
	want[4] = mkwrite_ev(cid, 0, "REUSE");
	expect_events(_metadata, &self->tr, want, 5);
	ASSERT_EQ(0, cowdev_get_stats(clone, &st));
	EXPECT_EQ(1, st.cow_copies);
	EXPECT_EQ(cid, st.view_id);

	/* The original's page is its own again: written in place. */
	tracer_clear(&self->tr);
	tracer_on(&self->tr, 1);
	self->map[0] = 'c';
	ASSERT_EQ(0, tracer_stop(&self->tr));
	want[0] = fault_ev(self->id, 0, 1, 1, 0, "RESIDENT");
	want[1] = fault_ev(self->id, 0, 1, 1, 1, "REUSE");
	want[2] = mkwrite_ev(self->id, 0, "REUSE");
	expect_events(_metadata, &self->tr, want, 3);
	ASSERT_EQ(0, cowdev_get_stats(self->fd, &st));
	EXPECT_EQ(1, st.cow_reuses);
	EXPECT_EQ(0, st.cow_copies);
	EXPECT_EQ('b', m2[0]);
	EXPECT_EQ('c', self->map[0]);
	munmap(m2, NP * self->ps);
	close(clone);
}

/* The original writes after a clone: view and src_view are both its id. */
TEST_F(trace, cow_break_through_the_original)
{
	uint64_t old_pfn, new_pfn;
	int clone, i;

	self->map[3 * self->ps] = 'a';
	ASSERT_EQ(0, tracer_stop(&self->tr));
	old_pfn = ev_u64(&self->tr, ev_find(&self->tr, "cowdev_pool_alloc", 0),
			 "pfn");
	clone = cowdev_clone(self->fd);
	ASSERT_LE(0, clone);
	tracer_clear(&self->tr);
	tracer_on(&self->tr, 1);
	self->map[3 * self->ps] = 'b';
	ASSERT_EQ(0, tracer_stop(&self->tr));
	ASSERT_EQ(1, ev_count(&self->tr, "cowdev_cow"));
	ASSERT_EQ(1, ev_count(&self->tr, "cowdev_pool_alloc"));
	new_pfn = ev_u64(&self->tr, ev_find(&self->tr, "cowdev_pool_alloc", 0),
			 "pfn");
	i = ev_find(&self->tr, "cowdev_cow", 0);
	EXPECT_STREQ(fmt("cowdev_cow: view=%llu src_view=%llu pgoff=3 old_pfn=0x%llx new_pfn=0x%llx",
			 (unsigned long long)self->id,
			 (unsigned long long)self->id,
			 (unsigned long long)old_pfn,
			 (unsigned long long)new_pfn), self->tr.ev[i].text);
	EXPECT_NE(0, old_pfn);
	EXPECT_NE(0, new_pfn);
	EXPECT_NE(old_pfn, new_pfn);
	close(clone);
}

/*
 * Closing a view returns its pages: one cowdev_pool_free per page, with
 * the pfns allocated before, limbo=0, and free/used counting back.
 */
TEST_F(trace, pool_free_on_close)
{
	uint64_t pfns[3], seen[3];
	struct cowdev_pool_info pi;
	int fd, i, j, idx;
	char *m;

	fd = cowdev_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cowdev_set_size(fd, 3 * self->ps));
	m = mmap(NULL, 3 * self->ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	for (i = 0; i < 3; i++)
		m[i * self->ps] = 1;
	ASSERT_EQ(0, tracer_stop(&self->tr));
	ASSERT_EQ(3, ev_count(&self->tr, "cowdev_pool_alloc"));
	for (i = 0; i < 3; i++)
		pfns[i] = ev_u64(&self->tr,
				 ev_find(&self->tr, "cowdev_pool_alloc", i),
				 "pfn");
	pi = cowdev_pool_of(self->fd);
	tracer_clear(&self->tr);
	tracer_on(&self->tr, 1);
	ASSERT_EQ(0, munmap(m, 3 * self->ps));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, tracer_stop(&self->tr));
	EXPECT_EQ(3, self->tr.nev) {
		dump(&self->tr);
	}
	ASSERT_EQ(3, ev_count(&self->tr, "cowdev_pool_free"));
	for (i = 0; i < 3; i++) {
		idx = ev_find(&self->tr, "cowdev_pool_free", i);
		seen[i] = ev_u64(&self->tr, idx, "pfn");
		EXPECT_STREQ(free_ev(seen[i], 0, pi.free_pages + i + 1,
				     pi.used_pages - i - 1),
			     self->tr.ev[idx].text);
	}
	/* The same pfns, in any order. */
	for (i = 0; i < 3; i++) {
		for (j = 0; j < 3 && seen[j] != pfns[i]; j++)
			;
		EXPECT_LT(j, 3) TH_LOG("pfn 0x%llx not freed",
				       (unsigned long long)pfns[i]);
	}
	EXPECT_EQ(pi.free_pages + 3, cowdev_pool_of(self->fd).free_pages);
}

/*
 * A page still referenced from outside (a pipe holds it after vmsplice)
 * goes to limbo when its view dies (limbo=1); once the pipe lets go, the
 * next POOL_INFO returns it to the free list (limbo=0, same pfn).
 */
TEST_F(trace, pool_free_through_limbo)
{
	struct cowdev_pool_info pi;
	int fd, pipefd[2], idx;
	struct iovec iov;
	uint64_t pfn;
	char *m;

	fd = cowdev_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cowdev_set_size(fd, self->ps));
	m = mmap(NULL, self->ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	memset(m, 'v', self->ps);
	ASSERT_EQ(0, tracer_stop(&self->tr));
	pfn = ev_u64(&self->tr, ev_find(&self->tr, "cowdev_pool_alloc", 0),
		     "pfn");
	ASSERT_NE(0, pfn);
	ASSERT_EQ(0, pipe(pipefd));
	iov.iov_base = m;
	iov.iov_len = self->ps;
	ASSERT_EQ((ssize_t)self->ps, vmsplice(pipefd[1], &iov, 1, 0));
	pi = cowdev_pool_of(self->fd);
	tracer_clear(&self->tr);
	tracer_on(&self->tr, 1);
	ASSERT_EQ(0, munmap(m, self->ps));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, tracer_stop(&self->tr));
	idx = ev_find(&self->tr, "cowdev_pool_free", 0);
	ASSERT_LE(0, idx) {
		dump(&self->tr);
	}
	EXPECT_EQ(1, self->tr.nev);
	/* Still used while in limbo. */
	EXPECT_STREQ(free_ev(pfn, 1, pi.free_pages, pi.used_pages),
		     self->tr.ev[idx].text);
	EXPECT_EQ(1, cowdev_pool_of(self->fd).limbo_pages);

	close(pipefd[0]);
	close(pipefd[1]);
	tracer_clear(&self->tr);
	tracer_on(&self->tr, 1);
	pi = cowdev_pool_of(self->fd);
	ASSERT_EQ(0, tracer_stop(&self->tr));
	EXPECT_EQ(0, pi.limbo_pages);
	idx = ev_find(&self->tr, "cowdev_pool_free", 0);
	ASSERT_LE(0, idx);
	EXPECT_EQ(1, self->tr.nev);
	EXPECT_STREQ(free_ev(pfn, 0, pi.free_pages, pi.used_pages),
		     self->tr.ev[idx].text);
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/*
 * The pool runs dry: the failed allocation is traced with pfn=0 ok=0
 * free=0, and the access gets SIGBUS with outcome POOL_EMPTY, both from
 * ->fault (a first write) and from ->page_mkwrite (a COW break).
 */
TEST_F_TIMEOUT(trace, pool_empty, 120)
{
	struct cowdev_pool_info pi;
	const char *want[8];
	uint64_t fill_id, cid;
	int fill, clone;
	char *big, *m2;
	size_t len;

	self->map[0] = 'a';
	clone = cowdev_clone(self->fd);
	ASSERT_LE(0, clone);
	cid = view_id(clone);
	m2 = map_aligned(clone, PROT_READ | PROT_WRITE, MAP_SHARED, self->ps);
	ASSERT_NE(MAP_FAILED, m2);

	/* Take every free page, untraced. */
	pi = cowdev_pool_of(self->fd);
	if (pi.free_pages > 65536)
		SKIP(return, "pool of %llu free pages is too big to empty",
		     (unsigned long long)pi.free_pages);
	fill = cowdev_open();
	ASSERT_LE(0, fill);
	fill_id = view_id(fill);
	len = (pi.free_pages + 1) * self->ps;
	ASSERT_EQ(0, cowdev_set_size(fill, len));
	big = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fill, 0);
	ASSERT_NE(MAP_FAILED, big);
	tracer_on(&self->tr, 0);
	ASSERT_EQ(0, madvise(big, len - self->ps, MADV_POPULATE_WRITE))
		TH_LOG("MADV_POPULATE_WRITE: %s", strerror(errno));
	pi = cowdev_pool_of(self->fd);
	ASSERT_EQ(0, pi.free_pages);
	tracer_clear(&self->tr);
	tracer_on(&self->tr, 1);

	EXPECT_EQ(SIGBUS, cowdev_try_write(big + len - self->ps, 1));
	EXPECT_EQ(SIGBUS, cowdev_try_write(m2, 'b'));
	ASSERT_EQ(0, tracer_stop(&self->tr));
	want[0] = alloc_ev(0, 0, 0, pi.used_pages);
	want[1] = fault_ev(fill_id, len / self->ps - 1, 1, 1, 0, "POOL_EMPTY");
	/* The COW break in ->fault (no pte yet) finds the pool empty. */
	want[2] = alloc_ev(0, 0, 0, pi.used_pages);
	want[3] = fault_ev(cid, 0, 1, 1, 0, "POOL_EMPTY");
	expect_events(_metadata, &self->tr, want, 4);
	EXPECT_EQ(pi.alloc_failures + 2, cowdev_pool_of(self->fd).alloc_failures);

	munmap(big, len);
	close(fill);
	munmap(m2, NP * self->ps);
	close(clone);
}

TEST_HARNESS_MAIN
