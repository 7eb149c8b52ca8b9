// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev_fuzz_test: ops on the shared mappings.
 */
#include "fuzz.h"

/* ---- ops on the shared mappings ---- */

static bool fz_prot_read_ok(int prot)
{
	return prot != PROT_NONE;
}

void fz_map_clear(struct fz_map *m)
{
	m->addr = NULL;
	m->len = 0;
}

void op_mmap(struct fz_thread *t)
{
	static const int prots[] = { PROT_READ | PROT_WRITE, PROT_READ,
		PROT_READ | PROT_WRITE, PROT_NONE, PROT_WRITE,
		PROT_READ | PROT_EXEC };
	size_t ps = cfg.ps, len;
	int s = -1, m, prot, flags, extra = 0;
	unsigned int set = BIT(FR_OK);
	struct fz_obj *o, race = { .fd = P.race_fd, .rd = true, .wr = true };
	struct fz_map *fm;
	uint64_t off;
	bool fixed = false, exotic = false;
	char *addr;

	if (chance(t, 10)) {
		o = &race;
	} else {
		s = fz_obj_rdlock(t);
		if (s < 0)
			return;
		o = &P.obj[s];
	}
	m = fz_map_lock(t, true, true);
	if (m < 0) {
		if (s >= 0)
			pthread_rwlock_unlock(&o->lock);
		return;
	}
	fm = &P.map[m];
	switch (rn(t, 12)) {
	case 0:
		len = 0;
		break;
	case 1:
		len = ps * (1 + rn(t, 4)) - 1 - rn(t, ps - 1);
		break;
	case 2:
		len = 1UL << 40;
		break;
	case 3:
		len = -ps;
		break;
	case 4:
		len = ps * (1 + rn(t, 512));
		break;
	default:
		len = ps * (1 + rn(t, 32));
	}
	switch (rn(t, 14)) {
	case 0:
		off = 1 + rn(t, ps - 1);
		break;
	case 1:
		off = 1ULL << 40;
		break;
	case 2:
		off = -ps;
		exotic = true;
		break;
	case 3:
		off = (1ULL << 62) + rn(t, 16) * ps;
		exotic = true;
		break;
	case 4:
		off = rn(t, 4096) * ps;
		break;
	case 5:
		off = (uint64_t)cfg.max_pages * ps;
		break;
	default:
		off = rn(t, 64) * ps;
	}
	prot = prots[rn(t, 6)];
	flags = chance(t, 65) ? MAP_SHARED : MAP_PRIVATE;
	if (chance(t, 10) && flags == MAP_SHARED) {
		flags = MAP_SHARED_VALIDATE;
		if (chance(t, 50))
			extra = chance(t, 50) ? MAP_SYNC : FZ_MAP_UNKNOWN;
	}
	if (len && len <= 64 * ps && chance(t, 15))
		extra |= MAP_POPULATE;
	if (len && len <= 16 * ps && chance(t, 5))
		extra |= MAP_LOCKED;
	if (chance(t, 5))
		extra |= MAP_NORESERVE;
	addr = NULL;
	if (fm->addr && len && len <= fm->len && chance(t, 25)) {
		fixed = true;		/* replace the old mapping in place */
		addr = fm->addr;
		extra |= MAP_FIXED;
	} else if (fm->addr) {
		fz_expect(t, fz_err(munmap(fm->addr, fm->len)), BIT(FR_OK),
			  "munmap");
		fz_map_clear(fm);
	}
	if (!fixed && chance(t, 3)) {
		/* Onto the argument arena: must refuse. */
		addr = t->arg;
		extra |= MAP_FIXED_NOREPLACE;
	}

	/* What mmap must answer, in the order the kernel checks. */
	if (!len || off % ps) {
		set = BIT(FR_EINVAL);
	} else if (len > (1UL << 47)) {
		set = BIT(FR_ENOMEM);
	} else {
		if (extra & MAP_FIXED_NOREPLACE)
			set = BIT(FR_EEXIST);
		else if (flags == MAP_SHARED_VALIDATE &&
			 (extra & (MAP_SYNC | FZ_MAP_UNKNOWN)))
			set = BIT(FR_EOPNOTSUPP);
		else if (flags != MAP_PRIVATE && (prot & PROT_WRITE) && !o->wr)
			set = BIT(FR_EACCES);
		else if (!o->rd)
			set = BIT(FR_EACCES);
		else if (prot & PROT_EXEC)
			set = BIT(FR_OK) | BIT(FR_EPERM);	/* noexec mounts */
		if (exotic)	/* pgoff near the end of the file space */
			set |= BIT(FR_EOVERFLOW);
		if (len >= (1UL << 40))
			set |= BIT(FR_ENOMEM);
		if ((extra & MAP_LOCKED) && (set & BIT(FR_OK)))
			set |= BIT(FR_EAGAIN);
	}

	addr = mmap(addr, len, prot, flags | extra, o->fd, off);
	fz_expect(t, addr == MAP_FAILED ? errno : 0, set,
		  "mmap(len %#zx, prot %#x, flags %#x, off %#llx) of a %s%s fd",
		  len, prot, flags | extra, (unsigned long long)off,
		  o->rd ? "r" : "", o->wr ? "w" : "");
	{
		if (addr != MAP_FAILED) {
			if (fixed && len < fm->len)
				munmap(fm->addr + ((len + ps - 1) & ~(ps - 1)),
				       fm->len - ((len + ps - 1) & ~(ps - 1)));
			fm->addr = addr;
			fm->len = (len + ps - 1) & ~(ps - 1);
			fm->prot = prot;
			fm->shared = flags != MAP_PRIVATE;
			fm->wr_ok = !fm->shared || o->wr;
			fm->dontfork = false;
		} else if (fixed) {
			/* A failed MAP_FIXED may have unmapped the range. */
			munmap(fm->addr, fm->len);
			fz_map_clear(fm);
		}
	}
	pthread_rwlock_unlock(&fm->lock);
	if (s >= 0)
		pthread_rwlock_unlock(&o->lock);
}

