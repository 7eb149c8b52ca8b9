// SPDX-License-Identifier: GPL-2.0
/*
 * The userspace tools and demos, run as the user runs them:
 *  - cowstat --json: every line is one valid JSON object (checked by a
 *    strict parser here, and by python3 -m json.tool) with the documented
 *    keys; its pool numbers equal
 *    COWDEV_IOC_POOL_INFO and its views equal COWDEV_IOC_GET_STATS; the
 *    per-interval deltas are exact; without debugfs it says so;
 *  - cowstat's text output (with the owner's comm) and option handling;
 *  - cowstat --csv: the header, and rows equal to the ioctls in pages, KiB
 *    and MiB, with exact per-interval changes; -p PID keeps exactly PID's
 *    views; the gnuplot recipe userspace/cowstat.gp renders the CSV;
 *  - cowmap --svg: a well-formed SVG (checked by a small XML parser, and by
 *    xmllint) with
 *    one rect per page in the state of a pattern built here, page for page;
 *    the text grid, the --start/--count window, errors, --example;
 *  - cowmap --json: a state name per page, exactly the pattern;
 *  - cowmap --timeline: one mark per cowdev_fault line of a traced
 *    workload, with its view, page and outcome; cowmap --story: the right
 *    number of shared-to-private changes in the animated SVG;
 *  - libcowdev's map of the process's own fd, where read holes are "zero";
 *  - every demo exits 0 having passed its own checks; demo7's table of
 *    increments adds up and its rebuild matched.
 * Binaries are found relative to this test binary: ../../userspace/ in the
 * repository, beside it in a kernel tree (cowdev_find()).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

/* ---- running the tools -------------------------------------------- */

/* userspace/@rel of the repository, or beside this binary (cowdev_find). */
static void tool_path(char *buf, size_t size, const char *rel)
{
	char repo_rel[PATH_MAX];

	snprintf(repo_rel, sizeof(repo_rel), "userspace/%s", rel);
	cowdev_find(buf, size, repo_rel);
}

struct proc {
	pid_t pid;
	int out;		/* stdout (and stderr) of the child */
	char *buf;
	size_t len, cap;
};

/*
 * Start userspace/@rel with @args (NULL-terminated); stdout and, when
 * @merge, stderr go to a pipe.  @pre runs in the child before exec.
 */
static int proc_start(struct proc *p, const char *rel,
		      const char *const *args, int merge, void (*pre)(void))
{
	char path[PATH_MAX];
	char *argv[32];
	int fds[2], i;

	tool_path(path, sizeof(path), rel);
	argv[0] = path;
	for (i = 0; args && args[i] && i < 30; i++)
		argv[i + 1] = (char *)args[i];
	argv[i + 1] = NULL;
	memset(p, 0, sizeof(*p));
	if (pipe2(fds, O_CLOEXEC))
		return -1;
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (!p->pid) {
		dup2(fds[1], STDOUT_FILENO);
		if (merge)
			dup2(fds[1], STDERR_FILENO);
		if (pre)
			pre();
		execv(path, argv);
		fprintf(stderr, "exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	p->out = fds[0];
	return 0;
}

/*
 * Read output until @lines newlines have arrived in total (0: until EOF),
 * for at most @timeout seconds.  Returns 0, or -1 on timeout.
 */
static int proc_read(struct proc *p, int lines, double timeout)
{
	double end = cowdev_now() + timeout;
	struct pollfd pfd = { .fd = p->out, .events = POLLIN };
	ssize_t n;
	size_t i;
	int seen;

	for (;;) {
		for (i = 0, seen = 0; i < p->len; i++)
			seen += p->buf[i] == '\n';
		if (lines && seen >= lines)
			return 0;
		if (cowdev_now() > end)
			return -1;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (p->cap - p->len < 4096) {
			p->cap = p->cap ? p->cap * 2 : 65536;
			p->buf = realloc(p->buf, p->cap + 1);
			if (!p->buf)
				return -1;
		}
		n = read(p->out, p->buf + p->len, p->cap - p->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return lines ? -1 : 0;
		p->len += n;
		p->buf[p->len] = '\0';
	}
}

/* Read to EOF and reap; returns the exit status, or -1 (killed/timeout). */
static int proc_finish(struct proc *p, double timeout)
{
	int status, timed_out = proc_read(p, 0, timeout);

	if (timed_out)
		kill(p->pid, SIGKILL);
	close(p->out);
	if (waitpid(p->pid, &status, 0) != p->pid || timed_out ||
	    !WIFEXITED(status))
		return -1;
	if (!p->buf) {
		p->buf = calloc(1, 1);
		p->len = 0;
	}
	return WEXITSTATUS(status);
}

/* Run to completion: exit status, output in p->buf (free it). */
static int run_tool(struct proc *p, const char *rel, const char *const *args,
		    int merge, double timeout)
{
	if (proc_start(p, rel, args, merge, NULL))
		return -1;
	return proc_finish(p, timeout);
}

/* ---- the same documents through independent tools from Debian ----- */

static const char *const json_tool[] = {
	"python3", "-m", "json.tool", "--json-lines", NULL
};
static const char *const xml_tool[] = { "xmllint", "--noout", NULL };

/*
 * Check @text with @tool (argv, NULL-terminated; the text's file is added
 * as its last argument), besides this file's own parsers, which the tools'
 * authors wrote.  Return: the tool's exit status, 0 when it accepts the
 * text; 127 when it is not installed (scripts/deps installs both).
 */
static int external_check(const char *const *tool, const char *text)
{
	char path[] = "/tmp/cowdev-doc.XXXXXX", *argv[8];
	size_t len = strlen(text), done = 0;
	int fd = mkstemp(path), status = -1, i;
	ssize_t n;
	pid_t pid;

	if (fd < 0)
		return -1;
	while (done < len && (n = write(fd, text + done, len - done)) > 0)
		done += n;
	close(fd);
	for (i = 0; tool[i] && i < 6; i++)
		argv[i] = (char *)tool[i];
	argv[i++] = path;
	argv[i] = NULL;
	pid = done == len ? fork() : -1;
	if (!pid) {
		dup2(open("/dev/null", O_WRONLY), STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid > 0 && waitpid(pid, &status, 0) == pid)
		status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	unlink(path);
	return status;
}

#define EXPECT_VALID(tool, text) do {					\
	int _st = external_check(tool, text);				\
									\
	if (_st == 127)							\
		TH_LOG("%s is not installed: not checked", (tool)[0]);	\
	else								\
		EXPECT_EQ(0, _st) TH_LOG("%s rejects it", (tool)[0]);	\
} while (0)

/* ---- a strict JSON parser (RFC 8259) ------------------------------ */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct json {
	enum jtype type;
	int boolean;
	double num;
	int is_uint;		/* J_NUM: a non-negative integer */
	unsigned long long u;
	char *str;
	size_t n;
	struct json *kids;	/* J_ARR items, J_OBJ values */
	char **keys;		/* J_OBJ */
};

static const char *json_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

static const char *json_value(const char *s, struct json *v, int depth);

static const char *json_string(const char *s, char **out)
{
	size_t cap = 16, len = 0;
	char *buf;
	int k;

	if (*s++ != '"')
		return NULL;
	buf = malloc(cap);
	for (; buf; s++) {
		unsigned char c = *s;

		if (len + 8 > cap)
			buf = realloc(buf, cap *= 2);
		if (!buf)
			return NULL;
		if (c == '"')
			break;
		if (c < 0x20)
			goto bad;
		if (c != '\\') {
			buf[len++] = c;
			continue;
		}
		switch (*++s) {
		case '"': case '\\': case '/':
			buf[len++] = *s;
			break;
		case 'b': buf[len++] = '\b'; break;
		case 'f': buf[len++] = '\f'; break;
		case 'n': buf[len++] = '\n'; break;
		case 'r': buf[len++] = '\r'; break;
		case 't': buf[len++] = '\t'; break;
		case 'u':
			for (k = 1; k <= 4; k++)
				if (!isxdigit((unsigned char)s[k]))
					goto bad;
			buf[len++] = '?';
			s += 4;
			break;
		default:
			goto bad;
		}
	}
	if (!buf)
		return NULL;
	buf[len] = '\0';
	*out = buf;
	return s + 1;
bad:
	free(buf);
	return NULL;
}

static const char *json_number(const char *s, struct json *v)
{
	const char *start = s;
	int integer = 1;
	char *end;

	if (*s == '-')
		s++, integer = 0;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (isdigit((unsigned char)*s))
			s++;
	else
		return NULL;
	if (*s == '.') {
		integer = 0;
		if (!isdigit((unsigned char)*++s))
			return NULL;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		integer = 0;
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return NULL;
		while (isdigit((unsigned char)*s))
			s++;
	}
	v->type = J_NUM;
	v->num = strtod(start, NULL);
	if (integer) {
		errno = 0;
		v->u = strtoull(start, &end, 10);
		v->is_uint = !errno && end == s;
	}
	return s;
}

static const char *json_value(const char *s, struct json *v, int depth)
{
	struct json kid;
	size_t i;

	memset(v, 0, sizeof(*v));
	if (depth > 32)
		return NULL;
	s = json_ws(s);
	if (!strncmp(s, "null", 4))
		return v->type = J_NULL, s + 4;
	if (!strncmp(s, "true", 4))
		return v->type = J_BOOL, v->boolean = 1, s + 4;
	if (!strncmp(s, "false", 5))
		return v->type = J_BOOL, s + 5;
	if (*s == '"') {
		v->type = J_STR;
		return json_string(s, &v->str);
	}
	if (*s == '-' || isdigit((unsigned char)*s))
		return json_number(s, v);
	if (*s != '[' && *s != '{')
		return NULL;
	v->type = *s == '[' ? J_ARR : J_OBJ;
	s = json_ws(s + 1);
	if (*s == (v->type == J_ARR ? ']' : '}'))
		return s + 1;
	for (;;) {
		char *key = NULL;

		if (v->type == J_OBJ) {
			s = json_string(json_ws(s), &key);
			if (!s)
				return NULL;
			for (i = 0; i < v->n; i++)
				if (!strcmp(v->keys[i], key))
					return NULL;	/* duplicate key */
			s = json_ws(s);
			if (*s++ != ':')
				return NULL;
		}
		s = json_value(s, &kid, depth + 1);
		if (!s)
			return NULL;
		v->kids = realloc(v->kids, (v->n + 1) * sizeof(*v->kids));
		v->keys = realloc(v->keys, (v->n + 1) * sizeof(*v->keys));
		if (!v->kids || !v->keys)
			return NULL;
		v->kids[v->n] = kid;
		v->keys[v->n] = key;
		v->n++;
		s = json_ws(s);
		if (*s == ',') {
			s++;
			continue;
		}
		if (*s != (v->type == J_ARR ? ']' : '}'))
			return NULL;
		return s + 1;
	}
}

/* Parse one complete document; 0 on success. */
static int json_parse(const char *text, struct json *v)
{
	const char *end = json_value(text, v, 0);

	return end && !*json_ws(end) ? 0 : -1;
}

static void json_free(struct json *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		json_free(&v->kids[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->kids);
	free(v->keys);
	free(v->str);
}

static struct json *json_get(struct json *obj, const char *key)
{
	size_t i;

	if (!obj || obj->type != J_OBJ)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return &obj->kids[i];
	return NULL;
}

/* The non-negative integer at @key, or ~0ULL if missing / not one. */
static unsigned long long json_uint(struct json *obj, const char *key)
{
	struct json *v = json_get(obj, key);

	return v && v->type == J_NUM && v->is_uint ? v->u : ~0ULL;
}

#define NKEYS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* @obj is an object with exactly the @n keys @keys. */
static int json_has_keys(struct json *obj, const char *const *keys, size_t n)
{
	size_t i;

	if (!obj || obj->type != J_OBJ)
		return 0;
	for (i = 0; i < n; i++)
		if (!json_get(obj, keys[i]))
			return 0;
	return n == obj->n;
}

#define json_has_exactly(obj, keys) json_has_keys(obj, keys, NKEYS(keys))

/* ---- cowstat ------------------------------------------------------- */

static const char *const pool_keys[] = {
	"total_pages", "free_pages", "used_pages", "peak_used", "limbo_pages",
	"views", "allocs", "frees", "alloc_failures", "swap_total",
	"swap_used", "page_outs", "page_ins", "evictions", "clean_evictions",
	"swap_errors"
};
static const char *const pool_delta_keys[] = {
	"allocs", "frees", "alloc_failures", "page_outs", "page_ins",
	"evictions", "clean_evictions", "swap_errors"
};
static const char *const event_keys[] = {
	"faults", "map_pages_calls", "map_pages_mapped", "mkwrite",
	"zero_maps", "demand_allocs", "private_cow", "sigbus",
	"pool_failures", "cow_copies", "cow_reuses", "clones",
	"major_faults", "page_ins", "page_outs", "evictions"
};
static const char *const view_keys[] = {
	"id", "pid", "comm", "size_pages", "resident", "shared", "faults",
	"map_pages_calls", "map_pages_mapped", "mkwrite", "zero_maps",
	"demand_allocs", "private_cow", "sigbus", "pool_failures",
	"cow_copies", "cow_reuses", "clones", "major_faults", "page_ins",
	"page_outs", "evictions", "delta"
};
static const char *const sample_keys[] = {
	"sample", "time", "interval", "pool", "pool_delta", "views",
	"views_error"
};

static unsigned long long stat_field(const struct cowdev_stats *st,
				     const char *key)
{
	static const struct {
		const char *key;
		size_t off;
	} map[] = {
#define F(k, f) { k, offsetof(struct cowdev_stats, f) }
		F("id", view_id), F("size_pages", size_pages),
		F("resident", resident_pages), F("shared", shared_pages),
		F("faults", faults), F("map_pages_calls", map_pages_calls),
		F("map_pages_mapped", map_pages_mapped), F("mkwrite", mkwrite),
		F("zero_maps", zero_maps), F("demand_allocs", demand_allocs),
		F("private_cow", private_cow), F("sigbus", sigbus),
		F("pool_failures", pool_failures),
		F("cow_copies", cow_copies), F("cow_reuses", cow_reuses),
		F("clones", clones), F("major_faults", major_faults),
		F("page_ins", page_ins), F("page_outs", page_outs),
		F("evictions", evictions),
#undef F
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].key, key))
			return *(const __u64 *)((const char *)st + map[i].off);
	return ~0ULL;
}

static unsigned long long pool_field(const struct cowdev_pool_info *pi,
				     const char *key)
{
	static const struct {
		const char *key;
		size_t off;
	} map[] = {
#define F(f) { #f, offsetof(struct cowdev_pool_info, f) }
		F(total_pages), F(free_pages), F(used_pages), F(peak_used),
		F(limbo_pages), F(views), F(allocs), F(frees),
		F(alloc_failures), F(swap_total), F(swap_used), F(page_outs),
		F(page_ins), F(evictions), F(clean_evictions), F(swap_errors),
#undef F
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].key, key))
			return *(const __u64 *)((const char *)pi + map[i].off);
	return ~0ULL;
}

