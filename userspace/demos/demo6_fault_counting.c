// SPDX-License-Identifier: GPL-2.0
/*
 * demo6: counting faults three ways for the same accesses: the process's
 * own minflt (getrusage, what `ps -o minflt` shows), the kernel's
 * exceptions:page_fault_user tracepoint (one event per page-fault
 * exception taken from user mode), and cowdev's counters (->fault,
 * ->map_pages, ->page_mkwrite calls) with its tracepoints.
 *
 * Four access patterns over N pages of a 2 MiB-aligned MAP_SHARED mapping:
 * read holes; write the pages just read; write fresh holes; read resident
 * pages after MADV_DONTNEED (fault-around).  For each the demo checks the
 * exact number of exceptions, minflt and module calls, and reads the trace
 * (a private tracefs instance, this process only, pinned to one CPU so the
 * order is exact) to show what happens inside each exception: a read of a
 * non-resident page is ONE exception in which ->map_pages runs first and
 * ->fault second -- not one exception that "prepares" the page and a
 * second one that calls ->fault.
 *
 * Needs root and tracefs for the tracepoint column; without them it says so
 * ("SKIPPED") and checks the rest.
 */
#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "demo.h"

#define MAX_RECS	8192

enum { EV_PFU, EV_MAP_PAGES, EV_FAULT };

struct rec {
	int ev;
	uint64_t address;	/* EV_PFU */
	uint64_t pgoff;		/* cowdev events */
	uint64_t mapped;	/* EV_MAP_PAGES */
	int write, mkwrite;	/* EV_FAULT */
	char outcome[16];	/* EV_FAULT */
	char text[160];		/* the line, for printing */
};

static char tracedir[256];	/* the instance; "" when unavailable */
static const char *trace_why;	/* why not */
static struct rec recs[MAX_RECS];
static size_t nrecs;

static const char *const events[] = {
	"exceptions/page_fault_user",
	"cowdev/cowdev_map_pages",
	"cowdev/cowdev_fault",
};

static int write_file(const char *rel, const char *text)
{
	char path[512];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", tracedir, rel);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		ret = -errno;
	close(fd);
	return ret;
}

static void trace_teardown(void)
{
	size_t i;
	char rel[128];

	if (!tracedir[0])
		return;
	write_file("tracing_on", "0");
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		snprintf(rel, sizeof(rel), "events/%s/enable", events[i]);
		write_file(rel, "0");
	}
	rmdir(tracedir);
	tracedir[0] = '\0';
}

/* A private tracefs instance with our three events; "" if impossible. */
static void trace_setup(void)
{
	static const char *const roots[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[128], rel[128];
	struct stat sb;
	size_t i;

	trace_why = "tracefs is not mounted at /sys/kernel/tracing";
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/instances", roots[i]);
		if (!stat(path, &sb))
			break;
	}
	if (i == 2)
		return;
	if (geteuid()) {
		trace_why = "tracing needs root";
		return;
	}
	snprintf(tracedir, sizeof(tracedir), "%s/cowdev_demo6_%d", path,
		 (int)getpid());
	if (mkdir(tracedir, 0700) && errno != EEXIST) {
		trace_why = "cannot create a tracefs instance";
		tracedir[0] = '\0';
		return;
	}
	write_file("tracing_on", "0");
	write_file("trace_clock", "global");
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		snprintf(rel, sizeof(rel), "events/%s/enable", events[i]);
		if (write_file(rel, "1")) {
			trace_why = i ? "the cowdev tracepoints are missing" :
				   "no exceptions:page_fault_user tracepoint";
			trace_teardown();
			return;
		}
	}
	trace_why = NULL;
}

