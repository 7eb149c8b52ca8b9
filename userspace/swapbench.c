// SPDX-License-Identifier: GPL-2.0
/*
 * swapbench - the cost of a cowdev major fault beside the kernel's own
 * swap-in of anonymous memory, in the same run of the same machine.
 *
 * Each repetition measures both kinds, one after the other:
 *  - kernel: a child in the memory cgroup SWAPBENCH_CGROUP writes N pages
 *    of anonymous memory, pushes them to the kernel's swap with
 *    MADV_PAGEOUT and out of the swap cache with the cgroup's
 *    memory.reclaim, then reads each page once;
 *  - cowdev: N pages of a view are written, evicted to cowdev's swap area
 *    (a resident limit of 1 page and one more write), the limit is lifted,
 *    then each page is read once.
 * Each read must be exactly one major fault (getrusage), else the
 * repetition is reported as invalid: set /proc/sys/vm/page-cluster to 0 so
 * that the kernel reads one page per fault, as cowdev does.  The kernel's
 * swap and cowdev's area should sit on the same filesystem or device kind
 * (scripts/swapbench sets both up).  Root only (swapon).
 *
 * Usage: SWAPBENCH_CGROUP=DIR swapbench -s SWAPFILE [-n PAGES] [-r REPS]
 * Prints ns per fault for each kind and repetition, the medians and the
 * ratio cowdev / kernel with the spread of the per-repetition ratios.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libcowdev.h"

#define MAX_REPS 64

static size_t ps;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static long majflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_majflt;
}

/* Read one byte of each of @n pages; ns per page, -1 unless all majors. */
static double time_reads(const char *p, size_t n)
{
	volatile char sink = 0;
	long maj = majflt();
	double t = now_ns();
	size_t i;

	for (i = 0; i < n; i++)
		sink += p[i * ps];
	t = now_ns() - t;
	(void)sink;
	if (majflt() - maj != (long)n) {
		fprintf(stderr, "swapbench: %ld major faults for %zu pages\n",
			majflt() - maj, n);
		return -1;
	}
	return t / n;
}

/* Write @val to the file @name of the cgroup directory @cg. */
static int cg_write(const char *cg, const char *name, const char *val)
{
	char path[512];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", cg, name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

/*
 * Push @n anonymous pages out of memory, and out of the swap cache too:
 * MADV_PAGEOUT writes them and leaves them in the swap cache (a touch then
 * would be a minor fault); reclaim of the process's own cgroup (@cg, which
 * holds nothing else of ours) frees them once written.
 */
static int page_out(const char *cg, char *p, size_t n)
{
	int i;

	for (i = 0; i < 50; i++) {
		if (madvise(p, n * ps, MADV_PAGEOUT)) {
			perror("swapbench: MADV_PAGEOUT");
			return -1;
		}
		usleep(20000);
		if (cowdev_smaps_kb(p, "Rss") == 0 &&
		    cg_write(cg, "memory.reclaim", "1G") && errno != EAGAIN)
			return 0;
	}
	return cowdev_smaps_kb(p, "Rss") ? -1 : 0;
}

/* In a child in cgroup @cg: ns per kernel major fault, or -1. */
static double kernel_child(const char *cg, size_t n)
{
	char *p = mmap(NULL, n * ps, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char pid[32];
	size_t i;

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (p == MAP_FAILED || cg_write(cg, "cgroup.procs", pid)) {
		perror("swapbench: joining the cgroup");
		return -1;
	}
	for (i = 0; i < n; i++)
		memset(p + i * ps, (int)i + 1, ps);
	if (page_out(cg, p, n))
		return -1;
	return time_reads(p, n);
}

static double kernel_round(const char *cg, size_t n)
{
	double ns = -1;
	int pfd[2];
	pid_t pid;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (!pid) {
		ns = kernel_child(cg, n);
		_exit(write(pfd[1], &ns, sizeof(ns)) != sizeof(ns));
	}
	close(pfd[1]);
	if (pid < 0 || read(pfd[0], &ns, sizeof(ns)) != sizeof(ns))
		ns = -1;
	close(pfd[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return ns;
}

static double cowdev_round(size_t n)
{
	int fd = cowdev_open();
	double ns = -1;
	size_t i;
	char *p;

	if (fd < 0 || cowdev_set_size(fd, (n + 1) * ps))
		goto out;
	p = mmap(NULL, (n + 1) * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 0);
	if (p == MAP_FAILED)
		goto out;
	for (i = 0; i < n; i++)
		memset(p + i * ps, (int)i + 1, ps);
	/* At a limit of one page, one more write evicts all the others. */
	if (!cowdev_set_resident_limit(fd, 1)) {
		p[n * ps] = 1;
		cowdev_set_resident_limit(fd, 0);
		ns = time_reads(p, n);
	}
	munmap(p, (n + 1) * ps);
out:
	if (fd >= 0)
		close(fd);
	return ns;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	double s[MAX_REPS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	double k[MAX_REPS], c[MAX_REPS], ratio[MAX_REPS];
	const char *swapfile = NULL, *cg = getenv("SWAPBENCH_CGROUP");
	size_t n = 1024;
	int reps = 5, r, opt, fd, sfd;

	while ((opt = getopt(argc, argv, "n:r:s:")) != -1) {
		switch (opt) {
		case 'n': n = strtoul(optarg, NULL, 0); break;
		case 'r': reps = atoi(optarg); break;
		case 's': swapfile = optarg; break;
		default: goto usage;
		}
	}
	if (!swapfile || !cg || !n || reps < 1 || reps > MAX_REPS)
		goto usage;
	ps = sysconf(_SC_PAGESIZE);
	fd = cowdev_open();
	sfd = open(swapfile, O_RDWR);
	if (fd < 0 || sfd < 0 || cowdev_swapon(fd, sfd)) {
		fprintf(stderr, "swapbench: cannot attach %s: %s\n", swapfile,
			strerror(errno));
		return 1;
	}
	close(sfd);
	printf("%-4s %14s %14s %8s\n", "rep", "kernel ns/flt", "cowdev ns/flt",
	       "ratio");
	for (r = 0; r < reps; r++) {
		k[r] = kernel_round(cg, n);
		c[r] = cowdev_round(n);
		if (k[r] <= 0 || c[r] <= 0) {
			fprintf(stderr, "swapbench: repetition %d invalid\n", r);
			return 1;
		}
		ratio[r] = c[r] / k[r];
		printf("%-4d %14.0f %14.0f %8.2f\n", r, k[r], c[r], ratio[r]);
	}
	qsort(ratio, reps, sizeof(*ratio), cmp_double);
	printf("median: kernel %.0f ns, cowdev %.0f ns per major fault (%zu pages, %d reps)\n",
	       median(k, reps), median(c, reps), n, reps);
	printf("ratio cowdev/kernel: median %.2f, min %.2f, max %.2f\n",
	       median(ratio, reps), ratio[0], ratio[reps - 1]);
	if (cowdev_swapoff(fd))
		fprintf(stderr, "swapbench: swapoff: %s\n", strerror(errno));
	close(fd);
	return 0;
usage:
	fprintf(stderr, "usage: SWAPBENCH_CGROUP=DIR %s -s SWAPFILE [-n PAGES] [-r REPS (1-%d)]\n",
		argv[0], MAX_REPS);
	return 2;
}
