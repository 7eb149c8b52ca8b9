// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev_fuzz_test: the swap area (COWDEV_IOC_SWAPON, COWDEV_IOC_SWAPOFF),
 * resident limits (COWDEV_IOC_SET_RESIDENT_LIMIT) and the replacement
 * policy (the module parameter evict_policy).
 *
 * Each worker process opens, when it starts, the files SWAPON is tried
 * with, under COWDEV_SWAP_DIR (default /tmp) and unlinked at once, so
 * nothing is left behind: three it must accept (a file of FZ_SWAP_PAGES
 * pages, a file of exactly one page -- a one-slot area that is full at
 * once -- and a memfd) and nine it must refuse, each for one reason of the
 * documented order of checks: flags != 0 EINVAL; an fd that is not open
 * EBADF; not open for reading and writing EBADF (O_RDONLY, O_WRONLY,
 * O_PATH, a directory); not a regular file or block device, a cowdev fd or
 * O_APPEND EINVAL (/dev/null, a socket, a view, an O_APPEND file); smaller
 * than a page EINVAL (0 bytes, a page less one).
 *
 * There is one swap area for the whole module and every thread of every
 * process may attach or detach it at any time: an acceptable file gets
 * success or EBUSY, SWAPOFF success, EINVAL (none attached) or ENOMEM (the
 * pool cannot hold what the area holds).  A forked child that gave up root
 * gets EPERM for both.  The test's main process detaches the area at the
 * end, whatever happened, and puts evict_policy back.
 */
#include <sys/socket.h>
#include <sys/syscall.h>

#include "fuzz.h"

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1U
#endif

/* P.swap_fd[]: what each fd is. */
enum {
	SW_OK, SW_ONE, SW_MEMFD,		/* acceptable */
	SW_SHORT, SW_EMPTY, SW_RDONLY, SW_WRONLY, SW_APPEND, SW_DIR,
	SW_DEVNULL, SW_SOCKET, SW_PATH,
	SW_NR
};
_Static_assert(SW_NR == FZ_SWAP_FDS, "FZ_SWAP_FDS");
#define SW_VALID	3

static const char *const sw_names[SW_NR] = {
	"a file of FZ_SWAP_PAGES pages", "a file of one page", "a memfd",
	"a file of a page less one byte", "an empty file", "an O_RDONLY file",
	"an O_WRONLY file", "an O_APPEND file", "a directory", "/dev/null",
	"a socket", "an O_PATH fd",
};

static const char *const policies[] = { "fifo", "clock", "lru" };
#define FZ_POLICY_PARAM "/sys/module/cowdev/parameters/evict_policy"

/* st_dev of the module's pseudo filesystem (clone files); 0 unknown. */
static dev_t fz_cowdev_dev;

static const char *fz_swap_dir(void)
{
	const char *d = getenv("COWDEV_SWAP_DIR");

	return d && *d ? d : "/tmp";
}

/* A new file of @size bytes opened with @flags, already unlinked. */
static int fz_tmpfile(int flags, size_t size)
{
	char path[512];
	int fd, nfd;

	snprintf(path, sizeof(path), "%s/fzswap.XXXXXX", fz_swap_dir());
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (size && ftruncate(fd, size)) {
		close(fd);
		unlink(path);
		return -1;
	}
	nfd = fd;
	if (flags != O_RDWR) {
		nfd = open(path, flags | O_CLOEXEC);
		close(fd);
	}
	unlink(path);
	return nfd;
}