/* Trace only this process, and page faults only on [start, end). */
static void trace_arm(uintptr_t start, uintptr_t end)
{
	char filter[160];
	size_t i;
	char rel[128];

	if (!tracedir[0])
		return;
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		if (i == EV_PFU)
			snprintf(filter, sizeof(filter),
				 "common_pid == %d && address >= %lu && "
				 "address < %lu", (int)getpid(),
				 (unsigned long)start, (unsigned long)end);
		else
			snprintf(filter, sizeof(filter), "common_pid == %d",
				 (int)getpid());
		snprintf(rel, sizeof(rel), "events/%s/filter", events[i]);
		if (write_file(rel, filter))
			demo_fail("setting the filter of %s", events[i]);
	}
	DEMO_TRY(write_file("trace", ""));
	DEMO_TRY(write_file("tracing_on", "1"));
}

static uint64_t field_u64(const char *line, const char *name, int base)
{
	const char *f = strstr(line, name);

	return f ? strtoull(f + strlen(name), NULL, base) : UINT64_MAX;
}

/* Stop tracing and parse the instance's buffer into recs[]. */
static void trace_collect(void)
{
	char path[300], line[512], *e;
	struct rec *r;
	size_t len;
	FILE *f;

	nrecs = 0;
	if (!tracedir[0])
		return;
	DEMO_TRY(write_file("tracing_on", "0"));
	snprintf(path, sizeof(path), "%s/trace", tracedir);
	f = fopen(path, "r");
	if (!f)
		demo_fail("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		if (nrecs == MAX_RECS)
			demo_fail("too many trace records");
		r = &recs[nrecs];
		memset(r, 0, sizeof(*r));
		if (strstr(line, " page_fault_user: ")) {
			r->ev = EV_PFU;
			r->address = field_u64(line, "address=", 16);
		} else if (strstr(line, " cowdev_map_pages: ")) {
			r->ev = EV_MAP_PAGES;
			r->pgoff = field_u64(line, " pgoff=", 10);
			r->mapped = field_u64(line, "mapped=", 10);
		} else if (strstr(line, " cowdev_fault: ")) {
			r->ev = EV_FAULT;
			r->pgoff = field_u64(line, " pgoff=", 10);
			r->write = field_u64(line, "write=", 10);
			r->mkwrite = field_u64(line, "mkwrite=", 10);
			e = strstr(line, "outcome=");
			if (e)
				sscanf(e + 8, "%15s", r->outcome);
		} else {
			continue;
		}
		e = strstr(line, ": ");
		e = e ? strstr(e + 2, ": ") : NULL;
		e = e ? e - 1 : line;
		while (e > line && e[-1] != ' ')
			e--;
		len = strcspn(e, "\n");
		if (len >= sizeof(r->text))
			len = sizeof(r->text) - 1;
		memcpy(r->text, e, len);
		r->text[len] = '\0';
		nrecs++;
	}
	fclose(f);
}

static size_t count_ev(int ev)
{
	size_t i, n = 0;

	for (i = 0; i < nrecs; i++)
		n += recs[i].ev == ev;
	return n;
}

/* What one pattern cost. */
struct cost {
	long minflt;
	long exceptions;	/* -1: not traced */
	struct cowdev_stats st;
};

static long minflt_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static void read_pages(volatile char *p, size_t n)
{
	static volatile char sink;
	size_t i, ps = demo_psize();

	for (i = 0; i < n; i++)
		sink = p[i * ps];
	(void)sink;
}

static void write_pages(volatile char *p, size_t n)
{
	size_t i, ps = demo_psize();

	for (i = 0; i < n; i++)
		p[i * ps] = 1;
}

static struct cost run(int fd, char *p, size_t n,
		       void (*access)(volatile char *, size_t))
{
	struct cost c;
	long m0, m1;

	DEMO_TRY(cowdev_reset_stats(fd));
	trace_arm((uintptr_t)p, (uintptr_t)p + n * demo_psize());
	m0 = minflt_now();
	access(p, n);
	m1 = minflt_now();
	trace_collect();
	c.minflt = m1 - m0;
	c.exceptions = tracedir[0] ? (long)count_ev(EV_PFU) : -1;
	c.st = demo_stats(fd);
	return c;
}

