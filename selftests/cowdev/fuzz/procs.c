// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev_fuzz_test: processes (fork, clone(CLONE_VM), reaping).
 */
#include "fuzz.h"

/* ---- processes ---- */


/* Free everything of the shared tables (fds, mappings, debugfs files). */
void fz_proc_cleanup(struct fz_thread *t)
{
	int i;

	for (i = 0; i < FZ_MAPS; i++)
		if (P.map[i].addr) {
			fz_expect(t, fz_err(munmap(P.map[i].addr, P.map[i].len)),
				  BIT(FR_OK), "final munmap");
			fz_map_clear(&P.map[i]);
		}
	for (i = 0; i < FZ_OBJS; i++)
		if (P.obj[i].fd >= 0) {
			fz_expect(t, fz_err(close(P.obj[i].fd)), BIT(FR_OK),
				  "final close");
			P.obj[i].fd = -1;
		}
	for (i = 0; i < FZ_DBG; i++)
		if (P.dbg_fd[i] >= 0) {
			close(P.dbg_fd[i]);
			P.dbg_fd[i] = -1;
		}
	close(P.race_fd);
}

/* A forked child: fuzz a little more on its copy of everything, exit. */
static void __noreturn
fz_child_main(struct fz_thread *pt, uint64_t seed, const char *who)
{
	static struct fz_thread ct;
	struct rlimit rl, low;
	int i, fd;

	alarm(FZ_CHILD_ALARM);
	fz_init_locks();
	P.depth++;
	memset(P.child, 0, sizeof(P.child));
	for (i = 0; i < FZ_MAPS; i++)
		if (P.map[i].dontfork)
			fz_map_clear(&P.map[i]);	/* not in this mm */
	/*
	 * The forking thread's arenas are in this mm; its owned objects
	 * are left alone.
	 */
	ct.arg = pt->arg;
	ct.buf = pt->buf;
	fz_thread_init(&ct, who, seed, MIN(cfg.end, fz_now() + 0.3),
		       20 + seed % 200);
	ct.op = "child";

	/* With no fd left, CLONE must say EMFILE and change nothing. */
	if (seed % 4 == 0 && !getrlimit(RLIMIT_NOFILE, &rl)) {
		for (i = 0; i < FZ_OBJS && P.obj[i].fd < 0; i++)
			;
		fd = dup(0);
		if (i < FZ_OBJS && fd >= 0) {
			close(fd);
			low = rl;
			low.rlim_cur = fd;
			if (!setrlimit(RLIMIT_NOFILE, &low)) {
				fd = cowdev_clone(P.obj[i].fd);
				fz_expect(&ct, fd < 0 ? -fd : 0,
					  BIT(FR_EMFILE), "CLONE with no free fd");
				if (fd >= 0)
					close(fd);
				setrlimit(RLIMIT_NOFILE, &rl);
			}
		}
	}
	fz_loop(&ct);
	if (seed & 8)
		fz_proc_cleanup(&ct);
	fz_thread_fini(&ct);
	fz_reap(&ct, true);
	fflush(NULL);
	_exit(0);
}

void fz_check_child(struct fz_thread *t, const char *who, int st)
{
	if (WIFEXITED(st) && !WEXITSTATUS(st))
		return;
	if (WIFSIGNALED(st))
		fz_fail(t, "process %s killed by signal %d (%s)%s", who,
			WTERMSIG(st), strsignal(WTERMSIG(st)),
			WTERMSIG(st) == SIGALRM ? ": watchdog, it hung" : "");
	else
		fz_fail(t, "process %s exited with %d", who, WEXITSTATUS(st));
}

/* Collect forked children; @wait: all of them. */
void fz_reap(struct fz_thread *t, bool wait)
{
	int i, st;

	pthread_mutex_lock(&P.child_lock);
	for (i = 0; i < FZ_CHILDREN; i++) {
		struct fz_child *c = &P.child[i];

		if (!c->pid)
			continue;
		if (waitpid(c->pid, &st, wait ? 0 : WNOHANG) != c->pid)
			continue;
		fz_check_child(t, c->who, st);
		c->pid = 0;
	}
	pthread_mutex_unlock(&P.child_lock);
}

void op_reap(struct fz_thread *t)
{
	fz_reap(t, false);
}

/* With every other thread of the process stopped (fork_lock). */
void op_fork(struct fz_thread *t)
{
	uint64_t seed;
	char who[48];
	int i;
	pid_t pid;

	if (P.depth >= FZ_MAX_DEPTH)
		return;
	fz_reap(t, false);
	for (i = 0; i < FZ_CHILDREN && P.child[i].pid; i++)
		;
	if (i == FZ_CHILDREN)
		return;
	seed = rnd(t);
	snprintf(who, sizeof(who), "%.36s.f%u", t->who, t->forks++);
	fflush(NULL);
	pid = fork();
	if (!pid)
		fz_child_main(t, seed, who);
	if (!fz_expect(t, fz_err(pid), BIT(FR_OK), "fork"))
		return;
	__atomic_fetch_add(&cfg.rep->forks, 1, __ATOMIC_RELAXED);
	P.child[i].pid = pid;
	snprintf(P.child[i].who, sizeof(P.child[i].who), "%s", who);
}

/*
 * clone(CLONE_VM | CLONE_VFORK): a task sharing this mm but with its own
 * copy of the fd table uses the views (GET_STATS, CLONE) and closes some of
 * its copies while this process's mappings and fds stay.
 */
struct fz_cvm {
	int n;
	int fd[FZ_OBJS];
	int stats_err[FZ_OBJS], clone_err[FZ_OBJS], close_err[FZ_OBJS];
};

static int fz_cvm_child(void *arg)
{
	struct fz_cvm *a = arg;
	struct cowdev_stats st;
	int i, c;

	for (i = 0; i < a->n; i++) {
		a->stats_err[i] = ioctl(a->fd[i], COWDEV_IOC_GET_STATS, &st) < 0 ?
				  errno : 0;
		c = ioctl(a->fd[i], COWDEV_IOC_CLONE, 0);
		a->clone_err[i] = c < 0 ? errno : 0;
		if (c >= 0)
			close(c);
		a->close_err[i] = (i & 1) && close(a->fd[i]) < 0 ? errno : 0;
	}
	return 0;
}

void op_clone_vm(struct fz_thread *t)
{
	static struct fz_cvm a;
	size_t stack_size = 64 * 1024;
	char *stack;
	int i, st;
	pid_t pid;

	memset(&a, 0, sizeof(a));
	for (i = 0; i < FZ_OBJS; i++)
		if (P.obj[i].fd >= 0)
			a.fd[a.n++] = P.obj[i].fd;
	stack = malloc(stack_size);
	if (!stack)
		return;
	pid = clone(fz_cvm_child, stack + stack_size,
		    CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
	if (fz_expect(t, fz_err(pid), BIT(FR_OK), "clone(CLONE_VM)") &&
	    waitpid(pid, &st, 0) == pid) {
		fz_check_child(t, "clone_vm child", st);
		for (i = 0; i < a.n; i++) {
			fz_expect(t, a.stats_err[i], BIT(FR_OK),
				  "GET_STATS from a CLONE_VM task");
			fz_expect(t, a.clone_err[i], FZ_CLONE_OK,
				  "CLONE from a CLONE_VM task");
			fz_expect(t, a.close_err[i], BIT(FR_OK),
				  "close from a CLONE_VM task");
		}
	}
	free(stack);
}