/*
 * Replace the file behind the race fd number with dup2() while other
 * threads use the number: ioctls and mmaps then race with the release of
 * the view they started on.
 */
void op_race(struct fz_thread *t)
{
	int fd;

	bool clone = chance(t, 30);

	fd = clone ? cowdev_clone(P.race_fd) : cowdev_open();
	if (!fz_expect(t, fd < 0 ? -fd : 0, clone ? FZ_CLONE_OK : BIT(FR_OK),
		       "open or clone") || fd < 0)
		return;
	if (chance(t, 70))
		fz_expect(t, -cowdev_set_size(fd, rn(t, 64) * cfg.ps),
			  BIT(FR_OK), "SET_SIZE");
	fz_expect(t, fz_err(dup2(fd, P.race_fd)), BIT(FR_OK), "dup2");
	fz_expect(t, fz_err(close(fd)), BIT(FR_OK), "close");
}

void op_munmap(struct fz_thread *t)
{
	int m = fz_map_lock(t, true, false);
	struct fz_map *fm = &P.map[m];
	size_t ps = cfg.ps, pages, cut;

	if (!fm->addr)
		goto out;
	pages = fm->len / ps;
	if (pages > 1 && chance(t, 40)) {
		cut = 1 + rn(t, pages - 1);
		if (chance(t, 50)) {
			/* the tail */
			fz_expect(t, fz_err(munmap(fm->addr + cut * ps,
						   fm->len - cut * ps)),
				  BIT(FR_OK), "munmap of a tail");
			fm->len = cut * ps;
		} else {
			fz_expect(t, fz_err(munmap(fm->addr, cut * ps)),
				  BIT(FR_OK), "munmap of a head");
			fm->addr += cut * ps;
			fm->len -= cut * ps;
		}
		goto out;
	}
	fz_expect(t, fz_err(munmap(fm->addr, fm->len)), BIT(FR_OK), "munmap");
	fz_map_clear(fm);
out:
	pthread_rwlock_unlock(&fm->lock);
}

