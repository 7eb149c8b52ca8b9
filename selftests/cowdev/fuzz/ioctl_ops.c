// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev_fuzz_test: op ioctl, random commands, sizes and arguments.  The
 * snapshot commands' answers are worked out in snap_ops.c.
 */
#include "fuzz.h"

/* ---- op: ioctl ---- */

struct fz_desc {
	unsigned int nr, dir;
	size_t ksize, ver0;
};

/* Every command of uapi/linux/cowdev.h, from its macro, with its VER0. */
#define FZ_DESC(cmd, ver0) { _IOC_NR(cmd), _IOC_DIR(cmd), _IOC_SIZE(cmd), ver0 }

static const struct fz_desc fz_descs[] = {
	FZ_DESC(COWDEV_IOC_SET_SIZE, sizeof(__u64)),
	FZ_DESC(COWDEV_IOC_GET_SIZE, sizeof(__u64)),
	FZ_DESC(COWDEV_IOC_GET_STATS, COWDEV_STATS_SIZE_VER0),
	FZ_DESC(COWDEV_IOC_RESET_STATS, 0),
	FZ_DESC(COWDEV_IOC_POOL_INFO, COWDEV_POOL_INFO_SIZE_VER0),
	FZ_DESC(COWDEV_IOC_CLONE, 0),
	FZ_DESC(COWDEV_IOC_PAGE_STATE, COWDEV_PAGE_STATE_SIZE_VER0),
	FZ_DESC(COWDEV_IOC_SWAPON, COWDEV_SWAPON_SIZE_VER0),
	FZ_DESC(COWDEV_IOC_SWAPOFF, 0),
	FZ_DESC(COWDEV_IOC_SET_RESIDENT_LIMIT, sizeof(__u64)),
	FZ_DESC(COWDEV_IOC_DIFF, COWDEV_DIFF_SIZE_VER0),
	FZ_DESC(COWDEV_IOC_ROLLBACK, COWDEV_ROLLBACK_SIZE_VER0),
	FZ_DESC(COWDEV_IOC_WRITTEN, COWDEV_WRITTEN_SIZE_VER0),
};

#define NR_PAGE_STATE	_IOC_NR(COWDEV_IOC_PAGE_STATE)
#define NR_SWAPON	_IOC_NR(COWDEV_IOC_SWAPON)
#define NR_DIFF		_IOC_NR(COWDEV_IOC_DIFF)
#define NR_ROLLBACK	_IOC_NR(COWDEV_IOC_ROLLBACK)
#define NR_WRITTEN	_IOC_NR(COWDEV_IOC_WRITTEN)
#define FZ_NDESC ARRAY_SIZE(fz_descs)

static const struct fz_desc *fz_desc_of(unsigned int cmd)
{
	size_t i;

	if (_IOC_TYPE(cmd) != COWDEV_IOC_MAGIC)
		return NULL;
	for (i = 0; i < FZ_NDESC; i++)
		if (fz_descs[i].nr == _IOC_NR(cmd) &&
		    fz_descs[i].dir == _IOC_DIR(cmd))
			return &fz_descs[i];
	return NULL;
}

static size_t fz_gen_size(struct fz_thread *t, const struct fz_desc *d)
{
	size_t k = d ? d->ksize : 8, v0 = d ? d->ver0 : 8;

	switch (rn(t, 12)) {
	case 0:
		return 0;
	case 1:
		return 1 + rn(t, 7);
	case 2:
		return v0 ? v0 - 1 : 0;
	case 3:
		return v0;
	case 4:
		return k + 1 + rn(t, 64);
	case 5:
		return k + 8 * (1 + rn(t, 8));
	case 6:
		return 4096;
	case 7:
		return 4097;
	case 8:
		return 4097 + rn(t, _IOC_SIZEMASK - 4096);
	case 9:
		return _IOC_SIZEMASK;
	case 10:
		return rn(t, 4097);
	default:
		return k;
	}
}

/*
 * Magics the VFS answers some commands of itself (FIONBIO, FICLONE,
 * FS_IOC_*, ...): random commands avoid them.
 */
static bool fz_vfs_magic(unsigned int m)
{
	return m == 'T' || m == 'X' || m == 'f' || m == 0x94 || m == 0x15 ||
	       m == COWDEV_IOC_MAGIC;
}