/* The worker's SWAPON candidates (fork shares them with its children). */
void fz_swap_init(void)
{
	size_t ps = cfg.ps;
	int sv[2], i, v, c;

	for (i = 0; i < SW_NR; i++)
		P.swap_fd[i] = -1;
	P.swap_fd[SW_OK] = fz_tmpfile(O_RDWR, FZ_SWAP_PAGES * ps);
	P.swap_fd[SW_ONE] = fz_tmpfile(O_RDWR, ps);
	P.swap_fd[SW_MEMFD] = syscall(SYS_memfd_create, "fzswap", MFD_CLOEXEC);
	if (P.swap_fd[SW_MEMFD] >= 0 &&
	    ftruncate(P.swap_fd[SW_MEMFD], FZ_SWAP_PAGES / 2 * ps)) {
		close(P.swap_fd[SW_MEMFD]);
		P.swap_fd[SW_MEMFD] = -1;
	}
	P.swap_fd[SW_SHORT] = fz_tmpfile(O_RDWR, ps - 1);
	P.swap_fd[SW_EMPTY] = fz_tmpfile(O_RDWR, 0);
	P.swap_fd[SW_RDONLY] = fz_tmpfile(O_RDONLY, 8 * ps);
	P.swap_fd[SW_WRONLY] = fz_tmpfile(O_WRONLY, 8 * ps);
	P.swap_fd[SW_APPEND] = fz_tmpfile(O_RDWR | O_APPEND, 8 * ps);
	P.swap_fd[SW_DIR] = open(fz_swap_dir(), O_RDONLY | O_DIRECTORY |
				 O_CLOEXEC);
	P.swap_fd[SW_DEVNULL] = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		P.swap_fd[SW_SOCKET] = sv[0];
		close(sv[1]);
	}
	P.swap_fd[SW_PATH] = fz_tmpfile(O_PATH, 8 * ps);
	/* Where clone files live, to know a view when SWAPON gets one. */
	v = cowdev_open();
	if (v >= 0) {
		struct stat sb;

		c = cowdev_clone(v);
		if (c >= 0 && !fstat(c, &sb))
			fz_cowdev_dev = sb.st_dev;
		if (c >= 0)
			close(c);
		close(v);
	}
}

/*
 * What SWAPON answers for struct cowdev_swapon { @fd, @flags }, in the
 * documented order of checks (the caller is root).  *@attaches: the fd is
 * one SWAPON accepts (success, or EBUSY when an area is attached).
 */
unsigned int fz_swapon_set(int fd, uint32_t flags, bool *attaches)
{
	struct stat sb, dsb;
	int fl;

	*attaches = false;
	if (flags)
		return BIT(FR_EINVAL);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return BIT(FR_EBADF);
	if ((fl & O_PATH) == O_PATH || (fl & O_ACCMODE) != O_RDWR)
		return BIT(FR_EBADF);
	if (fstat(fd, &sb))
		return BIT(FR_EBADF);
	if (S_ISCHR(sb.st_mode) && !stat(COWDEV_PATH, &dsb) &&
	    sb.st_rdev == dsb.st_rdev)
		return BIT(FR_EINVAL);		/* the device: a view */
	if ((fz_cowdev_dev && sb.st_dev == fz_cowdev_dev) ||
	    (!S_ISREG(sb.st_mode) && !S_ISBLK(sb.st_mode)) ||
	    (fl & O_APPEND))
		return BIT(FR_EINVAL);
	if (S_ISBLK(sb.st_mode)) {
		/* Not one of ours: whatever it is, do not attach it. */
		*attaches = true;
		return BIT(FR_OK) | BIT(FR_EBUSY) | BIT(FR_EINVAL);
	}
	if (sb.st_size < (off_t)cfg.ps)
		return BIT(FR_EINVAL);
	*attaches = true;
	return BIT(FR_OK) | BIT(FR_EBUSY);
}

/* An fd for a SWAPON: one it accepts if @valid, else one it refuses. */
int fz_swap_fd(struct fz_thread *t, bool valid)
{
	int i = valid ? rn(t, SW_VALID) : SW_VALID + rn(t, SW_NR - SW_VALID);

	if (!valid && chance(t, 15))
		return chance(t, 50) ? -1 : 0x7ffffff0;	/* never open */
	return P.swap_fd[i];
}

bool fz_swap_seen(void)
{
	return __atomic_load_n(&cfg.rep->swapons, __ATOMIC_RELAXED) ||
	       cfg.swap_max > FZ_SWAP_PAGES;
}

uint64_t fz_gen_limit(struct fz_thread *t)
{
	static const uint64_t v[] = { 0, 0, 1, 2, 3, 4, 8, 16, 64, 1ULL << 32,
				      ~0ULL };

	if (chance(t, 8))
		return rnd(t);
	return v[rn(t, ARRAY_SIZE(v))];
}

/*
 * A count that grows with every failure that explains a SIGBUS of an
 * access to owned view @a that needed a pool page: the pool's failures and
 * swap errors, and for a view with a resident limit (without a swap area a
 * fault that needs a page gets SIGBUS at the limit) the view's
 * pool_failures -- or, when its fd is closed and they cannot be read, a
 * count that always grows.
 */
