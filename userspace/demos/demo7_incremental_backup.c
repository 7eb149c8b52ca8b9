// SPDX-License-Identifier: GPL-2.0
/*
 * demo7: incremental backup of an object that is being written.  A writer
 * process updates pages of a MAP_SHARED mapping, like a database: it fills
 * every page once, then alternates between a random page of a hot table
 * (the first eighth of the object) and the next page of a log (the rest,
 * two writes a page, wrapping around).  Every page it writes holds the
 * write's sequence number.  The parent is the backup tool: it takes one
 * full backup (COWDEV_IOC_CLONE, then the clone's bytes to a file) and then,
 * every WRITES writes, an incremental one that sends only the pages that
 * changed (page index + page bytes to an increment file), found two ways:
 *
 *  - COWDEV_IOC_WRITTEN with COWDEV_WRITTEN_CLEAR on the live object: the
 *    pages the application wrote through its mapping since the last
 *    re-arm.  This is write tracking, what CRIU's pre-copy dumps read from
 *    the soft-dirty bits (and what live migration's dirty logging is).
 *  - COWDEV_IOC_DIFF of the new snapshot against the previous one: the
 *    pages the two snapshots do not share, compared by identity, as
 *    zfs send -i finds the blocks born between two snapshots.
 *
 * At the end the writer stops, a last increment is taken, and the object
 * is rebuilt from the full copy plus the increments applied in order: it
 * must be the last snapshot byte for byte.
 *
 * The timeline of snapshot k (the writer's counter is the number of writes
 * done; R[k] is where tracking is re-armed, C[k] where the clone is taken):
 *
 *   ..writes.. R[k] WRITTEN|CLEAR ..WINDOW writes.. C[k] CLONE ..writes..
 *
 * The writer pauses at R[k] and at C[k]: the backup tool raises a limit in
 * shared memory and waits for the counter to reach it, so snapshot k holds
 * exactly the first C[k] writes and every count below is exact.  Between
 * those points the writer runs while the tool diffs, copies and sends.  A
 * real tool would not pause its writer: the snapshots would be as
 * consistent (a clone is a point in time), only the counts would vary.
 *
 * What each answer covers, and so what each adds to the other:
 *  - WRITTEN at R[k] reports the writes in [R[k-1], R[k]).  The WINDOW
 *    writes [R[k], C[k]) are in snapshot k but reported at R[k+1] only:
 *    with WRITTEN alone they reach the backup one increment late, and
 *    the last window's only with one more WRITTEN once the writer has
 *    stopped (as CRIU dumps last with the task frozen).  Nothing is lost
 *    because tracking is re-armed before the clone: re-armed after it,
 *    the writes between clone and re-arm would be lost for good.  WRITTEN
 *    also repeats the previous window's pages, sent already.
 *    Its merit: it needs no old snapshot, which could be closed as soon
 *    as it was copied out (a kept snapshot costs one COW copy per page
 *    written meanwhile).
 *  - DIFF reports the writes in [C[k-1], C[k]): exactly what separates the
 *    two snapshots, so increment k applied to snapshot k-1 gives snapshot
 *    k.  It needs the previous snapshot kept until the next is taken.
 *  - Sent: the union, the writes in [R[k-1], C[k]).
 *
 * The claims it checks (exact, against a model of the writer): every
 * snapshot holds the first C[k] writes; WRITTEN, DIFF and the union count
 * the distinct pages of those ranges; after the backup tool closed the
 * previous snapshot, the object and the last one share every page, and
 * WRITTEN names the last window's pages; the rebuild equals every
 * snapshot in turn, and the last one byte for byte.
 *
 * Environment: COWDEV_DEMO_PAGES (object size, default 256 pages),
 * COWDEV_DEMO_INCREMENTS (default 5), COWDEV_DEMO_WRITES (writes between
 * two snapshots, default 200).  The files go to a new directory under
 * $TMPDIR (default /tmp) and are removed at exit.
 */
#include <dirent.h>
#include <time.h>
#include <sys/wait.h>

#include "demo.h"

#define WINDOW		16	/* writes between re-arm and clone */
#define WAIT_SECONDS	120	/* the writer must reach a count by then */

static const char page_tag[8] = "cowdev7";

/* The head of every page the writer writes; the rest is one fill byte. */
struct page_head {
	char tag[8];
	uint64_t page;
	uint64_t seq;
};