void op_mremap(struct fz_thread *t)
{
	int m = fz_map_lock(t, true, false), n;
	struct fz_map *fm = &P.map[m], *nm;
	size_t ps = cfg.ps, nlen;
	unsigned int set = BIT(FR_OK);
	int flags = MREMAP_MAYMOVE;
	char *addr;

	if (!fm->addr)
		goto out;
	switch (rn(t, 5)) {
	case 0:
		nlen = fm->len;
		break;
	case 1:
		nlen = ps * (1 + rn(t, fm->len / ps));
		break;
	case 2:
		nlen = MIN(fm->len * 2, 1UL << 41);
		break;
	default:
		nlen = ps * (1 + rn(t, 64));
	}
	switch (rn(t, 11)) {
	case 10:
		/* The old nonlinear interface, now a MAP_FIXED mmap. */
		if (fm->len < 2 * ps)
			break;
		fz_expect(t, fz_err(remap_file_pages(fm->addr + ps,
			  MIN(fm->len - ps, 16 * ps), 0, rn(t, 64), 0)),
			  fm->shared ? BIT(FR_OK) | BIT(FR_EINVAL) :
				       BIT(FR_EINVAL), "remap_file_pages");
		goto out;
	case 0:
	case 1:
		flags = 0;		/* in place: may not fit */
		set |= BIT(FR_ENOMEM);
		break;
	case 2:
		flags |= MREMAP_DONTUNMAP;
		nlen = fm->len;
		set |= BIT(FR_EINVAL);
		break;
	case 3:
		/* old_size 0: a second mapping of the same pages. */
		n = fz_map_lock(t, true, true);
		if (n < 0)
			break;
		nm = &P.map[n];
		if (nm == fm || nm->addr) {
			pthread_rwlock_unlock(&nm->lock);
			break;
		}
		addr = mremap(fm->addr, 0, nlen, MREMAP_MAYMOVE);
		if (fz_expect(t, addr == MAP_FAILED ? errno : 0,
			      fm->shared ? BIT(FR_OK) : BIT(FR_EINVAL),
			      "mremap(old_size 0, %#zx) of a %s mapping", nlen,
			      fm->shared ? "shared" : "private") &&
		    addr != MAP_FAILED) {
			nm->addr = addr;
			nm->len = nlen;
			nm->prot = fm->prot;
			nm->shared = fm->shared;
			nm->wr_ok = fm->wr_ok;
			nm->dontfork = fm->dontfork;	/* the flag is copied */
		} else if (addr != MAP_FAILED) {
			munmap(addr, nlen);
		}
		pthread_rwlock_unlock(&nm->lock);
		goto out;
	}
	/*
	 * Growing: core mm may refuse (ENOMEM: 6.12 cannot grow a VM_SPECIAL
	 * vma such as a VM_MIXEDMAP one in place and says so instead of
	 * moving it; memory accounting of private mappings), and a mapping
	 * that madvise split into several vmas cannot be remapped as a
	 * whole (EFAULT).
	 */
	if (nlen > fm->len)
		set |= BIT(FR_ENOMEM);
	set |= BIT(FR_EFAULT);
	addr = mremap(fm->addr, fm->len, nlen, flags);
	if (fz_expect(t, addr == MAP_FAILED ? errno : 0, set,
		      "mremap(%#zx -> %#zx, flags %#x)", fm->len, nlen, flags) &&
	    addr != MAP_FAILED) {
		if (flags & MREMAP_DONTUNMAP)
			munmap(fm->addr, fm->len);
		fm->addr = addr;
		fm->len = nlen;
	}
out:
	pthread_rwlock_unlock(&fm->lock);
}

