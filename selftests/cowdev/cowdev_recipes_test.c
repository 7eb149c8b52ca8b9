// SPDX-License-Identifier: GPL-2.0
/*
 * The recipes of Documentation/cowdev.rst, "Tracing", run as written there
 * with perf and trace-cmd from Debian (linux-perf, trace-cmd), each against
 * a demo whose events are known exactly:
 *
 *  - perf stat -e 'cowdev:*' -e minor-faults,major-faults on demo1: 1024
 *    holes read, then written (2 ->fault + 2 ->page_mkwrite each), and 1024
 *    holes written (1 + 1): 6144 cowdev_fault events (->fault and
 *    ->page_mkwrite calls alike), 3072 cowdev_mkwrite, 1024
 *    cowdev_map_pages, 2048 pool allocations and frees, no COW, no major
 *    fault (the demo ran once before, so the page cache holds its binary),
 *    and at least 4096 minor faults (one exception per read, two per
 *    write after a read, one per write of a hole).
 *  - perf trace -e 'cowdev:*' and trace-cmd record -e cowdev on demo2 (an
 *    object of size 0 read and written, then grown and shrunk): the same
 *    event counts in both, DEMO2_* below, and every SIGBUS the demo counts.
 *  - perf record -g -e cowdev:cowdev_cow on demo5 (a clone of 256 pages,
 *    a quarter of them rewritten while the clone shares them): 64 samples,
 *    each with a kernel call chain and the user's memset() that wrote.
 *
 * The tools are slow to start under TCG (seconds) and far slower on a debug
 * kernel: there the tests are skipped, as they are without the tool.
 * Demos are found beside this binary (a kernel tree) or at
 * ../../userspace/demos/ (the repository).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

#define TOOL_TIMEOUT 150	/* seconds for one run of a tool */

/* demo2 under perf trace and trace-cmd: events by name. */
#define DEMO2_FAULT 29
#define DEMO2_MKWRITE 8
#define DEMO2_MAP_PAGES 15
#define DEMO2_POOL_ALLOC 4
#define DEMO2_POOL_FREE 4
#define DEMO2_SIGBUS 7

/* userspace/demos/@name, beside this binary or in the repository. */
static void demo_path(char *buf, size_t size, const char *name)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof(rel), "userspace/demos/%s", name);
	cowdev_find(buf, size, rel);
}

/* Lines of @text that contain @needle. */
static long count_lines(const char *text, const char *needle)
{
	const char *p = text, *nl;
	long n = 0;

	while (p && *p) {
		const char *hit = strstr(p, needle);

		if (!hit)
			break;
		n++;
		nl = strchr(hit, '\n');
		p = nl ? nl + 1 : NULL;
	}
	return n;
}

/*
 * perf stat's count for event @name: the line "   N      NAME  ..." (N
 * with or without thousands separators).  -1 if there is none.
 */
static long long stat_count(const char *text, const char *name)
{
	const char *p = text;
	size_t len = strlen(name);

	while (p && *p) {
		const char *q = p, *e;
		long long v = 0;
		int digits = 0;

		while (*q == ' ')
			q++;
		for (; (*q >= '0' && *q <= '9') || *q == ',' || *q == '.'; q++)
			if (*q >= '0' && *q <= '9') {
				v = v * 10 + (*q - '0');
				digits++;
			}
		while (*q == ' ')
			q++;
		e = q + len;
		if (digits && !strncmp(q, name, len) &&
		    (*e == ' ' || *e == '\n' || *e == '\0'))
			return v;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

FIXTURE(recipe) {
	char dir[64];		/* a scratch directory: perf.data, trace.dat */
	char *out;
};

FIXTURE_SETUP(recipe)
{
	self->out = NULL;
	strcpy(self->dir, "/tmp/cowdev-recipe.XXXXXX");
	if (cowdev_debug_kernel())
		SKIP_SETUP("debug kernel: perf and trace-cmd take minutes");
	if (cowdev_rt_kernel())
		SKIP_SETUP("PREEMPT_RT: the recipes run on 6.1 and 6.12");
	ASSERT_NE(NULL, mkdtemp(self->dir));
}

FIXTURE_TEARDOWN(recipe)
{
	char cmd[128];

	free(self->out);
	if (strcmp(self->dir + strlen(self->dir) - 6, "XXXXXX")) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
		if (system(cmd))
			TH_LOG("%s", cmd);
	}
}

/* Run @argv in the scratch directory; must exit 0. */
#define RUN_OK(...) do {						\
	char *const _argv[] = { __VA_ARGS__, NULL };			\
	double _t0 = cowdev_now();					\
	int _st;							\
									\
	free(self->out);						\
	_st = cowdev_run_cmd(_argv, self->dir, &self->out, TOOL_TIMEOUT); \
	TH_LOG("%s %s: %.1f s", _argv[0], _argv[1] ? _argv[1] : "",	\
	       cowdev_now() - _t0);					\
	ASSERT_EQ(0, _st) TH_LOG("%s:\n%s", _argv[0],			\
				 self->out ? self->out : "");		\
} while (0)

#define NEED(tool) do {							\
	if (!cowdev_have_tool(tool))					\
		SKIP(return, "%s is not installed (scripts/deps)", tool); \
} while (0)

