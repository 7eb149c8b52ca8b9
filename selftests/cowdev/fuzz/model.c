// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev_fuzz_test: the objects each thread owns, modelled with
 * cowdev_model.h, and the checks of the module's answers against them.
 */
#include "fuzz.h"

/* ---- the owned-object model ---- */

static bool fz_own_shared(struct fz_thread *t, int o, unsigned long p)
{
	struct fz_own *a = &t->own[o];
	int q;

	if (!cowdev_model_resident(&a->m, p))
		return false;
	for (q = 0; q < FZ_OWN_OBJS; q++) {
		struct fz_own *b = &t->own[q];

		if (q != o && b->live && cowdev_model_same_page(&a->m, &b->m, p))
			return true;
	}
	return false;
}

void fz_own_write(struct fz_thread *t, struct fz_own *o,
		  unsigned long p, uint8_t v)
{
	/* Every byte v; never shared after a write. */
	cowdev_model_write(&o->m, p, 0, COWDEV_MODEL_CHUNKS, v, t->iter);
	o->wr[p] = FZ_WR_YES;
}

/*
 * A write through a shared mapping to page @p failed (SIGBUS, EFAULT):
 * ->page_mkwrite may have marked the page written before it failed.
 */
void fz_own_write_failed(struct fz_own *o, unsigned long p)
{
	o->wr[p] = FZ_WR_UNKNOWN;
}

/* A family id for a new object: clones and rollbacks stay within one. */
uint64_t fz_own_new_family(void)
{
	static uint64_t next;

	return __atomic_add_fetch(&next, 1, __ATOMIC_RELAXED);
}

void fz_own_free_if_unused(struct fz_thread *t, int o)
{
	if (t->own[o].fd < 0 && !t->own[o].nmaps)
		t->own[o].live = false;
}

void fz_own_resize(struct fz_thread *t, int o, unsigned long size)
{
	struct fz_own *a = &t->own[o];
	unsigned long p;
	int m;

	/* Private copies beyond the end go too (truncate semantics). */
	if (size < a->m.size)
		for (m = 0; m < FZ_OWN_MAPS; m++) {
			struct fz_omap *om = &t->omap[m];
			unsigned long i;

			if (!om->live || om->obj != o)
				continue;
			for (i = 0; i < om->npages; i++)
				if (om->pgoff + i >= size)
					om->priv[i] = 0;
		}
	/* A page that goes away counts as written (a hole stays as it was). */
	for (p = size; p < a->m.size && p < COWDEV_MODEL_PAGES; p++)
		if (a->m.pg[p].res == COWDEV_MODEL_RESIDENT)
			a->wr[p] = FZ_WR_YES;
		else if (a->m.pg[p].res == COWDEV_MODEL_UNKNOWN)
			a->wr[p] = FZ_WR_UNKNOWN;
	cowdev_model_resize(&a->m, size, t->iter);
}

void fz_own_unmap(struct fz_thread *t, int m)
{
	struct fz_omap *om = &t->omap[m];

	fz_expect(t, fz_err(munmap(om->addr, om->npages * cfg.ps)), BIT(FR_OK),
		  "munmap of an owned mapping");
	om->live = false;
	t->own[om->obj].nmaps--;
	fz_own_free_if_unused(t, om->obj);
}

/* Stop modelling object @o: close it and unmap its mappings. */
void fz_own_drop(struct fz_thread *t, int o)
{
	int m;

	for (m = 0; m < FZ_OWN_MAPS; m++)
		if (t->omap[m].live && t->omap[m].obj == o)
			fz_own_unmap(t, m);
	if (t->own[o].fd >= 0)
		close(t->own[o].fd);
	t->own[o].fd = -1;
	t->own[o].live = false;
}

/* The model's view of a clone of @o into slot @c (or none: @c < 0). */
void fz_own_cloned(struct fz_thread *t, int o, int c, int fd)
{
	struct fz_own *a = &t->own[o];
	struct cowdev_stats st;

	cowdev_model_clone(&a->m, NULL);
	if (c < 0)
		return;
	t->own[c] = *a;
	t->own[c].fd = fd;
	t->own[c].nmaps = 0;
	/* A clone starts with no page written; the source keeps its bits. */
	memset(t->own[c].wr, FZ_WR_NO, sizeof(t->own[c].wr));
	t->own[c].vid = fz_view_id(fd);
	/* Whether a clone inherits the resident limit is the module's call. */
	t->own[c].limit = cowdev_get_stats(fd, &st) ? ~0ULL : st.resident_limit;
}

int fz_own_free_slot(struct fz_thread *t)
{
	int o;

	for (o = 0; o < FZ_OWN_OBJS; o++)
		if (!t->own[o].live)
			return o;
	return -1;
}

/* A random owned object with an open fd, or -1. */
int fz_own_pick(struct fz_thread *t)
{
	int o = rn(t, FZ_OWN_OBJS), i;

	for (i = 0; i < FZ_OWN_OBJS; i++, o = (o + 1) % FZ_OWN_OBJS)
		if (t->own[o].live && t->own[o].fd >= 0)
			return o;
	return -1;
}

int fz_omap_pick(struct fz_thread *t)
{
	int m = rn(t, FZ_OWN_MAPS), i;

	for (i = 0; i < FZ_OWN_MAPS; i++, m = (m + 1) % FZ_OWN_MAPS)
		if (t->omap[m].live)
			return m;
	return -1;
}

/* A random owned mapping, or NULL; its object in *@a. */
struct fz_omap *fz_omap_pick_obj(struct fz_thread *t, struct fz_own **a)
{
	int m = fz_omap_pick(t);

