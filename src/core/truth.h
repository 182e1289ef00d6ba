#ifndef CORE_TRUTH_H
#define CORE_TRUTH_H

#include <jansson.h>

/*
 * The one reader of truth values written by people (a rubric's
 * "required", a stored rubric_shell's, ...): true/false, yes/no, 1/0 in
 * any case, with spaces around ignored. Never guesses: anything else is
 * told apart from "false" so that the caller can refuse it.
 */

/* the spellings accepted, for messages */
#define TRUTH_SPELLINGS "true/false/yes/no/1/0"

/* 1 (true, yes, 1), 0 (false, no, 0), or -1 for anything else or NULL */
int truth_parse(const char *s);

/*
 * The same for a JSON value: true and false, the numbers 1 and 0
 * (1.0 and 0.0 too) and strings as truth_parse reads them; -1 for
 * anything else (null, other numbers, arrays, objects) or NULL.
 */
int truth_json(const json_t *v);

#endif
