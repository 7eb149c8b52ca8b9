// SPDX-License-Identifier: GPL-2.0
/*
 * The cowdev uapi (uapi/linux/cowdev.h): every bad input gets its
 * errno and changes nothing (size, data, the view's counters, the pool, the
 * fd table), and the extensible-struct rules hold:
 *  - unknown command, wrong direction, wrong magic, size on a no-argument
 *    command: ENOTTY;
 *  - bad pointers (NULL, unmapped, straddling, read-only for an output, a
 *    kernel address, a non-canonical one): EFAULT;
 *  - SET_SIZE over max_object_pages: EFBIG;
 *  - struct size below *_SIZE_VER0: EINVAL, above 4096: E2BIG;
 *  - larger output structs are zero-filled past the module's struct, and
 *    nothing past the caller's size is written; larger input structs need
 *    a zero tail (else E2BIG);
 *  - PAGE_STATE: flags, ranges, overflow, count 0, guard bytes;
 *  - DIFF, ROLLBACK and WRITTEN (the snapshot commands): their directions,
 *    sizes and tails, bad pointers, read-only input, a struct written back
 *    into read-only memory (EFAULT and not counted);
 * and the pool and lifetime rules: RESET_STATS keeps gauges, the pool
 * invariant, live view counting, no leak once every fd and mapping is gone,
 * and rmmod refused while a view lives (fd, clone or mapping alone).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cowdev_test.h"

#define NPAGES 8
#define KERNEL_ADDR ((void *)0xffffffff81000000UL)
#define NONCANON_ADDR ((void *)0x8000000000000000UL)

/* Command @nr of cowdev with direction @dir and argument size @size. */
#define CMD(dir, nr, size) _IOC(dir, COWDEV_IOC_MAGIC, nr, size)
#define R _IOC_READ
#define W _IOC_WRITE
#define RW (_IOC_READ | _IOC_WRITE)
#define NONE _IOC_NONE

#define NR_SET_SIZE	_IOC_NR(COWDEV_IOC_SET_SIZE)
#define NR_GET_SIZE	_IOC_NR(COWDEV_IOC_GET_SIZE)
#define NR_GET_STATS	_IOC_NR(COWDEV_IOC_GET_STATS)
#define NR_RESET_STATS	_IOC_NR(COWDEV_IOC_RESET_STATS)
#define NR_POOL_INFO	_IOC_NR(COWDEV_IOC_POOL_INFO)
#define NR_CLONE	_IOC_NR(COWDEV_IOC_CLONE)
#define NR_PAGE_STATE	_IOC_NR(COWDEV_IOC_PAGE_STATE)
#define NR_SWAPON	_IOC_NR(COWDEV_IOC_SWAPON)
#define NR_SWAPOFF	_IOC_NR(COWDEV_IOC_SWAPOFF)
#define NR_SET_RESIDENT_LIMIT _IOC_NR(COWDEV_IOC_SET_RESIDENT_LIMIT)
#define NR_DIFF		_IOC_NR(COWDEV_IOC_DIFF)
#define NR_ROLLBACK	_IOC_NR(COWDEV_IOC_ROLLBACK)
#define NR_WRITTEN	_IOC_NR(COWDEV_IOC_WRITTEN)

/* The lowest free fd number: a leaked fd would change it. */
static int next_fd(void)
{
	int fd = open("/dev/null", O_RDONLY);

	if (fd >= 0)
		close(fd);
	return fd;
}

static int rmmod_refused(void)
{
	errno = 0;
	if (syscall(SYS_delete_module, "cowdev", O_NONBLOCK) == 0)
		return 0;
	return errno == EBUSY || errno == EWOULDBLOCK;
}

FIXTURE(u) {
	int fd;
	size_t ps;
	char *map;		/* NPAGES, MAP_SHARED; pages 0, 1 written */
	char *ro;		/* a read-only page */
	char *edge;		/* one mapped page; the next one is unmapped */
	struct cowdev_stats st0;
	struct cowdev_pool_info pi0;
	int fd0;		/* next_fd() after setup */
};

FIXTURE_SETUP(u)
{
	self->ps = cowdev_page_size();
	self->fd = cowdev_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, cowdev_set_size(self->fd, NPAGES * self->ps));
	self->map = mmap(NULL, NPAGES * self->ps, PROT_READ | PROT_WRITE,
			 MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	memset(self->map, 'k', 2 * self->ps);
	ASSERT_EQ(0, self->map[2 * self->ps]);
	self->ro = mmap(NULL, self->ps, PROT_READ,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->ro);
	self->edge = mmap(NULL, 2 * self->ps, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->edge);
	ASSERT_EQ(0, munmap(self->edge + self->ps, self->ps));
	ASSERT_EQ(0, cowdev_get_stats(self->fd, &self->st0));
	ASSERT_EQ(0, cowdev_pool_info(self->fd, &self->pi0));
	self->fd0 = next_fd();
}

FIXTURE_TEARDOWN(u)
{
	munmap(self->map, NPAGES * self->ps);
	munmap(self->ro, self->ps);
	munmap(self->edge, self->ps);
	close(self->fd);
}

/*
 * Nothing changed since setup: size, every stats field, the pool's
 * counters, the data, the fd table.
 */
static void unchanged(struct __test_metadata *_metadata,
		      FIXTURE_DATA(u) *self)
{
	struct cowdev_pool_info pi;
	struct cowdev_stats st;
	uint64_t size = 0;
	size_t i;

	ASSERT_EQ(0, cowdev_get_size(self->fd, &size));
	EXPECT_EQ(NPAGES * self->ps, size);
	ASSERT_EQ(0, cowdev_get_stats(self->fd, &st));
	EXPECT_EQ(0, memcmp(&st, &self->st0, sizeof(st)))
		TH_LOG("stats changed: faults %llu sigbus %llu size %llu",
		       (unsigned long long)st.faults,
		       (unsigned long long)st.sigbus,
		       (unsigned long long)st.size_pages);
	ASSERT_EQ(0, cowdev_pool_info(self->fd, &pi));
	EXPECT_EQ(self->pi0.used_pages, pi.used_pages);
	EXPECT_EQ(self->pi0.free_pages, pi.free_pages);
	EXPECT_EQ(self->pi0.views, pi.views);
	EXPECT_EQ(self->pi0.allocs, pi.allocs);
	EXPECT_EQ(self->pi0.frees, pi.frees);
	EXPECT_EQ(self->pi0.alloc_failures, pi.alloc_failures);
	for (i = 0; i < 2 * self->ps; i++)
		if (self->map[i] != 'k')
			break;
	EXPECT_EQ(2 * self->ps, i);
	EXPECT_EQ(self->fd0, next_fd());
}

/*
 * ENOTTY: numbers the module does not have, known numbers with any other
 * direction, no-argument commands with a size, another magic with a
 * known number, direction and size.
 */
