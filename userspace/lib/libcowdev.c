// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* libcowdev: see libcowdev.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>

#include "libcowdev.h"

static int cowdev_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

int cowdev_open(void)
{
	int fd = open(COWDEV_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int cowdev_set_size(int fd, uint64_t bytes)
{
	return cowdev_ioctl(fd, COWDEV_IOC_SET_SIZE, &bytes);
}

int cowdev_get_size(int fd, uint64_t *bytes)
{
	return cowdev_ioctl(fd, COWDEV_IOC_GET_SIZE, bytes);
}

int cowdev_get_stats(int fd, struct cowdev_stats *st)
{
	memset(st, 0, sizeof(*st));
	return cowdev_ioctl(fd, COWDEV_IOC_GET_STATS, st);
}

int cowdev_reset_stats(int fd)
{
	return cowdev_ioctl(fd, COWDEV_IOC_RESET_STATS, NULL);
}

int cowdev_pool_info(int fd, struct cowdev_pool_info *pi)
{
	memset(pi, 0, sizeof(*pi));
	return cowdev_ioctl(fd, COWDEV_IOC_POOL_INFO, pi);
}

int cowdev_clone(int fd)
{
	return cowdev_ioctl(fd, COWDEV_IOC_CLONE, NULL);
}

int cowdev_page_state(int fd, uint64_t start, uint64_t count, uint8_t *buf)
{
	struct cowdev_page_state ps = {
		.start = start,
		.count = count,
		.buf = (uintptr_t)buf,
	};

	return cowdev_ioctl(fd, COWDEV_IOC_PAGE_STATE, &ps);
}

int cowdev_swapon(int fd, int swap_fd)
{
	struct cowdev_swapon sw = {
		.fd = swap_fd,
		.flags = 0,
	};

	return cowdev_ioctl(fd, COWDEV_IOC_SWAPON, &sw);
}

int cowdev_swapoff(int fd)
{
	return cowdev_ioctl(fd, COWDEV_IOC_SWAPOFF, NULL);
}

int cowdev_set_resident_limit(int fd, uint64_t pages)
{
	return cowdev_ioctl(fd, COWDEV_IOC_SET_RESIDENT_LIMIT, &pages);
}

int cowdev_diff(int fd, int other, uint64_t start, uint64_t count,
		uint8_t *buf, struct cowdev_diff *out)
{
	struct cowdev_diff d = {
		.fd = other,
		.start = start,
		.count = count,
		.buf = (uintptr_t)buf,
	};
	int ret = cowdev_ioctl(fd, COWDEV_IOC_DIFF, &d);

	if (!ret && out)
		*out = d;
	return ret;
}

int cowdev_rollback(int fd, int snap)
{
	struct cowdev_rollback rb = {
		.fd = snap,
		.flags = 0,
	};

	return cowdev_ioctl(fd, COWDEV_IOC_ROLLBACK, &rb);
}

int cowdev_written(int fd, uint64_t start, uint64_t count, uint8_t *bits,
		   unsigned int flags, uint64_t *written)
{
	struct cowdev_written w = {
		.start = start,
		.count = count,
		.buf = (uintptr_t)bits,
		.flags = flags,
	};
	int ret = cowdev_ioctl(fd, COWDEV_IOC_WRITTEN, &w);

	if (!ret && written)
		*written = w.written;
	return ret;
}

/* ---- accesses that may fault, and smaps ------------------------------ */

/*
 * Per thread, so that threads racing for the last pool pages can each try.
 * Armed only while a try runs: a SIGBUS or SIGSEGV outside one is a real
 * crash and kills the process as it would without the catcher.
 */
static __thread sigjmp_buf cowdev_try_jmp;
static __thread volatile sig_atomic_t cowdev_try_armed;
static int cowdev_try_installed;

static void cowdev_try_handler(int sig, siginfo_t *si, void *uc)
{
	char m[160];
	int n;

	(void)uc;
	if (cowdev_try_armed) {
		cowdev_try_armed = 0;
		siglongjmp(cowdev_try_jmp, sig);
	}
	n = snprintf(m, sizeof(m),
		     "# FAIL pid %d: unexpected signal %d at %p outside an access\n",
		     getpid(), sig, si->si_addr);
	if (write(2, m, n) < 0)
		n = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

void cowdev_try_catch(void)
{
	struct sigaction sa = { .sa_sigaction = cowdev_try_handler };

	if (__atomic_load_n(&cowdev_try_installed, __ATOMIC_ACQUIRE))
		return;
	sigemptyset(&sa.sa_mask);
	/*
	 * Nothing is blocked while the handler runs, so the signal mask at
	 * the jump is that of the try: no need to save and restore it.
	 */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	__atomic_store_n(&cowdev_try_installed, 1, __ATOMIC_RELEASE);
}

int cowdev_try(void (*fn)(void *arg), void *arg)
{
	int sig;

	cowdev_try_catch();
	sig = sigsetjmp(cowdev_try_jmp, 0);
	if (!sig) {
		cowdev_try_armed = 1;
		fn(arg);
		cowdev_try_armed = 0;
	}
	return sig;
}

/* One byte to read or write under the catcher. */
struct cowdev_try_access {
	volatile char *p;
	char val;
};

static void cowdev_try_do_read(void *arg)
{
	struct cowdev_try_access *a = arg;

	a->val = *a->p;
}

static void cowdev_try_do_write(void *arg)
{
	struct cowdev_try_access *a = arg;

	*a->p = a->val;
}

int cowdev_try_read(const volatile char *p, char *val)
{
	struct cowdev_try_access a = { .p = (volatile char *)p };
	int sig = cowdev_try(cowdev_try_do_read, &a);

	if (!sig)
		*val = a.val;
	return sig;
}

int cowdev_try_write(volatile char *p, char val)
{
	struct cowdev_try_access a = { .p = p, .val = val };

	return cowdev_try(cowdev_try_do_write, &a);
}

long cowdev_smaps_kb(const void *addr, const char *field)
{
	char line[256], want[64];
	unsigned long start, end;
	long kb = -1, val;
	int in_vma = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "%s:", field);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in_vma = start == (unsigned long)addr;
			continue;
		}
		if (in_vma && !strncmp(line, want, strlen(want)) &&
		    sscanf(line + strlen(want), "%ld", &val) == 1) {
			kb = val;
			break;
		}
	}
	fclose(f);
	return kb;
}

