// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev_fuzz_test: snapshots -- COWDEV_IOC_DIFF, COWDEV_IOC_ROLLBACK and
 * COWDEV_IOC_WRITTEN -- and what the module may answer them.
 *
 * op_snap works on the thread's owned objects and checks every answer
 * against the model: DIFF page by page from the models' page ids (equal
 * ids are one pool page or swap slot), ROLLBACK's new contents, size and
 * counters (the snapshot's model becomes the view's), WRITTEN's bits (the
 * model's written marks: set by writes through shared mappings, by pages
 * a shrink or a rollback took away; cleared by CLEAR; unknown after a
 * write that failed), PAGE_STATE with COWDEV_PAGE_STATE_WRITTEN; and the
 * same calls with arguments the module must refuse, which change no
 * counter.  The ioctl op (ioctl_ops.c) sends the three commands with
 * random sizes and arguments to shared and owned views and checks the
 * answers with fz_diff_set(), fz_rollback_set(), fz_written_set() and the
 * fz_check_*() below.
 */
#include "fuzz.h"

/* What an fd of a DIFF or ROLLBACK argument is, as far as known. */
enum { FDK_BAD, FDK_OTHER, FDK_VIEW, FDK_UNSURE };

/*
 * Only this thread's owned views, its info view and its pipes are known
 * for sure: other fds may be closed or replaced by other threads at any
 * time.  *@own: the owned object, or -1; *@size: the view's size in
 * pages, or -1.
 */
static int fz_fd_kind(struct fz_thread *t, int fd, int *own, long *size)
{
	int o;

	*own = -1;
	*size = -1;
	if (fd < 0 || fd >= (1 << 20))
		return FDK_BAD;
	for (o = 0; o < FZ_OWN_OBJS; o++)
		if (t->own[o].live && t->own[o].fd == fd) {
			*own = o;
			*size = t->own[o].m.size;
			return FDK_VIEW;
		}
	if (fd == t->info_fd) {
		*size = 0;
		return FDK_VIEW;
	}
	if (fd == t->pipe[0] || fd == t->pipe[1])
		return FDK_OTHER;
	return FDK_UNSURE;
}

/*
 * The answers of a call whose refusals are @certain (it must give one of
 * them), @maybe (it may), and otherwise @ok.
 */
static unsigned int fz_answers(unsigned int certain, unsigned int maybe,
			       unsigned int ok)
{
	return certain ? certain | maybe : maybe | ok;
}

/*
 * The answers of a call over @count pages that is otherwise right, with
 * buffer @buf of class @bufcls: 1 bad (EFAULT), 2 maybe bad, else good.
 */
static unsigned int fz_buf_ok(uint64_t count, uint64_t buf, int bufcls)
{
	if (count && buf && bufcls == 1)
		return BIT(FR_EFAULT);
	if (count && buf && bufcls == 2)
		return BIT(FR_OK) | BIT(FR_EFAULT);
	return BIT(FR_OK);
}

unsigned int fz_diff_set(struct fz_thread *t, int own, long size,
			 const struct cowdev_diff *d, int bufcls)
{
	unsigned int certain = 0, maybe = 0;
	int kind, other;
	long osize;
	uint64_t end;

	if (d->flags)
		certain |= BIT(FR_EINVAL);
	kind = fz_fd_kind(t, d->fd, &other, &osize);
	if (kind == FDK_BAD)
		certain |= BIT(FR_EBADF);
	else if (kind == FDK_OTHER)
		certain |= BIT(FR_EINVAL);
	else if (kind == FDK_UNSURE)
		maybe |= BIT(FR_EBADF) | BIT(FR_EINVAL);
	if (__builtin_add_overflow(d->start, d->count, &end) ||
	    end > cfg.max_pages)
		certain |= BIT(FR_EINVAL);
	else if (size >= 0 && osize >= 0 && kind == FDK_VIEW) {
		if (end > (uint64_t)(size > osize ? size : osize))
			certain |= BIT(FR_EINVAL);
	} else {
		maybe |= BIT(FR_EINVAL);
	}
	return fz_answers(certain, maybe, fz_buf_ok(d->count, d->buf, bufcls));
}

