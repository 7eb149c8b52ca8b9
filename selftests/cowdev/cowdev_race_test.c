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
	long long reserve;	/* zero_reserve to restore after, or -1 */
};

FIXTURE_SETUP(race)
{
	if (geteuid())
		SKIP_SETUP("delay injection is in debugfs: root only");
	if (access(DELAY_DIR "/clone/ms", W_OK))
		SKIP_SETUP("no " DELAY_DIR " (debugfs not mounted?)");
	self->ps = cowdev_page_size();
	self->point = NULL;
	self->reserve = -1;
}

FIXTURE_TEARDOWN(race)
{
	if (self->point) {
		delay_write(self->point, "ms", 0);
		delay_write(self->point, "pid", 0);
	}
	if (self->reserve >= 0)
		cowdev_attr_write(COWDEV_PARAM_DIR, "zero_reserve",
				  self->reserve);
}

/* A thread the test starts and holds in a window: its tid, its go. */
struct ready {
	_Atomic pid_t tid;
	_Atomic int go;
};

/* In a thread the test started: say which it is, then wait for the go. */
static void thread_ready(struct ready *rd)
{
	rd->tid = gettid_();
	while (!rd->go)
		usleep(1000);
}

/*
 * Hold @point open: once the thread waiting in thread_ready(@rd) is there,
 * make @point sleep 500 ms in it, let it go, and return once it sleeps
 * there.  0, or -1.
 */
static int hold_open(FIXTURE_DATA(race) *self, const char *point,
		     struct ready *rd)
{
	long long hits = delay_read(point, "hits");

	while (!rd->tid)
		usleep(1000);
	self->point = point;
	if (delay_write(point, "pid", rd->tid) || delay_write(point, "ms", 500))
		return -1;
	rd->go = 1;
	return wait_hits(point, hits + 1);
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
	struct ready rd;
	_Atomic int acted;
};

/*
 * Write the first byte of page 0 (->fault, then ->page_mkwrite, which
 * sleeps at mkwrite_locked with the page locked), then, once the test has
 * acted (a clone, a re-arm of write tracking), a byte further on through
 * the pte that fault made writable.
 */
static void *writer_main(void *arg)
{
	struct writer *w = arg;

	thread_ready(&w->rd);
	w->map[0] = 'A';
	while (!w->acted)
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
	ASSERT_EQ(0, hold_open(self, "mkwrite_locked", &w.rd));
	/* The writer is asleep inside the window: clone now. */
	c = cowdev_clone(fd);
	w.acted = 1;
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
	struct ready rd;
	char seen;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;

	thread_ready(&r->rd);
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
	pthread_t t;
	char *w;
	int fd;

	fd = cowdev_new_view(1, &w);
	ASSERT_LE(0, fd);
	r.map = cowdev_map_view(fd, 1, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, r.map);
	ASSERT_EQ(0, pthread_create(&t, NULL, reader_main, &r));
	ASSERT_EQ(0, hold_open(self, "zero_insert", &r.rd));
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

/*
 * A thread that touches one byte twice: a first access (a read, or with
 * @write a write of 'x') that the test holds open at a delay point, then,
 * once the test has acted, a read.  Each access reports its signal (0 or
 * SIGBUS) and what it read.  The first access runs again after its fault
 * returns; when the test's act zaps the new pte before that, the first
 * access faults again and already sees the act's result.
 */
struct toucher {
	char *page;
	int write;
	struct ready rd;
	_Atomic int acted;
	int first_sig, again;
	char first, second;
};

static void *toucher_main(void *arg)
{
	struct toucher *t = arg;

	thread_ready(&t->rd);
	if (t->write)
		t->first_sig = cowdev_try_write(t->page, 'x');
	else
		t->first_sig = cowdev_try_read(t->page, &t->first);
	while (!t->acted)
		usleep(1000);
	t->again = cowdev_try_read(t->page, &t->second);
	return NULL;
}

/*
 * Start @t, make its first access sleep @ms at @point, and return once it
 * sleeps there: the window is open.  0, or -1.
 */
static int toucher_hold(FIXTURE_DATA(race) *self, struct toucher *t,
			pthread_t *thread, const char *point)
{
	if (pthread_create(thread, NULL, toucher_main, t))
		return -1;
	if (hold_open(self, point, &t->rd)) {
		t->rd.go = t->acted = 1;
		pthread_join(*thread, NULL);
		return -1;
	}
	return 0;
}

/* The test has acted: let @t make its second access, and wait for it. */
static void toucher_finish(struct toucher *t, pthread_t thread)
{
	t->acted = 1;
	pthread_join(thread, NULL);
}

/*
 * @pages pages of view @fd, as @prot and @flags, alone in a fresh 2 MiB
 * region (no page table: a read fault goes to ->fault, fault-around has
 * nothing to map into) or, with @table, beside an anonymous page that gave
 * the region its page table (a read fault goes to ->map_pages first).
 * The reservation to unmap is *@rsv; NULL on failure.
 */
static char *map_alone(int fd, size_t pages, int prot, int flags, int table,
		       char **rsv)
{
	const size_t two_mib = 2UL << 20, ps = cowdev_page_size();
	char *area = cowdev_aligned_area(two_mib, two_mib, rsv);

	if (!area)
		return NULL;
	if (table) {
		if (mmap(area, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE |
			 MAP_ANONYMOUS | MAP_FIXED, -1, 0) != area)
			return NULL;
		area[0] = 1;
		area += ps;
	}
	if (mmap(area, pages * ps, prot, flags | MAP_FIXED, fd, 0) != area)
		return NULL;
	return area;
}

#define RSV_LEN	(4UL << 20)	/* cowdev_aligned_area(2 MiB, 2 MiB) */

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
	struct toucher r = { 0 };
	char *w, *rsv, *m;
	pthread_t t;
	int fd;

	fd = cowdev_new_view(2, &w);
	ASSERT_LE(0, fd);
	w[self->ps] = 'P';
	m = map_alone(fd, 2, PROT_READ, MAP_SHARED, 0, &rsv);
	ASSERT_NE(NULL, m);
	r.page = m + self->ps;
	ASSERT_EQ(0, toucher_hold(self, &r, &t, "fault_locked"));
	ASSERT_EQ(0, cowdev_set_size(fd, self->ps));
	toucher_finish(&r, t);
	/* The first read: the page, or SIGBUS if the zap beat its retry. */
	EXPECT_TRUE((!r.first_sig && r.first == 'P') || r.first_sig == SIGBUS)
		TH_LOG("first read: signal %d, '%c'", r.first_sig, r.first);
	EXPECT_EQ(SIGBUS, r.again);
	munmap(rsv, RSV_LEN);
	munmap(w, 2 * self->ps);
	close(fd);
}

