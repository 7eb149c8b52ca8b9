// SPDX-License-Identifier: GPL-2.0
/*
 * demo9: Belady's anomaly.  The reference string 1 2 3 4 1 2 5 1 2 3 4 5,
 * as writes to 5 pages of one view, with a resident limit of 3 and then 4
 * frames (COWDEV_IOC_SET_RESIDENT_LIMIT: local replacement), under each
 * replacement policy of the module (evict_policy: fifo, clock, lru; the
 * value it had is restored at the end).  A fault is an access that needed
 * a page: a first write (demand_allocs) or a page-in (page_ins).
 *
 * The claims it checks (exact): fifo makes 9 faults with 3 frames and 10
 * with 4 -- more memory, more faults; clock and lru make exactly the
 * faults that a userspace simulation of each policy, as the module
 * documents it, predicts, access by access.  For each policy it says, from
 * its definition, whether it can show the anomaly at all.
 *
 * Usage: demo9_belady [SWAPFILE].  Needs root (swapon, evict_policy).
 */
#include "demo.h"

#define NPAGES	5
#define NREFS	12

static const int refs[NREFS] = { 1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5 };
static const char *const policies[] = { "fifo", "clock", "lru" };
#define NPOL	3

/* ---- the policies as the module defines them, in userspace --------- */

/*
 * The view's resident pages in load order (the clock's circle starting at
 * the hand), each with its referenced bit and age.  Every access sets the
 * referenced bit: on a page whose bit is set nothing happens (its pte is
 * there), and one whose bit was cleared had its ptes zapped, so the access
 * faults and the fault sets it.
 */
struct sim {
	int n, page[NPAGES], ref[NPAGES], age[NPAGES];
};

static void sim_remove(struct sim *s, int i)
{
	for (; i < s->n - 1; i++) {
		s->page[i] = s->page[i + 1];
		s->ref[i] = s->ref[i + 1];
		s->age[i] = s->age[i + 1];
	}
	s->n--;
}

/* Pick and remove a victim; the policy's state changes as it searches. */
static void sim_evict(struct sim *s, int pol)
{
	int i, v = 0;

	switch (pol) {
	case 0:		/* fifo: loaded longest ago */
	case 3:		/* true LRU (the list is in order of use) */
		break;
	case 1:		/* clock: second chance */
		while (s->ref[0]) {
			int p = s->page[0], a = s->age[0];

			/* Clear and move past: the page goes behind the hand. */
			sim_remove(s, 0);
			s->page[s->n] = p;
			s->ref[s->n] = 0;
			s->age[s->n] = a;
			s->n++;
		}
		break;
	case 2:		/* lru: aging over the first 32 in load order */
		for (i = 0; i < s->n && i < 32; i++) {
			s->age[i] = (s->age[i] >> 1) | (s->ref[i] << 7);
			s->ref[i] = 0;
		}
		for (i = 1; i < s->n && i < 32; i++)
			if (s->age[i] < s->age[v])
				v = i;
		break;
	}
	sim_remove(s, v);
}

/* Run the string with @frames frames; fault marks into @fault[]. */
static int simulate(int pol, int frames, int *fault)
{
	struct sim s = { 0 };
	int r, i, n = 0;

	for (r = 0; r < NREFS; r++) {
		for (i = 0; i < s.n && s.page[i] != refs[r]; i++)
			;
		fault[r] = i == s.n;
		if (!fault[r] && pol == 3) {
			/* True LRU: the page just used goes to the end. */
			sim_remove(&s, i);
			s.page[s.n] = refs[r];
			s.ref[s.n] = 1;
			s.age[s.n] = 0;
			s.n++;
			continue;
		}
		if (!fault[r]) {
			s.ref[i] = 1;
			continue;
		}
		n++;
		if (s.n >= frames)
			sim_evict(&s, pol);
		/* Loaded: at the end of the load order, age 0, referenced. */
		s.page[s.n] = refs[r];
		s.ref[s.n] = 1;
		s.age[s.n] = 0;
		s.n++;
	}
	return n;
}

/* ---- the same string on the module --------------------------------- */

static int run(int frames, int *fault, int *minor)
{
	const size_t ps = demo_psize();
	struct cowdev_stats st0, a, b;
	volatile char *m;
	int fd, r, n;

	fd = demo_object(NPAGES);
	DEMO_TRY(cowdev_set_resident_limit(fd, frames));
	m = demo_map(fd, NPAGES, MAP_SHARED);
	st0 = a = demo_stats(fd);
	*minor = 0;
	for (r = 0; r < NREFS; r++) {
		m[(refs[r] - 1) * ps] = (char)(r + 1);
		b = demo_stats(fd);
		fault[r] = (int)((b.demand_allocs - a.demand_allocs) +
				 (b.page_ins - a.page_ins));
		*minor += (int)((b.faults - a.faults) -
				(b.major_faults - a.major_faults) -
				(b.demand_allocs - a.demand_allocs));
		a = b;
	}
	n = (int)((b.demand_allocs - st0.demand_allocs) +
		  (b.page_ins - st0.page_ins));
	DEMO_CHECK(b.resident_pages <= (uint64_t)frames,
		   "resident_pages %llu with a limit of %d",
		   (unsigned long long)b.resident_pages, frames);
	DEMO_CHECK(b.major_faults - st0.major_faults ==
		   b.page_ins - st0.page_ins, "major_faults %llu, page_ins "
		   "%llu", (unsigned long long)(b.major_faults -
						st0.major_faults),
		   (unsigned long long)(b.page_ins - st0.page_ins));
	munmap((void *)m, NPAGES * ps);
	close(fd);
	return n;
}