/* ---- sysfs: the pool counters ---------------------------------------- */

int cowdev_sysfs_read(const char *attr, uint64_t *val)
{
	char path[128], buf[32], *end;
	ssize_t len;
	int fd, err;

	snprintf(path, sizeof(path), COWDEV_SYSFS_DIR "/%s", attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, sizeof(buf) - 1);
	err = errno;
	close(fd);
	if (len < 0)
		return -err;
	buf[len] = '\0';
	errno = 0;
	*val = strtoull(buf, &end, 10);
	if (end == buf || errno || (*end && *end != '\n'))
		return -EIO;
	return 0;
}

int cowdev_sysfs_pool_info(struct cowdev_pool_info *pi)
{
	static const struct {
		const char *name;
		size_t off;
	} attrs[] = {
#define COWDEV_POOL_FIELD(f) { #f, offsetof(struct cowdev_pool_info, f) }
		COWDEV_POOL_FIELD(total_pages),
		COWDEV_POOL_FIELD(free_pages),
		COWDEV_POOL_FIELD(used_pages),
		COWDEV_POOL_FIELD(peak_used),
		COWDEV_POOL_FIELD(alloc_failures),
		COWDEV_POOL_FIELD(views),
		COWDEV_POOL_FIELD(limbo_pages),
		COWDEV_POOL_FIELD(allocs),
		COWDEV_POOL_FIELD(frees),
		COWDEV_POOL_FIELD(swap_total),
		COWDEV_POOL_FIELD(swap_used),
		COWDEV_POOL_FIELD(page_outs),
		COWDEV_POOL_FIELD(page_ins),
		COWDEV_POOL_FIELD(evictions),
		COWDEV_POOL_FIELD(clean_evictions),
		COWDEV_POOL_FIELD(swap_errors),
		COWDEV_POOL_FIELD(kswapd_wakeups),
		COWDEV_POOL_FIELD(zeroed_pages),
		COWDEV_POOL_FIELD(zeroed_allocs),
		COWDEV_POOL_FIELD(inline_zeroes),
#undef COWDEV_POOL_FIELD
	};
	size_t i;
	int ret;

	memset(pi, 0, sizeof(*pi));
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		ret = cowdev_sysfs_read(attrs[i].name,
					(uint64_t *)((char *)pi + attrs[i].off));
		if (ret)
			return ret;
	}
	return 0;
}

