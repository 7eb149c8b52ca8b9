// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: a vmstat-style view of cowdev's page pool and of every live view.
 *
 * The pool counters come from sysfs (/sys/class/misc/cowdev/), the views
 * from debugfs (/sys/kernel/debug/cowdev/views, root only).  cowstat never
 * opens /dev/cowdev: an open would create a view and change what it shows.
 * Event counters are shown as totals in the first sample and as changes
 * per interval afterwards; gauges (free, used, resident, ...) are always
 * current values.  --json prints one JSON object per sample, one per line.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libcowdev.h"

static const char usage_text[] =
"Usage: cowstat [-i SECONDS] [-n COUNT] [--json] [SECONDS [COUNT]]\n"
"\n"
"Show cowdev's page pool (sysfs) and every live view (debugfs), once or\n"
"every SECONDS.\n"
"\n"
"  -i, --interval SECONDS  time between samples (decimals allowed);\n"
"                          without -n, sample until interrupted\n"
"  -n, --count COUNT       number of samples (default: 1 without -i,\n"
"                          forever with -i); with -n alone the interval\n"
"                          is 1 s\n"
"  -j, --json              one JSON object per sample and line\n"
"  -h, --help              this text\n"
"\n"
"The first sample shows event counters since the module was loaded (pool)\n"
"or the view was created; later samples show their change over the\n"
"interval (+N).  Reading the views needs root and debugfs mounted at\n"
"/sys/kernel/debug.\n";

/* Event counters of a view: shown and reported as deltas. */
static const struct {
	const char *name;	/* debugfs / JSON name */
	const char *head;	/* text column header */
	size_t off;
} view_events[] = {
#define EV(n, h) { #n, h, offsetof(struct cowdev_stats, n) }
	EV(faults, "faults"),
	EV(map_pages_calls, "mapc"),
	EV(map_pages_mapped, "mapped"),
	EV(mkwrite, "mkwr"),
	EV(zero_maps, "zero"),
	EV(demand_allocs, "alloc"),
	EV(private_cow, "pcow"),
	EV(sigbus, "sigbus"),
	EV(pool_failures, "pfail"),
	EV(cow_copies, "copy"),
	EV(cow_reuses, "reuse"),
	EV(clones, "clone"),
	EV(major_faults, "major"),
	EV(page_ins, "pgin"),
	EV(page_outs, "pgout"),
	EV(evictions, "evict"),
#undef EV
};
#define NR_VIEW_EVENTS (sizeof(view_events) / sizeof(view_events[0]))

static const struct {
	const char *name;
	const char *head;
	size_t off;
	int event;
} pool_fields[] = {
#define PF(n, h, e) { #n, h, offsetof(struct cowdev_pool_info, n), e }
	PF(total_pages, "total", 0),
	PF(free_pages, "free", 0),
	PF(used_pages, "used", 0),
	PF(peak_used, "peak", 0),
	PF(limbo_pages, "limbo", 0),
	PF(views, "views", 0),
	PF(allocs, "allocs", 1),
	PF(frees, "frees", 1),
	PF(alloc_failures, "fails", 1),
	PF(swap_total, "swap", 0),
	PF(swap_used, "swused", 0),
	PF(page_outs, "pgout", 1),
	PF(page_ins, "pgin", 1),
	PF(evictions, "evict", 1),
	PF(clean_evictions, "clean", 1),
	PF(swap_errors, "swerr", 1),
#undef PF
};
#define NR_POOL_FIELDS (sizeof(pool_fields) / sizeof(pool_fields[0]))

struct sample {
	struct timespec when;
	struct cowdev_pool_info pool;
	struct cowdev_view_info *views;
	size_t nviews;
	int views_err;		/* 0 or -errno of the debugfs read */
};

static uint64_t field(const void *base, size_t off)
{
	return *(const uint64_t *)((const char *)base + off);
}

static const struct cowdev_view_info *find_view(const struct sample *s,
						uint64_t id)
{
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < s->nviews; i++)
		if (s->views[i].id == id)
			return &s->views[i];
	return NULL;
}

