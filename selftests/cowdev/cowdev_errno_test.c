// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input to the ioctls (issue 5): each gets its errno and changes
 * nothing.  Unknown commands ENOTTY, bad pointers EFAULT, sizes over
 * max_object_pages EFBIG, struct sizes below the first version EINVAL and
 * above a page E2BIG; larger output structs are zero-filled past the
 * module's struct, larger input structs must have a zero tail (E2BIG
 * otherwise).  Also RESET_STATS and the pool invariants.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

#define NPAGES 8
#define KERNEL_ADDR ((void *)0xffffffff81000000UL)

/* Build COWDEV command @nr with direction @dir and argument size @size. */
#define CMD(dir, nr, size) _IOC(dir, COWDEV_IOC_MAGIC, nr, size)

FIXTURE(bad) {
	int fd;
	size_t ps;
	char *map;
	char *ro;		/* a read-only page */
	char *hole;		/* two pages, the second unmapped */
	struct cowdev_stats st0;
	struct cowdev_pool_info pi0;
};

FIXTURE_SETUP(bad)
{
	self->ps = cowdev_page_size();
	self->fd = cowdev_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, cowdev_set_size(self->fd, NPAGES * self->ps));
	self->map = mmap(NULL, NPAGES * self->ps, PROT_READ | PROT_WRITE,
			 MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	memset(self->map, 'k', 2 * self->ps);
	self->ro = mmap(NULL, self->ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	ASSERT_NE(MAP_FAILED, self->ro);
	self->hole = mmap(NULL, 2 * self->ps, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->hole);
	ASSERT_EQ(0, munmap(self->hole + self->ps, self->ps));
	ASSERT_EQ(0, cowdev_get_stats(self->fd, &self->st0));
	ASSERT_EQ(0, cowdev_pool_info(self->fd, &self->pi0));
}

FIXTURE_TEARDOWN(bad)
{
	munmap(self->map, NPAGES * self->ps);
	munmap(self->ro, self->ps);
	munmap(self->hole, self->ps);
	close(self->fd);
}

/* Nothing changed: size, data, event counters and the pool. */
static void unchanged(struct __test_metadata *_metadata,
		      FIXTURE_DATA(bad) *self)
{
	struct cowdev_stats st;
	struct cowdev_pool_info pi;
	uint64_t size;

	ASSERT_EQ(0, cowdev_get_size(self->fd, &size));
	EXPECT_EQ(NPAGES * self->ps, size);
	ASSERT_EQ(0, cowdev_get_stats(self->fd, &st));
	EXPECT_EQ(0, memcmp(&st, &self->st0, sizeof(st)));
	ASSERT_EQ(0, cowdev_pool_info(self->fd, &pi));
	EXPECT_EQ(self->pi0.used_pages, pi.used_pages);
	EXPECT_EQ(self->pi0.views, pi.views);
	EXPECT_EQ('k', self->map[self->ps]);
}

TEST_F(bad, unknown_commands_get_enotty)
{
	uint64_t v = 0;
	char buf[64] = { 0 };

	EXPECT_EQ(-ENOTTY, cowdev_xioctl(self->fd, CMD(_IOC_READ, 0x00, 8), buf));
	EXPECT_EQ(-ENOTTY, cowdev_xioctl(self->fd, CMD(_IOC_READ, 0x08, 8), buf));
	EXPECT_EQ(-ENOTTY, cowdev_xioctl(self->fd, CMD(_IOC_NONE, 0x7f, 0), NULL));
	/* The right number with the wrong direction. */
	EXPECT_EQ(-ENOTTY, cowdev_xioctl(self->fd, CMD(_IOC_READ, 0x01, 8), &v));
	EXPECT_EQ(-ENOTTY, cowdev_xioctl(self->fd, CMD(_IOC_WRITE, 0x02, 8), &v));
	EXPECT_EQ(-ENOTTY, cowdev_xioctl(self->fd, CMD(_IOC_WRITE, 0x03, 128), buf));
	/* No-argument commands with a size. */
	EXPECT_EQ(-ENOTTY, cowdev_xioctl(self->fd, CMD(_IOC_NONE, 0x04, 8), NULL));
	EXPECT_EQ(-ENOTTY, cowdev_xioctl(self->fd, CMD(_IOC_NONE, 0x06, 8), NULL));
	/* Another magic. */
	EXPECT_EQ(-ENOTTY, cowdev_xioctl(self->fd, _IOC(_IOC_READ, 'T', 0x03, 128),
				  buf));
	EXPECT_EQ(-ENOTTY, cowdev_xioctl(self->fd, TCGETS, buf));
	unchanged(_metadata, self);
}

TEST_F(bad, bad_pointers_get_efault)
{
	uint8_t *edge = (uint8_t *)self->hole + self->ps - 4;

	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE, NULL));
	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE,
				  self->hole + self->ps));
	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE, KERNEL_ADDR));
	/* A u64 straddling the end of the mapped page. */
	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE, edge));
	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, COWDEV_IOC_GET_SIZE, NULL));
	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, COWDEV_IOC_GET_SIZE, self->ro));
	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, COWDEV_IOC_GET_STATS, KERNEL_ADDR));
	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, COWDEV_IOC_GET_STATS, edge));
	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, COWDEV_IOC_POOL_INFO, self->ro));
	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, NULL));
	/* What GET_SIZE could write of a straddling u64 is not a result. */
	unchanged(_metadata, self);
}