static struct json *find_view(struct json *views, unsigned long long id)
{
	size_t i;

	for (i = 0; views && views->type == J_ARR && i < views->n; i++)
		if (json_uint(&views->kids[i], "id") == id)
			return &views->kids[i];
	return NULL;
}

/* Split @buf into lines (in place); returns the count. */
static int split_lines(char *buf, char **lines, int max)
{
	int n = 0;
	char *save, *l;

	for (l = strtok_r(buf, "\n", &save); l && n < max;
	     l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	return n;
}

/* /proc/PID/comm of @pid (0: this process), as cowstat shows it. */
static const char *comm_of(pid_t pid)
{
	static char comm[64];
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid ? pid : getpid());
	f = fopen(path, "r");
	if (!f || !fgets(comm, sizeof(comm), f))
		strcpy(comm, "-");
	if (f)
		fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return comm;
}

static const char *own_comm(void)
{
	return comm_of(0);
}

static int write_pages(int fd, size_t first, size_t count, char val)
{
	size_t ps = cowdev_page_size(), i;
	char *p = mmap(NULL, (first + count) * ps, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -1;
	for (i = first; i < first + count; i++)
		p[i * ps] = val;
	return munmap(p, (first + count) * ps);
}

FIXTURE(views)
{
	int fd[3];
	struct cowdev_stats st[3];
};

/* Three views with different counters: an object, its clone, another. */
FIXTURE_SETUP(views)
{
	size_t ps = cowdev_page_size(), i;
	volatile char *p;
	char c;

	self->fd[0] = cowdev_open();
	ASSERT_LE(0, self->fd[0]);
	ASSERT_EQ(0, cowdev_set_size(self->fd[0], 64 * ps));
	ASSERT_EQ(0, write_pages(self->fd[0], 0, 10, 1));
	self->fd[1] = cowdev_clone(self->fd[0]);
	ASSERT_LE(0, self->fd[1]);
	ASSERT_EQ(0, write_pages(self->fd[0], 2, 2, 2));
	self->fd[2] = cowdev_open();
	ASSERT_LE(0, self->fd[2]);
	ASSERT_EQ(0, cowdev_set_size(self->fd[2], 16 * ps));
	p = mmap(NULL, 16 * ps, PROT_READ, MAP_SHARED, self->fd[2], 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < 3; i++)
		c = p[i * ps];
	(void)c;
	munmap((void *)p, 16 * ps);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, cowdev_get_stats(self->fd[i], &self->st[i]));
	ASSERT_EQ(2, self->st[0].cow_copies);
	ASSERT_EQ(3, self->st[2].zero_maps);
}

FIXTURE_TEARDOWN(views)
{
	int i;

	for (i = 0; i < 3; i++)
		close(self->fd[i]);
}

/* @obj's @key is the integer @want. */
static void __attribute__((noinline))
expect_key(struct __test_metadata *_metadata, const char *what,
	   const char *key, unsigned long long want, struct json *obj)
{
	EXPECT_EQ(want, json_uint(obj, key)) TH_LOG("%s %s", what, key);
}

