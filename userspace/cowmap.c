// SPDX-License-Identifier: GPL-2.0
/*
 * cowmap: draw the page-state map of cowdev views, one square per page,
 * as a coloured terminal grid and as an SVG picture.
 *
 * Live views are read through debugfs (/sys/kernel/debug/cowdev/views and
 * pagemap/<id>, root only).  --example builds a small object in this
 * process, clones it and rewrites part of it, and draws both views; it
 * checks the picture against what it did.  A program draws its own fd with
 * the library (cowdev_map_fd_text(), cowdev_map_fd_svg()).
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
"       cowmap [OPTIONS] --example\n"
"\n"
"Draw the page-state map of cowdev views: every live view, the views\n"
"given with -v (debugfs, root only), or a built-in example.\n"
"\n"
"  -v, --view ID      draw view ID (as in cowstat and the tracepoints);\n"
"                     may be repeated\n"
"  -e, --example      build a 64-page object in this process, write half,\n"
"                     clone it, rewrite part, read some holes, and draw\n"
"                     object and clone (checks the picture; exit 1 if\n"
"                     it is not what it should be)\n"
"  -s, --svg FILE     also write the maps as one SVG picture to FILE\n"
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
	const char *svg;
};

/* Draw @n maps on the terminal and/or into the SVG file. */
static int draw(const struct opts *o, const struct cowdev_map *maps, size_t n)
{
	FILE *f;
	size_t i;
	int ret;

	if (!o->quiet) {
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
	else if (!o->quiet)
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
	ret = draw(o, maps, n) ? 1 : 0;
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
	if (draw(o, maps, 2))
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

static int parse_u64(const char *arg, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(arg, &end, 0);
	return end == arg || *end || errno || arg[0] == '-' ? -1 : 0;
}

int main(int argc, char **argv)
{
	enum { OPT_START = 256, OPT_COUNT, OPT_COLOR, OPT_NO_COLOR };
	static const struct option longopts[] = {
		{ "view", required_argument, NULL, 'v' },
		{ "example", no_argument, NULL, 'e' },
		{ "svg", required_argument, NULL, 's' },
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
	size_t nids = 0;
	int opt, ex = 0, color = -1;

	while ((opt = getopt_long(argc, argv, "v:es:c:qh", longopts, NULL)) !=
	       -1) {
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