void op_mprotect(struct fz_thread *t)
{
	static const int prots[] = { PROT_NONE, PROT_READ,
		PROT_READ | PROT_WRITE, PROT_WRITE, PROT_READ | PROT_EXEC };
	int m = fz_map_lock(t, true, false), prot = prots[rn(t, 5)], err;
	struct fz_map *fm = &P.map[m];
	unsigned int set = BIT(FR_OK);

	if (!fm->addr)
		goto out;
	if ((prot & PROT_WRITE) && !fm->wr_ok)
		set = BIT(FR_EACCES);
	if (prot & PROT_EXEC)
		set |= BIT(FR_EACCES);
	/* Making a large private mapping writable needs memory accounting. */
	if (!fm->shared && (prot & PROT_WRITE) && !(fm->prot & PROT_WRITE))
		set |= BIT(FR_ENOMEM);
	err = fz_err(mprotect(fm->addr, fm->len, prot));
	fz_expect(t, err, set, "mprotect(%#x) of a %s mapping", prot,
		  fm->shared ? "shared" : "private");
	if (err && mprotect(fm->addr, fm->len, PROT_NONE)) {
		/* (A refusal may have changed some vmas of a split mapping.) */
		fz_fail(t, "mprotect(PROT_NONE): %s", strerror(errno));
	}
	fm->prot = err ? PROT_NONE : prot;
out:
	pthread_rwlock_unlock(&fm->lock);
}

void op_madvise(struct fz_thread *t)
{
	static const int advs[] = { MADV_DONTNEED, MADV_DONTNEED,
		MADV_WILLNEED, MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL,
		MADV_COLD, MADV_PAGEOUT, MADV_POPULATE_READ,
		MADV_POPULATE_WRITE, MADV_DONTFORK, MADV_DOFORK, MADV_FREE,
		MADV_REMOVE, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP,
		MADV_DODUMP, MADV_MERGEABLE, MADV_WIPEONFORK, 25, 1000 };
	int adv = advs[rn(t, ARRAY_SIZE(advs))], m, err;
	bool forkflag = adv == MADV_DONTFORK || adv == MADV_DOFORK;
	struct fz_map *fm;
	size_t ps = cfg.ps, pages, a, n;

	m = fz_map_lock(t, forkflag, false);
	fm = &P.map[m];
	if (!fm->addr)
		goto out;
	pages = fm->len / ps;
	if (forkflag) {
		a = 0;
		n = pages;
	} else {
		a = rn(t, MIN(pages, FZ_TOUCH_PAGES));
		n = 1 + rn(t, MIN(pages - a, 256));
	}
	err = fz_err(madvise(fm->addr + a * ps, n * ps, adv));
	if (adv == MADV_DONTNEED)
		fz_expect(t, err, BIT(FR_OK), "madvise(DONTNEED)");
	else if (adv == 1000)
		fz_expect(t, err, BIT(FR_EINVAL), "madvise(1000)");
	if (!err && adv == MADV_DONTFORK)
		fm->dontfork = true;
	if (!err && adv == MADV_DOFORK)
		fm->dontfork = false;
out:
	pthread_rwlock_unlock(&fm->lock);
}

void op_msync(struct fz_thread *t)
{
	int m = fz_map_lock(t, false, false);
	struct fz_map *fm = &P.map[m];
	int flags = chance(t, 50) ? MS_SYNC : MS_ASYNC;

	if (chance(t, 20))
		flags |= MS_INVALIDATE;
	if (fm->addr)
		msync(fm->addr, MIN(fm->len, FZ_TOUCH_PAGES * cfg.ps), flags);
	pthread_rwlock_unlock(&fm->lock);
}

/* A page of @fm to touch: one of the first FZ_TOUCH_PAGES, or the last. */
static char *fz_map_page(struct fz_thread *t, struct fz_map *fm)
{
	size_t pages = fm->len / cfg.ps;

	if (chance(t, 10))
		return fm->addr + (pages - 1) * cfg.ps;
	return fm->addr + rn(t, MIN(pages, FZ_TOUCH_PAGES)) * cfg.ps;
}