#define COWDEV_ZERO_RESERVE "/sys/module/cowdev/parameters/zero_reserve"

int cowdev_reserve_settle(unsigned int timeout_ms)
{
	uint64_t reserve, zeroed, free_pages;
	unsigned int waited;
	FILE *f;
	int n;

	f = fopen(COWDEV_ZERO_RESERVE, "r");
	if (!f)
		return 0;
	n = fscanf(f, "%" SCNu64, &reserve);
	fclose(f);
	if (n != 1)
		return 0;
	for (waited = 0; ; waited++) {
		if (cowdev_sysfs_read("zeroed_pages", &zeroed) ||
		    cowdev_sysfs_read("free_pages", &free_pages) ||
		    zeroed >= reserve || zeroed == free_pages)
			return 0;
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		usleep(1000);
	}
}

/* ---- debugfs: the views table and page maps ------------------------- */

#define DEBUGFS_MAGIC_NR	0x64626720

int cowdev_debugfs_check(void)
{
	struct statfs sfs;
	int fd = open(COWDEV_DEBUGFS_DIR "/views", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == EACCES || errno == EPERM)
		return -EACCES;
	if (statfs(COWDEV_DEBUGFS_MNT, &sfs) ||
	    sfs.f_type != DEBUGFS_MAGIC_NR)
		return -ENOENT;
	return -ENODEV;
}

const char *cowdev_debugfs_strerror(int err)
{
	switch (-err) {
	case ENOENT:
		return "debugfs is not mounted at " COWDEV_DEBUGFS_MNT
		       " (as root: mount -t debugfs none " COWDEV_DEBUGFS_MNT
		       ")";
	case ENODEV:
		return "no " COWDEV_DEBUGFS_DIR
		       " in debugfs: is the cowdev module loaded?";
	case EACCES:
	case EPERM:
		return "permission denied: " COWDEV_DEBUGFS_DIR
		       " is readable by root only";
	default:
		return strerror(-err);
	}
}