/* What writer and backup tool share (MAP_SHARED | MAP_ANONYMOUS). */
struct shared {
	uint64_t done;		/* writes completed (the writer's counter) */
	uint64_t limit;		/* the writer pauses when done reaches it */
	uint64_t stop;		/* ...and exits there when this is set */
};

/* The increment file: this header, then per page its index and bytes. */
struct inc_head {
	char magic[8];
	uint64_t number;
	uint64_t pages;
	uint64_t page_size;
};

static const char inc_magic[8] = "COWINC1";

static size_t pages, hot, increments, writes;
static char dir[512];
static pid_t writer_pid;

/* ---- the writer and its model --------------------------------------- */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The page write @seq goes to: fill, then hot table and log in turn. */
static size_t page_of(uint64_t seq)
{
	uint64_t m;

	if (seq < pages)
		return seq;
	m = seq - pages;
	if (m % 2 == 0)
		return mix(m) % hot;
	return hot + (m / 2 / 2) % (pages - hot);
}

static unsigned char fill_of(uint64_t seq, size_t page)
{
	return 'a' + (seq * 7 + page) % 26;
}

/* The bytes of @page after write @seq. */
static void stamp(char *dst, size_t page, uint64_t seq)
{
	struct page_head h = { .page = page, .seq = seq };

	memcpy(h.tag, page_tag, sizeof(h.tag));
	memset(dst, fill_of(seq, page), demo_psize());
	memcpy(dst, &h, sizeof(h));
}

static uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* The writer process: write after write, pausing where the limit is. */
static void writer(char *map, struct shared *sh)
{
	uint64_t seq;

	for (seq = 0; ; seq++) {
		while (seq >= load(&sh->limit)) {
			if (load(&sh->stop))
				_exit(0);
			usleep(100);
		}
		stamp(map + page_of(seq) * demo_psize(), page_of(seq), seq);
		store(&sh->done, seq + 1);
	}
}

/* What the object holds after the first @at writes: each page's last. */
struct model {
	uint64_t at;
	uint64_t *last;
	char *page;		/* scratch: one expected page */
};

static void model_init(struct model *m)
{
	m->at = 0;
	m->last = calloc(pages, sizeof(*m->last));
	m->page = malloc(demo_psize());
	if (!m->last || !m->page)
		demo_fail("out of memory");
}

static void model_advance(struct model *m, uint64_t to)
{
	for (; m->at < to; m->at++)
		m->last[page_of(m->at)] = m->at;
}

/* Check that @buf holds the model's pages; @what names it in a failure. */
static void model_check(struct model *m, const char *buf, const char *what)
{
	const size_t ps = demo_psize();
	size_t i;

	for (i = 0; i < pages; i++) {
		stamp(m->page, i, m->last[i]);
		if (memcmp(buf + i * ps, m->page, ps))
			demo_fail("%s: page %zu is not write %llu of it (the "
				  "first %llu writes)", what, i,
				  (unsigned long long)m->last[i],
				  (unsigned long long)m->at);
	}
	demo_checks++;
}

/* Distinct pages the writes [@from, @to) went to. */
static long long distinct(uint64_t from, uint64_t to)
{
	uint8_t *seen = calloc(pages, 1);
	long long n = 0;

	if (!seen)
		demo_fail("out of memory");
	for (; from < to; from++)
		if (!seen[page_of(from)]++)
			n++;
	free(seen);
	return n;
}

/* ---- pacing the writer ---------------------------------------------- */

/* Let the writer run until it has made @count writes in all. */
static void writer_release(struct shared *sh, uint64_t count)
{
	store(&sh->limit, count);
}

/* ...and wait until it got there. */
static void writer_reach(struct shared *sh, uint64_t count)
{
	time_t end = time(NULL) + WAIT_SECONDS;
	int status;

	writer_release(sh, count);
	while (load(&sh->done) < count) {
		if (waitpid(writer_pid, &status, WNOHANG) == writer_pid)
			demo_fail("the writer died (status 0x%x) after %llu "
				  "writes", status,
				  (unsigned long long)load(&sh->done));
		if (time(NULL) > end)
			demo_fail("the writer made %llu of %llu writes in %d s",
				  (unsigned long long)load(&sh->done),
				  (unsigned long long)count, WAIT_SECONDS);
		usleep(100);
	}
}

