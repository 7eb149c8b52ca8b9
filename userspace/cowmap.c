// SPDX-License-Identifier: GPL-2.0
/*
 * cowmap: draw the page-state map of cowdev views, one square per page,
 * as a coloured terminal grid and as an SVG picture.
 *
 * Live views are read through debugfs (/sys/kernel/debug/cowdev/views and
 * pagemap/<id>, root only).  --example builds a small object in this
 * process, clones it and rewrites part of it, and draws both views; it
 * checks the picture against what it did.  --json prints the maps as JSON.
 * A program draws its own fd with the library (cowdev_map_fd_text(),
 * cowdev_map_fd_svg()).
 *
 * Two more pictures: --timeline draws the cowdev_fault events of a trace
 * (page against time, coloured by outcome), --story the COW story of a
 * clone as an animated SVG (pages turning from shared to private, one
 * write a frame).
 *
 * States (see libcowdev.h): hole '.', zero '0', resident 'r', shared 'S',
 * dirty 'D'.  "zero" (a hole mapped by the zero page because it was read)
 * is known only for a mapping of the drawing process itself, so a view read
 * through debugfs shows such pages as holes.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "libcowdev.h"

#define MAX_VIEWS	64
#define DEFAULT_PAGES	4096

static const char usage_text[] =
"Usage: cowmap [OPTIONS] [-v ID]...\n"
"  or:  cowmap [OPTIONS] --example\n"
"  or:  cowmap [-q] [-v ID]... --timeline TRACE --svg FILE\n"
"  or:  cowmap [-q] --story --svg FILE\n"
"\n"
"Draw the page-state map of cowdev views: every live view, the views\n"
"given with -v (debugfs, root only), or a built-in example.  Or draw a\n"
"fault timeline from a trace, or the COW story of a clone.\n"
"\n"
"  -v, --view ID      draw view ID (as in cowstat and the tracepoints);\n"
"                     may be repeated\n"
"  -e, --example      build a 64-page object in this process, write half,\n"
"                     clone it, rewrite part, read some holes, and draw\n"
"                     object and clone (checks the picture; exit 1 if\n"
"                     it is not what it should be)\n"
"  -s, --svg FILE     also write the maps as one SVG picture to FILE\n"
"  -j, --json         print the maps as one JSON document instead of the\n"
"                     grid: {\"views\":[{\"view\":ID,\"pid\":PID,\n"
"                     \"start\":PAGE,\"count\":N,\"counts\":{STATE:N,...},\n"
"                     \"states\":[STATE,...]}]}, one state name a page\n"
"  -t, --timeline TRACE\n"
"                     draw the cowdev:cowdev_fault events of TRACE (text\n"
"                     of tracefs trace or trace_pipe, or trace-cmd\n"
"                     report; - for stdin) into the --svg FILE: one mark\n"
"                     per event, page against time, coloured by outcome,\n"
"                     outlined for writes; -v keeps those views\n"
"      --story        clone a 32-page object and write 13 pages one at a\n"
"                     time; draw it as an animated SVG into the --svg\n"
"                     FILE (pages turning from shared to private) and\n"
"                     print one line per frame\n"
"  -c, --columns N    pages per row (default 64)\n"
"      --start PAGE   first page to draw (default 0)\n"
"      --count N      pages to draw (default: the rest of the view, at\n"
"                     most 4096)\n"
"      --color        ANSI colours even when stdout is not a terminal\n"
"      --no-color     plain glyphs (the default when stdout is not a\n"
"                     terminal or NO_COLOR is set)\n"
"  -q, --quiet        no terminal grid (with --svg)\n"
"  -h, --help         this text\n"
"\n"
"Glyphs: '.' hole (no page), '0' zero (a hole this process mapped with\n"
"the zero page: only --example or a program's own fd can show it),\n"
"'r' resident (the view's own clean page), 'S' shared (held by another\n"
"view too: a write copies it), 'D' dirty (written through this view).\n";

struct opts {
	unsigned int columns;
	uint64_t start, count;
	int have_count;
	int color;
	int quiet;
	int json;
	const char *svg;
};

/* ---- --json ------------------------------------------------------ */

/* The maps as one JSON document on one line (see usage_text). */
static void print_json(const struct cowdev_map *maps, const uint64_t *ids,
		       const int64_t *pids, size_t n)
{
	uint64_t counts[COWDEV_NR_STATES], i;
	size_t k;
	int s;

	printf("{\"views\":[");
	for (k = 0; k < n; k++) {
		const struct cowdev_map *m = &maps[k];

		printf("%s{\"view\":%" PRIu64 ",\"pid\":%" PRId64
		       ",\"start\":%" PRIu64 ",\"count\":%" PRIu64
		       ",\"counts\":{", k ? "," : "", ids[k], pids[k],
		       m->first, m->count);
		cowdev_map_count(m, counts);
		for (s = 0; s < COWDEV_NR_STATES; s++)
			printf("%s\"%s\":%" PRIu64, s ? "," : "",
			       cowdev_map_state_name(s), counts[s]);
		printf("},\"states\":[");
		for (i = 0; i < m->count; i++)
			printf("%s\"%s\"", i ? "," : "",
			       cowdev_map_state_name(cowdev_map_state(
						     m->flags[i])));
		printf("]}");
	}
	printf("]}\n");
}

