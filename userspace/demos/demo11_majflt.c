// SPDX-License-Identifier: GPL-2.0
/*
 * demo11: major faults, the majflt column of `ps -o majflt,minflt`.  With a
 * swap area attached, one process walks an object twice the size of the
 * pool twice: the first pass writes every page, the second reads every
 * page.  The demo prints the process's own fault counts (/proc/self/stat
 * fields 10 and 12, and `ps -o majflt,minflt -p PID` when ps exists)
 * beside cowdev's counters after each pass.
 *
 * The claims it checks (exact): the writing pass makes no major fault (each
 * page is new: a hole becomes a pool page, and when the pool is full the
 * oldest page is written to the swap area to free its frame); the reading
 * pass makes exactly one major fault per page, because a sequential walk
 * over twice the pool finds every page evicted by the time it comes back to
 * it, so each page is read back from the swap area: the process's majflt,
 * the view's major_faults and page_ins, and the pool's page_ins all grow by
 * the number of pages; the pages read back hold what the first pass wrote;
 * closing the object frees every swap slot.
 *
 * Usage: demo11_majflt [SWAPFILE]; without SWAPFILE the swap file is created
 * under $COWDEV_SWAP_DIR (default /tmp).  Needs root (swapon).
 * COWDEV_DEMO_FRAMES=N stands a resident limit of N frames for the pool
 * (the same walk, local replacement): a quick run with a big pool.
 */
#include "demo.h"

/* One pass's numbers. */
struct pass {
	long long minflt, majflt;
	struct cowdev_stats st;
	struct cowdev_pool_info pi;
};

static void snap(struct pass *p, int fd)
{
	demo_proc_faults(&p->minflt, &p->majflt);
	p->st = demo_stats(fd);
	p->pi = demo_pool();
}

#define D(f) ((long long)(b->f - a->f))

static void show(const char *what, const struct pass *a, const struct pass *b)
{
	printf("    %-26s %12s %12s\n", what, "this pass", "in all");
	printf("    %-26s %12lld %12lld\n", "majflt (/proc/self/stat)",
	       b->majflt - a->majflt, b->majflt);
	printf("    %-26s %12lld %12lld\n", "minflt (/proc/self/stat)",
	       b->minflt - a->minflt, b->minflt);
	printf("    %-26s %12lld %12llu\n", "view major_faults",
	       D(st.major_faults), (unsigned long long)b->st.major_faults);
	printf("    %-26s %12lld %12llu\n", "view ->fault calls", D(st.faults),
	       (unsigned long long)b->st.faults);
	printf("    %-26s %12lld %12llu\n", "view demand_allocs",
	       D(st.demand_allocs), (unsigned long long)b->st.demand_allocs);
	printf("    %-26s %12lld %12llu\n", "view page_ins", D(st.page_ins),
	       (unsigned long long)b->st.page_ins);
	printf("    %-26s %12lld %12llu\n", "view page_outs", D(st.page_outs),
	       (unsigned long long)b->st.page_outs);
	printf("    %-26s %12lld %12llu\n", "view evictions", D(st.evictions),
	       (unsigned long long)b->st.evictions);
	printf("    %-26s %12s %12llu\n", "view resident_pages", "",
	       (unsigned long long)b->st.resident_pages);
	printf("    %-26s %12s %12llu\n", "view swapped_pages", "",
	       (unsigned long long)b->st.swapped_pages);
	printf("    %-26s %12lld %12llu\n", "pool page_ins", D(pi.page_ins),
	       (unsigned long long)b->pi.page_ins);
	printf("    %-26s %12lld %12llu\n", "pool page_outs", D(pi.page_outs),
	       (unsigned long long)b->pi.page_outs);
	printf("    %-26s %12lld %12llu\n", "pool evictions", D(pi.evictions),
	       (unsigned long long)b->pi.evictions);
	printf("    %-26s %12lld %12llu\n", "pool clean_evictions",
	       D(pi.clean_evictions), (unsigned long long)b->pi.clean_evictions);
	printf("    %-26s %12s %12llu\n", "pool swap_used (slots)", "",
	       (unsigned long long)b->pi.swap_used);
}