/* Stop the writer where it is paused now (at the limit) and reap it. */
static void writer_stop(struct shared *sh)
{
	int status;

	store(&sh->stop, 1);
	DEMO_TRY(waitpid(writer_pid, &status, 0));
	writer_pid = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		demo_fail("the writer failed (status 0x%x)", status);
}

/* ---- files ---------------------------------------------------------- */

static void cleanup(void)
{
	struct dirent *e;
	char path[1024];
	DIR *d;

	if (writer_pid > 0)
		kill(writer_pid, SIGKILL);
	if (!dir[0])
		return;
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	dir[0] = '\0';
}

static void make_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/cowdev-demo7.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		dir[0] = '\0';
		demo_fail("mkdtemp under %s: %s (set TMPDIR)",
			  tmp && *tmp ? tmp : "/tmp", strerror(errno));
	}
	atexit(cleanup);
}

static FILE *open_file(const char *name, const char *mode, char *path,
		       size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/%s", dir, name);
	f = fopen(path, mode);
	if (!f)
		demo_fail("%s: %s", path, strerror(errno));
	return f;
}

static void put(FILE *f, const void *buf, size_t len, const char *path)
{
	if (fwrite(buf, len, 1, f) != 1)
		demo_fail("writing %s: %s", path, strerror(errno));
}

static void get(FILE *f, void *buf, size_t len, const char *path)
{
	if (fread(buf, len, 1, f) != 1)
		demo_fail("reading %s: %s", path,
			  ferror(f) ? strerror(errno) : "short file");
}

static void close_file(FILE *f, const char *path)
{
	if (fclose(f))
		demo_fail("closing %s: %s", path, strerror(errno));
}

/* ---- the backup tool ------------------------------------------------ */

/* One snapshot: its fd and a read-only mapping of it. */
struct snap {
	int fd;
	const char *map;
};

static struct snap snap_take(int fd)
{
	struct snap s;
	void *p;

	s.fd = DEMO_TRY(cowdev_clone(fd));
	p = mmap(NULL, pages * demo_psize(), PROT_READ, MAP_SHARED, s.fd, 0);
	if (p == MAP_FAILED)
		demo_fail("mmap of a snapshot: %s", strerror(errno));
	s.map = p;
	return s;
}

static void snap_close(struct snap *s)
{
	munmap((void *)s->map, pages * demo_psize());
	close(s->fd);
	s->fd = -1;
}

/* One increment's numbers. */
struct inc {
	long long writes;	/* writes between the two snapshots */
	long long written;	/* pages WRITTEN reported */
	long long diff;		/* pages DIFF found not shared */
	long long sent;		/* pages in either: sent */
	long long written_only, diff_only;
};

static int bit(const uint8_t *bits, size_t i)
{
	return bits[i / 8] >> (i % 8) & 1;
}

/* Send the pages WRITTEN or DIFF name to the increment file @k. */
static void send_increment(const struct snap *s, size_t k, const uint8_t *bits,
			   const uint8_t *diff, struct inc *inc)
{
	const size_t ps = demo_psize();
	struct inc_head h = { .number = k, .page_size = ps };
	char name[32], path[1024];
	uint64_t i;
	FILE *f;

	snprintf(name, sizeof(name), "increment-%zu", k);
	f = open_file(name, "w", path, sizeof(path));
	memcpy(h.magic, inc_magic, sizeof(h.magic));
	put(f, &h, sizeof(h), path);
	for (i = 0; i < pages; i++) {
		int w = bit(bits, i), d = diff[i] != COWDEV_DIFF_SAME &&
					  diff[i] != COWDEV_DIFF_HOLES;

		inc->written_only += w && !d;
		inc->diff_only += d && !w;
		if (!w && !d)
			continue;
		put(f, &i, sizeof(i), path);
		put(f, s->map + i * ps, ps, path);
		inc->sent++;
	}
	/* The page count goes into the header once it is known. */
	h.pages = inc->sent;
	if (fseek(f, 0, SEEK_SET))
		demo_fail("%s: %s", path, strerror(errno));
	put(f, &h, sizeof(h), path);
	close_file(f, path);
}

/* The full backup: every byte of snapshot @s. */
static void send_full(const struct snap *s)
{
	char path[1024];
	FILE *f = open_file("full", "w", path, sizeof(path));

	put(f, s->map, pages * demo_psize(), path);
	close_file(f, path);
}