uint64_t fz_own_failures(struct fz_thread *t, const struct fz_own *a)
{
	static __thread uint64_t tick;
	struct cowdev_stats st;
	uint64_t n = fz_alloc_failures(t);

	if (!a->limit)
		return n;
	if (a->fd >= 0 && !cowdev_get_stats(a->fd, &st))
		return n + st.pool_failures;
	return n + ++tick;
}

static void fz_count_swap(int err)
{
	__atomic_fetch_add(&cfg.rep->swap_res[fz_res(err)], 1,
			   __ATOMIC_RELAXED);
}

/* The fd to issue a module-wide ioctl on: any view. */
static int fz_any_view(struct fz_thread *t, int *slot)
{
	*slot = -1;
	if (chance(t, 30)) {
		*slot = fz_obj_rdlock(t);
		if (*slot >= 0)
			return P.obj[*slot].fd;
	}
	return t->info_fd;
}

/* What fd @fd is, for a message. */
static const char *fz_swap_name(int fd)
{
	int i;

	for (i = 0; fd >= 0 && i < SW_NR; i++)
		if (P.swap_fd[i] == fd)
			return sw_names[i];
	return fd < 0 ? "negative" : "not open";
}

static void fz_swapon(struct fz_thread *t, bool valid)
{
	struct cowdev_swapon sw = { .fd = fz_swap_fd(t, valid) };
	unsigned int set;
	bool attaches;
	int slot, fd, err;

	if (!valid && chance(t, 20))
		sw.fd = fz_swap_fd(t, true);
	if (chance(t, valid ? 3 : 20))
		sw.flags = chance(t, 50) ? 1U << rn(t, 32) : (uint32_t)rnd(t);
	if (sw.fd == -1 && valid)
		return;		/* that file could not be made */
	set = fz_swapon_set(sw.fd, sw.flags, &attaches);
	fd = fz_any_view(t, &slot);
	err = fz_err(fz_ioctl(fd, COWDEV_IOC_SWAPON, (unsigned long)&sw));
	fz_count_swap(err);
	fz_expect(t, err, set, "SWAPON of fd %d (%s) flags %#x", sw.fd,
		  fz_swap_name(sw.fd), sw.flags);
	if (!err)
		__atomic_fetch_add(&cfg.rep->swapons, 1, __ATOMIC_RELAXED);
	if (slot >= 0)
		pthread_rwlock_unlock(&P.obj[slot].lock);
}

static void fz_swapoff(struct fz_thread *t)
{
	int slot, fd = fz_any_view(t, &slot), err;
	struct cowdev_pool_info pi;

	__atomic_fetch_add(&cfg.rep->swapoff_running, 1, __ATOMIC_RELAXED);
	err = fz_err(fz_ioctl(fd, COWDEV_IOC_SWAPOFF, 0));
	__atomic_fetch_sub(&cfg.rep->swapoff_running, 1, __ATOMIC_RELAXED);
	fz_count_swap(err);
	if (fz_expect(t, err, BIT(FR_OK) | BIT(FR_EINVAL) | BIT(FR_ENOMEM),
		      "SWAPOFF") && !err) {
		__atomic_fetch_add(&cfg.rep->swapoffs, 1, __ATOMIC_RELAXED);
		if (!cowdev_pool_info(fd, &pi))
			fz_check_pool(t, &pi, sizeof(pi), "POOL_INFO after SWAPOFF");
	}
	if (slot >= 0)
		pthread_rwlock_unlock(&P.obj[slot].lock);
}

/* A resident limit for an owned view (checked) or a shared one. */
static void fz_limit(struct fz_thread *t)
{
	uint64_t v = fz_gen_limit(t);
	struct cowdev_stats st;
	int o = chance(t, 60) ? fz_own_pick(t) : -1, s, err;

	if (o >= 0) {
		err = -cowdev_set_resident_limit(t->own[o].fd, v);
		if (!fz_expect(t, err, BIT(FR_OK),
			       "SET_RESIDENT_LIMIT %llu of an owned view",
			       (unsigned long long)v))
			return;
		t->own[o].limit = v;
		if (!cowdev_get_stats(t->own[o].fd, &st) &&
		    st.resident_limit != v)
			fz_fail(t, "GET_STATS: resident_limit %llu after SET_RESIDENT_LIMIT %llu",
				(unsigned long long)st.resident_limit,
				(unsigned long long)v);
		return;
	}
	s = fz_obj_rdlock(t);
	if (s < 0)
		return;
	fz_expect(t, -cowdev_set_resident_limit(P.obj[s].fd, v), BIT(FR_OK),
		  "SET_RESIDENT_LIMIT %llu", (unsigned long long)v);
	pthread_rwlock_unlock(&P.obj[s].lock);
}