/* Read a whole (small, seq_file) text file into a malloc()ed string. */
static int cowdev_slurp(const char *path, char **text)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *nbuf;
	ssize_t n;
	int fd, err;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(buf);
		return err;
	}
	for (;;) {
		if (cap - len < 2048) {
			nbuf = realloc(buf, cap * 2);
			if (!nbuf) {
				err = -ENOMEM;
				goto fail;
			}
			buf = nbuf;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto fail;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	*text = buf;
	return 0;
fail:
	close(fd);
	free(buf);
	return err;
}

/* Where a views-table column goes in struct cowdev_view_info. */
static long cowdev_view_column(const char *name)
{
	static const struct {
		const char *name;
		size_t off;
	} cols[] = {
#define COWDEV_COL(n, f) \
	{ n, offsetof(struct cowdev_view_info, st) + \
	     offsetof(struct cowdev_stats, f) }
		COWDEV_COL("id", view_id),
		COWDEV_COL("size_pages", size_pages),
		COWDEV_COL("resident", resident_pages),
		COWDEV_COL("shared", shared_pages),
		COWDEV_COL("faults", faults),
		COWDEV_COL("map_pages_calls", map_pages_calls),
		COWDEV_COL("map_pages_mapped", map_pages_mapped),
		COWDEV_COL("mkwrite", mkwrite),
		COWDEV_COL("zero_maps", zero_maps),
		COWDEV_COL("demand_allocs", demand_allocs),
		COWDEV_COL("private_cow", private_cow),
		COWDEV_COL("sigbus", sigbus),
		COWDEV_COL("pool_failures", pool_failures),
		COWDEV_COL("cow_copies", cow_copies),
		COWDEV_COL("cow_reuses", cow_reuses),
		COWDEV_COL("clones", clones),
		COWDEV_COL("limit_failures", limit_failures),
		COWDEV_COL("pinned_copies", pinned_copies),
		COWDEV_COL("major_faults", major_faults),
		COWDEV_COL("page_ins", page_ins),
		COWDEV_COL("page_outs", page_outs),
		COWDEV_COL("evictions", evictions),
		COWDEV_COL("swapped", swapped_pages),
		COWDEV_COL("resident_limit", resident_limit),
#undef COWDEV_COL
	};
	size_t i;

	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (!strcmp(cols[i].name, name))
			return cols[i].off;
	return -1;
}

#define COWDEV_MAX_COLUMNS	64
#define COWDEV_COL_PID		(-2)

int cowdev_debugfs_views(struct cowdev_view_info **views, size_t *count)
{
	long cols[COWDEV_MAX_COLUMNS];
	struct cowdev_view_info *v = NULL, *nv;
	size_t n = 0, cap = 0, ncols = 0, c;
	char *text = NULL, *line, *next, *tok, *save, *end;
	uint64_t val;
	int ret;

	*views = NULL;
	*count = 0;
	ret = cowdev_slurp(COWDEV_DEBUGFS_DIR "/views", &text);
	if (ret) {
		if (ret == -ENOENT || ret == -EACCES || ret == -EPERM) {
			int chk = cowdev_debugfs_check();

			if (chk)
				ret = chk;
		}
		return ret;
	}
	ret = -EIO;
	line = text;
	next = strchr(line, '\n');
	if (!next)
		goto out;
	*next++ = '\0';
	for (tok = strtok_r(line, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (ncols == COWDEV_MAX_COLUMNS)
			goto out;
		cols[ncols++] = strcmp(tok, "pid") ? cowdev_view_column(tok) :
						     COWDEV_COL_PID;
	}
	if (!ncols || cols[0] < 0)
		goto out;
	for (line = next; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (!*line)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				ret = -ENOMEM;
				goto out;
			}
			v = nv;
		}
		memset(&v[n], 0, sizeof(v[n]));
		c = 0;
		for (tok = strtok_r(line, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save), c++) {
			if (c >= ncols)
				goto out;
			errno = 0;
			if (cols[c] == COWDEV_COL_PID) {
				v[n].pid = strtoll(tok, &end, 10);
			} else {
				val = strtoull(tok, &end, 10);
				if (cols[c] >= 0)
					*(uint64_t *)((char *)&v[n] +
						      cols[c]) = val;
			}
			if (end == tok || *end || errno)
				goto out;
		}
		if (c != ncols)
			goto out;
		v[n].id = v[n].st.view_id;
		n++;
	}
	ret = 0;
	*views = v;
	*count = n;
	v = NULL;
out:
	free(v);
	free(text);
	return ret;
}

long cowdev_debugfs_pagemap(uint64_t id, uint64_t start, uint64_t count,
			    uint8_t *buf)
{
	char path[128];
	uint64_t done = 0;
	ssize_t n;
	int fd, err;

	snprintf(path, sizeof(path), COWDEV_DEBUGFS_DIR "/pagemap/%" PRIu64,
		 id);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT || err == -EACCES) {
			int chk = cowdev_debugfs_check();

			if (chk)
				err = chk;
		}
		return err;
	}
	while (done < count) {
		n = pread(fd, buf + done, count - done, start + done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			close(fd);
			return err;
		}
		if (!n)
			break;
		done += n;
	}
	close(fd);
	return done;
}

/* ---- page-state maps ------------------------------------------------- */