/* WRITTEN with CLEAR on the live object: the bits, and how many are set. */
static long long rearm(int fd, uint8_t *bits)
{
	uint64_t n;

	DEMO_TRY(cowdev_written(fd, 0, pages, bits, COWDEV_WRITTEN_CLEAR, &n));
	return n;
}

/* DIFF of @s against @prev: pages not shared (a page in one at least). */
static long long diff_snaps(const struct snap *s, const struct snap *prev,
			    uint8_t *diff)
{
	struct cowdev_diff d;

	DEMO_TRY(cowdev_diff(s->fd, prev->fd, 0, pages, diff, &d));
	DEMO_CHECK(d.same + d.different + d.only_this + d.only_other <= pages,
		   "DIFF counts %llu %llu %llu %llu for %zu pages",
		   (unsigned long long)d.same,
		   (unsigned long long)d.different,
		   (unsigned long long)d.only_this,
		   (unsigned long long)d.only_other, pages);
	return d.different + d.only_this + d.only_other;
}

/* Re-arm at @rearm_at, clone after WINDOW more writes. */
static struct snap snapshot_at(int fd, struct shared *sh, uint64_t rearm_at,
			       uint8_t *bits, long long *written, int last)
{
	writer_reach(sh, rearm_at);
	*written = rearm(fd, bits);
	writer_reach(sh, rearm_at + WINDOW);
	if (last)
		writer_stop(sh);
	return snap_take(fd);
}

static void print_table(const struct inc *inc)
{
	long long sent = 0, written = 0, diff = 0;
	size_t k;

	printf("    %4s %7s %8s %6s %6s %13s %10s %8s\n", "incr", "writes",
	       "WRITTEN", "DIFF", "sent", "WRITTEN-only", "DIFF-only",
	       "kB sent");
	for (k = 1; k <= increments; k++) {
		printf("    %4zu %7lld %8lld %6lld %6lld %13lld %10lld %8zu\n",
		       k, inc[k].writes, inc[k].written, inc[k].diff,
		       inc[k].sent, inc[k].written_only, inc[k].diff_only,
		       (size_t)inc[k].sent * demo_psize() / 1024);
		sent += inc[k].sent;
		written += inc[k].written;
		diff += inc[k].diff;
	}
	printf("    %4s %7zu %8lld %6lld %6lld\n", "sum", increments * writes,
	       written, diff, sent);
	printf("    pages sent in all: %lld in %zu increments, after a full "
	       "copy of %zu (%zu full copies would be %zu)\n", sent,
	       increments, pages, increments, increments * pages);
}

/* The expected numbers of increment @k, from the model. */
static void check_increment(size_t k, const struct inc *inc)
{
	uint64_t r_prev = pages + (k - 1) * writes, r = r_prev + writes;
	char what[64];

	snprintf(what, sizeof(what), "increment %zu: pages WRITTEN", k);
	demo_expect(what, inc->written, distinct(r_prev, r));
	snprintf(what, sizeof(what), "increment %zu: pages DIFF", k);
	demo_expect(what, inc->diff, distinct(r_prev + WINDOW, r + WINDOW));
	snprintf(what, sizeof(what), "increment %zu: pages sent", k);
	demo_expect(what, inc->sent, distinct(r_prev, r + WINDOW));
	DEMO_CHECK(inc->sent == inc->written + inc->diff_only &&
		   inc->sent == inc->diff + inc->written_only,
		   "increment %zu: sent %lld, written %lld + %lld, diff %lld "
		   "+ %lld", k, inc->sent, inc->written, inc->diff_only,
		   inc->diff, inc->written_only);
}

/* ---- the rebuild ---------------------------------------------------- */

/* Apply increment file @k to @buf; returns its page count. */
static uint64_t apply_increment(char *buf, size_t k)
{
	const size_t ps = demo_psize();
	char name[32], path[1024];
	struct inc_head h;
	uint64_t i, index;
	FILE *f;

	snprintf(name, sizeof(name), "increment-%zu", k);
	f = open_file(name, "r", path, sizeof(path));
	get(f, &h, sizeof(h), path);
	if (memcmp(h.magic, inc_magic, sizeof(h.magic)) ||
	    h.number != k || h.page_size != ps)
		demo_fail("%s: not increment %zu of %zu-byte pages", path, k,
			  ps);
	for (i = 0; i < h.pages; i++) {
		get(f, &index, sizeof(index), path);
		if (index >= pages)
			demo_fail("%s: page index %llu", path,
				  (unsigned long long)index);
		get(f, buf + index * ps, ps, path);
	}
	if (fgetc(f) != EOF)
		demo_fail("%s: bytes after %llu pages", path,
			  (unsigned long long)h.pages);
	fclose(f);
	return h.pages;
}

