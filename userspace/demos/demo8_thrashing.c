// SPDX-License-Identifier: GPL-2.0
/*
 * demo8: thrashing.  One view gets a resident limit of FRAMES pages
 * (COWDEV_IOC_SET_RESIDENT_LIMIT: a FRAMES-frame memory of its own, local
 * replacement) and a swap area behind it.  For working sets of 4 to 32
 * pages it writes the working set once, then walks it cyclically PASSES
 * times, reading one byte of each page, and counts the faults that had to
 * bring a page back (the view's major_faults: one page-in each).  It prints
 * the fault rate against the working-set size for each replacement policy,
 * writes the table as gnuplot data with a gnuplot script beside it, and
 * renders the plot as SVG when gnuplot is installed.
 *
 * The claims it checks (exact): while the working set fits in the frames
 * the steady state makes no fault at all; one page more than the frames
 * and every single access faults (fifo, and clock and the lru aging too:
 * in a cyclic walk over more pages than frames, the page needed next is
 * always the one that was used longest ago, so every policy that keeps
 * recently used pages evicts it just before it is needed); the knee is at
 * a working set of FRAMES + 1 pages.
 *
 * Usage: demo8_thrashing [OUTDIR]: the data, script and plot go to OUTDIR
 * (default $TMPDIR or /tmp).  Needs root (swapon, evict_policy).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include "demo.h"

#define FRAMES		16
#define PASSES		6
#define MAXWS		32

static const int sizes[] = { 4, 8, 12, 14, 15, 16, 17, 18, 20, 24, 28, 32 };
#define NSIZES	((int)(sizeof(sizes) / sizeof(sizes[0])))

static const char *const policies[] = { "fifo", "clock", "lru" };
#define NPOL	3

struct result {
	long long faults;	/* major faults in the measured passes */
	long long accesses;
	long long minor;	/* ->fault calls that were not page-ins */
	long long page_outs, clean;
};

static struct result res[NPOL][NSIZES];

/*
 * Working-set page j is page j * stride of the view, one page in each
 * fault-around window: a read fault maps only its own page, so what is
 * mapped is exactly what was accessed (->map_pages never maps a neighbour
 * and no reference is seen that the walk did not make).
 */
static size_t stride;

static void measure(int pol, int k)
{
	const size_t ps = demo_psize();
	int ws = sizes[k], fd, pass, i;
	struct cowdev_stats a, b;
	struct cowdev_pool_info pa, pb;
	volatile char *m;
	char sink = 0;

	fd = demo_object(MAXWS * stride);
	DEMO_TRY(cowdev_set_resident_limit(fd, FRAMES));
	m = demo_map(fd, MAXWS * stride, MAP_SHARED);
	/* Load the working set (its first writes), and one warm-up pass. */
	for (i = 0; i < ws; i++)
		m[i * stride * ps] = (char)(i + 1);
	for (i = 0; i < ws; i++)
		sink += m[i * stride * ps];
	a = demo_stats(fd);
	pa = demo_pool();
	for (pass = 0; pass < PASSES; pass++)
		for (i = 0; i < ws; i++)
			sink += m[i * stride * ps];
	b = demo_stats(fd);
	pb = demo_pool();
	(void)sink;
	res[pol][k].faults = b.major_faults - a.major_faults;
	res[pol][k].accesses = (long long)PASSES * ws;
	res[pol][k].minor = (b.faults - a.faults) -
			    (b.major_faults - a.major_faults);
	res[pol][k].page_outs = pb.page_outs - pa.page_outs;
	res[pol][k].clean = pb.clean_evictions - pa.clean_evictions;
	DEMO_CHECK(b.resident_pages <= FRAMES, "%s, working set %d: "
		   "resident_pages %llu above the limit %d", policies[pol], ws,
		   (unsigned long long)b.resident_pages, FRAMES);
	for (i = 0; i < ws; i++)
		DEMO_CHECK(m[i * stride * ps] == (char)(i + 1), "%s, working "
			   "set %d: page %d holds %d", policies[pol], ws, i,
			   m[i * stride * ps]);
	munmap((void *)m, MAXWS * stride * ps);
	close(fd);
}

static int have_gnuplot(void)
{
	return !system("command -v gnuplot >/dev/null 2>&1");
}

