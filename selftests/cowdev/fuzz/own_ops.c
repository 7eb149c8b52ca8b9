// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev_fuzz_test: ops on the owned objects.
 */
#include "fuzz.h"

/* ---- ops on the owned objects ---- */

void op_own_open(struct fz_thread *t)
{
	int o = fz_own_free_slot(t), fd;
	unsigned long size = rn(t, FZ_OWN_PAGES + 1);
	uint64_t bytes = size * cfg.ps;
	struct fz_own *a;

	if (o < 0)
		return;
	if (size && chance(t, 30))
		bytes -= rn(t, cfg.ps);
	fd = cowdev_open();
	if (!fz_expect(t, fd < 0 ? -fd : 0, BIT(FR_OK), "open"))
		return;
	if (!fz_expect(t, -cowdev_set_size(fd, bytes), BIT(FR_OK),
		       "SET_SIZE %llu", (unsigned long long)bytes)) {
		close(fd);
		return;
	}
	a = &t->own[o];
	memset(a, 0, sizeof(*a));
	a->live = true;
	a->fd = fd;
	a->fam = fz_own_new_family();
	a->vid = a->root = fz_view_id(fd);
	cowdev_model_init(&a->m, size);
}

void op_own_close(struct fz_thread *t)
{
	int o = fz_own_pick(t);

	if (o < 0)
		return;
	fz_expect(t, fz_err(close(t->own[o].fd)), BIT(FR_OK), "close");
	t->own[o].fd = -1;
	fz_own_free_if_unused(t, o);
}

void op_own_clone(struct fz_thread *t)
{
	int o = fz_own_pick(t), n, fd;

	if (o < 0)
		return;
	fd = cowdev_clone(t->own[o].fd);
	if (!fz_expect(t, fd < 0 ? -fd : 0, FZ_CLONE_OK, "CLONE") || fd < 0)
		return;
	n = fz_own_free_slot(t);
	fz_own_cloned(t, o, n, fd);
	if (n < 0)
		fz_expect(t, fz_err(close(fd)), BIT(FR_OK), "close of a clone");
}

void op_own_setsize(struct fz_thread *t)
{
	int o = fz_own_pick(t);
	unsigned long size = rn(t, FZ_OWN_PAGES + 1);
	uint64_t bytes = size * cfg.ps;

	if (o < 0)
		return;
	if (size && chance(t, 30))
		bytes -= rn(t, cfg.ps);
	if (fz_expect(t, -cowdev_set_size(t->own[o].fd, bytes), BIT(FR_OK),
		      "SET_SIZE %llu", (unsigned long long)bytes))
		fz_own_resize(t, o, size);
}

void op_own_mmap(struct fz_thread *t)
{
	static const int prots[] = { PROT_READ | PROT_WRITE,
		PROT_READ | PROT_WRITE, PROT_READ, PROT_NONE };
	int o = fz_own_pick(t), m;
	struct fz_omap *om;
	char *addr;

	if (o < 0)
		return;
	for (m = 0; m < FZ_OWN_MAPS && t->omap[m].live; m++)
		;
	if (m == FZ_OWN_MAPS)
		return;
	om = &t->omap[m];
	memset(om, 0, sizeof(*om));
	om->obj = o;
	om->pgoff = MIN(rn(t, t->own[o].m.size + 3), FZ_OWN_PAGES);
	om->npages = 1 + rn(t, FZ_OWN_MAP_PAGES / 2);
	om->prot = prots[rn(t, 4)];
	om->shared = chance(t, 70);
	addr = mmap(NULL, om->npages * cfg.ps, om->prot,
		    om->shared ? MAP_SHARED : MAP_PRIVATE, t->own[o].fd,
		    om->pgoff * cfg.ps);
	if (!fz_expect(t, addr == MAP_FAILED ? errno : 0, BIT(FR_OK),
		       "mmap of an owned view"))
		return;
	om->addr = addr;
	om->live = true;
	t->own[o].nmaps++;
}

void op_own_munmap(struct fz_thread *t)
{
	int m = fz_omap_pick(t);

	if (m >= 0)
		fz_own_unmap(t, m);
}