static int take_sample(struct sample *s)
{
	int ret;

	memset(s, 0, sizeof(*s));
	clock_gettime(CLOCK_REALTIME, &s->when);
	ret = cowdev_sysfs_pool_info(&s->pool);
	if (ret) {
		fprintf(stderr, "cowstat: %s: %s%s\n", COWDEV_SYSFS_DIR,
			strerror(-ret), ret == -ENOENT ?
			" (is the cowdev module loaded?)" : "");
		return ret;
	}
	s->views_err = cowdev_debugfs_views(&s->views, &s->nviews);
	return 0;
}

static void free_sample(struct sample *s)
{
	free(s->views);
	s->views = NULL;
}

static void print_json(const struct sample *s, const struct sample *prev,
		       unsigned long n, double interval)
{
	const struct cowdev_view_info *v, *pv;
	size_t i, j;

	printf("{\"sample\":%lu,\"time\":%lld.%03ld,\"interval\":%.3f,",
	       n, (long long)s->when.tv_sec, s->when.tv_nsec / 1000000,
	       interval);
	printf("\"pool\":{");
	for (i = 0; i < NR_POOL_FIELDS; i++)
		printf("%s\"%s\":%" PRIu64, i ? "," : "", pool_fields[i].name,
		       field(&s->pool, pool_fields[i].off));
	printf("},\"pool_delta\":");
	if (prev) {
		const char *sep = "";

		printf("{");
		for (i = 0; i < NR_POOL_FIELDS; i++) {
			if (!pool_fields[i].event)
				continue;
			printf("%s\"%s\":%" PRId64, sep, pool_fields[i].name,
			       (int64_t)(field(&s->pool, pool_fields[i].off) -
					 field(&prev->pool,
					       pool_fields[i].off)));
			sep = ",";
		}
		printf("}");
	} else {
		printf("null");
	}
	if (s->views_err) {
		printf(",\"views\":null,\"views_error\":\"%s\"}\n",
		       cowdev_debugfs_strerror(s->views_err));
		return;
	}
	printf(",\"views\":[");
	for (i = 0; i < s->nviews; i++) {
		v = &s->views[i];
		printf("%s{\"id\":%" PRIu64 ",\"pid\":%" PRId64
		       ",\"size_pages\":%" PRIu64 ",\"resident\":%" PRIu64
		       ",\"shared\":%" PRIu64, i ? "," : "", v->id, v->pid,
		       (uint64_t)v->st.size_pages,
		       (uint64_t)v->st.resident_pages,
		       (uint64_t)v->st.shared_pages);
		for (j = 0; j < NR_VIEW_EVENTS; j++)
			printf(",\"%s\":%" PRIu64, view_events[j].name,
			       field(&v->st, view_events[j].off));
		pv = find_view(prev, v->id);
		printf(",\"delta\":");
		if (pv) {
			printf("{");
			for (j = 0; j < NR_VIEW_EVENTS; j++)
				printf("%s\"%s\":%" PRId64, j ? "," : "",
				       view_events[j].name,
				       (int64_t)(field(&v->st,
						       view_events[j].off) -
						 field(&pv->st,
						       view_events[j].off)));
			printf("}");
		} else {
			printf("null");
		}
		printf("}");
	}
	printf("],\"views_error\":null}\n");
}

/* A counter: its total, or its change since @prev with a sign. */
static void print_counter(int width, uint64_t now, const uint64_t *prev)
{
	char buf[32];

	if (prev)
		snprintf(buf, sizeof(buf), "%+" PRId64, (int64_t)(now - *prev));
	else
		snprintf(buf, sizeof(buf), "%" PRIu64, now);
	printf(" %*s", width, buf);
}

