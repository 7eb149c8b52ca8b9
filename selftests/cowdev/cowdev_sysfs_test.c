// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev's sysfs and debugfs files against the ioctls:
 *  - /sys/class/misc/cowdev/<attr>: one decimal number and a newline, equal
 *    to the field of COWDEV_IOC_POOL_INFO at a quiescent moment, following
 *    allocations and frees, and read-only;
 *  - /sys/kernel/debug/cowdev/views: the documented header, then one line
 *    per live view whose numbers equal COWDEV_IOC_GET_STATS of that view and
 *    whose pid is the process that opened (or cloned) it; the line goes when
 *    the view dies (last fd and last mapping gone), not before;
 *  - /sys/kernel/debug/cowdev/pagemap/<id>: size_pages bytes equal to
 *    COWDEV_IOC_PAGE_STATE, at any offset, for a known pattern of holes,
 *    shared, dirty and copied pages; gone with the view.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

#define SYSFS_DIR "/sys/class/misc/cowdev"
#define DEBUGFS "/sys/kernel/debug"
#define VIEWS DEBUGFS "/cowdev/views"
#define PAGEMAP_DIR DEBUGFS "/cowdev/pagemap"

#define VIEWS_HEADER "id pid size_pages resident shared faults " \
	"map_pages_calls map_pages_mapped mkwrite zero_maps demand_allocs " \
	"private_cow sigbus pool_failures cow_copies cow_reuses clones " \
	"limit_failures pinned_copies major_faults page_ins page_outs " \
	"evictions swapped resident_limit\n"
#define NCOLS 25

static const char *const attrs[] = {
	"total_pages", "free_pages", "used_pages", "peak_used",
	"alloc_failures", "views", "limbo_pages", "allocs", "frees",
	"swap_total", "swap_used", "page_outs", "page_ins", "evictions",
	"clean_evictions", "swap_errors", "kswapd_wakeups", "zeroed_pages",
	"zeroed_allocs", "inline_zeroes",
};
#define NATTRS (sizeof(attrs) / sizeof(attrs[0]))

/* The POOL_INFO fields in the order of attrs[]. */
static void pool_fields(const struct cowdev_pool_info *pi, uint64_t *v)
{
	v[0] = pi->total_pages;
	v[1] = pi->free_pages;
	v[2] = pi->used_pages;
	v[3] = pi->peak_used;
	v[4] = pi->alloc_failures;
	v[5] = pi->views;
	v[6] = pi->limbo_pages;
	v[7] = pi->allocs;
	v[8] = pi->frees;
	v[9] = pi->swap_total;
	v[10] = pi->swap_used;
	v[11] = pi->page_outs;
	v[12] = pi->page_ins;
	v[13] = pi->evictions;
	v[14] = pi->clean_evictions;
	v[15] = pi->swap_errors;
	v[16] = pi->kswapd_wakeups;
	v[17] = pi->zeroed_pages;
	v[18] = pi->zeroed_allocs;
	v[19] = pi->inline_zeroes;
}

/*
 * Read one attribute: it must be a decimal number and one newline, nothing
 * else.  Returns 0 and the value, or -1.
 */
static int read_attr(const char *name, uint64_t *val)
{
	char path[256], buf[64], *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", SYSFS_DIR, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 2 || buf[n - 1] != '\n')
		return -1;
	buf[n] = 0;
	if (buf[0] < '0' || buf[0] > '9')
		return -1;
	errno = 0;
	*val = strtoull(buf, &end, 10);
	if (errno || end != buf + n - 1)
		return -1;
	return 0;
}

/* All attributes; false if one is missing or malformed. */
static int read_attrs(uint64_t *v)
{
	unsigned int i;

	for (i = 0; i < NATTRS; i++)
		if (read_attr(attrs[i], &v[i]))
			return 0;
	return 1;
}

static int debugfs_ready(void)
{
	if (!access(VIEWS, R_OK))
		return 1;
	mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
	return !access(VIEWS, R_OK);
}

