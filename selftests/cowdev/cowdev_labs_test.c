// SPDX-License-Identifier: GPL-2.0
/*
 * The labs of Documentation/labs.rst show what each demo prints; the
 * expected output is kept beside each demo, userspace/demos/NAME.expected.
 * This test runs every demo as the labs do (COWDEV_DEMO_FRAMES=1024, as the
 * tools test runs them), normalises what it prints and compares it, line for
 * line, with NAME.expected: a change to a demo or to the module that
 * changes a number the labs quote fails here until the file is made again.
 *
 * Normalising masks what differs from run to run and nothing else: hex
 * numbers of three digits or more (pfns, addresses: "0x..."), view ids
 * ("view=N"), pids ("pid N", "-p N"), times in microseconds ("N us"), the
 * random part of mkstemp/mkdtemp names and the size of a plot gnuplot
 * wrote; demo7's count of writes made while a backup was copied; demo11's
 * totals since exec and since the module was loaded (they depend on what
 * ran before), not its counts of each pass.  Every other count stays as it
 * is.  demo3's two processes print in an order that varies: its lines are
 * compared sorted.
 *
 * COWDEV_WRITE_EXAMPLES=1 prints each normalised output between
 * "# cowdev-example-begin FILE" and "# cowdev-example-end" lines, each line
 * prefixed with "# |"; scripts/examples runs this in a guest and writes the
 * files from the console.
 *
 * NAME.expected is found beside this binary (a kernel tree) or at
 * ../../userspace/demos/ (the repository); the demos likewise.
 */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

#define DEMO_TIMEOUT 120

static const struct {
	const char *re, *to;
} masks[] = {
	{ "0x[0-9a-f]{3,}", "0x..." },
	{ "view=[0-9]+", "view=N" },
	{ "pid [0-9]+", "pid N" },
	{ "-p [0-9]+", "-p N" },
	{ "[0-9]+ us", "N us" },
	/* demo7: how far the writer got while the backup was made. */
	{ "[0-9]+ writes while", "N writes while" },
	/*
	 * demo11: the process's totals since exec, and the pool's since the
	 * module was loaded, depend on what ran before.
	 */
	{ "^(    (majflt|minflt) [(]/proc/self/stat[)] +[0-9]+ +)[0-9]+$",
	  "\\1N" },
	{ "^(    pool [a-z_]+ +[0-9]+ +)[0-9]+$", "\\1N" },
	{ "(MAJFLT MINFLT\n) +[0-9]+ +[0-9]+$", "\\1    N      N" },
	{ "(ps majflt = /proc/self/stat field 12 +)[0-9]+", "\\1N" },
	{ "(/tmp/[A-Za-z0-9_-]+)[.][A-Za-z0-9]{6}", "\\1.XXXXXX" },
	{ "[(][0-9]+ bytes[)]", "(N bytes)" },
};

/*
 * Apply every mask to @in; a new string (free it).  A replacement may
 * name group 1 as \1.
 */
static char *normalise(const char *in)
{
	char *cur = strdup(in);
	size_t i;

	for (i = 0; cur && i < sizeof(masks) / sizeof(masks[0]); i++) {
		size_t len = strlen(cur), cap = 2 * len + 64, n = 0;
		char *out = malloc(cap);
		const char *p = cur;
		regmatch_t m[2];
		regex_t re;

		if (!out || regcomp(&re, masks[i].re, REG_EXTENDED | REG_NEWLINE)) {
			free(out);
			free(cur);
			return NULL;
		}
		while (!regexec(&re, p, 2, m, p == cur ? 0 : REG_NOTBOL) &&
		       m[0].rm_eo > 0) {
			const char *t;

			memcpy(out + n, p, m[0].rm_so);
			n += m[0].rm_so;
			for (t = masks[i].to; *t; t++) {
				if (t[0] == '\\' && t[1] == '1') {
					memcpy(out + n, p + m[1].rm_so,
					       m[1].rm_eo - m[1].rm_so);
					n += m[1].rm_eo - m[1].rm_so;
					t++;
				} else {
					out[n++] = *t;
				}
			}
			p += m[0].rm_eo;
		}
		strcpy(out + n, p);
		regfree(&re);
		free(cur);
		cur = out;
	}
	return cur;
}

/* The whole of @path (free it), or NULL. */
static char *slurp(const char *path)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			if (!buf)
				break;
		}
	}
	close(fd);
	if (buf)
		buf[len] = 0;
	return buf;
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of @text, sorted (free it), or NULL. */
static char *sorted_lines(const char *text)
{
	char *copy = strdup(text), *out = malloc(strlen(text) + 2), **v, *p;
	size_t n = 0, i, len = 0;

	v = calloc(strlen(text) + 2, sizeof(*v));
	if (!copy || !out || !v) {
		free(copy);
		free(out);
		free(v);
		return NULL;
	}
	for (p = strtok(copy, "\n"); p; p = strtok(NULL, "\n"))
		v[n++] = p;
	qsort(v, n, sizeof(*v), cmp_lines);
	for (i = 0; i < n; i++)
		len += sprintf(out + len, "%s\n", v[i]);
	out[len] = 0;
	free(v);
	free(copy);
	return out;
}