unsigned int fz_rollback_set(struct fz_thread *t, int own, int fd,
			     const struct cowdev_rollback *rb)
{
	int kind, other;
	long osize;

	if (rb->flags)
		return BIT(FR_EINVAL) | BIT(FR_EBADF) | BIT(FR_EXDEV);
	if (rb->fd == fd)
		return BIT(FR_EINVAL);
	kind = fz_fd_kind(t, rb->fd, &other, &osize);
	if (kind == FDK_BAD)
		return BIT(FR_EBADF);
	if (kind == FDK_OTHER)
		return BIT(FR_EINVAL);
	if (own >= 0) {
		/* The owned object's family: only op_snap rolls it back. */
		if (other >= 0 && t->own[other].fam == t->own[own].fam)
			return 0;
		if (kind == FDK_VIEW)
			return BIT(FR_EXDEV);
		return BIT(FR_EBADF) | BIT(FR_EINVAL) | BIT(FR_EXDEV);
	}
	/* A shared view: owned objects are of families of their own. */
	if (kind == FDK_VIEW)
		return BIT(FR_EXDEV);
	return BIT(FR_EBADF) | BIT(FR_EINVAL) | BIT(FR_EXDEV) | FZ_CLONE_OK;
}

unsigned int fz_written_set(long size, const struct cowdev_written *w,
			    int bufcls)
{
	unsigned int certain = 0, maybe = 0;
	uint64_t end;

	if (w->flags & ~(uint64_t)COWDEV_WRITTEN_CLEAR)
		certain |= BIT(FR_EINVAL);
	if (__builtin_add_overflow(w->start, w->count, &end) ||
	    end > cfg.max_pages || (size >= 0 && end > (uint64_t)size))
		certain |= BIT(FR_EINVAL);
	else if (size < 0)
		maybe |= BIT(FR_EINVAL);
	return fz_answers(certain, maybe, fz_buf_ok(w->count, w->buf, bufcls));
}

/* The counts of a DIFF add up to its count, and match its bytes. */
void fz_check_diff(struct fz_thread *t, uint64_t count,
		   const struct cowdev_diff *d, const uint8_t *map)
{
	uint64_t n[5] = { 0 }, i;

	if (d->same + d->different + d->only_this + d->only_other > count) {
		fz_fail(t, "DIFF of %llu pages: counts %llu %llu %llu %llu",
			(unsigned long long)count,
			(unsigned long long)d->same,
			(unsigned long long)d->different,
			(unsigned long long)d->only_this,
			(unsigned long long)d->only_other);
		return;
	}
	if (!map)
		return;
	for (i = 0; i < count; i++) {
		if (map[i] > COWDEV_DIFF_ONLY_OTHER) {
			fz_fail(t, "DIFF: byte %llu is %u",
				(unsigned long long)i, map[i]);
			return;
		}
		n[map[i]]++;
	}
	if (n[COWDEV_DIFF_SAME] != d->same ||
	    n[COWDEV_DIFF_DIFFERENT] != d->different ||
	    n[COWDEV_DIFF_ONLY_THIS] != d->only_this ||
	    n[COWDEV_DIFF_ONLY_OTHER] != d->only_other)
		fz_fail(t, "DIFF of %llu pages: map has %llu/%llu/%llu/%llu, counts say %llu/%llu/%llu/%llu",
			(unsigned long long)count,
			(unsigned long long)n[1], (unsigned long long)n[2],
			(unsigned long long)n[3], (unsigned long long)n[4],
			(unsigned long long)d->same,
			(unsigned long long)d->different,
			(unsigned long long)d->only_this,
			(unsigned long long)d->only_other);
}

static bool fz_bit(const uint8_t *bits, uint64_t i)
{
	return bits[i / 8] & (1U << (i % 8));
}