/* perf stat: exact counts per event, and the process's own faults. */
TEST_F_TIMEOUT(recipe, perf_stat, 200)
{
	char demo[PATH_MAX];
	const char *o;

	NEED("perf");
	demo_path(demo, sizeof(demo), "demo1_demand_paging");
	/* Once without perf: its own pages are then in the page cache. */
	RUN_OK(demo);
	RUN_OK("perf", "stat", "-e", "cowdev:*", "-e",
	       "minor-faults,major-faults", "--", demo);
	o = self->out;
	TH_LOG("perf stat:\n%s", o);
	EXPECT_NE(NULL, strstr(o, "all 25 checks passed"));
	EXPECT_EQ(6144, stat_count(o, "cowdev:cowdev_fault"));
	EXPECT_EQ(3072, stat_count(o, "cowdev:cowdev_mkwrite"));
	EXPECT_EQ(1024, stat_count(o, "cowdev:cowdev_map_pages"));
	EXPECT_EQ(2048, stat_count(o, "cowdev:cowdev_pool_alloc"));
	EXPECT_EQ(2048, stat_count(o, "cowdev:cowdev_pool_free"));
	EXPECT_EQ(0, stat_count(o, "cowdev:cowdev_cow"));
	EXPECT_EQ(0, stat_count(o, "cowdev:cowdev_clone"));
	EXPECT_EQ(0, stat_count(o, "cowdev:cowdev_page_in"));
	EXPECT_EQ(0, stat_count(o, "major-faults"));
	EXPECT_LE(4096, stat_count(o, "minor-faults"));
}

/* The demo2 counts, by event name, in the text of a tool's output. */
static void expect_demo2(struct __test_metadata *_metadata, const char *o,
			 const char *sep)
{
	char key[64];

#define EXPECT_EVENTS(n, ev) do {					\
	snprintf(key, sizeof(key), "%s%s", ev, sep);			\
	EXPECT_EQ(n, count_lines(o, key)) TH_LOG("%s", key);		\
} while (0)
	EXPECT_EVENTS(DEMO2_FAULT, "cowdev_fault");
	EXPECT_EVENTS(DEMO2_MKWRITE, "cowdev_mkwrite");
	EXPECT_EVENTS(DEMO2_MAP_PAGES, "cowdev_map_pages");
	EXPECT_EVENTS(DEMO2_POOL_ALLOC, "cowdev_pool_alloc");
	EXPECT_EVENTS(DEMO2_POOL_FREE, "cowdev_pool_free");
	EXPECT_EVENTS(0, "cowdev_cow");
#undef EXPECT_EVENTS
}

/* perf trace: one line per event, as it happens. */
TEST_F_TIMEOUT(recipe, perf_trace, 200)
{
	char demo[PATH_MAX];
	const char *o;

	NEED("perf");
	demo_path(demo, sizeof(demo), "demo2_sigbus_past_end");
	RUN_OK("perf", "trace", "-e", "cowdev:*", "--", demo);
	o = self->out;
	TH_LOG("perf trace:\n%s", o);
	EXPECT_NE(NULL, strstr(o, "all 83 checks passed"));
	expect_demo2(_metadata, o, "(");
	EXPECT_EQ(DEMO2_SIGBUS, count_lines(o, "outcome_name: \"SIGBUS\""));
}

/* trace-cmd record + report: the same events as perf trace sees. */
TEST_F_TIMEOUT(recipe, trace_cmd, 200)
{
	char demo[PATH_MAX];
	const char *o;

	NEED("trace-cmd");
	demo_path(demo, sizeof(demo), "demo2_sigbus_past_end");
	RUN_OK("trace-cmd", "record", "-e", "cowdev", "-F", demo);
	EXPECT_NE(NULL, strstr(self->out, "all 83 checks passed"))
		TH_LOG("%s", self->out);
	RUN_OK("trace-cmd", "report");
	o = self->out;
	TH_LOG("trace-cmd report:\n%s", o);
	expect_demo2(_metadata, o, ":");
	EXPECT_EQ(DEMO2_SIGBUS, count_lines(o, "outcome=SIGBUS"));
	EXPECT_EQ(DEMO2_FAULT + DEMO2_MKWRITE + DEMO2_MAP_PAGES +
		  DEMO2_POOL_ALLOC + DEMO2_POOL_FREE,
		  count_lines(o, "demo2_sigbus_pa"));
}

/*
 * perf record -g on the COW breaks of demo5: 64 samples with call chains
 * (perf report), each in perf script with the module's frames and the
 * user's memset() that wrote the page.
 */
TEST_F_TIMEOUT(recipe, perf_record, 200)
{
	char demo[PATH_MAX];
	const char *o;

	NEED("perf");
	demo_path(demo, sizeof(demo), "demo5_snapshot");
	/*
	 * -o: with stdout a pipe, perf record would write the data there.
	 * -B: no build-id collection at the end, which reads every object
	 * the samples touched (the kernel's and the module's from 9p) and
	 * doubles the time under TCG; perf report and script do not need it
	 * on the machine that recorded.
	 */
	RUN_OK("perf", "record", "-B", "-o", "perf.data", "-g", "-e",
	       "cowdev:cowdev_cow", "--", demo);
	EXPECT_NE(NULL, strstr(self->out, "checks passed"))
		TH_LOG("%s", self->out);
	RUN_OK("perf", "report", "--stdio");
	o = self->out;
	TH_LOG("perf report (head):\n%.2000s", o);
	EXPECT_NE(NULL, strstr(o, "# Samples: 64  of event 'cowdev:cowdev_cow'"));
	RUN_OK("perf", "script");
	o = self->out;
	TH_LOG("perf script (head):\n%.1500s", o);
	EXPECT_EQ(64, count_lines(o, "cowdev:cowdev_cow:"));
	/* Kernel frames: the module's, the kernel's (by perf version). */
	EXPECT_LE(64, count_lines(o, "([cowdev])") +
		  count_lines(o, "([kernel.kallsyms])"));
	EXPECT_LE(64, count_lines(o, "memset"));
}

TEST_HARNESS_MAIN