/* The whole views file, NUL-terminated (malloc'ed), or NULL. */
static char *read_views(void)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	ssize_t r;
	int fd = open(VIEWS, O_RDONLY);

	if (fd < 0 || !buf) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	while (buf && (r = read(fd, buf + n, cap - n - 1)) > 0) {
		n += r;
		if (cap - n < 4096)
			buf = realloc(buf, cap *= 2);
	}
	close(fd);
	if (buf)
		buf[n] = 0;
	return buf;
}

/*
 * The numbers of the line of view @id in @table; returns how many lines
 * had that id (0 or 1 when all is well), -1 if a line is malformed.
 */
static int views_line(const char *table, uint64_t id, uint64_t *cols)
{
	const char *line = strchr(table, '\n');
	uint64_t v[NCOLS];
	int found = 0, i;
	char *end;

	while (line && *++line) {
		const char *p = line;

		for (i = 0; i < NCOLS; i++) {
			if (*p < '0' || *p > '9')
				return -1;
			v[i] = strtoull(p, &end, 10);
			if (*end != (i == NCOLS - 1 ? '\n' : ' '))
				return -1;
			p = end + 1;
		}
		if (v[0] == id) {
			memcpy(cols, v, sizeof(v));
			found++;
		}
		line = p - 1;
	}
	return found;
}

/* Number of view lines in @table, -1 if malformed. */
static int views_lines(const char *table)
{
	const char *p = strchr(table, '\n');
	int n = 0;

	if (!p)
		return -1;
	while (*++p) {
		p = strchr(p, '\n');
		if (!p)
			return -1;
		n++;
	}
	return n;
}

/* GET_STATS in the order of the views columns (pid given). */
static void stats_cols(const struct cowdev_stats *st, uint64_t pid,
		       uint64_t *c)
{
	c[0] = st->view_id;
	c[1] = pid;
	c[2] = st->size_pages;
	c[3] = st->resident_pages;
	c[4] = st->shared_pages;
	c[5] = st->faults;
	c[6] = st->map_pages_calls;
	c[7] = st->map_pages_mapped;
	c[8] = st->mkwrite;
	c[9] = st->zero_maps;
	c[10] = st->demand_allocs;
	c[11] = st->private_cow;
	c[12] = st->sigbus;
	c[13] = st->pool_failures;
	c[14] = st->cow_copies;
	c[15] = st->cow_reuses;
	c[16] = st->clones;
	c[17] = st->limit_failures;
	c[18] = st->pinned_copies;
	c[19] = st->major_faults;
	c[20] = st->page_ins;
	c[21] = st->page_outs;
	c[22] = st->evictions;
	c[23] = st->swapped_pages;
	c[24] = st->resident_limit;
}

static const char *const col_names[NCOLS] = {
	"id", "pid", "size_pages", "resident", "shared", "faults",
	"map_pages_calls", "map_pages_mapped", "mkwrite", "zero_maps",
	"demand_allocs", "private_cow", "sigbus", "pool_failures",
	"cow_copies", "cow_reuses", "clones", "limit_failures",
	"pinned_copies", "major_faults", "page_ins", "page_outs", "evictions",
	"swapped", "resident_limit",
};

static const char *col_name(int i)
{
	return i >= 0 && i < NCOLS ? col_names[i] : "?";
}

static const char *attr_name(unsigned int i)
{
	return i < NATTRS ? attrs[i] : "?";
}

/* The views line of @fd's view equals its GET_STATS, pid @pid. */
static void expect_line_is_stats(struct __test_metadata *_metadata, int fd,
				 pid_t pid)
{
	struct cowdev_stats st, st2;
	uint64_t want[NCOLS], got[NCOLS];
	char *table;
	int i;

	ASSERT_EQ(0, cowdev_get_stats(fd, &st));
	table = read_views();
	ASSERT_NE(NULL, table);
	ASSERT_EQ(0, cowdev_get_stats(fd, &st2));
	/* Quiescent: nothing moved while the table was read. */
	ASSERT_EQ(0, memcmp(&st, &st2, sizeof(st)));
	ASSERT_EQ(1, views_line(table, st.view_id, got)) {
		TH_LOG("view %llu in:\n%s", (unsigned long long)st.view_id,
		       table);
	}
	stats_cols(&st, pid, want);
	for (i = 0; i < NCOLS; i++)
		EXPECT_EQ(want[i], got[i])
			TH_LOG("view %llu column %s",
			       (unsigned long long)st.view_id, col_name(i));
	free(table);
}