TEST_F(bad, page_state_buffer_faults_write_nothing_outside)
{
	struct cowdev_page_state ps = { .start = 0, .count = 4 };
	uint8_t *edge = (uint8_t *)self->hole + self->ps - 2;

	ps.buf = (uintptr_t)self->ro;
	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, &ps));
	ps.buf = (uintptr_t)KERNEL_ADDR;
	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, &ps));
	ps.buf = (uintptr_t)(self->hole + self->ps);
	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, &ps));
	/* Straddling: the two bytes before the edge may hold states only. */
	memset(self->hole, 0x77, self->ps);
	ps.buf = (uintptr_t)edge;
	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, &ps));
	EXPECT_EQ(0x77, edge[-1]);
	unchanged(_metadata, self);
}

TEST_F(bad, page_state_ranges)
{
	struct cowdev_page_state ps = { 0 };
	uint8_t buf[NPAGES + 2];

	memset(buf, 0x33, sizeof(buf));
	ps.buf = (uintptr_t)(buf + 1);
	ps.count = NPAGES + 1;
	EXPECT_EQ(-EINVAL, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, &ps));
	ps.start = NPAGES;
	ps.count = 1;
	EXPECT_EQ(-EINVAL, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, &ps));
	ps.start = ~0ULL;
	ps.count = 2;
	EXPECT_EQ(-EINVAL, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, &ps));
	ps.start = 1;
	ps.count = ~0ULL;
	EXPECT_EQ(-EINVAL, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, &ps));
	ps.start = 0;
	ps.count = 1;
	ps.flags = 1;
	EXPECT_EQ(-EINVAL, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, &ps));
	for (size_t i = 0; i < sizeof(buf); i++)
		ASSERT_EQ(0x33, buf[i]);
	/* count 0 is fine and writes nothing; the exact range works. */
	ps.flags = 0;
	ps.count = 0;
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, &ps));
	EXPECT_EQ(0x33, buf[1]);
	ps.count = NPAGES;
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, &ps));
	EXPECT_EQ(COWDEV_PAGE_RESIDENT | COWDEV_PAGE_DIRTY, buf[1]);
	EXPECT_EQ(0, buf[NPAGES]);
	EXPECT_EQ(0x33, buf[0]);
	EXPECT_EQ(0x33, buf[NPAGES + 1]);
	unchanged(_metadata, self);
}

