// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: a vmstat-style view of cowdev's page pool and of every live view.
 *
 * The pool counters come from sysfs (/sys/class/misc/cowdev/), the views
 * from debugfs (/sys/kernel/debug/cowdev/views, root only).  cowstat never
 * opens /dev/cowdev: an open would create a view and change what it shows.
 * Event counters are shown as totals in the first sample and as changes
 * per interval afterwards; gauges (free, used, resident, ...) are always
 * current values.  --json prints one JSON object per sample, one per line;
 * --csv a header line and then one row per sample, for plotting.  -p PID
 * keeps the views whose owner (the debugfs pid column: the process that
 * opened or cloned the view) is PID; the comm column is that process's
 * /proc/PID/comm.  -k and -m show page counts in KiB and MiB (text, CSV).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libcowdev.h"

static const char usage_text[] =
"Usage: cowstat [-i SECONDS] [-n COUNT] [-p PID] [-k|-m] [--json|--csv]\n"
"  or:  cowstat [OPTIONS] SECONDS [COUNT]\n"
"\n"
"Show cowdev's page pool (sysfs) and every live view (debugfs), once or\n"
"every SECONDS.\n"
"\n"
"  -i, --interval SECONDS  time between samples (decimals allowed);\n"
"                          without -n, sample until interrupted\n"
"  -n, --count COUNT       number of samples (default: 1 without -i,\n"
"                          forever with -i); with -n alone the interval\n"
"                          is 1 s\n"
"  -p, --pid PID           only the views whose owner is process PID (the\n"
"                          pid column: the process that opened or cloned\n"
"                          the view)\n"
"  -k, --kib               page counts (sizes, resident, shared, pool\n"
"                          gauges) in KiB, in text and CSV\n"
"  -m, --mib               page counts in MiB (two decimals)\n"
"  -j, --json              one JSON object per sample and line (always in\n"
"                          pages)\n"
"      --csv               a header line, then one row per sample: the pool\n"
"                          and the sum over the shown views, for plotting\n"
"                          (gnuplot recipe: cowstat.gp)\n"
"  -h, --help              this text\n"
"\n"
"The first sample shows event counters since the module was loaded (pool)\n"
"or the view was created; later samples show their change over the\n"
"interval (+N; in CSV without the sign).  The comm column is the owner's\n"
"command name (/proc/PID/comm; '-' once it has exited).  Reading the views\n"
"needs root and debugfs mounted at /sys/kernel/debug.\n";

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

/*
 * Pool fields; @stem is set for the gauges that count pages: the CSV column
 * is pool_<stem>_<unit> for them, pool_<name> for the others.
 */
static const struct {
	const char *name;
	const char *head;
	size_t off;
	int event;
	const char *stem;
} pool_fields[] = {
#define PF(n, h, e, u) { #n, h, offsetof(struct cowdev_pool_info, n), e, u }
	PF(total_pages, "total", 0, "total"),
	PF(free_pages, "free", 0, "free"),
	PF(used_pages, "used", 0, "used"),
	PF(peak_used, "peak", 0, "peak"),
	PF(limbo_pages, "limbo", 0, "limbo"),
	PF(views, "views", 0, NULL),
	PF(allocs, "allocs", 1, NULL),
	PF(frees, "frees", 1, NULL),
	PF(alloc_failures, "fails", 1, NULL),
	PF(swap_total, "swap", 0, "swap_total"),
	PF(swap_used, "swused", 0, "swap_used"),
	PF(page_outs, "pgout", 1, NULL),
	PF(page_ins, "pgin", 1, NULL),
	PF(evictions, "evict", 1, NULL),
	PF(clean_evictions, "clean", 1, NULL),
	PF(swap_errors, "swerr", 1, NULL),
#undef PF
};
#define NR_POOL_FIELDS (sizeof(pool_fields) / sizeof(pool_fields[0]))

enum unit { UNIT_PAGES, UNIT_KIB, UNIT_MIB };
static const char *const unit_names[] = { "pages", "kib", "mib" };
static const char *const unit_heads[] = { "pages", "KiB", "MiB" };

static struct {
	int64_t pid;		/* only this owner's views, if have_pid */
	int have_pid;
	enum unit unit;
	long page_size;
} cfg;

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

/* @pages in the unit of -k/-m, as text. */
static const char *in_unit(char *buf, size_t size, uint64_t pages)
{
	uint64_t bytes = pages * (uint64_t)cfg.page_size;

	if (cfg.unit == UNIT_KIB)
		snprintf(buf, size, "%" PRIu64, bytes / 1024);
	else if (cfg.unit == UNIT_MIB)
		snprintf(buf, size, "%.2f", bytes / 1048576.0);
	else
		snprintf(buf, size, "%" PRIu64, pages);
	return buf;
}