static int view_listed(uint64_t id)
{
	uint64_t cols[NCOLS];
	char *table = read_views();
	int n;

	if (!table)
		return -1;
	n = views_line(table, id, cols);
	free(table);
	return n;
}

static void pagemap_path(char *buf, size_t len, uint64_t id)
{
	snprintf(buf, len, "%s/%llu", PAGEMAP_DIR, (unsigned long long)id);
}

static uint64_t view_id(int fd)
{
	struct cowdev_stats st;

	if (cowdev_get_stats(fd, &st))
		return ~0ULL;
	return st.view_id;
}

FIXTURE(cowdev) {
	size_t ps;
	int fd;
};

FIXTURE_SETUP(cowdev)
{
	self->ps = cowdev_page_size();
	self->fd = cowdev_open();
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(cowdev)
{
	close(self->fd);
}

/*
 * Every attribute is there and equals POOL_INFO while nothing moves (once
 * the zeroer has made its reserve).
 */
TEST_F(cowdev, attributes_equal_pool_info)
{
	struct cowdev_pool_info a, b;
	uint64_t want[NATTRS], got[NATTRS];
	unsigned int i;

	ASSERT_EQ(0, cowdev_reserve_settle(10000));
	ASSERT_EQ(0, cowdev_pool_info(self->fd, &a));
	ASSERT_TRUE(read_attrs(got));
	ASSERT_EQ(0, cowdev_pool_info(self->fd, &b));
	ASSERT_EQ(0, memcmp(&a, &b, sizeof(a)));
	pool_fields(&a, want);
	for (i = 0; i < NATTRS; i++)
		EXPECT_EQ(want[i], got[i]) TH_LOG("%s", attr_name(i));
	EXPECT_EQ(got[0], got[1] + got[2] + 1);
	EXPECT_EQ(cowdev_param("pool_pages"), got[0]);
}

/* The attributes move with the pool: pages allocated, views, frees. */
TEST_F(cowdev, attributes_follow_the_pool)
{
	uint64_t before[NATTRS], mid[NATTRS], after[NATTRS];
	struct cowdev_pool_info pi;
	int fd, i;
	char *m;

	ASSERT_TRUE(read_attrs(before));
	fd = cowdev_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cowdev_set_size(fd, 8 * self->ps));
	m = mmap(NULL, 8 * self->ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 0);
	ASSERT_NE(MAP_FAILED, m);
	for (i = 0; i < 5; i++)
		m[i * self->ps] = 1;
	ASSERT_TRUE(read_attrs(mid));
	EXPECT_EQ(before[0], mid[0]);
	EXPECT_EQ(before[1] - 5, mid[1]);
	EXPECT_EQ(before[2] + 5, mid[2]);
	EXPECT_LE(before[2] + 5, mid[3]);
	EXPECT_EQ(before[5] + 1, mid[5]);
	EXPECT_EQ(before[7] + 5, mid[7]);
	EXPECT_EQ(before[8], mid[8]);
	ASSERT_EQ(0, cowdev_pool_info(self->fd, &pi));
	EXPECT_EQ(pi.used_pages, mid[2]);
	EXPECT_EQ(pi.peak_used, mid[3]);

	ASSERT_EQ(0, munmap(m, 8 * self->ps));
	ASSERT_EQ(0, close(fd));
	ASSERT_TRUE(read_attrs(after));
	EXPECT_EQ(before[1], after[1]);
	EXPECT_EQ(before[2], after[2]);
	EXPECT_EQ(mid[3], after[3]);
	EXPECT_EQ(before[5], after[5]);
	EXPECT_EQ(before[7] + 5, after[7]);
	EXPECT_EQ(before[8] + 5, after[8]);
	EXPECT_EQ(0, after[6]);
}