static unsigned int fz_gen_cmd(struct fz_thread *t)
{
	static const unsigned int nrs[] = { 0, 8, 9, 0x0f, 0x10, 0x7f, 0x80,
					    0xfe, 0xff };
	unsigned int r = rn(t, 100), dir, nr, magic;
	const struct fz_desc *d = &fz_descs[rn(t, FZ_NDESC)];
	size_t size;

	if (r < 65) {
		size = d->ksize;
		if (chance(t, 30))
			size = d->dir == _IOC_NONE ? 1 + rn(t, 64) :
						     fz_gen_size(t, d);
		return _IOC(d->dir, COWDEV_IOC_MAGIC, d->nr, size);
	}
	if (r < 75) {
		dir = rn(t, 4);
		size = chance(t, 50) ? d->ksize : fz_gen_size(t, d);
		return _IOC(dir, COWDEV_IOC_MAGIC, d->nr, size);
	}
	if (r < 87) {
		nr = chance(t, 60) ? nrs[rn(t, 9)] : rn(t, 256);
		if (nr >= 1 && nr <= FZ_NDESC)
			nr = 0;
		return _IOC(rn(t, 4), COWDEV_IOC_MAGIC, nr, fz_gen_size(t, NULL));
	}
	if (r < 90)
		return chance(t, 50) ? TCGETS : TIOCGWINSZ;
	do
		magic = chance(t, 30) ? COWDEV_IOC_MAGIC + (chance(t, 50) ? 1 : -1)
				      : rn(t, 256);
	while (fz_vfs_magic(magic));
	return _IOC(rn(t, 4), magic, rn(t, 256), fz_gen_size(t, NULL));
}

/* A SET_SIZE value; @own: one that keeps an owned object modelable. */
uint64_t fz_gen_bytes(struct fz_thread *t, bool own)
{
	uint64_t max = (uint64_t)cfg.max_pages * cfg.ps, ps = cfg.ps;

	if (own)
		switch (rn(t, 8)) {
		case 0:
			return 0;
		case 1:
			return 1;
		case 2:
			return ps - 1;
		case 3:
			return ~0ULL;
		case 4:
			return (1ULL << 63) | rnd(t);
		default:
			return rn(t, FZ_OWN_PAGES * ps + 1);
		}
	switch (rn(t, 14)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return ps - 1;
	case 3:
		return ps;
	case 4:
		return ps + 1;
	case 5:
		return max;
	case 6:
		return max - 1;
	case 7:
		return max + 1;
	case 8:
		return max + ps;
	case 9:
		return ~0ULL;
	case 10:
		return rnd(t);
	case 11:
		return rn(t, 1024) * ps;
	default:
		return rn(t, 64 * ps + 1);
	}
}

/*
 * The arguments of one fuzzed ioctl and what the module may answer.
 * @arena is where an in-arena argument lives; @eff/@rd are the bytes an
 * input struct reads (what the kernel sees) and whether each is readable.
 */
struct fz_call {
	int fd;
	int own;		/* owned object, or -1 */
	unsigned int cmd;
	const struct fz_desc *d;
	size_t usize;
	uintptr_t arg;
	enum { P_ARENA, P_BAD, P_MAP } pcls;
	char pname[64];
	uint8_t eff[4096], rd[4096];
	/* PAGE_STATE's buffer, DIFF's and WRITTEN's: @blen bytes */
	uintptr_t buf;
	int bcls;
	char bname[64];
	size_t blen;
	struct cowdev_page_state ps;
	struct cowdev_diff diff;
	struct cowdev_written wr;
	unsigned int set;	/* acceptable results */
};

/* Expected results of PAGE_STATE @ps on a view of @size pages (-1: unknown). */
static unsigned int fz_page_state_set(struct fz_thread *t, struct fz_call *c,
				      const struct cowdev_page_state *ps,
				      long size)
{
	unsigned int set = 0, io;
	uint64_t end;
	size_t i;

	if (ps->flags & ~(uint64_t)COWDEV_PAGE_STATE_WRITTEN)
		return BIT(FR_EINVAL);
	if (__builtin_add_overflow(ps->start, ps->count, &end) ||
	    end > cfg.max_pages)
		return BIT(FR_EINVAL);
	if (size < 0)
		set |= BIT(FR_EINVAL);
	else if (end > (uint64_t)size)
		return BIT(FR_EINVAL);
	if (!ps->count)
		return set | BIT(FR_OK);
	if (c->bcls == P_BAD)
		io = BIT(FR_EFAULT);
	else if (c->bcls == P_MAP)
		io = BIT(FR_OK) | BIT(FR_EFAULT);
	else {
		io = BIT(FR_OK);
		for (i = 0; i < ps->count; i++)
			if (fz_kind(t->buf, ps->buf + i) != AK_RW) {
				io = BIT(FR_EFAULT);
				break;
			}
	}
	return set | io;
}

/* A range of pages for a view of @size pages (-1: unknown). */
static void fz_gen_range(struct fz_thread *t, long size, __u64 *start,
			 __u64 *count)
{
	uint64_t s = size < 0 ? 0 : size;

	*start = *count = 0;
	switch (rn(t, 12)) {
	case 0:
		*count = s;
		break;
	case 1:
		break;
	case 2:
		*start = s;
		break;
	case 3:
		*start = s + 1;
		break;
	case 4:
		*count = s + 1;
		break;
	case 5:
		*start = ~0ULL;
		*count = 2;
		break;
	case 6:
		*start = 1;
		*count = ~0ULL;
		break;
	case 7:
		*start = s ? s - 1 : 0;
		*count = 1;
		break;
	case 8:
		*start = rnd(t);
		*count = rnd(t);
		break;
	case 9:
		*count = cfg.max_pages + 1;
		break;
	default:
		*start = rn(t, s + 1);
		*count = rn(t, s - *start + 1);
		break;
	}
}