/* Full copy, then each increment: each step must be that snapshot. */
static char *rebuild(void)
{
	const size_t ps = demo_psize();
	char path[1024], what[64], *buf = malloc(pages * ps);
	struct model m;
	FILE *f;
	size_t k;

	if (!buf)
		demo_fail("out of memory");
	model_init(&m);
	f = open_file("full", "r", path, sizeof(path));
	get(f, buf, pages * ps, path);
	fclose(f);
	model_advance(&m, pages + WINDOW);
	model_check(&m, buf, "the full copy");
	printf("    full copy: %zu pages = snapshot 0\n", pages);
	for (k = 1; k <= increments; k++) {
		uint64_t n = apply_increment(buf, k);

		model_advance(&m, pages + k * writes + WINDOW);
		snprintf(what, sizeof(what), "the copy after increment %zu",
			 k);
		model_check(&m, buf, what);
		printf("    + increment %zu: %3llu pages = snapshot %zu\n", k,
		       (unsigned long long)n, k);
	}
	free(m.last);
	free(m.page);
	return buf;
}

/* ---- main ----------------------------------------------------------- */

static size_t env_size(const char *name, size_t def, size_t min, size_t max)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return def;
	v = strtoul(s, &end, 0);
	if (*end || v < min || v > max)
		demo_fail("%s=%s: must be %zu to %zu", name, s, min, max);
	return v;
}

static void explain(void)
{
	demo_say("A writer process updates a %zu-page object through a "
		 "MAP_SHARED mapping: it", pages);
	demo_say("fills every page, then alternates between a random page "
		 "of a hot table");
	demo_say("(pages 0-%zu) and the next page of a log (pages %zu-%zu, "
		 "two writes a page).", hot - 1, hot, pages - 1);
	demo_say("Each page it writes holds the write's sequence number.  "
		 "This process is the");
	demo_say("backup tool: one full backup, then an incremental one "
		 "every %zu writes.", writes);
	demo_say("For each snapshot it re-arms write tracking (WRITTEN "
		 "with CLEAR), lets");
	demo_say("%d more writes happen (the window), clones, and diffs "
		 "the clone against the", WINDOW);
	demo_say("previous snapshot.  The writer pauses at those two "
		 "points only, so that the");
	demo_say("numbers are exact; it runs while the tool diffs, copies "
		 "and sends.");
}

