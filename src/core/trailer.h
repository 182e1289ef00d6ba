#ifndef CORE_TRAILER_H
#define CORE_TRAILER_H

#include <stddef.h>

#include "os/strbuf.h"

/*
 * The grading harness (core/grade.c, its t()) reports each phase of an
 * item on a trailer line of its output: a newline, then
 * "#__TS_<nonce>__# <what>", where <nonce> is 32 hex digits the command
 * is not given and <what> is "reset-ok", "apply-ok", "exit RC MS",
 * "swept N" or "error WHY". rubric_shell stores that output as it came.
 * This module reads it back for people (step log, step info).
 */

/* the start of every trailer line; grade.c prints the same */
#define TRAILER_PREFIX "#__TS_"

/*
 * Append text to out with the harness's trailer lines (those with the
 * nonce of the first trailer line; a line that only looks like one is
 * the command's and stays) turned into phase lines:
 *
 *   reset-ok     -- reset ok
 *   apply-ok     -- patch applied
 *   exit 0 71    -- exit 0 after 71 ms
 *   swept 0      -- nothing left running
 *   swept 2      -- 2 processes still running after the sweep
 *   error WHY    -- error: WHY
 *
 * and the empty line a trailer's own leading newline makes dropped. A
 * trailer of any other kind is kept as it is. Text without trailers
 * is appended unchanged.
 */
void trailer_render(struct strbuf *out, const char *text, size_t len);

#endif