/* `ps -o majflt,minflt -p PID`, if there is a ps; its majflt, or -1. */
static long long run_ps(void)
{
	char cmd[128], line[256];
	long long maj = -1, min;
	FILE *f;

	if (system("command -v ps >/dev/null 2>&1")) {
		printf("    (no ps here: /proc/self/stat is what it would "
		       "read)\n");
		return -1;
	}
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "ps -o majflt,minflt -p %d", (int)getpid());
	printf("    $ %s\n", cmd);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		printf("    %s", line);
		if (sscanf(line, "%lld %lld", &maj, &min) != 2)
			maj = maj < 0 ? -1 : maj;
	}
	if (pclose(f))
		return -1;
	return maj;
}

/* ps's majflt equals /proc/self/stat's read just before it. */
static void check_ps(void)
{
	long long min, maj, ps_maj;

	demo_proc_faults(&min, &maj);
	ps_maj = run_ps();
	if (ps_maj >= 0)
		demo_expect("ps majflt = /proc/self/stat field 12", ps_maj,
			    maj);
}

int main(int argc, char **argv)
{
	const size_t ps = demo_psize();
	struct pass p0, p1, p1b, p2;
	struct cowdev_pool_info pi;
	const char *frames = getenv("COWDEV_DEMO_FRAMES");
	struct cowdev_stats st;
	size_t pages, i, bad = 0, mem;
	volatile char *m;
	long long r1;
	int fd;

	demo_name = "demo11_majflt";
	setvbuf(stdout, NULL, _IOLBF, 0);
	demo_title("major faults: an object twice the size of the pool");
	pi = demo_pool();
	mem = frames ? strtoul(frames, NULL, 0) : pi.total_pages;
	if (!mem || mem > pi.total_pages)
		mem = pi.total_pages;
	pages = 2 * mem;
	if (mem < pi.total_pages)
		demo_say("A resident limit of %zu frames stands for the pool "
			 "(COWDEV_DEMO_FRAMES);", mem);
	demo_say("The pool has %zu pages (one of them the zero page); the "
		 "object has %zu,", mem, pages);
	demo_say("so at most half of it can be in the pool at once.  A swap "
		 "area takes the rest.");
	demo_say("Replacement policy: %s.", demo_policy()[0] ? demo_policy() :
		 "(unknown)");

	demo_step("1. attach a swap area of %zu pages", pages + 64);
	demo_swapon(argc > 1 ? argv[1] : NULL, pages + 64);

	fd = demo_object(pages);
	if (mem < pi.total_pages)
		DEMO_TRY(cowdev_set_resident_limit(fd, mem));
	m = demo_map(fd, pages, MAP_SHARED);
	demo_say("Before the walk, the process's counts so far (loading the "
		 "program read its");
	demo_say("pages from the file system: those are its major faults "
		 "until now):");
	/* Also warms up what the measurements touch (ps, popen, stat). */
	check_ps();
	snap(&p0, fd);

	demo_step("2. pass 1: write every page, in order");
	for (i = 0; i < pages; i++)
		m[i * ps] = (char)(i * 7 + 1);
	snap(&p1, fd);
	show("after writing", &p0, &p1);
	check_ps();
	r1 = p1.st.resident_pages;
	demo_expect("major faults of the writing pass (majflt)",
		    p1.majflt - p0.majflt, 0);
	demo_expect("view major_faults of the writing pass",
		    p1.st.major_faults - p0.st.major_faults, 0);
	demo_expect("demand allocations (one per page)",
		    p1.st.demand_allocs - p0.st.demand_allocs, pages);
	demo_expect("pages of the object in the pool or in swap",
		    p1.st.resident_pages + p1.st.swapped_pages, pages);
	DEMO_CHECK(r1 <= (long long)mem && r1 > 0,
		   "resident_pages %lld, pool %zu", r1, mem);
	demo_expect("view evictions = pages no longer resident",
		    p1.st.evictions - p0.st.evictions, pages - r1);
	demo_expect("view page_outs = evictions (all were dirty)",
		    p1.st.page_outs - p0.st.page_outs, pages - r1);
	demo_say("Every write fault found a hole: a minor fault.  Once the "
		 "pool was full, each");
	demo_say("new page first evicted the oldest one, which had been "
		 "written and so was");
	demo_say("written out to the swap area (a page-out, not a fault of "
		 "this process).");
	demo_say("%lld pages are still in the pool: the last ones written.",
		 r1);

	demo_step("3. pass 2: read every page, in order");
	snap(&p1b, fd);
	for (i = 0; i < pages; i++)
		bad += m[i * ps] != (char)(i * 7 + 1);
	snap(&p2, fd);
	show("after reading", &p1b, &p2);
	check_ps();
	demo_expect("major faults of the reading pass (majflt)",
		    p2.majflt - p1b.majflt, pages);
	demo_expect("view major_faults of the reading pass",
		    p2.st.major_faults - p1b.st.major_faults, pages);
	demo_expect("view page_ins of the reading pass",
		    p2.st.page_ins - p1b.st.page_ins, pages);
	demo_expect("pool page_ins of the reading pass",
		    p2.pi.page_ins - p1b.pi.page_ins, pages);
	demo_expect("demand allocations of the reading pass",
		    p2.st.demand_allocs - p1b.st.demand_allocs, 0);
	demo_expect("view page_outs: pages pass 1 left in the pool",
		    p2.st.page_outs - p1b.st.page_outs, r1);
	demo_expect("view evictions: pages that left the pool",
		    p2.st.evictions - p1b.st.evictions,
		    pages + r1 - (long long)p2.st.resident_pages);
	demo_say("Pass 1 left pages %zu..%zu in the pool.  Pass 2 started "
		 "at page 0, which", pages - (size_t)r1, pages - 1);
	demo_say("was in the swap area: a major fault read it back, and its "
		 "frame came from");
	demo_say("evicting the oldest resident page.  By the time the walk "
		 "reached page %zu,", pages - (size_t)r1);
	demo_say("the pages left in the pool had all been evicted the same "
		 "way (written out,");
	demo_say("since they were dirty), so every page of the pass was "
		 "read back: %zu major", pages);
	demo_say("faults, one per page-in.  The pages read back were not "
		 "written, so their swap");
	demo_say("copies stay good and evicting them again writes nothing "
		 "(clean evictions: %lld).", p2.pi.clean_evictions -
		 p1b.pi.clean_evictions);

	demo_expect("pages that did not read back what pass 1 wrote", bad, 0);

	demo_step("4. close the object and detach the swap area");
	munmap((void *)m, pages * ps);
	st = demo_stats(fd);
	close(fd);
	pi = demo_pool();
	demo_expect("swap slots in use after the close", pi.swap_used, 0);
	demo_swapoff();
	demo_expect("the view's major faults in all (pass 2)",
		    st.major_faults, pages);

	demo_step("why majflt is 0 for every other demo");
	demo_say("A major fault is one that has to wait for I/O to get the "
		 "page (the kernel");
	demo_say("returns VM_FAULT_MAJOR, and the task's majflt grows).  In "
		 "the other demos");
	demo_say("no swap area is attached: a cowdev page never leaves the "
		 "pool, which is RAM,");
	demo_say("so every fault is served from memory -- the zero page, a "
		 "free pool page, or a");
	demo_say("page already resident (minor faults, minflt).  Only a page "
		 "that was evicted");
	demo_say("to the swap area must be read back, and that read is what "
		 "makes a fault major.");
	demo_done();
	return 0;
}
