// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev: instantiates the tracepoints declared in cowdev_trace.h, and owns
 * the one table of outcome names they carry.  No other state.
 */
#define CREATE_TRACE_POINTS
#include "cowdev_trace.h"

static const char *const cowdev_outcome_names[] = {
	[COWDEV_ZERO] = "ZERO",
	[COWDEV_ALLOC] = "ALLOC",
	[COWDEV_RESIDENT] = "RESIDENT",
	[COWDEV_COPY] = "COPY",
	[COWDEV_REUSE] = "REUSE",
	[COWDEV_SIGBUS] = "SIGBUS",
	[COWDEV_POOL_EMPTY] = "POOL_EMPTY",
	[COWDEV_RETRY] = "RETRY",
	[COWDEV_NOMEM] = "NOMEM",
	[COWDEV_SWAP_IN] = "SWAP_IN",
	[COWDEV_SWAP_ERROR] = "SWAP_ERROR",
	[COWDEV_RECLAIM] = "RECLAIM",
};

/* The name of @outcome (enum cowdev_outcome) in events and scripts. */
const char *cowdev_outcome_name(int outcome)
{
	if (outcome < 0 || outcome >= ARRAY_SIZE(cowdev_outcome_names) ||
	    !cowdev_outcome_names[outcome])
		return "UNKNOWN";
	return cowdev_outcome_names[outcome];
}
