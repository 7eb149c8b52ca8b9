// SPDX-License-Identifier: GPL-2.0
/*
 * Race windows held open on purpose with delay injection
 * (/sys/kernel/debug/cowdev/delay/<point>/{ms,pid,hits}): a thread sleeps
 * inside the window and the test acts while it is there, so that each test
 * fails every time the fix of its window is left out (scripts/check-mutants
 * builds those modules and expects these tests to fail).  Root only.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

#define DELAY_DIR "/sys/kernel/debug/cowdev/delay"

static int delay_write(const char *point, const char *attr, long long val)
{
	char dir[128];

	snprintf(dir, sizeof(dir), DELAY_DIR "/%s", point);
	return cowdev_attr_write(dir, attr, val);
}

static long long delay_read(const char *point, const char *attr)
{
	char dir[128];

	snprintf(dir, sizeof(dir), DELAY_DIR "/%s", point);
	return cowdev_attr_read(dir, attr);
}

/* Wait until @point has slept @hits times in all; 0, or -1 after 30 s. */
static int wait_hits(const char *point, long long hits)
{
	double end = cowdev_now() + 30;

	while (delay_read(point, "hits") < hits)
		if (cowdev_now() > end)
			return -1;
		else
			usleep(1000);
	return 0;
}

static pid_t gettid_(void)
{
	return syscall(SYS_gettid);
}

FIXTURE(race) {
	size_t ps;
	const char *point;	/* the point the test set, reset after */
};

FIXTURE_SETUP(race)
{
	if (geteuid())
		SKIP_SETUP("delay injection is in debugfs: root only");
	if (access(DELAY_DIR "/clone/ms", W_OK))
		SKIP_SETUP("no " DELAY_DIR " (debugfs not mounted?)");
	self->ps = cowdev_page_size();
	self->point = NULL;
}

FIXTURE_TEARDOWN(race)
{
	if (self->point) {
		delay_write(self->point, "ms", 0);
		delay_write(self->point, "pid", 0);
	}
}

/* A point sleeps in the thread it names, and only there. */
TEST_F(race, delay_point_holds_its_thread)
{
	long long hits = delay_read("clone", "hits");
	double t0;
	int fd = cowdev_new_view(1, NULL), c;

	ASSERT_LE(0, fd);
	self->point = "clone";
	ASSERT_EQ(0, delay_write("clone", "pid", gettid_()));
	ASSERT_EQ(0, delay_write("clone", "ms", 300));
	t0 = cowdev_now();
	c = cowdev_clone(fd);
	ASSERT_LE(0, c);
	EXPECT_LE(0.3, cowdev_now() - t0);
	EXPECT_EQ(hits + 1, delay_read("clone", "hits"));
	close(c);
	/* Another thread id: no sleep here. */
	ASSERT_EQ(0, delay_write("clone", "pid", gettid_() + 1));
	c = cowdev_clone(fd);
	ASSERT_LE(0, c);
	EXPECT_EQ(hits + 1, delay_read("clone", "hits"));
	close(c);
	close(fd);
}

struct writer {
	char *map;		/* the view, mapped afresh: no pte yet */
	size_t ps;
	_Atomic pid_t tid;
	_Atomic int go, cloned;
};

/*
 * Write the first byte of page 0 (->fault, then ->page_mkwrite, which
 * sleeps at mkwrite_locked with the page locked), then, once the clone is
 * made, a byte further on through the pte that fault made writable.
 */
static void *writer_main(void *arg)
{
	struct writer *w = arg;

	w->tid = gettid_();
	while (!w->go)
		usleep(1000);
	w->map[0] = 'A';
	while (!w->cloned)
		usleep(1000);
	w->map[100] = 'B';
	return NULL;
}

/*
 * Clone while a write fault holds a page it decided to make writable
 * (->page_mkwrite returned it locked; core mm has not installed the pte):
 * clone must wait for that page's lock before it zaps, or the pte made
 * after the zap stays writable on a page the clone now shares, and the
 * writer's next store lands in the snapshot.  The fix: clone locks and
 * unlocks every page first (cow.c; mutant no_clone_page_wait).
 */