/*
 * Line @n (from 1) of @text into @buf, or "<end of file>"; for the first
 * line where two texts differ.
 */
static const char *line_of(const char *text, int n, char *buf, size_t size)
{
	const char *p = text, *nl;

	while (--n > 0 && p && (p = strchr(p, '\n')))
		p++;
	if (!p || !*p)
		return "<end of file>";
	nl = strchr(p, '\n');
	snprintf(buf, size, "%.*s", (int)(nl ? nl - p : (long)strlen(p)), p);
	return buf;
}

/* The first line (from 1) where @a and @b differ; 0 when they do not. */
static int first_diff(const char *a, const char *b)
{
	int line = 1;

	for (; *a && *a == *b; a++, b++)
		line += *a == '\n';
	return *a == *b ? 0 : line;
}

FIXTURE(lab) {
	char *out, *norm, *want;
};

FIXTURE_VARIANT(lab) {
	const char *name;
	const char *arg;	/* an argument for the demo, or NULL */
	int unordered;		/* compare the lines sorted */
};

#define LAB(n) FIXTURE_VARIANT_ADD(lab, n) { .name = #n }
LAB(demo1_demand_paging);
LAB(demo2_sigbus_past_end);
FIXTURE_VARIANT_ADD(lab, demo3_shared_private) {
	.name = "demo3_shared_private", .unordered = 1,
};
LAB(demo4_fork);
LAB(demo5_snapshot);
LAB(demo6_fault_counting);
LAB(demo7_incremental_backup);
LAB(demo8_thrashing);
LAB(demo9_belady);
LAB(demo10_dirty_clean);
LAB(demo11_majflt);
LAB(demo12_file_vs_cowdev);

FIXTURE_SETUP(lab)
{
	self->out = self->norm = self->want = NULL;
}

FIXTURE_TEARDOWN(lab)
{
	free(self->out);
	free(self->norm);
	free(self->want);
}

/* The demo's normalised output is its .expected file, line for line. */
TEST_F_TIMEOUT(lab, output_as_expected, 150)
{
	char demo[PATH_MAX], exp[PATH_MAX], rel[PATH_MAX], a[512], b[512];
	char *const argv[] = { demo, (char *)variant->arg, NULL };
	double t0 = cowdev_now();
	int status, line;

	snprintf(rel, sizeof(rel), "userspace/demos/%s", variant->name);
	ASSERT_EQ(0, cowdev_find(demo, sizeof(demo), rel))
		TH_LOG("%s not found: make -C userspace", demo);
	ASSERT_EQ(0, setenv("COWDEV_DEMO_FRAMES", "1024", 1));
	status = cowdev_run_cmd(argv, NULL, &self->out, DEMO_TIMEOUT);
	TH_LOG("%s: exit %d after %.1f s", variant->name, status,
	       cowdev_now() - t0);
	ASSERT_EQ(0, status) TH_LOG("%s", self->out ? self->out : "");
	self->norm = normalise(self->out);
	ASSERT_NE(NULL, self->norm);
	snprintf(rel, sizeof(rel), "userspace/demos/%s.expected",
		 variant->name);
	snprintf(a, sizeof(a), "%s.expected", variant->name);
	cowdev_print_example(a, self->norm);
	ASSERT_EQ(0, cowdev_find(exp, sizeof(exp), rel))
		TH_LOG("%s missing: make it with scripts/examples", exp);
	self->want = slurp(exp);
	ASSERT_NE(NULL, self->want) TH_LOG("%s: %s", exp, strerror(errno));
	if (variant->unordered) {
		char *n = sorted_lines(self->norm), *w = sorted_lines(self->want);

		free(self->norm);
		free(self->want);
		self->norm = n;
		self->want = w;
		ASSERT_TRUE(n && w);
	}
	line = first_diff(self->norm, self->want);
	EXPECT_EQ(0, line) {
		TH_LOG("%s differs from %s from line %d:", variant->name,
		       exp, line);
		TH_LOG("  now:      %s", line_of(self->norm, line, a, sizeof(a)));
		TH_LOG("  expected: %s", line_of(self->want, line, b, sizeof(b)));
		TH_LOG("if the change is meant, make the file again with scripts/examples");
		TH_LOG("the output, normalised:\n%s", self->norm);
	}
}

TEST_HARNESS_MAIN