/* ---- --timeline: cowdev_fault events of a trace, drawn ------------ */

#define TL_WIDTH	720	/* plot area */
#define TL_LEFT		90
#define TL_TOP		40
#define TL_BAND		160	/* height of one view's band, at most */
#define TL_PITCH	6	/* per page, below TL_BAND */

struct tl_event {
	double t;
	uint64_t view, pgoff;
	int write;
	char outcome[24];
};

struct tl_view {
	uint64_t id, pages;	/* pages: highest pgoff seen + 1 */
	unsigned int y, height;
};

/* Outcome colours; names as cowdev_fault prints them (module/trace.c). */
static const struct {
	const char *name;
	const char *fill;
} tl_outcomes[] = {
	{ "ZERO", "#4a86c5" }, { "ALLOC", "#3f8f3f" },
	{ "RESIDENT", "#9e9e9e" }, { "COPY", "#c0392b" },
	{ "REUSE", "#e67e22" }, { "SIGBUS", "#000000" },
	{ "POOL_EMPTY", "#8e44ad" }, { "RETRY", "#d4ac0d" },
	{ "NOMEM", "#7f0000" }, { "SWAP_IN", "#7d3c98" },
	{ "SWAP_ERROR", "#ff00ff" }, { "RECLAIM", "#16a085" },
};
#define NR_TL_OUTCOMES (sizeof(tl_outcomes) / sizeof(tl_outcomes[0]))

static const char *tl_fill(const char *outcome)
{
	size_t i;

	for (i = 0; i < NR_TL_OUTCOMES; i++)
		if (!strcmp(outcome, tl_outcomes[i].name))
			return tl_outcomes[i].fill;
	return "#cccccc";
}

/*
 * One line of tracefs "trace"/"trace_pipe" (or trace-cmd report):
 *   TASK-PID [CPU] FLAGS  123.456789: cowdev_fault: view=1 pgoff=0 write=1 ...
 * Returns 1 and fills @e for a cowdev_fault line, 0 for any other line.
 */
static int tl_parse(const char *line, struct tl_event *e)
{
	const char *ev = strstr(line, " cowdev_fault: "), *ts;

	if (!ev || ev == line || ev[-1] != ':')
		return 0;
	for (ts = ev - 1; ts > line && ts[-1] != ' '; ts--)
		;
	if (sscanf(ts, "%lf:", &e->t) != 1)
		return 0;
	return sscanf(ev, " cowdev_fault: view=%" SCNu64 " pgoff=%" SCNu64
		      " write=%d shared=%*d mkwrite=%*d outcome=%23s",
		      &e->view, &e->pgoff, &e->write, e->outcome) == 4;
}

static int tl_wanted(const struct tl_event *e, const uint64_t *ids,
		     size_t nids)
{
	size_t i;

	for (i = 0; i < nids; i++)
		if (ids[i] == e->view)
			return 1;
	return !nids;
}

/* Read the events of @path ("-": stdin) into a malloc()ed array. */
static long tl_read(const char *path, const uint64_t *ids, size_t nids,
		    struct tl_event **out)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	struct tl_event *ev = NULL, *bigger, e;
	size_t n = 0, cap = 0;
	char line[1024];

	if (!f) {
		fprintf(stderr, "cowmap: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (!tl_parse(line, &e) || !tl_wanted(&e, ids, nids))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			bigger = realloc(ev, cap * sizeof(*ev));
			if (!bigger) {
				n = 0;
				break;
			}
			ev = bigger;
		}
		ev[n++] = e;
	}
	if (f != stdin)
		fclose(f);
	*out = ev;
	return n;
}

/* The views of @ev in order of appearance, stacked as bands. */
static size_t tl_views(const struct tl_event *ev, size_t n,
		       struct tl_view *views)
{
	size_t i, j, nv = 0;
	unsigned int y = TL_TOP;

	for (i = 0; i < n; i++) {
		for (j = 0; j < nv && views[j].id != ev[i].view; j++)
			;
		if (j == nv) {
			if (nv == MAX_VIEWS)
				continue;
			views[nv].id = ev[i].view;
			views[nv++].pages = 0;
		}
		if (ev[i].pgoff + 1 > views[j].pages)
			views[j].pages = ev[i].pgoff + 1;
	}
	for (j = 0; j < nv; j++) {
		views[j].y = y;
		views[j].height = views[j].pages * TL_PITCH < TL_BAND ?
				  views[j].pages * TL_PITCH : TL_BAND;
		y += views[j].height + 30;
	}
	return nv;
}