static void row(const char *what, const struct cost *c)
{
	char exc[24];

	if (c->exceptions < 0)
		snprintf(exc, sizeof(exc), "-");
	else
		snprintf(exc, sizeof(exc), "%ld", c->exceptions);
	printf("  %-34s %6s %6ld %6llu %5llu (%4llu) %6llu %6llu\n", what, exc,
	       c->minflt, (unsigned long long)c->st.faults,
	       (unsigned long long)c->st.map_pages_calls,
	       (unsigned long long)c->st.map_pages_mapped,
	       (unsigned long long)c->st.mkwrite,
	       (unsigned long long)c->st.demand_allocs);
}

static void header(void)
{
	printf("\n  %-34s %6s %6s %6s %12s %6s %6s\n", "access",
	       "except", "minflt", "fault", "map_pages", "mkwrite", "allocs");
	printf("  %-34s %6s %6s %6s %12s %6s %6s\n", "",
	       "(trace)", "(ru)", "", "(ptes)", "", "");
}

/* The exceptions and the minflt of a pattern both equal @want. */
static void expect_exceptions(const char *what, const struct cost *c,
			      long want)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s: minflt", what);
	demo_expect(buf, c->minflt, want);
	if (c->exceptions < 0)
		return;
	snprintf(buf, sizeof(buf), "%s: page_fault_user events", what);
	demo_expect(buf, c->exceptions, want);
}

/*
 * Walk recs[]: each exception (a page_fault_user event) is followed by the
 * cowdev events it caused, up to the next exception.  Check that the
 * events of exception k are those @pattern expects for page @page_of(k).
 * @pattern: letters per exception, "M" map_pages, then F/W/K for ->fault
 * read, ->fault write, ->page_mkwrite, '|' between exceptions of one page.
 * Prints the events of the first page.
 */
struct expect_ev {
	int ev;
	int write, mkwrite;
	const char *outcome;	/* NULL: any */
	long mapped;		/* -1: any */
};

static void check_sequence(const char *what, uintptr_t base, size_t pages,
			   size_t pages_per_exc,
			   const struct expect_ev *const *per_exc,
			   size_t exc_per_page)
{
	const size_t ps = demo_psize();
	size_t i = 0, k = 0, pg, j, shown = 0;
	const struct expect_ev *e;

	if (!tracedir[0])
		return;
	printf("    trace of the first page (%s):\n", what);
	for (pg = 0; pg < pages; pg += pages_per_exc) {
		for (k = 0; k < exc_per_page; k++) {
			if (i >= nrecs || recs[i].ev != EV_PFU)
				demo_fail("%s: page %zu: expected a "
					  "page_fault_user event (record %zu)",
					  what, pg, i);
			if (recs[i].address != UINT64_MAX &&
			    (recs[i].address - base) / ps != pg)
				demo_fail("%s: exception at page %llu, "
					  "expected page %zu", what,
					  (unsigned long long)
					  ((recs[i].address - base) / ps), pg);
			if (!pg)
				printf("      %s\n", recs[i].text), shown++;
			i++;
			for (j = 0; per_exc[k][j].ev; j++, i++) {
				e = &per_exc[k][j];
				if (i >= nrecs || recs[i].ev != e->ev ||
				    recs[i].pgoff != pg ||
				    (e->ev == EV_FAULT &&
				     (recs[i].write != e->write ||
				      recs[i].mkwrite != e->mkwrite ||
				      (e->outcome &&
				       strcmp(recs[i].outcome, e->outcome)))) ||
				    (e->ev == EV_MAP_PAGES && e->mapped >= 0 &&
				     (long)recs[i].mapped != e->mapped))
					demo_fail("%s: page %zu, exception "
						  "%zu: event %zu is \"%s\"",
						  what, pg, k + 1, j + 1,
						  i < nrecs ? recs[i].text :
						  "(none)");
				if (!pg)
					printf("      %s\n", recs[i].text);
			}
		}
	}
	if (i != nrecs)
		demo_fail("%s: %zu unexpected trace records, first \"%s\"",
			  what, nrecs - i, recs[i].text);
	printf("    check: %-46s %8s  ok\n", "every page: the same sequence",
	       "yes");
	demo_checks++;
}