static void print_text(const struct sample *s, const struct sample *prev,
		       unsigned long n, double interval)
{
	const struct cowdev_view_info *v, *pv;
	char when[64], id[32];
	struct tm tm;
	int fresh = 0;
	size_t i, j;
	uint64_t pval;

	localtime_r(&s->when.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("cowdev %s  sample %lu", when, n);
	if (prev)
		printf(", counters per %.2f s", interval);
	else
		printf(", counters since load");
	printf("\n pool");
	for (i = 0; i < NR_POOL_FIELDS; i++)
		printf("%s %8s", pool_fields[i].event &&
		       !pool_fields[i - 1].event ? " |" : "",
		       pool_fields[i].head);
	printf("\n     ");
	for (i = 0; i < NR_POOL_FIELDS; i++) {
		if (pool_fields[i].event && !pool_fields[i - 1].event)
			printf(" |");
		if (!pool_fields[i].event) {
			printf(" %8" PRIu64, field(&s->pool, pool_fields[i].off));
			continue;
		}
		if (prev)
			pval = field(&prev->pool, pool_fields[i].off);
		print_counter(8, field(&s->pool, pool_fields[i].off),
			      prev ? &pval : NULL);
	}
	printf("\n");
	if (s->views_err) {
		printf(" views: %s\n\n", cowdev_debugfs_strerror(s->views_err));
		return;
	}
	if (!s->nviews) {
		printf(" views: none\n\n");
		return;
	}
	printf(" %6s %7s %7s %6s %6s |", "view", "pid", "size", "res", "shr");
	for (j = 0; j < NR_VIEW_EVENTS; j++)
		printf(" %6s", view_events[j].head);
	printf("\n");
	for (i = 0; i < s->nviews; i++) {
		v = &s->views[i];
		pv = find_view(prev, v->id);
		snprintf(id, sizeof(id), "%" PRIu64 "%s", v->id,
			 prev && !pv ? "*" : "");
		fresh |= prev && !pv;
		printf(" %6s %7" PRId64 " %7" PRIu64 " %6" PRIu64 " %6" PRIu64
		       " |", id, v->pid, (uint64_t)v->st.size_pages,
		       (uint64_t)v->st.resident_pages,
		       (uint64_t)v->st.shared_pages);
		for (j = 0; j < NR_VIEW_EVENTS; j++) {
			if (pv)
				pval = field(&pv->st, view_events[j].off);
			print_counter(6, field(&v->st, view_events[j].off),
				      pv ? &pval : NULL);
		}
		printf("\n");
	}
	if (fresh)
		printf(" (* new view: its counters since it was created)\n");
	printf("\n");
}

static int parse_interval(const char *arg, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(arg, &end);
	if (end == arg || *end || errno || !(d > 0) || d > 86400 * 365)
		return -1;
	*out = d;
	return 0;
}

static int parse_count(const char *arg, unsigned long *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (end == arg || *end || errno || !n || arg[0] == '-')
		return -1;
	*out = n;
	return 0;
}

static void sleep_until(const struct timespec *start, double offset)
{
	struct timespec t = *start;
	double whole = (double)(long long)offset;

	t.tv_sec += (time_t)whole;
	t.tv_nsec += (long)((offset - whole) * 1e9);
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) ==
	       EINTR)
		;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sample cur, prev;
	struct timespec start;
	double interval = 1.0;
	unsigned long count = 1, n;
	int have_interval = 0, have_count = 0, json = 0, have_prev = 0;
	int opt;

	while ((opt = getopt_long(argc, argv, "i:n:jh", longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'i':
			if (parse_interval(optarg, &interval))
				goto bad_interval;
			have_interval = 1;
			break;
		case 'n':
			if (parse_count(optarg, &count))
				goto bad_count;
			have_count = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	/* vmstat style: cowstat [SECONDS [COUNT]] */
	if (optind < argc && !have_interval) {
		if (parse_interval(argv[optind++], &interval))
			goto bad_interval;
		have_interval = 1;
	}
	if (optind < argc && !have_count) {
		if (parse_count(argv[optind++], &count))
			goto bad_count;
		have_count = 1;
	}
	if (optind < argc) {
		fprintf(stderr, "cowstat: unexpected argument '%s'\n",
			argv[optind]);
		fputs(usage_text, stderr);
		return 2;
	}
	if (have_interval && !have_count)
		count = 0;	/* forever */

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (n = 1; !count || n <= count; n++) {
		if (n > 1)
			sleep_until(&start, (n - 1) * interval);
		if (take_sample(&cur))
			return 1;
		if (json)
			print_json(&cur, have_prev ? &prev : NULL, n,
				   interval);
		else
			print_text(&cur, have_prev ? &prev : NULL, n,
				   interval);
		fflush(stdout);
		if (have_prev)
			free_sample(&prev);
		prev = cur;
		have_prev = 1;
	}
	if (have_prev)
		free_sample(&prev);
	return 0;

bad_interval:
	fprintf(stderr, "cowstat: bad interval (want seconds > 0)\n");
	return 2;
bad_count:
	fprintf(stderr, "cowstat: bad count (want a whole number > 0)\n");
	return 2;
}