static const struct {
	const char *name;
	char glyph;
	const char *ansi;	/* terminal colour */
	const char *fill;	/* SVG */
	const char *stroke;
	const char *meaning;
} cowdev_states[COWDEV_NR_STATES] = {
	[COWDEV_STATE_HOLE] = { "hole", '.', "\033[90m", "#f2f2f2",
		"#c8c8c8", "no page: reads give zeros, nothing allocated" },
	[COWDEV_STATE_ZERO] = { "zero", '0', "\033[36m", "#cfe8ff",
		"#4a86c5", "hole mapped by the zero page (it was read)" },
	[COWDEV_STATE_RESIDENT] = { "resident", 'r', "\033[32m", "#b7e1b0",
		"#3f8f3f", "the view's own page, clean" },
	[COWDEV_STATE_SHARED] = { "shared", 'S', "\033[1;33m", "#ffd966",
		"#b8860b", "page shared with another view (COW)" },
	[COWDEV_STATE_DIRTY] = { "dirty", 'D', "\033[1;31m", "#f4a6a6",
		"#c0392b", "written through this view" },
	[COWDEV_STATE_SWAPPED] = { "swapped", 'w', "\033[35m", "#d9c2ec",
		"#7d3c98", "in the swap area: the next access reads it back" },
};

enum cowdev_map_state cowdev_map_state(uint8_t flags)
{
	if (flags & COWDEV_PAGE_SWAPPED)
		return COWDEV_STATE_SWAPPED;
	if (flags & COWDEV_PAGE_SHARED)
		return COWDEV_STATE_SHARED;
	if (flags & COWDEV_PAGE_DIRTY)
		return COWDEV_STATE_DIRTY;
	if (flags & COWDEV_PAGE_RESIDENT)
		return COWDEV_STATE_RESIDENT;
	if (flags & COWDEV_MAP_ZERO)
		return COWDEV_STATE_ZERO;
	return COWDEV_STATE_HOLE;
}

const char *cowdev_map_state_name(enum cowdev_map_state state)
{
	return state < COWDEV_NR_STATES ? cowdev_states[state].name : "?";
}

char cowdev_map_state_glyph(enum cowdev_map_state state)
{
	return state < COWDEV_NR_STATES ? cowdev_states[state].glyph : '?';
}

const char *cowdev_map_state_fill(enum cowdev_map_state state)
{
	return state < COWDEV_NR_STATES ? cowdev_states[state].fill :
	       "#ffffff";
}

const char *cowdev_map_state_stroke(enum cowdev_map_state state)
{
	return state < COWDEV_NR_STATES ? cowdev_states[state].stroke :
	       "#000000";
}

void cowdev_map_count(const struct cowdev_map *map, uint64_t *counts)
{
	uint64_t i;

	memset(counts, 0, COWDEV_NR_STATES * sizeof(*counts));
	for (i = 0; i < map->count; i++)
		counts[cowdev_map_state(map->flags[i])]++;
}

#define PM_PRESENT	(1ULL << 63)
#define PM_FILE		(1ULL << 61)
#define PM_BATCH	512

int cowdev_map_mark_zero(const void *addr, uint64_t count, uint8_t *flags)
{
	long psize = sysconf(_SC_PAGESIZE);
	uint64_t ent[PM_BATCH], i, j, n;
	uintptr_t vpn = (uintptr_t)addr / psize;
	int fd, marked = 0, err;
	ssize_t got;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (i = 0; i < count; i += n) {
		n = count - i < PM_BATCH ? count - i : PM_BATCH;
		got = pread(fd, ent, n * sizeof(ent[0]),
			    (vpn + i) * sizeof(ent[0]));
		if (got != (ssize_t)(n * sizeof(ent[0]))) {
			err = got < 0 ? -errno : -EIO;
			close(fd);
			return err;
		}
		for (j = 0; j < n; j++) {
			if (flags[i + j] ||
			    (ent[j] & (PM_PRESENT | PM_FILE)) !=
			    (PM_PRESENT | PM_FILE))
				continue;
			flags[i + j] |= COWDEV_MAP_ZERO;
			marked++;
		}
	}
	close(fd);
	return marked;
}

