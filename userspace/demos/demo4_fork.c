// SPDX-License-Identifier: GPL-2.0
/*
 * demo4: fork.  A parent maps one object twice, MAP_SHARED (S) and
 * MAP_PRIVATE (P), writes through both and forks.  Parent and child then
 * write through both mappings, in a fixed order, and look at each other's
 * writes.
 *
 * The claims it checks: after fork a shared mapping is still one copy
 * (writes visible both ways, same physical page); a private mapping is
 * copy-on-write between parent and child like any private memory: each
 * side's writes are its own, a page the parent had privately written
 * before the fork is shared until one side writes it (same frame, then
 * different frames); every private copy is made by core mm as anonymous
 * memory, and the module makes none (cow_copies 0, pool pages unchanged
 * by fork and by every private write); private_cow counts exactly the
 * private writes that reached ->fault.
 */
#include <sys/wait.h>

#include "demo.h"

#define PAGES	4

static char *pg(char *base, int i)
{
	return base + i * demo_psize();
}

static void see(const char *who, const char *map, char *base, int i,
		const char *want)
{
	printf("    %-6s reads %s[%d] = \"%s\"\n", who, map, i, pg(base, i));
	DEMO_CHECK(!strcmp(pg(base, i), want), "%s %s[%d] is \"%s\", "
		   "expected \"%s\"", who, map, i, pg(base, i), want);
}

int main(void)
{
	const long pkb = demo_psize() / 1024;
	int to_child[2], to_parent[2], fd, i, status;
	unsigned long long parent_pfn, child_pfn, pfn_s0;
	struct cowdev_stats st;
	char msg[64], *s, *p;
	long long used0;
	pid_t pid;

	demo_name = "demo4_fork";
	setvbuf(stdout, NULL, _IOLBF, 0);
	demo_title("fork: who sees whose writes, and who copies what");

	fd = demo_object(PAGES);
	used0 = demo_used(fd);
	s = demo_map(fd, PAGES, MAP_SHARED);
	p = demo_map(fd, PAGES, MAP_PRIVATE);
	demo_step("before fork: the parent writes S[0..3] and P[1]");
	for (i = 0; i < PAGES; i++)
		snprintf(pg(s, i), 64, "original %d", i);
	strcpy(pg(p, 1), "parent's private 1");
	st = demo_stats(fd);
	demo_expect("pool pages used (S writes)", demo_used(fd) - used0,
		    PAGES);
	demo_expect("private_cow (P[1] write reached ->fault)",
		    st.private_cow, 1);
	demo_expect("parent: Anonymous of P (kB)",
		    cowdev_smaps_kb(p, "Anonymous"), pkb);
	parent_pfn = demo_pfn(pg(p, 1));
	pfn_s0 = demo_pfn(pg(s, 0));

	DEMO_TRY(pipe(to_child));
	DEMO_TRY(pipe(to_parent));
	pid = DEMO_TRY(fork());
	if (!pid) {
		demo_name = "demo4_fork (child)";
		demo_step("child, right after fork");
		see("child", "S", s, 0, "original 0");
		see("child", "P", p, 1, "parent's private 1");
		child_pfn = demo_pfn(pg(p, 1));
		if (parent_pfn) {
			printf("    P[1] frame: parent 0x%llx, child 0x%llx\n",
			       parent_pfn, child_pfn);
			demo_expect("child: P[1] is the parent's frame",
				    child_pfn == parent_pfn, 1);
			demo_expect("child: S[0] is the parent's frame",
				    demo_pfn(pg(s, 0)) == pfn_s0, 1);
		}
		demo_expect("child: Anonymous of P (kB), inherited",
			    cowdev_smaps_kb(p, "Anonymous"), pkb);

		demo_step("child writes S[0], P[1] and P[2]");
		strcpy(pg(s, 0), "child wrote S0");
		strcpy(pg(p, 1), "child's private 1");
		strcpy(pg(p, 2), "child's private 2");
		child_pfn = demo_pfn(pg(p, 1));
		if (parent_pfn) {
			printf("    P[1] frame: parent 0x%llx, child 0x%llx\n",
			       parent_pfn, child_pfn);
			demo_expect("child: P[1] has its own frame now",
				    child_pfn != parent_pfn, 1);
		}
		demo_expect("child: Anonymous of P (kB)",
			    cowdev_smaps_kb(p, "Anonymous"), 2 * pkb);
		demo_send(to_parent[1], "written");

		demo_recv(to_child[0], msg, sizeof(msg));
		demo_step("child, after the parent's writes");
		see("child", "S", s, 3, "parent wrote S3");
		see("child", "P", p, 2, "child's private 2");
		see("child", "P", p, 1, "child's private 1");
		see("child", "P", p, 3, "parent wrote S3");
		demo_say("P[3] was never written privately: it shows the "
			 "object, parent's write included.");
		exit(0);
	}

	demo_recv(to_parent[0], msg, sizeof(msg));
	demo_step("parent, after the child's writes");
	see("parent", "S", s, 0, "child wrote S0");
	see("parent", "P", p, 1, "parent's private 1");
	see("parent", "P", p, 2, "original 2");
	demo_say("The child's S write is the parent's too; its P writes "
		 "are its own.");
	demo_step("parent writes P[2] (just read) and S[3]");
	strcpy(pg(p, 2), "parent's private 2");
	strcpy(pg(s, 3), "parent wrote S3");
	see("parent", "P", p, 2, "parent's private 2");
	demo_send(to_child[1], "go");
	DEMO_TRY(waitpid(pid, &status, 0));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		demo_fail("the child failed");

	demo_step("which copies happened where");
	st = demo_stats(fd);
	demo_expect("module COW copies (fork copies no cowdev page)",
		    st.cow_copies, 0);
	demo_expect("pool pages used (still the 4 shared pages)",
		    demo_used(fd) - used0, PAGES);
	demo_expect("demand allocations", st.demand_allocs, PAGES);
	demo_expect("private_cow: parent P[1], child P[2]", st.private_cow,
		    2);
	demo_expect("parent: Anonymous of P (kB)",
		    cowdev_smaps_kb(p, "Anonymous"), 2 * pkb);
	demo_say("Four private copies, all anonymous memory made by core mm:");
	demo_say("  parent P[1] before fork  (->fault gave the object's "
		 "page to copy)");
	demo_say("  child  P[2]              (->fault, pte none in the "
		 "child)");
	demo_say("  child  P[1]              (the fork-shared anonymous page, "
		 "no module call)");
	demo_say("  parent P[2]              (mapped read-only by the read "
		 "before: no module call)");
	demo_say("The S pages were never copied: parent and child map the "
		 "same pool pages.");
	munmap(s, PAGES * demo_psize());
	munmap(p, PAGES * demo_psize());
	close(fd);
	demo_done();
	return 0;
}
