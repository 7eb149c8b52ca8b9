// SPDX-License-Identifier: GPL-2.0
/*
 * demo10: dirty versus clean evictions.  A view with a resident limit of
 * one page (COWDEV_IOC_SET_RESIDENT_LIMIT 1) and a swap area: touching one
 * of its two pages evicts the other.  Page A is written, evicted, read back
 * (a major fault), evicted again without a write, then written, evicted
 * and read back once more.
 *
 * The claims it checks (exact, every counter at every step): evicting a
 * page written since it was last written out costs a page-out; evicting a
 * page read back and not written since costs nothing -- its copy in the
 * swap area is still good (a clean eviction: page_outs unchanged,
 * clean_evictions + 1); the first write to a page read back drops that
 * copy (swap_used - 1), so its next eviction writes it again (page_outs +
 * 1); every page-in is one major fault of the process; the data survive
 * every round trip.
 *
 * Usage: demo10_dirty_clean [SWAPFILE].  Needs root (swapon).
 */
#include "demo.h"

struct snap {
	struct cowdev_stats st;
	struct cowdev_pool_info pi;
	long long minflt, majflt;
	uint8_t state_a, state_b;
};

static int fd;
static size_t stride;

static void take(struct snap *s)
{
	demo_proc_faults(&s->minflt, &s->majflt);
	s->st = demo_stats(fd);
	s->pi = demo_pool();
	DEMO_TRY(cowdev_page_state(fd, 0, 1, &s->state_a));
	DEMO_TRY(cowdev_page_state(fd, stride, 1, &s->state_b));
}

static const char *state_str(uint8_t s)
{
	static char buf[4][40];
	static int k;
	char *b = buf[k++ % 4];

	if (!s)
		return "hole";
	snprintf(b, 40, "%s%s%s", s & COWDEV_PAGE_SWAPPED ? "SWAPPED" :
		 s & COWDEV_PAGE_RESIDENT ? "RESIDENT" : "?",
		 s & COWDEV_PAGE_DIRTY ? "|DIRTY" : "",
		 s & COWDEV_PAGE_SHARED ? "|SHARED" : "");
	return b;
}

/* What one step must change. */
struct want {
	int demand, majflt, page_outs, clean, evictions, swap_used;
	int a_swapped;		/* page A's state: 1 swapped, 0 resident */
};

static void step_check(const char *what, const struct snap *a,
		       const struct snap *b, const struct want *w)
{
	char name[96];

#define CHECK(label, got, exp)						\
	do {								\
		snprintf(name, sizeof(name), "%s: %s", what, label);	\
		demo_expect(name, (long long)(got), (long long)(exp));	\
	} while (0)

	printf("    %-16s %6s %6s %9s %6s %9s %9s %10s\n", "", "majflt",
	       "page", "page_outs", "clean", "evictions", "swap_used",
	       "demand");
	printf("    %-16s %6s %6s %9s %6s %9s %9s %10s\n", "", "", "_ins",
	       "", "evict.", "", "(gauge)", "allocs");
	printf("    %-16s %+6lld %+6lld %+9lld %+6lld %+9lld %9llu %+10lld\n",
	       "pool / process", b->majflt - a->majflt,
	       (long long)(b->pi.page_ins - a->pi.page_ins),
	       (long long)(b->pi.page_outs - a->pi.page_outs),
	       (long long)(b->pi.clean_evictions - a->pi.clean_evictions),
	       (long long)(b->pi.evictions - a->pi.evictions),
	       (unsigned long long)b->pi.swap_used,
	       (long long)(b->st.demand_allocs - a->st.demand_allocs));
	printf("    %-16s %+6lld %+6lld %+9lld %6s %+9lld\n", "view (stats)",
	       (long long)(b->st.major_faults - a->st.major_faults),
	       (long long)(b->st.page_ins - a->st.page_ins),
	       (long long)(b->st.page_outs - a->st.page_outs), "",
	       (long long)(b->st.evictions - a->st.evictions));
	printf("    page A: %s, page B: %s\n", state_str(b->state_a),
	       state_str(b->state_b));
	CHECK("majflt (the process)", b->majflt - a->majflt, w->majflt);
	CHECK("view major_faults", b->st.major_faults - a->st.major_faults,
	      w->majflt);
	CHECK("pool page_ins", b->pi.page_ins - a->pi.page_ins, w->majflt);
	CHECK("demand allocations", b->st.demand_allocs - a->st.demand_allocs,
	      w->demand);
	CHECK("pool page_outs", b->pi.page_outs - a->pi.page_outs,
	      w->page_outs);
	CHECK("view page_outs", b->st.page_outs - a->st.page_outs,
	      w->page_outs);
	CHECK("pool clean_evictions",
	      b->pi.clean_evictions - a->pi.clean_evictions, w->clean);
	CHECK("pool evictions", b->pi.evictions - a->pi.evictions,
	      w->evictions);
	CHECK("view evictions", b->st.evictions - a->st.evictions,
	      w->evictions);
	CHECK("swap_used", b->pi.swap_used, w->swap_used);
	CHECK("page A swapped", !!(b->state_a & COWDEV_PAGE_SWAPPED),
	      w->a_swapped);
	CHECK("page A resident", !!(b->state_a & COWDEV_PAGE_RESIDENT),
	      !w->a_swapped);
	CHECK("view resident_pages (limit 1)", b->st.resident_pages, 1);
#undef CHECK
}