/*
 * An output buffer of @n bytes: in the buffer arena, a bad pointer, or
 * inside shared mapping @map (when locked, >= 0).
 */
static void fz_gen_buf(struct fz_thread *t, struct fz_call *c, uint64_t n,
		       int map)
{
	c->blen = n;
	c->bcls = P_ARENA;
	if (chance(t, 8))
		c->bcls = P_BAD;
	else if (map >= 0 && chance(t, 30))
		c->bcls = P_MAP;
	if (c->bcls == P_BAD) {
		c->buf = fz_bad_ptr(t, n, c->bname, sizeof(c->bname));
	} else if (c->bcls == P_MAP) {
		struct fz_map *fm = &P.map[map];
		size_t pages = MIN(fm->len / cfg.ps, FZ_TOUCH_PAGES);

		c->buf = (uintptr_t)fm->addr + rn(t, pages) * cfg.ps +
			 rn(t, cfg.ps);
		snprintf(c->bname, sizeof(c->bname), "cowdev mapping");
		/* Never let the module write past the mapping's end. */
		if (n > (uintptr_t)fm->addr + fm->len - c->buf)
			c->bcls = P_ARENA;
	}
	if (c->bcls == P_ARENA) {
		c->buf = fz_arena_ptr(t, t->buf, MIN(n, 2 * cfg.ps));
		fz_ptr_name(t->buf, c->buf, c->bname, sizeof(c->bname), "buf");
	}
}

static void fz_gen_page_state(struct fz_thread *t, struct fz_call *c,
			      struct cowdev_page_state *ps, long size,
			      int map)
{
	memset(ps, 0, sizeof(*ps));
	fz_gen_range(t, size, &ps->start, &ps->count);
	if (chance(t, 15))
		ps->flags = COWDEV_PAGE_STATE_WRITTEN;
	else if (chance(t, 8))
		ps->flags = chance(t, 50) ? 1ULL << rn(t, 64) : rnd(t);
	fz_gen_buf(t, c, ps->count, map);
	ps->buf = c->buf;
}

/*
 * The other view of a DIFF or ROLLBACK: the view itself, an owned one,
 * the thread's info view, a shared one, or no view at all.
 */
static int fz_gen_other_fd(struct fz_thread *t, struct fz_call *c)
{
	int o;

	switch (rn(t, 10)) {
	case 0:
		return c->fd;
	case 1:
	case 2:
		o = fz_own_pick(t);
		return o < 0 ? c->fd : t->own[o].fd;
	case 3:
		return t->info_fd;
	case 4:
		return P.obj[rn(t, FZ_OBJS)].fd;
	case 5:
		return P.race_fd;
	case 6:
		return t->pipe[rn(t, 2)];
	case 7:
		return chance(t, 50) ? -1 : 0x7ffffff0;
	default:
		o = fz_own_pick(t);
		return o >= 0 && c->own < 0 ? t->own[o].fd :
		       P.obj[rn(t, FZ_OBJS)].fd;
	}
}

static void fz_gen_diff(struct fz_thread *t, struct fz_call *c,
			struct cowdev_diff *d, long size, int map)
{
	memset(d, 0, sizeof(*d));
	d->fd = fz_gen_other_fd(t, c);
	fz_gen_range(t, size, &d->start, &d->count);
	if (chance(t, 8))
		d->flags = chance(t, 50) ? 1U << rn(t, 32) : (uint32_t)rnd(t);
	if (chance(t, 15)) {
		c->buf = 0;
		c->blen = 0;
		snprintf(c->bname, sizeof(c->bname), "none");
	} else {
		fz_gen_buf(t, c, d->count, map);
	}
	d->buf = c->buf;
}

static void fz_gen_written(struct fz_thread *t, struct fz_call *c,
			   struct cowdev_written *w, long size, int map)
{
	memset(w, 0, sizeof(*w));
	fz_gen_range(t, size, &w->start, &w->count);
	if (chance(t, 35))
		w->flags = COWDEV_WRITTEN_CLEAR;
	else if (chance(t, 8))
		w->flags = chance(t, 50) ? 1ULL << rn(t, 64) : rnd(t);
	if (chance(t, 15)) {
		c->buf = 0;
		c->blen = 0;
		snprintf(c->bname, sizeof(c->bname), "none");
	} else {
		fz_gen_buf(t, c, w->count / 8 + !!(w->count % 8), map);
	}
	w->buf = c->buf;
}