int main(void)
{
	const size_t ps = demo_psize();
	struct inc *inc;
	struct snap prev, cur;
	struct shared *sh;
	struct cowdev_stats st;
	uint8_t *bits, *diff;
	long long used0, written;
	uint64_t owed, during;
	struct model m;
	char *live, *buf;
	size_t k;
	int fd;

	demo_name = "demo7_incremental_backup";
	setvbuf(stdout, NULL, _IOLBF, 0);
	pages = env_size("COWDEV_DEMO_PAGES", 256, 16, 1 << 16);
	increments = env_size("COWDEV_DEMO_INCREMENTS", 5, 1, 100);
	writes = env_size("COWDEV_DEMO_WRITES", 200, 2 * WINDOW, 1 << 20);
	hot = pages / 8;
	demo_title("incremental backup: WRITTEN and DIFF while a writer "
		   "writes");
	explain();
	make_dir();
	inc = calloc(increments + 1, sizeof(*inc));
	bits = calloc((pages + 7) / 8, 1);
	diff = calloc(pages, 1);
	if (!inc || !bits || !diff)
		demo_fail("out of memory");
	model_init(&m);

	demo_step("1. the object, and the writer (a child process)");
	fd = demo_object(pages);
	used0 = demo_used(fd);
	live = demo_map(fd, pages, MAP_SHARED);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		demo_fail("mmap of the shared counter: %s", strerror(errno));
	memset(sh, 0, sizeof(*sh));
	writer_pid = DEMO_TRY(fork());
	if (!writer_pid)
		writer(live, sh);
	demo_say("writer: pid %d; files in %s", (int)writer_pid, dir);

	demo_step("2. full backup: re-arm at write %zu, clone at write %zu, "
		  "copy every page", pages, pages + WINDOW);
	prev = snapshot_at(fd, sh, pages, bits, &written, 0);
	writer_release(sh, pages + writes);	/* it writes while we copy */
	demo_expect("pages WRITTEN before the full backup (all)", written,
		    pages);
	during = load(&sh->done);
	send_full(&prev);
	during = load(&sh->done) - during;
	model_advance(&m, pages + WINDOW);
	model_check(&m, prev.map, "snapshot 0");
	demo_say("Snapshot 0 holds exactly the first %zu writes; %zu pages "
		 "(%zu kB) sent.", pages + WINDOW, pages, pages * ps / 1024);
	demo_say("The writer went on meanwhile: %llu writes while the copy "
		 "was made.", (unsigned long long)during);

	for (k = 1; k <= increments; k++) {
		uint64_t r = pages + k * writes;
		int last = k == increments;
		char what[32];

		demo_step("%zu. increment %zu: re-arm at write %llu, clone at "
			  "write %llu%s", k + 2, k, (unsigned long long)r,
			  (unsigned long long)r + WINDOW,
			  last ? ", the writer stops there" : "");
		cur = snapshot_at(fd, sh, r, bits, &inc[k].written, last);
		if (!last)
			writer_release(sh, r + writes);
		inc[k].writes = writes;
		inc[k].diff = diff_snaps(&cur, &prev, diff);
		send_increment(&cur, k, bits, diff, &inc[k]);
		snap_close(&prev);
		model_advance(&m, r + WINDOW);
		snprintf(what, sizeof(what), "snapshot %zu", k);
		model_check(&m, cur.map, what);
		printf("    WRITTEN %lld, DIFF %lld: sent %lld pages (%lld "
		       "only WRITTEN named, %lld only DIFF)\n",
		       inc[k].written, inc[k].diff, inc[k].sent,
		       inc[k].written_only, inc[k].diff_only);
		check_increment(k, &inc[k]);
		prev = cur;
	}

	demo_step("%zu. the increments", increments + 3);
	print_table(inc);
	demo_say("WRITTEN-only: pages of the previous window (written "
		 "after the previous re-arm,");
	demo_say("before the previous clone): snapshot k-1 had them, they "
		 "are sent twice.");
	demo_say("DIFF-only: pages of this window: in snapshot k, but "
		 "WRITTEN names them only at");
	demo_say("the next re-arm.  WRITTEN alone sends them one increment "
		 "late, and the last");
	demo_say("window only in a pass after the writer stopped (CRIU's "
		 "final dump, the task");
	demo_say("frozen).  DIFF alone is exact, but the previous snapshot "
		 "must be kept until");
	demo_say("the next one: each page written meanwhile costs a COW "
		 "copy.");

	demo_step("%zu. the writer stopped: the object and the last snapshot",
		  increments + 4);
	st = demo_stats(fd);
	demo_expect("pages the object shares with the last snapshot",
		    st.shared_pages, pages);
	demo_expect("pool pages used (object + last snapshot)",
		    demo_used(fd) - used0, pages);
	demo_expect("WRITTEN calls with CLEAR on the object",
		    st.written_clears, increments + 1);
	DEMO_TRY(cowdev_written(fd, 0, pages, NULL, 0, &owed));
	demo_expect("pages WRITTEN since the last re-arm",
		    owed, distinct(pages + increments * writes,
				   pages + increments * writes + WINDOW));
	demo_say("The last window's pages: in the last snapshot and "
		 "increment (DIFF found");
	demo_say("them), WRITTEN alone would still owe them to the "
		 "backup.");

	demo_step("%zu. rebuild from the files: the full copy, then each "
		  "increment in order", increments + 5);
	buf = rebuild();
	DEMO_CHECK(!memcmp(buf, cur.map, pages * ps), "the rebuild differs "
		   "from the last snapshot");
	DEMO_CHECK(!memcmp(buf, live, pages * ps), "the rebuild differs "
		   "from the object");
	printf("    rebuild matches the last snapshot: %zu pages, byte for "
	       "byte\n", pages);
	free(buf);
	snap_close(&cur);
	munmap(live, pages * ps);
	close(fd);
	free(m.last);
	free(m.page);
	free(inc);
	free(bits);
	free(diff);
	cleanup();
	demo_done();
	return 0;
}