TEST_F(u, unknown_commands_get_enotty)
{
	static const struct {
		unsigned int nr, dir, size;
	} wrong[] = {
		/* unknown numbers */
		{ 0x00, NONE, 0 }, { 0x00, R, 8 }, { 0x0e, R, 8 },
		{ 0x0e, W, 8 }, { 0x0e, NONE, 0 }, { 0x0e, RW, 64 },
		{ 0x0f, RW, 40 }, { 0x10, RW, 136 },
		{ 0x7f, NONE, 0 }, { 0xff, R, 8 },
		/* SET_SIZE is W */
		{ NR_SET_SIZE, R, 8 }, { NR_SET_SIZE, RW, 8 },
		{ NR_SET_SIZE, NONE, 0 }, { NR_SET_SIZE, NONE, 8 },
		/* GET_SIZE is R */
		{ NR_GET_SIZE, W, 8 }, { NR_GET_SIZE, RW, 8 },
		{ NR_GET_SIZE, NONE, 0 },
		/* GET_STATS is R */
		{ NR_GET_STATS, W, sizeof(struct cowdev_stats) },
		{ NR_GET_STATS, W, COWDEV_STATS_SIZE_VER0 },
		{ NR_GET_STATS, RW, sizeof(struct cowdev_stats) },
		{ NR_GET_STATS, NONE, 0 },
		/* RESET_STATS is NONE, without a size */
		{ NR_RESET_STATS, R, 8 }, { NR_RESET_STATS, W, 8 },
		{ NR_RESET_STATS, RW, 8 }, { NR_RESET_STATS, NONE, 8 },
		{ NR_RESET_STATS, NONE, 1 },
		/* POOL_INFO is R */
		{ NR_POOL_INFO, W, sizeof(struct cowdev_pool_info) },
		{ NR_POOL_INFO, RW, sizeof(struct cowdev_pool_info) },
		{ NR_POOL_INFO, NONE, 0 },
		/* CLONE is NONE, without a size */
		{ NR_CLONE, R, 4 }, { NR_CLONE, W, 4 }, { NR_CLONE, RW, 4 },
		{ NR_CLONE, NONE, 4 }, { NR_CLONE, NONE, 8 },
		/* PAGE_STATE is W */
		{ NR_PAGE_STATE, R, sizeof(struct cowdev_page_state) },
		{ NR_PAGE_STATE, RW, sizeof(struct cowdev_page_state) },
		{ NR_PAGE_STATE, NONE, 0 },
		/* SWAPON is W */
		{ NR_SWAPON, R, sizeof(struct cowdev_swapon) },
		{ NR_SWAPON, RW, sizeof(struct cowdev_swapon) },
		{ NR_SWAPON, NONE, 0 },
		/* SWAPOFF is NONE, without a size */
		{ NR_SWAPOFF, R, 8 }, { NR_SWAPOFF, W, 8 },
		{ NR_SWAPOFF, NONE, 4 },
		/* SET_RESIDENT_LIMIT is W */
		{ NR_SET_RESIDENT_LIMIT, R, 8 }, { NR_SET_RESIDENT_LIMIT, RW, 8 },
		{ NR_SET_RESIDENT_LIMIT, NONE, 0 },
		/* DIFF is RW */
		{ NR_DIFF, R, COWDEV_DIFF_SIZE_VER0 },
		{ NR_DIFF, W, COWDEV_DIFF_SIZE_VER0 },
		{ NR_DIFF, R, 8 }, { NR_DIFF, W, 8 },
		{ NR_DIFF, NONE, 0 }, { NR_DIFF, NONE, COWDEV_DIFF_SIZE_VER0 },
		/* ROLLBACK is W */
		{ NR_ROLLBACK, R, COWDEV_ROLLBACK_SIZE_VER0 },
		{ NR_ROLLBACK, RW, COWDEV_ROLLBACK_SIZE_VER0 },
		{ NR_ROLLBACK, NONE, 0 }, { NR_ROLLBACK, NONE, 8 },
		/* WRITTEN is RW */
		{ NR_WRITTEN, R, COWDEV_WRITTEN_SIZE_VER0 },
		{ NR_WRITTEN, W, COWDEV_WRITTEN_SIZE_VER0 },
		{ NR_WRITTEN, NONE, 0 }, { NR_WRITTEN, NONE, 40 },
	};
	static const unsigned int known[] = {
		COWDEV_IOC_SET_SIZE, COWDEV_IOC_GET_SIZE, COWDEV_IOC_GET_STATS,
		COWDEV_IOC_RESET_STATS, COWDEV_IOC_POOL_INFO, COWDEV_IOC_CLONE,
		COWDEV_IOC_PAGE_STATE, COWDEV_IOC_SWAPON, COWDEV_IOC_SWAPOFF,
		COWDEV_IOC_SET_RESIDENT_LIMIT, COWDEV_IOC_DIFF,
		COWDEV_IOC_ROLLBACK, COWDEV_IOC_WRITTEN,
	};
	static const unsigned int magics[] = { 0x00, 0xc6, 0xc8, 'T', 0xff };
	uint64_t buf[512];
	unsigned int cmd;
	size_t i, j;

	for (i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		cmd = CMD(wrong[i].dir, wrong[i].nr, wrong[i].size);
		/* An argument that would change the size if it were used. */
		memset(buf, 0, sizeof(buf));
		buf[0] = self->ps;
		EXPECT_EQ(-ENOTTY, cowdev_xioctl(self->fd, cmd, buf))
			TH_LOG("cmd %#x (nr %#x dir %u size %u)", cmd,
			       wrong[i].nr, wrong[i].dir, wrong[i].size);
		if (wrong[i].dir & R)
			EXPECT_EQ(self->ps, buf[0]) TH_LOG("cmd %#x wrote", cmd);
	}
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		for (j = 0; j < sizeof(magics) / sizeof(magics[0]); j++) {
			cmd = _IOC(_IOC_DIR(known[i]), magics[j],
				   _IOC_NR(known[i]), _IOC_SIZE(known[i]));
			memset(buf, 0, sizeof(buf));
			buf[0] = self->ps;
			EXPECT_EQ(-ENOTTY, cowdev_xioctl(self->fd, cmd, buf))
				TH_LOG("cmd %#x", cmd);
		}
	}
	/* Another magic with a size the module would accept. */
	EXPECT_EQ(-ENOTTY, cowdev_xioctl(self->fd, _IOC(R, 'T', NR_GET_STATS,
						  COWDEV_STATS_SIZE_VER0), buf));
	/* Commands of other drivers. */
	EXPECT_EQ(-ENOTTY, cowdev_xioctl(self->fd, TCGETS, buf));
	EXPECT_EQ(-ENOTTY, cowdev_xioctl(self->fd, FIONREAD, buf));
	unchanged(_metadata, self);
}

