// SPDX-License-Identifier: GPL-2.0
/*
 * demo2: mapping beyond the end.  An object's size starts at 0; mmap()
 * accepts any length, and an access to a page at or beyond the size gets
 * SIGBUS, exactly as a file mapped beyond its end does (ftruncate).  The
 * demo runs the same steps on a cowdev object (COWDEV_IOC_SET_SIZE) and on
 * a memfd (ftruncate) side by side and checks that every access gives the
 * same answer, that the module counts each SIGBUS, that shrinking gives the
 * pages beyond the end back to the pool, and that growing again shows
 * zeros.
 */
#include <sys/syscall.h>

#include "demo.h"

#define PAGES	8

struct obj {
	const char *name;
	int fd;
	int is_cowdev;
	volatile char *p;
};

static void set_size(struct obj *o, size_t bytes)
{
	if (o->is_cowdev)
		DEMO_TRY(cowdev_set_size(o->fd, bytes));
	else
		DEMO_TRY(ftruncate(o->fd, bytes));
}

static int sigbus_count;

/*
 * Access page @pg of both objects the same way; print and compare; return
 * the signal (0, SIGBUS).
 */
static int access_both(struct obj *o, size_t pg, int write, char val,
		       char *got)
{
	const size_t ps = demo_psize();
	int sig[2], i;
	char v[2] = { 0, 0 };

	for (i = 0; i < 2; i++)
		sig[i] = write ? cowdev_try_write(o[i].p + pg * ps, val) :
				 cowdev_try_read(o[i].p + pg * ps, &v[i]);
	printf("    %-5s page %zu:  cowdev %-6s  memfd %s", write ?
	       "write" : "read", pg, demo_sig_name(sig[0]),
	       demo_sig_name(sig[1]));
	if (!write && !sig[0])
		printf("%*s(read %d)", 8 - (int)strlen(demo_sig_name(sig[1])),
		       "", v[0]);
	printf("\n");
	DEMO_CHECK(sig[0] == sig[1], "page %zu: cowdev %s, memfd %s", pg,
		   demo_sig_name(sig[0]), demo_sig_name(sig[1]));
	DEMO_CHECK(sig[0] || write || v[0] == v[1],
		   "page %zu reads %d from cowdev, %d from the memfd", pg,
		   v[0], v[1]);
	if (sig[0] == SIGBUS)
		sigbus_count++;
	if (got)
		*got = v[0];
	return sig[0];
}

int main(void)
{
	const size_t ps = demo_psize();
	struct obj o[2] = {
		{ .name = "cowdev", .is_cowdev = 1 },
		{ .name = "memfd" },
	};
	struct cowdev_stats st;
	long long used0, used;
	uint64_t bytes;
	size_t pg;
	char v;
	int i;

	demo_name = "demo2_sigbus_past_end";
	demo_title("SIGBUS beyond the end, until the size is set");
	demo_say("A cowdev object and a memfd file, both of size 0, each "
		 "mapped %d pages", PAGES);
	demo_say("MAP_SHARED.  mmap() does not look at the size; the fault "
		 "handler does.");

	o[0].fd = demo_object(0);
	o[1].fd = DEMO_TRY(syscall(SYS_memfd_create, "demo2", 0));
	used0 = demo_used(o[0].fd);
	for (i = 0; i < 2; i++)
		o[i].p = demo_map(o[i].fd, PAGES, MAP_SHARED);

	demo_step("1. size 0: every access is beyond the end");
	access_both(o, 0, 0, 0, NULL);
	access_both(o, 0, 1, 'x', NULL);
	access_both(o, PAGES - 1, 0, 0, NULL);
	st = demo_stats(o[0].fd);
	demo_expect("SIGBUS deliveries", sigbus_count, 3);
	demo_expect("the module's sigbus counter", st.sigbus, 3);

	demo_step("2. set the size to 4 pages (ftruncate on the memfd)");
	for (i = 0; i < 2; i++)
		set_size(&o[i], 4 * ps);
	for (pg = 0; pg < 5; pg++)
		DEMO_CHECK(access_both(o, pg, 0, 0, NULL) ==
			   (pg < 4 ? 0 : SIGBUS), "page %zu", pg);
	for (pg = 0; pg < 4; pg++)
		access_both(o, pg, 1, 'a' + pg, NULL);
	DEMO_CHECK(access_both(o, 6, 1, 'z', NULL) == SIGBUS, "page 6");
	st = demo_stats(o[0].fd);
	demo_expect("the module's sigbus counter", st.sigbus, 5);
	demo_expect("pool pages used (4 pages written)",
		    demo_used(o[0].fd) - used0, 4);
	demo_say("Pages 0-3 are inside the size: reads give zeros (holes), "
		 "writes allocate.");

	demo_step("3. shrink to 5000 bytes: rounded up to 2 pages");
	for (i = 0; i < 2; i++)
		set_size(&o[i], 5000);
	DEMO_TRY(cowdev_get_size(o[0].fd, &bytes));
	demo_expect("COWDEV_IOC_GET_SIZE (bytes)", bytes, 2 * ps);
	access_both(o, 1, 0, 0, &v);
	demo_expect("page 1 keeps its data", v, 'b');
	for (pg = 2; pg < 4; pg++)
		DEMO_CHECK(access_both(o, pg, 0, 0, NULL) == SIGBUS,
			   "page %zu", pg);
	st = demo_stats(o[0].fd);
	demo_expect("the module's sigbus counter", st.sigbus, 7);
	used = demo_used(o[0].fd) - used0;
	demo_expect("pool pages used (pages 2-3 freed)", used, 2);
	demo_say("Shrinking unmapped pages 2-3 in every process and gave "
		 "their pool pages back,");
	demo_say("as truncate drops a file's page cache beyond the new end.");

	demo_step("4. grow back to 8 pages");
	for (i = 0; i < 2; i++)
		set_size(&o[i], PAGES * ps);
	for (pg = 0; pg < PAGES; pg++) {
		DEMO_CHECK(access_both(o, pg, 0, 0, &v) == 0, "page %zu", pg);
		DEMO_CHECK(v == (pg < 2 ? 'a' + (char)pg : 0),
			   "page %zu reads %d", pg, v);
	}
	st = demo_stats(o[0].fd);
	demo_expect("the module's sigbus counter", st.sigbus, 7);
	demo_expect("pool pages used", demo_used(o[0].fd) - used0, 2);
	demo_say("Pages 2-3 come back as holes: their old data is gone, "
		 "they read as zeros.");
	demo_expect("SIGBUS deliveries in total, each counted once",
		    sigbus_count, 7);

	for (i = 0; i < 2; i++) {
		munmap((void *)o[i].p, PAGES * ps);
		close(o[i].fd);
	}
	demo_done();
	return 0;
}