/* One sample line: structure, and equality with the ioctls. */
static void check_sample(struct __test_metadata *_metadata, char *line,
			 unsigned long sample, const struct cowdev_pool_info *pi,
			 const int *fds, int nfds)
{
	struct json doc, *pool, *views, *v, *d;
	struct cowdev_stats st;
	int i, j;

	ASSERT_EQ(0, json_parse(line, &doc)) TH_LOG("not JSON: %s", line);
	ASSERT_TRUE(json_has_exactly(&doc, sample_keys))
		TH_LOG("keys of %s", line);
	EXPECT_EQ(sample, json_uint(&doc, "sample"));
	EXPECT_EQ(J_NUM, json_get(&doc, "time")->type);
	EXPECT_EQ(J_NUM, json_get(&doc, "interval")->type);
	pool = json_get(&doc, "pool");
	ASSERT_TRUE(json_has_exactly(pool, pool_keys));
	for (i = 0; i < NKEYS(pool_keys); i++)
		expect_key(_metadata, "pool", pool_keys[i],
			   pool_field(pi, pool_keys[i]), pool);
	EXPECT_EQ(json_uint(pool, "total_pages"),
		  json_uint(pool, "free_pages") +
		  json_uint(pool, "used_pages") + 1);
	d = json_get(&doc, "pool_delta");
	if (sample == 1) {
		EXPECT_EQ(J_NULL, d->type);
	} else {
		ASSERT_TRUE(json_has_exactly(d, pool_delta_keys));
		for (i = 0; i < NKEYS(pool_delta_keys); i++)
			expect_key(_metadata, "pool delta",
				   pool_delta_keys[i], 0, d);
	}
	EXPECT_EQ(J_NULL, json_get(&doc, "views_error")->type);
	views = json_get(&doc, "views");
	ASSERT_EQ(J_ARR, views->type);
	EXPECT_EQ(pi->views, views->n);
	for (i = 0; i < (int)views->n; i++)
		EXPECT_TRUE(json_has_exactly(&views->kids[i], view_keys))
			TH_LOG("keys of view %d", i);
	for (i = 0; i < nfds; i++) {
		ASSERT_EQ(0, cowdev_get_stats(fds[i], &st));
		v = find_view(views, st.view_id);
		ASSERT_NE(NULL, v) TH_LOG("view %llu missing",
					  (unsigned long long)st.view_id);
		EXPECT_EQ(getpid(), json_uint(v, "pid"));
		ASSERT_EQ(J_STR, json_get(v, "comm")->type);
		EXPECT_STREQ(own_comm(), json_get(v, "comm")->str);
		for (j = 0; j < NKEYS(view_keys); j++) {
			const char *key = view_keys[j];

			if (!strcmp(key, "pid") || !strcmp(key, "delta") ||
			    !strcmp(key, "comm"))
				continue;
			expect_key(_metadata, "view", key,
				   stat_field(&st, key), v);
		}
		d = json_get(v, "delta");
		if (sample == 1) {
			EXPECT_EQ(J_NULL, d->type);
			continue;
		}
		ASSERT_TRUE(json_has_exactly(d, event_keys));
		for (j = 0; j < NKEYS(event_keys); j++)
			expect_key(_metadata, "view delta", event_keys[j], 0,
				   d);
	}
	json_free(&doc);
}

/* Two samples of a quiet system: they equal the ioctl numbers exactly. */
TEST_F(views, cowstat_json_equals_ioctls)
{
	const char *args[] = { "--json", "-n", "2", "-i", "0.2", NULL };
	struct cowdev_pool_info before, after;
	struct proc p;
	char *lines[8];

	ASSERT_EQ(0, cowdev_reserve_settle(10000));
	ASSERT_EQ(0, cowdev_pool_info(self->fd[0], &before));
	ASSERT_EQ(0, run_tool(&p, "cowstat", args, 0, 20));
	ASSERT_EQ(0, cowdev_pool_info(self->fd[0], &after));
	ASSERT_EQ(0, memcmp(&before, &after, sizeof(before)))
		TH_LOG("the pool changed while cowstat ran");
	EXPECT_VALID(json_tool, p.buf);
	ASSERT_EQ(2, split_lines(p.buf, lines, 8)) TH_LOG("%s", p.buf);
	check_sample(_metadata, lines[0], 1, &before, self->fd, 3);
	check_sample(_metadata, lines[1], 2, &before, self->fd, 3);
	free(p.buf);
}

/* Writes between two samples show up as exact deltas in the second. */
TEST_F(views, cowstat_json_deltas)
{
	const char *args[] = { "--json", "-n", "2", "-i", "1.5", NULL };
	struct json doc[2], *v, *d, *pd;
	struct cowdev_stats st;
	struct proc p;
	char *lines[8];
	int i;

	ASSERT_EQ(0, cowdev_get_stats(self->fd[1], &st));
	ASSERT_EQ(0, proc_start(&p, "cowstat", args, 0, NULL));
	ASSERT_EQ(0, proc_read(&p, 1, 20));
	/*
	 * Between the samples, through the clone: 5 writes to holes and 3
	 * to pages it still shares (4-6: COW breaks).
	 */
	ASSERT_EQ(0, write_pages(self->fd[1], 20, 5, 7));
	ASSERT_EQ(0, write_pages(self->fd[1], 4, 3, 7));
	ASSERT_EQ(0, proc_finish(&p, 20));
	ASSERT_EQ(2, split_lines(p.buf, lines, 8));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, json_parse(lines[i], &doc[i]));
	pd = json_get(&doc[1], "pool_delta");
	ASSERT_TRUE(json_has_exactly(pd, pool_delta_keys));
	EXPECT_EQ(8, json_uint(pd, "allocs"));
	EXPECT_EQ(0, json_uint(pd, "frees"));
	EXPECT_EQ(8, json_uint(json_get(&doc[1], "pool"), "used_pages") -
		     json_uint(json_get(&doc[0], "pool"), "used_pages"));
	v = find_view(json_get(&doc[1], "views"), st.view_id);
	ASSERT_NE(NULL, v);
	d = json_get(v, "delta");
	ASSERT_TRUE(json_has_exactly(d, event_keys));
	EXPECT_EQ(5, json_uint(d, "demand_allocs"));
	EXPECT_EQ(3, json_uint(d, "cow_copies"));
	EXPECT_EQ(0, json_uint(d, "zero_maps"));
	EXPECT_EQ(st.resident_pages + 5, json_uint(v, "resident"));
	/* The first view lost 3 sharers: its delta is 0, its gauge moved. */
	v = find_view(json_get(&doc[1], "views"), self->st[0].view_id);
	ASSERT_NE(NULL, v);
	EXPECT_EQ(0, json_uint(json_get(v, "delta"), "cow_copies"));
	EXPECT_EQ(self->st[0].shared_pages - 3, json_uint(v, "shared"));
	for (i = 0; i < 2; i++)
		json_free(&doc[i]);
	free(p.buf);
}

/* In a mount namespace without debugfs: pool numbers, views_error. */
static void hide_debugfs(void)
{
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    umount2("/sys/kernel/debug", MNT_DETACH))
		_exit(99);
}

TEST_F(views, cowstat_without_debugfs)
{
	const char *json[] = { "--json", NULL };
	struct cowdev_pool_info pi;
	struct json doc, *err;
	int status;
	struct proc p;

	ASSERT_EQ(0, proc_start(&p, "cowstat", json, 0, hide_debugfs));
	status = proc_finish(&p, 20);
	if (status == 99)
		SKIP(return, "cannot unmount debugfs in a mount namespace");
	ASSERT_EQ(0, status);
	ASSERT_EQ(0, json_parse(p.buf, &doc)) TH_LOG("%s", p.buf);
	ASSERT_TRUE(json_has_exactly(&doc, sample_keys));
	EXPECT_EQ(J_NULL, json_get(&doc, "views")->type);
	err = json_get(&doc, "views_error");
	ASSERT_EQ(J_STR, err->type);
	EXPECT_NE(NULL, strstr(err->str, "not mounted")) TH_LOG("%s",
								 err->str);
	ASSERT_EQ(0, cowdev_pool_info(self->fd[0], &pi));
	EXPECT_EQ(pi.used_pages,
		  json_uint(json_get(&doc, "pool"), "used_pages"));
	json_free(&doc);
	free(p.buf);

	ASSERT_EQ(0, proc_start(&p, "cowstat", NULL, 1, hide_debugfs));
	ASSERT_EQ(0, proc_finish(&p, 20));
	EXPECT_NE(NULL, strstr(p.buf, "debugfs is not mounted")) TH_LOG("%s",
									p.buf);
	free(p.buf);
}

/* The text form: a pool line, our views with their pid, deltas. */
TEST_F(views, cowstat_text)
{
	const char *two[] = { "0.1", "2", NULL };
	char want[64], *l, *save;
	int found = 0, samples = 0, deltas = 0;
	struct proc p;

	ASSERT_EQ(0, run_tool(&p, "cowstat", two, 0, 20));
	snprintf(want, sizeof(want), "%llu %d %s %llu ",
		 (unsigned long long)self->st[2].view_id, getpid(), own_comm(),
		 (unsigned long long)self->st[2].size_pages);
	for (l = strtok_r(p.buf, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char norm[256];
		int i, j = 0;

		samples += !strncmp(l, "cowdev ", 7) && strstr(l, "sample");
		deltas += strstr(l, "counters per 0.10 s") != NULL;
		/* squeeze runs of spaces to compare the view line */
		for (i = 0; l[i] && j < 255; i++)
			if (l[i] != ' ' || (j && norm[j - 1] != ' '))
				norm[j++] = l[i];
		norm[j] = '\0';
		found += !strncmp(norm, want, strlen(want));
	}
	EXPECT_EQ(2, samples);
	EXPECT_EQ(1, deltas);
	EXPECT_EQ(2, found) TH_LOG("no line starting \"%s\"", want);
	free(p.buf);
}

TEST(cowstat_options)
{
	static const char *const bad[][3] = {
		{ "-n", "0", NULL }, { "-i", "abc", NULL }, { "-i", "-1", NULL },
		{ "--bogus", NULL, NULL }, { "1", "2", "3" },
		{ "-p", "0", NULL }, { "-p", "abc", NULL }, { "-p", NULL, NULL },
	};
	static const char *const opts[] = {
		"--json", "--csv", "--pid PID", "--kib", "--mib", NULL,
	};
	const char *const *o;
	const char *help[] = { "--help", NULL };
	struct proc p;
	size_t i;

	ASSERT_EQ(0, run_tool(&p, "cowstat", help, 0, 20));
	EXPECT_EQ(0, strncmp(p.buf, "Usage: cowstat", 14));
	for (o = opts; *o; o++)
		EXPECT_NE(NULL, strstr(p.buf, *o));
	free(p.buf);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[4] = { bad[i][0], bad[i][1], bad[i][2], NULL };

		EXPECT_EQ(2, run_tool(&p, "cowstat", args, 1, 20))
			TH_LOG("cowstat %s %s", bad[i][0], bad[i][1]);
		free(p.buf);
	}
}