static const struct tl_view *tl_band(const struct tl_view *views, size_t nv,
				     uint64_t id)
{
	size_t j;

	for (j = 0; j < nv; j++)
		if (views[j].id == id)
			return &views[j];
	return NULL;
}

static void tl_axes(FILE *f, const struct tl_view *views, size_t nv,
		    unsigned int bottom, double span)
{
	unsigned int x;
	size_t j;
	int k;

	for (j = 0; j < nv; j++) {
		fprintf(f, "<text x=\"%d\" y=\"%u\" text-anchor=\"end\" "
			"font-weight=\"bold\">view %" PRIu64 "</text>\n",
			TL_LEFT - 8, views[j].y + 10, views[j].id);
		fprintf(f, "<text x=\"%d\" y=\"%u\" text-anchor=\"end\">"
			"page 0</text>\n", TL_LEFT - 8, views[j].y + 24);
		fprintf(f, "<text x=\"%d\" y=\"%u\" text-anchor=\"end\">"
			"%" PRIu64 "</text>\n", TL_LEFT - 8,
			views[j].y + views[j].height + 4,
			views[j].pages - 1);
		fprintf(f, "<line x1=\"%d\" y1=\"%u\" x2=\"%d\" y2=\"%u\" "
			"stroke=\"#888888\"/>\n", TL_LEFT, views[j].y,
			TL_LEFT, views[j].y + views[j].height);
	}
	fprintf(f, "<line x1=\"%d\" y1=\"%u\" x2=\"%d\" y2=\"%u\" "
		"stroke=\"#888888\"/>\n", TL_LEFT, bottom,
		TL_LEFT + TL_WIDTH, bottom);
	for (k = 0; k <= 4; k++) {
		x = TL_LEFT + k * TL_WIDTH / 4;
		fprintf(f, "<text x=\"%u\" y=\"%u\" text-anchor=\"middle\">"
			"%.3f ms</text>\n", x, bottom + 14,
			span * k / 4 * 1000);
	}
}

static void tl_legend(FILE *f, const struct tl_event *ev, size_t n,
		      unsigned int y)
{
	unsigned int x = 10;
	size_t i, k, count;

	for (k = 0; k < NR_TL_OUTCOMES; k++) {
		for (i = 0, count = 0; i < n; i++)
			count += !strcmp(ev[i].outcome, tl_outcomes[k].name);
		if (!count)
			continue;
		fprintf(f, "<circle cx=\"%u\" cy=\"%u\" r=\"4\" fill=\"%s\"/>"
			"<text x=\"%u\" y=\"%u\" data-legend=\"%s\">%s %zu"
			"</text>\n", x + 4, y - 4, tl_outcomes[k].fill,
			x + 12, y, tl_outcomes[k].name, tl_outcomes[k].name,
			count);
		x += 130;
	}
	fprintf(f, "<text x=\"%u\" y=\"%u\">(outlined: write)</text>\n",
		x, y);
}

static int tl_svg(FILE *f, const struct tl_event *ev, size_t n)
{
	struct tl_view views[MAX_VIEWS];
	size_t nv = tl_views(ev, n, views), i;
	double t0 = n ? ev[0].t : 0, t1 = t0, span;
	unsigned int bottom = nv ? views[nv - 1].y + views[nv - 1].height +
			      10 : TL_TOP + 10;
	unsigned int width = TL_LEFT + TL_WIDTH + 20, height = bottom + 60;
	const struct tl_view *b;
	double x, y;

	for (i = 0; i < n; i++) {
		t0 = ev[i].t < t0 ? ev[i].t : t0;
		t1 = ev[i].t > t1 ? ev[i].t : t1;
	}
	span = t1 - t0;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
		"width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\" "
		"font-family=\"monospace\" font-size=\"11\">\n"
		"<desc>cowdev fault timeline: one mark per cowdev_fault "
		"event, page against time, coloured by outcome.</desc>\n"
		"<rect x=\"0\" y=\"0\" width=\"%u\" height=\"%u\" "
		"fill=\"#ffffff\"/>\n<text x=\"10\" y=\"20\" font-size=\"14\" "
		"font-weight=\"bold\">cowdev_fault: %zu events over %.3f ms"
		"</text>\n", width, height, width, height, width, height, n,
		span * 1000);
	tl_axes(f, views, nv, bottom, span);
	for (i = 0; i < n; i++) {
		b = tl_band(views, nv, ev[i].view);
		if (!b)
			continue;
		x = TL_LEFT + (span > 0 ? (ev[i].t - t0) / span : 0) *
		    TL_WIDTH;
		y = b->y + (b->pages > 1 ? (double)ev[i].pgoff /
			    (b->pages - 1) * b->height : 0);
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
			"fill=\"%s\" stroke=\"%s\" data-view=\"%" PRIu64 "\" "
			"data-pgoff=\"%" PRIu64 "\" data-outcome=\"%s\" "
			"data-time=\"%.6f\"><title>%.6f view %" PRIu64
			" page %" PRIu64 " %s %s</title></circle>\n", x, y,
			tl_fill(ev[i].outcome), ev[i].write ? "#000000" :
			"none", ev[i].view, ev[i].pgoff, ev[i].outcome,
			ev[i].t, ev[i].t, ev[i].view, ev[i].pgoff,
			ev[i].write ? "write" : "read", ev[i].outcome);
	}
	tl_legend(f, ev, n, bottom + 40);
	fprintf(f, "</svg>\n");
	return ferror(f) ? -EIO : 0;
}

