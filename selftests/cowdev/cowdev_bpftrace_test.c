// SPDX-License-Identifier: GPL-2.0
/*
 * The bpftrace scripts of scripts/bpftrace/ run in the guest:
 * each one starts, attaches, sees a known workload this process runs on
 * /dev/cowdev, stops on SIGINT with exit status 0 and prints its
 * aggregates with the exact counts that workload produces (keyed by this
 * process's comm and pid where the script keys by process).
 *
 * The workload (one view of 32 pages, mapped MAP_SHARED at a 128 KiB
 * aligned address, so each fault-around window is 16 pages of the
 * mapping):
 *   1. write pages 0-15: 16 x (->fault ALLOC, ->page_mkwrite REUSE)
 *   2. read pages 16-23 (holes): 8 x (->map_pages mapping 0, ->fault ZERO)
 *   3. MADV_DONTNEED pages 0-15, read page 0: one ->map_pages that maps
 *      16 ptes, the faulting page among them (no ->fault)
 *   4. clone the view, write pages 0-3: per page ->fault RESIDENT,
 *      ->page_mkwrite COPY (a COW copy), then on the retried access
 *      ->fault RESIDENT and ->page_mkwrite REUSE
 *
 * Each script's committed example, scripts/bpftrace/NAME_example.txt, is
 * what a run of this test printed: every test checks that it still is
 * (check_example()), and scripts/examples makes them again.
 *
 * bpftrace takes seconds to start under TCG and minutes on a debug kernel
 * (KASAN): there the tests are skipped, as they are without bpftrace.
 * Scripts are found at ../../scripts/bpftrace/ from this binary in the
 * repository, beside it in a kernel tree (cowdev_find()).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

#define NP 32			/* pages of the workload's view */
#define START_TIMEOUT 150	/* seconds to wait for bpftrace to attach */
#define STOP_TIMEOUT 120		/* ...and to print and exit after SIGINT */
#define SIGINT_EVERY 15		/* seconds between SIGINTs while it prints nothing */
#define BANNER "Hit Ctrl-C to end."

/* What the workload leaves for the checks. */
struct workload {
	int fd, clone;
	char *map;
	size_t len;
	uint64_t id, clone_id;
	int swapon;		/* a swap area was attached */
};

/* scripts/bpftrace/@name of the repository, or beside this binary. */
static int script_path(const char *name, char *path, size_t len)
{
	char repo_rel[PATH_MAX];

	snprintf(repo_rel, sizeof(repo_rel), "scripts/bpftrace/%s", name);
	return cowdev_find(path, len, repo_rel);
}

/* SIGINT, read all it prints, reap it; its wait status or -1. */
static int bt_stop(struct cowdev_proc *b)
{
	size_t heard;
	int i;

	if (b->pid <= 0)
		return -1;
	/*
	 * Now and then (about once in a few dozen runs under TCG) bpftrace
	 * misses the SIGINT and sleeps on: say it again, as at a terminal,
	 * but only while it has printed nothing since the first one.  Once
	 * it prints its maps it has heard; a second SIGINT that lands while
	 * it tears down kills it with the default action, and one that lands
	 * before it runs END makes it print without END (a loaded 6.12-rt
	 * guest took more than 5 s to start printing): wait 15 s between.
	 */
	heard = b->len;
	for (i = 0; i < STOP_TIMEOUT / SIGINT_EVERY; i++) {
		if (b->len == heard)
			kill(b->pid, SIGINT);
		if (cowdev_proc_read(b, NULL, SIGINT_EVERY))
			break;
	}
	return cowdev_proc_wait(b, i == STOP_TIMEOUT / SIGINT_EVERY ?
				   SIGKILL : 0);
}

/*
 * The value of the map line that starts with @key ("@faults[a, b]"):
 * "KEY: N".  -1 if there is none.
 */