/* ---- SVG: a small well-formedness checker --------------------------- */

struct svg_stats {
	int elements;
	int root_ok;			/* <svg xmlns=...> root */
	int page_rects;
	int per_state[COWDEV_NR_STATES];
	long long page[4096];		/* data-page of the n-th page rect */
	int state[4096];		/* its state */
};

static const char *xml_name(const char *s, char *name, size_t size)
{
	size_t n = 0;

	if (!isalpha((unsigned char)*s) && *s != '_')
		return NULL;
	while (isalnum((unsigned char)*s) || strchr("_-.:", *s)) {
		if (n + 1 < size)
			name[n++] = *s;
		s++;
	}
	name[n] = '\0';
	return s;
}

/* Text or an attribute value: '&' starts an entity, '<' never appears. */
static int xml_text_ok(const char *s, size_t len)
{
	static const char *const ents[] = {
		"&lt;", "&gt;", "&amp;", "&quot;", "&apos;",
	};
	size_t i, k;

	for (i = 0; i < len; i++) {
		if (s[i] == '<')
			return 0;
		if (s[i] != '&')
			continue;
		for (k = 0; k < 5; k++)
			if (!strncmp(s + i, ents[k], strlen(ents[k])))
				break;
		if (k == 5)
			return 0;
	}
	return 1;
}

static int state_of(const char *name)
{
	int s;

	for (s = 0; s < COWDEV_NR_STATES; s++)
		if (!strcmp(name, cowdev_map_state_name(s)))
			return s;
	return -1;
}

/* Parse @doc; 0 if well-formed.  Counts page rects into @st. */
static int svg_check(const char *doc, struct svg_stats *st)
{
	char stack[32][32], name[32], an[10][32], av[10][128];
	const char *s = doc, *e;
	int depth = 0, roots = 0, na, i, j, closing;

	memset(st, 0, sizeof(*st));
	if (!strncmp(s, "<?xml", 5)) {
		e = strstr(s, "?>");
		if (!e)
			return -1;
		s = e + 2;
	}
	for (;;) {
		e = strchr(s, '<');
		if (!e) {
			if (depth || roots != 1)
				return -1;
			return *json_ws(s) ? -1 : 0;
		}
		if (!xml_text_ok(s, e - s))
			return -1;
		if (!depth && *json_ws(s) != '<')
			return -1;	/* text outside the root */
		s = e + 1;
		if (!strncmp(s, "!--", 3)) {
			e = strstr(s, "-->");
			if (!e)
				return -1;
			s = e + 3;
			continue;
		}
		closing = *s == '/';
		s = xml_name(s + closing, name, sizeof(name));
		if (!s)
			return -1;
		if (closing) {
			s = json_ws(s);
			if (*s++ != '>' || !depth ||
			    strcmp(stack[--depth], name))
				return -1;
			continue;
		}
		for (na = 0;;) {
			const char *v;
			char q;

			s = json_ws(s);
			if (*s == '>' || !strncmp(s, "/>", 2))
				break;
			if (na == 10)
				return -1;
			s = xml_name(s, an[na], sizeof(an[na]));
			if (!s)
				return -1;
			s = json_ws(s);
			if (*s++ != '=')
				return -1;
			s = json_ws(s);
			q = *s++;
			if (q != '"' && q != '\'')
				return -1;
			v = strchr(s, q);
			if (!v || !xml_text_ok(s, v - s) ||
			    (size_t)(v - s) >= sizeof(av[na]))
				return -1;
			memcpy(av[na], s, v - s);
			av[na][v - s] = '\0';
			for (j = 0; j < na; j++)
				if (!strcmp(an[j], an[na]))
					return -1;	/* duplicate */
			na++;
			s = v + 1;
			if (*s != ' ' && *s != '>' && *s != '/' && *s != '\n')
				return -1;
		}
		st->elements++;
		if (!depth) {
			if (roots++ || strcmp(name, "svg"))
				return -1;
			for (i = 0; i < na; i++)
				if (!strcmp(an[i], "xmlns") &&
				    !strcmp(av[i], "http://www.w3.org/2000/svg"))
					st->root_ok = 1;
		}
		if (!strcmp(name, "rect")) {
			int state = -2;
			long long page = -1;

			for (i = 0; i < na; i++) {
				if (!strcmp(an[i], "data-state"))
					state = state_of(av[i]);
				if (!strcmp(an[i], "data-page"))
					page = atoll(av[i]);
			}
			if (state == -1 || (state >= 0) != (page >= 0))
				return -1;
			if (state >= 0 && st->page_rects < 4096) {
				st->page[st->page_rects] = page;
				st->state[st->page_rects] = state;
				st->page_rects++;
				st->per_state[state]++;
			}
		}
		if (*s == '/') {
			s += 2;
			continue;
		}
		s++;
		if (depth == 32)
			return -1;
		strcpy(stack[depth++], name);
	}
}

static char *slurp(const char *path)
{
	struct proc p = { 0 };
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	p.out = fd;
	proc_read(&p, 0, 10);
	close(fd);
	return p.buf;
}

/* ---- cowmap -------------------------------------------------------- */

#define MAP_PAGES	64

FIXTURE(pattern)
{
	int v, c;
	unsigned long long vid, cid;
	char *p;
	int want_v[MAP_PAGES], want_c[MAP_PAGES];
	char svg[64];
};

/*
 * View V (64 pages): write 0-19, clone into C, write 4-7 (COW copies) and
 * 30-35 through V, read 40-43.  V: shared 0-3, 8-19; dirty 4-7, 30-35;
 * 40-43 are holes mapped by the zero page (only this process can tell);
 * the rest holes.  C: shared 0-3, 8-19; resident (its own, clean) 4-7.
 */
FIXTURE_SETUP(pattern)
{
	size_t ps = cowdev_page_size(), i;
	struct cowdev_stats st;
	volatile char c;
	int fd;

	for (i = 0; i < MAP_PAGES; i++) {
		int shared = i < 20 && (i < 4 || i >= 8);

		self->want_v[i] = shared ? COWDEV_STATE_SHARED :
			(i >= 4 && i < 8) || (i >= 30 && i < 36) ?
			COWDEV_STATE_DIRTY : COWDEV_STATE_HOLE;
		self->want_c[i] = shared ? COWDEV_STATE_SHARED :
			i >= 4 && i < 8 ? COWDEV_STATE_RESIDENT :
			COWDEV_STATE_HOLE;
	}
	self->v = cowdev_open();
	ASSERT_LE(0, self->v);
	ASSERT_EQ(0, cowdev_set_size(self->v, MAP_PAGES * ps));
	self->p = mmap(NULL, MAP_PAGES * ps, PROT_READ | PROT_WRITE,
		       MAP_SHARED, self->v, 0);
	ASSERT_NE(MAP_FAILED, self->p);
	for (i = 0; i < 20; i++)
		self->p[i * ps] = 1;
	self->c = cowdev_clone(self->v);
	ASSERT_LE(0, self->c);
	for (i = 4; i < 8; i++)
		self->p[i * ps] = 2;
	for (i = 30; i < 36; i++)
		self->p[i * ps] = 3;
	for (i = 40; i < 44; i++)
		c = self->p[i * ps];
	(void)c;
	ASSERT_EQ(0, cowdev_get_stats(self->v, &st));
	ASSERT_EQ(4, st.cow_copies);
	self->vid = st.view_id;
	ASSERT_EQ(0, cowdev_get_stats(self->c, &st));
	self->cid = st.view_id;
	strcpy(self->svg, "/tmp/cowdev_tools_XXXXXX");
	fd = mkstemp(self->svg);
	ASSERT_LE(0, fd);
	close(fd);
}

FIXTURE_TEARDOWN(pattern)
{
	unlink(self->svg);
	munmap(self->p, MAP_PAGES * cowdev_page_size());
	close(self->c);
	close(self->v);
}

/* cowmap --svg FILE for one view: every page rect in its state. */
static void check_view_svg(struct __test_metadata *_metadata,
			   const char *svgfile, unsigned long long id,
			   const int *want, int first, int count)
{
	char ids[32], *doc;
	const char *args[] = { "--view", ids, "--svg", svgfile, "--quiet",
			       "--start", NULL, "--count", NULL, NULL };
	char start[16], cnt[16];
	struct svg_stats *st = calloc(1, sizeof(*st));
	int counts[COWDEV_NR_STATES] = { 0 }, i;
	struct proc p;

	ASSERT_NE(NULL, st);
	snprintf(ids, sizeof(ids), "%llu", id);
	snprintf(start, sizeof(start), "%d", first);
	snprintf(cnt, sizeof(cnt), "%d", count);
	args[6] = start;
	args[8] = cnt;
	ASSERT_EQ(0, run_tool(&p, "cowmap", args, 1, 20)) TH_LOG("%s", p.buf);
	free(p.buf);
	doc = slurp(svgfile);
	ASSERT_NE(NULL, doc);
	ASSERT_EQ(0, svg_check(doc, st)) TH_LOG("malformed SVG");
	EXPECT_VALID(xml_tool, doc);
	EXPECT_TRUE(st->root_ok);
	ASSERT_EQ(count, st->page_rects);
	for (i = 0; i < count; i++) {
		EXPECT_EQ(first + i, st->page[i]);
		EXPECT_EQ(want[first + i], st->state[i])
			TH_LOG("page %d", first + i);
		counts[want[first + i]]++;
	}
	for (i = 0; i < COWDEV_NR_STATES; i++)
		EXPECT_EQ(counts[i], st->per_state[i])
			TH_LOG("%s", cowdev_map_state_name(i));
	free(doc);
	free(st);
}

