// SPDX-License-Identifier: GPL-2.0
/*
 * demo12: minor versus major faults, a file mapping beside a cowdev
 * object.  Both are read after `echo 3 > /proc/sys/vm/drop_caches`.
 *
 * The claims it checks (exact): a file's pages live in the page cache, and
 * drop_caches throws away the clean ones that nothing maps; reading them
 * back through a mapping is then one major fault per page (MADV_RANDOM:
 * no readahead brings a neighbour in with the page that faulted), and
 * reading them again through a new mapping is no major fault at all (the
 * page cache has them).  A cowdev object's pages are not page cache:
 * drop_caches leaves them alone, and reading them after it makes no major
 * fault -- the only major faults cowdev makes are page-ins from its swap
 * area (demo10, demo11).
 *
 * Usage: demo12_file_vs_cowdev [FILE].  FILE must hold at least NPAGES
 * pages and be on a disk or network file system (not tmpfs, whose pages
 * drop_caches does not drop); by default Debian's
 * /usr/share/common-licenses/GPL-3.  Needs root (drop_caches).
 */
#include <sys/resource.h>

#include "demo.h"

#define NPAGES 8
#define DEFAULT_FILE "/usr/share/common-licenses/GPL-3"

static void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		demo_fail("/proc/sys/vm/drop_caches: %s (needs root)",
			  strerror(errno));
	sync();
	if (write(fd, "3", 1) != 1)
		demo_fail("drop_caches: %s", strerror(errno));
	close(fd);
}

/* Read one byte of each of @n pages at @m; the process's fault deltas. */
static unsigned int touch(const char *m, size_t n, long long *minflt,
			  long long *majflt)
{
	long long min0, maj0;
	unsigned int sum = 0;
	size_t i;

	demo_proc_faults(&min0, &maj0);
	for (i = 0; i < n; i++)
		sum += ((volatile const char *)m)[i * demo_psize()];
	demo_proc_faults(minflt, majflt);
	*minflt -= min0;
	*majflt -= maj0;
	return sum;
}

/*
 * The major faults of a step.  Its minor faults are not shown: how many
 * exceptions a step takes besides its major faults depends on the kernel
 * (fault-around, the page tables already there), and the checks say what
 * is exact of them.
 */
static void show(const char *what, long long majflt)
{
	printf("    %-46s majflt %3lld\n", what, majflt);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : DEFAULT_FILE;
	size_t ps = demo_psize(), len = NPAGES * ps;
	long long minflt, majflt;
	struct cowdev_stats st;
	struct stat sb;
	size_t i, good;
	char *m;
	int fd;

	demo_name = "demo12_file_vs_cowdev";
	setvbuf(stdout, NULL, _IOLBF, 0);
	demo_title("minor and major faults: a file mapping and cowdev after drop_caches");
	demo_say("%d pages of a file (%s)", NPAGES,
		 argc > 1 ? "FILE" : DEFAULT_FILE);
	demo_say("and %d pages of a cowdev object, each read after drop_caches.",
		 NPAGES);

	fd = DEMO_TRY(open(path, O_RDONLY | O_CLOEXEC));
	DEMO_TRY(fstat(fd, &sb));
	DEMO_CHECK(sb.st_size >= (off_t)len, "%s: %lld bytes", path,
		   (long long)sb.st_size);

	demo_step("1. the file, read after drop_caches");
	m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		demo_fail("mmap %s: %s", path, strerror(errno));
	DEMO_TRY(madvise(m, len, MADV_RANDOM));
	drop_caches();
	touch(m, NPAGES, &minflt, &majflt);
	show("first read, after drop_caches", majflt);
	demo_expect("major faults (one per page)", majflt, NPAGES);
	touch(m, NPAGES, &minflt, &majflt);
	show("second read, same mapping", majflt);
	demo_expect("major faults", majflt, 0);
	demo_expect("minor faults (the ptes are there)", minflt, 0);
	munmap(m, len);
	m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		demo_fail("mmap %s: %s", path, strerror(errno));
	DEMO_TRY(madvise(m, len, MADV_RANDOM));
	touch(m, NPAGES, &minflt, &majflt);
	show("a new mapping, pages in the page cache", majflt);
	demo_expect("major faults", majflt, 0);
	DEMO_CHECK(minflt >= 1 && minflt <= NPAGES, "minflt %lld", minflt);
	demo_say("Each page the first read needed was read from the file system");
	demo_say("while the process waited: a major fault.  Afterwards the page cache");
	demo_say("holds them, and a new mapping faults them in without I/O: minor.");
	munmap(m, len);
	close(fd);

	demo_step("2. a cowdev object, read after drop_caches");
	fd = demo_object(NPAGES);
	m = demo_map(fd, NPAGES, MAP_SHARED);
	memset(m, 'c', len);
	munmap(m, len);
	drop_caches();
	m = demo_map(fd, NPAGES, MAP_SHARED);
	touch(m, NPAGES, &minflt, &majflt);
	show("read after drop_caches", majflt);
	demo_expect("major faults", majflt, 0);
	DEMO_CHECK(minflt >= 1 && minflt <= NPAGES, "minflt %lld", minflt);
	for (i = 0, good = 0; i < NPAGES; i++)
		good += m[i * ps] == 'c' && m[i * ps + ps - 1] == 'c';
	demo_expect("pages that hold what was written", good, NPAGES);
	st = demo_stats(fd);
	demo_expect("the object's pages, still resident", st.resident_pages,
		    NPAGES);
	demo_expect("the object's major faults", st.major_faults, 0);
	demo_say("drop_caches drops clean page cache; cowdev's pages are not page");
	demo_say("cache, and without a swap area nothing of them is ever on a disk:");
	demo_say("every cowdev fault is minor.  Its major faults are page-ins (demo11).");
	munmap(m, len);
	close(fd);
	demo_done();
	return 0;
}