static long long map_value(const char *out, const char *key)
{
	size_t n = strlen(key);
	const char *p = out;

	while (p && *p) {
		if (!strncmp(p, key, n) && !strncmp(p + n, ": ", 2))
			return strtoll(p + n + 2, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

/*
 * The total count of the histogram printed under "KEY: " (lines
 * "[lo, hi)   N |@@@|" until an empty line); -1 if there is no such map.
 */
static long long hist_total(const char *out, const char *key,
			    long long *bucket0)
{
	size_t n = strlen(key);
	const char *p = out, *q;
	long long total = -1;

	while (p && *p) {
		if (!strncmp(p, key, n) && !strncmp(p + n, ": ", 2))
			break;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p || !*p)
		return -1;
	p = strchr(p, '\n');
	total = 0;
	while (p && *++p == '[') {
		/* "[lo, hi)" or "[n]" */
		q = strpbrk(p, ")]\n");
		if (!q || *q == '\n')
			break;
		if (bucket0 && !strncmp(p, "[0]", 3))
			*bucket0 = strtoll(q + 1, NULL, 10);
		total += strtoll(q + 1, NULL, 10);
		p = strchr(p, '\n');
	}
	return total;
}

static void self_comm(char *comm, size_t len)
{
	FILE *f = fopen("/proc/self/comm", "r");

	comm[0] = 0;
	if (f) {
		if (!fgets(comm, len, f))
			comm[0] = 0;
		fclose(f);
	}
	comm[strcspn(comm, "\n")] = 0;
}

/* A key "@name[COMM, PID" followed by @rest ("]" or ", a, b]"). */
static const char *pkey(const char *name, const char *rest)
{
	static char bufs[8][256];
	static int next;
	char *b = bufs[next++ % 8], comm[32];

	self_comm(comm, sizeof(comm));
	snprintf(b, sizeof(bufs[0]), "@%s[%s, %d%s", name, comm, getpid(),
		 rest);
	return b;
}

static const char *key(const char *fmt, ...)
{
	static char bufs[8][256];
	static int next;
	char *b = bufs[next++ % 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(bufs[0]), fmt, ap);
	va_end(ap);
	return b;
}

static uint64_t view_id(int fd)
{
	struct cowdev_stats st;

	if (cowdev_get_stats(fd, &st))
		return ~0ULL;
	return st.view_id;
}

/* Not inlined: the COW copies' user stacks show this function. */
static void __attribute__((noinline))
cowdev_workload_write(char *m, int first, int n, size_t ps, char v)
{
	int i;

	for (i = first; i < first + n; i++)
		((volatile char *)m)[i * ps] = v;
	__asm__ volatile("" ::: "memory");
}

/* The workload described at the top; returns 0 on success. */
static int run_workload(struct workload *w)
{
	size_t ps = cowdev_page_size();
	char *area;
	int i;

	memset(w, 0, sizeof(*w));
	w->clone = -1;
	w->len = NP * ps;
	w->fd = cowdev_open();
	if (w->fd < 0 || cowdev_set_size(w->fd, w->len))
		return -1;
	w->id = view_id(w->fd);
	area = mmap(NULL, 2 * w->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (area == MAP_FAILED)
		return -1;
	w->map = (char *)(((uintptr_t)area + w->len - 1) &
			  ~(uintptr_t)(w->len - 1));
	if (mmap(w->map, w->len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 w->fd, 0) != w->map)
		return -1;
	cowdev_workload_write(w->map, 0, 16, ps, 1);
	for (i = 16; i < 24; i++)
		if (((volatile char *)w->map)[i * ps])
			return -1;
	if (madvise(w->map, 16 * ps, MADV_DONTNEED))
		return -1;
	if (((volatile char *)w->map)[0] != 1)
		return -1;
	w->clone = cowdev_clone(w->fd);
	if (w->clone < 0)
		return -1;
	w->clone_id = view_id(w->clone);
	cowdev_workload_write(w->map, 0, 4, ps, 2);
	return 0;
}

/*
 * The swap workload: NSWAP pages with a resident limit of half of them and
 * a swap file in /tmp, under fifo.  Writing all pages evicts the first
 * half (written out), reading the first half reads it back (page-ins) and
 * evicts the second half (written out), reading the second half reads it
 * back and evicts the first half again, which was not written since it
 * came back: nothing is written for those (clean evictions).
 */
#define NSWAP 8

static int run_swap_workload(struct workload *w)
{
	char path[] = "/tmp/cowdev-bt-swap-XXXXXX";
	size_t ps = cowdev_page_size();
	int sfd, i;

	memset(w, 0, sizeof(*w));
	w->clone = -1;
	w->len = NSWAP * ps;
	w->fd = cowdev_open();
	if (w->fd < 0 || cowdev_set_size(w->fd, w->len) ||
	    cowdev_param_set("evict_policy", "fifo"))
		return -1;
	w->id = view_id(w->fd);
	sfd = mkstemp(path);
	if (sfd < 0)
		return -1;
	unlink(path);
	w->swapon = !ftruncate(sfd, 4 * NSWAP * ps) &&
		    !cowdev_swapon(w->fd, sfd);
	close(sfd);
	if (!w->swapon || cowdev_set_resident_limit(w->fd, NSWAP / 2))
		return -1;
	w->map = mmap(NULL, w->len, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd,
		      0);
	if (w->map == MAP_FAILED) {
		w->map = NULL;
		return -1;
	}
	cowdev_workload_write(w->map, 0, NSWAP, ps, 1);
	for (i = 0; i < NSWAP; i++)
		if (((volatile char *)w->map)[i * ps] != 1)
			return -1;
	return 0;
}

static void end_workload(struct workload *w)
{
	if (w->map)
		munmap(w->map, w->len);
	if (w->swapon && cowdev_swapoff(w->fd))
		fprintf(stderr, "# swapoff: %s\n", strerror(errno));
	if (w->clone >= 0)
		close(w->clone);
	if (w->fd > 0)
		close(w->fd);
}

/* ---- the committed examples, scripts/bpftrace/NAME_example.txt ------ */

/*
 * The digest of what bpftrace printed, to compare a run with the committed
 * example: one line per map entry, "KEY: VALUE", sorted (bpftrace orders
 * entries of equal value as it likes), with every number inside a key
 * (pids, view ids) masked as N; a histogram becomes "KEY: hist N", N its
 * total count (the buckets of a time vary); a key that spans lines (a
 * stack) keeps its first line; the values of @kernel_exceptions*, every
 * exception the process took, are masked.  Lines that are not map entries
 * (the banner) are left out.  A new string (free it).
 */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void mask_key(char *dst, const char *src, size_t len)
{
	size_t i = 0, n = 0;
	int in_key = 0;

	while (i < len && src[i] && n < 250) {
		if (src[i] == '[')
			in_key = 1;
		if (in_key && src[i] >= '0' && src[i] <= '9') {
			dst[n++] = 'N';
			while (i < len && src[i] >= '0' && src[i] <= '9')
				i++;
			continue;
		}
		dst[n++] = src[i++];
	}
	dst[n] = 0;
}

static char *bt_digest(const char *out)
{
	char *copy = strdup(out), *line, *save = NULL, **v, *res;
	char key[256], stack_key[256] = "";
	size_t n = 0, cap = 4096, len = 0, i;
	long long hist = -1;

	v = calloc(cap, sizeof(*v));
	res = malloc(cap * 300);
	if (!copy || !v || !res)
		return NULL;
#define EMIT(...) do {							\
	if (n < cap && asprintf(&v[n], __VA_ARGS__) > 0)		\
		n++;							\
} while (0)
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon;

		if (hist >= 0 && line[0] == '[') {
			char *q = strpbrk(line, ")]");

			hist += q ? strtoll(q + 1, NULL, 10) : 0;
			continue;
		}
		if (hist >= 0) {
			EMIT("%s hist %lld", key, hist);
			hist = -1;
		}
		if (stack_key[0]) {
			if (!strncmp(line, "]: ", 3)) {
				EMIT("%s ...]: %s", stack_key, line + 3);
				stack_key[0] = 0;
			}
			continue;
		}
		if (line[0] != '@')
			continue;
		colon = strstr(line, ": ");
		if ((!colon && line[strlen(line) - 1] == ':') ||
		    (colon && !colon[2 + strspn(colon + 2, " ")])) {
			mask_key(key, line, strcspn(line, " "));
			hist = 0;
			continue;
		}
		if (!colon) {
			mask_key(stack_key, line, strlen(line));
			continue;
		}
		mask_key(key, line, colon - line);
		if (!strncmp(key, "@kernel_exceptions", 18))
			EMIT("%s: N", key);
		else
			EMIT("%s: %s", key, colon + 2);
	}
	if (hist >= 0)
		EMIT("%s hist %lld", key, hist);
#undef EMIT
	qsort(v, n, sizeof(*v), cmp_str);
	res[0] = 0;
	for (i = 0; i < n; i++) {
		if (len + strlen(v[i]) + 2 < cap * 300)
			len += sprintf(res + len, "%s\n", v[i]);
		free(v[i]);
	}
	free(v);
	free(copy);
	return res;
}

/*
 * The committed example of @script is what this run printed, as far as the
 * digest tells.  With COWDEV_WRITE_EXAMPLES set, the output is printed
 * for scripts/examples to write it (cowdev_print_example()).
 */
static void check_example(struct __test_metadata *_metadata,
			  const char *script, const char *out)
{
	char file[64], rel[PATH_MAX], path[PATH_MAX], *want = NULL;
	char *d_now, *d_want;
	size_t len = 0;
	FILE *f;

	snprintf(file, sizeof(file), "%.*s_example.txt",
		 (int)(strlen(script) - 3), script);
	cowdev_print_example(file, out);
	snprintf(rel, sizeof(rel), "scripts/bpftrace/%s", file);
	ASSERT_EQ(0, cowdev_find(path, sizeof(path), rel))
		TH_LOG("%s missing: make it with scripts/examples", path);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	ASSERT_LE(0, getdelim(&want, &len, 0, f));
	fclose(f);
	d_now = bt_digest(out);
	d_want = bt_digest(want);
	ASSERT_TRUE(d_now && d_want);
	EXPECT_STREQ(d_want, d_now) {
		TH_LOG("%s is not what %s prints now; if the change is meant, make it again with scripts/examples",
		       path, script);
		TH_LOG("the example's digest:\n%s", d_want);
		TH_LOG("this run's digest:\n%s", d_now);
	}
	free(d_now);
	free(d_want);
	free(want);
}

FIXTURE(bt) {
	struct cowdev_proc b;
	struct workload w;
	char *out;
};

FIXTURE_SETUP(bt)
{
	memset(&self->b, 0, sizeof(self->b));
	memset(&self->w, 0, sizeof(self->w));
	self->b.pid = -1;
	self->w.clone = -1;
	self->out = "";
	if (cowdev_debug_kernel())
		SKIP_SETUP("debug kernel: bpftrace takes minutes to start");
	if (cowdev_rt_kernel())
		SKIP_SETUP("PREEMPT_RT: the scripts run on 6.1 and 6.12");
	if (!cowdev_have_tool("bpftrace"))
		SKIP_SETUP("no bpftrace");
}

FIXTURE_TEARDOWN(bt)
{
	cowdev_proc_free(&self->b);
	end_workload(&self->w);
}

/*
 * Start @script, wait until its BEGIN banner shows it attached, run the
 * workload, stop it with SIGINT; it must exit 0.  The workload's view stays
 * alive (and this process too) until bpftrace has printed.
 */
static void trace_run(struct __test_metadata *_metadata,
		      FIXTURE_DATA(bt) *self, const char *script,
		      int (*run)(struct workload *w))
{
	char path[PATH_MAX];
	char *const argv[] = { "bpftrace", path, NULL };
	double t0 = cowdev_now();
	int status;

	ASSERT_EQ(0, script_path(script, path, sizeof(path)))
		TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ(0, cowdev_proc_start(&self->b, argv, NULL));
	ASSERT_TRUE(cowdev_proc_read(&self->b, BANNER, START_TIMEOUT)) {
		TH_LOG("bpftrace %s did not attach:\n%s", script,
		       self->b.buf ? self->b.buf : "");
	}
	TH_LOG("%s attached after %.1f s", script, cowdev_now() - t0);
	ASSERT_EQ(0, run(&self->w));
	t0 = cowdev_now();
	status = bt_stop(&self->b);
	TH_LOG("%s stopped after %.1f s", script, cowdev_now() - t0);
	self->out = self->b.buf ? self->b.buf : "";
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("bpftrace status %#x", status);
	TH_LOG("%s output:\n%s", script, self->out);
	check_example(_metadata, script, self->out);
}

static void trace_workload(struct __test_metadata *_metadata,
			   FIXTURE_DATA(bt) *self, const char *script)
{
	trace_run(_metadata, self, script, run_workload);
}

/* Per process and per view, each outcome counted exactly. */
TEST_F_TIMEOUT(bt, faults, 300)
{
	const char *o;

	trace_workload(_metadata, self, "faults.bt");
	o = self->out;
	EXPECT_EQ(16, map_value(o, pkey("faults", ", write, ALLOC]")));
	EXPECT_EQ(8, map_value(o, pkey("faults", ", read, ZERO]")));
	EXPECT_EQ(4, map_value(o, pkey("faults", ", write, COPY]")));
	EXPECT_EQ(-1, map_value(o, pkey("faults", ", write, RESIDENT]")));
	EXPECT_EQ(-1, map_value(o, pkey("faults", ", mkwrite, COPY]")));
	EXPECT_EQ(20, map_value(o, pkey("faults", ", mkwrite, REUSE]")));
	EXPECT_EQ(-1, map_value(o, pkey("faults", ", mkwrite, ALLOC]")));
	EXPECT_EQ(16, map_value(o, key("@views[%llu, write, ALLOC]",
				       (unsigned long long)self->w.id)));
	EXPECT_EQ(8, map_value(o, key("@views[%llu, read, ZERO]",
				      (unsigned long long)self->w.id)));
	EXPECT_EQ(4, map_value(o, key("@views[%llu, write, COPY]",
				      (unsigned long long)self->w.id)));
	EXPECT_EQ(NULL, strstr(o, "@sigbus["));
}

/* COW copies per process, per view pair, with the writing function. */
TEST_F_TIMEOUT(bt, cow, 300)
{
	const char *o;

	trace_workload(_metadata, self, "cow.bt");
	o = self->out;
	EXPECT_EQ(4, map_value(o, pkey("copies", "]")));
	EXPECT_EQ(4, map_value(o, key("@copies_by_view[%llu, %llu]",
				      (unsigned long long)self->w.id,
				      (unsigned long long)self->w.id)));
	EXPECT_EQ(1, map_value(o, pkey("clones",
				       key(", %llu, %llu]",
					   (unsigned long long)self->w.id,
					   (unsigned long long)self->w.clone_id))));
	EXPECT_EQ(16, map_value(o, pkey("shared_at_clone", "]")));
	EXPECT_NE(NULL, strstr(o, pkey("stacks", ", \n")));
	EXPECT_NE(NULL, strstr(o, "cowdev_workload_write"));
}

/* Every handler call lands in a histogram of its outcome. */
TEST_F_TIMEOUT(bt, latency, 300)
{
	const char *o;

	trace_workload(_metadata, self, "latency.bt");
	o = self->out;
	EXPECT_EQ(16, hist_total(o, "@fault_ns[ALLOC]", NULL));
	EXPECT_EQ(8, hist_total(o, "@fault_ns[ZERO]", NULL));
	EXPECT_EQ(4, hist_total(o, "@fault_ns[COPY]", NULL));
	EXPECT_EQ(-1, hist_total(o, "@fault_ns[RESIDENT]", NULL));
	EXPECT_EQ(20, hist_total(o, "@mkwrite_ns[REUSE]", NULL));
	EXPECT_EQ(9, hist_total(o, "@map_pages_ns", NULL));
	EXPECT_EQ(NULL, strstr(o, "UNKNOWN"));
}

/* ptes per map_pages call: eight empty windows and one full one. */
TEST_F_TIMEOUT(bt, faultaround, 300)
{
	long long zero = -1;
	const char *o;

	trace_workload(_metadata, self, "faultaround.bt");
	o = self->out;
	EXPECT_EQ(9, map_value(o, pkey("calls", "]")));
	EXPECT_EQ(16, map_value(o, pkey("ptes", "]")));
	EXPECT_EQ(1, map_value(o, pkey("served", "]")));
	EXPECT_EQ(8, map_value(o, pkey("fell_through", "]")));
	EXPECT_EQ(16, map_value(o, key("@ptes_by_view[%llu]",
				       (unsigned long long)self->w.id)));
	EXPECT_EQ(9, hist_total(o, "@ptes_per_call", &zero));
	EXPECT_EQ(8, zero);
	EXPECT_EQ(9, hist_total(o, "@window_pages", NULL));
	EXPECT_NE(NULL, strstr(o, "@ptes_stats: count 9, average 1, total 16"));
}

/*
 * The kernel's exceptions beside cowdev's calls: every cowdev call came in
 * an exception of this process; reads of holes ran ->map_pages and then
 * ->fault in one exception; a COW write with no pte takes one (->fault
 * copies, ->page_mkwrite finds the copy the view's own).
 */
TEST_F_TIMEOUT(bt, vs_kernel, 300)
{
	long long exc;
	const char *o;

	trace_workload(_metadata, self, "vs_kernel.bt");
	o = self->out;
	EXPECT_EQ(28, map_value(o, pkey("cowdev_fault", "]")));
	EXPECT_EQ(20, map_value(o, pkey("cowdev_mkwrite", "]")));
	EXPECT_EQ(9, map_value(o, pkey("cowdev_map_pages", "]")));
	EXPECT_EQ(8, map_value(o, pkey("map_pages_then_fault", "]")));
	EXPECT_EQ(29, map_value(o, pkey("exceptions_into_cowdev", "]")));
	exc = map_value(o, pkey("kernel_exceptions", "]"));
	EXPECT_LE(29, exc);
}

/*
 * Evictions by policy and kind, page-ins per process with the time of each
 * read (the swap workload: NSWAP dirty evictions, NSWAP / 2 clean ones,
 * NSWAP page-ins).
 */
TEST_F_TIMEOUT(bt, swap, 300)
{
	const char *o;

	trace_run(_metadata, self, "swap.bt", run_swap_workload);
	o = self->out;
	EXPECT_EQ(NSWAP, map_value(o, "@evictions[fifo, dirty]"));
	EXPECT_EQ(NSWAP / 2, map_value(o, "@evictions[fifo, clean]"));
	EXPECT_EQ(NSWAP + NSWAP / 2, map_value(o, key("@evictions_by_view[%llu]",
					      (unsigned long long)self->w.id)));
	EXPECT_EQ(NSWAP, map_value(o, pkey("page_ins", "]")));
	EXPECT_EQ(NSWAP, hist_total(o, "@page_in_ns", NULL));
	/* Maps of count() show 0 or are left out, by bpftrace version. */
	EXPECT_GE(0, map_value(o, "@read_errors"));
	EXPECT_GE(0, map_value(o, "@write_errors"));
	EXPECT_GE(0, map_value(o, "@kswapd_wakeups"));
}

TEST_HARNESS_MAIN
