// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev_fuzz_test: ops on the shared objects.
 */
#include "fuzz.h"

/* ---- ops on the shared objects ---- */

void op_setsize(struct fz_thread *t)
{
	int s = fz_obj_rdlock(t);
	uint64_t v = fz_gen_bytes(t, false);

	if (s < 0)
		return;
	if (chance(t, 60))
		v = rn(t, 256) * cfg.ps;	/* favour sizes that get used */
	fz_expect(t, -cowdev_set_size(P.obj[s].fd, v),
		  v > (uint64_t)cfg.max_pages * cfg.ps ? BIT(FR_EFBIG) : BIT(FR_OK),
		  "SET_SIZE %#llx", (unsigned long long)v);
	pthread_rwlock_unlock(&P.obj[s].lock);
}

static int fz_open_dev(struct fz_thread *t, bool *rd, bool *wr)
{
	static const int modes[] = { O_RDWR, O_RDWR, O_RDWR, O_RDONLY,
				     O_WRONLY };
	int m = modes[rn(t, 5)], fd;

	fd = open(COWDEV_PATH, m | O_CLOEXEC);
	/* A view is opened O_RDWR or not at all. */
	fz_expect(t, fz_err(fd), m == O_RDWR ? BIT(FR_OK) : BIT(FR_EACCES),
		  "open(%s, %#x)", COWDEV_PATH, m);
	*rd = m != O_WRONLY;
	*wr = m != O_RDONLY;
	return fd;
}

void op_open(struct fz_thread *t)
{
	int i = rn(t, FZ_OBJS), fd;
	bool rd, wr;

	pthread_rwlock_wrlock(&P.obj[i].lock);
	if (P.obj[i].fd >= 0)
		fz_expect(t, fz_err(close(P.obj[i].fd)), BIT(FR_OK), "close");
	P.obj[i].fd = -1;
	fd = fz_open_dev(t, &rd, &wr);
	if (fd >= 0) {
		P.obj[i].fd = fd;
		P.obj[i].rd = rd;
		P.obj[i].wr = wr;
		P.obj[i].clone = false;
		if (chance(t, 80))
			fz_expect(t, -cowdev_set_size(fd, rn(t, 128) * cfg.ps),
				  BIT(FR_OK), "SET_SIZE of a new view");
	}
	pthread_rwlock_unlock(&P.obj[i].lock);
}

void op_close(struct fz_thread *t)
{
	int i = rn(t, FZ_OBJS);

	pthread_rwlock_wrlock(&P.obj[i].lock);
	if (P.obj[i].fd >= 0)
		fz_expect(t, fz_err(close(P.obj[i].fd)), BIT(FR_OK), "close");
	P.obj[i].fd = -1;
	pthread_rwlock_unlock(&P.obj[i].lock);
}

void op_dup(struct fz_thread *t)
{
	int s = fz_obj_rdlock(t), d, fd;

	if (s < 0)
		return;
	d = rn(t, FZ_OBJS);
	if (d == s || pthread_rwlock_trywrlock(&P.obj[d].lock)) {
		pthread_rwlock_unlock(&P.obj[s].lock);
		return;
	}
	if (P.obj[d].fd >= 0 && chance(t, 50)) {
		/* dup3 replaces the file behind dst's fd number. */
		fd = dup3(P.obj[s].fd, P.obj[d].fd, O_CLOEXEC);
		fz_expect(t, fz_err(fd), BIT(FR_OK), "dup3");
	} else {
		if (P.obj[d].fd >= 0)
			fz_expect(t, fz_err(close(P.obj[d].fd)), BIT(FR_OK),
				  "close");
		fd = chance(t, 50) ? dup(P.obj[s].fd) :
				     fcntl(P.obj[s].fd, F_DUPFD_CLOEXEC, 3);
		fz_expect(t, fz_err(fd), BIT(FR_OK), "dup");
	}
	P.obj[d].fd = fd;
	P.obj[d].rd = P.obj[s].rd;
	P.obj[d].wr = P.obj[s].wr;
	P.obj[d].clone = P.obj[s].clone;
	pthread_rwlock_unlock(&P.obj[d].lock);
	pthread_rwlock_unlock(&P.obj[s].lock);
}

/* open("/proc/self/fd/N"): a new view for the device, ENXIO for a clone. */
void op_reopen(struct fz_thread *t)
{
	int s = fz_obj_rdlock(t), fd, mode = chance(t, 80) ? O_RDWR : O_RDONLY;
	char path[64];
	bool clone;

	if (s < 0)
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", P.obj[s].fd);
	clone = P.obj[s].clone;
	fd = open(path, mode | O_CLOEXEC);
	fz_expect(t, fz_err(fd),
		  clone ? BIT(FR_ENXIO) :
		  mode == O_RDWR ? BIT(FR_OK) : BIT(FR_EACCES),
		  "reopen of a %s fd through %s", clone ? "clone" : "device",
		  path);
	if (fd >= 0)
		fz_obj_store(t, fd, true, mode == O_RDWR, clone, s);
	pthread_rwlock_unlock(&P.obj[s].lock);
}

void op_clone(struct fz_thread *t)
{
	int s = fz_obj_rdlock(t), fd;

	if (s < 0)
		return;
	fd = cowdev_clone(P.obj[s].fd);
	if (fz_expect(t, fd < 0 ? -fd : 0, FZ_CLONE_OK, "CLONE") && fd >= 0) {
		if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
			fz_fail(t, "CLONE: fd without FD_CLOEXEC");
		fz_obj_store(t, fd, true, true, true, s);
	}
	pthread_rwlock_unlock(&P.obj[s].lock);
}

/* read/write/lseek/fstat on the device fd: it has no read or write. */
void op_fdops(struct fz_thread *t)
{
	int s = fz_obj_rdlock(t), fd;
	struct stat stb;
	char b[16];

	if (s < 0)
		return;
	fd = P.obj[s].fd;
	switch (rn(t, 4)) {
	case 0:
		fz_expect(t, fz_err(read(fd, b, sizeof(b))),
			  P.obj[s].rd ? BIT(FR_EINVAL) : BIT(FR_OTHER), "read");
		break;
	case 1:
		fz_expect(t, fz_err(write(fd, b, sizeof(b))),
			  P.obj[s].wr ? BIT(FR_EINVAL) : BIT(FR_OTHER), "write");
		break;
	case 2:
		lseek(fd, rnd(t) >> 1, SEEK_SET);
		break;
	default:
		fz_expect(t, fz_err(fstat(fd, &stb)), BIT(FR_OK), "fstat");
	}
	pthread_rwlock_unlock(&P.obj[s].lock);
}