/* Check PAGE_STATE's buffer arena after the call: nothing outside written. */
static void fz_check_buf(struct fz_thread *t, struct fz_call *c, int err)
{
	size_t ps = cfg.ps, i;
	uintptr_t base = (uintptr_t)t->buf;

	if (c->bcls != P_ARENA)
		return;
	for (i = 0; i < FZ_ARENA_PAGES * ps; i++) {
		uintptr_t p = base + i;
		uint8_t v;

		if (fz_kinds[i / ps] != AK_RW)
			continue;
		v = *(uint8_t *)p;
		if (p >= c->buf && p - c->buf < c->ps.count) {
			/* Inside: states, or untouched after EFAULT. */
			if (c->ps.flags)
				v &= ~COWDEV_PAGE_WRITTEN;
			if (fz_state_ok(v) || (err && v == FZ_GUARD_BUF))
				continue;
			fz_fail(t, "PAGE_STATE start %llu count %llu buf %s: byte %zu is %#x, not a page state",
				(unsigned long long)c->ps.start,
				(unsigned long long)c->ps.count, c->bname,
				(size_t)(p - c->buf), v);
			return;
		}
		if (v != FZ_GUARD_BUF) {
			fz_fail(t, "PAGE_STATE start %llu count %llu buf %s (%s): wrote outside the buffer at offset %ld",
				(unsigned long long)c->ps.start,
				(unsigned long long)c->ps.count, c->bname,
				err ? strerror(err) : "success",
				(long)(p - c->buf));
			return;
		}
	}
}

/*
 * DIFF's and WRITTEN's buffer in the arena: nothing outside its @c->blen
 * bytes written, and DIFF's bytes are COWDEV_DIFF_* values.
 */
static void fz_check_out_buf(struct fz_thread *t, struct fz_call *c, int err)
{
	uintptr_t base = (uintptr_t)t->buf, p;
	size_t i;
	uint8_t v;

	if (c->bcls != P_ARENA || !c->buf)
		return;
	for (i = 0; i < FZ_ARENA_PAGES * cfg.ps; i++) {
		if (fz_kinds[i / cfg.ps] != AK_RW)
			continue;
		p = base + i;
		v = *(uint8_t *)p;
		if (p >= c->buf && p - c->buf < c->blen) {
			if (c->d->nr == NR_DIFF && !err &&
			    v > COWDEV_DIFF_ONLY_OTHER) {
				fz_fail(t, "DIFF count %llu buf %s: byte %zu is %u",
					(unsigned long long)c->diff.count,
					c->bname, (size_t)(p - c->buf), v);
				return;
			}
			continue;
		}
		if (v != FZ_GUARD_BUF) {
			fz_fail(t, "ioctl nr %#x buf %s (%zu bytes, %s): wrote outside the buffer at offset %ld",
				c->d->nr, c->bname, c->blen,
				err ? strerror(err) : "success",
				(long)(p - c->buf));
			return;
		}
	}
}

/*
 * A DIFF or WRITTEN that went through: the reply in the struct at
 * @c->arg, with its buffer when that is in the arena.
 */
static void fz_check_snap_reply(struct fz_thread *t, struct fz_call *c,
				int err)
{
	const uint8_t *buf = NULL;

	fz_check_out_buf(t, c, err);
	if (c->d->nr == NR_WRITTEN && c->own >= 0 && err == EFAULT &&
	    c->wr.flags == COWDEV_WRITTEN_CLEAR &&
	    c->wr.start <= t->own[c->own].m.size &&
	    c->wr.count <= t->own[c->own].m.size - c->wr.start)
		/* Whether a CLEAR that failed to reply cleared is not known. */
		memset(t->own[c->own].wr + c->wr.start, FZ_WR_UNKNOWN,
		       c->wr.count);
	if (err || c->pcls != P_ARENA)
		return;
	/* The buffer the module wrote: only the one generated, in the arena. */
	if (c->d->nr == NR_DIFF) {
		memcpy(&c->diff, (const void *)c->arg, sizeof(c->diff));
		if (c->bcls == P_ARENA && c->diff.buf && c->diff.buf == c->buf)
			buf = (const uint8_t *)c->buf;
		fz_check_diff(t, c->diff.count, &c->diff, buf);
	} else if (c->d->nr == NR_WRITTEN) {
		memcpy(&c->wr, (const void *)c->arg, sizeof(c->wr));
		if (c->bcls == P_ARENA && c->wr.buf && c->wr.buf == c->buf)
			buf = (const uint8_t *)c->buf;
		fz_check_written(t, c->own, &c->wr, buf);
	}
}