/* EFAULT for every command that takes a pointer, and nothing changes. */
TEST_F(u, bad_pointers_get_efault)
{
	void *unmapped = self->edge + self->ps;
	void *bad[] = { NULL, unmapped, KERNEL_ADDR, NONCANON_ADDR,
			(void *)1 };
	/* Straddles: starts 4 bytes before the unmapped page. */
	void *straddle = self->edge + self->ps - 4;
	static const unsigned int ptr_cmds[] = {
		COWDEV_IOC_SET_SIZE, COWDEV_IOC_GET_SIZE, COWDEV_IOC_GET_STATS,
		COWDEV_IOC_POOL_INFO, COWDEV_IOC_PAGE_STATE, COWDEV_IOC_DIFF,
		COWDEV_IOC_ROLLBACK, COWDEV_IOC_WRITTEN,
	};
	static const unsigned int out_cmds[] = {
		COWDEV_IOC_GET_SIZE, COWDEV_IOC_GET_STATS, COWDEV_IOC_POOL_INFO,
	};
	size_t i, j;

	for (i = 0; i < sizeof(ptr_cmds) / sizeof(ptr_cmds[0]); i++) {
		for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			void *ptr = bad[j];

			EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, ptr_cmds[i], ptr))
				TH_LOG("cmd %#x ptr %p", ptr_cmds[i], ptr);
		}
		EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, ptr_cmds[i], straddle))
			TH_LOG("cmd %#x straddling", ptr_cmds[i]);
	}
	/* Output structs into read-only memory (a zero WRITTEN is valid). */
	for (i = 0; i < sizeof(out_cmds) / sizeof(out_cmds[0]); i++) {
		EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, out_cmds[i], self->ro))
			TH_LOG("cmd %#x read-only", out_cmds[i]);
	}
	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, COWDEV_IOC_WRITTEN, self->ro));
	/* A larger struct whose tail is unmapped: EFAULT, not a result. */
	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, CMD(R, NR_GET_STATS, 256),
				  self->edge + self->ps - 200));
	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, CMD(W, NR_SET_SIZE, 64),
				  self->edge + self->ps - 32));
	EXPECT_TRUE(self->ro[0] == 0 && self->ro[self->ps - 1] == 0);
	unchanged(_metadata, self);
}

/* An input struct in read-only memory is fine: it is only read. */
TEST_F(u, input_structs_may_be_read_only)
{
	uint64_t *in = mmap(NULL, self->ps, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct cowdev_page_state *req;
	uint8_t states[NPAGES];
	uint64_t size;

	ASSERT_NE(MAP_FAILED, in);
	in[0] = 3 * self->ps;
	req = (struct cowdev_page_state *)(in + 8);
	req->count = NPAGES;
	req->buf = (uintptr_t)states;
	ASSERT_EQ(0, mprotect(in, self->ps, PROT_READ));
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, req));
	EXPECT_EQ(COWDEV_PAGE_RESIDENT | COWDEV_PAGE_DIRTY, states[1]);
	EXPECT_EQ(0, states[2]);
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE, in));
	ASSERT_EQ(0, cowdev_get_size(self->fd, &size));
	EXPECT_EQ(3 * self->ps, size);
	munmap(in, self->ps);
}

/*
 * Pointers into a cowdev mapping: inside the size they work (a hole gets a
 * page), beyond it the access fails (EFAULT, and the view counts the
 * SIGBUS it answered); no deadlock with the view's own lock.
 */
TEST_F(u, arguments_in_the_views_own_mapping)
{
	struct cowdev_page_state *req;
	struct cowdev_stats st;
	char *big;

	big = mmap(NULL, 2 * NPAGES * self->ps, PROT_READ | PROT_WRITE,
		   MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, big);
	/* Stats written into hole 3 of the view itself. */
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_GET_STATS,
			    big + 3 * self->ps));
	memcpy(&st, big + 3 * self->ps, sizeof(st));
	EXPECT_EQ(self->st0.view_id, st.view_id);
	EXPECT_EQ(NPAGES, st.size_pages);
	/* PAGE_STATE reading its request and writing its map there too. */
	req = (struct cowdev_page_state *)(big + 4 * self->ps);
	req->count = NPAGES;
	req->buf = (uintptr_t)(big + 5 * self->ps + 7);
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, req));
	EXPECT_EQ(COWDEV_PAGE_RESIDENT | COWDEV_PAGE_DIRTY, big[5 * self->ps + 7]);
	EXPECT_EQ(COWDEV_PAGE_RESIDENT | COWDEV_PAGE_DIRTY, big[5 * self->ps + 7 + 4]);
	EXPECT_EQ(0, big[5 * self->ps + 7 + 6]);
	EXPECT_EQ(0, big[5 * self->ps + 7 + 8]);
	/* SET_SIZE reading its argument from the pages it shrinks away. */
	*(uint64_t *)(big + 7 * self->ps) = 6 * self->ps;
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE,
			    big + 7 * self->ps));
	EXPECT_EQ(6, ({ struct cowdev_stats s; cowdev_get_stats(self->fd, &s);
			s.size_pages; }));
	/* Beyond the size: EFAULT. */
	ASSERT_EQ(0, cowdev_reset_stats(self->fd));
	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, COWDEV_IOC_GET_STATS,
				  big + 9 * self->ps));
	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE,
				  big + 9 * self->ps));
	ASSERT_EQ(0, cowdev_get_stats(self->fd, &st));
	EXPECT_LE(2, st.sigbus);
	EXPECT_EQ(6, st.size_pages);
	munmap(big, 2 * NPAGES * self->ps);
}

/* SET_SIZE over max_object_pages: EFBIG, and nothing changes. */
TEST_F(u, set_size_over_max_object_pages_gets_efbig)
{
	unsigned long max = cowdev_param("max_object_pages");
	uint64_t v, size;

	ASSERT_NE(0, max);
	v = (uint64_t)max * self->ps + 1;
	EXPECT_EQ(-EFBIG, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE, &v));
	v = (uint64_t)(max + 1) * self->ps;
	EXPECT_EQ(-EFBIG, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE, &v));
	v = ~0ULL;
	EXPECT_EQ(-EFBIG, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE, &v));
	v = ~0ULL - self->ps + 2;	/* would round up past 2^64 */
	EXPECT_EQ(-EFBIG, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE, &v));
	v = 1ULL << 63;
	EXPECT_EQ(-EFBIG, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE, &v));
	unchanged(_metadata, self);
	/* The largest size is fine, costs no page, and keeps the data. */
	v = (uint64_t)max * self->ps;
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE, &v));
	ASSERT_EQ(0, cowdev_get_size(self->fd, &size));
	EXPECT_EQ(v, size);
	EXPECT_EQ(self->pi0.used_pages, cowdev_pool_used(self->fd));
	v = NPAGES * self->ps;
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE, &v));
	self->st0.size_pages = NPAGES;
	unchanged(_metadata, self);
}