/*
 * A MAP_PRIVATE write to a hole: ->fault returned the zero page locked for
 * core mm to copy, and the writer sleeps before the copy, while the view
 * shrinks to below the hole.  Shrink must wait on the zero page's lock
 * before it zaps (view.c; mutant no_shrink_zero_wait), or the private copy
 * installed after the zap survives past the end, where a read must get
 * SIGBUS (as after truncate).
 */
TEST_F(race, shrink_waits_for_a_private_copy_of_a_hole)
{
	struct toucher wr = { .write = 1 };
	pthread_t t;
	char *m;
	int fd;

	fd = cowdev_new_view(2, NULL);
	ASSERT_LE(0, fd);
	m = cowdev_map_view(fd, 2, PROT_READ | PROT_WRITE, MAP_PRIVATE, 0);
	ASSERT_NE(NULL, m);
	wr.page = m + self->ps;
	ASSERT_EQ(0, toucher_hold(self, &wr, &t, "fault_locked"));
	ASSERT_EQ(0, cowdev_set_size(fd, self->ps));
	toucher_finish(&wr, t);
	/* Done, or SIGBUS if the zap beat the store's retry. */
	EXPECT_TRUE(!wr.first_sig || wr.first_sig == SIGBUS)
		TH_LOG("first write: signal %d", wr.first_sig);
	EXPECT_EQ(SIGBUS, wr.again);
	EXPECT_EQ(0, cowdev_stats_of(fd).resident_pages);
	munmap(m, 2 * self->ps);
	close(fd);
}

struct shrinker {
	int fd;
	size_t size;
	struct ready rd;
	int ret;
};

static void *shrinker_main(void *arg)
{
	struct shrinker *s = arg;

	thread_ready(&s->rd);
	s->ret = cowdev_set_size(s->fd, s->size);
	return NULL;
}

/*
 * Fault-around runs without the view's lock: a read of page 0 maps its
 * resident neighbours while a shrink to one page has zapped page 1's ptes
 * but not yet dropped its slot (the shrink sleeps at shrink_zapped).
 * ->map_pages must check the size under the page lock (vm.c,
 * cowdev_map_one(); mutant no_fault_around_size_check), or it maps page 1
 * after the zap: a pte past the end, on a page about to go back to the
 * pool, where a read must get SIGBUS.
 */
