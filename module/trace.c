// SPDX-License-Identifier: GPL-2.0
/*
 * cowdev: instantiates the tracepoints declared in cowdev_trace.h.  Owns no
 * state.
 */
#define CREATE_TRACE_POINTS
#include "cowdev_trace.h"
