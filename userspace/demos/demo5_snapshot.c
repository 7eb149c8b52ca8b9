// SPDX-License-Identifier: GPL-2.0
/*
 * demo5: a background snapshot.  The parent fills a 256-page object, takes
 * a clone (COWDEV_IOC_CLONE: a point-in-time snapshot, no data copied) and
 * forks a child that saves the clone to a file while the parent keeps
 * rewriting a quarter of its pages.  This is what a database's background
 * save does with fork(); here the copy-on-write is the module's.
 *
 * The claims it checks: the clone costs no pool page; the child saves the
 * data as it was at the clone, page for page, however the parent's writes
 * interleave with its reads; each page the parent writes while the clone
 * shares it costs exactly one copy (cow_copies, one pool page), a second
 * write to it costs nothing; when the clone goes away the old versions
 * return to the pool; and a page that was shared but no longer is, is
 * written in place (cow_reuses).
 */
#include <time.h>
#include <sys/wait.h>

#include "demo.h"

#define PAGES	256
#define STRIDE	4		/* the parent rewrites every 4th page */
#define WRITTEN	(PAGES / STRIDE)

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void stamp(char *page, int gen, int i)
{
	memset(page, 'a' + (gen * 7 + i) % 26, demo_psize());
	snprintf(page, 32, "gen %d page %d", gen, i);
}

static int check_stamp(const char *page, int gen, int i)
{
	char want[32];
	size_t k;

	snprintf(want, sizeof(want), "gen %d page %d", gen, i);
	if (strcmp(page, want))
		return 0;
	for (k = 32; k < demo_psize(); k++)
		if (page[k] != 'a' + (gen * 7 + i) % 26)
			return 0;
	return 1;
}

/* The child: save the clone to a temporary file, slowly, checking it. */
static void saver(int cfd, int to_parent, int from_parent)
{
	const size_t ps = demo_psize();
	struct cowdev_stats st;
	char msg[64], *c;
	FILE *out;
	int i;

	demo_name = "demo5_snapshot (child)";
	c = mmap(NULL, PAGES * ps, PROT_READ, MAP_SHARED, cfd, 0);
	if (c == MAP_FAILED)
		demo_fail("mmap of the clone: %s", strerror(errno));
	out = tmpfile();
	if (!out)
		out = fopen("/dev/null", "w");
	if (!out)
		demo_fail("no file to save to: %s", strerror(errno));
	demo_send(to_parent, "started");
	for (i = 0; i < PAGES; i++) {
		if (!check_stamp(c + i * ps, 1, i))
			demo_fail("snapshot page %d is \"%.20s\", not "
				  "generation 1", i, c + i * ps);
		if (fwrite(c + i * ps, ps, 1, out) != 1)
			demo_fail("saving: %s", strerror(errno));
		if (i % 32 == 31)
			usleep(2000);
	}
	fflush(out);
	printf("    child: saved %d pages (%zu kB), every one as it was at "
	       "the clone\n", PAGES, PAGES * ps / 1024);
	demo_recv(from_parent, msg, sizeof(msg));
	DEMO_TRY(cowdev_get_stats(cfd, &st));
	snprintf(msg, sizeof(msg), "%llu %llu %llu",
		 (unsigned long long)st.cow_copies,
		 (unsigned long long)st.resident_pages,
		 (unsigned long long)st.shared_pages);
	demo_send(to_parent, msg);
	fclose(out);
	exit(0);
}

