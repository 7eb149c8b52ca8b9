/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the cowdev selftests on top of libcowdev (which has the
 * SIGBUS-catching accesses and the smaps reader): counters, kernel threads,
 * children, time,
 * programs run with their output captured, views and their mappings,
 * aligned areas, threads started together, and the picture assertions
 * (page contents, page-state map, COW counters).
 * Include it after kselftest_harness.h.
 */
#ifndef COWDEV_TEST_H
#define COWDEV_TEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "libcowdev.h"

/*
 * Two harnesses: the 6.1 one (the standalone build takes it from Debian's
 * linux-source-6.1) and the 6.9+ one of a 6.12 tree the suite is dropped
 * into (FIXTURE_TEARDOWN_PARENT is new in it).
 *
 * SKIP() for a FIXTURE_SETUP.  The 6.1 harness runs a test's body even
 * after its setup called SKIP(): end the test's process instead, with the
 * exit status that harness reads as "skipped" (255).  The newer one ends
 * the test itself after a setup that skipped, and reads 255 as a failure.
 *
 * cowdev_test_passed(): has the running test not failed so far?
 */
#ifdef FIXTURE_TEARDOWN_PARENT
#define SKIP_SETUP(fmt, ...) SKIP(return, fmt, ##__VA_ARGS__)
#define cowdev_test_passed(m) ((m)->exit_code != KSFT_FAIL)
#else
#define SKIP_SETUP(fmt, ...) SKIP(_exit(255), fmt, ##__VA_ARGS__)
#define cowdev_test_passed(m) ((m)->passed)
#endif

/*
 * Without the module there is nothing to test: a binary skips as a whole
 * (exit KSFT_SKIP, 4), before the harness runs anything, as kselftests do
 * for a feature the kernel lacks.  A node that exists but cannot be opened
 * is the permission tests' business.
 */
__attribute__((constructor)) static void cowdev_test_require_device(void)
{
	if (access(COWDEV_PATH, F_OK) && errno == ENOENT)
		ksft_exit_skip(COWDEV_PATH " not found: cowdev is not loaded\n");
}

/*
 * The path of a file the tests use from elsewhere in cowdev, given as its
 * path in the repository (@repo_rel: "userspace/cowstat",
 * "scripts/bpftrace/faults.bt"): beside this binary under its base name
 * (a kernel tree's build and kselftest_install.sh put it there), or at
 * ../../@repo_rel from this binary (the repository).  0 if found, else -1
 * with the repository's path in @buf.
 */
static inline int cowdev_find(char *buf, size_t size, const char *repo_rel)
{
	const char *base = strrchr(repo_rel, '/');
	char exe[PATH_MAX], *dir;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n < 0 ? 0 : n] = '\0';
	dir = dirname(exe);
	if (snprintf(buf, size, "%s/%s", dir, base ? base + 1 : repo_rel) <
	    (int)size && !access(buf, F_OK))
		return 0;
	if (snprintf(buf, size, "%s/../../%s", dir, repo_rel) >= (int)size)
		return -1;
	return access(buf, F_OK) ? -1 : 0;
}

/*
 * Write the string @val to the attribute file @dir/@attr (debugfs failure
 * and delay injection, module parameters): 0, or -errno (-EIO for a short
 * write).  cowdev_attr_write() writes a number; cowdev_attr_read(): its
 * value, -1 if it cannot be read.
 */
static inline int cowdev_attr_write_str(const char *dir, const char *attr,
					const char *val)
{
	size_t len = strlen(val);
	char path[256];
	ssize_t n;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	return n == (ssize_t)len ? 0 : -EIO;
}

static inline int cowdev_attr_write(const char *dir, const char *attr,
				    long long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", val);
	return cowdev_attr_write_str(dir, attr, buf);
}

static inline long long cowdev_attr_read(const char *dir, const char *attr)
{
	char path[256], buf[32] = "";
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = '\0';
	close(fd);
	return strtoll(buf, NULL, 0);
}