static int cowdev_digits(uint64_t v)
{
	int d = 1;

	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

int cowdev_map_text(FILE *out, const struct cowdev_map *map,
		    unsigned int columns, int color)
{
	uint64_t counts[COWDEV_NR_STATES], i, last;
	int width, prev = -1, st, s;

	if (!columns)
		columns = 64;
	last = map->first + (map->count ? map->count - 1 : 0);
	width = cowdev_digits(last);
	if (width < 5)
		width = 5;
	if (map->title)
		fprintf(out, "%s\n", map->title);
	for (i = 0; i < map->count; i++) {
		if (i % columns == 0)
			fprintf(out, "%*" PRIu64 " ", width, map->first + i);
		st = cowdev_map_state(map->flags[i]);
		if (color && st != prev)
			fputs(cowdev_states[st].ansi, out);
		prev = st;
		fputc(cowdev_states[st].glyph, out);
		if (i % columns == columns - 1 || i == map->count - 1) {
			if (color)
				fputs("\033[0m", out);
			prev = -1;
			fputc('\n', out);
		}
	}
	if (!map->count)
		fprintf(out, "%*s (no pages)\n", width, "");
	cowdev_map_count(map, counts);
	fprintf(out, "%*s", width, "");
	for (s = 0; s < COWDEV_NR_STATES; s++) {
		if (color)
			fputs(cowdev_states[s].ansi, out);
		fprintf(out, " %c", cowdev_states[s].glyph);
		if (color)
			fputs("\033[0m", out);
		fprintf(out, "=%s %" PRIu64 " ", cowdev_states[s].name,
			counts[s]);
	}
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}

static void cowdev_xml_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\t')
				fputc(*s, out);
		}
	}
}

/* SVG geometry, in pixels. */
#define SVG_CELL	12
#define SVG_PITCH	14
#define SVG_MARGIN	10
#define SVG_LABEL	56
#define SVG_LINE	20
#define SVG_LEGEND_ITEM	150

static unsigned int cowdev_svg_rows(const struct cowdev_map *map,
				    unsigned int columns)
{
	return map->count ? (map->count + columns - 1) / columns : 0;
}

/* Height of one map block: title, rows, legend, gap. */
static unsigned int cowdev_svg_block(const struct cowdev_map *map,
				     unsigned int columns)
{
	return SVG_LINE + cowdev_svg_rows(map, columns) * SVG_PITCH +
	       SVG_LINE + SVG_LINE / 2;
}

static void cowdev_svg_one(FILE *out, const struct cowdev_map *map,
			   unsigned int columns, unsigned int y0)
{
	uint64_t counts[COWDEV_NR_STATES], i;
	unsigned int x, y, rows = cowdev_svg_rows(map, columns);
	int st, s;

	fprintf(out, "<g class=\"cowdev-map\">\n");
	fprintf(out, "<text x=\"%u\" y=\"%u\" font-size=\"14\" "
		"font-weight=\"bold\">", SVG_MARGIN, y0 + 14);
	cowdev_xml_text(out, map->title ? map->title : "cowdev page map");
	fprintf(out, "</text>\n");
	y0 += SVG_LINE;
	for (i = 0; i < rows; i++)
		fprintf(out, "<text x=\"%u\" y=\"%u\" text-anchor=\"end\" "
			"fill=\"#555555\">%" PRIu64 "</text>\n",
			SVG_MARGIN + SVG_LABEL - 6,
			(unsigned int)(y0 + i * SVG_PITCH + SVG_CELL - 2),
			map->first + i * columns);
	for (i = 0; i < map->count; i++) {
		st = cowdev_map_state(map->flags[i]);
		x = SVG_MARGIN + SVG_LABEL + (i % columns) * SVG_PITCH;
		y = y0 + (i / columns) * SVG_PITCH;
		fprintf(out, "<rect x=\"%u\" y=\"%u\" width=\"%u\" "
			"height=\"%u\" fill=\"%s\" stroke=\"%s\" "
			"data-state=\"%s\" data-page=\"%" PRIu64 "\">"
			"<title>page %" PRIu64 ": %s</title></rect>\n",
			x, y, SVG_CELL, SVG_CELL, cowdev_states[st].fill,
			cowdev_states[st].stroke, cowdev_states[st].name,
			map->first + i, map->first + i,
			cowdev_states[st].name);
	}
	y = y0 + rows * SVG_PITCH + 4;
	cowdev_map_count(map, counts);
	for (s = 0; s < COWDEV_NR_STATES; s++) {
		x = SVG_MARGIN + s * SVG_LEGEND_ITEM;
		fprintf(out, "<rect x=\"%u\" y=\"%u\" width=\"%u\" "
			"height=\"%u\" fill=\"%s\" stroke=\"%s\" "
			"data-legend=\"%s\"><title>%s</title></rect>\n",
			x, y, SVG_CELL, SVG_CELL, cowdev_states[s].fill,
			cowdev_states[s].stroke, cowdev_states[s].name,
			cowdev_states[s].meaning);
		fprintf(out, "<text x=\"%u\" y=\"%u\">%s %" PRIu64
			"</text>\n", x + SVG_CELL + 4, y + SVG_CELL - 2,
			cowdev_states[s].name, counts[s]);
	}
	fprintf(out, "</g>\n");
}