void op_own_mremap(struct fz_thread *t)
{
	int m = fz_omap_pick(t);
	unsigned long n = 1 + rn(t, FZ_OWN_MAP_PAGES), i;
	struct fz_omap *om;
	char *addr;

	if (m < 0)
		return;
	om = &t->omap[m];
	addr = mremap(om->addr, om->npages * cfg.ps, n * cfg.ps,
		      MREMAP_MAYMOVE);
	if (addr == MAP_FAILED && errno == ENOMEM && n > om->npages) {
		/*
		 * 6.12 cannot grow a VM_SPECIAL vma in place and fails
		 * instead of moving it: move it explicitly.
		 */
		char *to = mmap(NULL, n * cfg.ps, PROT_NONE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (to == MAP_FAILED)
			return;
		addr = mremap(om->addr, om->npages * cfg.ps, n * cfg.ps,
			      MREMAP_MAYMOVE | MREMAP_FIXED, to);
		if (addr == MAP_FAILED)
			munmap(to, n * cfg.ps);
	}
	if (!fz_expect(t, addr == MAP_FAILED ? errno : 0, BIT(FR_OK),
		       "mremap of an owned mapping (%lu -> %lu pages)",
		       om->npages, n))
		return;
	for (i = om->npages; i < n; i++)
		om->priv[i] = 0;
	om->addr = addr;
	om->npages = n;
}

void op_own_mprotect(struct fz_thread *t)
{
	static const int prots[] = { PROT_NONE, PROT_READ,
		PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE };
	int m = fz_omap_pick(t), prot = prots[rn(t, 4)];

	if (m < 0)
		return;
	if (fz_expect(t, fz_err(mprotect(t->omap[m].addr,
					 t->omap[m].npages * cfg.ps, prot)),
		      BIT(FR_OK), "mprotect of an owned mapping"))
		t->omap[m].prot = prot;
}

/*
 * For a report: what the module says of owned view @a (when its fd is
 * open) and of the pool and the swap area, after an unexpected answer.
 */
static const char *fz_own_diag(struct fz_thread *t, const struct fz_own *a)
{
	static __thread char buf[320];
	struct cowdev_pool_info pi;
	struct cowdev_stats st;
	int n = 0;

	buf[0] = 0;
	if (a->fd >= 0 && !cowdev_get_stats(a->fd, &st))
		n = snprintf(buf, sizeof(buf), "; view: resident %llu swapped %llu limit %llu (model %llu) sigbus %llu pool_failures %llu major %llu",
			     (unsigned long long)st.resident_pages,
			     (unsigned long long)st.swapped_pages,
			     (unsigned long long)st.resident_limit,
			     (unsigned long long)a->limit,
			     (unsigned long long)st.sigbus,
			     (unsigned long long)st.pool_failures,
			     (unsigned long long)st.major_faults);
	if (!cowdev_pool_info(t->info_fd, &pi))
		snprintf(buf + n, sizeof(buf) - n, "; pool: free %llu alloc_failures %llu swap %llu/%llu swap_errors %llu; SWAPOFFs running %d",
			 (unsigned long long)pi.free_pages,
			 (unsigned long long)pi.alloc_failures,
			 (unsigned long long)pi.swap_used,
			 (unsigned long long)pi.swap_total,
			 (unsigned long long)pi.swap_errors,
			 __atomic_load_n(&cfg.rep->swapoff_running,
					 __ATOMIC_RELAXED));
	return buf;
}

/* Expected signal of an access to page @i of owned mapping @om. */
static int fz_omap_sig(struct fz_thread *t, struct fz_omap *om,
		       unsigned long i, bool write)
{
	if (om->prot == PROT_NONE || (write && !(om->prot & PROT_WRITE)))
		return SIGSEGV;
	if (om->pgoff + i >= t->own[om->obj].m.size)
		return SIGBUS;
	return 0;
}

void op_own_madvise(struct fz_thread *t)
{
	static const int advs[] = { MADV_DONTNEED, MADV_DONTNEED,
		MADV_WILLNEED, MADV_COLD, MADV_PAGEOUT, MADV_POPULATE_READ,
		MADV_POPULATE_WRITE, MADV_POPULATE_WRITE, MADV_RANDOM,
		MADV_HUGEPAGE };
	struct fz_own *a;
	struct fz_omap *om = fz_omap_pick_obj(t, &a);
	int adv = advs[rn(t, 10)], err;
	unsigned long i, s, n, in;
	uint64_t af0;

	if (!om)
		return;
	s = rn(t, om->npages);
	n = 1 + rn(t, om->npages - s);
	if (adv == MADV_RANDOM || adv == MADV_HUGEPAGE) {
		s = 0;		/* never split the vma: mremap needs one */
		n = om->npages;
	}
	/* Pages of the range inside the size. */
	for (in = 0; in < n && om->pgoff + s + in < a->m.size; in++)
		;
	if (adv == MADV_POPULATE_READ || adv == MADV_POPULATE_WRITE) {
		if (!in || fz_omap_sig(t, om, s, adv == MADV_POPULATE_WRITE))
			adv = MADV_DONTNEED;
		else
			n = in;
	}
	af0 = fz_own_failures(t, a);
	err = fz_err(madvise(om->addr + s * cfg.ps, n * cfg.ps, adv));
	switch (adv) {
	case MADV_DONTNEED:
		if (fz_expect(t, err, BIT(FR_OK), "madvise(DONTNEED)") &&
		    !om->shared)
			for (i = s; i < s + n; i++)
				om->priv[i] = 0;
		break;
	case MADV_POPULATE_READ:
		/* A page in the swap area needs a pool page to come back. */
		if (!(err == EFAULT && fz_swap_seen() &&
		      fz_own_failures(t, a) != af0))
			fz_expect(t, err, BIT(FR_OK),
				  "madvise(POPULATE_READ) inside the size");
		break;
	case MADV_POPULATE_WRITE:
		if (!om->shared) {
			if (err == EFAULT && fz_swap_seen() &&
			    fz_own_failures(t, a) != af0) {
				/* Which pages got private copies is unknown. */
				fz_own_unmap(t, om - t->omap);
				break;
			}
			if (fz_expect(t, err, BIT(FR_OK),
				      "madvise(POPULATE_WRITE) of a private mapping"))
				for (i = s; i < s + n; i++)
					if (!om->priv[i]) {
						fz_omap_priv_write(t, om, i,
							cowdev_model_tag(&a->m,
								om->pgoff + i));
					}
			break;
		}
		if (err && (err != EFAULT || fz_own_failures(t, a) == af0))
			fz_fail(t, "madvise(POPULATE_WRITE) of a shared mapping inside the size: %s without a pool failure",
				strerror(err));
		for (i = s; i < s + n; i++) {
			unsigned long p = om->pgoff + i;

			/*
			 * A pte made writable went through ->page_mkwrite,
			 * which marks the page written; one that was writable
			 * already is marked since then.
			 */
			a->wr[p] = err ? FZ_WR_UNKNOWN : FZ_WR_YES;
			if (cowdev_model_state(&a->m, p) ==
			    (COWDEV_PAGE_RESIDENT | COWDEV_PAGE_DIRTY))
				continue;
			if (err)
				a->m.pg[p].res = COWDEV_MODEL_UNKNOWN;
			else
				fz_own_write(t, a, p, cowdev_model_tag(&a->m, p));
		}
		break;
	}
}

void op_own_access(struct fz_thread *t)
{
	struct fz_own *a;
	struct fz_omap *om = fz_omap_pick_obj(t, &a);
	int sig, want;
	bool write = chance(t, 50);
	unsigned long i, p;
	uint64_t af0 = 0;
	char *page, v;
	uint8_t val = rn(t, 256);

	if (!om)
		return;
	i = rn(t, om->npages);
	p = om->pgoff + i;
	page = om->addr + i * cfg.ps;
	want = fz_omap_sig(t, om, i, write);
	/*
	 * A SIGBUS inside the size needs a failure to explain it: a shared
	 * write that found no pool page (empty pool, or the view at its
	 * resident limit with no swap area), or, once a swap area was
	 * attached, any access whose page had to come back from it.
	 */
	if (!want && ((write && om->shared) || fz_swap_seen()))
		af0 = fz_own_failures(t, a);
	if (write)
		sig = fz_fill(page, val, cfg.ps);
	else
		sig = fz_read(page + rn(t, cfg.ps), &v);
	fz_count_sig(sig);
	if (sig != want && write && om->shared && p < a->m.size)
		fz_own_write_failed(a, p);
	if (sig != want) {
		if (!(!want && sig == SIGBUS &&
		      ((write && om->shared) || fz_swap_seen()) &&
		      fz_own_failures(t, a) != af0))
			fz_fail(t, "%s of page %lu (size %lu) through a %s mapping with prot %#x: %s, expected %s%s",
				write ? "write" : "read", p, a->m.size,
				om->shared ? "shared" : "private", om->prot,
				fz_sig_name(sig), fz_sig_name(want),
				fz_own_diag(t, a));
		return;
	}
	if (sig)
		return;
	if (!write) {
		if ((uint8_t)v != fz_omap_value(t, om, i)) {
			uint8_t st = 0xff;

			if (a->fd >= 0)
				cowdev_page_state(a->fd, p, 1, &st);
			fz_fail(t, "read of page %lu through a %s mapping: %#x, model %#x (%s at iter %lu; page state %#x, model resident %d dirty %d)",
				p, om->shared ? "shared" : "private",
				(uint8_t)v, fz_omap_value(t, om, i),
				!om->shared && om->priv[i] ? "private copy" :
				"view written", !om->shared && om->priv[i] ?
				om->pit[i] : a->m.pg[p].when, st,
				a->m.pg[p].res, a->m.pg[p].dirty);
		}
		return;
	}
	if (om->shared) {
		fz_own_write(t, a, p, val);
	} else {
		fz_omap_priv_write(t, om, i, val);
	}
}

void op_own_kpath(struct fz_thread *t)
{
	struct fz_own *a;
	struct fz_omap *om = fz_omap_pick_obj(t, &a);
	int kind = rn(t, 6), ferr = EFAULT;
	bool write = !(kind & 1), denied;
	unsigned long i, p, k;
	uint64_t af0;
	long r;

	if (!om)
		return;
	i = rn(t, om->npages);
	p = om->pgoff + i;
	af0 = fz_own_failures(t, a);
	r = fz_kpath(t, om->addr + i * cfg.ps, kind);
	denied = fz_omap_sig(t, om, i, write);
	if (kind >= 4) {
		/* FOLL_FORCE reads anything and writes private copies. */
		ferr = EIO;
		denied = p >= a->m.size || (write && om->shared &&
					  !(om->prot & PROT_WRITE));
	}
	if (denied) {
		fz_expect(t, r < 0 ? -r : 0, BIT(fz_res(ferr)),
			  "kernel %s (path %d) of page %lu (size %lu), prot %#x",
			  write ? "write" : "read", kind, p, a->m.size, om->prot);
		return;
	}
	if (r != (long)cfg.ps) {
		if (write && om->shared && p < a->m.size)
			fz_own_write_failed(a, p);
		if (!(r == -ferr && ((write && om->shared) || fz_swap_seen()) &&
		      fz_own_failures(t, a) != af0))
			fz_fail(t, "kernel %s (path %d) of page %lu (size %lu) through a %s mapping: %ld%s",
				write ? "write" : "read", kind, p, a->m.size,
				om->shared ? "shared" : "private", r,
				fz_own_diag(t, a));
		return;
	}
	if (write) {
		if (om->shared) {
			fz_own_write(t, a, p, 0x11);
		} else {
			fz_omap_priv_write(t, om, i, 0x11);
		}
		return;
	}
	for (k = 0; k < cfg.ps; k++)
		if (t->scratch[k] != fz_omap_value(t, om, i)) {
			fz_fail(t, "kernel read (path %d) of page %lu through a %s mapping: byte %lu is %#x, model %#x",
				kind, p, om->shared ? "shared" : "private", k,
				t->scratch[k], fz_omap_value(t, om, i));
			return;
		}
}

void op_own_check(struct fz_thread *t)
{
	int o = fz_own_pick(t);
	struct cowdev_stats st;
	int r;

	if (o < 0)
		return;
	r = cowdev_get_stats(t->own[o].fd, &st);
	if (fz_expect(t, -r, BIT(FR_OK), "GET_STATS"))
		fz_check_stats(t, o, &st, sizeof(st));
	if (!t->own[o].m.size)
		return;
	r = cowdev_page_state(t->own[o].fd, 0, t->own[o].m.size, t->scratch);
	if (fz_expect(t, -r, BIT(FR_OK), "PAGE_STATE of the whole view"))
		fz_check_states(t, o, 0, t->own[o].m.size, t->scratch);
}

