// SPDX-License-Identifier: GPL-2.0
/*
 * demo1: demand paging.  Map 1024 pages of a cowdev object and watch Rss,
 * Pss and Private_Dirty (/proc/self/smaps), the pool and the module's
 * counters before touching, after reading every page, and after memset()
 * of every page; then write a second object without reading it first.
 *
 * The claims it checks (exact): mmap allocates nothing; a read of a hole
 * costs one ->fault that maps the shared zero page (no pool page: Rss
 * counts it once per pte, Pss shows it is one page); the first write of a
 * page that was read costs one pool page, two ->fault and two
 * ->page_mkwrite calls; a first write with no read before costs one pool
 * page, one ->fault and one ->page_mkwrite; closing gives every page back.
 */
#include "demo.h"

#define PAGES	1024

static void show(const char *phase, const char *p, int fd, long long used0)
{
	struct cowdev_stats st = demo_stats(fd);

	printf("    %-22s Rss %5ld kB  Pss %5ld kB  Private_Dirty %5ld kB  "
	       "pool +%lld\n", phase, cowdev_smaps_kb(p, "Rss"),
	       cowdev_smaps_kb(p, "Pss"), cowdev_smaps_kb(p, "Private_Dirty"),
	       demo_used(fd) - used0);
	printf("    %-22s faults %llu  map_pages %llu (mapped %llu)  "
	       "zero_maps %llu  mkwrite %llu  demand_allocs %llu\n", "",
	       (unsigned long long)st.faults,
	       (unsigned long long)st.map_pages_calls,
	       (unsigned long long)st.map_pages_mapped,
	       (unsigned long long)st.zero_maps,
	       (unsigned long long)st.mkwrite,
	       (unsigned long long)st.demand_allocs);
}

int main(void)
{
	const size_t ps = demo_psize(), kb = PAGES * ps / 1024;
	long fa = demo_fault_around_pages();
	struct cowdev_stats st;
	long long used0;
	volatile char *p;
	char *q;
	int fd, fd2;
	size_t i;
	long sum = 0;

	demo_name = "demo1_demand_paging";
	demo_title("demand paging: nothing is allocated until it is written");
	demo_say("A %d-page (%zu kB) object mapped MAP_SHARED.  Reading a "
		 "hole maps the pool's", PAGES, kb);
	demo_say("shared zero page; only a write takes a page from the "
		 "pool.");

	fd = demo_object(PAGES);
	used0 = demo_used(fd);
	p = demo_map(fd, PAGES, MAP_SHARED);

	demo_step("1. mapped, not touched");
	show("after mmap", (char *)p, fd, used0);
	st = demo_stats(fd);
	demo_expect("Rss (kB)", cowdev_smaps_kb((char *)p, "Rss"), 0);
	demo_expect("->fault calls", st.faults, 0);
	demo_expect("pool pages used by the object", demo_used(fd) - used0,
		    0);
	demo_say("mmap only creates the VMA: no page table entry, no page.");

	demo_step("2. read every page once");
	for (i = 0; i < PAGES; i++)
		sum += p[i * ps];
	show("after reading", (char *)p, fd, used0);
	st = demo_stats(fd);
	demo_expect("sum of the bytes read", sum, 0);
	demo_expect("->fault calls (one per page)", st.faults, PAGES);
	demo_expect("zero-page mappings", st.zero_maps, PAGES);
	demo_expect("demand allocations", st.demand_allocs, 0);
	demo_expect("pool pages used by the object", demo_used(fd) - used0,
		    0);
	if (fa > 1) {
		demo_expect("->map_pages calls (one before each ->fault)",
			    st.map_pages_calls, PAGES);
		demo_expect("ptes map_pages installed (holes: none)",
			    st.map_pages_mapped, 0);
	}
	demo_expect("Rss (kB): the zero page counted per pte",
		    cowdev_smaps_kb((char *)p, "Rss"), kb);
	DEMO_CHECK(cowdev_smaps_kb((char *)p, "Pss") <= (long)(ps / 1024),
		   "Pss %ld kB", cowdev_smaps_kb((char *)p, "Pss"));
	printf("    check: %-46s %8s  ok\n", "Pss <= one page: it is ONE page",
	       "yes");
	demo_expect("Private_Dirty (kB)",
		    cowdev_smaps_kb((char *)p, "Private_Dirty"), 0);
	demo_say("Every read fault found a hole and mapped the same zero page "
		 "read-only.");
	demo_say("Rss counts that page once per pte (%zu kB); Pss divides it "
		 "by its %d", kb, PAGES);
	demo_say("mappings: the whole object costs one page so far.");

	demo_step("3. memset() every page");
	memset((char *)p, 0x5a, PAGES * ps);
	show("after memset", (char *)p, fd, used0);
	st = demo_stats(fd);
	demo_expect("demand allocations (one per page)", st.demand_allocs,
		    PAGES);
	demo_expect("pool pages used by the object", demo_used(fd) - used0,
		    PAGES);
	demo_expect("->fault calls in total (2 per page)", st.faults,
		    2 * PAGES);
	demo_expect("->page_mkwrite calls (2 per page)", st.mkwrite,
		    2 * PAGES);
	demo_expect("Rss (kB)", cowdev_smaps_kb((char *)p, "Rss"), kb);
	demo_expect("Private_Dirty (kB)",
		    cowdev_smaps_kb((char *)p, "Private_Dirty"), kb);
	for (i = 0, sum = 0; i < PAGES; i++)
		sum += p[i * ps] == 0x5a && p[i * ps + ps - 1] == 0x5a;
	demo_expect("pages that hold what memset wrote", sum, PAGES);
	demo_say("The write hit a read-only zero-page pte: ->page_mkwrite "
		 "took a pool page,");
	demo_say("zapped the pte and made the access retry; the retry "
		 "faulted the new page in");
	demo_say("(->fault) and ->page_mkwrite let it become writable.  "
		 "Same Rss, but now");
	demo_say("%zu kB of it is dirty and private to this mapping.", kb);

	demo_step("4. a second object, written without reading it first");
	fd2 = demo_object(PAGES);
	q = demo_map(fd2, PAGES, MAP_SHARED);
	memset(q, 0xa5, PAGES * ps);
	show("after memset", q, fd2, used0 + PAGES);
	st = demo_stats(fd2);
	demo_expect("demand allocations", st.demand_allocs, PAGES);
	demo_expect("->fault calls (1 per page)", st.faults, PAGES);
	demo_expect("->page_mkwrite calls (1 per page)", st.mkwrite, PAGES);
	demo_expect("zero-page mappings", st.zero_maps, 0);
	demo_say("A write to an unmapped hole is one fault: ->fault takes "
		 "the pool page and");
	demo_say("->page_mkwrite makes it writable; reading first costs "
		 "twice the calls.");

	demo_step("5. unmap and close both");
	munmap((void *)p, PAGES * ps);
	munmap(q, PAGES * ps);
	close(fd2);
	close(fd);
	{
		uint64_t used;

		/* No fd left to ask: sysfs has the same pool counters. */
		DEMO_TRY(cowdev_sysfs_read("used_pages", &used));
		demo_expect("pool pages still used by the objects",
			    (long long)used - used0, 0);
	}
	demo_say("The last reference to each object is gone: all %d pages "
		 "went back to the pool.", 2 * PAGES);
	demo_done();
	return 0;
}