TEST_F(race, fault_around_checks_the_size)
{
	struct shrinker sh = { .size = self->ps };
	char *w, *rsv, *m, c;
	pthread_t t;

	sh.fd = cowdev_new_view(2, &w);
	ASSERT_LE(0, sh.fd);
	w[0] = 'A';
	w[self->ps] = 'B';
	m = map_alone(sh.fd, 2, PROT_READ, MAP_SHARED, 1, &rsv);
	ASSERT_NE(NULL, m);
	ASSERT_EQ(0, pthread_create(&t, NULL, shrinker_main, &sh));
	ASSERT_EQ(0, hold_open(self, "shrink_zapped", &sh.rd));
	/* Fault-around from page 0 while page 1 is zapped, not dropped. */
	EXPECT_EQ('A', *(volatile char *)m);
	pthread_join(t, NULL);
	ASSERT_EQ(0, sh.ret);
	EXPECT_EQ(SIGBUS, cowdev_try_read(m + self->ps, &c));
	EXPECT_EQ(1, cowdev_stats_of(sh.fd).resident_pages);
	munmap(rsv, RSV_LEN);
	munmap(w, 2 * self->ps);
	close(sh.fd);
}

/*
 * A read fault on a page that a clone shares returned it locked (->fault)
 * and sleeps before core mm installs the pte, while another mapping of the
 * same view writes the page: ->page_mkwrite breaks the COW.  The break
 * must hold the old page's lock across "copy into the slot, zap" (vm.c,
 * cowdev_write_resident(); mutant no_cow_break_page_lock), or the reader's
 * pte, made after the zap, keeps showing the clone's page: the view's
 * own write never reaches it.
 */
TEST_F(race, cow_break_waits_for_a_page_being_mapped)
{
	struct toucher r = { 0 };
	char *w, *rsv, *m, *s;
	pthread_t t;
	int fd, c;

	fd = cowdev_new_view(1, &w);
	ASSERT_LE(0, fd);
	w[0] = 'P';
	c = cowdev_clone(fd);
	ASSERT_LE(0, c);
	/* A read-only pte here: the write below goes to ->page_mkwrite. */
	EXPECT_EQ('P', *(volatile char *)w);
	m = map_alone(fd, 1, PROT_READ, MAP_SHARED, 0, &rsv);
	ASSERT_NE(NULL, m);
	r.page = m;
	ASSERT_EQ(0, toucher_hold(self, &r, &t, "fault_locked"));
	w[0] = 'Q';
	toucher_finish(&r, t);
	/* The old byte, or the new one if the zap beat the load's retry. */
	EXPECT_EQ(0, r.first_sig);
	EXPECT_TRUE(r.first == 'P' || r.first == 'Q')
		TH_LOG("first read '%c'", r.first);
	EXPECT_EQ(0, r.again);
	EXPECT_EQ('Q', r.second);
	s = cowdev_map_view(c, 1, PROT_READ, MAP_SHARED, 0);
	ASSERT_NE(NULL, s);
	EXPECT_EQ('P', s[0]);
	EXPECT_EQ(1, cowdev_stats_of(fd).cow_copies);
	munmap(s, self->ps);
	munmap(rsv, RSV_LEN);
	munmap(w, self->ps);
	close(c);
	close(fd);
}

/*
 * A read fault on the view's page returned it locked (->fault) and sleeps
 * before core mm installs the pte, while the view is rolled back to a
 * snapshot that holds other data there.  The rollback must hold the old
 * page's lock across "change the slot, zap" (snap.c,
 * cowdev_rollback_replace(); mutant no_rollback_page_lock), or the reader's
 * pte, made after the zap, keeps showing the data rolled away.
 */
TEST_F(race, rollback_waits_for_a_page_being_mapped)
{
	struct toucher r = { 0 };
	char *w, *rsv, *m;
	pthread_t t;
	int fd, snap;

	fd = cowdev_new_view(1, &w);
	ASSERT_LE(0, fd);
	w[0] = 'O';
	snap = cowdev_clone(fd);
	ASSERT_LE(0, snap);
	w[0] = 'N';
	m = map_alone(fd, 1, PROT_READ, MAP_SHARED, 0, &rsv);
	ASSERT_NE(NULL, m);
	r.page = m;
	ASSERT_EQ(0, toucher_hold(self, &r, &t, "fault_locked"));
	ASSERT_EQ(0, cowdev_rollback(fd, snap));
	toucher_finish(&r, t);
	/* The old byte, or the new one if the zap beat the load's retry. */
	EXPECT_EQ(0, r.first_sig);
	EXPECT_TRUE(r.first == 'N' || r.first == 'O')
		TH_LOG("first read '%c'", r.first);
	EXPECT_EQ(0, r.again);
	EXPECT_EQ('O', r.second);
	EXPECT_EQ('O', *(volatile char *)w);
	munmap(rsv, RSV_LEN);
	munmap(w, self->ps);
	close(snap);
	close(fd);
}