/* Below *_SIZE_VER0: EINVAL; above 4096: E2BIG; 4096 itself is fine. */
TEST_F(u, struct_sizes_below_ver0_or_above_a_page)
{
	static const struct {
		unsigned int nr, dir, ver0;
	} cmds[] = {
		{ NR_SET_SIZE, W, 8 },
		{ NR_GET_SIZE, R, 8 },
		{ NR_GET_STATS, R, COWDEV_STATS_SIZE_VER0 },
		{ NR_POOL_INFO, R, COWDEV_POOL_INFO_SIZE_VER0 },
		{ NR_PAGE_STATE, W, COWDEV_PAGE_STATE_SIZE_VER0 },
		{ NR_DIFF, RW, COWDEV_DIFF_SIZE_VER0 },
		{ NR_ROLLBACK, W, COWDEV_ROLLBACK_SIZE_VER0 },
		{ NR_WRITTEN, RW, COWDEV_WRITTEN_SIZE_VER0 },
	};
	static const unsigned int small[] = { 0, 1, 4, 7 };
	static const unsigned int large[] = { 4097, 4104, 8000, 8192, 16383 };
	uint8_t states[NPAGES];
	char *buf;
	size_t i, j;

	buf = mmap(NULL, 4 * self->ps, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		unsigned int nr = cmds[i].nr, dir = cmds[i].dir;

		/* A zero buffer, but for a SET_SIZE that would change. */
		memset(buf, 0, 4 * self->ps);
		*(uint64_t *)buf = 5 * self->ps;
		EXPECT_EQ(-EINVAL, cowdev_xioctl(self->fd, CMD(dir, nr,
					  cmds[i].ver0 - 1), buf))
			TH_LOG("nr %#x size %u", nr, cmds[i].ver0 - 1);
		EXPECT_EQ(-EINVAL, cowdev_xioctl(self->fd, CMD(dir, nr,
					  cmds[i].ver0 / 2), buf))
			TH_LOG("nr %#x size %u", nr, cmds[i].ver0 / 2);
		EXPECT_EQ(-EINVAL, cowdev_xioctl(self->fd, CMD(dir, nr,
					  cmds[i].ver0 - 8), buf))
			TH_LOG("nr %#x size %u", nr, cmds[i].ver0 - 8);
		for (j = 0; j < sizeof(small) / sizeof(small[0]); j++) {
			EXPECT_EQ(-EINVAL, cowdev_xioctl(self->fd, CMD(dir, nr,
						  small[j]), buf))
				TH_LOG("nr %#x size %u", nr, small[j]);
		}
		for (j = 0; j < sizeof(large) / sizeof(large[0]); j++) {
			EXPECT_EQ(-E2BIG, cowdev_xioctl(self->fd, CMD(dir, nr,
						 large[j]), buf))
				TH_LOG("nr %#x size %u", nr, large[j]);
		}
		/* Nothing was written by the refused calls. */
		EXPECT_EQ(5 * self->ps, *(uint64_t *)buf);
		for (j = 8; j < 4 * self->ps; j++)
			if (buf[j])
				break;
		EXPECT_EQ(4 * self->ps, j) TH_LOG("nr %#x wrote", nr);
	}
	unchanged(_metadata, self);
	/* Exactly a page: accepted. */
	memset(buf, 0, 4 * self->ps);
	EXPECT_EQ(0, cowdev_xioctl(self->fd, CMD(R, NR_GET_STATS, 4096), buf));
	EXPECT_EQ(self->st0.view_id, ((struct cowdev_stats *)buf)->view_id);
	memset(buf, 0, 4 * self->ps);
	((struct cowdev_page_state *)buf)->count = NPAGES;
	((struct cowdev_page_state *)buf)->buf = (uintptr_t)states;
	EXPECT_EQ(0, cowdev_xioctl(self->fd, CMD(W, NR_PAGE_STATE, 4096), buf));
	EXPECT_EQ(COWDEV_PAGE_RESIDENT | COWDEV_PAGE_DIRTY, states[0]);
	memset(buf, 0, 4 * self->ps);
	*(uint64_t *)buf = NPAGES * self->ps;
	EXPECT_EQ(0, cowdev_xioctl(self->fd, CMD(W, NR_SET_SIZE, 4096), buf));
	unchanged(_metadata, self);
	munmap(buf, 4 * self->ps);
}

/*
 * Output structs larger than the module's: the module's fields, then zeros
 * up to the caller's size, and nothing after it.  A caller of exactly
 * *_SIZE_VER0 gets that much and no more.
 */
TEST_F(u, larger_output_structs_are_zero_filled)
{
	static const unsigned int sizes[] = { 8, 16, 72, 128, 136, 144,
					      256, 512, 1000, 4096 };
	struct cowdev_stats st;
	struct cowdev_pool_info pi;
	uint64_t size;
	uint8_t *buf;
	size_t i, j, n;

	buf = malloc(4096 + 64);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, cowdev_get_stats(self->fd, &st));
	ASSERT_EQ(0, cowdev_reserve_settle(10000));
	ASSERT_EQ(0, cowdev_pool_info(self->fd, &pi));
	ASSERT_EQ(0, cowdev_get_size(self->fd, &size));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned int s = sizes[i];
		struct { unsigned int nr; const void *want; size_t len; }
		out[] = {
			{ NR_GET_SIZE, &size, sizeof(size) },
			{ NR_GET_STATS, &st, sizeof(st) },
			{ NR_POOL_INFO, &pi, sizeof(pi) },
		};

		for (j = 0; j < 3; j++) {
			long ret;

			memset(buf, 0xff, 4096 + 64);
			ret = cowdev_xioctl(self->fd, CMD(R, out[j].nr, s), buf);
			if ((out[j].nr == NR_GET_STATS &&
			     s < COWDEV_STATS_SIZE_VER0) ||
			    (out[j].nr == NR_POOL_INFO &&
			     s < COWDEV_POOL_INFO_SIZE_VER0)) {
				EXPECT_EQ(-EINVAL, ret);
				continue;
			}
			ASSERT_EQ(0, ret) TH_LOG("nr %#x size %u", out[j].nr, s);
			n = s < out[j].len ? s : out[j].len;
			EXPECT_EQ(0, memcmp(buf, out[j].want, n))
				TH_LOG("nr %#x size %u: fields", out[j].nr, s);
			for (n = out[j].len; n < s; n++)
				if (buf[n])
					break;
			EXPECT_GE(n, s) TH_LOG("nr %#x size %u: byte %zu not 0",
					       out[j].nr, s, n);
			for (n = s; n < 4096 + 64; n++)
				if (buf[n] != 0xff)
					break;
			EXPECT_EQ(4096 + 64, n)
				TH_LOG("nr %#x size %u: byte %zu past it",
				       out[j].nr, s, n);
		}
	}
	free(buf);
	unchanged(_metadata, self);
}

/*
 * Input structs larger than the module's: a zero tail is accepted, any
 * nonzero byte in it is E2BIG and changes nothing.
 */
TEST_F(u, larger_input_structs_need_a_zero_tail)
{
	static const unsigned int sizes[] = { 40, 48, 64, 1000, 4096 };
	uint8_t states[NPAGES + 2];
	uint64_t size;
	uint8_t *buf;
	size_t i;

	buf = calloc(1, 4096);
	ASSERT_NE(NULL, buf);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned int s = sizes[i];
		struct cowdev_page_state *req = (void *)buf;

		/* SET_SIZE: nonzero first tail byte, last tail byte. */
		memset(buf, 0, 4096);
		*(uint64_t *)buf = 3 * self->ps;
		buf[8] = 1;
		EXPECT_EQ(-E2BIG, cowdev_xioctl(self->fd, CMD(W, NR_SET_SIZE, s), buf));
		buf[8] = 0;
		buf[s - 1] = 0x80;
		EXPECT_EQ(-E2BIG, cowdev_xioctl(self->fd, CMD(W, NR_SET_SIZE, s), buf));
		/* PAGE_STATE: the same, and the map untouched. */
		memset(buf, 0, 4096);
		memset(states, 0x5a, sizeof(states));
		req->count = NPAGES;
		req->buf = (uintptr_t)(states + 1);
		buf[sizeof(*req)] = 1;
		EXPECT_EQ(-E2BIG, cowdev_xioctl(self->fd, CMD(W, NR_PAGE_STATE, s),
					 buf));
		buf[sizeof(*req)] = 0;
		buf[s - 1] = 1;
		EXPECT_EQ(-E2BIG, cowdev_xioctl(self->fd, CMD(W, NR_PAGE_STATE, s),
					 buf));
		EXPECT_EQ(0x5a, states[1]);
		unchanged(_metadata, self);

		/* Zero tails: accepted. */
		buf[s - 1] = 0;
		EXPECT_EQ(0, cowdev_xioctl(self->fd, CMD(W, NR_PAGE_STATE, s), buf));
		EXPECT_EQ(COWDEV_PAGE_RESIDENT | COWDEV_PAGE_DIRTY, states[1]);
		EXPECT_EQ(0, states[3]);
		EXPECT_EQ(0x5a, states[0]);
		EXPECT_EQ(0x5a, states[NPAGES + 1]);
		memset(buf, 0, 4096);
		*(uint64_t *)buf = (3 + i) * self->ps;
		EXPECT_EQ(0, cowdev_xioctl(self->fd, CMD(W, NR_SET_SIZE, s), buf));
		ASSERT_EQ(0, cowdev_get_size(self->fd, &size));
		EXPECT_EQ((3 + i) * self->ps, size);
		*(uint64_t *)buf = NPAGES * self->ps;
		EXPECT_EQ(0, cowdev_xioctl(self->fd, CMD(W, NR_SET_SIZE, s), buf));
	}
	free(buf);
}