/*
 * A PREEMPT_RT kernel?  The tests of the tracing tools (bpftrace, perf,
 * trace-cmd) skip there: the same tracing code runs on 6.12, and each of
 * those binaries costs minutes of a make check under TCG.
 */
static inline int cowdev_rt_kernel(void)
{
	struct utsname u;

	return !uname(&u) && strstr(u.version, "PREEMPT_RT") != NULL;
}

/*
 * A debug kernel of the matrix ($COWDEV_KERNEL ends in -debug, or the
 * kernel has kmemleak)?  The tracing tools take minutes to start there.
 */
static inline int cowdev_debug_kernel(void)
{
	const char *k = getenv("COWDEV_KERNEL");
	size_t n = k ? strlen(k) : 0;

	if (n >= 6 && !strcmp(k + n - 6, "-debug"))
		return 1;
	return !access("/sys/kernel/debug/kmemleak", F_OK);
}

/* Is @name an executable in $PATH? */
static inline int cowdev_have_tool(const char *name)
{
	const char *path = getenv("PATH");
	char file[PATH_MAX], *save = NULL, *p, *copy;
	int found = 0;

	copy = strdup(path ? path : "/usr/bin:/bin:/usr/sbin:/sbin");
	for (p = strtok_r(copy, ":", &save); p && !found;
	     p = strtok_r(NULL, ":", &save)) {
		snprintf(file, sizeof(file), "%s/%s", p, name);
		found = !access(file, X_OK);
	}
	free(copy);
	return found;
}

/*
 * For scripts/examples, with COWDEV_WRITE_EXAMPLES set: @text as the new
 * content of the committed example @file, on stdout, between
 * "# cowdev-example-begin FILE" and "# cowdev-example-end" lines, each
 * line prefixed with "# |".
 */
static inline void cowdev_print_example(const char *file, const char *text)
{
	const char *p = text, *nl;

	if (!getenv("COWDEV_WRITE_EXAMPLES"))
		return;
	printf("# cowdev-example-begin %s\n", file);
	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		printf("# |%.*s\n", (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
	printf("# cowdev-example-end\n");
	fflush(stdout);
}

/* ioctl(): the result, or -errno. */
static inline long cowdev_xioctl(int fd, unsigned long cmd, void *arg)
{
	long r = ioctl(fd, cmd, arg);

	return r < 0 ? -errno : r;
}

/* The module's parameters, one file each (cowdev_attr_write() writes one). */
#define COWDEV_PARAM_DIR "/sys/module/cowdev/parameters"

/* The value of module parameter @name; 0 when it cannot be read. */
static inline unsigned long cowdev_param(const char *name)
{
	char path[128];
	unsigned long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), COWDEV_PARAM_DIR "/%s", name);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/*
 * Write the string @val to module parameter @name (evict_policy takes a
 * name, not a number).  Return: 0, or -errno (-EIO for a short write).
 */
static inline int cowdev_param_set(const char *name, const char *val)
{
	return cowdev_attr_write_str(COWDEV_PARAM_DIR, name, val);
}

/* The pid of the kernel thread named @comm, or -1. */
static inline pid_t cowdev_kthread_pid(const char *comm)
{
	char path[300], name[32];
	struct dirent *d;
	pid_t pid = -1;
	DIR *dir;
	FILE *f;

	dir = opendir("/proc");
	if (!dir)
		return -1;
	while (pid < 0 && (d = readdir(dir))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f) &&
		    !strncmp(name, comm, strlen(comm)) &&
		    name[strlen(comm)] == '\n')
			pid = atoi(d->d_name);
		fclose(f);
	}
	closedir(dir);
	return pid;
}

/*
 * Wait until kernel thread @pid sleeps in wait_event_idle() (state I in
 * /proc/PID/stat): the zeroer at rest, past its last look at the reserve.
 * 0, or -1 after 10 s.
 */
static inline int cowdev_kthread_wait_idle(pid_t pid)
{
	char path[64], state = 0;
	int i;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (i = 0; i < 10000; i++) {
		f = fopen(path, "r");
		if (!f)
			return -1;
		if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
			state = 0;
		fclose(f);
		if (state == 'I')
			return 0;
		usleep(1000);
	}
	return -1;
}