TEST_F(bad, sizes_over_max_object_pages_get_efbig)
{
	unsigned long max = cowdev_param("max_object_pages");
	uint64_t v;

	ASSERT_NE(0, max);
	v = (uint64_t)(max + 1) * self->ps;
	EXPECT_EQ(-EFBIG, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE, &v));
	v = (uint64_t)max * self->ps + 1;
	EXPECT_EQ(-EFBIG, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE, &v));
	v = ~0ULL;
	EXPECT_EQ(-EFBIG, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE, &v));
	v = ~0ULL - self->ps + 2;	/* rounds up past 2^64 */
	EXPECT_EQ(-EFBIG, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE, &v));
	unchanged(_metadata, self);
	/* The largest size is fine, and costs no page. */
	v = (uint64_t)max * self->ps;
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE, &v));
	v = NPAGES * self->ps;
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE, &v));
	unchanged(_metadata, self);
}

TEST_F(bad, struct_sizes_below_ver0_or_over_a_page)
{
	char buf[8192];

	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(-EINVAL, cowdev_xioctl(self->fd, CMD(_IOC_READ, 0x03,
					COWDEV_STATS_SIZE_VER0 - 8), buf));
	EXPECT_EQ(-EINVAL, cowdev_xioctl(self->fd, CMD(_IOC_READ, 0x05,
					COWDEV_POOL_INFO_SIZE_VER0 - 8), buf));
	EXPECT_EQ(-EINVAL, cowdev_xioctl(self->fd, CMD(_IOC_WRITE, 0x07,
					COWDEV_PAGE_STATE_SIZE_VER0 - 8), buf));
	EXPECT_EQ(-EINVAL, cowdev_xioctl(self->fd, CMD(_IOC_WRITE, 0x01, 4), buf));
	EXPECT_EQ(-EINVAL, cowdev_xioctl(self->fd, CMD(_IOC_READ, 0x02, 0), buf));
	EXPECT_EQ(-E2BIG, cowdev_xioctl(self->fd, CMD(_IOC_READ, 0x03, 4096 + 8),
				 buf));
	EXPECT_EQ(-E2BIG, cowdev_xioctl(self->fd, CMD(_IOC_WRITE, 0x01, 8000), buf));
	EXPECT_EQ(-E2BIG, cowdev_xioctl(self->fd, CMD(_IOC_WRITE, 0x07, 4104), buf));
	unchanged(_metadata, self);
}

/* Larger output structs: the module's fields, then zeroes. */
TEST_F(bad, larger_output_structs_are_zero_filled)
{
	struct cowdev_stats st;
	uint64_t big[64];
	size_t i, n = sizeof(st) / 8;

	memset(big, 0xff, sizeof(big));
	ASSERT_EQ(0, cowdev_xioctl(self->fd, CMD(_IOC_READ, 0x03, sizeof(big)), big));
	ASSERT_EQ(0, cowdev_get_stats(self->fd, &st));
	EXPECT_EQ(0, memcmp(big, &st, sizeof(st)));
	for (i = n; i < 64; i++)
		ASSERT_EQ(0, big[i]) TH_LOG("word %zu", i);
	memset(big, 0xff, sizeof(big));
	ASSERT_EQ(0, cowdev_xioctl(self->fd, CMD(_IOC_READ, 0x05, sizeof(big)), big));
	EXPECT_EQ(self->pi0.total_pages, big[0]);
	for (i = sizeof(struct cowdev_pool_info) / 8; i < 64; i++)
		ASSERT_EQ(0, big[i]);
	memset(big, 0xff, sizeof(big));
	ASSERT_EQ(0, cowdev_xioctl(self->fd, CMD(_IOC_READ, 0x02, 16), big));
	EXPECT_EQ(NPAGES * self->ps, big[0]);
	EXPECT_EQ(0, big[1]);
	/* An older, smaller caller gets its part only. */
	memset(big, 0xff, sizeof(big));
	ASSERT_EQ(0, cowdev_xioctl(self->fd, CMD(_IOC_READ, 0x03,
					COWDEV_STATS_SIZE_VER0), big));
	EXPECT_EQ(~0ULL, big[COWDEV_STATS_SIZE_VER0 / 8]);
}