static void write_plot(const char *dir)
{
	char dat[600], gp[600], svg[600], cmd[1400];
	struct stat st = { 0 };
	FILE *f;
	int k, p;

	snprintf(dat, sizeof(dat), "%s/demo8_thrashing.dat", dir);
	snprintf(gp, sizeof(gp), "%s/demo8_thrashing.gp", dir);
	snprintf(svg, sizeof(svg), "%s/demo8_thrashing.svg", dir);
	f = fopen(dat, "w");
	if (!f)
		demo_fail("%s: %s", dat, strerror(errno));
	fprintf(f, "# cowdev demo8: fault rate against working-set size, "
		"resident limit %d frames,\n# %d cyclic read passes after a "
		"warm-up pass; faults = page-ins (major faults)\n", FRAMES,
		PASSES);
	fprintf(f, "# working_set");
	for (p = 0; p < NPOL; p++)
		fprintf(f, " %s_faults %s_rate", policies[p], policies[p]);
	fprintf(f, "\n");
	for (k = 0; k < NSIZES; k++) {
		fprintf(f, "%d", sizes[k]);
		for (p = 0; p < NPOL; p++)
			fprintf(f, " %lld %.4f", res[p][k].faults,
				(double)res[p][k].faults / res[p][k].accesses);
		fprintf(f, "\n");
	}
	fclose(f);
	f = fopen(gp, "w");
	if (!f)
		demo_fail("%s: %s", gp, strerror(errno));
	fprintf(f, "# gnuplot %s  (renders %s)\n", gp, svg);
	fprintf(f, "set terminal svg size 800,500 dynamic enhanced "
		"font 'sans,12'\n");
	fprintf(f, "set output '%s'\n", svg);
	fprintf(f, "set title 'cowdev: thrashing with a resident limit of "
		"%d frames (%d cyclic passes)'\n", FRAMES, PASSES);
	fprintf(f, "set xlabel 'working set (pages)'\n");
	fprintf(f, "set ylabel 'faults per access (page-ins)'\n");
	fprintf(f, "set xrange [0:%d]\nset yrange [-0.05:1.1]\n", MAXWS + 2);
	fprintf(f, "set grid\nset key left top\n");
	fprintf(f, "set arrow from %d.5,-0.05 to %d.5,1.1 nohead dt 2 "
		"lc rgb 'gray40'\n", FRAMES, FRAMES);
	fprintf(f, "set label 'knee: working set > %d frames' at %d.8,0.5\n",
		FRAMES, FRAMES);
	fprintf(f, "plot ");
	for (p = 0; p < NPOL; p++)
		fprintf(f, "%s'%s' using 1:%d with linespoints lw 2 pt %d "
			"title '%s'", p ? ", \\\n     " : "", dat, 3 + 2 * p,
			5 + 2 * p, policies[p]);
	fprintf(f, "\n");
	fclose(f);
	printf("    data:   %s\n    script: %s\n", dat, gp);
	if (!have_gnuplot()) {
		printf("    (gnuplot is not installed: `gnuplot %s` renders "
		       "%s)\n", gp, svg);
		return;
	}
	snprintf(cmd, sizeof(cmd), "gnuplot '%s'", gp);
	DEMO_CHECK(!system(cmd), "gnuplot %s", gp);
	DEMO_CHECK(!stat(svg, &st) && st.st_size > 0, "%s", svg);
	printf("    plot:   %s (%lld bytes)\n", svg, (long long)st.st_size);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("TMPDIR");
	int k, p, knee = -1;

	demo_name = "demo8_thrashing";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!dir || !*dir)
		dir = "/tmp";
	demo_title("thrashing: fault rate against working-set size");
	demo_say("One view, resident limit %d pages (local replacement), a "
		 "swap area behind it.", FRAMES);
	demo_say("Each working set is written once, read once (warm-up), "
		 "then read cyclically");
	demo_say("%d times; a fault is an access that had to read its page "
		 "back (major).", PASSES);
	stride = demo_fault_around_pages();
	if (stride < 1)
		stride = 16;	/* the kernel's default, 64 KiB */
	demo_say("Working-set page j is page %zu*j of the view: one per "
		 "fault-around window.", stride);
	demo_swapon(NULL, 256);
	for (p = 0; p < NPOL; p++) {
		demo_set_policy(policies[p]);
		for (k = 0; k < NSIZES; k++)
			measure(p, k);
	}

	demo_step("faults in %d passes (and per access)", PASSES);
	printf("    %8s %8s", "ws", "accesses");
	for (p = 0; p < NPOL; p++)
		printf(" %15s", policies[p]);
	printf("   %s\n", "fifo: page_outs clean other");
	for (k = 0; k < NSIZES; k++) {
		printf("    %8d %8lld", sizes[k], res[0][k].accesses);
		for (p = 0; p < NPOL; p++)
			printf("   %4lld (%5.3f)", res[p][k].faults,
			       (double)res[p][k].faults / res[0][k].accesses);
		printf("   %14lld %5lld %5lld%s\n", res[0][k].page_outs,
		       res[0][k].clean, res[0][k].minor,
		       sizes[k] == FRAMES + 1 ? "   <- the knee" : "");
	}

	demo_step("the knee");
	for (k = 0; k < NSIZES; k++)
		if (res[0][k].faults) {
			knee = sizes[k];
			break;
		}
	demo_expect("smallest working set that faults (fifo)", knee,
		    FRAMES + 1);
	for (p = 0; p < NPOL; p++)
		for (k = 0; k < NSIZES; k++) {
			char what[96];

			snprintf(what, sizeof(what), "%s, ws %2d: faults in "
				 "%d passes", policies[p], sizes[k], PASSES);
			demo_expect(what, res[p][k].faults, sizes[k] <= FRAMES ?
				    0 : res[p][k].accesses);
		}
	demo_say("Up to %d pages the working set fits in the frames: after "
		 "it is loaded nothing", FRAMES);
	demo_say("is evicted and no access faults.  With %d pages, the page "
		 "each access needs is", FRAMES + 1);
	demo_say("the one used longest ago -- exactly the one fifo evicted "
		 "to make room for the");
	demo_say("previous page; clock and the lru aging evict it too, as "
		 "it is also the one");
	demo_say("referenced longest ago.  So every access is a page-in, "
		 "and the rate jumps from");
	demo_say("0 to 1: thrashing.  More frames, not a better policy, "
		 "cure a cyclic walk.");
	demo_say("(The passes only read: each page was written out once, "
		 "in the warm-up, and");
	demo_say("every eviction after that is clean -- no page_outs, "
		 "clean evictions = faults;");
	demo_say("\"other\" counts ->fault calls that were not page-ins.)");

	demo_step("the plot");
	write_plot(dir);
	demo_swapoff();
	demo_done();
	return 0;
}