void op_access(struct fz_thread *t)
{
	int m = fz_map_lock(t, false, false), sig, expect;
	struct fz_map *fm = &P.map[m];
	bool write = chance(t, 50);
	char *p, v;

	if (!fm->addr)
		goto out;
	p = fz_map_page(t, fm);
	if (write) {
		expect = fm->prot & PROT_WRITE ? 0 : SIGSEGV;
		if (chance(t, 20))
			sig = fz_fill(p, rn(t, 256), cfg.ps);
		else
			sig = fz_fill(p + rn(t, cfg.ps), rn(t, 256), 1);
	} else {
		expect = fz_prot_read_ok(fm->prot) ? 0 : SIGSEGV;
		sig = fz_read(p + rn(t, cfg.ps), &v);
	}
	fz_count_sig(sig);
	if (sig != expect && !(expect == 0 && sig == SIGBUS))
		fz_fail(t, "%s of a %s mapping with prot %#x: %s, expected %s",
			write ? "write" : "read",
			fm->shared ? "shared" : "private", fm->prot,
			fz_sig_name(sig), expect ? fz_sig_name(expect) :
						   "none or SIGBUS");
out:
	pthread_rwlock_unlock(&fm->lock);
}

/* Empty the thread's pipe. */
static void fz_drain(struct fz_thread *t)
{
	while (read(t->pipe[0], t->scratch, FZ_SCRATCH) > 0)
		;
}

/*
 * A kernel path reads (odd @kind) or writes (even @kind) one page of a
 * mapping: pipe in or out, process_vm_readv/writev, /proc/self/mem (which
 * uses FOLL_FORCE).  A write writes 0x11 bytes; a read leaves the page in
 * scratch.  Returns the result (bytes, or -errno).
 */
long fz_kpath(struct fz_thread *t, char *page, int kind)
{
	struct iovec local = { t->scratch, cfg.ps }, remote = { page, cfg.ps };
	long r;

	fz_drain(t);
	if (!(kind & 1))
		memset(t->scratch, 0x11, cfg.ps);
	switch (kind) {
	case 0:		/* the kernel writes the page from a pipe */
		if (write(t->pipe[1], t->scratch, cfg.ps) != (ssize_t)cfg.ps)
			return -EIO;
		r = read(t->pipe[0], page, cfg.ps);
		break;
	case 1:		/* the kernel reads the page into a pipe */
		r = write(t->pipe[1], page, cfg.ps);
		if (r == (long)cfg.ps &&
		    read(t->pipe[0], t->scratch, cfg.ps) != (ssize_t)cfg.ps)
			return -EIO;
		break;
	case 2:
		r = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
		break;
	case 3:
		r = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
		break;
	case 4:		/* FOLL_FORCE: writes private read-only mappings */
		r = pwrite(t->mem_fd, t->scratch, cfg.ps, (off_t)page);
		break;
	default:
		r = pread(t->mem_fd, t->scratch, cfg.ps, (off_t)page);
	}
	if (r < 0)
		r = -errno;
	fz_drain(t);
	return r;
}

void op_kpath(struct fz_thread *t)
{
	int m = fz_map_lock(t, false, false), kind = rn(t, 6);
	struct fz_map *fm = &P.map[m];
	bool write = !(kind & 1);
	unsigned int set;
	long r;

	if (!fm->addr)
		goto out;
	if (kind >= 4)		/* /proc/self/mem: EIO, and FOLL_FORCE */
		set = BIT(FR_EIO) | (write && fm->shared &&
				     !(fm->prot & PROT_WRITE) ? 0 : BIT(FR_OK));
	else if (write)
		set = fm->prot & PROT_WRITE ? BIT(FR_OK) | BIT(FR_EFAULT) :
					      BIT(FR_EFAULT);
	else
		set = fz_prot_read_ok(fm->prot) ? BIT(FR_OK) | BIT(FR_EFAULT) :
						  BIT(FR_EFAULT);
	r = fz_kpath(t, fz_map_page(t, fm), kind);
	/* A concurrent shrink may cut a copy short. */
	fz_expect(t, r < 0 ? -r : 0, set,
		  "kernel %s (path %d) of a %s mapping with prot %#x",
		  write ? "write" : "read", kind,
		  fm->shared ? "shared" : "private", fm->prot);
out:
	pthread_rwlock_unlock(&fm->lock);
}