TEST_F(pattern, cowmap_svg_per_page)
{
	check_view_svg(_metadata, self->svg, self->vid, self->want_v, 0,
		       MAP_PAGES);
	check_view_svg(_metadata, self->svg, self->cid, self->want_c, 0,
		       MAP_PAGES);
	/* A window of the view. */
	check_view_svg(_metadata, self->svg, self->vid, self->want_v, 30, 8);
}

/* Both views in one picture; the legend counts. */
TEST_F(pattern, cowmap_svg_two_views)
{
	char v[32], c[32], *doc, legend[64];
	const char *args[] = { "-v", v, "-v", c, "-s", self->svg, "-q", NULL };
	struct svg_stats *st = calloc(1, sizeof(*st));
	struct proc p;
	int i;

	ASSERT_NE(NULL, st);
	snprintf(v, sizeof(v), "%llu", self->vid);
	snprintf(c, sizeof(c), "%llu", self->cid);
	ASSERT_EQ(0, run_tool(&p, "cowmap", args, 1, 20)) TH_LOG("%s", p.buf);
	free(p.buf);
	doc = slurp(self->svg);
	ASSERT_NE(NULL, doc);
	ASSERT_EQ(0, svg_check(doc, st));
	EXPECT_VALID(xml_tool, doc);
	ASSERT_EQ(2 * MAP_PAGES, st->page_rects);
	for (i = 0; i < MAP_PAGES; i++) {
		EXPECT_EQ(self->want_v[i], st->state[i]);
		EXPECT_EQ(self->want_c[i], st->state[MAP_PAGES + i]);
	}
	EXPECT_EQ(16 + 16, st->per_state[COWDEV_STATE_SHARED]);
	EXPECT_EQ(10, st->per_state[COWDEV_STATE_DIRTY]);
	EXPECT_EQ(4, st->per_state[COWDEV_STATE_RESIDENT]);
	EXPECT_EQ(38 + 44, st->per_state[COWDEV_STATE_HOLE]);
	EXPECT_EQ(0, st->per_state[COWDEV_STATE_ZERO]);
	snprintf(legend, sizeof(legend), ">dirty 10</text>");
	EXPECT_NE(NULL, strstr(doc, legend));
	snprintf(legend, sizeof(legend), ">resident 4</text>");
	EXPECT_NE(NULL, strstr(doc, legend));
	free(doc);
	free(st);
}

/* The text grid: 16 glyphs a row, exactly the pattern. */
TEST_F(pattern, cowmap_text_grid)
{
	char id[32], want[MAP_PAGES + 1], got[MAP_PAGES + 1] = "";
	const char *args[] = { "--view", id, "--no-color", "-c", "16", NULL };
	char *l, *save, glyphs[20];
	unsigned long first;
	int rows = 0, i;
	struct proc p;

	snprintf(id, sizeof(id), "%llu", self->vid);
	for (i = 0; i < MAP_PAGES; i++)
		want[i] = cowdev_map_state_glyph(self->want_v[i]);
	want[MAP_PAGES] = '\0';
	ASSERT_EQ(0, run_tool(&p, "cowmap", args, 1, 20));
	EXPECT_EQ(NULL, strchr(p.buf, '\033')) TH_LOG("colour with --no-color");
	for (l = strtok_r(p.buf, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		if (sscanf(l, " %lu %19s", &first, glyphs) != 2 ||
		    strlen(glyphs) != 16 || strspn(glyphs, ".0rSD") != 16)
			continue;
		EXPECT_EQ(rows * 16, first);
		strcat(got, glyphs);
		rows++;
		if (rows == 4)
			break;
	}
	EXPECT_EQ(4, rows);
	EXPECT_STREQ(want, got);
	free(p.buf);
}

/* The library on the process's own fd and mapping: read holes are zero. */
TEST_F(pattern, library_own_fd)
{
	struct svg_stats *st = calloc(1, sizeof(*st));
	struct cowdev_map map;
	uint64_t counts[COWDEV_NR_STATES];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int i;

	ASSERT_NE(NULL, st);
	ASSERT_EQ(0, cowdev_map_read(self->v, self->p, &map));
	ASSERT_EQ(MAP_PAGES, map.count);
	for (i = 0; i < MAP_PAGES; i++) {
		int want = i >= 40 && i < 44 ? COWDEV_STATE_ZERO :
			   self->want_v[i];

		EXPECT_EQ(want, cowdev_map_state(map.flags[i]))
			TH_LOG("page %d", i);
	}
	cowdev_map_count(&map, counts);
	EXPECT_EQ(4, counts[COWDEV_STATE_ZERO]);
	EXPECT_EQ(34, counts[COWDEV_STATE_HOLE]);
	cowdev_map_release(&map);

	f = open_memstream(&buf, &len);
	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, cowdev_map_fd_svg(self->v, self->p, f, 16, "a <title>"));
	fclose(f);
	ASSERT_EQ(0, svg_check(buf, st)) TH_LOG("malformed SVG");
	EXPECT_VALID(xml_tool, buf);
	EXPECT_EQ(MAP_PAGES, st->page_rects);
	EXPECT_EQ(4, st->per_state[COWDEV_STATE_ZERO]);
	EXPECT_EQ(10, st->per_state[COWDEV_STATE_DIRTY]);
	EXPECT_NE(NULL, strstr(buf, "a &lt;title&gt;"));
	free(buf);
	free(st);
}

TEST(cowmap_errors_and_help)
{
	const char *help[] = { "--help", NULL };
	const char *missing[] = { "--view", "987654321", NULL };
	const char *bogus[] = { "--bogus", NULL };
	const char *cols[] = { "-c", "0", NULL };
	static const char *const need_svg[][3] = {
		{ "--story", NULL, NULL }, { "--timeline", "-", NULL },
		{ "--story", "--example", "-s" },
	};
	const char *no_trace[] = { "-t", "/nonexistent", "-s", "/dev/null",
				   NULL };
	static const char *const opts[] = {
		"--svg FILE", "--json", "--timeline TRACE", "--story", NULL,
	};
	const char *const *o;
	struct proc p;
	size_t i;

	ASSERT_EQ(0, run_tool(&p, "cowmap", help, 0, 20));
	EXPECT_EQ(0, strncmp(p.buf, "Usage: cowmap", 13));
	for (o = opts; *o; o++)
		EXPECT_NE(NULL, strstr(p.buf, *o));
	free(p.buf);
	for (i = 0; i < sizeof(need_svg) / sizeof(need_svg[0]); i++) {
		const char *args[5] = { need_svg[i][0], need_svg[i][1],
					need_svg[i][2], need_svg[i][2] ?
					"/dev/null" : NULL, NULL };

		EXPECT_EQ(2, run_tool(&p, "cowmap", args, 1, 20))
			TH_LOG("cowmap %s %s", args[0], args[1]);
		free(p.buf);
	}
	EXPECT_EQ(1, run_tool(&p, "cowmap", no_trace, 1, 20));
	EXPECT_NE(NULL, strstr(p.buf, "/nonexistent: No such file"));
	free(p.buf);
	EXPECT_EQ(1, run_tool(&p, "cowmap", missing, 1, 20));
	EXPECT_NE(NULL, strstr(p.buf, "no live view 987654321"));
	free(p.buf);
	EXPECT_EQ(2, run_tool(&p, "cowmap", bogus, 1, 20));
	free(p.buf);
	EXPECT_EQ(2, run_tool(&p, "cowmap", cols, 1, 20));
	free(p.buf);
}

/* --example builds, draws and checks its own picture. */
TEST(cowmap_example)
{
	char svg[] = "/tmp/cowdev_example_XXXXXX", *doc;
	const char *args[] = { "--example", "--no-color", "--svg", svg, NULL };
	struct svg_stats *st = calloc(1, sizeof(*st));
	struct proc p;
	int fd = mkstemp(svg);

	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_NE(NULL, st);
	EXPECT_EQ(0, run_tool(&p, "cowmap", args, 1, 30)) TH_LOG("%s", p.buf);
	free(p.buf);
	doc = slurp(svg);
	unlink(svg);
	ASSERT_NE(NULL, doc);
	ASSERT_EQ(0, svg_check(doc, st));
	EXPECT_EQ(128, st->page_rects);
	EXPECT_EQ(16, st->per_state[COWDEV_STATE_ZERO]);
	EXPECT_EQ(48, st->per_state[COWDEV_STATE_SHARED]);
	free(doc);
	free(st);
}

/* ---- cowstat -p, --csv, -k/-m ---------------------------------------- */

/* The CSV columns, in order (cowstat.c; the gnuplot recipe uses them). */
static const char *const csv_pool[] = {
	"total", "free", "used", "peak", "limbo", NULL, NULL, NULL, NULL,
	"swap_total", "swap_used",
};

/* The header cowstat --csv prints in @unit ("pages", "kib", "mib"). */
static void csv_header(char *buf, size_t size, const char *unit)
{
	size_t i, n;

	n = snprintf(buf, size, "time,elapsed,sample,interval");
	for (i = 0; i < (size_t)NKEYS(pool_keys); i++) {
		if (i < (size_t)NKEYS(csv_pool) && csv_pool[i])
			n += snprintf(buf + n, size - n, ",pool_%s_%s",
				      csv_pool[i], unit);
		else
			n += snprintf(buf + n, size - n, ",pool_%s",
				      pool_keys[i]);
	}
	n += snprintf(buf + n, size - n, ",views,size_%s,resident_%s,shared_%s",
		      unit, unit, unit);
	for (i = 0; i < (size_t)NKEYS(event_keys); i++)
		n += snprintf(buf + n, size - n, ",%s", event_keys[i]);
}