/*
 * A zero-filled struct is always a correct argument (but for DIFF and
 * ROLLBACK, whose zero fd is fd 0).
 */
TEST_F(u, zero_filled_structs_are_valid)
{
	struct cowdev_written w;
	struct cowdev_page_state req;
	struct cowdev_stats st;
	struct cowdev_pool_info pi;
	uint64_t v = 0;

	memset(&req, 0, sizeof(req));
	memset(&st, 0, sizeof(st));
	memset(&pi, 0, sizeof(pi));
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, &req));
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_GET_STATS, &st));
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_POOL_INFO, &pi));
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_GET_SIZE, &v));
	EXPECT_EQ(NPAGES * self->ps, v);
	unchanged(_metadata, self);
	/* WRITTEN: count 0, a query that counts. */
	memset(&w, 0, sizeof(w));
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_WRITTEN, &w));
	EXPECT_EQ(0, w.written);
	self->st0.written_queries++;
	unchanged(_metadata, self);
	v = 0;
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_SET_SIZE, &v));
	EXPECT_EQ(0, ({ uint64_t s = 1; cowdev_get_size(self->fd, &s); s; }));
}

/* A view of NPAGES pages, pages 0 and 1 written, and a clone of it. */
static int snap_pair(size_t ps, int *clone)
{
	char *m;
	int v;

	v = cowdev_new_view(NPAGES, &m);
	if (v < 0)
		return -1;
	memset(m, 'v', 2 * ps);
	munmap(m, NPAGES * ps);
	*clone = cowdev_clone(v);
	if (*clone < 0) {
		close(v);
		return -1;
	}
	return v;
}

/*
 * Build the argument of snapshot command @nr (DIFF, ROLLBACK, WRITTEN) of
 * @size bytes at @arg, its bytes past @size 0xff: the other view @other,
 * all NPAGES pages, the reply into @out.
 */
static void snap_arg(uint8_t *arg, unsigned int nr, size_t size, int other,
		     uint8_t *out)
{
	memset(arg, 0, size);
	memset(arg + size, 0xff, 64);
	if (nr == NR_DIFF) {
		struct cowdev_diff *d = (void *)arg;

		d->fd = other;
		d->count = NPAGES;
		d->buf = (uintptr_t)out;
	} else if (nr == NR_ROLLBACK) {
		((struct cowdev_rollback *)arg)->fd = other;
	} else {
		struct cowdev_written *w = (void *)arg;

		w->count = NPAGES;
		w->buf = (uintptr_t)out;
	}
}

/*
 * DIFF, ROLLBACK and WRITTEN take structs of any size from VER0 to a page
 * whose tail past the module's struct is zero: the reply is written up to
 * the caller's size (the tail stays zero) and nothing past it.  A nonzero
 * tail byte, first or last, is E2BIG and changes nothing: no counter, no
 * reply in the struct, nothing in the output buffer.
 */
TEST_F(u, snapshot_commands_extensible_structs)
{
	static const unsigned int sizes[] = { 0, 72, 128, 1000, 4096 };
	static const struct { unsigned int nr, dir; size_t ksize; } cmds[] = {
		{ NR_DIFF, RW, sizeof(struct cowdev_diff) },
		{ NR_ROLLBACK, W, sizeof(struct cowdev_rollback) },
		{ NR_WRITTEN, RW, sizeof(struct cowdev_written) },
	};
	struct cowdev_stats st0, st;
	uint8_t *arg, *copy, out[NPAGES];
	int v, c, tail;
	size_t i, j, k;

	v = snap_pair(self->ps, &c);
	ASSERT_LE(0, v);
	arg = malloc(4096 + 64);
	copy = malloc(4096 + 64);
	ASSERT_TRUE(arg && copy);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
			unsigned int nr = cmds[i].nr;
			size_t sz = sizes[j] ? sizes[j] : cmds[i].ksize;
			unsigned int cmd = CMD(cmds[i].dir, nr, sz);

			for (tail = 0; sz > cmds[i].ksize && tail < 2; tail++) {
				snap_arg(arg, nr, sz, c, out);
				arg[tail ? sz - 1 : cmds[i].ksize] = 1;
				memcpy(copy, arg, 4096 + 64);
				memset(out, 0x77, sizeof(out));
				ASSERT_EQ(0, cowdev_get_stats(v, &st0));
				EXPECT_EQ(-E2BIG, cowdev_xioctl(v, cmd, arg))
					TH_LOG("nr %#x size %zu tail %d", nr, sz,
					       tail);
				ASSERT_EQ(0, cowdev_get_stats(v, &st));
				EXPECT_EQ(0, memcmp(&st0, &st, sizeof(st)))
					TH_LOG("nr %#x size %zu: counted", nr, sz);
				EXPECT_EQ(0, memcmp(copy, arg, 4096 + 64))
					TH_LOG("nr %#x size %zu: replied", nr, sz);
				for (k = 0; k < NPAGES; k++)
					EXPECT_EQ(0x77, out[k]);
			}
			snap_arg(arg, nr, sz, c, out);
			memset(out, 0x77, sizeof(out));
			ASSERT_EQ(0, cowdev_get_stats(v, &st0));
			ASSERT_EQ(0, cowdev_xioctl(v, cmd, arg))
				TH_LOG("nr %#x size %zu", nr, sz);
			for (k = cmds[i].ksize; k < sz; k++)
				if (arg[k])
					break;
			EXPECT_EQ(sz, k) TH_LOG("nr %#x size %zu: tail byte %zu",
						nr, sz, k);
			for (k = sz; k < sz + 64; k++)
				if (arg[k] != 0xff)
					break;
			EXPECT_EQ(sz + 64, k) TH_LOG("nr %#x size %zu: past it",
						     nr, sz);
			ASSERT_EQ(0, cowdev_get_stats(v, &st));
			if (nr == NR_DIFF) {
				struct cowdev_diff *d = (void *)arg;

				EXPECT_EQ(2, d->same);
				EXPECT_EQ(0, d->different + d->only_this +
					     d->only_other);
				EXPECT_EQ(COWDEV_DIFF_SAME, out[1]);
				EXPECT_EQ(COWDEV_DIFF_HOLES, out[2]);
				EXPECT_EQ(st0.diffs + 1, st.diffs);
			} else if (nr == NR_ROLLBACK) {
				EXPECT_EQ(st0.rollbacks + 1, st.rollbacks);
				EXPECT_EQ(st0.rollback_pages, st.rollback_pages);
			} else {
				EXPECT_EQ(2, ((struct cowdev_written *)arg)->written);
				EXPECT_EQ(0x03, out[0]);
				EXPECT_EQ(0x77, out[1]);
				EXPECT_EQ(st0.written_queries + 1,
					  st.written_queries);
			}
		}
	}
	free(arg);
	free(copy);
	close(c);
	close(v);
}