int main(void)
{
	const size_t ps = demo_psize();
	unsigned long long c_copies, c_res, c_shared;
	int fd, cfd, i, status, to_parent[2], to_child[2];
	double t0, t_copy, t_place;
	struct cowdev_stats st;
	long long used0, used1;
	char msg[64], *p;
	pid_t pid;

	demo_name = "demo5_snapshot";
	setvbuf(stdout, NULL, _IOLBF, 0);
	demo_title("background snapshot: a child saves a clone while the "
		   "parent writes");

	demo_step("the parent fills a %d-page object (generation 1)",
		  PAGES);
	fd = demo_object(PAGES);
	used0 = demo_used(fd);
	p = demo_map(fd, PAGES, MAP_SHARED);
	for (i = 0; i < PAGES; i++)
		stamp(p + i * ps, 1, i);
	demo_expect("pool pages used", demo_used(fd) - used0, PAGES);

	demo_step("clone it (the snapshot) and fork the saver");
	cfd = DEMO_TRY(cowdev_clone(fd));
	used1 = demo_used(fd);
	st = demo_stats(fd);
	demo_expect("pool pages the clone took", used1 - used0 - PAGES, 0);
	demo_expect("pages the object shares with the clone",
		    st.shared_pages, PAGES);
	DEMO_TRY(pipe(to_parent));
	DEMO_TRY(pipe(to_child));
	pid = DEMO_TRY(fork());
	if (!pid)
		saver(cfd, to_parent[1], to_child[0]);
	close(cfd);	/* the child holds the snapshot now */
	demo_recv(to_parent[0], msg, sizeof(msg));

	demo_step("while the child saves, the parent rewrites every %dth "
		  "page (generation 2)", STRIDE);
	t0 = now_us();
	for (i = 0; i < PAGES; i += STRIDE)
		stamp(p + i * ps, 2, i);
	t_copy = now_us() - t0;
	t0 = now_us();
	for (i = 0; i < PAGES; i += STRIDE)
		stamp(p + i * ps, 2, i);
	t_place = now_us() - t0;
	st = demo_stats(fd);
	demo_expect("COW copies (one per page written)", st.cow_copies,
		    WRITTEN);
	demo_expect("pool pages used by object + clone",
		    demo_used(fd) - used0, PAGES + WRITTEN);
	demo_expect("pages still shared with the clone", st.shared_pages,
		    PAGES - WRITTEN);
	printf("    %d first writes (each a copy): %.0f us; the same "
	       "writes again (in place): %.0f us\n", WRITTEN, t_copy,
	       t_place);
	demo_say("The clone zapped the parent's ptes, so each first write "
		 "faulted, and");
	demo_say("->page_mkwrite found the page shared: it copied it for "
		 "the parent and the");
	demo_say("clone kept the old one.  The second round wrote the "
		 "parent's own copies.");
	demo_send(to_child[1], "done");

	demo_recv(to_parent[0], msg, sizeof(msg));
	if (sscanf(msg, "%llu %llu %llu", &c_copies, &c_res, &c_shared) != 3)
		demo_fail("bad report from the child: %s", msg);
	demo_step("what the clone saw");
	demo_expect("clone: COW copies (it never wrote)", c_copies, 0);
	demo_expect("clone: resident pages", c_res, PAGES);
	demo_expect("clone: pages shared with the object", c_shared,
		    PAGES - WRITTEN);
	DEMO_TRY(waitpid(pid, &status, 0));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		demo_fail("the saver failed");

	demo_step("the saver exited: the snapshot is gone");
	st = demo_stats(fd);
	demo_expect("pool pages used (the old versions returned)",
		    demo_used(fd) - used0, PAGES);
	demo_expect("pages shared", st.shared_pages, 0);
	stamp(p + 1 * ps, 3, 1);
	st = demo_stats(fd);
	demo_expect("writing page 1 (shared until now): reuses",
		    st.cow_reuses, 1);
	demo_expect("... and no copy", st.cow_copies, WRITTEN);
	demo_expect("pool pages used", demo_used(fd) - used0, PAGES);
	demo_say("The snapshot cost %d page copies, a quarter of the "
		 "object: only what the", WRITTEN);
	demo_say("parent wrote while the snapshot lived, never the whole "
		 "object.");
	munmap(p, PAGES * ps);
	close(fd);
	demo_done();
	return 0;
}
