// SPDX-License-Identifier: GPL-2.0
/*
 * demo3: shared versus private mappings of one object in two processes.
 * Process A creates a 4-page object and passes its fd to process B over a
 * unix socket (SCM_RIGHTS: the same object, not a copy).  B maps it twice,
 * MAP_SHARED and MAP_PRIVATE, and the two write through both.
 *
 * The claims it checks: a write through a MAP_SHARED mapping is seen by
 * every other mapping of the object in any process; a write through a
 * MAP_PRIVATE mapping is seen by nobody else and takes no pool page (core
 * mm copies the page into anonymous memory: smaps "Anonymous"); a private
 * mapping keeps reading the object's current data for the pages it has not
 * written, even pages it read before another process wrote them; the
 * module sees a private write only when it reaches ->fault (private_cow),
 * not when core mm copies a page that is already mapped.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include "demo.h"

#define PAGES	4

static char *pg(char *base, int i)
{
	return base + i * demo_psize();
}

static void send_fd(int sock, int fd)
{
	char byte = 0, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;

	memset(cbuf, 0, sizeof(cbuf));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	DEMO_TRY(sendmsg(sock, &msg, 0));
}

static int recv_fd(int sock)
{
	char byte, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		demo_fail("recvmsg: %s", strerror(errno));
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		demo_fail("no fd received");
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* "B: shared[1] = ..." and a check that it is @want. */
static void see(const char *who, const char *map, char *base, int i,
		const char *want)
{
	printf("    %s reads %s[%d] = \"%s\"\n", who, map, i, pg(base, i));
	DEMO_CHECK(!strcmp(pg(base, i), want), "%s %s[%d] is \"%s\", "
		   "expected \"%s\"", who, map, i, pg(base, i), want);
}

static void process_b(int sock)
{
	char msg[64], *s, *p;
	int fd;

	fd = recv_fd(sock);
	s = demo_map(fd, PAGES, MAP_SHARED);
	p = demo_map(fd, PAGES, MAP_PRIVATE);
	demo_step("B got the fd and mapped the object shared (S) and "
		  "private (P)");
	see("B", "S", s, 0, "A: first");
	see("B", "P", p, 0, "A: first");
	see("B", "P", p, 1, "A: first");
	see("B", "P", p, 3, "");
	demo_say("Both mappings show the object's pages (page 3 is a hole: "
		 "zeros).");

	demo_step("B writes S[0], P[1] (read before) and P[2] (not read "
		  "before)");
	strcpy(pg(s, 0), "B: via shared");
	strcpy(pg(p, 1), "B: via private");
	strcpy(pg(p, 2), "B: private 2");
	demo_send(sock, "written");

	demo_recv(sock, msg, sizeof(msg));
	demo_step("after A's writes, B looks again");
	see("B", "S", s, 1, "A: second");
	see("B", "P", p, 1, "B: via private");
	see("B", "P", p, 0, "B: via shared");
	see("B", "P", p, 3, "A: page 3");
	demo_say("P[1] and P[2] are B's own copies now: A's later write to "
		 "page 1 does not");
	demo_say("show there.  P[0] and P[3] were never written through P: "
		 "they show the");
	demo_say("object's current data, including page 3, which P had "
		 "mapped as a zero hole");
	demo_say("before A wrote it (the write replaced the zero page in "
		 "every mapping).");
	demo_expect("B: smaps Anonymous of P (kB): two private copies",
		    cowdev_smaps_kb(p, "Anonymous"), 2 * demo_psize() / 1024);
	demo_expect("B: smaps Anonymous of S (kB)",
		    cowdev_smaps_kb(s, "Anonymous"), 0);
	demo_send(sock, "ok");
	exit(0);
}

int main(void)
{
	struct cowdev_stats st;
	long long used0;
	int sv[2], fd, status;
	char msg[64], *s;
	pid_t pid;

	demo_name = "demo3_shared_private";
	setvbuf(stdout, NULL, _IOLBF, 0);
	demo_title("shared and private mappings of one object, two "
		   "processes");
	DEMO_TRY(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = DEMO_TRY(fork());
	if (!pid) {
		close(sv[0]);
		process_b(sv[1]);
	}
	close(sv[1]);

	demo_step("A creates a %d-page object and writes pages 0 and 1",
		  PAGES);
	fd = demo_object(PAGES);
	used0 = demo_used(fd);
	s = demo_map(fd, PAGES, MAP_SHARED);
	strcpy(pg(s, 0), "A: first");
	strcpy(pg(s, 1), "A: first");
	send_fd(sv[0], fd);
	demo_say("and passes the fd to B (B was forked before the object "
		 "existed).");

	demo_recv(sv[0], msg, sizeof(msg));
	demo_step("A looks after B's writes");
	see("A", "S", s, 0, "B: via shared");
	see("A", "S", s, 1, "A: first");
	see("A", "S", s, 2, "");
	demo_say("B's shared write is A's too; B's private writes are not "
		 "in the object.");
	st = demo_stats(fd);
	demo_expect("pool pages used (A's two writes)",
		    demo_used(fd) - used0, 2);
	demo_expect("demand allocations", st.demand_allocs, 2);
	demo_expect("private_cow: B's P[2] write reached ->fault",
		    st.private_cow, 1);
	demo_say("B's write to P[1] found the page already mapped read-only "
		 "in P: core mm");
	demo_say("copied it without asking the module.  The write to P[2] "
		 "found no pte, so");
	demo_say("->fault ran (private_cow) and returned the zero page for "
		 "core mm to copy.");

	demo_step("A writes S[1] and S[3]");
	strcpy(pg(s, 1), "A: second");
	strcpy(pg(s, 3), "A: page 3");
	demo_send(sv[0], "go");
	demo_recv(sv[0], msg, sizeof(msg));
	DEMO_TRY(waitpid(pid, &status, 0));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		demo_fail("process B failed");

	demo_step("the object at the end");
	st = demo_stats(fd);
	demo_expect("pool pages used (pages 0, 1, 3)",
		    demo_used(fd) - used0, 3);
	demo_expect("demand allocations", st.demand_allocs, 3);
	demo_expect("private_cow", st.private_cow, 1);
	see("A", "S", s, 2, "");
	demo_say("Private copies live in B's anonymous memory, never in the "
		 "pool: page 2 is");
	demo_say("still a hole in the object.");
	munmap(s, PAGES * demo_psize());
	close(fd);
	demo_done();
	return 0;
}