/* A 2 MiB-aligned MAP_SHARED mapping of @pages pages of @fd. */
static char *map_aligned(int fd, size_t pages)
{
	const size_t align = 2UL << 20, len = pages * demo_psize();
	char *area, *p;

	area = mmap(NULL, len + align, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		demo_fail("mmap: %s", strerror(errno));
	p = (char *)(((uintptr_t)area + align - 1) & ~(align - 1));
	if (mmap(p, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
		 0) == MAP_FAILED)
		demo_fail("mmap: %s", strerror(errno));
	return p;
}

int main(void)
{
	static const struct expect_ev read_hole[] = {
		{ EV_MAP_PAGES, 0, 0, NULL, 0 },
		{ EV_FAULT, 0, 0, "ZERO", -1 },
		{ 0 },
	}, read_hole_nofa[] = {
		{ EV_FAULT, 0, 0, "ZERO", -1 },
		{ 0 },
	}, write_zero1[] = {
		{ EV_FAULT, 1, 1, "ALLOC", -1 },
		{ 0 },
	}, write_zero2[] = {
		{ EV_FAULT, 1, 0, "RESIDENT", -1 },
		{ EV_FAULT, 1, 1, "REUSE", -1 },
		{ 0 },
	}, write_hole[] = {
		{ EV_FAULT, 1, 0, "ALLOC", -1 },
		{ EV_FAULT, 1, 1, "REUSE", -1 },
		{ 0 },
	};
	struct expect_ev around[] = {
		{ EV_MAP_PAGES, 0, 0, NULL, 0 },
		{ 0 },
	};
	const struct expect_ev *seq[2];
	long fa = demo_fault_around_pages();
	size_t n, ps = demo_psize();
	struct cost c[4], warm;
	int fd, fd2, fdw;
	cpu_set_t cpus;
	char *p, *q, *w;

	demo_name = "demo6_fault_counting";
	setvbuf(stdout, NULL, _IOLBF, 0);
	demo_title("counting faults: minflt, page_fault_user and cowdev, "
		   "side by side");
	if (fa <= 0)
		fa = 16;	/* the kernel's default, 64 KiB */
	n = fa > 1 ? 2 * fa : 32;
	if (n < 32)
		n = 32;
	demo_say("%zu pages, fault-around window %ld pages "
		 "(/sys/kernel/debug/fault_around_bytes).", n, fa);

	/* One CPU: the trace buffer is per CPU, one buffer is one order. */
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu(), &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	trace_setup();
	if (trace_why)
		printf("\n%s: SKIPPED the tracepoint column: %s\n", demo_name,
		       trace_why);

	fd = demo_object(n);
	fd2 = demo_object(n);
	fdw = demo_object(n);
	p = map_aligned(fd, n);
	q = map_aligned(fd2, n);
	w = map_aligned(fdw, n);
	/* Warm up: fault in our own code, stack and the tracing paths. */
	warm = run(fdw, w, n, read_pages);
	warm = run(fdw, w, n, write_pages);
	(void)warm;

	c[0] = run(fd, p, n, read_pages);
	seq[0] = fa > 1 ? read_hole : read_hole_nofa;
	if (tracedir[0]) {
		demo_step("1. read %zu holes", n);
		check_sequence("read of a hole", (uintptr_t)p, n, 1, seq, 1);
	}
	c[1] = run(fd, p, n, write_pages);
	if (tracedir[0]) {
		demo_step("2. write the %zu pages just read", n);
		seq[0] = write_zero1;
		seq[1] = write_zero2;
		check_sequence("write after read", (uintptr_t)p, n, 1, seq,
			       2);
	}
	c[2] = run(fd2, q, n, write_pages);
	if (tracedir[0]) {
		demo_step("3. write %zu fresh holes", n);
		seq[0] = write_hole;
		check_sequence("write of a hole", (uintptr_t)q, n, 1, seq,
			       1);
	}
	DEMO_TRY(madvise(p, n * ps, MADV_DONTNEED));
	c[3] = run(fd, p, n, read_pages);
	if (tracedir[0] && fa > 1) {
		demo_step("4. read the %zu resident pages after MADV_DONTNEED",
			  n);
		around[0].mapped = fa;
		seq[0] = around;
		check_sequence("fault-around", (uintptr_t)p, n, fa, seq, 1);
	}
	trace_teardown();

	demo_step("side by side");
	header();
	row("1. read holes", &c[0]);
	row("2. write the pages just read", &c[1]);
	row("3. write fresh holes", &c[2]);
	row("4. re-read after MADV_DONTNEED", &c[3]);
	printf("\n");

	expect_exceptions("1. read", &c[0], n);
	demo_expect("1. ->fault calls", c[0].st.faults, n);
	demo_expect("1. ->map_pages calls", c[0].st.map_pages_calls,
		    fa > 1 ? (long long)n : 0);
	demo_expect("1. zero-page maps", c[0].st.zero_maps, n);
	expect_exceptions("2. write after read", &c[1], 2 * n);
	demo_expect("2. ->fault calls", c[1].st.faults, n);
	demo_expect("2. ->page_mkwrite calls", c[1].st.mkwrite, 2 * n);
	demo_expect("2. demand allocations", c[1].st.demand_allocs, n);
	expect_exceptions("3. write of a hole", &c[2], n);
	demo_expect("3. ->fault calls", c[2].st.faults, n);
	demo_expect("3. ->page_mkwrite calls", c[2].st.mkwrite, n);
	demo_expect("3. demand allocations", c[2].st.demand_allocs, n);
	if (fa > 1) {
		expect_exceptions("4. fault-around", &c[3], n / fa);
		demo_expect("4. ->map_pages calls", c[3].st.map_pages_calls,
			    n / fa);
		demo_expect("4. ptes map_pages installed",
			    c[3].st.map_pages_mapped, n);
		demo_expect("4. ->fault calls", c[3].st.faults, 0);
	} else {
		expect_exceptions("4. no fault-around", &c[3], n);
		demo_expect("4. ->fault calls", c[3].st.faults, n);
	}

	demo_say("");
	demo_say("minflt and page_fault_user agree: one minor fault per "
		 "exception.");
	demo_say("error_code (x86): 4 user mode, 2 write, 1 the pte was "
		 "present (a protection");
	demo_say("fault): 0x4 read of an unmapped page, 0x6 write of one, "
		 "0x7 write to a");
	demo_say("read-only pte, like the zero page in 2.");
	demo_say("1: each read of a hole is ONE exception.  Inside it core "
		 "mm calls ->map_pages");
	demo_say("   first (fault-around: it maps only resident pages, here "
		 "none) and then");
	demo_say("   ->fault, which maps the zero page.  There is no second "
		 "exception: the");
	demo_say("   access simply completes when the exception returns.");
	demo_say("2: a write to a page mapped with the zero page is TWO "
		 "exceptions: ->page_mkwrite");
	demo_say("   allocates, zaps the pte and returns NOPAGE, so the "
		 "access faults again and");
	demo_say("   finds the new page (->fault, then ->page_mkwrite to "
		 "make it writable).");
	demo_say("3: a write with no pte is one exception: ->fault "
		 "allocates, ->page_mkwrite");
	demo_say("   follows in the same exception.");
	demo_say("4: one exception maps a whole fault-around window of "
		 "resident pages:");
	demo_say("   %ld pages per ->map_pages call, no ->fault at all.", fa);

	munmap(p, n * ps);
	munmap(q, n * ps);
	munmap(w, n * ps);
	close(fd);
	close(fd2);
	close(fdw);
	if (trace_why)
		printf("\n%s: SKIPPED the tracepoint checks: %s\n", demo_name,
		       trace_why);
	demo_done();
	return 0;
}