static int timeline(const struct opts *o, const char *trace,
		    const uint64_t *ids, size_t nids)
{
	struct tl_event *ev;
	long n = tl_read(trace, ids, nids, &ev);
	FILE *f;
	int ret;

	if (n < 0)
		return 1;
	f = fopen(o->svg, "w");
	if (!f) {
		fprintf(stderr, "cowmap: %s: %s\n", o->svg, strerror(errno));
		free(ev);
		return 1;
	}
	ret = tl_svg(f, ev, n);
	if (fclose(f) && !ret)
		ret = -errno;
	if (ret)
		fprintf(stderr, "cowmap: writing %s: %s\n", o->svg,
			strerror(-ret));
	else if (!o->quiet)
		printf("cowmap: %ld cowdev_fault events from %s drawn in %s\n",
		       n, trace, o->svg);
	free(ev);
	return ret ? 1 : 0;
}

/* ---- the page-state maps ------------------------------------------ */

/* Draw @n maps on the terminal or as JSON, and/or into the SVG file. */
static int draw(const struct opts *o, const struct cowdev_map *maps,
		const uint64_t *ids, const int64_t *pids, size_t n)
{
	FILE *f;
	size_t i;
	int ret;

	if (o->json)
		print_json(maps, ids, pids, n);
	else if (!o->quiet) {
		for (i = 0; i < n; i++) {
			if (i)
				putchar('\n');
			ret = cowdev_map_text(stdout, &maps[i], o->columns,
					      o->color);
			if (ret)
				return ret;
		}
	}
	if (!o->svg)
		return 0;
	f = fopen(o->svg, "w");
	if (!f) {
		fprintf(stderr, "cowmap: %s: %s\n", o->svg, strerror(errno));
		return -errno;
	}
	ret = cowdev_map_svg_multi(f, maps, n, o->columns);
	if (fclose(f) && !ret)
		ret = -errno;
	if (ret)
		fprintf(stderr, "cowmap: writing %s: %s\n", o->svg,
			strerror(-ret));
	else if (!o->quiet && !o->json)
		printf("\ncowmap: wrote %s\n", o->svg);
	return ret;
}

/* Clip the map of a @size-page view to the requested window. */
static void window(const struct opts *o, uint64_t size, uint64_t *first,
		   uint64_t *count)
{
	*first = o->start < size ? o->start : size;
	*count = size - *first;
	if (o->have_count) {
		if (*count > o->count)
			*count = o->count;
	} else if (*count > DEFAULT_PAGES) {
		fprintf(stderr, "cowmap: showing %d of %" PRIu64
			" pages from %" PRIu64 " (use --start/--count)\n",
			DEFAULT_PAGES, *count, *first);
		*count = DEFAULT_PAGES;
	}
}

static int draw_views(const struct opts *o, const uint64_t *ids, size_t nids)
{
	struct cowdev_map maps[MAX_VIEWS];
	uint64_t vids[MAX_VIEWS];
	int64_t pids[MAX_VIEWS];
	char titles[MAX_VIEWS][128];
	struct cowdev_view_info *views, *v;
	size_t nviews, n = 0, i, j;
	uint8_t *buf;
	long got;
	int ret;

	ret = cowdev_debugfs_views(&views, &nviews);
	if (ret) {
		fprintf(stderr, "cowmap: %s\n", cowdev_debugfs_strerror(ret));
		return 1;
	}
	if (!nids && !nviews) {
		printf("cowmap: no live views\n");
		free(views);
		return 0;
	}
	if (!nids && nviews > MAX_VIEWS)
		fprintf(stderr, "cowmap: drawing the first %d of %zu views "
			"(use -v ID)\n", MAX_VIEWS, nviews);
	for (i = 0; i < (nids ? nids : nviews) && n < MAX_VIEWS; i++) {
		v = NULL;
		if (!nids) {
			v = &views[i];
		} else {
			for (j = 0; j < nviews; j++)
				if (views[j].id == ids[i])
					v = &views[j];
		}
		if (!v) {
			fprintf(stderr, "cowmap: no live view %" PRIu64 "\n",
				ids[i]);
			ret = 1;
			goto out;
		}
		window(o, v->st.size_pages, &maps[n].first, &maps[n].count);
		buf = calloc(maps[n].count ? maps[n].count : 1, 1);
		if (!buf) {
			ret = 1;
			goto out;
		}
		maps[n].flags = buf;
		vids[n] = v->id;
		pids[n] = v->pid;
		n++;
		got = cowdev_debugfs_pagemap(v->id, maps[n - 1].first,
					     maps[n - 1].count, buf);
		if (got < 0) {
			fprintf(stderr, "cowmap: view %" PRIu64 ": %s\n",
				v->id, cowdev_debugfs_strerror(got));
			ret = 1;
			goto out;
		}
		/* The view shrank since the table was read. */
		maps[n - 1].count = got;
		snprintf(titles[n - 1], sizeof(titles[n - 1]),
			 "view %" PRIu64 " (pid %" PRId64 "): %llu pages, "
			 "%llu resident, %llu shared; pages %" PRIu64
			 "-%" PRIu64, v->id, v->pid,
			 (unsigned long long)v->st.size_pages,
			 (unsigned long long)v->st.resident_pages,
			 (unsigned long long)v->st.shared_pages,
			 maps[n - 1].first,
			 maps[n - 1].first + maps[n - 1].count -
			 (got ? 1 : 0));
		maps[n - 1].title = titles[n - 1];
	}
	ret = draw(o, maps, vids, pids, n) ? 1 : 0;
out:
	for (i = 0; i < n; i++)
		free((void *)maps[i].flags);
	free(views);
	return ret;
}