/*
 * ROLLBACK only reads its struct: read-only memory is fine.  DIFF and
 * WRITTEN write theirs back: read-only memory is EFAULT, and a call that
 * failed did not count.
 */
TEST_F(u, snapshot_commands_read_only_structs)
{
	struct cowdev_stats st0, st;
	uint8_t out[NPAGES];
	char *page;
	int v, c;

	v = snap_pair(self->ps, &c);
	ASSERT_LE(0, v);
	page = mmap(NULL, self->ps, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	snap_arg((uint8_t *)page, NR_ROLLBACK, 8, c, out);
	snap_arg((uint8_t *)page + 64, NR_DIFF, 64, c, out);
	snap_arg((uint8_t *)page + 256, NR_WRITTEN, 40, c, out);
	ASSERT_EQ(0, mprotect(page, self->ps, PROT_READ));
	ASSERT_EQ(0, cowdev_get_stats(v, &st0));
	EXPECT_EQ(0, cowdev_xioctl(v, COWDEV_IOC_ROLLBACK, page));
	EXPECT_EQ(-EFAULT, cowdev_xioctl(v, COWDEV_IOC_DIFF, page + 64));
	EXPECT_EQ(-EFAULT, cowdev_xioctl(v, COWDEV_IOC_WRITTEN, page + 256));
	ASSERT_EQ(0, cowdev_get_stats(v, &st));
	EXPECT_EQ(st0.rollbacks + 1, st.rollbacks);
	EXPECT_EQ(st0.diffs, st.diffs);
	EXPECT_EQ(st0.written_queries, st.written_queries);
	munmap(page, self->ps);
	close(c);
	close(v);
}

/* No-argument commands ignore their argument, whatever it is. */
TEST_F(u, no_argument_commands_ignore_the_pointer)
{
	struct cowdev_stats st;
	int c;

	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_RESET_STATS, KERNEL_ADDR));
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_RESET_STATS, self->ro));
	c = cowdev_xioctl(self->fd, COWDEV_IOC_CLONE, KERNEL_ADDR);
	EXPECT_LE(0, c);
	ASSERT_EQ(0, cowdev_get_stats(self->fd, &st));
	EXPECT_EQ(1, st.clones);
	if (c >= 0)
		close(c);
}

/*
 * PAGE_STATE: unknown flags (any but COWDEV_PAGE_STATE_WRITTEN, in all 64
 * bits), ranges past the size or overflowing are EINVAL and write nothing;
 * count 0 is fine (even without a buffer); a valid call writes exactly
 * [buf, buf + count) with the right states.
 */
TEST_F(u, page_state_ranges_and_flags)
{
	static const struct { uint64_t start, count, flags; } bad[] = {
		{ 0, NPAGES + 1, 0 }, { NPAGES, 1, 0 }, { NPAGES - 1, 2, 0 },
		{ NPAGES + 1, 0, 0 }, { ~0ULL, 1, 0 }, { ~0ULL, 2, 0 },
		{ 1, ~0ULL, 0 }, { 1ULL << 63, 1ULL << 63, 0 },
		{ ~0ULL, ~0ULL, 0 }, { 0, 1, 2 }, { 0, 1, 3 },
		{ 0, 1, 1ULL << 32 }, { 0, 1, 1ULL << 63 },
		{ 0, 0, 2 }, { 0, NPAGES, ~0ULL },
	};
	struct cowdev_page_state req;
	uint8_t *area, *buf;
	size_t i, j, guard = 64;

	area = malloc(NPAGES + 2 * guard);
	ASSERT_NE(NULL, area);
	buf = area + guard;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(area, 0xa5, NPAGES + 2 * guard);
		memset(&req, 0, sizeof(req));
		req.start = bad[i].start;
		req.count = bad[i].count;
		req.flags = bad[i].flags;
		req.buf = (uintptr_t)buf;
		EXPECT_EQ(-EINVAL, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, &req))
			TH_LOG("start %llu count %llu flags %#llx",
			       (unsigned long long)req.start,
			       (unsigned long long)req.count,
			       (unsigned long long)req.flags);
		for (j = 0; j < NPAGES + 2 * guard; j++)
			if (area[j] != 0xa5)
				break;
		EXPECT_EQ(NPAGES + 2 * guard, j) TH_LOG("case %zu wrote", i);
	}
	unchanged(_metadata, self);

	/* count 0: fine anywhere up to the end, with any buffer. */
	memset(&req, 0, sizeof(req));
	req.buf = (uintptr_t)KERNEL_ADDR;
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, &req));
	req.start = NPAGES;
	req.buf = 0;
	EXPECT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, &req));

	/* Every valid range writes exactly its bytes. */
	for (i = 0; i <= NPAGES; i++) {
		for (j = 0; i + j <= NPAGES; j++) {
			size_t k;

			memset(area, 0xa5, NPAGES + 2 * guard);
			req.start = i;
			req.count = j;
			req.buf = (uintptr_t)buf;
			ASSERT_EQ(0, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE,
					    &req));
			for (k = 0; k < NPAGES + 2 * guard; k++) {
				uint8_t want = 0xa5;

				if (k >= guard && k < guard + j)
					want = k - guard + i < 2 ?
					       COWDEV_PAGE_RESIDENT |
					       COWDEV_PAGE_DIRTY : 0;
				ASSERT_EQ(want, area[k])
					TH_LOG("start %zu count %zu byte %zd",
					       i, j, (ssize_t)(k - guard));
			}
		}
	}
	free(area);
	unchanged(_metadata, self);
}

/*
 * PAGE_STATE with a bad buffer: EFAULT, and nothing outside
 * [buf, buf + count) is written (guard bytes before a straddling buffer).
 */
TEST_F(u, page_state_bad_buffer)
{
	struct cowdev_page_state req;
	uint8_t *edge = (uint8_t *)self->edge;
	void *bad[] = { NULL, self->ro, self->edge + self->ps, KERNEL_ADDR,
			NONCANON_ADDR };
	size_t i;

	memset(&req, 0, sizeof(req));
	req.count = NPAGES;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req.buf = (uintptr_t)bad[i];
		EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, &req))
			TH_LOG("buf %p", bad[i]);
	}
	EXPECT_EQ(0, self->ro[0]);
	/* The last 3 of 8 bytes are unmapped. */
	memset(edge, 0x77, self->ps);
	req.buf = (uintptr_t)(edge + self->ps - 5);
	EXPECT_EQ(-EFAULT, cowdev_xioctl(self->fd, COWDEV_IOC_PAGE_STATE, &req));
	for (i = 0; i < self->ps - 5; i++)
		if (edge[i] != 0x77)
			break;
	EXPECT_EQ(self->ps - 5, i);
	/* Whatever was written inside the buffer is page states. */
	for (i = self->ps - 5; i < self->ps; i++)
		EXPECT_TRUE(edge[i] == 0x77 ||
			    edge[i] == (i == self->ps - 5 || i == self->ps - 4 ?
					COWDEV_PAGE_RESIDENT | COWDEV_PAGE_DIRTY :
					0));
	unchanged(_metadata, self);
}