int cowdev_map_svg_multi(FILE *out, const struct cowdev_map *maps, size_t n,
			 unsigned int columns)
{
	unsigned int width, height = SVG_MARGIN, y;
	size_t i;

	if (!columns)
		columns = 64;
	width = SVG_MARGIN * 2 + SVG_LABEL + columns * SVG_PITCH;
	if (width < SVG_MARGIN * 2 + COWDEV_NR_STATES * SVG_LEGEND_ITEM)
		width = SVG_MARGIN * 2 + COWDEV_NR_STATES * SVG_LEGEND_ITEM;
	for (i = 0; i < n; i++)
		height += cowdev_svg_block(&maps[i], columns);
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
		"width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\" "
		"font-family=\"monospace\" font-size=\"11\">\n",
		width, height, width, height);
	fprintf(out, "<desc>cowdev page-state map: one square per page. "
		"hole: no page; zero: a hole this process mapped with the "
		"zero page; resident: the view's own clean page; shared: "
		"held by another view too; dirty: written through this "
		"view.</desc>\n");
	fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%u\" height=\"%u\" "
		"fill=\"#ffffff\"/>\n", width, height);
	y = SVG_MARGIN;
	for (i = 0; i < n; i++) {
		cowdev_svg_one(out, &maps[i], columns, y);
		y += cowdev_svg_block(&maps[i], columns);
	}
	fprintf(out, "</svg>\n");
	return ferror(out) ? -EIO : 0;
}

int cowdev_map_svg(FILE *out, const struct cowdev_map *map,
		   unsigned int columns)
{
	return cowdev_map_svg_multi(out, map, 1, columns);
}

#define COWDEV_STATE_CHUNK	65536

int cowdev_map_read(int fd, const void *addr, struct cowdev_map *map)
{
	long psize = sysconf(_SC_PAGESIZE);
	uint64_t bytes, pages, i, n;
	uint8_t *flags;
	int ret;

	memset(map, 0, sizeof(*map));
	ret = cowdev_get_size(fd, &bytes);
	if (ret)
		return ret;
	pages = bytes / psize;
	flags = calloc(pages ? pages : 1, 1);
	if (!flags)
		return -ENOMEM;
	for (i = 0; i < pages; i += n) {
		n = pages - i < COWDEV_STATE_CHUNK ? pages - i :
						     COWDEV_STATE_CHUNK;
		ret = cowdev_page_state(fd, i, n, flags + i);
		if (ret) {
			free(flags);
			return ret;
		}
	}
	if (addr && pages) {
		ret = cowdev_map_mark_zero(addr, pages, flags);
		if (ret < 0) {
			free(flags);
			return ret;
		}
	}
	map->flags = flags;
	map->count = pages;
	return 0;
}

void cowdev_map_release(struct cowdev_map *map)
{
	free((void *)map->flags);
	map->flags = NULL;
	map->count = 0;
}

int cowdev_map_fd_svg(int fd, const void *addr, FILE *out,
		      unsigned int columns, const char *title)
{
	struct cowdev_map map;
	int ret = cowdev_map_read(fd, addr, &map);

	if (ret)
		return ret;
	map.title = title;
	ret = cowdev_map_svg(out, &map, columns);
	cowdev_map_release(&map);
	return ret;
}

int cowdev_map_fd_text(int fd, const void *addr, FILE *out,
		       unsigned int columns, int color, const char *title)
{
	struct cowdev_map map;
	int ret = cowdev_map_read(fd, addr, &map);

	if (ret)
		return ret;
	map.title = title;
	ret = cowdev_map_text(out, &map, columns, color);
	cowdev_map_release(&map);
	return ret;
}