/*
 * The example: a 64-page object O.  Write pages 0-31 (dirty), clone O
 * into C (0-31 shared), write 8-15 through O (COW copies: dirty in O,
 * resident and no longer shared in C), write 40-43 (new pages), read
 * 48-63 (holes mapped by the zero page).
 */
static const uint64_t example_o[COWDEV_NR_STATES] = {
	[COWDEV_STATE_HOLE] = 12, [COWDEV_STATE_ZERO] = 16,
	[COWDEV_STATE_RESIDENT] = 0, [COWDEV_STATE_SHARED] = 24,
	[COWDEV_STATE_DIRTY] = 12,
};
static const uint64_t example_c[COWDEV_NR_STATES] = {
	[COWDEV_STATE_HOLE] = 32, [COWDEV_STATE_ZERO] = 0,
	[COWDEV_STATE_RESIDENT] = 8, [COWDEV_STATE_SHARED] = 24,
	[COWDEV_STATE_DIRTY] = 0,
};

static int check_counts(const char *what, const struct cowdev_map *map,
			const uint64_t *want)
{
	uint64_t got[COWDEV_NR_STATES];
	int s, bad = 0;

	cowdev_map_count(map, got);
	for (s = 0; s < COWDEV_NR_STATES; s++) {
		if (got[s] == want[s])
			continue;
		fprintf(stderr, "cowmap: example: %s has %" PRIu64 " %s "
			"pages, expected %" PRIu64 "\n", what, got[s],
			cowdev_map_state_name(s), want[s]);
		bad = 1;
	}
	return bad;
}