TEST_F(race, clone_waits_for_a_page_being_made_writable)
{
	struct writer w = { .ps = self->ps };
	long long hits = delay_read("mkwrite_locked", "hits");
	pthread_t t;
	char *m, *s;
	int fd, c;

	fd = cowdev_new_view(1, &m);
	ASSERT_LE(0, fd);
	memset(m, 0x11, self->ps);
	ASSERT_EQ(0, munmap(m, self->ps));
	w.map = cowdev_map_view(fd, 1, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	ASSERT_NE(NULL, w.map);
	ASSERT_EQ(0, pthread_create(&t, NULL, writer_main, &w));
	while (!w.tid)
		usleep(1000);
	self->point = "mkwrite_locked";
	ASSERT_EQ(0, delay_write("mkwrite_locked", "pid", w.tid));
	ASSERT_EQ(0, delay_write("mkwrite_locked", "ms", 500));
	w.go = 1;
	/* The writer is asleep inside the window: clone now. */
	ASSERT_EQ(0, wait_hits("mkwrite_locked", hits + 1));
	c = cowdev_clone(fd);
	w.cloned = 1;
	pthread_join(t, NULL);
	ASSERT_LE(0, c);
	s = cowdev_map_view(c, 1, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, s);
	/* The store made after the clone is the source's alone. */
	EXPECT_EQ(0x11, s[100]);
	EXPECT_EQ('B', w.map[100]);
	EXPECT_EQ(1, cowdev_stats_of(fd).cow_copies);
	munmap(s, self->ps);
	munmap(w.map, self->ps);
	close(c);
	close(fd);
}

struct reader {
	const char *map;	/* the view's hole, mapped afresh */
	_Atomic pid_t tid;
	_Atomic int go;
	char seen;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;

	r->tid = gettid_();
	while (!r->go)
		usleep(1000);
	r->seen = *(volatile const char *)r->map;
	return NULL;
}

/*
 * A read of a hole that decided on the zero page sleeps before it installs
 * the pte, while a writer fills the hole and zaps the index (finding no
 * pte yet).  The reader must look at the slot again after its pte is in
 * and zap it (vm.c, cowdev_map_zero(); mutant no_zero_recheck), or its
 * zero-page pte stays and it reads zeros over the written page for good.
 */
TEST_F(race, hole_reader_looks_again_after_the_zero_page)
{
	struct reader r = { 0 };
	long long hits = delay_read("zero_insert", "hits");
	pthread_t t;
	char *w;
	int fd;

	fd = cowdev_new_view(1, &w);
	ASSERT_LE(0, fd);
	r.map = cowdev_map_view(fd, 1, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, r.map);
	ASSERT_EQ(0, pthread_create(&t, NULL, reader_main, &r));
	while (!r.tid)
		usleep(1000);
	self->point = "zero_insert";
	ASSERT_EQ(0, delay_write("zero_insert", "pid", r.tid));
	ASSERT_EQ(0, delay_write("zero_insert", "ms", 500));
	r.go = 1;
	ASSERT_EQ(0, wait_hits("zero_insert", hits + 1));
	/* Fill the hole while the reader sleeps before its zero pte. */
	w[0] = 'Z';
	pthread_join(t, NULL);
	EXPECT_EQ('Z', r.seen);
	EXPECT_EQ('Z', *(volatile const char *)r.map);
	EXPECT_EQ(1, cowdev_stats_of(fd).demand_allocs);
	munmap((void *)r.map, self->ps);
	munmap(w, self->ps);
	close(fd);
}

struct far_reader {
	const char *page;	/* page 1 of the view, in a fresh page table */
	_Atomic pid_t tid;
	_Atomic int go, shrunk;
	char first;
	int again;		/* the second read: 0, or its signal */
};

static void *far_reader_main(void *arg)
{
	struct far_reader *r = arg;
	char c;

	r->tid = gettid_();
	while (!r->go)
		usleep(1000);
	r->first = *(volatile const char *)r->page;
	while (!r->shrunk)
		usleep(1000);
	r->again = cowdev_try_read(r->page, &c);
	return NULL;
}

/*
 * A read fault on page 1 returned it locked (->fault: fault-around has no
 * page table to map into, the mapping is alone in its 2 MiB) and sleeps
 * before core mm installs the pte, while the view shrinks to one page.
 * Shrink must wait for the page before it zaps (view.c; mutant
 * no_shrink_page_wait), or the reader keeps a pte past the end and its
 * next read finds the dropped page instead of SIGBUS.
 */
TEST_F(race, shrink_waits_for_a_page_being_mapped)
{
	const size_t two_mib = 2UL << 20;
	struct far_reader r = { 0 };
	long long hits = delay_read("fault_locked", "hits");
	char *w, *rsv, *area;
	pthread_t t;
	int fd;

	fd = cowdev_new_view(2, &w);
	ASSERT_LE(0, fd);
	w[self->ps] = 'P';
	area = cowdev_aligned_area(two_mib, two_mib, &rsv);
	ASSERT_NE(NULL, area);
	ASSERT_EQ(area, mmap(area, 2 * self->ps, PROT_READ,
			     MAP_SHARED | MAP_FIXED, fd, 0));
	r.page = area + self->ps;
	ASSERT_EQ(0, pthread_create(&t, NULL, far_reader_main, &r));
	while (!r.tid)
		usleep(1000);
	self->point = "fault_locked";
	ASSERT_EQ(0, delay_write("fault_locked", "pid", r.tid));
	ASSERT_EQ(0, delay_write("fault_locked", "ms", 500));
	r.go = 1;
	ASSERT_EQ(0, wait_hits("fault_locked", hits + 1));
	ASSERT_EQ(0, cowdev_set_size(fd, self->ps));
	r.shrunk = 1;
	pthread_join(t, NULL);
	EXPECT_EQ('P', r.first);
	EXPECT_EQ(SIGBUS, r.again);
	munmap(rsv, 2 * two_mib);
	munmap(w, 2 * self->ps);
	close(fd);
}

TEST_HARNESS_MAIN