/* Larger input structs: a zero tail is fine, anything else E2BIG. */
TEST_F(bad, larger_input_structs_need_a_zero_tail)
{
	uint64_t in[4] = { 3 * self->ps, 0, 0, 0 };
	uint8_t states[4];
	struct {
		struct cowdev_page_state ps;
		uint64_t extra[2];
	} big = { .ps = { .start = 0, .count = 2,
			  .buf = (uintptr_t)states } };

	in[3] = 1;
	EXPECT_EQ(-E2BIG, cowdev_xioctl(self->fd, CMD(_IOC_WRITE, 0x01, 32), in));
	big.extra[1] = 5;
	EXPECT_EQ(-E2BIG, cowdev_xioctl(self->fd, CMD(_IOC_WRITE, 0x07, sizeof(big)),
				 &big));
	unchanged(_metadata, self);
	big.extra[1] = 0;
	EXPECT_EQ(0, cowdev_xioctl(self->fd, CMD(_IOC_WRITE, 0x07, sizeof(big)),
			    &big));
	EXPECT_EQ(COWDEV_PAGE_RESIDENT | COWDEV_PAGE_DIRTY, states[1]);
	in[3] = 0;
	EXPECT_EQ(0, cowdev_xioctl(self->fd, CMD(_IOC_WRITE, 0x01, 32), in));
	EXPECT_EQ(3, ({ struct cowdev_stats s; cowdev_get_stats(self->fd, &s);
			s.size_pages; }));
}

/* A zero-filled struct is always a correct call. */
TEST_F(bad, zero_filled_structs_are_valid)
{
	struct cowdev_page_state ps = { 0 };
	struct cowdev_stats st = { 0 };
	struct cowdev_pool_info pi = { 0 };

	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, &ps));
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_GET_STATS, &st));
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_POOL_INFO, &pi));
	EXPECT_EQ(pi.total_pages, pi.free_pages + pi.used_pages + 1);
}

/* RESET_STATS zeroes the event counters, not the gauges. */
TEST_F(bad, reset_stats_keeps_the_gauges)
{
	struct cowdev_stats st;
	int c;

	c = cowdev_clone(self->fd);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, cowdev_reset_stats(self->fd));
	ASSERT_EQ(0, cowdev_get_stats(self->fd, &st));
	EXPECT_EQ(0, st.faults);
	EXPECT_EQ(0, st.demand_allocs);
	EXPECT_EQ(0, st.mkwrite);
	EXPECT_EQ(0, st.clones);
	EXPECT_EQ(2, st.resident_pages);
	EXPECT_EQ(2, st.shared_pages);
	EXPECT_EQ(NPAGES, st.size_pages);
	EXPECT_EQ(self->st0.view_id, st.view_id);
	close(c);
}

/* Pool invariants and the count of views. */
TEST_F(bad, pool_info_counts)
{
	struct cowdev_pool_info pi;
	int more;

	EXPECT_EQ(cowdev_param("pool_pages"), self->pi0.total_pages);
	EXPECT_EQ(self->pi0.total_pages,
		  self->pi0.free_pages + self->pi0.used_pages + 1);
	EXPECT_LE(self->pi0.used_pages, self->pi0.peak_used);
	more = cowdev_open();
	ASSERT_LE(0, more);
	ASSERT_EQ(0, cowdev_pool_info(self->fd, &pi));
	EXPECT_EQ(self->pi0.views + 1, pi.views);
	close(more);
	ASSERT_EQ(0, cowdev_pool_info(self->fd, &pi));
	EXPECT_EQ(self->pi0.views, pi.views);
}

TEST_HARNESS_MAIN