static int example(const struct opts *o)
{
	const size_t pages = 64, psize = sysconf(_SC_PAGESIZE);
	struct cowdev_map maps[2] = { { 0 }, { 0 } };
	struct cowdev_stats so, sc;
	int64_t pids[2] = { getpid(), getpid() };
	uint64_t ids[2];
	char to[160], tc[160];
	const char *step;
	volatile char *p = MAP_FAILED;
	int fd, cfd = -1, ret = 1, err = 0;
	size_t i;
	char sink;

	fd = cowdev_open();
	if (fd < 0) {
		fprintf(stderr, "cowmap: %s: %s\n", COWDEV_PATH,
			strerror(-fd));
		return 1;
	}
	step = "set size";
	err = cowdev_set_size(fd, pages * psize);
	if (err)
		goto out;
	step = "mmap";
	p = mmap(NULL, pages * psize, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	for (i = 0; i < 32; i++)
		memset((char *)p + i * psize, 'a' + i % 26, psize);
	step = "clone";
	cfd = cowdev_clone(fd);
	if (cfd < 0) {
		err = cfd;
		goto out;
	}
	for (i = 8; i < 16; i++)
		p[i * psize] = 'X';
	for (i = 40; i < 44; i++)
		p[i * psize] = 'Y';
	/* Last: a clone zaps the object's ptes, zero-page ones included. */
	for (i = 48; i < 64; i++)
		sink = p[i * psize];
	(void)sink;
	step = "get stats";
	err = cowdev_get_stats(fd, &so);
	if (!err)
		err = cowdev_get_stats(cfd, &sc);
	if (err)
		goto out;
	step = "read the page states";
	err = cowdev_map_read(fd, (const void *)p, &maps[0]);
	if (!err)
		err = cowdev_map_read(cfd, NULL, &maps[1]);
	if (err)
		goto out;
	snprintf(to, sizeof(to), "object (view %llu): wrote 0-31, cloned, "
		 "wrote 8-15 and 40-43 (%llu COW copies), read 48-63",
		 (unsigned long long)so.view_id,
		 (unsigned long long)so.cow_copies);
	snprintf(tc, sizeof(tc), "its clone (view %llu): the snapshot; "
		 "8-15 are its own now", (unsigned long long)sc.view_id);
	ret = check_counts("the object", &maps[0], example_o) |
	      check_counts("the clone", &maps[1], example_c);
	if (so.cow_copies != 8) {
		fprintf(stderr, "cowmap: example: %llu COW copies, "
			"expected 8\n", (unsigned long long)so.cow_copies);
		ret = 1;
	}
	for (i = 0; i < 2; i++) {
		struct cowdev_map m = maps[i];

		window(o, m.count, &m.first, &m.count);
		m.flags += m.first;
		m.title = i ? tc : to;
		maps[i].first = m.first;
		maps[i].count = m.count;
		maps[i].flags = m.flags;
		maps[i].title = m.title;
	}
	ids[0] = so.view_id;
	ids[1] = sc.view_id;
	if (draw(o, maps, ids, pids, 2))
		ret = 1;
	for (i = 0; i < 2; i++)
		maps[i].flags -= maps[i].first;
out:
	if (err)
		fprintf(stderr, "cowmap: example: %s: %s\n", step,
			strerror(-err));
	cowdev_map_release(&maps[0]);
	cowdev_map_release(&maps[1]);
	if (p != MAP_FAILED)
		munmap((void *)p, pages * psize);
	if (cfd >= 0)
		close(cfd);
	close(fd);
	return ret;
}

/* ---- --story: the COW story of a clone, as an animated SVG -------- */

#define STORY_PAGES	32
#define STORY_COLUMNS	16
#define STORY_FRAME_S	1.0	/* seconds a frame shows */
#define STORY_X0	20	/* left edge of the grids */
#define STORY_CELL	22
#define STORY_PITCH	26
#define STORY_WIDTH	(2 * STORY_X0 + STORY_COLUMNS * STORY_PITCH)

/* The writes after the clone: through which view, to which page. */
static const struct {
	int clone;
	int page;
} story_writes[] = {
	{ 0, 2 }, { 0, 5 }, { 1, 7 }, { 0, 9 }, { 1, 11 }, { 0, 13 },
	{ 1, 15 }, { 0, 17 }, { 1, 19 }, { 0, 20 }, { 0, 3 }, { 0, 22 },
	{ 0, 28 },
};
#define STORY_FRAMES (1 + sizeof(story_writes) / sizeof(story_writes[0]))

struct story {
	uint8_t state[STORY_FRAMES][2][STORY_PAGES];
	char caption[STORY_FRAMES][96];
};

static const char *const story_names[2] = { "the object", "its clone" };

/* Frame @k: the state of every page of both views (COWDEV_IOC_PAGE_STATE). */
static int story_frame(struct story *st, size_t k, const int *fds)
{
	struct cowdev_map m;
	int v, ret;
	size_t i;

	for (v = 0; v < 2; v++) {
		ret = cowdev_map_read(fds[v], NULL, &m);
		if (ret)
			return ret;
		for (i = 0; i < STORY_PAGES && i < m.count; i++)
			st->state[k][v][i] = cowdev_map_state(m.flags[i]);
		cowdev_map_release(&m);
	}
	return 0;
}

/* Write 0-23 of a 32-page object, clone it, then story_writes[]. */
static int story_run(struct story *st)
{
	const size_t psize = sysconf(_SC_PAGESIZE);
	char *p[2] = { MAP_FAILED, MAP_FAILED };
	int fds[2] = { -1, -1 }, ret, v;
	size_t i, k;

	fds[0] = cowdev_open();
	if (fds[0] < 0)
		return fds[0];
	ret = cowdev_set_size(fds[0], STORY_PAGES * psize);
	p[0] = ret ? MAP_FAILED : mmap(NULL, STORY_PAGES * psize,
				       PROT_READ | PROT_WRITE, MAP_SHARED,
				       fds[0], 0);
	if (!ret && p[0] == MAP_FAILED)
		ret = -errno;
	for (i = 0; !ret && i < 24; i++)
		p[0][i * psize] = 'a';
	fds[1] = ret ? -1 : cowdev_clone(fds[0]);
	if (!ret && fds[1] < 0)
		ret = fds[1];
	p[1] = ret ? MAP_FAILED : mmap(NULL, STORY_PAGES * psize,
				       PROT_READ | PROT_WRITE, MAP_SHARED,
				       fds[1], 0);
	if (!ret && p[1] == MAP_FAILED)
		ret = -errno;
	if (!ret) {
		snprintf(st->caption[0], sizeof(st->caption[0]),
			 "wrote pages 0-23, cloned: both views share them");
		ret = story_frame(st, 0, fds);
	}
	for (k = 1; !ret && k < STORY_FRAMES; k++) {
		v = story_writes[k - 1].clone;
		p[v][story_writes[k - 1].page * psize] = 'W';
		snprintf(st->caption[k], sizeof(st->caption[k]),
			 "write %d: page %d through %s", (int)k,
			 story_writes[k - 1].page, story_names[v]);
		ret = story_frame(st, k, fds);
	}
	for (v = 0; v < 2; v++) {
		if (p[v] != MAP_FAILED)
			munmap(p[v], STORY_PAGES * psize);
		if (fds[v] >= 0)
			close(fds[v]);
	}
	return ret;
}

static int is_private(int state)
{
	return state == COWDEV_STATE_DIRTY || state == COWDEV_STATE_RESIDENT;
}

/* One page square, with a <set> at each frame where its state changes. */
static int story_page(FILE *f, const struct story *st, int v, int i,
		      unsigned int y0)
{
	unsigned int x = STORY_X0 + (i % STORY_COLUMNS) * STORY_PITCH;
	unsigned int y = y0 + (i / STORY_COLUMNS) * STORY_PITCH;
	int s0 = st->state[0][v][i], prev = s0, s, shared_to_private = 0;
	size_t k;

	fprintf(f, "<rect x=\"%u\" y=\"%u\" width=\"%d\" height=\"%d\" "
		"fill=\"%s\" stroke=\"%s\" data-state=\"%s\" "
		"data-page=\"%d\"><title>%s, page %d</title>\n", x, y,
		STORY_CELL, STORY_CELL, cowdev_map_state_fill(s0), cowdev_map_state_stroke(s0),
		cowdev_map_state_name(s0), i, story_names[v], i);
	for (k = 1; k < STORY_FRAMES; k++) {
		s = st->state[k][v][i];
		if (s == prev)
			continue;
		fprintf(f, "<set attributeName=\"fill\" to=\"%s\" "
			"begin=\"story.begin+%.1fs\" end=\"story.end\" "
			"data-from=\"%s\" data-to=\"%s\"/>\n",
			cowdev_map_state_fill(s), k * STORY_FRAME_S,
			cowdev_map_state_name(prev),
			cowdev_map_state_name(s));
		shared_to_private += prev == COWDEV_STATE_SHARED &&
				     is_private(s);
		prev = s;
	}
	fprintf(f, "</rect>\n");
	return shared_to_private;
}

static void story_captions(FILE *f, const struct story *st)
{
	size_t k;

	for (k = 0; k < STORY_FRAMES; k++) {
		fprintf(f, "<text x=\"%d\" y=\"48\" font-size=\"13\" "
			"visibility=\"hidden\">", STORY_X0);
		fprintf(f, "<set attributeName=\"visibility\" "
			"to=\"visible\" begin=\"story.begin+%.1fs\" end=\"",
			k * STORY_FRAME_S);
		if (k + 1 < STORY_FRAMES)
			fprintf(f, "story.begin+%.1fs", (k + 1) *
				STORY_FRAME_S);
		else
			fprintf(f, "story.end");
		fprintf(f, "\"/>%s</text>\n", st->caption[k]);
	}
}

static void story_legend(FILE *f, unsigned int y)
{
	static const int states[] = {
		COWDEV_STATE_HOLE, COWDEV_STATE_SHARED, COWDEV_STATE_DIRTY,
		COWDEV_STATE_RESIDENT,
	};
	size_t i;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		fprintf(f, "<rect x=\"%zu\" y=\"%u\" width=\"12\" "
			"height=\"12\" fill=\"%s\" stroke=\"%s\" "
			"data-legend=\"%s\"/><text x=\"%zu\" y=\"%u\">%s"
			"</text>\n", STORY_X0 + i * 110, y,
			cowdev_map_state_fill(states[i]),
			cowdev_map_state_stroke(states[i]),
			cowdev_map_state_name(states[i]),
			STORY_X0 + 16 + i * 110,
			y + 10, cowdev_map_state_name(states[i]));
}

/* The SVG; returns the number of shared-to-private changes drawn. */
static int story_svg(FILE *f, const struct story *st)
{
	const unsigned int rows = STORY_PAGES / STORY_COLUMNS;
	const unsigned int width = STORY_WIDTH;
	const unsigned int block = 20 + rows * STORY_PITCH + 14;
	const unsigned int height = 64 + 2 * block + 30;
	int v, i, changes = 0;
	unsigned int y;

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
		"width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\" "
		"font-family=\"monospace\" font-size=\"11\">\n"
		"<desc>The COW story of a cowdev clone (cowmap --story): "
		"each write to a shared page gives the writer its own copy "
		"and leaves the other view the old page.</desc>\n"
		"<rect x=\"0\" y=\"0\" width=\"%u\" height=\"%u\" "
		"fill=\"#ffffff\"><animate id=\"story\" "
		"attributeName=\"opacity\" values=\"1;1\" dur=\"%.1fs\" "
		"begin=\"0s;story.end\"/></rect>\n"
		"<text x=\"%d\" y=\"24\" font-size=\"15\" "
		"font-weight=\"bold\">A clone, and %zu writes after it</text>\n",
		width, height,
		width, height, width, height,
		(STORY_FRAMES + 2) * STORY_FRAME_S, STORY_X0,
		STORY_FRAMES - 1);
	story_captions(f, st);
	for (v = 0; v < 2; v++) {
		y = 64 + v * block;
		fprintf(f, "<text x=\"%d\" y=\"%u\" font-weight=\"bold\">"
			"%s</text>\n", STORY_X0, y + 12, story_names[v]);
		for (i = 0; i < STORY_PAGES; i++)
			changes += story_page(f, st, v, i, y + 20);
	}
	story_legend(f, 64 + 2 * block);
	fprintf(f, "</svg>\n");
	return changes;
}