/* Check an output struct written at @c->arg; @err is the call's result. */
static void fz_check_output(struct fz_thread *t, struct fz_call *c, int err)
{
	const uint8_t *p = (const uint8_t *)c->arg;
	size_t ksize = c->d->ksize, n = MIN(c->usize, ksize), i;
	uintptr_t base = (uintptr_t)t->arg;
	union {
		__u64 size;
		struct cowdev_stats st;
		struct cowdev_pool_info pi;
	} out;

	if (c->pcls != P_ARENA)
		return;
	/* Nothing outside [arg, arg + usize) written, success or not. */
	for (i = 0; i < FZ_ARENA_PAGES * cfg.ps; i++) {
		uintptr_t q = base + i;

		if (fz_kinds[i / cfg.ps] != AK_RW ||
		    (q >= c->arg && q - c->arg < c->usize))
			continue;
		if (*(uint8_t *)q != FZ_GUARD_ARG) {
			fz_fail(t, "ioctl %#x size %zu arg %s: byte at offset %ld outside the argument written",
				c->cmd, c->usize, c->pname,
				(long)(q - c->arg));
			return;
		}
	}
	if (err)
		return;
	for (i = ksize; i < c->usize; i++)
		if (p[i]) {
			fz_fail(t, "ioctl %#x size %zu: byte %zu past the module's %zu-byte struct is %#x, not 0",
				c->cmd, c->usize, i, ksize, p[i]);
			return;
		}
	memset(&out, 0, sizeof(out));
	memcpy(&out, p, n);
	switch (c->d->nr) {
	case 0x02:
		if (n < 8)
			break;
		if (out.size % cfg.ps ||
		    out.size > (uint64_t)cfg.max_pages * cfg.ps ||
		    (c->own >= 0 && out.size != t->own[c->own].m.size * cfg.ps))
			fz_fail(t, "GET_SIZE: %llu (owned model %ld pages)",
				(unsigned long long)out.size,
				c->own >= 0 ? (long)t->own[c->own].m.size : -1L);
		break;
	case 0x03:
		fz_check_stats(t, c->own, &out.st, n);
		break;
	case 0x05:
		fz_check_pool(t, &out.pi, n, "POOL_INFO");
		break;
	}
}

/*
 * How a DIFF or WRITTEN may fare with the buffer @buf of @n bytes the
 * module reads in @c->eff: 0 writable, 1 EFAULT, 2 either; -1 when the
 * buffer could be anywhere (the call must not be made).
 */
static int fz_buf_class(struct fz_thread *t, struct fz_call *c, uint64_t buf,
			uint64_t n)
{
	uint64_t end, i;

	if (buf != c->buf) {
		/*
		 * Bytes of a read-only page replaced part of buf: only go
		 * on when it surely points nowhere.
		 */
		if (buf < 0x800000000000ULL &&
		    (__builtin_add_overflow(buf, n, &end) || end > 0x10000))
			return -1;
		return 1;
	}
	if (c->bcls == P_BAD)
		return 1;
	if (c->bcls == P_MAP)
		return 2;
	for (i = 0; i < n; i++)
		if (fz_kind(t->buf, buf + i) != AK_RW)
			return 1;
	return 0;
}

/* What DIFF, WRITTEN or ROLLBACK answers for the struct in @c->eff. */
static unsigned int fz_snap_input_set(struct fz_thread *t, struct fz_call *c,
				      long size)
{
	struct cowdev_rollback rb;
	int cls;

	/* Shared views change size under our feet (SET_SIZE, ROLLBACK). */
	if (c->own < 0)
		size = -1;
	if (c->d->nr == NR_ROLLBACK) {
		memcpy(&rb, c->eff, sizeof(rb));
		return fz_rollback_set(t, c->own, c->fd, &rb);
	}
	if (c->d->nr == NR_DIFF) {
		memset(&c->diff, 0, sizeof(c->diff));
		memcpy(&c->diff, c->eff, MIN(c->usize, sizeof(c->diff)));
		cls = fz_buf_class(t, c, c->diff.buf, c->diff.count);
		if (cls < 0 && c->diff.buf && c->diff.count)
			return 0;
		return fz_diff_set(t, c->own, size, &c->diff, cls);
	}
	memset(&c->wr, 0, sizeof(c->wr));
	memcpy(&c->wr, c->eff, MIN(c->usize, sizeof(c->wr)));
	cls = fz_buf_class(t, c, c->wr.buf,
			   c->wr.count / 8 + !!(c->wr.count % 8));
	if (cls < 0 && c->wr.buf && c->wr.count)
		return 0;
	return fz_written_set(size, &c->wr, cls);
}

