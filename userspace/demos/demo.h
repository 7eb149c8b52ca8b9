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

#endif /* COWDEV_DEMO_H */