/* Switch the replacement policy while everything runs. */
static void fz_policy(struct fz_thread *t)
{
	static const char *const bad[] = { "FIFO", "fifo2", "random", "lr",
		"clock lru", "0", "lru\n\n" };
	char buf[32];
	const char *v;
	bool ok = chance(t, 75);
	int fd;
	ssize_t n;

	if (access(FZ_POLICY_PARAM, W_OK))
		return;
	if (ok) {
		snprintf(buf, sizeof(buf), "%s%s", policies[rn(t, 3)],
			 chance(t, 30) ? "\n" : "");
		v = buf;
	} else {
		v = bad[rn(t, ARRAY_SIZE(bad))];
	}
	fd = open(FZ_POLICY_PARAM, O_WRONLY | O_CLOEXEC);
	if (!fz_expect(t, fz_err(fd), BIT(FR_OK), "open evict_policy"))
		return;
	n = write(fd, v, strlen(v));
	fz_expect(t, n < 0 ? errno : n == (ssize_t)strlen(v) ? 0 : EIO,
		  ok ? BIT(FR_OK) : BIT(FR_EINVAL),
		  "write \"%.*s\" to evict_policy", (int)strcspn(v, "\n"), v);
	close(fd);
	fd = open(FZ_POLICY_PARAM, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	if (!strstr(buf, "fifo") && !strstr(buf, "clock") &&
	    !strstr(buf, "lru"))
		fz_fail(t, "evict_policy reads \"%s\"", buf);
}

/*
 * A child that is not root any more: SWAPON and SWAPOFF are EPERM before
 * anything else is looked at; a resident limit is anyone's.  (The child of
 * this multithreaded process only makes system calls.)
 */
static void fz_swap_eperm(struct fz_thread *t)
{
	struct cowdev_swapon sw = { .fd = P.swap_fd[SW_OK] };
	int st, fd = t->info_fd;
	pid_t pid;

	if (chance(t, 50))
		sw.flags = 1;
	if (chance(t, 30))
		sw.fd = -1;
	pid = fork();
	if (pid < 0)
		return;
	if (!pid) {
		int code = 0;

		if (syscall(SYS_setresgid, 65534, 65534, 65534) ||
		    syscall(SYS_setresuid, 65534, 65534, 65534))
			_exit(100);
		if (ioctl(fd, COWDEV_IOC_SWAPON, &sw) != -1 || errno != EPERM)
			code |= 1;
		if (ioctl(fd, COWDEV_IOC_SWAPOFF) != -1 || errno != EPERM)
			code |= 2;
		if (cowdev_set_resident_limit(fd, 7))
			code |= 4;
		_exit(code);
	}
	if (waitpid(pid, &st, 0) != pid) {
		fz_fail(t, "waitpid of the unprivileged child: %s",
			strerror(errno));
		return;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) == 100) {
		fz_check_child(t, "unprivileged SWAPON", st);
		return;
	}
	if (WEXITSTATUS(st) & 1)
		fz_fail(t, "SWAPON (fd %d, flags %#x) without CAP_SYS_ADMIN: not EPERM",
			sw.fd, sw.flags);
	if (WEXITSTATUS(st) & 2)
		fz_fail(t, "SWAPOFF without CAP_SYS_ADMIN: not EPERM");
	if (WEXITSTATUS(st) & 4)
		fz_fail(t, "SET_RESIDENT_LIMIT without privileges failed");
	cowdev_set_resident_limit(fd, 0);
}

void op_swap(struct fz_thread *t)
{
	unsigned int r = rn(t, 100);

	if (r < 30)
		fz_swapon(t, true);
	else if (r < 52)
		fz_swapon(t, false);
	else if (r < 72)
		fz_swapoff(t);
	else if (r < 90)
		fz_limit(t);
	else if (r < 97)
		fz_policy(t);
	else
		fz_swap_eperm(t);
}