/* GET_STATS of @fd; every field all ones when the ioctl fails. */
static inline struct cowdev_stats cowdev_stats_of(int fd)
{
	struct cowdev_stats st;

	if (cowdev_get_stats(fd, &st))
		memset(&st, 0xff, sizeof(st));
	return st;
}

/* POOL_INFO through @fd; every field all ones when the ioctl fails. */
static inline struct cowdev_pool_info cowdev_pool_of(int fd)
{
	struct cowdev_pool_info pi;

	if (cowdev_pool_info(fd, &pi))
		memset(&pi, 0xff, sizeof(pi));
	return pi;
}

static inline uint64_t cowdev_pool_used(int fd)
{
	return cowdev_pool_of(fd).used_pages;
}

static inline size_t cowdev_page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * Pages the kernel's fault-around covers (debugfs fault_around_bytes; the
 * kernel's default of 64 KiB when debugfs cannot tell).
 */
static inline unsigned long cowdev_fault_around_pages(size_t ps)
{
	unsigned long bytes = 65536;
	FILE *f = fopen("/sys/kernel/debug/fault_around_bytes", "r");

	if (f) {
		if (fscanf(f, "%lu", &bytes) != 1)
			bytes = 65536;
		fclose(f);
	}
	return bytes / ps;
}