/* No attribute can be written, not even by root; values stay. */
TEST_F(cowdev, attributes_are_read_only)
{
	uint64_t before, after;
	char path[256];
	unsigned int i;
	struct stat st;
	int fd;

	for (i = 0; i < NATTRS; i++) {
		snprintf(path, sizeof(path), "%s/%s", SYSFS_DIR, attrs[i]);
		ASSERT_EQ(0, stat(path, &st));
		EXPECT_EQ(0, st.st_mode & 0222)
			TH_LOG("%s mode %o", attr_name(i), st.st_mode & 0777);
		ASSERT_EQ(0, read_attr(attrs[i], &before));
		fd = open(path, O_WRONLY);
		if (fd >= 0) {
			EXPECT_GT(0, write(fd, "0\n", 2))
				TH_LOG("%s", attr_name(i));
			close(fd);
		} else {
			EXPECT_EQ(EACCES, errno);
		}
		ASSERT_EQ(0, read_attr(attrs[i], &after));
		EXPECT_EQ(before, after) TH_LOG("%s", attr_name(i));
	}
}

/* The views file starts with the documented header. */
TEST_F(cowdev, views_header)
{
	char *table;

	if (!debugfs_ready())
		SKIP(return, "no %s", VIEWS);
	table = read_views();
	ASSERT_NE(NULL, table);
	ASSERT_EQ(0, strncmp(table, VIEWS_HEADER, strlen(VIEWS_HEADER)))
		TH_LOG("header: %.*s", (int)(strchr(table, '\n') ?
			strchr(table, '\n') - table : 0), table);
	EXPECT_LE(0, views_lines(table));
	free(table);
}

/*
 * Three views with different histories: each has one line, and its numbers
 * are its GET_STATS; the lines are as many as POOL_INFO's views.
 */