int main(int argc, char **argv)
{
	const size_t ps = demo_psize();
	struct snap s0, s1;
	volatile char *m, *pa, *pb;
	struct want w;
	char v;

	demo_name = "demo10_dirty_clean";
	setvbuf(stdout, NULL, _IOLBF, 0);
	demo_title("dirty and clean evictions: what a page-out costs, and "
		   "when it is free");
	stride = demo_fault_around_pages();
	if (stride < 1)
		stride = 16;
	demo_say("A view with a resident limit of 1 page: touching page B "
		 "evicts page A and the");
	demo_say("other way round.  (B is page %zu of the view, outside A's "
		 "fault-around window.)", stride);
	demo_swapon(argc > 1 ? argv[1] : NULL, 16);
	fd = demo_object(2 * stride);
	DEMO_TRY(cowdev_set_resident_limit(fd, 1));
	m = demo_map(fd, 2 * stride, MAP_SHARED);
	pa = m;
	pb = m + stride * ps;
	take(&s0);
	take(&s0);

	demo_step("1. write A (0x11)");
	*pa = 0x11;
	take(&s1);
	w = (struct want){ .demand = 1, .swap_used = 0, .a_swapped = 0 };
	step_check("1 write A", &s0, &s1, &w);

	demo_step("2. write B: A is evicted, and it is dirty");
	s0 = s1;
	*pb = 0x22;
	take(&s1);
	w = (struct want){ .demand = 1, .page_outs = 1, .evictions = 1,
			   .swap_used = 1, .a_swapped = 1 };
	step_check("2 write B", &s0, &s1, &w);
	demo_say("A had never been written out: evicting it wrote it to a "
		 "swap slot.");

	demo_step("3. read A: a major fault brings it back, B (dirty) is "
		  "written out");
	s0 = s1;
	v = *pa;
	take(&s1);
	demo_expect("3 read A: the byte read", v, 0x11);
	w = (struct want){ .majflt = 1, .page_outs = 1, .evictions = 1,
			   .swap_used = 2, .a_swapped = 0 };
	step_check("3 read A", &s0, &s1, &w);
	demo_say("A is in the pool again and its slot still holds the same "
		 "bytes: the copy is");
	demo_say("kept (swap_used counts it) until A is written.");

	demo_step("4. read B: A is evicted again, without a write since it "
		  "came back");
	s0 = s1;
	v = *pb;
	take(&s1);
	demo_expect("4 read B: the byte read", v, 0x22);
	w = (struct want){ .majflt = 1, .clean = 1, .evictions = 1,
			   .swap_used = 2, .a_swapped = 1 };
	step_check("4 read B", &s0, &s1, &w);
	demo_say("page_outs did not move: A's copy in the swap area was "
		 "still good, so its");
	demo_say("eviction only dropped the frame -- a clean eviction, "
		 "nothing written.");

	demo_step("5. write A (0x33): page-in, B (clean) is evicted, the "
		  "write drops A's copy");
	s0 = s1;
	*pa = 0x33;
	take(&s1);
	w = (struct want){ .majflt = 1, .clean = 1, .evictions = 1,
			   .swap_used = 1, .a_swapped = 0 };
	step_check("5 write A", &s0, &s1, &w);
	demo_say("B had been read back and not written: a clean eviction "
		 "too.  A's old copy is");
	demo_say("stale after the write, so its slot was freed (swap_used "
		 "2 -> 1: only B's).");

	demo_step("6. read B: A is evicted, and it is dirty again");
	s0 = s1;
	v = *pb;
	take(&s1);
	demo_expect("6 read B: the byte read", v, 0x22);
	w = (struct want){ .majflt = 1, .page_outs = 1, .evictions = 1,
			   .swap_used = 2, .a_swapped = 1 };
	step_check("6 read B", &s0, &s1, &w);
	demo_say("Written since its last page-out: the eviction wrote A "
		 "again (page_outs + 1).");

	demo_step("7. read A: what step 5 wrote came back");
	s0 = s1;
	v = *pa;
	take(&s1);
	demo_expect("7 read A: the byte read", v, 0x33);
	w = (struct want){ .majflt = 1, .clean = 1, .evictions = 1,
			   .swap_used = 2, .a_swapped = 0 };
	step_check("7 read A", &s0, &s1, &w);

	demo_step("8. close the view and detach the swap area");
	munmap((void *)m, 2 * stride * ps);
	close(fd);
	demo_expect("swap slots in use after the close", demo_pool().swap_used,
		    0);
	demo_swapoff();
	demo_say("In short: a page-out is needed only for a page that is "
		 "dirty since its last");
	demo_say("write to the swap area.  Pages that are mostly read (code, "
		 "data read back from");
	demo_say("swap) cost one read to bring in and nothing to evict "
		 "again.");
	demo_done();
	return 0;
}