/* What the handler of @c->d answers for the input struct in @c->eff. */
static unsigned int fz_input_set(struct fz_thread *t, struct fz_call *c)
{
	long size = c->own >= 0 ? (long)t->own[c->own].m.size : -1;

	if (c->d->nr == 0x01) {
		uint64_t v;

		memcpy(&v, c->eff, 8);
		return v > (uint64_t)cfg.max_pages * cfg.ps ? BIT(FR_EFBIG) :
							      BIT(FR_OK);
	}
	if (c->d->nr == 0x0a)
		return BIT(FR_OK);	/* any limit */
	if (c->d->nr == 0x08) {
		struct cowdev_swapon sw;
		unsigned int set;
		bool attaches;
		int i;

		memcpy(&sw, c->eff, sizeof(sw));
		set = fz_swapon_set(sw.fd, sw.flags, &attaches);
		/* Attach only our own files (the read-only pages may have
		 * turned the fd into another one).
		 */
		for (i = 0; attaches && i < FZ_SWAP_FDS; i++)
			if (P.swap_fd[i] == sw.fd)
				return set;
		return attaches ? 0 : set;
	}
	if (c->d->nr == NR_DIFF || c->d->nr == NR_WRITTEN ||
	    c->d->nr == NR_ROLLBACK)
		return fz_snap_input_set(t, c, size);
	memset(&c->ps, 0, sizeof(c->ps));
	memcpy(&c->ps, c->eff, MIN(c->usize, sizeof(c->ps)));
	if (c->ps.buf != c->buf && !c->ps.flags) {
		/*
		 * Zeros of a read-only page replaced part of buf: the module
		 * would write wherever that points.  Only go on when that is
		 * surely nowhere.
		 */
		uint64_t end;

		if (c->ps.buf < 0x800000000000ULL &&
		    (__builtin_add_overflow(c->ps.buf, c->ps.count, &end) ||
		     end > 0x10000))
			return 0;
		c->bcls = P_BAD;
	}
	return fz_page_state_set(t, c, &c->ps, size);
}