/*
 * A WRITTEN answer: the count is the number of bits set, bits past the
 * count are 0; for owned object @own, every bit the model knows is right,
 * and a CLEAR leaves the model's range unwritten.
 */
void fz_check_written(struct fz_thread *t, int own,
		      const struct cowdev_written *w, const uint8_t *bits)
{
	struct fz_own *a = own >= 0 ? &t->own[own] : NULL;
	uint64_t i, set = 0, known = 0, yes = 0;

	/* (A success means the range is inside the view: check the model's.) */
	if (a && (w->start > a->m.size || w->count > a->m.size - w->start)) {
		fz_fail(t, "WRITTEN start %llu count %llu succeeded on a view of %lu pages",
			(unsigned long long)w->start,
			(unsigned long long)w->count, a->m.size);
		a = NULL;
	}

	for (i = 0; a && i < w->count; i++) {
		uint8_t m = a->wr[w->start + i];

		if (m == FZ_WR_UNKNOWN)
			continue;
		known++;
		yes += m == FZ_WR_YES;
		if (bits && fz_bit(bits, i) != (m == FZ_WR_YES)) {
			fz_fail(t, "WRITTEN start %llu count %llu%s: page %llu is %s, model %s",
				(unsigned long long)w->start,
				(unsigned long long)w->count,
				w->flags ? " CLEAR" : "",
				(unsigned long long)(w->start + i),
				fz_bit(bits, i) ? "written" : "not written",
				m == FZ_WR_YES ? "written" : "not written");
			break;
		}
	}
	if (a && !bits && known == w->count && yes != w->written)
		fz_fail(t, "WRITTEN start %llu count %llu: %llu written, model %llu",
			(unsigned long long)w->start,
			(unsigned long long)w->count,
			(unsigned long long)w->written,
			(unsigned long long)yes);
	if (a && (w->flags & COWDEV_WRITTEN_CLEAR))
		memset(a->wr + w->start, FZ_WR_NO, w->count);
	if (!bits)
		return;
	for (i = 0; i < w->count; i++)
		set += fz_bit(bits, i);
	if (set != w->written)
		fz_fail(t, "WRITTEN start %llu count %llu: written %llu, %llu bits set",
			(unsigned long long)w->start,
			(unsigned long long)w->count,
			(unsigned long long)w->written,
			(unsigned long long)set);
	if (w->count % 8 && bits[w->count / 8] >> (w->count % 8))
		fz_fail(t, "WRITTEN count %llu: bits past the count in %#x",
			(unsigned long long)w->count, bits[w->count / 8]);
}

/* The view id of view @fd, for reports; 0 when it cannot be read. */
uint64_t fz_view_id(int fd)
{
	struct cowdev_stats st;

	return cowdev_get_stats(fd, &st) ? 0 : st.view_id;
}

/* For a report: what fd @fd is (view id, file), into @buf. */
static const char *fz_fd_desc(int fd, char *buf, size_t len)
{
	struct cowdev_stats st;
	char path[64], link[96];
	struct stat sb;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	if (fstat(fd, &sb))
		memset(&sb, 0, sizeof(sb));
	snprintf(buf, len, "fd %d (%s, ino %lu, view %lld)", fd, link,
		 (unsigned long)sb.st_ino,
		 cowdev_get_stats(fd, &st) ? -1LL : (long long)st.view_id);
	return buf;
}

/*
 * After an unexpected ROLLBACK answer of owned object @own (or a shared
 * view, -1) with fd @fd onto @snap: what both fds are, for the module and
 * for the model.
 */