/* Split a CSV row in place; returns the number of fields. */
static int csv_split(char *row, char **f, int max)
{
	int n = 0;

	f[n++] = row;
	for (; *row && n < max; row++) {
		if (*row == ',') {
			*row = '\0';
			f[n++] = row + 1;
		}
	}
	return n;
}

/* @pages as cowstat prints it in @unit. */
static const char *in_unit(char *buf, size_t size, unsigned long long pages,
			   const char *unit)
{
	unsigned long long bytes = pages * cowdev_page_size();

	if (!strcmp(unit, "kib"))
		snprintf(buf, size, "%llu", bytes / 1024);
	else if (!strcmp(unit, "mib"))
		snprintf(buf, size, "%.2f", bytes / 1048576.0);
	else
		snprintf(buf, size, "%llu", pages);
	return buf;
}

#define CSV_COLS (4 + NKEYS(pool_keys) + 4 + NKEYS(event_keys))

/*
 * Row @sample of cowstat --csv over this process's views @fds: the pool
 * equals COWDEV_IOC_POOL_INFO, the view columns the sums of
 * COWDEV_IOC_GET_STATS; events are totals in row 1 and 0 after it.
 */
static void check_csv_row(struct __test_metadata *_metadata, char *row,
			  int sample, const char *unit,
			  const struct cowdev_pool_info *pi,
			  const int *fds, int nfds)
{
	unsigned long long size = 0, res = 0, shr = 0, want;
	struct cowdev_stats st[8];
	char *f[CSV_COLS + 2], buf[32];
	int i, k, c;

	ASSERT_EQ(CSV_COLS, csv_split(row, f, CSV_COLS + 2));
	EXPECT_EQ(sample, atoi(f[2]));
	EXPECT_STREQ("0.200", f[3]);
	for (i = 0; i < nfds; i++) {
		ASSERT_EQ(0, cowdev_get_stats(fds[i], &st[i]));
		size += st[i].size_pages;
		res += st[i].resident_pages;
		shr += st[i].shared_pages;
	}
	for (i = 0, c = 4; i < NKEYS(pool_keys); i++, c++) {
		want = pool_field(pi, pool_keys[i]);
		if (i < NKEYS(csv_pool) && csv_pool[i])
			in_unit(buf, sizeof(buf), want, unit);
		else if (sample > 1 && i >= 6 && i != 9 && i != 10)
			strcpy(buf, "0");	/* an event: its change */
		else
			snprintf(buf, sizeof(buf), "%llu", want);
		EXPECT_STREQ(buf, f[c]) TH_LOG("pool %s", pool_keys[i]);
	}
	EXPECT_EQ(nfds, atoi(f[c++]));
	EXPECT_STREQ(in_unit(buf, sizeof(buf), size, unit), f[c++]);
	EXPECT_STREQ(in_unit(buf, sizeof(buf), res, unit), f[c++]);
	EXPECT_STREQ(in_unit(buf, sizeof(buf), shr, unit), f[c++]);
	for (k = 0; k < NKEYS(event_keys); k++, c++) {
		for (i = 0, want = 0; i < nfds; i++)
			want += stat_field(&st[i], event_keys[k]);
		EXPECT_EQ(sample > 1 ? 0 : want, strtoull(f[c], NULL, 10))
			TH_LOG("%s", event_keys[k]);
	}
}

/* --csv -p (this process) in each unit: two rows equal to the ioctls. */
TEST_F(views, cowstat_csv_equals_ioctls)
{
	static const char *const units[][2] = {
		{ NULL, "pages" }, { "-k", "kib" }, { "-m", "mib" },
	};
	struct cowdev_pool_info before, after;
	char pid[16], header[2048], *lines[8];
	struct proc p;
	size_t u;

	snprintf(pid, sizeof(pid), "%d", getpid());
	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		const char *args[] = { "--csv", "-p", pid, "-n", "2", "-i",
				       "0.2", units[u][0], NULL };

		ASSERT_EQ(0, cowdev_reserve_settle(10000));
		ASSERT_EQ(0, cowdev_pool_info(self->fd[0], &before));
		ASSERT_EQ(0, run_tool(&p, "cowstat", args, 0, 20));
		ASSERT_EQ(0, cowdev_pool_info(self->fd[0], &after));
		ASSERT_EQ(0, memcmp(&before, &after, sizeof(before)))
			TH_LOG("the pool changed while cowstat ran");
		ASSERT_EQ(3, split_lines(p.buf, lines, 8)) TH_LOG("%s", p.buf);
		csv_header(header, sizeof(header), units[u][1]);
		EXPECT_STREQ(header, lines[0]);
		check_csv_row(_metadata, lines[1], 1, units[u][1], &before,
			      self->fd, 3);
		check_csv_row(_metadata, lines[2], 2, units[u][1], &before,
			      self->fd, 3);
		free(p.buf);
	}
}

/* The column of view event @key in a CSV row. */
static int event_col(const char *key)
{
	int i;

	for (i = 0; i < NKEYS(event_keys); i++)
		if (!strcmp(event_keys[i], key))
			return CSV_COLS - NKEYS(event_keys) + i;
	return -1;
}

/* The change between two rows: writes through the clone, exactly. */
TEST_F(views, cowstat_csv_deltas)
{
	const char *args[] = { "--csv", "-n", "2", "-i", "1.5", NULL };
	char header[2048], *lines[8], *f[2][CSV_COLS + 2];
	int i, col;
	struct proc p;

	ASSERT_EQ(0, proc_start(&p, "cowstat", args, 0, NULL));
	ASSERT_EQ(0, proc_read(&p, 2, 20));
	ASSERT_EQ(0, write_pages(self->fd[1], 20, 5, 7));
	ASSERT_EQ(0, write_pages(self->fd[1], 4, 3, 7));
	ASSERT_EQ(0, proc_finish(&p, 20));
	ASSERT_EQ(3, split_lines(p.buf, lines, 8));
	csv_header(header, sizeof(header), "pages");
	EXPECT_STREQ(header, lines[0]);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(CSV_COLS, csv_split(lines[i + 1], f[i],
					      CSV_COLS + 2));
	col = event_col("cow_copies");
	ASSERT_LE(0, col);
	EXPECT_STREQ("3", f[1][col]);
	EXPECT_STREQ("5", f[1][event_col("demand_allocs")]);
	EXPECT_STREQ("0", f[1][event_col("zero_maps")]);
	EXPECT_STREQ("8", f[1][4 + 6]);		/* pool_allocs */
	EXPECT_EQ(8, atoi(f[1][4 + 2]) - atoi(f[0][4 + 2]));	/* used */
	EXPECT_LT(1.4, atof(f[1][1]) - atof(f[0][1]));	/* elapsed */
	free(p.buf);
}

/* Squeeze runs of spaces in @s to one, in place. */
static void squeeze(char *s)
{
	char *start = s, *d = s;

	for (; *s; s++)
		if (*s != ' ' || d == start || d[-1] != ' ')
			*d++ = *s;
	*d = '\0';
}

/* Another process's views, with its command name. */
static pid_t other_owner(int *ready, int *go, unsigned long long *ids)
{
	int to_parent[2], to_child[2];
	unsigned long long got[2];
	pid_t pid;
	char c;

	if (pipe(to_parent) || pipe(to_child))
		return -1;
	pid = fork();
	if (!pid) {
		struct cowdev_stats st;
		int fd, i;

		close(to_parent[0]);
		close(to_child[1]);
		prctl(PR_SET_NAME, "cowdev_owner");
		for (i = 0; i < 2; i++) {
			fd = cowdev_open();
			if (fd < 0 || cowdev_set_size(fd, (5 + i) *
						      cowdev_page_size()) ||
			    cowdev_get_stats(fd, &st))
				_exit(1);
			got[i] = st.view_id;
		}
		if (write(to_parent[1], got, sizeof(got)) != sizeof(got))
			_exit(1);
		_exit(read(to_child[0], &c, 1) < 0);
	}
	close(to_parent[1]);
	close(to_child[0]);
	*ready = to_parent[0];
	*go = to_child[1];
	if (pid < 0 || read(*ready, ids, 2 * sizeof(*ids)) !=
	    (ssize_t)(2 * sizeof(*ids)))
		return -1;
	return pid;
}

/* -p keeps exactly the views that PID opened, in JSON and text. */
TEST_F(views, cowstat_pid_filters)
{
	unsigned long long kid_ids[2], st_id;
	char pid[16], want[64], self_pid[16];
	const char *json[] = { "--json", "-p", pid, NULL };
	const char *text[] = { "-p", pid, NULL };
	const char *none[] = { "-p", "1", NULL };
	struct json doc, *views;
	int ready, go, i, found = 0;
	struct proc p;
	pid_t kid;

	kid = other_owner(&ready, &go, kid_ids);
	ASSERT_LT(0, kid);
	snprintf(pid, sizeof(pid), "%d", kid);
	ASSERT_EQ(0, run_tool(&p, "cowstat", json, 0, 20));
	ASSERT_EQ(0, json_parse(p.buf, &doc)) TH_LOG("%s", p.buf);
	EXPECT_VALID(json_tool, p.buf);
	views = json_get(&doc, "views");
	ASSERT_EQ(J_ARR, views->type);
	ASSERT_EQ(2, views->n);
	for (i = 0; i < 2; i++) {
		struct json *v = find_view(views, kid_ids[i]);

		ASSERT_NE(NULL, v);
		EXPECT_EQ(kid, json_uint(v, "pid"));
		EXPECT_STREQ("cowdev_owner", json_get(v, "comm")->str);
		EXPECT_EQ(5 + i, json_uint(v, "size_pages"));
	}
	json_free(&doc);
	free(p.buf);

	ASSERT_EQ(0, run_tool(&p, "cowstat", text, 0, 20));
	squeeze(p.buf);
	for (i = 0; i < 2; i++) {
		snprintf(want, sizeof(want), " %llu %d cowdev_owner ",
			 kid_ids[i], kid);
		EXPECT_NE(NULL, strstr(p.buf, want)) TH_LOG("%s", p.buf);
	}
	st_id = self->st[0].view_id;
	snprintf(want, sizeof(want), " %llu %d ", st_id, getpid());
	EXPECT_EQ(NULL, strstr(p.buf, want)) TH_LOG("%s", p.buf);
	free(p.buf);

	/* This process: its three views and none of the other's. */
	snprintf(self_pid, sizeof(self_pid), "%d", getpid());
	json[2] = self_pid;
	ASSERT_EQ(0, run_tool(&p, "cowstat", json, 0, 20));
	ASSERT_EQ(0, json_parse(p.buf, &doc));
	views = json_get(&doc, "views");
	ASSERT_EQ(3, views->n);
	for (i = 0; i < 3; i++)
		found += find_view(views, self->st[i].view_id) != NULL;
	EXPECT_EQ(3, found);
	json_free(&doc);
	free(p.buf);

	ASSERT_EQ(0, run_tool(&p, "cowstat", none, 0, 20));
	EXPECT_NE(NULL, strstr(p.buf, "views: none of pid 1\n"));
	free(p.buf);
	close(go);		/* the owner exits at EOF */
	close(ready);
	EXPECT_EQ(kid, waitpid(kid, NULL, 0));
}

