// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev_fuzz_test: debugfs and sysfs reads.
 */
#include "fuzz.h"

/* ---- debugfs and sysfs ---- */

void op_debugfs(struct fz_thread *t)
{
	int i = rn(t, FZ_DBG), s, fd, err;
	struct cowdev_stats st;
	char path[96];
	long r;

	if (!cfg.debugfs)
		return;
	pthread_mutex_lock(&P.dbg_lock[i]);
	switch (rn(t, 4)) {
	case 0:		/* open the pagemap of a live view */
		s = fz_obj_rdlock(t);
		if (s < 0)
			break;
		if (!cowdev_get_stats(P.obj[s].fd, &st)) {
			snprintf(path, sizeof(path),
				 "/sys/kernel/debug/cowdev/pagemap/%llu",
				 (unsigned long long)st.view_id);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fz_expect(t, fz_err(fd), BIT(FR_OK),
				      "open of a live view's %s", path)) {
				if (P.dbg_fd[i] >= 0)
					close(P.dbg_fd[i]);
				P.dbg_fd[i] = fd;
			}
		}
		pthread_rwlock_unlock(&P.obj[s].lock);
		break;
	case 1:		/* read it, maybe after its view is gone */
	{
		static const size_t counts[] = { 0, 1, 100, 4096, 70000 };
		size_t count = counts[rn(t, 5)];
		off_t off = chance(t, 10) ? -1 : chance(t, 10) ?
			    (off_t)1 << 40 : (off_t)rn(t, 300);
		unsigned int set = BIT(FR_OK) | BIT(FR_EIO);
		uint8_t *buf = t->scratch;
		long k;

		if (P.dbg_fd[i] < 0)
			break;
		if (chance(t, 10)) {
			buf = (uint8_t *)t->arg + 2 * cfg.ps;	/* PROT_NONE */
			set = BIT(FR_EFAULT) | BIT(FR_EIO) | BIT(FR_OK);
		}
		if (off < 0)
			set = BIT(FR_EINVAL);
		r = pread(P.dbg_fd[i], buf, count, off);
		err = fz_err(r);
		fz_expect(t, err, set, "pread(pagemap, %zu, %lld)", count,
			  (long long)off);
		if (r > (long)count)
			fz_fail(t, "pread(pagemap, %zu) returned %ld", count, r);
		if (r > 0 && buf == t->scratch)
			for (k = 0; k < r; k++)
				if (!fz_state_ok(buf[k])) {
					fz_fail(t, "pagemap byte %ld is %#x",
						k, buf[k]);
					break;
				}
		break;
	}
	case 2:
		if (P.dbg_fd[i] >= 0)
			close(P.dbg_fd[i]);
		P.dbg_fd[i] = -1;
		break;
	default:	/* the views table */
		fd = open("/sys/kernel/debug/cowdev/views", O_RDONLY | O_CLOEXEC);
		if (!fz_expect(t, fz_err(fd), BIT(FR_OK), "open views"))
			break;
		r = read(fd, t->scratch, FZ_SCRATCH - 1);
		if (fz_expect(t, fz_err(r), BIT(FR_OK), "read views") &&
		    strncmp((char *)t->scratch, "id pid size_pages", 17))
			fz_fail(t, "views: no header line");
		while (r > 0)
			r = read(fd, t->scratch, FZ_SCRATCH);
		close(fd);
	}
	pthread_mutex_unlock(&P.dbg_lock[i]);
}

void op_sysfs(struct fz_thread *t)
{
	static const char *const attrs[] = { "total_pages", "free_pages",
		"used_pages", "peak_used", "alloc_failures", "views",
		"limbo_pages", "allocs", "frees", "swap_total", "swap_used",
		"page_outs", "page_ins", "evictions", "clean_evictions",
		"swap_errors", "kswapd_wakeups" };
	const char *a = attrs[rn(t, ARRAY_SIZE(attrs))];
	char path[96], b[64];
	int fd;
	long r;

	snprintf(path, sizeof(path), "/sys/class/misc/cowdev/%s", a);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!fz_expect(t, fz_err(fd), BIT(FR_OK), "open %s", path))
		return;
	r = read(fd, b, sizeof(b) - 1);
	if (fz_expect(t, fz_err(r), BIT(FR_OK), "read %s", path)) {
		b[r > 0 ? r : 0] = 0;
		if (r < 2 || b[r - 1] != '\n' || b[0] < '0' || b[0] > '9')
			fz_fail(t, "%s: \"%s\" is not a number", path, b);
	}
	close(fd);
}