TEST_F(cowdev, views_lines_equal_get_stats)
{
	struct cowdev_pool_info pi;
	int b, c, i, nlines;
	char *m, *pm, *table, ch;

	if (!debugfs_ready())
		SKIP(return, "no %s", VIEWS);
	/* View a (the fixture's): writes, reads of holes, SIGBUS, private. */
	ASSERT_EQ(0, cowdev_set_size(self->fd, 32 * self->ps));
	m = mmap(NULL, 40 * self->ps, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	for (i = 0; i < 10; i++)
		m[i * self->ps] = 1;
	for (i = 10; i < 20; i++)
		ASSERT_EQ(0, m[i * self->ps]);
	m[12 * self->ps] = 2;
	EXPECT_EQ(SIGBUS, cowdev_try_read(m + 35 * self->ps, &ch));
	ASSERT_EQ(0, madvise(m, 32 * self->ps, MADV_DONTNEED));
	ASSERT_EQ(1, m[self->ps]);
	pm = mmap(NULL, 32 * self->ps, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		  self->fd, 0);
	ASSERT_NE(MAP_FAILED, pm);
	pm[20 * self->ps] = 3;

	/* View b: a clone of a, with a COW copy on each side. */
	b = cowdev_clone(self->fd);
	ASSERT_LE(0, b);
	m[0] = 4;
	m[self->ps] = 5;

	/* View c: empty, sized. */
	c = cowdev_open();
	ASSERT_LE(0, c);
	ASSERT_EQ(0, cowdev_set_size(c, 3 * self->ps + 1));

	expect_line_is_stats(_metadata, self->fd, getpid());
	expect_line_is_stats(_metadata, b, getpid());
	expect_line_is_stats(_metadata, c, getpid());

	ASSERT_EQ(0, cowdev_pool_info(self->fd, &pi));
	table = read_views();
	ASSERT_NE(NULL, table);
	nlines = views_lines(table);
	EXPECT_EQ((int)pi.views, nlines) TH_LOG("%s", table);
	free(table);
	munmap(pm, 32 * self->ps);
	munmap(m, 40 * self->ps);
	close(c);
	close(b);
}

/*
 * The pid column: the process that opened the view, or that made the
 * clone; a clone made by a child dies with the child.
 */
TEST_F(cowdev, views_pid_is_the_opener_or_cloner)
{
	int to_parent[2], to_child[2], clone;
	uint64_t cid = 0, cols[NCOLS];
	char *table, go;
	pid_t pid;
	int status;

	if (!debugfs_ready())
		SKIP(return, "no %s", VIEWS);
	ASSERT_EQ(0, pipe(to_parent));
	ASSERT_EQ(0, pipe(to_child));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		clone = cowdev_clone(self->fd);
		cid = clone < 0 ? ~0ULL : view_id(clone);
		if (write(to_parent[1], &cid, sizeof(cid)) != sizeof(cid))
			_exit(1);
		if (read(to_child[0], &go, 1) != 1)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(sizeof(cid), read(to_parent[0], &cid, sizeof(cid)));
	ASSERT_NE(~0ULL, cid);
	table = read_views();
	ASSERT_NE(NULL, table);
	ASSERT_EQ(1, views_line(table, cid, cols));
	EXPECT_EQ(pid, cols[1]);
	ASSERT_EQ(1, views_line(table, view_id(self->fd), cols));
	EXPECT_EQ(getpid(), cols[1]);
	free(table);

	ASSERT_EQ(1, write(to_child[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(0, view_listed(cid));
	EXPECT_EQ(1, view_listed(view_id(self->fd)));
}

/*
 * A view lives while a mapping holds it: closing the fd keeps its line and
 * its pagemap file; the munmap of the last mapping removes both.
 */
TEST_F(cowdev, views_line_goes_when_the_view_dies)
{
	char path[256];
	uint64_t id;
	int fd;
	char *m;

	if (!debugfs_ready())
		SKIP(return, "no %s", VIEWS);
	fd = cowdev_open();
	ASSERT_LE(0, fd);
	id = view_id(fd);
	ASSERT_EQ(0, cowdev_set_size(fd, 2 * self->ps));
	m = mmap(NULL, 2 * self->ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 0);
	ASSERT_NE(MAP_FAILED, m);
	m[0] = 1;
	pagemap_path(path, sizeof(path), id);
	EXPECT_EQ(1, view_listed(id));
	EXPECT_EQ(0, access(path, R_OK));
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(1, view_listed(id));
	EXPECT_EQ(0, access(path, R_OK));
	ASSERT_EQ(0, munmap(m, 2 * self->ps));
	EXPECT_EQ(0, view_listed(id));
	EXPECT_EQ(-1, access(path, F_OK));
	EXPECT_EQ(ENOENT, errno);
}

/* The whole pagemap file, read in chunks of @chunk bytes. */
static ssize_t read_pagemap(uint64_t id, uint8_t *buf, size_t max,
			    size_t chunk)
{
	char path[256];
	ssize_t r;
	size_t n = 0;
	int fd;

	pagemap_path(path, sizeof(path), id);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	while (n < max &&
	       (r = read(fd, buf + n, chunk < max - n ? chunk : max - n)) > 0)
		n += r;
	/* Nothing past the end. */
	if (n == max && read(fd, buf, 1) != 0)
		n++;
	close(fd);
	return n;
}

/*
 * A known pattern in a view and its clone: the pagemap bytes are the
 * documented flags, equal to PAGE_STATE, whole and at offsets.
 */
TEST_F(cowdev, pagemap_equals_page_state)
{
	enum { R = COWDEV_PAGE_RESIDENT, S = COWDEV_PAGE_SHARED,
	       D = COWDEV_PAGE_DIRTY };
	static const uint8_t want_a[10] = { 0, 0, R | S, R | S, R | D, R | D };
	static const uint8_t want_b[10] = { 0, 0, R | S, R | S, R, 0 };
	uint8_t got[16], ps_buf[10];
	char path[256], *m;
	int b, fd;

	if (!debugfs_ready())
		SKIP(return, "no %s", VIEWS);
	ASSERT_EQ(0, cowdev_set_size(self->fd, 10 * self->ps));
	m = mmap(NULL, 10 * self->ps, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, m[self->ps]);		/* a hole, zero page mapped */
	m[2 * self->ps] = 1;
	m[3 * self->ps] = 1;
	m[4 * self->ps] = 1;
	b = cowdev_clone(self->fd);
	ASSERT_LE(0, b);
	m[4 * self->ps] = 2;			/* COW copy for a */
	m[5 * self->ps] = 2;			/* new page for a */

	ASSERT_EQ(10, read_pagemap(view_id(self->fd), got, 10, 4096));
	EXPECT_EQ(0, memcmp(want_a, got, 10));
	ASSERT_EQ(0, cowdev_page_state(self->fd, 0, 10, ps_buf));
	EXPECT_EQ(0, memcmp(ps_buf, got, 10));

	ASSERT_EQ(10, read_pagemap(view_id(b), got, 10, 3));
	EXPECT_EQ(0, memcmp(want_b, got, 10));
	ASSERT_EQ(0, cowdev_page_state(b, 0, 10, ps_buf));
	EXPECT_EQ(0, memcmp(ps_buf, got, 10));

	/* pread at an offset = first page index; nothing past the size. */
	pagemap_path(path, sizeof(path), view_id(self->fd));
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	memset(got, 0xee, sizeof(got));
	EXPECT_EQ(3, pread(fd, got, 3, 3));
	EXPECT_EQ(0, memcmp(want_a + 3, got, 3));
	EXPECT_EQ(0xee, got[3]);
	EXPECT_EQ(1, pread(fd, got, 16, 9));
	EXPECT_EQ(want_a[9], got[0]);
	EXPECT_EQ(0, pread(fd, got, 16, 10));
	EXPECT_EQ(0, pread(fd, got, 16, 1000));
	/*
	 * Zero-length reads read nothing, wherever they start (resident pages
	 * after the offset once made the module write through a zero-size
	 * buffer; found by the fuzzer).
	 */
	memset(got, 0xee, sizeof(got));
	EXPECT_EQ(0, pread(fd, got, 0, 0));
	EXPECT_EQ(0, pread(fd, got, 0, 3));
	EXPECT_EQ(0, read(fd, got, 0));
	EXPECT_EQ(0xee, got[0]);
	/* Read-only. */
	close(fd);
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		EXPECT_GT(0, write(fd, "\7", 1));
		close(fd);
	}
	ASSERT_EQ(10, read_pagemap(view_id(self->fd), got, 10, 4096));
	EXPECT_EQ(0, memcmp(want_a, got, 10));

	munmap(m, 10 * self->ps);
	close(b);
}

/* A big sparse view: the file is size_pages bytes, read in many pieces. */
TEST_F(cowdev, pagemap_of_a_big_view)
{
	const size_t n = 200003;
	uint8_t *got, *want;
	char *m;

	if (!debugfs_ready())
		SKIP(return, "no %s", VIEWS);
	ASSERT_EQ(0, cowdev_set_size(self->fd, n * self->ps));
	m = mmap(NULL, n * self->ps, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	m[0] = 1;
	m[70000 * self->ps] = 1;
	m[(n - 1) * self->ps] = 1;
	got = malloc(n + 1);
	want = malloc(n);
	ASSERT_NE(NULL, got);
	ASSERT_NE(NULL, want);
	ASSERT_EQ((ssize_t)n, read_pagemap(view_id(self->fd), got, n + 1,
					   n + 1));
	ASSERT_EQ(0, cowdev_page_state(self->fd, 0, n, want));
	EXPECT_EQ(0, memcmp(want, got, n));
	EXPECT_EQ(COWDEV_PAGE_RESIDENT | COWDEV_PAGE_DIRTY, got[n - 1]);
	EXPECT_EQ(COWDEV_PAGE_RESIDENT | COWDEV_PAGE_DIRTY, got[70000]);
	EXPECT_EQ(0, got[69999]);
	free(got);
	free(want);
	munmap(m, n * self->ps);
}

TEST_HARNESS_MAIN