/* The command name of process @pid, or "-" when it is gone. */
static const char *owner_comm(int64_t pid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%" PRId64 "/comm", pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, size, f) || !buf[0] || buf[0] == '\n')
		snprintf(buf, size, "-");
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/* Keep the views that -p selects. */
static void filter_views(struct sample *s)
{
	size_t i, n = 0;

	if (!cfg.have_pid)
		return;
	for (i = 0; i < s->nviews; i++)
		if (s->views[i].pid == cfg.pid)
			s->views[n++] = s->views[i];
	s->nviews = n;
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
	if (!s->views_err)
		filter_views(s);
	return 0;
}

static void free_sample(struct sample *s)
{
	free(s->views);
	s->views = NULL;
}

/* @str as a JSON string (a comm may hold any byte but NUL). */
static void json_string(const char *str)
{
	const unsigned char *c;

	putchar('"');
	for (c = (const unsigned char *)str; *c; c++) {
		if (*c == '"' || *c == '\\')
			printf("\\%c", *c);
		else if (*c < 0x20 || *c >= 0x7f)
			printf("\\u%04x", *c);
		else
			putchar(*c);
	}
	putchar('"');
}

static void print_json(const struct sample *s, const struct sample *prev,
		       unsigned long n, double interval)
{
	const struct cowdev_view_info *v, *pv;
	char comm[64];
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
		printf("%s{\"id\":%" PRIu64 ",\"pid\":%" PRId64 ",\"comm\":",
		       i ? "," : "", v->id, v->pid);
		json_string(owner_comm(v->pid, comm, sizeof(comm)));
		printf(",\"size_pages\":%" PRIu64 ",\"resident\":%" PRIu64
		       ",\"shared\":%" PRIu64, (uint64_t)v->st.size_pages,
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

static void print_pool_text(const struct sample *s, const struct sample *prev)
{
	char buf[32];
	uint64_t pval;
	size_t i;

	printf(" pool");
	for (i = 0; i < NR_POOL_FIELDS; i++)
		printf("%s %8s", pool_fields[i].event &&
		       !pool_fields[i - 1].event ? " |" : "",
		       pool_fields[i].head);
	printf("\n     ");
	for (i = 0; i < NR_POOL_FIELDS; i++) {
		uint64_t now = field(&s->pool, pool_fields[i].off);

		if (pool_fields[i].event && !pool_fields[i - 1].event)
			printf(" |");
		if (!pool_fields[i].event) {
			if (pool_fields[i].stem)
				in_unit(buf, sizeof(buf), now);
			else
				snprintf(buf, sizeof(buf), "%" PRIu64, now);
			printf(" %8s", buf);
			continue;
		}
		if (prev)
			pval = field(&prev->pool, pool_fields[i].off);
		print_counter(8, now, prev ? &pval : NULL);
	}
	printf("\n");
}

/* One view's line; returns 1 if it is new since @prev. */
static int print_view_text(const struct cowdev_view_info *v,
			   const struct sample *prev)
{
	const struct cowdev_view_info *pv = find_view(prev, v->id);
	char id[32], comm[64], size[32], res[32], shr[32];
	uint64_t pval;
	size_t j;

	snprintf(id, sizeof(id), "%" PRIu64 "%s", v->id,
		 prev && !pv ? "*" : "");
	printf(" %6s %7" PRId64 " %-15s %7s %6s %6s |", id, v->pid,
	       owner_comm(v->pid, comm, sizeof(comm)),
	       in_unit(size, sizeof(size), v->st.size_pages),
	       in_unit(res, sizeof(res), v->st.resident_pages),
	       in_unit(shr, sizeof(shr), v->st.shared_pages));
	for (j = 0; j < NR_VIEW_EVENTS; j++) {
		if (pv)
			pval = field(&pv->st, view_events[j].off);
		print_counter(6, field(&v->st, view_events[j].off),
			      pv ? &pval : NULL);
	}
	printf("\n");
	return prev && !pv;
}

static void print_text(const struct sample *s, const struct sample *prev,
		       unsigned long n, double interval)
{
	char when[64];
	struct tm tm;
	int fresh = 0;
	size_t i, j;

	localtime_r(&s->when.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("cowdev %s  sample %lu", when, n);
	if (prev)
		printf(", counters per %.2f s", interval);
	else
		printf(", counters since load");
	if (cfg.unit != UNIT_PAGES)
		printf(", sizes in %s", unit_heads[cfg.unit]);
	printf("\n");
	print_pool_text(s, prev);
	if (s->views_err) {
		printf(" views: %s\n\n", cowdev_debugfs_strerror(s->views_err));
		return;
	}
	if (!s->nviews) {
		if (cfg.have_pid)
			printf(" views: none of pid %" PRId64 "\n\n", cfg.pid);
		else
			printf(" views: none\n\n");
		return;
	}
	printf(" %6s %7s %-15s %7s %6s %6s |", "view", "pid", "comm", "size",
	       "res", "shr");
	for (j = 0; j < NR_VIEW_EVENTS; j++)
		printf(" %6s", view_events[j].head);
	printf("\n");
	for (i = 0; i < s->nviews; i++)
		fresh |= print_view_text(&s->views[i], prev);
	if (fresh)
		printf(" (* new view: its counters since it was created)\n");
	printf("\n");
}

/*
 * --csv: the header, then one row per sample.  Event columns hold totals
 * in the first row and changes since the previous row after it; a view's
 * events count whole in the row where it first appears.
 */
static void print_csv_header(void)
{
	const char *u = unit_names[cfg.unit];
	size_t i;

	printf("time,elapsed,sample,interval");
	for (i = 0; i < NR_POOL_FIELDS; i++) {
		if (pool_fields[i].stem)
			printf(",pool_%s_%s", pool_fields[i].stem, u);
		else
			printf(",pool_%s", pool_fields[i].name);
	}
	printf(",views,size_%s,resident_%s,shared_%s", u, u, u);
	for (i = 0; i < NR_VIEW_EVENTS; i++)
		printf(",%s", view_events[i].name);
	printf("\n");
}

static void print_csv(const struct sample *s, const struct sample *prev,
		      unsigned long n, double interval, double elapsed)
{
	uint64_t size = 0, res = 0, shr = 0, ev[NR_VIEW_EVENTS] = { 0 }, now;
	const struct cowdev_view_info *v, *pv;
	char buf[32];
	size_t i, j;

	printf("%lld.%03ld,%.3f,%lu,%.3f", (long long)s->when.tv_sec,
	       s->when.tv_nsec / 1000000, elapsed, n, interval);
	for (i = 0; i < NR_POOL_FIELDS; i++) {
		now = field(&s->pool, pool_fields[i].off);
		if (pool_fields[i].stem)
			printf(",%s", in_unit(buf, sizeof(buf), now));
		else if (pool_fields[i].event && prev)
			printf(",%" PRId64, (int64_t)(now -
			       field(&prev->pool, pool_fields[i].off)));
		else
			printf(",%" PRIu64, now);
	}
	if (s->views_err) {
		/* No view columns: empty fields, the reason on stderr. */
		for (j = 0; j < 4 + NR_VIEW_EVENTS; j++)
			putchar(',');
		printf("\n");
		fprintf(stderr, "cowstat: views: %s\n",
			cowdev_debugfs_strerror(s->views_err));
		return;
	}
	for (i = 0; i < s->nviews; i++) {
		v = &s->views[i];
		pv = find_view(prev, v->id);
		size += v->st.size_pages;
		res += v->st.resident_pages;
		shr += v->st.shared_pages;
		for (j = 0; j < NR_VIEW_EVENTS; j++)
			ev[j] += field(&v->st, view_events[j].off) -
				 (pv ? field(&pv->st, view_events[j].off) : 0);
	}
	printf(",%zu,%s", s->nviews, in_unit(buf, sizeof(buf), size));
	printf(",%s", in_unit(buf, sizeof(buf), res));
	printf(",%s", in_unit(buf, sizeof(buf), shr));
	for (j = 0; j < NR_VIEW_EVENTS; j++)
		printf(",%" PRId64, (int64_t)ev[j]);
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

static int parse_pid(const char *arg)
{
	char *end;
	long long pid;

	errno = 0;
	pid = strtoll(arg, &end, 10);
	if (end == arg || *end || errno || pid <= 0)
		return -1;
	cfg.pid = pid;
	cfg.have_pid = 1;
	return 0;
}

enum format { FMT_TEXT, FMT_JSON, FMT_CSV };

static void print_sample(enum format fmt, const struct sample *cur,
			 const struct sample *prev, unsigned long n,
			 double interval, const struct sample *first)
{
	double elapsed;

	switch (fmt) {
	case FMT_JSON:
		print_json(cur, prev, n, interval);
		break;
	case FMT_CSV:
		if (n == 1)
			print_csv_header();
		elapsed = (cur->when.tv_sec - first->when.tv_sec) +
			  (cur->when.tv_nsec - first->when.tv_nsec) / 1e9;
		print_csv(cur, prev, n, interval, elapsed);
		break;
	default:
		print_text(cur, prev, n, interval);
	}
}

int main(int argc, char **argv)
{
	enum { OPT_CSV = 256 };
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "pid", required_argument, NULL, 'p' },
		{ "kib", no_argument, NULL, 'k' },
		{ "mib", no_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sample cur, prev, first;
	struct timespec start;
	double interval = 1.0;
	unsigned long count = 1, n;
	int have_interval = 0, have_count = 0, have_prev = 0;
	enum format fmt = FMT_TEXT;
	int opt;

	cfg.page_size = sysconf(_SC_PAGESIZE);
	while ((opt = getopt_long(argc, argv, "i:n:p:kmjh", longopts,
				  NULL)) != -1) {
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
		case 'p':
			if (parse_pid(optarg))
				goto bad_pid;
			break;
		case 'k':
			cfg.unit = UNIT_KIB;
			break;
		case 'm':
			cfg.unit = UNIT_MIB;
			break;
		case 'j':
			fmt = FMT_JSON;
			break;
		case OPT_CSV:
			fmt = FMT_CSV;
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
		if (n == 1)
			first = cur;
		print_sample(fmt, &cur, have_prev ? &prev : NULL, n, interval,
			     &first);
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
bad_pid:
	fprintf(stderr, "cowstat: bad pid (want a process id > 0)\n");
	return 2;
}