void fz_report_rollback(struct fz_thread *t, int own, int fd, int snap)
{
	char d1[160], d2[160];
	long size;
	int q, kind = fz_fd_kind(t, snap, &q, &size);

	fz_fail(t, "ROLLBACK of %s (model: view %llu, family %llu of view %llu) onto %s (model: %s, view %llu, family %llu of view %llu)",
		fz_fd_desc(fd, d1, sizeof(d1)),
		(unsigned long long)(own >= 0 ? t->own[own].vid : 0),
		(unsigned long long)(own >= 0 ? t->own[own].fam : 0),
		(unsigned long long)(own >= 0 ? t->own[own].root : 0),
		fz_fd_desc(snap, d2, sizeof(d2)),
		kind == FDK_VIEW ? (q >= 0 ? "owned" : "info view") :
		kind == FDK_UNSURE ? "not this thread's" : "not a view",
		(unsigned long long)(q >= 0 ? t->own[q].vid : 0),
		(unsigned long long)(q >= 0 ? t->own[q].fam : 0),
		(unsigned long long)(q >= 0 ? t->own[q].root : 0));
}

/* ---- op: snap, on the owned objects ---- */

/* A COWDEV_DIFF_* the models give for page @p, or -1 when unknown. */
static int fz_diff_want(const struct fz_own *a, const struct fz_own *b,
			unsigned long p)
{
	int ra = p < a->m.size ? a->m.pg[p].res : COWDEV_MODEL_HOLE;
	int rb = b && p < b->m.size ? b->m.pg[p].res : COWDEV_MODEL_HOLE;

	if (ra == COWDEV_MODEL_UNKNOWN || rb == COWDEV_MODEL_UNKNOWN)
		return -1;
	if (ra == COWDEV_MODEL_HOLE)
		return rb == COWDEV_MODEL_HOLE ? COWDEV_DIFF_HOLES :
						 COWDEV_DIFF_ONLY_OTHER;
	if (rb == COWDEV_MODEL_HOLE)
		return COWDEV_DIFF_ONLY_THIS;
	return a->m.pg[p].id == b->m.pg[p].id ? COWDEV_DIFF_SAME :
						COWDEV_DIFF_DIFFERENT;
}

/* A second owned object with an open fd (any family), or -1. */
static int fz_own_pick_other(struct fz_thread *t, int o, bool same_fam)
{
	int q = rn(t, FZ_OWN_OBJS), i;

	for (i = 0; i < FZ_OWN_OBJS; i++, q = (q + 1) % FZ_OWN_OBJS)
		if (q != o && t->own[q].live && t->own[q].fd >= 0 &&
		    (!same_fam || t->own[q].fam == t->own[o].fam))
			return q;
	return -1;
}

static bool fz_stats(struct fz_thread *t, int fd, struct cowdev_stats *st)
{
	return fz_expect(t, -cowdev_get_stats(fd, st), BIT(FR_OK),
			 "GET_STATS");
}

/*
 * A counter went from @before to @after and should have moved by @delta:
 * else a failure "@what: NAME before -> after, not +delta".
 */
static void fz_moved(struct fz_thread *t, const char *what, const char *name,
		     uint64_t before, uint64_t after, uint64_t delta)
{
	if (after != before + delta)
		fz_fail(t, "%s: %s %llu -> %llu, not +%llu", what, name,
			(unsigned long long)before, (unsigned long long)after,
			(unsigned long long)delta);
}