static int story(const struct opts *o)
{
	struct story *st = calloc(1, sizeof(*st));
	int ret = st ? story_run(st) : -ENOMEM, changes, want;
	size_t k;
	FILE *f;

	if (ret) {
		fprintf(stderr, "cowmap: story: %s\n", strerror(-ret));
		free(st);
		return 1;
	}
	f = fopen(o->svg, "w");
	if (!f) {
		fprintf(stderr, "cowmap: %s: %s\n", o->svg, strerror(errno));
		free(st);
		return 1;
	}
	changes = story_svg(f, st);
	ret = fclose(f) ? 1 : 0;
	/* Each write to a shared page (0-23) unshares it in both views. */
	for (k = 0, want = 0; k < STORY_FRAMES - 1; k++)
		want += story_writes[k].page < 24 ? 2 : 0;
	if (changes != want) {
		fprintf(stderr, "cowmap: story: %d shared-to-private changes, "
			"expected %d\n", changes, want);
		ret = 1;
	}
	for (k = 0; !o->quiet && k < STORY_FRAMES; k++)
		printf("frame %2zu: %s\n", k, st->caption[k]);
	if (!o->quiet)
		printf("cowmap: wrote %s (%d shared-to-private changes)\n",
		       o->svg, changes);
	free(st);
	return ret;
}