void op_ioctl(struct fz_thread *t)
{
	static __thread struct fz_call call;
	struct fz_call *c = &call;
	uint8_t want[4096];
	int slot = -1, map = -1, err, newfd = -1;
	long size = -1, ret;
	size_t i;

	c->own = -1;
	if (chance(t, 30))
		c->own = fz_own_pick(t);
	if (c->own >= 0) {
		c->fd = t->own[c->own].fd;
		size = t->own[c->own].m.size;
	} else {
		if (chance(t, 15)) {
			c->fd = P.race_fd;	/* swapped under our feet */
		} else {
			slot = fz_obj_rdlock(t);
			if (slot < 0)
				return;
			c->fd = P.obj[slot].fd;
		}
		map = fz_map_lock(t, false, true);
		if (map >= 0 && !P.map[map].addr) {
			pthread_rwlock_unlock(&P.map[map].lock);
			map = -1;
		}
		if (chance(t, 50)) {
			uint64_t b;

			if (!cowdev_get_size(c->fd, &b))
				size = b / cfg.ps;
		}
	}
	c->cmd = fz_gen_cmd(t);
	c->d = fz_desc_of(c->cmd);
	c->usize = _IOC_SIZE(c->cmd);
	c->pcls = P_ARENA;
	c->bcls = P_ARENA;
	c->buf = 0;
	c->blen = 0;
	c->arg = 0;
	memset(&c->diff, 0, sizeof(c->diff));
	memset(&c->wr, 0, sizeof(c->wr));
	snprintf(c->pname, sizeof(c->pname), "-");
	fz_arena_fill(t->arg, FZ_GUARD_ARG);
	fz_arena_fill(t->buf, FZ_GUARD_BUF);

	/* The command alone. */
	if (!c->d || (c->d->dir == _IOC_NONE && c->usize)) {
		c->set = BIT(FR_ENOTTY);
		c->d = NULL;
	} else if (c->d->dir == _IOC_NONE) {
		/* SWAPOFF: none attached, or the pool cannot take it back. */
		c->set = c->d->nr == 0x09 ?
			 BIT(FR_OK) | BIT(FR_EINVAL) | BIT(FR_ENOMEM) :
			 BIT(FR_OK);
	} else if (c->usize < c->d->ver0) {
		c->set = BIT(FR_EINVAL);
	} else if (c->usize > 4096) {
		c->set = BIT(FR_E2BIG);
	} else {
		c->set = 0;
	}

	/* The argument. */
	i = rn(t, 100);
	if (c->set || !c->d || c->d->dir == _IOC_NONE) {
		c->arg = i < 50 ? fz_arena_ptr(t, t->arg, 8) :
			 fz_bad_ptr(t, 8, c->pname, sizeof(c->pname));
	} else if (i < 10) {
		c->pcls = P_BAD;
		c->arg = fz_bad_ptr(t, c->usize, c->pname, sizeof(c->pname));
		c->set = BIT(FR_EFAULT);
	} else if (i < 20 && map >= 0 && c->d->nr != NR_PAGE_STATE &&
		   c->d->nr != NR_SWAPON && c->d->nr != NR_DIFF &&
		   c->d->nr != NR_WRITTEN && c->d->nr != NR_ROLLBACK) {
		/*
		 * (Never a PAGE_STATE, DIFF or WRITTEN struct: its buf would
		 * be anything; nor a SWAPON one: its fd could be a file
		 * SWAPON takes; nor a ROLLBACK one: its fd could be an owned
		 * view's twin.)
		 */
		struct fz_map *fm = &P.map[map];
		size_t pages = MIN(fm->len / cfg.ps, FZ_TOUCH_PAGES);

		c->pcls = P_MAP;
		c->arg = (uintptr_t)fm->addr + rn(t, pages) * cfg.ps +
			 (chance(t, 50) ? cfg.ps - rn(t, c->usize) - 1 :
					  rn(t, cfg.ps - c->usize + 1));
		if (c->arg + c->usize > (uintptr_t)fm->addr + fm->len)
			c->arg = (uintptr_t)fm->addr;
		snprintf(c->pname, sizeof(c->pname), "cowdev mapping (%s)",
			 fm->shared ? "shared" : "private");
		c->set = c->d->dir & _IOC_WRITE ?
			 BIT(FR_OK) | BIT(FR_EFAULT) | BIT(FR_E2BIG) |
			 BIT(FR_EINVAL) | BIT(FR_EFBIG) :
			 BIT(FR_OK) | BIT(FR_EFAULT);
		if (c->d->nr == 0x07)
			c->bcls = P_BAD;	/* buf unknown: never in arena */
	} else {
		c->arg = fz_arena_ptr(t, t->arg, c->usize);
		fz_ptr_name(t->arg, c->arg, c->pname, sizeof(c->pname), "arg");
		if (c->d->dir & _IOC_WRITE) {
			bool all = true, tail_nz = false;

			/* Build the struct, then see what the kernel reads. */
			memset(want, 0, c->usize);
			if (c->d->nr == 0x01) {
				uint64_t v = fz_gen_bytes(t, c->own >= 0);

				memcpy(want, &v, 8);
			} else if (c->d->nr == 0x0a) {
				uint64_t v = fz_gen_limit(t);

				memcpy(want, &v, 8);
			} else if (c->d->nr == 0x08) {
				struct cowdev_swapon sw = {
					.fd = fz_swap_fd(t, chance(t, 40)),
				};

				if (chance(t, 20))
					sw.fd = chance(t, 50) ? c->fd :
						t->pipe[rn(t, 2)];
				if (chance(t, 10))
					sw.flags = 1U << rn(t, 32);
				memcpy(want, &sw, sizeof(sw));
			} else if (c->d->nr == NR_DIFF) {
				struct cowdev_diff d;

				fz_gen_diff(t, c, &d, size, map);
				memcpy(want, &d, sizeof(d));
			} else if (c->d->nr == NR_WRITTEN) {
				struct cowdev_written w;

				fz_gen_written(t, c, &w, size, map);
				memcpy(want, &w, sizeof(w));
			} else if (c->d->nr == NR_ROLLBACK) {
				struct cowdev_rollback rb = {
					.fd = fz_gen_other_fd(t, c),
				};

				if (chance(t, 8))
					rb.flags = 1U << rn(t, 32);
				memcpy(want, &rb, sizeof(rb));
			} else {
				struct cowdev_page_state ps;

				fz_gen_page_state(t, c, &ps, size, map);
				memcpy(want, &ps, sizeof(ps));
			}
			if (c->usize > c->d->ksize && chance(t, 30))
				want[c->d->ksize + rn(t, c->usize - c->d->ksize)] =
					1 + rn(t, 255);
			for (i = 0; i < c->usize; i++) {
				uintptr_t q = c->arg + i;

				switch (fz_kind(t->arg, q)) {
				case AK_RW:
					*(uint8_t *)q = want[i];
					c->eff[i] = want[i];
					c->rd[i] = 1;
					break;
				case AK_RO0:
					c->eff[i] = 0;
					c->rd[i] = 1;
					break;
				case AK_ROX:
					c->eff[i] = FZ_ROX_BYTE;
					c->rd[i] = 1;
					break;
				default:
					c->eff[i] = 0;
					c->rd[i] = 0;
					all = false;
				}
				if (i >= c->d->ksize && c->rd[i] && c->eff[i])
					tail_nz = true;
			}
			if (!all)
				c->set = BIT(FR_EFAULT) |
					 (tail_nz ? BIT(FR_E2BIG) : 0);
			else if (tail_nz)
				c->set = BIT(FR_E2BIG);
			else
				c->set = fz_input_set(t, c);
			/* DIFF, WRITTEN: a reply into read-only bytes. */
			for (i = 0; (c->d->dir & _IOC_READ) &&
			     (c->set & BIT(FR_OK)) && i < c->usize; i++)
				if (fz_kind(t->arg, c->arg + i) != AK_RW)
					c->set = (c->set & ~BIT(FR_OK)) |
						 BIT(FR_EFAULT);
			if ((c->d->nr == NR_PAGE_STATE || c->d->nr == NR_DIFF ||
			     c->d->nr == NR_WRITTEN) && c->bcls == P_ARENA)
				fz_arena_fill(t->buf, FZ_GUARD_BUF);
		} else {
			c->set = BIT(FR_OK);
			for (i = 0; i < c->usize; i++)
				if (fz_kind(t->arg, c->arg + i) != AK_RW) {
					c->set = BIT(FR_EFAULT);
					break;
				}
		}
	}
	if (c->own >= 0 && c->d && c->d->nr == 0x01 &&
	    (c->set & BIT(FR_OK)) && c->pcls == P_ARENA) {
		uint64_t v;

		memcpy(&v, c->eff, 8);
		if ((v + cfg.ps - 1) / cfg.ps > FZ_OWN_PAGES) {
			/* Would leave the model's range: not for owned. */
			c->set = 0;
		}
	}
	if (!c->set)
		goto done;

	if (cfg.verbose)
		fprintf(stderr, "# %s %lu ioctl fd %d cmd %#x arg %s\n", t->who,
			t->iter, c->fd, c->cmd, c->pname);
	if (c->d && c->d->nr == 0x09)
		__atomic_fetch_add(&cfg.rep->swapoff_running, 1, __ATOMIC_RELAXED);
	ret = fz_ioctl(c->fd, c->cmd, c->arg);
	err = fz_err(ret);
	if (c->d && c->d->nr == 0x09)
		__atomic_fetch_sub(&cfg.rep->swapoff_running, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&cfg.rep->ioctl_res[fz_res(err)], 1,
			   __ATOMIC_RELAXED);
	if (!fz_expect(t, err, c->set,
		       "ioctl(%s, cmd %#x = dir %u nr %#x size %u magic %#x, arg %s%s%s)",
		       c->own >= 0 ? "owned view" : "shared view", c->cmd,
		       _IOC_DIR(c->cmd), _IOC_NR(c->cmd), _IOC_SIZE(c->cmd),
		       _IOC_TYPE(c->cmd), c->pname,
		       c->d && c->d->nr == 0x07 ? ", buf " : "",
		       c->d && c->d->nr == 0x07 ? c->bname : "")) {
		if (c->d && c->d->nr == NR_ROLLBACK)
			fz_report_rollback(t, c->own, c->fd,
					   ((struct cowdev_rollback *)c->eff)->fd);
		goto done;
	}
	if (!c->d)
		goto done;
	if (c->d->nr == 0x06 && !err) {
		newfd = ret;
		if (!(fcntl(newfd, F_GETFD) & FD_CLOEXEC))
			fz_fail(t, "CLONE: fd %d without FD_CLOEXEC", newfd);
		if (c->own >= 0) {
			int n = fz_own_free_slot(t);

			fz_own_cloned(t, c->own, n, newfd);
			if (n < 0)
				close(newfd);
		} else {
			fz_obj_store(t, newfd, true, true, true, slot);
		}
	}
	if ((c->d->dir & _IOC_READ) && c->pcls == P_ARENA)
		fz_check_output(t, c, err);
	if (c->d->nr == 0x07 && c->pcls == P_ARENA) {
		fz_check_buf(t, c, err);
		if (!err && c->own >= 0 && c->ps.count) {
			uint8_t *m = (uint8_t *)c->buf;

			for (i = 0; c->ps.flags && i < c->ps.count; i++)
				m[i] &= ~COWDEV_PAGE_WRITTEN;
			fz_check_states(t, c->own, c->ps.start, c->ps.count, m);
		}
	}
	if (c->d->nr == NR_DIFF || c->d->nr == NR_WRITTEN)
		fz_check_snap_reply(t, c, err);
	if (c->d->nr == 0x0a && !err && c->own >= 0) {
		struct cowdev_stats st;

		if (!cowdev_get_stats(c->fd, &st)) {
			if (c->pcls == P_ARENA &&
			    memcmp(&st.resident_limit, c->eff, 8))
				fz_fail(t, "GET_STATS: resident_limit %llu after SET_RESIDENT_LIMIT",
					(unsigned long long)st.resident_limit);
			t->own[c->own].limit = st.resident_limit;
		} else {
			t->own[c->own].limit = ~0ULL;	/* some limit */
		}
	}
	if ((c->d->nr == 0x08 || c->d->nr == 0x09) && !err)
		__atomic_fetch_add(c->d->nr == 0x08 ? &cfg.rep->swapons :
				   &cfg.rep->swapoffs, 1, __ATOMIC_RELAXED);
	if (c->d->nr == 0x01 && !err && c->own >= 0 && c->pcls == P_ARENA) {
		uint64_t v;

		memcpy(&v, c->eff, 8);
		fz_own_resize(t, c->own, (v + cfg.ps - 1) / cfg.ps);
	}
done:
	fz_arena_fill(t->arg, FZ_GUARD_ARG);
	if (map >= 0)
		pthread_rwlock_unlock(&P.map[map].lock);
	if (slot >= 0)
		pthread_rwlock_unlock(&P.obj[slot].lock);
}