/* Field @f of two struct cowdev_stats, @st0 then @st, moved by @delta. */
#define FZ_MOVED(t, what, st0, st, f, delta) \
	fz_moved(t, what, #f, (st0).f, (st).f, delta)

/*
 * DIFF of owned object @o against another owned object, itself, or the
 * thread's info view (size 0, another family): every byte the models
 * know, the counts, and diffs + 1 on @o alone.
 */
static void fz_snap_diff(struct fz_thread *t, int o)
{
	struct fz_own *a = &t->own[o], *b = NULL;
	struct cowdev_stats st0, st, bst0, bst;
	unsigned long max, start, count, i;
	struct cowdev_diff d;
	int q = -1, bfd, err;
	uint8_t *map = chance(t, 80) ? t->scratch : NULL;

	if (chance(t, 15)) {
		bfd = t->info_fd;
	} else if (chance(t, 15)) {
		q = o;
		b = a;
		bfd = a->fd;
	} else {
		q = fz_own_pick_other(t, o, chance(t, 70));
		if (q < 0)
			return;
		b = &t->own[q];
		bfd = b->fd;
	}
	max = b && b->m.size > a->m.size ? b->m.size : a->m.size;
	start = rn(t, max + 1);
	count = rn(t, max - start + 1);
	if (!fz_stats(t, a->fd, &st0) || !fz_stats(t, bfd, &bst0))
		return;
	err = -cowdev_diff(a->fd, bfd, start, count, map, &d);
	if (!fz_expect(t, err, BIT(FR_OK),
		       "DIFF start %lu count %lu (sizes %lu and %lu)", start,
		       count, a->m.size, b ? b->m.size : 0UL))
		return;
	fz_check_diff(t, count, &d, map);
	for (i = 0; map && i < count; i++) {
		int want = fz_diff_want(a, b, start + i);

		if (want >= 0 && map[i] != want) {
			fz_fail(t, "DIFF of owned views (%s): page %lu is %u, model %d (ids %u/%u res %d/%d)",
				!b ? "against an empty view" : q == o ?
				"itself" : b->fam == a->fam ? "same family" :
				"unrelated", start + i, map[i], want,
				a->m.pg[start + i].id,
				b ? b->m.pg[start + i].id : 0,
				a->m.pg[start + i].res,
				b ? b->m.pg[start + i].res : 0);
			break;
		}
	}
	if (!fz_stats(t, a->fd, &st) || !fz_stats(t, bfd, &bst))
		return;
	FZ_MOVED(t, "DIFF", st0, st, diffs, 1);
	if (q != o)
		FZ_MOVED(t, "DIFF: the other view", bst0, bst, diffs, 0);
}

/*
 * ROLLBACK of owned object @o onto another of its family: the model of
 * the snapshot becomes its own (size included; the snapshot's pages are
 * clean now), the slots that changed are written and counted in
 * rollback_pages.  Its private mappings go first: what a rollback does to
 * their private copies is not the contract's business.
 */
static void fz_snap_rollback(struct fz_thread *t, int o)
{
	struct fz_own *a = &t->own[o], *s;
	struct cowdev_stats st0, st;
	unsigned long max, p, changed = 0;
	bool known = true;
	uint8_t wr[COWDEV_MODEL_PAGES];
	int q = fz_own_pick_other(t, o, true), m, err, want;

	if (q < 0)
		return;
	s = &t->own[q];
	for (m = 0; m < FZ_OWN_MAPS; m++)
		if (t->omap[m].live && t->omap[m].obj == o &&
		    !t->omap[m].shared)
			fz_own_unmap(t, m);
	max = a->m.size > s->m.size ? a->m.size : s->m.size;
	memcpy(wr, a->wr, sizeof(wr));
	for (p = 0; p < max; p++) {
		want = fz_diff_want(a, s, p);
		if (want < 0) {
			known = false;
			wr[p] = FZ_WR_UNKNOWN;
		} else if (want != COWDEV_DIFF_SAME &&
			   want != COWDEV_DIFF_HOLES) {
			changed++;
			wr[p] = FZ_WR_YES;
		}
	}
	if (!fz_stats(t, a->fd, &st0))
		return;
	err = -cowdev_rollback(a->fd, s->fd);
	if (!fz_expect(t, err, FZ_CLONE_OK,
		       "ROLLBACK of an owned view (%lu pages) onto one of its family (%lu pages)",
		       a->m.size, s->m.size) || err)
		return;
	cowdev_model_clone(&s->m, &a->m);
	memcpy(a->wr, wr, sizeof(wr));
	if (!fz_stats(t, a->fd, &st))
		return;
	FZ_MOVED(t, "ROLLBACK", st0, st, rollbacks, 1);
	if (known)
		FZ_MOVED(t, "ROLLBACK", st0, st, rollback_pages, changed);
	if (st.size_pages != s->m.size)
		fz_fail(t, "ROLLBACK: size_pages %llu, snapshot %lu",
			(unsigned long long)st.size_pages, s->m.size);
}

/*
 * ROLLBACK onto what it must refuse: itself (EINVAL), -1 or a number that
 * is not open (EBADF), a pipe (EINVAL), an owned view of another family
 * or the info view (EXDEV), flags (EINVAL).  No counter, no size changes.
 */
static void fz_snap_bad_rollback(struct fz_thread *t, int o)
{
	struct fz_own *a = &t->own[o];
	struct cowdev_rollback rb = { .fd = a->fd };
	struct cowdev_stats st0, st;
	unsigned int set = BIT(FR_EINVAL);
	int q = -1, r = rn(t, 6);

	if (r == 1) {
		rb.fd = chance(t, 50) ? -1 : 0x7ffffff0;
		set = BIT(FR_EBADF);
	} else if (r == 2) {
		rb.fd = t->pipe[rn(t, 2)];
	} else if (r == 3) {
		rb.fd = t->info_fd;
		set = BIT(FR_EXDEV);
	} else if (r == 4) {
		q = fz_own_pick_other(t, o, false);
		if (q < 0 || t->own[q].fam == a->fam)
			return;
		rb.fd = t->own[q].fd;
		set = BIT(FR_EXDEV);
	} else if (r == 5) {
		q = fz_own_pick_other(t, o, true);
		rb.fd = q < 0 ? a->fd : t->own[q].fd;
		rb.flags = 1U << rn(t, 32);
	}
	if (!fz_stats(t, a->fd, &st0))
		return;
	if (!fz_expect(t, fz_err(ioctl(a->fd, COWDEV_IOC_ROLLBACK, &rb)), set,
		       "ROLLBACK onto fd %d flags %#x (case %d)", rb.fd,
		       rb.flags, r))
		fz_report_rollback(t, o, a->fd, rb.fd);
	if (!fz_stats(t, a->fd, &st))
		return;
	FZ_MOVED(t, "refused ROLLBACK", st0, st, rollbacks, 0);
	FZ_MOVED(t, "refused ROLLBACK", st0, st, rollback_pages, 0);
	if (st.size_pages != a->m.size)
		fz_fail(t, "refused ROLLBACK: size_pages %llu (model %lu)",
			(unsigned long long)st.size_pages, a->m.size);
}

/* WRITTEN of a range of owned object @o, counted or with CLEAR. */
static void fz_snap_written(struct fz_thread *t, int o)
{
	struct fz_own *a = &t->own[o];
	struct cowdev_written w = { 0 };
	struct cowdev_stats st0, st;
	uint8_t *bits = chance(t, 85) ? t->scratch : NULL;
	int err;

	w.start = rn(t, a->m.size + 1);
	w.count = rn(t, a->m.size - w.start + 1);
	w.flags = chance(t, 40) ? COWDEV_WRITTEN_CLEAR : 0;
	w.buf = (uintptr_t)bits;
	if (bits)
		memset(bits, 0xff, (w.count + 7) / 8 + 1);
	if (!fz_stats(t, a->fd, &st0))
		return;
	err = fz_err(ioctl(a->fd, COWDEV_IOC_WRITTEN, &w));
	if (!fz_expect(t, err, BIT(FR_OK), "WRITTEN start %llu count %llu flags %llu (size %lu)",
		       (unsigned long long)w.start,
		       (unsigned long long)w.count,
		       (unsigned long long)w.flags, a->m.size))
		return;
	fz_check_written(t, o, &w, bits);
	if (bits && bits[(w.count + 7) / 8] != 0xff)
		fz_fail(t, "WRITTEN count %llu: wrote past its bytes",
			(unsigned long long)w.count);
	if (!fz_stats(t, a->fd, &st))
		return;
	FZ_MOVED(t, "WRITTEN", st0, st, written_queries, 1);
	FZ_MOVED(t, "WRITTEN", st0, st, written_clears, !!w.flags);
}

/* WRITTEN and DIFF with a range past the size or flags: EINVAL. */
static void fz_snap_bad_range(struct fz_thread *t, int o)
{
	struct fz_own *a = &t->own[o];
	struct cowdev_written w = { 0 };
	struct cowdev_diff d = { .fd = a->fd };
	struct cowdev_stats st0, st;

	w.start = chance(t, 50) ? a->m.size + rn(t, 3) : rn(t, a->m.size + 1);
	w.count = a->m.size - MIN(w.start, a->m.size) + 1 + rn(t, 3);
	if (chance(t, 30)) {
		w.start = rn(t, a->m.size + 1);
		w.count = 0;
		w.flags = 2ULL << rn(t, 63);
	}
	d.start = w.start;
	d.count = w.count;
	d.flags = w.flags ? 1U << rn(t, 32) : 0;
	if (!fz_stats(t, a->fd, &st0))
		return;
	fz_expect(t, fz_err(ioctl(a->fd, COWDEV_IOC_WRITTEN, &w)),
		  BIT(FR_EINVAL), "WRITTEN start %llu count %llu flags %#llx (size %lu)",
		  (unsigned long long)w.start, (unsigned long long)w.count,
		  (unsigned long long)w.flags, a->m.size);
	if (!d.flags || chance(t, 50)) {
		fz_expect(t, fz_err(ioctl(a->fd, COWDEV_IOC_DIFF, &d)),
			  BIT(FR_EINVAL), "DIFF with itself start %llu count %llu flags %#x (size %lu)",
			  (unsigned long long)d.start,
			  (unsigned long long)d.count, d.flags, a->m.size);
	}
	if (!fz_stats(t, a->fd, &st))
		return;
	FZ_MOVED(t, "refused WRITTEN or DIFF", st0, st, written_queries, 0);
	FZ_MOVED(t, "refused WRITTEN or DIFF", st0, st, written_clears, 0);
	FZ_MOVED(t, "refused WRITTEN or DIFF", st0, st, diffs, 0);
}

/*
 * PAGE_STATE with COWDEV_PAGE_STATE_WRITTEN: the written bit of every page
 * the model knows, the other bits as without the flag.
 */
static void fz_snap_page_state(struct fz_thread *t, int o)
{
	struct fz_own *a = &t->own[o];
	struct cowdev_page_state ps = {
		.count = a->m.size,
		.buf = (uintptr_t)t->scratch,
		.flags = COWDEV_PAGE_STATE_WRITTEN,
	};
	unsigned long p;

	if (!a->m.size)
		return;
	if (!fz_expect(t, fz_err(ioctl(a->fd, COWDEV_IOC_PAGE_STATE, &ps)),
		       BIT(FR_OK), "PAGE_STATE with COWDEV_PAGE_STATE_WRITTEN"))
		return;
	for (p = 0; p < a->m.size; p++) {
		bool w = t->scratch[p] & COWDEV_PAGE_WRITTEN;

		if (a->wr[p] != FZ_WR_UNKNOWN && w != (a->wr[p] == FZ_WR_YES)) {
			fz_fail(t, "PAGE_STATE: page %lu %s COWDEV_PAGE_WRITTEN, model %s",
				p, w ? "has" : "lacks",
				a->wr[p] == FZ_WR_YES ? "written" : "not written");
			return;
		}
		t->scratch[p] &= ~COWDEV_PAGE_WRITTEN;
	}
	fz_check_states(t, o, 0, a->m.size, t->scratch);
}

void op_snap(struct fz_thread *t)
{
	int o = fz_own_pick(t);
	unsigned int r = rn(t, 100);

	if (o < 0)
		return;
	if (r < 30)
		fz_snap_diff(t, o);
	else if (r < 45)
		fz_snap_rollback(t, o);
	else if (r < 55)
		fz_snap_bad_rollback(t, o);
	else if (r < 80)
		fz_snap_written(t, o);
	else if (r < 88)
		fz_snap_bad_range(t, o);
	else
		fz_snap_page_state(t, o);
}