static int parse_u64(const char *arg, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(arg, &end, 0);
	return end == arg || *end || errno || arg[0] == '-' ? -1 : 0;
}

int main(int argc, char **argv)
{
	enum {
		OPT_START = 256, OPT_COUNT, OPT_COLOR, OPT_NO_COLOR, OPT_STORY
	};
	static const struct option longopts[] = {
		{ "view", required_argument, NULL, 'v' },
		{ "example", no_argument, NULL, 'e' },
		{ "svg", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeline", required_argument, NULL, 't' },
		{ "story", no_argument, NULL, OPT_STORY },
		{ "columns", required_argument, NULL, 'c' },
		{ "start", required_argument, NULL, OPT_START },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "color", no_argument, NULL, OPT_COLOR },
		{ "no-color", no_argument, NULL, OPT_NO_COLOR },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .columns = 64 };
	uint64_t ids[MAX_VIEWS], val;
	const char *trace = NULL;
	size_t nids = 0;
	int opt, ex = 0, color = -1, tale = 0;

	while ((opt = getopt_long(argc, argv, "v:es:jt:c:qh", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'v':
			if (parse_u64(optarg, &val) || nids == MAX_VIEWS) {
				fprintf(stderr, "cowmap: bad view id '%s'\n",
					optarg);
				return 2;
			}
			ids[nids++] = val;
			break;
		case 'e':
			ex = 1;
			break;
		case 's':
			o.svg = optarg;
			break;
		case 'j':
			o.json = 1;
			break;
		case 't':
			trace = optarg;
			break;
		case OPT_STORY:
			tale = 1;
			break;
		case 'c':
			if (parse_u64(optarg, &val) || !val || val > 1024) {
				fprintf(stderr, "cowmap: columns: 1 to 1024\n");
				return 2;
			}
			o.columns = val;
			break;
		case OPT_START:
			if (parse_u64(optarg, &o.start)) {
				fprintf(stderr, "cowmap: bad --start\n");
				return 2;
			}
			break;
		case OPT_COUNT:
			if (parse_u64(optarg, &o.count)) {
				fprintf(stderr, "cowmap: bad --count\n");
				return 2;
			}
			o.have_count = 1;
			break;
		case OPT_COLOR:
			color = 1;
			break;
		case OPT_NO_COLOR:
			color = 0;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cowmap: unexpected argument '%s'\n",
			argv[optind]);
		fputs(usage_text, stderr);
		return 2;
	}
	if ((trace || tale) && !o.svg) {
		fprintf(stderr, "cowmap: --timeline and --story draw into "
			"--svg FILE\n");
		return 2;
	}
	if (!!trace + tale + ex > 1) {
		fprintf(stderr, "cowmap: one of --example, --timeline, "
			"--story\n");
		return 2;
	}
	if (trace)
		return timeline(&o, trace, ids, nids);
	if (tale && nids) {
		fprintf(stderr, "cowmap: --story draws its own views; "
			"drop --view\n");
		return 2;
	}
	if (tale)
		return story(&o);
	if (ex && nids) {
		fprintf(stderr, "cowmap: --example draws its own views; "
			"drop --view\n");
		return 2;
	}
	if (color < 0)
		color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	o.color = color;
	if (ex)
		return example(&o);
	return draw_views(&o, ids, nids);
}