static void show_row(const char *what, const int *fault)
{
	int r;

	printf("    %-18s", what);
	for (r = 0; r < NREFS; r++)
		printf(" %c", fault[r] ? 'F' : '.');
}

int main(int argc, char **argv)
{
	int got[NPOL][2], want[NPOL][2], minor[NPOL][2];
	int fault[NREFS], sfault[NREFS], p, f, r, lru3, lru4;
	char what[96];

	demo_name = "demo9_belady";
	setvbuf(stdout, NULL, _IOLBF, 0);
	demo_title("Belady's anomaly: more frames, more faults");
	demo_say("Reference string (writes to pages 1..5 of one view), "
		 "with a resident limit of");
	demo_say("3 and then 4 frames and a swap area behind them; a fault "
		 "is a first write");
	demo_say("(demand_allocs) or a page read back (page_ins).");
	demo_swapon(argc > 1 ? argv[1] : NULL, 64);

	for (p = 0; p < NPOL; p++) {
		demo_set_policy(policies[p]);
		demo_step("evict_policy = %s", policies[p]);
		printf("    %-18s", "reference");
		for (r = 0; r < NREFS; r++)
			printf(" %d", refs[r]);
		printf("\n");
		for (f = 0; f < 2; f++) {
			got[p][f] = run(3 + f, fault, &minor[p][f]);
			want[p][f] = simulate(p, 3 + f, sfault);
			snprintf(what, sizeof(what), "%d frames, module", 3 + f);
			show_row(what, fault);
			printf("   %2d faults (other ->fault calls: %d)\n",
			       got[p][f], minor[p][f]);
			snprintf(what, sizeof(what), "%d frames, model", 3 + f);
			show_row(what, sfault);
			printf("   %2d faults\n", want[p][f]);
			for (r = 0; r < NREFS; r++) {
				snprintf(what, sizeof(what), "%s, %d frames, "
					 "access %d (page %d) faults",
					 policies[p], 3 + f, r + 1, refs[r]);
				demo_expect(what, fault[r], sfault[r]);
			}
		}
	}

	demo_step("faults, by policy and frames");
	printf("    %-8s %10s %10s   %s\n", "policy", "3 frames", "4 frames",
	       "");
	for (p = 0; p < NPOL; p++)
		printf("    %-8s %10d %10d   %s\n", policies[p], got[p][0],
		       got[p][1], got[p][1] > got[p][0] ?
		       "anomaly: 4 frames fault more" : "");
	lru3 = simulate(3, 3, sfault);
	lru4 = simulate(3, 4, sfault);
	printf("    %-8s %10d %10d   %s\n", "true LRU", lru3, lru4,
	       "(a userspace simulation, for comparison)");
	demo_expect("true LRU (simulated), 3 frames", lru3, 10);
	demo_expect("true LRU (simulated), 4 frames", lru4, 8);
	demo_expect("fifo, 3 frames", got[0][0], 9);
	demo_expect("fifo, 4 frames", got[0][1], 10);
	for (p = 1; p < NPOL; p++)
		for (f = 0; f < 2; f++) {
			snprintf(what, sizeof(what), "%s, %d frames (= the "
				 "model's)", policies[p], 3 + f);
			demo_expect(what, got[p][f], want[p][f]);
		}

	demo_step("which policies can show the anomaly");
	demo_say("fifo: yes.  FIFO is not a stack algorithm: the pages it "
		 "keeps with n frames");
	demo_say("are not always among those it keeps with n+1 (they depend "
		 "on load times, not");
	demo_say("on use), so more frames can mean more faults; this string "
		 "shows it: %d -> %d.", got[0][0], got[0][1]);
	demo_say("clock: yes.  Second chance is FIFO that skips pages "
		 "referenced since the hand");
	demo_say("last passed them; when the hand moves depends on the "
		 "number of frames, so it");
	demo_say("is not a stack algorithm and not immune (here: %d -> %d%s).",
		 got[1][0], got[1][1], got[1][1] > got[1][0] ?
		 ", the anomaly" : "");
	demo_say("lru: true LRU is a stack algorithm -- the n pages used "
		 "most recently are always");
	demo_say("among the n+1 used most recently -- and can never show "
		 "the anomaly (simulated");
	demo_say("here: %d -> %d).  This lru is an approximation: 8-bit "
		 "ages sampled only when a", lru3, lru4);
	demo_say("victim is sought, among the first 32 pages in load order, "
		 "ties to the oldest");
	demo_say("load.  When the samples are taken depends on the number "
		 "of frames, and equal");
	demo_say("ages fall back to FIFO order, so it is not a stack "
		 "algorithm either: it is not");
	demo_say("guaranteed free of the anomaly (here: %d -> %d%s).",
		 got[2][0], got[2][1], got[2][1] > got[2][0] ?
		 ", the anomaly" : "");
	demo_swapoff();
	demo_done();
	return 0;
}