	if (m < 0)
		return NULL;
	*a = &t->own[t->omap[m].obj];
	return &t->omap[m];
}

/* Page @i of private owned mapping @om now has a copy of its own: @v. */
void fz_omap_priv_write(struct fz_thread *t, struct fz_omap *om,
			unsigned long i, uint8_t v)
{
	om->priv[i] = 1;
	om->pval[i] = v;
	om->pit[i] = t->iter;
}

/* Expected value of page @i of owned mapping @m (inside the size). */
uint8_t fz_omap_value(struct fz_thread *t, struct fz_omap *om,
		      unsigned long i)
{
	if (!om->shared && om->priv[i])
		return om->pval[i];
	return cowdev_model_tag(&t->own[om->obj].m, om->pgoff + i);
}

/* ---- checks of the module's answers against the model ---- */

void fz_check_states(struct fz_thread *t, int o, uint64_t start,
		     uint64_t count, const uint8_t *map)
{
	struct fz_own *a = &t->own[o];
	uint64_t i;

	for (i = 0; i < count; i++) {
		unsigned long p = start + i;
		uint8_t s = map[i];
		int want;

		if (!fz_state_ok(s)) {
			fz_fail(t, "owned view: page %lu state %#x is not a valid state",
				p, s);
			return;
		}
		want = cowdev_model_state(&a->m, p);
		if (want < 0)
			continue;
		/*
		 * The model's pages are the view's, in the pool or in the
		 * swap area: SWAPPED stands for RESIDENT, with the same
		 * SHARED and DIRTY.
		 */
		if (s & COWDEV_PAGE_SWAPPED)
			s = (s & ~COWDEV_PAGE_SWAPPED) | COWDEV_PAGE_RESIDENT;
		if ((s & ~COWDEV_PAGE_SHARED) != want ||
		    (fz_own_shared(t, o, p) && !(s & COWDEV_PAGE_SHARED))) {
			fz_fail(t, "owned view: page %lu state %#x, model: resident %d dirty %d shared %d",
				p, s, a->m.pg[p].res, a->m.pg[p].dirty,
				fz_own_shared(t, o, p));
			return;
		}
	}
}

void fz_check_stats(struct fz_thread *t, int o,
		    const struct cowdev_stats *st, size_t have)
{
	struct fz_own *a = o >= 0 ? &t->own[o] : NULL;
	unsigned long p, res, shared = 0;
	struct cowdev_stats again;
	uint64_t held, lower;
	bool known;
	int tries;

#define HAVE(f) (offsetof(struct cowdev_stats, f) + 8 <= have)
	if (HAVE(size_pages) && st->size_pages > cfg.max_pages)
		fz_fail(t, "GET_STATS: size_pages %llu above max_object_pages",
			(unsigned long long)st->size_pages);
	if (HAVE(view_id) && !st->view_id)
		fz_fail(t, "GET_STATS: view_id 0");
	if (HAVE(limit_failures) && cfg.root && st->limit_failures)
		fz_fail(t, "GET_STATS: limit_failures %llu for root, who is exempt",
			(unsigned long long)st->limit_failures);
	if (!a)
		return;
	res = cowdev_model_count(&a->m, &known);
	for (p = 0; p < a->m.size; p++)
		shared += fz_own_shared(t, o, p);
	if (HAVE(size_pages) && st->size_pages != a->m.size)
		fz_fail(t, "owned view: size_pages %llu, model %lu",
			(unsigned long long)st->size_pages, a->m.size);
	if (HAVE(resident_limit) && st->resident_limit != a->limit &&
	    a->limit != ~0ULL)
		fz_fail(t, "owned view: resident_limit %llu, set %llu",
			(unsigned long long)st->resident_limit,
			(unsigned long long)a->limit);
	/*
	 * The model's pages are in the pool (resident_pages) or in the swap
	 * area (swapped_pages).  Other threads' faults may evict one of them
	 * (the pool is global) or bring back one a clone shares while the
	 * counters are read: look again before calling a difference a bug.
	 * Without swapped_pages in the answer, resident_pages alone is
	 * exact only while no swap area was ever attached.
	 */
	held = st->resident_pages + (HAVE(swapped_pages) ? st->swapped_pages : 0);
	if (HAVE(resident_pages) && known && held != res &&
	    (HAVE(swapped_pages) || !fz_swap_seen())) {
		for (tries = 0; tries < 3 && a->fd >= 0 && fz_swap_seen() &&
		     !cowdev_get_stats(a->fd, &again); tries++) {
			held = again.resident_pages + again.swapped_pages;
			if (held == res)
				break;
			usleep(1000);
		}
		if (held != res)
			fz_fail(t, "owned view: resident_pages %llu + swapped_pages %llu, model %lu",
				(unsigned long long)st->resident_pages,
				HAVE(swapped_pages) ?
				(unsigned long long)st->swapped_pages : 0ULL,
				res);
	}
	/*
	 * shared_pages counts pages in the pool: the model's shared pages,
	 * less those that may be in the swap area.
	 */
	lower = shared;
	if (HAVE(swapped_pages))
		lower = shared > st->swapped_pages ? shared - st->swapped_pages : 0;
	else if (fz_swap_seen())
		lower = 0;
	if (HAVE(shared_pages) && HAVE(resident_pages) &&
	    (st->shared_pages < lower ||
	     st->shared_pages > st->resident_pages))
		fz_fail(t, "owned view: shared_pages %llu, resident %llu, model shares at least %lu",
			(unsigned long long)st->shared_pages,
			(unsigned long long)st->resident_pages, shared);
#undef HAVE
}