/*
 * RESET_STATS zeroes every event counter of the view and no gauge; other
 * views' counters and the pool's are untouched.
 */
TEST_F(u, reset_stats_zeroes_events_not_gauges)
{
	struct cowdev_pool_info pi0, pi;
	struct cowdev_stats st, other0, other;
	char *priv, *cm, c;
	int clone;

	/* Make every event counter we can nonzero. */
	ASSERT_EQ(0, madvise(self->map, NPAGES * self->ps, MADV_DONTNEED));
	ASSERT_EQ('k', self->map[0]);			/* map_pages */
	ASSERT_EQ(0, self->map[5 * self->ps]);		/* zero_maps */
	self->map[1] = 'm';				/* mkwrite */
	self->map[6 * self->ps] = 'd';			/* demand_allocs */
	priv = mmap(NULL, NPAGES * self->ps, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, priv);
	priv[3 * self->ps] = 'p';			/* private_cow */
	ASSERT_EQ(0, cowdev_set_size(self->fd, 7 * self->ps));
	ASSERT_EQ(SIGBUS, cowdev_try_read(self->map + 7 * self->ps, &c));
	clone = cowdev_clone(self->fd);			/* clones */
	ASSERT_LE(0, clone);
	self->map[0] = 'c';				/* cow_copies */
	cm = mmap(NULL, 7 * self->ps, PROT_READ | PROT_WRITE, MAP_SHARED,
		  clone, 0);
	ASSERT_NE(MAP_FAILED, cm);
	cm[0] = 'r';	/* the clone's page 0 is its own now: a reuse */

	ASSERT_EQ(0, cowdev_get_stats(self->fd, &st));
	EXPECT_NE(0, st.faults);
	EXPECT_NE(0, st.map_pages_calls);
	EXPECT_NE(0, st.map_pages_mapped);
	EXPECT_NE(0, st.mkwrite);
	EXPECT_NE(0, st.zero_maps);
	EXPECT_NE(0, st.demand_allocs);
	EXPECT_NE(0, st.private_cow);
	EXPECT_NE(0, st.sigbus);
	EXPECT_NE(0, st.clones);
	EXPECT_NE(0, st.cow_copies);
	ASSERT_EQ(0, cowdev_get_stats(clone, &other0));
	EXPECT_NE(0, other0.cow_reuses);
	ASSERT_EQ(0, cowdev_reserve_settle(10000));
	ASSERT_EQ(0, cowdev_pool_info(self->fd, &pi0));

	ASSERT_EQ(0, cowdev_reset_stats(self->fd));
	ASSERT_EQ(0, cowdev_get_stats(self->fd, &st));
	EXPECT_EQ(0, st.faults);
	EXPECT_EQ(0, st.map_pages_calls);
	EXPECT_EQ(0, st.map_pages_mapped);
	EXPECT_EQ(0, st.mkwrite);
	EXPECT_EQ(0, st.zero_maps);
	EXPECT_EQ(0, st.demand_allocs);
	EXPECT_EQ(0, st.private_cow);
	EXPECT_EQ(0, st.sigbus);
	EXPECT_EQ(0, st.pool_failures);
	EXPECT_EQ(0, st.cow_copies);
	EXPECT_EQ(0, st.cow_reuses);
	EXPECT_EQ(0, st.clones);
	EXPECT_EQ(0, st.limit_failures);
	/* Gauges: pages 0, 1, 6; 1 and 6 shared (page 0 was copied). */
	EXPECT_EQ(3, st.resident_pages);
	EXPECT_EQ(2, st.shared_pages);
	EXPECT_EQ(7, st.size_pages);
	EXPECT_EQ(self->st0.view_id, st.view_id);
	/* The clone's counters and the pool's are not the view's. */
	ASSERT_EQ(0, cowdev_get_stats(clone, &other));
	EXPECT_EQ(0, memcmp(&other0, &other, sizeof(other)));
	ASSERT_EQ(0, cowdev_pool_info(self->fd, &pi));
	EXPECT_EQ(0, memcmp(&pi0, &pi, sizeof(pi)));
	/* Counting goes on from zero. */
	ASSERT_EQ(0, self->map[4 * self->ps]);
	ASSERT_EQ(0, cowdev_get_stats(self->fd, &st));
	EXPECT_EQ(1, st.zero_maps);
	munmap(cm, 7 * self->ps);
	munmap(priv, NPAGES * self->ps);
	close(clone);
}

static int pool_ok(struct __test_metadata *_metadata, int fd,
		   struct cowdev_pool_info *pi)
{
	if (cowdev_pool_info(fd, pi))
		return 0;
	EXPECT_EQ(pi->total_pages, pi->free_pages + pi->used_pages + 1);
	EXPECT_EQ(pi->used_pages, pi->allocs - pi->frees);
	EXPECT_LE(pi->used_pages, pi->peak_used);
	EXPECT_LE(pi->limbo_pages, pi->used_pages);
	return pi->total_pages == pi->free_pages + pi->used_pages + 1;
}

/*
 * POOL_INFO: total == free + used + 1 in every state, the same through
 * every view; views counts live views (open files and clones, alive while
 * a mapping remains).
 */
TEST(pool_info_invariant_and_views)
{
	size_t ps = cowdev_page_size();
	struct cowdev_pool_info base, pi, pi2;
	int fds[4], clone, i;
	char *m;

	fds[0] = cowdev_open();
	ASSERT_LE(0, fds[0]);
	ASSERT_TRUE(pool_ok(_metadata, fds[0], &base));
	EXPECT_EQ(cowdev_param("pool_pages"), base.total_pages);
	EXPECT_LE(1, base.views);
	for (i = 1; i < 4; i++) {
		fds[i] = cowdev_open();
		ASSERT_LE(0, fds[i]);
		ASSERT_TRUE(pool_ok(_metadata, fds[0], &pi));
		EXPECT_EQ(base.views + i, pi.views);
	}
	ASSERT_EQ(0, cowdev_set_size(fds[1], 16 * ps));
	m = mmap(NULL, 16 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fds[1], 0);
	ASSERT_NE(MAP_FAILED, m);
	memset(m, 1, 16 * ps);
	ASSERT_EQ(0, cowdev_reserve_settle(10000));
	ASSERT_TRUE(pool_ok(_metadata, fds[3], &pi));
	EXPECT_EQ(base.used_pages + 16, pi.used_pages);
	EXPECT_EQ(base.free_pages - 16, pi.free_pages);
	EXPECT_EQ(base.allocs + 16, pi.allocs);
	EXPECT_LE(base.used_pages + 16, pi.peak_used);
	/* Every view reports the same pool. */
	ASSERT_EQ(0, cowdev_pool_info(fds[2], &pi2));
	EXPECT_EQ(0, memcmp(&pi, &pi2, sizeof(pi)));
	clone = cowdev_clone(fds[1]);
	ASSERT_LE(0, clone);
	ASSERT_TRUE(pool_ok(_metadata, clone, &pi));
	EXPECT_EQ(base.views + 4, pi.views);
	EXPECT_EQ(base.used_pages + 16, pi.used_pages);
	memset(m, 2, 4 * ps);		/* 4 COW copies */
	ASSERT_TRUE(pool_ok(_metadata, clone, &pi));
	EXPECT_EQ(base.used_pages + 20, pi.used_pages);
	/* Closing the fd of a mapped view: still live. */
	close(fds[1]);
	ASSERT_TRUE(pool_ok(_metadata, fds[0], &pi));
	EXPECT_EQ(base.views + 4, pi.views);
	EXPECT_EQ(base.used_pages + 20, pi.used_pages);
	munmap(m, 16 * ps);
	ASSERT_TRUE(pool_ok(_metadata, fds[0], &pi));
	EXPECT_EQ(base.views + 3, pi.views);
	/* The clone keeps the 16 original pages. */
	EXPECT_EQ(base.used_pages + 16, pi.used_pages);
	close(clone);
	ASSERT_TRUE(pool_ok(_metadata, fds[0], &pi));
	EXPECT_EQ(base.views + 2, pi.views);
	EXPECT_EQ(base.used_pages, pi.used_pages);
	EXPECT_EQ(base.frees + 20, pi.frees);
	EXPECT_EQ(base.alloc_failures, pi.alloc_failures);
	close(fds[2]);
	close(fds[3]);
	ASSERT_TRUE(pool_ok(_metadata, fds[0], &pi));
	EXPECT_EQ(base.views, pi.views);
	close(fds[0]);
}