/* Wait for @pid: its exit code, 128 + the signal that killed it, or -1. */
static inline int cowdev_child_status(pid_t pid)
{
	int status;

	if (pid <= 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* CLOCK_MONOTONIC, in seconds. */
static inline double cowdev_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A program run with its stdout and stderr captured: cowdev_proc_start()
 * starts it, cowdev_proc_read() collects what it prints (until a string
 * appears, or until it closes its output), cowdev_proc_wait() reaps it,
 * cowdev_proc_free() kills and reaps it if need be and frees the output.
 * cowdev_run_cmd() does it all for a program that runs to its end.  A
 * zeroed struct cowdev_proc has no child and no output.
 */
struct cowdev_proc {
	pid_t pid;		/* the child; -1 (or 0) when there is none */
	int out;		/* while it runs, the read end of its output */
	char *buf;		/* all it printed, NUL-terminated */
	size_t len, cap;
};

/*
 * Start @argv (NULL-terminated; argv[0] is looked up in $PATH) in
 * directory @dir (NULL: this one) with stdout and stderr into a pipe.
 * 0, or -1 (no child; cowdev_proc_free() still frees *@p).  A child that
 * cannot change to @dir exits 126; one that cannot exec says why on the
 * pipe and exits 127.
 */
static inline int cowdev_proc_start(struct cowdev_proc *p, char *const *argv,
				    const char *dir)
{
	int fds[2];

	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->out = -1;
	p->cap = 65536;
	p->buf = malloc(p->cap + 1);
	if (!p->buf)
		return -1;
	p->buf[0] = 0;
	if (pipe2(fds, O_CLOEXEC))
		return -1;
	p->pid = fork();
	if (p->pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (!p->pid) {
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		if (dir && chdir(dir))
			_exit(126);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	p->out = fds[0];
	return 0;
}

/*
 * Read what @p prints into p->buf until @needle appears in it (NULL:
 * until end of file) or @timeout seconds pass.  1 when @needle is found
 * (with no @needle, at end of file), else 0: timed out, end of file before
 * @needle, or no memory.
 */
static inline int cowdev_proc_read(struct cowdev_proc *p, const char *needle,
				   double timeout)
{
	double end = cowdev_now() + timeout;
	struct pollfd pfd = { .fd = p->out, .events = POLLIN };
	ssize_t n;
	char *b;

	for (;;) {
		if (needle && strstr(p->buf, needle))
			return 1;
		if (cowdev_now() > end)
			return 0;
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if (p->cap - p->len < 4096) {
			b = realloc(p->buf, 2 * p->cap + 1);
			if (!b)
				return 0;
			p->buf = b;
			p->cap *= 2;
		}
		n = read(p->out, p->buf + p->len, p->cap - p->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return !needle;
		p->len += n;
		p->buf[p->len] = 0;
	}
}

/*
 * Close the pipe of @p and reap it, after sending it @sig (0: none; a
 * child that still writes then gets SIGPIPE).  Its wait status, or -1.
 * What it printed stays in p->buf.
 */
static inline int cowdev_proc_wait(struct cowdev_proc *p, int sig)
{
	int status = -1;

	if (p->pid <= 0)
		return -1;
	if (sig)
		kill(p->pid, sig);
	close(p->out);
	p->out = -1;
	if (waitpid(p->pid, &status, 0) != p->pid)
		status = -1;
	p->pid = -1;
	return status;
}

/* Kill @p if it still runs, reap it, free its output. */
static inline void cowdev_proc_free(struct cowdev_proc *p)
{
	cowdev_proc_wait(p, SIGKILL);
	free(p->buf);
	p->buf = NULL;
}

/*
 * Run @argv in @dir (as cowdev_proc_start()) to its end, for at most
 * @timeout seconds (then it is killed), with what it printed in *@out
 * (NUL-terminated, or NULL; free it).  Its exit status, or -1: it could
 * not be started, was killed by a signal or timed out.
 */
static inline int cowdev_run_cmd(char *const *argv, const char *dir,
				 char **out, double timeout)
{
	struct cowdev_proc p;
	int done = 0, status = -1;

	if (!cowdev_proc_start(&p, argv, dir)) {
		done = cowdev_proc_read(&p, NULL, timeout);
		status = cowdev_proc_wait(&p, done ? 0 : SIGKILL);
	}
	*out = p.buf;
	if (!done || status < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* True if every byte of @p[0..len) is @c. */
static inline int cowdev_all_bytes(const char *p, size_t len, char c)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != c)
			return 0;
	return 1;
}

/*
 * An address aligned to @align with @len bytes free after it: the start of
 * a PROT_NONE reservation of @len + @align bytes (munmap @len + @align
 * bytes from *@rsv to release it).  Nothing in it has a page table.
 */
static inline char *cowdev_aligned_area(size_t len, size_t align, char **rsv)
{
	char *p = mmap(NULL, len + align, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	*rsv = p;
	return (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
}

/* @pages pages of view @fd from page @pgoff, as @prot and @flags; NULL. */
static inline char *cowdev_map_view(int fd, size_t pages, int prot, int flags,
				    size_t pgoff)
{
	size_t ps = cowdev_page_size();
	char *m = mmap(NULL, pages * ps, prot, flags, fd, pgoff * ps);

	return m == MAP_FAILED ? NULL : m;
}

/*
 * A new view of @pages pages; with @map, also mapped MAP_SHARED read-write
 * at *@map.  The fd, or -1 (nothing left open).
 */
static inline int cowdev_new_view(size_t pages, char **map)
{
	int fd = cowdev_open();

	if (fd < 0)
		return -1;
	if (cowdev_set_size(fd, pages * cowdev_page_size()))
		goto err;
	if (map) {
		*map = cowdev_map_view(fd, pages, PROT_READ | PROT_WRITE,
				       MAP_SHARED, 0);
		if (!*map)
			goto err;
	}
	return fd;
err:
	close(fd);
	return -1;
}

/*
 * Run @fn in @n threads (at most 64), thread i with @args + i * @size as
 * its argument, and join them all.  Threads that must start together wait
 * on a barrier of their own.  Returns how many threads returned non-NULL,
 * or -1 if a thread could not be created.
 */
static inline int cowdev_run_threads(int n, void *(*fn)(void *), void *args,
				     size_t size)
{
	pthread_t t[64];
	int i, started, bad = 0;
	void *ret;

	if (n > 64)
		return -1;
	for (started = 0; started < n; started++)
		if (pthread_create(&t[started], NULL, fn,
				   (char *)args + started * size))
			break;
	for (i = 0; i < started; i++) {
		pthread_join(t[i], &ret);
		bad += ret != NULL;
	}
	return started < n ? -1 : bad;
}

#ifdef __KSELFTEST_HARNESS_H
/*
 * Picture assertions, each reporting the line of its caller.
 *
 * expect_pages(m, "ab.c"): page i of @m is filled entirely with want[i]
 * ('.' means 0), for every character of the picture.
 */
static inline void __expect_pages(struct __test_metadata *_metadata, int line,
				  const char *m, const char *want)
{
	size_t ps = cowdev_page_size(), i, off;

	for (i = 0; want[i]; i++) {
		char c = want[i] == '.' ? 0 : want[i];

		for (off = 0; off < ps; off++)
			if (m[i * ps + off] != c)
				break;
		EXPECT_EQ(ps, off)
			TH_LOG("line %d: page %zu byte %zu is 0x%02x, want 0x%02x (\"%s\")",
			       line, i, off, (unsigned char)m[i * ps + off],
			       (unsigned char)c, want);
	}
}
#define expect_pages(m, want) __expect_pages(_metadata, __LINE__, m, want)

/* One character per page-state byte. */
static inline char cowdev_state_char(uint8_t b)
{
	switch (b) {
	case 0:
		return '.';
	case COWDEV_PAGE_RESIDENT:
		return 'r';
	case COWDEV_PAGE_RESIDENT | COWDEV_PAGE_SHARED:
		return 's';
	case COWDEV_PAGE_RESIDENT | COWDEV_PAGE_DIRTY:
		return 'd';
	case COWDEV_PAGE_RESIDENT | COWDEV_PAGE_SHARED | COWDEV_PAGE_DIRTY:
		return 'X';	/* a shared page is never dirty */
	default:
		return '?';
	}
}

/*
 * expect_map(fd, "rs.d"): the page-state map of pages [0, strlen(want)) of
 * view @fd, one character per page: '.' hole, 'r' RESIDENT, 's'
 * RESIDENT|SHARED, 'd' RESIDENT|DIRTY.  When @want covers the whole view,
 * the stats gauges must agree with it: resident_pages = pages not '.',
 * shared_pages = 's' pages.
 */
static inline void __expect_map(struct __test_metadata *_metadata, int line,
				int fd, const char *want)
{
	size_t n = strlen(want), i, resident = 0, shared = 0;
	uint8_t buf[256];
	char got[257];
	struct cowdev_stats st = cowdev_stats_of(fd);

	ASSERT_GT(sizeof(buf), n);
	memset(buf, 0xee, sizeof(buf));
	ASSERT_EQ(0, cowdev_page_state(fd, 0, n, buf)) TH_LOG("line %d", line);
	for (i = 0; i < n; i++) {
		got[i] = cowdev_state_char(buf[i]);
		resident += got[i] != '.';
		shared += got[i] == 's';
	}
	got[n] = 0;
	EXPECT_EQ(0xee, buf[n]);
	EXPECT_STREQ(want, got) TH_LOG("line %d: page-state map", line);
	if (st.size_pages == n) {
		EXPECT_EQ(resident, st.resident_pages) TH_LOG("line %d", line);
		EXPECT_EQ(shared, st.shared_pages) TH_LOG("line %d", line);
	}
}
#define expect_map(fd, want) __expect_map(_metadata, __LINE__, fd, want)

/* expect_cow(fd, copies, reuses, shared): exact COW counters of a view. */
static inline void __expect_cow(struct __test_metadata *_metadata, int line,
				int fd, uint64_t copies, uint64_t reuses,
				uint64_t shared)
{
	struct cowdev_stats st = cowdev_stats_of(fd);

	EXPECT_EQ(copies, st.cow_copies) TH_LOG("line %d: cow_copies", line);
	EXPECT_EQ(reuses, st.cow_reuses) TH_LOG("line %d: cow_reuses", line);
	EXPECT_EQ(shared, st.shared_pages)
		TH_LOG("line %d: shared_pages", line);
}
#define expect_cow(fd, c, r, s) __expect_cow(_metadata, __LINE__, fd, c, r, s)
#endif /* __KSELFTEST_HARNESS_H */

#endif /* COWDEV_TEST_H */