/*
 * Write tracking re-armed (COWDEV_IOC_WRITTEN with CLEAR) while a write
 * fault holds the page it marked written and is about to make writable
 * (->page_mkwrite returned it locked).  The re-arm must wait for that
 * page before it zaps (snap.c, cowdev_written_range(); mutant
 * no_written_clear_page_wait), or the pte made after the zap stays
 * writable with the mark cleared, and the writer's next stores are never
 * reported: an incremental backup would miss them.
 */
TEST_F(race, written_clear_waits_for_a_page_being_made_writable)
{
	struct writer w = { .ps = self->ps };
	uint8_t bits = 0;
	pthread_t t;
	char *m;
	int fd;

	fd = cowdev_new_view(1, &m);
	ASSERT_LE(0, fd);
	m[0] = 'a';
	ASSERT_EQ(0, munmap(m, self->ps));
	ASSERT_EQ(0, cowdev_written(fd, 0, 1, &bits, COWDEV_WRITTEN_CLEAR,
				    NULL));
	EXPECT_EQ(1, bits);
	w.map = cowdev_map_view(fd, 1, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	ASSERT_NE(NULL, w.map);
	ASSERT_EQ(0, pthread_create(&t, NULL, writer_main, &w));
	ASSERT_EQ(0, hold_open(self, "mkwrite_locked", &w.rd));
	/* The page is marked, its pte not yet writable: re-arm now. */
	bits = 0;
	ASSERT_EQ(0, cowdev_written(fd, 0, 1, &bits, COWDEV_WRITTEN_CLEAR,
				    NULL));
	EXPECT_EQ(1, bits);
	w.acted = 1;
	pthread_join(t, NULL);
	/* The store made after the re-arm is reported. */
	bits = 0;
	ASSERT_EQ(0, cowdev_written(fd, 0, 1, &bits, 0, NULL));
	EXPECT_EQ(1, bits);
	EXPECT_EQ('B', w.map[100]);
	munmap(w.map, self->ps);
	close(fd);
}

/*
 * zero_reserve lowered while the zeroer clears a page it took.  Lowering
 * it trims the zeroed list to the new reserve, but cannot see the page
 * being cleared: putting that page must find the list full and leave it
 * among the unzeroed pages (pool.c, cowdev_zeroer_put(); mutant
 * no_zero_reserve_room_check), or the reserve ends a page above
 * zero_reserve.
 */
TEST_F(race, zero_reserve_lowered_while_a_page_is_cleared)
{
	pid_t zeroer = cowdev_kthread_pid("cowdev_zero");
	long long hits = delay_read("zero_clear", "hits");
	struct cowdev_pool_info pi;
	uint64_t zeroed;
	int fd, v, i;
	char *m;

	ASSERT_LT(0, zeroer);
	fd = cowdev_open();
	ASSERT_LE(0, fd);
	self->reserve = cowdev_attr_read(COWDEV_PARAM_DIR, "zero_reserve");
	ASSERT_EQ(0, cowdev_attr_write(COWDEV_PARAM_DIR, "zero_reserve", 64));
	ASSERT_EQ(0, cowdev_reserve_settle(10000));
	ASSERT_EQ(64, cowdev_pool_of(fd).zeroed_pages);
	self->point = "zero_clear";
	ASSERT_EQ(0, delay_write("zero_clear", "pid", zeroer));
	ASSERT_EQ(0, delay_write("zero_clear", "ms", 500));
	/* 8 first writes leave the reserve short by a batch: it wakes. */
	v = cowdev_new_view(8, &m);
	ASSERT_LE(0, v);
	for (i = 0; i < 8; i++)
		m[i * self->ps] = 'w';
	ASSERT_EQ(0, wait_hits("zero_clear", hits + 1));
	/* One page cleared and not yet put: lower the reserve to the rest. */
	zeroed = cowdev_pool_of(fd).zeroed_pages;
	ASSERT_EQ(0, cowdev_attr_write(COWDEV_PARAM_DIR, "zero_reserve", zeroed));
	ASSERT_EQ(0, delay_write("zero_clear", "ms", 0));
	ASSERT_EQ(0, cowdev_kthread_wait_idle(zeroer));
	pi = cowdev_pool_of(fd);
	EXPECT_EQ(zeroed, pi.zeroed_pages);
	EXPECT_EQ(hits + 1, delay_read("zero_clear", "hits"));
	munmap(m, 8 * self->ps);
	close(v);
	close(fd);
}

TEST_HARNESS_MAIN