/* The gnuplot recipe renders cowstat --csv output as SVG. */
TEST_F(views, cowstat_csv_gnuplot)
{
	const char *args[] = { "--csv", "-n", "3", "-i", "0.2", NULL };
	char csv[] = "/tmp/cowdev_csv_XXXXXX", svg[] = "/tmp/cowdev_gp_XXXXXX";
	char gp[PATH_MAX], cmd[PATH_MAX * 2], *doc;
	struct proc p;
	int fd;

	if (system("command -v gnuplot >/dev/null 2>&1"))
		SKIP(return, "gnuplot is not installed (scripts/deps)");
	tool_path(gp, sizeof(gp), "cowstat.gp");
	ASSERT_EQ(0, access(gp, R_OK)) TH_LOG("%s", gp);
	ASSERT_EQ(0, run_tool(&p, "cowstat", args, 0, 20));
	fd = mkstemp(csv);
	ASSERT_LE(0, fd);
	ASSERT_EQ(p.len, write(fd, p.buf, p.len));
	close(fd);
	free(p.buf);
	fd = mkstemp(svg);
	ASSERT_LE(0, fd);
	close(fd);
	snprintf(cmd, sizeof(cmd), "gnuplot -e \"csv='%s'; out='%s'\" '%s'",
		 csv, svg, gp);
	EXPECT_EQ(0, system(cmd)) TH_LOG("%s", cmd);
	doc = slurp(svg);
	unlink(csv);
	unlink(svg);
	ASSERT_NE(NULL, doc);
	EXPECT_VALID(xml_tool, doc);
	EXPECT_NE(NULL, strstr(doc, "pool_used_pages"));
	EXPECT_NE(NULL, strstr(doc, "cow_copies"));
	free(doc);
}

/* cowmap --json: one state name a page, exactly the pattern. */
static void check_json_map(struct __test_metadata *_metadata,
			   struct json *v, unsigned long long id,
			   const int *want, int first, int count)
{
	int counts[COWDEV_NR_STATES] = { 0 }, i;
	struct json *states, *c;

	EXPECT_EQ(id, json_uint(v, "view"));
	EXPECT_EQ(getpid(), json_uint(v, "pid"));
	EXPECT_EQ(first, json_uint(v, "start"));
	EXPECT_EQ(count, json_uint(v, "count"));
	states = json_get(v, "states");
	ASSERT_NE(NULL, states);
	ASSERT_EQ(J_ARR, states->type);
	ASSERT_EQ(count, states->n);
	for (i = 0; i < count; i++) {
		ASSERT_EQ(J_STR, states->kids[i].type);
		EXPECT_STREQ(cowdev_map_state_name(want[first + i]),
			     states->kids[i].str) TH_LOG("page %d", first + i);
		counts[want[first + i]]++;
	}
	c = json_get(v, "counts");
	ASSERT_EQ(COWDEV_NR_STATES, c->n);
	for (i = 0; i < COWDEV_NR_STATES; i++)
		EXPECT_EQ(counts[i], json_uint(c, cowdev_map_state_name(i)));
}

TEST_F(pattern, cowmap_json)
{
	char v[32], c[32];
	const char *both[] = { "-v", v, "-v", c, "--json", NULL };
	const char *win[] = { "-v", v, "--json", "--start", "30", "--count",
			      "8", NULL };
	struct json doc, *views;
	struct proc p;

	snprintf(v, sizeof(v), "%llu", self->vid);
	snprintf(c, sizeof(c), "%llu", self->cid);
	ASSERT_EQ(0, run_tool(&p, "cowmap", both, 0, 20));
	EXPECT_VALID(json_tool, p.buf);
	ASSERT_EQ(0, json_parse(p.buf, &doc)) TH_LOG("%s", p.buf);
	ASSERT_EQ(1, doc.n);
	views = json_get(&doc, "views");
	ASSERT_EQ(J_ARR, views->type);
	ASSERT_EQ(2, views->n);
	check_json_map(_metadata, &views->kids[0], self->vid, self->want_v,
		       0, MAP_PAGES);
	check_json_map(_metadata, &views->kids[1], self->cid, self->want_c,
		       0, MAP_PAGES);
	json_free(&doc);
	free(p.buf);

	ASSERT_EQ(0, run_tool(&p, "cowmap", win, 0, 20));
	ASSERT_EQ(0, json_parse(p.buf, &doc)) TH_LOG("%s", p.buf);
	views = json_get(&doc, "views");
	ASSERT_EQ(1, views->n);
	check_json_map(_metadata, &views->kids[0], self->vid, self->want_v,
		       30, 8);
	json_free(&doc);
	free(p.buf);
}

/* ---- pictures: the fault timeline and the COW story -------------- */

/* Occurrences of @needle in @hay. */
static int count_str(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)); hay += strlen(needle))
		n++;
	return n;
}

static const char *tracefs_root(void)
{
	static const char *const roots[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(path, sizeof(path), "%s/instances", roots[i]);
		if (!access(path, F_OK))
			return roots[i];
	}
	return NULL;
}