/*
 * No leak: once every fd and mapping of a view is gone, pool used_pages and
 * views are back at their baseline, whatever was done: shared and private
 * mappings, a mapping that outlives its fd, a child that maps and writes
 * and exits, a child killed while it holds a mapping, clones, shrinks.
 */
TEST(no_leak_once_everything_is_gone)
{
	size_t ps = cowdev_page_size();
	struct cowdev_pool_info base, pi;
	int probe, fd, clone, status;
	char *m, *p, *keep;
	pid_t pid;

	probe = cowdev_open();
	ASSERT_LE(0, probe);
	ASSERT_TRUE(pool_ok(_metadata, probe, &base));

	fd = cowdev_new_view(64, &m);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 64 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	keep = mmap(NULL, 32 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    8 * ps);
	ASSERT_NE(MAP_FAILED, keep);
	memset(m, 'a', 32 * ps);
	memset(p + 16 * ps, 'p', 32 * ps);
	ASSERT_EQ(0, m[40 * ps]);

	/* A child that writes and exits. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		memset(m + 32 * ps, 'c', 8 * ps);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	/* A child killed while it holds the mapping. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		m[48 * ps] = 'k';
		for (;;)
			pause();
	}
	while (!m[48 * ps])
		usleep(1000);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));

	clone = cowdev_clone(fd);
	ASSERT_LE(0, clone);
	memset(m, 'b', 4 * ps);
	ASSERT_EQ(0, cowdev_set_size(fd, 48 * ps));
	ASSERT_TRUE(pool_ok(_metadata, probe, &pi));
	/* 41 pages shared with the clone (the shrink freed none of them:
	 * the clone holds them), 4 copies.
	 */
	EXPECT_EQ(base.used_pages + 45, pi.used_pages);
	EXPECT_EQ(base.views + 2, pi.views);
	close(clone);
	ASSERT_TRUE(pool_ok(_metadata, probe, &pi));
	EXPECT_EQ(base.used_pages + 40, pi.used_pages);

	/* The fd goes; the mappings keep the view (and its pages). */
	ASSERT_EQ(0, close(fd));
	munmap(m, 64 * ps);
	munmap(p, 64 * ps);
	ASSERT_TRUE(pool_ok(_metadata, probe, &pi));
	EXPECT_EQ(base.views + 1, pi.views);
	EXPECT_EQ(base.used_pages + 40, pi.used_pages);
	EXPECT_EQ('a', keep[0]);
	EXPECT_EQ('c', keep[24 * ps]);
	keep[7 * ps] = 'z';		/* a write after the fd is gone */
	EXPECT_EQ('z', keep[7 * ps]);
	ASSERT_TRUE(pool_ok(_metadata, probe, &pi));
	EXPECT_EQ(base.used_pages + 40, pi.used_pages);
	munmap(keep, 32 * ps);
	ASSERT_TRUE(pool_ok(_metadata, probe, &pi));
	EXPECT_EQ(base.views, pi.views);
	EXPECT_EQ(base.used_pages, pi.used_pages);
	EXPECT_EQ(base.free_pages, pi.free_pages);
	EXPECT_EQ(0, pi.limbo_pages);
	close(probe);
}

/*
 * rmmod is refused while a view lives: through an open fd, a clone's fd
 * alone, or a mapping alone (after every fd is closed).
 */
TEST(rmmod_refused_while_a_view_lives)
{
	size_t ps = cowdev_page_size();
	int fd, clone;
	char *m;

	fd = cowdev_open();
	ASSERT_LE(0, fd);
	EXPECT_TRUE(rmmod_refused()) TH_LOG("delete_module: %s",
					    strerror(errno));
	ASSERT_EQ(0, cowdev_set_size(fd, 2 * ps));
	m = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	m[0] = 'r';
	clone = cowdev_clone(fd);
	ASSERT_LE(0, clone);
	close(fd);
	EXPECT_TRUE(rmmod_refused()) TH_LOG("fd closed: %s", strerror(errno));
	munmap(m, 2 * ps);
	/* Only the clone's fd now. */
	EXPECT_TRUE(rmmod_refused()) TH_LOG("clone only: %s", strerror(errno));
	m = mmap(NULL, 2 * ps, PROT_READ, MAP_SHARED, clone, 0);
	ASSERT_NE(MAP_FAILED, m);
	close(clone);
	/* Only a mapping of the clone now. */
	EXPECT_TRUE(rmmod_refused()) TH_LOG("mapping only: %s",
					    strerror(errno));
	EXPECT_EQ('r', m[0]);
	munmap(m, 2 * ps);
}

/*
 * A view is opened O_RDWR or not at all: O_RDONLY and O_WRONLY (also
 * through /proc/self/fd of a view) get EACCES and create no view, rather
 * than a view that can be sized but never written through a mapping.
 */
TEST(open_needs_read_write)
{
	static const int modes[] = { O_RDONLY, O_WRONLY };
	struct cowdev_pool_info base, pi;
	char path[64];
	int fd, bad, i;

	fd = cowdev_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cowdev_pool_info(fd, &base));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	for (i = 0; i < 2; i++) {
		errno = 0;
		bad = open(COWDEV_PATH, modes[i] | O_CLOEXEC);
		EXPECT_EQ(-1, bad);
		EXPECT_EQ(EACCES, errno) TH_LOG("open mode %d", modes[i]);
		errno = 0;
		bad = open(path, modes[i] | O_CLOEXEC);
		EXPECT_EQ(-1, bad);
		EXPECT_EQ(EACCES, errno) TH_LOG("reopen mode %d", modes[i]);
	}
	ASSERT_EQ(0, cowdev_pool_info(fd, &pi));
	EXPECT_EQ(base.views, pi.views);
	bad = open(path, O_RDWR | O_CLOEXEC);
	EXPECT_LE(0, bad);
	ASSERT_EQ(0, cowdev_pool_info(fd, &pi));
	EXPECT_EQ(base.views + 1, pi.views);
	close(bad);
	close(fd);
}

TEST_HARNESS_MAIN