/* vmsplice pins pages into the pipe: they wait in limbo when released. */
void op_vmsplice(struct fz_thread *t)
{
	int m = fz_map_lock(t, false, false);
	struct fz_map *fm = &P.map[m];
	struct iovec iov;
	unsigned int set;
	long r;

	if (!fm->addr)
		goto out;
	iov.iov_base = fz_map_page(t, fm);
	iov.iov_len = cfg.ps * (1 + rn(t, 2));
	if (iov.iov_base + iov.iov_len > (void *)(fm->addr + fm->len))
		iov.iov_len = cfg.ps;
	set = fz_prot_read_ok(fm->prot) ?
	      BIT(FR_OK) | BIT(FR_EFAULT) | BIT(FR_EAGAIN) :
	      BIT(FR_EFAULT) | BIT(FR_EAGAIN);
	r = vmsplice(t->pipe[1], &iov, 1, SPLICE_F_NONBLOCK);
	fz_expect(t, fz_err(r), set, "vmsplice of a mapping with prot %#x",
		  fm->prot);
out:
	pthread_rwlock_unlock(&fm->lock);
}

void op_drain(struct fz_thread *t)
{
	fz_drain(t);
}

/*
 * A view that takes a good part of the pool at once (POPULATE_WRITE of
 * thousands of pages), so that the pool runs dry now and then while
 * everything else goes on: first writes and COW breaks then get SIGBUS.
 */
void op_hog(struct fz_thread *t)
{
	unsigned long n = MIN(cfg.pool_pages / (2 + rn(t, 4)), 8192);
	int i = rn(t, FZ_OBJS), m, fd, err;
	uint64_t af0;
	char *addr;

	if (!chance(t, 25))
		return;
	pthread_rwlock_wrlock(&P.obj[i].lock);
	m = fz_map_lock(t, true, true);
	if (m < 0) {
		pthread_rwlock_unlock(&P.obj[i].lock);
		return;
	}
	if (P.obj[i].fd >= 0)
		fz_expect(t, fz_err(close(P.obj[i].fd)), BIT(FR_OK), "close");
	P.obj[i].fd = -1;
	if (P.map[m].addr)
		fz_expect(t, fz_err(munmap(P.map[m].addr, P.map[m].len)),
			  BIT(FR_OK), "munmap");
	fz_map_clear(&P.map[m]);
	fd = cowdev_open();
	if (!fz_expect(t, fd < 0 ? -fd : 0, BIT(FR_OK), "open"))
		goto out;
	P.obj[i].fd = fd;
	P.obj[i].rd = P.obj[i].wr = true;
	P.obj[i].clone = false;
	if (!fz_expect(t, -cowdev_set_size(fd, n * cfg.ps), BIT(FR_OK),
		       "SET_SIZE"))
		goto out;
	addr = mmap(NULL, n * cfg.ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    0);
	if (!fz_expect(t, addr == MAP_FAILED ? errno : 0, BIT(FR_OK), "mmap"))
		goto out;
	P.map[m].addr = addr;
	P.map[m].len = n * cfg.ps;
	P.map[m].prot = PROT_READ | PROT_WRITE;
	P.map[m].shared = true;
	P.map[m].wr_ok = true;
	P.map[m].dontfork = false;
	af0 = fz_alloc_failures(t);
	err = fz_err(madvise(addr, n * cfg.ps, MADV_POPULATE_WRITE));
	if (err && (err != EFAULT || fz_alloc_failures(t) == af0))
		fz_fail(t, "madvise(POPULATE_WRITE) of %lu pages: %s without a pool failure",
			n, strerror(err));
out:
	pthread_rwlock_unlock(&P.map[m].lock);
	pthread_rwlock_unlock(&P.obj[i].lock);
}

