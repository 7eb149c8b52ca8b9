/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the cowdev demos share: printing what a step shows, checking a
 * number against what the demo claims (a wrong number ends the demo with a
 * message and exit status 1), reading /proc/self/pagemap and the module's
 * counters.  Catching SIGBUS around one access and reading smaps are in
 * libcowdev (cowdev_try_read/write, cowdev_smaps_kb).
 */
#ifndef COWDEV_DEMO_H
#define COWDEV_DEMO_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "libcowdev.h"

/* Set by each demo: prefixes failures. */
static const char *demo_name = "demo";
static unsigned int demo_checks;

static inline size_t demo_psize(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static inline void __attribute__((noreturn, format(printf, 1, 2)))
demo_fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: FAILED: ", demo_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* A system call or library step that must work for the demo to go on. */
#define DEMO_TRY(expr)							\
	({								\
		long __r = (long)(expr);				\
		if (__r < 0)						\
			demo_fail("%s:%d: %s: %s", __FILE__, __LINE__,	\
				  #expr, strerror(__r == -1 ? errno :	\
						  (int)-__r));		\
		__r;							\
	})

/* A claim the demo makes: print it, and fail when it does not hold. */
#define DEMO_CHECK(cond, fmt, ...)					\
	do {								\
		if (!(cond))						\
			demo_fail("%s (" fmt ")", #cond, ##__VA_ARGS__);\
		demo_checks++;						\
	} while (0)

/* "  what ................ got   ok", or fail: got != want. */
static inline void demo_expect(const char *what, long long got,
			       long long want)
{
	if (got != want) {
		fflush(stdout);
		demo_fail("%s is %lld, expected %lld", what, got, want);
	}
	demo_checks++;
	printf("    check: %-46s %8lld  ok\n", what, got);
}

static inline void demo_title(const char *title)
{
	printf("\n=== %s: %s\n", demo_name, title);
}

static inline void demo_step(const char *fmt, ...)
{
	va_list ap;

	printf("\n--- ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Indented explanation text: why the numbers are what they are. */
static inline void demo_say(const char *fmt, ...)
{
	va_list ap;

	printf("    ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static inline void demo_done(void)
{
	printf("\n%s: all %u checks passed\n", demo_name, demo_checks);
}

/* A new object of @pages pages. */
static inline int demo_object(size_t pages)
{
	int fd = cowdev_open();

	if (fd < 0)
		demo_fail("open %s: %s (is the cowdev module loaded?)",
			  COWDEV_PATH, strerror(-fd));
	DEMO_TRY(cowdev_set_size(fd, (uint64_t)pages * demo_psize()));
	return fd;
}

static inline char *demo_map(int fd, size_t pages, int flags)
{
	void *p = mmap(NULL, pages * demo_psize(), PROT_READ | PROT_WRITE,
		       flags, fd, 0);

	if (p == MAP_FAILED)
		demo_fail("mmap: %s", strerror(errno));
	return p;
}

static inline struct cowdev_stats demo_stats(int fd)
{
	struct cowdev_stats st;

	DEMO_TRY(cowdev_get_stats(fd, &st));
	return st;
}

/* The pool's used pages (ioctl on any cowdev fd: sysfs has the same). */
static inline long long demo_used(int fd)
{
	struct cowdev_pool_info pi;

	DEMO_TRY(cowdev_pool_info(fd, &pi));
	return pi.used_pages;
}

/* The /proc/self/pagemap entry of the page at @addr. */
static inline uint64_t demo_pagemap(const void *addr)
{
	uint64_t ent = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		demo_fail("/proc/self/pagemap: %s", strerror(errno));
	if (pread(fd, &ent, sizeof(ent),
		  (uintptr_t)addr / demo_psize() * sizeof(ent)) != sizeof(ent))
		demo_fail("/proc/self/pagemap: short read");
	close(fd);
	return ent;
}

/* Physical frame of the page at @addr: 0 when not present or not root. */
static inline uint64_t demo_pfn(const void *addr)
{
	uint64_t ent = demo_pagemap(addr);

	return ent >> 63 ? ent & ((1ULL << 55) - 1) : 0;
}

static inline const char *demo_sig_name(int sig)
{
	return !sig ? "ok" : sig == SIGBUS ? "SIGBUS" :
	       sig == SIGSEGV ? "SIGSEGV" : "signal";
}

/* Read fault_around_bytes (debugfs); 0 when unknown. */
static inline long demo_fault_around_pages(void)
{
	long bytes = 0;
	FILE *f = fopen("/sys/kernel/debug/fault_around_bytes", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%ld", &bytes) != 1)
		bytes = 0;
	fclose(f);
	return bytes / (long)demo_psize();
}

/* Write a line to a pipe / read one back (parent-child handshakes). */
static inline void demo_send(int fd, const char *msg)
{
	size_t len = strlen(msg) + 1;

	if (write(fd, msg, len) != (ssize_t)len)
		demo_fail("pipe write: %s", strerror(errno));
}

static inline void demo_recv(int fd, char *buf, size_t size)
{
	size_t i = 0;

	for (;;) {
		ssize_t n = read(fd, buf + i, 1);

		if (n <= 0)
			demo_fail("pipe read: %s", n ? strerror(errno) :
				  "the other process went away");
		if (!buf[i])
			return;
		if (++i == size)
			demo_fail("pipe read: message too long");
	}
}

/* ---- swap area, resident limits, policies (demos 8 to 11) ---------- */

#define DEMO_POLICY_PARAM "/sys/module/cowdev/parameters/evict_policy"

/*
 * The swap area a demo attaches for itself: a file of @pages pages, at
 * @path when the demo was given one (argv[1]; a block device is used as it
 * is), else a new file under $COWDEV_SWAP_DIR (default /tmp).  The file is
 * removed and the area detached when the demo exits, however it exits
 * (atexit), if it can be: swapoff reads every swapped-out page back, so
 * the demos close their objects first.
 */
static struct {
	int admin_fd;		/* a /dev/cowdev fd for swapon/swapoff */
	int attached;
	int atexit_done;
	int created;		/* the file is ours to remove */
	char path[512];
	char policy[32];	/* evict_policy to restore, "" if unchanged */
} demo_sw = { .admin_fd = -1 };

static inline void demo_policy_write(const char *name)
{
	int fd = open(DEMO_POLICY_PARAM, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		demo_fail("%s: %s (is this the issue-15 module, and are you "
			  "root?)", DEMO_POLICY_PARAM, strerror(errno));
	n = write(fd, name, strlen(name));
	if (n != (ssize_t)strlen(name))
		demo_fail("writing \"%s\" to %s: %s", name, DEMO_POLICY_PARAM,
			  n < 0 ? strerror(errno) : "short write");
	close(fd);
}

/*
 * The current replacement policy (the module parameter's file shows its
 * name; a "[name] other ..." list is understood too).  "" when the file
 * cannot be read.
 */
static inline const char *demo_policy(void)
{
	static char buf[64];
	char *s, *e;
	FILE *f = fopen(DEMO_POLICY_PARAM, "r");

	buf[0] = '\0';
	if (!f)
		return buf;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	s = strchr(buf, '[');
	if (s) {
		e = strchr(++s, ']');
		if (e)
			*e = '\0';
		memmove(buf, s, strlen(s) + 1);
	}
	buf[strcspn(buf, " \t\n")] = '\0';
	return buf;
}

static inline void demo_swap_cleanup(void)
{
	if (demo_sw.policy[0]) {
		int fd = open(DEMO_POLICY_PARAM, O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, demo_sw.policy, strlen(demo_sw.policy)) < 0)
			fprintf(stderr, "%s: could not restore evict_policy "
				"%s\n", demo_name, demo_sw.policy);
		if (fd >= 0)
			close(fd);
		demo_sw.policy[0] = '\0';
	}
	if (demo_sw.attached) {
		int r = cowdev_swapoff(demo_sw.admin_fd);

		if (r)
			fprintf(stderr, "%s: swapoff: %s: the swap area is "
				"still attached (rmmod detaches it)\n",
				demo_name, strerror(-r));
		demo_sw.attached = 0;
	}
	if (demo_sw.created) {
		unlink(demo_sw.path);
		demo_sw.created = 0;
	}
}

/* Switch evict_policy to @name; the old value comes back at exit. */
static inline void demo_set_policy(const char *name)
{
	if (!demo_sw.policy[0]) {
		const char *old = demo_policy();

		if (!old[0])
			demo_fail("%s: cannot read it (is this the issue-15 "
				  "module?)", DEMO_POLICY_PARAM);
		snprintf(demo_sw.policy, sizeof(demo_sw.policy), "%s", old);
		if (!demo_sw.atexit_done++)
			atexit(demo_swap_cleanup);
	}
	demo_policy_write(name);
	if (strcmp(demo_policy(), name))
		demo_fail("evict_policy is \"%s\" after writing \"%s\"",
			  demo_policy(), name);
}

/* Attach a swap area of @pages pages (see demo_sw); @path may be NULL. */
static inline void demo_swapon(const char *path, size_t pages)
{
	const char *dir = getenv("COWDEV_SWAP_DIR");
	struct cowdev_pool_info pi;
	struct stat sb;
	int sfd, r, blk = 0;

	if (demo_sw.admin_fd < 0) {
		demo_sw.admin_fd = cowdev_open();
		if (demo_sw.admin_fd < 0)
			demo_fail("open %s: %s (is the cowdev module loaded?)",
				  COWDEV_PATH, strerror(-demo_sw.admin_fd));
		if (!demo_sw.atexit_done++)
			atexit(demo_swap_cleanup);
	}
	DEMO_TRY(cowdev_pool_info(demo_sw.admin_fd, &pi));
	if (pi.swap_total)
		demo_fail("a swap area of %llu pages is attached already: "
			  "this demo attaches its own (detach the other "
			  "first)", (unsigned long long)pi.swap_total);
	if (path && !stat(path, &sb) && S_ISBLK(sb.st_mode)) {
		blk = 1;
		snprintf(demo_sw.path, sizeof(demo_sw.path), "%s", path);
		sfd = open(path, O_RDWR | O_CLOEXEC);
	} else if (path) {
		snprintf(demo_sw.path, sizeof(demo_sw.path), "%s", path);
		sfd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	} else {
		snprintf(demo_sw.path, sizeof(demo_sw.path),
			 "%s/cowdev-%s-swap.XXXXXX", dir && *dir ? dir : "/tmp",
			 demo_name);
		sfd = mkostemp(demo_sw.path, O_CLOEXEC);
	}
	if (sfd < 0)
		demo_fail("swap file %s: %s (give a path as the first "
			  "argument, or a directory in COWDEV_SWAP_DIR)",
			  demo_sw.path, strerror(errno));
	demo_sw.created = !blk;
	if (!blk) {
		r = posix_fallocate(sfd, 0, (off_t)(pages * demo_psize()));
		if (r && ftruncate(sfd, (off_t)(pages * demo_psize())))
			demo_fail("swap file %s: %zu pages: %s", demo_sw.path,
				  pages, strerror(errno));
	}
	r = cowdev_swapon(demo_sw.admin_fd, sfd);
	close(sfd);
	if (r == -EPERM)
		demo_fail("COWDEV_IOC_SWAPON: %s: attaching a swap area needs "
			  "root (CAP_SYS_ADMIN)", strerror(-r));
	if (r)
		demo_fail("COWDEV_IOC_SWAPON of %s: %s", demo_sw.path,
			  strerror(-r));
	demo_sw.attached = 1;
	DEMO_TRY(cowdev_pool_info(demo_sw.admin_fd, &pi));
	printf("    swap area: %s, %llu slots of %zu bytes%s\n", demo_sw.path,
	       (unsigned long long)pi.swap_total, demo_psize(),
	       blk ? " (block device)" : "");
	if (!blk && pi.swap_total != pages)
		demo_fail("swap_total is %llu for a file of %zu pages",
			  (unsigned long long)pi.swap_total, pages);
}

/* Detach the demo's swap area now (it must succeed), remove the file. */
static inline void demo_swapoff(void)
{
	struct cowdev_pool_info pi;
	int r = cowdev_swapoff(demo_sw.admin_fd);

	if (r)
		demo_fail("COWDEV_IOC_SWAPOFF: %s", strerror(-r));
	demo_sw.attached = 0;
	DEMO_TRY(cowdev_pool_info(demo_sw.admin_fd, &pi));
	demo_expect("swap_total after swapoff", pi.swap_total, 0);
	if (demo_sw.created) {
		unlink(demo_sw.path);
		demo_sw.created = 0;
	}
}

static inline struct cowdev_pool_info demo_pool(void)
{
	struct cowdev_pool_info pi;
	int fd = demo_sw.admin_fd;

	if (fd < 0) {
		fd = cowdev_open();
		if (fd < 0)
			demo_fail("open %s: %s", COWDEV_PATH, strerror(-fd));
	}
	DEMO_TRY(cowdev_pool_info(fd, &pi));
	if (fd != demo_sw.admin_fd)
		close(fd);
	return pi;
}

/*
 * The process's fault counts as ps shows them: fields 10 (minflt) and 12
 * (majflt) of /proc/self/stat.
 */
static inline void demo_proc_faults(long long *minflt, long long *majflt)
{
	char buf[1024], *p;
	long long v[14];
	ssize_t n;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		demo_fail("/proc/self/stat: %s", strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		demo_fail("/proc/self/stat: read failed");
	buf[n] = '\0';
	/* After "pid (comm)": field 3 (state) is the first one. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %lld %lld %lld %lld %lld %lld %lld "
			 "%lld %lld %lld", &v[4], &v[5], &v[6], &v[7], &v[8],
			 &v[9], &v[10], &v[11], &v[12], &v[13]) != 10)
		demo_fail("/proc/self/stat: cannot parse \"%s\"", buf);
	*minflt = v[10];
	*majflt = v[12];
}

#endif /* COWDEV_DEMO_H */