static int put(const char *dir, const char *file, const char *s)
{
	char path[PATH_MAX];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

/*
 * The workload: a 16-page view; read 0-3, write 4-11, clone, write 4-7
 * (COW copies) and 12-13.  Traced in a tracefs instance of this process:
 * the text of its trace file goes to @out (free it).
 */
static int traced_workload(char **out, unsigned long long *id)
{
	size_t ps = cowdev_page_size(), i;
	struct cowdev_stats st;
	char dir[PATH_MAX], path[PATH_MAX + 8], pid[16];
	const char *root = tracefs_root();
	volatile char *p, c;
	int fd, cfd, ret = -1;

	if (!root)
		return -2;
	snprintf(dir, sizeof(dir), "%s/instances/cowdev_tools.%d", root,
		 getpid());
	rmdir(dir);
	if (mkdir(dir, 0700))
		return -1;
	snprintf(pid, sizeof(pid), "%d", getpid());
	fd = cowdev_open();
	if (fd < 0 || cowdev_set_size(fd, 16 * ps) ||
	    cowdev_get_stats(fd, &st) || put(dir, "set_event_pid", pid) ||
	    put(dir, "events/cowdev/cowdev_fault/enable", "1") ||
	    put(dir, "tracing_on", "1"))
		goto out;
	*id = st.view_id;
	p = mmap(NULL, 16 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto out;
	for (i = 0; i < 4; i++)
		c = p[i * ps];
	(void)c;
	for (i = 4; i < 12; i++)
		p[i * ps] = 1;
	cfd = cowdev_clone(fd);
	for (i = 4; i < 8; i++)
		p[i * ps] = 2;
	for (i = 12; i < 14; i++)
		p[i * ps] = 3;
	put(dir, "tracing_on", "0");
	munmap((void *)p, 16 * ps);
	if (cfd >= 0)
		close(cfd);
	snprintf(path, sizeof(path), "%s/trace", dir);
	*out = slurp(path);
	ret = *out && cfd >= 0 ? 0 : -1;
out:
	if (fd >= 0)
		close(fd);
	rmdir(dir);
	return ret;
}

/* cowmap --timeline: one mark per cowdev_fault line, outcome and page. */
TEST(cowmap_timeline)
{
	char trace[] = "/tmp/cowdev_trace_XXXXXX";
	char svg[] = "/tmp/cowdev_timeline_XXXXXX";
	char ids[32], key[128], *text = NULL, *doc, *l, *save;
	const char *args[] = { "--timeline", trace, "--svg", svg, "-v", ids,
			       NULL };
	struct svg_stats *st = calloc(1, sizeof(*st));
	unsigned long long id = 0, view, pgoff;
	int fd, ret, lines = 0, copies = 0, zeros = 0;
	char outcome[32];
	struct proc p;

	ASSERT_NE(NULL, st);
	ret = traced_workload(&text, &id);
	if (ret == -2)
		SKIP(return, "no tracefs");
	ASSERT_EQ(0, ret);
	fd = mkstemp(trace);
	ASSERT_LE(0, fd);
	ASSERT_EQ(strlen(text), write(fd, text, strlen(text)));
	close(fd);
	close(mkstemp(svg));
	snprintf(ids, sizeof(ids), "%llu", id);
	ASSERT_EQ(0, run_tool(&p, "cowmap", args, 1, 20)) TH_LOG("%s", p.buf);
	free(p.buf);
	doc = slurp(svg);
	unlink(svg);
	unlink(trace);
	ASSERT_NE(NULL, doc);
	ASSERT_EQ(0, svg_check(doc, st)) TH_LOG("malformed SVG");
	EXPECT_VALID(xml_tool, doc);
	/* Each traced line of the view is one mark with its page. */
	for (l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		l = strstr(l, " cowdev_fault: ");
		if (!l || sscanf(l, " cowdev_fault: view=%llu pgoff=%llu "
				 "write=%*d shared=%*d mkwrite=%*d "
				 "outcome=%31s", &view, &pgoff, outcome) != 3 ||
		    view != id)
			continue;
		lines++;
		copies += !strcmp(outcome, "COPY");
		zeros += !strcmp(outcome, "ZERO");
		snprintf(key, sizeof(key), "data-view=\"%llu\" data-pgoff="
			 "\"%llu\" data-outcome=\"%s\"", view, pgoff, outcome);
		EXPECT_NE(NULL, strstr(doc, key)) TH_LOG("no mark %s", key);
	}
	EXPECT_LE(18, lines);		/* 4 reads, 14 writes at least */
	EXPECT_EQ(lines, count_str(doc, "data-outcome="));
	EXPECT_EQ(4, copies);
	EXPECT_EQ(4, zeros);
	snprintf(key, sizeof(key), "cowdev_fault: %d events", lines);
	EXPECT_NE(NULL, strstr(doc, key));
	free(text);
	free(doc);
	free(st);
}

/* cowmap --story: 13 writes after a clone, 12 of them to shared pages. */
TEST(cowmap_story)
{
	char svg[] = "/tmp/cowdev_story_XXXXXX", *doc;
	const char *args[] = { "--story", "--svg", svg, NULL };
	struct svg_stats *st = calloc(1, sizeof(*st));
	struct proc p;

	ASSERT_NE(NULL, st);
	close(mkstemp(svg));
	ASSERT_EQ(0, run_tool(&p, "cowmap", args, 1, 30)) TH_LOG("%s", p.buf);
	EXPECT_EQ(14, count_str(p.buf, "\nframe ") + !strncmp(p.buf,
							       "frame ", 6));
	EXPECT_NE(NULL, strstr(p.buf, "(24 shared-to-private changes)"));
	free(p.buf);
	doc = slurp(svg);
	unlink(svg);
	ASSERT_NE(NULL, doc);
	ASSERT_EQ(0, svg_check(doc, st)) TH_LOG("malformed SVG");
	EXPECT_VALID(xml_tool, doc);
	/* Frame 0: 24 shared pages in each view, the rest holes. */
	EXPECT_EQ(64, st->page_rects);
	EXPECT_EQ(48, st->per_state[COWDEV_STATE_SHARED]);
	EXPECT_EQ(16, st->per_state[COWDEV_STATE_HOLE]);
	/* Each write to a shared page: both views leave "shared". */
	EXPECT_EQ(24, count_str(doc, "data-from=\"shared\""));
	EXPECT_EQ(12 + 1, count_str(doc, "data-to=\"dirty\""));
	EXPECT_EQ(12, count_str(doc, "data-from=\"shared\" "
				     "data-to=\"resident\""));
	EXPECT_EQ(1, count_str(doc, "data-from=\"hole\" data-to=\"dirty\""));
	EXPECT_EQ(25, count_str(doc, "<set attributeName=\"fill\""));
	EXPECT_EQ(14, count_str(doc, "<set attributeName=\"visibility\""));
	free(doc);
	free(st);
}

/* ---- the demos ------------------------------------------------------ */

FIXTURE(demo) {};
FIXTURE_SETUP(demo) {}
FIXTURE_TEARDOWN(demo) {}
FIXTURE_VARIANT(demo) { const char *name; };

#define DEMO(n) \
	FIXTURE_VARIANT_ADD(demo, n) { .name = "demos/" #n }
DEMO(demo1_demand_paging);
DEMO(demo2_sigbus_past_end);
DEMO(demo3_shared_private);
DEMO(demo4_fork);
DEMO(demo5_snapshot);
DEMO(demo6_fault_counting);
DEMO(demo7_incremental_backup);
DEMO(demo8_thrashing);
DEMO(demo9_belady);
DEMO(demo10_dirty_clean);
DEMO(demo11_majflt);

/* Each demo checks its own numbers: exit 0 and "all N checks passed". */
TEST_F_TIMEOUT(demo, exits_0, 240)
{
	struct proc p;
	int status;

	/*
	 * demo11 walks twice a resident limit of 1024 frames rather than
	 * twice the suite's pool of 16384 pages: the same claims, a minute
	 * less on a debug kernel.  make run shows the whole pool.
	 */
	ASSERT_EQ(0, setenv("COWDEV_DEMO_FRAMES", "1024", 1));
	status = run_tool(&p, variant->name, NULL, 1, 230);
	EXPECT_EQ(0, status) TH_LOG("%s:\n%s", variant->name, p.buf);
	EXPECT_NE(NULL, strstr(p.buf, "checks passed"));
	EXPECT_EQ(NULL, strstr(p.buf, "SKIPPED")) TH_LOG("%s", p.buf);
	free(p.buf);
}

/* One row of demo7's table: increment, writes, WRITTEN, DIFF, sent... */
struct inc_row {
	long long k, writes, written, diff, sent, w_only, d_only, kb;
};

/*
 * The rows after demo7's table header; returns how many, or -1 when the
 * header or the "sum" row is missing.  @sum gets the sum row's numbers.
 */
static int demo7_table(const char *out, struct inc_row *rows, int max,
		       struct inc_row *sum)
{
	const char *l = strstr(out, "incr  writes  WRITTEN");
	int n = 0;

	if (!l)
		return -1;
	for (l = strchr(l, '\n'); l && *++l; l = strchr(l, '\n')) {
		struct inc_row *r = &rows[n];

		if (sscanf(l, " sum %lld %lld %lld %lld", &sum->writes,
			   &sum->written, &sum->diff, &sum->sent) == 4)
			return n;
		if (n == max || sscanf(l, "%lld %lld %lld %lld %lld %lld %lld "
				       "%lld", &r->k, &r->writes, &r->written,
				       &r->diff, &r->sent, &r->w_only,
				       &r->d_only, &r->kb) != 8)
			return -1;
		n++;
	}
	return -1;
}

/*
 * demo7 with its sizes from the environment: 128 pages, 4 increments of
 * 150 writes.  One row per increment in order; in each, the pages sent
 * are the union of WRITTEN and DIFF (at least either, at most both, and
 * WRITTEN + DIFF-only = DIFF + WRITTEN-only = sent); both halves of the
 * union are non-empty (the writer's log always puts new pages in the
 * window between re-arm and clone, which only DIFF sees, and WRITTEN
 * repeats the previous window's); the sums add up; the rebuild applied
 * every increment and matched.
 */
FIXTURE(demo7) {};
FIXTURE_SETUP(demo7) {}
FIXTURE_TEARDOWN(demo7) {}

TEST_F_TIMEOUT(demo7, incremental_backup_numbers, 240)
{
	const char *out, *l;
	struct inc_row rows[8], sum = { 0 };
	long long written = 0, diff = 0, sent = 0, all = -1;
	struct proc p;
	int n, i;

	ASSERT_EQ(0, setenv("COWDEV_DEMO_PAGES", "128", 1));
	ASSERT_EQ(0, setenv("COWDEV_DEMO_INCREMENTS", "4", 1));
	ASSERT_EQ(0, setenv("COWDEV_DEMO_WRITES", "150", 1));
	ASSERT_EQ(0, run_tool(&p, "demos/demo7_incremental_backup", NULL, 1,
			      230)) TH_LOG("%s", p.buf);
	out = p.buf;
	n = demo7_table(out, rows, 8, &sum);
	ASSERT_EQ(4, n) TH_LOG("%s", out);
	for (i = 0; i < n; i++) {
		struct inc_row *r = &rows[i];

		EXPECT_EQ(i + 1, r->k);
		EXPECT_EQ(150, r->writes);
		EXPECT_GE(r->sent, r->written);
		EXPECT_GE(r->sent, r->diff);
		EXPECT_LE(r->sent, r->written + r->diff);
		EXPECT_EQ(r->sent, r->written + r->d_only);
		EXPECT_EQ(r->sent, r->diff + r->w_only);
		EXPECT_LT(0, r->w_only);
		EXPECT_LT(0, r->d_only);
		EXPECT_GE(128, r->sent);
		EXPECT_EQ(r->sent * getpagesize() / 1024, r->kb);
		written += r->written;
		diff += r->diff;
		sent += r->sent;
	}
	EXPECT_EQ(4 * 150, sum.writes);
	EXPECT_EQ(written, sum.written);
	EXPECT_EQ(diff, sum.diff);
	EXPECT_EQ(sent, sum.sent);
	l = strstr(out, "pages sent in all: ");
	ASSERT_NE(NULL, l);
	n = sscanf(l, "pages sent in all: %lld", &all);
	EXPECT_EQ(1, n);
	EXPECT_EQ(sent, all);
	for (i = 1; i <= 4; i++) {
		char want[64];

		snprintf(want, sizeof(want), "+ increment %d: %3lld pages = "
			 "snapshot %d\n", i, rows[i - 1].sent, i);
		EXPECT_NE(NULL, strstr(out, want)) TH_LOG("no \"%s\"", want);
	}
	EXPECT_NE(NULL, strstr(out, "rebuild matches the last snapshot: "
			       "128 pages, byte for byte"));
	EXPECT_NE(NULL, strstr(out, "checks passed"));
	free(p.buf);
}

TEST_HARNESS_MAIN
